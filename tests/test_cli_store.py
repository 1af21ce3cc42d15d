"""`stars import --store` and `stars assess --store`, run as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from stars.demo import load_bundled
from stars.io import write_accounts_csv, write_events


def stars(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stars", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"COLUMNS": "100", "PATH": ""},
    )


def test_importing_twice_stores_once_and_assess_reads_the_store(tmp_path: Path) -> None:
    book = load_bundled()[:40]
    with (tmp_path / "events.jsonl").open("w", encoding="utf-8") as out:
        for account in book:
            write_events(account, out)
    write_accounts_csv(book, tmp_path / "accounts.csv")
    first = stars(
        "import", "--store", "sqlite:///crm.db", "events.jsonl", "accounts.csv", cwd=tmp_path
    )
    assert first.returncode == 0, first.stderr
    events = sum(len(a.snapshots) + len(a.history) for a in book)
    assert first.stdout.startswith(f"2 files: {events} events ({events} stored, 0 already stored")
    again = stars("import", "--store", "sqlite:///crm.db", "events.jsonl", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"(0 stored, {events} already stored, 0 rejected)" in again.stdout

    report = stars("assess", "--store", "sqlite:///crm.db", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert report.stdout.startswith("PORTFOLIO REPORT: SQLITE:///CRM.DB")
    assert "40 accounts" in report.stdout


def test_store_mistakes_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "accounts.csv").write_text("id\nacme\n", encoding="utf-8")
    both = stars("assess", "accounts.csv", "--store", "sqlite:///crm.db", cwd=tmp_path)
    assert both.returncode == 2
    assert both.stderr.strip() == (
        "stars: error: --store reads the accounts from the store: give no CSV files with it"
    )
    neither = stars("assess", cwd=tmp_path)
    assert neither.returncode == 2 and "--store URL" in neither.stderr
    missing = stars("import", "--store", "sqlite:///crm.db", "nope.jsonl", cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.startswith("stars: error: nope.jsonl")
    empty = stars("assess", "--store", "sqlite:///empty.db", cwd=tmp_path)
    assert empty.returncode == 2 and "holds no account" in empty.stderr
    assert all("Traceback" not in r.stderr for r in (both, neither, missing, empty))
