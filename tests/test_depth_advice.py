"""Advice for a two-sided depth gap, and INTEGRATED as an opt-in everywhere (issue items 2 and 11).

Written from the user's side: the public API and the words an account team reads.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from stars import io
from stars.account import Account
from stars.depth import (
    Depth,
    DepthAssessment,
    DepthGapAdvice,
    Disagreement,
    TwoSidedDepth,
    assess,
    check_integrated_opt_in,
    gap_advice,
    record_depth,
)
from stars.errors import InvalidValue, UnknownName
from stars.lifecycle import STARS
from stars.report import build_report
from stars.testing import depth_examples

T0 = datetime(2025, 1, 1, tzinfo=UTC)

_, BASIC, COLLABORATIVE, INTERCONNECTED, INTEGRATED = depth_examples().values()


# ---------------------------------------------------------------- item 2: gap advice
def test_vendor_sees_more_gets_advice_to_verify_and_not_to_invest() -> None:
    # The CRM says joint planning happens; the customer's survey says it does not.
    vendor = attrs.evolve(COLLABORATIVE, joint_planning=True)
    two = TwoSidedDepth(vendor=INTERCONNECTED, customer=vendor)
    assert (two.agreed, two.gap, two.sees_more) == (Depth.COLLABORATIVE, 1, "vendor")

    advice = two.advice
    assert advice is not None
    assert (advice.sees_more, advice.sees_less) == ("vendor", "customer")
    assert (advice.higher, advice.agreed, advice.levels) == (
        Depth.INTERCONNECTED,
        Depth.COLLABORATIVE,
        1,
    )
    # What only the vendor sees, between the two depths: the things to check.
    assert advice.verify == (
        "coordinated_contact",
        "broad_functions",
        "joint_initiatives",
        "cost_transparency",
    )
    assert {d.criterion for d in advice.checks} == {
        "vendor_functions",
        "customer_functions",
        "contact",
        "shared_roadmap",
        "cost_transparency",
    }
    first, agreed, verify, invest = advice.sentences
    assert first.startswith("The vendor sees the relationship as interconnected")
    assert "the customer only as collaborative (1 level apart)" in first
    assert "Only what both sides agree on is real" in agreed
    assert "treat the relationship as collaborative" in agreed
    assert verify.startswith("Verify with the customer")
    assert "how the two sides are in touch (vendor coordinated, customer ad_hoc)" in verify
    assert "whether each side sees enough of the other to find savings" in verify
    assert invest.startswith("Do not invest for interconnected")
    assert "vendor's view alone" in invest

    text = two.explain()
    assert text.splitlines()[0] == (
        "Agreed depth: collaborative (vendor sees interconnected, customer sees collaborative;"
        " gap +1)"
    )
    assert "Advice (the vendor sees more):" in text
    assert all(f"  - {s}" in text for s in advice.sentences)

    md = two.to_markdown()
    assert md.startswith("### Agreed depth: collaborative")
    assert "| contact | coordinated | ad_hoc |" in md
    assert "**Advice** (the vendor sees more):" in md
    assert all(f"- {s}" in md for s in advice.sentences)
    assert "The vendor sees more" in two._repr_html_()


def test_advice_asks_only_about_what_separates_the_two_depths() -> None:
    # Joint planning is an interconnected matter: it is no reason for a basic/collaborative gap.
    vendor = attrs.evolve(COLLABORATIVE, joint_planning=True)
    advice = TwoSidedDepth(vendor=vendor, customer=BASIC).advice
    assert advice is not None
    assert "joint_planning" not in advice.verify
    assert "joint_planning" not in {d.criterion for d in advice.checks}
    assert "whether strategy is planned together" not in advice.sentences[2]
    assert (
        "whether price still leads the conversation (vendor no, customer yes)"
        in (advice.sentences[2])
    )


def test_customer_sees_more_is_named_and_not_a_reason_to_invest_either() -> None:
    two = TwoSidedDepth(vendor=BASIC, customer=COLLABORATIVE)
    assert (two.agreed, two.gap, two.sees_more) == (Depth.BASIC, -1, "customer")
    advice = two.advice
    assert advice is not None
    assert advice.sees_more == "customer"
    first, agreed, verify, invest = advice.sentences
    assert first.startswith("The customer sees the relationship as collaborative")
    assert "the vendor only as basic" in first
    assert "until the vendor sees collaborative too" in agreed
    assert verify.startswith("Verify with the customer what they count as collaborative:")
    assert invest.startswith("Do not invest on the strength of the customer's view either")
    assert "Advice (the customer sees more):" in two.explain()
    assert "ask the customer what they count beyond basic" in advice.summary


def test_no_gap_no_advice() -> None:
    # Same depth on both sides, even with different evidence: nothing to advise.
    two = TwoSidedDepth(vendor=BASIC, customer=attrs.evolve(BASIC, vendor_stakeholders=2))
    assert two.gap == 0
    assert two.sees_more is None
    assert two.advice is None
    text = two.explain()
    assert "Both sides see the same depth: no gap to close." in text
    assert "Advice" not in text
    assert "vendor_stakeholders: vendor 2, customer 1" not in text
    assert "vendor_stakeholders: vendor 1, customer 2" in text
    assert "Advice" not in two.to_markdown()
    assert "sees more" not in two._repr_html_()


def test_gap_advice_from_two_depths_alone() -> None:
    advice = gap_advice("interconnected", Depth.BASIC)
    assert advice is not None
    assert (advice.sees_more, advice.levels, advice.verify, advice.checks) == ("vendor", 2, (), ())
    assert "(2 levels apart)" in advice.sentences[0]
    assert "what separates basic from interconnected in their eyes" in advice.sentences[2]
    assert advice.summary == (
        "Treat it as basic, not interconnected: confirm with the customer what the vendor"
        " counts beyond basic, and do not invest on the strength of the vendor's view."
    )
    assert gap_advice("collaborative", "collaborative") is None


def test_gap_advice_refuses_bad_input_naming_the_field() -> None:
    with pytest.raises(InvalidValue, match="customer: got 'gold'"):
        gap_advice("basic", "gold")
    with pytest.raises(UnknownName, match="being_nice"):
        gap_advice("collaborative", "basic", verify=["being_nice"])
    with pytest.raises(InvalidValue, match="checks"):
        gap_advice("collaborative", "basic", checks=["contact"])  # type: ignore[list-item]
    with pytest.raises(InvalidValue, match="higher"):
        DepthGapAdvice("vendor", "basic", "collaborative", (), (), ())
    with pytest.raises(InvalidValue, match="sees_more"):
        DepthGapAdvice("partner", "collaborative", "basic", (), (), ())


def test_gap_advice_round_trips_through_json() -> None:
    advice = TwoSidedDepth(vendor=INTERCONNECTED, customer=BASIC).advice
    assert advice is not None
    assert io.loads(io.dumps(advice)) == advice
    assert advice.checks[0] == Disagreement("vendor_stakeholders", 5, 1)


def _customer(ident: str) -> Account:
    a = Account(ident, owner="dana")
    STARS.fire(a, "sign", at=T0, force=True, reason="test set-up")
    return a


def test_portfolio_report_names_who_sees_more_and_what_to_do() -> None:
    optimist = _customer("optimist")
    record_depth(optimist, "collaborative", T0, side="vendor")
    record_depth(optimist, "basic", T0, side="customer")
    keen = _customer("keen")
    record_depth(keen, "basic", T0, side="vendor")
    record_depth(keen, "interconnected", T0, side="customer")
    level = _customer("level")
    record_depth(level, "basic", T0, side="vendor")
    record_depth(level, "basic", T0, side="customer")

    r = build_report([optimist, keen, level])
    gaps = {g.account_id: g for g in r.depth_gaps}
    assert set(gaps) == {"optimist", "keen"}
    assert gaps["optimist"].sees_more == "vendor"
    assert gaps["optimist"].advice == (
        "Treat it as basic, not collaborative: confirm with the customer what the vendor"
        " counts beyond basic, and do not invest on the strength of the vendor's view."
    )
    assert gaps["keen"].sees_more == "customer"
    assert "do not invest on the strength of the customer's view" in gaps["keen"].advice

    for text in (r.to_text(), r.to_markdown()):
        rendered = " ".join(text.split())  # the text report wraps to the terminal's width
        assert "sees more" in rendered
        assert "Only what both sides agree on is real" in rendered
        assert f"optimist: {gaps['optimist'].advice}" in rendered
        assert f"keen: {gaps['keen'].advice}" in rendered
    data = json.loads(r.to_json())
    assert {g["account_id"]: g["sees_more"] for g in data["depth_gaps"]} == {
        "keen": "customer",
        "optimist": "vendor",
    }


# ---------------------------------------------------------------- item 11: INTEGRATED opt-in
def test_assess_says_when_the_evidence_would_qualify_for_integrated() -> None:
    a = assess(INTEGRATED)
    assert a.depth is Depth.INTERCONNECTED
    assert a.integrated_withheld
    for text in (a.explain(), a.to_markdown()):
        assert "The evidence also meets every integrated requirement, but integrated is off" in text
        assert "allow_integrated=True" in text
    assert "integrated is off" in a._repr_html_()

    allowed = assess(INTEGRATED, allow_integrated=True)
    assert allowed.depth is Depth.INTEGRATED
    assert not allowed.integrated_withheld
    assert "integrated is off" not in allowed.explain()

    short = assess(INTERCONNECTED)  # interconnected, but not integrated evidence
    assert not short.integrated_withheld
    assert "integrated" not in short.explain()


def test_two_sided_view_repeats_the_integrated_note_for_the_side_it_concerns() -> None:
    two = TwoSidedDepth(vendor=INTEGRATED, customer=INTERCONNECTED)
    assert two.gap == 0
    assert "The vendor's evidence would qualify for integrated if it were enabled" in (
        two.explain()
    )
    assert "customer's evidence would qualify" not in two.to_markdown()


def test_withheld_only_makes_sense_at_interconnected() -> None:
    with pytest.raises(InvalidValue, match="integrated_withheld: got True"):
        DepthAssessment("basic", ("formal_relationship",), (), None, integrated_withheld=True)
    with pytest.raises(InvalidValue, match="integrated_withheld"):
        DepthAssessment("interconnected", (), (), None, integrated_withheld=1)  # type: ignore[arg-type]


def test_old_json_without_the_new_field_still_loads() -> None:
    doc = json.loads(io.dumps(assess(INTEGRATED)))
    del doc["integrated_withheld"]
    assert io.loads(json.dumps(doc)).integrated_withheld is False


def test_record_depth_refuses_integrated_without_the_opt_in() -> None:
    acct = Account("acme")
    with pytest.raises(InvalidValue, match="allow_integrated: got False") as err:
        record_depth(acct, "integrated", T0)
    assert err.value.field == "allow_integrated"
    assert "opt-in as in assess" in str(err.value)
    assert (acct.depths, acct.version) == ((), 0)  # nothing half-applied

    point = record_depth(acct, "integrated", T0, allow_integrated=True)
    assert point.depth == "integrated"
    assert acct.version == 1


def test_record_depth_opt_in_applies_to_assessments_and_two_sided_views() -> None:
    acct = Account("acme")
    deep = assess(INTEGRATED, allow_integrated=True)
    with pytest.raises(InvalidValue, match="allow_integrated"):
        record_depth(acct, deep, T0)
    record_depth(acct, deep, T0, allow_integrated=True)

    # Only the vendor side reaches integrated: the agreed view is interconnected.
    two = TwoSidedDepth(vendor=deep, customer=assess(INTERCONNECTED, allow_integrated=True))
    record_depth(acct, two, T0 + timedelta(days=1))
    with pytest.raises(InvalidValue, match="allow_integrated"):
        record_depth(acct, two, T0 + timedelta(days=1), side="vendor")
    record_depth(acct, two, T0 + timedelta(days=1), side="vendor", allow_integrated=True)
    assert [p.depth for p in acct.depths] == ["integrated", "interconnected", "integrated"]


def test_record_depth_refuses_an_integrated_assessment_without_the_evidence() -> None:
    acct = Account("acme")
    claimed = DepthAssessment("integrated", (), (), None, evidence=INTERCONNECTED)
    with pytest.raises(InvalidValue, match="integrated_operations, all_joint_initiatives"):
        record_depth(acct, claimed, T0, allow_integrated=True)
    assert acct.version == 0


def test_check_integrated_opt_in_is_the_rule_record_depth_follows() -> None:
    assert check_integrated_opt_in("basic") is Depth.BASIC
    assert check_integrated_opt_in(Depth.INTERCONNECTED, evidence=BASIC) is Depth.INTERCONNECTED
    with pytest.raises(InvalidValue, match="allow_integrated"):
        check_integrated_opt_in(Depth.INTEGRATED)
    assert (
        check_integrated_opt_in("integrated", allow_integrated=True, evidence=[INTEGRATED])
        is Depth.INTEGRATED
    )
    with pytest.raises(InvalidValue, match="integrated_operations"):
        check_integrated_opt_in(
            "integrated", allow_integrated=True, evidence=(INTEGRATED, INTERCONNECTED)
        )
    with pytest.raises(InvalidValue, match="depth: got 'gold'"):
        check_integrated_opt_in("gold")
    with pytest.raises(InvalidValue, match="allow_integrated"):
        check_integrated_opt_in("basic", allow_integrated="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="evidence"):
        check_integrated_opt_in("basic", evidence="basic")  # type: ignore[arg-type]
