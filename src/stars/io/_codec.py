"""The ``stars/1`` document codec (private): `to_dict`/`from_dict`/`dumps`/`loads`.

Values are written and read by one ``cattrs`` converter, made on first use (so
``import stars`` does not import cattrs):

- cattrs generates the functions of attrs classes; a thin hook around each adds and
  checks the ``"type"`` tag and runs the account's history checks and the lifecycle
  checks. Primitive hooks refuse what the wire format refuses (bools as numbers, NaN,
  integers beyond 2**53-1, naive or out-of-range datetimes, strings as lists, ...).
- A failure is a cattrs error tree; its notes give the JSON path, and the first
  failure in document order becomes the `SchemaError` (``$.history[2].at: ...``).
  Custom hooks (`register` with ``encode``/``decode``) and the checks are given the
  path ``"$"``; what they report is placed below the path cattrs found.
- The registry is a name table: a type's module is imported when a document (or a
  value being written) names it, so the first `dumps` imports only what it writes.

The per-type specs of `stars._cells` say what a type expects, parse CSV cells and
describe JSON Schema; this module registers the document classes into them.
"""

from __future__ import annotations

import enum
import importlib
import json
import math
import re
import threading
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final, TypeVar, overload

import attrs

import stars._cells as _cells
from stars import _validate as v
from stars._cells import CellError, parse_time
from stars._log import Log
from stars._shown import Shown as _Shown
from stars._shown import article as _a
from stars.account import Account, DepthPoint, OwnerChange, Snapshot, TransitionRecord
from stars.bands import BandCutoffs
from stars.cycles import CycleEpisode
from stars.errors import InvalidDefinition, InvalidValue, SchemaError, StarsError, UnknownName
from stars.io._common import (
    _MISSING,
    MAX_BYTES,
    MAX_DEPTH,
    MAX_INT,
    SCHEMA,
    _is_array,
    _join,
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

if typing.TYPE_CHECKING:
    import cattrs

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
        return _structure(raw, hint, path, self)

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


# =========================================================================== registry
Encoder = Callable[[Any], Mapping[str, Any]]
Decoder = Callable[[Mapping[str, Any], LoadContext, str], Any]
Checker = Callable[[Any, LoadContext, str], None]
Preparer = Callable[[dict[str, Any], LoadContext, str], None]


class _Codec:
    """One registered class: its document name, its hooks, its fields (for schemas, CSV)."""

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
        self.fields: tuple[_cells.Field, ...] = ()
        self.keys: frozenset[str] = frozenset()

    def compile(self) -> None:
        if self.encoder is not None:
            return
        self.fields = _cells.fields_of(self.cls)
        self.keys = frozenset(f.key for f in self.fields)

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


#: The document types of `stars` by name, and the module that defines each. A module
#: is imported only when a document (or a value being written) names one of its types.
_DOCUMENT_TYPES: Final[dict[str, str]] = {
    **dict.fromkeys(
        ("Account", "Snapshot", "TransitionRecord", "DepthPoint", "OwnerChange"), "stars.account"
    ),
    "AccountEvent": "stars.io",
    "BandCutoffs": "stars.bands",
    "CycleEpisode": "stars.cycles",
    "StageProfile": "stars.stages",
    **dict.fromkeys(
        ("Policy", "StageDef", "Event", "Evidence", "Diagnosis", "Verdict"), "stars.lifecycle"
    ),
    "Lifecycle": "stars.io._lifecycles",
    **dict.fromkeys(
        ("HealthScore", "Linear", "Measure", "Scorecard", "ScorecardSet", "Steps", "Trend"),
        "stars.health",
    ),
    **dict.fromkeys(
        (
            "DepthAssessment",
            "DepthEvidence",
            "DepthGapAdvice",
            "DepthGuidance",
            "DepthMovement",
            "DepthPolicy",
            "Disagreement",
            "DwellAdvice",
            "KeyAccountCheck",
            "Requirement",
            "TwoSidedDepth",
            "ValueConcentration",
        ),
        "stars.depth",
    ),
    **dict.fromkeys(
        (
            "AreaChange",
            "AreaResult",
            "Indicator",
            "MaturityComparison",
            "MaturityReport",
            "Questionnaire",
        ),
        "stars.maturity",
    ),
    **dict.fromkeys(
        (
            "Alignment",
            "CustomerJourney",
            "JourneyPolicy",
            "PhaseProfile",
            "PhaseRecord",
            "ValueCase",
        ),
        "stars.journey",
    ),
    **dict.fromkeys(
        (
            "ActionItem",
            "CheckIn",
            "DetectionPolicy",
            "HandoffAudit",
            "HandoffChecklist",
            "PlanTemplate",
            "PlaybookEntry",
            "PlaybookLibrary",
            "RecoveryPlan",
            "RecoveryPolicy",
            "RiskEvidence",
            "RiskFinding",
            "RiskSource",
            "Stakeholder",
            "StepRecord",
            "Triage",
            "TriagePolicy",
        ),
        "stars.recovery",
    ),
    **dict.fromkeys(
        (
            "Cohort",
            "EpisodeStats",
            "ForecastBacktest",
            "Portfolio",
            "RecoveryCurve",
            "RiskEntry",
            "StageDistribution",
            "TransitionMatrix",
        ),
        "stars.portfolio",
    ),
    **dict.fromkeys(
        (
            "Backtest",
            "BandOutcome",
            "Calibration",
            "DecileOutcome",
            "GroupAUC",
            "MeasureCheck",
            "Percentile",
        ),
        "stars.backtesting",
    ),
}


def _at_home(cls: type[Any]) -> bool:
    """Whether ``cls`` is the `stars` document type of its name (not a namesake)."""
    home = _DOCUMENT_TYPES.get(cls.__name__)
    # defined in the module itself or in one of its private submodules (a package)
    return home is not None and (cls.__module__ + ".").startswith((home + ".", home + "._"))


class _Registry:
    """The allow-list of classes that documents may name."""

    def __init__(self) -> None:
        self.by_name: dict[str, _Codec] = {}
        self.by_class: dict[type[Any], _Codec] = {}
        self.lock = threading.RLock()

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
            if old is not None or encoder is not None:
                _forget_hooks()  # the converter may hold hooks made for the old registration
            return codec

    def ensure(self, cls: type[Any]) -> _Codec:
        codec = self.by_class.get(cls)
        if codec is not None:
            return codec
        with self.lock:
            name = cls.__name__
            taken = name in self.by_name and self.by_name[name].cls is not cls
            if taken or (name in _DOCUMENT_TYPES and not _at_home(cls)):
                name = f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__name__}"
            return self.add(cls, name)

    def codec_of(self, cls: type[Any]) -> _Codec:
        codec = self.by_class.get(cls)
        if codec is None:
            codec = self.ensure(cls)
        return codec

    def find(self, cls: type[Any]) -> _Codec | None:
        """The codec of a class that may be written (a `stars` type is registered now)."""
        codec = self.by_class.get(cls)
        if codec is None and isinstance(cls, type) and _at_home(cls):
            codec = self.named(cls.__name__)
            if codec is not None and codec.cls is not cls:
                return None
        return codec

    def named(self, name: object) -> _Codec | None:
        """The codec of a document type name (importing the module that defines it)."""
        if not isinstance(name, str):
            return None
        codec = self.by_name.get(name)
        if codec is not None:
            return codec
        module_name = _DOCUMENT_TYPES.get(name)
        if module_name is None:
            return None
        with self.lock:
            try:
                module = importlib.import_module(module_name)
            except ImportError:  # pragma: no cover - only while a module is missing
                return None
            if name == "Portfolio":
                _register_portfolio()
                return self.by_name.get(name)
            cls = getattr(module, name, None)
            if not isinstance(cls, type) or not attrs.has(cls):
                return self.by_name.get(name)
            return self.ensure(cls)

    def names(self) -> list[str]:
        """Every name a document may have, sorted (without importing anything)."""
        return sorted({*self.by_name, *_DOCUMENT_TYPES})

    def load_all(self) -> None:
        for name in _DOCUMENT_TYPES:
            self.named(name)


