"""Advance, step back or stay: advice for an account at COLLABORATIVE (`dwell_advice`)."""

from __future__ import annotations

from datetime import datetime

import attrs

from stars import _validate as v
from stars._shown import short_of
from stars.depth._assessment import DepthAssessment, _check_assessment, assess
from stars.depth._common import (
    _as_tuple,
    _check_reasons,
    _count,
    _member,
    _member_or_keep,
    _non_negative,
    _whole,
)
from stars.depth._depth import Depth
from stars.depth._enums import DwellAction
from stars.depth._evidence import DepthEvidence
from stars.depth._policy import _DEFAULT_POLICY, DepthPolicy, _check_policy
from stars.depth._requirements import _RULES, _check_names, _evaluate
from stars.errors import InvalidValue


def _as_action(value: DwellAction | str) -> DwellAction:
    return _member_or_keep(DwellAction, value)  # type: ignore[no-any-return]


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
