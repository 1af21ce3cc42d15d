from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from stars import (
    GUARDS,
    STARS,
    STARS_STAGES,
    STARS_TRANSITIONS,
    Account,
    Band,
    ConcurrentModification,
    Cycle,
    Event,
    Guard,
    HookEvent,
    HookFailed,
    InvalidDefinition,
    InvalidValue,
    Lifecycle,
    OutOfOrder,
    Policy,
    Snapshot,
    Stage,
    StageDef,
    StageProfile,
    TransitionDef,
    TransitionNotAllowed,
    TransitionRefused,
    TransitionVetoed,
    UnknownName,
    handover_brief,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def account_in(stage: str, snaps: list[Snapshot] | None = None, **kw: Any) -> Account:
    """An account placed in `stage` with a plausible forced history and `since` a year back."""
    kw.setdefault("since", at(-400))
    return Account("acme", stage=stage, snapshots=snaps or [], **kw)


def snap(day: float = 0, **signals: Any) -> Snapshot:
    return Snapshot(at=at(day), **signals)


GREEN = {"health": 85.0}
YELLOW = {"health": 55.0}
RED = {"health": 20.0}

# For each (trigger, source, dest): snapshots under which the guard holds, and under which it does not.
ROWS: list[tuple[str, str, str, list[Snapshot], list[Snapshot], str]] = [
    ("sign", "prospect", "seed", [snap(contract_signed=True)], [snap()], "no contract start"),
    (
        "accelerate",
        "seed",
        "accelerate",
        [snap(success_metrics_agreed=True, **GREEN)],
        [snap(success_metrics_agreed=True, **YELLOW)],
        "health is yellow, not green",
    ),
    (
        "sustain",
        "accelerate",
        "ascend",
        [snap(d, **GREEN) for d in (0, 30, 60)],
        [snap(0, **GREEN), snap(30, **YELLOW), snap(60, **GREEN)],
        "green for 1 readings in a row, 3 needed",
    ),
    ("expand", "ascend", "accelerate", [snap(expansion_open=True)], [snap()], "no expansion"),
    ("reseed", "accelerate", "seed", [snap(new_business_unit=True)], [snap()], "no new product"),
    ("reseed", "ascend", "seed", [snap(new_business_unit=True)], [snap()], "no new product"),
    ("stagnate", "accelerate", "reset", [snap(**YELLOW)], [snap(**GREEN)], "not falling"),
    (
        "stagnate",
        "ascend",
        "reset",
        [snap(0, health=95), snap(30, health=85), snap(60, health=72)],
        [snap(0, health=80), snap(30, health=81), snap(60, health=82)],
        "green and not falling",
    ),
    ("escalate", "seed", "tact", [snap(**RED)], [snap(**YELLOW)], "not red"),
    ("escalate", "accelerate", "tact", [snap(critical_risk=True, **GREEN)], [snap()], "no health"),
    ("escalate", "ascend", "tact", [snap(**RED)], [snap(**GREEN)], "not red"),
    ("escalate", "reset", "tact", [snap(**RED)], [snap(**YELLOW)], "not red"),
    (
        "realign",
        "reset",
        "ascend",
        [snap(d, **GREEN) for d in (0, 30, 60)],
        [snap(0, **GREEN), snap(30, **GREEN)],
        "green for 2 readings in a row, 3 needed",
    ),
    ("stabilize", "tact", "reset", [snap(**YELLOW)], [snap(**RED)], "still red"),
    ("restart", "tact", "seed", [snap(reonboarding_agreed=True)], [snap()], "re-onboarding"),
    ("lose", "seed", "churn", [], [], "a reason must be given"),
    ("lose", "tact", "churn", [], [], "a reason must be given"),
    ("win_back", "churn", "prospect", [], [], ""),
]


@pytest.mark.parametrize(("trigger", "source", "dest", "ok", "bad", "why"), ROWS)
def test_every_row_allowed_when_guard_holds_and_refused_otherwise(
    trigger: str, source: str, dest: str, ok: list[Snapshot], bad: list[Snapshot], why: str
) -> None:
    reason = "customer decided to leave" if trigger == "lose" else None
    good = account_in(source, ok)
    record = STARS.fire(good, trigger, at=at(90), reason=reason, to=dest)
    assert (record.source, record.dest, good.stage) == (source, dest, dest)
    assert record.cycle is next(
        t.cycle for t in STARS_TRANSITIONS if t.trigger == trigger and t.dest == dest
    )
    assert good.history == (record,)

    if trigger == "win_back":  # the one unguarded transition
        return
    refused = account_in(source, bad)
    before = (refused.stage, refused.history, refused.version)
    with pytest.raises(TransitionRefused) as info:
        STARS.fire(refused, trigger, at=at(90), to=dest)
    assert any(why in r for r in info.value.reasons), info.value.reasons
    assert (refused.stage, refused.history, refused.version) == before
    verdict = STARS.check(refused, trigger, at=at(90), to=dest)
    assert not verdict.allowed
    assert verdict.reasons == info.value.reasons


def test_realign_goes_to_accelerate_when_tenure_is_short() -> None:
    a = account_in("reset", [snap(d, **GREEN) for d in (0, 30, 60)], since=at(-30))
    assert STARS.fire(a, "realign", at=at(61)).dest == "accelerate"
    b = account_in("reset", [snap(d, **GREEN) for d in (0, 30, 60)], since=at(-300))
    assert STARS.fire(b, "realign", at=at(61)).dest == "ascend"


EDGES = {(src, t.trigger) for t in STARS_TRANSITIONS for src in t.sources}


@pytest.mark.parametrize(
    ("stage", "trigger"),
    [
        (s.value, trig)
        for s, trig in itertools.product(Stage, sorted(STARS.triggers))
        if (s.value, trig) not in EDGES
    ],
)
def test_every_illegal_pair_raises_even_when_forced(stage: str, trigger: str) -> None:
    a = account_in(stage, [snap(**GREEN)])
    with pytest.raises(TransitionNotAllowed) as info:
        STARS.fire(a, trigger, at=at(1), force=True, reason="try anyway")
    assert info.value.stage == stage
    assert info.value.trigger == trigger
    assert a.history == () and a.stage == stage and a.version == 1
    assert STARS.check(a, trigger).allowed is False


def test_force_overrides_guards_and_is_recorded() -> None:
    a = account_in("seed")
    with pytest.raises(InvalidValue, match="reason"):
        STARS.fire(a, "accelerate", at=at(1), force=True)
    record = STARS.fire(a, "accelerate", at=at(1), force=True, reason="exec sponsor decision")
    assert record.forced and record.reason == "exec sponsor decision"
    assert a.stage == "accelerate"


def test_unknown_trigger_and_stage() -> None:
    with pytest.raises(UnknownName, match="'signn'"):
        STARS.fire(Account("a"), "signn", at=at(0))
    with pytest.raises(UnknownName, match="stage 'gold'"):
        STARS.fire(Account("a", stage="gold"), "sign", at=at(0))
    with pytest.raises(UnknownName):
        STARS.check(Account("a"), "nope")


def test_time_cannot_go_backwards_and_nothing_changes() -> None:
    a = account_in("prospect", [snap(contract_signed=True)])
    STARS.fire(a, "sign", at=at(10))
    with pytest.raises(OutOfOrder):
        STARS.fire(a, "lose", at=at(5), reason="x")
    assert a.stage == "seed" and len(a.history) == 1
    with pytest.raises(InvalidValue, match="timezone-aware"):
        STARS.fire(a, "lose", at=datetime(2025, 1, 1), reason="x")


def test_argument_validation() -> None:
    a = account_in("seed")
    with pytest.raises(InvalidValue, match="actor"):
        STARS.fire(a, "lose", at=at(1), reason="x", actor=3)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="reason"):
        STARS.fire(a, "lose", at=at(1), reason=3)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="force"):
        STARS.fire(a, "lose", at=at(1), reason="x", force=1)  # type: ignore[arg-type]
    with pytest.raises(TransitionNotAllowed, match="lose -> prospect"):
        STARS.fire(a, "lose", at=at(1), reason="x", to="prospect")
    with pytest.raises(UnknownName):
        STARS.fire(a, "lose", at=at(1), reason="x", to="gold")


