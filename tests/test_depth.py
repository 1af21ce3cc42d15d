from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from stars.account import Account, DepthPoint
from stars.depth import (
    GUIDANCE,
    BreakdownCause,
    CompanyMaturity,
    ContactPattern,
    Depth,
    DepthAssessment,
    DepthEvidence,
    DepthGuidance,
    DepthMovement,
    DepthPolicy,
    Disagreement,
    DwellAction,
    KeyAccountCheck,
    MovementDirection,
    Requirement,
    TwoSidedDepth,
    assess,
    depth_movements,
    depth_since,
    dwell_advice,
    guidance,
    key_account_check,
    record_depth,
    requirements,
    value_concentration,
)
from stars.errors import InvalidValue, OutOfOrder, UnknownName
from stars.testing import depth_examples

T0 = datetime(2025, 1, 1, tzinfo=UTC)

# Evidence built for each depth, from the description of that depth.
EXPLORATORY, BASIC, COLLABORATIVE, INTERCONNECTED, INTEGRATED = depth_examples().values()


def _evidence(value: Any, field: str) -> DepthEvidence:
    kwargs: dict[str, Any] = {field: value}
    return DepthEvidence(**kwargs)


# ---------------------------------------------------------------- Depth order
def test_depth_order_is_the_relationship_order_not_alphabetical() -> None:
    assert sorted(Depth, reverse=True)[0] is Depth.INTEGRATED
    assert sorted(Depth) == [
        Depth.EXPLORATORY,
        Depth.BASIC,
        Depth.COLLABORATIVE,
        Depth.INTERCONNECTED,
        Depth.INTEGRATED,
    ]
    # alphabetically "basic" < "collaborative" < "exploratory": the ranks must win
    assert Depth.EXPLORATORY < Depth.BASIC
    assert Depth.INTEGRATED > Depth.INTERCONNECTED
    assert Depth.BASIC <= Depth.BASIC
    assert Depth.BASIC >= Depth.BASIC
    # names compare by rank too, never alphabetically
    assert Depth.EXPLORATORY < "basic"
    assert "basic" > Depth.EXPLORATORY  # noqa: SIM300 - the reflected comparison is the point
    assert Depth.INTEGRATED >= "interconnected"
    assert not Depth.COLLABORATIVE <= "basic"
    with pytest.raises(UnknownName, match="unknown depth 'zzz'"):
        _ = Depth.BASIC < "zzz"
    with pytest.raises(TypeError):
        _ = Depth.BASIC < 1
    assert Depth.BASIC.__le__(1) is NotImplemented
    assert Depth.BASIC.__gt__(1.5) is NotImplemented
    assert Depth.BASIC.__ge__(None) is NotImplemented


def test_contact_pattern_order() -> None:
    assert sorted(ContactPattern, reverse=True)[0] is ContactPattern.COORDINATED
    assert ContactPattern.NONE < ContactPattern.AD_HOC <= ContactPattern.REGULAR
    assert ContactPattern.COORDINATED > ContactPattern.REGULAR
    assert ContactPattern.REGULAR >= ContactPattern.REGULAR
    assert ContactPattern.COORDINATED > "ad_hoc"  # alphabetically it would be smaller
    with pytest.raises(UnknownName):
        _ = ContactPattern.NONE < "often"
    with pytest.raises(UnknownName):  # a Depth is a string, but not a contact pattern
        _ = ContactPattern.NONE < Depth.BASIC
    with pytest.raises(TypeError):
        _ = ContactPattern.NONE < 3  # type: ignore[operator]


# ---------------------------------------------------------------- assess: each depth
@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        (EXPLORATORY, Depth.EXPLORATORY),
        (BASIC, Depth.BASIC),
        (COLLABORATIVE, Depth.COLLABORATIVE),
        (INTERCONNECTED, Depth.INTERCONNECTED),
    ],
)
def test_each_depth_is_reached_from_evidence_built_for_it(
    evidence: DepthEvidence, expected: Depth
) -> None:
    result = assess(evidence)
    assert result.depth is expected
    assert result.evidence is evidence
    # what placed it there is exactly the requirements up to that depth
    assert result.met == tuple(r.name for r in requirements() if r.depth <= expected)


