"""`stars assess --contracts`: renewals, revenue retention and revenue by band, from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ACCOUNTS = "id,name,owner,stage\na,Alpha,dana,accelerate\nb,Beta,lee,reset\nc,Gamma,lee,churn\nd,Delta,sam,seed\n"
SNAPSHOTS = "account,at,health\na,2025-12-01,85\nb,2025-12-01,30\n"
# Opening on 2024-11-30: a 100 + b 200 + c 50 = 350. A year later: a renewed at 130 (+30
# expansion), b still 200, c gone (-50 churn), d new at 40.
# GRR = (350 - 50) / 350 = 85.7%; NRR = (350 + 30 - 50) / 350 = 94.3%; logos 2 of 3.
CONTRACTS = (
    "account,start,end,arr,currency,id,renews\n"
    "a,2024-06-01,2025-06-01,100,USD,a1,\n"
    "a,2025-06-01,2026-06-01,130,USD,a2,a1\n"
    "b,2024-02-01,2026-02-01,200,USD,b1,\n"
    "c,2024-01-01,2025-03-01,50,USD,c1,\n"
    "d,2025-05-01,2026-05-01,40,USD,d1,\n"
)


def run(tmp_path: Path, *args: str, contracts: str = CONTRACTS) -> subprocess.CompletedProcess[str]:
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (tmp_path / "snapshots.csv").write_text(SNAPSHOTS, encoding="utf-8")
    (tmp_path / "contracts.csv").write_text(contracts, encoding="utf-8")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "stars",
            "assess",
            "accounts.csv",
            "--snapshots",
            "snapshots.csv",
            "--contracts",
            "contracts.csv",
            *args,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "100", "PATH": ""},
    )


def test_the_report_adds_renewals_retention_and_revenue_by_band(tmp_path: Path) -> None:
    done = run(tmp_path)
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "Renewals in the next 90 days" in out
    assert "2026-02-01 b 200 USD red no" in out
    assert (
        "2024-12-01 to 2025-11-30, all: opening 350 + new 40 + reactivation 0 + expansion 30"
        " - contraction 0 - churn 50 = closing 370 USD; GRR 85.7%, NRR 94.3%, logos 2 of 3 kept"
    ) in out
    assert "Revenue in force on 2025-12-01, by health band" in out
    assert "red 1 200 54%" in out and "green 1 130 35%" in out and "unknown 1 40 11%" in out
    assert "contracts.csv: 5 rows read, 5 used, 0 skipped, 0 rejected" in out


def test_json_carries_the_same_figures(tmp_path: Path) -> None:
    done = run(tmp_path, "--format", "json")
    assert done.returncode == 0, done.stderr
    revenue = json.loads(done.stdout)["revenue"]
    (year,) = revenue["retention"]
    assert year["opening"] == 350 and year["closing"] == 370
    assert year["grr"] == pytest.approx(300 / 350) and year["nrr"] == pytest.approx(330 / 350)
    assert [r["account"] for r in revenue["renewals"]] == ["b"]


def test_a_rejected_contract_row_is_counted_and_fails_the_run(tmp_path: Path) -> None:
    done = run(tmp_path, contracts=CONTRACTS + "e,2025-02-30,2026-01-01,10,USD,e1,\n")
    assert done.returncode == 3
    assert "contracts.csv: 1 of 6 rows rejected, more than --max-rejects 1% allows" in " ".join(
        done.stderr.split()
    )
    out = " ".join(done.stdout.split())
    assert "INCOMPLETE: contracts.csv" in out
    assert "rejected 1 (line 7): start: expected a date" in out


def test_a_crm_export_reads_with_its_preset(tmp_path: Path) -> None:
    from stars.crm import sample

    export = sample("salesforce", "contracts").read_text(encoding="utf-8")
    done = run(
        tmp_path,
        "--crm",
        "salesforce",
        "--rate",
        "EUR=1.08",
        "--currency",
        "USD",
        "--max-rejects",
        "100%",
        contracts=export,
    )
    assert done.returncode == 0, done.stderr
    assert "Revenue retention over the last 12 months" in done.stdout


def test_a_missing_contracts_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "stars", "assess", "accounts.csv", "--contracts", "nope.csv"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("stars: error: nope.csv")
    assert "Traceback" not in done.stderr


def test_mixed_currencies_without_rates_say_how_to_convert(tmp_path: Path) -> None:
    mixed = CONTRACTS + "e,2025-01-01,2026-01-01,10,EUR,e1,\n"
    done = run(tmp_path, contracts=mixed)
    assert done.returncode == 2
    assert "--rate CODE=VALUE and --currency CODE" in done.stderr
    assert run(tmp_path, "--rate", "EUR=1.1", "--currency", "USD", contracts=mixed).returncode == 0
