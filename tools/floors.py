"""Write pip constraints that pin each runtime dependency to its floor in pyproject.toml.

``make test-lowest`` installs with these constraints, so the suite runs once on the oldest
versions ``stars`` says it supports. Only the library's own requirements are pinned (the core
and its runtime extras); the test and docs tools stay current.

Usage: ``python tools/floors.py pyproject.toml > constraints.txt``
"""

from __future__ import annotations

import re
import sys
import tomllib

RUNTIME_EXTRAS = ("frames", "pandas", "plot", "yaml", "dask", "calibrate", "store", "codec")
# Not floors of ours, but the floors' own era: pip would pair the old wheels with today's
# releases. scipy 1.11 cannot load NumPy 2, and pyparsing 3.3
# deprecates the names matplotlib 3.10 calls (a warning, which the suite turns into an error).
ERA = ("numpy<2", "pyparsing<3.3")


def floors(pyproject: dict[str, object]) -> list[str]:
    """``name==floor`` for every ``name>=floor`` requirement of the runtime."""
    project = pyproject["project"]
    assert isinstance(project, dict)
    requirements = list(project["dependencies"])
    extras = project.get("optional-dependencies", {})
    for extra in RUNTIME_EXTRAS:
        requirements += extras.get(extra, [])
    pins: dict[str, str] = {}
    for requirement in requirements:
        match = re.match(r"\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*([^;]*)", requirement)
        if match is None or match.group(1) == "stars-lifecycle":
            continue
        floor = re.search(r">=\s*([0-9][0-9A-Za-z.]*)", match.group(2))
        if floor:
            pins[match.group(1).lower()] = floor.group(1)
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as handle:
        print("\n".join([*floors(tomllib.load(handle)), *ERA]))
