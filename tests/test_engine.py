"""Regression tests for issue 16: one engine for Lifecycle, Journey and RecoveryProcess.

Each ``test_finding_<n>_...`` pins one of the ten findings of the issue: (1) no deadlock
between linked machines, (2) one winner per ``expected_version``, (3) writes atomic per
subject whoever makes them, (4) no lock held while hooks run, (5) every hook of a phase
runs and the failures come back together, (6) instants compared as instants, (7) an
explicit clock and never the machine's local time, (8) any stage and trigger names,
(9) versions checked when built or loaded, (10) flat cost and immutable views. The last
test runs a seeded random mix of writes from several threads and checks the invariants
every account keeps.

Threads are daemons started behind a barrier and joined with a timeout, so a deadlock
fails its test instead of hanging the run. No test asserts how long something took.
"""

from __future__ import annotations

import copy
import itertools
import json
import pickle
import random
import statistics
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from stars import (
    STARS,
    Account,
    ConcurrentModification,
    Event,
    HookEvent,
    Lifecycle,
    Snapshot,
    StageDef,
    TransitionDef,
)
from stars.account import DepthPoint, TransitionRecord
from stars.depth import record_depth
from stars.errors import (
    HookFailed,
    InvalidValue,
    OutOfOrder,
    StarsError,
    TransitionNotAllowed,
    TransitionVetoed,
)
from stars.io import dumps, loads
from stars.journey import CustomerJourney, Journey, Phase, PhaseRecord
from stars.lifecycle import STARS_STAGES, STARS_TRANSITIONS
from stars.recovery import RecoveryEvent, RecoveryPlan, RecoveryProcess, link_lifecycle

if TYPE_CHECKING:  # the event type is new in the engine; only annotations name it
    from stars.journey import JourneyEvent

T0 = datetime(2025, 1, 1, tzinfo=UTC)
THREADS = 8
# A loop that force-fires forever: prospect -> seed -> accelerate <-> ascend.
NEXT = {"prospect": "sign", "seed": "accelerate", "accelerate": "sustain", "ascend": "expand"}
LANDS = {"prospect": "seed", "seed": "accelerate", "accelerate": "ascend", "ascend": "accelerate"}
NEW_YORK = ZoneInfo("America/New_York")
# 2025-11-02: New York falls back from 02:00 EDT to 01:00 EST, so 01:00-01:59 happens twice.
EDT_0155 = datetime(2025, 11, 2, 1, 55, fold=0, tzinfo=NEW_YORK)  # 05:55 UTC
EST_0105 = datetime(2025, 11, 2, 1, 5, fold=1, tzinfo=NEW_YORK)  # 06:05 UTC, 10 min later
EST_0110 = datetime(2025, 11, 2, 1, 10, fold=1, tzinfo=NEW_YORK)  # 06:10 UTC, 15 min later


