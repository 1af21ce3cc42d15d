"""Many accounts at once: distributions, transition matrices, episode statistics, cohorts.

A `Portfolio` holds accounts keyed by id, together with the `Lifecycle`
that governs them. It answers the questions an analyst asks of a book of business: how
the accounts spread over the stages, which ones need attention first, how accounts move
from one stage to another month by month (and where that leads), how crises end, and how
each signing cohort has fared since.

Everything here is pure Python. DataFrame conversions (`Portfolio.to_frame`,
`Portfolio.from_frames`, `Portfolio.evidence_frame`) import narwhals only when
they run; pictures live in `stars.plots`.

Examples:
    >>> from datetime import datetime, timezone
    >>> from stars.account import Account
    >>> from stars.lifecycle import STARS, Event
    >>> from stars.portfolio import Portfolio
    >>> t = datetime(2025, 1, 15, tzinfo=timezone.utc)
    >>> signed = STARS.replay("acme", [Event("sign", t, forced=True, reason="import")])
    >>> book = Portfolio([signed, Account("globex")])
    >>> len(book), book.stage_distribution().counts["seed"]
    (2, 1)
"""

from __future__ import annotations

import bisect
import calendar
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

import attrs

from stars import _validate as v
from stars.account import Account, TransitionRecord
from stars.bands import Band
from stars.cycles import CycleEpisode, EpisodeOutcome, _episodes
from stars.errors import InvalidValue, UnknownName
from stars.lifecycle import STARS, Lifecycle
from stars.stages import StageKind

__all__ = [
    "Cohort",
    "EpisodeStats",
    "ForecastBacktest",
    "Portfolio",
    "RecoveryCurve",
    "RiskEntry",
    "StageDistribution",
    "TransitionMatrix",
]

_UTC: Final = UTC
_DAY: Final = 86400.0
_YEAR_DAYS: Final = 365.25
_FREQS: Final = ("monthly", "quarterly")
Freq = Literal["monthly", "quarterly"]


# --------------------------------------------------------------------------- periods
def _check_freq(freq: object) -> int:
    """Months per period for a frequency name."""
    if freq == "monthly":
        return 1
    if freq == "quarterly":
        return 3
    raise InvalidValue("freq", freq, "'monthly' or 'quarterly'")


def _period(at: datetime, months: int) -> int:
    """The index of the period (in UTC) that contains ``at``."""
    if at.tzinfo is not _UTC:
        at = at.astimezone(_UTC)
    return (at.year * 12 + at.month - 1) // months


def _period_end(index: int, months: int) -> datetime:
    """The last instant of a period, in UTC."""
    last = index * months + months - 1
    year, month0 = divmod(last, 12)
    day = calendar.monthrange(year, month0 + 1)[1]
    return datetime(year, month0 + 1, day, 23, 59, 59, 999999, tzinfo=_UTC)


def _add_months(at: datetime, months: int) -> datetime:
    """``at`` moved by whole calendar months (the day is clamped to the month's length)."""
    total = at.year * 12 + at.month - 1 + months
    year, month0 = divmod(total, 12)
    day = min(at.day, calendar.monthrange(year, month0 + 1)[1])
    return at.replace(year=year, month=month0 + 1, day=day)


def _optional_time(field: str, value: object) -> datetime | None:
    return None if value is None else v.aware(field, value)


def _whole(field: str, value: object, lo: int) -> int:
    return int(v.number(field, value, lo, None, integer=True))


def _quantile(ordered: Sequence[float], q: float) -> float | None:
    """Linear-interpolation quantile of sorted values (NumPy's default method)."""
    if not ordered:
        return None
    pos = (len(ordered) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# --------------------------------------------------------------------------- value objects
def _str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _int_tuple(value: Iterable[int]) -> tuple[int, ...]:
    return tuple(value)


def _float_tuple(value: Iterable[float]) -> tuple[float, ...]:
    return tuple(float(x) for x in value)


def _map_tuple(value: Iterable[Mapping[str, float]]) -> tuple[Mapping[str, float], ...]:
    return tuple(dict(m) for m in value)


def _int_map(value: Mapping[str, int]) -> dict[str, int]:
    return dict(value)


def _float_map(value: Mapping[str, float]) -> dict[str, float]:
    return dict(value)


@attrs.frozen(slots=True)
class StageDistribution:
    """How many accounts sit in each stage, and what share of the total that is.

    Attributes:
        counts: Accounts per stage, in the lifecycle's stage order (every stage present).
        shares: The same as fractions of ``total`` (all zero when the portfolio is empty).
        total: The number of accounts counted.

    Examples:
        >>> from stars.portfolio import StageDistribution
        >>> d = StageDistribution({"seed": 1, "tact": 3}, {"seed": 0.25, "tact": 0.75}, 4)
        >>> d.shares["tact"]
        0.75
    """

    counts: Mapping[str, int] = attrs.field(converter=_int_map)
    shares: Mapping[str, float] = attrs.field(converter=_float_map)
    total: int

    @classmethod
    def _of(cls, stages: Sequence[str], stage_of: Iterable[str]) -> StageDistribution:
        counts = dict.fromkeys(stages, 0)
        for stage in stage_of:
            counts[stage] += 1
        total = sum(counts.values())
        shares = {s: (n / total if total else 0.0) for s, n in counts.items()}
        return cls(counts, shares, total)

    def _repr_html_(self) -> str:
        from stars._html import table

        rows = [(s, n, f"{self.shares[s]:.1%}") for s, n in self.counts.items()]
        return table(("stage", "accounts", "share"), rows, caption=f"{self.total} accounts")


@attrs.frozen(slots=True)
class RiskEntry:
    """One account on the at-risk list.

    Attributes:
        account_id: The account.
        stage: Its current stage.
        band: Its latest health band, if known.
        health: Its latest health score, if known.
        severity: Higher is worse: the crisis stage's weight (RESET 1, TACT 2 in the STARS
            lifecycle: crisis stages count up in definition order) plus the band's
            (yellow 1, red 2).
        reasons: Why it is on the list.

    Examples:
        >>> from stars.portfolio import RiskEntry
        >>> RiskEntry("acme", "tact", None, None, 2, ("in tact",)).severity
        2
    """

    account_id: str
    stage: str
    band: Band | None
    health: float | None
    severity: int
    reasons: tuple[str, ...]


def _square(name: str, rows: Sequence[Sequence[Any]], size: int) -> None:
    if len(rows) != size or any(len(row) != size for row in rows):
        raise InvalidValue(name, rows, f"a {size} x {size} table, one row and column per stage")


def _int_rows(value: Iterable[Iterable[int]]) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(row) for row in value)


def _float_rows(value: Iterable[Iterable[float]]) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(x) for x in row) for row in value)


