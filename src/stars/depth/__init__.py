"""Relationship depth: how close vendor and customer really are, seen from both sides.

A relationship moves through four depths: EXPLORATORY (no formal relationship yet),
BASIC (transactional), COLLABORATIVE (more people, more value, costly and short-lived)
and INTERCONNECTED (a real partnership with joint planning). A fifth depth,
INTEGRATED, exists in the literature but is rare and usually a poor bet for the
vendor, so `assess` only returns it when asked to.

Depth is assessed from typed evidence (`DepthEvidence`) against named
requirements (`requirements`). Each side (vendor and customer) is assessed on
its own evidence; the depth both can stand behind is the lower of the two
(`TwoSidedDepth`).

Examples:
    >>> from stars.depth import Depth, DepthEvidence, assess
    >>> a = assess(DepthEvidence(formal_relationship=True, price_dominates=True))
    >>> a.depth
    <Depth.BASIC: 'basic'>
    >>> "value_over_price" in a.missing
    True
"""

from __future__ import annotations

import enum
import itertools
import math
import types
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeAlias

import attrs

from stars import _validate as v
from stars._accounts import _need_account
from stars._engine import commit
from stars._html import table
from stars._ordered import OrderedStrEnum
from stars._shown import short_of
from stars.account import Account, DepthPoint
from stars.errors import InvalidValue, UnknownName

__all__ = [
    "GUIDANCE",
    "BreakdownCause",
    "CompanyMaturity",
    "ContactPattern",
    "Depth",
    "DepthAssessment",
    "DepthEvidence",
    "DepthGapAdvice",
    "DepthGuidance",
    "DepthMovement",
    "DepthPolicy",
    "Disagreement",
    "DwellAction",
    "DwellAdvice",
    "KeyAccountCheck",
    "MovementDirection",
    "Requirement",
    "TwoSidedDepth",
    "ValueConcentration",
    "assess",
    "check_integrated_opt_in",
    "depth_movements",
    "depth_since",
    "dwell_advice",
    "gap_advice",
    "guidance",
    "key_account_check",
    "record_depth",
    "requirements",
    "value_concentration",
]

Criterion: TypeAlias = bool | int | str
"""The value of one evidence criterion: a flag, a count, or a contact pattern's name."""


# --------------------------------------------------------------------------- enums
class Depth(OrderedStrEnum):
    """How deep a relationship is. Depths are ordered from EXPLORATORY to INTEGRATED.

    INTEGRATED is opt-in: `assess` returns it only with ``allow_integrated=True``.

    Examples:
        >>> from stars.depth import Depth
        >>> Depth.BASIC < Depth.COLLABORATIVE < Depth.INTERCONNECTED
        True
        >>> min(Depth.INTERCONNECTED, Depth.BASIC)
        <Depth.BASIC: 'basic'>
        >>> Depth("collaborative").rank
        2
        >>> Depth.BASIC < "collaborative"  # names compare by rank too
        True
    """

    EXPLORATORY = "exploratory"
    BASIC = "basic"
    COLLABORATIVE = "collaborative"
    INTERCONNECTED = "interconnected"
    INTEGRATED = "integrated"

    @property
    def rank(self) -> int:
        """Position in the order: 0 for EXPLORATORY up to 4 for INTEGRATED.

        Examples:
            >>> from stars.depth import Depth
            >>> Depth.INTERCONNECTED.rank
            3
        """
        return _DEPTH_RANK[self]

    @property
    def guidance(self) -> DepthGuidance:
        """The objective and main risks at this depth (see `guidance`).

        Examples:
            >>> from stars.depth import Depth
            >>> Depth.INTEGRATED.guidance.rare
            True
        """
        return GUIDANCE[self]


_ORDER: tuple[Depth, ...] = tuple(Depth)
_DEPTH_RANK: dict[Depth, int] = {d: i for i, d in enumerate(_ORDER)}


class ContactPattern(OrderedStrEnum):
    """How the people on both sides are in touch, from none to fully coordinated.

    ``AD_HOC``: several people talk directly, but not on a schedule and without a plan.
    ``REGULAR``: contact happens on a steady rhythm, mostly through the account leads.
    ``COORDINATED``: many functions talk directly and often, steered by one
    relationship manager on each side.

    Examples:
        >>> from stars.depth import ContactPattern
        >>> ContactPattern.AD_HOC < ContactPattern.COORDINATED
        True
    """

    NONE = "none"
    AD_HOC = "ad_hoc"
    REGULAR = "regular"
    COORDINATED = "coordinated"

    @property
    def rank(self) -> int:
        """Position in the order: 0 for NONE up to 3 for COORDINATED.

        Examples:
            >>> from stars.depth import ContactPattern
            >>> ContactPattern.REGULAR.rank
            2
        """
        return _CONTACT_RANK[self]


_CONTACT_RANK: dict[ContactPattern, int] = {c: i for i, c in enumerate(ContactPattern)}


class BreakdownCause(enum.StrEnum):
    """Why relationships usually break down (more often than product or price).

    The recovery module reuses these as root causes.

    Examples:
        >>> from stars.depth import BreakdownCause
        >>> BreakdownCause("strategy_change") is BreakdownCause.STRATEGY_CHANGE
        True
        >>> BreakdownCause.UNDER_MANAGEMENT.description
        'The partnership wears away slowly because nobody looks after it closely enough.'
    """

    KEY_PERSONNEL_CHANGE = "key_personnel_change"
    MISMANAGED_EXPECTATIONS = "mismanaged_expectations"
    STRATEGY_CHANGE = "strategy_change"
    MARKET_CONDITIONS = "market_conditions"
    UNDER_MANAGEMENT = "under_management"

    @property
    def description(self) -> str:
        """A one-line explanation of the cause.

        Examples:
            >>> from stars.depth import BreakdownCause
            >>> BreakdownCause.KEY_PERSONNEL_CHANGE.description
            'A champion, sponsor or account lead on either side leaves or changes role.'
        """
        return _CAUSES[self]


_CAUSES: dict[BreakdownCause, str] = {
    BreakdownCause.KEY_PERSONNEL_CHANGE: (
        "A champion, sponsor or account lead on either side leaves or changes role."
    ),
    BreakdownCause.MISMANAGED_EXPECTATIONS: (
        "What one side expected drifted away from what the other delivered or promised."
    ),
    BreakdownCause.STRATEGY_CHANGE: (
        "One of the companies changes its business direction and the fit weakens."
    ),
    BreakdownCause.MARKET_CONDITIONS: (
        "A downturn or shift in the market squeezes budgets or priorities."
    ),
    BreakdownCause.UNDER_MANAGEMENT: (
        "The partnership wears away slowly because nobody looks after it closely enough."
    ),
}


class DwellAction(enum.StrEnum):
    """What to do with an account that sits at COLLABORATIVE.

    Examples:
        >>> from stars.depth import DwellAction
        >>> [a.value for a in DwellAction]
        ['advance', 'step_back', 'stay']
    """

    ADVANCE = "advance"
    STEP_BACK = "step_back"
    STAY = "stay"


class MovementDirection(enum.StrEnum):
    """Whether a depth change went deeper (forward) or shallower (backward).

    Examples:
        >>> from stars.depth import MovementDirection
        >>> MovementDirection.FORWARD.value
        'forward'
    """

    FORWARD = "forward"
    BACKWARD = "backward"


class CompanyMaturity(enum.StrEnum):
    """How established the vendor is; it bounds how many key accounts it can serve.

    Examples:
        >>> from stars.depth import CompanyMaturity
        >>> CompanyMaturity("young")
        <CompanyMaturity.YOUNG: 'young'>
    """

    YOUNG = "young"
    MATURE = "mature"


# --------------------------------------------------------------------------- validators
def _whole(value: float) -> int:
    # Accept 3.0 for 3 (surveys and CSV exports often give floats); leave the rest
    # to the validator, which names the field.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value  # type: ignore[return-value]


def _count(lo: int = 0) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        v.number(attribute.name, value, lo, integer=True)

    return check


_check_flag = v.field(v.flag)


def _to_contact(value: ContactPattern | str) -> ContactPattern:
    return _member_or_keep(ContactPattern, value)  # type: ignore[no-any-return]


def _one_of(kind: Iterable[enum.Enum]) -> str:
    return "one of " + ", ".join(repr(m.value) for m in kind)


def _member_or_keep(kind: type[enum.Enum], value: Any) -> Any:
    # Convert a member's name to the member; leave anything else to the validator.
    if isinstance(value, str) and not isinstance(value, kind) and value in kind._value2member_map_:
        return kind(value)
    return value


def _as_depth(value: Depth | str) -> Depth:
    return _member_or_keep(Depth, value)  # type: ignore[no-any-return]


def _as_action(value: DwellAction | str) -> DwellAction:
    return _member_or_keep(DwellAction, value)  # type: ignore[no-any-return]


def _as_maturity(value: CompanyMaturity | str) -> CompanyMaturity:
    return _member_or_keep(CompanyMaturity, value)  # type: ignore[no-any-return]


def _member(kind: type[enum.Enum]) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if not isinstance(value, kind):
            raise InvalidValue(attribute.name, value, _one_of(kind))

    return check


_fraction = v.field(v.number, 0, 1)
_non_negative = v.field(v.number, 0)
_check_aware = v.field(v.aware)