# --------------------------------------------------------------------------- helpers
@pytest.fixture
def busy_switching() -> Iterator[None]:
    """Switch threads every microsecond, so that races show up."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def run_together(
    targets: Sequence[Callable[[], object]], *, timeout: float = 30.0
) -> list[Exception]:
    """Run every target in its own daemon thread, released at once by a barrier.

    Fails if any thread is still running ``timeout`` seconds after the start (a
    deadlock); returns the exceptions the targets raised, in no particular order.
    """
    barrier = threading.Barrier(len(targets))
    errors: list[Exception] = []
    lock = threading.Lock()

    def body(target: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=timeout)
            target()
        except Exception as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=body, args=(t,), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = sum(thread.is_alive() for thread in threads)
    assert stuck == 0, (
        f"{stuck} of {len(threads)} threads still blocked after {timeout} s: deadlock"
    )
    return errors


def utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


def assert_time_ordered(what: str, times: Sequence[datetime]) -> None:
    instants = [utc(t) for t in times]
    late = [i for i in range(1, len(instants)) if instants[i] < instants[i - 1]]
    assert not late, f"{what} out of time order at {late[:10]}"


def assert_invariants(account: Account, initial: str = "prospect") -> None:
    """Version counts every stored change; history is a chain in time order."""
    history = account.history
    assert account.version == len(history) + len(account.snapshots) + len(account.depths), (
        account.version,
        len(history),
        len(account.snapshots),
        len(account.depths),
    )
    if history:
        assert history[0].source == initial
        assert history[-1].dest == account.stage
    broken = [i for i in range(1, len(history)) if history[i].source != history[i - 1].dest]
    assert not broken, f"{len(broken)} records do not start where the previous ended: {broken[:10]}"
    assert_time_ordered("history", [r.at for r in history])
    assert_time_ordered("snapshots", [s.at for s in account.snapshots])
    assert_time_ordered("depths", [d.at for d in account.depths])


def state(account: Account) -> tuple[object, ...]:
    return (account.stage, tuple(account.history), tuple(account.snapshots), account.version)


def two_records() -> list[TransitionRecord]:
    """prospect -sign-> seed -accelerate-> accelerate, forced."""
    return [
        TransitionRecord("sign", "prospect", "seed", "growth", T0, reason="import", forced=True),
        TransitionRecord(
            "accelerate", "seed", "accelerate", "growth", T0, reason="import", forced=True
        ),
    ]


# --------------------------------------------------------------------------- finding 1
def test_finding_1_linked_recovery_and_lifecycle_hooks_do_not_deadlock() -> None:
    """Closing a plan (lifecycle fire inside a recovery hook) while escalating another account
    (recovery open inside a lifecycle hook) finishes; it used to lock the two machines' locks
    in opposite orders."""
    lc = STARS.evolve()
    proc = RecoveryProcess()
    link_lifecycle(proc, lc, enabled=True)
    opened: list[str] = []

    @lc.on_enter("tact")
    def open_a_plan(event: HookEvent) -> None:
        time.sleep(0.001)  # long enough for the other thread to be inside its own hooks
        opened.append(proc.open(event.account, at=event.at).account_id)

    @proc.before("close")
    def slow_close(event: RecoveryEvent) -> None:
        time.sleep(0.001)

    t1 = T0 + timedelta(days=1)
    for trial in range(50):
        a1 = Account(f"closing-{trial}", stage="tact", snapshots=[Snapshot(at=T0, health=80)])
        a2 = Account(f"escalating-{trial}", stage="ascend", snapshots=[Snapshot(at=T0, health=10)])
        plan = proc.open(a1.id, at=T0)
        for trigger in ("analyze", "execute", "monitor", "prevent"):
            plan = proc.fire(plan, trigger, at=T0, force=True, reason="set up")
        errors = run_together(
            [
                partial(proc.fire, plan, "close", at=t1, account=a1, force=True, reason="done"),
                partial(lc.fire, a2, "escalate", at=t1),
            ],
            timeout=10.0,
        )
        assert not errors, f"trial {trial}: {errors!r}"
        # the link moved a1 out of tact; the enter-hook opened a plan for a2
        assert (a1.stage, a2.stage) == ("reset", "tact")
        assert opened[-1] == a2.id
        assert_invariants(a1, initial="tact")
        assert_invariants(a2, initial="ascend")
    assert len(opened) == 50


# --------------------------------------------------------------------------- finding 2
def _advance_once(
    journey: Journey, j: CustomerJourney, version: int, outcomes: list[str], lock: threading.Lock
) -> None:
    try:
        journey.advance(j, at=T0, adoption=0.9, expected_version=version)
    except ConcurrentModification:
        outcome = "stale"
    else:
        outcome = "won"
    with lock:
        outcomes.append(outcome)


@pytest.mark.usefixtures("busy_switching")
def test_finding_2_journey_expected_version_has_exactly_one_winner() -> None:
    """Eight writers with the same expected_version: one wins, seven get ConcurrentModification,
    and the journey left behind is one that CustomerJourney itself accepts."""
    journey = Journey()
    bad: list[str] = []
    trials = 100
    for trial in range(trials):
        j = CustomerJourney(f"j-{trial}", phase="implementation")
        outcomes: list[str] = []
        lock = threading.Lock()
        read = j.version
        errors = run_together(
            [partial(_advance_once, journey, j, read, outcomes, lock) for _ in range(THREADS)]
        )
        if errors or sorted(outcomes) != ["stale"] * (THREADS - 1) + ["won"]:
            bad.append(f"trial {trial}: {sorted(outcomes)} {errors!r:.200}")
        try:
            CustomerJourney(j.account_id, phase=j.phase, history=j.history, version=j.version)
        except StarsError as err:
            bad.append(f"trial {trial}: the journey no longer builds: {err}")
        if (j.phase, len(j.history), j.version) != (Phase.PERFORMANCE, 1, 1):
            bad.append(f"trial {trial}: {j!r}")
    assert not bad, f"{len(bad)} problems in {trials} trials: {bad[:5]}"


# --------------------------------------------------------------------------- finding 3
@pytest.mark.usefixtures("busy_switching")
def test_finding_3_record_depth_from_many_threads_loses_nothing() -> None:
    """8 threads x 500 record_depth calls: every successful call is stored and counted once."""
    a = Account("deep")
    clock = itertools.count(1)
    stored = [0] * THREADS

    def work(i: int) -> None:
        for _ in range(500):
            try:
                record_depth(a, "basic", T0 + timedelta(seconds=next(clock)))
            except OutOfOrder:  # another thread stored a later time first
                continue
            stored[i] += 1

    errors = run_together([partial(work, i) for i in range(THREADS)])
    assert not errors, errors[:5]
    total = sum(stored)
    assert total > 0
    assert len(a.depths) == total
    assert a.version == total
    assert_invariants(a)


@pytest.mark.usefixtures("busy_switching")
def test_finding_3_two_lifecycles_firing_on_one_account_keep_the_chain() -> None:
    """STARS and a copy of it force-fire on one account from 8 threads: the lock that
    counts is the account's, so the history stays a chain and the version counts it."""
    a = Account("shared")
    lifecycles = (STARS, STARS.evolve())
    clock = itertools.count(1)
    per_thread = 250
    fired = [0] * THREADS

    def work(i: int) -> None:
        lc = lifecycles[i % 2]
        while fired[i] < per_thread:
            stage = a.stage
            try:
                lc.fire(
                    a,
                    NEXT[stage],
                    at=T0 + timedelta(seconds=next(clock)),
                    actor=f"t{i}",
                    force=True,
                    reason="load",
                )
            except (ConcurrentModification, OutOfOrder, TransitionNotAllowed):
                continue  # someone else moved first: read again and retry
            fired[i] += 1

    errors = run_together([partial(work, i) for i in range(THREADS)])
    assert not errors, errors[:5]
    assert len(a.history) == THREADS * per_thread
    assert a.version == len(a.history) + len(a.snapshots)
    assert_invariants(a)
    assert loads(dumps(a)) == a


