from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from stars.account import Account
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
from stars.journey import (
    PHASE_PROFILES,
    Alignment,
    CustomerJourney,
    Journey,
    JourneyEvent,
    JourneyPolicy,
    Phase,
    PhaseRecord,
    Team,
    ValueCase,
    check_alignment,
    phases_for,
)
from stars.stages import Stage

T0 = datetime(2025, 1, 6, 9, tzinfo=UTC)


def at(days: int) -> datetime:
    return T0 + timedelta(days=days)


def journey_at(phase: Phase) -> CustomerJourney:
    return CustomerJourney("acme", phase=phase)


def state(j: CustomerJourney) -> tuple[object, ...]:
    return (j.phase, j.history, j.version)


# -- phases ---------------------------------------------------------------------------


def test_phases_are_ordered_and_chained() -> None:
    assert list(Phase) == [
        Phase.AWARENESS,
        Phase.ENGAGEMENT,
        Phase.COMMITMENT,
        Phase.IMPLEMENTATION,
        Phase.PERFORMANCE,
        Phase.ADVOCACY,
    ]
    assert sorted([Phase.ADVOCACY, Phase.AWARENESS, Phase.PERFORMANCE]) == [
        Phase.AWARENESS,
        Phase.PERFORMANCE,
        Phase.ADVOCACY,
    ]
    assert Phase.AWARENESS < Phase.ENGAGEMENT <= "engagement" < Phase.ADVOCACY
    assert Phase.ADVOCACY > Phase.PERFORMANCE >= Phase.PERFORMANCE
    assert [p.rank for p in Phase] == [1, 2, 3, 4, 5, 6]
    for a, b in zip(Phase, list(Phase)[1:], strict=False):
        assert a.next is b
        assert b.trigger is not None
    assert Phase.ADVOCACY.next is None
    assert Phase.AWARENESS.trigger is None
    with pytest.raises(UnknownName):
        _ = Phase.AWARENESS < "purchase"
    with pytest.raises(TypeError):
        _ = Phase.AWARENESS < 1  # type: ignore[operator]


def test_each_phase_carries_the_guidance_owed_and_its_lead_teams() -> None:
    assert {p: p.guidance for p in Phase} == {
        Phase.AWARENESS: "thought leadership",
        Phase.ENGAGEMENT: "client-specific diagnosis",
        Phase.COMMITMENT: "a business case and consensus",
        Phase.IMPLEMENTATION: "adoption",
        Phase.PERFORMANCE: "measured and documented results",
        Phase.ADVOCACY: "a platform for the customer's success story",
    }
    assert Phase.AWARENESS.leads == (Team.MARKETING,)
    assert Phase.IMPLEMENTATION.leads[0] is Team.SERVICES
    assert Team.MARKETING in Phase.ADVOCACY.leads  # marketing is back after the sale
    assert Team.SERVICES in Phase.COMMITMENT.leads  # services before the sale
    assert {t for p in Phase for t in p.leads} == set(Team)
    assert set(PHASE_PROFILES) == set(Phase)
    assert all(p.profile.goal for p in Phase)


# -- the stage mapping ----------------------------------------------------------------


def test_stage_mapping() -> None:
    assert {p: p.stage for p in Phase} == {
        Phase.AWARENESS: Stage.PROSPECT,
        Phase.ENGAGEMENT: Stage.PROSPECT,
        Phase.COMMITMENT: Stage.PROSPECT,
        Phase.IMPLEMENTATION: Stage.SEED,
        Phase.PERFORMANCE: Stage.ACCELERATE,
        Phase.ADVOCACY: Stage.ASCEND,
    }


def test_stage_mapping_round_trips() -> None:
    for phase in Phase:
        assert phase in phases_for(phase.stage)
    seen: list[Phase] = []
    for stage in Stage:
        back = phases_for(stage)
        assert all(p.stage is stage for p in back)
        assert list(back) == sorted(back)
        seen += back
    assert sorted(seen) == list(Phase)  # every phase exactly once
    assert phases_for("reset") == phases_for(Stage.TACT) == phases_for("churn") == ()
    with pytest.raises(UnknownName, match="stage"):
        phases_for("gold")


