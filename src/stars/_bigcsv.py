"""Big snapshots files, read with polars in chunks, in bounded memory (private).

``stars assess`` reads a snapshots file here when polars is installed and the file is
big. The file is cut into chunks of whole records (about `CHUNK` bytes each), and three
worker threads read and check them while the main thread folds the results:

- a chunk without quotes or padded cells is read with its number columns as numbers;
  when every account is known, every time has the shape of the first one, every flag
  is a common spelling and every number is finite and in range (whole-column counts
  and bounds settle that, see `_fast`), it is kept as it is;
- otherwise every cell is checked with whole-column expressions that accept exactly
  what the row-by-row reader of `stars.io` accepts (the same number, flag, band and
  ISO 8601 rules, and the `Snapshot` validators for ranges), and the rejected cells
  are counted by cause.

Only each account's latest snapshots are kept between chunks (see `_State`). Peak
memory is a few chunks plus the kept snapshots, whatever the file's size.

When the file is not UTF-8, has rows of the wrong length, or polars refuses a chunk,
`read` gives up before anything is counted and the caller reads the file row by row:
the slow path names the line at fault.

A big accounts file is read here too (`read_accounts`), whole, when it is plainly clean;
any doubt leaves it to the row-by-row reader.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple, TypeVar

from stars import _csv
from stars._cells import (
    SPECS,
    BoolSpec,
    CellError,
    DateTimeSpec,
    EnumSpec,
    FloatSpec,
    IntSpec,
    NoneSpec,
    UnionSpec,
)
from stars._rows import (
    ACCOUNT_CSV,
    ANY_TIME,
    DEFAULT_NAME,
    DEFAULT_STAGE,
    CsvImport,
    plain_stage,
    snapshot_csv,
    snapshot_table,
    stage_of,
)
from stars._shown import kept_note
from stars.account import Account, Snapshot
from stars.bands import Band
from stars.errors import InvalidValue, StarsError
from stars.io import MAX_INT, RejectedRow

if TYPE_CHECKING:
    import polars as pl

    from stars._intake import Intake, Options, ProgressFactory
    from stars.lifecycle import Lifecycle

#: About how many bytes of the file one chunk holds.
CHUNK: Final = 4 * 1024 * 1024

_AT: Final = datetime(2000, 1, 1, tzinfo=UTC)

_T = TypeVar("_T")


class GiveUp(Exception):
    """This file is better read row by row (the reason is the message)."""


def available() -> bool:
    """Whether polars can be imported."""
    try:
        import polars  # noqa: F401
    except ImportError:
        return False
    return True


def _kinds() -> dict[str, tuple[str, Any]]:
    """Each snapshot column's kind (float, int, bool, enum, time, text) and its CSV spec."""
    specs = snapshot_csv()[1]
    out: dict[str, tuple[str, Any]] = {"account": ("text", SPECS[str])}
    for name, spec in specs.items():
        base = spec
        if isinstance(spec, UnionSpec):
            base = next(o for o in spec.options if not isinstance(o, NoneSpec))
        if isinstance(base, FloatSpec):
            kind = "float"
        elif isinstance(base, IntSpec):
            kind = "int"
        elif isinstance(base, BoolSpec):
            kind = "bool"
        elif isinstance(base, EnumSpec):
            kind = "enum"
        elif isinstance(base, DateTimeSpec):
            kind = "time"
        else:  # pragma: no cover - every Snapshot field is one of the above
            raise GiveUp(f"no whole-column rule for column {name!r}")
        out[name] = (kind, base)
    return out


def _why(spec: Any, text: str) -> str:
    """What the row-by-row reader says about a cell it refuses."""
    try:
        spec.parse_cell(text)
    except CellError as err:
        return str(err)
    return str(spec.expected)  # pragma: no cover - only refused cells are asked about


def _polars_zone(zone: tzinfo) -> str:
    key = getattr(zone, "key", None)
    if isinstance(key, str):
        return key
    if zone is UTC:
        return "UTC"
    offset = zone.utcoffset(None)
    if offset is None:  # pragma: no cover - parse_zone gives named or fixed zones
        raise GiveUp(f"time zone {zone}")
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _header(path: Path) -> tuple[int, int]:
    """The byte offset where data starts, and the header's line number."""
    with path.open("rb") as f:
        line = 0
        while True:
            raw = f.readline()
            line += 1
            if not raw:
                raise GiveUp("no data")
            if line == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            if raw.strip():
                if b'"' in raw:
                    raise GiveUp("a quoted header")
                return f.tell(), line


def _boundary(data: bytes | bytearray, end: int | None = None) -> int:
    """The end of the last whole record in ``data[:end]`` (0 when there is none)."""
    end = len(data) if end is None else end
    last = data.rfind(b"\n", 0, end)
    if last < 0:
        return 0
    if data.find(b'"', 0, end) < 0:
        return last + 1
    quotes = data.count(b'"', 0, last)
    while quotes % 2:
        previous = data.rfind(b"\n", 0, last)
        if previous < 0:
            return 0
        quotes -= data.count(b'"', previous, last)
        last = previous
    return last + 1


def _line_numbers(chunk: bytes, first: int, delimiter: str, width: int) -> list[int]:
    """The line each non-blank record of a chunk starts on (for chunks with quotes).

    Raises:
        GiveUp: A record has another number of cells than ``width``.
    """
    text = chunk.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out = []
    start = first
    for row in reader:
        if row and any(c.strip() for c in row):
            if len(row) != width:
                raise GiveUp("rows of another length")
            out.append(start)
        start = first + reader.line_num
    return out


def _ragged(chunk: bytes, delimiter: str, width: int) -> bool:
    """Whether a record of a chunk without quotes has another number of cells than ``width``.

    Polars reads a record with too few cells as if the missing ones were empty; the
    row-by-row reader refuses it. Counting the delimiters of the whole chunk settles
    most chunks; a chunk with blank lines (or a ragged record) is looked at line by line.
    """
    sep = delimiter.encode()
    if chunk.count(sep) == (width - 1) * chunk.count(b"\n"):
        return False
    return any(line.strip() and line.count(sep) != width - 1 for line in chunk.split(b"\n"))


def _maybe_padded(chunk: bytes, delimiter: str) -> bool:
    """Whether some cell of ``chunk`` may start or end with a space or a tab.

    A cell starts after a delimiter, a line break or an opening quote, and ends before
    one of them: a padded cell leaves one of these byte pairs in the text. Looking for
    them in the bytes is much cheaper than looking at every cell; a pair found inside a
    quoted text only costs the cell-by-cell look.
    """
    sep = delimiter.encode()
    for pad in (b" ", b"\t"):
        if pad not in chunk:
            continue
        if chunk.startswith(pad) or chunk.endswith(pad):
            return True
        for edge in (sep, b"\n", b"\r", b'"'):
            if edge + pad in chunk or pad + edge in chunk:
                return True
    return False


def _first_line(data: bytes | bytearray, end: int) -> int:
    """The length in bytes of the first line of ``data[:end]``, its line break included."""
    stop = data.find(b"\n", 0, end)
    return end if stop < 0 else stop + 1


