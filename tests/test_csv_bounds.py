"""An over-long CSV line is refused without being read whole (issue 21, bytes and bounds)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from stars._csv import MAX_LINE_BYTES

CHILD = (
    "import resource, sys\n"
    "from stars.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print('rss-kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, 'code', code)\n"
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
