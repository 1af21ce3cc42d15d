"""Lifecycle events derived from dated facts: stages from history, with hysteresis and dwell.

A CRM knows what happened to a customer month by month (health readings, contracts
starting and ending, agreements); it does not know the STARS stage. This module walks an
account's facts in time order and derives the transitions the evidence supports, so a
history (and its episodes, time in stage and transition matrices) can be built from facts
alone, without a ``stage`` column anywhere.

The rule (see the concepts page for the whole text):

- **Facts that announce a move** take it on the fact's date: a contract in force moves a
  prospect to SEED (``sign``) and wins a churned account back (``win_back`` then ``sign``);
  a contract that ends loses an active account (``lose``); an agreed re-onboarding restarts
  a TACT account (``restart``); a new business unit onboarding reseeds a growth account
  (``reseed``).
- **Evidence moves the account one step** toward the stage `stars.diagnose_stars`
  points to, by the one transition whose guards would pass, but only once the evidence has
  pointed to that same move for `DeriveRule.confirm` readings in a row (hysteresis) and the
  account has spent `DeriveRule.min_dwell_days` in its stage (dwell).

Every `DerivedEvent` carries the `stars.Event` to replay, the rule that produced it and
the evidence it read. `derive_events` runs one account at a time; `derive_frame` runs the
same rule over a DataFrame of facts (proven equal by a hypothesis property).

Examples:
    >>> from datetime import datetime, timezone
    >>> from stars.derive import Fact, derive_account
    >>> def month(m):
    ...     return datetime(2024, m, 1, tzinfo=timezone.utc)
    >>> facts = [Fact(month(1), health=80, contract="start", success_metrics_agreed=True)]
    >>> healths = [82, 84, 86, 55, 85, 88, 50, 52, 48, 75, 30]  # one noisy month: May
    >>> facts += [Fact(month(m), health=h) for m, h in zip(range(2, 13), healths)]
    >>> account = derive_account("acme", facts)
    >>> [(r.trigger, r.at.month) for r in account.history]
    [('sign', 1), ('accelerate', 3), ('stagnate', 9)]
"""

from __future__ import annotations

from stars.derive._frames import derive_frame, derive_portfolio
from stars.derive._scalar import (
    CONTRACT_KINDS,
    RULES,
    DerivedEvent,
    DeriveRule,
    Fact,
    derive_account,
    derive_events,
)

__all__ = [
    "CONTRACT_KINDS",
    "RULES",
    "DeriveRule",
    "DerivedEvent",
    "Fact",
    "derive_account",
    "derive_events",
    "derive_frame",
    "derive_portfolio",
]