def test_integrated_is_opt_in() -> None:
    assert assess(INTEGRATED).depth is Depth.INTERCONNECTED
    assert assess(INTEGRATED).next_depth is None
    assert assess(INTEGRATED).missing == ()
    allowed = assess(INTEGRATED, allow_integrated=True)
    assert allowed.depth is Depth.INTEGRATED
    assert allowed.next_depth is None
    assert "integrated_operations" in allowed.met
    # interconnected evidence with INTEGRATED allowed: next is integrated, both missing
    partial = assess(INTERCONNECTED, allow_integrated=True)
    assert partial.depth is Depth.INTERCONNECTED
    assert partial.next_depth is Depth.INTEGRATED
    assert partial.missing == ("integrated_operations", "all_joint_initiatives")


def test_integrated_guidance_flags_rare_and_risky() -> None:
    g = guidance(Depth.INTEGRATED)
    assert g.rare is True
    assert any("vendor" in r for r in g.risks)
    assert all(not guidance(d).rare for d in Depth if d is not Depth.INTEGRATED)


def test_missing_lists_only_the_next_depth_and_also_met_shows_progress() -> None:
    e = attrs.evolve(COLLABORATIVE, joint_planning=True, cost_transparency=True)
    a = assess(e)
    assert a.depth is Depth.COLLABORATIVE
    assert a.next_depth is Depth.INTERCONNECTED
    assert a.missing == ("coordinated_contact", "broad_functions", "joint_initiatives")
    assert a.also_met == ("joint_planning", "cost_transparency")


def test_a_single_missing_basic_requirement_blocks_everything_above() -> None:
    e = attrs.evolve(INTERCONNECTED, formal_relationship=False)
    a = assess(e)
    assert a.depth is Depth.EXPLORATORY
    assert a.missing == ("formal_relationship",)
    assert "joint_planning" in a.also_met


def test_price_dominance_keeps_an_account_basic() -> None:
    a = assess(attrs.evolve(COLLABORATIVE, price_dominates=True))
    assert a.depth is Depth.BASIC
    assert a.missing == ("value_over_price",)


def test_joint_marketing_can_stand_in_for_a_shared_roadmap() -> None:
    e = attrs.evolve(INTERCONNECTED, shared_roadmap=False, joint_marketing=True)
    assert assess(e).depth is Depth.INTERCONNECTED
    e = attrs.evolve(INTERCONNECTED, shared_roadmap=False)
    assert assess(e).missing == ("joint_initiatives",)


def test_policy_thresholds_change_the_result() -> None:
    strict = DepthPolicy(collaborative_stakeholders=6)
    a = assess(COLLABORATIVE, policy=strict)
    assert a.depth is Depth.BASIC
    assert a.missing == ("stakeholders_both_sides",)
    lenient = DepthPolicy(interconnected_functions=2, collaborative_functions=2)
    e = attrs.evolve(INTERCONNECTED, vendor_functions=2, customer_functions=2)
    assert assess(e).depth is Depth.COLLABORATIVE
    assert assess(e, policy=lenient).depth is Depth.INTERCONNECTED


def test_assess_refuses_bad_arguments() -> None:
    with pytest.raises(InvalidValue, match="evidence"):
        assess({"formal_relationship": True})  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="allow_integrated"):
        assess(BASIC, allow_integrated=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="policy"):
        assess(BASIC, policy={"dwell_limit_days": 3})  # type: ignore[arg-type]


def test_assessment_guidance_matches_depth() -> None:
    assert assess(BASIC).guidance is GUIDANCE[Depth.BASIC]


