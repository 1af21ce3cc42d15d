"""Properties of the lifecycle engine: a stateful model, and fire/replay equivalence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from stars import (
    STARS,
    Account,
    ConcurrentModification,
    Event,
    HookEvent,
    HookFailed,
    OutOfOrder,
    Policy,
    Snapshot,
    StarsError,
    TransitionNotAllowed,
    TransitionRefused,
    TransitionVetoed,
)
from stars.health import trend
from stars.lifecycle import evidence
from stars.testing import events, snapshots

T0 = datetime(2024, 1, 1, tzinfo=UTC)
STAGES = {s.name for s in STARS.stages}
TRIGGERS = sorted(STARS.triggers)


class LifecycleMachine(RuleBasedStateMachine):
    """Drive one account through a lifecycle with flaky hooks; check invariants after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.lc = STARS.evolve()
        self.account = Account("acme")
        self.now = T0
        self.changes = 0
        self.fail_before = False
        self.fail_after = False

        @self.lc.before()
        def maybe_veto(event: HookEvent) -> None:
            if self.fail_before:
                raise RuntimeError("vetoed")

        @self.lc.after()
        def maybe_fail(event: HookEvent) -> None:
            if self.fail_after:
                raise ValueError("late failure")

    @rule(gap=st.integers(0, 40), snapshot=snapshots(at=st.just(T0)))
    def observe(self, gap: int, snapshot: object) -> None:
        from attrs import evolve

        self.now += timedelta(days=gap)
        self.lc.observe(self.account, evolve(snapshot, at=self.now))  # type: ignore[arg-type]
        self.changes += 1

    @rule(fail_before=st.booleans(), fail_after=st.booleans())
    def set_hooks(self, fail_before: bool, fail_after: bool) -> None:
        self.fail_before, self.fail_after = fail_before, fail_after

    @rule(
        trigger=st.sampled_from(TRIGGERS),
        gap=st.integers(-2, 30),
        force=st.booleans(),
        reason=st.none() | st.sampled_from(["customer asked", ""]),
        to=st.none() | st.sampled_from(sorted(STAGES)),
    )
    def fire(self, trigger: str, gap: int, force: bool, reason: str | None, to: str | None) -> None:
        at = self.now + timedelta(days=gap)
        before = (self.account.stage, self.account.history, self.account.version)
        try:
            record = self.lc.fire(self.account, trigger, at=at, force=force, reason=reason, to=to)
        except HookFailed as exc:
            record = exc.record  # applied: the late hook failed after the commit
        except (TransitionNotAllowed, TransitionRefused, TransitionVetoed, OutOfOrder):
            assert (self.account.stage, self.account.history, self.account.version) == before
            return
        except StarsError:  # bad arguments (a forced fire without a reason, ...)
            assert (self.account.stage, self.account.history, self.account.version) == before
            return
        self.changes += 1
        self.now = max(self.now, at)
        assert self.account.history[-1] is record
        assert record.source == before[0]
        assert record.forced is force

    @precondition(lambda self: len(self.account.history) > 0)
    @rule()
    def stale_version_is_refused(self) -> None:
        try:
            self.lc.fire(
                self.account,
                "lose",
                at=self.now,
                reason="x",
                expected_version=self.account.version + 1,
            )
        except ConcurrentModification:
            return
        raise AssertionError("a stale version was accepted")

    @invariant()
    def stage_is_valid(self) -> None:
        assert self.account.stage in STAGES

    @invariant()
    def history_chains_and_time_never_goes_back(self) -> None:
        history = self.account.history
        stage = STARS.initial
        for previous, record in zip((None, *history), history, strict=False):
            assert record.source == stage
            stage = record.dest
            if previous is not None:
                assert previous.at <= record.at
        assert stage == self.account.stage

    @invariant()
    def version_counts_every_change(self) -> None:
        assert self.account.version == self.changes

    @invariant()
    def replay_agrees(self) -> None:
        again = STARS.replay("acme", self.account.history, snapshots=self.account.snapshots)
        assert again == self.account


TestLifecycleMachine = LifecycleMachine.TestCase
TestLifecycleMachine.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)


@settings(max_examples=150, deadline=None)
@given(events(max_size=40))
def test_fire_and_replay_paths_agree(evs: list[Event]) -> None:
    """For any sequence of forced triggers, firing through the machine and replaying give the same."""
    fired = Account("acme")
    accepted: list[Event] = []
    for e in evs:
        try:
            STARS.fire(
                fired, e.trigger, at=e.at, actor=e.actor, reason=e.reason, force=True, to=e.to
            )
        except TransitionNotAllowed:
            # the replay path must refuse the same event at the same point
            try:
                STARS.replay("acme", [*accepted, e])
            except TransitionNotAllowed:
                continue
            raise AssertionError(f"replay accepted {e} that fire refused") from None
        accepted.append(e)
    replayed = STARS.replay("acme", accepted)
    assert replayed.stage == fired.stage
    assert replayed.history == fired.history
    assert replayed.version == fired.version
    assert STARS.replay("acme", fired.history) == fired


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.none() | st.integers(0, 10_000).map(lambda i: i / 100), min_size=1, max_size=8),
    st.integers(1, 5),
)
def test_the_evidence_trend_reads_the_latest_readings_skipping_snapshots_without_one(
    healths: list[float | None], window: int
) -> None:
    snaps = [Snapshot(at=T0 + timedelta(days=7 * i), health=h) for i, h in enumerate(healths)]
    account = Account("a", stage="ascend", snapshots=snaps)
    read = [s for s in snaps if s.health is not None][-window:]
    want = trend(read).slope
    assert evidence(account, policy=Policy(trend_window=window)).slope == want
