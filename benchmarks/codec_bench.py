"""The JSON codec scenario (issue 22): the cattrs prototype against today's codec.

``stars.io._cattrs`` writes and reads the same ``stars/1`` documents as the
hand-written codec in ``stars.io`` (``tests/test_codec_cattrs.py`` proves it). This
times both on the same portfolios: ``dumps`` (value to JSON text) and ``loads`` (JSON
text to a checked value, against the STARS lifecycle), for the bundled demo portfolio
and for generated portfolios of two sizes 100x apart (20 and 2,000 accounts; 2,000
is the most a single document under the default 16 MB limit holds). The ratio is cattrs ÷ today's:
below 1 means the cattrs codec is faster.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks._harness import Mode, Row, Section, Target, median_time
from stars import io as hand
from stars.demo import generate, load_bundled
from stars.portfolio import Portfolio

CATTRS = "cattrs codec"
TODAY = "today's codec"


def _time(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm up: the first call builds each codec's per-type functions
    return median_time(lambda _: fn(), repeats=repeats)


def codec(mode: Mode) -> Section:
    """dumps and loads of portfolios: the cattrs codec against today's hand-written one."""
    from stars.io import _cattrs as cc

    # 2,000 generated accounts write about 14.7 MB: the largest size under the 16 MB
    # document limit (stars.io.MAX_BYTES) that both codecs load by default.
    small, large = mode.size(20, minimum=5), mode.size(2_000, minimum=500)
    books: list[tuple[str, list[Any], int]] = [
        ("demo", load_bundled(), mode.repeats),
        (f"{small} accounts", generate(small, seed=1), mode.repeats),
        (f"{large} accounts", generate(large, seed=2), mode.heavy_repeats),
    ]
    section = Section(
        "codec",
        "JSON codec: cattrs prototype vs today's",
        f"demo ({len(books[0][1])} accounts), {small} and {large} generated accounts",
    )
    ratios: list[float] = []
    for label, accounts, repeats in books:
        p = Portfolio(accounts)
        text = hand.dumps(p)
        assert cc.dumps(p) == text  # the same document both ways
        assert cc.loads(text) == p
        events = sum(a.version for a in accounts)
        for op, run_c, run_h in (
            ("dumps", lambda p=p: cc.dumps(p), lambda p=p: hand.dumps(p)),
            ("loads", lambda t=text: cc.loads(t), lambda t=text: hand.loads(t)),
        ):
            t_c, t_h = _time(run_c, repeats), _time(run_h, repeats)
            c, h = f"{CATTRS} {op} {label}", f"{TODAY} {op} {label}"
            section.rows += [Row(c, t_c, events), Row(h, t_h, events, ref=c)]
            ratios.append(t_c / t_h)
        section.notes.append(
            f"{label}: {len(accounts)} accounts, {events} recorded changes, {len(text)} characters."
        )
    worst = max(ratios)
    section.targets.append(
        Target(
            "issue 22: switch to cattrs unless it is measured slower (within 10%)",
            f"worst cattrs ÷ today's ratio {worst:.2f}",
            worst <= 1.10,
        )
    )
    section.notes += [
        "Times per recorded change (snapshot, transition, depth point or owner change).",
        "Both codecs write identical text; loads checks the documents against STARS.",
        "Each codec is warmed up once (per-type functions built) before timing.",
    ]
    return section
