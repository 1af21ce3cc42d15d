"""The five-step get-to-green process for accounts that turned yellow or red.

Recovery runs in five steps: **detection** (spot the risk early, from data, feedback and
the team's own read), **analysis** (find the root cause, talk to people at several levels
of the customer, write an action plan), **execution** (do the plan), **monitoring** (track
health and loop back to analysis when nothing improves) and **prevention** (record what was
learned and choose a leading indicator of retention to watch), after which the plan closes.
A plan can also end LOST (the account churned) or RELEASED (the team chose to let a
poor-fit account go).

The module gives:

- a catalog of `RiskSource` values grouped by `RelationshipPhase`;
- `detect`, which reads an account's snapshots and returns `RiskFinding` values;
- `RecoveryPlan`, an immutable value, and `RecoveryProcess`, the engine that
  moves plans through the steps on the engine the lifecycle uses, checking guards
  and recording every move;
- plan templates by phase and `plan_for`, which drafts a plan from findings;
- `triage` (save or release), `weekly_update` (the status note),
  `audit_handoff` (what a sales-to-success handoff left out),
  `PlaybookLibrary` (what worked, per root cause) and `link_lifecycle`
  (move the account's STARS stage when a plan opens or closes).

Plans are values: every edit and every step returns a new plan with a higher
``version``; the history of steps only grows.

Examples:
    >>> from datetime import datetime, timedelta, timezone
    >>> from stars.account import Account, Snapshot
    >>> from stars.recovery import RecoveryProcess, detect, plan_for
    >>> t = datetime(2025, 3, 3, tzinfo=timezone.utc)
    >>> acme = Account("acme", stage="ascend", owner="dana",
    ...                snapshots=[Snapshot(at=t, health=52, open_tickets=9)])
    >>> findings = detect(acme)
    >>> [(f.source, f.severity.value) for f in findings]
    [('support_strain', 'medium')]
    >>> plan = plan_for(findings, acme, t)
    >>> plan.step.value, plan.root_causes
    ('analysis', ('support_strain',))
    >>> RecoveryProcess().check(plan, "execute").reasons
    ('stakeholders engaged at 0 level(s) of the customer, 2 needed',)
"""

from __future__ import annotations

import enum
import numbers
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, TypeVar, overload

import attrs
from transitions import Machine

from stars import _engine
from stars import _validate as v
from stars._engine import Edge, EdgeTable
from stars._html import table
from stars._ordered import OrderedStrEnum
from stars.account import Account, Snapshot, _need_account
from stars.bands import Band, BandCutoffs
from stars.depth import BreakdownCause
from stars.errors import (
    InvalidValue,
    OutOfOrder,
    TransitionNotAllowed,
    TransitionRefused,
    UnknownName,
    _a,
)
from stars.lifecycle import Verdict

if TYPE_CHECKING:
    from stars.health import Scorecard
    from stars.lifecycle import Lifecycle

__all__ = [
    "LEADING_INDICATORS",
    "RISK_SOURCES",
    "TEMPLATES",
    "ActionItem",
    "CheckIn",
    "DetectionPolicy",
    "Effort",
    "HandoffAudit",
    "HandoffChecklist",
    "LifecycleLink",
    "PlanTemplate",
    "PlaybookEntry",
    "PlaybookLibrary",
    "RecoveryEvent",
    "RecoveryPlan",
    "RecoveryPolicy",
    "RecoveryProcess",
    "RecoveryStep",
    "RelationshipPhase",
    "RiskEvidence",
    "RiskFinding",
    "RiskSource",
    "Severity",
    "SignalKind",
    "Stakeholder",
    "StakeholderLevel",
    "StepRecord",
    "TemplateKind",
    "Triage",
    "TriageDecision",
    "TriageFactor",
    "TriagePolicy",
    "audit_handoff",
    "detect",
    "link_lifecycle",
    "plan_for",
    "relationship_phase",
    "template_for",
    "triage",
    "weekly_update",
]

_DAY = 86400.0
E = TypeVar("E", bound=enum.Enum)


# --------------------------------------------------------------------------- small helpers
def _enum(kind: type[E], field: str) -> Callable[[Any], E]:
    def convert(value: Any) -> E:
        if isinstance(value, kind):
            return value
        try:
            return kind(value)
        except ValueError:
            known = ", ".join(repr(m.value) for m in kind)
            raise InvalidValue(field, value, f"one of {known}") from None

    return convert


def _coerce(kind: type[E], value: Any) -> Any:
    if isinstance(value, kind) or not isinstance(value, str):
        return value
    try:
        return kind(value)
    except ValueError:
        return value


def _member(kind: type[enum.Enum], optional: bool = False) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if optional and value is None:
            return
        if not isinstance(value, kind):
            known = ", ".join(repr(m.value) for m in kind)
            raise InvalidValue(attribute.name, value, f"one of {known}")

    return check


def _as_tuple(value: Any) -> Any:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return value
    return tuple(value)


def _each_text(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple):
        raise InvalidValue(attribute.name, value, "a sequence of non-empty strings")
    for i, item in enumerate(value):
        v.text(f"{attribute.name}[{i}]", item)


def _each(kind: type[Any]) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if not isinstance(value, tuple):
            raise InvalidValue(attribute.name, value, f"a sequence of {kind.__name__} values")
        for i, item in enumerate(value):
            if not isinstance(item, kind):
                raise InvalidValue(f"{attribute.name}[{i}]", item, _a(kind.__name__))

    return check


_text = v.field(v.text)
_any_text = v.field(v.text, empty=True)
_aware = v.field(v.aware)
_optional_aware = v.field(v.aware, optional=True)


def _texts(field: str) -> Callable[[Any], tuple[str, ...]]:
    def convert(value: Any) -> tuple[str, ...]:
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise InvalidValue(field, value, "a sequence of non-empty strings")
        out = tuple(value)
        for i, item in enumerate(out):
            v.text(f"{field}[{i}]", item)
        return out

    return convert


def _number(lo: float | None = None, hi: float | None = None, integer: bool = False) -> Any:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        v.number(attribute.name, value, lo, hi, integer=integer)

    return check


def _when(value: datetime) -> str:
    return value.date().isoformat()


# --------------------------------------------------------------------------- enums
class RelationshipPhase(OrderedStrEnum):
    """Where in the relationship a risk tends to arise: early, mid or late.

    Examples:
        >>> from stars.recovery import RelationshipPhase
        >>> RelationshipPhase.EARLY < RelationshipPhase.LATE
        True
    """

    EARLY = "early"
    MID = "mid"
    LATE = "late"


class SignalKind(enum.StrEnum):
    """The three kinds of early-warning input.

    DATA is what systems record (usage, last contact, tickets); FEEDBACK is what the
    customer tells you (CSAT, NPS, how often you meet); MONITORING is the account team's
    qualitative read (sentiment, a champion leaving, concerns voiced).

    Examples:
        >>> from stars.recovery import SignalKind
        >>> SignalKind("feedback") is SignalKind.FEEDBACK
        True
    """

    DATA = "data"
    FEEDBACK = "feedback"
    MONITORING = "monitoring"


class Severity(OrderedStrEnum):
    """How serious a finding is; ordered LOW < MEDIUM < HIGH < CRITICAL.

    Examples:
        >>> from stars.recovery import Severity
        >>> max([Severity.MEDIUM, Severity.CRITICAL, Severity.LOW]).value
        'critical'
    """

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class StakeholderLevel(OrderedStrEnum):
    """A level of the customer's organisation, from hands-on analyst to economic buyer.

    Examples:
        >>> from stars.recovery import StakeholderLevel
        >>> StakeholderLevel.ANALYST < StakeholderLevel.ECONOMIC_BUYER
        True
    """

    ANALYST = "analyst"
    MANAGER = "manager"
    DIRECTOR = "director"
    EXECUTIVE = "executive"
    ECONOMIC_BUYER = "economic_buyer"


class RecoveryStep(enum.StrEnum):
    """The steps of a recovery plan, plus its three endings.

    Examples:
        >>> from stars.recovery import RecoveryStep
        >>> [s.value for s in RecoveryStep][:5]
        ['detection', 'analysis', 'execution', 'monitoring', 'prevention']
        >>> RecoveryStep.CLOSED.is_final, RecoveryStep.MONITORING.is_final
        (True, False)
    """

    DETECTION = "detection"
    ANALYSIS = "analysis"
    EXECUTION = "execution"
    MONITORING = "monitoring"
    PREVENTION = "prevention"
    CLOSED = "closed"
    LOST = "lost"
    RELEASED = "released"

    @property
    def is_final(self) -> bool:
        """True for CLOSED, LOST and RELEASED: nothing can follow them.

        Examples:
            >>> from stars.recovery import RecoveryStep
            >>> RecoveryStep.RELEASED.is_final
            True
        """
        return self in _FINAL


_FINAL: Final = frozenset({RecoveryStep.CLOSED, RecoveryStep.LOST, RecoveryStep.RELEASED})
_OPEN_STEPS: Final = tuple(s for s in RecoveryStep if s not in _FINAL)


class TemplateKind(enum.StrEnum):
    """The three kinds of action plan, one per relationship phase.

    Examples:
        >>> from stars.recovery import TemplateKind
        >>> TemplateKind.VALUE_REINFORCEMENT.value
        'value_reinforcement'
    """

    ONBOARDING_EDUCATION = "onboarding_education"
    SUPPORT_ENGAGEMENT = "support_engagement"
    VALUE_REINFORCEMENT = "value_reinforcement"


class TriageDecision(enum.StrEnum):
    """Whether to put recovery effort into an account, or let it go.

    Examples:
        >>> from stars.recovery import TriageDecision
        >>> TriageDecision.RELEASE.value
        'release'
    """

    SAVE = "save"
    RELEASE = "release"


class TriageFactor(enum.StrEnum):
    """What decided a triage: the ICP fit, the expected value, or the effort.

    ``icp_fit``: how well the account matches the ideal customer profile.
    ``expected_value``: what keeping the account should bring, weighed against the cost to
    serve it. ``effort``: a middling fit that is not worth a high effort.

    Examples:
        >>> from stars.recovery import TriageFactor
        >>> [f.value for f in TriageFactor]
        ['icp_fit', 'expected_value', 'effort']
    """

    ICP_FIT = "icp_fit"
    EXPECTED_VALUE = "expected_value"
    EFFORT = "effort"


class Effort(OrderedStrEnum):
    """Expected effort to bring an account back to green.

    Examples:
        >>> from stars.recovery import Effort
        >>> Effort.HIGH > Effort.LOW
        True
    """

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


def _c_phase(value: Any) -> Any:
    return _coerce(RelationshipPhase, value)


def _c_kind(value: Any) -> Any:
    return _coerce(SignalKind, value)


def _c_severity(value: Any) -> Any:
    return _coerce(Severity, value)


def _c_level(value: Any) -> Any:
    return _coerce(StakeholderLevel, value)


def _c_band(value: Any) -> Any:
    return _coerce(Band, value)


def _c_step(value: Any) -> Any:
    return _coerce(RecoveryStep, value)


def _c_template(value: Any) -> Any:
    return _coerce(TemplateKind, value)


def _c_decision(value: Any) -> Any:
    return _coerce(TriageDecision, value)


def _c_effort(value: Any) -> Any:
    return _coerce(Effort, value)


def _c_factor(value: Any) -> Any:
    return _coerce(TriageFactor, value)


# --------------------------------------------------------------------------- risk catalog
@attrs.frozen(slots=True)
class RiskSource:
    """One common source of friction, the phase where it tends to appear, and its signals.

    Attributes:
        id: A stable snake_case name; root causes refer to it.
        phase: Where in the relationship it usually arises.
        title: A short label.
        description: What goes wrong, in a sentence or two.
        signals: The signal names that reveal it (snapshot fields or ``metrics`` keys).
        response: A first action that usually helps.
        breakdown: The broader `BreakdownCause` it belongs to, if any.

    Examples:
        >>> from stars.recovery import RISK_SOURCES
        >>> src = RISK_SOURCES["support_strain"]
        >>> src.phase.value, src.signals
        ('mid', ('open_tickets', 'response_hours'))
    """

    id: str = attrs.field(validator=_text)
    phase: RelationshipPhase = attrs.field(converter=_c_phase, validator=_member(RelationshipPhase))
    title: str = attrs.field(validator=_text)
    description: str = attrs.field(validator=_text)
    signals: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_each_text)
    response: str = attrs.field(validator=_text)
    breakdown: BreakdownCause | None = None


def _src(
    id: str,
    phase: RelationshipPhase,
    title: str,
    description: str,
    response: str,
    breakdown: BreakdownCause | None = None,
) -> RiskSource:
    signals = tuple(sig for sig, by_phase in _SIGNAL_SOURCES.items() if id in by_phase.values())
    return RiskSource(id, phase, title, description, signals, response, breakdown)


