"""Lossless JSON, JSON Lines and CSV in and out, with a versioned schema.

Services keep accounts between requests. This module turns every public value of
`stars` into plain JSON and back, and refuses anything it cannot load cleanly:

- `to_dict` / `from_dict` and `dumps` / `loads` convert values
  of registered frozen attrs classes. Every document names its ``"schema"`` version
  (``"stars/1"``) and its ``"type"``; nested values carry their own ``"type"``.
- Loading looks the ``"type"`` up in an explicit registry (never importing or
  evaluating anything the input names), checks every field against the class's
  annotations, then calls the class itself so its validators run. Any failure is a
  `StarsError` (mostly `SchemaError` naming the
  JSON path, e.g. ``$.history[3].at``); no other exception escapes, and nothing is
  half-built.
- Accounts loaded with a lifecycle (``STARS`` by default) are checked against it:
  every stage must exist and every recorded transition must be an edge of its graph.
- `write_events` / `read_events` stream snapshots and transition records as
  JSON Lines; `read_accounts_csv` and `read_snapshots_csv` import CSV with a
  report of the rows they had to reject.
- `json_schema` describes the documents (JSON Schema, draft 2020-12), built from
  the same field metadata the loader uses.
- `lifecycle_to_dict` / `lifecycle_from_dict` carry a lifecycle definition
  as data; guards travel by name and are looked up in a registry (`GUARDS`).

Registering more classes: plain frozen attrs classes whose fields are simple types
(str, int, float, bool, None, aware datetimes, enums, tuples, frozensets, mappings
with string keys, other attrs classes) need nothing more than `register`. The
value classes of ``stars.health``, ``stars.depth``, ``stars.maturity``,
``stars.journey``, ``stars.recovery``, ``stars.portfolio`` and ``stars.backtesting`` are
registered automatically the first time the registry is used, when those modules
exist. A class holding something that is not plain data (a portfolio that refers to
its lifecycle, say) registers a pair of hooks: ``encode(value)`` returns the fields as
a mapping of encodable values, and ``decode(data, ctx, path)`` builds the value,
using `LoadContext.value` for each field so that errors keep their JSON path.

Examples:
    >>> from datetime import datetime, timezone
    >>> from stars import STARS, Account, Snapshot
    >>> from stars.io import dumps, loads
    >>> acme = Account("acme", name="Acme Corp")
    >>> t = datetime(2025, 1, 6, tzinfo=timezone.utc)
    >>> _ = STARS.observe(acme, Snapshot(at=t, health=82, contract_signed=True))
    >>> _ = STARS.fire(acme, "sign", at=t)
    >>> text = dumps(acme)
    >>> text[:46]
    '{"schema":"stars/1","type":"Account","id":"acm'
    >>> copy = loads(text)
    >>> copy == acme, copy.stage, copy.version
    (True, 'seed', 2)
"""

from __future__ import annotations

import csv
import enum
import functools
import inspect
import json
import math
import os
import re
import threading
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo
from typing import IO, Any, Final, Generic, TypeVar, overload

import attrs

from stars import _csv
from stars import _validate as v
from stars._log import Log
from stars.account import Account, DepthPoint, OwnerChange, Snapshot, TransitionRecord
from stars.bands import BandCutoffs
from stars.cycles import CycleEpisode
from stars.errors import InvalidDefinition, InvalidValue, SchemaError, StarsError, UnknownName, _a
from stars.lifecycle import (
    GUARDS,
    STARS,
    Diagnosis,
    Event,
    Evidence,
    Guard,
    Lifecycle,
    Policy,
    StageDef,
    TransitionDef,
    Verdict,
)
from stars.stages import Cycle, StageProfile, stage_name

__all__ = [
    "EARLIEST",
    "JSON_SCHEMA_DIALECT",
    "LATEST",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_EVENT_ID",
    "MAX_INT",
    "SCHEMA",
    "AccountEvent",
    "CsvImport",
    "LoadContext",
    "RejectedRow",
    "StageEvent",
    "accounts_from_events",
    "accounts_from_stage_events",
    "canonical_json",
    "dumps",
    "events_of",
    "from_dict",
    "json_schema",
    "lifecycle_from_dict",
    "lifecycle_to_dict",
    "loads",
    "read_accounts_csv",
    "read_events",
    "read_snapshots_csv",
    "read_stage_events_csv",
    "register",
    "registered_types",
    "to_dict",
    "write_accounts_csv",
    "write_events",
    "write_snapshots_csv",
    "write_stage_events_csv",
]

T = TypeVar("T")

SCHEMA: Final = "stars/1"
"""The schema version every document carries in its ``"schema"`` key."""

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
"""The JSON Schema dialect `json_schema` writes."""

MAX_BYTES: Final = 16 * 1024 * 1024
"""The default size limit of one document (characters of text, or bytes)."""

MAX_DEPTH: Final = 64
"""The default limit on how deeply arrays and objects may nest in one document."""

MAX_INT: Final = 2**53 - 1
"""The largest integer magnitude written or read (the range JSON numbers keep exactly)."""

EARLIEST: Final = datetime(2, 1, 1, tzinfo=UTC)
"""The earliest instant a document may hold (the analyses look back months from a date)."""

LATEST: Final = datetime(9999, 1, 1, tzinfo=UTC)
"""The first instant a document may no longer hold (the analyses reach months ahead).

Trying every analysis on the edges found its real limits: `Portfolio.to_frame`,
`Portfolio.transition_matrix`, `Portfolio.cohorts` and `stars.recovery.detect` fail
for instants after 9999-11-30 or before 0001-04-01 in UTC (and for any time whose UTC
instant falls outside the calendar). Loading refuses a whole year's margin on each side.
"""

_MAX_INT_DIGITS: Final = len(str(MAX_INT))
_MAX_TIME_TEXT: Final = 64
_MAX_KEY_SHOWN: Final = 40

Path = str | os.PathLike[str]


class _Missing:
    """Stands for an absent key in error messages."""

    def __repr__(self) -> str:
        return "nothing"


_MISSING: Final = _Missing()


# =========================================================================== context
class LoadContext:
    """What loading carries down the document: the lifecycle, the guard registry, helpers.

    Custom ``decode`` hooks (see `register`) receive one, with the JSON path of the
    object they decode.

    Attributes:
        lifecycle: Check stages and transitions against this lifecycle (``None``: no check).
        guards: The guard registry lifecycle definitions are resolved against.

    Examples:
        >>> from stars.io import LoadContext
        >>> ctx = LoadContext()
        >>> ctx.value("2025-01-01T00:00:00+00:00", "datetime", "$.at").year
        2025
        >>> ctx.value(3.5, int, "$.count")
        Traceback (most recent call last):
        ...
        stars.errors.SchemaError: $.count: got 3.5, expected an integer
    """

    __slots__ = ("_legal", "_stages", "guards", "lifecycle")

    def __init__(
        self, lifecycle: Lifecycle | None = None, guards: Mapping[str, Guard] = GUARDS
    ) -> None:
        self.lifecycle = lifecycle
        self.guards = guards
        self._legal: dict[tuple[str, str, str], Cycle] | None = None
        self._stages: frozenset[str] | None = None

    def value(self, raw: Any, hint: Any, path: str) -> Any:
        """Decode one JSON value against a type annotation.

        Args:
            raw: The JSON value.
            hint: A type (``str``, ``float | None``, ``tuple[Snapshot, ...]``, a registered
                class, ...) or the string ``"datetime"``.
            path: Its JSON path, for error messages.

        Returns:
            The decoded value.

        Raises:
            SchemaError: The value does not fit the annotation.

        Examples:
            >>> from stars.io import LoadContext
            >>> LoadContext().value(["a", "b"], tuple[str, ...], "$.tags")
            ('a', 'b')
        """
        if hint == "datetime":
            hint = datetime
        return _spec(hint).decode(raw, path, self)

    def error(self, path: str, value: object, expected: str) -> SchemaError:
        """Build (not raise) the error for a value that does not fit.

        Examples:
            >>> from stars.io import LoadContext
            >>> str(LoadContext().error("$.x", 1, "a string"))
            '$.x: got 1, expected a string'
        """
        return SchemaError(path, value, expected)

    def keys(
        self,
        data: Mapping[str, Any],
        path: str,
        allowed: Iterable[str],
        required: Iterable[str] = (),
    ) -> None:
        """Refuse keys outside ``allowed`` and missing ``required`` keys.

        Examples:
            >>> from stars.io import LoadContext
            >>> LoadContext().keys({"a": 1, "zz": 2}, "$", ["a"])
            Traceback (most recent call last):
            ...
            stars.errors.SchemaError: $.zz: got 2, expected no such field (known: 'a')
        """
        known = set(allowed)
        for key in data:
            if key not in known:
                shown = ", ".join(repr(k) for k in sorted(known))
                raise SchemaError(
                    _join(path, key), data[key], f"no such field (known: {shown or 'none'})"
                )
        for key in required:
            if key not in data:
                raise SchemaError(_join(path, key), _MISSING, "a value (the field is required)")

    # -- lifecycle lookups, computed once per load ---------------------------------
    def _stage_names(self) -> frozenset[str]:
        if self._stages is None:
            assert self.lifecycle is not None
            self._stages = frozenset(s.name for s in self.lifecycle.stages)
        return self._stages

    def _legal_edges(self) -> dict[tuple[str, str, str], Cycle]:
        if self._legal is None:
            assert self.lifecycle is not None
            self._legal = {
                (source, t.trigger, t.dest): t.cycle
                for t in self.lifecycle.transitions
                for source in t.sources
            }
        return self._legal

    def _check_stage(self, stage: str, path: str) -> None:
        lc = self.lifecycle
        assert lc is not None
        if stage not in self._stage_names():
            shown = ", ".join(repr(s) for s in sorted(self._stage_names()))
            raise SchemaError(path, stage, f"a stage of lifecycle {lc.name!r} ({shown})")


def _join(path: str, key: object) -> str:
    if isinstance(key, str) and len(key) > _MAX_KEY_SHOWN:
        # An error quotes a bounded prefix of an over-long key, never the key whole.
        shown = json.dumps(key[:_MAX_KEY_SHOWN], ensure_ascii=False)[:-1]
        return f"{path}[{shown}...({len(key)} characters)]"
    if isinstance(key, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key) if isinstance(key, str) else repr(key)}]"


# =========================================================================== specs
class _Spec:
    """How one annotated type is written, read, described and parsed from CSV."""

    expected = "a value"

    def accepts(self, value: Any) -> bool:
        raise NotImplementedError

    def encode(self, value: Any, path: str) -> Any:
        raise NotImplementedError

    def decode(self, raw: Any, path: str, ctx: LoadContext) -> Any:
        raise NotImplementedError

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def parse_cell(self, text: str) -> Any:
        raise _CellError(f"{self.expected} (not importable from CSV)")


class _CellError(Exception):
    """A CSV cell that does not parse (turned into a RejectedRow)."""


class _NoneSpec(_Spec):
    expected = "null"

    def accepts(self, value: Any) -> bool:
        return value is None

    def encode(self, value: Any, path: str) -> Any:
        return None

    def decode(self, raw: Any, path: str, ctx: LoadContext) -> Any:
        if raw is not None:
            raise SchemaError(path, raw, self.expected)
        return None

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "null"}

    def parse_cell(self, text: str) -> Any:
        if text.strip():
            raise _CellError("an empty cell")
        return None


class _PlainSpec(_Spec):
    """A value JSON holds as it is: written and read unchanged once its type is right."""

    def encode(self, value: Any, path: str) -> Any:
        if not self.accepts(value):
            raise InvalidValue(path, value, self.expected)
        return value

    def decode(self, raw: Any, path: str, ctx: LoadContext) -> Any:
        if not self.accepts(raw):
            raise SchemaError(path, raw, self.expected)
        return raw


class _StrSpec(_PlainSpec):
    expected = "a string"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str)

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "string"}

    def parse_cell(self, text: str) -> Any:
        return text


class _BoolSpec(_PlainSpec):
    expected = "true or false"
    _TRUE: Final = frozenset({"true", "t", "yes", "y", "1"})
    _FALSE: Final = frozenset({"false", "f", "no", "n", "0"})

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool)

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "boolean"}

    def parse_cell(self, text: str) -> Any:
        word = text.strip().lower()
        if word in self._TRUE:
            return True
        if word in self._FALSE:
            return False
        raise _CellError("true/false, yes/no or 1/0")


def _check_int(value: int, path: str, error: type[StarsError]) -> int:
    if -MAX_INT <= value <= MAX_INT:
        return value
    expected = f"an integer from -{MAX_INT} to {MAX_INT}"
    if error is SchemaError:
        raise SchemaError(path, value, expected)
    raise InvalidValue(path, value, expected)


class _IntSpec(_Spec):
    expected = "an integer"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    def encode(self, value: Any, path: str) -> Any:
        if not self.accepts(value):
            raise InvalidValue(path, value, self.expected)
        return _check_int(value, path, InvalidValue)

    def decode(self, raw: Any, path: str, ctx: LoadContext) -> Any:
        if not self.accepts(raw):
            raise SchemaError(path, raw, self.expected)
        return _check_int(raw, path, SchemaError)

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "integer", "minimum": -MAX_INT, "maximum": MAX_INT}

    def parse_cell(self, text: str) -> Any:
        word = text.strip()
        if not re.fullmatch(r"[+-]?\d{1,16}", word) or abs(int(word)) > MAX_INT:
            raise _CellError("a whole number")
        return int(word)


class _FloatSpec(_Spec):
    expected = "a finite number"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    def encode(self, value: Any, path: str) -> Any:
        if not self.accepts(value) or (isinstance(value, float) and not math.isfinite(value)):
            raise InvalidValue(path, value, self.expected)
        if isinstance(value, int):
            return _check_int(value, path, InvalidValue)
        return value

    def decode(self, raw: Any, path: str, ctx: LoadContext) -> Any:
        if not self.accepts(raw):
            raise SchemaError(path, raw, self.expected)
        if isinstance(raw, int):
            return _check_int(raw, path, SchemaError)
        if not math.isfinite(raw):
            raise SchemaError(path, raw, self.expected)
        return raw

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "number"}

    def parse_cell(self, text: str) -> Any:
        word = text.strip()
        if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", word):
            raise _CellError("a number")
        value = float(word)
        if not math.isfinite(value):
            raise _CellError("a finite number")
        return value