# ---------------------------------------------------------------- evidence validation
@pytest.mark.parametrize(
    "field",
    [
        "vendor_stakeholders",
        "customer_stakeholders",
        "vendor_functions",
        "customer_functions",
        "ancillary_services",
    ],
)
def test_negative_or_fractional_counts_are_refused_naming_the_field(field: str) -> None:
    with pytest.raises(InvalidValue) as info:
        _evidence(-1, field)
    assert info.value.field == field
    assert info.value.value == -1
    with pytest.raises(InvalidValue, match=field):
        _evidence(2.5, field)
    with pytest.raises(InvalidValue, match=field):
        _evidence("3", field)
    with pytest.raises(InvalidValue, match=field):
        _evidence(True, field)


def test_whole_float_counts_become_ints() -> None:
    e = DepthEvidence(vendor_functions=3.0)
    assert e.vendor_functions == 3
    assert type(e.vendor_functions) is int


@pytest.mark.parametrize("field", ["formal_relationship", "price_dominates", "joint_planning"])
def test_flags_must_be_real_booleans(field: str) -> None:
    with pytest.raises(InvalidValue) as info:
        _evidence(1, field)
    assert info.value.field == field


def test_contact_accepts_names_and_refuses_others() -> None:
    assert DepthEvidence(contact="coordinated").contact is ContactPattern.COORDINATED
    with pytest.raises(InvalidValue, match="contact: got 'often'"):
        DepthEvidence(contact="often")
    with pytest.raises(InvalidValue, match="contact"):
        DepthEvidence(contact=3)  # type: ignore[arg-type]


def test_evidence_is_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        BASIC.formal_relationship = False  # type: ignore[misc]


def test_from_mapping_round_trip_and_defaults() -> None:
    assert DepthEvidence.from_mapping(INTEGRATED.as_mapping()) == INTEGRATED
    assert DepthEvidence.from_mapping({}) == DepthEvidence()
    assert DepthEvidence.criteria() == tuple(INTEGRATED.as_mapping())


def test_from_mapping_refuses_unknown_criteria() -> None:
    with pytest.raises(UnknownName) as info:
        DepthEvidence.from_mapping({"formal_relationship": True, "friendship": 9})
    assert info.value.name == "friendship"
    assert "formal_relationship" in info.value.known
    assert isinstance(info.value, LookupError)


def test_from_mapping_with_aliases_and_ignored_columns() -> None:
    crm = {"account_id": "acme", "contacts": 4.0, "depts": 2, "has_contract": True}
    e = DepthEvidence.from_mapping(
        crm,
        aliases={
            "contacts": "vendor_stakeholders",
            "depts": "vendor_functions",
            "has_contract": "formal_relationship",
        },
        ignore=["account_id"],
    )
    assert (e.vendor_stakeholders, e.vendor_functions, e.formal_relationship) == (4, 2, True)
    with pytest.raises(UnknownName, match="account_id"):
        DepthEvidence.from_mapping(crm, aliases={"contacts": "vendor_stakeholders"})
    with pytest.raises(UnknownName, match="closeness"):
        DepthEvidence.from_mapping({}, aliases={"x": "closeness"})
    with pytest.raises(InvalidValue, match="given twice"):
        DepthEvidence.from_mapping(
            {"joint_planning": True, "plans": False}, aliases={"plans": "joint_planning"}
        )


def test_from_mapping_refuses_bad_aliases_and_ignore() -> None:
    with pytest.raises(InvalidValue, match="aliases"):
        DepthEvidence.from_mapping({}, aliases=[("a", "joint_planning")])  # type: ignore[arg-type]
    # a single string would silently ignore its letters: refused
    with pytest.raises(InvalidValue, match="ignore"):
        DepthEvidence.from_mapping({"id": "x"}, ignore="id")
    with pytest.raises(InvalidValue, match="ignore"):
        DepthEvidence.from_mapping({"id": "x"}, ignore=None)  # type: ignore[arg-type]


