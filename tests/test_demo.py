"""The demo portfolio: deterministic, plausible, moved by the real engine, bundled as is."""

from __future__ import annotations

import collections
from datetime import UTC, datetime

import pytest

from stars.account import Account
from stars.bands import Band
from stars.cycles import EpisodeOutcome, episodes
from stars.demo import (
    DEMO_START,
    Trajectory,
    bundled_path,
    dumps_jsonl,
    generate,
    load_bundled,
    loads_jsonl,
    maturity_answers,
    trajectory_of,
)
from stars.errors import InvalidValue, SchemaError
from stars.lifecycle import STARS
from stars.maturity import assess
from stars.stages import Stage


@pytest.fixture(scope="module")
def book() -> list[Account]:
    return generate()


def test_same_arguments_same_portfolio(book: list[Account]) -> None:
    again = generate()
    assert again == book
    assert [a.history for a in again] == [a.history for a in book]


def test_other_seed_other_portfolio(book: list[Account]) -> None:
    other = generate(n_accounts=50, seed=7)
    assert [a.stage for a in other] != [a.stage for a in book[:50]]


def test_a_smaller_portfolio_is_a_prefix_of_a_bigger_one(book: list[Account]) -> None:
    # every account draws from its own stream, so the count does not change them
    # (names are made unique in order, so only earlier accounts can rename later ones)
    assert generate(n_accounts=30) == book[:30]


def test_ids_owners_and_segments(book: list[Account]) -> None:
    assert [a.id for a in book] == [f"acct-{i:03d}" for i in range(200)]
    assert len({a.name for a in book}) == 200
    assert all(a.owner for a in book)
    segments = collections.Counter(
        t.split(":", 1)[1] for a in book for t in a.tags if t.startswith("segment:")
    )
    assert set(segments) == {"enterprise", "mid-market", "smb"}
    assert sum(segments.values()) == 200
    keys = [a for a in book if "key-account" in a.tags]
    assert keys and all("segment:enterprise" in a.tags for a in keys)


def test_monthly_snapshots_inside_the_window(book: list[Account]) -> None:
    end = datetime(2025, 12, 1, tzinfo=UTC)
    for a in book:
        for s in a.snapshots:
            assert DEMO_START <= s.at <= end
            assert s.at.day == 1
        ats = [s.at for s in a.snapshots]
        assert ats == sorted(ats) and len(set(ats)) == len(ats)
        assert len(a.snapshots) <= 24


def test_health_is_the_default_scorecards_score(book: list[Account]) -> None:
    from stars.health import default_scorecard, measures_from

    card = default_scorecard()
    for a in book[:40]:
        for s in a.snapshots:
            if s.health is None:
                continue
            assert s.health == pytest.approx(card.score(measures_from(s, card)).score)
            assert s.band is STARS.policy.bands.band_for(s.health)


def test_every_stage_is_visited_and_most_accounts_are_customers(book: list[Account]) -> None:
    visited = {r.dest for a in book for r in a.history} | {a.stage for a in book}
    assert visited == {s.value for s in Stage}
    final = collections.Counter(a.stage for a in book)
    customers = sum(final[s] for s in ("seed", "accelerate", "ascend", "reset", "tact"))
    assert customers / len(book) > 0.6
    assert 0 < final["churn"] / len(book) < 0.2
    assert 0 < final["prospect"] / len(book) < 0.2


def test_crises_recover_and_some_are_lost(book: list[Account]) -> None:
    outcomes = collections.Counter(e.outcome for a in book for e in episodes(a))
    assert outcomes[EpisodeOutcome.RECOVERED] >= 10
    assert outcomes[EpisodeOutcome.LOST] >= 5
    closed = outcomes[EpisodeOutcome.RECOVERED] + outcomes[EpisodeOutcome.LOST]
    assert 0.3 < outcomes[EpisodeOutcome.RECOVERED] / closed < 0.95


def test_health_bands_mostly_green(book: list[Account]) -> None:
    bands = collections.Counter(STARS.policy.band_of(a.latest) for a in book if a.latest)
    assert bands[Band.GREEN] > bands[Band.YELLOW] > 0
    assert bands[Band.RED] > 0


def test_history_is_the_engines_work(book: list[Account]) -> None:
    # replaying the records through the lifecycle accepts every one of them
    for a in book:
        again = STARS.replay(a.id, a.history, snapshots=a.snapshots)
        assert again.stage == a.stage
    forced = [r for a in book for r in a.history if r.forced]
    assert forced == []  # guards allowed every move, loss included (it comes with a reason)
    losses = [r for a in book for r in a.history if r.trigger == "lose"]
    assert losses and all(r.reason for r in losses)


def test_trajectories_show_in_outcomes(book: list[Account]) -> None:
    truth = {a.id: trajectory_of(a.id) for a in book}
    assert set(truth.values()) == set(Trajectory)
    churned = [a for a in book if any(r.trigger == "lose" for r in a.history)]
    assert churned and all(truth[a.id] is Trajectory.CHURNER for a in churned)
    growers = [a for a in book if truth[a.id] is Trajectory.GROWER and a.history]
    assert sum(a.stage in ("accelerate", "ascend") for a in growers) / len(growers) > 0.7


def test_depths_recorded_from_both_sides(book: list[Account]) -> None:
    sides = collections.Counter(d.side for a in book for d in a.depths)
    assert sides["vendor"] == sides["customer"] > 0
    assert any(d.depth == "interconnected" for a in book for d in a.depths)


def test_fast_enough() -> None:
    import time

    start = time.perf_counter()
    generate(n_accounts=100, months=24, seed=3)
    assert time.perf_counter() - start < 5  # generous: a shared, loaded machine


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_accounts": -1}, "n_accounts"),
        ({"n_accounts": 2.5}, "n_accounts"),
        ({"months": 0}, "months"),
        ({"seed": "x"}, "seed"),
        ({"start": datetime(2024, 1, 1)}, "start"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValue) as info:
        generate(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_empty_and_tiny_portfolios() -> None:
    assert generate(n_accounts=0) == []
    (one,) = generate(n_accounts=1, months=1)
    assert len(one.snapshots) <= 1


def test_trajectory_of_refuses_other_ids() -> None:
    with pytest.raises(InvalidValue):
        trajectory_of("acme")
    with pytest.raises(InvalidValue):
        trajectory_of(3)  # type: ignore[arg-type]


def test_bundled_file_is_generate_output(book: list[Account]) -> None:
    text = bundled_path().read_text(encoding="utf-8")
    assert text == dumps_jsonl(book), "regenerate src/stars/data/demo.jsonl (see docs/howto/cli.md)"
    assert load_bundled() == book


def test_jsonl_round_trip_and_errors() -> None:
    small = generate(n_accounts=4, months=8, seed=2)
    text = dumps_jsonl(small)
    assert len(text.splitlines()) == 4
    assert loads_jsonl(text + "\n\n") == small
    with pytest.raises(SchemaError, match=r"^line 2: "):
        loads_jsonl(text.splitlines()[0] + "\n{not json\n")


def test_maturity_answers_cover_the_questionnaire() -> None:
    answers = maturity_answers()
    report = assess(answers)
    assert report.missing == ()
    assert set(answers.values()) <= {"yes", "partly", "no"}
    assert report.area("data").level <= min(report.area(a).level for a in ("skill", "process"))
    assert maturity_answers(seed=1) != answers
