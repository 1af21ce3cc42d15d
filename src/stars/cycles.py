"""Crisis episodes: when an account fell out of its growth stages, and how it ended.

An episode opens when an account leaves a growth stage (SEED, ACCELERATE, ASCEND in
the default lifecycle) for a crisis stage (RESET, TACT). It closes *recovered* when
the account returns to a growth stage, or *lost* when it reaches a lost stage (CHURN).
Otherwise it is still *ongoing*.

Examples:
    >>> from datetime import datetime, timezone
    >>> from stars import STARS, Account, episodes
    >>> def day(n):
    ...     return datetime(2025, 1, 1, tzinfo=timezone.utc).replace(day=n)
    >>> acme = Account("acme")
    >>> for n, trigger in enumerate(["sign", "escalate", "stabilize"], start=1):
    ...     _ = STARS.fire(acme, trigger, at=day(n), force=True, reason="imported")
    >>> [e.outcome.value for e in episodes(acme)]
    ['ongoing']
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Protocol, runtime_checkable

from stars._accounts import _need_account
from stars._episodes import CycleEpisode, EpisodeOutcome, derive_episodes
from stars.account import Account
from stars.errors import InvalidValue
from stars.stages import Stage, StageKind

__all__ = ["CycleEpisode", "EpisodeOutcome", "episodes"]


@runtime_checkable
class _HasKinds(Protocol):
    def kind_of(self, stage: str) -> StageKind: ...


def _stars_kind(stage: str) -> StageKind:
    try:
        return Stage(stage).kind
    except ValueError:
        return StageKind.BEFORE


def episodes(
    account: Account,
    kind_of: Callable[[str], StageKind] | _HasKinds | None = None,
    *,
    relapse_window: timedelta = timedelta(days=90),
) -> tuple[CycleEpisode, ...]:
    """Derive the crisis episodes of an account from its history.

    Args:
        account: The account whose history to read.
        kind_of: The lifecycle whose stage kinds to use (or a function from stage name to
            kind); defaults to the STARS stages' kinds. Pass the lifecycle for a custom one.
        relapse_window: An episode that opens within this time after the previous episode
            recovered is marked as a relapse.

    Returns:
        The episodes, oldest first.

    Examples:
        >>> from datetime import datetime, timedelta, timezone
        >>> from stars import STARS, Account, episodes
        >>> t0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> a = Account("a")
        >>> path = ["sign", "escalate", "restart", "escalate", "lose"]
        >>> for i, trig in enumerate(path):
        ...     _ = STARS.fire(a, trig, at=t0 + timedelta(days=30 * i), force=True, reason="x")
        >>> [(e.outcome.value, e.relapse) for e in episodes(a)]
        [('recovered', False), ('lost', True)]
    """
    _need_account(account)
    if not isinstance(relapse_window, timedelta) or relapse_window < timedelta(0):
        raise InvalidValue("relapse_window", relapse_window, "a timedelta of zero or more")
    if kind_of is None:
        kinds: Callable[[str], StageKind] = _stars_kind
    elif isinstance(kind_of, _HasKinds):
        kinds = kind_of.kind_of
    elif callable(kind_of):
        kinds = kind_of
    else:
        raise InvalidValue("kind_of", kind_of, "a Lifecycle or a function from stage to kind")
    return derive_episodes(account.id, account.history, kinds, relapse_window)
