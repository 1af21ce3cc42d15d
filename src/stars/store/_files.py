"""Importing files into a store (what ``stars import --store URL FILES`` runs) (private)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from stars.errors import InvalidValue, SchemaError
from stars.io import AccountEvent, canonical_json, to_dict

if TYPE_CHECKING:
    from stars.store._store import Rejected, Store

__all__ = ["ImportResult", "import_files"]


@attrs.frozen(slots=True)
class ImportResult:
    """What `import_files` did, file by file added up.

    Attributes:
        files: How many files were read.
        events: Events read from JSON Lines and snapshot CSV files.
        accepted: Events stored as changes.
        duplicates: Events already in the store (by id; a line without an id gets one
            from its content, so importing the same file twice stores it once).
        rejected: Events the store could not apply, with their reasons.
        accounts_created: Accounts stored from JSON documents and account CSV files.
        accounts_skipped: Accounts in those files that the store already held.
        rows_rejected: CSV rows that could not be read.

    Examples:
        >>> from stars.store import ImportResult
        >>> print(ImportResult(files=1, events=3, accepted=2, duplicates=1).summary())
        ... # doctest: +NORMALIZE_WHITESPACE
        1 file: 3 events (2 stored, 1 already stored, 0 rejected);
        0 accounts created, 0 already stored
    """

    files: int = 0
    events: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: tuple[Rejected, ...] = ()
    accounts_created: int = 0
    accounts_skipped: int = 0
    rows_rejected: int = 0

    def summary(self) -> str:
        """One line for a person to read.

        Examples:
            >>> from stars.store import ImportResult
            >>> ImportResult().summary()[:50]
            '0 files: 0 events (0 stored, 0 already stored, 0 r'
        """
        files = f"{self.files} file{'' if self.files == 1 else 's'}"
        text = (
            f"{files}: {self.events} events ({self.accepted} stored, {self.duplicates} already"
            f" stored, {len(self.rejected)} rejected); {self.accounts_created} accounts created,"
            f" {self.accounts_skipped} already stored"
        )
        if self.rows_rejected:
            text += f"; {self.rows_rejected} CSV rows rejected"
        return text


def content_id(event: AccountEvent) -> str:
    """An id for an event that has none: a digest of its canonical JSON."""
    doc = to_dict(event, canonical=True)
    doc.pop("id", None)
    return "sha256:" + hashlib.sha256(canonical_json(doc).encode()).hexdigest()[:40]


def _with_ids(events: Iterable[AccountEvent]) -> list[AccountEvent]:
    return [e if e.id is not None else attrs.evolve(e, id=content_id(e)) for e in events]


def import_files(
    store: Store, paths: Sequence[str | os.PathLike[str]], *, max_line_bytes: int = 1024 * 1024
) -> ImportResult:
    """Import files into a store, each at most once.

    - ``.jsonl`` / ``.ndjson``: an event stream (`stars.io.write_events`), ingested with
      `Store.ingest`.
    - ``.json``: one `Account` or `Portfolio` document: accounts the store lacks are
      stored, the others skipped.
    - ``.csv``: accounts (an ``id`` column, see `stars.io.read_accounts_csv`) or
      snapshots (``account`` and ``at`` columns, see `stars.io.read_snapshots_csv`).

    Events without an ``id`` get one from their content, so importing a file again
    stores nothing twice.

    Args:
        store: The store.
        paths: The files, imported in order.
        max_line_bytes: The longest JSON Lines line accepted.

    Returns:
        The counts (print ``result.summary()``).

    Raises:
        SchemaError: A file cannot be read (nothing of that file is imported).
        InvalidValue: A file's kind cannot be told from its name.

    Examples:
        >>> import json, tempfile, pathlib
        >>> import stars.store
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> doc = {"schema": "stars/1", "type": "Account", "id": "acme"}
        >>> _ = (folder / "acme.json").write_text(json.dumps(doc), encoding="utf-8")
        >>> with stars.store.open("sqlite:///:memory:") as store:
        ...     first = stars.store.import_files(store, [folder / "acme.json"])
        ...     again = stars.store.import_files(store, [folder / "acme.json"])
        ...     first.accounts_created, again.accounts_skipped
        (1, 1)
    """
    from stars.io import read_accounts_csv, read_events, read_snapshots_csv

    total = ImportResult()
    for raw in paths:
        path = Path(raw)
        suffix = path.suffix.lower()
        events: list[AccountEvent] = []
        accounts: list[Any] = []
        rows_rejected = 0
        if suffix in (".jsonl", ".ndjson"):
            events = list(read_events(path, max_line_bytes=max_line_bytes))
        elif suffix == ".json":
            accounts = _accounts_in(path)
        elif suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as handle:
                head = handle.readline(64 * 1024)
            columns = {c.strip() for c in head.split(",")}
            if "account" in columns and "at" in columns:
                found, bad = read_snapshots_csv(path)
                events = list(found)
            else:
                accounts, bad = read_accounts_csv(path)
            rows_rejected = len(bad)
        else:
            raise InvalidValue(
                "path", str(path), "a .jsonl, .ndjson, .json or .csv file", hint="named by kind"
            )
        created = skipped = 0
        fresh = [a for a in accounts if a.id not in store]
        skipped = len(accounts) - len(fresh)
        if fresh:
            created = store.import_accounts(fresh)
        result = store.ingest(_with_ids(events)) if events else None
        total = ImportResult(
            files=total.files + 1,
            events=total.events + len(events),
            accepted=total.accepted + (result.accepted if result else 0),
            duplicates=total.duplicates + (result.duplicates if result else 0),
            rejected=total.rejected + (result.rejected if result else ()),
            accounts_created=total.accounts_created + created,
            accounts_skipped=total.accounts_skipped + skipped,
            rows_rejected=total.rows_rejected + rows_rejected,
        )
    return total


def _accounts_in(path: Path) -> list[Any]:
    from stars.account import Account
    from stars.io import MAX_BYTES, loads

    if path.stat().st_size > MAX_BYTES:
        raise SchemaError(f"{path.name}", f"{path.stat().st_size} bytes", f"at most {MAX_BYTES}")
    value = loads(path.read_bytes())
    if isinstance(value, Account):
        return [value]
    accounts = getattr(value, "accounts", None)
    if callable(accounts):
        return list(accounts())
    raise SchemaError(f"{path.name}: $.type", type(value).__name__, "an Account or a Portfolio")
