"""Regression tests, from the user's side, for the recovery API traps of issue 17.

Items: the policy's band cut-offs apply to check-ins (7), the weekly update from facts
alone (9), triage on expected value and cost to serve (10), and readable errors for a
wrong item type (14).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stars.bands import BandCutoffs
from stars.errors import InvalidValue
from stars.recovery import (
    ActionItem,
    RecoveryPlan,
    RecoveryProcess,
    RiskEvidence,
    RiskFinding,
    Stakeholder,
)

T0 = datetime(2025, 1, 6, tzinfo=UTC)
DAY = timedelta(days=1)
STRICT = BandCutoffs(red_below=50, green_from=80)


def section(note: str, title: str) -> list[str]:
    lines = note.splitlines()
    start = lines.index(f"## {title}") + 2
    out = []
    for line in lines[start:]:
        if not line or line.startswith("## "):
            break
        out.append(line)
    return out


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