def test_finding_3_a_write_while_hooks_run_makes_the_fire_stale() -> None:
    """Another write between the start of fire and its commit: ConcurrentModification, and
    the fire changes nothing (the other write stays)."""
    lc = STARS.evolve()
    a = Account("raced")

    @lc.before("sign")
    def someone_else_writes(event: HookEvent) -> None:
        lc.observe(event.account, Snapshot(at=T0, health=70))

    with pytest.raises(ConcurrentModification):
        lc.fire(a, "sign", at=T0, force=True, reason="signed")
    assert (a.stage, len(a.history), len(a.snapshots), a.version) == ("prospect", 0, 1, 1)


def test_finding_3_record_depth_checks_expected_version() -> None:
    """record_depth takes expected_version like fire and observe; a stale one changes nothing."""
    a = Account("deep")
    record_depth(a, "basic", T0, expected_version=0)
    with pytest.raises(ConcurrentModification):
        record_depth(a, "collaborative", T0, expected_version=0)
    assert (len(a.depths), a.version) == (1, 1)
    point = record_depth(a, "collaborative", T0, "vendor", expected_version=1)
    assert isinstance(point, DepthPoint)
    assert (point.side, len(a.depths), a.version) == ("vendor", 2, 2)


# --------------------------------------------------------------------------- finding 4
@pytest.mark.parametrize(
    "kind", ["lifecycle-after", "lifecycle-before", "recovery-after", "journey-after"]
)
def test_finding_4_hooks_on_different_subjects_run_at_the_same_time(kind: str) -> None:
    """Eight hooks meet at one barrier, which only opens if all eight run at once: no lock
    (lifecycle-wide or other) is held while a hook runs."""
    barrier = threading.Barrier(THREADS, timeout=5)
    met: list[object] = []
    lock = threading.Lock()

    def meet(event: object) -> None:
        barrier.wait()  # BrokenBarrierError after 5 s if the hooks are serialised
        with lock:
            met.append(event)

    actions: list[Callable[[], object]]
    if kind.startswith("lifecycle"):
        lc = STARS.evolve()
        if kind == "lifecycle-after":
            lc.after()(meet)
        else:
            lc.before()(meet)
        accounts = [Account(f"acct-{i}") for i in range(THREADS)]
        actions = [partial(lc.fire, a, "sign", at=T0, force=True, reason="load") for a in accounts]
    elif kind == "recovery-after":
        proc = RecoveryProcess()
        proc.after("open")(meet)
        actions = [partial(proc.open, f"acct-{i}", at=T0) for i in range(THREADS)]
    else:
        journey = Journey(after=[meet])
        journeys = [CustomerJourney(f"acct-{i}") for i in range(THREADS)]
        actions = [partial(journey.advance, j, at=T0) for j in journeys]
    errors = run_together(actions)
    assert not errors, [repr(e.__cause__ or e) for e in errors]
    assert len(met) == THREADS


# --------------------------------------------------------------------------- finding 5
def test_finding_5_post_commit_phases_run_in_documented_order() -> None:
    """enter(stage), after("*"), after(trigger), on_cycle(cycle), in that order."""
    lc = STARS.evolve()
    order: list[str] = []
    lc.on_cycle("growth")(lambda event: order.append("cycle"))
    lc.after("sign")(lambda event: order.append("after:sign"))
    lc.after()(lambda event: order.append("after:*"))
    lc.on_enter("seed")(lambda event: order.append("enter:seed"))
    lc.on_exit("prospect")(lambda event: order.append("exit:prospect"))
    lc.before("sign")(lambda event: order.append("before:sign"))
    lc.before()(lambda event: order.append("before:*"))
    lc.fire(Account("a"), "sign", at=T0, force=True, reason="signed")
    assert order == [
        "before:*",
        "before:sign",
        "exit:prospect",
        "enter:seed",
        "after:*",
        "after:sign",
        "cycle",
    ]


