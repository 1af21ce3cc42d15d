"""Reading a user's files for ``stars assess``, with nothing lost silently.

Private to the command. Every file is counted: rows read, rows used, rows rejected,
the rejections grouped by cause (one line per cause, with a count and the first
line numbers), and every rejected row is available for a rejects file. Rows that
are read but cannot be placed (a snapshot for an account the accounts file does not
have, an event the lifecycle's graph refuses) are rejected in the same way, so the
counts always add up: ``read == used + rejected``.
"""

from __future__ import annotations

import bisect
import contextlib
import csv
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Final, Protocol

import attrs

from stars._shown import kept_note
from stars.account import Account, Snapshot
from stars.errors import InvalidValue
from stars.io import (
    CsvImport,
    RejectedRow,
    accounts_from_stage_events,
    read_accounts_csv,
    read_stage_events_csv,
)
from stars.lifecycle import Lifecycle

#: How many line numbers a cause lists before "...".
FIRST_LINES: Final = 5

#: The default --max-rejects: one row in a hundred, per file.
DEFAULT_MAX_REJECTS: Final = "1%"


# --------------------------------------------------------------------------- limits
@attrs.frozen(slots=True)
class Limit:
    """How many rejected rows a file may have: a count, or a share of its rows."""

    text: str
    count: int | None = None
    share: float | None = None

    @classmethod
    def parse(cls, text: str) -> Limit:
        """``"10"`` (rows) or ``"2%"`` / ``"0.5%"`` (of the file's rows)."""
        word = text.strip()
        if re.fullmatch(r"\d+", word):
            return cls(word, count=int(word))
        found = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)\s*%", word)
        if found and float(found.group(1)) <= 100:
            return cls(word, share=float(found.group(1)) / 100)
        raise InvalidValue(
            "--max-rejects", text, "a number of rows (10) or a share of them (2%), at least 0"
        )

    def allowed(self, rows: int) -> int:
        """The most rejected rows allowed in a file of ``rows`` rows."""
        if self.count is not None:
            return self.count
        assert self.share is not None
        return math.floor(self.share * rows + 1e-9)


# --------------------------------------------------------------------------- one file
@attrs.define(slots=True)
class Cause:
    """Rows rejected for one reason: the column, what was expected, how many, where."""

    column: str
    why: str
    rows: int = 0
    lines: list[int] = attrs.field(factory=list)
    value: str = ""

    def text(self) -> str:
        """The cause in one line: ``at: expected ...: 120 rows (lines 2, 3, ...; e.g. '...')``."""
        shown = ", ".join(str(n) for n in self.lines)
        more = ", ..." if self.rows > len(self.lines) else ""
        what = f"{self.column}: expected {self.why}" if self.column else f"expected {self.why}"
        example = f"; e.g. {self.value!r}" if self.value else ""
        noun, where = ("row", "line") if self.rows == 1 else ("rows", "lines")
        return f"{what}: {self.rows:,} {noun} ({where} {shown}{more}{example})"


class Intake:
    """One input file: how it was read, and what became of each row."""

    def __init__(self, label: str, kind: str, *, detail: bool = True) -> None:
        self.label = label
        self.kind = kind
        self.detail = detail
        self.rows = 0
        self.extra: tuple[str, ...] = ()
        self.encoding: str | None = None
        self.delimiter = ","
        self.zoned = 0
        self.rejected: list[RejectedRow] = []
        self.rejected_rows = 0
        self._last = -1
        self.causes: dict[tuple[str, str], Cause] = {}
        self.notes: list[str] = []

    def took(self, read: CsvImport[Any]) -> None:
        """Take the counts and the rejected rows of a reader's result."""
        self.rows = read.rows
        self.extra = read.extra_columns
        self.encoding = read.encoding
        self.delimiter = read.delimiter
        self.zoned = read.zoned
        for r in read.rejected:
            self.reject(r)

    def reject(self, row: RejectedRow) -> None:
        """Count one rejected cell (a row with several counts once).

        A row's bad cells come one after another, and a row rejected once is not looked
        at again, so a new line number is a new rejected row.
        """
        if self.detail:
            self.rejected.append(row)
        if row.line != self._last:
            self.rejected_rows += 1
            self._last = row.line
        key = (row.column, row.why)
        cause = self.causes.get(key)
        if cause is None:
            cause = self.causes[key] = Cause(row.column, row.why, value=row.value)
        cause.rows += 1  # a row has each (column, expected) pair at most once
        if len(cause.lines) < FIRST_LINES:
            cause.lines.append(row.line)

    def add_cause(self, column: str, why: str, rows: int, lines: Sequence[int], value: str) -> None:
        """Count ``rows`` cells rejected for one cause at once (their rows are counted apart)."""
        key = (column, why)
        cause = self.causes.get(key)
        if cause is None:
            cause = self.causes[key] = Cause(column, why, value=value)
        cause.rows += rows
        cause.lines += list(lines[: FIRST_LINES - len(cause.lines)])

    @property
    def used(self) -> int:
        """Rows read and not rejected."""
        return self.rows - self.rejected_rows

    def summary(self, zone: str) -> str:
        """``accounts.csv: 120 rows read, 118 used, 2 rejected`` and what else was found."""
        parts = [
            f"{self.label}: {self.rows:,} {'row' if self.rows == 1 else 'rows'} read,"
            f" {self.used:,} used, {self.rejected_rows:,} rejected"
        ]
        if self.extra:
            parts.append(f"columns not used: {', '.join(self.extra)}")
        if self.zoned:
            parts.append(f"{self.zoned:,} times without a UTC offset read in {zone}")
        return "; ".join(parts)

    def cause_lines(self) -> list[str]:
        """One line per cause, the most frequent first."""
        ordered = sorted(self.causes.values(), key=lambda c: (-c.rows, c.lines[:1]))
        return [c.text() for c in ordered]

    def to_dict(self, limit: Limit) -> dict[str, Any]:
        """The file's counts as JSON-ready data."""
        return {
            "file": self.label,
            "kind": self.kind,
            "rows": self.rows,
            "used": self.used,
            "rejected": self.rejected_rows,
            "max_rejects": limit.allowed(self.rows),
            "extra_columns": list(self.extra),
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "zoned_times": self.zoned,
            "causes": [
                {
                    "column": c.column,
                    "expected": c.why,
                    "rows": c.rows,
                    "first_lines": c.lines,
                    "example": c.value,
                }
                for c in sorted(self.causes.values(), key=lambda c: (-c.rows, c.lines[:1]))
            ],
            "notes": list(self.notes),
        }


