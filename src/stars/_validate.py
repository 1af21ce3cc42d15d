"""Small validators shared by the value classes (private)."""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from stars._shown import article as _a
from stars.errors import InvalidValue

T = TypeVar("T")


def number(
    field: str,
    value: object,
    lo: float | None = None,
    hi: float | None = None,
    *,
    integer: bool = False,
    error: type[InvalidValue] = InvalidValue,
) -> float:
    """Return ``value`` as a float after checking it is a finite number within [lo, hi].

    Any real number type counts (NumPy scalars too); booleans do not, and neither do
    integers too large to be a float.
    """
    kind = type(value)
    if (
        kind is not float
        and kind is not int
        and (isinstance(value, (bool, *numpy_bool_types())) or not isinstance(value, numbers.Real))
    ):
        raise error(field, value, _expected(lo, hi, integer))
    try:
        x = float(value)  # type: ignore[arg-type]
    except (OverflowError, TypeError, ValueError):
        raise error(field, value, _expected(lo, hi, integer)) from None
    if not math.isfinite(x) or (integer and not x.is_integer()):
        raise error(field, value, _expected(lo, hi, integer))
    if (lo is not None and x < lo) or (hi is not None and x > hi):
        raise error(field, value, _expected(lo, hi, integer))
    return x


def numpy_bool_types() -> tuple[type, ...]:
    """NumPy's bool scalar type when NumPy is already loaded (never imports it)."""
    numpy = sys.modules.get("numpy")
    return (numpy.bool_,) if numpy is not None else ()


def plain_number(value: Any) -> Any:
    """An attrs converter: NumPy and other real scalars become ``int`` or ``float``.

    Anything else is returned as it is, for the validator to refuse with the field's name.
    """
    kind = type(value)
    if (
        kind is int
        or kind is float
        or isinstance(value, bool)
        or not isinstance(value, numbers.Real)
    ):
        return value
    if isinstance(value, numpy_bool_types()):
        return value
    try:
        return int(value) if isinstance(value, numbers.Integral) else float(value)
    except (OverflowError, TypeError, ValueError):
        return value


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _expected(lo: float | None, hi: float | None, integer: bool) -> str:
    kind = "a whole number" if integer else "a number"
    if lo is not None and hi is not None:
        return f"{kind} from {_fmt(lo)} to {_fmt(hi)}"
    if lo is not None:
        return f"{kind} at or above {_fmt(lo)}"
    if hi is not None:
        return f"{kind} at or below {_fmt(hi)}"
    return f"a finite {kind[2:]}"


def optional_number(
    lo: float | None = None,
    hi: float | None = None,
    *,
    integer: bool = False,
    error: type[InvalidValue] = InvalidValue,
) -> Callable[[Any, Any, Any], None]:
    """An attrs validator for ``None`` or a finite number within [lo, hi]."""

    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value is not None:
            number(attribute.name, value, lo, hi, integer=integer, error=error)

    return check


def aware(field: str, value: object, error: type[InvalidValue] = InvalidValue) -> datetime:
    """Check that ``value`` is a timezone-aware datetime."""
    if not isinstance(value, datetime):
        raise error(field, value, "a timezone-aware datetime")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise error(field, value, "a timezone-aware datetime", "add tzinfo, e.g. timezone.utc")
    return value


def instant(value: datetime) -> datetime:
    """An aware datetime as the same instant in UTC, so comparisons are by instant.

    Python compares two datetimes that share one tzinfo by their wall clocks, which is
    wrong across a daylight-saving change; converting both sides to UTC first is not.
    """
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def before(a: datetime, b: datetime) -> bool:
    """Whether instant ``a`` is earlier than instant ``b``, whatever their zones."""
    return instant(a) < instant(b)


def expected_version(value: object) -> int | None:
    """Check an ``expected_version`` argument: ``None`` or a whole number at or above 0."""
    if value is not None and (type(value) is not int or value < 0):
        raise InvalidValue("expected_version", value, "a whole number at or above 0, or None")
    return value


def flag(field: str, value: object, error: type[InvalidValue] = InvalidValue) -> bool:
    """Check that ``value`` is a real bool (not 0/1, not a string)."""
    if not isinstance(value, bool):
        raise error(field, value, "True or False")
    return value


def text(field: str, value: object, *, empty: bool = False) -> str:
    """Check that ``value`` is a string (non-empty unless ``empty``)."""
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise InvalidValue(field, value, "a non-empty string" if not empty else "a string")
    return value


def optional_string(field: str, value: object) -> str | None:
    """Check that ``value`` is a string (empty allowed) or ``None``."""
    if value is not None and not isinstance(value, str):
        raise InvalidValue(field, value, "a string or None")
    return value


def field(
    check: Callable[..., object], *args: Any, optional: bool = False, **kwargs: Any
) -> Callable[[Any, Any, Any], None]:
    """An attrs validator that runs ``check(<field name>, value, *args, **kwargs)``.

    With ``optional``, ``None`` passes unchecked. One adapter for every module's
    attrs fields, so each check is written once, here, in its (field, value) form.
    """

    # One closure per shape, so the common ones pay no extra call overhead (Snapshot and
    # Account run these on every construction).
    def validate(instance: Any, attribute: Any, value: Any) -> None:
        check(attribute.name, value)

    def validate_one(instance: Any, attribute: Any, value: Any) -> None:
        check(attribute.name, value, first)

    def validate_args(instance: Any, attribute: Any, value: Any) -> None:
        check(attribute.name, value, *args)

    def validate_all(instance: Any, attribute: Any, value: Any) -> None:
        check(attribute.name, value, *args, **kwargs)

    def validate_optional(instance: Any, attribute: Any, value: Any) -> None:
        if value is not None:
            check(attribute.name, value, *args, **kwargs)

    if optional:
        return validate_optional
    if kwargs:
        return validate_all
    if len(args) == 1:
        first = args[0]
        return validate_one
    return validate_args if args else validate


def number_mapping(
    field: str, value: object, error: type[InvalidValue] = InvalidValue
) -> dict[str, float]:
    """Check a mapping of names to finite numbers and return a plain dict copy."""
    if not isinstance(value, Mapping):
        raise error(field, value, "a mapping of names to numbers")
    out: dict[str, float] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise error(f"{field} key", key, "a non-empty string")
        out[key] = number(f"{field}[{key!r}]", item, error=error)
    return out


def tuple_of(field: str, kind: type[T]) -> Callable[[object], tuple[T, ...]]:
    """An attrs converter: any non-string iterable of ``kind`` values, as a tuple."""

    def convert(value: object) -> tuple[T, ...]:
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            raise InvalidValue(field, value, f"a sequence of {kind.__name__} values")
        out = tuple(value)
        for i, item in enumerate(out):
            if not isinstance(item, kind):
                raise InvalidValue(f"{field}[{i}]", item, _a(kind.__name__))
        return out

    return convert
