"""The vendor's and the customer's view of one relationship (`TwoSidedDepth`)."""

from __future__ import annotations

import attrs

from stars._html import table
from stars.depth._assessment import DepthAssessment, _check_assessment, assess
from stars.depth._depth import Depth
from stars.depth._evidence import _CRITERIA, DepthEvidence, Disagreement, _differ, _shown
from stars.depth._gap import DepthGapAdvice, gap_advice
from stars.depth._requirements import _RULE_NAMES, _RULES


def _to_assessment(value: DepthAssessment | DepthEvidence) -> DepthAssessment:
    if isinstance(value, DepthEvidence):
        return assess(value)
    return value


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
