"""What detection produces and reads: `DetectionPolicy`, `RiskEvidence` and `RiskFinding`."""

from __future__ import annotations

import numbers
from datetime import datetime
from typing import Any, Final

import attrs

from stars import _validate as v
from stars.bands import BandCutoffs
from stars.errors import InvalidValue
from stars.recovery._catalog import RISK_SOURCES, RiskSource, _risk_source
from stars.recovery._common import _aware, _member, _number, _text
from stars.recovery._enums import (
    RelationshipPhase,
    Severity,
    SignalKind,
    _c_kind,
    _c_phase,
    _c_severity,
)


@attrs.frozen(slots=True)
class DetectionPolicy:
    """The thresholds `detect` applies.

    A signal past its warning threshold gives a MEDIUM finding, past its alarm threshold
    a HIGH one. "Below" thresholds trip when the value is strictly lower, "above" ones when
    it is strictly higher. Findings are raised one step (up to CRITICAL) when the account
    is red or a critical risk is flagged.

    Some signals are also judged by how they move against the account's own recent
    baseline: the mean of their readings in the ``baseline_days`` before the latest one.
    Adoption (usage) and meetings falling, or open tickets and response hours rising, by
    more than ``change_ratio`` of the baseline give a MEDIUM finding even while the level
    is still fine (open tickets also by more than ``tickets_rise``); so does sentiment
    falling by more than ``sentiment_drop`` (an absolute amount, since sentiment sits
    around zero), and NPS falling by more than ``nps_drop`` points. A baseline of zero has
    no relative change. CSAT, training completion and days since contact are judged by
    level only.

    Attributes:
        bands: Cut-offs from health to band.
        adoption_low: Adoption (0-1) below this warns.
        adoption_alarm: Adoption below this alarms.
        training_low: Training completion (0-1, ``metrics["training_completion"]``) below
            this warns.
        training_alarm: Training completion below this alarms.
        contact_days: Days since the last conversation above this warn.
        contact_days_alarm: Days above this alarm.
        meetings_low: Fewer meetings than this in 30 days (``metrics["meetings_last_30d"]``) warn.
        tickets: More open tickets than this warn.
        tickets_alarm: More open tickets than this alarm.
        response_hours: Support response time (``metrics["response_hours"]``) above this warns.
        response_hours_alarm: Response time above this alarms.
        csat_low: CSAT below this warns.
        csat_alarm: CSAT below this alarms.
        nps_low: NPS below this warns.
        nps_alarm: NPS below this alarms.
        nps_drop: A fall in NPS below its baseline larger than this warns.
        nps_drop_alarm: A fall larger than this alarms.
        sentiment_low: Sentiment (-1 to 1) below this warns.
        sentiment_alarm: Sentiment below this alarms.
        trend_days: How far back (in days before the latest reading) the health trend looks.
        trend_flat_within: A slope within ± this (points per 30 days) is flat.
        early_days: Accounts younger than this (in days) are in the early phase.
        renewal_days: Accounts this close to renewal (``metrics["days_to_renewal"]``) are late.
        baseline_days: The baseline is the mean of a signal's readings taken at most this
            many days before the latest one (default 90, a quarter); the latest reading is
            not part of it. Above 0.
        change_ratio: A move against the baseline in the bad direction larger than this
            share of the baseline warns (default 0.3: usage down, or tickets up, by more
            than 30%). At least 0 and below 1, so that a fall can always reach it.
        sentiment_drop: A fall in sentiment below its baseline larger than this warns
            (default 0.3, on the -1 to 1 scale).
        tickets_rise: Open tickets rising past ``change_ratio`` warn only when they also
            rise by more than this many over the baseline (default 1), so one more ticket
            on a quiet account is not news.

    Examples:
        >>> from stars.recovery import DetectionPolicy
        >>> DetectionPolicy(adoption_low=0.5).adoption_low
        0.5
        >>> DetectionPolicy(adoption_low=0.1)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: adoption_alarm: got 0.2, expected a number at or below ...
        >>> DetectionPolicy().change_ratio, DetectionPolicy().baseline_days
        (0.3, 90.0)
        >>> DetectionPolicy(change_ratio=1.5)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: change_ratio: got 1.5, expected a number ... below 1
    """

    bands: BandCutoffs = attrs.field(factory=BandCutoffs)
    adoption_low: float = attrs.field(default=0.4, validator=_number(0, 1))
    adoption_alarm: float = attrs.field(default=0.2, validator=_number(0, 1))
    training_low: float = attrs.field(default=0.5, validator=_number(0, 1))
    training_alarm: float = attrs.field(default=0.25, validator=_number(0, 1))
    contact_days: float = attrs.field(default=30.0, validator=_number(0))
    contact_days_alarm: float = attrs.field(default=60.0, validator=_number(0))
    meetings_low: float = attrs.field(default=1.0, validator=_number(0))
    tickets: int = attrs.field(default=5, validator=_number(0, integer=True))
    tickets_alarm: int = attrs.field(default=10, validator=_number(0, integer=True))
    response_hours: float = attrs.field(default=24.0, validator=_number(0))
    response_hours_alarm: float = attrs.field(default=72.0, validator=_number(0))
    csat_low: float = attrs.field(default=70.0, validator=_number(0, 100))
    csat_alarm: float = attrs.field(default=50.0, validator=_number(0, 100))
    nps_low: float = attrs.field(default=0.0, validator=_number(-100, 100))
    nps_alarm: float = attrs.field(default=-30.0, validator=_number(-100, 100))
    nps_drop: float = attrs.field(default=20.0, validator=_number(0, 200))
    nps_drop_alarm: float = attrs.field(default=40.0, validator=_number(0, 200))
    sentiment_low: float = attrs.field(default=-0.2, validator=_number(-1, 1))
    sentiment_alarm: float = attrs.field(default=-0.6, validator=_number(-1, 1))
    trend_days: float = attrs.field(default=90.0)
    trend_flat_within: float = attrs.field(default=2.0, validator=_number(0))
    early_days: float = attrs.field(default=120.0, validator=_number(0))
    renewal_days: float = attrs.field(default=90.0, validator=_number(0))
    baseline_days: float = attrs.field(default=90.0)
    change_ratio: float = attrs.field(default=0.3)
    sentiment_drop: float = attrs.field(default=0.3, validator=_number(0, 2))
    tickets_rise: int = attrs.field(default=1, validator=_number(0, integer=True))

    @trend_days.validator
    @baseline_days.validator
    def _check_window(self, attribute: Any, value: Any) -> None:
        v.number(attribute.name, value, 0)
        if value == 0:
            raise InvalidValue(attribute.name, value, "a number above 0")

    @change_ratio.validator
    def _check_ratio(self, attribute: Any, value: Any) -> None:
        try:
            ratio = v.number("change_ratio", value, 0, 1)
        except InvalidValue:
            ratio = 1.0
        if ratio >= 1:
            raise InvalidValue("change_ratio", value, "a number at or above 0 and below 1")

    def __attrs_post_init__(self) -> None:
        below = (
            ("adoption", "adoption_low", "adoption_alarm"),
            ("training", "training_low", "training_alarm"),
            ("csat", "csat_low", "csat_alarm"),
            ("nps", "nps_low", "nps_alarm"),
            ("sentiment", "sentiment_low", "sentiment_alarm"),
        )
        for _, warn, alarm in below:
            if getattr(self, alarm) > getattr(self, warn):
                raise InvalidValue(
                    alarm,
                    getattr(self, alarm),
                    f"a number at or below {warn} ({getattr(self, warn)})",
                )
        above = (
            ("contact_days", "contact_days_alarm"),
            ("tickets", "tickets_alarm"),
            ("response_hours", "response_hours_alarm"),
            ("nps_drop", "nps_drop_alarm"),
        )
        for warn, alarm in above:
            if getattr(self, alarm) < getattr(self, warn):
                raise InvalidValue(
                    alarm,
                    getattr(self, alarm),
                    f"a number at or above {warn} ({getattr(self, warn)})",
                )


