"""Triage: save or release an account, by ICP fit, expected value against cost to serve, effort."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from stars import _validate as v
from stars._accounts import _need_account
from stars.account import Account
from stars.bands import Band
from stars.errors import InvalidValue
from stars.recovery._catalog import RISK_SOURCES
from stars.recovery._common import _as_tuple, _each_text, _member, _number
from stars.recovery._detect import _check_policy, detect
from stars.recovery._enums import (
    _L,
    Effort,
    Severity,
    TriageDecision,
    TriageFactor,
    _c_decision,
    _c_effort,
    _c_factor,
)
from stars.recovery._findings import DetectionPolicy, RiskFinding


@attrs.frozen(slots=True)
class TriagePolicy:
    """Where the line between saving and releasing an account falls.

    Attributes:
        release_below: An ICP fit (0-1) below this is released whatever the effort.
        marginal_below: A fit below this is released when the expected effort is high.
        min_value_ratio: When the expected value and the cost to serve are given, the value
            must be at least this many times the cost, else the account is released.
        high_effort_value_ratio: The multiple needed instead when the effort is high: a save
            that takes more of the team's time must be worth more.

    Examples:
        >>> from stars.recovery import TriagePolicy
        >>> TriagePolicy().release_below, TriagePolicy().min_value_ratio
        (0.3, 1.0)
        >>> TriagePolicy(min_value_ratio=3)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: high_effort_value_ratio: got 2.0, expected a number at or ...
    """

    release_below: float = attrs.field(default=0.3, validator=_number(0, 1))
    marginal_below: float = attrs.field(default=0.6, validator=_number(0, 1))
    min_value_ratio: float = attrs.field(default=1.0, validator=_number(0))
    high_effort_value_ratio: float = attrs.field(default=2.0, validator=_number(0))

    def __attrs_post_init__(self) -> None:
        if self.marginal_below < self.release_below:
            raise InvalidValue(
                "marginal_below",
                self.marginal_below,
                f"a number at or above release_below ({self.release_below})",
            )
        if self.high_effort_value_ratio < self.min_value_ratio:
            raise InvalidValue(
                "high_effort_value_ratio",
                self.high_effort_value_ratio,
                f"a number at or above min_value_ratio ({self.min_value_ratio})",
            )


def _check_value_pair(expected_value: float | None, cost_to_serve: float | None) -> None:
    if (expected_value is None) == (cost_to_serve is None):
        return
    given, missing = (
        ("expected_value", "cost_to_serve")
        if cost_to_serve is None
        else ("cost_to_serve", "expected_value")
    )
    raise InvalidValue(
        missing,
        None,
        f"a number of 0 or more when {given} is given",
        hint="the expected value is weighed against the cost to serve: give both or neither",
    )


@attrs.frozen(slots=True)
class Triage:
    """A recommendation to save or release an account, with the expected effort and why.

    Attributes:
        decision: Save or release.
        effort: The expected effort to bring the account back to green.
        icp_fit: The fit with the ideal customer profile that was weighed (0-1).
        reasons: Why, in the order weighed; the last one (`reason`) is the deciding one.
        decided_by: The factor that decided (`TriageFactor`).
        expected_value: The expected value weighed, if one was given.
        cost_to_serve: The cost to serve weighed, if one was given (given with
            ``expected_value`` or not at all).

    Examples:
        >>> from stars.recovery import Triage
        >>> r = Triage("save", "low", 0.9, ("fits the ideal customer profile",))
        >>> r.decision.value, r.decided_by.value
        ('save', 'icp_fit')
        >>> Triage("save", "low", 0.9, (), expected_value=5000)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: cost_to_serve: got None, expected a number of 0 or more when ...
    """

    decision: TriageDecision = attrs.field(converter=_c_decision, validator=_member(TriageDecision))
    effort: Effort = attrs.field(converter=_c_effort, validator=_member(Effort))
    icp_fit: float = attrs.field(validator=_number(0, 1))
    reasons: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_each_text)
    decided_by: TriageFactor = attrs.field(
        default=TriageFactor.ICP_FIT, converter=_c_factor, validator=_member(TriageFactor)
    )
    expected_value: float | None = attrs.field(default=None, validator=v.optional_number(0))
    cost_to_serve: float | None = attrs.field(default=None, validator=v.optional_number(0))

    def __attrs_post_init__(self) -> None:
        _check_value_pair(self.expected_value, self.cost_to_serve)
        if self.decided_by is TriageFactor.EXPECTED_VALUE and self.expected_value is None:
            raise InvalidValue(
                "decided_by",
                self.decided_by.value,
                "'icp_fit' or 'effort' when no expected value is given",
            )

    @property
    def reason(self) -> str:
        """The deciding reason (the last of ``reasons``); from `triage` it names the factor.

        Examples:
            >>> from stars.recovery import Triage
            >>> Triage("release", "high", 0.1, ("health is red", "decided by ICP fit")).reason
            'decided by ICP fit'
        """
        return self.reasons[-1] if self.reasons else ""


def _amount(x: float) -> str:
    return f"{x:,.0f}" if x == round(x) or abs(x) >= 100 else f"{x:,.2f}"


def _value_reason(value: float, cost: float, need: float, high: bool, enough: bool) -> str:
    ratio = f" ({value / cost:.2f}x)" if cost else ""
    return (
        f"decided by expected value: {_amount(value)} expected against a cost to serve of "
        f"{_amount(cost)}{ratio}, {'at least' if enough else 'below'} the {need:g}x needed"
        + (" when the effort is high" if high else "")
    )


def triage(
    account: Account,
    icp_fit: float,
    *,
    expected_value: float | None = None,
    cost_to_serve: float | None = None,
    findings: Iterable[RiskFinding] | None = None,
    policy: TriagePolicy | None = None,
    detection: DetectionPolicy | None = None,
) -> Triage:
    """Recommend whether to spend recovery effort on an account or let it go.

    Three factors are weighed, in this order; the first that says "release" decides:

    1. **ICP fit**: a fit below ``release_below`` is released whatever else holds. A poor
       fit is better let go, so the team's time goes to accounts that fit and can grow.
    2. **Expected value**, when ``expected_value`` and ``cost_to_serve`` are given: a value
       below ``min_value_ratio`` times the cost (``high_effort_value_ratio`` times when the
       effort is HIGH) is released.
    3. **Effort**: a fit below ``marginal_below`` is released when the effort is HIGH.

    Otherwise the account is saved, decided by the expected value when it was given, else
    by the fit. `Triage.decided_by` names the deciding factor, and `Triage.reason` (the last
    of ``reasons``) says why, starting with "decided by".

    Effort is HIGH when the account is red, a finding is CRITICAL, or a late-phase risk
    source (ROI doubts, a proof-of-concept rerun, a competitor) is present; MEDIUM when a
    finding is HIGH, the account is yellow, or there are three findings or more; LOW
    otherwise.

    Args:
        account: The account.
        icp_fit: How well it matches the ideal customer profile, 0 to 1.
        expected_value: What keeping the account should bring (the renewal and the growth
            expected), 0 or more, in the same unit and over the same horizon as
            ``cost_to_serve``. Give both or neither.
        cost_to_serve: What keeping it will cost over that horizon (the team's time,
            support, the save itself), 0 or more.
        findings: The findings to weigh (default: `detect` on the account).
        policy: Where the lines fall.
        detection: Thresholds for detection and bands.

    Returns:
        The recommendation.

    Raises:
        InvalidValue: A number is out of range, or only one of ``expected_value`` and
            ``cost_to_serve`` is given.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.account import Account, Snapshot
        >>> from stars.recovery import triage
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> a = Account("a", stage="tact", snapshots=[Snapshot(at=t, health=25)])
        >>> r = triage(a, icp_fit=0.5)
        >>> r.decision.value, r.effort.value, r.decided_by.value
        ('release', 'high', 'effort')
        >>> triage(a, icp_fit=0.9).decision.value
        'save'
        >>> r = triage(a, icp_fit=0.9, expected_value=8_000, cost_to_serve=12_000)
        >>> r.decision.value, r.decided_by.value
        ('release', 'expected_value')
        >>> print(r.reason)  # doctest: +NORMALIZE_WHITESPACE
        decided by expected value: 8,000 expected against a cost to serve of 12,000 (0.67x),
        below the 2x needed when the effort is high
    """
    account = _need_account(account)
    fit = v.number("icp_fit", icp_fit, 0, 1)
    value = None if expected_value is None else v.number("expected_value", expected_value, 0)
    cost = None if cost_to_serve is None else v.number("cost_to_serve", cost_to_serve, 0)
    _check_value_pair(value, cost)
    if policy is None:
        policy = TriagePolicy()
    if not isinstance(policy, TriagePolicy):
        raise InvalidValue("policy", policy, "a TriagePolicy")
    detection = _check_policy(detection)
    found = (
        detect(account, policy=detection)
        if findings is None
        else list(v.tuple_of("findings", RiskFinding)(findings))
    )
    latest = account.latest
    band = None
    if latest is not None:
        band = latest.band if latest.health is None else detection.bands.band_for(latest.health)
    reasons: list[str] = []
    late = sorted({f.source for f in found if f.source and RISK_SOURCES[f.source].phase is _L})
    if band is Band.RED or any(f.severity is Severity.CRITICAL for f in found) or late:
        effort = Effort.HIGH
        if band is Band.RED:
            reasons.append("health is red")
        if any(f.severity is Severity.CRITICAL for f in found):
            reasons.append("a finding is critical")
        if late:
            reasons.append("late-phase risk present: " + ", ".join(late))
    elif band is Band.YELLOW or len(found) >= 3 or any(f.severity is Severity.HIGH for f in found):
        effort = Effort.MEDIUM
        reasons.append(
            f"{len(found)} finding(s)" + (", health is yellow" if band is Band.YELLOW else "")
        )
    else:
        effort = Effort.LOW
        reasons.append(f"{len(found)} finding(s) and no sign of deep trouble")
    high = effort is Effort.HIGH
    need = policy.high_effort_value_ratio if high else policy.min_value_ratio
    worth = None if value is None or cost is None else value >= cost * need
    if fit < policy.release_below:
        decision, factor = TriageDecision.RELEASE, TriageFactor.ICP_FIT
        reasons.append(
            f"decided by ICP fit: {fit:.2f} is below {policy.release_below:.2f}, a poor fit "
            "for the business, better to let it go"
        )
    elif value is not None and cost is not None and not worth:
        decision, factor = TriageDecision.RELEASE, TriageFactor.EXPECTED_VALUE
        reasons.append(_value_reason(value, cost, need, high, enough=False))
    elif fit < policy.marginal_below and high:
        decision, factor = TriageDecision.RELEASE, TriageFactor.EFFORT
        reasons.append(
            f"decided by effort: the effort is high and the ICP fit {fit:.2f} is below "
            f"{policy.marginal_below:.2f}"
        )
    elif value is not None and cost is not None:
        decision, factor = TriageDecision.SAVE, TriageFactor.EXPECTED_VALUE
        reasons.append(_value_reason(value, cost, need, high, enough=True))
    else:
        decision, factor = TriageDecision.SAVE, TriageFactor.ICP_FIT
        reasons.append(f"decided by ICP fit: {fit:.2f} justifies the effort")
    return Triage(decision, effort, fit, tuple(reasons), factor, value, cost)
