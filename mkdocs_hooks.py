"""mkdocs hook: fill generated tables from the code.

The docs never repeat the lifecycle's definition by hand.
"""

from __future__ import annotations

from typing import Any

from stars import STARS
from stars.stages import Stage


def _stage_table() -> str:
    rows = [
        "| stage | STARS situation | kind | posture | what it looks like |",
        "|---|---|---|---|---|",
    ]
    for s in Stage:
        p = s.profile
        name = f"**{s.value.upper()}**" + (f" ({p.acronym})" if p.acronym else "")
        cells = [name, p.situation, s.kind.value, ", ".join(p.posture), p.characteristics]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _transition_table() -> str:
    rows = ["| trigger | from | to | cycle | guards |", "|---|---|---|---|---|"]
    for t in STARS.transitions:
        guards = ", ".join(g.label for g in t.guards) or "none"
        rows.append(
            f"| `{t.trigger}` | {', '.join(t.sources)} | {t.dest} | {t.cycle.value} | {guards} |"
        )
    return "\n".join(rows)


def _actions() -> str:
    out = []
    for s in Stage:
        p = s.profile
        out.append(f"### {s.value.upper()}: {' and '.join(p.posture)}\n")
        out += [f"- {a}" for a in p.key_actions]
        out.append("")
    return "\n".join(out)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """Replace the placeholders with tables generated from `stars.STARS`."""
    return (
        markdown.replace("<!-- stars:stage-table -->", _stage_table())
        .replace("<!-- stars:transition-table -->", _transition_table())
        .replace("<!-- stars:key-actions -->", _actions())
        .replace("<!-- stars:mermaid -->", "```mermaid\n" + STARS.to_mermaid() + "\n```")
    )
