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

from stars.portfolio._cohorts import Cohort
from stars.portfolio._episode_stats import EpisodeStats, RecoveryCurve
from stars.portfolio._movements import ForecastBacktest, TransitionMatrix
from stars.portfolio._portfolio import Portfolio
from stars.portfolio._standing import RiskEntry, StageDistribution

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
