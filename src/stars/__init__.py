"""stars: the STARS lifecycle of B2B customer relationships.

The top level holds the core: stages and bands, `Account` and `Snapshot` with their
records, the lifecycle engine and `STARS`, events, and the errors. Everything else lives in
its own module and is imported from there (``from stars.portfolio import Portfolio``); each
module loads on first use, so ``import stars`` stays quick and light.

Names that used to be re-exported here still work for one release, with a
`DeprecationWarning` that names the module to import from (CHANGELOG.md lists them).

Examples:
    >>> import stars
    >>> stars.Stage.SEED.profile.posture
    ('builder', 'consultant')
    >>> from stars.health import default_scorecard
    >>> default_scorecard().names[0]
    'adoption'
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

from stars.account import (
    Account,
    DepthPoint,
    OwnerChange,
    Snapshot,
    TransitionRecord,
    reassign,
)
from stars.bands import (
    Band,
    BandCutoffs,
)
from stars.errors import (
    ConcurrentModification,
    HookFailed,
    InvalidDefinition,
    InvalidSignal,
    InvalidValue,
    MissingDependency,
    OutOfOrder,
    SchemaError,
    StarsError,
    TransitionNotAllowed,
    TransitionRefused,
    TransitionVetoed,
    UnknownName,
)
from stars.lifecycle import (
    GUARDS,
    STARS,
    STARS_STAGES,
    STARS_TRANSITIONS,
    Event,
    Guard,
    GuardContext,
    HookEvent,
    Lifecycle,
    Policy,
    StageDef,
    TransitionDef,
    Verdict,
    diagnose_stars,
    evidence,
)
from stars.stages import (
    Cycle,
    Stage,
    StageKind,
    StageProfile,
)

if TYPE_CHECKING:
    from stars.cycles import CycleEpisode, EpisodeOutcome, episodes
    from stars.lifecycle import Diagnosis, Evidence, handover_brief

# Core names that load on first use: the episode walk, the hand-over brief and the diagnosis
# results are not needed to fire or observe, and building them here cost about a fifth of
# what ``import stars`` adds to ``import transitions, attrs``.
_LAZY: dict[str, str] = {
    "Diagnosis": "stars.lifecycle",
    "Evidence": "stars.lifecycle",
    "CycleEpisode": "stars.cycles",
    "EpisodeOutcome": "stars.cycles",
    "episodes": "stars.cycles",
    "handover_brief": "stars.lifecycle",
}

# Names re-exported here before 0.2, kept for one release with a DeprecationWarning. The
# renamed ones (``assess_depth``) point at their real name in their module (``stars.depth.assess``).
_MOVED: dict[str, tuple[str, str]] = {
    "Backtest": ("stars.backtesting", "Backtest"),
    "BandOutcome": ("stars.backtesting", "BandOutcome"),
    "Calibration": ("stars.backtesting", "Calibration"),
    "DecileOutcome": ("stars.backtesting", "DecileOutcome"),
    "GroupAUC": ("stars.backtesting", "GroupAUC"),
    "MeasureCheck": ("stars.backtesting", "MeasureCheck"),
    "Percentile": ("stars.backtesting", "Percentile"),
    "backtest": ("stars.backtesting", "backtest"),
    "calibrate": ("stars.backtesting", "calibrate"),
    "fit_percentile": ("stars.backtesting", "fit_percentile"),
    "DEPTH_GUIDANCE": ("stars.depth", "GUIDANCE"),
    "BreakdownCause": ("stars.depth", "BreakdownCause"),
    "CompanyMaturity": ("stars.depth", "CompanyMaturity"),
    "ContactPattern": ("stars.depth", "ContactPattern"),
    "Depth": ("stars.depth", "Depth"),
    "DepthAssessment": ("stars.depth", "DepthAssessment"),
    "DepthEvidence": ("stars.depth", "DepthEvidence"),
    "DepthGuidance": ("stars.depth", "DepthGuidance"),
    "DepthMovement": ("stars.depth", "DepthMovement"),
    "DepthPolicy": ("stars.depth", "DepthPolicy"),
    "Disagreement": ("stars.depth", "Disagreement"),
    "DwellAction": ("stars.depth", "DwellAction"),
    "DwellAdvice": ("stars.depth", "DwellAdvice"),
    "KeyAccountCheck": ("stars.depth", "KeyAccountCheck"),
    "MovementDirection": ("stars.depth", "MovementDirection"),
    "Requirement": ("stars.depth", "Requirement"),
    "TwoSidedDepth": ("stars.depth", "TwoSidedDepth"),
    "ValueConcentration": ("stars.depth", "ValueConcentration"),
    "assess_depth": ("stars.depth", "assess"),
    "depth_guidance": ("stars.depth", "guidance"),
    "depth_movements": ("stars.depth", "depth_movements"),
    "depth_requirements": ("stars.depth", "requirements"),
    "depth_since": ("stars.depth", "depth_since"),
    "dwell_advice": ("stars.depth", "dwell_advice"),
    "key_account_check": ("stars.depth", "key_account_check"),
    "record_depth": ("stars.depth", "record_depth"),
    "value_concentration": ("stars.depth", "value_concentration"),
    "Direction": ("stars.health", "Direction"),
    "HealthScore": ("stars.health", "HealthScore"),
    "Linear": ("stars.health", "Linear"),
    "Measure": ("stars.health", "Measure"),
    "MissingPolicy": ("stars.health", "MissingPolicy"),
    "Scorecard": ("stars.health", "Scorecard"),
    "ScorecardSet": ("stars.health", "ScorecardSet"),
    "Steps": ("stars.health", "Steps"),
    "Trend": ("stars.health", "Trend"),
    "TrendDirection": ("stars.health", "TrendDirection"),
    "default_scorecard": ("stars.health", "default_scorecard"),
    "default_scorecard_set": ("stars.health", "default_scorecard_set"),
    "measures_from": ("stars.health", "measures_from"),
    "trend": ("stars.health", "trend"),
    "PHASE_PROFILES": ("stars.journey", "PHASE_PROFILES"),
    "Alignment": ("stars.journey", "Alignment"),
    "CustomerJourney": ("stars.journey", "CustomerJourney"),
    "Journey": ("stars.journey", "Journey"),
    "JourneyHook": ("stars.journey", "JourneyHook"),
    "JourneyPolicy": ("stars.journey", "JourneyPolicy"),
    "Phase": ("stars.journey", "Phase"),
    "PhaseProfile": ("stars.journey", "PhaseProfile"),
    "PhaseRecord": ("stars.journey", "PhaseRecord"),
    "Team": ("stars.journey", "Team"),
    "ValueCase": ("stars.journey", "ValueCase"),
    "check_alignment": ("stars.journey", "check_alignment"),
    "phases_for": ("stars.journey", "phases_for"),
    "Answer": ("stars.maturity", "Answer"),
    "Area": ("stars.maturity", "Area"),
    "AreaChange": ("stars.maturity", "AreaChange"),
    "AreaResult": ("stars.maturity", "AreaResult"),
    "Indicator": ("stars.maturity", "Indicator"),
    "Level": ("stars.maturity", "Level"),
    "MaturityComparison": ("stars.maturity", "MaturityComparison"),
    "MaturityReport": ("stars.maturity", "MaturityReport"),
    "MissingAnswers": ("stars.maturity", "MissingAnswers"),
    "Questionnaire": ("stars.maturity", "Questionnaire"),
    "assess_maturity": ("stars.maturity", "assess"),
    "compare_maturity": ("stars.maturity", "compare"),
    "default_questionnaire": ("stars.maturity", "default_questionnaire"),
    "load_maturity_answers": ("stars.maturity", "load_answers"),
    "plot_maturity_radar": ("stars.maturity", "plot_radar"),
    "Cohort": ("stars.portfolio", "Cohort"),
    "EpisodeStats": ("stars.portfolio", "EpisodeStats"),
    "ForecastBacktest": ("stars.portfolio", "ForecastBacktest"),
    "Portfolio": ("stars.portfolio", "Portfolio"),
    "RecoveryCurve": ("stars.portfolio", "RecoveryCurve"),
    "RiskEntry": ("stars.portfolio", "RiskEntry"),
    "StageDistribution": ("stars.portfolio", "StageDistribution"),
    "TransitionMatrix": ("stars.portfolio", "TransitionMatrix"),
    "LEADING_INDICATORS": ("stars.recovery", "LEADING_INDICATORS"),
    "RECOVERY_TEMPLATES": ("stars.recovery", "TEMPLATES"),
    "RISK_SOURCES": ("stars.recovery", "RISK_SOURCES"),
    "ActionItem": ("stars.recovery", "ActionItem"),
    "CheckIn": ("stars.recovery", "CheckIn"),
    "DetectionPolicy": ("stars.recovery", "DetectionPolicy"),
    "Effort": ("stars.recovery", "Effort"),
    "HandoffAudit": ("stars.recovery", "HandoffAudit"),
    "HandoffChecklist": ("stars.recovery", "HandoffChecklist"),
    "LifecycleLink": ("stars.recovery", "LifecycleLink"),
    "PlanTemplate": ("stars.recovery", "PlanTemplate"),
    "PlaybookEntry": ("stars.recovery", "PlaybookEntry"),
    "PlaybookLibrary": ("stars.recovery", "PlaybookLibrary"),
    "RecoveryEvent": ("stars.recovery", "RecoveryEvent"),
    "RecoveryPlan": ("stars.recovery", "RecoveryPlan"),
    "RecoveryPolicy": ("stars.recovery", "RecoveryPolicy"),
    "RecoveryProcess": ("stars.recovery", "RecoveryProcess"),
    "RecoveryStep": ("stars.recovery", "RecoveryStep"),
    "RelationshipPhase": ("stars.recovery", "RelationshipPhase"),
    "RiskEvidence": ("stars.recovery", "RiskEvidence"),
    "RiskFinding": ("stars.recovery", "RiskFinding"),
    "RiskSource": ("stars.recovery", "RiskSource"),
    "Severity": ("stars.recovery", "Severity"),
    "SignalKind": ("stars.recovery", "SignalKind"),
    "Stakeholder": ("stars.recovery", "Stakeholder"),
    "StakeholderLevel": ("stars.recovery", "StakeholderLevel"),
    "StepRecord": ("stars.recovery", "StepRecord"),
    "TemplateKind": ("stars.recovery", "TemplateKind"),
    "Triage": ("stars.recovery", "Triage"),
    "TriageDecision": ("stars.recovery", "TriageDecision"),
    "TriagePolicy": ("stars.recovery", "TriagePolicy"),
    "audit_handoff": ("stars.recovery", "audit_handoff"),
    "detect_risks": ("stars.recovery", "detect"),
    "link_lifecycle": ("stars.recovery", "link_lifecycle"),
    "plan_for": ("stars.recovery", "plan_for"),
    "relationship_phase": ("stars.recovery", "relationship_phase"),
    "template_for": ("stars.recovery", "template_for"),
    "triage_account": ("stars.recovery", "triage"),
    "weekly_update": ("stars.recovery", "weekly_update"),
    "Report": ("stars.report", "Report"),
    "build_report": ("stars.report", "build_report"),
}
_SUBMODULES = frozenset(
    {
        "backtesting",
        "cli",
        "contracts",
        "crm",
        "demo",
        "depth",
        "derive",
        "forecast",
        "frames",
        "health",
        "io",
        "journey",
        "maturity",
        "plots",
        "portfolio",
        "recovery",
        "report",
        "store",
        "testing",
        "timeline",
    }
)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _MOVED:
        module, attr = _MOVED[name]
        warnings.warn(
            f"stars.{name} is deprecated and goes in the next release: "
            f"use `from {module} import {attr}`",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(module), attr)
    if name in _SUBMODULES:
        return importlib.import_module(f"stars.{name}")
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("stars-lifecycle")
        except PackageNotFoundError:  # pragma: no cover - only when run from a source tree
            found = "0+unknown"
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module 'stars' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*__all__, *_SUBMODULES, "__version__"})


__all__ = [
    "GUARDS",
    "STARS",
    "STARS_STAGES",
    "STARS_TRANSITIONS",
    "Account",
    "Band",
    "BandCutoffs",
    "ConcurrentModification",
    "Cycle",
    "CycleEpisode",
    "DepthPoint",
    "Diagnosis",
    "EpisodeOutcome",
    "Event",
    "Evidence",
    "Guard",
    "GuardContext",
    "HookEvent",
    "HookFailed",
    "InvalidDefinition",
    "InvalidSignal",
    "InvalidValue",
    "Lifecycle",
    "MissingDependency",
    "OutOfOrder",
    "OwnerChange",
    "Policy",
    "SchemaError",
    "Snapshot",
    "Stage",
    "StageDef",
    "StageKind",
    "StageProfile",
    "StarsError",
    "TransitionDef",
    "TransitionNotAllowed",
    "TransitionRecord",
    "TransitionRefused",
    "TransitionVetoed",
    "UnknownName",
    "Verdict",
    "diagnose_stars",
    "episodes",
    "evidence",
    "handover_brief",
    "reassign",
]