def test_result_objects_validate_direct_construction() -> None:
    # the io module rebuilds these from JSON, so bad fields must be refused by name
    with pytest.raises(UnknownName, match="friendship"):
        Disagreement("friendship", True, False)
    with pytest.raises(UnknownName, match="closeness"):
        Requirement("closeness", "basic", "x", ())
    with pytest.raises(UnknownName, match="trust"):
        Requirement("joint_planning", "interconnected", "x", ("trust",))
    with pytest.raises(InvalidValue, match="criteria"):
        Requirement("joint_planning", "interconnected", "x", "joint_planning")
    with pytest.raises(InvalidValue, match="depth"):
        Requirement("joint_planning", "deepest", "x", ())
    with pytest.raises(InvalidValue, match="source"):
        DepthMovement(T0, T0, "gold", "basic")
    with pytest.raises(InvalidValue, match="previous_at"):
        DepthMovement(T0, datetime(2025, 1, 1), "basic", "collaborative")
    with pytest.raises(InvalidValue, match="side"):
        DepthMovement(T0, T0, "basic", "collaborative", "both")
    with pytest.raises(InvalidValue, match="maturity"):
        KeyAccountCheck(3, "ancient", 5, (0, 5))
    with pytest.raises(InvalidValue, match="risks"):
        DepthGuidance("basic", "x", ("fine", 3))  # type: ignore[arg-type]
    advice = dwell_advice(T0, T0, COLLABORATIVE)
    with pytest.raises(InvalidValue, match="action"):
        attrs.evolve(advice, action="wait")
    with pytest.raises(InvalidValue, match="days_collaborative"):
        attrs.evolve(advice, days_collaborative=-1.0)
    with pytest.raises(InvalidValue, match="reasons"):
        attrs.evolve(advice, reasons="because")
    assert attrs.evolve(advice, action="advance").action is DwellAction.ADVANCE
    c = value_concentration({"a": 1.0}, {"a": "basic"})
    with pytest.raises(InvalidValue, match="top_share"):
        attrs.evolve(c, top_share=1.5)


def test_from_mapping_refuses_bad_values_and_non_mappings() -> None:
    with pytest.raises(InvalidValue, match="customer_stakeholders"):
        DepthEvidence.from_mapping({"customer_stakeholders": -2})
    with pytest.raises(InvalidValue, match="evidence"):
        DepthEvidence.from_mapping([("joint_planning", True)])  # type: ignore[arg-type]


# ---------------------------------------------------------------- policy & requirements
def test_policy_validation() -> None:
    assert DepthPolicy(dwell_limit_days=180.0).dwell_limit_days == 180
    with pytest.raises(InvalidValue, match="dwell_limit_days"):
        DepthPolicy(dwell_limit_days=0)
    with pytest.raises(InvalidValue, match="min_ancillary_services"):
        DepthPolicy(min_ancillary_services=-1)
    with pytest.raises(InvalidValue, match="interconnected_functions"):
        DepthPolicy(collaborative_functions=5)


def test_requirements_cover_every_depth_above_exploratory() -> None:
    everything = requirements()
    assert {r.depth for r in everything} == set(Depth) - {Depth.EXPLORATORY}
    assert requirements(Depth.EXPLORATORY) == ()
    assert {r.name for r in requirements("interconnected")} == {
        "coordinated_contact",
        "broad_functions",
        "joint_planning",
        "joint_initiatives",
        "cost_transparency",
    }
    criteria = set(DepthEvidence.criteria())
    for r in everything:
        assert set(r.criteria) <= criteria
    # every criterion is read by at least one requirement
    assert set().union(*(r.criteria for r in everything)) == criteria
    with pytest.raises(UnknownName):
        requirements("deep")
    with pytest.raises(UnknownName):
        requirements(3)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="policy"):
        requirements(policy=None)  # type: ignore[arg-type]


# ---------------------------------------------------------------- DepthAssessment direct
def test_assessment_validates_its_fields() -> None:
    a = DepthAssessment("basic", ["formal_relationship"], [], None)
    assert a.depth is Depth.BASIC
    assert a.met == ("formal_relationship",)
    with pytest.raises(InvalidValue, match="depth"):
        DepthAssessment("gold", (), (), None)
    with pytest.raises(InvalidValue, match="next_depth"):
        DepthAssessment("basic", (), (), "gold")
    with pytest.raises(UnknownName, match="being_nice"):
        DepthAssessment("basic", ("being_nice",), (), None)
    with pytest.raises(InvalidValue, match="missing"):
        DepthAssessment("basic", (), "formal_relationship", None)
    with pytest.raises(InvalidValue, match="evidence"):
        DepthAssessment("basic", (), (), None, (), evidence={})  # type: ignore[arg-type]


