"""Does a health score predict churn? Backtest a scorecard on outcomes, and calibrate it.

`backtest` scores every row of a history (one row per account and period, with
a 0/1 outcome such as "churned in the next period") and measures how well the score
ranks the rows that went on to churn: ROC AUC of the risk, average precision, the
outcome rate of each band with a Wilson interval, the churners that were green, each
measure's own AUC, a calibration table by score decile, and the AUC per period and per
segment. `calibrate` refits a scorecard's weights and band cut-offs on the early
periods and judges the result on the later ones. `Percentile` is a scoring rule
that places a value within a fitted reference distribution.

Scoring goes through the same expressions as `stars.frames.score`; the metrics
are computed with NumPy on whole columns, never row by row. Polars, pandas and pyarrow
frames all work; narwhals and NumPy are imported only when a function runs.

Examples:
    >>> import polars as pl
    >>> from stars.backtesting import backtest
    >>> from stars.health import Direction, Linear, Measure, Scorecard
    >>> card = Scorecard([Measure("adoption", 1, Direction.HIGHER_IS_BETTER, Linear(0, 1))])
    >>> history = pl.DataFrame({
    ...     "adoption": [0.1, 0.2, 0.6, 0.7, 0.9, 0.8],
    ...     "churned": [1, 0, 1, 0, 0, 0],
    ... })
    >>> result = backtest(history, card, outcome="churned")
    >>> result.rows, result.positives, round(result.auc, 3)
    (6, 2, 0.875)
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, overload

import attrs

from stars import _scoring, _tables
from stars import _validate as v
from stars._html import table
from stars._outcomes import group_codes as _group_codes
from stars._outcomes import last_training as _last_training
from stars._outcomes import load_numpy as _numpy
from stars._outcomes import outcome_values as _outcome
from stars._shown import article as _a
from stars.bands import Band, BandCutoffs
from stars.errors import (
    InvalidDefinition,
    InvalidValue,
    MissingDependency,
    SchemaError,
    StarsError,
)
from stars.frames import BAND, CONTRIBUTION_PREFIX, HEALTH, score
from stars.health import Direction, MissingPolicy, Scorecard, Steps

if TYPE_CHECKING:
    import argparse

    import narwhals.stable.v1 as nw
    from matplotlib.figure import Figure
    from numpy.typing import NDArray

__all__ = [
    "DIRECTION_MARGIN",
    "Backtest",
    "BandOutcome",
    "Calibration",
    "DecileOutcome",
    "GroupAUC",
    "MeasureCheck",
    "Percentile",
    "add_backtest_parser",
    "backtest",
    "calibrate",
    "calibration_warnings",
    "cli_backtest",
    "fit_percentile",
    "fit_rules",
    "scorecard_digest",
]

#: A measure whose own AUC is below ``0.5 - DIRECTION_MARGIN`` is flagged: in this data
#: it ranks churners the opposite way to its declared direction.
DIRECTION_MARGIN: Final = 0.05

#: The normal quantile for a two-sided 95% interval.
_Z95: Final = 1.959963984540054

#: At most this many points of the ROC curve are kept for plotting.
_ROC_POINTS: Final = 201

#: `calibrate` finds the green cut-off on this many equal-count bins of score.
_GREEN_BINS: Final = 20


# -- small validators ------------------------------------------------------------------


_count = v.field(v.number, 0, integer=True)
_share = v.field(v.number, 0, 1)
_optional_share = v.field(v.number, 0, 1, optional=True)
_optional_positive = v.field(v.number, 0, optional=True)
_score = v.field(v.number, 0, 100)
_name = v.field(v.text)


def _to_notes(value: object) -> tuple[str, ...]:
    return v.tuple_of("notes", str)(value)


def _to_bands(value: object) -> tuple[BandOutcome, ...]:
    return v.tuple_of("bands", BandOutcome)(value)


def _to_checks(value: object) -> tuple[MeasureCheck, ...]:
    return v.tuple_of("measures", MeasureCheck)(value)


def _to_deciles(value: object) -> tuple[DecileOutcome, ...]:
    return v.tuple_of("deciles", DecileOutcome)(value)


def _to_periods(value: object) -> tuple[GroupAUC, ...]:
    return v.tuple_of("periods", GroupAUC)(value)


def _to_segments(value: object) -> tuple[GroupAUC, ...]:
    return v.tuple_of("segments", GroupAUC)(value)


def _to_roc(value: object) -> tuple[tuple[float, float], ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidValue("roc", value, "a sequence of (false positive rate, true positive rate)")
    out = []
    for i, point in enumerate(value):
        if not isinstance(point, Sequence) or len(point) != 2:
            raise InvalidValue(f"roc[{i}]", point, "a pair of shares from 0 to 1")
        out.append((v.number(f"roc[{i}]", point[0], 0, 1), v.number(f"roc[{i}]", point[1], 0, 1)))
    return tuple(out)


def _to_band(value: object) -> Band:
    if isinstance(value, Band):
        return value
    try:
        return Band(str(value))
    except ValueError:
        raise InvalidValue("band", value, "'red', 'yellow' or 'green'") from None


def _to_direction(value: object) -> Direction:
    if isinstance(value, Direction):
        return value
    try:
        return Direction(str(value))
    except ValueError:
        raise InvalidValue("direction", value, "'higher_is_better' or 'lower_is_better'") from None


def _float(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _optional_float(value: Any) -> Any:
    return None if value is None else _float(value)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"


def _auc_text(x: float | None) -> str:
    return "undefined" if x is None else f"{x:.3f}"


# -- result values ---------------------------------------------------------------------


@attrs.frozen(slots=True)
class BandOutcome:
    """How often the rows of one band went on to the outcome.

    Attributes:
        band: The band.
        rows: Rows scored in this band.
        positives: Of those, rows with outcome 1.
        rate: ``positives / rows`` (``None`` when the band is empty).
        low: Lower end of the 95% Wilson interval of the rate.
        high: Upper end of the 95% Wilson interval of the rate.
        lift: The rate divided by the overall base rate.

    Examples:
        >>> from stars.backtesting import BandOutcome
        >>> red = BandOutcome("red", 50, 10, 0.2, 0.11, 0.33, 4.0)
        >>> red.band.value, red.rate
        ('red', 0.2)
    """

    band: Band = attrs.field(converter=_to_band)
    rows: int = attrs.field(validator=_count)
    positives: int = attrs.field(validator=_count)
    rate: float | None = attrs.field(converter=_optional_float, validator=_optional_share)
    low: float | None = attrs.field(converter=_optional_float, validator=_optional_share)
    high: float | None = attrs.field(converter=_optional_float, validator=_optional_share)
    lift: float | None = attrs.field(converter=_optional_float, validator=_optional_positive)


@attrs.frozen(slots=True)
class MeasureCheck:
    """How well one measure, on its own, ranks the rows that went on to the outcome.

    Attributes:
        name: The measure.
        direction: Its declared direction; the AUC is computed that way round.
        weight: Its normalised weight in the scorecard.
        auc: Its AUC over the rows where it has a value (``None`` if undefined there).
        missing_share: Share of rows where it had no value.
        direction_warning: True when ``auc`` is below ``0.5 - DIRECTION_MARGIN``: the data
            says the measure points the other way.
        note: Why the AUC is undefined, when it is.

    Examples:
        >>> from stars.backtesting import MeasureCheck
        >>> m = MeasureCheck("open_tickets", "lower_is_better", 0.25, 0.41, 0.0, True)
        >>> m.direction_warning
        True
    """

    name: str = attrs.field(validator=_name)
    direction: Direction = attrs.field(converter=_to_direction)
    weight: float = attrs.field(converter=_float, validator=_share)
    auc: float | None = attrs.field(converter=_optional_float, validator=_optional_share)
    missing_share: float = attrs.field(converter=_float, validator=_share)
    direction_warning: bool = attrs.field(validator=lambda i, a, x: v.flag(a.name, x))
    note: str | None = attrs.field(default=None, validator=v.field(v.text, optional=True))


@attrs.frozen(slots=True)
class DecileOutcome:
    """The outcome rate of one score decile (decile 1 holds the lowest scores).

    Rows with equal scores stay in one decile, so deciles can differ in size.

    Attributes:
        decile: 1 to 10.
        rows: Rows in the decile.
        positives: Of those, rows with outcome 1.
        rate: ``positives / rows``.
        score_low: Lowest health score in the decile.
        score_high: Highest health score in the decile.
        mean_score: Mean health score in the decile.

    Examples:
        >>> from stars.backtesting import DecileOutcome
        >>> DecileOutcome(1, 100, 30, 0.3, 0.0, 21.5, 12.0).rate
        0.3
    """

    decile: int = attrs.field(validator=lambda i, a, x: v.number(a.name, x, 1, 10, integer=True))
    rows: int = attrs.field(validator=_count)
    positives: int = attrs.field(validator=_count)
    rate: float = attrs.field(converter=_float, validator=_share)
    score_low: float = attrs.field(converter=_float, validator=_score)
    score_high: float = attrs.field(converter=_float, validator=_score)
    mean_score: float = attrs.field(converter=_float, validator=_score)


@attrs.frozen(slots=True)
class GroupAUC:
    """The AUC within one period or one segment.

    Attributes:
        label: The period or segment, as text (dates in ISO form).
        rows: Rows in the group.
        positives: Of those, rows with outcome 1.
        auc: The AUC within the group, or ``None`` when it is undefined there.
        note: Why it is undefined, when it is.

    Examples:
        >>> from stars.backtesting import GroupAUC
        >>> GroupAUC("2025-03-01", 120, 0, None, "no rows with outcome 1").auc is None
        True
    """

    label: str = attrs.field(validator=lambda i, a, x: v.text(a.name, x, empty=True))
    rows: int = attrs.field(validator=_count)
    positives: int = attrs.field(validator=_count)
    auc: float | None = attrs.field(converter=_optional_float, validator=_optional_share)
    note: str | None = attrs.field(default=None, validator=v.field(v.text, optional=True))


@attrs.frozen(slots=True)
class Backtest:
    """How well a scorecard ranked the rows that went on to the outcome.

    Made by `backtest`. The AUC is that of the risk: a lower health score should
    mean a likelier outcome. 0.5 is a coin toss, 1.0 ranks every positive row first.

    Attributes:
        outcome: The outcome column.
        rows: Rows scored.
        positives: Rows with outcome 1.
        auc: ROC AUC of the risk (equal scores count half).
        average_precision: Average precision of the risk ranking (the base rate is what a
            random ranking would get).
        cutoffs: The band cut-offs used.
        bands: The outcome rate of each band, red to green.
        green_but_churned: Share of the positive rows that were green at the time.
        measures: Each measure's own AUC and missing share.
        deciles: The outcome rate by health decile, lowest scores first.
        roc: Points (false positive rate, true positive rate) of the ROC curve, thinned
            to at most 201 points, from (0, 0) to (1, 1).
        period: The period column, when one was given.
        periods: The AUC per period, in time order.
        segment: The segment column, when one was given.
        segments: The AUC per segment.
        notes: Anything the reader should know (undefined AUCs, reversed measures).

    Examples:
        >>> import pandas as pd
        >>> from stars.backtesting import backtest
        >>> from stars.health import Direction, Linear, Measure, Scorecard
        >>> card = Scorecard([Measure("usage", 1, Direction.HIGHER_IS_BETTER, Linear(0, 10))])
        >>> frame = pd.DataFrame({"usage": [1, 2, 3, 8, 9, 9], "left": [1, 1, 0, 0, 0, 0]})
        >>> result = backtest(frame, card, outcome="left")
        >>> result.auc, round(result.base_rate, 3), round(result.bands[0].rate, 3)
        (1.0, 0.333, 0.667)
    """

    outcome: str = attrs.field(validator=_name)
    rows: int = attrs.field(validator=_count)
    positives: int = attrs.field(validator=_count)
    auc: float = attrs.field(converter=_float, validator=_share)
    average_precision: float = attrs.field(converter=_float, validator=_share)
    cutoffs: BandCutoffs = attrs.field(validator=lambda i, a, x: _instance(a.name, x, BandCutoffs))
    bands: tuple[BandOutcome, ...] = attrs.field(converter=_to_bands)
    green_but_churned: float = attrs.field(converter=_float, validator=_share)
    measures: tuple[MeasureCheck, ...] = attrs.field(converter=_to_checks)
    deciles: tuple[DecileOutcome, ...] = attrs.field(converter=_to_deciles)
    roc: tuple[tuple[float, float], ...] = attrs.field(converter=_to_roc)
    period: str | None = attrs.field(default=None, validator=v.field(v.text, optional=True))
    periods: tuple[GroupAUC, ...] = attrs.field(default=(), converter=_to_periods)
    segment: str | None = attrs.field(default=None, validator=v.field(v.text, optional=True))
    segments: tuple[GroupAUC, ...] = attrs.field(default=(), converter=_to_segments)
    notes: tuple[str, ...] = attrs.field(default=(), converter=_to_notes)

    @property
    def base_rate(self) -> float:
        """The share of rows with outcome 1.

        Examples:
            >>> import polars as pl
            >>> from stars.backtesting import backtest
            >>> from stars.health import Direction, Linear, Measure, Scorecard
            >>> card = Scorecard([Measure("x", 1, Direction.HIGHER_IS_BETTER, Linear(0, 1))])
            >>> frame = pl.DataFrame({"x": [0.1, 0.5, 0.9, 0.7], "y": [1, 0, 0, 0]})
            >>> backtest(frame, card, outcome="y").base_rate
            0.25
        """
        return self.positives / self.rows

    def band(self, band: Band | str) -> BandOutcome:
        """The outcome of one band.

        Args:
            band: A band or its name.

        Returns:
            That band's row of `bands`.

        Examples:
            >>> import polars as pl
            >>> from stars.backtesting import backtest
            >>> from stars.health import Direction, Linear, Measure, Scorecard
            >>> card = Scorecard([Measure("x", 1, Direction.HIGHER_IS_BETTER, Linear(0, 1))])
            >>> frame = pl.DataFrame({"x": [0.1, 0.5, 0.9, 0.7], "y": [1, 0, 0, 0]})
            >>> backtest(frame, card, outcome="y").band("green").rows
            2
        """
        wanted = _to_band(band)
        return next(b for b in self.bands if b.band is wanted)

    def explain(self) -> str:
        """A plain-text report: overall ranking, bands, measures, periods, notes.

        Examples:
            >>> import polars as pl
            >>> from stars.backtesting import backtest
            >>> from stars.health import Direction, Linear, Measure, Scorecard
            >>> card = Scorecard([Measure("x", 1, Direction.HIGHER_IS_BETTER, Linear(0, 1))])
            >>> frame = pl.DataFrame({"x": [0.1, 0.5, 0.9, 0.7], "y": [1, 0, 0, 0]})
            >>> print(backtest(frame, card, outcome="y").explain())  # doctest: +ELLIPSIS
            Backtest on 4 rows: 1 with y = 1 (base rate 25.0%)
            AUC 1.000 (0.5 is chance); average precision 1.000
            Green but churned: 0.0% of the positive rows were green
            ...
        """
        lines = [
            f"Backtest on {self.rows:,} rows: {self.positives:,} with {self.outcome} = 1 "
            f"(base rate {self.base_rate:.1%})",
            f"AUC {self.auc:.3f} (0.5 is chance); average precision {self.average_precision:.3f}",
            f"Green but churned: {self.green_but_churned:.1%} of the positive rows were green",
            "Bands (rate with 95% interval, lift over the base rate):",
        ]
        for b in self.bands:
            interval = "" if b.rate is None else f" [{_pct(b.low)}, {_pct(b.high)}]"
            lift = "" if b.lift is None else f"  lift {b.lift:.2f}x"
            lines.append(
                f"  {b.band.value:<7}{b.rows:>9,} rows {b.positives:>7,} positive  "
                f"rate {_pct(b.rate)}{interval}{lift}"
            )
        lines.append("Measures (own AUC in the declared direction, share missing):")
        width = max(len(m.name) for m in self.measures)
        for m in self.measures:
            flag = "  <- backwards in this data" if m.direction_warning else ""
            lines.append(
                f"  {m.name:<{width}}  AUC {_auc_text(m.auc)}  weight {m.weight:.0%}  "
                f"missing {m.missing_share:.0%}{flag}"
            )
        for title, column, groups in (
            ("period", self.period, self.periods),
            ("segment", self.segment, self.segments),
        ):
            if groups:
                lines.append(f"AUC by {title} ({column}):")
                for g in groups:
                    lines.append(
                        f"  {g.label:<12} AUC {_auc_text(g.auc)}  ({g.rows:,} rows, "
                        f"{g.positives:,} positive)"
                    )
        lines.extend(f"Note: {n}" for n in self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready data (enums as their values, tuples as lists).

        Examples:
            >>> import json, polars as pl
            >>> from stars.backtesting import backtest
            >>> from stars.health import Direction, Linear, Measure, Scorecard
            >>> card = Scorecard([Measure("x", 1, Direction.HIGHER_IS_BETTER, Linear(0, 1))])
            >>> frame = pl.DataFrame({"x": [0.1, 0.5, 0.9, 0.7], "y": [1, 0, 0, 0]})
            >>> data = backtest(frame, card, outcome="y").to_dict()
            >>> data["auc"], data["bands"][0]["band"], data["base_rate"]
            (1.0, 'red', 0.25)
            >>> isinstance(json.dumps(data), str)
            True
        """
        out: dict[str, Any] = _plain(self)
        out["base_rate"] = self.base_rate
        return out

    def _repr_html_(self) -> str:
        summary = table(
            ("rows", "positives", "base rate", "AUC", "avg precision", "green but churned"),
            [
                (
                    f"{self.rows:,}",
                    f"{self.positives:,}",
                    _pct(self.base_rate),
                    f"{self.auc:.3f}",
                    f"{self.average_precision:.3f}",
                    _pct(self.green_but_churned),
                )
            ],
            caption=f"Backtest against {self.outcome}",
        )
        bands = table(
            ("band", "rows", "positives", "rate", "95% interval", "lift"),
            [
                (
                    b.band.value,
                    b.rows,
                    b.positives,
                    _pct(b.rate),
                    None if b.rate is None else f"{_pct(b.low)} – {_pct(b.high)}",
                    None if b.lift is None else f"{b.lift:.2f}x",
                )
                for b in self.bands
            ],
            caption="Outcome by band",
        )
        measures = table(
            ("measure", "direction", "weight", "AUC", "missing", "warning"),
            [
                (
                    m.name,
                    m.direction.value,
                    f"{m.weight:.0%}",
                    _auc_text(m.auc),
                    _pct(m.missing_share),
                    "backwards in this data" if m.direction_warning else "",
                )
                for m in self.measures
            ],
            caption="Measures on their own",
        )
        html = summary + bands + measures
        for title, groups in (("period", self.periods), ("segment", self.segments)):
            if groups:
                html += table(
                    (title, "rows", "positives", "AUC"),
                    [(g.label, g.rows, g.positives, _auc_text(g.auc)) for g in groups],
                    caption=f"AUC by {title}",
                )
        if self.notes:
            html += table(("note",), [(n,) for n in self.notes])
        return html

    def plot_roc(self) -> Figure:
        """The ROC curve of the risk, with the chance line (needs the ``plot`` extra).

        Returns:
            A matplotlib Figure.

        Examples:
            >>> import polars as pl
            >>> from stars.backtesting import backtest
            >>> from stars.health import Direction, Linear, Measure, Scorecard
            >>> card = Scorecard([Measure("x", 1, Direction.HIGHER_IS_BETTER, Linear(0, 1))])
            >>> frame = pl.DataFrame({"x": [0.1, 0.5, 0.9, 0.7], "y": [1, 0, 0, 0]})
            >>> fig = backtest(frame, card, outcome="y").plot_roc()
            >>> fig.axes[0].get_xlabel()
            'false positive rate'
        """
        fig, ax = _figure()
        xs, ys = zip(*self.roc, strict=True)
        ax.plot(xs, ys, label=f"health score (AUC {self.auc:.3f})")
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_title(f"Does health rank {self.outcome}?")
        ax.legend(loc="lower right")
        return fig

    def plot_bands(self) -> Figure:
        """The outcome rate of each band with its 95% interval and the base rate.

        Returns:
            A matplotlib Figure.

        Examples:
            >>> import polars as pl
            >>> from stars.backtesting import backtest
            >>> from stars.health import Direction, Linear, Measure, Scorecard
            >>> card = Scorecard([Measure("x", 1, Direction.HIGHER_IS_BETTER, Linear(0, 1))])
            >>> frame = pl.DataFrame({"x": [0.1, 0.5, 0.9, 0.7], "y": [1, 0, 0, 0]})
            >>> len(backtest(frame, card, outcome="y").plot_bands().axes)
            1
        """
        fig, ax = _figure()
        shown = [b for b in self.bands if b.rate is not None]
        colors = {Band.RED: "tab:red", Band.YELLOW: "goldenrod", Band.GREEN: "tab:green"}
        for i, b in enumerate(shown):
            rate, low, high = b.rate or 0.0, b.low or 0.0, b.high or 0.0
            ax.bar(i, rate, color=colors[b.band])
            ax.errorbar(i, rate, yerr=[[rate - low], [high - rate]], color="black", capsize=6)
        ax.axhline(self.base_rate, linestyle="--", color="grey", label="base rate")
        ax.set_xticks(range(len(shown)), [b.band.value for b in shown])
        ax.set_ylabel(f"share with {self.outcome} = 1")
        ax.set_title("Outcome rate by band (95% Wilson intervals)")
        ax.legend()
        return fig

    def plot_deciles(self) -> Figure:
        """Calibration: the outcome rate of each health decile against its mean score.

        Returns:
            A matplotlib Figure.

        Examples:
            >>> import polars as pl
            >>> from stars.backtesting import backtest
            >>> from stars.health import Direction, Linear, Measure, Scorecard
            >>> card = Scorecard([Measure("x", 1, Direction.HIGHER_IS_BETTER, Linear(0, 1))])
            >>> frame = pl.DataFrame({"x": [0.1, 0.5, 0.9, 0.7], "y": [1, 0, 0, 0]})
            >>> backtest(frame, card, outcome="y").plot_deciles().axes[0].get_xlabel()
            'mean health score of the decile'
        """
        fig, ax = _figure()
        ax.plot(
            [d.mean_score for d in self.deciles],
            [d.rate for d in self.deciles],
            marker="o",
            label="decile",
        )
        ax.axhline(self.base_rate, linestyle="--", color="grey", label="base rate")
        ax.set_xlabel("mean health score of the decile")
        ax.set_ylabel(f"share with {self.outcome} = 1")
        ax.set_xlim(0, 100)
        ax.set_title("Outcome rate by health decile")
        ax.legend()
        return fig