class _DateTimeSpec(_Spec):
    expected = "an ISO 8601 date-time with a UTC offset"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, datetime)

    def encode(self, value: Any, path: str) -> Any:
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise InvalidValue(path, value, "a timezone-aware datetime")
        if _IN_UTC.get():
            return _utc_text(value)
        return value.isoformat()

    def decode(self, raw: Any, path: str, ctx: LoadContext) -> Any:
        return self._parse(raw, path)

    def _parse(self, raw: Any, path: str) -> datetime:
        if not isinstance(raw, str) or len(raw) > _MAX_TIME_TEXT:
            raise SchemaError(path, raw, self.expected)
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise SchemaError(path, raw, self.expected) from None
        if value.tzinfo is None or value.utcoffset() is None:
            raise SchemaError(path, raw, self.expected + " (this one has no offset)")
        try:
            inside = EARLIEST <= value < LATEST  # compared as instants, in UTC
        except OverflowError:  # pragma: no cover - the comparison itself stays in range
            inside = False
        if not inside or not _utc_in_range(value):
            raise SchemaError(
                path,
                raw,
                f"a time from {EARLIEST.date().isoformat()} to before"
                f" {LATEST.date().isoformat()} in UTC (the analyses cannot reach further)",
            )
        return value

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}

    def parse_cell(self, text: str) -> Any:
        try:
            return self._parse(text.strip(), "")
        except SchemaError as err:
            raise _CellError(err.expected) from None


#: Set while a canonical document is written: every datetime is then written in UTC.
_IN_UTC: ContextVar[bool] = ContextVar("stars_io_in_utc", default=False)


