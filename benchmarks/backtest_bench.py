"""Backtest: does the health score rank the accounts that churned?"""

from __future__ import annotations

from typing import Any

from benchmarks._harness import Mode, Row, Section, Target, Unavailable, median_time, stars_attr
from benchmarks.frames_bench import hand_polars, signals_frame


def churn_frame(rows: int, seed: int = 11) -> Any:
    """The scoring signals plus a 0/1 ``churned`` outcome that low adoption makes likelier."""
    import numpy as np
    import polars as pl

    frame = signals_frame(rows, seed)
    rng = np.random.default_rng(seed + 1)
    adoption = frame["adoption"].to_numpy()
    tickets = frame["open_tickets"].to_numpy()
    chance = 0.02 + 0.25 * (1 - adoption) ** 2 + 0.05 * (tickets > 5)
    return frame.with_columns(churned=pl.Series(rng.random(rows) < chance).cast(pl.Int8))


def hand_backtest(frame: Any) -> float:
    """Score by hand in polars, then scikit-learn's ROC AUC of the risk (lower health)."""
    from sklearn.metrics import roc_auc_score

    scored = hand_polars(frame)
    return float(roc_auc_score(scored["churned"].to_numpy(), -scored["health"].to_numpy()))


def backtest(mode: Mode) -> Section:
    """Backtest the default scorecard on 1,000,000 account-periods."""
    stars_backtest = stars_attr("stars.backtesting", "backtest")
    try:
        import sklearn  # noqa: F401
    except ImportError:  # pragma: no cover - the bench extra installs it
        raise Unavailable("scikit-learn is not installed") from None
    from stars.health import default_scorecard

    n = mode.size(1_000_000)
    section = Section("backtest", "does the score predict churn", f"{n:,} rows")
    frame = churn_frame(n)
    card = default_scorecard()

    result = stars_backtest(frame, card, outcome="churned")
    want = hand_backtest(frame)
    got = getattr(result, "auc", None)
    if isinstance(got, float) and abs(got - want) > 1e-9:
        raise AssertionError(f"stars backtest AUC {got} differs from scikit-learn's {want}")

    r = mode.heavy_repeats
    t_stars = median_time(
        lambda _: stars_backtest(frame, card, outcome="churned"), repeats=r, warmup=1
    )
    t_hand = median_time(lambda _: hand_backtest(frame), repeats=r, warmup=1)
    s = "stars.backtesting.backtest (the full report)"
    section.rows = [
        Row(s, t_stars, n),
        Row("hand-written polars score + sklearn roc_auc_score", t_hand, n, ref=s),
    ]
    section.notes = [
        "One row per account-period with the default scorecard's measures and a churn outcome "
        "that low adoption and many open tickets make likelier.",
        "stars computes much more than the AUC: average precision, band outcome rates with "
        "Wilson intervals, lift, green-but-churned, per-measure AUCs and a decile table.",
        f"AUC: scikit-learn {want:.4f}"
        + (f", stars {got:.4f}" if isinstance(got, float) else "")
        + ".",
    ]
    q = section.ratio("hand-written polars score + sklearn roc_auc_score")
    section.targets = [
        Target(
            "backtest within 2x of hand polars + roc_auc_score (issue 12)", f"{q:.2f}x", q <= 2.0
        )
    ]
    return section
