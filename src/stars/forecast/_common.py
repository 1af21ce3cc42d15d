"""What the forecast modules share: NumPy on demand, figures as text, frame columns, intervals."""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Final

from stars import _tables
from stars import _validate as v
from stars._outcomes import outcome_values
from stars.errors import InvalidValue, MissingDependency

if TYPE_CHECKING:
    import narwhals.stable.v1 as nw
    from numpy.typing import NDArray


#: Probabilities are kept this far from 0 and 1 in the log loss.
_EPS: Final = 1e-12


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:  # pragma: no cover - numpy comes with every DataFrame library here
        raise MissingDependency("numpy", "frames") from None
    return numpy


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"


def _money(x: float) -> str:
    return f"{x:,.0f}"


# -- reading frames ---------------------------------------------------------------------


def _eager(frame: object) -> tuple[nw.DataFrame[Any], bool]:
    _tables.require_narwhals()
    return _tables.eager(frame)


class _Columns:
    """The arrays a fit or an application needs, checked (private)."""

    __slots__ = ("days", "groups", "health", "lost", "revenue", "y")

    def __init__(
        self,
        np: Any,
        df: nw.DataFrame[Any],
        health: str,
        days: str | None,
        by: str | None,
        revenue: str | None,
        lost: str | None,
        outcome: str | None,
    ) -> None:
        for field, column in (
            ("health", health),
            ("days", days),
            ("by", by),
            ("revenue", revenue),
            ("lost", lost),
            ("outcome", outcome),
        ):
            if column is None:
                continue
            v.text(field, column)
            if column not in df.columns:
                raise InvalidValue(field, column, f"a column of the frame ({len(df.columns)})")
        self.health = _numbers(np, df, health, 0, 100, missing=True)
        self.days = _numbers(np, df, days, 0, math.inf, missing=True) if days else None
        self.revenue = _numbers(np, df, revenue, 0, math.inf) if revenue else None
        self.lost = _numbers(np, df, lost, 0, math.inf) if lost else None
        self.groups: tuple[list[str], NDArray[Any]] = ([], np.full(len(df), -1))
        if by is not None:
            import narwhals.stable.v1 as nw

            text = df.get_column(by).cast(nw.String())
            missing = text.is_null().to_numpy()
            labels, codes = np.unique(
                text.fill_null("").to_numpy().astype(str), return_inverse=True
            )
            self.groups = (labels.tolist(), np.where(missing, -1, codes.reshape(-1)))
        self.y = None
        if outcome is not None:
            self.y = outcome_values(df, outcome).astype(np.float64)


def _numbers(
    np: Any, df: nw.DataFrame[Any], column: str, lo: float, hi: float, *, missing: bool = False
) -> NDArray[Any]:
    series = df.get_column(column)
    if not series.dtype.is_numeric():
        raise InvalidValue(column, str(series.dtype), "a numeric column")
    x = series.cast(_float64()).to_numpy().astype(np.float64)
    bad = ~np.isnan(x) & ~((x >= lo) & (x <= hi))
    if not missing:
        bad |= np.isnan(x)
    if bad.any():
        at = np.flatnonzero(bad)
        span = f"numbers from {lo:g} to {hi:g}" if math.isfinite(hi) else f"numbers from {lo:g}"
        raise InvalidValue(
            column,
            x[at[:5]].tolist(),
            span + ("" if missing else ", in every row"),
            hint=f"{at.size} bad rows; first at row positions {', '.join(map(str, at[:5]))}",
        )
    return x


def _float64() -> Any:
    import narwhals.stable.v1 as nw

    return nw.Float64()


def _level(level: object) -> float:
    value = v.number("level", level, 0, 1)
    if not 0 < value < 1:
        raise InvalidValue("level", level, "a level strictly between 0 and 1, such as 0.9")
    return value


def _interval(mean: float, var: float, p0: float, level: float) -> tuple[float, float]:
    """A gamma interval matched to the mean and variance (Wilson-Hilferty quantiles).

    The loss is never negative and is skewed; a gamma with the same mean and variance
    keeps both facts, and when no bad renewal at all is as likely as the lower tail, the
    lower end is 0.
    """
    if mean <= 0 or var <= 0:
        return 0.0, max(mean, 0.0)
    z = NormalDist().inv_cdf(1 - (1 - level) / 2)
    c = var / (9 * mean * mean)  # 1 / (9 * shape)

    def quantile(q: float) -> float:
        return mean * max(1 - c + q * math.sqrt(c), 0.0) ** 3

    low = 0.0 if p0 >= (1 - level) / 2 else quantile(-z)
    return low, quantile(z)
