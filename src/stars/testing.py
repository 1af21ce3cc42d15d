"""Test data for code that uses `stars`: hypothesis strategies and synthetic histories.

The strategies need the ``hypothesis`` package, imported when one is first built;
`synthetic_history` and `depth_examples` work without it, so the module imports anywhere.

Examples:
    >>> from hypothesis import given, settings
    >>> from stars.testing import snapshots
    >>> @settings(max_examples=5)
    ... @given(snapshots())
    ... def test_health_in_range(s):
    ...     assert s.health is None or 0 <= s.health <= 100
    >>> test_health_in_range()
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Final

from stars.account import Account, Snapshot, reassign
from stars.errors import MissingDependency
from stars.lifecycle import STARS, Event, Lifecycle

if TYPE_CHECKING:
    from hypothesis import strategies as st

    from stars.depth import DepthEvidence

__all__ = [
    "accounts",
    "aware_datetimes",
    "depth_examples",
    "events",
    "snapshots",
    "synthetic_history",
]

_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def _need_hypothesis() -> None:
    """Raise a `MissingDependency` naming the extra when hypothesis is not installed."""
    try:
        import hypothesis  # noqa: F401
    except ImportError as exc:
        raise MissingDependency("hypothesis", "dev") from exc


def aware_datetimes(start: datetime = _EPOCH, days: int = 3650) -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes (UTC or a fixed offset) within ``days`` after ``start``.

    Examples:
        >>> from stars.testing import aware_datetimes
        >>> from hypothesis import find
        >>> find(aware_datetimes(), lambda d: True).tzinfo is not None
        True
    """
    _need_hypothesis()
    from hypothesis import strategies as st

    offsets = st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9))])
    return st.builds(
        lambda seconds, tz: (start + timedelta(seconds=seconds)).astimezone(tz),
        st.integers(0, days * 86400),
        offsets,
    )


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    _need_hypothesis()
    from hypothesis import strategies as st

    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    _need_hypothesis()
    from hypothesis import strategies as st

    return st.none() | strategy


def snapshots(at: st.SearchStrategy[datetime] | None = None) -> st.SearchStrategy[Snapshot]:
    """Valid snapshots with any mix of missing and present signals.

    Examples:
        >>> from stars import Snapshot
        >>> from stars.testing import snapshots
        >>> from hypothesis import find
        >>> isinstance(find(snapshots(), lambda s: True), Snapshot)
        True
    """
    _need_hypothesis()
    from hypothesis import strategies as st

    return st.builds(
        Snapshot,
        at=at if at is not None else aware_datetimes(),
        health=_opt(_floats(0, 100)),
        adoption=_opt(_floats(0, 1)),
        nps=_opt(st.integers(-100, 100)),
        csat=_opt(_floats(0, 100)),
        open_tickets=_opt(st.integers(0, 500)),
        days_since_contact=_opt(_floats(0, 1000)),
        sentiment=_opt(_floats(-1, 1)),
        contract_signed=_opt(st.booleans()),
        success_metrics_agreed=_opt(st.booleans()),
        expansion_open=_opt(st.booleans()),
        champion_engaged=_opt(st.booleans()),
        reonboarding_agreed=_opt(st.booleans()),
        new_business_unit=_opt(st.booleans()),
        critical_risk=_opt(st.booleans()),
        metrics=st.dictionaries(
            st.text("abcdefghij_", min_size=1, max_size=8),
            _floats(-1e6, 1e6),
            max_size=3,
        ),
    )


def events(lifecycle: Lifecycle = STARS, *, max_size: int = 30) -> st.SearchStrategy[list[Event]]:
    """Lists of forced events with non-decreasing times (some may be illegal for the graph).

    Examples:
        >>> from stars.testing import events
        >>> from hypothesis import find
        >>> all(e.forced for e in find(events(), lambda evs: len(evs) > 2))
        True
    """
    _need_hypothesis()
    from hypothesis import strategies as st

    triggers = sorted(lifecycle.triggers)
    dests = sorted({s.name for s in lifecycle.stages})

    def build(steps: list[tuple[str, int, str | None]]) -> list[Event]:
        at, out = _EPOCH, []
        for trigger, gap, to in steps:
            at = at + timedelta(hours=gap)
            out.append(Event(trigger, at, actor="test", reason="generated", forced=True, to=to))
        return out

    step = st.tuples(
        st.sampled_from(triggers), st.integers(0, 24 * 60), _opt(st.sampled_from(dests))
    )
    return st.lists(step, max_size=max_size).map(build)


