"""Rebuilding an account from its history or from events (`Lifecycle.replay`), without hooks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stars import _validate as v
from stars._accounts import _need_account, _record_unchecked
from stars._log import append
from stars.account import (
    Account,
    DepthPoint,
    OwnerChange,
    Snapshot,
    TransitionRecord,
)
from stars.errors import (
    InvalidValue,
    OutOfOrder,
    TransitionNotAllowed,
)
from stars.lifecycle._definition import TransitionDef
from stars.lifecycle._results import Event

if TYPE_CHECKING:
    from stars.lifecycle._lifecycle import Lifecycle


def _is_empty(items: Iterable[Any]) -> bool:
    return isinstance(items, Sequence) and not items


def _continued(
    start: Account,
    records: Sequence[TransitionRecord],
    snapshots: Iterable[Snapshot],
    owners: Iterable[OwnerChange],
    depths: Iterable[DepthPoint],
) -> Account:
    """A new account: ``start`` with checked ``records`` and the other changes appended.

    The start's sequences are shared, not copied (appending to a `Log` forks it when
    needed), so continuing a long account costs what is appended, not what it holds.
    """
    account: Account = object.__new__(Account)
    account.__setstate__(start.__getstate__())
    # The standing facts folded so far still hold: the snapshots before them are the same.
    object.__setattr__(account, "_carry", start._carry)
    if records:
        history: Sequence[TransitionRecord] = account._history
        for record in records:
            history = append(history, record)
        object.__setattr__(account, "_history", history)
        object.__setattr__(account, "_stage", records[-1].dest)
        object.__setattr__(account, "_version", account._version + len(records))
    for i, snap in enumerate(snapshots):
        if not isinstance(snap, Snapshot):
            raise InvalidValue(f"snapshots[{i}]", snap, "a Snapshot")
        account._append_snapshot(snap)
    for i, point in enumerate(depths):
        if not isinstance(point, DepthPoint):
            raise InvalidValue(f"depths[{i}]", point, "a DepthPoint")
        account._append_depth(point)
    for i, change in enumerate(owners):
        if not isinstance(change, OwnerChange):
            raise InvalidValue(f"owners[{i}]", change, "an OwnerChange")
        if change.previous != account.owner:
            raise InvalidValue(
                f"owners[{i}].previous",
                change.previous,
                f"{account.owner!r}, the owner the account had",
            )
        account._append_owner(change)
    return account


def _is_sequence_like(value: object) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, str | bytes)


def _walk(
    lc: Lifecycle,
    account_id: str,
    stage: str,
    last: datetime | None,
    items: Iterable[TransitionRecord | Event],
) -> list[TransitionRecord]:
    """Check ``items`` against the graph from ``stage`` and the time ``last``; the records."""
    table = lc._edges.by_pair
    history: list[TransitionRecord] = []
    for i, item in enumerate(items):
        if isinstance(item, TransitionRecord):
            if item.source != stage:
                raise InvalidValue(f"{_where(i)}.source", item.source, f"{stage!r}")
            group = table.get((stage, item.trigger))
            if group is None:
                raise TransitionNotAllowed(
                    account_id, stage, item.trigger, lc._allowed_triggers(stage)
                )
            for e in group:
                if e.dest == item.dest:
                    cycle = e.tag.cycle
                    if cycle is not item.cycle:
                        raise InvalidValue(f"{_where(i)}.cycle", item.cycle.value, cycle.value)
                    break
            else:
                raise TransitionNotAllowed(
                    account_id,
                    stage,
                    f"{item.trigger} -> {item.dest}",
                    [f"{item.trigger} -> {e.dest}" for e in group],
                )
            record = item
        elif isinstance(item, Event):
            record = record_from(
                lc,
                account_id,
                stage,
                i,
                item.trigger,
                item.at,
                item.actor,
                item.reason,
                item.forced,
                item.to,
            )
        else:
            raise InvalidValue(f"items[{i}]", item, "a TransitionRecord or an Event")
        if last is not None and record.at < last:
            raise OutOfOrder("transition", record.at.isoformat(), last.isoformat())
        last = record.at
        stage = record.dest
        history.append(record)
    return history


def _assemble(
    lc: Lifecycle,
    account_id: str,
    stage: str,
    history: list[TransitionRecord],
    name: str,
    owner: str | None,
    tags: Iterable[str],
    since: datetime | None,
    snapshots: Iterable[Snapshot],
    owners: Iterable[OwnerChange] = (),
) -> Account:
    account = Account(
        account_id,
        name=name,
        owner=owner,
        tags=tags,  # Account's converter checks and freezes it (a plain string is refused)
        since=since,
        stage=lc.initial,
        snapshots=tuple(snapshots),
        owners=tuple(owners),
    )
    _set = object.__setattr__
    _set(account, "_history", tuple(history))
    _set(account, "_stage", stage)
    _set(account, "_version", account.version + len(history))
    return account


def _where(i: int | str) -> str:
    return f"items[{i}]" if isinstance(i, int) else i


def record_from(
    lc: Lifecycle,
    account_id: str,
    stage: str,
    i: int | str,
    trigger: str | None,
    at: datetime | None,
    actor: str | None,
    reason: str | None,
    forced: bool,
    to: str | None,
) -> TransitionRecord:
    """Check one event against the graph and its fields, and build its record.

    ``i`` names the event in errors: an index into ``items``, or a field name as it is.
    """
    if type(trigger) is not str:
        raise InvalidValue(f"{_where(i)}.trigger", trigger, "a trigger name")
    group = lc._edges.get(stage, trigger)
    if group is None:
        raise TransitionNotAllowed(account_id, stage, trigger, lc._allowed_triggers(stage))
    edge = group[0] if to is None else next((e for e in group if e.dest == to), None)
    if edge is None:
        raise TransitionNotAllowed(
            account_id, stage, f"{trigger} -> {to}", [f"{trigger} -> {e.dest}" for e in group]
        )
    chosen: TransitionDef = edge.tag
    if type(at) is not datetime or at.tzinfo is None:
        at = v.aware(f"{_where(i)}.at", at)
    if actor is not None and type(actor) is not str:
        raise InvalidValue(f"{_where(i)}.actor", actor, "a string or None")
    if reason is not None and type(reason) is not str:
        raise InvalidValue(f"{_where(i)}.reason", reason, "a string or None")
    if forced is not True and forced is not False:
        raise InvalidValue(f"{_where(i)}.forced", forced, "True or False")
    if forced and not reason:
        raise InvalidValue(f"{_where(i)}.reason", reason, "a reason whenever forced=True")
    return _record_unchecked(trigger, stage, chosen.dest, chosen.cycle, at, actor, reason, forced)


def replay(
    lc: Lifecycle,
    account_id: str,
    items: Iterable[TransitionRecord | Event],
    *,
    name: str,
    owner: str | None,
    tags: Iterable[str],
    since: datetime | None,
    snapshots: Iterable[Snapshot],
    owners: Iterable[OwnerChange],
    depths: Iterable[DepthPoint],
    start: Account | None,
) -> Account:
    """`Lifecycle.replay`: check the arguments, walk the items, build the account."""
    given_lists: tuple[tuple[str, object], ...] = (
        ("items", items),
        ("snapshots", snapshots),
        ("owners", owners),
        ("depths", depths),
    )
    for field, given in given_lists:
        if not _is_sequence_like(given):
            raise InvalidValue(field, given, "an iterable of values (not a string)")
    if start is not None:
        _need_account(start)
        if start.id != account_id:
            raise InvalidValue("account_id", account_id, f"{start.id!r}, the start's id")
        header: tuple[tuple[str, object, object], ...] = (
            ("name", name, ""),
            ("owner", owner, None),
            ("since", since, None),
        )
        for field, value, default in header:
            if value != default:
                raise InvalidValue(field, value, "nothing with start= (the start's is kept)")
        if tuple(tags):
            raise InvalidValue("tags", tags, "nothing with start= (the start's are kept)")
        stage = start.stage
        last = start.stage_since if len(start._history) else None
        history = _walk(lc, account_id, stage, last, items)
        return _continued(start, history, snapshots, owners, depths)
    history = _walk(lc, account_id, lc.initial, None, items)
    stage = history[-1].dest if history else lc.initial
    account = _assemble(lc, account_id, stage, history, name, owner, tags, since, snapshots, owners)
    if not _is_empty(depths):
        account = _continued(account, [], (), (), depths)
    return account
