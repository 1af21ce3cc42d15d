"""CSV text as CRM exports write it: encodings, byte-order marks, delimiters, header names.

Private to `stars`: `stars.io` reads its CSV files through `open_table`, which
turns a path or a text stream into a header (mapped to the columns a kind of file
knows) and numbered rows. Nothing here knows what a cell means.

- Bytes are decoded line by line, so a line that is not in the file's encoding is
  named with its number, and the error guesses the encoding it is in.
- Every line is read at most `MAX_LINE_BYTES` at a time, whatever the source (UTF-8 or
  other bytes, UTF-16 or UTF-32, a text stream, where the bound is in characters): a
  longer line is refused with its number and its first characters, never read whole.
- A UTF-8 or UTF-16 byte-order mark is honoured; NUL bytes mean a binary file.
- The delimiter (comma, semicolon, tab or bar) is the one the header uses most.
- Header names match case- and space-insensitively, aliases (``account_id``) are
  accepted, a rename map is applied first, and unknown columns are kept aside
  (or refused, when the caller asks).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import IO, Final

from stars.errors import InvalidValue, SchemaError

Path = str | os.PathLike[str]

#: The delimiters a header is checked for, in order of preference on a tie.
DELIMITERS: Final = (",", ";", "\t", "|")

#: How many bytes are looked at to tell a binary file from text.
_SNIFF: Final = 8192

#: A row the csv module refused is yielded with this first cell (then the reason).
CSV_ERROR: Final = "\x00csv-error"

_UTF16_BOMS: Final = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

#: Encodings tried, in order, to name the one a non-UTF-8 line is probably in.
_GUESSES: Final = (("cp1252", "Windows-1252 (Western European)"), ("latin-1", "Latin-1"))


def fold(name: str) -> str:
    """A header name as it is matched: lower case, spaces and hyphens as underscores."""
    return "_".join(name.strip().replace("-", " ").split()).casefold()


class Table:
    """One CSV file opened for reading: what was detected, the header, and its rows.

    Attributes:
        name: The file's name, for messages.
        encoding: The encoding the bytes were read with (``None`` for a text stream).
        delimiter: The delimiter found in the header.
        columns: For each header cell, the known column it is (``None``: kept aside).
        extra: The header names kept aside, in file order.
        rows: ``(line, cells)`` for each data row; blank rows are skipped.
    """

    __slots__ = ("_source", "columns", "delimiter", "encoding", "extra", "name", "rows")

    def __init__(
        self,
        name: str,
        encoding: str | None,
        delimiter: str,
        columns: list[str | None],
        extra: tuple[str, ...],
        rows: Iterator[tuple[int, list[str]]],
        source: IO[bytes] | IO[str] | None,
    ) -> None:
        self.name = name
        self.encoding = encoding
        self.delimiter = delimiter
        self.columns = columns
        self.extra = extra
        self.rows = rows
        self._source = source

    def position(self) -> int | None:
        """How many bytes of the file have been read so far (``None`` for a text stream)."""
        source = self._source
        if source is None or isinstance(source, io.TextIOBase):
            return None
        try:
            return source.tell()
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        """Close the file if this table opened it."""
        if self._source is not None:
            self._source.close()
            self._source = None

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_encoding(encoding: str | None) -> str | None:
    """The codec's canonical name, or `InvalidValue` for a name Python does not know."""
    if encoding is None:
        return None
    try:
        return codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise InvalidValue(
            "encoding", encoding, "an encoding Python knows, such as utf-8, cp1252 or latin-1"
        ) from None


def _guess(raw: bytes) -> str:
    for codec, label in _GUESSES:
        try:
            raw.decode(codec)
        except UnicodeDecodeError:
            continue
        return f"it looks like {label}: read it with encoding {codec!r}"
    return "read it with the encoding it was written in"  # pragma: no cover - latin-1 decodes all


def _label(encoding: str) -> str:
    return encoding.upper() if encoding.lower().startswith("utf") else encoding


#: The longest line a CSV file may have, in bytes (in characters for a text stream): a
#: longer one is refused, never read whole.
MAX_LINE_BYTES: Final = 16 * 1024 * 1024

#: How much of an over-long line its error quotes (characters).
_PREFIX: Final = 40


def _too_long(name: str, number: int, start: str, unit: str) -> SchemaError:
    shown = start[:_PREFIX].rstrip("\r\n") + "..."
    return SchemaError(
        f"{name} line {number}",
        shown,
        f"CSV lines of at most {MAX_LINE_BYTES:,} {unit} (this one is longer)",
    )


