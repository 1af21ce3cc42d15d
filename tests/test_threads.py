"""Optimistic concurrency (expected_version) and one Lifecycle shared between threads."""

from __future__ import annotations

import itertools
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from stars import (
    STARS,
    Account,
    ConcurrentModification,
    HookEvent,
    Snapshot,
    TransitionRecord,
)
from stars.io import dumps, loads

T0 = datetime(2025, 1, 1, tzinfo=UTC)
# A loop that force-fires forever: prospect -> seed -> accelerate <-> ascend.
NEXT = {"prospect": "sign", "seed": "accelerate", "accelerate": "sustain", "ascend": "expand"}
THREADS = 8


@pytest.fixture(autouse=True)
def busy_switching() -> Iterator[None]:
    """Switch threads often, so that races would show up."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def run_threads(target: Callable[[int], None]) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def body(i: int) -> None:
        try:
            barrier.wait()
            target(i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors


def assert_consistent(account: Account) -> None:
    """Stage, history and version agree; records chain and are in time order."""
    history = account.history
    assert history[0].source == "prospect"
    for prev, rec in itertools.pairwise(history):
        assert rec.source == prev.dest
        assert rec.at >= prev.at
    assert account.stage == history[-1].dest
    # the account passes the loader's own checks, graph included
    assert loads(dumps(account)) == account


def test_stale_expected_version_is_refused_and_changes_nothing() -> None:
    a = Account("acme")
    STARS.observe(a, Snapshot(at=T0, contract_signed=True), expected_version=0)
    read = a.version
    STARS.fire(a, "sign", at=T0, expected_version=read)  # the first writer wins
    before = (a.stage, a.history, a.snapshots, a.version)
    with pytest.raises(ConcurrentModification) as info:
        STARS.fire(a, "lose", at=T0, reason="gone", expected_version=read)
    assert (info.value.expected, info.value.actual) == (1, 2)
    with pytest.raises(ConcurrentModification):
        STARS.observe(a, Snapshot(at=T0), expected_version=read)
    assert (a.stage, a.history, a.snapshots, a.version) == before
    STARS.fire(a, "lose", at=T0, reason="gone", expected_version=a.version)
    assert (a.stage, a.version) == ("churn", 3)


def test_a_stored_copy_keeps_its_version_for_the_next_request() -> None:
    a = Account("acme")
    STARS.fire(a, "sign", at=T0, force=True, reason="import")
    stored = dumps(a)
    request_1, request_2 = loads(stored), loads(stored)
    STARS.fire(request_1, "accelerate", at=T0, force=True, reason="r1", expected_version=1)
    # request 2 read version 1 too; its write must not silently win against the stored state
    latest = request_1
    with pytest.raises(ConcurrentModification):
        STARS.fire(latest, "lose", at=T0, reason="r2", expected_version=request_2.version)


def test_eight_threads_eight_accounts_one_lifecycle() -> None:
    lc = STARS.evolve()
    seen: Counter[tuple[str, int]] = Counter()
    lock = threading.Lock()

    @lc.after()
    def count(event: HookEvent) -> None:
        assert event.record is not None
        with lock:
            seen[(event.account.id, event.account.history.index(event.record))] += 1

    accounts = [Account(f"acct-{i}") for i in range(THREADS)]
    steps = 60

    def work(i: int) -> None:
        a = accounts[i]
        for n in range(steps):
            lc.observe(a, Snapshot(at=T0 + timedelta(hours=n), health=50 + n % 40))
            lc.fire(
                a,
                NEXT[a.stage],
                at=T0 + timedelta(hours=n),
                actor=f"t{i}",
                force=True,
                reason="load",
            )

    run_threads(work)
    for i, a in enumerate(accounts):
        assert len(a.history) == steps and len(a.snapshots) == steps
        assert a.version == 2 * steps
        assert {r.actor for r in a.history} == {f"t{i}"}
        assert_consistent(a)
    # every record's after-hook ran exactly once
    assert len(seen) == THREADS * steps and set(seen.values()) == {1}


def test_eight_threads_one_account_with_retry_loops() -> None:
    a = Account("shared")
    per_thread = 25
    retries = Counter[int]()

    def work(i: int) -> None:
        done = 0
        while done < per_thread:
            version = a.version  # read the version first, then the stage: a newer
            # stage with an older version is refused, never fired from the wrong stage
            stage = a.stage
            try:
                STARS.fire(
                    a,
                    NEXT[stage],
                    at=T0 + timedelta(minutes=version),
                    actor=f"t{i}",
                    force=True,
                    reason=f"step {done}",
                    expected_version=version,
                )
            except ConcurrentModification:
                retries[i] += 1
                continue
            done += 1

    run_threads(work)
    history = a.history
    assert len(history) == THREADS * per_thread == a.version
    per_actor = Counter(r.actor for r in history)
    assert per_actor == {f"t{i}": per_thread for i in range(THREADS)}
    # no duplicated step: each thread's reasons are step 0..n-1, in order
    for i in range(THREADS):
        mine = [r.reason for r in history if r.actor == f"t{i}"]
        assert mine == [f"step {n}" for n in range(per_thread)]
    assert_consistent(a)
    assert all(isinstance(r, TransitionRecord) for r in history)
    # the version doubles as the clock, so times never go backwards whoever wins
    assert [r.at for r in history] == [T0 + timedelta(minutes=n) for n in range(len(history))]
