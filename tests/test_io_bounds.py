"""Bytes and bounds at the edge: canonical JSON, over-long lines and keys, dates too far out."""

from __future__ import annotations

import io
import resource
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import attrs
import pytest

from stars import STARS, Account, BandCutoffs, Event, OwnerChange, Snapshot
from stars.errors import InvalidValue, SchemaError
from stars.io import (
    AccountEvent,
    canonical_json,
    dumps,
    loads,
    read_events,
    register,
    write_events,
)

T0 = datetime(2025, 1, 6, tzinfo=UTC)


def test_canonical_text_is_one_form_for_equal_values() -> None:
    a = Snapshot(at=T0, health=50, metrics={"seats": 40, "arr": 1.5})
    b = Snapshot(at=T0, health=50.0, metrics={"arr": 1.5, "seats": 40.0})
    assert a == b
    assert dumps(a) != dumps(b)  # the plain form keeps what it was given...
    assert dumps(a, canonical=True) == dumps(b, canonical=True)  # ...the canonical one does not
    assert '"health":50,' in dumps(a, canonical=True)
    assert loads(dumps(a, canonical=True)) == a
    assert canonical_json({"x": -0.0, "y": 2.0**60}) == '{"x":0,"y":1.152921504606847e+18}'
    with pytest.raises(InvalidValue, match="indent"):
        dumps(BandCutoffs(), canonical=True, indent=2)


@attrs.frozen
class Reading:
    """A measured value (a test class: sets of them are written sorted, value last)."""

    value: float
    at: datetime


@attrs.frozen
class Readings:
    items: frozenset[Reading]


def test_canonical_sets_sort_alike_whatever_the_number_form_or_offset() -> None:
    register(Readings)
    plus5 = timezone(timedelta(hours=5))
    a = Readings(frozenset({Reading(1, T0), Reading(1.5, T0)}))
    b = Readings(frozenset({Reading(1.0, T0.astimezone(plus5)), Reading(1.5, T0)}))
    assert a == b
    assert dumps(a, canonical=True) == dumps(b, canonical=True)
    assert loads(dumps(b, canonical=True)) == a


def test_a_redelivered_line_is_read_once() -> None:
    e = AccountEvent("acme", Snapshot(at=T0, health=70), id="crm-7")
    out = io.StringIO()
    write_events([e, e, AccountEvent("acme", Snapshot(at=T0 + timedelta(days=1)))], out)
    events = read_events(io.StringIO(out.getvalue()))
    assert [x.id for x in events] == ["crm-7", None]


def test_an_event_id_is_checked() -> None:
    with pytest.raises(InvalidValue, match="id"):
        AccountEvent("acme", Snapshot(at=T0), id="")
    with pytest.raises(InvalidValue, match="at most 200"):
        AccountEvent("acme", Snapshot(at=T0), id="x" * 201)
    old = '{"schema":"stars/1","type":"AccountEvent","account":"a","event":{"type":"Snapshot","at":"2025-01-06T00:00:00+00:00"}}'
    assert loads(old).id is None  # documents written before ids still load


def test_an_over_long_line_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    good = dumps(AccountEvent("acme", Snapshot(at=T0))) + "\n"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(good)
        handle.write('{"schema":"stars/1","pad":"')
        chunk = "x" * (1 << 20)
        for _ in range(200):  # a 200 MB line
            handle.write(chunk)
        handle.write('"}\n')
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(SchemaError, match="line 2: got a line longer than 1048576 bytes"):
        read_events(path)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 50, f"reading grew the process by {grown_mb:.0f} MB"
    with pytest.raises(SchemaError, match="line 1: got a line longer than 10 bytes"):
        read_events(io.StringIO(good), max_line_bytes=10)
    with pytest.raises(SchemaError, match="longer than 10"):
        read_events([good], max_line_bytes=10)


def test_an_error_quotes_a_bounded_prefix_of_a_huge_key() -> None:
    key = "k" * (16 * 1024 * 1024)
    doc = '{"schema":"stars/1","type":"Snapshot","at":"2025-01-06T00:00:00+00:00","' + key + '":1}'
    with pytest.raises(SchemaError) as err:
        loads(doc, max_bytes=32 * 1024 * 1024)
    assert len(str(err.value)) < 400
    assert "16777216 characters" in str(err.value)


@pytest.mark.parametrize(
    "text",
    [
        "9999-06-01T00:00:00+00:00",
        "9998-12-31T22:00:00-05:00",
        "0001-01-02T00:00:00+00:00",
        "0002-01-01T02:00:00+05:00",
    ],
)
def test_times_the_analyses_cannot_handle_are_refused_on_load(text: str) -> None:
    doc = f'{{"schema":"stars/1","type":"Snapshot","at":"{text}"}}'
    with pytest.raises(SchemaError, match="in UTC"):
        loads(doc)


def test_the_edges_that_load_work_in_every_analysis() -> None:
    from stars.portfolio import Portfolio
    from stars.recovery import detect

    for at in (
        datetime(2, 1, 1, tzinfo=UTC),
        datetime(9998, 12, 31, 23, 59, tzinfo=UTC),
        datetime(9998, 12, 31, 18, 59, tzinfo=timezone(timedelta(hours=-5))),
    ):
        snap = loads(dumps(Snapshot(at=at, health=20)))
        a = STARS.replay(
            "a", [Event("sign", at, forced=True, reason="x")], snapshots=[snap], since=at
        )
        p = Portfolio([a])
        p.to_frame()
        p.transition_matrix()
        p.cohorts()
        detect(a)


def test_replay_continues_from_a_given_state() -> None:
    a = Account("acme", owner="dana", tags={"emea"})
    STARS.fire(a, "sign", at=T0, force=True, reason="paper")
    STARS.observe(a, Snapshot(at=T0, health=80, contract_signed=True))
    later = T0 + timedelta(days=30)
    b = STARS.replay(
        "acme",
        [Event("escalate", later, forced=True, reason="outage")],
        snapshots=[Snapshot(at=later, health=15)],
        start=a,
    )
    assert (b.stage, b.version, b.owner, b.tags) == ("tact", 4, "dana", frozenset({"emea"}))
    assert (a.stage, a.version) == ("seed", 2)  # the start is not changed
    assert b.known().contract_signed is True  # type: ignore[union-attr]
    with pytest.raises(InvalidValue, match="the start's id"):
        STARS.replay("other", [], start=a)
    with pytest.raises(InvalidValue, match="name"):
        STARS.replay("acme", [], start=a, name="x")
    change = OwnerChange(later, "lee", "sam")
    with pytest.raises(InvalidValue, match="previous"):
        STARS.replay("acme", [], start=a, owners=[change])
