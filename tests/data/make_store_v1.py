"""Write ``store-v1.db``: a store written by the first release of ``stars.store``.

Kept as it was written; the test ``tests/test_store_compat.py`` opens a copy of it and
replays every account, in this release and every later one. Do not regenerate it: add
a ``store-v2.db`` beside it when the store's format changes.

Run: ``PYTHONPATH=src python tests/data/make_store_v1.py``
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import stars.store
from stars import STARS, Account, Snapshot, reassign
from stars.depth import record_depth
from stars.io import AccountEvent

HERE = Path(__file__).resolve().parent
T0 = datetime(2025, 1, 6, tzinfo=UTC)


def main() -> None:
    path = HERE / "store-v1.db"
    path.unlink(missing_ok=True)
    expected: dict[str, dict[str, object]] = {}
    with stars.store.open(path, snapshot_every=10) as store:
        for n, stages in enumerate(
            [("sign",), ("sign", "accelerate"), ("sign", "escalate", "lose")]
        ):
            a = Account(f"acct-{n}", name=f"Account {n}", owner="dana", tags={"v1", f"n{n}"})
            for i in range(12 * (n + 1)):
                STARS.observe(
                    a, Snapshot(at=T0 + timedelta(days=i), health=40 + i % 50, metrics={"seats": i})
                )
            at = T0 + timedelta(days=40 * (n + 1))
            for k, trigger in enumerate(stages):
                STARS.fire(
                    a,
                    trigger,
                    at=at + timedelta(days=k),
                    actor="lee",
                    force=True,
                    reason=f"imported step {k}",
                )
            record_depth(a, "basic", at=at + timedelta(days=5))
            reassign(a, "mia", at=at + timedelta(days=6), by="lee", reason="handover")
            store.save(a)
        store.ingest(
            [AccountEvent("acct-0", Snapshot(at=T0 + timedelta(days=400), health=99), id="crm-1")]
        )
        store.forget("lee")
        for a in store.accounts():
            expected[a.id] = {"stage": a.stage, "version": a.version, "owner": a.owner}
    with stars.store.open(path, tenant="other") as other:
        other.save(Account("acct-0", owner="zoe"))
    (HERE / "store-v1.expected.json").write_text(
        json.dumps(expected, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
