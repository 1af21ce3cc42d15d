"""The ``stars backtest`` sub-command's arguments (private).

Kept apart from `stars.backtesting`, which loads the backtest itself: the ``stars``
command lists every sub-command on each run, and loading the backtest only to list it
cost about 60 ms of every ``stars assess``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse


def backtest_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``backtest`` sub-command, with its arguments, to a sub-parser set."""
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
    parser.add_argument(
        "--plot",
        metavar="FILE",
        help="with --revenue, also draw the fan chart of revenue at risk and the reliability"
        " diagram into FILE (.png, .svg or .pdf; needs the plot extra)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    return parser