def _opt_float(value: Any) -> Any:
    if value is None or isinstance(value, bool) or not isinstance(value, numbers.Real):
        return value
    return float(value)


@attrs.frozen(slots=True)
class RiskEvidence:
    """One signal compared with its threshold, and with its baseline when it moved.

    A finding that comes from a level carries no baseline. A finding that comes from a
    move against the account's own recent readings carries the ``baseline`` and the
    ``change``; its ``threshold`` is then the value the move had to pass.

    Attributes:
        signal: The signal's name (a snapshot field, a ``metrics`` key, ``nps_change`` or
            ``health_slope``).
        value: The value read.
        threshold: The threshold it crossed.
        direction: ``"below"`` (the value is under the threshold) or ``"above"``.
        baseline: The mean of the signal's recent readings before this one (``None`` for
            a level finding).
        change: The latest reading minus the baseline, in the signal's own units (for
            ``nps_change``, whose value already is the change, the same number).

    Examples:
        >>> from stars.recovery import RiskEvidence
        >>> print(RiskEvidence("adoption", 0.3, 0.4, "below"))
        adoption 0.3 below 0.4
        >>> moved = RiskEvidence("open_tickets", 4, 3, "above", baseline=2, change=2)
        >>> print(moved)
        open_tickets 4 above 3, baseline 2, change +2 (+100%)
        >>> moved.relative_change
        1.0
    """

    signal: str = attrs.field(validator=_text)
    value: float = attrs.field(converter=float, validator=_number())
    threshold: float = attrs.field(converter=float, validator=_number())
    direction: str = attrs.field()
    baseline: float | None = attrs.field(
        default=None, converter=_opt_float, validator=v.optional_number()
    )
    change: float | None = attrs.field(
        default=None, converter=_opt_float, validator=v.optional_number()
    )

    @direction.validator
    def _check_direction(self, attribute: Any, value: Any) -> None:
        if value not in ("below", "above"):
            raise InvalidValue("direction", value, "'below' or 'above'")

    def __attrs_post_init__(self) -> None:
        if (self.baseline is None) != (self.change is None):
            raise InvalidValue(
                "change", self.change, "a number exactly when baseline is given, else None"
            )

    @property
    def relative_change(self) -> float | None:
        """The change as a share of the baseline.

        ``None`` without a baseline, and when the baseline is not positive or the latest
        reading is negative: a share means little on a scale that crosses zero.

        Examples:
            >>> from stars.recovery import RiskEvidence
            >>> fell = RiskEvidence("adoption", 0.3, 0.4, "below", baseline=0.8, change=-0.5)
            >>> fell.relative_change
            -0.625
            >>> print(RiskEvidence("sentiment", -0.2, 0, "below", baseline=0.2, change=-0.4))
            sentiment -0.2 below 0, baseline 0.2, change -0.4
        """
        if self.baseline is None or self.change is None:
            return None
        if self.baseline <= 0 or self.baseline + self.change < 0:
            return None
        return self.change / self.baseline

    def __str__(self) -> str:
        text = f"{self.signal} {self.value:g} {self.direction} {self.threshold:g}"
        if self.baseline is None:
            return text
        text += f", baseline {self.baseline:g}, change {self.change:+g}"
        rel = self.relative_change
        return text if rel is None else f"{text} ({rel:+.0%})"