@attrs.frozen(slots=True)
class TransitionMatrix:
    """Observed period-to-period stage movements, counted and as probabilities.

    Row ``i`` is where accounts that ended a period in ``stages[i]`` had got to by the end
    of the next period. Lost stages (CHURN) are absorbing: an account that reaches one
    stops being followed, and the row is all probability on itself. A stage that was
    never observed at a period end gets a row that stays where it is, so a forecast does
    not lose accounts.

    Attributes:
        stages: The lifecycle's stages, in definition order.
        counts: Observed movements, ``counts[i][j]`` from ``stages[i]`` to ``stages[j]``.
        probabilities: Each row of counts divided by its total.
        freq: ``"monthly"`` or ``"quarterly"``.
        start: The end of the first period counted (UTC), if any.
        end: The end of the last period counted (UTC), if any.

    Raises:
        InvalidValue: If the tables are not square over the stages, a count is negative,
            or a probability row does not add up to 1.

    Examples:
        >>> from stars.portfolio import TransitionMatrix
        >>> m = TransitionMatrix(("ok", "lost"), ((3, 1), (0, 0)), ((0.75, 0.25), (0.0, 1.0)))
        >>> m.probability("ok", "lost")
        0.25
        >>> m.forecast({"ok": 100}, months=2)
        {'ok': 56.25, 'lost': 43.75}
    """

    stages: tuple[str, ...] = attrs.field(converter=_str_tuple)
    counts: tuple[tuple[int, ...], ...] = attrs.field(converter=_int_rows)
    probabilities: tuple[tuple[float, ...], ...] = attrs.field(converter=_float_rows)
    freq: str = "monthly"
    start: datetime | None = None
    end: datetime | None = None

    def __attrs_post_init__(self) -> None:
        size = len(self.stages)
        if size == 0 or len(set(self.stages)) != size:
            raise InvalidValue("stages", self.stages, "distinct stage names")
        for s in self.stages:
            v.text("stages", s)
        _square("counts", self.counts, size)
        _square("probabilities", self.probabilities, size)
        _check_freq(self.freq)
        for i, row in enumerate(self.counts):
            for n in row:
                v.number(f"counts[{i}]", n, 0, None, integer=True)
        for i, prow in enumerate(self.probabilities):
            for p in prow:
                v.number(f"probabilities[{i}]", p, 0, 1)
            if abs(sum(prow) - 1.0) > 1e-9:
                raise InvalidValue(f"probabilities[{i}]", prow, "a row that adds up to 1")
        _optional_time("start", self.start)
        _optional_time("end", self.end)

    def _index(self, stage: str) -> int:
        try:
            return self.stages.index(stage)
        except ValueError:
            raise UnknownName("stage", stage, self.stages) from None

    def probability(self, source: str, dest: str) -> float:
        """The probability of being in ``dest`` one period after being in ``source``.

        Raises:
            UnknownName: If either stage is not in the matrix.

        Examples:
            >>> from stars.portfolio import TransitionMatrix
            >>> m = TransitionMatrix(("a", "b"), ((1, 1), (0, 2)), ((0.5, 0.5), (0.0, 1.0)))
            >>> m.probability("b", "b")
            1.0
        """
        return self.probabilities[self._index(source)][self._index(dest)]

    @property
    def total(self) -> int:
        """How many account-periods were counted.

        Examples:
            >>> from stars.portfolio import TransitionMatrix
            >>> TransitionMatrix(("a",), ((4,),), ((1.0,),)).total
            4
        """
        return sum(sum(row) for row in self.counts)

    def forecast(self, distribution: Mapping[str, float], months: int = 1) -> dict[str, float]:
        """Project a distribution over stages forward by ``months`` periods (a Markov chain).

        The input may be counts or shares; the output is on the same scale. With a
        quarterly matrix, each step is a quarter.

        Args:
            distribution: Accounts (or shares) per stage; stages left out count as zero.
            months: How many periods to step forward (0 returns the input, completed).

        Returns:
            The projected distribution, one entry per stage, in stage order.

        Raises:
            UnknownName: A stage is not in the matrix.
            InvalidValue: A value is negative or not finite, or ``months`` is negative.

        Examples:
            >>> from stars.portfolio import TransitionMatrix
            >>> m = TransitionMatrix(("a", "b"), ((1, 1), (0, 2)), ((0.5, 0.5), (0.0, 1.0)))
            >>> m.forecast({"a": 1.0}, months=3)
            {'a': 0.125, 'b': 0.875}
        """
        steps = _whole("months", months, 0)
        if not isinstance(distribution, Mapping):
            raise InvalidValue("distribution", distribution, "a mapping of stage to number")
        state = [0.0] * len(self.stages)
        for stage, amount in distribution.items():
            state[self._index(stage)] = v.number(f"distribution[{stage!r}]", amount, 0)
        p = self.probabilities
        size = len(state)
        for _ in range(steps):
            nxt = [0.0] * size
            for i, mass in enumerate(state):
                if mass:
                    row = p[i]
                    for j in range(size):
                        nxt[j] += mass * row[j]
            state = nxt
        return dict(zip(self.stages, state, strict=True))

    def _repr_html_(self) -> str:
        from stars._html import table

        rows = [
            (s, *(f"{p:.0%}" if p else "·" for p in prow), sum(crow))
            for s, prow, crow in zip(self.stages, self.probabilities, self.counts, strict=True)
        ]
        span = ""
        if self.start is not None and self.end is not None:
            span = f", {self.start.date().isoformat()} to {self.end.date().isoformat()}"
        return table(
            ("from \\ to", *self.stages, "observed"),
            rows,
            caption=f"{self.freq} transition probabilities ({self.total} account-periods{span})",
        )


@attrs.frozen(slots=True)
class ForecastBacktest:
    """A forecast made at one time, set against what then happened.

    Attributes:
        as_of: The end of the period the forecast was made from (UTC).
        months: How many periods ahead it looked.
        accounts: How many accounts were followed.
        start: Stage shares at ``as_of``.
        forecast: Forecast stage shares ``months`` periods later.
        actual: The stage shares that were then observed.
        error: Absolute difference between forecast and actual share, per stage.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.portfolio import ForecastBacktest
        >>> b = ForecastBacktest(datetime(2025, 1, 31, tzinfo=timezone.utc), 1, 10,
        ...                      {"a": 1.0}, {"a": 0.8}, {"a": 0.5}, {"a": 0.3})
        >>> b.mean_absolute_error
        0.3
    """

    as_of: datetime
    months: int
    accounts: int
    start: Mapping[str, float] = attrs.field(converter=_float_map)
    forecast: Mapping[str, float] = attrs.field(converter=_float_map)
    actual: Mapping[str, float] = attrs.field(converter=_float_map)
    error: Mapping[str, float] = attrs.field(converter=_float_map)

    @property
    def mean_absolute_error(self) -> float:
        """The per-stage absolute errors, averaged over the stages.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.portfolio import ForecastBacktest
            >>> at = datetime(2025, 1, 31, tzinfo=timezone.utc)
            >>> ForecastBacktest(at, 1, 0, {}, {}, {}, {}).mean_absolute_error
            0.0
        """
        return sum(self.error.values()) / len(self.error) if self.error else 0.0


