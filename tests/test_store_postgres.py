"""What only PostgreSQL has: row-level security keeping each tenant to its own rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
import pytest

import stars.store
from stars import STARS, Account, Snapshot
from stars.errors import InvalidValue
from store_support import postgres_url

T0 = datetime(2025, 1, 6, tzinfo=UTC)


def test_row_level_security_keeps_a_tenant_to_its_rows_in_the_database() -> None:
    schema = f"rls_{uuid.uuid4().hex[:10]}"
    admin_url = postgres_url(schema)
    role = f"app_{uuid.uuid4().hex[:10]}"
    with stars.store.open(admin_url, tenant="apac") as admin:  # creates the tables
        secret = Account("acme", owner="apac-owner")
        STARS.observe(secret, Snapshot(at=T0, health=12))
        admin.save(secret)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        for sql in stars.store.postgres_row_level_security(role):
            conn.execute(sql)
    app_url = admin_url.replace("postgresql://postgres:", f"postgresql://{role}:", 1)

    # The store works as the restricted role, within its tenant...
    with stars.store.open(app_url, tenant="emea") as emea:
        mine = Account("acme", owner="emea-owner")
        STARS.observe(mine, Snapshot(at=T0, health=90))
        emea.save(mine)
        assert emea.load("acme").owner == "emea-owner" and len(emea.feed()) == 1

    # ...and the database itself refuses the other tenant's rows, whatever SQL is sent.
    with psycopg.connect(app_url, autocommit=True) as conn:
        conn.execute("SELECT set_config('stars.tenant', 'emea', false)")
        tenants = conn.execute("SELECT DISTINCT tenant FROM stars_changes").fetchall()
        assert tenants == [("emea",)]
        names = {r[0] for r in conn.execute("SELECT name FROM stars_people").fetchall()}
        assert names == {"emea-owner"}
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO stars_people (tenant, name) VALUES ('apac', 'intruder')")
    with psycopg.connect(app_url, autocommit=True) as conn:  # no tenant set: nothing at all
        assert conn.execute("SELECT COUNT(*) FROM stars_subjects").fetchone() == (0,)


def test_the_recipe_refuses_a_role_name_that_is_not_a_plain_name() -> None:
    with pytest.raises(InvalidValue, match="role"):
        stars.store.postgres_row_level_security("app; DROP TABLE x")