def write_rejects(path: Path, intakes: Sequence[Intake]) -> int:
    """Write every rejected cell as CSV (file, line, column, value, expected); return the count."""
    n = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["file", "line", "column", "value", "expected"])
        for intake in intakes:
            for r in sorted(intake.rejected, key=lambda r: r.line):
                writer.writerow([intake.label, r.line, r.column, r.value, r.why])
                n += 1
    return n


# --------------------------------------------------------------------------- reading
def _kinds() -> dict[str, Any]:
    from stars._rows import ACCOUNT_CSV, EVENT_CSV, snapshot_csv

    return {
        "accounts": ACCOUNT_CSV,
        "snapshots": snapshot_csv()[0],
        "events": EVENT_CSV,
    }


def known_column(name: str) -> bool:
    """Whether some kind of file reads a column of this name."""
    return any(c.resolve(name) is not None for c in _kinds().values())


def listing() -> str:
    """The columns each kind of file reads, for a message."""
    return "; ".join(f"{kind}: {c.listing()}" for kind, c in _kinds().items())


@attrs.frozen(slots=True)
class Options:
    """How the files are read: the zone for naive times, renames, encoding, delimiter."""

    zone: tzinfo
    zone_name: str
    rename: Mapping[str, str] = attrs.field(factory=dict)
    encoding: str | None = None
    delimiter: str | None = None

    def reading(self) -> dict[str, Any]:
        """The keyword arguments every CSV reader of `stars.io` takes from these options."""
        return {
            "tz": self.zone,
            "rename": self.rename,
            "extra": "keep",
            "encoding": self.encoding,
            "delimiter": self.delimiter,
        }


def read_accounts(path: str, opts: Options, lifecycle: Lifecycle) -> tuple[list[Account], Intake]:
    """The accounts file, counted.

    A big file that is plainly clean is read with polars when it is installed (see
    `stars._bigcsv.read_accounts`: the same accounts, lines and counts); any other file
    row by row.
    """
    intake = Intake(path, "accounts")
    read = None
    if Path(path).stat().st_size >= BIG_ACCOUNTS:
        from stars import _bigcsv

        with contextlib.suppress(_bigcsv.GiveUp):
            read = _bigcsv.read_accounts(
                Path(path),
                lifecycle,
                rename=opts.rename,
                encoding=opts.encoding,
                delimiter=opts.delimiter,
            )
    if read is None:
        read = read_accounts_csv(Path(path), lifecycle=lifecycle, **opts.reading())
    intake.took(read)
    return read.items, intake


