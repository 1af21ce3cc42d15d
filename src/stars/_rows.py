"""The rows of the CSV files stars reads, shared by `stars.io` and the command (private).

A `CsvReader` parses the cells of an opened table by the specs of `stars._cells` and
collects what it rejects as `RejectedRow` values; `CsvImport` is what reading a file
gives. The column sets of accounts, snapshots and stage-event files, and the rows of a
snapshots file, are here so the command's readers (`stars._intake`, `stars._bigcsv`)
read them as `stars.io` does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, tzinfo
from typing import IO, TYPE_CHECKING, Any, Final, Generic, TypeVar

import attrs

import stars._csv as _csv
from stars._cells import SPECS, CellError, DateTimeSpec, Spec, UnionSpec, fields_of
from stars.account import Snapshot
from stars.errors import InvalidValue, StarsError, UnknownName
from stars.stages import stage_name

if TYPE_CHECKING:
    from stars.lifecycle import Lifecycle

Path = _csv.Path
T = TypeVar("T")


@attrs.frozen(slots=True)
class RejectedRow:
    """A CSV row (or one cell of it) that could not be imported, and why.

    Attributes:
        line: The line number in the file (the header is line 1).
        column: The column's name (empty when the whole row is wrong).
        value: The cell's text (or the row's, joined with commas).
        why: What was expected.

    Examples:
        >>> from stars.io import RejectedRow
        >>> RejectedRow(3, "health", "abc", "a number").why
        'a number'
    """

    line: int
    column: str
    value: str
    why: str


class CsvImport(tuple[list[T], list[RejectedRow]], Generic[T]):
    r"""What reading one CSV file gave: the pair ``(items, rejected)``, and how it was read.

    It unpacks as a pair, ``items, rejected = read_accounts_csv(...)``; its
    attributes say how many rows the file had and what the reader found.

    Attributes:
        file: The file's name (``<stream>`` for a text stream).
        rows: Data rows read (the header and blank lines are not counted).
        rejected_rows: Rows that were skipped (a row with several bad cells counts once).
        lines: The line each item came from, in the order of the items.
        extra_columns: Header names that are no column of this kind of file, kept aside.
        encoding: The encoding the bytes were read with (``None`` for a text stream).
        delimiter: The delimiter found in the header.
        zoned: Date-times without a UTC offset that were read in the ``tz`` given.

    Examples:
        >>> import io
        >>> from stars.io import read_accounts_csv
        >>> read = read_accounts_csv(io.StringIO("id;stage;arr\nacme;Ascend;10\nb;gold;1\n"),
        ...                          extra="keep")
        >>> read.rows, read.used, read.rejected_rows, read.extra_columns, read.delimiter
        (2, 1, 1, ('arr',), ';')
        >>> accounts, rejected = read
        >>> accounts[0].stage, rejected[0].column
        ('ascend', 'stage')
    """

    file: str
    rows: int
    rejected_rows: int
    lines: list[int]
    extra_columns: tuple[str, ...]
    encoding: str | None
    delimiter: str
    zoned: int

    def __new__(
        cls,
        items: list[T],
        rejected: list[RejectedRow],
        *,
        file: str = "<stream>",
        rows: int = 0,
        lines: list[int] | None = None,
        extra_columns: tuple[str, ...] = (),
        encoding: str | None = None,
        delimiter: str = ",",
        zoned: int = 0,
    ) -> CsvImport[T]:
        """Make the pair, with what reading found as keyword arguments."""
        self = super().__new__(cls, (items, rejected))
        self.file = file
        self.rows = rows
        self.rejected_rows = len({r.line for r in rejected})
        self.lines = lines if lines is not None else list(range(len(items)))
        self.extra_columns = tuple(extra_columns)
        self.encoding = encoding
        self.delimiter = delimiter
        self.zoned = zoned
        return self

    @property
    def items(self) -> list[T]:
        r"""The values read from the good rows.

        Examples:
            >>> import io
            >>> from stars.io import read_accounts_csv
            >>> [a.id for a in read_accounts_csv(io.StringIO("id\nacme\n")).items]
            ['acme']
        """
        return self[0]

    @property
    def rejected(self) -> list[RejectedRow]:
        r"""The rejected rows, one entry per bad cell.

        Examples:
            >>> import io
            >>> from stars.io import read_accounts_csv
            >>> read_accounts_csv(io.StringIO("id\nacme\n")).rejected
            []
        """
        return self[1]

    @property
    def used(self) -> int:
        r"""How many rows gave a value (``len(items)``).

        Examples:
            >>> import io
            >>> from stars.io import read_accounts_csv
            >>> read_accounts_csv(io.StringIO("id\nacme\nbeta\n")).used
            2
        """
        return len(self[0])


ANY_TIME: Final = "an ISO 8601 date or date-time, such as 2025-01-28 or 2025-01-28T09:30:00+01:00"
_TZ_HINT: Final = "give a time zone (tz=, or --tz on the command line) to read it in"


def _is_time(spec: Spec) -> bool:
    if isinstance(spec, UnionSpec):
        return any(isinstance(o, DateTimeSpec) for o in spec.options)
    return isinstance(spec, DateTimeSpec)


class CsvReader:
    """Reads the rows of one opened table into parsed cells, collecting what it rejects."""

    def __init__(
        self,
        table: _csv.Table,
        specs: Mapping[str, Spec],
        zone: tzinfo | None,
    ) -> None:
        self.table = table
        self.specs = specs
        self.zone = zone
        self.rejected: list[RejectedRow] = []
        self.rows = 0
        self.zoned = 0
        self.width = len(table.columns)
        self.times = frozenset(c for c, sp in specs.items() if _is_time(sp))

    def __iter__(self) -> Iterator[tuple[int, dict[str, str], dict[str, Any]]]:
        columns = self.table.columns
        rejected = self.rejected
        specs = self.specs
        for line, row in self.table.rows:
            self.rows += 1
            if row[0] == _csv.CSV_ERROR:
                rejected.append(
                    RejectedRow(line, "", "", f"readable CSV (this row is unreadable: {row[1]})")
                )
                continue
            if len(row) != self.width:
                rejected.append(
                    RejectedRow(
                        line,
                        "",
                        self.table.delimiter.join(row)[:200],
                        f"{self.width} fields, got {len(row)}",
                    )
                )
                continue
            cells: dict[str, str] = {}
            values: dict[str, Any] = {}
            ok = True
            for column, text in zip(columns, row, strict=True):
                if column is None:
                    continue
                cells[column] = text
                if not text.strip():
                    continue
                if column in self.times:
                    parsed = _csv.parse_time(text, self.zone)
                    if parsed is None:
                        why = DateTimeSpec.expected if self.zone is None else ANY_TIME
                        if self.zone is None and _csv.parse_time(text, UTC) is not None:
                            why += f" (this one has none: {_TZ_HINT})"
                        rejected.append(RejectedRow(line, column, text, why))
                        ok = False
                        continue
                    values[column] = parsed[0]
                    self.zoned += parsed[1]
                    continue
                try:
                    values[column] = specs[column].parse_cell(text)
                except CellError as err:
                    rejected.append(RejectedRow(line, column, text, str(err)))
                    ok = False
            if ok:
                yield line, cells, values

    def result(self, items: list[T], lines: list[int]) -> CsvImport[T]:
        t = self.table
        return CsvImport(
            items,
            self.rejected,
            file=t.name,
            rows=self.rows,
            lines=lines,
            extra_columns=t.extra,
            encoding=t.encoding,
            delimiter=t.delimiter,
            zoned=self.zoned,
        )


def build(
    line: int, factory: Callable[[], T], cells: Mapping[str, str], rejected: list[RejectedRow]
) -> T | None:
    try:
        return factory()
    except InvalidValue as err:
        column = err.field if err.field in cells else ""
        value = cells.get(column, str(err.value))
        rejected.append(RejectedRow(line, column, value, err.expected))
    except Exception as err:  # pragma: no cover - the cells were parsed by type already
        rejected.append(RejectedRow(line, "", "", str(err)))
    return None


_ACCOUNT_COLUMNS: Final = ("id", "name", "owner", "tags", "since", "stage")
ACCOUNT_CSV: Final = _csv.Columns(
    "accounts", _ACCOUNT_COLUMNS, {"account_id": "id", "account": "id"}
)


_SNAPSHOT_SKIP: Final = ("metrics",)


@functools.cache
def snapshot_csv() -> tuple[_csv.Columns, dict[str, Spec]]:
    fields = fields_of(Snapshot)
    specs: dict[str, Spec] = {f.key: f.spec for f in fields if f.key not in _SNAPSHOT_SKIP}
    columns = _csv.Columns(
        "snapshots", ("account", *specs), {"account_id": "account"}, prefixes=("metrics.",)
    )
    return columns, specs


def snapshot_table(
    file: Path | IO[str],
    rename: Mapping[str, str] | None,
    extra: str,
    encoding: str | None,
    delimiter: str | None,
) -> _csv.Table:
    """Open a snapshots file and read its header."""
    return _csv.open_table(
        file,
        snapshot_csv()[0],
        required=("account", "at"),
        rename=rename,
        extra=extra,
        encoding=encoding,
        delimiter=delimiter,
    )


def snapshot_rows(
    table: _csv.Table, zone: tzinfo | None
) -> tuple[CsvReader, Iterator[tuple[int, str, Snapshot]]]:
    """The good rows of an opened snapshots table, one at a time (rejects go to the reader)."""
    specs = snapshot_csv()[1]
    metric = SPECS[float]
    cell_specs = {
        h: (SPECS[str] if h == "account" else specs.get(h, metric))
        for h in table.columns
        if h is not None
    }
    reader = CsvReader(table, cell_specs, zone)

    def rows() -> Iterator[tuple[int, str, Snapshot]]:
        rejected = reader.rejected
        for line, cells, values in reader:
            account = values.pop("account", "").strip()
            if not account:
                rejected.append(RejectedRow(line, "account", cells["account"], "an account id"))
                continue
            metrics = {k[8:]: values.pop(k) for k in list(values) if k.startswith("metrics.")}
            if "at" not in values:
                rejected.append(RejectedRow(line, "at", cells["at"], "a date-time"))
                continue
            snap = build(
                line, functools.partial(Snapshot, **values, metrics=metrics), cells, rejected
            )
            if snap is not None:
                yield line, account, snap

    return reader, rows()


EVENT_CSV: Final = _csv.Columns(
    "stage events",
    ("account", "at", "trigger", "stage", "actor", "reason", "forced"),
    {"account_id": "account", "event": "trigger", "to": "stage"},
)


# --------------------------------------------------------------------------- accounts' cells
def stage_of(text: str, lifecycle: Lifecycle | None) -> str:
    """A stage as people write it, checked against the lifecycle (`UnknownName` if not one).

    Examples:
        >>> from stars import STARS
        >>> from stars._rows import stage_of
        >>> stage_of(" Turnaround", STARS), stage_of("ASCEND", STARS)
        ('tact', 'ascend')
    """
    if lifecycle is None:
        return stage_name(text)
    names = [s.name for s in lifecycle.stages]
    word = text.strip()
    if word in names:
        return word
    folded = {_csv.fold(n): n for n in names}
    if _csv.fold(word) in folded:
        return folded[_csv.fold(word)]
    try:
        name = stage_name(word)
    except UnknownName as err:
        if err.suggestion in names:
            raise UnknownName("stage", word, names, err.suggestion) from None
        name = word
    if name in names:
        return name
    raise UnknownName("stage", word, names)


#: What a row of an accounts file without a name or a stage cell gets (`Account`'s defaults).
DEFAULT_NAME: Final = ""
DEFAULT_STAGE: Final = "prospect"


@functools.cache
def plain_stage(stage: str) -> bool:
    """Whether `stage_name` keeps ``stage`` as it is (so `Account` takes it unchecked).

    Examples:
        >>> from stars._rows import plain_stage
        >>> plain_stage("ascend"), plain_stage("Ascend")
        (True, False)
    """
    try:
        return stage_name(stage) == stage
    except StarsError:
        return False
