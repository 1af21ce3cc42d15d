"""What the lifecycle hands back and to hooks: `Verdict`, `Event`, `HookEvent`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from stars.account import (
    Account,
    Snapshot,
    TransitionRecord,
)
from stars.lifecycle._guards import GuardContext
from stars.lifecycle._policy import Policy
from stars.stages import Cycle, StageKind

if TYPE_CHECKING:
    from stars.lifecycle._diagnosis import Evidence
    from stars.lifecycle._lifecycle import Lifecycle


# --------------------------------------------------------------------------- results
@attrs.frozen(slots=True)
class Verdict:
    """Whether a trigger may fire now, where it would lead, and why not if it may not.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import STARS, Account
        >>> v = STARS.check(Account("a"), "sign", at=datetime(2025, 1, 1, tzinfo=timezone.utc))
        >>> v.allowed, v.destination, v.reasons
        (False, 'seed', ('no contract start is recorded',))
    """

    trigger: str
    source: str
    allowed: bool
    destination: str | None
    reasons: tuple[str, ...] = ()


@attrs.frozen(slots=True)
class Event:
    """A trigger to apply during `Lifecycle.replay` (when you have events, not records).

    Attributes:
        trigger: The trigger.
        at: When it happened.
        actor: Who did it.
        reason: Why (required when forced).
        forced: Whether it overrode a guard.
        to: The destination, when the trigger has several (default: the first in definition order).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import Event
        >>> Event("sign", datetime(2025, 1, 1, tzinfo=timezone.utc)).forced
        False
    """

    trigger: str
    at: datetime
    actor: str | None = None
    reason: str | None = None
    forced: bool = False
    to: str | None = None


@attrs.frozen(slots=True, eq=False)
class HookEvent:
    """What a lifecycle hook receives.

    ``record`` is ``None`` in before-hooks and exit-hooks (nothing is committed yet) and
    the new `TransitionRecord` in enter-, after- and cycle-hooks. ``machine`` is the
    `Lifecycle` that ran the transition; ``subject`` is the account (the name every
    machine's event shares).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import STARS, Account, Snapshot
        >>> seen = []
        >>> lc = STARS.evolve()
        >>> @lc.after("sign")
        ... def note(event):
        ...     seen.append((event.source, event.dest, event.record.trigger))
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> a = Account("a")
        >>> _ = lc.observe(a, Snapshot(at=t, contract_signed=True))
        >>> _ = lc.fire(a, "sign", at=t)
        >>> seen
        [('prospect', 'seed', 'sign')]
    """

    account: Account
    trigger: str
    source: str
    dest: str
    cycle: Cycle
    at: datetime
    actor: str | None
    reason: str | None
    forced: bool
    record: TransitionRecord | None
    machine: Lifecycle | None = None

    @property
    def subject(self) -> Account:
        """The account the transition moves (the same as ``account``).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import Account, Cycle, HookEvent
            >>> a = Account("a")
            >>> e = HookEvent(a, "sign", "prospect", "seed", Cycle.GROWTH,
            ...               datetime(2025, 1, 1, tzinfo=timezone.utc), None, None, False, None)
            >>> e.subject is a
            True
        """
        return self.account


def _slot_setters(cls: type[Any], names: tuple[str, ...]) -> tuple[Callable[[Any, Any], None], ...]:
    return tuple(cls.__dict__[name].__set__ for name in names)


_new = object.__new__
(_c_account, _c_snapshot, _c_policy, _c_at, _c_trigger, _c_dest, _c_reason, _c_kind_of) = (
    _slot_setters(
        GuardContext,
        ("account", "snapshot", "policy", "at", "trigger", "dest", "reason", "kind_of"),
    )
)
(
    _e_account,
    _e_trigger,
    _e_source,
    _e_dest,
    _e_cycle,
    _e_at,
    _e_actor,
    _e_reason,
    _e_forced,
    _e_record,
    _e_machine,
) = _slot_setters(
    HookEvent,
    (
        "account",
        "trigger",
        "source",
        "dest",
        "cycle",
        "at",
        "actor",
        "reason",
        "forced",
        "record",
        "machine",
    ),
)


def _guard_context(
    account: Account,
    snapshot: Snapshot | None,
    policy: Policy,
    at: datetime,
    trigger: str,
    dest: str,
    reason: str | None,
    kind_of: Callable[[str], StageKind] | None,
) -> GuardContext:
    # Built from values fire() has already checked, straight into the slots (hot path).
    ctx = _new(GuardContext)
    _c_account(ctx, account)
    _c_snapshot(ctx, snapshot)
    _c_policy(ctx, policy)
    _c_at(ctx, at)
    _c_trigger(ctx, trigger)
    _c_dest(ctx, dest)
    _c_reason(ctx, reason)
    _c_kind_of(ctx, kind_of)
    return ctx


def _hook_event(
    account: Account,
    trigger: str,
    source: str,
    dest: str,
    cycle: Cycle,
    at: datetime,
    actor: str | None,
    reason: str | None,
    forced: bool,
    record: TransitionRecord | None,
    machine: Lifecycle,
) -> HookEvent:
    event = _new(HookEvent)
    _e_account(event, account)
    _e_trigger(event, trigger)
    _e_source(event, source)
    _e_dest(event, dest)
    _e_cycle(event, cycle)
    _e_at(event, at)
    _e_actor(event, actor)
    _e_reason(event, reason)
    _e_forced(event, forced)
    _e_record(event, record)
    _e_machine(event, machine)
    return event


def _raw_fields(snapshot: Snapshot, measures: Mapping[str, float | None]) -> dict[str, Any]:
    """Keep the raw measures on the snapshot: its own fields where names match, else metrics.

    Values the snapshot already carries win; missing (``None``) measures are not stored.
    """
    fields: dict[str, Any] = {}
    metrics = dict(snapshot.metrics)
    for name, value in measures.items():
        if value is None:
            continue
        if name in _SNAPSHOT_NUMBERS:
            if getattr(snapshot, name) is None:
                fields[name] = value
        else:
            metrics.setdefault(name, value)
    if len(metrics) != len(snapshot.metrics):
        fields["metrics"] = metrics
    return fields


_SNAPSHOT_NUMBERS = frozenset(
    ("adoption", "nps", "csat", "open_tickets", "days_since_contact", "sentiment")
)


# --------------------------------------------------------------------------- engine
Hook = Callable[[HookEvent], None]
H = TypeVar("H", bound=Hook)
Diagnoser = Callable[["Evidence", Policy], tuple[str | None, tuple[str, ...]]]
