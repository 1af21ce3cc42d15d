"""stars: the STARS lifecycle of B2B customer relationships.

Example:
    >>> import stars
    >>> stars.Stage.SEED.profile.posture
    ('builder', 'consultant')
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from stars.account import Account, DepthPoint, Snapshot, TransitionRecord
from stars.bands import Band, BandCutoffs
from stars.cycles import CycleEpisode, EpisodeOutcome, episodes
from stars.depth import (
    GUIDANCE as DEPTH_GUIDANCE,
)
from stars.depth import (
    BreakdownCause,
    CompanyMaturity,
    ContactPattern,
    Depth,
    DepthAssessment,
    DepthEvidence,
    DepthGuidance,
    DepthMovement,
    DepthPolicy,
    Disagreement,
    DwellAction,
    DwellAdvice,
    KeyAccountCheck,
    MovementDirection,
    Requirement,
    TwoSidedDepth,
    ValueConcentration,
    depth_movements,
    depth_since,
    dwell_advice,
    key_account_check,
    record_depth,
    value_concentration,
)
from stars.depth import (
    assess as assess_depth,
)
from stars.depth import (
    guidance as depth_guidance,
)
from stars.depth import (
    requirements as depth_requirements,
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
from stars.journey import (
    PHASE_PROFILES,
    Alignment,
    CustomerJourney,
    Journey,
    JourneyHook,
    JourneyPolicy,
    Phase,
    PhaseProfile,
    PhaseRecord,
    Team,
    ValueCase,
    check_alignment,
    phases_for,
)
from stars.lifecycle import (
    GUARDS,
    STARS,
    STARS_STAGES,
    STARS_TRANSITIONS,
    Diagnosis,
    Event,
    Evidence,
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
    handover_brief,
)
from stars.maturity import (
    Answer,
    Area,
    AreaChange,
    AreaResult,
    Indicator,
    Level,
    MaturityComparison,
    MaturityReport,
    MissingAnswers,
    Questionnaire,
    default_questionnaire,
)
from stars.maturity import (
    assess as assess_maturity,
)
from stars.maturity import (
    compare as compare_maturity,
)
from stars.maturity import (
    load_answers as load_maturity_answers,
)
from stars.maturity import (
    plot_radar as plot_maturity_radar,
)
from stars.stages import Cycle, Stage, StageKind, StageProfile

try:
    __version__ = version("stars")
except PackageNotFoundError:  # pragma: no cover - only when run from a source tree
    __version__ = "0+unknown"

__all__ = [
    "DEPTH_GUIDANCE",
    "GUARDS",
    "PHASE_PROFILES",
    "STARS",
    "STARS_STAGES",
    "STARS_TRANSITIONS",
    "Account",
    "Alignment",
    "Answer",
    "Area",
    "AreaChange",
    "AreaResult",
    "Band",
    "BandCutoffs",
    "BreakdownCause",
    "CompanyMaturity",
    "ConcurrentModification",
    "ContactPattern",
    "CustomerJourney",
    "Cycle",
    "CycleEpisode",
    "Depth",
    "DepthAssessment",
    "DepthEvidence",
    "DepthGuidance",
    "DepthMovement",
    "DepthPoint",
    "DepthPolicy",
    "Diagnosis",
    "Disagreement",
    "DwellAction",
    "DwellAdvice",
    "EpisodeOutcome",
    "Event",
    "Evidence",
    "Guard",
    "GuardContext",
    "HookEvent",
    "HookFailed",
    "Indicator",
    "InvalidDefinition",
    "InvalidSignal",
    "InvalidValue",
    "Journey",
    "JourneyHook",
    "JourneyPolicy",
    "KeyAccountCheck",
    "Level",
    "Lifecycle",
    "MaturityComparison",
    "MaturityReport",
    "MissingAnswers",
    "MissingDependency",
    "MovementDirection",
    "OutOfOrder",
    "Phase",
    "PhaseProfile",
    "PhaseRecord",
    "Policy",
    "Questionnaire",
    "Requirement",
    "SchemaError",
    "Snapshot",
    "Stage",
    "StageDef",
    "StageKind",
    "StageProfile",
    "StarsError",
    "Team",
    "TransitionDef",
    "TransitionNotAllowed",
    "TransitionRecord",
    "TransitionRefused",
    "TransitionVetoed",
    "TwoSidedDepth",
    "UnknownName",
    "ValueCase",
    "ValueConcentration",
    "Verdict",
    "assess_depth",
    "assess_maturity",
    "check_alignment",
    "compare_maturity",
    "default_questionnaire",
    "depth_guidance",
    "depth_movements",
    "depth_requirements",
    "depth_since",
    "diagnose_stars",
    "dwell_advice",
    "episodes",
    "evidence",
    "handover_brief",
    "key_account_check",
    "load_maturity_answers",
    "phases_for",
    "plot_maturity_radar",
    "record_depth",
    "value_concentration",
]
