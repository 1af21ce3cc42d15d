"""The terminal sessions on docs/howto/cli.md are real: each one is run, and must print what the page shows.

The page is read in order, in one empty folder: a ```csv title="PATH" block writes that
file; a ```python block runs; a ```console block runs each ``$ stars ...`` (or ``$ cat``)
line as a user would (``COLUMNS=100``, stderr after stdout) and compares the output with
the lines below it. A ``...`` line stands for any number of lines, and a last line
``[exit N]`` is the exit code (0 when there is none).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import stars as stars_package

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "howto" / "cli.md"
SRC = str(Path(stars_package.__file__).resolve().parent.parent)
BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.S | re.M)
TITLE = re.compile(r'title="([^"]+)"')


def matches(expected: list[str], got: list[str]) -> bool:
    """Whether ``got`` fits ``expected``, where a ``...`` line matches any lines."""
    if not expected:
        return not got
    if expected[0] == "...":
        return any(matches(expected[1:], got[i:]) for i in range(len(got) + 1))
    return bool(got) and got[0] == expected[0] and matches(expected[1:], got[1:])


def sessions(text: str) -> list[tuple[str, str, str]]:
    return [(m.group(1), m.group(2), m.group(3)) for m in BLOCK.finditer(text)]


def run(line: str, cwd: Path) -> tuple[list[str], int]:
    words = shlex.split(line)
    env = {**os.environ, "COLUMNS": "100", "PYTHONPATH": SRC}
    env.pop("PYTHONWARNINGS", None)
    if words[0] == "stars":
        argv = [sys.executable, "-m", "stars", *words[1:]]
    elif words[0] == "cat":
        return (cwd / words[1]).read_text(encoding="utf-8").splitlines(), 0
    else:  # pragma: no cover - the page shows only these
        raise AssertionError(f"the page runs {words[0]!r}, which this test does not know")
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    return (done.stdout + done.stderr).splitlines(), done.returncode


def test_every_terminal_session_prints_what_the_page_shows(tmp_path: Path) -> None:
    text = PAGE.read_text(encoding="utf-8")
    ran = 0
    namespace: dict[str, object] = {"__name__": "docs_cli_sessions"}
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        for kind, info, body in sessions(text):
            title = TITLE.search(info)
            if title is not None:
                target = tmp_path / title.group(1)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(body, encoding="utf-8")
            elif kind == "python":
                exec(compile(body, f"{PAGE.name}[python]", "exec"), namespace)
            elif kind == "console":
                lines = body.rstrip("\n").split("\n")
                starts = [i for i, line in enumerate(lines) if line.startswith("$ ")]
                for n, start in enumerate(starts):
                    end = starts[n + 1] if n + 1 < len(starts) else len(lines)
                    expected = lines[start + 1 : end]
                    code = 0
                    if expected and re.fullmatch(r"\[exit \d+\]", expected[-1]):
                        code = int(expected.pop()[6:-1])
                    got, status = run(lines[start][2:], tmp_path)
                    got = [g.rstrip() for g in got]
                    assert matches(expected, got), (
                        f"{lines[start]}\n--- the page shows:\n"
                        + "\n".join(expected)
                        + "\n--- it printed:\n"
                        + "\n".join(got)
                    )
                    assert status == code, f"{lines[start]}: exit {status}, the page says {code}"
                    ran += 1
    finally:
        os.chdir(old)
    assert ran >= 10
