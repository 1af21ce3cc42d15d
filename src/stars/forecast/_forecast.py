"""The period forecast: fit on early periods, judge the later ones (`forecast`)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from stars import _validate as v
from stars._html import framed, table
from stars._outcomes import group_codes
from stars._texttable import checked_width, text_table
from stars.errors import InvalidValue
from stars.forecast._common import _EPS, _Columns, _eager, _interval, _level, _money, _numpy, _pct
from stars.forecast._fit import HORIZONS, _fit, _split
from stars.forecast._model import RenewalModel
from stars.forecast._reliability import Reliability, _draw_reliability, _reliability

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from numpy.typing import NDArray


#: `RenewalForecast.warnings`: a calibration error above this (and the base rate's) warns,
_WARN_ECE = 0.02
#: as does an interval that held in fewer than its level minus this share of periods,
_WARN_COVERAGE = 0.10
#: judged over at least this many held-out periods.
_WARN_PERIODS = 10


@attrs.frozen(slots=True)
class PeriodRisk:
    """One held-out period's renewals: expected lost revenue, the interval, what happened.

    Attributes:
        period: The period.
        contracts: Renewals in it.
        revenue: Their recurring revenue.
        expected: Expected revenue lost to churn and contraction.
        low: Lower end of the interval.
        high: Upper end of the interval.
        actual: Revenue that was really lost.
        independent_low: Lower end of the interval that treats renewals as independent.
        independent_high: Its upper end.

    Examples:
        >>> from stars.forecast import PeriodRisk
        >>> r = PeriodRisk("2025-01-01", 10, 1e4, 900.0, 300.0, 1800.0, 2000.0, 500.0, 1400.0)
        >>> r.inside, r.inside_independent
        (False, False)
    """

    period: str
    contracts: int
    revenue: float
    expected: float
    low: float
    high: float
    actual: float
    independent_low: float
    independent_high: float

    @property
    def inside(self) -> bool:
        """Whether the real loss fell inside the interval."""
        return self.low <= self.actual <= self.high

    @property
    def inside_independent(self) -> bool:
        """Whether it fell inside the independent-renewals interval."""
        return self.independent_low <= self.actual <= self.independent_high


@attrs.frozen(slots=True)
class GroupCoverage:
    """How often one group's held-out loss fell inside its interval.

    Attributes:
        column: The group column (segment or owner).
        value: The group.
        periods: Held-out periods in which the group had renewals.
        coverage: The share of them whose real loss fell inside the interval.
        independent_coverage: The same for the independent-renewals interval.

    Examples:
        >>> from stars.forecast import GroupCoverage
        >>> GroupCoverage("segment", "smb", 20, 0.9, 0.6).value
        'smb'
    """

    column: str
    value: str
    periods: int
    coverage: float
    independent_coverage: float


@attrs.frozen(slots=True)
class RenewalForecast:
    """Renewal risk fitted on early periods and judged on the later ones. Made by `forecast`.

    Attributes:
        model: The fitted model (use it on new renewals).
        period: The period column.
        reliability: How good the held-out probabilities were, beside the base rate.
        level: The level the revenue intervals were asked for.
        periods: Each held-out period's revenue at risk and real loss (empty without a
            revenue column).
        groups: Interval coverage by segment and by owner.

    Examples:
        >>> from stars.forecast import forecast
        >>> from stars.frames import score
        >>> from stars.health import Direction, Linear, Measure, Scorecard
        >>> from stars.testing import synthetic_history
        >>> rows = synthetic_history(300, 30, seed=4, contracts=True, waves=0.3)
        >>> card = Scorecard([Measure("adoption", 1, Direction.HIGHER_IS_BETTER, Linear(0, 1))])
        >>> due = score(rows.filter(rows["renewing"] == 1), card)
        >>> result = forecast(due, outcome="churned", period="period",
        ...                   train_until="2025-06-01", revenue="arr")
        >>> result.to_frame().columns[:4]
        ['period', 'contracts', 'revenue', 'expected']
    """

    model: RenewalModel
    period: str
    reliability: Reliability
    level: float
    periods: tuple[PeriodRisk, ...] = ()
    groups: tuple[GroupCoverage, ...] = ()

    @property
    def coverage(self) -> float | None:
        """The share of held-out periods whose real loss fell inside the interval."""
        if not self.periods:
            return None
        return sum(p.inside for p in self.periods) / len(self.periods)

    @property
    def independent_coverage(self) -> float | None:
        """The same share for the interval that treats renewals as independent."""
        if not self.periods:
            return None
        return sum(p.inside_independent for p in self.periods) / len(self.periods)

    @property
    def warnings(self) -> tuple[str, ...]:
        """What to be wary of before using the model: one sentence each, none when it held.

        - The log loss on the held-out renewals is worse than the base rate's: health does
          not separate these renewals, and the constant rate forecasts them better.
        - The calibration error is over 2 points and above the base rate's: the
          probabilities are off, usually because the training history is short.
        - Over 10 or more held-out periods, the interval held in fewer than its level minus
          10 points: revenue at risk is more uncertain than it says.

        Examples:
            >>> from stars.forecast import RenewalForecast
            >>> isinstance(RenewalForecast.warnings, property)
            True
        """
        r = self.reliability
        out = []
        if r.log_loss > r.base_log_loss:
            out.append(
                f"the log loss on the held-out renewals ({r.log_loss:.4f}) is worse than the"
                f" base rate's ({r.base_log_loss:.4f}): health does not separate these"
                " renewals, and the base rate forecasts them better"
            )
        if r.ece > _WARN_ECE and r.ece > r.base_ece:
            out.append(
                f"the probabilities are off by {r.ece:.1%} on average on the held-out renewals"
                f" (the base rate by {r.base_ece:.1%}): fit on a longer history before using"
                " them"
            )
        coverage = self.coverage
        if (
            coverage is not None
            and len(self.periods) >= _WARN_PERIODS
            and coverage < self.level - _WARN_COVERAGE
        ):
            out.append(
                f"the {self.level:.0%} interval held in only {coverage:.0%} of"
                f" {len(self.periods)} held-out periods: revenue at risk is more uncertain"
                " than the interval says"
            )
        return tuple(out)

    def to_frame(self) -> Any:
        """The held-out periods as a polars DataFrame (pandas when polars is absent).

        Examples:
            >>> from stars.forecast import RenewalForecast
            >>> callable(RenewalForecast.to_frame)
            True
        """
        names = [f.name for f in attrs.fields(PeriodRisk)]
        data: dict[str, list[Any]] = {n: [getattr(p, n) for p in self.periods] for n in names}
        data["inside"] = [p.inside for p in self.periods]
        data["inside_independent"] = [p.inside_independent for p in self.periods]
        try:
            import polars as pl
        except ImportError:  # pragma: no cover - polars is installed in the test env
            import pandas as pd  # type: ignore[import-untyped,unused-ignore]

            return pd.DataFrame(data)
        schema = {n: pl.Float64 for n in names if n not in ("period", "contracts")}
        return pl.DataFrame(data, schema_overrides={**schema, "period": pl.String})

    def explain(self) -> str:
        """A plain-text summary: calibration beside the base rate, then interval coverage.

        Examples:
            >>> from stars.forecast import RenewalForecast
            >>> callable(RenewalForecast.explain)
            True
        """
        r = self.reliability
        lines = [
            f"Held out: {r.rows:,} renewals, {r.positives:,} went badly",
            f"  {'':18}{'forecast':>10}{'base rate':>11}",
            f"  {'Brier score':18}{r.brier:>10.4f}{r.base_brier:>11.4f}",
            f"  {'log loss':18}{r.log_loss:>10.4f}{r.base_log_loss:>11.4f}",
            f"  {'calibration error':18}{r.ece:>10.2%}{r.base_ece:>11.2%}",
        ]
        if self.periods:
            lines.append(
                f"Revenue at risk: the {self.level:.0%} interval held in "
                f"{_pct(self.coverage)} of {len(self.periods)} held-out periods "
                f"(independent renewals: {_pct(self.independent_coverage)})"
            )
            for g in self.groups:
                lines.append(
                    f"  {g.column} = {g.value}: {g.coverage:.1%} of {g.periods} periods "
                    f"(independent: {g.independent_coverage:.1%})"
                )
        lines.extend(f"Note: {n}" for n in self.model.notes)
        lines.extend(f"Warning: {w}." for w in self.warnings)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready data.

        Examples:
            >>> from stars.forecast import RenewalForecast
            >>> callable(RenewalForecast.to_dict)
            True
        """
        out: dict[str, Any] = attrs.asdict(self, recurse=True)
        out["model"]["severity"] = {k: list(x) for k, x in self.model.severity.items()}
        out["coverage"] = self.coverage
        out["independent_coverage"] = self.independent_coverage
        out["warnings"] = list(self.warnings)
        return out

    def _repr_html_(self) -> str:
        html = self.reliability._html()
        if self.periods:
            html += table(
                ("period", "renewals", "expected", "interval", "actual", "inside"),
                [
                    (
                        p.period,
                        p.contracts,
                        _money(p.expected),
                        f"{_money(p.low)}–{_money(p.high)}",
                        _money(p.actual),
                        "yes" if p.inside else "no",
                    )
                    for p in self.periods
                ],
                caption=(
                    f"Revenue at risk: the {self.level:.0%} interval held in "
                    f"{_pct(self.coverage)} of periods (independent renewals: "
                    f"{_pct(self.independent_coverage)})"
                ),
            )
        return framed(html)

    def plot(self, *, reliability: bool = False) -> Figure:
        """A fan chart: expected loss and interval per held-out period, the real loss as points.

        Points outside the interval are red; a dotted line marks where the interval would
        end if renewals were independent.

        Args:
            reliability: Also draw the reliability diagram (`Reliability.plot`) beside it.

        Returns:
            A matplotlib figure (it shows itself in a notebook).

        Raises:
            MissingDependency: If matplotlib is not installed (the ``plot`` extra).

        Examples:
            >>> from stars.forecast import RenewalForecast
            >>> callable(RenewalForecast.plot)
            True
        """
        from stars._figure import figure

        if not reliability:
            fig = figure(7.0, 4.0, layout="constrained")
            self._draw_fan(fig.add_subplot())
            return fig
        fig = figure(11.0, 4.0, layout="constrained")
        fan, diagram = fig.subplots(1, 2, gridspec_kw={"width_ratios": (7, 4)})
        self._draw_fan(fan)
        _draw_reliability(diagram, self.reliability)
        return fig

    def _draw_fan(self, ax: Any) -> None:
        x = list(range(len(self.periods)))
        ax.fill_between(
            x,
            [p.low for p in self.periods],
            [p.high for p in self.periods],
            alpha=0.3,
            label=f"{self.level:.0%} interval",
        )
        ax.plot(
            x,
            [p.independent_high for p in self.periods],
            linestyle=":",
            color="grey",
            label="upper end if renewals were independent",
        )
        ax.plot(x, [p.expected for p in self.periods], label="expected")
        ax.scatter(
            x,
            [p.actual for p in self.periods],
            s=12,
            color=["black" if p.inside else "red" for p in self.periods],
            zorder=3,
            label="actual",
        )
        step = max(1, len(x) // 8)
        ax.set_xticks(x[::step], [p.period for p in self.periods][::step], rotation=30)
        ax.set_ylabel("revenue lost")
        ax.set_title("Revenue at risk by renewal period")
        ax.legend(fontsize="small")

    def to_text(self, width: int | None = 100, *, last: int = 12) -> str:
        """`explain`, then the reliability table and the last held-out periods as tables.

        Args:
            width: The widest line of the tables (``None``: any; at least 40).
            last: How many of the latest held-out periods to list (``to_frame`` has all).

        Examples:
            >>> from stars.forecast import RenewalForecast
            >>> callable(RenewalForecast.to_text)
            True
        """
        width = checked_width(width)
        last = int(v.number("last", last, 0, integer=True))
        lines = [self.explain(), "", "Reliability (equal-count bins):"]
        lines.append(self.reliability.to_text(width))
        shown = self.periods[len(self.periods) - min(last, len(self.periods)) :]
        if shown:
            what = "period" if len(shown) == 1 else f"{len(shown)} periods"
            lines += ["", f"Revenue at risk, the last {what} held out (of {len(self.periods)}):"]
            rows = [
                (
                    p.period,
                    f"{p.contracts:,}",
                    _money(p.expected),
                    f"{_money(p.low)}–{_money(p.high)}",
                    _money(p.actual),
                    "yes" if p.inside else "NO",
                )
                for p in shown
            ]
            head = ("period", "renewals", "expected", "interval", "actual", "inside")
            lines += text_table(head, rows, right=(1, 2, 3, 4), width=width)
        return "\n".join(lines)


def forecast(
    frame: Any,
    *,
    outcome: str,
    period: str,
    train_until: object,
    health: str = "health",
    days: str | None = None,
    by: str | None = None,
    revenue: str | None = None,
    lost: str | None = None,
    segment: str | None = None,
    owner: str | None = None,
    level: float = 0.9,
    bins: int = 10,
    horizons: Sequence[float] = HORIZONS,
    min_rows: int = 200,
) -> RenewalForecast:
    """Fit renewal risk on early periods, and judge its probabilities and revenue intervals.

    The model is `fit_renewal_model` on the periods up to ``train_until``. On the later
    periods, the probabilities are judged by `reliability`. With a revenue column, each
    held-out period's renewals get an expected loss (probability times revenue times the
    share a bad renewal loses) and an interval: the variance of independent renewals plus
    the training overdispersion times the squared expected loss, turned into an interval
    by a gamma with that mean and variance (the lower end is 0 when losing nothing is
    that likely). The same is done without the overdispersion, to show how an interval
    that treats renewals as independent fares when bad periods come in waves.

    Args:
        frame: One row per contract coming up for renewal (see `fit_renewal_model`).
        outcome: The 0/1 column: 1 when the renewal ended in churn or contraction.
        period: The renewal period column (the renewal cohort).
        train_until: The last training period; later periods are held out.
        health: The health column.
        days: The days-to-renewal column, if any.
        by: A group column to fit separate maps for (such as the term).
        revenue: The recurring revenue column (for revenue at risk).
        lost: The column of revenue lost (default: all of it when the outcome is 1).
        segment: A column to report interval coverage by.
        owner: Another (the account owner).
        level: The interval's level (default 0.9).
        bins: Bins of the reliability table.
        horizons: Edges of the time-to-renewal buckets, in days.
        min_rows: Fewest rows for a bucket or group of its own.

    Returns:
        The result; ``to_frame()`` gives the held-out periods, ``plot()`` a fan chart.

    Raises:
        InvalidValue: For the inputs `fit_renewal_model` refuses, a ``train_until`` that
            leaves no held-out period, or a bad level.

    Examples:
        >>> from stars.forecast import forecast
        >>> from stars.frames import score
        >>> from stars.health import Direction, Linear, Measure, Scorecard
        >>> from stars.testing import synthetic_history
        >>> rows = synthetic_history(300, 30, seed=4, contracts=True)
        >>> card = Scorecard([Measure("adoption", 1, Direction.HIGHER_IS_BETTER, Linear(0, 1))])
        >>> due = score(rows.filter(rows["renewing"] == 1), card)
        >>> result = forecast(due, outcome="churned", period="period", by="term",
        ...                   train_until="2025-06-01")
        >>> result.reliability.log_loss < result.reliability.base_log_loss
        True
    """
    np = _numpy()
    level = _level(level)
    bins = int(v.number("bins", bins, 1, integer=True))
    df, _ = _eager(frame)
    edges = tuple(v.number(f"horizons[{i}]", h, 0) for i, h in enumerate(horizons))
    if any(b <= a for a, b in itertools.pairwise(edges)):
        raise InvalidValue("horizons", horizons, "edges in days, strictly increasing")
    min_rows = int(v.number("min_rows", min_rows, 1, integer=True))
    train, codes, notes = _split(np, df, period, train_until, outcome)
    assert codes is not None
    model = _fit(
        np, df, train, notes, outcome, health, days, by, revenue, lost, period, edges, min_rows
    )
    cols = _Columns(np, df, health, days, by, revenue, lost, outcome)
    assert cols.y is not None
    test = ~train
    p = model._predict(np, cols.health, cols.days, cols.groups)
    judged = _reliability(np, p[test], cols.y[test], model.base_rate, bins)
    if cols.revenue is None:
        return RenewalForecast(model, period, judged, level)

    labels = group_codes(df, period, ordered=True)[1]
    a = cols.revenue
    loss = cols.lost if cols.lost is not None else a * cols.y
    mean, var = model._moments(np, p, a, cols.groups)
    logq = np.log1p(-np.minimum(p, 1 - _EPS))
    tau2 = model.overdispersion

    def sums(key: NDArray[Any], mask: NDArray[Any]) -> list[tuple[int, list[float]]]:
        size = int(key.max()) + 1
        parts = [np.bincount(key[mask], weights=w[mask], minlength=size) for w in stack]
        count = np.bincount(key[mask], minlength=size)
        return [(k, [float(x[k]) for x in parts]) for k in np.flatnonzero(count).tolist()]

    stack = [np.ones(p.size), a, mean, var, loss, logq]
    periods = []
    for k, (n, rev, e, vi, actual, lq) in sums(codes, test):
        low, high = _interval(e, vi + tau2 * e * e, math.exp(lq), level)
        ilow, ihigh = _interval(e, vi, math.exp(lq), level)
        periods.append(PeriodRisk(labels[k], int(n), rev, e, low, high, actual, ilow, ihigh))
    groups = []
    for field, column in (("segment", segment), ("owner", owner)):
        if column is None:
            continue
        v.text(field, column)
        if column not in df.columns:
            raise InvalidValue(field, column, f"a column of the frame ({len(df.columns)})")
        gcodes, glabels, _ = group_codes(df, column)
        width = int(codes.max()) + 1
        inside: dict[int, list[tuple[bool, bool]]] = {}
        for key, (_, _, e, vi, actual, lq) in sums(gcodes * width + codes, test):
            low, high = _interval(e, vi + tau2 * e * e, math.exp(lq), level)
            ilow, ihigh = _interval(e, vi, math.exp(lq), level)
            inside.setdefault(key // width, []).append(
                (low <= actual <= high, ilow <= actual <= ihigh)
            )
        for g, marks in sorted(inside.items()):
            groups.append(
                GroupCoverage(
                    column,
                    glabels[g],
                    len(marks),
                    sum(m[0] for m in marks) / len(marks),
                    sum(m[1] for m in marks) / len(marks),
                )
            )
    return RenewalForecast(model, period, judged, level, tuple(periods), tuple(groups))
