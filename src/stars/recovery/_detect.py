"""Detection: the account's relationship phase, and the signals read from its snapshots."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

import attrs

from stars import _validate as v
from stars._accounts import _need_account
from stars.account import Account, Snapshot
from stars.bands import Band
from stars.errors import InvalidValue
from stars.recovery._catalog import _SIGNAL_SOURCES
from stars.recovery._common import _DAY, _enum
from stars.recovery._enums import RelationshipPhase, Severity, SignalKind
from stars.recovery._findings import DetectionPolicy, RiskEvidence, RiskFinding

if TYPE_CHECKING:
    from stars.health import Scorecard


def _tenure_start(account: Account) -> datetime | None:
    if account.since is not None:
        return account.since
    for record in account.history:
        if record.source == "prospect" and record.dest != "prospect":
            return record.at
    return None


def _snaps_upto(account: Account, at: datetime | None) -> Sequence[Snapshot]:
    snaps = account.snapshots
    if at is None:
        return snaps
    return tuple(s for s in snaps if not v.before(at, s.at))


def relationship_phase(
    account: Account, *, at: datetime | None = None, policy: DetectionPolicy | None = None
) -> RelationshipPhase:
    """The account's relationship phase, which decides which risk sources a signal points to.

    LATE when the account is in TACT or CHURN, or its latest snapshot has
    ``metrics["days_to_renewal"]`` within the policy's renewal window; EARLY when it is a
    PROSPECT or in SEED, or has been a customer for fewer than ``early_days``; MID otherwise.

    Args:
        account: The account.
        at: Judge as of this time (default: the latest snapshot).
        policy: Thresholds (default `DetectionPolicy`).

    Returns:
        The phase.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.account import Account, Snapshot
        >>> from stars.recovery import relationship_phase
        >>> t = datetime(2025, 6, 1, tzinfo=timezone.utc)
        >>> relationship_phase(Account("a", stage="seed")).value
        'early'
        >>> relationship_phase(Account("b", stage="ascend", snapshots=[
        ...     Snapshot(at=t, metrics={"days_to_renewal": 30})])).value
        'late'
    """
    account = _need_account(account)
    policy = _check_policy(policy)
    snaps = _snaps_upto(account, at)
    latest = snaps[-1] if snaps else None
    if account.stage in ("tact", "churn"):
        return RelationshipPhase.LATE
    renewal = latest.metrics.get("days_to_renewal") if latest is not None else None
    if renewal is not None and renewal <= policy.renewal_days:
        return RelationshipPhase.LATE
    if account.stage in ("prospect", "seed"):
        return RelationshipPhase.EARLY
    start = _tenure_start(account)
    when = at or (latest.at if latest is not None else None)
    if (
        start is not None
        and when is not None
        and (when - start).total_seconds() / _DAY < policy.early_days
    ):
        return RelationshipPhase.EARLY
    return RelationshipPhase.MID


def _check_policy(policy: object) -> DetectionPolicy:
    if policy is None:
        return DetectionPolicy()
    if not isinstance(policy, DetectionPolicy):
        raise InvalidValue("policy", policy, "a DetectionPolicy")
    return policy


@attrs.frozen(slots=True)
class _Check:
    signal: str
    kind: SignalKind
    read: Callable[[Snapshot], float | None]
    direction: str
    warn: str
    alarm: str
    # How a move against the baseline is judged: "" not at all, "ratio" relative to the
    # baseline (policy.change_ratio), else the policy field of an absolute fall.
    change: str = ""
    # The policy field of the least absolute move that counts, if any.
    change_min: str = ""


def _metric(name: str) -> Callable[[Snapshot], float | None]:
    return lambda s: s.metrics.get(name)


def _flag_metric(name: str) -> _Check:
    return _Check(name, SignalKind.MONITORING, _metric(name), "above", "", "")


_DATA, _FEEDBACK, _MON = SignalKind.DATA, SignalKind.FEEDBACK, SignalKind.MONITORING
_CHECKS: Final = (
    _Check(
        "adoption", _DATA, lambda s: s.adoption, "below", "adoption_low", "adoption_alarm", "ratio"
    ),
    _Check(
        "training_completion",
        _DATA,
        _metric("training_completion"),
        "below",
        "training_low",
        "training_alarm",
    ),
    _Check(
        "days_since_contact",
        _DATA,
        lambda s: s.days_since_contact,
        "above",
        "contact_days",
        "contact_days_alarm",
    ),
    _Check(
        "open_tickets",
        _DATA,
        lambda s: None if s.open_tickets is None else float(s.open_tickets),
        "above",
        "tickets",
        "tickets_alarm",
        "ratio",
        "tickets_rise",
    ),
    _Check(
        "response_hours",
        _DATA,
        _metric("response_hours"),
        "above",
        "response_hours",
        "response_hours_alarm",
        "ratio",
    ),
    _Check("csat", _FEEDBACK, lambda s: s.csat, "below", "csat_low", "csat_alarm"),
    _Check("nps", _FEEDBACK, lambda s: s.nps, "below", "nps_low", "nps_alarm"),
    _Check(
        "meetings_last_30d",
        _FEEDBACK,
        _metric("meetings_last_30d"),
        "below",
        "meetings_low",
        "",
        "ratio",
    ),
    _Check(
        "sentiment",
        _MON,
        lambda s: s.sentiment,
        "below",
        "sentiment_low",
        "sentiment_alarm",
        "sentiment_drop",
    ),
    _flag_metric("handoff_gaps"),
    _flag_metric("owner_changed"),
    _flag_metric("roi_concern"),
    _flag_metric("poc_rerun_requested"),
    _flag_metric("competitor_active"),
)


def _tripped(value: float, threshold: float, direction: str) -> bool:
    return value < threshold if direction == "below" else value > threshold


def _baseline(
    snaps: Sequence[Snapshot], read: Callable[[Snapshot], float | None], days: float
) -> float | None:
    """The mean of ``read`` over the readings in the ``days`` before the latest snapshot."""
    if len(snaps) < 2:
        return None
    start = snaps[-1].at - timedelta(days=days)
    values = [x for s in snaps[:-1] if not v.before(s.at, start) and (x := read(s)) is not None]
    return statistics.fmean(values) if values else None


def _moved(
    check: _Check, value: float, baseline: float, policy: DetectionPolicy
) -> RiskEvidence | None:
    """The evidence of a move against the baseline in the bad direction, if it is large enough."""
    sign = -1.0 if check.direction == "below" else 1.0
    if check.change == "ratio":
        if baseline <= 0:
            return None  # no relative change from zero
        limit = baseline * (1 + sign * policy.change_ratio)
    else:
        limit = baseline + sign * float(getattr(policy, check.change))
    if check.change_min:
        least = baseline + sign * float(getattr(policy, check.change_min))
        limit = max(limit, least) if sign > 0 else min(limit, least)
    if not _tripped(value, limit, check.direction):
        return None
    return RiskEvidence(
        check.signal, value, limit, check.direction, baseline=baseline, change=value - baseline
    )


def _raise(severity: Severity) -> Severity:
    return list(Severity)[min(severity.rank + 1, len(Severity) - 1)]


def _scored(snaps: Sequence[Snapshot], scorecard: Scorecard | None) -> list[Snapshot]:
    if scorecard is None:
        return list(snaps)
    from stars.health import measures_from

    out = []
    for s in snaps:
        if s.health is None:
            values = measures_from(s, scorecard)
            if any(x is not None for x in values.values()):
                s = attrs.evolve(s, health=scorecard.score(values).score)
        out.append(s)
    return out


def detect(
    account: Account,
    *,
    at: datetime | None = None,
    phase: RelationshipPhase | str | None = None,
    policy: DetectionPolicy | None = None,
    scorecard: Scorecard | None = None,
) -> list[RiskFinding]:
    """Read an account's latest snapshots and return the risks they reveal.

    Three kinds of early-warning input are read: **data** (adoption, training completion,
    days since the last conversation, open tickets, support response hours), **feedback**
    (CSAT, NPS and its fall against its baseline, meetings in the last 30 days) and
    **monitoring** (sentiment, a champion who was engaged and no longer is, and flags the
    team sets in ``metrics``: ``handoff_gaps``, ``owner_changed``, ``roi_concern``,
    ``poc_rerun_requested``, ``competitor_active``). A signal that is not measured is not
    judged. Each tripped signal gives one finding, attributed to the risk source that the
    signal points to in the account's phase; the finding's `RiskFinding.risk_phase` is the
    later of that phase and the source's own.

    Levels are not the whole story: open tickets doubling from 2 to 4 is news even below
    the ticket threshold. So usage (adoption), meetings and sentiment falling, and open
    tickets and response hours rising, are also compared with the account's own baseline
    (the mean of its readings in the policy's ``baseline_days`` before the latest one). A
    move in the bad direction larger than the policy allows (``change_ratio`` of the
    baseline, or ``sentiment_drop``) gives a MEDIUM finding whose evidence carries the
    baseline and the change, unless the level already tripped. The fall in NPS is measured
    against the same baseline, in points (``nps_drop``, ``nps_drop_alarm``).

    Detection is proactive: a falling health trend is a finding even while the account is
    still green (LOW then, MEDIUM when it is not green).

    Args:
        account: The account.
        at: Ignore snapshots after this time.
        phase: Override the phase from `relationship_phase`.
        policy: Thresholds (default `DetectionPolicy`).
        scorecard: Scores snapshots that carry measures but no health, for the band and trend.

    Returns:
        The findings, most severe first (a healthy account gives none).

    Raises:
        InvalidValue: If an argument has the wrong type.

    Examples:
        >>> from datetime import datetime, timedelta, timezone
        >>> from stars.account import Account, Snapshot
        >>> from stars.recovery import detect
        >>> t = datetime(2025, 1, 6, tzinfo=timezone.utc)
        >>> snaps = [Snapshot(at=t + timedelta(days=30 * i), health=h, adoption=0.8)
        ...          for i, h in enumerate([92, 85, 78])]
        >>> a = Account("a", stage="ascend", snapshots=snaps)
        >>> [(f.source, f.severity.value, f.evidence.signal) for f in detect(a)]
        [(None, 'low', 'health_slope')]
        >>> later = t + timedelta(days=30)
        >>> b = Account("b", stage="ascend", snapshots=[
        ...     Snapshot(at=t, open_tickets=2), Snapshot(at=later, open_tickets=4)])
        >>> (f,) = detect(b)
        >>> f.source, f.evidence.baseline, f.evidence.change
        ('support_strain', 2.0, 2.0)
    """
    account = _need_account(account)
    policy = _check_policy(policy)
    if at is not None:
        v.aware("at", at)
    if scorecard is not None:
        from stars.health import Scorecard

        if not isinstance(scorecard, Scorecard):
            raise InvalidValue("scorecard", scorecard, "a Scorecard")
    the_phase = (
        relationship_phase(account, at=at, policy=policy)
        if phase is None
        else _enum(RelationshipPhase, "phase")(phase)
    )
    snaps = _scored(_snaps_upto(account, at), scorecard)
    if not snaps:
        return []
    latest = snaps[-1]
    previous = snaps[-2] if len(snaps) > 1 else None
    band = policy.bands.band_for(latest.health) if latest.health is not None else latest.band
    # A critical risk stays open until a snapshot closes it (a standing fact).
    known = account.known(latest.at)
    escalate = band is Band.RED or bool(known is not None and known.critical_risk)
    found: list[tuple[str | None, SignalKind, Severity, RiskEvidence]] = []

    def add(source: str | None, kind: SignalKind, sev: Severity, ev: RiskEvidence) -> None:
        found.append((source, kind, _raise(sev) if escalate else sev, ev))

    for check in _CHECKS:
        value = check.read(latest)
        if value is None:
            continue
        warn = float(getattr(policy, check.warn)) if check.warn else 0.0
        alarm = float(getattr(policy, check.alarm)) if check.alarm else warn
        if not _tripped(value, warn, check.direction):
            base = _baseline(snaps, check.read, policy.baseline_days) if check.change else None
            moved = None if base is None else _moved(check, value, base, policy)
            if moved is not None:
                source = _SIGNAL_SOURCES[check.signal][the_phase]
                add(source, check.kind, Severity.MEDIUM, moved)
            continue
        severity = Severity.MEDIUM
        threshold = warn
        if _tripped(value, alarm, check.direction) or alarm == warn:
            severity = Severity.HIGH if check.alarm or not check.warn else Severity.MEDIUM
            threshold = alarm
        source = _SIGNAL_SOURCES[check.signal][the_phase]
        add(
            source,
            check.kind,
            severity,
            RiskEvidence(check.signal, value, threshold, check.direction),
        )
    nps_base = _baseline(snaps, lambda s: s.nps, policy.baseline_days)
    if nps_base is not None and latest.nps is not None:
        change = latest.nps - nps_base
        if change < -policy.nps_drop:
            alarm_hit = change < -policy.nps_drop_alarm
            limit = -(policy.nps_drop_alarm if alarm_hit else policy.nps_drop)
            sev = Severity.HIGH if alarm_hit else Severity.MEDIUM
            source = _SIGNAL_SOURCES["nps_change"][the_phase]
            evidence = RiskEvidence(
                "nps_change", change, limit, "below", baseline=nps_base, change=change
            )
            add(source, _FEEDBACK, sev, evidence)
    if previous is not None and previous.champion_engaged and not latest.champion_engaged:
        source = _SIGNAL_SOURCES["champion_engaged"][the_phase]
        add(source, _MON, Severity.HIGH, RiskEvidence("champion_engaged", 0, 1, "below"))
    from stars.health import TrendDirection, trend

    drift = trend(
        snaps, window=timedelta(days=policy.trend_days), flat_within=policy.trend_flat_within
    )
    if drift.direction is TrendDirection.FALLING and drift.slope is not None:
        sev = Severity.LOW if band is Band.GREEN else Severity.MEDIUM
        add(
            None,
            _DATA,
            sev,
            RiskEvidence("health_slope", drift.slope, -policy.trend_flat_within, "below"),
        )
    findings = [
        RiskFinding(source, the_phase, kind, sev, ev, latest.at) for source, kind, sev, ev in found
    ]
    findings.sort(key=lambda f: -f.severity.rank)
    return findings
