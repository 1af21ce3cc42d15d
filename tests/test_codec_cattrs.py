"""The cattrs codec prototype against today's hand-written codec, side by side (issue 22).

Every document `stars.io` writes must load through the cattrs codec into an equal value
that writes back the same document (the same text, key order included), and every
document the existing fuzz tests throw at `stars.io` must be refused by both codecs with
the same error class and message (so the same JSON path).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stars import STARS, Account, Event, Lifecycle, Snapshot, StarsError
from stars import io as hand
from stars.demo import generate, load_bundled
from stars.io import _cattrs as cc
from stars.portfolio import Portfolio
from stars.testing import accounts

# The fuzz tests' own strategies and mutation table, reused as they are.
props = importlib.import_module("properties.test_io_props")
io_tests = importlib.import_module("test_io")


def outcome(load: Any, doc: Any, **kw: Any) -> tuple[str, Any]:
    """What a codec makes of a document: the value's document, or the refusal."""
    try:
        value = load(doc, **kw)
    except StarsError as err:
        return type(err).__name__, str(err)
    return "loaded", hand.to_dict(value)


def assert_same_outcome(doc: Any, **kw: Any) -> tuple[str, Any]:
    want = outcome(hand.from_dict, doc, **kw)
    got = outcome(cc.from_dict, doc, **kw)
    assert got == want
    return want


def assert_round_trip(value: Any) -> None:
    doc = hand.to_dict(value)
    back = cc.from_dict(doc)
    assert type(back) is type(value)
    assert back == value
    assert cc.to_dict(back) == doc
    assert cc.dumps(value) == hand.dumps(value)  # same text: same keys in the same order
    assert cc.loads(hand.dumps(value)) == value


# --------------------------------------------------------------------------- round trips
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
    for event in hand.events_of(full):
        assert_round_trip(event)


def test_other_document_types_round_trip() -> None:
    p = Portfolio(load_bundled()[:40])
    for value in (
        p.transition_matrix(),
        STARS.policy,
        Event("sign", hand.EARLIEST, to="seed"),
        STARS.stages[0],
        STARS.diagnose(Account("a")),
    ):
        assert_round_trip(value)
    assert cc.to_dict(STARS) == hand.to_dict(STARS)
    assert cc.from_dict(hand.to_dict(STARS)).name == STARS.name


# --------------------------------------------------------------------------- refusals
BAD_ACCOUNTS = io_tests.test_bad_account_documents_name_the_path.pytestmark[0].args[1]
HOSTILE_TEXTS = io_tests.test_hostile_json_is_refused.pytestmark[0].args[1]


@pytest.mark.parametrize(("mutate", "path"), BAD_ACCOUNTS)
def test_bad_account_documents_are_refused_alike(mutate: Any, path: str) -> None:
    doc = io_tests.doc_of(io_tests.lived_account())
    mutate(doc)
    kind, message = assert_same_outcome(doc)
    assert kind == "SchemaError"
    assert message.startswith(path + ":")


@pytest.mark.parametrize(("text", "why"), HOSTILE_TEXTS)
def test_hostile_json_is_refused_alike(text: str, why: str) -> None:
    want = outcome(hand.loads, text)
    assert outcome(cc.loads, text) == want
    assert why in want[1]