def _check_reasons(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple) or not all(isinstance(x, str) for x in value):
        raise InvalidValue(attribute.name, value, "a tuple of strings")


def _as_tuple(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        return value  # type: ignore[return-value]
    return tuple(value)


def _check_names(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple):
        raise InvalidValue(attribute.name, value, "a sequence of requirement names")
    for item in value:
        if item not in _RULE_NAMES:
            raise UnknownName("depth requirement", item, _RULE_NAMES)


def _check_requirement_name(instance: Any, attribute: Any, value: Any) -> None:
    if value not in _RULE_NAMES:
        raise UnknownName("depth requirement", value, _RULE_NAMES)


def _check_criterion(instance: Any, attribute: Any, value: Any) -> None:
    if value not in _CRITERIA:
        raise UnknownName("depth criterion", value, _CRITERIA)


def _check_criteria(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple):
        raise InvalidValue(attribute.name, value, "a sequence of criterion names")
    for item in value:
        _check_criterion(instance, attribute, item)


def _to_depth(field: str, value: object) -> Depth:
    if isinstance(value, Depth):
        return value
    if isinstance(value, str):
        try:
            return Depth(value)
        except ValueError:
            pass
    raise InvalidValue(field, value, _one_of(Depth))


# --------------------------------------------------------------------------- policy
@attrs.frozen(slots=True)
class DepthPolicy:
    """The thresholds used to assess depth and to judge time spent at COLLABORATIVE.

    Attributes:
        dwell_limit_days: How long an account may stay COLLABORATIVE before it should
            either advance or step back (default 365, about twelve months).
        collaborative_stakeholders: People engaged on each side for COLLABORATIVE.
        collaborative_functions: Functions (departments) engaged on each side for COLLABORATIVE.
        interconnected_functions: Functions engaged on each side for INTERCONNECTED;
            at least ``collaborative_functions``.
        min_ancillary_services: Services beyond the core purchase needed for COLLABORATIVE.

    Examples:
        >>> from stars.depth import DepthPolicy
        >>> DepthPolicy().dwell_limit_days
        365
        >>> DepthPolicy(collaborative_functions=3, interconnected_functions=2)
        ... # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: interconnected_functions: got 2, expected a whole number at ...
    """

    dwell_limit_days: int = attrs.field(default=365, converter=_whole, validator=_count(1))
    collaborative_stakeholders: int = attrs.field(default=3, converter=_whole, validator=_count(1))
    collaborative_functions: int = attrs.field(default=2, converter=_whole, validator=_count(1))
    interconnected_functions: int = attrs.field(default=4, converter=_whole, validator=_count(1))
    min_ancillary_services: int = attrs.field(default=1, converter=_whole, validator=_count(0))

    def __attrs_post_init__(self) -> None:
        if self.interconnected_functions < self.collaborative_functions:
            raise InvalidValue(
                "interconnected_functions",
                self.interconnected_functions,
                f"a whole number at or above {self.collaborative_functions}",
            )


_DEFAULT_POLICY = DepthPolicy()


# --------------------------------------------------------------------------- evidence
@attrs.frozen(slots=True)
class DepthEvidence:
    """What one side can show about the relationship: the criteria depth is judged on.

    Counts must be whole numbers at or above zero; flags must be real booleans.
    ``price_dominates`` is the one criterion that counts *against* depth: clearing it
    is evidence of a deeper relationship.

    Attributes:
        formal_relationship: A contract or other formal business relationship is in place.
        vendor_stakeholders: People on the vendor side who deal with the customer.
        customer_stakeholders: People on the customer side who deal with the vendor.
        vendor_functions: Vendor departments (sales, support, product, ...) engaged.
        customer_functions: Customer departments engaged.
        contact: How coordinated and regular the contact between the two is.
        price_dominates: Price weighs as much as benefits in meetings and negotiations.
        ancillary_services: Services used beyond the core purchase (they raise switching costs).
        customer_brings_problems: The customer brings its own business problems for advice.
        joint_planning: The two plan strategy together.
        shared_roadmap: Product or growth priorities are set together.
        joint_marketing: The two market together.
        cost_transparency: Each side sees enough of the other to find savings for both.
        integrated_operations: Processes and systems run as one (INTEGRATED only).

    Examples:
        >>> from stars.depth import DepthEvidence
        >>> DepthEvidence(vendor_stakeholders=4.0).vendor_stakeholders
        4
        >>> DepthEvidence(customer_functions=-1)
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: customer_functions: got -1, expected a whole number at or above 0
    """

    formal_relationship: bool = attrs.field(default=False, validator=_check_flag)
    vendor_stakeholders: int = attrs.field(default=0, converter=_whole, validator=_count())
    customer_stakeholders: int = attrs.field(default=0, converter=_whole, validator=_count())
    vendor_functions: int = attrs.field(default=0, converter=_whole, validator=_count())
    customer_functions: int = attrs.field(default=0, converter=_whole, validator=_count())
    contact: ContactPattern = attrs.field(
        default=ContactPattern.NONE, converter=_to_contact, validator=_member(ContactPattern)
    )
    price_dominates: bool = attrs.field(default=False, validator=_check_flag)
    ancillary_services: int = attrs.field(default=0, converter=_whole, validator=_count())
    customer_brings_problems: bool = attrs.field(default=False, validator=_check_flag)
    joint_planning: bool = attrs.field(default=False, validator=_check_flag)
    shared_roadmap: bool = attrs.field(default=False, validator=_check_flag)
    joint_marketing: bool = attrs.field(default=False, validator=_check_flag)
    cost_transparency: bool = attrs.field(default=False, validator=_check_flag)
    integrated_operations: bool = attrs.field(default=False, validator=_check_flag)

    @classmethod
    def criteria(cls) -> tuple[str, ...]:
        """The names of all criteria, in declaration order.

        Examples:
            >>> from stars.depth import DepthEvidence
            >>> DepthEvidence.criteria()[:2]
            ('formal_relationship', 'vendor_stakeholders')
        """
        return _CRITERIA

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, object],
        *,
        aliases: Mapping[str, str] | None = None,
        ignore: Iterable[str] = (),
    ) -> DepthEvidence:
        """Build evidence from a mapping, such as a survey answer or a CRM export row.

        Fill the customer side from a survey and the vendor side from CRM fields this
        way. Keys must be criterion names, or source names listed in ``aliases``;
        criteria left out keep their defaults.

        Args:
            data: Criterion name (or alias) to value.
            aliases: Source key to criterion name, for exports with their own column names.
            ignore: Keys to skip, such as an account id column.

        Returns:
            The evidence.

        Raises:
            UnknownName: A key is neither a criterion, an alias nor ignored, or an alias
                points at an unknown criterion.
            InvalidValue: A value is of the wrong type or out of range, or two keys give
                the same criterion.

        Examples:
            >>> from stars.depth import DepthEvidence
            >>> row = {"id": "acme", "has_contract": True, "joint_planning": False}
            >>> e = DepthEvidence.from_mapping(
            ...     row, aliases={"has_contract": "formal_relationship"}, ignore=["id"])
            >>> e.formal_relationship
            True
            >>> DepthEvidence.from_mapping({"trust": 5})  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            stars.errors.UnknownName: unknown depth criterion 'trust'; known: ...
        """
        if not isinstance(data, Mapping):
            raise InvalidValue("evidence", data, "a mapping of criterion names to values")
        if aliases is not None and not isinstance(aliases, Mapping):
            raise InvalidValue("aliases", aliases, "a mapping of source keys to criterion names")
        if isinstance(ignore, str) or not isinstance(ignore, Iterable):
            raise InvalidValue("ignore", ignore, "a collection of keys (not a single string)")
        alias_map: dict[str, str] = {}
        for source, target in (aliases or {}).items():
            if target not in _CRITERIA:
                raise UnknownName("depth criterion", target, _CRITERIA)
            alias_map[source] = target
        skipped = set(ignore)
        values: dict[str, object] = {}
        for key, value in data.items():
            if key in skipped:
                continue
            name = alias_map.get(key, key)
            if name not in _CRITERIA:
                raise UnknownName("depth criterion", key, _CRITERIA)
            if name in values:
                raise InvalidValue(name, value, "a single value (it is given twice)")
            values[name] = value
        return cls(**values)  # type: ignore[arg-type]

    def as_mapping(self) -> dict[str, Criterion]:
        """The criteria as a plain dict (the contact pattern as its name).

        ``DepthEvidence.from_mapping(e.as_mapping()) == e`` always holds.

        Examples:
            >>> from stars.depth import DepthEvidence
            >>> DepthEvidence(contact="regular").as_mapping()["contact"]
            'regular'
        """
        out: dict[str, Criterion] = {}
        for name in _CRITERIA:
            value = getattr(self, name)
            out[name] = value.value if isinstance(value, ContactPattern) else value
        return out


_CRITERIA: tuple[str, ...] = tuple(a.name for a in attrs.fields(DepthEvidence))


# --------------------------------------------------------------------------- requirements
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


def _check_policy(policy: object) -> DepthPolicy:
    if not isinstance(policy, DepthPolicy):
        raise InvalidValue("policy", policy, "a DepthPolicy")
    return policy


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


