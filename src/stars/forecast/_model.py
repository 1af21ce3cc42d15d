"""The renewal model: probabilities, revenue at risk, saving and loading (`RenewalModel`)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from stars import _validate as v
from stars.errors import InvalidValue, SchemaError
from stars.forecast._common import _EPS, _Columns, _eager, _interval, _level, _numpy
from stars.forecast._curve import RiskCurve
from stars.forecast._format import _model_dict, _model_fields

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from stars.contracts import Renewal


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
        return _model_dict(self)

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


def _model_from_dict(data: object) -> RenewalModel:
    return RenewalModel(**_model_fields(data))
