"""The exceptions that `stars` raises.

Every error derives from one root, `StarsError`, and also from the builtin
exception it behaves like (``ValueError``, ``LookupError``, ``RuntimeError``), so
callers can catch either. Messages name the offending field or value and say
what was expected.

Examples:
    >>> from stars.errors import InvalidValue, StarsError
    >>> err = InvalidValue("nps", 140, "a number from -100 to 100")
    >>> isinstance(err, StarsError), isinstance(err, ValueError)
    (True, True)
    >>> str(err)
    'nps: got 140, expected a number from -100 to 100'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Sized
from typing import Any

# The old private names stay bound here for stars.account, stars.lifecycle and
# stars.recovery until their own splits import stars._shown directly.
from stars._shown import article as _a
from stars._shown import near as _near

__all__ = [
    "ConcurrentModification",
    "HookFailed",
    "InvalidDefinition",
    "InvalidSignal",
    "InvalidValue",
    "MissingDependency",
    "OutOfOrder",
    "SchemaError",
    "StarsError",
    "TransitionNotAllowed",
    "TransitionRefused",
    "TransitionVetoed",
    "UnknownName",
]


def _show(value: object, limit: int = 80) -> str:
    text = repr(value)
    if len(text) <= limit:
        return text
    if isinstance(value, str):
        return text[: limit - 3] + "..."
    # Too long to show whole: name the type (and the keys or the size) rather than cut mid-way.
    kind = type(value).__name__
    if isinstance(value, Mapping):
        keys = ", ".join(repr(k) for k in value)
        shown = f"{_a(kind)} with keys {keys}"
        return shown if len(shown) <= limit else f"{_a(kind)} with {len(value)} keys"
    if isinstance(value, Sized):
        return f"{_a(kind)} of {len(value)} items"
    return f"{_a(kind)} object"


class StarsError(Exception):
    """The root of every exception raised by `stars`.

    Examples:
        >>> from stars.errors import StarsError, UnknownName
        >>> issubclass(UnknownName, StarsError)
        True
    """


class InvalidValue(StarsError, ValueError):
    """A value is of the wrong type or outside its allowed range.

    Attributes:
        field: The name of the offending field.
        value: The value that was refused.
        expected: What would have been accepted.

    Examples:
        >>> err = InvalidValue("adoption", 1.5, "a number from 0 to 1")
        >>> (err.field, err.value)
        ('adoption', 1.5)

        A value too long to show whole is named by its type (and a mapping by its keys):

        >>> print(InvalidValue("item", {"objective": "x" * 80, "owner": "sam"}, "an ActionItem"))
        item: got a dict with keys 'objective', 'owner', expected an ActionItem
    """

    def __init__(self, field: str, value: object, expected: str, hint: str | None = None) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        self.hint = hint
        message = f"{field}: got {_show(value)}, expected {expected}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.field, self.value, self.expected, self.hint))


class InvalidSignal(InvalidValue):
    """A snapshot signal is missing, out of range, NaN or infinite.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import Snapshot
        >>> Snapshot(at=datetime(2025, 1, 1, tzinfo=timezone.utc), health=101)
        Traceback (most recent call last):
        ...
        stars.errors.InvalidSignal: health: got 101, expected a number from 0 to 100
    """


class UnknownName(StarsError, LookupError):
    """A name (stage, trigger, measure, indicator, ...) that is not defined.

    When the name is a near miss for a known one, the message asks "did you
    mean" it, and `suggestion` holds it.

    Examples:
        >>> err = UnknownName("stage", "gold", ["seed", "ascend"])
        >>> str(err)
        "unknown stage 'gold'; known: 'ascend', 'seed'"
        >>> str(UnknownName("stage", "accelarate", ["seed", "accelerate"]))
        "unknown stage 'accelarate'; did you mean 'accelerate'? known: 'accelerate', 'seed'"
    """

    def __init__(
        self,
        kind: str,
        name: object,
        known: Sequence[object] = (),
        suggestion: object = None,
    ) -> None:
        self.kind = kind
        self.name = name
        self.known = tuple(known)
        if suggestion is None and isinstance(name, str) and self.known:
            suggestion = _near(name, self.known)
        self.suggestion = suggestion
        message = f"unknown {kind} {_show(name)}"
        if suggestion is not None:
            message += f"; did you mean {suggestion!r}?"
        if self.known:
            shown = ", ".join(repr(k) for k in sorted(self.known, key=str)[:20])
            message += f"{'' if suggestion is not None else ';'} known: {shown}"
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.kind, self.name, self.known, self.suggestion))


class InvalidDefinition(StarsError, ValueError):
    """A lifecycle, scorecard or other definition is inconsistent.

    Raised when the definition is built, never later when it is used.

    Examples:
        >>> str(InvalidDefinition("stage 'x' is unreachable from 'prospect'"))
        "stage 'x' is unreachable from 'prospect'"
    """


class OutOfOrder(StarsError, ValueError):
    """A timestamp is earlier than one already recorded.

    Examples:
        >>> str(OutOfOrder("snapshot", "2025-01-01", "2025-02-01"))
        'snapshot at 2025-01-01 is earlier than the latest recorded (2025-02-01)'
    """

    def __init__(self, what: str, at: object, latest: object) -> None:
        self.what = what
        self.at = at
        self.latest = latest
        super().__init__(f"{what} at {at} is earlier than the latest recorded ({latest})")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.what, self.at, self.latest))


class TransitionNotAllowed(StarsError, LookupError):
    """The trigger does not exist from the account's current stage.

    The graph itself forbids it; ``force=True`` does not help.

    Examples:
        >>> err = TransitionNotAllowed("acme", "prospect", "sustain", ["sign"])
        >>> str(err)
        "account 'acme' in stage 'prospect' cannot 'sustain'; allowed here: 'sign'"
    """

    def __init__(
        self, account_id: str, stage: str, trigger: str, allowed: Sequence[str] = ()
    ) -> None:
        self.account_id = account_id
        self.stage = stage
        self.trigger = trigger
        self.allowed = tuple(allowed)
        shown = ", ".join(repr(a) for a in self.allowed) or "nothing"
        super().__init__(
            f"account {account_id!r} in stage {stage!r} cannot {trigger!r}; allowed here: {shown}"
        )

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.account_id, self.stage, self.trigger, self.allowed))


class TransitionRefused(StarsError, RuntimeError):
    """A guard refused the transition; the reasons say why.

    Pass ``force=True`` with a reason to override a guard.

    Examples:
        >>> err = TransitionRefused("acme", "seed", "accelerate", ["health is yellow, not green"])
        >>> err.reasons
        ('health is yellow, not green',)
    """

    def __init__(self, account_id: str, stage: str, trigger: str, reasons: Sequence[str]) -> None:
        self.account_id = account_id
        self.stage = stage
        self.trigger = trigger
        self.reasons = tuple(reasons)
        super().__init__(
            f"account {account_id!r} in stage {stage!r}: {trigger!r} refused: "
            + "; ".join(self.reasons)
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.account_id, self.stage, self.trigger, self.reasons))


class TransitionVetoed(StarsError, RuntimeError):
    """A before- or exit-hook raised, so the transition did not happen; nothing changed.

    Every hook of the phase ran; ``errors`` holds what each failing one raised, in the
    order they ran, and the first is the ``__cause__``.

    Examples:
        >>> str(TransitionVetoed("acme", "sign", "ValueError('no budget')"))
        "'sign' on account 'acme' vetoed by a hook: ValueError('no budget')"
    """

    def __init__(
        self,
        account_id: str,
        trigger: str,
        detail: str,
        errors: tuple[BaseException, ...] = (),
    ) -> None:
        self.account_id = account_id
        self.trigger = trigger
        self.detail = detail
        self.errors = tuple(errors)
        super().__init__(f"{trigger!r} on account {account_id!r} vetoed by a hook: {detail}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.account_id, self.trigger, self.detail, self.errors))


class HookFailed(StarsError, RuntimeError):
    """One or more hooks that run after the commit raised; the transition stands.

    ``record`` is what was committed (the new record, or the new plan for a recovery
    plan). Every enter-, after- and cycle-hook ran even when an earlier one raised;
    ``errors`` holds what each failing hook raised, in the order they ran, and the first
    is the ``__cause__``.

    Examples:
        >>> err = HookFailed("acme", "sign", "KeyError('x')", record=None)
        >>> str(err)
        "'sign' on account 'acme' was applied, but a later hook failed: KeyError('x')"
        >>> err.errors
        ()
    """

    def __init__(
        self,
        account_id: str,
        trigger: str,
        detail: str,
        record: object,
        errors: tuple[BaseException, ...] = (),
    ) -> None:
        self.account_id = account_id
        self.trigger = trigger
        self.detail = detail
        self.record = record
        self.errors = tuple(errors)
        super().__init__(
            f"{trigger!r} on account {account_id!r} was applied, but a later hook failed: {detail}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.account_id, self.trigger, self.detail, self.record, self.errors))


class ConcurrentModification(StarsError, RuntimeError):
    """The account changed since the version the caller read.

    Examples:
        >>> str(ConcurrentModification("acme", expected=3, actual=4))
        'account acme: expected version 3, but it is at version 4'
    """

    def __init__(self, account_id: str, expected: int, actual: int) -> None:
        self.account_id = account_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"account {account_id}: expected version {expected}, but it is at version {actual}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.account_id, self.expected, self.actual))


class SchemaError(StarsError, ValueError):
    """A serialized document does not match the schema it claims.

    Examples:
        >>> str(SchemaError("$.schema", "stars/9", "'stars/1'"))
        "$.schema: got 'stars/9', expected 'stars/1'"
    """

    def __init__(self, path: str, value: object, expected: str) -> None:
        self.path = path
        self.value = value
        self.expected = expected
        super().__init__(f"{path}: got {_show(value)}, expected {expected}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.value, self.expected))


class MissingDependency(StarsError, ImportError):
    """An optional dependency is needed for this feature.

    Examples:
        >>> str(MissingDependency("matplotlib", "plot"))
        "this feature needs 'matplotlib': pip install 'stars-lifecycle[plot]'"
    """

    def __init__(self, package: str, extra: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(f"this feature needs {package!r}: pip install 'stars-lifecycle[{extra}]'")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.package, self.extra))
