"""The top level is the core; every other name is imported from its module.

Names that were re-exported at the top level before keep working for one release, with a
`DeprecationWarning` that says where the name lives now.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import stars

MOVED = sorted(stars._MOVED)


def test_the_top_level_is_a_small_core() -> None:
    assert 35 <= len(stars.__all__) <= 50
    for name in stars.__all__:
        value = getattr(stars, name)
        # no renamed aliases: a class or function is known by the name it is exported under
        assert getattr(value, "__name__", name) == name, name


@pytest.mark.parametrize("name", MOVED)
def test_a_moved_name_still_works_with_a_warning_naming_its_module(name: str) -> None:
    module, attr = stars._MOVED[name]
    with pytest.warns(DeprecationWarning, match=rf"use `from {re.escape(module)} import {attr}`"):
        value = getattr(stars, name)
    assert value is getattr(importlib.import_module(module), attr)


def test_a_moved_name_warns_on_every_use_not_only_the_first() -> None:
    for _ in range(2):
        with pytest.warns(DeprecationWarning, match="stars.Portfolio is deprecated"):
            stars.Portfolio  # noqa: B018


def test_from_import_of_a_moved_name_warns() -> None:
    with pytest.warns(DeprecationWarning, match="stars.portfolio"):
        from stars import Portfolio  # noqa: F401


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Portfollio'"):
        stars.Portfollio  # noqa: B018


def test_every_moved_name_is_listed_in_the_changelog() -> None:
    changelog = (Path(__file__).parents[1] / "CHANGELOG.md").read_text(encoding="utf-8")
    missing = [name for name in MOVED if f"`stars.{name}`" not in changelog]
    assert missing == []


def test_dir_lists_the_core_and_the_modules_only() -> None:
    listed = set(dir(stars))
    assert set(stars.__all__) <= listed
    assert "portfolio" in listed
    assert not listed & set(MOVED)
