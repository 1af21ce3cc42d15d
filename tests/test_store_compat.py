"""Stores written by earlier releases still open and replay (keep this test in every release)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import stars.store
from stars import STARS

DATA = Path(__file__).resolve().parent / "data"


def test_the_first_releases_store_opens_and_replays(tmp_path: Path) -> None:
    copy = tmp_path / "store-v1.db"
    shutil.copyfile(DATA / "store-v1.db", copy)  # opening may migrate it forward
    expected = json.loads((DATA / "store-v1.expected.json").read_text(encoding="utf-8"))
    with stars.store.open(copy) as store:
        assert store.schema_version == stars.store.SCHEMA_VERSION
        assert store.ids() == sorted(expected)
        for account_id, want in expected.items():
            account = store.load(account_id)
            assert (account.stage, account.version, account.owner) == (
                want["stage"],
                want["version"],
                want["owner"],
            )
            # The whole history replays through today's lifecycle to the same stage.
            replayed = STARS.replay(
                account_id,
                account.history,
                snapshots=account.snapshots,
                depths=account.depths,
                owners=account.owners,
            )
            assert replayed.stage == account.stage and replayed.version == account.version
            assert account.history[0].actor.startswith("forgotten person #")  # type: ignore[union-attr]
        assert len(store.feed(limit=1000)) == sum(int(w["version"]) for w in expected.values())
    with stars.store.open(copy, tenant="other") as other:
        assert other.load("acct-0").owner == "zoe"