def _utc_text(value: datetime) -> str:
    """An aware datetime as canonical text: the same instant in UTC, written ``+00:00``."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat()


def _utc_in_range(value: datetime) -> bool:
    try:
        value.astimezone(UTC)
    except OverflowError:
        return False
    return True


class _EnumSpec(_Spec):
    def __init__(self, cls: type[enum.Enum]) -> None:
        self.cls = cls
        self.by_value = {member.value: member for member in cls}
        values = list(self.by_value)
        for value in values:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise InvalidDefinition(f"enum {cls.__name__}: values must be strings or numbers")
        self.textual = all(isinstance(value, str) for value in values)
        self.expected = "one of " + ", ".join(repr(value) for value in values)

    def accepts(self, value: Any) -> bool:
        return isinstance(value, self.cls)

    def encode(self, value: Any, path: str) -> Any:
        if not isinstance(value, self.cls):
            raise InvalidValue(path, value, _a(self.cls.__name__))
        return value.value

    def decode(self, raw: Any, path: str, ctx: LoadContext) -> Any:
        fits = (
            isinstance(raw, str)
            if self.textual
            else isinstance(raw, int | float | str) and not isinstance(raw, bool)
        )
        if fits:
            try:
                return self.by_value[raw]
            except (KeyError, TypeError):
                pass
        raise SchemaError(path, raw, self.expected)

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"enum": list(self.by_value)}

    def parse_cell(self, text: str) -> Any:
        word = text.strip()
        if word in self.by_value:
            return self.by_value[word]
        if not self.textual:
            try:
                number = float(word)
            except ValueError:
                number = math.nan
            if number in self.by_value:
                return self.by_value[number]
        raise _CellError(self.expected)


class _LiteralSpec(_PlainSpec):
    def __init__(self, values: tuple[Any, ...]) -> None:
        for value in values:
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise InvalidDefinition("Literal values must be strings or integers")
        self.values = values
        self.expected = "one of " + ", ".join(repr(value) for value in values)

    def accepts(self, value: Any) -> bool:
        return any(type(value) is type(x) and value == x for x in self.values)

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"enum": list(self.values)}

    def parse_cell(self, text: str) -> Any:
        for value in self.values:
            if str(value) == text.strip():
                return value
        raise _CellError(self.expected)


def _is_array(raw: Any) -> bool:
    return isinstance(raw, list | tuple)


class _TupleSpec(_Spec):
    """``tuple[X, ...]`` (variadic) or ``frozenset[X]`` (unique, written sorted)."""

    def __init__(self, item: _Spec, unique: bool) -> None:
        self.item = item
        self.unique = unique
        kind = "a list of unique items" if unique else "a list"
        self.expected = f"{kind} of {item.expected}"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, frozenset | set) if self.unique else isinstance(value, tuple | Log)

    def encode(self, value: Any, path: str) -> Any:
        if not (isinstance(value, tuple | list | frozenset | set | Log)):
            raise InvalidValue(path, value, self.expected)
        out = [self.item.encode(x, f"{path}[{i}]") for i, x in enumerate(value)]
        if self.unique:
            out.sort(key=_sort_key)
        return out

    def decode(self, raw: Any, path: str, ctx: LoadContext) -> Any:
        if not _is_array(raw):
            raise SchemaError(path, raw, self.expected)
        items = [self.item.decode(x, f"{path}[{i}]", ctx) for i, x in enumerate(raw)]
        if not self.unique:
            return tuple(items)
        out = frozenset(items)
        if len(out) != len(items):
            raise SchemaError(path, raw, self.expected + " (it repeats an item)")
        return out

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "array", "items": self.item.schema(defs)}
        if self.unique:
            out["uniqueItems"] = True
        return out

    def parse_cell(self, text: str) -> Any:
        parts = [part.strip() for part in text.split(";")]
        items = [self.item.parse_cell(part) for part in parts if part]
        return frozenset(items) if self.unique else tuple(items)


def _sort_key(value: Any) -> str:
    # Numbers in their one form, so equal sets (``{50}`` and ``{50.0}``) sort alike.
    return value if isinstance(value, str) else json.dumps(_one_number_form(value), sort_keys=True)


class _FixedTupleSpec(_Spec):
    def __init__(self, items: tuple[_Spec, ...]) -> None:
        self.items = items
        self.expected = (
            f"a list of {len(items)} items (" + ", ".join(i.expected for i in items) + ")"
        )

    def accepts(self, value: Any) -> bool:
        return isinstance(value, tuple) and len(value) == len(self.items)

    def encode(self, value: Any, path: str) -> Any:
        if not isinstance(value, tuple | list) or len(value) != len(self.items):
            raise InvalidValue(path, value, self.expected)
        return [
            s.encode(x, f"{path}[{i}]")
            for i, (s, x) in enumerate(zip(self.items, value, strict=True))
        ]

    def decode(self, raw: Any, path: str, ctx: LoadContext) -> Any:
        if not _is_array(raw) or len(raw) != len(self.items):
            raise SchemaError(path, raw, self.expected)
        return tuple(
            s.decode(x, f"{path}[{i}]", ctx)
            for i, (s, x) in enumerate(zip(self.items, raw, strict=True))
        )

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        n = len(self.items)
        return {
            "type": "array",
            "prefixItems": [s.schema(defs) for s in self.items],
            "items": False,
            "minItems": n,
            "maxItems": n,
        }


class _MapSpec(_Spec):
    def __init__(self, key: _Spec, value: _Spec) -> None:
        if not isinstance(key, _StrSpec) and not (isinstance(key, _EnumSpec) and key.textual):
            raise InvalidDefinition("mapping keys must be strings or string enums")
        self.key = key
        self.value = value
        self.expected = f"an object whose values are {value.expected}"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, Mapping)

    def encode(self, value: Any, path: str) -> Any:
        if not isinstance(value, Mapping):
            raise InvalidValue(path, value, self.expected)
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = self.key.encode(key, f"{path} key")
            out[name] = self.value.encode(item, _join(path, name))
        return out

    def decode(self, raw: Any, path: str, ctx: LoadContext) -> Any:
        if not isinstance(raw, Mapping):
            raise SchemaError(path, raw, self.expected)
        out: dict[Any, Any] = {}
        for key, item in raw.items():
            if not isinstance(key, str):
                raise SchemaError(path, key, "string keys")
            name = self.key.decode(key, _join(path, key), ctx)
            out[name] = self.value.decode(item, _join(path, key), ctx)
        return out

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "object", "additionalProperties": self.value.schema(defs)}
        if isinstance(self.key, _EnumSpec):
            out["propertyNames"] = self.key.schema(defs)
        return out


class _UnionSpec(_Spec):
    def __init__(self, options: tuple[_Spec, ...]) -> None:
        self.options = options
        self.expected = " or ".join(o.expected for o in options)

    def accepts(self, value: Any) -> bool:
        return any(o.accepts(value) for o in self.options)

    def encode(self, value: Any, path: str) -> Any:
        for option in self.options:
            if option.accepts(value):
                return option.encode(value, path)
        raise InvalidValue(path, value, self.expected)

    def decode(self, raw: Any, path: str, ctx: LoadContext) -> Any:
        if isinstance(raw, Mapping) and isinstance(raw.get("type"), str):
            for option in self.options:
                if isinstance(option, _ClassSpec) and option.codec().name == raw["type"]:
                    return option.decode(raw, path, ctx)
        for option in self.options:
            try:
                return option.decode(raw, path, ctx)
            except SchemaError:
                continue
        raise SchemaError(path, raw, self.expected)

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"anyOf": [o.schema(defs) for o in self.options]}

    def parse_cell(self, text: str) -> Any:
        if not text.strip() and any(isinstance(o, _NoneSpec) for o in self.options):
            return None
        tried: list[_CellError] = []
        for option in self.options:
            if isinstance(option, _NoneSpec):
                continue
            try:
                return option.parse_cell(text)
            except _CellError as err:
                tried.append(err)
        # an optional value says what its one type wants (an empty cell is always fine)
        raise tried[0] if len(tried) == 1 else _CellError(self.expected)


class _ClassSpec(_Spec):
    def __init__(self, cls: type[Any]) -> None:
        self.cls = cls
        self.expected = f"{_a(cls.__name__)} object"

    def codec(self) -> _Codec:
        return _REGISTRY.codec_of(self.cls)

    def accepts(self, value: Any) -> bool:
        return isinstance(value, self.cls)

    def encode(self, value: Any, path: str) -> Any:
        if not isinstance(value, self.cls):
            raise InvalidValue(path, value, self.expected)
        # A registered subclass (e.g. backtest's Percentile, a kind of Steps) keeps its
        # own type name, so it loads back as itself rather than as the declared class.
        exact = _REGISTRY.find(type(value)) if type(value) is not self.cls else None
        return (exact or self.codec()).encode(value, path)

    def decode(self, raw: Any, path: str, ctx: LoadContext) -> Any:
        if isinstance(raw, Mapping) and isinstance(raw.get("type"), str):
            named = _REGISTRY.named(raw["type"])
            if named is not None and named.cls is not self.cls and issubclass(named.cls, self.cls):
                return named.decode(raw, path, ctx)
        return self.codec().decode(raw, path, ctx)

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        codec = self.codec()
        codec.add_schema(defs)
        return {"$ref": f"#/$defs/{codec.name}"}


_SPECS: dict[Any, _Spec] = {
    type(None): _NoneSpec(),
    None: _NoneSpec(),
    str: _StrSpec(),
    bool: _BoolSpec(),
    int: _IntSpec(),
    float: _FloatSpec(),
    datetime: _DateTimeSpec(),
}
_SPECS_LOCK = threading.RLock()


def _spec(hint: Any) -> _Spec:
    """The spec of a type annotation (cached; attrs classes are registered on the way)."""
    try:
        cached = _SPECS.get(hint)
    except TypeError:
        cached = None
    if cached is not None:
        return cached
    with _SPECS_LOCK:
        made = _make_spec(hint)
        with suppress(TypeError):
            _SPECS[hint] = made
        return made


def _make_spec(hint: Any) -> _Spec:
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _EnumSpec(hint)
    if isinstance(hint, type) and (attrs.has(hint) or hint in _REGISTRY.by_class):
        _REGISTRY.ensure(hint)
        return _ClassSpec(hint)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return _UnionSpec(tuple(_spec(a) for a in args))
    if origin is typing.Literal:
        return _LiteralSpec(args)
    if origin is Sequence and len(args) == 1:
        return _TupleSpec(_spec(args[0]), unique=False)  # an append-only history: a tuple or Log
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _TupleSpec(_spec(args[0]), unique=False)
        if args and Ellipsis not in args:
            return _FixedTupleSpec(tuple(_spec(a) for a in args))
    if origin in (frozenset, set) and len(args) == 1:
        return _TupleSpec(_spec(args[0]), unique=True)
    if origin in (Mapping, dict, typing.Mapping) and len(args) == 2:
        return _MapSpec(_spec(args[0]), _spec(args[1]))
    raise InvalidDefinition(f"cannot serialize values of type {hint!r}")


# =========================================================================== codecs
Encoder = Callable[[Any], Mapping[str, Any]]
Decoder = Callable[[Mapping[str, Any], LoadContext, str], Any]
Checker = Callable[[Any, LoadContext, str], None]
Preparer = Callable[[dict[str, Any], LoadContext, str], None]


@attrs.frozen(slots=True)
class _Field:
    name: str
    key: str
    spec: _Spec
    required: bool
    read: str  # the attribute to read: a private field's public property when there is one


class _Codec:
    """How one registered class is written and read."""

    def __init__(
        self,
        cls: type[Any],
        name: str,
        encoder: Encoder | None,
        decoder: Decoder | None,
        check: Checker | None,
        schema: Mapping[str, Any] | Callable[[dict[str, Any]], dict[str, Any]] | None,
    ) -> None:
        self.cls = cls
        self.name = name
        self.encoder = encoder
        self.decoder = decoder
        self.check = check
        self.custom_schema = schema
        self.prepare: Preparer | None = None
        self.fields: tuple[_Field, ...] = ()
        self.keys: frozenset[str] = frozenset()

    def compile(self) -> None:
        if self.encoder is not None:
            return
        try:
            hints = typing.get_type_hints(self.cls)
        except Exception as exc:
            raise InvalidDefinition(
                f"cannot read the annotations of {self.cls.__name__}: {exc}"
            ) from exc
        out = []
        for f in attrs.fields(self.cls):
            if not f.init:
                continue
            if f.name not in hints:
                raise InvalidDefinition(f"{self.cls.__name__}.{f.name} has no type annotation")
            key = f.alias or f.name
            if key in ("type", "schema"):
                raise InvalidDefinition(f"{self.cls.__name__}: a field may not be named {key!r}")
            public = isinstance(inspect.getattr_static(self.cls, key, None), property)
            read = key if key != f.name and public else f.name
            out.append(_Field(f.name, key, _spec(hints[f.name]), f.default is attrs.NOTHING, read))
        self.fields = tuple(out)
        self.keys = frozenset(f.key for f in out)

    def encode(self, value: Any, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.name}
        if self.encoder is not None:
            data = self.encoder(value)
            for key, item in data.items():
                if not isinstance(key, str) or key in ("type", "schema"):
                    raise InvalidValue(f"{path} key", key, "a field name other than type/schema")
                out[key] = _encode_any(item, _join(path, key))
            return out
        for f in self.fields:
            out[f.key] = f.spec.encode(getattr(value, f.read), _join(path, f.key))
        return out

    def decode(self, raw: Any, path: str, ctx: LoadContext, *, top: bool = False) -> Any:
        if not isinstance(raw, Mapping):
            raise SchemaError(path, raw, f"{_a(self.name)} object")
        kind = raw.get("type", _MISSING)
        if kind is not _MISSING and kind != self.name:
            raise SchemaError(_join(path, "type"), kind, repr(self.name))
        skip = ("type", "schema") if top else ("type",)
        if self.decoder is not None:
            data = {k: item for k, item in raw.items() if k not in skip}
            value = self.decoder(data, ctx, path)
            if not isinstance(value, self.cls):
                raise SchemaError(path, type(value).__name__, f"{_a(self.name)} from the decoder")
        else:
            for key in raw:
                if key not in self.keys and key not in skip:
                    shown = ", ".join(repr(k) for k in sorted(self.keys))
                    raise SchemaError(
                        _join(path, key), raw[key], f"no such field in {self.name} (known: {shown})"
                    )
            kwargs: dict[str, Any] = {}
            for f in self.fields:
                if f.key in raw:
                    kwargs[f.key] = f.spec.decode(raw[f.key], _join(path, f.key), ctx)
                elif f.required:
                    raise SchemaError(
                        _join(path, f.key), _MISSING, "a value (the field is required)"
                    )
            if self.prepare is not None:
                self.prepare(kwargs, ctx, path)
            value = self._construct(kwargs, path)
        if self.check is not None and ctx.lifecycle is not None:
            self.check(value, ctx, path)
        return value

    def _construct(self, kwargs: dict[str, Any], path: str) -> Any:
        try:
            return self.cls(**kwargs)
        except SchemaError:
            raise
        except InvalidValue as err:
            field = err.field
            if re.fullmatch(r"[A-Za-z_]\w*(\[\d+\])*(\.\w+(\[\d+\])*)*", field):
                head = re.split(r"[\[.]", field)[0]
                where = f"{path}.{field}" if head.lstrip("_") in self.keys else path
            else:
                where = path
            expected = err.expected + (f" ({err.hint})" if err.hint else "")
            raise SchemaError(where, err.value, expected) from err
        except StarsError as err:
            raise SchemaError(path, _Shown(self.name), f"a valid {self.name}: {err}") from err
        except Exception as err:
            raise SchemaError(
                path, _Shown(self.name), f"a valid {self.name}: {type(err).__name__}: {err}"
            ) from err

    def add_schema(self, defs: dict[str, Any]) -> None:
        if self.name in defs:
            return
        defs[self.name] = {}
        if callable(self.custom_schema):
            defs[self.name] = self.custom_schema(defs)
            return
        if self.custom_schema is not None:
            body = dict(self.custom_schema)
            body["properties"] = {"type": {"const": self.name}, **body.get("properties", {})}
            defs[self.name] = body
            return
        props: dict[str, Any] = {"type": {"const": self.name}}
        required = []
        for f in self.fields:
            props[f.key] = f.spec.schema(defs)
            if f.required:
                required.append(f.key)
        doc = (self.cls.__doc__ or "").strip().splitlines()
        defs[self.name] = {
            "title": self.name,
            "description": doc[0] if doc else self.name,
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": False,
        }


class _Shown:
    """A value whose repr is the given text (for error messages)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _encode_any(value: Any, path: str) -> Any:
    """Encode a value by its runtime type (for custom encoders)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return _SPECS[float].encode(value, path)
    if isinstance(value, enum.Enum):
        return _EnumSpec(type(value)).encode(value, path)
    if isinstance(value, datetime):
        return _SPECS[datetime].encode(value, path)
    codec = _REGISTRY.find(type(value))
    if codec is not None:
        return codec.encode(value, path)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            name = key.value if isinstance(key, enum.Enum) else key
            if not isinstance(name, str):
                raise InvalidValue(f"{path} key", key, "a string")
            out[name] = _encode_any(item, _join(path, name))
        return out
    if isinstance(value, frozenset | set):
        return sorted((_encode_any(x, f"{path}[{i}]") for i, x in enumerate(value)), key=_sort_key)
    if isinstance(value, list | tuple):
        return [_encode_any(x, f"{path}[{i}]") for i, x in enumerate(value)]
    raise InvalidValue(path, value, "a value stars can write as JSON (register its class)")


class _Registry:
    """The allow-list of classes that documents may name."""

    def __init__(self) -> None:
        self.by_name: dict[str, _Codec] = {}
        self.by_class: dict[type[Any], _Codec] = {}
        self.lock = threading.RLock()
        self.optional_done = False
        self.loading = False

    def add(
        self,
        cls: type[Any],
        name: str | None = None,
        encoder: Encoder | None = None,
        decoder: Decoder | None = None,
        check: Checker | None = None,
        schema: Mapping[str, Any] | Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> _Codec:
        if not isinstance(cls, type):
            raise InvalidValue("cls", cls, "a class")
        if (encoder is None) != (decoder is None):
            raise InvalidDefinition(f"{cls.__name__}: give both encode and decode, or neither")
        if encoder is None and not attrs.has(cls):
            raise InvalidDefinition(
                f"{cls.__name__} is not an attrs class; register it with encode= and decode="
            )
        name = name if name is not None else cls.__name__
        v.text("name", name)
        with self.lock:
            other = self.by_name.get(name)
            if other is not None and other.cls is not cls:
                raise InvalidDefinition(
                    f"type name {name!r} is already registered for {other.cls.__module__}."
                    f"{other.cls.__qualname__}; pass name= to register under another name"
                )
            old = self.by_class.get(cls)
            if old is not None and encoder is None and check is None and schema is None:
                return old
            codec = _Codec(cls, name, encoder, decoder, check, schema)
            if old is not None and old.prepare is not None:
                codec.prepare = old.prepare
            saved = (dict(self.by_name), dict(self.by_class))
            if old is not None:
                self.by_name.pop(old.name, None)
            self.by_name[name] = codec
            self.by_class[cls] = codec
            try:
                codec.compile()
            except BaseException:
                self.by_name, self.by_class = saved
                raise
            return codec

    def ensure(self, cls: type[Any]) -> _Codec:
        codec = self.by_class.get(cls)
        if codec is not None:
            return codec
        with self.lock:
            name = cls.__name__
            if name in self.by_name and self.by_name[name].cls is not cls:
                name = f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__name__}"
            return self.add(cls, name)

    def codec_of(self, cls: type[Any]) -> _Codec:
        codec = self.by_class.get(cls)
        if codec is None:
            codec = self.ensure(cls)
        return codec

    def find(self, cls: type[Any]) -> _Codec | None:
        self.load_optional()
        return self.by_class.get(cls)

    def named(self, name: object) -> _Codec | None:
        self.load_optional()
        if not isinstance(name, str):
            return None
        return self.by_name.get(name)

    def load_optional(self) -> None:
        if self.optional_done:
            return
        with self.lock:  # other threads wait here until the modules are registered
            if self.optional_done or self.loading:
                return
            self.loading = True
            try:
                self._load_modules()
            finally:
                self.optional_done = True
                self.loading = False

    def _load_modules(self) -> None:
        for module_name in _OPTIONAL_MODULES:
            _register_module(module_name)
        _register_portfolio()


_REGISTRY: Final = _Registry()

_OPTIONAL_MODULES: Final = (
    "stars.health",
    "stars.depth",
    "stars.maturity",
    "stars.journey",
    "stars.recovery",
    "stars.portfolio",
    "stars.backtesting",
)


def _register_module(module_name: str) -> None:
    """Register the plain value classes a module exports (skipping what is not plain data)."""
    import importlib

    try:
        module = importlib.import_module(module_name)
    except Exception:
        return
    for attr in getattr(module, "__all__", ()):
        obj = getattr(module, attr, None)
        if (
            isinstance(obj, type)
            and attrs.has(obj)
            # defined in the module itself or in one of its private submodules (a package)
            and (obj.__module__ == module_name or obj.__module__.startswith(module_name + "._"))
            and obj not in _REGISTRY.by_class
            and obj.__eq__ is not object.__eq__  # identity objects (hook events) are not data
        ):
            try:
                _REGISTRY.ensure(obj)
            except StarsError:
                continue


def _register_portfolio() -> None:
    """A portfolio holds accounts and refers to its lifecycle by name."""
    try:
        from stars.portfolio import Portfolio
    except Exception:  # pragma: no cover - only while stars.portfolio is missing
        return

    def encode(p: Portfolio) -> Mapping[str, Any]:
        return {"lifecycle": p.lifecycle.name, "accounts": p.accounts()}

    def decode(data: Mapping[str, Any], ctx: LoadContext, path: str) -> Portfolio:
        ctx.keys(data, path, ("lifecycle", "accounts"), ("accounts",))
        name = ctx.value(data.get("lifecycle", STARS.name), str, f"{path}.lifecycle")
        lc = ctx.lifecycle if ctx.lifecycle is not None else STARS
        if name != lc.name:
            raise SchemaError(
                f"{path}.lifecycle", name, f"{lc.name!r} (load it with the lifecycle it names)"
            )
        accounts = ctx.value(data["accounts"], tuple[Account, ...], f"{path}.accounts")
        seen: set[str] = set()
        for i, account in enumerate(accounts):
            if account.id in seen:
                raise SchemaError(
                    f"{path}.accounts[{i}].id", account.id, "an id no earlier account has"
                )
            seen.add(account.id)
        return Portfolio(accounts, lc)

    def schema(defs: dict[str, Any]) -> dict[str, Any]:
        return {
            "title": "Portfolio",
            "description": "Accounts keyed by id, and the name of the lifecycle they follow.",
            "type": "object",
            "properties": {
                "type": {"const": "Portfolio"},
                "lifecycle": {"type": "string"},
                "accounts": {"type": "array", "items": _spec(Account).schema(defs)},
            },
            "required": ["accounts"],
            "additionalProperties": False,
        }

    if Portfolio not in _REGISTRY.by_class and not attrs.has(Portfolio):
        _REGISTRY.add(
            Portfolio,
            "Portfolio",
            typing.cast(Encoder, encode),
            typing.cast(Decoder, decode),
            None,
            schema,
        )


def register(
    cls: type[T],
    *,
    name: str | None = None,
    encode: Callable[[T], Mapping[str, Any]] | None = None,
    decode: Callable[[Mapping[str, Any], LoadContext, str], T] | None = None,
    check: Callable[[T, LoadContext, str], None] | None = None,
    schema: Mapping[str, Any] | None = None,
) -> type[T]:
    """Allow a class in documents, under its name (or ``name``).

    Plain frozen attrs classes need no hooks: their fields are written and read by
    their annotations, and the attrs classes they refer to are registered too. A class
    that holds something else gives ``encode`` and ``decode``.

    Args:
        cls: The class.
        name: The document ``"type"`` (default: the class name).
        encode: ``encode(value)`` returns the fields (values may be anything
            `to_dict` can write: registered values, enums, datetimes, tuples, ...).
        decode: ``decode(data, ctx, path)`` builds the value from the fields; use
            ``ctx.value(data["x"], hint, path + ".x")`` for each so errors name their path.
        check: ``check(value, ctx, path)`` runs after loading when a lifecycle is given.
        schema: The JSON Schema of the object (default: derived from the fields).

    Returns:
        The class, so ``register`` also works as a decorator.

    Raises:
        InvalidDefinition: The name is taken, a field's type cannot be written, or only
            one of ``encode``/``decode`` is given.

    Examples:
        >>> import attrs
        >>> from stars.io import dumps, loads, register
        >>> @register
        ... @attrs.frozen
        ... class Note:
        ...     text: str
        ...     stars: int = 0
        >>> loads(dumps(Note("great call", 5)))
        Note(text='great call', stars=5)
    """
    _REGISTRY.load_optional()
    encoder: Encoder | None = typing.cast("Encoder | None", encode)
    decoder: Decoder | None = typing.cast("Decoder | None", decode)
    checker: Checker | None = typing.cast("Checker | None", check)
    _REGISTRY.add(cls, name, encoder, decoder, checker, schema)
    return cls


def registered_types() -> dict[str, type[Any]]:
    """The document types that can be loaded, by name.

    Examples:
        >>> from stars.io import registered_types
        >>> types = registered_types()
        >>> types["Account"].__name__, "Snapshot" in types
        ('Account', True)
    """
    _REGISTRY.load_optional()
    return {name: codec.cls for name, codec in sorted(_REGISTRY.by_name.items())}


# =========================================================================== core hooks
def _time_order(items: Sequence[Any], path: str, key: str, what: str) -> None:
    for i in range(1, len(items)):
        if items[i].at < items[i - 1].at:
            raise SchemaError(
                f"{path}.{key}[{i}].at",
                items[i].at.isoformat(),
                f"a time not earlier than the previous {what} ({items[i - 1].at.isoformat()})",
            )


def _prepare_account(kwargs: dict[str, Any], ctx: LoadContext, path: str) -> None:
    _time_order(kwargs.get("snapshots", ()), path, "snapshots", "snapshot")
    _time_order(kwargs.get("depths", ()), path, "depths", "depth")
    history: tuple[TransitionRecord, ...] = kwargs.get("history", ())
    for i in range(1, len(history)):
        if history[i].source != history[i - 1].dest:
            raise SchemaError(
                f"{path}.history[{i}].source",
                history[i].source,
                f"{history[i - 1].dest!r}, where the previous record ended",
            )
    _time_order(history, path, "history", "record")
    stage = kwargs.get("stage", "prospect")
    if history and stage != history[-1].dest:
        raise SchemaError(f"{path}.stage", stage, f"{history[-1].dest!r}, the last record's dest")


def _check_account(account: Account, ctx: LoadContext, path: str) -> None:
    ctx._check_stage(account.stage, f"{path}.stage")


def _check_record(record: TransitionRecord, ctx: LoadContext, path: str) -> None:
    lc = ctx.lifecycle
    assert lc is not None
    ctx._check_stage(record.source, f"{path}.source")
    ctx._check_stage(record.dest, f"{path}.dest")
    if record.trigger not in lc.triggers:
        shown = ", ".join(repr(t) for t in sorted(lc.triggers))
        raise SchemaError(
            f"{path}.trigger", record.trigger, f"a trigger of lifecycle {lc.name!r} ({shown})"
        )
    cycle = ctx._legal_edges().get((record.source, record.trigger, record.dest))
    if cycle is None:
        raise SchemaError(
            f"{path}.trigger",
            record.trigger,
            f"a transition from {record.source!r} to {record.dest!r} in lifecycle {lc.name!r}",
        )
    if cycle is not record.cycle:
        raise SchemaError(f"{path}.cycle", record.cycle.value, repr(cycle.value))


def _check_event(event: Event, ctx: LoadContext, path: str) -> None:
    lc = ctx.lifecycle
    assert lc is not None
    if event.trigger not in lc.triggers:
        shown = ", ".join(repr(t) for t in sorted(lc.triggers))
        raise SchemaError(
            f"{path}.trigger", event.trigger, f"a trigger of lifecycle {lc.name!r} ({shown})"
        )
    if event.to is not None:
        ctx._check_stage(event.to, f"{path}.to")


def _check_account_id(instance: Any, attribute: Any, value: Any) -> None:
    v.text("account", value)


def _check_event_id(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        v.text("id", value)
        if len(value) > MAX_EVENT_ID:
            raise InvalidValue("id", value, f"an event id of at most {MAX_EVENT_ID} characters")


MAX_EVENT_ID: Final = 200
"""The longest event id accepted (`AccountEvent.id`)."""


@attrs.frozen(slots=True)
class AccountEvent:
    """One line of an event stream: a snapshot or a transition record of one account.

    Attributes:
        account: The account's id.
        event: The snapshot or the record.
        id: The event's own id, given by the system that sent it (``None``: none). A
            stream delivered at least once may repeat a line; its id says it is the
            same event, so readers and stores count it once (see `read_events` and
            `stars.store.Store.ingest`).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import Snapshot
        >>> from stars.io import AccountEvent
        >>> e = AccountEvent("acme", Snapshot(at=datetime(2025, 1, 1, tzinfo=timezone.utc)))
        >>> e.at.year
        2025
    """

    account: str = attrs.field(validator=_check_account_id)
    event: Snapshot | TransitionRecord = attrs.field()
    id: str | None = attrs.field(default=None, validator=_check_event_id)

    @event.validator
    def _check_event(self, attribute: Any, value: Any) -> None:
        if not isinstance(value, Snapshot | TransitionRecord):
            raise InvalidValue("event", value, "a Snapshot or a TransitionRecord")

    @property
    def at(self) -> datetime:
        """When the event happened.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import Snapshot
            >>> from stars.io import AccountEvent
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> AccountEvent("a", Snapshot(at=t)).at == t
            True
        """
        return self.event.at


def _register_core() -> None:
    for cls in (
        Snapshot,
        TransitionRecord,
        DepthPoint,
        OwnerChange,
        Account,
        CycleEpisode,
        Policy,
        BandCutoffs,
        StageProfile,
        StageDef,
        Event,
        Evidence,
        Diagnosis,
        Verdict,
        AccountEvent,
    ):
        _REGISTRY.add(cls)
    _REGISTRY.by_class[Account].prepare = _prepare_account
    _REGISTRY.by_class[Account].check = _check_account
    _REGISTRY.by_class[TransitionRecord].check = _check_record
    _REGISTRY.by_class[Event].check = _check_event


# =========================================================================== to / from dict
def to_dict(value: Any, *, canonical: bool = False) -> dict[str, Any]:
    """Write a registered value as a JSON-ready dict with ``"schema"`` and ``"type"``.

    Datetimes become ISO 8601 strings with their UTC offset (the offset is kept, a
    zone name is not), enums their values, tuples lists, frozensets sorted lists.
    With ``canonical=True`` every datetime is written as the same instant in UTC
    (``+00:00``), so equal values give equal dicts: this is what `dumps` with
    ``canonical=True`` writes (through `canonical_json`).

    Args:
        value: A value of a registered class (see `registered_types`), or a
            `Lifecycle`.
        canonical: Write every datetime in UTC (the offset it was made with is not kept).

    Returns:
        A new dict of plain JSON values.

    Raises:
        InvalidValue: The value's class is not registered, or a number cannot be
            written exactly in JSON.
        InvalidDefinition: A lifecycle uses a guard that is not in the guard registry.

    Examples:
        >>> from datetime import datetime, timedelta, timezone
        >>> from stars import Snapshot
        >>> from stars.io import to_dict
        >>> d = to_dict(Snapshot(at=datetime(2025, 1, 6, tzinfo=timezone.utc), health=72.5))
        >>> d["schema"], d["type"], d["at"], d["health"]
        ('stars/1', 'Snapshot', '2025-01-06T00:00:00+00:00', 72.5)
        >>> paris = timezone(timedelta(hours=1))
        >>> s = Snapshot(at=datetime(2025, 1, 6, 9, 30, tzinfo=paris))
        >>> to_dict(s)["at"], to_dict(s, canonical=True)["at"]
        ('2025-01-06T09:30:00+01:00', '2025-01-06T08:30:00+00:00')
    """
    codec = _REGISTRY.find(type(value))
    if codec is None:
        raise InvalidValue(
            "value",
            _Shown(type(value).__name__),
            "a value of a registered type (see stars.io.registered_types and register)",
        )
    if not canonical:
        return {"schema": SCHEMA, **codec.encode(value, "$")}
    token = _IN_UTC.set(True)
    try:
        body = codec.encode(value, "$")
    finally:
        _IN_UTC.reset(token)
    return {"schema": SCHEMA, **body}


@overload
def from_dict(
    doc: Any,
    cls: type[T],
    *,
    lifecycle: Lifecycle | None = ...,
    guards: Mapping[str, Guard] = ...,
    max_depth: int = ...,
) -> T: ...


@overload
def from_dict(
    doc: Any,
    cls: None = None,
    *,
    lifecycle: Lifecycle | None = ...,
    guards: Mapping[str, Guard] = ...,
    max_depth: int = ...,
) -> Any: ...


def from_dict(
    doc: Any,
    cls: type[Any] | None = None,
    *,
    lifecycle: Lifecycle | None = STARS,
    guards: Mapping[str, Guard] = GUARDS,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Load a value from a dict written by `to_dict` (or by hand, or from YAML).

    Args:
        doc: The document: a mapping with ``"schema"`` and ``"type"``.
        cls: Require this type (and let type checkers know the result's type).
        lifecycle: Check stages and transitions against it; ``None`` skips the check.
        guards: The guard registry used by lifecycle definitions.
        max_depth: Refuse documents nested deeper than this.

    Returns:
        A whole, valid value.

    Raises:
        SchemaError: Anything wrong with the document, naming the JSON path.
        StarsError: Only `stars` errors are raised, whatever the input.

    Examples:
        >>> from stars import Account
        >>> from stars.io import from_dict
        >>> from_dict({"schema": "stars/1", "type": "Account", "id": "acme"}, Account)
        Account(id='acme', stage='prospect', snapshots=0, history=0, version=0)
        >>> from_dict({"schema": "stars/1", "type": "Account", "id": "acme", "stage": "gold"})
        Traceback (most recent call last):
        ...
        stars.errors.SchemaError: $.stage: got 'gold', expected a stage of lifecycle 'STARS' (...)
    """
    with _guarded():
        _check_depth(doc, max_depth)
        return _from_doc(doc, cls, LoadContext(lifecycle, guards))


