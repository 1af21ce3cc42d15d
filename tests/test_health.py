from __future__ import annotations

import math
import pickle
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from stars import bands
from stars.account import Snapshot
from stars.errors import InvalidDefinition, InvalidValue, UnknownName
from stars.health import (
    Band,
    BandCutoffs,
    Direction,
    HealthScore,
    Linear,
    Measure,
    MissingPolicy,
    Scorecard,
    ScorecardSet,
    Steps,
    Trend,
    TrendDirection,
    default_scorecard,
    default_scorecard_set,
    measures_from,
    trend,
)
from stars.stages import Stage

UP = Direction.HIGHER_IS_BETTER
DOWN = Direction.LOWER_IS_BETTER
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def two_measure_card(**kwargs: object) -> Scorecard:
    # adoption weighs 3, tickets 1: normalised 0.75 and 0.25.
    return Scorecard(
        [
            Measure("adoption", 3, UP, Linear(0, 1), domain=(0, 1)),
            Measure("open_tickets", 1, DOWN, Linear(0, 10), domain=(0, None)),
        ],
        **kwargs,  # type: ignore[arg-type]
    )


# -- re-exports --------------------------------------------------------------------------


def test_band_and_cutoffs_are_the_foundation_classes() -> None:
    assert Band is bands.Band
    assert BandCutoffs is bands.BandCutoffs


# -- rules ---------------------------------------------------------------------------------


def test_linear_higher_is_better_scores_proportionally_and_clips() -> None:
    rule = Linear(10, 30)
    assert rule.apply(10, UP) == 0.0
    assert rule.apply(20, UP) == 50.0
    assert rule.apply(30, UP) == 100.0
    assert rule.apply(-5, UP) == 0.0
    assert rule.apply(99, UP) == 100.0


def test_linear_lower_is_better_scores_the_low_end_100() -> None:
    rule = Linear(10, 30)
    assert rule.apply(10, DOWN) == 100.0
    assert rule.apply(25, DOWN) == 25.0
    assert rule.apply(30, DOWN) == 0.0
    assert rule.apply(0, DOWN) == 100.0
    assert rule.apply(31, DOWN) == 0.0


@pytest.mark.parametrize(("lo", "hi"), [(1, 1), (2, 1)])
def test_linear_needs_lo_below_hi(lo: float, hi: float) -> None:
    with pytest.raises(InvalidDefinition, match="lo below hi"):
        Linear(lo, hi)


def test_linear_refuses_bounds_too_close_to_divide_by() -> None:
    with pytest.raises(InvalidDefinition, match="too close"):
        Linear(0.0, 5e-324)


@pytest.mark.parametrize("bad", ["1", None, math.nan, math.inf, True])
def test_linear_refuses_non_numbers(bad: object) -> None:
    with pytest.raises(InvalidValue, match=r"^lo: "):
        Linear(bad, 1)  # type: ignore[arg-type]


def test_linear_bounds_become_floats_and_worst_is_zero() -> None:
    rule = Linear(0, 5)
    assert (type(rule.lo), type(rule.hi)) == (float, float)
    assert rule.worst == 0.0


def test_steps_value_on_a_threshold_goes_to_the_upper_step() -> None:
    rule = Steps((3, 6, 10), (100, 70, 40, 0))
    got = [rule.apply(x, DOWN) for x in (0, 2.999, 3, 5, 6, 9.5, 10, 1e9)]
    assert got == [100.0, 100.0, 70.0, 70.0, 40.0, 40.0, 0.0, 0.0]
    assert rule.worst == 0.0


@pytest.mark.parametrize(
    ("thresholds", "scores", "message"),
    [
        ((), (50,), "at least one threshold"),
        ((1, 2), (0, 50), "one score more"),
        ((2, 2), (0, 50, 100), "increase strictly"),
        ((3, 1), (0, 50, 100), "increase strictly"),
    ],
)
def test_steps_definition_errors(
    thresholds: tuple[float, ...], scores: tuple[float, ...], message: str
) -> None:
    with pytest.raises(InvalidDefinition, match=message):
        Steps(thresholds, scores)


