"""How likely, and how much revenue: calibrated renewal risk and revenue at risk.

A health score ranks accounts; a renewal team also needs to know *how likely* each
renewal is to go badly (churn or contraction) and *how much recurring revenue* a month's
renewals put at risk, with a range that holds when bad months come in waves.

`fit_renewal_model` learns, on training periods, a monotone map from health to the
probability that a renewal goes badly, separately by time to renewal (and optionally by a
group such as the contract term), with fallbacks where rows are few. The map is an
isotonic fit (pool adjacent violators) rather than a logistic curve on the score: health
scores are built from steps, caps and band cut-offs, so their relation to risk is monotone
but rarely a straight line in log-odds; an isotonic fit only assumes "lower health, higher
risk", and with many rows it is calibrated where a two-parameter logistic would be bent off
at the ends. Each block's rate is shrunk a little towards the base rate, so a block that
saw no bad renewal never predicts exactly 0.

The model also learns how much revenue a bad renewal loses (its mean share, and its
spread) and how much whole periods swing together (an overdispersion, estimated on the
training periods by the method of moments, as in a beta-binomial). `forecast` fits on the
early periods and judges the later ones: Brier score, log loss, expected calibration error
and a reliability table, beside the same figures for the base rate used as a forecast; and
for each held-out period, the expected lost revenue with an interval, and how often the
real loss fell inside it, in total and by segment and owner. Polars, pandas and pyarrow
frames all work; NumPy and narwhals are imported only when a function runs.

Examples:
    >>> import polars as pl
    >>> from stars.forecast import fit_renewal_model
    >>> rows = pl.DataFrame({"health": [10.0, 20, 30, 60, 70, 90] * 10,
    ...                      "lost": [1, 1, 0, 1, 0, 0] * 10})
    >>> model = fit_renewal_model(rows, outcome="lost", min_rows=10)
    >>> model.probability(15) > model.probability(65) > model.probability(95)
    True
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Final

import attrs

from stars import _tables
from stars import _validate as v
from stars._html import framed, table
from stars._isotonic import pav
from stars._outcomes import group_codes, last_training, outcome_values
from stars._texttable import text_table
from stars.errors import InvalidValue, MissingDependency, SchemaError

if TYPE_CHECKING:
    import narwhals.stable.v1 as nw
    from matplotlib.figure import Figure
    from numpy.typing import NDArray

    from stars.account import Account
    from stars.contracts import Contract, ContractBook, Renewal

__all__ = [
    "GroupCoverage",
    "GroupRisk",
    "PeriodRisk",
    "Reliability",
    "ReliabilityBin",
    "RenewalAtRisk",
    "RenewalForecast",
    "RenewalModel",
    "RenewalRisk",
    "RevenueAtRisk",
    "RiskCurve",
    "fit_renewal_model",
    "forecast",
    "reliability",
    "renewal_risk",
]

#: Health is pooled on a grid of this many cells per point before the isotonic fit.
_CELLS_PER_POINT: Final = 10
#: Pseudo-rows at the base rate added to every block of the fitted map.
_PRIOR_ROWS: Final = 20.0
#: Default horizon edges, in days to renewal: within a month, a quarter, half a year, later.
HORIZONS: Final = (31.0, 92.0, 183.0)
#: The ``format`` of a saved `RenewalModel`.
MODEL_FORMAT: Final = "stars.renewal-model"
#: The ``version`` of that format this release writes and reads.
MODEL_VERSION: Final = 1
#: Probabilities are kept this far from 0 and 1 in the log loss.
_EPS: Final = 1e-12
_Z95: Final = 1.959963984540054


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


# -- the fitted map --------------------------------------------------------------------


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


@attrs.frozen(slots=True)
class RevenueAtRisk:
    """Expected lost recurring revenue over a set of renewals, with an interval.

    Attributes:
        contracts: Renewals counted.
        revenue: Their recurring revenue.
        expected: The expected revenue lost to churn and contraction.
        low: The lower end of the interval.
        high: The upper end of the interval.
        level: The interval's level (for example 0.9).

    Examples:
        >>> from stars.forecast import RevenueAtRisk
        >>> r = RevenueAtRisk(10, 1000.0, 120.0, 40.0, 260.0, 0.9)
        >>> r.share
        0.12
    """

    contracts: int
    revenue: float
    expected: float
    low: float
    high: float
    level: float

    @property
    def share(self) -> float | None:
        """The expected loss as a share of the revenue renewing (``None`` for no revenue)."""
        return self.expected / self.revenue if self.revenue > 0 else None


@attrs.frozen(slots=True)
class RenewalModel:
    """Calibrated probability that a renewal goes badly, and how much revenue that loses.

    Made by `fit_renewal_model`. Apply it to a frame with `apply`, to one reading with
    `probability`, to a renewal calendar with `for_renewals`, and sum it over a period's
    renewals with `revenue_at_risk`.

    Attributes:
        health: The health column it reads.
        days: The days-to-renewal column it reads, if any.
        by: The group column it reads, if any.
        horizons: The edges of the time-to-renewal buckets, in days.
        curves: The fitted maps, most specific first: by group and horizon, by group, and
            the pooled one last.
        base_rate: The training share of renewals that went badly.
        rows: Training rows.
        positives: Of those, renewals that went badly.
        severity: Group (``""`` for all) to the mean share of revenue a bad renewal lost,
            weighted by revenue, and the mean of that share squared.
        overdispersion: How much whole periods swing together: the variance of a shock
            that scales every expected loss in a period (0 when renewals are independent).
        notes: How the model was fitted.
        measures: The measures of the scorecard the health came from, when known
            (``stars backtest --save-model`` records them; empty: not known).
        scorecard: A digest of that scorecard (its measures, weights and rules), when
            known: `stars assess` refuses a model whose scorecard is not the report's.

    Save a model with `save` (or `to_dict`) and read it back with `load` (or
    `from_dict`): the file is JSON with a ``format`` and a ``version``, and a model read
    back gives the same probabilities to the last bit.

    Examples:
        >>> import polars as pl
        >>> from stars.forecast import fit_renewal_model
        >>> rows = pl.DataFrame({"health": [15.0, 35, 55, 75, 95] * 20,
        ...                      "bad": [1, 1, 0, 0, 0] * 19 + [0, 0, 1, 0, 0]})
        >>> model = fit_renewal_model(rows, outcome="bad", min_rows=10)
        >>> model.apply(rows).columns
        ['health', 'probability', 'bad']
    """

    health: str
    days: str | None
    by: str | None
    horizons: tuple[float, ...]
    curves: tuple[RiskCurve, ...]
    base_rate: float
    rows: int
    positives: int
    severity: dict[str, tuple[float, float]]
    overdispersion: float
    notes: tuple[str, ...] = ()
    measures: tuple[str, ...] = ()
    scorecard: str | None = None

    def _curve(self, group: str | None, horizon: int | None) -> RiskCurve:
        table_ = {(c.group, c.horizon): c for c in self.curves}
        for key in ((group, horizon), (group, None), (None, horizon), (None, None)):
            if key in table_:
                return table_[key]
        raise AssertionError("the pooled curve is always fitted")  # pragma: no cover

    def _horizon(self, days: float | None) -> int | None:
        if days is None or self.days is None:
            return None
        return sum(1 for edge in self.horizons if days >= edge)

    def probability(
        self, health: float | None, days_to_renewal: float | None = None, group: str | None = None
    ) -> float:
        """The probability that one renewal goes badly.

        Args:
            health: The account's health score (0-100), or ``None`` when unknown: then the
                training rate of the matching rows.
            days_to_renewal: Days from the reading to the renewal date (ignored when the
                model was fitted without a days column).
            group: The renewal's group (for a model fitted with ``by``).

        Returns:
            The probability, from 0 to 1.

        Raises:
            InvalidValue: For a health outside 0-100 or negative days.

        Examples:
            >>> from stars.forecast import RenewalModel, RiskCurve
            >>> pooled = RiskCurve(None, None, (20.0, 80.0), (0.3, 0.1), 100, 20)
            >>> model = RenewalModel("health", None, None, (), (pooled,), 0.2, 100, 20,
            ...                      {"": (1.0, 1.0)}, 0.0)
            >>> model.probability(80), model.probability(None)
            (0.1, 0.2)
        """
        if health is not None:
            health = v.number("health", health, 0, 100)
        if days_to_renewal is not None:
            days_to_renewal = v.number("days_to_renewal", days_to_renewal, 0)
        curve = self._curve(group, self._horizon(days_to_renewal))
        return curve.rate if health is None else curve.at(health)

    def for_renewals(
        self,
        renewals: Iterable[Renewal],
        *,
        as_of: date,
        group: Callable[[Renewal], str | None] | None = None,
    ) -> tuple[float, ...]:
        """The probability of each renewal of a `stars.contracts.ContractBook` calendar.

        Args:
            renewals: Rows of `ContractBook.renewals` (read with ``accounts=`` so they
                carry a health score).
            as_of: The day the health was read: the days to renewal count from it.
            group: For a model fitted with ``by``, a function giving a renewal's group.

        Returns:
            One probability per renewal, in order.

        Raises:
            InvalidValue: For an ``as_of`` after a renewal date.

        Examples:
            >>> from datetime import date, datetime, timezone
            >>> from stars import Account, Snapshot
            >>> from stars.contracts import Contract, ContractBook
            >>> from stars.forecast import RenewalModel, RiskCurve
            >>> pooled = RiskCurve(None, None, (20.0, 80.0), (0.3, 0.1), 100, 20)
            >>> model = RenewalModel("health", None, None, (), (pooled,), 0.2, 100, 20,
            ...                      {"": (1.0, 1.0)}, 0.0)
            >>> book = ContractBook([Contract.for_term("acme", date(2024, 3, 1), 12, 90, "USD")])
            >>> acme = Account("acme", snapshots=[
            ...     Snapshot(at=datetime(2025, 1, 5, tzinfo=timezone.utc), health=20)])
            >>> renewals = book.renewals(date(2025, 1, 1), date(2025, 6, 1), accounts=[acme])
            >>> model.for_renewals(renewals, as_of=date(2025, 2, 1))
            (0.3,)
        """
        out = []
        for r in renewals:
            ahead = (r.on - as_of).days
            if ahead < 0:
                raise InvalidValue("as_of", as_of, f"a day on or before the renewal on {r.on}")
            out.append(self.probability(r.health, ahead, group(r) if group else None))
        return tuple(out)

    def _predict(
        self,
        np: Any,
        health: NDArray[Any],
        days: NDArray[Any] | None,
        groups: tuple[list[str], NDArray[Any]],
    ) -> NDArray[Any]:
        """Vectorised probabilities; ``groups`` is (labels, each row's code or -1)."""
        labels, codes = groups
        out = np.empty(health.size)
        if days is not None and self.days is not None:
            horizon = np.searchsorted(np.asarray(self.horizons), days, side="right")
            horizon = np.where(np.isnan(days), -1, horizon)
        else:
            horizon = np.full(health.size, -1)
        width = len(self.horizons) + 2
        keys = codes * width + (horizon + 1)
        for key in np.unique(keys).tolist():
            mask = keys == key
            code, h = divmod(int(key), width)
            curve = self._curve(labels[code] if code >= 0 else None, h - 1 if h else None)
            x = health[mask]
            p = np.interp(x, np.asarray(curve.health), np.asarray(curve.probability))
            out[mask] = np.where(np.isnan(x), curve.rate, p)
        result: NDArray[Any] = out
        return result

    def apply(self, frame: Any, *, name: str = "probability") -> Any:
        """Add a probability column beside the health column of a frame.

        Args:
            frame: A polars, pandas or pyarrow DataFrame with the model's columns
                (health; days to renewal and group when it was fitted with them).
            name: The new column's name.

        Returns:
            A new frame of the same kind, with ``name`` right after the health column.

        Raises:
            InvalidValue: For a missing column or values out of range.

        Examples:
            >>> import polars as pl
            >>> from stars.forecast import RenewalModel, RiskCurve
            >>> pooled = RiskCurve(None, None, (20.0, 80.0), (0.3, 0.1), 100, 20)
            >>> model = RenewalModel("health", None, None, (), (pooled,), 0.2, 100, 20,
            ...                      {"": (1.0, 1.0)}, 0.0)
            >>> model.apply(pl.DataFrame({"health": [50.0, None]}))["probability"].to_list()
            [0.2, 0.2]
        """
        import narwhals.stable.v1 as nw

        np = _numpy()
        v.text("name", name)
        df, wrapped = _eager(frame)
        cols = _Columns(np, df, self.health, self.days, self.by, None, None, None)
        p = self._predict(np, cols.health, cols.days, cols.groups)
        series = nw.new_series(name, p, nw.Float64(), backend=df.implementation)
        order = [c for c in df.columns if c != name]
        order.insert(order.index(self.health) + 1, name)
        out = df.with_columns(series).select(order)
        return out if wrapped else out.to_native()

    def _moments(
        self, np: Any, p: NDArray[Any], revenue: NDArray[Any], groups: tuple[list[str], Any]
    ) -> tuple[NDArray[Any], NDArray[Any]]:
        """Each row's expected loss and its variance when renewals are independent."""
        labels, codes = groups
        pooled = self.severity[""]
        table_ = np.asarray([self.severity.get(g, pooled) for g in labels] + [pooled])
        m, m2 = table_[codes, 0], table_[codes, 1]  # code -1 takes the pooled row
        mean = revenue * p * m
        var = revenue * revenue * (p * m2 - (p * m) ** 2)
        return mean, np.maximum(var, 0.0)

    def revenue_at_risk(self, frame: Any, *, revenue: str, level: float = 0.9) -> RevenueAtRisk:
        """Expected lost revenue over the renewals of a frame, with an interval.

        Args:
            frame: One row per contract coming up for renewal (say, in next month), with
                the model's columns and the revenue column.
            revenue: The column of each contract's recurring revenue.
            level: The interval's level, between 0 and 1 (default 0.9).

        Returns:
            The expected loss and its interval (see `forecast` for how it is built).

        Raises:
            InvalidValue: For a missing column, bad values or a bad level.

        Examples:
            >>> import polars as pl
            >>> from stars.forecast import RenewalModel, RiskCurve
            >>> pooled = RiskCurve(None, None, (20.0, 80.0), (0.3, 0.1), 100, 20)
            >>> model = RenewalModel("health", None, None, (), (pooled,), 0.2, 100, 20,
            ...                      {"": (1.0, 1.0)}, 0.0)
            >>> due = pl.DataFrame({"health": [20.0, 80.0], "arr": [1000.0, 500.0]})
            >>> model.revenue_at_risk(due, revenue="arr").expected
            350.0
        """
        np = _numpy()
        level = _level(level)
        df, _ = _eager(frame)
        cols = _Columns(np, df, self.health, self.days, self.by, revenue, None, None)
        assert cols.revenue is not None
        p = self._predict(np, cols.health, cols.days, cols.groups)
        mean, var = self._moments(np, p, cols.revenue, cols.groups)
        e, vi = float(mean.sum()), float(var.sum())
        p0 = float(np.exp(np.log1p(-np.minimum(p, 1 - _EPS)).sum()))
        low, high = _interval(e, vi + self.overdispersion * e * e, p0, level)
        return RevenueAtRisk(int(p.size), float(cols.revenue.sum()), e, low, high, level)

    # -- saving and loading ---------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The model as plain JSON-ready data, with its ``format`` and ``version``.

        Every number is kept as it is (JSON writes floats exactly), so `from_dict` gives
        back an equal model.

        Examples:
            >>> from stars.forecast import RenewalModel, RiskCurve
            >>> pooled = RiskCurve(None, None, (20.0, 80.0), (0.3, 0.1), 100, 20)
            >>> model = RenewalModel("health", None, None, (), (pooled,), 0.2, 100, 20,
            ...                      {"": (1.0, 1.0)}, 0.0)
            >>> data = model.to_dict()
            >>> data["format"], data["version"], data["curves"][0]["probability"]
            ('stars.renewal-model', 1, [0.3, 0.1])
        """
        return {
            "format": MODEL_FORMAT,
            "version": MODEL_VERSION,
            "health": self.health,
            "days": self.days,
            "by": self.by,
            "horizons": list(self.horizons),
            "curves": [
                {
                    "group": c.group,
                    "horizon": c.horizon,
                    "health": list(c.health),
                    "probability": list(c.probability),
                    "rows": c.rows,
                    "positives": c.positives,
                }
                for c in self.curves
            ],
            "base_rate": self.base_rate,
            "rows": self.rows,
            "positives": self.positives,
            "severity": {g: list(x) for g, x in sorted(self.severity.items())},
            "overdispersion": self.overdispersion,
            "notes": list(self.notes),
            "measures": list(self.measures),
            "scorecard": self.scorecard,
        }

    @classmethod
    def from_dict(cls, data: object) -> RenewalModel:
        """Read a model written by `to_dict` (or `save`), checking every field.

        Args:
            data: The parsed JSON document.

        Returns:
            The model.

        Raises:
            SchemaError: For another format, a newer version, a missing or unknown
                field, or a value out of its range (the message gives its JSON path, such
                as ``$.curves[0].probability[2]``, and the value).

        Examples:
            >>> from stars.forecast import RenewalModel
            >>> RenewalModel.from_dict(  # doctest: +ELLIPSIS
            ...     {"format": "stars.scorecard", "version": 1})
            Traceback (most recent call last):
            ...
            stars.errors.SchemaError: $.format: got 'stars.scorecard', expected 'stars.renewal...
        """
        return _model_from_dict(data)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write `to_dict` as JSON (UTF-8) and return the path.

        Examples:
            >>> import tempfile
            >>> from pathlib import Path
            >>> from stars.forecast import RenewalModel, RiskCurve
            >>> pooled = RiskCurve(None, None, (20.0, 80.0), (0.3, 0.1), 100, 20)
            >>> model = RenewalModel("health", None, None, (), (pooled,), 0.2, 100, 20,
            ...                      {"": (1.0, 1.0)}, 0.0)
            >>> saved = model.save(Path(tempfile.mkdtemp()) / "model.json")
            >>> RenewalModel.load(saved) == model
            True
        """
        target = Path(path)
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False)
        target.write_text(text + "\n", encoding="utf-8")
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RenewalModel:
        """Read a model file written by `save`.

        Raises:
            SchemaError: For a file that is not JSON, or not a renewal model (see
                `from_dict`); the path names the file.
            OSError: When the file cannot be read.

        Examples:
            >>> import tempfile
            >>> from pathlib import Path
            >>> from stars.forecast import RenewalModel
            >>> bad = Path(tempfile.mkdtemp()) / "model.json"
            >>> _ = bad.write_text('{"format": "stars.renewal-model", "version": 7}')
            >>> RenewalModel.load(bad)  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            stars.errors.SchemaError: ...model.json: $.version: got 7, expected 1 (...)
        """
        source = Path(path)
        raw = source.read_bytes()
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise SchemaError(str(source), f"byte {exc.start}", "UTF-8 JSON text") from None
        except json.JSONDecodeError as exc:
            raise SchemaError(
                str(source), f"line {exc.lineno} column {exc.colno}", f"valid JSON ({exc.msg})"
            ) from None
        try:
            return _model_from_dict(data)
        except SchemaError as exc:
            raise SchemaError(f"{source}: {exc.path}", exc.value, exc.expected) from None


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


