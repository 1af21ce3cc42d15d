"""The link from recovery to a lifecycle: opening, closing or losing a plan moves the stage."""

from __future__ import annotations

from stars import _validate as v
from stars.errors import InvalidValue
from stars.lifecycle import Lifecycle
from stars.recovery._process import RecoveryEvent, RecoveryHook, RecoveryProcess


class LifecycleLink:
    """Connects a recovery process to a lifecycle: plan moves fire lifecycle triggers.

    Made by `link_lifecycle`. While ``enabled``:

    - opening a plan for an account in a growth stage moves it into the crisis stage the
      evidence supports: ``escalate`` (to TACT) when the lifecycle's guards allow it,
      otherwise ``stagnate`` (to RESET) when they allow that; otherwise nothing moves;
    - closing a plan recovered moves an account in TACT with ``stabilize`` and one in
      RESET with ``realign``; the lifecycle's guards still apply, and a refusal surfaces
      as `HookFailed` (the closed plan is ``err.record``);
    - losing a plan fires ``lose`` unless the account already churned.

    Each lifecycle transition carries a reason naming the plan. The account must be
    passed to `RecoveryProcess.open` / `RecoveryProcess.fire` as an
    `Account`; without it the hooks do nothing.

    Examples:
        >>> from stars.lifecycle import STARS
        >>> from stars.recovery import RecoveryProcess, link_lifecycle
        >>> link = link_lifecycle(RecoveryProcess(), STARS.evolve())
        >>> link.enabled
        False
    """

    def __init__(self, process: RecoveryProcess, lifecycle: Lifecycle, enabled: bool) -> None:
        self.process = process
        self.lifecycle = lifecycle
        self.enabled = v.flag("enabled", enabled)
        self._hooks: tuple[RecoveryHook, ...] = (
            process.after("open")(self._on_open),
            process.after("close")(self._on_close),
            process.after("lose")(self._on_lose),
        )

    def enable(self) -> None:
        """Turn the link on.

        Examples:
            >>> from stars.lifecycle import STARS
            >>> from stars.recovery import RecoveryProcess, link_lifecycle
            >>> link = link_lifecycle(RecoveryProcess(), STARS.evolve())
            >>> link.enable(); link.enabled
            True
        """
        self.enabled = True

    def disable(self) -> None:
        """Turn the link off (the hooks stay registered but do nothing).

        Examples:
            >>> from stars.lifecycle import STARS
            >>> from stars.recovery import RecoveryProcess, link_lifecycle
            >>> link = link_lifecycle(RecoveryProcess(), STARS.evolve(), enabled=True)
            >>> link.disable(); link.enabled
            False
        """
        self.enabled = False

    def unlink(self) -> None:
        """Remove the link's hooks from the process.

        Examples:
            >>> from stars.lifecycle import STARS
            >>> from stars.recovery import RecoveryProcess, link_lifecycle
            >>> process = RecoveryProcess()
            >>> link_lifecycle(process, STARS.evolve()).unlink()
        """
        for hook in self._hooks:
            self.process.remove_hook(hook)

    def _fire(self, event: RecoveryEvent, trigger: str, why: str) -> None:
        assert event.account is not None
        self.lifecycle.fire(
            event.account,
            trigger,
            at=event.at,
            actor=event.actor,
            reason=f"recovery plan {event.plan.id!r} {why}",
        )

    def _on_open(self, event: RecoveryEvent) -> None:
        account = event.account
        if not self.enabled or account is None:
            return
        if self.lifecycle.kind_of(account.stage).value != "growth":
            return
        for trigger in ("escalate", "stagnate"):
            if trigger in self.lifecycle.triggers:
                verdict = self.lifecycle.check(account, trigger, at=event.at)
                if verdict.allowed:
                    self._fire(event, trigger, "opened")
                    return

    def _on_close(self, event: RecoveryEvent) -> None:
        account = event.account
        if not self.enabled or account is None:
            return
        trigger = {"tact": "stabilize", "reset": "realign"}.get(account.stage)
        if trigger is not None:
            self._fire(event, trigger, "closed recovered")

    def _on_lose(self, event: RecoveryEvent) -> None:
        account = event.account
        if not self.enabled or account is None:
            return
        if "lose" in self.lifecycle.triggers and self.lifecycle.kind_of(account.stage).value in (
            "growth",
            "crisis",
        ):
            self._fire(event, "lose", "ended lost")


def link_lifecycle(
    process: RecoveryProcess, lifecycle: Lifecycle, *, enabled: bool = False
) -> LifecycleLink:
    """Link a recovery process to a lifecycle, so plans move the account's stage.

    The link is off by default, for teams that drive the lifecycle themselves; turn it
    on with ``enabled=True`` or `LifecycleLink.enable`. See `LifecycleLink`
    for what it fires.

    Args:
        process: The recovery process whose plans drive the account.
        lifecycle: The lifecycle that moves the account (usually ``STARS`` or a copy).
        enabled: Start enabled.

    Returns:
        The link.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.account import Account, Snapshot
        >>> from stars.lifecycle import STARS
        >>> from stars.recovery import RecoveryProcess, link_lifecycle
        >>> process = RecoveryProcess()
        >>> _ = link_lifecycle(process, STARS, enabled=True)
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> a = Account("a", stage="ascend", snapshots=[Snapshot(at=t, health=30)])
        >>> _ = process.open(a, at=t)
        >>> a.stage, a.history[-1].reason
        ('tact', "recovery plan 'a-2025-01-01' opened")
    """
    if not isinstance(process, RecoveryProcess):
        raise InvalidValue("process", process, "a RecoveryProcess")
    if not isinstance(lifecycle, Lifecycle):
        raise InvalidValue("lifecycle", lifecycle, "a Lifecycle")
    return LifecycleLink(process, lifecycle, enabled)
