"""Rules of the store, for any input hypothesis finds.

- Idempotent ingestion: any stream with redeliveries leaves the store exactly as the
  same stream without them does.
- The store's hand-written change writer gives the same bytes as the canonical JSON of
  the `stars.io` document.
- Canonical JSON: equal values give identical text, and the text loads back equal.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stars.store
from stars import STARS, Account, OwnerChange, Snapshot, TransitionRecord
from stars.account import DepthPoint
from stars.io import AccountEvent, dumps, loads
from stars.store import _codec
from stars.testing import accounts, snapshots

T0 = datetime(2025, 1, 6, tzinfo=UTC)
#: One instant at three offsets (the store writes each in UTC).
T0S = st.sampled_from(
    [
        T0,
        T0.astimezone(timezone(timedelta(hours=-5, minutes=-30))),
        T0.astimezone(timezone(timedelta(hours=9))),
    ]
)


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[AccountEvent], list[AccountEvent]]:
    """A stream of events with ids, and the same stream with some lines delivered again."""
    events: list[AccountEvent] = []
    for name in draw(
        st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True)
    ):
        account = draw(accounts(max_events=6))
        items = sorted(
            [*account.snapshots, *account.history],
            key=lambda x: (x.at, isinstance(x, TransitionRecord)),
        )
        events += [AccountEvent(name, item, id=f"{name}-{i}") for i, item in enumerate(items)]
    order = draw(st.permutations(range(len(events))))
    # Interleave accounts but keep each account's own order (a stream from one CRM).
    per: dict[str, list[AccountEvent]] = {}
    for e in events:
        per.setdefault(e.account, []).append(e)
    owners = [events[i].account for i in order]
    stream = [per[name].pop(0) for name in owners]
    seed = draw(st.integers(0, 2**16))
    rng = random.Random(seed)
    redelivered = list(stream)
    for e in stream:
        if rng.random() < 0.3:
            redelivered.insert(rng.randint(redelivered.index(e) + 1, len(redelivered)), e)
    return stream, redelivered


def _state(store: stars.store.Store) -> list[tuple[str, int, str, object, str | None]]:
    # What the store holds for each account (the order between accounts may differ:
    # redeliveries move the batch boundaries).
    changes = store.feed(limit=10_000)
    return sorted(
        ((c.account, c.version, c.kind, c.value, c.event_id) for c in changes),
        key=lambda row: (row[0], row[1]),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_redeliveries_change_nothing(pair: tuple[list[AccountEvent], list[AccountEvent]]) -> None:
    stream, redelivered = pair
    with stars.store.open(":memory:") as once, stars.store.open(":memory:") as twice:
        first = once.ingest(stream, batch=7)
        second = twice.ingest(redelivered, batch=7)
        assert _state(once) == _state(twice)
        assert second.duplicates == len(redelivered) - len(stream)
        assert (first.accepted, len(first.rejected)) == (second.accepted, len(second.rejected))


changes = st.one_of(
    snapshots(),
    accounts(max_events=4).flatmap(
        lambda a: st.sampled_from(a.history) if a.history else snapshots()
    ),
    st.builds(
        DepthPoint,
        T0S,
        st.sampled_from(["basic", "exploratory", 'é"\\']),
        st.sampled_from(["agreed", "vendor", "customer"]),
    ),
    st.builds(
        OwnerChange,
        T0S,
        st.text(min_size=1, max_size=5).filter(str.strip),
        st.none() | st.just("dana"),
        st.none() | st.just("mia"),
        st.none() | st.text(min_size=1, max_size=8),
    ),
)


@settings(max_examples=200, deadline=None)
@given(changes)
def test_the_fast_writer_matches_the_canonical_document(item: object) -> None:
    people = {name: i for i, name in enumerate(sorted(set(_codec.people_in(item))), start=3)}
    texts = {pair: i for i, pair in enumerate(sorted(set(_codec.texts_in(item)), key=str), start=7)}
    refs = _codec.Refs(people, texts)
    assert _codec.encode(item, refs) == _codec.encode_generic(item, refs)


@settings(max_examples=200, deadline=None)
@given(snapshots())
def test_equal_values_give_identical_canonical_text(snap: Snapshot) -> None:
    # The same value built with its whole numbers as floats, and its metrics reversed.
    twin = Snapshot(
        at=snap.at,
        health=None if snap.health is None else float(snap.health),
        band=snap.band,
        adoption=snap.adoption,
        nps=None if snap.nps is None else float(snap.nps),
        csat=snap.csat,
        open_tickets=snap.open_tickets,
        days_since_contact=snap.days_since_contact,
        sentiment=snap.sentiment,
        contract_signed=snap.contract_signed,
        metrics=dict(reversed(list(snap.metrics.items()))),
    )
    same = Snapshot(
        **{
            **{
                k: getattr(snap, k)
                for k in (
                    "at",
                    "band",
                    "adoption",
                    "csat",
                    "open_tickets",
                    "days_since_contact",
                    "sentiment",
                    "contract_signed",
                    "metrics",
                )
            },
            "health": snap.health,
            "nps": snap.nps,
        }
    )
    assert twin == same
    text = dumps(twin, canonical=True)
    assert text == dumps(same, canonical=True)
    assert loads(text) == same


def test_a_long_history_loads_to_the_same_account() -> None:
    a = Account("acme")
    for i in range(250):
        STARS.observe(a, Snapshot(at=T0 + timedelta(hours=i), health=i % 100))
    with stars.store.open(":memory:", snapshot_every=16) as store:
        store.save(a)
        assert store.load("acme") == a
