from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from stars.errors import OutOfOrder, TransitionNotAllowed, TransitionRefused
from stars.journey import (
    CustomerJourney,
    Journey,
    JourneyPolicy,
    Phase,
    ValueCase,
    check_alignment,
    phases_for,
)
from stars.stages import Stage

T0 = datetime(2025, 1, 1, tzinfo=UTC)
fractions = st.none() | st.floats(min_value=0, max_value=1, allow_nan=False)
values = st.none() | st.builds(
    ValueCase,
    projected=st.floats(min_value=1, max_value=1e6, allow_nan=False),
    realized=st.none() | st.floats(min_value=-1e6, max_value=2e6, allow_nan=False),
)


class JourneyMachine(RuleBasedStateMachine):
    """Drive one customer journey with random steps, good and bad."""

    @initialize(
        threshold=st.floats(min_value=0, max_value=1, allow_nan=False),
        ratio=st.floats(min_value=0, max_value=2, allow_nan=False),
    )
    def setup(self, threshold: float, ratio: float) -> None:
        self.journey = Journey(JourneyPolicy(adoption_threshold=threshold, min_value_ratio=ratio))
        self.j = CustomerJourney("acme")
        self.clock = T0
        self.hooked: list[str] = []
        self.journey.on_after(lambda event: self.hooked.append(event.trigger))

    def snapshot(self) -> tuple[object, ...]:
        return (self.j.phase, self.j.history, self.j.version)

    @rule(adoption=fractions, value=values, days=st.integers(0, 30))
    def step(self, adoption: float | None, value: ValueCase | None, days: int) -> None:
        self.clock += timedelta(days=days)
        before = self.snapshot()
        reasons = self.journey.check(self.j, adoption=adoption, value=value)
        failure: TransitionRefused | TransitionNotAllowed | None = None
        try:
            record = self.journey.advance(self.j, at=self.clock, adoption=adoption, value=value)
        except (TransitionRefused, TransitionNotAllowed) as err:
            failure = err
        if failure is not None:
            assert self.snapshot() == before  # a refused step changes nothing
            if isinstance(failure, TransitionRefused):
                assert failure.reasons == reasons
                assert reasons
            else:
                assert before[0] is Phase.ADVOCACY
            return
        assert not reasons
        assert record.source is before[0] and record.dest is before[0].next  # type: ignore[attr-defined]
        assert self.j.history[-1] == record and not record.forced

    @precondition(lambda self: self.j.phase is not Phase.ADVOCACY)
    @rule(data=st.data())
    def jump(self, data: st.DataObject) -> None:
        target = data.draw(st.sampled_from([p for p in Phase if p is not self.j.phase.next]))
        before = self.snapshot()
        try:
            self.journey.advance(
                self.j, at=self.clock, to=target, adoption=1.0, value=ValueCase(1, 5)
            )
        except TransitionNotAllowed:
            assert self.snapshot() == before
        else:  # pragma: no cover - a skip or a step back must never succeed
            raise AssertionError(f"{before[0]} -> {target} was allowed")

    @precondition(lambda self: self.j.history)
    @rule()
    def travel_back_in_time(self) -> None:
        before = self.snapshot()
        try:
            self.journey.advance(
                self.j,
                at=self.j.history[-1].at - timedelta(seconds=1),
                adoption=1.0,
                value=ValueCase(1, 5),
            )
        except (OutOfOrder, TransitionNotAllowed):
            assert self.snapshot() == before
        else:  # pragma: no cover
            raise AssertionError("a step earlier than the last one was recorded")

    @rule(reason=st.sampled_from(["pilot agreed", "exec sponsor waived it"]))
    def force(self, reason: str) -> None:
        if self.j.phase is Phase.ADVOCACY:
            return
        record = self.journey.advance(self.j, at=self.clock, force=True, reason=reason)
        gated = record.dest in (Phase.PERFORMANCE, Phase.ADVOCACY)
        assert record.forced == gated  # without evidence only the gated steps need forcing

    @invariant()
    def history_chains(self) -> None:
        history = self.j.history
        assert self.j.version == len(history)
        if history:
            assert history[0].source is Phase.AWARENESS
            assert history[-1].dest is self.j.phase
        else:
            assert self.j.phase is Phase.AWARENESS
        for prev, nxt in itertools.pairwise(history):
            assert prev.dest is nxt.source
            assert prev.at <= nxt.at
        for record in history:
            assert record.dest is record.source.next  # no skipped phase
        assert [p.rank for p in (r.dest for r in history)] == list(range(2, len(history) + 2))
        assert self.hooked == [r.trigger for r in history]


TestJourneyMachine = JourneyMachine.TestCase
TestJourneyMachine.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(list(Phase)), st.sampled_from(list(Stage)))
def test_alignment_is_consistent_with_the_mapping(phase: Phase, stage: Stage) -> None:
    result = check_alignment(phase, stage)
    assert result.matches == (phase in phases_for(stage))
    if result.matches:
        assert result.ok  # a phase never contradicts its own stage
