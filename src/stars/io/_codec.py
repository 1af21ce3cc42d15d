"""The ``stars/1`` document codec (private): `to_dict`/`from_dict`/`dumps`/`loads`.

It holds the type registry (`register`, `registered_types`), the `LoadContext`
custom hooks receive, the per-type specs that write, read, describe and parse values,
and the checks an account's history and a lifecycle put on a document.
"""

from __future__ import annotations

import enum
import inspect
import json
import math
import re
import threading
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final, TypeVar, overload

import attrs

from stars import _validate as v
from stars._log import Log
from stars._shown import article as _a
from stars.account import Account, DepthPoint, OwnerChange, Snapshot, TransitionRecord
from stars.bands import BandCutoffs
from stars.cycles import CycleEpisode
from stars.errors import InvalidDefinition, InvalidValue, SchemaError, StarsError, UnknownName
from stars.io._common import (
    _MAX_TIME_TEXT,
    _MISSING,
    EARLIEST,
    LATEST,
    MAX_BYTES,
    MAX_DEPTH,
    MAX_INT,
    SCHEMA,
    _is_array,
    _join,
    _Shown,
)
from stars.io._event import AccountEvent
from stars.io._json import _check_depth, _one_number_form, _parse_json, canonical_json, guarded
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
    Verdict,
)
from stars.stages import Cycle, StageProfile

T = TypeVar("T")


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
        raise CellError(f"{self.expected} (not importable from CSV)")


class CellError(Exception):
    """A CSV cell that does not parse (turned into a RejectedRow)."""


class NoneSpec(_Spec):
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
            raise CellError("an empty cell")
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


class BoolSpec(_PlainSpec):
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
        raise CellError("true/false, yes/no or 1/0")


def _check_int(value: int, path: str, error: type[StarsError]) -> int:
    if -MAX_INT <= value <= MAX_INT:
        return value
    expected = f"an integer from -{MAX_INT} to {MAX_INT}"
    if error is SchemaError:
        raise SchemaError(path, value, expected)
    raise InvalidValue(path, value, expected)


class IntSpec(_Spec):
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
            raise CellError("a whole number")
        return int(word)


class FloatSpec(_Spec):
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
            raise CellError("a number")
        value = float(word)
        if not math.isfinite(value):
            raise CellError("a finite number")
        return value


class DateTimeSpec(_Spec):
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
            raise CellError(err.expected) from None


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


class EnumSpec(_Spec):
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
        raise CellError(self.expected)


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
        raise CellError(self.expected)


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
        if not isinstance(key, _StrSpec) and not (isinstance(key, EnumSpec) and key.textual):
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
        if isinstance(self.key, EnumSpec):
            out["propertyNames"] = self.key.schema(defs)
        return out


class UnionSpec(_Spec):
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
        if not text.strip() and any(isinstance(o, NoneSpec) for o in self.options):
            return None
        tried: list[CellError] = []
        for option in self.options:
            if isinstance(option, NoneSpec):
                continue
            try:
                return option.parse_cell(text)
            except CellError as err:
                tried.append(err)
        # an optional value says what its one type wants (an empty cell is always fine)
        raise tried[0] if len(tried) == 1 else CellError(self.expected)


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


SPECS: dict[Any, _Spec] = {
    type(None): NoneSpec(),
    None: NoneSpec(),
    str: _StrSpec(),
    bool: BoolSpec(),
    int: IntSpec(),
    float: FloatSpec(),
    datetime: DateTimeSpec(),
}
_SPECS_LOCK = threading.RLock()


def _spec(hint: Any) -> _Spec:
    """The spec of a type annotation (cached; attrs classes are registered on the way)."""
    try:
        cached = SPECS.get(hint)
    except TypeError:
        cached = None
    if cached is not None:
        return cached
    with _SPECS_LOCK:
        made = _make_spec(hint)
        with suppress(TypeError):
            SPECS[hint] = made
        return made


def _make_spec(hint: Any) -> _Spec:
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return EnumSpec(hint)
    if isinstance(hint, type) and (attrs.has(hint) or hint in _REGISTRY.by_class):
        _REGISTRY.ensure(hint)
        return _ClassSpec(hint)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return UnionSpec(tuple(_spec(a) for a in args))
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


def _encode_any(value: Any, path: str) -> Any:
    """Encode a value by its runtime type (for custom encoders)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return SPECS[float].encode(value, path)
    if isinstance(value, enum.Enum):
        return EnumSpec(type(value)).encode(value, path)
    if isinstance(value, datetime):
        return SPECS[datetime].encode(value, path)
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
    with guarded():
        _check_depth(doc, max_depth)
        return _from_doc(doc, cls, LoadContext(lifecycle, guards))


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
    with guarded():
        doc = _parse_json(text, max_bytes)
        _check_depth(doc, max_depth)
        return _from_doc(doc, cls, LoadContext(lifecycle, guards))


_register_core()
