"""The named requirements of each depth, and checking evidence against them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from stars.depth._common import _as_tuple, _member
from stars.depth._depth import Depth, _as_depth, _depth_name
from stars.depth._enums import ContactPattern
from stars.depth._evidence import DepthEvidence, _check_criteria
from stars.depth._policy import _DEFAULT_POLICY, DepthPolicy, _check_policy
from stars.errors import InvalidValue, UnknownName


def _check_names(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple):
        raise InvalidValue(attribute.name, value, "a sequence of requirement names")
    for item in value:
        if item not in _RULE_NAMES:
            raise UnknownName("depth requirement", item, _RULE_NAMES)


def _check_requirement_name(instance: Any, attribute: Any, value: Any) -> None:
    if value not in _RULE_NAMES:
        raise UnknownName("depth requirement", value, _RULE_NAMES)


@attrs.frozen(slots=True)
class Requirement:
    """One condition a side's evidence must meet to reach a depth.

    Attributes:
        name: A short identifier, used in assessments.
        depth: The depth this requirement belongs to.
        description: What it asks for, with the policy's thresholds.
        criteria: The evidence criteria it reads.

    Examples:
        >>> from stars.depth import Depth, requirements
        >>> [r.name for r in requirements(Depth.BASIC)]
        ['formal_relationship']
    """

    name: str = attrs.field(validator=_check_requirement_name)
    depth: Depth = attrs.field(converter=_as_depth, validator=_member(Depth))
    description: str
    criteria: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_check_criteria)


_Check = Callable[[DepthEvidence, DepthPolicy], bool]


def _both(e: DepthEvidence, kind: str, least: int) -> bool:
    return bool(getattr(e, f"vendor_{kind}") >= least and getattr(e, f"customer_{kind}") >= least)


# name -> (depth, criteria read, description template, check)
_RULES: tuple[tuple[str, Depth, tuple[str, ...], str, _Check], ...] = (
    (
        "formal_relationship",
        Depth.BASIC,
        ("formal_relationship",),
        "a formal business relationship (contract) is in place",
        lambda e, p: e.formal_relationship,
    ),
    (
        "stakeholders_both_sides",
        Depth.COLLABORATIVE,
        ("vendor_stakeholders", "customer_stakeholders"),
        "at least {p.collaborative_stakeholders} people engaged on each side",
        lambda e, p: _both(e, "stakeholders", p.collaborative_stakeholders),
    ),
    (
        "functions_both_sides",
        Depth.COLLABORATIVE,
        ("vendor_functions", "customer_functions"),
        "at least {p.collaborative_functions} functions engaged on each side",
        lambda e, p: _both(e, "functions", p.collaborative_functions),
    ),
    (
        "direct_contact",
        Depth.COLLABORATIVE,
        ("contact",),
        "people on both sides talk directly, even if not yet on a plan",
        lambda e, p: e.contact >= ContactPattern.AD_HOC,
    ),
    (
        "value_over_price",
        Depth.COLLABORATIVE,
        ("price_dominates",),
        "conversations are about value, not dominated by price",
        lambda e, p: not e.price_dominates,
    ),
    (
        "ancillary_services",
        Depth.COLLABORATIVE,
        ("ancillary_services",),
        "at least {p.min_ancillary_services} service(s) used beyond the core purchase",
        lambda e, p: e.ancillary_services >= p.min_ancillary_services,
    ),
    (
        "customer_brings_problems",
        Depth.COLLABORATIVE,
        ("customer_brings_problems",),
        "the customer asks for help with its own business problems",
        lambda e, p: e.customer_brings_problems,
    ),
    (
        "coordinated_contact",
        Depth.INTERCONNECTED,
        ("contact",),
        "contact is direct, frequent and coordinated across functions",
        lambda e, p: e.contact >= ContactPattern.COORDINATED,
    ),
    (
        "broad_functions",
        Depth.INTERCONNECTED,
        ("vendor_functions", "customer_functions"),
        "at least {p.interconnected_functions} functions engaged on each side",
        lambda e, p: _both(e, "functions", p.interconnected_functions),
    ),
    (
        "joint_planning",
        Depth.INTERCONNECTED,
        ("joint_planning",),
        "strategy is planned together",
        lambda e, p: e.joint_planning,
    ),
    (
        "joint_initiatives",
        Depth.INTERCONNECTED,
        ("shared_roadmap", "joint_marketing"),
        "a shared roadmap or joint marketing is under way",
        lambda e, p: e.shared_roadmap or e.joint_marketing,
    ),
    (
        "cost_transparency",
        Depth.INTERCONNECTED,
        ("cost_transparency",),
        "enough transparency that both sides find savings",
        lambda e, p: e.cost_transparency,
    ),
    (
        "integrated_operations",
        Depth.INTEGRATED,
        ("integrated_operations",),
        "processes and systems run as one",
        lambda e, p: e.integrated_operations,
    ),
    (
        "all_joint_initiatives",
        Depth.INTEGRATED,
        ("shared_roadmap", "joint_marketing"),
        "both a shared roadmap and joint marketing are under way",
        lambda e, p: e.shared_roadmap and e.joint_marketing,
    ),
)
_RULE_NAMES: tuple[str, ...] = tuple(r[0] for r in _RULES)


def requirements(
    depth: Depth | str | None = None, policy: DepthPolicy = _DEFAULT_POLICY
) -> tuple[Requirement, ...]:
    """The requirements of one depth, or of every depth, with the policy's thresholds.

    A depth is reached when its requirements and those of every shallower depth are met.
    EXPLORATORY has none.

    Args:
        depth: The depth to list; ``None`` lists all.
        policy: Thresholds filled into the descriptions.

    Returns:
        The requirements, shallowest first.

    Raises:
        UnknownName: ``depth`` is not a depth's name.

    Examples:
        >>> from stars.depth import DepthPolicy, requirements
        >>> r = requirements("collaborative", DepthPolicy(collaborative_stakeholders=5))
        >>> r[0].description
        'at least 5 people engaged on each side'
        >>> len(requirements("exploratory"))
        0
    """
    _check_policy(policy)
    wanted = None if depth is None else _depth_name(depth)
    return tuple(
        Requirement(name, d, template.format(p=policy), crit)
        for name, d, crit, template, _ in _RULES
        if wanted is None or d is wanted
    )


def _evaluate(evidence: DepthEvidence, policy: DepthPolicy) -> dict[str, bool]:
    return {name: bool(check(evidence, policy)) for name, _, _, _, check in _RULES}
