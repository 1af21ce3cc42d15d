"""Append-only logs with immutable views: O(1) appends without giving up frozen reads (private).

An account's history, snapshots and depth points only ever grow. Copying a tuple to add
one item costs O(n), so a long history becomes quadratic to build. Instead the items live
in a plain list that is only ever appended to, and readers get a `Log`: the first ``n``
items of that list. Positions below ``n`` never change, so a `Log` is as immutable as a
tuple, costs O(1) to make, and a view taken before an append keeps its length.

Two owners may share one list (a shallow copy of an account, say). `append` claims the
next position by appending and then checking that the item really landed at ``n``; when
another owner got there first, it forks a list of its own. Every step is a single list
operation, so the structure needs no lock of its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar, overload

T = TypeVar("T")

__all__ = ["Log", "append"]


class Log(Sequence[T]):
    """A read-only, immutable sequence: the first items of an append-only list.

    It behaves like a tuple: it compares equal to a tuple (or list) with the same items,
    hashes like one, supports ``len``, indexing, slicing, iteration, ``reversed``,
    ``index``, ``count`` and ``+``, and pickles as a tuple.

    Examples:
        >>> from stars._log import Log, append
        >>> a = append((), "x")
        >>> b = append(a, "y")
        >>> a, b, b == ("x", "y"), b[-1], b[:1]
        (('x',), ('x', 'y'), True, 'y', ('x',))
    """

    __slots__ = ("_items", "_n")

    def __init__(self, items: list[T], n: int) -> None:
        self._items = items
        self._n = n

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...

    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        n = self._n
        if isinstance(index, slice):
            start, stop, step = index.indices(n)
            if step == 1 and start == 0:
                return self if stop == n else Log(self._items, max(stop, 0))
            items = self._items
            return tuple(items[i] for i in range(start, stop, step))
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("log index out of range")
        return self._items[index]

    def __iter__(self) -> Iterator[T]:
        items = self._items
        for i in range(self._n):
            yield items[i]

    def __reversed__(self) -> Iterator[T]:
        items = self._items
        for i in range(self._n - 1, -1, -1):
            yield items[i]

    def __bool__(self) -> bool:
        return self._n > 0

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Log):
            if other._items is self._items:
                return other._n == self._n
        elif not isinstance(other, tuple | list):
            return NotImplemented
        return len(other) == self._n and all(a == b for a, b in zip(self, other, strict=True))

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __add__(self, other: object) -> tuple[Any, ...]:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return (*self, *other)

    def __radd__(self, other: object) -> tuple[Any, ...]:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return (*other, *self)

    def __repr__(self) -> str:
        return repr(tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (tuple, (tuple(self),))

    def _appended(self, item: T) -> Log[T]:
        """This log with ``item`` added (the subclasses' hook for `append`)."""
        return append(tuple(self), item)


def append(current: Sequence[T], item: T) -> Log[T]:
    """``current`` with ``item`` added, in O(1) amortised time; ``current`` is unchanged.

    Args:
        current: A `Log` or any other sequence (copied into a new list once).
        item: The item to add.

    Returns:
        The longer view.

    Examples:
        >>> from stars._log import append
        >>> first = append((1, 2), 3)
        >>> second = append(first, 4)
        >>> first, second
        ((1, 2, 3), (1, 2, 3, 4))
    """
    if type(current) is Log:
        items: list[T] = current._items
        n = current._n
        items.append(item)
        if items[n] is not item:  # another owner of this list took position n: fork
            items = items[:n]
            items.append(item)
        return Log(items, n + 1)
    if isinstance(current, Log):  # a subclass that appends its own way (a store's lazy log)
        return current._appended(item)
    items = list(current)
    items.append(item)
    return Log(items, len(items))
