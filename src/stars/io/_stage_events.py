"""Stage-event CSV files (private): a trigger fired or a stage set, per row.

`read_stage_events_csv` reads them, `accounts_from_stage_events` replays them
through a lifecycle, `write_stage_events_csv` writes an account's history back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from typing import IO

import attrs

from stars import _csv
from stars import _validate as v
from stars._cells import SPECS
from stars._rows import EVENT_CSV, CsvImport, CsvReader, RejectedRow, stage_of
from stars.account import Account
from stars.errors import InvalidValue, SchemaError, StarsError, UnknownName
from stars.io._common import _MISSING, Path
from stars.io._csv_io import (
    _accounts_arg,
    _stage_why,
    _write_rows,
    _zone,
)
from stars.io._event import _check_account_id
from stars.io._json import guarded
from stars.lifecycle import (
    STARS,
    Event,
    Lifecycle,
)


def write_stage_events_csv(accounts: Iterable[Account], file: Path | IO[str]) -> int:
    r"""Write every account's history as the stage-events CSV `read_stage_events_csv` reads.

    One row per transition record, oldest first: the trigger, the stage it led to, when,
    who, why, and whether it was forced.

    Args:
        accounts: The accounts.
        file: A path (written as UTF-8) or a text stream.

    Returns:
        The number of rows written.

    Examples:
        >>> import io
        >>> from datetime import datetime, timezone
        >>> from stars import STARS, Event
        >>> from stars.io import write_stage_events_csv
        >>> t = datetime(2025, 1, 6, tzinfo=timezone.utc)
        >>> acme = STARS.replay("acme", [Event("sign", t, "dana", "imported", forced=True)])
        >>> out = io.StringIO()
        >>> write_stage_events_csv([acme], out)
        1
        >>> print(out.getvalue(), end="")
        account,at,trigger,stage,actor,reason,forced
        acme,2025-01-06T00:00:00+00:00,sign,seed,dana,imported,true
    """
    return _write_rows(
        file,
        EVENT_CSV.known,
        (
            [a.id, r.at, r.trigger, r.dest, r.actor, r.reason, r.forced]
            for a in _accounts_arg(accounts)
            for r in a.history
        ),
    )


# --------------------------------------------------------------------------- stage events
@attrs.frozen(slots=True)
class StageEvent:
    """One row of a stage-events file: a trigger fired, or a stage set, for an account.

    Attributes:
        account: The account's id.
        at: When it happened.
        trigger: The trigger (``None`` when the row gives only the stage).
        stage: The stage the account moved to (``None`` when the row gives only a trigger).
        actor: Who made it happen.
        reason: Why.
        line: The line of the file it came from (0 when not from a file).
        forced: The trigger overrode a guard (a reason is then required).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.io import StageEvent
        >>> StageEvent("acme", datetime(2025, 1, 6, tzinfo=timezone.utc), stage="seed").trigger
    """

    account: str = attrs.field(validator=_check_account_id)
    at: datetime = attrs.field(validator=v.field(v.aware))
    trigger: str | None = attrs.field(default=None, validator=v.field(v.optional_string))
    stage: str | None = attrs.field(default=None, validator=v.field(v.optional_string))
    actor: str | None = attrs.field(default=None, validator=v.field(v.optional_string))
    reason: str | None = attrs.field(default=None, validator=v.field(v.optional_string))
    line: int = attrs.field(default=0, validator=v.field(v.number, 0, integer=True))
    forced: bool = attrs.field(default=False, validator=v.field(v.flag))

    def __attrs_post_init__(self) -> None:
        if self.trigger is None and self.stage is None:
            raise InvalidValue("trigger", None, "a trigger or a stage (or both)")
        if self.forced and not (self.reason and self.reason.strip()):
            raise InvalidValue("reason", self.reason, "a reason whenever forced is true")


def read_stage_events_csv(
    file: Path | IO[str],
    *,
    lifecycle: Lifecycle | None = STARS,
    tz: str | tzinfo | None = None,
    rename: Mapping[str, str] | None = None,
    extra: str = "refuse",
    encoding: str | None = None,
    delimiter: str | None = None,
) -> CsvImport[StageEvent]:
    r"""Import stage events from CSV: which trigger fired, or which stage was set, and when.

    Columns: ``account`` (or ``account_id``) and ``at`` (required), ``trigger`` and
    ``stage`` (at least one of the two columns, and a value in at least one of them on
    each row), ``actor``, ``reason`` and ``forced`` (true when the trigger overrode a
    guard; a reason is then required). Stage names are read as `read_accounts_csv`
    reads them; a trigger must be one of the lifecycle's (a typo gets a "did you
    mean"). Turn the events into histories with `accounts_from_stage_events`.

    Args:
        file: A path or a text stream (read as `read_accounts_csv` reads it).
        lifecycle: Triggers and stages must be known to it (``None``: any name).
        tz: Read date-times without a UTC offset in this zone (``None``: reject them).
        rename: Header names to read as other columns.
        extra: ``"refuse"`` an unknown column, or ``"keep"`` it aside.
        encoding: The file's encoding (default UTF-8).
        delimiter: The delimiter, instead of finding it.

    Returns:
        A `CsvImport` of `StageEvent` values, in file order, and the rejected rows.

    Raises:
        SchemaError: As for `read_accounts_csv`, or the header has neither ``trigger``
            nor ``stage``.
        InvalidValue: ``tz``, ``encoding``, ``delimiter`` or ``extra`` is not usable.

    Examples:
        >>> import io
        >>> from stars.io import read_stage_events_csv
        >>> text = ("account,at,trigger,stage,actor\n"
        ...         "acme,2025-01-06,sign,,dana\n"
        ...         "acme,2025-03-03,,Accelerated growth,dana\n"
        ...         "acme,2025-04-01,acelerate,,dana\n")
        >>> events, rejected = read_stage_events_csv(io.StringIO(text), tz="UTC")
        >>> [(e.trigger, e.stage) for e in events]
        [('sign', None), (None, 'accelerate')]
        >>> rejected[0].why
        "a trigger of lifecycle 'STARS' (did you mean 'accelerate'?)"
    """
    zone = _zone(tz)
    spec = SPECS[str]
    specs = {
        c: (SPECS[datetime] if c == "at" else SPECS[bool] if c == "forced" else spec)
        for c in EVENT_CSV.known
    }
    out: list[StageEvent] = []
    triggers = sorted(lifecycle.triggers) if lifecycle is not None else []
    with (
        _csv.open_table(
            file,
            EVENT_CSV,
            required=("account", "at"),
            rename=rename,
            extra=extra,
            encoding=encoding,
            delimiter=delimiter,
        ) as table,
        guarded(),
    ):
        if "trigger" not in table.columns and "stage" not in table.columns:
            raise SchemaError(
                "header column 'trigger'", _MISSING, "a trigger or a stage column (or both)"
            )
        reader = CsvReader(table, specs, zone)
        rejected = reader.rejected
        for line, cells, values in reader:
            account = values.get("account", "").strip()
            if not account:
                rejected.append(RejectedRow(line, "account", cells["account"], "an account id"))
                continue
            if "at" not in values:
                rejected.append(RejectedRow(line, "at", cells["at"], "a date-time"))
                continue
            trigger = values.get("trigger", "").strip() or None
            stage_text = values.get("stage", "").strip() or None
            if trigger is None and stage_text is None:
                rejected.append(RejectedRow(line, "", "", "a trigger or a stage"))
                continue
            if trigger is not None and lifecycle is not None and trigger not in triggers:
                err = UnknownName("trigger", trigger, triggers)
                hint = (
                    f"did you mean {err.suggestion!r}?"
                    if err.suggestion is not None
                    else ", ".join(triggers)
                )
                rejected.append(
                    RejectedRow(
                        line,
                        "trigger",
                        cells["trigger"],
                        f"a trigger of lifecycle {lifecycle.name!r} ({hint})",
                    )
                )
                continue
            stage = None
            if stage_text is not None:
                try:
                    stage = stage_of(stage_text, lifecycle)
                except StarsError as err2:
                    rejected.append(
                        RejectedRow(line, "stage", cells["stage"], _stage_why(err2, lifecycle))
                    )
                    continue
            actor = values.get("actor", "").strip() or None
            reason = values.get("reason", "").strip() or None
            forced = bool(values.get("forced", False))
            if forced and reason is None:
                rejected.append(
                    RejectedRow(line, "reason", cells.get("reason", ""), "a reason when forced")
                )
                continue
            out.append(
                StageEvent(account, values["at"], trigger, stage, actor, reason, line, forced)
            )
        return reader.result(out, [e.line for e in out])


def _edges(lifecycle: Lifecycle) -> dict[str, list[tuple[str, str]]]:
    """For each stage, its ``(trigger, dest)`` pairs, in definition order."""
    out: dict[str, list[tuple[str, str]]] = {}
    for t in lifecycle.transitions:
        for source in t.sources:
            out.setdefault(source, []).append((t.trigger, t.dest))
    return out


def _path(
    edges: Mapping[str, list[tuple[str, str]]], start: str, goal: str
) -> list[tuple[str, str]]:
    """The shortest ``(trigger, dest)`` walk from ``start`` to ``goal`` (empty: none)."""
    came: dict[str, tuple[str, str, str]] = {}
    frontier = [start]
    seen = {start}
    while frontier:
        nxt = []
        for stage in frontier:
            for trigger, dest in edges.get(stage, ()):
                if dest in seen:
                    continue
                seen.add(dest)
                came[dest] = (stage, trigger, dest)
                if dest == goal:
                    walk = []
                    at = goal
                    while at != start:
                        src, trig, dst = came[at]
                        walk.append((trig, dst))
                        at = src
                    return walk[::-1]
                nxt.append(dest)
        frontier = nxt
    return []


def accounts_from_stage_events(
    events: Iterable[StageEvent],
    accounts: Iterable[Account] | None = None,
    *,
    lifecycle: Lifecycle = STARS,
    source: str = "the events file",
) -> tuple[list[Account], list[RejectedRow]]:
    """Build accounts whose histories are the stage events, with `Lifecycle.replay`.

    Each account's events are taken in time order (rows at the same time keep their file
    order). A row with a trigger replays that trigger (with its ``stage`` as the
    destination, when given). A row with only a stage is a stage set by hand: it is
    replayed as the trigger that leads there from the stage reached, forced, with the
    row's reason (or one naming the file and line); when no single transition leads
    there, the shortest walk through the graph is replayed, each step forced and saying
    so. A row that sets the stage the account is already in changes nothing. Guards are
    not evaluated (history is fact), but the graph is: a trigger that is not allowed
    from the stage reached is rejected, and the account goes on from where it was.

    Args:
        events: The events (from `read_stage_events_csv`, say).
        accounts: The accounts the events belong to (their name, owner, tags, since and
            snapshots are kept; an event for another account is rejected). ``None``: one
            new account per id in the events.
        lifecycle: The lifecycle to replay in.
        source: How the rejected rows and forced records name the file.

    Returns:
        The accounts (those given, in their order, with their histories; then, without
        ``accounts``, one per id in order of first appearance), and the rejected rows.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.io import StageEvent, accounts_from_stage_events
        >>> t = lambda day: datetime(2025, 1, day, tzinfo=timezone.utc)
        >>> events = [StageEvent("acme", t(2), stage="seed", line=2),
        ...           StageEvent("acme", t(9), stage="tact", line=3),
        ...           StageEvent("acme", t(5), trigger="accelerate", line=4)]
        >>> [acme], rejected = accounts_from_stage_events(events)
        >>> [(r.trigger, r.dest, r.forced) for r in acme.history]
        [('sign', 'seed', True), ('accelerate', 'accelerate', False), ('escalate', 'tact', True)]
        >>> acme.history[0].reason
        'stage set to seed in the events file line 2'
    """
    if not isinstance(lifecycle, Lifecycle):
        raise InvalidValue("lifecycle", lifecycle, "a Lifecycle")
    items = list(events)
    for i, e in enumerate(items):
        if not isinstance(e, StageEvent):
            raise InvalidValue(f"events[{i}]", e, "a StageEvent")
    base: dict[str, Account] = {}
    if accounts is not None:
        for a in accounts:
            if not isinstance(a, Account):
                raise InvalidValue("accounts", a, "Account values")
            base[a.id] = a
    rejected: list[RejectedRow] = []
    by_account: dict[str, list[StageEvent]] = {}
    for e in items:
        if accounts is not None and e.account not in base:
            rejected.append(
                RejectedRow(e.line, "account", e.account, "an account of the accounts file")
            )
            continue
        by_account.setdefault(e.account, []).append(e)
    edges = _edges(lifecycle)
    built: dict[str, Account] = {}
    for ident, rows in by_account.items():
        rows.sort(key=lambda e: e.at)
        stage = lifecycle.initial
        replayed: list[Event] = []
        for e in rows:
            where = f"{source} line {e.line}" if e.line else source
            steps: list[tuple[str, str]]
            if e.trigger is not None:
                pairs = [(t, d) for t, d in edges.get(stage, ()) if t == e.trigger]
                if e.stage is not None:
                    pairs = [(t, d) for t, d in pairs if d == e.stage]
                if not pairs:
                    allowed = sorted({t for t, _ in edges.get(stage, ())})
                    goal = f" to {e.stage}" if e.stage is not None else ""
                    rejected.append(
                        RejectedRow(
                            e.line,
                            "trigger",
                            e.trigger,
                            f"a trigger allowed from {stage}{goal} "
                            f"({', '.join(allowed) or 'none'})",
                        )
                    )
                    continue
                replayed.append(Event(e.trigger, e.at, e.actor, e.reason, e.forced, pairs[0][1]))
                stage = pairs[0][1]
                continue
            assert e.stage is not None
            if e.stage == stage:
                continue
            steps = _path(edges, stage, e.stage)
            if not steps:
                rejected.append(
                    RejectedRow(e.line, "stage", e.stage, f"a stage reachable from {stage}")
                )
                continue
            for i, (trigger, dest) in enumerate(steps, start=1):
                why = e.reason or f"stage set to {e.stage} in {where}"
                if len(steps) > 1:
                    why += (
                        f" (step {i} of {len(steps)}: no single transition leads from"
                        f" {stage if i == 1 else steps[i - 2][1]} to {e.stage})"
                    )
                replayed.append(Event(trigger, e.at, e.actor, why, True, dest))
            stage = e.stage
        old = base.get(ident)
        built[ident] = lifecycle.replay(
            ident,
            replayed,
            name=old.name if old else "",
            owner=old.owner if old else None,
            tags=old.tags if old else (),
            since=old.since if old else None,
            snapshots=old.snapshots if old else (),
        )
    if accounts is None:
        return list(built.values()), rejected
    return [built.get(a.id, a) for a in base.values()], rejected
