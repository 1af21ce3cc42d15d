"""An over-long line is refused without being read whole (issue 21, bytes and bounds).

Each case runs in a child process that samples its own resident memory while it reads a
file with one line of about 100 MB: UTF-8 bytes through the command line, a UTF-16 file
(found by its byte-order mark), and text streams (a file opened in text mode) given to
the CSV and JSON Lines readers. Read whole, such a line costs 100 MB or more (a UTF-16
one twice that); refused at the bound, the child stays well under 90 MiB.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from stars import _csv
from stars._csv import MAX_LINE_BYTES
from stars.crm import SALESFORCE, read_opportunities
from stars.errors import SchemaError
from stars.io import read_accounts_csv

# The child samples its own resident memory while it runs: ru_maxrss would carry the high
# water mark of the (large) pytest process it was forked from. It runs the code given as
# its first argument, which sets ``result`` (what to print).
CHILD = (
    "import os, sys, threading, time\n"
    "page = os.sysconf('SC_PAGE_SIZE')\n"
    "peak, done = [0], threading.Event()\n"
    "def sample():\n"
    "    while not done.is_set():\n"
    "        with open('/proc/self/statm') as f:\n"
    "            peak[0] = max(peak[0], int(f.read().split()[1]) * page)\n"
    "        time.sleep(0.002)\n"
    "watcher = threading.Thread(target=sample, daemon=True)\n"
    "watcher.start()\n"
    "result = None\n"
    "exec(sys.argv[1])\n"
    "done.set(); watcher.join()\n"
    "print('rss-kib', peak[0] // 1024, 'result', repr(result))\n"
)

RUN_CLI = (
    "from stars.cli import main\n"
    "try:\n"
    "    result = main(sys.argv[2:])\n"
    "except SystemExit as exit:\n"
    "    result = exit.code\n"
)

#: Read with a text stream; ``result`` is the error's text (or what was read, if none).
READ_STREAM = (
    "import stars.io\n"
    "from stars.errors import SchemaError\n"
    "reader = getattr(stars.io, sys.argv[2])\n"
    "with open(sys.argv[3], encoding=sys.argv[4], newline='') as stream:\n"
    "    try:\n"
    "        result = reader(stream)\n"
    "    except SchemaError as err:\n"
    "        result = str(err)\n"
)

LIMIT_MIB = 90


def _child(code: str, *args: str) -> tuple[int, str, subprocess.CompletedProcess[str]]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, code, *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    last = done.stdout.strip().rsplit("\n", 1)[-1]
    assert last.startswith("rss-kib"), done.stderr[-2000:]
    _, rss, _, result = last.split(" ", 3)
    return int(rss), result, done


def _write_long_line(path: Path, encoding: str, header: str, start: str, end: str) -> None:
    chunk = "x" * (1 << 20)
    with path.open("w", encoding=encoding, newline="") as out:  # utf-16 writes its BOM
        out.write(header + start)
        for _ in range(100):  # a line of 100 Mi characters
            out.write(chunk)
        out.write(end)


def test_a_100_mb_line_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    with path.open("wb") as out:
        out.write(b"id,name\nacme,")
        for _ in range(100):
            out.write(b"x" * (1 << 20))
        out.write(b"\nglobex,Globex\n")
    rss_kib, result, done = _child(RUN_CLI, "assess", str(path))
    assert result == "2"
    assert (
        f"accounts.csv line 2: got 'acme,{'x' * 35}...', expected CSV lines of at most"
        f" {MAX_LINE_BYTES:,} bytes (this one is longer)" in done.stderr
    )
    assert rss_kib < LIMIT_MIB * 1024, f"peak {rss_kib // 1024} MiB: the line was read whole"


def test_a_utf16_file_is_bounded_in_bytes_too(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    _write_long_line(path, "utf-16", "id,name\r\n", "acme,", "\r\nglobex,Globex\r\n")
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    rss_kib, result, done = _child(RUN_CLI, "assess", str(path))
    assert result == "2"
    assert (
        f"accounts.csv line 2: got 'acme,{'x' * 35}...', expected CSV lines of at most"
        f" {MAX_LINE_BYTES:,} bytes (this one is longer)" in done.stderr
    )
    assert rss_kib < LIMIT_MIB * 1024, f"peak {rss_kib // 1024} MiB: the line was read whole"


def test_a_utf16_file_with_lines_under_the_bound_reads_whole(tmp_path: Path) -> None:
    # A line just under the bound in bytes (UTF-16: two bytes a character) is read; its
    # cells stay under the csv module's own limit on one cell (128 KiB).
    path = tmp_path / "accounts.csv"
    cells = 100
    width = MAX_LINE_BYTES // 2 // cells - 20
    header = "id,name," + ",".join(f"c{i}" for i in range(cells))
    row = "acme,Acme," + ",".join("v" * width for _ in range(cells))
    other = "globex,Globex" + "," * cells
    path.write_text(f"{header}\r\n{row}\r\n{other}\r\n", encoding="utf-16")
    assert MAX_LINE_BYTES - 4000 < 2 * len(row) < MAX_LINE_BYTES
    code = (
        "from stars.io import read_accounts_csv\n"
        "accounts, rejected = read_accounts_csv(sys.argv[2], extra='keep')\n"
        "result = [a.id for a in accounts], len(rejected)\n"
    )
    _, result, done = _child(code, str(path))
    assert result == "(['acme', 'globex'], 0)", done.stderr[-2000:]


def test_a_text_stream_is_bounded_in_characters(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    _write_long_line(path, "utf-8", "id,name\n", "acme,", "\nglobex,Globex\n")
    rss_kib, result, _ = _child(READ_STREAM, "read_accounts_csv", str(path), "utf-8")
    assert (
        f"line 2: got 'acme,{'x' * 35}...', expected CSV lines of at most"
        f" {MAX_LINE_BYTES:,} characters (this one is longer)" in result
    )
    assert result[1:].startswith("<stream> line 2: ")
    assert len(result) < 400
    assert rss_kib < LIMIT_MIB * 1024, f"peak {rss_kib // 1024} MiB: the line was read whole"


def test_a_json_lines_text_stream_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    _write_long_line(path, "utf-8", "", '{"schema":"stars/1","pad":"', '"}\n')
    rss_kib, result, _ = _child(READ_STREAM, "read_events", str(path), "utf-8")
    assert "line 1: got a line longer than 1048576 bytes" in result
    assert rss_kib < LIMIT_MIB * 1024, f"peak {rss_kib // 1024} MiB: the line was read whole"


def test_every_reader_bounds_every_source(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The same rule, in process, with the bound lowered: accounts and CRM exports, from a
    # text stream, a list of lines, a UTF-16 byte stream (refused at 100 bytes).
    monkeypatch.setattr(_csv, "MAX_LINE_BYTES", 100)
    long = "acme," + "é" * 200 + "\n"
    with pytest.raises(SchemaError, match=r"<stream> line 2: got 'acme,é+\.\.\.', expected CSV"):
        read_accounts_csv(io.StringIO("id,name\n" + long))
    with pytest.raises(SchemaError, match=r"line 2: .* 100 characters"):
        read_opportunities(io.StringIO("Stage,Amount\n" + long), SALESFORCE.opportunities)
    with pytest.raises(SchemaError, match=r"line 2: .* 100 characters"):
        read_accounts_csv(["id,name\n", long])  # type: ignore[arg-type]
    utf16 = ("id,name\n" + long).encode("utf-16")
    with pytest.raises(SchemaError, match=r"line 2: .* 100 bytes"):
        read_opportunities(io.BytesIO(utf16), SALESFORCE.opportunities)
    # 30 characters outside the BMP: 36 characters in the line, but 132 bytes in UTF-16.
    wide = tmp_path / "wide.csv"
    wide.write_text("id,name\nacme," + "\U0001f600" * 30 + "\n", encoding="utf-16")
    with pytest.raises(SchemaError, match=r"wide.csv line 2: .* 100 bytes"):
        read_accounts_csv(wide)
    narrow = tmp_path / "narrow.csv"  # the same with 30 characters in the BMP: 72 bytes
    narrow.write_text("id,name\nacme," + "é" * 30 + "\n", encoding="utf-16")
    assert [a.name for a in read_accounts_csv(narrow)[0]] == ["é" * 30]
    # Under the bound, all is read.
    accounts, rejected = read_accounts_csv(io.StringIO("id,name\nacme,Acme\n"))
    assert [a.id for a in accounts] == ["acme"] and not rejected
