"""A store in an older shape, built by hand, is brought forward when opened and read.

No release has written an older store than ``tests/data/store-v1.db`` yet, so the older
shape here is the one the upgrade machinery is built for, written with raw ``sqlite3``:

- **tables at version 0:** the first release's tables without ``stars_meta`` (the table
  version was not recorded); opening runs the migrations to `SCHEMA_VERSION` and records it.
- **changes under schema ``stars/0``:** a hypothetical earlier document schema whose
  snapshots call health ``score`` and whose transition records say ``from`` and ``to``
  and leave ``forced`` out. The test registers the one upgrade step ``stars/0 -> stars/1``
  in ``stars.store._codec.UPGRADES``, as a release that changes the schema would; reading
  applies it to each change and to a stored state's changes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import stars.store
from stars import STARS, Account, Snapshot, TransitionRecord
from stars.errors import SchemaError
from stars.store import _codec

T0 = datetime(2025, 1, 6, 9, tzinfo=timezone(timedelta(hours=1)))  # a time at +01:00

#: The first release's tables, as its migration created them (without ``stars_meta``).
TABLES = """
CREATE TABLE stars_subjects (tenant TEXT NOT NULL, subject TEXT NOT NULL,
  version INTEGER NOT NULL, n_history INTEGER NOT NULL, n_snapshots INTEGER NOT NULL,
  n_depths INTEGER NOT NULL, n_owners INTEGER NOT NULL, stage TEXT NOT NULL, owner INTEGER,
  header TEXT NOT NULL, PRIMARY KEY (tenant, subject));
CREATE TABLE stars_changes (position INTEGER PRIMARY KEY, tenant TEXT NOT NULL,
  subject TEXT NOT NULL, version INTEGER NOT NULL, kind TEXT NOT NULL, at TEXT NOT NULL,
  schema TEXT NOT NULL, definition TEXT NOT NULL, body TEXT NOT NULL, event_id TEXT,
  UNIQUE (tenant, subject, version));
CREATE INDEX stars_changes_by_tenant ON stars_changes (tenant, position);
CREATE TABLE stars_states (tenant TEXT NOT NULL, subject TEXT NOT NULL,
  version INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (tenant, subject, version));
CREATE TABLE stars_people (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, name TEXT,
  forgotten TEXT);
CREATE UNIQUE INDEX stars_people_by_name ON stars_people (tenant, name);
CREATE TABLE stars_texts (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, person INTEGER,
  digest TEXT NOT NULL, text TEXT);
