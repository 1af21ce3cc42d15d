"""Relationship depth: how close vendor and customer really are, seen from both sides.

A relationship moves through four depths: EXPLORATORY (no formal relationship yet),
BASIC (transactional), COLLABORATIVE (more people, more value, costly and short-lived)
and INTERCONNECTED (a real partnership with joint planning). A fifth depth,
INTEGRATED, exists in the literature but is rare and usually a poor bet for the
vendor, so `assess` only returns it when asked to.

Depth is assessed from typed evidence (`DepthEvidence`) against named
requirements (`requirements`). Each side (vendor and customer) is assessed on
its own evidence; the depth both can stand behind is the lower of the two
(`TwoSidedDepth`).

Examples:
    >>> from stars.depth import Depth, DepthEvidence, assess
    >>> a = assess(DepthEvidence(formal_relationship=True, price_dominates=True))
    >>> a.depth
    <Depth.BASIC: 'basic'>
    >>> "value_over_price" in a.missing
    True
"""

from __future__ import annotations

from typing import TypeAlias

from stars.depth import _common

# isort: off
# In the order of the concepts (and of the reference page, which follows it).
from stars.depth._depth import (
    Depth,
)
from stars.depth._enums import (
    ContactPattern,
    BreakdownCause,
    DwellAction,
    MovementDirection,
    CompanyMaturity,
)
from stars.depth._policy import (
    DepthPolicy,
)
from stars.depth._evidence import (
    DepthEvidence,
)
from stars.depth._requirements import (
    Requirement,
    requirements,
)
from stars.depth._assessment import (
    DepthAssessment,
    assess,
)
from stars.depth._evidence import (
    Disagreement,
)
from stars.depth._two_sided import (
    TwoSidedDepth,
)
from stars.depth._gap import (
    DepthGapAdvice,
    gap_advice,
)
from stars.depth._dwell import (
    DwellAdvice,
    dwell_advice,
)
from stars.depth._depth import (
    DepthGuidance,
    guidance,
)
from stars.depth._key_accounts import (
    KeyAccountCheck,
    key_account_check,
)
from stars.depth._concentration import (
    ValueConcentration,
    value_concentration,
)
from stars.depth._history import (
    DepthMovement,
    check_integrated_opt_in,
    record_depth,
    depth_movements,
    depth_since,
)
# isort: on

__all__ = [
    "GUIDANCE",
    "BreakdownCause",
    "CompanyMaturity",
    "ContactPattern",
    "Depth",
    "DepthAssessment",
    "DepthEvidence",
    "DepthGapAdvice",
    "DepthGuidance",
    "DepthMovement",
    "DepthPolicy",
    "Disagreement",
    "DwellAction",
    "DwellAdvice",
    "KeyAccountCheck",
    "MovementDirection",
    "Requirement",
    "TwoSidedDepth",
    "ValueConcentration",
    "assess",
    "check_integrated_opt_in",
    "depth_movements",
    "depth_since",
    "dwell_advice",
    "gap_advice",
    "guidance",
    "key_account_check",
    "record_depth",
    "requirements",
    "value_concentration",
]

Criterion: TypeAlias = _common.Criterion
"""The value of one evidence criterion: a flag, a count, or a contact pattern's name."""

# Imported after Criterion: the reference page lists the module's attributes in source order.
from stars.depth._depth import GUIDANCE  # noqa: E402
