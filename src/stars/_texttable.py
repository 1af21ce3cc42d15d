"""Plain-text tables that fit a terminal, and the terminal's width (private, shared).

The report's and the revenue-at-risk section's tables are drawn here; `terminal_width`
is the width the ``stars`` command and its ``backtest`` sub-command wrap their text at.

Examples:
    >>> from stars._texttable import text_table
    >>> for line in text_table(["owner", "lost"], [["dana lee", "1,200"]], right={1}):
    ...     print(line)
    owner      lost
    --------  -----
    dana lee  1,200
    >>> for line in text_table(["owner", "lost"], [["dana lee", "1,200"]], right={1}, width=12,
    ...                        min_column=4):
    ...     print(line)
    owner   lost
    -----  -----
    dana   1,200
    lee
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Collection, Sequence
from typing import Final

from stars import _validate as v

#: The width text wraps at when the output is not a terminal (and ``COLUMNS`` is unset).
DEFAULT_WIDTH: Final = 100

#: The narrowest width text is wrapped to.
MIN_WIDTH: Final = 40


def terminal_width() -> int:
    """The terminal's width (``COLUMNS`` first), or `DEFAULT_WIDTH` for no terminal; at least 40."""
    return max(MIN_WIDTH, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)


def checked_width(width: object) -> int | None:
    """A ``width=`` argument of a ``to_text``: ``None`` (any width), or a whole number of 40 up.

    Raises:
        InvalidValue: Anything else, named ``width``.
    """
    return None if width is None else int(v.number("width", width, MIN_WIDTH, integer=True))


def text_table(
    head: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: Collection[int] = (),
    fixed: Collection[int] = (),
    width: int | None = None,
    min_column: int = 6,
) -> list[str]:
    """The table's lines, its text columns wrapped, widest first, until it fits ``width``.

    Columns in ``right`` (figures) are right-aligned and never wrap; nor do those in
    ``fixed`` (dates, say). A text column narrows down to ``min_column`` characters and no
    further, so a table that cannot fit stays wider than ``width``.
    """
    widths = [len(h) for h in head]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    if width is not None:
        excess = sum(widths) + 2 * (len(widths) - 1) - width
        while excess > 0:  # one column at a time, always the widest: narrowed evenly
            can = [
                i
                for i in range(len(head))
                if i not in right and i not in fixed and widths[i] > min_column
            ]
            if not can:
                break
            widths[max(can, key=lambda i: (widths[i], i))] -= 1
            excess -= 1

    def lines(cells: Sequence[str]) -> list[str]:
        parts = [
            textwrap.wrap(c, w, break_on_hyphens=False) or [""] if len(c) > w else [c]
            for c, w in zip(cells, widths, strict=True)
        ]
        out = []
        for k in range(max(len(p) for p in parts)):
            out.append(
                "  ".join(
                    (p[k] if k < len(p) else "").rjust(w)
                    if i in right
                    else (p[k] if k < len(p) else "").ljust(w)
                    for i, (p, w) in enumerate(zip(parts, widths, strict=True))
                ).rstrip()
            )
        return out

    return [*lines(head), "  ".join("-" * w for w in widths), *(x for r in rows for x in lines(r))]
