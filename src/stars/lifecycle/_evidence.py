"""Evidence about an account (`evidence`) and the default STARS diagnosis (`diagnose_stars`).

The helpers here are shared with the guards; the `Evidence` and `Diagnosis` classes live in
`stars.lifecycle._diagnosis`, which loads with the first diagnosis rather than at ``import stars``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from stars import _validate as v
from stars._accounts import _need_account
from stars._trend import slope_of
from stars.account import (
    Account,
    Snapshot,
)
from stars.bands import Band
from stars.lifecycle._policy import Policy
from stars.stages import Stage, StageKind

if TYPE_CHECKING:
    from stars.lifecycle._diagnosis import Diagnosis, Evidence


_DAY = 86400.0


def _green_streak(snapshots: Sequence[Snapshot], policy: Policy, cap: int | None = None) -> int:
    """Consecutive green snapshots at the end (counting stops at ``cap``, if given)."""
    streak = 0
    for snap in reversed(snapshots):
        if streak == cap or policy.band_of(snap) is not Band.GREEN:
            break
        streak += 1
    return streak


def _slope(snapshots: Sequence[Snapshot], window: int) -> float | None:
    # The latest ``window`` health readings, read from the end: the cost does not grow
    # with the length of the history. Usually the latest snapshots all have one.
    tail = snapshots[-window:]  # the policy's window is at least 1
    healths = [snap.health for snap in tail]
    if None not in healths:
        return slope_of([snap.at for snap in tail], cast("list[float]", healths))
    times: list[datetime] = []
    values: list[float] = []
    for snap in reversed(snapshots):
        health = snap.health
        if health is not None:
            times.append(snap.at)
            values.append(health)
            if len(times) == window:
                break
    times.reverse()
    values.reverse()
    return slope_of(times, values)


def _customer_since(account: Account, kind_of: Callable[[str], StageKind]) -> datetime | None:
    # The latest move from a pre-customer stage into the relationship (a won-back
    # customer's tenure starts again), else the imported start date. The answer for the
    # records scanned so far is kept on the account, so each record is read once.
    history = account.history
    if not history:
        return account.since
    memo = account._memo
    start, found = 0, None
    if memo is not None and memo[0] == kind_of and memo[1] <= len(history):
        start, found = memo[1], memo[2]
    end = len(history)
    for i in range(end - 1, start - 1, -1):
        record = history[i]
        if kind_of(record.source) is StageKind.BEFORE and kind_of(record.dest) is not (
            StageKind.BEFORE
        ):
            found = record.at
            break
    object.__setattr__(account, "_memo", (kind_of, end, found))
    return found if found is not None else account.since


def _upto(snapshots: Sequence[Snapshot], at: datetime | None) -> Sequence[Snapshot]:
    if at is None or not snapshots or not v.before(at, snapshots[-1].at):
        return snapshots
    end = len(snapshots)
    while end and v.before(at, snapshots[end - 1].at):
        end -= 1
    return snapshots[:end]


def evidence(
    account: Account,
    at: datetime | None = None,
    policy: Policy | None = None,
    kind_of: Callable[[str], StageKind] | None = None,
) -> Evidence:
    """Collect the evidence about an account as of ``at`` (default: its latest snapshot).

    Args:
        account: The account.
        at: Ignore snapshots after this time; tenure is measured up to it.
        policy: Thresholds (default `Policy`).
        kind_of: Stage kinds (default: the STARS stages').

    Returns:
        The evidence, as one flat row.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import Account, Snapshot, evidence
        >>> t = datetime(2025, 6, 1, tzinfo=timezone.utc)
        >>> a = Account("a", since=datetime(2024, 6, 1, tzinfo=timezone.utc),
        ...             snapshots=[Snapshot(at=t, health=80)])
        >>> e = evidence(a)
        >>> e.band, e.green_streak, round(e.tenure_days)
        (<Band.GREEN: 'green'>, 1, 365)
    """
    _need_account(account)
    _need_time("at", at)
    snaps = _upto(account.snapshots, at)
    return evidence_of(
        account, at, policy or Policy(), kind_of or _stars_kind, snaps, account._known(len(snaps))
    )


def evidence_of(
    account: Account,
    at: datetime | None,
    policy: Policy,
    kinds: Callable[[str], StageKind],
    snaps: Sequence[Snapshot],
    latest: Snapshot | None,
) -> Evidence:
    """`evidence` from checked arguments, the snapshots up to ``at`` and the one known then.

    For callers that also need ``latest`` (the snapshot as known at ``at``, see
    `Account.known`), so that it is computed once.
    """
    when = at or (latest.at if latest else None)
    start = _customer_since(account, kinds)
    tenure = (when - start).total_seconds() / _DAY if (when and start) else None
    kind = kinds(account.stage)
    return _evidence_class()(
        health=latest.health if latest else None,
        band=policy.band_of(latest),
        slope=_slope(snaps, policy.trend_window),
        green_streak=_green_streak(snaps, policy),
        tenure_days=tenure,
        customer=bool(
            (latest is not None and latest.contract_signed)
            or kind not in (StageKind.BEFORE, StageKind.LOST)
        ),
        success_metrics_agreed=bool(latest and latest.success_metrics_agreed),
        expansion_open=bool(latest and latest.expansion_open),
        critical_risk=bool(latest and latest.critical_risk),
        churned=kind is StageKind.LOST,
    )


def diagnose_stars(ev: Evidence, policy: Policy) -> tuple[str | None, tuple[str, ...]]:
    """The default STARS diagnosis rule: which stage the evidence points to, and why.

    The rule, in order: a churned account stays in CHURN; an account that is not a
    customer yet is a PROSPECT; red health or a critical risk points to TACT; yellow
    health or a falling trend points to RESET once onboarding is done (success metrics
    agreed), and to SEED before that; without a health reading there is no
    answer; green health without agreed success metrics points to SEED; green for the
    policy's streak with enough tenure and no open expansion points to ASCEND;
    otherwise ACCELERATE. `stars.frames.assign_stages` applies the same rule to
    a DataFrame: both are built from one table of rules.

    Args:
        ev: The evidence.
        policy: Thresholds.

    Returns:
        The stage (``None`` when the evidence is insufficient) and the reasons.

    Examples:
        >>> from stars import Band, Evidence, Policy, diagnose_stars
        >>> diagnose_stars(Evidence(band=Band.RED, customer=True), Policy())
        ('tact', ('health is red',))
    """
    return _rules()(ev, policy)


# What loads with the first diagnosis, kept once loaded: an import statement in a
# function costs about a microsecond on every call, a tenth of an evidence's cost.
_LOADED: dict[str, Any] = {}


def _evidence_class() -> type[Evidence]:
    """`Evidence` (its module loads with the first diagnosis, not at ``import stars``)."""
    found: type[Evidence] | None = _LOADED.get("Evidence")
    if found is None:
        from stars.lifecycle._diagnosis import Evidence

        found = _LOADED["Evidence"] = Evidence
    return found


def _diagnosis_class() -> type[Diagnosis]:
    """`Diagnosis` (its module loads with the first diagnosis)."""
    found: type[Diagnosis] | None = _LOADED.get("Diagnosis")
    if found is None:
        from stars.lifecycle._diagnosis import Diagnosis

        found = _LOADED["Diagnosis"] = Diagnosis
    return found


def _rules() -> Callable[[Evidence, Policy], tuple[str | None, tuple[str, ...]]]:
    """The rule table's diagnosis (the table loads on first use)."""
    found: Callable[[Evidence, Policy], tuple[str | None, tuple[str, ...]]] | None
    found = _LOADED.get("rules")
    if found is None:
        from stars._stage_rules import diagnose

        found = _LOADED["rules"] = diagnose
    return found


def _stars_kind(stage: str) -> StageKind:
    try:
        return Stage(stage).kind
    except ValueError:
        return StageKind.BEFORE


def _need_time(field: str, value: object) -> datetime | None:
    return None if value is None else v.aware(field, value)
