"""Contracts, movements, renewals and retention, checked against figures worked out by hand."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime

import pytest

from stars import Account, Band, InvalidDefinition, InvalidValue, Snapshot
from stars.contracts import (
    AccountTree,
    Contract,
    ContractBook,
    Merge,
    MovementKind,
    Retention,
    add_months,
)

Y2025 = (date(2025, 1, 1), date(2026, 1, 1))


def usd(account: str, start: date, months: int, arr: float, **kw: str) -> Contract:
    return Contract.for_term(account, start, months, arr, "USD", **kw)


# The hand-built book. Every figure below is worked out from these six accounts.
#   A: 100 from 2024-07-01, renewed 2025-07-01 at 130          -> expansion 30 (at renewal)
#   B: 200 from 2024-04-01, renewed 2025-04-01 at 150          -> contraction 50 (at renewal)
#   C:  50 from 2024-10-01 for a year, not renewed             -> churn 50 on 2025-10-01
#   D:  80 from 2024-03-01 for two years                       -> flat
#   E:  60 from 2025-05-01                                     -> new 60
#   F:  40 in 2023, back at 45 from 2025-09-01                 -> reactivation 45
CONTRACTS = [
    usd("A", date(2024, 7, 1), 12, 100, id="a1"),
    usd("A", date(2025, 7, 1), 12, 130, id="a2", renews="a1"),
    usd("B", date(2024, 4, 1), 12, 200, id="b1"),
    usd("B", date(2025, 4, 1), 12, 150, id="b2", renews="b1"),
    usd("C", date(2024, 10, 1), 12, 50, id="c1"),
    usd("D", date(2024, 3, 1), 24, 80, id="d1"),
    usd("E", date(2025, 5, 1), 12, 60, id="e1"),
    usd("F", date(2023, 1, 1), 12, 40, id="f1"),
    usd("F", date(2025, 9, 1), 12, 45, id="f2"),
]


@pytest.fixture
def book() -> ContractBook:
    return ContractBook(CONTRACTS)


def approx(x: float) -> object:
    return pytest.approx(x, rel=1e-12, abs=1e-12)


# --------------------------------------------------------------------------- the model
def test_contract_term_and_renewal_date() -> None:
    c = usd("A", date(2025, 1, 31), 1, 10)
    assert c.end == date(2025, 2, 28)  # kept within February
    assert c.term_months == 1
    assert Contract("A", date(2025, 1, 1), date(2025, 1, 20), 10, "usd").term_months is None
    assert Contract("A", date(2025, 1, 1), date(2025, 1, 20), 10, "usd").currency == "USD"
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"start": datetime(2025, 1, 1, tzinfo=UTC)}, "start", "a date"),
        ({"end": date(2024, 12, 1)}, "end", "a date after start (2025-01-01)"),
        ({"arr": -5}, "arr", "a number at or above 0"),
        ({"arr": float("nan")}, "arr", "a number at or above 0"),
        ({"currency": "dollars"}, "currency", "a three-letter currency code"),
        ({"account": ""}, "account", "a non-empty string"),
        ({"id": "x", "renews": "x"}, "renews", "the id of another contract"),
    ],
)
def test_contract_refuses_bad_values(kwargs: dict[str, object], field: str, words: str) -> None:
    values: dict[str, object] = {
        "account": "A",
        "start": date(2025, 1, 1),
        "end": date(2026, 1, 1),
        "arr": 10,
        "currency": "USD",
    }
    values.update(kwargs)
    with pytest.raises(InvalidValue) as err:
        Contract(**values)  # type: ignore[arg-type]
    assert err.value.field == field
    assert words in str(err.value)


def test_for_term_refuses_a_zero_term() -> None:
    with pytest.raises(InvalidValue, match="months: got 0, expected a whole number of months"):
        usd("A", date(2025, 1, 1), 0, 10)


# --------------------------------------------------------------------------- ARR and movements
def test_arr_on_a_day(book: ContractBook) -> None:
    # 2025-06-01: A 100 (a2 starts in July), B 150, C 50, D 80, E 60, F 0
    assert book.arr(on=date(2025, 6, 1)) == 100 + 150 + 50 + 80 + 60
    assert book.arr("B", on=date(2025, 3, 31)) == 200
    assert book.arr("B", on=date(2025, 4, 1)) == 150  # the renewal date belongs to the new term
    assert book.arr("nobody", on=date(2025, 4, 1)) == 0


def test_movements_of_the_year(book: ContractBook) -> None:
    moves = book.movements(*Y2025)
    got = [(m.on, m.account, m.kind, m.amount, m.at_renewal) for m in moves]
    assert got == [
        (date(2025, 4, 1), "B", MovementKind.CONTRACTION, -50.0, True),
        (date(2025, 5, 1), "E", MovementKind.NEW, 60.0, False),
        (date(2025, 7, 1), "A", MovementKind.EXPANSION, 30.0, True),
        (date(2025, 9, 1), "F", MovementKind.REACTIVATION, 45.0, False),
        (date(2025, 10, 1), "C", MovementKind.CHURN, -50.0, False),
    ]
    # -50 + 60 + 30 + 45 - 50 = 35 = 465 - 430, the change of revenue over the year
    assert sum(m.amount for m in moves) == 35
    assert book.arr(on=date(2025, 12, 31)) - book.arr(on=date(2024, 12, 31)) == 35


def test_a_flat_renewal_is_a_movement_of_zero() -> None:
    book = ContractBook(
        [usd("A", date(2024, 1, 1), 12, 100, id="a1"), usd("A", date(2025, 1, 1), 12, 100)]
    )
    (renewal, churn) = book.movements(date(2025, 1, 1))
    assert (renewal.kind, renewal.amount, renewal.before, renewal.after) == (
        MovementKind.RENEWAL,
        0.0,
        100.0,
        100.0,
    )
    assert churn.kind is MovementKind.CHURN


def test_an_early_renewal_ends_the_contract_it_renews() -> None:
    # a2 starts three months before a1's end and renews it: a1 stops on 2024-10-01
    book = ContractBook(
        [
            usd("A", date(2024, 1, 1), 12, 100, id="a1"),
            usd("A", date(2024, 10, 1), 12, 150, id="a2", renews="a1"),
        ]
    )
    assert book.arr(on=date(2024, 11, 1)) == 150  # not 250
    (m,) = book.movements(date(2024, 10, 1), date(2024, 10, 2))
    assert (m.kind, m.amount, m.at_renewal) == (MovementKind.EXPANSION, 50.0, True)


def test_a_late_renewal_is_bridged_by_grace_days_or_by_renews() -> None:
    late = [
        usd("A", date(2024, 3, 1), 12, 100, id="a1"),
        usd("A", date(2025, 3, 20), 12, 100, id="a2"),
    ]
    strict = ContractBook(late)
    assert [m.kind for m in strict.movements(date(2025, 1, 1), date(2025, 6, 1))] == [
        MovementKind.CHURN,
        MovementKind.REACTIVATION,
    ]
    assert strict.arr(on=date(2025, 3, 10)) == 0
    lenient = ContractBook(late, grace_days=30)
    (m,) = lenient.movements(date(2025, 1, 1), date(2025, 6, 1))
    assert (m.on, m.kind, m.amount) == (date(2025, 3, 20), MovementKind.RENEWAL, 0.0)
    assert lenient.arr(on=date(2025, 3, 10)) == 100  # counted through the gap
    linked = ContractBook([late[0], usd("A", date(2025, 3, 20), 12, 100, renews="a1")])
    assert linked.arr(on=date(2025, 3, 10)) == 100
    # a gap longer than the grace is not bridged
    assert ContractBook(late, grace_days=18).arr(on=date(2025, 3, 10)) == 0


# --------------------------------------------------------------------------- retention
def test_retention_of_the_year_by_hand(book: ContractBook) -> None:
    (r,) = book.retention(*Y2025)
    # cohort: revenue in force on 2024-12-31 = A 100 + B 200 + C 50 + D 80 = 430
    assert r.opening == 430
    assert (r.expansion, r.contraction, r.churn) == (30, 50, 50)  # A +30, B -50, C -50
    assert (r.new, r.reactivation) == (60, 45)  # E, F (F had revenue in 2023)
    # closing on 2025-12-31 = A 130 + B 150 + D 80 + E 60 + F 45 = 465
    assert r.closing == 465 == 430 + 60 + 45 + 30 - 50 - 50
    assert r.grr == approx((430 - 50 - 50) / 430)  # 330 / 430 = 0.7674...
    assert r.nrr == approx((430 + 30 - 50 - 50) / 430)  # 360 / 430 = 0.8372...
    assert (r.logos_opening, r.logos_retained, r.logos_new, r.logos_reactivated) == (4, 3, 1, 1)
    assert r.logo_retention == 3 / 4
    assert r.summary() == (
        "2025-01-01 to 2025-12-31, all: opening 430 + new 60 + reactivation 45"
        " + expansion 30 - contraction 50 - churn 50 = closing 465 USD;"
        " GRR 76.7%, NRR 83.7%, logos 3 of 4 kept (75.0%)"
    )


def test_retention_by_quarter_by_hand(book: ContractBook) -> None:
    rows = book.retention(*Y2025, every="quarter")
    assert [(r.start, r.end) for r in rows] == [
        (date(2025, 1, 1), date(2025, 4, 1)),
        (date(2025, 4, 1), date(2025, 7, 1)),
        (date(2025, 7, 1), date(2025, 10, 1)),
        (date(2025, 10, 1), date(2026, 1, 1)),
    ]
    q1, q2, q3, q4 = rows
    # Q1: nothing moves before B's renewal on 04-01, which opens Q2
    assert (q1.opening, q1.closing, q1.grr, q1.nrr) == (430, 430, 1.0, 1.0)
    # Q2: B 200 -> 150 on 04-01, E new 60 on 05-01; closing 100 + 150 + 50 + 80 + 60 = 440
    assert (q2.opening, q2.contraction, q2.new, q2.closing) == (430, 50, 60, 440)
    assert q2.grr == approx(380 / 430)
    assert q2.nrr == approx(380 / 430)
    # Q3: opens at Q2's close; A +30 on 07-01, F back with 45 on 09-01; 440 + 30 + 45 = 515
    assert (q3.opening, q3.expansion, q3.reactivation, q3.closing) == (440, 30, 45, 515)
    assert q3.grr == 1.0
    assert q3.nrr == approx(470 / 440)
    # Q4: C churns 50 on 10-01; 515 - 50 = 465
    assert (q4.opening, q4.churn, q4.closing) == (515, 50, 465)
    assert q4.grr == approx(465 / 515)
    assert q4.nrr == approx(465 / 515)
    assert (q4.logos_opening, q4.logos_retained) == (6, 5)


def test_retention_by_owner_and_segment_by_hand(book: ContractBook) -> None:
    accounts = [
        Account("A", owner="dana", tags={"segment:enterprise"}),
        Account("B", owner="dana", tags={"segment:enterprise"}),
        Account("C", owner="lee", tags={"segment:smb"}),
        Account("D", owner="lee", tags={"segment:smb"}),
        Account("E", owner="dana", tags={"segment:smb"}),
    ]
    none, dana, lee = book.retention(*Y2025, by="owner", accounts=accounts)  # sorted by group
    # dana: A 100 + B 200 = 300 opening; A +30, B -50; E new 60
    assert (dana.group, dana.opening, dana.expansion, dana.contraction, dana.new) == (
        "dana",
        300,
        30,
        50,
        60,
    )
    assert dana.grr == approx((300 - 50) / 300)
    assert dana.nrr == approx((300 + 30 - 50) / 300)
    # lee: C 50 + D 80 = 130; C churns
    assert lee.grr == approx((130 - 50) / 130)
    assert lee.nrr == lee.grr
    # F has no account given: its reactivation falls in "(none)", without a cohort
    assert (none.group, none.reactivation, none.opening, none.grr) == ("(none)", 45, 0, None)
    none2, ent, smb = book.retention(*Y2025, by="segment", accounts=accounts)
    assert (none2.group, ent.group, smb.group) == ("(none)", "enterprise", "smb")
    assert ent.nrr == approx((300 + 30 - 50) / 300)
    # smb: C 50 + D 80 = 130 opening, C churns, E new
    assert (smb.opening, smb.churn, smb.new) == (130, 50, 60)
    by_map = book.retention(*Y2025, by={"A": "x", "B": "x"})
    assert [(r.group, r.opening) for r in by_map] == [("(none)", 130), ("x", 300)]


def test_renewal_calendar_with_health(book: ContractBook) -> None:
    at = datetime(2025, 1, 15, tzinfo=UTC)
    accounts = [
        Account("A", snapshots=[Snapshot(at=at, health=80)]),
        Account("B", snapshots=[Snapshot(at=at, health=55)]),
        Account("C", snapshots=[Snapshot(at=at, band=Band.RED)]),
    ]
    rows = book.renewals(*Y2025, accounts=accounts)
    got = [(r.on, r.account, r.contract.id, r.arr, r.renewed, r.band, r.health) for r in rows]
    assert got == [
        (date(2025, 4, 1), "B", "b1", 200.0, True, Band.YELLOW, 55.0),
        (date(2025, 7, 1), "A", "a1", 100.0, True, Band.GREEN, 80.0),
        (date(2025, 10, 1), "C", "c1", 50.0, False, Band.RED, None),
    ]
    assert book.renewals(date(2026, 1, 1), date(2026, 4, 1))[0].contract.id == "d1"


def test_revenue_by_band(book: ContractBook) -> None:
    at = datetime(2025, 1, 15, tzinfo=UTC)
    accounts = [
        Account("A", snapshots=[Snapshot(at=at, health=80)]),
        Account("B", snapshots=[Snapshot(at=at, health=55)]),
        Account("C", snapshots=[Snapshot(at=at, health=10)]),
    ]
    rows = book.revenue_by_band(date(2025, 6, 1), accounts)
    # on 2025-06-01: C 50 red, B 150 yellow, A 100 green, D 80 + E 60 without a band; 440 in all
    assert [(r.band, r.accounts, r.arr) for r in rows] == [
        (Band.RED, 1, 50.0),
        (Band.YELLOW, 1, 150.0),
        (Band.GREEN, 1, 100.0),
        (None, 2, 140.0),
    ]
    assert [r.share for r in rows] == [50 / 440, 150 / 440, 100 / 440, 140 / 440]


# --------------------------------------------------------------------------- parents and merges
def globex() -> list[Contract]:
    # two children of globex: the US office leaves, the EU office doubles at renewal
    return [
        usd("globex-us", date(2024, 6, 1), 12, 100, id="us1"),
        usd("globex-eu", date(2024, 6, 1), 12, 100, id="eu1"),
        usd("globex-eu", date(2025, 6, 1), 12, 200, id="eu2", renews="eu1"),
    ]


def test_parents_roll_up_by_hand() -> None:
    tree = AccountTree({"globex-us": "globex", "globex-eu": "globex"})
    book = ContractBook(globex(), tree=tree)
    assert book.arr("globex", on=date(2025, 3, 1)) == 0  # the parent holds no contract itself
    assert book.arr("globex", on=date(2025, 3, 1), rollup=True) == 200
    # per account: opening 100 + 100 = 200; US churns 100, EU expands 100
    (acct,) = book.retention(*Y2025, by="parent")
    assert (acct.group, acct.opening, acct.churn, acct.expansion) == ("globex", 200, 100, 100)
    assert acct.grr == (200 - 100) / 200  # 0.5
    assert acct.nrr == (200 + 100 - 100) / 200  # 1.0
    # rolled up to the parent: 200 at the start, 200 at the end, nothing moved
    (parent,) = book.retention(*Y2025, unit="parent")
    assert (parent.opening, parent.closing, parent.churn, parent.expansion) == (200, 200, 0, 0)
    assert (parent.grr, parent.nrr) == (1.0, 1.0)
    (m,) = book.movements(*Y2025, unit="parent")
    assert (m.account, m.kind, m.amount) == ("globex", MovementKind.RENEWAL, 0.0)
    assert [c.id for c in book.contracts_of("globex", rollup=True)] == ["eu1", "us1", "eu2"]
    (r1, r2) = book.renewals(date(2025, 6, 1), date(2025, 6, 2))
    assert (r1.account, r1.parent, r1.renewed) == ("globex-eu", "globex", True)
    assert (r2.account, r2.parent, r2.renewed) == ("globex-us", "globex", False)


def initech() -> list[Contract]:
    # initech-old is merged into initech, which signs one contract for both on 2025-06-01
    return [
        usd("initech-old", date(2024, 6, 1), 12, 70, id="old1"),
        usd("initech", date(2024, 6, 1), 12, 30, id="new1"),
        usd("initech", date(2025, 6, 1), 12, 100, id="new2", renews="new1"),
    ]


def test_merge_restates_history_by_hand() -> None:
    apart = ContractBook(initech())
    (r,) = apart.retention(*Y2025)
    # apart: opening 70 + 30 = 100; initech-old churns 70; initech grows 30 -> 100 (+70)
    assert (r.opening, r.churn, r.expansion) == (100, 70, 70)
    assert (r.grr, r.nrr) == ((100 - 70) / 100, (100 + 70 - 70) / 100)  # 0.3, 1.0
    merged = ContractBook(initech(), tree=AccountTree(merges=[Merge("initech-old", "initech")]))
    (m,) = merged.retention(*Y2025)
    # merged: initech 100 at the start and 100 at the end
    assert (m.opening, m.churn, m.expansion, m.grr, m.nrr) == (100, 0, 0, 1.0, 1.0)
    assert (m.opening, m.closing) == (r.opening, r.closing)  # the totals do not change
    assert merged.accounts == ("initech",)
    # both histories are kept, and the old id redirects
    assert [c.id for c in merged.contracts_of("initech-old")] == ["new1", "old1", "new2"]
    assert merged.contracts_of("initech")[1].account == "initech-old"
    assert merged.arr("initech-old", on=date(2025, 1, 1)) == 100
    (renewal,) = merged.movements(*Y2025)
    assert (renewal.kind, renewal.account) == (MovementKind.RENEWAL, "initech")


def test_a_renewal_across_a_merge_needs_the_merge() -> None:
    contracts = [
        usd("initech-old", date(2024, 6, 1), 12, 70, id="old1"),
        usd("initech", date(2025, 6, 1), 12, 70, renews="old1"),
    ]
    with pytest.raises(InvalidValue, match="a contract of the same account"):
        ContractBook(contracts)
    tree = AccountTree(merges=[Merge("initech-old", "initech", at=date(2025, 5, 1))])
    assert ContractBook(contracts, tree=tree).arr(on=date(2025, 7, 1)) == 70


def test_tree_checks() -> None:
    with pytest.raises(InvalidDefinition, match="is its own ancestor"):
        AccountTree({"a": "b", "b": "c", "c": "a"})
    with pytest.raises(InvalidDefinition, match="merged into both 'b' and 'c'"):
        AccountTree(merges=[Merge("a", "b"), Merge("a", "c")])
    with pytest.raises(InvalidDefinition, match="is merged into itself"):
        AccountTree(merges=[Merge("a", "b"), Merge("b", "a")])
    with pytest.raises(InvalidDefinition, match="'b' has two parents once merges are followed"):
        AccountTree({"a": "p", "b": "q"}, merges=[Merge("a", "b")])
    with pytest.raises(InvalidValue, match="parents: got 'a', expected a mapping"):
        AccountTree("a")
    # a child merged into its parent leaves no edge
    tree = AccountTree({"a": "b"}, merges=[Merge("a", "b")])
    assert (tree.parent_of("a"), tree.root_of("a"), tree.aliases_of("b")) == (None, "b", ("a",))


# --------------------------------------------------------------------------- currencies
def test_currencies_need_a_rate_table() -> None:
    eur = Contract.for_term("E", date(2025, 1, 1), 12, 100, "EUR")
    dollars = usd("U", date(2025, 1, 1), 12, 90)
    with pytest.raises(InvalidValue, match=r"currency: got \('EUR', 'USD'\), expected contracts"):
        ContractBook([eur, dollars])
    book = ContractBook([eur, dollars], rates={"EUR": 1.1}, currency="USD")
    # 100 EUR x 1.1 = 110 USD, plus 90 USD
    assert book.arr(on=date(2025, 6, 1)) == approx(200)
    (row,) = book.renewals(date(2026, 1, 1), date(2026, 1, 2))[:1]
    assert (row.contract.currency, row.arr, row.currency) == ("EUR", approx(110), "USD")
    with pytest.raises(InvalidValue, match="rates: got 'EUR', expected a rate for every"):
        ContractBook([eur, dollars], rates={"GBP": 1.3}, currency="USD")
    with pytest.raises(InvalidValue, match="the reporting currency the rates convert into"):
        ContractBook([eur], rates={"EUR": 1.1})
    with pytest.raises(InvalidValue, match=r"rates\['USD'\]: got 2, expected 1"):
        ContractBook([eur], rates={"EUR": 1.1, "USD": 2}, currency="USD")
    with pytest.raises(InvalidValue, match="expected 'EUR', the contracts' currency"):
        ContractBook([eur], currency="USD")
    assert ContractBook([eur]).currency == "EUR"
    assert ContractBook([]).retention(*Y2025)[0].currency is None


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("contracts", "words"),
    [
        ([usd("A", date(2025, 1, 1), 12, 1, id="x"), usd("B", date(2025, 1, 1), 12, 1, id="x")],
         "contracts[1].id: got 'x', expected an id not used by another contract"),
        ([usd("A", date(2025, 1, 1), 12, 1, renews="zz")],
         "contracts[0].renews: got 'zz', expected the id of a contract in the book"),
        ([usd("A", date(2025, 1, 1), 12, 1, id="x"), usd("A", date(2024, 1, 1), 12, 1, renews="x")],
         "expected a contract that starts before this one (2024-01-01)"),
    ],
)  # fmt: skip
def test_book_refuses_inconsistent_contracts(contracts: list[Contract], words: str) -> None:
    with pytest.raises(InvalidValue) as err:
        ContractBook(contracts)
    assert words in str(err.value)


def test_book_refuses_bad_arguments(book: ContractBook) -> None:
    with pytest.raises(InvalidValue, match="unit: got 'team', expected 'account' or 'parent'"):
        book.retention(*Y2025, unit="team")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="every: got 'week'"):
        book.retention(*Y2025, every="week")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="accounts: got \\(\\), expected the accounts to read"):
        book.retention(*Y2025, by="owner")
    with pytest.raises(InvalidValue, match="by: got 'segment:smb'"):
        book.retention(*Y2025, by="segment:smb")
    with pytest.raises(
        InvalidValue, match=r"end: got datetime.date\(2024, 1, 1\), expected a date after"
    ):
        book.retention(date(2025, 1, 1), date(2024, 1, 1))
    with pytest.raises(InvalidValue, match=r"on: got .*expected a date"):
        book.arr(on=datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(InvalidValue, match="accounts\\[0\\]: got 'A', expected an Account"):
        book.renewals(*Y2025, accounts=["A"])  # type: ignore[list-item]
    with pytest.raises(InvalidValue, match="grace_days: got -1"):
        ContractBook([], grace_days=-1)
    with pytest.raises(InvalidValue, match="contracts\\[0\\]: got 'x', expected a Contract"):
        ContractBook(["x"])


def test_retention_values_read_plainly() -> None:
    empty = Retention(*Y2025, "all", "USD", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    assert (empty.grr, empty.nrr, empty.logo_retention) == (None, None, None)
    assert "GRR n/a, NRR n/a, logos 0 of 0 kept (n/a)" in empty.summary()


def test_importing_contracts_stays_light() -> None:
    code = "import sys, stars.contracts; print(sorted(m for m in ('polars', 'pandas', 'numpy', 'narwhals', 'cattrs') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_grr_of_a_cohort_that_lost_everything_is_zero_not_minus_a_rounding_error() -> None:
    # 0.3 - 0.1 - 0.2 is -2.8e-17 in floats: shown as "-0.0%" before
    from stars.contracts import Retention

    r = Retention(date(2025, 1, 1), date(2025, 4, 1), "all", "USD", 0.3, 0, 0, 0, 0.1, 0.2,
                  0, 1, 0, 0, 0)  # fmt: skip
    assert r.retained == 0.0
    assert r.grr == 0.0
    assert r.nrr == 0.0