def test_lifecycle_portfolio_and_event_refusals_alike() -> None:
    assert_same_outcome(hand.to_dict(Event("teleport", hand.EARLIEST)))
    assert_same_outcome(hand.to_dict(Event("sign", hand.EARLIEST, to="moon")))
    assert_same_outcome(
        {
            "schema": "stars/1",
            "type": "AccountEvent",
            "account": "a",
            "event": {"type": "Account", "id": "a"},
        }
    )
    d = hand.to_dict(Portfolio([Account("a"), Account("b")]))
    d["accounts"][1]["id"] = "a"
    assert assert_same_outcome(d)[1].startswith("$.accounts[1].id:")
    d["lifecycle"] = "custom"
    assert assert_same_outcome(d)[1].startswith("$.lifecycle:")
    assert_same_outcome({"schema": "stars/1", "type": "Portfolio", "accounts": [], "x": 1})
    key = "k" * 100
    assert_same_outcome({"schema": "stars/1", "type": "Snapshot", "at": hand.LATEST.isoformat()})
    assert_same_outcome({"schema": "stars/1", "type": "Snapshot", key: 1})
    assert_same_outcome({"schema": "stars/1", "type": "Account", "id": "a", "stage": "pilot"})
    assert_same_outcome({"schema": "stars/2", "type": "Account", "id": "a"})
    assert_same_outcome({"schema": "stars/1", "type": "Nope"})
    assert_same_outcome([1, 2])


@settings(max_examples=300, deadline=None)
@given(accounts(max_events=8), st.data())
def test_mutated_account_documents_get_the_same_answer(account: Account, data: Any) -> None:
    doc = props._mutate(hand.to_dict(account), data)
    assert_same_outcome(doc)
    assert_same_outcome(doc, lifecycle=None)


@settings(max_examples=60, deadline=None)
@given(st.lists(accounts(max_events=4), max_size=3), st.data())
def test_mutated_portfolio_documents_get_the_same_answer(members: list[Account], data: Any) -> None:
    unique = {a.id: a for a in members}
    doc = props._mutate(hand.to_dict(Portfolio(unique.values())), data)
    assert_same_outcome(doc)


@settings(max_examples=200, deadline=None)
@given(props.json_values, st.sampled_from(sorted(hand.registered_types())))
def test_random_json_gets_the_same_answer(value: Any, kind: str) -> None:
    for doc in (
        value,
        {"schema": "stars/1", "type": kind, "x": value},
        {"schema": "stars/1", "type": kind, **(value if isinstance(value, dict) else {})},
    ):
        assert_same_outcome(doc)
        text = json.dumps(doc, allow_nan=True)
        assert outcome(cc.loads, text) == outcome(hand.loads, text)


DOC_TYPES = sorted(n for n, cls in hand.registered_types().items() if cls is not Lifecycle)


@pytest.mark.parametrize("name", DOC_TYPES)
def test_schema_shaped_documents_of_every_type_get_the_same_answer(name: str) -> None:
    schema = hand.json_schema(name)
    docs = props._from_schema(schema, schema["$defs"])

    @settings(
        max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(docs)
    def run(doc: dict[str, Any]) -> None:
        if assert_same_outcome(doc, lifecycle=None)[0] == "loaded":
            value = hand.from_dict(doc, lifecycle=None)
            assert cc.dumps(value) == hand.dumps(value)

    run()


def test_unwritable_values_are_refused_alike_with_their_path() -> None:
    snap = Snapshot(at=hand.EARLIEST, metrics={"x": 1.0})
    object.__setattr__(snap, "metrics", {"x": float("inf")})
    account = Account("a", snapshots=[snap])
    for value in (snap, account, Portfolio([account])):
        with pytest.raises(StarsError) as want:
            hand.to_dict(value)
        with pytest.raises(StarsError) as got:
            cc.to_dict(value)
        assert (type(got.value), str(got.value)) == (type(want.value), str(want.value))


def test_the_codec_imports_cattrs_and_modules_only_when_used() -> None:
    code = (
        "import sys, stars, stars.io._cattrs as cc\n"
        "assert 'cattrs' not in sys.modules\n"
        "from datetime import datetime, timezone\n"
        "t = cc.dumps(stars.Snapshot(at=datetime(2025, 1, 1, tzinfo=timezone.utc)))\n"
        "assert 'cattrs' in sys.modules\n"
        "print(sorted(m for m in ('stars.portfolio', 'stars.recovery', 'stars.backtesting',"
        " 'stars.health') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