CREATE UNIQUE INDEX stars_texts_by_digest ON stars_texts (tenant, digest);
CREATE TABLE stars_definitions (id TEXT PRIMARY KEY, name TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE stars_seen (tenant TEXT NOT NULL, event_id TEXT NOT NULL, subject TEXT NOT NULL,
  version INTEGER, outcome TEXT NOT NULL, PRIMARY KEY (tenant, event_id));
CREATE TABLE stars_checkpoints (tenant TEXT NOT NULL, name TEXT NOT NULL,
  position INTEGER NOT NULL, PRIMARY KEY (tenant, name));
"""


def _old_snapshot(at: datetime, score: int, **facts: bool) -> dict[str, Any]:
    band = "green" if score >= 70 else "yellow" if score >= 40 else "red"
    return {"at": at.isoformat(), "band": band, "score": score, **facts}


def _old_record(trigger: str, source: str, dest: str, at: datetime, **more: Any) -> dict[str, Any]:
    return {
        "at": at.isoformat(),
        "cycle": "growth",
        "from": source,
        "to": dest,
        "trigger": trigger,
        **more,
    }


def _upgrade_v0(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """``stars/0`` -> ``stars/1``, as a release that renamed these fields would ship it."""
    body = dict(body)
    if kind == "snapshot" and "score" in body:
        body["health"] = body.pop("score")
    if kind == "transition":
        body["source"] = body.pop("from")
        body["dest"] = body.pop("to")
        body.setdefault("forced", False)
    return body


def _build_v0(path: Path) -> None:
    """Two accounts: acme read from its changes, globex from a stored state plus one change."""
    acme = [
        ("snapshot", T0, _old_snapshot(T0, 81, contract_signed=True, success_metrics_agreed=True)),
        (
            "transition",
            T0 + timedelta(hours=1),
            _old_record("sign", "prospect", "seed", T0 + timedelta(hours=1), actor=2, reason=1),
        ),
        (
            "transition",
            T0 + timedelta(days=2),
            _old_record(
                "accelerate",
                "seed",
                "accelerate",
                T0 + timedelta(days=2),
                forced=True,
                reason=1,
                actor=2,
            ),
        ),
    ]
    globex = [
        ("snapshot", T0, _old_snapshot(T0, 35, contract_signed=True, critical_risk=True)),
        (
            "transition",
            T0 + timedelta(days=1),
            _old_record("sign", "prospect", "seed", T0 + timedelta(days=1)),
        ),
        ("snapshot", T0 + timedelta(days=3), _old_snapshot(T0 + timedelta(days=3), 30)),
    ]
    state = {  # globex after its first two changes, as the first release stored states
        "carried": [True, None, None, None, True],
        "counts": [1, 1, 0, 0],
        "owner": 1,
        "schema": "stars/0",
        "stage": "seed",
        "tails": {
            "depth": [],
            "owner": [],
            "snapshot": [globex[0][2]],
            "transition": [globex[1][2]],
        },
        "version": 2,
    }
    db = sqlite3.connect(path)
    try:
        db.executescript(TABLES)
        db.executemany(
            "INSERT INTO stars_people (id, tenant, name) VALUES (?, '', ?)",
            [(1, "dana"), (2, "lee")],
        )
        digest = hashlib.sha256(b"2\x00signed on paper").hexdigest()
        db.execute(
            "INSERT INTO stars_texts (id, tenant, person, digest, text) VALUES (1, '', 2, ?, ?)",
            (digest, "signed on paper"),
        )
        db.execute("INSERT INTO stars_definitions VALUES ('stars@0', 'stars', '{}')")
        for subject, changes, stage, n_history in (
            ("acme", acme, "accelerate", 2),
            ("globex", globex, "seed", 1),
        ):
            header = {
                "name": subject.title(),
                "owner": 1,
                "since": None,
                "stage": "prospect",
                "tags": ["v0"],
            }
            db.execute(
                "INSERT INTO stars_subjects VALUES ('', ?, ?, ?, ?, 0, 0, ?, 1, ?)",
                (
                    subject,
                    len(changes),
                    n_history,
                    len(changes) - n_history,
                    stage,
                    json.dumps(header),
                ),
            )
            for version, (kind, at, body) in enumerate(changes, start=1):
                db.execute(
                    "INSERT INTO stars_changes (tenant, subject, version, kind, at, schema,"
                    " definition, body) VALUES ('', ?, ?, ?, ?, 'stars/0', 'stars@0', ?)",
                    (subject, version, kind, at.isoformat(), json.dumps(body)),
                )
        db.execute("INSERT INTO stars_states VALUES ('', 'globex', 2, ?)", (json.dumps(state),))
        db.commit()
    finally:
        db.close()


def _expected() -> dict[str, Account]:
    """The same two accounts made today through the lifecycle."""
    acme = Account("acme", name="Acme", owner="dana", tags={"v0"})
    STARS.observe(
        acme, Snapshot(at=T0, health=81, contract_signed=True, success_metrics_agreed=True)
    )
    STARS.fire(acme, "sign", at=T0 + timedelta(hours=1), actor="lee", reason="signed on paper")
    STARS.fire(
        acme,
        "accelerate",
        at=T0 + timedelta(days=2),
        actor="lee",
        force=True,
        reason="signed on paper",
    )
    globex = Account("globex", name="Globex", owner="dana", tags={"v0"})
    STARS.observe(globex, Snapshot(at=T0, health=35, contract_signed=True, critical_risk=True))
    STARS.fire(globex, "sign", at=T0 + timedelta(days=1))
    STARS.observe(globex, Snapshot(at=T0 + timedelta(days=3), health=30))
    return {"acme": acme, "globex": globex}


@pytest.fixture
def v0_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setitem(_codec.UPGRADES, "stars/0", ("stars/1", _upgrade_v0))
    path = tmp_path / "store-v0.db"
    _build_v0(path)
    return path


def _meta(path: Path) -> list[tuple[str, str]]:
    db = sqlite3.connect(path)
    try:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'stars_meta'").fetchall():
            return []
        return db.execute("SELECT key, value FROM stars_meta").fetchall()
    finally:
        db.close()


def test_an_older_store_migrates_forward_and_replays_to_the_same_stages(v0_store: Path) -> None:
    assert _meta(v0_store) == []  # version 0: nothing recorded
    expected = _expected()
    with stars.store.open(v0_store) as store:
        assert store.schema_version == stars.store.SCHEMA_VERSION == 1
        assert store.ids() == ["acme", "globex"]
        for account_id, want in expected.items():
            got = store.load(account_id)
            assert (got.stage, got.version, got.owner) == (want.stage, want.version, want.owner)
            assert [r.trigger for r in got.history] == [r.trigger for r in want.history]
            assert [(r.source, r.dest, r.forced, r.actor, r.reason) for r in got.history] == [
                (r.source, r.dest, r.forced, r.actor, r.reason) for r in want.history
            ]
            assert [s.health for s in got.snapshots] == [s.health for s in want.snapshots]
            assert got.snapshots == want.snapshots and got.tags == want.tags
            # The whole history replays through today's lifecycle to the same stage.
            replayed = STARS.replay(account_id, got.history, snapshots=got.snapshots)
            assert (replayed.stage, replayed.version) == (got.stage, got.version)
        # The feed reads the old changes too, upgraded, in their one order.
        feed = store.feed()
        assert [(c.account, c.version, c.kind, c.schema) for c in feed][:2] == [
            ("acme", 1, "snapshot", "stars/0"),
            ("acme", 2, "transition", "stars/0"),
        ]
        first, second = feed[0].value, feed[1].value
        assert isinstance(first, Snapshot) and first.health == 81
        assert isinstance(second, TransitionRecord) and second.source == "prospect"
        # New changes go on under today's schema.
        globex = store.load("globex")
        STARS.fire(globex, "escalate", at=T0 + timedelta(days=4), force=True, reason="red")
        store.save(globex)
        assert store.feed()[-1].schema == "stars/1"
    assert _meta(v0_store) == [("schema_version", "1")]
    with stars.store.open(v0_store) as again:  # opened again: nothing left to migrate
        assert again.load("globex").stage == "tact"
        assert again.load("acme").history == expected["acme"].history


def test_a_body_no_upgrade_reaches_is_refused_by_name(v0_store: Path) -> None:
    db = sqlite3.connect(v0_store)
    db.execute("UPDATE stars_changes SET schema = 'stars/9' WHERE subject = 'acme' AND version = 2")
    db.commit()
    db.close()
    with stars.store.open(v0_store) as store:
        with pytest.raises(
            SchemaError,
            match=r"acme.*schema: got 'stars/9', expected a schema this release reads \('stars/1', 'stars/0'\)",
        ):
            store.load("acme")
        assert store.load("globex").stage == "seed"  # the other account still reads


def test_a_store_from_a_newer_release_is_refused(v0_store: Path) -> None:
    with stars.store.open(v0_store):
        pass
    db = sqlite3.connect(v0_store)
    db.execute("UPDATE stars_meta SET value = '2' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(SchemaError, match="store schema_version: got 2, expected at most 1"):
        stars.store.open(v0_store)


def test_without_the_upgrade_step_the_old_schema_is_named(tmp_path: Path) -> None:
    path = tmp_path / "store-v0.db"
    _build_v0(path)
    with (
        stars.store.open(path) as store,
        pytest.raises(SchemaError, match="got 'stars/0', expected a schema this release reads"),
    ):
        store.load("acme")
