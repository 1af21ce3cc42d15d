from __future__ import annotations

import argparse
import io
import itertools
import json
import math
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pandas as pd
import polars as pl
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from stars import frames
from stars.backtesting import (
    DIRECTION_MARGIN,
    Backtest,
    BandOutcome,
    Calibration,
    DecileOutcome,
    GroupAUC,
    MeasureCheck,
    Percentile,
    add_backtest_parser,
    backtest,
    calibrate,
    cli_backtest,
    fit_percentile,
)
from stars.backtesting._common import _scorecard_from_dict, _scorecard_to_dict
from stars.bands import Band, BandCutoffs
from stars.errors import InvalidDefinition, InvalidValue, SchemaError, UnknownName
from stars.health import Direction, Linear, Measure, MissingPolicy, Scorecard, Steps
from stars.testing import synthetic_history

UP = Direction.HIGHER_IS_BETTER
DOWN = Direction.LOWER_IS_BETTER


def naive_card(**kw: Any) -> Scorecard:
    """What a team might start with: tickets and sentiment weigh most."""
    return Scorecard(
        [
            Measure("adoption", 1, UP, Linear(0, 1), (0, 1)),
            Measure("open_tickets", 3, DOWN, Steps((3, 6, 10), (100, 70, 40, 0)), (0, None)),
            Measure("days_since_contact", 1, DOWN, Linear(7, 90), (0, None)),
            Measure("sentiment", 2, UP, Linear(-1, 1), (-1, 1)),
        ],
        **kw,
    )


@pytest.fixture(scope="module")
def strong() -> pl.DataFrame:
    return synthetic_history(2000, 12, seed=11, signal=1.5)


@pytest.fixture(scope="module")
def strong_result(strong: pl.DataFrame) -> Backtest:
    return backtest(strong, naive_card(), outcome="churned", period="period", segment="segment")


def by_hand(frame: pl.DataFrame, card: Scorecard) -> np.ndarray:
    return frames.score(frame, card)["health"].to_numpy()


# -- the numbers agree with scikit-learn --------------------------------------------------


def test_auc_and_average_precision_match_sklearn(
    strong: pl.DataFrame, strong_result: Backtest
) -> None:
    health = by_hand(strong, naive_card())
    y = strong["churned"].to_numpy()
    # The Steps measure makes many ties in health, so the tie rule is exercised.
    assert np.unique(health).size < health.size
    assert strong_result.auc == pytest.approx(roc_auc_score(y, -health), abs=1e-9)
    assert strong_result.average_precision == pytest.approx(
        average_precision_score(y, -health), abs=1e-9
    )
    assert strong_result.rows == strong.height
    assert strong_result.positives == int(y.sum())
    assert strong_result.base_rate == pytest.approx(y.mean())


def test_same_on_polars_pandas_and_pyarrow(strong_result: Backtest) -> None:
    for backend in ("pandas", "pyarrow"):
        frame = synthetic_history(2000, 12, seed=11, signal=1.5, backend=backend)
        other = backtest(frame, naive_card(), outcome="churned", period="period", segment="segment")
        assert other.auc == pytest.approx(strong_result.auc, abs=1e-12)
        assert other == strong_result


