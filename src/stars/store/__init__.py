"""What only `stars` knows, kept: accounts as append-only changes in SQLite or PostgreSQL.

The CRM stays the system of record for customers. What a service wrapping `stars`
must keep is what only `stars` has: lifecycle histories, snapshots, depth points and
owner changes, each decision with its reason. `open` gives a `Store` over SQLite (the
standard library; the default, embedded) or PostgreSQL (``pip install 'stars-lifecycle[store]'``);
both pass one test suite.

- **Versions:** every change is stored at (account, version), unique. `Store.save`
  appends what the store lacks, atomically, or raises `stars.ConcurrentModification`
  when another writer got there first.
- **Outside events:** `Store.ingest` applies `stars.io.AccountEvent` values through the
  lifecycle; an event id seen before is a counted duplicate, never an error.
- **State plus later changes:** a snapshot of each account's state every
  ``snapshot_every`` changes; `Store.load` reads the latest and the changes after it.
- **A feed:** `Store.feed` gives stored changes in one global order; `Store.relay`
  publishes them (an outbox) with a checkpoint per follower, so only what was stored
  is ever published. `Store.session` stores a unit of work at once, or nothing.
- **People by reference:** names and personal free text live apart from the changes
  (see `PERSONAL`); `Store.forget` erases a person without rewriting history.
- **Tenants:** ``open(url, tenant="emea")`` gives a handle that reads and writes only
  that tenant's rows; `postgres_row_level_security` makes PostgreSQL enforce it too.
- **Evolution:** each change records its schema and lifecycle definition; the store's
  tables migrate forward when opened.

Examples:
    >>> from datetime import datetime, timezone
    >>> import stars.store
    >>> from stars import STARS, Account, Snapshot
    >>> with stars.store.open("sqlite:///:memory:") as store:
    ...     acme = Account("acme", owner="dana")
    ...     _ = STARS.observe(acme, Snapshot(at=datetime(2025, 1, 6, tzinfo=timezone.utc),
    ...                                      health=81))
    ...     store.save(acme)
    ...     store.load("acme").latest.health
    1
    81
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final

from stars.store._codec import PERSONAL
from stars.store._files import ImportResult, import_files
from stars.store._store import Change, Forgotten, IngestResult, Rejected, Session, Store

if TYPE_CHECKING:
    from stars.lifecycle import Lifecycle

__all__ = [
    "PERSONAL",
    "SCHEMA_VERSION",
    "Change",
    "Forgotten",
    "ImportResult",
    "IngestResult",
    "Rejected",
    "Session",
    "Store",
    "import_files",
    "open",
    "postgres_row_level_security",
]

SCHEMA_VERSION: Final = 1
"""The version of the store's tables this release writes."""


def open(
    target: str | os.PathLike[str],
    *,
    tenant: str | None = None,
    lifecycle: Lifecycle | None = None,
    snapshot_every: int = 100,
    timeout: float = 30.0,
) -> Store:
    """Open (and create, or migrate forward) a store.

    Args:
        target: ``"sqlite:///path/to/file.db"``, ``"sqlite:///:memory:"``, a plain path
            (SQLite), or ``"postgresql://user@host/db"`` (PostgreSQL, any libpq URL).
        tenant: Scope the handle to this tenant: it then reads, lists, feeds and writes
            only that tenant's data (``None``: the default tenant).
        lifecycle: The lifecycle changes are made and replayed with (default ``STARS``).
        snapshot_every: Store a snapshot of an account's state every this many changes.
        timeout: Seconds a writer waits for another one before giving up.

    Returns:
        The store handle (close it, or use it in a ``with`` block).

    Raises:
        UnknownName: The URL's scheme is not one the store knows.
        InvalidValue: A bad tenant, ``snapshot_every`` or ``timeout``.
        MissingDependency: PostgreSQL without ``psycopg`` installed.

    Examples:
        >>> import stars.store
        >>> with stars.store.open("sqlite:///:memory:", tenant="emea") as store:
        ...     store.backend, store.tenant, len(store)
        ('sqlite', 'emea', 0)
        >>> stars.store.open("mysql://db")
        Traceback (most recent call last):
        ...
        stars.errors.UnknownName: unknown store URL scheme 'mysql'; known: 'postgres', ...
    """
    from stars import _validate as v
    from stars.errors import InvalidValue, UnknownName
    from stars.lifecycle import STARS

    if tenant is not None:
        v.text("tenant", tenant)
    if (
        isinstance(snapshot_every, bool)
        or not isinstance(snapshot_every, int)
        or snapshot_every < 1
    ):
        raise InvalidValue("snapshot_every", snapshot_every, "a whole number at or above 1")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise InvalidValue("timeout", timeout, "a number of seconds above 0")
    if not isinstance(target, str | os.PathLike):
        raise InvalidValue("target", target, "a store URL or a path")
    text = os.fspath(target)
    scheme, sep, rest = text.partition("://")
    backend: object
    if not sep:
        from stars.store._sqlite import SQLiteBackend

        backend = SQLiteBackend(text, timeout)
    elif scheme == "sqlite":
        from stars.store._sqlite import SQLiteBackend

        path = rest[1:] if rest.startswith("/") else rest
        backend = SQLiteBackend(path or ":memory:", timeout)
    elif scheme in ("postgresql", "postgres"):
        from stars.store._postgres import PostgresBackend

        backend = PostgresBackend(text, tenant or "", timeout)
    else:
        raise UnknownName("store URL scheme", scheme, ["sqlite", "postgresql", "postgres"])
    from stars.store._backend import Backend

    assert isinstance(backend, Backend)
    return Store(
        backend,
        tenant=tenant or "",
        lifecycle=lifecycle if lifecycle is not None else STARS,
        snapshot_every=snapshot_every,
        url=text,
    )


def postgres_row_level_security(role: str) -> list[str]:
    """SQL that makes PostgreSQL itself keep each tenant to its own rows.

    Run it once as the tables' owner, after the store was first opened (so the tables
    exist). ``role`` is the role your service connects as; it must not be a superuser
    or the tables' owner (they bypass row-level security). A store handle opened with
    ``tenant=`` sets ``stars.tenant`` on its connection, and the policies admit only
    rows of that tenant, for reading and for writing; a connection that did not set it
    sees nothing.

    Args:
        role: The service's role name (letters, digits and ``_``).

    Returns:
        The statements, in order.

    Examples:
        >>> from stars.store import postgres_row_level_security
        >>> sql = postgres_row_level_security("crm_service")
        >>> sql[0]
        'ALTER TABLE stars_subjects ENABLE ROW LEVEL SECURITY'
    """
    import re

    from stars.errors import InvalidValue

    if not isinstance(role, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", role):
        raise InvalidValue("role", role, "a role name of letters, digits and _")
    tenant_tables = (
        "stars_subjects",
        "stars_changes",
        "stars_states",
        "stars_people",
        "stars_texts",
        "stars_seen",
        "stars_checkpoints",
    )
    check = "tenant = current_setting('stars.tenant', true)"
    out = []
    for table in tenant_tables:
        out += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS stars_tenant ON {table}",
            f"CREATE POLICY stars_tenant ON {table} FOR ALL TO {role}"
            f" USING ({check}) WITH CHECK ({check})",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}",
        ]
    out += [
        f"GRANT SELECT, INSERT, UPDATE ON stars_meta, stars_definitions TO {role}",
        "GRANT USAGE, SELECT ON SEQUENCE stars_changes_position_seq, stars_people_id_seq,"
        f" stars_texts_id_seq TO {role}",
    ]
    return out