_E, _M, _L = RelationshipPhase.EARLY, RelationshipPhase.MID, RelationshipPhase.LATE


def _every(source: str) -> dict[RelationshipPhase, str]:
    return {_E: source, _M: source, _L: source}


# Which source a tripped signal points to, by the account's phase.
_SIGNAL_SOURCES: Final[dict[str, dict[RelationshipPhase, str]]] = {
    "adoption": {_E: "onboarding_misaligned", _M: "training_gap", _L: "value_doubt"},
    "training_completion": {_E: "onboarding_misaligned", _M: "training_gap", _L: "training_gap"},
    "days_since_contact": {
        _E: "presale_handoff",
        _M: "relationship_change",
        _L: "relationship_change",
    },
    "handoff_gaps": _every("presale_handoff"),
    "owner_changed": {_E: "sales_handoff", _M: "relationship_change", _L: "relationship_change"},
    "champion_engaged": _every("relationship_change"),
    "meetings_last_30d": {
        _E: "onboarding_misaligned",
        _M: "relationship_change",
        _L: "relationship_change",
    },
    "open_tickets": _every("support_strain"),
    "response_hours": _every("support_strain"),
    "csat": {_E: "onboarding_misaligned", _M: "missed_expectations", _L: "value_doubt"},
    "nps": {_E: "onboarding_misaligned", _M: "missed_expectations", _L: "value_doubt"},
    "nps_change": {_E: "onboarding_misaligned", _M: "missed_expectations", _L: "value_doubt"},
    "sentiment": {_E: "onboarding_misaligned", _M: "missed_expectations", _L: "value_doubt"},
    "roi_concern": _every("value_doubt"),
    "poc_rerun_requested": _every("poc_rerun"),
    "competitor_active": _every("competitive_threat"),
}

_BC = BreakdownCause
RISK_SOURCES: Mapping[str, RiskSource] = {
    s.id: s
    for s in (
        _src(
            "onboarding_misaligned",
            _E,
            "Onboarding pace or expectations out of line",
            "Onboarding moves slower than the customer hoped, or toward goals the customer "
            "never signed up to; often there is no dated plan tied to business and technical "
            "objectives, and no agreed rhythm of meetings.",
            "Restart onboarding with a dated plan tied to the customer's own objectives.",
            _BC.MISMANAGED_EXPECTATIONS,
        ),
        _src(
            "presale_handoff",
            _E,
            "Gaps in the move from pre-sale to post-sale",
            "What the customer told sales does not reach the team that delivers, so the "
            "customer has to explain goals and purchases again and contact goes quiet.",
            "Fill the handoff record and confirm it with the customer in one session.",
            _BC.UNDER_MANAGEMENT,
        ),
        _src(
            "sales_handoff",
            _E,
            "Account executive to account manager handoff",
            "The rep who closed the deal hands over to the rep who grows it, and promises "
            "or context get dropped on the way.",
            "Hold a joint call with the outgoing and incoming rep and the customer lead.",
            _BC.KEY_PERSONNEL_CHANGE,
        ),
        _src(
            "relationship_change",
            _M,
            "Account manager change or champion leaving",
            "The person who held the relationship on either side moves on and nobody else "
            "has a working bond with the customer, so contact and meetings thin out.",
            "Build a second thread: introduce a lasting technical or support contact.",
            _BC.KEY_PERSONNEL_CHANGE,
        ),
        _src(
            "support_strain",
            _M,
            "Support volume, slow answers or unfinished fixes",
            "Tickets pile up, answers take too long, or issues are closed without really "
            "being solved, and patience wears thin.",
            "Review every open ticket with the support lead and agree a date for each fix.",
            _BC.UNDER_MANAGEMENT,
        ),
        _src(
            "training_gap",
            _M,
            "Too little training",
            "People on the customer side never learned to use the product well, so usage "
            "stays shallow after onboarding.",
            "Run role-based training for the people who use the product every day.",
            _BC.UNDER_MANAGEMENT,
        ),
        _src(
            "missed_expectations",
            _M,
            "Expectations missed",
            "Results fall short of what the customer expected; mostly a matter of "
            "communication and of keeping the relationship alive.",
            "Restate the expected outcomes with the customer and agree how to measure them.",
            _BC.MISMANAGED_EXPECTATIONS,
        ),
        _src(
            "value_doubt",
            _L,
            "Doubts about ROI or value",
            "The customer questions whether the product pays back what it costs; a sign "
            "that earlier warnings went unnoticed and the account has to be sold again.",
            "Prepare a value review with the numbers achieved against the goals bought for.",
            _BC.MISMANAGED_EXPECTATIONS,
        ),
        _src(
            "poc_rerun",
            _L,
            "Asking to rerun a proof of concept",
            "The customer wants to prove the product again, as if the original purchase "
            "decision no longer held: earlier warnings went unnoticed, and the account has "
            "to be sold again.",
            "Agree success criteria for the rerun and put an executive sponsor on it.",
            _BC.STRATEGY_CHANGE,
        ),
        _src(
            "competitive_threat",
            _L,
            "Competitive threat",
            "A competitor is being evaluated or mentioned, and the renewal is in play: "
            "earlier warnings went unnoticed, and the account has to be sold again.",
            "Map where the competitor claims an edge and answer each point with evidence.",
            _BC.MARKET_CONDITIONS,
        ),
    )
}
"""The built-in risk sources, by id (ten: three early, four mid, three late)."""


def _risk_source(name: object) -> RiskSource:
    try:
        return RISK_SOURCES[name]  # type: ignore[index]
    except (KeyError, TypeError):
        raise UnknownName("risk source", name, list(RISK_SOURCES)) from None


_ROOT_CAUSES: Final = frozenset(RISK_SOURCES) | frozenset(c.value for c in BreakdownCause)


def _root_cause(value: object) -> str:
    if isinstance(value, BreakdownCause):
        return value.value
    if isinstance(value, RiskSource):
        value = value.id
    if not isinstance(value, str) or value not in _ROOT_CAUSES:
        raise UnknownName("root cause", value, sorted(_ROOT_CAUSES))
    return value


LEADING_INDICATORS: Mapping[str, str] = {
    "activation": "The customer reached the first milestone that shows the product works for them.",
    "adoption": "The share of what was bought that is in regular use.",
    "value_realized": "Outcomes the customer measured against the goals they bought for.",
    "engagement_cadence": "Meetings and touchpoints held as agreed, at several levels.",
    "education": "People trained, and courses or community sessions attended.",
}
"""Suggested leading indicators of retention; plans may also name their own."""


# --------------------------------------------------------------------------- detection
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


# --------------------------------------------------------------------------- plan parts
@attrs.frozen(slots=True)
class Stakeholder:
    """A person on the customer side whom the team engaged.

    Attributes:
        name: Who.
        level: Their level, from analyst to economic buyer.
        title: Their job title, if known.

    Examples:
        >>> from stars.recovery import Stakeholder
        >>> Stakeholder("Ana", "analyst").level.value
        'analyst'
        >>> Stakeholder("Ana", "intern")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: level: got 'intern', expected one of 'analyst', ...
    """

    name: str = attrs.field(validator=_text)
    level: StakeholderLevel = attrs.field(converter=_c_level, validator=_member(StakeholderLevel))
    title: str = attrs.field(default="", validator=_any_text)


@attrs.frozen(slots=True)
class ActionItem:
    """One action in a recovery plan: what it should achieve, who owns it, when it is due.

    Attributes:
        objective: What the action should achieve.
        owner: Who is accountable for it.
        due: When it is due (timezone-aware; not before the plan starts).
        done_at: When it was done, or ``None`` while open.
        source: The risk source or root cause it addresses, if any.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.recovery import ActionItem
        >>> due = datetime(2025, 2, 1, tzinfo=timezone.utc)
        >>> ActionItem("Weekly check-in with the team", "dana", due).done
        False
        >>> ActionItem("Weekly check-in with the team", None, due)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: owner: got None, expected a non-empty string (every action ...
    """

    objective: str = attrs.field(validator=_text)
    owner: str = attrs.field()
    due: datetime = attrs.field(validator=_aware)
    done_at: datetime | None = attrs.field(default=None, validator=_optional_aware)
    source: str | None = attrs.field(default=None)

    @owner.validator
    def _check_owner(self, attribute: Any, value: Any) -> None:
        if not isinstance(value, str) or not value.strip():
            raise InvalidValue(
                "owner", value, "a non-empty string", hint="every action needs an owner"
            )

    @source.validator
    def _check_source(self, attribute: Any, value: Any) -> None:
        if value is not None:
            _root_cause(value)

    @property
    def done(self) -> bool:
        """Whether the action is done.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import ActionItem
            >>> t = datetime(2025, 2, 1, tzinfo=timezone.utc)
            >>> ActionItem("Train the analysts", "sam", t, done_at=t).done
            True
        """
        return self.done_at is not None


@attrs.frozen(slots=True)
class CheckIn:
    """A health reading taken while the plan runs.

    Attributes:
        at: When (timezone-aware).
        band: The band then.
        health: The 0-100 score, if known.
        note: What was observed.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.recovery import CheckIn
        >>> CheckIn(datetime(2025, 2, 1, tzinfo=timezone.utc), "green", 74).band
        <Band.GREEN: 'green'>
    """

    at: datetime = attrs.field(validator=_aware)
    band: Band = attrs.field(converter=_c_band, validator=_member(Band))
    health: float | None = attrs.field(default=None, validator=v.optional_number(0, 100))
    note: str = attrs.field(default="", validator=_any_text)


@attrs.frozen(slots=True)
class StepRecord:
    """One move of a plan from step to step. Records are appended in time order.

    Attributes:
        trigger: What moved it (``open`` for the first record).
        source: The step it left (``None`` for ``open``).
        dest: The step it entered.
        at: When (timezone-aware).
        actor: Who, if known.
        reason: Why (always given when forced).
        forced: Whether a guard was overridden.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.recovery import StepRecord
        >>> r = StepRecord("open", None, "detection", datetime(2025, 1, 1, tzinfo=timezone.utc))
        >>> r.dest
        <RecoveryStep.DETECTION: 'detection'>
    """

    trigger: str = attrs.field(validator=_text)
    source: RecoveryStep | None = attrs.field(
        converter=_c_step, validator=_member(RecoveryStep, optional=True)
    )
    dest: RecoveryStep = attrs.field(converter=_c_step, validator=_member(RecoveryStep))
    at: datetime = attrs.field(validator=_aware)
    actor: str | None = attrs.field(default=None, validator=v.field(v.optional_string))
    reason: str | None = attrs.field(default=None, validator=v.field(v.optional_string))
    forced: bool = attrs.field(default=False)

    def __attrs_post_init__(self) -> None:
        v.flag("forced", self.forced)
        if self.forced and not (self.reason and self.reason.strip()):
            raise InvalidValue("reason", self.reason, "a reason whenever forced=True")


def _check_cutoffs(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, BandCutoffs):
        raise InvalidValue(attribute.name, value, "a BandCutoffs")


def _need_item(field: str, value: object, kind: type[Any]) -> None:
    """Refuse a value that is not a ``kind``, with a hint on how to build one."""
    if isinstance(value, kind):
        return
    names = list(attrs.fields_dict(kind))
    hint = f"build one with {kind.__name__}({', '.join(names)})"
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in names]
        if not unknown and value:
            hint = f"build one from the mapping: {kind.__name__}(**{field})"
        elif unknown:
            hint += "; not fields of it: " + ", ".join(repr(k) for k in unknown)
    raise InvalidValue(field, value, _a(kind.__name__), hint=hint)


@attrs.frozen(slots=True)
class RecoveryPolicy:
    """The thresholds the recovery guards read, and the bands its check-ins use.

    Attributes:
        green_check_ins: Consecutive green check-ins needed before prevention (hysteresis:
            one good week is not enough).
        min_stakeholder_levels: Distinct customer levels that must be engaged before execution.
        stall_window: Check-ins since monitoring began needed to call progress stalled.
        min_progress: Health points gained over the window below which progress has stalled.
        bands: Cut-offs from health to band for check-ins. `RecoveryProcess.open` (and so
            `plan_for`) copies them onto every plan it opens, and `RecoveryPlan.check_in`
            derives each band with them; `weekly_update` uses them for a health given as a fact.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import BandCutoffs
        >>> from stars.recovery import RecoveryPolicy, RecoveryProcess
        >>> RecoveryPolicy().green_check_ins
        3
        >>> strict = RecoveryProcess(RecoveryPolicy(bands=BandCutoffs(green_from=80)))
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> strict.open("acme", at=t).check_in(t, health=75).check_ins[0].band.value
        'yellow'
        >>> RecoveryPolicy(min_stakeholder_levels=1)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: min_stakeholder_levels: got 1, expected a whole number from 2 ...
    """

    green_check_ins: int = attrs.field(default=3, validator=_number(1, integer=True))
    min_stakeholder_levels: int = attrs.field(default=2, validator=_number(2, 5, integer=True))
    stall_window: int = attrs.field(default=3, validator=_number(2, integer=True))
    min_progress: float = attrs.field(default=5.0, validator=_number(0))
    bands: BandCutoffs = attrs.field(factory=BandCutoffs, validator=_check_cutoffs)


