"""CSV import with a report of rejected rows, and CSV export (private).

Accounts and snapshots in and out; each cell is parsed by the spec of its field.
"""

from __future__ import annotations

import csv
import enum
import functools
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import IO, Any, TypeVar

from stars import _csv
from stars._rows import (
    _ACCOUNT_COLUMNS,
    ACCOUNT_CSV,
    DEFAULT_NAME,
    DEFAULT_STAGE,
    CsvReader,
    build,
    plain_stage,
    snapshot_csv,
    snapshot_rows,
    snapshot_table,
    stage_of,
)
from stars._rows import (
    CsvImport as CsvImport,
)
from stars._rows import (
    RejectedRow as RejectedRow,
)
from stars.account import Account
from stars.errors import InvalidValue, StarsError, UnknownName
from stars.io._codec import _REGISTRY
from stars.io._common import Path
from stars.io._event import AccountEvent
from stars.io._json import guarded
from stars.lifecycle import (
    STARS,
    Lifecycle,
)

T = TypeVar("T")


def _zone(tz: str | tzinfo | None) -> tzinfo | None:
    if tz is None or isinstance(tz, tzinfo):
        return tz
    return _csv.parse_zone(tz)


def _stage_why(err: StarsError, lifecycle: Lifecycle | None) -> str:
    where = f"a stage of lifecycle {lifecycle.name!r}" if lifecycle is not None else "a stage"
    if isinstance(err, UnknownName):
        if err.suggestion is not None:
            return f"{where} (did you mean {err.suggestion!r}?)"
        return f"{where} ({', '.join(str(k) for k in err.known)})"
    return f"{where} (a non-empty name)"


def _quick_accounts() -> Callable[[Mapping[str, Any]], Account | None]:
    """An `Account` builder for a row's parsed values that skips the validators it can.

    A plain row (a non-empty id, text name and owner, no tags, an aware ``since`` or
    none, a stage that `stage_name` keeps as it is) is one the validators accept as it
    is: the account is put together from its parts, which costs a fifth of building it
    (50,000 accounts cost a fifth of a second that way).
    Any other row gives ``None``, and the caller builds the account the checked way,
    which says what is wrong.
    """
    from stars._accounts import _NO_TAGS, _account_unchecked

    plain = frozenset(("id", "name", "owner", "since", "stage"))

    def quick(values: Mapping[str, Any]) -> Account | None:
        if not plain.issuperset(values):
            return None
        ident = values["id"]
        name = values.get("name", DEFAULT_NAME)
        owner = values.get("owner")
        since = values.get("since")
        stage = values.get("stage", DEFAULT_STAGE)
        if (
            type(ident) is not str
            or not ident.strip()
            or type(name) is not str
            or (owner is not None and type(owner) is not str)
            or type(stage) is not str
            or not plain_stage(stage)
        ):
            return None
        if since is not None and (
            not isinstance(since, datetime)
            or since.tzinfo is None
            or since.tzinfo.utcoffset(since) is None
        ):
            return None
        return _account_unchecked(ident, name, owner, _NO_TAGS, since, stage, (), 0)

    return quick


