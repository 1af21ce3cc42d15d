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
from stars.stages import Cycle, Stage, StageKind, StageProfile

try:
    __version__ = version("stars")
except PackageNotFoundError:  # pragma: no cover - only when run from a source tree
    __version__ = "0+unknown"

__all__ = [
    "Account",
    "Band",
    "BandCutoffs",
    "ConcurrentModification",
    "Cycle",
    "DepthPoint",
    "HookFailed",
    "InvalidDefinition",
    "InvalidSignal",
    "InvalidValue",
    "MissingDependency",
    "OutOfOrder",
    "SchemaError",
    "Snapshot",
    "Stage",
    "StageKind",
    "StageProfile",
    "StarsError",
    "TransitionNotAllowed",
    "TransitionRecord",
    "TransitionRefused",
    "TransitionVetoed",
    "UnknownName",
]