@attrs.frozen(slots=True)
class EpisodeStats:
    """Crisis-episode statistics for one group of accounts.

    Attributes:
        group: The group's value (an owner, a segment) or ``"all"``.
        accounts: Accounts in the group.
        account_years: Years the group's accounts were followed as customers (from their
            first transition, or ``since``, to their loss or to ``as_of``).
        episodes: Crisis episodes opened.
        recovered: Episodes that ended back in a growth stage.
        lost: Episodes that ended in a loss.
        ongoing: Episodes still open at ``as_of``.
        relapses: Episodes that opened within the relapse window after a recovery.
        median_days_to_recover: Median length of the recovered episodes, in days.
        p75_days_to_recover: Their 75th percentile.
        p90_days_to_recover: Their 90th percentile.

    Examples:
        >>> from stars.portfolio import EpisodeStats
        >>> s = EpisodeStats("all", 10, 20.0, 8, 6, 2, 0, 3, 40.0, 60.0, 90.0)
        >>> s.per_account_year, s.recovery_rate, s.relapse_rate
        (0.4, 0.75, 0.5)
    """

    group: str
    accounts: int
    account_years: float
    episodes: int
    recovered: int
    lost: int
    ongoing: int
    relapses: int
    median_days_to_recover: float | None
    p75_days_to_recover: float | None
    p90_days_to_recover: float | None

    @property
    def per_account_year(self) -> float | None:
        """Episodes opened per account-year of exposure (``None`` without exposure).

        Examples:
            >>> from stars.portfolio import EpisodeStats
            >>> print(EpisodeStats("x", 0, 0.0, 0, 0, 0, 0, 0, None, None, None).per_account_year)
            None
        """
        return self.episodes / self.account_years if self.account_years > 0 else None

    @property
    def recovery_rate(self) -> float | None:
        """Recovered episodes over closed ones (recovered plus lost); ``None`` if none closed.

        Examples:
            >>> from stars.portfolio import EpisodeStats
            >>> EpisodeStats("x", 1, 1.0, 2, 1, 0, 1, 0, 9.0, 9.0, 9.0).recovery_rate
            1.0
        """
        closed = self.recovered + self.lost
        return self.recovered / closed if closed else None

    @property
    def relapse_rate(self) -> float | None:
        """Relapses per recovered episode: how often a recovery is followed by a new crisis.

        Examples:
            >>> from stars.portfolio import EpisodeStats
            >>> print(EpisodeStats("x", 1, 1.0, 0, 0, 0, 0, 0, None, None, None).relapse_rate)
            None
        """
        return self.relapses / self.recovered if self.recovered else None


@attrs.frozen(slots=True)
class RecoveryCurve:
    """The share of crisis episodes still open after a number of days (Kaplan-Meier).

    Episodes still open at ``as_of``, and episodes that ended in a loss, count as
    censored: they leave the at-risk set at that time without counting as recovered.

    Attributes:
        days: Days since the episode opened at which the share drops, starting with 0.
        share: The share of episodes still in crisis from that day on.
        episodes: Episodes the curve is built from.

    Examples:
        >>> from stars.portfolio import RecoveryCurve
        >>> RecoveryCurve((0.0, 30.0), (1.0, 0.5), 2).share_at(45)
        0.5
    """

    days: tuple[float, ...] = attrs.field(converter=_float_tuple)
    share: tuple[float, ...] = attrs.field(converter=_float_tuple)
    episodes: int

    def share_at(self, days: float) -> float:
        """The share of episodes still in crisis ``days`` after they opened.

        Examples:
            >>> from stars.portfolio import RecoveryCurve
            >>> RecoveryCurve((0.0, 30.0), (1.0, 0.5), 2).share_at(10)
            1.0
        """
        i = bisect.bisect_right(self.days, v.number("days", days, 0)) - 1
        return self.share[max(i, 0)]

    @property
    def median_days(self) -> float | None:
        """The first day on which at most half the episodes are still open, if reached.

        Examples:
            >>> from stars.portfolio import RecoveryCurve
            >>> RecoveryCurve((0.0, 30.0), (1.0, 0.5), 2).median_days
            30.0
        """
        for d, s in zip(self.days, self.share, strict=True):
            if s <= 0.5:
                return d
        return None


@attrs.frozen(slots=True)
class Cohort:
    """The accounts that signed in one quarter, followed month by month since signing.

    Attributes:
        label: The signing quarter, e.g. ``"2024-Q3"``.
        accounts: How many accounts signed then.
        observed: For each month since signing (0, 1, ...), how many of them could be observed.
        shares: For each month since signing, the stage shares among those observed.

    Examples:
        >>> from stars.portfolio import Cohort
        >>> c = Cohort("2025-Q1", 2, (2,), ({"seed": 1.0},))
        >>> c.shares[0]["seed"]
        1.0
    """

    label: str
    accounts: int
    observed: tuple[int, ...] = attrs.field(converter=_int_tuple)
    shares: tuple[Mapping[str, float], ...] = attrs.field(converter=_map_tuple)


# --------------------------------------------------------------------------- portfolio
_RISK_BANDS: Final = {Band.RED: 2, Band.YELLOW: 1}


