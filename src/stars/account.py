"""Accounts, the signals observed on them, and their append-only transition history.

An `Account` is the one mutable object in `stars`: its stage, snapshots and
history change, but only through a `Lifecycle` (or, for depth, through
`stars.depth`). Everything it holds is frozen.

Examples:
    >>> from datetime import datetime, timezone
    >>> from stars import Account, Snapshot
    >>> acme = Account("acme", name="Acme Corp", owner="dana")
    >>> acme.stage, acme.version, acme.history
    ('prospect', 0, ())
    >>> snap = Snapshot(at=datetime(2025, 3, 1, tzinfo=timezone.utc), health=82, nps=40)
    >>> snap.health, snap.nps
    (82, 40)
"""

from __future__ import annotations

from stars._accounts import (
    Account,
    DepthPoint,
    OwnerChange,
    TransitionRecord,
    reassign,
)
from stars._log import Log
from stars._snapshot import CARRIED as CARRIED
from stars._snapshot import Snapshot

__all__ = [
    "Account",
    "DepthPoint",
    "Log",
    "OwnerChange",
    "Snapshot",
    "TransitionRecord",
    "reassign",
]
