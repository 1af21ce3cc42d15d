"""``stars assess`` on a big snapshots file (issue 18), against polars reading and scoring it.

Both sides run as a fresh process, as a user runs them: ``python -m stars assess
accounts.csv --snapshots snapshots.csv`` (the whole command: reading, checking every cell,
scoring, the report for every account) and a script that reads the same CSV with
``polars.read_csv`` and scores every row with the default scorecard written by hand in
polars expressions. Peak memory is each process's maximum resident set size.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks._harness import ROOT, Mode, Row, Section, Target, Unavailable
from benchmarks.import_bench import _compile_stars

#: Weekly snapshots per account: 50,000 accounts give 3,050,000 rows (about 200 MB).
WEEKS = 61

#: Runs a command and prints its wall time, peak RSS (kB) and exit code.
MEASURE = (
    "import resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
    "wall = time.perf_counter() - start\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(wall, peak, done.returncode)\n"
    "sys.stderr.write(done.stderr.decode()[-2000:])\n"
)

#: The hand-written side: read the whole CSV with polars and score every row.
HAND = (
    "import sys\n"
    "import polars as pl\n"
    "from benchmarks.frames_bench import hand_polars\n"
    "scored = hand_polars(pl.read_csv(sys.argv[1]))\n"
    "assert scored.height > 0\n"
)


def write_files(folder: Path, accounts: int) -> tuple[Path, Path, int]:
    """An accounts file and a weekly snapshots file for ``accounts`` accounts."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(7)
    n = accounts * WEEKS
    which = np.repeat(np.arange(accounts), WEEKS)
    week = np.tile(np.arange(WEEKS), accounts)
    base = rng.random(accounts)[which]
    ids = pl.lit("acct-") + pl.col("a").cast(pl.String).str.zfill(6)
    snapshots = pl.DataFrame({"a": which, "w": week}).select(
        account=ids,
        at=(pl.date(2024, 1, 1) + pl.duration(weeks=pl.col("w"))).dt.strftime(
            "%Y-%m-%dT00:00:00+00:00"
        ),
        adoption=pl.Series(np.clip(base * 0.9 + rng.normal(0, 0.05, n), 0, 1)).round(2),
        nps=pl.Series(np.clip(base * 120 - 50 + rng.normal(0, 8, n), -100, 100)).round(0),
        csat=pl.Series(np.clip(base * 50 + 45 + rng.normal(0, 5, n), 0, 100)).round(0),
        open_tickets=pl.Series(rng.poisson(3, n)),
        days_since_contact=pl.Series(rng.integers(0, 60, n)),
        sentiment=pl.Series(np.clip(base * 1.6 - 0.8 + rng.normal(0, 0.1, n), -1, 1)).round(2),
        contract_signed=pl.lit("true"),
        success_metrics_agreed=pl.Series(np.where(rng.random(n) < 0.9, "true", "false")),
    )
    snapshots_path = folder / "snapshots.csv"
    snapshots.write_csv(snapshots_path)
    accounts_path = folder / "accounts.csv"
    pl.DataFrame({"a": np.arange(accounts)}).select(
        id=ids,
        name=pl.lit("Account ") + pl.col("a").cast(pl.String),
        owner=pl.lit("owner-") + (pl.col("a") % 40).cast(pl.String),
        stage=pl.lit("ascend"),
    ).write_csv(accounts_path)
    return accounts_path, snapshots_path, n


