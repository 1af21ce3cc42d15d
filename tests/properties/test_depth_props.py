from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stars.account import Account
from stars.depth import (
    ContactPattern,
    Depth,
    DepthEvidence,
    DepthPolicy,
    DwellAction,
    TwoSidedDepth,
    assess,
    depth_movements,
    depth_since,
    dwell_advice,
    record_depth,
    requirements,
    value_concentration,
)

SETTINGS = settings(max_examples=100, deadline=None)
COUNTS = ("vendor_stakeholders", "customer_stakeholders", "vendor_functions", "customer_functions")
FLAGS = (
    "formal_relationship",
    "customer_brings_problems",
    "joint_planning",
    "shared_roadmap",
    "joint_marketing",
    "cost_transparency",
    "integrated_operations",
)

count = st.integers(min_value=0, max_value=8)
random_evidence = st.builds(
    DepthEvidence,
    formal_relationship=st.booleans(),
    vendor_stakeholders=count,
    customer_stakeholders=count,
    vendor_functions=count,
    customer_functions=count,
    contact=st.sampled_from(ContactPattern),
    price_dominates=st.booleans(),
    ancillary_services=st.integers(min_value=0, max_value=3),
    customer_brings_problems=st.booleans(),
    joint_planning=st.booleans(),
    shared_roadmap=st.booleans(),
    joint_marketing=st.booleans(),
    cost_transparency=st.booleans(),
    integrated_operations=st.booleans(),
)
BASIC = DepthEvidence(formal_relationship=True, price_dominates=True, contact="regular")
COLLABORATIVE = DepthEvidence(
    formal_relationship=True,
    vendor_stakeholders=5,
    customer_stakeholders=5,
    vendor_functions=4,
    customer_functions=4,
    contact=ContactPattern.AD_HOC,
    ancillary_services=2,
    customer_brings_problems=True,
)
INTERCONNECTED = attrs.evolve(
    COLLABORATIVE,
    vendor_functions=6,
    customer_functions=6,
    contact=ContactPattern.COORDINATED,
    joint_planning=True,
    shared_roadmap=True,
    cost_transparency=True,
)
INTEGRATED = attrs.evolve(INTERCONNECTED, joint_marketing=True, integrated_operations=True)
# Evidence built for each depth (under any policy drawn below).
TEMPLATES = (DepthEvidence(), BASIC, COLLABORATIVE, INTERCONNECTED, INTEGRATED)


@st.composite
def around_a_depth(draw: st.DrawFn) -> DepthEvidence:
    """Evidence built for one depth, then weakened on up to three criteria.

    Weakening lands near the boundaries between depths, where a rule that is not
    monotone would show.
    """
    template = draw(st.sampled_from(TEMPLATES))
    changes: dict[str, Any] = {}
    for name in draw(st.sets(st.sampled_from(DepthEvidence.criteria()), max_size=3)):
        value = getattr(template, name)
        if name == "price_dominates":
            changes[name] = True
        elif name == "contact":
            changes[name] = draw(st.sampled_from([c for c in ContactPattern if c <= value]))
        elif isinstance(value, bool):
            changes[name] = False
        else:
            changes[name] = draw(st.integers(min_value=0, max_value=value))
    return attrs.evolve(template, **changes)


evidence = st.one_of(random_evidence, around_a_depth())


@st.composite
def policies(draw: st.DrawFn) -> DepthPolicy:
    collab = draw(st.integers(min_value=1, max_value=4))
    return DepthPolicy(
        dwell_limit_days=draw(st.integers(min_value=1, max_value=800)),
        collaborative_stakeholders=draw(st.integers(min_value=1, max_value=5)),
        collaborative_functions=collab,
        interconnected_functions=draw(st.integers(min_value=collab, max_value=6)),
        min_ancillary_services=draw(st.integers(min_value=0, max_value=2)),
    )


@st.composite
def strengthened(draw: st.DrawFn, base: DepthEvidence) -> DepthEvidence:
    """Evidence that shows at least everything ``base`` shows, and maybe more."""
    changes: dict[str, Any] = {}
    for name in (*COUNTS, "ancillary_services"):
        changes[name] = getattr(base, name) + draw(st.integers(min_value=0, max_value=4))
    for name in FLAGS:
        changes[name] = getattr(base, name) or draw(st.booleans())
    # price dominance counts against depth: more evidence can only clear it
    changes["price_dominates"] = base.price_dominates and draw(st.booleans())
    changes["contact"] = max(base.contact, draw(st.sampled_from(ContactPattern)))
    return attrs.evolve(base, **changes)


@SETTINGS
@given(data=st.data(), base=evidence, policy=policies(), allow=st.booleans())
def test_adding_evidence_never_lowers_the_depth(
    data: st.DataObject, base: DepthEvidence, policy: DepthPolicy, allow: bool
) -> None:
    more = data.draw(strengthened(base))
    before = assess(base, allow_integrated=allow, policy=policy)
    after = assess(more, allow_integrated=allow, policy=policy)
    assert after.depth >= before.depth
    # and what was already met stays met
    assert set(before.met) <= set(after.met) | set(after.also_met)


