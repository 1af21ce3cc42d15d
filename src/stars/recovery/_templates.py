"""Plan templates by relationship phase, and `plan_for`, which drafts a plan from findings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

import attrs

from stars import _validate as v
from stars._accounts import _need_account
from stars.account import Account
from stars.errors import InvalidValue
from stars.recovery._catalog import RISK_SOURCES
from stars.recovery._common import _as_tuple, _each_text, _enum, _member, _text
from stars.recovery._enums import _E, _L, _M, RelationshipPhase, TemplateKind, _c_phase, _c_template
from stars.recovery._findings import RiskFinding
from stars.recovery._parts import ActionItem
from stars.recovery._plan import RecoveryPlan
from stars.recovery._process import RecoveryProcess


@attrs.frozen(slots=True)
class PlanTemplate:
    """A kind of action plan suited to one relationship phase, with suggested actions.

    Attributes:
        kind: Which template.
        phase: The phase of risk it answers.
        title: A short label.
        summary: What the plan concentrates on.
        actions: Suggested action objectives, to copy into a plan and edit.

    Examples:
        >>> from stars.recovery import TEMPLATES
        >>> TEMPLATES["mid"].kind.value
        'support_engagement'
    """

    kind: TemplateKind = attrs.field(converter=_c_template, validator=_member(TemplateKind))
    phase: RelationshipPhase = attrs.field(converter=_c_phase, validator=_member(RelationshipPhase))
    title: str = attrs.field(validator=_text)
    summary: str = attrs.field(validator=_text)
    actions: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_each_text)


TEMPLATES: Mapping[RelationshipPhase, PlanTemplate] = {
    t.phase: t
    for t in (
        PlanTemplate(
            TemplateKind.ONBOARDING_EDUCATION,
            _E,
            "Onboarding and education",
            "For trouble that starts early: tighten onboarding, add training, and make sure "
            "the customer can see where the value comes from.",
            (
                "Hold a fresh kickoff that restates business and technical goals with dates.",
                "Run training for each role that uses the product.",
                "Check what each handoff passed on and fill the gaps, so the customer never "
                "repeats their story.",
                "Agree a meeting rhythm and who joins from each side.",
            ),
        ),
        PlanTemplate(
            TemplateKind.SUPPORT_ENGAGEMENT,
            _M,
            "Continuous support and engagement",
            "For trouble in the middle of the relationship: a named support contact, "
            "regular check-ins and advice offered before it is asked for.",
            (
                "Name one support contact who stays with the account.",
                "Meet every week until health has been green for several readings.",
                "Send advice on the outcome the customer cares about most, unprompted.",
                "Open a second relationship thread so one departure cannot cut contact.",
            ),
        ),
        PlanTemplate(
            TemplateKind.VALUE_REINFORCEMENT,
            _L,
            "Value reinforcement",
            "For accounts close to churning: prove the value again, look for new uses, and "
            "be ready to rework the terms if the deal no longer fits.",
            (
                "Build a value review from the customer's own results against their goals.",
                "Walk the economic buyer through the value review.",
                "Explore one more use case with the team that runs the product.",
                "Prepare options for adjusted terms in case the current deal does not fit.",
            ),
        ),
    )
}
"""The three plan templates, by the phase of risk they answer."""


def template_for(phase: RelationshipPhase | str) -> PlanTemplate:
    """The template that answers risks of ``phase``.

    Examples:
        >>> from stars.recovery import template_for
        >>> template_for("early").title
        'Onboarding and education'
    """
    return TEMPLATES[_enum(RelationshipPhase, "phase")(phase)]


_PROCESS = None


def _default_process() -> RecoveryProcess:
    global _PROCESS
    if _PROCESS is None:
        _PROCESS = RecoveryProcess()
    return _PROCESS


def plan_for(
    findings: Iterable[RiskFinding],
    account: Account,
    at: datetime,
    *,
    process: RecoveryProcess | None = None,
    owner: str | None = None,
    plan_id: str | None = None,
    due_in: timedelta = timedelta(days=14),
    actor: str | None = None,
) -> RecoveryPlan:
    """Draft a plan from findings, for the team to edit.

    The plan is opened and, when there is at least one finding, moved to ANALYSIS. Root
    causes are the findings' sources, most severe first. The template is the one for the
    `RiskFinding.risk_phase` of the most severe attributed finding (ties go to the later
    phase), so a late-phase source such as a proof-of-concept rerun gets the late template
    however young the account is. Actions are
    each root cause's usual response followed by the template's suggestions, all owned by
    ``owner`` (default: the account's owner) and due ``due_in`` after ``at``.
    Stakeholders are left for the team to add.

    Args:
        findings: What `detect` returned (or a selection).
        account: The account.
        at: When the plan starts.
        process: The process to open it with (default: a shared plain process).
        owner: Who owns the drafted actions.
        plan_id: The plan's id.
        due_in: How long after ``at`` the drafted actions are due.
        actor: Who drafted it.

    Returns:
        The drafted plan (in ANALYSIS, or DETECTION when there are no findings).

    Raises:
        InvalidValue: No owner is given and the account has none.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.account import Account, Snapshot
        >>> from stars.recovery import detect, plan_for
        >>> t = datetime(2025, 5, 5, tzinfo=timezone.utc)
        >>> a = Account("a", stage="seed", snapshots=[Snapshot(at=t, adoption=0.1)])
        >>> plan = plan_for(detect(a), a, t, owner="sam")
        >>> plan.template.value, plan.root_causes, len(plan.actions)
        ('onboarding_education', ('onboarding_misaligned',), 5)
    """
    account = _need_account(account)
    items = v.tuple_of("findings", RiskFinding)(findings)
    v.aware("at", at)
    if not isinstance(due_in, timedelta) or due_in < timedelta(0):
        raise InvalidValue("due_in", due_in, "a timedelta of zero or more")
    owner = owner if owner is not None else account.owner
    if owner is None or not isinstance(owner, str) or not owner.strip():
        raise InvalidValue(
            "owner", owner, "a non-empty string", hint="pass owner= or set the account's owner"
        )
    ranked = sorted(items, key=lambda f: (-f.severity.rank, -f.risk_phase.rank))
    causes = tuple(dict.fromkeys(f.source for f in ranked if f.source is not None))
    attributed = [f for f in ranked if f.source is not None]
    template = template_for(attributed[0].risk_phase) if attributed else None
    due = at + due_in
    actions = [ActionItem(RISK_SOURCES[c].response, owner, due, source=c) for c in causes]
    if template is not None:
        actions += [ActionItem(text, owner, due) for text in template.actions]
    engine = process if process is not None else _default_process()
    if not isinstance(engine, RecoveryProcess):
        raise InvalidValue("process", engine, "a RecoveryProcess")
    plan = engine.open(account, at=at, plan_id=plan_id, owner=owner, findings=items, actor=actor)
    plan = attrs.evolve(
        plan,
        root_causes=causes,
        actions=tuple(actions),
        template=template.kind if template else None,
        version=plan.version + 1,
    )
    if items:
        plan = engine.fire(
            plan, "analyze", at=at, actor=actor, reason=f"drafted from {len(items)} finding(s)"
        )
    return plan
