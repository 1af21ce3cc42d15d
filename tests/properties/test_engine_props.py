"""The engine agrees with `transitions`: for any sequence of events, the same moves are taken.

Each machine keeps its definition as a ``transitions.Machine`` (the reference), with the same
edges in the same order and the guards as its conditions. Here the engine and the reference
are driven side by side with random sequences of triggers, evidence and forced moves: both
must accept or refuse each one in the same way and land in the same stage.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import attrs
from hypothesis import example, given, settings
from hypothesis import strategies as st
from transitions import MachineError

from stars import (
    STARS,
    Account,
    Lifecycle,
    Snapshot,
    StageDef,
    TransitionDef,
    TransitionNotAllowed,
    TransitionRefused,
)
from stars.journey import CustomerJourney, Journey, JourneyPolicy, ValueCase, _Gate
from stars.recovery import (
    ActionItem,
    RecoveryPlan,
    RecoveryProcess,
    Stakeholder,
    StakeholderLevel,
)
from stars.recovery._process import _PlanContext
from stars.testing import snapshots

T0 = datetime(2024, 1, 1, tzinfo=UTC)
T = TypeVar("T")


class Model:
    """What the reference machine moves: a state name, nothing else."""

    def __init__(self, state: str) -> None:
        self.state = state


def outcome(move: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[str, T | None]:
    """'moved', 'refused' or 'not allowed', as the engine sees it, and what the move returned."""
    try:
        return "moved", move(*args, **kwargs)
    except TransitionRefused:
        return "refused", None
    except TransitionNotAllowed:
        return "not allowed", None


def reference(machine: Any, model: Model, trigger: str, **kwargs: Any) -> str:
    """'moved', 'refused' or 'not allowed', as the reference machine sees it."""
    try:
        return "moved" if machine.events[trigger].trigger(model, **kwargs) else "refused"
    except MachineError:
        return "not allowed"


# A graph whose names would collide if events were named by joining trigger and stage.
ODD = Lifecycle(
    [StageDef("p", "before"), StageDef("b>c", "growth"), StageDef("c", "growth")],
    [
        TransitionDef("a", "p", "b>c", "growth"),
        TransitionDef("a>b", "p", "c", "growth"),
        TransitionDef("a", ("b>c", "c"), "p", "recovery"),
        TransitionDef("a>b", "b>c", "c", "growth"),
    ],
    initial="p",
    name="odd",
)

flag = st.booleans()
# Evidence that the guards care about, mostly green so that long streaks (sustain, realign
# with its two destinations) are reached; the shared strategy adds arbitrary snapshots.
telling = st.builds(
    Snapshot,
    at=st.just(T0),
    health=st.sampled_from([90.0, 90.0, 90.0, 85.0, 55.0, 20.0, None]),
    contract_signed=flag,
    success_metrics_agreed=flag,
    expansion_open=flag,
    new_business_unit=flag,
    critical_risk=st.sampled_from([False, False, False, True]),
    reonboarding_agreed=flag,
)
step = st.one_of(
    st.tuples(st.just("observe"), telling | snapshots(at=st.just(T0))),
    st.tuples(
        st.just("fire"),
        # a trigger by name (often not allowed), or the n-th one the graph allows here
        st.sampled_from(sorted(STARS.triggers)) | st.integers(0, 5) | st.integers(0, 5),
        st.sampled_from([False, False, False, True]),
    ),
)


GREEN = Snapshot(at=T0, health=90.0, success_metrics_agreed=True)


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(step, min_size=20, max_size=60),
    start=st.sampled_from([s.name for s in STARS.stages]),
    since_days=st.none() | st.integers(0, 400),
    gap=st.sampled_from([1, 7, 30]),
)
# Always tried: realign from RESET with both destinations open, where only the
# definition order decides (a random run reaches it only now and then).
@example(
    steps=[("observe", GREEN)] * 3 + [("fire", "realign", False)],
    start="reset",
    since_days=400,
    gap=7,
)
def test_lifecycle_agrees_with_its_transitions_machine(
    steps: list[tuple[Any, ...]], start: str, since_days: int | None, gap: int
) -> None:
    lc = STARS
    since = None if since_days is None else T0 - timedelta(days=since_days)
    account = Account("acme", since=since, stage=start)  # imported mid-life
    model = Model(start)
    now = T0
    for item in steps:
        now += timedelta(days=gap)
        if item[0] == "observe":
            lc.observe(account, attrs.evolve(item[1], at=now))
            continue
        _, trigger, force = item
        if isinstance(trigger, int):
            allowed = lc._allowed_triggers(account.stage)
            trigger = allowed[trigger % len(allowed)]
        reason = "forced in a test" if force else None
        context = lc._context(account, account.known(now), now, trigger, reason)
        expected = reference(lc._machine, model, trigger, force=force, context=context)
        got, _ = outcome(lc.fire, account, trigger, at=now, force=force, reason=reason)
        assert got == expected, (trigger, account.stage, force)
        assert account.stage == model.state


@given(st.lists(st.tuples(st.sampled_from(["a", "a>b"]), st.booleans()), max_size=20))
def test_names_that_would_collide_when_joined_take_their_own_edges(
    steps: list[tuple[str, bool]],
) -> None:
    account = Account("odd", stage="p")
    model = Model("p")
    for i, (trigger, force) in enumerate(steps):
        at = T0 + timedelta(hours=i)
        context = ODD._context(account, None, at, trigger, None)
        expected = reference(ODD._machine, model, trigger, force=force, context=context)
        reason = "r" if force else None
        got, _ = outcome(ODD.fire, account, trigger, at=at, force=force, reason=reason)
        assert got == expected
        assert account.stage == model.state


evidence = st.tuples(
    st.none() | st.floats(0, 1),
    st.none() | st.builds(ValueCase, st.floats(1, 1000), st.none() | st.floats(0, 2000)),
    st.booleans(),
)


@given(
    steps=st.lists(evidence, max_size=12),
    threshold=st.floats(0, 1),
    ratio=st.floats(0, 2),
)
def test_journey_agrees_with_its_transitions_machine(
    steps: list[tuple[float | None, ValueCase | None, bool]], threshold: float, ratio: float
) -> None:
    journey = Journey(JourneyPolicy(adoption_threshold=threshold, min_value_ratio=ratio))
    j = CustomerJourney("acme")
    model = Model(j.phase.value)
    for i, (adoption, value, force) in enumerate(steps):
        at = T0 + timedelta(days=i)
        nxt = j.phase.next
        if nxt is None:
            assert journey.allowed(j) == ()
            break
        trigger = str(nxt.trigger)
        expected = reference(
            journey._machine, model, trigger, force=force, gate=_Gate(adoption, value)
        )
        reason = "r" if force else None
        got, _ = outcome(
            journey.advance, j, at=at, adoption=adoption, value=value, force=force, reason=reason
        )
        assert got == expected
        assert j.phase.value == model.state


edit = st.sampled_from(["cause", "stakeholders", "action", "done", "green", "lessons", "nothing"])
move = st.tuples(
    st.sampled_from(RecoveryProcess().triggers[1:]), st.booleans(), st.none() | st.just("why")
)


@given(st.lists(st.one_of(st.tuples(st.just("edit"), edit), move), max_size=30))
def test_recovery_agrees_with_its_transitions_machine(steps: list[tuple[Any, ...]]) -> None:
    process = RecoveryProcess()
    plan = process.open("acme", at=T0)
    model = Model(plan.step.value)
    for i, item in enumerate(steps):
        at = T0 + timedelta(days=i + 1)
        if item[0] == "edit":
            plan = _edited(plan, item[1], at)
            continue
        trigger, force, reason = item
        if force:
            reason = reason or "forced in a test"
        context = _PlanContext(plan, process.policy, reason)
        expected = reference(process._machine, model, trigger, force=force, context=context)
        got, moved = outcome(process.fire, plan, trigger, at=at, force=force, reason=reason)
        plan = moved or plan
        assert got == expected, (trigger, plan.step, force)
        assert plan.step.value == model.state


def _edited(plan: RecoveryPlan, what: str, at: datetime) -> RecoveryPlan:
    if not plan.is_open:
        return plan  # an ended plan takes no edits
    if what == "cause" and not plan.root_causes:
        return plan.add_root_cause("training_gap")
    if what == "stakeholders":
        for level in (StakeholderLevel.EXECUTIVE, StakeholderLevel.MANAGER):
            plan = plan.add_stakeholder(Stakeholder(f"{level.value} contact", level))
        return plan
    if what == "action":
        return plan.add_action(ActionItem("Retrain the admins", "lee", at + timedelta(days=14)))
    if what == "done" and plan.open_actions:
        index = plan.actions.index(plan.open_actions[0])
        return plan.complete_action(index, at)
    if what == "green":
        return plan.check_in(at, health=80)
    if what == "lessons":
        return plan.record_lessons("train admins before go-live").choose_indicators("logins")
    return plan