def test_same_without_polars_installed(
    strong_result: Backtest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a pandas user without polars: the ranks are sorted by NumPy instead, same report
    frame = synthetic_history(2000, 12, seed=11, signal=1.5, backend="pandas")
    monkeypatch.setitem(sys.modules, "polars", None)
    other = backtest(frame, naive_card(), outcome="churned", period="period", segment="segment")
    assert other == strong_result


def test_per_period_and_segment_auc_match_sklearn(
    strong: pl.DataFrame, strong_result: Backtest
) -> None:
    health = by_hand(strong, naive_card())
    y = strong["churned"].to_numpy()
    periods = strong["period"].to_numpy()
    assert [p.label for p in strong_result.periods] == [
        date(2024, m, 1).isoformat() for m in range(1, 13)
    ]
    for group in strong_result.periods:
        chosen = periods == np.datetime64(group.label)
        assert group.rows == int(chosen.sum())
        assert group.auc == pytest.approx(roc_auc_score(y[chosen], -health[chosen]), abs=1e-9)
    segments = strong["segment"].to_numpy()
    assert [s.label for s in strong_result.segments] == ["enterprise", "mid", "smb"]
    for group in strong_result.segments:
        chosen = segments == group.label
        assert group.auc == pytest.approx(roc_auc_score(y[chosen], -health[chosen]), abs=1e-9)


def test_measure_auc_in_declared_direction(strong: pl.DataFrame, strong_result: Backtest) -> None:
    y = strong["churned"].to_numpy()
    checks = {m.name: m for m in strong_result.measures}
    adoption = strong["adoption"].to_numpy()
    assert checks["adoption"].auc == pytest.approx(roc_auc_score(y, -adoption), abs=1e-9)
    # Contact days are lower-is-better: the risk grows with them, clipped by Linear(7, 90).
    days = np.clip(strong["days_since_contact"].to_numpy(), 7, 90)
    assert checks["days_since_contact"].auc == pytest.approx(roc_auc_score(y, days), abs=1e-9)
    sentiment = strong["sentiment"].to_numpy()
    seen = ~np.isnan(sentiment)
    assert checks["sentiment"].auc == pytest.approx(
        roc_auc_score(y[seen], -sentiment[seen]), abs=1e-9
    )
    assert checks["sentiment"].missing_share == pytest.approx(1 - seen.mean())
    assert 0.1 < checks["sentiment"].missing_share < 0.2
    # synthetic_history makes tickets protective, so "fewer is better" is backwards here.
    assert checks["open_tickets"].direction_warning
    assert checks["open_tickets"].auc < 0.5 - DIRECTION_MARGIN
    assert not checks["adoption"].direction_warning
    assert any("open_tickets" in n for n in strong_result.notes)
    assert checks["open_tickets"].weight == pytest.approx(3 / 7)


# -- bands, deciles and the ROC curve -------------------------------------------------


def small() -> tuple[pl.DataFrame, Scorecard]:
    card = Scorecard([Measure("x", 1, UP, Linear(0, 100))])
    frame = pl.DataFrame(
        {
            "x": [10, 20, 30, 50, 60, 80, 90, 95, 30, 85],
            "y": [1, 1, 0, 0, 1, 0, 0, 0, 0, 1],
        }
    )
    return frame, card


def test_bands_by_hand() -> None:
    frame, card = small()
    result = backtest(frame, card, outcome="y")
    red, yellow, green = result.bands
    # red: 10, 20, 30, 30 -> 2 of 4; yellow: 50, 60 -> 1 of 2; green: 80, 85, 90, 95 -> 1 of 4
    assert (red.rows, red.positives, red.rate) == (4, 2, 0.5)
    assert (yellow.rows, yellow.positives) == (2, 1)
    assert (green.rows, green.positives, green.rate) == (4, 1, 0.25)
    assert red.lift == pytest.approx(0.5 / 0.4)
    assert result.green_but_churned == pytest.approx(1 / 4)
    # Wilson interval for 2 of 4 with z = 1.96: centre 0.5, half-width 0.3733...
    z = 1.959963984540054
    half = z / (1 + z * z / 4) * math.sqrt(0.25 / 4 + z * z / 64)
    assert red.low == pytest.approx(0.5 - half)
    assert red.high == pytest.approx(0.5 + half)
    assert red.low < red.rate < red.high
    assert result.band("green") is green
    assert result.band(Band.RED) is red


def test_empty_band_has_no_rate() -> None:
    card = Scorecard([Measure("x", 1, UP, Linear(0, 100))])
    frame = pl.DataFrame({"x": [10, 20, 90], "y": [1, 0, 0]})
    yellow = backtest(frame, card, outcome="y").band("yellow")
    assert (yellow.rows, yellow.rate, yellow.low, yellow.lift) == (0, None, None, None)


def test_deciles_keep_ties_together() -> None:
    frame, card = small()
    deciles = backtest(frame, card, outcome="y").deciles
    # Ten rows: one per decile, except the two rows scoring 30 share one.
    assert sum(d.rows for d in deciles) == 10
    tied = [d for d in deciles if d.score_low == 30]
    assert len(tied) == 1 and tied[0].rows == 2 and tied[0].rate == 0
    assert [d.decile for d in deciles] == sorted(d.decile for d in deciles)
    assert deciles[0].score_low == 10 and deciles[0].rate == 1.0
    assert all(d.score_low <= d.mean_score <= d.score_high for d in deciles)


def test_roc_curve_is_thinned_and_monotone(strong_result: Backtest) -> None:
    roc = strong_result.roc
    assert roc[0] == (0.0, 0.0) and roc[-1] == (1.0, 1.0)
    assert len(roc) <= 201
    xs, ys = zip(*roc, strict=True)
    assert list(xs) == sorted(xs) and list(ys) == sorted(ys)
    # the trapezoid area of even the thinned curve is close to the AUC
    area = sum((x2 - x1) * (y1 + y2) / 2 for (x1, y1), (x2, y2) in itertools.pairwise(roc))
    assert area == pytest.approx(strong_result.auc, abs=0.01)


# -- the synthetic history -----------------------------------------------------------------


def test_no_signal_gives_auc_near_half() -> None:
    # Fixed seed, ~20,000 rows and ~800 churners: the AUC's standard error is about 0.011,
    # so a tolerance of 0.035 is about three standard errors.
    history = synthetic_history(2000, 12, seed=2, signal=0.0)
    result = backtest(history, naive_card(), outcome="churned")
    assert result.positives > 500
    assert abs(result.auc - 0.5) < 0.035
    assert all(abs(m.auc - 0.5) < 0.035 for m in result.measures if m.auc is not None)


def test_strong_signal_gives_high_auc(strong: pl.DataFrame) -> None:
    right = Scorecard(
        [
            Measure("adoption", 5, UP, Linear(0, 1)),
            Measure("days_since_contact", 3, DOWN, Linear(0, 120)),
            Measure("sentiment", 1, UP, Linear(-1, 1)),
        ]
    )
    assert backtest(strong, right, outcome="churned").auc > 0.8


def test_synthetic_history_is_deterministic_and_drifts() -> None:
    a = synthetic_history(100, 6, seed=4, backend="dict")
    b = synthetic_history(100, 6, seed=4, backend="dict")
    assert a == b
    assert a != synthetic_history(100, 6, seed=5, backend="dict")
    frame = synthetic_history(1500, 12, seed=4)
    by_month = frame.group_by("period").agg(pl.col("adoption").mean()).sort("period")
    first, last = by_month["adoption"][0], by_month["adoption"][-1]
    assert last > first  # adoption creeps up across the base
    # a churned account has no later rows
    per = frame.group_by("account").agg(
        pl.col("churned").last().alias("last"), pl.col("churned").sum().alias("total")
    )
    assert (per["total"] == per["last"]).all()
    assert per["total"].sum() > 0


def test_synthetic_history_arguments() -> None:
    assert synthetic_history(5, 2, backend="pyarrow").num_columns == 8
    flat = synthetic_history(10, 3, strengths={"adoption": 0.0}, backend="dict")
    assert set(flat["churned"]) <= {0, 1}
    with pytest.raises(UnknownName, match="usage"):
        synthetic_history(5, 2, strengths={"usage": 1.0})
    with pytest.raises(InvalidValue, match="backend"):
        synthetic_history(5, 2, backend="spark")
    with pytest.raises(InvalidValue, match="accounts"):
        synthetic_history(0, 2)
    with pytest.raises(InvalidValue, match="signal"):
        synthetic_history(5, 2, signal=-1)


# -- calibrate -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(strong: pl.DataFrame) -> Calibration:
    return calibrate(
        strong, naive_card(), outcome="churned", period="period", train_until=date(2024, 8, 1)
    )


def test_calibrate_weighs_the_drivers_most(fitted: Calibration) -> None:
    w = fitted.weights
    assert sum(w.values()) == pytest.approx(1.0)
    assert all(x >= 0 for x in w.values())
    # synthetic_history: adoption (1.0) > contact (0.6) > sentiment (0.3); tickets protect.
    assert w["adoption"] > w["days_since_contact"] > w["sentiment"]
    assert w["open_tickets"] == pytest.approx(0.0, abs=1e-6)
    assert fitted.scorecard.names == naive_card().names
    assert [m.rule for m in fitted.scorecard.measures] == [m.rule for m in naive_card().measures]
    assert [m.direction for m in fitted.scorecard.measures] == [
        m.direction for m in naive_card().measures
    ]


def test_calibrate_does_not_lower_held_out_auc(fitted: Calibration, strong: pl.DataFrame) -> None:
    assert fitted.after.auc >= fitted.before.auc
    assert fitted.after.green_but_churned < fitted.before.green_but_churned
    held = strong.filter(pl.col("period") > date(2024, 8, 1))
    assert fitted.after.rows == held.height
    assert fitted.before == backtest(held, naive_card(), outcome="churned", period="period")
    assert fitted.after.auc == pytest.approx(
        roc_auc_score(held["churned"], -by_hand(held, fitted.scorecard)), abs=1e-9
    )
    assert [p.label for p in fitted.after.periods] == [f"2024-{m:02d}-01" for m in (9, 10, 11, 12)]
    assert fitted.train_until == "2024-08-01"
    assert fitted.train_rows + fitted.after.rows == strong.height


def test_calibrated_cutoffs_follow_the_rules(fitted: Calibration, strong: pl.DataFrame) -> None:
    train = strong.filter(pl.col("period") <= date(2024, 8, 1))
    health = by_hand(train, fitted.scorecard)
    y = train["churned"].to_numpy()
    cut = fitted.scorecard.cutoffs
    red = health < cut.red_below
    assert y[red].sum() >= y.sum() / 2  # red holds at least half of the training churners
    # ... and is the smallest such set of lowest scores
    below = np.sort(health)[np.sort(health) < cut.red_below]
    tighter = health < below.max()
    assert y[tighter].sum() < y.sum() / 2
    green = health >= cut.green_from
    assert y[green].mean() <= y.mean() / 2
    assert cut.red_below <= cut.green_from
    assert any("red below" in n for n in fitted.notes)


def test_calibrate_given_red_cutoffs(strong: pl.DataFrame) -> None:
    fit = calibrate(
        strong,
        naive_card(),
        outcome="churned",
        period="period",
        train_until="2024-06-01",
        red_share=0.1,
    )
    train = strong.filter(pl.col("period") <= date(2024, 6, 1))
    health = by_hand(train, fit.scorecard)
    assert (health < fit.scorecard.cutoffs.red_below).mean() == pytest.approx(0.1, abs=0.01)
    fixed = calibrate(
        strong,
        naive_card(),
        outcome="churned",
        period="period",
        train_until="2024-06-01",
        red_below=25,
    )
    assert fixed.scorecard.cutoffs.red_below == 25
    assert fixed.weights == pytest.approx(fit.weights)
    none_red = calibrate(
        strong,
        naive_card(),
        outcome="churned",
        period="period",
        train_until="2024-06-01",
        red_share=0,
    )
    train_health = by_hand(train, none_red.scorecard)
    assert not (train_health < none_red.scorecard.cutoffs.red_below).any()


def test_calibrate_keeps_groups_and_policy(strong: pl.DataFrame) -> None:
    card = Scorecard(
        [
            Measure("adoption", 1, UP, Linear(0, 1), group="usage"),
            Measure("days_since_contact", 1, DOWN, Linear(7, 90), group="usage"),
            Measure("sentiment", 1, UP, Linear(-1, 1), group="feel"),
        ],
        groups={"usage": 1, "feel": 3},
        missing=MissingPolicy.WORST,
    )
    fit = calibrate(strong, card, outcome="churned", period="period", train_until="2024-08-01")
    assert fit.scorecard.missing is MissingPolicy.WORST
    assert set(fit.scorecard.groups) == {"usage", "feel"}
    assert fit.scorecard.groups["usage"] > fit.scorecard.groups["feel"]
    assert sum(fit.weights.values()) == pytest.approx(1.0)


def test_calibrate_without_any_separating_measure_keeps_weights() -> None:
    # Every measure points the wrong way: high x goes with the outcome.
    n = 400
    x = [(i % 100) / 100 for i in range(n)]
    frame = pl.DataFrame(
        {
            "x": x,
            "z": x,
            "t": [i // 100 for i in range(n)],
            "y": [int(v > 0.7) for v in x],
        }
    )
    card = Scorecard([Measure("x", 2, UP, Linear(0, 1)), Measure("z", 1, UP, Linear(0, 1))])
    fit = calibrate(frame, card, outcome="y", period="t", train_until=1)
    assert fit.weights == pytest.approx(card.weights)
    assert any("unchanged" in n for n in fit.notes)
    # ... and the high scores churn most, so no green can be found and green starts at 100
    assert fit.scorecard.cutoffs.green_from == 100.0


def test_calibrate_green_not_below_red() -> None:
    n = 400
    x = [(i % 100) / 100 for i in range(n)]
    frame = pl.DataFrame(
        {
            "x": x,
            "t": [i // 100 for i in range(n)],
            "y": [int(v < 0.5 and i % 2 == 0) for i, v in enumerate(x)],
        }
    )
    card = Scorecard([Measure("x", 1, UP, Linear(0, 1))])
    fit = calibrate(frame, card, outcome="y", period="t", train_until=2, red_below=80)
    assert fit.scorecard.cutoffs.green_from == 80
    assert any("where red ends" in n for n in fit.notes)


def test_calibration_reports(fitted: Calibration) -> None:
    text = fitted.explain()
    assert "Held-out AUC" in text and "adoption" in text and "->" in text
    html = fitted._repr_html_()
    assert "<table>" in html and "green but churned" in html
    data = fitted.to_dict()
    json.dumps(data)
    assert data["scorecard"]["measures"][0]["name"] == "adoption"
    assert data["after"]["base_rate"] == pytest.approx(fitted.after.base_rate)
    assert _scorecard_from_dict(data["scorecard"]) == fitted.scorecard


# -- reports and plots --------------------------------------------------------------------


def test_explain_html_and_dict(strong_result: Backtest) -> None:
    text = strong_result.explain()
    assert text.startswith(f"Backtest on {strong_result.rows:,} rows")
    assert "backwards in this data" in text
    assert "AUC by period (period):" in text and "AUC by segment (segment):" in text
    html = strong_result._repr_html_()
    assert html.count("<table>") >= 5
    data = strong_result.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["bands"][2]["band"] == "green"
    assert data["measures"][0]["direction"] == "higher_is_better"
    assert data["cutoffs"] == {"red_below": 40.0, "green_from": 70.0}


@pytest.mark.parametrize("name", ["plot_roc", "plot_bands", "plot_deciles"])
def test_plots_render_to_png(strong_result: Backtest, name: str) -> None:
    fig = getattr(strong_result, name)()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")
    assert fig.axes[0].get_title()


# -- undefined and bad input -------------------------------------------------------------


def card_x() -> Scorecard:
    return Scorecard([Measure("x", 1, UP, Linear(0, 1))])


@pytest.mark.parametrize("outcomes", [[0, 0, 0], [1, 1, 1]])
def test_undefined_auc_is_refused(outcomes: list[int]) -> None:
    frame = pl.DataFrame({"x": [0.1, 0.5, 0.9], "y": outcomes})
    with pytest.raises(InvalidValue, match="AUC is undefined") as info:
        backtest(frame, card_x(), outcome="y")
    assert info.value.field == "y"


def test_undefined_sub_group_auc_is_none_with_a_note() -> None:
    frame = pl.DataFrame(
        {"x": [0.1, 0.5, 0.9, 0.2, 0.4], "y": [1, 0, 0, 0, 0], "p": [1, 1, 1, 2, 2]}
    )
    result = backtest(frame, card_x(), outcome="y", period="p")
    assert result.periods[0].auc == 1.0
    assert result.periods[1].auc is None
    assert result.periods[1].note == "no rows with outcome 1"
    assert any("period 2" in n for n in result.notes)


@pytest.mark.parametrize(
    ("values", "shown"),
    [([0, 1, 2, 1, 0, 5], "[2, 5]"), ([0.0, 1.0, 0.5, 1.0, 0.0, 1.0], "[0.5]")],
)
def test_outcome_not_zero_one(values: list[Any], shown: str) -> None:
    frame = pl.DataFrame({"x": [0.1] * 6, "churned": values})
    with pytest.raises(InvalidValue, match="expected 0 or 1 in every row") as info:
        backtest(frame, card_x(), outcome="churned")
    assert info.value.field == "churned"
    assert shown in str(info.value)
    assert "row positions 2" in str(info.value)


def test_outcome_nulls_strings_and_booleans() -> None:
    frame = pd.DataFrame({"x": [0.1, 0.2, 0.3], "y": [1.0, None, 0.0]})
    with pytest.raises(InvalidValue, match="1 bad row; first at row positions 1"):
        backtest(frame, card_x(), outcome="y")
    with pytest.raises(InvalidValue, match="a 0/1"):
        backtest(pl.DataFrame({"x": [0.1], "y": ["yes"]}), card_x(), outcome="y")
    flags = pl.DataFrame({"x": [0.1, 0.9, 0.5], "y": [True, False, False]})
    assert backtest(flags, card_x(), outcome="y").auc == 1.0


def test_missing_columns_are_named() -> None:
    frame = pl.DataFrame({"x": [0.1, 0.9], "y": [1, 0]})
    with pytest.raises(InvalidValue, match="a column for every measure") as info:
        backtest(frame, naive_card(), outcome="y")
    assert "adoption" in str(info.value)
    with pytest.raises(InvalidValue, match="outcome: got 'churned'"):
        backtest(frame, card_x(), outcome="churned")
    with pytest.raises(InvalidValue, match="period: got 'month'"):
        backtest(frame, card_x(), outcome="y", period="month")
    with pytest.raises(InvalidValue, match="scorecard"):
        backtest(frame, "card", outcome="y")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="at least one row"):
        backtest(frame.head(0), card_x(), outcome="y")
    with pytest.raises(InvalidValue, match="frame"):
        backtest([1, 2], card_x(), outcome="y")


def test_measure_without_a_defined_auc() -> None:
    frame = pl.DataFrame(
        {
            "x": [0.1, 0.9, 0.2, 0.8],
            "gone": [None] * 4,
            "some": [0.2, None, None, None],
            "y": [1, 0, 0, 0],
        },
        schema_overrides={"gone": pl.Float64},
    )
    card = Scorecard(
        [
            Measure("x", 1, UP, Linear(0, 1)),
            Measure("gone", 1, UP, Linear(0, 1)),
            Measure("some", 1, UP, Linear(0, 1)),
        ]
    )
    result = backtest(frame, card, outcome="y")
    _, gone, some = result.measures
    assert (gone.auc, gone.note, gone.missing_share) == (None, "no values", 1.0)
    assert some.auc is None and some.note == "undefined where present: every row has outcome 1"
    assert some.missing_share == 0.75
    assert sum("AUC" in n for n in result.notes) == 2
    # an empty yellow band is left out of the band plot
    assert len(result.plot_bands().axes[0].patches) == 2


def test_measure_values_checked_as_in_frames_score() -> None:
    frame = pl.DataFrame({"x": [0.1, 1.5, 0.2], "y": [1, 0, 0]})
    card = Scorecard([Measure("x", 1, UP, Linear(0, 1), domain=(0, 1))])
    with pytest.raises(InvalidValue, match=r"x: got \[1.5\]"):
        backtest(frame, card, outcome="y")


def test_periods_that_cannot_be_put_in_order() -> None:
    frame = pl.DataFrame(
        {
            "x": [0.1, 0.9, 0.4, 0.6],
            "y": [1, 0, 0, 1],
            "m": ["Jan 2025", "Feb 2025", "Mar 2025", "Jan 2025"],
        }
    )
    with pytest.raises(InvalidValue, match="sort in time order") as info:
        backtest(frame, card_x(), outcome="y", period="m")
    assert "out of order" in str(info.value)
    iso = frame.with_columns(m=pl.Series(["2025-01", "2025-02", "2025-03", "2025-01"]))
    result = backtest(iso, card_x(), outcome="y", period="m")
    assert [p.label for p in result.periods] == ["2025-01", "2025-02", "2025-03"]
    # text segments need no order
    assert len(backtest(frame, card_x(), outcome="y", segment="m").segments) == 3
    gaps = pl.DataFrame({"x": [0.1, 0.9], "y": [1, 0], "p": [1, None]})
    with pytest.raises(InvalidValue, match="a value in every row"):
        backtest(gaps, card_x(), outcome="y", period="p")
    nan = pd.DataFrame({"x": [0.1, 0.9], "y": [1, 0], "p": [1.0, float("nan")]})
    with pytest.raises(InvalidValue, match="a value in every row"):
        backtest(nan, card_x(), outcome="y", period="p")
    mixed = pd.DataFrame({"x": [0.1, 0.9], "y": [1, 0], "p": [1, "a"]})
    with pytest.raises(InvalidValue, match="can be sorted"):
        backtest(mixed, card_x(), outcome="y", period="p")


def test_period_kinds() -> None:
    base = {"x": [0.1, 0.9, 0.4, 0.6], "y": [1, 0, 0, 1]}
    stamps = pd.DataFrame(
        {
            **base,
            "p": pd.to_datetime(
                ["2025-01-01 12:00", "2025-01-01 12:00", "2025-02-01 00:00", "2025-02-01 00:00"]
            ),
        }
    )
    labels = [g.label for g in backtest(stamps, card_x(), outcome="y", period="p").periods]
    assert labels == ["2025-01-01T12:00:00", "2025-02-01T00:00:00"]
    floats = pl.DataFrame({**base, "p": [1.0, 1.0, 2.5, 2.5]})
    assert [g.label for g in backtest(floats, card_x(), outcome="y", period="p").periods] == [
        "1",
        "2.5",
    ]
    aware = pd.DataFrame(
        {
            **base,
            "p": pd.Series(
                [datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, 6, tzinfo=UTC)] * 2,
                dtype=object,
            ),
        }
    )
    labels = [g.label for g in backtest(aware, card_x(), outcome="y", period="p").periods]
    assert labels == ["2025-01-01T00:00:00+00:00", "2025-01-01T06:00:00+00:00"]
    objects = pd.DataFrame({**base, "p": [date(2025, 1, 1)] * 2 + [date(2025, 2, 1)] * 2})
    fit = calibrate(objects, card_x(), outcome="y", period="p", train_until=date(2025, 1, 1))
    assert fit.train_until == "2025-01-01"


def test_calibrate_bad_input(strong: pl.DataFrame) -> None:
    card = naive_card()
    kw: dict[str, Any] = {"outcome": "churned", "period": "period"}
    with pytest.raises(InvalidValue, match="some periods are held out"):
        calibrate(strong, card, train_until="2024-12-01", **kw)
    with pytest.raises(InvalidValue, match="some periods are held out"):
        calibrate(strong, card, train_until="2023-01-01", **kw)
    with pytest.raises(InvalidValue, match="same kind as the periods"):
        calibrate(strong, card, train_until=5, **kw)
    with pytest.raises(InvalidValue, match="same kind as the periods"):
        calibrate(strong, card, train_until="not a date", **kw)
    with pytest.raises(InvalidValue, match="red_share"):
        calibrate(strong, card, train_until="2024-06-01", red_share=0.2, red_below=30, **kw)
    with pytest.raises(InvalidValue, match="red_share"):
        calibrate(strong, card, train_until="2024-06-01", red_share=2, **kw)
    with pytest.raises(InvalidValue, match="red_below"):
        calibrate(strong, card, train_until="2024-06-01", red_below=120, **kw)
    ints = pl.DataFrame({"x": [0.1, 0.9, 0.4, 0.6], "y": [0, 0, 1, 0], "t": [1, 1, 2, 2]})
    with pytest.raises(InvalidValue, match="both 0s and 1s in the training periods"):
        calibrate(ints, card_x(), outcome="y", period="t", train_until=1)
    with pytest.raises(InvalidValue, match="same kind as the periods"):
        calibrate(ints, card_x(), outcome="y", period="t", train_until="1")
    one = ints.with_columns(t=pl.lit(1))
    with pytest.raises(InvalidValue, match="at least two periods"):
        calibrate(one, card_x(), outcome="y", period="t", train_until=1)
    held = pl.DataFrame({"x": [0.1, 0.9, 0.4, 0.6], "y": [1, 0, 0, 0], "t": [1, 1, 2, 2]})
    with pytest.raises(InvalidValue, match="AUC is undefined"):
        calibrate(held, card_x(), outcome="y", period="t", train_until=1)
    text = pl.DataFrame(
        {"x": [0.1, 0.9, 0.4, 0.6], "y": [1, 0, 1, 0], "t": ["2025-01"] * 2 + ["2025-02"] * 2}
    )
    fit = calibrate(text, card_x(), outcome="y", period="t", train_until="2025-01")
    assert fit.train_until == "2025-01"
    with pytest.raises(InvalidValue, match="same kind as the periods"):
        calibrate(text, card_x(), outcome="y", period="t", train_until=date(2025, 1, 1))


# -- the percentile rule -------------------------------------------------------------------


def test_fit_percentile_by_hand() -> None:
    frame = pl.DataFrame({"v": [1.0, 2.0, 3.0, 4.0, None]})
    up = fit_percentile(frame, "v", direction=UP, quantiles=5)
    # 4 values, 5 quantiles at levels 0, .25, .5, .75, 1 -> values 1, 1, 2, 3, 4
    assert up.thresholds == (1.0, 2.0, 3.0, 4.0)
    assert up.scores == (0.0, 25.0, 50.0, 75.0, 100.0)
    down = fit_percentile(frame, "v", direction="lower_is_better", quantiles=5)
    assert down.scores == (100.0, 75.0, 50.0, 25.0, 0.0)
    measure = Measure("v", 1, DOWN, down)
    assert measure.score(0.5) == 100.0 and measure.score(2.5) == 50.0 and measure.score(9) == 0.0
    constant = fit_percentile(pl.DataFrame({"v": [3, 3, 3]}), "v", direction=UP)
    assert constant.thresholds == (3.0,) and constant.scores == (0.0, 100.0)


def test_fit_percentile_by_segment() -> None:
    frame = pd.DataFrame({"v": [1, 2, 3, 10, 20, 30], "s": ["a", "a", "a", "b", "b", "b"]})
    rules = fit_percentile(frame, "v", direction=UP, segment="s", quantiles=3)
    assert rules["a"].thresholds == (1.0, 2.0, 3.0)
    assert rules["b"].thresholds == (10.0, 20.0, 30.0)
    assert rules["a"].apply(2.5, UP) == rules["b"].apply(25, UP) == 50.0


def test_fit_percentile_refusals() -> None:
    frame = pl.DataFrame({"v": [1.0, float("inf")], "w": [None, None], "s": ["a", "b"]})
    with pytest.raises(InvalidValue, match="finite numbers"):
        fit_percentile(frame, "v", direction=UP)
    with pytest.raises(InvalidValue, match="at least one value"):
        fit_percentile(frame.with_columns(w=pl.lit(None, pl.Float64)), "w", direction=UP)
    with pytest.raises(InvalidValue, match="quantiles"):
        fit_percentile(frame, "v", direction=UP, quantiles=1)
    with pytest.raises(InvalidValue, match="direction"):
        fit_percentile(frame, "v", direction="up")
    mixed = pl.DataFrame({"v": [1.0, None], "s": ["a", "b"]})
    with pytest.raises(InvalidValue, match="v in s 'b'"):
        fit_percentile(mixed, "v", direction=UP, segment="s")
    with pytest.raises(InvalidDefinition, match="one way"):
        Percentile((1, 2), (0, 80, 40))
    with pytest.raises(InvalidDefinition):
        Measure("v", 1, DOWN, Percentile((1, 2), (0, 50, 100)))


def test_percentile_scores_alone_as_in_a_batch(strong: pl.DataFrame) -> None:
    reference = strong.filter(pl.col("period") <= date(2024, 6, 1))
    rule = fit_percentile(reference, "days_since_contact", direction=DOWN)
    card = Scorecard([Measure("days_since_contact", 1, DOWN, rule, (0, None))])
    batch = strong.head(300)
    health = frames.score(batch, card)["health"].to_list()
    alone = [card.score({"days_since_contact": x}).score for x in batch["days_since_contact"]]
    assert health == alone
    assert backtest(strong, card, outcome="churned").auc > 0.5


# -- value objects -------------------------------------------------------------------------


def test_value_objects_refuse_bad_fields() -> None:
    with pytest.raises(InvalidValue, match="band"):
        BandOutcome("blue", 1, 0, 0.0, 0.0, 0.5, 0.0)
    with pytest.raises(InvalidValue, match="rows"):
        BandOutcome("red", -1, 0, 0.0, 0.0, 0.5, 0.0)
    with pytest.raises(InvalidValue, match="direction"):
        MeasureCheck("x", "sideways", 0.5, 0.5, 0.0, False)
    assert MeasureCheck("x", UP, 1, 1, 0, False).weight == 1.0
    with pytest.raises(InvalidValue, match="direction_warning"):
        MeasureCheck("x", UP, 0.5, 0.5, 0.0, 1)
    with pytest.raises(InvalidValue, match="decile"):
        DecileOutcome(11, 1, 0, 0.0, 0.0, 1.0, 0.5)
    with pytest.raises(InvalidValue, match="auc"):
        GroupAUC("a", 1, 0, 1.5)
    good = backtest(pl.DataFrame({"x": [0.1, 0.9], "y": [1, 0]}), card_x(), outcome="y")
    assert good.notes == () and "note" not in good._repr_html_()
    with pytest.raises(InvalidValue, match="bands"):
        attrs.evolve(good, bands="red")
    with pytest.raises(InvalidValue, match=r"bands\[0\]"):
        attrs.evolve(good, bands=[1])
    with pytest.raises(InvalidValue, match="roc"):
        attrs.evolve(good, roc=5)
    with pytest.raises(InvalidValue, match=r"roc\[0\]"):
        attrs.evolve(good, roc=[(0.0,)])
    with pytest.raises(InvalidValue, match="cutoffs"):
        attrs.evolve(good, cutoffs=(40, 70))
    assert attrs.evolve(good, cutoffs=BandCutoffs(10, 20)).cutoffs.red_below == 10


# -- scorecard JSON and the command -------------------------------------------------------


def test_scorecard_dict_round_trip() -> None:
    rule = Percentile((1.0, 2.0), (100.0, 50.0, 0.0))
    card = Scorecard(
        [
            Measure("a", 1, UP, Linear(0, 1), (0, 1), "g"),
            Measure("b", 2, DOWN, Steps((3,), (100, 0)), (0, None), "g"),
            Measure("c", 1, DOWN, rule, None, "h"),
        ],
        groups={"g": 2, "h": 1},
        missing="worst",
        cutoffs=BandCutoffs(30, 60),
    )
    back = _scorecard_from_dict(json.loads(json.dumps(_scorecard_to_dict(card))))
    assert back == card
    assert isinstance(back.measures[2].rule, Percentile)


def _doc(**changes: Any) -> dict[str, Any]:
    doc = _scorecard_to_dict(naive_card())
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        ({}, "$.schema"),
        (_doc(schema="stars/9"), "$.schema"),
        (_doc(type="Account"), "$.type"),
        (_doc(measures={}), "$.measures"),
        (_doc(measures=[{"name": "a"}]), "$.measures[0].weight"),
    ],
)
def test_scorecard_dict_refusals(doc: dict[str, Any], path: str) -> None:
    with pytest.raises(SchemaError) as info:
        _scorecard_from_dict(doc)
    assert info.value.path == path


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="stars")
    add_backtest_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["backtest", *argv])


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    history = synthetic_history(600, 8, seed=3, signal=1.5)
    csv = tmp_path / "history.csv"
    history.write_csv(csv)
    card = tmp_path / "card.json"
    card.write_text(json.dumps(_scorecard_to_dict(naive_card())), encoding="utf-8")
    return csv, card


