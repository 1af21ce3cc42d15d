"""Snapshots and transition records as JSON Lines event streams (private)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import IO, Any

from stars._shown import Shown as _Shown
from stars.account import Account, Snapshot, TransitionRecord
from stars.errors import InvalidValue, SchemaError
from stars.io._codec import LoadContext, _from_doc, dumps
from stars.io._common import MAX_DEPTH, Path
from stars.io._event import AccountEvent
from stars.io._json import _check_depth, _parse_json, guarded
from stars.lifecycle import (
    GUARDS,
    STARS,
    Lifecycle,
)


# =========================================================================== JSON Lines
def events_of(account: Account) -> tuple[AccountEvent, ...]:
    """An account's snapshots and records as events, in time order (snapshots first at ties).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import STARS, Account, Snapshot
        >>> from stars.io import events_of
        >>> a = Account("acme")
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> _ = STARS.observe(a, Snapshot(at=t, contract_signed=True))
        >>> _ = STARS.fire(a, "sign", at=t)
        >>> [type(e.event).__name__ for e in events_of(a)]
        ['Snapshot', 'TransitionRecord']
    """
    items: list[tuple[datetime, int, int, Snapshot | TransitionRecord]] = [
        (s.at, 0, i, s) for i, s in enumerate(account.snapshots)
    ]
    items += [(r.at, 1, i, r) for i, r in enumerate(account.history)]
    items.sort(key=lambda item: (item[0], item[1], item[2]))
    return tuple(AccountEvent(account.id, item[3]) for item in items)


def _as_events(
    source: Account | Iterable[AccountEvent | Snapshot | TransitionRecord], account_id: str | None
) -> list[AccountEvent]:
    if isinstance(source, Account):
        return list(events_of(source))
    out = []
    for i, item in enumerate(source):
        if isinstance(item, AccountEvent):
            out.append(item)
        elif isinstance(item, Snapshot | TransitionRecord):
            if account_id is None:
                raise InvalidValue("account_id", None, "an account id for bare snapshots/records")
            out.append(AccountEvent(account_id, item))
        else:
            raise InvalidValue(f"events[{i}]", item, "a Snapshot, TransitionRecord or AccountEvent")
    return out


def write_events(
    source: Account | Iterable[AccountEvent | Snapshot | TransitionRecord],
    file: Path | IO[str],
    *,
    account_id: str | None = None,
) -> int:
    """Append events as JSON Lines: one snapshot or transition record per line.

    A path is opened in append mode, so writing again adds to the stream. Every line
    is a whole `AccountEvent` document.

    Args:
        source: An account (all its snapshots and records, in time order), or events,
            or bare snapshots and records (then give ``account_id``).
        file: A path, or a text stream to write to.
        account_id: The account of bare snapshots and records.

    Returns:
        The number of lines written.

    Examples:
        >>> import io
        >>> from datetime import datetime, timezone
        >>> from stars import Snapshot
        >>> from stars.io import write_events
        >>> out = io.StringIO()
        >>> write_events([Snapshot(at=datetime(2025, 1, 1, tzinfo=timezone.utc))], out,
        ...              account_id="acme")
        1
        >>> out.getvalue()[:59]
        '{"schema":"stars/1","type":"AccountEvent","account":"acme",'
    """
    lines = [dumps(event) + "\n" for event in _as_events(source, account_id)]
    if isinstance(file, str | os.PathLike):
        with open(file, "a", encoding="utf-8") as handle:
            handle.writelines(lines)
    else:
        file.writelines(lines)
    return len(lines)


class _LineTooLong(Exception):
    """A line longer than the limit (read no further than the limit)."""


def _lines(file: Path | IO[str] | Iterable[str], limit: int) -> Iterator[str | bytes]:
    """The lines of ``file``, each read no further than ``limit`` (bytes, or characters).

    A line over the limit raises `_LineTooLong` after reading ``limit + 1`` of it, never
    the whole line: a file of one 400 MB line costs no more memory than the limit.
    """
    if isinstance(file, str | os.PathLike):
        with open(file, "rb") as raw:
            yield from _bounded(raw.readline, limit)
    elif hasattr(file, "readline"):
        yield from _bounded(file.readline, limit)
    else:
        for line in file:
            if len(line) > limit:
                raise _LineTooLong
            yield line


def _bounded(readline: Callable[[int], Any], limit: int) -> Iterator[Any]:
    while True:
        line = readline(limit + 1)
        if not line:
            return
        ending = b"\n" if isinstance(line, bytes) else "\n"
        body = line[:-1] if line.endswith(ending) else line
        if len(body) > limit:
            raise _LineTooLong
        yield line


def read_events(
    file: Path | IO[str] | Iterable[str],
    *,
    lifecycle: Lifecycle | None = STARS,
    max_line_bytes: int = 1024 * 1024,
) -> tuple[AccountEvent, ...]:
    """Read a JSON Lines event stream written by `write_events`.

    Blank lines are skipped. Within each account, records must chain (each starting
    where the previous one ended) and records and snapshots must each be in time
    order; with a lifecycle, every record must be one of its transitions. The whole
    stream is returned, or nothing: the first bad line raises. A line whose event
    ``id`` an earlier line already had is a redelivery: it is skipped, not checked again.

    A line over ``max_line_bytes`` is refused after reading just past the limit, never
    read whole.

    Args:
        file: A path, a text stream, or an iterable of lines.
        lifecycle: Check records against it (``None``: no check).
        max_line_bytes: Size limit of one line (for a text stream, in characters).

    Returns:
        The events, in file order.

    Raises:
        SchemaError: A bad line; the path starts with its line number (``line 3: $.event.at``).

    Examples:
        >>> from stars.io import read_events
        >>> lines = ['{"schema":"stars/1","type":"AccountEvent","account":"acme",'
        ...          '"event":{"type":"Snapshot","at":"2025-01-01T00:00:00+00:00"}}']
        >>> [e.account for e in read_events(lines)]
        ['acme']
    """
    ctx = LoadContext(lifecycle, GUARDS)
    out: list[AccountEvent] = []
    last_record: dict[str, TransitionRecord] = {}
    last_snapshot: dict[str, Snapshot] = {}
    seen: set[str] = set()
    lineno = 0
    with guarded():
        lines = _lines(file, max_line_bytes)
        while True:
            lineno += 1
            try:
                line = next(lines)
            except StopIteration:
                break
            except _LineTooLong:
                raise SchemaError(
                    f"line {lineno}",
                    _Shown(f"a line longer than {max_line_bytes} bytes"),
                    f"at most {max_line_bytes} bytes (raise max_line_bytes for longer lines)",
                ) from None
            if not line.strip():
                continue
            try:
                doc = _parse_json(line, max_line_bytes)
                _check_depth(doc, MAX_DEPTH)
                event = _from_doc(doc, AccountEvent, ctx)
            except SchemaError as err:
                raise SchemaError(f"line {lineno}: {err.path}", err.value, err.expected) from err
            if event.id is not None:
                if event.id in seen:
                    continue  # delivered again: the same event, counted once
                seen.add(event.id)
            item = event.event
            where = f"line {lineno}: $.event"
            if isinstance(item, TransitionRecord):
                prev = last_record.get(event.account)
                if prev is not None and item.source != prev.dest:
                    raise SchemaError(
                        f"{where}.source", item.source, f"{prev.dest!r}, where the account was"
                    )
                if prev is not None and item.at < prev.at:
                    raise SchemaError(
                        f"{where}.at", item.at.isoformat(), f"not before {prev.at.isoformat()}"
                    )
                last_record[event.account] = item
            else:
                prev_snap = last_snapshot.get(event.account)
                if prev_snap is not None and item.at < prev_snap.at:
                    raise SchemaError(
                        f"{where}.at", item.at.isoformat(), f"not before {prev_snap.at.isoformat()}"
                    )
                last_snapshot[event.account] = item
            out.append(event)
    return tuple(out)


def accounts_from_events(
    events: Iterable[AccountEvent], *, lifecycle: Lifecycle = STARS
) -> dict[str, Account]:
    """Rebuild accounts from an event stream with `Lifecycle.replay` (no hooks run).

    Each account starts in the lifecycle's initial stage; its version counts its
    snapshots and records.

    Args:
        events: Events, e.g. from `read_events`.
        lifecycle: The lifecycle to replay with.

    Returns:
        The accounts by id, in order of first appearance.

    Raises:
        TransitionNotAllowed: A record is not a transition of the lifecycle from where
            the account stands.
        OutOfOrder: Records or snapshots of an account are out of time order.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import STARS, Account
        >>> from stars.io import accounts_from_events, events_of
        >>> a = Account("acme")
        >>> _ = STARS.fire(a, "sign", at=datetime(2025, 1, 1, tzinfo=timezone.utc),
        ...                force=True, reason="import")
        >>> accounts_from_events(events_of(a))["acme"] == a
        True
    """
    records: dict[str, list[TransitionRecord]] = {}
    snaps: dict[str, list[Snapshot]] = {}
    for i, event in enumerate(events):
        if not isinstance(event, AccountEvent):
            raise InvalidValue(f"events[{i}]", event, "an AccountEvent")
        records.setdefault(event.account, [])
        snaps.setdefault(event.account, [])
        if isinstance(event.event, TransitionRecord):
            records[event.account].append(event.event)
        else:
            snaps[event.account].append(event.event)
    return {
        account_id: lifecycle.replay(account_id, history, snapshots=snaps[account_id])
        for account_id, history in records.items()
    }