def test_finding_5_a_failing_after_hook_does_not_skip_the_others() -> None:
    """Three after-hooks, the first raises: all three ran, the record stands, and HookFailed
    carries the record and the one error."""
    lc = STARS.evolve()
    boom = ValueError("audit store down")
    ran: list[str] = []

    @lc.after()
    def first(event: HookEvent) -> None:
        ran.append("first")
        raise boom

    lc.after()(lambda event: ran.append("second"))
    lc.after()(lambda event: ran.append("third"))
    a = Account("a")
    with pytest.raises(HookFailed) as info:
        lc.fire(a, "sign", at=T0, force=True, reason="signed")
    assert ran == ["first", "second", "third"]
    assert (a.stage, len(a.history), a.version) == ("seed", 1, 1)
    assert info.value.record == a.history[-1]
    assert info.value.errors == (boom,)
    assert info.value.__cause__ is boom


def test_finding_5_a_failing_enter_hook_does_not_skip_after_and_cycle_hooks() -> None:
    """An enter-hook raises: the after- and cycle-hooks still run (the outbox, the audit)."""
    lc = STARS.evolve()
    boom = KeyError("crm")
    ran: list[str] = []

    @lc.on_enter("seed")
    def enter(event: HookEvent) -> None:
        raise boom

    lc.after()(lambda event: ran.append("after"))
    lc.on_cycle("growth")(lambda event: ran.append("cycle"))
    a = Account("a")
    with pytest.raises(HookFailed) as info:
        lc.fire(a, "sign", at=T0, force=True, reason="signed")
    assert ran == ["after", "cycle"]
    assert info.value.errors == (boom,)
    assert info.value.record == a.history[-1]
    assert a.stage == "seed"


def test_finding_5_every_failure_comes_back_in_run_order() -> None:
    """Two hooks raise (enter, then after): both errors, in run order; the first is the cause."""
    lc = STARS.evolve()
    first, second = RuntimeError("enter failed"), ValueError("after failed")
    ran: list[str] = []

    @lc.on_enter("seed")
    def enter(event: HookEvent) -> None:
        raise first

    @lc.after("sign")
    def after(event: HookEvent) -> None:
        raise second

    lc.on_cycle("growth")(lambda event: ran.append("cycle"))
    a = Account("a")
    with pytest.raises(HookFailed) as info:
        lc.fire(a, "sign", at=T0, force=True, reason="signed")
    assert ran == ["cycle"]
    assert info.value.errors == (first, second)
    assert info.value.__cause__ is first
    assert info.value.record is a.history[-1]


def test_finding_5_before_hooks_all_run_and_a_veto_changes_nothing() -> None:
    """Two before-hooks, the first raises: the second still runs, exit-hooks do not, the
    transition is vetoed with every error, and nothing changes."""
    lc = STARS.evolve()
    no = PermissionError("no budget")
    ran: list[str] = []

    @lc.before()
    def veto(event: HookEvent) -> None:
        raise no

    lc.before("sign")(lambda event: ran.append("before:sign"))
    lc.on_exit("prospect")(lambda event: ran.append("exit"))
    a = Account("a")
    STARS.observe(a, Snapshot(at=T0, contract_signed=True))
    before = state(a)
    with pytest.raises(TransitionVetoed) as info:
        lc.fire(a, "sign", at=T0)
    assert ran == ["before:sign"]
    assert info.value.errors == (no,)
    assert state(a) == before


def test_finding_5_exit_hooks_all_run_and_a_veto_changes_nothing() -> None:
    """Two exit-hooks, the first raises: both ran, the transition is vetoed, nothing changes."""
    lc = STARS.evolve()
    no = ValueError("not yet")
    ran: list[str] = []

    @lc.on_exit("prospect")
    def veto(event: HookEvent) -> None:
        ran.append("exit:1")
        raise no

    lc.on_exit("prospect")(lambda event: ran.append("exit:2"))
    lc.on_enter("seed")(lambda event: ran.append("enter"))
    a = Account("a")
    before = state(a)
    with pytest.raises(TransitionVetoed) as info:
        lc.fire(a, "sign", at=T0, force=True, reason="signed")
    assert ran == ["exit:1", "exit:2"]
    assert info.value.errors == (no,)
    assert state(a) == before


def test_finding_5_recovery_after_hooks_all_run() -> None:
    """RecoveryProcess: a failing after-hook does not skip the next; HookFailed.record is the plan."""
    proc = RecoveryProcess()
    boom = ValueError("ticketing down")
    ran: list[str] = []

    @proc.after("open")
    def first(event: RecoveryEvent) -> None:
        raise boom

    proc.after()(lambda event: ran.append("second"))
    with pytest.raises(HookFailed) as info:
        proc.open("acme", at=T0)
    assert ran == ["second"]
    assert info.value.errors == (boom,)
    plan = info.value.record
    assert isinstance(plan, RecoveryPlan)
    assert (plan.account_id, plan.version, plan.history[-1].trigger) == ("acme", 1, "open")


