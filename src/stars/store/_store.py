"""The store: accounts kept as append-only changes, one API over SQLite and PostgreSQL (private)."""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import attrs

from stars import _validate as v
from stars.account import CARRIED, Account, DepthPoint, OwnerChange, Snapshot, TransitionRecord
from stars.errors import (
    ConcurrentModification,
    InvalidValue,
    OutOfOrder,
    SchemaError,
    StarsError,
    TransitionNotAllowed,
    UnknownName,
)
from stars.io import SCHEMA, AccountEvent, canonical_json
from stars.lifecycle import STARS, Lifecycle
from stars.store import _codec as c
from stars.store._backend import SCHEMA_VERSION, Backend, Conflict
from stars.store._lazy import LazyLog

__all__ = [
    "Change",
    "Forgotten",
    "IngestResult",
    "Rejected",
    "Session",
    "Store",
]

#: How many of the latest changes of each kind a stored state keeps in full.
TAIL: Final = 32
_CHUNK: Final = 500


# =========================================================================== values
@attrs.frozen(slots=True)
class Change:
    """One stored change, as the feed gives it.

    Attributes:
        position: Its place in the store's one global order (increasing, never reused).
        account: The account's id.
        version: The account's version this change made (1 for its first change).
        kind: ``"transition"``, ``"snapshot"``, ``"depth"`` or ``"owner"``.
        value: The `TransitionRecord`, `Snapshot`, `DepthPoint` or `OwnerChange`.
        event_id: The id of the outside event it came from (see `Store.ingest`), if any.
        definition: The lifecycle definition it was made under (name and digest).
        schema: The document schema it was written under.

    Examples:
        >>> from stars.store import Change
        >>> Change.__name__
        'Change'
    """

    position: int
    account: str
    version: int
    kind: str
    value: TransitionRecord | Snapshot | DepthPoint | OwnerChange
    event_id: str | None = None
    definition: str = ""
    schema: str = SCHEMA


@attrs.frozen(slots=True)
class Rejected:
    """An outside event the store could not apply, and why (the batch went on).

    Attributes:
        index: Its place in the stream given to `Store.ingest` (from 0).
        account: The account it was for.
        event_id: Its id, if it had one (a redelivery of it is then a duplicate).
        reason: What was wrong, as the error said it.

    Examples:
        >>> from stars.store import Rejected
        >>> Rejected(3, "acme", "e-3", "out of order").reason
        'out of order'
    """

    index: int
    account: str
    event_id: str | None
    reason: str


@attrs.frozen(slots=True)
class IngestResult:
    """What one `Store.ingest` did.

    Attributes:
        accepted: Events stored as changes.
        duplicates: Events whose id the store had already seen (or seen earlier in the
            stream): counted, not applied again.
        rejected: Events that could not be applied, each with its reason.
        accounts: How many accounts received changes.

    Examples:
        >>> from stars.store import IngestResult
        >>> IngestResult(accepted=2, duplicates=1).total
        3
    """

    accepted: int = 0
    duplicates: int = 0
    rejected: tuple[Rejected, ...] = ()
    accounts: int = 0

    @property
    def total(self) -> int:
        """Every event given: accepted, duplicate or rejected.

        Examples:
            >>> from stars.store import IngestResult
            >>> IngestResult().total
            0
        """
        return self.accepted + self.duplicates + len(self.rejected)


@attrs.frozen(slots=True)
class Forgotten:
    """What `Store.forget` erased.

    Attributes:
        person: The name that was forgotten.
        names: How many stored names were erased (one per tenant-scoped id).
        texts: How many personal free texts attributed to the person were erased.

    Examples:
        >>> from stars.store import Forgotten
        >>> Forgotten("dana", 1, 2).texts
        2
    """

    person: str
    names: int
    texts: int


# =========================================================================== helpers
def _definition_id(lifecycle: Lifecycle) -> tuple[str, str]:
    """A lifecycle's definition id (its name and a digest of its data) and its data."""
    from stars.io import lifecycle_to_dict

    try:
        body = canonical_json(lifecycle_to_dict(lifecycle))
    except StarsError:  # guards outside the registry: the name is all that can be kept
        body = canonical_json({"name": lifecycle.name, "note": "guards outside the registry"})
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    return f"{lifecycle.name}@{digest}", body


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _first(account: Account) -> tuple[str, str | None]:
    """The stage and owner an account had before its first change (it holds them all)."""
    history, owners = account._history, account._owners
    stage = history[0].source if len(history) else account.stage
    owner = owners[0].previous if len(owners) else account.owner
    return stage, owner


def _header(account: Account, stage: str, owner: int | None) -> str:
    return canonical_json(
        {
            "name": account.name,
            "owner": owner,
            "since": None if account.since is None else c.iso(account.since),
            "stage": stage,
            "tags": sorted(account.tags),
        }
    )


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _marks(n: int) -> str:
    return ",".join("?" * n)


@attrs.define(slots=True)
class _Plan:
    """One account's part of a write: what it is, what the store should have, what to add."""

    account: Account
    expected: int
    changes: list[Any]
    event_ids: list[str | None]


