"""Hypothesis strategies for testing code that uses `stars` (needs the ``hypothesis`` package).

Example:
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
from typing import Any

from stars.account import Account, Snapshot
from stars.errors import MissingDependency
from stars.lifecycle import STARS, Event, Lifecycle

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - hypothesis is a dev dependency
    raise MissingDependency("hypothesis", "dev") from exc

__all__ = ["accounts", "aware_datetimes", "events", "snapshots"]

_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def aware_datetimes(start: datetime = _EPOCH, days: int = 3650) -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes (UTC or a fixed offset) within ``days`` after ``start``.

    Example:
        >>> from stars.testing import aware_datetimes
        >>> from hypothesis import find
        >>> find(aware_datetimes(), lambda d: True).tzinfo is not None
        True
    """
    offsets = st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9))])
    return st.builds(
        lambda seconds, tz: (start + timedelta(seconds=seconds)).astimezone(tz),
        st.integers(0, days * 86400),
        offsets,
    )


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def snapshots(at: st.SearchStrategy[datetime] | None = None) -> st.SearchStrategy[Snapshot]:
    """Valid snapshots with any mix of missing and present signals.

    Example:
        >>> from stars import Snapshot
        >>> from stars.testing import snapshots
        >>> from hypothesis import find
        >>> isinstance(find(snapshots(), lambda s: True), Snapshot)
        True
    """
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
        contract_signed=st.booleans(),
        success_metrics_agreed=st.booleans(),
        expansion_open=st.booleans(),
        champion_engaged=st.booleans(),
        reonboarding_agreed=st.booleans(),
        new_business_unit=st.booleans(),
        critical_risk=st.booleans(),
        metrics=st.dictionaries(
            st.text("abcdefghij_", min_size=1, max_size=8),
            _floats(-1e6, 1e6),
            max_size=3,
        ),
    )


def events(lifecycle: Lifecycle = STARS, *, max_size: int = 30) -> st.SearchStrategy[list[Event]]:
    """Lists of forced events with non-decreasing times (some may be illegal for the graph).

    Example:
        >>> from stars.testing import events
        >>> from hypothesis import find
        >>> all(e.forced for e in find(events(), lambda evs: len(evs) > 2))
        True
    """
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

    Example:
        >>> from stars import Account
        >>> from stars.testing import accounts
        >>> from hypothesis import find
        >>> find(accounts(), lambda a: len(a.history) > 1).history[0].trigger
        'sign'
    """

    def build(account_id: str, evs: list[Event], snaps: list[Snapshot]) -> Account:
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
        return lifecycle.replay(account_id, legal, owner="owner", snapshots=snaps)

    return st.builds(
        build,
        st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12),
        events(lifecycle, max_size=max_events),
        st.lists(snapshots(), max_size=4),
    )
