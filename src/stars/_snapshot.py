"""The `Snapshot` value: what was known about an account at one moment.

It sits below `stars.account` so that `stars.health` can read snapshots without
depending on accounts (an account's HTML view scores its latest snapshot with
`stars.health`). Import it from `stars.account` or `stars`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from stars import _validate as v
from stars.bands import Band
from stars.errors import InvalidSignal, InvalidValue

__all__ = ["CARRIED", "Snapshot"]


def _to_band(value: object) -> Band | None:
    if value is None or isinstance(value, Band):
        return value
    if isinstance(value, str):
        try:
            return Band(value)
        except ValueError:
            pass
    raise InvalidSignal("band", value, "'red', 'yellow', 'green' or None")


_check_at = v.field(v.aware, InvalidSignal)


def _optional_flag(field: str, value: object, error: type[InvalidValue] = InvalidValue) -> None:
    if value is not None:
        v.flag(field, value, error)


_check_flag = v.field(_optional_flag, InvalidSignal)


def _to_metrics(value: object) -> dict[str, float]:
    return v.number_mapping("metrics", value, InvalidSignal)


def _opt(lo: float | None = None, hi: float | None = None, integer: bool = False) -> Any:
    return attrs.field(
        default=None,
        converter=v.plain_number,
        validator=v.optional_number(lo, hi, integer=integer, error=InvalidSignal),
    )


def _as_int_or_keep(value: Any) -> Any:
    value = v.plain_number(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@attrs.frozen(slots=True)
class Snapshot:
    """What was known about an account at one moment.

    Every numeric signal is optional (``None`` means not measured). Out-of-range, NaN
    or infinite values are refused with `InvalidSignal`.

    The flags are optional too: ``None`` means the snapshot does not report it. The
    flags that describe a standing fact (``contract_signed``, ``success_metrics_agreed``,
    ``expansion_open``, ``champion_engaged``, ``critical_risk``) stay as the last
    snapshot that reported them said, until a later snapshot says otherwise, so a feed
    that sends only scores does not undo an agreement (see `Account.known`). The two
    that announce an event (``reonboarding_agreed``, ``new_business_unit``) count only
    on the snapshot that carries them.

    Attributes:
        at: When the signals were read (timezone-aware).
        health: Health score from 0 to 100.
        band: Health band; when omitted, the lifecycle derives it from ``health`` with its policy.
        adoption: Share of the purchased capability in active use, 0 to 1.
        nps: Net promoter score, -100 to 100.
        csat: Customer satisfaction, 0 to 100.
        open_tickets: Support tickets currently open.
        days_since_contact: Days since the last real conversation with the customer.
        sentiment: The account team's qualitative read, -1 (bad) to 1 (good).
        contract_signed: A contract start is recorded.
        success_metrics_agreed: The customer and the team agreed how success is measured.
        expansion_open: An expansion opportunity is open.
        champion_engaged: A champion on the customer side is active.
        reonboarding_agreed: The customer agreed to start onboarding again.
        new_business_unit: A new product line or business unit is starting onboarding.
        critical_risk: A critical risk finding is open.
        metrics: Any other named numeric signals.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import Snapshot
        >>> s = Snapshot(at=datetime(2025, 1, 6, tzinfo=timezone.utc), adoption=0.4, open_tickets=3)
        >>> s.adoption, s.open_tickets, s.band
        (0.4, 3, None)
        >>> Snapshot(at=datetime(2025, 1, 6), health=50)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidSignal: at: got datetime.datetime(2025, 1, 6, 0, 0), expected ...
    """

    at: datetime = attrs.field(validator=_check_at)
    health: float | None = _opt(0, 100)
    band: Band | None = attrs.field(default=None, converter=_to_band)
    adoption: float | None = _opt(0, 1)
    nps: float | None = _opt(-100, 100)
    csat: float | None = _opt(0, 100)
    open_tickets: int | None = attrs.field(
        default=None,
        converter=attrs.converters.optional(_as_int_or_keep),
        validator=v.optional_number(0, None, integer=True, error=InvalidSignal),
    )
    days_since_contact: float | None = _opt(0)
    sentiment: float | None = _opt(-1, 1)
    contract_signed: bool | None = attrs.field(default=None, validator=_check_flag)
    success_metrics_agreed: bool | None = attrs.field(default=None, validator=_check_flag)
    expansion_open: bool | None = attrs.field(default=None, validator=_check_flag)
    champion_engaged: bool | None = attrs.field(default=None, validator=_check_flag)
    reonboarding_agreed: bool | None = attrs.field(default=None, validator=_check_flag)
    new_business_unit: bool | None = attrs.field(default=None, validator=_check_flag)
    critical_risk: bool | None = attrs.field(default=None, validator=_check_flag)
    metrics: Mapping[str, float] = attrs.field(factory=dict, converter=_to_metrics, hash=False)


#: The snapshot flags that describe a standing fact, carried forward by `Account.known`.
CARRIED: Final = (
    "contract_signed",
    "success_metrics_agreed",
    "expansion_open",
    "champion_engaged",
    "critical_risk",
)
