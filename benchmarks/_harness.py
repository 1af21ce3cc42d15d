"""Timing, memory and reporting helpers shared by the scenarios.

Every time is the median of repeated runs, each timed with ``time.perf_counter``
with the garbage collector disabled (and a full collection before the run). A
run's result is dropped only after the clock stops, so freeing it is not timed.
"""

from __future__ import annotations

import gc
import importlib
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mode:
    """How big a run is: ``full`` (1), ``quick`` (1/10) or ``smoke`` (1/100)."""

    name: str
    scale: float
    repeats: int
    heavy_repeats: int
    budget: float  # seconds a quadratic contender may take before we extrapolate it

    def size(self, full: int, minimum: int = 1) -> int:
        """A full-run size scaled to this mode."""
        return max(minimum, round(full * self.scale))


MODES = {
    "full": Mode("full", 1.0, repeats=5, heavy_repeats=3, budget=60.0),
    "quick": Mode("quick", 0.1, repeats=3, heavy_repeats=3, budget=0.5),
    "smoke": Mode("smoke", 0.01, repeats=3, heavy_repeats=3, budget=1.0),
}


class Unavailable(Exception):
    """A scenario whose module has not landed yet (the message says which)."""


def stars_attr(module: str, name: str) -> Any:
    """``module.name`` from stars, or :class:`Unavailable` if it has not landed yet."""
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise Unavailable(f"{module}.{name}") from None
    return found


def median_time(
    run: Callable[[Any], object],
    *,
    setup: Callable[[], Any] | None = None,
    repeats: int = 5,
    warmup: int = 0,
) -> float:
    """The median wall time of ``run(setup())`` over ``repeats`` runs, in seconds."""
    times = []
    for i in range(warmup + repeats):
        state = setup() if setup is not None else None
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            result = run(state)
            elapsed = time.perf_counter() - start
        finally:
            gc.enable()
        del result, state
        if i >= warmup:
            times.append(elapsed)
    return statistics.median(times)


def median_cpu(run: Callable[[], object], *, repeats: int = 5) -> tuple[float, float]:
    """Median wall and median CPU (process) time of ``run()``, in seconds."""
    walls, cpus = [], []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            w0, c0 = time.perf_counter(), time.process_time()
            result = run()
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
        finally:
            gc.enable()
        del result
    return statistics.median(walls), statistics.median(cpus)


def bytes_per_object(make: Callable[[int], object], n: int) -> float:
    """Memory traced by ``tracemalloc`` while ``make(i)`` builds ``n`` objects, per object.

    The objects are kept alive until the measurement is taken, and ``make`` is
    called once before tracing starts so lazily built shared state is not counted.
    """
    make(-1)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        keep = [make(i) for i in range(n)]
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del keep
    return (after - before) / n


