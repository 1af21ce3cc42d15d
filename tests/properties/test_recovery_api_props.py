"""Properties of the recovery rules of issue 17: the policy's bands and the triage factors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from stars.account import Account, Snapshot
from stars.bands import BandCutoffs
from stars.recovery import (
    Effort,
    RecoveryPolicy,
    RecoveryProcess,
    TriageDecision,
    TriageFactor,
    TriagePolicy,
    triage,
)

T0 = datetime(2025, 1, 6, tzinfo=UTC)
scores = st.floats(0, 100, allow_nan=False)
money = st.floats(0, 1e7, allow_nan=False)


@st.composite
def cutoffs(draw: st.DrawFn) -> BandCutoffs:
    red = draw(scores)
    return BandCutoffs(red_below=red, green_from=draw(st.floats(red, 100)))


@given(policy_bands=cutoffs(), explicit=st.none() | cutoffs(), health=scores)
def test_a_check_in_band_comes_from_the_explicit_bands_else_the_policy(
    policy_bands: BandCutoffs, explicit: BandCutoffs | None, health: float
) -> None:
    plan = RecoveryProcess(RecoveryPolicy(bands=policy_bands)).open("acme", at=T0)
    got = plan.check_in(T0 + timedelta(days=1), health=health, bands=explicit).check_ins[-1]
    assert got.band is (explicit if explicit is not None else policy_bands).band_for(health)


FACTOR_WORDS = {
    TriageFactor.ICP_FIT: "decided by ICP fit: ",
    TriageFactor.EXPECTED_VALUE: "decided by expected value: ",
    TriageFactor.EFFORT: "decided by effort: ",
}


@given(
    health=scores,
    fit=st.floats(0, 1),
    pair=st.none() | st.tuples(money, money),
    ratios=st.tuples(st.floats(0, 5), st.floats(0, 5)).map(sorted),
)
def test_triage_follows_the_three_factors_in_order(
    health: float, fit: float, pair: tuple[float, float] | None, ratios: list[float]
) -> None:
    policy = TriagePolicy(min_value_ratio=ratios[0], high_effort_value_ratio=ratios[1])
    account = Account("acme", stage="ascend", snapshots=[Snapshot(at=T0, health=health)])
    value, cost = pair if pair is not None else (None, None)
    r = triage(account, fit, expected_value=value, cost_to_serve=cost, findings=[], policy=policy)
    assert r.reason.startswith(FACTOR_WORDS[r.decided_by])
    high = r.effort is Effort.HIGH
    need = ratios[1] if high else ratios[0]
    if fit < policy.release_below:
        expected = (TriageDecision.RELEASE, TriageFactor.ICP_FIT)
    elif value is not None and cost is not None and value < cost * need:
        expected = (TriageDecision.RELEASE, TriageFactor.EXPECTED_VALUE)
    elif fit < policy.marginal_below and high:
        expected = (TriageDecision.RELEASE, TriageFactor.EFFORT)
    elif value is not None:
        expected = (TriageDecision.SAVE, TriageFactor.EXPECTED_VALUE)
    else:
        expected = (TriageDecision.SAVE, TriageFactor.ICP_FIT)
    assert (r.decision, r.decided_by) == expected


@given(health=scores, fit=st.floats(0, 1), value=money, cost=money, more=money)
def test_more_expected_value_never_turns_a_save_into_a_release(
    health: float, fit: float, value: float, cost: float, more: float
) -> None:
    account = Account("acme", stage="ascend", snapshots=[Snapshot(at=T0, health=health)])
    before = triage(account, fit, expected_value=value, cost_to_serve=cost, findings=[])
    after = triage(account, fit, expected_value=value + more, cost_to_serve=cost, findings=[])
    if before.decision is TriageDecision.SAVE:
        assert after.decision is TriageDecision.SAVE
