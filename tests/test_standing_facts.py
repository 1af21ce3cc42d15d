"""Snapshot flags that state a standing fact last until a snapshot says otherwise (issue 17)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stars import STARS, Account, Snapshot, evidence

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _ascend_from_a_scores_only_feed() -> Account:
    # A year of green readings; success metrics and the contract were recorded once,
    # at the start, and the feed since then sends only scores.
    account = Account("acme", stage="ascend", since=T0 - timedelta(days=400))
    STARS.observe(
        account,
        Snapshot(at=T0, health=85, contract_signed=True, success_metrics_agreed=True),
    )
    for week in range(1, 12):
        STARS.observe(account, Snapshot(at=T0 + timedelta(weeks=week), health=85))
    return account


def test_a_scores_only_feed_does_not_send_an_ascend_account_back_to_onboarding() -> None:
    account = _ascend_from_a_scores_only_feed()
    assert account.latest is not None and account.latest.success_metrics_agreed is None
    diagnosis = STARS.diagnose(account)
    assert diagnosis.stage == "ascend"
    assert not any("not agreed" in reason for reason in diagnosis.reasons)
    assert evidence(account).success_metrics_agreed is True


def test_a_later_snapshot_that_says_otherwise_wins() -> None:
    account = _ascend_from_a_scores_only_feed()
    later = T0 + timedelta(weeks=13)
    STARS.observe(account, Snapshot(at=later, health=85, success_metrics_agreed=False))
    assert evidence(account).success_metrics_agreed is False
    assert STARS.diagnose(account).stage == "seed"


def test_guards_read_the_standing_facts() -> None:
    account = Account("new")
    STARS.observe(account, Snapshot(at=T0, contract_signed=True))
    STARS.observe(account, Snapshot(at=T0 + timedelta(days=1), health=70))
    # 'sign' needs a recorded contract start: the first snapshot recorded it.
    assert STARS.check(account, "sign").allowed


def test_event_flags_count_only_on_their_own_snapshot() -> None:
    account = Account("a", stage="tact")
    STARS.observe(account, Snapshot(at=T0, health=30, reonboarding_agreed=True))
    STARS.observe(account, Snapshot(at=T0 + timedelta(days=1), health=30))
    known = account.known()
    assert known is not None and known.reonboarding_agreed is None


def test_known_looks_back_from_a_past_time() -> None:
    account = _ascend_from_a_scores_only_feed()
    before_any = account.known(T0 - timedelta(days=1))
    assert before_any is None
    first = account.known(T0 + timedelta(days=3))
    assert first is not None and first.at == T0 and first.success_metrics_agreed is True