def accounts(lifecycle: Lifecycle = STARS, *, max_events: int = 20) -> st.SearchStrategy[Account]:
    """Accounts with a legal history in ``lifecycle`` and a few snapshots.

    Examples:
        >>> from stars import Account
        >>> from stars.testing import accounts
        >>> from hypothesis import find
        >>> find(accounts(), lambda a: len(a.history) > 1).history[0].trigger
        'sign'
    """
    _need_hypothesis()
    from hypothesis import strategies as st

    def build(
        account_id: str, evs: list[Event], snaps: list[Snapshot], hands: list[tuple[str, int]]
    ) -> Account:
        legal: list[Event] = []
        stage = lifecycle.initial
        for e in evs:
            options = [
                t for t in lifecycle.transitions if t.trigger == e.trigger and stage in t.sources
            ]
            chosen = [t for t in options if e.to is None or t.dest == e.to]
            if chosen:
                legal.append(e)
                stage = chosen[0].dest
        snaps = sorted(snaps, key=lambda s: s.at)
        account = lifecycle.replay(account_id, legal, owner="owner", snapshots=snaps)
        at = _EPOCH
        for owner, gap in hands:  # owner changes, as `reassign` records them
            at += timedelta(days=gap)
            if owner != account.owner:
                reassign(account, owner, at=at, by="lead", reason="generated")
        return account

    return st.builds(
        build,
        st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12),
        events(lifecycle, max_size=max_events),
        st.lists(snapshots(), max_size=4),
        st.lists(
            st.tuples(st.sampled_from(["dana", "lee", "sam"]), st.integers(0, 400)), max_size=3
        ),
    )


