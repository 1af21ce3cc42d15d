"""The limits and small helpers every part of `stars.io` shares (private).

The wire-format constants (``SCHEMA``, ``MAX_INT``, the time range, ...), the
``nothing`` marker for absent keys and JSON-path joining.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Final

# The integer and time limits are shared with the CSV readers, so they live in stars._cells.
from stars._cells import EARLIEST as EARLIEST
from stars._cells import LATEST as LATEST
from stars._cells import MAX_INT as MAX_INT

SCHEMA: Final = "stars/1"
"""The schema version every document carries in its ``"schema"`` key."""

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
"""The JSON Schema dialect `json_schema` writes."""

MAX_BYTES: Final = 16 * 1024 * 1024
"""The default size limit of one document (characters of text, or bytes)."""

MAX_DEPTH: Final = 64
"""The default limit on how deeply arrays and objects may nest in one document."""

_MAX_INT_DIGITS: Final = len(str(MAX_INT))
_MAX_KEY_SHOWN: Final = 40

Path = str | os.PathLike[str]


class _Missing:
    """Stands for an absent key in error messages."""

    def __repr__(self) -> str:
        return "nothing"


_MISSING: Final = _Missing()


def _join(path: str, key: object) -> str:
    if isinstance(key, str) and len(key) > _MAX_KEY_SHOWN:
        # An error quotes a bounded prefix of an over-long key, never the key whole.
        shown = json.dumps(key[:_MAX_KEY_SHOWN], ensure_ascii=False)[:-1]
        return f"{path}[{shown}...({len(key)} characters)]"
    if isinstance(key, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key) if isinstance(key, str) else repr(key)}]"


def _is_array(raw: Any) -> bool:
    return isinstance(raw, list | tuple)
