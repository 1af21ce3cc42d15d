"""What the store asks of a database, and the tables it keeps there (private).

Both backends run the same statements (written with ``?`` placeholders; PostgreSQL's
driver gets ``%s``); what differs is how a connection is opened, how a writing
transaction starts (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a lock on the changes
table, see `stars.store._postgres`), the column types, and which errors mean "another
writer got there first".

The tables, each keyed by tenant first:

- ``stars_meta``: the store's table schema version (migrated forward on open).
- ``stars_subjects``: one row per account: its version, how many changes of each kind
  it holds, its stage, its current owner (by id) and its header (name, tags, since).
- ``stars_changes``: the changes, unique at (tenant, subject, version), each with its
  global ``position`` (the feed's order), kind, time, schema, definition, body and the
  id of the outside event it came from.
- ``stars_states``: snapshots of an account's state every N changes.
- ``stars_people`` and ``stars_texts``: names of people and personal free text, by id.
- ``stars_definitions``: the lifecycle definitions changes were made under.
- ``stars_seen``: the ids of outside events already ingested (and what became of them).
- ``stars_checkpoints``: how far each named follower of the feed has read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final

__all__ = ["SCHEMA_VERSION", "Backend", "Conflict"]

#: The version of the store's tables this release writes (older stores are migrated forward).
SCHEMA_VERSION: Final = 1

TABLES: Final = (
    "stars_meta",
    "stars_subjects",
    "stars_changes",
    "stars_states",
    "stars_people",
    "stars_texts",
    "stars_definitions",
    "stars_seen",
    "stars_checkpoints",
)


class Conflict(Exception):
    """A unique key was taken by another writer (turned into ConcurrentModification)."""


class Backend:
    """One connection to one database, used under one lock (no user code runs under it)."""

    name = "backend"
    #: Column types: an auto-numbered key, a big integer, text.
    serial = "INTEGER PRIMARY KEY"
    bigint = "INTEGER"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.closed = False

    # -- what a backend provides -------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One writing transaction: writers queue here, one at a time, in commit order."""
        raise NotImplementedError

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One reading transaction (a consistent view where the database offers one)."""
        raise NotImplementedError

    @contextmanager
    def migrating(self) -> Iterator[None]:
        """One transaction that creates or migrates the tables (one process at a time)."""
        with self.writing():
            yield

    def has_table(self, name: str) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def insert_returning_ids(self, sql: str, rows: Sequence[Sequence[Any]]) -> list[int]:
        """Insert rows one statement each, ``RETURNING`` the first column."""
        out = []
        for row in rows:
            got = self.query(sql, row)
            out.append(int(got[0][0]))
        return out

    def bulk_changes(self, rows: Sequence[Sequence[Any]]) -> None:
        """Insert change rows, the fastest way the driver offers."""
        self.executemany(INSERT_CHANGE, rows)

    # -- the tables -----------------------------------------------------------------
    def create_statements(self) -> list[str]:
        s, b = self.serial, self.bigint
        return [
            "CREATE TABLE IF NOT EXISTS stars_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS stars_subjects ("
            " tenant TEXT NOT NULL, subject TEXT NOT NULL,"
            f" version {b} NOT NULL, n_history {b} NOT NULL, n_snapshots {b} NOT NULL,"
            f" n_depths {b} NOT NULL, n_owners {b} NOT NULL,"
            f" stage TEXT NOT NULL, owner {b}, header TEXT NOT NULL,"
            " PRIMARY KEY (tenant, subject))",
            "CREATE TABLE IF NOT EXISTS stars_changes ("
            f" position {s}, tenant TEXT NOT NULL, subject TEXT NOT NULL,"
            f" version {b} NOT NULL, kind TEXT NOT NULL, at TEXT NOT NULL,"
            " schema TEXT NOT NULL, definition TEXT NOT NULL, body TEXT NOT NULL,"
            " event_id TEXT,"
            " UNIQUE (tenant, subject, version))",
            "CREATE INDEX IF NOT EXISTS stars_changes_by_tenant"
            " ON stars_changes (tenant, position)",
            "CREATE TABLE IF NOT EXISTS stars_states ("
            f" tenant TEXT NOT NULL, subject TEXT NOT NULL, version {b} NOT NULL,"
            " body TEXT NOT NULL, PRIMARY KEY (tenant, subject, version))",
            "CREATE TABLE IF NOT EXISTS stars_people ("
            f" id {s}, tenant TEXT NOT NULL, name TEXT, forgotten TEXT)",
            "CREATE UNIQUE INDEX IF NOT EXISTS stars_people_by_name ON stars_people (tenant, name)",
            "CREATE TABLE IF NOT EXISTS stars_texts ("
            f" id {s}, tenant TEXT NOT NULL, person {b}, digest TEXT NOT NULL, text TEXT)",
            "CREATE UNIQUE INDEX IF NOT EXISTS stars_texts_by_digest"
            " ON stars_texts (tenant, digest)",
            "CREATE TABLE IF NOT EXISTS stars_definitions ("
            " id TEXT PRIMARY KEY, name TEXT NOT NULL, body TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS stars_seen ("
            " tenant TEXT NOT NULL, event_id TEXT NOT NULL, subject TEXT NOT NULL,"
            f" version {b}, outcome TEXT NOT NULL, PRIMARY KEY (tenant, event_id))",
            "CREATE TABLE IF NOT EXISTS stars_checkpoints ("
            f" tenant TEXT NOT NULL, name TEXT NOT NULL, position {b} NOT NULL,"
            " PRIMARY KEY (tenant, name))",
        ]

    #: Forward migrations: ``(to_version, statements)``, applied in order on open.
    def migrations(self) -> list[tuple[int, list[str]]]:
        return [(1, self.create_statements())]


INSERT_CHANGE: Final = (
    "INSERT INTO stars_changes"
    " (tenant, subject, version, kind, at, schema, definition, body, event_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
