"""Several processes on one store: nothing lost, nothing duplicated, nothing half-written.

Each test runs on SQLite and on a real PostgreSQL, with writer processes started from
``tests/store_worker.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

import stars.store
from stars.store import Change
from store_support import BACKENDS, store_url

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def worker(*args: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(HERE)])}
    return subprocess.Popen(
        [sys.executable, str(HERE / "store_worker.py"), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    found = store_url(request.param, tmp_path)
    stars.store.open(found).close()  # create the tables before the writers race
    return found


def test_four_processes_writing_the_same_100_accounts_lose_nothing(url: str) -> None:
    accounts, rounds = 100, 3
    procs = [worker("rounds", url, w, accounts, rounds) for w in range(4)]
    retries = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
        retries.append(int(out.strip()))
    with stars.store.open(url) as store:
        assert len(store) == accounts
        for account in store.accounts():
            marks = Counter(
                (int(s.metrics["writer"]), int(s.metrics["seq"])) for s in account.snapshots
            )
            # Every write of every writer is there exactly once...
            assert marks == Counter((w, k) for w in range(4) for k in range(rounds)), account.id
            assert account.version == 4 * rounds
        # ...and every history is a chain: versions 1..n, once each, in position order.
        versions: dict[str, list[int]] = {}
        for change in store.feed(limit=100_000):
            versions.setdefault(change.account, []).append(change.version)
        assert all(v == list(range(1, 4 * rounds + 1)) for v in versions.values())
    assert sum(retries) > 0  # the writers really did race


def test_a_writer_killed_mid_batch_leaves_only_whole_batches(url: str) -> None:
    proc = worker("batches", url, 1)
    assert proc.stdout is not None
    for _ in range(3):  # let three batches commit, then kill it while it writes the next
        assert proc.stdout.readline().strip() != ""
    time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert proc.stderr is not None
    proc.stderr.close()
    with stars.store.open(url) as store:
        per_batch = Counter(
            int(c.value.metrics["batch"])  # type: ignore[union-attr]
            for c in store.feed(limit=100_000)
        )
        assert len(per_batch) >= 3
        assert set(per_batch.values()) == {50}, per_batch  # whole batches, never a part
        # The store still takes writes, and the killed batch can simply be sent again.
        assert all(store.load(f"w1-a{a}").version % 5 == 0 for a in range(10))


def test_a_follower_never_misses_or_repeats_a_change_of_concurrent_writers(url: str) -> None:
    procs = [worker("saves", url, w, 60) for w in range(3)]
    seen: list[Change] = []
    stop = threading.Event()

    def follow() -> None:
        with stars.store.open(url) as store:
            after = 0
            while True:
                page = store.feed(after=after, limit=7)
                seen.extend(page)
                if page:
                    after = page[-1].position
                elif stop.is_set():
                    return

    follower = threading.Thread(target=follow)
    follower.start()
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
    stop.set()
    follower.join(timeout=60)
    with stars.store.open(url) as store:
        everything = [c.position for c in store.feed(limit=100_000)]
    assert len(everything) == 180
    assert [c.position for c in seen] == everything  # each once, in order, none skipped
