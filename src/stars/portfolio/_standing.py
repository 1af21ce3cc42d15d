"""Where the accounts stand: stage distributions, health bands, the at-risk list, time in stage."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Final

import attrs

from stars import _validate as v
from stars._periods import stage_at
from stars.account import Account
from stars.bands import Band
from stars.errors import InvalidValue
from stars.lifecycle import Lifecycle
from stars.portfolio._common import DAY, stage_names
from stars.stages import StageKind


def _int_map(value: Mapping[str, int]) -> dict[str, int]:
    return dict(value)


def _float_map(value: Mapping[str, float]) -> dict[str, float]:
    return dict(value)


@attrs.frozen(slots=True)
class StageDistribution:
    """How many accounts sit in each stage, and what share of the total that is.

    Attributes:
        counts: Accounts per stage, in the lifecycle's stage order (every stage present).
        shares: The same as fractions of ``total`` (all zero when the portfolio is empty).
        total: The number of accounts counted.

    Examples:
        >>> from stars.portfolio import StageDistribution
        >>> d = StageDistribution({"seed": 1, "tact": 3}, {"seed": 0.25, "tact": 0.75}, 4)
        >>> d.shares["tact"]
        0.75
    """

    counts: Mapping[str, int] = attrs.field(converter=_int_map)
    shares: Mapping[str, float] = attrs.field(converter=_float_map)
    total: int

    @classmethod
    def _of(cls, stages: Sequence[str], stage_of: Iterable[str]) -> StageDistribution:
        counts = dict.fromkeys(stages, 0)
        for stage in stage_of:
            counts[stage] += 1
        total = sum(counts.values())
        shares = {s: (n / total if total else 0.0) for s, n in counts.items()}
        return cls(counts, shares, total)

    def _repr_html_(self) -> str:
        from stars._html import table

        rows = [(s, n, f"{self.shares[s]:.1%}") for s, n in self.counts.items()]
        return table(("stage", "accounts", "share"), rows, caption=f"{self.total} accounts")


@attrs.frozen(slots=True)
class RiskEntry:
    """One account on the at-risk list.

    Attributes:
        account_id: The account.
        stage: Its current stage.
        band: Its latest health band, if known.
        health: Its latest health score, if known.
        severity: Higher is worse: the crisis stage's weight (RESET 1, TACT 2 in the STARS
            lifecycle: crisis stages count up in definition order) plus the band's
            (yellow 1, red 2).
        reasons: Why it is on the list.

    Examples:
        >>> from stars.portfolio import RiskEntry
        >>> RiskEntry("acme", "tact", None, None, 2, ("in tact",)).severity
        2
    """

    account_id: str
    stage: str
    band: Band | None
    health: float | None
    severity: int
    reasons: tuple[str, ...]


_RISK_BANDS: Final = {Band.RED: 2, Band.YELLOW: 1}


def distribution_at(
    accounts: Collection[Account], lifecycle: Lifecycle, at: datetime
) -> StageDistribution:
    """Accounts per stage at a past time (see `Portfolio.distribution_at`)."""
    v.aware("at", at)
    stages: list[str] = []
    for account in accounts:
        stage = stage_at(account, at)
        if stage is not None:
            stages.append(stage)
    return StageDistribution._of(stage_names(lifecycle), stages)


def by_band(accounts: Collection[Account], lifecycle: Lifecycle) -> dict[str, tuple[str, ...]]:
    """Account ids by latest health band (see `Portfolio.by_band`)."""
    policy = lifecycle.policy
    out: dict[str, list[str]] = {"red": [], "yellow": [], "green": [], "unknown": []}
    for account in accounts:
        band = policy.band_of(account.latest)
        out[band.value if band is not None else "unknown"].append(account.id)
    return {k: tuple(ids) for k, ids in out.items()}


def at_risk(accounts: Collection[Account], lifecycle: Lifecycle) -> tuple[RiskEntry, ...]:
    """Customers in a crisis stage or with a red or yellow band (see `Portfolio.at_risk`)."""
    lc = lifecycle
    policy = lc.policy
    crisis = [s.name for s in lc.stages if s.kind is StageKind.CRISIS]
    weight = {name: i + 1 for i, name in enumerate(crisis)}
    entries: list[RiskEntry] = []
    for account in accounts:
        kind = lc.kind_of(account.stage)
        if kind in (StageKind.BEFORE, StageKind.LOST):
            continue
        latest = account.latest
        band = policy.band_of(latest)
        stage_w = weight.get(account.stage, 0)
        band_w = _RISK_BANDS.get(band, 0) if band is not None else 0
        if not (stage_w or band_w):
            continue
        reasons = []
        if stage_w:
            reasons.append(f"in the crisis stage {account.stage}")
        if band_w:
            assert band is not None
            reasons.append(f"latest health band is {band.value}")
        health = latest.health if latest is not None else None
        entries.append(
            RiskEntry(account.id, account.stage, band, health, stage_w + band_w, tuple(reasons))
        )
    entries.sort(
        key=lambda e: (
            -e.severity,
            e.health if e.health is not None else math.inf,
            e.account_id,
        )
    )
    return tuple(entries)


def time_in_stage(accounts: Collection[Account], as_of: datetime) -> dict[str, float | None]:
    """Days each account has spent in its current stage (see `Portfolio.time_in_stage`)."""
    v.aware("as_of", as_of)
    out: dict[str, float | None] = {}
    for account in accounts:
        since = account.stage_since
        if since is None:
            out[account.id] = None
            continue
        if since > as_of:
            raise InvalidValue(
                "as_of",
                as_of,
                "a time at or after every account's latest transition",
                hint=f"{account.id!r} entered {account.stage!r} at {since.isoformat()}",
            )
        out[account.id] = (as_of - since).total_seconds() / DAY
    return out