def synthetic_history(
    accounts: int,
    periods: int,
    seed: int = 0,
    signal: float = 1.0,
    *,
    strengths: Any = None,
    backend: str = "polars",
    contracts: bool = False,
    monthly_share: float = 0.5,
    waves: float = 0.0,
) -> Any:
    """A made-up monthly history of accounts whose churn follows known causes.

    Each account gets a segment and four measures that drift month by month: product
    ``adoption`` (0-1, creeping up across the base), ``open_tickets`` (a count),
    ``days_since_contact`` (lengthening as teams get busier) and ``sentiment`` (-1 to 1,
    missing in about 15% of rows). Each row's ``churned`` is 1 when the account leaves
    before the next period; it then has no further rows. The chance of leaving is a
    logistic function: a base rate of 4%, plus ``signal`` times the sum of each
    measure's standardised risk times its strength. The default strengths are
    ``adoption`` 1.0, ``days_since_contact`` 0.6, ``sentiment`` 0.3 and ``open_tickets``
    -0.3 (accounts that file tickets are engaged, and stay slightly more often).
    With ``signal=0`` churn is a coin flip that ignores every measure.

    Built with ``random.Random(seed)``, so the same arguments give the same rows.

    Args:
        accounts: How many accounts (at least 1).
        periods: How many monthly periods, starting 2024-01-01 (at least 1).
        seed: The random seed.
        signal: How strongly the measures drive churn (0 or more; 0 means not at all).
        strengths: Optional strengths by measure name, replacing the defaults for the
            measures named.
        backend: ``"polars"``, ``"pandas"``, ``"pyarrow"`` or ``"dict"`` (a dict of
            column lists, needing no DataFrame library).
        contracts: Give every account a contract, and let accounts leave only when it
            comes up for renewal (see below). Off by default, and then the rows are
            exactly those of earlier versions.
        monthly_share: With ``contracts``, the share of accounts on monthly
            subscriptions (they renew every month); the others sign annual terms.
        waves: With ``contracts``, churn waves: each period draws one shock, normal with
            this standard deviation, added to the log-odds of every renewal in it, so bad
            months hit many accounts at once (0, the default, means none).

    With ``contracts``, each account also gets an ``owner``, a ``term`` (``"annual"`` or
    ``"monthly"``), an annual recurring revenue ``arr`` and a renewal day. A renewal goes
    badly with a known chance, ``true_probability``: a logistic with a base of 15% for
    annual terms and 3% for monthly ones, plus the same measure risk as above, plus that
    period's wave. A bad renewal is a churn (the account leaves, ``churned`` = 1, and a new
    account takes its place the next period, so the book keeps its size) three times in
    five, else a contraction (``contracted`` = 1, 10% to 50% of the revenue lost, the
    account stays on the smaller contract). ``lost_revenue`` is the revenue lost, and
    ``renewing`` says whether the contract comes up for renewal in the row's period,
    ``days_to_renewal`` days after its first day; rows that are not renewing have
    ``true_probability`` null and nothing lost.

    Returns:
        The history: columns ``account``, ``period`` (a date), ``segment``, ``adoption``,
        ``open_tickets``, ``days_since_contact``, ``sentiment`` and ``churned`` (0/1);
        with ``contracts``, ``account``, ``period``, ``segment``, ``owner``, ``term``,
        ``arr``, the four measures, ``renewing``, ``days_to_renewal``,
        ``true_probability``, ``churned``, ``contracted`` and ``lost_revenue``.

    Raises:
        InvalidValue: If an argument is out of range or a strength names an unknown measure.

    Examples:
        >>> from stars.testing import synthetic_history
        >>> rows = synthetic_history(3, 2, seed=7, backend="dict")
        >>> sorted(rows)[:3], len(rows["account"]) <= 6
        (['account', 'adoption', 'churned'], True)
        >>> synthetic_history(50, 4, seed=1).columns[:3]
        ['account', 'period', 'segment']
        >>> book = synthetic_history(50, 24, seed=1, contracts=True, waves=0.5)
        >>> sorted(book.filter(book["renewing"] == 1)["term"].unique())
        ['annual', 'monthly']
    """
    import math
    import random
    from datetime import date

    from stars import _validate as v
    from stars.errors import InvalidValue, UnknownName

    n_accounts = int(v.number("accounts", accounts, 1, integer=True))
    n_periods = int(v.number("periods", periods, 1, integer=True))
    v.number("seed", seed, integer=True)
    signal = v.number("signal", signal, 0)
    power = {
        "adoption": 1.0,
        "days_since_contact": 0.6,
        "sentiment": 0.3,
        "open_tickets": -0.3,
    }
    if strengths is not None:
        for name, value in v.number_mapping("strengths", strengths).items():
            if name not in power:
                raise UnknownName("measure", name, tuple(power))
            power[name] = value
    if backend not in ("polars", "pandas", "pyarrow", "dict"):
        raise InvalidValue("backend", backend, "'polars', 'pandas', 'pyarrow' or 'dict'")
    if not isinstance(contracts, bool):
        raise InvalidValue("contracts", contracts, "True or False")
    monthly_share = v.number("monthly_share", monthly_share, 0, 1)
    waves = v.number("waves", waves, 0)

    rng = random.Random(int(seed))
    months = [date(2024 + t // 12, t % 12 + 1, 1) for t in range(n_periods)]
    if contracts:
        return _frame(
            _contract_history(rng, n_accounts, months, signal, power, monthly_share, waves),
            backend,
        )
    base = math.log(0.04 / 0.96)
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "account",
            "period",
            "segment",
            "adoption",
            "open_tickets",
            "days_since_contact",
            "sentiment",
            "churned",
        )
    }

    def poisson(lam: float) -> int:
        limit, k, p = math.exp(-lam), 0, rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        return k

    for i in range(n_accounts):
        name = f"acct-{i:05d}"
        segment = rng.choices(("smb", "mid", "enterprise"), weights=(5, 3, 2))[0]
        adoption, adoption_trend = rng.uniform(0.15, 0.95), rng.gauss(0, 0.02)
        tickets = rng.uniform(0.2, 6.0)
        cadence, cadence_trend = rng.uniform(5, 70), rng.gauss(0.5, 1.5)
        mood, mood_trend = rng.uniform(-0.8, 0.9), rng.gauss(0, 0.03)
        for month in months:
            adoption = min(max(adoption + adoption_trend + 0.004 + rng.gauss(0, 0.04), 0.0), 1.0)
            tickets = min(max(tickets + rng.gauss(0, 0.3), 0.0), 15.0)
            cadence = min(max(cadence + cadence_trend + rng.gauss(0, 2), 1.0), 120.0)
            mood = min(max(mood + mood_trend + rng.gauss(0, 0.05), -1.0), 1.0)
            open_tickets = poisson(tickets)
            days = round(max(cadence + rng.gauss(0, 8), 0.0), 1)
            seen = rng.random() >= 0.15
            risk = (
                power["adoption"] * (0.55 - adoption) / 0.22
                + power["days_since_contact"] * (days - 37.0) / 20.0
                + power["sentiment"] * -mood / 0.5
                + power["open_tickets"] * (open_tickets - 3.0) / 2.0
            )
            chance = 1.0 / (1.0 + math.exp(-(base + signal * risk)))
            churned = int(rng.random() < chance)
            cols["account"].append(name)
            cols["period"].append(month)
            cols["segment"].append(segment)
            cols["adoption"].append(round(adoption, 4))
            cols["open_tickets"].append(open_tickets)
            cols["days_since_contact"].append(days)
            cols["sentiment"].append(
                round(min(max(mood + rng.gauss(0, 0.15), -1.0), 1.0), 3) if seen else None
            )
            cols["churned"].append(churned)
            if churned:
                break
    return _frame(cols, backend)


