"""Calendar periods in UTC, and the stage an account stood in at a past time.

Shared by `stars.portfolio` (transition matrices, cohorts, distributions in the past)
and `stars.plots` (stage history and flow pictures), so both count periods alike.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, Literal

from stars.errors import InvalidValue

if TYPE_CHECKING:
    from stars.account import Account

__all__ = ["Freq", "add_months", "check_freq", "period_end", "period_of", "stage_at"]

_UTC: Final = UTC
Freq = Literal["monthly", "quarterly"]


def check_freq(freq: object) -> int:
    """Months per period for a frequency name."""
    if freq == "monthly":
        return 1
    if freq == "quarterly":
        return 3
    raise InvalidValue("freq", freq, "'monthly' or 'quarterly'")


def period_of(at: datetime, months: int) -> int:
    """The index of the period (in UTC) that contains ``at``."""
    if at.tzinfo is not _UTC:
        at = at.astimezone(_UTC)
    return (at.year * 12 + at.month - 1) // months


def period_end(index: int, months: int) -> datetime:
    """The last instant of a period, in UTC."""
    last = index * months + months - 1
    year, month0 = divmod(last, 12)
    day = calendar.monthrange(year, month0 + 1)[1]
    return datetime(year, month0 + 1, day, 23, 59, 59, 999999, tzinfo=_UTC)


def add_months(at: datetime, months: int) -> datetime:
    """``at`` moved by whole calendar months (the day is clamped to the month's length)."""
    total = at.year * 12 + at.month - 1 + months
    year, month0 = divmod(total, 12)
    day = min(at.day, calendar.monthrange(year, month0 + 1)[1])
    return at.replace(year=year, month=month0 + 1, day=day)


def stage_at(account: Account, at: datetime) -> str | None:
    """The account's stage at ``at``, or ``None`` before its first transition (or ``since``)."""
    hist = account.history
    started = hist[0].at if hist else None
    if account.since is not None and (started is None or account.since < started):
        started = account.since
    if started is None or started > at:
        return None
    stage = hist[0].source if hist else account.stage
    for record in hist:
        if record.at > at:
            break
        stage = record.dest
    return stage
