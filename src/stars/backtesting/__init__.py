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

from stars.backtesting._backtest import (
    Backtest,
    BandOutcome,
    DecileOutcome,
    GroupAUC,
    MeasureCheck,
    backtest,
)
from stars.backtesting._calibrate import (
    Calibration,
    Percentile,
    calibrate,
    calibration_warnings,
    fit_percentile,
    fit_rules,
)
from stars.backtesting._cli import add_backtest_parser, cli_backtest
from stars.backtesting._common import DIRECTION_MARGIN, scorecard_digest

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