def test_expected_version() -> None:
    a = account_in("prospect", [snap(contract_signed=True)])
    assert a.version == 1  # the snapshot is a recorded change
    with pytest.raises(ConcurrentModification):
        STARS.fire(a, "sign", at=at(1), expected_version=3)
    STARS.fire(a, "sign", at=at(1), expected_version=1)
    assert a.version == 2
    with pytest.raises(ConcurrentModification):
        STARS.observe(a, snap(2), expected_version=1)
    STARS.observe(a, snap(2), expected_version=2)
    assert a.version == 3


# --------------------------------------------------------------------------- hooks
def signed() -> Account:
    return account_in("prospect", [snap(contract_signed=True)])


def test_hook_order_and_payload() -> None:
    lc = STARS.evolve()
    calls: list[tuple[str, str, bool]] = []

    def rec(name: str) -> Any:
        def hook(e: HookEvent) -> None:
            calls.append((name, e.dest, e.record is not None))

        return hook

    lc.before()(rec("before*"))
    lc.before("sign")(rec("before"))
    lc.on_exit("prospect")(rec("exit"))
    lc.on_enter("seed")(rec("enter"))
    lc.after("sign")(rec("after"))
    lc.after()(rec("after*"))
    lc.on_cycle(Cycle.GROWTH)(rec("cycle"))
    lc.on_cycle("crisis")(rec("crisis-cycle"))
    lc.fire(signed(), "sign", at=at(1))
    assert calls == [
        ("before*", "seed", False),
        ("before", "seed", False),
        ("exit", "seed", False),
        ("enter", "seed", True),
        ("after*", "seed", True),
        ("after", "seed", True),
        ("cycle", "seed", True),
    ]


