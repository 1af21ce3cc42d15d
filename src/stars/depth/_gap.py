"""What to do when the two sides see different depths (`gap_advice`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from stars.depth._common import _as_items, _as_tuple, _check_reasons, _member
from stars.depth._depth import Depth, _as_depth, _to_depth
from stars.depth._evidence import Disagreement, _differ
from stars.depth._requirements import _check_names
from stars.errors import InvalidValue

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


def _check_side_name(instance: Any, attribute: Any, value: Any) -> None:
    if value not in ("vendor", "customer"):
        raise InvalidValue(attribute.name, value, "'vendor' or 'customer'")


def _check_disagreements(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple) or not all(isinstance(x, Disagreement) for x in value):
        raise InvalidValue(attribute.name, value, "a tuple of Disagreement")


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
