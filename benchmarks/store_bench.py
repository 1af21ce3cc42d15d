"""The store scenarios (issue "Where services keep their accounts").

Each figure is stars against the same work written by hand on the same driver:

- ``store_ingest``: outside events through the lifecycle into the store, against
  ``fire``/``observe`` one at a time plus a hand-written ``executemany``.
- ``store_bulk``: a trusted bulk import of already-validated accounts, against the
  driver's fastest path for the same rows (``executemany`` on SQLite, ``COPY`` on
  PostgreSQL).
- ``store_load``: every stored account back, against ``Portfolio.from_frames`` on the
  same data in memory.
- ``store_load_growth``: loading one account with 100,000 changes against one with 100.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import warnings
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks import _graph as g
from benchmarks._harness import Mode, Row, Section, Target, Unavailable, median_time
from stars import STARS, Account, Event, Snapshot, TransitionRecord
from stars.io import AccountEvent

PER_ACCOUNT = 100  # events per account in the ingest and bulk scenarios


def _store() -> Any:
    try:
        import stars.store
    except ImportError as exc:  # pragma: no cover - the store ships with stars
        raise Unavailable("stars.store") from exc
    return stars.store


def _folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="stars-bench-"))


def _history(per: int) -> tuple[list[TransitionRecord], list[Snapshot]]:
    """``per`` changes: records along the legal round trip and snapshots, alternating."""
    triggers = g.replay_triggers(per // 2)
    times = [g.T0 + timedelta(days=7 * k) for k in range(per)]
    records = list(
        STARS.replay(
            "x",
            [
                Event(t, times[2 * k + 1], forced=True, reason="imported")
                for k, t in enumerate(triggers)
            ],
        ).history
    )
    snaps = [Snapshot(at=times[2 * k], health=40 + k % 50) for k in range(per - len(records))]
    return records, snaps


def _events(accounts: int, per: int) -> list[AccountEvent]:
    records, snaps = _history(per)
    items: list[Any] = sorted(
        [*records, *snaps], key=lambda x: (x.at, isinstance(x, TransitionRecord))
    )
    return [
        AccountEvent(f"acct-{i:06d}", item, id=f"crm-{i}-{k}")
        for i in range(accounts)
        for k, item in enumerate(items)
    ]


def _hand_table(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE changes (position INTEGER PRIMARY KEY, subject TEXT NOT NULL,"
        " version INTEGER NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL,"
        " UNIQUE (subject, version))"
    )


def _hand_body(item: Any) -> str:
    if type(item) is TransitionRecord:
        return json.dumps(
            {
                "trigger": item.trigger,
                "source": item.source,
                "dest": item.dest,
                "at": item.at.isoformat(),
                "reason": item.reason,
                "forced": item.forced,
            }
        )
    return json.dumps({"at": item.at.isoformat(), "health": item.health})


# ------------------------------------------------------------------------ ingest
def ingest(mode: Mode) -> Section:
    """1,000,000 outside events (10,000 accounts x 100) ingested into SQLite."""
    store_mod = _store()
    accounts = mode.size(10_000)
    n = accounts * PER_ACCOUNT
    events = _events(accounts, PER_ACCOUNT)
    section = Section(
        "store_ingest",
        "outside events through the lifecycle into the store",
        f"{n:,} events, {accounts:,} accounts, SQLite",
    )

    def stars_run(_: object) -> Any:
        with store_mod.open(_folder() / "s.db") as store:
            result = store.ingest(events, batch=10_000)
            assert result.accepted == n, result
            return store.last_position()

    def by_hand(_: object) -> int:
        conn = sqlite3.connect(_folder() / "h.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        _hand_table(conn)
        live: dict[str, Account] = {}
        rows: list[tuple[Any, ...]] = []
        fire, observe = STARS.fire, STARS.observe

        def flush() -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO changes (subject, version, kind, body) VALUES (?, ?, ?, ?)", rows
            )
            conn.execute("COMMIT")
            rows.clear()

        for e in events:
            account = live.get(e.account)
            if account is None:
                account = live[e.account] = Account(e.account)
            item = e.event
            if type(item) is TransitionRecord:
                fire(account, item.trigger, at=item.at, force=True, reason=item.reason)
                kind = "transition"
            else:
                observe(account, item)
                kind = "snapshot"
            rows.append((e.account, account.version, kind, _hand_body(item)))
            if len(rows) >= 10_000:
                flush()
        flush()
        conn.close()
        return len(live)

    r = mode.heavy_repeats if mode.name == "full" else 1
    t_stars = median_time(stars_run, repeats=r)
    t_hand = median_time(by_hand, repeats=r)
    s = "stars Store.ingest (ids, dedupe, lifecycle, canonical JSON, people by id)"
    h = "Lifecycle.fire / observe one at a time + sqlite3 executemany by hand"
    section.rows = [Row(s, t_stars, n), Row(h, t_hand, n, ref=s)]
    ratio = t_stars / t_hand
    section.targets = [
        Target(
            f"ingesting {n:,} events within 2x of fire plus executemany by hand",
            f"{ratio:.2f}x",
            ratio <= 2.0,
        )
    ]
    section.notes = [
        f"{accounts:,} accounts with {PER_ACCOUNT} events each (half snapshots, half transition "
        "records along a legal loop), account by account, each event with an id; batches of "
        "10,000 events per transaction, one file per run, WAL, synchronous=NORMAL on both sides.",
        "The store also checks every id against what it has seen, stores the ids, writes "
        "canonical JSON with people and reasons by reference, and keeps one row per account.",
    ]
    return section


# ------------------------------------------------------------------------ bulk import
def _accounts(count: int, per: int) -> list[Account]:
    records, snaps = _history(per)
    return [
        STARS.replay(f"acct-{i:06d}", records, snapshots=snaps, owner=f"csm-{i % 50}")
        for i in range(count)
    ]


def bulk(mode: Mode) -> Section:
    """A trusted bulk import of 1,000,000 changes (10,000 accounts x 100), both backends."""
    store_mod = _store()
    count = mode.size(10_000)
    n = count * PER_ACCOUNT
    built = _accounts(count, PER_ACCOUNT)
    section = Section(
        "store_bulk",
        "a trusted bulk import of validated accounts",
        f"{n:,} changes, {count:,} accounts",
    )

    def hand_rows() -> list[tuple[Any, ...]]:
        rows = []
        for a in built:
            for v, item in enumerate([*a.history, *a.snapshots], start=1):
                kind = "transition" if type(item) is TransitionRecord else "snapshot"
                rows.append((a.id, v, kind, _hand_body(item)))
        return rows

    def stars_sqlite(_: object) -> int:
        with store_mod.open(_folder() / "b.db") as store:
            return int(store.import_accounts(built, trusted=True))

    def hand_sqlite(_: object) -> int:
        conn = sqlite3.connect(_folder() / "h.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        _hand_table(conn)
        rows = hand_rows()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO changes (subject, version, kind, body) VALUES (?, ?, ?, ?)", rows
        )
        conn.execute("COMMIT")
        conn.close()
        return len(rows)

    r = mode.heavy_repeats if mode.name == "full" else 1
    s_sql = "stars Store.import_accounts(trusted=True), SQLite"
    h_sql = "sqlite3 executemany of the same changes, encoded by hand"
    t_s = median_time(stars_sqlite, repeats=r)
    t_h = median_time(hand_sqlite, repeats=r)
    section.rows = [Row(s_sql, t_s, n), Row(h_sql, t_h, n, ref=s_sql)]
    section.targets = [
        Target(
            "trusted bulk import within 2x of executemany (SQLite)",
            f"{t_s / t_h:.2f}x",
            t_s / t_h <= 2.0,
        )
    ]
    pg = _postgres()
    if pg is not None:
        url_of, psycopg = pg

        def stars_pg(_: object) -> int:
            with store_mod.open(url_of()) as store:
                return int(store.import_accounts(built, trusted=True))

        def hand_pg(_: object) -> int:
            with psycopg.connect(url_of()) as conn:
                conn.execute(
                    "CREATE TABLE changes (position BIGSERIAL PRIMARY KEY, subject TEXT NOT NULL,"
                    " version BIGINT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL,"
                    " UNIQUE (subject, version))"
                )
                rows = hand_rows()
                with (
                    conn.cursor() as cur,
                    cur.copy("COPY changes (subject, version, kind, body) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
                conn.commit()
                return len(rows)

        s_pg = "stars Store.import_accounts(trusted=True), PostgreSQL"
        h_pg = "psycopg COPY of the same changes, encoded by hand"
        t_sp = median_time(stars_pg, repeats=r)
        t_hp = median_time(hand_pg, repeats=r)
        section.rows += [Row(s_pg, t_sp, n), Row(h_pg, t_hp, n, ref=s_pg)]
        section.targets.append(
            Target(
                "trusted bulk import within 2x of COPY (PostgreSQL)",
                f"{t_sp / t_hp:.2f}x",
                t_sp / t_hp <= 2.0,
            )
        )
    else:
        section.notes.append("PostgreSQL rows skipped: psycopg or pgserver is not installed.")
    section.notes.append(
        f"{count:,} accounts built by Lifecycle.replay ({PER_ACCOUNT // 2} records and "
        f"{PER_ACCOUNT // 2} snapshots each, one owner from 50); the hand-written side encodes "
        "each change with json.dumps of its main fields and writes one table; the store writes "
        "canonical JSON with people and reasons by reference, one row per account, and a "
        "state snapshot every 100 changes."
    )
    return section


_PG: dict[str, Any] = {}


def _postgres() -> tuple[Callable[[], str], Any] | None:
    """A throwaway PostgreSQL (pgserver) and a fresh schema per call, or None."""
    try:
        import psycopg

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver
    except ImportError:
        return None
    if "server" not in _PG:
        _PG["server"] = pgserver.get_server(_folder(), cleanup_mode="delete")
    base = _PG["server"].get_uri()
    counter = [0]

    def url_of() -> str:
        counter[0] += 1
        schema = f"bench_{len(_PG)}_{counter[0]}"
        _PG[schema] = True
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.execute(f"CREATE SCHEMA {schema}")
        return f"{base}&options=-csearch_path%3D{schema}"

    return url_of, psycopg


# ------------------------------------------------------------------------ loading
def load(mode: Mode) -> Section:
    """100,000 stored accounts (1,000,000 changes) back, against from_frames in memory."""
    import polars as pl

    from stars.portfolio import Portfolio

    store_mod = _store()
    count = mode.size(100_000)
    per = 10
    section = Section(
        "store_load",
        "every stored account back",
        f"{count:,} accounts, {count * per:,} changes, SQLite",
    )
    records, _ = _history(2 * per)
    records = records[:per]
    built = [STARS.replay(f"acct-{i:06d}", records, owner=f"csm-{i % 50}") for i in range(count)]
    path = _folder() / "load.db"
    with store_mod.open(path) as store:
        store.import_accounts(built, trusted=True)
    accounts_frame = pl.DataFrame({"id": [a.id for a in built], "owner": [a.owner for a in built]})
    events_frame = pl.DataFrame(
        {
            "account_id": [a.id for a in built for _ in records],
            "trigger": [r.trigger for _ in built for r in records],
            "at": [r.at for _ in built for r in records],
            "reason": [r.reason for _ in built for r in records],
            "forced": [r.forced for _ in built for r in records],
        }
    )

    def stars_load(_: object) -> Any:
        with store_mod.open(path) as store:
            return store.portfolio()

    def stars_read(_: object) -> Any:
        with store_mod.open(path) as store:
            book = store.portfolio()
            for a in book.accounts():
                a.history  # noqa: B018  (reads the records)
            return book

    def frames(_: object) -> Any:
        return Portfolio.from_frames(accounts_frame, events_frame)

    def frames_read(_: object) -> Any:
        book = Portfolio.from_frames(accounts_frame, events_frame)
        for a in book.accounts():
            a.history  # noqa: B018
        return book

    check = stars_read(None)
    assert [a.history for a in check.accounts()[:3]] == [b.history for b in built[:3]]
    assert all(a.stage == built[0].stage for a in check.accounts())
    r = mode.heavy_repeats if mode.name == "full" else 1
    s = "stars Store.portfolio() from SQLite"
    s_read = "stars Store.portfolio(), then every account's history read"
    f = "Portfolio.from_frames on the same data in memory (polars)"
    f_read = "Portfolio.from_frames, then every account's history read"
    section.rows = [
        Row(s, median_time(stars_load, repeats=r), count),
        Row(f, median_time(frames, repeats=r), count, ref=s),
        Row(s_read, median_time(stars_read, repeats=r), count),
        Row(f_read, median_time(frames_read, repeats=r), count, ref=s_read),
    ]
    q, q_read = section.ratio(f), section.ratio(f_read)
    section.targets = [
        Target(
            f"loading {count:,} accounts within 2x of Portfolio.from_frames in memory",
            f"{q:.2f}x",
            q <= 2.0,
        ),
        Target(
            "the same, with every history read on both sides",
            f"{q_read:.2f}x",
            q_read <= 2.0,
        ),
    ]
    section.notes = [
        f"{count:,} accounts with {per} transition records each (forced, with a reason), one "
        "owner from 50. Both sides build accounts whose records are made on first read; the "
        "store reads every account's changes in one query then.",
    ]
    return section


def load_growth(mode: Mode) -> Section:
    """Loading one account with 100,000 changes against one with 100."""
    store_mod = _store()
    long_n = mode.size(100_000, minimum=10_000)
    short_n = 100
    section = Section(
        "store_load_growth",
        "loading one account, few changes against many",
        f"{short_n:,} vs {long_n:,} changes, snapshot every 100",
    )
    path = _folder() / "growth.db"
    with store_mod.open(path, snapshot_every=100) as store:
        for name, size in (("short", short_n), ("long", long_n)):
            records, snaps = _history(size)
            a = STARS.replay(name, records, snapshots=snaps, owner="dana")
            store.save(a)
    handle = store_mod.open(path)
    reps = 200

    def timed(name: str) -> float:
        def run(_: object) -> Any:
            for _ in range(reps):
                got = handle.load(name)
            return got

        return median_time(run, repeats=3 * mode.repeats) / reps

    got = handle.load("long")
    assert got.version == long_n
    assert got.latest is not None
    t_short, t_long = timed("short"), timed("long")
    handle.close()
    s_long = f"stars Store.load @{long_n:,} changes"
    s_short = f"stars Store.load @{short_n:,} changes"
    section.rows = [Row(s_long, t_long, 1), Row(s_short, t_short, 1, ref=s_long)]
    ratio = t_long / t_short
    section.targets = [
        Target(
            f"loading {long_n:,} changes within 2x of {short_n:,} (state snapshots)",
            f"{ratio:.2f}x",
            ratio <= 2.0,
        )
    ]
    section.notes = [
        "Half snapshots, half transition records; a state snapshot every 100 changes keeps the "
        "latest 32 changes of each kind in full, and load reads it plus the changes after it. "
        "Older changes are read once, on the first read that needs them (the whole history).",
    ]
    return section
