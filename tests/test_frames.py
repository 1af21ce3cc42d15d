from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import narwhals as nw
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from stars import frames
from stars.errors import InvalidValue
from stars.health import (
    Direction,
    Linear,
    Measure,
    MissingPolicy,
    Scorecard,
    Steps,
    default_scorecard,
)

UP = Direction.HIGHER_IS_BETTER
DOWN = Direction.LOWER_IS_BETTER

Data = dict[str, list[Any]]


def _pandas(data: Data) -> pd.DataFrame:
    return pd.DataFrame({k: pd.Series(v, dtype=_pd_dtype(v)) for k, v in data.items()})


def _pd_dtype(values: list[Any]) -> str | None:
    if all(x is None or isinstance(x, int | float) for x in values):
        return "float64"
    return None


BACKENDS: dict[str, Callable[[Data], Any]] = {
    "polars": lambda d: pl.DataFrame(d, strict=False),
    "pandas": _pandas,
    "pyarrow": lambda d: pa.table(d),
}


@pytest.fixture(params=sorted(BACKENDS))
def make(request: pytest.FixtureRequest) -> Callable[[Data], Any]:
    return BACKENDS[request.param]


def to_rows(frame: Any) -> list[dict[str, Any]]:
    # NaN (how pandas writes a missing float) becomes None so rows compare equal.
    rows = nw.from_native(frame, eager_only=True).rows(named=True)
    return [
        {k: None if isinstance(x, float) and math.isnan(x) else x for k, x in row.items()}
        for row in rows
    ]


def card_two(**kwargs: Any) -> Scorecard:
    # adoption 0.75, tickets 0.25 of the weight
    return Scorecard(
        [
            Measure("adoption", 3, UP, Linear(0, 1), domain=(0, 1)),
            Measure("open_tickets", 1, DOWN, Steps((3, 6), (100, 50, 0)), domain=(0, None)),
        ],
        **kwargs,
    )


# -- results -------------------------------------------------------------------------------


def test_scores_every_row_and_keeps_the_frame_kind(make: Callable[[Data], Any]) -> None:
    data: Data = {
        "id": ["a", "b", "c"],
        "adoption": [1.0, 0.2, None],
        "open_tickets": [0.0, 4.0, 7.0],
    }
    native = make(data)
    out = frames.score(native, card_two())
    assert type(out) is type(native)
    rows = to_rows(out)
    # a: 0.75*100 + 0.25*100 = 100; b: 0.75*20 + 0.25*50 = 27.5;
    # c: adoption missing, tickets 7 -> 0 carries all the weight -> 0
    assert [r["health"] for r in rows] == pytest.approx([100.0, 27.5, 0.0])
    assert [r["band"] for r in rows] == ["green", "red", "red"]
    assert rows[1]["contribution_adoption"] == pytest.approx(15.0)
    assert rows[1]["contribution_open_tickets"] == pytest.approx(12.5)
    assert rows[2]["contribution_adoption"] == 0.0
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    columns = nw.from_native(out, eager_only=True).columns
    assert columns == [
        "id",
        "adoption",
        "open_tickets",
        "health",
        "band",
        "contribution_adoption",
        "contribution_open_tickets",
    ]


def test_batch_matches_the_scalar_path_on_the_default_scorecard(
    make: Callable[[Data], Any],
) -> None:
    card = default_scorecard()
    records: list[dict[str, float | None]] = [
        {
            "adoption": 0.9,
            "open_tickets": 1,
            "days_since_contact": 10,
            "nps": 40,
            "csat": 88,
            "sentiment": 0.5,
        },
        {
            "adoption": 0.3,
            "open_tickets": 12,
            "days_since_contact": 75,
            "nps": None,
            "csat": 60,
            "sentiment": -0.5,
        },
        {
            "adoption": None,
            "open_tickets": None,
            "days_since_contact": 20,
            "nps": None,
            "csat": None,
            "sentiment": None,
        },
    ]
    data = {n: [None if r[n] is None else float(r[n]) for r in records] for n in card.names}  # type: ignore[arg-type]
    rows = to_rows(frames.score(make(data), card))
    for row, record in zip(rows, records, strict=True):
        expected = card.score(record)
        assert row["health"] == expected.score
        assert row["band"] == expected.band.value
        for name in card.names:
            assert row[f"contribution_{name}"] == expected.contributions[name]