def test_steps_value_errors_name_the_position() -> None:
    with pytest.raises(InvalidValue, match=r"scores\[1\]: got 120"):
        Steps((1,), (0, 120))
    with pytest.raises(InvalidValue, match=r"thresholds\[0\]: got 'a'"):
        Steps(("a",), (0, 1))  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="thresholds: got 5"):
        Steps(5, (0, 1))  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="scores: got 'ab'"):
        Steps((1,), "ab")  # type: ignore[arg-type]


def test_rules_are_frozen_and_comparable() -> None:
    assert Steps([1, 2], [0, 50, 100]) == Steps((1.0, 2.0), (0.0, 50.0, 100.0))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Linear(0, 1).lo = 3  # type: ignore[misc]


# -- measures ------------------------------------------------------------------------------


def test_measure_direction_can_be_given_by_value_but_never_defaults() -> None:
    m = Measure("nps", 1, "lower_is_better", Linear(0, 1))  # type: ignore[arg-type]
    assert m.direction is DOWN
    with pytest.raises(InvalidValue, match="direction: got 'up'"):
        Measure("nps", 1, "up", Linear(0, 1))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Measure("nps", 1, rule=Linear(0, 1))  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": ""}, "name: got ''"),
        ({"name": " nps"}, "without leading or trailing spaces"),
        ({"weight": -1}, "weight: got -1"),
        ({"weight": math.inf}, "weight: got inf"),
        ({"rule": (0, 1)}, "rule: got"),
        ({"domain": (0,)}, "domain: got"),
        ({"domain": "ab"}, "domain: got"),
        ({"domain": (2, 1)}, "lo at or below hi"),
        ({"domain": (0, math.nan)}, "domain: got nan"),
        ({"group": ""}, "group: got ''"),
    ],
)
def test_measure_refuses_bad_fields(kwargs: dict[str, object], match: str) -> None:
    fields: dict[str, object] = {
        "name": "nps",
        "weight": 1,
        "direction": UP,
        "rule": Linear(0, 1),
        **kwargs,
    }
    with pytest.raises(InvalidValue, match=match):
        Measure(**fields)  # type: ignore[arg-type]


def test_measure_domain_may_be_open_at_either_end() -> None:
    assert Measure("t", 1, DOWN, Linear(0, 9), domain=(0, None)).domain == (0.0, None)
    m = Measure("t", 1, DOWN, Linear(0, 9), domain=[None, 5])
    assert m.domain == (None, 5.0)
    assert m.score(-100) == 100.0
    with pytest.raises(InvalidValue, match="t: got 6, expected a number at or below 5"):
        m.score(6)


def test_steps_scores_must_run_the_way_the_direction_says() -> None:
    Measure("t", 1, UP, Steps((1, 2), (0, 0, 100)))
    Measure("t", 1, DOWN, Steps((1, 2), (100, 100, 0)))
    with pytest.raises(InvalidDefinition, match="must not fall"):
        Measure("t", 1, UP, Steps((1, 2), (0, 50, 40)))
    with pytest.raises(InvalidDefinition, match="must not rise"):
        Measure("t", 1, DOWN, Steps((1,), (50, 60)))


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (True, "adoption: got True"),
        ("0.5", "adoption: got '0.5'"),
        (math.nan, "adoption: got nan"),
        (math.inf, "adoption: got inf"),
        (1.01, "adoption: got 1.01, expected a number from 0 to 1"),
        (-0.1, "adoption: got -0.1"),
    ],
)
def test_measure_refuses_bad_values_naming_itself(value: object, match: str) -> None:
    m = Measure("adoption", 1, UP, Linear(0, 1), domain=(0, 1))
    with pytest.raises(InvalidValue, match=match) as info:
        m.score(value)
    assert info.value.field == "adoption"


