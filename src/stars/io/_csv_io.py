"""CSV import with a report of rejected rows, and CSV export (private).

Accounts and snapshots in and out; each cell is parsed by the spec of its field.
"""

from __future__ import annotations

import csv
import enum
import functools
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import IO, Any, Final, Generic, TypeVar

import attrs

from stars import _csv
from stars._cells import SPECS, CellError, DateTimeSpec, UnionSpec
from stars._cells import Spec as _Spec
from stars.account import Account, Snapshot
from stars.errors import InvalidValue, StarsError, UnknownName
from stars.io._codec import _REGISTRY
from stars.io._common import Path
from stars.io._event import AccountEvent
from stars.io._json import guarded
from stars.lifecycle import (
    STARS,
    Lifecycle,
)
from stars.stages import stage_name

T = TypeVar("T")


# =========================================================================== CSV
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


def _is_time(spec: _Spec) -> bool:
    if isinstance(spec, UnionSpec):
        return any(isinstance(o, DateTimeSpec) for o in spec.options)
    return isinstance(spec, DateTimeSpec)


class _CsvReader:
    """Reads the rows of one opened table into parsed cells, collecting what it rejects."""

    def __init__(
        self,
        table: _csv.Table,
        specs: Mapping[str, _Spec],
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


def _build(
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


def _zone(tz: str | tzinfo | None) -> tzinfo | None:
    if tz is None or isinstance(tz, tzinfo):
        return tz
    return _csv.parse_zone(tz)


def _stage_of(text: str, lifecycle: Lifecycle | None) -> str:
    """A stage as people write it, checked against the lifecycle (`UnknownName` if not one)."""
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


def _stage_why(err: StarsError, lifecycle: Lifecycle | None) -> str:
    where = f"a stage of lifecycle {lifecycle.name!r}" if lifecycle is not None else "a stage"
    if isinstance(err, UnknownName):
        if err.suggestion is not None:
            return f"{where} (did you mean {err.suggestion!r}?)"
        return f"{where} ({', '.join(str(k) for k in err.known)})"
    return f"{where} (a non-empty name)"


_ACCOUNT_COLUMNS: Final = ("id", "name", "owner", "tags", "since", "stage")
ACCOUNT_CSV: Final = _csv.Columns(
    "accounts", _ACCOUNT_COLUMNS, {"account_id": "id", "account": "id"}
)


def read_accounts_csv(
    file: Path | IO[str],
    *,
    lifecycle: Lifecycle | None = STARS,
    tz: str | tzinfo | None = None,
    rename: Mapping[str, str] | None = None,
    extra: str = "refuse",
    encoding: str | None = None,
    delimiter: str | None = None,
) -> CsvImport[Account]:
    r"""Import accounts from CSV, keeping the good rows and reporting the bad ones.

    Columns: ``id`` (required; ``account_id`` is read as ``id`` too), ``name``,
    ``owner``, ``tags`` (separated by ``;``), ``since`` (ISO 8601) and ``stage`` (a
    stage of the lifecycle, in any case and spacing, or by its STARS situation such as
    ``Turnaround``; a typo is rejected with a "did you mean"). Header names match in
    any case. Empty cells take the default. A repeated id is rejected on its later line.

    Args:
        file: A path or a text stream. A path is read as UTF-8 (or ``encoding``); a
            UTF-8 or UTF-16 byte-order mark is honoured; the delimiter (comma,
            semicolon, tab or bar) is found from the header.
        lifecycle: Stages must be known to it (``None``: any stage name).
        tz: Read date-times without a UTC offset (and bare dates) in this zone: a name
            such as ``"UTC"`` or ``"Europe/Paris"``, an offset such as ``"+02:00"``, or a
            ``tzinfo``. ``None`` rejects them.
        rename: Header names to read as other columns (``{"Account Name": "name"}``).
        extra: ``"refuse"`` (an unknown column is an error) or ``"keep"`` (it is kept
            aside and listed in ``extra_columns``).
        encoding: The file's encoding (default UTF-8).
        delimiter: The delimiter, instead of finding it.

    Returns:
        A `CsvImport`: the accounts and the rejected rows (one entry per bad
        cell), with the counts and what was found.

    Raises:
        SchemaError: The header is missing, repeats a column, lacks ``id`` or (with
            ``extra="refuse"``) names an unknown one; the file is binary; or a line is
            not in the encoding (the error names the line and the encoding it seems to be).
        InvalidValue: ``tz``, ``encoding``, ``delimiter`` or ``extra`` is not usable.

    Examples:
        >>> import io
        >>> from stars.io import read_accounts_csv
        >>> text = "id,name,stage,tags\nacme,Acme,Seed,emea;smb\nbeta,Beta,gold,\n"
        >>> accounts, rejected = read_accounts_csv(io.StringIO(text))
        >>> [(a.id, a.stage, sorted(a.tags)) for a in accounts]
        [('acme', 'seed', ['emea', 'smb'])]
        >>> rejected[0].line, rejected[0].column, rejected[0].value
        (3, 'stage', 'gold')
    """
    codec = _REGISTRY.codec_of(Account)
    specs = {f.key: f.spec for f in codec.fields if f.key in _ACCOUNT_COLUMNS}
    zone = _zone(tz)
    accounts: list[Account] = []
    lines: list[int] = []
    seen: dict[str, int] = {}
    with (
        _csv.open_table(
            file,
            ACCOUNT_CSV,
            required=("id",),
            rename=rename,
            extra=extra,
            encoding=encoding,
            delimiter=delimiter,
        ) as table,
        guarded(),
    ):
        reader = _CsvReader(table, specs, zone)
        rejected = reader.rejected
        for line, cells, values in reader:
            stage = values.get("stage")
            if stage is not None:
                try:
                    values["stage"] = _stage_of(stage, lifecycle)
                except StarsError as err:
                    rejected.append(
                        RejectedRow(line, "stage", cells["stage"], _stage_why(err, lifecycle))
                    )
                    continue
            ident = cells["id"].strip()
            if not ident:
                rejected.append(RejectedRow(line, "id", cells["id"], "a non-empty id"))
                continue
            if ident in seen:
                rejected.append(
                    RejectedRow(
                        line, "id", cells["id"], f"a new id (first seen on line {seen[ident]})"
                    )
                )
                continue
            values["id"] = ident
            account = _build(line, functools.partial(Account, **values), cells, rejected)
            if account is not None:
                seen[ident] = line
                accounts.append(account)
                lines.append(line)
        return reader.result(accounts, lines)


_SNAPSHOT_SKIP: Final = ("metrics",)


@functools.cache
def snapshot_csv() -> tuple[_csv.Columns, dict[str, _Spec]]:
    codec = _REGISTRY.codec_of(Snapshot)
    specs: dict[str, _Spec] = {f.key: f.spec for f in codec.fields if f.key not in _SNAPSHOT_SKIP}
    columns = _csv.Columns(
        "snapshots", ("account", *specs), {"account_id": "account"}, prefixes=("metrics.",)
    )
    return columns, specs


def read_snapshots_csv(
    file: Path | IO[str],
    *,
    tz: str | tzinfo | None = None,
    rename: Mapping[str, str] | None = None,
    extra: str = "refuse",
    encoding: str | None = None,
    delimiter: str | None = None,
) -> CsvImport[AccountEvent]:
    r"""Import snapshots from CSV, keeping the good rows and reporting the bad ones.

    Columns: ``account`` (or ``account_id``) and ``at`` (required), any `Snapshot`
    signal (``health``, ``band``, ``adoption``, ``nps``, ..., flags as
    ``true``/``false``, ``yes``/``no`` or ``1``/``0``), and ``metrics.<name>`` for other
    numeric signals. Empty cells mean not measured. Rows are returned in file order;
    sort them by time per account before observing them.

    Args:
        file: A path or a text stream (read as `read_accounts_csv` reads it).
        tz: Read date-times without a UTC offset, and bare dates, in this zone
            (``None``: reject them).
        rename: Header names to read as other columns.
        extra: ``"refuse"`` an unknown column, or ``"keep"`` it aside.
        encoding: The file's encoding (default UTF-8).
        delimiter: The delimiter, instead of finding it.

    Returns:
        A `CsvImport`: the snapshots with their account ids, and the rejected
        rows (one per bad cell).

    Raises:
        SchemaError: As for `read_accounts_csv` (``account`` and ``at`` are required).
        InvalidValue: ``tz``, ``encoding``, ``delimiter`` or ``extra`` is not usable.

    Examples:
        >>> import io
        >>> from stars.io import read_snapshots_csv
        >>> text = ("account_id,at,health,champion_engaged,metrics.seats\n"
        ...         "acme,2025-01-06T00:00:00+00:00,72,yes,40\n"
        ...         "acme,2025-01-13T00:00:00+00:00,140,no,41\n"
        ...         "acme,2025-01-20,70,no,41\n")
        >>> good, rejected = read_snapshots_csv(io.StringIO(text))
        >>> s = good[0].event
        >>> s.health, s.champion_engaged, s.metrics
        (72.0, True, {'seats': 40.0})
        >>> [(r.line, r.column, r.value) for r in rejected]
        [(3, 'health', '140'), (4, 'at', '2025-01-20')]
        >>> read_snapshots_csv(io.StringIO(text), tz="UTC").zoned
        1
    """
    zone = _zone(tz)
    out: list[AccountEvent] = []
    lines: list[int] = []
    with snapshot_table(file, rename, extra, encoding, delimiter) as table, guarded():
        reader, rows = snapshot_rows(table, zone)
        for line, account, snap in rows:
            out.append(AccountEvent(account, snap))
            lines.append(line)
        return reader.result(out, lines)


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
) -> tuple[_CsvReader, Iterator[tuple[int, str, Snapshot]]]:
    """The good rows of an opened snapshots table, one at a time (rejects go to the reader)."""
    specs = snapshot_csv()[1]
    metric = SPECS[float]
    cell_specs = {
        h: (SPECS[str] if h == "account" else specs.get(h, metric))
        for h in table.columns
        if h is not None
    }
    reader = _CsvReader(table, cell_specs, zone)

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
            snap = _build(
                line, functools.partial(Snapshot, **values, metrics=metrics), cells, rejected
            )
            if snap is not None:
                yield line, account, snap

    return reader, rows()


def _writer(file: Path | IO[str]) -> tuple[Any, IO[str] | None]:
    if isinstance(file, str | os.PathLike):
        handle = open(file, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed below
        return csv.writer(handle, lineterminator="\n"), handle
    return csv.writer(file, lineterminator="\n"), None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _write_rows(file: Path | IO[str], header: Sequence[str], rows: Iterable[list[Any]]) -> int:
    writer, handle = _writer(file)
    try:
        writer.writerow(header)
        n = 0
        for row in rows:
            writer.writerow([_cell(x) for x in row])
            n += 1
        return n
    finally:
        if handle is not None:
            handle.close()


def write_accounts_csv(accounts: Iterable[Account], file: Path | IO[str]) -> int:
    r"""Write accounts as the CSV `read_accounts_csv` reads (their snapshots and history aside).

    Tags are joined with ``;`` (so a tag must not hold one); times are ISO 8601 with their
    offset. `write_stage_events_csv` and `write_snapshots_csv` write the rest of each
    account, and reading the three files back gives the same accounts.

    Args:
        accounts: The accounts.
        file: A path (written as UTF-8) or a text stream.

    Returns:
        The number of rows written (the header aside).

    Examples:
        >>> import io
        >>> from stars import Account
        >>> from stars.io import write_accounts_csv
        >>> out = io.StringIO()
        >>> write_accounts_csv([Account("acme", name="Acme, Inc.", tags={"emea"})], out)
        1
        >>> print(out.getvalue(), end="")
        id,name,owner,tags,since,stage
        acme,"Acme, Inc.",,emea,,prospect
    """
    return _write_rows(
        file,
        _ACCOUNT_COLUMNS,
        (
            [a.id, a.name, a.owner, ";".join(sorted(a.tags)), a.since, a.stage]
            for a in _accounts_arg(accounts)
        ),
    )


def _accounts_arg(accounts: Iterable[Account]) -> list[Account]:
    items = list(accounts)
    for i, a in enumerate(items):
        if not isinstance(a, Account):
            raise InvalidValue(f"accounts[{i}]", a, "an Account")
    return items


def write_snapshots_csv(accounts: Iterable[Account], file: Path | IO[str]) -> int:
    r"""Write every snapshot of the accounts as the CSV `read_snapshots_csv` reads.

    One row per snapshot, oldest first per account; one ``metrics.<name>`` column per
    metric name any snapshot has. Numbers are written exactly (``repr``), flags as
    ``true``/``false``, an unmeasured signal as an empty cell.

    Args:
        accounts: The accounts.
        file: A path (written as UTF-8) or a text stream.

    Returns:
        The number of rows written.

    Examples:
        >>> import io
        >>> from datetime import datetime, timezone
        >>> from stars import Account, Snapshot
        >>> from stars.io import read_snapshots_csv, write_snapshots_csv
        >>> t = datetime(2025, 1, 6, tzinfo=timezone.utc)
        >>> acme = Account("acme", snapshots=[Snapshot(at=t, health=72.5, metrics={"seats": 40})])
        >>> out = io.StringIO()
        >>> write_snapshots_csv([acme], out)
        1
        >>> [e.event for e in read_snapshots_csv(io.StringIO(out.getvalue())).items] == [
        ...     acme.snapshots[0]]
        True
    """
    items = _accounts_arg(accounts)
    fields = [f for f in snapshot_csv()[1] if f != "at"]
    names = sorted({name for a in items for s in a.snapshots for name in s.metrics})
    header = ["account", "at", *fields, *(f"metrics.{n}" for n in names)]
    return _write_rows(
        file,
        header,
        (
            [a.id, s.at, *(getattr(s, f) for f in fields), *(s.metrics.get(n) for n in names)]
            for a in items
            for s in a.snapshots
        ),
    )
