"""The small template files ``stars init DIR`` writes (private to the command).

Each file is one every command accepts unchanged, so a user can start from it:
accounts, stage events, snapshots and contracts for ``stars assess``, a churn history and the
default scorecard for ``stars backtest``, and the maturity questionnaire (answers to
fill in, and the statements to read) for ``stars maturity``.
"""

from __future__ import annotations

import csv
import io
import json
import random
from typing import Final

ACCOUNTS: Final = """id,name,owner,tags,since,stage
acme,Acme Corp,dana,enterprise;key-account,2024-01-15,ascend
globex,Globex,lee,mid-market,2024-03-01,reset
initech,Initech,dana,smb,2024-06-01,seed
"""

EVENTS: Final = """account,at,trigger,stage,actor,reason
acme,2024-01-15,sign,,dana,contract signed
acme,2024-04-01,accelerate,,dana,success metrics agreed
acme,2024-10-01,sustain,,dana,green for a quarter
globex,2024-03-01,sign,,lee,contract signed
globex,2024-05-15,accelerate,,lee,
globex,2025-01-10,,Realignment,lee,usage flat since the autumn
initech,2024-06-01,sign,,dana,contract signed
"""

SNAPSHOTS: Final = """account,at,adoption,nps,csat,open_tickets,days_since_contact,sentiment,\
contract_signed,success_metrics_agreed,expansion_open,champion_engaged
acme,2025-01-06,0.82,45,88,1,6,0.6,yes,yes,no,yes
acme,2025-02-03,0.84,50,90,0,9,0.7,yes,yes,no,yes
acme,2025-03-03,0.86,52,91,1,4,0.7,yes,yes,no,yes
globex,2025-01-06,0.55,10,72,4,21,0.1,yes,yes,no,yes
globex,2025-02-03,0.48,0,66,6,34,-0.1,yes,yes,no,no
globex,2025-03-03,0.41,-10,61,7,45,-0.2,yes,yes,no,no
initech,2025-02-03,0.30,20,75,2,12,0.3,yes,no,no,yes
initech,2025-03-03,0.38,25,78,2,8,0.4,yes,no,no,yes
"""

CONTRACTS: Final = """account,start,end,arr,currency,id,renews
acme,2024-01-15,2025-01-15,120000,USD,acme-1,
acme,2025-01-15,2026-01-15,150000,USD,acme-2,acme-1
globex,2024-03-01,2025-03-01,80000,USD,globex-1,
globex,2025-03-01,2026-03-01,60000,USD,globex-2,globex-1
initech,2024-05-15,2025-05-15,25000,USD,initech-1,
"""

README: Final = """Templates written by `stars init`: put in your rows, keep the headers.

  stars assess accounts.csv --events events.csv --snapshots snapshots.csv --contracts contracts.csv
  stars backtest history.csv --scorecard scorecard.json --outcome churned --period period
  stars maturity maturity.json

accounts.csv     one row per account: id, name, owner, tags (separated by ;), since, stage
events.csv       stage history: account, at, trigger and/or stage, actor, reason
snapshots.csv    signals over time: account, at, and any of the signals in the header
contracts.csv    contracts: account, start, end (the renewal date), arr, currency, id, and the
                 id of the contract a renewal replaces
history.csv      one row per account and month, with a 0/1 churned outcome (for backtest)
scorecard.json   the default health scorecard (`stars scorecard` prints it again)
maturity.json    the maturity questionnaire's answers: yes, partly or no for each indicator
maturity.md      the statements behind each indicator id, to read while answering

Dates without a UTC offset are read in UTC (or in --tz ZONE).
"""

_HISTORY_COLUMNS: Final = (
    "account",
    "period",
    "segment",
    "adoption",
    "open_tickets",
    "days_since_contact",
    "nps",
    "csat",
    "sentiment",
    "churned",
)


def history(accounts: int = 40, months: int = 8, seed: int = 0) -> str:
    """A small monthly churn history for ``stars backtest`` (standard library only)."""
    rng = random.Random(f"stars-init-history:{seed}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_HISTORY_COLUMNS)
    segments = ("enterprise", "mid-market", "smb")
    for n in range(accounts):
        risk = rng.random()
        segment = segments[n % 3]
        for month in range(months):
            adoption = min(1.0, max(0.0, 0.9 - 0.6 * risk + rng.gauss(0, 0.08)))
            tickets = max(0, round(2 + 6 * risk + rng.gauss(0, 1.5)))
            contact = max(0, round(10 + 50 * risk + rng.gauss(0, 8)))
            nps = max(-100, min(100, round(50 - 80 * risk + rng.gauss(0, 10))))
            csat = max(0, min(100, round(90 - 40 * risk + rng.gauss(0, 5))))
            sentiment = max(-1.0, min(1.0, 0.7 - 1.2 * risk + rng.gauss(0, 0.15)))
            churned = 1 if rng.random() < 0.02 + 0.25 * risk**3 else 0
            writer.writerow(
                [
                    f"a{n:03d}",
                    f"2024-{month + 1:02d}-01",
                    segment,
                    f"{adoption:.2f}",
                    tickets,
                    contact,
                    nps,
                    csat,
                    f"{sentiment:.2f}",
                    churned,
                ]
            )
            if churned:
                break
    return out.getvalue()


def scorecard() -> str:
    """The default scorecard as a stars JSON document."""
    from stars import io as stars_io
    from stars.health import default_scorecard

    return json.dumps(stars_io.to_dict(default_scorecard()), indent=2) + "\n"


def maturity_answers() -> str:
    """Every indicator of the default questionnaire, answered "no": change what holds."""
    from stars.maturity import default_questionnaire

    answers = {i.id: "no" for i in default_questionnaire().indicators}
    return json.dumps(answers, indent=2) + "\n"


def maturity_statements() -> str:
    """The questionnaire as Markdown: each indicator id with its statement."""
    from stars.maturity import default_questionnaire

    lines = ["# Customer-success maturity questionnaire", ""]
    lines.append("Answer each statement in maturity.json with yes, partly or no.")
    area = level = None
    for i in default_questionnaire().indicators:
        if i.area is not area:
            area, level = i.area, None
            lines += ["", f"## {i.area.value.capitalize()}"]
        if i.level is not level:
            level = i.level
            lines += ["", f"### {i.level.value.capitalize()}", ""]
        lines.append(f"- `{i.id}`: {i.statement}")
    return "\n".join(lines) + "\n"


def files() -> dict[str, str]:
    """Every template, by file name."""
    return {
        "accounts.csv": ACCOUNTS,
        "events.csv": EVENTS,
        "snapshots.csv": SNAPSHOTS,
        "contracts.csv": CONTRACTS,
        "history.csv": history(),
        "scorecard.json": scorecard(),
        "maturity.json": maturity_answers(),
        "maturity.md": maturity_statements(),
        "README.txt": README,
    }
