"""`import stars` stays light: no dataframe, numeric or plotting library, no I/O at import."""

from __future__ import annotations

import inspect
import subprocess
import sys

import stars

HEAVY = (
    "pandas",
    "polars",
    "numpy",
    "scipy",
    "sklearn",
    "cattrs",
    "matplotlib",
    "narwhals",
    "pyarrow",
    "dask",
    "yaml",
)


def test_import_stars_imports_no_heavy_library() -> None:
    code = (
        "import sys, stars\n"
        f"heavy = {HEAVY!r}\n"
        "print(','.join(sorted({m.split('.')[0] for m in sys.modules} & set(heavy))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_names_are_sorted_documented_and_exist() -> None:
    # isort-style order (as ruff's RUF022 keeps it): CONSTANTS, then Classes, then functions
    def key(name: str) -> tuple[int, str]:
        rank = 0 if name.isupper() else 1 if name[0].isupper() else 2
        return rank, name

    assert stars.__all__ == sorted(stars.__all__, key=key)
    for name in stars.__all__:
        obj = getattr(stars, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert obj.__doc__, f"{name} has no docstring"


def test_version_comes_from_metadata() -> None:
    from importlib.metadata import version

    assert stars.__version__ == version("stars")


def test_typing_example_runs() -> None:
    import runpy
    from pathlib import Path

    runpy.run_path(str(Path(__file__).parent / "typing" / "api.py"))
