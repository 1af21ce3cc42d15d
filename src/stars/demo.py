"""A deterministic demo portfolio, simulated month by month through the real lifecycle engine.

`generate` invents a book of B2B accounts and lives through their first months
as customers. Every account follows a hidden *trajectory* (a steady grower, a
stagnator that drifts into realignment, a short dip that recovers, a turnaround from
red, or a decline that ends in churn). Each month the simulator records a snapshot of
the usual early-warning signals, lets the default scorecard score them, asks the
lifecycle what stage the evidence points to, and fires the transitions the guards
allow, exactly as a careful account team would. Depth is assessed from both sides
twice a year.

Nothing but ``random.Random(seed)`` drives the simulation, so the same arguments give
the same accounts on every machine. The bundled file ``stars/data/demo.jsonl`` is
``generate()``'s output; `load_bundled` reads it back.

Examples:
    >>> from stars.demo import generate
    >>> book = generate(n_accounts=20, months=12, seed=1)
    >>> len(book), book[0].id
    (20, 'acct-000')
    >>> book == generate(n_accounts=20, months=12, seed=1)
    True
"""

from __future__ import annotations

import calendar
import enum
import random
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import Any, Final

import attrs

from stars import _validate as v
from stars.account import Account, Snapshot
from stars.depth import ContactPattern, DepthEvidence, TwoSidedDepth, record_depth
from stars.errors import InvalidValue, SchemaError
from stars.health import measures_from
from stars.lifecycle import STARS, Lifecycle

__all__ = [
    "DEMO_START",
    "Trajectory",
    "bundled_path",
    "dumps_jsonl",
    "generate",
    "load_bundled",
    "loads_jsonl",
    "maturity_answers",
    "trajectory_of",
]

DEMO_START: Final = datetime(2024, 1, 1, tzinfo=UTC)
"""The first month of the simulated window (every snapshot falls on the 1st of a month, UTC)."""

_BUNDLED: Final = "demo.jsonl"


class Trajectory(enum.StrEnum):
    """The hidden course an account's health follows in the simulation.

    Examples:
        >>> from stars.demo import Trajectory
        >>> [t.value for t in Trajectory]
        ['grower', 'stagnator', 'recovery', 'turnaround', 'churner']
    """

    GROWER = "grower"
    STAGNATOR = "stagnator"
    RECOVERY = "recovery"
    TURNAROUND = "turnaround"
    CHURNER = "churner"


_TRAJECTORY_WEIGHTS: Final = (
    (Trajectory.GROWER, 0.40),
    (Trajectory.STAGNATOR, 0.18),
    (Trajectory.RECOVERY, 0.16),
    (Trajectory.TURNAROUND, 0.12),
    (Trajectory.CHURNER, 0.14),
)
_SEGMENTS: Final = (("enterprise", 0.2), ("mid-market", 0.45), ("smb", 0.35))
_REGIONS: Final = ("amer", "emea", "apac")
_OWNERS: Final = (
    "ana.ruiz",
    "ben.okafor",
    "chen.wei",
    "dana.kowalski",
    "eli.haddad",
    "fatima.noor",
    "gus.lindqvist",
    "hana.sato",
)
_NAME_HEADS: Final = (
    "Northwind",
    "Bluefin",
    "Copperleaf",
    "Driftwood",
    "Evergreen",
    "Foxglove",
    "Granite",
    "Harbor",
    "Ironbark",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Oakridge",
    "Pinecrest",
    "Quarry",
    "Redwood",
    "Saltmarsh",
    "Tidewater",
)
_NAME_TAILS: Final = (
    "Analytics",
    "Foods",
    "Freight",
    "Health",
    "Labs",
    "Logistics",
    "Media",
    "Mobility",
    "Partners",
    "Retail",
    "Systems",
    "Utilities",
)
_LOSS_REASONS: Final = (
    "moved to a competitor after the renewal review",
    "budget for the product was cut",
    "the promised value never showed up in their numbers",
    "acquired; the new parent consolidated tools",
    "the sponsor left and nobody took the product over",
)
_DAY: Final = 86400.0


def _add_months(at: datetime, months: int) -> datetime:
    total = at.year * 12 + at.month - 1 + months
    year, month0 = divmod(total, 12)
    day = min(at.day, calendar.monthrange(year, month0 + 1)[1])
    return at.replace(year=year, month=month0 + 1, day=day)


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    roll = rng.random() * sum(w for _, w in weighted)
    for item, weight in weighted:
        roll -= weight
        if roll < 0:
            return item
    return weighted[-1][0]  # pragma: no cover - floating-point edge