@contextmanager
def _guarded(path: str = "$") -> Iterator[None]:
    """Let `stars` errors through; turn anything else into a SchemaError."""
    try:
        yield
    except StarsError:
        raise
    except RecursionError as exc:
        raise SchemaError(path, _Shown("a deeply nested value"), "less nesting") from exc
    except Exception as exc:
        raise SchemaError(
            path, _Shown(type(exc).__name__), f"a document stars can load ({exc})"
        ) from exc


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


def _from_doc(doc: Any, cls: type[Any] | None, ctx: LoadContext) -> Any:
    if not isinstance(doc, Mapping):
        raise SchemaError("$", doc, "a JSON object with 'schema' and 'type'")
    schema = doc.get("schema", _MISSING)
    if schema != SCHEMA:
        raise SchemaError("$.schema", schema, repr(SCHEMA))
    kind = doc.get("type", _MISSING)
    if cls is not None:
        wanted = _REGISTRY.find(cls)
        if wanted is None:
            raise UnknownName("type", cls.__name__, sorted(_REGISTRY.by_name))
        if kind != wanted.name:
            raise SchemaError("$.type", kind, repr(wanted.name))
    codec = _REGISTRY.named(kind)
    if codec is None:
        shown = ", ".join(sorted(_REGISTRY.by_name))
        raise SchemaError("$.type", kind, f"a registered type ({shown})")
    return codec.decode(doc, "$", ctx, top=True)


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


def dumps(value: Any, *, indent: int | None = None, canonical: bool = False) -> str:
    """Write a registered value as JSON text (see `to_dict`).

    With ``canonical=True`` the text is the one canonical encoding: equal values give
    identical text (so identical bytes, hashes and signatures). Keys are sorted at every
    level, the text is compact, and every number has one form: a whole number is written
    without a fraction (``50.0`` as ``50``), ``-0.0`` as ``0``, any other number in the
    shortest form that reads back exactly. Every datetime is written as the same instant
    in UTC with the offset ``+00:00`` (``10:00+00:00`` and ``11:00+01:00`` are one
    instant, so one text); the offset a time was made with is not kept. Loading
    canonical text gives an equal value (its times in UTC).

    Args:
        value: The value.
        indent: Pretty-print with this indent (default: compact, one line; not with
            ``canonical``).
        canonical: Write the canonical encoding.

    Returns:
        The JSON text; NaN and infinities never appear in it.

    Raises:
        InvalidValue: ``indent`` together with ``canonical``, or a value that cannot be written.

    Examples:
        >>> from stars import BandCutoffs
        >>> from stars.io import dumps
        >>> dumps(BandCutoffs())
        '{"schema":"stars/1","type":"BandCutoffs","red_below":40.0,"green_from":70.0}'
        >>> dumps(BandCutoffs(red_below=40, green_from=70.0), canonical=True)
        '{"green_from":70,"red_below":40,"schema":"stars/1","type":"BandCutoffs"}'
    """
    if canonical:
        if indent is not None:
            raise InvalidValue("indent", indent, "None when canonical=True (one form only)")
        return canonical_json(to_dict(value, canonical=True))
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(
        to_dict(value), allow_nan=False, ensure_ascii=False, indent=indent, separators=separators
    )


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


@overload
def loads(
    text: str | bytes,
    cls: type[T],
    *,
    lifecycle: Lifecycle | None = ...,
    guards: Mapping[str, Guard] = ...,
    max_bytes: int = ...,
    max_depth: int = ...,
) -> T: ...


@overload
def loads(
    text: str | bytes,
    cls: None = None,
    *,
    lifecycle: Lifecycle | None = ...,
    guards: Mapping[str, Guard] = ...,
    max_bytes: int = ...,
    max_depth: int = ...,
) -> Any: ...


