"""The derive rule one account at a time (private; see `stars.derive`)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

import attrs

from stars import _validate as v
from stars._trend import slope_per_30_days
from stars.account import Account, Snapshot
from stars.bands import Band
from stars.errors import InvalidDefinition, InvalidSignal, InvalidValue
from stars.lifecycle import STARS, Event, Evidence, Lifecycle, Policy, diagnose_stars

if TYPE_CHECKING:
    pass

__all__ = [
    "CONTRACT_KINDS",
    "RULES",
    "DeriveRule",
    "DerivedEvent",
    "Fact",
    "derive_account",
    "derive_events",
]

_DAY: Final = 86400.0

#: The contract facts a `Fact` may carry: a contract starts, is renewed, or ends.
CONTRACT_KINDS: Final = ("start", "renewal", "end")

#: The rules a derived event can come from, by name, with what each means.
RULES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "contract_signed": "a contract is in force: a prospect signs (SEED)",
        "contract_won_back": "a contract is in force again after churn: win back, then sign",
        "contract_ended": "the contract ended: an active account is lost (CHURN)",
        "reonboarding_agreed": "re-onboarding was agreed: a TACT account restarts in SEED",
        "new_business_unit": "a new product line or business unit is onboarding: back to SEED",
        "evidence": (
            "the evidence pointed to the move for enough readings in a row, after the"
            " minimum dwell in the stage"
        ),
    }
)

_ACTIVE: Final = frozenset(("seed", "accelerate", "ascend", "reset", "tact"))

# Reasons, in words that match the guards and diagnose_stars (figures are left out, so the
# one-at-a-time and the batch forms write the same text).
_WHY_RED: Final = "health is red"
_WHY_CRITICAL: Final = "a critical risk finding is open"
_WHY_YELLOW: Final = "health is yellow"
_WHY_FALLING: Final = "health is falling"
_WHY_GREEN: Final = "health is green and success metrics are agreed"
_WHY_SETTLED: Final = "green for enough readings in a row and a customer for long enough"
_WHY_STREAK: Final = "green for enough readings in a row"
_WHY_EXPANSION: Final = "an expansion opportunity is open"
_WHY_NOT_RED: Final = "health is no longer red"
_WHY_ANNOUNCED: Final[Mapping[str, str]] = MappingProxyType(
    {
        "contract_signed": "a contract start is recorded",
        "contract_won_back": "a new contract after churn",
        "contract_ended": "the contract ended",
        "reonboarding_agreed": "re-onboarding was agreed",
        "new_business_unit": "a new product line or business unit is onboarding",
    }
)

#: Every move the rule can take: (trigger, source stages, destination).
_MOVES: Final = (
    ("sign", ("prospect",), "seed"),
    ("win_back", ("churn",), "prospect"),
    ("lose", tuple(sorted(_ACTIVE)), "churn"),
    ("restart", ("tact",), "seed"),
    ("reseed", ("accelerate", "ascend"), "seed"),
    ("accelerate", ("seed",), "accelerate"),
    ("sustain", ("accelerate",), "ascend"),
    ("expand", ("ascend",), "accelerate"),
    ("stagnate", ("accelerate", "ascend"), "reset"),
    ("escalate", ("seed", "accelerate", "ascend", "reset"), "tact"),
    ("realign", ("reset",), "ascend"),
    ("realign", ("reset",), "accelerate"),
    ("stabilize", ("tact",), "reset"),
)


# --------------------------------------------------------------------------- values
def _to_band(value: object) -> Band | None:
    if value is None or isinstance(value, Band):
        return value
    if isinstance(value, str) and value in Band._value2member_map_:
        return Band(value)
    raise InvalidSignal("band", value, "'red', 'yellow', 'green' or None")


def _check_contract(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and value not in CONTRACT_KINDS:
        raise InvalidValue("contract", value, "'start', 'renewal', 'end' or None")


def _optional_flag(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        v.flag(attribute.name, value, InvalidSignal)


def _flag() -> Any:
    return attrs.field(default=None, validator=_optional_flag)


@attrs.frozen(slots=True)
class Fact:
    """One dated fact about an account: a health reading, standing flags, a contract fact.

    A fact is one row of a frame of monthly facts (`derive_frame` reads the same names as
    columns). Every field but ``at`` is optional; ``None`` means the fact does not say.
    The standing flags (``contract_signed``, ``success_metrics_agreed``, ``expansion_open``,
    ``critical_risk``) hold until a later fact says otherwise, as on a `stars.Snapshot`;
    ``reonboarding_agreed`` and ``new_business_unit`` count only on the fact that carries
    them.

    ``contract`` is the plain contract fact of the day: ``"start"`` or ``"renewal"``
    (a contract is in force: ``contract_signed`` is True from here) or ``"end"`` (it ended:
    ``contract_signed`` is False from here). It cannot contradict ``contract_signed`` on
    the same fact.

    Attributes:
        at: When it was true (timezone-aware).
        health: Health score from 0 to 100.
        band: Health band; when omitted, the lifecycle's policy derives it from ``health``.
        contract: ``"start"``, ``"renewal"``, ``"end"`` or ``None``.
        contract_signed: A contract is in force.
        success_metrics_agreed: The customer and the team agreed how success is measured.
        expansion_open: An expansion opportunity is open.
        critical_risk: A critical risk finding is open.
        reonboarding_agreed: The customer agreed to start onboarding again.
        new_business_unit: A new product line or business unit is starting onboarding.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.derive import Fact
        >>> f = Fact(datetime(2025, 1, 1, tzinfo=timezone.utc), health=72, contract="start")
        >>> f.signed, f.snapshot().contract_signed
        (True, True)
        >>> Fact(datetime(2025, 1, 1, tzinfo=timezone.utc), contract="ended")
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: contract: got 'ended', expected 'start', 'renewal', 'end' or None
    """

    at: datetime = attrs.field(validator=v.field(v.aware, InvalidSignal))
    health: float | None = attrs.field(
        default=None,
        converter=v.plain_number,
        validator=v.optional_number(0, 100, error=InvalidSignal),
    )
    band: Band | None = attrs.field(default=None, converter=_to_band)
    contract: str | None = attrs.field(default=None, validator=_check_contract)
    contract_signed: bool | None = _flag()
    success_metrics_agreed: bool | None = _flag()
    expansion_open: bool | None = _flag()
    critical_risk: bool | None = _flag()
    reonboarding_agreed: bool | None = _flag()
    new_business_unit: bool | None = _flag()

    def __attrs_post_init__(self) -> None:
        if self.contract is not None and self.contract_signed is not None:
            said = self.contract != "end"
            if self.contract_signed is not said:
                raise InvalidValue(
                    "contract_signed",
                    self.contract_signed,
                    f"{said} or None on a fact with contract={self.contract!r}",
                )

    @property
    def signed(self) -> bool | None:
        """Whether this fact says a contract is in force (``None`` when it does not say).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.derive import Fact
            >>> print(Fact(datetime(2025, 1, 1, tzinfo=timezone.utc), contract="end").signed)
            False
        """
        if self.contract is not None:
            return self.contract != "end"
        return self.contract_signed

    def snapshot(self) -> Snapshot:
        """The fact as a `stars.Snapshot` (the contract fact becomes ``contract_signed``).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.derive import Fact
            >>> Fact(datetime(2025, 1, 1, tzinfo=timezone.utc), health=30).snapshot().health
            30
        """
        return Snapshot(
            at=self.at,
            health=self.health,
            band=self.band,
            contract_signed=self.signed,
            success_metrics_agreed=self.success_metrics_agreed,
            expansion_open=self.expansion_open,
            critical_risk=self.critical_risk,
            reonboarding_agreed=self.reonboarding_agreed,
            new_business_unit=self.new_business_unit,
        )

    @classmethod
    def of(cls, snapshot: Snapshot, contract: str | None = None) -> Fact:
        """A fact from a snapshot (its other signals are not read by the rule).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import Snapshot
            >>> from stars.derive import Fact
            >>> snap = Snapshot(at=datetime(2025, 1, 1, tzinfo=timezone.utc), health=64)
            >>> Fact.of(snap, contract="renewal").signed
            True
        """
        if not isinstance(snapshot, Snapshot):
            raise InvalidValue("snapshot", snapshot, "a Snapshot")
        return cls(
            at=snapshot.at,
            health=snapshot.health,
            band=snapshot.band,
            contract=contract,
            contract_signed=snapshot.contract_signed if contract is None else None,
            success_metrics_agreed=snapshot.success_metrics_agreed,
            expansion_open=snapshot.expansion_open,
            critical_risk=snapshot.critical_risk,
            reonboarding_agreed=snapshot.reonboarding_agreed,
            new_business_unit=snapshot.new_business_unit,
        )


_whole_at_least_1 = v.field(v.number, 1, None, integer=True)
_non_negative = v.field(v.number, 0, None)


@attrs.frozen(slots=True)
class DeriveRule:
    """How much evidence a move needs before it is derived (hysteresis and dwell).

    Attributes:
        confirm: Readings in a row that must point to the same move before it is taken
            (hysteresis): with 2, one noisy month moves nothing. 1 takes every move the
            evidence allows at once.
        min_dwell_days: Days an account stays in a stage before the evidence may move it
            on. Moves announced by a fact (contracts, re-onboarding, a new business unit)
            do not wait.

    Examples:
        >>> from stars.derive import DeriveRule
        >>> DeriveRule().confirm, DeriveRule().min_dwell_days
        (2, 60.0)
        >>> DeriveRule(confirm=0)
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: confirm: got 0, expected a whole number at or above 1
    """

    confirm: int = attrs.field(default=2, validator=_whole_at_least_1)
    min_dwell_days: float = attrs.field(
        default=60.0, converter=v.plain_number, validator=_non_negative
    )


@attrs.frozen(slots=True)
class DerivedEvent:
    """A derived transition: the event to replay, the rule that produced it and its evidence.

    Attributes:
        account_id: The account.
        event: The `stars.Event` to fire or replay (``to`` is always set; ``reason`` says
            why in words).
        source: The stage the account was in.
        rule: The rule's name (a key of `RULES`).
        evidence: The evidence as of the fact, before the fact moved the account.
        readings: For the ``evidence`` rule, how many readings in a row pointed to the
            move; 0 for moves announced by a fact.
        days_in_stage: Days the account had spent in ``source`` (``None`` for a prospect
            that was never anything else).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.derive import Fact, derive_events
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> (d,) = derive_events("acme", [Fact(t, contract="start")])
        >>> d.event.trigger, d.event.to, d.rule, d.event.reason
        ('sign', 'seed', 'contract_signed', 'a contract start is recorded')
    """

    account_id: str
    event: Event
    source: str
    rule: str
    evidence: Evidence
    readings: int = 0
    days_in_stage: float | None = None

    @property
    def dest(self) -> str:
        """The stage the event leads to.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.derive import Fact, derive_events
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> derive_events("a", [Fact(t, contract_signed=True)])[0].dest
            'seed'
        """
        return self.event.to or ""


# --------------------------------------------------------------------------- the rule
def _check_lifecycle(lifecycle: object) -> Lifecycle:
    """Refuse a lifecycle whose diagnosis or graph is not the STARS one the rule assumes."""
    if not isinstance(lifecycle, Lifecycle):
        raise InvalidValue("lifecycle", lifecycle, "a Lifecycle")
    if getattr(lifecycle, "_diagnoser", None) is not diagnose_stars:
        raise InvalidDefinition(
            f"lifecycle {lifecycle.name!r} diagnoses with its own rule; deriving events"
            " applies the default STARS rule only"
        )
    edges = {(s, t.trigger, t.dest) for t in lifecycle.transitions for s in t.sources}
    missing = [
        f"{trigger}: {source} -> {dest}"
        for trigger, sources, dest in _MOVES
        for source in sources
        if (source, trigger, dest) not in edges
    ]
    if missing:
        raise InvalidDefinition(
            f"lifecycle {lifecycle.name!r} lacks transitions the derive rule takes: "
            + ", ".join(missing)
        )
    return lifecycle


def _check_rule(rule: object) -> DeriveRule:
    if rule is None:
        return DeriveRule()
    if not isinstance(rule, DeriveRule):
        raise InvalidValue("rule", rule, "a DeriveRule or None")
    return rule


def _evidence_move(
    stage: str, target: str | None, ev: Evidence, policy: Policy
) -> tuple[str, str, str] | None:
    """The one transition from ``stage`` toward ``target`` whose guards pass on ``ev``.

    Returns (trigger, destination, reason) or ``None``. Each branch states the guard of its
    transition in evidence terms (the property tests fire the result through the real
    guards).
    """
    if target is None or target == stage:
        return None
    if target == "tact":  # red or a critical risk: escalate from any active stage but TACT
        reds = [
            w
            for w, on in ((_WHY_RED, ev.band is Band.RED), (_WHY_CRITICAL, ev.critical_risk))
            if on
        ]
        return "escalate", "tact", "; ".join(reds)
    if stage == "seed":
        if target in ("accelerate", "ascend"):  # green with metrics agreed
            return "accelerate", "accelerate", _WHY_GREEN
        return None
    if stage == "tact":  # anything but TACT; the guard needs a band that is not red
        return ("stabilize", "reset", _WHY_NOT_RED) if ev.band is not None else None
    if target == "reset":
        if ev.band is None:  # the stagnate guard needs a band
            return None
        falling = ev.slope is not None and ev.slope < -policy.trend_flat_within
        whys = [
            w for w, on in ((_WHY_YELLOW, ev.band is Band.YELLOW), (_WHY_FALLING, falling)) if on
        ]
        return "stagnate", "reset", "; ".join(whys)
    if stage == "accelerate":
        return ("sustain", "ascend", _WHY_SETTLED) if target == "ascend" else None
    if stage == "ascend":
        if target == "accelerate" and ev.expansion_open:
            return "expand", "accelerate", _WHY_EXPANSION
        return None
    # RESET: realign once green for the policy's streak (to ASCEND when settled)
    if target == "ascend":
        return "realign", "ascend", _WHY_SETTLED
    if target == "accelerate" and ev.green_streak >= policy.green_streak:
        return "realign", "accelerate", _WHY_STREAK
    return None


def _readings(n: int) -> str:
    return f"seen in {n} reading{'s' if n != 1 else ''} in a row"


def _as_fact(i: int, item: object) -> Fact:
    if isinstance(item, Fact):
        return item
    if isinstance(item, Snapshot):
        return Fact.of(item)
    raise InvalidValue(f"facts[{i}]", item, "a Fact or a Snapshot")


def _facts(facts: object) -> list[Fact]:
    if isinstance(facts, str | bytes) or not isinstance(facts, Iterable):
        raise InvalidValue("facts", facts, "an iterable of Fact or Snapshot values")
    out = [_as_fact(i, item) for i, item in enumerate(facts)]
    for i in range(1, len(out)):
        if not v.before(out[i - 1].at, out[i].at):
            raise InvalidValue(
                f"facts[{i}].at",
                out[i].at,
                f"a time after the previous fact's ({out[i - 1].at.isoformat()})",
                hint="one fact per account and time, in time order",
            )
    return out


def _seconds(a: datetime, b: datetime) -> float:
    """Seconds from instant ``b`` to instant ``a``, as the batch form computes them."""
    return (v.instant(a) - v.instant(b)) / _SECOND


_SECOND: Final = datetime(2000, 1, 1, 0, 0, 1, tzinfo=UTC) - datetime(2000, 1, 1, tzinfo=UTC)


def derive_events(
    account_id: str,
    facts: Iterable[Fact | Snapshot],
    *,
    lifecycle: Lifecycle = STARS,
    rule: DeriveRule | None = None,
) -> tuple[DerivedEvent, ...]:
    """Derive an account's lifecycle events from its facts, one fact at a time.

    The account starts as a prospect. At each fact, in order:

    1. The standing flags are carried forward; the band is the fact's own or comes from
       its health with the policy's cut-offs; the green streak, the trend (the slope of
       the policy's last ``trend_window`` health readings) and the tenure (days since the
       last ``sign``) are updated, exactly as `stars.evidence` computes them.
    2. A fact that announces a move takes it, whatever the dwell: a contract in force
       signs a prospect (``sign``) or wins a churned account back (``win_back``, then
       ``sign`` at the same time); a contract no longer in force loses an active account
       (``lose``); an agreed re-onboarding restarts TACT (``restart``); a new business
       unit reseeds ACCELERATE or ASCEND (``reseed``).
    3. Otherwise, for an active account, `stars.diagnose_stars` names the stage the
       evidence points to, and the move is the one transition from the current stage
       toward it whose guards pass now (from TACT, ``stabilize`` toward anything that is
       not TACT; from SEED, ``accelerate`` toward ACCELERATE or ASCEND). The move is
       taken when that same move has been possible for ``rule.confirm`` readings in a row
       and the account has been in its stage for ``rule.min_dwell_days``. Readings that
       point elsewhere, or nowhere, start the count again.

    Args:
        account_id: The account's id (carried on each event).
        facts: `Fact` or `stars.Snapshot` values, strictly in time order.
        lifecycle: Whose policy to read; its graph and diagnosis must be the STARS ones.
        rule: The hysteresis and dwell (default `DeriveRule`).

    Returns:
        The derived events, in order; replay them with `stars.Lifecycle.replay`.

    Raises:
        InvalidValue: A fact that is neither a `Fact` nor a `stars.Snapshot`, a fact not
            after the one before, a bad ``rule`` or ``lifecycle``.
        InvalidDefinition: The lifecycle lacks a STARS transition or diagnoses otherwise.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.derive import Fact, derive_events
        >>> def month(m):
        ...     return datetime(2024, m, 1, tzinfo=timezone.utc)
        >>> facts = [Fact(month(1), health=75, contract="start", success_metrics_agreed=True),
        ...          Fact(month(2), health=20), Fact(month(3), health=25),
        ...          Fact(month(4), health=22), Fact(month(5), contract="end")]
        >>> for d in derive_events("acme", facts):
        ...     print(d.event.at.month, d.event.trigger, d.rule, "|", d.event.reason)
        1 sign contract_signed | a contract start is recorded
        3 escalate evidence | health is red; seen in 2 readings in a row
        5 lose contract_ended | the contract ended
    """
    v.text("account_id", account_id)
    lifecycle = _check_lifecycle(lifecycle)
    rule = _check_rule(rule)
    items = _facts(facts)
    policy = lifecycle.policy
    bands = policy.bands
    confirm, dwell = rule.confirm, rule.min_dwell_days

    stage = "prospect"
    entered: datetime | None = None
    signed_at: datetime | None = None
    run: tuple[str, str] | None = None
    count = 0
    signed: bool | None = None
    metrics: bool | None = None
    expansion: bool | None = None
    critical: bool | None = None
    streak = 0
    points: deque[tuple[datetime, float]] = deque(maxlen=policy.trend_window)
    out: list[DerivedEvent] = []

    for fact in items:
        at = fact.at
        # 1. fold the fact into the evidence
        said = fact.signed
        if said is not None:
            signed = said
        if fact.success_metrics_agreed is not None:
            metrics = fact.success_metrics_agreed
        if fact.expansion_open is not None:
            expansion = fact.expansion_open
        if fact.critical_risk is not None:
            critical = fact.critical_risk
        health = fact.health
        band = fact.band
        if band is None and health is not None:
            band = bands.band_for(health)
        streak = streak + 1 if band is Band.GREEN else 0
        if health is not None:
            points.append((v.instant(at), health))
        slope = slope_per_30_days(list(points))
        tenure = _seconds(at, signed_at) / _DAY if signed_at is not None else None
        active = stage in _ACTIVE
        ev = Evidence(
            health=health,
            band=band,
            slope=slope,
            green_streak=streak,
            tenure_days=tenure,
            customer=active or signed is True,
            success_metrics_agreed=bool(metrics),
            expansion_open=bool(expansion),
            critical_risk=bool(critical),
            churned=stage == "churn",
        )
        days = _seconds(at, entered) / _DAY if entered is not None else None

        # 2. facts that announce a move
        announced: list[tuple[str, str, str]] = []
        if stage == "prospect" and signed is True:
            announced = [("sign", "seed", "contract_signed")]
        elif stage == "churn" and signed is True:
            announced = [("win_back", "prospect", "contract_won_back")]
            announced.append(("sign", "seed", "contract_signed"))
        elif active and signed is False:
            announced = [("lose", "churn", "contract_ended")]
        elif stage == "tact" and fact.reonboarding_agreed:
            announced = [("restart", "seed", "reonboarding_agreed")]
        elif stage in ("accelerate", "ascend") and fact.new_business_unit:
            announced = [("reseed", "seed", "new_business_unit")]
        if announced:
            for trigger, dest, name in announced:
                reason = _WHY_ANNOUNCED[name]
                event = Event(trigger, at, reason=reason, to=dest)
                out.append(DerivedEvent(account_id, event, stage, name, ev, 0, days))
                days = 0.0
                stage = dest
            entered = at
            if announced[-1][0] == "sign":
                signed_at = at
            run, count = None, 0
            continue

        # 3. evidence, with hysteresis and dwell
        if not active:
            run, count = None, 0
            continue
        target, _ = diagnose_stars(ev, policy)
        move = _evidence_move(stage, target, ev, policy)
        if move is None:
            run, count = None, 0
            continue
        key = (move[0], move[1])
        count = count + 1 if key == run else 1
        run = key
        if count >= confirm and days is not None and days >= dwell:
            trigger, dest, why = move
            event = Event(trigger, at, reason=f"{why}; {_readings(count)}", to=dest)
            out.append(DerivedEvent(account_id, event, stage, "evidence", ev, count, days))
            stage, entered = dest, at
            run, count = None, 0
    return tuple(out)


def derive_account(
    account_id: str,
    facts: Iterable[Fact | Snapshot],
    *,
    lifecycle: Lifecycle = STARS,
    rule: DeriveRule | None = None,
    name: str = "",
    owner: str | None = None,
    tags: Iterable[str] = (),
) -> Account:
    """Derive an account's history from its facts and replay it into an `stars.Account`.

    The account holds the derived history (through `stars.Lifecycle.replay`, so the graph
    and the time order are checked again) and one snapshot per fact.

    Args:
        account_id: The account's id.
        facts: `Fact` or `stars.Snapshot` values, strictly in time order.
        lifecycle: The lifecycle to replay with (its graph and diagnosis must be STARS's).
        rule: The hysteresis and dwell (default `DeriveRule`).
        name: The account's name.
        owner: The account's owner.
        tags: The account's tags.

    Returns:
        A new account.

    Raises:
        InvalidValue: As `derive_events`.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.derive import Fact, derive_account
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> a = derive_account("acme", [Fact(t, health=70, contract="start")], owner="dana")
        >>> a.stage, a.owner, len(a.snapshots)
        ('seed', 'dana', 1)
    """
    items = _facts(facts)
    derived = derive_events(account_id, items, lifecycle=lifecycle, rule=rule)
    return lifecycle.replay(
        account_id,
        [d.event for d in derived],
        name=name,
        owner=owner,
        tags=tags,
        snapshots=[f.snapshot() for f in items],
    )