def _frame(cols: dict[str, list[Any]], backend: str) -> Any:
    if backend == "dict":
        return cols
    floats = [c for c in ("sentiment", "true_probability") if c in cols]
    if backend == "polars":
        import polars as pl

        return pl.DataFrame(cols, schema_overrides=dict.fromkeys(floats, pl.Float64))
    if backend == "pandas":
        import pandas as pd  # type: ignore[import-untyped,unused-ignore]

        frame = pd.DataFrame(cols)
        frame["period"] = pd.to_datetime(frame["period"])
        for c in floats:
            frame[c] = frame[c].astype("float64")
        return frame
    import pyarrow as pa

    return pa.table(cols)


#: Chance that a renewal goes badly before any measure or wave: annual and monthly terms.
_RENEWAL_BASE: Final = {"annual": 0.15, "monthly": 0.03}
#: Median annual recurring revenue of an annual contract, by segment.
_ARR: Final = {"smb": 8_000.0, "mid": 40_000.0, "enterprise": 150_000.0}
_OWNERS: Final = ("ana", "ben", "chen", "dee", "eli", "fay")


def _contract_history(
    rng: Any,
    n_accounts: int,
    months: list[Any],
    signal: float,
    power: dict[str, float],
    monthly_share: float,
    waves: float,
) -> dict[str, list[Any]]:
    """Account-months with contracts: accounts leave only at renewal, and are replaced."""
    import math
    from datetime import date

    names = [
        "account",
        "period",
        "segment",
        "owner",
        "term",
        "arr",
        "adoption",
        "open_tickets",
        "days_since_contact",
        "sentiment",
        "renewing",
        "days_to_renewal",
        "true_probability",
        "churned",
        "contracted",
        "lost_revenue",
    ]
    cols: dict[str, list[Any]] = {k: [] for k in names}
    shocks = [waves * rng.gauss(0, 1) if waves > 0 else 0.0 for _ in months]
    logits = {t: math.log(b / (1 - b)) for t, b in _RENEWAL_BASE.items()}

    def poisson(lam: float) -> int:
        limit, k, p = math.exp(-lam), 0, rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        return k

    for i in range(n_accounts):
        generation, first = 0, 0
        while first < len(months):
            name = f"acct-{i:05d}" if generation == 0 else f"acct-{i:05d}-{generation}"
            segment = rng.choices(("smb", "mid", "enterprise"), weights=(5, 3, 2))[0]
            owner = rng.choice(_OWNERS)
            term = "monthly" if rng.random() < monthly_share else "annual"
            arr = _ARR[segment] * math.exp(rng.gauss(0, 0.5)) / (4 if term == "monthly" else 1)
            arr = round(arr, 2)
            # annual terms renew in one month of the year; the first account of a slot
            # is somewhere in its term, a replacement starts a new one
            offset = rng.randrange(12) if generation == 0 else first % 12
            day = rng.randint(1, 28)
            adoption, adoption_trend = rng.uniform(0.15, 0.95), rng.gauss(0, 0.02)
            tickets = rng.uniform(0.2, 6.0)
            cadence, cadence_trend = rng.uniform(5, 70), rng.gauss(0.5, 1.5)
            mood, mood_trend = rng.uniform(-0.8, 0.9), rng.gauss(0, 0.03)
            left = len(months)
            for t in range(first, len(months)):
                month = months[t]
                adoption = min(max(adoption + adoption_trend + 0.004 + rng.gauss(0, 0.04), 0), 1)
                tickets = min(max(tickets + rng.gauss(0, 0.3), 0.0), 15.0)
                cadence = min(max(cadence + cadence_trend + rng.gauss(0, 2), 1.0), 120.0)
                mood = min(max(mood + mood_trend + rng.gauss(0, 0.05), -1.0), 1.0)
                open_tickets = poisson(tickets)
                days = round(max(cadence + rng.gauss(0, 8), 0.0), 1)
                seen = rng.random() >= 0.15
                sentiment = round(min(max(mood + rng.gauss(0, 0.15), -1.0), 1.0), 3)
                renewing = term == "monthly" or (t % 12 == offset and t > first)
                ahead = 0 if term == "monthly" else (offset - t) % 12 or 12
                due = date(month.year + (month.month - 1 + ahead) // 12,
                           (month.month - 1 + ahead) % 12 + 1, day)  # fmt: skip
                chance, churned, contracted, lost = None, 0, 0, 0.0
                if renewing:
                    risk = (
                        power["adoption"] * (0.55 - adoption) / 0.22
                        + power["days_since_contact"] * (days - 37.0) / 20.0
                        + power["sentiment"] * -mood / 0.5
                        + power["open_tickets"] * (open_tickets - 3.0) / 2.0
                    )
                    z = logits[term] + signal * risk + shocks[t]
                    chance = 1.0 / (1.0 + math.exp(-z))
                    if rng.random() < chance:
                        if rng.random() < 0.6:
                            churned, lost = 1, arr
                        else:
                            contracted = 1
                            lost = round(arr * rng.uniform(0.1, 0.5), 2)
                cols["account"].append(name)
                cols["period"].append(month)
                cols["segment"].append(segment)
                cols["owner"].append(owner)
                cols["term"].append(term)
                cols["arr"].append(arr)
                cols["adoption"].append(round(adoption, 4))
                cols["open_tickets"].append(open_tickets)
                cols["days_since_contact"].append(days)
                cols["sentiment"].append(sentiment if seen else None)
                cols["renewing"].append(int(renewing))
                cols["days_to_renewal"].append((due - month).days)
                cols["true_probability"].append(chance)
                cols["churned"].append(churned)
                cols["contracted"].append(contracted)
                cols["lost_revenue"].append(lost)
                arr = round(arr - lost, 2)
                if churned:
                    left = t + 1
                    break
            generation += 1
            first = left
    return cols


