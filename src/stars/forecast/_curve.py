"""One fitted map from health to the probability that a renewal goes badly (`RiskCurve`)."""

from __future__ import annotations

from collections.abc import Iterable

import attrs


def _floats(values: Iterable[float]) -> tuple[float, ...]:
    return tuple(float(x) for x in values)


@attrs.frozen(slots=True)
class RiskCurve:
    """One monotone map from health to the probability that a renewal goes badly.

    Between two knots the probability is interpolated linearly; below the first and above
    the last it stays flat. It never rises with health.

    Attributes:
        group: The group it was fitted on (``None``: every group).
        horizon: The index of its time-to-renewal bucket (``None``: every horizon).
        health: The knots: the mean health of each fitted block, increasing.
        probability: The probability at each knot, not increasing.
        rows: Training rows behind it.
        positives: Of those, renewals that went badly.

    Examples:
        >>> from stars.forecast import RiskCurve
        >>> curve = RiskCurve(None, None, (20.0, 80.0), (0.3, 0.1), 100, 20)
        >>> curve.at(50), curve.at(0), curve.rate
        (0.2, 0.3, 0.2)
    """

    group: str | None
    horizon: int | None
    health: tuple[float, ...] = attrs.field(converter=_floats)
    probability: tuple[float, ...] = attrs.field(converter=_floats)
    rows: int
    positives: int

    @property
    def rate(self) -> float:
        """The training rate behind the curve (used for rows without a health score)."""
        return self.positives / self.rows if self.rows else 0.0

    def at(self, health: float) -> float:
        """The probability at one health score (0-100)."""
        knots, probs = self.health, self.probability
        if health <= knots[0]:
            return probs[0]
        if health >= knots[-1]:
            return probs[-1]
        hi = next(i for i, k in enumerate(knots) if k >= health)
        lo = hi - 1
        share = (health - knots[lo]) / (knots[hi] - knots[lo])
        return probs[lo] + share * (probs[hi] - probs[lo])