# =========================================================================== the store
class Store:
    """Accounts kept as append-only changes, with a feed; open one with `stars.store.open`.

    A handle holds one database connection, used by one thread at a time (calls from
    several threads queue for it; no lock is held while your code runs). Close it, or
    use it as a context manager.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import STARS, Account
        >>> import stars.store
        >>> store = stars.store.open("sqlite:///:memory:")
        >>> acme = Account("acme", owner="dana")
        >>> _ = STARS.fire(acme, "sign", at=datetime(2025, 1, 6, tzinfo=timezone.utc),
        ...                force=True, reason="signed on paper")
        >>> store.save(acme)
        1
        >>> store.load("acme").stage, [c.kind for c in store.feed()]
        ('seed', ['transition'])
        >>> store.close()
    """

    def __init__(
        self,
        backend: Backend,
        *,
        tenant: str = "",
        lifecycle: Lifecycle = STARS,
        snapshot_every: int = 100,
        url: str = "",
    ) -> None:
        self._backend = backend
        self._tenant = tenant
        self._lifecycle = lifecycle
        self._every = snapshot_every
        self._url = url
        self._definition, self._definition_body = _definition_id(lifecycle)
        self._definition_saved = False
        # The version each account object had when this handle loaded or saved it.
        self._known: dict[int, tuple[weakref.ref[Account], int]] = {}
        try:
            self._migrate()
        except BaseException:
            self.close()
            raise

    # -- opening -----------------------------------------------------------------------
    def _migrate(self) -> None:
        b = self._backend
        with b.lock:
            if b.has_table("stars_meta") and self._stored_schema() == SCHEMA_VERSION:
                return  # nothing to do (and a restricted role may not create tables)
            with b.migrating():
                b.execute(
                    "CREATE TABLE IF NOT EXISTS stars_meta"
                    " (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
                have = self._stored_schema()
                if have > SCHEMA_VERSION:
                    raise SchemaError(
                        "store schema_version",
                        have,
                        f"at most {SCHEMA_VERSION} (the store was written by a newer stars)",
                    )
                for version, statements in b.migrations():
                    if version > have:
                        for sql in statements:
                            b.execute(sql)
                        have = version
                b.execute(
                    "INSERT INTO stars_meta (key, value) VALUES ('schema_version', ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(have),),
                )

    def _stored_schema(self) -> int:
        row = self._backend.query("SELECT value FROM stars_meta WHERE key = 'schema_version'")
        return int(row[0][0]) if row else 0

    @property
    def tenant(self) -> str | None:
        """The tenant this handle is scoped to (``None``: the default one).

        Examples:
            >>> import stars.store
            >>> with stars.store.open("sqlite:///:memory:", tenant="emea") as s:
            ...     s.tenant
            'emea'
        """
        return self._tenant or None

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``.

        Examples:
            >>> import stars.store
            >>> with stars.store.open("sqlite:///:memory:") as s:
            ...     s.backend
            'sqlite'
        """
        return self._backend.name

    @property
    def schema_version(self) -> int:
        """The version of the store's tables (migrated forward when opened).

        Examples:
            >>> import stars.store
            >>> with stars.store.open("sqlite:///:memory:") as s:
            ...     s.schema_version
            1
        """
        b = self._backend
        with b.lock:
            return int(b.query("SELECT value FROM stars_meta WHERE key = 'schema_version'")[0][0])

    def close(self) -> None:
        """Close the connection (accounts loaded from it can no longer read older changes).

        Examples:
            >>> import stars.store
            >>> s = stars.store.open("sqlite:///:memory:")
            >>> s.close()
        """
        b = self._backend
        with b.lock:
            if not b.closed:
                b.close()
                b.closed = True

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        tenant = f", tenant={self._tenant!r}" if self._tenant else ""
        return f"Store({self._backend.name}{tenant})"

    def _check_open(self) -> Backend:
        b = self._backend
        if b.closed:
            raise InvalidValue("store", self, "an open store (this one was closed)")
        return b

    # -- versions remembered per account object ------------------------------------------
    def _remember(self, account: Account, version: int) -> None:
        key = id(account)
        known = self._known

        def gone(_: object, key: int = key) -> None:
            known.pop(key, None)

        known[key] = (weakref.ref(account, gone), version)

    def _expected(self, account: Account) -> int:
        entry = self._known.get(id(account))
        if entry is not None and entry[0]() is account:
            return entry[1]
        return 0

    # -- reading -----------------------------------------------------------------------
    def __contains__(self, account_id: object) -> bool:
        if not isinstance(account_id, str):
            return False
        b = self._check_open()
        with b.lock:
            return bool(
                b.query(
                    "SELECT 1 FROM stars_subjects WHERE tenant = ? AND subject = ?",
                    (self._tenant, account_id),
                )
            )

    def __len__(self) -> int:
        b = self._check_open()
        with b.lock:
            return int(
                b.query("SELECT COUNT(*) FROM stars_subjects WHERE tenant = ?", (self._tenant,))[0][
                    0
                ]
            )

    def ids(self) -> list[str]:
        """The ids of the stored accounts, sorted.

        Examples:
            >>> import stars.store
            >>> from stars import Account
            >>> with stars.store.open("sqlite:///:memory:") as s:
            ...     s.save_all([Account("b"), Account("a")])
            ...     s.ids()
            ['a', 'b']
        """
        b = self._check_open()
        with b.lock:
            rows = b.query(
                "SELECT subject FROM stars_subjects WHERE tenant = ? ORDER BY subject",
                (self._tenant,),
            )
        return [r[0] for r in rows]

    def version(self, account_id: str) -> int:
        """The stored version of an account (0 when it is not stored).

        Examples:
            >>> import stars.store
            >>> with stars.store.open("sqlite:///:memory:") as s:
            ...     s.version("acme")
            0
        """
        v.text("account_id", account_id)
        b = self._check_open()
        with b.lock:
            rows = b.query(
                "SELECT version FROM stars_subjects WHERE tenant = ? AND subject = ?",
                (self._tenant, account_id),
            )
        return int(rows[0][0]) if rows else 0

    def _names(self, people: Iterable[int], texts: Iterable[int]) -> c.Names:
        b = self._backend
        people_ids = sorted(set(people))
        text_ids = sorted(set(texts))
        found_people: dict[int, str | None] = {}
        found_texts: dict[int, str | None] = {}
        for part in _chunks(people_ids):
            for pid, name in b.query(
                f"SELECT id, name FROM stars_people WHERE tenant = ?"
                f" AND id IN ({_marks(len(part))})",
                (self._tenant, *part),
            ):
                found_people[int(pid)] = name
        for part in _chunks(text_ids):
            for tid, text in b.query(
                f"SELECT id, text FROM stars_texts WHERE tenant = ?"
                f" AND id IN ({_marks(len(part))})",
                (self._tenant, *part),
            ):
                found_texts[int(tid)] = text
        return c.Names(found_people, found_texts)

    def _decode_rows(
        self, rows: Sequence[tuple[str, str, str]], where: str, names: c.Names | None = None
    ) -> list[Any]:
        """(kind, schema, body) rows as change values, people and texts resolved."""
        bodies = []
        people: list[int] = []
        texts: list[int] = []
        # One parse for every row (the per-call cost of json.loads is most of a small body's).
        parsed = c.loads("[" + ",".join(row[2] for row in rows) + "]")
        for (kind, schema, _), body in zip(rows, parsed, strict=True):
            if schema != SCHEMA:
                body = c.upgrade(schema, kind, body, where)
            if names is None:
                p, t = c.refs_in(kind, body)
                people += p
                texts += t
            bodies.append((kind, body))
        if names is None:
            names = self._names(people, texts)
        decode = c.decode
        return [decode(kind, body, names, where) for kind, body in bodies]

    def _all_names(self) -> c.Names:
        """Every name and text of the tenant (for reading every account at once)."""
        b = self._backend
        people = {
            int(pid): name
            for pid, name in b.query(
                "SELECT id, name FROM stars_people WHERE tenant = ?", (self._tenant,)
            )
        }
        texts = {
            int(tid): text
            for tid, text in b.query(
                "SELECT id, text FROM stars_texts WHERE tenant = ?", (self._tenant,)
            )
        }
        return c.Names(people, texts)

    def _older(self, account_id: str, kind: str) -> Callable[[int], Sequence[Any]]:
        """A loader of an account's first ``n`` changes of one kind (for `LazyLog`)."""

        def load(n: int) -> Sequence[Any]:
            b = self._check_open()
            with b.lock, b.reading():
                rows = b.query(
                    "SELECT kind, schema, body FROM stars_changes WHERE tenant = ? AND subject = ?"
                    " AND kind = ? ORDER BY version LIMIT ?",
                    (self._tenant, account_id, kind, n),
                )
                return self._decode_rows(rows, f"{account_id}.{kind}")

        return load

    def load(self, account_id: str, *, lifecycle: Lifecycle | None = None) -> Account:
        """The stored account: its latest stored state plus the changes after it.

        Only the latest snapshot of the account's state (written every ``snapshot_every``
        changes) and the changes after it are read; older changes stay in the store until
        something reads them (the whole `Account.history`, say), then are read once.
        Reading from the end (the latest snapshots, the current stage, ``observe``) never
        needs them, so loading costs the same for 100 changes or 100,000.

        Args:
            account_id: The account's id.
            lifecycle: Replay the changes after the state with this lifecycle (default:
                the store's).

        Returns:
            A new account; `save` it after changing it.

        Raises:
            UnknownName: No such account in this store (or this tenant).
            SchemaError: A stored change cannot be read.

        Examples:
            >>> import stars.store
            >>> with stars.store.open("sqlite:///:memory:") as s:
            ...     s.load("nobody")
            Traceback (most recent call last):
            ...
            stars.errors.UnknownName: unknown account 'nobody'
        """
        v.text("account_id", account_id)
        lc = lifecycle or self._lifecycle
        b = self._check_open()
        with b.lock, b.reading():
            rows = b.query(
                "SELECT version, n_history, n_snapshots, n_depths, n_owners, stage, owner, header"
                " FROM stars_subjects WHERE tenant = ? AND subject = ?",
                (self._tenant, account_id),
            )
            if not rows:
                raise UnknownName("account", account_id)
            version, h, s, d, o, stage, _owner, header = rows[0]
            states = b.query(
                "SELECT version, body FROM stars_states WHERE tenant = ? AND subject = ?"
                " AND version <= ? ORDER BY version DESC LIMIT 1",
                (self._tenant, account_id, version),
            )
            base = int(states[0][0]) if states else 0
            tail_rows = b.query(
                "SELECT kind, schema, body FROM stars_changes WHERE tenant = ? AND subject = ?"
                " AND version > ? AND version <= ? ORDER BY version",
                (self._tenant, account_id, base, version),
            )
            tail = self._decode_rows(tail_rows, f"{account_id}")
            if states:
                start = self._from_state(account_id, states[0][1], header)
            else:
                start = self._empty(account_id, header)
        by_kind: dict[str, list[Any]] = {k: [] for k in c.KINDS}
        for item in tail:
            by_kind[c.kind_of(item)].append(item)
        account = lc.replay(
            account_id,
            by_kind["transition"],
            snapshots=by_kind["snapshot"],
            depths=by_kind["depth"],
            owners=by_kind["owner"],
            start=start,
        )
        if (account.version, account.stage) != (version, stage) or c.counts_of(account) != (
            h,
            s,
            d,
            o,
        ):
            raise SchemaError(
                f"store account {account_id!r}",
                account.version,
                f"version {version} in stage {stage!r}, as stored (the store is damaged)",
            )
        self._remember(account, version)
        return account

    def _empty(self, account_id: str, header: str) -> Account:
        """The account as it was before its first change."""
        head = json.loads(header)
        since = None if head["since"] is None else datetime.fromisoformat(head["since"])
        owner = self._names([head["owner"]] if head["owner"] is not None else [], []).person(
            head["owner"]
        )
        return Account(
            account_id,
            name=head["name"],
            owner=owner,
            tags=head["tags"],
            since=since,
            stage=head["stage"],
        )

    def _from_state(self, account_id: str, text: str, header: str) -> Account:
        """An account from a stored state: its tails in full, older changes lazily."""
        head = json.loads(header)
        state = json.loads(text)
        counts = state["counts"]
        lists: dict[str, Sequence[Any]] = {}
        decoded: dict[str, list[Any]] = {}
        # The schema the state's changes were written under (states that do not say were
        # written by the first release, under the first schema).
        schema = state.get("schema", c.FIRST_SCHEMA)
        rows = [
            (kind, schema, json.dumps(body)) for kind in c.KINDS for body in state["tails"][kind]
        ]
        items = self._decode_rows(rows, f"{account_id} state")
        for kind in c.KINDS:
            decoded[kind] = []
        for item in items:
            decoded[c.kind_of(item)].append(item)
        for kind, count in zip(("transition", "snapshot", "depth", "owner"), counts, strict=True):
            tail = decoded[kind]
            lists[kind] = LazyLog.of(count - len(tail), tail, self._older(account_id, kind))
        owner = self._names([state["owner"]] if state["owner"] is not None else [], []).person(
            state["owner"]
        )
        since = None if head["since"] is None else datetime.fromisoformat(head["since"])
        account: Account = object.__new__(Account)
        account.__setstate__(
            {
                "id": account_id,
                "name": head["name"],
                "_owner": owner,
                "_owners": lists["owner"],
                "tags": frozenset(head["tags"]),
                "since": since,
                "_stage": state["stage"],
                "_snapshots": lists["snapshot"],
                "_history": lists["transition"],
                "_depths": lists["depth"],
                "_version": state["version"],
            }
        )
        carried = tuple(state["carried"])
        object.__setattr__(account, "_carry", (counts[1], carried))
        return account

    def get(self, account_id: str, default: Account | None = None) -> Account | None:
        """The stored account, or ``default`` when there is none.

        Examples:
            >>> import stars.store
            >>> with stars.store.open("sqlite:///:memory:") as s:
            ...     print(s.get("nobody"))
            None
        """
        try:
            return self.load(account_id)
        except UnknownName:
            return default

    def accounts(self) -> list[Account]:
        """Every stored account, in id order, read in a few queries.

        Each account's stage, version and owner are there at once; its changes are read
        for all accounts together the first time any account's changes are read.

        Examples:
            >>> import stars.store
            >>> from stars import Account
            >>> with stars.store.open("sqlite:///:memory:") as s:
            ...     s.save(Account("acme", tags={"emea"}))
            ...     [(a.id, sorted(a.tags)) for a in s.accounts()]
            0
            [('acme', ['emea'])]
        """
        b = self._check_open()
        with b.lock, b.reading():
            rows = b.query(
                "SELECT subject, version, n_history, n_snapshots, n_depths, n_owners, stage,"
                " owner, header FROM stars_subjects WHERE tenant = ? ORDER BY subject",
                (self._tenant,),
            )
            owner_refs = {r[7] for r in rows if r[7] is not None}
            names = self._names(owner_refs, [])
        bulk = _Bulk(self)
        out = []
        new = object.__new__
        loads = json.loads
        for subject, version, h, s, d, o, stage, owner_ref, header in rows:
            head = loads(header)
            since = None if head["since"] is None else datetime.fromisoformat(head["since"])
            account: Account = new(Account)
            account.__setstate__(
                {
                    "id": subject,
                    "name": head["name"],
                    "_owner": names.person(owner_ref),
                    "_owners": LazyLog.of(o, (), bulk.loader(subject, "owner")),
                    "tags": frozenset(head["tags"]),
                    "since": since,
                    "_stage": stage,
                    "_snapshots": LazyLog.of(s, (), bulk.loader(subject, "snapshot")),
                    "_history": LazyLog.of(h, (), bulk.loader(subject, "transition")),
                    "_depths": LazyLog.of(d, (), bulk.loader(subject, "depth")),
                    "_version": version,
                }
            )
            self._remember(account, version)
            out.append(account)
        return out

    def portfolio(self, lifecycle: Lifecycle | None = None) -> Any:
        """Every stored account as a `stars.portfolio.Portfolio` (see `accounts`).

        Examples:
            >>> import stars.store
            >>> from stars import Account
            >>> with stars.store.open("sqlite:///:memory:") as s:
            ...     s.save_all([Account("a"), Account("b")])
            ...     len(s.portfolio())
            2
        """
        from stars.portfolio import Portfolio

        return Portfolio(self.accounts(), lifecycle or self._lifecycle)

    def to_frames(self, backend: str = "polars") -> dict[str, Any]:
        """Every stored account as DataFrames: one per kind of row `Portfolio.to_frame` gives.

        Returns:
            ``{"accounts": ..., "history": ..., "snapshots": ..., "owners": ...}``.

        Examples:
            >>> import stars.store
            >>> from stars import Account
            >>> with stars.store.open("sqlite:///:memory:") as s:
            ...     s.save(Account("acme"))
            ...     s.to_frames()["accounts"].height
            0
            1
        """
        book = self.portfolio()
        return {
            kind: book.to_frame(kind, backend=backend)
            for kind in ("accounts", "history", "snapshots", "owners")
        }

    # -- the feed ----------------------------------------------------------------------
    def feed(self, after: int = 0, *, limit: int = 1000) -> tuple[Change, ...]:
        """Stored changes after a position, in the store's one global order.

        Positions only grow, in the order changes were committed (see the backends'
        notes on how): a follower that keeps the last position it handled and asks
        for what comes after never misses a change and never sees one twice.

        Args:
            after: The last position already handled (0: from the start).
            limit: At most this many changes.

        Examples:
            >>> import stars.store
            >>> with stars.store.open("sqlite:///:memory:") as s:
            ...     s.feed(after=0)
            ()
        """
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise InvalidValue("after", after, "a position: a whole number at or above 0")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidValue("limit", limit, "a whole number at or above 1")
        b = self._check_open()
        with b.lock, b.reading():
            rows = b.query(
                "SELECT position, subject, version, kind, schema, body, event_id, definition"
                " FROM stars_changes WHERE tenant = ? AND position > ? ORDER BY position LIMIT ?",
                (self._tenant, after, limit),
            )
            values = self._decode_rows([(r[3], r[4], r[5]) for r in rows], "feed")
        return tuple(
            Change(int(r[0]), r[1], int(r[2]), r[3], value, r[6], r[7], r[4])
            for r, value in zip(rows, values, strict=True)
        )

    def last_position(self) -> int:
        """The position of the latest stored change (0 when there is none).

        Examples:
            >>> import stars.store
            >>> with stars.store.open("sqlite:///:memory:") as s:
            ...     s.last_position()
            0
        """
        b = self._check_open()
        with b.lock:
            rows = b.query(
                "SELECT MAX(position) FROM stars_changes WHERE tenant = ?", (self._tenant,)
            )
        return int(rows[0][0] or 0)

    def checkpoint(self, name: str) -> int:
        """How far the follower ``name`` has handled the feed (0: not at all).

        Examples:
            >>> import stars.store
            >>> with stars.store.open("sqlite:///:memory:") as s:
            ...     s.checkpoint("webhooks")
            0
        """
        v.text("name", name)
        b = self._check_open()
        with b.lock:
            rows = b.query(
                "SELECT position FROM stars_checkpoints WHERE tenant = ? AND name = ?",
                (self._tenant, name),
            )
        return int(rows[0][0]) if rows else 0

    def relay(self, name: str, publish: Callable[[Change], object], *, limit: int = 100) -> int:
        """Publish what the store holds past the follower ``name``'s checkpoint (an outbox).

        ``publish`` is called for each change, in position order, with no lock held and no
        transaction open; after it returns, the checkpoint moves past that change. So only
        stored changes are ever published, each at least once: if ``publish`` raises (or
        the process dies) the change is published again on the next call. Give the
        change's ``position`` to the receiver so it can drop a repeat.

        Args:
            name: The follower's name (one checkpoint each).
            publish: Your function (send a webhook, put on a queue, ...).
            limit: At most this many changes per call.

        Returns:
            How many changes were published.

        Examples:
            >>> import stars.store
            >>> from datetime import datetime, timezone
            >>> from stars import STARS, Account, Snapshot
            >>> with stars.store.open("sqlite:///:memory:") as s:
            ...     a = Account("acme")
            ...     _ = STARS.observe(a, Snapshot(at=datetime(2025, 1, 6, tzinfo=timezone.utc)))
            ...     _ = s.save(a)
            ...     sent = []
            ...     s.relay("hooks", sent.append), s.relay("hooks", sent.append), len(sent)
            (1, 0, 1)
        """
        v.text("name", name)
        if not callable(publish):
            raise InvalidValue("publish", publish, "a callable taking a Change")
        done = 0
        for change in self.feed(self.checkpoint(name), limit=limit):
            publish(change)
            b = self._check_open()
            with b.lock, b.writing():
                b.execute(
                    "INSERT INTO stars_checkpoints (tenant, name, position) VALUES (?, ?, ?)"
                    " ON CONFLICT (tenant, name) DO UPDATE SET position = excluded.position",
                    (self._tenant, name, change.position),
                )
            done += 1
        return done

    # -- writing -----------------------------------------------------------------------
    def save(self, account: Account, *, expected_version: int | None = None) -> int:
        """Append what the store lacks of an account, atomically.

        The account's changes past the version the store had when this handle loaded it
        (or last saved it; 0 for an account it never saw) are stored, each at its own
        version. If another writer stored the account since, nothing is written and
        `ConcurrentModification` is raised: load it again, redo the change, save again.

        Args:
            account: The account.
            expected_version: The version the store must be at (default: the one this
                handle loaded).

        Returns:
            The account's stored version.

        Raises:
            ConcurrentModification: The store is not at the expected version.

        Examples:
            >>> import stars.store
            >>> from stars import Account, ConcurrentModification
            >>> with stars.store.open("sqlite:///:memory:") as s:
            ...     s.save(Account("acme"))
            ...     try:
            ...         s.save(Account("acme", tags={"x"}), expected_version=3)
            ...     except ConcurrentModification as err:
            ...         print(err)
            0
            account acme: expected version 3, but it is at version 0
        """
        self.save_all(
            [account], expected_versions=None if expected_version is None else [expected_version]
        )
        return account.version

    def save_all(
        self,
        accounts: Sequence[Account],
        *,
        expected_versions: Sequence[int] | None = None,
    ) -> None:
        """Save several accounts in one transaction: all of them, or none.

        Examples:
            >>> import stars.store
            >>> from stars import Account
            >>> with stars.store.open("sqlite:///:memory:") as s:
            ...     s.save_all([Account("a"), Account("b")])
            ...     len(s)
            2
        """
        accounts = list(accounts)
        plans = []
        seen: set[str] = set()
        for i, account in enumerate(accounts):
            if not isinstance(account, Account):
                raise InvalidValue(f"accounts[{i}]", account, "an Account")
            if account.id in seen:
                raise InvalidValue(f"accounts[{i}].id", account.id, "each account once")
            seen.add(account.id)
            if expected_versions is not None:
                expected = v.expected_version(expected_versions[i])
                assert expected is not None
            else:
                expected = self._expected(account)
            plans.append(_Plan(account, expected, [], []))
        self._write(plans)

    def _write(
        self, plans: Sequence[_Plan], seen: Sequence[tuple[str, str, int | None, str]] = ()
    ) -> None:
        """Store the plans' changes in one transaction (and the ingested ids in ``seen``)."""
        b = self._check_open()
        with b.lock:
            try:
                with b.writing():
                    self._write_locked(plans, seen)
            except Conflict as exc:
                # Another writer took a key first (the locks make this rare): say whose.
                for plan in plans:
                    actual = self.version(plan.account.id)
                    if actual != plan.expected:
                        raise ConcurrentModification(
                            plan.account.id, plan.expected, actual
                        ) from exc
                first = plans[0].account if plans else None
                raise ConcurrentModification(
                    first.id if first else "?",
                    plans[0].expected if plans else 0,
                    self.version(first.id) if first else 0,
                ) from exc
        for plan in plans:
            self._remember(plan.account, plan.account.version)

    def _write_locked(
        self, plans: Sequence[_Plan], seen: Sequence[tuple[str, str, int | None, str]]
    ) -> None:
        b = self._backend
        tenant = self._tenant
        ids = [p.account.id for p in plans]
        stored: dict[str, tuple[Any, ...]] = {}
        for part in _chunks(ids):
            for row in b.query(
                "SELECT subject, version, n_history, n_snapshots, n_depths, n_owners, header"
                f" FROM stars_subjects WHERE tenant = ? AND subject IN ({_marks(len(part))})",
                (tenant, *part),
            ):
                stored[row[0]] = row[1:]
        # What each account adds, checked against what the store holds.
        for plan in plans:
            account = plan.account
            have = stored.get(account.id)
            actual = int(have[0]) if have else 0
            if actual != plan.expected:
                raise ConcurrentModification(account.id, plan.expected, actual)
            counts = tuple(int(x) for x in have[1:5]) if have else (0, 0, 0, 0)
            if not plan.changes:
                plan.changes = c.pending(account, counts)
                plan.event_ids = [None] * len(plan.changes)
            if actual + len(plan.changes) != account.version:
                raise InvalidValue(
                    "account",
                    account,
                    f"an account that holds the store's {actual} changes and then its own"
                    f" (it is at version {account.version} with {len(plan.changes)} new)",
                )
        # People and personal texts, by id.
        names: set[str] = set()
        texts: set[tuple[str | None, str]] = set()
        firsts: dict[str, tuple[str, str | None]] = {}
        for plan in plans:
            have = stored.get(plan.account.id)
            if have is None:
                firsts[plan.account.id] = _first(plan.account)
            if plan.account.owner is not None:
                names.add(plan.account.owner)
            first_owner = firsts.get(plan.account.id, ("", None))[1]
            if first_owner is not None:
                names.add(first_owner)
            personal = c.PERSONAL_TYPES
            for item in plan.changes:
                if type(item) in personal:
                    names.update(c.people_in(item))
                    texts.update(c.texts_in(item))
            for item in self._state_items(plan, stored):
                if type(item) in personal:
                    names.update(c.people_in(item))
                    texts.update(c.texts_in(item))
        people = self._people_ids(names)
        text_ids = self._text_ids(texts, people)
        refs = c.Refs(people, text_ids)
        if not self._definition_saved:
            b.execute(
                "INSERT INTO stars_definitions (id, name, body) VALUES (?, ?, ?)"
                " ON CONFLICT (id) DO NOTHING",
                (self._definition, self._lifecycle.name, self._definition_body),
            )
        rows = []
        definition = self._definition
        bodies: dict[int, str] = {}  # written once, reused by the state snapshots
        encode, kind_of, iso = c.encode, c.kind_of, c.iso
        for plan in plans:
            account = plan.account
            version = account.version - len(plan.changes)
            for item, event_id in zip(plan.changes, plan.event_ids, strict=True):
                version += 1
                at = iso(item.at)
                body = encode(item, refs, at)
                bodies[id(item)] = body
                rows.append(
                    (
                        tenant,
                        account.id,
                        version,
                        kind_of(item),
                        at,
                        SCHEMA,
                        definition,
                        body,
                        event_id,
                    )
                )
        if rows:
            b.bulk_changes(rows)
        new_subjects = []
        states = []
        for plan in plans:
            account = plan.account
            have = stored.get(account.id)
            counts = c.counts_of(account)
            owner = None if account.owner is None else people[account.owner]
            if have is None:
                stage0, owner0 = firsts[account.id]
                header = _header(account, stage0, None if owner0 is None else people[owner0])
                new_subjects.append(
                    (tenant, account.id, account.version, *counts, account.stage, owner, header)
                )
            else:
                head = json.loads(have[5])
                header = _header(account, head["stage"], head["owner"])
                b.execute(
                    "UPDATE stars_subjects SET version = ?, n_history = ?, n_snapshots = ?,"
                    " n_depths = ?, n_owners = ?, stage = ?, owner = ?, header = ?"
                    " WHERE tenant = ? AND subject = ? AND version = ?",
                    (
                        account.version,
                        *counts,
                        account.stage,
                        owner,
                        header,
                        tenant,
                        account.id,
                        have[0],
                    ),
                )
            old = int(have[0]) if have else 0
            if account.version // self._every > old // self._every:
                states.append(
                    (tenant, account.id, account.version, self._state(account, refs, bodies))
                )
        if new_subjects:
            b.executemany(
                "INSERT INTO stars_subjects (tenant, subject, version, n_history, n_snapshots,"
                " n_depths, n_owners, stage, owner, header)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                new_subjects,
            )
        if states:
            b.executemany(
                "INSERT INTO stars_states (tenant, subject, version, body) VALUES (?, ?, ?, ?)",
                states,
            )
        if seen:
            b.executemany(
                "INSERT INTO stars_seen (tenant, event_id, subject, version, outcome)"
                " VALUES (?, ?, ?, ?, ?)",
                [(tenant, *row) for row in seen],
            )

    def _state_items(self, plan: _Plan, stored: Mapping[str, Any]) -> Iterator[Any]:
        account = plan.account
        have = stored.get(account.id)
        old = int(have[0]) if have else 0
        if account.version // self._every <= old // self._every:
            return
        for seq in (account._history, account._snapshots, account._depths, account._owners):
            n = len(seq)
            for i in range(max(0, n - TAIL), n):
                yield seq[i]

    def _state(self, account: Account, refs: c.Refs, bodies: Mapping[int, str]) -> str:
        tails: dict[str, str] = {}

        def body(item: Any) -> str:
            found = bodies.get(id(item))
            return found if found is not None else c.encode(item, refs)

        for kind, seq in (
            ("transition", account._history),
            ("snapshot", account._snapshots),
            ("depth", account._depths),
            ("owner", account._owners),
        ):
            n = len(seq)
            tails[kind] = "[" + ",".join(body(seq[i]) for i in range(max(0, n - TAIL), n)) + "]"
        known = account.known()
        carried = [None if known is None else getattr(known, name) for name in CARRIED]
        owner = "null" if account.owner is None else str(refs.people[account.owner])
        return (
            f'{{"carried":{json.dumps(carried)},"counts":{json.dumps(list(c.counts_of(account)))},'
            f'"owner":{owner},"schema":"{SCHEMA}",'
            f'"stage":{json.dumps(account.stage, ensure_ascii=False)},'
            f'"tails":{{"depth":{tails["depth"]},"owner":{tails["owner"]},'
            f'"snapshot":{tails["snapshot"]},"transition":{tails["transition"]}}},'
            f'"version":{account.version}}}'
        )

    def _people_ids(self, names: set[str]) -> dict[str, int]:
        b = self._backend
        wanted = sorted(names)
        found: dict[str, int] = {}
        for part in _chunks(wanted):
            for pid, name in b.query(
                f"SELECT id, name FROM stars_people WHERE tenant = ?"
                f" AND name IN ({_marks(len(part))})",
                (self._tenant, *part),
            ):
                found[name] = int(pid)
        missing = [n for n in wanted if n not in found]
        if missing:
            b.executemany(
                "INSERT INTO stars_people (tenant, name) VALUES (?, ?)",
                [(self._tenant, n) for n in missing],
            )
            for part in _chunks(missing):
                for pid, name in b.query(
                    f"SELECT id, name FROM stars_people WHERE tenant = ?"
                    f" AND name IN ({_marks(len(part))})",
                    (self._tenant, *part),
                ):
                    found[name] = int(pid)
        return found

    def _text_ids(
        self, texts: set[tuple[str | None, str]], people: Mapping[str, int]
    ) -> dict[tuple[str | None, str], int]:
        b = self._backend
        by_digest: dict[str, tuple[str | None, str]] = {}
        for who, text in texts:
            pid = None if who is None else people[who]
            by_digest[_digest(f"{pid}\x00{text}")] = (who, text)
        found: dict[tuple[str | None, str], int] = {}
        digests = sorted(by_digest)
        for part in _chunks(digests):
            for tid, digest in b.query(
                f"SELECT id, digest FROM stars_texts WHERE tenant = ?"
                f" AND digest IN ({_marks(len(part))})",
                (self._tenant, *part),
            ):
                found[by_digest[digest]] = int(tid)
        missing = [d for d in digests if by_digest[d] not in found]
        if missing:
            rows = []
            for d in missing:
                who, text = by_digest[d]
                rows.append((self._tenant, None if who is None else people[who], d, text))
            b.executemany(
                "INSERT INTO stars_texts (tenant, person, digest, text) VALUES (?, ?, ?, ?)", rows
            )
            for part in _chunks(missing):
                for tid, digest in b.query(
                    f"SELECT id, digest FROM stars_texts WHERE tenant = ?"
                    f" AND digest IN ({_marks(len(part))})",
                    (self._tenant, *part),
                ):
                    found[by_digest[digest]] = int(tid)
        return found

    # -- ingestion -----------------------------------------------------------------------
    def ingest(
        self,
        events: Iterable[AccountEvent],
        *,
        lifecycle: Lifecycle | None = None,
        batch: int = 10_000,
        retries: int = 5,
    ) -> IngestResult:
        """Apply outside events to the stored accounts, each event at most once.

        Events are applied in order, per account, through the lifecycle: a snapshot is
        appended, a transition record must be a transition of the lifecycle from where
        the account stands (records are facts: guards do not run again). An account
        not yet stored starts empty. An event whose ``id`` the store has seen before
        (or that appeared earlier in the stream) is a duplicate: counted, never applied
        twice, never an error. An event that cannot be applied is rejected with its
        reason and the rest go on; its id is kept too, so a redelivery of it is a
        duplicate. Each ``batch`` of events is stored in one transaction, and retried
        (up to ``retries`` times) when another writer changed one of its accounts.

        Args:
            events: The events (`stars.io.AccountEvent`), e.g. from `stars.io.read_events`.
            lifecycle: The lifecycle to apply them with (default: the store's).
            batch: Events per transaction.
            retries: Attempts per batch when another writer interferes.

        Returns:
            The counts, and the rejected events with their reasons.

        Examples:
            >>> import stars.store
            >>> from datetime import datetime, timezone
            >>> from stars import Snapshot
            >>> from stars.io import AccountEvent
            >>> t = datetime(2025, 1, 6, tzinfo=timezone.utc)
            >>> e = AccountEvent("acme", Snapshot(at=t, health=70), id="crm-1")
            >>> with stars.store.open("sqlite:///:memory:") as s:
            ...     r = s.ingest([e, e])
            ...     (r.accepted, r.duplicates, s.version("acme"))
            (1, 1, 1)
        """
        lc = lifecycle or self._lifecycle
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise InvalidValue("batch", batch, "a whole number at or above 1")
        accepted = duplicates = 0
        rejected: list[Rejected] = []
        touched: set[str] = set()
        chunk: list[tuple[int, AccountEvent]] = []
        seen_here: set[str] = set()

        def flush() -> None:
            nonlocal accepted, duplicates
            if not chunk:
                return
            for attempt in range(retries + 1):
                try:
                    a, d, r, t = self._ingest_batch(chunk, lc, seen_here)
                except ConcurrentModification:
                    if attempt == retries:
                        raise
                    continue
                accepted += a
                duplicates += d
                rejected.extend(r)
                touched.update(t)
                break
            chunk.clear()

        for i, event in enumerate(events):
            if not isinstance(event, AccountEvent):
                raise InvalidValue(f"events[{i}]", event, "an AccountEvent")
            chunk.append((i, event))
            if len(chunk) >= batch:
                flush()
        flush()
        return IngestResult(accepted, duplicates, tuple(rejected), len(touched))

    def _ingest_batch(
        self,
        chunk: Sequence[tuple[int, AccountEvent]],
        lc: Lifecycle,
        seen_before: set[str],
    ) -> tuple[int, int, list[Rejected], set[str]]:
        # Ids already seen (in the store, or earlier in this stream).
        ids = sorted({e.id for _, e in chunk if e.id is not None})
        stored_ids: set[str] = set()
        b = self._check_open()
        with b.lock:
            for part in _chunks(ids):
                stored_ids.update(
                    r[0]
                    for r in b.query(
                        "SELECT event_id FROM stars_seen WHERE tenant = ?"
                        f" AND event_id IN ({_marks(len(part))})",
                        (self._tenant, *part),
                    )
                )
        duplicates = 0
        fresh: list[tuple[int, AccountEvent]] = []
        local_seen = set(seen_before)
        for i, event in chunk:
            if event.id is not None:
                if event.id in stored_ids or event.id in local_seen:
                    duplicates += 1
                    continue
                local_seen.add(event.id)
            fresh.append((i, event))
        # The accounts, as stored now.
        accounts: dict[str, Account] = {}
        expected: dict[str, int] = {}
        for _, event in fresh:
            aid = event.account
            if aid not in accounts:
                try:
                    accounts[aid] = self.load(aid, lifecycle=lc)
                except UnknownName:
                    accounts[aid] = Account(aid)
                expected[aid] = accounts[aid].version
        # Apply, per account, in stream order; group runs for speed, one at a time on error.
        changes: dict[str, list[Any]] = {aid: [] for aid in accounts}
        event_ids: dict[str, list[str | None]] = {aid: [] for aid in accounts}
        rejected: list[Rejected] = []
        seen_rows: list[tuple[str, str, int | None, str]] = []
        by_account: dict[str, list[tuple[int, AccountEvent]]] = {}
        for item in fresh:
            by_account.setdefault(item[1].account, []).append(item)
        for aid, items in by_account.items():
            account = accounts[aid]
            try:
                account = _apply(lc, account, [e for _, e in items])
                applied = [(i, e, True, "") for i, e in items]
            except StarsError:
                applied = []
                for i, e in items:
                    try:
                        account = _apply(lc, account, [e])
                        applied.append((i, e, True, ""))
                    except StarsError as err:
                        applied.append((i, e, False, str(err)[:500]))
            accounts[aid] = account
            version = expected[aid]
            for i, e, ok, why in applied:
                if ok:
                    version += 1
                    changes[aid].append(e.event)
                    event_ids[aid].append(e.id)
                    if e.id is not None:
                        seen_rows.append((e.id, aid, version, "stored"))
                else:
                    rejected.append(Rejected(i, aid, e.id, why))
                    if e.id is not None:
                        seen_rows.append((e.id, aid, None, f"rejected: {why}"))
        plans = [
            _Plan(accounts[aid], expected[aid], changes[aid], event_ids[aid])
            for aid in accounts
            if changes[aid]
        ]
        self._write(plans, seen_rows)
        seen_before.update(local_seen)
        accepted = sum(len(p.changes) for p in plans)
        return accepted, duplicates, rejected, {p.account.id for p in plans}

    # -- bulk import -------------------------------------------------------------------
    def import_accounts(self, accounts: Iterable[Account], *, trusted: bool = False) -> int:
        """Store accounts the store does not hold yet, in one transaction (a bulk import).

        Without ``trusted``, each account's history is first walked through the store's
        lifecycle (every record must be one of its transitions, from where the account
        stood); with ``trusted=True`` the accounts are taken as already validated (built
        by `stars` itself with this lifecycle, say) and written straight away, the
        fastest way the driver offers.

        Returns:
            How many accounts were stored.

        Raises:
            ConcurrentModification: One of them is stored already (nothing is written).
            TransitionNotAllowed: Without ``trusted``, a record the lifecycle does not allow.

        Examples:
            >>> import stars.store
            >>> from stars import Account
            >>> with stars.store.open("sqlite:///:memory:") as s:
            ...     s.import_accounts([Account("a"), Account("b")], trusted=True)
            2
        """
        items = list(accounts)
        if not trusted:
            lc = self._lifecycle
            for i, account in enumerate(items):
                if not isinstance(account, Account):
                    raise InvalidValue(f"accounts[{i}]", account, "an Account")
                if len(account._history):
                    first = Account(account.id, stage=account.history[0].source)
                    lc.replay(account.id, account.history, start=first)
        plans = [_Plan(a, 0, [], []) for a in items]
        self._write(plans)
        return len(plans)

    # -- people --------------------------------------------------------------------------
    def forget(self, person: str) -> Forgotten:
        """Erase a person: their name and the free texts they wrote, never a change.

        Every change that named them keeps its place, version and position and now
        reads as ``"forgotten person #<id>"``; each reason they wrote reads as
        ``"[erased]"``. Every account still loads and replays to the same stages.
        (SQLite overwrites the erased bytes; on PostgreSQL run ``VACUUM`` to drop the
        old row versions.)

        Args:
            person: The person's name as it was stored (owner, actor, ``by``).

        Returns:
            How many names and texts were erased.

        Examples:
            >>> import stars.store
            >>> from stars import Account
            >>> with stars.store.open("sqlite:///:memory:") as s:
            ...     s.save(Account("acme", owner="dana"))
            ...     s.forget("dana"), s.load("acme").owner
            0
            (Forgotten(person='dana', names=1, texts=0), 'forgotten person #1')
        """
        v.text("person", person)
        b = self._check_open()
        with b.lock, b.writing():
            ids = [
                int(r[0])
                for r in b.query(
                    "SELECT id FROM stars_people WHERE tenant = ? AND name = ?",
                    (self._tenant, person),
                )
            ]
            texts = 0
            for pid in ids:
                texts += len(
                    b.query(
                        "SELECT id FROM stars_texts WHERE tenant = ? AND person = ?"
                        " AND text IS NOT NULL",
                        (self._tenant, pid),
                    )
                )
                b.execute(
                    "UPDATE stars_texts SET text = NULL WHERE tenant = ? AND person = ?",
                    (self._tenant, pid),
                )
                b.execute(
                    "UPDATE stars_people SET name = NULL, forgotten = ?"
                    " WHERE tenant = ? AND id = ?",
                    ("forgotten", self._tenant, pid),
                )
        return Forgotten(person, len(ids), texts)

    # -- units of work -----------------------------------------------------------------
    def session(self) -> Session:
        """A unit of work: change accounts, then store every change at once, or none.

        Inside ``with store.session() as s:`` load or create accounts through the session
        and change them (``s.fire``, ``s.observe``, ``s.reassign`` or any function, after
        ``s.add``). The lifecycle runs as usual, hooks included, with no lock and no
        transaction open. When the block ends without an exception, every change is
        saved in one transaction; then the ``on_commit`` callbacks run. If the block
        raises, or the save raises `ConcurrentModification`, nothing is stored and no
        callback runs: a hook that publishes belongs in ``on_commit`` or, better, in
        `relay`, which reads what was stored.

        Examples:
            >>> import stars.store
            >>> from datetime import datetime, timezone
            >>> t = datetime(2025, 1, 6, tzinfo=timezone.utc)
            >>> with stars.store.open("sqlite:///:memory:") as store:
            ...     with store.session() as s:
            ...         acme = s.new("acme")
            ...         _ = s.fire(acme, "sign", at=t, force=True, reason="paper contract")
            ...         s.on_commit(lambda: print("stored"))
            ...     store.load("acme").stage
            stored
            'seed'
        """
        return Session(self)


def _apply(lc: Lifecycle, account: Account, events: Sequence[AccountEvent]) -> Account:
    """``account`` with the events appended (records checked against the lifecycle)."""
    records = [e.event for e in events if isinstance(e.event, TransitionRecord)]
    snaps = [e.event for e in events if isinstance(e.event, Snapshot)]
    try:
        return lc.replay(account.id, records, snapshots=snaps, start=account)
    except (TransitionNotAllowed, OutOfOrder, InvalidValue):
        raise


class _Bulk:
    """Every change of a tenant, read in one query the first time any account needs one."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._rows: dict[tuple[str, str], list[tuple[str, str, str]]] | None = None
        self._names: c.Names | None = None

    def _all(self) -> dict[tuple[str, str], list[tuple[str, str, str]]]:
        if self._rows is None:
            store = self._store
            b = store._check_open()
            out: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
            with b.lock, b.reading():
                for subject, kind, schema, body in b.query(
                    "SELECT subject, kind, schema, body FROM stars_changes WHERE tenant = ?"
                    " ORDER BY subject, version",
                    (store._tenant,),
                ):
                    out.setdefault((subject, kind), []).append((kind, schema, body))
                self._names = store._all_names()
            self._rows = out
        return self._rows

    def loader(self, subject: str, kind: str) -> Callable[[int], Sequence[Any]]:
        def load(n: int) -> Sequence[Any]:
            rows = self._all().get((subject, kind), [])[:n]
            return self._store._decode_rows(rows, f"{subject}.{kind}", self._names)

        return load


class Session:
    """A unit of work over a store (see `Store.session`).

    Examples:
        >>> import stars.store
        >>> with stars.store.open("sqlite:///:memory:") as store:
        ...     with store.session() as s:
        ...         _ = s.new("acme")
        ...     "acme" in store
        True
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._accounts: dict[str, Account] = {}
        self._callbacks: list[Callable[[], object]] = []
        self.lifecycle = store._lifecycle

    def __enter__(self) -> Session:
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if kind is not None:
            self._accounts.clear()
            self._callbacks.clear()
            return
        self.commit()

    def load(self, account_id: str) -> Account:
        """Load an account and track it (see `Store.load`)."""
        if account_id in self._accounts:
            return self._accounts[account_id]
        account = self._store.load(account_id)
        self._accounts[account_id] = account
        return account

    def new(self, account_id: str, **fields: Any) -> Account:
        """Create an account (not yet stored) and track it."""
        account = self.lifecycle.new_account(account_id, **fields)
        return self.add(account)

    def add(self, account: Account) -> Account:
        """Track an account changed by any function (`stars.depth.record_depth`, say)."""
        if not isinstance(account, Account):
            raise InvalidValue("account", account, "an Account")
        self._accounts[account.id] = account
        return account

    def fire(self, account: Account, trigger: str, **kwargs: Any) -> TransitionRecord:
        """`Lifecycle.fire` on a tracked account."""
        self.add(account)
        return self.lifecycle.fire(account, trigger, **kwargs)

    def observe(self, account: Account, snapshot: Snapshot, **kwargs: Any) -> Snapshot:
        """`Lifecycle.observe` on a tracked account."""
        self.add(account)
        return self.lifecycle.observe(account, snapshot, **kwargs)

    def reassign(self, account: Account, owner: str, **kwargs: Any) -> OwnerChange:
        """`stars.reassign` on a tracked account."""
        from stars.account import reassign

        self.add(account)
        return reassign(account, owner, **kwargs)

    def on_commit(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` once the session's changes are stored (never if they are not)."""
        if not callable(callback):
            raise InvalidValue("callback", callback, "a callable taking no arguments")
        self._callbacks.append(callback)

    def commit(self) -> None:
        """Store every tracked account's changes in one transaction, then run the callbacks."""
        accounts = list(self._accounts.values())
        callbacks = list(self._callbacks)
        self._accounts.clear()
        self._callbacks.clear()
        if accounts:
            self._store.save_all(accounts)
        for callback in callbacks:
            callback()
