"""Small helpers that several portfolio concepts share: argument checks and time spans."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final

from stars import _validate as v
from stars.account import Account
from stars.lifecycle import Lifecycle

#: Seconds in a day, and days in an average year.
DAY: Final = 86400.0
YEAR_DAYS: Final = 365.25


def optional_time(field: str, value: object) -> datetime | None:
    """``None``, or the value checked as a timezone-aware datetime."""
    return None if value is None else v.aware(field, value)


def whole(field: str, value: object, lo: int) -> int:
    """The value checked as a whole number at or above ``lo``."""
    return int(v.number(field, value, lo, None, integer=True))


def stage_names(lifecycle: Lifecycle) -> tuple[str, ...]:
    """The lifecycle's stage names, in definition order."""
    return tuple(s.name for s in lifecycle.stages)


def latest_time(accounts: Iterable[Account]) -> datetime | None:
    """The latest transition or snapshot time of any account (the default ``as_of``)."""
    latest: datetime | None = None
    for account in accounts:
        for t in (
            account.history[-1].at if account.history else None,
            account.latest.at if account.latest else None,
        ):
            if t is not None and (latest is None or t > latest):
                latest = t
    return latest
