"""Where one side's evidence places the relationship (`assess`, `DepthAssessment`)."""

from __future__ import annotations

from typing import Any

import attrs

from stars import _validate as v
from stars._html import table
from stars.depth._common import _as_tuple, _check_flag
from stars.depth._depth import _ORDER, GUIDANCE, Depth, DepthGuidance, _to_depth
from stars.depth._evidence import DepthEvidence
from stars.depth._policy import _DEFAULT_POLICY, DepthPolicy, _check_policy
from stars.depth._requirements import _RULES, _check_names, _evaluate
from stars.errors import InvalidValue


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


def _check_assessment(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, DepthAssessment):
        raise InvalidValue(attribute.name, value, "a DepthAssessment or DepthEvidence")
