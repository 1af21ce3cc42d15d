"""Canonical JSON, for any value hypothesis finds: equal values give identical bytes.

A value and its twin are equal when they differ only in ways equality ignores: each
time given at another UTC offset (the same instant), whole numbers in float fields
given as ``50`` or ``50.0``, mappings built in another key order. Their canonical text
must be byte for byte the same, and it must load back to an equal value. The plain
text keeps what it was given (each time's own offset), and it still loads.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import stars.store
from stars import Account, Snapshot
from stars.io import AccountEvent, dumps, from_dict, loads, to_dict
from stars.testing import accounts, snapshots

#: Offsets from -12:00 to +14:00 in quarter hours (every offset in use today, and more).
OFFSETS = st.integers(-48, 56).map(lambda q: timezone(timedelta(minutes=15 * q)))
#: The document keys that hold times, and those that hold float fields.
TIME_KEYS = frozenset({"at", "since"})
FLOAT_KEYS = frozenset({"health", "adoption", "nps", "csat", "days_since_contact", "sentiment"})

instants = st.builds(
    lambda seconds, micro, tz: (
        datetime(2020, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds, microseconds=micro)
    ).astimezone(tz),
    st.integers(0, 3650 * 86400),
    st.sampled_from([0, 0, 1, 500_000, 999_999]),
    OFFSETS,
)


def _twin_doc(doc: Any, draw: st.DrawFn, key: str | None = None) -> Any:
    """The same document with other offsets, other number forms, keys in another order."""
    if isinstance(doc, dict):
        items = [(k, _twin_doc(v, draw, k)) for k, v in doc.items()]
        if key == "metrics":  # a mapping of floats: any number form, any key order
            items = [(k, _other_form(v, draw)) for k, v in items]
        return dict(draw(st.permutations(items)))
    if isinstance(doc, list):
        return [_twin_doc(v, draw, key) for v in doc]
    if key in TIME_KEYS and isinstance(doc, str):
        return datetime.fromisoformat(doc).astimezone(draw(OFFSETS)).isoformat()
    if key in FLOAT_KEYS:
        return _other_form(doc, draw)
    return doc


def _times(doc: Any, key: str | None = None) -> list[str]:
    """Every time a document holds."""
    if isinstance(doc, dict):
        return [t for k, v in doc.items() for t in _times(v, k)]
    if isinstance(doc, list):
        return [t for v in doc for t in _times(v, key)]
    return [doc] if key in TIME_KEYS and isinstance(doc, str) else []


def _other_form(value: Any, draw: st.DrawFn) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if float(value).is_integer() and abs(value) < 2**53:
        return draw(st.sampled_from([int(value), float(value)]))
    return value


values = st.one_of(
    snapshots(at=instants),
    accounts(max_events=6),
    snapshots(at=instants).map(lambda s: AccountEvent("acme", s, id="crm-1")),
)


@st.composite
def twins(draw: st.DrawFn) -> tuple[Any, Any]:
    value = draw(values)
    twin = from_dict(_twin_doc(to_dict(value), draw))
    return value, twin


@settings(max_examples=150, deadline=None)
@given(twins())
def test_equal_values_give_identical_canonical_bytes(pair: tuple[Any, Any]) -> None:
    value, twin = pair
    assert twin == value
    text = dumps(value, canonical=True)
    assert dumps(twin, canonical=True).encode() == text.encode()
    # The canonical text loads back to an equal value, its times in UTC.
    back = loads(text)
    assert back == value == twin
    assert dumps(back, canonical=True) == text
    assert all(t.endswith("+00:00") for t in _times(json.loads(text)))
    # The plain text keeps each time's own offset and still loads.
    assert loads(dumps(twin)) == value
    assert to_dict(loads(dumps(twin))) == to_dict(twin)


@settings(max_examples=40, deadline=None)
@given(twins().filter(lambda pair: isinstance(pair[0], Account)))
def test_the_store_keeps_equal_accounts_as_identical_changes(pair: tuple[Any, Any]) -> None:
    value, twin = pair
    with stars.store.open(":memory:") as one, stars.store.open(":memory:") as two:
        one.save(value)
        two.save(twin)
        assert one.load(value.id) == value == two.load(twin.id)
        first = [(c.kind, c.version, dumps(c.value, canonical=True)) for c in one.feed()]
        second = [(c.kind, c.version, dumps(c.value, canonical=True)) for c in two.feed()]
        assert first == second
        # What the store gives back is in UTC (the offset a time was made with is not kept).
        for change in one.feed():
            assert change.value.at.utcoffset() == timedelta(0)


def test_one_instant_at_two_offsets_is_one_text() -> None:
    utc = Snapshot(at=datetime(2025, 1, 1, 10, tzinfo=UTC), health=50)
    paris = Snapshot(at=datetime(2025, 1, 1, 11, tzinfo=timezone(timedelta(hours=1))), health=50.0)
    assert utc == paris
    assert dumps(utc) != dumps(paris)  # the plain form keeps each offset...
    assert dumps(utc, canonical=True) == dumps(paris, canonical=True)  # ...the canonical one not
    assert '"at":"2025-01-01T10:00:00+00:00"' in dumps(paris, canonical=True)
