"""`stars assess` on files shaped the way CRMs export them, run as a user runs it.

Every test writes real files and runs ``python -m stars`` in a subprocess: what the
user reads (stdout, stderr) and the exit code are the behaviour under test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import stars as stars_package

ACCOUNTS = "id,name,owner,stage\nacme,Acme,dana,ascend\nglobex,Globex,lee,accelerate\n"


#: The source tree the tests import, so the subprocess runs the same code.
SRC = str(Path(stars_package.__file__).resolve().parent.parent)


def stars(
    *argv: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH", "")) if p)
    environ = {**os.environ, "COLUMNS": "100", **(env or {}), "PYTHONPATH": path}
    return subprocess.run(
        [sys.executable, "-m", "stars", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
        env=environ,
    )


def flat(text: str) -> str:
    """The text with its line wrapping undone (every run of spaces and breaks as one space)."""
    return " ".join(text.split())


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def snapshots(
    n: int, date: str = "2025-01-{day:02d}", accounts: tuple[str, ...] = ("acme", "globex")
) -> str:
    rows = ["account,at,health"]
    for i in range(n):
        rows.append(f"{accounts[i % len(accounts)]},{date.format(day=i % 28 + 1)},{40 + i % 50}")
    return "\n".join(rows) + "\n"


# ----------------------------------------------------------------- 1. nothing lost silently
def test_date_only_snapshots_are_read_in_utc_and_said_so(tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", ACCOUNTS)
    write(tmp_path / "snaps.csv", snapshots(120))
    done = stars("assess", "accounts.csv", "--snapshots", "snaps.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "snaps.csv: 120 rows read, 120 used, 0 rejected" in done.stdout
    assert "120 times without a UTC offset read in UTC" in done.stdout
    assert "As of 2025-01-28" in done.stdout


def test_tz_option_names_the_zone_in_json(tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", ACCOUNTS)
    write(tmp_path / "snaps.csv", snapshots(4, date="2025-01-{day:02d} 23:30"))
    done = stars(
        "assess",
        "accounts.csv",
        "--snapshots",
        "snaps.csv",
        "--tz",
        "Europe/Paris",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["input"]["time_zone"] == "Europe/Paris"
    assert data["as_of"] == "2025-01-04T23:30:00+01:00"
    assert [f["zoned_times"] for f in data["input"]["files"]] == [0, 4]
    bad = stars("assess", "accounts.csv", "--tz", "Mars/Olympus", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Mars/Olympus" in bad.stderr


def test_a_run_that_drops_everything_fails_and_never_says_all_is_well(tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", ACCOUNTS)
    write(tmp_path / "snaps.csv", snapshots(20_000, date="{day:02d}/01/2025"))
    done = stars("assess", "accounts.csv", "--snapshots", "snaps.csv", cwd=tmp_path)
    assert done.returncode == 3
    # one grouped summary, not one line per row (long lines wrap to the terminal's width)
    heads = [line for line in done.stderr.splitlines() if not line.startswith("    ")]
    assert len(heads) == 3, done.stderr
    err = flat(done.stderr)
    assert "snaps.csv: 20,000 rows read, 0 used, 20,000 rejected" in err
    assert "at: expected an ISO 8601 date or date-time" in err
    assert "20,000 rows (lines 2, 3, 4, 5, 6, ...; e.g. '01/01/2025')" in err
    assert err.endswith("the report is incomplete")
    out = done.stdout
    assert "INCOMPLETE: snaps.csv had 20,000 of 20,000 rows rejected" in out
    assert "Nothing urgent" not in out and "matches its evidence" not in out
    assert "Nothing can be called urgent or fine" in out


def test_max_rejects_strict_and_the_rejects_file(tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", ACCOUNTS)
    rows = snapshots(200).splitlines()
    rows[5] = "acme,2025-01-05,140"  # line 6: out of range
    write(tmp_path / "snaps.csv", "\n".join(rows) + "\n")
    base = ("assess", "accounts.csv", "--snapshots", "snaps.csv")
    done = stars(*base, cwd=tmp_path)  # 1 of 200 is within the default 1%
    assert done.returncode == 0
    assert "snaps.csv: 200 rows read, 199 used, 1 rejected" in done.stdout
    assert "health: expected a number from 0 to 100: 1 row (line 6; e.g. '140')" in flat(
        done.stderr
    )
    strict = stars(*base, "--strict", "--rejects", "rejects.csv", cwd=tmp_path)
    assert strict.returncode == 3
    assert "more than --max-rejects 0 allows (0)" in flat(strict.stderr)
    assert (tmp_path / "rejects.csv").read_text(encoding="utf-8").splitlines() == [
        "file,line,column,value,expected",
        "snaps.csv,6,health,140,a number from 0 to 100",
    ]
    assert stars(*base, "--max-rejects", "0", cwd=tmp_path).returncode == 3
    assert stars(*base, "--max-rejects", "1", cwd=tmp_path).returncode == 0
    bad = stars(*base, "--max-rejects", "lots", cwd=tmp_path)
    assert bad.returncode == 2 and "--max-rejects" in bad.stderr and "2%" in bad.stderr


# ----------------------------------------------------------------- 2. forgiving reading
def test_extra_columns_are_kept_aside_and_listed_once(tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", "id,name,arr,region\nacme,Acme,1200,emea\n")
    write(tmp_path / "snaps.csv", "account,at,health,arr\nacme,2025-01-06,80,1200\n")
    done = stars("assess", "accounts.csv", "--snapshots", "snaps.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("columns not used: arr, region") == 1
    assert done.stdout.count("columns not used: arr") == 2


def test_map_renames_columns_and_refuses_an_unknown_target(tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", "Account ID,Account Name,CSM\nacme,Acme,dana\n")
    done = stars(
        "assess",
        "accounts.csv",
        "--map",
        "Account Name=name",
        "--map",
        "CSM=owner",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["input"]["files"][0]["extra_columns"] == []
    bad = stars("assess", "accounts.csv", "--map", "CSM=csm_owner", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "'csm_owner' is no column stars reads" in bad.stderr and "owner" in bad.stderr


def test_account_id_is_accepted_in_every_file(tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", "account_id,name\nacme,Acme\n")
    write(tmp_path / "snaps.csv", "account_id,at,health\nacme,2025-01-06T00:00:00Z,20\n")
    write(tmp_path / "events.csv", "account_id,at,stage\nacme,2024-06-01,seed\n")
    done = stars(
        "assess",
        "accounts.csv",
        "--snapshots",
        "snaps.csv",
        "--events",
        "events.csv",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [f["used"] for f in data["input"]["files"]] == [1, 1, 1]
    assert data["actions"][0]["account_id"] == "acme"


def test_header_without_an_id_lists_the_accepted_columns(tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", "name,owner\nAcme,dana\n")
    done = stars("assess", "accounts.csv", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "'id'" in done.stderr and "id, name, owner, tags, since, stage" in done.stderr


def test_semicolons_and_byte_order_marks(tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", "\ufeffid;name;stage\nacme;Acme;ascend\n")
    write(tmp_path / "snaps.csv", "\ufeffaccount;at;health\nacme;2025-01-06;80\n", "utf-8")
    done = stars(
        "assess", "accounts.csv", "--snapshots", "snaps.csv", "--format", "json", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    files = json.loads(done.stdout)["input"]["files"]
    assert [(f["delimiter"], f["used"]) for f in files] == [(";", 1), (";", 1)]
    write(tmp_path / "utf16.csv", "id,name\nacme,Acme\n", "utf-16")
    done = stars("assess", "utf16.csv", "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["input"]["files"][0]["encoding"] == "utf-16"


def test_latin1_is_named_with_its_line_or_read_with_encoding(tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", "id,name\nacme,Acme\nsoc,Société Générale\n", "latin-1")
    done = stars("assess", "accounts.csv", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "accounts.csv line 3" in done.stderr and "UTF-8" in done.stderr
    assert "encoding 'cp1252'" in done.stderr and "Traceback" not in done.stderr
    done = stars("assess", "accounts.csv", "--encoding", "cp1252", "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["accounts"] == 2 and data["input"]["files"][0]["encoding"] == "cp1252"
    bad = stars("assess", "accounts.csv", "--encoding", "klingon", cwd=tmp_path)
    assert bad.returncode == 2 and "klingon" in bad.stderr and bad.stderr.count("\n") == 1


def test_empty_and_binary_files_exit_2_with_one_line(tmp_path: Path) -> None:
    write(tmp_path / "empty.csv", "")
    done = stars("assess", "empty.csv", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "header" in done.stderr and "empty file" in done.stderr
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 4)
    done = stars("assess", "binary.csv", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "binary" in done.stderr and "Traceback" not in done.stderr


# ----------------------------------------------------------------- 3. stage names
def test_stage_names_as_people_write_them(tmp_path: Path) -> None:
    write(
        tmp_path / "accounts.csv",
        "id,stage\na,ASCEND\nb,Ascend \nc,Turnaround\nd,accelarate\ne,Accelerated growth\n",
    )
    done = stars("assess", "accounts.csv", "--format", "json", cwd=tmp_path)
    assert done.returncode == 3  # one of five rejected: over the default 1%
    data = json.loads(done.stdout)
    stages = {s["stage"]: s["accounts"] for s in data["stages"]}
    assert (stages["ascend"], stages["tact"], stages["accelerate"]) == (2, 1, 1)
    assert "stage: expected a stage of lifecycle 'STARS' (did you mean 'accelerate'?)" in flat(
        done.stderr
    )
    assert "line 5" in flat(done.stderr) and "'accelarate'" in done.stderr


# ----------------------------------------------------------------- 4. history from files
EVENTS = """account,at,trigger,stage,actor,reason
acme,2024-01-10,sign,,dana,contract signed
acme,2024-03-01,,Accelerate,dana,
acme,2024-09-15,escalate,,dana,exec sponsor left
acme,2024-10-20,,reset,dana,
acme,2024-12-05,realign,ascend,dana,
globex,2024-02-01,sign,,lee,
globex,2024-05-01,,Turnaround,lee,support backlog
"""


def test_stage_events_build_histories_episodes_and_briefs(tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", ACCOUNTS)
    write(tmp_path / "events.csv", EVENTS)
    base = ("assess", "accounts.csv", "--events", "events.csv")
    done = stars(*base, "--brief", "globex", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "events.csv: 7 rows read, 7 used, 0 rejected" in out
    assert "2 episodes so far: 1 recovered, 0 lost, 1 open" in out
    assert "globex   lee    tact   2024-05-01" in out  # a real start, not "-"
    assert "Not counted above" not in out
    assert "1 account ends in another stage than accounts.csv gives" in out
    assert "Time in the current stage" in out and "Stage moves, month to month" in out
    assert "# Hand-over brief: Globex (globex)" in out
    data = json.loads(stars(*base, "--format", "json", cwd=tmp_path).stdout)
    assert data["episodes"]["opened"] == 2 and data["episodes"]["recovered"] == 1
    assert data["histories"]["days_in_stage"] == {"acme": 0.0, "globex": 218.0}
    matrix = data["histories"]["transition_matrix"]
    tact = matrix["stages"].index("tact")
    assert matrix["counts"][tact][tact] > 0


def test_events_that_do_not_fit_the_graph_are_rejected_with_the_allowed_ones(
    tmp_path: Path,
) -> None:
    write(tmp_path / "accounts.csv", ACCOUNTS)
    write(
        tmp_path / "events.csv",
        "account,at,trigger\nacme,2024-01-10,sign\nacme,2024-02-10,realign\n"
        "ghost,2024-01-10,sign\nacme,2024-03-10,stabilise\n",
    )
    done = stars("assess", "accounts.csv", "--events", "events.csv", cwd=tmp_path)
    assert done.returncode == 3
    err = flat(done.stderr)
    assert "events.csv: 4 rows read, 1 used, 3 rejected" in err
    assert (
        "trigger: expected a trigger allowed from seed (accelerate, escalate, lose): 1 row (line 3"
        in err
    )
    assert "account: expected an account of accounts.csv: 1 row (line 4; e.g. 'ghost')" in err
    assert "(did you mean 'stabilize'?)" in err


def test_without_history_the_report_does_not_contradict_itself(tmp_path: Path) -> None:
    write(tmp_path / "accounts.csv", "id,stage\na,tact\nb,tact\nc,reset\n")
    done = stars("assess", "accounts.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Not counted above: 3 accounts are in a crisis stage with no recorded move" in out
    assert "Nothing urgent" not in out and "Every account's stage matches" not in out


def test_maturity_and_key_account_capacity_options(tmp_path: Path) -> None:
    rows = "".join(f"k{i},enterprise;key-account,ascend\n" for i in range(8))
    write(tmp_path / "accounts.csv", "id,tags,stage\n" + rows)
    young = json.loads(
        stars(
            "assess", "accounts.csv", "--maturity", "young", "--format", "json", cwd=tmp_path
        ).stdout
    )
    assert young["key_accounts"]["maturity"] == "young" and not young["key_accounts"]["within"]
    mature = json.loads(stars("assess", "accounts.csv", "--format", "json", cwd=tmp_path).stdout)
    assert mature["key_accounts"]["within"]
    capped = stars("assess", "accounts.csv", "--key-account-capacity", "6", cwd=tmp_path)
    assert "2 over the capacity of 6" in capped.stdout
    bad = stars("assess", "accounts.csv", "--key-account-capacity", "none", cwd=tmp_path)
    assert bad.returncode == 2 and "usage:" in bad.stderr


# ----------------------------------------------------------------- 7. output fits the terminal
def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def test_text_output_wraps_to_columns_or_100(tmp_path: Path) -> None:
    env_without = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    narrow = stars("demo", cwd=tmp_path, env={"COLUMNS": "80"})
    assert narrow.returncode == 0 and widest(narrow.stdout) <= 80
    plain = subprocess.run(
        [sys.executable, "-m", "stars", "demo"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
        env={**env_without, "PYTHONPATH": SRC},
    )
    assert plain.returncode == 0 and 90 < widest(plain.stdout) <= 100  # not a terminal: 100
    write(tmp_path / "accounts.csv", ACCOUNTS)
    write(tmp_path / "events.csv", EVENTS)
    write(tmp_path / "snaps.csv", snapshots(40))
    done = stars(
        "assess",
        "accounts.csv",
        "--events",
        "events.csv",
        "--snapshots",
        "snaps.csv",
        "--brief",
        "acme",
        cwd=tmp_path,
        env={"COLUMNS": "72"},
    )
    assert done.returncode == 0, done.stderr
    assert widest(done.stdout) <= 72


def test_repeated_advice_is_said_once_per_group(tmp_path: Path) -> None:
    done = stars("demo", cwd=tmp_path)
    actions = done.stdout.split("This week's actions")[1].split("\nStages\n")[0]
    advice = "Find the root causes from data and from direct conversations."
    assert actions.count(advice) == 1
    assert "(a) For #1, #2" in actions and actions.count("see (a)") >= 2
    plans = done.stdout.split("Open crisis episodes")[1]
    assert plans.count("Draft plan for") <= 3
    assert "Draft plan for acct-" in plans and "," in plans.split("Draft plan for")[1].split("(")[0]