_REGISTRY: Final = _Registry()


class _CellClasses(_cells.ClassHook):
    """Tells `stars._cells` which classes are documents, their names and schemas."""

    def known(self, cls: type[Any]) -> bool:
        if attrs.has(cls):
            _REGISTRY.ensure(cls)
            return True
        return cls in _REGISTRY.by_class

    def name(self, cls: type[Any]) -> str:
        return _REGISTRY.codec_of(cls).name

    def add_schema(self, cls: type[Any], defs: dict[str, Any]) -> None:
        _REGISTRY.codec_of(cls).add_schema(defs)


_cells.set_class_hook(_CellClasses())


# =========================================================================== errors
class _Bad(Exception):
    """A refusal at ``suffix`` below the place it was raised (cattrs' notes give the rest)."""

    def __init__(self, value: object, expected: str, suffix: str = "") -> None:
        super().__init__(expected)
        self.value = value
        self.expected = expected
        self.suffix = suffix


class _Passed(Exception):
    """A `StarsError` that already names its whole path (raised as it is)."""

    def __init__(self, error: StarsError) -> None:
        super().__init__(str(error))
        self.error = error


def _below(err: SchemaError) -> Exception:
    """An error a hook reported at path ``$...``, to be placed below where the hook ran."""
    if err.path.startswith("$"):
        return _Bad(err.value, err.expected, err.path[1:])
    return _Passed(err)