def _step_range(name: str, value: Any) -> list[Any]:
    """The values of one criterion from weakest to strongest, up to a bound."""
    if name == "price_dominates":
        return [True, False]
    if name == "contact":
        return list(ContactPattern)
    if isinstance(value, bool):
        return [False, True]
    return list(range(9))


@pytest.mark.parametrize("template", TEMPLATES, ids=[d.value for d in Depth])
@pytest.mark.parametrize("name", DepthEvidence.criteria())
@settings(max_examples=12, deadline=None)
@given(data=st.data(), policy=policies(), allow=st.booleans())
def test_improving_one_criterion_near_a_boundary_never_lowers_the_depth(
    template: DepthEvidence,
    name: str,
    data: st.DataObject,
    policy: DepthPolicy,
    allow: bool,
) -> None:
    steps = _step_range(name, getattr(template, name))
    low = data.draw(st.integers(min_value=0, max_value=len(steps) - 1))
    high = data.draw(st.integers(min_value=low, max_value=len(steps) - 1))
    base = attrs.evolve(template, **{name: steps[low]})
    more = attrs.evolve(template, **{name: steps[high]})
    before = assess(base, allow_integrated=allow, policy=policy).depth
    assert assess(more, allow_integrated=allow, policy=policy).depth >= before


@SETTINGS
@given(e=evidence, policy=policies(), allow=st.booleans())
def test_assessment_is_consistent_with_the_requirements(
    e: DepthEvidence, policy: DepthPolicy, allow: bool
) -> None:
    a = assess(e, allow_integrated=allow, policy=policy)
    top = Depth.INTEGRATED if allow else Depth.INTERCONNECTED
    assert a.depth <= top
    below_or_at = [r.name for r in requirements(policy=policy) if r.depth <= a.depth]
    assert a.met == tuple(below_or_at)
    if a.next_depth is None:
        assert a.depth is top
        assert a.missing == ()
    else:
        assert a.next_depth.rank == a.depth.rank + 1
        names = {r.name for r in requirements(a.next_depth, policy)}
        # at least one requirement of the next depth fails, or we would be there
        assert a.missing
        assert set(a.missing) <= names
        assert set(a.missing).isdisjoint(a.also_met)
        assert names == set(a.missing) | (names & set(a.also_met))
    for name in a.also_met:
        assert name not in a.met


@SETTINGS
@given(vendor=evidence, customer=evidence)
def test_agreed_is_the_minimum_and_the_gap_is_the_rank_difference(
    vendor: DepthEvidence, customer: DepthEvidence
) -> None:
    two = TwoSidedDepth(vendor=vendor, customer=customer)
    v, c = assess(vendor).depth, assess(customer).depth
    assert two.agreed is min(v, c)
    assert two.gap == v.rank - c.rank
    assert TwoSidedDepth(vendor=customer, customer=vendor).gap == -two.gap
    criteria = {d.criterion for d in two.disagreements}
    assert criteria == {
        k for k, val in vendor.as_mapping().items() if customer.as_mapping()[k] != val
    }
    # a disputed requirement always rests on at least one disagreeing criterion
    by_name = {r.name: r for r in requirements()}
    for name in two.disputed:
        assert criteria & set(by_name[name].criteria)
    if two.gap != 0:
        assert two.disputed


@SETTINGS
@given(e=evidence)
def test_from_mapping_round_trips(e: DepthEvidence) -> None:
    assert DepthEvidence.from_mapping(e.as_mapping()) == e


@SETTINGS
@given(e=evidence, days=st.floats(min_value=0, max_value=1500), policy=policies())
def test_dwell_advice_follows_its_rules(e: DepthEvidence, days: float, policy: DepthPolicy) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    advice = dwell_advice(start, start + timedelta(days=days), e, policy)
    depth = assess(e, policy=policy).depth
    if depth is Depth.INTERCONNECTED:
        assert advice.action is DwellAction.ADVANCE
    elif depth < Depth.COLLABORATIVE:
        assert advice.action is DwellAction.STEP_BACK
        assert advice.short_of_collaborative
    else:
        expected = DwellAction.STEP_BACK if advice.over_limit else DwellAction.STAY
        assert advice.action is expected
    assert advice.over_limit == (advice.days_collaborative >= policy.dwell_limit_days)
    inter = {r.name for r in requirements(Depth.INTERCONNECTED, policy)}
    assert set(advice.toward_interconnected) | set(advice.short_of_interconnected) == inter