# -- fitting ----------------------------------------------------------------------------


def _fit_curve(
    np: Any, health: NDArray[Any], y: NDArray[Any], group: str | None, horizon: int | None
) -> RiskCurve:
    cells = 100 * _CELLS_PER_POINT + 1
    seen = ~np.isnan(health)
    rows, positives = int(y.size), int(y.sum())
    rate = positives / rows
    idx = np.rint(health[seen] * _CELLS_PER_POINT).astype(np.int64)
    n = np.bincount(idx, minlength=cells)
    pos = np.bincount(idx, weights=y[seen], minlength=cells)
    used = np.flatnonzero(n)
    if used.size == 0:
        return RiskCurve(group, horizon, (50.0,), (rate,), rows, positives)
    nu, pu = n[used], pos[used]
    fitted = np.asarray(pav((pu / nu).tolist(), nu.tolist(), increasing=False))
    starts = np.flatnonzero(np.r_[True, fitted[1:] != fitted[:-1]])
    bn = np.add.reduceat(nu, starts).astype(np.float64)
    bp = np.add.reduceat(pu, starts)
    knots = np.add.reduceat(used * nu, starts) / bn / _CELLS_PER_POINT
    smooth = (bp + _PRIOR_ROWS * rate) / (bn + _PRIOR_ROWS)
    probs = pav(smooth.tolist(), (bn + _PRIOR_ROWS).tolist(), increasing=False)
    return RiskCurve(group, horizon, knots.tolist(), probs, rows, positives)


