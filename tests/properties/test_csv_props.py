"""Rule: a CSV round trip of accounts, their stage events and snapshots loses nothing (issue 18).

Generated accounts (legal histories, forced or not, and snapshots with any mix of signals
and metrics) are written with the three CSV writers, read back with the three readers in
any delimiter the writer's files are rewritten with, and rebuilt: every field of every
account, record and snapshot comes back, and no row is rejected.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from stars import STARS, Account, Band, Snapshot
from stars._intake import scored
from stars.health import default_scorecard, measures_from
from stars.io import (
    accounts_from_stage_events,
    read_accounts_csv,
    read_snapshots_csv,
    read_stage_events_csv,
    write_accounts_csv,
    write_snapshots_csv,
    write_stage_events_csv,
)
from stars.testing import accounts as stars_accounts
from stars.testing import snapshots

#: Names and tags as CRMs hold them: commas, quotes, accents, inner spaces and line breaks
#: (a tag holds no ';', which separates tags, and no value has surrounding spaces).
TEXT = st.text(st.sampled_from(list("abcXYZ019 ,\"'é-ü\n")), min_size=1, max_size=12).filter(
    lambda t: t == t.strip()
)
TAG = st.text(st.sampled_from(list("abcxyz019-_:é")), min_size=1, max_size=8)


@st.composite
def book(draw: st.DrawFn) -> list[Account]:
    """Accounts with distinct ids, names, owners, tags and start dates."""
    out: list[Account] = []
    for a in draw(st.lists(stars_accounts(max_events=8), max_size=5, unique_by=lambda a: a.id)):
        since = draw(
            st.none()
            | st.integers(0, 10**8).map(
                lambda s: datetime(2019, 1, 1, tzinfo=UTC) + timedelta(seconds=s)
            )
        )
        out.append(
            attrs.evolve(
                a,
                name=draw(st.just("") | TEXT),
                owner=draw(st.none() | TEXT),
                tags=draw(st.frozensets(TAG, max_size=3)),
                since=since,
                owners=(),  # CSV files carry the current owner, not the owner changes
                version=None,
            )
        )
    return out


def shown(a: Account) -> tuple[object, ...]:
    """Everything CSV carries about an account (depth points are not in these files)."""
    return (a.id, a.name, a.owner, a.tags, a.since, a.stage, tuple(a.history), tuple(a.snapshots))


@settings(max_examples=100, deadline=None)
@given(book(), st.sampled_from([",", ";", "\t"]))
def test_csv_round_trip_loses_nothing(accounts: list[Account], delimiter: str) -> None:
    files = {}
    for name, write in (
        ("accounts", write_accounts_csv),
        ("events", write_stage_events_csv),
        ("snapshots", write_snapshots_csv),
    ):
        out = io.StringIO()
        write(accounts, out)
        text = out.getvalue()
        if delimiter != ",":  # the readers find the delimiter themselves
            import csv

            rows = list(csv.reader(io.StringIO(text)))
            again = io.StringIO()
            csv.writer(again, delimiter=delimiter, lineterminator="\n").writerows(rows)
            text = again.getvalue()
        files[name] = text

    base, bad = read_accounts_csv(io.StringIO(files["accounts"]))
    assert bad == []
    snaps, bad = read_snapshots_csv(io.StringIO(files["snapshots"]))
    assert bad == []
    events, bad = read_stage_events_csv(io.StringIO(files["events"]))
    assert bad == []
    by_account: dict[str, list[object]] = {}
    for e in snaps:
        by_account.setdefault(e.account, []).append(e.event)
    # accounts come back at their first stage; the events replay the rest
    with_snaps = [
        Account(
            a.id,
            name=a.name,
            owner=a.owner,
            tags=a.tags,
            since=a.since,
            snapshots=by_account.get(a.id, ()),
        )
        for a in base
    ]
    rebuilt, bad = accounts_from_stage_events(events, with_snaps)
    assert bad == []
    assert [shown(a) for a in rebuilt] == [shown(a) for a in accounts]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(snapshots(), max_size=5, unique_by=lambda s: s.at),
    st.sampled_from(["seed", "ascend", "reset", "tact"]),
    st.sampled_from([None, "red", "green"]),
)
def test_the_command_scores_snapshots_as_observe_stores_them(
    snaps: list[Snapshot], stage: str, band: str | None
) -> None:
    # the command fills in health and band as Lifecycle.observe does, scoring a row's
    # own signals when it has no health and no band (observe's measures=); a metric
    # the scorecard does not read is kept, not scored
    snaps = sorted(snaps, key=lambda s: s.at)
    if band is not None and snaps:  # a band given without a health, as an export may
        snaps[0] = attrs.evolve(snaps[0], band=Band(band))
    account = Account("a", stage=stage)
    for snap in snaps:
        signals = measures_from(snap, default_scorecard())  # STARS has no per-stage cards
        unscored = snap.health is None and snap.band is None
        if unscored and any(v is not None for v in signals.values()):
            STARS.observe(account, snap, measures=signals)
        else:
            STARS.observe(account, snap)
    assert scored(snaps, stage, STARS) == list(account.snapshots)
