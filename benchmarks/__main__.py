"""Entry point: ``python -m benchmarks [--quick | --smoke] [--only NAME ...]``."""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from benchmarks import (
    backtest_bench,
    cli_bench,
    codec_bench,
    derive_bench,
    engine_bench,
    forecast_bench,
    frames_bench,
    import_bench,
    lifecycle_bench,
    portfolio_bench,
    store_bench,
)
from benchmarks._harness import (
    MODES,
    Mode,
    Section,
    Unavailable,
    machine_header,
    render_notes,
    render_table,
    render_targets,
)

Scenario = Callable[[Mode], Section]

#: Every scenario, by the name that the table shows, in the order they run.
SCENARIOS: dict[str, tuple[str, Scenario]] = {
    "fire": ("guarded transitions, one account at a time", lifecycle_bench.fire),
    "replay": ("rebuild accounts from their history", lifecycle_bench.replay),
    "create": ("create accounts", lifecycle_bench.create),
    "memory": ("memory per account", lifecycle_bench.memory),
    "fire_growth": ("one fire, short history against long", engine_bench.fire_growth),
    "observe_growth": ("one observe, few snapshots against many", engine_bench.observe_growth),
    "diagnose_growth": (
        "observe and diagnose, few snapshots against many",
        engine_bench.diagnose_growth,
    ),
    "reassign_growth": (
        "one owner change, short owner history against long",
        engine_bench.reassign_growth,
    ),
    "timeline_growth": (
        "record a fact in order and read the account, few facts known against many",
        engine_bench.timeline_growth,
    ),
    "threads": ("hooks that wait on I/O, eight threads against one", engine_bench.threads),
    "import": ("import time in a fresh interpreter", import_bench.imports),
    "score": ("batch health scoring", frames_bench.score),
    "assign_stages": ("batch stage assignment", frames_bench.assign_stages),
    "from_frames": ("build a portfolio from frames", portfolio_bench.from_frames),
    "transition_matrix": ("transition matrix from histories", portfolio_bench.transition_matrix),
    "backtest": ("does the score predict churn", backtest_bench.backtest),
    "forecast": ("renewal risk: fit and apply", forecast_bench.forecast),
    "renewal_risk_growth": (
        "revenue at risk per renewal, a small book against a big one",
        forecast_bench.renewal_risk_growth,
    ),
    "assess_big": ("stars assess on a big snapshots file", cli_bench.assess_big),
    "derive": ("stages from history: monthly facts to events", derive_bench.derive),
    "store_ingest": ("outside events through the lifecycle into the store", store_bench.ingest),
    "store_bulk": ("a trusted bulk import of validated accounts", store_bench.bulk),
    "store_load": ("every stored account back", store_bench.load),
    "store_load_growth": (
        "loading one account, few changes against many",
        store_bench.load_growth,
    ),
    "codec": ("JSON dumps/loads: stars.io against bare json", codec_bench.codec),
}

HERE = Path(__file__).resolve().parent


def run(mode: Mode, only: list[str] | None = None) -> tuple[list[Section], bool]:
    """Run the scenarios; return their sections and whether any failed."""
    sections = []
    failed = False
    for name, (title, scenario) in SCENARIOS.items():
        if only and name not in only:
            continue
        start = time.perf_counter()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        try:
            section = scenario(mode)
        except Unavailable as exc:
            section = Section(name, title, "", skipped=f"not available yet ({exc})")
        except Exception as exc:
            traceback.print_exc()
            section = Section(name, title, "", failed=f"{type(exc).__name__}: {exc}")
            failed = True
        took = time.perf_counter() - start
        print(f"[bench] {name} done in {took:.1f} s", file=sys.stderr, flush=True)
        sections.append(section)
    return sections, failed


def report(mode: Mode, sections: list[Section]) -> str:
    """The whole markdown report."""
    return "\n".join(
        [
            "# stars benchmarks, side by side",
            "",
            machine_header(mode),
            "",
            "Ratios are stars ÷ alternative: below 1 means stars is faster (or smaller),",
            "above 1 means the alternative is. Times are medians of repeated runs with the",
            "garbage collector off during each run. Regenerate with `make bench`.",
            "",
            "## Results",
            "",
            render_table(sections),
            "",
            "## Targets from the issues",
            "",
            render_targets(sections),
            "",
            "## How each scenario was measured",
            "",
            render_notes(sections),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run, print the table and write the results file."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    size.add_argument("--smoke", action="store_true", help="a hundredth (used by the tests)")
    parser.add_argument("--only", nargs="+", choices=sorted(SCENARIOS), help="run only these")
    parser.add_argument("--output", type=Path, help="where to write the markdown report")
    args = parser.parse_args(argv)
    mode = MODES["quick" if args.quick else "smoke" if args.smoke else "full"]
    default = {"full": "results.md", "quick": "results-quick.md", "smoke": "results-quick.md"}
    output = args.output or HERE / default[mode.name]

    start = time.perf_counter()
    sections, failed = run(mode, args.only)
    text = report(mode, sections)
    print(text)
    output.write_text(text + "\n", encoding="utf-8")
    print(
        f"[bench] wrote {output} in {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
