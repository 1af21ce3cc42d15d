"""Property: any shuffle of a stream ends in the same accounts and episodes as the sorted stream."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from stars import Account, Event, episodes
from stars.testing import accounts
from stars.timeline import Timeline


def _stream(account: Account) -> list[tuple[str, object]]:
    items: list[object] = [*account.snapshots, *account.owners]
    items += [
        Event(r.trigger, r.at, r.actor, r.reason or "replayed", True, r.dest)
        for r in account.history
    ]
    return [(account.id, item) for item in items]


def _state(tl: Timeline, account_id: str) -> tuple[object, ...]:
    a = tl.account(account_id)
    return (
        a.stage,
        tuple(a.history),
        tuple(a.snapshots),
        tuple(a.owners),
        episodes(a),
        # a conflict's fact carries its recorded_at, which this test sets from the arrival
        # position: the same fact arrives at another position in the other stream
        tuple((c.fact.id, c.fact.item, c.reason) for c in tl.conflicts(account_id)),
    )


@settings(max_examples=60, deadline=None)
@given(accounts(max_events=12), st.randoms(use_true_random=False), st.booleans())
def test_any_arrival_order_gives_the_sorted_streams_account(
    account: Account, rnd: object, read_as_it_goes: bool
) -> None:
    stream = _stream(account)
    if not stream:
        return
    in_order = sorted(stream, key=lambda e: (e[1].at, type(e[1]).__name__))  # type: ignore[attr-defined]
    shuffled = list(stream)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    ats = [item.at for _, item in stream]  # type: ignore[attr-defined]
    window = max(ats) - min(ats) + timedelta(seconds=1)

    sorted_tl, shuffled_tl = Timeline(lateness=window), Timeline(lateness=window)
    for tl, items in ((sorted_tl, in_order), (shuffled_tl, shuffled)):
        tl.describe(
            account.id, owner=account.owners[0].previous if account.owners else account.owner
        )
        for i, (aid, item) in enumerate(items):
            tl.record(aid, item, recorded_at=item.at + timedelta(days=i))  # type: ignore[arg-type, attr-defined]
            if read_as_it_goes:
                tl.account(aid)  # the in-order fast path and the rebuild must agree
    assert _state(shuffled_tl, account.id) == _state(sorted_tl, account.id)
    # and, where no two facts share a time (ties are ordered by id, not by arrival), what
    # the timeline built is the account the stream came from
    if len(set(ats)) == len(ats):
        built = sorted_tl.account(account.id)
        assert built.stage == account.stage
        assert [r.dest for r in built.history] == [r.dest for r in account.history]
        assert built.owners == account.owners
