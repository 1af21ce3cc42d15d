"""Helpers shared by the test modules (importable as ``helpers``: pytest puts tests/ on the path)."""

from __future__ import annotations


def section(note: str, title: str) -> list[str]:
    """The lines of a markdown note's section, from its heading to the next blank line."""
    lines = note.splitlines()
    start = lines.index(f"## {title}") + 2
    out = []
    for line in lines[start:]:
        if not line or line.startswith("## "):
            break
        out.append(line)
    return out