def _clip(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


# --------------------------------------------------------------------------- the plan
@attrs.frozen(slots=True)
class _Plan:
    """The hidden script of one account, drawn once from its own random stream."""

    trajectory: Trajectory
    segment: str
    region: str
    owner: str
    key: bool
    sign_month: int | None
    base: float
    slope: float
    agree_after: int | None
    turn: int
    length: int
    depth_cap: int
    neglected: bool
    restart: bool
    win_back_after: int | None
    resign_after: int
    expansion_months: frozenset[int]
    new_unit_month: int | None
    bias: tuple[float, float, float, float]


def _plan(rng: random.Random, months: int) -> _Plan:
    trajectory: Trajectory = _pick(rng, _TRAJECTORY_WEIGHTS)
    segment: str = _pick(rng, _SEGMENTS)
    region = rng.choice(_REGIONS)
    owner = rng.choice(_OWNERS)
    key = segment == "enterprise" and rng.random() < 0.6
    roll = rng.random()
    if roll < 0.35:
        sign_month: int | None = 0
    elif roll < 0.92:
        sign_month = rng.randrange(1, max(2, months - 2))
    else:
        sign_month = None
    agree_after = None if rng.random() < 0.08 else rng.randint(1, 3)
    cap = {"enterprise": 3, "mid-market": 2, "smb": 1}[segment]
    expansion = frozenset(m for m in range(months) if rng.random() < 0.04)
    return _Plan(
        trajectory=trajectory,
        segment=segment,
        region=region,
        owner=owner,
        key=key,
        sign_month=sign_month,
        base=rng.uniform(0.64, 0.78),
        slope=rng.uniform(0.015, 0.035),
        agree_after=agree_after,
        turn=rng.randint(3, 12),
        length=rng.randint(2, 5),
        depth_cap=cap if key or rng.random() < 0.7 else max(1, cap - 1),
        neglected=rng.random() < 0.1,
        restart=rng.random() < 0.3,
        win_back_after=rng.randint(3, 6) if rng.random() < 0.3 else None,
        resign_after=rng.randint(2, 4),
        expansion_months=expansion,
        new_unit_month=rng.randrange(months) if rng.random() < 0.05 else None,
        bias=(rng.gauss(0, 0.04), rng.gauss(0, 5), rng.gauss(0, 10), rng.gauss(0, 6)),
    )


def _quality(plan: _Plan, k: int, rng: random.Random) -> float:
    """The account's latent quality (about health / 100) ``k`` months after signing."""
    rise = min(0.93, plan.base + plan.slope * k)
    t, n = plan.turn, plan.length
    traj = plan.trajectory
    if traj is Trajectory.GROWER or k < t:
        q = rise
    elif traj is Trajectory.STAGNATOR:
        q = max(0.5, min(0.93, plan.base + plan.slope * t) - 0.035 * (k - t))
    elif traj is Trajectory.RECOVERY:
        q = 0.56 if k < t + n else min(0.9, 0.72 + 0.03 * (k - t - n))
    elif traj is Trajectory.TURNAROUND:
        q = 0.3 if k < t + n else min(0.88, 0.5 + 0.09 * (k - t - n))
    else:  # churner
        q = max(0.15, 0.62 - 0.1 * (k - t))
    return _clip(q + rng.gauss(0.0, 0.01), 0.02, 0.98)


def _signals(
    plan: _Plan, at: datetime, k: int, q: float, rng: random.Random, *, months_in: int
) -> Snapshot:
    """The month's snapshot: each signal sits near what quality ``q`` implies.

    Most of the scatter is a fixed per-account bias (some customers always grade
    harder); the month-to-month noise is small, as it is in real usage data.
    """
    b_adoption, b_csat, b_nps, b_contact = plan.bias
    contact = 60 - 46 * q + b_contact + rng.gauss(0, 1.5) + (35 if plan.neglected else 0)
    agreed = plan.agree_after is not None and k >= plan.agree_after
    traj = plan.trajectory
    onset = k == plan.turn and traj in (Trajectory.TURNAROUND, Trajectory.CHURNER)
    restart = plan.restart and traj is Trajectory.TURNAROUND and k == plan.turn + plan.length
    return Snapshot(
        at=at,
        adoption=round(_clip(0.2 + 0.6 * q + b_adoption + rng.gauss(0, 0.01), 0, 1), 2),
        nps=round(_clip(-50 + 100 * q + b_nps + rng.gauss(0, 2), -100, 100)),
        csat=round(_clip(50 + 40 * q + b_csat + rng.gauss(0, 1), 0, 100)),
        open_tickets=max(0, round((1 - q) * 10 + rng.gauss(0, 0.4))),
        days_since_contact=float(max(0, round(contact))),
        sentiment=round(_clip(2 * q - 1 + rng.gauss(0, 0.02), -1, 1), 2),
        contract_signed=True,
        success_metrics_agreed=agreed,
        expansion_open=q > 0.74 and months_in in plan.expansion_months,
        champion_engaged=q > 0.45,
        reonboarding_agreed=restart,
        new_business_unit=plan.new_unit_month == months_in and q > 0.7,
        critical_risk=onset,
    )


# --------------------------------------------------------------------------- the engine
_HUMAN_TRIGGERS: Final = frozenset({"lose", "win_back"})


def _graph(lc: Lifecycle) -> dict[str, list[tuple[str, str]]]:
    edges: dict[str, list[tuple[str, str]]] = {}
    for t in lc.transitions:
        if t.trigger in _HUMAN_TRIGGERS:
            continue
        for source in t.sources:
            edges.setdefault(source, []).append((t.trigger, t.dest))
    return edges


def _first_hops(
    edges: Mapping[str, list[tuple[str, str]]], start: str, goal: str
) -> list[tuple[str, str]]:
    """The (trigger, dest) pairs that begin a shortest path from ``start`` to ``goal``."""
    first: dict[str, tuple[str, str]] = {}
    queue: deque[str] = deque()
    hops: list[tuple[str, str]] = []
    for trigger, dest in edges.get(start, ()):
        if dest == goal:
            hops.append((trigger, dest))
        elif dest not in first and dest != start:
            first[dest] = (trigger, dest)
            queue.append(dest)
    if hops:
        return hops
    seen = {start, *first}
    while queue:
        node = queue.popleft()
        for _trigger, dest in edges.get(node, ()):
            if dest == goal:
                hops.append(first[node])
                break
            if dest not in seen:
                seen.add(dest)
                first[dest] = first[node]
                queue.append(dest)
    return list(dict.fromkeys(hops))


def _advance(
    lc: Lifecycle,
    edges: Mapping[str, list[tuple[str, str]]],
    account: Account,
    at: datetime,
) -> None:
    """Fire what the evidence supports: at most a few steps towards the diagnosed stage."""
    latest = account.latest
    for _ in range(3):
        moved = False
        if latest is not None and latest.reonboarding_agreed and account.stage == "tact":
            moved = _try(lc, account, "restart", "seed", at)
        if (
            not moved
            and latest is not None
            and latest.new_business_unit
            and account.stage in ("accelerate", "ascend")
        ):
            moved = _try(lc, account, "reseed", "seed", at)
        if not moved:
            diagnosis = lc.diagnose(account, at=at)
            if diagnosis.agrees or diagnosis.stage is None:
                return
            for trigger, dest in _first_hops(edges, account.stage, diagnosis.stage):
                if _try(lc, account, trigger, dest, at):
                    moved = True
                    break
        if not moved:
            return


def _try(lc: Lifecycle, account: Account, trigger: str, dest: str, at: datetime) -> bool:
    if not lc.check(account, trigger, at=at, to=dest).allowed:
        return False
    lc.fire(account, trigger, at=at, to=dest, actor=account.owner)
    return True


def _depth_evidence(level: int, rng: random.Random) -> DepthEvidence:
    """Evidence that one side would give for a relationship at ``level`` (1 to 3)."""
    people = (1, 2, 4, 6)[level] + rng.randint(0, 2)
    functions = (0, 1, 2, 4)[level] + rng.randint(0, 1)
    contact = (
        ContactPattern.NONE,
        ContactPattern.REGULAR,
        ContactPattern.AD_HOC,
        ContactPattern.COORDINATED,
    )[level]
    deep = level >= 2
    partner = level >= 3
    return DepthEvidence(
        formal_relationship=True,
        vendor_stakeholders=people + 1,
        customer_stakeholders=people,
        vendor_functions=functions,
        customer_functions=functions,
        contact=contact,
        price_dominates=not deep,
        ancillary_services=rng.randint(1, 2) if deep else 0,
        customer_brings_problems=deep,
        joint_planning=partner,
        shared_roadmap=partner,
        joint_marketing=partner and rng.random() < 0.3,
        cost_transparency=partner,
    )


def _record_depths(
    plan: _Plan, account: Account, at: datetime, k: int, q: float, rng: random.Random
) -> None:
    level = min(plan.depth_cap, 1 + k // 8)
    if q < 0.45:
        level = min(level, 1)
    vendor = _depth_evidence(level, rng)
    lag = 0 if rng.random() < 0.6 else 1 if rng.random() < 0.85 else 2
    if q < 0.6:
        lag += 1
    customer = _depth_evidence(max(1, level - lag), rng)  # a customer knows it has a contract
    two = TwoSidedDepth(vendor=vendor, customer=customer)
    record_depth(account, two, at, side="vendor")
    record_depth(account, two, at, side="customer")


def _name(rng: random.Random, taken: set[str]) -> str:
    name = f"{rng.choice(_NAME_HEADS)} {rng.choice(_NAME_TAILS)}"
    base, n = name, 2
    while name in taken:
        name, n = f"{base} {n}", n + 1
    taken.add(name)
    return name


def _simulate(
    lc: Lifecycle,
    edges: Mapping[str, list[tuple[str, str]]],
    index: int,
    seed: int,
    months: int,
    start: datetime,
    taken: set[str],
) -> Account:
    rng = random.Random(f"stars-demo:{seed}:{index}")
    plan = _plan(rng, months)
    tags = {f"segment:{plan.segment}", f"region:{plan.region}"}
    if plan.key:
        tags.add("key-account")
    account = Account(
        f"acct-{index:03d}", name=_name(rng, taken), owner=plan.owner, tags=frozenset(tags)
    )
    if plan.sign_month is None:
        return account
    signed_at_month = plan.sign_month
    lost_month: int | None = None
    for month in range(plan.sign_month, months):
        at = _add_months(start, month)
        if lost_month is not None:
            away = month - lost_month
            if account.stage == "churn" and plan.win_back_after == away:
                lc.fire(
                    account,
                    "win_back",
                    at=at,
                    actor=plan.owner,
                    reason="the former sponsor asked to talk again",
                )
                lc.observe(account, Snapshot(at=at))
                continue
            if (
                account.stage == "prospect"
                and away == (plan.win_back_after or 0) + plan.resign_after
            ):
                signed_at_month, lost_month = month, None
                plan = attrs.evolve(plan, trajectory=Trajectory.GROWER, base=0.62)
            else:
                continue
        k = month - signed_at_month
        q = _quality(plan, k, rng)
        snap = _signals(plan, at, k, q, rng, months_in=month)
        lc.observe(account, snap, measures=measures_from(snap))
        if k % 6 == 0:
            _record_depths(plan, account, at, k, q, rng)
        if rng.random() < 0.1 and month < months - 1 and account.stage != "prospect":
            continue  # the owner skipped this month's review; the stage may lag the evidence
        if (
            plan.trajectory is Trajectory.CHURNER
            and account.stage == "tact"
            and k >= plan.turn + plan.length
        ):
            lc.fire(account, "lose", at=at, actor=plan.owner, reason=rng.choice(_LOSS_REASONS))
            lost_month = month
            continue
        _advance(lc, edges, account, at)
    return account


def generate(
    n_accounts: int = 200,
    months: int = 24,
    seed: int = 0,
    *,
    start: datetime = DEMO_START,
) -> list[Account]:
    """Simulate a portfolio of accounts, deterministically.

    Each account draws its own plan (segment, region, owner, trajectory, signing
    month, when success metrics get agreed, ...) from ``random.Random`` seeded with
    ``seed`` and its index, so the first ``k`` accounts of a bigger portfolio are the
    same as those of a smaller one. About a tenth never sign and stay prospects.
    Every month after signing, the simulator records a snapshot (usage, tickets, NPS
    every quarter, CSAT, contact recency, sentiment and flags), scores it with the
    default scorecard through `observe`, and fires the
    transitions the lifecycle allows towards the stage
    `diagnose` points to. Some months an owner skips the
    review, so a stage can lag its evidence. Churn is a human decision: ``lose`` is
    fired with a reason after an account has stayed red in TACT; some lost accounts
    are won back and sign again later.

    Args:
        n_accounts: How many accounts (0 or more).
        months: How many monthly snapshots the window spans (1 to 240).
        seed: The random seed.
        start: The first month (timezone-aware).

    Returns:
        The accounts, ids ``acct-000``, ``acct-001``, ... in order.

    Raises:
        InvalidValue: A count is negative or not whole, or ``start`` is naive.

    Examples:
        >>> from stars.demo import generate
        >>> book = generate(n_accounts=50, months=18)
        >>> sorted({a.stage for a in book}) <= ["accelerate", "ascend", "churn",
        ...     "prospect", "reset", "seed", "tact"]
        True
        >>> generate(n_accounts=-1)
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: n_accounts: got -1, expected a whole number at or above 0
    """
    n = int(v.number("n_accounts", n_accounts, 0, None, integer=True))
    m = int(v.number("months", months, 1, 240, integer=True))
    s = int(v.number("seed", seed, integer=True))
    v.aware("start", start)
    edges = _graph(STARS)
    taken: set[str] = set()
    return [_simulate(STARS, edges, i, s, m, start, taken) for i in range(n)]


def trajectory_of(account_id: str, seed: int = 0, months: int = 24) -> Trajectory:
    """The hidden trajectory `generate` drew for an account (the simulation's truth).

    Useful to check what a report or a backtest found against what really happened.

    Args:
        account_id: An id of the form ``acct-NNN``.
        seed: The seed given to `generate`.
        months: The window given to `generate`.

    Raises:
        InvalidValue: The id is not one `generate` makes.

    Examples:
        >>> from stars.demo import trajectory_of
        >>> trajectory_of("acct-000") in set(trajectory_of(f"acct-{i:03d}") for i in range(50))
        True
    """
    head, _, number = account_id.partition("-") if isinstance(account_id, str) else ("", "", "")
    if head != "acct" or not number.isdigit():
        raise InvalidValue("account_id", account_id, "an id of the form 'acct-NNN'")
    rng = random.Random(f"stars-demo:{seed}:{int(number)}")
    return _plan(rng, months).trajectory


def maturity_answers(seed: int = 0) -> dict[str, str]:
    """Made-up answers to the default maturity questionnaire, for trying ``stars maturity``.

    The imagined team is solid on the first levels and patchy higher up, with data as
    its weakest area.

    Examples:
        >>> from stars.demo import maturity_answers
        >>> from stars.maturity import assess
        >>> assess(maturity_answers()).overall.value in ("heroic", "managed", "repeatable")
        True
    """
    from stars.maturity import Level, default_questionnaire

    rng = random.Random(f"stars-demo-maturity:{int(v.number('seed', seed, integer=True))}")
    answers: dict[str, str] = {}
    for indicator in default_questionnaire().indicators:
        strength = 0.95 - 0.22 * indicator.level.rank
        if indicator.area.value == "data":
            strength -= 0.25
        if indicator.level is Level.HEROIC:
            strength = 1.0
        roll = rng.random()
        answers[indicator.id] = (
            "yes" if roll < strength else "partly" if roll < strength + 0.2 else "no"
        )
    return answers


# --------------------------------------------------------------------------- the bundled file
def bundled_path() -> Any:
    """The bundled demo file, as an importlib resource (a ``Traversable``).

    It holds one `stars.io` Account document per line (JSON Lines).

    Examples:
        >>> from stars.demo import bundled_path
        >>> bundled_path().name
        'demo.jsonl'
    """
    return resources.files("stars.data").joinpath(_BUNDLED)


def dumps_jsonl(accounts: Iterable[Account]) -> str:
    """Accounts as JSON Lines: one `stars.io.dumps` Account document per line.

    Examples:
        >>> from stars.demo import dumps_jsonl, generate, loads_jsonl
        >>> book = generate(n_accounts=3, months=6)
        >>> loads_jsonl(dumps_jsonl(book)) == book
        True
    """
    from stars.io import dumps

    return "".join(dumps(a) + "\n" for a in accounts)


def loads_jsonl(text: str) -> list[Account]:
    """Read accounts written by `dumps_jsonl` (blank lines are skipped).

    Raises:
        SchemaError: A line is not a valid Account document (the message names the line).

    Examples:
        >>> from stars.demo import loads_jsonl
        >>> loads_jsonl('{"schema":"stars/1","type":"Snapshot"}')  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.SchemaError: line 1: ...
    """
    from stars.io import loads

    out: list[Account] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(loads(line, Account))
        except SchemaError as err:
            raise SchemaError(f"line {n}: {err.path}", err.value, err.expected) from None
    return out


def load_bundled() -> list[Account]:
    """Read the bundled demo portfolio (``generate()`` with its defaults).

    Examples:
        >>> from stars.demo import load_bundled
        >>> book = load_bundled()
        >>> len(book), book[0].id
        (200, 'acct-000')
    """
    return loads_jsonl(bundled_path().read_text(encoding="utf-8"))