class _Chunker:
    """Whole-record chunks of a file, each with the bytes read so far.

    The chunks' line numbers are not counted here: a checked chunk's rows are its
    lines (see `read`), and counting the line breaks of every chunk in the main
    thread held the interpreter lock from the workers for about 0.06 s of a
    3-million-row file.
    """

    def __init__(self, path: Path, start: int) -> None:
        self.path = path
        self.start = start

    def __iter__(self) -> Any:
        # The file is read into one buffer, used again for every chunk: each chunk is
        # then copied out once (a fresh buffer per read would be copied two or three
        # times, and every copy's pages faulted in).
        with self.path.open("rb", buffering=0) as f:
            f.seek(self.start)
            buf = bytearray(CHUNK)
            held = 0  # the start of an unfinished record, kept at the front
            while True:
                if held == len(buf):  # a record longer than the buffer
                    buf.extend(bytes(CHUNK))
                with memoryview(buf) as view:
                    got = f.readinto(view[held:])
                    end = held + got
                    if len(buf) > CHUNK and _first_line(buf, end) > _csv.MAX_LINE_BYTES:
                        # only a grown buffer can start with so long a line: the
                        # row-by-row reader refuses it, naming the line
                        raise GiveUp("a line longer than the row-by-row reader takes")
                    if not got:
                        data = bytes(view[:end])
                        if data.strip():
                            if not data.endswith(b"\n"):
                                data += b"\n"
                            yield data, f.tell()
                        return
                    cut = _boundary(buf, end)
                    if cut == 0:
                        held = end
                        continue
                    chunk = bytes(view[:cut])
                    rest = bytes(view[cut:end])
                buf[: len(rest)] = rest
                held = len(rest)
                yield chunk, f.tell() - held


def _ahead(
    chunks: Iterable[tuple[bytes, int]],
    work: Callable[[bytes], _T],
    threads: int = 3,
) -> Iterator[tuple[bytes, int, _T]]:
    """Each chunk with ``work(chunk)``, done ahead in ``threads`` threads.

    Checking a chunk is a string of short polars calls with Python in between: one
    thread keeps about one core of two busy. Chunks are worked on a few at a time
    (polars runs off the interpreter lock) and handed back in the file's order. At
    most ``threads`` chunks are in memory beyond the one handed back. Three threads
    rather than two keep both cores of a small machine busy while the main thread
    reads the next chunk and folds the last: 3.0 s against 3.2 s for the benchmark's
    3-million-row file (medians of 8), for 8 MiB more at the peak.
    """
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    def load(item: tuple[bytes, int]) -> tuple[bytes, int, _T]:
        chunk, done = item
        return chunk, done, work(chunk)

    source = iter(chunks)
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="stars-csv") as pool:
        pending: deque[Future[tuple[bytes, int, _T]]] = deque()
        for item in source:
            pending.append(pool.submit(load, item))
            if len(pending) >= threads:
                break
        while pending:
            current = pending.popleft().result()
            following = next(source, None)
            if following is not None:
                pending.append(pool.submit(load, following))
            yield current


class _State:
    """What is kept between chunks: each account's latest rows and its count of good rows.

    Each chunk comes reduced (its rows sorted, at most ``keep`` per account, and its
    count of rows per account, see `_reduce`). Reduced chunks wait in a buffer, which
    is folded into the kept rows once it holds about as many rows as they do: memory
    stays bounded, and the sorting work stays linear.
    """

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.tails: pl.DataFrame | None = None
        self.counts: list[pl.DataFrame] = []
        self.waiting: list[pl.DataFrame] = []
        self.waiting_rows = 0

    def add(self, good: pl.DataFrame) -> None:
        """Keep the good rows of a chunk (any order)."""
        if good.height:
            self.add_reduced(*_reduce(good, self.keep))

    def add_reduced(self, tails: pl.DataFrame, counts: pl.DataFrame) -> None:
        """Keep a chunk already reduced by `_reduce`."""
        if not tails.height:
            return
        self.counts.append(counts)
        self.waiting.append(tails)
        self.waiting_rows += tails.height
        if self.waiting_rows >= max(_FOLD_ROWS, self.tails.height if self.tails is not None else 0):
            self.fold()

    def fold(self) -> None:
        """Fold the waiting rows into each account's kept rows."""
        import polars as pl

        if not self.waiting:
            return
        parts = ([self.tails] if self.tails is not None else []) + self.waiting
        self.tails = _tail(pl.concat(parts, how="vertical"), self.keep)
        self.waiting = []
        self.waiting_rows = 0

    def over(self) -> list[int]:
        """The count of good rows of each account that had more than ``keep``."""
        import polars as pl

        if not self.counts:
            return []
        totals = pl.concat(self.counts).group_by("__id").agg(pl.col("len").sum())
        return totals.filter(pl.col("len") > self.keep)["len"].to_list()


def _tail(rows: pl.DataFrame, keep: int) -> pl.DataFrame:
    """Each account's latest ``keep`` rows (by time, then line), sorted by account.

    Only the sort keys are sorted, and the kept rows gathered: the rows are not copied
    whole. Eager: for frames of this size, planning a lazy query costs more than it
    saves. The times' text is kept as a categorical, which holds no chunk's buffers.
    """
    import polars as pl

    order = (
        rows.select("__id", "__inst", "__line")
        .with_row_index("__row")
        .sort("__id", "__inst", "__line")
        .group_by("__id", maintain_order=True)
        .tail(keep)
    )
    return rows[order["__row"]].with_columns(pl.col("raw:at").cast(pl.Categorical))