def test_finding_5_journey_after_hooks_all_run() -> None:
    """Journey: a failing after-hook does not skip the next; the step is recorded."""
    boom = ValueError("mail down")
    seen: list[PhaseRecord | None] = []

    def first(event: JourneyEvent) -> None:
        raise boom

    def second(event: JourneyEvent) -> None:
        seen.append(event.record)

    journey = Journey(after=[first, second])
    j = CustomerJourney("acme")
    with pytest.raises(HookFailed) as info:
        journey.advance(j, at=T0)
    assert seen == [j.history[-1]]
    assert info.value.errors == (boom,)
    assert info.value.record == j.history[-1]
    assert (j.phase, j.version) == (Phase.ENGAGEMENT, 1)


def test_finding_5_journey_hook_phases_run_in_order_and_a_veto_changes_nothing() -> None:
    """Journey hooks registered by decorator: before, exit, enter, after; a failing before-hook
    still lets the others of its phase run, then vetoes."""
    journey = Journey()
    order: list[str] = []
    journey.after("engage")(lambda event: order.append("after:engage"))
    journey.after()(lambda event: order.append("after:*"))
    journey.on_enter("engagement")(lambda event: order.append("enter:engagement"))
    journey.on_exit("awareness")(lambda event: order.append("exit:awareness"))
    journey.before("engage")(lambda event: order.append("before:engage"))
    journey.before()(lambda event: order.append("before:*"))
    j = CustomerJourney("acme")
    journey.advance(j, at=T0)
    assert order == [
        "before:*",
        "before:engage",
        "exit:awareness",
        "enter:engagement",
        "after:*",
        "after:engage",
    ]
    no = ValueError("not qualified")

    @journey.before("commit")
    def veto(event: JourneyEvent) -> None:
        raise no

    order.clear()
    with pytest.raises(TransitionVetoed) as info:
        journey.advance(j, at=T0)
    assert order == ["before:*"]
    assert info.value.errors == (no,)
    assert (j.phase, len(j.history), j.version) == (Phase.ENGAGEMENT, 1, 1)


def test_hook_events_carry_subject_and_machine() -> None:
    """One event shape: .subject is the account / plan / journey, .machine is what ran it."""
    lc = STARS.evolve()
    lc_events: list[HookEvent] = []
    lc.after()(lc_events.append)
    a = Account("a")
    lc.fire(a, "sign", at=T0, force=True, reason="signed")
    (event,) = lc_events
    assert event.subject is a and event.account is a and event.machine is lc

    proc = RecoveryProcess()
    plan_events: list[RecoveryEvent] = []
    proc.after("open")(plan_events.append)
    plan = proc.open("acme", at=T0)
    (revent,) = plan_events
    assert revent.subject is revent.plan and revent.plan == plan and revent.machine is proc

    journey = Journey()
    journey_events: list[JourneyEvent] = []
    journey.on_before(journey_events.append)
    journey.on_after(journey_events.append)
    j = CustomerJourney("acme")
    record = journey.advance(j, at=T0, actor="dana")
    before, after = journey_events
    for jevent in (before, after):
        assert jevent.subject is j and jevent.journey is j and jevent.machine is journey
        assert (jevent.trigger, jevent.source, jevent.dest) == (
            "engage",
            Phase.AWARENESS,
            Phase.ENGAGEMENT,
        )
        assert (jevent.at, jevent.actor, jevent.forced) == (T0, "dana", False)
    assert before.record is None
    assert after.record == record


# --------------------------------------------------------------------------- finding 6
def test_finding_6_lifecycle_compares_instants_across_a_dst_change() -> None:
    """01:55 EDT is 15 minutes before 01:10 EST although its wall clock is later: refused
    after it; 01:05 EST is 10 minutes after 01:55 EDT although its wall clock is earlier:
    accepted. The account then round-trips through JSON."""
    a = Account("dst")
    STARS.observe(a, Snapshot(at=EST_0110, health=80))
    with pytest.raises(OutOfOrder):
        STARS.observe(a, Snapshot(at=EDT_0155, health=80))
    STARS.fire(a, "sign", at=EST_0110, force=True, reason="signed")
    with pytest.raises(OutOfOrder):
        STARS.fire(a, "accelerate", at=EDT_0155, force=True, reason="too early")
    assert (a.stage, len(a.history), len(a.snapshots)) == ("seed", 1, 1)

    b = Account("dst-later")
    STARS.observe(b, Snapshot(at=EDT_0155, health=80))
    STARS.observe(b, Snapshot(at=EST_0105, health=81))
    STARS.fire(b, "sign", at=EDT_0155, force=True, reason="signed")
    STARS.fire(b, "accelerate", at=EST_0105, force=True, reason="really later")
    assert_invariants(b)
    for account in (a, b):
        copy = loads(dumps(account))  # used to fail: SchemaError $.history[1].at
        assert (copy.stage, copy.version) == (account.stage, account.version)
        assert [utc(r.at) for r in copy.history] == [utc(r.at) for r in account.history]
        assert [utc(s.at) for s in copy.snapshots] == [utc(s.at) for s in account.snapshots]
        assert loads(dumps(copy)) == copy


