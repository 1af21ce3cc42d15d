"""The PostgreSQL backend: psycopg 3 (private; needs the ``store`` extra).

The feed's pitfall on PostgreSQL: positions come from a sequence, and a sequence hands
out numbers when rows are inserted, not when they commit. Two writers may take 7 and 8,
8 may commit first, and a follower that has read up to 8 would never see 7. So every
writing transaction first locks the changes table in EXCLUSIVE mode (``lock_timeout``
bounds the wait): writers take their positions one transaction at a time, in commit
order, while readers (which only need ACCESS SHARE) are never blocked. A transaction
that rolls back leaves a gap that is never filled, which a follower may skip safely.

A handle scoped to a tenant also sets ``stars.tenant`` on its connection, so a
row-level-security policy (see `stars.store.postgres_row_level_security`) can enforce
the same scope in the database itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from stars.errors import MissingDependency
from stars.store._backend import INSERT_CHANGE, Backend, Conflict

__all__ = ["PostgresBackend"]


class PostgresBackend(Backend):
    """One psycopg connection; every statement runs in an explicit transaction."""

    name = "postgresql"
    serial = "BIGSERIAL PRIMARY KEY"
    bigint = "BIGINT"

    def __init__(self, url: str, tenant: str, lock_timeout: float = 30.0) -> None:
        super().__init__()
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - the store extra is installed in tests
            raise MissingDependency("psycopg", "store") from exc
        self._psycopg = psycopg
        self.lock_timeout = lock_timeout
        self.conn = psycopg.connect(url, autocommit=True)
        self.conn.execute("SELECT set_config('stars.tenant', %s, false)", (tenant,))
        self._depth = 0

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            return self.conn.execute(self._sql(sql), params)
        except self._psycopg.errors.UniqueViolation as exc:
            raise Conflict(str(exc)) from exc

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        try:
            with self.conn.cursor() as cur:
                cur.executemany(self._sql(sql), rows)
        except self._psycopg.errors.UniqueViolation as exc:
            raise Conflict(str(exc)) from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.execute(sql, params).fetchall()  # type: ignore[no-any-return]

    def bulk_changes(self, rows: Sequence[Sequence[Any]]) -> None:
        """Insert change rows with COPY (the driver's fastest path)."""
        if len(rows) < 64:
            self.executemany(INSERT_CHANGE, rows)
            return
        try:
            with (
                self.conn.cursor() as cur,
                cur.copy(
                    "COPY stars_changes (tenant, subject, version, kind, at, schema,"
                    " definition, body, event_id) FROM STDIN"
                ) as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        except self._psycopg.errors.UniqueViolation as exc:
            raise Conflict(str(exc)) from exc

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self.conn.transaction():
            # Writers in commit order (see the module's docstring): the feed never skips.
            self.conn.execute(f"SET LOCAL lock_timeout = '{int(self.lock_timeout * 1000)}ms'")
            self.conn.execute("LOCK TABLE stars_changes IN EXCLUSIVE MODE")
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1

    @contextmanager
    def reading(self) -> Iterator[None]:
        if self._depth:
            yield
            return
        with self.conn.transaction():
            self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield

    @contextmanager
    def migrating(self) -> Iterator[None]:
        with self.conn.transaction():
            # One migrating process at a time (the changes table may not exist yet).
            self.conn.execute("SELECT pg_advisory_xact_lock(7215031)")
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1

    def has_table(self, name: str) -> bool:
        row = self.query("SELECT to_regclass(?)", (name,))
        return row[0][0] is not None

    def close(self) -> None:
        self.conn.close()