@pytest.mark.parametrize("kind", ["before", "exit"])
def test_failing_early_hook_vetoes_and_changes_nothing(kind: str) -> None:
    lc = STARS.evolve()

    def boom(e: HookEvent) -> None:
        raise RuntimeError("no budget")

    if kind == "before":
        lc.before("sign")(boom)
    else:
        lc.on_exit("prospect")(boom)
    a = signed()
    with pytest.raises(TransitionVetoed, match="no budget") as info:
        lc.fire(a, "sign", at=at(1))
    assert isinstance(info.value.__cause__, RuntimeError)
    assert (a.stage, a.history, a.version) == ("prospect", (), 1)
    # The lifecycle still works afterwards, and STARS itself was never touched.
    STARS.fire(a, "sign", at=at(1))
    assert a.stage == "seed"


@pytest.mark.parametrize("kind", ["enter", "after", "cycle"])
def test_failing_late_hook_keeps_state_and_history_consistent(kind: str) -> None:
    lc = STARS.evolve()

    def boom(e: HookEvent) -> None:
        raise KeyError("crm down")

    {"enter": lc.on_enter("seed"), "after": lc.after(), "cycle": lc.on_cycle("growth")}[kind](boom)
    a = signed()
    with pytest.raises(HookFailed) as info:
        lc.fire(a, "sign", at=at(1))
    assert a.stage == "seed"
    assert a.history == (info.value.record,)
    assert a.version == 2  # the constructor's snapshot and the one transition


def test_hook_registration_is_checked_and_removable() -> None:
    lc = STARS.evolve()
    with pytest.raises(UnknownName):
        lc.before("sing")
    with pytest.raises(UnknownName):
        lc.on_enter("gold")
    with pytest.raises(InvalidValue):
        lc.on_cycle("boom")
    with pytest.raises(InvalidValue):
        lc._register("after", "*", 42)  # type: ignore[arg-type]
    seen: list[str] = []
    hook = lc.after()(lambda e: seen.append(e.trigger))
    lc.fire(signed(), "sign", at=at(1))
    assert lc.remove_hook(hook) == 1
    lc.fire(signed(), "sign", at=at(1))
    assert seen == ["sign"]


def test_hook_that_moves_the_account_itself_is_refused() -> None:
    lc = STARS.evolve()
    other = STARS  # a hook that fires on the same account through another lifecycle

    @lc.before("sign")
    def sneaky(e: HookEvent) -> None:
        other.fire(e.account, "sign", at=e.at)

    a = signed()
    with pytest.raises(ConcurrentModification):
        lc.fire(a, "sign", at=at(1))
    assert a.stage == "seed" and len(a.history) == 1  # only the sneaky fire landed


