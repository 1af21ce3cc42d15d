"""What the store tests share: a throwaway PostgreSQL (from the pgserver wheel) and store URLs.

One server starts for the whole test session (about two seconds) the first time a test
asks for it and stops when the interpreter exits; each test gets a schema of its own in
it, so tests never see each other's rows.
"""

from __future__ import annotations

import atexit
import functools
import sys
import tempfile
import uuid
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

BACKENDS = ("sqlite", "postgres")


@functools.cache
def _server() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on import
        try:
            import pgserver
        except ImportError:
            # pgserver has wheels up to Python 3.12 (pyproject installs it there); on a newer
            # Python the PostgreSQL half is skipped, with this reason, and SQLite still runs.
            pytest.skip(f"no pgserver wheel for Python {sys.version_info[0]}.{sys.version_info[1]}")

    folder = tempfile.mkdtemp(prefix="stars-pg-")
    server = pgserver.get_server(folder, cleanup_mode="delete")
    atexit.register(server.cleanup)
    return server


def postgres_base_url() -> str:
    """The URL of the session's PostgreSQL server (started on first use)."""
    return str(_server().get_uri())


def postgres_url(schema: str | None = None) -> str:
    """A URL whose connections use a fresh schema of their own (created here)."""
    import psycopg

    schema = schema or f"t_{uuid.uuid4().hex[:12]}"
    base = postgres_base_url()
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    return f"{base}&options={quote(f'-csearch_path={schema}')}"


def store_url(backend: str, folder: Path) -> str:
    """A fresh store URL on ``backend`` ("sqlite" in ``folder``, or "postgres")."""
    if backend == "sqlite":
        return f"sqlite:///{folder / f'store-{uuid.uuid4().hex[:8]}.db'}"
    return postgres_url()
