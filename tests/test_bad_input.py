"""Bad input anywhere in the core raises a stars error that names it, never a builtin from deep inside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from stars import (
    STARS,
    Account,
    BandCutoffs,
    InvalidDefinition,
    InvalidValue,
    Lifecycle,
    Policy,
    Snapshot,
    StageDef,
    StarsError,
    TransitionDef,
    TransitionRecord,
    UnknownName,
    episodes,
    evidence,
    handover_brief,
)
from stars.health import Direction, Linear, Measure, Scorecard, ScorecardSet, default_scorecard

T = datetime(2025, 1, 1, tzinfo=UTC)
NAIVE = datetime(2025, 1, 1)
HUGE = 10**400
UP = Direction.HIGHER_IS_BETTER


@pytest.mark.parametrize(
    "make",
    [
        lambda: Snapshot(at=T, health=HUGE),
        lambda: Linear(0, HUGE),
        lambda: Measure("a", HUGE, UP, Linear(0, 1)),
        lambda: BandCutoffs(red_below=HUGE),
        lambda: default_scorecard().score({"adoption": HUGE}),
        lambda: Policy(min_tenure_days=HUGE),
        lambda: Scorecard(
            [Measure("a", 1e308, UP, Linear(0, 1)), Measure("b", 1e308, UP, Linear(0, 1))]
        ),
    ],
)
def test_numbers_too_large_for_a_float_are_refused(make: Any) -> None:
    with pytest.raises(InvalidValue):
        make()


def test_numpy_scalars_count_as_numbers_and_are_stored_as_python_numbers() -> None:
    s = Snapshot(at=T, health=np.float32(50.5), open_tickets=np.int64(2), nps=np.int64(10))
    assert (type(s.health), type(s.open_tickets), type(s.nps)) == (float, int, int)
    score = default_scorecard().score({"adoption": np.float64(0.5), "open_tickets": np.int64(3)})
    assert score == default_scorecard().score({"adoption": 0.5, "open_tickets": 3})
    with pytest.raises(InvalidValue):
        Snapshot(at=T, health=np.bool_(True))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"scorecards": default_scorecard()}, "ScorecardSet"),
        ({"policy": {"green_streak": 2}}, "Policy"),
        ({"name": 5}, "name"),
        ({"initial": ["prospect"]}, "initial"),
        ({"stages": None}, "stages"),
        ({"diagnoser": "rule"}, "diagnoser"),
    ],
)
def test_lifecycle_arguments_are_checked_when_built(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidDefinition, match=message):
        STARS.evolve(**changes)
    assert STARS.evolve(scorecards=ScorecardSet(default_scorecard())).scorecards is not None


def test_policy_bands_must_be_cutoffs() -> None:
    with pytest.raises(InvalidValue, match="bands"):
        Policy(bands={})  # type: ignore[arg-type]


def test_a_diagnoser_that_answers_wrongly_is_named() -> None:
    lc = STARS.evolve(diagnoser=lambda ev, policy: "x")
    with pytest.raises(InvalidDefinition, match="diagnoser"):
        lc.diagnose(Account("a"))
    lc = STARS.evolve(diagnoser=lambda ev, policy: ("gold", ()))
    with pytest.raises(UnknownName, match="gold"):
        lc.diagnose(Account("a"))


@pytest.mark.parametrize(
    "call",
    [
        lambda: STARS.fire({"id": "x"}, "sign", at=T),  # type: ignore[arg-type]
        lambda: STARS.check({}, "sign"),  # type: ignore[arg-type]
        lambda: STARS.observe("b", Snapshot(at=T)),  # type: ignore[arg-type]
        lambda: STARS.diagnose("x"),  # type: ignore[arg-type]
        lambda: STARS.available("x"),  # type: ignore[arg-type]
        lambda: handover_brief("x"),  # type: ignore[arg-type]
        lambda: handover_brief(Account("a"), lifecycle="x"),  # type: ignore[arg-type]
        lambda: episodes("x"),  # type: ignore[arg-type]
        lambda: evidence("x"),  # type: ignore[arg-type]
    ],
)
def test_something_other_than_an_account_is_named(call: Any) -> None:
    with pytest.raises(InvalidValue, match=r"account|lifecycle"):
        call()


def test_odd_triggers_versions_and_times() -> None:
    a = Account("a", snapshots=[Snapshot(at=T, health=80)])
    with pytest.raises(UnknownName):
        STARS.fire(a, ["sign"], at=T)  # type: ignore[arg-type]
    with pytest.raises(UnknownName):
        STARS.before(["x"])  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="expected_version"):
        STARS.fire(a, "sign", at=T, expected_version="0")  # type: ignore[arg-type]
    for call in (
        lambda: STARS.check(a, "sign", at=NAIVE),
        lambda: STARS.check(a, "stabilize", at="yesterday"),  # type: ignore[arg-type]
        lambda: STARS.available(a, at="x"),  # type: ignore[arg-type]
        lambda: STARS.diagnose(a, at=NAIVE),
        lambda: evidence(a, at=NAIVE),
        lambda: handover_brief(a, as_of=NAIVE),
    ):
        with pytest.raises(InvalidValue, match="timezone-aware"):
            call()
    with pytest.raises(UnknownName, match="bogus"):
        STARS.check(a, "sign", to="bogus")
    assert a.history == ()


def test_handover_brief_refuses_a_date_before_the_story_and_a_bare_string_of_plans() -> None:
    a = Account("a")
    STARS.fire(a, "sign", at=T, force=True, reason="import")
    with pytest.raises(InvalidValue, match="as_of"):
        handover_brief(a, as_of=T - timedelta(days=1))
    with pytest.raises(InvalidValue, match="open_plans"):
        handover_brief(a, open_plans="plan-1")  # type: ignore[arg-type]


def test_replay_arguments() -> None:
    with pytest.raises(InvalidValue, match="tags"):
        STARS.replay("a", [], tags="emea")
    assert STARS.replay("a", [], tags=["emea"]).tags == frozenset({"emea"})
    with pytest.raises(InvalidValue, match="items"):
        STARS.replay("a", None)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="snapshots"):
        STARS.replay("a", [], snapshots=5)  # type: ignore[arg-type]


def test_value_constructors_name_their_field() -> None:
    with pytest.raises(InvalidValue, match="cycle"):
        TransitionRecord("sign", "prospect", "seed", "bogus", T)
    with pytest.raises(InvalidValue, match="tags"):
        Account("a", tags=[["x"]])  # type: ignore[list-item]


def test_episodes_take_a_custom_lifecycle_and_a_sane_window() -> None:
    lc = Lifecycle(
        [StageDef("new", "before"), StageDef("live", "growth"), StageDef("sick", "crisis")],
        [
            TransitionDef("go", "new", "live", "growth"),
            TransitionDef("fall", "live", "sick", "crisis"),
            TransitionDef("heal", "sick", "live", "recovery"),
        ],
        initial="new",
    )
    a = lc.new_account("x")
    lc.fire(a, "go", at=T)
    lc.fire(a, "fall", at=T + timedelta(days=1))
    assert episodes(a) == ()  # the STARS kinds know nothing of "live" and "sick"
    (e,) = episodes(a, lc)
    assert (e.left, e.stages, e.outcome.value) == ("live", ("sick",), "ongoing")
    assert episodes(a, lc.kind_of) == episodes(a, lc)
    with pytest.raises(InvalidValue, match="relapse_window"):
        episodes(a, lc, relapse_window=timedelta(days=-1))
    with pytest.raises(InvalidValue, match="kind_of"):
        episodes(a, 5)  # type: ignore[arg-type]


def test_every_error_here_is_a_stars_error() -> None:
    assert issubclass(InvalidValue, StarsError)
