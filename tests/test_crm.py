"""CRM-shaped exports: column maps, honest counts, encodings, time zones, and the samples."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crm_samples
from stars import (
    Band,
    Event,
    InvalidValue,
    OwnerChange,
    SchemaError,
    Snapshot,
    TransitionNotAllowed,
    UnknownName,
)
from stars.contracts import AccountTree, ContractBook, Merge
from stars.crm import (
    HUBSPOT,
    SALESFORCE,
    ColumnMap,
    CrmFact,
    CrmPreset,
    accounts_from_facts,
    read_cases,
    read_contracts,
    read_field_history,
    read_opportunities,
    sample,
    timeline_from_facts,
)

PRESETS = [("salesforce", SALESFORCE, crm_samples.sf_id), ("hubspot", HUBSPOT, crm_samples.hs_id)]
SHIPPED = Path(__file__).resolve().parent.parent / "src" / "stars" / "data" / "crm"


def text(s: str) -> io.StringIO:
    return io.StringIO(s)


# --------------------------------------------------------------------------- the samples
def test_the_shipped_samples_are_what_the_script_writes() -> None:
    expected = crm_samples.expected()
    shipped = {str(p.relative_to(SHIPPED)): p.read_bytes() for p in sorted(SHIPPED.rglob("*.csv"))}
    assert shipped == expected
    for crm in ("salesforce", "hubspot"):
        for kind in ("opportunities", "contracts", "cases", "history"):
            assert sample(crm, kind).read_bytes() == expected[f"{crm}/{sample(crm, kind).name}"]


def test_the_package_build_ships_the_samples() -> None:
    # hatch's wheel target takes the whole package directory, data files included
    pyproject = (SHIPPED.parents[3] / "pyproject.toml").read_text(encoding="utf-8")
    assert 'packages = ["src/stars"]' in pyproject
    ignored = (SHIPPED.parents[3] / ".gitignore").read_text(encoding="utf-8")
    assert "*.csv" not in ignored and "data" not in ignored


@pytest.mark.parametrize(("crm", "preset", "ident"), PRESETS)
def test_both_crm_shapes_give_the_same_hand_computed_retention(
    crm: str, preset: CrmPreset, ident: object
) -> None:
    def i(key: str) -> str:
        return ident(key)  # type: ignore[operator, no-any-return]

    contracts, result = read_contracts(sample(crm, "contracts"), preset.contracts)
    assert (result.read, result.used, result.skipped, result.rejected) == (28, 26, 1, 1)
    with pytest.raises(InvalidValue, match=r"currency: got \('EUR', 'USD'\)"):
        ContractBook(contracts)
    tree = AccountTree(
        {i("acme-eu"): i("acme"), i("acme-apac"): i("acme")},
        merges=[Merge(i("bolt-freight"), i("bolt"))],
    )
    book = ContractBook(contracts, tree=tree, rates={"EUR": 1.08}, currency="USD", grace_days=30)
    (year,) = book.retention(date(2025, 1, 1), date(2026, 1, 1))
    # Opening, in force on 2024-12-31: acme 120,000 + acme-eu 48,000 + acme-apac 24,000
    # + bolt 60,000 + bolt-freight 12,000 (merged into bolt) + cleo 36,000 + dyna 18,000
    # + echo 9,600 + fern 30,000 + gala 7,200 + halo 84,000 EUR x 1.08 = 90,720
    # + iris 4,800 + juno 15,000 = 475,320, over 12 accounts.
    assert year.opening == pytest.approx(475_320)
    assert year.logos_opening == 12
    # acme 120,000 -> 132,000, fern 30,000 -> 36,000, juno 15,000 -> 18,000 (renewed early)
    assert year.expansion == pytest.approx(12_000 + 6_000 + 3_000)
    # cleo 36,000 -> 30,000, gala 7,200 -> 6,000
    assert year.contraction == pytest.approx(6_000 + 1_200)
    # acme-apac 24,000 and echo 9,600 leave
    assert year.churn == pytest.approx(24_000 + 9_600)
    assert (year.new, year.reactivation) == (60_000, 21_600)  # kite new, lumo back
    assert year.closing == pytest.approx(475_320 + 60_000 + 21_600 + 21_000 - 7_200 - 33_600)
    assert year.grr == pytest.approx((475_320 - 7_200 - 33_600) / 475_320)  # 0.914
    assert year.nrr == pytest.approx((475_320 + 21_000 - 7_200 - 33_600) / 475_320)  # 0.958
    assert (year.logos_retained, year.logo_retention) == (10, 10 / 12)
    # rolled up to the parent, acme's group goes 192,000 -> 180,000: a contraction of 12,000
    (parents,) = book.retention(date(2025, 1, 1), date(2026, 1, 1), unit="parent")
    assert parents.expansion == pytest.approx(6_000 + 3_000)
    assert parents.contraction == pytest.approx(7_200 + 12_000)
    assert parents.churn == pytest.approx(9_600)
    assert parents.grr == pytest.approx((475_320 - 19_200 - 9_600) / 475_320)  # 0.939


@pytest.mark.parametrize(("crm", "preset", "ident"), PRESETS)
def test_the_renewal_calendar_reads_health_from_the_history(
    crm: str, preset: CrmPreset, ident: object
) -> None:
    contracts, _ = read_contracts(sample(crm, "contracts"), preset.contracts)
    cases, _ = read_cases(sample(crm, "cases"), preset.cases)
    history, _ = read_field_history(sample(crm, "history"), preset.history)
    accounts = accounts_from_facts([*cases, *history])
    book = ContractBook(contracts, rates={"EUR": 1.08}, currency="USD", grace_days=30)
    rows = book.renewals(date(2026, 1, 1), date(2027, 1, 1), accounts=accounts.values())
    key = {ident(a.key): a.key for a in crm_samples.ACCOUNTS}  # type: ignore[operator]
    got = [(r.on, key[r.account], r.arr, r.band) for r in rows]
    assert got == [
        (date(2026, 2, 1), "acme", 132_000, Band.GREEN),  # health 86
        (date(2026, 3, 15), "kite", 60_000, Band.GREEN),  # 83
        (date(2026, 4, 1), "bolt", 72_000, Band.GREEN),  # 81
        (date(2026, 5, 1), "gala", 6_000, Band.YELLOW),  # 52
        (date(2026, 6, 1), "acme-eu", 48_000, Band.GREEN),  # 72
        (date(2026, 6, 1), "lumo", 21_600, None),  # its health value was refused
        (date(2026, 7, 15), "dyna", 18_000, Band.YELLOW),  # 58
        (date(2026, 8, 1), "iris", 4_800, Band.YELLOW),  # 63
        (date(2026, 9, 1), "juno", 18_000, Band.GREEN),  # 79
        (date(2026, 11, 1), "cleo", 30_000, Band.RED),  # 34, though tickets came later
        (date(2026, 12, 1), "fern", 36_000, Band.GREEN),  # 77
    ]
    assert [key[a] for a, acct in accounts.items() if acct.stage == "tact"] == ["cleo"]


@pytest.mark.parametrize(("crm", "preset", "ident"), PRESETS)
def test_sample_reasons_are_grouped_by_cause(crm: str, preset: CrmPreset, ident: object) -> None:
    _, opps = read_opportunities(sample(crm, "opportunities"), preset.opportunities)
    assert opps.read == opps.used + opps.skipped + opps.rejected
    assert (opps.used, opps.skipped) == (26, 6)
    (not_won,) = [r for r in opps.reasons if r.outcome == "skipped"]
    assert (not_won.count, not_won.lines) == (6, (28, 29, 30, 31, 32))
    assert "not a won stage" in not_won.cause
    _, history = read_field_history(sample(crm, "history"), preset.history)
    assert (history.read, history.used, history.skipped, history.rejected) == (51, 46, 3, 2)
    causes = [r.cause for r in history.reasons if r.outcome == "rejected"]
    assert any("no transition to it from the stage reached" in c for c in causes)
    assert any("expected a number for health" in c for c in causes)


def test_salesforce_summary_reads_plainly() -> None:
    _, result = read_opportunities(sample("salesforce", "opportunities"), SALESFORCE.opportunities)
    assert result.summary().splitlines() == [
        "opportunities.csv: 34 rows read, 26 used, 6 skipped, 2 rejected",
        "  rejected 1 (line 34): Account ID: no value",
        "  rejected 1 (line 35): Close Date: expected a date (ISO 8601 or '%m/%d/%Y',"
        " '%m/%d/%Y %I:%M %p'), e.g. '2025-02-30'",
        "  skipped 6 (lines 28, 29, 30, 31, 32, ...): Stage: not a won stage,"
        " e.g. 'Negotiation/Review'",
    ]


# --------------------------------------------------------------------------- reading contracts
OPP_MAP = ColumnMap(
    "opportunities",
    {"account": "Account", "stage": "Stage", "close_date": "Close", "amount": "Amount"},
    won_stages={"Won"},
)


def test_opportunity_amounts_and_terms() -> None:
    export = "Account,Stage,Close,Amount,Term,Cur\na,won,2025-01-15,1200,24,EUR\nb,Won,2025-02-01,100,,\n"
    m = OPP_MAP.with_columns(term_months="Term", currency="Cur")
    (a, b), result = read_opportunities(text(export), m, currency="USD", term_months=6)
    assert (a.end, a.currency, a.arr) == (date(2027, 1, 15), "EUR", 1200)
    assert (b.end, b.currency) == (date(2025, 8, 1), "USD")  # the default term and currency
    assert result.used == 2
    monthly = attrs_evolve(m, amount="mrr")
    ((a2, _), _) = read_opportunities(text(export), monthly, currency="USD")
    assert a2.arr == 1200 * 12
    total = attrs_evolve(m, amount="total")
    ((a3, _), _) = read_opportunities(text(export), total, currency="USD")
    assert a3.arr == 1200 / 2  # 1,200 over a 24-month term


def attrs_evolve(m: ColumnMap, **kw: object) -> ColumnMap:
    import attrs

    return attrs.evolve(m, **kw)  # type: ignore[misc]


def test_rows_without_a_currency_are_rejected_unless_one_is_given() -> None:
    export = "Account,Stage,Close,Amount\na,Won,2025-01-15,1200\n"
    contracts, result = read_opportunities(text(export), OPP_MAP)
    assert contracts == ()
    assert str(result.reasons[0]) == "rejected 1 (line 2): currency: no value (or pass currency=)"


def test_contract_end_dates_inclusive_and_renewal_links() -> None:
    m = ColumnMap(
        "contracts",
        {"id": "No", "account": "Acct", "start_date": "From", "end_date": "To", "amount": "ARR",
         "renews": "Renews"},
        end_inclusive=True,
    )  # fmt: skip
    export = (
        "No,Acct,From,To,ARR,Renews\n"
        "1,a,2024-01-01,2024-12-31,100,\n"
        "2,a,2025-01-01,2025-12-31,110,1\n"
        "3,b,2025-01-01,2025-12-31,50,0\n"  # renews a contract not in the export
        "4,b,2025-01-01,2024-12-31,50,\n"  # ends before it starts
        "1,c,2025-01-01,2025-12-31,50,\n"  # a repeated id
    )
    contracts, result = read_contracts(text(export), m, currency="USD")
    assert [(c.id, c.end, c.renews) for c in contracts] == [
        ("1", date(2025, 1, 1), None),
        ("2", date(2026, 1, 1), "1"),
        ("3", date(2026, 1, 1), None),  # the link is dropped, and said
    ]
    assert [str(r) for r in result.reasons] == [
        "rejected 1 (line 5): To: expected a date after start (2025-01-01), e.g. '2025-01-01'",
        "rejected 1 (line 6): No: repeats an id, e.g. '1 (line 2)'",
        "noted 1 (line 4): Renews: not a contract of this export, link dropped, e.g. '0'",
    ]
    assert (result.read, result.used, result.rejected) == (5, 3, 2)


# --------------------------------------------------------------------------- files as CRMs write them
EXPORT = "Account;Stage;Close;Amount\nacme;Won;31.03.2025;1.200,50\nbolt;Won;01.04.2025;€ 99\n"
EU_MAP = attrs_evolve(OPP_MAP, date_formats=("%d.%m.%Y",), decimal=",")


@pytest.mark.parametrize(
    "data",
    [
        EXPORT.encode("utf-8"),
        b"\xef\xbb\xbf" + EXPORT.encode("utf-8"),  # a byte-order mark
        EXPORT.encode("utf-16"),  # UTF-16 with its mark
        EXPORT.encode("cp1252"),  # what a spreadsheet program saves on Windows
        EXPORT,  # text
    ],
    ids=["utf-8", "utf-8-bom", "utf-16", "cp1252", "text"],
)
def test_encodings_delimiters_and_decimal_commas(data: bytes | str, tmp_path: Path) -> None:
    stream = io.BytesIO(data) if isinstance(data, bytes) else io.StringIO(data)
    windows = data == EXPORT.encode("cp1252")
    if windows:  # not guessed at: the error names the line and the encoding it looks like
        with pytest.raises(SchemaError, match=r"<export> line 3: .*read it with encoding 'cp1252'"):
            read_opportunities(stream, EU_MAP, currency="EUR")
        stream.seek(0)
    encoding = "cp1252" if windows else None
    contracts, result = read_opportunities(stream, EU_MAP, currency="EUR", encoding=encoding)
    assert [(c.account, c.start, c.arr) for c in contracts] == [
        ("acme", date(2025, 3, 31), 1200.5),
        ("bolt", date(2025, 4, 1), 99.0),
    ]
    path = tmp_path / "export.csv"
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    read = read_opportunities(path, EU_MAP, currency="EUR", encoding=encoding)
    assert read[1].source == "export.csv"
    assert result.source == "<export>"


def test_tabs_and_headers_matched_loosely() -> None:
    export = "account\tSTAGE\tclose\tAmount \na\tWon\t2025-01-01\t5\n\n\n"
    contracts, result = read_opportunities(text(export), OPP_MAP, currency="USD")
    assert len(contracts) == 1 and result.read == 1  # blank lines are not rows


def test_broken_rows_are_counted() -> None:
    export = 'Account,Stage,Close,Amount\na,Won,2025-01-01\nb,Won,2025-01-01,"5\n'
    _, result = read_opportunities(text(export), OPP_MAP, currency="USD")
    assert result.rejected == 2
    assert str(result.reasons[0]).startswith(
        "rejected 1 (line 2): the row has 3 fields, the header 4"
    )


def test_missing_columns_and_headers_are_refused() -> None:
    with pytest.raises(SchemaError, match=r"column 'Amount': got nothing, expected a column"):
        read_opportunities(text("Account,Stage,Close\n"), OPP_MAP)
    with pytest.raises(SchemaError, match="header: got nothing"):
        read_opportunities(text(""), OPP_MAP)
    with pytest.raises(InvalidValue, match="columns: got 'cases', expected a ColumnMap of kind"):
        read_opportunities(text("a\n"), HUBSPOT.cases)
    with pytest.raises(InvalidValue, match="tz: got 'Mars/Olympus'"):
        read_opportunities(text("a\n"), OPP_MAP, tz="Mars/Olympus")


# --------------------------------------------------------------------------- time zones
def test_date_times_without_an_offset_are_read_in_the_given_zone() -> None:
    m = ColumnMap("cases", {"account": "Org", "opened_at": "Opened"})
    export = "Org,Opened\na,2025-03-01 09:00\na,2025-03-02T09:00:00+09:00\na,2025-03-03\n"
    utc, _ = read_cases(text(export), m)
    assert [f.at for f in utc] == [
        datetime(2025, 3, 1, 9, tzinfo=UTC),
        datetime(2025, 3, 2, 0, tzinfo=UTC),  # 09:00 in Tokyo is midnight UTC
        datetime(2025, 3, 3, tzinfo=UTC),
    ]
    ny, _ = read_cases(text(export), m, tz="America/New_York")
    assert ny[0].at.utcoffset() == timedelta(hours=-5)
    assert ny[0].at.hour == 9
    fixed, _ = read_cases(text(export), m, tz=timezone(timedelta(hours=2)))
    assert fixed[2].at.isoformat() == "2025-03-03T00:00:00+02:00"


def test_contract_days_are_taken_in_the_given_zone() -> None:
    export = "Account,Stage,Close,Amount\na,Won,2025-03-31T23:30:00-05:00,1\n"
    (utc,), _ = read_opportunities(text(export), OPP_MAP, currency="USD")
    (chi,), _ = read_opportunities(text(export), OPP_MAP, currency="USD", tz="America/Chicago")
    (ny,), _ = read_opportunities(text(export), OPP_MAP, currency="USD", tz="America/New_York")
    # 04:30 UTC on 1 April; 23:30 on 31 March in Chicago; 00:30 on 1 April in New York (EDT)
    assert (utc.start, chi.start, ny.start) == (
        date(2025, 4, 1),
        date(2025, 3, 31),
        date(2025, 4, 1),
    )


# --------------------------------------------------------------------------- cases
def test_cases_become_open_ticket_counts_and_critical_risk() -> None:
    m = ColumnMap(
        "cases",
        {"id": "Id", "account": "Org", "opened_at": "Opened", "closed_at": "Closed", "priority": "P"},
        critical_priorities={"P1"},
    )  # fmt: skip
    export = (
        "Id,Org,Opened,Closed,P\n"
        "1,a,2025-03-01 09:00,2025-03-05 09:00,P1\n"
        "2,a,2025-03-02 09:00,,P3\n"
        "3,a,2025-03-05 09:00,2025-03-06 09:00,P3\n"  # opens when case 1 closes
        "4,b,2025-03-01 09:00,2025-02-01 09:00,P3\n"
        "2,b,2025-03-01 09:00,,P3\n"
    )
    facts, result = read_cases(text(export), m)
    snaps = [
        (f.account, f.at.day, f.fact.open_tickets, f.fact.critical_risk, f.line) for f in facts
    ]  # type: ignore[union-attr]
    assert snaps == [
        ("a", 1, 1, True, 2),
        ("a", 2, 2, True, 3),
        ("a", 5, 2, False, 2),  # one closed, one opened at the same moment: one snapshot
        ("a", 6, 1, False, 4),
    ]
    assert [r.cause for r in result.reasons] == [
        "Closed: before the opening",
        "Id: repeats an id",
    ]


# --------------------------------------------------------------------------- field history
HISTORY_MAP = ColumnMap(
    "history",
    {"account": "Acct", "field": "Field", "old_value": "Old", "new_value": "New",
     "changed_at": "At", "changed_by": "By"},
    fields={"Phase": "stage", "Owner": "owner", "Score": "health", "Plan": "success_metrics_agreed",
            "Seats": "metrics.seats"},
    stages={"Kickoff": "seed", "Scaling": "accelerate"},
)  # fmt: skip


def test_field_history_becomes_events_owner_changes_and_snapshots() -> None:
    export = (
        "Acct,Field,Old,New,At,By\n"
        "a,Phase,,Kickoff,2025-01-01 09:00,dana\n"
        "a,Score,,81,2025-02-01 09:00,bot\n"
        "a,Plan,false,yes,2025-02-01 09:00,dana\n"
        "a,Seats,10,12,2025-02-01 09:00,bot\n"
        "a,Phase,Kickoff,Scaling,2025-03-01 09:00,dana\n"
        "a,Owner,dana,lee,2025-03-02 09:00,mia\n"
        "a,Phase,Scaling,Accelerate,2025-03-03 09:00,dana\n"  # the stage it is in already
        "a,Phase,Scaling,Ascend,2025-03-04 09:00,dana\n"  # accelerate -> ascend: sustain
        "a,Score,81,120,2025-03-05 09:00,bot\n"  # out of range
        "a,Score,81,70,2025-02-01 09:00,bot\n"  # a second score at the same moment
        "a,Phase,,Gold,2025-03-06 09:00,dana\n"
        "a,Fax,,123,2025-03-06 09:00,dana\n"
    )
    facts, result = read_field_history(text(export), HISTORY_MAP)
    kinds = [(type(f.fact).__name__, f.line) for f in facts]
    assert kinds == [
        ("Event", 2),
        ("Snapshot", 3),
        ("Event", 6),
        ("OwnerChange", 7),
        ("Event", 9),
    ]
    sign, accelerate, owner, sustain = facts[0].fact, facts[2].fact, facts[3].fact, facts[4].fact
    assert isinstance(sign, Event) and isinstance(accelerate, Event) and isinstance(sustain, Event)
    assert (sign.trigger, sign.to, sign.forced, sign.actor) == ("sign", "seed", True, "dana")
    assert sign.reason == "Phase changed from nothing to Kickoff in the CRM"
    assert (accelerate.trigger, sustain.trigger) == ("accelerate", "sustain")
    snap = facts[1].fact
    assert isinstance(snap, Snapshot)
    assert (snap.health, snap.success_metrics_agreed, snap.metrics) == (81.0, True, {"seats": 12.0})
    assert owner == OwnerChange(datetime(2025, 3, 2, 9, tzinfo=UTC), "lee", "dana", by="mia")
    assert (result.read, result.used, result.skipped, result.rejected) == (12, 7, 2, 3)
    assert [str(r) for r in result.reasons] == [
        "rejected 1 (line 10): New: expected a number from 0 to 100 for health, e.g. '120'",
        "rejected 1 (line 11): New: another value for the same moment, e.g. '70 (line 3)'",
        "rejected 1 (line 12): New: not a stage of the lifecycle, e.g. 'Gold'",
        "skipped 1 (line 8): New: the stage the account is in already, e.g. 'Accelerate'",
        "skipped 1 (line 13): Field: not a mapped field, e.g. 'Fax'",
    ]
    account = accounts_from_facts(facts)["a"]
    assert (account.stage, account.owner) == ("ascend", "lee")
    assert [r.trigger for r in account.history] == ["sign", "accelerate", "sustain"]
    assert account.history[0].reason == "Phase changed from nothing to Kickoff in the CRM"


def test_stage_changes_the_lifecycle_has_no_transition_for_are_rejected() -> None:
    export = "Acct,Field,Old,New,At\na,Phase,,Scaling,2025-01-01\n"  # prospect -> accelerate
    facts, result = read_field_history(text(export), HISTORY_MAP)
    assert facts == ()
    assert str(result.reasons[0]) == (
        "rejected 1 (line 2): New: no transition to it from the stage reached,"
        " e.g. 'prospect -> accelerate'"
    )


def test_facts_from_several_readers_make_one_account() -> None:
    cases, _ = read_cases(
        text("Org,Opened\na,2025-01-05\n"),
        ColumnMap("cases", {"account": "Org", "opened_at": "Opened"}),
    )
    history, _ = read_field_history(text("Acct,Field,New,At\na,Score,60,2025-01-02\n"), HISTORY_MAP)
    (account,) = accounts_from_facts([*history, *cases]).values()
    assert [s.at.day for s in account.snapshots] == [2, 5]
    with pytest.raises(InvalidValue, match=r"facts\[0\]: got 'x', expected a CrmFact"):
        accounts_from_facts(["x"])  # type: ignore[list-item]
    assert isinstance(cases[0], CrmFact)


def _shape(account: object) -> tuple[object, ...]:
    return (
        account.stage,  # type: ignore[attr-defined]
        account.owner,  # type: ignore[attr-defined]
        tuple(account.history),  # type: ignore[attr-defined]
        tuple(account.snapshots),  # type: ignore[attr-defined]
        tuple(account.owners),  # type: ignore[attr-defined]
    )


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_accounts_from_facts_and_the_timeline_are_one_path(rnd: Any) -> None:
    cases, _ = read_cases(sample("salesforce", "cases"), SALESFORCE.cases)
    history, _ = read_field_history(sample("salesforce", "history"), SALESFORCE.history)
    facts = [*cases, *history]
    expected = accounts_from_facts(facts)
    shuffled = list(facts)
    rnd.shuffle(shuffled)
    # Facts of one account and moment keep their given order (it decides which comes
    # first); every other order is shuffled.
    ties: dict[tuple[str, datetime], list[CrmFact]] = {}
    for f in facts:
        ties.setdefault((f.account, f.at), []).append(f)
    shuffled = [ties[(f.account, f.at)].pop(0) for f in shuffled]
    # The order facts arrive in does not matter otherwise, and the accounts are the timeline's.
    got = accounts_from_facts(shuffled)
    assert {k: _shape(a) for k, a in got.items()} == {k: _shape(a) for k, a in expected.items()}
    tl = timeline_from_facts(shuffled)
    assert {k: _shape(a) for k, a in tl.accounts().items()} == {
        k: _shape(a) for k, a in expected.items()
    }


def test_a_late_crm_fact_means_what_it_means_in_a_timeline() -> None:
    history, _ = read_field_history(
        text(
            "Acct,Field,Old,New,At\n"
            "a,Phase,,Kickoff,2025-01-02\n"
            "a,Phase,Kickoff,Scaling,2025-03-01\n"
            "a,Owner,dana,lee,2025-02-01\n"
        ),
        HISTORY_MAP,
    )
    tl = timeline_from_facts(history)
    a = tl.account("a")
    assert [r.trigger for r in a.history] == ["sign", "accelerate"]
    # The first owner change's previous owner is the owner before it, in both paths.
    assert a.owners[0].previous == "dana" == accounts_from_facts(history)["a"].owners[0].previous
    # As of a date before the stage change was logged, the account had not moved yet.
    assert tl.account("a", as_of=datetime(2025, 2, 15, tzinfo=UTC)).stage == "seed"
    # A fact that no longer fits is left out of a timeline, and refused by accounts_from_facts.
    clash = CrmFact(
        "a", Event("escalate", datetime(2025, 1, 1, tzinfo=UTC), forced=True, reason="x"), 9
    )
    assert [c.fact.item for c in timeline_from_facts([*history, clash]).conflicts("a")] == [
        clash.fact
    ]
    with pytest.raises(TransitionNotAllowed):
        accounts_from_facts([*history, clash])


# --------------------------------------------------------------------------- the column map
def test_column_maps_are_checked_when_built() -> None:
    with pytest.raises(
        UnknownName, match="unknown opportunities field 'closedate'; did you mean 'close_date'"
    ):
        ColumnMap("opportunities", {**OPP_MAP.columns, "closedate": "x"})
    with pytest.raises(SchemaError, match=r"columns\['amount'\]: got nothing, expected a column"):
        ColumnMap("opportunities", {"account": "a", "stage": "s", "close_date": "c"})
    with pytest.raises(InvalidValue, match="kind: got 'leads'"):
        ColumnMap("leads", {})  # type: ignore[arg-type]
    with pytest.raises(
        UnknownName, match=r"unknown fields\['X'\] meaning 'helth'; did you mean 'health'"
    ):
        ColumnMap("history", HISTORY_MAP.columns, fields={"X": "helth"})
    with pytest.raises(InvalidValue, match="amount: got 'acv'"):
        ColumnMap("contracts", {"account": "a", "start_date": "s", "amount": "x"}, amount="acv")  # type: ignore[arg-type]
    with pytest.raises(UnknownName, match="unknown sample CRM 'pipedrive'"):
        sample("pipedrive", "cases")
    assert SALESFORCE.for_kind("cases") is SALESFORCE.cases


# --------------------------------------------------------------------------- the how-to's output
def test_the_howto_shows_the_output_its_code_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import re

    page = (SHIPPED.parents[3] / "docs" / "howto" / "crm.md").read_text(encoding="utf-8")
    pairs = re.findall(r"```python\n(.*?)```\n\n```text\n(.*?)```", page, re.S)
    assert len(pairs) >= 8
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "howto_crm"}
    for code, shown in pairs:
        exec(compile(code, "crm.md", "exec"), namespace)
        printed = capsys.readouterr().out
        assert [line.rstrip() for line in printed.splitlines()] == shown.splitlines(), code


def test_importing_crm_stays_light() -> None:
    import subprocess
    import sys

    code = "import sys, stars.crm; print(sorted(m for m in ('polars', 'pandas', 'numpy', 'narwhals', 'cattrs', 'stars.io') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
