"""What the lifecycle and the recovery process share around their machines (private)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from stars.errors import InvalidValue

F = TypeVar("F", bound=Callable[[Any], None])


class Cursor:
    """The proxy model handed to `transitions` while one trigger fires (never kept)."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


class HookStore:
    """Hooks keyed by (kind, key), copy-on-write so a firing thread never sees a half-made list."""

    _hook_event_name = "an event"

    def __init__(self) -> None:
        self._hooks: dict[tuple[str, str], tuple[Callable[[Any], None], ...]] = {}
        self._lock = threading.RLock()

    def _hooks_changed(self) -> None:
        """Called under the lock after every change (the lifecycle rebuilds its machine)."""

    def _register(self, kind: str, key: str, fn: Callable[[Any], None]) -> None:
        if not callable(fn):
            raise InvalidValue("hook", fn, f"a callable taking {self._hook_event_name}")
        with self._lock:
            self._hooks[(kind, key)] = (*self._hooks.get((kind, key), ()), fn)
            self._hooks_changed()

    def _decorator(self, kind: str, key: str) -> Callable[[F], F]:
        """A decorator that registers its function as a ``kind`` hook for ``key``."""

        def register(fn: F) -> F:
            self._register(kind, key, fn)
            return fn

        return register

    def _remove(self, fn: Callable[[Any], None]) -> int:
        removed = 0
        with self._lock:
            for key, hooks in list(self._hooks.items()):
                kept = tuple(h for h in hooks if h is not fn)
                removed += len(hooks) - len(kept)
                self._hooks[key] = kept
            self._hooks_changed()
        return removed

    def _run(self, kind: str, key: str, event: Any) -> None:
        for fn in self._hooks.get((kind, key), ()):
            fn(event)
