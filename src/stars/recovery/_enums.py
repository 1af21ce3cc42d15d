"""The closed vocabularies of recovery: phases, signal kinds, severities, steps, decisions."""

from __future__ import annotations

import enum
from typing import Any, Final

from stars._ordered import OrderedStrEnum
from stars.bands import Band
from stars.recovery._common import _coerce


class RelationshipPhase(OrderedStrEnum):
    """Where in the relationship a risk tends to arise: early, mid or late.

    Examples:
        >>> from stars.recovery import RelationshipPhase
        >>> RelationshipPhase.EARLY < RelationshipPhase.LATE
        True
    """

    EARLY = "early"
    MID = "mid"
    LATE = "late"


class SignalKind(enum.StrEnum):
    """The three kinds of early-warning input.

    DATA is what systems record (usage, last contact, tickets); FEEDBACK is what the
    customer tells you (CSAT, NPS, how often you meet); MONITORING is the account team's
    qualitative read (sentiment, a champion leaving, concerns voiced).

    Examples:
        >>> from stars.recovery import SignalKind
        >>> SignalKind("feedback") is SignalKind.FEEDBACK
        True
    """

    DATA = "data"
    FEEDBACK = "feedback"
    MONITORING = "monitoring"


class Severity(OrderedStrEnum):
    """How serious a finding is; ordered LOW < MEDIUM < HIGH < CRITICAL.

    Examples:
        >>> from stars.recovery import Severity
        >>> max([Severity.MEDIUM, Severity.CRITICAL, Severity.LOW]).value
        'critical'
    """

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class StakeholderLevel(OrderedStrEnum):
    """A level of the customer's organisation, from hands-on analyst to economic buyer.

    Examples:
        >>> from stars.recovery import StakeholderLevel
        >>> StakeholderLevel.ANALYST < StakeholderLevel.ECONOMIC_BUYER
        True
    """

    ANALYST = "analyst"
    MANAGER = "manager"
    DIRECTOR = "director"
    EXECUTIVE = "executive"
    ECONOMIC_BUYER = "economic_buyer"


class RecoveryStep(enum.StrEnum):
    """The steps of a recovery plan, plus its three endings.

    Examples:
        >>> from stars.recovery import RecoveryStep
        >>> [s.value for s in RecoveryStep][:5]
        ['detection', 'analysis', 'execution', 'monitoring', 'prevention']
        >>> RecoveryStep.CLOSED.is_final, RecoveryStep.MONITORING.is_final
        (True, False)
    """

    DETECTION = "detection"
    ANALYSIS = "analysis"
    EXECUTION = "execution"
    MONITORING = "monitoring"
    PREVENTION = "prevention"
    CLOSED = "closed"
    LOST = "lost"
    RELEASED = "released"

    @property
    def is_final(self) -> bool:
        """True for CLOSED, LOST and RELEASED: nothing can follow them.

        Examples:
            >>> from stars.recovery import RecoveryStep
            >>> RecoveryStep.RELEASED.is_final
            True
        """
        return self in _FINAL


_FINAL: Final = frozenset({RecoveryStep.CLOSED, RecoveryStep.LOST, RecoveryStep.RELEASED})
_OPEN_STEPS: Final = tuple(s for s in RecoveryStep if s not in _FINAL)


class TemplateKind(enum.StrEnum):
    """The three kinds of action plan, one per relationship phase.

    Examples:
        >>> from stars.recovery import TemplateKind
        >>> TemplateKind.VALUE_REINFORCEMENT.value
        'value_reinforcement'
    """

    ONBOARDING_EDUCATION = "onboarding_education"
    SUPPORT_ENGAGEMENT = "support_engagement"
    VALUE_REINFORCEMENT = "value_reinforcement"


class TriageDecision(enum.StrEnum):
    """Whether to put recovery effort into an account, or let it go.

    Examples:
        >>> from stars.recovery import TriageDecision
        >>> TriageDecision.RELEASE.value
        'release'
    """

    SAVE = "save"
    RELEASE = "release"


class TriageFactor(enum.StrEnum):
    """What decided a triage: the ICP fit, the expected value, or the effort.

    ``icp_fit``: how well the account matches the ideal customer profile.
    ``expected_value``: what keeping the account should bring, weighed against the cost to
    serve it. ``effort``: a middling fit that is not worth a high effort.

    Examples:
        >>> from stars.recovery import TriageFactor
        >>> [f.value for f in TriageFactor]
        ['icp_fit', 'expected_value', 'effort']
    """

    ICP_FIT = "icp_fit"
    EXPECTED_VALUE = "expected_value"
    EFFORT = "effort"


class Effort(OrderedStrEnum):
    """Expected effort to bring an account back to green.

    Examples:
        >>> from stars.recovery import Effort
        >>> Effort.HIGH > Effort.LOW
        True
    """

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


def _c_phase(value: Any) -> Any:
    return _coerce(RelationshipPhase, value)


def _c_kind(value: Any) -> Any:
    return _coerce(SignalKind, value)


def _c_severity(value: Any) -> Any:
    return _coerce(Severity, value)


def _c_level(value: Any) -> Any:
    return _coerce(StakeholderLevel, value)


def _c_band(value: Any) -> Any:
    return _coerce(Band, value)


def _c_step(value: Any) -> Any:
    return _coerce(RecoveryStep, value)


def _c_template(value: Any) -> Any:
    return _coerce(TemplateKind, value)


def _c_decision(value: Any) -> Any:
    return _coerce(TriageDecision, value)


def _c_effort(value: Any) -> Any:
    return _coerce(Effort, value)


def _c_factor(value: Any) -> Any:
    return _coerce(TriageFactor, value)


_E, _M, _L = RelationshipPhase.EARLY, RelationshipPhase.MID, RelationshipPhase.LATE