def _instance(field: str, value: object, kind: type[Any]) -> None:
    if not isinstance(value, kind):
        raise InvalidValue(field, value, _a(kind.__name__))


@attrs.frozen(slots=True)
class Calibration:
    """A scorecard refitted on early periods and judged on the later ones.

    Made by `calibrate`.

    Attributes:
        scorecard: The fitted scorecard: the same measures, rules, groups and missing
            policy, with new weights and band cut-offs. Use it like any other.
        previous: The scorecard that was calibrated.
        period: The period column.
        train_until: The last training period (as text).
        train_rows: Rows used for fitting.
        train_positives: Of those, rows with outcome 1.
        before: The backtest of ``previous`` on the held-out rows.
        after: The backtest of ``scorecard`` on the held-out rows.
        notes: How the cut-offs were chosen, and anything unusual in the fit.

    Examples:
        >>> from stars.backtesting import calibrate
        >>> from stars.health import Direction, Linear, Measure, Scorecard
        >>> from stars.testing import synthetic_history
        >>> history = synthetic_history(400, 8, seed=3, signal=2.0)
        >>> up, down = Direction.HIGHER_IS_BETTER, Direction.LOWER_IS_BETTER
        >>> card = Scorecard([
        ...     Measure("adoption", 1, up, Linear(0, 1)),
        ...     Measure("open_tickets", 3, down, Linear(0, 12)),
        ... ])
        >>> fit = calibrate(history, card, outcome="churned", period="period",
        ...                 train_until="2024-05-01")
        >>> fit.weights["adoption"] > fit.previous.weights["adoption"]
        True
        >>> fit.after.auc > fit.before.auc
        True
    """

    scorecard: Scorecard = attrs.field(validator=lambda i, a, x: _instance(a.name, x, Scorecard))
    previous: Scorecard = attrs.field(validator=lambda i, a, x: _instance(a.name, x, Scorecard))
    period: str = attrs.field(validator=_name)
    train_until: str = attrs.field(validator=_name)
    train_rows: int = attrs.field(validator=_count)
    train_positives: int = attrs.field(validator=_count)
    before: Backtest = attrs.field(validator=lambda i, a, x: _instance(a.name, x, Backtest))
    after: Backtest = attrs.field(validator=lambda i, a, x: _instance(a.name, x, Backtest))
    notes: tuple[str, ...] = attrs.field(default=(), converter=_to_notes)

    @property
    def weights(self) -> dict[str, float]:
        """The fitted weights (non-negative, adding up to 1).

        Examples:
            >>> from stars.backtesting import Calibration
            >>> Calibration.weights.__doc__.split(".")[0]
            'The fitted weights (non-negative, adding up to 1)'
        """
        return self.scorecard.weights

    def explain(self) -> str:
        """A plain-text account of the new weights and cut-offs, and the held-out results.

        Examples:
            >>> from stars.backtesting import Calibration
            >>> callable(Calibration.explain)
            True
        """
        old = self.previous.weights
        lines = [
            f"Calibrated on {self.train_rows:,} rows up to {self.period} = {self.train_until} "
            f"({self.train_positives:,} positive); judged on {self.after.rows:,} later rows",
            "Weights (before -> after):",
        ]
        width = max(len(n) for n in old)
        for name, weight in self.weights.items():
            lines.append(f"  {name:<{width}}  {old[name]:6.1%} -> {weight:6.1%}")
        before, after = self.previous.cutoffs, self.scorecard.cutoffs
        lines.append(
            f"Bands: red below {before.red_below:g} -> {after.red_below:.1f}, "
            f"green from {before.green_from:g} -> {after.green_from:.1f}"
        )
        lines.append(f"Held-out AUC: {self.before.auc:.3f} -> {self.after.auc:.3f}")
        lines.append(
            "Held-out green but churned: "
            f"{self.before.green_but_churned:.1%} -> {self.after.green_but_churned:.1%}"
        )
        lines.extend(f"Note: {n}" for n in self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready data; the scorecards as plain dicts too.

        Examples:
            >>> from stars.backtesting import Calibration
            >>> "to_dict" in dir(Calibration)
            True
        """
        out: dict[str, Any] = _plain(self)
        out["before"]["base_rate"] = self.before.base_rate
        out["after"]["base_rate"] = self.after.base_rate
        return out

    def _repr_html_(self) -> str:
        old = self.previous.weights
        html = table(
            ("measure", "weight before", "weight after"),
            [(n, f"{old[n]:.1%}", f"{w:.1%}") for n, w in self.weights.items()],
            caption=f"Calibrated up to {self.period} = {self.train_until}",
        )
        html += table(
            ("held out", "before", "after"),
            [
                ("AUC", f"{self.before.auc:.3f}", f"{self.after.auc:.3f}"),
                (
                    "green but churned",
                    _pct(self.before.green_but_churned),
                    _pct(self.after.green_but_churned),
                ),
                (
                    "red below",
                    f"{self.previous.cutoffs.red_below:.1f}",
                    f"{self.scorecard.cutoffs.red_below:.1f}",
                ),
                (
                    "green from",
                    f"{self.previous.cutoffs.green_from:.1f}",
                    f"{self.scorecard.cutoffs.green_from:.1f}",
                ),
            ],
        )
        if self.notes:
            html += table(("note",), [(n,) for n in self.notes])
        return html


# -- the percentile rule ---------------------------------------------------------------


@attrs.frozen(slots=True)
class Percentile(Steps):
    """A relative rule: a value scores its percentile within a reference distribution.

    The reference is stored, not looked up: ``thresholds`` are the distinct quantiles of
    the reference values and ``scores`` the percentile each one reaches (0-100, rising
    for a higher-is-better measure, falling for a lower-is-better one). So an account
    scores the same alone as in any batch, and the rule saves like any other. It is a
    kind of `Steps`, so every scorecard and DataFrame function
    accepts it. Make one with `fit_percentile`.

    Attributes:
        thresholds: The distinct reference quantiles, increasing.
        scores: The percentile below the first quantile, then at each quantile.

    Examples:
        >>> from stars.backtesting import Percentile
        >>> from stars.health import Direction
        >>> rule = Percentile((10, 20, 30), (0, 50, 75, 100))
        >>> rule.apply(25, Direction.HIGHER_IS_BETTER)
        75.0
        >>> Percentile((1, 2), (0, 80, 40))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidDefinition: a Percentile rule's scores must run one way, ...
    """

    def __attrs_post_init__(self) -> None:
        Steps.__attrs_post_init__(self)
        pairs = list(zip(self.scores, self.scores[1:], strict=False))
        if not (all(a <= b for a, b in pairs) or all(a >= b for a, b in pairs)):
            raise InvalidDefinition(
                f"a Percentile rule's scores must run one way, got {self.scores!r}"
            )


@overload
def fit_percentile(
    frame: Any,
    column: str,
    *,
    direction: Direction | str,
    quantiles: int = 101,
    segment: None = None,
) -> Percentile: ...


@overload
def fit_percentile(
    frame: Any,
    column: str,
    *,
    direction: Direction | str,
    quantiles: int = 101,
    segment: str,
) -> dict[str, Percentile]: ...


def fit_percentile(
    frame: Any,
    column: str,
    *,
    direction: Direction | str,
    quantiles: int = 101,
    segment: str | None = None,
) -> Percentile | dict[str, Percentile]:
    """Fit a `Percentile` rule from the values of one column.

    The reference distribution is kept as ``quantiles`` evenly spaced quantiles (for
    each level, the smallest observed value with at least that share of the reference
    at or below it; never an interpolation). A value then scores the share of the
    reference at or below it, rounded down to a whole quantile step of
    ``100 / (quantiles - 1)`` points. Missing values are left out of the reference.

    Args:
        frame: A polars, pandas or pyarrow DataFrame.
        column: The numeric column to fit on.
        direction: The direction of the measure the rule is for: with
            ``lower_is_better`` a value at the bottom of the reference scores 100.
        quantiles: How many quantiles to keep (2 to 10001); 101 gives whole percentiles.
        segment: When given, one rule per value of this column (for scoring accounts
            against their own segment), keyed by the value as text.

    Returns:
        The rule, or a dict of rules by segment.

    Raises:
        InvalidValue: If the column is absent, not numeric, holds NaN or infinity, or has
            no values (in some segment), or if ``quantiles`` is out of range.

    Examples:
        >>> import polars as pl
        >>> from stars.backtesting import fit_percentile
        >>> from stars.health import Direction, Measure, Scorecard
        >>> frame = pl.DataFrame({"days": [3, 7, 7, 14, 30], "tier": ["a", "a", "b", "b", "b"]})
        >>> rule = fit_percentile(frame, "days", direction="lower_is_better", quantiles=5)
        >>> rule.thresholds, rule.scores
        ((3.0, 7.0, 14.0, 30.0), (100.0, 100.0, 50.0, 25.0, 0.0))
        >>> card = Scorecard([Measure("days", 1, "lower_is_better", rule)])
        >>> card.score({"days": 10}).score
        50.0
        >>> sorted(fit_percentile(frame, "days", direction="lower_is_better", segment="tier"))
        ['a', 'b']
    """
    np = _numpy()
    way = _to_direction(direction)
    count = int(v.number("quantiles", quantiles, 2, 10001, integer=True))
    _tables.require_narwhals()
    df, _ = _tables.eager(frame)
    (x,) = _tables.numeric_columns(df, [column])
    values = df.select(x.alias(column)).get_column(column).to_numpy().astype(np.float64)
    bad = ~np.isnan(values) & ~np.isfinite(values)
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise InvalidValue(column, values[bad][:5].tolist(), "finite numbers", hint=f"rows {rows}")
    if segment is None:
        return _percentile(np, values[~np.isnan(values)], count, way, column)
    codes, labels, _ = _group_codes(df, segment)
    out: dict[str, Percentile] = {}
    for i, label in enumerate(labels):
        chosen = values[(codes == i) & ~np.isnan(values)]
        out[label] = _percentile(np, chosen, count, way, f"{column} in {segment} {label!r}")
    return out


def _percentile(np: Any, values: NDArray[Any], count: int, way: Direction, what: str) -> Percentile:
    if values.size == 0:
        raise InvalidValue(what, [], "at least one value to fit a percentile rule on")
    ordered = np.sort(values)
    # The inverse of the empirical distribution: for each level, the smallest value
    # with at least that share of the reference at or below it.
    picks = np.maximum((np.arange(count) * ordered.size + count - 2) // (count - 1) - 1, 0)
    q = ordered[picks]
    thresholds = np.unique(q)
    reached = 100.0 * (np.searchsorted(q, thresholds, side="right") - 1) / (count - 1)
    if way is Direction.HIGHER_IS_BETTER:
        scores = [0.0, *reached.tolist()]
    else:
        scores = [100.0, *(100.0 - reached).tolist()]
    return Percentile(tuple(thresholds.tolist()), tuple(scores))


# -- preparing a frame -----------------------------------------------------------------


class _Prepared:
    """Whole-column arrays for one frame and scorecard (private, never returned)."""

    __slots__ = ("health", "measure_scores", "n", "period", "segment", "y")

    def __init__(
        self,
        health: NDArray[Any],
        y: NDArray[Any],
        measure_scores: list[NDArray[Any]],
        period: tuple[NDArray[Any], list[str], NDArray[Any]] | None,
        segment: tuple[NDArray[Any], list[str]] | None,
    ) -> None:
        self.health = health
        self.y = y
        self.measure_scores = measure_scores
        self.period = period
        self.segment = segment
        self.n = int(y.size)


def _prepare(
    frame: Any,
    scorecard: Scorecard,
    outcome: str,
    period: str | None,
    segment: str | None,
) -> tuple[nw.DataFrame[Any], _Prepared]:
    _numpy()
    _tables.require_narwhals()
    if not isinstance(scorecard, Scorecard):
        raise InvalidValue("scorecard", scorecard, "a Scorecard")
    df, _ = _tables.eager(frame)
    for field, name in (("outcome", outcome), ("period", period), ("segment", segment)):
        if name is not None or field == "outcome":
            v.text(field, name)
            if name not in df.columns:
                raise InvalidValue(
                    field, name, f"a column of the frame ({len(df.columns)} columns)"
                )
    if len(df) == 0:
        raise InvalidValue("frame", "0 rows", "at least one row to backtest on")
    y = _outcome(df, outcome)
    xs = _tables.numeric_columns(df, scorecard.names)
    _scoring.check_frame_values(df, scorecard, xs)
    health, scores = _health(df, scorecard, xs, with_measures=True)
    periods = None
    if period is not None:
        periods = _group_codes(df, period, ordered=True)
    segments = _group_codes(df, segment)[:2] if segment is not None else None
    return df, _Prepared(health, y, scores, periods, segments)


def _health(
    df: nw.DataFrame[Any], scorecard: Scorecard, xs: Sequence[nw.Expr], *, with_measures: bool
) -> tuple[NDArray[Any], list[NDArray[Any]]]:
    """Health (and each measure's own 0-100 score) as arrays, via stars._scoring's plan."""
    import narwhals.stable.v1 as nw

    shared = df.implementation is nw.Implementation.POLARS
    steps = _scoring.frame_steps(
        scorecard,
        xs,
        df.columns,
        outputs=[CONTRIBUTION_PREFIX + n for n in scorecard.names],
        health=HEALTH,
        band=BAND,
        shared=shared,
    )
    steps = [s for s in ({k: e for k, e in step.items() if k != BAND} for step in steps) if s]
    measure_cols: list[str] = []
    if with_measures:
        taken = [*df.columns, *(k for step in steps for k in step)]
        first: dict[str, nw.Expr] = {}
        for i, (m, x) in enumerate(zip(scorecard.measures, xs, strict=True)):
            name = _tables.free_name([*taken, *measure_cols], f"__stars_measure_{i}__")
            measure_cols.append(name)
            first[name] = _scoring.rule_expr(m, x)
        steps.insert(0, first)
    plan = df.lazy()
    for step in steps:
        plan = plan.with_columns(**step)
    out = plan.select(HEALTH, *measure_cols).collect()
    health = out.get_column(HEALTH).to_numpy()
    scores = [out.get_column(c).to_numpy() for c in measure_cols]
    return health, scores


# -- metrics on arrays -----------------------------------------------------------------


class _Ranked:
    """Tie groups of a score, ascending (riskiest first), optionally within groups."""

    __slots__ = ("cnt", "group", "neg", "pos", "starts", "values")

    def __init__(self, values: NDArray[Any], y: NDArray[Any], group: NDArray[Any] | None) -> None:
        np = _numpy()
        if group is None:
            # Sorting the values is cheaper than an argsort followed by gathers; the
            # positives are then counted per distinct value by locating each positive
            # row's value among the distinct values.
            s = np.sort(values)
            change = s[1:] != s[:-1]
            self.group = None
        else:
            order = np.lexsort((values, group))
            s = values[order]
            g = group[order]
            change = (s[1:] != s[:-1]) | (g[1:] != g[:-1])
        starts = np.flatnonzero(np.concatenate(([True], change)))
        self.starts = starts
        self.values = s[starts]
        self.cnt = np.diff(np.append(starts, values.size))
        if group is None:
            # (sorted needles let searchsorted narrow each search from the previous one)
            where = np.searchsorted(self.values, np.sort(values[y.astype(bool)]))
            self.pos = np.bincount(where, minlength=starts.size).astype(np.int64)
        else:
            self.group = g[starts]
            self.pos = np.add.reduceat(y[order], starts)
        self.neg = self.cnt - self.pos


def _auc(r: _Ranked) -> tuple[float | None, int, int]:
    np = _numpy()
    big_p, big_n = int(r.pos.sum()), int(r.neg.sum())
    if big_p == 0 or big_n == 0:
        return None, big_p, big_n
    higher = big_n - np.cumsum(r.neg)
    twice = 2 * int((r.pos * higher).sum()) + int((r.pos * r.neg).sum())
    return twice / (2 * big_p * big_n), big_p, big_n


def _auc_by_group(
    values: NDArray[Any], y: NDArray[Any], codes: NDArray[Any], n_groups: int
) -> list[tuple[float | None, int, int]]:
    np = _numpy()
    r = _Ranked(values, y, codes)
    g = r.group
    pos_g = np.bincount(g, weights=r.pos, minlength=n_groups)
    neg_g = np.bincount(g, weights=r.neg, minlength=n_groups)
    before = np.cumsum(neg_g) - neg_g
    higher = neg_g[g] - (np.cumsum(r.neg) - before[g])
    twice = 2 * np.bincount(g, weights=r.pos * higher, minlength=n_groups) + np.bincount(
        g, weights=r.pos * r.neg, minlength=n_groups
    )
    out: list[tuple[float | None, int, int]] = []
    for i in range(n_groups):
        p, n = int(pos_g[i]), int(neg_g[i])
        out.append((float(twice[i]) / (2 * p * n) if p and n else None, p, n))
    return out


def _measure_auc(scores: NDArray[Any], y: NDArray[Any]) -> tuple[float | None, int, int, int]:
    """A measure's own AUC over the rows where it has a score, and how many those are."""
    np = _numpy()
    present = ~np.isnan(scores)
    n_present = int(present.sum())
    if n_present == 0:
        return None, 0, 0, 0
    if n_present < scores.size:
        scores, y = scores[present], y[present]
    return (*_auc(_Ranked(scores, y, None)), n_present)


def _wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    z2 = _Z95 * _Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z95 / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # In exact arithmetic the interval always holds p (and is exactly 0 at k=0, 1 at k=n);
    # clamp so rounding never puts the observed rate outside its own interval.
    return min(max(centre - half, 0.0), p), max(min(centre + half, 1.0), p)


def _undefined(p: int, n: int) -> str:
    return "no rows with outcome 1" if p == 0 else "every row has outcome 1"


def _report(
    data: _Prepared,
    scorecard: Scorecard,
    outcome: str,
    period: str | None,
    segment: str | None,
    mask: NDArray[Any] | None = None,
) -> Backtest:
    np = _numpy()
    health, y = data.health, data.y
    scores = data.measure_scores
    if mask is not None:
        health, y = health[mask], y[mask]
        scores = [s[mask] for s in scores]
    rows = int(y.size)
    # One after another: a library starts no threads of its own. A caller that wants the
    # periods or segments side by side runs them in its own engine (Dask, a pool it owns).
    ranked = _Ranked(health, y, None)
    measure_aucs = [_measure_auc(s, y) for s in scores]
    auc, big_p, big_n = _auc(ranked)
    if auc is None:
        raise InvalidValue(
            outcome,
            f"{big_p} of {rows} rows with outcome 1",
            "both 0s and 1s (the AUC is undefined without both)",
            hint=_undefined(big_p, big_n),
        )
    base = big_p / rows
    notes: list[str] = []

    tp = np.cumsum(ranked.pos)
    seen = np.cumsum(ranked.cnt)
    average_precision = float((ranked.pos * (tp / seen)).sum() / big_p)

    fpr = np.concatenate(([0.0], np.cumsum(ranked.neg) / big_n))
    tpr = np.concatenate(([0.0], tp / big_p))
    if fpr.size > _ROC_POINTS:
        keep = np.unique(np.linspace(0, fpr.size - 1, _ROC_POINTS).round().astype(np.int64))
        fpr, tpr = fpr[keep], tpr[keep]
    roc = list(zip(fpr.tolist(), tpr.tolist(), strict=True))

    cut = scorecard.cutoffs
    # The tie groups are in ascending score order, so each band is a run of them.
    red_end = int(np.searchsorted(ranked.values, cut.red_below, side="left"))
    green_start = int(np.searchsorted(ranked.values, cut.green_from, side="left"))
    cum_rows = np.concatenate(([0], np.cumsum(ranked.cnt)))
    cum_pos = np.concatenate(([0], tp))
    bands = []
    spans = (
        (Band.RED, 0, red_end),
        (Band.YELLOW, red_end, max(green_start, red_end)),
        (Band.GREEN, max(green_start, red_end), ranked.values.size),
    )
    for band, lo, hi in spans:
        n, k = int(cum_rows[hi] - cum_rows[lo]), int(cum_pos[hi] - cum_pos[lo])
        if n:
            low, high = _wilson(k, n)
            bands.append(BandOutcome(band, n, k, k / n, low, high, (k / n) / base))
        else:
            bands.append(BandOutcome(band, 0, 0, None, None, None, None))
    green_but_churned = bands[2].positives / big_p

    decile = np.minimum((10 * ranked.starts) // rows, 9)
    d_rows = np.bincount(decile, weights=ranked.cnt, minlength=10)
    d_pos = np.bincount(decile, weights=ranked.pos, minlength=10)
    d_sum = np.bincount(decile, weights=ranked.values * ranked.cnt, minlength=10)
    deciles = []
    for i in np.flatnonzero(d_rows).tolist():
        inside = ranked.values[decile == i]
        deciles.append(
            DecileOutcome(
                i + 1,
                int(d_rows[i]),
                int(d_pos[i]),
                d_pos[i] / d_rows[i],
                float(inside[0]),
                float(inside[-1]),
                min(max(float(d_sum[i] / d_rows[i]), 0.0), 100.0),
            )
        )

    weights = scorecard.weights
    checks = []
    for m, (m_auc, p, n, n_present) in zip(scorecard.measures, measure_aucs, strict=True):
        note = None
        if m_auc is None:
            note = "no values" if n_present == 0 else f"undefined where present: {_undefined(p, n)}"
            notes.append(f"measure {m.name!r}: AUC {note}")
        warn = m_auc is not None and m_auc < 0.5 - DIRECTION_MARGIN
        if warn:
            notes.append(
                f"measure {m.name!r} is declared {m.direction.value}, but in this data it ranks "
                f"the other way (AUC {m_auc:.3f}); check its direction or its rule"
            )
        checks.append(
            MeasureCheck(
                m.name, m.direction, weights[m.name], m_auc, 1 - n_present / rows, warn, note
            )
        )

    groups: dict[str, tuple[GroupAUC, ...]] = {}
    for key, column, found in (
        ("period", period, data.period),
        ("segment", segment, data.segment),
    ):
        if column is None or found is None:
            continue
        codes, labels = found[0], found[1]
        if mask is not None:
            codes = codes[mask]
        present_codes, codes = np.unique(codes, return_inverse=True)
        out = []
        for label, (g_auc, p, n) in zip(
            [labels[c] for c in present_codes.tolist()],
            _auc_by_group(health, y, codes.reshape(-1), present_codes.size),
            strict=True,
        ):
            note = None if g_auc is not None else _undefined(p, n)
            if note is not None:
                notes.append(f"{key} {label}: AUC undefined ({note})")
            out.append(GroupAUC(label, p + n, p, g_auc, note))
        groups[key] = tuple(out)

    return Backtest(
        outcome=outcome,
        rows=rows,
        positives=big_p,
        auc=auc,
        average_precision=average_precision,
        cutoffs=cut,
        bands=bands,
        green_but_churned=green_but_churned,
        measures=checks,
        deciles=deciles,
        roc=roc,
        period=period,
        periods=groups.get("period", ()),
        segment=segment,
        segments=groups.get("segment", ()),
        notes=notes,
    )


# -- public functions ------------------------------------------------------------------


def backtest(
    frame: Any,
    scorecard: Scorecard,
    *,
    outcome: str,
    period: str | None = None,
    segment: str | None = None,
    known_at: str | None = None,
    account: str | None = None,
) -> Backtest:
    """Measure how well a scorecard ranks the rows that went on to an outcome.

    Args:
        frame: A polars, pandas or pyarrow DataFrame with one row per account and
            period: a numeric column per measure (nulls are missing values and follow
            the scorecard's missing policy) and the outcome column.
        scorecard: The scorecard to judge.
        outcome: A 0/1 (or boolean) column, e.g. "churned in the next period".
        period: Optional column of periods (numbers, dates, datetimes, or ISO text);
            the AUC is reported for each one, in time order.
        segment: Optional column of segments; the AUC is reported for each one.
        known_at: Optional column of when each row's values were recorded (dates,
            date-times or ISO text), for a backtest "as of" each period: a row is used
            only if it was recorded by its period's cut-off, the value of its ``period``
            (a date is its midnight), so the score is judged on what was known when it
            would have been read. Needs ``period``. A row without a time counts as known.
        account: Optional column of account ids, with ``known_at``: rows of one account
            and period are versions of its values (a correction recorded later, say), and
            the latest one recorded by the cut-off is used.

    Returns:
        The backtest. The frame is not changed. With ``known_at``, the notes say how many
        rows were left out as recorded after their cut-off, and how many were replaced by
        a later version.

    Raises:
        InvalidValue: If a column is absent, a measure's values are bad (as in
            `stars.frames.score`), the outcome is not 0/1 in every row (the
            message names the column and the first bad row positions), every row has
            the same outcome (the AUC is undefined), or periods cannot be put in time
            order.
        MissingDependency: If narwhals or NumPy is not installed.

    Examples:
        >>> from stars.backtesting import backtest
        >>> from stars.health import Direction, Linear, Measure, Scorecard
        >>> from stars.testing import synthetic_history
        >>> history = synthetic_history(300, 6, seed=1, signal=2.0)
        >>> card = Scorecard([
        ...     Measure("adoption", 1, Direction.HIGHER_IS_BETTER, Linear(0, 1)),
        ...     Measure("days_since_contact", 1, Direction.LOWER_IS_BETTER, Linear(0, 90)),
        ... ])
        >>> result = backtest(history, card, outcome="churned", period="period")
        >>> result.auc > 0.7, [p.label for p in result.periods][:2]
        (True, ['2024-01-01', '2024-02-01'])
        >>> backtest(history, card, outcome="adoption")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: adoption: got [...], expected 0 or 1 in every row (...
    """
    notes: list[str] = []
    if known_at is not None or account is not None:
        frame, notes = _as_of(frame, period, known_at, account)
    _, data = _prepare(frame, scorecard, outcome, period, segment)
    result = _report(data, scorecard, outcome, period, segment)
    if notes:
        result = attrs.evolve(result, notes=(*notes, *result.notes))
    return result


def _instant(df: nw.DataFrame[Any], column: str) -> nw.Expr:
    """A column of dates, date-times or ISO text as naive UTC date-times."""
    import narwhals.stable.v1 as nw

    dtype = df.schema[column]
    x = nw.col(column)
    if dtype == nw.String:
        return x.str.to_datetime()
    if dtype == nw.Date:
        return x.cast(nw.Datetime("us"))
    if isinstance(dtype, nw.Datetime):
        if dtype.time_zone is not None:
            return x.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return x
    raise InvalidValue(column, str(dtype), "dates, date-times or ISO text, to compare in time")


def _as_of(
    frame: Any, period: str | None, known_at: str | None, account: str | None
) -> tuple[nw.DataFrame[Any], list[str]]:
    """The rows known by their period's cut-off (the latest version per account and period)."""
    import narwhals.stable.v1 as nw

    _numpy()
    _tables.require_narwhals()
    if known_at is None:
        raise InvalidValue("known_at", None, "a column of recording times when account= is given")
    if period is None:
        raise InvalidValue(
            "period", None, "a period column: known_at keeps the rows known by each period"
        )
    df, _ = _tables.eager(frame)
    for field, name in (("known_at", known_at), ("period", period), ("account", account)):
        if name is not None and name not in df.columns:
            v.text(field, name)
            raise InvalidValue(field, name, f"a column of the frame ({len(df.columns)} columns)")
    known = _tables.free_name(df.columns, "__stars_known__")
    cutoff = _tables.free_name([*df.columns, known], "__stars_cutoff__")
    try:
        marked = df.with_columns(**{known: _instant(df, known_at), cutoff: _instant(df, period)})
    except InvalidValue:
        raise
    except Exception as err:  # a text column that is not ISO dates
        raise InvalidValue(
            known_at, str(err).splitlines()[0][:120], "dates, date-times or ISO text"
        ) from None
    total = len(marked)
    kept = marked.filter(nw.col(known).is_null() | (nw.col(known) <= nw.col(cutoff)))
    late = total - len(kept)
    replaced = 0
    if account is not None:
        before = len(kept)
        kept = kept.sort(known, nulls_last=False).unique(
            subset=[account, period], keep="last", maintain_order=True
        )
        replaced = before - len(kept)
    notes = [
        f"as of each period's cut-off ({period}): {late:,} of {total:,} rows recorded later"
        f" ({known_at}) left out"
        + (
            f", {replaced:,} replaced by a later version of the same {account} and period"
            if account is not None
            else ""
        )
    ]
    return kept.drop(known, cutoff), notes


def calibrate(
    frame: Any,
    scorecard: Scorecard,
    *,
    outcome: str,
    period: str,
    train_until: object,
    red_share: float | None = None,
    red_below: float | None = None,
    rules: bool = False,
) -> Calibration:
    """Refit a scorecard's weights and bands on early periods; judge it on later ones.

    The weights are fitted on the rows with ``period <= train_until`` by a logistic
    regression of the outcome on the measures' own 0-100 scores (SciPy's L-BFGS-B),
    with every coefficient bound so that a higher measure score can only lower the
    risk: the declared directions stay, and a measure that points the wrong way gets
    weight 0. The coefficients, scaled to add up to 1, are the new weights. For the fit
    only, a missing measure score is filled with that measure's mean training score
    (``redistribute``) or its worst score (``worst``).

    Then the band cut-offs are set from the training rows scored with the new weights.
    Red: the lowest scores that hold at least half of the positive rows (or the
    riskiest ``red_share`` of rows, or a given ``red_below``). Green: the lowest score
    from which on the outcome rate is at most half the base rate.

    Args:
        frame: A polars, pandas or pyarrow DataFrame, as for `backtest`.
        scorecard: The scorecard to start from.
        outcome: The 0/1 outcome column.
        period: The period column.
        train_until: The last period to train on (same kind as the period column;
            ISO text is accepted for dates). Later periods are held out.
        red_share: Make the riskiest share of training rows red instead (0 to 1).
        red_below: Use this red cut-off instead.
        rules: Fit each measure's rule too, before its weight: see `fit_rules`. Each
            fitted rule is kept only where it earns its place: each of the last four
            training periods is scored by rules and weights fitted on the periods before
            it, and a measure takes its fitted steps only if they raise the mean AUC of
            those periods by more than 0.002 plus two standard errors (the others keep
            their declared rules; the first note says which and by how much). The
            result stays points per measure.

    Returns:
        The calibration, with the new scorecard and held-out results before and after.

    Raises:
        InvalidValue: For the bad inputs `backtest` refuses, a ``train_until``
            that leaves no training or no held-out periods or cannot be compared with
            the periods, both ``red_share`` and ``red_below``, or training or held-out
            rows with only one outcome.
        MissingDependency: If SciPy is not installed (the ``calibrate`` extra).

    Examples:
        >>> from stars.backtesting import calibrate
        >>> from stars.health import Direction, Linear, Measure, Scorecard
        >>> from stars.testing import synthetic_history
        >>> history = synthetic_history(400, 8, seed=5, signal=2.0)
        >>> card = Scorecard([
        ...     Measure("adoption", 1, Direction.HIGHER_IS_BETTER, Linear(0, 1)),
        ...     Measure("sentiment", 1, Direction.HIGHER_IS_BETTER, Linear(-1, 1)),
        ... ])
        >>> fit = calibrate(history, card, outcome="churned", period="period",
        ...                 train_until="2024-04-01", red_share=0.2)
        >>> round(sum(fit.weights.values()), 9), fit.train_until
        (1.0, '2024-04-01')
    """
    np = _numpy()
    try:
        from scipy.optimize import minimize
    except ImportError:  # pragma: no cover - scipy is installed in the test env
        raise MissingDependency("scipy", "calibrate") from None
    v.text("period", period)
    if not isinstance(rules, bool):
        raise InvalidValue("rules", rules, "True or False")
    if rules:
        return _calibrate_rules(
            frame, scorecard, outcome, period, train_until, red_share, red_below
        )
    if red_share is not None and red_below is not None:
        raise InvalidValue("red_share", red_share, "None when red_below is given")
    if red_share is not None:
        v.number("red_share", red_share, 0, 1)
    if red_below is not None:
        v.number("red_below", red_below, 0, 100)
    df, data = _prepare(frame, scorecard, outcome, period, None)
    assert data.period is not None
    codes, labels, uniques = data.period
    last = _last_training(np, uniques, labels, train_until)
    train = codes <= last
    test = ~train
    y_train = data.y[train]
    p_train = int(y_train.sum())
    if p_train == 0 or p_train == y_train.size:
        raise InvalidValue(
            outcome,
            f"{p_train} of {y_train.size} training rows with outcome 1",
            "both 0s and 1s in the training periods",
            hint=_undefined(p_train, y_train.size - p_train),
        )
    notes: list[str] = []

    worsts = [m.worst for m in scorecard.measures]
    points = [s[train] for s in data.measure_scores]
    coef = _fit_weights(np, minimize, points, y_train, scorecard.missing, worsts)
    if not coef.sum() > 1e-12:
        notes.append("no measure separated the outcomes in training; the weights are unchanged")
        new_weights = list(scorecard.weights.values())
    else:
        new_weights = (coef / coef.sum()).tolist()
    card = _reweighted(scorecard, new_weights)

    xs = _tables.numeric_columns(df, card.names)
    health_after, _ = _health(df, card, xs, with_measures=False)
    cutoffs, cut_notes = _cutoffs(np, health_after[train], y_train, red_share, red_below)
    notes.extend(cut_notes)
    card = attrs.evolve(card, cutoffs=cutoffs)

    before = _report(data, scorecard, outcome, period, None, mask=test)
    after_data = _Prepared(health_after, data.y, data.measure_scores, data.period, None)
    after = _report(after_data, card, outcome, period, None, mask=test)
    return Calibration(
        scorecard=card,
        previous=scorecard,
        period=period,
        train_until=labels[last],
        train_rows=int(train.sum()),
        train_positives=p_train,
        before=before,
        after=after,
        notes=notes,
    )


def _fit_weights(
    np: Any,
    minimize: Any,
    points: Sequence[NDArray[Any]],
    y: NDArray[Any],
    missing: MissingPolicy,
    worsts: Sequence[float],
) -> NDArray[Any]:
    """Non-negative logistic coefficients of the outcome on the measures' 0-100 points.

    For the fit only, a missing point is filled with the measure's mean (or, under
    ``worst``, its worst score).
    """
    x = np.column_stack(points) / 100.0
    for j, bad in enumerate(worsts):
        gap = np.isnan(x[:, j])
        if gap.any():
            fill = bad / 100.0 if missing is MissingPolicy.WORST else None
            if fill is None:
                fill = float(np.nanmean(x[:, j])) if (~gap).any() else 0.5
            x[gap, j] = fill
    yf = y.astype(np.float64)
    k = x.shape[1]

    def loss(theta: NDArray[Any]) -> tuple[float, NDArray[Any]]:
        z = theta[0] - x @ theta[1:]
        with np.errstate(over="ignore"):  # exp(-z) of a very negative z: 1/inf is 0
            r = 1.0 / (1.0 + np.exp(-z)) - yf
        value = float(np.mean(np.logaddexp(0.0, z) - yf * z))
        grad = np.concatenate(([r.mean()], -(x.T @ r) / yf.size))
        return value, grad

    base = float(yf.mean())
    start = np.concatenate(([math.log(base / (1 - base))], np.zeros(k)))
    fitted = minimize(
        loss, start, jac=True, method="L-BFGS-B", bounds=[(None, None)] + [(0.0, None)] * k
    )
    coef: NDArray[Any] = np.maximum(fitted.x[1:], 0.0)
    return coef


#: `fit_rules` cuts each measure's training values into at most this many equal-count steps.
_RULE_STEPS: Final = 20


#: With ``rules=True``, the rules are validated on (at most) this many of the last training
#: periods, each predicted from a fit on the periods before it (rolling origin).
_RULE_FOLDS: Final = 4
#: A measure's fitted rule replaces its declared one only if it raises the validation AUC
#: (the mean over those periods) by more than this plus two standard errors of that mean.
_RULE_MARGIN: Final = 0.002


def _calibrate_rules(
    frame: Any,
    scorecard: Scorecard,
    outcome: str,
    period: str,
    train_until: object,
    red_share: float | None,
    red_below: float | None,
) -> Calibration:
    """`calibrate` with ``rules=True``: each fitted rule only where it earns its place.

    Rolling-origin validation inside the training periods: each of the last few training
    periods is scored by rules and weights fitted on the periods before it. Starting from
    the declared rules, the measure whose fitted steps raise the mean AUC of those periods
    most takes them, if the gain clears `_RULE_MARGIN` by two standard errors (of the mean
    over the periods), and so on until no measure gains that much. A rule the data only
    seems to improve stays as declared: on held-out periods, fitted steps lose resolution
    against a right declared rule, so a gain within noise is not worth taking.
    The chosen rules are then refitted on every training period, the others kept.
    """
    from scipy.optimize import minimize

    from stars._isotonic import pav

    np = _numpy()
    df, data = _prepare(frame, scorecard, outcome, period, None)
    assert data.period is not None
    codes, labels, uniques = data.period
    last = _last_training(np, uniques, labels, train_until)
    xs = _tables.numeric_columns(df, scorecard.names)
    got = df.select(*(x.alias(f"m{i}") for i, x in enumerate(xs)))
    raw = [got.get_column(f"m{i}").to_numpy().astype(np.float64) for i in range(len(xs))]
    chosen, why = _choose_rules(np, minimize, pav, scorecard, raw, data, codes, last)
    train = codes <= last
    y = data.y[train].astype(np.float64)
    measures = []
    for i, m in enumerate(scorecard.measures):
        rule = _step_rule(np, pav, raw[i][train], y, m.direction, _RULE_STEPS)
        measures.append(attrs.evolve(m, rule=rule) if chosen[i] and rule is not None else m)
    groups = dict(scorecard.groups) if scorecard.groups else {}
    card = Scorecard(measures, groups, missing=scorecard.missing, cutoffs=scorecard.cutoffs)
    kwargs: dict[str, Any] = {"red_share": red_share, "red_below": red_below}
    fit = calibrate(frame, card, outcome=outcome, period=period, train_until=train_until, **kwargs)
    before = _report(data, scorecard, outcome, period, None, mask=codes > last)
    return attrs.evolve(fit, previous=scorecard, before=before, notes=(*why, *fit.notes))


def _choose_rules(
    np: Any,
    minimize: Any,
    pav: Any,
    scorecard: Scorecard,
    raw: Sequence[NDArray[Any]],
    data: _Prepared,
    codes: NDArray[Any],
    last: int,
) -> tuple[list[bool], list[str]]:
    """Which measures take fitted rules, by rolling-origin validation; and why, as notes."""
    declared = data.measure_scores
    folds = []
    for t in range(max(1, last + 1 - _RULE_FOLDS), last + 1):
        fit, val = codes < t, codes == t
        y_fit, y_val = data.y[fit], data.y[val]
        if not (0 < y_fit.sum() < y_fit.size and 0 < y_val.sum() < y_val.size):
            continue
        steps: list[NDArray[Any] | None] = []
        for i, m in enumerate(scorecard.measures):
            rule = _step_rule(np, pav, raw[i][fit], y_fit.astype(np.float64), m.direction,
                              _RULE_STEPS)  # fmt: skip
            if rule is None:
                steps.append(None)
                continue
            cuts, points = np.asarray(rule.thresholds), np.asarray(rule.scores)
            x = raw[i][fit | val]
            seen = ~np.isnan(x)
            out = np.full(x.size, np.nan)
            out[seen] = points[np.searchsorted(cuts, x[seen], side="right")]
            steps.append(out)
        folds.append((fit, val, fit[fit | val], steps))
    names = scorecard.names
    if not folds:
        return [False] * len(names), [
            "declared rules kept: fitted rules need two training periods with both outcomes "
            "to be validated on"
        ]
    weights = list(scorecard.weights.values())
    worsts = [m.worst for m in scorecard.measures]
    cache: dict[tuple[bool, ...], NDArray[Any]] = {}

    def score(pick: tuple[bool, ...]) -> NDArray[Any]:
        if pick not in cache:
            aucs = []
            for fit, val, fit_part, steps in folds:
                both = fit | val
                cols = [
                    s if p and s is not None else d[both]
                    for p, s, d in zip(pick, steps, declared, strict=True)
                ]
                worst = [
                    float(np.nanmin(c)) if p and c is not None and not np.isnan(c).all() else w
                    for p, c, w in zip(pick, cols, worsts, strict=True)
                ]
                coef = _fit_weights(
                    np, minimize, [c[fit_part] for c in cols], data.y[fit], scorecard.missing, worst
                )
                w = coef / coef.sum() if coef.sum() > 1e-12 else np.asarray(weights)
                h = _array_health(np, [c[~fit_part] for c in cols], w, scorecard.missing, worst)
                aucs.append(_auc(_Ranked(h, data.y[val], None))[0] or 0.5)
            cache[pick] = np.asarray(aucs)
        return cache[pick]

    pick = [False] * len(names)
    notes = []
    while True:
        now = score(tuple(pick))
        diffs = {}
        for i in range(len(names)):
            if not pick[i]:
                diffs[i] = score(tuple(p or j == i for j, p in enumerate(pick))) - now
        if not diffs:
            break
        best = max(diffs, key=lambda i: (float(diffs[i].mean()), -i))
        if not _rule_gain_ok(np, diffs[best]):
            break
        pick[best] = True
        notes.append(f"{names[best]} +{float(diffs[best].mean()):.4f}")
    fitted = ", ".join(notes) or "none"
    kept = [n for n, p in zip(names, pick, strict=True) if not p]
    why = (
        f"rules fitted as monotone steps where they ranked the last {len(folds)} training "
        f"periods better (AUC gain, each period predicted from the ones before): {fitted}"
    )
    if kept:
        why += f"; declared rules kept for {', '.join(kept)}"
    return pick, [why]


def _rule_gain_ok(np: Any, diffs: NDArray[Any]) -> bool:
    """Whether per-period AUC gains clear `_RULE_MARGIN` by two standard errors."""
    se = float(diffs.std(ddof=1)) / math.sqrt(diffs.size) if diffs.size > 1 else 0.0
    return bool(diffs.mean() - 2 * se > _RULE_MARGIN)


def _array_health(
    np: Any,
    points: Sequence[NDArray[Any]],
    weights: NDArray[Any],
    missing: MissingPolicy,
    worsts: Sequence[float],
) -> NDArray[Any]:
    """Health from the measures' points, as a scorecard adds them (before clipping)."""
    p = np.column_stack(points)
    gap = np.isnan(p)
    if missing is MissingPolicy.REDISTRIBUTE:
        share = (~gap) @ weights
        total = np.where(gap, 0.0, p) @ weights
        return np.where(share > 0, total / np.where(share > 0, share, 1.0), 0.0)  # type: ignore[no-any-return]
    filled = np.where(gap, np.asarray(worsts)[None, :], p)
    return filled @ weights  # type: ignore[no-any-return]


def fit_rules(
    frame: Any,
    scorecard: Scorecard,
    *,
    outcome: str,
    period: str,
    train_until: object,
    steps: int = _RULE_STEPS,
) -> Scorecard:
    """Fit each measure's scoring rule on the training periods, as monotone steps.

    Each measure's training values are cut into (at most) ``steps`` equal-count steps; the
    outcome rate of each step is made monotone in the measure's declared direction (pool
    adjacent violators: a step that breaks the direction is pooled with its neighbour),
    and the steps are scored from 0 (the riskiest rate) to 100 (the safest), in
    proportion to the log-odds of their rates (with one pseudo-row at the base rate, so a
    step without a positive keeps a finite score). So the
    points stay explainable ("fewer than 12 days since contact: 100 points") and a
    measure can never score better for being worse. A measure whose rate is flat in
    training keeps its rule. Weights and bands are left as they are: `calibrate` with
    ``rules=True`` fits them next.

    Args:
        frame: A polars, pandas or pyarrow DataFrame, as for `backtest`.
        scorecard: The scorecard whose rules to refit.
        outcome: The 0/1 outcome column.
        period: The period column.
        train_until: The last training period.
        steps: Most steps per rule (at least 2).

    Returns:
        The scorecard with fitted `Steps` rules.

    Raises:
        InvalidValue: For the inputs `calibrate` refuses, or ``steps`` below 2.

    Examples:
        >>> from stars.backtesting import fit_rules
        >>> from stars.health import Direction, Linear, Measure, Scorecard
        >>> from stars.testing import synthetic_history
        >>> history = synthetic_history(400, 8, seed=3, signal=2.0)
        >>> card = Scorecard([
        ...     Measure("days_since_contact", 1, Direction.LOWER_IS_BETTER, Linear(0, 10))])
        >>> rule = fit_rules(history, card, outcome="churned", period="period",
        ...                  train_until="2024-05-01").measures[0].rule
        >>> rule.scores[0], rule.scores[-1]
        (100.0, 0.0)
    """
    from stars._isotonic import pav

    np = _numpy()
    v.text("period", period)
    steps = int(v.number("steps", steps, 2, integer=True))
    df, data = _prepare(frame, scorecard, outcome, period, None)
    assert data.period is not None
    codes, labels, uniques = data.period
    train = codes <= _last_training(np, uniques, labels, train_until)
    xs = _tables.numeric_columns(df, scorecard.names)
    raw = df.select(*(x.alias(f"m{i}") for i, x in enumerate(xs)))
    y = data.y[train].astype(np.float64)
    measures = []
    for i, m in enumerate(scorecard.measures):
        x = raw.get_column(f"m{i}").to_numpy().astype(np.float64)[train]
        rule = _step_rule(np, pav, x, y, m.direction, steps)
        measures.append(m if rule is None else attrs.evolve(m, rule=rule))
    groups = dict(scorecard.groups) if scorecard.groups else {}
    return Scorecard(measures, groups, missing=scorecard.missing, cutoffs=scorecard.cutoffs)


def _step_rule(
    np: Any, pav: Any, x: NDArray[Any], y: NDArray[Any], direction: Direction, steps: int
) -> Steps | None:
    """One measure's fitted monotone steps (see `fit_rules`); None when flat or unseen."""
    seen = ~np.isnan(x)
    if not seen.any():
        return None
    cuts = np.unique(np.quantile(x[seen], np.linspace(0, 1, steps + 1)[1:-1]))
    if len(cuts) == 0:
        return None
    step = np.searchsorted(cuts, x[seen], side="right")
    n = np.bincount(step, minlength=len(cuts) + 1).astype(np.float64)
    k = np.bincount(step, weights=y[seen], minlength=len(cuts) + 1)
    keep = n > 0
    rate = np.zeros(n.size)
    rate[keep] = pav(
        (k[keep] / n[keep]).tolist(),
        n[keep].tolist(),
        increasing=direction is Direction.LOWER_IS_BETTER,
    )
    rate[~keep] = np.interp(np.flatnonzero(~keep), np.flatnonzero(keep), rate[keep])
    # points in log-odds: the weights are then fitted by a logistic regression that
    # is linear in the points, so each step's points carry its own risk additively
    base = float(y.mean())
    odds = np.log((rate * n + base) / ((1 - rate) * n + 1 - base))
    top, low = float(odds.max()), float(odds.min())
    if not top - low > 1e-9:
        return None
    scores = np.round(100 * (top - odds) / (top - low), 6)
    # pooled steps of different sizes smooth a little differently: keep the order
    rising = direction is Direction.HIGHER_IS_BETTER
    scores = (np.maximum if rising else np.minimum).accumulate(scores)
    return Steps(tuple(cuts.tolist()), tuple(scores.tolist()))


def _reweighted(scorecard: Scorecard, weights: Sequence[float]) -> Scorecard:
    measures = [attrs.evolve(m, weight=w) for m, w in zip(scorecard.measures, weights, strict=True)]
    groups: dict[str, float] = {}
    if scorecard.groups:
        groups = dict.fromkeys(scorecard.groups, 0.0)
        for m in measures:
            groups[m.group] += m.weight  # type: ignore[index]
    return Scorecard(measures, groups, missing=scorecard.missing, cutoffs=scorecard.cutoffs)


def _cutoffs(
    np: Any,
    health: NDArray[Any],
    y: NDArray[Any],
    red_share: float | None,
    red_below: float | None,
) -> tuple[BandCutoffs, list[str]]:
    r = _Ranked(health, y, None)
    values = r.values
    notes: list[str] = []
    if red_below is None:
        cum = np.cumsum(r.cnt if red_share is not None else r.pos)
        need = (
            math.ceil(red_share * health.size) if red_share is not None else math.ceil(cum[-1] / 2)
        )
        i = int(np.searchsorted(cum, max(need, 1)))
        if red_share == 0:
            red_below = float(values[0])
        else:
            red_below = float((values[i] + values[i + 1]) / 2) if i + 1 < values.size else 100.0
        what = (
            f"the riskiest {red_share:.0%} of training rows"
            if red_share is not None
            else "the lowest scores holding half of the training positives"
        )
        notes.append(f"red below {red_below:.1f}: {what}")
    else:
        notes.append(f"red below {red_below:g}: given")
    # Green: cut the training scores into twenty equal-count bins (ties kept together)
    # and walk down from the top while each bin's outcome rate stays at most half the
    # base rate; green starts at the lowest score of the last bin reached.
    base = r.pos.sum() / health.size
    bins = np.minimum((_GREEN_BINS * r.starts) // health.size, _GREEN_BINS - 1)
    b_rows = np.bincount(bins, weights=r.cnt, minlength=_GREEN_BINS)
    b_pos = np.bincount(bins, weights=r.pos, minlength=_GREEN_BINS)
    lowest = None
    for b in range(_GREEN_BINS - 1, -1, -1):
        if not b_rows[b]:
            continue
        if b_pos[b] > b_rows[b] * base / 2:
            break
        lowest = b
    if lowest is not None:
        green_from = float(values[np.flatnonzero(bins == lowest)[0]])
        notes.append(
            f"green from {green_from:.1f}: in training, every twentieth of the rows from "
            "there up churned at most half as often as the base rate"
        )
    else:
        green_from = 100.0
        notes.append(
            "even the top-scoring twentieth of training rows churned more than half as often "
            "as the base rate; green starts at 100"
        )
    if green_from < red_below:
        green_from = red_below
        notes.append("green would start below red ends, so green starts where red ends")
    return BandCutoffs(red_below=red_below, green_from=green_from), notes


# -- plain data --------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Scorecard):
        return _scorecard_to_dict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if attrs.has(type(value)):
        return {f.name: _plain(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, tuple | list):
        return [_plain(x) for x in value]
    return value


def _scorecard_to_dict(card: Scorecard) -> dict[str, Any]:
    """The scorecard as a stars.io document (one format for every scorecard file)."""
    from stars import io

    return io.to_dict(card)


def _scorecard_from_dict(data: object) -> Scorecard:
    """Load a scorecard document written by `stars.io` (or by this command)."""
    from stars import io

    return io.from_dict(data, Scorecard)


# -- plots -----------------------------------------------------------------------------


def _figure() -> tuple[Figure, Any]:
    from stars._figure import figure

    fig = figure(5.5, 4.0, layout="constrained")  # shows itself in a notebook
    return fig, fig.add_subplot()


# -- the command -----------------------------------------------------------------------


def add_backtest_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``backtest`` sub-command to an argparse sub-parser set.

    Args:
        subparsers: What ``ArgumentParser.add_subparsers()`` returned.

    Returns:
        The new sub-parser (its default ``func`` is `cli_backtest`).

    Examples:
        >>> import argparse
        >>> from stars.backtesting import add_backtest_parser
        >>> parser = argparse.ArgumentParser(prog="stars")
        >>> _ = add_backtest_parser(parser.add_subparsers(dest="command"))
        >>> args = parser.parse_args(["backtest", "h.csv", "--scorecard", "c.json",
        ...                           "--outcome", "churned"])
        >>> args.command, args.outcome, args.calibrate
        ('backtest', 'churned', False)
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "backtest",
        help="does a scorecard predict churn? backtest it on a history with outcomes",
        description=(
            "Score every row of FILE.csv with a scorecard and report how well the score "
            "ranks the rows whose outcome is 1. With --calibrate, refit the weights and "
            "bands on the periods up to --train-until and write the new scorecard as JSON."
        ),
    )
    parser.add_argument("file", metavar="FILE.csv", help="one row per account and period")
    parser.add_argument("--scorecard", required=True, metavar="SCORECARD.json")
    parser.add_argument("--outcome", required=True, metavar="COLUMN", help="a 0/1 column")
    parser.add_argument("--period", metavar="COLUMN", help="report the AUC per period")
    parser.add_argument("--segment", metavar="COLUMN", help="report the AUC per segment")
    parser.add_argument("--calibrate", action="store_true", help="fit new weights and bands")
    parser.add_argument("--train-until", metavar="PERIOD", help="last period to train on")
    parser.add_argument(
        "--output",
        metavar="PATH",
        help="where --calibrate writes the fitted scorecard (default: SCORECARD.calibrated.json)",
    )
    parser.add_argument(
        "--revenue",
        metavar="COLUMN",
        help="also forecast renewal risk and revenue at risk from this revenue column "
        "(with --period and --train-until; a 1 outcome loses the whole revenue)",
    )
    parser.add_argument(
        "--save-model",
        metavar="MODEL.json",
        help="with --revenue, also fit the renewal model on the whole history and write it"
        " here, for stars assess --renewal-model",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=cli_backtest)
    return parser


def cli_backtest(args: argparse.Namespace) -> int:
    """Run ``stars backtest``: print the report, and with ``--calibrate`` write a scorecard.

    It keeps the conventions of every ``stars`` command: bad input (a missing or unreadable
    file, a column that is not there, a missing optional dependency, named with the extra
    that brings it) ends with one line on stderr starting ``stars: error:`` and exit code 2,
    never a traceback. ``--calibrate`` warns, in its output and on stderr, when the
    calibrated card ranks the held-out periods worse than the one given, when one measure
    takes nearly all the weight, or when the training rows are too few to trust.

    Args:
        args: Parsed arguments from the parser `add_backtest_parser` adds.

    Returns:
        The exit code: 0 when it worked, 2 for bad input (the message goes to stderr).

    Examples:
        >>> import argparse
        >>> from stars.backtesting import cli_backtest
        >>> args = argparse.Namespace(file="missing.csv", scorecard="c.json", outcome="y",
        ...     period=None, segment=None, calibrate=False, train_until=None, output=None,
        ...     format="text")
        >>> cli_backtest(args)
        2
    """
    import sys

    try:
        _cli_backtest(args)
    except MissingDependency as exc:
        need = "with --calibrate " if exc.extra == "calibrate" else ""
        return _cli_fail(
            f"stars backtest {need}needs {exc.package!r}: pip install 'stars[{exc.extra}]'"
        )
    except StarsError as exc:
        return _cli_fail(f"{type(exc).__name__}: {exc}")
    except OSError as exc:
        name = exc.filename if exc.filename is not None else ""
        if isinstance(exc, FileNotFoundError) and name:
            return _cli_fail(f"{name}: no such file")
        return _cli_fail(f"{name}: {exc.strerror or exc}" if name else str(exc))
    except KeyboardInterrupt:  # pragma: no cover - the user stopped it
        print("", file=sys.stderr)
        return 130
    return 0


def _cli_fail(message: str) -> int:
    import sys

    print(f"stars: error: {message}", file=sys.stderr)
    return 2


#: Below this many positive training rows per fitted weight, a calibration is not trusted.
_POSITIVES_PER_WEIGHT: Final = 10

#: A calibrated weight above this share says the fit leaned on one measure alone.
_DOMINANT_WEIGHT: Final = 0.9


def calibration_warnings(fit: Calibration) -> list[str]:
    """What to be wary of in a calibration: worse held-out AUC, a dominant weight, too few rows.

    Args:
        fit: A result of `calibrate`.

    Returns:
        One sentence per warning (empty when the fit looks trustworthy).

    Examples:
        >>> from stars.backtesting import calibrate, calibration_warnings
        >>> from stars.health import Direction, Linear, Measure, Scorecard
        >>> from stars.testing import synthetic_history
        >>> card = Scorecard([
        ...     Measure("adoption", 1, Direction.HIGHER_IS_BETTER, Linear(0, 1)),
        ...     Measure("sentiment", 1, Direction.HIGHER_IS_BETTER, Linear(-1, 1)),
        ... ])
        >>> small = synthetic_history(12, 8, seed=5, signal=2.0)
        >>> fit = calibrate(small, card, outcome="churned", period="period",
        ...                 train_until="2024-04-01")
        >>> any("too few to trust" in w for w in calibration_warnings(fit))
        True
    """
    out: list[str] = []
    before, after = fit.before.auc, fit.after.auc
    if before is not None and after is not None and after < before:
        out.append(
            f"the calibrated scorecard ranks the held-out periods worse than the one given"
            f" (AUC {before:.3f} -> {after:.3f}); keep the one you have"
        )
    weights = fit.weights
    top = max(weights, key=lambda n: weights[n]) if weights else None
    if top is not None and len(weights) > 1 and weights[top] > _DOMINANT_WEIGHT:
        out.append(
            f"{top} takes {weights[top]:.1%} of the weight: the fit leans on one measure alone"
        )
    need = _POSITIVES_PER_WEIGHT * len(weights)
    if fit.train_positives < need:
        out.append(
            f"{fit.train_positives} positive rows in {fit.train_rows} training rows are too few"
            f" to trust for {len(weights)} weights (about {need}, {_POSITIVES_PER_WEIGHT} per"
            " weight, are needed)"
        )
    return out


def _needs(calibrating: bool) -> None:
    """Say which extra is missing before any work starts."""
    _numpy()
    _tables.require_narwhals()
    try:
        import polars  # noqa: F401
    except ImportError:
        try:
            import pandas  # type: ignore[import-untyped,unused-ignore]  # noqa: F401
        except ImportError:
            raise MissingDependency("polars", "frames") from None
    if calibrating:
        try:
            import scipy  # noqa: F401
        except ImportError:
            raise MissingDependency("scipy", "calibrate") from None


def _cli_backtest(args: argparse.Namespace) -> None:
    import sys

    if args.calibrate and (args.period is None or args.train_until is None):
        raise InvalidValue("--calibrate", True, "--period and --train-until as well")
    revenue = getattr(args, "revenue", None)
    if revenue is not None and (args.period is None or args.train_until is None):
        raise InvalidValue("--revenue", revenue, "--period and --train-until as well")
    save_model = getattr(args, "save_model", None)
    if save_model is not None and revenue is None:
        raise InvalidValue("--save-model", save_model, "--revenue COLUMN as well")
    if save_model is not None and args.calibrate:
        raise InvalidValue("--save-model", save_model, "no --calibrate (run them apart)")
    _needs(args.calibrate)
    card = _scorecard_from_dict(_read_json(Path(args.scorecard)))
    frame = _read_csv(Path(args.file))
    if args.calibrate:
        fit = calibrate(
            frame,
            card,
            outcome=args.outcome,
            period=args.period,
            train_until=args.train_until,
        )
        warnings = calibration_warnings(fit)
        output = (
            Path(args.output)
            if args.output
            else Path(args.scorecard).with_suffix(".calibrated.json")
        )
        output.write_text(
            json.dumps(_scorecard_to_dict(fit.scorecard), indent=2) + "\n", encoding="utf-8"
        )
        if args.format == "json":
            data = fit.to_dict()
            data["warnings"] = warnings
            print(json.dumps(data, indent=2))
        else:
            print(_fit_lines("\n".join([fit.explain(), *(f"Warning: {w}." for w in warnings)])))
            print(f"Wrote the calibrated scorecard to {output}")  # whole, to copy the path
        for w in warnings:
            print(_fit_lines(f"stars: warning: {w}"), file=sys.stderr)
    else:
        result = backtest(
            frame, card, outcome=args.outcome, period=args.period, segment=args.segment
        )
        ahead = None
        saved = None
        if revenue is not None:
            from stars.forecast import forecast

            scored = score(frame, card)
            ahead = forecast(
                scored,
                outcome=args.outcome,
                period=args.period,
                train_until=args.train_until,
                revenue=revenue,
                segment=args.segment,
            )
            if save_model is not None:
                saved = _save_model(scored, card, args, Path(save_model))
        if args.format == "json":
            data = result.to_dict()
            if ahead is not None:
                data["forecast"] = ahead.to_dict()
            if saved is not None:
                data["saved_model"] = {"path": str(saved[0]), **saved[1]}
            print(json.dumps(data, indent=2, default=str))
        else:
            print(_fit_lines(result.explain()))
            if ahead is not None:
                print(_fit_lines(ahead.explain()))
            if saved is not None:
                path, facts = saved
                print(
                    _fit_lines(
                        f"Saved the renewal model fitted on the whole history ({facts['rows']:,}"
                        f" renewals in {facts['periods']} periods, not only those up to"
                        f" --train-until) for stars assess --renewal-model:"
                    )
                )
                print(f"  {path}")  # whole, to copy the path


def scorecard_digest(card: Scorecard) -> str:
    """A short digest of a scorecard's measures, weights and rules (the same card, the same digest).

    A saved renewal model keeps the digest of the scorecard its health came from, so that
    ``stars assess`` can refuse a model fitted on another scale of health.

    Examples:
        >>> from stars.backtesting import scorecard_digest
        >>> from stars.health import default_scorecard
        >>> scorecard_digest(default_scorecard()) == scorecard_digest(default_scorecard())
        True
    """
    import hashlib

    text = json.dumps(_scorecard_to_dict(card), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _save_model(
    scored: Any, card: Scorecard, args: argparse.Namespace, target: Path
) -> tuple[Path, dict[str, Any]]:
    """Fit the renewal model on every period of the history and write it (``--save-model``)."""
    import attrs

    from stars.forecast import fit_renewal_model

    model = fit_renewal_model(
        scored, outcome=args.outcome, revenue=args.revenue, period=args.period
    )
    model = attrs.evolve(
        model,
        measures=tuple(m.name for m in card.measures),
        scorecard=scorecard_digest(card),
        notes=(*model.notes, f"fitted by stars backtest on {Path(args.file).name}, every period"),
    )
    try:
        written = model.save(target)
    except OSError as exc:
        raise InvalidValue(
            "--save-model", str(target), "a file that can be written", hint=exc.strerror
        ) from None
    periods = len({str(x) for x in _column_values(scored, args.period)})
    return written, {"rows": model.rows, "positives": model.positives, "periods": periods}


def _column_values(frame: Any, column: str) -> list[Any]:
    import narwhals.stable.v1 as nw

    return list(nw.from_native(frame, eager_only=True).get_column(column).to_list())


def _fit_lines(text: str) -> str:
    """Wrap lines wider than the terminal (``COLUMNS``; else 100), keeping their indents."""
    import shutil
    import textwrap

    width = max(40, shutil.get_terminal_size((100, 24)).columns)
    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        indent = " " * (len(line) - len(line.lstrip()) + 2)
        out += textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False)
    return "\n".join(out)


def _read_json(path: Path) -> object:
    if not path.is_file():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SchemaError(
            str(path), f"byte {exc.start}", "a scorecard saved as JSON (UTF-8 text)"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(str(path), f"line {exc.lineno}", "valid JSON") from None


def _read_csv(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    try:
        import polars as pl
    except ImportError:  # pragma: no cover - polars is installed in the test env
        try:
            import pandas as pd  # type: ignore[import-untyped,unused-ignore]
        except ImportError:
            raise MissingDependency("polars", "frames") from None
        try:
            return pd.read_csv(path)
        except Exception as exc:
            raise InvalidValue(
                "FILE.csv", str(path), "a readable CSV file", hint=str(exc)
            ) from None
    try:
        return pl.read_csv(path, try_parse_dates=True)
    except pl.exceptions.PolarsError as exc:
        raise InvalidValue("FILE.csv", str(path), "a readable CSV file", hint=str(exc)) from None
