"""The customer success cycle: six phases from first awareness to advocacy.

The usual sales funnel stops where the contract is signed. The customer success
cycle keeps going: after the customer commits, the vendor still owes guidance
through implementation (real adoption), performance (results measured against the
business case) and advocacy (a satisfied customer who speaks for the vendor).
Marketing, sales and services each lead some of the phases.

A `Journey` is the definition: one forward-only state machine, built once
with the ``transitions`` package, with gates, hooks and a policy. A
`CustomerJourney` is one customer's position and its append-only history of
`PhaseRecord`. Two gates guard the later phases: moving from implementation to
performance needs effective adoption at or above the policy threshold, and moving
from performance to advocacy needs the realized value documented against the value
projected in the business case (`ValueCase`).

Each phase maps to a STARS `Stage`, and `check_alignment`
reports where a journey phase and a lifecycle stage contradict each other.

Examples:
    >>> from datetime import datetime, timezone
    >>> from stars.journey import CustomerJourney, Journey, Phase, ValueCase
    >>> journey = Journey()
    >>> acme = CustomerJourney("acme")
    >>> t = datetime(2025, 1, 6, tzinfo=timezone.utc)
    >>> for _ in range(3):
    ...     _ = journey.advance(acme, at=t)
    >>> acme.phase
    <Phase.IMPLEMENTATION: 'implementation'>
    >>> journey.advance(acme, at=t, adoption=0.3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    stars.errors.TransitionRefused: ...'perform' refused: effective adoption 0.30 is below ...
    >>> journey.advance(acme, at=t, adoption=0.62).dest
    <Phase.PERFORMANCE: 'performance'>
    >>> journey.advance(acme, at=t, value=ValueCase(projected=200_000, realized=230_000)).dest
    <Phase.ADVOCACY: 'advocacy'>
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Final, TypeAlias

import attrs
from transitions import Machine

from stars import _validate as v
from stars._ordered import OrderedStrEnum
from stars.errors import (
    ConcurrentModification,
    HookFailed,
    InvalidValue,
    OutOfOrder,
    TransitionNotAllowed,
    TransitionRefused,
    TransitionVetoed,
    UnknownName,
)
from stars.stages import Stage, StageKind

__all__ = [
    "Alignment",
    "CustomerJourney",
    "Journey",
    "JourneyHook",
    "JourneyPolicy",
    "Phase",
    "PhaseProfile",
    "PhaseRecord",
    "Team",
    "ValueCase",
    "check_alignment",
    "phases_for",
]


class Team(enum.StrEnum):
    """The vendor teams that lead the phases of the cycle.

    Examples:
        >>> from stars.journey import Team
        >>> [t.value for t in Team]
        ['marketing', 'sales', 'services']
    """

    MARKETING = "marketing"
    SALES = "sales"
    SERVICES = "services"


@attrs.frozen(slots=True)
class PhaseProfile:
    """What a phase is about and who leads it.

    Attributes:
        goal: What the vendor is trying to achieve in the phase.
        guidance: The kind of guidance the vendor owes the customer there.
        leads: The teams that lead the phase, the main one first.

    Examples:
        >>> from stars.journey import Phase
        >>> Phase.ENGAGEMENT.profile.leads
        (<Team.SALES: 'sales'>, <Team.MARKETING: 'marketing'>)
    """

    goal: str
    guidance: str
    leads: tuple[Team, ...]


class Phase(OrderedStrEnum):
    """The six phases of the customer success cycle, in order.

    Phases compare by position in the cycle, not alphabetically (a plain string is
    read as a phase).

    Examples:
        >>> from stars.journey import Phase
        >>> Phase.AWARENESS < Phase.COMMITMENT < Phase.ADVOCACY
        True
        >>> Phase.IMPLEMENTATION.next, Phase.IMPLEMENTATION.stage
        (<Phase.PERFORMANCE: 'performance'>, <Stage.SEED: 'seed'>)
        >>> Phase.PERFORMANCE.guidance
        'measured and documented results'
    """

    AWARENESS = "awareness"
    ENGAGEMENT = "engagement"
    COMMITMENT = "commitment"
    IMPLEMENTATION = "implementation"
    PERFORMANCE = "performance"
    ADVOCACY = "advocacy"

    @property
    def rank(self) -> int:
        """The phase's position, 1 (``AWARENESS``) to 6 (``ADVOCACY``).

        Examples:
            >>> from stars.journey import Phase
            >>> Phase.ADVOCACY.rank
            6
        """
        return _PHASE_ORDER.index(self) + 1

    @property
    def next(self) -> Phase | None:
        """The phase that follows, or ``None`` after ``ADVOCACY``.

        Examples:
            >>> from stars.journey import Phase
            >>> print(Phase.ADVOCACY.next)
            None
        """
        i = _PHASE_ORDER.index(self)
        return _PHASE_ORDER[i + 1] if i + 1 < len(_PHASE_ORDER) else None

    @property
    def trigger(self) -> str | None:
        """The trigger that moves a journey into this phase (``None`` for the first).

        Examples:
            >>> from stars.journey import Phase
            >>> Phase.ADVOCACY.trigger
            'advocate'
        """
        return _TRIGGER_INTO.get(self)

    @property
    def profile(self) -> PhaseProfile:
        """The phase's goal, guidance and lead teams.

        Examples:
            >>> from stars.journey import Phase
            >>> Phase.AWARENESS.profile.leads
            (<Team.MARKETING: 'marketing'>,)
        """
        return PHASE_PROFILES[self]

    @property
    def guidance(self) -> str:
        """The kind of guidance the vendor owes the customer in this phase.

        Examples:
            >>> from stars.journey import Phase
            >>> Phase.AWARENESS.guidance
            'thought leadership'
        """
        return PHASE_PROFILES[self].guidance

    @property
    def leads(self) -> tuple[Team, ...]:
        """The teams that lead this phase, the main one first.

        Examples:
            >>> from stars.journey import Phase
            >>> [t.value for t in Phase.IMPLEMENTATION.leads]
            ['services']
        """
        return PHASE_PROFILES[self].leads

    @property
    def stage(self) -> Stage:
        """The STARS lifecycle stage this phase corresponds to.

        Examples:
            >>> from stars.journey import Phase
            >>> Phase.COMMITMENT.stage, Phase.ADVOCACY.stage
            (<Stage.PROSPECT: 'prospect'>, <Stage.ASCEND: 'ascend'>)
        """
        return _STAGE_OF[self]


_PHASE_ORDER: Final = tuple(Phase)

_TRIGGER_INTO: Final = {
    Phase.ENGAGEMENT: "engage",
    Phase.COMMITMENT: "commit",
    Phase.IMPLEMENTATION: "implement",
    Phase.PERFORMANCE: "perform",
    Phase.ADVOCACY: "advocate",
}

PHASE_PROFILES: Final[dict[Phase, PhaseProfile]] = {
    Phase.AWARENESS: PhaseProfile(
        goal=(
            "Get noticed by the right buyers and earn their trust as an authority on the"
            " problems they care about."
        ),
        guidance="thought leadership",
        leads=(Team.MARKETING,),
    ),
    Phase.ENGAGEMENT: PhaseProfile(
        goal=(
            "Nurture the interested buyer until sales can take over, then work out this"
            " customer's core problem and what could solve it."
        ),
        guidance="client-specific diagnosis",
        leads=(Team.SALES, Team.MARKETING),
    ),
    Phase.COMMITMENT: PhaseProfile(
        goal=(
            "Turn a draft business case into one the customer's decision makers agree on,"
            " weighing the cost of the problem against the effort of changing."
        ),
        guidance="a business case and consensus",
        leads=(Team.SALES, Team.SERVICES),
    ),
    Phase.IMPLEMENTATION: PhaseProfile(
        goal=(
            "Get the solution fully in place and really used, on time and on budget, so it"
            " never turns into shelfware."
        ),
        guidance="adoption",
        leads=(Team.SERVICES,),
    ),
    Phase.PERFORMANCE: PhaseProfile(
        goal=(
            "Help the customer hit its targets, then quantify and record the gains against"
            " what the business case promised."
        ),
        guidance="measured and documented results",
        leads=(Team.SERVICES, Team.SALES),
    ),
    Phase.ADVOCACY: PhaseProfile(
        goal=(
            "Give a customer with proven results a stage for its success story, so it"
            " vouches for the vendor to new prospects."
        ),
        guidance="a platform for the customer's success story",
        leads=(Team.MARKETING, Team.SALES),
    ),
}

_STAGE_OF: Final = {
    Phase.AWARENESS: Stage.PROSPECT,
    Phase.ENGAGEMENT: Stage.PROSPECT,
    Phase.COMMITMENT: Stage.PROSPECT,
    Phase.IMPLEMENTATION: Stage.SEED,
    Phase.PERFORMANCE: Stage.ACCELERATE,
    Phase.ADVOCACY: Stage.ASCEND,
}


def _to_phase(value: object) -> Phase:
    if isinstance(value, Phase):
        return value
    if isinstance(value, str):
        try:
            return Phase(value.strip().lower())
        except ValueError:
            pass
    raise UnknownName("phase", value, [p.value for p in Phase])


def _to_stage(value: object) -> Stage:
    if isinstance(value, Stage):
        return value
    if isinstance(value, str):
        try:
            return Stage(value.strip().lower())
        except ValueError:
            pass
    raise UnknownName("stage", value, [s.value for s in Stage])


def phases_for(stage: Stage | str) -> tuple[Phase, ...]:
    """The journey phases that correspond to a STARS stage (the inverse of ``Phase.stage``).

    Crisis stages and ``CHURN`` have no phase of their own: the cycle describes a
    relationship moving forward.

    Examples:
        >>> from stars.journey import phases_for
        >>> [p.value for p in phases_for("prospect")]
        ['awareness', 'engagement', 'commitment']
        >>> phases_for("tact")
        ()
    """
    wanted = _to_stage(stage)
    return tuple(p for p in Phase if _STAGE_OF[p] is wanted)


# -- value objects --------------------------------------------------------------------


def _check_projected(instance: Any, attribute: Any, value: Any) -> None:
    v.number(attribute.name, value, 0, None)
    if value <= 0:
        raise InvalidValue(attribute.name, value, "a number above 0")


def _as_float(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


@attrs.frozen(slots=True)
class ValueCase:
    """The value a business case projected, and the value actually realized.

    Attributes:
        projected: The value promised in the business case (above 0).
        realized: The value measured and documented so far, or ``None`` if nobody has
            measured it yet. It may be below zero when the customer lost money.
        unit: What the numbers are in (``"EUR"``, ``"hours saved"``, ...), for display.

    Examples:
        >>> from stars.journey import ValueCase
        >>> ValueCase(projected=100_000, realized=80_000).ratio
        0.8
        >>> print(ValueCase(projected=100_000).ratio)
        None
        >>> ValueCase(projected=0)
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: projected: got 0.0, expected a number above 0
    """

    projected: float = attrs.field(converter=_as_float, validator=_check_projected)
    realized: float | None = attrs.field(
        default=None, converter=_as_float, validator=v.optional_number()
    )
    unit: str = attrs.field(default="", validator=v.field(v.text, empty=True))

    @property
    def documented(self) -> bool:
        """Whether realized value has been recorded.

        Examples:
            >>> from stars.journey import ValueCase
            >>> ValueCase(10, 12).documented
            True
        """
        return self.realized is not None

    @property
    def ratio(self) -> float | None:
        """Realized value as a share of projected value (``None`` if not documented).

        Examples:
            >>> from stars.journey import ValueCase
            >>> ValueCase(50, 75).ratio
            1.5
        """
        return None if self.realized is None else self.realized / self.projected


_check_adoption_threshold = v.field(v.number, 0, 1)
_check_ratio = v.field(v.number, 0, None)


@attrs.frozen(slots=True)
class JourneyPolicy:
    """The thresholds behind the journey's gates.

    Attributes:
        adoption_threshold: The effective adoption (0 to 1) a customer needs before
            implementation counts as done. The default, 0.5, is a real bar: most
            enterprise buyers reportedly use less than half of what they bought.
        min_value_ratio: The realized-to-projected value ratio needed before the
            customer is ready to advocate. The default, 1.0, asks that the business
            case was delivered in full.

    Examples:
        >>> from stars.journey import JourneyPolicy
        >>> JourneyPolicy().adoption_threshold
        0.5
        >>> JourneyPolicy(adoption_threshold=1.2)
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: adoption_threshold: got 1.2, expected a number from 0 to 1
    """

    adoption_threshold: float = attrs.field(
        default=0.5, converter=_as_float, validator=_check_adoption_threshold
    )
    min_value_ratio: float = attrs.field(default=1.0, converter=_as_float, validator=_check_ratio)


def _check_value_case(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and not isinstance(value, ValueCase):
        raise InvalidValue(attribute.name, value, "a ValueCase or None")


@attrs.frozen(slots=True)
class PhaseRecord:
    """One step of a customer's journey. Records are immutable and kept in time order.

    Attributes:
        trigger: The trigger that fired (``"engage"``, ``"commit"``, ...).
        source: The phase the customer left.
        dest: The phase the customer entered (always the next one).
        at: When it happened (timezone-aware).
        actor: Who made it happen, if known.
        reason: Why, if given (always given when forced).
        forced: Whether a gate was overridden.
        adoption: The effective adoption presented as evidence, if any.
        value: The value case presented as evidence, if any.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.journey import PhaseRecord
        >>> r = PhaseRecord("engage", "awareness", "engagement",
        ...                 datetime(2025, 1, 1, tzinfo=timezone.utc))
        >>> r.source, r.dest
        (<Phase.AWARENESS: 'awareness'>, <Phase.ENGAGEMENT: 'engagement'>)
        >>> PhaseRecord("advocate", "awareness", "advocacy",
        ...             datetime(2025, 1, 1, tzinfo=timezone.utc))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: dest: got 'advocacy', expected the phase after awareness ...
    """

    trigger: str = attrs.field(validator=v.field(v.text))
    source: Phase = attrs.field(converter=_to_phase)
    dest: Phase = attrs.field(converter=_to_phase)
    at: datetime = attrs.field(validator=v.field(v.aware))
    actor: str | None = attrs.field(default=None, validator=v.field(v.optional_string))
    reason: str | None = attrs.field(default=None, validator=v.field(v.optional_string))
    forced: bool = attrs.field(default=False, validator=v.field(v.flag))
    adoption: float | None = attrs.field(
        default=None, converter=_as_float, validator=v.optional_number(0, 1)
    )
    value: ValueCase | None = attrs.field(default=None, validator=_check_value_case)

    def __attrs_post_init__(self) -> None:
        if self.dest is not self.source.next:
            raise InvalidValue(
                "dest",
                self.dest.value,
                f"the phase after {self.source.value} ({_show_phase(self.source.next)})",
            )
        if self.trigger != self.dest.trigger:
            raise InvalidValue("trigger", self.trigger, repr(self.dest.trigger))
        if self.forced and not self.reason:
            raise InvalidValue("reason", self.reason, "a reason whenever forced=True")


def _show_phase(phase: Phase | None) -> str:
    return "none: the cycle ends there" if phase is None else phase.value


def _as_tuple(value: object) -> Any:
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        return tuple(value)
    return value


def _check_account_id(instance: Any, attribute: Any, value: Any) -> None:
    v.text("account_id", value)


@attrs.define(slots=True, eq=True, repr=False)
class CustomerJourney:
    """One customer's position in the cycle, and the steps that brought it there.

    Change the phase only through a `Journey`, which keeps phase, history and
    version consistent; everything the journey holds is frozen.

    Args:
        account_id: The account this journey belongs to (non-empty).
        phase: The current phase (default ``AWARENESS``); must agree with ``history``.
        history: Earlier steps, in time order, each starting where the previous ended.
        version: Increases by one with every step.

    Examples:
        >>> from stars.journey import CustomerJourney
        >>> j = CustomerJourney("acme", phase="implementation")
        >>> j.phase, j.history, j.version
        (<Phase.IMPLEMENTATION: 'implementation'>, (), 0)
        >>> CustomerJourney("acme", phase="done")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.UnknownName: unknown phase 'done'; known: ...
    """

    account_id: str = attrs.field(validator=_check_account_id)
    _phase: Phase = attrs.field(default=Phase.AWARENESS, converter=_to_phase, alias="phase")
    _history: tuple[PhaseRecord, ...] = attrs.field(
        default=(), converter=_as_tuple, alias="history"
    )
    _version: int = attrs.field(default=0, alias="version")

    def __attrs_post_init__(self) -> None:
        if not isinstance(self._history, tuple):
            raise InvalidValue("history", self._history, "a sequence of PhaseRecord")
        v.number("version", self._version, 0, None, integer=True)
        if isinstance(self._version, float):
            raise InvalidValue("version", self._version, "a whole number at or above 0")
        previous: PhaseRecord | None = None
        for n, record in enumerate(self._history):
            if not isinstance(record, PhaseRecord):
                raise InvalidValue(f"history[{n}]", record, "a PhaseRecord")
            if previous is not None:
                if record.source is not previous.dest:
                    raise InvalidValue(
                        f"history[{n}].source", record.source.value, repr(previous.dest.value)
                    )
                if record.at < previous.at:
                    raise OutOfOrder("journey step", record.at.isoformat(), previous.at.isoformat())
            previous = record
        if previous is not None and previous.dest is not self._phase:
            raise InvalidValue("phase", self._phase.value, f"{previous.dest.value!r}, from history")

    @property
    def phase(self) -> Phase:
        """The current phase.

        Examples:
            >>> from stars.journey import CustomerJourney
            >>> CustomerJourney("acme").phase
            <Phase.AWARENESS: 'awareness'>
        """
        return self._phase

    @property
    def history(self) -> tuple[PhaseRecord, ...]:
        """The steps taken, oldest first.

        Examples:
            >>> from stars.journey import CustomerJourney
            >>> CustomerJourney("acme").history
            ()
        """
        return self._history

    @property
    def version(self) -> int:
        """A counter that increases by one with every step (for optimistic concurrency).

        Examples:
            >>> from stars.journey import CustomerJourney
            >>> CustomerJourney("acme").version
            0
        """
        return self._version

    def __repr__(self) -> str:
        return (
            f"CustomerJourney(account_id={self.account_id!r}, phase={self._phase.value!r},"
            f" history={len(self._history)}, version={self._version})"
        )

    def _append(self, record: PhaseRecord) -> None:
        self._history = (*self._history, record)
        self._phase = record.dest
        self._version += 1


JourneyHook: TypeAlias = Callable[[CustomerJourney, PhaseRecord], None]
"""A hook: called with the journey and the step (about to be taken, or just taken)."""


@attrs.define(slots=True)
class _Proxy:
    # The only object the shared machine ever sees: it holds a state name for the
    # length of one trigger call and collects the gate's reasons.
    state: str
    refusals: tuple[str, ...] = ()


class _HookVeto(Exception):
    def __init__(self, error: Exception) -> None:
        super().__init__(repr(error))
        self.error = error


def _check_hooks(name: str, hooks: object) -> tuple[JourneyHook, ...]:
    if isinstance(hooks, str) or not isinstance(hooks, Iterable):
        raise InvalidValue(name, hooks, "an iterable of callables")
    out = tuple(hooks)
    for hook in out:
        if not callable(hook):
            raise InvalidValue(name, hook, "a callable taking (journey, record)")
    return out


class Journey:
    """The customer success cycle as a forward-only machine with gates and hooks.

    One ``transitions.Machine`` is built per ``Journey`` and shared by every
    customer journey it moves: journeys are never registered with it, so a
    ``Journey`` can serve any number of customers (and threads). Each step runs the
    machine on a small stand-in object; only when the machine accepts the step is the
    record appended to the `CustomerJourney`.

    Args:
        policy: The gate thresholds.
        before: Hooks run before a step is applied; one that raises vetoes the step
            (`TransitionVetoed`) and nothing changes.
        after: Hooks run after a step is recorded; one that raises makes the call raise
            `HookFailed`, but the step stands.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.journey import CustomerJourney, Journey, JourneyPolicy
        >>> seen = []
        >>> journey = Journey(JourneyPolicy(adoption_threshold=0.7),
        ...                   after=[lambda j, r: seen.append(r.trigger)])
        >>> j = CustomerJourney("acme", phase="implementation")
        >>> journey.check(j, adoption=0.6)
        ('effective adoption 0.60 is below the 0.70 threshold',)
        >>> _ = journey.advance(j, at=datetime(2025, 5, 1, tzinfo=timezone.utc), adoption=0.75)
        >>> seen, j.phase.value
        (['perform'], 'performance')
    """

    __slots__ = ("_after", "_before", "_machine", "_policy")

    def __init__(
        self,
        policy: JourneyPolicy | None = None,
        *,
        before: Iterable[JourneyHook] = (),
        after: Iterable[JourneyHook] = (),
    ) -> None:
        if policy is None:
            policy = JourneyPolicy()
        if not isinstance(policy, JourneyPolicy):
            raise InvalidValue("policy", policy, "a JourneyPolicy")
        self._policy = policy
        self._before = _check_hooks("before", before)
        self._after = _check_hooks("after", after)
        self._machine = Machine(
            model=None,
            states=[p.value for p in Phase],
            initial=Phase.AWARENESS.value,
            transitions=[
                {
                    "trigger": dest.trigger,
                    "source": source.value,
                    "dest": dest.value,
                    "conditions": [self._gate],
                    "before": [self._run_before],
                }
                for source, dest in itertools.pairwise(_PHASE_ORDER)
            ],
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )

    @property
    def policy(self) -> JourneyPolicy:
        """The gate thresholds.

        Examples:
            >>> from stars.journey import Journey
            >>> Journey().policy.min_value_ratio
            1.0
        """
        return self._policy

    @property
    def triggers(self) -> dict[str, tuple[Phase, Phase]]:
        """Every trigger with the phase it leaves and the phase it enters.

        Examples:
            >>> from stars.journey import Journey
            >>> Journey().triggers["implement"]
            (<Phase.COMMITMENT: 'commitment'>, <Phase.IMPLEMENTATION: 'implementation'>)
        """
        return {
            name: (_to_phase(t.source), _to_phase(t.dest))
            for name, event in self._machine.events.items()
            for ts in event.transitions.values()
            for t in ts
        }

    def on_before(self, hook: JourneyHook) -> JourneyHook:
        """Register a before-hook; returns it, so it can be used as a decorator.

        Examples:
            >>> from stars.journey import Journey
            >>> journey = Journey()
            >>> @journey.on_before
            ... def log(journey_, record):
            ...     pass
            >>> callable(log)
            True
        """
        self._before = (*self._before, *_check_hooks("hook", [hook]))
        return hook

    def on_after(self, hook: JourneyHook) -> JourneyHook:
        """Register an after-hook; returns it, so it can be used as a decorator.

        Examples:
            >>> from stars.journey import Journey
            >>> journey = Journey()
            >>> journey.on_after(print) is print
            True
        """
        self._after = (*self._after, *_check_hooks("hook", [hook]))
        return hook

    def allowed(self, journey: CustomerJourney) -> tuple[str, ...]:
        """The triggers the graph allows from the journey's phase (gates not evaluated).

        Examples:
            >>> from stars.journey import CustomerJourney, Journey
            >>> Journey().allowed(CustomerJourney("a", phase="commitment"))
            ('implement',)
            >>> Journey().allowed(CustomerJourney("a", phase="advocacy"))
            ()
        """
        _check_journey(journey)
        nxt = journey.phase.next
        return () if nxt is None else (str(nxt.trigger),)

    def check(
        self,
        journey: CustomerJourney,
        *,
        adoption: float | None = None,
        value: ValueCase | None = None,
    ) -> tuple[str, ...]:
        """Why the next step would be refused with this evidence (empty: it would pass).

        Pure: nothing changes and no hook runs. At the end of the cycle the reason is
        that there is no next phase.

        Examples:
            >>> from stars.journey import CustomerJourney, Journey, ValueCase
            >>> j = CustomerJourney("acme", phase="performance")
            >>> Journey().check(j, value=ValueCase(100))
            ('realized value is not documented against the projected 100',)
            >>> Journey().check(j, value=ValueCase(100, 120))
            ()
        """
        _check_journey(journey)
        evidence = _evidence(adoption, value)
        nxt = journey.phase.next
        if nxt is None:
            return ("advocacy is the last phase; there is no next step",)
        return self._reasons(nxt, *evidence)

    def advance(
        self,
        journey: CustomerJourney,
        *,
        at: datetime,
        to: Phase | str | None = None,
        adoption: float | None = None,
        value: ValueCase | None = None,
        actor: str | None = None,
        reason: str | None = None,
        force: bool = False,
        expected_version: int | None = None,
    ) -> PhaseRecord:
        """Move the journey one phase forward.

        Args:
            journey: The customer's journey; changed in place when the step succeeds.
            at: When the step happened (timezone-aware, not before the last step).
            to: The phase the caller means to reach; anything but the next phase raises.
            adoption: Effective adoption (0 to 1), the evidence for ``perform``.
            value: The value case, the evidence for ``advocate``.
            actor: Who is making the step.
            reason: Why; required with ``force``.
            force: Step past a refusing gate (never past the graph); recorded.
            expected_version: Refuse the step if the journey changed since this version.

        Returns:
            The record appended to the journey's history.

        Raises:
            TransitionNotAllowed: ``to`` skips a phase or goes back, or the cycle is over.
            TransitionRefused: A gate refused; ``reasons`` says why. Nothing changed.
            TransitionVetoed: A before-hook raised. Nothing changed.
            HookFailed: An after-hook raised; the step was recorded.
            OutOfOrder: ``at`` is earlier than the last step.
            ConcurrentModification: ``expected_version`` does not match.
            InvalidValue: A bad argument.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.journey import CustomerJourney, Journey
            >>> j = CustomerJourney("acme")
            >>> t = datetime(2025, 2, 3, tzinfo=timezone.utc)
            >>> Journey().advance(j, at=t, to="commitment")  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            stars.errors.TransitionNotAllowed: account 'acme' in stage 'awareness' cannot ...
            >>> Journey().advance(j, at=t, actor="dana").trigger
            'engage'
        """
        _check_journey(journey)
        v.aware("at", at)
        v.flag("force", force)
        for name, item in (("actor", actor), ("reason", reason)):
            if item is not None and not isinstance(item, str):
                raise InvalidValue(name, item, "a string or None")
        if force and not (reason and reason.strip()):
            raise InvalidValue("reason", reason, "a reason whenever force=True")
        adoption, value = _evidence(adoption, value)
        if expected_version is not None and expected_version != journey.version:
            raise ConcurrentModification(journey.account_id, expected_version, journey.version)
        source = journey.phase
        dest = source.next
        target = None if to is None else _to_phase(to)
        if dest is None or (target is not None and target is not dest):
            wanted = target if target is not None else dest
            trigger = "advance" if wanted is None else f"{wanted.trigger or 'to ' + wanted.value}"
            raise TransitionNotAllowed(
                journey.account_id, source.value, trigger, self.allowed(journey)
            )
        if journey.history and at < journey.history[-1].at:
            raise OutOfOrder("journey step", at.isoformat(), journey.history[-1].at.isoformat())
        trigger = str(dest.trigger)
        overridden = force and bool(self._reasons(dest, adoption, value))
        record = PhaseRecord(
            trigger,
            source,
            dest,
            at,
            actor=actor,
            reason=reason,
            forced=overridden,
            adoption=adoption,
            value=value,
        )
        proxy = _Proxy(source.value)
        try:
            moved = self._machine.events[trigger].trigger(
                proxy, journey=journey, record=record, force=force
            )
        except _HookVeto as veto:
            raise TransitionVetoed(journey.account_id, trigger, str(veto)) from veto.error
        if not moved:
            raise TransitionRefused(journey.account_id, source.value, trigger, proxy.refusals)
        journey._append(record)
        for hook in self._after:
            try:
                hook(journey, record)
            except Exception as err:
                raise HookFailed(journey.account_id, trigger, repr(err), record) from err
        return record

    def __repr__(self) -> str:
        return (
            f"Journey(policy={self._policy!r}, before={len(self._before)},"
            f" after={len(self._after)})"
        )

    # -- machine callbacks (send_event=True: each gets the transitions EventData) -------
    def _gate(self, event: Any) -> bool:
        record: PhaseRecord = event.kwargs["record"]
        reasons = self._reasons(record.dest, record.adoption, record.value)
        event.model.refusals = reasons
        return bool(event.kwargs["force"]) or not reasons

    def _run_before(self, event: Any) -> None:
        for hook in self._before:
            try:
                hook(event.kwargs["journey"], event.kwargs["record"])
            except Exception as err:
                raise _HookVeto(err) from err

    def _reasons(
        self, dest: Phase, adoption: float | None, value: ValueCase | None
    ) -> tuple[str, ...]:
        policy = self._policy
        if dest is Phase.PERFORMANCE:
            if adoption is None:
                return ("effective adoption is not recorded",)
            if adoption < policy.adoption_threshold:
                return (
                    f"effective adoption {adoption:.2f} is below the"
                    f" {policy.adoption_threshold:.2f} threshold",
                )
        if dest is Phase.ADVOCACY:
            if value is None:
                return ("no value case: the projected value of the business case is unknown",)
            if value.ratio is None:
                return (
                    f"realized value is not documented against the projected {value.projected:g}",
                )
            if value.ratio < policy.min_value_ratio:
                return (
                    f"realized value is {value.ratio:.0%} of projected, below the"
                    f" {policy.min_value_ratio:.0%} required",
                )
        return ()


def _check_journey(journey: object) -> None:
    if not isinstance(journey, CustomerJourney):
        raise InvalidValue("journey", journey, "a CustomerJourney")


def _evidence(adoption: object, value: object) -> tuple[float | None, ValueCase | None]:
    if adoption is not None:
        adoption = v.number("adoption", adoption, 0, 1)
    if value is not None and not isinstance(value, ValueCase):
        raise InvalidValue("value", value, "a ValueCase or None")
    return adoption, value


# -- alignment with the STARS lifecycle ------------------------------------------------


@attrs.frozen(slots=True)
class Alignment:
    """How a journey phase and a lifecycle stage fit together.

    Attributes:
        phase: The journey phase.
        stage: The account's lifecycle stage.
        expected: The stage the phase maps to.
        contradictions: Why the two views cannot both be true (empty when they can).

    Examples:
        >>> from stars.journey import check_alignment
        >>> a = check_alignment("performance", "accelerate")
        >>> a.ok, a.matches
        (True, True)
    """

    phase: Phase = attrs.field(converter=_to_phase)
    stage: Stage = attrs.field(converter=_to_stage)
    expected: Stage = attrs.field(converter=_to_stage)
    contradictions: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the phase and the stage can both be true.

        Examples:
            >>> from stars.journey import check_alignment
            >>> check_alignment("advocacy", "tact").ok
            False
        """
        return not self.contradictions

    @property
    def matches(self) -> bool:
        """Whether the stage is exactly the one the phase maps to.

        A phase can be consistent with a stage without matching it (a customer in
        implementation whose account is already accelerating, say).

        Examples:
            >>> from stars.journey import check_alignment
            >>> a = check_alignment("implementation", "accelerate")
            >>> a.ok, a.matches
            (True, False)
        """
        return self.stage is self.expected


