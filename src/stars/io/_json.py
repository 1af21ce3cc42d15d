"""JSON text in and out (private): strict parsing, depth checks, canonical text.

The parser refuses NaN/Infinity, integers beyond 2**53-1 and repeated keys;
`canonical_json` writes the one canonical form (sorted keys, one number form).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from stars._cells import guarded as guarded
from stars._shown import Shown as _Shown
from stars.errors import SchemaError
from stars.io._common import _MAX_INT_DIGITS, MAX_INT


def _check_depth(doc: Any, max_depth: int) -> None:
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > max_depth:
            raise SchemaError("$", _Shown("a deeper document"), f"nesting at most {max_depth} deep")
        stack.extend((child, depth + 1) for child in children)


# =========================================================================== JSON text
def _reject_constant(name: str) -> Any:
    raise SchemaError("$", _Shown(name), "a finite number (NaN and Infinity are not JSON)")


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise SchemaError("$", _Shown(text[:40]), "a finite number")
    return value


def _parse_int(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) > _MAX_INT_DIGITS or int(text) > MAX_INT or int(text) < -MAX_INT:
        raise SchemaError("$", _Shown(text[:40]), f"an integer from -{MAX_INT} to {MAX_INT}")
    return int(text)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise SchemaError("$", key, "each key at most once in an object")
        out[key] = value
    return out


def _parse_json(text: str | bytes, max_bytes: int) -> Any:
    if isinstance(text, bytes | bytearray):
        if len(text) > max_bytes:
            raise SchemaError("$", _Shown(f"{len(text)} bytes"), f"at most {max_bytes} bytes")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SchemaError("$", _Shown("bytes"), f"UTF-8 text ({exc.reason})") from None
    if not isinstance(text, str):
        raise SchemaError("$", _Shown(type(text).__name__), "JSON text (str or bytes)")
    if len(text) > max_bytes:
        raise SchemaError("$", _Shown(f"{len(text)} characters"), f"at most {max_bytes}")
    try:
        return json.loads(
            text,
            parse_float=_parse_float,
            parse_int=_parse_int,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as exc:
        raise SchemaError(
            "$", _Shown(f"line {exc.lineno} column {exc.colno}"), f"valid JSON ({exc.msg})"
        ) from None


def _one_number_form(doc: Any) -> Any:
    """``doc`` with every whole float as an int (the canonical number form)."""
    kind = type(doc)
    if kind is float:
        if doc.is_integer() and abs(doc) <= MAX_INT:
            return int(doc)
        return doc
    if kind is dict:
        return {key: _one_number_form(item) for key, item in doc.items()}
    if kind is list:
        return [_one_number_form(item) for item in doc]
    return doc


def canonical_json(doc: Any) -> str:
    """Plain JSON data (a `to_dict` result, say) as canonical text (see `dumps`).

    It sorts keys and gives each number one form; strings are written as they are, so
    pass ``to_dict(value, canonical=True)`` to have times in UTC.

    Examples:
        >>> from stars.io import canonical_json
        >>> canonical_json({"b": 50.0, "a": [1.5, -0.0, 50]})
        '{"a":[1.5,0,50],"b":50}'
    """
    return json.dumps(
        _one_number_form(doc),
        allow_nan=False,
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
