from __future__ import annotations

import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, roc_auc_score

from stars import frames
from stars.backtesting import backtest, fit_percentile
from stars.health import Direction, Linear, Measure, Scorecard

UP = Direction.HIGHER_IS_BETTER
DOWN = Direction.LOWER_IS_BETTER
CARD = Scorecard([Measure("x", 1, UP, Linear(0, 100))])

# Few distinct values, so that many rows tie.
rows = st.lists(
    st.tuples(st.integers(0, 12).map(lambda i: i * 8.5), st.integers(0, 1), st.integers(0, 3)),
    min_size=2,
    max_size=60,
)


def frame_of(data: list[tuple[float, int, int]]) -> pl.DataFrame:
    x, y, g = zip(*data, strict=True)
    return pl.DataFrame({"x": list(x), "y": list(y), "g": list(g)})


@settings(max_examples=100, deadline=None)
@given(rows)
def test_auc_and_precision_equal_sklearn_with_ties(data: list[tuple[float, int, int]]) -> None:
    ys = [y for _, y, _ in data]
    assume(0 < sum(ys) < len(ys))
    result = backtest(frame_of(data), CARD, outcome="y")
    risk = [-x for x, _, _ in data]
    assert result.auc == pytest.approx(roc_auc_score(ys, risk), abs=1e-9)
    assert result.average_precision == pytest.approx(average_precision_score(ys, risk), abs=1e-9)
    assert sum(b.rows for b in result.bands) == len(data)
    assert sum(b.positives for b in result.bands) == sum(ys)
    assert sum(d.rows for d in result.deciles) == len(data)
    for b in result.bands:
        if b.rate is not None:
            assert b.low is not None and b.high is not None
            assert b.low <= b.rate <= b.high


@settings(max_examples=60, deadline=None)
@given(rows)
def test_group_auc_equals_auc_of_each_group(data: list[tuple[float, int, int]]) -> None:
    ys = [y for _, y, _ in data]
    assume(0 < sum(ys) < len(ys))
    result = backtest(frame_of(data), CARD, outcome="y", period="g", segment="g")
    assert result.periods == result.segments
    for group in result.periods:
        inside = [(x, y) for x, y, g in data if str(g) == group.label]
        gy = [y for _, y in inside]
        assert group.rows == len(inside) and group.positives == sum(gy)
        if 0 < sum(gy) < len(gy):
            assert group.auc == pytest.approx(roc_auc_score(gy, [-x for x, _ in inside]), abs=1e-9)
        else:
            assert group.auc is None and group.note


@settings(max_examples=60, deadline=None)
@given(rows)
def test_reversing_the_direction_mirrors_the_auc(data: list[tuple[float, int, int]]) -> None:
    ys = [y for _, y, _ in data]
    assume(0 < sum(ys) < len(ys))
    down = Scorecard([Measure("x", 1, DOWN, Linear(0, 100))])
    up_auc = backtest(frame_of(data), CARD, outcome="y").auc
    down_result = backtest(frame_of(data), down, outcome="y")
    assert up_auc + down_result.auc == pytest.approx(1.0, abs=1e-12)
    assert down_result.measures[0].direction_warning == (down_result.auc < 0.45)


values = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=100, deadline=None)
@given(
    reference=st.lists(values, min_size=1, max_size=80),
    batch=st.lists(values, min_size=1, max_size=30),
    quantiles=st.integers(2, 101),
    direction=st.sampled_from([UP, DOWN]),
)
def test_percentile_scores_one_account_alone_as_in_a_batch(
    reference: list[float], batch: list[float], quantiles: int, direction: Direction
) -> None:
    rule = fit_percentile(
        pl.DataFrame({"v": reference}), "v", direction=direction, quantiles=quantiles
    )
    card = Scorecard([Measure("v", 1, direction, rule)])
    # reference values themselves sit exactly on the thresholds: include some
    probe = batch + reference[:10]
    together = frames.score(pl.DataFrame({"v": probe}), card)["health"].to_list()
    for value, in_batch in zip(probe, together, strict=True):
        alone_frame = frames.score(pl.DataFrame({"v": [value]}), card)["health"][0]
        assert card.score({"v": value}).score == in_batch == alone_frame
    # the score is the share of the reference at or below the value, rounded down to a step
    step = 100 / (quantiles - 1)
    for value, score in zip(probe, together, strict=True):
        share = 100 * sum(r <= value for r in reference) / len(reference)
        percentile = score if direction is UP else 100 - score
        assert share - step - 1e-9 < percentile <= share + 1e-9