# --------------------------------------------------------------------------- observe, check
def test_observe_derives_band_and_refuses_old_snapshots() -> None:
    a = Account("a")
    stored = STARS.observe(a, snap(5, health=39.9))
    assert stored.band is Band.RED
    assert STARS.observe(a, snap(6, health=50, band="green")).band is Band.GREEN
    with pytest.raises(OutOfOrder):
        STARS.observe(a, snap(1, health=90))
    assert len(a.snapshots) == 2
    with pytest.raises(InvalidValue, match="snapshot"):
        STARS.observe(a, {"health": 3})  # type: ignore[arg-type]


def test_policy_changes_bands() -> None:
    from stars import BandCutoffs

    strict = STARS.evolve(policy=Policy(bands=BandCutoffs(red_below=50, green_from=90)))
    assert strict.observe(Account("a"), snap(health=85)).band is Band.YELLOW


def test_available_lists_what_may_fire() -> None:
    a = account_in("accelerate", [snap(0, health=50, expansion_open=True)])
    triggers = {v.trigger: v.destination for v in STARS.available(a)}
    assert triggers == {"stagnate": "reset", "lose": "churn"}


def test_check_without_any_time_asks_for_one_and_never_reads_the_local_clock() -> None:
    with pytest.raises(InvalidValue) as info:
        STARS.check(Account("a", stage="seed"), "escalate")
    assert info.value.field == "at"
    verdict = STARS.check(Account("a", stage="seed"), "escalate", at=at(0))
    assert not verdict.allowed and verdict.reasons == ("no snapshot observed yet",)
    clocked = STARS.evolve(clock=lambda: at(0))
    assert clocked.check(Account("a", stage="seed"), "escalate") == verdict


def test_tenure_unknown_is_a_reason() -> None:
    a = Account("a", stage="accelerate", snapshots=[snap(d, **GREEN) for d in (0, 1, 2)])
    assert "tenure is unknown" in STARS.check(a, "sustain").reasons[0]


# --------------------------------------------------------------------------- replay
def test_replay_rebuilds_the_same_account() -> None:
    a = Account("acme")
    STARS.observe(a, snap(contract_signed=True))
    STARS.fire(a, "sign", at=at(1))
    STARS.fire(a, "escalate", at=at(2), force=True, reason="outage")
    STARS.fire(a, "stabilize", at=at(3), force=True, reason="fixed")
    b = STARS.replay("acme", a.history, snapshots=a.snapshots)
    assert b == a
    assert b.history[0] is a.history[0]  # records are reused


def test_replay_refuses_broken_histories() -> None:
    r = STARS.fire(account_in("prospect", [snap(contract_signed=True)]), "sign", at=at(1))
    with pytest.raises(TransitionNotAllowed):
        STARS.replay("x", [Event("sustain", at(1))])
    with pytest.raises(InvalidValue, match="source"):
        STARS.replay("x", [r, r])
    with pytest.raises(OutOfOrder):
        STARS.replay("x", [Event("sign", at(5)), Event("lose", at(4), reason="x")])
    with pytest.raises(TransitionNotAllowed, match="realign -> seed"):
        STARS.replay(
            "x",
            [
                Event("sign", at(1)),
                Event("escalate", at(2)),
                Event("stabilize", at(3)),
                Event("realign", at(4), to="seed"),
            ],
        )
    with pytest.raises(InvalidValue, match="TransitionRecord or an Event"):
        STARS.replay("x", ["sign"])  # type: ignore[list-item]
    from stars import TransitionRecord

    wrong_cycle = TransitionRecord("sign", "prospect", "seed", "crisis", at(1))
    with pytest.raises(InvalidValue, match="cycle"):
        STARS.replay("x", [wrong_cycle])
    wrong_dest = TransitionRecord("sign", "prospect", "ascend", "growth", at(1))
    with pytest.raises(TransitionNotAllowed):
        STARS.replay("x", [wrong_dest])
    with pytest.raises(TransitionNotAllowed):
        STARS.replay("x", [TransitionRecord("sustain", "prospect", "ascend", "growth", at(1))])


