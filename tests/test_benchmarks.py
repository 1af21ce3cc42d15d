"""The benchmarks run end to end once (``--quick``: a tenth of their size), so they never rot.

Nothing here asserts on time: the figures belong in benchmarks/results.md.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.__main__ import SCENARIOS  # noqa: E402
from benchmarks._harness import fit_quadratic, reading  # noqa: E402


@pytest.mark.slow
def test_quick_run_prints_every_scenario(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    table = done.stdout
    assert "| scenario | contender |" in table
    assert re.search(r"^- CPU: .+$", table, re.MULTILINE)
    assert re.search(r"^- Python: 3\.\d+", table, re.MULTILINE)
    for name in SCENARIOS:
        rows = [line for line in table.splitlines() if line.startswith(f"| {name} |")]
        assert rows, f"scenario {name!r} is missing from the table"
        assert not any("FAILED" in line for line in rows), rows
    # A scenario that ran shows a ratio against stars on every alternative's row.
    fire = [line for line in table.splitlines() if line.startswith("| fire |")]
    assert any("stars" in line and "x " in line for line in fire[1:]), fire
    assert out.read_text(encoding="utf-8") == table


def test_every_scenario_name_is_a_single_word() -> None:
    # The table is searched by "| name |", so names must not contain a pipe or spaces.
    assert all(re.fullmatch(r"[a-z_]+", name) for name in SCENARIOS)
    assert {"fire", "replay", "create", "memory", "import", "score"} <= set(SCENARIOS)


def test_quadratic_fit_recovers_its_coefficients() -> None:
    a, b = 2e-6, 3e-9
    points = [(n, a * n + b * n * n) for n in (1_000, 5_000, 10_000)]
    got_a, got_b = fit_quadratic(points)
    assert got_a == pytest.approx(a, rel=1e-6)
    assert got_b == pytest.approx(b, rel=1e-6)


@pytest.mark.parametrize(
    ("ratio", "unit", "words"),
    [
        (0.5, "s", "stars 2.00x faster"),
        (2.0, "s", "stars 2.00x slower"),
        (0.01, "B", "stars 100x smaller"),
        (1.0, "s", "stars 1.00x faster"),
    ],
)
def test_ratio_reading_says_which_way_is_better(ratio: float, unit: str, words: str) -> None:
    assert reading(ratio, unit) == words
