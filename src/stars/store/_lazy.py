"""A log whose older items stay in the store until they are read (private).

A loaded account holds its recent changes (the tail a stored snapshot keeps, plus the
changes after it) and only the number of the older ones. Reading from the end
(``[-1]``, ``reversed``, ``len``: what ``observe`` and the guards read) never touches
the older items; anything else reads them from the store once. Appending extends the
tail, so loading an account and observing a snapshot costs the same whatever its length.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar, overload

from stars._log import Log, append

T = TypeVar("T")

__all__ = ["LazyLog"]


class _Prefix:
    """The older items, read once by whichever view asks first (shared by every view)."""

    __slots__ = ("_items", "_load", "_lock", "n")

    def __init__(self, n: int, load: Callable[[int], Sequence[Any]]) -> None:
        self.n = n
        self._load: Callable[[int], Sequence[Any]] | None = load
        self._items: tuple[Any, ...] | None = None
        self._lock = threading.Lock()

    def items(self) -> tuple[Any, ...]:
        got = self._items
        if got is None:
            with self._lock:
                got = self._items
                if got is None:
                    assert self._load is not None
                    got = tuple(self._load(self.n))
                    self._items = got
                    self._load = None
        return got


class LazyLog(Log[T]):
    """The first ``prefix.n`` items in the store, then ``tail`` (a tuple or a `Log`)."""

    __slots__ = ("_prefix", "_tail")

    def __init__(self, prefix: _Prefix, tail: Sequence[T]) -> None:
        self._prefix = prefix
        self._tail = tail
        super().__init__([], prefix.n + len(tail))

    @classmethod
    def of(cls, n_older: int, tail: Sequence[T], load: Callable[[int], Sequence[T]]) -> Sequence[T]:
        """``tail`` after ``n_older`` items that ``load(n_older)`` reads (a tuple when none)."""
        if n_older == 0:
            return tuple(tail)
        return cls(_Prefix(n_older, load), tuple(tail))

    def _all(self) -> tuple[T, ...]:
        return (*self._prefix.items(), *self._tail)

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...

    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        if isinstance(index, slice):
            return self._all()[index]
        n = self._n
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("log index out of range")
        older = self._prefix.n
        if index >= older:
            return self._tail[index - older]
        return self._prefix.items()[index]  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[T]:
        yield from self._prefix.items()
        yield from self._tail

    def __reversed__(self) -> Iterator[T]:
        yield from reversed(self._tail)
        yield from reversed(self._prefix.items())

    def __bool__(self) -> bool:
        return self._n > 0

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Log | tuple | list):
            return len(other) == self._n and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))

    def _appended(self, item: T) -> Log[T]:
        return LazyLog(self._prefix, append(self._tail, item))

    # -- what an account's history slot needs (see stars._pending.PendingHistory) --------
    def build(self) -> tuple[T, ...]:
        """Every item, read once."""
        return self._all()

    def last_at(self) -> datetime:
        """The time of the last item, without reading the older ones."""
        last: Any = self._tail[-1] if self._tail else self._prefix.items()[-1]
        return last.at  # type: ignore[no-any-return]