def test_measure_without_domain_refuses_only_non_finite() -> None:
    m = Measure("x", 1, UP, Linear(0, 1))
    assert m.check(-1e12) == -1e12
    assert m.score(-1e12) == 0.0
    with pytest.raises(InvalidValue, match="expected a finite number"):
        m.check(-math.inf)


def test_measure_worst_follows_its_rule() -> None:
    assert Measure("x", 1, UP, Linear(0, 1)).worst == 0.0
    assert Measure("x", 1, UP, Steps((1,), (25, 80))).worst == 25.0


# -- scorecard definition -----------------------------------------------------------------


def test_scorecard_needs_measures() -> None:
    with pytest.raises(InvalidDefinition, match="at least one measure"):
        Scorecard([])


def test_scorecard_refuses_duplicate_names() -> None:
    m = Measure("nps", 1, UP, Linear(0, 1))
    with pytest.raises(InvalidDefinition, match="'nps' appears more than once"):
        Scorecard([m, m])


def test_scorecard_refuses_all_zero_weights() -> None:
    with pytest.raises(InvalidDefinition, match="every measure weighs 0"):
        Scorecard([Measure("a", 0, UP, Linear(0, 1)), Measure("b", 0, UP, Linear(0, 1))])


@pytest.mark.parametrize("bad", ["adoption", 5, {"a": 1}, [Linear(0, 1)]])
def test_scorecard_measures_must_be_measures(bad: object) -> None:
    with pytest.raises(InvalidValue, match=r"^measures"):
        Scorecard(bad)  # type: ignore[arg-type]


def test_scorecard_group_label_without_group_weights_is_unknown() -> None:
    with pytest.raises(UnknownName, match="unknown group 'usage'"):
        Scorecard([Measure("a", 1, UP, Linear(0, 1), group="usage")])


def test_scorecard_unknown_group_lists_the_known_ones() -> None:
    with pytest.raises(UnknownName, match="unknown group 'usage'; known: 'feedback'"):
        Scorecard([Measure("a", 1, UP, Linear(0, 1), group="usage")], groups={"feedback": 1})


def test_scorecard_with_groups_needs_every_measure_in_one() -> None:
    with pytest.raises(InvalidDefinition, match="'b' has no group"):
        Scorecard(
            [Measure("a", 1, UP, Linear(0, 1), group="g"), Measure("b", 1, UP, Linear(0, 1))],
            groups={"g": 1},
        )


def test_scorecard_group_with_weight_needs_weighted_measures() -> None:
    with pytest.raises(InvalidDefinition, match="group 'h' has weight"):
        Scorecard([Measure("a", 1, UP, Linear(0, 1), group="g")], groups={"g": 1, "h": 1})
    with pytest.raises(InvalidDefinition, match="group 'g' has weight"):
        Scorecard(
            [
                Measure("a", 0, UP, Linear(0, 1), group="g"),
                Measure("b", 1, UP, Linear(0, 1), group="h"),
            ],
            groups={"g": 1, "h": 1},
        )


def test_scorecard_refuses_bad_group_weights() -> None:
    m = Measure("a", 1, UP, Linear(0, 1), group="g")
    with pytest.raises(InvalidValue, match=r"groups\['g'\]: got -1"):
        Scorecard([m], groups={"g": -1})
    with pytest.raises(InvalidDefinition, match="every group weighs 0"):
        Scorecard([m], groups={"g": 0})
    with pytest.raises(InvalidValue, match="groups"):
        Scorecard([m], groups=[("g", 1)])  # type: ignore[arg-type]


