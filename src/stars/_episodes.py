"""Crisis episodes: the value types and the walk that finds them in a history.

`stars.cycles` (one account, checked input) and `stars.portfolio` (every account of a
portfolio) both derive episodes here, so there is one definition of what opens, closes
and relapses an episode. The public names are re-exported by `stars.cycles`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import attrs

from stars.account import TransitionRecord
from stars.stages import StageKind

__all__ = ["CycleEpisode", "EpisodeOutcome", "derive_episodes"]


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


def derive_episodes(
    account_id: str,
    history: Sequence[TransitionRecord],
    kind_of: Callable[[str], StageKind],
    relapse_window: timedelta,
) -> tuple[CycleEpisode, ...]:
    """An account's crisis episodes from its history (no checks: callers check their input)."""
    if not history:  # most accounts of an imported book
        return ()
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
