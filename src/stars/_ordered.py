"""String enums ordered by declaration, not alphabetically (private)."""

from __future__ import annotations

import enum
import functools
from typing import Any

from stars.errors import UnknownName


@functools.cache
def _positions(cls: type[enum.Enum]) -> dict[Any, int]:
    return {member: i for i, member in enumerate(cls)}


class OrderedStrEnum(enum.StrEnum):
    """A ``StrEnum`` whose members order by declaration.

    Members also compare with their plain values (``Band.GREEN > "red"``); an unknown
    value raises `UnknownName` instead of falling back to an
    alphabetical comparison, and a non-string raises ``TypeError``.
    """

    @property
    def rank(self) -> int:
        """Position in declaration order, from 0.

        Examples:
            >>> from stars.recovery import Severity
            >>> Severity.HIGH.rank
            2
        """
        return _positions(type(self))[self]

    def _position_of(self, other: object) -> int | None:
        cls = type(self)
        if isinstance(other, cls):
            return _positions(cls)[other]
        if isinstance(other, str):
            try:
                return _positions(cls)[cls(other)]
            except ValueError:
                raise UnknownName(cls.__name__.lower(), other, [m.value for m in cls]) from None
        return None

    def __lt__(self, other: object) -> bool:
        pos = self._position_of(other)
        return NotImplemented if pos is None else _positions(type(self))[self] < pos

    def __le__(self, other: object) -> bool:
        pos = self._position_of(other)
        return NotImplemented if pos is None else _positions(type(self))[self] <= pos

    def __gt__(self, other: object) -> bool:
        pos = self._position_of(other)
        return NotImplemented if pos is None else _positions(type(self))[self] > pos

    def __ge__(self, other: object) -> bool:
        pos = self._position_of(other)
        return NotImplemented if pos is None else _positions(type(self))[self] >= pos
