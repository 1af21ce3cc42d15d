"""What a diagnosis hands back: the `Evidence` it read and the `Diagnosis` itself.

These two classes load with the first diagnosis (``stars.lifecycle`` and ``stars`` name them
lazily), so firing and observing do not pay for building them at ``import stars``.
"""

from __future__ import annotations

import attrs

from stars.bands import Band
from stars.stages import StageProfile


@attrs.frozen(slots=True)
class Evidence:
    """The signals diagnosis reads, flattened to one row (the batch form uses the same names).

    Examples:
        >>> from stars import Account, evidence
        >>> evidence(Account("a")).band is None
        True
    """

    health: float | None = None
    band: Band | None = None
    slope: float | None = None
    green_streak: int = 0
    tenure_days: float | None = None
    customer: bool = False
    success_metrics_agreed: bool = False
    expansion_open: bool = False
    critical_risk: bool = False
    churned: bool = False


@attrs.frozen(slots=True)
class Diagnosis:
    """Which stage the evidence points to, whether it agrees with the current one, how to show up.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import STARS, Account, Snapshot
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> snap = Snapshot(at=t, health=20, contract_signed=True)
        >>> a = Account("a", stage="prospect", snapshots=[snap])
        >>> d = STARS.diagnose(a)
        >>> d.stage, d.agrees
        ('tact', False)
    """

    account_id: str
    current: str
    stage: str | None
    agrees: bool
    reasons: tuple[str, ...]
    evidence: Evidence
    playbook: StageProfile | None
    triggers: tuple[str, ...] = ()

    def _repr_html_(self) -> str:
        from stars._html import table

        rows: list[tuple[str, object]] = [
            ("current stage", self.current),
            ("evidence points to", self.stage),
            ("agrees", "yes" if self.agrees else "no"),
            ("reasons", "; ".join(self.reasons)),
        ]
        if self.triggers:
            rows.append(("to move there", ", ".join(self.triggers)))
        if self.playbook is not None:
            rows.append(("posture", ", ".join(self.playbook.posture)))
            rows += [("key action", a) for a in self.playbook.key_actions]
        return table(("", ""), rows, caption=f"Diagnosis of {self.account_id}")
