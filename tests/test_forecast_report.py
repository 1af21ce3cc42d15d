"""Revenue at risk in `stars assess`, from a model saved by `stars backtest`, run as a user runs it.

The flow: `stars backtest HISTORY --revenue arr --save-model model.json` fits the renewal model
on a made-up history scored with the report's own scorecard; `stars assess ... --contracts
--renewal-model model.json` then adds the revenue at risk of the coming renewals to the report.
The figures are checked against the same sums worked out here, apart from the command, through
the Python API: the model read back, the scorecard, and the contract dates.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import stars as stars_package
from stars import io
from stars.forecast import RenewalModel
from stars.health import Direction, Linear, Measure, Scorecard, default_scorecard
from stars.testing import synthetic_history

SRC = str(Path(stars_package.__file__).resolve().parent.parent)
AS_OF = date(2025, 12, 1)
OWNERS = ("ann", "bo", "cy")
SEGMENTS = ("smb", "mid", None)
MEASURES = ("adoption", "nps", "csat", "open_tickets", "days_since_contact", "sentiment")


def run(*argv: str | Path, cwd: Path, columns: int = 100) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.run(
        [sys.executable, "-m", "stars", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": path, "COLUMNS": str(columns)},
    )


def write_history(where: Path) -> None:
    rows = synthetic_history(400, 24, seed=7, contracts=True)
    due = rows.filter(pl.col("renewing") == 1)
    # the report's scorecard also reads nps and csat: this history never measured them
    due = due.with_columns(nps=pl.lit(None, pl.Float64), csat=pl.lit(None, pl.Float64))
    due.write_csv(where / "history.csv")


def write_book(where: Path, seed: int = 11, accounts: int = 60) -> dict[str, Any]:
    """Accounts, two snapshots each (the last on AS_OF), one contract each, one renewal signed."""
    rng = random.Random(seed)
    acc = ["id,name,owner,tags"]
    snaps = ["account,at," + ",".join(MEASURES)]
    contracts = ["account,start,end,arr,currency,id,renews"]
    truth: dict[str, Any] = {"values": {}, "contracts": [], "owner": {}, "segment": {}}
    for i in range(accounts):
        ident = f"acct{i:03d}"
        owner, segment = OWNERS[i % 3], SEGMENTS[i % 4 % 3]
        acc.append(f"{ident},Account {i},{owner},{'segment:' + segment if segment else ''}")
        truth["owner"][ident], truth["segment"][ident] = owner, segment
        for at in (AS_OF - timedelta(days=28), AS_OF):
            values = {
                "adoption": round(rng.uniform(0.05, 0.95), 3),
                "nps": rng.randint(-60, 70),
                "csat": rng.randint(30, 98),
                "open_tickets": rng.randint(0, 12),
                "days_since_contact": rng.randint(1, 80),
                "sentiment": round(rng.uniform(-0.9, 0.9), 2),
            }
            snaps.append(f"{ident},{at}," + ",".join(str(values[m]) for m in MEASURES))
        truth["values"][ident] = values  # the last one, read on AS_OF
        end = AS_OF + timedelta(days=rng.randint(-20, 200))
        arr = float(rng.randint(2, 90) * 1000)
        contracts.append(f"{ident},{end - timedelta(days=365)},{end},{arr:.0f},USD,{ident}-1,")
        truth["contracts"].append((ident, f"{ident}-1", end, arr))
    # one renewal in the window is already signed: a successor contract renews it
    first = next(c for c in truth["contracts"] if AS_OF <= c[2] < AS_OF + timedelta(days=90))
    ident, cid, end, arr = first
    contracts.append(f"{ident},{end},{end + timedelta(days=365)},{arr:.0f},USD,{ident}-2,{cid}")
    truth["signed"] = cid
    (where / "accounts.csv").write_text("\n".join(acc) + "\n", encoding="utf-8")
    (where / "snapshots.csv").write_text("\n".join(snaps) + "\n", encoding="utf-8")
    (where / "contracts.csv").write_text("\n".join(contracts) + "\n", encoding="utf-8")
    return truth


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    where = tmp_path_factory.mktemp("renewal-risk")
    write_history(where)
    done = run("scorecard", "--output", "card.json", cwd=where)
    assert done.returncode == 0, done.stderr
    saved = run(
        "backtest", "history.csv", "--scorecard", "card.json", "--outcome", "churned",
        "--period", "period", "--train-until", "2025-06-01", "--revenue", "arr",
        "--save-model", "model.json", cwd=where,
    )  # fmt: skip
    assert saved.returncode == 0, saved.stderr
    return where, write_book(where), saved.stdout


def assess(where: Path, *extra: str | Path, columns: int = 100) -> subprocess.CompletedProcess[str]:
    return run(
        "assess", "accounts.csv", "--snapshots", "snapshots.csv", "--contracts",
        "contracts.csv", *extra, cwd=where, columns=columns,
    )  # fmt: skip


def by_hand(
    where: Path, truth: dict[str, Any], days: int = 90
) -> dict[str, tuple[float, float, float]]:
    """Each unsigned renewal in the window: (health, probability, probability x revenue)."""
    model = RenewalModel.load(where / "model.json")
    card = default_scorecard()
    out = {}
    for ident, cid, end, arr in truth["contracts"]:
        if not AS_OF <= end < AS_OF + timedelta(days=days) or cid == truth["signed"]:
            continue
        health = card.score(truth["values"][ident]).score
        assert health is not None
        p = model.probability(health)
        out[cid] = (health, p, p * arr)
    return out


def test_backtest_says_it_saved_a_model_fitted_on_the_whole_history(
    book: tuple[Path, dict[str, Any], str],
) -> None:
    where, _, stdout = book
    stdout = " ".join(stdout.split())  # the line wraps at the terminal's width
    assert "Saved the renewal model fitted on the whole history" in stdout
    assert "not only those up to --train-until" in stdout
    model = RenewalModel.load(where / "model.json")
    history = pl.read_csv(where / "history.csv")
    assert model.rows == history.height  # every period, not only the training ones
    assert model.positives == history["churned"].sum()
    assert model.measures == tuple(m.name for m in default_scorecard().measures)


def test_the_expected_loss_is_the_sum_of_probability_times_revenue(
    book: tuple[Path, dict[str, Any], str],
) -> None:
    where, truth, _ = book
    done = assess(where, "--renewal-model", "model.json", "--format", "json")
    assert done.returncode == 0, done.stderr
    risk = json.loads(done.stdout)["revenue_at_risk"]
    expected = by_hand(where, truth)
    assert len(expected) >= 10  # the window holds enough renewals to mean something
    listed = {r["contract"]: r for r in risk["renewals"]}
    assert set(listed) == set(expected)
    for cid, (health, p, loss) in expected.items():
        assert listed[cid]["health"] == pytest.approx(health, abs=1e-9)
        assert listed[cid]["probability"] == pytest.approx(p, abs=1e-12)
        assert listed[cid]["expected"] == pytest.approx(loss, rel=1e-12)
    total = risk["total"]
    assert total["expected"] == pytest.approx(sum(x[2] for x in expected.values()), rel=1e-12)
    assert total["contracts"] == len(expected)
    assert 0 <= total["low"] <= total["expected"] <= total["high"]
    assert risk["level"] == 0.9 and risk["horizon_days"] == 90
    assert risk["as_of"] == AS_OF.isoformat()
    # most expected loss first; owners and segments add up to the total
    losses = [r["expected"] for r in risk["renewals"]]
    assert losses == sorted(losses, reverse=True)
    for key in ("by_owner", "by_segment"):
        assert sum(g["expected"] for g in risk[key]) == pytest.approx(total["expected"])
    owners = {g["owner"]: g["contracts"] for g in risk["by_owner"]}
    assert owners == {
        o: sum(truth["owner"][c.split("-")[0]] == o for c in expected) for o in owners
    }
    assert any("already signed" in n for n in risk["notes"])


def test_text_report_has_the_section_within_the_terminal_width(
    book: tuple[Path, dict[str, Any], str],
) -> None:
    where, truth, _ = book
    done = assess(where, "--renewal-model", "model.json", columns=72)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    section = out[out.index("Revenue at risk in the next 90 days") :]
    assert "By owner:" in section and "By segment:" in section
    assert "Accounts with the most expected loss:" in section
    assert max(len(line) for line in section.splitlines()) <= 72
    expected = by_hand(where, truth)
    total = sum(x[2] for x in expected.values())
    assert f"Expected loss to churn and contraction: {total:,.0f} USD" in " ".join(section.split())
    assert f"... and {len(expected) - 10} more renewals" in section


def test_markdown_and_html_carry_the_section(
    book: tuple[Path, dict[str, Any], str], tmp_path: Path
) -> None:
    where, _, _ = book
    page = tmp_path / "report.html"
    done = assess(where, "--renewal-model", "model.json", "--format", "markdown", "--html", page)
    assert done.returncode == 0, done.stderr
    assert "## Revenue at risk in the next 90 days" in done.stdout
    assert "### By owner" in done.stdout
    assert "| account | renews | health | probability | revenue | expected loss |" in done.stdout
    html = page.read_text(encoding="utf-8")
    assert '<h2 id="revenue-at-risk">Revenue at risk in the next 90 days</h2>' in html
    assert "Accounts with the most expected loss" in html


def test_horizon_and_level_change_the_window_and_the_interval(
    book: tuple[Path, dict[str, Any], str],
) -> None:
    where, truth, _ = book
    wide = assess(where, "--renewal-model", "model.json", "--format", "json")
    narrow = assess(
        where, "--renewal-model", "model.json", "--format", "json",
        "--horizon-days", "30", "--level", "0.5",
    )  # fmt: skip
    assert narrow.returncode == 0, narrow.stderr
    w = json.loads(wide.stdout)["revenue_at_risk"]["total"]
    n = json.loads(narrow.stdout)["revenue_at_risk"]
    assert n["total"]["contracts"] == len(by_hand(where, truth, days=30)) < w["contracts"]
    assert n["level"] == 0.5 and n["last_day"] == str(AS_OF + timedelta(days=29))
    # a 50% interval over fewer renewals is narrower
    assert n["total"]["high"] - n["total"]["low"] < w["high"] - w["low"]


def test_no_renewal_in_the_window_is_said_plainly(book: tuple[Path, dict[str, Any], str]) -> None:
    where, _, _ = book
    text = assess(where, "--renewal-model", "model.json", "--horizon-days", "1")
    data = assess(where, "--renewal-model", "model.json", "--horizon-days", "1", "--format", "json")
    ends = {line.split(",")[2] for line in (where / "contracts.csv").read_text().splitlines()}
    assert AS_OF.isoformat() not in ends  # the window of one day holds no renewal
    assert text.returncode == 0, text.stderr
    assert "No contract renews from 2025-12-01 to 2025-12-01: there is nothing to forecast." in (
        text.stdout
    )
    assert "Expected loss" not in text.stdout
    risk = json.loads(data.stdout)["revenue_at_risk"]
    assert risk["total"] is None and risk["renewals"] == []
    assert "nothing to forecast" in risk["message"]


def test_without_contracts_the_command_says_what_it_needs(
    book: tuple[Path, dict[str, Any], str],
) -> None:
    where, _, _ = book
    done = run(
        "assess", "accounts.csv", "--snapshots", "snapshots.csv", "--renewal-model", "model.json",
        cwd=where,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("stars: error: --renewal-model model.json: needs --contracts")
    assert "Traceback" not in done.stderr
    lone = assess(where, "--horizon-days", "30")
    assert lone.returncode == 2
    assert "--horizon-days sets the revenue at risk: give --renewal-model too" in lone.stderr


def test_a_model_fitted_on_other_measures_is_refused(
    book: tuple[Path, dict[str, Any], str], tmp_path: Path
) -> None:
    where, _, _ = book
    up, down = Direction.HIGHER_IS_BETTER, Direction.LOWER_IS_BETTER
    other = Scorecard(
        [Measure("adoption", 1, up, Linear(0, 1)), Measure("open_tickets", 1, down, Linear(0, 9))]
    )
    (tmp_path / "other.json").write_text(json.dumps(io.to_dict(other)), encoding="utf-8")
    saved = run(
        "backtest", where / "history.csv", "--scorecard", "other.json", "--outcome", "churned",
        "--period", "period", "--train-until", "2025-06-01", "--revenue", "arr",
        "--save-model", "other-model.json", cwd=tmp_path,
    )  # fmt: skip
    assert saved.returncode == 0, saved.stderr
    done = assess(where, "--renewal-model", tmp_path / "other-model.json")
    assert done.returncode == 2 and done.stdout == ""
    assert "fitted on the health of the measures adoption, open_tickets" in done.stderr
    assert "the report scores health with adoption, open_tickets, days_since_contact" in (
        " ".join(done.stderr.split())
    )
    # the same measures with other weights: caught by the scorecard's digest
    data = json.loads((where / "model.json").read_text(encoding="utf-8"))
    data["scorecard"] = "sha256:0000000000000000"
    (tmp_path / "reweighted.json").write_text(json.dumps(data), encoding="utf-8")
    done = assess(where, "--renewal-model", tmp_path / "reweighted.json")
    assert done.returncode == 2
    assert "other weights or rules" in done.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "stars.scorecard"}, "$.format: got 'stars.scorecard'"),
        ({"version": 2}, "$.version: got 2, expected 1"),
        ({"base_rate": 1.5}, "$.base_rate: got 1.5, expected a number from 0 to 1"),
        ({"curves": []}, "$.curves: got [], expected a non-empty list of curves"),
        ({"extra": 1}, "$.extra: got 1, expected no such field"),
    ],
)
def test_a_bad_model_file_is_refused_with_its_field(
    book: tuple[Path, dict[str, Any], str],
    tmp_path: Path,
    change: dict[str, Any],
    message: str,
) -> None:
    where, _, _ = book
    data = json.loads((where / "model.json").read_text(encoding="utf-8"))
    data.update(change)
    (tmp_path / "bad.json").write_text(json.dumps(data), encoding="utf-8")
    done = assess(where, "--renewal-model", tmp_path / "bad.json")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("stars: error: --renewal-model ")
    assert message in done.stderr
    assert "Traceback" not in done.stderr and "KeyError" not in done.stderr


def test_save_model_needs_revenue(book: tuple[Path, dict[str, Any], str], tmp_path: Path) -> None:
    where, _, _ = book
    done = run(
        "backtest", where / "history.csv", "--scorecard", where / "card.json",
        "--outcome", "churned", "--save-model", "m.json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--save-model: got 'm.json', expected --revenue COLUMN as well" in done.stderr
    assert not (tmp_path / "m.json").exists()


def test_backtest_json_names_the_saved_model(
    book: tuple[Path, dict[str, Any], str], tmp_path: Path
) -> None:
    where, _, _ = book
    done = run(
        "backtest", where / "history.csv", "--scorecard", where / "card.json",
        "--outcome", "churned", "--period", "period", "--train-until", "2025-06-01",
        "--revenue", "arr", "--save-model", "saved.json", "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    saved = json.loads(done.stdout)["saved_model"]
    assert saved["path"] == "saved.json" and saved["periods"] == 24
    assert RenewalModel.load(tmp_path / "saved.json") == RenewalModel.load(where / "model.json")