def depth_examples() -> dict[str, DepthEvidence]:
    """Evidence that assesses at each relationship depth, built from the depth descriptions.

    Handy as fixtures: one relationship per depth, from exploratory to integrated (the
    integrated one needs ``allow_integrated=True`` to assess as such).

    Examples:
        >>> from stars.depth import assess
        >>> from stars.testing import depth_examples
        >>> examples = depth_examples()
        >>> [assess(e, allow_integrated=True).depth.value for e in examples.values()]
        ['exploratory', 'basic', 'collaborative', 'interconnected', 'integrated']
    """
    import attrs

    from stars.depth import DepthEvidence

    basic = DepthEvidence(
        formal_relationship=True,
        vendor_stakeholders=1,
        customer_stakeholders=1,
        vendor_functions=1,
        customer_functions=1,
        contact="regular",
        price_dominates=True,
    )
    collaborative = DepthEvidence(
        formal_relationship=True,
        vendor_stakeholders=5,
        customer_stakeholders=4,
        vendor_functions=3,
        customer_functions=2,
        contact="ad_hoc",
        ancillary_services=2,
        customer_brings_problems=True,
    )
    interconnected = attrs.evolve(
        collaborative,
        vendor_functions=5,
        customer_functions=4,
        contact="coordinated",
        joint_planning=True,
        shared_roadmap=True,
        cost_transparency=True,
    )
    return {
        "exploratory": DepthEvidence(
            vendor_stakeholders=2, customer_stakeholders=1, contact="ad_hoc"
        ),
        "basic": basic,
        "collaborative": collaborative,
        "interconnected": interconnected,
        "integrated": attrs.evolve(
            interconnected, joint_marketing=True, integrated_operations=True
        ),
    }