def apply_events(
    path: str, opts: Options, accounts: list[Account], accounts_label: str, lifecycle: Lifecycle
) -> tuple[list[Account], Intake]:
    """Replay a stage-events file onto the accounts; rows that do not fit are rejected."""
    intake = Intake(path, "events")
    read = read_stage_events_csv(Path(path), lifecycle=lifecycle, **opts.reading())
    intake.took(read)
    claimed = {a.id: a.stage for a in accounts}
    built, rejected = accounts_from_stage_events(
        read.items, accounts, lifecycle=lifecycle, source=Path(path).name
    )
    for r in rejected:
        if r.column == "account":
            r = attrs.evolve(r, why=f"an account of {accounts_label}")
        intake.reject(r)
    with_events = {e.account for e in read.items}
    differ = [
        f"{a.id} ({claimed[a.id]} -> {a.stage})"
        for a in built
        if a.id in with_events and claimed[a.id] not in (lifecycle.initial, a.stage)
    ]
    if differ:
        shown = ", ".join(differ[:FIRST_LINES]) + (", ..." if len(differ) > FIRST_LINES else "")
        many = len(differ) > 1
        intake.notes.append(
            f"{len(differ)} {'accounts end' if many else 'account ends'} in another stage than"
            f" {accounts_label} gives; the events were followed: {shown}"
        )
    return built, intake


def has_signals(snap: Snapshot) -> bool:
    """Whether a snapshot carries any signal the default scorecard reads."""
    from stars.health import measures_from

    return any(x is not None for x in measures_from(snap).values())


def default_keep(lifecycle: Lifecycle) -> int:
    """How many of each account's latest snapshots the diagnosis needs with this policy.

    The green streak and the trend window read that many readings back (and the risk
    detection reads the latest two), so the stage the evidence points to is the same as
    with every snapshot kept. Only the trend the risk detection draws over its window of
    days, and the length of a green streak quoted in a reason, may read fewer.
    """
    policy = lifecycle.policy
    return max(policy.green_streak, policy.trend_window, 2)


class Tails:
    """The latest ``keep`` snapshots of each account, whatever order the rows come in."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.by_account: dict[str, list[tuple[datetime, int, Snapshot]]] = {}
        self.banded = False  # the rows are read as they are: `scored` looks at each
        self.counts: dict[str, int] = {}

    def add(self, account: str, snap: Snapshot, line: int) -> None:
        """Offer one good row (``line`` breaks ties between rows at the same time)."""
        self.counts[account] = self.counts.get(account, 0) + 1
        kept = self.by_account.get(account)
        item = (snap.at, line, snap)
        if kept is None:
            self.by_account[account] = [item]
        elif len(kept) < self.keep:
            bisect.insort(kept, item, key=_when)
        elif _when(item) > _when(kept[0]):
            kept.pop(0)
            bisect.insort(kept, item, key=_when)

    def snapshots(self) -> dict[str, list[Snapshot]]:
        """Each account's kept snapshots, oldest first."""
        return {a: [x[2] for x in kept] for a, kept in self.by_account.items()}

    def note(self) -> str | None:
        """What the report should say when some account had more rows than were kept."""
        return kept_note(self.keep, [n for n in self.counts.values() if n > self.keep])


def _when(item: tuple[datetime, int, Snapshot]) -> tuple[datetime, int]:
    return item[0], item[1]


class Progress(Protocol):
    """A progress display: told how far along, then closed."""

    def update(self, done: int) -> None:
        """Show ``done`` of the total."""

    def close(self) -> None:
        """End the display."""


ProgressFactory = Callable[[str, int, str], "Progress | None"]


#: Snapshots files from this size on are read with polars, when it is installed.
BIG_FILE: Final = 4 * 1024 * 1024

#: Accounts files from this size on (about 25,000 accounts) are read with polars when
#: they are plainly clean: reading them row by row then costs more than importing polars.
BIG_ACCOUNTS: Final = 1024 * 1024


class Kept(Protocol):
    """Each account's kept snapshots, and what to say about the ones not kept.

    ``banded``: every kept snapshot has its band already, so `scored` would change none.
    """

    banded: bool

    def snapshots(self) -> dict[str, list[Snapshot]]:
        """Each account's kept snapshots, oldest first."""

    def note(self) -> str | None:
        """What the report should say when some account had more rows than were kept."""


def read_snapshots(
    path: str,
    opts: Options,
    ids: frozenset[str],
    accounts_label: str,
    keep: int,
    progress: ProgressFactory,
    detail: bool,
    lifecycle: Lifecycle | None = None,
) -> tuple[Kept, Intake]:
    """Read a snapshots file, keeping each account's latest snapshots.

    A big file is read with polars in chunks when it is installed (and ``lifecycle``
    is given, to score the kept rows), else row by row; both accept and reject the
    same rows for the same reasons.
    """
    size = Path(path).stat().st_size
    if lifecycle is not None and size >= BIG_FILE:
        from stars import _bigcsv

        if _bigcsv.available():
            intake = Intake(path, "snapshots", detail=detail)
            try:
                frame_tails = _bigcsv.read(
                    path, opts, ids, accounts_label, keep, progress, intake, lifecycle
                )
            except _bigcsv.GiveUp as why:
                slow = f"read row by row ({why})"
            else:
                return frame_tails, intake
        else:
            slow = "read row by row: install the frames extra to read big files faster"
        tails, intake = _read_rows(path, opts, ids, accounts_label, keep, progress, detail)
        intake.notes.append(slow)
        return tails, intake
    return _read_rows(path, opts, ids, accounts_label, keep, progress, detail)


