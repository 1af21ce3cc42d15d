"""The store's contract, run on every backend: SQLite and a real (throwaway) PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import stars.store
from stars import (
    STARS,
    Account,
    ConcurrentModification,
    Snapshot,
    TransitionRecord,
    reassign,
)
from stars.depth import record_depth
from stars.errors import InvalidValue, SchemaError, UnknownName
from stars.io import AccountEvent, write_events
from stars.store import Change, Store
from store_support import BACKENDS, store_url

T0 = datetime(2025, 1, 6, tzinfo=UTC)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_url(request.param, tmp_path)


@pytest.fixture
def opened(url: str) -> Iterator[Callable[..., Store]]:
    handles: list[Store] = []

    def open_(**kwargs: Any) -> Store:
        handle = stars.store.open(url, **kwargs)
        handles.append(handle)
        return handle

    yield open_
    for handle in handles:
        handle.close()


@pytest.fixture
def store(opened: Callable[..., Store]) -> Store:
    return opened()


def busy_account(account_id: str = "acme", changes: int = 12) -> Account:
    """An account with every kind of change: transitions, snapshots, depth, owners."""
    a = Account(account_id, name="Acme Corp", owner="dana", tags={"emea", "smb"}, since=day(-400))
    STARS.observe(a, Snapshot(at=day(0), health=82, contract_signed=True, metrics={"seats": 40}))
    STARS.fire(a, "sign", at=day(0), actor="lee", reason="contract countersigned")
    record_depth(a, "basic", at=day(1))
    for i in range(changes):
        STARS.observe(a, Snapshot(at=day(2 + i), health=60 + i % 30, nps=10.0))
    reassign(a, "mia", at=day(3 + changes), by="lee", reason="dana moved to EMEA")
    STARS.fire(a, "escalate", at=day(4 + changes), actor="mia", force=True, reason="outage")
    return a


# --------------------------------------------------------------------------- versions
def test_an_account_comes_back_equal_with_every_kind_of_change(store: Store) -> None:
    a = busy_account()
    assert store.save(a) == a.version == 17
    back = store.load("acme")
    assert back == a
    assert (back.name, back.owner, sorted(back.tags), back.since) == (
        "Acme Corp",
        "mia",
        ["emea", "smb"],
        day(-400),
    )
    assert [o.owner for o in back.owners] == ["mia"]
    assert back.depths[0].depth == "basic"
    assert store.version("acme") == 17 and "acme" in store and len(store) == 1


def test_an_account_without_changes_keeps_its_stage_and_owner(store: Store) -> None:
    store.save(Account("beta", owner="sam", stage="ascend"))
    back = store.load("beta")
    assert (back.stage, back.owner, back.version) == ("ascend", "sam", 0)


def test_save_appends_only_what_the_store_lacks(store: Store) -> None:
    a = busy_account()
    store.save(a)
    b = store.load("acme")
    STARS.observe(b, Snapshot(at=day(40), health=20))
    assert store.save(b) == 18
    assert [c.version for c in store.feed(after=0)] == list(range(1, 19))
    assert store.load("acme").latest.health == 20  # type: ignore[union-attr]


def test_a_second_writer_gets_concurrent_modification_and_nothing_is_written(
    opened: Callable[..., Store],
) -> None:
    one, two = opened(), opened()
    one.save(busy_account())
    mine, theirs = one.load("acme"), two.load("acme")
    STARS.observe(mine, Snapshot(at=day(50), health=90))
    STARS.observe(theirs, Snapshot(at=day(51), health=10))
    one.save(mine)
    with pytest.raises(ConcurrentModification) as err:
        two.save(theirs)
    assert (err.value.expected, err.value.actual) == (17, 18)
    assert one.load("acme").latest.health == 90  # type: ignore[union-attr]
    # Load again, redo, save: the usual retry.
    again = two.load("acme")
    STARS.observe(again, Snapshot(at=day(51), health=10))
    assert two.save(again) == 19


def test_a_new_account_that_exists_already_is_a_conflict(store: Store) -> None:
    first = Account("acme")
    STARS.observe(first, Snapshot(at=day(0)))
    store.save(first)
    other = Account("acme")
    STARS.observe(other, Snapshot(at=day(1)))
    with pytest.raises(ConcurrentModification, match="expected version 0, but it is at version 1"):
        store.save(other)
    with pytest.raises(ConcurrentModification, match="expected version 5, but it is at version 1"):
        store.save(other, expected_version=5)


def test_save_all_is_all_or_nothing(opened: Callable[..., Store]) -> None:
    one, two = opened(), opened()
    one.save(Account("b"))
    b_mine, b_theirs = one.load("b"), two.load("b")
    STARS.observe(b_theirs, Snapshot(at=day(1)))
    two.save(b_theirs)
    a = Account("a")
    STARS.observe(b_mine, Snapshot(at=day(2)))
    with pytest.raises(ConcurrentModification):
        one.save_all([a, b_mine])
    assert "a" not in one and one.version("b") == 1


def test_bad_arguments_are_refused_naming_the_field(store: Store) -> None:
    with pytest.raises(InvalidValue, match="accounts\\[0\\]"):
        store.save_all(["acme"])  # type: ignore[list-item]
    with pytest.raises(InvalidValue, match="each account once"):
        store.save_all([Account("a"), Account("a")])
    with pytest.raises(InvalidValue, match="after"):
        store.feed(after=-1)
    with pytest.raises(UnknownName, match="unknown account 'nobody'"):
        store.load("nobody")
    assert store.get("nobody") is None


# --------------------------------------------------------------------------- snapshots
def test_load_reads_the_latest_state_and_what_follows(opened: Callable[..., Store]) -> None:
    store = opened(snapshot_every=10)
    a = busy_account(changes=60)
    store.save(a)
    back = store.load("acme")
    # The old snapshots stay in the store until something reads them...
    assert type(back.snapshots).__name__ == "LazyLog"
    assert back.latest == a.latest and back.known() == a.known()
    added = STARS.observe(back, Snapshot(at=day(90), health=99))
    store.save(back)
    # ...and read whole, they are the same.
    again = store.load("acme")
    assert list(again.snapshots) == [*a.snapshots, added]
    assert again.history == a.history and again.stage == a.stage


def test_a_loaded_account_keeps_working_through_the_lifecycle(opened: Callable[..., Store]) -> None:
    store = opened(snapshot_every=5)
    a = busy_account(changes=40)
    store.save(a)
    back = store.load("acme")
    STARS.fire(back, "stabilize", at=day(60), force=True, reason="fixed")
    assert STARS.diagnose(back).stage is not None
    store.save(back)
    assert store.load("acme").stage == "reset"


# --------------------------------------------------------------------------- ingestion
def events_for(account: Account, prefix: str = "e") -> list[AccountEvent]:
    out = []
    items = sorted(
        [*account.snapshots, *account.history],
        key=lambda x: (x.at, isinstance(x, TransitionRecord)),
    )
    for i, item in enumerate(items):
        out.append(AccountEvent(account.id, item, id=f"{prefix}-{account.id}-{i}"))
    return out


def test_a_redelivered_event_is_a_counted_no_op(store: Store) -> None:
    events = events_for(busy_account())
    stream = [*events[:5], events[2], *events[5:], events[0]]
    result = store.ingest(stream)
    assert (result.accepted, result.duplicates, result.rejected) == (len(events), 2, ())
    again = store.ingest(events)
    assert (again.accepted, again.duplicates) == (0, len(events))
    assert store.version("acme") == len(events)


def test_a_bad_event_is_rejected_and_the_batch_goes_on(store: Store) -> None:
    bad = AccountEvent(
        "acme",
        TransitionRecord("sustain", "seed", "ascend", "growth", day(5)),
        id="bad-1",
    )
    good = AccountEvent("beta", Snapshot(at=day(1), health=50), id="good-1")
    result = store.ingest([bad, good])
    assert result.accepted == 1 and result.rejected[0].event_id == "bad-1"
    assert "seed" in result.rejected[0].reason
    # A redelivery of the rejected event is a duplicate too: each id is handled once.
    assert store.ingest([bad]).duplicates == 1


def test_import_files_twice_stores_once(store: Store, tmp_path: Path) -> None:
    a = busy_account()
    path = tmp_path / "events.jsonl"
    write_events(a, path)
    first = stars.store.import_files(store, [path])
    again = stars.store.import_files(store, [path])
    assert first.accepted == first.events > 0 and again.duplicates == again.events
    assert "already stored" in again.summary()
    assert store.load("acme").history == a.history


# --------------------------------------------------------------------------- feed
def test_the_feed_gives_every_change_once_in_order(store: Store) -> None:
    for name in ("a", "b", "c"):
        store.save(busy_account(name, changes=3))
    seen: list[Change] = []
    after = 0
    while True:
        page = store.feed(after=after, limit=4)
        if not page:
            break
        seen.extend(page)
        after = page[-1].position
    assert [c.position for c in seen] == sorted({c.position for c in seen})
    assert len(seen) == 3 * 8 and after == store.last_position()
    assert {c.definition for c in seen} == {store.feed()[0].definition}
    assert seen[0].definition.startswith("STARS@") and seen[0].schema == "stars/1"


def test_relay_publishes_each_stored_change_at_least_once(store: Store) -> None:
    store.save(busy_account(changes=2))
    sent: list[int] = []

    def flaky(change: Change) -> None:
        if change.version == 3 and 3 not in sent:
            sent.append(3)
            raise ConnectionError("webhook down")
        sent.append(change.version)

    with pytest.raises(ConnectionError):
        store.relay("hooks", flaky)
    assert store.checkpoint("hooks") == store.feed()[1].position
    assert store.relay("hooks", flaky) == 5
    assert sent == [1, 2, 3, 3, 4, 5, 6, 7]


# --------------------------------------------------------------------------- sessions
def test_a_session_stores_everything_or_nothing(store: Store) -> None:
    calls: list[str] = []
    with store.session() as s:
        a = s.new("acme", owner="dana")
        s.fire(a, "sign", at=day(0), force=True, reason="paper")
        s.on_commit(lambda: calls.append("published"))
    assert calls == ["published"] and store.load("acme").stage == "seed"
    with pytest.raises(RuntimeError), store.session() as s:  # noqa: PT012
        a = s.load("acme")
        s.observe(a, Snapshot(at=day(3), health=10))
        s.on_commit(lambda: calls.append("never"))
        raise RuntimeError("the request failed")
    assert calls == ["published"] and store.version("acme") == 1


def test_a_session_that_loses_the_race_publishes_nothing(opened: Callable[..., Store]) -> None:
    one, two = opened(), opened()
    one.save(Account("acme"))
    calls: list[str] = []
    with pytest.raises(ConcurrentModification), one.session() as s:  # noqa: PT012
        a = s.load("acme")
        s.observe(a, Snapshot(at=day(1)))
        s.on_commit(lambda: calls.append("sent"))
        b = two.load("acme")
        STARS.observe(b, Snapshot(at=day(2)))
        two.save(b)
    assert calls == [] and one.load("acme").latest.at == day(2)  # type: ignore[union-attr]


# --------------------------------------------------------------------------- people
def test_forget_erases_a_person_without_rewriting_history(store: Store) -> None:
    a = busy_account()
    store.save(a)
    positions = [c.position for c in store.feed()]
    gone = store.forget("lee")
    assert (gone.names, gone.texts) == (1, 2)
    back = store.load("acme")
    assert back.stage == a.stage and back.version == a.version
    assert back.history[0].actor.startswith("forgotten person #")  # type: ignore[union-attr]
    assert back.history[0].reason == "[erased]"
    assert back.owners[0].by == back.history[0].actor and back.owners[0].reason == "[erased]"
    assert back.history[1].actor == "mia" and back.history[1].reason == "outage"
    assert [c.position for c in store.feed()] == positions
    # Replaying the loaded history reaches the same stages.
    assert STARS.replay("acme", back.history).stage == a.stage
    assert store.forget("nobody").names == 0


# --------------------------------------------------------------------------- tenants
def test_two_tenants_with_the_same_ids_never_see_each_other(opened: Callable[..., Store]) -> None:
    emea, apac = opened(tenant="emea"), opened(tenant="apac")
    emea.save(busy_account("acme"))
    apac.save(Account("acme", owner="dana"))
    # load / get / contains / len / ids / version
    assert emea.load("acme").version == 17 and apac.load("acme").version == 0
    assert apac.get("other") is None and "acme" in apac and "other" not in apac
    assert (len(emea), emea.ids(), apac.ids()) == (1, ["acme"], ["acme"])
    assert (emea.version("acme"), apac.version("acme")) == (17, 0)
    # feed / last_position / accounts / portfolio / frames
    assert len(emea.feed()) == 17 and apac.feed() == ()
    assert apac.last_position() == 0 and emea.last_position() > 0
    assert [a.version for a in apac.accounts()] == [0] and len(apac.portfolio()) == 1
    assert apac.to_frames()["history"].height == 0
    # ingest: the same event id in two tenants is two events
    e = AccountEvent("acme", Snapshot(at=day(99)), id="same-id")
    assert emea.ingest([e]).accepted == 1 and apac.ingest([e]).accepted == 1
    # relay / checkpoint
    assert apac.relay("hooks", lambda c: None) == 1 and emea.checkpoint("hooks") == 0
    # forget: one tenant's person is not the other's
    assert apac.forget("lee").names == 0 and emea.load("acme").history[0].actor == "lee"
    # save: a conflict is judged within the tenant
    fresh = Account("acme")
    with pytest.raises(ConcurrentModification):
        apac.save(fresh)
    # sessions
    with apac.session() as s:
        s.observe(s.load("acme"), Snapshot(at=day(100)))
    assert emea.version("acme") == 18 and apac.version("acme") == 2
    default = opened()
    assert len(default) == 0 and default.feed() == ()


# --------------------------------------------------------------------------- imports
def test_import_stars_loads_no_database_driver() -> None:
    code = (
        "import sys, stars, stars.store\n"
        "print(sorted({'sqlite3', 'psycopg'} & {m.split('.')[0] for m in sys.modules}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --------------------------------------------------------------------------- evolution
def test_the_store_refuses_tables_from_a_newer_release(url: str) -> None:
    with stars.store.open(url) as s:
        s._backend.execute("UPDATE stars_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(SchemaError, match="written by a newer stars"):
        stars.store.open(url)


def test_a_change_of_an_unknown_schema_is_named(store: Store) -> None:
    store.save(busy_account())
    store._backend.execute("UPDATE stars_changes SET schema = 'stars/7' WHERE version = 2")
    with pytest.raises(SchemaError, match="stars/7"):
        store.feed()
    assert store.schema_version == 1


# --------------------------------------------------------------------------- files
def test_import_files_reads_documents_and_csv_and_names_what_it_cannot(
    store: Store, tmp_path: Path
) -> None:
    from stars.io import dumps
    from stars.portfolio import Portfolio

    (tmp_path / "book.json").write_text(
        dumps(Portfolio([Account("a"), busy_account("b")])), encoding="utf-8"
    )
    (tmp_path / "accounts.csv").write_text("id,name,stage\nc,Cee,seed\nd,Dee,gold\n", "utf-8")
    (tmp_path / "snaps.csv").write_text(
        "account,at,health\nc,2025-01-06T00:00:00+00:00,55\n", encoding="utf-8"
    )
    result = stars.store.import_files(
        store, [tmp_path / "book.json", tmp_path / "accounts.csv", tmp_path / "snaps.csv"]
    )
    assert (result.files, result.accounts_created, result.rows_rejected) == (3, 3, 1)
    assert result.accepted == 1 and store.load("c").latest.health == 55  # type: ignore[union-attr]
    assert "1 CSV rows rejected" in result.summary()
    assert stars.store.import_files(store, [tmp_path / "book.json"]).accounts_skipped == 2
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(InvalidValue, match="path"):
        stars.store.import_files(store, [tmp_path / "notes.txt"])


def test_open_refuses_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(InvalidValue, match="snapshot_every"):
        stars.store.open(tmp_path / "x.db", snapshot_every=0)
    with pytest.raises(InvalidValue, match="timeout"):
        stars.store.open(tmp_path / "x.db", timeout=-1)
    with pytest.raises(InvalidValue, match="tenant"):
        stars.store.open(tmp_path / "x.db", tenant="")
    with pytest.raises(UnknownName, match="did you mean 'sqlite'"):
        stars.store.open("sqlit:///x.db")
    closed = stars.store.open(tmp_path / "y.db")
    closed.close()
    closed.close()
    with pytest.raises(InvalidValue, match="closed"):
        closed.ids()


def test_a_loaded_long_account_reads_like_the_original_every_way(
    opened: Callable[..., Store],
) -> None:
    import copy
    import pickle

    store = opened(snapshot_every=10)
    a = busy_account(changes=80)
    store.save(a)
    back = store.load("acme")
    snaps = back.snapshots
    assert len(snaps) == len(a.snapshots) and bool(snaps)
    assert list(reversed(snaps))[:3] == list(reversed(a.snapshots))[:3]
    assert snaps[-1] == a.snapshots[-1] and snaps[0] == a.snapshots[0]
    assert snaps[5:8] == tuple(a.snapshots[5:8]) and snaps == tuple(a.snapshots)
    assert hash(snaps) == hash(tuple(a.snapshots)) and repr(snaps).startswith("(Snapshot(")
    with pytest.raises(IndexError):
        snaps[10_000]
    assert pickle.loads(pickle.dumps(back)) == a and copy.deepcopy(back) == a
    assert back.stage_since == a.stage_since


def test_an_untrusted_bulk_import_walks_every_history_first(store: Store) -> None:
    from stars import Cycle, TransitionNotAllowed

    bad = Account(
        "bad",
        stage="ascend",
        history=[TransitionRecord("sustain", "prospect", "ascend", Cycle.GROWTH, day(0))],
    )
    with pytest.raises(TransitionNotAllowed):
        store.import_accounts([busy_account("good"), bad])
    assert len(store) == 0
    assert store.import_accounts([busy_account("good")]) == 1
