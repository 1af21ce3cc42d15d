"""A backtest "as of" each period: only the values recorded by the period's cut-off count."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pl = pytest.importorskip("polars")
pytest.importorskip("numpy")

from stars.backtesting import backtest  # noqa: E402
from stars.errors import InvalidValue  # noqa: E402
from stars.health import Direction, Linear, Measure, Scorecard  # noqa: E402

CARD = Scorecard([Measure("adoption", 1, Direction.HIGHER_IS_BETTER, Linear(0, 1))])
BASE = {
    "account": ["a", "b", "c", "d", "a", "b", "c", "d"],
    "period": ["2025-01-01"] * 4 + ["2025-02-01"] * 4,
    "adoption": [0.2, 0.3, 0.8, 0.9, 0.25, 0.6, 0.7, 0.95],
    "churned": [1, 0, 0, 0, 1, 1, 0, 0],
    "recorded_at": ["2024-12-28"] * 4 + ["2025-01-30"] * 4,
}
# c's January adoption, corrected in March (after the cut-off) to what hindsight says.
LATE = {
    "account": ["c"],
    "period": ["2025-01-01"],
    "adoption": [0.05],
    "churned": [0],
    "recorded_at": ["2025-03-15"],
}


def figures(result: Any) -> tuple[Any, ...]:
    return (result.rows, result.positives, result.auc, [p.auc for p in result.periods])


def test_a_late_correction_changes_the_result_only_without_as_of() -> None:
    base = pl.DataFrame(BASE)
    with_late = pl.concat([base, pl.DataFrame(LATE)])
    as_of = backtest(
        with_late,
        CARD,
        outcome="churned",
        period="period",
        known_at="recorded_at",
        account="account",
    )
    plain = backtest(base, CARD, outcome="churned", period="period")
    assert figures(as_of) == figures(plain)
    assert as_of.notes[0].startswith("as of each period's cut-off (period): 1 of 9 rows")
    # Without as-of, the correction stands in for what was known in January (hindsight).
    hindsight = with_late.unique(subset=["account", "period"], keep="last", maintain_order=True)
    known_later = backtest(hindsight, CARD, outcome="churned", period="period")
    assert known_later.auc != as_of.auc


def test_a_correction_recorded_in_time_replaces_the_original() -> None:
    fixed = dict(LATE, recorded_at=["2024-12-30"])
    frame = pl.concat([pl.DataFrame(BASE), pl.DataFrame(fixed)])
    result = backtest(
        frame, CARD, outcome="churned", period="period", known_at="recorded_at", account="account"
    )
    expected = pl.DataFrame(BASE).with_columns(
        adoption=pl.when((pl.col("account") == "c") & (pl.col("period") == "2025-01-01"))
        .then(0.05)
        .otherwise(pl.col("adoption"))
    )
    assert figures(result) == figures(backtest(expected, CARD, outcome="churned", period="period"))
    assert "1 replaced by a later version of the same account and period" in result.notes[0]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 7), st.floats(0, 1), st.integers(1, 90)), min_size=1, max_size=6
    )
)
def test_rows_recorded_after_their_cut_off_never_change_the_as_of_result(
    late: list[tuple[int, float, int]],
) -> None:
    import datetime as dt

    base = pl.DataFrame(BASE).with_columns(
        pl.col("period").str.to_date(), pl.col("recorded_at").str.to_date()
    )
    rows = base.to_dicts()
    extra = [
        dict(rows[i], adoption=x, recorded_at=rows[i]["period"] + dt.timedelta(days=days))
        for i, x, days in late
    ]
    frame = pl.concat([base, pl.DataFrame(extra, schema=base.schema)])
    got = backtest(
        frame, CARD, outcome="churned", period="period", known_at="recorded_at", account="account"
    )
    assert figures(got) == figures(backtest(base, CARD, outcome="churned", period="period"))


def test_pandas_frames_and_bad_arguments() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.concat([pd.DataFrame(BASE), pd.DataFrame(LATE)], ignore_index=True)
    got = backtest(
        frame, CARD, outcome="churned", period="period", known_at="recorded_at", account="account"
    )
    assert figures(got) == figures(
        backtest(pd.DataFrame(BASE), CARD, outcome="churned", period="period")
    )
    with pytest.raises(InvalidValue, match="period: got None"):
        backtest(frame, CARD, outcome="churned", known_at="recorded_at")
    with pytest.raises(InvalidValue, match="known_at: got 'when'"):
        backtest(frame, CARD, outcome="churned", period="period", known_at="when")
    with pytest.raises(InvalidValue, match="adoption: got 'Float64'"):
        backtest(frame, CARD, outcome="churned", period="period", known_at="adoption")