@pytest.mark.parametrize("phase", list(Phase))
def test_a_phase_is_aligned_with_its_own_stage(phase: Phase) -> None:
    result = check_alignment(phase, phase.stage)
    assert result.ok and result.matches
    assert result.expected is phase.stage


@pytest.mark.parametrize(
    ("phase", "stage", "needle"),
    [
        ("advocacy", "tact", "crisis stage"),
        ("performance", "tact", "crisis stage"),
        ("advocacy", "reset", "crisis stage"),
        ("performance", "reset", "crisis stage"),
        ("implementation", "churn", "churned"),
        ("performance", "churn", "churned"),
        ("advocacy", "churn", "churned"),
        ("implementation", "prospect", "prospect"),
        ("advocacy", "prospect", "prospect"),
        ("awareness", "seed", "before the sale"),
        ("commitment", "ascend", "before the sale"),
        ("engagement", "tact", "before the sale"),
    ],
)
def test_contradictions(phase: str, stage: str, needle: str) -> None:
    result = check_alignment(phase, stage)
    assert not result.ok
    assert any(needle in reason for reason in result.contradictions)


@pytest.mark.parametrize(
    ("phase", "stage"),
    [
        ("awareness", "churn"),  # a lost customer can be won back
        ("commitment", "churn"),
        ("implementation", "tact"),  # re-onboarding a troubled account
        ("implementation", "reset"),
        ("implementation", "ascend"),
        ("performance", "seed"),
        ("advocacy", "accelerate"),
    ],
)
def test_consistent_but_not_matching(phase: str, stage: str) -> None:
    result = check_alignment(phase, stage)
    assert result.ok
    assert not result.matches


def test_alignment_takes_accounts_and_journeys() -> None:
    account = Account("acme", stage="tact")
    result = check_alignment(journey_at(Phase.ADVOCACY), account)
    assert isinstance(result, Alignment)
    assert (result.phase, result.stage, result.expected) == (
        Phase.ADVOCACY,
        Stage.TACT,
        Stage.ASCEND,
    )
    with pytest.raises(UnknownName, match="stage"):
        check_alignment("advocacy", Account("acme", stage="gold"))
    with pytest.raises(UnknownName, match="stage"):
        check_alignment("advocacy", 42)
    with pytest.raises(UnknownName, match="phase"):
        check_alignment("purchase", "seed")


# -- value objects --------------------------------------------------------------------


def test_value_case() -> None:
    case = ValueCase(projected=250_000, realized=300_000, unit="EUR")
    assert case.ratio == pytest.approx(1.2)
    assert case.documented
    assert not ValueCase(10).documented
    assert ValueCase(10, -5).ratio == -0.5  # a loss is still documented value
    for bad in (0, -1, float("inf"), "10", None, True):
        with pytest.raises(InvalidValue, match="projected"):
            ValueCase(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="realized"):
        ValueCase(10, float("nan"))
    with pytest.raises(InvalidValue, match="unit"):
        ValueCase(10, unit=3)  # type: ignore[arg-type]


def test_policy_validation() -> None:
    assert JourneyPolicy() == JourneyPolicy(adoption_threshold=0.5, min_value_ratio=1.0)
    with pytest.raises(InvalidValue, match="adoption_threshold"):
        JourneyPolicy(adoption_threshold=-0.1)
    with pytest.raises(InvalidValue, match="min_value_ratio"):
        JourneyPolicy(min_value_ratio=-1)
    with pytest.raises(InvalidValue, match="policy"):
        Journey("strict")  # type: ignore[arg-type]


def test_phase_record_validation() -> None:
    ok = PhaseRecord("commit", "engagement", "commitment", T0)
    assert ok.dest is Phase.COMMITMENT and not ok.forced
    with pytest.raises(InvalidValue, match="dest"):
        PhaseRecord("commit", "engagement", "implementation", T0)
    with pytest.raises(InvalidValue, match="dest"):
        PhaseRecord("engage", "engagement", "awareness", T0)  # backwards
    with pytest.raises(InvalidValue, match="trigger"):
        PhaseRecord("sign", "engagement", "commitment", T0)
    with pytest.raises(InvalidValue, match="reason"):
        PhaseRecord("commit", "engagement", "commitment", T0, forced=True)
    with pytest.raises(InvalidValue, match="adoption"):
        PhaseRecord("perform", "implementation", "performance", T0, adoption=1.5)
    with pytest.raises(InvalidValue, match="value"):
        PhaseRecord("advocate", "performance", "advocacy", T0, value=1.2)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="at"):
        PhaseRecord("commit", "engagement", "commitment", datetime(2025, 1, 1))
    with pytest.raises(InvalidValue, match="actor"):
        PhaseRecord("commit", "engagement", "commitment", T0, actor=7)  # type: ignore[arg-type]


