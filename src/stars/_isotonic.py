"""Pool-adjacent-violators: the monotone least-squares fit, written out (private).

Used by `stars.forecast` (health to renewal probability) and by the rule fitting in
`stars.backtesting` (a measure's value to its points). Both first collapse their rows into
a few hundred or thousand ordered cells (``numpy.bincount`` over a grid), so the loop here
runs over cells, never over rows, and the library needs no scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence


def pav(values: Sequence[float], weights: Sequence[float], *, increasing: bool) -> list[float]:
    """The weighted isotonic fit of ``values`` in their given order.

    Adjacent cells that break the order are pooled into one block holding their weighted
    mean, until no pair breaks it.

    Args:
        values: One value per ordered cell.
        weights: One positive weight per cell.
        increasing: Fit a non-decreasing sequence (else non-increasing).

    Returns:
        The fitted value of each cell.

    Examples:
        >>> from stars._isotonic import pav
        >>> pav([1, 3, 2, 4], [1, 1, 1, 1], increasing=True)
        [1.0, 2.5, 2.5, 4.0]
        >>> pav([0.1, 0.3, 0.2], [2, 1, 1], increasing=False)
        [0.175, 0.175, 0.175]
    """
    sign = 1.0 if increasing else -1.0
    means: list[float] = []
    sizes: list[float] = []
    counts: list[int] = []
    for x, w in zip(values, weights, strict=True):
        mean, size, count = sign * float(x), float(w), 1
        while means and means[-1] >= mean:
            before, weight = means.pop(), sizes.pop()
            count += counts.pop()
            mean = (before * weight + mean * size) / (weight + size)
            size += weight
        means.append(mean)
        sizes.append(size)
        counts.append(count)
    out: list[float] = []
    for mean, count in zip(means, counts, strict=True):
        out.extend([sign * mean] * count)
    return out