def read_accounts_csv(
    file: Path | IO[str],
    *,
    lifecycle: Lifecycle | None = STARS,
    tz: str | tzinfo | None = None,
    rename: Mapping[str, str] | None = None,
    extra: str = "refuse",
    encoding: str | None = None,
    delimiter: str | None = None,
) -> CsvImport[Account]:
    r"""Import accounts from CSV, keeping the good rows and reporting the bad ones.

    Columns: ``id`` (required; ``account_id`` is read as ``id`` too), ``name``,
    ``owner``, ``tags`` (separated by ``;``), ``since`` (ISO 8601) and ``stage`` (a
    stage of the lifecycle, in any case and spacing, or by its STARS situation such as
    ``Turnaround``; a typo is rejected with a "did you mean"). Header names match in
    any case. Empty cells take the default. A repeated id is rejected on its later line.

    Args:
        file: A path or a text stream. A path is read as UTF-8 (or ``encoding``); a
            UTF-8 or UTF-16 byte-order mark is honoured; the delimiter (comma,
            semicolon, tab or bar) is found from the header.
        lifecycle: Stages must be known to it (``None``: any stage name).
        tz: Read date-times without a UTC offset (and bare dates) in this zone: a name
            such as ``"UTC"`` or ``"Europe/Paris"``, an offset such as ``"+02:00"``, or a
            ``tzinfo``. ``None`` rejects them.
        rename: Header names to read as other columns (``{"Account Name": "name"}``).
        extra: ``"refuse"`` (an unknown column is an error) or ``"keep"`` (it is kept
            aside and listed in ``extra_columns``).
        encoding: The file's encoding (default UTF-8).
        delimiter: The delimiter, instead of finding it.

    Returns:
        A `CsvImport`: the accounts and the rejected rows (one entry per bad
        cell), with the counts and what was found.

    Raises:
        SchemaError: The header is missing, repeats a column, lacks ``id`` or (with
            ``extra="refuse"``) names an unknown one; the file is binary; or a line is
            not in the encoding (the error names the line and the encoding it seems to be).
        InvalidValue: ``tz``, ``encoding``, ``delimiter`` or ``extra`` is not usable.

    Examples:
        >>> import io
        >>> from stars.io import read_accounts_csv
        >>> text = "id,name,stage,tags\nacme,Acme,Seed,emea;smb\nbeta,Beta,gold,\n"
        >>> accounts, rejected = read_accounts_csv(io.StringIO(text))
        >>> [(a.id, a.stage, sorted(a.tags)) for a in accounts]
        [('acme', 'seed', ['emea', 'smb'])]
        >>> rejected[0].line, rejected[0].column, rejected[0].value
        (3, 'stage', 'gold')
    """
    codec = _REGISTRY.codec_of(Account)
    specs = {f.key: f.spec for f in codec.fields if f.key in _ACCOUNT_COLUMNS}
    zone = _zone(tz)
    accounts: list[Account] = []
    lines: list[int] = []
    seen: dict[str, int] = {}
    with (
        _csv.open_table(
            file,
            ACCOUNT_CSV,
            required=("id",),
            rename=rename,
            extra=extra,
            encoding=encoding,
            delimiter=delimiter,
        ) as table,
        guarded(),
    ):
        reader = CsvReader(table, specs, zone)
        rejected = reader.rejected
        quick = _quick_accounts()
        for line, cells, values in reader:
            stage = values.get("stage")
            if stage is not None:
                try:
                    values["stage"] = stage_of(stage, lifecycle)
                except StarsError as err:
                    rejected.append(
                        RejectedRow(line, "stage", cells["stage"], _stage_why(err, lifecycle))
                    )
                    continue
            ident = cells["id"].strip()
            if not ident:
                rejected.append(RejectedRow(line, "id", cells["id"], "a non-empty id"))
                continue
            if ident in seen:
                rejected.append(
                    RejectedRow(
                        line, "id", cells["id"], f"a new id (first seen on line {seen[ident]})"
                    )
                )
                continue
            values["id"] = ident
            account = quick(values)
            if account is None:
                account = build(line, functools.partial(Account, **values), cells, rejected)
            if account is not None:
                seen[ident] = line
                accounts.append(account)
                lines.append(line)
        return reader.result(accounts, lines)


def read_snapshots_csv(
    file: Path | IO[str],
    *,
    tz: str | tzinfo | None = None,
    rename: Mapping[str, str] | None = None,
    extra: str = "refuse",
    encoding: str | None = None,
    delimiter: str | None = None,
) -> CsvImport[AccountEvent]:
    r"""Import snapshots from CSV, keeping the good rows and reporting the bad ones.

    Columns: ``account`` (or ``account_id``) and ``at`` (required), any `Snapshot`
    signal (``health``, ``band``, ``adoption``, ``nps``, ..., flags as
    ``true``/``false``, ``yes``/``no`` or ``1``/``0``), and ``metrics.<name>`` for other
    numeric signals. Empty cells mean not measured. Rows are returned in file order;
    sort them by time per account before observing them.

    Args:
        file: A path or a text stream (read as `read_accounts_csv` reads it).
        tz: Read date-times without a UTC offset, and bare dates, in this zone
            (``None``: reject them).
        rename: Header names to read as other columns.
        extra: ``"refuse"`` an unknown column, or ``"keep"`` it aside.
        encoding: The file's encoding (default UTF-8).
        delimiter: The delimiter, instead of finding it.

    Returns:
        A `CsvImport`: the snapshots with their account ids, and the rejected
        rows (one per bad cell).

    Raises:
        SchemaError: As for `read_accounts_csv` (``account`` and ``at`` are required).
        InvalidValue: ``tz``, ``encoding``, ``delimiter`` or ``extra`` is not usable.

    Examples:
        >>> import io
        >>> from stars.io import read_snapshots_csv
        >>> text = ("account_id,at,health,champion_engaged,metrics.seats\n"
        ...         "acme,2025-01-06T00:00:00+00:00,72,yes,40\n"
        ...         "acme,2025-01-13T00:00:00+00:00,140,no,41\n"
        ...         "acme,2025-01-20,70,no,41\n")
        >>> good, rejected = read_snapshots_csv(io.StringIO(text))
        >>> s = good[0].event
        >>> s.health, s.champion_engaged, s.metrics
        (72.0, True, {'seats': 40.0})
        >>> [(r.line, r.column, r.value) for r in rejected]
        [(3, 'health', '140'), (4, 'at', '2025-01-20')]
        >>> read_snapshots_csv(io.StringIO(text), tz="UTC").zoned
        1
    """
    zone = _zone(tz)
    out: list[AccountEvent] = []
    lines: list[int] = []
    with snapshot_table(file, rename, extra, encoding, delimiter) as table, guarded():
        reader, rows = snapshot_rows(table, zone)
        for line, account, snap in rows:
            out.append(AccountEvent(account, snap))
            lines.append(line)
        return reader.result(out, lines)