def _to_causes(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValue("root_causes", value, "a sequence of root cause names")
    return tuple(_root_cause(item) for item in value)


def _index(field: str, value: object, size: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -size <= value < size:
        raise InvalidValue(field, value, f"an index from 0 to {size - 1}" if size else "no index")
    return value % size


# --------------------------------------------------------------------------- the plan
@attrs.frozen(slots=True)
class RecoveryPlan:
    """A get-to-green plan for one account, as an immutable value.

    Create plans with `RecoveryProcess.open` or `plan_for`, edit them with the
    methods below (each returns a new plan with ``version`` one higher), and move them
    through the steps with `RecoveryProcess.fire`. ``history`` only ever grows.

    Attributes:
        id: The plan's id.
        account_id: The account it is for.
        started_at: When it was opened; no action may be due earlier.
        step: The current step.
        owner: Who leads the plan on the vendor side.
        findings: What detection found.
        root_causes: Risk source ids or `BreakdownCause` values.
        stakeholders: The customer people engaged.
        actions: The action items.
        template: The template the plan follows, if any.
        check_ins: Health readings, in time order.
        lessons: What was learned (for the playbook library).
        indicators: The leading indicators of retention chosen to watch.
        history: The step records, in time order.
        version: Increases by one with every change.
        bands: The cut-offs `check_in` derives a band from health with. `RecoveryProcess.open`
            sets them from its `RecoveryPolicy.bands`; a plan built directly uses the defaults.

    Examples:
        >>> from datetime import datetime, timedelta, timezone
        >>> from stars.recovery import ActionItem, RecoveryPlan
        >>> t = datetime(2025, 3, 1, tzinfo=timezone.utc)
        >>> plan = RecoveryPlan("p1", "acme", t)
        >>> plan.step.value, plan.version
        ('detection', 0)
        >>> plan.add_action(ActionItem("Fix the export bug", "lee", t - timedelta(days=1)))
        ...     # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: actions[0].due: got ..., expected a time at or after the plan...
    """

    id: str = attrs.field(validator=_text)
    account_id: str = attrs.field(validator=_text)
    started_at: datetime = attrs.field(validator=_aware)
    step: RecoveryStep = attrs.field(
        default=RecoveryStep.DETECTION, converter=_c_step, validator=_member(RecoveryStep)
    )
    owner: str | None = attrs.field(default=None, validator=v.field(v.optional_string))
    findings: tuple[RiskFinding, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_each(RiskFinding)
    )
    root_causes: tuple[str, ...] = attrs.field(default=(), converter=_to_causes)
    stakeholders: tuple[Stakeholder, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_each(Stakeholder)
    )
    actions: tuple[ActionItem, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_each(ActionItem)
    )
    template: TemplateKind | None = attrs.field(
        default=None, converter=_c_template, validator=_member(TemplateKind, optional=True)
    )
    check_ins: tuple[CheckIn, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_each(CheckIn)
    )
    lessons: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple, validator=_each_text)
    indicators: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple, validator=_each_text)
    history: tuple[StepRecord, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_each(StepRecord)
    )
    version: int = attrs.field(default=0, validator=_number(0, integer=True))
    bands: BandCutoffs = attrs.field(factory=BandCutoffs, validator=_check_cutoffs)

    @root_causes.validator
    def _check_causes(self, attribute: Any, value: Any) -> None:
        if len(set(value)) != len(value):
            raise InvalidValue("root_causes", value, "distinct root causes")

    def __attrs_post_init__(self) -> None:
        for i, item in enumerate(self.actions):
            if item.due < self.started_at:
                raise InvalidValue(
                    f"actions[{i}].due",
                    item.due,
                    f"a time at or after the plan's start ({self.started_at.isoformat()})",
                )
        previous: datetime | None = None
        for c in self.check_ins:
            if previous is not None and v.before(c.at, previous):
                raise OutOfOrder("check-in", c.at.isoformat(), previous.isoformat())
            previous = c.at
        _check_history(self.history, self.step)
        if self.version < len(self.history):
            raise InvalidValue(
                "version", self.version, f"at least the number of records ({len(self.history)})"
            )

    # -- queries --------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        """Whether the plan is still running (not CLOSED, LOST or RELEASED).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan
            >>> RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc)).is_open
            True
        """
        return not self.step.is_final

    @property
    def outcome(self) -> str | None:
        """``"recovered"``, ``"lost"`` or ``"released"`` once the plan has ended, else ``None``.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan
            >>> print(RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc)).outcome)
            None
        """
        return {
            RecoveryStep.CLOSED: "recovered",
            RecoveryStep.LOST: "lost",
            RecoveryStep.RELEASED: "released",
        }.get(self.step)

    @property
    def ended_at(self) -> datetime | None:
        """When the plan ended, or ``None`` while it runs.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan
            >>> print(RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc)).ended_at)
            None
        """
        if self.step.is_final and self.history:
            return self.history[-1].at
        return None

    @property
    def days_to_recover(self) -> float | None:
        """Days from opening to closing recovered (``None`` unless the plan recovered).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan
            >>> print(RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc))
            ...       .days_to_recover)
            None
        """
        end = self.ended_at
        if self.step is not RecoveryStep.CLOSED or end is None:
            return None
        return (end - self.started_at).total_seconds() / _DAY

    @property
    def stakeholder_levels(self) -> frozenset[StakeholderLevel]:
        """The distinct customer levels engaged.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan, Stakeholder
            >>> p = RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc),
            ...                  stakeholders=[Stakeholder("Ana", "analyst"),
            ...                                Stakeholder("Bo", "analyst")])
            >>> sorted(level.value for level in p.stakeholder_levels)
            ['analyst']
        """
        return frozenset(s.level for s in self.stakeholders)

    @property
    def green_streak(self) -> int:
        """How many of the latest check-ins in a row were green.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> p = RecoveryPlan("p", "a", t).check_in(t, health=80).check_in(t, health=50)
            >>> p.green_streak
            0
        """
        streak = 0
        for c in reversed(self.check_ins):
            if c.band is not Band.GREEN:
                break
            streak += 1
        return streak

    @property
    def open_actions(self) -> tuple[ActionItem, ...]:
        """The actions not done yet, earliest due first.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan
            >>> RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc)).open_actions
            ()
        """
        return tuple(sorted((a for a in self.actions if not a.done), key=lambda a: a.due))

    # -- edits (each returns a new plan) ---------------------------------------------
    def _edit(self, what: str, **changes: Any) -> RecoveryPlan:
        if self.step.is_final:
            raise InvalidValue(
                "step",
                self.step.value,
                "an open plan",
                hint=f"cannot {what} once the plan is {self.step.value}",
            )
        return attrs.evolve(self, version=self.version + 1, **changes)

    def add_root_cause(self, cause: str | BreakdownCause | RiskSource) -> RecoveryPlan:
        """Record a root cause: a `RISK_SOURCES` id or a BreakdownCause.

        Raises:
            UnknownName: The cause is neither.
            InvalidValue: The cause is already recorded, or the plan has ended.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.depth import BreakdownCause
            >>> from stars.recovery import RecoveryPlan
            >>> p = RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc))
            >>> p.add_root_cause(BreakdownCause.STRATEGY_CHANGE).root_causes
            ('strategy_change',)
            >>> p.add_root_cause("bad_luck")  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            stars.errors.UnknownName: unknown root cause 'bad_luck'; known: ...
        """
        name = _root_cause(cause)
        return self._edit("add a root cause", root_causes=(*self.root_causes, name))

    def add_stakeholder(self, stakeholder: Stakeholder) -> RecoveryPlan:
        """Record a customer stakeholder the team engaged.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan, Stakeholder
            >>> p = RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc))
            >>> len(p.add_stakeholder(Stakeholder("Ana", "analyst")).stakeholders)
            1
        """
        _need_item("stakeholder", stakeholder, Stakeholder)
        return self._edit("add a stakeholder", stakeholders=(*self.stakeholders, stakeholder))

    def add_action(self, item: ActionItem) -> RecoveryPlan:
        """Add an action item (its due date must not be before the plan's start).

        Raises:
            InvalidValue: ``item`` is not an `ActionItem` (a mapping of its fields is not
                taken: build the item, so a typo in a field name fails loudly), its due date
                is before the plan's start, or the plan has ended.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import ActionItem, RecoveryPlan
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> p = RecoveryPlan("p", "a", t).add_action(ActionItem("Train", "sam", t))
            >>> p.actions[0].owner, p.version
            ('sam', 1)
            >>> p.add_action({"objective": "Train", "owner": "sam"})  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            stars.errors.InvalidValue: item: got {'objective': ...}, expected an ActionItem ...
        """
        _need_item("item", item, ActionItem)
        return self._edit("add an action", actions=(*self.actions, item))

    def replace_action(self, index: int, item: ActionItem) -> RecoveryPlan:
        """Replace the action at ``index`` (to edit a drafted action).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import ActionItem, RecoveryPlan
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> p = RecoveryPlan("p", "a", t).add_action(ActionItem("Train", "sam", t))
            >>> p.replace_action(0, ActionItem("Train analysts", "kim", t)).actions[0].owner
            'kim'
        """
        i = _index("index", index, len(self.actions))
        _need_item("item", item, ActionItem)
        actions = list(self.actions)
        actions[i] = item
        return self._edit("replace an action", actions=tuple(actions))

    def remove_action(self, index: int) -> RecoveryPlan:
        """Drop the action at ``index``.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import ActionItem, RecoveryPlan
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> p = RecoveryPlan("p", "a", t).add_action(ActionItem("Train", "sam", t))
            >>> p.remove_action(0).actions
            ()
        """
        i = _index("index", index, len(self.actions))
        return self._edit("remove an action", actions=self.actions[:i] + self.actions[i + 1 :])

    def complete_action(self, index: int, at: datetime) -> RecoveryPlan:
        """Mark the action at ``index`` done at ``at``.

        Raises:
            InvalidValue: Bad index, the action is already done, or ``at`` is before the start.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import ActionItem, RecoveryPlan
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> p = RecoveryPlan("p", "a", t).add_action(ActionItem("Train", "sam", t))
            >>> p.complete_action(0, t).actions[0].done
            True
        """
        i = _index("index", index, len(self.actions))
        v.aware("at", at)
        if self.actions[i].done:
            raise InvalidValue(f"actions[{i}]", self.actions[i].objective, "an open action")
        if at < self.started_at:
            raise InvalidValue("at", at, "a time at or after the plan's start")
        actions = list(self.actions)
        actions[i] = attrs.evolve(actions[i], done_at=at)
        return self._edit("complete an action", actions=tuple(actions))

    def check_in(
        self,
        at: datetime,
        *,
        health: float | None = None,
        band: Band | str | None = None,
        note: str = "",
        bands: BandCutoffs | None = None,
    ) -> RecoveryPlan:
        """Record a health reading; the band is derived from ``health`` when not given.

        The cut-offs that derive it are ``bands`` when passed (it wins), else the plan's
        own `bands`, which `RecoveryProcess.open` took from its `RecoveryPolicy.bands`.

        Args:
            at: When (timezone-aware, not before the plan's start or the latest check-in).
            health: The 0-100 score.
            band: The band, when there is no score or it was judged by hand.
            note: What was observed.
            bands: Cut-offs for this reading only, overriding the plan's.

        Raises:
            InvalidValue: Neither health nor band is given, ``bands`` is not a
                `BandCutoffs`, or ``at`` is before the plan's start.
            OutOfOrder: ``at`` is earlier than the latest check-in.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> RecoveryPlan("p", "a", t).check_in(t, health=72).check_ins[0].band.value
            'green'
            >>> from stars import BandCutoffs
            >>> strict = RecoveryPlan("p", "a", t, bands=BandCutoffs(green_from=80))
            >>> strict.check_in(t, health=72).check_ins[0].band.value
            'yellow'
            >>> strict.check_in(t, health=72, bands=BandCutoffs()).check_ins[0].band.value
            'green'
        """
        v.aware("at", at)
        if bands is not None and not isinstance(bands, BandCutoffs):
            raise InvalidValue("bands", bands, "a BandCutoffs")
        if at < self.started_at:
            raise InvalidValue("at", at, "a time at or after the plan's start")
        if band is None:
            if health is None:
                raise InvalidValue("health", None, "a health score or a band for the check-in")
            v.number("health", health, 0, 100)
            band = (bands if bands is not None else self.bands).band_for(health)
        item = CheckIn(at, band, health, note)
        if self.check_ins and at < self.check_ins[-1].at:
            raise OutOfOrder("check-in", at.isoformat(), self.check_ins[-1].at.isoformat())
        return self._edit("check in", check_ins=(*self.check_ins, item))

    def record_lessons(self, *lessons: str) -> RecoveryPlan:
        """Write down what was learned (allowed even after the plan ended).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan
            >>> p = RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc))
            >>> p.record_lessons("Invite the analysts to the kickoff").lessons
            ('Invite the analysts to the kickoff',)
        """
        added = _texts("lessons")(lessons)
        return attrs.evolve(self, lessons=(*self.lessons, *added), version=self.version + 1)

    def choose_indicators(self, *names: str) -> RecoveryPlan:
        """Choose leading indicators of retention to watch (see `LEADING_INDICATORS`).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan
            >>> p = RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc))
            >>> p.choose_indicators("adoption").indicators
            ('adoption',)
        """
        added = _texts("indicators")(names)
        merged = tuple(dict.fromkeys((*self.indicators, *added)))
        return self._edit("choose indicators", indicators=merged)

    def _repr_html_(self) -> str:
        done = sum(a.done for a in self.actions)
        latest = self.check_ins[-1] if self.check_ins else None
        rows: list[tuple[str, object]] = [
            ("account", self.account_id),
            ("step", self.step.value),
            ("started", _when(self.started_at)),
            ("owner", self.owner),
            ("root causes", ", ".join(self.root_causes) or None),
            ("template", self.template.value if self.template else None),
            (
                "levels engaged",
                ", ".join(sorted(lv.value for lv in self.stakeholder_levels)) or None,
            ),
            ("actions done", f"{done} of {len(self.actions)}"),
            ("latest band", latest.band.value if latest else None),
            ("green streak", self.green_streak),
            ("version", self.version),
        ]
        out = table(("", ""), rows, caption=f"Recovery plan {self.id}")
        if self.actions:
            out += table(
                ("objective", "owner", "due", "done"),
                [
                    (a.objective, a.owner, _when(a.due), _when(a.done_at) if a.done_at else "")
                    for a in self.actions
                ],
                caption="actions",
            )
        return out


def _check_history(history: tuple[StepRecord, ...], step: RecoveryStep) -> None:
    if not history:
        if step is not RecoveryStep.DETECTION:
            raise InvalidValue("step", step.value, "'detection' for a plan without history")
        return
    first = history[0]
    if first.trigger != "open" or first.source is not None:
        raise InvalidValue("history[0]", first, "the 'open' record (source None)")
    for i in range(1, len(history)):
        prev, rec = history[i - 1], history[i]
        if rec.source is None or rec.source is not prev.dest:
            raise InvalidValue(f"history[{i}].source", rec.source, f"{prev.dest.value!r}")
        allowed = _GRAPH.get(rec.trigger)
        if allowed is None or rec.source not in allowed[0] or rec.dest is not allowed[1]:
            raise InvalidValue(
                f"history[{i}]",
                f"{rec.trigger}: {rec.source.value} -> {rec.dest.value}",
                "a move the recovery graph allows",
            )
        if v.before(rec.at, prev.at):
            raise OutOfOrder("step record", rec.at.isoformat(), prev.at.isoformat())
    if history[-1].dest is not step:
        raise InvalidValue(
            "step", step.value, f"{history[-1].dest.value!r}, the last record's dest"
        )


_S = RecoveryStep
# trigger -> (sources, dest). "open" enters DETECTION from nothing.
_GRAPH: Final[dict[str, tuple[tuple[RecoveryStep, ...], RecoveryStep]]] = {
    "analyze": ((_S.DETECTION,), _S.ANALYSIS),
    "execute": ((_S.ANALYSIS,), _S.EXECUTION),
    "monitor": ((_S.EXECUTION,), _S.MONITORING),
    "adjust": ((_S.MONITORING,), _S.ANALYSIS),
    "prevent": ((_S.MONITORING,), _S.PREVENTION),
    "close": ((_S.PREVENTION,), _S.CLOSED),
    "lose": (_OPEN_STEPS, _S.LOST),
    "release": (_OPEN_STEPS, _S.RELEASED),
}


# --------------------------------------------------------------------------- guards
_Guard = Callable[[RecoveryPlan, RecoveryPolicy, "str | None"], "str | None"]


def _g_evidence(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    if plan.findings or plan.root_causes:
        return None
    return "no finding or root cause is recorded yet"


def _g_root_cause(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    return None if plan.root_causes else "no root cause is identified yet"


def _g_stakeholders(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    levels = plan.stakeholder_levels
    need = policy.min_stakeholder_levels
    if len(levels) >= need:
        return None
    shown = ", ".join(sorted(lv.value for lv in levels))
    return (
        f"stakeholders engaged at {len(levels)} level(s) of the customer"
        + (f" ({shown})" if shown else "")
        + f", {need} needed"
    )


def _g_actions(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    return None if plan.actions else "the plan has no action items yet"


def _g_action_done(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    return None if any(a.done for a in plan.actions) else "no action item is done yet"


def _monitoring_since(plan: RecoveryPlan) -> datetime:
    # Only called for plans in MONITORING, whose history always has a record entering it.
    return next(r.at for r in reversed(plan.history) if r.dest is RecoveryStep.MONITORING)


def _g_stalled(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    since = _monitoring_since(plan)
    recent = [c for c in plan.check_ins if c.at >= since]
    need = policy.stall_window
    if len(recent) < need:
        return f"{len(recent)} check-in(s) since monitoring began, {need} needed to judge progress"
    window = recent[-need:]
    first, last = window[0], window[-1]
    if last.band is Band.GREEN:
        return "health is green; progress has not stalled"
    if first.health is not None and last.health is not None:
        gain = last.health - first.health
        if gain >= policy.min_progress:
            return f"health rose {gain:.1f} points over the last {need} check-ins"
    elif last.band > first.band:
        return f"the band rose from {first.band.value} to {last.band.value}"
    return None


def _g_green(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    got, need = plan.green_streak, policy.green_check_ins
    return None if got >= need else f"green for {got} check-in(s) in a row, {need} needed"


def _g_lessons(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    return None if plan.lessons else "no lessons are recorded yet"


def _g_indicator(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    return None if plan.indicators else "no leading indicator of retention is chosen yet"


def _g_reason(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    return None if reason and reason.strip() else "a reason must be given"


_GUARDS: Final[dict[str, tuple[_Guard, ...]]] = {
    "open": (),
    "analyze": (_g_evidence,),
    "execute": (_g_root_cause, _g_stakeholders, _g_actions),
    "monitor": (_g_action_done,),
    "adjust": (_g_stalled,),
    "prevent": (_g_green,),
    "close": (_g_lessons, _g_indicator),
    "lose": (_g_reason,),
    "release": (_g_reason,),
}


# --------------------------------------------------------------------------- the engine
@attrs.frozen(slots=True, eq=False)
class RecoveryEvent:
    """What a recovery hook receives.

    ``plan`` is the plan before the move in before- and exit-hooks, and the new plan in
    enter- and after-hooks, where ``record`` is the new `StepRecord`. ``subject`` is that
    plan, as in every machine's event, and ``machine`` the process that moved it.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.recovery import RecoveryProcess
        >>> process = RecoveryProcess()
        >>> seen = []
        >>> @process.after("open")
        ... def note(event):
        ...     seen.append((event.trigger, event.dest.value, event.subject.version))
        >>> _ = process.open("acme", at=datetime(2025, 1, 1, tzinfo=timezone.utc))
        >>> seen
        [('open', 'detection', 1)]
    """

    plan: RecoveryPlan
    account: Account | None
    trigger: str
    source: RecoveryStep | None
    dest: RecoveryStep
    at: datetime
    actor: str | None
    reason: str | None
    forced: bool
    record: StepRecord | None
    machine: RecoveryProcess | None = None

    @property
    def subject(self) -> RecoveryPlan:
        """The plan (the same as ``plan``).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryEvent, RecoveryPlan
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> plan = RecoveryPlan("p", "acme", t)
            >>> RecoveryEvent(plan, None, "open", None, "detection", t, None, None, False,
            ...               None).subject is plan
            True
        """
        return self.plan


RecoveryHook = Callable[[RecoveryEvent], None]
H = TypeVar("H", bound=RecoveryHook)
_NEW = "_new"


class _PlanContext:
    """What the recovery guards read."""

    __slots__ = ("plan", "policy", "reason")

    def __init__(self, plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> None:
        self.plan = plan
        self.policy = policy
        self.reason = reason


def _plan_guard(guard: _Guard) -> Callable[[_PlanContext], str | None]:
    def check(ctx: _PlanContext) -> str | None:
        return guard(ctx.plan, ctx.policy, ctx.reason)

    return check


class RecoveryProcess(_engine.Machine):
    """The engine that moves recovery plans through the five steps.

    It runs on the same engine as `Lifecycle`: the graph as an edge table, the guards
    with reasons, the same hook phases (before and exit may veto; enter and after see the
    new plan; every hook of a phase runs). Plans are immutable values, so a move never
    changes the plan passed in: it returns a new one, one version higher, and no lock is
    taken at all. The process holds no plans, so one process serves any number of them;
    its ``transitions.Machine``, built once, is the reference the engine is tested against.

    The graph: ``analyze`` (DETECTION → ANALYSIS), ``execute`` (ANALYSIS → EXECUTION),
    ``monitor`` (EXECUTION → MONITORING), ``adjust`` (MONITORING → ANALYSIS, when progress
    stalls), ``prevent`` (MONITORING → PREVENTION), ``close`` (PREVENTION → CLOSED), and
    from any open step ``lose`` (→ LOST) and ``release`` (→ RELEASED), both needing a reason.

    Args:
        policy: Thresholds for the guards (default `RecoveryPolicy`).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.recovery import RecoveryProcess
        >>> process = RecoveryProcess()
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> plan = process.open("acme", at=t)
        >>> process.fire(plan, "execute", at=t)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.TransitionNotAllowed: account 'acme' in stage 'detection' cannot 'execute'; ...
        >>> process.fire(plan, "release", at=t, reason="not our ideal customer").step.value
        'released'
    """

    _hook_event_name = "a RecoveryEvent"

    def __init__(self, policy: RecoveryPolicy | None = None) -> None:
        if policy is None:
            policy = RecoveryPolicy()
        if not isinstance(policy, RecoveryPolicy):
            raise InvalidValue("policy", policy, "a RecoveryPolicy")
        self.policy = policy
        _engine.Machine.__init__(self)
        self._edges: EdgeTable[_PlanContext] = EdgeTable(
            [Edge("open", [_NEW], RecoveryStep.DETECTION.value)]
            + [
                Edge(
                    trigger,
                    [s.value for s in sources],
                    dest.value,
                    [_plan_guard(g) for g in _GUARDS[trigger]],
                )
                for trigger, (sources, dest) in _GRAPH.items()
            ]
        )
        self._machine = self._reference_machine()

    def _reference_machine(self) -> Machine:
        """The graph as a ``transitions.Machine`` with the guards as conditions (for tests)."""
        machine = Machine(
            model=None,
            states=[_NEW, *(s.value for s in RecoveryStep)],
            initial=_NEW,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for edge in self._edges.edges:

            def passes(event_data: Any, edge: Edge[_PlanContext] = edge) -> bool:
                kwargs = event_data.kwargs
                return bool(kwargs["force"]) or not edge.reasons(kwargs["context"])

            machine.add_transition(edge.trigger, list(edge.sources), edge.dest, [passes])
        return machine

    # -- queries -------------------------------------------------------------------
    @property
    def triggers(self) -> tuple[str, ...]:
        """Every trigger, ``open`` first.

        Examples:
            >>> from stars.recovery import RecoveryProcess
            >>> RecoveryProcess().triggers[:3]
            ('open', 'analyze', 'execute')
        """
        return ("open", *_GRAPH)

    def allowed(self, step: RecoveryStep | str) -> tuple[str, ...]:
        """The triggers the graph allows from ``step`` (guards aside).

        Examples:
            >>> from stars.recovery import RecoveryProcess
            >>> RecoveryProcess().allowed("monitoring")
            ('adjust', 'prevent', 'lose', 'release')
        """
        here = _enum(RecoveryStep, "step")(step)
        return tuple(t for t, (sources, _) in _GRAPH.items() if here in sources)

    def check(self, plan: RecoveryPlan, trigger: str, *, reason: str | None = None) -> Verdict:
        """Whether ``trigger`` may fire now, without changing anything.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryProcess
            >>> process = RecoveryProcess()
            >>> plan = process.open("acme", at=datetime(2025, 1, 1, tzinfo=timezone.utc))
            >>> process.check(plan, "analyze").reasons
            ('no finding or root cause is recorded yet',)
        """
        plan = _check_plan(plan)
        self._check_trigger(trigger)
        group = self._edges.get(plan.step.value, trigger)
        if group is None:
            return Verdict(
                trigger,
                plan.step.value,
                False,
                None,
                (f"{trigger!r} is not possible from {plan.step.value!r}",),
            )
        reasons = group[0].reasons(_PlanContext(plan, self.policy, reason))
        return Verdict(trigger, plan.step.value, not reasons, group[0].dest, tuple(reasons))

    def available(self, plan: RecoveryPlan) -> tuple[str, ...]:
        """The triggers whose guards pass now, without a reason.

        ``lose`` and ``release`` need a reason, so they never appear here.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryProcess
            >>> process = RecoveryProcess()
            >>> plan = process.open("acme", at=datetime(2025, 1, 1, tzinfo=timezone.utc))
            >>> process.available(plan)
            ()
        """
        plan = _check_plan(plan)
        return tuple(t for t in self.allowed(plan.step) if self.check(plan, t).allowed)

    def _check_trigger(self, trigger: object) -> str:
        if not isinstance(trigger, str) or trigger not in _GUARDS:
            raise UnknownName("trigger", trigger, list(_GUARDS))
        return trigger

    def to_mermaid(self) -> str:
        """The recovery steps as a Mermaid state diagram.

        Examples:
            >>> from stars.recovery import RecoveryProcess
            >>> print(RecoveryProcess().to_mermaid().splitlines()[2])
                detection --> analysis : analyze
        """
        lines = ["stateDiagram-v2", "    [*] --> detection"]
        for trigger, (sources, dest) in _GRAPH.items():
            for source in sources:
                lines.append(f"    {source.value} --> {dest.value} : {trigger}")
        return "\n".join(lines)

    # -- hooks -----------------------------------------------------------------------
    def _key(self, trigger: str | None) -> str:
        return "*" if trigger is None else self._check_trigger(trigger)

    def before(self, trigger: str | None = None) -> Callable[[H], H]:
        """Register a hook that runs before ``trigger`` (or any trigger); raising vetoes it.

        Examples:
            >>> from stars.recovery import RecoveryProcess
            >>> process = RecoveryProcess()
            >>> @process.before("release")
            ... def ask_manager(event):
            ...     pass
        """
        key = self._key(trigger)

        return self._decorator("before", key)

    def after(self, trigger: str | None = None) -> Callable[[H], H]:
        """Register a hook that runs after ``trigger`` (or any trigger) was applied.

        Examples:
            >>> from stars.recovery import RecoveryProcess
            >>> process = RecoveryProcess()
            >>> @process.after()
            ... def log(event):
            ...     pass
        """
        key = self._key(trigger)

        return self._decorator("after", key)

    def on_enter(self, step: RecoveryStep | str) -> Callable[[H], H]:
        """Register a hook that runs when a plan enters ``step``.

        Examples:
            >>> from stars.recovery import RecoveryProcess
            >>> process = RecoveryProcess()
            >>> @process.on_enter("closed")
            ... def celebrate(event):
            ...     pass
        """
        key = _enum(RecoveryStep, "step")(step).value

        return self._decorator("enter", key)

    def on_exit(self, step: RecoveryStep | str) -> Callable[[H], H]:
        """Register a hook that runs when a plan is about to leave ``step``; raising vetoes.

        Examples:
            >>> from stars.recovery import RecoveryProcess
            >>> process = RecoveryProcess()
            >>> @process.on_exit("monitoring")
            ... def note(event):
            ...     pass
        """
        key = _enum(RecoveryStep, "step")(step).value

        return self._decorator("exit", key)

    def remove_hook(self, fn: RecoveryHook) -> int:
        """Unregister a hook everywhere; returns how many registrations were removed.

        Examples:
            >>> from stars.recovery import RecoveryProcess
            >>> process = RecoveryProcess()
            >>> hook = process.after()(lambda event: None)
            >>> process.remove_hook(hook)
            1
        """
        return self._remove(fn)

    # -- the public engine -----------------------------------------------------------
    def _move(
        self,
        plan: RecoveryPlan,
        account: Account | None,
        trigger: str,
        at: datetime,
        actor: str | None,
        reason: str | None,
        force: bool,
    ) -> RecoveryPlan:
        opening = trigger == "open"
        source = None if opening else plan.step
        group = self._edges.get(_NEW if source is None else source.value, trigger)
        assert group is not None  # the caller checked the graph
        edge = group[0]
        if not force:
            refusals = edge.reasons(_PlanContext(plan, self.policy, reason))
            if refusals:
                raise TransitionRefused(plan.account_id, plan.step.value, trigger, refusals)
        dest = RecoveryStep(edge.dest)
        record = StepRecord(trigger, source, dest, at, actor, reason, force)
        if opening:
            new = attrs.evolve(plan, history=(record,), version=plan.version + 1)
        else:
            new = attrs.evolve(
                plan, step=dest, history=(*plan.history, record), version=plan.version + 1
            )

        def event(committed: StepRecord | None) -> RecoveryEvent:
            current = plan if committed is None else new
            return RecoveryEvent(
                current, account, trigger, source, dest, at, actor, reason, force, committed, self
            )

        def write() -> tuple[RecoveryPlan, StepRecord]:
            return new, record  # a plan is a value: the new one is the commit

        phases = self._phases(trigger, None if source is None else source.value, dest.value, None)
        return self._transact(plan.account_id, trigger, phases, event, write)

    def open(
        self,
        account: Account | str,
        *,
        at: datetime,
        plan_id: str | None = None,
        owner: str | None = None,
        findings: Iterable[RiskFinding] = (),
        actor: str | None = None,
        reason: str | None = None,
    ) -> RecoveryPlan:
        """Open a plan for an account, in DETECTION, with an ``open`` record.

        Args:
            account: The account (pass the `Account` so lifecycle hooks can
                move it) or its id.
            at: When the plan starts.
            plan_id: The plan's id (default: ``"<account id>-<date>"``).
            owner: Who leads it (default: the account's owner).
            findings: What detection found.
            actor: Who opened it.
            reason: Why.

        Returns:
            The new plan, at version 1, carrying the policy's band cut-offs (which
            `RecoveryPlan.check_in` applies).

        Raises:
            TransitionVetoed: A before-hook raised; no plan is returned.
            HookFailed: An after- or enter-hook raised; the plan is ``err.record``.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryProcess
            >>> plan = RecoveryProcess().open("acme", at=datetime(2025, 4, 1, tzinfo=timezone.utc))
            >>> plan.id, plan.step.value, plan.history[0].trigger
            ('acme-2025-04-01', 'detection', 'open')
        """
        acct = account if isinstance(account, Account) else None
        account_id = account.id if isinstance(account, Account) else account
        v.text("account", account_id)
        v.aware("at", at)
        if owner is None and acct is not None:
            owner = acct.owner
        plan = RecoveryPlan(
            plan_id if plan_id is not None else f"{account_id}-{_when(at)}",
            account_id,
            at,
            owner=owner,
            findings=findings,
            bands=self.policy.bands,
        )
        v.optional_string("actor", actor)
        v.optional_string("reason", reason)
        return self._move(plan, acct, "open", at, actor, reason, False)

    def fire(
        self,
        plan: RecoveryPlan,
        trigger: str,
        *,
        at: datetime,
        actor: str | None = None,
        reason: str | None = None,
        force: bool = False,
        account: Account | None = None,
    ) -> RecoveryPlan:
        """Move a plan to its next step and return the new plan.

        Args:
            plan: The plan.
            trigger: ``analyze``, ``execute``, ``monitor``, ``adjust``, ``prevent``,
                ``close``, ``lose`` or ``release``.
            at: When (timezone-aware, not before the last record).
            actor: Who.
            reason: Why (required with ``force=True``, and for ``lose`` and ``release``).
            force: Override the guards (never the graph); the record says so.
            account: The account, for hooks that act on it (see `link_lifecycle`).

        Returns:
            The new plan; the one passed in is unchanged.

        Raises:
            UnknownName: Not a trigger of the process.
            TransitionNotAllowed: The graph has no such move from the plan's step.
            TransitionRefused: A guard refused (the reasons say why).
            TransitionVetoed: A before- or exit-hook raised.
            HookFailed: An enter- or after-hook raised; the new plan is ``err.record``.
            OutOfOrder: ``at`` is earlier than the plan's last record.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryProcess
            >>> process = RecoveryProcess()
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> plan = process.open("acme", at=t)
            >>> moved = process.fire(plan, "analyze", at=t, force=True, reason="escalated by sales")
            >>> moved.step.value, moved.history[-1].forced, plan.step.value
            ('analysis', True, 'detection')
        """
        plan = _check_plan(plan)
        self._check_trigger(trigger)
        if trigger == "open":
            raise TransitionNotAllowed(
                plan.account_id, plan.step.value, trigger, self.allowed(plan.step)
            )
        v.aware("at", at)
        v.optional_string("actor", actor)
        v.optional_string("reason", reason)
        v.flag("force", force)
        if force and not (reason and reason.strip()):
            raise InvalidValue("reason", reason, "a reason whenever force=True")
        if account is not None:
            _need_account(account)
            if account.id != plan.account_id:
                raise InvalidValue("account", account.id, f"the plan's account {plan.account_id!r}")
        if not plan.history:
            raise InvalidValue(
                "plan.history", (), "an opened plan", hint="open plans with RecoveryProcess.open"
            )
        sources, _ = _GRAPH[trigger]
        if plan.step not in sources:
            raise TransitionNotAllowed(
                plan.account_id, plan.step.value, trigger, self.allowed(plan.step)
            )
        last = plan.history[-1].at if plan.history else plan.started_at
        if v.before(at, last):
            raise OutOfOrder("step", at.isoformat(), last.isoformat())
        return self._move(plan, account, trigger, at, actor, reason, force)

    def __repr__(self) -> str:
        return f"RecoveryProcess(policy={self.policy!r})"


def _check_plan(plan: object) -> RecoveryPlan:
    if not isinstance(plan, RecoveryPlan):
        raise InvalidValue("plan", plan, "a RecoveryPlan")
    return plan


# --------------------------------------------------------------------------- templates
@attrs.frozen(slots=True)
class PlanTemplate:
    """A kind of action plan suited to one relationship phase, with suggested actions.

    Attributes:
        kind: Which template.
        phase: The phase of risk it answers.
        title: A short label.
        summary: What the plan concentrates on.
        actions: Suggested action objectives, to copy into a plan and edit.

    Examples:
        >>> from stars.recovery import TEMPLATES
        >>> TEMPLATES["mid"].kind.value
        'support_engagement'
    """

    kind: TemplateKind = attrs.field(converter=_c_template, validator=_member(TemplateKind))
    phase: RelationshipPhase = attrs.field(converter=_c_phase, validator=_member(RelationshipPhase))
    title: str = attrs.field(validator=_text)
    summary: str = attrs.field(validator=_text)
    actions: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_each_text)


TEMPLATES: Mapping[RelationshipPhase, PlanTemplate] = {
    t.phase: t
    for t in (
        PlanTemplate(
            TemplateKind.ONBOARDING_EDUCATION,
            _E,
            "Onboarding and education",
            "For trouble that starts early: tighten onboarding, add training, and make sure "
            "the customer can see where the value comes from.",
            (
                "Hold a fresh kickoff that restates business and technical goals with dates.",
                "Run training for each role that uses the product.",
                "Check what each handoff passed on and fill the gaps, so the customer never "
                "repeats their story.",
                "Agree a meeting rhythm and who joins from each side.",
            ),
        ),
        PlanTemplate(
            TemplateKind.SUPPORT_ENGAGEMENT,
            _M,
            "Continuous support and engagement",
            "For trouble in the middle of the relationship: a named support contact, "
            "regular check-ins and advice offered before it is asked for.",
            (
                "Name one support contact who stays with the account.",
                "Meet every week until health has been green for several readings.",
                "Send advice on the outcome the customer cares about most, unprompted.",
                "Open a second relationship thread so one departure cannot cut contact.",
            ),
        ),
        PlanTemplate(
            TemplateKind.VALUE_REINFORCEMENT,
            _L,
            "Value reinforcement",
            "For accounts close to churning: prove the value again, look for new uses, and "
            "be ready to rework the terms if the deal no longer fits.",
            (
                "Build a value review from the customer's own results against their goals.",
                "Walk the economic buyer through the value review.",
                "Explore one more use case with the team that runs the product.",
                "Prepare options for adjusted terms in case the current deal does not fit.",
            ),
        ),
    )
}
"""The three plan templates, by the phase of risk they answer."""


def template_for(phase: RelationshipPhase | str) -> PlanTemplate:
    """The template that answers risks of ``phase``.

    Examples:
        >>> from stars.recovery import template_for
        >>> template_for("early").title
        'Onboarding and education'
    """
    return TEMPLATES[_enum(RelationshipPhase, "phase")(phase)]


_PROCESS = None


def _default_process() -> RecoveryProcess:
    global _PROCESS
    if _PROCESS is None:
        _PROCESS = RecoveryProcess()
    return _PROCESS


def plan_for(
    findings: Iterable[RiskFinding],
    account: Account,
    at: datetime,
    *,
    process: RecoveryProcess | None = None,
    owner: str | None = None,
    plan_id: str | None = None,
    due_in: timedelta = timedelta(days=14),
    actor: str | None = None,
) -> RecoveryPlan:
    """Draft a plan from findings, for the team to edit.

    The plan is opened and, when there is at least one finding, moved to ANALYSIS. Root
    causes are the findings' sources, most severe first. The template is the one for the
    `RiskFinding.risk_phase` of the most severe attributed finding (ties go to the later
    phase), so a late-phase source such as a proof-of-concept rerun gets the late template
    however young the account is. Actions are
    each root cause's usual response followed by the template's suggestions, all owned by
    ``owner`` (default: the account's owner) and due ``due_in`` after ``at``.
    Stakeholders are left for the team to add.

    Args:
        findings: What `detect` returned (or a selection).
        account: The account.
        at: When the plan starts.
        process: The process to open it with (default: a shared plain process).
        owner: Who owns the drafted actions.
        plan_id: The plan's id.
        due_in: How long after ``at`` the drafted actions are due.
        actor: Who drafted it.

    Returns:
        The drafted plan (in ANALYSIS, or DETECTION when there are no findings).

    Raises:
        InvalidValue: No owner is given and the account has none.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.account import Account, Snapshot
        >>> from stars.recovery import detect, plan_for
        >>> t = datetime(2025, 5, 5, tzinfo=timezone.utc)
        >>> a = Account("a", stage="seed", snapshots=[Snapshot(at=t, adoption=0.1)])
        >>> plan = plan_for(detect(a), a, t, owner="sam")
        >>> plan.template.value, plan.root_causes, len(plan.actions)
        ('onboarding_education', ('onboarding_misaligned',), 5)
    """
    account = _need_account(account)
    items = v.tuple_of("findings", RiskFinding)(findings)
    v.aware("at", at)
    if not isinstance(due_in, timedelta) or due_in < timedelta(0):
        raise InvalidValue("due_in", due_in, "a timedelta of zero or more")
    owner = owner if owner is not None else account.owner
    if owner is None or not isinstance(owner, str) or not owner.strip():
        raise InvalidValue(
            "owner", owner, "a non-empty string", hint="pass owner= or set the account's owner"
        )
    ranked = sorted(items, key=lambda f: (-f.severity.rank, -f.risk_phase.rank))
    causes = tuple(dict.fromkeys(f.source for f in ranked if f.source is not None))
    attributed = [f for f in ranked if f.source is not None]
    template = template_for(attributed[0].risk_phase) if attributed else None
    due = at + due_in
    actions = [ActionItem(RISK_SOURCES[c].response, owner, due, source=c) for c in causes]
    if template is not None:
        actions += [ActionItem(text, owner, due) for text in template.actions]
    engine = process if process is not None else _default_process()
    if not isinstance(engine, RecoveryProcess):
        raise InvalidValue("process", engine, "a RecoveryProcess")
    plan = engine.open(account, at=at, plan_id=plan_id, owner=owner, findings=items, actor=actor)
    plan = attrs.evolve(
        plan,
        root_causes=causes,
        actions=tuple(actions),
        template=template.kind if template else None,
        version=plan.version + 1,
    )
    if items:
        plan = engine.fire(
            plan, "analyze", at=at, actor=actor, reason=f"drafted from {len(items)} finding(s)"
        )
    return plan


# --------------------------------------------------------------------------- triage
@attrs.frozen(slots=True)
class TriagePolicy:
    """Where the line between saving and releasing an account falls.

    Attributes:
        release_below: An ICP fit (0-1) below this is released whatever the effort.
        marginal_below: A fit below this is released when the expected effort is high.
        min_value_ratio: When the expected value and the cost to serve are given, the value
            must be at least this many times the cost, else the account is released.
        high_effort_value_ratio: The multiple needed instead when the effort is high: a save
            that takes more of the team's time must be worth more.

    Examples:
        >>> from stars.recovery import TriagePolicy
        >>> TriagePolicy().release_below, TriagePolicy().min_value_ratio
        (0.3, 1.0)
        >>> TriagePolicy(min_value_ratio=3)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: high_effort_value_ratio: got 2.0, expected a number at or ...
    """

    release_below: float = attrs.field(default=0.3, validator=_number(0, 1))
    marginal_below: float = attrs.field(default=0.6, validator=_number(0, 1))
    min_value_ratio: float = attrs.field(default=1.0, validator=_number(0))
    high_effort_value_ratio: float = attrs.field(default=2.0, validator=_number(0))

    def __attrs_post_init__(self) -> None:
        if self.marginal_below < self.release_below:
            raise InvalidValue(
                "marginal_below",
                self.marginal_below,
                f"a number at or above release_below ({self.release_below})",
            )
        if self.high_effort_value_ratio < self.min_value_ratio:
            raise InvalidValue(
                "high_effort_value_ratio",
                self.high_effort_value_ratio,
                f"a number at or above min_value_ratio ({self.min_value_ratio})",
            )


def _check_value_pair(expected_value: float | None, cost_to_serve: float | None) -> None:
    if (expected_value is None) == (cost_to_serve is None):
        return
    given, missing = (
        ("expected_value", "cost_to_serve")
        if cost_to_serve is None
        else ("cost_to_serve", "expected_value")
    )
    raise InvalidValue(
        missing,
        None,
        f"a number of 0 or more when {given} is given",
        hint="the expected value is weighed against the cost to serve: give both or neither",
    )


@attrs.frozen(slots=True)
class Triage:
    """A recommendation to save or release an account, with the expected effort and why.

    Attributes:
        decision: Save or release.
        effort: The expected effort to bring the account back to green.
        icp_fit: The fit with the ideal customer profile that was weighed (0-1).
        reasons: Why, in the order weighed; the last one (`reason`) is the deciding one.
        decided_by: The factor that decided (`TriageFactor`).
        expected_value: The expected value weighed, if one was given.
        cost_to_serve: The cost to serve weighed, if one was given (given with
            ``expected_value`` or not at all).

    Examples:
        >>> from stars.recovery import Triage
        >>> r = Triage("save", "low", 0.9, ("fits the ideal customer profile",))
        >>> r.decision.value, r.decided_by.value
        ('save', 'icp_fit')
        >>> Triage("save", "low", 0.9, (), expected_value=5000)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: cost_to_serve: got None, expected a number of 0 or more when ...
    """

    decision: TriageDecision = attrs.field(converter=_c_decision, validator=_member(TriageDecision))
    effort: Effort = attrs.field(converter=_c_effort, validator=_member(Effort))
    icp_fit: float = attrs.field(validator=_number(0, 1))
    reasons: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_each_text)
    decided_by: TriageFactor = attrs.field(
        default=TriageFactor.ICP_FIT, converter=_c_factor, validator=_member(TriageFactor)
    )
    expected_value: float | None = attrs.field(default=None, validator=v.optional_number(0))
    cost_to_serve: float | None = attrs.field(default=None, validator=v.optional_number(0))

    def __attrs_post_init__(self) -> None:
        _check_value_pair(self.expected_value, self.cost_to_serve)
        if self.decided_by is TriageFactor.EXPECTED_VALUE and self.expected_value is None:
            raise InvalidValue(
                "decided_by",
                self.decided_by.value,
                "'icp_fit' or 'effort' when no expected value is given",
            )

    @property
    def reason(self) -> str:
        """The deciding reason (the last of ``reasons``); from `triage` it names the factor.

        Examples:
            >>> from stars.recovery import Triage
            >>> Triage("release", "high", 0.1, ("health is red", "decided by ICP fit")).reason
            'decided by ICP fit'
        """
        return self.reasons[-1] if self.reasons else ""


def _amount(x: float) -> str:
    return f"{x:,.0f}" if x == round(x) or abs(x) >= 100 else f"{x:,.2f}"


def _value_reason(value: float, cost: float, need: float, high: bool, enough: bool) -> str:
    ratio = f" ({value / cost:.2f}x)" if cost else ""
    return (
        f"decided by expected value: {_amount(value)} expected against a cost to serve of "
        f"{_amount(cost)}{ratio}, {'at least' if enough else 'below'} the {need:g}x needed"
        + (" when the effort is high" if high else "")
    )


def triage(
    account: Account,
    icp_fit: float,
    *,
    expected_value: float | None = None,
    cost_to_serve: float | None = None,
    findings: Iterable[RiskFinding] | None = None,
    policy: TriagePolicy | None = None,
    detection: DetectionPolicy | None = None,
) -> Triage:
    """Recommend whether to spend recovery effort on an account or let it go.

    Three factors are weighed, in this order; the first that says "release" decides:

    1. **ICP fit**: a fit below ``release_below`` is released whatever else holds. A poor
       fit is better let go, so the team's time goes to accounts that fit and can grow.
    2. **Expected value**, when ``expected_value`` and ``cost_to_serve`` are given: a value
       below ``min_value_ratio`` times the cost (``high_effort_value_ratio`` times when the
       effort is HIGH) is released.
    3. **Effort**: a fit below ``marginal_below`` is released when the effort is HIGH.

    Otherwise the account is saved, decided by the expected value when it was given, else
    by the fit. `Triage.decided_by` names the deciding factor, and `Triage.reason` (the last
    of ``reasons``) says why, starting with "decided by".

    Effort is HIGH when the account is red, a finding is CRITICAL, or a late-phase risk
    source (ROI doubts, a proof-of-concept rerun, a competitor) is present; MEDIUM when a
    finding is HIGH, the account is yellow, or there are three findings or more; LOW
    otherwise.

    Args:
        account: The account.
        icp_fit: How well it matches the ideal customer profile, 0 to 1.
        expected_value: What keeping the account should bring (the renewal and the growth
            expected), 0 or more, in the same unit and over the same horizon as
            ``cost_to_serve``. Give both or neither.
        cost_to_serve: What keeping it will cost over that horizon (the team's time,
            support, the save itself), 0 or more.
        findings: The findings to weigh (default: `detect` on the account).
        policy: Where the lines fall.
        detection: Thresholds for detection and bands.

    Returns:
        The recommendation.

    Raises:
        InvalidValue: A number is out of range, or only one of ``expected_value`` and
            ``cost_to_serve`` is given.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.account import Account, Snapshot
        >>> from stars.recovery import triage
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> a = Account("a", stage="tact", snapshots=[Snapshot(at=t, health=25)])
        >>> r = triage(a, icp_fit=0.5)
        >>> r.decision.value, r.effort.value, r.decided_by.value
        ('release', 'high', 'effort')
        >>> triage(a, icp_fit=0.9).decision.value
        'save'
        >>> r = triage(a, icp_fit=0.9, expected_value=8_000, cost_to_serve=12_000)
        >>> r.decision.value, r.decided_by.value
        ('release', 'expected_value')
        >>> print(r.reason)  # doctest: +NORMALIZE_WHITESPACE
        decided by expected value: 8,000 expected against a cost to serve of 12,000 (0.67x),
        below the 2x needed when the effort is high
    """
    account = _need_account(account)
    fit = v.number("icp_fit", icp_fit, 0, 1)
    value = None if expected_value is None else v.number("expected_value", expected_value, 0)
    cost = None if cost_to_serve is None else v.number("cost_to_serve", cost_to_serve, 0)
    _check_value_pair(value, cost)
    if policy is None:
        policy = TriagePolicy()
    if not isinstance(policy, TriagePolicy):
        raise InvalidValue("policy", policy, "a TriagePolicy")
    detection = _check_policy(detection)
    found = (
        detect(account, policy=detection)
        if findings is None
        else list(v.tuple_of("findings", RiskFinding)(findings))
    )
    latest = account.latest
    band = None
    if latest is not None:
        band = latest.band if latest.health is None else detection.bands.band_for(latest.health)
    reasons: list[str] = []
    late = sorted({f.source for f in found if f.source and RISK_SOURCES[f.source].phase is _L})
    if band is Band.RED or any(f.severity is Severity.CRITICAL for f in found) or late:
        effort = Effort.HIGH
        if band is Band.RED:
            reasons.append("health is red")
        if any(f.severity is Severity.CRITICAL for f in found):
            reasons.append("a finding is critical")
        if late:
            reasons.append("late-phase risk present: " + ", ".join(late))
    elif band is Band.YELLOW or len(found) >= 3 or any(f.severity is Severity.HIGH for f in found):
        effort = Effort.MEDIUM
        reasons.append(
            f"{len(found)} finding(s)" + (", health is yellow" if band is Band.YELLOW else "")
        )
    else:
        effort = Effort.LOW
        reasons.append(f"{len(found)} finding(s) and no sign of deep trouble")
    high = effort is Effort.HIGH
    need = policy.high_effort_value_ratio if high else policy.min_value_ratio
    worth = None if value is None or cost is None else value >= cost * need
    if fit < policy.release_below:
        decision, factor = TriageDecision.RELEASE, TriageFactor.ICP_FIT
        reasons.append(
            f"decided by ICP fit: {fit:.2f} is below {policy.release_below:.2f}, a poor fit "
            "for the business, better to let it go"
        )
    elif value is not None and cost is not None and not worth:
        decision, factor = TriageDecision.RELEASE, TriageFactor.EXPECTED_VALUE
        reasons.append(_value_reason(value, cost, need, high, enough=False))
    elif fit < policy.marginal_below and high:
        decision, factor = TriageDecision.RELEASE, TriageFactor.EFFORT
        reasons.append(
            f"decided by effort: the effort is high and the ICP fit {fit:.2f} is below "
            f"{policy.marginal_below:.2f}"
        )
    elif value is not None and cost is not None:
        decision, factor = TriageDecision.SAVE, TriageFactor.EXPECTED_VALUE
        reasons.append(_value_reason(value, cost, need, high, enough=True))
    else:
        decision, factor = TriageDecision.SAVE, TriageFactor.ICP_FIT
        reasons.append(f"decided by ICP fit: {fit:.2f} justifies the effort")
    return Triage(decision, effort, fit, tuple(reasons), factor, value, cost)


# --------------------------------------------------------------------------- weekly update
@overload
def weekly_update(
    plan: RecoveryPlan,
    week: datetime,
    *,
    account_name: str | None = None,
    challenges: Iterable[str] = (),
    policy: RecoveryPolicy | None = None,
) -> str: ...


@overload
def weekly_update(
    *,
    week: datetime,
    account_name: str,
    band: Band | str | None = None,
    health: float | None = None,
    summary: str | None = None,
    done: Iterable[str] = (),
    next_steps: Iterable[str] = (),
    challenges: Iterable[str] = (),
    owner: str | None = None,
    stakeholders: Iterable[Stakeholder] = (),
    policy: RecoveryPolicy | None = None,
) -> str: ...


def weekly_update(
    plan: RecoveryPlan | None = None,
    week: datetime | None = None,
    *,
    account_name: str | None = None,
    band: Band | str | None = None,
    health: float | None = None,
    summary: str | None = None,
    done: Iterable[str] | None = None,
    next_steps: Iterable[str] | None = None,
    challenges: Iterable[str] = (),
    owner: str | None = None,
    stakeholders: Iterable[Stakeholder] | None = None,
    policy: RecoveryPolicy | None = None,
) -> str:
    """The weekly status note, in Markdown, from a recovery plan or from the facts alone.

    The note is addressed to every level of the customer team, from analyst to economic
    buyer (naming the people known at each level), so the people doing the work are seen by
    leadership and leadership sees how the investment is going. Sections: Executive summary,
    Done this week, Next steps, Challenges.

    Two forms, never mixed:

    - **From a plan** (``weekly_update(plan, week)``): the plan gives the status (its step
      and latest check-in), what was done that week, the open actions, the owner and the
      stakeholders, and adds blockers it can see (overdue actions, health not green,
      progress stalled). ``account_name`` and ``challenges`` may be added.
    - **From the facts** (``weekly_update(week=..., account_name=..., ...)``), for any
      implementation or account, with or without a plan: the status as ``band`` or
      ``health``, ``summary``, ``done``, ``next_steps``, ``challenges``, ``owner`` and
      ``stakeholders``.

    Passing a plan together with a fact the plan already gives (``band``, ``health``,
    ``summary``, ``done``, ``next_steps``, ``owner``, ``stakeholders``) is refused: which
    one should the note say?

    Args:
        plan: The plan (plan form only).
        week: The start of the week (timezone-aware); the week covers seven days.
        account_name: The account's or the implementation's name (default with a plan:
            the account id; required without one).
        band: The status band (facts form).
        health: The 0-100 health score (facts form); gives the band through
            ``policy.bands`` when ``band`` is not given.
        summary: The executive summary in the writer's words (facts form).
        done: What was done this week (facts form).
        next_steps: What comes next (facts form).
        challenges: Blockers and challenges (with a plan, added to the ones it shows).
        owner: Who sends the note, the vendor-side lead (facts form).
        stakeholders: The customer people to name at each level (facts form).
        policy: Thresholds (default `RecoveryPolicy`): the green streak goal with a plan,
            the band cut-offs for ``health`` without one.

    Returns:
        Markdown text.

    Raises:
        InvalidValue: A plan and a fact it already gives are both passed, no plan and no
            ``account_name``, ``week`` is missing or naive, or a fact is malformed.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.recovery import RecoveryProcess, weekly_update
        >>> plan = RecoveryProcess().open("acme", at=datetime(2025, 1, 6, tzinfo=timezone.utc))
        >>> note = weekly_update(plan, datetime(2025, 1, 6, tzinfo=timezone.utc))
        >>> print(note.splitlines()[0])
        # Weekly update: acme, week of 2025-01-06
        >>> [line for line in note.splitlines() if line.startswith("## ")]
        ['## Executive summary', '## Done this week', '## Next steps', '## Challenges']

        Without a plan, from the facts of an implementation:

        >>> note = weekly_update(
        ...     week=datetime(2025, 1, 6, tzinfo=timezone.utc),
        ...     account_name="Globex rollout",
        ...     health=74,
        ...     done=["SSO live for the finance team"],
        ...     next_steps=["Import the 2024 tickets"],
        ...     challenges=["Data export waits on their IT"],
        ...     owner="dana",
        ... )
        >>> print(note)  # doctest: +ELLIPSIS
        # Weekly update: Globex rollout, week of 2025-01-06
        <BLANKLINE>
        **To:** analyst; manager; director; executive; economic buyer
        **From:** dana
        <BLANKLINE>
        ## Executive summary
        <BLANKLINE>
        Health is green (74).
        <BLANKLINE>
        ## Done this week
        <BLANKLINE>
        - SSO live for the finance team
        ...
        >>> weekly_update(plan, datetime(2025, 1, 6, tzinfo=timezone.utc), health=74)
        ...     # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: health: got 74, expected None when a plan is given (the plan ...
    """
    start = v.aware("week", week)
    policy = policy if policy is not None else RecoveryPolicy()
    if not isinstance(policy, RecoveryPolicy):
        raise InvalidValue("policy", policy, "a RecoveryPolicy")
    if account_name is not None:
        v.text("account_name", account_name)
    extra = _texts("challenges")(challenges)
    facts: dict[str, object] = {
        "band": band,
        "health": health,
        "summary": summary,
        "done": done,
        "next_steps": next_steps,
        "owner": owner,
        "stakeholders": stakeholders,
    }
    if plan is None:
        if account_name is None:
            raise InvalidValue(
                "account_name",
                None,
                "a non-empty string when no plan is given",
                hint="pass a RecoveryPlan, or the facts: week, account_name, band or health, "
                "done, next_steps, challenges, owner",
            )
        return _update_from_facts(
            start,
            account_name,
            extra,
            policy,
            band=band,
            health=health,
            summary=summary,
            done=done,
            next_steps=next_steps,
            owner=owner,
            stakeholders=stakeholders,
        )
    plan = _check_plan(plan)
    for name, fact in facts.items():
        if fact is not None:
            raise InvalidValue(
                name,
                fact,
                "None when a plan is given",
                hint=f"the plan already gives the {name.replace('_', ' ')}: pass either a plan "
                "or the facts, not both; only account_name and challenges add to a plan's note",
            )
    return _update_from_plan(plan, start, account_name or plan.account_id, extra, policy)


def _update_from_facts(
    week: datetime,
    name: str,
    extra: tuple[str, ...],
    policy: RecoveryPolicy,
    *,
    band: Band | str | None,
    health: float | None,
    summary: str | None,
    done: Iterable[str] | None,
    next_steps: Iterable[str] | None,
    owner: str | None,
    stakeholders: Iterable[Stakeholder] | None,
) -> str:
    if health is not None:
        v.number("health", health, 0, 100)
    status = None if band is None else _enum(Band, "band")(band)
    if status is None and health is not None:
        status = policy.bands.band_for(health)
    if summary is not None:
        v.text("summary", summary)
    if owner is not None:
        v.text("owner", owner)
    did = _texts("done")(() if done is None else done)
    then = _texts("next_steps")(() if next_steps is None else next_steps)
    people = v.tuple_of("stakeholders", Stakeholder)(() if stakeholders is None else stakeholders)
    if status is None:
        lead = "No health reading this week."
    else:
        lead = f"Health is {status.value}" + (f" ({health:.0f})." if health is not None else ".")
    blockers = [f"Health is still {status.value}."] if status not in (None, Band.GREEN) else []
    return _render_update(
        name,
        week,
        people,
        owner,
        lead + (f" {summary}" if summary else ""),
        [f"- {item}" for item in did],
        [f"- {item}" for item in then],
        [*blockers, *extra],
    )


def _update_from_plan(
    plan: RecoveryPlan, week: datetime, name: str, extra: tuple[str, ...], policy: RecoveryPolicy
) -> str:
    end = week + timedelta(days=7)
    seen = [c for c in plan.check_ins if c.at < end]
    latest = seen[-1] if seen else None
    summary = f"The plan is in the {plan.step.value} step, {(end - plan.started_at).days} days in."
    if latest is not None:
        health = f" ({latest.health:.0f})" if latest.health is not None else ""
        summary += (
            f" Latest health is {latest.band.value}{health}; green for {plan.green_streak} "
            f"check-in(s) in a row, {policy.green_check_ins} needed to move to prevention."
        )
    else:
        summary += " No health check-in yet."
    if plan.root_causes:
        summary += " Root causes: " + ", ".join(c.replace("_", " ") for c in plan.root_causes) + "."
    done = [a for a in plan.actions if a.done_at is not None and week <= a.done_at < end]
    pending = [a for a in plan.actions if a.done_at is None or a.done_at >= end]
    pending.sort(key=lambda a: a.due)
    blockers = [
        f"Overdue: {a.objective.rstrip('.')} ({a.owner}, was due {_when(a.due)})"
        for a in pending
        if a.due < end
    ]
    if latest is not None and latest.band is not Band.GREEN:
        blockers.append(f"Health is still {latest.band.value}.")
    if plan.step is RecoveryStep.MONITORING and _g_stalled(plan, policy, None) is None:
        blockers.append("Progress has stalled; the plan needs adjusting.")
    return _render_update(
        name,
        week,
        plan.stakeholders,
        plan.owner,
        summary,
        [f"- {a.objective.rstrip('.')} ({a.owner})" for a in done],
        [f"- {a.objective.rstrip('.')} ({a.owner}, due {_when(a.due)})" for a in pending],
        [*blockers, *extra],
    )


def _render_update(
    name: str,
    week: datetime,
    stakeholders: Sequence[Stakeholder],
    owner: str | None,
    summary: str,
    done: list[str],
    pending: list[str],
    blockers: list[str],
) -> str:
    to = []
    for level in StakeholderLevel:
        people = [s.name for s in stakeholders if s.level is level]
        label = level.value.replace("_", " ")
        to.append(f"{label} ({', '.join(people)})" if people else label)
    lines = [f"# Weekly update: {name}, week of {_when(week)}", ""]
    lines += ["**To:** " + "; ".join(to)]
    lines += [f"**From:** {owner}"] if owner else []
    lines += ["", "## Executive summary", "", summary, ""]
    lines += ["## Done this week", "", *(done or ["- Nothing completed this week."]), ""]
    lines += ["## Next steps", "", *(pending or ["- No open actions."]), ""]
    lines += ["## Challenges", "", *([f"- {b}" for b in blockers] or ["- None reported."])]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- handoff audit
@attrs.frozen(slots=True)
class HandoffChecklist:
    """What must pass from sales to success so the customer never repeats themselves.

    Fill what is known; `audit_handoff` reports what is missing.

    Attributes:
        goals: The customer's business goals.
        technical_objectives: What the customer needs technically.
        purchased: What was bought.
        success_metrics: How the customer will judge success.
        stakeholders: Who is who on the customer side.
        target_date: When the first outcome is due (the plan is time-bound).
        customer_committed: The customer confirmed they are bought in and will put people on it.
        communication_cadence: How and how often the teams will talk.
        promises: What sales promised beyond the contract (may be empty).

    Examples:
        >>> from stars.recovery import HandoffChecklist
        >>> HandoffChecklist(goals=["cut onboarding time"]).goals
        ('cut onboarding time',)
    """

    goals: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple, validator=_each_text)
    technical_objectives: tuple[str, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_each_text
    )
    purchased: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple, validator=_each_text)
    success_metrics: tuple[str, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_each_text
    )
    stakeholders: tuple[Stakeholder, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_each(Stakeholder)
    )
    target_date: datetime | None = attrs.field(default=None, validator=_optional_aware)
    customer_committed: bool = attrs.field(default=False)
    communication_cadence: str = attrs.field(default="", validator=_any_text)
    promises: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple, validator=_each_text)

    @customer_committed.validator
    def _check_committed(self, attribute: Any, value: Any) -> None:
        v.flag("customer_committed", value)


_HANDOFF_QUESTIONS: Final = {
    "goals": "What business goals is the customer pursuing?",
    "technical_objectives": "What must work technically for them?",
    "purchased": "What exactly did they buy?",
    "success_metrics": "How will they measure success?",
    "stakeholders": "Who are the people involved, at more than one level?",
    "target_date": "By when should the first outcome land?",
    "customer_committed": "Has the customer confirmed they are committed?",
    "communication_cadence": "How often, and how, will the teams talk?",
}


@attrs.frozen(slots=True)
class HandoffAudit:
    """What a handoff record left out.

    Attributes:
        missing: The checklist fields that are empty (or too thin).
        questions: The question to ask for each missing field, in the same order.

    Examples:
        >>> from stars.recovery import HandoffChecklist, audit_handoff
        >>> audit_handoff(HandoffChecklist()).complete
        False
    """

    missing: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_each_text)
    questions: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_each_text)

    @property
    def complete(self) -> bool:
        """True when nothing is missing.

        Examples:
            >>> from stars.recovery import HandoffAudit
            >>> HandoffAudit((), ()).complete
            True
        """
        return not self.missing

    @property
    def score(self) -> float:
        """The share of checklist items present, 0 to 1.

        Examples:
            >>> from stars.recovery import HandoffAudit
            >>> HandoffAudit(("goals", "purchased"), ("?", "?")).score
            0.75
        """
        return 1 - len(self.missing) / len(_HANDOFF_QUESTIONS)

    def _repr_html_(self) -> str:
        rows = [(m, q) for m, q in zip(self.missing, self.questions, strict=True)]
        caption = f"Handoff audit: {self.score:.0%} complete"
        return table(("missing", "ask"), rows, caption=caption)


def audit_handoff(record: HandoffChecklist) -> HandoffAudit:
    """Check a handoff record and list what is missing.

    Stakeholders count as present only when they span at least two levels of the
    customer, since one contact cannot carry the relationship.

    Args:
        record: The filled checklist.

    Returns:
        The audit.

    Examples:
        >>> from stars.recovery import HandoffChecklist, Stakeholder, audit_handoff
        >>> record = HandoffChecklist(goals=["faster month-end close"], purchased=["core"],
        ...                           stakeholders=[Stakeholder("Ana", "analyst")])
        >>> audit = audit_handoff(record)
        >>> audit.missing[:3], len(audit.missing)
        (('technical_objectives', 'success_metrics', 'stakeholders'), 6)
    """
    if not isinstance(record, HandoffChecklist):
        raise InvalidValue("record", record, "a HandoffChecklist")
    present = {
        "goals": bool(record.goals),
        "technical_objectives": bool(record.technical_objectives),
        "purchased": bool(record.purchased),
        "success_metrics": bool(record.success_metrics),
        "stakeholders": len({s.level for s in record.stakeholders}) >= 2,
        "target_date": record.target_date is not None,
        "customer_committed": record.customer_committed,
        "communication_cadence": bool(record.communication_cadence.strip()),
    }
    missing = tuple(name for name in _HANDOFF_QUESTIONS if not present[name])
    return HandoffAudit(missing, tuple(_HANDOFF_QUESTIONS[m] for m in missing))


# --------------------------------------------------------------------------- playbooks
@attrs.frozen(slots=True)
class PlaybookEntry:
    """How plans with one root cause and one template turned out.

    Attributes:
        root_cause: The root cause.
        template: The template the plans followed (``None``: no template).
        plans: Plans that ended recovered or lost.
        recovered: How many of them closed recovered.
        median_days: Median days from opening to recovery (``None`` if none recovered).
        lessons: The lessons those plans recorded.

    Examples:
        >>> from stars.recovery import PlaybookEntry
        >>> PlaybookEntry("support_strain", None, 4, 3, 41.0, ()).recovery_rate
        0.75
    """

    root_cause: str = attrs.field(converter=_root_cause)
    template: TemplateKind | None = attrs.field(
        converter=_c_template, validator=_member(TemplateKind, optional=True)
    )
    plans: int = attrs.field(validator=_number(1, integer=True))
    recovered: int = attrs.field(validator=_number(0, integer=True))
    median_days: float | None = attrs.field(validator=v.optional_number(0))
    lessons: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_each_text)

    @property
    def recovery_rate(self) -> float:
        """Recovered plans over plans that ended recovered or lost.

        Examples:
            >>> from stars.recovery import PlaybookEntry
            >>> PlaybookEntry("strategy_change", None, 2, 0, None, ()).recovery_rate
            0.0
        """
        return self.recovered / self.plans


@attrs.frozen(slots=True)
class PlaybookLibrary:
    """What ended plans teach: per root cause and template, how often and how fast they recovered.

    Build it with `from_plans`. Plans still running are skipped, and so are released
    plans: letting a poor-fit account go says nothing about whether a playbook works.

    Attributes:
        entries: One entry per (root cause, template), best recovery rate first.
        skipped: How many plans were left out (still open or released).

    Examples:
        >>> from stars.recovery import PlaybookLibrary
        >>> PlaybookLibrary.from_plans([]).entries
        ()
    """

    entries: tuple[PlaybookEntry, ...] = attrs.field(
        converter=_as_tuple, validator=_each(PlaybookEntry)
    )
    skipped: int = attrs.field(default=0, validator=_number(0, integer=True))

    @classmethod
    def from_plans(cls, plans: Iterable[RecoveryPlan]) -> PlaybookLibrary:
        """Summarise ended plans per root cause and template.

        A plan with several root causes counts once under each.

        Examples:
            >>> from stars.recovery import PlaybookLibrary
            >>> PlaybookLibrary.from_plans([]).skipped
            0
        """
        items = v.tuple_of("plans", RecoveryPlan)(plans)
        groups: dict[tuple[str, TemplateKind | None], list[RecoveryPlan]] = {}
        skipped = 0
        for plan in items:
            if plan.step not in (RecoveryStep.CLOSED, RecoveryStep.LOST):
                skipped += 1
                continue
            for cause in plan.root_causes:
                groups.setdefault((cause, plan.template), []).append(plan)
        entries = []
        for (cause, template), group in groups.items():
            days = [p.days_to_recover for p in group if p.days_to_recover is not None]
            entries.append(
                PlaybookEntry(
                    cause,
                    template,
                    len(group),
                    len(days),
                    statistics.median(days) if days else None,
                    tuple(dict.fromkeys(lesson for p in group for lesson in p.lessons)),
                )
            )
        entries.sort(key=lambda e: (-e.recovery_rate, -e.plans, e.root_cause, e.template or ""))
        return cls(tuple(entries), skipped)

    def for_cause(self, cause: str | BreakdownCause | RiskSource) -> tuple[PlaybookEntry, ...]:
        """The entries for one root cause, best recovery rate first.

        Raises:
            UnknownName: ``cause`` is not a known root cause.

        Examples:
            >>> from stars.recovery import PlaybookLibrary
            >>> PlaybookLibrary.from_plans([]).for_cause("support_strain")
            ()
        """
        name = _root_cause(cause)
        return tuple(e for e in self.entries if e.root_cause == name)

    def _repr_html_(self) -> str:
        rows = [
            (
                e.root_cause,
                e.template.value if e.template else None,
                e.plans,
                e.recovered,
                f"{e.recovery_rate:.0%}",
                e.median_days,
            )
            for e in self.entries
        ]
        return table(
            ("root cause", "template", "plans", "recovered", "rate", "median days"),
            rows,
            caption="Playbook library",
        )


# --------------------------------------------------------------------------- lifecycle link
class LifecycleLink:
    """Connects a recovery process to a lifecycle: plan moves fire lifecycle triggers.

    Made by `link_lifecycle`. While ``enabled``:

    - opening a plan for an account in a growth stage moves it into the crisis stage the
      evidence supports: ``escalate`` (to TACT) when the lifecycle's guards allow it,
      otherwise ``stagnate`` (to RESET) when they allow that; otherwise nothing moves;
    - closing a plan recovered moves an account in TACT with ``stabilize`` and one in
      RESET with ``realign``; the lifecycle's guards still apply, and a refusal surfaces
      as `HookFailed` (the closed plan is ``err.record``);
    - losing a plan fires ``lose`` unless the account already churned.

    Each lifecycle transition carries a reason naming the plan. The account must be
    passed to `RecoveryProcess.open` / `RecoveryProcess.fire` as an
    `Account`; without it the hooks do nothing.

    Examples:
        >>> from stars.lifecycle import STARS
        >>> from stars.recovery import RecoveryProcess, link_lifecycle
        >>> link = link_lifecycle(RecoveryProcess(), STARS.evolve())
        >>> link.enabled
        False
    """

    def __init__(self, process: RecoveryProcess, lifecycle: Lifecycle, enabled: bool) -> None:
        self.process = process
        self.lifecycle = lifecycle
        self.enabled = v.flag("enabled", enabled)
        self._hooks: tuple[RecoveryHook, ...] = (
            process.after("open")(self._on_open),
            process.after("close")(self._on_close),
            process.after("lose")(self._on_lose),
        )

    def enable(self) -> None:
        """Turn the link on.

        Examples:
            >>> from stars.lifecycle import STARS
            >>> from stars.recovery import RecoveryProcess, link_lifecycle
            >>> link = link_lifecycle(RecoveryProcess(), STARS.evolve())
            >>> link.enable(); link.enabled
            True
        """
        self.enabled = True

    def disable(self) -> None:
        """Turn the link off (the hooks stay registered but do nothing).

        Examples:
            >>> from stars.lifecycle import STARS
            >>> from stars.recovery import RecoveryProcess, link_lifecycle
            >>> link = link_lifecycle(RecoveryProcess(), STARS.evolve(), enabled=True)
            >>> link.disable(); link.enabled
            False
        """
        self.enabled = False

    def unlink(self) -> None:
        """Remove the link's hooks from the process.

        Examples:
            >>> from stars.lifecycle import STARS
            >>> from stars.recovery import RecoveryProcess, link_lifecycle
            >>> process = RecoveryProcess()
            >>> link_lifecycle(process, STARS.evolve()).unlink()
        """
        for hook in self._hooks:
            self.process.remove_hook(hook)

    def _fire(self, event: RecoveryEvent, trigger: str, why: str) -> None:
        assert event.account is not None
        self.lifecycle.fire(
            event.account,
            trigger,
            at=event.at,
            actor=event.actor,
            reason=f"recovery plan {event.plan.id!r} {why}",
        )

    def _on_open(self, event: RecoveryEvent) -> None:
        account = event.account
        if not self.enabled or account is None:
            return
        if self.lifecycle.kind_of(account.stage).value != "growth":
            return
        for trigger in ("escalate", "stagnate"):
            if trigger in self.lifecycle.triggers:
                verdict = self.lifecycle.check(account, trigger, at=event.at)
                if verdict.allowed:
                    self._fire(event, trigger, "opened")
                    return

    def _on_close(self, event: RecoveryEvent) -> None:
        account = event.account
        if not self.enabled or account is None:
            return
        trigger = {"tact": "stabilize", "reset": "realign"}.get(account.stage)
        if trigger is not None:
            self._fire(event, trigger, "closed recovered")

    def _on_lose(self, event: RecoveryEvent) -> None:
        account = event.account
        if not self.enabled or account is None:
            return
        if "lose" in self.lifecycle.triggers and self.lifecycle.kind_of(account.stage).value in (
            "growth",
            "crisis",
        ):
            self._fire(event, "lose", "ended lost")


def link_lifecycle(
    process: RecoveryProcess, lifecycle: Lifecycle, *, enabled: bool = False
) -> LifecycleLink:
    """Link a recovery process to a lifecycle, so plans move the account's stage.

    The link is off by default, for teams that drive the lifecycle themselves; turn it
    on with ``enabled=True`` or `LifecycleLink.enable`. See `LifecycleLink`
    for what it fires.

    Args:
        process: The recovery process whose plans drive the account.
        lifecycle: The lifecycle that moves the account (usually ``STARS`` or a copy).
        enabled: Start enabled.

    Returns:
        The link.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.account import Account, Snapshot
        >>> from stars.lifecycle import STARS
        >>> from stars.recovery import RecoveryProcess, link_lifecycle
        >>> process = RecoveryProcess()
        >>> _ = link_lifecycle(process, STARS, enabled=True)
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> a = Account("a", stage="ascend", snapshots=[Snapshot(at=t, health=30)])
        >>> _ = process.open(a, at=t)
        >>> a.stage, a.history[-1].reason
        ('tact', "recovery plan 'a-2025-01-01' opened")
    """
    if not isinstance(process, RecoveryProcess):
        raise InvalidValue("process", process, "a RecoveryProcess")
    from stars.lifecycle import Lifecycle

    if not isinstance(lifecycle, Lifecycle):
        raise InvalidValue("lifecycle", lifecycle, "a Lifecycle")
    return LifecycleLink(process, lifecycle, enabled)
