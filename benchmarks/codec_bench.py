"""The JSON codec scenario (issue 22): `stars.io` dumps and loads against bare `json`.

`stars.io.dumps` (value to ``stars/1`` JSON text) and `stars.io.loads` (JSON text to
a checked value, against the STARS lifecycle) are timed on the bundled demo portfolio
and on generated portfolios of two sizes 100x apart (20 and 2,000 accounts; 2,000 is
the most a single document under the default 16 MB limit holds). What a user would
write by hand is the floor: ``json.dumps`` of the document dict already built, and
``json.loads`` of the text with no checks at all. The ratio is stars ÷ that floor.

To compare two codecs (the hand-written one and the cattrs one, say), run this
scenario at each commit: ``python -m benchmarks --quick --only codec``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from benchmarks._harness import Mode, Row, Section, median_time
from stars import io as sio
from stars.demo import generate, load_bundled
from stars.portfolio import Portfolio


def _time(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm up: the first call builds the codec's per-type functions
    return median_time(lambda _: fn(), repeats=repeats)


def codec(mode: Mode) -> Section:
    """dumps and loads of portfolios, against bare json on the same document."""
    # 2,000 generated accounts write about 14.7 MB: the largest size under the 16 MB
    # document limit (stars.io.MAX_BYTES) that loads by default.
    small, large = mode.size(20, minimum=5), mode.size(2_000, minimum=500)
    books: list[tuple[str, list[Any], int]] = [
        ("demo", load_bundled(), mode.repeats),
        (f"{small} accounts", generate(small, seed=1), mode.repeats),
        (f"{large} accounts", generate(large, seed=2), mode.heavy_repeats),
    ]
    section = Section(
        "codec",
        "JSON codec: stars.io dumps/loads vs bare json",
        f"demo ({len(books[0][1])} accounts), {small} and {large} generated accounts",
    )
    for label, accounts, repeats in books:
        p = Portfolio(accounts)
        text = sio.dumps(p)
        doc = sio.to_dict(p)
        assert sio.loads(text) == p
        events = sum(a.version for a in accounts)
        for op, run_s, run_h, hand in (
            (
                "dumps",
                lambda p=p: sio.dumps(p),
                lambda d=doc: json.dumps(d, ensure_ascii=False, separators=(",", ":")),
                "json.dumps of the built dict",
            ),
            ("loads", lambda t=text: sio.loads(t), lambda t=text: json.loads(t), "json.loads"),
        ):
            t_s, t_h = _time(run_s, repeats), _time(run_h, repeats)
            s, h = f"stars.io.{op} {label}", f"{hand} {label}"
            section.rows += [Row(s, t_s, events), Row(h, t_h, events, ref=s)]
        section.notes.append(
            f"{label}: {len(accounts)} accounts, {events} recorded changes, {len(text)} characters."
        )
    section.notes += [
        "Times per recorded change (snapshot, transition, depth point or owner change).",
        "Bare json does no checks and builds no values: it is the floor, not a rival.",
        "The codec is warmed up once (per-type functions built) before timing.",
    ]
    return section
