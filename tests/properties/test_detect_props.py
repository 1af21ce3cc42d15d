"""Properties of detection: the phase a risk is planned for, and changes against a baseline."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from stars.account import Account, Snapshot
from stars.recovery import (
    RISK_SOURCES,
    TEMPLATES,
    DetectionPolicy,
    RelationshipPhase,
    RiskEvidence,
    RiskFinding,
    detect,
    plan_for,
)

T0 = datetime(2025, 6, 2, tzinfo=UTC)
DAY = timedelta(days=1)
PHASES = list(RelationshipPhase)
FLAGS = ["handoff_gaps", "owner_changed", "roi_concern", "poc_rerun_requested", "competitor_active"]


def later(a: RelationshipPhase, b: RelationshipPhase) -> RelationshipPhase:
    """The later of two phases, by the order the seed gives: early, mid, late."""
    return a if PHASES.index(a) >= PHASES.index(b) else b


def template_phase(plan_template: Any) -> RelationshipPhase:
    (phase,) = [p for p, t in TEMPLATES.items() if t.kind is plan_template]
    return phase


# --------------------------------------------------------------------------- the template phase
@settings(max_examples=150, deadline=None)
@given(
    source=st.sampled_from(sorted(RISK_SOURCES)),
    phase=st.sampled_from(PHASES),
    severity=st.sampled_from(["low", "medium", "high", "critical"]),
)
def test_the_template_of_one_finding_is_the_later_of_its_two_phases(
    source: str, phase: RelationshipPhase, severity: str
) -> None:
    f = RiskFinding(source, phase, "data", severity, RiskEvidence("x", 1, 0, "above"), T0)
    expected = later(phase, RISK_SOURCES[source].phase)
    assert f.risk_phase is expected
    assert ("sold again" in f.message) is (expected is RelationshipPhase.LATE)
    plan = plan_for([f], Account("a", owner="dana"), T0)
    assert template_phase(plan.template) is expected


snapshots = st.builds(
    Snapshot,
    at=st.just(T0),
    health=st.none() | st.floats(0, 100),
    adoption=st.none() | st.floats(0, 1),
    nps=st.none() | st.floats(-100, 100),
    csat=st.none() | st.floats(0, 100),
    open_tickets=st.none() | st.integers(0, 30),
    days_since_contact=st.none() | st.floats(0, 200),
    sentiment=st.none() | st.floats(-1, 1),
    critical_risk=st.booleans(),
    metrics=st.dictionaries(
        st.sampled_from([*FLAGS, "meetings_last_30d", "response_hours", "days_to_renewal"]),
        st.floats(0, 200),
    ),
)


@settings(max_examples=150, deadline=None)
@given(
    snapshot=snapshots,
    stage=st.sampled_from(["prospect", "seed", "accelerate", "ascend", "reset", "tact"]),
    age_days=st.none() | st.integers(0, 1000),
)
def test_the_template_phase_is_never_earlier_than_the_source_or_the_account(
    snapshot: Snapshot, stage: str, age_days: int | None
) -> None:
    since = None if age_days is None else T0 - age_days * DAY
    account = Account("a", stage=stage, owner="dana", since=since, snapshots=[snapshot])
    found = detect(account)
    for f in found:
        assert f.risk_phase >= f.phase
        if f.risk_source is not None:
            assert f.risk_phase >= f.risk_source.phase
    plan = plan_for(found, account, T0)
    attributed = [f for f in found if f.risk_source is not None]
    if not attributed:
        assert plan.template is None
        return
    chosen = template_phase(plan.template)
    top = [f for f in attributed if f.severity is max(g.severity for g in attributed)]
    # the template answers the most severe findings, and is never earlier than any of
    # their account phases or their sources' own phases
    for f in top:
        assert chosen >= f.phase
        assert chosen >= f.risk_source.phase  # type: ignore[union-attr]
    assert chosen is max(f.risk_phase for f in top)
    event(f"template {chosen.value}")


# --------------------------------------------------------------------------- changes
# signal -> (how to put a value on a snapshot, the bad direction, the scale, absolute drop field)
SIGNALS: dict[str, tuple[str, str, tuple[float, float], str | None]] = {
    "adoption": ("field", "below", (0, 1), None),
    "open_tickets": ("field", "above", (0, 40), None),
    "sentiment": ("field", "below", (-1, 1), "sentiment_drop"),
    "response_hours": ("metric", "above", (0, 200), None),
    "meetings_last_30d": ("metric", "below", (0, 30), None),
}

# Level thresholds set where they can never trip, so only the change rule speaks.
NO_LEVELS: dict[str, Any] = {
    "adoption_low": 0,
    "adoption_alarm": 0,
    "tickets": 1000,
    "tickets_alarm": 1000,
    "response_hours": 1e6,
    "response_hours_alarm": 1e6,
    "meetings_low": 0,
    "sentiment_low": -1,
    "sentiment_alarm": -1,
}


def put(signal: str, value: float, at: datetime) -> Snapshot:
    where = SIGNALS[signal][0]
    if signal == "open_tickets":
        return Snapshot(at=at, open_tickets=round(value))
    if where == "field":
        return Snapshot(at=at, **{signal: value})
    return Snapshot(at=at, metrics={signal: value})


@st.composite
def moves(draw: st.DrawFn) -> tuple[str, DetectionPolicy, list[tuple[int, float]], float]:
    signal = draw(st.sampled_from(sorted(SIGNALS)))
    _, direction, (lo, hi), _ = SIGNALS[signal]
    policy = DetectionPolicy(
        **NO_LEVELS,
        baseline_days=draw(st.sampled_from([30.0, 60.0, 90.0, 180.0])),
        change_ratio=draw(st.floats(0.01, 0.9)),
        sentiment_drop=draw(st.floats(0.01, 1)),
        tickets_rise=draw(st.integers(0, 3)),
    )
    value = (
        st.integers(int(lo), int(hi))
        if signal == "open_tickets"
        else st.floats(lo, hi, allow_subnormal=False)
    )
    # earlier readings are mostly off zero (a zero baseline has no relative change), one is
    # mostly inside the baseline window, and more fall around it
    off_zero = st.integers(2, int(hi)) if signal == "open_tickets" else st.floats(hi / 20, hi)
    earlier = value if signal == "sentiment" or draw(st.integers(0, 4)) == 0 else off_zero
    window = int(policy.baseline_days)
    first = draw(st.integers(1, window) | st.integers(window + 1, 2 * window))
    more = draw(st.lists(st.integers(1, 2 * window), max_size=3))
    ages = {first, *more}
    readings = [(age, float(draw(earlier))) for age in sorted(ages, reverse=True)]
    # the latest reading: anywhere on the scale, or a chosen move from the recent readings
    recent = [x for age, x in readings if age <= policy.baseline_days]
    if recent and draw(st.sampled_from([True, True, True, False])):
        # a move in the bad direction of some multiple of what the policy allows
        mean = statistics.fmean(recent)
        allowed = policy.sentiment_drop if signal == "sentiment" else policy.change_ratio * mean
        if signal == "open_tickets":
            allowed = max(allowed, policy.tickets_rise)
        sign = -1 if direction == "below" else 1
        latest = mean + sign * allowed * draw(st.floats(0.5, 1.5))
        latest = min(max(latest, lo), hi)
    else:
        latest = draw(value)
    if signal == "open_tickets":
        latest = round(latest)
    return signal, policy, readings, float(latest)


@settings(max_examples=300, deadline=None)
@given(move=moves())
def test_a_move_past_the_policy_against_the_baseline_is_a_finding_and_a_smaller_one_is_not(
    move: tuple[str, DetectionPolicy, list[tuple[int, float]], float],
) -> None:
    signal, policy, readings, latest = move
    _, direction, _, drop_field = SIGNALS[signal]
    snaps = [put(signal, x, T0 - age * DAY) for age, x in readings]
    snaps.append(put(signal, latest, T0))
    account = Account("a", stage="ascend", since=T0 - 1000 * DAY, snapshots=snaps)

    # the rule, restated from the policy's documentation
    recent = [x for age, x in readings if age <= policy.baseline_days]
    expected: bool
    if not recent:
        expected = False
        baseline = None
    else:
        baseline = statistics.fmean(recent)
        bad = (baseline - latest) if direction == "below" else (latest - baseline)
        if drop_field is not None:
            margin = bad - getattr(policy, drop_field)
            expected = margin > 0
        elif baseline <= 0:
            margin, expected = 1.0, False
        else:
            margin = bad / baseline - policy.change_ratio
            expected = margin > 0
            if signal == "open_tickets":
                margin = min(margin, bad - policy.tickets_rise)
                expected = margin > 0
        assume(abs(margin) > 1e-9)  # leave float ties at the edge out of it

    found = [f for f in detect(account, policy=policy) if f.evidence.signal == signal]
    event(f"{signal}: {'finding' if expected else 'none'}")
    if not expected:
        assert found == []
        return
    (f,) = found
    ev = f.evidence
    assert ev.baseline is not None and ev.change is not None
    assert abs(ev.baseline - baseline) <= 1e-9 * max(1.0, abs(baseline))  # type: ignore[arg-type]
    assert abs(ev.change - (latest - ev.baseline)) <= 1e-9 * max(1.0, abs(latest))
    assert ev.value == latest and ev.direction == direction
    assert ev.value < ev.threshold if direction == "below" else ev.value > ev.threshold
    assert f.severity.value == "medium"
    assert "baseline" in f.message