def _depth_name(value: object) -> Depth:
    if isinstance(value, Depth):
        return value
    if isinstance(value, str):
        try:
            return Depth(value)
        except ValueError:
            pass
    raise UnknownName("depth", value, [d.value for d in Depth])


def _evaluate(evidence: DepthEvidence, policy: DepthPolicy) -> dict[str, bool]:
    return {name: bool(check(evidence, policy)) for name, _, _, _, check in _RULES}


# --------------------------------------------------------------------------- assessment
def _required_depth(value: Depth | str) -> Depth:
    return _to_depth("depth", value)


def _optional_depth(value: Depth | str | None) -> Depth | None:
    return None if value is None else _to_depth("next_depth", value)


def _check_evidence(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, DepthEvidence):
        raise InvalidValue(attribute.name, value, "a DepthEvidence")


@attrs.frozen(slots=True)
class DepthAssessment:
    """Where one side's evidence places the relationship, and why.

    Attributes:
        depth: The assessed depth.
        met: The requirements that placed it there (those of every depth up to ``depth``).
        missing: The requirements of ``next_depth`` that are not met yet.
        next_depth: The next depth up, or ``None`` at the top
            (INTERCONNECTED unless INTEGRATED was allowed).
        also_met: Requirements of deeper levels that are already met.
        evidence: The evidence assessed.
        integrated_withheld: True when the evidence meets every INTEGRATED requirement
            but INTEGRATED was not enabled, so the depth stops at INTERCONNECTED
            (only ever True at INTERCONNECTED).

    Examples:
        >>> from stars.depth import DepthEvidence, assess
        >>> a = assess(DepthEvidence())
        >>> a.depth, a.met, a.missing, a.next_depth
        (<Depth.EXPLORATORY: 'exploratory'>, (), ('formal_relationship',), <Depth.BASIC: 'basic'>)
        >>> a.integrated_withheld
        False
    """

    depth: Depth = attrs.field(converter=_required_depth)
    met: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_check_names)
    missing: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_check_names)
    next_depth: Depth | None = attrs.field(converter=_optional_depth)
    also_met: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple, validator=_check_names)
    evidence: DepthEvidence = attrs.field(factory=DepthEvidence, validator=_check_evidence)
    integrated_withheld: bool = attrs.field(default=False, validator=_check_flag)

    def __attrs_post_init__(self) -> None:
        if self.integrated_withheld and self.depth is not Depth.INTERCONNECTED:
            raise InvalidValue(
                "integrated_withheld",
                self.integrated_withheld,
                f"False for an assessment at {self.depth.value!r} (True only at 'interconnected')",
            )

    @property
    def guidance(self) -> DepthGuidance:
        """The objective and main risks at the assessed depth.

        Examples:
            >>> from stars.depth import DepthEvidence, assess
            >>> assess(DepthEvidence(formal_relationship=True)).guidance.depth
            <Depth.BASIC: 'basic'>
        """
        return GUIDANCE[self.depth]

    def explain(self) -> str:
        """A short plain-text account of the assessment.

        It says what placed the depth, what the next depth still needs, and, when the
        evidence would qualify for INTEGRATED had it been enabled, says so.

        Examples:
            >>> from stars.depth import DepthEvidence, assess
            >>> print(assess(DepthEvidence(formal_relationship=True, joint_planning=True,
            ...                            price_dominates=True)).explain())
            ... # doctest: +ELLIPSIS
            Depth: basic
            Met: formal_relationship
            Missing for collaborative: stakeholders_both_sides, ..., customer_brings_problems
            Already met beyond: joint_planning
        """
        lines = [f"Depth: {self.depth.value}"]
        lines += [f"{label}: {text}" for label, text in self._facts()]
        lines += self._notes()
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The assessment as a short Markdown section (the same facts as `explain`).

        Examples:
            >>> from stars.depth import DepthEvidence, assess
            >>> print(assess(DepthEvidence()).to_markdown())
            ### Relationship depth: exploratory
            <BLANKLINE>
            - **Missing for basic:** formal_relationship
            - **Already met beyond:** value_over_price
        """
        lines = [f"### Relationship depth: {self.depth.value}", ""]
        lines += [f"- **{label}:** {text}" for label, text in self._facts()]
        notes = self._notes()
        if notes:
            lines += ["", *notes]
        return "\n".join(lines)

    def _facts(self) -> list[tuple[str, str]]:
        facts: list[tuple[str, str]] = []
        if self.met:
            facts.append(("Met", ", ".join(self.met)))
        if self.next_depth is not None and self.missing:
            facts.append((f"Missing for {self.next_depth.value}", ", ".join(self.missing)))
        if self.also_met:
            facts.append(("Already met beyond", ", ".join(self.also_met)))
        return facts

    def _notes(self) -> list[str]:
        return [_WITHHELD] if self.integrated_withheld else []

    def _repr_html_(self) -> str:
        rows: list[tuple[str, object]] = [
            ("depth", self.depth.value),
            ("met", ", ".join(self.met) or None),
            ("next depth", self.next_depth.value if self.next_depth else None),
            ("missing for next", ", ".join(self.missing) or None),
            ("already met beyond", ", ".join(self.also_met) or None),
        ]
        if self.integrated_withheld:
            rows.append(("integrated", _WITHHELD))
        return table(["", "value"], rows, caption="Relationship depth")


_WITHHELD = (
    "The evidence also meets every integrated requirement, but integrated is off:"
    " it is rare and leaves the vendor heavily dependent on one customer, so it is only"
    " worth it when the two companies are heading for a merger. Pass"
    " allow_integrated=True to assess (and to record_depth) if that is really the case."
)


def assess(
    evidence: DepthEvidence,
    *,
    allow_integrated: bool = False,
    policy: DepthPolicy = _DEFAULT_POLICY,
) -> DepthAssessment:
    """Assess one side's evidence.

    The depth is the deepest level whose requirements, and those of every level below
    it, are all met. Adding evidence (more people or functions, closer contact, another
    flag set, price no longer dominating) never lowers the result.

    Args:
        evidence: One side's evidence.
        allow_integrated: Whether INTEGRATED may be returned. It is off by default
            because that depth is rare and risky for the vendor; when it is off and the
            evidence would qualify, the result says so (``integrated_withheld``).
        policy: The thresholds to use.

    Returns:
        The assessment, with what placed it and what is missing for the next depth.

    Raises:
        InvalidValue: ``evidence`` is not a `DepthEvidence`, ``policy`` is not a
            `DepthPolicy`, or ``allow_integrated`` is not a bool.

    Examples:
        >>> from stars.depth import DepthEvidence, assess
        >>> e = DepthEvidence(formal_relationship=True, vendor_stakeholders=4,
        ...     customer_stakeholders=3, vendor_functions=2, customer_functions=2,
        ...     contact="ad_hoc", ancillary_services=1, customer_brings_problems=True)
        >>> a = assess(e)
        >>> a.depth.value, a.missing[:2]
        ('collaborative', ('coordinated_contact', 'broad_functions'))
    """
    if not isinstance(evidence, DepthEvidence):
        raise InvalidValue("evidence", evidence, "a DepthEvidence")
    v.flag("allow_integrated", allow_integrated)
    _check_policy(policy)
    results = _evaluate(evidence, policy)
    top = Depth.INTEGRATED if allow_integrated else Depth.INTERCONNECTED
    levels = [d for d in _ORDER if d <= top]
    reached = Depth.EXPLORATORY
    for depth in levels[1:]:
        if all(results[name] for name, d, *_ in _RULES if d is depth):
            reached = depth
        else:
            break
    next_depth = levels[reached.rank + 1] if reached < top else None
    met = tuple(name for name, d, *_ in _RULES if d <= reached)
    missing = tuple(name for name, d, *_ in _RULES if d is next_depth and not results[name])
    also_met = tuple(name for name, d, *_ in _RULES if reached < d <= top and results[name])
    withheld = (
        not allow_integrated
        and reached is Depth.INTERCONNECTED
        and all(results[name] for name, d, *_ in _RULES if d is Depth.INTEGRATED)
    )
    return DepthAssessment(reached, met, missing, next_depth, also_met, evidence, withheld)


# --------------------------------------------------------------------------- two sides
@attrs.frozen(slots=True)
class Disagreement:
    """One criterion on which the vendor's and the customer's evidence differ.

    Attributes:
        criterion: The evidence criterion's name.
        vendor: The vendor's value.
        customer: The customer's value.

    Examples:
        >>> from stars.depth import Disagreement
        >>> Disagreement("joint_planning", True, False).vendor
        True
    """

    criterion: str = attrs.field(validator=_check_criterion)
    vendor: Criterion
    customer: Criterion


def _to_assessment(value: DepthAssessment | DepthEvidence) -> DepthAssessment:
    if isinstance(value, DepthEvidence):
        return assess(value)
    return value


def _check_assessment(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, DepthAssessment):
        raise InvalidValue(attribute.name, value, "a DepthAssessment or DepthEvidence")


@attrs.frozen(slots=True)
class TwoSidedDepth:
    """The vendor's and the customer's view of the same relationship.

    Only what both sides would confirm is real, so the agreed depth is the lower of
    the two. Pass evidence (assessed with the default policy) or assessments.

    Attributes:
        vendor: The vendor's assessment (for example from CRM fields).
        customer: The customer's assessment (for example from a survey).

    Examples:
        >>> from stars.depth import DepthEvidence, TwoSidedDepth
        >>> vendor = DepthEvidence(formal_relationship=True, vendor_stakeholders=4,
        ...     customer_stakeholders=3, vendor_functions=2, customer_functions=2,
        ...     contact="ad_hoc", ancillary_services=1, customer_brings_problems=True)
        >>> customer = DepthEvidence(formal_relationship=True, price_dominates=True)
        >>> two = TwoSidedDepth(vendor=vendor, customer=customer)
        >>> two.agreed.value, two.gap
        ('basic', 1)
    """

    vendor: DepthAssessment = attrs.field(converter=_to_assessment, validator=_check_assessment)
    customer: DepthAssessment = attrs.field(converter=_to_assessment, validator=_check_assessment)

    @property
    def agreed(self) -> Depth:
        """The depth both sides support: the lower of the two.

        Examples:
            >>> from stars.depth import DepthEvidence, TwoSidedDepth
            >>> TwoSidedDepth(vendor=DepthEvidence(formal_relationship=True),
            ...               customer=DepthEvidence()).agreed
            <Depth.EXPLORATORY: 'exploratory'>
        """
        return min(self.vendor.depth, self.customer.depth)

    @property
    def gap(self) -> int:
        """Vendor depth minus customer depth, in levels.

        Positive when the vendor sees the relationship as deeper than the customer
        does (the usual case), negative the other way round, zero when they agree.

        Examples:
            >>> from stars.depth import DepthEvidence, TwoSidedDepth
            >>> TwoSidedDepth(vendor=DepthEvidence(),
            ...               customer=DepthEvidence(formal_relationship=True)).gap
            -1
        """
        return self.vendor.depth.rank - self.customer.depth.rank

    @property
    def disagreements(self) -> tuple[Disagreement, ...]:
        """The evidence criteria on which the two sides give different values.

        Examples:
            >>> from stars.depth import DepthEvidence, TwoSidedDepth
            >>> two = TwoSidedDepth(vendor=DepthEvidence(joint_planning=True),
            ...                     customer=DepthEvidence())
            >>> two.disagreements
            (Disagreement(criterion='joint_planning', vendor=True, customer=False),)
        """
        ven = self.vendor.evidence.as_mapping()
        cus = self.customer.evidence.as_mapping()
        return tuple(Disagreement(k, ven[k], cus[k]) for k in _CRITERIA if ven[k] != cus[k])

    @property
    def disputed(self) -> tuple[str, ...]:
        """Requirements that one side meets and the other does not.

        Examples:
            >>> from stars.depth import DepthEvidence, TwoSidedDepth
            >>> TwoSidedDepth(vendor=DepthEvidence(formal_relationship=True),
            ...               customer=DepthEvidence()).disputed
            ('formal_relationship',)
        """
        ven = set(self.vendor.met) | set(self.vendor.also_met)
        cus = set(self.customer.met) | set(self.customer.also_met)
        return tuple(name for name in _RULE_NAMES if (name in ven) != (name in cus))

    @property
    def sees_more(self) -> str | None:
        """The side that sees the relationship as deeper, or ``None`` when both agree.

        ``"vendor"`` when the gap is positive, ``"customer"`` when it is negative.

        Examples:
            >>> from stars.depth import DepthEvidence, TwoSidedDepth
            >>> TwoSidedDepth(vendor=DepthEvidence(formal_relationship=True),
            ...               customer=DepthEvidence()).sees_more
            'vendor'
        """
        if self.gap == 0:
            return None
        return "vendor" if self.gap > 0 else "customer"

    @property
    def advice(self) -> DepthGapAdvice | None:
        """What to do about a gap, or ``None`` when both sides see the same depth.

        The advice names the side that sees more, says to treat the relationship as the
        agreed depth, lists what to verify with the customer (the criteria behind the
        requirements only the side that sees more meets), and warns against investing
        on the strength of the higher view.

        Examples:
            >>> from stars.depth import DepthEvidence, TwoSidedDepth
            >>> two = TwoSidedDepth(vendor=DepthEvidence(formal_relationship=True),
            ...                     customer=DepthEvidence())
            >>> two.advice.verify
            ('formal_relationship',)
            >>> print(two.advice.sentences[0])  # doctest: +ELLIPSIS
            The vendor sees the relationship as basic, the customer only as exploratory ...
        """
        if self.gap == 0:
            return None
        ahead, behind = (
            (self.vendor, self.customer) if self.gap > 0 else (self.customer, self.vendor)
        )
        ahead_met = set(ahead.met) | set(ahead.also_met)
        behind_met = set(behind.met) | set(behind.also_met)
        verify = tuple(
            name
            for name, d, *_ in _RULES
            if self.agreed < d <= ahead.depth and name in ahead_met and name not in behind_met
        )
        read = {c for name, _, crit, *_ in _RULES if name in verify for c in crit}
        checks = tuple(d for d in self.disagreements if d.criterion in read)
        return gap_advice(self.vendor.depth, self.customer.depth, verify=verify, checks=checks)

    def explain(self) -> str:
        """A short plain-text account: both views, where they differ, and the advice.

        Examples:
            >>> from stars.depth import DepthEvidence, TwoSidedDepth
            >>> same = DepthEvidence(formal_relationship=True)
            >>> print(TwoSidedDepth(vendor=same, customer=same).explain())
            Agreed depth: basic (vendor sees basic, customer sees basic; gap +0)
            Both sides see the same depth: no gap to close.
        """
        lines = [self._headline()]
        if self.disagreements:
            lines.append("Where the evidence differs:")
            lines += [f"  {d.criterion}: {_differ(d)}" for d in self.disagreements]
        advice = self.advice
        if advice is None:
            lines.append("Both sides see the same depth: no gap to close.")
        else:
            lines.append(f"Advice (the {advice.sees_more} sees more):")
            lines += [f"  - {x}" for x in advice.sentences]
        lines += self._notes()
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """Both views, where they differ, and the advice, as a Markdown section.

        Examples:
            >>> from stars.depth import DepthEvidence, TwoSidedDepth
            >>> two = TwoSidedDepth(vendor=DepthEvidence(formal_relationship=True),
            ...                     customer=DepthEvidence())
            >>> print(two.to_markdown())  # doctest: +ELLIPSIS
            ### Agreed depth: exploratory (vendor sees basic, customer sees exploratory; gap +1)
            <BLANKLINE>
            | | vendor | customer |
            |---|---|---|
            | depth | basic | exploratory |
            | formal_relationship | yes | no |
            <BLANKLINE>
            **Advice** (the vendor sees more):
            <BLANKLINE>
            - The vendor sees the relationship as basic, ...
        """
        lines = ["### " + self._headline(), "", "| | vendor | customer |", "|---|---|---|"]
        lines.append(f"| depth | {self.vendor.depth.value} | {self.customer.depth.value} |")
        lines += [
            f"| {d.criterion} | {_shown(d.vendor)} | {_shown(d.customer)} |"
            for d in self.disagreements
        ]
        advice = self.advice
        if advice is None:
            lines += ["", "Both sides see the same depth: no gap to close."]
        else:
            lines += ["", f"**Advice** (the {advice.sees_more} sees more):", ""]
            lines += [f"- {x}" for x in advice.sentences]
        notes = self._notes()
        if notes:
            lines += ["", *notes]
        return "\n".join(lines)

    def _headline(self) -> str:
        return (
            f"Agreed depth: {self.agreed.value} (vendor sees {self.vendor.depth.value},"
            f" customer sees {self.customer.depth.value}; gap {self.gap:+d})"
        )

    def _notes(self) -> list[str]:
        return [
            f"The {side}'s evidence would qualify for integrated if it were enabled"
            " (pass allow_integrated=True to assess)."
            for side, a in (("vendor", self.vendor), ("customer", self.customer))
            if a.integrated_withheld
        ]

    def _repr_html_(self) -> str:
        rows: list[tuple[object, ...]] = [
            ("depth", self.vendor.depth.value, self.customer.depth.value),
            *((d.criterion, d.vendor, d.customer) for d in self.disagreements),
        ]
        caption = f"Agreed depth: {self.agreed.value} (gap {self.gap:+d})"
        html = table(["", "vendor", "customer"], rows, caption=caption)
        advice = self.advice
        if advice is not None:
            html += table(
                ["advice"],
                [(x,) for x in advice.sentences],
                caption=f"The {advice.sees_more} sees more",
            )
        return html


# --------------------------------------------------------------------------- gap advice
# What to ask the customer about each criterion, worded without policy thresholds.
_QUESTIONS: dict[str, str] = {
    "formal_relationship": "whether a contract is in place",
    "vendor_stakeholders": "how many of the vendor's people they deal with",
    "customer_stakeholders": "how many of their own people deal with the vendor",
    "vendor_functions": "how many of the vendor's departments they work with",
    "customer_functions": "how many of their own departments work with the vendor",
    "contact": "how the two sides are in touch",
    "price_dominates": "whether price still leads the conversation",
    "ancillary_services": "which services they use beyond the core purchase",
    "customer_brings_problems": "whether they bring their own business problems for advice",
    "joint_planning": "whether strategy is planned together",
    "shared_roadmap": "whether product or growth priorities are set together",
    "joint_marketing": "whether the two market together",
    "cost_transparency": "whether each side sees enough of the other to find savings",
    "integrated_operations": "whether processes and systems run as one",
}


def _shown(value: Criterion) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _differ(d: Disagreement) -> str:
    return f"vendor {_shown(d.vendor)}, customer {_shown(d.customer)}"


def _check_side_name(instance: Any, attribute: Any, value: Any) -> None:
    if value not in ("vendor", "customer"):
        raise InvalidValue(attribute.name, value, "'vendor' or 'customer'")


def _check_disagreements(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple) or not all(isinstance(x, Disagreement) for x in value):
        raise InvalidValue(attribute.name, value, "a tuple of Disagreement")


def _as_items(value: Iterable[Any]) -> tuple[Any, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return value  # type: ignore[return-value]
    return tuple(value)


@attrs.frozen(slots=True)
class DepthGapAdvice:
    """What the account team should do when the two sides see different depths.

    Only what both sides confirm is real: the advice is to work at the agreed depth,
    check with the customer what only one side sees, and not to invest for the higher
    depth until both sides confirm it.

    Attributes:
        sees_more: The side that sees the relationship as deeper, ``"vendor"`` or
            ``"customer"``.
        higher: The depth that side sees.
        agreed: The depth both sides support (the lower one).
        verify: Requirements met only by the side that sees more, between the two
            depths: the things to confirm with the customer.
        checks: The evidence on which the sides differ behind ``verify``.
        sentences: The advice in plain words, one point per sentence.

    Examples:
        >>> from stars.depth import gap_advice
        >>> a = gap_advice("collaborative", "basic")
        >>> a.sees_more, a.sees_less, a.levels
        ('vendor', 'customer', 1)
    """

    sees_more: str = attrs.field(validator=_check_side_name)
    higher: Depth = attrs.field(converter=_as_depth, validator=_member(Depth))
    agreed: Depth = attrs.field(converter=_as_depth, validator=_member(Depth))
    verify: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_check_names)
    checks: tuple[Disagreement, ...] = attrs.field(
        converter=_as_items, validator=_check_disagreements
    )
    sentences: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_check_reasons)

    def __attrs_post_init__(self) -> None:
        if self.higher <= self.agreed:
            raise InvalidValue(
                "higher", self.higher.value, f"a depth deeper than agreed ({self.agreed.value!r})"
            )

    @property
    def sees_less(self) -> str:
        """The other side: the one whose view sets the agreed depth.

        Examples:
            >>> from stars.depth import gap_advice
            >>> gap_advice("basic", "interconnected").sees_less
            'vendor'
        """
        return "customer" if self.sees_more == "vendor" else "vendor"

    @property
    def levels(self) -> int:
        """How many levels apart the two views are (at least 1).

        Examples:
            >>> from stars.depth import gap_advice
            >>> gap_advice("interconnected", "basic").levels
            2
        """
        return self.higher.rank - self.agreed.rank

    @property
    def summary(self) -> str:
        """The advice in one sentence, for tables and reports.

        Examples:
            >>> from stars.depth import gap_advice
            >>> print(gap_advice("collaborative", "basic").summary)
            ... # doctest: +NORMALIZE_WHITESPACE
            Treat it as basic, not collaborative: confirm with the customer what the vendor
            counts beyond basic, and do not invest on the strength of the vendor's view.
        """
        beyond = (
            f"confirm with the customer what the vendor counts beyond {self.agreed.value}"
            if self.sees_more == "vendor"
            else f"ask the customer what they count beyond {self.agreed.value}"
        )
        return (
            f"Treat it as {self.agreed.value}, not {self.higher.value}: {beyond}, and do not"
            f" invest on the strength of the {self.sees_more}'s view."
        )


def gap_advice(
    vendor: Depth | str,
    customer: Depth | str,
    *,
    verify: Iterable[str] = (),
    checks: Iterable[Disagreement] = (),
) -> DepthGapAdvice | None:
    """Advice for a gap between the vendor's and the customer's depth.

    `TwoSidedDepth.advice` calls this with what it found in the evidence; call it
    directly when only the two depths are known (the portfolio report does, from the
    latest recorded depth of each side).

    Args:
        vendor: The vendor's depth (or its name).
        customer: The customer's depth (or its name).
        verify: Requirements only the side that sees more meets, to confirm with the customer.
        checks: The evidence disagreements behind them.

    Returns:
        The advice, or ``None`` when both depths are the same.

    Raises:
        InvalidValue: A depth is not a depth's name, or ``verify``/``checks`` are malformed.
        UnknownName: A name in ``verify`` is not a requirement.

    Examples:
        >>> from stars.depth import gap_advice
        >>> for line in gap_advice("basic", "collaborative").sentences:
        ...     print(line)  # doctest: +ELLIPSIS
        The customer sees the relationship as collaborative, the vendor only as basic ...
        Only what both sides agree on is real: treat the relationship as basic ...
        Verify with the customer what they count as ...
        Do not invest on the strength of the customer's view either: ...
        >>> print(gap_advice("basic", "basic"))
        None
    """
    ven = _to_depth("vendor", vendor)
    cus = _to_depth("customer", customer)
    if ven is cus:
        return None
    verify = _as_tuple(verify)
    checks = _as_items(checks)
    side, other = ("vendor", "customer") if ven > cus else ("customer", "vendor")
    higher, agreed = max(ven, cus), min(ven, cus)
    n = higher.rank - agreed.rank
    # validate before building the sentences from them
    advice = DepthGapAdvice(side, higher, agreed, verify, checks, ())
    apart = f"({n} level{'s' if n > 1 else ''} apart)"
    if advice.checks:
        asks = "; ".join(f"{_QUESTIONS[d.criterion]} ({_differ(d)})" for d in advice.checks)
    elif advice.verify:
        asks = f"the requirements only the {side}'s view meets ({', '.join(advice.verify)})"
    else:
        asks = ""
    if side == "vendor":
        first = (
            f"The vendor sees the relationship as {higher.value}, the customer only as"
            f" {agreed.value} {apart}. This is the usual direction: account teams tend to"
            " rate a relationship deeper than their customers do."
        )
        what = "Verify with the customer " + (
            asks or f"what separates {agreed.value} from {higher.value} in their eyes"
        )
        last = (
            f"Do not invest for {higher.value} (more people, extra services, joint plans)"
            " on the strength of the vendor's view alone; wait until the customer confirms it."
        )
    else:
        first = (
            f"The customer sees the relationship as {higher.value}, the vendor only as"
            f" {agreed.value} {apart}. Either the vendor's records miss people or work, or"
            " the customer expects a closeness the vendor has not committed to."
        )
        what = f"Verify with the customer what they count as {higher.value}" + (
            f": {asks}" if asks else ""
        )
        last = (
            "Do not invest on the strength of the customer's view either: confirm it"
            " against the vendor's own evidence first, and settle the difference in"
            " expectations before it turns into disappointment."
        )
    sentences = (
        first,
        f"Only what both sides agree on is real: treat the relationship as {agreed.value}"
        f" and plan for that until the {other} sees {higher.value} too.",
        what + ".",
        last,
    )
    return attrs.evolve(advice, sentences=sentences)


# --------------------------------------------------------------------------- dwell advice
@attrs.frozen(slots=True)
class DwellAdvice:
    """Advice for an account at COLLABORATIVE: advance, step back, or stay for now.

    Attributes:
        action: What to do.
        days_collaborative: Days since the account entered COLLABORATIVE.
        dwell_limit_days: The policy's limit.
        assessment: The assessment of the evidence given.
        toward_interconnected: INTERCONNECTED requirements already met (the case for advancing).
        short_of_interconnected: INTERCONNECTED requirements not met (the case for stepping back).
        short_of_collaborative: COLLABORATIVE (or BASIC) requirements the evidence no longer meets.
        reasons: Plain sentences explaining the action.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.depth import DepthEvidence, dwell_advice
        >>> utc = timezone.utc
        >>> advice = dwell_advice(datetime(2024, 1, 1, tzinfo=utc),
        ...                       datetime(2025, 3, 1, tzinfo=utc), DepthEvidence())
        >>> advice.action.value, advice.over_limit
        ('step_back', True)
    """

    action: DwellAction = attrs.field(converter=_as_action, validator=_member(DwellAction))
    days_collaborative: float = attrs.field(validator=_non_negative)
    dwell_limit_days: int = attrs.field(converter=_whole, validator=_count(1))
    assessment: DepthAssessment = attrs.field(validator=_check_assessment)
    toward_interconnected: tuple[str, ...] = attrs.field(
        converter=_as_tuple, validator=_check_names
    )
    short_of_interconnected: tuple[str, ...] = attrs.field(
        converter=_as_tuple, validator=_check_names
    )
    short_of_collaborative: tuple[str, ...] = attrs.field(
        converter=_as_tuple, validator=_check_names
    )
    reasons: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_check_reasons)

    @property
    def over_limit(self) -> bool:
        """Whether the account has been COLLABORATIVE for at least the dwell limit.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.depth import DepthEvidence, dwell_advice
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> dwell_advice(t, t, DepthEvidence()).over_limit
            False
        """
        return self.days_collaborative >= self.dwell_limit_days

    @property
    def days_left(self) -> float:
        """Days left before the dwell limit (zero once it is reached).

        Examples:
            >>> from datetime import datetime, timedelta, timezone
            >>> from stars.depth import DepthEvidence, dwell_advice
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> dwell_advice(t, t + timedelta(days=65), DepthEvidence()).days_left
            300.0
        """
        return max(0.0, self.dwell_limit_days - self.days_collaborative)


def dwell_advice(
    entered_collaborative_at: datetime,
    at: datetime,
    evidence: DepthEvidence | DepthAssessment,
    policy: DepthPolicy = _DEFAULT_POLICY,
) -> DwellAdvice:
    """Say whether an account at COLLABORATIVE should advance, step back or stay.

    COLLABORATIVE costs both sides a lot and should not last. The rules, in order:

    1. the evidence meets INTERCONNECTED: ADVANCE;
    2. the evidence no longer meets COLLABORATIVE: STEP_BACK to BASIC;
    3. still within ``policy.dwell_limit_days``: STAY, and keep working on what is missing;
    4. past the limit without qualifying: STEP_BACK to BASIC, carefully.

    The advice lists the evidence on both sides (requirements met and missing).

    Args:
        entered_collaborative_at: When the account entered COLLABORATIVE (timezone-aware).
        at: The time of the advice (timezone-aware, not before the entry).
        evidence: The evidence to judge (or an assessment of it; its evidence is reassessed
            with ``policy``).
        policy: The dwell limit and assessment thresholds.

    Returns:
        The advice.

    Raises:
        InvalidValue: A time is naive or ``at`` is before the entry, or an argument has
            the wrong type.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.depth import DepthEvidence, dwell_advice
        >>> e = DepthEvidence(formal_relationship=True, vendor_stakeholders=4,
        ...     customer_stakeholders=3, vendor_functions=2, customer_functions=2,
        ...     contact="ad_hoc", ancillary_services=1, customer_brings_problems=True)
        >>> utc = timezone.utc
        >>> dwell_advice(datetime(2025, 1, 1, tzinfo=utc), datetime(2025, 6, 1, tzinfo=utc),
        ...              e).action
        <DwellAction.STAY: 'stay'>
        >>> dwell_advice(datetime(2024, 1, 1, tzinfo=utc), datetime(2025, 6, 1, tzinfo=utc),
        ...              e).action
        <DwellAction.STEP_BACK: 'step_back'>
    """
    v.aware("entered_collaborative_at", entered_collaborative_at)
    v.aware("at", at)
    if at < entered_collaborative_at:
        raise InvalidValue(
            "at", at, f"a time at or after entered_collaborative_at ({entered_collaborative_at})"
        )
    _check_policy(policy)
    if isinstance(evidence, DepthAssessment):
        evidence = evidence.evidence
    if not isinstance(evidence, DepthEvidence):
        raise InvalidValue("evidence", evidence, "a DepthEvidence or DepthAssessment")
    assessment = assess(evidence, policy=policy)
    results = _evaluate(evidence, policy)
    toward = tuple(n for n, d, *_ in _RULES if d is Depth.INTERCONNECTED and results[n])
    short = tuple(n for n, d, *_ in _RULES if d is Depth.INTERCONNECTED and not results[n])
    lost = tuple(n for n, d, *_ in _RULES if d <= Depth.COLLABORATIVE and not results[n])
    days = (at - entered_collaborative_at).total_seconds() / 86400.0
    limit = policy.dwell_limit_days
    shown = short_of(days, limit)[0] if days < limit else f"{days:.0f}"
    spent = f"{shown} of {limit} days spent at collaborative"
    reasons: list[str]
    if assessment.depth >= Depth.INTERCONNECTED:
        action = DwellAction.ADVANCE
        reasons = ["every interconnected requirement is met", spent]
    elif assessment.depth < Depth.COLLABORATIVE:
        action = DwellAction.STEP_BACK
        reasons = ["the evidence no longer supports collaborative: missing " + ", ".join(lost)]
    elif days < limit:
        action = DwellAction.STAY
        reasons = [spent, "still missing for interconnected: " + ", ".join(short)]
    else:
        action = DwellAction.STEP_BACK
        reasons = [
            f"{days:.0f} days at collaborative, past the limit of {limit}",
            "not qualified for interconnected: missing " + ", ".join(short),
        ]
    return DwellAdvice(action, days, limit, assessment, toward, short, lost, tuple(reasons))


# --------------------------------------------------------------------------- guidance
@attrs.frozen(slots=True)
class DepthGuidance:
    """The objective and the main risks at one depth.

    Attributes:
        depth: The depth.
        objective: What the vendor should aim for at this depth.
        risks: The main ways things go wrong here.
        rare: True for a depth that is rare and usually not worth pursuing (INTEGRATED).

    Examples:
        >>> from stars.depth import guidance
        >>> guidance("basic").objective
        'Deliver dependable quality at low cost so renewals and repeat orders keep coming.'
    """

    depth: Depth = attrs.field(converter=_as_depth, validator=_member(Depth))
    objective: str
    risks: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_check_reasons)
    rare: bool = attrs.field(default=False, validator=_check_flag)


GUIDANCE: Mapping[Depth, DepthGuidance] = types.MappingProxyType(
    {
        Depth.EXPLORATORY: DepthGuidance(
            Depth.EXPLORATORY,
            "Learn whether there is a fit, size the long-term opportunity, and judge early"
            " whether this prospect could become a key account (and treat it as one if so).",
            (
                "Both sides judge each other on thin early experience, so every slip counts.",
                "Outside voices sway the buyer while the relationship has no history.",
                "Pushing for a quick sale at the expense of long-term value.",
            ),
        ),
        Depth.BASIC: DepthGuidance(
            Depth.BASIC,
            "Deliver dependable quality at low cost so renewals and repeat orders keep coming.",
            (
                "Price leads the conversation, so both sides think only short term.",
                "Switching costs are low: no extra services tie the customer in.",
                "Efficiency keeps the sides apart, so trust stays shallow.",
                "A small rise in effort turns the account unprofitable.",
            ),
        ),
        Depth.COLLABORATIVE: DepthGuidance(
            Depth.COLLABORATIVE,
            "Decide quickly whether the account can become interconnected, creating new value"
            " for the customer while you find out.",
            (
                "It is expensive for both sides and should not last.",
                "More people in contact without a plan makes the relationship messy.",
                "More information is shared while revenue does not grow with it.",
                "Resources get over-allocated and some accounts lose money.",
            ),
        ),
        Depth.INTERCONNECTED: DepthGuidance(
            Depth.INTERCONNECTED,
            "Run a true partnership: plan strategy together, coordinate growth and product"
            " priorities, look for savings on both sides, and take the long view.",
            (
                "Taking on more key accounts than the company can serve.",
                "Slow wear from under-management.",
                "A key person leaving on either side.",
                "Expectations drifting apart, or a change of strategy or market.",
            ),
        ),
        Depth.INTEGRATED: DepthGuidance(
            Depth.INTEGRATED,
            "Pursue only when the two companies are heading for a merger; otherwise stay"
            " interconnected.",
            (
                "Rare in practice.",
                "The vendor gives up independence and takes on heavy dependence on one customer.",
                "Undoing it is slow and costly for the vendor.",
            ),
            rare=True,
        ),
    }
)
"""The guidance for every depth (read-only)."""


def guidance(depth: Depth | str) -> DepthGuidance:
    """The objective and main risks at a depth.

    Args:
        depth: A depth or its name.

    Returns:
        The guidance.

    Raises:
        UnknownName: ``depth`` is not a depth's name.

    Examples:
        >>> from stars.depth import guidance
        >>> guidance("integrated").rare
        True
        >>> guidance("gold")
        Traceback (most recent call last):
        ...
        stars.errors.UnknownName: unknown depth 'gold'; known: 'basic', 'collaborative', ...
    """
    return GUIDANCE[_depth_name(depth)]


# --------------------------------------------------------------------------- key accounts
_USUAL_KEY_ACCOUNTS: dict[CompanyMaturity, tuple[int, int]] = {
    CompanyMaturity.YOUNG: (0, 5),
    CompanyMaturity.MATURE: (15, 30),
}


@attrs.frozen(slots=True)
class KeyAccountCheck:
    """Whether the number of key accounts fits what the company can serve.

    Attributes:
        n_key_accounts: How many key accounts there are.
        maturity: The company's maturity.
        capacity: How many key accounts it can serve.
        usual_range: The usual range for a company of this maturity.

    Examples:
        >>> from stars.depth import key_account_check
        >>> c = key_account_check(8, "young")
        >>> c.within, c.excess
        (False, 3)
    """

    n_key_accounts: int = attrs.field(converter=_whole, validator=_count(0))
    maturity: CompanyMaturity = attrs.field(
        converter=_as_maturity, validator=_member(CompanyMaturity)
    )
    capacity: int = attrs.field(converter=_whole, validator=_count(1))
    usual_range: tuple[int, int]

    @property
    def within(self) -> bool:
        """Whether the count is at or below capacity.

        Examples:
            >>> from stars.depth import key_account_check
            >>> key_account_check(20, "mature").within
            True
        """
        return self.n_key_accounts <= self.capacity

    @property
    def excess(self) -> int:
        """Key accounts beyond capacity (zero when within).

        Examples:
            >>> from stars.depth import key_account_check
            >>> key_account_check(34, "mature").excess
            4
        """
        return max(0, self.n_key_accounts - self.capacity)

    @property
    def headroom(self) -> int:
        """Key accounts that could still be added (zero when at or over capacity).

        Examples:
            >>> from stars.depth import key_account_check
            >>> key_account_check(2, "young").headroom
            3
        """
        return max(0, self.capacity - self.n_key_accounts)

    @property
    def below_usual(self) -> bool:
        """Whether the count is below the usual range (room, or a thin key-account tier).

        Examples:
            >>> from stars.depth import key_account_check
            >>> key_account_check(6, "mature").below_usual
            True
        """
        return self.n_key_accounts < self.usual_range[0]

    @property
    def message(self) -> str:
        """A one-line verdict.

        Examples:
            >>> from stars.depth import key_account_check
            >>> key_account_check(8, "young").message
            '8 key accounts for a young company: 3 over the capacity of 5'
        """
        head = f"{self.n_key_accounts} key accounts for a {self.maturity.value} company"
        if not self.within:
            return f"{head}: {self.excess} over the capacity of {self.capacity}"
        if self.below_usual:
            low, high = self.usual_range
            return f"{head}: within capacity, below the usual {low} to {high}"
        return f"{head}: within the capacity of {self.capacity}"


def key_account_check(
    n_key_accounts: int,
    maturity: CompanyMaturity | str,
    capacity: int | None = None,
) -> KeyAccountCheck:
    """Check the number of key accounts against the company's capacity.

    A young company can seldom serve more than about 5 key accounts; a mature one
    about 15 to 30. Key accounts sit inside the interconnected tier.

    Args:
        n_key_accounts: How many key accounts the company has.
        maturity: ``"young"`` or ``"mature"``.
        capacity: The most key accounts the company can serve; by default 5 (young)
            or 30 (mature).

    Returns:
        The check.

    Raises:
        InvalidValue: A count is negative or not a whole number.
        UnknownName: ``maturity`` is not a known maturity.

    Examples:
        >>> from stars.depth import key_account_check
        >>> key_account_check(12, "mature", capacity=10).message
        '12 key accounts for a mature company: 2 over the capacity of 10'
    """
    n = int(v.number("n_key_accounts", n_key_accounts, 0, integer=True))
    if isinstance(maturity, CompanyMaturity):
        kind = maturity
    elif isinstance(maturity, str) and maturity in {m.value for m in CompanyMaturity}:
        kind = CompanyMaturity(maturity)
    else:
        raise UnknownName("company maturity", maturity, [m.value for m in CompanyMaturity])
    usual = _USUAL_KEY_ACCOUNTS[kind]
    cap = usual[1] if capacity is None else int(v.number("capacity", capacity, 1, integer=True))
    return KeyAccountCheck(n, kind, cap, usual)


# --------------------------------------------------------------------------- concentration
@attrs.frozen(slots=True)
class ValueConcentration:
    """How the value of a portfolio is spread across accounts and depths.

    Attributes:
        n_accounts: Accounts counted.
        total_value: Their total value.
        interconnected_accounts: Accounts at INTERCONNECTED or deeper.
        interconnected_share: Share of the value held by those accounts (0 to 1).
        top_accounts: How many accounts make up the top group (the top 20 percent by default).
        top_share: Share of the value held by the top group (0 to 1).
        target_share: The share the top group is expected to hold (80 percent by default).
        pareto_like: Whether ``top_share`` is within the tolerance of ``target_share``.
        top_not_interconnected: Accounts in the top group that are not yet interconnected,
            highest value first.

    Examples:
        >>> from stars.depth import value_concentration
        >>> values = {"a": 80.0, "b": 10.0, "c": 5.0, "d": 3.0, "e": 2.0}
        >>> depths = {"a": "interconnected", "b": "basic", "c": "basic", "d": "basic",
        ...           "e": "collaborative"}
        >>> c = value_concentration(values, depths)
        >>> c.top_accounts, c.top_share, c.pareto_like, c.interconnected_share
        (1, 0.8, True, 0.8)
    """

    n_accounts: int = attrs.field(converter=_whole, validator=_count(1))
    total_value: float = attrs.field(validator=_non_negative)
    interconnected_accounts: int = attrs.field(converter=_whole, validator=_count(0))
    interconnected_share: float = attrs.field(validator=_fraction)
    top_accounts: int = attrs.field(converter=_whole, validator=_count(1))
    top_share: float = attrs.field(validator=_fraction)
    target_share: float = attrs.field(validator=_fraction)
    pareto_like: bool = attrs.field(validator=_check_flag)
    top_not_interconnected: tuple[str, ...] = attrs.field(converter=_as_tuple)

    def _repr_html_(self) -> str:
        rows: list[tuple[str, object]] = [
            ("accounts", self.n_accounts),
            ("total value", self.total_value),
            ("interconnected accounts", self.interconnected_accounts),
            ("interconnected share", f"{self.interconnected_share:.0%}"),
            (f"top {self.top_accounts} accounts' share", f"{self.top_share:.0%}"),
            ("pareto-like", self.pareto_like),
            ("top accounts not interconnected", ", ".join(self.top_not_interconnected) or None),
        ]
        return table(["", "value"], rows, caption="Value concentration")


def value_concentration(
    values_by_account: Mapping[str, float],
    depth_by_account: Mapping[str, Depth | str],
    *,
    top_fraction: float = 0.2,
    target_share: float = 0.8,
    tolerance: float = 0.1,
) -> ValueConcentration:
    """Measure how much value sits in the interconnected tier and in the top accounts.

    The strongest relationships are expected to be the interconnected ones, and
    roughly the top 20 percent of accounts tend to bring about 80 percent of value.

    Args:
        values_by_account: Account id to value (revenue, profit, ...), each at least 0.
        depth_by_account: Account id to depth, for the same accounts.
        top_fraction: The fraction of accounts in the top group (rounded up, at least one).
        target_share: The share of value the top group is expected to hold.
        tolerance: How far ``top_share`` may be from ``target_share`` to count as pareto-like.

    Returns:
        The concentration figures.

    Raises:
        InvalidValue: A value is negative or not a number, the total is zero, a depth
            is unknown, or the two mappings do not cover the same accounts.

    Examples:
        >>> from stars.depth import value_concentration
        >>> value_concentration({"a": 1.0}, {"b": "basic"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: depth_by_account: got ['a'], expected a depth for every ...
    """
    values = v.number_mapping("values_by_account", values_by_account)
    for acct, value in values.items():
        v.number(f"values_by_account[{acct!r}]", value, 0)
    if not isinstance(depth_by_account, Mapping):
        raise InvalidValue("depth_by_account", depth_by_account, "a mapping of account to depth")
    depths = {
        acct: _to_depth(f"depth_by_account[{acct!r}]", d) for acct, d in depth_by_account.items()
    }
    without_depth = sorted(set(values) - set(depths))
    if without_depth:
        raise InvalidValue(
            "depth_by_account", without_depth, "a depth for every account in values_by_account"
        )
    without_value = sorted(set(depths) - set(values), key=str)
    if without_value:
        raise InvalidValue(
            "values_by_account", without_value, "a value for every account in depth_by_account"
        )
    v.number("top_fraction", top_fraction, 0, 1)
    if top_fraction == 0:
        raise InvalidValue("top_fraction", top_fraction, "a number above 0 and at most 1")
    v.number("target_share", target_share, 0, 1)
    v.number("tolerance", tolerance, 0, 1)
    try:
        total = math.fsum(values.values())
    except OverflowError:
        raise InvalidValue(
            "values_by_account", values_by_account, "values whose total is a finite number"
        ) from None
    if total <= 0:
        raise InvalidValue("values_by_account", values_by_account, "values with a positive total")
    n = len(values)
    tier = [a for a in values if depths[a] >= Depth.INTERCONNECTED]
    tier_share = math.fsum(values[a] for a in tier) / total
    ranked = sorted(values, key=lambda a: (-values[a], a))
    n_top = max(1, math.ceil(round(top_fraction * n, 9)))
    top = ranked[:n_top]
    top_share = math.fsum(values[a] for a in top) / total
    return ValueConcentration(
        n_accounts=n,
        total_value=total,
        interconnected_accounts=len(tier),
        interconnected_share=min(1.0, tier_share),
        top_accounts=n_top,
        top_share=min(1.0, top_share),
        target_share=float(target_share),
        pareto_like=abs(top_share - target_share) <= tolerance + 1e-12,
        top_not_interconnected=tuple(a for a in top if depths[a] < Depth.INTERCONNECTED),
    )


# --------------------------------------------------------------------------- history
@attrs.frozen(slots=True)
class DepthMovement:
    """A change of depth between two consecutive observations of one side.

    Attributes:
        at: When the new depth was observed.
        previous_at: When the previous depth was last observed.
        source: The previous depth.
        dest: The new depth.
        side: Whose view: ``"agreed"``, ``"vendor"`` or ``"customer"``.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.depth import Depth, DepthMovement
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> m = DepthMovement(t, t, Depth.INTERCONNECTED, Depth.BASIC, "agreed")
        >>> m.direction.value, m.levels
        ('backward', -2)
    """

    at: datetime = attrs.field(validator=_check_aware)
    previous_at: datetime = attrs.field(validator=_check_aware)
    source: Depth = attrs.field(converter=_as_depth, validator=_member(Depth))
    dest: Depth = attrs.field(converter=_as_depth, validator=_member(Depth))
    side: str = attrs.field(default="agreed", validator=lambda _i, _a, val: _check_side(val))

    @property
    def levels(self) -> int:
        """Levels moved: positive forward, negative backward.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.depth import DepthMovement
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> DepthMovement(t, t, "basic", "collaborative").levels
            1
        """
        return self.dest.rank - self.source.rank

    @property
    def direction(self) -> MovementDirection:
        """FORWARD when the relationship got deeper, BACKWARD otherwise.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.depth import DepthMovement
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> DepthMovement(t, t, "basic", "collaborative").direction
            <MovementDirection.FORWARD: 'forward'>
        """
        return MovementDirection.FORWARD if self.levels > 0 else MovementDirection.BACKWARD


_SIDES = ("agreed", "vendor", "customer")


def _check_side(side: object) -> str:
    if side not in _SIDES:
        raise InvalidValue("side", side, "'agreed', 'vendor' or 'customer'")
    return str(side)


def check_integrated_opt_in(
    depth: Depth | str,
    *,
    allow_integrated: bool = False,
    evidence: DepthEvidence | Iterable[DepthEvidence] | None = None,
) -> Depth:
    """Refuse INTEGRATED unless it was asked for, as `assess` does.

    INTEGRATED is rare and risky for the vendor, so it takes the same explicit opt-in
    everywhere: ``allow_integrated=True``. When evidence is given as well, it must meet
    every INTEGRATED requirement. Any other depth passes unchanged. `record_depth` calls
    this before it writes anything; call it too in code that stores depths another way.

    Args:
        depth: The depth (or its name) about to be recorded.
        allow_integrated: The opt-in.
        evidence: The evidence behind the depth, if any (one side's, or several).

    Returns:
        The depth.

    Raises:
        InvalidValue: ``depth`` is INTEGRATED without the opt-in, or its evidence misses
            an INTEGRATED requirement; or an argument has the wrong type.

    Examples:
        >>> from stars.depth import check_integrated_opt_in
        >>> check_integrated_opt_in("interconnected")
        <Depth.INTERCONNECTED: 'interconnected'>
        >>> check_integrated_opt_in("integrated")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: allow_integrated: got False, expected True to record ...
        >>> check_integrated_opt_in("integrated", allow_integrated=True)
        <Depth.INTEGRATED: 'integrated'>
    """
    level = _to_depth("depth", depth)
    v.flag("allow_integrated", allow_integrated)
    if evidence is None:
        sides: tuple[DepthEvidence, ...] = ()
    elif isinstance(evidence, DepthEvidence):
        sides = (evidence,)
    else:
        sides = _as_items(evidence)
        if not isinstance(sides, tuple) or not all(isinstance(e, DepthEvidence) for e in sides):
            raise InvalidValue("evidence", evidence, "a DepthEvidence or several")
    if level is not Depth.INTEGRATED:
        return level
    if not allow_integrated:
        raise InvalidValue(
            "allow_integrated",
            allow_integrated,
            "True to record 'integrated', which is opt-in as in assess",
            "integrated is rare and ties the vendor to one customer; pass"
            " allow_integrated=True only when that is intended",
        )
    for e in sides:
        # The INTEGRATED requirements use no policy threshold, so the default policy serves.
        results = _evaluate(e, _DEFAULT_POLICY)
        short = [name for name, d, *_ in _RULES if d is Depth.INTEGRATED and not results[name]]
        if short:
            raise InvalidValue(
                "depth",
                level.value,
                "a depth the evidence supports; it misses the integrated requirement(s) "
                + ", ".join(short),
            )
    return level


def record_depth(
    account: Account,
    assessment_or_depth: DepthAssessment | TwoSidedDepth | Depth | str,
    at: datetime,
    side: str = "agreed",
    *,
    allow_integrated: bool = False,
    expected_version: int | None = None,
) -> DepthPoint:
    """Append a depth observation to an account's depth history.

    The account's version goes up by one. Observations must be in time order (compared
    as instants); nothing changes when the call raises. The point is appended under the
    account's own lock, like every other write to it, so concurrent calls lose nothing.

    INTEGRATED is opt-in here as in `assess`: recording it takes
    ``allow_integrated=True``, and an assessment's evidence must meet the INTEGRATED
    requirements (see `check_integrated_opt_in`).

    Args:
        account: The account.
        assessment_or_depth: A depth (or its name), an assessment, or a two-sided view
            (``side`` then picks the vendor's, the customer's, or the agreed depth).
        at: When the depth was observed (timezone-aware, not before the last observation).
        side: Whose view it is: ``"agreed"``, ``"vendor"`` or ``"customer"``.
        allow_integrated: The opt-in needed to record INTEGRATED.
        expected_version: Refuse with `ConcurrentModification` unless the account is at
            this version.

    Returns:
        The recorded point.

    Raises:
        InvalidValue: A bad account, depth, time or side; INTEGRATED without
            ``allow_integrated=True`` or without the evidence for it.
        OutOfOrder: ``at`` is earlier than the latest observation.
        ConcurrentModification: ``expected_version`` does not match.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.account import Account
        >>> from stars.depth import record_depth
        >>> acct = Account("acme")
        >>> record_depth(acct, "basic", datetime(2025, 1, 1, tzinfo=timezone.utc)).depth
        'basic'
        >>> acct.version
        1
    """
    _need_account(account)
    side = _check_side(side)
    v.aware("at", at)
    evidence: tuple[DepthEvidence, ...] = ()
    if isinstance(assessment_or_depth, TwoSidedDepth):
        two = assessment_or_depth
        depth = {"agreed": two.agreed, "vendor": two.vendor.depth, "customer": two.customer.depth}[
            side
        ]
        evidence = {
            "agreed": (two.vendor.evidence, two.customer.evidence),
            "vendor": (two.vendor.evidence,),
            "customer": (two.customer.evidence,),
        }[side]
    elif isinstance(assessment_or_depth, DepthAssessment):
        depth = assessment_or_depth.depth
        evidence = (assessment_or_depth.evidence,)
    else:
        depth = _to_depth("assessment_or_depth", assessment_or_depth)
    check_integrated_opt_in(depth, allow_integrated=allow_integrated, evidence=evidence)
    read = v.expected_version(expected_version)
    point = DepthPoint(at, depth.value, side)
    commit(account, account.id, read, lambda: account._append_depth(point))
    return point


def _points(account: Account, side: str) -> list[tuple[DepthPoint, Depth]]:
    out: list[tuple[DepthPoint, Depth]] = []
    for i, point in enumerate(account.depths):
        if point.side == side:
            out.append((point, _to_depth(f"depths[{i}].depth", point.depth)))
    return out


def depth_movements(account: Account, side: str = "agreed") -> tuple[DepthMovement, ...]:
    """List the forward and backward moves in one side's depth history.

    Consecutive observations at the same depth are not moves.

    Args:
        account: The account.
        side: Whose view: ``"agreed"``, ``"vendor"`` or ``"customer"``.

    Returns:
        The moves, oldest first.

    Raises:
        InvalidValue: A bad account or side, or a recorded depth that is not a depth's name.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.account import Account
        >>> from stars.depth import depth_movements, record_depth
        >>> acct = Account("acme")
        >>> for month, depth in [(1, "basic"), (4, "collaborative"), (7, "collaborative"),
        ...                      (12, "basic")]:
        ...     _ = record_depth(acct, depth, datetime(2025, month, 1, tzinfo=timezone.utc))
        >>> [(m.dest.value, m.direction.value) for m in depth_movements(acct)]
        [('collaborative', 'forward'), ('basic', 'backward')]
    """
    _need_account(account)
    side = _check_side(side)
    points = _points(account, side)
    moves: list[DepthMovement] = []
    for (prev, prev_depth), (point, depth) in itertools.pairwise(points):
        if depth is not prev_depth:
            moves.append(DepthMovement(point.at, prev.at, prev_depth, depth, side))
    return tuple(moves)


def depth_since(account: Account, side: str = "agreed") -> tuple[Depth, datetime] | None:
    """The current depth of one side and when the account reached it.

    Use the time with `dwell_advice` when the current depth is COLLABORATIVE.

    Args:
        account: The account.
        side: Whose view: ``"agreed"``, ``"vendor"`` or ``"customer"``.

    Returns:
        ``(depth, since)``, or ``None`` when that side has no observation.

    Raises:
        InvalidValue: A bad account or side, or a recorded depth that is not a depth's name.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.account import Account
        >>> from stars.depth import depth_since, record_depth
        >>> acct = Account("acme")
        >>> for month, depth in [(1, "basic"), (4, "collaborative"), (7, "collaborative")]:
        ...     _ = record_depth(acct, depth, datetime(2025, month, 1, tzinfo=timezone.utc))
        >>> depth, since = depth_since(acct)
        >>> depth.value, since.month
        ('collaborative', 4)
        >>> print(depth_since(acct, side="customer"))
        None
    """
    _need_account(account)
    side = _check_side(side)
    points = _points(account, side)
    if not points:
        return None
    current = points[-1][1]
    since = points[-1][0].at
    for point, depth in reversed(points):
        if depth is not current:
            break
        since = point.at
    return current, since
