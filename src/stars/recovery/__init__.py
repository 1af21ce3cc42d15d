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

# isort: off
# In the order of the concepts (and of the reference page, which follows it).
from stars.recovery._enums import (
    RelationshipPhase,
    SignalKind,
    Severity,
    StakeholderLevel,
    RecoveryStep,
    TemplateKind,
    TriageDecision,
    TriageFactor,
    Effort,
)
from stars.recovery._catalog import (
    RiskSource,
    RISK_SOURCES,
    LEADING_INDICATORS,
)
from stars.recovery._findings import (
    DetectionPolicy,
    RiskEvidence,
    RiskFinding,
)
from stars.recovery._detect import (
    relationship_phase,
    detect,
)
from stars.recovery._parts import (
    Stakeholder,
    ActionItem,
    CheckIn,
    StepRecord,
    RecoveryPolicy,
)
from stars.recovery._plan import (
    RecoveryPlan,
)
from stars.recovery._process import (
    RecoveryEvent,
    RecoveryProcess,
)
from stars.recovery._templates import (
    PlanTemplate,
    TEMPLATES,
    template_for,
    plan_for,
)
from stars.recovery._triage import (
    TriagePolicy,
    Triage,
    triage,
)
from stars.recovery._weekly import (
    weekly_update,
)
from stars.recovery._handoff import (
    HandoffChecklist,
    HandoffAudit,
    audit_handoff,
)
from stars.recovery._playbooks import (
    PlaybookEntry,
    PlaybookLibrary,
)
from stars.recovery._link import (
    LifecycleLink,
    link_lifecycle,
)
# isort: on

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
