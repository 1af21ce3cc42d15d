"""Portfolio statistics against slow, obvious reference computations."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from stars.account import Account
from stars.lifecycle import STARS, Event
from stars.portfolio import Portfolio

T0 = datetime(2023, 1, 1, tzinfo=UTC)
STAGES = [s.name for s in STARS.stages]
MOVES: dict[str, list[tuple[str, str]]] = {}
for t in STARS.transitions:
    for source in t.sources:
        MOVES.setdefault(source, []).append((t.trigger, t.dest))
ZONES = [UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=9, minutes=30))]


@st.composite
def accounts(draw: st.DrawFn, name: str) -> Account:
    stage = "prospect"
    at = T0 + timedelta(days=draw(st.integers(0, 400)))
    events = []
    for _ in range(draw(st.integers(0, 12))):
        trigger, dest = draw(st.sampled_from(MOVES[stage]))
        at += timedelta(hours=draw(st.integers(0, 24 * 120)))
        zone = draw(st.sampled_from(ZONES))
        events.append(Event(trigger, at.astimezone(zone), forced=True, reason="x", to=dest))
        stage = dest
    return STARS.replay(name, events)


books = st.integers(0, 8).flatmap(
    lambda n: st.tuples(*(accounts(f"a{i}") for i in range(n))).map(Portfolio)
)


def _month(at: datetime) -> int:
    u = at.astimezone(UTC)
    return u.year * 12 + u.month - 1


def _reference_counts(book: Portfolio) -> dict[tuple[str, str], int]:
    """Month by month, the obvious way: the stage at every month end, churn absorbing."""
    hists = [a.history for a in book.accounts() if a.history]
    if not hists:
        return {}
    lo = min(_month(h[0].at) for h in hists)
    hi = max(_month(h[-1].at) for h in hists)
    out: dict[tuple[str, str], int] = {}
    for h in hists:
        ends = []
        for m in range(max(lo, _month(h[0].at)), hi + 1):
            stage = h[0].source
            for r in h:
                if _month(r.at) <= m:
                    stage = r.dest
            ends.append(stage)
        for a, b in itertools.pairwise(ends):
            if a == "churn":
                break
            out[(a, b)] = out.get((a, b), 0) + 1
    return out


@settings(max_examples=80, deadline=None)
@given(book=books)
def test_transition_counts_match_month_by_month_reference(book: Portfolio) -> None:
    m = book.transition_matrix()
    got = {
        (a, b): m.counts[i][j]
        for i, a in enumerate(m.stages)
        for j, b in enumerate(m.stages)
        if m.counts[i][j]
    }
    assert got == _reference_counts(book)
    for row in m.probabilities:
        assert abs(sum(row) - 1) < 1e-9
    assert m.probability("churn", "churn") == 1.0


@settings(max_examples=60, deadline=None)
@given(book=books, months=st.integers(0, 24))
def test_forecast_keeps_every_account(book: Portfolio, months: int) -> None:
    m = book.transition_matrix()
    start = book.stage_distribution().counts
    projected = m.forecast(start, months)
    assert abs(sum(projected.values()) - len(book)) < 1e-6
    assert all(x >= 0 for x in projected.values())


@settings(max_examples=60, deadline=None)
@given(book=books)
def test_distribution_and_bands_partition_the_accounts(book: Portfolio) -> None:
    d = book.stage_distribution()
    assert d.total == len(book) == sum(d.counts.values())
    if len(book):
        assert abs(sum(d.shares.values()) - 1) < 1e-9
    assert sorted(i for ids in book.by_band().values() for i in ids) == sorted(book)


@settings(max_examples=60, deadline=None)
@given(book=books)
def test_episode_stats_groups_add_up_and_curve_falls(book: Portfolio) -> None:
    as_of = T0 + timedelta(days=3000)
    (overall,) = book.episode_stats(as_of=as_of)
    by_owner = book.episode_stats(by="owner", as_of=as_of)
    assert sum(s.episodes for s in by_owner) == overall.episodes == len(book.episodes())
    assert overall.recovered + overall.lost + overall.ongoing == overall.episodes
    assert overall.relapses <= overall.episodes
    if overall.median_days_to_recover is not None:
        assert overall.median_days_to_recover <= overall.p75_days_to_recover  # type: ignore[operator]
        assert overall.p75_days_to_recover <= overall.p90_days_to_recover  # type: ignore[operator]
    curve = book.recovery_curve(as_of=as_of)
    assert curve.episodes == overall.episodes
    assert all(0 <= s <= 1 for s in curve.share)
    assert all(a >= b for a, b in zip(curve.share, curve.share[1:], strict=False))
    assert list(curve.days) == sorted(curve.days)
    if overall.recovered == 0:
        assert curve.share[-1] == 1.0


@settings(max_examples=40, deadline=None)
@given(book=books, months=st.integers(0, 6))
def test_cohort_shares_are_distributions(book: Portfolio, months: int) -> None:
    cohorts = book.cohorts(months, as_of=T0 + timedelta(days=2000))
    signed = sum(1 for a in book.accounts() if a.history)
    assert sum(c.accounts for c in cohorts) == signed
    for c in cohorts:
        assert c.observed[0] == c.accounts
        assert list(c.observed) == sorted(c.observed, reverse=True)
        for shares in c.shares:
            assert abs(sum(shares.values()) - 1) < 1e-9


@settings(max_examples=60, deadline=None)
@given(book=books, backend=st.sampled_from(["polars", "pandas"]))
def test_from_frames_rebuilds_the_accounts_its_frames_came_from(
    book: Portfolio, backend: str
) -> None:
    accounts = book.to_frame("accounts")
    events = book.to_frame("history").rename({"dest": "to"})
    if backend == "pandas":
        accounts, events = accounts.to_pandas(), events.to_pandas()
    rebuilt = Portfolio.from_frames(accounts, events)
    assert list(rebuilt) == list(book)
    for account in book.accounts():
        account_id = account.id
        again = rebuilt[account_id]
        # compared before anything reads the history, then after
        assert again == account and again.stage_since == account.stage_since
        assert again.history == account.history and again.version == account.version
        assert all(r.at.tzinfo is UTC for r in again.history)