def fit_quadratic(points: Sequence[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares ``t = a*n + b*n**2`` through ``points`` (no constant term)."""
    s11: float = sum(n * n for n, _ in points)
    s12 = sum(n**3 for n, _ in points)
    s22 = sum(n**4 for n, _ in points)
    r1 = sum(n * t for n, t in points)
    r2 = sum(n * n * t for n, t in points)
    det = s11 * s22 - s12 * s12
    return (r1 * s22 - r2 * s12) / det, (s11 * r2 - s12 * r1) / det


# ------------------------------------------------------------------------ results
@dataclass
class Row:
    """One contender's figure in a scenario.

    ``value`` is seconds (``unit="s"``) or bytes (``unit="B"``) for ``per`` items.
    ``ref`` names the stars row this one is compared with (``None`` on stars rows).
    """

    contender: str
    value: float
    per: int
    unit: str = "s"
    ref: str | None = None
    note: str = ""


@dataclass
class Target:
    """A target from an issue, and whether this run met it."""

    text: str
    figure: str
    met: bool


@dataclass
class Section:
    """A scenario's results (or why it was skipped)."""

    name: str
    title: str
    size: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    skipped: str | None = None
    failed: str | None = None

    def row(self, contender: str) -> Row:
        """The row of this contender."""
        for r in self.rows:
            if r.contender == contender:
                return r
        raise KeyError(contender)

    def ratio(self, alt: str) -> float:
        """stars value / alternative value for row ``alt`` (against its ``ref``)."""
        row = self.row(alt)
        assert row.ref is not None
        return self.row(row.ref).value / row.value


def fmt_value(value: float, unit: str) -> str:
    """A time in s/ms/µs/ns, or a size in B/KiB/MiB."""
    scale: float
    if unit == "B":
        for scale, name in ((2**20, "MiB"), (2**10, "KiB")):
            if value >= scale:
                return f"{value / scale:,.1f} {name}"
        return f"{value:,.0f} B"
    for scale, name in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if value >= scale:
            return f"{value / scale:,.2f} {name}"
    return f"{value / 1e-9:,.0f} ns"


def reading(ratio: float, unit: str) -> str:
    """Plain words for a stars/alternative ratio (below 1 means stars is better)."""
    better, worse = ("smaller", "larger") if unit == "B" else ("faster", "slower")
    factor, word = (1 / ratio, better) if ratio <= 1 else (ratio, worse)
    digits = 2 if factor < 10 else 1 if factor < 100 else 0
    return f"stars {factor:,.{digits}f}x {word}"


def render_table(sections: Sequence[Section]) -> str:
    """The one big markdown table: every scenario, every contender, with ratios."""
    lines = [
        "| scenario | contender | size | median | per item | stars ÷ this | reading |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for s in sections:
        if s.skipped is not None or s.failed is not None:
            status = f"skipped: {s.skipped}" if s.skipped else f"FAILED: {s.failed}"
            lines.append(f"| {s.name} | {status} | {s.size} | | | | |")
            continue
        for r in s.rows:
            total = fmt_value(r.value, r.unit)
            per = fmt_value(r.value / r.per, r.unit) if r.per > 1 else ""
            if r.ref is None:
                ratio, words = "", "(stars)"
            else:
                q = s.ratio(r.contender)
                ratio, words = f"{q:,.3g}", reading(q, r.unit)
            label = r.contender + (f" ({r.note})" if r.note else "")
            lines.append(f"| {s.name} | {label} | {s.size} | {total} | {per} | {ratio} | {words} |")
    return "\n".join(lines)


def render_targets(sections: Sequence[Section]) -> str:
    """The targets the issues set, with this run's figure and whether it was met."""
    lines = ["| scenario | target | this run | met |", "|---|---|---|---|"]
    for s in sections:
        for t in s.targets:
            lines.append(f"| {s.name} | {t.text} | {t.figure} | {'yes' if t.met else 'NO'} |")
    return "\n".join(lines)


def render_notes(sections: Sequence[Section]) -> str:
    """Each scenario's title and notes (how it was measured)."""
    out = []
    for s in sections:
        out.append(f"### {s.name}: {s.title}")
        out.append("")
        if s.skipped:
            out.append(f"Skipped: {s.skipped}.")
        if s.failed:
            out.append(f"FAILED: {s.failed}")
        out += [f"- {n}" for n in s.notes]
        out.append("")
    return "\n".join(out)


# ------------------------------------------------------------------------ machine
PACKAGES = (
    "stars",
    "transitions",
    "attrs",
    "python-statemachine",
    "polars",
    "pandas",
    "pyarrow",
    "narwhals",
    "numpy",
    "dask",
    "scikit-learn",
)


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or what the platform says)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover - not Linux
        pass
    return platform.processor() or "unknown"


def git_commit() -> str:
    """The short commit of the work tree, if git is there."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def machine_header(mode: Mode) -> str:
    """The lines at the top of the results: machine, software, date, mode."""
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count() or 0
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return "\n".join(
        [
            f"- CPU: {cpu_model()}",
            f"- cores: {os.cpu_count()} logical, {usable} usable by this process",
            f"- load average at start (1, 5, 15 min): {load}",
            f"- Python: {sys.version.split()[0]} ({platform.python_implementation()},"
            f" {platform.platform()})",
            f"- packages: {', '.join(versions)}",
            f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
            f"- commit: {git_commit()}",
            f"- mode: {mode.name} (sizes x{mode.scale:g}; median of {mode.repeats} runs,"
            f" {mode.heavy_repeats} for runs that take seconds)",
        ]
    )
