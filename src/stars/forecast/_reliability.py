"""How good probabilities are: Brier score, log loss, calibration error and a reliability table."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

from stars import _validate as v
from stars._html import framed, table
from stars._outcomes import wilson
from stars._texttable import text_table
from stars.errors import InvalidValue
from stars.forecast._common import _EPS, _numpy, _pct

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from numpy.typing import NDArray


@attrs.frozen(slots=True)
class ReliabilityBin:
    """One equal-count bin of forecasts: predicted against observed.

    Attributes:
        rows: Rows in the bin.
        predicted: Their mean predicted probability.
        observed: The share that went badly.
        low: Lower end of the 95% Wilson interval of ``observed``.
        high: Upper end of it.

    Examples:
        >>> from stars.forecast import ReliabilityBin
        >>> ReliabilityBin(100, 0.1, 0.12, 0.07, 0.2).rows
        100
    """

    rows: int
    predicted: float
    observed: float
    low: float
    high: float


@attrs.frozen(slots=True)
class Reliability:
    """How good probabilities are: Brier score, log loss, calibration error, and a table.

    Each figure is given for the forecast and for the base rate used as a forecast (the
    same probability for every row, taken from training), so a model that knows nothing
    shows as no better than it.

    Attributes:
        rows: Rows judged.
        positives: Of those, rows with outcome 1.
        brier: Mean squared error of the probabilities.
        log_loss: Mean negative log-likelihood (natural log).
        ece: Expected calibration error: the row-weighted mean gap between predicted and
            observed over the bins.
        base_brier: The base rate's Brier score.
        base_log_loss: The base rate's log loss.
        base_ece: The base rate's calibration error (its one bin's gap).
        bins: The reliability table, riskiest bin last.

    Examples:
        >>> from stars.forecast import reliability
        >>> r = reliability([0.1, 0.1, 0.9, 0.9], [0, 0, 1, 1], base_rate=0.5, bins=2)
        >>> round(r.brier, 3), r.base_brier, round(r.ece, 3)
        (0.01, 0.25, 0.1)
    """

    rows: int
    positives: int
    brier: float
    log_loss: float
    ece: float
    base_brier: float
    base_log_loss: float
    base_ece: float
    bins: tuple[ReliabilityBin, ...]

    def _repr_html_(self) -> str:
        return framed(self._html())

    def _html(self) -> str:
        html = table(
            ("held out", "forecast", "base rate"),
            [
                ("Brier score", f"{self.brier:.4f}", f"{self.base_brier:.4f}"),
                ("log loss", f"{self.log_loss:.4f}", f"{self.base_log_loss:.4f}"),
                ("calibration error", _pct(self.ece), _pct(self.base_ece)),
            ],
            caption=f"{self.rows:,} renewals, {self.positives:,} went badly",
        )
        return html + table(
            ("rows", "predicted", "observed", "95% interval"),
            [
                (f"{b.rows:,}", _pct(b.predicted), _pct(b.observed), f"{b.low:.1%}–{b.high:.1%}")
                for b in self.bins
            ],
            caption="Reliability (equal-count bins)",
        )

    def plot(self) -> Figure:
        """A reliability diagram: each bin's observed share against its mean prediction.

        Points on the diagonal are calibrated; the bars are the 95% Wilson intervals of
        the observed shares, so a bin whose bar misses the diagonal is off by more than
        chance.

        Returns:
            A matplotlib figure (it shows itself in a notebook).

        Raises:
            MissingDependency: If matplotlib is not installed (the ``plot`` extra).

        Examples:
            >>> from stars.forecast import reliability
            >>> r = reliability([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1], base_rate=0.5, bins=2)
            >>> r.plot().axes[0].get_title()
            'Reliability (equal-count bins)'
        """
        from stars._figure import figure

        fig = figure(4.5, 4.0, layout="constrained")
        _draw_reliability(fig.add_subplot(), self)
        return fig

    def to_text(self, width: int | None = 100) -> str:
        """The reliability table as plain text: one row per equal-count bin.

        Args:
            width: The widest line (``None``: any).

        Examples:
            >>> from stars.forecast import reliability
            >>> r = reliability([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1], base_rate=0.5, bins=2)
            >>> print(r.to_text())
            renewals  predicted  observed  95% interval
            --------  ---------  --------  ------------
                   2      15.0%      0.0%    0.0%–65.8%
                   2      85.0%    100.0%  34.2%–100.0%
        """
        rows = [
            (f"{b.rows:,}", _pct(b.predicted), _pct(b.observed), f"{b.low:.1%}–{b.high:.1%}")
            for b in self.bins
        ]
        head = ("renewals", "predicted", "observed", "95% interval")
        return "\n".join(text_table(head, rows, right=(0, 1, 2, 3), width=width))


def _draw_reliability(ax: Any, r: Reliability) -> None:
    """Draw `Reliability.plot`'s diagram on ``ax``."""
    xs = [b.predicted for b in r.bins]
    ys = [b.observed for b in r.bins]
    top = min(1.0, 1.05 * max([*xs, *(b.high for b in r.bins), 0.01]))
    ax.plot([0, top], [0, top], linestyle=":", color="grey", label="calibrated")
    ax.errorbar(
        xs,
        ys,
        yerr=[
            [y - b.low for y, b in zip(ys, r.bins, strict=True)],
            [b.high - y for y, b in zip(ys, r.bins, strict=True)],
        ],
        fmt="o",
        capsize=3,
        label="observed, 95% interval",
    )
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed share")
    ax.set_title("Reliability (equal-count bins)")
    ax.legend(fontsize="small")


