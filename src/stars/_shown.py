"""Figures in messages that never contradict the threshold they are compared with (private)."""

from __future__ import annotations

from collections.abc import Sequence


def _plain(x: float) -> str:
    """A limit as written: no trailing zeros (``100``, ``0.65``, ``365``)."""
    text = f"{x:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def short_of(
    value: float, limit: float, *, percent: bool = False, digits: int = 0
) -> tuple[str, str]:
    """Show ``value`` and ``limit`` so that the value still reads as on the wrong side.

    The value is rounded as usual, with more decimals only where the usual rounding
    would meet the limit, so a refusal never reads "100% of projected, below the 100%
    required".

    Args:
        value: The figure that failed the check.
        limit: The threshold it failed.
        percent: Show both as percentages of 1.
        digits: The fewest decimals to show.

    Returns:
        The value and the limit, as text.

    Examples:
        >>> from stars._shown import short_of
        >>> short_of(0.9999, 1.0, percent=True)
        ('99.99%', '100%')
        >>> short_of(0.5, 1.0, percent=True)
        ('50%', '100%')
        >>> short_of(364.6, 365), short_of(30.02, 30)
        (('364.6', '365'), ('30.02', '30'))
        >>> short_of(0.6, 0.7, digits=2), short_of(0.6999, 0.7, digits=2)
        (('0.60', '0.70'), ('0.6999', '0.70'))
    """
    scale, unit = (100.0, "%") if percent else (1.0, "")
    v, lim = value * scale, limit * scale
    below = v < lim
    fixed = f"{lim:.{digits}f}"
    limit_text = fixed if abs(float(fixed) - lim) < 1e-9 else _plain(lim)
    for d in range(digits, digits + 18):
        text = f"{v:.{d}f}"
        if (float(text) < lim) if below else (float(text) > lim):
            return f"{text}{unit}", f"{limit_text}{unit}"
    return f"{v!r}{unit}", f"{limit_text}{unit}"  # pragma: no cover - floats run out first


def kept_note(keep: int, over: Sequence[int]) -> str | None:
    """The note on accounts with more good rows than the ``keep`` read (``over``: their counts)."""
    if not over:
        return None
    many = len(over) > 1
    return (
        f"each account's diagnosis and draft plan read its latest {keep} snapshots;"
        f" {len(over):,} {'accounts have' if many else 'account has'} more"
        f" (up to {max(over):,}; --keep-snapshots N reads more)"
    )


def article(noun: str) -> str:
    """``noun`` with its indefinite article: ``an ActionItem``, ``a dict``.

    Examples:
        >>> from stars._shown import article
        >>> article("ActionItem"), article("dict"), article("user")
        ('an ActionItem', 'a dict', 'a user')
    """
    low = noun.lower()
    vowel = low[:1] in ("a", "e", "i", "o") or (
        low[:1] == "u" and not low.startswith(("uni", "use", "usu", "uti", "uu"))
    )
    return f"{'an' if vowel else 'a'} {noun}"


def near(name: str, known: Sequence[object]) -> object:
    """The known name closest to ``name`` ignoring case and spacing, if it is close."""
    import difflib  # only on the error path

    keys = {fold(str(k)): k for k in known}
    match = difflib.get_close_matches(fold(name), list(keys), n=1, cutoff=0.75)
    return keys[match[0]] if match else None


def fold(text: str) -> str:
    """``text`` lower-cased with ``_``/``-`` as spaces and runs of spaces as one."""
    return " ".join(text.replace("_", " ").replace("-", " ").split()).casefold()


class Shown:
    """A value whose repr is the given text (for error messages)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text
