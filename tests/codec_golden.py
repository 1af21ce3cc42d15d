"""The golden documents of the ``stars/1`` codec: what the codec writes, and refuses, today.

``python tests/codec_golden.py`` (from the repository root, with ``src`` on the path)
writes ``tests/data/codec-golden/``: documents written by the codec of this commit (the
bundled demo portfolio, generated portfolios, accounts drawn by hypothesis with a fixed
seed) and the refusal messages of the fuzz tests' bad documents and hostile texts. A codec
that replaces it must load every document to a value that writes the same text, and
refuse every bad input with the same error and message (``tests/test_codec_golden.py``).

``python tests/codec_golden.py fuzz`` writes only ``fuzz.json``: what the codec made of
documents the fuzz strategies draw with a fixed seed (mutated accounts and portfolios,
random JSON under every type name, schema-shaped documents of every type, the lifecycle,
portfolio and event refusals) and of values it cannot write. It was recorded with the
hand-written codec, so ``tests/test_codec_cattrs.py`` can hold the cattrs codec to it.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
GOLDEN = HERE / "data" / "codec-golden"


def documents() -> dict[str, Any]:
    """The values whose documents are golden, by name (deterministic)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from stars.demo import generate, load_bundled
    from stars.io import events_of
    from stars.portfolio import Portfolio
    from stars.testing import accounts

    props = importlib.import_module("properties.test_io_props")
    out: dict[str, Any] = {"demo-portfolio": Portfolio(load_bundled())}
    for n, months, seed in ((12, 24, 1), (30, 36, 22)):
        out[f"generated-{n}-{months}-{seed}"] = Portfolio(generate(n, months, seed))
    drawn: list[Any] = []

    @settings(
        max_examples=40,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(accounts(max_events=12), st.data())
    def draw(account: Any, data: Any) -> None:
        drawn.append(props._with_extras(account, data))

    draw()
    for i, account in enumerate(drawn):
        out[f"hypothesis-{i:02d}"] = account
        for j, part in enumerate((*account.snapshots[:2], *account.history[:2])):
            out[f"hypothesis-{i:02d}-part-{j}"] = part
        for j, event in enumerate(events_of(account)[:2]):
            out[f"hypothesis-{i:02d}-event-{j}"] = event
    return out


def refusals() -> list[dict[str, Any]]:
    """The fuzz tests' bad inputs (as JSON text) with today's refusal of each."""
    from stars import StarsError
    from stars.io import loads

    io_tests = importlib.import_module("test_io")
    bad = io_tests.test_bad_account_documents_name_the_path.pytestmark[0].args[1]
    hostile = io_tests.test_hostile_json_is_refused.pytestmark[0].args[1]
    texts = []
    for mutate, _path in bad:
        doc = io_tests.doc_of(io_tests.lived_account())
        mutate(doc)
        texts.append(json.dumps(doc, ensure_ascii=False))
    texts.extend(text for text, _why in hostile if isinstance(text, str))
    out = []
    for text in texts:
        try:
            loads(text)
        except StarsError as err:
            out.append({"text": text, "error": type(err).__name__, "message": str(err)})
        else:  # pragma: no cover - every case is refused
            raise AssertionError(f"not refused: {text[:80]}")
    return out


def _outcome(load: Any, arg: Any, **kw: Any) -> list[Any]:
    """What the codec makes of an input: ``["loaded", text]`` or ``[error, message]``."""
    from stars import StarsError
    from stars.io import dumps

    try:
        value = load(arg, **kw)
    except StarsError as err:
        return [type(err).__name__, str(err)]
    return ["loaded", dumps(value)]


def fuzz_inputs() -> list[tuple[str, str, bool]]:
    """(family, JSON text, check against STARS) for every drawn input (deterministic)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from stars import Account, Event, Lifecycle
    from stars.io import EARLIEST, json_schema, registered_types, to_dict
    from stars.portfolio import Portfolio
    from stars.testing import accounts

    props = importlib.import_module("properties.test_io_props")
    out: list[tuple[str, str, bool]] = []

    def add(family: str, doc: Any, *lifecycles: bool) -> None:
        text = json.dumps(doc, allow_nan=True, ensure_ascii=False)
        out.extend((family, text, lc) for lc in lifecycles or (True,))

    def seeded(n: int) -> Any:
        return settings(
            max_examples=n,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )

    @seeded(150)
    @given(accounts(max_events=8), st.data())
    def mutated_accounts(account: Account, data: Any) -> None:
        add("mutated-account", props._mutate(to_dict(account), data), True, False)

    @seeded(40)
    @given(st.lists(accounts(max_events=4), max_size=3), st.data())
    def mutated_portfolios(members: list[Account], data: Any) -> None:
        unique = {a.id: a for a in members}
        add("mutated-portfolio", props._mutate(to_dict(Portfolio(unique.values())), data))

    @seeded(150)
    @given(props.json_values, st.sampled_from(sorted(registered_types())))
    def random_json(value: Any, kind: str) -> None:
        add("random-json", value)
        add("random-json", {"schema": "stars/1", "type": kind, "x": value})
        add(
            "random-json",
            {"schema": "stars/1", "type": kind, **(value if isinstance(value, dict) else {})},
        )

    mutated_accounts()
    mutated_portfolios()
    random_json()
    for name in sorted(n for n, cls in registered_types().items() if cls is not Lifecycle):
        schema = json_schema(name)

        @seeded(6)
        @given(props._from_schema(schema, schema["$defs"]))
        def shaped(doc: Any) -> None:
            shaped_docs.append(doc)  # noqa: B023 - run at once, in this iteration

        shaped_docs: list[Any] = []

        shaped()
        for one in shaped_docs:
            add(f"schema-shaped-{name}", one, False)
    doc = to_dict(Portfolio([Account("a"), Account("b")]))
    doc["accounts"][1]["id"] = "a"
    key = "k" * 100
    for one in (
        to_dict(Event("teleport", EARLIEST)),
        to_dict(Event("sign", EARLIEST, to="moon")),
        {
            "schema": "stars/1",
            "type": "AccountEvent",
            "account": "a",
            "event": {"type": "Account", "id": "a"},
        },
        doc,
        {**doc, "lifecycle": "custom"},
        {"schema": "stars/1", "type": "Portfolio", "accounts": [], "x": 1},
        {"schema": "stars/1", "type": "Snapshot", "at": "9999-01-01T00:00:00+00:00"},
        {"schema": "stars/1", "type": "Snapshot", key: 1},
        {"schema": "stars/1", "type": "Account", "id": "a", "stage": "pilot"},
        {"schema": "stars/2", "type": "Account", "id": "a"},
        {"schema": "stars/1", "type": "Nope"},
        [1, 2],
    ):
        add("named", one)
    return out


def unwritable() -> dict[str, Any]:
    """Values whose documents cannot be written (a metric made infinite), by name."""
    from stars import Account, Snapshot
    from stars.io import EARLIEST
    from stars.portfolio import Portfolio

    snap = Snapshot(at=EARLIEST, metrics={"x": 1.0})
    object.__setattr__(snap, "metrics", {"x": float("inf")})
    account = Account("a", snapshots=[snap])
    return {"snapshot": snap, "account": account, "portfolio": Portfolio([account])}


def fuzz() -> dict[str, Any]:
    """What the codec of this commit makes of every fuzz input and unwritable value."""
    from stars.io import from_dict, loads, to_dict

    cases = []
    for family, text, checked in fuzz_inputs():
        kw: dict[str, Any] = {} if checked else {"lifecycle": None}
        doc = json.loads(text)
        cases.append(
            {
                "family": family,
                "text": text,
                "lifecycle": checked,
                "from_dict": _outcome(from_dict, doc, **kw),
                "loads": _outcome(loads, text, **kw),
            }
        )
    refused = {name: _outcome(to_dict, value) for name, value in unwritable().items()}
    return {"cases": cases, "unwritable": refused}


def main() -> None:
    if sys.argv[1:] == ["fuzz"]:
        (GOLDEN / "fuzz.json").write_text(
            json.dumps(fuzz(), ensure_ascii=False, indent=0) + "\n", encoding="utf-8"
        )
        return
    from stars.io import dumps

    GOLDEN.mkdir(parents=True, exist_ok=True)
    docs = {name: dumps(value) for name, value in documents().items()}
    (GOLDEN / "documents.json").write_text(
        json.dumps(docs, ensure_ascii=False, indent=0) + "\n", encoding="utf-8"
    )
    (GOLDEN / "refusals.json").write_text(
        json.dumps(refusals(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    sys.path[:0] = [str(HERE)]
    main()