def test_cli_report(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    csv, card = files
    args = parse(str(csv), "--scorecard", str(card), "--outcome", "churned", "--period", "period")
    assert args.func is cli_backtest
    assert cli_backtest(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("Backtest on") and "2024-08-01" in out
    args = parse(
        str(csv),
        "--scorecard",
        str(card),
        "--outcome",
        "churned",
        "--format",
        "json",
        "--segment",
        "segment",
    )
    assert cli_backtest(args) == 0
    assert len(json.loads(capsys.readouterr().out)["segments"]) == 3


def test_cli_calibrate(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    csv, card = files
    args = parse(
        str(csv),
        "--scorecard",
        str(card),
        "--outcome",
        "churned",
        "--period",
        "period",
        "--calibrate",
        "--train-until",
        "2024-05-01",
    )
    assert cli_backtest(args) == 0
    written = card.with_suffix(".calibrated.json")
    assert f"Wrote the calibrated scorecard to {written}" in capsys.readouterr().out
    fitted = _scorecard_from_dict(json.loads(written.read_text(encoding="utf-8")))
    assert fitted.names == naive_card().names
    target = csv.parent / "out.json"
    args = parse(
        str(csv),
        "--scorecard",
        str(card),
        "--outcome",
        "churned",
        "--period",
        "period",
        "--calibrate",
        "--train-until",
        "2024-05-01",
        "--output",
        str(target),
        "--format",
        "json",
    )
    assert cli_backtest(args) == 0
    assert json.loads(capsys.readouterr().out)["train_until"] == "2024-05-01"
    assert _scorecard_from_dict(json.loads(target.read_text(encoding="utf-8"))) == fitted


def test_cli_on_a_csv_with_empty_measure_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An empty CSV column reads back as a String column of nulls. It means "not
    # measured", so the measure counts as missing instead of stopping the backtest.
    from stars import io
    from stars.health import default_scorecard

    card = default_scorecard()
    history = synthetic_history(50, 4, seed=1).with_columns(
        nps=pl.lit(None, pl.Float64), csat=pl.lit(None, pl.Float64)
    )
    csv = tmp_path / "history.csv"
    history.write_csv(csv)
    assert pl.read_csv(csv).schema["nps"] == pl.String
    path = tmp_path / "card.json"
    path.write_text(io.dumps(card), encoding="utf-8")
    args = parse(str(csv), "--scorecard", str(path), "--outcome", "churned", "--format", "json")
    assert cli_backtest(args) == 0, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)
    expected = backtest(history, card, outcome="churned").to_dict()
    assert report["rows"] == expected["rows"] > 0
    assert report["auc"] == pytest.approx(expected["auc"])
    measures = {m["name"]: m for m in report["measures"]}
    assert measures["nps"]["missing_share"] == measures["csat"]["missing_share"] == 1.0
    assert measures["nps"]["auc"] is None
    assert measures["adoption"]["missing_share"] == 0.0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--calibrate"], "--period and --train-until"),
        (["--outcome", "adoption"], "0 or 1 in every row"),
        (["--period", "nope"], "period: got 'nope'"),
    ],
)
def test_cli_errors_exit_2(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    csv, card = files
    args = parse(str(csv), "--scorecard", str(card), "--outcome", "churned", *extra)
    assert cli_backtest(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("stars: error:") and message in err


def test_cli_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    card = tmp_path / "card.json"
    card.write_text("{not json", encoding="utf-8")
    csv = tmp_path / "h.csv"
    # A row longer than the header: every supported polars refuses it (polars 1.x reads an
    # unterminated quote leniently, so that is no test of the message).
    csv.write_text("a,b\n1,2,3\n", encoding="utf-8")
    assert cli_backtest(parse(str(csv), "--scorecard", str(card), "--outcome", "b")) == 2
    assert "valid JSON" in capsys.readouterr().err
    card.write_text(json.dumps(_scorecard_to_dict(card_x())), encoding="utf-8")
    assert cli_backtest(parse(str(csv), "--scorecard", str(card), "--outcome", "b")) == 2
    assert "readable CSV" in capsys.readouterr().err
    assert (
        cli_backtest(parse(str(tmp_path / "no.csv"), "--scorecard", str(card), "--outcome", "b"))
        == 2
    )
    assert "no.csv: no such file" in capsys.readouterr().err
    missing = tmp_path / "none.json"
    assert cli_backtest(parse(str(csv), "--scorecard", str(missing), "--outcome", "b")) == 2
    assert "none.json" in capsys.readouterr().err


def test_wilson_interval_holds_the_rate_at_the_edges() -> None:
    from stars._outcomes import wilson as _wilson

    for n in (1, 2, 7, 50, 1000):
        low, high = _wilson(0, n)
        assert low == 0.0 < high
        low, high = _wilson(n, n)
        assert low < high == 1.0
        for k in range(0, n + 1, max(1, n // 7)):
            low, high = _wilson(k, n)
            assert low <= k / n <= high
