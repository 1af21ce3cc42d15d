"""What a field's type annotation means, shared by the readers (private to `stars`).

Each annotated type (``str``, ``float | None``, ``tuple[str, ...]``, an enum, a
document class, ...) gets a spec that says what it expects (for messages), how one
CSV cell is parsed into it (`parse_cell`, raising `CellError`) and its JSON Schema.
The JSON codec of `stars.io` writes and reads values itself; it uses these specs for
CSV cells and schemas only. Document classes are known to this module through
`set_class_hook`, which `stars.io` calls: nothing here imports `stars.io`.
"""

from __future__ import annotations

import enum
import inspect
import math
import re
import threading
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any, Final

import attrs

from stars._shown import Shown
from stars._shown import article as _a
from stars.errors import InvalidDefinition, SchemaError, StarsError

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

_MAX_TIME_TEXT: Final = 64
TIME_EXPECTED: Final = "an ISO 8601 date-time with a UTC offset"


class CellError(Exception):
    """A value (a CSV cell, or a JSON time) that does not parse; the text is what was expected."""


def parse_time(raw: Any) -> datetime:
    """An aware datetime in the range documents may hold, from its ISO 8601 text.

    Raises:
        CellError: Not such a text; the message says what was expected.
    """
    if not isinstance(raw, str) or len(raw) > _MAX_TIME_TEXT:
        raise CellError(TIME_EXPECTED)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise CellError(TIME_EXPECTED) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise CellError(TIME_EXPECTED + " (this one has no offset)")
    try:
        inside = EARLIEST <= value < LATEST  # compared as instants, in UTC
        value.astimezone(UTC)
    except OverflowError:
        inside = False
    if not inside:
        raise CellError(
            f"a time from {EARLIEST.date().isoformat()} to before"
            f" {LATEST.date().isoformat()} in UTC (the analyses cannot reach further)"
        )
    return value


@contextmanager
def guarded(path: str = "$") -> Iterator[None]:
    """Let `stars` errors through; turn anything else into a SchemaError."""
    try:
        yield
    except StarsError:
        raise
    except RecursionError as exc:
        raise SchemaError(path, Shown("a deeply nested value"), "less nesting") from exc
    except Exception as exc:
        raise SchemaError(
            path, Shown(type(exc).__name__), f"a document stars can load ({exc})"
        ) from exc


# =========================================================================== specs
class Spec:
    """What one annotated type expects, how a CSV cell parses into it, its JSON Schema."""

    expected = "a value"

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def parse_cell(self, text: str) -> Any:
        raise CellError(f"{self.expected} (not importable from CSV)")


class NoneSpec(Spec):
    expected = "null"

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "null"}

    def parse_cell(self, text: str) -> Any:
        if text.strip():
            raise CellError("an empty cell")
        return None


class StrSpec(Spec):
    expected = "a string"

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "string"}

    def parse_cell(self, text: str) -> Any:
        return text


class BoolSpec(Spec):
    expected = "true or false"
    _TRUE: Final = frozenset({"true", "t", "yes", "y", "1"})
    _FALSE: Final = frozenset({"false", "f", "no", "n", "0"})

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "boolean"}

    def parse_cell(self, text: str) -> Any:
        word = text.strip().lower()
        if word in self._TRUE:
            return True
        if word in self._FALSE:
            return False
        raise CellError("true/false, yes/no or 1/0")


class IntSpec(Spec):
    expected = "an integer"

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "integer", "minimum": -MAX_INT, "maximum": MAX_INT}

    def parse_cell(self, text: str) -> Any:
        word = text.strip()
        if not re.fullmatch(r"[+-]?\d{1,16}", word, re.ASCII) or abs(int(word)) > MAX_INT:
            raise CellError("a whole number")
        return int(word)


class FloatSpec(Spec):
    expected = "a finite number"

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "number"}

    def parse_cell(self, text: str) -> Any:
        word = text.strip()
        if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", word, re.ASCII):
            raise CellError("a number")
        value = float(word)
        if not math.isfinite(value):
            raise CellError("a finite number")
        return value


class DateTimeSpec(Spec):
    expected = TIME_EXPECTED

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}

    def parse_cell(self, text: str) -> Any:
        return parse_time(text.strip())


class EnumSpec(Spec):
    def __init__(self, cls: type[enum.Enum]) -> None:
        self.cls = cls
        self.by_value = {member.value: member for member in cls}
        values = list(self.by_value)
        for value in values:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise InvalidDefinition(f"enum {cls.__name__}: values must be strings or numbers")
        self.textual = all(isinstance(value, str) for value in values)
        self.expected = "one of " + ", ".join(repr(value) for value in values)

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


class LiteralSpec(Spec):
    def __init__(self, values: tuple[Any, ...]) -> None:
        for value in values:
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise InvalidDefinition("Literal values must be strings or integers")
        self.values = values
        self.expected = "one of " + ", ".join(repr(value) for value in values)

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"enum": list(self.values)}

    def parse_cell(self, text: str) -> Any:
        for value in self.values:
            if str(value) == text.strip():
                return value
        raise CellError(self.expected)


