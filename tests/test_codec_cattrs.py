"""The cattrs codec of `stars.io` against what the hand-written codec did (issue 22).

``tests/data/codec-golden/fuzz.json`` holds what the hand-written codec made of the
fuzz strategies' documents (drawn with a fixed seed: mutated accounts and portfolios,
random JSON under every type name, schema-shaped documents of every type) and of values
it could not write; it was recorded with that codec (``python tests/codec_golden.py
fuzz``) before `stars.io` moved to cattrs. Every input must get the same answer: the
same document text when it loads, the same error class and message (so the same JSON
path) when it is refused. Round trips of freshly drawn values check the codec on inputs
the goldens do not hold.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codec_golden import GOLDEN, unwritable
from stars import STARS, Account, Event, StarsError
from stars import io as sio
from stars.demo import generate, load_bundled
from stars.portfolio import Portfolio
from stars.testing import accounts

props = importlib.import_module("properties.test_io_props")

FUZZ: dict[str, Any] = json.loads((GOLDEN / "fuzz.json").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = FUZZ["cases"]
_LISTED = re.compile(r"^(.*\ba registered type \()(.*)(\))$")


def outcome(load: Any, arg: Any, **kw: Any) -> list[Any]:
    """What the codec makes of an input: ``["loaded", text]`` or ``[error, message]``."""
    try:
        value = load(arg, **kw)
    except StarsError as err:
        return [type(err).__name__, str(err)]
    return ["loaded", sio.dumps(value)]


def assert_same(got: list[Any], want: list[Any]) -> None:
    """Equal outcomes; a list of registered types may also name types tests registered."""
    listed = _LISTED.match(want[1]) if want[0] == "SchemaError" else None
    if listed is None:
        assert got == want
        return
    found = _LISTED.match(got[1])
    assert found is not None and got[0] == want[0], got
    assert found.group(1) == listed.group(1)
    assert set(listed.group(2).split(", ")) <= set(found.group(2).split(", "))


# --------------------------------------------------------------------------- goldens
def test_the_fuzz_goldens_hold_refusals_and_documents_of_every_family() -> None:
    families = {case["family"].split("-")[0] for case in CASES}
    assert {"mutated", "random", "schema", "named"} <= families
    refused = [c for c in CASES if c["from_dict"][0] != "loaded"]
    assert len(refused) > 500 and len(CASES) - len(refused) > 100
    shaped = {c["family"] for c in CASES if c["family"].startswith("schema-shaped-")}
    ours = {n for n, cls in sio.registered_types().items() if cls.__module__.startswith("stars.")}
    assert shaped == {f"schema-shaped-{n}" for n in ours - {"Lifecycle"}}


@pytest.mark.parametrize("case", CASES, ids=[f"{c['family']}-{i}" for i, c in enumerate(CASES)])
def test_every_fuzz_input_gets_the_answer_the_hand_written_codec_gave(
    case: dict[str, Any],
) -> None:
    kw: dict[str, Any] = {} if case["lifecycle"] else {"lifecycle": None}
    assert_same(outcome(sio.from_dict, json.loads(case["text"]), **kw), case["from_dict"])
    assert_same(outcome(sio.loads, case["text"], **kw), case["loads"])


def test_unwritable_values_are_refused_as_before_with_their_path() -> None:
    for name, value in unwritable().items():
        assert outcome(sio.to_dict, value) == FUZZ["unwritable"][name]


# --------------------------------------------------------------------------- round trips
def assert_round_trip(value: Any) -> None:
    text = sio.dumps(value)
    back = sio.loads(text)
    assert type(back) is type(value)
    assert back == value
    assert sio.dumps(back) == text  # the same text: the same keys in the same order
    assert sio.from_dict(json.loads(text)) == value
    assert sio.to_dict(back) == json.loads(text)


def test_the_bundled_demo_portfolio_loads_and_writes_back_the_same() -> None:
    book = load_bundled()
    assert_round_trip(Portfolio(book))
    for account in book:
        assert_round_trip(account)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 40), st.integers(1, 36), st.integers(0, 2**32))
def test_generated_portfolios_load_and_write_back_the_same(n: int, months: int, seed: int) -> None:
    assert_round_trip(Portfolio(generate(n, months, seed)))


@settings(max_examples=100, deadline=None)
@given(accounts(max_events=12), st.data())
def test_generated_accounts_load_and_write_back_the_same(account: Account, data: Any) -> None:
    full = props._with_extras(account, data)
    assert_round_trip(full)
    for part in (*full.snapshots, *full.history, *full.depths, *full.owners):
        assert_round_trip(part)
    for event in sio.events_of(full):
        assert_round_trip(event)


def test_other_document_types_round_trip() -> None:
    p = Portfolio(load_bundled()[:40])
    for value in (
        p.transition_matrix(),
        STARS.policy,
        Event("sign", sio.EARLIEST, to="seed"),
        STARS.stages[0],
        STARS.diagnose(Account("a")),
    ):
        assert_round_trip(value)
    assert sio.to_dict(STARS) == sio.lifecycle_to_dict(STARS)
    assert sio.from_dict(sio.to_dict(STARS)).name == STARS.name


def test_the_codec_imports_cattrs_and_modules_only_when_used() -> None:
    code = (
        "import sys, stars, stars.io as sio\n"
        "assert 'cattrs' not in sys.modules\n"
        "from datetime import datetime, timezone\n"
        "t = sio.dumps(stars.Snapshot(at=datetime(2025, 1, 1, tzinfo=timezone.utc)))\n"
        "assert 'cattrs' in sys.modules\n"
        "print(sorted(m for m in ('stars.portfolio', 'stars.recovery', 'stars.backtesting',"
        " 'stars.health') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