def test_finding_6_journey_and_depth_compare_instants() -> None:
    """Journey.advance and record_depth order by instant too, in both directions."""
    journey = Journey()
    j = CustomerJourney("dst")
    journey.advance(j, at=EST_0110)
    with pytest.raises(OutOfOrder):
        journey.advance(j, at=EDT_0155)
    assert (j.phase, j.version) == (Phase.ENGAGEMENT, 1)
    later = CustomerJourney("dst-later")
    journey.advance(later, at=EDT_0155)
    journey.advance(later, at=EST_0105)
    assert (later.phase, later.version) == (Phase.COMMITMENT, 2)

    a = Account("dst")
    record_depth(a, "basic", EST_0110)
    with pytest.raises(OutOfOrder):
        record_depth(a, "basic", EDT_0155)
    b = Account("dst-later")
    record_depth(b, "basic", EDT_0155)
    record_depth(b, "collaborative", EST_0105)
    assert (len(a.depths), len(b.depths), b.version) == (1, 2, 2)
    assert_invariants(b)


# --------------------------------------------------------------------------- finding 7
def _settled(account_id: str = "settled") -> Account:
    """In ACCELERATE, a customer since T0, green with agreed metrics on days 10, 11 and 12."""
    snapshots = [
        Snapshot(at=T0 + timedelta(days=d), health=90, success_metrics_agreed=True)
        for d in (10, 11, 12)
    ]
    return Account(account_id, stage="accelerate", since=T0, snapshots=snapshots)


def test_finding_7_no_time_and_no_snapshot_raises_instead_of_reading_the_local_clock() -> None:
    """Tenure needs a time; without at, clock or snapshot, check and available refuse."""
    a = Account("new", stage="accelerate", since=T0)
    with pytest.raises(InvalidValue) as info:
        STARS.check(a, "sustain")
    assert info.value.field == "at"
    with pytest.raises(InvalidValue) as info:
        STARS.available(a)
    assert info.value.field == "at"
    # an explicit time still works
    verdict = STARS.check(a, "sustain", at=T0 + timedelta(days=400))
    assert not verdict.allowed  # no green streak, but the tenure is judged
    assert not any("customer for" in r or "tenure" in r for r in verdict.reasons), verdict.reasons


def test_finding_7_an_injected_clock_decides_and_the_snapshot_time_is_the_fallback() -> None:
    """check/available without at: the clock when there is one, else the latest snapshot."""
    a = _settled()
    # no clock: judged at the latest snapshot (day 12), so the tenure is 12 days
    verdict = STARS.check(a, "sustain")
    assert not verdict.allowed
    assert any("12 days" in r for r in verdict.reasons), verdict.reasons

    calls: list[datetime] = []

    def late() -> datetime:
        calls.append(T0 + timedelta(days=400))
        return calls[-1]

    lc = STARS.evolve(clock=late)
    assert lc.check(a, "sustain") == STARS.check(a, "sustain", at=T0 + timedelta(days=400))
    assert lc.check(a, "sustain").allowed
    assert "sustain" in [v.trigger for v in lc.available(a)]
    assert calls  # the clock was asked
    # an explicit at wins over the clock
    assert not lc.check(a, "sustain", at=T0 + timedelta(days=100)).allowed

    early = Lifecycle(
        STARS_STAGES, STARS_TRANSITIONS, initial="prospect", clock=lambda: T0 + timedelta(days=100)
    )
    refused = early.check(a, "sustain")
    assert not refused.allowed
    assert any("100 days" in r for r in refused.reasons), refused.reasons
    assert "sustain" not in [v.trigger for v in early.available(a)]


