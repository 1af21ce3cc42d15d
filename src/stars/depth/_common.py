"""Small validators and converters shared by the depth value classes, and `Criterion`."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import Any, TypeAlias

from stars import _validate as v
from stars.errors import InvalidValue

# The value of one evidence criterion (stars.depth re-exports it, with its docstring).
Criterion: TypeAlias = bool | int | str


def _whole(value: float) -> int:
    # Accept 3.0 for 3 (surveys and CSV exports often give floats); leave the rest
    # to the validator, which names the field.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value  # type: ignore[return-value]


def _count(lo: int = 0) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        v.number(attribute.name, value, lo, integer=True)

    return check


_check_flag = v.field(v.flag)


def _one_of(kind: Iterable[enum.Enum]) -> str:
    return "one of " + ", ".join(repr(m.value) for m in kind)


def _member_or_keep(kind: type[enum.Enum], value: Any) -> Any:
    # Convert a member's name to the member; leave anything else to the validator.
    if isinstance(value, str) and not isinstance(value, kind) and value in kind._value2member_map_:
        return kind(value)
    return value


def _member(kind: type[enum.Enum]) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if not isinstance(value, kind):
            raise InvalidValue(attribute.name, value, _one_of(kind))

    return check


_non_negative = v.field(v.number, 0)


def _check_reasons(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple) or not all(isinstance(x, str) for x in value):
        raise InvalidValue(attribute.name, value, "a tuple of strings")


def _as_tuple(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        return value  # type: ignore[return-value]
    return tuple(value)


def _as_items(value: Iterable[Any]) -> tuple[Any, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return value  # type: ignore[return-value]
    return tuple(value)