def test_customer_journey_validation() -> None:
    r1 = PhaseRecord("engage", "awareness", "engagement", at(1))
    r2 = PhaseRecord("commit", "engagement", "commitment", at(2))
    j = CustomerJourney("acme", phase="commitment", history=[r1, r2], version=2)
    assert j.history == (r1, r2)
    assert "phase='commitment'" in repr(j)
    with pytest.raises(InvalidValue, match="account_id"):
        CustomerJourney("")
    with pytest.raises(InvalidValue, match="phase"):
        CustomerJourney("acme", phase="engagement", history=[r1, r2])
    with pytest.raises(InvalidValue, match=re.escape("history[1].source")):
        CustomerJourney("acme", phase="commitment", history=[r2, r2])
    with pytest.raises(OutOfOrder):
        CustomerJourney(
            "acme",
            phase="commitment",
            history=[r1, PhaseRecord("commit", "engagement", "commitment", at(0))],
        )
    with pytest.raises(InvalidValue, match=re.escape("history[0]")):
        CustomerJourney("acme", history=["engage"])
    with pytest.raises(InvalidValue, match="history"):
        CustomerJourney("acme", history=5)  # type: ignore[arg-type]
    for bad in (-1, 1.0, True):
        with pytest.raises(InvalidValue, match="version"):
            CustomerJourney("acme", version=bad)  # type: ignore[arg-type]


# -- moving forward -------------------------------------------------------------------


def test_a_full_journey_records_every_step() -> None:
    journey = Journey()
    j = CustomerJourney("acme")
    journey.advance(j, at=at(1), actor="mia")
    journey.advance(j, at=at(10), to="commitment")
    journey.advance(j, at=at(20), to=Phase.IMPLEMENTATION)
    journey.advance(j, at=at(90), adoption=0.55)
    journey.advance(j, at=at(200), value=ValueCase(100, 110))
    assert j.phase is Phase.ADVOCACY
    assert j.version == 5
    assert [r.trigger for r in j.history] == [
        "engage",
        "commit",
        "implement",
        "perform",
        "advocate",
    ]
    for prev, nxt in zip(j.history, j.history[1:], strict=False):
        assert prev.dest is nxt.source
        assert prev.at <= nxt.at
    assert j.history[0].actor == "mia"
    assert j.history[3].adoption == 0.55
    assert j.history[4].value == ValueCase(100, 110)
    assert journey.allowed(j) == ()


def test_the_adoption_gate_on_both_sides() -> None:
    journey = Journey()
    j = journey_at(Phase.IMPLEMENTATION)
    for adoption, why in ((None, "not recorded"), (0.49, "0.49 is below the 0.50 threshold")):
        with pytest.raises(TransitionRefused, match=re.escape(why)) as info:
            journey.advance(j, at=T0, adoption=adoption)
        assert info.value.trigger == "perform"
        assert state(j) == (Phase.IMPLEMENTATION, (), 0)
    record = journey.advance(j, at=T0, adoption=0.5)  # exactly at the threshold passes
    assert record.dest is Phase.PERFORMANCE


def test_the_adoption_threshold_comes_from_the_policy() -> None:
    strict = Journey(JourneyPolicy(adoption_threshold=0.8))
    with pytest.raises(TransitionRefused):
        strict.advance(journey_at(Phase.IMPLEMENTATION), at=T0, adoption=0.7)
    assert strict.advance(journey_at(Phase.IMPLEMENTATION), at=T0, adoption=0.8)


