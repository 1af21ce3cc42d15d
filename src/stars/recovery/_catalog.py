"""The catalog of risk sources, where each signal points by phase, and the leading indicators."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import attrs

from stars.depth import BreakdownCause
from stars.errors import UnknownName
from stars.recovery._common import _as_tuple, _each_text, _member, _text
from stars.recovery._enums import _E, _L, _M, RelationshipPhase, _c_phase


@attrs.frozen(slots=True)
class RiskSource:
    """One common source of friction, the phase where it tends to appear, and its signals.

    Attributes:
        id: A stable snake_case name; root causes refer to it.
        phase: Where in the relationship it usually arises.
        title: A short label.
        description: What goes wrong, in a sentence or two.
        signals: The signal names that reveal it (snapshot fields or ``metrics`` keys).
        response: A first action that usually helps.
        breakdown: The broader `BreakdownCause` it belongs to, if any.

    Examples:
        >>> from stars.recovery import RISK_SOURCES
        >>> src = RISK_SOURCES["support_strain"]
        >>> src.phase.value, src.signals
        ('mid', ('open_tickets', 'response_hours'))
    """

    id: str = attrs.field(validator=_text)
    phase: RelationshipPhase = attrs.field(converter=_c_phase, validator=_member(RelationshipPhase))
    title: str = attrs.field(validator=_text)
    description: str = attrs.field(validator=_text)
    signals: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_each_text)
    response: str = attrs.field(validator=_text)
    breakdown: BreakdownCause | None = None


def _src(
    id: str,
    phase: RelationshipPhase,
    title: str,
    description: str,
    response: str,
    breakdown: BreakdownCause | None = None,
) -> RiskSource:
    signals = tuple(sig for sig, by_phase in _SIGNAL_SOURCES.items() if id in by_phase.values())
    return RiskSource(id, phase, title, description, signals, response, breakdown)


def _every(source: str) -> dict[RelationshipPhase, str]:
    return {_E: source, _M: source, _L: source}


# Which source a tripped signal points to, by the account's phase.
_SIGNAL_SOURCES: Final[dict[str, dict[RelationshipPhase, str]]] = {
    "adoption": {_E: "onboarding_misaligned", _M: "training_gap", _L: "value_doubt"},
    "training_completion": {_E: "onboarding_misaligned", _M: "training_gap", _L: "training_gap"},
    "days_since_contact": {
        _E: "presale_handoff",
        _M: "relationship_change",
        _L: "relationship_change",
    },
    "handoff_gaps": _every("presale_handoff"),
    "owner_changed": {_E: "sales_handoff", _M: "relationship_change", _L: "relationship_change"},
    "champion_engaged": _every("relationship_change"),
    "meetings_last_30d": {
        _E: "onboarding_misaligned",
        _M: "relationship_change",
        _L: "relationship_change",
    },
    "open_tickets": _every("support_strain"),
    "response_hours": _every("support_strain"),
    "csat": {_E: "onboarding_misaligned", _M: "missed_expectations", _L: "value_doubt"},
    "nps": {_E: "onboarding_misaligned", _M: "missed_expectations", _L: "value_doubt"},
    "nps_change": {_E: "onboarding_misaligned", _M: "missed_expectations", _L: "value_doubt"},
    "sentiment": {_E: "onboarding_misaligned", _M: "missed_expectations", _L: "value_doubt"},
    "roi_concern": _every("value_doubt"),
    "poc_rerun_requested": _every("poc_rerun"),
    "competitor_active": _every("competitive_threat"),
}

_BC = BreakdownCause
RISK_SOURCES: Mapping[str, RiskSource] = {
    s.id: s
    for s in (
        _src(
            "onboarding_misaligned",
            _E,
            "Onboarding pace or expectations out of line",
            "Onboarding moves slower than the customer hoped, or toward goals the customer "
            "never signed up to; often there is no dated plan tied to business and technical "
            "objectives, and no agreed rhythm of meetings.",
            "Restart onboarding with a dated plan tied to the customer's own objectives.",
            _BC.MISMANAGED_EXPECTATIONS,
        ),
        _src(
            "presale_handoff",
            _E,
            "Gaps in the move from pre-sale to post-sale",
            "What the customer told sales does not reach the team that delivers, so the "
            "customer has to explain goals and purchases again and contact goes quiet.",
            "Fill the handoff record and confirm it with the customer in one session.",
            _BC.UNDER_MANAGEMENT,
        ),
        _src(
            "sales_handoff",
            _E,
            "Account executive to account manager handoff",
            "The rep who closed the deal hands over to the rep who grows it, and promises "
            "or context get dropped on the way.",
            "Hold a joint call with the outgoing and incoming rep and the customer lead.",
            _BC.KEY_PERSONNEL_CHANGE,
        ),
        _src(
            "relationship_change",
            _M,
            "Account manager change or champion leaving",
            "The person who held the relationship on either side moves on and nobody else "
            "has a working bond with the customer, so contact and meetings thin out.",
            "Build a second thread: introduce a lasting technical or support contact.",
            _BC.KEY_PERSONNEL_CHANGE,
        ),
        _src(
            "support_strain",
            _M,
            "Support volume, slow answers or unfinished fixes",
            "Tickets pile up, answers take too long, or issues are closed without really "
            "being solved, and patience wears thin.",
            "Review every open ticket with the support lead and agree a date for each fix.",
            _BC.UNDER_MANAGEMENT,
        ),
        _src(
            "training_gap",
            _M,
            "Too little training",
            "People on the customer side never learned to use the product well, so usage "
            "stays shallow after onboarding.",
            "Run role-based training for the people who use the product every day.",
            _BC.UNDER_MANAGEMENT,
        ),
        _src(
            "missed_expectations",
            _M,
            "Expectations missed",
            "Results fall short of what the customer expected; mostly a matter of "
            "communication and of keeping the relationship alive.",
            "Restate the expected outcomes with the customer and agree how to measure them.",
            _BC.MISMANAGED_EXPECTATIONS,
        ),
        _src(
            "value_doubt",
            _L,
            "Doubts about ROI or value",
            "The customer questions whether the product pays back what it costs; a sign "
            "that earlier warnings went unnoticed and the account has to be sold again.",
            "Prepare a value review with the numbers achieved against the goals bought for.",
            _BC.MISMANAGED_EXPECTATIONS,
        ),
        _src(
            "poc_rerun",
            _L,
            "Asking to rerun a proof of concept",
            "The customer wants to prove the product again, as if the original purchase "
            "decision no longer held: earlier warnings went unnoticed, and the account has "
            "to be sold again.",
            "Agree success criteria for the rerun and put an executive sponsor on it.",
            _BC.STRATEGY_CHANGE,
        ),
        _src(
            "competitive_threat",
            _L,
            "Competitive threat",
            "A competitor is being evaluated or mentioned, and the renewal is in play: "
            "earlier warnings went unnoticed, and the account has to be sold again.",
            "Map where the competitor claims an edge and answer each point with evidence.",
            _BC.MARKET_CONDITIONS,
        ),
    )
}
"""The built-in risk sources, by id (ten: three early, four mid, three late)."""


def _risk_source(name: object) -> RiskSource:
    try:
        return RISK_SOURCES[name]  # type: ignore[index]
    except (KeyError, TypeError):
        raise UnknownName("risk source", name, list(RISK_SOURCES)) from None


_ROOT_CAUSES: Final = frozenset(RISK_SOURCES) | frozenset(c.value for c in BreakdownCause)


def _root_cause(value: object) -> str:
    if isinstance(value, BreakdownCause):
        return value.value
    if isinstance(value, RiskSource):
        value = value.id
    if not isinstance(value, str) or value not in _ROOT_CAUSES:
        raise UnknownName("root cause", value, sorted(_ROOT_CAUSES))
    return value


LEADING_INDICATORS: Mapping[str, str] = {
    "activation": "The customer reached the first milestone that shows the product works for them.",
    "adoption": "The share of what was bought that is in regular use.",
    "value_realized": "Outcomes the customer measured against the goals they bought for.",
    "engagement_cadence": "Meetings and touchpoints held as agreed, at several levels.",
    "education": "People trained, and courses or community sessions attended.",
}
"""Suggested leading indicators of retention; plans may also name their own."""
