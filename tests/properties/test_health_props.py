from __future__ import annotations

import functools
import math
import operator
from datetime import UTC, datetime, timedelta
from typing import Any

import narwhals as nw
import pandas as pd
import polars as pl
import pyarrow as pa
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from stars import Snapshot, frames
from stars.errors import InvalidDefinition, InvalidValue
from stars.health import (
    BandCutoffs,
    Direction,
    HealthScore,
    Linear,
    Measure,
    MissingPolicy,
    Scorecard,
    Steps,
    trend,
)

Values = dict[str, float | None]

finite = st.floats(-1000, 1000, allow_nan=False, allow_infinity=False)


@st.composite
def rules(draw: st.DrawFn, direction: Direction) -> Linear | Steps:
    if draw(st.booleans()):
        lo = draw(finite)
        return Linear(lo, lo + draw(st.floats(0.01, 500)))
    thresholds = sorted(draw(st.sets(finite, min_size=1, max_size=4)))
    scores = sorted(
        draw(
            st.lists(st.floats(0, 100), min_size=len(thresholds) + 1, max_size=len(thresholds) + 1)
        )
    )
    if direction is Direction.LOWER_IS_BETTER:
        scores.reverse()
    return Steps(thresholds, scores)


@st.composite
def measures(draw: st.DrawFn, name: str, group: str | None) -> Measure:
    direction = draw(st.sampled_from(Direction))
    domain = draw(
        st.one_of(
            st.none(),
            st.tuples(finite, st.floats(0, 800)).map(lambda p: (p[0], p[0] + p[1])),
            st.tuples(finite, st.none()),
            st.tuples(st.none(), finite),
        )
    )
    weight = draw(st.one_of(st.just(0.0), st.floats(0.1, 10)))
    return Measure(name, weight, direction, draw(rules(direction)), domain, group)


@st.composite
def scorecards(draw: st.DrawFn) -> Scorecard:
    n = draw(st.integers(1, 5))
    grouped = draw(st.booleans())
    group_names = ["g0", "g1", "g2"][: draw(st.integers(1, 3))]
    items = [
        draw(measures(f"m{i}", draw(st.sampled_from(group_names)) if grouped else None))
        for i in range(n)
    ]
    groups = (
        {g: draw(st.one_of(st.just(0.0), st.floats(0.1, 10))) for g in group_names}
        if grouped
        else None
    )
    red = draw(st.floats(0, 100))
    cutoffs = BandCutoffs(red_below=red, green_from=draw(st.floats(red, 100)))
    try:
        return Scorecard(items, groups, draw(st.sampled_from(MissingPolicy)), cutoffs)
    except InvalidDefinition:
        assume(False)
        raise  # pragma: no cover - assume(False) never returns


def value_for(measure: Measure) -> st.SearchStrategy[float]:
    lo, hi = measure.domain if measure.domain is not None else (None, None)
    lo = -1000.0 if lo is None else lo
    hi = (lo + 1000.0) if hi is None else hi
    edges = [lo, hi]
    if isinstance(measure.rule, Steps):
        edges += [t for t in measure.rule.thresholds if lo <= t <= hi]
    else:
        edges += [b for b in (measure.rule.lo, measure.rule.hi) if lo <= b <= hi]
    return st.one_of(st.sampled_from(edges), st.floats(lo, hi))


def values_for(card: Scorecard) -> st.SearchStrategy[Values]:
    return st.fixed_dictionaries(
        {m.name: st.one_of(st.none(), value_for(m)) for m in card.measures}
    )


def scalar(card: Scorecard, values: Values) -> HealthScore | None:
    try:
        return card.score(values)
    except InvalidValue:
        return None


def native_frames(card: Scorecard, rows: list[Values]) -> dict[str, Any]:
    columns = {n: [row[n] for row in rows] for n in card.names}
    return {
        "polars": pl.DataFrame(columns, schema=dict.fromkeys(card.names, pl.Float64)),
        "pandas": pd.DataFrame({n: pd.Series(v, dtype="float64") for n, v in columns.items()}),
        "pyarrow": pa.table({n: pa.array(v, pa.float64()) for n, v in columns.items()}),
    }


