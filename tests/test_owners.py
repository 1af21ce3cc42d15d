"""Owner changes: who owned an account when, and the hand-over brief that says so (issue 17)."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest

from stars import STARS, Account, OwnerChange, Snapshot, handover_brief, reassign
from stars.errors import ConcurrentModification, InvalidValue, OutOfOrder
from stars.io import dumps, loads
from stars.portfolio import Portfolio

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def _handed_over_twice() -> Account:
    account = Account("acme", name="Acme", owner="dana")
    STARS.fire(account, "sign", at=day(0), force=True, reason="import")
    STARS.observe(account, Snapshot(at=day(30), health=82, success_metrics_agreed=True))
    reassign(account, "lee", at=day(365), by="mia", reason="territory change")
    STARS.observe(account, Snapshot(at=day(400), health=35))
    STARS.fire(account, "escalate", at=day(401), force=True, reason="red")
    reassign(account, "sam", at=day(700), by="mia")
    return account


def test_reassign_records_who_when_and_who_decided() -> None:
    account = _handed_over_twice()
    assert account.owner == "sam"
    assert [(c.previous, c.owner, c.by) for c in account.owners] == [
        ("dana", "lee", "mia"),
        ("lee", "sam", "mia"),
    ]
    assert account.owners[0].reason == "territory change"
    assert account.version == 2 + 2 + 2  # two transitions, two snapshots, two hand-overs


def test_the_brief_lists_owners_current_first_with_what_happened_under_each() -> None:
    brief = handover_brief(_handed_over_twice())
    section = brief.split("## Owners")[1].split("##")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[0] == "| owner | from | until | what happened |"
    sam, lee, dana = rows[1:]
    assert sam.startswith("| sam (now) | 2025-12-01 (by mia) | – |")
    assert lee.startswith("| lee | 2024-12-31 (by mia: territory change) | 2025-12-01 |")
    assert "moved seed → tact" in lee and "a crisis from 2025-02-05 (still open)" in lee
    assert "health 35" in lee
    assert dana.startswith("| dana | 2024-01-01 | 2024-12-31 |")
    assert "moved prospect → seed" in dana and "health 82" in dana
    assert "stayed in tact" in sam


def test_an_account_without_changes_still_names_its_owner() -> None:
    account = Account("acme", owner="dana")
    assert "| dana (now) | – | – | stayed in prospect |" in handover_brief(account)
    assert "No owner is recorded." in handover_brief(Account("b"))


def test_bad_reassignments_are_refused_and_change_nothing() -> None:
    account = _handed_over_twice()
    before = dumps(account)
    with pytest.raises(InvalidValue, match="owner: got 'sam', expected a different owner"):
        reassign(account, "sam", at=day(800))
    with pytest.raises(OutOfOrder):
        reassign(account, "kim", at=day(10))
    with pytest.raises(InvalidValue, match="at"):
        reassign(account, "kim", at=datetime(2026, 1, 1))  # naive
    with pytest.raises(InvalidValue, match="owner"):
        reassign(account, "", at=day(800))
    with pytest.raises(ConcurrentModification):
        reassign(account, "kim", at=day(800), expected_version=1)
    assert dumps(account) == before
    with pytest.raises(AttributeError):
        account.owner = "kim"  # type: ignore[misc]


def test_owner_history_is_checked_when_given() -> None:
    first = OwnerChange(day(1), "lee", "dana")
    with pytest.raises(InvalidValue, match=r"owners\[1\].previous"):
        Account("a", owners=[first, OwnerChange(day(2), "sam", "kim")])
    with pytest.raises(InvalidValue, match="owner: got 'dana'"):
        Account("a", owner="dana", owners=[first])
    assert Account("a", owners=[first]).owner == "lee"


def test_owner_changes_survive_json_and_show_in_a_frame() -> None:
    account = _handed_over_twice()
    again = loads(dumps(account))
    assert again == account and again.owners == account.owners
    frame = Portfolio([account]).to_frame("owners")
    assert frame.select("owner", "previous", "by").rows() == [
        ("lee", "dana", "mia"),
        ("sam", "lee", "mia"),
    ]


def test_threads_reassigning_one_account_each_record_the_owner_they_replaced() -> None:
    account = Account("acme", owner="owner-0")
    barrier = threading.Barrier(8)

    def work(n: int) -> None:
        barrier.wait()
        for i in range(50):
            reassign(account, f"t{n}-{i}", at=T0)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    changes = account.owners
    assert len(changes) == 400 and account.version == 400
    assert changes[0].previous == "owner-0"
    assert all(b.previous == a.owner for a, b in itertools.pairwise(changes))
