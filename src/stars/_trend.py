"""Least-squares slope of a time series, per 30 days (private; see `stars.health`)."""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

_T = TypeVar("_T")

_DAY = 86400.0
_MONTH = 30 * _DAY


def slope_per_30_days(points: Sequence[tuple[datetime, float]]) -> float | None:
    """Ordinary least-squares slope of ``(time, value)`` points, in value units per 30 days.

    Returns ``None`` when there are fewer than two points or all points share one time.
    """
    return slope_of([t for t, _ in points], [v for _, v in points])


def slope_of(times: Sequence[datetime], values: Sequence[float]) -> float | None:
    """`slope_per_30_days` of the points ``zip(times, values)`` (the arithmetic is here).

    Every sum adds left to right (`added_in_order`) and every square is a product, so the
    batch forms (`stars.derive.derive_frame` in polars) can repeat the arithmetic term
    for term and get the same bits, on every Python version.
    """
    n = len(times)
    if n < 2:
        return None
    t0 = times[0]
    xs = [(t - t0).total_seconds() / _MONTH for t in times]
    if n == 3:  # the default trend window, written out: the same operations, in order
        x0, x1, x2 = xs
        y0, y1, y2 = values
        mx = (x0 + x1 + x2) / n
        my = (y0 + y1 + y2) / n
        d0, d1, d2 = x0 - mx, x1 - mx, x2 - mx
        sxx = d0 * d0 + d1 * d1 + d2 * d2
        if sxx == 0:
            return None
        return (d0 * (y0 - my) + d1 * (y1 - my) + d2 * (y2 - my)) / sxx
    mx = added_in_order(xs) / n
    my = added_in_order(values) / n
    dxs = [x - mx for x in xs]
    sxx = added_in_order([d * d for d in dxs])
    if sxx == 0:
        return None
    return added_in_order([d * (y - my) for d, y in zip(dxs, values, strict=True)]) / sxx


def added_in_order(items: Sequence[_T]) -> _T:
    """``items[0] + items[1] + ...``, added left to right (``items`` is not empty).

    Python's `sum` compensates the rounding of float additions from 3.12 on, so its
    result can differ in the last bit from adding in order, which polars does. Works for
    numbers and for polars expressions alike.

    Examples:
        >>> added_in_order([0.1, 0.2, 0.3])  # sum() gives 0.6 on Python 3.12 and later
        0.6000000000000001
    """
    return functools.reduce(operator.add, items)