def test_assessment_html() -> None:
    html = assess(COLLABORATIVE)._repr_html_()
    assert html.startswith("<table>")
    assert "collaborative" in html
    assert "coordinated_contact" in html
    top = assess(INTEGRATED)._repr_html_()
    assert "–" in top  # no next depth, nothing missing


# ---------------------------------------------------------------- two sides
def test_agreed_depth_is_the_lower_side_and_gap_is_signed() -> None:
    two = TwoSidedDepth(vendor=INTERCONNECTED, customer=BASIC)
    assert two.agreed is Depth.BASIC
    assert two.gap == 2
    flipped = TwoSidedDepth(vendor=BASIC, customer=INTERCONNECTED)
    assert flipped.agreed is Depth.BASIC
    assert flipped.gap == -2
    same = TwoSidedDepth(vendor=COLLABORATIVE, customer=COLLABORATIVE)
    assert same.gap == 0
    assert same.agreed is Depth.COLLABORATIVE
    assert same.disagreements == ()
    assert same.disputed == ()


def test_two_sided_accepts_assessments_with_their_own_policy() -> None:
    strict = DepthPolicy(collaborative_stakeholders=10)
    two = TwoSidedDepth(vendor=assess(COLLABORATIVE), customer=assess(COLLABORATIVE, policy=strict))
    assert (two.vendor.depth, two.customer.depth) == (Depth.COLLABORATIVE, Depth.BASIC)
    with pytest.raises(InvalidValue, match="customer"):
        TwoSidedDepth(vendor=BASIC, customer={"joint_planning": True})  # type: ignore[arg-type]


def test_disagreements_and_disputed_requirements() -> None:
    customer = attrs.evolve(COLLABORATIVE, contact="regular", customer_brings_problems=False)
    two = TwoSidedDepth(vendor=COLLABORATIVE, customer=customer)
    assert two.disagreements == (
        Disagreement("contact", "ad_hoc", "regular"),
        Disagreement("customer_brings_problems", True, False),
    )
    # regular contact still counts as direct: only the problems criterion is disputed
    assert two.disputed == ("customer_brings_problems",)
    assert two.agreed is Depth.BASIC


def test_two_sided_html_lists_disagreements() -> None:
    html = TwoSidedDepth(vendor=COLLABORATIVE, customer=BASIC)._repr_html_()
    assert "Agreed depth: basic (gap +1)" in html
    assert "price_dominates" in html


# ---------------------------------------------------------------- dwell advice
def test_dwell_before_the_limit_stays() -> None:
    advice = dwell_advice(T0, T0 + timedelta(days=364), COLLABORATIVE)
    assert advice.action is DwellAction.STAY
    assert not advice.over_limit
    assert advice.days_left == pytest.approx(1.0)
    assert advice.short_of_interconnected == tuple(
        r.name for r in requirements(Depth.INTERCONNECTED)
    )
    assert advice.toward_interconnected == ()


def test_dwell_at_and_after_the_limit_steps_back_with_the_evidence() -> None:
    e = attrs.evolve(COLLABORATIVE, joint_planning=True)
    at_limit = dwell_advice(T0, T0 + timedelta(days=365), e)
    assert at_limit.action is DwellAction.STEP_BACK
    assert at_limit.over_limit
    assert at_limit.days_left == 0.0
    assert at_limit.toward_interconnected == ("joint_planning",)
    assert "joint_planning" not in at_limit.short_of_interconnected
    assert "coordinated_contact" in at_limit.short_of_interconnected
    assert at_limit.short_of_collaborative == ()
    assert any("365" in r for r in at_limit.reasons)


def test_dwell_advances_when_interconnected_is_met_at_any_time() -> None:
    for days in (10, 900):
        advice = dwell_advice(T0, T0 + timedelta(days=days), INTERCONNECTED)
        assert advice.action is DwellAction.ADVANCE
        assert advice.short_of_interconnected == ()
        assert len(advice.toward_interconnected) == len(requirements(Depth.INTERCONNECTED))


