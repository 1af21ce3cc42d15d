"""The golden documents of the ``stars/1`` codec: what the codec writes, and refuses, today.

``python tests/codec_golden.py`` (from the repository root, with ``src`` on the path)
writes ``tests/data/codec-golden/``: documents written by the codec of this commit (the
bundled demo portfolio, generated portfolios, accounts drawn by hypothesis with a fixed
seed) and the refusal messages of the fuzz tests' bad documents and hostile texts. A codec
that replaces it must load every document to a value that writes the same text, and
refuse every bad input with the same error and message (``tests/test_codec_golden.py``).
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


def main() -> None:
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