# --------------------------------------------------------------------------- definitions
def test_custom_lifecycle_with_an_extra_stage_end_to_end() -> None:
    pilot = StageDef(
        "pilot",
        "growth",
        StageProfile("Trial", None, ("guide",), "Trying the product.", ("Set trial goals.",)),
    )
    stages = [*STARS_STAGES, pilot]
    transitions = [
        *STARS_TRANSITIONS,
        TransitionDef("trial", "prospect", "pilot", "growth"),
        TransitionDef("convert", "pilot", "seed", "growth", (GUARDS["contract_signed"],)),
        TransitionDef("drop", "pilot", "prospect", "crisis"),
    ]
    lc = Lifecycle(stages, transitions, initial="prospect", name="with pilot")
    entered: list[str] = []
    lc.on_enter("pilot")(lambda e: entered.append(e.account.id))
    a = lc.new_account("acme")
    lc.fire(a, "trial", at=at(1))
    with pytest.raises(TransitionRefused):
        lc.fire(a, "convert", at=at(2))
    lc.observe(a, snap(3, contract_signed=True))
    lc.fire(a, "convert", at=at(4))
    assert [r.dest for r in a.history] == ["pilot", "seed"]
    assert entered == ["acme"]
    assert lc.replay("acme", a.history, snapshots=a.snapshots) == a
    assert "prospect --> pilot : trial" in lc.to_mermaid()
    assert lc.profile("pilot") == pilot.profile
    assert lc.kind_of("pilot").value == "growth"
    assert lc.diagnose(a).current == "seed"


def _stages(*pairs: tuple[str, str]) -> list[StageDef]:
    return [StageDef(n, k) for n, k in pairs]


@pytest.mark.parametrize(
    ("stages", "transitions", "initial", "message"),
    [
        ([], [], "a", "at least one stage"),
        (_stages(("a", "growth")), [], "b", "initial stage 'b'"),
        (_stages(("a", "before"), ("a", "growth")), [], "a", "defined twice"),
        (_stages(("a", "before")), [], "a", "at least one growth stage"),
        (
            _stages(("a", "before"), ("b", "growth")),
            [TransitionDef("go", "a", "c", "growth")],
            "a",
            "unknown stage 'c'",
        ),
        (
            _stages(("a", "before"), ("b", "growth"), ("z", "growth")),
            [TransitionDef("go", "a", "b", "growth")],
            "a",
            "'z' is unreachable",
        ),
        (
            _stages(("a", "before"), ("b", "growth"), ("c", "lost")),
            [TransitionDef("go", "a", "b", "growth"), TransitionDef("die", "b", "c", "crisis")],
            "a",
            "'c' can never get back",
        ),
        (
            _stages(("a", "before"), ("b", "growth")),
            [TransitionDef("go", "a", "b", "growth"), TransitionDef("go", "a", "b", "growth")],
            "a",
            "defined twice",
        ),
        (_stages(("a", "growth")), ["nope"], "a", "TransitionDef"),
        (["nope"], [], "a", "StageDef"),
        (
            _stages(("a", "growth")),
            [TransitionDef("go", (), "a", "growth")],
            "a",
            "no source stage",
        ),
        (
            _stages(("a", "growth")),
            [TransitionDef("go", "a", "a", "growth", ("nope",))],  # type: ignore[arg-type]
            "a",
            "Guard values",
        ),
    ],
)
def test_broken_definitions_fail_at_build(
    stages: list[Any], transitions: list[Any], initial: str, message: str
) -> None:
    with pytest.raises(InvalidDefinition, match=message):
        Lifecycle(stages, transitions, initial=initial)


def test_definition_values_are_validated() -> None:
    with pytest.raises(InvalidValue, match="kind"):
        StageDef("x", "sideways")
    with pytest.raises(InvalidValue, match="cycle"):
        TransitionDef("go", "a", "b", "spiral")
    with pytest.raises(InvalidValue, match="sources"):
        TransitionDef("go", 3, "b", "growth")  # type: ignore[arg-type]
    with pytest.raises(InvalidDefinition, match="callable"):
        Guard("g", "g", "not callable")  # type: ignore[arg-type]


def test_custom_lifecycle_without_diagnoser() -> None:
    lc = Lifecycle(
        _stages(("a", "before"), ("b", "growth")),
        [TransitionDef("go", "a", "b", "growth"), TransitionDef("back", "b", "a", "crisis")],
        initial="a",
    )
    with pytest.raises(InvalidDefinition, match="no diagnoser"):
        lc.diagnose(lc.new_account("x"))
    custom = lc.evolve(diagnoser=lambda ev, policy: ("b", ("always b",)))
    d = custom.diagnose(custom.new_account("x"))
    assert (d.stage, d.agrees, d.triggers, d.playbook) == ("b", False, ("go",), None)
    assert "Lifecycle(name='custom'" in repr(lc)