def test_dwell_steps_back_early_when_collaborative_is_no_longer_supported() -> None:
    advice = dwell_advice(T0, T0 + timedelta(days=30), BASIC)
    assert advice.action is DwellAction.STEP_BACK
    assert "value_over_price" in advice.short_of_collaborative
    assert not advice.over_limit


def test_dwell_limit_comes_from_the_policy_and_accepts_an_assessment() -> None:
    policy = DepthPolicy(dwell_limit_days=90)
    at = T0 + timedelta(days=100)
    assert dwell_advice(T0, at, COLLABORATIVE).action is DwellAction.STAY
    advice = dwell_advice(T0, at, assess(COLLABORATIVE), policy)
    assert advice.action is DwellAction.STEP_BACK
    assert advice.dwell_limit_days == 90


def test_dwell_refuses_bad_times_and_evidence() -> None:
    with pytest.raises(InvalidValue, match="entered_collaborative_at"):
        dwell_advice(datetime(2025, 1, 1), T0, COLLABORATIVE)
    with pytest.raises(InvalidValue, match="at"):
        dwell_advice(T0, datetime(2025, 6, 1), COLLABORATIVE)
    with pytest.raises(InvalidValue, match="at or after"):
        dwell_advice(T0, T0 - timedelta(days=1), COLLABORATIVE)
    with pytest.raises(InvalidValue, match="evidence"):
        dwell_advice(T0, T0, "collaborative")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="policy"):
        dwell_advice(T0, T0, COLLABORATIVE, policy=365)  # type: ignore[arg-type]


# ---------------------------------------------------------------- guidance
def test_guidance_for_every_depth() -> None:
    assert set(GUIDANCE) == set(Depth)
    for depth in Depth:
        g = guidance(depth.value)
        assert g.depth is depth
        assert g.objective
        assert len(g.risks) >= 2
        assert depth.guidance is g
    basic = " ".join(guidance("basic").risks).lower()
    assert "price" in basic
    assert "switching" in basic
    with pytest.raises(TypeError):
        GUIDANCE[Depth.BASIC] = GUIDANCE[Depth.BASIC]  # type: ignore[index]
    with pytest.raises(UnknownName):
        guidance("gold")


# ---------------------------------------------------------------- key accounts
def test_key_account_capacity_for_a_young_company() -> None:
    ok = key_account_check(5, CompanyMaturity.YOUNG)
    assert (ok.within, ok.capacity, ok.headroom, ok.excess) == (True, 5, 0, 0)
    over = key_account_check(6, "young")
    assert (over.within, over.excess) == (False, 1)
    assert "1 over the capacity of 5" in over.message
    assert not key_account_check(0, "young").below_usual


def test_key_account_capacity_for_a_mature_company() -> None:
    assert key_account_check(30, "mature").within
    assert not key_account_check(31, "mature").within
    low = key_account_check(10, "mature")
    assert low.within
    assert low.below_usual
    assert "below the usual 15 to 30" in low.message
    mid = key_account_check(20, "mature")
    assert not mid.below_usual
    assert mid.message.endswith("within the capacity of 30")
    assert mid.headroom == 10


def test_key_account_capacity_is_configurable_and_validated() -> None:
    assert key_account_check(8, "young", capacity=8).within
    whole_float: Any = 10.0
    assert not key_account_check(12, "mature", capacity=whole_float).within
    with pytest.raises(InvalidValue, match="n_key_accounts"):
        key_account_check(-1, "young")
    with pytest.raises(InvalidValue, match="capacity"):
        key_account_check(3, "young", capacity=0)
    with pytest.raises(UnknownName, match="teenage"):
        key_account_check(3, "teenage")
    with pytest.raises(UnknownName):
        key_account_check(3, 1)  # type: ignore[arg-type]