@SETTINGS
@given(
    values=st.dictionaries(
        st.text(alphabet="abcdefgh", min_size=1, max_size=4),
        st.floats(min_value=0, max_value=1e6, allow_nan=False),
        min_size=1,
        max_size=40,
    ).filter(lambda d: sum(d.values()) > 0),
    data=st.data(),
    fraction=st.floats(min_value=0.01, max_value=1.0),
)
def test_value_concentration_shares(
    values: dict[str, float], data: st.DataObject, fraction: float
) -> None:
    depths = {a: data.draw(st.sampled_from(Depth)) for a in values}
    c = value_concentration(values, depths, top_fraction=fraction)
    assert 0.0 <= c.interconnected_share <= 1.0
    assert 1 <= c.top_accounts <= len(values)
    # the biggest accounts hold at least their head-count share of the value
    assert c.top_share >= c.top_accounts / len(values) - 1e-9
    tier = [a for a in values if depths[a] >= Depth.INTERCONNECTED]
    assert c.interconnected_accounts == len(tier)
    assert set(c.top_not_interconnected).isdisjoint(tier)


@SETTINGS
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(Depth),
            st.sampled_from(["agreed", "vendor", "customer"]),
            st.integers(min_value=0, max_value=60),
        ),
        max_size=25,
    )
)
def test_depth_movements_add_up(steps: list[tuple[Depth, str, int]]) -> None:
    acct = Account("acme")
    at = datetime(2025, 1, 1, tzinfo=UTC)
    for depth, side, gap in steps:
        at += timedelta(days=gap)
        record_depth(acct, depth, at, side=side, allow_integrated=True)
    assert acct.version == len(steps)
    for side in ("agreed", "vendor", "customer"):
        seen = [d for d, s, _ in steps if s == side]
        moves = depth_movements(acct, side=side)
        assert all(m.levels != 0 for m in moves)
        assert sum(1 for a, b in itertools.pairwise(seen) if a is not b) == len(moves)
        if seen:
            assert sum(m.levels for m in moves) == seen[-1].rank - seen[0].rank
            current = depth_since(acct, side=side)
            assert current is not None
            assert current[0] is seen[-1]
        else:
            assert depth_since(acct, side=side) is None


any_evidence = st.one_of(random_evidence, around_a_depth())


@SETTINGS
@given(vendor=any_evidence, customer=any_evidence, allow=st.booleans())
def test_gap_advice_exactly_when_the_sides_disagree_and_names_who_sees_more(
    vendor: DepthEvidence, customer: DepthEvidence, allow: bool
) -> None:
    two = TwoSidedDepth(
        vendor=assess(vendor, allow_integrated=allow),
        customer=assess(customer, allow_integrated=allow),
    )
    advice = two.advice
    text, md = two.explain(), two.to_markdown()
    if two.vendor.depth is two.customer.depth:
        assert advice is None
        assert two.sees_more is None
        assert "no gap to close" in text
        assert "Advice" not in text and "Advice" not in md
        return
    assert advice is not None
    side = "vendor" if two.vendor.depth > two.customer.depth else "customer"
    assert advice.sees_more == two.sees_more == side
    assert advice.sentences[0].startswith(f"The {side} sees the relationship as")
    assert f"Advice (the {side} sees more):" in text
    assert f"**Advice** (the {side} sees more):" in md
    assert advice.agreed is two.agreed
    assert advice.higher is max(two.vendor.depth, two.customer.depth)
    assert advice.levels == abs(two.gap)
    assert any(s.startswith("Verify with the customer") for s in advice.sentences)
    assert any(s.startswith("Do not invest") for s in advice.sentences)
    # what to verify lies between the two depths and only the side that sees more meets it
    less = two.customer if side == "vendor" else two.vendor
    wanted = {r.name: r for r in requirements()}
    for name in advice.verify:
        assert advice.agreed < wanted[name].depth <= advice.higher
        assert name not in less.met + less.also_met
    assert set(advice.checks) <= set(two.disagreements)


@SETTINGS
@given(evidence=any_evidence)
def test_integrated_withheld_exactly_when_the_opt_in_would_give_integrated(
    evidence: DepthEvidence,
) -> None:
    withheld = assess(evidence).integrated_withheld
    assert withheld == (assess(evidence, allow_integrated=True).depth is Depth.INTEGRATED)
    assert not assess(evidence, allow_integrated=True).integrated_withheld
    assert ("integrated is off" in assess(evidence).explain()) == withheld


@SETTINGS
@given(depth=st.sampled_from(Depth), allow=st.booleans())
def test_record_depth_takes_integrated_only_with_the_opt_in(depth: Depth, allow: bool) -> None:
    from stars.errors import InvalidValue

    acct = Account("acme")
    at = datetime(2025, 1, 1, tzinfo=UTC)
    if depth is Depth.INTEGRATED and not allow:
        with pytest.raises(InvalidValue, match="allow_integrated"):
            record_depth(acct, depth, at, allow_integrated=allow)
        assert acct.version == 0
    else:
        assert record_depth(acct, depth, at, allow_integrated=allow).depth == depth.value
