"""The five depths in their order, reading a depth from its name, and the guidance at each.

`Depth.guidance` reads the guidance table, and the table is keyed by `Depth`, so the two
live in one module.
"""

from __future__ import annotations

import types
from collections.abc import Mapping

import attrs

from stars._ordered import OrderedStrEnum
from stars.depth._common import (
    _as_tuple,
    _check_flag,
    _check_reasons,
    _member,
    _member_or_keep,
    _one_of,
)
from stars.errors import InvalidValue, UnknownName


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


def _as_depth(value: Depth | str) -> Depth:
    return _member_or_keep(Depth, value)  # type: ignore[no-any-return]


def _to_depth(field: str, value: object) -> Depth:
    if isinstance(value, Depth):
        return value
    if isinstance(value, str):
        try:
            return Depth(value)
        except ValueError:
            pass
    raise InvalidValue(field, value, _one_of(Depth))


def _depth_name(value: object) -> Depth:
    if isinstance(value, Depth):
        return value
    if isinstance(value, str):
        try:
            return Depth(value)
        except ValueError:
            pass
    raise UnknownName("depth", value, [d.value for d in Depth])


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