class TupleSpec(Spec):
    """``tuple[X, ...]`` (variadic) or ``frozenset[X]`` (unique, written sorted)."""

    def __init__(self, item: Spec, unique: bool) -> None:
        self.item = item
        self.unique = unique
        kind = "a list of unique items" if unique else "a list"
        self.expected = f"{kind} of {item.expected}"

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "array", "items": self.item.schema(defs)}
        if self.unique:
            out["uniqueItems"] = True
        return out

    def parse_cell(self, text: str) -> Any:
        parts = [part.strip() for part in text.split(";")]
        items = [self.item.parse_cell(part) for part in parts if part]
        return frozenset(items) if self.unique else tuple(items)


class FixedTupleSpec(Spec):
    def __init__(self, items: tuple[Spec, ...]) -> None:
        self.items = items
        self.expected = (
            f"a list of {len(items)} items (" + ", ".join(i.expected for i in items) + ")"
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


class MapSpec(Spec):
    def __init__(self, key: Spec, value: Spec) -> None:
        if not isinstance(key, StrSpec) and not (isinstance(key, EnumSpec) and key.textual):
            raise InvalidDefinition("mapping keys must be strings or string enums")
        self.key = key
        self.value = value
        self.expected = f"an object whose values are {value.expected}"

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "object", "additionalProperties": self.value.schema(defs)}
        if isinstance(self.key, EnumSpec):
            out["propertyNames"] = self.key.schema(defs)
        return out


class UnionSpec(Spec):
    def __init__(self, options: tuple[Spec, ...]) -> None:
        self.options = options
        self.expected = " or ".join(o.expected for o in options)

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


class ClassHook:
    """What the owner of the document classes tells this module (see `set_class_hook`)."""

    def known(self, cls: type[Any]) -> bool:
        """Whether ``cls`` is a document class (registering it on the way)."""
        return attrs.has(cls)

    def name(self, cls: type[Any]) -> str:
        """The document ``"type"`` of ``cls``."""
        return cls.__name__

    def add_schema(self, cls: type[Any], defs: dict[str, Any]) -> None:
        """Put the schema of ``cls`` into ``defs`` under its name."""
        raise NotImplementedError


_HOOK: list[ClassHook] = [ClassHook()]


def set_class_hook(hook: ClassHook) -> None:
    """Let ``hook`` say which classes are documents, their names and their schemas."""
    _HOOK[0] = hook


class ClassSpec(Spec):
    def __init__(self, cls: type[Any]) -> None:
        self.cls = cls
        self.expected = f"{_a(cls.__name__)} object"

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        hook = _HOOK[0]
        hook.add_schema(self.cls, defs)
        return {"$ref": f"#/$defs/{hook.name(self.cls)}"}


SPECS: dict[Any, Spec] = {
    type(None): NoneSpec(),
    None: NoneSpec(),
    str: StrSpec(),
    bool: BoolSpec(),
    int: IntSpec(),
    float: FloatSpec(),
    datetime: DateTimeSpec(),
}
_SPECS_LOCK = threading.RLock()


def spec(hint: Any) -> Spec:
    """The spec of a type annotation (cached; document classes are registered on the way)."""
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


def _make_spec(hint: Any) -> Spec:
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return EnumSpec(hint)
    if isinstance(hint, type) and _HOOK[0].known(hint):
        return ClassSpec(hint)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return UnionSpec(tuple(spec(a) for a in args))
    if origin is typing.Literal:
        return LiteralSpec(args)
    if origin is Sequence and len(args) == 1:
        return TupleSpec(spec(args[0]), unique=False)  # an append-only history: a tuple or Log
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return TupleSpec(spec(args[0]), unique=False)
        if args and Ellipsis not in args:
            return FixedTupleSpec(tuple(spec(a) for a in args))
    if origin in (frozenset, set) and len(args) == 1:
        return TupleSpec(spec(args[0]), unique=True)
    if origin in (Mapping, dict, typing.Mapping) and len(args) == 2:
        return MapSpec(spec(args[0]), spec(args[1]))
    raise InvalidDefinition(f"cannot serialize values of type {hint!r}")


# =========================================================================== fields
@attrs.frozen(slots=True)
class Field:
    """One field of a document class as documents hold it."""

    name: str  # the attribute
    key: str  # the document key (the attrs alias)
    hint: Any  # the resolved annotation
    spec: Spec
    required: bool
    read: str  # the attribute to read: a private field's public property when there is one


_FIELDS: dict[type[Any], tuple[Field, ...]] = {}


def fields_of(cls: type[Any]) -> tuple[Field, ...]:
    """The fields of an attrs class that its constructor takes, by their annotations.

    Raises:
        InvalidDefinition: An annotation cannot be read or written, or a field is named
            ``type`` or ``schema``.
    """
    done = _FIELDS.get(cls)
    if done is not None:
        return done
    try:
        hints = typing.get_type_hints(cls)
    except Exception as exc:
        raise InvalidDefinition(f"cannot read the annotations of {cls.__name__}: {exc}") from exc
    out = []
    for f in attrs.fields(cls):
        if not f.init:
            continue
        if f.name not in hints:
            raise InvalidDefinition(f"{cls.__name__}.{f.name} has no type annotation")
        key = f.alias or f.name
        if key in ("type", "schema"):
            raise InvalidDefinition(f"{cls.__name__}: a field may not be named {key!r}")
        public = isinstance(inspect.getattr_static(cls, key, None), property)
        read = key if key != f.name and public else f.name
        hint = hints[f.name]
        out.append(Field(f.name, key, hint, spec(hint), f.default is attrs.NOTHING, read))
    fields = tuple(out)
    _FIELDS[cls] = fields
    return fields