# ---------------------------------------------------------------- value concentration
def test_value_concentration_pareto_and_tier_share() -> None:
    # 10 accounts; the 2 largest hold 80 of 100
    values = {f"a{i}": v for i, v in enumerate([50, 30, 5, 5, 2, 2, 2, 2, 1, 1])}
    depths = dict.fromkeys(values, "basic")
    depths["a0"] = "interconnected"
    depths["a2"] = "integrated"  # counted in the interconnected tier
    c = value_concentration(values, depths)
    assert c.n_accounts == 10
    assert c.total_value == 100
    assert c.top_accounts == 2
    assert c.top_share == pytest.approx(0.8)
    assert c.pareto_like
    assert c.interconnected_accounts == 2
    assert c.interconnected_share == pytest.approx(0.55)
    assert c.top_not_interconnected == ("a1",)
    assert "Value concentration" in c._repr_html_()


def test_value_concentration_flat_portfolio_is_not_pareto() -> None:
    values = {f"a{i}": 1.0 for i in range(15)}
    c = value_concentration(values, dict.fromkeys(values, Depth.BASIC))
    # 20% of 15 is 3 accounts (no float rounding up to 4)
    assert c.top_accounts == 3
    assert c.top_share == pytest.approx(0.2)
    assert not c.pareto_like
    assert c.interconnected_share == 0.0
    assert c.top_not_interconnected == ("a0", "a1", "a10")


def test_value_concentration_validation() -> None:
    with pytest.raises(InvalidValue, match=r"values_by_account\['a'\]"):
        value_concentration({"a": -1.0}, {"a": "basic"})
    with pytest.raises(InvalidValue, match=r"depth_by_account\['a'\]"):
        value_concentration({"a": 1.0}, {"a": "gold"})
    with pytest.raises(InvalidValue, match="a value for every account"):
        value_concentration({"a": 1.0}, {"a": "basic", "b": "basic"})
    with pytest.raises(InvalidValue, match="positive total"):
        value_concentration({"a": 0.0}, {"a": "basic"})
    with pytest.raises(InvalidValue, match="depth_by_account"):
        value_concentration({"a": 1.0}, ["basic"])  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="top_fraction"):
        value_concentration({"a": 1.0}, {"a": "basic"}, top_fraction=0)
    with pytest.raises(InvalidValue, match="target_share"):
        value_concentration({"a": 1.0}, {"a": "basic"}, target_share=1.5)
    with pytest.raises(InvalidValue, match="tolerance"):
        value_concentration({"a": 1.0}, {"a": "basic"}, tolerance=-0.1)


# ---------------------------------------------------------------- depth history
def test_record_depth_appends_and_bumps_version() -> None:
    acct = Account("acme")
    p1 = record_depth(acct, assess(BASIC), T0)
    p2 = record_depth(acct, Depth.COLLABORATIVE, T0 + timedelta(days=90))
    two = TwoSidedDepth(vendor=INTERCONNECTED, customer=COLLABORATIVE)
    p3 = record_depth(acct, two, T0 + timedelta(days=180), side="vendor")
    p4 = record_depth(acct, two, T0 + timedelta(days=180), side="customer")
    p5 = record_depth(acct, two, T0 + timedelta(days=180))
    assert acct.depths == (p1, p2, p3, p4, p5)
    assert [p.depth for p in acct.depths] == [
        "basic",
        "collaborative",
        "interconnected",
        "collaborative",
        "collaborative",
    ]
    assert [p.side for p in acct.depths] == ["agreed", "agreed", "vendor", "customer", "agreed"]
    assert acct.version == 5


def test_record_depth_refuses_and_changes_nothing() -> None:
    acct = Account("acme")
    record_depth(acct, "basic", T0 + timedelta(days=10))
    before = (acct.depths, acct.version)
    with pytest.raises(OutOfOrder):
        record_depth(acct, "collaborative", T0)
    with pytest.raises(InvalidValue, match="assessment_or_depth"):
        record_depth(acct, "gold", T0 + timedelta(days=20))
    with pytest.raises(InvalidValue, match="assessment_or_depth"):
        record_depth(acct, 2, T0 + timedelta(days=20))  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="side"):
        record_depth(acct, "basic", T0 + timedelta(days=20), side="partner")
    with pytest.raises(InvalidValue, match="at"):
        record_depth(acct, "basic", datetime(2025, 6, 1))
    with pytest.raises(InvalidValue, match="account"):
        record_depth("acme", "basic", T0)  # type: ignore[arg-type]
    assert (acct.depths, acct.version) == before


