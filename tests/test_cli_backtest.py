"""`stars backtest` keeps the command's promises, run as a user runs it (in a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import stars as stars_package
from stars import io
from stars.health import Direction, Linear, Measure, Scorecard
from stars.testing import synthetic_history

SRC = str(Path(stars_package.__file__).resolve().parent.parent)

#: Runs the command with these modules made unimportable, as on a core install.
BLOCKED = (
    "import sys\n"
    "for name in sys.argv[1].split(','):\n"
    "    sys.modules[name] = None\n"
    "from stars.cli import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


def run(
    *argv: str | Path, cwd: Path, blocked: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH", "")) if p)
    head = ["-c", BLOCKED, ",".join(blocked)] if blocked else ["-m", "stars"]
    return subprocess.run(
        [sys.executable, *head, *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": path},
    )


def card() -> Scorecard:
    up, down = Direction.HIGHER_IS_BETTER, Direction.LOWER_IS_BETTER
    return Scorecard(
        [
            Measure("adoption", 1, up, Linear(0, 1)),
            Measure("open_tickets", 1, down, Linear(0, 12)),
            Measure("days_since_contact", 1, down, Linear(0, 90)),
            Measure("sentiment", 1, up, Linear(-1, 1)),
        ]
    )


@pytest.fixture
def files(tmp_path: Path) -> Path:
    synthetic_history(12, 8, seed=2).write_csv(tmp_path / "history.csv")
    (tmp_path / "card.json").write_text(io.dumps(card()), encoding="utf-8")
    return tmp_path


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("stars: error: ") and "Traceback" not in done.stderr
    return done.stderr


BASE = ("backtest", "history.csv", "--outcome", "churned", "--scorecard")


def test_a_binary_scorecard_is_one_line_and_exit_2(files: Path) -> None:
    (files / "binary.json").write_bytes(bytes(range(256)))
    err = one_error_line(run(*BASE, "binary.json", cwd=files))
    assert "binary.json" in err and "UTF-8" in err


def test_a_missing_scorecard_is_named_like_any_missing_file(files: Path) -> None:
    err = one_error_line(run(*BASE, "nope.json", cwd=files))
    assert err == "stars: error: nope.json: no such file\n"
    err = one_error_line(
        run("backtest", "no.csv", "--outcome", "y", "--scorecard", "card.json", cwd=files)
    )
    assert err == "stars: error: no.csv: no such file\n"


def test_the_same_prefix_as_every_other_command(files: Path) -> None:
    err = one_error_line(run(*BASE, "card.json", "--period", "nope", cwd=files))
    other = one_error_line(run("assess", "missing.csv", cwd=files))
    assert err.split(":")[:2] == other.split(":")[:2] == ["stars", " error"]


def test_without_the_frames_extra_it_says_which_extra(files: Path) -> None:
    done = run(*BASE, "card.json", cwd=files, blocked=("polars", "narwhals", "pandas", "numpy"))
    err = one_error_line(done)
    assert "pip install 'stars-lifecycle[frames]'" in err


def test_core_commands_work_without_dataframe_libraries(tmp_path: Path) -> None:
    blocked = ("polars", "narwhals", "pandas", "numpy", "pyarrow")
    (tmp_path / "accounts.csv").write_text("id,stage\nacme,ascend\n", encoding="utf-8")
    (tmp_path / "snaps.csv").write_text("account,at,health\nacme,2025-01-06,80\n", encoding="utf-8")
    done = run("assess", "accounts.csv", "--snapshots", "snaps.csv", cwd=tmp_path, blocked=blocked)
    assert done.returncode == 0, done.stderr
    assert "snaps.csv: 1 row read, 1 used, 0 rejected" in done.stdout


def test_calibrate_on_too_few_rows_warns(files: Path) -> None:
    done = run(
        *BASE,
        "card.json",
        "--period",
        "period",
        "--calibrate",
        "--train-until",
        "2024-05-01",
        cwd=files,
    )
    assert done.returncode == 0, done.stderr
    assert "Warning: 4 positive rows in 48 training rows are too few to trust" in done.stdout
    assert "Warning: the calibrated scorecard ranks the held-out periods worse" in done.stdout
    assert "stars: warning: 4 positive rows" in done.stderr
    assert (files / "card.calibrated.json").is_file()
    data = json.loads(
        run(
            *BASE,
            "card.json",
            "--period",
            "period",
            "--calibrate",
            "--train-until",
            "2024-05-01",
            "--format",
            "json",
            cwd=files,
        ).stdout
    )
    assert len(data["warnings"]) == 2


def test_calibrate_on_enough_rows_does_not_warn(tmp_path: Path) -> None:
    synthetic_history(800, 8, seed=3, signal=2.0).write_csv(tmp_path / "history.csv")
    (tmp_path / "card.json").write_text(io.dumps(card()), encoding="utf-8")
    done = run(
        *BASE,
        "card.json",
        "--period",
        "period",
        "--calibrate",
        "--train-until",
        "2024-05-01",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stdout and done.stderr == ""