class _Unwritable(Exception):
    def __init__(self, value: object, expected: str) -> None:
        super().__init__(expected)
        self.value = value
        self.expected = expected


#: (class, attribute name) -> document key, for the paths of cattrs' notes.
_KEY_OF: dict[tuple[Any, str], str] = {}


def _to_schema_error(exc: BaseException, path: str) -> StarsError:
    """The first failure of a cattrs error tree, as a `SchemaError` naming its JSON path."""
    from cattrs.errors import (
        AttributeValidationNote,
        BaseValidationError,
        IterableValidationNote,
    )

    owner: Any = None
    while True:
        for note in getattr(exc, "__notes__", ()):
            if isinstance(note, AttributeValidationNote):
                path = _join(path, _KEY_OF.get((owner, note.name), note.name))
            elif isinstance(note, IterableValidationNote):
                index = note.index
                path = _join(path, index) if isinstance(index, str) else f"{path}[{index}]"
        if isinstance(exc, BaseValidationError):
            owner = exc.cl
            exc = exc.exceptions[0]
            continue
        break
    if isinstance(exc, _Bad):
        made = SchemaError(path + exc.suffix, exc.value, exc.expected)
        made.__cause__ = exc.__cause__  # a constructor's refusal stays the cause
        return made
    if isinstance(exc, _Passed):
        return exc.error
    if isinstance(exc, KeyError):
        return SchemaError(path, _MISSING, "a value (the field is required)")
    if isinstance(exc, StarsError):
        return exc
    if isinstance(exc, RecursionError):
        return SchemaError("$", _Shown("a deeply nested value"), "less nesting")
    return SchemaError("$", _Shown(type(exc).__name__), f"a document stars can load ({exc})")


# =========================================================================== primitives
#: The load in progress (its lifecycle, guards, helpers), for the checks inside hooks.
_CTX: ContextVar[LoadContext | None] = ContextVar("stars_io_load", default=None)

#: Set while a canonical document is written: every datetime is then written in UTC.
_IN_UTC: ContextVar[bool] = ContextVar("stars_io_in_utc", default=False)


def _int_range(value: int, fail: Callable[[object, str], Exception]) -> int:
    if -MAX_INT <= value <= MAX_INT:
        return value
    raise fail(value, f"an integer from -{MAX_INT} to {MAX_INT}")


# cattrs dispatches a str (or int) enum to the str (or int) hook: those hand it on.
def _s_str(raw: Any, t: Any) -> Any:
    if t is not str:
        return _enum_hooks(t)[0](raw, t)
    if isinstance(raw, str):
        return raw
    raise _Bad(raw, "a string")


