"""Small converters and validators shared by the recovery value classes."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from stars import _validate as v
from stars._shown import article as _a
from stars.errors import InvalidValue

_DAY = 86400.0
E = TypeVar("E", bound=enum.Enum)


def _enum(kind: type[E], field: str) -> Callable[[Any], E]:
    def convert(value: Any) -> E:
        if isinstance(value, kind):
            return value
        try:
            return kind(value)
        except ValueError:
            known = ", ".join(repr(m.value) for m in kind)
            raise InvalidValue(field, value, f"one of {known}") from None

    return convert


def _coerce(kind: type[E], value: Any) -> Any:
    if isinstance(value, kind) or not isinstance(value, str):
        return value
    try:
        return kind(value)
    except ValueError:
        return value


def _member(kind: type[enum.Enum], optional: bool = False) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if optional and value is None:
            return
        if not isinstance(value, kind):
            known = ", ".join(repr(m.value) for m in kind)
            raise InvalidValue(attribute.name, value, f"one of {known}")

    return check


def _as_tuple(value: Any) -> Any:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return value
    return tuple(value)


def _each_text(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple):
        raise InvalidValue(attribute.name, value, "a sequence of non-empty strings")
    for i, item in enumerate(value):
        v.text(f"{attribute.name}[{i}]", item)


def _each(kind: type[Any]) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if not isinstance(value, tuple):
            raise InvalidValue(attribute.name, value, f"a sequence of {kind.__name__} values")
        for i, item in enumerate(value):
            if not isinstance(item, kind):
                raise InvalidValue(f"{attribute.name}[{i}]", item, _a(kind.__name__))

    return check


_text = v.field(v.text)
_any_text = v.field(v.text, empty=True)
_aware = v.field(v.aware)
_optional_aware = v.field(v.aware, optional=True)


def _texts(field: str) -> Callable[[Any], tuple[str, ...]]:
    def convert(value: Any) -> tuple[str, ...]:
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise InvalidValue(field, value, "a sequence of non-empty strings")
        out = tuple(value)
        for i, item in enumerate(out):
            v.text(f"{field}[{i}]", item)
        return out

    return convert


def _number(lo: float | None = None, hi: float | None = None, integer: bool = False) -> Any:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        v.number(attribute.name, value, lo, hi, integer=integer)

    return check


def _when(value: datetime) -> str:
    return value.date().isoformat()
