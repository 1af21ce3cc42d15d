"""Type-checked by `mypy --strict`: the documented usage of stars.contracts and stars.crm."""

from __future__ import annotations

import io
from datetime import date

from stars import Account, Band
from stars.contracts import (
    AccountTree,
    BandRevenue,
    Contract,
    ContractBook,
    Merge,
    Movement,
    MovementKind,
    Renewal,
    Retention,
)
from stars.crm import (
    SALESFORCE,
    ColumnMap,
    CrmFact,
    ReadResult,
    accounts_from_facts,
    read_cases,
    read_contracts,
    read_field_history,
    read_opportunities,
    sample,
)

contract: Contract = Contract.for_term("acme", date(2025, 1, 1), 12, 1200, "USD", id="c1")
months: int | None = contract.term_months
tree = AccountTree({"acme-eu": "acme"}, merges=[Merge("acme-old", "acme", at=date(2025, 6, 1))])
root: str = tree.root_of("acme-eu")
book = ContractBook([contract], tree=tree, rates={"EUR": 1.08}, currency="USD", grace_days=30)
arr: float = book.arr("acme", on=date(2025, 6, 1), rollup=True)
moves: tuple[Movement, ...] = book.movements(date(2025, 1, 1), unit="parent")
kind: MovementKind = moves[0].kind
rows: tuple[Retention, ...] = book.retention(
    date(2025, 1, 1), date(2026, 1, 1), every="quarter", by="owner", accounts=[Account("acme")]
)
grr: float | None = rows[0].grr
calendar: tuple[Renewal, ...] = book.renewals(date(2025, 1, 1), date(2027, 1, 1))
band: Band | None = calendar[0].band
by_band: tuple[BandRevenue, ...] = book.revenue_by_band(date(2025, 6, 1), [])

contracts, result = read_contracts(sample("salesforce", "contracts"), SALESFORCE.contracts)
read: ReadResult = result
summary: str = read.summary()
mine: ColumnMap = SALESFORCE.opportunities.with_columns(amount="ARR")
export = io.StringIO("Account ID,Stage,Close Date,ARR\nacme,Closed Won,3/31/2025,100\n")
won, _ = read_opportunities(export, mine, tz="Europe/Berlin", currency="EUR")
cases, _ = read_cases(sample("salesforce", "cases"), SALESFORCE.cases)
history, _ = read_field_history(sample("salesforce", "history"), SALESFORCE.history)
facts: list[CrmFact] = [*cases, *history]
accounts: dict[str, Account] = accounts_from_facts(facts)
