"""The weekly status note, from a plan or from facts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import overload

from stars import _validate as v
from stars.bands import Band
from stars.errors import InvalidValue
from stars.recovery._common import _enum, _texts, _when
from stars.recovery._enums import RecoveryStep, StakeholderLevel
from stars.recovery._parts import RecoveryPolicy, Stakeholder
from stars.recovery._plan import RecoveryPlan
from stars.recovery._process import _check_plan, _g_stalled


@overload
def weekly_update(
    plan: RecoveryPlan,
    week: datetime,
    *,
    account_name: str | None = None,
    challenges: Iterable[str] = (),
    policy: RecoveryPolicy | None = None,
) -> str: ...


@overload
def weekly_update(
    *,
    week: datetime,
    account_name: str,
    band: Band | str | None = None,
    health: float | None = None,
    summary: str | None = None,
    done: Iterable[str] = (),
    next_steps: Iterable[str] = (),
    challenges: Iterable[str] = (),
    owner: str | None = None,
    stakeholders: Iterable[Stakeholder] = (),
    policy: RecoveryPolicy | None = None,
) -> str: ...


def weekly_update(
    plan: RecoveryPlan | None = None,
    week: datetime | None = None,
    *,
    account_name: str | None = None,
    band: Band | str | None = None,
    health: float | None = None,
    summary: str | None = None,
    done: Iterable[str] | None = None,
    next_steps: Iterable[str] | None = None,
    challenges: Iterable[str] = (),
    owner: str | None = None,
    stakeholders: Iterable[Stakeholder] | None = None,
    policy: RecoveryPolicy | None = None,
) -> str:
    """The weekly status note, in Markdown, from a recovery plan or from the facts alone.

    The note is addressed to every level of the customer team, from analyst to economic
    buyer (naming the people known at each level), so the people doing the work are seen by
    leadership and leadership sees how the investment is going. Sections: Executive summary,
    Done this week, Next steps, Challenges.

    Two forms, never mixed:

    - **From a plan** (``weekly_update(plan, week)``): the plan gives the status (its step
      and latest check-in), what was done that week, the open actions, the owner and the
      stakeholders, and adds blockers it can see (overdue actions, health not green,
      progress stalled). ``account_name`` and ``challenges`` may be added.
    - **From the facts** (``weekly_update(week=..., account_name=..., ...)``), for any
      implementation or account, with or without a plan: the status as ``band`` or
      ``health``, ``summary``, ``done``, ``next_steps``, ``challenges``, ``owner`` and
      ``stakeholders``.

    Passing a plan together with a fact the plan already gives (``band``, ``health``,
    ``summary``, ``done``, ``next_steps``, ``owner``, ``stakeholders``) is refused: which
    one should the note say?

    Args:
        plan: The plan (plan form only).
        week: The start of the week (timezone-aware); the week covers seven days.
        account_name: The account's or the implementation's name (default with a plan:
            the account id; required without one).
        band: The status band (facts form).
        health: The 0-100 health score (facts form); gives the band through
            ``policy.bands`` when ``band`` is not given.
        summary: The executive summary in the writer's words (facts form).
        done: What was done this week (facts form).
        next_steps: What comes next (facts form).
        challenges: Blockers and challenges (with a plan, added to the ones it shows).
        owner: Who sends the note, the vendor-side lead (facts form).
        stakeholders: The customer people to name at each level (facts form).
        policy: Thresholds (default `RecoveryPolicy`): the green streak goal with a plan,
            the band cut-offs for ``health`` without one.

    Returns:
        Markdown text.

    Raises:
        InvalidValue: A plan and a fact it already gives are both passed, no plan and no
            ``account_name``, ``week`` is missing or naive, or a fact is malformed.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.recovery import RecoveryProcess, weekly_update
        >>> plan = RecoveryProcess().open("acme", at=datetime(2025, 1, 6, tzinfo=timezone.utc))
        >>> note = weekly_update(plan, datetime(2025, 1, 6, tzinfo=timezone.utc))
        >>> print(note.splitlines()[0])
        # Weekly update: acme, week of 2025-01-06
        >>> [line for line in note.splitlines() if line.startswith("## ")]
        ['## Executive summary', '## Done this week', '## Next steps', '## Challenges']

        Without a plan, from the facts of an implementation:

        >>> note = weekly_update(
        ...     week=datetime(2025, 1, 6, tzinfo=timezone.utc),
        ...     account_name="Globex rollout",
        ...     health=74,
        ...     done=["SSO live for the finance team"],
        ...     next_steps=["Import the 2024 tickets"],
        ...     challenges=["Data export waits on their IT"],
        ...     owner="dana",
        ... )
        >>> print(note)  # doctest: +ELLIPSIS
        # Weekly update: Globex rollout, week of 2025-01-06
        <BLANKLINE>
        **To:** analyst; manager; director; executive; economic buyer
        **From:** dana
        <BLANKLINE>
        ## Executive summary
        <BLANKLINE>
        Health is green (74).
        <BLANKLINE>
        ## Done this week
        <BLANKLINE>
        - SSO live for the finance team
        ...
        >>> weekly_update(plan, datetime(2025, 1, 6, tzinfo=timezone.utc), health=74)
        ...     # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: health: got 74, expected None when a plan is given (the plan ...
    """
    start = v.aware("week", week)
    policy = policy if policy is not None else RecoveryPolicy()
    if not isinstance(policy, RecoveryPolicy):
        raise InvalidValue("policy", policy, "a RecoveryPolicy")
    if account_name is not None:
        v.text("account_name", account_name)
    extra = _texts("challenges")(challenges)
    facts: dict[str, object] = {
        "band": band,
        "health": health,
        "summary": summary,
        "done": done,
        "next_steps": next_steps,
        "owner": owner,
        "stakeholders": stakeholders,
    }
    if plan is None:
        if account_name is None:
            raise InvalidValue(
                "account_name",
                None,
                "a non-empty string when no plan is given",
                hint="pass a RecoveryPlan, or the facts: week, account_name, band or health, "
                "done, next_steps, challenges, owner",
            )
        return _update_from_facts(
            start,
            account_name,
            extra,
            policy,
            band=band,
            health=health,
            summary=summary,
            done=done,
            next_steps=next_steps,
            owner=owner,
            stakeholders=stakeholders,
        )
    plan = _check_plan(plan)
    for name, fact in facts.items():
        if fact is not None:
            raise InvalidValue(
                name,
                fact,
                "None when a plan is given",
                hint=f"the plan already gives the {name.replace('_', ' ')}: pass either a plan "
                "or the facts, not both; only account_name and challenges add to a plan's note",
            )
    return _update_from_plan(plan, start, account_name or plan.account_id, extra, policy)


def _update_from_facts(
    week: datetime,
    name: str,
    extra: tuple[str, ...],
    policy: RecoveryPolicy,
    *,
    band: Band | str | None,
    health: float | None,
    summary: str | None,
    done: Iterable[str] | None,
    next_steps: Iterable[str] | None,
    owner: str | None,
    stakeholders: Iterable[Stakeholder] | None,
) -> str:
    if health is not None:
        v.number("health", health, 0, 100)
    status = None if band is None else _enum(Band, "band")(band)
    if status is None and health is not None:
        status = policy.bands.band_for(health)
    if summary is not None:
        v.text("summary", summary)
    if owner is not None:
        v.text("owner", owner)
    did = _texts("done")(() if done is None else done)
    then = _texts("next_steps")(() if next_steps is None else next_steps)
    people = v.tuple_of("stakeholders", Stakeholder)(() if stakeholders is None else stakeholders)
    if status is None:
        lead = "No health reading this week."
    else:
        lead = f"Health is {status.value}" + (f" ({health:.0f})." if health is not None else ".")
    blockers = [f"Health is still {status.value}."] if status not in (None, Band.GREEN) else []
    return _render_update(
        name,
        week,
        people,
        owner,
        lead + (f" {summary}" if summary else ""),
        [f"- {item}" for item in did],
        [f"- {item}" for item in then],
        [*blockers, *extra],
    )


def _update_from_plan(
    plan: RecoveryPlan, week: datetime, name: str, extra: tuple[str, ...], policy: RecoveryPolicy
) -> str:
    end = week + timedelta(days=7)
    seen = [c for c in plan.check_ins if c.at < end]
    latest = seen[-1] if seen else None
    summary = f"The plan is in the {plan.step.value} step, {(end - plan.started_at).days} days in."
    if latest is not None:
        health = f" ({latest.health:.0f})" if latest.health is not None else ""
        summary += (
            f" Latest health is {latest.band.value}{health}; green for {plan.green_streak} "
            f"check-in(s) in a row, {policy.green_check_ins} needed to move to prevention."
        )
    else:
        summary += " No health check-in yet."
    if plan.root_causes:
        summary += " Root causes: " + ", ".join(c.replace("_", " ") for c in plan.root_causes) + "."
    done = [a for a in plan.actions if a.done_at is not None and week <= a.done_at < end]
    pending = [a for a in plan.actions if a.done_at is None or a.done_at >= end]
    pending.sort(key=lambda a: a.due)
    blockers = [
        f"Overdue: {a.objective.rstrip('.')} ({a.owner}, was due {_when(a.due)})"
        for a in pending
        if a.due < end
    ]
    if latest is not None and latest.band is not Band.GREEN:
        blockers.append(f"Health is still {latest.band.value}.")
    if plan.step is RecoveryStep.MONITORING and _g_stalled(plan, policy, None) is None:
        blockers.append("Progress has stalled; the plan needs adjusting.")
    return _render_update(
        name,
        week,
        plan.stakeholders,
        plan.owner,
        summary,
        [f"- {a.objective.rstrip('.')} ({a.owner})" for a in done],
        [f"- {a.objective.rstrip('.')} ({a.owner}, due {_when(a.due)})" for a in pending],
        [*blockers, *extra],
    )


def _render_update(
    name: str,
    week: datetime,
    stakeholders: Sequence[Stakeholder],
    owner: str | None,
    summary: str,
    done: list[str],
    pending: list[str],
    blockers: list[str],
) -> str:
    to = []
    for level in StakeholderLevel:
        people = [s.name for s in stakeholders if s.level is level]
        label = level.value.replace("_", " ")
        to.append(f"{label} ({', '.join(people)})" if people else label)
    lines = [f"# Weekly update: {name}, week of {_when(week)}", ""]
    lines += ["**To:** " + "; ".join(to)]
    lines += [f"**From:** {owner}"] if owner else []
    lines += ["", "## Executive summary", "", summary, ""]
    lines += ["## Done this week", "", *(done or ["- Nothing completed this week."]), ""]
    lines += ["## Next steps", "", *(pending or ["- No open actions."]), ""]
    lines += ["## Challenges", "", *([f"- {b}" for b in blockers] or ["- None reported."])]
    return "\n".join(lines) + "\n"