def _lines(binary: IO[bytes], name: str, first: int) -> Iterator[bytes]:
    """The raw lines of a byte stream, each read at most `MAX_LINE_BYTES` (plus one) at a time."""
    number = first
    while True:
        raw = binary.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        if len(raw) > MAX_LINE_BYTES:
            start = raw[: _PREFIX * 4].decode("utf-8", "replace")
            raise _too_long(name, number, start, "bytes")
        yield raw
        number += 1


def _text_lines(stream: IO[str] | Iterable[str], name: str, first: int = 1) -> Iterator[str]:
    """The lines of a text stream, each read at most `MAX_LINE_BYTES` characters (plus one).

    A stream without ``readline`` (a list of lines, say) is already in memory: its lines
    are only checked.
    """
    number = first
    readline = getattr(stream, "readline", None)
    if readline is None:
        for line in stream:
            if len(line) > MAX_LINE_BYTES:
                raise _too_long(name, number, line, "characters")
            yield line
            number += 1
        return
    while True:
        line = readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES:
            raise _too_long(name, number, line, "characters")
        yield line
        number += 1


def _wide_lines(text: io.TextIOWrapper, encoding: str, name: str) -> Iterator[str]:
    """The lines of a UTF-16 or UTF-32 file, each read at most `MAX_LINE_BYTES` bytes.

    Each character takes at least ``width`` bytes, so reading ``MAX_LINE_BYTES // width``
    characters (plus one) is enough to know a line is too long; a line that might hold
    characters outside the BMP (four bytes in UTF-16) is measured exactly.
    """
    width = 4 if "32" in encoding else 2
    most = MAX_LINE_BYTES // width
    number = 1
    try:
        while True:
            line = text.readline(most + 1)
            if not line:
                return
            if len(line) > most or (
                width == 2
                and len(line) * 4 > MAX_LINE_BYTES
                and len(line.encode("utf-16-le")) > MAX_LINE_BYTES
            ):
                raise _too_long(name, number, line, "bytes")
            yield line
            number += 1
    finally:
        # The byte stream is closed by whoever opened it, not by this wrapper.
        with contextlib.suppress(ValueError):
            text.detach()


def _decoded(
    binary: IO[bytes], encoding: str, name: str, first: int, strip_bom: bool
) -> Iterator[str]:
    """The lines of a byte stream decoded one by one (line numbers count from ``first``)."""
    decode = codecs.getdecoder(encoding)
    for number, raw in enumerate(_lines(binary, name, first), start=first):
        if strip_bom and number == first and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            yield decode(raw)[0]
        except UnicodeDecodeError as err:
            shown = raw[max(0, err.start - 20) : err.end + 20].rstrip(b"\r\n")
            raise SchemaError(
                f"{name} line {number}", shown, f"{_label(encoding)} text ({_guess(raw)})"
            ) from None


def _open_bytes(
    path: Path, encoding: str | None, name: str
) -> tuple[IO[str] | Iterator[str], str, IO[bytes]]:
    return _open_binary(open(path, "rb"), encoding, name)


def _open_binary(
    binary: IO[bytes], encoding: str | None, name: str
) -> tuple[IO[str] | Iterator[str], str, IO[bytes]]:
    try:
        head = binary.read(_SNIFF)
        binary.seek(0)
        if encoding is None and head.startswith(_UTF16_BOMS):
            text = io.TextIOWrapper(binary, encoding="utf-16", newline="")
            return _wide_lines(text, "utf-16", name), "utf-16", binary
        if encoding is None and head.startswith(codecs.BOM_UTF8):
            encoding = "utf-8"
        if b"\x00" in head and not (encoding or "").startswith(("utf-16", "utf_16", "utf-32")):
            raise SchemaError(name, "binary data (NUL bytes)", "a CSV text file")
        if encoding is not None and encoding.replace("_", "-").startswith(("utf-16", "utf-32")):
            text = io.TextIOWrapper(binary, encoding=encoding, newline="")
            return _wide_lines(text, encoding, name), encoding, binary
        used = encoding or "utf-8"
        strip = used in ("utf-8", "utf_8")
        return _decoded(binary, used, name, 1, strip), used, binary
    except BaseException:
        binary.close()
        raise