def test_the_input_frame_is_not_changed(make: Callable[[Data], Any]) -> None:
    data: Data = {"adoption": [0.5, None], "open_tickets": [1.0, 2.0]}
    native = make(data)
    before = to_rows(native)
    frames.score(native, card_two())
    assert to_rows(native) == before
    assert nw.from_native(native, eager_only=True).columns == ["adoption", "open_tickets"]


def test_pandas_index_is_kept() -> None:
    native = pd.DataFrame({"adoption": [0.5, 1.0], "open_tickets": [1, 9]}, index=[7, 3])
    out = frames.score(native, card_two())
    assert list(out.index) == [7, 3]
    # 0.75*50 + 0.25*100 = 62.5; 0.75*100 + 0.25*0 = 75
    assert list(out["health"]) == pytest.approx([62.5, 75.0])
    assert list(out["band"]) == ["yellow", "green"]


def test_integer_columns_are_scored_as_numbers() -> None:
    out = frames.score(pl.DataFrame({"adoption": [1, 0], "open_tickets": [0, 10]}), card_two())
    assert out["health"].to_list() == [100.0, 0.0]


def test_rescoring_replaces_the_output_columns() -> None:
    first = frames.score(pl.DataFrame({"adoption": [0.4], "open_tickets": [0]}), card_two())
    again = frames.score(first.with_columns(pl.lit(1.0).alias("adoption")), card_two())
    assert again.columns == first.columns
    assert again["health"].to_list() == [100.0]


def test_narwhals_frame_in_narwhals_frame_out() -> None:
    native = pl.DataFrame({"adoption": [1.0], "open_tickets": [0]})
    out = frames.score(nw.from_native(native, eager_only=True), card_two())
    assert isinstance(out, nw.DataFrame)
    assert out.get_column("health").to_list() == [100.0]


def test_an_empty_frame_gets_empty_output_columns() -> None:
    schema = {"adoption": pl.Float64, "open_tickets": pl.Float64}
    out = frames.score(pl.DataFrame(schema=schema), card_two())
    assert out.height == 0
    assert "health" in out.columns and "band" in out.columns


# -- missing values -----------------------------------------------------------------------


def test_worst_policy_in_batch(make: Callable[[Data], Any]) -> None:
    data: Data = {"adoption": [None, 1.0], "open_tickets": [0.0, None]}
    rows = to_rows(frames.score(make(data), card_two(missing=MissingPolicy.WORST)))
    # missing adoption scores 0: 0.25*100 = 25; missing tickets scores 0: 0.75*100 = 75
    assert [r["health"] for r in rows] == pytest.approx([25.0, 75.0])
    assert [r["band"] for r in rows] == ["red", "green"]


def test_refuse_policy_reports_missing_rows(make: Callable[[Data], Any]) -> None:
    data: Data = {"adoption": [0.1, None, 0.3, None], "open_tickets": [0.0, 1.0, 2.0, 3.0]}
    card = card_two(missing=MissingPolicy.REFUSE)
    with pytest.raises(InvalidValue, match="2 rows missing; first at row positions 1, 3") as info:
        frames.score(make(data), card)
    assert info.value.field == "adoption"
    full = {"adoption": [0.1], "open_tickets": [0.0]}
    assert to_rows(frames.score(make(full), card))[0]["health"] == pytest.approx(32.5)


def test_rows_with_nothing_to_score_are_refused(make: Callable[[Data], Any]) -> None:
    data: Data = {"adoption": [0.1, None], "open_tickets": [None, None]}
    with pytest.raises(
        InvalidValue, match="1 row have no weighted measure; first at row positions 1"
    ):
        frames.score(make(data), card_two())


