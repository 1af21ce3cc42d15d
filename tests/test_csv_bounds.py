"""An over-long CSV line is refused without being read whole (issue 21, bytes and bounds)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from stars._csv import MAX_LINE_BYTES

# The child samples its own resident memory while it runs: ru_maxrss would carry the high
# water mark of the (large) pytest process it was forked from.
CHILD = (
    "import os, sys, threading, time\n"
    "from stars.cli import main\n"
    "page = os.sysconf('SC_PAGE_SIZE')\n"
    "peak, done = [0], threading.Event()\n"
    "def sample():\n"
    "    while not done.is_set():\n"
    "        with open('/proc/self/statm') as f:\n"
    "            peak[0] = max(peak[0], int(f.read().split()[1]) * page)\n"
    "        time.sleep(0.002)\n"
    "watcher = threading.Thread(target=sample, daemon=True)\n"
    "watcher.start()\n"
    "code = main(sys.argv[1:])\n"
    "done.set(); watcher.join()\n"
    "print('rss-kib', peak[0] // 1024, 'code', code)\n"
)


def test_a_100_mb_line_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    with path.open("wb") as out:
        out.write(b"id,name\nacme,")
        for _ in range(100):
            out.write(b"x" * (1 << 20))
        out.write(b"\nglobex,Globex\n")
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "assess", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    rss_kib = int(done.stdout.split()[1])
    assert done.stdout.split()[-1] == "2"
    assert f"accounts.csv line 2: got 'a line of more than {MAX_LINE_BYTES:,} bytes'" in done.stderr
    assert rss_kib < 90 * 1024, f"peak {rss_kib // 1024} MiB: the line was read whole"
