"""Facts that arrive late or get corrected: when something happened, apart from when it was known.

An `Account` takes its changes in time order and refuses one that is earlier than the
last (`OutOfOrder`): that keeps a live account honest. CRM facts do not arrive that way.
A support case is logged a week after the call, an export is re-run with last month's
renewals, a stage change is entered on the wrong account and fixed the next day.

A `Timeline` keeps every fact with two times: ``at``, when it happened, and
``recorded_at``, when it became known. Facts may arrive in any order; each account is
rebuilt from its facts in the order they happened, so a late fact lands in its place
and what depends on it (the stage, the history, the episodes, the time in stage) is
recomputed. A correction amends or retracts an earlier fact, with a reason, and is a fact
itself: asked "as of" a date before the correction, the timeline answers with what was
known then. That is what a backtest needs: judge each period only on what was known by
its end.

Examples:
    >>> from datetime import datetime, timezone
    >>> from stars import Event, Snapshot
    >>> from stars.timeline import Timeline
    >>> def day(n):
    ...     return datetime(2025, 1, n, tzinfo=timezone.utc)
    >>> tl = Timeline()
    >>> def fact(trigger, n, known):
    ...     return tl.record("acme", Event(trigger, day(n), forced=True, reason="crm"),
    ...                      recorded_at=day(known))
    >>> _ = fact("sign", 2, 2), fact("escalate", 20, 20)
    >>> late = fact("accelerate", 10, 25)  # happened on the 10th, known on the 25th
    >>> [r.dest for r in tl.account("acme").history]
    ['seed', 'accelerate', 'tact']
    >>> [r.dest for r in tl.account("acme", as_of=day(21)).history]  # before it was known
    ['seed', 'tact']
    >>> _ = tl.retract(late.id, recorded_at=day(26), reason="entered on the wrong account")
    >>> [r.dest for r in tl.account("acme").history]
    ['seed', 'tact']
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs

from stars import _validate as v
from stars.account import Account, OwnerChange, Snapshot
from stars.errors import InvalidValue, StarsError, UnknownName
from stars.lifecycle import STARS, Event, Lifecycle

if TYPE_CHECKING:
    from stars.portfolio import Portfolio

__all__ = ["Conflict", "Fact", "RecordResult", "Timeline"]

Item = Snapshot | Event | OwnerChange
#: At equal times, what a snapshot says is known before a transition it may explain.
_RANK: Final = {Snapshot: 0, OwnerChange: 1, Event: 2}


def _item(value: object, field: str = "item") -> Item:
    if not isinstance(value, Snapshot | Event | OwnerChange):
        raise InvalidValue(field, value, "a Snapshot, an Event or an OwnerChange")
    v.aware(f"{field}.at", value.at)
    return value


def _fingerprint(account_id: str, item: Item) -> str:
    """A stable id from the fact's content: the same fact sent twice has the same id."""
    from stars.io import dumps

    text = f"{account_id}\n{dumps(item)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


@attrs.frozen(slots=True)
class Fact:
    """One fact about an account, with when it happened and when it became known.

    A correction is a fact too: ``corrects`` names the fact it amends (``item`` is the
    replacement) or retracts (``item`` is ``None``), and ``reason`` says why.

    Attributes:
        id: The fact's id (given, or taken from its content).
        account: The account's id.
        item: What happened: a `Snapshot`, an `Event` or an `OwnerChange`; ``None`` for
            a retraction.
        recorded_at: When the fact became known (timezone-aware).
        corrects: The id of the fact this one amends or retracts, if any.
        reason: Why, for a correction.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import Snapshot
        >>> from stars.timeline import Fact
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> f = Fact("f1", "acme", Snapshot(at=t, health=70), recorded_at=t)
        >>> f.at == t, f.kind
        (True, 'snapshot')
    """

    id: str = attrs.field(validator=v.field(v.text))
    account: str = attrs.field(validator=v.field(v.text))
    item: Item | None = attrs.field()
    recorded_at: datetime = attrs.field(validator=v.field(v.aware))
    corrects: str | None = attrs.field(default=None, validator=v.field(v.optional_string))
    reason: str | None = attrs.field(default=None, validator=v.field(v.optional_string))

    def __attrs_post_init__(self) -> None:
        if self.item is None:
            if self.corrects is None:
                raise InvalidValue("item", None, "a fact, unless the fact retracts another")
        else:
            _item(self.item)
        if self.corrects is not None and not self.reason:
            raise InvalidValue("reason", self.reason, "a reason for every correction")

    @property
    def at(self) -> datetime | None:
        """When it happened (``None`` for a retraction, which happens when it is recorded).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.timeline import Fact
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> print(Fact("r", "acme", None, t, corrects="f1", reason="duplicate").at)
            None
        """
        return None if self.item is None else self.item.at

    @property
    def kind(self) -> Literal["snapshot", "event", "owner", "retraction"]:
        """What the fact is: ``snapshot``, ``event``, ``owner`` or ``retraction``.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import Event
            >>> from stars.timeline import Fact
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> Fact("e", "acme", Event("sign", t), t).kind
            'event'
        """
        if self.item is None:
            return "retraction"
        if isinstance(self.item, Snapshot):
            return "snapshot"
        return "event" if isinstance(self.item, Event) else "owner"