def fit_renewal_model(
    frame: Any,
    *,
    outcome: str,
    health: str = "health",
    days: str | None = None,
    by: str | None = None,
    revenue: str | None = None,
    lost: str | None = None,
    period: str | None = None,
    train_until: object = None,
    horizons: Sequence[float] = HORIZONS,
    min_rows: int = 200,
) -> RenewalModel:
    """Fit the probability that a renewal goes badly, from health and time to renewal.

    Args:
        frame: One row per contract coming up for renewal, read some days before it: a
            polars, pandas or pyarrow DataFrame. Monthly subscriptions renew every month,
            so they have a row every month.
        outcome: The 0/1 column: 1 when the renewal ended in churn or contraction.
        health: The health column (0-100; a null is an unknown health).
        days: The column of days from the reading to the renewal date, if any: then a
            map is fitted per time-to-renewal bucket.
        by: A group column (such as the contract term) to fit separate maps for.
        revenue: The column of each contract's recurring revenue: needed for revenue at
            risk.
        lost: The column of revenue each renewal lost (default: all of it when the
            outcome is 1).
        period: The period column, to train on early periods only and to estimate how
            much periods swing together.
        train_until: The last training period (with ``period``; default: every period).
        horizons: The edges of the time-to-renewal buckets, in days, increasing.
        min_rows: A bucket or group with fewer training rows (or fewer than 5 renewals of
            either outcome) uses the map of the level above it.

    Returns:
        The fitted model.

    Raises:
        InvalidValue: For a missing column, values out of range, a bad ``train_until``,
            or training rows with only one outcome.

    Examples:
        >>> from stars.forecast import fit_renewal_model
        >>> from stars.frames import score
        >>> from stars.health import Direction, Linear, Measure, Scorecard
        >>> from stars.testing import synthetic_history
        >>> rows = synthetic_history(300, 24, seed=3, contracts=True)
        >>> card = Scorecard([Measure("adoption", 1, Direction.HIGHER_IS_BETTER, Linear(0, 1))])
        >>> due = score(rows.filter(rows["renewing"] == 1), card)
        >>> model = fit_renewal_model(due, outcome="churned", days="days_to_renewal",
        ...                           by="term", revenue="arr", lost="lost_revenue")
        >>> model.probability(20, 10, "annual") > model.probability(20, 10, "monthly")
        True
    """
    np = _numpy()
    df, _ = _eager(frame)
    edges = tuple(v.number(f"horizons[{i}]", h, 0) for i, h in enumerate(horizons))
    if any(b <= a for a, b in itertools.pairwise(edges)):
        raise InvalidValue("horizons", horizons, "edges in days, strictly increasing")
    min_rows = int(v.number("min_rows", min_rows, 1, integer=True))
    if (period is None) != (train_until is None) and train_until is not None:
        raise InvalidValue("train_until", train_until, "None when no period column is given")
    train, _, notes = _split(np, df, period, train_until, outcome)
    return _fit(
        np, df, train, notes, outcome, health, days, by, revenue, lost, period, edges, min_rows
    )


