"""`stars assess --opportunities/--cases/--field-history`: CRM exports on the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import stars as stars_package
from stars.crm import HUBSPOT, SALESFORCE, CrmPreset, read_cases, read_field_history, sample

ACCOUNTS = "id,name,owner,stage\na,Alpha,dana,prospect\nb,Beta,lee,accelerate\nc,Gamma,lee,seed\n"
HISTORY = (
    "account,field,old_value,new_value,changed_at,changed_by\n"
    "a,stage,prospect,seed,2025-01-06,dana\n"
    "a,health,,82,2025-02-03,system\n"
    "a,stage,seed,accelerate,2025-03-03,dana\n"
    "a,owner,dana,mia,2025-04-01,admin\n"
    "zz,stage,prospect,seed,2025-01-06,dana\n"
    "a,Phone,,555,2025-01-07,dana\n"
)
SRC = str(Path(stars_package.__file__).resolve().parent.parent)
CASES = (
    "id,account,priority,opened_at,closed_at\n"
    "1,a,critical,2025-03-10 09:00,2025-03-12 17:00\n"
    "2,b,low,2025-05-01 09:00,\n"
)


def run(tmp_path: Path, *args: str, **files: str) -> subprocess.CompletedProcess[str]:
    for name, body in {"accounts.csv": ACCOUNTS, **files}.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "stars", "assess", "accounts.csv", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "100", "PATH": "", "PYTHONPATH": SRC},
    )


def flat(text: str) -> str:
    return " ".join(text.split())


def test_field_history_and_cases_build_the_accounts_histories(tmp_path: Path) -> None:
    done = run(
        tmp_path,
        "--field-history",
        "history.csv",
        "--cases",
        "cases.csv",
        "--format",
        "json",
        **{"history.csv": HISTORY, "cases.csv": CASES},
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    files = {f["file"]: f for f in data["input"]["files"]}
    history = files["history.csv"]
    assert (history["rows"], history["used"], history["skipped"], history["rejected"]) == (
        6,
        4,
        2,
        0,
    )
    causes = {c["cause"]: c for c in history["causes"]}
    assert causes["account: not an account of accounts.csv"]["first_lines"] == [6]
    assert causes["field: not a mapped field"]["first_lines"] == [7]
    assert (files["cases.csv"]["rows"], files["cases.csv"]["used"]) == (2, 2)
    # a's stage comes from the CRM's stage changes, not from the accounts file.
    moves = data["histories"]["transition_matrix"]
    assert moves["counts"][moves["stages"].index("seed")][moves["stages"].index("accelerate")] == 1
    assert data["input"]["complete"] is True


def test_the_text_report_counts_every_crm_file_and_says_what_the_crm_changed(
    tmp_path: Path,
) -> None:
    done = run(tmp_path, "--field-history", "history.csv", **{"history.csv": HISTORY})
    assert done.returncode == 0, done.stderr
    out = flat(done.stdout)
    assert "history.csv: 6 rows read, 4 used, 2 skipped, 0 rejected" in out
    assert "history.csv, skipped 1 (line 6): account: not an account of accounts.csv" in out
    assert "Time in the current stage" in out


def test_rejected_crm_rows_fail_the_run_over_max_rejects(tmp_path: Path) -> None:
    bad = HISTORY + "a,health,,lots,2025-05-01,system\n"
    done = run(tmp_path, "--field-history", "history.csv", **{"history.csv": bad})
    assert done.returncode == 3
    assert "history.csv: 1 of 7 rows rejected, more than --max-rejects 1% allows (0)" in flat(
        done.stderr
    )
    assert "rejected 1 (line 8): new_value: expected a number for health, e.g. 'lots'" in flat(
        done.stdout
    )
    again = run(
        tmp_path, "--field-history", "history.csv", "--max-rejects", "1", **{"history.csv": bad}
    )
    assert again.returncode == 0, again.stderr


def test_a_crm_stage_change_that_does_not_fit_the_events_is_a_rejected_row(
    tmp_path: Path,
) -> None:
    events = "account,at,trigger\nb,2025-01-02,sign\nb,2025-02-01,accelerate\n"
    # b is in accelerate from February (the events); the CRM says it signed in March.
    history = "account,field,old_value,new_value,changed_at\nb,stage,prospect,seed,2025-03-01\n"
    done = run(
        tmp_path,
        "--events",
        "events.csv",
        "--field-history",
        "history.csv",
        "--format",
        "json",
        **{"events.csv": events, "history.csv": history},
    )
    assert done.returncode == 3, done.stderr
    (entry,) = [f for f in json.loads(done.stdout)["input"]["files"] if f["file"] == "history.csv"]
    assert entry["rejected"] == 1
    assert entry["causes"][0]["cause"] == "does not fit the account's history"
    assert entry["causes"][0]["first_lines"] == [2]
    assert "cannot 'sign'" in entry["causes"][0]["example"]


def test_contracts_and_opportunities_together_are_refused(tmp_path: Path) -> None:
    opportunities = "account,stage,close_date,arr,currency\na,won,2025-01-01,100,USD\n"
    done = run(
        tmp_path,
        "--contracts",
        "o.csv",
        "--opportunities",
        "o.csv",
        **{"o.csv": opportunities},
    )
    assert done.returncode == 2
    assert "not both" in done.stderr and "Traceback" not in done.stderr
    alone = run(tmp_path, "--opportunities", "o.csv", **{"o.csv": opportunities})
    assert alone.returncode == 0, alone.stderr
    assert "o.csv: 1 rows read, 1 used, 0 skipped, 0 rejected" in flat(alone.stdout)
    assert "Revenue retention over the last 12 months" in alone.stdout


@pytest.mark.parametrize(("crm", "preset"), [("salesforce", SALESFORCE), ("hubspot", HUBSPOT)])
def test_the_shipped_samples_read_on_the_command_line(
    tmp_path: Path, crm: str, preset: CrmPreset
) -> None:
    import csv

    files = {k: sample(crm, k).read_text(encoding="utf-8") for k in ("cases", "history")}
    _, cases = read_cases(sample(crm, "cases"), preset.cases)
    _, history = read_field_history(sample(crm, "history"), preset.history)
    column = preset.history.header("account")
    ids = sorted({r[column] for r in csv.DictReader(files["history"].splitlines())})
    accounts = "id,name\n" + "".join(f"{i},{i}\n" for i in ids)
    done = run(
        tmp_path,
        "--crm",
        crm,
        "--cases",
        "cases.csv",
        "--field-history",
        "history.csv",
        "--format",
        "json",
        **{"accounts.csv": accounts, "cases.csv": files["cases"], "history.csv": files["history"]},
    )
    # The samples hold a few bad rows on purpose: more than the default 1% allows.
    assert done.returncode == 3
    got = {f["file"]: f for f in json.loads(done.stdout)["input"]["files"]}
    for name, read in (("cases.csv", cases), ("history.csv", history)):
        # Every account of the export is in the accounts file: the counts are the reader's.
        assert (got[name]["rows"], got[name]["used"], got[name]["rejected"]) == (
            read.read,
            read.used,
            read.rejected,
        )
    stages = json.loads(done.stdout)["stages"]
    assert sum(s["accounts"] for s in stages) == len(ids)