@attrs.frozen(slots=True)
class Conflict:
    """A fact that no longer fits where it happened, left out of the account with the reason.

    A late fact can make a later one impossible: a transition inserted before another may
    leave that one starting from a stage it cannot start from. The timeline keeps both
    facts, builds the account without the one that does not fit, and says so here.

    Attributes:
        fact: The fact left out.
        reason: Why it does not fit.
        error: The error applying the fact raised (``None`` when not kept), for a caller
            that refuses what does not fit instead of leaving it out.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import Event
        >>> from stars.timeline import Conflict, Fact
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> Conflict(Fact("e", "acme", Event("expand", t), t), "not from prospect").reason
        'not from prospect'
    """

    fact: Fact
    reason: str
    error: StarsError | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True)
class RecordResult:
    """What happened to a batch given to `Timeline.record_many`.

    Attributes:
        recorded: Facts that were new.
        duplicates: Facts whose id the timeline already held (a redelivery: not an error).
        late: New facts that happened before the latest fact already known for their account.
        rejected: Facts refused, with the reason (too late for the lateness window).

    Examples:
        >>> from stars.timeline import RecordResult
        >>> RecordResult(3, 1, 0, ()).recorded
        3
    """

    recorded: int
    duplicates: int
    late: int
    rejected: tuple[tuple[Fact, str], ...]


def _key(fact: Fact) -> tuple[datetime, int, str]:
    item = fact.item
    assert item is not None
    return (v.instant(item.at), _RANK[type(item)], fact.id)


class _Book:
    """One account's facts, and the account built from them (kept until a late fact)."""

    __slots__ = ("account", "conflicts", "facts", "last", "started")

    def __init__(self) -> None:
        self.facts: list[Fact] = []
        self.account: Account | None = None
        self.conflicts: list[Conflict] = []
        self.last: tuple[datetime, int, str] | None = None
        self.started = False


