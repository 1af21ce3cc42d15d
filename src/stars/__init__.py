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
]
