"""Contact patterns, breakdown causes, dwell actions, movement directions, company maturity."""

from __future__ import annotations

import enum

from stars._ordered import OrderedStrEnum


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
