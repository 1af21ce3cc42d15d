"""The customer success cycle: six phases from first awareness to advocacy.

The usual sales funnel stops where the contract is signed. The customer success
cycle keeps going: after the customer commits, the vendor still owes guidance
through implementation (real adoption), performance (results measured against the
business case) and advocacy (a satisfied customer who speaks for the vendor).
Marketing, sales and services each lead some of the phases.

A `Journey` is the definition: one forward-only state machine on the engine the
lifecycle uses, with gates, hooks and a policy. A
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
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Final, TypeAlias, TypeVar

import attrs
from transitions import Machine

from stars import _engine
from stars import _validate as v
from stars._engine import Edge, EdgeTable, commit, lock_for
from stars._log import Log, append
from stars._ordered import OrderedStrEnum
from stars._shown import short_of
from stars.errors import (
    ConcurrentModification,
    InvalidValue,
    OutOfOrder,
    TransitionNotAllowed,
    TransitionRefused,
    UnknownName,
)
from stars.stages import Stage, StageKind

__all__ = [
    "Alignment",
    "CustomerJourney",
    "Journey",
    "JourneyEvent",
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
    if type(value) is Log:
        return value  # already immutable
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
        version: The number of steps taken; leave it out to have it derived. A version
            that disagrees with ``history`` is refused.

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
    _history: Sequence[PhaseRecord] = attrs.field(default=(), converter=_as_tuple, alias="history")
    _version: int = attrs.field(default=None, alias="version")

    def __attrs_post_init__(self) -> None:
        if not isinstance(self._history, tuple | Log):
            raise InvalidValue("history", self._history, "a sequence of PhaseRecord")
        previous: PhaseRecord | None = None
        for n, record in enumerate(self._history):
            if not isinstance(record, PhaseRecord):
                raise InvalidValue(f"history[{n}]", record, "a PhaseRecord")
            if previous is not None:
                if record.source is not previous.dest:
                    raise InvalidValue(
                        f"history[{n}].source", record.source.value, repr(previous.dest.value)
                    )
                if v.before(record.at, previous.at):
                    raise OutOfOrder("journey step", record.at.isoformat(), previous.at.isoformat())
            previous = record
        if previous is not None and previous.dest is not self._phase:
            raise InvalidValue("phase", self._phase.value, f"{previous.dest.value!r}, from history")
        steps = len(self._history)
        given: int | None = self._version  # None (the default) means: derive it
        if given is None:
            self._version = steps
            return
        v.number("version", given, 0, None, integer=True)
        if isinstance(given, float):
            raise InvalidValue("version", given, "a whole number at or above 0")
        if given != steps:
            raise InvalidValue(
                "version",
                given,
                f"{steps}, the number of steps in the history",
                hint="leave version out to have it derived",
            )

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
    def history(self) -> Sequence[PhaseRecord]:
        """The steps taken, oldest first, as an immutable sequence.

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
        # Only through stars._engine.commit, under the journey's own lock.
        self._history = append(self._history, record)
        self._phase = record.dest
        self._version += 1


@attrs.frozen(slots=True, eq=False)
class JourneyEvent:
    """What a journey hook receives.

    ``record`` is ``None`` in before- and exit-hooks (nothing is recorded yet) and the new
    `PhaseRecord` in enter- and after-hooks. ``subject`` is the journey, as in every
    machine's event.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.journey import CustomerJourney, Journey
        >>> journey = Journey()
        >>> seen = []
        >>> @journey.after("engage")
        ... def note(event):
        ...     seen.append((event.source.value, event.dest.value, event.subject.version))
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> _ = journey.advance(CustomerJourney("acme"), at=t)
        >>> seen
        [('awareness', 'engagement', 1)]
    """

    journey: CustomerJourney
    trigger: str
    source: Phase
    dest: Phase
    at: datetime
    actor: str | None
    reason: str | None
    forced: bool
    record: PhaseRecord | None
    machine: Journey

    @property
    def subject(self) -> CustomerJourney:
        """The journey the step moves (the same as ``journey``).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.journey import CustomerJourney, Journey, JourneyEvent
            >>> j = CustomerJourney("acme")
            >>> e = JourneyEvent(j, "engage", "awareness", "engagement",
            ...                  datetime(2025, 1, 1, tzinfo=timezone.utc), None, None, False,
            ...                  None, Journey())
            >>> e.subject is j
            True
        """
        return self.journey


JourneyHook: TypeAlias = Callable[[JourneyEvent], None]
"""A hook: called with a `JourneyEvent` (the step about to be taken, or just taken)."""
H = TypeVar("H", bound=JourneyHook)


def _check_hooks(name: str, hooks: object) -> tuple[JourneyHook, ...]:
    if isinstance(hooks, str) or not isinstance(hooks, Iterable):
        raise InvalidValue(name, hooks, "an iterable of callables")
    out = tuple(hooks)
    for hook in out:
        if not callable(hook):
            raise InvalidValue(name, hook, "a callable taking a JourneyEvent")
    return out