def test_group_weights_split_the_total_then_measures_split_their_group() -> None:
    card = Scorecard(
        [
            Measure("a", 1, UP, Linear(0, 1), group="g"),
            Measure("b", 3, UP, Linear(0, 1), group="g"),
            Measure("c", 5, UP, Linear(0, 1), group="h"),
            Measure("d", 0, UP, Linear(0, 1), group="z"),
            Measure("e", 0, UP, Linear(0, 1), group="z"),
        ],
        groups={"g": 2, "h": 2, "z": 0},
    )
    # g and h each carry half; inside g, a:b = 1:3; group z weighs nothing.
    assert card.weights == {"a": 0.125, "b": 0.375, "c": 0.5, "d": 0.0, "e": 0.0}


def test_scorecard_missing_policy_and_cutoffs_are_checked() -> None:
    assert two_measure_card(missing="worst").missing is MissingPolicy.WORST
    assert two_measure_card(groups=None).groups == {}
    with pytest.raises(InvalidValue, match="missing: got 'skip'"):
        two_measure_card(missing="skip")
    with pytest.raises(InvalidValue, match="cutoffs"):
        two_measure_card(cutoffs=(40, 70))


def test_scorecard_measure_lookup() -> None:
    card = two_measure_card()
    assert card.measure("adoption").weight == 3.0
    assert card.names == ("adoption", "open_tickets")
    with pytest.raises(UnknownName, match="unknown measure 'nps'"):
        card.measure("nps")


def test_scorecard_pickles_and_compares() -> None:
    card = default_scorecard()
    again = pickle.loads(pickle.dumps(card))
    assert again == card
    assert again.weights == card.weights


# -- scoring -------------------------------------------------------------------------------


def test_full_values_by_hand() -> None:
    # adoption 0.5 -> 50, tickets 4 -> 70 (3..6 step), contact 37 days -> (60-37)/46 -> 50,
    # nps 0 -> 50, csat 70 -> 50, sentiment 0 -> 50.
    # 0.25*50 + 0.125*70 + 0.125*50 + 0.15*50 + 0.15*50 + 0.2*50 = 52.5
    hs = default_scorecard().score(
        {
            "adoption": 0.5,
            "open_tickets": 4,
            "days_since_contact": 37,
            "nps": 0,
            "csat": 70,
            "sentiment": 0,
        }
    )
    assert hs.score == pytest.approx(52.5)
    assert hs.band is Band.YELLOW
    assert hs.missing == ()
    assert hs.measure_scores["open_tickets"] == 70.0
    assert hs.contributions["adoption"] == pytest.approx(12.5)
    # adoption loses 0.25 * 50 = 12.5 points, more than any other.
    assert hs.weakest == "adoption"
    assert hs.lost()["sentiment"] == pytest.approx(10.0)
    assert math.fsum(hs.contributions.values()) == pytest.approx(hs.score, abs=1e-9)


def test_redistribute_shares_missing_weight_among_the_rest() -> None:
    # adoption 0.8 -> 100 (weight .25), nps -50 -> 0 (weight .15): 25 / 0.4 = 62.5.
    hs = default_scorecard().score({"adoption": 0.8, "nps": -50, "csat": None})
    assert hs.score == pytest.approx(62.5)
    assert hs.weights["adoption"] == pytest.approx(0.625)
    assert hs.weights["csat"] == 0.0
    assert hs.contributions["csat"] == 0.0
    assert set(hs.measure_scores) == {"adoption", "nps"}
    assert hs.missing == ("open_tickets", "days_since_contact", "csat", "sentiment")
    assert hs.weakest == "nps"


def test_worst_counts_a_missing_measure_at_its_lowest() -> None:
    card = Scorecard(
        [
            Measure("adoption", 1, UP, Linear(0, 1)),
            Measure("tickets", 1, DOWN, Steps((5,), (100, 30))),
        ],
        missing=MissingPolicy.WORST,
    )
    hs = card.score({"adoption": 1.0})
    # 0.5 * 100 + 0.5 * 30 (the lowest step) = 65
    assert hs.score == 65.0
    assert hs.measure_scores == {"adoption": 100.0, "tickets": 30.0}
    assert hs.missing == ("tickets",)
    assert hs.weakest == "tickets"