def test_a_polars_column_of_only_nulls_counts_as_missing() -> None:
    native = pl.DataFrame({"adoption": [0.5, 1.0], "open_tickets": [None, None]})
    assert native.schema["open_tickets"] == pl.Null
    out = frames.score(native, card_two())
    assert out["health"].to_list() == [50.0, 100.0]


NULL_TEXT_COLUMNS: dict[str, Callable[[list[float]], Any]] = {
    "pandas object": lambda a: pd.DataFrame(
        {"adoption": a, "open_tickets": pd.Series([None] * len(a), dtype=object)}
    ),
    "pandas string": lambda a: pd.DataFrame(
        {"adoption": a, "open_tickets": pd.Series([None] * len(a), dtype="string")}
    ),
    "polars String": lambda a: pl.DataFrame(
        {"adoption": a, "open_tickets": pl.Series([None] * len(a), dtype=pl.String)}
    ),
    "pyarrow string": lambda a: pa.table(
        {"adoption": a, "open_tickets": pa.array([None] * len(a), pa.string())}
    ),
}


@pytest.mark.parametrize("kind", sorted(NULL_TEXT_COLUMNS))
def test_a_text_column_of_only_nulls_counts_as_missing(kind: str) -> None:
    # An empty CSV column reads as text (or object) full of nulls: it carries no values,
    # so it scores like an absent measure, exactly as a polars Null column does.
    out = frames.score(NULL_TEXT_COLUMNS[kind]([0.5, 1.0]), card_two())
    assert [row["health"] for row in to_rows(out)] == pytest.approx([50.0, 100.0])


@pytest.mark.parametrize(
    "column",
    [
        pd.Series([None, "3"], dtype=object),
        pl.Series([None, "3"], dtype=pl.String),
        pa.array([None, "3"], pa.string()),
    ],
    ids=["pandas", "polars", "pyarrow"],
)
def test_a_text_column_with_a_value_is_still_refused(column: Any) -> None:
    adoption = [0.5, 1.0]
    if isinstance(column, pd.Series):
        native: Any = pd.DataFrame({"adoption": adoption, "open_tickets": column})
    elif isinstance(column, pl.Series):
        native = pl.DataFrame({"adoption": adoption, "open_tickets": column})
    else:
        native = pa.table({"adoption": adoption, "open_tickets": column})
    with pytest.raises(InvalidValue, match="expected a numeric column") as info:
        frames.score(native, card_two())
    assert info.value.field == "open_tickets"


def test_pandas_nan_is_how_missing_is_written() -> None:
    native = pd.DataFrame({"adoption": [math.nan, 0.2], "open_tickets": [1.0, math.nan]})
    out = frames.score(native, card_two())
    assert list(out["health"]) == pytest.approx([100.0, 20.0])


# -- refusals ------------------------------------------------------------------------------


def test_out_of_domain_rows_are_counted_and_located(make: Callable[[Data], Any]) -> None:
    adoption = [0.5] * 12
    for i in (2, 4, 5, 8, 9, 11):
        adoption[i] = 1.5
    data: Data = {"adoption": adoption, "open_tickets": [1.0] * 12}
    with pytest.raises(InvalidValue) as info:
        frames.score(make(data), card_two())
    message = str(info.value)
    assert info.value.field == "adoption"
    assert "expected a number from 0 to 1" in message
    assert "6 bad rows; first at row positions 2, 4, 5, 8, 9" in message
    assert info.value.value == [1.5] * 5


def test_negative_count_outside_an_open_domain_is_refused() -> None:
    native = pl.DataFrame({"adoption": [0.5], "open_tickets": [-1.0]})
    with pytest.raises(
        InvalidValue, match=r"open_tickets: got \[-1\.0\], expected a number at or above 0"
    ):
        frames.score(native, card_two())


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinite_values_are_refused_in_polars(bad: float) -> None:
    native = pl.DataFrame({"adoption": [0.5, bad], "open_tickets": [1.0, 1.0]})
    with pytest.raises(InvalidValue, match="1 bad row; first at row positions 1"):
        frames.score(native, card_two())


