"""Crisis episodes across a portfolio: every episode, statistics per group, recovery curves."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from stars import _validate as v
from stars._episodes import CycleEpisode, EpisodeOutcome, derive_episodes
from stars.account import Account
from stars.errors import InvalidValue
from stars.lifecycle import Lifecycle
from stars.portfolio._common import DAY, YEAR_DAYS, latest_time, optional_time
from stars.stages import StageKind


def _float_tuple(value: Iterable[float]) -> tuple[float, ...]:
    return tuple(float(x) for x in value)


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


def _window(value: object) -> timedelta:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise InvalidValue("relapse_window", value, "a timedelta of zero or more")
    return value


def _quantile(ordered: Sequence[float], q: float) -> float | None:
    """Linear-interpolation quantile of sorted values (NumPy's default method)."""
    if not ordered:
        return None
    pos = (len(ordered) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def episodes(
    accounts: Collection[Account], lifecycle: Lifecycle, relapse_window: timedelta
) -> tuple[CycleEpisode, ...]:
    """Every account's crisis episodes (see `Portfolio.episodes`)."""
    window = _window(relapse_window)
    kind_of = lifecycle.kind_of
    out: list[CycleEpisode] = []
    for account in accounts:
        out.extend(derive_episodes(account.id, account.history, kind_of, window))
    return tuple(out)


def _group_of(by: str | None) -> Callable[[Account], str]:
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
    accounts: Collection[Account],
    lifecycle: Lifecycle,
    by: str | None,
    relapse_window: timedelta,
    as_of: datetime | None,
) -> tuple[EpisodeStats, ...]:
    """Episode statistics per group (see `Portfolio.episode_stats`)."""
    window = _window(relapse_window)
    group_of = _group_of(by)
    end = optional_time("as_of", as_of) or latest_time(accounts)
    kind_of = lifecycle.kind_of
    groups: dict[str, dict[str, Any]] = {}
    if by is None:  # one group, even for an empty portfolio
        groups["all"] = {"accounts": 0, "years": 0.0, "eps": [], "days": []}
    for account in accounts:
        g = groups.setdefault(
            group_of(account),
            {"accounts": 0, "years": 0.0, "eps": [], "days": []},
        )
        g["accounts"] += 1
        g["years"] += _exposure_years(account, kind_of, end)
        g["eps"].extend(derive_episodes(account.id, account.history, kind_of, window))
    out = []
    for name in sorted(groups):
        g = groups[name]
        eps = g["eps"]
        durations = sorted(
            e.duration.total_seconds() / DAY
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


def recovery_curve(
    accounts: Collection[Account], lifecycle: Lifecycle, as_of: datetime | None
) -> RecoveryCurve:
    """The Kaplan-Meier share of episodes still open (see `Portfolio.recovery_curve`)."""
    end = optional_time("as_of", as_of) or latest_time(accounts)
    events: list[tuple[float, bool]] = []
    for e in episodes(accounts, lifecycle, timedelta(days=90)):
        if e.outcome is EpisodeOutcome.RECOVERED:
            events.append((e.duration_until(e.opened_at).total_seconds() / DAY, True))
        else:
            stop = e.closed_at if e.closed_at is not None else end
            assert stop is not None
            events.append((max((stop - e.opened_at).total_seconds() / DAY, 0.0), False))
    return _kaplan_meier(events)


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
    return max((stop - start).total_seconds() / DAY / YEAR_DAYS, 0.0)


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