@attrs.frozen(slots=True)
class RiskFinding:
    """A risk that detection found: its source, the evidence, how severe, what kind of input.

    Attributes:
        source: The `RISK_SOURCES` id it points to, or ``None`` for a falling health
            trend, which says something is wrong but not yet what.
        phase: The account's relationship phase when it was found. The phase of the risk
            itself, which picks the plan template, is `risk_phase`.
        kind: Which kind of early-warning input revealed it.
        severity: How serious it is.
        evidence: The signal and threshold behind it.
        at: The time of the snapshot it was read from.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.recovery import RiskEvidence, RiskFinding
        >>> f = RiskFinding("support_strain", "mid", "data", "high",
        ...                 RiskEvidence("open_tickets", 12, 10, "above"),
        ...                 datetime(2025, 1, 1, tzinfo=timezone.utc))
        >>> f.severity.value, f.risk_source.title
        ('high', 'Support volume, slow answers or unfinished fixes')
        >>> RiskFinding("nope", "mid", "data", "high", f.evidence, f.at)
        Traceback (most recent call last):
        ...
        stars.errors.UnknownName: unknown risk source 'nope'; known: 'competitive_threat', ...
    """

    source: str | None = attrs.field()
    phase: RelationshipPhase = attrs.field(converter=_c_phase, validator=_member(RelationshipPhase))
    kind: SignalKind = attrs.field(converter=_c_kind, validator=_member(SignalKind))
    severity: Severity = attrs.field(converter=_c_severity, validator=_member(Severity))
    evidence: RiskEvidence = attrs.field()
    at: datetime = attrs.field(validator=_aware)

    @source.validator
    def _check_source(self, attribute: Any, value: Any) -> None:
        if value is not None:
            _risk_source(value)

    @evidence.validator
    def _check_evidence(self, attribute: Any, value: Any) -> None:
        if not isinstance(value, RiskEvidence):
            raise InvalidValue("evidence", value, "a RiskEvidence")

    @property
    def risk_source(self) -> RiskSource | None:
        """The catalog entry for `source` (``None`` for a trend finding).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RiskEvidence, RiskFinding
            >>> f = RiskFinding(None, "mid", "data", "low",
            ...                 RiskEvidence("health_slope", -5, -2, "below"),
            ...                 datetime(2025, 1, 1, tzinfo=timezone.utc))
            >>> f.risk_source is None
            True
        """
        return None if self.source is None else RISK_SOURCES[self.source]

    @property
    def risk_phase(self) -> RelationshipPhase:
        """The phase of the risk: the later of the account's `phase` and the source's own.

        An older account whose customer asks to rerun a proof of concept is past the
        middle of the relationship whatever its age says: the source belongs to the late
        phase, so the finding does too. `plan_for` picks the template by this phase.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RiskEvidence, RiskFinding
            >>> f = RiskFinding("poc_rerun", "mid", "monitoring", "high",
            ...                 RiskEvidence("poc_rerun_requested", 1, 0, "above"),
            ...                 datetime(2025, 1, 1, tzinfo=timezone.utc))
            >>> f.phase.value, f.risk_phase.value
            ('mid', 'late')
        """
        own = self.risk_source.phase if self.risk_source else self.phase
        return max(self.phase, own)

    @property
    def message(self) -> str:
        """A one-line description of the finding.

        A late-phase risk (see `risk_phase`) also says what it means: the warnings of
        the earlier phases were probably missed, and the account has to be sold again.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RiskEvidence, RiskFinding
            >>> at = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> RiskFinding("support_strain", "mid", "data", "medium",
            ...             RiskEvidence("open_tickets", 6, 5, "above"), at).message
            'medium: Support volume, slow answers or unfinished fixes (open_tickets 6 above 5)'
            >>> late = RiskFinding("value_doubt", "mid", "monitoring", "high",
            ...                    RiskEvidence("roi_concern", 1, 0, "above"), at).message
            >>> head, meaning = late.split("; ")
            >>> head
            'high: Doubts about ROI or value (roi_concern 1 above 0)'
            >>> meaning.startswith("late-phase risk"), meaning.endswith("has to be sold again")
            (True, True)
        """
        title = self.risk_source.title if self.risk_source else "Health trending down"
        text = f"{self.severity.value}: {title} ({self.evidence})"
        if self.risk_phase is RelationshipPhase.LATE:
            text += f"; {_LATE_MEANING}"
        return text


_LATE_MEANING: Final = (
    "late-phase risk: earlier warnings were probably missed, and the account has to be sold again"
)