def _reduce(rows: pl.DataFrame, keep: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A chunk's good rows as `_State` keeps them: the latest per account, and the counts.

    The counts are of runs of one account (summed per account in `_State.over`): for
    an export that lists each account's rows together, far fewer than the rows.
    """
    import polars as pl

    runs = rows.get_column("__id").rle().struct.unnest().rename({"value": "__id"})
    if 4 * runs.height > rows.height:
        runs = rows.group_by("__id").len()
    return _tail(rows, keep), runs.select("__id", pl.col("len").cast(pl.UInt32))


#: Good rows waiting to be folded into the kept ones, at least (see `_State`).
_FOLD_ROWS: Final = 200_000


class FrameTails:
    """Each account's kept snapshots (built once), and what to say about the rest."""

    def __init__(
        self,
        snapshots: dict[str, list[Snapshot]],
        keep: int,
        over: Sequence[int],
        banded: bool = False,
    ) -> None:
        self._snapshots = snapshots
        self.keep = keep
        self.over = list(over)
        #: Every kept snapshot has its band: `stars._intake.scored` would change none.
        self.banded = banded

    def snapshots(self) -> dict[str, list[Snapshot]]:
        """Each account's kept snapshots, oldest first."""
        return self._snapshots

    def note(self) -> str | None:
        """What the report should say when some account had more rows than were kept."""
        return kept_note(self.keep, self.over)


def read(
    path: str,
    opts: Options,
    ids: frozenset[str],
    accounts_label: str,
    keep: int,
    progress: ProgressFactory,
    intake: Intake,
    lifecycle: Lifecycle,
) -> FrameTails:
    """Read a big snapshots file into ``intake`` (counts) and the kept snapshots.

    Raises:
        GiveUp: The file should be read row by row instead (nothing was counted yet
            when this is raised before the first chunk; the caller starts over anyway).
    """
    import polars as pl

    where = Path(path)
    with snapshot_table(where, opts.rename, "keep", opts.encoding, opts.delimiter) as table:
        columns = list(table.columns)
        delimiter = table.delimiter
        encoding = table.encoding
        intake.extra = table.extra
    if encoding not in ("utf-8", "utf_8"):
        raise GiveUp(f"encoding {encoding}")
    start, header_line = _header(where)
    kinds = _kinds()
    zone = opts.zone
    polars_zone = _polars_zone(zone)
    names = [f"_{i}" for i in range(len(columns))]
    used = {c: names[i] for i, c in enumerate(columns) if c is not None}
    state = _State(keep)
    size = os.path.getsize(where)
    bar = progress(f"reading {where.name}", size, "B")
    why_account = f"an account of {accounts_label}"
    id_series = pl.DataFrame(
        {"account": sorted(ids)}, schema={"account": pl.String}
    ).with_row_index("__id")
    index = {account: n for n, account in enumerate(id_series["account"].to_list())}
    numbers: dict[str, pl.DataType] = {"float": pl.Float64(), "int": pl.Int64()}
    schema = {
        n: numbers.get(kinds.get(c, ("float",))[0], pl.String()) if c is not None else pl.String()
        for n, c in zip(names, columns, strict=True)
    }

    def clean(chunk: bytes) -> _Reduced | None:
        # Line numbers count from the chunk's first line (0): the main thread adds
        # where the chunk starts (see `_Reduced`).
        typed = _typed_read(chunk, names, schema, delimiter)
        if typed is None:
            return None
        reduced = _fast(typed, used, kinds, polars_zone, id_series, index, keep)
        if reduced is None:
            if _blank(typed):  # skipped by the text path
                return None
            kept = _clean(typed, used, kinds, zone, polars_zone, id_series, index)
            if kept is None:
                return None
            good, zoned = kept
            reduced = _Reduced(*_reduce(good, keep), good.height, zoned)
        return reduced

    line = header_line + 1  # where the next chunk starts
    for chunk, done, kept in _ahead(_Chunker(where, start), clean):
        first = line
        if kept is not None:
            # a reduced chunk has no blank line and no quote: each line is one of its
            # rows, unless a carriage return might end a line alone
            line += kept.rows if b"\r" not in chunk else chunk.count(b"\n")
            intake.rows += kept.rows
            intake.zoned += kept.zoned
            tails = kept.tails.with_columns(pl.col("__line") + first)
            state.add_reduced(tails, kept.counts)
            if bar is not None:
                bar.update(done)
            continue
        line += chunk.count(b"\n")
        try:
            frame = pl.read_csv(
                io.BytesIO(chunk),
                has_header=False,
                new_columns=names,
                separator=delimiter,
                infer_schema=False,
                encoding="utf8",
                raise_if_empty=False,
            )
        except Exception as exc:  # polars' own errors: ragged rows, bad UTF-8, ...
            raise GiveUp(f"polars: {exc}") from None
        if frame.width != len(names):
            raise GiveUp("rows of another length")
        if b'"' in chunk:
            starts = _line_numbers(chunk, first, delimiter, len(names))
            lines = pl.Series("__line", starts, dtype=pl.Int64)
        else:
            if _ragged(chunk, delimiter, len(names)):
                raise GiveUp("rows of another length")
            lines = None
        frame = frame.with_row_index("__line", offset=first).with_columns(
            pl.col("__line").cast(pl.Int64)
        )
        # a blank record (every cell empty or spaces) is skipped, as the row-by-row reader
        # does; only rows whose first cell is blank can be, so the others are not looked at
        # (a test that copies no text: only white space, as strip_chars removes)
        first_blank = pl.col(names[0]).is_null() | pl.col(names[0]).str.contains(r"^\s*$")
        if frame.select(first_blank.any()).item():
            frame = frame.filter(
                pl.any_horizontal(
                    pl.col(n).str.strip_chars().str.len_bytes() > 0 for n in names
                ).fill_null(False)
            )
        if lines is not None:
            if lines.len() != frame.height:
                raise GiveUp("records span lines in a way polars reads differently")
            frame = frame.with_columns(lines)
        _chunk(
            frame,
            used,
            kinds,
            zone,
            polars_zone,
            id_series,
            why_account,
            state,
            intake,
            padding=_maybe_padded(chunk, delimiter),
            index=index,
        )
        if bar is not None:
            bar.update(done)
    if bar is not None:
        bar.update(size)
        bar.close()
    intake.encoding = encoding
    intake.delimiter = delimiter
    return _finish(id_series["account"].to_list(), state, used, kinds, zone, lifecycle)


def _chunk(
    frame: pl.DataFrame,
    used: Mapping[str, str],
    kinds: Mapping[str, tuple[str, Any]],
    zone: tzinfo,
    polars_zone: str,
    ids: pl.DataFrame,
    why_account: str,
    state: _State,
    intake: Intake,
    *,
    padding: bool = True,
    index: Mapping[str, int],
) -> None:
    """Check one chunk's cells (read as text), count what is rejected, keep the good rows.

    ``padding`` False says that no cell of the chunk starts or ends with a space or a tab
    (see `_maybe_padded`), so no column needs to be looked at for them.
    """
    import polars as pl

    intake.rows += frame.height
    checked = _check(frame, used, kinds, zone, polars_zone, ids, index, intake, padding=padding)
    stage = pl.col("__stage")
    if checked["__stage"].null_count() < checked.height:
        _reject(checked.filter(stage.is_not_null()), used, kinds, zone, why_account, intake)
        checked = checked.filter(stage.is_null())
    state.add(checked.select(_kept(used)))


class _Zoned:
    """The count `_times` keeps (times read in the zone), for a chunk not kept yet."""

    def __init__(self) -> None:
        self.zoned = 0


def _clean(
    frame: pl.DataFrame,
    used: Mapping[str, str],
    kinds: Mapping[str, tuple[str, Any]],
    zone: tzinfo,
    polars_zone: str,
    ids: pl.DataFrame,
    index: Mapping[str, int],
) -> tuple[pl.DataFrame, int] | None:
    """A chunk read by `_typed_read`: its kept rows and zoned times, if no row is rejected.

    Its number cells' text is not at hand to name in a rejection: ``None`` (nothing
    counted) when some row would be rejected, and the caller reads the chunk as text.
    Changes nothing outside, so that it can run in another thread.
    """
    counts = _Zoned()
    checked = _check(frame, used, kinds, zone, polars_zone, ids, index, counts, typed=True)
    if checked["__stage"].null_count() < checked.height:
        return None
    return checked.select(_kept(used)), counts.zoned


class _Reduced(NamedTuple):
    """A chunk checked in a worker thread, all of its rows good (see `_reduce`).

    ``tails`` number lines from the chunk's first (0).
    """

    tails: pl.DataFrame
    counts: pl.DataFrame
    rows: int
    zoned: int


#: The spellings of a flag the quick path reads (compared as they are: cheaper than
#: lowering every cell or hashing it). Any other cell, even one the row-by-row reader
#: takes, sends its chunk to the careful path.
_FLAG_SPELLINGS: Final = {
    True: ("true", "True", "TRUE", "t", "T", "yes", "Yes", "YES", "y", "Y", "1"),
    False: ("false", "False", "FALSE", "f", "F", "no", "No", "NO", "n", "N", "0"),
}


def _flag_read(cell: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """A flag column's values, and whether each cell is a spelling the quick path knows."""
    import polars as pl

    said = {
        value: pl.any_horizontal(cell == w for w in words)
        for value, words in _FLAG_SPELLINGS.items()
    }
    value = pl.when(said[True]).then(True).when(said[False]).then(False)
    return value, cell.is_null() | said[True] | said[False]


def _fast(
    typed: pl.DataFrame,
    used: Mapping[str, str],
    kinds: Mapping[str, tuple[str, Any]],
    polars_zone: str,
    ids: pl.DataFrame,
    index: Mapping[str, int],
    keep: int,
) -> _Reduced | None:
    """A chunk read by `_typed_read`, checked and reduced with few polars calls.

    For the usual chunk: every time of one ISO 8601 shape, every flag one of the
    common spellings, every account known, every number finite and in range. The
    checks are whole-column sums and bounds, not a verdict per row: ``None`` when
    some row is not plainly good (or a column is of a kind this path does not check),
    and `_clean` then decides row by row what the row-by-row reader would say.
    Changes nothing outside: it runs in a worker thread.
    """
    import polars as pl

    if "account" not in used or "at" not in used or not typed.height:
        return None
    at = pl.col(used["at"])
    sample = typed[used["at"]][0]
    shape = _shape(sample) if isinstance(sample, str) else None
    if shape is None:
        return None
    inst = _instants(at, shape, polars_zone)
    offset = shape[2]
    values: list[pl.Expr] = []
    checks: list[pl.Expr] = []
    numbers: list[str] = []
    for column, name in used.items():
        if column in ("account", "at"):
            continue
        kind, spec = kinds.get(column, ("float", SPECS[float]))
        cell = pl.col(name)
        if kind in ("float", "int"):
            value = cell
            numbers.append(column)
            if kind == "float":
                checks.append(cell.is_nan().any().alias(f"nan:{column}"))
        elif kind == "bool":
            value = cell == "true"  # the common spellings; others are looked at below
            plain = cell.is_null() | (cell == "true") | (cell == "false")
            checks.append((~plain).any().alias(f"word:{column}"))
        elif kind == "enum" and column == "band":
            known_bands = [str(k) for k in spec.by_value]
            value = cell.cast(pl.Enum([b.value for b in Band]), strict=False)
            checks.append((cell.is_not_null() & ~cell.is_in(known_bands)).any().alias(column))
        else:
            return None
        values.append(value.alias(column))
    try:
        frame = typed.with_columns(
            _run_ids(typed.get_column(used["account"]), ids, index),
            inst.alias("__inst"),
        )
    except Exception:  # a zone polars does not know, say: `_clean` decides
        return None
    found = frame.select(
        pl.col("__id").null_count().alias("no id"),
        pl.col("__inst").null_count().alias("no time"),
        *checks,
        *(pl.col(used[c]).min().alias(f"min:{c}") for c in numbers),
        *(pl.col(used[c]).max().alias(f"max:{c}") for c in numbers),
    ).row(0, named=True)
    fields = snapshot_csv()[1]
    for name, value in found.items():
        if name.startswith(("min:", "max:")):
            column = name[4:]
            if value is None:
                continue
            if not math.isfinite(value) or abs(value) > MAX_INT:  # inf, or a longer integer
                return None
            if column in fields and _refusal(column, value) is not None:
                return None
        elif name.startswith("word:") and value:  # other spellings of a flag
            column = name[5:]
            value, known = _flag_read(pl.col(used[column]))
            if not frame.select(known.all()).item():
                return None
            values = [value.alias(column) if e.meta.output_name() == column else e for e in values]
        elif value:  # a row without id or time, a NaN, an unknown band
            return None
    rows = frame.select("__id", "__inst", "__line", at.alias("raw:at"), *values)
    tails, counts = _reduce(rows, keep)
    return _Reduced(tails, counts, typed.height, 0 if offset else typed.height)


def _kept(used: Mapping[str, str]) -> list[pl.Expr]:
    """The kept columns of a checked chunk's good rows.

    Kept rows hold no text: strings would pin each chunk's whole text buffers in memory.
    """
    import polars as pl

    return [
        pl.col("__id"),
        pl.col("__inst"),
        pl.col("__line"),
        pl.col("raw:at").cast(pl.Categorical),
        *(
            pl.col(c).cast(pl.Enum([b.value for b in Band])) if c == "band" else pl.col(c)
            for c in used
            if c not in ("account", "at")
        ),
    ]


def _check(
    frame: pl.DataFrame,
    used: Mapping[str, str],
    kinds: Mapping[str, tuple[str, Any]],
    zone: tzinfo,
    polars_zone: str,
    ids: pl.DataFrame,
    index: Mapping[str, int],
    counts: Intake | _Zoned,
    *,
    padding: bool = False,
    typed: bool = False,
) -> pl.DataFrame:
    """Every cell's value and verdict, and each row's fate (``__stage``, null: kept).

    ``typed`` says that polars read the number columns as numbers already (see
    `_typed_read`). Only ``counts.zoned`` is changed.
    """
    import polars as pl

    if not padding:
        padded = dict.fromkeys(used.values(), False)
    else:
        padded = frame.select(
            pl.any_horizontal(
                pl.col(n).str.starts_with(" ").any(),
                pl.col(n).str.ends_with(" ").any(),
                pl.col(n).str.starts_with("\t").any(),
                pl.col(n).str.ends_with("\t").any(),
            ).alias(n)
            for n in used.values()
        ).row(0, named=True)
    # a column is copied without its surrounding spaces only when some cell has them
    raw = {c: pl.col(n).str.strip_chars() if padded[n] else pl.col(n) for c, n in used.items()}
    present = {c: e.is_not_null() & (e.str.len_bytes() > 0) for c, e in raw.items()}
    values: dict[str, pl.Expr] = {}
    bad: dict[str, pl.Expr] = {}
    for column, expr in raw.items():
        kind, spec = kinds.get(column, ("float", SPECS[float]))
        if typed and kind in ("float", "int"):
            # read as numbers: what polars refused made it give up on the chunk, and it
            # takes "inf", "nan" and longer whole numbers, refused here
            ok = expr.is_finite() if kind == "float" else expr.abs() <= MAX_INT
            values[column] = expr
            bad[column] = ~ok.fill_null(True)
            continue
        # polars reads numbers as the row-by-row reader does, except that it also takes
        # "inf" and "nan", which are refused here as not finite
        if kind == "float":
            number = expr.cast(pl.Float64, strict=False)
            values[column] = number
            bad[column] = present[column] & ~number.is_finite().fill_null(False)
        elif kind == "int":
            number = expr.cast(pl.Int64, strict=False)
            ok = number.is_not_null() & (number.abs() <= MAX_INT)
            values[column] = pl.when(ok).then(number)
            bad[column] = present[column] & ~ok
        elif kind == "bool":
            word = expr.str.to_lowercase()
            truth = (
                pl.when(word.is_in(sorted(spec._TRUE)))
                .then(True)
                .when(word.is_in(sorted(spec._FALSE)))
                .then(False)
            )
            values[column] = truth
            bad[column] = present[column] & truth.is_null()
        elif kind == "enum":
            known = [str(k) for k in spec.by_value]
            values[column] = pl.when(expr.is_in(known)).then(expr)
            bad[column] = present[column] & ~expr.is_in(known)
        elif kind == "time":
            values[column] = expr
            bad[column] = pl.lit(False)
        else:
            values[column] = expr
            bad[column] = pl.lit(False)
    # a flag column holds a few distinct texts: each is read once, by the row-by-row
    # reader's own rule, and the column is mapped (cheaper than lowering every cell)
    flags = [c for c in raw if kinds.get(c, ("float",))[0] == "bool"]
    distinct = (
        frame.select(raw[c].unique().implode().alias(c) for c in flags).row(0, named=True)
        if flags
        else {}
    )
    for column, texts in distinct.items():
        if len(texts) > _FEW:
            continue
        readings = {text: _flag(kinds[column][1], text) for text in texts if text is not None}
        if readings:
            mapped = raw[column].replace_strict(readings, default=None, return_dtype=pl.Boolean)
            values[column] = mapped
            bad[column] = present[column] & mapped.is_null()
    # lazily, so that polars computes each cast once for the value and the verdict
    checked = (
        frame.lazy()
        .select(
            "__line",
            *(pl.col(n).alias(f"raw:{c}") for c, n in used.items()),
            *(v.alias(c) for c, v in values.items()),
            *(b.alias(f"bad:{c}") for c, b in bad.items()),
        )
        .collect()
        .rechunk()
    )
    checked = _times(checked, zone, polars_zone, counts)
    # Each row's fate, in the row-by-row reader's order: cells that do not parse, then no
    # account id, then no time, then a value a Snapshot refuses, then an unknown account.
    bad_cell = pl.any_horizontal(f"bad:{c}" for c in used)
    account = pl.col("account")
    checked = checked.with_columns(
        pl.when(bad_cell)
        .then(pl.lit("parse"))
        .when(account.is_null() | (account == ""))
        .then(pl.lit("account"))
        .when(pl.col("__inst").is_null())
        .then(pl.lit("at"))
        .alias("__stage"),
    )
    checked = checked.with_columns(_run_ids(checked.get_column("account"), ids, index))
    checked = _ranges(checked, used, kinds)
    stage = pl.col("__stage")
    checked = checked.with_columns(
        pl.when(stage.is_null() & pl.col("__id").is_null())
        .then(pl.lit("unknown"))
        .otherwise(stage)
        .alias("__stage")
    )
    return checked


def _typed_read(
    chunk: bytes,
    names: Sequence[str],
    schema: Mapping[str, pl.DataType],
    delimiter: str,
) -> pl.DataFrame | None:
    """A chunk with its number columns read as numbers, when that can stand for the text.

    Only for a chunk without quotes or padded cells (the text path deals with them),
    and when polars refuses none of its numbers: polars then took only numbers the
    row-by-row reader takes too, with the same values (or "inf", "nan" and longer whole
    numbers, which `_check` refuses). ``None``: read the chunk as text. A blank record
    is a row of nulls here (see `_blank`). Lines are numbered from the chunk's first (0).
    """
    import polars as pl

    if b'"' in chunk or _maybe_padded(chunk, delimiter):
        return None
    try:
        frame = pl.read_csv(
            chunk,
            has_header=False,
            schema=dict(schema),
            separator=delimiter,
            encoding="utf8",
            raise_if_empty=False,
        )
    except Exception:  # a cell that is not a number, a ragged row, ...: the text path says
        return None
    if frame.width != len(names) or not frame.height:
        return None
    # Polars refuses a record with too many cells and pads one with too few, giving a
    # row for every line: the delimiters then add up to width - 1 per row only when no
    # record is short. One count of the chunk settles most chunks (see `_ragged`).
    full = chunk.count(delimiter.encode()) == (len(names) - 1) * frame.height
    if not full and _ragged(chunk, delimiter, len(names)):
        return None
    return frame.with_row_index("__line").with_columns(pl.col("__line").cast(pl.Int64))


def _blank(typed: pl.DataFrame) -> bool:
    """Whether a chunk read by `_typed_read` has a blank record (a row of nulls)."""
    import polars as pl

    return bool(typed.select(pl.all_horizontal(pl.exclude("__line").is_null()).any()).item())


def _flag(spec: Any, text: str) -> bool | None:
    """A flag cell as the row-by-row reader reads it (``None``: refused)."""
    try:
        return bool(spec.parse_cell(text))
    except CellError:
        return None


#: At most this many distinct texts in a chunk's column are read one by one in Python.
_FEW: Final = 1_000


def _run_ids(accounts: pl.Series, ids: pl.DataFrame, index: Mapping[str, int]) -> pl.Series:
    """``__id``: each row's account number in ``ids`` (null for an unknown account).

    Exports usually list an account's rows together: each run of one account is looked
    up once in ``index`` (the same numbers as ``ids``). When runs are short (a file
    sorted by date, say), the column is joined with ``ids`` instead.
    """
    import polars as pl

    runs = accounts.rle_id()
    if accounts.len() and 4 * (int(runs[-1]) + 1) > accounts.len():
        frame = accounts.alias("account").to_frame()
        return frame.join(ids, on="account", how="left", maintain_order="left")["__id"]
    names = accounts.filter(runs.is_first_distinct()).to_list()
    numbers = pl.Series("__id", [index.get(n) for n in names], dtype=pl.UInt32)
    return numbers.gather(runs)


def _reject(
    rows: pl.DataFrame,
    used: Mapping[str, str],
    kinds: Mapping[str, tuple[str, Any]],
    zone: tzinfo,
    why_account: str,
    intake: Intake,
) -> None:
    """Count the rejected rows of a chunk, by the first reason each one fails."""
    import polars as pl

    stage = pl.col("__stage")
    parse = rows.filter(stage == "parse")
    if parse.height:
        _count_parse(parse, used, kinds, zone, intake)
    _count(intake, rows.filter(stage == "account"), "account", "raw:account", "an account id")
    _count(intake, rows.filter(stage == "at"), "at", "raw:at", "a date-time")
    refused = rows.filter(stage.str.starts_with("range:"))
    if refused.height:
        intake.rejected_rows += refused.height
        parts = []
        for (name,), these in refused.group_by("__stage", maintain_order=True):
            field = str(name)[6:]
            parts.append(
                these.select(
                    "__line",
                    pl.col(f"raw:{field}").alias("value"),
                    pl.col("__why").alias("why"),
                    pl.lit(field).alias("column"),
                )
            )
        _add_causes(intake, pl.concat(parts).sort("__line"), count_rows=False)
    _count(intake, rows.filter(stage == "unknown"), "account", "account", why_account)


#: ISO 8601 shapes polars reads directly: (pattern, polars format, has an offset).
_SHAPES: Final = (
    (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d", False),
    (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", "%Y-%m-%dT%H:%M", False),
    (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "%Y-%m-%d %H:%M", False),
    (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", "%Y-%m-%dT%H:%M:%S", False),
    (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "%Y-%m-%d %H:%M:%S", False),
    (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}", "%Y-%m-%dT%H:%M:%S%:z", True),
    (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}", "%Y-%m-%d %H:%M:%S%:z", True),
    (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "%Y-%m-%dT%H:%M:%S%#z", True),
)


def _shape(sample: str) -> tuple[str, int, bool] | None:
    """The polars format, text length and offset-ness of a sample time, if polars reads it."""
    import re

    for pattern, fmt, offset in _SHAPES:
        if re.fullmatch(pattern, sample):
            return fmt, len(sample.encode()), offset
    return None


def _instants(text: pl.Expr, shape: tuple[str, int, bool], polars_zone: str) -> pl.Expr:
    """Texts of one ISO 8601 shape (see `_shape`) as instants in UTC; null for the others.

    A time without an offset is read in the zone. Only texts of the sample's length are
    read: polars would also take some shorter ones the row-by-row reader refuses.
    """
    import polars as pl

    fmt, length, offset = shape
    same = pl.when(text.str.len_bytes() == length).then(text)
    if offset:
        inst = same.str.to_datetime(fmt, strict=False, time_zone="UTC")
    else:
        inst = (
            same.str.to_datetime(fmt, strict=False)
            .dt.replace_time_zone(polars_zone, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC")
        )
    return inst.dt.cast_time_unit("us")


def _times(
    checked: pl.DataFrame, zone: tzinfo, polars_zone: str, intake: Intake | _Zoned
) -> pl.DataFrame:
    """``__inst``: each ``at`` as an instant (UTC), null when not a date-time; counts zoned.

    Polars reads the texts shaped like the first one (same ISO 8601 form, same length,
    so nothing the row-by-row reader would refuse); Python's ISO 8601 reader decides
    about every other text, once per distinct text.
    """
    import polars as pl

    text = pl.col("at")
    sample = checked.select(text.filter(text.is_not_null() & (text != "")).first()).item()
    shape = _shape(sample) if isinstance(sample, str) else None
    zoned = 0
    if shape is None:
        checked = checked.with_columns(pl.lit(None, pl.Datetime("us", "UTC")).alias("__inst"))
    else:
        offset = shape[2]
        try:
            checked = checked.with_columns(_instants(text, shape, polars_zone).alias("__inst"))
        except Exception as exc:  # a zone polars does not know, say
            raise GiveUp(f"times: {exc}") from None
        if not offset:
            zoned = int(checked["__inst"].is_not_null().sum())
    missing = checked.filter(text.is_not_null() & (text != "") & pl.col("__inst").is_null())
    if missing.height:
        found: dict[str, datetime] = {}
        naive: list[str] = []
        for value in missing["at"].unique().to_list():
            parsed = _csv.parse_time(value, zone)
            if parsed is not None:
                found[value] = parsed[0].astimezone(UTC)
                if parsed[1]:
                    naive.append(value)
        if found:
            lookup = pl.DataFrame(
                {
                    "at": list(found),
                    "__fallback": pl.Series(list(found.values()), dtype=pl.Datetime("us", "UTC")),
                }
            )
            checked = (
                checked.join(lookup, on="at", how="left", maintain_order="left")
                .with_columns(pl.coalesce("__inst", "__fallback").alias("__inst"))
                .drop("__fallback")
            )
            zoned += int(missing["at"].is_in(naive).sum())
    intake.zoned += zoned
    if not checked["__inst"].null_count():  # every time was read: none is bad
        return checked.with_columns(pl.lit(False).alias("bad:at"))
    bad_time = (
        pl.col("raw:at").is_not_null()
        & (pl.col("raw:at").str.strip_chars() != "")
        & pl.col("__inst").is_null()
    )
    return checked.with_columns(bad_time.alias("bad:at"))


def _count_parse(
    rows: pl.DataFrame,
    used: Mapping[str, str],
    kinds: Mapping[str, tuple[str, Any]],
    zone: tzinfo,
    intake: Intake,
) -> None:
    """Count the cells that do not parse, by column and what the reader expects."""
    import polars as pl

    intake.rejected_rows += rows.height
    parts = []
    for column in used:
        cells = rows.filter(pl.col(f"bad:{column}")).select(
            "__line", pl.col(f"raw:{column}").alias("value")
        )
        if not cells.height:
            continue
        kind, spec = kinds.get(column, ("float", SPECS[float]))
        if kind == "time":
            why = (
                ANY_TIME
                if zone is not None
                else DateTimeSpec.expected  # pragma: no cover - the command has a zone
            )
            cells = cells.with_columns(pl.lit(why).alias("why"))
        else:
            texts = cells["value"].str.strip_chars().unique().head(10_000).to_list()
            whys = {t: _why(spec, t) for t in texts}
            default = next(iter(whys.values()))
            cells = cells.with_columns(
                pl.col("value")
                .str.strip_chars()
                .replace_strict(whys, default=default, return_dtype=pl.String)
                .alias("why")
            )
        parts.append(cells.with_columns(pl.lit(column).alias("column")))
    if parts:
        _add_causes(intake, pl.concat(parts).sort("__line"), count_rows=False)


def _count(intake: Intake, rows: pl.DataFrame, column: str, value: str, why: str) -> None:
    """Count rows rejected for one reason."""
    import polars as pl

    if not rows.height:
        return
    intake.rejected_rows += rows.height
    cells = rows.select(
        "__line",
        pl.col(value).fill_null("").alias("value"),
        pl.lit(why).alias("why"),
        pl.lit(column).alias("column"),
    )
    _add_causes(intake, cells, count_rows=False)


def _add_causes(intake: Intake, cells: pl.DataFrame, *, count_rows: bool) -> None:
    """Fold rejected cells (``__line``, column, value, why) into the intake's causes."""
    import polars as pl

    groups = cells.group_by("column", "why", maintain_order=True).agg(
        pl.len().alias("rows"),
        pl.col("__line").head(5).alias("lines"),
        pl.col("value").first().alias("value"),
    )
    for column, why, rows, lines, value in groups.iter_rows():
        intake.add_cause(column, why, rows, lines, value or "")
    if intake.detail:
        for line, column, value, why in cells.select(
            "__line", "column", "value", "why"
        ).iter_rows():
            intake.rejected.append(RejectedRow(line, column, value or "", why))
    if count_rows:  # pragma: no cover - callers count rows themselves
        intake.rejected_rows += cells["__line"].n_unique()


def _ranges(
    rows: pl.DataFrame,
    used: Mapping[str, str],
    kinds: Mapping[str, tuple[str, Any]],
) -> pl.DataFrame:
    """Mark (``__stage`` = ``range:<field>``, ``__why``) the rows a `Snapshot` would refuse.

    The field is the first one refused in the order `Snapshot` checks them. Only a
    column whose smallest or largest value is refused is looked at value by value.
    """
    import polars as pl

    numeric = [
        f for f in snapshot_csv()[1] if f in used and f != "at" and kinds[f][0] in ("float", "int")
    ]
    ok = pl.col("__stage").is_null()
    if not numeric or not rows.height:
        return rows.with_columns(pl.lit(None, pl.String).alias("__why"))
    bounds = rows.select(
        *(pl.col(f).filter(ok).min().alias(f"min:{f}") for f in numeric),
        *(pl.col(f).filter(ok).max().alias(f"max:{f}") for f in numeric),
    ).row(0, named=True)
    refusals: list[tuple[str, dict[Any, str]]] = []
    for field in numeric:
        lo, hi = bounds[f"min:{field}"], bounds[f"max:{field}"]
        if lo is None or (_refusal(field, lo) is None and _refusal(field, hi) is None):
            continue
        found = {}
        for value in rows.filter(ok)[field].drop_nulls().unique().to_list():
            refused = _refusal(field, value)
            if refused is not None:
                found[value] = refused
        refusals.append((field, found))
    if not refusals:
        return rows.with_columns(pl.lit(None, pl.String).alias("__why"))
    stage = pl.col("__stage")
    why = pl.lit(None, pl.String)
    for field, found in reversed(refusals):  # the first refused field wins
        hit = pl.col(field).is_in(list(found))
        stage = pl.when(ok & hit).then(pl.lit(f"range:{field}")).otherwise(stage)
        why = (
            pl.when(ok & hit)
            .then(pl.col(field).replace_strict(found, default=None, return_dtype=pl.String))
            .otherwise(why)
        )
    return rows.with_columns(stage.alias("__stage"), why.alias("__why"))


def _refusal(field: str, value: Any) -> str | None:
    """What `Snapshot` expects when it refuses ``value`` for ``field`` (``None``: accepted)."""
    try:
        Snapshot(at=_AT, **{field: value})
    except InvalidValue as err:
        return err.expected
    return None


def _finish(
    names: Sequence[str],
    state: _State,
    used: Mapping[str, str],
    kinds: Mapping[str, tuple[str, Any]],
    zone: tzinfo,
    lifecycle: Lifecycle,
) -> FrameTails:
    """Score the kept rows with the default scorecard and turn them into snapshots."""
    state.fold()
    tails = state.tails
    over = state.over()
    if tails is None or tails.height == 0:
        return FrameTails({}, state.keep, over)
    tails = _score(tails, lifecycle)
    import attrs
    import polars as pl

    # the Snapshot fields the file has, as columns; the others keep their defaults
    fields = [f for f in attrs.fields(Snapshot) if f.name not in ("at", "metrics")]
    columns = []
    for f in fields:
        if f.name in tails.columns:
            # an empty flag cell stays None (not known), as the row-by-row reader reads
            # it: the account then carries its last known value forward
            column = pl.col(f.name)
            if kinds[f.name][0] == "enum":
                column = column.cast(pl.String)
            columns.append(column)
    metrics = [c for c in tails.columns if c.startswith("metrics.")]
    frame = tails.select("__id", pl.col("raw:at").cast(pl.String), *columns, *metrics)
    times: dict[str, datetime] = {}
    for text in frame["raw:at"].unique().to_list():
        parsed = _csv.parse_time(text, zone)
        if parsed is None:  # pragma: no cover - every kept row's time was read
            raise GiveUp(f"time {text!r}")
        times[text] = parsed[0]
    snaps = _unchecked_snapshots(frame, [(f.name, f.default) for f in fields], times)
    # the kept rows come sorted by account (see `_tail`): each account is one run
    runs = frame.get_column("__id").rle().struct.unnest()
    out: dict[str, list[Snapshot]] = {}
    end = 0
    for number, length in zip(runs["value"].to_list(), runs["len"].to_list(), strict=True):
        out[names[number]] = snaps[end : end + length]
        end += length
    banded = "band" in frame.columns and not frame.get_column("band").null_count()
    return FrameTails(out, state.keep, over, banded=banded)


def _unchecked_snapshots(
    frame: pl.DataFrame, defaults: Sequence[tuple[str, Any]], times: Mapping[str, datetime]
) -> list[Snapshot]:
    """A `Snapshot` for each row of ``frame``, built without the validators.

    Every value of a kept row has passed the same rules in polars (parsed as the
    row-by-row reader parses, then the ranges `Snapshot` checks, see `_ranges`), so
    the per-field validators would only repeat them: they cost most of the time
    turning kept rows into snapshots. The slots' own descriptors write past the frozen
    ``__setattr__``, as `stars.account` does for its records, one column at a time
    (a loop in C per column, rather than one in Python per cell). ``frame``'s columns
    are ``__id``, ``raw:at`` (a key of ``times``), then fields and ``metrics.*``; a
    field not among them gets its default from ``defaults``.
    """
    from collections import deque
    from itertools import repeat

    slots = Snapshot.__dict__
    columns = frame.columns
    n = frame.height
    new = object.__new__
    snaps: list[Snapshot] = [new(Snapshot) for _ in range(n)]

    def fill(name: str, values: Iterable[Any]) -> None:
        deque(map(slots[name].__set__, snaps, values), maxlen=0)

    fill("at", map(times.__getitem__, frame["raw:at"].to_list()))
    for name in columns:
        if name in slots and name not in ("at", "band", "metrics"):
            fill(name, frame[name].to_list())
    for name, value in defaults:
        if name not in columns:
            fill(name, repeat(value, n))
    if "band" in columns:
        bands: dict[str | None, Band | None] = {b.value: b for b in Band}
        bands[None] = None
        fill("band", map(bands.__getitem__, frame["band"].to_list()))
    metrics = [(name[8:], frame[name].to_list()) for name in columns if name.startswith("metrics.")]
    if metrics:
        keys = [key for key, _ in metrics]
        rows = zip(*(values for _, values in metrics), strict=True)
        fill(
            "metrics",
            ({key: x for key, x in zip(keys, row, strict=True) if x is not None} for row in rows),
        )
    else:
        fill("metrics", ({} for _ in range(n)))
    return snaps


def _score(tails: pl.DataFrame, lifecycle: Lifecycle) -> pl.DataFrame:
    """Fill in health and band as `Lifecycle.observe` would, for the default scorecard."""
    import polars as pl

    if lifecycle.scorecards is not None:  # per-stage cards: scored later, one by one
        return tails
    from stars.frames import score
    from stars.health import default_scorecard

    card = default_scorecard()
    present = [n if n in tails.columns else f"metrics.{n}" for n in card.names]
    present = [c for c in present if c in tails.columns]
    health = pl.col("health") if "health" in tails.columns else pl.lit(None, pl.Float64)
    band = pl.col("band") if "band" in tails.columns else pl.lit(None, pl.String)
    signal = (
        pl.any_horizontal(pl.col(c).is_not_null() for c in present) if present else pl.lit(False)
    )
    tails = tails.with_row_index("__i")
    needs = tails.filter(health.is_null() & band.is_null() & signal)
    if not needs.height:
        return tails.drop("__i")
    measures = needs.select(
        "__i",
        *(
            (
                pl.col(n)
                if n in needs.columns
                else pl.col(f"metrics.{n}")
                if f"metrics.{n}" in needs.columns
                else pl.lit(None)
            )
            .cast(pl.Float64)
            .alias(f"m:{n}")
            for n in card.names
        ),
    )
    renamed = measures.rename({f"m:{n}": n for n in card.names})
    got = score(renamed, card).select(
        "__i", pl.col("health").alias("__h"), pl.col("band").alias("__b")
    )
    tails = tails.join(got, on="__i", how="left", maintain_order="left")  # still by account
    tails = tails.with_columns(
        pl.coalesce(health, "__h").alias("health"), pl.coalesce(band, "__b").alias("band")
    )
    return tails.drop("__i", "__h", "__b")


# --------------------------------------------------------------------------- accounts
def _unplain(data: bytes, delimiter: str) -> bool:
    """Whether ``data`` may hold a cell the row-by-row reader reads otherwise than polars.

    That is: a quote, a NUL, a lone carriage return (the csv module ends a row there), a
    cell padded with spaces or tabs, or any other character `str.strip` takes for white
    space (`_ASCII_SPACE`, `_OTHER_SPACE`). Each is looked for in the bytes, which costs
    little; the UTF-8 ones only when the data is not all ASCII.
    """
    if b'"' in data or b"\x00" in data or _maybe_padded(data, delimiter):
        return True
    if data.count(b"\r") != data.count(b"\r\n"):
        return True
    spaces = _ASCII_SPACE if data.isascii() else (*_ASCII_SPACE, *_OTHER_SPACE)
    return any(space in data for space in spaces)


#: Characters that Python's ``str.strip`` takes for white space besides the space, the
#: tab and the line breaks: in ASCII the vertical tab, form feed and file/group/record/
#: unit separators; in UTF-8 the next line, no-break, Ogham, en quad to hair, line and
#: paragraph separators, narrow no-break, medium mathematical and ideographic spaces.
#: A file holding any of them is read row by row, which strips cells as `str.strip` does.
_ASCII_SPACE: Final = tuple(bytes([b]) for b in (0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x1F))
_OTHER_SPACE: Final = tuple(
    chr(c).encode()
    for c in (0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)
)


#: The biggest accounts file `read_accounts` reads whole (about 1.5 million accounts);
#: a bigger one is read row by row, a line at a time.
MAX_ACCOUNTS_BYTES: Final = 64 * 1024 * 1024


def read_accounts(
    path: Path,
    lifecycle: Lifecycle,
    *,
    rename: Mapping[str, str] | None,
    encoding: str | None,
    delimiter: str | None,
) -> CsvImport[Account]:
    """A plainly clean accounts file, read with polars: what `read_accounts_csv` gives.

    Plainly clean: UTF-8, no quotes, no cell with white space at either end, every
    record as wide as the header, the columns ``id``, ``name``, ``owner`` and ``stage``
    only (others are kept aside, as the row-by-row reader keeps them), every id given
    once, every stage one the lifecycle knows. The stages are read once per distinct
    text, and each account is put together from its parts with the defaults and the
    stage rule of the row-by-row reader's quick builder (`stars._rows.DEFAULT_NAME`,
    `stars._rows.plain_stage`), so the accounts, their lines and the counts are the same.

    Raises:
        GiveUp: The file is too big to read whole (polars is not even loaded), polars
            is not installed, or the file is not plainly clean (the row-by-row reader
            then says why, row by row); the header's own errors are raised as the
            row-by-row reader raises them.
    """
    if path.stat().st_size > MAX_ACCOUNTS_BYTES:
        raise GiveUp("a file too big to read whole")
    if not available():
        raise GiveUp("polars is not installed")
    import polars as pl

    from stars._accounts import _NO_TAGS, _account_unchecked

    with _csv.open_table(
        path,
        ACCOUNT_CSV,
        required=("id",),
        rename=rename,
        extra="keep",
        encoding=encoding,
        delimiter=delimiter,
    ) as table:
        columns = list(table.columns)
        sep = table.delimiter
        found = (table.name, table.encoding, table.extra)
    if found[1] not in ("utf-8", "utf_8"):
        raise GiveUp(f"encoding {found[1]}")
    used = {c: i for i, c in enumerate(columns) if c is not None}
    if not set(used) <= {"id", "name", "owner", "stage"}:
        raise GiveUp("columns the quick path does not read")
    start, header_line = _header(path)
    with path.open("rb") as f:
        f.seek(start)
        data = f.read()
    if len(data) > _csv.MAX_LINE_BYTES and max(map(len, data.split(b"\n"))) > _csv.MAX_LINE_BYTES:
        raise GiveUp("a line longer than the row-by-row reader takes")
    if not data.strip() or _unplain(data, sep):
        raise GiveUp("quotes, padding, other white space or control characters")
    names = [f"_{i}" for i in range(len(columns))]
    try:
        frame = pl.read_csv(
            data,
            has_header=False,
            new_columns=names,
            separator=sep,
            infer_schema=False,
            encoding="utf8",
        )
    except Exception as exc:  # polars' own errors: a long record, bad UTF-8, ...
        raise GiveUp(f"polars: {exc}") from None
    if frame.width != len(names) or data.count(sep.encode()) != (len(names) - 1) * frame.height:
        raise GiveUp("rows of another length or blank lines")
    ident = pl.col(names[used["id"]])
    if frame.select((ident.is_null() | ident.is_duplicated()).any()).item():
        raise GiveUp("an empty or repeated id")
    n = frame.height
    ids = frame[names[used["id"]]].to_list()
    given = {c: frame[names[used[c]]].to_list() for c in ("name", "owner", "stage") if c in used}
    titles = [DEFAULT_NAME if x is None else x for x in given.get("name", [None] * n)]
    owners = given.get("owner", [None] * n)
    stages: dict[str | None, str] = {None: DEFAULT_STAGE}
    for text in set(given.get("stage", ())) - {None}:
        try:
            stages[text] = stage_of(text, lifecycle)
        except StarsError:
            raise GiveUp("a stage the lifecycle does not know") from None
    if not all(plain_stage(stage) for stage in stages.values()):
        raise GiveUp("a stage the quick builder does not take")
    stage_of_row = map(stages.__getitem__, given.get("stage", [None] * n))
    rows = zip(ids, titles, owners, stage_of_row, strict=True)
    accounts = [
        _account_unchecked(ident, name, owner, _NO_TAGS, None, stage, (), 0)
        for ident, name, owner, stage in rows
    ]
    first = header_line + 1
    return CsvImport(
        accounts,
        [],
        file=found[0],
        rows=frame.height,
        lines=list(range(first, first + frame.height)),
        extra_columns=found[2],
        encoding=found[1],
        delimiter=sep,
    )
