"""The one engine that the lifecycle, the customer journey and the recovery process share (private).

What each machine brings is its graph, its guards and its subject (an `Account`, a
`CustomerJourney`, a `RecoveryPlan`). What they share lives here:

- **The edge table** (`EdgeTable`): ``(source, trigger)`` to the edges that may fire, in
  definition order, keyed by the pair itself so no two names can ever collide.
- **Guards with reasons** (`EdgeTable.pick`): the first edge whose guards all pass wins;
  every refusing guard says why.
- **Hooks** (`Machine`): registered per phase and key, copy-on-write, so a firing thread
  always sees one consistent set. One signature: ``hook(event)``; the event carries the
  subject, the record and the machine.
- **The phases** (`Machine._transact`): before and exit hooks may veto; then the commit;
  then enter, after and cycle hooks see the committed record. Every hook of a phase runs
  even when one raises, and the failures come back together (`TransitionVetoed` or
  `HookFailed` with ``errors``).
- **The concurrency rule** (`commit`): no lock is ever held while user code runs. An
  operation reads the subject's version, evaluates guards and before-hooks, and commits
  under a short lock that belongs to the subject (not to the machine) only if the version
  is still the one it read; otherwise `ConcurrentModification`. Every write to a subject,
  from any machine or function, goes through `commit`, so writes to one subject are
  atomic with respect to each other, and writes to different subjects never wait for
  each other's hooks.

The locks are striped by the subject's identity: a fixed table of plain locks, so an
account costs no memory for its lock. Two subjects may share a stripe; that only means
they briefly queue for a commit, which runs no user code and takes no other lock, so
no deadlock is possible.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from stars.errors import ConcurrentModification, HookFailed, InvalidValue, TransitionVetoed

__all__ = ["Edge", "EdgeTable", "Machine", "commit", "lock_for", "run_hooks"]

T = TypeVar("T")
C = TypeVar("C")
F = TypeVar("F", bound=Callable[[Any], None])
Hook = Callable[[Any], None]

_STRIPES = tuple(threading.Lock() for _ in range(256))


def lock_for(subject: object) -> threading.Lock:
    """The short commit lock of one subject (striped by identity; never held over user code).

    Examples:
        >>> from stars._engine import lock_for
        >>> a, b = object(), object()
        >>> lock_for(a) is lock_for(a)
        True
    """
    return _STRIPES[(id(subject) >> 4) & 255]


class Versioned(Protocol):
    """A mutable subject: its version counts its stored changes."""

    _version: int


def commit(subject: Versioned, subject_id: str, read: int | None, apply: Callable[[], T]) -> T:
    """Run ``apply`` under the subject's lock if its version is still ``read``.

    With ``read=None`` the write does not depend on what was read (appending a snapshot,
    say), so any version will do. ``apply`` must be short and must not call user code: it
    is the write itself.

    Raises:
        ConcurrentModification: Another writer changed the subject since ``read``.

    Examples:
        >>> from stars import Account
        >>> from stars._engine import commit
        >>> a = Account("acme")
        >>> commit(a, a.id, 0, lambda: "written")
        'written'
        >>> commit(a, a.id, 3, lambda: "written")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.ConcurrentModification: account acme: expected version 3, but it is at ...
    """
    with lock_for(subject):
        if read is not None and subject._version != read:
            raise ConcurrentModification(subject_id, read, subject._version)
        return apply()


def run_hooks(hooks: Sequence[Hook], event: object) -> list[Exception]:
    """Call every hook with ``event``; return the exceptions they raised, in order.

    Examples:
        >>> from stars._engine import run_hooks
        >>> seen = []
        >>> def boom(event):
        ...     raise ValueError(event)
        >>> errors = run_hooks([boom, seen.append], "e")
        >>> seen, errors
        (['e'], [ValueError('e')])
    """
    errors: list[Exception] = []
    for fn in hooks:
        try:
            fn(event)
        except Exception as exc:
            errors.append(exc)
    return errors


def _detail(errors: Sequence[Exception]) -> str:
    return "; ".join(repr(e) for e in errors)


# --------------------------------------------------------------------------- edges
class Edge(Generic[C]):
    """One transition of a graph: ``trigger`` from any of ``sources`` to ``dest``.

    ``tag`` is what the machine keeps beside it (the lifecycle's `TransitionDef`);
    ``guards`` are pure callables on the machine's context, each returning ``None`` to
    allow or the reason it refuses.
    """

    __slots__ = ("dest", "guards", "sources", "tag", "trigger")

    def __init__(
        self,
        trigger: str,
        sources: Sequence[str],
        dest: str,
        guards: Sequence[Callable[[C], str | None]] = (),
        tag: Any = None,
    ) -> None:
        self.trigger = trigger
        self.sources = tuple(sources)
        self.dest = dest
        self.guards = tuple(guards)
        self.tag = tag

    def reasons(self, ctx: C) -> list[str]:
        """Why the guards refuse (empty: they all pass)."""
        out = []
        for guard in self.guards:
            why = guard(ctx)
            if why is not None:
                out.append(why)
        return out

    def __repr__(self) -> str:
        return f"Edge({self.trigger!r}, {self.sources!r}, {self.dest!r})"


class EdgeTable(Generic[C]):
    """Edges by ``(source, trigger)``, in definition order.

    ``by_pair`` is the mapping itself, for loops that look up one pair per row.

    Examples:
        >>> from stars._engine import Edge, EdgeTable
        >>> table = EdgeTable([Edge("a", ["x"], "b>c"), Edge("a>b", ["x"], "c")])
        >>> [e.dest for e in table.get("x", "a")], [e.dest for e in table.get("x", "a>b")]
        (['b>c'], ['c'])
        >>> table.triggers_from("x")
        ['a', 'a>b']
    """

    __slots__ = ("_between", "_from", "_to", "by_pair", "edges")

    def __init__(self, edges: Iterable[Edge[C]]) -> None:
        self.edges = tuple(edges)
        table: dict[tuple[str, str], list[Edge[C]]] = {}
        for edge in self.edges:
            for source in edge.sources:
                table.setdefault((source, edge.trigger), []).append(edge)
        self.by_pair: dict[tuple[str, str], tuple[Edge[C], ...]] = {
            key: tuple(group) for key, group in table.items()
        }
        self._from: dict[str, list[str]] = {}
        for source, trigger in self.by_pair:
            self._from.setdefault(source, []).append(trigger)
        for triggers in self._from.values():
            triggers.sort()
        between: dict[tuple[str, str], set[str]] = {}
        for (source, trigger), group in self.by_pair.items():
            for edge in group:
                between.setdefault((source, edge.dest), set()).add(trigger)
        self._between = {key: tuple(sorted(found)) for key, found in between.items()}
        to: dict[tuple[str, str, str], list[Edge[C]]] = {}
        for (source, trigger), group in self.by_pair.items():
            for edge in group:
                to.setdefault((source, trigger, edge.dest), []).append(edge)
        self._to = {key: tuple(found) for key, found in to.items()}

    def get(self, source: str, trigger: str) -> tuple[Edge[C], ...] | None:
        """The edges ``trigger`` may take from ``source`` (``None``: the graph has none)."""
        return self.by_pair.get((source, trigger))

    def get_to(self, source: str, trigger: str, dest: str) -> tuple[Edge[C], ...]:
        """The edges ``trigger`` takes from ``source`` to ``dest``, in order (looked up).

        Examples:
            >>> from stars._engine import Edge, EdgeTable
            >>> table = EdgeTable([Edge("x", ["a"], "b"), Edge("x", ["a"], "c")])
            >>> [e.dest for e in table.get_to("a", "x", "c")], table.get_to("a", "x", "d")
            (['c'], ())
        """
        return self._to.get((source, trigger, dest), ())

    def triggers_between(self, source: str, dest: str) -> tuple[str, ...]:
        """The triggers with an edge from ``source`` to ``dest``, sorted (looked up, not searched).

        Examples:
            >>> from stars._engine import Edge, EdgeTable
            >>> EdgeTable([Edge("y", ["a"], "b"), Edge("x", ["a"], "b")]).triggers_between("a", "b")
            ('x', 'y')
        """
        return self._between.get((source, dest), ())

    def triggers_from(self, source: str) -> list[str]:
        """The triggers the graph allows from ``source``, sorted."""
        return list(self._from.get(source, ()))

    @staticmethod
    def pick(
        group: Sequence[Edge[C]], context: Callable[[str], C]
    ) -> tuple[Edge[C] | None, list[str]]:
        """The first edge whose guards all pass, and the reasons the ones before it refused.

        ``context(dest)`` builds what an edge's guards read; it is called only for edges
        that have guards.
        """
        refusals: list[str] = []
        for edge in group:
            if not edge.guards:
                return edge, refusals
            reasons = edge.reasons(context(edge.dest))
            if not reasons:
                return edge, refusals
            refusals.extend(reasons)
        return None, refusals


# --------------------------------------------------------------------------- hooks and phases
class Machine:
    """What every machine shares: its hooks, their phases, and how a transition runs.

    A subclass names what its hooks receive (``_hook_event_name``) and calls
    `_transact` for each transition.
    """

    _hook_event_name = "an event"

    def __init__(self) -> None:
        # (hooks by (phase, key), phase plans by transition): replaced whole on every
        # registration, so one read of the attribute is always a consistent set.
        self._hookset: tuple[dict[tuple[str, str], tuple[Hook, ...]], dict[Any, Any]] = ({}, {})
        self._registering = threading.Lock()

    @property
    def _hooks(self) -> dict[tuple[str, str], tuple[Hook, ...]]:
        return self._hookset[0]

    def _register(self, phase: str, key: str, fn: Hook) -> None:
        if not callable(fn):
            raise InvalidValue("hook", fn, f"a callable taking {self._hook_event_name}")
        with self._registering:
            hooks = dict(self._hookset[0])
            hooks[(phase, key)] = (*hooks.get((phase, key), ()), fn)
            self._hookset = (hooks, {})

    def _decorator(self, phase: str, key: str) -> Callable[[F], F]:
        """A decorator that registers its function as a ``phase`` hook for ``key``."""

        def register(fn: F) -> F:
            self._register(phase, key, fn)
            return fn

        return register

    def _remove(self, fn: Hook) -> int:
        removed = 0
        with self._registering:
            hooks = {}
            for key, fns in self._hookset[0].items():
                kept = tuple(h for h in fns if h is not fn)
                removed += len(fns) - len(kept)
                if kept:
                    hooks[key] = kept
            self._hookset = (hooks, {})
        return removed

    def _phases(
        self, trigger: str, source: str | None, dest: str, cycle: str | None
    ) -> tuple[tuple[Hook, ...], tuple[Hook, ...], tuple[Hook, ...]]:
        """The hooks of one transition, in the order they run: (before, exit, after commit).

        Before: ``before("*")`` then ``before(trigger)``. Exit: ``on_exit(source)``. After the
        commit: ``on_enter(dest)``, ``after("*")``, ``after(trigger)``, ``on_cycle(cycle)``.
        """
        hooks, plans = self._hookset
        key = (trigger, source, dest, cycle)
        plan = plans.get(key)
        if plan is None:
            get = hooks.get
            plan = (
                (*get(("before", "*"), ()), *get(("before", trigger), ())),
                get(("exit", source), ()) if source is not None else (),
                (
                    *get(("enter", dest), ()),
                    *get(("after", "*"), ()),
                    *get(("after", trigger), ()),
                    *(get(("cycle", cycle), ()) if cycle is not None else ()),
                ),
            )
            plans[key] = plan  # a benign race: two threads compute the same plan
        return plan

    @staticmethod
    def _transact(
        subject_id: str,
        trigger: str,
        phases: tuple[tuple[Hook, ...], tuple[Hook, ...], tuple[Hook, ...]],
        event: Callable[[Any], object],
        write: Callable[[], tuple[T, Any]],
    ) -> T:
        """Run one transition: veto phases, the write, then the hooks that see the record.

        Args:
            subject_id: The subject's id, for errors.
            trigger: The trigger, for errors.
            phases: From `_phases`.
            event: Builds the hook event from the committed record (``None`` before it).
            write: Commits (through `commit` for a mutable subject) and returns
                (what the call returns, the committed record).

        Raises:
            TransitionVetoed: A before- or exit-hook raised; nothing was written.
            HookFailed: A hook after the commit raised; every one still ran.
        """
        before, exits, after = phases
        if before or exits:
            pre = event(None)
            for hooks in (before, exits):
                if hooks:
                    errors = run_hooks(hooks, pre)
                    if errors:
                        raise TransitionVetoed(
                            subject_id, trigger, _detail(errors), tuple(errors)
                        ) from errors[0]
        result, record = write()
        if after:
            errors = run_hooks(after, event(record))
            if errors:
                raise HookFailed(
                    subject_id, trigger, _detail(errors), result, tuple(errors)
                ) from errors[0]
        return result