def test_mermaid_shows_every_edge_with_guards() -> None:
    text = STARS.to_mermaid()
    assert text.startswith("stateDiagram-v2\n    [*] --> prospect")
    for t in STARS_TRANSITIONS:
        for source in t.sources:
            assert f"    {source} --> {t.dest} : {t.trigger}" in text
    assert "accelerate --> ascend : sustain [green streak & min tenure]" in text
    assert "churn --> prospect : win_back\n" in text + "\n"


# --------------------------------------------------------------------------- diagnose
@pytest.mark.parametrize(
    ("stage", "snaps", "since", "expected"),
    [
        ("churn", [snap(**GREEN)], at(-900), "churn"),
        ("prospect", [snap(**GREEN)], None, "prospect"),
        ("ascend", [snap(**RED)], at(-900), "tact"),
        ("ascend", [snap(critical_risk=True, **GREEN)], at(-900), "tact"),
        ("ascend", [snap(success_metrics_agreed=True, **YELLOW)], at(-900), "reset"),
        ("seed", [snap(**YELLOW)], at(-30), "seed"),
        (
            "ascend",
            [
                snap(d, health=h, success_metrics_agreed=True)
                for d, h in ((0, 98), (30, 88), (60, 75))
            ],
            at(-900),
            "reset",
        ),
        ("ascend", [snap()], at(-900), None),
        ("seed", [snap(**GREEN)], at(-10), "seed"),
        ("seed", [snap(success_metrics_agreed=True, **GREEN)], at(-10), "accelerate"),
        (
            "accelerate",
            [snap(d, success_metrics_agreed=True, **GREEN) for d in (0, 30, 60)],
            at(-900),
            "ascend",
        ),
        (
            "ascend",
            [
                snap(d, success_metrics_agreed=True, expansion_open=True, **GREEN)
                for d in (0, 30, 60)
            ],
            at(-900),
            "accelerate",
        ),
    ],
)
def test_diagnose(
    stage: str, snaps: list[Snapshot], since: datetime | None, expected: str | None
) -> None:
    a = Account("a", stage=stage, snapshots=snaps, since=since)
    d = STARS.diagnose(a)
    assert d.stage == expected
    assert d.agrees is (expected is None or expected == stage)
    assert d.reasons
    if expected is not None:
        assert d.playbook == Stage(expected).profile
        html = d._repr_html_()
        assert "<table>" in html and expected in html


def test_diagnose_suggests_triggers_and_respects_at() -> None:
    a = Account("a", stage="ascend", since=at(-900), snapshots=[snap(0, **GREEN), snap(30, **RED)])
    assert STARS.diagnose(a).triggers == ("escalate",)
    early = STARS.diagnose(a, at=at(10))
    assert early.evidence.band is Band.GREEN


# --------------------------------------------------------------------------- handover
def test_handover_brief_tells_the_story() -> None:
    a = Account("acme", name="Acme Corp", snapshots=[snap(0, contract_signed=True)])
    STARS.fire(a, "sign", at=at(1))
    STARS.fire(a, "escalate", at=at(100), force=True, reason="outage")
    STARS.fire(a, "restart", at=at(160), force=True, reason="new sponsor")
    STARS.observe(a, snap(170, health=66))
    text = handover_brief(a, open_plans=["Re-onboarding plan, owner Dana"])
    assert text.startswith("# Hand-over brief: Acme Corp (acme)")
    assert "| tact | 2024-04-10 | 2 months |" in text
    assert "left seed for tact; recovered to seed after 2 months" in text
    assert "Re-onboarding plan, owner Dana" in text
    assert "builder and consultant" in text
    assert "health 66, band yellow" in text
    empty = handover_brief(Account("new"))
    assert "No transitions recorded yet." in empty and "None: the account" in empty


def test_account_html_and_repr() -> None:
    a = signed()
    STARS.fire(a, "sign", at=at(1))
    assert repr(a) == "Account(id='acme', stage='seed', snapshots=1, history=1, version=2)"
    html = a._repr_html_()
    assert "Account acme" in html and "prospect → seed" in html


