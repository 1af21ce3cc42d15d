"""The account values and the helpers that build them without re-checking.

`stars.account` is the public face of this module. The unchecked builders
(`_record_unchecked`, `_account_unchecked`, the slot setters) and `_need_account`
live here so that the lifecycle, frames, store and the other domain modules share one
definition without reaching into a public module's private names.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from stars import _validate as v
from stars._engine import commit
from stars._log import Log, append
from stars._shown import article as _a
from stars._snapshot import CARRIED, Snapshot
from stars.errors import InvalidValue, OutOfOrder
from stars.stages import Cycle, stage_name

if TYPE_CHECKING:
    from stars._pending import PendingHistory

__all__ = [
    "Account",
    "DepthPoint",
    "OwnerChange",
    "TransitionRecord",
    "reassign",
]

#: A snapshot's standing facts, in the order of `CARRIED` (one C call, not five getattr).
_carried_flags: Callable[[Snapshot], tuple[bool | None, ...]] = operator.attrgetter(*CARRIED)
_NO_FLAGS: tuple[bool | None, ...] = (None,) * len(CARRIED)


def _to_cycle(value: object) -> Cycle:
    if isinstance(value, Cycle):
        return value
    if isinstance(value, str) and value in Cycle._value2member_map_:
        return Cycle(value)
    raise InvalidValue("cycle", value, "'growth', 'recovery' or 'crisis'")


@attrs.frozen(slots=True)
class TransitionRecord:
    """One applied transition. Records are immutable and appended in time order.

    Attributes:
        trigger: The trigger that fired.
        source: The stage the account left.
        dest: The stage the account entered.
        cycle: The cycle the transition belongs to.
        at: When it happened (timezone-aware).
        actor: Who made it happen, if known.
        reason: Why, if given (always given when forced).
        forced: Whether a guard was overridden.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import Cycle, TransitionRecord
        >>> r = TransitionRecord("sign", "prospect", "seed", Cycle.GROWTH,
        ...                      datetime(2025, 1, 1, tzinfo=timezone.utc))
        >>> r.source, r.dest, r.forced
        ('prospect', 'seed', False)
    """

    trigger: str
    source: str
    dest: str
    cycle: Cycle = attrs.field(converter=_to_cycle)
    at: datetime = attrs.field(validator=v.field(v.aware))
    actor: str | None = None
    reason: str | None = None
    forced: bool = False

    def __attrs_post_init__(self) -> None:
        for name in ("trigger", "source", "dest"):
            v.text(name, getattr(self, name))
        _r_source(self, stage_name(self.source))
        _r_dest(self, stage_name(self.dest))
        for name in ("actor", "reason"):
            v.optional_string(name, getattr(self, name))
        v.flag("forced", self.forced)
        if self.forced and not self.reason:
            raise InvalidValue("reason", self.reason, "a reason whenever forced=True")


_set = object.__setattr__
_new = object.__new__
# The slots' own descriptors: writing through them skips the frozen __setattr__.
(
    _r_trigger,
    _r_source,
    _r_dest,
    _r_cycle,
    _r_at,
    _r_actor,
    _r_reason,
    _r_forced,
) = (
    TransitionRecord.__dict__[name].__set__
    for name in ("trigger", "source", "dest", "cycle", "at", "actor", "reason", "forced")
)


def _record_unchecked(
    trigger: str,
    source: str,
    dest: str,
    cycle: Cycle,
    at: datetime,
    actor: str | None,
    reason: str | None,
    forced: bool,
) -> TransitionRecord:
    """Build a record from values the caller has already validated (the lifecycle's hot path)."""
    record = _new(TransitionRecord)
    _r_trigger(record, trigger)
    _r_source(record, source)
    _r_dest(record, dest)
    _r_cycle(record, cycle)
    _r_at(record, at)
    _r_actor(record, actor)
    _r_reason(record, reason)
    _r_forced(record, forced)
    return record


def _records(history: Any) -> Sequence[TransitionRecord]:
    """An account's history slot as a sequence of records.

    The slot holds a tuple or a `Log`, or for an account built from a frame a
    `stars._pending.PendingHistory` that builds its records once, on demand.
    """
    kind = type(history)
    if kind is Log or kind is tuple:
        return history  # type: ignore[no-any-return]
    return history.build()  # type: ignore[no-any-return]


def _last_at(history: Any) -> datetime:
    return history.last_at()  # type: ignore[no-any-return]


@attrs.frozen(slots=True)
class DepthPoint:
    """A relationship depth observed at a time (see `stars.depth`).

    Attributes:
        at: When the depth was assessed (timezone-aware).
        depth: The depth's name, e.g. ``"basic"``.
        side: Whose view it is: ``"agreed"``, ``"vendor"`` or ``"customer"``.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import DepthPoint
        >>> DepthPoint(datetime(2025, 1, 1, tzinfo=timezone.utc), "basic").side
        'agreed'
    """

    at: datetime = attrs.field(validator=v.field(v.aware))
    depth: str = attrs.field(validator=v.field(v.text))
    side: str = attrs.field(default="agreed")

    @side.validator
    def _check_side(self, attribute: Any, value: Any) -> None:
        if value not in ("agreed", "vendor", "customer"):
            raise InvalidValue("side", value, "'agreed', 'vendor' or 'customer'")


@attrs.frozen(slots=True)
class OwnerChange:
    """The account passed from one owner to another (see `reassign`).

    Attributes:
        at: When the new owner took over (timezone-aware).
        owner: The new owner.
        previous: The owner before, ``None`` when the account had none.
        by: Who made the change, if known.
        reason: Why, if given.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import OwnerChange
        >>> c = OwnerChange(datetime(2025, 3, 1, tzinfo=timezone.utc), "lee", "dana", by="mia")
        >>> c.previous, c.owner, c.by
        ('dana', 'lee', 'mia')
    """

    at: datetime = attrs.field(validator=v.field(v.aware))
    owner: str = attrs.field(validator=v.field(v.text))
    previous: str | None = attrs.field(default=None, validator=v.field(v.optional_string))
    by: str | None = attrs.field(default=None, validator=v.field(v.optional_string))
    reason: str | None = attrs.field(default=None, validator=v.field(v.optional_string))


def _tags(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValue("tags", value, "an iterable of strings")
    items = list(value)
    if not items:
        return _NO_TAGS  # one shared empty set: most accounts have no tags
    for tag in items:
        v.text("tags", tag)
    return value if isinstance(value, frozenset) else frozenset(items)


_NO_TAGS: frozenset[str] = frozenset()


def _tuple(value: Iterable[Any]) -> Sequence[Any]:
    if type(value) is Log or type(value) is tuple:
        return value  # both are immutable already
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidValue("sequence", value, "a sequence of values")
    return tuple(value)


def _check_version(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise InvalidValue("version", value, "a whole number at or above 0, or None")


def _check_id(instance: Any, attribute: Any, value: Any) -> None:
    v.text("id", value)


_check_since = v.field(v.aware, optional=True)


@attrs.define(slots=True, eq=True, repr=False)
class Account:
    """One customer relationship: its stage, its signals and its history.

    Create accounts freely; change their stage only through a
    `Lifecycle` (``fire``, ``observe``, ``replay``), which keeps stage,
    history and version consistent.

    Args:
        id: A unique, non-empty identifier.
        name: A display name.
        owner: Who owns the account on the vendor side.
        tags: Free labels (segment, region, ...).
        since: When the relationship started, for accounts imported mid-life.
        stage: The current stage (default ``"prospect"``). Must agree with ``history``.
            A STARS stage may be written in any case and spacing, or by its
            situation (``"Turnaround"``), and is stored by its name; a typo of
            one is refused with a "did you mean". Other names are kept as given,
            for custom lifecycles.
        snapshots: Observed signals, in time order.
        history: Applied transitions, in time order, each starting where the previous ended.
        depths: Relationship depth observations, in time order.
        owners: Changes of owner, in time order (see `reassign`); ``owner``, when given
            with them, must be the last change's.
        version: The number of recorded changes (transitions, snapshots, depth points and
            owner changes);
            leave it out to have it derived. A version that disagrees is refused.

    Examples:
        >>> from stars import Account
        >>> a = Account("acme", tags={"emea", "enterprise"})
        >>> sorted(a.tags)
        ['emea', 'enterprise']
        >>> a.latest is None
        True
        >>> Account("")
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: id: got '', expected a non-empty string
    """

    id: str = attrs.field(validator=_check_id)
    name: str = attrs.field(default="", validator=v.field(v.optional_string))
    _owner: str | None = attrs.field(
        default=None,
        alias="owner",
        validator=v.field(v.optional_string),
        on_setattr=attrs.setters.NO_OP,
    )
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_tags)
    since: datetime | None = attrs.field(default=None, validator=_check_since)
    # Private state changes only through the lifecycle, which validates before it writes,
    # so these fields skip attrs' on-setattr hooks (they sit on the hot path of fire()).
    _stage: str = attrs.field(default="prospect", alias="stage", on_setattr=attrs.setters.NO_OP)
    # Each of these holds a tuple until the first append, then a `Log` (O(1) appends);
    # an account built from a frame holds a PendingHistory until its history is first read.
    _snapshots: Sequence[Snapshot] = attrs.field(
        default=(), converter=_tuple, alias="snapshots", on_setattr=attrs.setters.NO_OP
    )
    _history: Sequence[TransitionRecord] = attrs.field(
        default=(),
        converter=_tuple,
        alias="history",
        on_setattr=attrs.setters.NO_OP,
        eq=lambda history: _records(history),
    )
    _depths: Sequence[DepthPoint] = attrs.field(
        default=(), converter=_tuple, alias="depths", on_setattr=attrs.setters.NO_OP
    )
    _owners: Sequence[OwnerChange] = attrs.field(
        default=(), converter=_tuple, alias="owners", on_setattr=attrs.setters.NO_OP
    )
    _version: int = attrs.field(
        default=None,
        alias="version",
        on_setattr=attrs.setters.NO_OP,
        validator=_check_version,
    )
    # What the tenure guard found so far: (kind_of, records scanned, customer since).
    _memo: tuple[Any, int, datetime | None] | None = attrs.field(
        default=None, init=False, eq=False, repr=False, on_setattr=attrs.setters.NO_OP
    )
    # The standing facts after the first n snapshots: (n, one value per CARRIED flag).
    _carry: tuple[int, tuple[bool | None, ...]] | None = attrs.field(
        default=None, init=False, eq=False, repr=False, on_setattr=attrs.setters.NO_OP
    )

    def __attrs_post_init__(self) -> None:
        v.text("stage", self._stage)
        _set(self, "_stage", stage_name(self._stage))
        _check_ordered("snapshot", self._snapshots, Snapshot)
        _check_ordered("depth", self._depths, DepthPoint)
        _check_chain(self._history, self._stage)
        _check_owners(self)
        changes = len(self._history) + len(self._snapshots) + len(self._depths) + len(self._owners)
        given: int | None = self._version  # None (the default) means: derive it
        if given is None:
            _set(self, "_version", changes)
        elif given != changes:
            raise InvalidValue(
                "version",
                given,
                f"{changes}, the number of recorded changes ({len(self._history)} transitions,"
                f" {len(self._snapshots)} snapshots, {len(self._depths)} depth points,"
                f" {len(self._owners)} owner changes)",
                hint="leave version out to have it derived",
            )

    @property
    def owner(self) -> str | None:
        """Who owns the account now (change it with `reassign`, which keeps the history).

        Examples:
            >>> from stars import Account
            >>> Account("a", owner="dana").owner
            'dana'
        """
        return self._owner

    @property
    def owners(self) -> Sequence[OwnerChange]:
        """Every change of owner, in time order (see `reassign`).

        Examples:
            >>> from stars import Account
            >>> Account("a", owner="dana").owners
            ()
        """
        return self._owners

    @property
    def stage(self) -> str:
        """The current stage's name (compares equal to a `Stage`).

        Examples:
            >>> from stars import Account, Stage
            >>> Account("a").stage == Stage.PROSPECT
            True
        """
        return self._stage

    @property
    def snapshots(self) -> Sequence[Snapshot]:
        """Observed signals, oldest first.

        Examples:
            >>> from stars import Account
            >>> Account("a").snapshots
            ()
        """
        return self._snapshots

    @property
    def history(self) -> Sequence[TransitionRecord]:
        """Applied transitions, oldest first, as an immutable sequence (a tuple or a `Log`).

        Examples:
            >>> from stars import Account
            >>> Account("a").history
            ()
        """
        history = self._history
        kind = type(history)
        if kind is not Log and kind is not tuple:
            history = _records(history)
            _set(self, "_history", history)
        return history

    @property
    def depths(self) -> Sequence[DepthPoint]:
        """Relationship depth observations, oldest first.

        Examples:
            >>> from stars import Account
            >>> Account("a").depths
            ()
        """
        return self._depths

    @property
    def version(self) -> int:
        """A counter that increases by one with every change (for optimistic concurrency).

        Examples:
            >>> from stars import Account
            >>> Account("a").version
            0
        """
        return self._version

    @property
    def latest(self) -> Snapshot | None:
        """The most recent snapshot, or ``None``.

        Examples:
            >>> from stars import Account
            >>> print(Account("a").latest)
            None
        """
        return self._snapshots[-1] if self._snapshots else None

    def known(self, at: datetime | None = None) -> Snapshot | None:
        """What is known about the account at ``at``: its latest snapshot, standing facts filled in.

        The latest snapshot at or before ``at`` (default: the latest), with each standing
        flag it does not report (``None``) taken from the last earlier snapshot that did.
        The lifecycle's evidence and guards read this, not `latest`.

        Args:
            at: The time to look from (timezone-aware); default the latest snapshot.

        Returns:
            The snapshot as known, or ``None`` when there is none by then.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import Account, Snapshot
            >>> t = [datetime(2025, m, 1, tzinfo=timezone.utc) for m in (1, 2, 3)]
            >>> a = Account("a", snapshots=[Snapshot(at=t[0], success_metrics_agreed=True),
            ...                             Snapshot(at=t[1], health=80),
            ...                             Snapshot(at=t[2], health=75, expansion_open=False)])
            >>> a.latest.success_metrics_agreed is None, a.known().success_metrics_agreed
            (True, True)
            >>> print(a.known(t[0]).health, a.known(t[2]).expansion_open)
            None False
        """
        snaps = self._snapshots
        end = len(snaps)
        if at is not None:
            at = v.aware("at", at)
            while end and v.before(at, snaps[end - 1].at):
                end -= 1
        return self._known(end)

    def _known(self, end: int) -> Snapshot | None:
        """The ``end``-th snapshot with the standing facts carried into it."""
        if not end:
            return None
        last = self._snapshots[end - 1]
        own = _carried_flags(last)
        if None not in own:  # it says every standing fact itself
            return last
        values = self._carried(end)
        fill: dict[str, Any] = {
            name: value
            for name, value, mine in zip(CARRIED, values, own, strict=True)
            if value is not None and mine is None
        }
        return attrs.evolve(last, **fill) if fill else last

    def _carried(self, end: int) -> tuple[bool | None, ...]:
        # Folded forward and kept for the whole list (appends then cost one step); a
        # look into the past folds the prefix it needs without keeping it.
        snaps = self._snapshots
        memo = self._carry
        start, values = (0, _NO_FLAGS) if memo is None else memo
        if start > end:
            start, values = 0, _NO_FLAGS
        if start < end:
            current = list(values)
            for i in range(start, end):
                for k, value in enumerate(_carried_flags(snaps[i])):
                    if value is not None:
                        current[k] = value
            values = tuple(current)
        if end == len(snaps):
            _set(self, "_carry", (end, values))
        return values

    @property
    def stage_since(self) -> datetime | None:
        """When the account entered its current stage, if known.

        It is the time of the last transition, or ``since`` when there is no history.

        Examples:
            >>> from stars import Account
            >>> print(Account("a").stage_since)
            None
        """
        history = self._history
        if not history:
            return self.since
        kind = type(history)
        if kind is not Log and kind is not tuple:
            return _last_at(history)
        return history[-1].at

    def __repr__(self) -> str:
        return (
            f"Account(id={self.id!r}, stage={self._stage!r}, snapshots={len(self._snapshots)},"
            f" history={len(self._history)}, version={self._version})"
        )

    def _repr_html_(self) -> str:
        from stars._account_html import account_html

        return account_html(self)

    def __getstate__(self) -> dict[str, Any]:
        # The tenure memo caches a scan for one live lifecycle; it is not part of the value,
        # so pickles and copies leave it out (it may hold a lifecycle, which has locks).
        return {name: getattr(self, name) for name in _STATE}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        for name, value in state.items():
            _set(self, name, value)
        _set(self, "_memo", None)
        _set(self, "_carry", None)

    # -- internal mutation: only through stars._engine.commit, under the account's lock ----
    def _append_snapshot(self, snapshot: Snapshot) -> None:
        self._append_dated("_snapshots", "snapshot", snapshot)

    def _append_record(self, record: TransitionRecord) -> None:
        _set(self, "_history", append(self.history, record))
        _set(self, "_stage", record.dest)
        _set(self, "_version", self._version + 1)

    def _append_depth(self, point: DepthPoint) -> None:
        self._append_dated("_depths", "depth", point)

    def _append_owner(self, change: OwnerChange) -> None:
        self._append_dated("_owners", "owner change", change)
        _set(self, "_owner", change.owner)

    def _append_dated(
        self, slot: str, what: str, item: Snapshot | DepthPoint | OwnerChange
    ) -> None:
        items: Sequence[Snapshot | DepthPoint | OwnerChange] = getattr(self, slot)
        if items and v.before(item.at, items[-1].at):
            raise OutOfOrder(what, item.at.isoformat(), items[-1].at.isoformat())
        _set(self, slot, append(items, item))
        _set(self, "_version", self._version + 1)


_STATE = tuple(f.name for f in attrs.fields(Account) if f.name not in ("_memo", "_carry"))


def _need_account(value: object) -> Account:
    """Refuse anything that is not an Account, naming the argument (shared by the modules)."""
    if not isinstance(value, Account):
        raise InvalidValue("account", value, "an Account")
    return value


def _check_ordered(what: str, items: Sequence[Any], kind: type[Any]) -> None:
    previous: datetime | None = None
    item: Any
    for i, item in enumerate(items):
        if not isinstance(item, kind):
            raise InvalidValue(f"{what}s[{i}]", item, _a(kind.__name__))
        if previous is not None and v.before(item.at, previous):
            raise OutOfOrder(what, item.at.isoformat(), previous.isoformat())
        previous = item.at


def _check_owners(account: Account) -> None:
    owners = account._owners
    _check_ordered("owner change", owners, OwnerChange)
    for i in range(1, len(owners)):
        if owners[i].previous != owners[i - 1].owner:
            raise InvalidValue(
                f"owners[{i}].previous",
                owners[i].previous,
                f"{owners[i - 1].owner!r}, the owner the change before gave the account",
            )
    if owners:
        current = owners[-1].owner
        if account._owner is not None and account._owner != current:
            raise InvalidValue("owner", account._owner, f"{current!r}, the last owner change's")
        _set(account, "_owner", current)


def reassign(
    account: Account,
    owner: str,
    *,
    at: datetime,
    by: str | None = None,
    reason: str | None = None,
    expected_version: int | None = None,
) -> OwnerChange:
    """Hand the account to a new owner, keeping who owned it before and who decided.

    The change is appended to `Account.owners` and counts as one change of the
    account's version. It is atomic for the account: two threads reassigning at once
    each record the owner they replaced, in order.

    Args:
        account: The account.
        owner: The new owner.
        at: When the new owner takes over (timezone-aware, not before the last change).
        by: Who made the change.
        reason: Why.
        expected_version: Refuse with `ConcurrentModification` unless the account is at
            this version.

    Returns:
        The recorded change.

    Raises:
        InvalidValue: For a bad argument, or when ``owner`` already owns the account.
        OutOfOrder: When ``at`` is before the last owner change.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import Account, reassign
        >>> a = Account("acme", owner="dana")
        >>> change = reassign(a, "lee", at=datetime(2025, 3, 1, tzinfo=timezone.utc), by="mia")
        >>> a.owner, change.previous, a.version
        ('lee', 'dana', 1)
    """
    _need_account(account)
    v.text("owner", owner)
    at = v.aware("at", at)
    v.optional_string("by", by)
    v.optional_string("reason", reason)
    read = v.expected_version(expected_version)

    def write() -> OwnerChange:
        previous = account._owner
        if previous == owner:
            raise InvalidValue("owner", owner, "a different owner than the current one")
        change = OwnerChange(at, owner, previous, by, reason)
        account._append_owner(change)
        return change

    return commit(account, account.id, read, write)


def _check_chain(history: Sequence[TransitionRecord], stage: str) -> None:
    previous: TransitionRecord | None = None
    for i, record in enumerate(history):
        if not isinstance(record, TransitionRecord):
            raise InvalidValue(f"history[{i}]", record, "a TransitionRecord")
        if previous is not None:
            if record.source != previous.dest:
                raise InvalidValue(
                    f"history[{i}].source", record.source, f"{previous.dest!r} (previous dest)"
                )
            if v.before(record.at, previous.at):
                raise OutOfOrder("transition", record.at.isoformat(), previous.at.isoformat())
        previous = record
    if previous is not None and previous.dest != stage:
        raise InvalidValue("stage", stage, f"{previous.dest!r}, the last record's dest")


(
    _a_id,
    _a_name,
    _a_owner,
    _a_owners,
    _a_tags,
    _a_since,
    _a_stage,
    _a_snapshots,
    _a_history,
    _a_depths,
    _a_version,
    _a_memo,
    _a_carry,
) = (
    Account.__dict__[name].__set__
    for name in (
        "id",
        "name",
        "_owner",
        "_owners",
        "tags",
        "since",
        "_stage",
        "_snapshots",
        "_history",
        "_depths",
        "_version",
        "_memo",
        "_carry",
    )
)


def _account_unchecked(
    account_id: str,
    name: str,
    owner: str | None,
    tags: frozenset[str],
    since: datetime | None,
    stage: str,
    history: Sequence[TransitionRecord] | PendingHistory,
    version: int,
) -> Account:
    """Build an account from values the caller has already checked (the frames' batch path)."""
    account = _new(Account)
    _a_id(account, account_id)
    _a_name(account, name)
    _a_owner(account, owner)
    _a_owners(account, ())
    _a_tags(account, tags)
    _a_since(account, since)
    _a_stage(account, stage)
    _a_snapshots(account, ())
    _a_history(account, history)
    _a_depths(account, ())
    _a_version(account, version)
    _a_memo(account, None)
    _a_carry(account, None)
    return account
