"""``import stars`` against ``import transitions, attrs``, in fresh interpreters."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from benchmarks._harness import Mode, Row, Section, Target

#: Libraries that ``import stars`` must not pull in.
HEAVY = (
    "polars",
    "pandas",
    "numpy",
    "pyarrow",
    "narwhals",
    "dask",
    "scipy",
    "sklearn",
    "matplotlib",
    "yaml",
)


def _wall(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def _importtime(module_line: str, top: tuple[str, ...]) -> float:
    """Cumulative seconds that ``-X importtime`` reports for the top-level modules."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", module_line],
        check=True,
        capture_output=True,
        text=True,
    ).stderr
    total = 0
    for line in out.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _self, cumulative, name = line.removeprefix("import time:").split("|")
        if name.strip() in top and name.startswith(" ") and not name.startswith("  "):
            total += int(cumulative)
    return total / 1e6


def _compile_stars() -> None:
    """Byte-compile stars like an installed package is, so both sides load from .pyc.

    pip compiles transitions and attrs when it installs them; an editable install of
    stars (or PYTHONDONTWRITEBYTECODE=1, set on this machine) would otherwise make every
    run compile stars from source and compare compilation with loading.
    """
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("stars")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        compileall.compile_dir(folder, quiet=1)


def imports(mode: Mode) -> Section:
    """Median wall time of an import minus interpreter start-up, and -X importtime."""
    _compile_stars()
    runs = {"full": 21, "quick": 7, "smoke": 5}.get(mode.name, 7)
    section = Section("import", "import time in a fresh interpreter", f"{runs} runs each")
    codes = {
        "base": "pass",
        "stars": "import stars",
        "alt": "import transitions, attrs",
    }
    samples: dict[str, list[float]] = {k: [] for k in codes}
    for _ in range(runs):
        # Interleaved, so a busy moment on the machine hits every contender alike.
        for key, code in codes.items():
            samples[key].append(_wall(code))
    base = statistics.median(samples["base"])
    t_stars = max(statistics.median(samples["stars"]) - base, 1e-6)
    t_alt = max(statistics.median(samples["alt"]) - base, 1e-6)
    x_samples: dict[str, list[float]] = {"stars": [], "alt": []}
    for _ in range(runs):  # interleaved too
        x_samples["stars"].append(_importtime("import stars", ("stars",)))
        x_samples["alt"].append(_importtime("import transitions, attrs", ("transitions", "attrs")))
    x_stars = statistics.median(x_samples["stars"])
    x_alt = statistics.median(x_samples["alt"])

    probe = "import sys, stars; print(' '.join(m for m in " + repr(HEAVY) + " if m in sys.modules))"
    pulled = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout.split()

    s = "import stars (wall, minus start-up)"
    x = "import stars (-X importtime, cumulative)"
    section.rows = [
        Row(s, t_stars, 1),
        Row("import transitions, attrs (wall, minus start-up)", t_alt, 1, ref=s),
        Row(x, x_stars, 1),
        Row("import transitions, attrs (-X importtime, cumulative)", x_alt, 1, ref=x),
    ]
    section.notes = [
        f"Each import runs in a new `python -c` process, {runs} times, interleaved with "
        f"`python -c pass`; the median start-up ({base * 1e3:.1f} ms) is subtracted.",
        f"-X importtime: the cumulative time of the top-level module(s), median of {runs} "
        "processes, interleaved. "
        "stars imports transitions and attrs itself, so its figure includes theirs.",
        "Both sides load byte-compiled modules: stars is compiled first, as pip does for an "
        "installed package (without that, every run would include compiling stars' source).",
        "Libraries imported by `import stars` among "
        + ", ".join(HEAVY)
        + ": "
        + (", ".join(pulled) if pulled else "none")
        + ".",
    ]
    q = t_stars / t_alt
    section.targets = [
        Target(
            "import stars within 1.5x of import transitions, attrs (issue 2)",
            f"{q:.2f}x (wall), {x_stars / x_alt:.2f}x (-X importtime)",
            q <= 1.5,
        ),
        Target(
            "import stars imports no dataframe library (issue 2)",
            ", ".join(pulled) if pulled else "none imported",
            not pulled,
        ),
    ]
    return section
