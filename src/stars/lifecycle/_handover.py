"""The handover brief: what a new owner needs to know about an account."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from stars import _validate as v
from stars._accounts import _need_account
from stars.account import (
    Account,
    OwnerChange,
)
from stars.cycles import CycleEpisode, episodes
from stars.errors import (
    InvalidValue,
)
from stars.lifecycle._evidence import _DAY, _need_time
from stars.lifecycle._lifecycle import STARS, Lifecycle

if TYPE_CHECKING:
    pass


def _fmt_days(days: float) -> str:
    if days >= 60:
        return f"{days / 30.4:.0f} months"
    return f"{days:.0f} days"


def _day(t: datetime | None) -> str:
    return t.date().isoformat() if t is not None else "–"


def _owner_lines(account: Account, lc: Lifecycle, now: datetime | None) -> list[str]:
    """One row per owner, the current first: when, who decided, and what happened then."""
    changes = account.owners
    spans: list[tuple[str, datetime | None, datetime | None, OwnerChange | None]]
    start = account.since or (account.history[0].at if account.history else None)
    if not changes:
        if account.owner is None:
            return ["No owner is recorded."]
        spans = [(account.owner, start, None, None)]
    else:
        first = changes[0]
        spans = []
        if first.previous is not None:
            spans.append((first.previous, start, first.at, None))
        for i, step in enumerate(changes):
            end = changes[i + 1].at if i + 1 < len(changes) else None
            spans.append((step.owner, step.at, end, step))
    eps = episodes(account, lc.kind_of)
    rows = ["| owner | from | until | what happened |", "|---|---|---|---|"]
    for owner, begin, until, change in reversed(spans):
        who = f"{owner} (now)" if until is None else owner
        taken = _day(begin)
        if change is not None and (change.by or change.reason):
            said = ": ".join(x for x in (change.by and f"by {change.by}", change.reason) if x)
            taken += f" ({said})"
        rows.append(f"| {who} | {taken} | {_day(until)} | {_under(account, eps, begin, until)} |")
    return rows


def _under(
    account: Account,
    eps: Sequence[CycleEpisode],
    begin: datetime | None,
    end: datetime | None,
) -> str:
    """What happened to the account between ``begin`` and ``end`` (open ends allowed)."""

    def inside(t: datetime) -> bool:
        return (begin is None or not v.before(t, begin)) and (end is None or v.before(t, end))

    moved = [r for r in account.history if inside(r.at)]
    if moved:
        parts = ["moved " + " → ".join([moved[0].source, *(r.dest for r in moved)])]
    else:
        before = [r for r in account.history if begin is not None and not v.before(begin, r.at)]
        held = before[-1].dest if before else account.stage
        parts = [f"stayed in {held}"]
    opened = [e for e in eps if inside(e.opened_at)]
    for e in opened:
        outcome = {"recovered": f"recovered to {e.returned_to}", "lost": "lost"}.get(
            e.outcome.value, "still open"
        )
        parts.append(f"a crisis from {e.opened_at.date().isoformat()} ({outcome})")
    seen = [s for s in account.snapshots if inside(s.at) and s.health is not None]
    if len(seen) == 1:
        parts.append(f"health {seen[0].health:.0f}")
    elif seen:
        parts.append(f"health {seen[0].health:.0f} → {seen[-1].health:.0f}")
    return "; ".join(parts)


def handover_brief(
    account: Account,
    lifecycle: Lifecycle | None = None,
    *,
    as_of: datetime | None = None,
    open_plans: Sequence[str] = (),
) -> str:
    """A short markdown brief for a new owner: owners, path, crises, and how to show up.

    The owners come first after where the account stands, the current one on top: who
    owned it from when to when, who made each change and why, and what happened under
    each owner (stages, crises, health), so a new owner knows where the customer has been.

    Args:
        account: The account being handed over.
        lifecycle: Its lifecycle (default ``STARS``).
        as_of: The date of the hand-over (default: the latest record or snapshot).
        open_plans: One-line descriptions of open recovery plans, if any.

    Returns:
        Markdown text.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import STARS, Account, handover_brief
        >>> a = Account("acme", name="Acme")
        >>> _ = STARS.fire(a, "sign", at=datetime(2025, 1, 1, tzinfo=timezone.utc),
        ...                force=True, reason="import")
        >>> print(handover_brief(a).splitlines()[0])
        # Hand-over brief: Acme (acme)
    """
    _need_account(account)
    lc = lifecycle or STARS
    if not isinstance(lc, Lifecycle):
        raise InvalidValue("lifecycle", lifecycle, "a Lifecycle")
    if isinstance(open_plans, str) or not isinstance(open_plans, Sequence):
        raise InvalidValue("open_plans", open_plans, "a list of one-line descriptions")
    times = [r.at for r in account.history] + [s.at for s in account.snapshots]
    _need_time("as_of", as_of)
    if as_of is not None and times and as_of < max(times):
        raise InvalidValue(
            "as_of", as_of, f"a time at or after the account's latest ({max(times)})"
        )
    now = as_of or (max(times) if times else None)
    lines = [f"# Hand-over brief: {account.name or account.id} ({account.id})", ""]
    stage_since = account.stage_since
    since = f" since {stage_since.date().isoformat()}" if stage_since else ""
    lines.append(f"**Where it stands:** {account.stage}{since}.")
    latest = account.latest
    if latest is not None:
        band = lc.policy.band_of(latest)
        health = f"{latest.health:.0f}" if latest.health is not None else "not scored"
        lines.append(
            f"**Latest signals ({latest.at.date().isoformat()}):** health {health}"
            f", band {band.value if band else 'unknown'}."
        )
    lines += ["", "## Owners", ""]
    lines += _owner_lines(account, lc, now)
    lines += ["", "## The path so far", ""]
    if not account.history:
        lines.append("No transitions recorded yet.")
    else:
        lines += ["| stage | entered | time there |", "|---|---|---|"]
        entered = [(r.dest, r.at) for r in account.history]
        for i, (stage, at) in enumerate(entered):
            end = entered[i + 1][1] if i + 1 < len(entered) else now
            span = _fmt_days((end - at).total_seconds() / _DAY) if end else "–"
            lines.append(f"| {stage} | {at.date().isoformat()} | {span} |")
    eps: tuple[CycleEpisode, ...] = episodes(account, lc.kind_of)
    lines += ["", "## Crisis and recovery episodes", ""]
    if not eps:
        lines.append("None: the account has not fallen out of its growth stages.")
    for e in eps:
        length = _fmt_days(e.duration_until(now or e.opened_at).total_seconds() / _DAY)
        path = " → ".join(e.stages)
        ending = {
            "recovered": f"recovered to {e.returned_to}",
            "lost": "lost",
            "ongoing": "still open",
        }
        relapse = " (a relapse)" if e.relapse else ""
        lines.append(
            f"- {e.opened_at.date().isoformat()}: left {e.left} for {path}; "
            f"{ending[e.outcome.value]} after {length}{relapse}."
        )
    if open_plans:
        lines += ["", "## Open recovery plans", ""]
        lines += [f"- {p}" for p in open_plans]
    profile = lc.profile(account.stage)
    if profile is not None:
        lines += ["", "## How to show up", ""]
        lines.append(f"Take the role of {' and '.join(profile.posture)}. {profile.characteristics}")
        lines += [f"- {a}" for a in profile.key_actions]
    return "\n".join(lines) + "\n"
