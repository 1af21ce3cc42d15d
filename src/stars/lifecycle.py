"""The lifecycle engine: stages, guarded transitions, hooks, history, replay and diagnosis.

A `Lifecycle` is built once from a definition (stages, transitions with guards,
a `Policy` of thresholds), checked when it is built, and then shared: it holds
no accounts. ``stars.STARS`` is the default STARS lifecycle.

It runs on `stars._engine`, which it shares with the journey and the recovery process.
Firing a trigger reads the account's version, evaluates the guards (the first destination
whose guards pass wins), runs the before- and exit-hooks, commits the record under the
account's own short lock if the version is unchanged, and then runs the enter-, after- and
cycle-hooks; no lock is held while hooks run. Each definition is also built once as a
``transitions.Machine`` (``auto_transitions=False``, accounts never registered): the
reference the engine is tested against. Replays use the same edge table.

Examples:
    >>> from datetime import datetime, timezone
    >>> from stars import STARS, Account, Snapshot
    >>> t = datetime(2025, 1, 6, tzinfo=timezone.utc)
    >>> acme = Account("acme")
    >>> _ = STARS.observe(acme, Snapshot(at=t, contract_signed=True))
    >>> STARS.fire(acme, "sign", at=t).dest
    'seed'
    >>> STARS.check(acme, "accelerate").reasons
    ('success metrics are not agreed yet', 'no health reading in the latest snapshot')
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
from transitions import Machine

from stars import _engine
from stars import _validate as v
from stars._accounts import _need_account, _record_unchecked
from stars._engine import Edge, EdgeTable, commit, lock_for
from stars._log import Log, append
from stars._shown import short_of
from stars._trend import slope_per_30_days
from stars.account import (
    Account,
    DepthPoint,
    OwnerChange,
    Snapshot,
    TransitionRecord,
)
from stars.bands import Band, BandCutoffs
from stars.cycles import CycleEpisode, episodes
from stars.errors import (
    ConcurrentModification,
    InvalidDefinition,
    InvalidValue,
    OutOfOrder,
    StarsError,
    TransitionNotAllowed,
    TransitionRefused,
    TransitionVetoed,
    UnknownName,
)
from stars.stages import PROFILES, Cycle, Stage, StageKind, StageProfile, stage_name

if TYPE_CHECKING:
    from stars.health import ScorecardSet

__all__ = [
    "GUARDS",
    "STARS",
    "STARS_STAGES",
    "STARS_TRANSITIONS",
    "Diagnosis",
    "Event",
    "Evidence",
    "Guard",
    "GuardContext",
    "HookEvent",
    "Lifecycle",
    "Policy",
    "StageDef",
    "TransitionDef",
    "Verdict",
    "diagnose_stars",
    "evidence",
    "handover_brief",
]

_DAY = 86400.0


# --------------------------------------------------------------------------- policy
_positive_int = v.field(v.number, 1, None, integer=True)
_non_negative = v.field(v.number, 0, None)


def _cutoffs(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, BandCutoffs):
        raise InvalidValue(attribute.name, value, "a BandCutoffs")


@attrs.frozen(slots=True)
class Policy:
    """The thresholds that guards and diagnosis read.

    Attributes:
        bands: Cut-offs from health score to band.
        green_streak: Consecutive green snapshots needed to sustain or realign (hysteresis).
        min_tenure_days: Days as a customer before an account can be in ASCEND.
        trend_window: Number of latest health readings used for the trend.
        trend_flat_within: A slope (points per 30 days) within ± this is flat; below is falling.

    Examples:
        >>> from stars import Policy
        >>> Policy(green_streak=2).green_streak
        2
        >>> Policy(green_streak=0)
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: green_streak: got 0, expected a whole number at or above 1
    """

    bands: BandCutoffs = attrs.field(factory=BandCutoffs, validator=_cutoffs)
    green_streak: int = attrs.field(default=3, validator=_positive_int)
    min_tenure_days: float = attrs.field(default=180.0, validator=_non_negative)
    trend_window: int = attrs.field(default=3, validator=_positive_int)
    trend_flat_within: float = attrs.field(default=2.0, validator=_non_negative)

    def band_of(self, snapshot: Snapshot | None) -> Band | None:
        """The snapshot's band: as given, else derived from its health, else ``None``.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import Policy, Snapshot
            >>> Policy().band_of(Snapshot(at=datetime(2025, 1, 1, tzinfo=timezone.utc), health=75))
            <Band.GREEN: 'green'>
        """
        if snapshot is None:
            return None
        if snapshot.band is not None:
            return snapshot.band
        if snapshot.health is not None:
            return self.bands.band_for(snapshot.health)
        return None


# --------------------------------------------------------------------------- evidence
@attrs.frozen(slots=True)
class Evidence:
    """The signals diagnosis reads, flattened to one row (the batch form uses the same names).

    Examples:
        >>> from stars import Account, evidence
        >>> evidence(Account("a")).band is None
        True
    """

    health: float | None = None
    band: Band | None = None
    slope: float | None = None
    green_streak: int = 0
    tenure_days: float | None = None
    customer: bool = False
    success_metrics_agreed: bool = False
    expansion_open: bool = False
    critical_risk: bool = False
    churned: bool = False


def _green_streak(snapshots: Sequence[Snapshot], policy: Policy, cap: int | None = None) -> int:
    """Consecutive green snapshots at the end (counting stops at ``cap``, if given)."""
    streak = 0
    for snap in reversed(snapshots):
        if streak == cap or policy.band_of(snap) is not Band.GREEN:
            break
        streak += 1
    return streak


def _slope(snapshots: Sequence[Snapshot], window: int) -> float | None:
    # The latest ``window`` health readings, read from the end: the cost does not grow
    # with the length of the history.
    points: deque[tuple[datetime, float]] = deque()
    for snap in reversed(snapshots):
        if snap.health is not None:
            points.appendleft((snap.at, snap.health))
            if len(points) == window:
                break
    return slope_per_30_days(list(points))


def _customer_since(account: Account, kind_of: Callable[[str], StageKind]) -> datetime | None:
    # The latest move from a pre-customer stage into the relationship (a won-back
    # customer's tenure starts again), else the imported start date. The answer for the
    # records scanned so far is kept on the account, so each record is read once.
    history = account.history
    memo = account._memo
    start, found = 0, None
    if memo is not None and memo[0] == kind_of and memo[1] <= len(history):
        start, found = memo[1], memo[2]
    end = len(history)
    for i in range(end - 1, start - 1, -1):
        record = history[i]
        if kind_of(record.source) is StageKind.BEFORE and kind_of(record.dest) is not (
            StageKind.BEFORE
        ):
            found = record.at
            break
    object.__setattr__(account, "_memo", (kind_of, end, found))
    return found if found is not None else account.since


def _is_empty(items: Iterable[Any]) -> bool:
    return isinstance(items, Sequence) and not items


def _continued(
    start: Account,
    records: Sequence[TransitionRecord],
    snapshots: Iterable[Snapshot],
    owners: Iterable[OwnerChange],
    depths: Iterable[DepthPoint],
) -> Account:
    """A new account: ``start`` with checked ``records`` and the other changes appended.

    The start's sequences are shared, not copied (appending to a `Log` forks it when
    needed), so continuing a long account costs what is appended, not what it holds.
    """
    account: Account = object.__new__(Account)
    account.__setstate__(start.__getstate__())
    # The standing facts folded so far still hold: the snapshots before them are the same.
    object.__setattr__(account, "_carry", start._carry)
    if records:
        history: Sequence[TransitionRecord] = account._history
        for record in records:
            history = append(history, record)
        object.__setattr__(account, "_history", history)
        object.__setattr__(account, "_stage", records[-1].dest)
        object.__setattr__(account, "_version", account._version + len(records))
    for i, snap in enumerate(snapshots):
        if not isinstance(snap, Snapshot):
            raise InvalidValue(f"snapshots[{i}]", snap, "a Snapshot")
        account._append_snapshot(snap)
    for i, point in enumerate(depths):
        if not isinstance(point, DepthPoint):
            raise InvalidValue(f"depths[{i}]", point, "a DepthPoint")
        account._append_depth(point)
    for i, change in enumerate(owners):
        if not isinstance(change, OwnerChange):
            raise InvalidValue(f"owners[{i}]", change, "an OwnerChange")
        if change.previous != account.owner:
            raise InvalidValue(
                f"owners[{i}].previous",
                change.previous,
                f"{account.owner!r}, the owner the account had",
            )
        account._append_owner(change)
    return account


def _upto(snapshots: Sequence[Snapshot], at: datetime | None) -> Sequence[Snapshot]:
    if at is None or not snapshots or not v.before(at, snapshots[-1].at):
        return snapshots
    end = len(snapshots)
    while end and v.before(at, snapshots[end - 1].at):
        end -= 1
    return snapshots[:end]


def evidence(
    account: Account,
    at: datetime | None = None,
    policy: Policy | None = None,
    kind_of: Callable[[str], StageKind] | None = None,
) -> Evidence:
    """Collect the evidence about an account as of ``at`` (default: its latest snapshot).

    Args:
        account: The account.
        at: Ignore snapshots after this time; tenure is measured up to it.
        policy: Thresholds (default `Policy`).
        kind_of: Stage kinds (default: the STARS stages').

    Returns:
        The evidence, as one flat row.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import Account, Snapshot, evidence
        >>> t = datetime(2025, 6, 1, tzinfo=timezone.utc)
        >>> a = Account("a", since=datetime(2024, 6, 1, tzinfo=timezone.utc),
        ...             snapshots=[Snapshot(at=t, health=80)])
        >>> e = evidence(a)
        >>> e.band, e.green_streak, round(e.tenure_days)
        (<Band.GREEN: 'green'>, 1, 365)
    """
    _need_account(account)
    _need_time("at", at)
    policy = policy or Policy()
    kinds = kind_of or _stars_kind
    snaps = _upto(account.snapshots, at)
    latest = account._known(len(snaps))
    when = at or (latest.at if latest else None)
    start = _customer_since(account, kinds)
    tenure = (when - start).total_seconds() / _DAY if (when and start) else None
    return Evidence(
        health=latest.health if latest else None,
        band=policy.band_of(latest),
        slope=_slope(snaps, policy.trend_window),
        green_streak=_green_streak(snaps, policy),
        tenure_days=tenure,
        customer=bool(
            (latest is not None and latest.contract_signed)
            or kinds(account.stage) not in (StageKind.BEFORE, StageKind.LOST)
        ),
        success_metrics_agreed=bool(latest and latest.success_metrics_agreed),
        expansion_open=bool(latest and latest.expansion_open),
        critical_risk=bool(latest and latest.critical_risk),
        churned=kinds(account.stage) is StageKind.LOST,
    )


_STILL_ONBOARDING = "onboarding is not finished: success metrics are not agreed"


def diagnose_stars(ev: Evidence, policy: Policy) -> tuple[str | None, tuple[str, ...]]:
    """The default STARS diagnosis rule: which stage the evidence points to, and why.

    The rule, in order: a churned account stays in CHURN; an account that is not a
    customer yet is a PROSPECT; red health or a critical risk points to TACT; yellow
    health or a falling trend points to RESET once onboarding is done (success metrics
    agreed), and to SEED before that; without a health reading there is no
    answer; green health without agreed success metrics points to SEED; green for the
    policy's streak with enough tenure and no open expansion points to ASCEND;
    otherwise ACCELERATE. `stars.frames.assign_stages` applies the same rule to
    a DataFrame.

    Args:
        ev: The evidence.
        policy: Thresholds.

    Returns:
        The stage (``None`` when the evidence is insufficient) and the reasons.

    Examples:
        >>> from stars import Band, Evidence, Policy, diagnose_stars
        >>> diagnose_stars(Evidence(band=Band.RED, customer=True), Policy())
        ('tact', ('health is red',))
    """
    if ev.churned:
        return "churn", ("the account has churned; only a win-back leaves churn",)
    if not ev.customer:
        return "prospect", ("no contract is recorded yet",)
    if ev.band is Band.RED or ev.critical_risk:
        reasons = []
        if ev.band is Band.RED:
            reasons.append("health is red")
        if ev.critical_risk:
            reasons.append("a critical risk finding is open")
        return "tact", tuple(reasons)
    falling = ev.slope is not None and ev.slope < -policy.trend_flat_within
    if ev.band is Band.YELLOW or falling:
        reasons = []
        if ev.band is Band.YELLOW:
            reasons.append("health is yellow")
        if falling:
            reasons.append(f"health is falling ({ev.slope:+.1f} points per 30 days)")
        if not ev.success_metrics_agreed:
            # Still onboarding: a shaky start is SEED's problem to solve, not stagnation.
            return "seed", (_STILL_ONBOARDING, *reasons)
        return "reset", tuple(reasons)
    if ev.band is None:
        return None, ("no health reading to judge by",)
    if not ev.success_metrics_agreed:
        return "seed", ("health is green but success metrics are not agreed yet",)
    settled = (
        ev.green_streak >= policy.green_streak
        and ev.tenure_days is not None
        and ev.tenure_days >= policy.min_tenure_days
    )
    if settled and not ev.expansion_open:
        return "ascend", (
            f"green for {ev.green_streak} readings in a row",
            f"a customer for {ev.tenure_days:.0f} days",
        )
    if ev.expansion_open:
        return "accelerate", ("health is green and an expansion opportunity is open",)
    return "accelerate", ("health is green and success metrics are agreed",)


# --------------------------------------------------------------------------- guards
@attrs.frozen(slots=True, eq=False)
class GuardContext:
    """What a guard sees: the account, its snapshot as known at ``at``, the policy.

    ``snapshot`` is `Account.known` at ``at``: the latest snapshot, with the standing
    facts (a signed contract, agreed success metrics, ...) carried from earlier ones.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import Account, GuardContext, Policy
        >>> ctx = GuardContext(Account("a"), None, Policy(),
        ...                    datetime(2025, 1, 1, tzinfo=timezone.utc), "sign", "seed", None)
        >>> ctx.band is None
        True
    """

    account: Account
    snapshot: Snapshot | None
    policy: Policy
    at: datetime
    trigger: str
    dest: str
    reason: str | None
    kind_of: Callable[[str], StageKind] | None = attrs.field(default=None, repr=False)

    @property
    def band(self) -> Band | None:
        """The latest snapshot's band (derived from health with the policy when not given).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import Account, GuardContext, Policy, Snapshot
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> GuardContext(Account("a"), Snapshot(at=t, health=10), Policy(), t,
            ...              "escalate", "tact", None).band
            <Band.RED: 'red'>
        """
        return self.policy.band_of(self.snapshot)

    @property
    def snapshots(self) -> Sequence[Snapshot]:
        """The account's snapshots up to ``at``.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import Account, GuardContext, Policy
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> GuardContext(Account("a"), None, Policy(), t, "sign", "seed", None).snapshots
            ()
        """
        return _upto(self.account.snapshots, self.at)


GuardFn = Callable[[GuardContext], str | None]


@attrs.frozen(slots=True)
class Guard:
    """A named, pure predicate on a transition.

    ``check`` returns ``None`` to allow, or the reason it refuses.

    Attributes:
        name: A stable name (used in exported definitions).
        label: A short text shown on diagrams.
        check: The predicate.

    Examples:
        >>> from stars import Guard
        >>> g = Guard("always", "always", lambda ctx: None)
        >>> g.name
        'always'
    """

    name: str = attrs.field(validator=v.field(v.text))
    label: str
    check: GuardFn = attrs.field(eq=False, repr=False)

    @check.validator
    def _callable(self, attribute: Any, value: Any) -> None:
        if not callable(value):
            raise InvalidDefinition(f"guard {self.name!r}: check must be callable, got {value!r}")


def _need_band(ctx: GuardContext) -> tuple[Band | None, str | None]:
    if ctx.snapshot is None:
        return None, "no snapshot observed yet"
    band = ctx.band
    if band is None:
        return None, "no health reading in the latest snapshot"
    return band, None


def _g_contract(ctx: GuardContext) -> str | None:
    if ctx.snapshot is None or not ctx.snapshot.contract_signed:
        return "no contract start is recorded"
    return None


def _g_metrics(ctx: GuardContext) -> str | None:
    if ctx.snapshot is None or not ctx.snapshot.success_metrics_agreed:
        return "success metrics are not agreed yet"
    return None


def _g_green(ctx: GuardContext) -> str | None:
    band, why = _need_band(ctx)
    if why:
        return why
    return None if band is Band.GREEN else f"health is {band}, not green"


def _g_green_streak(ctx: GuardContext) -> str | None:
    need = ctx.policy.green_streak
    got = _green_streak(ctx.snapshots, ctx.policy, cap=need)
    return None if got >= need else f"green for {got} readings in a row, {need} needed"


def _g_tenure(ctx: GuardContext) -> str | None:
    start = _customer_since(ctx.account, ctx.kind_of or _stars_kind)
    need = ctx.policy.min_tenure_days
    if start is None:
        return "customer tenure is unknown (no sign record and no 'since')"
    days = (ctx.at - start).total_seconds() / _DAY
    if days >= need:
        return None
    got, needed = short_of(days, need)
    return f"a customer for {got} days, {needed} needed"


def _g_expansion(ctx: GuardContext) -> str | None:
    if ctx.snapshot is None or not ctx.snapshot.expansion_open:
        return "no expansion opportunity is open"
    return None


def _g_new_unit(ctx: GuardContext) -> str | None:
    if ctx.snapshot is None or not ctx.snapshot.new_business_unit:
        return "no new product line or business unit is onboarding"
    return None


def _g_yellow_or_falling(ctx: GuardContext) -> str | None:
    band, why = _need_band(ctx)
    if why:
        return why
    if band is Band.YELLOW:
        return None
    slope = _slope(ctx.snapshots, ctx.policy.trend_window)
    if slope is not None and slope < -ctx.policy.trend_flat_within:
        return None
    return f"health is {band} and not falling"


def _g_red_or_critical(ctx: GuardContext) -> str | None:
    if ctx.snapshot is not None and ctx.snapshot.critical_risk:
        return None
    band, why = _need_band(ctx)
    if why:
        return why
    return None if band is Band.RED else f"health is {band}, not red, and no critical risk is open"


def _g_not_red(ctx: GuardContext) -> str | None:
    band, why = _need_band(ctx)
    if why:
        return why
    return None if band is not Band.RED else "health is still red"


def _g_reonboarding(ctx: GuardContext) -> str | None:
    if ctx.snapshot is None or not ctx.snapshot.reonboarding_agreed:
        return "re-onboarding is not agreed"
    return None


def _g_reason(ctx: GuardContext) -> str | None:
    return None if ctx.reason and ctx.reason.strip() else "a reason must be given"


GUARDS: Mapping[str, Guard] = {
    g.name: g
    for g in (
        Guard("contract_signed", "contract signed", _g_contract),
        Guard("success_metrics_agreed", "success metrics agreed", _g_metrics),
        Guard("health_green", "green", _g_green),
        Guard("green_streak", "green streak", _g_green_streak),
        Guard("min_tenure", "min tenure", _g_tenure),
        Guard("expansion_open", "expansion open", _g_expansion),
        Guard("new_business_unit", "new unit onboarding", _g_new_unit),
        Guard("yellow_or_falling", "yellow or falling", _g_yellow_or_falling),
        Guard("red_or_critical", "red or critical risk", _g_red_or_critical),
        Guard("not_red", "not red", _g_not_red),
        Guard("reonboarding_agreed", "re-onboarding agreed", _g_reonboarding),
        Guard("reason_given", "reason given", _g_reason),
    )
}
"""The built-in guards, by name. Exported lifecycle definitions refer to guards by these names."""


# --------------------------------------------------------------------------- definition
def _kind(value: object) -> StageKind:
    try:
        return StageKind(value)  # type: ignore[arg-type]
    except ValueError:
        raise InvalidValue(
            "kind", value, "one of " + ", ".join(k.value for k in StageKind)
        ) from None


@attrs.frozen(slots=True)
class StageDef:
    """A stage in a lifecycle definition.

    Attributes:
        name: The stage's name.
        kind: Before, growth, crisis or lost (drives cycle accounting and checks).
        profile: How the account looks there and how to show up (optional).

    Examples:
        >>> from stars import StageDef
        >>> StageDef("pilot", "growth").kind
        <StageKind.GROWTH: 'growth'>
    """

    name: str = attrs.field(validator=v.field(v.text))
    kind: StageKind = attrs.field(converter=_kind)
    profile: StageProfile | None = None


def _cycle(value: object) -> Cycle:
    try:
        return Cycle(value)  # type: ignore[arg-type]
    except ValueError:
        raise InvalidValue("cycle", value, "one of growth, recovery, crisis") from None


def _names(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Iterable):
        raise InvalidValue("sources", value, "a stage name or a list of stage names")
    return tuple(value)


def _guards(value: Iterable[Guard]) -> tuple[Guard, ...]:
    return tuple(value)


@attrs.frozen(slots=True)
class TransitionDef:
    """A transition in a lifecycle definition.

    Attributes:
        trigger: The trigger's name.
        sources: The stages it may fire from.
        dest: The stage it leads to.
        cycle: The cycle it belongs to.
        guards: Guards that must all pass (unless forced).

    Examples:
        >>> from stars import GUARDS, TransitionDef
        >>> t = TransitionDef("sign", "prospect", "seed", "growth", (GUARDS["contract_signed"],))
        >>> t.sources
        ('prospect',)
    """

    trigger: str = attrs.field(validator=v.field(v.text))
    sources: tuple[str, ...] = attrs.field(converter=_names)
    dest: str = attrs.field(validator=v.field(v.text))
    cycle: Cycle = attrs.field(converter=_cycle)
    guards: tuple[Guard, ...] = attrs.field(default=(), converter=_guards)


def _definition_items(field: str, value: object) -> tuple[Any, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidDefinition(f"{field} must be a list, got {value!r}")
    return tuple(value)


def _p(stage: Stage) -> StageDef:
    return StageDef(stage.value, stage.kind, PROFILES[stage.value])


STARS_STAGES: tuple[StageDef, ...] = tuple(_p(s) for s in Stage)
"""The seven stages of the default STARS lifecycle."""

_G = GUARDS
_GROWTH_STAGES = ("seed", "accelerate", "ascend")
STARS_TRANSITIONS: tuple[TransitionDef, ...] = (
    TransitionDef("sign", "prospect", "seed", "growth", (_G["contract_signed"],)),
    TransitionDef(
        "accelerate",
        "seed",
        "accelerate",
        "growth",
        (_G["success_metrics_agreed"], _G["health_green"]),
    ),
    TransitionDef(
        "sustain", "accelerate", "ascend", "growth", (_G["green_streak"], _G["min_tenure"])
    ),
    TransitionDef("expand", "ascend", "accelerate", "growth", (_G["expansion_open"],)),
    TransitionDef("reseed", ("accelerate", "ascend"), "seed", "growth", (_G["new_business_unit"],)),
    TransitionDef(
        "stagnate", ("accelerate", "ascend"), "reset", "crisis", (_G["yellow_or_falling"],)
    ),
    TransitionDef(
        "escalate", (*_GROWTH_STAGES, "reset"), "tact", "crisis", (_G["red_or_critical"],)
    ),
    TransitionDef("realign", "reset", "ascend", "recovery", (_G["green_streak"], _G["min_tenure"])),
    TransitionDef("realign", "reset", "accelerate", "recovery", (_G["green_streak"],)),
    TransitionDef("stabilize", "tact", "reset", "recovery", (_G["not_red"],)),
    TransitionDef("restart", "tact", "seed", "recovery", (_G["reonboarding_agreed"],)),
    TransitionDef(
        "lose", (*_GROWTH_STAGES, "reset", "tact"), "churn", "crisis", (_G["reason_given"],)
    ),
    TransitionDef("win_back", "churn", "prospect", "recovery"),
)
"""The transitions of the default STARS lifecycle (see the concepts page for the table)."""


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


@attrs.frozen(slots=True)
class Diagnosis:
    """Which stage the evidence points to, whether it agrees with the current one, how to show up.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import STARS, Account, Snapshot
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> snap = Snapshot(at=t, health=20, contract_signed=True)
        >>> a = Account("a", stage="prospect", snapshots=[snap])
        >>> d = STARS.diagnose(a)
        >>> d.stage, d.agrees
        ('tact', False)
    """

    account_id: str
    current: str
    stage: str | None
    agrees: bool
    reasons: tuple[str, ...]
    evidence: Evidence
    playbook: StageProfile | None
    triggers: tuple[str, ...] = ()

    def _repr_html_(self) -> str:
        from stars._html import table

        rows: list[tuple[str, object]] = [
            ("current stage", self.current),
            ("evidence points to", self.stage),
            ("agrees", "yes" if self.agrees else "no"),
            ("reasons", "; ".join(self.reasons)),
        ]
        if self.triggers:
            rows.append(("to move there", ", ".join(self.triggers)))
        if self.playbook is not None:
            rows.append(("posture", ", ".join(self.playbook.posture)))
            rows += [("key action", a) for a in self.playbook.key_actions]
        return table(("", ""), rows, caption=f"Diagnosis of {self.account_id}")


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
Diagnoser = Callable[[Evidence, Policy], tuple[str | None, tuple[str, ...]]]


def _stars_kind(stage: str) -> StageKind:
    try:
        return Stage(stage).kind
    except ValueError:
        return StageKind.BEFORE


def _is_sequence_like(value: object) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, str | bytes)


def _need_time(field: str, value: object) -> datetime | None:
    return None if value is None else v.aware(field, value)


class Lifecycle(_engine.Machine):
    """A checked lifecycle definition, and the engine that moves accounts through it.

    Args:
        stages: The stages.
        transitions: The transitions (a trigger may appear several times with different
            sources or destinations; for one source, destinations are tried in order).
        initial: The stage new accounts start in.
        policy: Thresholds for guards and diagnosis.
        name: A name for diagrams and exports.
        diagnoser: The rule behind `diagnose` (default: `diagnose_stars`, which
            needs the STARS stage names).
        scorecards: A `ScorecardSet`; `observe` scores raw measures
            with it.
        clock: A zero-argument callable returning the time (timezone-aware), used by
            `check` and `available` when no ``at`` is given. Without one they judge as
            of the latest snapshot; the lifecycle never reads the machine's clock.

    Raises:
        InvalidDefinition: If the definition is inconsistent: unknown or duplicate stages,
            unreachable stages, stages that can never get back to growth, duplicate transitions.

    Examples:
        >>> from stars import STARS, Lifecycle, StageDef, TransitionDef
        >>> len(STARS.stages), STARS.initial
        (7, 'prospect')
        >>> stages = [StageDef("new", "before"), StageDef("live", "growth"),
        ...           StageDef("sick", "crisis")]
        >>> edges = [TransitionDef("go", "new", "live", "growth"),
        ...          TransitionDef("fall", "live", "sick", "crisis")]
        >>> Lifecycle(stages, edges, initial="new")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidDefinition: stage 'sick' can never get back to a growth stage ...
    """

    def __init__(
        self,
        stages: Iterable[StageDef],
        transitions: Iterable[TransitionDef],
        *,
        initial: str,
        policy: Policy | None = None,
        name: str = "custom",
        diagnoser: Diagnoser | None = None,
        scorecards: ScorecardSet | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.stages: tuple[StageDef, ...] = _definition_items("stages", stages)
        self.transitions: tuple[TransitionDef, ...] = _definition_items("transitions", transitions)
        if not isinstance(initial, str):
            raise InvalidDefinition(f"initial must be a stage name, got {initial!r}")
        self.initial = initial
        policy = policy if policy is not None else Policy()
        if not isinstance(policy, Policy):
            raise InvalidDefinition(f"policy must be a Policy, got {policy!r}")
        self.policy = policy
        if not isinstance(name, str):
            raise InvalidDefinition(f"name must be a string, got {name!r}")
        self.name = name
        if scorecards is not None:
            from stars.health import ScorecardSet

            if not isinstance(scorecards, ScorecardSet):
                raise InvalidDefinition(
                    f"scorecards must be a ScorecardSet (wrap a Scorecard as ScorecardSet(card)),"
                    f" got {type(scorecards).__name__}"
                )
        if diagnoser is not None and not callable(diagnoser):
            raise InvalidDefinition(f"diagnoser must be callable, got {diagnoser!r}")
        if clock is not None and not callable(clock):
            raise InvalidDefinition(f"clock must be a callable returning a datetime, got {clock!r}")
        self.clock = clock
        self.scorecards = scorecards
        self._stage_map = self._check_stages()
        self._edges = self._check_transitions()
        self._check_graph()
        if diagnoser is None and all(s.value in self._stage_map for s in Stage):
            diagnoser = diagnose_stars
        self._diagnoser = diagnoser
        self._triggers = frozenset(t.trigger for t in self.transitions)
        _engine.Machine.__init__(self)
        self._machine = self._reference_machine()

    # -- definition checks ---------------------------------------------------------
    def _check_stages(self) -> dict[str, StageDef]:
        if not self.stages:
            raise InvalidDefinition("a lifecycle needs at least one stage")
        out: dict[str, StageDef] = {}
        for stage in self.stages:
            if not isinstance(stage, StageDef):
                raise InvalidDefinition(f"stages must be StageDef values, got {stage!r}")
            if stage.name in out:
                raise InvalidDefinition(f"stage {stage.name!r} is defined twice")
            try:
                stored = stage_name(stage.name)
            except UnknownName as err:
                stored = f"a typo of {err.suggestion!r}"
            if stored != stage.name:
                raise InvalidDefinition(
                    f"stage {stage.name!r} would be read as {stored}"
                    if stored.startswith("a typo")
                    else f"stage {stage.name!r} would be stored as {stored!r}; name it {stored!r}"
                )
            out[stage.name] = stage
        if self.initial not in out:
            raise InvalidDefinition(f"initial stage {self.initial!r} is not one of the stages")
        if not any(s.kind is StageKind.GROWTH for s in self.stages):
            raise InvalidDefinition("a lifecycle needs at least one growth stage")
        return out

    def _check_transitions(self) -> EdgeTable[GuardContext]:
        """Check every transition, and index them as the engine's edge table."""
        seen: set[tuple[str, str, str]] = set()
        for t in self.transitions:
            if not isinstance(t, TransitionDef):
                raise InvalidDefinition(f"transitions must be TransitionDef values, got {t!r}")
            for stage in (*t.sources, t.dest):
                if stage not in self._stage_map:
                    raise InvalidDefinition(
                        f"transition {t.trigger!r} refers to unknown stage {stage!r}"
                    )
            if not t.sources:
                raise InvalidDefinition(f"transition {t.trigger!r} has no source stage")
            for g in t.guards:
                if not isinstance(g, Guard):
                    raise InvalidDefinition(
                        f"transition {t.trigger!r}: guards must be Guard values, got {g!r}"
                    )
            for source in t.sources:
                if (source, t.trigger, t.dest) in seen:
                    raise InvalidDefinition(
                        f"transition {t.trigger!r} from {source!r} to {t.dest!r} is defined twice"
                    )
                seen.add((source, t.trigger, t.dest))
        return EdgeTable(
            Edge(t.trigger, t.sources, t.dest, [g.check for g in t.guards], tag=t)
            for t in self.transitions
        )

    def _check_graph(self) -> None:
        edges: dict[str, set[str]] = {name: set() for name in self._stage_map}
        for (source, _), group in self._edges.by_pair.items():
            edges[source].update(e.dest for e in group)
        seen, todo = {self.initial}, [self.initial]
        while todo:
            for nxt in edges[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        for stage in self.stages:
            if stage.name not in seen:
                raise InvalidDefinition(
                    f"stage {stage.name!r} is unreachable from {self.initial!r}"
                )
        growth = {s.name for s in self.stages if s.kind is StageKind.GROWTH}
        reverse: dict[str, set[str]] = {name: set() for name in self._stage_map}
        for source, dests in edges.items():
            for dest in dests:
                reverse[dest].add(source)
        back, todo = set(growth), list(growth)
        while todo:
            for prev in reverse[todo.pop()]:
                if prev not in back:
                    back.add(prev)
                    todo.append(prev)
        for stage in self.stages:
            if stage.name not in back:
                raise InvalidDefinition(
                    f"stage {stage.name!r} can never get back to a growth stage (a dead end)"
                )

    def _reference_machine(self) -> Machine:
        """The definition as a ``transitions.Machine``: the reference the engine agrees with.

        One event per trigger, its transitions added in definition order with the guards
        as conditions, so ``transitions`` picks the destination the way `fire` does (the
        first whose guards pass; all guards pass when forced). It is built once per
        definition, which also has ``transitions`` check the graph; accounts are never
        registered with it, and `fire` does not run it (the tests prove both agree).
        """
        machine = Machine(
            model=None,
            states=[s.name for s in self.stages],
            initial=self.initial,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for edge in self._edges.edges:

            def passes(event_data: Any, edge: Edge[GuardContext] = edge) -> bool:
                kwargs = event_data.kwargs
                return bool(kwargs["force"]) or not edge.reasons(kwargs["context"](edge.dest))

            machine.add_transition(edge.trigger, list(edge.sources), edge.dest, conditions=[passes])
        return machine

    # -- small queries -------------------------------------------------------------
    @property
    def triggers(self) -> frozenset[str]:
        """Every trigger name in the definition.

        Examples:
            >>> from stars import STARS
            >>> "sign" in STARS.triggers
            True
        """
        return self._triggers

    def kind_of(self, stage: str) -> StageKind:
        """The kind of a stage of this lifecycle.

        Raises:
            UnknownName: If the stage is not defined here.

        Examples:
            >>> from stars import STARS
            >>> STARS.kind_of("tact").value
            'crisis'
        """
        try:
            return self._stage_map[stage].kind
        except (KeyError, TypeError):
            raise UnknownName("stage", stage, list(self._stage_map)) from None

    def profile(self, stage: str) -> StageProfile | None:
        """The profile (posture, key actions) of a stage, if the definition gives one.

        Examples:
            >>> from stars import STARS
            >>> STARS.profile("seed").posture
            ('builder', 'consultant')
        """
        self.kind_of(stage)
        return self._stage_map[stage].profile

    def new_account(self, account_id: str, **fields: Any) -> Account:
        """Create an account in this lifecycle's initial stage.

        Examples:
            >>> from stars import STARS
            >>> STARS.new_account("acme", owner="dana").stage
            'prospect'
        """
        return Account(account_id, stage=self.initial, **fields)

    def evolve(self, **changes: Any) -> Lifecycle:
        """A copy of this lifecycle with some definition arguments replaced (hooks are not copied).

        Examples:
            >>> from stars import STARS, Policy
            >>> STARS.evolve(policy=Policy(green_streak=2)).policy.green_streak
            2
        """
        args: dict[str, Any] = {
            "stages": self.stages,
            "transitions": self.transitions,
            "initial": self.initial,
            "policy": self.policy,
            "name": self.name,
            "diagnoser": self._diagnoser,
            "scorecards": self.scorecards,
            "clock": self.clock,
        }
        args.update(changes)
        return Lifecycle(**args)

    # -- hooks -----------------------------------------------------------------------
    _hook_event_name = "a HookEvent"

    def _trigger_key(self, trigger: str | None) -> str:
        if trigger is None:
            return "*"
        if not isinstance(trigger, str) or trigger not in self._triggers:
            raise UnknownName("trigger", trigger, sorted(self._triggers))
        return trigger

    def before(self, trigger: str | None = None) -> Callable[[H], H]:
        """Register a hook that runs before ``trigger`` (or any trigger). Raising vetoes it.

        Examples:
            >>> from stars import STARS
            >>> lc = STARS.evolve()
            >>> @lc.before("lose")
            ... def block(event):
            ...     raise ValueError("never lose")
        """
        key = self._trigger_key(trigger)

        return self._decorator("before", key)

    def after(self, trigger: str | None = None) -> Callable[[H], H]:
        """Register a hook that runs after ``trigger`` (or any trigger) was applied.

        Examples:
            >>> from stars import STARS
            >>> lc = STARS.evolve()
            >>> @lc.after()
            ... def log(event):
            ...     pass
        """
        key = self._trigger_key(trigger)

        return self._decorator("after", key)

    def on_enter(self, stage: str) -> Callable[[H], H]:
        """Register a hook that runs when an account enters ``stage``.

        Examples:
            >>> from stars import STARS
            >>> lc = STARS.evolve()
            >>> @lc.on_enter("tact")
            ... def alert(event):
            ...     pass
        """
        self.kind_of(stage)

        return self._decorator("enter", stage)

    def on_exit(self, stage: str) -> Callable[[H], H]:
        """Register a hook that runs when an account is about to leave ``stage``. Raising vetoes.

        Examples:
            >>> from stars import STARS
            >>> lc = STARS.evolve()
            >>> @lc.on_exit("ascend")
            ... def note(event):
            ...     pass
        """
        self.kind_of(stage)

        return self._decorator("exit", stage)

    def on_cycle(self, cycle: Cycle | str) -> Callable[[H], H]:
        """Register a hook that runs after any transition of the given cycle.

        Examples:
            >>> from stars import STARS
            >>> lc = STARS.evolve()
            >>> @lc.on_cycle("crisis")
            ... def page(event):
            ...     pass
        """
        key = _cycle(cycle).value

        return self._decorator("cycle", key)

    def remove_hook(self, fn: Hook) -> int:
        """Unregister a hook everywhere it was registered; returns how many registrations went.

        Examples:
            >>> from stars import STARS
            >>> lc = STARS.evolve()
            >>> hook = lc.after()(lambda event: None)
            >>> lc.remove_hook(hook)
            1
        """
        return self._remove(fn)

    def _context(
        self,
        account: Account,
        snapshot: Snapshot | None,
        at: datetime | None,
        trigger: str,
        reason: str | None,
    ) -> Callable[[str], GuardContext]:
        """What the guards of each destination read, built only when a guard asks for it.

        ``at`` may be ``None`` only when no guard is asked (`check` makes sure of that).
        """

        def build(dest: str) -> GuardContext:
            assert at is not None, "a guarded edge is judged at a time"
            return _guard_context(
                account, snapshot, self.policy, at, trigger, dest, reason, self.kind_of
            )

        return build

    # -- the public engine -----------------------------------------------------------
    def _candidates(
        self, account: Account, stage: str, trigger: str, to: str | None
    ) -> tuple[Edge[GuardContext], ...]:
        if not isinstance(trigger, str) or trigger not in self._triggers:
            raise UnknownName("trigger", trigger, sorted(self._triggers))
        self.kind_of(stage)
        group = self._edges.get(stage, trigger)
        if group is None:
            raise TransitionNotAllowed(account.id, stage, trigger, self._allowed_triggers(stage))
        if to is not None:
            chosen = tuple(e for e in group if e.dest == to)
            if not chosen:
                self.kind_of(to)
                raise TransitionNotAllowed(
                    account.id,
                    stage,
                    f"{trigger} -> {to}",
                    [f"{trigger} -> {e.dest}" for e in group],
                )
            return chosen
        return group

    def _allowed_triggers(self, stage: str) -> list[str]:
        return self._edges.triggers_from(stage)

    def fire(
        self,
        account: Account,
        trigger: str,
        *,
        at: datetime,
        actor: str | None = None,
        reason: str | None = None,
        force: bool = False,
        to: str | None = None,
        expected_version: int | None = None,
    ) -> TransitionRecord:
        """Apply a trigger to an account and append the record to its history.

        The account's version is read first; guards and before-/exit-hooks run without
        any lock; the record is committed under the account's own short lock only if the
        version is unchanged. Enter-, after- and cycle-hooks then run, all of them, even
        when one raises (see the concepts page for the whole rule).

        Args:
            account: The account to move.
            trigger: The trigger's name.
            at: When it happens (timezone-aware, not earlier than the last record; compared
                as an instant, whatever its zone).
            actor: Who makes it happen.
            reason: Why (required with ``force=True``).
            force: Override the guards (never the graph); the record says so.
            to: The destination, for triggers with several (default: the first whose guards pass).
            expected_version: Refuse with `ConcurrentModification` unless
                the account is at this version.

        Returns:
            The new record.

        Raises:
            UnknownName: The trigger or the account's stage is not in this lifecycle.
            TransitionNotAllowed: The graph has no such transition from the current stage.
            TransitionRefused: A guard refused (the reasons say why); nothing changed.
            TransitionVetoed: Before- or exit-hooks raised (``errors`` has each); nothing changed.
            HookFailed: Enter-, after- or cycle-hooks raised after the transition was applied
                (``record`` is the record, ``errors`` has each failure).
            OutOfOrder: ``at`` is earlier than the last record.
            ConcurrentModification: ``expected_version`` does not match, or another writer
                changed the account while this call ran; nothing changed.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import STARS, Account
            >>> a = Account("a")
            >>> r = STARS.fire(a, "sign", at=datetime(2025, 1, 1, tzinfo=timezone.utc),
            ...                force=True, reason="contract signed offline")
            >>> (a.stage, r.forced, a.version)
            ('seed', True, 1)
        """
        # The checks are written out (not helper calls): this is the hot path.
        if type(account) is not Account:
            _need_account(account)
        if type(trigger) is not str:
            raise UnknownName("trigger", trigger, sorted(self._triggers))
        if expected_version is not None:
            v.expected_version(expected_version)
        if type(at) is not datetime or at.tzinfo is None:
            v.aware("at", at)
        if actor is not None and type(actor) is not str:
            raise InvalidValue("actor", actor, "a string or None")
        if reason is not None and type(reason) is not str:
            raise InvalidValue("reason", reason, "a string or None")
        if force is not False:
            v.flag("force", force)
            if not (reason and reason.strip()):
                raise InvalidValue("reason", reason, "a reason whenever force=True")
        with lock_for(account):  # one consistent read: no torn stage/version pair
            version = account._version
            stage = account._stage
            history = account._history
            snaps = account._snapshots
        if expected_version is not None and expected_version != version:
            raise ConcurrentModification(account.id, expected_version, version)
        group = self._edges.get(stage, trigger)
        if group is None or to is not None:
            group = self._candidates(account, stage, trigger, to)
        if type(history) is not tuple and type(history) is not Log:
            history = account.history  # rows from a frame, not yet records
        if history and v.before(at, history[-1].at):
            raise OutOfOrder("transition", at.isoformat(), history[-1].at.isoformat())
        if force:
            chosen = group[0]
        else:
            if snaps and v.before(at, snaps[-1].at):
                snaps = _upto(snaps, at)
            snapshot = account._known(len(snaps))
            try:
                picked, refusals = EdgeTable.pick(
                    group, self._context(account, snapshot, at, trigger, reason)
                )
            except StarsError:
                raise
            except Exception as exc:
                raise TransitionVetoed(
                    account.id, trigger, f"guard raised {exc!r}", (exc,)
                ) from exc
            if picked is None:
                raise TransitionRefused(account.id, stage, trigger, refusals)
            chosen = picked
        t: TransitionDef = chosen.tag
        record = _record_unchecked(trigger, stage, t.dest, t.cycle, at, actor, reason, force)

        def event(committed: TransitionRecord | None) -> HookEvent:
            return _hook_event(
                account, trigger, stage, t.dest, t.cycle, at, actor, reason, force, committed, self
            )

        def write() -> tuple[TransitionRecord, TransitionRecord]:
            commit(account, account.id, version, lambda: account._append_record(record))
            return record, record

        return self._transact(
            account.id, trigger, self._phases(trigger, stage, t.dest, t.cycle.value), event, write
        )

    def _when(self, account: Account, at: datetime | None) -> datetime | None:
        """The time to judge at: ``at``, else the clock, else the latest snapshot's time."""
        if at is not None:
            return at
        if self.clock is not None:
            return v.aware("clock()", self.clock())
        latest = account.latest
        return latest.at if latest is not None else None

    def check(
        self,
        account: Account,
        trigger: str,
        *,
        at: datetime | None = None,
        to: str | None = None,
        reason: str | None = None,
    ) -> Verdict:
        """Whether ``trigger`` may fire now, without changing anything.

        Args:
            account: The account.
            trigger: The trigger's name.
            at: The time to judge at (default: the lifecycle's clock, if it has one, else the
                latest snapshot's time).
            to: A specific destination, for triggers with several.
            reason: The reason that would be given (some guards need one).

        Returns:
            The verdict: allowed or not, the destination, and the reasons it is refused.

        Raises:
            UnknownName: The trigger is not in this lifecycle.
            InvalidValue: A guard needs a time and there is none: no ``at``, no clock and no
                snapshot.

        Examples:
            >>> from stars import STARS, Account
            >>> STARS.check(Account("a"), "sustain").reasons
            ("'sustain' is not possible from 'prospect'",)
        """
        _need_account(account)
        if not isinstance(trigger, str) or trigger not in self._triggers:
            raise UnknownName("trigger", trigger, sorted(self._triggers))
        self.kind_of(account.stage)
        _need_time("at", at)
        if to is not None:
            self.kind_of(to)
        stage = account.stage
        group = tuple(e for e in self._edges.get(stage, trigger) or () if to in (None, e.dest))
        if not group:
            return Verdict(
                trigger, stage, False, None, (f"{trigger!r} is not possible from {stage!r}",)
            )
        when = self._when(account, at)
        if when is None and any(e.guards for e in group):
            raise InvalidValue(
                "at",
                None,
                "a time to judge the guards at",
                hint="pass at=, build the lifecycle with clock=, or observe a snapshot first",
            )
        snapshot: Snapshot | None = None
        if when is not None:
            snapshot = account._known(len(_upto(account.snapshots, when)))
        chosen, reasons = EdgeTable.pick(
            group, self._context(account, snapshot, when, trigger, reason)
        )
        if chosen is not None:
            return Verdict(trigger, stage, True, chosen.dest)
        return Verdict(trigger, stage, False, group[0].dest, tuple(reasons))

    def available(self, account: Account, *, at: datetime | None = None) -> tuple[Verdict, ...]:
        """The triggers that may fire now (their guards pass), with their destinations.

        ``at`` defaults as in `check`.

        Examples:
            >>> from stars import STARS, Account
            >>> [v.trigger for v in STARS.available(Account("a", stage="churn"))]
            ['win_back']
        """
        _need_account(account)
        _need_time("at", at)
        out = []
        for trigger in self._allowed_triggers(account.stage):
            verdict = self.check(account, trigger, at=at, reason="(checking)")
            if verdict.allowed:
                out.append(verdict)
        return tuple(out)

    def observe(
        self,
        account: Account,
        snapshot: Snapshot,
        *,
        measures: Mapping[str, float | None] | None = None,
        expected_version: int | None = None,
    ) -> Snapshot:
        """Record a snapshot of signals on the account.

        When the snapshot has a health score but no band, the band is derived with the
        policy. With ``measures``, the lifecycle's scorecard set (or the default scorecard)
        scores them for the account's stage and fills in health and band; the raw values
        are kept too, in the snapshot's own fields where the names match (adoption, nps,
        csat, open_tickets, days_since_contact, sentiment) and in ``metrics`` otherwise.
        The snapshot is appended under the account's own lock, in O(1).

        Args:
            account: The account.
            snapshot: The signals.
            measures: Raw measure values to score (the snapshot must not carry a health score then).
            expected_version: Refuse unless the account is at this version.

        Returns:
            The snapshot as stored (with health and band filled in).

        Raises:
            OutOfOrder: The snapshot is older than the latest one.
            InvalidValue: Both a health score and measures were given, or a measure is invalid.
            ConcurrentModification: ``expected_version`` does not match, or (with
                ``measures``) the account changed stage while they were scored.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import STARS, Account, Snapshot
            >>> a = Account("a")
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> STARS.observe(a, Snapshot(at=t, health=55)).band
            <Band.YELLOW: 'yellow'>
        """
        _need_account(account)
        if not isinstance(snapshot, Snapshot):
            raise InvalidValue("snapshot", snapshot, "a Snapshot")
        read = v.expected_version(expected_version)
        if measures is not None:
            if snapshot.health is not None:
                raise InvalidValue(
                    "measures", dict(measures), "no measures when the snapshot already has health"
                )
            with lock_for(account):
                version, stage = account._version, account._stage
            if read is not None and read != version:
                raise ConcurrentModification(account.id, read, version)
            read = version  # the score depends on the stage: commit only if it still holds
            scored = self._score(stage, measures)
            snapshot = attrs.evolve(
                snapshot, health=scored[0], band=scored[1], **_raw_fields(snapshot, measures)
            )
        elif snapshot.band is None and snapshot.health is not None:
            snapshot = attrs.evolve(snapshot, band=self.policy.bands.band_for(snapshot.health))
        stored = snapshot
        commit(account, account.id, read, lambda: account._append_snapshot(stored))
        return stored

    def _score(self, stage: str, measures: Mapping[str, float | None]) -> tuple[float, Band]:
        from stars.health import ScorecardSet, default_scorecard

        cards = self.scorecards or ScorecardSet(default_scorecard())
        result = cards.score(stage, measures)
        return result.score, result.band

    def replay(
        self,
        account_id: str,
        items: Iterable[TransitionRecord | Event],
        *,
        name: str = "",
        owner: str | None = None,
        tags: Iterable[str] = (),
        since: datetime | None = None,
        snapshots: Iterable[Snapshot] = (),
        owners: Iterable[OwnerChange] = (),
        depths: Iterable[DepthPoint] = (),
        start: Account | None = None,
    ) -> Account:
        """Rebuild an account from its history (records) or from events, without hooks.

        History is taken as fact: guards are not evaluated again, but the graph, the
        cycles and the time order are checked against this lifecycle. Records are
        reused as they are.

        With ``start``, the account is continued from a given state (a stored snapshot of
        it, say) rather than rebuilt from the initial stage: the new account has the
        start's name, owner, tags, since, history, snapshots, depths and owner changes, and
        then ``items``, ``snapshots``, ``depths`` and ``owners`` appended after them, each
        checked against where the start left off. The start itself is not changed.

        Args:
            account_id: The account's id.
            items: `TransitionRecord` or `Event` values, in order.
            name: The account's name.
            owner: The account's owner.
            tags: The account's tags.
            since: The account's start, if imported mid-life.
            snapshots: Its snapshots, in time order.
            owners: Its owner changes, in time order (``owner`` then defaults to the last).
            depths: Its depth points, in time order.
            start: The state to continue from (then leave ``name``, ``owner``, ``tags``
                and ``since`` out: the start's are kept).

        Returns:
            A new account whose stage, history and version match the items.

        Raises:
            TransitionNotAllowed: An item is not a transition from the stage reached.
            InvalidValue: A record's source or cycle disagrees with the lifecycle, or
                ``start`` is not an account with this id.
            OutOfOrder: An item is earlier than the previous one.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import STARS, Event, Snapshot
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> a = STARS.replay("acme", [Event("sign", t, forced=True, reason="import")])
            >>> a.stage, a.history[0].forced
            ('seed', True)
            >>> later = t.replace(month=3)
            >>> b = STARS.replay("acme", [Event("escalate", later, forced=True, reason="outage")],
            ...                  snapshots=[Snapshot(at=later, health=20)], start=a)
            >>> b.stage, b.version, a.stage, a.version
            ('tact', 3, 'seed', 1)
        """
        given_lists: tuple[tuple[str, object], ...] = (
            ("items", items),
            ("snapshots", snapshots),
            ("owners", owners),
            ("depths", depths),
        )
        for field, given in given_lists:
            if not _is_sequence_like(given):
                raise InvalidValue(field, given, "an iterable of values (not a string)")
        if start is not None:
            _need_account(start)
            if start.id != account_id:
                raise InvalidValue("account_id", account_id, f"{start.id!r}, the start's id")
            header: tuple[tuple[str, object, object], ...] = (
                ("name", name, ""),
                ("owner", owner, None),
                ("since", since, None),
            )
            for field, value, default in header:
                if value != default:
                    raise InvalidValue(field, value, "nothing with start= (the start's is kept)")
            if tuple(tags):
                raise InvalidValue("tags", tags, "nothing with start= (the start's are kept)")
            stage = start.stage
            last = start.stage_since if len(start._history) else None
            history = self._walk(account_id, stage, last, items)
            return _continued(start, history, snapshots, owners, depths)
        history = self._walk(account_id, self.initial, None, items)
        stage = history[-1].dest if history else self.initial
        account = self._assemble(
            account_id, stage, history, name, owner, tags, since, snapshots, owners
        )
        if not _is_empty(depths):
            account = _continued(account, [], (), (), depths)
        return account

    def _walk(
        self,
        account_id: str,
        stage: str,
        last: datetime | None,
        items: Iterable[TransitionRecord | Event],
    ) -> list[TransitionRecord]:
        """Check ``items`` against the graph from ``stage`` and the time ``last``; the records."""
        table = self._edges.by_pair
        history: list[TransitionRecord] = []
        for i, item in enumerate(items):
            if isinstance(item, TransitionRecord):
                if item.source != stage:
                    raise InvalidValue(f"items[{i}].source", item.source, f"{stage!r}")
                group = table.get((stage, item.trigger))
                if group is None:
                    raise TransitionNotAllowed(
                        account_id, stage, item.trigger, self._allowed_triggers(stage)
                    )
                for e in group:
                    if e.dest == item.dest:
                        cycle = e.tag.cycle
                        if cycle is not item.cycle:
                            raise InvalidValue(f"items[{i}].cycle", item.cycle.value, cycle.value)
                        break
                else:
                    raise TransitionNotAllowed(
                        account_id,
                        stage,
                        f"{item.trigger} -> {item.dest}",
                        [f"{item.trigger} -> {e.dest}" for e in group],
                    )
                record = item
            elif isinstance(item, Event):
                record = self._record_from(
                    account_id,
                    stage,
                    i,
                    item.trigger,
                    item.at,
                    item.actor,
                    item.reason,
                    item.forced,
                    item.to,
                )
            else:
                raise InvalidValue(f"items[{i}]", item, "a TransitionRecord or an Event")
            if last is not None and record.at < last:
                raise OutOfOrder("transition", record.at.isoformat(), last.isoformat())
            last = record.at
            stage = record.dest
            history.append(record)
        return history

    def _assemble(
        self,
        account_id: str,
        stage: str,
        history: list[TransitionRecord],
        name: str,
        owner: str | None,
        tags: Iterable[str],
        since: datetime | None,
        snapshots: Iterable[Snapshot],
        owners: Iterable[OwnerChange] = (),
    ) -> Account:
        account = Account(
            account_id,
            name=name,
            owner=owner,
            tags=tags,  # Account's converter checks and freezes it (a plain string is refused)
            since=since,
            stage=self.initial,
            snapshots=tuple(snapshots),
            owners=tuple(owners),
        )
        _set = object.__setattr__
        _set(account, "_history", tuple(history))
        _set(account, "_stage", stage)
        _set(account, "_version", account.version + len(history))
        return account

    def _record_from(
        self,
        account_id: str,
        stage: str,
        i: int,
        trigger: str | None,
        at: datetime | None,
        actor: str | None,
        reason: str | None,
        forced: bool,
        to: str | None,
    ) -> TransitionRecord:
        """Check one event against the graph and its fields, and build its record."""
        if type(trigger) is not str:
            raise InvalidValue(f"items[{i}].trigger", trigger, "a trigger name")
        group = self._edges.get(stage, trigger)
        if group is None:
            raise TransitionNotAllowed(account_id, stage, trigger, self._allowed_triggers(stage))
        edge = group[0] if to is None else next((e for e in group if e.dest == to), None)
        if edge is None:
            raise TransitionNotAllowed(
                account_id, stage, f"{trigger} -> {to}", [f"{trigger} -> {e.dest}" for e in group]
            )
        chosen: TransitionDef = edge.tag
        if type(at) is not datetime or at.tzinfo is None:
            at = v.aware(f"items[{i}].at", at)
        if actor is not None and type(actor) is not str:
            raise InvalidValue(f"items[{i}].actor", actor, "a string or None")
        if reason is not None and type(reason) is not str:
            raise InvalidValue(f"items[{i}].reason", reason, "a string or None")
        if forced is not True and forced is not False:
            raise InvalidValue(f"items[{i}].forced", forced, "True or False")
        if forced and not reason:
            raise InvalidValue(f"items[{i}].reason", reason, "a reason whenever forced=True")
        return _record_unchecked(
            trigger, stage, chosen.dest, chosen.cycle, at, actor, reason, forced
        )

    def _walk_rows(
        self,
        account_id: str,
        triggers: Sequence[str],
        tos: Sequence[str | None],
        steps: list[Any],
        lo: int,
        hi: int,
    ) -> str:
        """Walk rows ``lo:hi`` of checked event columns through the graph (frames' batch path).

        The caller has checked every column's type and sorted the rows by time, so each row
        only meets the graph. The transition each row takes goes into ``steps[row]``; the
        stage the account ends in is returned.
        """
        stage = self.initial
        table_get = self._edges.by_pair.get
        for j in range(lo, hi):
            trigger = triggers[j]
            group = table_get((stage, trigger))
            if group is None:
                raise TransitionNotAllowed(
                    account_id, stage, str(trigger), self._allowed_triggers(stage)
                )
            e = group[0]
            to = tos[j]
            if to is not None and e.dest != to:
                e = next((c for c in group if c.dest == to), e)
                if e.dest != to:
                    raise TransitionNotAllowed(
                        account_id,
                        stage,
                        f"{trigger} -> {to}",
                        [f"{trigger} -> {c.dest}" for c in group],
                    )
            steps[j] = e.tag
            stage = e.dest
        return stage

    def diagnose(self, account: Account, *, at: datetime | None = None) -> Diagnosis:
        """Which stage the evidence points to, whether it agrees, and that stage's playbook.

        Args:
            account: The account.
            at: Judge as of this time (default: its latest snapshot).

        Returns:
            The diagnosis.

        Raises:
            InvalidDefinition: A custom lifecycle without STARS stage names and no diagnoser.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import STARS, Account, Snapshot
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> a = Account("a", stage="ascend", since=datetime(2023, 1, 1, tzinfo=timezone.utc),
            ...             snapshots=[Snapshot(at=t, health=60, success_metrics_agreed=True)])
            >>> d = STARS.diagnose(a)
            >>> d.stage, d.triggers, d.playbook.posture
            ('reset', ('stagnate',), ('strategist', 'revitalizer'))
        """
        if self._diagnoser is None:
            raise InvalidDefinition(
                f"lifecycle {self.name!r} has no diagnoser; pass diagnoser= when building it"
            )
        _need_account(account)
        self.kind_of(account.stage)
        ev = evidence(account, at, self.policy, self.kind_of)
        answer = self._diagnoser(ev, self.policy)
        if (
            not isinstance(answer, tuple)
            or len(answer) != 2
            or not (answer[0] is None or isinstance(answer[0], str))
            or not isinstance(answer[1], tuple)
        ):
            raise InvalidDefinition(
                f"lifecycle {self.name!r}: the diagnoser must return (stage or None, reasons),"
                f" got {answer!r}"
            )
        stage, reasons = answer
        if stage is not None:
            self.kind_of(stage)
        agrees = stage is None or stage == account.stage
        triggers: tuple[str, ...] = ()
        if stage is not None and not agrees:
            triggers = tuple(
                sorted(
                    trig
                    for (src, trig), group in self._edges.by_pair.items()
                    if src == account.stage and any(e.dest == stage for e in group)
                )
            )
        playbook = self.profile(stage) if stage is not None else None
        return Diagnosis(account.id, account.stage, stage, agrees, reasons, ev, playbook, triggers)

    def to_mermaid(self) -> str:
        """The lifecycle as a Mermaid state diagram, guards shown on the edges.

        Examples:
            >>> from stars import STARS
            >>> print(STARS.to_mermaid().splitlines()[2])
                prospect --> seed : sign [contract signed]
        """
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        for t in self.transitions:
            guard = " & ".join(g.label for g in t.guards)
            label = t.trigger + (f" [{guard}]" if guard else "")
            for source in t.sources:
                lines.append(f"    {source} --> {t.dest} : {label}")
        return "\n".join(lines)

    def _definition(self) -> tuple[Any, ...]:
        return (
            self.name,
            self.stages,
            self.transitions,
            self.initial,
            self.policy,
            self._diagnoser,
            self.scorecards,
        )

    def __eq__(self, other: object) -> bool:
        """Two lifecycles are equal when their definitions are (hooks are not compared).

        Examples:
            >>> from stars import STARS
            >>> STARS.evolve() == STARS, STARS.evolve(name="other") == STARS
            (True, False)
        """
        if not isinstance(other, Lifecycle):
            return NotImplemented
        return self is other or self._definition() == other._definition()

    def __hash__(self) -> int:
        return hash((self.name, self.initial, len(self.stages), len(self.transitions)))

    def __repr__(self) -> str:
        return (
            f"Lifecycle(name={self.name!r}, stages={len(self.stages)},"
            f" transitions={len(self.transitions)}, initial={self.initial!r})"
        )


STARS = Lifecycle(STARS_STAGES, STARS_TRANSITIONS, initial="prospect", name="STARS")
"""The default STARS lifecycle (see the concepts page for its stages and transitions)."""


def _fmt_days(days: float) -> str:
    if days >= 60:
        return f"{days / 30.4:.0f} months"
    return f"{days:.0f} days"


def _day(t: datetime | None) -> str:
    return t.date().isoformat() if t is not None else "–"


def _owner_lines(account: Account, lc: Lifecycle, now: datetime | None) -> list[str]:
    """One row per owner, the current first: when, who decided, and what happened then."""
    changes = account.owners
    spans: list[tuple[str, datetime | None, datetime | None, OwnerChange | None]]
    start = account.since or (account.history[0].at if account.history else None)
    if not changes:
        if account.owner is None:
            return ["No owner is recorded."]
        spans = [(account.owner, start, None, None)]
    else:
        first = changes[0]
        spans = []
        if first.previous is not None:
            spans.append((first.previous, start, first.at, None))
        for i, step in enumerate(changes):
            end = changes[i + 1].at if i + 1 < len(changes) else None
            spans.append((step.owner, step.at, end, step))
    eps = episodes(account, lc.kind_of)
    rows = ["| owner | from | until | what happened |", "|---|---|---|---|"]
    for owner, begin, until, change in reversed(spans):
        who = f"{owner} (now)" if until is None else owner
        taken = _day(begin)
        if change is not None and (change.by or change.reason):
            said = ": ".join(x for x in (change.by and f"by {change.by}", change.reason) if x)
            taken += f" ({said})"
        rows.append(f"| {who} | {taken} | {_day(until)} | {_under(account, eps, begin, until)} |")
    return rows


def _under(
    account: Account,
    eps: Sequence[CycleEpisode],
    begin: datetime | None,
    end: datetime | None,
) -> str:
    """What happened to the account between ``begin`` and ``end`` (open ends allowed)."""

    def inside(t: datetime) -> bool:
        return (begin is None or not v.before(t, begin)) and (end is None or v.before(t, end))

    moved = [r for r in account.history if inside(r.at)]
    if moved:
        parts = ["moved " + " → ".join([moved[0].source, *(r.dest for r in moved)])]
    else:
        before = [r for r in account.history if begin is not None and not v.before(begin, r.at)]
        held = before[-1].dest if before else account.stage
        parts = [f"stayed in {held}"]
    opened = [e for e in eps if inside(e.opened_at)]
    for e in opened:
        outcome = {"recovered": f"recovered to {e.returned_to}", "lost": "lost"}.get(
            e.outcome.value, "still open"
        )
        parts.append(f"a crisis from {e.opened_at.date().isoformat()} ({outcome})")
    seen = [s for s in account.snapshots if inside(s.at) and s.health is not None]
    if len(seen) == 1:
        parts.append(f"health {seen[0].health:.0f}")
    elif seen:
        parts.append(f"health {seen[0].health:.0f} → {seen[-1].health:.0f}")
    return "; ".join(parts)


def handover_brief(
    account: Account,
    lifecycle: Lifecycle | None = None,
    *,
    as_of: datetime | None = None,
    open_plans: Sequence[str] = (),
) -> str:
    """A short markdown brief for a new owner: owners, path, crises, and how to show up.

    The owners come first after where the account stands, the current one on top: who
    owned it from when to when, who made each change and why, and what happened under
    each owner (stages, crises, health), so a new owner knows where the customer has been.

    Args:
        account: The account being handed over.
        lifecycle: Its lifecycle (default ``STARS``).
        as_of: The date of the hand-over (default: the latest record or snapshot).
        open_plans: One-line descriptions of open recovery plans, if any.

    Returns:
        Markdown text.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import STARS, Account, handover_brief
        >>> a = Account("acme", name="Acme")
        >>> _ = STARS.fire(a, "sign", at=datetime(2025, 1, 1, tzinfo=timezone.utc),
        ...                force=True, reason="import")
        >>> print(handover_brief(a).splitlines()[0])
        # Hand-over brief: Acme (acme)
    """
    _need_account(account)
    lc = lifecycle or STARS
    if not isinstance(lc, Lifecycle):
        raise InvalidValue("lifecycle", lifecycle, "a Lifecycle")
    if isinstance(open_plans, str) or not isinstance(open_plans, Sequence):
        raise InvalidValue("open_plans", open_plans, "a list of one-line descriptions")
    times = [r.at for r in account.history] + [s.at for s in account.snapshots]
    _need_time("as_of", as_of)
    if as_of is not None and times and as_of < max(times):
        raise InvalidValue(
            "as_of", as_of, f"a time at or after the account's latest ({max(times)})"
        )
    now = as_of or (max(times) if times else None)
    lines = [f"# Hand-over brief: {account.name or account.id} ({account.id})", ""]
    stage_since = account.stage_since
    since = f" since {stage_since.date().isoformat()}" if stage_since else ""
    lines.append(f"**Where it stands:** {account.stage}{since}.")
    latest = account.latest
    if latest is not None:
        band = lc.policy.band_of(latest)
        health = f"{latest.health:.0f}" if latest.health is not None else "not scored"
        lines.append(
            f"**Latest signals ({latest.at.date().isoformat()}):** health {health}"
            f", band {band.value if band else 'unknown'}."
        )
    lines += ["", "## Owners", ""]
    lines += _owner_lines(account, lc, now)
    lines += ["", "## The path so far", ""]
    if not account.history:
        lines.append("No transitions recorded yet.")
    else:
        lines += ["| stage | entered | time there |", "|---|---|---|"]
        entered = [(r.dest, r.at) for r in account.history]
        for i, (stage, at) in enumerate(entered):
            end = entered[i + 1][1] if i + 1 < len(entered) else now
            span = _fmt_days((end - at).total_seconds() / _DAY) if end else "–"
            lines.append(f"| {stage} | {at.date().isoformat()} | {span} |")
    eps: tuple[CycleEpisode, ...] = episodes(account, lc.kind_of)
    lines += ["", "## Crisis and recovery episodes", ""]
    if not eps:
        lines.append("None: the account has not fallen out of its growth stages.")
    for e in eps:
        length = _fmt_days(e.duration_until(now or e.opened_at).total_seconds() / _DAY)
        path = " → ".join(e.stages)
        ending = {
            "recovered": f"recovered to {e.returned_to}",
            "lost": "lost",
            "ongoing": "still open",
        }
        relapse = " (a relapse)" if e.relapse else ""
        lines.append(
            f"- {e.opened_at.date().isoformat()}: left {e.left} for {path}; "
            f"{ending[e.outcome.value]} after {length}{relapse}."
        )
    if open_plans:
        lines += ["", "## Open recovery plans", ""]
        lines += [f"- {p}" for p in open_plans]
    profile = lc.profile(account.stage)
    if profile is not None:
        lines += ["", "## How to show up", ""]
        lines.append(f"Take the role of {' and '.join(profile.posture)}. {profile.characteristics}")
        lines += [f"- {a}" for a in profile.key_actions]
    return "\n".join(lines) + "\n"
