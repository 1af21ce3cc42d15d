"""The engine scenarios (issue "One engine for the three machines").

Does one ``fire`` or one ``observe`` cost more on an account with a long history
than on a short one, and do hooks that wait on I/O let threads firing on different
accounts overlap? Every figure is a ratio of stars against stars: the same call at
two history lengths, or the same work on one thread and on eight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks._harness import Mode, Row, Section, Target, median_time
from benchmarks.lifecycle_bench import _lifecycle_with_hook
from stars import STARS, Account, Event, Lifecycle, Snapshot, TransitionRecord

#: When the long histories start; every record and snapshot is a minute after the last.
T0 = datetime(2025, 1, 6, tzinfo=UTC)
#: The sign record and the accounts' ``since``: a year before, so tenure guards pass.
SIGNED = T0 - timedelta(days=365)
#: After sign and accelerate, the loop that stays legal forever (accelerate <-> ascend).
LOOP: tuple[str, ...] = ("sustain", "expand")
#: Fires (or observes) per account in a timed run: short accounts grow by a sixth at most.
#: One more, the first change after the account is built, is made in the (untimed) setup.
PER_ACCOUNT = 50
REASON = "benchmark: guard refused"


def _loop_triggers(n: int) -> list[str]:
    """``n`` triggers from prospect: sign, accelerate, then sustain/expand forever."""
    out = ["sign", "accelerate"]
    while len(out) < n:
        out.extend(LOOP)
    return out[:n]


def _history(n: int) -> tuple[TransitionRecord, ...]:
    """``n`` records along the legal loop (``n`` even ends in accelerate), a minute apart."""
    events = [
        Event(trig, SIGNED if i == 0 else T0 + timedelta(minutes=i), actor="csm")
        for i, trig in enumerate(_loop_triggers(n))
    ]
    return tuple(STARS.replay("history", events).history)


def _green_snapshots(lc: Lifecycle) -> list[Snapshot]:
    """Enough green snapshots for the green-streak guard, all before the history starts."""
    return [
        Snapshot(
            at=T0 - timedelta(minutes=lc.policy.green_streak - k),
            health=90,
            success_metrics_agreed=True,
            expansion_open=True,
        )
        for k in range(lc.policy.green_streak)
    ]


Plan = list[tuple[str, datetime, bool, str | None]]


def _plan(lc: Lifecycle, probe: Account, fires: int) -> Plan:
    """The next ``fires`` triggers on the loop: trigger, time, forced or not, and reason.

    Each step is checked first on ``probe`` (a copy of the accounts that will be timed):
    a trigger is fired unforced when its guards pass and forced (with a reason) otherwise.
    """
    last = probe.history[-1].at
    trig = LOOP[0] if probe.stage == "accelerate" else LOOP[1]
    plan = []
    for j in range(fires):
        at = last + timedelta(minutes=j + 1)
        force = not lc.check(probe, trig, at=at).allowed
        reason = REASON if force else None
        lc.fire(probe, trig, at=at, force=force, reason=reason)
        plan.append((trig, at, force, reason))
        trig = LOOP[1] if trig == LOOP[0] else LOOP[0]
    return plan


def _median(
    run: Callable[[Any], object], setup: Callable[[], Any], mode: Mode
) -> tuple[float, int]:
    """The median time of ``run(setup())`` and how many runs it took, after one warm-up run.

    The warm-up run also sizes the rest: runs that take seconds get the mode's heavy
    repeats, runs under 50 ms (where a stray scheduler hiccup weighs most) three times
    the mode's repeats, the others the mode's repeats.
    """
    first = median_time(run, setup=setup, repeats=1)
    if first > 1.0:
        repeats = mode.heavy_repeats
    elif first < 0.05:
        repeats = 3 * mode.repeats
    else:
        repeats = mode.repeats
    return median_time(run, setup=setup, repeats=repeats), repeats


def _forced_note(plans: dict[int, Plan]) -> str:
    forced = {n: sorted({t for t, _, f, _ in plan if f}) for n, plan in plans.items()}
    if not any(forced.values()):
        return "Every timed fire is unforced: its guards are evaluated and pass."
    parts = [f"@{n:,}: {', '.join(ts) or 'none'}" for n, ts in forced.items()]
    return "Triggers whose guards refused, fired with force=True: " + "; ".join(parts) + "."


def _growth_rows(
    section: Section,
    what: str,
    unit: str,
    short: tuple[int, float],
    long: tuple[int, float],
    n: int,
    source: str = "one engine",
) -> None:
    """The long and short rows of a growth scenario, and its 1.5x target (long ÷ short).

    ``source`` names where the target comes from, in brackets after it.
    """
    (short_n, t_short), (long_n, t_long) = short, long
    call = what if "." in what else f"Lifecycle.{what}"
    shown = call if call.startswith("stars.") else f"stars {call}"
    long_label = f"{shown} @{long_n:,} {unit}"
    short_label = f"{shown} @{short_n:,} {unit}"
    section.rows = [Row(long_label, t_long, n), Row(short_label, t_short, n, ref=long_label)]
    ratio = section.ratio(short_label)
    section.targets = [
        Target(
            f"{call} at {long_n:,} {unit} within 1.5x of {call} at {short_n:,} ({source})",
            f"{ratio:.2f}x",
            ratio <= 1.5,
        )
    ]


# ------------------------------------------------------------------------ fire_growth
def fire_growth(mode: Mode) -> Section:
    """One fire on an account with 300 records against one with 60,000 (quick: 30,000)."""
    short_n = 300
    long_n = 60_000 if mode.name == "full" else 30_000
    accounts = 20 if mode.name == "full" else 8
    n = accounts * PER_ACCOUNT
    section = Section(
        "fire_growth",
        "one fire, short history against long",
        f"{n:,} fires, {short_n:,} vs {long_n:,} records",
    )
    lc, calls = _lifecycle_with_hook()
    snapshots = _green_snapshots(lc)
    full = _history(long_n)
    histories = {short_n: full[:short_n], long_n: full}

    def account(aid: str, size: int) -> Account:
        return lc.replay(aid, histories[size], since=SIGNED, snapshots=snapshots)

    probes = {size: account("probe", size) for size in histories}
    plans = {size: _plan(lc, probe, PER_ACCOUNT + 1) for size, probe in probes.items()}

    def timed(size: int) -> tuple[float, int]:
        (first, first_at, first_force, first_reason), *plan = plans[size]

        def setup() -> list[Account]:
            pool = [account(f"grow-{i}", size) for i in range(accounts)]
            for a in pool:
                lc.fire(a, first, at=first_at, force=first_force, reason=first_reason)
            return pool

        def run(pool: list[Account]) -> list[Account]:
            fire = lc.fire
            for a in pool:
                for trig, at, force, reason in plan:
                    fire(a, trig, at=at, force=force, reason=reason)
            return pool

        t = _median(run, setup, mode)
        # The runs really did what they claim.
        check = setup()
        before = calls[0]
        run(check)
        assert calls[0] - before == n
        want = probes[size].stage
        assert all(a.stage == want and len(a.history) == size + PER_ACCOUNT + 1 for a in check)
        assert all(
            r.forced == force
            for a in check
            for r, (_, _, force, _) in zip(a.history[size:], plans[size], strict=True)
        )
        return t

    t_short, r_short = timed(short_n)
    t_long, r_long = timed(long_n)

    _growth_rows(section, "fire", "records", (short_n, t_short), (long_n, t_long), n)
    section.notes = [
        f"Histories along a loop that stays legal forever: sign, accelerate, then sustain and "
        f"expand back and forth, a minute apart; the {short_n:,}-record history is the first "
        f"{short_n:,} records of the {long_n:,}-record one (built once, reused by replay).",
        f"Each run replays {accounts} fresh accounts per size, each with "
        f"{lc.policy.green_streak} green snapshots (health 90, success metrics agreed, expansion "
        "open) and since a year before, and fires the next trigger of the loop on each (the "
        "first change after a replay, which may convert how the history is stored: not timed); "
        f"the clock then runs over the next {PER_ACCOUNT} fires on each account. The short "
        f"accounts end at {short_n + PER_ACCOUNT + 1:,} records, the long ones at "
        f"{long_n + PER_ACCOUNT + 1:,}.",
        _forced_note(plans),
        f"One after-hook counts calls (as in fire). Median of {r_short} runs at {short_n:,} "
        f"records and {r_long} at {long_n:,}, after a warm-up run each (runs under 50 ms get "
        f"three times the mode's repeats, runs over a second its heavy repeats).",
        "The ratio is long ÷ short: how much more one fire costs when the history is "
        f"{long_n // short_n}x longer.",
    ]
    return section


# ------------------------------------------------------------------------ observe_growth
def observe_growth(mode: Mode) -> Section:
    """One observe on an account with 500 snapshots against one with 50,000."""
    short_n = 500
    long_n = 50_000
    accounts = 20 if mode.name == "full" else 8
    n = accounts * PER_ACCOUNT
    section = Section(
        "observe_growth",
        "one observe, few snapshots against many",
        f"{n:,} observes, {short_n:,} vs {long_n:,} snapshots",
    )
    lc = STARS.evolve()
    bands = lc.policy.bands
    healths = [40 + (i * 7) % 60 for i in range(long_n + PER_ACCOUNT + 1)]
    existing = [
        Snapshot(at=T0 + timedelta(minutes=i), health=h, band=bands.band_for(h))
        for i, h in enumerate(healths[:long_n])
    ]
    sizes = {short_n: existing[:short_n], long_n: existing}
    # The snapshots to observe carry health only: observe derives the band.
    new = {
        size: [
            Snapshot(at=T0 + timedelta(minutes=size + j), health=healths[size + j])
            for j in range(PER_ACCOUNT + 1)
        ]
        for size in sizes
    }

    def timed(size: int) -> tuple[float, int]:
        first, *incoming = new[size]

        def setup() -> list[Account]:
            pool = [Account(f"obs-{i}", snapshots=sizes[size]) for i in range(accounts)]
            for a in pool:
                lc.observe(a, first)
            return pool

        def run(pool: list[Account]) -> list[Account]:
            observe = lc.observe
            for a in pool:
                for snap in incoming:
                    observe(a, snap)
            return pool

        t = _median(run, setup, mode)
        check = setup()
        run(check)
        assert all(len(a.snapshots) == size + PER_ACCOUNT + 1 for a in check)
        assert all(a.snapshots[-1].band is not None for a in check)
        return t

    t_short, r_short = timed(short_n)
    t_long, r_long = timed(long_n)

    _growth_rows(section, "observe", "snapshots", (short_n, t_short), (long_n, t_long), n)
    section.notes = [
        f"Each run builds {accounts} fresh accounts per size holding {short_n:,} or "
        f"{long_n:,} snapshots a minute apart (health with its band) and observes one newer "
        "snapshot on each (the first change after building, which may convert how the "
        f"snapshots are stored: not timed); the clock then runs over the next {PER_ACCOUNT} "
        "observes on each account, of snapshots built beforehand with a health score and no "
        "band, so observe derives the band and appends.",
        f"Median of {r_short} runs at {short_n:,} snapshots and {r_long} at {long_n:,}, after a "
        "warm-up run each (runs under 50 ms get three times the mode's repeats, runs over a "
        "second its heavy repeats).",
        "The ratio is long ÷ short: how much more one observe costs when the account holds "
        f"{long_n // short_n}x more snapshots.",
    ]
    return section


# ------------------------------------------------------------------------ diagnose_growth
def diagnose_growth(mode: Mode) -> Section:
    """Observe then diagnose, on accounts with 500 snapshots against 50,000.

    The standing facts (contract, agreed success metrics) are reported only on the first
    snapshot, the worst case for carrying them forward: each diagnose must still find them.
    """
    short_n, long_n = 500, 50_000
    accounts = 20 if mode.name == "full" else 8
    n = accounts * PER_ACCOUNT
    section = Section(
        "diagnose_growth",
        "observe and diagnose, few snapshots against many (standing facts carried)",
        f"{n:,} observe+diagnose, {short_n:,} vs {long_n:,} snapshots",
    )
    lc = STARS.evolve()
    first = Snapshot(at=T0, health=80, contract_signed=True, success_metrics_agreed=True)
    later = [
        Snapshot(at=T0 + timedelta(minutes=i), health=60 + (i * 7) % 40)
        for i in range(1, long_n + PER_ACCOUNT + 1)
    ]
    sizes = {size: [first, *later[: size - 1]] for size in (short_n, long_n)}

    def timed(size: int) -> tuple[float, int]:
        warm, *incoming = later[size - 1 : size + PER_ACCOUNT]

        def setup() -> list[Account]:
            pool = [
                Account(f"dg-{i}", stage="accelerate", since=SIGNED, snapshots=sizes[size])
                for i in range(accounts)
            ]
            for a in pool:  # the first change converts the storage, the first read folds
                lc.observe(a, warm)  # the facts once: neither is timed
                lc.diagnose(a)
            return pool

        def run(pool: list[Account]) -> list[Account]:
            observe, diagnose = lc.observe, lc.diagnose
            for a in pool:
                for snap in incoming:
                    observe(a, snap)
                    diagnose(a)
            return pool

        t = _median(run, setup, mode)
        check = run(setup())
        assert all(lc.diagnose(a).evidence.success_metrics_agreed for a in check)
        return t

    t_short, r_short = timed(short_n)
    t_long, r_long = timed(long_n)
    _growth_rows(section, "diagnose", "snapshots", (short_n, t_short), (long_n, t_long), n)
    section.notes = [
        f"{accounts} accounts per size, each holding {short_n:,} or {long_n:,} snapshots a "
        "minute apart; only the first reports the contract and the agreed success metrics. "
        "One observe and one diagnose in the (untimed) setup convert the storage and fold "
        f"the facts once. The clock runs over {PER_ACCOUNT} rounds of observe-then-diagnose "
        "per account; each diagnose must still see the facts from the first snapshot.",
        f"Median of {r_short} runs at {short_n:,} and {r_long} at {long_n:,}, after a warm-up.",
    ]
    return section


# ------------------------------------------------------------------------ reassign_growth
def reassign_growth(mode: Mode) -> Section:
    """One owner change on an account with 300 earlier changes against one with 30,000."""
    from stars import OwnerChange, reassign

    short_n, long_n = 300, 30_000
    accounts = 20 if mode.name == "full" else 8
    n = accounts * PER_ACCOUNT
    section = Section(
        "reassign_growth",
        "one owner change, short owner history against long",
        f"{n:,} reassigns, {short_n:,} vs {long_n:,} earlier changes",
    )
    chains = {
        size: [
            OwnerChange(T0 + timedelta(minutes=i), f"o{i}", f"o{i - 1}" if i else None)
            for i in range(size)
        ]
        for size in (short_n, long_n)
    }

    def timed(size: int) -> tuple[float, int]:
        def setup() -> list[Account]:
            pool = [Account(f"ra-{i}", owners=chains[size]) for i in range(accounts)]
            for a in pool:  # the first change may convert the storage: not timed
                reassign(a, "first", at=T0 + timedelta(minutes=size))
            return pool

        def run(pool: list[Account]) -> list[Account]:
            for a in pool:
                for j in range(PER_ACCOUNT):
                    reassign(a, f"n{j}", at=T0 + timedelta(minutes=size + 1 + j), by="lead")
            return pool

        t = _median(run, setup, mode)
        check = run(setup())
        assert all(len(a.owners) == size + 1 + PER_ACCOUNT for a in check)
        return t

    t_short, r_short = timed(short_n)
    t_long, r_long = timed(long_n)
    _growth_rows(section, "stars.reassign", "changes", (short_n, t_short), (long_n, t_long), n)
    section.notes = [
        f"{accounts} accounts per size holding {short_n:,} or {long_n:,} earlier owner "
        f"changes; the clock runs over {PER_ACCOUNT} reassigns per account.",
        f"Median of {r_short} runs at {short_n:,} and {r_long} at {long_n:,}, after a warm-up.",
    ]
    return section


# ------------------------------------------------------------------------ timeline_growth
def timeline_growth(mode: Mode) -> Section:
    """Record a fact in order and read the account, with 300 facts known against 30,000."""
    from stars.timeline import Timeline

    short_n, long_n = 300, 30_000
    timelines = 8 if mode.name == "full" else 4
    n = timelines * PER_ACCOUNT
    section = Section(
        "timeline_growth",
        "record a fact in order and read the account, few facts known against many",
        f"{n:,} record+read, {short_n:,} vs {long_n:,} facts known",
    )
    snaps = [
        Snapshot(at=T0 + timedelta(minutes=i), health=40 + (i * 7) % 60)
        for i in range(long_n + PER_ACCOUNT + 1)
    ]

    def timed(size: int) -> tuple[float, int]:
        warm, *incoming = snaps[size : size + PER_ACCOUNT + 1]

        def setup() -> list[Timeline]:
            pool = []
            for _ in range(timelines):
                tl = Timeline()
                tl.record_many([("acme", s) for s in snaps[:size]], recorded_at=T0)
                tl.record("acme", warm, recorded_at=warm.at)
                tl.account("acme")  # the first read builds the account: not timed
                pool.append(tl)
            return pool

        def run(pool: list[Timeline]) -> list[Timeline]:
            for tl in pool:
                for snap in incoming:
                    tl.record("acme", snap, recorded_at=snap.at)
                    tl.account("acme")
            return pool

        t = _median(run, setup, mode)
        check = run(setup())
        assert all(len(tl.account("acme").snapshots) == size + 1 + PER_ACCOUNT for tl in check)
        return t

    t_short, r_short = timed(short_n)
    t_long, r_long = timed(long_n)
    _growth_rows(section, "Timeline.record", "facts", (short_n, t_short), (long_n, t_long), n)
    section.notes = [
        f"{timelines} timelines per size, each knowing {short_n:,} or {long_n:,} snapshots of "
        f"one account; the clock runs over {PER_ACCOUNT} rounds of recording the next "
        "snapshot (in order) and reading the account back.",
        "A late fact is different by design: the account is rebuilt from its facts on the "
        "next read, which costs time in proportion to the facts it holds.",
        f"Median of {r_short} runs at {short_n:,} and {r_long} at {long_n:,}, after a warm-up.",
    ]
    return section


# ------------------------------------------------------------------------ threads
SLEEP = 0.002
THREADS = 8


def threads(mode: Mode) -> Section:
    """Eight threads firing on eight accounts against one thread doing the same fires."""
    fires = 100 if mode.name == "full" else 25
    n = THREADS * fires
    section = Section(
        "threads",
        "hooks that wait on I/O, eight threads against one",
        f"{n:,} fires on {THREADS} accounts",
    )
    lc = STARS.evolve()
    calls = [0]

    @lc.after()
    def io(event: Any) -> None:
        calls[0] += 1
        time.sleep(SLEEP)  # a webhook, a database write: the thread waits, the GIL is free

    plan = [(trig, T0 + timedelta(minutes=j)) for j, trig in enumerate(_loop_triggers(fires))]

    def fire_all(pool: list[Account]) -> None:
        fire = lc.fire
        for a in pool:
            for trig, at in plan:
                fire(a, trig, at=at, force=True, reason="benchmark: forced around the loop")

    def setup(workers: int) -> tuple[threading.Barrier, list[threading.Thread], list[Account]]:
        """Fresh accounts, and ``workers`` started threads waiting at a barrier."""
        pool = [Account(f"thread-{i}") for i in range(THREADS)]
        shares = [pool[w::workers] for w in range(workers)]
        barrier = threading.Barrier(workers + 1, timeout=120)

        def work(share: list[Account]) -> None:
            barrier.wait()
            fire_all(share)

        started = [threading.Thread(target=work, args=(share,)) for share in shares]
        for th in started:
            th.start()
        return barrier, started, pool

    def run(state: tuple[threading.Barrier, list[threading.Thread], list[Account]]) -> Any:
        barrier, started, pool = state
        barrier.wait()
        for th in started:
            th.join()
        return pool

    r = mode.repeats
    t_many = median_time(run, setup=lambda: setup(THREADS), repeats=r)
    t_one = median_time(run, setup=lambda: setup(1), repeats=r)

    check = setup(THREADS)
    before = calls[0]
    pool = run(check)
    assert calls[0] - before == n
    want = "seed" if fires <= 1 else "accelerate" if fires % 2 == 0 else "ascend"
    assert all(a.stage == want and len(a.history) == fires for a in pool)

    rate_many, rate_one = n / t_many, n / t_one
    many = f"stars Lifecycle.fire, {THREADS} threads, one account each"
    one = f"stars Lifecycle.fire, 1 thread, the same {THREADS} accounts in turn"
    section.rows = [
        Row(many, t_many, n, note=f"{rate_many:,.0f} fires/s"),
        Row(one, t_one, n, ref=many, note=f"{rate_one:,.0f} fires/s"),
    ]
    section.notes = [
        f"One after-hook sleeps {SLEEP * 1e3:g} ms on every fire (simulated I/O: the thread "
        f"waits without the GIL). Each of {THREADS} accounts fires {fires} triggers from "
        "prospect along sign, accelerate, then sustain and expand back and forth, all forced "
        "(with a reason), so guards are not what is measured.",
        f"The threads are started before the clock and wait at a barrier; the time runs from "
        f"the barrier to the last join. The one-thread run does all {n:,} fires itself, one "
        "account after another, through the same code.",
        f"With the hook's wait overlapping, {THREADS} threads could approach "
        f"{THREADS}x; a lock held across the hooks keeps them near 1x.",
    ]
    speedup = t_one / t_many
    section.targets = [
        Target(
            f"{THREADS} threads with a sleeping hook at least 5x the fires/s of one thread "
            "(one engine)",
            f"{speedup:.2f}x ({rate_many:,.0f} vs {rate_one:,.0f} fires/s)",
            speedup >= 5.0,
        )
    ]
    return section