def test_depth_movements_forward_and_backward_per_side() -> None:
    acct = Account("acme")
    history = [
        (0, "exploratory"),
        (30, "basic"),
        (60, "basic"),
        (200, "collaborative"),
        (500, "basic"),
        (700, "interconnected"),
    ]
    for day, depth in history:
        record_depth(acct, depth, T0 + timedelta(days=day))
    record_depth(acct, "interconnected", T0 + timedelta(days=701), side="vendor")
    moves = depth_movements(acct)
    assert [(m.source.value, m.dest.value) for m in moves] == [
        ("exploratory", "basic"),
        ("basic", "collaborative"),
        ("collaborative", "basic"),
        ("basic", "interconnected"),
    ]
    assert [m.direction for m in moves] == [
        MovementDirection.FORWARD,
        MovementDirection.FORWARD,
        MovementDirection.BACKWARD,
        MovementDirection.FORWARD,
    ]
    assert [m.levels for m in moves] == [1, 1, -1, 2]
    assert moves[1].previous_at == T0 + timedelta(days=60)
    assert moves[1].at == T0 + timedelta(days=200)
    assert depth_movements(acct, side="vendor") == ()
    assert depth_movements(acct, side="customer") == ()


def test_depth_since_finds_the_start_of_the_current_run() -> None:
    acct = Account("acme")
    assert depth_since(acct) is None
    record_depth(acct, "basic", T0 - timedelta(days=10), side="vendor")
    assert depth_since(acct, side="vendor") == (Depth.BASIC, T0 - timedelta(days=10))
    for day, depth in [(0, "collaborative"), (50, "basic"), (80, "collaborative")]:
        record_depth(acct, depth, T0 + timedelta(days=day))
    record_depth(acct, "collaborative", T0 + timedelta(days=120))
    assert depth_since(acct) == (Depth.COLLABORATIVE, T0 + timedelta(days=80))
    current = depth_since(acct)
    assert current is not None
    since = current[1]
    advice = dwell_advice(since, T0 + timedelta(days=500), COLLABORATIVE)
    assert advice.days_collaborative == pytest.approx(420)
    assert advice.action is DwellAction.STEP_BACK


def test_history_with_a_foreign_depth_name_is_reported() -> None:
    acct = Account("acme", depths=[DepthPoint(T0, "gold")])
    with pytest.raises(InvalidValue, match=r"depths\[0\]\.depth"):
        depth_movements(acct)
    with pytest.raises(InvalidValue, match="side"):
        depth_since(acct, side="both")
    with pytest.raises(InvalidValue, match="account"):
        depth_movements(None)  # type: ignore[arg-type]


def test_movement_converts_names() -> None:
    m = DepthMovement(T0, T0, "collaborative", "basic", "customer")
    assert m.direction is MovementDirection.BACKWARD
    assert m.levels == -1


# ---------------------------------------------------------------- breakdown causes
def test_breakdown_causes_are_the_five_from_the_seed_with_descriptions() -> None:
    assert {c.value for c in BreakdownCause} == {
        "key_personnel_change",
        "mismanaged_expectations",
        "strategy_change",
        "market_conditions",
        "under_management",
    }
    descriptions = [c.description for c in BreakdownCause]
    assert all(d.endswith(".") for d in descriptions)
    assert len(set(descriptions)) == len(descriptions)


# ---------------------------------------------------------------- plain data
def test_values_are_plain_data_and_pickle() -> None:
    a = assess(INTERCONNECTED)
    assert pickle.loads(pickle.dumps(a)) == a
    two = TwoSidedDepth(vendor=INTERCONNECTED, customer=BASIC)
    assert pickle.loads(pickle.dumps(two)) == two
