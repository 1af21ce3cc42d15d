"""Detection as a user meets it: late-phase risks keep their phase, and changes count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from stars.account import Account, Snapshot
from stars.errors import InvalidValue, SchemaError
from stars.io import dumps, loads, to_dict
from stars.recovery import (
    RISK_SOURCES,
    DetectionPolicy,
    RelationshipPhase,
    RiskEvidence,
    RiskFinding,
    Severity,
    TemplateKind,
    detect,
    plan_for,
    relationship_phase,
    template_for,
)

T0 = datetime(2025, 6, 2, tzinfo=UTC)
DAY = timedelta(days=1)
SOLD_AGAIN = "the account has to be sold again"


def customer(*snaps: Snapshot, stage: str = "ascend", years: float = 2) -> Account:
    """An account that has been a customer for ``years``, owned by dana."""
    return Account(
        "acme",
        stage=stage,
        owner="dana",
        since=T0 - timedelta(days=365 * years),
        snapshots=list(snaps),
    )


# --------------------------------------------------------------------------- late-phase risks
@pytest.mark.parametrize(
    ("flag", "source"),
    [
        ("poc_rerun_requested", "poc_rerun"),
        ("roi_concern", "value_doubt"),
        ("competitor_active", "competitive_threat"),
    ],
)
def test_a_late_concern_on_an_older_account_is_a_late_risk_with_the_late_plan(
    flag: str, source: str
) -> None:
    acme = customer(Snapshot(at=T0, health=80, metrics={flag: 1}))
    assert relationship_phase(acme) is RelationshipPhase.MID  # two years in, no renewal near

    (finding,) = detect(acme)

    assert finding.source == source
    assert finding.phase is RelationshipPhase.MID  # the account's own phase is still kept
    assert finding.risk_phase is RelationshipPhase.LATE
    assert finding.message.endswith(SOLD_AGAIN)
    assert "earlier warnings were probably missed" in finding.message
    plan = plan_for([finding], acme, T0)
    assert plan.template is TemplateKind.VALUE_REINFORCEMENT
    assert template_for(finding.risk_phase).title == "Value reinforcement"


def test_the_late_sources_say_what_they_mean() -> None:
    for src in RISK_SOURCES.values():
        says = SOLD_AGAIN in src.description
        assert says is (src.phase is RelationshipPhase.LATE), src.id


def test_a_mid_source_on_a_young_account_gets_the_mid_plan() -> None:
    young = customer(Snapshot(at=T0, open_tickets=12), years=0.1)
    assert relationship_phase(young) is RelationshipPhase.EARLY
    (finding,) = detect(young)
    assert (finding.source, finding.phase, finding.risk_phase) == (
        "support_strain",
        RelationshipPhase.EARLY,
        RelationshipPhase.MID,
    )
    assert SOLD_AGAIN not in finding.message
    assert plan_for([finding], young, T0).template is TemplateKind.SUPPORT_ENGAGEMENT


def test_an_early_source_on_a_late_account_gets_the_late_plan() -> None:
    # the account's phase counts too: a handoff gap in a turnaround is still a turnaround
    tact = customer(Snapshot(at=T0, metrics={"handoff_gaps": 2}), stage="tact")
    (finding,) = detect(tact)
    assert finding.source == "presale_handoff"
    assert finding.risk_phase is RelationshipPhase.LATE
    assert finding.message.endswith(SOLD_AGAIN)
    assert plan_for([finding], tact, T0).template is TemplateKind.VALUE_REINFORCEMENT


def test_a_late_risk_beats_an_equally_severe_mid_one_for_the_template() -> None:
    acme = customer(Snapshot(at=T0, open_tickets=12, metrics={"poc_rerun_requested": 1}))
    found = detect(acme)
    assert {f.source for f in found} == {"support_strain", "poc_rerun"}
    assert {f.severity for f in found} == {Severity.HIGH}
    plan = plan_for(found, acme, T0)
    assert plan.template is TemplateKind.VALUE_REINFORCEMENT
    assert plan.root_causes[0] == "poc_rerun"


# --------------------------------------------------------------------------- changes
def test_open_tickets_doubling_below_the_level_is_a_finding_with_baseline_and_change() -> None:
    acme = customer(Snapshot(at=T0 - 30 * DAY, open_tickets=2), Snapshot(at=T0, open_tickets=4))

    (finding,) = detect(acme)

    assert finding.source == "support_strain"
    assert finding.severity is Severity.MEDIUM
    ev = finding.evidence
    assert (ev.signal, ev.value, ev.direction) == ("open_tickets", 4, "above")
    assert (ev.baseline, ev.change, ev.relative_change) == (2, 2, 1.0)
    assert finding.message == (
        "medium: Support volume, slow answers or unfinished fixes "
        "(open_tickets 4 above 3, baseline 2, change +2 (+100%))"
    )


def test_one_more_ticket_or_a_small_rise_is_not_news() -> None:
    for before, now in [(2, 3), (1, 2), (0, 3), (4, 5)]:
        acme = customer(
            Snapshot(at=T0 - 30 * DAY, open_tickets=before), Snapshot(at=T0, open_tickets=now)
        )
        assert detect(acme) == [], (before, now)


@pytest.mark.parametrize(
    ("before", "now", "signal", "source"),
    [
        ({"adoption": 0.9}, {"adoption": 0.42}, "adoption", "training_gap"),
        ({"sentiment": 0.7}, {"sentiment": 0.3}, "sentiment", "missed_expectations"),
        (
            {"metrics": {"response_hours": 4}},
            {"metrics": {"response_hours": 10}},
            "response_hours",
            "support_strain",
        ),
        (
            {"metrics": {"meetings_last_30d": 6}},
            {"metrics": {"meetings_last_30d": 2}},
            "meetings_last_30d",
            "relationship_change",
        ),
    ],
)
def test_a_signal_moving_the_wrong_way_is_a_finding_before_it_reaches_its_level(
    before: dict[str, Any], now: dict[str, Any], signal: str, source: str
) -> None:
    level_only = detect(customer(Snapshot(at=T0, **now)))
    assert level_only == []  # the latest reading alone is fine
    (finding,) = detect(customer(Snapshot(at=T0 - 30 * DAY, **before), Snapshot(at=T0, **now)))
    assert (finding.source, finding.evidence.signal) == (source, signal)
    assert finding.evidence.baseline is not None and finding.evidence.change is not None
    assert finding.evidence.change < 0 if finding.evidence.direction == "below" else True
    assert "baseline" in finding.message


def test_csat_is_judged_by_its_level_only() -> None:
    fell = customer(Snapshot(at=T0 - 30 * DAY, csat=98), Snapshot(at=T0, csat=72))
    assert detect(fell) == []
    assert detect(customer(Snapshot(at=T0, csat=69)))[0].evidence == RiskEvidence(
        "csat", 69, 70, "below"
    )


def test_the_same_move_the_right_way_is_not_a_finding() -> None:
    better = customer(
        Snapshot(at=T0 - 30 * DAY, open_tickets=4, adoption=0.4, sentiment=0.1),
        Snapshot(at=T0, open_tickets=1, adoption=0.9, sentiment=0.8),
    )
    assert detect(better) == []


def test_the_baseline_is_the_mean_of_the_recent_readings_only() -> None:
    readings = [
        Snapshot(at=T0 - 200 * DAY, open_tickets=0),  # outside the 90-day window
        Snapshot(at=T0 - 60 * DAY, open_tickets=1),
        Snapshot(at=T0 - 30 * DAY, open_tickets=3),
        Snapshot(at=T0, open_tickets=4),
    ]
    (finding,) = detect(customer(*readings))
    assert finding.evidence.baseline == 2
    # a narrower window sees only the reading of 3: one ticket more is not enough
    assert detect(customer(*readings), policy=DetectionPolicy(baseline_days=45)) == []
    # an old reading alone is no baseline
    old = customer(Snapshot(at=T0 - 200 * DAY, open_tickets=1), Snapshot(at=T0, open_tickets=4))
    assert detect(old) == []
    assert detect(old, policy=DetectionPolicy(baseline_days=365))[0].evidence.baseline == 1


def test_the_policy_sets_how_large_a_change_counts() -> None:
    acme = customer(Snapshot(at=T0 - 30 * DAY, adoption=0.8), Snapshot(at=T0, adoption=0.6))
    assert detect(acme) == []  # a 25% fall is within the default 30%
    (finding,) = detect(acme, policy=DetectionPolicy(change_ratio=0.2))
    assert finding.evidence.threshold == pytest.approx(0.64)
    assert finding.evidence.relative_change == pytest.approx(-0.25)


def test_a_level_that_trips_gives_one_finding_from_the_level() -> None:
    acme = customer(Snapshot(at=T0 - 30 * DAY, open_tickets=2), Snapshot(at=T0, open_tickets=11))
    (finding,) = detect(acme)
    assert finding.severity is Severity.HIGH
    assert finding.evidence == RiskEvidence("open_tickets", 11, 10, "above")


def test_a_change_on_a_red_account_is_raised_one_step() -> None:
    acme = customer(
        Snapshot(at=T0 - 30 * DAY, health=35, open_tickets=2),
        Snapshot(at=T0, health=35, open_tickets=4),
    )
    (finding,) = detect(acme)
    assert (finding.source, finding.severity) == ("support_strain", Severity.HIGH)


def test_the_nps_fall_is_measured_against_the_baseline() -> None:
    acme = customer(
        Snapshot(at=T0 - 60 * DAY, nps=50),
        Snapshot(at=T0 - 30 * DAY, nps=30),
        Snapshot(at=T0, nps=15),
    )
    (finding,) = detect(acme)
    ev = finding.evidence
    assert (ev.signal, ev.value, ev.baseline, ev.change) == ("nps_change", -25, 40, -25)
    assert str(ev) == "nps_change -25 below -20, baseline 40, change -25 (-62%)"


# --------------------------------------------------------------------------- the policy
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("baseline_days", 0),
        ("baseline_days", -5),
        ("baseline_days", "90"),
        ("change_ratio", 1),
        ("change_ratio", -0.1),
        ("change_ratio", float("nan")),
        ("change_ratio", "half"),
        ("sentiment_drop", 2.5),
        ("tickets_rise", 1.5),
        ("tickets_rise", -1),
    ],
)
def test_bad_policy_values_name_the_field(field: str, value: object) -> None:
    with pytest.raises(InvalidValue) as err:
        DetectionPolicy(**{field: value})
    assert err.value.field == field


def test_the_defaults_are_documented_values() -> None:
    policy = DetectionPolicy()
    assert (policy.baseline_days, policy.change_ratio) == (90, 0.3)
    assert (policy.sentiment_drop, policy.tickets_rise) == (0.3, 1)


# --------------------------------------------------------------------------- values and JSON
def test_evidence_needs_both_baseline_and_change_or_neither() -> None:
    with pytest.raises(InvalidValue, match="change"):
        RiskEvidence("open_tickets", 4, 3, "above", baseline=2)
    with pytest.raises(InvalidValue, match="change"):
        RiskEvidence("open_tickets", 4, 3, "above", change=2)
    with pytest.raises(InvalidValue, match="baseline"):
        RiskEvidence("open_tickets", 4, 3, "above", baseline="2", change=2)


def test_change_findings_survive_json_and_old_findings_still_load() -> None:
    acme = customer(Snapshot(at=T0 - 30 * DAY, open_tickets=2), Snapshot(at=T0, open_tickets=4))
    (finding,) = detect(acme)
    assert loads(dumps(finding)) == finding

    level = RiskFinding(
        "support_strain", "mid", "data", "medium", RiskEvidence("open_tickets", 6, 5, "above"), T0
    )
    old = to_dict(level)
    del old["evidence"]["baseline"], old["evidence"]["change"]
    import json

    assert loads(json.dumps(old)) == level

    half = to_dict(finding)
    half["evidence"]["change"] = None
    with pytest.raises(SchemaError, match="change"):
        loads(json.dumps(half))