def _split(
    np: Any, df: nw.DataFrame[Any], period: str | None, train_until: object, outcome: str
) -> tuple[NDArray[Any], NDArray[Any] | None, list[str]]:
    v.text("outcome", outcome)
    if outcome not in df.columns:
        raise InvalidValue("outcome", outcome, f"a column of the frame ({len(df.columns)})")
    if len(df) == 0:
        raise InvalidValue("frame", "0 rows", "at least one renewal")
    if period is None:
        return np.ones(len(df), dtype=bool), None, []
    v.text("period", period)
    if period not in df.columns:
        raise InvalidValue("period", period, f"a column of the frame ({len(df.columns)})")
    codes, labels, uniques = group_codes(df, period, ordered=True)
    if train_until is None:
        return np.ones(len(df), dtype=bool), codes, []
    last = last_training(np, uniques, labels, train_until)
    return codes <= last, codes, [f"trained on periods up to {labels[last]}"]


def _fit(
    np: Any,
    df: nw.DataFrame[Any],
    train: NDArray[Any],
    notes: list[str],
    outcome: str,
    health: str,
    days: str | None,
    by: str | None,
    revenue: str | None,
    lost: str | None,
    period: str | None,
    edges: tuple[float, ...],
    min_rows: int,
) -> RenewalModel:
    cols = _Columns(np, df, health, days, by, revenue, lost, outcome)
    assert cols.y is not None
    y, h = cols.y[train], cols.health[train]
    positives = int(y.sum())
    if positives in (0, y.size):
        raise InvalidValue(
            outcome,
            f"{positives} of {y.size} training rows with outcome 1",
            "both 0s and 1s in the training rows",
        )
    glabels, gcodes = cols.groups
    gcodes = gcodes[train]
    groups = (glabels, gcodes)
    if cols.days is not None:
        horizon = np.searchsorted(np.asarray(edges), cols.days[train], side="right")
        horizon = np.where(np.isnan(cols.days[train]), -1, horizon)
    else:
        horizon = np.full(y.size, -1)

    def enough(mask: NDArray[Any]) -> bool:
        k, n = int(y[mask].sum()), int(mask.sum())
        return n >= min_rows and k >= 5 and n - k >= 5

    curves: list[RiskCurve] = []
    labels = [g for i, g in enumerate(glabels) if (gcodes == i).any()]
    for g in [*labels, None]:
        in_group = gcodes == glabels.index(g) if g is not None else np.ones(y.size, dtype=bool)
        if g is not None and not enough(in_group):
            notes.append(f"{by} = {g}: too few training rows of each outcome; the pooled map")
            continue
        if cols.days is not None:
            for b in range(len(edges) + 1):
                mask = in_group & (horizon == b)
                if enough(mask):
                    curves.append(_fit_curve(np, h[mask], y[mask], g, b))
        curves.append(_fit_curve(np, h[in_group], y[in_group], g, None))

    severity: dict[str, tuple[float, float]] = {"": (1.0, 1.0)}
    overdispersion = 0.0
    model = RenewalModel(
        health, days, by, edges, tuple(curves), positives / y.size, int(y.size), positives,
        severity, 0.0, (),
    )  # fmt: skip
    if cols.revenue is not None:
        a = cols.revenue[train]
        loss = cols.lost[train] if cols.lost is not None else a * y
        share = np.where(a > 0, np.minimum(loss / np.where(a > 0, a, 1.0), 1.0), 0.0)
        bad = y > 0
        for g in ["", *labels]:
            mask = bad & (gcodes == glabels.index(g)) if g else bad
            if int(mask.sum()) >= 5 and a[mask].sum() > 0:
                m = float((a[mask] * share[mask]).sum() / a[mask].sum())
                m2 = float((a[mask] ** 2 * share[mask] ** 2).sum() / (a[mask] ** 2).sum())
                severity[g] = (m, m2)
        model = attrs.evolve(model, severity=severity)
        notes.append(
            f"a bad renewal lost {severity[''][0]:.1%} of its revenue on average in training"
        )
        if period is not None:
            codes = _split(np, df, period, None, outcome)[1]
            assert codes is not None
            p = model._predict(np, h, None if cols.days is None else cols.days[train], groups)
            t = codes[train]
            size = int(t.max()) + 1
            # the shock scales every probability of a period, so it is read off the count
            # of bad renewals, which large contracts do not make lumpy
            e_t = np.bincount(t, weights=p, minlength=size)
            v_t = np.bincount(t, weights=p * (1 - p), minlength=size)
            k_t = np.bincount(t, weights=y, minlength=size)
            used = np.bincount(t, minlength=size) > 0
            e_t, v_t, k_t = e_t[used], v_t[used], k_t[used]
            if used.sum() >= 3 and (e_t**2).sum() > 0:
                overdispersion = max(0.0, float(((k_t - e_t) ** 2 - v_t).sum() / (e_t**2).sum()))
            notes.append(
                f"periods swing together: a shock of standard deviation "
                f"{math.sqrt(overdispersion):.1%} scales every expected loss of a period "
                f"(estimated on the bad renewals of {int(used.sum())} training periods)"
            )
    return attrs.evolve(model, overdispersion=overdispersion, notes=tuple(notes))


