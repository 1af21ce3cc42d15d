"""Tiny HTML helpers for notebook reprs (private)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stars.account import Account


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], caption: str = "") -> str:
    """Render a small HTML table; every cell is escaped."""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_cell(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def account_html(account: Account) -> str:
    """A compact summary of an account: stage, latest signals, last transitions."""
    latest = account.latest
    rows: list[tuple[str, object]] = [
        ("stage", account.stage),
        ("owner", account.owner),
        ("snapshots", len(account.snapshots)),
        ("transitions", len(account.history)),
        ("version", account.version),
    ]
    if latest is not None:
        rows += [
            ("health", latest.health),
            ("band", latest.band.value if latest.band else None),
            ("as of", latest.at.date().isoformat()),
        ]
    title = f"Account {account.id}" + (f" ({account.name})" if account.name else "")
    recent = [
        (r.at.date().isoformat(), r.trigger, f"{r.source} → {r.dest}", r.cycle.value)
        for r in account.history[-5:]
    ]
    out = table(("field", "value"), rows, caption=title)
    if recent:
        out += table(("at", "trigger", "move", "cycle"), recent, caption="recent transitions")
    return out
