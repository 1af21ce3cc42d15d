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
from stars.stages import Cycle, Stage, StageKind, StageProfile

try:
    __version__ = version("stars")
except PackageNotFoundError:  # pragma: no cover - only when run from a source tree
    __version__ = "0+unknown"

__all__ = [
    "DEPTH_GUIDANCE",
    "GUARDS",
    "STARS",
    "STARS_STAGES",
    "STARS_TRANSITIONS",
    "Account",
    "Band",
    "BandCutoffs",
    "BreakdownCause",
    "CompanyMaturity",
    "ConcurrentModification",
    "ContactPattern",
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
    "InvalidDefinition",
    "InvalidSignal",
    "InvalidValue",
    "KeyAccountCheck",
    "Lifecycle",
    "MissingDependency",
    "MovementDirection",
    "OutOfOrder",
    "Policy",
    "Requirement",
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
    "TwoSidedDepth",
    "UnknownName",
    "ValueConcentration",
    "Verdict",
    "assess_depth",
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
    "record_depth",
    "value_concentration",
]