# --------------------------------------------------------------------------- observe with measures
def test_observe_scores_raw_measures_so_guards_see_a_band() -> None:
    from stars.health import ScorecardSet, default_scorecard, default_scorecard_set

    a = account_in("seed")
    raw = {
        "adoption": 0.9,
        "open_tickets": 0,
        "days_since_contact": 3,
        "nps": 60,
        "csat": 95,
        "sentiment": 1,
    }
    stored = STARS.observe(a, snap(1, success_metrics_agreed=True), measures=raw)
    expected = default_scorecard().score(raw)
    assert stored.health == expected.score
    assert stored.band is expected.band is Band.GREEN
    assert STARS.check(a, "accelerate", at=at(2)).allowed

    with pytest.raises(InvalidValue, match="measures"):
        STARS.observe(a, snap(3, health=50), measures=raw)
    with pytest.raises(UnknownName):
        STARS.observe(a, snap(3), measures={"adoptoin": 0.5})
    assert len(a.snapshots) == 1  # nothing half-applied

    lc = STARS.evolve(scorecards=default_scorecard_set())
    assert isinstance(lc.scorecards, ScorecardSet)
    assert lc.observe(Account("b", stage="ascend"), snap(1), measures=raw).band is Band.GREEN


def test_observe_keeps_the_raw_measures() -> None:
    a = account_in("seed")
    raw = {"adoption": 0.4, "open_tickets": 7, "nps": None, "sentiment": 0.2}
    stored = STARS.observe(a, snap(1, csat=80), measures=raw)
    assert (stored.adoption, stored.open_tickets, stored.nps, stored.csat) == (0.4, 7, None, 80)
    assert stored.metrics == {}


def test_observe_keeps_unknown_measures_in_metrics() -> None:
    from stars.health import Direction, Linear, Measure, Scorecard, ScorecardSet

    card = Scorecard([Measure("logins", 1.0, Direction.HIGHER_IS_BETTER, Linear(0, 100))])
    lc = STARS.evolve(scorecards=ScorecardSet(card))
    stored = lc.observe(account_in("seed"), snap(1, metrics={"seats": 5}), measures={"logins": 50})
    assert stored.metrics == {"seats": 5, "logins": 50}
    assert stored.health == 50


def test_a_guard_that_raises_vetoes_cleanly() -> None:
    def broken(ctx: object) -> str | None:
        raise ZeroDivisionError("bad guard")

    lc = Lifecycle(
        STARS_STAGES,
        [
            TransitionDef(
                t.trigger, t.sources, t.dest, t.cycle, (Guard("broken", "broken", broken),)
            )
            if t.trigger == "sign"
            else t
            for t in STARS_TRANSITIONS
        ],
        initial="prospect",
    )
    a = Account("a")
    with pytest.raises(TransitionVetoed, match="guard raised"):
        lc.fire(a, "sign", at=at(1))
    assert (a.stage, a.history, a.version) == ("prospect", (), 0)
    assert lc.fire(a, "sign", at=at(1), force=True, reason="override").dest == "seed"


# --------------------------------------------------------------------------- record
def test_record_builds_what_replay_appends_without_changing_anything() -> None:
    events = [
        Event("sign", T0),
        Event("escalate", T0 + timedelta(days=30), reason="outage"),
        Event("stabilize", T0 + timedelta(days=60)),
    ]
    replayed = STARS.replay("a", events)
    stage = STARS.initial
    built = []
    for event in events:
        record = STARS.record(stage, event, account_id="a")
        built.append(record)
        stage = record.dest
    assert tuple(built) == replayed.history
    assert stage == replayed.stage


def test_record_refuses_what_replay_refuses_and_names_the_field() -> None:
    with pytest.raises(TransitionNotAllowed, match="renew"):
        STARS.record("seed", Event("renew", T0))
    with pytest.raises(UnknownName):
        STARS.record("sede", Event("escalate", T0))
    with pytest.raises(InvalidValue, match=r"event\.reason"):
        STARS.record("seed", Event("escalate", T0, forced=True, reason=None))
    with pytest.raises(InvalidValue, match=r"^event: got"):
        STARS.record("seed", ("escalate", T0))  # type: ignore[arg-type]