def test_refuse_names_the_missing_measure() -> None:
    card = two_measure_card(missing=MissingPolicy.REFUSE)
    assert card.score({"adoption": 1, "open_tickets": 0}).score == 100.0
    with pytest.raises(InvalidValue, match="open_tickets: got None") as info:
        card.score({"adoption": 1, "open_tickets": None})
    assert info.value.field == "open_tickets"


def test_every_measure_missing_is_refused_not_scored() -> None:
    with pytest.raises(InvalidValue, match="nothing to score"):
        default_scorecard().score({})
    card = Scorecard([Measure("a", 1, UP, Linear(0, 1)), Measure("b", 0, UP, Linear(0, 1))])
    # only the zero-weight measure is present: still nothing to score
    with pytest.raises(InvalidValue, match="nothing to score"):
        card.score({"b": 1})


def test_unknown_name_is_refused_so_typos_are_never_ignored() -> None:
    with pytest.raises(UnknownName, match="unknown measure 'adoptoin'") as info:
        two_measure_card().score({"adoptoin": 0.5, "open_tickets": 1})
    assert "adoption" in info.value.known


def test_score_needs_a_mapping() -> None:
    with pytest.raises(InvalidValue, match="values: got"):
        two_measure_card().score([("adoption", 1)])  # type: ignore[arg-type]


def test_bad_value_is_refused_with_the_measure_name() -> None:
    with pytest.raises(InvalidValue, match=r"adoption: got 1\.5"):
        two_measure_card().score({"adoption": 1.5})


def test_perfect_account_has_no_weakest_measure() -> None:
    hs = two_measure_card().score({"adoption": 1, "open_tickets": 0})
    assert (hs.score, hs.band, hs.weakest) == (100.0, Band.GREEN, None)


def test_cutoffs_decide_the_band() -> None:
    values = {"adoption": 0.6, "open_tickets": 4}  # 0.75*60 + 0.25*60 = 60
    assert two_measure_card().score(values).band is Band.YELLOW
    strict = two_measure_card(cutoffs=BandCutoffs(red_below=65, green_from=90))
    assert strict.score(values).band is Band.RED
    lenient = two_measure_card(cutoffs=BandCutoffs(red_below=20, green_from=60))
    assert lenient.score(values).band is Band.GREEN


# -- health score --------------------------------------------------------------------------


def test_health_score_validates_its_fields() -> None:
    fields = {
        "score": 50,
        "band": "yellow",
        "contributions": {"a": 50},
        "measure_scores": {"a": 50},
        "weights": {"a": 1},
    }
    hs = HealthScore(**fields)  # type: ignore[arg-type]
    assert hs.band is Band.YELLOW and hs.score == 50.0
    with pytest.raises(InvalidValue, match="score: got 101"):
        HealthScore(**{**fields, "score": 101})  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="band: got 'blue'"):
        HealthScore(**{**fields, "band": "blue"})  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="missing"):
        HealthScore(**fields, missing="a")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="weakest"):
        HealthScore(**fields, weakest="")  # type: ignore[arg-type]


def test_explain_names_the_numbers_that_matter() -> None:
    hs = default_scorecard().score({"adoption": 0.5, "nps": 50, "csat": None})
    text = hs.explain()
    lines = text.splitlines()
    assert lines[0] == f"Health {hs.score:.1f} (yellow)"
    assert any(line.strip().startswith("adoption") and "50.0/100" in line for line in lines)
    assert "Costs the most: adoption" in text
    assert lines[-1] == "Missing: open_tickets, days_since_contact, csat, sentiment"


def test_explain_of_a_perfect_complete_score_is_just_the_table() -> None:
    text = two_measure_card().score({"adoption": 1, "open_tickets": 0}).explain()
    assert "Costs the most" not in text and "Missing" not in text
    assert len(text.splitlines()) == 3


