"""`stars init DIR` and `stars scorecard`: templates every command accepts unchanged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import stars as stars_package
from stars import io
from stars.health import Scorecard, default_scorecard

SRC = str(Path(stars_package.__file__).resolve().parent.parent)
CORE_ONLY = (
    "import sys\n"
    "for name in ('polars', 'narwhals', 'pandas', 'numpy', 'pyarrow'):\n"
    "    sys.modules[name] = None\n"
    "from stars.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def run(*argv: str | Path, cwd: Path, core_only: bool = False) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH", "")) if p)
    head = ["-c", CORE_ONLY] if core_only else ["-m", "stars"]
    return subprocess.run(
        [sys.executable, *head, *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": path},
    )


def test_init_writes_templates_that_every_command_accepts(tmp_path: Path) -> None:
    done = run("init", "start", cwd=tmp_path, core_only=True)
    assert done.returncode == 0, done.stderr
    where = tmp_path / "start"
    names = sorted(p.name for p in where.iterdir())
    assert names == sorted(
        [
            "README.txt",
            "accounts.csv",
            "events.csv",
            "snapshots.csv",
            "contracts.csv",
            "history.csv",
            "scorecard.json",
            "maturity.json",
            "maturity.md",
        ]
    )
    assert "stars assess" in done.stdout
    assess = run(
        "assess",
        "accounts.csv",
        "--events",
        "events.csv",
        "--snapshots",
        "snapshots.csv",
        "--contracts",
        "contracts.csv",
        "--strict",
        "--format",
        "json",
        cwd=where,
        core_only=True,
    )
    assert assess.returncode == 0 and assess.stderr == "", assess.stderr
    data = json.loads(assess.stdout)
    assert [(f["rows"], f["rejected"]) for f in data["input"]["files"]] == [
        (3, 0),
        (7, 0),
        (8, 0),
        (5, 0),  # the contracts file, counted like the others
    ]
    assert data["episodes"]["opened"] == 1
    assert data["revenue"]["retention"][0]["opening"] > 0  # the contracts template is read
    maturity = run("maturity", "maturity.json", cwd=where, core_only=True)
    assert maturity.returncode == 0, maturity.stderr
    assert "maturity.json" in (where / "README.txt").read_text(encoding="utf-8")
    backtest = run(
        "backtest",
        "history.csv",
        "--scorecard",
        "scorecard.json",
        "--outcome",
        "churned",
        "--period",
        "period",
        cwd=where,
    )
    assert backtest.returncode == 0, backtest.stderr
    assert backtest.stdout.startswith("Backtest on")


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    assert run("init", ".", cwd=tmp_path).returncode == 0
    (tmp_path / "accounts.csv").write_text("id\nmine\n", encoding="utf-8")
    again = run("init", ".", cwd=tmp_path)
    assert again.returncode == 2 and again.stderr.count("\n") == 1
    assert "already there" in again.stderr and "--force" in again.stderr
    assert (tmp_path / "accounts.csv").read_text(encoding="utf-8") == "id\nmine\n"
    assert run("init", ".", "--force", cwd=tmp_path).returncode == 0
    assert "acme" in (tmp_path / "accounts.csv").read_text(encoding="utf-8")
    (tmp_path / "file").write_text("x", encoding="utf-8")
    assert "not a directory" in run("init", "file", cwd=tmp_path).stderr


def test_scorecard_prints_or_writes_the_default(tmp_path: Path) -> None:
    done = run("scorecard", cwd=tmp_path, core_only=True)
    assert done.returncode == 0, done.stderr
    assert io.from_dict(json.loads(done.stdout), Scorecard) == default_scorecard()
    done = run("scorecard", "--output", "card.json", cwd=tmp_path)
    assert done.returncode == 0 and "card.json" in done.stdout
    assert io.loads((tmp_path / "card.json").read_text(encoding="utf-8")) == default_scorecard()
    again = run("scorecard", "--output", "card.json", cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr
