"""The lifecycle scenarios: fire, replay, create and memory.

Every contender runs the STARS graph (see ``_graph``). ``stars`` runs it with its
guards, history and one after-hook; the alternatives run it bare.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from transitions import Machine

from benchmarks import _graph as g
from benchmarks._harness import (
    Mode,
    Row,
    Section,
    Target,
    bytes_per_object,
    fit_quadratic,
    median_time,
)
from stars import STARS, Account, Lifecycle


def _lifecycle_with_hook() -> tuple[Lifecycle, list[int]]:
    lc = STARS.evolve()
    calls = [0]

    @lc.after()
    def count(event: Any) -> None:
        calls[0] += 1

    return lc, calls


# ------------------------------------------------------------------------ fire
def fire(mode: Mode) -> Section:
    """Guarded transitions on one account at a time, 50 fires per account."""
    per = len(g.FIRE_CYCLE)
    accounts = mode.size(2_000)
    n = accounts * per
    section = Section("fire", "guarded transitions, one account at a time", f"{n:,} fires")
    lc, calls = _lifecycle_with_hook()
    at = g.T0 + timedelta(days=1)
    cycle = g.FIRE_CYCLE

    def stars_setup() -> list[Account]:
        out = []
        for i in range(accounts):
            a = Account(f"fire-{i}")
            lc.observe(a, g.FIRE_SNAPSHOT)
            out.append(a)
        return out

    def stars_run(pool: list[Account]) -> list[Account]:
        fire = lc.fire
        for a in pool:
            for trig in cycle:
                fire(a, trig, at=at)
        return pool

    machine = Machine(model=None, **g.machine_kwargs())
    models = [g.Model(f"fire-{i}") for i in range(accounts)]
    for m in models:
        machine.add_model(m)

    def tr_setup() -> list[Any]:
        for m in models:
            machine.set_state(g.INITIAL, model=m)
        return models

    def tr_run(pool: list[Any]) -> list[Any]:
        for m in pool:
            trigger = m.trigger
            for trig in cycle:
                trigger(trig)
        return pool

    sm_class = g.statemachine_class()

    def sm_setup() -> list[Any]:
        return [sm_class() for _ in range(accounts)]

    def sm_run(pool: list[Any]) -> list[Any]:
        for sm in pool:
            send = sm.send
            for trig in cycle:
                send(trig)
        return pool

    table = g.TABLE

    def dict_run(_: object) -> str:
        stage = g.INITIAL
        for _i in range(accounts):
            stage = g.INITIAL
            for trig in cycle:
                stage = table[(stage, trig)]
        return stage

    r = mode.repeats
    t_stars = median_time(stars_run, setup=stars_setup, repeats=r, warmup=1)
    t_tr = median_time(tr_run, setup=tr_setup, repeats=r, warmup=1)
    t_sm = median_time(sm_run, setup=sm_setup, repeats=r, warmup=1)
    t_dict = median_time(dict_run, repeats=r, warmup=1)

    # The runs really did what they claim: every account ended in the same stage.
    check = stars_setup()
    stars_run(check)
    sms = sm_setup()
    sm_run(sms)
    tr_run(tr_setup())
    want = g.dest_after(list(cycle))
    assert all(a.stage == want and len(a.history) == per for a in check)
    assert all(m.state == want for m in models)
    assert all(sm.current_state_value == want for sm in sms)
    assert calls[0] > 0

    s = "stars Lifecycle.fire (guards, history, one after-hook)"
    section.rows = [
        Row(s, t_stars, n),
        Row("transitions: model.trigger(name), no guards", t_tr, n, ref=s),
        Row("python-statemachine: sm.send(name), no guards", t_sm, n, ref=s),
        Row("bare dict lookup (stage, trigger) -> stage", t_dict, n, ref=s),
    ]
    section.notes = [
        f"Each account observes one snapshot (health 90, contract signed, success metrics "
        f"agreed, new business unit), then fires sign and accelerate/reseed back and forth, "
        f"{per} fires; {accounts:,} accounts per run, fresh ones every run (setup not timed).",
        "transitions: one shared Machine (auto_transitions=False) with the models added once; "
        "python-statemachine: one instance per account; the dict holds the same graph.",
        "stars checks the graph, runs the guards (contract, success metrics, green health, "
        "new business unit), appends a TransitionRecord and calls the hook on every fire.",
    ]
    ratio = section.ratio("transitions: model.trigger(name), no guards")
    section.targets = [
        Target(
            "fire within 2x of a bare transitions trigger (issue 2)",
            f"{ratio:.2f}x",
            ratio <= 2.0,
        )
    ]
    return section


# ------------------------------------------------------------------------ replay
def replay(mode: Mode) -> Section:
    """Rebuild accounts from 1,000,000 history records (and from Event objects)."""
    per = 50
    accounts = mode.size(20_000)
    n = accounts * per
    section = Section("replay", "rebuild accounts from their history", f"{n:,} events")
    event_work = g.replay_events(accounts, per)
    record_work = [(aid, STARS.replay(aid, events).history) for aid, events in event_work]

    def stars_records(_: object) -> list[Account]:
        replay = STARS.replay
        return [replay(aid, records) for aid, records in record_work]

    def stars_events(_: object) -> list[Account]:
        replay = STARS.replay
        return [replay(aid, events) for aid, events in event_work]

    def transitions_path(_: object) -> list[tuple[Any, list[tuple[Any, ...]]]]:
        machine = Machine(model=None, **g.machine_kwargs())
        out = []
        for aid, events in event_work:
            model = g.Model(aid)
            machine.add_model(model)
            history = []
            trigger = model.trigger
            for ev in events:
                source = model.state
                trigger(ev.trigger)
                history.append((ev.trigger, source, model.state, ev.at))
            machine.remove_model(model)
            out.append((model, history))
        return out

    r = mode.heavy_repeats
    t_rec = median_time(stars_records, repeats=r, warmup=0)
    t_ev = median_time(stars_events, repeats=r, warmup=0)
    t_tr = median_time(transitions_path, repeats=r, warmup=0)

    want = g.dest_after(g.replay_triggers(per))
    rebuilt = stars_records(None)
    assert all(a.stage == want and len(a.history) == per for a in rebuilt)
    assert all(m.state == want for m, _ in transitions_path(None))

    rec = "stars Lifecycle.replay from TransitionRecords"
    ev = "stars Lifecycle.replay from Event objects"
    section.rows = [
        Row(rec, t_rec, n),
        Row(ev, t_ev, n),
        Row("transitions: add_model, trigger each event, remove_model", t_tr, n, ref=rec),
        Row("transitions path again, compared with replay from events", t_tr, n, ref=ev),
    ]
    section.notes = [
        f"{accounts:,} accounts x {per} events: a 16-trigger round trip through every stage "
        "(growth, realignment, turnaround, reseed, restart, churn, win-back) repeated.",
        "stars checks every record against the graph, the cycle and the time order, and builds "
        "the Account; from events it also builds a validated TransitionRecord per event.",
        "The transitions path adds a plain model to one shared Machine, fires each trigger, keeps "
        "(trigger, source, dest, at) tuples as its history, and removes the model (so add_model "
        "never sees more than one model: no quadratic cost here).",
    ]
    q_rec = section.ratio("transitions: add_model, trigger each event, remove_model")
    q_ev = section.ratio("transitions path again, compared with replay from events")
    section.targets = [
        Target(
            "replay at least 15x faster than the transitions path (issue 2)",
            f"{1 / q_rec:.1f}x faster (records), {1 / q_ev:.1f}x (events)",
            q_rec <= 1 / 15,
        )
    ]
    return section


# ------------------------------------------------------------------------ create
def _machine_per_object(aid: str) -> Any:
    model = g.Model(aid)
    Machine(model=model, **g.machine_kwargs())
    return model


def create(mode: Mode) -> Section:
    """Create 100,000 accounts (or state-machine objects)."""
    n = mode.size(100_000)
    section = Section("create", "create accounts", f"{n:,} accounts")
    ids = [f"acct-{i}" for i in range(n)]
    sm_class = g.statemachine_class()

    r = mode.heavy_repeats
    t_stars = median_time(lambda _: [Account(i) for i in ids], repeats=mode.repeats, warmup=1)
    t_per = median_time(lambda _: [_machine_per_object(i) for i in ids], repeats=r)
    t_sm = median_time(lambda _: [sm_class() for _ in ids], repeats=r)

    def shared(count: int) -> float:
        def run(models: list[Any]) -> Machine:
            machine = Machine(model=None, **g.machine_kwargs())
            for m in models:
                machine.add_model(m)
            return machine

        return median_time(run, setup=lambda: [g.Model(i) for i in ids[:count]], repeats=r)

    # add_model checks membership in a list, so building N models costs about N**2.
    points = [(k, shared(k)) for k in (mode.size(1_000), mode.size(5_000), mode.size(10_000))]
    a, b = fit_quadratic(points)
    predicted = a * n + b * n * n
    measured_points = ", ".join(f"{k:,}: {fmt_s(t)}" for k, t in points)
    if predicted <= mode.budget:
        t_shared = shared(n)
        note = ""
        how = f"measured at the full size (smaller sizes: {measured_points})"
    else:
        t_shared = predicted
        note = f"extrapolated from {', '.join(f'{k:,}' for k, _ in points)}"
        how = (
            f"too slow to run at {n:,} (predicted {fmt_s(predicted)} per run), so it was "
            f"measured at {measured_points} and extrapolated with a least-squares fit "
            f"t = a*n + b*n^2 (a = {a * 1e6:.2f} µs, b = {b * 1e9:.3f} ns)"
        )

    s = "stars Account(id)"
    section.rows = [
        Row(s, t_stars, n),
        Row("transitions: one Machine per object", t_per, n, ref=s),
        Row("transitions: one shared Machine + add_model", t_shared, n, ref=s, note=note),
        Row("python-statemachine: one instance per object", t_sm, n, ref=s),
    ]
    section.notes = [
        "Ids are made before timing, for every contender.",
        f"transitions with one shared Machine and add_model: {how}.",
    ]
    return section


def fmt_s(seconds: float) -> str:
    """Seconds, short."""
    return f"{seconds * 1e3:,.1f} ms" if seconds < 1 else f"{seconds:,.1f} s"


# ------------------------------------------------------------------------ memory
def memory(mode: Mode) -> Section:
    """Memory per account (tracemalloc), for the contenders of ``create``."""
    n = mode.size(10_000)
    section = Section("memory", "memory per account", f"{n:,} objects")
    ids = [f"acct-{i}" for i in range(n)]
    sm_class = g.statemachine_class()
    shared_machine = Machine(model=None, **g.machine_kwargs())
    history = STARS.replay("x", g.replay_events(1, 50)[0][1]).history

    def shared(i: int) -> Any:
        model = g.Model(ids[i])
        shared_machine.add_model(model)
        return model

    def with_history(i: int) -> Account:
        # A copy of the same 50 records: what a replayed account holds, records counted.
        return STARS.replay(ids[i], [attrs_copy(r) for r in history])

    s = "stars Account, no history"
    section.rows = [
        Row(s, bytes_per_object(lambda i: Account(ids[i]), n), 1, unit="B"),
        Row(
            "transitions: one Machine per object",
            bytes_per_object(lambda i: _machine_per_object(ids[i]), n),
            1,
            unit="B",
            ref=s,
        ),
        Row(
            "transitions: shared Machine + add_model (model and its trigger methods)",
            bytes_per_object(shared, n),
            1,
            unit="B",
            ref=s,
        ),
        Row(
            "python-statemachine: one instance per object",
            bytes_per_object(lambda i: sm_class(), n),
            1,
            unit="B",
            ref=s,
        ),
        Row(
            "stars Account with 50 history records (for scale, no ratio)",
            bytes_per_object(with_history, n),
            1,
            unit="B",
        ),
    ]
    stars_bytes = section.rows[0].value
    section.notes = [
        "tracemalloc: memory allocated while building the objects (kept alive), divided by "
        "their number; the id strings are built beforehand and not counted for anyone.",
        "Per-object memory does not depend on how many objects there are, so a tenth of the "
        "create size is enough (the shared Machine's model list adds 8 bytes per model).",
        "The 50-record row counts the account and its own records (each account gets copies).",
    ]
    section.targets = [
        Target(
            "an Account with no history under 400 bytes (issue 2)",
            f"{stars_bytes:,.0f} B",
            stars_bytes < 400,
        )
    ]
    return section


def attrs_copy(record: Any) -> Any:
    """A new, equal TransitionRecord."""
    import attrs

    return attrs.evolve(record)
