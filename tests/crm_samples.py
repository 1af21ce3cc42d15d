"""Writes the bundled CRM sample exports (src/stars/data/crm/) from one made-up story.

Run ``python tests/crm_samples.py`` to write them again; `tests/test_crm.py` checks that
the shipped files are what this script writes. The two CRMs' files tell the same story
(same contracts, cases and history) in each CRM's shape, so both give the same figures.
Every name and number here is invented.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

OUT = Path(__file__).resolve().parent.parent / "src" / "stars" / "data" / "crm"


class Acct(NamedTuple):
    key: str
    name: str
    owner: str
    segment: str
    parent: str | None = None


ACCOUNTS = [
    Acct("acme", "Acme Analytics", "dana", "enterprise"),
    Acct("acme-eu", "Acme Analytics EU", "dana", "enterprise", "acme"),
    Acct("acme-apac", "Acme Analytics APAC", "lee", "enterprise", "acme"),
    Acct("bolt", "Bolt Logistics", "lee", "mid"),
    Acct("bolt-freight", "Bolt Freight", "lee", "mid"),
    Acct("cleo", "Cleo Health", "dana", "mid"),
    Acct("dyna", "Dynamo Retail", "mia", "smb"),
    Acct("echo", "Echo Media", "mia", "smb"),
    Acct("fern", "Fernway Foods", "lee", "mid"),
    Acct("gala", "Gala Events", "mia", "smb"),
    Acct("halo", "Halo Security", "dana", "enterprise"),
    Acct("iris", "Iris Learning", "lee", "smb"),
    Acct("juno", "Juno Travel", "mia", "mid"),
    Acct("kite", "Kite Robotics", "dana", "enterprise"),
    Acct("lumo", "Lumo Energy", "lee", "mid"),
]


class Deal(NamedTuple):
    ref: str
    key: str
    start: date
    months: int
    arr: int
    currency: str = "USD"
    renews: str | None = None
    status: str = ""  # a contract status other than the default (e.g. Draft)


# Annual recurring revenue, all multiples of 12 so that monthly amounts are whole.
DEALS = [
    Deal("A1", "acme", date(2024, 2, 1), 12, 120_000),
    Deal("A2", "acme", date(2025, 2, 1), 12, 132_000, renews="A1"),
    Deal("E1", "acme-eu", date(2024, 6, 1), 12, 48_000),
    Deal("E2", "acme-eu", date(2025, 6, 1), 12, 48_000, renews="E1"),
    Deal("P1", "acme-apac", date(2024, 9, 1), 12, 24_000),
    Deal("B1", "bolt", date(2024, 4, 1), 12, 60_000),
    Deal("F1", "bolt-freight", date(2024, 4, 1), 12, 12_000),
    Deal("B2", "bolt", date(2025, 4, 1), 12, 72_000, renews="B1"),
    Deal("C1", "cleo", date(2024, 11, 1), 12, 36_000),
    Deal("C2", "cleo", date(2025, 11, 1), 12, 30_000, renews="C1"),
    Deal("D1", "dyna", date(2023, 7, 1), 24, 18_000),
    Deal("D2", "dyna", date(2025, 7, 15), 12, 18_000),  # signed two weeks late, not linked
    Deal("H1", "echo", date(2024, 3, 1), 12, 9_600),
    Deal("N1", "fern", date(2024, 12, 1), 12, 30_000),
    Deal("N2", "fern", date(2025, 5, 1), 7, 6_000),  # an upsell, co-termed
    Deal("N3", "fern", date(2025, 12, 1), 12, 36_000, renews="N1"),
    Deal("G1", "gala", date(2024, 5, 1), 12, 7_200),
    Deal("G2", "gala", date(2025, 5, 1), 12, 6_000, renews="G1"),
    Deal("S1", "halo", date(2024, 1, 1), 36, 84_000, currency="EUR"),
    Deal("I1", "iris", date(2024, 8, 1), 12, 4_800),
    Deal("I2", "iris", date(2025, 8, 1), 12, 4_800, renews="I1"),
    Deal("J1", "juno", date(2024, 10, 15), 12, 15_000),
    Deal("J2", "juno", date(2025, 9, 1), 12, 18_000, renews="J1"),  # renewed early
    Deal("K1", "kite", date(2025, 3, 15), 12, 60_000),
    Deal("L1", "lumo", date(2023, 1, 1), 12, 19_200),
    Deal("L2", "lumo", date(2025, 6, 1), 12, 21_600),
    Deal("X1", "kite", date(2026, 3, 15), 12, 72_000, status="Draft"),
]

# Opportunities that are not (yet) contracts: (account, stage, close, amount, start)
PIPELINE = [
    ("kite", "Negotiation", date(2026, 2, 27), 12_000),
    ("cleo", "Proposal", date(2026, 1, 30), 6_000),
    ("echo", "Closed Lost", date(2025, 2, 14), 9_600),
    ("gala", "Qualification", date(2026, 3, 31), 2_400),
    ("iris", "Closed Lost", date(2025, 6, 30), 3_600),
    ("dyna", "Prospecting", date(2026, 4, 15), 6_000),
]

# Cases: (account, opened, closed or None, priority)
CASES = [
    ("acme", datetime(2025, 1, 8, 9, 30), datetime(2025, 1, 9, 16, 0), "Medium"),
    ("acme", datetime(2025, 6, 3, 11, 0), datetime(2025, 6, 5, 10, 0), "Low"),
    ("acme-apac", datetime(2025, 5, 12, 8, 0), datetime(2025, 6, 20, 17, 0), "Critical"),
    ("acme-apac", datetime(2025, 6, 2, 8, 0), datetime(2025, 7, 1, 9, 0), "High"),
    ("acme-apac", datetime(2025, 7, 14, 10, 0), None, "High"),
    ("bolt", datetime(2025, 2, 17, 13, 0), datetime(2025, 2, 18, 9, 0), "Low"),
    ("cleo", datetime(2025, 8, 4, 9, 0), datetime(2025, 9, 30, 18, 0), "Critical"),
    ("cleo", datetime(2025, 9, 1, 9, 0), None, "High"),
    ("cleo", datetime(2025, 10, 6, 14, 0), None, "Critical"),
    ("cleo", datetime(2025, 11, 20, 10, 0), None, "Medium"),
    ("dyna", datetime(2025, 3, 3, 10, 0), datetime(2025, 3, 3, 15, 0), "Low"),
    ("echo", datetime(2024, 12, 2, 9, 0), datetime(2025, 2, 10, 12, 0), "High"),
    ("echo", datetime(2025, 1, 6, 9, 0), datetime(2025, 2, 27, 12, 0), "Critical"),
    ("fern", datetime(2025, 4, 22, 16, 0), datetime(2025, 4, 23, 9, 0), "Medium"),
    ("gala", datetime(2025, 4, 1, 9, 0), datetime(2025, 4, 15, 9, 0), "High"),
    ("gala", datetime(2025, 10, 13, 9, 0), None, "Medium"),
    ("halo", datetime(2025, 9, 9, 9, 0), datetime(2025, 9, 10, 9, 0), "Low"),
    ("iris", datetime(2025, 7, 7, 10, 0), datetime(2025, 7, 8, 10, 0), "Low"),
    ("juno", datetime(2025, 5, 19, 9, 0), datetime(2025, 5, 21, 9, 0), "Medium"),
    ("kite", datetime(2025, 4, 2, 9, 0), datetime(2025, 4, 3, 9, 0), "Medium"),
    ("kite", datetime(2025, 11, 3, 9, 0), None, "Low"),
    ("lumo", datetime(2025, 6, 16, 9, 0), datetime(2025, 6, 18, 9, 0), "High"),
]

# Field history: (account, field, old, new, at, by)
STAGE, HEALTH, PLAN, SPONSOR, OWNER = "stage", "health", "plan", "sponsor", "owner"
HISTORY: list[tuple[str, str, str, str, datetime, str]] = [
    ("acme", STAGE, "Prospect", "Onboarding", datetime(2024, 2, 1, 9), "dana"),
    ("acme", PLAN, "false", "true", datetime(2024, 3, 15, 10), "dana"),
    ("acme", STAGE, "Onboarding", "Growing", datetime(2024, 5, 2, 9), "dana"),
    ("acme", STAGE, "Growing", "Established", datetime(2025, 1, 6, 9), "dana"),
    ("acme", HEALTH, "74", "86", datetime(2025, 11, 28, 9), "system"),
    ("acme-eu", STAGE, "Prospect", "Onboarding", datetime(2024, 6, 1, 9), "dana"),
    ("acme-eu", HEALTH, "", "72", datetime(2025, 11, 28, 9), "system"),
    ("acme-apac", STAGE, "Prospect", "Onboarding", datetime(2024, 9, 2, 9), "lee"),
    ("acme-apac", STAGE, "Onboarding", "At Risk", datetime(2025, 5, 20, 9), "lee"),
    ("acme-apac", HEALTH, "55", "28", datetime(2025, 7, 1, 9), "system"),
    ("acme-apac", STAGE, "At Risk", "Churned", datetime(2025, 9, 1, 9), "lee"),
    ("bolt", STAGE, "Prospect", "Onboarding", datetime(2024, 4, 1, 9), "lee"),
    ("bolt", PLAN, "", "true", datetime(2024, 5, 6, 9), "lee"),
    ("bolt", STAGE, "Onboarding", "Growing", datetime(2024, 8, 1, 9), "lee"),
    ("bolt", OWNER, "lee", "mia", datetime(2025, 4, 1, 9), "admin"),
    ("bolt", HEALTH, "70", "81", datetime(2025, 11, 28, 9), "system"),
    ("cleo", STAGE, "Prospect", "Onboarding", datetime(2024, 11, 1, 9), "dana"),
    ("cleo", STAGE, "Onboarding", "Growing", datetime(2025, 2, 3, 9), "dana"),
    ("cleo", STAGE, "Growing", "At Risk", datetime(2025, 8, 11, 9), "dana"),
    ("cleo", HEALTH, "61", "34", datetime(2025, 11, 28, 9), "system"),
    ("cleo", SPONSOR, "true", "false", datetime(2025, 8, 11, 9), "dana"),
    ("dyna", STAGE, "Prospect", "Onboarding", datetime(2023, 7, 3, 9), "mia"),
    ("dyna", STAGE, "Onboarding", "Growing", datetime(2023, 11, 1, 9), "mia"),
    ("dyna", HEALTH, "66", "58", datetime(2025, 11, 28, 9), "system"),
    ("echo", STAGE, "Prospect", "Onboarding", datetime(2024, 3, 1, 9), "mia"),
    ("echo", STAGE, "Onboarding", "At Risk", datetime(2025, 1, 13, 9), "mia"),
    ("echo", STAGE, "At Risk", "Churned", datetime(2025, 3, 1, 9), "mia"),
    ("fern", STAGE, "Prospect", "Onboarding", datetime(2024, 12, 2, 9), "lee"),
    ("fern", STAGE, "Onboarding", "Established", datetime(2025, 6, 2, 9), "lee"),
    ("fern", HEALTH, "", "77", datetime(2025, 11, 28, 9), "system"),
    ("gala", STAGE, "Prospect", "Onboarding", datetime(2024, 5, 2, 9), "mia"),
    ("gala", STAGE, "Onboarding", "Growing", datetime(2024, 9, 2, 9), "mia"),
    ("gala", STAGE, "Growing", "Stalled", datetime(2025, 4, 7, 9), "mia"),
    ("gala", HEALTH, "60", "52", datetime(2025, 11, 28, 9), "system"),
    ("halo", STAGE, "Prospect", "Onboarding", datetime(2024, 1, 2, 9), "dana"),
    ("halo", STAGE, "Onboarding", "Growing", datetime(2024, 4, 1, 9), "dana"),
    ("halo", STAGE, "Growing", "Established", datetime(2024, 12, 2, 9), "dana"),
    ("halo", HEALTH, "88", "91", datetime(2025, 11, 28, 9), "system"),
    ("iris", STAGE, "Prospect", "Onboarding", datetime(2024, 8, 1, 9), "lee"),
    ("iris", HEALTH, "", "63", datetime(2025, 11, 28, 9), "system"),
    ("juno", STAGE, "Prospect", "Onboarding", datetime(2024, 10, 15, 9), "mia"),
    ("juno", STAGE, "Onboarding", "Growing", datetime(2025, 3, 3, 9), "mia"),
    ("juno", HEALTH, "", "79", datetime(2025, 11, 28, 9), "system"),
    ("kite", STAGE, "Prospect", "Onboarding", datetime(2025, 3, 17, 9), "dana"),
    ("kite", PLAN, "", "true", datetime(2025, 4, 14, 9), "dana"),
    ("kite", HEALTH, "", "83", datetime(2025, 11, 28, 9), "system"),
    ("lumo", STAGE, "Prospect", "Onboarding", datetime(2025, 6, 2, 9), "lee"),
    ("lumo", HEALTH, "", "abc", datetime(2025, 11, 28, 9), "system"),  # a bad value
]

# Rows of fields the maps do not use, as real exports have them
NOISE = [
    ("acme", "Phone", "", "+1 555 0100", datetime(2024, 2, 2, 9), "dana"),
    ("bolt", "Website", "bolt.example", "boltlogistics.example", datetime(2025, 1, 7, 9), "lee"),
    ("halo", "BillingCity", "Lyon", "Paris", datetime(2025, 3, 3, 9), "dana"),
]


# --------------------------------------------------------------------------- shapes
def sf_id(key: str) -> str:
    return "001Qy0000" + key.upper().replace("-", "")[:6].ljust(6, "0")


def hs_id(key: str) -> str:
    return str(21_500_000 + [a.key for a in ACCOUNTS].index(key) * 37 + 11)


def us_date(d: date) -> str:
    return f"{d.month}/{d.day}/{d.year}"


def us_time(t: datetime) -> str:
    hour = t.hour % 12 or 12
    return f"{us_date(t.date())} {hour}:{t.minute:02d} {'AM' if t.hour < 12 else 'PM'}"


def end_of(d: Deal) -> date:
    index = d.start.year * 12 + d.start.month - 1 + d.months
    return date(index // 12, index % 12 + 1, d.start.day)


def write(name: str, header: list[str], rows: list[list[str]], newline: str = "\n") -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    path = OUT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode("utf-8"))


def expected() -> dict[str, bytes]:
    """What the script writes, by path relative to OUT (for the test)."""
    global OUT
    saved = OUT
    tmp = Path(__import__("tempfile").mkdtemp())
    OUT = tmp
    try:
        main()
        return {str(p.relative_to(tmp)): p.read_bytes() for p in sorted(tmp.rglob("*.csv"))}
    finally:
        OUT = saved


NAMES = {a.key: a.name for a in ACCOUNTS}
OPP_STAGES_SF = {"Negotiation": "Negotiation/Review", "Proposal": "Proposal/Price Quote"}
OPP_STAGES_HS = {
    "Negotiation": "Contract Sent",
    "Proposal": "Presentation Scheduled",
    "Qualification": "Qualified To Buy",
    "Prospecting": "Appointment Scheduled",
}


def main() -> None:
    salesforce()
    hubspot()


def salesforce() -> None:
    won = [d for d in DEALS if not d.status]
    opps = []
    for i, d in enumerate(won):
        close = d.start - timedelta(days=7 + i % 9)
        kind = "Renewal" if d.renews else ("Existing Business" if d.ref == "N2" else "New Business")
        opps.append(
            [
                f"006Qy00000{d.ref}x",
                f"{NAMES[d.key]} - {d.start.year} {kind}",
                sf_id(d.key),
                NAMES[d.key],
                "Closed Won",
                us_date(close),
                f"{d.arr:,.2f}",
                d.currency,
                kind,
                us_date(d.start),
                str(d.months),
            ]
        )
    for j, (key, stage, close, amount) in enumerate(PIPELINE):
        opps.append(
            [
                f"006Qy00000Q{j}x",
                f"{NAMES[key]} - {close.year} Upsell",
                sf_id(key),
                NAMES[key],
                OPP_STAGES_SF.get(stage, stage),
                us_date(close),
                f"{amount:,.2f}",
                "USD",
                "Existing Business",
                "",
                "",
            ]
        )
    opps.append(["006Qy00000Z1x", "Unknown account", "", "", "Closed Won", "2/3/2025", "1,000.00", "USD", "New Business", "", "12"])  # fmt: skip
    opps.append(["006Qy00000Z2x", "Bad date", sf_id("kite"), NAMES["kite"], "Closed Won", "2025-02-30", "500.00", "USD", "New Business", "", "12"])  # fmt: skip
    write(
        "salesforce/opportunities.csv",
        ["Opportunity ID", "Opportunity Name", "Account ID", "Account Name", "Stage", "Close Date",
         "Amount", "Opportunity Currency", "Type", "Contract Start Date", "Term (Months)"],
        opps,
        "\r\n",
    )  # fmt: skip
    number = {d.ref: f"{100 + i:08d}" for i, d in enumerate(DEALS)}
    rows = []
    for d in DEALS:
        end = end_of(d)
        status = d.status or ("Activated" if end > date(2025, 12, 31) else "Expired")
        rows.append(
            [
                number[d.ref],
                sf_id(d.key),
                NAMES[d.key],
                status,
                us_date(d.start),
                us_date(end - timedelta(days=1)),
                str(d.months),
                f"{d.arr:,.2f}",
                d.currency,
                number[d.renews] if d.renews else "",
            ]
        )
    rows.append(["00000199", sf_id("gala"), NAMES["gala"], "Activated", "13/1/2025", "12/31/2025", "12", "1,200.00", "USD", ""])  # fmt: skip
    write(
        "salesforce/contracts.csv",
        ["Contract Number", "Account ID", "Account Name", "Status", "Contract Start Date",
         "Contract End Date", "Contract Term (months)", "Annual Recurring Revenue",
         "Contract Currency", "Renewed Contract"],
        rows,
        "\r\n",
    )  # fmt: skip
    cases = []
    for i, (key, opened, closed, priority) in enumerate(CASES):
        cases.append(
            [
                f"{5001 + i:08d}",
                sf_id(key),
                NAMES[key],
                "Closed" if closed else "Working",
                priority,
                us_time(opened),
                us_time(closed) if closed else "",
                f"Case {i + 1}",
            ]
        )
    cases.append(["00005090", sf_id("bolt"), NAMES["bolt"], "Closed", "Low", "3/4/2025 9:00 AM", "3/3/2025 9:00 AM", "Closed before it opened"])  # fmt: skip
    write(
        "salesforce/cases.csv",
        ["Case Number", "Account ID", "Account Name", "Status", "Priority", "Date/Time Opened",
         "Date/Time Closed", "Subject"],
        cases,
        "\r\n",
    )  # fmt: skip
    sf_field = {
        STAGE: "Customer_Stage__c",
        HEALTH: "Health_Score__c",
        PLAN: "Success_Plan_Agreed__c",
        SPONSOR: "Executive_Sponsor_Active__c",
        OWNER: "Owner",
    }
    users = {"dana": "005Qy000DANA", "lee": "005Qy000LEE0", "mia": "005Qy000MIA0",
             "admin": "005Qy000ADMN", "system": "005Qy000SYS0"}  # fmt: skip
    hist = []
    for key, field, old, new, at, by in sorted(HISTORY + NOISE, key=lambda r: (r[4], r[0])):
        hist.append(
            [
                sf_id(key),
                sf_field.get(field, field),
                old,
                new,
                at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                users[by],
            ]
        )
    write(
        "salesforce/account_history.csv",
        ["AccountId", "Field", "OldValue", "NewValue", "CreatedDate", "CreatedById"],
        hist,
        "\r\n",
    )


def hubspot() -> None:
    won = [d for d in DEALS if not d.status]
    deals = []
    for i, d in enumerate(won):
        close = datetime.combine(d.start - timedelta(days=7 + i % 9), datetime.min.time())
        kind = "Renewal" if d.renews else ("Existing Business" if d.ref == "N2" else "New Business")
        deals.append(
            [
                str(9_100_000 + i),
                f"{NAMES[d.key]} {d.start.year} {kind.lower()}",
                "Closed Won",
                (close + timedelta(hours=15, minutes=20)).strftime("%Y-%m-%d %H:%M"),
                str(d.arr),
                d.currency,
                d.start.isoformat(),
                str(d.months),
                hs_id(d.key),
            ]
        )
    for j, (key, stage, close, amount) in enumerate(PIPELINE):
        deals.append(
            [
                str(9_200_000 + j),
                f"{NAMES[key]} upsell",
                OPP_STAGES_HS.get(stage, stage),
                f"{close.isoformat()} 12:00",
                str(amount),
                "USD",
                "",
                "",
                hs_id(key),
            ]
        )
    deals.append(["9299999", "No company", "Closed Won", "2025-02-03 12:00", "1000", "USD", "", "12", ""])  # fmt: skip
    write(
        "hubspot/deals.csv",
        ["Record ID", "Deal Name", "Deal Stage", "Close Date", "Amount", "Currency",
         "Contract Start Date", "Contract Term (Months)", "Associated Company ID"],
        deals,
    )  # fmt: skip
    sub_id = {d.ref: str(7_700_000 + i) for i, d in enumerate(DEALS)}
    subs = []
    for d in DEALS:
        end = end_of(d)
        status = "Draft" if d.status else ("Active" if end > date(2025, 12, 31) else "Expired")
        subs.append(
            [
                sub_id[d.ref],
                f"{NAMES[d.key]} subscription",
                status,
                d.start.isoformat(),
                str(d.months),
                f"{d.arr / 12:.2f}",
                d.currency,
                sub_id[d.renews] if d.renews else "",
                hs_id(d.key),
            ]
        )
    subs.append(["7799999", "Gala add-on", "Active", "2025-05-01", "twelve", "100.00", "USD", "", hs_id("gala")])  # fmt: skip
    write(
        "hubspot/subscriptions.csv",
        ["Subscription ID", "Name", "Status", "Start Date", "Term (Months)", "MRR", "Currency",
         "Renewal Of", "Associated Company ID"],
        subs,
    )  # fmt: skip
    tickets = []
    for i, (key, opened, closed, priority) in enumerate(CASES):
        tickets.append(
            [
                str(3_300_000 + i),
                f"Ticket {i + 1}",
                "Closed" if closed else "Waiting on us",
                {"Critical": "Urgent"}.get(priority, priority),
                opened.strftime("%Y-%m-%d %H:%M"),
                closed.strftime("%Y-%m-%d %H:%M") if closed else "",
                hs_id(key),
            ]
        )
    tickets.append(["3399999", "Bad date", "New", "Low", "yesterday", "", hs_id("iris")])
    write(
        "hubspot/tickets.csv",
        ["Ticket ID", "Ticket name", "Ticket status", "Priority", "Create date", "Close date",
         "Associated Company ID"],
        tickets,
    )  # fmt: skip
    hs_field = {
        STAGE: "cs_stage",
        HEALTH: "health_score",
        PLAN: "success_plan_agreed",
        SPONSOR: "executive_sponsor_active",
        OWNER: "hubspot_owner_id",
    }
    owners = {"dana": "41001", "lee": "41002", "mia": "41003", "admin": "41000", "system": ""}
    hist = []
    for key, field, old, new, at, by in sorted(HISTORY + NOISE, key=lambda r: (r[0], r[4])):
        if field == OWNER:
            old, new = owners[old], owners[new]
        hist.append(
            [
                hs_id(key),
                hs_field.get(field, field.lower()),
                old,
                new,
                at.strftime("%Y-%m-%d %H:%M"),
                owners[by] or "System",
            ]
        )
    write(
        "hubspot/property_history.csv",
        ["Company ID", "Property", "Previous Value", "New Value", "Changed At", "Changed By"],
        hist,
    )


if __name__ == "__main__":
    main()