def _s_bool(raw: Any, _: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    raise _Bad(raw, "true or false")


def _s_int(raw: Any, t: Any) -> Any:
    if t is not int:
        return _enum_hooks(t)[0](raw, t)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return _int_range(raw, _Bad)
    raise _Bad(raw, "an integer")


def _s_float(raw: Any, t: Any) -> Any:
    if t is not float:
        return _enum_hooks(t)[0](raw, t)
    if isinstance(raw, float):
        if math.isfinite(raw):
            return raw
    elif isinstance(raw, int) and not isinstance(raw, bool):
        return _int_range(raw, _Bad)
    raise _Bad(raw, "a finite number")


def _s_none(raw: Any, _: Any) -> None:
    if raw is not None:
        raise _Bad(raw, "null")


def _s_datetime(raw: Any, _: Any) -> datetime:
    try:
        return parse_time(raw)
    except CellError as err:
        raise _Bad(raw, str(err)) from None


def _u_str(value: Any) -> Any:
    if type(value) is str:
        return value
    if isinstance(value, enum.Enum):
        return value.value
    raise _Unwritable(value, "a string")


def _u_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    raise _Unwritable(value, "true or false")


def _u_int(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, int) and not isinstance(value, bool):
        return _int_range(value, _Unwritable)
    raise _Unwritable(value, "an integer")


def _u_float(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
    elif isinstance(value, int) and not isinstance(value, bool):
        return _int_range(value, _Unwritable)
    raise _Unwritable(value, "a finite number")


def _u_datetime(value: Any) -> Any:
    if isinstance(value, datetime) and value.utcoffset() is not None:
        if _IN_UTC.get() and value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return value.isoformat()
    raise _Unwritable(value, "a timezone-aware datetime")


def _u_none(value: Any) -> Any:
    if value is None:
        return None
    raise _Unwritable(value, "null")


_ENUM_HOOKS: dict[type[enum.Enum], tuple[Any, Any]] = {}


def _enum_hooks(cls: type[enum.Enum]) -> tuple[Any, Any]:
    done = _ENUM_HOOKS.get(cls)
    if done is not None:
        return done
    spec = _cells.spec(cls)
    assert isinstance(spec, _cells.EnumSpec)
    by_value, textual, expected = spec.by_value, spec.textual, spec.expected

    def structure(raw: Any, _: Any) -> Any:
        fits = (
            isinstance(raw, str)
            if textual
            else isinstance(raw, int | float | str) and not isinstance(raw, bool)
        )
        if fits:
            try:
                return by_value[raw]
            except (KeyError, TypeError):
                pass
        raise _Bad(raw, expected)

    def unstructure(value: Any) -> Any:
        if isinstance(value, cls):
            return value.value
        raise _Unwritable(value, _a(cls.__name__))

    _ENUM_HOOKS[cls] = (structure, unstructure)
    return structure, unstructure


def _expected(hint: Any) -> str:
    return _cells.spec(hint).expected


def _accepts(hint: Any) -> Callable[[Any], bool]:
    """Whether a value is one of type ``hint`` (which option of a union writes it)."""
    if hint is float:
        return lambda x: isinstance(x, int | float) and not isinstance(x, bool)
    if hint is int:
        return lambda x: isinstance(x, int) and not isinstance(x, bool)
    if hint in (type(None), None):
        return lambda x: x is None
    if isinstance(hint, type):
        return lambda x: isinstance(x, hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        return lambda x: any(type(x) is type(a) and x == a for a in args)
    if origin in (frozenset, set):
        return lambda x: isinstance(x, frozenset | set)
    if origin is Sequence or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        return lambda x: isinstance(x, tuple | Log)
    if origin is tuple:
        return lambda x: isinstance(x, tuple) and len(x) == len(args)
    if origin in (Mapping, dict):
        return lambda x: isinstance(x, Mapping)
    if origin is typing.Union or origin is types.UnionType:
        each = [_accepts(a) for a in args]
        return lambda x: any(a(x) for a in each)
    return lambda x: False


def _sort_key(value: Any) -> str:
    # Numbers in their one form, so equal sets (``{50}`` and ``{50.0}``) sort alike.
    return value if isinstance(value, str) else json.dumps(_one_number_form(value), sort_keys=True)


# =========================================================================== the converter
def _attributes(cls: type[Any]) -> tuple[list[attrs.Attribute[Any]], list[attrs.Attribute[Any]]]:
    """The attributes to read (by their public property) and to build (by their alias)."""
    fields = {f.name: f for f in _cells.fields_of(cls)}
    read, build = [], []
    for a in attrs.fields(cls):
        if not a.init:
            continue
        f = fields[a.name]
        _KEY_OF[(cls, a.name)] = f.key
        build.append(a.evolve(type=f.hint))
        read.append(a.evolve(type=f.hint, name=f.read, alias=f.key))
    return read, build


def _is_document(t: Any) -> bool:
    return isinstance(t, type) and (attrs.has(t) or t in _REGISTRY.by_class)


def _make_converter() -> cattrs.Converter:
    import cattrs
    from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError
    from cattrs.errors import IterableValidationNote as Note
    from cattrs.gen import make_dict_structure_fn_from_attrs, make_dict_unstructure_fn_from_attrs

    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    for t, s, u in (
        (str, _s_str, _u_str),
        (bool, _s_bool, _u_bool),
        (int, _s_int, _u_int),
        (float, _s_float, _u_float),
        (datetime, _s_datetime, _u_datetime),
        (type(None), _s_none, _u_none),
    ):
        conv.register_structure_hook(t, s)
        conv.register_unstructure_hook(t, u)

    # -- enums (each registered by its class when a type that holds it is first met, so
    #    that it comes before the hooks of str, int and float) and literals
    def literal(t: Any) -> Any:
        values = typing.get_args(t)
        expected = _expected(t)

        def structure(raw: Any, _: Any) -> Any:
            if any(type(raw) is type(x) and raw == x for x in values):
                return raw
            raise _Bad(raw, expected)

        return structure

    def literal_unstructure(t: Any) -> Any:
        values = typing.get_args(t)
        expected = _expected(t)

        def unstructure(value: Any) -> Any:
            if any(type(value) is type(x) and value == x for x in values):
                return value
            raise _Unwritable(value, expected)

        return unstructure

    is_literal = lambda t: typing.cast(Any, typing.get_origin(t)) is typing.Literal  # noqa: E731
    conv.register_structure_hook_factory(is_literal, literal)
    conv.register_unstructure_hook_factory(is_literal, literal_unstructure)

    # -- variadic tuples, sequences (histories) and frozensets
    def is_seq(t: Any) -> bool:
        origin, args = typing.get_origin(t), typing.get_args(t)
        if origin is Sequence and len(args) == 1:
            return True
        return origin is tuple and len(args) == 2 and args[1] is Ellipsis

    def is_set(t: Any) -> bool:
        return typing.get_origin(t) in (frozenset, set) and len(typing.get_args(t)) == 1

    def items_of(t: Any) -> Callable[[Any], list[Any]]:
        item = typing.get_args(t)[0]
        hook = conv.get_structure_hook(item)

        def each(raw: Any) -> list[Any]:
            out = []
            for i, x in enumerate(raw):
                try:
                    out.append(hook(x, item))
                except Exception as e:  # the first failure is the one reported
                    e.__notes__ = [*getattr(e, "__notes__", []), Note(f"@ {i}", i, item)]
                    raise IterableValidationError(f"While structuring {t!r}", [e], t) from None
            return out

        return each

    def seq_structure(t: Any) -> Any:
        each, expected = items_of(t), _expected(t)

        def structure(raw: Any, _: Any) -> tuple[Any, ...]:
            if not _is_array(raw):
                raise _Bad(raw, expected)
            return tuple(each(raw))

        return structure

    def set_structure(t: Any) -> Any:
        each, expected = items_of(t), _expected(t)

        def structure(raw: Any, _: Any) -> frozenset[Any]:
            if not _is_array(raw):
                raise _Bad(raw, expected)
            items = each(raw)
            out = frozenset(items)
            if len(out) != len(items):
                raise _Bad(raw, expected + " (it repeats an item)")
            return out

        return structure

    def seq_unstructure(t: Any) -> Any:
        hook = conv.get_unstructure_hook(typing.get_args(t)[0])
        expected = _expected(t)

        def unstructure(value: Any) -> list[Any]:
            if not isinstance(value, tuple | list | Log):
                raise _Unwritable(value, expected)
            return [hook(x) for x in value]

        return unstructure

    def set_unstructure(t: Any) -> Any:
        hook = conv.get_unstructure_hook(typing.get_args(t)[0])
        expected = _expected(t)

        def unstructure(value: Any) -> list[Any]:
            if not isinstance(value, frozenset | set | tuple | list):
                raise _Unwritable(value, expected)
            return sorted((hook(x) for x in value), key=_sort_key)

        return unstructure

    conv.register_structure_hook_factory(is_seq, seq_structure)
    conv.register_structure_hook_factory(is_set, set_structure)
    conv.register_unstructure_hook_factory(is_seq, seq_unstructure)
    conv.register_unstructure_hook_factory(is_set, set_unstructure)

    # -- fixed tuples
    def is_fixed(t: Any) -> bool:
        args = typing.get_args(t)
        return typing.get_origin(t) is tuple and bool(args) and Ellipsis not in args

    def fixed_structure(t: Any) -> Any:
        args = typing.get_args(t)
        hooks = [conv.get_structure_hook(a) for a in args]
        expected = _expected(t)

        def structure(raw: Any, _: Any) -> tuple[Any, ...]:
            if not _is_array(raw) or len(raw) != len(args):
                raise _Bad(raw, expected)
            out = []
            for i, (hook, a, x) in enumerate(zip(hooks, args, raw, strict=True)):
                try:
                    out.append(hook(x, a))
                except Exception as e:
                    e.__notes__ = [*getattr(e, "__notes__", []), Note(f"@ {i}", i, a)]
                    raise IterableValidationError("fixed tuple", [e], t) from None
            return tuple(out)

        return structure

    def fixed_unstructure(t: Any) -> Any:
        hooks = [conv.get_unstructure_hook(a) for a in typing.get_args(t)]
        expected = _expected(t)

        def unstructure(value: Any) -> list[Any]:
            if not isinstance(value, tuple | list) or len(value) != len(hooks):
                raise _Unwritable(value, expected)
            return [h(x) for h, x in zip(hooks, value, strict=True)]

        return unstructure

    conv.register_structure_hook_factory(is_fixed, fixed_structure)
    conv.register_unstructure_hook_factory(is_fixed, fixed_unstructure)

    # -- mappings with string (or string enum) keys
    def is_map(t: Any) -> bool:
        return typing.get_origin(t) in (Mapping, dict) and len(typing.get_args(t)) == 2

    def map_structure(t: Any) -> Any:
        _expected(t)  # refuses key types a document cannot hold
        key_type, value_type = typing.get_args(t)
        key_hook = conv.get_structure_hook(key_type)
        value_hook = conv.get_structure_hook(value_type)
        expected = _expected(t)

        def structure(raw: Any, _: Any) -> dict[Any, Any]:
            if not isinstance(raw, Mapping):
                raise _Bad(raw, expected)
            out: dict[Any, Any] = {}
            for key, item in raw.items():
                if not isinstance(key, str):
                    raise _Bad(key, "string keys")
                try:
                    out[key_hook(key, key_type)] = value_hook(item, value_type)
                except Exception as e:
                    e.__notes__ = [*getattr(e, "__notes__", []), Note(f"@ {key}", key, t)]
                    raise IterableValidationError("mapping", [e], t) from None
            return out

        return structure

    def map_unstructure(t: Any) -> Any:
        key_hook = conv.get_unstructure_hook(typing.get_args(t)[0])
        value_hook = conv.get_unstructure_hook(typing.get_args(t)[1])
        expected = _expected(t)

        def unstructure(value: Any) -> dict[str, Any]:
            if not isinstance(value, Mapping):
                raise _Unwritable(value, expected)
            return {key_hook(k): value_hook(x) for k, x in value.items()}

        return unstructure

    conv.register_structure_hook_factory(is_map, map_structure)
    conv.register_unstructure_hook_factory(is_map, map_unstructure)

    # -- unions: by the "type" tag when it names an option, else the first option that fits
    def is_union(t: Any) -> bool:
        return typing.get_origin(t) in (typing.Union, types.UnionType)

    def union_structure(t: Any) -> Any:
        options = typing.get_args(t)
        hooks = [(o, conv.get_structure_hook(o)) for o in options]
        tagged = {_REGISTRY.codec_of(o).name: h for o, h in hooks if _is_document(o)}
        expected = _expected(t)

        def structure(raw: Any, _: Any) -> Any:
            if tagged and isinstance(raw, Mapping) and isinstance(raw.get("type"), str):
                hook = tagged.get(raw["type"])
                if hook is not None:
                    return hook(raw, None)
            for option, hook in hooks:
                try:
                    return hook(raw, option)
                except (_Bad, _Passed, ClassValidationError, IterableValidationError, KeyError):
                    continue
            raise _Bad(raw, expected)

        return structure

    def union_unstructure(t: Any) -> Any:
        options = [(_accepts(o), conv.get_unstructure_hook(o)) for o in typing.get_args(t)]
        expected = _expected(t)

        def unstructure(value: Any) -> Any:
            for accepts, hook in options:
                if accepts(value):
                    return hook(value)
            raise _Unwritable(value, expected)

        return unstructure

    conv.register_structure_hook_factory(is_union, union_structure)
    conv.register_unstructure_hook_factory(is_union, union_unstructure)

    # -- document classes: cattrs' generated functions (or the class's own hooks), plus
    #    the "type" tag and the checks
    def tag_of(cls: type[Any], name: str, raw: Any) -> Any:
        """Refuse a wrong tag; a registered subclass's tag gives its hook."""
        if not isinstance(raw, Mapping):
            raise _Bad(raw, f"{_a(name)} object")
        kind = raw.get("type", _MISSING)
        if kind is not _MISSING and kind != name:
            sub = _REGISTRY.named(kind)
            if sub is not None and sub.cls is not cls and issubclass(sub.cls, cls):
                return conv.get_structure_hook(sub.cls)
            raise _Bad(kind, repr(name), ".type")
        return None

    def checked(codec: _Codec, value: Any) -> Any:
        if codec.check is not None:
            ctx = _CTX.get()
            if ctx is not None and ctx.lifecycle is not None:
                try:
                    codec.check(value, ctx, "$")
                except SchemaError as err:
                    raise _below(err) from None
        return value

    def custom_structure(codec: _Codec) -> Any:
        cls, name, decoder = codec.cls, codec.name, codec.decoder
        assert decoder is not None

        def structure(raw: Any, _: Any) -> Any:
            sub = tag_of(cls, name, raw)
            if sub is not None:
                return sub(raw, None)
            data = {k: item for k, item in raw.items() if k != "type"}
            ctx = _CTX.get() or LoadContext(None)
            try:
                value = decoder(data, ctx, "$")
            except SchemaError as err:
                raise _below(err) from None
            if not isinstance(value, cls):
                raise _Bad(type(value).__name__, f"{_a(name)} from the decoder")
            return checked(codec, value)

        return structure

    def class_structure(cls: type[Any]) -> Any:
        codec = _REGISTRY.codec_of(cls)
        if codec.decoder is not None:
            return custom_structure(codec)
        name = codec.name
        _, build = _attributes(cls)
        for f in build:
            _prime(conv, f.type)
        gen = make_dict_structure_fn_from_attrs(build, cls, conv, _cattrs_use_alias=True)
        keys = codec.keys
        shown = ", ".join(repr(k) for k in sorted(keys))

        def structure(raw: Any, _: Any) -> Any:
            sub = tag_of(cls, name, raw)
            if sub is not None:
                return sub(raw, None)
            body = {k: x for k, x in raw.items() if k != "type"} if "type" in raw else raw
            try:
                value = gen(body, cls)
            except ClassValidationError as err:
                extra = [e for e in err.exceptions if isinstance(e, ForbiddenExtraKeysError)]
                if extra:
                    key = next(k for k in body if k in extra[0].extra_fields)
                    raise _Bad(
                        body[key], f"no such field in {name} (known: {shown})", _join("", key)
                    ) from None
                if len(err.exceptions) == 1 and not getattr(err.exceptions[0], "__notes__", ()):
                    wrong = err.exceptions[0]
                    raise built_wrong(wrong, body) from wrong
                raise
            return checked(codec, value)

        def built_wrong(exc: BaseException, body: Mapping[str, Any]) -> Exception:
            """Why the constructor refused fields that each have the right type."""
            if codec.prepare is not None:
                kwargs = {}
                for f in build:
                    key = f.alias or f.name
                    if key in body:
                        kwargs[key] = conv.get_structure_hook(f.type)(body[key], f.type)
                try:
                    codec.prepare(kwargs, _CTX.get() or LoadContext(None), "$")
                except SchemaError as err:
                    return _below(err)
            if isinstance(exc, SchemaError):
                return _Passed(exc)
            if isinstance(exc, InvalidValue):
                field = exc.field
                suffix = ""
                if re.fullmatch(r"[A-Za-z_]\w*(\[\d+\])*(\.\w+(\[\d+\])*)*", field):
                    head = re.split(r"[\[.]", field)[0]
                    suffix = f".{field}" if head.lstrip("_") in keys else ""
                return _Bad(
                    exc.value, exc.expected + (f" ({exc.hint})" if exc.hint else ""), suffix
                )
            if isinstance(exc, StarsError):
                return _Bad(_Shown(name), f"a valid {name}: {exc}")
            return _Bad(_Shown(name), f"a valid {name}: {type(exc).__name__}: {exc}")

        return structure

    def custom_unstructure(codec: _Codec) -> Any:
        name, encoder = codec.name, codec.encoder
        assert encoder is not None

        def unstructure(value: Any) -> dict[str, Any]:
            out: dict[str, Any] = {"type": name}
            for key, item in encoder(value).items():
                if not isinstance(key, str) or key in ("type", "schema"):
                    raise InvalidValue("$ key", key, "a field name other than type/schema")
                out[key] = _encode_any(item, _join("$", key))
            return out

        return unstructure

    def class_unstructure(cls: type[Any]) -> Any:
        codec = _REGISTRY.codec_of(cls)
        if codec.encoder is not None:
            return custom_unstructure(codec)
        name = codec.name
        read, _ = _attributes(cls)
        for f in read:
            _prime(conv, f.type)
        gen = make_dict_unstructure_fn_from_attrs(read, cls, conv, _cattrs_use_alias=True)
        expected = f"{_a(cls.__name__)} object"

        def unstructure(value: Any) -> dict[str, Any]:
            if type(value) is not cls:
                if not isinstance(value, cls):
                    raise _Unwritable(value, expected)
                # A registered subclass (e.g. backtest's Percentile, a kind of Steps) keeps
                # its own type name, so it loads back as itself, not as the declared class.
                if _REGISTRY.find(type(value)) is not None:
                    hook = conv.get_unstructure_hook(type(value))
                    return typing.cast("dict[str, Any]", hook(value))
            return {"type": name, **gen(value)}

        return unstructure

    conv.register_structure_hook_factory(_is_document, class_structure)
    conv.register_unstructure_hook_factory(_is_document, class_unstructure)
    return conv


_PRIMED: set[tuple[int, type[enum.Enum]]] = set()


def _prime(conv: cattrs.Converter, hint: Any) -> None:
    """Register the hooks of the enums ``hint`` holds, by their classes (before str/int/float)."""
    if isinstance(hint, type):
        if issubclass(hint, enum.Enum) and (id(conv), hint) not in _PRIMED:
            structure, unstructure = _enum_hooks(hint)
            conv.register_structure_hook(hint, structure)
            conv.register_unstructure_hook(hint, unstructure)
            _PRIMED.add((id(conv), hint))
        return
    for arg in typing.get_args(hint):
        _prime(conv, arg)


_CONVERTER: list[cattrs.Converter] = []
_LOCK = threading.RLock()


def _converter() -> cattrs.Converter:
    if not _CONVERTER:
        with _LOCK:
            if not _CONVERTER:
                _CONVERTER.append(_make_converter())
    return _CONVERTER[0]


def _forget_hooks() -> None:
    """Drop the converter, so the next use builds its hooks from the registry as it is."""
    with _LOCK:
        _CONVERTER.clear()
        _PRIMED.clear()


def _structure(raw: Any, hint: Any, path: str, ctx: LoadContext) -> Any:
    """Read ``raw`` as a value of type ``hint``; a failure names its path below ``path``."""
    if hint == "datetime":
        hint = datetime
    _cells.spec(hint)  # refuses a type documents cannot hold (and registers classes)
    conv = _converter()
    _prime(conv, hint)
    token = _CTX.set(ctx)
    try:
        return conv.structure(raw, hint)
    except Exception as exc:
        error = _to_schema_error(exc, path)
        raise error from error.__cause__
    finally:
        _CTX.reset(token)


def _write(value: Any, hint: Any, path: str) -> Any:
    """Write ``value`` as a value of type ``hint``; a failure names the path of the part."""
    conv = _converter()
    _prime(conv, hint)
    try:
        return conv.get_unstructure_hook(hint)(value)
    except _Unwritable as err:
        raise InvalidValue(_find_unwritable(value, hint, path), err.value, err.expected) from None


def _find_unwritable(value: Any, hint: Any, path: str) -> str:
    """The path of the first part of ``value`` that cannot be written ("" if it all writes).

    Only called after a failure, so the fast path carries no paths at all.
    """
    conv = _converter()
    try:
        conv.get_unstructure_hook(hint)(value)
    except _Unwritable as err:
        if err.value is value:
            return path
    else:
        return ""  # this part writes: the failure is elsewhere
    if attrs.has(type(value)):
        read, _ = _attributes(type(value))
        for f in read:
            found = _find_unwritable(getattr(value, f.name), f.type, _join(path, f.alias))
            if found:
                return found
        return path
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if isinstance(value, Mapping) and len(args) == 2:
        for key, item in value.items():
            found = _find_unwritable(item, args[1], _join(path, key))
            if found:
                return found
    elif isinstance(value, tuple | list | Log | frozenset | set) and args:
        item_hint = args[0] if origin is not tuple or Ellipsis in args else None
        for i, item in enumerate(value):
            found = _find_unwritable(
                item, item_hint if item_hint is not None else args[i], f"{path}[{i}]"
            )
            if found:
                return found
    return path


def _encode_any(value: Any, path: str) -> Any:
    """Write a value by its runtime type (for custom encoders)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, enum.Enum):
        return _write(value, type(value), path)
    if isinstance(value, int | float):
        return _write(value, float, path)
    if isinstance(value, datetime):
        return _write(value, datetime, path)
    codec = _REGISTRY.find(type(value))
    if codec is not None:
        return _write(value, codec.cls, path)
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


def _register_portfolio() -> None:
    """A portfolio holds accounts and refers to its lifecycle by name."""
    from stars.portfolio import Portfolio

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
                "accounts": {"type": "array", "items": _cells.spec(Account).schema(defs)},
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
    chosen = name if name is not None else getattr(cls, "__name__", None)
    if isinstance(chosen, str) and chosen in _DOCUMENT_TYPES:
        _REGISTRY.named(chosen)  # a stars type of that name keeps it: load it first
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
    _REGISTRY.load_all()
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
        return {"schema": SCHEMA, **_write(value, codec.cls, "$")}
    token = _IN_UTC.set(True)
    try:
        body = _write(value, codec.cls, "$")
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
            raise UnknownName("type", cls.__name__, _REGISTRY.names())
        if kind != wanted.name:
            raise SchemaError("$.type", kind, repr(wanted.name))
    codec = _REGISTRY.named(kind)
    if codec is None:
        shown = ", ".join(_REGISTRY.names())
        raise SchemaError("$.type", kind, f"a registered type ({shown})")
    target = codec.cls
    body = {k: item for k, item in doc.items() if k != "schema"}
    token = _CTX.set(ctx)
    try:
        return _converter().get_structure_hook(target)(body, target)
    except Exception as exc:
        error = _to_schema_error(exc, "$")
        raise error from error.__cause__
    finally:
        _CTX.reset(token)


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
