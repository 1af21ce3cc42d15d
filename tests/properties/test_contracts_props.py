"""Properties of revenue retention: GRR <= NRR, GRR <= 100%, movements add up, merges keep totals."""

from __future__ import annotations

import math
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from stars.contracts import AccountTree, Contract, ContractBook, Merge, Retention

IDS = ("a", "b", "c", "d", "e", "f")
DAY0 = date(2023, 1, 1)


def close(x: float, y: float) -> bool:
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6)


@st.composite
def contracts(draw: st.DrawFn) -> list[Contract]:
    out = []
    for i in range(draw(st.integers(0, 14))):
        account = draw(st.sampled_from(IDS))
        start = DAY0 + timedelta(days=draw(st.integers(0, 3 * 365)))
        months = draw(st.integers(1, 24))
        arr = draw(st.integers(0, 1000) | st.floats(0, 1000, allow_nan=False))
        out.append(Contract.for_term(account, start, months, arr, "USD", id=f"k{i}"))
    return out


windows = st.tuples(st.integers(-30, 4 * 365), st.integers(1, 500)).map(
    lambda t: (DAY0 + timedelta(days=t[0]), DAY0 + timedelta(days=t[0] + t[1]))
)
# parents and merges only point to a later id, so they never make a cycle
links = st.dictionaries(st.sampled_from(IDS[:-1]), st.integers(1, 5), max_size=4).map(
    lambda d: {c: IDS[min(IDS.index(c) + k, len(IDS) - 1)] for c, k in d.items()}
)
groupings = st.sampled_from([None, "account", "parent"])


def bridge_holds(r: Retention) -> bool:
    moved = r.new + r.reactivation + r.expansion - r.contraction - r.churn
    return close(r.closing - r.opening, moved)


@given(
    contracts(),
    windows,
    st.sampled_from([0, 20, 60]),
    links,
    groupings,
    st.sampled_from(["account", "parent"]),
)
def test_grr_never_above_nrr_nor_100_percent(
    cs: list[Contract],
    window: tuple[date, date],
    grace: int,
    parents: dict[str, str],
    by: str | None,
    unit: str,
) -> None:
    book = ContractBook(cs, tree=AccountTree(parents), grace_days=grace)
    for r in book.retention(*window, every="quarter", by=by, unit=unit):  # type: ignore[arg-type]
        assert r.expansion >= 0 and r.contraction >= 0 and r.churn >= 0
        if r.opening > 0:
            assert r.grr is not None and r.nrr is not None
            assert 0 <= r.grr <= 1 + 1e-12
            assert r.grr <= r.nrr + 1e-12
            assert r.logo_retention is not None and 0 <= r.logo_retention <= 1
        else:
            assert r.grr is None and r.nrr is None


@given(
    contracts(),
    windows,
    st.sampled_from([0, 20, 60]),
    links,
    st.sampled_from(["account", "parent"]),
)
def test_movements_sum_to_the_revenue_change(
    cs: list[Contract], window: tuple[date, date], grace: int, parents: dict[str, str], unit: str
) -> None:
    book = ContractBook(cs, tree=AccountTree(parents), grace_days=grace)
    start, end = window
    change = book.arr(on=end - timedelta(days=1)) - book.arr(on=start - timedelta(days=1))
    moves = book.movements(start, end, unit=unit)  # type: ignore[arg-type]
    assert close(math.fsum(m.amount for m in moves), change)
    for m in moves:
        assert close(m.after - m.before, m.amount)
    (whole,) = book.retention(start, end, unit=unit)  # type: ignore[arg-type]
    assert bridge_holds(whole)
    assert close(whole.closing - whole.opening, change)
    # the groups add up to the whole
    parts = book.retention(start, end, by="account", unit=unit)  # type: ignore[arg-type]
    for name in ("opening", "closing", "new", "reactivation", "expansion", "contraction", "churn"):
        assert close(math.fsum(getattr(r, name) for r in parts), getattr(whole, name)), name
    assert all(bridge_holds(r) for r in parts)


@given(contracts(), windows, links, links)
def test_merging_two_accounts_keeps_the_portfolio_totals(
    cs: list[Contract], window: tuple[date, date], merges: dict[str, str], parents: dict[str, str]
) -> None:
    apart = ContractBook(cs)
    # parents among the surviving ids (a merged-away id with its own parent could contradict)
    kept = {c: p for c, p in parents.items() if c not in merges and p not in merges}
    merged = ContractBook(
        cs, tree=AccountTree(kept, merges=[Merge(old, into) for old, into in merges.items()])
    )
    start, end = window
    for day in (start, end, start + (end - start) / 2):
        assert close(merged.arr(on=day), apart.arr(on=day))
    (a,) = apart.retention(start, end)
    for unit in ("account", "parent"):
        (m,) = merged.retention(start, end, unit=unit)
        assert close(m.opening, a.opening)
        assert close(m.closing, a.closing)
        assert bridge_holds(m)
    assert sum(len(merged.contracts_of(x)) for x in merged.accounts) == len(cs)