def loads(
    text: str | bytes,
    cls: type[Any] | None = None,
    *,
    lifecycle: Lifecycle | None = STARS,
    guards: Mapping[str, Guard] = GUARDS,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Load a value from JSON text, refusing anything that is not a whole, valid document.

    Refused with a `stars` error (never anything else): invalid JSON or UTF-8, text
    over ``max_bytes``, nesting over ``max_depth``, NaN or Infinity, integers beyond
    ±2**53-1, keys repeated in an object, an unknown schema version or type, missing or
    extra fields, wrong types, naive datetimes, out-of-order timestamps, broken
    history chains and, with a lifecycle, unknown stages and transitions.

    Args:
        text: The JSON text (str or UTF-8 bytes).
        cls: Require this type.
        lifecycle: Check stages and transitions against it (``None``: no check).
        guards: The guard registry used by lifecycle definitions.
        max_bytes: Size limit.
        max_depth: Nesting limit.

    Returns:
        The value.

    Raises:
        SchemaError: What is wrong and where (a JSON path such as ``$.history[3].at``).

    Examples:
        >>> from stars.io import loads
        >>> loads('{"schema": "stars/2", "type": "Account", "id": "acme"}')
        Traceback (most recent call last):
        ...
        stars.errors.SchemaError: $.schema: got 'stars/2', expected 'stars/1'
        >>> loads('{"schema": "stars/1", "type": "Snapshot", "at": "2025-01-01T00:00:00"}')
        Traceback (most recent call last):
        ...
        stars.errors.SchemaError: $.at: got '2025-01-01T00:00:00', expected an ISO 8601 ...
    """
    with _guarded():
        doc = _parse_json(text, max_bytes)
        _check_depth(doc, max_depth)
        return _from_doc(doc, cls, LoadContext(lifecycle, guards))


# =========================================================================== lifecycles
def _transition_dict(t: TransitionDef, guards: Mapping[str, Guard]) -> dict[str, Any]:
    names = []
    for g in t.guards:
        if guards.get(g.name) is not g:
            raise InvalidDefinition(
                f"transition {t.trigger!r} uses guard {g.name!r}, which is not in the guard "
                "registry, so it cannot be exported by name; add it to a registry mapping "
                "and pass guards= when exporting and loading"
            )
        names.append(g.name)
    return {
        "type": "TransitionDef",
        "trigger": t.trigger,
        "sources": list(t.sources),
        "dest": t.dest,
        "cycle": t.cycle.value,
        "guards": names,
    }


def lifecycle_to_dict(lc: Lifecycle, *, guards: Mapping[str, Guard] = GUARDS) -> dict[str, Any]:
    """A lifecycle definition as data: stages, transitions with guard names, policy.

    Hooks and a custom diagnoser are code, so they are not part of the data; give
    them again when loading.

    Args:
        lc: The lifecycle.
        guards: The registry whose names the guards are exported by.

    Returns:
        A JSON-ready dict (``"type": "Lifecycle"``).

    Raises:
        InvalidDefinition: A guard is not the registry's guard of that name.

    Examples:
        >>> from stars import STARS
        >>> from stars.io import lifecycle_to_dict
        >>> d = lifecycle_to_dict(STARS)
        >>> d["initial"], d["transitions"][0]["trigger"], d["transitions"][0]["guards"]
        ('prospect', 'sign', ['contract_signed'])
    """
    stage_spec = _spec(tuple[StageDef, ...])
    out: dict[str, Any] = {
        "schema": SCHEMA,
        "type": "Lifecycle",
        "name": lc.name,
        "initial": lc.initial,
        "stages": stage_spec.encode(lc.stages, "$.stages"),
        "transitions": [_transition_dict(t, guards) for t in lc.transitions],
        "policy": _spec(Policy).encode(lc.policy, "$.policy"),
    }
    if lc.scorecards is not None:
        out["scorecards"] = _encode_any(lc.scorecards, "$.scorecards")
    return out


_LIFECYCLE_KEYS: Final = ("name", "initial", "stages", "transitions", "policy", "scorecards")
_TRANSITION_KEYS: Final = ("type", "trigger", "sources", "dest", "cycle", "guards")


def _decode_transition(raw: Any, path: str, ctx: LoadContext) -> TransitionDef:
    if not isinstance(raw, Mapping):
        raise SchemaError(path, raw, "a TransitionDef object")
    ctx.keys(raw, path, _TRANSITION_KEYS, ("trigger", "sources", "dest", "cycle"))
    if raw.get("type", "TransitionDef") != "TransitionDef":
        raise SchemaError(f"{path}.type", raw["type"], "'TransitionDef'")
    trigger = ctx.value(raw["trigger"], str, f"{path}.trigger")
    sources = raw["sources"]
    if isinstance(sources, str):
        sources = [sources]
    sources = ctx.value(sources, tuple[str, ...], f"{path}.sources")
    dest = ctx.value(raw["dest"], str, f"{path}.dest")
    cycle = ctx.value(raw["cycle"], Cycle, f"{path}.cycle")
    names = ctx.value(raw.get("guards", []), tuple[str, ...], f"{path}.guards")
    found = []
    for i, name in enumerate(names):
        guard = ctx.guards.get(name)
        if guard is None:
            err = UnknownName("guard", name, list(ctx.guards))
            err.add_note(f"at {path}.guards[{i}]")
            raise err
        found.append(guard)
    try:
        return TransitionDef(trigger, sources, dest, cycle, tuple(found))
    except InvalidValue as err:
        raise SchemaError(f"{path}.{err.field}", err.value, err.expected) from err


def _decode_lifecycle(
    data: Mapping[str, Any],
    ctx: LoadContext,
    path: str,
    diagnoser: Any = None,
) -> Lifecycle:
    ctx.keys(data, path, _LIFECYCLE_KEYS, ("initial", "stages", "transitions"))
    name = ctx.value(data.get("name", "custom"), str, f"{path}.name")
    initial = ctx.value(data["initial"], str, f"{path}.initial")
    stages = ctx.value(data["stages"], tuple[StageDef, ...], f"{path}.stages")
    raw_transitions = data["transitions"]
    if not _is_array(raw_transitions):
        raise SchemaError(f"{path}.transitions", raw_transitions, "a list of TransitionDef")
    transitions = [
        _decode_transition(t, f"{path}.transitions[{i}]", ctx)
        for i, t in enumerate(raw_transitions)
    ]
    policy = ctx.value(data["policy"], Policy, f"{path}.policy") if "policy" in data else None
    scorecards = None
    if data.get("scorecards") is not None:
        _REGISTRY.load_optional()
        codec = _REGISTRY.by_name.get("ScorecardSet")
        if codec is None:
            raise SchemaError(f"{path}.scorecards", data["scorecards"], "null (no health module)")
        scorecards = codec.decode(data["scorecards"], f"{path}.scorecards", ctx)
    return Lifecycle(
        stages,
        transitions,
        initial=initial,
        policy=policy,
        name=name,
        diagnoser=diagnoser,
        scorecards=scorecards,
    )


def lifecycle_from_dict(
    data: Mapping[str, Any],
    *,
    guards: Mapping[str, Guard] = GUARDS,
    diagnoser: Any = None,
) -> Lifecycle:
    """Build a lifecycle from data written by `lifecycle_to_dict` (or by hand).

    Guards are named, never code: each name is looked up in ``guards``. ``"schema"``
    and ``"type"`` may be left out of hand-written definitions, and so may the
    ``"type"`` keys of stages and transitions; ``"sources"`` may be one stage name.

    Args:
        data: The definition.
        guards: The registry guard names refer to.
        diagnoser: The diagnosis rule, for custom stage names (see `Lifecycle`).

    Returns:
        The checked lifecycle.

    Raises:
        UnknownName: A guard name is not in the registry.
        SchemaError: The data has the wrong shape (the message names the path).
        InvalidDefinition: The definition is inconsistent (unknown or unreachable stages, ...).

    Examples:
        >>> from stars.io import lifecycle_from_dict
        >>> lc = lifecycle_from_dict({
        ...     "initial": "trial",
        ...     "stages": [{"name": "trial", "kind": "before"}, {"name": "paid", "kind": "growth"}],
        ...     "transitions": [
        ...         {"trigger": "buy", "sources": "trial", "dest": "paid", "cycle": "growth",
        ...          "guards": ["contract_signed"]},
        ...         {"trigger": "lapse", "sources": ["paid"], "dest": "trial", "cycle": "crisis"},
        ...     ],
        ... })
        >>> lc.initial, sorted(lc.triggers)
        ('trial', ['buy', 'lapse'])
        >>> bad = {"trigger": "t", "sources": "a", "dest": "a", "cycle": "growth",
        ...        "guards": ["vip"]}
        >>> lifecycle_from_dict({"initial": "a", "stages": [], "transitions": [bad]})
        Traceback (most recent call last):
        ...
        stars.errors.UnknownName: unknown guard 'vip'; known: ...
    """
    ctx = LoadContext(None, guards)
    with _guarded():
        if not isinstance(data, Mapping):
            raise SchemaError("$", data, "a lifecycle definition object")
        body = dict(data)
        if body.pop("schema", SCHEMA) != SCHEMA:
            raise SchemaError("$.schema", data["schema"], repr(SCHEMA))
        if body.pop("type", "Lifecycle") != "Lifecycle":
            raise SchemaError("$.type", data["type"], "'Lifecycle'")
        _check_depth(body, MAX_DEPTH)
        return _decode_lifecycle(body, ctx, "$", diagnoser)


def _lifecycle_schema(defs: dict[str, Any]) -> dict[str, Any]:
    transition = {
        "title": "TransitionDef",
        "type": "object",
        "properties": {
            "type": {"const": "TransitionDef"},
            "trigger": {"type": "string"},
            "sources": {
                "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
            },
            "dest": {"type": "string"},
            "cycle": {"enum": [c.value for c in Cycle]},
            "guards": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["trigger", "sources", "dest", "cycle"],
        "additionalProperties": False,
    }
    props: dict[str, Any] = {
        "name": {"type": "string"},
        "initial": {"type": "string"},
        "stages": _spec(tuple[StageDef, ...]).schema(defs),
        "transitions": {"type": "array", "items": {"$ref": "#/$defs/TransitionDef"}},
        "policy": _spec(Policy).schema(defs),
    }
    sets = _REGISTRY.by_name.get("ScorecardSet")
    if sets is not None:
        props["scorecards"] = {"anyOf": [{"type": "null"}, _ClassSpec(sets.cls).schema(defs)]}
    else:  # pragma: no cover - only without stars.health
        props["scorecards"] = {"type": "null"}
    defs["TransitionDef"] = transition
    return {
        "title": "Lifecycle",
        "description": "A lifecycle definition: stages, transitions (guards by name), policy.",
        "type": "object",
        "properties": {"type": {"const": "Lifecycle"}, **props},
        "required": ["initial", "stages", "transitions"],
        "additionalProperties": False,
    }


def _lifecycle_encode(lc: Lifecycle) -> Mapping[str, Any]:
    d = lifecycle_to_dict(lc)
    del d["schema"], d["type"]
    return d


def _lifecycle_decode(data: Mapping[str, Any], ctx: LoadContext, path: str) -> Lifecycle:
    return _decode_lifecycle(data, ctx, path)


# =========================================================================== JSON Schema
_KINDS: Final = {
    "account": "Account",
    "snapshot": "Snapshot",
    "transition": "TransitionRecord",
    "transition_record": "TransitionRecord",
    "record": "TransitionRecord",
    "event": "AccountEvent",
    "lifecycle": "Lifecycle",
}


def json_schema(kind: str | type[Any] = "account") -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a document, so other services can check payloads.

    It is derived from the same field annotations the loader checks. The loader also
    checks what a schema cannot say (time order, history chains, value ranges, stages
    of the lifecycle), so a payload that passes the schema can still be refused.

    Args:
        kind: ``"account"``, ``"snapshot"``, ``"transition"``, ``"event"``,
            ``"lifecycle"``, any registered type name, or a registered class.

    Returns:
        A new JSON Schema dict.

    Raises:
        UnknownName: The kind is not known.

    Examples:
        >>> from stars.io import json_schema
        >>> s = json_schema("snapshot")
        >>> s["$schema"], s["properties"]["at"], s["required"]
        ('https://json-schema.org/draft/2020-12/schema', {'type': 'string', 'format': 'date-time'}, ['schema', 'type', 'at'])
    """  # noqa: E501
    _REGISTRY.load_optional()
    if isinstance(kind, type):
        codec = _REGISTRY.find(kind)
        if codec is None:
            raise UnknownName("type", kind.__name__, sorted(_REGISTRY.by_name))
    else:
        name = _KINDS.get(kind, kind) if isinstance(kind, str) else kind
        codec = _REGISTRY.named(name)
        if codec is None:
            raise UnknownName("document kind", kind, [*_KINDS, *_REGISTRY.by_name])
    defs: dict[str, Any] = {}
    codec.add_schema(defs)
    body = dict(defs[codec.name])
    props = {"schema": {"const": SCHEMA}, **body.get("properties", {})}
    required = ["schema", "type", *(k for k in body.get("required", ()) if k != "type")]
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"https://stars.example/schema/{SCHEMA}/{codec.name}.json",
        **body,
        "properties": props,
        "required": required,
        "$defs": defs,
    }


# =========================================================================== JSON Lines
def events_of(account: Account) -> tuple[AccountEvent, ...]:
    """An account's snapshots and records as events, in time order (snapshots first at ties).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import STARS, Account, Snapshot
        >>> from stars.io import events_of
        >>> a = Account("acme")
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> _ = STARS.observe(a, Snapshot(at=t, contract_signed=True))
        >>> _ = STARS.fire(a, "sign", at=t)
        >>> [type(e.event).__name__ for e in events_of(a)]
        ['Snapshot', 'TransitionRecord']
    """
    items: list[tuple[datetime, int, int, Snapshot | TransitionRecord]] = [
        (s.at, 0, i, s) for i, s in enumerate(account.snapshots)
    ]
    items += [(r.at, 1, i, r) for i, r in enumerate(account.history)]
    items.sort(key=lambda item: (item[0], item[1], item[2]))
    return tuple(AccountEvent(account.id, item[3]) for item in items)


def _as_events(
    source: Account | Iterable[AccountEvent | Snapshot | TransitionRecord], account_id: str | None
) -> list[AccountEvent]:
    if isinstance(source, Account):
        return list(events_of(source))
    out = []
    for i, item in enumerate(source):
        if isinstance(item, AccountEvent):
            out.append(item)
        elif isinstance(item, Snapshot | TransitionRecord):
            if account_id is None:
                raise InvalidValue("account_id", None, "an account id for bare snapshots/records")
            out.append(AccountEvent(account_id, item))
        else:
            raise InvalidValue(f"events[{i}]", item, "a Snapshot, TransitionRecord or AccountEvent")
    return out


def write_events(
    source: Account | Iterable[AccountEvent | Snapshot | TransitionRecord],
    file: Path | IO[str],
    *,
    account_id: str | None = None,
) -> int:
    """Append events as JSON Lines: one snapshot or transition record per line.

    A path is opened in append mode, so writing again adds to the stream. Every line
    is a whole `AccountEvent` document.

    Args:
        source: An account (all its snapshots and records, in time order), or events,
            or bare snapshots and records (then give ``account_id``).
        file: A path, or a text stream to write to.
        account_id: The account of bare snapshots and records.

    Returns:
        The number of lines written.

    Examples:
        >>> import io
        >>> from datetime import datetime, timezone
        >>> from stars import Snapshot
        >>> from stars.io import write_events
        >>> out = io.StringIO()
        >>> write_events([Snapshot(at=datetime(2025, 1, 1, tzinfo=timezone.utc))], out,
        ...              account_id="acme")
        1
        >>> out.getvalue()[:59]
        '{"schema":"stars/1","type":"AccountEvent","account":"acme",'
    """
    lines = [dumps(event) + "\n" for event in _as_events(source, account_id)]
    if isinstance(file, str | os.PathLike):
        with open(file, "a", encoding="utf-8") as handle:
            handle.writelines(lines)
    else:
        file.writelines(lines)
    return len(lines)