def _measure(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (bytes) of one run of ``command`` in a fresh process.

    The process starts with the environment a user's shell gives: importing polars here
    (to write the files) sets polars' allocator option in this process's environment,
    which a child would otherwise inherit.
    """
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    wall, peak, code = out.stdout.split()
    if code != "0":
        raise AssertionError(f"{' '.join(command[:4])} exited {code}: {out.stderr}")
    return float(wall), float(peak) * 1024


def _assess(accounts: Path, snapshots: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "stars",
        "assess",
        str(accounts),
        "--snapshots",
        str(snapshots),
    ]


def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def assess_big(mode: Mode) -> Section:
    """Time and peak memory of ``stars assess`` on a generated weekly snapshots file."""
    try:
        import polars  # noqa: F401
    except ImportError:  # pragma: no cover - the bench extra installs it
        raise Unavailable("polars is not installed") from None
    # stars loads from .pyc as an installed package does, not compiled on every run
    _compile_stars()
    accounts = mode.size(50_000, minimum=50)
    small_accounts = max(5, accounts // 10)
    # The hand-written side's time varies by a third from run to run (it faults in
    # 800 MiB): a full run takes the median of more runs than other heavy sections.
    repeats = max(mode.heavy_repeats, 7) if mode.name == "full" else mode.heavy_repeats
    with tempfile.TemporaryDirectory(prefix="stars-bench-") as tmp:
        folder = Path(tmp)
        big = folder / "big"
        small = folder / "small"
        big.mkdir()
        small.mkdir()
        acc, snaps, rows = write_files(big, accounts)
        small_acc, small_snaps, small_rows = write_files(small, small_accounts)
        size = snaps.stat().st_size
        stars_runs: list[tuple[float, float]] = []
        hand_runs: list[tuple[float, float]] = []
        small_runs: list[tuple[float, float]] = []
        for _ in range(repeats):  # interleaved, so a busy moment hits every side alike
            stars_runs.append(_measure(_assess(acc, snaps), ROOT))
            hand_runs.append(_measure([sys.executable, "-c", HAND, str(snaps)], ROOT))
            small_runs.append(_measure(_assess(small_acc, small_snaps), ROOT))
    t_stars, m_stars = _median(stars_runs)
    t_hand, m_hand = _median(hand_runs)
    t_small, m_small = _median(small_runs)
    section = Section(
        "assess_big",
        "stars assess on a big snapshots file, against polars reading and scoring it",
        f"{rows:,} rows, {accounts:,} accounts, {size / 2**20:,.0f} MiB",
    )
    s = "stars assess (a fresh process: read, check, score, report)"
    m = "stars assess, peak RSS"
    section.rows = [
        Row(s, t_stars, rows),
        Row("polars read_csv + hand-written score (a fresh process)", t_hand, rows, ref=s),
        Row(f"stars assess on a tenth of the rows ({small_rows:,})", t_small, small_rows, ref=s),
        Row(m, m_stars, rows, unit="B"),
        Row("the snapshots file's size", size, rows, unit="B", ref=m),
        Row("polars read_csv + hand-written score, peak RSS", m_hand, rows, unit="B", ref=m),
        Row("stars assess on a tenth of the rows, peak RSS", m_small, small_rows, unit="B", ref=m),
    ]
    time_ratio = t_stars / t_hand
    memory_ratio = m_stars / size
    section.notes = [
        f"Generated: {accounts:,} accounts with {WEEKS} weekly snapshots each (account, at with"
        " an offset, six signals, two flags), written by polars; the accounts file has the ids.",
        "Each side runs in its own `python` process (start-up and imports included), "
        f"{repeats} times, interleaved; peak memory is the process's maximum RSS "
        "(`resource.getrusage(RUSAGE_CHILDREN)` in a wrapper process that runs only it). "
        "stars is byte-compiled first, as an installed package is.",
        "stars does more than the hand-written side: it checks every cell as the row-by-row "
        "reader does, counts rejections, keeps each account's latest snapshots, builds "
        f"{accounts:,} accounts and the whole portfolio report.",
        f"Growth: ten times the rows and accounts costs {t_stars / t_small:.1f}x the time and "
        f"{m_stars / m_small:.2f}x the peak memory (memory stays bounded by the chunk size and "
        "the snapshots kept per account).",
    ]
    section.targets = [
        Target(
            "stars assess within 3x of polars read + hand score (issue 18)",
            f"{time_ratio:.2f}x",
            time_ratio <= 3.0,
        ),
        Target(
            "stars assess peak memory under 1.5x the file's size (issue 18)",
            f"{memory_ratio:.2f}x ({m_stars / 2**20:,.0f} MiB for {size / 2**20:,.0f} MiB)",
            memory_ratio < 1.5,
        ),
    ]
    return section
