from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stars import STARS, Account, CycleEpisode, EpisodeOutcome, StageKind, episodes

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def history(*steps: tuple[str, int]) -> Account:
    """Build an account by forcing (trigger, day) steps through STARS."""
    a = Account("acme")
    for trigger, day in steps:
        STARS.fire(a, trigger, at=T0 + timedelta(days=day), force=True, reason="test")
    return a


def test_recovered_episode() -> None:
    a = history(
        ("sign", 0),
        ("accelerate", 30),
        ("stagnate", 100),
        ("escalate", 130),
        ("stabilize", 160),
        ("realign", 200),
    )
    (e,) = episodes(a)
    assert e.outcome is EpisodeOutcome.RECOVERED
    assert (e.left, e.stages, e.returned_to) == ("accelerate", ("reset", "tact", "reset"), "ascend")
    assert e.duration == timedelta(days=100)
    assert [r.trigger for r in e.records] == ["stagnate", "escalate", "stabilize", "realign"]
    assert not e.relapse


def test_lost_episode() -> None:
    a = history(("sign", 0), ("escalate", 10), ("lose", 50))
    (e,) = episodes(a)
    assert e.outcome is EpisodeOutcome.LOST
    assert e.closed_at == T0 + timedelta(days=50)
    assert e.returned_to is None


def test_ongoing_episode() -> None:
    a = history(("sign", 0), ("accelerate", 5), ("stagnate", 20))
    (e,) = episodes(a)
    assert e.outcome is EpisodeOutcome.ONGOING
    assert e.duration is None
    assert e.duration_until(T0 + timedelta(days=50)) == timedelta(days=30)


def test_relapse_within_window_only() -> None:
    a = history(
        ("sign", 0),
        ("escalate", 10),
        ("restart", 40),
        ("escalate", 100),
        ("restart", 120),
        ("escalate", 400),
    )
    eps = episodes(a)
    assert [e.outcome for e in eps] == [
        EpisodeOutcome.RECOVERED,
        EpisodeOutcome.RECOVERED,
        EpisodeOutcome.ONGOING,
    ]
    assert [e.relapse for e in eps] == [False, True, False]
    assert [e.relapse for e in episodes(a, relapse_window=timedelta(days=365))] == [
        False,
        True,
        True,
    ]


def test_churn_straight_from_growth_is_not_a_crisis_episode_and_win_back_restarts() -> None:
    a = history(("sign", 0), ("lose", 10), ("win_back", 100), ("sign", 120), ("escalate", 150))
    eps = episodes(a)
    assert len(eps) == 1
    assert eps[0].opened_at == T0 + timedelta(days=150)


def test_no_history_no_episodes() -> None:
    assert episodes(Account("a")) == ()


def test_custom_kinds() -> None:
    kinds = {"prospect": StageKind.BEFORE, "seed": StageKind.CRISIS, "tact": StageKind.GROWTH}
    a = history(("sign", 0), ("escalate", 10))
    # with seed declared a crisis stage and tact growth, nothing opens from growth
    assert episodes(a, lambda s: kinds.get(s, StageKind.BEFORE)) == ()


def test_crisis_to_before_stage_counts_as_lost() -> None:
    kinds = {"prospect": StageKind.GROWTH, "seed": StageKind.CRISIS, "tact": StageKind.BEFORE}
    a = history(("sign", 0), ("escalate", 10))
    (e,) = episodes(a, lambda s: kinds[s])
    assert e.outcome is EpisodeOutcome.LOST


def test_episode_values() -> None:
    e = CycleEpisode("a", T0, None, "ongoing", "seed", ("tact",))
    assert e.outcome is EpisodeOutcome.ONGOING
    with pytest.raises(ValueError, match="sideways"):
        CycleEpisode("a", T0, None, "sideways", "seed", ("tact",))