def _writer(file: Path | IO[str]) -> tuple[Any, IO[str] | None]:
    if isinstance(file, str | os.PathLike):
        handle = open(file, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed below
        return csv.writer(handle, lineterminator="\n"), handle
    return csv.writer(file, lineterminator="\n"), None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _write_rows(file: Path | IO[str], header: Sequence[str], rows: Iterable[list[Any]]) -> int:
    writer, handle = _writer(file)
    try:
        writer.writerow(header)
        n = 0
        for row in rows:
            writer.writerow([_cell(x) for x in row])
            n += 1
        return n
    finally:
        if handle is not None:
            handle.close()


def write_accounts_csv(accounts: Iterable[Account], file: Path | IO[str]) -> int:
    r"""Write accounts as the CSV `read_accounts_csv` reads (their snapshots and history aside).

    Tags are joined with ``;`` (so a tag must not hold one); times are ISO 8601 with their
    offset. `write_stage_events_csv` and `write_snapshots_csv` write the rest of each
    account, and reading the three files back gives the same accounts.

    Args:
        accounts: The accounts.
        file: A path (written as UTF-8) or a text stream.

    Returns:
        The number of rows written (the header aside).

    Examples:
        >>> import io
        >>> from stars import Account
        >>> from stars.io import write_accounts_csv
        >>> out = io.StringIO()
        >>> write_accounts_csv([Account("acme", name="Acme, Inc.", tags={"emea"})], out)
        1
        >>> print(out.getvalue(), end="")
        id,name,owner,tags,since,stage
        acme,"Acme, Inc.",,emea,,prospect
    """
    return _write_rows(
        file,
        _ACCOUNT_COLUMNS,
        (
            [a.id, a.name, a.owner, ";".join(sorted(a.tags)), a.since, a.stage]
            for a in _accounts_arg(accounts)
        ),
    )


def _accounts_arg(accounts: Iterable[Account]) -> list[Account]:
    items = list(accounts)
    for i, a in enumerate(items):
        if not isinstance(a, Account):
            raise InvalidValue(f"accounts[{i}]", a, "an Account")
    return items


def write_snapshots_csv(accounts: Iterable[Account], file: Path | IO[str]) -> int:
    r"""Write every snapshot of the accounts as the CSV `read_snapshots_csv` reads.

    One row per snapshot, oldest first per account; one ``metrics.<name>`` column per
    metric name any snapshot has. Numbers are written exactly (``repr``), flags as
    ``true``/``false``, an unmeasured signal as an empty cell.

    Args:
        accounts: The accounts.
        file: A path (written as UTF-8) or a text stream.

    Returns:
        The number of rows written.

    Examples:
        >>> import io
        >>> from datetime import datetime, timezone
        >>> from stars import Account, Snapshot
        >>> from stars.io import read_snapshots_csv, write_snapshots_csv
        >>> t = datetime(2025, 1, 6, tzinfo=timezone.utc)
        >>> acme = Account("acme", snapshots=[Snapshot(at=t, health=72.5, metrics={"seats": 40})])
        >>> out = io.StringIO()
        >>> write_snapshots_csv([acme], out)
        1
        >>> [e.event for e in read_snapshots_csv(io.StringIO(out.getvalue())).items] == [
        ...     acme.snapshots[0]]
        True
    """
    items = _accounts_arg(accounts)
    fields = [f for f in snapshot_csv()[1] if f != "at"]
    names = sorted({name for a in items for s in a.snapshots for name in s.metrics})
    header = ["account", "at", *fields, *(f"metrics.{n}" for n in names)]
    return _write_rows(
        file,
        header,
        (
            [a.id, s.at, *(getattr(s, f) for f in fields), *(s.metrics.get(n) for n in names)]
            for a in items
            for s in a.snapshots
        ),
    )
