"""What one side can show (`DepthEvidence`), and where two sides' evidence differs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from stars.depth._common import Criterion, _check_flag, _count, _member, _member_or_keep, _whole
from stars.depth._enums import ContactPattern
from stars.errors import InvalidValue, UnknownName


def _to_contact(value: ContactPattern | str) -> ContactPattern:
    return _member_or_keep(ContactPattern, value)  # type: ignore[no-any-return]


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


def _check_criterion(instance: Any, attribute: Any, value: Any) -> None:
    if value not in _CRITERIA:
        raise UnknownName("depth criterion", value, _CRITERIA)


def _check_criteria(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple):
        raise InvalidValue(attribute.name, value, "a sequence of criterion names")
    for item in value:
        _check_criterion(instance, attribute, item)


# --------------------------------------------------------------------------- disagreements


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


def _shown(value: Criterion) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _differ(d: Disagreement) -> str:
    return f"vendor {_shown(d.vendor)}, customer {_shown(d.customer)}"