class _LineTooLong(Exception):
    """A line longer than the limit (read no further than the limit)."""


def _lines(file: Path | IO[str] | Iterable[str], limit: int) -> Iterator[str | bytes]:
    """The lines of ``file``, each read no further than ``limit`` (bytes, or characters).

    A line over the limit raises `_LineTooLong` after reading ``limit + 1`` of it, never
    the whole line: a file of one 400 MB line costs no more memory than the limit.
    """
    if isinstance(file, str | os.PathLike):
        with open(file, "rb") as raw:
            yield from _bounded(raw.readline, limit)
    elif hasattr(file, "readline"):
        yield from _bounded(file.readline, limit)
    else:
        for line in file:
            if len(line) > limit:
                raise _LineTooLong
            yield line


def _bounded(readline: Callable[[int], Any], limit: int) -> Iterator[Any]:
    while True:
        line = readline(limit + 1)
        if not line:
            return
        ending = b"\n" if isinstance(line, bytes) else "\n"
        body = line[:-1] if line.endswith(ending) else line
        if len(body) > limit:
            raise _LineTooLong
        yield line


def read_events(
    file: Path | IO[str] | Iterable[str],
    *,
    lifecycle: Lifecycle | None = STARS,
    max_line_bytes: int = 1024 * 1024,
) -> tuple[AccountEvent, ...]:
    """Read a JSON Lines event stream written by `write_events`.

    Blank lines are skipped. Within each account, records must chain (each starting
    where the previous one ended) and records and snapshots must each be in time
    order; with a lifecycle, every record must be one of its transitions. The whole
    stream is returned, or nothing: the first bad line raises. A line whose event
    ``id`` an earlier line already had is a redelivery: it is skipped, not checked again.

    A line over ``max_line_bytes`` is refused after reading just past the limit, never
    read whole.

    Args:
        file: A path, a text stream, or an iterable of lines.
        lifecycle: Check records against it (``None``: no check).
        max_line_bytes: Size limit of one line (for a text stream, in characters).

    Returns:
        The events, in file order.

    Raises:
        SchemaError: A bad line; the path starts with its line number (``line 3: $.event.at``).

    Examples:
        >>> from stars.io import read_events
        >>> lines = ['{"schema":"stars/1","type":"AccountEvent","account":"acme",'
        ...          '"event":{"type":"Snapshot","at":"2025-01-01T00:00:00+00:00"}}']
        >>> [e.account for e in read_events(lines)]
        ['acme']
    """
    ctx = LoadContext(lifecycle, GUARDS)
    out: list[AccountEvent] = []
    last_record: dict[str, TransitionRecord] = {}
    last_snapshot: dict[str, Snapshot] = {}
    seen: set[str] = set()
    lineno = 0
    with _guarded():
        lines = _lines(file, max_line_bytes)
        while True:
            lineno += 1
            try:
                line = next(lines)
            except StopIteration:
                break
            except _LineTooLong:
                raise SchemaError(
                    f"line {lineno}",
                    _Shown(f"a line longer than {max_line_bytes} bytes"),
                    f"at most {max_line_bytes} bytes (raise max_line_bytes for longer lines)",
                ) from None
            if not line.strip():
                continue
            try:
                doc = _parse_json(line, max_line_bytes)
                _check_depth(doc, MAX_DEPTH)
                event = _from_doc(doc, AccountEvent, ctx)
            except SchemaError as err:
                raise SchemaError(f"line {lineno}: {err.path}", err.value, err.expected) from err
            if event.id is not None:
                if event.id in seen:
                    continue  # delivered again: the same event, counted once
                seen.add(event.id)
            item = event.event
            where = f"line {lineno}: $.event"
            if isinstance(item, TransitionRecord):
                prev = last_record.get(event.account)
                if prev is not None and item.source != prev.dest:
                    raise SchemaError(
                        f"{where}.source", item.source, f"{prev.dest!r}, where the account was"
                    )
                if prev is not None and item.at < prev.at:
                    raise SchemaError(
                        f"{where}.at", item.at.isoformat(), f"not before {prev.at.isoformat()}"
                    )
                last_record[event.account] = item
            else:
                prev_snap = last_snapshot.get(event.account)
                if prev_snap is not None and item.at < prev_snap.at:
                    raise SchemaError(
                        f"{where}.at", item.at.isoformat(), f"not before {prev_snap.at.isoformat()}"
                    )
                last_snapshot[event.account] = item
            out.append(event)
    return tuple(out)


def accounts_from_events(
    events: Iterable[AccountEvent], *, lifecycle: Lifecycle = STARS
) -> dict[str, Account]:
    """Rebuild accounts from an event stream with `Lifecycle.replay` (no hooks run).

    Each account starts in the lifecycle's initial stage; its version counts its
    snapshots and records.

    Args:
        events: Events, e.g. from `read_events`.
        lifecycle: The lifecycle to replay with.

    Returns:
        The accounts by id, in order of first appearance.

    Raises:
        TransitionNotAllowed: A record is not a transition of the lifecycle from where
            the account stands.
        OutOfOrder: Records or snapshots of an account are out of time order.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import STARS, Account
        >>> from stars.io import accounts_from_events, events_of
        >>> a = Account("acme")
        >>> _ = STARS.fire(a, "sign", at=datetime(2025, 1, 1, tzinfo=timezone.utc),
        ...                force=True, reason="import")
        >>> accounts_from_events(events_of(a))["acme"] == a
        True
    """
    records: dict[str, list[TransitionRecord]] = {}
    snaps: dict[str, list[Snapshot]] = {}
    for i, event in enumerate(events):
        if not isinstance(event, AccountEvent):
            raise InvalidValue(f"events[{i}]", event, "an AccountEvent")
        records.setdefault(event.account, [])
        snaps.setdefault(event.account, [])
        if isinstance(event.event, TransitionRecord):
            records[event.account].append(event.event)
        else:
            snaps[event.account].append(event.event)
    return {
        account_id: lifecycle.replay(account_id, history, snapshots=snaps[account_id])
        for account_id, history in records.items()
    }


# =========================================================================== CSV
@attrs.frozen(slots=True)
class RejectedRow:
    """A CSV row (or one cell of it) that could not be imported, and why.

    Attributes:
        line: The line number in the file (the header is line 1).
        column: The column's name (empty when the whole row is wrong).
        value: The cell's text (or the row's, joined with commas).
        why: What was expected.

    Examples:
        >>> from stars.io import RejectedRow
        >>> RejectedRow(3, "health", "abc", "a number").why
        'a number'
    """

    line: int
    column: str
    value: str
    why: str


class CsvImport(tuple[list[T], list[RejectedRow]], Generic[T]):
    r"""What reading one CSV file gave: the pair ``(items, rejected)``, and how it was read.

    It unpacks as a pair, ``items, rejected = read_accounts_csv(...)``; its
    attributes say how many rows the file had and what the reader found.

    Attributes:
        file: The file's name (``<stream>`` for a text stream).
        rows: Data rows read (the header and blank lines are not counted).
        rejected_rows: Rows that were skipped (a row with several bad cells counts once).
        lines: The line each item came from, in the order of the items.
        extra_columns: Header names that are no column of this kind of file, kept aside.
        encoding: The encoding the bytes were read with (``None`` for a text stream).
        delimiter: The delimiter found in the header.
        zoned: Date-times without a UTC offset that were read in the ``tz`` given.

    Examples:
        >>> import io
        >>> from stars.io import read_accounts_csv
        >>> read = read_accounts_csv(io.StringIO("id;stage;arr\nacme;Ascend;10\nb;gold;1\n"),
        ...                          extra="keep")
        >>> read.rows, read.used, read.rejected_rows, read.extra_columns, read.delimiter
        (2, 1, 1, ('arr',), ';')
        >>> accounts, rejected = read
        >>> accounts[0].stage, rejected[0].column
        ('ascend', 'stage')
    """

    file: str
    rows: int
    rejected_rows: int
    lines: list[int]
    extra_columns: tuple[str, ...]
    encoding: str | None
    delimiter: str
    zoned: int

    def __new__(
        cls,
        items: list[T],
        rejected: list[RejectedRow],
        *,
        file: str = "<stream>",
        rows: int = 0,
        lines: list[int] | None = None,
        extra_columns: tuple[str, ...] = (),
        encoding: str | None = None,
        delimiter: str = ",",
        zoned: int = 0,
    ) -> CsvImport[T]:
        """Make the pair, with what reading found as keyword arguments."""
        self = super().__new__(cls, (items, rejected))
        self.file = file
        self.rows = rows
        self.rejected_rows = len({r.line for r in rejected})
        self.lines = lines if lines is not None else list(range(len(items)))
        self.extra_columns = tuple(extra_columns)
        self.encoding = encoding
        self.delimiter = delimiter
        self.zoned = zoned
        return self

    @property
    def items(self) -> list[T]:
        r"""The values read from the good rows.

        Examples:
            >>> import io
            >>> from stars.io import read_accounts_csv
            >>> [a.id for a in read_accounts_csv(io.StringIO("id\nacme\n")).items]
            ['acme']
        """
        return self[0]

    @property
    def rejected(self) -> list[RejectedRow]:
        r"""The rejected rows, one entry per bad cell.

        Examples:
            >>> import io
            >>> from stars.io import read_accounts_csv
            >>> read_accounts_csv(io.StringIO("id\nacme\n")).rejected
            []
        """
        return self[1]

    @property
    def used(self) -> int:
        r"""How many rows gave a value (``len(items)``).

        Examples:
            >>> import io
            >>> from stars.io import read_accounts_csv
            >>> read_accounts_csv(io.StringIO("id\nacme\nbeta\n")).used
            2
        """
        return len(self[0])


_ANY_TIME: Final = "an ISO 8601 date or date-time, such as 2025-01-28 or 2025-01-28T09:30:00+01:00"
_TZ_HINT: Final = "give a time zone (tz=, or --tz on the command line) to read it in"


def _is_time(spec: _Spec) -> bool:
    if isinstance(spec, _UnionSpec):
        return any(isinstance(o, _DateTimeSpec) for o in spec.options)
    return isinstance(spec, _DateTimeSpec)


class _CsvReader:
    """Reads the rows of one opened table into parsed cells, collecting what it rejects."""

    def __init__(
        self,
        table: _csv.Table,
        specs: Mapping[str, _Spec],
        zone: tzinfo | None,
    ) -> None:
        self.table = table
        self.specs = specs
        self.zone = zone
        self.rejected: list[RejectedRow] = []
        self.rows = 0
        self.zoned = 0
        self.width = len(table.columns)
        self.times = frozenset(c for c, sp in specs.items() if _is_time(sp))

    def __iter__(self) -> Iterator[tuple[int, dict[str, str], dict[str, Any]]]:
        columns = self.table.columns
        rejected = self.rejected
        specs = self.specs
        for line, row in self.table.rows:
            self.rows += 1
            if row[0] == _csv.CSV_ERROR:
                rejected.append(
                    RejectedRow(line, "", "", f"readable CSV (this row is unreadable: {row[1]})")
                )
                continue
            if len(row) != self.width:
                rejected.append(
                    RejectedRow(
                        line,
                        "",
                        self.table.delimiter.join(row)[:200],
                        f"{self.width} fields, got {len(row)}",
                    )
                )
                continue
            cells: dict[str, str] = {}
            values: dict[str, Any] = {}
            ok = True
            for column, text in zip(columns, row, strict=True):
                if column is None:
                    continue
                cells[column] = text
                if not text.strip():
                    continue
                if column in self.times:
                    parsed = _csv.parse_time(text, self.zone)
                    if parsed is None:
                        why = _DateTimeSpec.expected if self.zone is None else _ANY_TIME
                        if self.zone is None and _csv.parse_time(text, UTC) is not None:
                            why += f" (this one has none: {_TZ_HINT})"
                        rejected.append(RejectedRow(line, column, text, why))
                        ok = False
                        continue
                    values[column] = parsed[0]
                    self.zoned += parsed[1]
                    continue
                try:
                    values[column] = specs[column].parse_cell(text)
                except _CellError as err:
                    rejected.append(RejectedRow(line, column, text, str(err)))
                    ok = False
            if ok:
                yield line, cells, values

    def result(self, items: list[T], lines: list[int]) -> CsvImport[T]:
        t = self.table
        return CsvImport(
            items,
            self.rejected,
            file=t.name,
            rows=self.rows,
            lines=lines,
            extra_columns=t.extra,
            encoding=t.encoding,
            delimiter=t.delimiter,
            zoned=self.zoned,
        )


def _build(
    line: int, factory: Callable[[], T], cells: Mapping[str, str], rejected: list[RejectedRow]
) -> T | None:
    try:
        return factory()
    except InvalidValue as err:
        column = err.field if err.field in cells else ""
        value = cells.get(column, str(err.value))
        rejected.append(RejectedRow(line, column, value, err.expected))
    except Exception as err:  # pragma: no cover - the cells were parsed by type already
        rejected.append(RejectedRow(line, "", "", str(err)))
    return None


def _zone(tz: str | tzinfo | None) -> tzinfo | None:
    if tz is None or isinstance(tz, tzinfo):
        return tz
    return _csv.parse_zone(tz)