# --------------------------------------------------------------------------- finding 8
def test_finding_8_trigger_and_stage_names_containing_gt_do_not_collide() -> None:
    """Trigger ``a`` to stage ``b>c`` and trigger ``a>b`` to stage ``c`` are two edges with
    their own enter-hooks."""
    stages = [StageDef("p", "before"), StageDef("b>c", "growth"), StageDef("c", "growth")]
    edges = [
        TransitionDef("a", "p", "b>c", "growth"),
        TransitionDef("a>b", "p", "c", "growth"),
    ]
    lc = Lifecycle(stages, edges, initial="p", name="names")
    calls: list[str] = []

    @lc.on_enter("c")
    def into_c(event: HookEvent) -> None:
        calls.append(f"enter c via {event.trigger}")

    @lc.after("a>b")
    def after_ab(event: HookEvent) -> None:
        calls.append(f"after a>b to {event.dest}")

    # only stage c has an enter-hook: firing a>b must still run it
    one = Account("one", stage="p")
    record = lc.fire(one, "a>b", at=T0)
    assert (record.trigger, record.source, record.dest, one.stage) == ("a>b", "p", "c", "c")
    assert calls == ["enter c via a>b", "after a>b to c"]

    @lc.on_enter("b>c")
    def into_bc(event: HookEvent) -> None:
        calls.append(f"enter b>c via {event.trigger}")

    calls.clear()
    two = Account("two", stage="p")
    record = lc.fire(two, "a", at=T0)
    assert (record.trigger, record.dest, two.stage) == ("a", "b>c", "b>c")
    assert calls == ["enter b>c via a"]

    calls.clear()
    three = Account("three", stage="p")
    lc.fire(three, "a>b", at=T0)
    assert calls == ["enter c via a>b", "after a>b to c"]
    assert lc.replay("four", [Event("a>b", T0)]).stage == "c"


# --------------------------------------------------------------------------- finding 9
def test_finding_9_account_version_must_agree_with_its_changes() -> None:
    """A version that disagrees with the stored changes is refused; without one it is derived."""
    records = two_records()
    for wrong in (0, 1, 3):
        with pytest.raises(InvalidValue) as info:
            Account("a", stage="accelerate", history=records, version=wrong)
        assert info.value.field == "version"
    assert Account("a", stage="accelerate", history=records).version == 2
    assert Account("a", stage="accelerate", history=records, version=2).version == 2
    full = Account(
        "a",
        stage="accelerate",
        history=records,
        snapshots=[Snapshot(at=T0, health=80)],
        depths=[DepthPoint(T0, "basic")],
    )
    assert full.version == 4
    assert_invariants(full)


def test_finding_9_loading_an_account_with_a_wrong_version_is_refused() -> None:
    """A client cannot send ``"version": 0`` with two recorded changes."""
    a = Account("a", stage="accelerate", history=two_records())
    data = json.loads(dumps(a))
    assert data["version"] == 2
    assert loads(json.dumps(data)) == a
    for wrong in (0, 5):
        data["version"] = wrong
        with pytest.raises(StarsError):
            loads(json.dumps(data))


def test_finding_9_customer_journey_version_must_agree_with_its_history() -> None:
    """CustomerJourney: a wrong version is refused; without one it is len(history)."""
    steps = [
        PhaseRecord("engage", "awareness", "engagement", T0),
        PhaseRecord("commit", "engagement", "commitment", T0),
    ]
    with pytest.raises(InvalidValue) as info:
        CustomerJourney("acme", phase="commitment", history=steps, version=0)
    assert info.value.field == "version"
    assert CustomerJourney("acme", phase="commitment", history=steps).version == 2
    # the stale-version trick no longer works: the derived version is checked
    j = CustomerJourney("acme", phase="commitment", history=steps)
    with pytest.raises(ConcurrentModification):
        Journey().advance(j, at=T0, expected_version=0)


# --------------------------------------------------------------------------- finding 10
def _long_history(n: int) -> Account:
    events: list[Event] = []
    stage = "prospect"
    for i in range(n):
        events.append(Event(NEXT[stage], T0 + timedelta(seconds=i), forced=True, reason="import"))
        stage = LANDS[stage]
    return STARS.replay("long", events)


def _median_peak_bytes(actions: Sequence[Callable[[], object]]) -> float:
    """The median over ``actions`` of the peak bytes each one allocated while it ran."""
    peaks: list[int] = []
    tracemalloc.start()
    try:
        for action in actions:
            tracemalloc.reset_peak()
            start, _ = tracemalloc.get_traced_memory()
            action()
            _, peak = tracemalloc.get_traced_memory()
            peaks.append(peak - start)
    finally:
        tracemalloc.stop()
    return statistics.median(peaks)


def test_finding_10_fire_and_observe_do_not_copy_long_histories() -> None:
    """One fire at 50,000 records and one observe at 50,000 snapshots allocate far less than a
    copy of either (50,000 pointers are 400 KB); the median of 9 calls is measured, so an
    occasional amortised resize does not count."""
    n = 50_000
    a = _long_history(n)
    assert len(a.history) == n

    def fire(k: int) -> None:
        STARS.fire(a, NEXT[a.stage], at=T0 + timedelta(seconds=n + k), force=True, reason="r")

    fire(0)  # warm up caches
    peak = _median_peak_bytes([partial(fire, k) for k in range(1, 10)])
    assert peak < 64 * 1024, f"one fire allocated {peak:.0f} bytes at {n} records"
    assert len(a.history) == n + 10

    b = Account("observed", snapshots=[Snapshot(at=T0, health=70)] * n)
    new = [Snapshot(at=T0 + timedelta(seconds=k), health=70) for k in range(10)]
    STARS.observe(b, new[0])
    peak = _median_peak_bytes([partial(STARS.observe, b, s) for s in new[1:]])
    assert peak < 64 * 1024, f"one observe allocated {peak:.0f} bytes at {n} snapshots"
    assert len(b.snapshots) == n + 10
    assert_invariants(a)
    assert_invariants(b)


