"""Event rows from a frame that become an account's history records on first read.

`stars.frames` builds a portfolio from an events table by walking every row through
the lifecycle's graph at once, but leaves turning rows into `TransitionRecord` objects
until an account's history is read: for a large table that is most of the work, and
many analyses never need it. This module is imported by `stars.frames` only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import attrs

from stars._accounts import (
    TransitionRecord,
    _new,
    _r_actor,
    _r_at,
    _r_cycle,
    _r_dest,
    _r_forced,
    _r_reason,
    _r_source,
    _r_trigger,
)
from stars.stages import Cycle

__all__ = ["EPOCH", "EventColumns", "PendingHistory", "Step", "utc_from_micros"]


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_from_micros(micros: int) -> datetime:
    """Microseconds since the epoch as an aware datetime in UTC."""
    return EPOCH + timedelta(microseconds=micros)


class Step(Protocol):
    """What a replayed row needs from the transition it took (a lifecycle's TransitionDef)."""

    @property
    def dest(self) -> str: ...

    @property
    def cycle(self) -> Cycle: ...


@attrs.define(slots=True, eq=False)
class EventColumns:
    """Event rows of one frame, sorted by account and time, shared by the accounts built from it.

    The columns were checked when the frame was read and ``steps`` holds the transition each
    row took, so turning a row into a record needs no further check. Times are kept as
    microseconds since the epoch (UTC) until a record is built; ``times`` optionally maps
    each distinct value to one shared datetime.
    """

    triggers: Sequence[str]
    micros: Sequence[int]
    actors: Sequence[str | None]
    reasons: Sequence[str | None]
    forced: Sequence[bool]
    steps: Sequence[Step]
    times: Mapping[int, datetime] | None = None

    def at(self, row: int) -> datetime:
        """The time of one row as an aware datetime in UTC."""
        m = self.micros[row]
        if self.times is not None:
            return self.times[m]
        return utc_from_micros(m)


class PendingHistory:
    """An account's history still held as rows of an `EventColumns` (built on first read).

    `Portfolio.from_frames` replays every row against the graph up front (so a bad event
    fails the whole build), but leaves turning rows into `TransitionRecord` objects to the
    first read of ``Account.history``. Pickling or copying gives the built tuple.
    """

    __slots__ = ("_built", "_columns", "_hi", "_lo", "_start")

    def __init__(self, columns: EventColumns, lo: int, hi: int, start: str) -> None:
        self._columns: EventColumns | None = columns
        self._lo = lo
        self._hi = hi
        self._start = start
        self._built: tuple[TransitionRecord, ...] | None = None

    def build(self) -> tuple[TransitionRecord, ...]:
        """The records, built once."""
        built = self._built
        if built is None:
            c = self._columns
            assert c is not None
            triggers, micros, times = c.triggers, c.micros, c.times
            actors, reasons, forced, steps = c.actors, c.reasons, c.forced, c.steps
            stage = self._start
            out: list[TransitionRecord] = []
            append = out.append
            # _record_unchecked and utc_from_micros, inlined: this loop runs once per event
            # of a large table
            for j in range(self._lo, self._hi):
                step = steps[j]
                dest = step.dest
                m = micros[j]
                record = _new(TransitionRecord)
                _r_trigger(record, triggers[j])
                _r_source(record, stage)
                _r_dest(record, dest)
                _r_cycle(record, step.cycle)
                _r_at(record, times[m] if times is not None else EPOCH + timedelta(microseconds=m))
                _r_actor(record, actors[j])
                _r_reason(record, reasons[j])
                _r_forced(record, forced[j])
                append(record)
                stage = dest
            built = self._built = tuple(out)
            self._columns = None  # the shared rows are no longer needed by this account
        return built

    def last_at(self) -> datetime:
        """The time of the last row, without building the records."""
        c = self._columns
        if c is None:
            assert self._built is not None
            return self._built[-1].at
        return c.at(self._hi - 1)

    def __len__(self) -> int:
        return self._hi - self._lo

    def __iter__(self) -> Iterator[TransitionRecord]:
        return iter(self.build())

    def __reduce__(self) -> tuple[Any, ...]:
        return (tuple, (self.build(),))