def test_repr_html_is_a_table_with_every_measure() -> None:
    hs = default_scorecard().score({"adoption": 0.5, "nps": 50})
    html = hs._repr_html_()
    assert html.startswith("<table>")
    for name in default_scorecard().names:
        assert f"<td>{name}</td>" in html
    assert "costs the most" in html and "missing" in html
    perfect = two_measure_card().score({"adoption": 1, "open_tickets": 0})._repr_html_()
    assert "costs the most" not in perfect


# -- scorecard sets ------------------------------------------------------------------------


def test_scorecard_set_picks_the_stage_card_or_the_default() -> None:
    seed_card = two_measure_card()
    cards = ScorecardSet(default_scorecard(), {Stage.SEED: seed_card})
    assert cards.for_stage(Stage.SEED) is seed_card
    assert cards.for_stage("seed") is seed_card
    assert cards.for_stage("ascend") is cards.default
    assert list(cards.by_stage) == ["seed"]
    assert type(next(iter(cards.by_stage))) is str
    hs = cards.score("seed", {"adoption": 1, "open_tickets": 0})
    assert hs.score == 100.0


def test_scorecard_set_validates_its_parts() -> None:
    with pytest.raises(InvalidValue, match="default"):
        ScorecardSet("card")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"by_stage\['seed'\]"):
        ScorecardSet(default_scorecard(), {"seed": "card"})  # type: ignore[dict-item]
    with pytest.raises(InvalidValue, match="by_stage key"):
        ScorecardSet(default_scorecard(), {"": default_scorecard()})
    with pytest.raises(InvalidValue, match="by_stage: got"):
        ScorecardSet(default_scorecard(), [default_scorecard()])  # type: ignore[arg-type]
    assert ScorecardSet(default_scorecard(), None).by_stage == {}  # type: ignore[arg-type]


def test_default_set_weighs_usage_more_in_seed() -> None:
    cards = default_scorecard_set()
    seed, other = cards.for_stage("seed"), cards.for_stage("ascend")
    assert seed.names == other.names
    assert seed.weights["adoption"] > other.weights["adoption"]
    assert seed.weights["nps"] < other.weights["nps"]


# -- trend ---------------------------------------------------------------------------------


def snaps(*healths: float | None, every: int = 30) -> list[Snapshot]:
    return [Snapshot(at=T0 + timedelta(days=every * i), health=h) for i, h in enumerate(healths)]


def test_trend_falling_rising_and_flat() -> None:
    falling = trend(snaps(80, 70, 60))
    assert falling.slope == pytest.approx(-10.0)
    assert falling.direction is TrendDirection.FALLING
    assert falling.points == 3
    assert trend(snaps(50, 55, 60)).direction is TrendDirection.RISING
    # +1 point a month is within the default noise threshold of 2
    assert trend(snaps(50, 51, 52)).direction is TrendDirection.FLAT
    assert trend(snaps(50, 51, 52), flat_within=0.5).direction is TrendDirection.RISING


def test_trend_slope_is_per_30_days_whatever_the_spacing() -> None:
    # 6 points over 15 days: 3 points per 15 days is 6 per 30 days
    assert trend(snaps(60, 66, every=15)).slope == pytest.approx(12.0)


def test_trend_skips_snapshots_without_health_and_sorts_by_time() -> None:
    items = snaps(80, None, 60)
    t = trend(reversed(items))
    assert t.points == 2
    assert t.slope == pytest.approx(-10.0)


def test_trend_with_too_few_points_is_flat_without_a_slope() -> None:
    assert trend([]) == Trend(None, TrendDirection.FLAT, 0)
    assert trend(snaps(70)) == Trend(None, TrendDirection.FLAT, 1)


