"""An account's HTML view (``Account._repr_html_``), which scores its latest snapshot.

Kept apart from `stars._html` because it reads `stars.health`, which itself draws its
tables with `stars._html`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stars._html import band_badge, framed, health_series, sparkline, table
from stars.health import default_scorecard, measures_from

if TYPE_CHECKING:
    from stars._accounts import Account


def weakest(account: Account) -> str | None:
    """The measure costing the latest snapshot the most health, by the default scorecard."""
    latest = account.latest
    if latest is None:
        return None
    card = default_scorecard()
    values = measures_from(latest, card)
    if all(x is None for x in values.values()):
        return None
    score = card.score(values)
    if score.weakest is None:
        return None
    return f"{score.weakest} ({score.lost()[score.weakest]:.0f} pts below full marks)"


def account_html(account: Account) -> str:
    """A compact summary of an account: stage, band, health trend, weakest measure, moves."""
    latest = account.latest
    rows: list[tuple[str, object]] = [
        ("stage", account.stage),
        ("owner", account.owner),
    ]
    if latest is not None:
        series = health_series(account)
        rows += [
            ("health", latest.health),
            ("band", band_badge(latest.band) if latest.band else None),
            ("trend", sparkline(series) if len(series) > 1 else None),
            ("costs the most", weakest(account)),
            ("as of", latest.at.date().isoformat()),
        ]
    rows += [
        ("snapshots", len(account.snapshots)),
        ("transitions", len(account.history)),
        ("version", account.version),
    ]
    title = f"Account {account.id}" + (f" ({account.name})" if account.name else "")
    recent = [
        (r.at.date().isoformat(), r.trigger, f"{r.source} → {r.dest}", r.cycle.value)
        for r in account.history[-5:]
    ]
    out = table(("field", "value"), rows, caption=title)
    if recent:
        out += table(("at", "trigger", "move", "cycle"), recent, caption="recent transitions")
    return framed(out)
