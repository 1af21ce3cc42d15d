"""Least-squares slope of a time series, per 30 days (private; see `stars.health`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

_DAY = 86400.0


def slope_per_30_days(points: Sequence[tuple[datetime, float]]) -> float | None:
    """Ordinary least-squares slope of ``(time, value)`` points, in value units per 30 days.

    Returns ``None`` when there are fewer than two points or all points share one time.
    """
    return slope_of([t for t, _ in points], [v for _, v in points])


def slope_of(times: Sequence[datetime], values: Sequence[float]) -> float | None:
    """`slope_per_30_days` of the points ``zip(times, values)`` (the arithmetic is here)."""
    n = len(times)
    if n < 2:
        return None
    t0 = times[0]
    month = 30 * _DAY
    xs = [(t - t0).total_seconds() / month for t in times]
    ys = values
    mx = sum(xs) / n
    my = sum(ys) / n
    sxx = sum([(x - mx) ** 2 for x in xs])
    if sxx == 0:
        return None
    sxy = sum([(x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)])
    return sxy / sxx