@st.composite
def card_and_rows(draw: st.DrawFn) -> tuple[Scorecard, list[Values]]:
    card = draw(scorecards())
    return card, draw(st.lists(values_for(card), min_size=1, max_size=6))


@settings(max_examples=100, deadline=None)
@given(card_and_rows())
def test_batch_equals_scalar_on_every_backend(case: tuple[Scorecard, list[Values]]) -> None:
    card, rows = case
    expected = [scalar(card, row) for row in rows]
    for backend, native in native_frames(card, rows).items():
        if any(e is None for e in expected):
            # a row the scalar path refuses makes the whole batch refuse
            try:
                frames.score(native, card)
            except InvalidValue:
                continue
            raise AssertionError(f"{backend}: batch scored rows that the scalar path refuses")
        got = nw.from_native(frames.score(native, card), eager_only=True).rows(named=True)
        for row, want in zip(got, expected, strict=True):
            assert want is not None
            assert abs(row["health"] - want.score) <= 1e-9, backend
            assert row["band"] == want.band.value, backend
            for name in card.names:
                assert abs(row[f"contribution_{name}"] - want.contributions[name]) <= 1e-9


@st.composite
def card_values_and_change(draw: st.DrawFn) -> tuple[Scorecard, Values, str, float, float]:
    card = draw(scorecards())
    values = draw(values_for(card))
    measure = draw(st.sampled_from(card.measures))
    a, b = draw(value_for(measure)), draw(value_for(measure))
    return card, values, measure.name, min(a, b), max(a, b)


@settings(max_examples=100, deadline=None)
@given(card_values_and_change())
def test_score_is_bounded_and_monotone_in_each_measure(
    case: tuple[Scorecard, Values, str, float, float],
) -> None:
    card, values, name, low, high = case
    at_low = scalar(card, {**values, name: low})
    at_high = scalar(card, {**values, name: high})
    # both calls have the same measures present, so both score or both refuse
    assert (at_low is None) == (at_high is None)
    assume(at_low is not None and at_high is not None)
    for hs in (at_low, at_high):
        assert 0.0 <= hs.score <= 100.0
        assert math.isclose(math.fsum(hs.contributions.values()), hs.score, abs_tol=1e-9)
        assert math.isclose(math.fsum(hs.weights.values()), 1.0, abs_tol=1e-9)
    if card.measure(name).direction is Direction.HIGHER_IS_BETTER:
        assert at_high.score >= at_low.score
        assert at_high.band >= at_low.band
    else:
        assert at_high.score <= at_low.score
        assert at_high.band <= at_low.band


def _reference_slope(points: list[tuple[datetime, float]]) -> float | None:
    """Least squares per 30 days, every sum added left to right, as the batch forms add."""
    if len(points) < 2:
        return None
    t0 = points[0][0]
    xs = [(t - t0).total_seconds() / (30 * 86400.0) for t, _ in points]
    ys = [y for _, y in points]
    mx = functools.reduce(operator.add, xs) / len(xs)
    my = functools.reduce(operator.add, ys) / len(ys)
    sxx = functools.reduce(operator.add, [(x - mx) * (x - mx) for x in xs])
    if sxx == 0:
        return None
    sxy = functools.reduce(operator.add, [(x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)])
    return sxy / sxx


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2000),
            # scores with decimals round differently in each order of addition
            st.integers(0, 10_000).map(lambda i: i / 100) | st.floats(0, 100),
        ),
        min_size=0,
        max_size=6,
    )
)
def test_the_trend_is_least_squares_added_in_order_to_the_bit(
    readings: list[tuple[int, float]],
) -> None:
    # three readings (the default window) take a written-out path: the same bits
    start = datetime(2025, 1, 1, tzinfo=UTC)
    snaps = [Snapshot(at=start + timedelta(hours=h), health=y) for h, y in readings]
    points = sorted((s.at, s.health) for s in snaps if s.health is not None)
    assert trend(snaps).slope == _reference_slope(points)
