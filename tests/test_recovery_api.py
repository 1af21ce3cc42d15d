"""Regression tests, from the user's side, for the recovery API traps of issue 17.

Items: the policy's band cut-offs apply to check-ins (7), the weekly update from facts
alone (9), triage on expected value and cost to serve (10), and readable errors for a
wrong item type (14).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpers import section
from stars.account import Account, Snapshot
from stars.bands import Band, BandCutoffs
from stars.errors import InvalidValue, TransitionRefused
from stars.io import dumps, loads
from stars.recovery import (
    ActionItem,
    Effort,
    RecoveryPlan,
    RecoveryPolicy,
    RecoveryProcess,
    RiskEvidence,
    RiskFinding,
    Stakeholder,
    Triage,
    TriageDecision,
    TriageFactor,
    TriagePolicy,
    plan_for,
    triage,
    weekly_update,
)

T0 = datetime(2025, 1, 6, tzinfo=UTC)
DAY = timedelta(days=1)
STRICT = BandCutoffs(red_below=50, green_from=80)


def finding() -> RiskFinding:
    return RiskFinding(
        "support_strain", "mid", "data", "medium", RiskEvidence("open_tickets", 8, 5, "above"), T0
    )


def monitoring(process: RecoveryProcess) -> RecoveryPlan:
    plan = process.open("acme", at=T0, findings=[finding()])
    plan = process.fire(plan, "analyze", at=T0)
    plan = (
        plan.add_root_cause("support_strain")
        .add_stakeholder(Stakeholder("Ana", "analyst"))
        .add_stakeholder(Stakeholder("Vic", "executive"))
        .add_action(ActionItem("Review open tickets", "lee", T0 + 7 * DAY))
    )
    plan = process.fire(plan, "execute", at=T0 + DAY)
    plan = plan.complete_action(0, T0 + 2 * DAY)
    return process.fire(plan, "monitor", at=T0 + 2 * DAY)


# --------------------------------------------------------------------------- 7: policy bands
def test_check_in_uses_the_process_policy_bands_without_passing_them() -> None:
    strict = RecoveryProcess(RecoveryPolicy(bands=STRICT))
    plan = strict.open("acme", at=T0)
    assert plan.bands == STRICT
    assert plan.check_in(T0, health=75).check_ins[0].band is Band.YELLOW
    assert plan.check_in(T0, health=45).check_ins[0].band is Band.RED
    # The default process keeps the default cut-offs.
    assert RecoveryProcess().open("acme", at=T0).check_in(T0, health=75).check_ins[0].band is (
        Band.GREEN
    )


def test_plan_for_carries_the_process_policy_bands() -> None:
    strict = RecoveryProcess(RecoveryPolicy(bands=STRICT))
    acme = Account("acme", stage="ascend", owner="dana", snapshots=[Snapshot(at=T0, health=60)])
    plan = plan_for([finding()], acme, T0, process=strict)
    assert plan.check_in(T0 + DAY, health=75).check_ins[-1].band is Band.YELLOW


def test_an_explicit_bands_argument_wins_over_the_policy() -> None:
    plan = RecoveryProcess(RecoveryPolicy(bands=STRICT)).open("acme", at=T0)
    lenient = BandCutoffs(red_below=20, green_from=60)
    assert plan.check_in(T0, health=65, bands=lenient).check_ins[0].band is Band.GREEN
    # ... for that reading only: the next one uses the plan's cut-offs again.
    again = plan.check_in(T0, health=65, bands=lenient).check_in(T0, health=65)
    assert again.check_ins[-1].band is Band.YELLOW


def test_prevent_guard_counts_green_by_the_policy_bands() -> None:
    strict = RecoveryProcess(RecoveryPolicy(bands=STRICT, green_check_ins=2))
    plan = monitoring(strict)
    for i in range(2):
        plan = plan.check_in(T0 + (3 + i) * DAY, health=75)
    with pytest.raises(TransitionRefused, match="green for 0 check-in"):
        strict.fire(plan, "prevent", at=T0 + 5 * DAY)
    plan = plan.check_in(T0 + 5 * DAY, health=85).check_in(T0 + 6 * DAY, health=90)
    assert strict.fire(plan, "prevent", at=T0 + 6 * DAY).step.value == "prevention"


@pytest.mark.parametrize("bands", [{"red_below": 50}, 40, "strict"])
def test_policy_and_plan_bands_must_be_cutoffs(bands: Any) -> None:
    with pytest.raises(InvalidValue) as err:
        RecoveryPolicy(bands=bands)
    assert err.value.field == "bands" and "expected a BandCutoffs" in str(err.value)
    with pytest.raises(InvalidValue) as err:
        RecoveryPlan("p", "acme", T0, bands=bands)
    assert err.value.field == "bands"


def test_a_plan_saved_before_it_carried_bands_still_loads() -> None:
    plan = RecoveryProcess(RecoveryPolicy(bands=STRICT)).open("acme", at=T0)
    assert loads(dumps(plan)) == plan
    old = json.loads(dumps(plan))
    del old["bands"]
    loaded = loads(json.dumps(old))
    assert isinstance(loaded, RecoveryPlan) and loaded.bands == BandCutoffs()


# --------------------------------------------------------------------------- 9: weekly update
def test_weekly_update_from_facts_without_a_plan() -> None:
    note = weekly_update(
        week=T0,
        account_name="Globex rollout",
        health=55,
        summary="The data migration slipped a week.",
        done=["SSO live for the finance team"],
        next_steps=["Import last year's tickets", "Train the second shift"],
        challenges=["Export waits on their IT team"],
        owner="dana",
        stakeholders=[Stakeholder("Ana", "analyst"), Stakeholder("Lena", "economic_buyer")],
    )
    lines = note.splitlines()
    assert lines[0] == "# Weekly update: Globex rollout, week of 2025-01-06"
    assert "**To:** analyst (Ana); manager; director; executive; economic buyer (Lena)" in lines
    assert "**From:** dana" in lines
    assert [line for line in lines if line.startswith("## ")] == [
        "## Executive summary",
        "## Done this week",
        "## Next steps",
        "## Challenges",
    ]
    assert section(note, "Executive summary") == [
        "Health is yellow (55). The data migration slipped a week."
    ]
    assert section(note, "Done this week") == ["- SSO live for the finance team"]
    assert section(note, "Next steps") == [
        "- Import last year's tickets",
        "- Train the second shift",
    ]
    assert section(note, "Challenges") == [
        "- Health is still yellow.",
        "- Export waits on their IT team",
    ]


def test_weekly_update_from_facts_with_little_to_say() -> None:
    note = weekly_update(week=T0, account_name="Initech onboarding")
    assert section(note, "Executive summary") == ["No health reading this week."]
    assert section(note, "Done this week") == ["- Nothing completed this week."]
    assert section(note, "Challenges") == ["- None reported."]
    assert "**From:**" not in note
    green = weekly_update(week=T0, account_name="Initech onboarding", band="green")
    assert section(green, "Executive summary") == ["Health is green."]


def test_weekly_update_facts_use_the_policy_bands_for_health() -> None:
    strict = RecoveryPolicy(bands=STRICT)
    note = weekly_update(week=T0, account_name="Acme", health=75, policy=strict)
    assert section(note, "Executive summary") == ["Health is yellow (75)."]
    assert "Health is green (75)." in weekly_update(week=T0, account_name="Acme", health=75)


@pytest.mark.parametrize(
    ("fact", "value"),
    [
        ("band", "green"),
        ("health", 80),
        ("summary", "All good"),
        ("done", ["Kickoff"]),
        ("next_steps", []),
        ("owner", "dana"),
        ("stakeholders", [Stakeholder("Ana", "analyst")]),
    ],
)
def test_weekly_update_refuses_a_plan_together_with_facts(fact: str, value: Any) -> None:
    plan = RecoveryProcess().open("acme", at=T0, owner="dana")
    with pytest.raises(InvalidValue) as err:
        weekly_update(plan, T0, **{fact: value})
    assert err.value.field == fact
    assert "when a plan is given" in str(err.value)
    assert "either a plan or the facts, not both" in str(err.value)


def test_weekly_update_from_a_plan_still_works_and_names_its_owner() -> None:
    plan = RecoveryProcess().open("acme", at=T0, owner="dana").check_in(T0 + DAY, health=50)
    note = weekly_update(plan, T0, account_name="Acme Corp", challenges=["Budget freeze"])
    assert note.splitlines()[0] == "# Weekly update: Acme Corp, week of 2025-01-06"
    assert "**From:** dana" in note.splitlines()
    assert section(note, "Challenges") == ["- Health is still yellow.", "- Budget freeze"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"week": T0}, "account_name"),
        ({"week": T0, "account_name": ""}, "account_name"),
        ({"account_name": "Acme"}, "week"),
        ({"week": datetime(2025, 1, 6), "account_name": "Acme"}, "week"),
        ({"week": T0, "account_name": "Acme", "band": "blue"}, "band"),
        ({"week": T0, "account_name": "Acme", "health": 120}, "health"),
        ({"week": T0, "account_name": "Acme", "done": "Kickoff"}, "done"),
        ({"week": T0, "account_name": "Acme", "next_steps": [""]}, "next_steps[0]"),
        ({"week": T0, "account_name": "Acme", "owner": " "}, "owner"),
        ({"week": T0, "account_name": "Acme", "stakeholders": ["Ana"]}, "stakeholders[0]"),
        ({"week": T0, "account_name": "Acme", "policy": "strict"}, "policy"),
    ],
)
def test_weekly_update_facts_are_checked(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValue) as err:
        weekly_update(**kwargs)
    assert err.value.field == field


def test_weekly_update_without_plan_or_name_says_what_to_pass() -> None:
    with pytest.raises(InvalidValue, match="pass a RecoveryPlan, or the facts"):
        weekly_update(week=T0)  # type: ignore[call-overload]


# --------------------------------------------------------------------------- 10: triage
def green_account() -> Account:
    return Account("acme", stage="ascend", snapshots=[Snapshot(at=T0, health=85)])


def red_account() -> Account:
    return Account("acme", stage="ascend", snapshots=[Snapshot(at=T0, health=25)])


def test_low_expected_value_releases_a_good_fit() -> None:
    r = triage(green_account(), icp_fit=0.9, expected_value=5_000, cost_to_serve=10_000)
    assert r.decision is TriageDecision.RELEASE
    assert r.decided_by is TriageFactor.EXPECTED_VALUE
    assert (r.expected_value, r.cost_to_serve) == (5_000, 10_000)
    assert r.reason == r.reasons[-1]
    assert r.reason == (
        "decided by expected value: 5,000 expected against a cost to serve of 10,000 "
        "(0.50x), below the 1x needed"
    )


def test_enough_expected_value_saves_and_says_so() -> None:
    r = triage(green_account(), icp_fit=0.9, expected_value=50_000, cost_to_serve=10_000)
    assert (r.decision, r.decided_by) == (TriageDecision.SAVE, TriageFactor.EXPECTED_VALUE)
    assert r.reason.startswith("decided by expected value: 50,000 expected")
    assert "at least the 1x needed" in r.reason


def test_a_high_effort_save_must_be_worth_more() -> None:
    r = triage(red_account(), icp_fit=0.9, expected_value=15_000, cost_to_serve=10_000)
    assert r.effort is Effort.HIGH
    assert (r.decision, r.decided_by) == (TriageDecision.RELEASE, TriageFactor.EXPECTED_VALUE)
    assert "below the 2x needed when the effort is high" in r.reason
    lenient = TriagePolicy(high_effort_value_ratio=1.5)
    kept = triage(
        red_account(), icp_fit=0.9, expected_value=15_000, cost_to_serve=10_000, policy=lenient
    )
    assert kept.decision is TriageDecision.SAVE


def test_a_poor_fit_is_released_whatever_the_value() -> None:
    r = triage(green_account(), icp_fit=0.1, expected_value=90_000, cost_to_serve=1_000)
    assert (r.decision, r.decided_by) == (TriageDecision.RELEASE, TriageFactor.ICP_FIT)
    assert r.reason.startswith("decided by ICP fit: 0.10 is below 0.30")


def test_a_middling_fit_with_high_effort_is_decided_by_effort() -> None:
    r = triage(red_account(), icp_fit=0.5)
    assert (r.decision, r.decided_by) == (TriageDecision.RELEASE, TriageFactor.EFFORT)
    assert r.reason == "decided by effort: the effort is high and the ICP fit 0.50 is below 0.60"


def test_without_a_value_the_fit_decides() -> None:
    r = triage(green_account(), icp_fit=0.9)
    assert (r.decision, r.decided_by) == (TriageDecision.SAVE, TriageFactor.ICP_FIT)
    assert r.expected_value is None and r.cost_to_serve is None
    assert r.reason == "decided by ICP fit: 0.90 justifies the effort"


def test_no_cost_to_serve_reads_cleanly() -> None:
    r = triage(green_account(), icp_fit=0.9, expected_value=100, cost_to_serve=0)
    assert r.decision is TriageDecision.SAVE
    assert "a cost to serve of 0, at least the 1x needed" in r.reason


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"expected_value": 5_000}, "cost_to_serve"),
        ({"cost_to_serve": 5_000}, "expected_value"),
        ({"expected_value": -1, "cost_to_serve": 5}, "expected_value"),
        ({"expected_value": 1, "cost_to_serve": float("nan")}, "cost_to_serve"),
        ({"expected_value": "lots", "cost_to_serve": 5}, "expected_value"),
    ],
)
def test_triage_value_inputs_are_checked(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValue) as err:
        triage(green_account(), icp_fit=0.9, **kwargs)
    assert err.value.field == field


def test_giving_only_one_of_value_and_cost_says_to_give_both() -> None:
    with pytest.raises(InvalidValue, match="give both or neither"):
        triage(green_account(), icp_fit=0.9, expected_value=5_000)


def test_triage_policy_value_ratios_are_checked() -> None:
    with pytest.raises(InvalidValue) as err:
        TriagePolicy(min_value_ratio=3, high_effort_value_ratio=2)
    assert err.value.field == "high_effort_value_ratio"
    with pytest.raises(InvalidValue):
        TriagePolicy(min_value_ratio=-1)


def test_triage_result_checks_and_round_trips() -> None:
    with pytest.raises(InvalidValue) as err:
        Triage("save", "low", 0.9, ("x",), "expected_value")
    assert err.value.field == "decided_by"
    with pytest.raises(InvalidValue):
        Triage("save", "low", 0.9, ("x",), "luck")
    r = triage(green_account(), icp_fit=0.9, expected_value=5_000, cost_to_serve=10_000)
    assert loads(dumps(r)) == r
    old = json.loads(dumps(Triage("save", "low", 0.9, ("x",))))
    for key in ("decided_by", "expected_value", "cost_to_serve"):
        del old[key]
    assert loads(json.dumps(old)).decided_by is TriageFactor.ICP_FIT


# --------------------------------------------------------------------------- 14: errors
def test_add_action_with_a_dict_names_the_type_and_shows_it_whole() -> None:
    plan = RecoveryPlan("p", "acme", T0)
    item = {"objective": "Train the analysts on the new export", "owner": "sam", "due": T0}
    with pytest.raises(InvalidValue) as err:
        plan.add_action(item)  # type: ignore[arg-type]
    message = str(err.value)
    assert err.value.field == "item" and err.value.value is item
    assert message == (
        "item: got a dict with keys 'objective', 'owner', 'due', expected an ActionItem "
        "(build one from the mapping: ActionItem(**item))"
    )
    assert "a ActionItem" not in message


def test_a_short_dict_is_shown_complete() -> None:
    with pytest.raises(InvalidValue) as err:
        RecoveryPlan("p", "acme", T0).add_action({"objective": "Train"})  # type: ignore[arg-type]
    assert str(err.value).startswith("item: got {'objective': 'Train'}, expected an ActionItem")


def test_unknown_keys_are_named() -> None:
    with pytest.raises(InvalidValue) as err:
        RecoveryPlan("p", "acme", T0).add_action({"goal": "Train", "owner": "sam"})  # type: ignore[arg-type]
    assert "not fields of it: 'goal'" in str(err.value)
    assert "ActionItem(objective, owner, due, done_at, source)" in str(err.value)


def test_other_edits_name_the_type_with_the_right_article() -> None:
    plan = RecoveryPlan("p", "acme", T0).add_action(ActionItem("Train", "sam", T0))
    with pytest.raises(InvalidValue, match=r"item: got 'Train', expected an ActionItem"):
        plan.replace_action(0, "Train")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"expected a Stakeholder \(build one"):
        plan.add_stakeholder({"name": "Ana", "level": "analyst"})  # type: ignore[arg-type]
    long = Stakeholder("Ana " * 20, "analyst", "Senior analyst")
    with pytest.raises(InvalidValue, match=r"item: got a Stakeholder object, expected an Action"):
        plan.add_action(long)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"actions\[0\]: got .*, expected an ActionItem$"):
        RecoveryPlan("p", "acme", T0, actions=[{"objective": "Train the analysts " * 5}])


def test_a_long_value_is_never_cut_mid_way() -> None:
    err = InvalidValue("findings", list(range(100)), "a sequence of RiskFinding values")
    assert (
        str(err) == "findings: got a list of 100 items, expected a sequence of RiskFinding values"
    )
    keys = {f"key_{i}": i for i in range(30)}
    assert str(InvalidValue("x", keys, "y")) == "x: got a dict with 30 keys, expected y"
