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

import enum
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

import attrs

from stars._accounts import _need_account
from stars.account import Account, TransitionRecord
from stars.errors import InvalidValue
from stars.stages import Stage, StageKind

__all__ = ["CycleEpisode", "EpisodeOutcome", "episodes"]


class EpisodeOutcome(enum.StrEnum):
    """How a crisis episode ended.

    Examples:
        >>> from stars import EpisodeOutcome
        >>> EpisodeOutcome.RECOVERED.value
        'recovered'
    """

    RECOVERED = "recovered"
    LOST = "lost"
    ONGOING = "ongoing"


@attrs.frozen(slots=True)
class CycleEpisode:
    """One crisis episode of one account.

    Attributes:
        account_id: The account.
        opened_at: When the account left its growth stage.
        closed_at: When it recovered or was lost (``None`` while ongoing).
        outcome: Recovered, lost or ongoing.
        left: The growth stage it left.
        stages: The crisis stages it passed through, in order.
        returned_to: The growth stage it came back to (recovered only).
        relapse: Whether it opened within the relapse window after a previous recovery.
        records: The transitions of the episode, from the opening one to the closing one.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import CycleEpisode, EpisodeOutcome
        >>> e = CycleEpisode("acme", datetime(2025, 1, 1, tzinfo=timezone.utc),
        ...                  datetime(2025, 3, 2, tzinfo=timezone.utc), EpisodeOutcome.RECOVERED,
        ...                  "ascend", ("reset",), "ascend")
        >>> e.duration.days
        60
    """

    account_id: str
    opened_at: datetime
    closed_at: datetime | None
    outcome: EpisodeOutcome = attrs.field(converter=EpisodeOutcome)
    left: str
    stages: tuple[str, ...]
    returned_to: str | None = None
    relapse: bool = False
    records: tuple[TransitionRecord, ...] = ()

    @property
    def duration(self) -> timedelta | None:
        """Time from opening to closing, or ``None`` while ongoing.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import CycleEpisode
            >>> at = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> print(CycleEpisode("a", at, None, "ongoing", "seed", ("tact",)).duration)
            None
        """
        return None if self.closed_at is None else self.closed_at - self.opened_at

    def duration_until(self, as_of: datetime) -> timedelta:
        """Time from opening to closing, or to ``as_of`` while the episode is ongoing.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import CycleEpisode
            >>> at = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> e = CycleEpisode("a", at, None, "ongoing", "seed", ("tact",))
            >>> e.duration_until(datetime(2025, 1, 11, tzinfo=timezone.utc)).days
            10
        """
        end = self.closed_at if self.closed_at is not None else as_of
        return end - self.opened_at


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
    return _episodes(account.id, account.history, kinds, relapse_window)


def _episodes(
    account_id: str,
    history: Sequence[TransitionRecord],
    kind_of: Callable[[str], StageKind],
    relapse_window: timedelta,
) -> tuple[CycleEpisode, ...]:
    out: list[CycleEpisode] = []
    opened: TransitionRecord | None = None
    records: list[TransitionRecord] = []
    stages: list[str] = []
    last_recovery: datetime | None = None

    def close(outcome: EpisodeOutcome, at: datetime | None, returned: str | None) -> None:
        assert opened is not None
        relapse = last_recovery is not None and opened.at - last_recovery <= relapse_window
        out.append(
            CycleEpisode(
                account_id,
                opened.at,
                at,
                outcome,
                opened.source,
                tuple(stages),
                returned,
                relapse,
                tuple(records),
            )
        )

    for record in history:
        source_kind, dest_kind = kind_of(record.source), kind_of(record.dest)
        if opened is None:
            if source_kind is StageKind.GROWTH and dest_kind is StageKind.CRISIS:
                opened, records, stages = record, [record], [record.dest]
            continue
        records.append(record)
        if dest_kind is StageKind.CRISIS:
            stages.append(record.dest)
        elif dest_kind is StageKind.GROWTH:
            close(EpisodeOutcome.RECOVERED, record.at, record.dest)
            last_recovery, opened = record.at, None
        elif dest_kind is StageKind.LOST:
            close(EpisodeOutcome.LOST, record.at, None)
            opened = None
        else:  # a crisis stage that leads straight to a pre-customer stage: treat as lost
            close(EpisodeOutcome.LOST, record.at, None)
            opened = None
    if opened is not None:
        close(EpisodeOutcome.ONGOING, None, None)
    return tuple(out)