class _Gate:
    """What the gates read: the evidence presented for a step."""

    __slots__ = ("adoption", "value")

    def __init__(self, adoption: float | None, value: ValueCase | None) -> None:
        self.adoption = adoption
        self.value = value


class Journey(_engine.Machine):
    """The customer success cycle as a forward-only machine with gates and hooks.

    It runs on the same engine as `Lifecycle`: one edge per step, the gates as guards
    with reasons, the same hook phases (before and exit may veto; enter and after see
    the record; every hook of a phase runs) and the same concurrency rule (no lock while
    a hook runs; the step is committed under the journey's own lock only if its version
    is unchanged). A ``Journey`` holds no customer journeys, so one serves any number of
    customers and threads. Its ``transitions.Machine``, built once, is the reference the
    engine is tested against.

    Args:
        policy: The gate thresholds.
        before: Hooks run before any step; one that raises vetoes the step
            (`TransitionVetoed`) and nothing changes.
        after: Hooks run after any step is recorded; one that raises makes the call raise
            `HookFailed`, but the step stands.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.journey import CustomerJourney, Journey, JourneyPolicy
        >>> seen = []
        >>> journey = Journey(JourneyPolicy(adoption_threshold=0.7),
        ...                   after=[lambda event: seen.append(event.trigger)])
        >>> j = CustomerJourney("acme", phase="implementation")
        >>> journey.check(j, adoption=0.6)
        ('effective adoption 0.60 is below the 0.70 threshold',)
        >>> _ = journey.advance(j, at=datetime(2025, 5, 1, tzinfo=timezone.utc), adoption=0.75)
        >>> seen, j.phase.value
        (['perform'], 'performance')
    """

    _hook_event_name = "a JourneyEvent"

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
        befores, afters = _check_hooks("before", before), _check_hooks("after", after)
        _engine.Machine.__init__(self)
        for hook in befores:
            self._register("before", "*", hook)
        for hook in afters:
            self._register("after", "*", hook)
        self._edges: EdgeTable[_Gate] = EdgeTable(
            Edge(str(dest.trigger), [source.value], dest.value, [self._gate(dest)], (source, dest))
            for source, dest in itertools.pairwise(_PHASE_ORDER)
        )
        self._machine = Machine(
            model=None,
            states=[p.value for p in Phase],
            initial=Phase.AWARENESS.value,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for edge in self._edges.edges:

            def passes(event_data: Any, edge: Edge[_Gate] = edge) -> bool:
                kwargs = event_data.kwargs
                return bool(kwargs["force"]) or not edge.reasons(kwargs["gate"])

            self._machine.add_transition(edge.trigger, edge.sources[0], edge.dest, [passes])

    def _gate(self, dest: Phase) -> Callable[[_Gate], str | None]:
        def gate(ctx: _Gate) -> str | None:
            reasons = self._reasons(dest, ctx.adoption, ctx.value)
            return reasons[0] if reasons else None

        return gate

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
        return {edge.trigger: edge.tag for edge in self._edges.edges}

    # -- hooks -----------------------------------------------------------------------
    def _trigger_key(self, trigger: str | None) -> str:
        if trigger is None:
            return "*"
        if not isinstance(trigger, str) or trigger not in self.triggers:
            raise UnknownName("trigger", trigger, list(self.triggers))
        return trigger

    def before(self, trigger: str | None = None) -> Callable[[H], H]:
        """Register a hook that runs before ``trigger`` (or any step); raising vetoes it.

        Examples:
            >>> from stars.journey import Journey
            >>> journey = Journey()
            >>> @journey.before("advocate")
            ... def ask_marketing(event):
            ...     pass
        """
        return self._decorator("before", self._trigger_key(trigger))

    def after(self, trigger: str | None = None) -> Callable[[H], H]:
        """Register a hook that runs after ``trigger`` (or any step) was recorded.

        Examples:
            >>> from stars.journey import Journey
            >>> journey = Journey()
            >>> @journey.after()
            ... def log(event):
            ...     pass
        """
        return self._decorator("after", self._trigger_key(trigger))

    def on_enter(self, phase: Phase | str) -> Callable[[H], H]:
        """Register a hook that runs when a journey enters ``phase``.

        Examples:
            >>> from stars.journey import Journey
            >>> journey = Journey()
            >>> @journey.on_enter("advocacy")
            ... def thank(event):
            ...     pass
        """
        return self._decorator("enter", _to_phase(phase).value)

    def on_exit(self, phase: Phase | str) -> Callable[[H], H]:
        """Register a hook that runs when a journey is about to leave ``phase``; raising vetoes.

        Examples:
            >>> from stars.journey import Journey
            >>> journey = Journey()
            >>> @journey.on_exit("implementation")
            ... def note(event):
            ...     pass
        """
        return self._decorator("exit", _to_phase(phase).value)

    def on_before(self, hook: JourneyHook) -> JourneyHook:
        """Register a before-hook for every step; returns it, so it can be used as a decorator.

        Examples:
            >>> from stars.journey import Journey
            >>> journey = Journey()
            >>> @journey.on_before
            ... def log(event):
            ...     pass
            >>> callable(log)
            True
        """
        self._register("before", "*", hook)
        return hook

    def on_after(self, hook: JourneyHook) -> JourneyHook:
        """Register an after-hook for every step; returns it, so it can be used as a decorator.

        Examples:
            >>> from stars.journey import Journey
            >>> journey = Journey()
            >>> journey.on_after(print) is print
            True
        """
        self._register("after", "*", hook)
        return hook

    def remove_hook(self, fn: JourneyHook) -> int:
        """Unregister a hook everywhere; returns how many registrations were removed.

        Examples:
            >>> from stars.journey import Journey
            >>> journey = Journey()
            >>> journey.remove_hook(journey.on_after(print))
            1
        """
        return self._remove(fn)

    # -- queries and steps -------------------------------------------------------------
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
        return tuple(self._edges.triggers_from(journey.phase.value))

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

        The journey's version is read first; the gate and the before- and exit-hooks run
        without a lock; the step is committed under the journey's own lock only if the
        version is unchanged, so of several writers that read one version exactly one wins.

        Args:
            journey: The customer's journey; changed in place when the step succeeds.
            at: When the step happened (timezone-aware, not before the last step, compared
                as an instant).
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
            TransitionVetoed: Before- or exit-hooks raised (``errors``). Nothing changed.
            HookFailed: Enter- or after-hooks raised (``errors``); the step was recorded.
            OutOfOrder: ``at`` is earlier than the last step.
            ConcurrentModification: ``expected_version`` does not match, or another writer
                moved the journey while this call ran. Nothing changed.
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
        v.expected_version(expected_version)
        adoption, value = _evidence(adoption, value)
        with lock_for(journey):
            version, source, history = journey._version, journey._phase, journey._history
        if expected_version is not None and expected_version != version:
            raise ConcurrentModification(journey.account_id, expected_version, version)
        dest = source.next
        target = None if to is None else _to_phase(to)
        if dest is None or (target is not None and target is not dest):
            wanted = target if target is not None else dest
            trigger = "advance" if wanted is None else f"{wanted.trigger or 'to ' + wanted.value}"
            raise TransitionNotAllowed(
                journey.account_id,
                source.value,
                trigger,
                self._edges.triggers_from(source.value),
            )
        if history and v.before(at, history[-1].at):
            raise OutOfOrder("journey step", at.isoformat(), history[-1].at.isoformat())
        trigger = str(dest.trigger)
        group = self._edges.get(source.value, trigger)
        assert group is not None  # the journey's phase always has its next step
        gate = _Gate(adoption, value)
        chosen, refusals = EdgeTable.pick(group, lambda dest: gate)
        if chosen is None and not force:
            raise TransitionRefused(journey.account_id, source.value, trigger, refusals)
        record = PhaseRecord(
            trigger,
            source,
            dest,
            at,
            actor=actor,
            reason=reason,
            forced=chosen is None,
            adoption=adoption,
            value=value,
        )

        def event(committed: PhaseRecord | None) -> JourneyEvent:
            return JourneyEvent(
                journey, trigger, source, dest, at, actor, reason, force, committed, self
            )

        def write() -> tuple[PhaseRecord, PhaseRecord]:
            commit(journey, journey.account_id, version, lambda: journey._append(record))
            return record, record

        return self._transact(
            journey.account_id,
            trigger,
            self._phases(trigger, source.value, dest.value, None),
            event,
            write,
        )

    def __repr__(self) -> str:
        hooks = self._hooks
        return (
            f"Journey(policy={self._policy!r}, before={len(hooks.get(('before', '*'), ()))},"
            f" after={len(hooks.get(('after', '*'), ()))})"
        )

    def _reasons(
        self, dest: Phase, adoption: float | None, value: ValueCase | None
    ) -> tuple[str, ...]:
        policy = self._policy
        if dest is Phase.PERFORMANCE:
            if adoption is None:
                return ("effective adoption is not recorded",)
            if adoption < policy.adoption_threshold:
                got, need = short_of(adoption, policy.adoption_threshold, digits=2)
                return (f"effective adoption {got} is below the {need} threshold",)
        if dest is Phase.ADVOCACY:
            if value is None:
                return ("no value case: the projected value of the business case is unknown",)
            if value.ratio is None:
                return (
                    f"realized value is not documented against the projected {value.projected:g}",
                )
            if value.ratio < policy.min_value_ratio:
                got, need = short_of(value.ratio, policy.min_value_ratio, percent=True)
                return (f"realized value is {got} of projected, below the {need} required",)
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
