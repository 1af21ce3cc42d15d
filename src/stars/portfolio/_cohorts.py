"""Signing cohorts: the accounts that signed in one quarter, followed month by month."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime

import attrs

from stars._periods import add_months, period_of
from stars.account import Account
from stars.lifecycle import Lifecycle
from stars.portfolio._common import latest_time, optional_time, stage_names, whole
from stars.portfolio._standing import StageDistribution
from stars.stages import StageKind


def _int_tuple(value: Iterable[int]) -> tuple[int, ...]:
    return tuple(value)


def _map_tuple(value: Iterable[Mapping[str, float]]) -> tuple[Mapping[str, float], ...]:
    return tuple(dict(m) for m in value)


@attrs.frozen(slots=True)
class Cohort:
    """The accounts that signed in one quarter, followed month by month since signing.

    Attributes:
        label: The signing quarter, e.g. ``"2024-Q3"``.
        accounts: How many accounts signed then.
        observed: For each month since signing (0, 1, ...), how many of them could be observed.
        shares: For each month since signing, the stage shares among those observed.

    Examples:
        >>> from stars.portfolio import Cohort
        >>> c = Cohort("2025-Q1", 2, (2,), ({"seed": 1.0},))
        >>> c.shares[0]["seed"]
        1.0
    """

    label: str
    accounts: int
    observed: tuple[int, ...] = attrs.field(converter=_int_tuple)
    shares: tuple[Mapping[str, float], ...] = attrs.field(converter=_map_tuple)


def cohorts(
    accounts: Collection[Account], lifecycle: Lifecycle, months: int, as_of: datetime | None
) -> tuple[Cohort, ...]:
    """Accounts grouped by signing quarter (see `Portfolio.cohorts`)."""
    horizon = whole("months", months, 0)
    end = optional_time("as_of", as_of) or latest_time(accounts)
    kind_of = lifecycle.kind_of
    stages = stage_names(lifecycle)
    by_quarter: dict[int, list[list[str]]] = {}
    for account in accounts:
        signed = _signed_at(account, kind_of)
        if signed is None or end is None or signed > end:
            continue
        path = _stages_at_offsets(account, signed, horizon, end)
        by_quarter.setdefault(period_of(signed, 3), []).append(path)
    out = []
    for q in sorted(by_quarter):
        paths = by_quarter[q]
        observed = []
        shares = []
        for k in range(horizon + 1):
            dist = StageDistribution._of(stages, (p[k] for p in paths if len(p) > k))
            if dist.total == 0:
                break
            observed.append(dist.total)
            shares.append(dist.shares)
        year, quarter = divmod(q, 4)
        out.append(Cohort(f"{year}-Q{quarter + 1}", len(paths), observed, shares))
    return tuple(out)


def _signed_at(account: Account, kind_of: Callable[[str], StageKind]) -> datetime | None:
    if account.since is not None:
        return account.since
    for record in account.history:
        if kind_of(record.source) is StageKind.BEFORE and kind_of(record.dest) is not (
            StageKind.BEFORE
        ):
            return record.at
    return None


def _stages_at_offsets(
    account: Account, signed: datetime, horizon: int, end: datetime
) -> list[str]:
    hist = account.history
    out: list[str] = []
    stage = hist[0].source if hist else account.stage
    i, n = 0, len(hist)
    for k in range(horizon + 1):
        t = add_months(signed, k)
        if t > end:
            break
        while i < n and hist[i].at <= t:
            stage = hist[i].dest
            i += 1
        out.append(stage)
    return out