def test_finding_10_views_taken_earlier_do_not_change() -> None:
    """history/snapshots/depths are read-only views, equal to tuples, frozen when taken."""
    a = Account("views")
    for n in range(4):
        STARS.fire(a, NEXT[a.stage], at=T0 + timedelta(hours=n), force=True, reason="setup")
    STARS.observe(a, Snapshot(at=T0, health=80))
    record_depth(a, "basic", T0)
    history, snapshots, depths = a.history, a.snapshots, a.depths
    kept = (tuple(history), tuple(snapshots), tuple(depths))

    later = T0 + timedelta(days=1)
    STARS.fire(a, NEXT[a.stage], at=later, force=True, reason="more")
    STARS.observe(a, Snapshot(at=later, health=70))
    record_depth(a, "collaborative", later)

    assert (len(history), len(snapshots), len(depths)) == (4, 1, 1)
    assert (history, snapshots, depths) == kept
    assert list(reversed(history)) == list(reversed(kept[0]))
    assert history[1:3] == kept[0][1:3]
    assert history.index(kept[0][2]) == 2
    assert (len(a.history), len(a.snapshots), len(a.depths)) == (5, 2, 2)
    assert a.history == tuple(a.history)
    assert tuple(a.history[:4]) == kept[0]
    assert a.history[-1].at == later
    assert_invariants(a)


# --------------------------------------------------------------------------- invariants
@pytest.mark.usefixtures("busy_switching")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_threaded_writes_keep_every_invariant(seed: int) -> None:
    """Eight threads make a seeded random mix of fires (two lifecycles), observes (both with
    and without expected_version) and record_depth calls on three shared accounts. Each
    successful call is stored exactly once, histories stay chains, versions count every
    change, and every account round-trips through JSON."""
    accounts = [Account(f"acct-{i}") for i in range(3)]
    lifecycles = (STARS, STARS.evolve())
    clock = itertools.count(1)
    done = {(a.id, kind): 0 for a in accounts for kind in ("fire", "observe", "depth")}
    lock = threading.Lock()

    def work(i: int) -> None:
        rng = random.Random(seed * 100 + i)
        for _ in range(500):
            a = rng.choice(accounts)
            lc = rng.choice(lifecycles)
            checked = rng.random() < 0.5
            version = a.version if checked else None
            at = T0 + timedelta(seconds=next(clock))
            op = rng.choice(("fire", "fire", "observe", "depth"))
            try:
                if op == "fire":
                    lc.fire(
                        a,
                        NEXT[a.stage],
                        at=at,
                        actor=f"t{i}",
                        force=True,
                        reason="random",
                        expected_version=version,
                    )
                elif op == "observe":
                    health = rng.uniform(0, 100)
                    lc.observe(a, Snapshot(at=at, health=health), expected_version=version)
                else:
                    depth = rng.choice(("basic", "collaborative"))
                    record_depth(a, depth, at)
            except (ConcurrentModification, OutOfOrder, TransitionNotAllowed):
                continue
            with lock:
                done[(a.id, op)] += 1

    errors = run_together([partial(work, i) for i in range(THREADS)])
    assert not errors, errors[:5]
    for a in accounts:
        assert len(a.history) == done[(a.id, "fire")]
        assert len(a.snapshots) == done[(a.id, "observe")]
        assert len(a.depths) == done[(a.id, "depth")]
        assert_invariants(a)
        assert loads(dumps(a)) == a


# -- views and caches survive pickling and copying ------------------------------------------


def test_an_account_pickles_and_copies_after_the_tenure_guard_ran() -> None:
    """The tenure guard's memo is a cache, not part of the value: pickles and copies drop it."""
    a = Account("acme", stage="accelerate", since=T0 - timedelta(days=400))
    STARS.observe(a, Snapshot(at=T0, health=90))
    assert "a customer for" not in " ".join(STARS.check(a, "sustain").reasons)
    for twin in (pickle.loads(pickle.dumps(a)), copy.deepcopy(a), copy.copy(a)):
        assert twin == a and twin.version == a.version


def test_a_shallow_copy_and_its_original_grow_apart() -> None:
    """Two accounts that share one append-only list each keep only their own appends."""
    a = Account("acme")
    STARS.observe(a, Snapshot(at=T0, health=90))
    twin = copy.copy(a)
    STARS.observe(twin, Snapshot(at=T0 + timedelta(days=1), health=80))
    STARS.observe(a, Snapshot(at=T0 + timedelta(days=2), health=70))
    assert [s.health for s in a.snapshots] == [90, 70]
    assert [s.health for s in twin.snapshots] == [90, 80]
    assert (a.version, twin.version) == (2, 2)
