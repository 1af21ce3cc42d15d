"""`RecoveryProcess`: the guards of each step and the engine that moves plans through them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Final, TypeVar

import attrs
from transitions import Machine

from stars import _engine
from stars import _validate as v
from stars._accounts import _need_account
from stars._engine import Edge, EdgeTable
from stars.account import Account
from stars.bands import Band
from stars.errors import (
    InvalidValue,
    OutOfOrder,
    TransitionNotAllowed,
    TransitionRefused,
    UnknownName,
)
from stars.lifecycle import Verdict
from stars.recovery._common import _enum, _when
from stars.recovery._enums import RecoveryStep
from stars.recovery._findings import RiskFinding
from stars.recovery._parts import RecoveryPolicy, StepRecord
from stars.recovery._plan import _GRAPH, RecoveryPlan

_Guard = Callable[[RecoveryPlan, RecoveryPolicy, "str | None"], "str | None"]


def _g_evidence(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    if plan.findings or plan.root_causes:
        return None
    return "no finding or root cause is recorded yet"


def _g_root_cause(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    return None if plan.root_causes else "no root cause is identified yet"


def _g_stakeholders(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    levels = plan.stakeholder_levels
    need = policy.min_stakeholder_levels
    if len(levels) >= need:
        return None
    shown = ", ".join(sorted(lv.value for lv in levels))
    return (
        f"stakeholders engaged at {len(levels)} level(s) of the customer"
        + (f" ({shown})" if shown else "")
        + f", {need} needed"
    )


def _g_actions(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    return None if plan.actions else "the plan has no action items yet"


def _g_action_done(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    return None if any(a.done for a in plan.actions) else "no action item is done yet"


def _monitoring_since(plan: RecoveryPlan) -> datetime:
    # Only called for plans in MONITORING, whose history always has a record entering it.
    return next(r.at for r in reversed(plan.history) if r.dest is RecoveryStep.MONITORING)


def _g_stalled(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    since = _monitoring_since(plan)
    recent = [c for c in plan.check_ins if c.at >= since]
    need = policy.stall_window
    if len(recent) < need:
        return f"{len(recent)} check-in(s) since monitoring began, {need} needed to judge progress"
    window = recent[-need:]
    first, last = window[0], window[-1]
    if last.band is Band.GREEN:
        return "health is green; progress has not stalled"
    if first.health is not None and last.health is not None:
        gain = last.health - first.health
        if gain >= policy.min_progress:
            return f"health rose {gain:.1f} points over the last {need} check-ins"
    elif last.band > first.band:
        return f"the band rose from {first.band.value} to {last.band.value}"
    return None


def _g_green(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    got, need = plan.green_streak, policy.green_check_ins
    return None if got >= need else f"green for {got} check-in(s) in a row, {need} needed"


def _g_lessons(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    return None if plan.lessons else "no lessons are recorded yet"


def _g_indicator(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    return None if plan.indicators else "no leading indicator of retention is chosen yet"


def _g_reason(plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> str | None:
    return None if reason and reason.strip() else "a reason must be given"


_GUARDS: Final[dict[str, tuple[_Guard, ...]]] = {
    "open": (),
    "analyze": (_g_evidence,),
    "execute": (_g_root_cause, _g_stakeholders, _g_actions),
    "monitor": (_g_action_done,),
    "adjust": (_g_stalled,),
    "prevent": (_g_green,),
    "close": (_g_lessons, _g_indicator),
    "lose": (_g_reason,),
    "release": (_g_reason,),
}


# --------------------------------------------------------------------------- the engine
@attrs.frozen(slots=True, eq=False)
class RecoveryEvent:
    """What a recovery hook receives.

    ``plan`` is the plan before the move in before- and exit-hooks, and the new plan in
    enter- and after-hooks, where ``record`` is the new `StepRecord`. ``subject`` is that
    plan, as in every machine's event, and ``machine`` the process that moved it.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.recovery import RecoveryProcess
        >>> process = RecoveryProcess()
        >>> seen = []
        >>> @process.after("open")
        ... def note(event):
        ...     seen.append((event.trigger, event.dest.value, event.subject.version))
        >>> _ = process.open("acme", at=datetime(2025, 1, 1, tzinfo=timezone.utc))
        >>> seen
        [('open', 'detection', 1)]
    """

    plan: RecoveryPlan
    account: Account | None
    trigger: str
    source: RecoveryStep | None
    dest: RecoveryStep
    at: datetime
    actor: str | None
    reason: str | None
    forced: bool
    record: StepRecord | None
    machine: RecoveryProcess | None = None

    @property
    def subject(self) -> RecoveryPlan:
        """The plan (the same as ``plan``).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryEvent, RecoveryPlan
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> plan = RecoveryPlan("p", "acme", t)
            >>> RecoveryEvent(plan, None, "open", None, "detection", t, None, None, False,
            ...               None).subject is plan
            True
        """
        return self.plan


RecoveryHook = Callable[[RecoveryEvent], None]
H = TypeVar("H", bound=RecoveryHook)
_NEW = "_new"


class _PlanContext:
    """What the recovery guards read."""

    __slots__ = ("plan", "policy", "reason")

    def __init__(self, plan: RecoveryPlan, policy: RecoveryPolicy, reason: str | None) -> None:
        self.plan = plan
        self.policy = policy
        self.reason = reason


def _plan_guard(guard: _Guard) -> Callable[[_PlanContext], str | None]:
    def check(ctx: _PlanContext) -> str | None:
        return guard(ctx.plan, ctx.policy, ctx.reason)

    return check


class RecoveryProcess(_engine.Machine):
    """The engine that moves recovery plans through the five steps.

    It runs on the same engine as `Lifecycle`: the graph as an edge table, the guards
    with reasons, the same hook phases (before and exit may veto; enter and after see the
    new plan; every hook of a phase runs). Plans are immutable values, so a move never
    changes the plan passed in: it returns a new one, one version higher, and no lock is
    taken at all. The process holds no plans, so one process serves any number of them;
    its ``transitions.Machine``, built once, is the reference the engine is tested against.

    The graph: ``analyze`` (DETECTION → ANALYSIS), ``execute`` (ANALYSIS → EXECUTION),
    ``monitor`` (EXECUTION → MONITORING), ``adjust`` (MONITORING → ANALYSIS, when progress
    stalls), ``prevent`` (MONITORING → PREVENTION), ``close`` (PREVENTION → CLOSED), and
    from any open step ``lose`` (→ LOST) and ``release`` (→ RELEASED), both needing a reason.

    Args:
        policy: Thresholds for the guards (default `RecoveryPolicy`).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.recovery import RecoveryProcess
        >>> process = RecoveryProcess()
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> plan = process.open("acme", at=t)
        >>> process.fire(plan, "execute", at=t)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.TransitionNotAllowed: account 'acme' in stage 'detection' cannot 'execute'; ...
        >>> process.fire(plan, "release", at=t, reason="not our ideal customer").step.value
        'released'
    """

    _hook_event_name = "a RecoveryEvent"

    def __init__(self, policy: RecoveryPolicy | None = None) -> None:
        if policy is None:
            policy = RecoveryPolicy()
        if not isinstance(policy, RecoveryPolicy):
            raise InvalidValue("policy", policy, "a RecoveryPolicy")
        self.policy = policy
        _engine.Machine.__init__(self)
        self._edges: EdgeTable[_PlanContext] = EdgeTable(
            [Edge("open", [_NEW], RecoveryStep.DETECTION.value)]
            + [
                Edge(
                    trigger,
                    [s.value for s in sources],
                    dest.value,
                    [_plan_guard(g) for g in _GUARDS[trigger]],
                )
                for trigger, (sources, dest) in _GRAPH.items()
            ]
        )
        self._machine = self._reference_machine()

    def _reference_machine(self) -> Machine:
        """The graph as a ``transitions.Machine`` with the guards as conditions (for tests)."""
        machine = Machine(
            model=None,
            states=[_NEW, *(s.value for s in RecoveryStep)],
            initial=_NEW,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for edge in self._edges.edges:

            def passes(event_data: Any, edge: Edge[_PlanContext] = edge) -> bool:
                kwargs = event_data.kwargs
                return bool(kwargs["force"]) or not edge.reasons(kwargs["context"])

            machine.add_transition(edge.trigger, list(edge.sources), edge.dest, [passes])
        return machine

    # -- queries -------------------------------------------------------------------
    @property
    def triggers(self) -> tuple[str, ...]:
        """Every trigger, ``open`` first.

        Examples:
            >>> from stars.recovery import RecoveryProcess
            >>> RecoveryProcess().triggers[:3]
            ('open', 'analyze', 'execute')
        """
        return ("open", *_GRAPH)

    def allowed(self, step: RecoveryStep | str) -> tuple[str, ...]:
        """The triggers the graph allows from ``step`` (guards aside).

        Examples:
            >>> from stars.recovery import RecoveryProcess
            >>> RecoveryProcess().allowed("monitoring")
            ('adjust', 'prevent', 'lose', 'release')
        """
        here = _enum(RecoveryStep, "step")(step)
        return tuple(t for t, (sources, _) in _GRAPH.items() if here in sources)

    def check(self, plan: RecoveryPlan, trigger: str, *, reason: str | None = None) -> Verdict:
        """Whether ``trigger`` may fire now, without changing anything.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryProcess
            >>> process = RecoveryProcess()
            >>> plan = process.open("acme", at=datetime(2025, 1, 1, tzinfo=timezone.utc))
            >>> process.check(plan, "analyze").reasons
            ('no finding or root cause is recorded yet',)
        """
        plan = _check_plan(plan)
        self._check_trigger(trigger)
        group = self._edges.get(plan.step.value, trigger)
        if group is None:
            return Verdict(
                trigger,
                plan.step.value,
                False,
                None,
                (f"{trigger!r} is not possible from {plan.step.value!r}",),
            )
        reasons = group[0].reasons(_PlanContext(plan, self.policy, reason))
        return Verdict(trigger, plan.step.value, not reasons, group[0].dest, tuple(reasons))

    def available(self, plan: RecoveryPlan) -> tuple[str, ...]:
        """The triggers whose guards pass now, without a reason.

        ``lose`` and ``release`` need a reason, so they never appear here.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryProcess
            >>> process = RecoveryProcess()
            >>> plan = process.open("acme", at=datetime(2025, 1, 1, tzinfo=timezone.utc))
            >>> process.available(plan)
            ()
        """
        plan = _check_plan(plan)
        return tuple(t for t in self.allowed(plan.step) if self.check(plan, t).allowed)

    def _check_trigger(self, trigger: object) -> str:
        if not isinstance(trigger, str) or trigger not in _GUARDS:
            raise UnknownName("trigger", trigger, list(_GUARDS))
        return trigger

    def to_mermaid(self) -> str:
        """The recovery steps as a Mermaid state diagram.

        Examples:
            >>> from stars.recovery import RecoveryProcess
            >>> print(RecoveryProcess().to_mermaid().splitlines()[2])
                detection --> analysis : analyze
        """
        lines = ["stateDiagram-v2", "    [*] --> detection"]
        for trigger, (sources, dest) in _GRAPH.items():
            for source in sources:
                lines.append(f"    {source.value} --> {dest.value} : {trigger}")
        return "\n".join(lines)

    # -- hooks -----------------------------------------------------------------------
    def _key(self, trigger: str | None) -> str:
        return "*" if trigger is None else self._check_trigger(trigger)

    def before(self, trigger: str | None = None) -> Callable[[H], H]:
        """Register a hook that runs before ``trigger`` (or any trigger); raising vetoes it.

        Examples:
            >>> from stars.recovery import RecoveryProcess
            >>> process = RecoveryProcess()
            >>> @process.before("release")
            ... def ask_manager(event):
            ...     pass
        """
        key = self._key(trigger)

        return self._decorator("before", key)

    def after(self, trigger: str | None = None) -> Callable[[H], H]:
        """Register a hook that runs after ``trigger`` (or any trigger) was applied.

        Examples:
            >>> from stars.recovery import RecoveryProcess
            >>> process = RecoveryProcess()
            >>> @process.after()
            ... def log(event):
            ...     pass
        """
        key = self._key(trigger)

        return self._decorator("after", key)

    def on_enter(self, step: RecoveryStep | str) -> Callable[[H], H]:
        """Register a hook that runs when a plan enters ``step``.

        Examples:
            >>> from stars.recovery import RecoveryProcess
            >>> process = RecoveryProcess()
            >>> @process.on_enter("closed")
            ... def celebrate(event):
            ...     pass
        """
        key = _enum(RecoveryStep, "step")(step).value

        return self._decorator("enter", key)

    def on_exit(self, step: RecoveryStep | str) -> Callable[[H], H]:
        """Register a hook that runs when a plan is about to leave ``step``; raising vetoes.

        Examples:
            >>> from stars.recovery import RecoveryProcess
            >>> process = RecoveryProcess()
            >>> @process.on_exit("monitoring")
            ... def note(event):
            ...     pass
        """
        key = _enum(RecoveryStep, "step")(step).value

        return self._decorator("exit", key)

    def remove_hook(self, fn: RecoveryHook) -> int:
        """Unregister a hook everywhere; returns how many registrations were removed.

        Examples:
            >>> from stars.recovery import RecoveryProcess
            >>> process = RecoveryProcess()
            >>> hook = process.after()(lambda event: None)
            >>> process.remove_hook(hook)
            1
        """
        return self._remove(fn)

    # -- the public engine -----------------------------------------------------------
    def _move(
        self,
        plan: RecoveryPlan,
        account: Account | None,
        trigger: str,
        at: datetime,
        actor: str | None,
        reason: str | None,
        force: bool,
    ) -> RecoveryPlan:
        opening = trigger == "open"
        source = None if opening else plan.step
        group = self._edges.get(_NEW if source is None else source.value, trigger)
        assert group is not None  # the caller checked the graph
        edge = group[0]
        if not force:
            refusals = edge.reasons(_PlanContext(plan, self.policy, reason))
            if refusals:
                raise TransitionRefused(plan.account_id, plan.step.value, trigger, refusals)
        dest = RecoveryStep(edge.dest)
        record = StepRecord(trigger, source, dest, at, actor, reason, force)
        if opening:
            new = attrs.evolve(plan, history=(record,), version=plan.version + 1)
        else:
            new = attrs.evolve(
                plan, step=dest, history=(*plan.history, record), version=plan.version + 1
            )

        def event(committed: StepRecord | None) -> RecoveryEvent:
            current = plan if committed is None else new
            return RecoveryEvent(
                current, account, trigger, source, dest, at, actor, reason, force, committed, self
            )

        def write() -> tuple[RecoveryPlan, StepRecord]:
            return new, record  # a plan is a value: the new one is the commit

        phases = self._phases(trigger, None if source is None else source.value, dest.value, None)
        return self._transact(plan.account_id, trigger, phases, event, write)

    def open(
        self,
        account: Account | str,
        *,
        at: datetime,
        plan_id: str | None = None,
        owner: str | None = None,
        findings: Iterable[RiskFinding] = (),
        actor: str | None = None,
        reason: str | None = None,
    ) -> RecoveryPlan:
        """Open a plan for an account, in DETECTION, with an ``open`` record.

        Args:
            account: The account (pass the `Account` so lifecycle hooks can
                move it) or its id.
            at: When the plan starts.
            plan_id: The plan's id (default: ``"<account id>-<date>"``).
            owner: Who leads it (default: the account's owner).
            findings: What detection found.
            actor: Who opened it.
            reason: Why.

        Returns:
            The new plan, at version 1, carrying the policy's band cut-offs (which
            `RecoveryPlan.check_in` applies).

        Raises:
            TransitionVetoed: A before-hook raised; no plan is returned.
            HookFailed: An after- or enter-hook raised; the plan is ``err.record``.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryProcess
            >>> plan = RecoveryProcess().open("acme", at=datetime(2025, 4, 1, tzinfo=timezone.utc))
            >>> plan.id, plan.step.value, plan.history[0].trigger
            ('acme-2025-04-01', 'detection', 'open')
        """
        acct = account if isinstance(account, Account) else None
        account_id = account.id if isinstance(account, Account) else account
        v.text("account", account_id)
        v.aware("at", at)
        if owner is None and acct is not None:
            owner = acct.owner
        plan = RecoveryPlan(
            plan_id if plan_id is not None else f"{account_id}-{_when(at)}",
            account_id,
            at,
            owner=owner,
            findings=findings,
            bands=self.policy.bands,
        )
        v.optional_string("actor", actor)
        v.optional_string("reason", reason)
        return self._move(plan, acct, "open", at, actor, reason, False)

    def fire(
        self,
        plan: RecoveryPlan,
        trigger: str,
        *,
        at: datetime,
        actor: str | None = None,
        reason: str | None = None,
        force: bool = False,
        account: Account | None = None,
    ) -> RecoveryPlan:
        """Move a plan to its next step and return the new plan.

        Args:
            plan: The plan.
            trigger: ``analyze``, ``execute``, ``monitor``, ``adjust``, ``prevent``,
                ``close``, ``lose`` or ``release``.
            at: When (timezone-aware, not before the last record).
            actor: Who.
            reason: Why (required with ``force=True``, and for ``lose`` and ``release``).
            force: Override the guards (never the graph); the record says so.
            account: The account, for hooks that act on it (see `link_lifecycle`).

        Returns:
            The new plan; the one passed in is unchanged.

        Raises:
            UnknownName: Not a trigger of the process.
            TransitionNotAllowed: The graph has no such move from the plan's step.
            TransitionRefused: A guard refused (the reasons say why).
            TransitionVetoed: A before- or exit-hook raised.
            HookFailed: An enter- or after-hook raised; the new plan is ``err.record``.
            OutOfOrder: ``at`` is earlier than the plan's last record.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryProcess
            >>> process = RecoveryProcess()
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> plan = process.open("acme", at=t)
            >>> moved = process.fire(plan, "analyze", at=t, force=True, reason="escalated by sales")
            >>> moved.step.value, moved.history[-1].forced, plan.step.value
            ('analysis', True, 'detection')
        """
        plan = _check_plan(plan)
        self._check_trigger(trigger)
        if trigger == "open":
            raise TransitionNotAllowed(
                plan.account_id, plan.step.value, trigger, self.allowed(plan.step)
            )
        v.aware("at", at)
        v.optional_string("actor", actor)
        v.optional_string("reason", reason)
        v.flag("force", force)
        if force and not (reason and reason.strip()):
            raise InvalidValue("reason", reason, "a reason whenever force=True")
        if account is not None:
            _need_account(account)
            if account.id != plan.account_id:
                raise InvalidValue("account", account.id, f"the plan's account {plan.account_id!r}")
        if not plan.history:
            raise InvalidValue(
                "plan.history", (), "an opened plan", hint="open plans with RecoveryProcess.open"
            )
        sources, _ = _GRAPH[trigger]
        if plan.step not in sources:
            raise TransitionNotAllowed(
                plan.account_id, plan.step.value, trigger, self.allowed(plan.step)
            )
        last = plan.history[-1].at if plan.history else plan.started_at
        if v.before(at, last):
            raise OutOfOrder("step", at.isoformat(), last.isoformat())
        return self._move(plan, account, trigger, at, actor, reason, force)

    def __repr__(self) -> str:
        return f"RecoveryProcess(policy={self.policy!r})"


def _check_plan(plan: object) -> RecoveryPlan:
    if not isinstance(plan, RecoveryPlan):
        raise InvalidValue("plan", plan, "a RecoveryPlan")
    return plan