# -- judging forecasts ------------------------------------------------------------------


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


def _wilson(k: float, n: int) -> tuple[float, float]:
    p = k / n
    z2 = _Z95 * _Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z95 / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return min(max(centre - half, 0.0), p), max(min(centre + half, 1.0), p)


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
        out.append(ReliabilityBin(int(part.size), pred, obs, *_wilson(k, int(part.size))))
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

    def plot(self) -> Figure:
        """A fan chart: expected loss and interval per held-out period, the real loss as points.

        Examples:
            >>> from stars.forecast import RenewalForecast
            >>> callable(RenewalForecast.plot)
            True
        """
        from stars._figure import figure

        fig = figure(7.0, 4.0, layout="constrained")
        ax = fig.add_subplot()
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
        return fig


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


# -- revenue at risk for a report ------------------------------------------------------


@attrs.frozen(slots=True)
class RenewalAtRisk:
    """One contract renewing soon: the chance it goes badly and the revenue that puts at risk.

    Attributes:
        account: The account (after merges).
        contract: The contract's id, if it has one.
        on: The renewal date.
        revenue: Its recurring revenue, in the reporting currency.
        health: The account's health on the as-of date (``None``: no score by then).
        probability: The chance the renewal ends in churn or contraction.
        expected: The expected revenue lost: probability times revenue times the share a
            bad renewal loses (all of it for a model fitted without a ``lost`` column).
        owner: The account's owner, if known.
        segment: The account's segment (its ``segment:<value>`` tag), if known.

    Examples:
        >>> from datetime import date
        >>> from stars.forecast import RenewalAtRisk
        >>> RenewalAtRisk("acme", None, date(2025, 3, 1), 1000.0, 35.0, 0.3, 300.0,
        ...               "ann", None).expected
        300.0
    """

    account: str
    contract: str | None
    on: date
    revenue: float
    health: float | None
    probability: float
    expected: float
    owner: str | None
    segment: str | None


@attrs.frozen(slots=True)
class GroupRisk:
    """Revenue at risk over one owner's or one segment's renewals.

    Attributes:
        column: ``"owner"`` or ``"segment"``.
        value: The owner or segment (``None``: not known).
        risk: The expected loss and its interval over the group's renewals.

    Examples:
        >>> from stars.forecast import GroupRisk, RevenueAtRisk
        >>> GroupRisk("owner", "ann", RevenueAtRisk(2, 100.0, 10.0, 0.0, 40.0, 0.9)).value
        'ann'
    """

    column: str
    value: str | None
    risk: RevenueAtRisk


