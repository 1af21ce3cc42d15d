"""The SQLite backend: the standard library's sqlite3, in WAL mode (private).

SQLite lets one writer in at a time: a writing transaction starts with ``BEGIN
IMMEDIATE``, which takes the write lock at once (waiting up to ``timeout`` seconds
for another process to finish), so positions are handed out in commit order and a
follower of the feed never sees a gap filled in later. Readers never wait for writers
(WAL). Deleted names and texts are overwritten on disk (``secure_delete``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stars.store._backend import Backend, Conflict

__all__ = ["SQLiteBackend"]


class SQLiteBackend(Backend):
    """One sqlite3 connection (autocommit mode, transactions begun by hand)."""

    name = "sqlite"

    def __init__(self, path: str, timeout: float = 30.0) -> None:
        super().__init__()
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(
            path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA secure_delete=ON")
        self.conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            return self.conn.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise Conflict(str(exc)) from exc

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self.conn.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            raise Conflict(str(exc)) from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.execute(sql, params).fetchall()  # type: ignore[no-any-return]

    @contextmanager
    def writing(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[None]:
        if self.conn.in_transaction:  # already inside a write: read what it sees
            yield
            return
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    def has_table(self, name: str) -> bool:
        return bool(
            self.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        )

    def close(self) -> None:
        self.conn.close()
