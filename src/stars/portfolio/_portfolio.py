"""The `Portfolio` class: accounts keyed by id, and the questions asked of them.

Each question is answered in the module of its concept (`_standing`, `_movements`,
`_episode_stats`, `_cohorts`, `_frames`); the class holds the accounts, checks them, and
documents the questions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from stars._episodes import CycleEpisode
from stars._periods import Freq
from stars.account import Account
from stars.errors import InvalidValue, UnknownName
from stars.lifecycle import STARS, Lifecycle
from stars.portfolio import _cohorts, _episode_stats, _frames, _movements, _standing
from stars.portfolio._cohorts import Cohort
from stars.portfolio._common import stage_names
from stars.portfolio._episode_stats import EpisodeStats, RecoveryCurve
from stars.portfolio._movements import ForecastBacktest, TransitionMatrix
from stars.portfolio._standing import RiskEntry, StageDistribution


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

    def stage_distribution(self) -> StageDistribution:
        """Accounts per current stage, as counts and shares.

        Examples:
            >>> from stars.account import Account
            >>> from stars.portfolio import Portfolio
            >>> d = Portfolio([Account("a"), Account("b", stage="churn")]).stage_distribution()
            >>> d.counts["prospect"], d.shares["churn"], d.total
            (1, 0.5, 2)
        """
        return StageDistribution._of(
            stage_names(self._lifecycle), (a.stage for a in self._accounts.values())
        )

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
        return _standing.distribution_at(self._accounts.values(), self._lifecycle, at)

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
        return _standing.by_band(self._accounts.values(), self._lifecycle)

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
        return _standing.at_risk(self._accounts.values(), self._lifecycle)

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
        return _standing.time_in_stage(self._accounts.values(), as_of)

    # -- movements ----------------------------------------------------------------------

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
        return _movements.transition_matrix(
            self._accounts.values(), self._lifecycle, freq, start, end
        )

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
        return _movements.backtest_forecast(
            self._accounts.values(), self._lifecycle, as_of, months, freq, start
        )

    # -- episodes -----------------------------------------------------------------------

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
        return _episode_stats.episodes(self._accounts.values(), self._lifecycle, relapse_window)

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
        return _episode_stats.episode_stats(
            self._accounts.values(), self._lifecycle, by, relapse_window, as_of
        )

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
        return _episode_stats.recovery_curve(self._accounts.values(), self._lifecycle, as_of)

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
        return _cohorts.cohorts(self._accounts.values(), self._lifecycle, months, as_of)

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
        return _frames.portfolio_frame(self.accounts(), self._lifecycle, kind, backend)

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
        return Portfolio(_frames.accounts_from_frames(accounts, events, lifecycle), lifecycle)

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
        return _frames.evidence_frame(self.accounts(), self._lifecycle, at, backend)

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