@attrs.frozen(slots=True)
class RenewalRisk:
    """Revenue at risk over the renewals of the coming days: what `renewal_risk` gives.

    Attributes:
        as_of: The day health was read; the window starts there.
        horizon_days: The window's length: renewals from ``as_of`` up to (not including)
            ``as_of`` plus this many days count.
        level: The interval's level.
        currency: The reporting currency (``None`` when no contract renews).
        total: The expected loss and its interval over every renewal (``None`` when no
            contract renews in the window: there is nothing to forecast).
        renewals: Each renewal, most expected loss first.
        by_owner: The same by owner (empty when no renewing account has one).
        by_segment: The same by segment (empty when no renewing account has one).
        notes: What was left out and how the probabilities were read.

    Examples:
        >>> from datetime import date
        >>> from stars.forecast import RenewalRisk
        >>> empty = RenewalRisk(date(2025, 3, 1), 90, 0.9, None, None, (), (), (), ())
        >>> print(empty.to_text())
        <BLANKLINE>
        Revenue at risk in the next 90 days
        -----------------------------------
        No contract renews from 2025-03-01 to 2025-05-29: there is nothing to forecast.
    """

    as_of: date
    horizon_days: int
    level: float
    currency: str | None
    total: RevenueAtRisk | None
    renewals: tuple[RenewalAtRisk, ...]
    by_owner: tuple[GroupRisk, ...]
    by_segment: tuple[GroupRisk, ...]
    notes: tuple[str, ...] = ()

    @property
    def last_day(self) -> date:
        """The last day of the window."""
        from datetime import timedelta

        return self.as_of + timedelta(days=self.horizon_days - 1)

    def _title(self) -> str:
        return f"Revenue at risk in the next {self.horizon_days} days"

    def _summary(self) -> list[str]:
        span = f"from {self.as_of} to {self.last_day}"
        t = self.total
        if t is None:
            return [f"No contract renews {span}: there is nothing to forecast."]
        cur = f" {self.currency}" if self.currency else ""
        share = f" ({t.share:.1%} of it)" if t.share is not None else ""
        return [
            f"{t.contracts} renewal{'s' if t.contracts != 1 else ''} {span},"
            f" {_money(t.revenue)}{cur} of recurring revenue.",
            f"Expected loss to churn and contraction: {_money(t.expected)}{cur}{share};"
            f" {self.level:.0%} interval {_money(t.low)} to {_money(t.high)}{cur}.",
        ]

    def _group_rows(self, groups: tuple[GroupRisk, ...]) -> list[tuple[str, ...]]:
        return [
            (
                g.value if g.value is not None else "(none)",
                f"{g.risk.contracts:,}",
                _money(g.risk.revenue),
                _money(g.risk.expected),
                f"{_money(g.risk.low)} to {_money(g.risk.high)}",
            )
            for g in groups
        ]

    def _top_rows(self, top: int) -> list[tuple[str, ...]]:
        return [
            (
                r.account,
                r.on.isoformat(),
                "-" if r.health is None else f"{r.health:.0f}",
                f"{r.probability:.1%}",
                _money(r.revenue),
                _money(r.expected),
            )
            for r in self.renewals[:top]
        ]

    def _parts(
        self, top: int, *, short: bool = False
    ) -> list[tuple[str, tuple[str, ...], list[tuple[str, ...]], tuple[int, ...]]]:
        interval = f"{self.level:.0%} interval"
        loss = "exp. loss" if short else "expected loss"
        head = ("due" if short else "renewals", "revenue", loss, interval)
        parts: list[tuple[str, tuple[str, ...], list[tuple[str, ...]], tuple[int, ...]]] = []
        for title, groups in (("By owner", self.by_owner), ("By segment", self.by_segment)):
            if groups:
                column = groups[0].column
                parts.append((title, (column, *head), self._group_rows(groups), (1, 2, 3)))
        if self.renewals:
            chance = "chance" if short else "probability"
            parts.append(
                (
                    "Accounts with the most expected loss",
                    ("account", "renews", "health", chance, "revenue", loss),
                    self._top_rows(top),
                    (2, 3, 4, 5),
                )
            )
        return parts

    def to_text(self, width: int | None = 100, *, top: int = 10) -> str:
        """The section as plain-text tables, no line wider than ``width`` (``None``: any).

        Args:
            width: The widest line (at least 40).
            top: How many of the renewals with the most expected loss to list.

        Examples:
            >>> from stars.forecast import RenewalRisk
            >>> callable(RenewalRisk.to_text)
            True
        """
        import textwrap

        if width is not None:
            width = int(v.number("width", width, 40, integer=True))
        top = int(v.number("top", top, 0, integer=True))

        def para(text: str) -> list[str]:
            if width is None or len(text) <= width:
                return [text]
            return textwrap.wrap(text, width, subsequent_indent="  ", break_on_hyphens=False)

        title = self._title()
        lines = ["", *para(title)]
        lines.append("-" * max(len(x) for x in lines[1:]))
        for text in self._summary():
            lines += para(text)
        long, short = self._parts(top), self._parts(top, short=True)
        shortened = False
        for (name, head, rows, right), (_, brief, _, _) in zip(long, short, strict=True):
            if width is not None and _natural_width(head, rows) > width:
                head, shortened = brief, True
            lines += ["", *para(name + ":")]
            dates = {i for i, h in enumerate(head) if h == "renews"}  # a date never wraps
            lines += text_table(head, rows, right=right, fixed=dates, width=width, min_column=8)
        if shortened:
            lines += para(
                "(due: renewals; chance: of churn or contraction at renewal;"
                " exp. loss: expected loss)"
            )
        more = len(self.renewals) - min(top, len(self.renewals))
        if more > 0:
            lines += para(f"... and {more} more renewals (the JSON output lists all).")
        for n in self.notes:
            lines += para(f"Note: {n}")
        return "\n".join(lines)

    def to_markdown(self, *, top: int = 10) -> str:
        """The section as Markdown.

        Examples:
            >>> from stars.forecast import RenewalRisk
            >>> callable(RenewalRisk.to_markdown)
            True
        """
        top = int(v.number("top", top, 0, integer=True))
        lines = ["", f"## {self._title()}", ""]
        lines += [" ".join(self._summary())]
        for name, head, rows, _ in self._parts(top):
            lines += ["", f"### {name}", ""]
            lines.append("| " + " | ".join(head) + " |")
            lines.append("|" + "---|" * len(head))
            lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
        more = len(self.renewals) - min(top, len(self.renewals))
        if more > 0:
            lines += ["", f"... and {more} more renewals (the JSON output lists all)."]
        if self.notes:
            lines.append("")
            lines += [f"- Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_html(self, *, top: int = 10) -> str:
        """The section as an HTML fragment (a heading and tables), for a page or a notebook.

        Examples:
            >>> from stars.forecast import RenewalRisk
            >>> callable(RenewalRisk.to_html)
            True
        """
        from html import escape

        top = int(v.number("top", top, 0, integer=True))
        out = [f'<h2 id="revenue-at-risk">{escape(self._title())}</h2>']
        out += [f"<p>{escape(x)}</p>" for x in self._summary()]
        for name, head, rows, _ in self._parts(top):
            out.append(table(head, rows, caption=name))
        more = len(self.renewals) - min(top, len(self.renewals))
        if more > 0:
            out.append(f"<p>... and {more} more renewals (the JSON output lists all).</p>")
        out += [f'<p class="stars-note">Note: {escape(n)}</p>' for n in self.notes]
        return "\n".join(out)

    def _repr_html_(self) -> str:
        return framed(self.to_html())

    def to_dict(self) -> dict[str, Any]:
        """The section as plain JSON-ready data (every renewal, not only the top ones).

        Examples:
            >>> from datetime import date
            >>> from stars.forecast import RenewalRisk
            >>> empty = RenewalRisk(date(2025, 3, 1), 90, 0.9, None, None, (), (), (), ())
            >>> empty.to_dict()["total"] is None
            True
        """

        def risk(r: RevenueAtRisk) -> dict[str, Any]:
            out: dict[str, Any] = attrs.asdict(r)
            out["share"] = r.share
            return out

        return {
            "as_of": self.as_of.isoformat(),
            "last_day": self.last_day.isoformat(),
            "horizon_days": self.horizon_days,
            "level": self.level,
            "currency": self.currency,
            "total": None if self.total is None else risk(self.total),
            "message": None if self.total is not None else self._summary()[0],
            "renewals": [{**attrs.asdict(r), "on": r.on.isoformat()} for r in self.renewals],
            "by_owner": [{"owner": g.value, **risk(g.risk)} for g in self.by_owner],
            "by_segment": [{"segment": g.value, **risk(g.risk)} for g in self.by_segment],
            "notes": list(self.notes),
        }


def _natural_width(head: Sequence[str], rows: Sequence[Sequence[str]]) -> int:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    return sum(widths) + 2 * (len(widths) - 1)


def _health_on(account: Account | None, day: date) -> float | None:
    """The health of the account's latest snapshot with a score, on or before ``day`` (UTC)."""
    from datetime import UTC

    if account is None:
        return None
    for snap in reversed(account.snapshots):
        if snap.health is not None and snap.at.astimezone(UTC).date() <= day:
            return snap.health
    return None


def _sum_risk(
    model: RenewalModel, items: Sequence[tuple[RenewalAtRisk, str | None]], level: float
) -> RevenueAtRisk:
    """Expected loss and interval over renewals, as `RenewalModel.revenue_at_risk` does."""
    pooled = model.severity[""]
    e = var = log_q = revenue = 0.0
    for r, group in items:
        m, m2 = model.severity.get(group, pooled) if group is not None else pooled
        e += r.expected
        var += r.revenue * r.revenue * max(r.probability * m2 - (r.probability * m) ** 2, 0.0)
        log_q += math.log1p(-min(r.probability, 1 - _EPS))
        revenue += r.revenue
    low, high = _interval(e, var + model.overdispersion * e * e, math.exp(log_q), level)
    return RevenueAtRisk(len(items), revenue, e, low, high, level)


def renewal_risk(
    model: RenewalModel,
    accounts: Iterable[Account],
    contracts: ContractBook | Iterable[Contract],
    *,
    as_of: date,
    horizon_days: int = 90,
    level: float = 0.9,
    group: Callable[[Renewal], str | None] | None = None,
) -> RenewalRisk:
    """Revenue at risk over the contracts renewing in the coming days, from a fitted model.

    The renewals are those of the book whose renewal date falls from ``as_of`` up to
    ``as_of`` plus ``horizon_days`` (excluded). Renewals already signed (a successor
    contract is known) are left out: they are no longer at risk, and a note says how many.
    Each one's probability reads the account's health on ``as_of`` (its latest snapshot
    with a score on or before that day; without one, the training rate), and the days from
    ``as_of`` to the renewal when the model was fitted with them. The expected loss is the
    probability times the revenue times the share a bad renewal loses, summed; the
    interval is built as in `forecast`, with the model's overdispersion. The same is given
    by owner and by segment (read from ``segment:<value>`` tags) when accounts have them.

    Args:
        model: A fitted (or loaded) `RenewalModel`.
        accounts: The accounts, with their snapshots.
        contracts: A `stars.contracts.ContractBook`, or contracts to make one of.
        as_of: The day the forecast is made.
        horizon_days: The window's length in days (default 90).
        level: The interval's level (default 0.9).
        group: For a model fitted with ``by``: a function giving a renewal's group
            (default: the account's ``<by>:<value>`` tag, or its owner when ``by`` is
            ``"owner"``).

    Returns:
        The section: totals, groups and each renewal, with text, Markdown, HTML and JSON
        renderings.

    Raises:
        InvalidValue: For a bad argument.

    Examples:
        >>> from datetime import date, datetime, timezone
        >>> from stars import Account, Snapshot
        >>> from stars.contracts import Contract
        >>> from stars.forecast import RenewalModel, RiskCurve, renewal_risk
        >>> pooled = RiskCurve(None, None, (20.0, 80.0), (0.3, 0.1), 100, 20)
        >>> model = RenewalModel("health", None, None, (), (pooled,), 0.2, 100, 20,
        ...                      {"": (1.0, 1.0)}, 0.0)
        >>> day = datetime(2025, 1, 10, tzinfo=timezone.utc)
        >>> accounts = [Account("acme", owner="ann", snapshots=[Snapshot(at=day, health=20)]),
        ...             Account("bolt", owner="bo", snapshots=[Snapshot(at=day, health=80)])]
        >>> book = [Contract.for_term("acme", date(2024, 3, 1), 12, 1000, "USD"),
        ...         Contract.for_term("bolt", date(2024, 2, 1), 12, 500, "USD")]
        >>> risk = renewal_risk(model, accounts, book, as_of=date(2025, 1, 15))
        >>> risk.total.expected, [r.account for r in risk.renewals]
        (350.0, ['acme', 'bolt'])
    """
    from datetime import timedelta

    from stars.account import Account
    from stars.contracts import ContractBook

    if not isinstance(model, RenewalModel):
        raise InvalidValue("model", model, "a RenewalModel (fit_renewal_model or load)")
    if not isinstance(as_of, date):
        raise InvalidValue("as_of", as_of, "a date")
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    horizon_days = int(v.number("horizon_days", horizon_days, 1, 3660, integer=True))
    level = _level(level)
    book = contracts if isinstance(contracts, ContractBook) else ContractBook(contracts)
    if isinstance(accounts, str | bytes) or not isinstance(accounts, Iterable):  # type: ignore[unreachable]
        raise InvalidValue("accounts", accounts, "an iterable of Account values")
    index: dict[str, Account] = {}
    for i, a in enumerate(accounts):
        if not isinstance(a, Account):
            raise InvalidValue(f"accounts[{i}]", a, "an Account")
        index[a.id] = a
    end = as_of + timedelta(days=horizon_days)
    calendar = book.renewals(as_of, end)
    signed = sum(r.renewed for r in calendar)
    items: list[tuple[RenewalAtRisk, str | None]] = []
    no_health = 0
    for r in calendar:
        if r.renewed:
            continue
        holder = index.get(r.account) or index.get(r.contract.account)
        health = _health_on(holder, as_of)
        no_health += health is None
        key = group(r) if group is not None else _tag_group(model.by, holder)
        p = model.probability(health, (r.on - as_of).days, key)
        m = model.severity.get(key, model.severity[""]) if key else model.severity[""]
        segment = _tag_group("segment", holder)
        owner = holder.owner if holder is not None else None
        row = RenewalAtRisk(
            r.account, r.contract.id, r.on, r.arr, health, p, r.arr * p * m[0], owner, segment
        )
        items.append((row, key))
    items.sort(key=lambda x: (-x[0].expected, x[0].on, x[0].account))
    notes = []
    if signed:
        notes.append(
            f"{signed} renewal{'s' if signed != 1 else ''} in the window already signed"
            " (a successor contract is known) left out"
        )
    if no_health:
        notes.append(
            f"{no_health} renewing account{'s' if no_health != 1 else ''} had no health score"
            f" on {as_of}: the model's training rate was used"
        )
    if not items:
        return RenewalRisk(as_of, horizon_days, level, None, None, (), (), (), tuple(notes))

    def by(column: str) -> tuple[GroupRisk, ...]:
        parts: dict[str | None, list[tuple[RenewalAtRisk, str | None]]] = {}
        for item in items:
            parts.setdefault(getattr(item[0], column), []).append(item)
        if set(parts) == {None}:
            return ()
        out = [GroupRisk(column, k, _sum_risk(model, x, level)) for k, x in parts.items()]
        return tuple(sorted(out, key=lambda g: (-g.risk.expected, g.value or "")))

    return RenewalRisk(
        as_of,
        horizon_days,
        level,
        calendar[0].currency,
        _sum_risk(model, items, level),
        tuple(r for r, _ in items),
        by("owner"),
        by("segment"),
        tuple(notes),
    )


def _tag_group(by: str | None, account: Account | None) -> str | None:
    if by is None or account is None:
        return None
    if by == "owner":
        return account.owner
    prefix = by + ":"
    values = sorted(t[len(prefix) :] for t in account.tags if t.startswith(prefix))
    return values[0] if values else None


# -- reading a saved model ----------------------------------------------------------------

_MODEL_KEYS: Final = frozenset(
    {
        "format", "version", "health", "days", "by", "horizons", "curves", "base_rate", "rows",
        "positives", "severity", "overdispersion", "notes", "measures", "scorecard",
    }
)  # fmt: skip
_CURVE_KEYS: Final = frozenset({"group", "horizon", "health", "probability", "rows", "positives"})


def _fields(data: object, path: str, keys: frozenset[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise SchemaError(path, type(data).__name__, "a JSON object")
    for key in data:
        if key not in keys:
            raise SchemaError(
                f"{path}.{key}", data[key], f"no such field ({', '.join(sorted(keys))})"
            )
    for key in sorted(keys):
        if key not in data:
            raise SchemaError(f"{path}.{key}", "nothing", "the field (it is missing)")
    return data


def _name(path: str, value: object, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not value.strip() and not optional):
        raise SchemaError(path, value, "a text" + (" or null" if optional else ""))
    return value


def _count(path: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SchemaError(path, value, "a whole number of 0 or more")
    return value


def _real(path: str, value: object, lo: float, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SchemaError(path, value, "a number")
    if not math.isfinite(value) or value < lo or (hi is not None and value > hi):
        span = f"from {lo:g} to {hi:g}" if hi is not None else f"of {lo:g} or more"
        raise SchemaError(path, value, f"a number {span}")
    return float(value)


def _reals(path: str, value: object, lo: float, hi: float | None = None) -> tuple[float, ...]:
    if not isinstance(value, list):
        raise SchemaError(path, value, "a list of numbers")
    return tuple(_real(f"{path}[{i}]", x, lo, hi) for i, x in enumerate(value))


def _model_from_dict(data: object) -> RenewalModel:
    if isinstance(data, dict) and data.get("format") != MODEL_FORMAT:
        raise SchemaError("$.format", data.get("format"), repr(MODEL_FORMAT))
    if isinstance(data, dict) and data.get("version") != MODEL_VERSION:
        version = data.get("version")
        hint = "a newer stars wrote it" if isinstance(version, int) else "a format version"
        raise SchemaError("$.version", version, f"{MODEL_VERSION} ({hint})")
    d = _fields(data, "$", _MODEL_KEYS)
    health = _name("$.health", d["health"])
    assert health is not None
    days = _name("$.days", d["days"], optional=True)
    by = _name("$.by", d["by"], optional=True)
    horizons = _reals("$.horizons", d["horizons"], 0)
    if any(b <= a for a, b in itertools.pairwise(horizons)):
        raise SchemaError("$.horizons", d["horizons"], "edges in days, strictly increasing")
    if not isinstance(d["curves"], list) or not d["curves"]:
        raise SchemaError("$.curves", d["curves"], "a non-empty list of curves")
    curves = []
    seen: set[tuple[str | None, int | None]] = set()
    for i, raw in enumerate(d["curves"]):
        at = f"$.curves[{i}]"
        c = _fields(raw, at, _CURVE_KEYS)
        group = _name(f"{at}.group", c["group"], optional=True)
        if group is not None and by is None:
            raise SchemaError(f"{at}.group", group, "null (the model has no 'by' column)")
        horizon = c["horizon"]
        if horizon is not None:
            horizon = _count(f"{at}.horizon", horizon)
            if days is None or horizon > len(horizons):
                raise SchemaError(
                    f"{at}.horizon",
                    horizon,
                    "null" if days is None else f"a bucket from 0 to {len(horizons)}",
                )
        knots = _reals(f"{at}.health", c["health"], 0, 100)
        probs = _reals(f"{at}.probability", c["probability"], 0, 1)
        if not knots or len(knots) != len(probs):
            raise SchemaError(
                f"{at}.probability", f"{len(probs)} values", f"{len(knots)} values, at least one"
            )
        if any(b <= a for a, b in itertools.pairwise(knots)):
            raise SchemaError(f"{at}.health", c["health"], "knots strictly increasing")
        if any(b > a for a, b in itertools.pairwise(probs)):
            raise SchemaError(
                f"{at}.probability", c["probability"], "probabilities that never rise with health"
            )
        rows, positives = _count(f"{at}.rows", c["rows"]), _count(f"{at}.positives", c["positives"])
        if positives > rows:
            raise SchemaError(f"{at}.positives", positives, f"at most rows ({rows})")
        if (group, horizon) in seen:
            raise SchemaError(at, f"a second curve for {(group, horizon)}", "one curve per key")
        seen.add((group, horizon))
        curves.append(RiskCurve(group, horizon, knots, probs, rows, positives))
    if (None, None) not in seen:
        raise SchemaError(
            "$.curves", f"{len(curves)} curves", "the pooled curve (group and horizon null)"
        )
    rows, positives = _count("$.rows", d["rows"]), _count("$.positives", d["positives"])
    if positives > rows:
        raise SchemaError("$.positives", positives, f"at most rows ({rows})")
    if not isinstance(d["severity"], dict) or "" not in d["severity"]:
        raise SchemaError("$.severity", d["severity"], 'an object with the pooled entry ""')
    severity: dict[str, tuple[float, float]] = {}
    for g, pair in d["severity"].items():
        share = _reals(f"$.severity[{g!r}]", pair, 0, 1)
        if len(share) != 2:
            raise SchemaError(
                f"$.severity[{g!r}]", pair, "two numbers: the mean share and its square"
            )
        severity[g] = (share[0], share[1])
    for key in ("notes", "measures"):
        if not isinstance(d[key], list):
            raise SchemaError(f"$.{key}", d[key], "a list of texts")
        for i, x in enumerate(d[key]):
            _name(f"$.{key}[{i}]", x)
    return RenewalModel(
        health=health,
        days=days,
        by=by,
        horizons=horizons,
        curves=tuple(curves),
        base_rate=_real("$.base_rate", d["base_rate"], 0, 1),
        rows=rows,
        positives=positives,
        severity=severity,
        overdispersion=_real("$.overdispersion", d["overdispersion"], 0),
        notes=tuple(d["notes"]),
        measures=tuple(d["measures"]),
        scorecard=_name("$.scorecard", d["scorecard"], optional=True),
    )