def test_the_value_gate_on_both_sides() -> None:
    journey = Journey()
    j = journey_at(Phase.PERFORMANCE)
    refusals = [
        (None, "no value case"),
        (ValueCase(100), "not documented"),
        (ValueCase(100, 99), "99% of projected, below the 100% required"),
    ]
    for value, why in refusals:
        with pytest.raises(TransitionRefused, match=re.escape(why)):
            journey.advance(j, at=T0, value=value)
        assert state(j) == (Phase.PERFORMANCE, (), 0)
    assert journey.advance(j, at=T0, value=ValueCase(100, 100)).dest is Phase.ADVOCACY
    lenient = Journey(JourneyPolicy(min_value_ratio=0.8))
    assert lenient.advance(journey_at(Phase.PERFORMANCE), at=T0, value=ValueCase(100, 85))


def test_ungated_steps_need_no_evidence() -> None:
    journey = Journey()
    for phase in (Phase.AWARENESS, Phase.ENGAGEMENT, Phase.COMMITMENT):
        assert journey.check(journey_at(phase)) == ()
    # evidence for another gate does not matter on an ungated step
    assert journey.advance(journey_at(Phase.COMMITMENT), at=T0, adoption=0.0)


def test_check_is_pure_and_names_the_reasons() -> None:
    calls: list[str] = []
    journey = Journey(before=[lambda event: calls.append("before")])
    j = journey_at(Phase.IMPLEMENTATION)
    assert journey.check(j, adoption=0.2) == (
        "effective adoption 0.20 is below the 0.50 threshold",
    )
    assert journey.check(j, adoption=0.9) == ()
    assert journey.check(journey_at(Phase.ADVOCACY)) == (
        "advocacy is the last phase; there is no next step",
    )
    assert calls == []
    assert state(j) == (Phase.IMPLEMENTATION, (), 0)
    with pytest.raises(InvalidValue, match="adoption"):
        journey.check(j, adoption=2)
    with pytest.raises(InvalidValue, match="value"):
        journey.check(j, value=100)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (Phase.AWARENESS, Phase.COMMITMENT),  # skip
        (Phase.AWARENESS, Phase.ADVOCACY),
        (Phase.IMPLEMENTATION, Phase.ADVOCACY),
        (Phase.PERFORMANCE, Phase.IMPLEMENTATION),  # backwards
        (Phase.COMMITMENT, Phase.COMMITMENT),  # standing still
        (Phase.ENGAGEMENT, Phase.AWARENESS),
    ],
)
def test_skipping_or_going_back_is_not_allowed(start: Phase, target: Phase) -> None:
    j = journey_at(start)
    with pytest.raises(TransitionNotAllowed) as info:
        Journey().advance(
            j, at=T0, to=target, adoption=1.0, value=ValueCase(1, 2), force=True, reason="x"
        )
    assert info.value.stage == start.value
    assert info.value.allowed == (start.next.trigger,)  # type: ignore[union-attr]
    assert state(j) == (start, (), 0)


def test_nothing_follows_advocacy() -> None:
    j = journey_at(Phase.ADVOCACY)
    with pytest.raises(TransitionNotAllowed, match="'advance'; allowed here: nothing"):
        Journey().advance(j, at=T0)
    with pytest.raises(TransitionNotAllowed, match="to awareness"):
        Journey().advance(j, at=T0, to="awareness")
    with pytest.raises(UnknownName, match="phase"):
        Journey().advance(j, at=T0, to="renewal")


def test_force_overrides_a_gate_but_is_recorded() -> None:
    journey = Journey()
    j = journey_at(Phase.IMPLEMENTATION)
    with pytest.raises(InvalidValue, match="reason"):
        journey.advance(j, at=T0, force=True)
    with pytest.raises(InvalidValue, match="reason"):
        journey.advance(j, at=T0, force=True, reason="  ")
    record = journey.advance(j, at=T0, force=True, reason="pilot counts as adopted", adoption=0.2)
    assert record.forced and record.reason == "pilot counts as adopted"
    # forcing a step that the gate would have allowed is not an override
    assert not journey.advance(j, at=T0, force=True, reason="r", value=ValueCase(1, 1)).forced


def test_time_must_not_go_backwards() -> None:
    journey = Journey()
    j = CustomerJourney("acme")
    journey.advance(j, at=at(5))
    with pytest.raises(OutOfOrder):
        journey.advance(j, at=at(4))
    journey.advance(j, at=at(5))  # same instant is fine
    with pytest.raises(InvalidValue, match="at"):
        journey.advance(j, at=datetime(2025, 3, 1))
    assert j.version == 2