def _reliability(
    np: Any, p: NDArray[Any], y: NDArray[Any], base_rate: float, bins: int
) -> Reliability:
    n = int(p.size)
    order = np.argsort(p, kind="stable")
    out, ece = [], 0.0
    for part in np.array_split(order, min(bins, n)):
        if part.size == 0:  # pragma: no cover - array_split gives no empty part here
            continue
        k = float(y[part].sum())
        pred, obs = float(p[part].mean()), k / part.size
        ece += part.size / n * abs(pred - obs)
        out.append(ReliabilityBin(int(part.size), pred, obs, *wilson(k, int(part.size))))
    q = np.clip(p, _EPS, 1 - _EPS)
    b = min(max(base_rate, _EPS), 1 - _EPS)
    rate = float(y.mean())
    return Reliability(
        rows=n,
        positives=int(y.sum()),
        brier=float(((p - y) ** 2).mean()),
        log_loss=float(-(y * np.log(q) + (1 - y) * np.log1p(-q)).mean()),
        ece=ece,
        base_brier=float(((base_rate - y) ** 2).mean()),
        base_log_loss=float(-(rate * math.log(b) + (1 - rate) * math.log1p(-b))),
        base_ece=abs(base_rate - rate),
        bins=tuple(out),
    )


def reliability(
    probability: Iterable[float], outcome: Iterable[int], *, base_rate: float, bins: int = 10
) -> Reliability:
    """Judge probabilities against 0/1 outcomes, beside a constant base-rate forecast.

    Args:
        probability: The forecasts (0 to 1).
        outcome: The outcomes (0 or 1), one per forecast.
        base_rate: The constant forecast to compare with (usually the training rate).
        bins: How many equal-count bins the reliability table has.

    Returns:
        The scores and the table.

    Raises:
        InvalidValue: For values out of range, lengths that differ, or no rows.

    Examples:
        >>> from stars.forecast import reliability
        >>> r = reliability([0.2] * 5, [0, 0, 1, 0, 0], base_rate=0.2, bins=1)
        >>> round(r.ece, 9), round(r.log_loss, 4) == round(r.base_log_loss, 4)
        (0.0, True)
    """
    np = _numpy()
    p = np.asarray([v.number("probability", x, 0, 1) for x in probability], dtype=np.float64)
    y = np.asarray([v.number("outcome", x, 0, 1, integer=True) for x in outcome], np.float64)
    if p.size != y.size or p.size == 0:
        raise InvalidValue("outcome", f"{y.size} values", f"{p.size} values, at least one")
    base_rate = v.number("base_rate", base_rate, 0, 1)
    bins = int(v.number("bins", bins, 1, integer=True))
    return _reliability(np, p, y, base_rate, bins)