def test_infinite_values_are_refused_without_a_domain() -> None:
    card = Scorecard([Measure("x", 1, UP, Linear(0, 1))])
    with pytest.raises(InvalidValue, match="x: got \\[inf\\], expected a finite number"):
        frames.score(pa.table({"x": [0.0, math.inf]}), card)
    with pytest.raises(InvalidValue, match="expected a number at or below 3"):
        frames.score(
            pl.DataFrame({"x": [4.0]}),
            Scorecard([Measure("x", 1, UP, Linear(0, 1), domain=(None, 3))]),
        )


def test_non_numeric_columns_are_refused(make: Callable[[Data], Any]) -> None:
    data: Data = {"adoption": ["high", "low"], "open_tickets": [1.0, 2.0]}
    with pytest.raises(InvalidValue, match="expected a numeric column") as info:
        frames.score(make(data), card_two())
    assert info.value.field == "adoption"


def test_boolean_columns_are_refused_like_booleans_in_the_scalar_path() -> None:
    native = pl.DataFrame({"adoption": [True], "open_tickets": [1.0]})
    with pytest.raises(InvalidValue, match="numeric column"):
        frames.score(native, card_two())


def test_absent_measure_columns_are_refused() -> None:
    with pytest.raises(InvalidValue, match="a column for every measure") as info:
        frames.score(pl.DataFrame({"adoption": [1.0]}), card_two())
    assert info.value.value == ["open_tickets"]


def test_measure_names_that_clash_with_outputs_are_refused() -> None:
    for name in ("health", "band", "contribution_x"):
        card = Scorecard([Measure(name, 1, UP, Linear(0, 1))])
        with pytest.raises(InvalidValue, match="output columns would overwrite"):
            frames.score(pl.DataFrame({name: [1.0]}), card)


def test_arguments_are_checked() -> None:
    with pytest.raises(InvalidValue, match="scorecard"):
        frames.score(pl.DataFrame({"a": [1.0]}), "card")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="frame: got 'list'"):
        frames.score([{"adoption": 1.0}], card_two())
    with pytest.raises(InvalidValue, match="frame"):
        frames.score(pl.DataFrame({"adoption": [1.0]}).lazy(), card_two())


def test_a_column_named_like_the_row_index_does_not_confuse_error_rows() -> None:
    native = pl.DataFrame(
        {"__stars_row__": [9, 9], "adoption": [0.5, 3.0], "open_tickets": [1.0, 1.0]}
    )
    with pytest.raises(InvalidValue, match="first at row positions 1"):
        frames.score(native, card_two())


def test_dask_runs_the_same_function_per_partition() -> None:
    dd = pytest.importorskip("dask.dataframe")
    pdf = pd.DataFrame({"adoption": [0.1 * i for i in range(10)], "open_tickets": [1.0] * 10})
    ddf = dd.from_pandas(pdf, npartitions=3)
    card = card_two()
    meta = frames.score(pdf.head(0), card)
    out = ddf.map_partitions(frames.score, card, meta=meta).compute(scheduler="synchronous")
    expected = frames.score(pdf, card)
    pd.testing.assert_frame_equal(out, expected)


def test_huge_finite_values_trip_the_screen_but_are_not_refused() -> None:
    # the sum of two 1e308 overflows to inf, so the quick screen looks closer; the
    # exact count finds no bad row, and the frame is scored
    card = Scorecard([Measure("x", 1, UP, Linear(0, 1))])
    out = frames.score(pl.DataFrame({"x": [1e308, 1e308]}), card)
    assert out["health"].to_list() == [100.0, 100.0]


def test_all_nan_pandas_column_is_all_missing() -> None:
    native = pd.DataFrame({"adoption": [0.4, 0.8], "open_tickets": [math.nan, math.nan]})
    out = frames.score(native, card_two())
    assert list(out["health"]) == pytest.approx([40.0, 80.0])
