"""The strict docs build is a gate that can fail.

`make docs` runs `mkdocs build --strict`. These tests build a temporary copy of the project,
once as it is and once with a defect planted, and check that the defect fails the build and
that the failure names it. They build the reference pages only (the rest of the site adds
time, not coverage of the gate), with the project's own mkdocs.yml and hooks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings_handlers.python")


def _docs_recipe() -> str:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^docs:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert match, "the Makefile has no docs target"
    return match.group(1)


def test_make_docs_is_strict_and_does_not_hide_warnings() -> None:
    recipe = _docs_recipe()
    assert "mkdocs build --strict" in recipe
    # --quiet drops warnings before --strict counts them: the build could never fail
    assert not re.search(r"\s(--quiet|-q)\b", recipe)


def _copy(tmp_path: Path, pages: list[str]) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "src", copy / "src", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("mkdocs.yml", "mkdocs_hooks.py", "CHANGELOG.md"):
        shutil.copy(ROOT / name, copy / name)
    shutil.copytree(ROOT / "docs" / "assets", copy / "docs" / "assets")
    for page in pages:
        (copy / "docs" / page).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "docs" / page, copy / "docs" / page)
    (copy / "docs" / "index.md").write_text("# stars\n", encoding="utf-8")
    nav = "\n".join(f"  - {page}" for page in ["index.md", *pages])
    (copy / "part.yml").write_text(f"INHERIT: mkdocs.yml\nnav:\n{nav}\n", encoding="utf-8")
    return copy


def _build(copy: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(copy / "src"), "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "part.yml"]
    return subprocess.run(
        [*command, "--site-dir", str(copy / "site")],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _plant(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"the planted defect no longer applies to {path.name}: update the test"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_documented_parameter_that_does_not_exist_fails_the_build(tmp_path: Path) -> None:
    copy = _copy(tmp_path, ["reference/core.md", "concepts/lifecycle.md"])
    clean = _build(copy)
    assert clean.returncode == 0, clean.stderr

    _plant(
        copy / "src" / "stars" / "_accounts.py",
        "    Args:\n        id: A unique",
        "    Args:\n        colour: Not a parameter of Account.\n        id: A unique",
    )
    broken = _build(copy)
    assert broken.returncode != 0
    assert "Parameter 'colour' does not appear in the function signature" in broken.stderr
    assert "Aborted with 2 warnings in strict mode" in broken.stdout + broken.stderr, broken.stdout


def test_a_docs_example_that_raises_fails_the_build(tmp_path: Path) -> None:
    copy = _copy(tmp_path, ["install.md"])
    clean = _build(copy)
    assert clean.returncode == 0, clean.stderr
    page = (copy / "site" / "install" / "index.html").read_text(encoding="utf-8")
    assert "expected a timezone-aware datetime" in page  # the example ran; its output is shown

    _plant(copy / "docs" / "install.md", "import stars\n", "import stars\n\n1 / 0\n")
    broken = _build(copy)
    assert broken.returncode != 0
    assert "Execution of python code block exited with errors" in broken.stderr
    assert "ZeroDivisionError" in broken.stderr