def check_alignment(
    phase: Phase | str | CustomerJourney, account_or_stage: Stage | str | Any
) -> Alignment:
    """Check that a journey phase and a lifecycle stage do not contradict each other.

    Contradictions:

    - a churned account cannot be past commitment (implementing, performing, advocating);
    - an account in a crisis stage (``RESET``, ``TACT``) is not performing or advocating;
    - a prospect has not signed, so it cannot be implementing or later;
    - a current customer (growth or crisis stage) is no longer before the sale.

    Args:
        phase: A phase, its name, or a `CustomerJourney`.
        account_or_stage: A stage, its name, or anything with a ``stage`` attribute
            (an `Account`).

    Returns:
        The alignment, with the reasons for any contradiction.

    Raises:
        UnknownName: The phase or stage is not known.

    Examples:
        >>> from stars.account import Account
        >>> from stars.journey import check_alignment
        >>> check_alignment("advocacy", "tact").contradictions
        ('the account is in tact, a crisis stage, so it cannot be in the advocacy phase',)
        >>> check_alignment("implementation", Account("acme", stage="churn")).ok
        False
    """
    p = phase.phase if isinstance(phase, CustomerJourney) else _to_phase(phase)
    raw = account_or_stage
    if not isinstance(raw, str):
        raw = getattr(raw, "stage", raw)
    stage = _to_stage(raw)
    reasons: list[str] = []
    if stage is Stage.CHURN and p > Phase.COMMITMENT:
        reasons.append(f"the account has churned, so it cannot be in the {p.value} phase")
    if stage.kind is StageKind.CRISIS and p >= Phase.PERFORMANCE:
        reasons.append(
            f"the account is in {stage.value}, a crisis stage, so it cannot be in the"
            f" {p.value} phase"
        )
    if stage is Stage.PROSPECT and p >= Phase.IMPLEMENTATION:
        reasons.append(f"the account is still a prospect, so it cannot be in the {p.value} phase")
    if stage.kind in (StageKind.GROWTH, StageKind.CRISIS) and p <= Phase.COMMITMENT:
        reasons.append(
            f"the account is a customer ({stage.value}), but its journey is still before"
            f" the sale ({p.value})"
        )
    return Alignment(p, stage, p.stage, tuple(reasons))
