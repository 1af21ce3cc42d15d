"""Late and corrected facts: inserted where they happened, recomputed, and known as of a date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stars import Event, OwnerChange, Snapshot, episodes
from stars.errors import InvalidValue, UnknownName
from stars.timeline import Timeline

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def ev(trigger: str, n: float) -> Event:
    return Event(trigger, day(n), actor="crm", reason="from the CRM", forced=True)


def test_a_late_crisis_is_inserted_in_place_and_the_episode_recomputed() -> None:
    tl = Timeline()
    tl.record("acme", ev("sign", 0), recorded_at=day(0))
    tl.record("acme", ev("accelerate", 30), recorded_at=day(30))
    tl.record("acme", ev("sustain", 200), recorded_at=day(200))
    assert episodes(tl.account("acme")) == ()
    # The escalation and the recovery happened in spring; the export brought them in June.
    tl.record("acme", ev("escalate", 60), recorded_at=day(160))
    tl.record("acme", ev("restart", 120), recorded_at=day(161))
    tl.record("acme", ev("accelerate", 150), recorded_at=day(161))
    acme = tl.account("acme")
    assert [r.dest for r in acme.history] == [
        "seed",
        "accelerate",
        "tact",
        "seed",
        "accelerate",
        "ascend",
    ]
    (episode,) = episodes(acme)
    assert (episode.opened_at, episode.closed_at) == (day(60), day(120))
    assert acme.stage_since == day(200)
    # As known before the export, there was no crisis at all.
    assert episodes(tl.account("acme", as_of=day(159))) == ()


def test_a_fact_that_no_longer_fits_is_left_out_and_reported() -> None:
    tl = Timeline()
    tl.record("acme", ev("sign", 0), recorded_at=day(0))
    tl.record("acme", ev("accelerate", 30), recorded_at=day(30))
    tl.record("acme", ev("lose", 10), recorded_at=day(40))  # late: churned before accelerating
    acme = tl.account("acme")
    assert [r.dest for r in acme.history] == ["seed", "churn"]
    (conflict,) = tl.conflicts("acme")
    assert conflict.fact.item == ev("accelerate", 30)
    assert "cannot 'accelerate'" in conflict.reason


def test_corrections_amend_or_retract_with_a_reason_and_as_of_sees_before_them() -> None:
    tl = Timeline()
    typo = tl.record("acme", Snapshot(at=day(5), health=7), recorded_at=day(5))
    wrong = tl.record("acme", ev("sign", 1), recorded_at=day(2))
    tl.amend(typo.id, Snapshot(at=day(5), health=70), recorded_at=day(9), reason="typo")
    tl.retract(wrong.id, recorded_at=day(10), reason="signed on the wrong account")
    now = tl.account("acme")
    assert [s.health for s in now.snapshots] == [70]
    assert now.history == ()
    then = tl.account("acme", as_of=day(8))
    assert [s.health for s in then.snapshots] == [7]
    assert [r.dest for r in then.history] == ["seed"]
    with pytest.raises(InvalidValue, match="reason"):
        tl.retract(typo.id, recorded_at=day(11), reason="")
    with pytest.raises(UnknownName, match="unknown fact 'nope'"):
        tl.amend("nope", Snapshot(at=day(5)), recorded_at=day(11), reason="x")


def test_redelivery_is_counted_not_an_error_and_lateness_beyond_the_window_is_rejected() -> None:
    tl = Timeline(lateness=timedelta(days=30))
    snap = Snapshot(at=day(100), health=80)
    result = tl.record_many(
        [
            ("acme", snap),
            ("acme", snap, "crm-1"),
            ("acme", snap, "crm-1"),
            ("acme", Snapshot(at=day(90), health=60)),
            ("acme", Snapshot(at=day(10), health=10)),
        ],
        recorded_at=day(100),
    )
    assert (result.recorded, result.duplicates, result.late) == (3, 1, 1)
    ((fact, why),) = result.rejected
    assert fact.at == day(10)
    assert (
        why == "happened 90 days before the latest fact of acme, beyond the 30-day lateness window"
    )
    assert [s.health for s in tl.account("acme").snapshots] == [60, 80, 80]
    with pytest.raises(InvalidValue, match="lateness window"):
        tl.record("acme", Snapshot(at=day(1), health=5), recorded_at=day(101))


def test_owner_changes_chain_in_the_order_they_happened() -> None:
    tl = Timeline()
    tl.describe("acme", name="Acme", owner="dana")
    tl.record("acme", OwnerChange(day(200), "sam", by="mia"), recorded_at=day(200))
    tl.record("acme", OwnerChange(day(100), "lee", by="mia"), recorded_at=day(201))  # late
    owners = tl.account("acme").owners
    assert [(c.previous, c.owner) for c in owners] == [("dana", "lee"), ("lee", "sam")]
    assert tl.portfolio()["acme"].name == "Acme"


def test_bad_input_names_the_field() -> None:
    tl = Timeline()
    with pytest.raises(InvalidValue, match="item"):
        tl.record("acme", {"health": 3}, recorded_at=day(0))  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="recorded_at"):
        tl.record("acme", Snapshot(at=day(0)), recorded_at=datetime(2025, 1, 1))
    with pytest.raises(InvalidValue, match="lateness"):
        Timeline(lateness=timedelta(days=-1))
    with pytest.raises(UnknownName, match="unknown account 'nobody'"):
        tl.account("nobody")
    assert len(tl) == 0