def _stage_of(text: str, lifecycle: Lifecycle | None) -> str:
    """A stage as people write it, checked against the lifecycle (`UnknownName` if not one)."""
    if lifecycle is None:
        return stage_name(text)
    names = [s.name for s in lifecycle.stages]
    word = text.strip()
    if word in names:
        return word
    folded = {_csv.fold(n): n for n in names}
    if _csv.fold(word) in folded:
        return folded[_csv.fold(word)]
    try:
        name = stage_name(word)
    except UnknownName as err:
        if err.suggestion in names:
            raise UnknownName("stage", word, names, err.suggestion) from None
        name = word
    if name in names:
        return name
    raise UnknownName("stage", word, names)


def _stage_why(err: StarsError, lifecycle: Lifecycle | None) -> str:
    where = f"a stage of lifecycle {lifecycle.name!r}" if lifecycle is not None else "a stage"
    if isinstance(err, UnknownName):
        if err.suggestion is not None:
            return f"{where} (did you mean {err.suggestion!r}?)"
        return f"{where} ({', '.join(str(k) for k in err.known)})"
    return f"{where} (a non-empty name)"


_ACCOUNT_COLUMNS: Final = ("id", "name", "owner", "tags", "since", "stage")
_ACCOUNT_CSV: Final = _csv.Columns(
    "accounts", _ACCOUNT_COLUMNS, {"account_id": "id", "account": "id"}
)


def read_accounts_csv(
    file: Path | IO[str],
    *,
    lifecycle: Lifecycle | None = STARS,
    tz: str | tzinfo | None = None,
    rename: Mapping[str, str] | None = None,
    extra: str = "refuse",
    encoding: str | None = None,
    delimiter: str | None = None,
) -> CsvImport[Account]:
    r"""Import accounts from CSV, keeping the good rows and reporting the bad ones.

    Columns: ``id`` (required; ``account_id`` is read as ``id`` too), ``name``,
    ``owner``, ``tags`` (separated by ``;``), ``since`` (ISO 8601) and ``stage`` (a
    stage of the lifecycle, in any case and spacing, or by its STARS situation such as
    ``Turnaround``; a typo is rejected with a "did you mean"). Header names match in
    any case. Empty cells take the default. A repeated id is rejected on its later line.

    Args:
        file: A path or a text stream. A path is read as UTF-8 (or ``encoding``); a
            UTF-8 or UTF-16 byte-order mark is honoured; the delimiter (comma,
            semicolon, tab or bar) is found from the header.
        lifecycle: Stages must be known to it (``None``: any stage name).
        tz: Read date-times without a UTC offset (and bare dates) in this zone: a name
            such as ``"UTC"`` or ``"Europe/Paris"``, an offset such as ``"+02:00"``, or a
            ``tzinfo``. ``None`` rejects them.
        rename: Header names to read as other columns (``{"Account Name": "name"}``).
        extra: ``"refuse"`` (an unknown column is an error) or ``"keep"`` (it is kept
            aside and listed in ``extra_columns``).
        encoding: The file's encoding (default UTF-8).
        delimiter: The delimiter, instead of finding it.

    Returns:
        A `CsvImport`: the accounts and the rejected rows (one entry per bad
        cell), with the counts and what was found.

    Raises:
        SchemaError: The header is missing, repeats a column, lacks ``id`` or (with
            ``extra="refuse"``) names an unknown one; the file is binary; or a line is
            not in the encoding (the error names the line and the encoding it seems to be).
        InvalidValue: ``tz``, ``encoding``, ``delimiter`` or ``extra`` is not usable.

    Examples:
        >>> import io
        >>> from stars.io import read_accounts_csv
        >>> text = "id,name,stage,tags\nacme,Acme,Seed,emea;smb\nbeta,Beta,gold,\n"
        >>> accounts, rejected = read_accounts_csv(io.StringIO(text))
        >>> [(a.id, a.stage, sorted(a.tags)) for a in accounts]
        [('acme', 'seed', ['emea', 'smb'])]
        >>> rejected[0].line, rejected[0].column, rejected[0].value
        (3, 'stage', 'gold')
    """
    codec = _REGISTRY.codec_of(Account)
    specs = {f.key: f.spec for f in codec.fields if f.key in _ACCOUNT_COLUMNS}
    zone = _zone(tz)
    accounts: list[Account] = []
    lines: list[int] = []
    seen: dict[str, int] = {}
    with (
        _csv.open_table(
            file,
            _ACCOUNT_CSV,
            required=("id",),
            rename=rename,
            extra=extra,
            encoding=encoding,
            delimiter=delimiter,
        ) as table,
        _guarded(),
    ):
        reader = _CsvReader(table, specs, zone)
        rejected = reader.rejected
        for line, cells, values in reader:
            stage = values.get("stage")
            if stage is not None:
                try:
                    values["stage"] = _stage_of(stage, lifecycle)
                except StarsError as err:
                    rejected.append(
                        RejectedRow(line, "stage", cells["stage"], _stage_why(err, lifecycle))
                    )
                    continue
            ident = cells["id"].strip()
            if not ident:
                rejected.append(RejectedRow(line, "id", cells["id"], "a non-empty id"))
                continue
            if ident in seen:
                rejected.append(
                    RejectedRow(
                        line, "id", cells["id"], f"a new id (first seen on line {seen[ident]})"
                    )
                )
                continue
            values["id"] = ident
            account = _build(line, functools.partial(Account, **values), cells, rejected)
            if account is not None:
                seen[ident] = line
                accounts.append(account)
                lines.append(line)
        return reader.result(accounts, lines)


_SNAPSHOT_SKIP: Final = ("metrics",)


@functools.cache
def _snapshot_csv() -> tuple[_csv.Columns, dict[str, _Spec]]:
    codec = _REGISTRY.codec_of(Snapshot)
    specs: dict[str, _Spec] = {f.key: f.spec for f in codec.fields if f.key not in _SNAPSHOT_SKIP}
    columns = _csv.Columns(
        "snapshots", ("account", *specs), {"account_id": "account"}, prefixes=("metrics.",)
    )
    return columns, specs


def read_snapshots_csv(
    file: Path | IO[str],
    *,
    tz: str | tzinfo | None = None,
    rename: Mapping[str, str] | None = None,
    extra: str = "refuse",
    encoding: str | None = None,
    delimiter: str | None = None,
) -> CsvImport[AccountEvent]:
    r"""Import snapshots from CSV, keeping the good rows and reporting the bad ones.

    Columns: ``account`` (or ``account_id``) and ``at`` (required), any `Snapshot`
    signal (``health``, ``band``, ``adoption``, ``nps``, ..., flags as
    ``true``/``false``, ``yes``/``no`` or ``1``/``0``), and ``metrics.<name>`` for other
    numeric signals. Empty cells mean not measured. Rows are returned in file order;
    sort them by time per account before observing them.

    Args:
        file: A path or a text stream (read as `read_accounts_csv` reads it).
        tz: Read date-times without a UTC offset, and bare dates, in this zone
            (``None``: reject them).
        rename: Header names to read as other columns.
        extra: ``"refuse"`` an unknown column, or ``"keep"`` it aside.
        encoding: The file's encoding (default UTF-8).
        delimiter: The delimiter, instead of finding it.

    Returns:
        A `CsvImport`: the snapshots with their account ids, and the rejected
        rows (one per bad cell).

    Raises:
        SchemaError: As for `read_accounts_csv` (``account`` and ``at`` are required).
        InvalidValue: ``tz``, ``encoding``, ``delimiter`` or ``extra`` is not usable.

    Examples:
        >>> import io
        >>> from stars.io import read_snapshots_csv
        >>> text = ("account_id,at,health,champion_engaged,metrics.seats\n"
        ...         "acme,2025-01-06T00:00:00+00:00,72,yes,40\n"
        ...         "acme,2025-01-13T00:00:00+00:00,140,no,41\n"
        ...         "acme,2025-01-20,70,no,41\n")
        >>> good, rejected = read_snapshots_csv(io.StringIO(text))
        >>> s = good[0].event
        >>> s.health, s.champion_engaged, s.metrics
        (72.0, True, {'seats': 40.0})
        >>> [(r.line, r.column, r.value) for r in rejected]
        [(3, 'health', '140'), (4, 'at', '2025-01-20')]
        >>> read_snapshots_csv(io.StringIO(text), tz="UTC").zoned
        1
    """
    zone = _zone(tz)
    out: list[AccountEvent] = []
    lines: list[int] = []
    with _snapshot_table(file, rename, extra, encoding, delimiter) as table, _guarded():
        reader, rows = _snapshot_rows(table, zone)
        for line, account, snap in rows:
            out.append(AccountEvent(account, snap))
            lines.append(line)
        return reader.result(out, lines)


def _snapshot_table(
    file: Path | IO[str],
    rename: Mapping[str, str] | None,
    extra: str,
    encoding: str | None,
    delimiter: str | None,
) -> _csv.Table:
    """Open a snapshots file and read its header."""
    return _csv.open_table(
        file,
        _snapshot_csv()[0],
        required=("account", "at"),
        rename=rename,
        extra=extra,
        encoding=encoding,
        delimiter=delimiter,
    )


def _snapshot_rows(
    table: _csv.Table, zone: tzinfo | None
) -> tuple[_CsvReader, Iterator[tuple[int, str, Snapshot]]]:
    """The good rows of an opened snapshots table, one at a time (rejects go to the reader)."""
    specs = _snapshot_csv()[1]
    metric = _SPECS[float]
    cell_specs = {
        h: (_SPECS[str] if h == "account" else specs.get(h, metric))
        for h in table.columns
        if h is not None
    }
    reader = _CsvReader(table, cell_specs, zone)

    def rows() -> Iterator[tuple[int, str, Snapshot]]:
        rejected = reader.rejected
        for line, cells, values in reader:
            account = values.pop("account", "").strip()
            if not account:
                rejected.append(RejectedRow(line, "account", cells["account"], "an account id"))
                continue
            metrics = {k[8:]: values.pop(k) for k in list(values) if k.startswith("metrics.")}
            if "at" not in values:
                rejected.append(RejectedRow(line, "at", cells["at"], "a date-time"))
                continue
            snap = _build(
                line, functools.partial(Snapshot, **values, metrics=metrics), cells, rejected
            )
            if snap is not None:
                yield line, account, snap

    return reader, rows()


