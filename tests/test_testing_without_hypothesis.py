"""`stars.testing` imports without hypothesis; only the strategies need it (issue 22)."""

from __future__ import annotations

import subprocess
import sys

_BLOCK_HYPOTHESIS = """
import sys
sys.modules["hypothesis"] = None  # as if it were not installed
import stars.testing as t
book = t.synthetic_history(accounts=20, periods=3, seed=1)
print(len(book) > 0, sorted(t.depth_examples())[:1] != [])
try:
    t.snapshots()
except Exception as err:
    print(type(err).__name__, err)
"""


def test_the_module_and_the_generators_work_without_hypothesis() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _BLOCK_HYPOTHESIS], capture_output=True, text=True, check=True
    )
    first, second = out.stdout.splitlines()
    assert first == "True True"
    assert second.startswith("MissingDependency")
    assert "hypothesis" in second and "dev" in second
