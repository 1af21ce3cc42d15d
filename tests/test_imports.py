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

    assert stars.__version__ == version("stars-lifecycle")


def test_typing_example_runs() -> None:
    import runpy
    from pathlib import Path

    runpy.run_path(str(Path(__file__).parent / "typing" / "api.py"))


_KINDS = """
import importlib, inspect, json, pkgutil, sys, warnings
import stars

warnings.simplefilter("ignore", DeprecationWarning)  # the moved names are checked too

def kinds():
    return {n: type(getattr(stars, n)).__name__ for n in [*stars.__all__, *stars._MOVED]}

def import_all():
    for info in pkgutil.walk_packages(stars.__path__, "stars."):
        if info.name != "stars.__main__":
            importlib.import_module(info.name)

if sys.argv[1] == "names-first":
    before = kinds()
    import_all()
    print(json.dumps([before, kinds()]))
else:
    import_all()
    after = kinds()
    print(json.dumps([after, kinds()]))
"""


def test_every_public_name_keeps_its_kind_after_every_submodule_is_imported() -> None:
    # `stars.backtest` once became the module after `import stars.backtest`
    # (which `stars.io` does on first use), so `stars.backtest(...)` failed.
    seen = []
    for order in ("names-first", "modules-first"):
        out = subprocess.run(
            [sys.executable, "-c", _KINDS, order], capture_output=True, text=True, check=True
        )
        seen.extend(__import__("json").loads(out.stdout))
    assert all(kinds == seen[0] for kinds in seen)
    assert "module" not in seen[0].values(), [n for n, k in seen[0].items() if k == "module"]
    assert seen[0]["backtest"] == "function"


def test_backtest_function_is_callable_after_io_encodes_an_account() -> None:
    code = (
        "import stars, stars.io\n"
        "stars.io.dumps(stars.Account('a'))\n"
        "print(callable(stars.backtest), type(stars.backtest).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "function"]
    assert "use `from stars.backtesting import backtest`" in out.stderr