def _writer(file: Path | IO[str]) -> tuple[Any, IO[str] | None]:
    if isinstance(file, str | os.PathLike):
        handle = open(file, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed below
        return csv.writer(handle, lineterminator="\n"), handle
    return csv.writer(file, lineterminator="\n"), None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _write_rows(file: Path | IO[str], header: Sequence[str], rows: Iterable[list[Any]]) -> int:
    writer, handle = _writer(file)
    try:
        writer.writerow(header)
        n = 0
        for row in rows:
            writer.writerow([_cell(x) for x in row])
            n += 1
        return n
    finally:
        if handle is not None:
            handle.close()


def write_accounts_csv(accounts: Iterable[Account], file: Path | IO[str]) -> int:
    r"""Write accounts as the CSV `read_accounts_csv` reads (their snapshots and history aside).

    Tags are joined with ``;`` (so a tag must not hold one); times are ISO 8601 with their
    offset. `write_stage_events_csv` and `write_snapshots_csv` write the rest of each
    account, and reading the three files back gives the same accounts.

    Args:
        accounts: The accounts.
        file: A path (written as UTF-8) or a text stream.

    Returns:
        The number of rows written (the header aside).

    Examples:
        >>> import io
        >>> from stars import Account
        >>> from stars.io import write_accounts_csv
        >>> out = io.StringIO()
        >>> write_accounts_csv([Account("acme", name="Acme, Inc.", tags={"emea"})], out)
        1
        >>> print(out.getvalue(), end="")
        id,name,owner,tags,since,stage
        acme,"Acme, Inc.",,emea,,prospect
    """
    return _write_rows(
        file,
        _ACCOUNT_COLUMNS,
        (
            [a.id, a.name, a.owner, ";".join(sorted(a.tags)), a.since, a.stage]
            for a in _accounts_arg(accounts)
        ),
    )


def _accounts_arg(accounts: Iterable[Account]) -> list[Account]:
    items = list(accounts)
    for i, a in enumerate(items):
        if not isinstance(a, Account):
            raise InvalidValue(f"accounts[{i}]", a, "an Account")
    return items


def write_snapshots_csv(accounts: Iterable[Account], file: Path | IO[str]) -> int:
    r"""Write every snapshot of the accounts as the CSV `read_snapshots_csv` reads.

    One row per snapshot, oldest first per account; one ``metrics.<name>`` column per
    metric name any snapshot has. Numbers are written exactly (``repr``), flags as
    ``true``/``false``, an unmeasured signal as an empty cell.

    Args:
        accounts: The accounts.
        file: A path (written as UTF-8) or a text stream.

    Returns:
        The number of rows written.

    Examples:
        >>> import io
        >>> from datetime import datetime, timezone
        >>> from stars import Account, Snapshot
        >>> from stars.io import read_snapshots_csv, write_snapshots_csv
        >>> t = datetime(2025, 1, 6, tzinfo=timezone.utc)
        >>> acme = Account("acme", snapshots=[Snapshot(at=t, health=72.5, metrics={"seats": 40})])
        >>> out = io.StringIO()
        >>> write_snapshots_csv([acme], out)
        1
        >>> [e.event for e in read_snapshots_csv(io.StringIO(out.getvalue())).items] == [
        ...     acme.snapshots[0]]
        True
    """
    items = _accounts_arg(accounts)
    fields = [f for f in _snapshot_csv()[1] if f != "at"]
    names = sorted({name for a in items for s in a.snapshots for name in s.metrics})
    header = ["account", "at", *fields, *(f"metrics.{n}" for n in names)]
    return _write_rows(
        file,
        header,
        (
            [a.id, s.at, *(getattr(s, f) for f in fields), *(s.metrics.get(n) for n in names)]
            for a in items
            for s in a.snapshots
        ),
    )


def write_stage_events_csv(accounts: Iterable[Account], file: Path | IO[str]) -> int:
    r"""Write every account's history as the stage-events CSV `read_stage_events_csv` reads.

    One row per transition record, oldest first: the trigger, the stage it led to, when,
    who, why, and whether it was forced.

    Args:
        accounts: The accounts.
        file: A path (written as UTF-8) or a text stream.

    Returns:
        The number of rows written.

    Examples:
        >>> import io
        >>> from datetime import datetime, timezone
        >>> from stars import STARS, Event
        >>> from stars.io import write_stage_events_csv
        >>> t = datetime(2025, 1, 6, tzinfo=timezone.utc)
        >>> acme = STARS.replay("acme", [Event("sign", t, "dana", "imported", forced=True)])
        >>> out = io.StringIO()
        >>> write_stage_events_csv([acme], out)
        1
        >>> print(out.getvalue(), end="")
        account,at,trigger,stage,actor,reason,forced
        acme,2025-01-06T00:00:00+00:00,sign,seed,dana,imported,true
    """
    return _write_rows(
        file,
        _EVENT_CSV.known,
        (
            [a.id, r.at, r.trigger, r.dest, r.actor, r.reason, r.forced]
            for a in _accounts_arg(accounts)
            for r in a.history
        ),
    )


# --------------------------------------------------------------------------- stage events
@attrs.frozen(slots=True)
class StageEvent:
    """One row of a stage-events file: a trigger fired, or a stage set, for an account.

    Attributes:
        account: The account's id.
        at: When it happened.
        trigger: The trigger (``None`` when the row gives only the stage).
        stage: The stage the account moved to (``None`` when the row gives only a trigger).
        actor: Who made it happen.
        reason: Why.
        line: The line of the file it came from (0 when not from a file).
        forced: The trigger overrode a guard (a reason is then required).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.io import StageEvent
        >>> StageEvent("acme", datetime(2025, 1, 6, tzinfo=timezone.utc), stage="seed").trigger
    """

    account: str = attrs.field(validator=_check_account_id)
    at: datetime = attrs.field(validator=v.field(v.aware))
    trigger: str | None = attrs.field(default=None, validator=v.field(v.optional_string))
    stage: str | None = attrs.field(default=None, validator=v.field(v.optional_string))
    actor: str | None = attrs.field(default=None, validator=v.field(v.optional_string))
    reason: str | None = attrs.field(default=None, validator=v.field(v.optional_string))
    line: int = attrs.field(default=0, validator=v.field(v.number, 0, integer=True))
    forced: bool = attrs.field(default=False, validator=v.field(v.flag))

    def __attrs_post_init__(self) -> None:
        if self.trigger is None and self.stage is None:
            raise InvalidValue("trigger", None, "a trigger or a stage (or both)")
        if self.forced and not (self.reason and self.reason.strip()):
            raise InvalidValue("reason", self.reason, "a reason whenever forced is true")


_EVENT_CSV: Final = _csv.Columns(
    "stage events",
    ("account", "at", "trigger", "stage", "actor", "reason", "forced"),
    {"account_id": "account", "event": "trigger", "to": "stage"},
)


def read_stage_events_csv(
    file: Path | IO[str],
    *,
    lifecycle: Lifecycle | None = STARS,
    tz: str | tzinfo | None = None,
    rename: Mapping[str, str] | None = None,
    extra: str = "refuse",
    encoding: str | None = None,
    delimiter: str | None = None,
) -> CsvImport[StageEvent]:
    r"""Import stage events from CSV: which trigger fired, or which stage was set, and when.

    Columns: ``account`` (or ``account_id``) and ``at`` (required), ``trigger`` and
    ``stage`` (at least one of the two columns, and a value in at least one of them on
    each row), ``actor``, ``reason`` and ``forced`` (true when the trigger overrode a
    guard; a reason is then required). Stage names are read as `read_accounts_csv`
    reads them; a trigger must be one of the lifecycle's (a typo gets a "did you
    mean"). Turn the events into histories with `accounts_from_stage_events`.

    Args:
        file: A path or a text stream (read as `read_accounts_csv` reads it).
        lifecycle: Triggers and stages must be known to it (``None``: any name).
        tz: Read date-times without a UTC offset in this zone (``None``: reject them).
        rename: Header names to read as other columns.
        extra: ``"refuse"`` an unknown column, or ``"keep"`` it aside.
        encoding: The file's encoding (default UTF-8).
        delimiter: The delimiter, instead of finding it.

    Returns:
        A `CsvImport` of `StageEvent` values, in file order, and the rejected rows.

    Raises:
        SchemaError: As for `read_accounts_csv`, or the header has neither ``trigger``
            nor ``stage``.
        InvalidValue: ``tz``, ``encoding``, ``delimiter`` or ``extra`` is not usable.

    Examples:
        >>> import io
        >>> from stars.io import read_stage_events_csv
        >>> text = ("account,at,trigger,stage,actor\n"
        ...         "acme,2025-01-06,sign,,dana\n"
        ...         "acme,2025-03-03,,Accelerated growth,dana\n"
        ...         "acme,2025-04-01,acelerate,,dana\n")
        >>> events, rejected = read_stage_events_csv(io.StringIO(text), tz="UTC")
        >>> [(e.trigger, e.stage) for e in events]
        [('sign', None), (None, 'accelerate')]
        >>> rejected[0].why
        "a trigger of lifecycle 'STARS' (did you mean 'accelerate'?)"
    """
    zone = _zone(tz)
    spec = _SPECS[str]
    specs = {
        c: (_SPECS[datetime] if c == "at" else _SPECS[bool] if c == "forced" else spec)
        for c in _EVENT_CSV.known
    }
    out: list[StageEvent] = []
    triggers = sorted(lifecycle.triggers) if lifecycle is not None else []
    with (
        _csv.open_table(
            file,
            _EVENT_CSV,
            required=("account", "at"),
            rename=rename,
            extra=extra,
            encoding=encoding,
            delimiter=delimiter,
        ) as table,
        _guarded(),
    ):
        if "trigger" not in table.columns and "stage" not in table.columns:
            raise SchemaError(
                "header column 'trigger'", _MISSING, "a trigger or a stage column (or both)"
            )
        reader = _CsvReader(table, specs, zone)
        rejected = reader.rejected
        for line, cells, values in reader:
            account = values.get("account", "").strip()
            if not account:
                rejected.append(RejectedRow(line, "account", cells["account"], "an account id"))
                continue
            if "at" not in values:
                rejected.append(RejectedRow(line, "at", cells["at"], "a date-time"))
                continue
            trigger = values.get("trigger", "").strip() or None
            stage_text = values.get("stage", "").strip() or None
            if trigger is None and stage_text is None:
                rejected.append(RejectedRow(line, "", "", "a trigger or a stage"))
                continue
            if trigger is not None and lifecycle is not None and trigger not in triggers:
                err = UnknownName("trigger", trigger, triggers)
                hint = (
                    f"did you mean {err.suggestion!r}?"
                    if err.suggestion is not None
                    else ", ".join(triggers)
                )
                rejected.append(
                    RejectedRow(
                        line,
                        "trigger",
                        cells["trigger"],
                        f"a trigger of lifecycle {lifecycle.name!r} ({hint})",
                    )
                )
                continue
            stage = None
            if stage_text is not None:
                try:
                    stage = _stage_of(stage_text, lifecycle)
                except StarsError as err2:
                    rejected.append(
                        RejectedRow(line, "stage", cells["stage"], _stage_why(err2, lifecycle))
                    )
                    continue
            actor = values.get("actor", "").strip() or None
            reason = values.get("reason", "").strip() or None
            forced = bool(values.get("forced", False))
            if forced and reason is None:
                rejected.append(
                    RejectedRow(line, "reason", cells.get("reason", ""), "a reason when forced")
                )
                continue
            out.append(
                StageEvent(account, values["at"], trigger, stage, actor, reason, line, forced)
            )
        return reader.result(out, [e.line for e in out])


def _edges(lifecycle: Lifecycle) -> dict[str, list[tuple[str, str]]]:
    """For each stage, its ``(trigger, dest)`` pairs, in definition order."""
    out: dict[str, list[tuple[str, str]]] = {}
    for t in lifecycle.transitions:
        for source in t.sources:
            out.setdefault(source, []).append((t.trigger, t.dest))
    return out


def _path(
    edges: Mapping[str, list[tuple[str, str]]], start: str, goal: str
) -> list[tuple[str, str]]:
    """The shortest ``(trigger, dest)`` walk from ``start`` to ``goal`` (empty: none)."""
    came: dict[str, tuple[str, str, str]] = {}
    frontier = [start]
    seen = {start}
    while frontier:
        nxt = []
        for stage in frontier:
            for trigger, dest in edges.get(stage, ()):
                if dest in seen:
                    continue
                seen.add(dest)
                came[dest] = (stage, trigger, dest)
                if dest == goal:
                    walk = []
                    at = goal
                    while at != start:
                        src, trig, dst = came[at]
                        walk.append((trig, dst))
                        at = src
                    return walk[::-1]
                nxt.append(dest)
        frontier = nxt
    return []


def accounts_from_stage_events(
    events: Iterable[StageEvent],
    accounts: Iterable[Account] | None = None,
    *,
    lifecycle: Lifecycle = STARS,
    source: str = "the events file",
) -> tuple[list[Account], list[RejectedRow]]:
    """Build accounts whose histories are the stage events, with `Lifecycle.replay`.

    Each account's events are taken in time order (rows at the same time keep their file
    order). A row with a trigger replays that trigger (with its ``stage`` as the
    destination, when given). A row with only a stage is a stage set by hand: it is
    replayed as the trigger that leads there from the stage reached, forced, with the
    row's reason (or one naming the file and line); when no single transition leads
    there, the shortest walk through the graph is replayed, each step forced and saying
    so. A row that sets the stage the account is already in changes nothing. Guards are
    not evaluated (history is fact), but the graph is: a trigger that is not allowed
    from the stage reached is rejected, and the account goes on from where it was.

    Args:
        events: The events (from `read_stage_events_csv`, say).
        accounts: The accounts the events belong to (their name, owner, tags, since and
            snapshots are kept; an event for another account is rejected). ``None``: one
            new account per id in the events.
        lifecycle: The lifecycle to replay in.
        source: How the rejected rows and forced records name the file.

    Returns:
        The accounts (those given, in their order, with their histories; then, without
        ``accounts``, one per id in order of first appearance), and the rejected rows.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.io import StageEvent, accounts_from_stage_events
        >>> t = lambda day: datetime(2025, 1, day, tzinfo=timezone.utc)
        >>> events = [StageEvent("acme", t(2), stage="seed", line=2),
        ...           StageEvent("acme", t(9), stage="tact", line=3),
        ...           StageEvent("acme", t(5), trigger="accelerate", line=4)]
        >>> [acme], rejected = accounts_from_stage_events(events)
        >>> [(r.trigger, r.dest, r.forced) for r in acme.history]
        [('sign', 'seed', True), ('accelerate', 'accelerate', False), ('escalate', 'tact', True)]
        >>> acme.history[0].reason
        'stage set to seed in the events file line 2'
    """
    if not isinstance(lifecycle, Lifecycle):
        raise InvalidValue("lifecycle", lifecycle, "a Lifecycle")
    items = list(events)
    for i, e in enumerate(items):
        if not isinstance(e, StageEvent):
            raise InvalidValue(f"events[{i}]", e, "a StageEvent")
    base: dict[str, Account] = {}
    if accounts is not None:
        for a in accounts:
            if not isinstance(a, Account):
                raise InvalidValue("accounts", a, "Account values")
            base[a.id] = a
    rejected: list[RejectedRow] = []
    by_account: dict[str, list[StageEvent]] = {}
    for e in items:
        if accounts is not None and e.account not in base:
            rejected.append(
                RejectedRow(e.line, "account", e.account, "an account of the accounts file")
            )
            continue
        by_account.setdefault(e.account, []).append(e)
    edges = _edges(lifecycle)
    built: dict[str, Account] = {}
    for ident, rows in by_account.items():
        rows.sort(key=lambda e: e.at)
        stage = lifecycle.initial
        replayed: list[Event] = []
        for e in rows:
            where = f"{source} line {e.line}" if e.line else source
            steps: list[tuple[str, str]]
            if e.trigger is not None:
                pairs = [(t, d) for t, d in edges.get(stage, ()) if t == e.trigger]
                if e.stage is not None:
                    pairs = [(t, d) for t, d in pairs if d == e.stage]
                if not pairs:
                    allowed = sorted({t for t, _ in edges.get(stage, ())})
                    goal = f" to {e.stage}" if e.stage is not None else ""
                    rejected.append(
                        RejectedRow(
                            e.line,
                            "trigger",
                            e.trigger,
                            f"a trigger allowed from {stage}{goal} "
                            f"({', '.join(allowed) or 'none'})",
                        )
                    )
                    continue
                replayed.append(Event(e.trigger, e.at, e.actor, e.reason, e.forced, pairs[0][1]))
                stage = pairs[0][1]
                continue
            assert e.stage is not None
            if e.stage == stage:
                continue
            steps = _path(edges, stage, e.stage)
            if not steps:
                rejected.append(
                    RejectedRow(e.line, "stage", e.stage, f"a stage reachable from {stage}")
                )
                continue
            for i, (trigger, dest) in enumerate(steps, start=1):
                why = e.reason or f"stage set to {e.stage} in {where}"
                if len(steps) > 1:
                    why += (
                        f" (step {i} of {len(steps)}: no single transition leads from"
                        f" {stage if i == 1 else steps[i - 2][1]} to {e.stage})"
                    )
                replayed.append(Event(trigger, e.at, e.actor, why, True, dest))
            stage = e.stage
        old = base.get(ident)
        built[ident] = lifecycle.replay(
            ident,
            replayed,
            name=old.name if old else "",
            owner=old.owner if old else None,
            tags=old.tags if old else (),
            since=old.since if old else None,
            snapshots=old.snapshots if old else (),
        )
    if accounts is None:
        return list(built.values()), rejected
    return [built.get(a.id, a) for a in base.values()], rejected


# =========================================================================== registration
_register_core()
_REGISTRY.add(
    Lifecycle,
    "Lifecycle",
    typing.cast(Encoder, _lifecycle_encode),
    typing.cast(Decoder, _lifecycle_decode),
    None,
    _lifecycle_schema,
)
