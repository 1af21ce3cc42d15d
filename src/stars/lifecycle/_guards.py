"""Guards: what a guard sees (`GuardContext`), the `Guard` value and the built-in `GUARDS`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from stars import _validate as v
from stars._shown import short_of
from stars.account import (
    Account,
    Snapshot,
)
from stars.bands import Band
from stars.errors import (
    InvalidDefinition,
)
from stars.lifecycle._evidence import (
    _DAY,
    _customer_since,
    _green_streak,
    _slope,
    _stars_kind,
    _upto,
)
from stars.lifecycle._policy import Policy
from stars.stages import StageKind

if TYPE_CHECKING:
    pass


# --------------------------------------------------------------------------- guards
@attrs.frozen(slots=True, eq=False)
class GuardContext:
    """What a guard sees: the account, its snapshot as known at ``at``, the policy.

    ``snapshot`` is `Account.known` at ``at``: the latest snapshot, with the standing
    facts (a signed contract, agreed success metrics, ...) carried from earlier ones.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import Account, GuardContext, Policy
        >>> ctx = GuardContext(Account("a"), None, Policy(),
        ...                    datetime(2025, 1, 1, tzinfo=timezone.utc), "sign", "seed", None)
        >>> ctx.band is None
        True
    """

    account: Account
    snapshot: Snapshot | None
    policy: Policy
    at: datetime
    trigger: str
    dest: str
    reason: str | None
    kind_of: Callable[[str], StageKind] | None = attrs.field(default=None, repr=False)

    @property
    def band(self) -> Band | None:
        """The latest snapshot's band (derived from health with the policy when not given).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import Account, GuardContext, Policy, Snapshot
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> GuardContext(Account("a"), Snapshot(at=t, health=10), Policy(), t,
            ...              "escalate", "tact", None).band
            <Band.RED: 'red'>
        """
        return self.policy.band_of(self.snapshot)

    @property
    def snapshots(self) -> Sequence[Snapshot]:
        """The account's snapshots up to ``at``.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import Account, GuardContext, Policy
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> GuardContext(Account("a"), None, Policy(), t, "sign", "seed", None).snapshots
            ()
        """
        return _upto(self.account.snapshots, self.at)


GuardFn = Callable[[GuardContext], str | None]


@attrs.frozen(slots=True)
class Guard:
    """A named, pure predicate on a transition.

    ``check`` returns ``None`` to allow, or the reason it refuses.

    Attributes:
        name: A stable name (used in exported definitions).
        label: A short text shown on diagrams.
        check: The predicate.

    Examples:
        >>> from stars import Guard
        >>> g = Guard("always", "always", lambda ctx: None)
        >>> g.name
        'always'
    """

    name: str = attrs.field(validator=v.field(v.text))
    label: str
    check: GuardFn = attrs.field(eq=False, repr=False)

    @check.validator
    def _callable(self, attribute: Any, value: Any) -> None:
        if not callable(value):
            raise InvalidDefinition(f"guard {self.name!r}: check must be callable, got {value!r}")


def _need_band(ctx: GuardContext) -> tuple[Band | None, str | None]:
    if ctx.snapshot is None:
        return None, "no snapshot observed yet"
    band = ctx.band
    if band is None:
        return None, "no health reading in the latest snapshot"
    return band, None


def _g_contract(ctx: GuardContext) -> str | None:
    if ctx.snapshot is None or not ctx.snapshot.contract_signed:
        return "no contract start is recorded"
    return None


def _g_metrics(ctx: GuardContext) -> str | None:
    if ctx.snapshot is None or not ctx.snapshot.success_metrics_agreed:
        return "success metrics are not agreed yet"
    return None


def _g_green(ctx: GuardContext) -> str | None:
    band, why = _need_band(ctx)
    if why:
        return why
    return None if band is Band.GREEN else f"health is {band}, not green"


def _g_green_streak(ctx: GuardContext) -> str | None:
    need = ctx.policy.green_streak
    got = _green_streak(ctx.snapshots, ctx.policy, cap=need)
    return None if got >= need else f"green for {got} readings in a row, {need} needed"


def _g_tenure(ctx: GuardContext) -> str | None:
    start = _customer_since(ctx.account, ctx.kind_of or _stars_kind)
    need = ctx.policy.min_tenure_days
    if start is None:
        return "customer tenure is unknown (no sign record and no 'since')"
    days = (ctx.at - start).total_seconds() / _DAY
    if days >= need:
        return None
    got, needed = short_of(days, need)
    return f"a customer for {got} days, {needed} needed"


def _g_expansion(ctx: GuardContext) -> str | None:
    if ctx.snapshot is None or not ctx.snapshot.expansion_open:
        return "no expansion opportunity is open"
    return None


def _g_new_unit(ctx: GuardContext) -> str | None:
    if ctx.snapshot is None or not ctx.snapshot.new_business_unit:
        return "no new product line or business unit is onboarding"
    return None


def _g_yellow_or_falling(ctx: GuardContext) -> str | None:
    band, why = _need_band(ctx)
    if why:
        return why
    if band is Band.YELLOW:
        return None
    slope = _slope(ctx.snapshots, ctx.policy.trend_window)
    if slope is not None and slope < -ctx.policy.trend_flat_within:
        return None
    return f"health is {band} and not falling"


def _g_red_or_critical(ctx: GuardContext) -> str | None:
    if ctx.snapshot is not None and ctx.snapshot.critical_risk:
        return None
    band, why = _need_band(ctx)
    if why:
        return why
    return None if band is Band.RED else f"health is {band}, not red, and no critical risk is open"


def _g_not_red(ctx: GuardContext) -> str | None:
    band, why = _need_band(ctx)
    if why:
        return why
    return None if band is not Band.RED else "health is still red"


def _g_reonboarding(ctx: GuardContext) -> str | None:
    if ctx.snapshot is None or not ctx.snapshot.reonboarding_agreed:
        return "re-onboarding is not agreed"
    return None


def _g_reason(ctx: GuardContext) -> str | None:
    return None if ctx.reason and ctx.reason.strip() else "a reason must be given"


GUARDS: Mapping[str, Guard] = {
    g.name: g
    for g in (
        Guard("contract_signed", "contract signed", _g_contract),
        Guard("success_metrics_agreed", "success metrics agreed", _g_metrics),
        Guard("health_green", "green", _g_green),
        Guard("green_streak", "green streak", _g_green_streak),
        Guard("min_tenure", "min tenure", _g_tenure),
        Guard("expansion_open", "expansion open", _g_expansion),
        Guard("new_business_unit", "new unit onboarding", _g_new_unit),
        Guard("yellow_or_falling", "yellow or falling", _g_yellow_or_falling),
        Guard("red_or_critical", "red or critical risk", _g_red_or_critical),
        Guard("not_red", "not red", _g_not_red),
        Guard("reonboarding_agreed", "re-onboarding agreed", _g_reonboarding),
        Guard("reason_given", "reason given", _g_reason),
    )
}
"""The built-in guards, by name. Exported lifecycle definitions refer to guards by these names."""
