"""The lifecycle engine: stages, guarded transitions, hooks, history, replay and diagnosis.

A `Lifecycle` is built once from a definition (stages, transitions with guards,
a `Policy` of thresholds), checked when it is built, and then shared: it holds
no accounts. ``stars.STARS`` is the default STARS lifecycle.

It runs on `stars._engine`, which it shares with the journey and the recovery process.
Firing a trigger reads the account's version, evaluates the guards (the first destination
whose guards pass wins), runs the before- and exit-hooks, commits the record under the
account's own short lock if the version is unchanged, and then runs the enter-, after- and
cycle-hooks; no lock is held while hooks run. Each definition is also built once as a
``transitions.Machine`` (``auto_transitions=False``, accounts never registered): the
reference the engine is tested against. Replays use the same edge table.

Examples:
    >>> from datetime import datetime, timezone
    >>> from stars import STARS, Account, Snapshot
    >>> t = datetime(2025, 1, 6, tzinfo=timezone.utc)
    >>> acme = Account("acme")
    >>> _ = STARS.observe(acme, Snapshot(at=t, contract_signed=True))
    >>> STARS.fire(acme, "sign", at=t).dest
    'seed'
    >>> STARS.check(acme, "accelerate").reasons
    ('success metrics are not agreed yet', 'no health reading in the latest snapshot')
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from stars.lifecycle._definition import STARS_STAGES, STARS_TRANSITIONS, StageDef, TransitionDef
from stars.lifecycle._evidence import diagnose_stars, evidence
from stars.lifecycle._guards import GUARDS, Guard, GuardContext
from stars.lifecycle._lifecycle import STARS, Lifecycle
from stars.lifecycle._policy import Policy
from stars.lifecycle._results import Event, HookEvent, Verdict

if TYPE_CHECKING:
    from stars.lifecycle._diagnosis import Diagnosis, Evidence
    from stars.lifecycle._handover import handover_brief

# Loaded when first asked for: the diagnosis results and the hand-over brief (which walks
# episodes) are not needed to fire or observe, and building them cost a tenth of ``import stars``.
_LAZY = {
    "Diagnosis": "stars.lifecycle._diagnosis",
    "Evidence": "stars.lifecycle._diagnosis",
    "handover_brief": "stars.lifecycle._handover",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'stars.lifecycle' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "GUARDS",
    "STARS",
    "STARS_STAGES",
    "STARS_TRANSITIONS",
    "Diagnosis",
    "Event",
    "Evidence",
    "Guard",
    "GuardContext",
    "HookEvent",
    "Lifecycle",
    "Policy",
    "StageDef",
    "TransitionDef",
    "Verdict",
    "diagnose_stars",
    "evidence",
    "handover_brief",
]
