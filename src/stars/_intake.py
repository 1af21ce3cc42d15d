"""Reading a user's files for ``stars assess``, with nothing lost silently.

Private to the command. Every file is counted: rows read, rows used, rows rejected,
the rejections grouped by cause (one line per cause, with a count and the first
line numbers), and every rejected row is available for a rejects file. Rows that
are read but cannot be placed (a snapshot for an account the accounts file does not
have, an event the lifecycle's graph refuses) are rejected in the same way, so the
counts always add up: ``read == used + rejected``.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import tzinfo
from pathlib import Path
from typing import Any, Final

import attrs

from stars.account import Account, Snapshot
from stars.errors import InvalidValue, StarsError
from stars.io import (
    CsvImport,
    RejectedRow,
    accounts_from_stage_events,
    read_accounts_csv,
    read_snapshots_csv,
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

    def __init__(self, label: str, kind: str) -> None:
        self.label = label
        self.kind = kind
        self.rows = 0
        self.extra: tuple[str, ...] = ()
        self.encoding: str | None = None
        self.delimiter = ","
        self.zoned = 0
        self.rejected: list[RejectedRow] = []
        self._lines: set[int] = set()
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
        """Count one rejected cell (a row with several counts once)."""
        self.rejected.append(row)
        key = (row.column, row.why)
        cause = self.causes.get(key)
        if cause is None:
            cause = self.causes[key] = Cause(row.column, row.why, value=row.value)
        cause.rows += 1  # a row has each (column, expected) pair at most once
        if len(cause.lines) < FIRST_LINES:
            cause.lines.append(row.line)
        self._lines.add(row.line)

    @property
    def rejected_rows(self) -> int:
        """Distinct rows rejected."""
        return len(self._lines)

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
    from stars import io

    return {
        "accounts": io._ACCOUNT_CSV,
        "snapshots": io._snapshot_csv()[0],
        "events": io._EVENT_CSV,
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


def read_accounts(path: str, opts: Options, lifecycle: Lifecycle) -> tuple[list[Account], Intake]:
    """The accounts file, counted."""
    intake = Intake(path, "accounts")
    read = read_accounts_csv(
        Path(path),
        lifecycle=lifecycle,
        tz=opts.zone,
        rename=opts.rename,
        extra="keep",
        encoding=opts.encoding,
        delimiter=opts.delimiter,
    )
    intake.took(read)
    return read.items, intake


def apply_events(
    path: str, opts: Options, accounts: list[Account], accounts_label: str, lifecycle: Lifecycle
) -> tuple[list[Account], Intake]:
    """Replay a stage-events file onto the accounts; rows that do not fit are rejected."""
    intake = Intake(path, "events")
    read = read_stage_events_csv(
        Path(path),
        lifecycle=lifecycle,
        tz=opts.zone,
        rename=opts.rename,
        extra="keep",
        encoding=opts.encoding,
        delimiter=opts.delimiter,
    )
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


def apply_snapshots(
    path: str,
    opts: Options,
    accounts: Sequence[Account],
    accounts_label: str,
    lifecycle: Lifecycle,
    tracked: Callable[[Sequence[int], str], Iterable[int]],
) -> Intake:
    """Observe a snapshots file's rows on the accounts, in time order per account."""
    from stars.health import measures_from

    intake = Intake(path, "snapshots")
    read = read_snapshots_csv(
        Path(path),
        tz=opts.zone,
        rename=opts.rename,
        extra="keep",
        encoding=opts.encoding,
        delimiter=opts.delimiter,
    )
    intake.took(read)
    by_id = {a.id: a for a in accounts}
    items, lines = read.items, read.lines
    keep: list[int] = []
    for i, e in enumerate(items):
        if e.account in by_id:
            keep.append(i)
        else:
            intake.reject(
                RejectedRow(lines[i], "account", e.account, f"an account of {accounts_label}")
            )
    keep.sort(key=lambda i: (items[i].account, items[i].event.at))
    for i in tracked(keep, "scoring snapshots"):
        e = items[i]
        snap = e.event
        assert isinstance(snap, Snapshot)
        account = by_id[e.account]
        try:
            if snap.health is None and snap.band is None and has_signals(snap):
                lifecycle.observe(account, snap, measures=measures_from(snap))
            else:
                lifecycle.observe(account, snap)
        except StarsError as err:
            intake.reject(RejectedRow(lines[i], "", "", f"a snapshot the account takes ({err})"))
    return intake


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