class Timeline:
    """Every fact about a set of accounts, in the order it happened, whatever order it came in.

    Args:
        lifecycle: The lifecycle the accounts follow (default ``STARS``).
        lateness: How late a fact may arrive, measured against the latest fact already
            known for its account; a later one is rejected (with a reason) instead of
            rewriting history that far back. ``None`` (the default) accepts any lateness.

    Examples:
        >>> from datetime import datetime, timedelta, timezone
        >>> from stars import Snapshot
        >>> from stars.timeline import Timeline
        >>> t = datetime(2025, 3, 1, tzinfo=timezone.utc)
        >>> tl = Timeline(lateness=timedelta(days=30))
        >>> _ = tl.record("acme", Snapshot(at=t, health=70), recorded_at=t)
        >>> result = tl.record_many([("acme", Snapshot(at=t - timedelta(days=90), health=50))],
        ...                         recorded_at=t)
        >>> result.rejected[0][1]
        'happened 90 days before the latest fact of acme, beyond the 30-day lateness window'
    """

    def __init__(self, lifecycle: Lifecycle = STARS, *, lateness: timedelta | None = None) -> None:
        if not isinstance(lifecycle, Lifecycle):
            raise InvalidValue("lifecycle", lifecycle, "a Lifecycle")
        if lateness is not None and (
            not isinstance(lateness, timedelta) or lateness < timedelta(0)
        ):
            raise InvalidValue("lateness", lateness, "a timedelta of zero or more, or None")
        self.lifecycle = lifecycle
        self.lateness = lateness
        self._books: dict[str, _Book] = {}
        self._by_id: dict[str, Fact] = {}
        self._profiles: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    # -- writing ------------------------------------------------------------------------
    def describe(
        self,
        account_id: str,
        *,
        name: str = "",
        owner: str | None = None,
        tags: Iterable[str] = (),
        since: datetime | None = None,
    ) -> None:
        """Set what the account is, apart from what happens to it (name, first owner, tags).

        Args:
            account_id: The account's id.
            name: Its display name.
            owner: Its owner before any recorded owner change.
            tags: Its tags.
            since: When the relationship started, for accounts imported mid-life.

        Examples:
            >>> from stars.timeline import Timeline
            >>> tl = Timeline()
            >>> tl.describe("acme", name="Acme", owner="dana")
            >>> tl.account("acme").owner
            'dana'
        """
        v.text("account_id", account_id)
        # An account checks the fields the same way it would for any account.
        checked = Account(account_id, name=name, owner=owner, tags=tags, since=since)
        profile: dict[str, Any] = {
            "name": checked.name,
            "owner": checked.owner,
            "tags": checked.tags,
            "since": checked.since,
        }
        with self._lock:
            self._profiles[account_id] = profile
            self._book(account_id).account = None

    def record(
        self, account_id: str, item: Item, *, recorded_at: datetime, id: str | None = None
    ) -> Fact:
        """Record one fact; a fact already held (same id) is returned as it was.

        Args:
            account_id: The account it is about.
            item: What happened.
            recorded_at: When it became known.
            id: The fact's id from its source (default: taken from its content, so the
                same fact sent twice is recorded once).

        Returns:
            The fact as held.

        Raises:
            InvalidValue: A bad argument, or a fact beyond the lateness window.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import Snapshot
            >>> from stars.timeline import Timeline
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> tl = Timeline()
            >>> a = tl.record("acme", Snapshot(at=t, health=70), recorded_at=t)
            >>> b = tl.record("acme", Snapshot(at=t, health=70), recorded_at=t)
            >>> a is b, len(tl.facts("acme"))
            (True, 1)
        """
        result = self._add([self._fact(account_id, item, recorded_at, id, None, None)])
        if result.rejected:
            fact, why = result.rejected[0]
            raise InvalidValue("item.at", fact.at, f"a time within the lateness window: {why}")
        return self._by_id[self._fact_id(account_id, item, id)]

    def record_many(
        self,
        items: Iterable[tuple[str, Item] | tuple[str, Item, str]],
        *,
        recorded_at: datetime,
    ) -> RecordResult:
        """Record a batch of ``(account_id, item)`` or ``(account_id, item, id)`` facts.

        Redelivered facts are counted, not errors; facts beyond the lateness window are
        rejected with a reason; nothing else stops the batch.

        Args:
            items: The facts.
            recorded_at: When the batch became known.

        Returns:
            How many were recorded, duplicated, late and rejected.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import Snapshot
            >>> from stars.timeline import Timeline
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> s = Snapshot(at=t, health=70)
            >>> Timeline().record_many([("a", s), ("a", s), ("b", s)], recorded_at=t).duplicates
            1
        """
        facts = []
        for i, entry in enumerate(items):
            if not isinstance(entry, tuple) or len(entry) not in (2, 3):
                raise InvalidValue(
                    f"items[{i}]", entry, "(account_id, item) or (account_id, item, id)"
                )
            account_id, item, *rest = entry
            facts.append(
                self._fact(account_id, item, recorded_at, rest[0] if rest else None, None, None)
            )
        return self._add(facts)

    def amend(self, fact_id: str, item: Item, *, recorded_at: datetime, reason: str) -> Fact:
        """Replace what an earlier fact said, from ``recorded_at`` on, with a reason.

        Args:
            fact_id: The fact to amend.
            item: What it should have said.
            recorded_at: When the correction became known.
            reason: Why.

        Returns:
            The correction, itself a fact.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import Snapshot
            >>> from stars.timeline import Timeline
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> tl = Timeline()
            >>> f = tl.record("acme", Snapshot(at=t, health=7), recorded_at=t)
            >>> _ = tl.amend(f.id, Snapshot(at=t, health=70), recorded_at=t, reason="typo")
            >>> tl.account("acme").latest.health
            70
        """
        original = self._known_fact(fact_id)
        fact = self._fact(original.account, item, recorded_at, None, fact_id, reason)
        self._add([fact])
        return self._by_id[fact.id]

    def retract(self, fact_id: str, *, recorded_at: datetime, reason: str) -> Fact:
        """Withdraw an earlier fact, from ``recorded_at`` on, with a reason.

        Args:
            fact_id: The fact to withdraw.
            recorded_at: When the retraction became known.
            reason: Why.

        Returns:
            The retraction, itself a fact.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import Snapshot
            >>> from stars.timeline import Timeline
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> tl = Timeline()
            >>> f = tl.record("acme", Snapshot(at=t, health=7), recorded_at=t)
            >>> _ = tl.retract(f.id, recorded_at=t, reason="wrong account")
            >>> tl.account("acme").snapshots
            ()
        """
        original = self._known_fact(fact_id)
        fact = self._fact(original.account, None, recorded_at, None, fact_id, reason)
        self._add([fact])
        return self._by_id[fact.id]

    # -- reading ------------------------------------------------------------------------
    def account(self, account_id: str, *, as_of: datetime | None = None) -> Account:
        """The account built from its facts, in the order they happened.

        Args:
            account_id: The account's id.
            as_of: Use only what was known by then (facts and corrections recorded at or
                before it); default everything.

        Returns:
            A new account (changing it does not change the timeline).

        Raises:
            UnknownName: The timeline knows nothing of the account.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import Snapshot
            >>> from stars.timeline import Timeline
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> tl = Timeline()
            >>> _ = tl.record("acme", Snapshot(at=t, health=70), recorded_at=t)
            >>> tl.account("acme").latest.health
            70
        """
        book = self._books.get(account_id) if isinstance(account_id, str) else None
        if book is None:
            raise UnknownName("account", account_id, sorted(self._books))
        if as_of is not None:
            as_of = v.aware("as_of", as_of)
            built, _ = self._build(account_id, self._effective(book.facts, as_of))
            return built
        with self._lock:
            if book.account is None:
                book.account, book.conflicts = self._build(
                    account_id, self._effective(book.facts, None)
                )
            return _copy(book.account)

    def accounts(self, *, as_of: datetime | None = None) -> dict[str, Account]:
        """Every account, built as `account` builds one.

        Examples:
            >>> from stars.timeline import Timeline
            >>> Timeline().accounts()
            {}
        """
        return {i: self.account(i, as_of=as_of) for i in sorted(self._books)}

    def portfolio(self, *, as_of: datetime | None = None) -> Portfolio:
        """A `Portfolio` of every account, as known at ``as_of`` (default: now).

        Examples:
            >>> from stars.timeline import Timeline
            >>> len(Timeline().portfolio())
            0
        """
        from stars.portfolio import Portfolio

        return Portfolio(self.accounts(as_of=as_of).values(), lifecycle=self.lifecycle)

    def facts(self, account_id: str | None = None) -> tuple[Fact, ...]:
        """The facts held, in the order they were recorded (one account's, or all).

        Examples:
            >>> from stars.timeline import Timeline
            >>> Timeline().facts()
            ()
        """
        if account_id is None:
            return tuple(self._by_id.values())
        book = self._books.get(account_id)
        return () if book is None else tuple(book.facts)

    def conflicts(self, account_id: str) -> tuple[Conflict, ...]:
        """The facts left out of the account because they no longer fit where they happened.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import Event
            >>> from stars.timeline import Timeline
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> tl = Timeline()
            >>> _ = tl.record("acme", Event("expand", t), recorded_at=t)
            >>> tl.conflicts("acme")[0].reason
            "account 'acme' in stage 'prospect' cannot 'expand'; allowed here: 'sign'"
        """
        self.account(account_id)
        return tuple(self._books[account_id].conflicts)

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Fact]:
        return iter(tuple(self._by_id.values()))

    def __repr__(self) -> str:
        return f"Timeline(accounts={len(self._books)}, facts={len(self._by_id)})"

    # -- internals ----------------------------------------------------------------------
    def _fact_id(self, account_id: str, item: Item | None, given: str | None) -> str:
        if given is not None:
            return v.text("id", given)
        assert item is not None
        return _fingerprint(account_id, item)

    def _fact(
        self,
        account_id: object,
        item: object,
        recorded_at: object,
        given: str | None,
        corrects: str | None,
        reason: str | None,
    ) -> Fact:
        account = v.text("account_id", account_id)
        when = v.aware("recorded_at", recorded_at)
        if item is None:
            assert corrects is not None
            fid = f"{corrects}/retracted@{when.isoformat()}"
            return Fact(fid, account, None, when, corrects, reason)
        checked = _item(item)
        if corrects is not None:
            fid = f"{corrects}/amended@{when.isoformat()}:{_fingerprint(account, checked)}"
            return Fact(fid, account, checked, when, corrects, reason)
        return Fact(self._fact_id(account, checked, given), account, checked, when)

    def _known_fact(self, fact_id: str) -> Fact:
        fact = self._by_id.get(fact_id) if isinstance(fact_id, str) else None
        if fact is None:
            raise UnknownName("fact", fact_id)
        return fact

    def _book(self, account_id: str) -> _Book:
        book = self._books.get(account_id)
        if book is None:
            book = self._books[account_id] = _Book()
        return book

    def _add(self, facts: list[Fact]) -> RecordResult:
        recorded = duplicates = late = 0
        rejected: list[tuple[Fact, str]] = []
        with self._lock:
            for fact in facts:
                if fact.id in self._by_id:
                    duplicates += 1
                    continue
                book = self._book(fact.account)
                if fact.corrects is None and book.last is not None:
                    key = _key(fact)
                    if key < book.last:
                        behind = book.last[0] - key[0]
                        if self.lateness is not None and behind > self.lateness:
                            rejected.append((fact, _too_late(fact, behind, self.lateness)))
                            continue
                        late += 1
                        book.account = None  # rebuilt, in order, on the next read
                    else:
                        self._extend(book, fact)
                    book.last = max(book.last, key)
                elif fact.corrects is None:
                    book.last = _key(fact)
                    self._extend(book, fact)
                else:
                    book.account = None
                book.facts.append(fact)
                self._by_id[fact.id] = fact
                recorded += 1
        return RecordResult(recorded, duplicates, late, tuple(rejected))

    def _extend(self, book: _Book, fact: Fact) -> None:
        """Apply an in-order fact to the account already built (no rebuild)."""
        account = book.account
        if account is None:
            return
        try:
            _apply(self.lifecycle, account, fact)
        except StarsError as err:
            book.conflicts.append(Conflict(fact, str(err), err))

    def _effective(self, facts: list[Fact], as_of: datetime | None) -> list[Fact]:
        """The facts that stand as of ``as_of``, each as last corrected, in time order."""
        known = [f for f in facts if as_of is None or not v.before(as_of, f.recorded_at)]
        standing: dict[str, Fact] = {}
        for fact in known:
            if fact.corrects is None:
                standing[fact.id] = fact
        for fact in sorted(
            (f for f in known if f.corrects is not None), key=lambda f: v.instant(f.recorded_at)
        ):
            root = _root(fact.corrects, self._by_id)
            if root not in standing:
                continue
            if fact.item is None:
                del standing[root]
            else:
                standing[root] = attrs.evolve(standing[root], item=fact.item)
        return sorted(standing.values(), key=_key)

    def _build(self, account_id: str, facts: list[Fact]) -> tuple[Account, list[Conflict]]:
        profile = self._profiles.get(account_id, {})
        account = Account(account_id, **profile)
        conflicts: list[Conflict] = []
        for fact in facts:
            try:
                _apply(self.lifecycle, account, fact)
            except StarsError as err:
                conflicts.append(Conflict(fact, str(err), err))
        return account, conflicts


