"""Calibrated renewal risk and revenue at risk, on generated books with known probabilities."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from stars.backtesting import calibrate, fit_rules
from stars.errors import InvalidValue
from stars.forecast import fit_renewal_model, forecast, reliability
from stars.frames import score
from stars.health import Direction, Linear, Measure, Scorecard
from stars.testing import synthetic_history

UP, DOWN = Direction.HIGHER_IS_BETTER, Direction.LOWER_IS_BETTER
CARD = Scorecard(
    [
        Measure("adoption", 2, UP, Linear(0, 1), (0, 1)),
        Measure("days_since_contact", 1, DOWN, Linear(0, 120), (0, None)),
        Measure("sentiment", 1, UP, Linear(-1, 1), (-1, 1)),
    ]
)


def renewals(accounts: int, periods: int, seed: int, **kw: Any) -> pl.DataFrame:
    rows = synthetic_history(accounts, periods, seed=seed, contracts=True, **kw)
    due = rows.filter(pl.col("renewing") == 1)
    return score(due, CARD).with_columns(bad=pl.col("churned") + pl.col("contracted"))


@pytest.fixture(scope="module")
def waves() -> pl.DataFrame:
    # many periods, with churn waves: a shock of sd 0.75 on every renewal's log-odds
    return renewals(800, 360, seed=1, waves=0.75)


def test_synthetic_history_without_contracts_is_unchanged() -> None:
    # the rows of earlier versions: no contract columns, churn in any month
    rows = synthetic_history(40, 6, seed=2, backend="dict")
    assert sorted(rows) == sorted(
        [
            "account",
            "period",
            "segment",
            "adoption",
            "open_tickets",
            "days_since_contact",
            "sentiment",
            "churned",
        ]
    )
    assert rows == synthetic_history(40, 6, seed=2, backend="dict", monthly_share=0.9, waves=0)


def test_synthetic_contracts_follow_their_true_probability() -> None:
    rows = synthetic_history(600, 36, seed=5, contracts=True)
    due = rows.filter(pl.col("renewing") == 1)
    bad = (due["churned"] + due["contracted"]).mean()
    assert abs(bad - due["true_probability"].mean()) < 0.01  # type: ignore[operator]
    assert rows.filter(pl.col("renewing") == 0)["true_probability"].null_count() == len(
        rows.filter(pl.col("renewing") == 0)
    )
    # churn only at renewal, lost revenue only there, contraction loses part of the revenue
    assert rows.filter(pl.col("renewing") == 0)["churned"].sum() == 0
    part = due.filter(pl.col("contracted") == 1)
    assert ((part["lost_revenue"] < part["arr"]) & (part["lost_revenue"] > 0)).all()
    whole = due.filter(pl.col("churned") == 1)
    assert (whole["lost_revenue"] == whole["arr"]).all()
    # the book keeps its size: a churned account is replaced the next period
    per = rows.group_by("period").len()["len"]
    assert per.min() == per.max() == 600
    assert set(due["term"]) == {"annual", "monthly"}


def test_calibration_error_under_one_point_and_beats_base_rate(waves: pl.DataFrame) -> None:
    result = forecast(waves, outcome="bad", period="period", train_until="2033-12-01", by="term")
    r = result.reliability
    assert r.rows > 50_000
    assert r.ece < 0.01, r.ece
    assert r.log_loss < r.base_log_loss and r.brier < r.base_brier
    # the table: equal-count bins, predicted rising, each observed rate inside its interval
    assert len(r.bins) == 10 and max(b.rows for b in r.bins) - min(b.rows for b in r.bins) <= 1
    assert [b.predicted for b in r.bins] == sorted(b.predicted for b in r.bins)
    assert all(b.low <= b.observed <= b.high for b in r.bins)


def test_interval_holds_under_churn_waves_where_independence_fails(waves: pl.DataFrame) -> None:
    result = forecast(
        waves,
        outcome="bad",
        period="period",
        train_until="2033-12-01",
        by="term",
        revenue="arr",
        lost="lost_revenue",
        segment="segment",
        owner="owner",
        level=0.9,
    )
    assert len(result.periods) > 200
    assert result.model.overdispersion > 0
    assert result.coverage is not None and result.independent_coverage is not None
    assert abs(result.coverage - 0.9) <= 0.05, result.coverage
    assert result.independent_coverage < 0.9 - 0.08, result.independent_coverage
    assert {g.column for g in result.groups} == {"segment", "owner"}
    for g in result.groups:
        assert g.periods == len(result.periods)
        assert g.coverage >= g.independent_coverage - 0.02
    frame = result.to_frame()
    assert frame.height == len(result.periods)
    assert frame["inside"].mean() == pytest.approx(result.coverage)
    assert (frame["low"] <= frame["expected"]).all() and (frame["expected"] <= frame["high"]).all()
    assert "<table>" in result._repr_html_()
    assert "held in" in result.explain()
    assert result.warnings == ()  # a long history with the signal in it: nothing to warn of


@settings(max_examples=5, deadline=None, derandomize=True, phases=[Phase.generate])
@given(
    seed=st.integers(0, 10_000),
    signal=st.floats(0.3, 2.0),
    monthly=st.floats(0.2, 0.8),
    wave=st.floats(0.0, 0.8),
)
def test_log_loss_never_worse_than_the_base_rate(
    seed: int, signal: float, monthly: float, wave: float
) -> None:
    due = renewals(300, 48, seed, signal=signal, monthly_share=monthly, waves=wave)
    r = forecast(due, outcome="bad", period="period", train_until="2026-12-01", by="term")
    assert r.reliability.log_loss <= r.reliability.base_log_loss


def test_probability_falls_with_health_and_time_to_renewal_is_used() -> None:
    due = renewals(600, 36, seed=3)
    model = fit_renewal_model(due, outcome="bad", by="term", days="days_to_renewal")
    for term in ("annual", "monthly"):
        ps = [model.probability(h, 10, term) for h in range(0, 101, 5)]
        assert ps == sorted(ps, reverse=True)
    assert model.probability(30, 10, "annual") > model.probability(30, 10, "monthly")
    applied = model.apply(due)
    i = applied.columns.index("health")
    assert applied.columns[i + 1] == "probability"
    assert applied["probability"].is_between(0, 1).all()
    one = due.row(0, named=True)
    assert applied["probability"][0] == pytest.approx(
        model.probability(one["health"], one["days_to_renewal"], one["term"])
    )
    # pandas in, pandas out
    assert type(model.apply(due.to_pandas())).__name__ == "DataFrame"


def test_revenue_at_risk_of_one_period() -> None:
    due = renewals(600, 36, seed=4, waves=0.5)
    model = fit_renewal_model(
        due.filter(pl.col("period") < date(2026, 6, 1)),
        outcome="bad",
        by="term",
        revenue="arr",
        lost="lost_revenue",
        period="period",
    )
    month = due.filter(pl.col("period") == date(2026, 8, 1))
    risk = model.revenue_at_risk(month, revenue="arr", level=0.8)
    assert risk.contracts == month.height
    assert risk.low < risk.expected < risk.high
    wider = model.revenue_at_risk(month, revenue="arr", level=0.95)
    assert wider.low <= risk.low and wider.high >= risk.high
    assert 0 < (risk.share or 0) < 1


def test_bad_input_names_the_field() -> None:
    due = renewals(100, 12, seed=1)
    with pytest.raises(InvalidValue, match="health"):
        fit_renewal_model(due.with_columns(health=pl.col("health") + 200), outcome="bad")
    with pytest.raises(InvalidValue, match="level"):
        forecast(due, outcome="bad", period="period", train_until="2024-06-01", level=1.5)
    with pytest.raises(InvalidValue, match="horizons"):
        fit_renewal_model(due, outcome="bad", horizons=(90, 30))
    with pytest.raises(InvalidValue, match="missing_col"):
        fit_renewal_model(due, outcome="bad", revenue="missing_col")
    with pytest.raises(InvalidValue, match="outcome"):
        reliability([0.1, 0.2], [0], base_rate=0.1)


POOR = Scorecard(
    [
        Measure("adoption", 1, UP, Linear(0.8, 1), (0, 1)),
        Measure("days_since_contact", 1, DOWN, Linear(0, 10), (0, None)),
        Measure("sentiment", 1, UP, Linear(0.5, 1), (-1, 1)),
    ]
)
GOOD = Scorecard(
    [
        Measure("adoption", 1, UP, Linear(0, 1), (0, 1)),
        Measure("days_since_contact", 1, DOWN, Linear(0, 120), (0, None)),
        Measure("sentiment", 1, UP, Linear(-1, 1), (-1, 1)),
    ]
)


# one poor rule among good ones: only that measure should take fitted steps
MIXED = Scorecard([GOOD.measures[0], POOR.measures[1], GOOD.measures[2]])


@settings(max_examples=6, deadline=None, derandomize=True, phases=[Phase.generate])
@given(seed=st.integers(0, 10_000))
def test_rule_fitting_ranks_held_out_rows_no_worse(seed: int) -> None:
    history = synthetic_history(1200, 12, seed=seed, signal=1.5)
    kw: dict[str, Any] = {"outcome": "churned", "period": "period", "train_until": "2024-08-01"}
    # rules that saturate early: fitting them helps a lot
    weights = calibrate(history, POOR, **kw)
    rules = calibrate(history, POOR, rules=True, **kw)
    assert rules.after.auc > weights.after.auc + 0.02
    assert rules.before.auc == weights.before.auc
    assert any("rules" in n for n in rules.notes)
    assert rules.scorecard.names == POOR.names  # still points per measure
    # rules that are already right: never worse on the held-out periods
    good_w = calibrate(history, GOOD, **kw)
    good_r = calibrate(history, GOOD, rules=True, **kw)
    assert good_r.after.auc >= good_w.after.auc
    # a poor rule among good ones: the choice is per measure, and never worse either
    mixed_w = calibrate(history, MIXED, **kw)
    mixed_r = calibrate(history, MIXED, rules=True, **kw)
    assert mixed_r.after.auc >= mixed_w.after.auc
    changed = {m.name for m, n in zip(MIXED.measures, mixed_r.scorecard.measures, strict=True)
               if m.rule != n.rule}  # fmt: skip
    assert changed <= {"days_since_contact"}


def test_fit_rules_follows_the_declared_direction() -> None:
    history = synthetic_history(800, 8, seed=2, signal=2.0)
    fitted = fit_rules(history, POOR, outcome="churned", period="period", train_until="2024-05-01")
    for old, new in zip(POOR.measures, fitted.measures, strict=True):
        scores = new.rule.scores  # type: ignore[union-attr]
        want = sorted(scores) if old.direction is UP else sorted(scores, reverse=True)
        assert list(scores) == want
        assert new.weight == old.weight


def test_fan_chart(waves: pl.DataFrame) -> None:
    pytest.importorskip("matplotlib")
    result = forecast(
        waves.filter(pl.col("period") < date(2027, 1, 1)),
        outcome="bad",
        period="period",
        train_until="2025-12-01",
        revenue="arr",
    )
    fig = result.plot()
    ax = fig.axes[0]
    assert ax.get_title() == "Revenue at risk by renewal period"
    assert len(ax.collections) >= 2  # the band and the points
    assert fig._repr_png_()[:4] == b"\x89PNG"


def test_cli_backtest_revenue(tmp_path: Path) -> None:
    due = renewals(300, 30, seed=6, waves=0.3)
    history = tmp_path / "renewals.csv"
    due.select(
        "period", "term", "adoption", "days_since_contact", "sentiment", "arr", "bad"
    ).write_csv(history)
    card = tmp_path / "card.json"
    from stars import io

    card.write_text(json.dumps(io.to_dict(CARD)))
    run = subprocess.run(
        [sys.executable, "-m", "stars", "backtest", str(history), "--scorecard", str(card),
         "--outcome", "bad", "--period", "period", "--train-until", "2025-06-01",
         "--revenue", "arr", "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["forecast"]["reliability"]["rows"] > 0
    assert 0 <= data["forecast"]["coverage"] <= 1
    text = subprocess.run(
        [sys.executable, "-m", "stars", "backtest", str(history), "--scorecard", str(card),
         "--outcome", "bad", "--period", "period", "--train-until", "2025-06-01",
         "--revenue", "arr"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert text.returncode == 0, text.stderr
    assert "Revenue at risk" in text.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "stars", "backtest", str(history), "--scorecard", str(card),
         "--outcome", "bad", "--revenue", "nope"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.startswith("stars: error:")


def test_reliability_diagram_and_tables(waves: pl.DataFrame) -> None:
    result = forecast(
        waves, outcome="bad", period="period", train_until="2033-12-01", revenue="arr"
    )
    r = result.reliability
    ax = r.plot().axes[0]
    assert ax.get_title() == "Reliability (equal-count bins)"
    # one point per bin, at (mean prediction, observed share)
    (points,) = [line for line in ax.lines if line.get_marker() == "o"]
    assert list(points.get_xdata()) == [b.predicted for b in r.bins]
    assert list(points.get_ydata()) == [b.observed for b in r.bins]
    both = result.plot(reliability=True)
    assert [a.get_title() for a in both.axes] == [
        "Revenue at risk by renewal period",
        "Reliability (equal-count bins)",
    ]
    text = result.to_text(80, last=5)
    assert text.startswith(result.explain())
    assert max(len(line) for line in text.splitlines()[len(result.explain().splitlines()) :]) <= 80
    assert f"the last 5 periods held out (of {len(result.periods)})" in text
    for p in result.periods[-5:]:
        assert p.period in text
    assert result.periods[-6].period not in text
    assert len(r.to_text().splitlines()) == 2 + len(r.bins)


def test_cli_backtest_draws_the_fan_chart(tmp_path: Path) -> None:
    due = renewals(300, 30, seed=6, waves=0.3)
    history = tmp_path / "renewals.csv"
    due.select("period", "adoption", "days_since_contact", "sentiment", "arr", "bad").write_csv(
        history
    )
    card = tmp_path / "card.json"
    from stars import io

    card.write_text(json.dumps(io.to_dict(CARD)))
    base = [sys.executable, "-m", "stars", "backtest", str(history), "--scorecard", str(card),
            "--outcome", "bad", "--period", "period", "--train-until", "2025-06-01"]  # fmt: skip
    picture = tmp_path / "risk.png"
    run = subprocess.run(
        [*base, "--revenue", "arr", "--plot", str(picture)],
        capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "80"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert picture.read_bytes()[:4] == b"\x89PNG"
    assert str(picture) in run.stdout
    assert "Reliability (equal-count bins):" in run.stdout
    assert "held out (of" in run.stdout
    assert max(len(line) for line in run.stdout.splitlines() if str(picture) not in line) <= 80
    as_json = subprocess.run(
        [*base, "--revenue", "arr", "--plot", str(tmp_path / "risk.svg"), "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["plot"] == str(tmp_path / "risk.svg")
    assert (tmp_path / "risk.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    for extra, why in (([], "--revenue COLUMN as well"), (["--revenue", "arr"], ".png, .svg")):
        bad = subprocess.run(
            [*base, *extra, "--plot", str(tmp_path / "risk.gif")],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert bad.returncode == 2
        assert bad.stderr.startswith("stars: error:") and why in bad.stderr, bad.stderr
        assert "--plot" in bad.stderr
    assert not (tmp_path / "risk.gif").exists()


def test_a_short_history_is_warned_about(tmp_path: Path) -> None:
    # 300 accounts, 18 training months: calibration off and the interval too narrow
    due = renewals(300, 30, seed=6, waves=0.3)
    result = forecast(due, outcome="bad", period="period", train_until="2025-06-01", revenue="arr")
    r = result.reliability
    assert r.ece > 0.02 and r.ece > r.base_ece
    assert result.coverage is not None and result.coverage < 0.8
    assert len(result.warnings) == 2
    assert "off by" in result.warnings[0] and "held in only" in result.warnings[1]
    assert all(f"Warning: {w}." in result.explain() for w in result.warnings)
    assert result.to_dict()["warnings"] == list(result.warnings)
    history = tmp_path / "renewals.csv"
    due.select("period", "adoption", "days_since_contact", "sentiment", "arr", "bad").write_csv(
        history
    )
    card = tmp_path / "card.json"
    from stars import io

    card.write_text(json.dumps(io.to_dict(CARD)))
    run = subprocess.run(
        [sys.executable, "-m", "stars", "backtest", str(history), "--scorecard", str(card),
         "--outcome", "bad", "--period", "period", "--train-until", "2025-06-01",
         "--revenue", "arr"],
        capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    warned = [line for line in run.stderr.splitlines() if line.startswith("stars: warning:")]
    assert warned == [f"stars: warning: {w}" for w in result.warnings]