def _read_rows(
    path: str,
    opts: Options,
    ids: frozenset[str],
    accounts_label: str,
    keep: int,
    progress: ProgressFactory,
    detail: bool,
) -> tuple[Tails, Intake]:
    from stars._cells import guarded
    from stars._rows import snapshot_rows, snapshot_table

    intake = Intake(path, "snapshots", detail=detail)
    tails = Tails(keep)
    size = Path(path).stat().st_size
    with (
        snapshot_table(Path(path), opts.rename, "keep", opts.encoding, opts.delimiter) as table,
        guarded(),
    ):
        reader, rows = snapshot_rows(table, opts.zone)
        bar = progress(f"reading {Path(path).name}", size, "B")
        rejected = reader.rejected
        why = f"an account of {accounts_label}"
        for n, (line, account, snap) in enumerate(rows):
            if rejected:
                for r in rejected:
                    intake.reject(r)
                rejected.clear()
            if account in ids:
                tails.add(account, snap, line)
            else:
                intake.reject(RejectedRow(line, "account", account, why))
            if bar is not None and not n % 4096:
                bar.update(table.position() or 0)
        for r in rejected:
            intake.reject(r)
        rejected.clear()
        if bar is not None:
            bar.update(size)
            bar.close()
        intake.rows = reader.rows
        intake.extra = table.extra
        intake.encoding = table.encoding
        intake.delimiter = table.delimiter
        intake.zoned = reader.zoned
    return tails, intake


def scored(snapshots: Sequence[Snapshot], stage: str, lifecycle: Lifecycle) -> list[Snapshot]:
    """The snapshots as `Lifecycle.observe` stores them: scored from their signals, banded."""
    from stars.health import ScorecardSet, default_scorecard, measures_from

    cards: ScorecardSet | None = None
    out = list(snapshots)
    for i, snap in enumerate(out):
        if snap.band is not None:  # banded already (the polars reader scores as it reads)
            continue
        if snap.health is None:
            if cards is None:
                cards = lifecycle.scorecards or ScorecardSet(default_scorecard())
            # the card's own measures: a metrics.* column the card does not read is kept
            # on the snapshot, not scored (the polars reader's _score reads the same)
            values = measures_from(snap, cards.for_stage(stage))
            if any(x is not None for x in values.values()):
                result = cards.score(stage, values)
                out[i] = attrs.evolve(snap, health=result.score, band=result.band)
        else:
            out[i] = attrs.evolve(snap, band=lifecycle.policy.bands.band_for(snap.health))
    return out


def with_snapshots(
    accounts: list[Account], snapshots: Mapping[str, Sequence[Snapshot]]
) -> list[Account]:
    """The accounts just read from the accounts file (no history), given their snapshots.

    The accounts were checked when read, and each account's snapshots come sorted by
    time from `Tails` or the polars reader, so they are set in place rather than checked
    again (50,000 accounts cost a second that way): nothing else holds these accounts
    yet. Returns ``accounts``.
    """
    from stars._accounts import _a_snapshots, _a_version

    for a in accounts:
        snaps = snapshots.get(a.id)
        if snaps:
            _a_snapshots(a, tuple(snaps))
            _a_version(a, len(snaps))
    return accounts


# --------------------------------------------------------------------------- histories
def book_ids(accounts: Sequence[Account]) -> list[str]:
    """The accounts' ids, in order."""
    return [a.id for a in accounts]


@attrs.frozen(slots=True)
class StageTime:
    """How long the accounts in one stage have been there, in days."""

    stage: str
    accounts: int
    median_days: float | None
    longest_days: float | None


def histories(
    accounts: Sequence[Account], lifecycle: Lifecycle, as_of: Any
) -> tuple[list[StageTime], Any, dict[str, float | None]]:
    """Time in the current stage per stage, the monthly transition matrix, and days per account."""
    import statistics

    from stars.portfolio import Portfolio

    book = Portfolio(accounts, lifecycle)
    days: dict[str, float | None] = (
        book.time_in_stage(as_of) if as_of is not None else dict.fromkeys(book_ids(accounts))
    )
    rows: list[StageTime] = []
    for stage in lifecycle.stages:
        here = [a for a in accounts if a.stage == stage.name]
        if not here:
            continue
        known = [d for a in here if (d := days[a.id]) is not None]
        rows.append(
            StageTime(
                stage.name,
                len(here),
                statistics.median(known) if known else None,
                max(known) if known else None,
            )
        )
    return rows, book.transition_matrix(), days
