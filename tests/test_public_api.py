"""The public API as a reviewed snapshot: a moved, renamed or re-signed name fails here.

Every public module's ``__all__`` is listed with each name's kind and signature (for a class,
its constructor and its public methods and properties) in ``tests/data/public_api.txt``. A change
to the public surface must be deliberate: run ``STARS_UPDATE_API=1 python -m pytest
tests/test_public_api.py`` and commit the new file beside the change, so the diff is reviewed.
"""

from __future__ import annotations

import difflib
import enum
import importlib
import inspect
import os
import pkgutil
import re
import typing
from pathlib import Path

import stars

SNAPSHOT = Path(__file__).parent / "data" / "public_api.txt"
_ADDRESS = re.compile(r" at 0x[0-9a-f]+")


def _public_modules() -> list[str]:
    names = ["stars"]
    for info in pkgutil.walk_packages(stars.__path__, "stars."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        names.append(info.name)
    return sorted(names)


def _signature(obj: object) -> str:
    try:
        text = str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "(...)"
    return _ADDRESS.sub("", text)


def _describe(qualname: str, obj: object) -> list[str]:
    if isinstance(obj, type) and issubclass(obj, enum.Enum):
        members = ", ".join(member.name for member in obj)
        return [f"{qualname}: enum [{members}]"]
    if isinstance(obj, type):
        lines = [f"{qualname}: class{_signature(obj)}"]
        for name, member in sorted(vars(obj).items()):
            if name.startswith("_"):
                continue
            if isinstance(member, property):
                lines.append(f"{qualname}.{name}: property")
            elif isinstance(member, (staticmethod, classmethod)):
                lines.append(f"{qualname}.{name}: method{_signature(member.__func__)}")
            elif inspect.isfunction(member):
                lines.append(f"{qualname}.{name}: method{_signature(member)}")
        return lines
    if typing.get_origin(obj) is not None:
        # A type alias such as Callable[[X], None]: Python 3.13 gives it a signature, older
        # versions do not, so the alias itself is what the snapshot records.
        return [f"{qualname}: alias {obj}"]
    if callable(obj):
        return [f"{qualname}: function{_signature(obj)}"]
    return [f"{qualname}: {type(obj).__name__}"]


def current_api() -> str:
    """The public API as text, one line per name (and per class member)."""
    lines: list[str] = []
    for module_name in _public_modules():
        module = importlib.import_module(module_name)
        for name in sorted(getattr(module, "__all__", ())):
            lines.extend(_describe(f"{module_name}.{name}", getattr(module, name)))
    return "\n".join(lines) + "\n"


def test_public_api_matches_the_reviewed_snapshot() -> None:
    now = current_api()
    if os.environ.get("STARS_UPDATE_API"):
        SNAPSHOT.write_text(now, encoding="utf-8")
    before = SNAPSHOT.read_text(encoding="utf-8")
    if now != before:
        diff = "".join(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                now.splitlines(keepends=True),
                "tests/data/public_api.txt (reviewed)",
                "the code now",
            )
        )
        raise AssertionError(
            "the public API changed; if deliberate, rerun with STARS_UPDATE_API=1 "
            "and commit tests/data/public_api.txt:\n" + diff
        )
