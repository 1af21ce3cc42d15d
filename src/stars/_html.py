"""Small HTML helpers for notebook reprs and the HTML report (private).

Everything here writes plain HTML with inline styles, so it looks the same in Jupyter, in
VS Code, in a mail client and in a file opened offline: no scripts, no external sheets.
Band names in a table cell are drawn as coloured badges.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from stars.account import Account

#: Background and text colours of the health bands.
BAND_COLORS: Final = {
    "red": ("#c62828", "#ffffff"),
    "yellow": ("#f9a825", "#212121"),
    "green": ("#2e7d32", "#ffffff"),
    "unknown": ("#e0e0e0", "#212121"),
}


class Raw(str):
    """A table cell that is already HTML (a badge, a trend line): not escaped again."""

    __slots__ = ()


def band_badge(band: object) -> Raw:
    """A band name as a coloured badge (``unknown`` for None)."""
    name = "unknown" if band is None else str(getattr(band, "value", band))
    background, color = BAND_COLORS.get(name, BAND_COLORS["unknown"])
    return Raw(
        f'<span class="stars-band stars-band-{escape(name)}" style="background:{background};'
        f'color:{color};padding:0 6px;border-radius:3px;font-weight:600">{escape(name)}</span>'
    )


def sparkline(values: Sequence[float], *, width: int = 90, height: int = 20) -> Raw:
    """A small inline SVG trend line of health readings (0 to 100), the last one marked.

    Readings are spaced evenly; the band lines at 40 and 70 are drawn faintly so a reader
    sees where the account crossed them. Fewer than two readings give an empty cell.
    """
    points = [float(x) for x in values]
    if len(points) < 2:
        return Raw("")
    step = (width - 4) / (len(points) - 1)

    def y(value: float) -> float:
        return 2 + (height - 4) * (1 - max(0.0, min(100.0, value)) / 100)

    path = " ".join(f"{2 + i * step:.1f},{y(p):.1f}" for i, p in enumerate(points))
    last = points[-1]
    band = "red" if last < 40 else "yellow" if last < 70 else "green"
    label = f"health {points[0]:.0f} to {last:.0f} over {len(points)} readings"
    guides = "".join(
        f'<line x1="0" x2="{width}" y1="{y(level):.1f}" y2="{y(level):.1f}" '
        'stroke="#bdbdbd" stroke-width="0.5" stroke-dasharray="2,2"/>'
        for level in (40, 70)
    )
    return Raw(
        f'<svg class="stars-trend" width="{width}" height="{height}" role="img" '
        f'aria-label="{label}" viewBox="0 0 {width} {height}"><title>{label}</title>{guides}'
        f'<polyline fill="none" stroke="#455a64" stroke-width="1.5" points="{path}"/>'
        f'<circle cx="{2 + (len(points) - 1) * step:.1f}" cy="{y(last):.1f}" r="2.5" '
        f'fill="{BAND_COLORS[band][0]}"/></svg>'
    )


def _cell(value: object) -> str:
    if isinstance(value, Raw):
        return value
    if value is None:
        return "–"
    name = getattr(value, "value", value)
    if isinstance(name, str) and name in BAND_COLORS and name != "unknown":
        return band_badge(name)
    if isinstance(value, float):
        return escape(f"{value:.1f}")
    return escape(str(value))


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    caption: str = "",
    *,
    highlight: Iterable[int] = (),
) -> str:
    """Render a small HTML table; every cell is escaped except `Raw` ones.

    The markup stays plain (``<table>``, ``<td>``) so that every front end styles it as its
    own; rows whose index is in ``highlight`` are drawn bold on a pale background.
    """
    marked = set(highlight)
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    body = []
    for n, row in enumerate(rows):
        style = ' style="background:#fff8e1;font-weight:600"' if n in marked else ""
        cells = "".join(f"<td>{_cell(c)}</td>" for c in row)
        body.append(f"<tr{style}>{cells}</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


#: Left-aligned text and a little padding, scoped to one block (Jupyter right-aligns cells).
_FRAME_CSS: Final = (
    ".stars-repr table{border-collapse:collapse;margin:4px 0 8px}"
    ".stars-repr td,.stars-repr th{text-align:left;padding:2px 8px;"
    "border-bottom:1px solid #e0e0e0;vertical-align:top}"
    ".stars-repr caption{text-align:left;font-weight:600}"
)


def framed(html: str) -> str:
    """Wrap reprs in a block whose tables read left to right, in any notebook front end."""
    return f'<div class="stars-repr"><style>{_FRAME_CSS}</style>{html}</div>'


def health_series(account: Account) -> list[float]:
    """The account's health readings, oldest first (snapshots without one are skipped)."""
    return [s.health for s in account.snapshots if s.health is not None]