def _delimiter(line: str) -> str:
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _rows(
    lines: Iterable[str], delimiter: str, strict: bool = False
) -> Iterator[tuple[int, list[str]]]:
    """Rows with the line each starts on; a row the csv module refuses comes as `CSV_ERROR`."""
    reader = csv.reader(lines, delimiter=delimiter, strict=strict)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, [CSV_ERROR, str(exc)]
            start = reader.line_num + 1
            continue
        yield start, row
        start = reader.line_num + 1


class Columns:
    """The columns one kind of file knows, with their aliases.

    Args:
        what: The kind of file, for messages (``"accounts"``).
        known: The column names, in the order they are listed to users.
        aliases: Other names for a known column (``{"account_id": "id"}``).
        prefixes: Prefixes that make a column known as it is (``"metrics."``).
    """

    __slots__ = ("aliases", "known", "prefixes", "what")

    def __init__(
        self,
        what: str,
        known: Sequence[str],
        aliases: Mapping[str, str] = {},
        prefixes: Sequence[str] = (),
    ) -> None:
        self.what = what
        self.known = tuple(known)
        self.aliases = dict(aliases)
        self.prefixes = tuple(prefixes)

    def listing(self) -> str:
        """The accepted columns, as a user reads them."""
        names = ", ".join(self.known)
        alias = ", ".join(f"{a} for {c}" for a, c in self.aliases.items())
        more = "".join(f", {p}<name>" for p in self.prefixes)
        return names + more + (f" (also {alias})" if alias else "")

    def resolve(self, name: str) -> str | None:
        """The known column a header name stands for, if any."""
        for prefix in self.prefixes:
            if name.startswith(prefix) and len(name) > len(prefix):
                return name
        key = fold(name)
        for prefix in self.prefixes:
            if key.startswith(prefix) and len(key) > len(prefix):
                return prefix + name.strip()[len(prefix) :]
        if key in self.known:
            return key
        return self.aliases.get(key)


def _header(
    header: list[str],
    columns: Columns,
    rename: Mapping[str, str],
    required: Sequence[str],
    refuse_extra: bool,
) -> tuple[list[str | None], tuple[str, ...]]:
    folded_rename = {fold(k): v for k, v in rename.items()}
    mapped: list[str | None] = []
    extra: list[str] = []
    where: dict[str, str] = {}
    for raw in header:
        name = raw.strip()
        target = rename.get(name, folded_rename.get(fold(name)))
        column = columns.resolve(target if target is not None else name)
        if column is None:
            if refuse_extra:
                raise SchemaError(
                    f"header column {name!r}",
                    name,
                    f"a column of {columns.what} file: {columns.listing()}",
                )
            extra.append(name)
        elif column in where:
            raise SchemaError(
                "header",
                f"{where[column]!r} and {name!r}",
                f"each column once ({column!r} is named twice)",
            )
        else:
            where[column] = name
        mapped.append(column)
    for name in required:
        if name not in where:
            raise SchemaError(
                f"header column {name!r}",
                ", ".join(h.strip() for h in header) or "no columns",
                f"a required column (accepted: {columns.listing()})",
            )
    return mapped, tuple(extra)


def all_rows(
    file: Path | IO[str] | IO[bytes],
    *,
    encoding: str | None = None,
    stream_name: str = "<stream>",
) -> tuple[str, list[tuple[int, list[str] | None]]]:
    """Every non-blank row of a CSV file or stream, with the line it starts on.

    The same rules as `open_table` (byte-order marks, binary files refused, a line not in
    the encoding named with its number and the encoding it seems to be in, the delimiter
    the first non-blank line uses most), for readers that map the header themselves. A row
    the csv module refuses (strictly: a stray quote is refused, not guessed at) comes as
    ``None``. Accepts a path, a text or binary stream, or anything with ``read_bytes()``
    (an importlib resource); a stream without a name is called ``stream_name``.
    """
    codec = check_encoding(encoding)
    binary: IO[bytes] | None = None
    if isinstance(file, str | os.PathLike):
        name = os.path.basename(os.fspath(file))
        binary = open(file, "rb")  # noqa: SIM115 - closed below
    elif hasattr(file, "read_bytes"):
        name = str(getattr(file, "name", stream_name))
        binary = io.BytesIO(file.read_bytes())
    elif hasattr(file, "read"):
        given = getattr(file, "name", None)
        name = os.path.basename(given) if isinstance(given, str) else stream_name
        head = file.read(0)
        if isinstance(head, bytes):
            binary = file  # type: ignore[assignment]
    else:
        raise InvalidValue("file", file, "a path, a text or binary stream, or a resource")
    try:
        lines: Iterator[str]
        if binary is not None:
            text, _, _ = _open_binary(binary, codec, name)
            lines = iter(text)
        else:
            lines = _text_lines(file, name)  # type: ignore[arg-type]
        kept: list[str] = []
        for line in lines:
            kept.append(line.removeprefix("\ufeff") if not kept else line)
            if line.strip():
                break
        sep = _delimiter(kept[-1]) if kept else ","

        def chained() -> Iterator[str]:
            yield from kept
            yield from lines

        rows: list[tuple[int, list[str] | None]] = []
        for number, row in _rows(chained(), sep, strict=True):
            if row and row[0] == CSV_ERROR:
                rows.append((number, None))
            elif any(cell.strip() for cell in row):
                rows.append((number, row))
        return name, rows
    finally:
        if binary is not None and isinstance(file, str | os.PathLike):
            binary.close()


