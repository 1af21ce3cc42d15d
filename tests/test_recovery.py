"""Examples and errors for the get-to-green recovery process (stars.recovery)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpers import section
from stars.account import Account, Snapshot
from stars.bands import Band
from stars.depth import BreakdownCause
from stars.errors import (
    HookFailed,
    InvalidValue,
    OutOfOrder,
    TransitionNotAllowed,
    TransitionRefused,
    TransitionVetoed,
    UnknownName,
)
from stars.health import default_scorecard
from stars.lifecycle import STARS
from stars.recovery import (
    LEADING_INDICATORS,
    RISK_SOURCES,
    TEMPLATES,
    ActionItem,
    CheckIn,
    DetectionPolicy,
    Effort,
    HandoffAudit,
    HandoffChecklist,
    PlaybookEntry,
    PlaybookLibrary,
    RecoveryEvent,
    RecoveryPlan,
    RecoveryPolicy,
    RecoveryProcess,
    RecoveryStep,
    RelationshipPhase,
    RiskEvidence,
    RiskFinding,
    Severity,
    SignalKind,
    Stakeholder,
    StakeholderLevel,
    StepRecord,
    TemplateKind,
    Triage,
    TriageDecision,
    TriagePolicy,
    audit_handoff,
    detect,
    link_lifecycle,
    plan_for,
    relationship_phase,
    template_for,
    triage,
    weekly_update,
)

T0 = datetime(2025, 1, 6, tzinfo=UTC)
DAY = timedelta(days=1)

# Every signal comfortably on the healthy side of the default thresholds.
HEALTHY: dict[str, Any] = {
    "health": 85,
    "adoption": 0.8,
    "nps": 40,
    "csat": 90,
    "open_tickets": 1,
    "days_since_contact": 5,
    "sentiment": 0.6,
    "champion_engaged": True,
    "metrics": {
        "meetings_last_30d": 4,
        "response_hours": 4,
        "training_completion": 0.9,
        "handoff_gaps": 0,
        "owner_changed": 0,
        "roi_concern": 0,
        "poc_rerun_requested": 0,
        "competitor_active": 0,
    },
}


def snap(at: datetime = T0, **changes: Any) -> Snapshot:
    fields = dict(HEALTHY)
    metrics = dict(HEALTHY["metrics"])
    metrics.update(changes.pop("metrics", {}))
    fields.update(changes)
    fields["metrics"] = metrics
    return Snapshot(at=at, **fields)


def account(stage: str = "ascend", *snaps: Snapshot, **kw: Any) -> Account:
    return Account("acme", stage=stage, snapshots=list(snaps) or [snap()], owner="dana", **kw)


# --------------------------------------------------------------------------- catalog
def test_catalog_has_the_ten_sources_by_phase() -> None:
    by_phase: dict[RelationshipPhase, list[str]] = {}
    for key, src in RISK_SOURCES.items():
        assert key == src.id
        assert src.signals, f"{key} has no signal that reveals it"
        assert isinstance(src.breakdown, BreakdownCause)
        by_phase.setdefault(src.phase, []).append(key)
    assert sorted(by_phase[RelationshipPhase.EARLY]) == [
        "onboarding_misaligned",
        "presale_handoff",
        "sales_handoff",
    ]
    assert sorted(by_phase[RelationshipPhase.MID]) == [
        "missed_expectations",
        "relationship_change",
        "support_strain",
        "training_gap",
    ]
    assert sorted(by_phase[RelationshipPhase.LATE]) == [
        "competitive_threat",
        "poc_rerun",
        "value_doubt",
    ]


def test_ordered_enums_compare_by_rank_not_alphabet() -> None:
    assert Severity.LOW < Severity.MEDIUM <= Severity.HIGH < Severity.CRITICAL
    assert Severity.CRITICAL > Severity.HIGH >= Severity.HIGH
    assert StakeholderLevel.ECONOMIC_BUYER > StakeholderLevel.ANALYST
    assert Severity.CRITICAL > "low" and not Severity.LOW < "low"
    assert Severity.LOW.__le__(1) is NotImplemented
    assert Severity.LOW.__gt__(1) is NotImplemented
    assert Severity.LOW.__ge__(1) is NotImplemented


# --------------------------------------------------------------------------- detection
def test_healthy_snapshot_gives_no_finding_in_any_phase() -> None:
    for stage in ("seed", "ascend", "tact"):
        assert detect(account(stage)) == []


def test_no_snapshot_no_finding() -> None:
    assert detect(Account("a", stage="ascend")) == []


# (stage, previous snapshot changes or None, latest changes, expected source, kind)
SOURCE_CASES: list[tuple[str, dict[str, Any] | None, dict[str, Any], str, SignalKind]] = [
    ("seed", None, {"adoption": 0.3}, "onboarding_misaligned", SignalKind.DATA),
    ("seed", None, {"metrics": {"handoff_gaps": 2}}, "presale_handoff", SignalKind.MONITORING),
    ("seed", None, {"metrics": {"owner_changed": 1}}, "sales_handoff", SignalKind.MONITORING),
    (
        "ascend",
        {},
        {"champion_engaged": False},
        "relationship_change",
        SignalKind.MONITORING,
    ),
    ("ascend", None, {"open_tickets": 8}, "support_strain", SignalKind.DATA),
    ("ascend", None, {"metrics": {"response_hours": 48}}, "support_strain", SignalKind.DATA),
    ("ascend", None, {"metrics": {"training_completion": 0.3}}, "training_gap", SignalKind.DATA),
    ("ascend", None, {"csat": 60}, "missed_expectations", SignalKind.FEEDBACK),
    ("ascend", None, {"metrics": {"roi_concern": 1}}, "value_doubt", SignalKind.MONITORING),
    ("ascend", None, {"metrics": {"poc_rerun_requested": 1}}, "poc_rerun", SignalKind.MONITORING),
    (
        "ascend",
        None,
        {"metrics": {"competitor_active": 1}},
        "competitive_threat",
        SignalKind.MONITORING,
    ),
]


@pytest.mark.parametrize(("stage", "before", "changes", "source", "kind"), SOURCE_CASES)
def test_each_source_is_detected_from_a_snapshot_built_for_it(
    stage: str,
    before: dict[str, Any] | None,
    changes: dict[str, Any],
    source: str,
    kind: SignalKind,
) -> None:
    snaps = [snap(T0 - 7 * DAY, **before)] if before is not None else []
    snaps.append(snap(T0, **changes))
    found = detect(account(stage, *snaps))
    assert [(f.source, f.kind) for f in found] == [(source, kind)]
    # and the same account without the change gives nothing
    assert detect(account(stage, *[snap(s.at) for s in snaps])) == []


def test_every_source_in_the_catalog_is_covered_by_a_case() -> None:
    assert {case[3] for case in SOURCE_CASES} == set(RISK_SOURCES)


@pytest.mark.parametrize(
    ("stage", "changes", "source"),
    [
        ("seed", {"days_since_contact": 40}, "presale_handoff"),
        ("ascend", {"days_since_contact": 40}, "relationship_change"),
        ("ascend", {"metrics": {"meetings_last_30d": 0}}, "relationship_change"),
        ("ascend", {"adoption": 0.3}, "training_gap"),
        ("tact", {"adoption": 0.3}, "value_doubt"),
        ("tact", {"sentiment": -0.5}, "value_doubt"),
        ("ascend", {"nps": -10}, "missed_expectations"),
        ("seed", {"csat": 60}, "onboarding_misaligned"),
    ],
)
def test_one_signal_points_to_the_source_of_the_accounts_phase(
    stage: str, changes: dict[str, Any], source: str
) -> None:
    assert [f.source for f in detect(account(stage, snap(**changes)))] == [source]


def test_warning_and_alarm_thresholds_set_the_severity() -> None:
    warn = detect(account("ascend", snap(open_tickets=6)))[0]
    assert warn.severity is Severity.MEDIUM
    assert warn.evidence == RiskEvidence("open_tickets", 6, 5, "above")
    alarm = detect(account("ascend", snap(open_tickets=11)))[0]
    assert alarm.severity is Severity.HIGH
    assert alarm.evidence.threshold == 10
    # exactly at the warning threshold is not past it
    assert detect(account("ascend", snap(open_tickets=5))) == []
    meet = detect(account("ascend", snap(metrics={"meetings_last_30d": 0})))[0]
    assert meet.severity is Severity.MEDIUM  # the meeting cadence has no alarm level


def test_red_health_or_critical_flag_raises_severity_one_step() -> None:
    red = detect(account("ascend", snap(health=30, open_tickets=11)))
    assert red[0].severity is Severity.CRITICAL
    flagged = detect(account("ascend", snap(critical_risk=True, open_tickets=6)))
    assert flagged[0].severity is Severity.HIGH
    band_only = detect(account("ascend", snap(health=None, band="red", open_tickets=6)))
    assert band_only[0].severity is Severity.HIGH


def test_nps_drop_is_feedback_finding() -> None:
    a = account("ascend", snap(T0 - 30 * DAY, nps=50), snap(T0, nps=25))
    (f,) = detect(a)
    assert (f.evidence.signal, f.evidence.value, f.severity) == ("nps_change", -25, Severity.MEDIUM)
    a = account("ascend", snap(T0 - 30 * DAY, nps=60), snap(T0, nps=15))
    (f,) = detect(a)
    assert (f.evidence.threshold, f.severity) == (-40, Severity.HIGH)


def test_falling_trend_while_green_is_a_low_finding() -> None:
    snaps = [snap(T0 + 30 * i * DAY, health=h) for i, h in enumerate([95, 88, 80])]
    (f,) = detect(account("ascend", *snaps))
    assert f.source is None and f.risk_source is None
    assert (f.severity, f.kind, f.evidence.signal) == (
        Severity.LOW,
        SignalKind.DATA,
        "health_slope",
    )
    assert f.evidence.value < -2
    assert f.message.startswith("low: Health trending down")
    yellow = [snap(T0 + 30 * i * DAY, health=h) for i, h in enumerate([75, 68, 60])]
    (f,) = detect(account("ascend", *yellow))
    assert f.severity is Severity.MEDIUM
    flat = [snap(T0 + 30 * i * DAY, health=h) for i, h in enumerate([80, 81, 80])]
    assert detect(account("ascend", *flat)) == []


def test_at_ignores_later_snapshots() -> None:
    a = account("ascend", snap(T0), snap(T0 + 10 * DAY, open_tickets=20))
    assert detect(a, at=T0 + DAY) == []
    assert detect(a)[0].source == "support_strain"


def test_scorecard_fills_health_for_the_trend() -> None:
    def bare(at: datetime, csat: float) -> Snapshot:
        return Snapshot(at=at, csat=csat, adoption=0.8, sentiment=0.5)

    snaps = [bare(T0 + 30 * i * DAY, c) for i, c in enumerate([95, 85, 75])]
    a = account("ascend", *snaps)
    assert detect(a) == []  # no health, so no trend
    found = detect(a, scorecard=default_scorecard())
    assert [f.evidence.signal for f in found] == ["health_slope"]
    # a snapshot with no measure at all is left alone
    assert detect(account("ascend", Snapshot(at=T0)), scorecard=default_scorecard()) == []


def test_phase_override_changes_attribution() -> None:
    a = account("ascend", snap(adoption=0.3))
    assert detect(a, phase="early")[0].source == "onboarding_misaligned"
    assert detect(a, phase=RelationshipPhase.LATE)[0].phase is RelationshipPhase.LATE


def test_relationship_phase_rules() -> None:
    a = account("ascend", snap(), since=T0 - 30 * DAY)
    assert relationship_phase(a) is RelationshipPhase.EARLY
    assert relationship_phase(a, at=T0 + 200 * DAY) is RelationshipPhase.MID
    hist = STARS.replay(
        "h",
        [],
        snapshots=[snap()],
    )
    assert relationship_phase(hist) is RelationshipPhase.EARLY  # a prospect
    from stars.lifecycle import Event

    signed = STARS.replay(
        "s",
        [
            Event("sign", T0 - 300 * DAY, forced=True, reason="import"),
            Event("accelerate", T0 - 200 * DAY, forced=True, reason="import"),
        ],
        snapshots=[snap()],
    )
    assert relationship_phase(signed) is RelationshipPhase.MID
    young = STARS.replay(
        "y",
        [
            Event("sign", T0 - 20 * DAY, forced=True, reason="import"),
            Event("accelerate", T0 - 10 * DAY, forced=True, reason="import"),
        ],
        snapshots=[snap()],
    )
    assert relationship_phase(young) is RelationshipPhase.EARLY
    renewal = account("ascend", snap(metrics={"days_to_renewal": 60}))
    assert relationship_phase(renewal) is RelationshipPhase.LATE
    far = account("ascend", snap(metrics={"days_to_renewal": 200}))
    assert relationship_phase(far) is RelationshipPhase.MID
    assert relationship_phase(Account("c", stage="churn")) is RelationshipPhase.LATE


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: detect("acme"), InvalidValue),  # type: ignore[arg-type]
        (lambda: detect(account(), policy="strict"), InvalidValue),  # type: ignore[arg-type]
        (lambda: detect(account(), scorecard={}), InvalidValue),  # type: ignore[arg-type]
        (lambda: detect(account(), phase="middle"), InvalidValue),
        (lambda: detect(account(), at=datetime(2025, 1, 1)), InvalidValue),
        (lambda: DetectionPolicy(tickets_alarm=3), InvalidValue),
        (lambda: DetectionPolicy(adoption_low=2), InvalidValue),
        (lambda: DetectionPolicy(trend_days=0), InvalidValue),
        (lambda: DetectionPolicy(trend_days="90"), InvalidValue),  # type: ignore[arg-type]
        (lambda: RiskEvidence("x", 1, 0, "sideways"), InvalidValue),
        (
            lambda: RiskFinding("nope", "mid", "data", "low", RiskEvidence("x", 1, 0, "above"), T0),
            UnknownName,
        ),
        (lambda: RiskFinding(None, "mid", "data", "low", "evidence", T0), InvalidValue),  # type: ignore[arg-type]
        (
            lambda: RiskFinding(None, "mid", "gut", "low", RiskEvidence("x", 1, 0, "above"), T0),
            InvalidValue,
        ),
        (
            lambda: RiskFinding(None, "mid", "data", 3, RiskEvidence("x", 1, 0, "above"), T0),
            InvalidValue,
        ),
    ],
)
def test_detection_bad_inputs(call: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        call()


def test_invalid_value_names_the_field() -> None:
    with pytest.raises(InvalidValue) as err:
        DetectionPolicy(tickets_alarm=3)
    assert err.value.field == "tickets_alarm"


# --------------------------------------------------------------------------- plan values
def test_action_item_needs_owner_and_aware_due() -> None:
    with pytest.raises(InvalidValue) as err:
        ActionItem("Fix it", None, T0)  # type: ignore[arg-type]
    assert err.value.field == "owner"
    with pytest.raises(InvalidValue):
        ActionItem("Fix it", "  ", T0)
    with pytest.raises(InvalidValue) as err:
        ActionItem("", "dana", T0)
    assert err.value.field == "objective"
    with pytest.raises(InvalidValue) as err:
        ActionItem("Fix it", "dana", datetime(2025, 1, 1))
    assert err.value.field == "due"
    with pytest.raises(UnknownName):
        ActionItem("Fix it", "dana", T0, source="bad_luck")
    assert ActionItem("Fix it", "dana", T0, source="strategy_change").source == "strategy_change"


def test_plan_refuses_actions_due_before_its_start() -> None:
    early = ActionItem("Fix it", "dana", T0 - DAY)
    with pytest.raises(InvalidValue) as err:
        RecoveryPlan("p", "acme", T0, actions=[early])
    assert err.value.field == "actions[0].due"


def test_plan_root_causes_accept_sources_and_breakdown_causes() -> None:
    plan = RecoveryPlan(
        "p", "acme", T0, root_causes=[BreakdownCause.STRATEGY_CHANGE, RISK_SOURCES["poc_rerun"]]
    )
    assert plan.root_causes == ("strategy_change", "poc_rerun")
    with pytest.raises(UnknownName) as err:
        RecoveryPlan("p", "acme", T0, root_causes=["gremlins"])
    assert err.value.name == "gremlins"
    with pytest.raises(InvalidValue):
        RecoveryPlan("p", "acme", T0, root_causes="poc_rerun")
    with pytest.raises(InvalidValue):
        RecoveryPlan("p", "acme", T0, root_causes=["poc_rerun", "poc_rerun"])
    with pytest.raises(InvalidValue):
        plan.add_root_cause("poc_rerun")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"step": "analysis"}, InvalidValue),
        ({"step": "sideways"}, InvalidValue),
        ({"history": [StepRecord("analyze", "detection", "analysis", T0)]}, InvalidValue),
        ({"history": "x"}, InvalidValue),
        ({"history": ["x"]}, InvalidValue),
        (
            {
                "step": "analysis",
                "version": 2,
                "history": [
                    StepRecord("open", None, "detection", T0),
                    StepRecord("analyze", "analysis", "analysis", T0),
                ],
            },
            InvalidValue,
        ),
        (
            {
                "step": "execution",
                "version": 2,
                "history": [
                    StepRecord("open", None, "detection", T0),
                    StepRecord("execute", "detection", "execution", T0),
                ],
            },
            InvalidValue,
        ),
        (
            {
                "step": "analysis",
                "version": 2,
                "history": [
                    StepRecord("open", None, "detection", T0),
                    StepRecord("analyze", "detection", "analysis", T0 - DAY),
                ],
            },
            OutOfOrder,
        ),
        (
            {
                "step": "analysis",
                "version": 1,
                "history": [StepRecord("open", None, "detection", T0)],
            },
            InvalidValue,
        ),
        ({"version": 1, "history": [StepRecord("open", None, "detection", T0)]}, None),
        ({"version": 0, "history": [StepRecord("open", None, "detection", T0)]}, InvalidValue),
        ({"check_ins": [CheckIn(T0 + DAY, "green"), CheckIn(T0, "green")]}, OutOfOrder),
        ({"lessons": ["ok", ""]}, InvalidValue),
        ({"template": "magic"}, InvalidValue),
        ({"owner": 3}, InvalidValue),
        ({"findings": [3]}, InvalidValue),
    ],
)
def test_plan_consistency_checks(kwargs: dict[str, Any], error: type[Exception] | None) -> None:
    if error is None:
        assert RecoveryPlan("p", "acme", T0, **kwargs).step is RecoveryStep.DETECTION
        return
    with pytest.raises(error):
        RecoveryPlan("p", "acme", T0, **kwargs)


def test_step_record_checks() -> None:
    with pytest.raises(InvalidValue):
        StepRecord("close", "prevention", "closed", T0, forced=True)
    with pytest.raises(InvalidValue):
        StepRecord("close", "prevention", "closed", T0, forced="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        StepRecord("close", "prevention", "closed", T0, actor=5)  # type: ignore[arg-type]


def test_plan_edits_return_new_versions_and_leave_the_old_plan_alone() -> None:
    plan = RecoveryPlan("p", "acme", T0)
    item = ActionItem("Train analysts", "sam", T0 + DAY)
    edited = (
        plan.add_action(item)
        .add_stakeholder(Stakeholder("Ana", "analyst"))
        .add_root_cause("training_gap")
        .choose_indicators("adoption", "education", "adoption")
    )
    assert plan.version == 0 and plan.actions == ()
    assert edited.version == 4
    assert edited.indicators == ("adoption", "education")
    replaced = edited.replace_action(-1, ActionItem("Train managers", "kim", T0 + DAY))
    assert replaced.actions[0].owner == "kim"
    assert replaced.remove_action(0).actions == ()
    done = replaced.complete_action(0, T0 + 2 * DAY)
    assert done.actions[0].done_at == T0 + 2 * DAY
    assert done.open_actions == ()
    assert replaced.open_actions == replaced.actions


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (lambda p: p.replace_action(3, ActionItem("x", "y", T0)), InvalidValue),
        (lambda p: p.remove_action(True), InvalidValue),
        (lambda p: p.complete_action("0", T0), InvalidValue),
        (lambda p: p.complete_action(0, T0 - DAY), InvalidValue),
        (lambda p: p.complete_action(0, T0).complete_action(0, T0), InvalidValue),
        (lambda p: p.check_in(T0), InvalidValue),
        (lambda p: p.check_in(T0, health=101), InvalidValue),
        (lambda p: p.check_in(T0, band="blue"), InvalidValue),
        (lambda p: p.check_in(T0 + DAY, health=50).check_in(T0, health=50), OutOfOrder),
        (lambda p: p.record_lessons(""), InvalidValue),
        (lambda p: p.choose_indicators(3), InvalidValue),
        (lambda p: p.add_stakeholder("Ana"), InvalidValue),
        (lambda p: p.add_action("call them"), InvalidValue),
    ],
)
def test_bad_edits_raise_and_change_nothing(edit: Any, error: type[Exception]) -> None:
    plan = RecoveryPlan("p", "acme", T0).add_action(ActionItem("x", "y", T0))
    before = plan
    with pytest.raises(error):
        edit(plan)
    assert plan == before


def test_empty_plan_index_error_message() -> None:
    with pytest.raises(InvalidValue) as err:
        RecoveryPlan("p", "acme", T0).remove_action(0)
    assert err.value.expected == "no index"


def test_check_in_band_from_health_with_custom_cutoffs() -> None:
    from stars.bands import BandCutoffs

    plan = RecoveryPlan("p", "acme", T0)
    assert plan.check_in(T0, health=65).check_ins[0].band is Band.YELLOW
    custom = plan.check_in(T0, health=65, bands=BandCutoffs(green_from=60))
    assert custom.check_ins[0].band is Band.GREEN
    assert plan.check_in(T0, band="red", note="bad week").check_ins[0].note == "bad week"


@pytest.mark.parametrize("bands", [{"a": 1}, 40, "default"])
def test_check_in_refuses_bands_that_are_not_cutoffs(bands: Any) -> None:
    # A mapping used to fail deep inside with AttributeError ('band_for').
    with pytest.raises(InvalidValue) as err:
        RecoveryPlan("p", "acme", T0).check_in(T0, health=50, bands=bands)
    assert err.value.field == "bands"
    assert "BandCutoffs" in err.value.expected


@pytest.mark.parametrize("kwargs", [{"health": 50}, {"band": "red"}])
def test_check_in_refuses_a_time_before_the_start(kwargs: dict[str, Any]) -> None:
    # Actions and complete_action refuse times before the start; check-ins must too.
    plan = RecoveryPlan("p", "acme", T0)
    with pytest.raises(InvalidValue) as err:
        plan.check_in(T0 - 10 * DAY, **kwargs)
    assert err.value.field == "at"
    assert plan.check_in(T0, **kwargs).check_ins[0].at == T0


def test_check_in_refuses_a_naive_time() -> None:
    with pytest.raises(InvalidValue) as err:
        RecoveryPlan("p", "acme", T0).check_in(datetime(2025, 1, 1), health=50)
    assert err.value.field == "at"


# --------------------------------------------------------------------------- process
def ready_for_execution(plan: RecoveryPlan) -> RecoveryPlan:
    return (
        plan.add_root_cause("support_strain")
        .add_stakeholder(Stakeholder("Ana", "analyst"))
        .add_stakeholder(Stakeholder("Vic", "executive", "VP Operations"))
        .add_action(ActionItem("Review open tickets", "lee", T0 + 7 * DAY))
    )


def finding(
    source: str = "support_strain", severity: str = "medium", phase: str = "mid"
) -> RiskFinding:
    return RiskFinding(
        source, phase, "data", severity, RiskEvidence("open_tickets", 8, 5, "above"), T0
    )


def test_happy_path_through_all_five_steps() -> None:
    process = RecoveryProcess()
    plan = process.open("acme", at=T0, findings=[finding()], owner="dana")
    assert (plan.step, plan.version, plan.owner) == (RecoveryStep.DETECTION, 1, "dana")
    plan = process.fire(plan, "analyze", at=T0 + DAY)
    plan = process.fire(ready_for_execution(plan), "execute", at=T0 + 2 * DAY)
    plan = plan.complete_action(0, T0 + 5 * DAY)
    plan = process.fire(plan, "monitor", at=T0 + 5 * DAY)
    for week in range(1, 4):
        plan = plan.check_in(T0 + 7 * week * DAY, health=75)
    plan = process.fire(plan, "prevent", at=T0 + 21 * DAY)
    plan = plan.record_lessons("Tickets were stuck with one engineer").choose_indicators("adoption")
    plan = process.fire(plan, "close", at=T0 + 28 * DAY, actor="dana")
    assert plan.step is RecoveryStep.CLOSED
    assert [r.trigger for r in plan.history] == [
        "open",
        "analyze",
        "execute",
        "monitor",
        "prevent",
        "close",
    ]
    assert not any(r.forced for r in plan.history)
    assert plan.outcome == "recovered" and not plan.is_open
    assert plan.ended_at == T0 + 28 * DAY
    assert plan.days_to_recover == 28
    assert plan.history[-1].actor == "dana"


def test_guards_say_why_they_refuse() -> None:
    process = RecoveryProcess()
    plan = process.open("acme", at=T0)
    with pytest.raises(TransitionRefused) as err:
        process.fire(plan, "analyze", at=T0)
    assert err.value.reasons == ("no finding or root cause is recorded yet",)
    plan = process.fire(plan.add_root_cause("training_gap"), "analyze", at=T0)
    only_buyer = plan.add_stakeholder(Stakeholder("Bo", "economic_buyer"))
    with pytest.raises(TransitionRefused) as err:
        process.fire(only_buyer, "execute", at=T0)
    assert err.value.reasons == (
        "stakeholders engaged at 1 level(s) of the customer (economic_buyer), 2 needed",
        "the plan has no action items yet",
    )
    assert "cannot" not in str(err.value) and "refused" in str(err.value)
    two_buyers = only_buyer.add_stakeholder(Stakeholder("Cy", "economic_buyer"))
    assert "2 needed" in process.check(two_buyers, "execute").reasons[0]
    no_cause = RecoveryPlan(
        plan.id, "acme", T0, step="analysis", history=plan.history, version=plan.version
    )
    assert process.check(no_cause, "execute").reasons[0] == "no root cause is identified yet"


def test_force_overrides_guards_with_a_recorded_reason_but_never_the_graph() -> None:
    process = RecoveryProcess()
    plan = process.open("acme", at=T0)
    with pytest.raises(InvalidValue):
        process.fire(plan, "analyze", at=T0, force=True)
    with pytest.raises(InvalidValue):
        process.fire(plan, "analyze", at=T0, force=True, reason="  ")
    with pytest.raises(TransitionNotAllowed) as err:
        process.fire(plan, "close", at=T0, force=True, reason="skip ahead")
    assert err.value.allowed == ("analyze", "lose", "release")
    moved = process.fire(plan, "analyze", at=T0, force=True, reason="exec escalation")
    assert moved.history[-1].forced and moved.history[-1].reason == "exec escalation"


def test_hysteresis_needs_consecutive_green_check_ins() -> None:
    process = RecoveryProcess()
    plan = monitoring_plan(process)
    for i, health in enumerate([75, 80, 60, 72, 78]):
        plan = plan.check_in(T0 + (10 + i) * DAY, health=health)
    verdict = process.check(plan, "prevent")
    assert verdict.reasons == ("green for 2 check-in(s) in a row, 3 needed",)
    plan = plan.check_in(T0 + 20 * DAY, health=71)
    assert process.check(plan, "prevent").allowed
    lenient = RecoveryProcess(RecoveryPolicy(green_check_ins=1))
    one = monitoring_plan(lenient).check_in(T0 + 10 * DAY, health=90)
    assert lenient.check(one, "prevent").allowed


def monitoring_plan(process: RecoveryProcess) -> RecoveryPlan:
    plan = process.open("acme", at=T0, findings=[finding()])
    plan = process.fire(plan, "analyze", at=T0)
    plan = process.fire(ready_for_execution(plan), "execute", at=T0 + DAY)
    plan = plan.complete_action(0, T0 + 2 * DAY)
    with pytest.raises(TransitionRefused):
        process.fire(
            plan.replace_action(0, ActionItem("x", "y", T0 + 3 * DAY)), "monitor", at=T0 + 3 * DAY
        )
    return process.fire(plan, "monitor", at=T0 + 3 * DAY)


def test_adjust_loops_back_to_analysis_only_when_progress_stalls() -> None:
    process = RecoveryProcess()
    plan = monitoring_plan(process)
    plan = plan.check_in(T0 + 4 * DAY, health=50).check_in(T0 + 5 * DAY, health=52)
    assert process.check(plan, "adjust").reasons == (
        "2 check-in(s) since monitoring began, 3 needed to judge progress",
    )
    improving = plan.check_in(T0 + 6 * DAY, health=60)
    assert process.check(improving, "adjust").reasons == (
        "health rose 10.0 points over the last 3 check-ins",
    )
    green = plan.check_in(T0 + 6 * DAY, health=70)
    assert process.check(green, "adjust").reasons == ("health is green; progress has not stalled",)
    stalled = plan.check_in(T0 + 6 * DAY, health=53)
    adjusted = process.fire(stalled, "adjust", at=T0 + 7 * DAY, reason="tickets still piling up")
    assert adjusted.step is RecoveryStep.ANALYSIS
    # back in monitoring, old check-ins no longer count toward a stall
    again = process.fire(
        process.fire(adjusted, "execute", at=T0 + 8 * DAY), "monitor", at=T0 + 9 * DAY
    )
    assert process.check(again, "adjust").reasons[0].startswith("0 check-in(s)")


def test_stall_by_band_when_health_is_not_recorded() -> None:
    process = RecoveryProcess()
    plan = monitoring_plan(process)
    rising = plan.check_in(T0 + 4 * DAY, band="red").check_in(T0 + 5 * DAY, band="red")
    assert not process.check(rising.check_in(T0 + 6 * DAY, band="yellow"), "adjust").allowed
    assert process.check(rising.check_in(T0 + 6 * DAY, band="red"), "adjust").allowed


def test_lose_and_release_need_a_reason_from_any_open_step() -> None:
    process = RecoveryProcess()
    plan = process.open("acme", at=T0)
    with pytest.raises(TransitionRefused) as err:
        process.fire(plan, "release", at=T0)
    assert err.value.reasons == ("a reason must be given",)
    released = process.fire(plan, "release", at=T0, reason="outside our ideal customer profile")
    assert released.outcome == "released" and released.days_to_recover is None
    lost = process.fire(monitoring_plan(process), "lose", at=T0 + 9 * DAY, reason="churned")
    assert lost.outcome == "lost" and lost.ended_at == T0 + 9 * DAY
    with pytest.raises(TransitionNotAllowed):
        process.fire(lost, "release", at=T0 + 9 * DAY, reason="x")
    with pytest.raises(InvalidValue) as exc:
        lost.add_action(ActionItem("x", "y", T0))
    assert "lost" in str(exc.value)
    assert lost.record_lessons("Champion left unnoticed").lessons == ("Champion left unnoticed",)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"trigger": "teleport"}, UnknownName),
        ({"trigger": "open"}, TransitionNotAllowed),
        ({"at": T0 - DAY}, OutOfOrder),
        ({"at": datetime(2025, 1, 6)}, InvalidValue),
        ({"actor": 3}, InvalidValue),
        ({"reason": 3}, InvalidValue),
        ({"force": "yes"}, InvalidValue),
        ({"account": Account("other")}, InvalidValue),
        ({"account": "acme"}, InvalidValue),
    ],
)
def test_fire_bad_inputs(kwargs: dict[str, Any], error: type[Exception]) -> None:
    process = RecoveryProcess()
    plan = process.open("acme", at=T0).add_root_cause("poc_rerun")
    args: dict[str, Any] = {"trigger": "analyze", "at": T0}
    args.update(kwargs)
    with pytest.raises(error):
        process.fire(plan, args.pop("trigger"), **args)


def test_process_refuses_plans_it_did_not_open_and_non_plans() -> None:
    process = RecoveryProcess()
    with pytest.raises(InvalidValue) as err:
        process.fire(RecoveryPlan("p", "acme", T0, root_causes=["poc_rerun"]), "analyze", at=T0)
    assert err.value.field == "plan.history"
    with pytest.raises(InvalidValue):
        process.fire("plan", "analyze", at=T0)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        process.check("plan", "analyze")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        RecoveryProcess(policy="strict")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        process.open("", at=T0)
    with pytest.raises(InvalidValue):
        process.open("acme", at=T0, actor=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        process.open("acme", at=T0, reason=1)  # type: ignore[arg-type]


def test_open_uses_the_accounts_owner_and_given_id() -> None:
    process = RecoveryProcess()
    plan = process.open(account(), at=T0, plan_id="P-7", actor="ops", reason="red week")
    assert (plan.id, plan.owner, plan.account_id) == ("P-7", "dana", "acme")
    assert plan.history[0] == StepRecord("open", None, "detection", T0, "ops", "red week")


def test_check_available_allowed_and_mermaid() -> None:
    process = RecoveryProcess()
    plan = process.open("acme", at=T0).add_root_cause("poc_rerun")
    assert process.check(plan, "close").reasons == ("'close' is not possible from 'detection'",)
    assert process.check(plan, "close").destination is None
    verdict = process.check(plan, "analyze")
    assert (verdict.allowed, verdict.destination, verdict.source) == (True, "analysis", "detection")
    assert process.available(plan) == ("analyze",)
    assert process.allowed(RecoveryStep.CLOSED) == ()
    with pytest.raises(UnknownName):
        process.check(plan, "teleport")
    mermaid = process.to_mermaid()
    assert "monitoring --> analysis : adjust" in mermaid
    assert "prevention --> closed : close" in mermaid
    assert mermaid.count(": release") == 5
    assert process.triggers[0] == "open" and len(process.triggers) == 9
    assert repr(process).startswith("RecoveryProcess(policy=RecoveryPolicy(")


def test_hooks_see_the_plan_before_and_after() -> None:
    process = RecoveryProcess()
    seen: list[tuple[str, str, int, bool]] = []

    def log(kind: str) -> Any:
        def hook(event: RecoveryEvent) -> None:
            seen.append((kind, event.trigger, event.plan.version, event.record is None))

        return hook

    process.before()(log("before"))
    process.on_exit("detection")(log("exit"))
    process.on_enter(RecoveryStep.ANALYSIS)(log("enter"))
    process.after("analyze")(log("after"))
    plan = process.open("acme", at=T0).add_root_cause("poc_rerun")
    process.fire(plan, "analyze", at=T0)
    assert seen == [
        ("before", "open", 0, True),
        ("before", "analyze", 2, True),
        ("exit", "analyze", 2, True),
        ("enter", "analyze", 3, False),
        ("after", "analyze", 3, False),
    ]


def test_failing_hooks_veto_before_and_report_after() -> None:
    process = RecoveryProcess()
    plan = process.open("acme", at=T0).add_root_cause("poc_rerun")

    def boom(event: RecoveryEvent) -> None:
        raise RuntimeError("no")

    process.before("analyze")(boom)
    with pytest.raises(TransitionVetoed) as veto:
        process.fire(plan, "analyze", at=T0)
    assert isinstance(veto.value.__cause__, RuntimeError)
    assert process.remove_hook(boom) == 1
    process.after("analyze")(boom)
    with pytest.raises(HookFailed) as late:
        process.fire(plan, "analyze", at=T0)
    assert isinstance(late.value.record, RecoveryPlan)
    assert late.value.record.step is RecoveryStep.ANALYSIS
    assert plan.step is RecoveryStep.DETECTION
    assert process.remove_hook(boom) == 1
    assert process.remove_hook(boom) == 0


def test_hook_registration_errors() -> None:
    process = RecoveryProcess()
    with pytest.raises(UnknownName):
        process.after("teleport")
    with pytest.raises(InvalidValue):
        process.on_enter("limbo")
    with pytest.raises(InvalidValue):
        process.on_exit("limbo")
    with pytest.raises(InvalidValue):
        process.after()("not callable")  # type: ignore[type-var]


def test_plan_html_repr() -> None:
    process = RecoveryProcess()
    plan = ready_for_execution(process.open("acme", at=T0, plan_id="P<1>"))
    html = plan._repr_html_()
    assert "Recovery plan P&lt;1&gt;" in html
    assert "Review open tickets" in html and "analyst, executive" in html
    assert "<caption>actions</caption>" not in RecoveryPlan("p", "a", T0)._repr_html_()


# --------------------------------------------------------------------------- templates
def test_templates_by_phase() -> None:
    assert template_for("early").kind is TemplateKind.ONBOARDING_EDUCATION
    assert template_for(RelationshipPhase.MID).kind is TemplateKind.SUPPORT_ENGAGEMENT
    assert template_for("late").kind is TemplateKind.VALUE_REINFORCEMENT
    for phase, template in TEMPLATES.items():
        assert template.phase is phase and len(template.actions) >= 3
    with pytest.raises(InvalidValue):
        template_for("someday")


@pytest.mark.parametrize(
    ("stage", "changes", "template"),
    [
        ("seed", {"adoption": 0.1}, TemplateKind.ONBOARDING_EDUCATION),
        ("ascend", {"open_tickets": 12}, TemplateKind.SUPPORT_ENGAGEMENT),
        ("tact", {"metrics": {"competitor_active": 1}}, TemplateKind.VALUE_REINFORCEMENT),
    ],
)
def test_plan_for_picks_the_template_of_the_phase(
    stage: str, changes: dict[str, Any], template: TemplateKind
) -> None:
    a = account(stage, snap(**changes))
    found = detect(a)
    plan = plan_for(found, a, T0)
    assert plan.template is template
    assert plan.step is RecoveryStep.ANALYSIS
    assert plan.root_causes == (found[0].source,)
    assert plan.actions[0].source == found[0].source
    assert plan.actions[0].objective == RISK_SOURCES[found[0].source].response  # type: ignore[index]
    assert [a.objective for a in plan.actions[1:]] == list(TEMPLATES[found[0].phase].actions)
    assert all(x.owner == "dana" and x.due == T0 + 14 * DAY for x in plan.actions)
    assert [r.trigger for r in plan.history] == ["open", "analyze"]


def test_plan_for_orders_causes_by_severity_and_handles_trend_only() -> None:
    findings = [
        finding("training_gap", "medium"),
        finding("value_doubt", "high", "late"),
        finding("training_gap", "high"),
    ]
    plan = plan_for(findings, account(), T0, owner="kim", plan_id="x", due_in=timedelta(days=3))
    assert plan.root_causes == ("value_doubt", "training_gap")
    assert plan.template is TemplateKind.VALUE_REINFORCEMENT
    assert plan.actions[0].due == T0 + 3 * DAY and plan.actions[0].owner == "kim"
    trend_only = [
        RiskFinding(None, "mid", "data", "low", RiskEvidence("health_slope", -5, -2, "below"), T0)
    ]
    plan = plan_for(trend_only, account(), T0)
    assert (plan.template, plan.root_causes, plan.actions) == (None, (), ())
    assert plan.step is RecoveryStep.ANALYSIS
    empty = plan_for([], account(), T0)
    assert empty.step is RecoveryStep.DETECTION


def test_plan_for_bad_inputs() -> None:
    no_owner = Account("x", stage="ascend")
    with pytest.raises(InvalidValue) as err:
        plan_for([finding()], no_owner, T0)
    assert err.value.field == "owner"
    with pytest.raises(InvalidValue):
        plan_for([finding()], account(), T0, due_in=timedelta(days=-1))
    with pytest.raises(InvalidValue):
        plan_for([finding()], account(), T0, process="p")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        plan_for(["finding"], account(), T0)  # type: ignore[list-item]
    with pytest.raises(InvalidValue):
        plan_for([finding()], "acme", T0)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- triage
def test_triage_releases_poor_fit_and_saves_good_fit() -> None:
    red_late = account("tact", snap(health=25, metrics={"roi_concern": 1}))
    low = triage(red_late, icp_fit=0.1)
    assert (low.decision, low.effort) == (TriageDecision.RELEASE, Effort.HIGH)
    assert any("poor fit" in r for r in low.reasons)
    marginal = triage(red_late, icp_fit=0.5)
    assert marginal.decision is TriageDecision.RELEASE
    assert any("late-phase risk present: value_doubt" in r for r in marginal.reasons)
    assert "health is red" in marginal.reasons and "a finding is critical" in marginal.reasons
    good = triage(red_late, icp_fit=0.8)
    assert good.decision is TriageDecision.SAVE and good.icp_fit == 0.8


def test_triage_effort_levels() -> None:
    assert triage(account(), icp_fit=0.5).effort is Effort.LOW
    yellow = triage(account("ascend", snap(health=60)), icp_fit=0.5)
    assert (yellow.effort, yellow.decision) == (Effort.MEDIUM, TriageDecision.SAVE)
    assert "health is yellow" in yellow.reasons[0]
    high_finding = triage(account(), icp_fit=0.5, findings=[finding(severity="high")])
    assert high_finding.effort is Effort.MEDIUM
    many = triage(account(), icp_fit=0.5, findings=[finding()] * 3)
    assert many.effort is Effort.MEDIUM
    band_only = triage(account("ascend", snap(health=None, band="red")), icp_fit=0.9)
    assert band_only.effort is Effort.HIGH


def test_triage_bad_inputs() -> None:
    with pytest.raises(InvalidValue):
        triage(account(), icp_fit=1.5)
    with pytest.raises(InvalidValue):
        triage(account(), icp_fit=0.5, policy="lenient")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        TriagePolicy(release_below=0.7, marginal_below=0.5)
    with pytest.raises(InvalidValue):
        Triage("keep", "low", 0.5, ())


# --------------------------------------------------------------------------- weekly update
def test_weekly_update_has_every_section_and_addresses_every_level() -> None:
    process = RecoveryProcess()
    plan = ready_for_execution(process.open("acme", at=T0, findings=[finding()]))
    plan = plan.add_action(ActionItem("Share the ticket plan", "lee", T0 + 3 * DAY))
    plan = plan.add_action(ActionItem("Hold a value review", "dana", T0 + 20 * DAY))
    plan = plan.complete_action(1, T0 + 2 * DAY).check_in(T0 + 4 * DAY, health=55)
    note = weekly_update(plan, T0, account_name="Acme Corp", challenges=["Budget freeze"])
    headers = [line for line in note.splitlines() if line.startswith("## ")]
    assert headers == [
        "## Executive summary",
        "## Done this week",
        "## Next steps",
        "## Challenges",
    ]
    to_line = next(line for line in note.splitlines() if line.startswith("**To:**"))
    positions = [to_line.index(level.value.replace("_", " ")) for level in StakeholderLevel]
    assert positions == sorted(positions)
    assert "analyst (Ana)" in to_line and "executive (Vic)" in to_line
    assert "economic buyer" in to_line
    done = section(note, "Done this week")
    assert done == ["- Share the ticket plan (lee)"]
    nxt = section(note, "Next steps")
    assert nxt == [
        "- Review open tickets (lee, due 2025-01-13)",
        "- Hold a value review (dana, due 2025-01-26)",
    ]
    challenges = section(note, "Challenges")
    assert "- Health is still yellow." in challenges and "- Budget freeze" in challenges
    assert not any("Overdue" in c for c in challenges)
    summary = " ".join(section(note, "Executive summary"))
    assert "yellow (55)" in summary and "support strain" in summary
    later = weekly_update(plan, T0 + 7 * DAY)
    assert "- Overdue: Review open tickets (lee, was due 2025-01-13)" in section(
        later, "Challenges"
    )
    assert section(later, "Done this week") == ["- Nothing completed this week."]


def test_weekly_update_for_an_empty_plan_and_a_stalled_one() -> None:
    process = RecoveryProcess()
    plan = process.open("acme", at=T0)
    note = weekly_update(plan, T0)
    assert section(note, "Next steps") == ["- No open actions."]
    assert section(note, "Challenges") == ["- None reported."]
    assert "No health check-in yet." in note
    stalled = monitoring_plan(process)
    for i in range(3):
        stalled = stalled.check_in(T0 + (4 + i) * DAY, band="red")
    assert "- Progress has stalled; the plan needs adjusting." in section(
        weekly_update(stalled, T0 + 7 * DAY), "Challenges"
    )
    with pytest.raises(InvalidValue):
        weekly_update(plan, datetime(2025, 1, 6))
    with pytest.raises(InvalidValue):
        weekly_update(plan, T0, challenges="late")


# --------------------------------------------------------------------------- handoff
def test_handoff_audit_lists_what_is_missing() -> None:
    empty = audit_handoff(HandoffChecklist())
    assert len(empty.missing) == 8 and empty.score == 0.0 and not empty.complete
    assert empty.questions[0] == "What business goals is the customer pursuing?"
    full = HandoffChecklist(
        goals=["close the books in 3 days"],
        technical_objectives=["ERP integration"],
        purchased=["core platform", "premium support"],
        success_metrics=["days to close"],
        stakeholders=[Stakeholder("Ana", "analyst"), Stakeholder("Bo", "economic_buyer")],
        target_date=T0 + 90 * DAY,
        customer_committed=True,
        communication_cadence="weekly call, monthly exec review",
    )
    audit = audit_handoff(full)
    assert audit.complete and audit.score == 1.0
    one_level = audit_handoff(
        HandoffChecklist(stakeholders=[Stakeholder("Ana", "analyst"), Stakeholder("Al", "analyst")])
    )
    assert "stakeholders" in one_level.missing
    assert "<table>" in empty._repr_html_() and "0% complete" in empty._repr_html_()


def test_handoff_bad_inputs() -> None:
    with pytest.raises(InvalidValue):
        audit_handoff({"goals": []})  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        HandoffChecklist(customer_committed="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        HandoffChecklist(goals="grow")
    with pytest.raises(InvalidValue):
        HandoffChecklist(target_date=datetime(2025, 1, 1))
    assert HandoffAudit((), ()).complete


# --------------------------------------------------------------------------- playbooks
def ended(
    process: RecoveryProcess,
    name: str,
    causes: list[str],
    template: TemplateKind | None,
    days: int,
    how: str = "close",
    lessons: tuple[str, ...] = (),
) -> RecoveryPlan:
    plan = process.open(name, at=T0)
    plan = RecoveryPlan(
        plan.id,
        plan.account_id,
        T0,
        root_causes=causes,
        template=template,
        history=plan.history,
        version=plan.version,
        lessons=lessons,
    )
    at = T0
    steps = ["analyze", "execute", "monitor", "prevent", "close"] if how == "close" else [how]
    for trigger in steps:
        at = T0 + days * DAY if trigger == steps[-1] else at
        plan = process.fire(plan, trigger, at=at, force=True, reason="test fixture")
    return plan


def test_playbook_statistics_on_hand_built_plans() -> None:
    p = RecoveryProcess()
    se = TemplateKind.SUPPORT_ENGAGEMENT
    vr = TemplateKind.VALUE_REINFORCEMENT
    plans = [
        ended(p, "a", ["support_strain"], se, 10, lessons=("Name a support lead",)),
        ended(p, "b", ["support_strain"], se, 30, lessons=("Name a support lead", "Triage daily")),
        ended(p, "c", ["support_strain"], se, 40, how="lose"),
        ended(p, "d", ["support_strain", "value_doubt"], vr, 20),
        ended(p, "e", ["value_doubt"], vr, 5, how="release"),
        p.open("f", at=T0),
    ]
    library = PlaybookLibrary.from_plans(plans)
    assert library.skipped == 2
    rows = [
        (e.root_cause, e.template, e.plans, e.recovered, e.recovery_rate, e.median_days)
        for e in library.entries
    ]
    assert rows == [
        ("support_strain", vr, 1, 1, 1.0, 20.0),
        ("value_doubt", vr, 1, 1, 1.0, 20.0),
        ("support_strain", se, 3, 2, 2 / 3, 20.0),  # median of 10 and 30
    ]
    assert library.entries[2].lessons == ("Name a support lead", "Triage daily")
    assert [e.template for e in library.for_cause("support_strain")] == [vr, se]
    assert library.for_cause(BreakdownCause.STRATEGY_CHANGE) == ()
    with pytest.raises(UnknownName):
        library.for_cause("gremlins")
    html = library._repr_html_()
    assert "67%" in html and "support_engagement" in html


def test_playbook_entry_with_no_recovery_and_bad_inputs() -> None:
    p = RecoveryProcess()
    library = PlaybookLibrary.from_plans([ended(p, "a", ["poc_rerun"], None, 9, how="lose")])
    (entry,) = library.entries
    assert (entry.recovered, entry.recovery_rate, entry.median_days, entry.template) == (
        0,
        0.0,
        None,
        None,
    )
    with pytest.raises(InvalidValue):
        PlaybookLibrary.from_plans(["plan"])  # type: ignore[list-item]
    with pytest.raises(InvalidValue):
        PlaybookEntry("poc_rerun", None, 0, 0, None, ())


# --------------------------------------------------------------------------- lifecycle link
def test_link_is_off_by_default() -> None:
    process = RecoveryProcess()
    link = link_lifecycle(process, STARS.evolve())
    a = account("ascend", snap(health=30))
    process.open(a, at=T0)
    assert a.stage == "ascend" and not link.enabled


def test_opening_moves_a_growth_account_into_the_crisis_stage_the_evidence_supports() -> None:
    process = RecoveryProcess()
    lc = STARS.evolve()
    link_lifecycle(process, lc, enabled=True)
    red = account("ascend", snap(health=30))
    process.open(red, at=T0)
    assert red.stage == "tact"
    yellow = account("accelerate", snap(health=60))
    process.open(yellow, at=T0, plan_id="Y")
    assert yellow.stage == "reset"
    assert yellow.history[-1].reason == "recovery plan 'Y' opened"
    green = account("ascend", snap(health=90))
    process.open(green, at=T0)
    assert green.stage == "ascend" and green.history == ()
    already = account("reset", snap(health=30))
    process.open(already, at=T0)
    assert already.history == ()
    process.open("by-id-only", at=T0)  # no account: nothing to move


def test_closing_recovered_stabilizes_or_realigns() -> None:
    process = RecoveryProcess()
    link = link_lifecycle(process, STARS.evolve(), enabled=True)
    tact = account("tact", snap(health=75))
    plan = closing(process, tact)
    assert tact.stage == "reset" and tact.history[-1].trigger == "stabilize"
    assert tact.history[-1].reason == f"recovery plan {plan.id!r} closed recovered"
    reset = account("reset", *(snap(T0 + i * DAY, health=80) for i in range(3)))
    closing(process, reset)
    assert reset.stage == "accelerate" and reset.history[-1].trigger == "realign"
    still_red = account("tact", snap(health=20))
    with pytest.raises(HookFailed) as err:
        closing(process, still_red)
    assert isinstance(err.value.__cause__, TransitionRefused)
    assert (
        isinstance(err.value.record, RecoveryPlan) and err.value.record.step is RecoveryStep.CLOSED
    )
    assert still_red.stage == "tact"
    link.disable()
    other = account("tact", snap(health=75))
    closing(process, other)
    assert other.stage == "tact"
    link.enable()
    grown = account("ascend", snap(health=75))
    closing(process, grown)  # nothing to do for an account already in growth
    assert grown.history == ()


def closing(process: RecoveryProcess, acct: Account) -> RecoveryPlan:
    plan = process.open(acct.id, at=T0 + 10 * DAY)
    for trigger in ("analyze", "execute", "monitor", "prevent"):
        plan = process.fire(plan, trigger, at=T0 + 10 * DAY, force=True, reason="fixture")
    return process.fire(plan, "close", at=T0 + 10 * DAY, force=True, reason="fixture", account=acct)


def test_losing_the_plan_churns_the_account_once() -> None:
    process = RecoveryProcess()
    link = link_lifecycle(process, STARS.evolve(), enabled=True)
    acct = account("tact", snap(health=20))
    plan = process.open(acct, at=T0)
    process.fire(plan, "lose", at=T0 + DAY, reason="did not renew", account=acct)
    assert acct.stage == "churn"
    assert acct.history[-1].reason == f"recovery plan {plan.id!r} ended lost"
    again = process.open("acme", at=T0 + DAY)
    process.fire(again, "lose", at=T0 + DAY, reason="churned", account=acct)
    assert acct.stage == "churn" and len(acct.history) == 1
    process.fire(process.open("acme", at=T0), "lose", at=T0, reason="no account given")
    link.unlink()
    fresh = account("tact", snap(health=20))
    process.fire(process.open(fresh, at=T0), "lose", at=T0, reason="x", account=fresh)
    assert fresh.stage == "tact"


def test_link_bad_inputs() -> None:
    with pytest.raises(InvalidValue):
        link_lifecycle("process", STARS)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        link_lifecycle(RecoveryProcess(), "stars")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        link_lifecycle(RecoveryProcess(), STARS.evolve(), enabled="yes")  # type: ignore[arg-type]


def test_leading_indicators_are_described() -> None:
    assert "adoption" in LEADING_INDICATORS
    assert all(text.endswith(".") for text in LEADING_INDICATORS.values())


def test_trend_window_limits_the_readings_used() -> None:
    # an old fall followed by a flat recent stretch: only the window decides
    snaps = [snap(T0, health=99), *(snap(T0 + (60 + 10 * i) * DAY, health=80) for i in range(3))]
    a = account("ascend", *snaps)
    assert [f.evidence.signal for f in detect(a)] == ["health_slope"]
    assert detect(a, policy=DetectionPolicy(trend_days=30)) == []
