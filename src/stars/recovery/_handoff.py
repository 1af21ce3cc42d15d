"""The sales-to-success handoff checklist and its audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import attrs

from stars import _validate as v
from stars._html import table
from stars.errors import InvalidValue
from stars.recovery._common import _any_text, _as_tuple, _each, _each_text, _optional_aware
from stars.recovery._parts import Stakeholder


@attrs.frozen(slots=True)
class HandoffChecklist:
    """What must pass from sales to success so the customer never repeats themselves.

    Fill what is known; `audit_handoff` reports what is missing.

    Attributes:
        goals: The customer's business goals.
        technical_objectives: What the customer needs technically.
        purchased: What was bought.
        success_metrics: How the customer will judge success.
        stakeholders: Who is who on the customer side.
        target_date: When the first outcome is due (the plan is time-bound).
        customer_committed: The customer confirmed they are bought in and will put people on it.
        communication_cadence: How and how often the teams will talk.
        promises: What sales promised beyond the contract (may be empty).

    Examples:
        >>> from stars.recovery import HandoffChecklist
        >>> HandoffChecklist(goals=["cut onboarding time"]).goals
        ('cut onboarding time',)
    """

    goals: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple, validator=_each_text)
    technical_objectives: tuple[str, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_each_text
    )
    purchased: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple, validator=_each_text)
    success_metrics: tuple[str, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_each_text
    )
    stakeholders: tuple[Stakeholder, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_each(Stakeholder)
    )
    target_date: datetime | None = attrs.field(default=None, validator=_optional_aware)
    customer_committed: bool = attrs.field(default=False)
    communication_cadence: str = attrs.field(default="", validator=_any_text)
    promises: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple, validator=_each_text)

    @customer_committed.validator
    def _check_committed(self, attribute: Any, value: Any) -> None:
        v.flag("customer_committed", value)


_HANDOFF_QUESTIONS: Final = {
    "goals": "What business goals is the customer pursuing?",
    "technical_objectives": "What must work technically for them?",
    "purchased": "What exactly did they buy?",
    "success_metrics": "How will they measure success?",
    "stakeholders": "Who are the people involved, at more than one level?",
    "target_date": "By when should the first outcome land?",
    "customer_committed": "Has the customer confirmed they are committed?",
    "communication_cadence": "How often, and how, will the teams talk?",
}


@attrs.frozen(slots=True)
class HandoffAudit:
    """What a handoff record left out.

    Attributes:
        missing: The checklist fields that are empty (or too thin).
        questions: The question to ask for each missing field, in the same order.

    Examples:
        >>> from stars.recovery import HandoffChecklist, audit_handoff
        >>> audit_handoff(HandoffChecklist()).complete
        False
    """

    missing: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_each_text)
    questions: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_each_text)

    @property
    def complete(self) -> bool:
        """True when nothing is missing.

        Examples:
            >>> from stars.recovery import HandoffAudit
            >>> HandoffAudit((), ()).complete
            True
        """
        return not self.missing

    @property
    def score(self) -> float:
        """The share of checklist items present, 0 to 1.

        Examples:
            >>> from stars.recovery import HandoffAudit
            >>> HandoffAudit(("goals", "purchased"), ("?", "?")).score
            0.75
        """
        return 1 - len(self.missing) / len(_HANDOFF_QUESTIONS)

    def _repr_html_(self) -> str:
        rows = [(m, q) for m, q in zip(self.missing, self.questions, strict=True)]
        caption = f"Handoff audit: {self.score:.0%} complete"
        return table(("missing", "ask"), rows, caption=caption)


def audit_handoff(record: HandoffChecklist) -> HandoffAudit:
    """Check a handoff record and list what is missing.

    Stakeholders count as present only when they span at least two levels of the
    customer, since one contact cannot carry the relationship.

    Args:
        record: The filled checklist.

    Returns:
        The audit.

    Examples:
        >>> from stars.recovery import HandoffChecklist, Stakeholder, audit_handoff
        >>> record = HandoffChecklist(goals=["faster month-end close"], purchased=["core"],
        ...                           stakeholders=[Stakeholder("Ana", "analyst")])
        >>> audit = audit_handoff(record)
        >>> audit.missing[:3], len(audit.missing)
        (('technical_objectives', 'success_metrics', 'stakeholders'), 6)
    """
    if not isinstance(record, HandoffChecklist):
        raise InvalidValue("record", record, "a HandoffChecklist")
    present = {
        "goals": bool(record.goals),
        "technical_objectives": bool(record.technical_objectives),
        "purchased": bool(record.purchased),
        "success_metrics": bool(record.success_metrics),
        "stakeholders": len({s.level for s in record.stakeholders}) >= 2,
        "target_date": record.target_date is not None,
        "customer_committed": record.customer_committed,
        "communication_cadence": bool(record.communication_cadence.strip()),
    }
    missing = tuple(name for name in _HANDOFF_QUESTIONS if not present[name])
    return HandoffAudit(missing, tuple(_HANDOFF_QUESTIONS[m] for m in missing))
