"""Documents written, and inputs refused, by the codec when the goldens were recorded.

``tests/data/codec-golden/`` holds what ``stars.io`` wrote before its codec moved to cattrs
(see ``tests/codec_golden.py``): every such document must still load, into a value that
writes the very same text, and every recorded bad input must be refused with the same
error and message, so the ``stars/1`` wire format and its JSON-path errors stay as they are.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from codec_golden import GOLDEN
from stars import StarsError
from stars.io import dumps, from_dict, loads, to_dict

DOCUMENTS: dict[str, str] = json.loads((GOLDEN / "documents.json").read_text(encoding="utf-8"))
REFUSALS: list[dict[str, Any]] = json.loads((GOLDEN / "refusals.json").read_text(encoding="utf-8"))


def test_the_goldens_cover_every_kind_of_document() -> None:
    kinds = {json.loads(text)["type"] for text in DOCUMENTS.values()}
    assert {"Portfolio", "Account", "Snapshot", "TransitionRecord", "AccountEvent"} <= kinds
    assert len(REFUSALS) > 30


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_golden_document_loads_and_writes_the_same_text(name: str) -> None:
    text = DOCUMENTS[name]
    value = loads(text)
    assert dumps(value) == text
    assert to_dict(from_dict(json.loads(text))) == json.loads(text)
    assert loads(text.encode("utf-8")) == value


@pytest.mark.parametrize("case", REFUSALS, ids=lambda case: case["message"][:60])
def test_every_golden_refusal_is_the_same(case: dict[str, Any]) -> None:
    with pytest.raises(StarsError) as err:
        loads(case["text"])
    assert (type(err.value).__name__, str(err.value)) == (case["error"], case["message"])