def test_trend_window_keeps_only_recent_points() -> None:
    items = snaps(90, 40, 42, 44)
    assert trend(items).direction is TrendDirection.FALLING
    recent = trend(items, window=timedelta(days=60))
    assert recent.points == 3
    assert recent.direction is TrendDirection.FLAT


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"flat_within": -1}, "flat_within"),
        ({"flat_within": math.nan}, "flat_within"),
        ({"window": 30}, "window"),
        ({"window": timedelta(0)}, "window"),
    ],
)
def test_trend_refuses_bad_options(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidValue, match=match):
        trend(snaps(1, 2), **kwargs)  # type: ignore[arg-type]


def test_trend_refuses_things_that_are_not_snapshots() -> None:
    with pytest.raises(InvalidValue, match=r"snapshots\[1\]"):
        trend([snaps(1)[0], 5])  # type: ignore[list-item]
    with pytest.raises(InvalidValue, match="snapshots: got"):
        trend("abc")  # type: ignore[arg-type]


def test_trend_is_validated() -> None:
    with pytest.raises(InvalidValue, match="points"):
        Trend(1.0, TrendDirection.RISING, -1)
    with pytest.raises(InvalidValue, match="direction"):
        Trend(1.0, "up", 2)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="slope"):
        Trend(math.inf, TrendDirection.RISING, 2)


# -- defaults and snapshots ---------------------------------------------------------------


def test_default_scorecard_measures_are_snapshot_fields() -> None:
    fields = {f.name for f in attrs.fields(Snapshot)}
    for name in default_scorecard().names:
        assert name in fields


def test_default_scorecard_domains_match_snapshot_ranges() -> None:
    card = default_scorecard()
    assert card.measure("adoption").domain == (0.0, 1.0)
    assert card.measure("nps").domain == (-100.0, 100.0)
    assert card.measure("sentiment").domain == (-1.0, 1.0)
    assert card.measure("open_tickets").direction is DOWN
    assert card.measure("days_since_contact").direction is DOWN
    assert math.fsum(card.weights.values()) == pytest.approx(1.0)


def test_default_scorecard_reads_a_struggling_account_as_red() -> None:
    snap = Snapshot(
        at=T0,
        adoption=0.15,
        open_tickets=14,
        days_since_contact=95,
        nps=-60,
        csat=40,
        sentiment=-0.8,
    )
    hs = default_scorecard().score(measures_from(snap, default_scorecard()))
    # every input is past its worst bound except sentiment: 0.2 * (0.2/2*100) = 2
    assert hs.score == pytest.approx(2.0)
    assert hs.band is Band.RED


def test_measures_from_reads_fields_then_metrics() -> None:
    snap = Snapshot(at=T0, adoption=0.4, open_tickets=2, metrics={"logins": 12.0, "adoption": 0.9})
    everything = measures_from(snap)
    assert everything["adoption"] == 0.4  # the field wins over the metric
    assert everything["open_tickets"] == 2.0
    assert everything["logins"] == 12.0
    assert everything["nps"] is None
    assert "health" not in everything
    card = Scorecard(
        [Measure("logins", 1, UP, Linear(0, 20)), Measure("nps", 1, UP, Linear(-50, 50))]
    )
    assert measures_from(snap, card) == {"logins": 12.0, "nps": None}
    assert card.score(measures_from(snap, card)).score == 60.0


def test_measures_from_metric_fills_an_empty_field() -> None:
    snap = Snapshot(at=T0, metrics={"nps": 20.0})
    assert measures_from(snap)["nps"] == 20.0


def test_measures_from_checks_its_arguments() -> None:
    with pytest.raises(InvalidValue, match="snapshot"):
        measures_from({"adoption": 1})  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="scorecard"):
        measures_from(Snapshot(at=T0), "card")  # type: ignore[arg-type]


def test_importing_health_stays_light() -> None:
    code = (
        "import sys, stars.health\n"
        "heavy = {'narwhals', 'polars', 'pandas', 'numpy', 'pyarrow'} & set(sys.modules)\n"
        "print(sorted(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