def test_bad_arguments() -> None:
    journey = Journey()
    j = CustomerJourney("acme")
    with pytest.raises(InvalidValue, match="journey"):
        journey.advance("acme", at=T0)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="force"):
        journey.advance(j, at=T0, force=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="actor"):
        journey.advance(j, at=T0, actor=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="journey"):
        journey.allowed(None)  # type: ignore[arg-type]
    assert state(j) == (Phase.AWARENESS, (), 0)


def test_expected_version_guards_against_lost_updates() -> None:
    journey = Journey()
    j = CustomerJourney("acme")
    journey.advance(j, at=T0, expected_version=0)
    with pytest.raises(ConcurrentModification):
        journey.advance(j, at=T0, expected_version=0)
    assert j.version == 1


# -- hooks ------------------------------------------------------------------------------


def test_before_hooks_see_the_pending_step_and_can_veto() -> None:
    seen: list[tuple[Phase, str]] = []
    journey = Journey()

    @journey.on_before
    def note(event: JourneyEvent) -> None:
        assert event.record is None and event.machine is journey
        seen.append((event.journey.phase, event.trigger))  # the journey has not moved yet

    @journey.on_before
    def no_budget(event: JourneyEvent) -> None:
        if event.dest is Phase.COMMITMENT:
            raise ValueError("no budget this year")

    j = CustomerJourney("acme")
    journey.advance(j, at=T0)
    with pytest.raises(TransitionVetoed, match="no budget") as info:
        journey.advance(j, at=T0)
    assert isinstance(info.value.__cause__, ValueError)
    assert state(j)[0] is Phase.ENGAGEMENT and j.version == 1
    assert seen == [(Phase.AWARENESS, "engage"), (Phase.ENGAGEMENT, "commit")]


def test_after_hooks_run_once_the_step_is_recorded() -> None:
    seen: list[int] = []
    journey = Journey(after=[lambda event: seen.append(len(event.subject.history))])

    def broken(event: JourneyEvent) -> None:
        raise KeyError("crm down")

    j = CustomerJourney("acme")
    journey.advance(j, at=T0)
    assert seen == [1]
    journey.on_after(broken)
    with pytest.raises(HookFailed, match="crm down") as info:
        journey.advance(j, at=T0)
    assert info.value.record == j.history[-1]  # the step stands
    assert j.phase is Phase.COMMITMENT and seen == [1, 2]


def test_hooks_must_be_callables() -> None:
    with pytest.raises(InvalidValue, match="before"):
        Journey(before=["notify"])  # type: ignore[list-item]
    with pytest.raises(InvalidValue, match="after"):
        Journey(after=print)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="hook"):
        Journey().on_after(3)  # type: ignore[arg-type]


# -- the machine ------------------------------------------------------------------------


def test_one_machine_and_no_registered_models() -> None:
    journey = Journey()
    assert journey.triggers == {
        "engage": (Phase.AWARENESS, Phase.ENGAGEMENT),
        "commit": (Phase.ENGAGEMENT, Phase.COMMITMENT),
        "implement": (Phase.COMMITMENT, Phase.IMPLEMENTATION),
        "perform": (Phase.IMPLEMENTATION, Phase.PERFORMANCE),
        "advocate": (Phase.PERFORMANCE, Phase.ADVOCACY),
    }
    j = CustomerJourney("acme")
    for _ in range(3):
        journey.advance(j, at=T0)
    machine = journey._machine
    assert machine.models == []
    assert not hasattr(j, "engage")  # no trigger methods written onto the journey
    assert "to_advocacy" not in machine.events  # auto transitions are off
    assert "Journey(policy=" in repr(journey)


def test_one_journey_serves_many_customers_across_threads() -> None:
    journey = Journey()
    customers = [CustomerJourney(f"c{n}") for n in range(40)]

    def run(j: CustomerJourney) -> Phase:
        for _ in range(3):
            journey.advance(j, at=T0)
        journey.advance(j, at=T0, adoption=0.6)
        journey.advance(j, at=T0, value=ValueCase(1, 1))
        return j.phase

    with ThreadPoolExecutor(max_workers=4) as pool:
        phases = list(pool.map(run, customers))
    assert phases == [Phase.ADVOCACY] * 40
    assert all(len(j.history) == 5 for j in customers)
