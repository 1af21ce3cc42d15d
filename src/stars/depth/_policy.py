"""The thresholds depth is assessed with (`DepthPolicy`)."""

from __future__ import annotations

import attrs

from stars.depth._common import _count, _whole
from stars.errors import InvalidValue


@attrs.frozen(slots=True)
class DepthPolicy:
    """The thresholds used to assess depth and to judge time spent at COLLABORATIVE.

    Attributes:
        dwell_limit_days: How long an account may stay COLLABORATIVE before it should
            either advance or step back (default 365, about twelve months).
        collaborative_stakeholders: People engaged on each side for COLLABORATIVE.
        collaborative_functions: Functions (departments) engaged on each side for COLLABORATIVE.
        interconnected_functions: Functions engaged on each side for INTERCONNECTED;
            at least ``collaborative_functions``.
        min_ancillary_services: Services beyond the core purchase needed for COLLABORATIVE.

    Examples:
        >>> from stars.depth import DepthPolicy
        >>> DepthPolicy().dwell_limit_days
        365
        >>> DepthPolicy(collaborative_functions=3, interconnected_functions=2)
        ... # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: interconnected_functions: got 2, expected a whole number at ...
    """

    dwell_limit_days: int = attrs.field(default=365, converter=_whole, validator=_count(1))
    collaborative_stakeholders: int = attrs.field(default=3, converter=_whole, validator=_count(1))
    collaborative_functions: int = attrs.field(default=2, converter=_whole, validator=_count(1))
    interconnected_functions: int = attrs.field(default=4, converter=_whole, validator=_count(1))
    min_ancillary_services: int = attrs.field(default=1, converter=_whole, validator=_count(0))

    def __attrs_post_init__(self) -> None:
        if self.interconnected_functions < self.collaborative_functions:
            raise InvalidValue(
                "interconnected_functions",
                self.interconnected_functions,
                f"a whole number at or above {self.collaborative_functions}",
            )


_DEFAULT_POLICY = DepthPolicy()


def _check_policy(policy: object) -> DepthPolicy:
    if not isinstance(policy, DepthPolicy):
        raise InvalidValue("policy", policy, "a DepthPolicy")
    return policy