def open_table(
    file: Path | IO[str],
    columns: Columns,
    *,
    required: Sequence[str] = (),
    rename: Mapping[str, str] | None = None,
    extra: str = "keep",
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Table:
    """Open a CSV file or text stream and read its header.

    Raises:
        SchemaError: The file is binary, a line is not in the encoding (naming the line
            and the encoding it seems to be in), the header is missing, names a column
            twice, lacks a required one, or (``extra="refuse"``) names an unknown one.
        InvalidValue: The encoding or delimiter is not one Python's csv module can use.
    """
    if extra not in ("keep", "refuse"):
        raise InvalidValue("extra", extra, "'keep' or 'refuse'")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise InvalidValue("delimiter", delimiter, "one character, such as ',' or ';'")
    codec = check_encoding(encoding)
    source: IO[bytes] | IO[str] | None
    lines: Iterator[str]
    if isinstance(file, str | os.PathLike):
        name = os.fspath(file)
        text, codec, source = _open_bytes(file, codec, name)
        lines = iter(text)
    else:
        name = "<stream>"
        lines = _text_lines(file, name)
        source = None
    try:
        first = 1
        for line in lines:
            if line.startswith("\ufeff"):
                line = line[1:]
            if line.strip():
                break
            first += 1
        else:
            raise SchemaError(
                "header", "an empty file", f"a header row naming the {columns.what} columns"
            )
        sep = delimiter or _delimiter(line)

        def chained() -> Iterator[str]:
            yield line
            yield from lines

        rows = _rows(chained(), sep)
        _, header = next(rows)
        if header and header[0] == CSV_ERROR:
            raise SchemaError("header", header[1], "a readable CSV header")
        mapped, kept = _header(header, columns, rename or {}, required, extra == "refuse")
        offset = first - 1
        numbered = ((n + offset, r) for n, r in rows if r and any(c.strip() for c in r))
        return Table(name, codec, sep, mapped, kept, numbered, source)
    except BaseException:
        if source is not None:
            source.close()
        raise


# --------------------------------------------------------------------------- dates
_OFFSET: Final = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$")


def parse_zone(name: str) -> tzinfo:
    """A time zone from a name (``UTC``, ``Europe/Paris``) or an offset (``+02:00``).

    Raises:
        InvalidValue: Neither a zone name the system knows nor an offset.
    """
    text = name.strip() if isinstance(name, str) else ""
    if text.upper() in ("UTC", "Z", "GMT"):
        return UTC
    found = _OFFSET.match(text)
    if found:
        sign, hours, minutes = found.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if delta < timedelta(hours=24):
            return timezone(-delta if sign == "-" else delta)
    try:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(
            "tz", name, "a time zone name such as 'UTC' or 'Europe/Paris', or an offset like +02:00"
        ) from None


def zone_label(zone: tzinfo) -> str:
    """How a zone is named to a user."""
    key = getattr(zone, "key", None)
    if isinstance(key, str):
        return key
    return "UTC" if zone is UTC else str(zone)


_MAX_TIME_TEXT: Final = 64


def parse_time(text: str, zone: tzinfo | None) -> tuple[datetime, bool] | None:
    """An ISO 8601 date or date-time, and whether it had no offset (read in ``zone``).

    Returns ``None`` when the text is no date-time, or has no offset and ``zone`` is None.
    """
    word = text.strip()
    if not word or len(word) > _MAX_TIME_TEXT:
        return None
    try:
        value = datetime.fromisoformat(word)
    except ValueError:
        return None
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value, False
    if zone is None:
        return None
    return value.replace(tzinfo=zone), True