class Portfolio:
    """A set of accounts keyed by id, and the lifecycle that governs them.

    Read it like a mapping: ``len(p)``, ``"acme" in p``, ``p["acme"]`` and iteration over
    ids. Accounts are held by reference, so changes made through the lifecycle show up.

    Args:
        accounts: The accounts (ids must be unique).
        lifecycle: Their lifecycle (default ``STARS``); every account's stage must be one
            of its stages.

    Raises:
        InvalidValue: An item is not an Account, or an id appears twice (the message names it).
        UnknownName: An account's stage is not in the lifecycle.

    Examples:
        >>> from stars.account import Account
        >>> from stars.portfolio import Portfolio
        >>> p = Portfolio([Account("acme"), Account("globex")])
        >>> "acme" in p, len(p), list(p)
        (True, 2, ['acme', 'globex'])
        >>> Portfolio([Account("acme"), Account("acme")])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: accounts: got 'acme', expected unique account ids (the id ...)
    """

    __slots__ = ("_accounts", "_lifecycle")

    def __init__(self, accounts: Iterable[Account] = (), lifecycle: Lifecycle = STARS) -> None:
        if not isinstance(lifecycle, Lifecycle):
            raise InvalidValue("lifecycle", lifecycle, "a Lifecycle")
        self._lifecycle = lifecycle
        self._accounts: dict[str, Account] = {}
        if not isinstance(accounts, Iterable) or isinstance(accounts, str | bytes):  # type: ignore[unreachable]
            raise InvalidValue("accounts", accounts, "an iterable of Account values")
        staged: dict[str, Account] = {}
        for account in accounts:
            self._check(account, staged)
            staged[account.id] = account
        self._accounts = staged

    @classmethod
    def _checked(cls, accounts: dict[str, Account], lifecycle: Lifecycle) -> Portfolio:
        """A portfolio of accounts whose ids and stages the caller has already checked."""
        book = cls.__new__(cls)
        book._lifecycle = lifecycle
        book._accounts = accounts
        return book

    def _check(self, account: object, known: Mapping[str, Account]) -> None:
        if not isinstance(account, Account):
            raise InvalidValue("accounts", account, "an Account")
        if account.id in known:
            raise InvalidValue(
                "accounts", account.id, "unique account ids", hint="the id appears twice"
            )
        self._lifecycle.kind_of(account.stage)

    # -- mapping-like access --------------------------------------------------------
    @property
    def lifecycle(self) -> Lifecycle:
        """The lifecycle that governs the accounts.

        Examples:
            >>> from stars.portfolio import Portfolio
            >>> Portfolio().lifecycle.name
            'STARS'
        """
        return self._lifecycle

    def __len__(self) -> int:
        return len(self._accounts)

    def __contains__(self, account_id: object) -> bool:
        return account_id in self._accounts

    def __iter__(self) -> Iterator[str]:
        return iter(self._accounts)

    def __getitem__(self, account_id: str) -> Account:
        try:
            return self._accounts[account_id]
        except (KeyError, TypeError):
            raise UnknownName("account", account_id, list(self._accounts)[:20]) from None

    def __repr__(self) -> str:
        return f"Portfolio(accounts={len(self)}, lifecycle={self._lifecycle.name!r})"

    def __eq__(self, other: object) -> bool:
        """Equal when the lifecycles are equal and the accounts are equal, in the same order.

        Examples:
            >>> from stars.account import Account
            >>> from stars.portfolio import Portfolio
            >>> Portfolio([Account("a"), Account("b")]) == Portfolio([Account("a"), Account("b")])
            True
            >>> Portfolio([Account("a"), Account("b")]) == Portfolio([Account("b"), Account("a")])
            False
        """
        if not isinstance(other, Portfolio):
            return NotImplemented
        return self._lifecycle == other._lifecycle and self.accounts() == other.accounts()

    # A portfolio is mutable (accounts can be added), so it must not be hashable.
    __hash__ = None  # type: ignore[assignment]

    def accounts(self) -> tuple[Account, ...]:
        """The accounts, in the order they were added.

        Examples:
            >>> from stars.account import Account
            >>> from stars.portfolio import Portfolio
            >>> [a.id for a in Portfolio([Account("b"), Account("a")]).accounts()]
            ['b', 'a']
        """
        return tuple(self._accounts.values())

    def add(self, account: Account) -> None:
        """Add one account.

        Raises:
            InvalidValue: Not an Account, or its id is already in the portfolio.
            UnknownName: Its stage is not in the lifecycle.

        Examples:
            >>> from stars.account import Account
            >>> from stars.portfolio import Portfolio
            >>> p = Portfolio()
            >>> p.add(Account("acme"))
            >>> len(p)
            1
        """
        self._check(account, self._accounts)
        self._accounts[account.id] = account

    # -- where accounts stand ---------------------------------------------------------
    @property
    def _stage_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self._lifecycle.stages)

    def stage_distribution(self) -> StageDistribution:
        """Accounts per current stage, as counts and shares.

        Examples:
            >>> from stars.account import Account
            >>> from stars.portfolio import Portfolio
            >>> d = Portfolio([Account("a"), Account("b", stage="churn")]).stage_distribution()
            >>> d.counts["prospect"], d.shares["churn"], d.total
            (1, 0.5, 2)
        """
        return StageDistribution._of(self._stage_names, (a.stage for a in self._accounts.values()))

    def distribution_at(self, at: datetime) -> StageDistribution:
        """Accounts per stage as they stood at a past time, read from their histories.

        An account counts from its first transition (or ``since``) onwards; accounts
        that had not started yet, and accounts with neither, are left out.

        Args:
            at: The time (timezone-aware).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.lifecycle import STARS, Event
            >>> from stars.portfolio import Portfolio
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> a = STARS.replay("a", [Event("sign", t, forced=True, reason="x")])
            >>> book = Portfolio([a])
            >>> book.distribution_at(datetime(2025, 2, 1, tzinfo=timezone.utc)).counts["seed"]
            1
        """
        v.aware("at", at)
        stages: list[str] = []
        for account in self._accounts.values():
            stage = _stage_at(account, at)
            if stage is not None:
                stages.append(stage)
        return StageDistribution._of(self._stage_names, stages)

    def by_band(self) -> dict[str, tuple[str, ...]]:
        """Account ids by latest health band: ``red``, ``yellow``, ``green`` and ``unknown``.

        The band is the latest snapshot's (derived from its health with the lifecycle's
        policy when the snapshot has none).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.account import Account, Snapshot
            >>> from stars.portfolio import Portfolio
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> p = Portfolio([Account("a", snapshots=[Snapshot(at=t, health=20)]), Account("b")])
            >>> p.by_band()
            {'red': ('a',), 'yellow': (), 'green': (), 'unknown': ('b',)}
        """
        policy = self._lifecycle.policy
        out: dict[str, list[str]] = {"red": [], "yellow": [], "green": [], "unknown": []}
        for account in self._accounts.values():
            band = policy.band_of(account.latest)
            out[band.value if band is not None else "unknown"].append(account.id)
        return {k: tuple(ids) for k, ids in out.items()}

    def at_risk(self) -> tuple[RiskEntry, ...]:
        """Customers in a crisis stage or with a red or yellow latest band, worst first.

        Prospects and lost accounts are left out. Severity adds the crisis stage's weight
        (its position among the lifecycle's crisis stages: RESET 1, TACT 2) and the band's
        (yellow 1, red 2); ties go to the lower health score, then the id.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.account import Account, Snapshot
            >>> from stars.portfolio import Portfolio
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> p = Portfolio([
            ...     Account("calm", stage="seed", snapshots=[Snapshot(at=t, health=90)]),
            ...     Account("wobbly", stage="ascend", snapshots=[Snapshot(at=t, health=60)]),
            ...     Account("burning", stage="tact", snapshots=[Snapshot(at=t, health=20)]),
            ... ])
            >>> [(r.account_id, r.severity) for r in p.at_risk()]
            [('burning', 4), ('wobbly', 1)]
        """
        lc = self._lifecycle
        policy = lc.policy
        crisis = [s.name for s in lc.stages if s.kind is StageKind.CRISIS]
        weight = {name: i + 1 for i, name in enumerate(crisis)}
        entries: list[RiskEntry] = []
        for account in self._accounts.values():
            kind = lc.kind_of(account.stage)
            if kind in (StageKind.BEFORE, StageKind.LOST):
                continue
            latest = account.latest
            band = policy.band_of(latest)
            stage_w = weight.get(account.stage, 0)
            band_w = _RISK_BANDS.get(band, 0) if band is not None else 0
            if not (stage_w or band_w):
                continue
            reasons = []
            if stage_w:
                reasons.append(f"in the crisis stage {account.stage}")
            if band_w:
                assert band is not None
                reasons.append(f"latest health band is {band.value}")
            health = latest.health if latest is not None else None
            entries.append(
                RiskEntry(account.id, account.stage, band, health, stage_w + band_w, tuple(reasons))
            )
        entries.sort(
            key=lambda e: (
                -e.severity,
                e.health if e.health is not None else math.inf,
                e.account_id,
            )
        )
        return tuple(entries)

    def time_in_stage(self, as_of: datetime) -> dict[str, float | None]:
        """Days each account has spent in its current stage as of a time.

        The stage started at the last transition (or ``since`` without history); the
        value is ``None`` when neither is known.

        Args:
            as_of: The time to measure to; must not be before any account's last transition.

        Raises:
            InvalidValue: ``as_of`` is not timezone-aware, or an account entered its stage after it.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.account import Account
            >>> from stars.portfolio import Portfolio
            >>> p = Portfolio([Account("a", since=datetime(2025, 1, 1, tzinfo=timezone.utc)),
            ...                Account("b")])
            >>> p.time_in_stage(datetime(2025, 1, 31, tzinfo=timezone.utc))
            {'a': 30.0, 'b': None}
        """
        v.aware("as_of", as_of)
        out: dict[str, float | None] = {}
        for account in self._accounts.values():
            since = account.stage_since
            if since is None:
                out[account.id] = None
                continue
            if since > as_of:
                raise InvalidValue(
                    "as_of",
                    as_of,
                    "a time at or after every account's latest transition",
                    hint=f"{account.id!r} entered {account.stage!r} at {since.isoformat()}",
                )
            out[account.id] = (as_of - since).total_seconds() / _DAY
        return out

    # -- movements ----------------------------------------------------------------------
    def _span(self, months: int) -> tuple[int, int] | None:
        """The first and last period that holds a transition, if any."""
        first: datetime | None = None
        last: datetime | None = None
        for account in self._accounts.values():
            hist = account.history
            if hist:
                if first is None or hist[0].at < first:
                    first = hist[0].at
                if last is None or hist[-1].at > last:
                    last = hist[-1].at
        if first is None or last is None:
            return None
        return _period(first, months), _period(last, months)

    def transition_matrix(
        self,
        freq: Freq = "monthly",
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> TransitionMatrix:
        """Estimate period-to-period stage movements from the accounts' histories.

        Each account's stage at each period end (UTC) is read from its history: it is
        followed from the period of its first transition, and stops being followed once
        it reaches a lost stage (lost stages are absorbing). Accounts without transitions
        are not counted. Each history is read once, whatever the number of periods.

        Args:
            freq: ``"monthly"`` (default) or ``"quarterly"``.
            start: Count movements out of period ends from the period holding this time
                (default: the first transition in the portfolio).
            end: Count movements into period ends up to the period holding this time
                (default: the last transition in the portfolio).

        Returns:
            The counts and row-normalised probabilities.

        Raises:
            InvalidValue: ``freq`` is unknown, ``start``/``end`` are not aware datetimes,
                or ``start`` is after ``end``.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.lifecycle import STARS, Event
            >>> from stars.portfolio import Portfolio
            >>> def at(month):
            ...     return datetime(2025, month, 10, tzinfo=timezone.utc)
            >>> a = STARS.replay("a", [Event("sign", at(1), forced=True, reason="x"),
            ...                         Event("escalate", at(3), forced=True, reason="x")])
            >>> m = Portfolio([a]).transition_matrix()
            >>> m.counts[m.stages.index("seed")][m.stages.index("seed")]
            1
            >>> m.probability("seed", "tact")
            0.5
        """
        months = _check_freq(freq)
        _optional_time("start", start)
        _optional_time("end", end)
        if start is not None and end is not None and start > end:
            raise InvalidValue("start", start, f"a time at or before end ({end.isoformat()})")
        lc = self._lifecycle
        stages = self._stage_names
        size = len(stages)
        index = {s: i for i, s in enumerate(stages)}
        absorbing = frozenset(index[s.name] for s in lc.stages if s.kind is StageKind.LOST)
        counts = [[0] * size for _ in range(size)]
        span = self._span(months)
        if span is not None:
            lo_all = span[0] if start is None else _period(start, months)
            hi = span[1] if end is None else _period(end, months)
            for account in self._accounts.values():
                _count_moves(account.history, months, lo_all, hi, index, absorbing, counts)
        probabilities = _normalise(counts, absorbing)
        lo_end = hi_end = None
        if span is not None:
            lo_p = span[0] if start is None else _period(start, months)
            hi_p = span[1] if end is None else _period(end, months)
            lo_end, hi_end = _period_end(lo_p, months), _period_end(hi_p, months)
        return TransitionMatrix(stages, counts, probabilities, freq, lo_end, hi_end)

    def backtest_forecast(
        self,
        as_of: datetime,
        months: int,
        *,
        freq: Freq = "monthly",
        start: datetime | None = None,
    ) -> ForecastBacktest:
        """Fit a transition matrix on history up to ``as_of``, forecast, and compare.

        The accounts followed are those whose first transition falls in or before the
        period of ``as_of``. Their stage shares at that period's end are projected
        ``months`` periods ahead with a matrix estimated from ``start`` to ``as_of`` only,
        and set against the shares observed then (with lost stages absorbing, as in the
        matrix).

        Args:
            as_of: The time the forecast is made from.
            months: Periods ahead (at least 1); the outcome must lie within the history.
            freq: ``"monthly"`` or ``"quarterly"``.
            start: Fit from this time (default: the first transition).

        Returns:
            Start, forecast and actual shares and the absolute error per stage.

        Raises:
            InvalidValue: ``months`` reaches past the last transition, or there is no
                history before ``as_of``.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.lifecycle import STARS, Event
            >>> from stars.portfolio import Portfolio
            >>> def at(month):
            ...     return datetime(2025, month, 10, tzinfo=timezone.utc)
            >>> a = STARS.replay("a", [Event("sign", at(1), forced=True, reason="x"),
            ...                         Event("escalate", at(4), forced=True, reason="x")])
            >>> b = STARS.replay("b", [Event("sign", at(1), forced=True, reason="x"),
            ...                         Event("escalate", at(2), forced=True, reason="x")])
            >>> bt = Portfolio([a, b]).backtest_forecast(at(2), 2)
            >>> bt.start["tact"], bt.actual["tact"]
            (0.5, 1.0)
        """
        v.aware("as_of", as_of)
        steps = _whole("months", months, 1)
        per = _check_freq(freq)
        span = self._span(per)
        p0 = _period(as_of, per)
        if span is None or span[0] > p0:
            raise InvalidValue("as_of", as_of, "a time after the first transition in the portfolio")
        if p0 + steps > span[1]:
            raise InvalidValue(
                "months",
                months,
                f"at most {span[1] - p0} periods, so that the outcome is in the history",
            )
        matrix = self.transition_matrix(freq, start=start, end=as_of)
        lc = self._lifecycle
        stages = self._stage_names
        absorbing = frozenset(s.name for s in lc.stages if s.kind is StageKind.LOST)
        then: list[str] = []
        later: list[str] = []
        for account in self._accounts.values():
            hist = account.history
            if not hist or _period(hist[0].at, per) > p0:
                continue
            then.append(_stage_at_period(hist, p0, per, absorbing))
            later.append(_stage_at_period(hist, p0 + steps, per, absorbing))
        begin = StageDistribution._of(stages, then).shares
        actual = StageDistribution._of(stages, later).shares
        projected = matrix.forecast(begin, steps)
        error = {s: abs(projected[s] - actual[s]) for s in stages}
        return ForecastBacktest(
            _period_end(p0, per), steps, len(then), begin, projected, actual, error
        )

    # -- episodes -----------------------------------------------------------------------
    def _as_of(self) -> datetime | None:
        latest: datetime | None = None
        for account in self._accounts.values():
            for t in (
                account.history[-1].at if account.history else None,
                account.latest.at if account.latest else None,
            ):
                if t is not None and (latest is None or t > latest):
                    latest = t
        return latest

    def episodes(
        self, *, relapse_window: timedelta = timedelta(days=90)
    ) -> tuple[CycleEpisode, ...]:
        """Every account's crisis episodes, account by account, oldest first.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.lifecycle import STARS, Event
            >>> from stars.portfolio import Portfolio
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> a = STARS.replay("a", [Event("sign", t, forced=True, reason="x"),
            ...                         Event("escalate", t, forced=True, reason="x")])
            >>> [e.outcome.value for e in Portfolio([a]).episodes()]
            ['ongoing']
        """
        window = _window(relapse_window)
        kind_of = self._lifecycle.kind_of
        out: list[CycleEpisode] = []
        for account in self._accounts.values():
            out.extend(_episodes(account.id, account.history, kind_of, window))
        return tuple(out)

    def _group_of(self, by: str | None) -> Any:
        if by is None:
            return lambda account: "all"
        if by == "owner":
            return lambda account: account.owner if account.owner is not None else "(none)"
        if not isinstance(by, str) or not by.strip() or ":" in by:
            raise InvalidValue(
                "by",
                by,
                "None, 'owner', or a tag key such as 'segment' (read from 'segment:<value>' tags)",
            )
        prefix = by + ":"

        def tag_value(account: Account) -> str:
            found = sorted(t[len(prefix) :] for t in account.tags if t.startswith(prefix))
            return found[0] if found else "(none)"

        return tag_value

    def episode_stats(
        self,
        by: str | None = None,
        *,
        relapse_window: timedelta = timedelta(days=90),
        as_of: datetime | None = None,
    ) -> tuple[EpisodeStats, ...]:
        """Crisis episodes per account-year, recovery and relapse rates, time to recover.

        Args:
            by: ``None`` for one group (``"all"``), ``"owner"``, or a tag key: ``"segment"``
                groups by the value of each account's ``segment:<value>`` tag. Accounts
                without one fall in ``"(none)"``.
            relapse_window: A crisis opening this soon after a recovery is a relapse.
            as_of: The end of exposure for accounts still customers (default: the latest
                transition or snapshot in the portfolio).

        Returns:
            One entry per group, sorted by group (exactly one, ``"all"``, when ``by`` is None).

        Raises:
            InvalidValue: An unknown ``by``, a non-positive window, a naive ``as_of``.

        Examples:
            >>> from datetime import datetime, timedelta, timezone
            >>> from stars.account import Account
            >>> from stars.lifecycle import STARS, Event
            >>> from stars.portfolio import Portfolio
            >>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
            >>> def ev(trigger, day):
            ...     return Event(trigger, t0 + timedelta(days=day), forced=True, reason="x")
            >>> a = STARS.replay("a", [ev("sign", 0), ev("escalate", 100), ev("restart", 130),
            ...                         ev("escalate", 200), ev("restart", 260)],
            ...                  tags=["segment:smb"])
            >>> (s,) = Portfolio([a]).episode_stats(by="segment", as_of=t0 + timedelta(days=365.25))
            >>> s.group, s.episodes, s.per_account_year, s.median_days_to_recover, s.relapse_rate
            ('smb', 2, 2.0, 45.0, 0.5)
        """
        window = _window(relapse_window)
        group_of = self._group_of(by)
        end = _optional_time("as_of", as_of) or self._as_of()
        lc = self._lifecycle
        kind_of = lc.kind_of
        groups: dict[str, dict[str, Any]] = {}
        if by is None:  # one group, even for an empty portfolio
            groups["all"] = {"accounts": 0, "years": 0.0, "eps": [], "days": []}
        for account in self._accounts.values():
            g = groups.setdefault(
                group_of(account),
                {"accounts": 0, "years": 0.0, "eps": [], "days": []},
            )
            g["accounts"] += 1
            g["years"] += _exposure_years(account, kind_of, end)
            eps = _episodes(account.id, account.history, kind_of, window)
            g["eps"].extend(eps)
        out = []
        for name in sorted(groups):
            g = groups[name]
            eps = g["eps"]
            durations = sorted(
                e.duration.total_seconds() / _DAY
                for e in eps
                if e.outcome is EpisodeOutcome.RECOVERED and e.duration is not None
            )
            out.append(
                EpisodeStats(
                    name,
                    g["accounts"],
                    g["years"],
                    len(eps),
                    sum(e.outcome is EpisodeOutcome.RECOVERED for e in eps),
                    sum(e.outcome is EpisodeOutcome.LOST for e in eps),
                    sum(e.outcome is EpisodeOutcome.ONGOING for e in eps),
                    sum(e.relapse for e in eps),
                    _quantile(durations, 0.5),
                    _quantile(durations, 0.75),
                    _quantile(durations, 0.9),
                )
            )
        return tuple(out)

    def recovery_curve(self, *, as_of: datetime | None = None) -> RecoveryCurve:
        """The Kaplan-Meier share of crisis episodes still open, by days since they opened.

        Args:
            as_of: Where ongoing episodes are censored (default: the latest transition or
                snapshot in the portfolio).

        Examples:
            >>> from datetime import datetime, timedelta, timezone
            >>> from stars.lifecycle import STARS, Event
            >>> from stars.portfolio import Portfolio
            >>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
            >>> def path(name, recover_after):
            ...     return STARS.replay(name, [
            ...         Event("sign", t0, forced=True, reason="x"),
            ...         Event("escalate", t0, forced=True, reason="x"),
            ...         Event("restart", t0 + timedelta(days=recover_after),
            ...               forced=True, reason="x")])
            >>> curve = Portfolio([path("a", 10), path("b", 30)]).recovery_curve()
            >>> curve.days, curve.share
            ((0.0, 10.0, 30.0), (1.0, 0.5, 0.0))
        """
        end = _optional_time("as_of", as_of) or self._as_of()
        events: list[tuple[float, bool]] = []
        for e in self.episodes():
            if e.outcome is EpisodeOutcome.RECOVERED:
                events.append((e.duration_until(e.opened_at).total_seconds() / _DAY, True))
            else:
                stop = e.closed_at if e.closed_at is not None else end
                assert stop is not None
                events.append((max((stop - e.opened_at).total_seconds() / _DAY, 0.0), False))
        return _kaplan_meier(events)

    # -- cohorts ----------------------------------------------------------------------
    def cohorts(self, months: int = 12, *, as_of: datetime | None = None) -> tuple[Cohort, ...]:
        """Accounts grouped by the quarter they signed, with stage shares month by month.

        An account signs with its first transition out of a before-stage (or at ``since``
        when it was imported mid-life). Month ``k`` is the calendar date ``k`` months after
        signing; only accounts for which that date is not after ``as_of`` are counted.

        Args:
            months: How many months since signing to follow (0 means the signing month only).
            as_of: The last time that can be observed (default: the latest transition or
                snapshot in the portfolio).

        Returns:
            One cohort per signing quarter, oldest first.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.lifecycle import STARS, Event
            >>> from stars.portfolio import Portfolio
            >>> def at(month):
            ...     return datetime(2025, month, 10, tzinfo=timezone.utc)
            >>> a = STARS.replay("a", [Event("sign", at(1), forced=True, reason="x"),
            ...                         Event("escalate", at(2), forced=True, reason="x")])
            >>> b = STARS.replay("b", [Event("sign", at(2), forced=True, reason="x")])
            >>> (c,) = Portfolio([a, b]).cohorts(months=1, as_of=at(3))
            >>> c.label, c.observed, c.shares[1]["tact"]
            ('2025-Q1', (2, 2), 0.5)
        """
        horizon = _whole("months", months, 0)
        end = _optional_time("as_of", as_of) or self._as_of()
        lc = self._lifecycle
        kind_of = lc.kind_of
        stages = self._stage_names
        by_quarter: dict[int, list[list[str]]] = {}
        for account in self._accounts.values():
            signed = _signed_at(account, kind_of)
            if signed is None or end is None or signed > end:
                continue
            path = _stages_at_offsets(account, signed, horizon, end)
            by_quarter.setdefault(_period(signed, 3), []).append(path)
        out = []
        for q in sorted(by_quarter):
            paths = by_quarter[q]
            observed = []
            shares = []
            for k in range(horizon + 1):
                dist = StageDistribution._of(stages, (p[k] for p in paths if len(p) > k))
                if dist.total == 0:
                    break
                observed.append(dist.total)
                shares.append(dist.shares)
            year, quarter = divmod(q, 4)
            out.append(Cohort(f"{year}-Q{quarter + 1}", len(paths), observed, shares))
        return tuple(out)

    # -- DataFrames ---------------------------------------------------------------------
    def to_frame(
        self,
        kind: Literal["accounts", "history", "snapshots", "episodes", "owners"] = "accounts",
        backend: Literal["polars", "pandas"] = "polars",
    ) -> Any:
        """One table of the portfolio, as a polars or pandas DataFrame (built column by column).

        Kinds and their columns (times are in UTC):

        - ``accounts``: id, name, owner, tags (list), since, stage, stage_since, health and
          band of the latest snapshot, snapshots, transitions, version;
        - ``history``: one row per transition: account_id, trigger, source, dest, cycle,
          at, actor, reason, forced;
        - ``snapshots``: account_id, at, band, the numeric signals, the flags, and one
          ``metric_<name>`` column per extra metric seen;
        - ``episodes``: account_id, opened_at, closed_at, outcome, left, stages (list),
          returned_to, relapse, days (null while ongoing);
        - ``owners``: one row per owner change (see `stars.reassign`): account_id, at,
          owner, previous, by, reason.

        Args:
            kind: Which table.
            backend: ``"polars"`` (the ``frames`` extra) or ``"pandas"`` (the ``pandas`` extra).

        Raises:
            InvalidValue: An unknown kind or backend.
            MissingDependency: narwhals or the backend is not installed.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.lifecycle import STARS, Event
            >>> from stars.portfolio import Portfolio
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> a = STARS.replay("acme", [Event("sign", t, forced=True, reason="import")])
            >>> Portfolio([a]).to_frame("history").select("account_id", "trigger", "dest").rows()
            [('acme', 'sign', 'seed')]
        """
        from stars.frames import _portfolio_frame

        return _portfolio_frame(self, kind, backend)

    @classmethod
    def from_frames(cls, accounts: Any, events: Any, lifecycle: Lifecycle = STARS) -> Portfolio:
        """Build a portfolio from an accounts table and an events table.

        The events are sorted once by account and time (ties keep their order in the
        table) and every event is walked through the lifecycle's graph before anything is
        returned, so one bad event fails the whole build. Guards do not run again: the
        table records what happened. Each account builds its `TransitionRecord` objects
        on the first read of its ``history``; stage, version and ``stage_since`` are
        there at once, and equality, pickling and JSON see the built records.

        Args:
            accounts: A polars, pandas or pyarrow table with ``id`` and optionally
                ``name``, ``owner``, ``tags`` (a list column, or comma-separated text) and
                ``since`` (timezone-aware).
            events: A table with ``account_id``, ``trigger``, ``at`` (timezone-aware) and
                optionally ``actor``, ``reason``, ``forced`` and ``to`` (the destination,
                for triggers with several).
            lifecycle: The lifecycle to replay with.

        Returns:
            A new portfolio, accounts in the order of the accounts table; times are in UTC.

        Raises:
            InvalidValue: A required column is absent or of the wrong type, an id is blank
                or appears twice, an event names an account that is not in the accounts
                table, a row lacks its account id, trigger or time, a forced row lacks a
                reason, or times are not timezone-aware.
            TransitionNotAllowed: An event is not possible from the stage reached.
            MissingDependency: narwhals is not installed.

        Examples:
            >>> from datetime import datetime, timezone
            >>> import polars as pl
            >>> from stars.portfolio import Portfolio
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> accounts = pl.DataFrame({"id": ["acme", "globex"], "owner": ["dana", "lee"]})
            >>> events = pl.DataFrame({"account_id": ["acme", "acme"],
            ...                        "trigger": ["escalate", "sign"],
            ...                        "at": [t.replace(month=3), t], "forced": [True, True],
            ...                        "reason": ["import", "import"]})
            >>> book = Portfolio.from_frames(accounts, events)
            >>> book["acme"].stage, book["globex"].stage, book["acme"].owner
            ('tact', 'prospect', 'dana')
        """
        from stars.frames import _portfolio_from_frames

        return _portfolio_from_frames(accounts, events, lifecycle)

    def evidence_frame(
        self, at: datetime | None = None, backend: Literal["polars", "pandas"] = "polars"
    ) -> Any:
        """The diagnosis evidence of every account, one row each, ready for ``assign_stages``.

        Columns: ``account_id`` and the `Evidence` fields
        (``band`` as text), computed with `evidence` and the
        lifecycle's policy.

        Args:
            at: Judge as of this time (default: each account's latest snapshot).
            backend: ``"polars"`` or ``"pandas"``.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.account import Account, Snapshot
            >>> from stars.frames import assign_stages
            >>> from stars.portfolio import Portfolio
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> a = Account("a", stage="seed", snapshots=[Snapshot(at=t, health=20,
            ...                                                     contract_signed=True)])
            >>> assign_stages(Portfolio([a]).evidence_frame()).select("account_id", "stage").rows()
            [('a', 'tact')]
        """
        from stars.frames import _evidence_frame

        return _evidence_frame(self, at, backend)

    # -- notebooks ----------------------------------------------------------------------
    def _repr_html_(self) -> str:
        from stars._html import table

        dist = self.stage_distribution()
        html = dist._repr_html_()
        bands = self.by_band()
        html += table(
            ("band", "accounts"),
            [(b, len(ids)) for b, ids in bands.items()],
            caption="latest health band",
        )
        risky = self.at_risk()
        if risky:
            html += table(
                ("account", "stage", "band", "health", "severity"),
                [
                    (r.account_id, r.stage, r.band.value if r.band else None, r.health, r.severity)
                    for r in risky[:10]
                ],
                caption=f"at risk: {len(risky)} (worst 10 shown)"
                if len(risky) > 10
                else f"at risk: {len(risky)}",
            )
        return html


# --------------------------------------------------------------------------- helpers
def _window(value: object) -> timedelta:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise InvalidValue("relapse_window", value, "a timedelta of zero or more")
    return value


def _stage_at(account: Account, at: datetime) -> str | None:
    hist = account.history
    started = hist[0].at if hist else None
    if account.since is not None and (started is None or account.since < started):
        started = account.since
    if started is None or started > at:
        return None
    stage = hist[0].source if hist else account.stage
    for record in hist:
        if record.at > at:
            break
        stage = record.dest
    return stage


def _stage_at_period(
    hist: Sequence[TransitionRecord], p: int, months: int, absorbing: frozenset[str]
) -> str:
    """The stage at the end of period ``p`` (the history must start by then)."""
    stage = hist[0].source
    for record in hist:
        if stage in absorbing or _period(record.at, months) > p:
            break
        stage = record.dest
    return stage


def _count_moves(
    hist: Sequence[TransitionRecord],
    months: int,
    lo_all: int,
    hi: int,
    index: Mapping[str, int],
    absorbing: frozenset[int],
    counts: list[list[int]],
) -> None:
    """Add one account's period-end to period-end movements into ``counts``.

    Reads the history once: the periods between two transitions add to the diagonal in
    one step.
    """
    if not hist:
        return
    n = len(hist)
    first = hist[0].at
    lo = (
        (first.year * 12 + first.month - 1) // months
        if first.tzinfo is _UTC
        else _period(first, months)
    )
    lo = max(lo, lo_all)
    if lo > hi:
        return
    # Stage at the end of period lo: the last record in or before it.
    i = 0
    cur = index[hist[0].source]
    while i < n:
        at = hist[i].at
        p = (at.year * 12 + at.month - 1) // months if at.tzinfo is _UTC else _period(at, months)
        if p > lo:
            break
        cur = index[hist[i].dest]
        i += 1
    if cur in absorbing:
        return
    prev = lo
    row = counts[cur]
    while i < n:
        record = hist[i]
        at = record.at
        p = (at.year * 12 + at.month - 1) // months if at.tzinfo is _UTC else _period(at, months)
        if p > hi:
            break
        # every record of period p: the stage at its end is the last one's dest
        dest = index[record.dest]
        i += 1
        while i < n:
            nxt = hist[i].at
            q = (
                (nxt.year * 12 + nxt.month - 1) // months
                if nxt.tzinfo is _UTC
                else _period(nxt, months)
            )
            if q != p:
                break
            dest = index[hist[i].dest]
            i += 1
        row[cur] += p - 1 - prev
        row[dest] += 1
        prev, cur = p, dest
        if cur in absorbing:
            return
        row = counts[cur]
    row[cur] += hi - prev


def _normalise(counts: Sequence[Sequence[int]], absorbing: frozenset[int]) -> list[list[float]]:
    out = []
    for i, row in enumerate(counts):
        total = sum(row)
        if i in absorbing or total == 0:
            out.append([1.0 if j == i else 0.0 for j in range(len(row))])
        else:
            out.append([n / total for n in row])
    return out


def _exposure_years(account: Account, kind_of: Any, end: datetime | None) -> float:
    hist = account.history
    start = account.since
    if hist and (start is None or hist[0].at < start):
        start = hist[0].at
    if start is None or end is None:
        return 0.0
    stop = end
    if hist and kind_of(hist[-1].dest) is StageKind.LOST:
        stop = min(hist[-1].at, end)
    return max((stop - start).total_seconds() / _DAY / _YEAR_DAYS, 0.0)


def _kaplan_meier(events: Sequence[tuple[float, bool]]) -> RecoveryCurve:
    ordered = sorted(events)
    at_risk = len(ordered)
    days = [0.0]
    share = [1.0]
    surv = 1.0
    i = 0
    while i < len(ordered):
        t = ordered[i][0]
        recovered = censored = 0
        while i < len(ordered) and ordered[i][0] == t:
            if ordered[i][1]:
                recovered += 1
            else:
                censored += 1
            i += 1
        if recovered:
            surv *= 1.0 - recovered / at_risk
            if t == 0.0:
                share[0] = surv
            else:
                days.append(t)
                share.append(surv)
        at_risk -= recovered + censored
    return RecoveryCurve(days, share, len(ordered))


def _signed_at(account: Account, kind_of: Any) -> datetime | None:
    if account.since is not None:
        return account.since
    for record in account.history:
        if kind_of(record.source) is StageKind.BEFORE and kind_of(record.dest) is not (
            StageKind.BEFORE
        ):
            return record.at
    return None


def _stages_at_offsets(
    account: Account, signed: datetime, horizon: int, end: datetime
) -> list[str]:
    hist = account.history
    out: list[str] = []
    stage = hist[0].source if hist else account.stage
    i, n = 0, len(hist)
    for k in range(horizon + 1):
        t = _add_months(signed, k)
        if t > end:
            break
        while i < n and hist[i].at <= t:
            stage = hist[i].dest
            i += 1
        out.append(stage)
    return out
