"""The backtest report: `backtest`, `Backtest` and its band, measure, decile and group parts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from stars import _validate as v
from stars._html import table
from stars._outcomes import load_numpy as _numpy
from stars._outcomes import wilson as _wilson
from stars.backtesting._common import (
    _ROC_POINTS,
    DIRECTION_MARGIN,
    _auc_text,
    _count,
    _figure,
    _float,
    _instance,
    _name,
    _optional_float,
    _optional_positive,
    _optional_share,
    _pct,
    _plain,
    _score,
    _share,
    _to_band,
    _to_direction,
    _to_notes,
    _to_roc,
)
from stars.backtesting._ranks import (
    _as_of,
    _auc,
    _auc_by_group,
    _measure_auc,
    _prepare,
    _Prepared,
    _Ranked,
    _undefined,
)
from stars.bands import Band, BandCutoffs
from stars.errors import (
    InvalidValue,
)
from stars.health import Direction, Scorecard

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from numpy.typing import NDArray


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
