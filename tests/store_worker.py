"""A writer process for the store's multi-process tests: ``python store_worker.py MODE URL ...``.

- ``rounds URL WRITER ACCOUNTS ROUNDS``: for every account, ROUNDS times: load (or
  create), observe one snapshot marked with this writer and round, save; on
  ConcurrentModification load again and retry. Prints the retries it needed.
- ``batches URL WRITER``: ingest batches of 50 events (10 accounts x 5 snapshots), each
  batch one transaction, forever (the test kills it).
- ``saves URL WRITER COUNT``: COUNT saves of single snapshots to this writer's accounts.
"""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta

import stars.store
from stars import STARS, Account, ConcurrentModification, Snapshot
from stars.io import AccountEvent

T0 = datetime(2025, 1, 6, tzinfo=UTC)


def _next_time(account: Account) -> datetime:
    latest = account.latest
    return T0 if latest is None else latest.at + timedelta(seconds=1)


def rounds(url: str, writer: int, accounts: int, count: int) -> None:
    order = list(range(accounts)) * count
    random.Random(writer).shuffle(order)
    seq = dict.fromkeys(range(accounts), 0)
    retries = 0
    with stars.store.open(url, timeout=60) as store:
        for i in order:
            k = seq[i]
            seq[i] += 1
            while True:
                account = store.get(f"acct-{i:03d}") or Account(f"acct-{i:03d}")
                snap = Snapshot(at=_next_time(account), metrics={"writer": writer, "seq": k})
                STARS.observe(account, snap)
                try:
                    store.save(account)
                    break
                except ConcurrentModification:
                    retries += 1
    print(retries)


def batches(url: str, writer: int) -> None:
    with stars.store.open(url, timeout=60) as store:
        b = 0
        while True:
            events = [
                AccountEvent(
                    f"w{writer}-a{a}",
                    Snapshot(at=T0 + timedelta(minutes=b * 10 + k), metrics={"batch": b}),
                    id=f"w{writer}-b{b}-a{a}-k{k}",
                )
                for a in range(10)
                for k in range(5)
            ]
            store.ingest(events, batch=50)
            print(b, flush=True)
            b += 1


def saves(url: str, writer: int, count: int) -> None:
    with stars.store.open(url, timeout=60) as store:
        accounts = [Account(f"w{writer}-{i}") for i in range(5)]
        for n in range(count):
            account = accounts[n % 5]
            STARS.observe(account, Snapshot(at=T0 + timedelta(seconds=n)))
            store.save(account)


if __name__ == "__main__":
    mode, url, *rest = sys.argv[1:]
    if mode == "rounds":
        rounds(url, int(rest[0]), int(rest[1]), int(rest[2]))
    elif mode == "batches":
        batches(url, int(rest[0]))
    elif mode == "saves":
        saves(url, int(rest[0]), int(rest[1]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
