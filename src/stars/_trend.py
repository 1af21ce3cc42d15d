"""Least-squares slope of a time series, per 30 days (private; see `stars.health`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

_DAY = 86400.0


def slope_per_30_days(points: Sequence[tuple[datetime, float]]) -> float | None:
    """Ordinary least-squares slope of ``(time, value)`` points, in value units per 30 days.

    Returns ``None`` when there are fewer than two points or all points share one time.
    """
    n = len(points)
    if n < 2:
        return None
    t0 = points[0][0]
    xs = [(t - t0).total_seconds() / (30 * _DAY) for t, _ in points]
    ys = [v for _, v in points]
    mx = sum(xs) / n
    my = sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return sxy / sxx