def _root(fact_id: str | None, by_id: Mapping[str, Fact]) -> str | None:
    """The original fact a chain of corrections goes back to."""
    seen = set()
    while fact_id is not None and fact_id in by_id and by_id[fact_id].corrects is not None:
        if fact_id in seen:  # pragma: no cover - ids are built so a cycle cannot happen
            break
        seen.add(fact_id)
        fact_id = by_id[fact_id].corrects
    return fact_id


def _too_late(fact: Fact, behind: timedelta, window: timedelta) -> str:
    return (
        f"happened {behind.days} days before the latest fact of {fact.account}, "
        f"beyond the {window.days}-day lateness window"
    )


def _apply(lc: Lifecycle, account: Account, fact: Fact) -> None:
    """Append one fact to an account built so far (the facts come in time order)."""
    item = fact.item
    if isinstance(item, Snapshot):
        account._append_snapshot(item)
    elif isinstance(item, Event):
        account._append_record(lc.record(account.stage, item, account_id=account.id))
    elif isinstance(item, OwnerChange):
        if item.owner == account.owner:
            raise InvalidValue("owner", item.owner, "a different owner than the current one")
        account._append_owner(attrs.evolve(item, previous=account.owner))


def _copy(account: Account) -> Account:
    # The histories are append-only views: the copy shares them, and either side's next
    # append forks its own (see stars._log), so a copy costs the same for any length.
    return copy.copy(account)
