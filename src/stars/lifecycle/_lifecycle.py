"""The `Lifecycle` engine class and the default `STARS` lifecycle."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from stars import _engine
from stars import _validate as v
from stars._accounts import _need_account, _record_unchecked
from stars._engine import Edge, EdgeTable, commit, lock_for
from stars._log import Log
from stars.account import (
    Account,
    DepthPoint,
    OwnerChange,
    Snapshot,
    TransitionRecord,
)
from stars.bands import Band
from stars.errors import (
    ConcurrentModification,
    InvalidDefinition,
    InvalidValue,
    OutOfOrder,
    StarsError,
    TransitionNotAllowed,
    TransitionRefused,
    TransitionVetoed,
    UnknownName,
)
from stars.lifecycle._definition import (
    STARS_STAGES,
    STARS_TRANSITIONS,
    StageDef,
    TransitionDef,
    _cycle,
    _definition_items,
    check_graph,
    check_stages,
    check_transitions,
    reference_machine,
)
from stars.lifecycle._evidence import (
    _diagnosis_class,
    _need_time,
    _upto,
    diagnose_stars,
    evidence,
    evidence_of,
)
from stars.lifecycle._guards import GuardContext
from stars.lifecycle._policy import Policy
from stars.lifecycle._results import (
    Diagnoser,
    Event,
    H,
    Hook,
    HookEvent,
    Verdict,
    _guard_context,
    _hook_event,
    _raw_fields,
)
from stars.stages import Cycle, Stage, StageKind, StageProfile

if TYPE_CHECKING:
    from stars.health import ScorecardSet
    from stars.lifecycle._diagnosis import Diagnosis, Evidence


class Lifecycle(_engine.Machine):
    """A checked lifecycle definition, and the engine that moves accounts through it.

    Args:
        stages: The stages.
        transitions: The transitions (a trigger may appear several times with different
            sources or destinations; for one source, destinations are tried in order).
        initial: The stage new accounts start in.
        policy: Thresholds for guards and diagnosis.
        name: A name for diagrams and exports.
        diagnoser: The rule behind `diagnose` (default: `diagnose_stars`, which
            needs the STARS stage names).
        scorecards: A `ScorecardSet`; `observe` scores raw measures
            with it.
        clock: A zero-argument callable returning the time (timezone-aware), used by
            `check` and `available` when no ``at`` is given. Without one they judge as
            of the latest snapshot; the lifecycle never reads the machine's clock.

    Raises:
        InvalidDefinition: If the definition is inconsistent: unknown or duplicate stages,
            unreachable stages, stages that can never get back to growth, duplicate transitions.

    Examples:
        >>> from stars import STARS, Lifecycle, StageDef, TransitionDef
        >>> len(STARS.stages), STARS.initial
        (7, 'prospect')
        >>> stages = [StageDef("new", "before"), StageDef("live", "growth"),
        ...           StageDef("sick", "crisis")]
        >>> edges = [TransitionDef("go", "new", "live", "growth"),
        ...          TransitionDef("fall", "live", "sick", "crisis")]
        >>> Lifecycle(stages, edges, initial="new")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidDefinition: stage 'sick' can never get back to a growth stage ...
    """

    def __init__(
        self,
        stages: Iterable[StageDef],
        transitions: Iterable[TransitionDef],
        *,
        initial: str,
        policy: Policy | None = None,
        name: str = "custom",
        diagnoser: Diagnoser | None = None,
        scorecards: ScorecardSet | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.stages: tuple[StageDef, ...] = _definition_items("stages", stages)
        self.transitions: tuple[TransitionDef, ...] = _definition_items("transitions", transitions)
        if not isinstance(initial, str):
            raise InvalidDefinition(f"initial must be a stage name, got {initial!r}")
        self.initial = initial
        policy = policy if policy is not None else Policy()
        if not isinstance(policy, Policy):
            raise InvalidDefinition(f"policy must be a Policy, got {policy!r}")
        self.policy = policy
        if not isinstance(name, str):
            raise InvalidDefinition(f"name must be a string, got {name!r}")
        self.name = name
        if scorecards is not None:
            from stars.health import ScorecardSet

            if not isinstance(scorecards, ScorecardSet):
                raise InvalidDefinition(
                    f"scorecards must be a ScorecardSet (wrap a Scorecard as ScorecardSet(card)),"
                    f" got {type(scorecards).__name__}"
                )
        if diagnoser is not None and not callable(diagnoser):
            raise InvalidDefinition(f"diagnoser must be callable, got {diagnoser!r}")
        if clock is not None and not callable(clock):
            raise InvalidDefinition(f"clock must be a callable returning a datetime, got {clock!r}")
        self.clock = clock
        self.scorecards = scorecards
        self._stage_map = check_stages(self.stages, initial)
        self._edges = check_transitions(self.transitions, self._stage_map)
        check_graph(self.stages, initial, self._edges)
        if diagnoser is None and all(s.value in self._stage_map for s in Stage):
            diagnoser = diagnose_stars
        self._diagnoser = diagnoser
        self._triggers = frozenset(t.trigger for t in self.transitions)
        _engine.Machine.__init__(self)
        self._machine = reference_machine(self.stages, initial, self._edges)

    # -- small queries -------------------------------------------------------------
    @property
    def triggers(self) -> frozenset[str]:
        """Every trigger name in the definition.

        Examples:
            >>> from stars import STARS
            >>> "sign" in STARS.triggers
            True
        """
        return self._triggers

    def kind_of(self, stage: str) -> StageKind:
        """The kind of a stage of this lifecycle.

        Raises:
            UnknownName: If the stage is not defined here.

        Examples:
            >>> from stars import STARS
            >>> STARS.kind_of("tact").value
            'crisis'
        """
        try:
            return self._stage_map[stage].kind
        except (KeyError, TypeError):
            raise UnknownName("stage", stage, list(self._stage_map)) from None

    def profile(self, stage: str) -> StageProfile | None:
        """The profile (posture, key actions) of a stage, if the definition gives one.

        Examples:
            >>> from stars import STARS
            >>> STARS.profile("seed").posture
            ('builder', 'consultant')
        """
        self.kind_of(stage)
        return self._stage_map[stage].profile

    def new_account(self, account_id: str, **fields: Any) -> Account:
        """Create an account in this lifecycle's initial stage.

        Examples:
            >>> from stars import STARS
            >>> STARS.new_account("acme", owner="dana").stage
            'prospect'
        """
        return Account(account_id, stage=self.initial, **fields)

    def evolve(self, **changes: Any) -> Lifecycle:
        """A copy of this lifecycle with some definition arguments replaced (hooks are not copied).

        Examples:
            >>> from stars import STARS, Policy
            >>> STARS.evolve(policy=Policy(green_streak=2)).policy.green_streak
            2
        """
        args: dict[str, Any] = {
            "stages": self.stages,
            "transitions": self.transitions,
            "initial": self.initial,
            "policy": self.policy,
            "name": self.name,
            "diagnoser": self._diagnoser,
            "scorecards": self.scorecards,
            "clock": self.clock,
        }
        args.update(changes)
        return Lifecycle(**args)

    # -- hooks -----------------------------------------------------------------------
    _hook_event_name = "a HookEvent"

    def _trigger_key(self, trigger: str | None) -> str:
        if trigger is None:
            return "*"
        if not isinstance(trigger, str) or trigger not in self._triggers:
            raise UnknownName("trigger", trigger, sorted(self._triggers))
        return trigger

    def before(self, trigger: str | None = None) -> Callable[[H], H]:
        """Register a hook that runs before ``trigger`` (or any trigger). Raising vetoes it.

        Examples:
            >>> from stars import STARS
            >>> lc = STARS.evolve()
            >>> @lc.before("lose")
            ... def block(event):
            ...     raise ValueError("never lose")
        """
        key = self._trigger_key(trigger)

        return self._decorator("before", key)

    def after(self, trigger: str | None = None) -> Callable[[H], H]:
        """Register a hook that runs after ``trigger`` (or any trigger) was applied.

        Examples:
            >>> from stars import STARS
            >>> lc = STARS.evolve()
            >>> @lc.after()
            ... def log(event):
            ...     pass
        """
        key = self._trigger_key(trigger)

        return self._decorator("after", key)

    def on_enter(self, stage: str) -> Callable[[H], H]:
        """Register a hook that runs when an account enters ``stage``.

        Examples:
            >>> from stars import STARS
            >>> lc = STARS.evolve()
            >>> @lc.on_enter("tact")
            ... def alert(event):
            ...     pass
        """
        self.kind_of(stage)

        return self._decorator("enter", stage)

    def on_exit(self, stage: str) -> Callable[[H], H]:
        """Register a hook that runs when an account is about to leave ``stage``. Raising vetoes.

        Examples:
            >>> from stars import STARS
            >>> lc = STARS.evolve()
            >>> @lc.on_exit("ascend")
            ... def note(event):
            ...     pass
        """
        self.kind_of(stage)

        return self._decorator("exit", stage)

    def on_cycle(self, cycle: Cycle | str) -> Callable[[H], H]:
        """Register a hook that runs after any transition of the given cycle.

        Examples:
            >>> from stars import STARS
            >>> lc = STARS.evolve()
            >>> @lc.on_cycle("crisis")
            ... def page(event):
            ...     pass
        """
        key = _cycle(cycle).value

        return self._decorator("cycle", key)

    def remove_hook(self, fn: Hook) -> int:
        """Unregister a hook everywhere it was registered; returns how many registrations went.

        Examples:
            >>> from stars import STARS
            >>> lc = STARS.evolve()
            >>> hook = lc.after()(lambda event: None)
            >>> lc.remove_hook(hook)
            1
        """
        return self._remove(fn)

    def _context(
        self,
        account: Account,
        snapshot: Snapshot | None,
        at: datetime | None,
        trigger: str,
        reason: str | None,
    ) -> Callable[[str], GuardContext]:
        """What the guards of each destination read, built only when a guard asks for it.

        ``at`` may be ``None`` only when no guard is asked (`check` makes sure of that).
        """

        def build(dest: str) -> GuardContext:
            assert at is not None, "a guarded edge is judged at a time"
            return _guard_context(
                account, snapshot, self.policy, at, trigger, dest, reason, self.kind_of
            )

        return build

    # -- the public engine -----------------------------------------------------------
    def _candidates(
        self, account: Account, stage: str, trigger: str, to: str | None
    ) -> tuple[Edge[GuardContext], ...]:
        if not isinstance(trigger, str) or trigger not in self._triggers:
            raise UnknownName("trigger", trigger, sorted(self._triggers))
        self.kind_of(stage)
        group = self._edges.get(stage, trigger)
        if group is None:
            raise TransitionNotAllowed(account.id, stage, trigger, self._allowed_triggers(stage))
        if to is not None:
            chosen = tuple(e for e in group if e.dest == to)
            if not chosen:
                self.kind_of(to)
                raise TransitionNotAllowed(
                    account.id,
                    stage,
                    f"{trigger} -> {to}",
                    [f"{trigger} -> {e.dest}" for e in group],
                )
            return chosen
        return group

    def _allowed_triggers(self, stage: str) -> list[str]:
        return self._edges.triggers_from(stage)

    def fire(
        self,
        account: Account,
        trigger: str,
        *,
        at: datetime,
        actor: str | None = None,
        reason: str | None = None,
        force: bool = False,
        to: str | None = None,
        expected_version: int | None = None,
    ) -> TransitionRecord:
        """Apply a trigger to an account and append the record to its history.

        The account's version is read first; guards and before-/exit-hooks run without
        any lock; the record is committed under the account's own short lock only if the
        version is unchanged. Enter-, after- and cycle-hooks then run, all of them, even
        when one raises (see the concepts page for the whole rule).

        Args:
            account: The account to move.
            trigger: The trigger's name.
            at: When it happens (timezone-aware, not earlier than the last record; compared
                as an instant, whatever its zone).
            actor: Who makes it happen.
            reason: Why (required with ``force=True``).
            force: Override the guards (never the graph); the record says so.
            to: The destination, for triggers with several (default: the first whose guards pass).
            expected_version: Refuse with `ConcurrentModification` unless
                the account is at this version.

        Returns:
            The new record.

        Raises:
            UnknownName: The trigger or the account's stage is not in this lifecycle.
            TransitionNotAllowed: The graph has no such transition from the current stage.
            TransitionRefused: A guard refused (the reasons say why); nothing changed.
            TransitionVetoed: Before- or exit-hooks raised (``errors`` has each); nothing changed.
            HookFailed: Enter-, after- or cycle-hooks raised after the transition was applied
                (``record`` is the record, ``errors`` has each failure).
            OutOfOrder: ``at`` is earlier than the last record.
            ConcurrentModification: ``expected_version`` does not match, or another writer
                changed the account while this call ran; nothing changed.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import STARS, Account
            >>> a = Account("a")
            >>> r = STARS.fire(a, "sign", at=datetime(2025, 1, 1, tzinfo=timezone.utc),
            ...                force=True, reason="contract signed offline")
            >>> (a.stage, r.forced, a.version)
            ('seed', True, 1)
        """
        # The checks are written out (not helper calls): this is the hot path.
        if type(account) is not Account:
            _need_account(account)
        if type(trigger) is not str:
            raise UnknownName("trigger", trigger, sorted(self._triggers))
        if expected_version is not None:
            v.expected_version(expected_version)
        if type(at) is not datetime or at.tzinfo is None:
            v.aware("at", at)
        if actor is not None and type(actor) is not str:
            raise InvalidValue("actor", actor, "a string or None")
        if reason is not None and type(reason) is not str:
            raise InvalidValue("reason", reason, "a string or None")
        if force is not False:
            v.flag("force", force)
            if not (reason and reason.strip()):
                raise InvalidValue("reason", reason, "a reason whenever force=True")
        with lock_for(account):  # one consistent read: no torn stage/version pair
            version = account._version
            stage = account._stage
            history = account._history
            snaps = account._snapshots
        if expected_version is not None and expected_version != version:
            raise ConcurrentModification(account.id, expected_version, version)
        group = self._edges.get(stage, trigger)
        if group is None or to is not None:
            group = self._candidates(account, stage, trigger, to)
        if type(history) is not tuple and type(history) is not Log:
            history = account.history  # rows from a frame, not yet records
        if history and v.before(at, history[-1].at):
            raise OutOfOrder("transition", at.isoformat(), history[-1].at.isoformat())
        if force:
            chosen = group[0]
        else:
            if snaps and v.before(at, snaps[-1].at):
                snaps = _upto(snaps, at)
            snapshot = account._known(len(snaps))
            try:
                picked, refusals = EdgeTable.pick(
                    group, self._context(account, snapshot, at, trigger, reason)
                )
            except StarsError:
                raise
            except Exception as exc:
                raise TransitionVetoed(
                    account.id, trigger, f"guard raised {exc!r}", (exc,)
                ) from exc
            if picked is None:
                raise TransitionRefused(account.id, stage, trigger, refusals)
            chosen = picked
        t: TransitionDef = chosen.tag
        record = _record_unchecked(trigger, stage, t.dest, t.cycle, at, actor, reason, force)

        def event(committed: TransitionRecord | None) -> HookEvent:
            return _hook_event(
                account, trigger, stage, t.dest, t.cycle, at, actor, reason, force, committed, self
            )

        def write() -> tuple[TransitionRecord, TransitionRecord]:
            commit(account, account.id, version, lambda: account._append_record(record))
            return record, record

        return self._transact(
            account.id, trigger, self._phases(trigger, stage, t.dest, t.cycle.value), event, write
        )

    def _when(self, account: Account, at: datetime | None) -> datetime | None:
        """The time to judge at: ``at``, else the clock, else the latest snapshot's time."""
        if at is not None:
            return at
        if self.clock is not None:
            return v.aware("clock()", self.clock())
        latest = account.latest
        return latest.at if latest is not None else None

    def check(
        self,
        account: Account,
        trigger: str,
        *,
        at: datetime | None = None,
        to: str | None = None,
        reason: str | None = None,
    ) -> Verdict:
        """Whether ``trigger`` may fire now, without changing anything.

        Args:
            account: The account.
            trigger: The trigger's name.
            at: The time to judge at (default: the lifecycle's clock, if it has one, else the
                latest snapshot's time).
            to: A specific destination, for triggers with several.
            reason: The reason that would be given (some guards need one).

        Returns:
            The verdict: allowed or not, the destination, and the reasons it is refused.

        Raises:
            UnknownName: The trigger is not in this lifecycle.
            InvalidValue: A guard needs a time and there is none: no ``at``, no clock and no
                snapshot.

        Examples:
            >>> from stars import STARS, Account
            >>> STARS.check(Account("a"), "sustain").reasons
            ("'sustain' is not possible from 'prospect'",)
        """
        _need_account(account)
        if not isinstance(trigger, str) or trigger not in self._triggers:
            raise UnknownName("trigger", trigger, sorted(self._triggers))
        self.kind_of(account.stage)
        _need_time("at", at)
        if to is not None:
            self.kind_of(to)
        stage = account.stage
        group = self._edges_to(stage, trigger, to)
        if not group:
            return Verdict(
                trigger, stage, False, None, (f"{trigger!r} is not possible from {stage!r}",)
            )
        when = self._when(account, at)
        if when is None and any(e.guards for e in group):
            raise InvalidValue(
                "at",
                None,
                "a time to judge the guards at",
                hint="pass at=, build the lifecycle with clock=, or observe a snapshot first",
            )
        snapshot: Snapshot | None = None
        if when is not None:
            snapshot = account._known(len(_upto(account.snapshots, when)))
        chosen, reasons = self._pick(account, group, snapshot, when, trigger, reason)
        if chosen is not None:
            return Verdict(trigger, stage, True, chosen.dest)
        return Verdict(trigger, stage, False, group[0].dest, tuple(reasons))

    def _edges_to(self, stage: str, trigger: str, to: str | None) -> tuple[Edge[GuardContext], ...]:
        """The edges ``trigger`` takes from ``stage`` (those to ``to`` only, if given)."""
        if to is None:
            return self._edges.get(stage, trigger) or ()
        return self._edges.get_to(stage, trigger, to)

    def _pick(
        self,
        account: Account,
        group: Sequence[Edge[GuardContext]],
        snapshot: Snapshot | None,
        when: datetime | None,
        trigger: str,
        reason: str | None,
    ) -> tuple[Edge[GuardContext] | None, list[str]]:
        """The first edge of ``group`` whose guards pass, and why the ones before refused."""
        return EdgeTable.pick(group, self._context(account, snapshot, when, trigger, reason))

    def available(self, account: Account, *, at: datetime | None = None) -> tuple[Verdict, ...]:
        """The triggers that may fire now (their guards pass), with their destinations.

        ``at`` defaults as in `check`.

        Examples:
            >>> from stars import STARS, Account
            >>> [v.trigger for v in STARS.available(Account("a", stage="churn"))]
            ['win_back']
        """
        _need_account(account)
        _need_time("at", at)
        out = []
        for trigger in self._allowed_triggers(account.stage):
            verdict = self.check(account, trigger, at=at, reason="(checking)")
            if verdict.allowed:
                out.append(verdict)
        return tuple(out)

    def observe(
        self,
        account: Account,
        snapshot: Snapshot,
        *,
        measures: Mapping[str, float | None] | None = None,
        expected_version: int | None = None,
    ) -> Snapshot:
        """Record a snapshot of signals on the account.

        When the snapshot has a health score but no band, the band is derived with the
        policy. With ``measures``, the lifecycle's scorecard set (or the default scorecard)
        scores them for the account's stage and fills in health and band; the raw values
        are kept too, in the snapshot's own fields where the names match (adoption, nps,
        csat, open_tickets, days_since_contact, sentiment) and in ``metrics`` otherwise.
        The snapshot is appended under the account's own lock, in O(1).

        Args:
            account: The account.
            snapshot: The signals.
            measures: Raw measure values to score (the snapshot must not carry a health score then).
            expected_version: Refuse unless the account is at this version.

        Returns:
            The snapshot as stored (with health and band filled in).

        Raises:
            OutOfOrder: The snapshot is older than the latest one.
            InvalidValue: Both a health score and measures were given, or a measure is invalid.
            ConcurrentModification: ``expected_version`` does not match, or (with
                ``measures``) the account changed stage while they were scored.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import STARS, Account, Snapshot
            >>> a = Account("a")
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> STARS.observe(a, Snapshot(at=t, health=55)).band
            <Band.YELLOW: 'yellow'>
        """
        _need_account(account)
        if not isinstance(snapshot, Snapshot):
            raise InvalidValue("snapshot", snapshot, "a Snapshot")
        read = v.expected_version(expected_version)
        if measures is not None:
            if snapshot.health is not None:
                raise InvalidValue(
                    "measures", dict(measures), "no measures when the snapshot already has health"
                )
            with lock_for(account):
                version, stage = account._version, account._stage
            if read is not None and read != version:
                raise ConcurrentModification(account.id, read, version)
            read = version  # the score depends on the stage: commit only if it still holds
            scored = self._score(stage, measures)
            snapshot = attrs.evolve(
                snapshot, health=scored[0], band=scored[1], **_raw_fields(snapshot, measures)
            )
        elif snapshot.band is None and snapshot.health is not None:
            snapshot = attrs.evolve(snapshot, band=self.policy.bands.band_for(snapshot.health))
        stored = snapshot
        commit(account, account.id, read, lambda: account._append_snapshot(stored))
        return stored

    def _score(self, stage: str, measures: Mapping[str, float | None]) -> tuple[float, Band]:
        from stars.health import ScorecardSet, default_scorecard

        cards = self.scorecards or ScorecardSet(default_scorecard())
        result = cards.score(stage, measures)
        return result.score, result.band

    def replay(
        self,
        account_id: str,
        items: Iterable[TransitionRecord | Event],
        *,
        name: str = "",
        owner: str | None = None,
        tags: Iterable[str] = (),
        since: datetime | None = None,
        snapshots: Iterable[Snapshot] = (),
        owners: Iterable[OwnerChange] = (),
        depths: Iterable[DepthPoint] = (),
        start: Account | None = None,
    ) -> Account:
        """Rebuild an account from its history (records) or from events, without hooks.

        History is taken as fact: guards are not evaluated again, but the graph, the
        cycles and the time order are checked against this lifecycle. Records are
        reused as they are.

        With ``start``, the account is continued from a given state (a stored snapshot of
        it, say) rather than rebuilt from the initial stage: the new account has the
        start's name, owner, tags, since, history, snapshots, depths and owner changes, and
        then ``items``, ``snapshots``, ``depths`` and ``owners`` appended after them, each
        checked against where the start left off. The start itself is not changed.

        Args:
            account_id: The account's id.
            items: `TransitionRecord` or `Event` values, in order.
            name: The account's name.
            owner: The account's owner.
            tags: The account's tags.
            since: The account's start, if imported mid-life.
            snapshots: Its snapshots, in time order.
            owners: Its owner changes, in time order (``owner`` then defaults to the last).
            depths: Its depth points, in time order.
            start: The state to continue from (then leave ``name``, ``owner``, ``tags``
                and ``since`` out: the start's are kept).

        Returns:
            A new account whose stage, history and version match the items.

        Raises:
            TransitionNotAllowed: An item is not a transition from the stage reached.
            InvalidValue: A record's source or cycle disagrees with the lifecycle, or
                ``start`` is not an account with this id.
            OutOfOrder: An item is earlier than the previous one.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import STARS, Event, Snapshot
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> a = STARS.replay("acme", [Event("sign", t, forced=True, reason="import")])
            >>> a.stage, a.history[0].forced
            ('seed', True)
            >>> later = t.replace(month=3)
            >>> b = STARS.replay("acme", [Event("escalate", later, forced=True, reason="outage")],
            ...                  snapshots=[Snapshot(at=later, health=20)], start=a)
            >>> b.stage, b.version, a.stage, a.version
            ('tact', 3, 'seed', 1)
        """
        from stars.lifecycle._replay import replay  # loaded on the first replay

        return replay(
            self,
            account_id,
            items,
            name=name,
            owner=owner,
            tags=tags,
            since=since,
            snapshots=snapshots,
            owners=owners,
            depths=depths,
            start=start,
        )

    def record(self, stage: str, event: Event, *, account_id: str = "") -> TransitionRecord:
        """The record ``event`` would append to an account in ``stage``, without guards or hooks.

        The event is checked the way `replay` checks it: the trigger must leave ``stage``
        (``event.to`` picks among several destinations), the time must be timezone-aware,
        and a forced event needs a reason. Nothing is applied; use it to build or check
        a history outside the engine, as `stars.timeline` does.

        Args:
            stage: The stage the account is in before the event.
            event: The event.
            account_id: The account, named in errors.

        Returns:
            The transition record, with the destination and cycle from this lifecycle.

        Raises:
            UnknownName: ``stage`` is not a stage of this lifecycle.
            TransitionNotAllowed: The trigger does not leave ``stage``.
            InvalidValue: A field of the event is not valid (the error names it).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import STARS, Event
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> r = STARS.record("seed", Event("escalate", t, reason="outage"))
            >>> r.source, r.dest, r.cycle.value
            ('seed', 'tact', 'crisis')
            >>> STARS.record("seed", Event("renew", t))
            Traceback (most recent call last):
            ...
            stars.errors.TransitionNotAllowed: ...
        """
        from stars.lifecycle._replay import record_from

        if not isinstance(event, Event):
            raise InvalidValue("event", event, "a stars.Event")
        self.kind_of(stage)
        return record_from(
            self,
            account_id,
            stage,
            "event",
            event.trigger,
            event.at,
            event.actor,
            event.reason,
            event.forced,
            event.to,
        )

    def _walk_rows(
        self,
        account_id: str,
        triggers: Sequence[str],
        tos: Sequence[str | None],
        steps: list[Any],
        lo: int,
        hi: int,
    ) -> str:
        """Walk rows ``lo:hi`` of checked event columns through the graph (frames' batch path).

        The caller has checked every column's type and sorted the rows by time, so each row
        only meets the graph. The transition each row takes goes into ``steps[row]``; the
        stage the account ends in is returned.
        """
        stage = self.initial
        table_get = self._edges.by_pair.get
        for j in range(lo, hi):
            trigger = triggers[j]
            group = table_get((stage, trigger))
            if group is None:
                raise TransitionNotAllowed(
                    account_id, stage, str(trigger), self._allowed_triggers(stage)
                )
            e = group[0]
            to = tos[j]
            if to is not None and e.dest != to:
                e = next((c for c in group if c.dest == to), e)
                if e.dest != to:
                    raise TransitionNotAllowed(
                        account_id,
                        stage,
                        f"{trigger} -> {to}",
                        [f"{trigger} -> {c.dest}" for c in group],
                    )
            steps[j] = e.tag
            stage = e.dest
        return stage

    def diagnose(self, account: Account, *, at: datetime | None = None) -> Diagnosis:
        """Which stage the evidence points to, whether it agrees, and that stage's playbook.

        Args:
            account: The account.
            at: Judge as of this time (default: its latest snapshot).

        Returns:
            The diagnosis.

        Raises:
            InvalidDefinition: A custom lifecycle without STARS stage names and no diagnoser.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import STARS, Account, Snapshot
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> a = Account("a", stage="ascend", since=datetime(2023, 1, 1, tzinfo=timezone.utc),
            ...             snapshots=[Snapshot(at=t, health=60, success_metrics_agreed=True)])
            >>> d = STARS.diagnose(a)
            >>> d.stage, d.triggers, d.playbook.posture
            ('reset', ('stagnate',), ('strategist', 'revitalizer'))
        """
        self._need_diagnoser()  # said before the account is looked at
        _need_account(account)
        self.kind_of(account.stage)
        ev = evidence(account, at, self.policy, self.kind_of)
        stage, reasons = self._answer(ev)
        agrees = stage is None or stage == account.stage
        triggers: tuple[str, ...] = ()
        if stage is not None and not agrees:
            triggers = self._edges.triggers_between(account.stage, stage)
        playbook = self.profile(stage) if stage is not None else None
        return _diagnosis_class()(
            account.id, account.stage, stage, agrees, reasons, ev, playbook, triggers
        )

    def _need_diagnoser(self) -> Diagnoser:
        """The diagnoser, which a custom lifecycle without STARS stage names may lack."""
        if self._diagnoser is None:
            raise InvalidDefinition(
                f"lifecycle {self.name!r} has no diagnoser; pass diagnoser= when building it"
            )
        return self._diagnoser

    def _answer(self, ev: Evidence) -> tuple[str | None, tuple[str, ...]]:
        """The diagnoser's stage and reasons for ``ev``, checked."""
        answer = self._need_diagnoser()(ev, self.policy)
        if (
            not isinstance(answer, tuple)
            or len(answer) != 2
            or not (answer[0] is None or isinstance(answer[0], str))
            or not isinstance(answer[1], tuple)
        ):
            raise InvalidDefinition(
                f"lifecycle {self.name!r}: the diagnoser must return (stage or None, reasons),"
                f" got {answer!r}"
            )
        stage: str | None = answer[0]
        if stage is not None:
            self.kind_of(stage)
        return stage, answer[1]

    def _disagreement(
        self, account: Account, at: datetime
    ) -> tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]] | None:
        """Where the evidence points when it disagrees with ``account``'s stage (for reports).

        ``None`` when it agrees or points nowhere; else the stage, the reasons, the triggers
        between, and those of them whose guards pass at ``at``. The same answers as
        `diagnose` and `check` (``to=`` the stage, reason ``"(checking)"``) for an account
        already checked (a portfolio's), with the snapshot known at ``at`` read once.
        """
        self._need_diagnoser()
        snaps = _upto(account.snapshots, at)
        known = account._known(len(snaps))
        ev = evidence_of(account, at, self.policy, self.kind_of, snaps, known)
        stage, reasons = self._answer(ev)
        current = account.stage
        if stage is None or stage == current:
            return None
        triggers = self._edges.triggers_between(current, stage)
        allowed = []
        for trigger in triggers:
            group = self._edges_to(current, trigger, stage)
            if group and self._pick(account, group, known, at, trigger, "(checking)")[0]:
                allowed.append(trigger)
        return stage, reasons, triggers, tuple(allowed)

    def to_mermaid(self) -> str:
        """The lifecycle as a Mermaid state diagram, guards shown on the edges.

        Examples:
            >>> from stars import STARS
            >>> print(STARS.to_mermaid().splitlines()[2])
                prospect --> seed : sign [contract signed]
        """
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        for t in self.transitions:
            guard = " & ".join(g.label for g in t.guards)
            label = t.trigger + (f" [{guard}]" if guard else "")
            for source in t.sources:
                lines.append(f"    {source} --> {t.dest} : {label}")
        return "\n".join(lines)

    def _definition(self) -> tuple[Any, ...]:
        return (
            self.name,
            self.stages,
            self.transitions,
            self.initial,
            self.policy,
            self._diagnoser,
            self.scorecards,
        )

    def __eq__(self, other: object) -> bool:
        """Two lifecycles are equal when their definitions are (hooks are not compared).

        Examples:
            >>> from stars import STARS
            >>> STARS.evolve() == STARS, STARS.evolve(name="other") == STARS
            (True, False)
        """
        if not isinstance(other, Lifecycle):
            return NotImplemented
        return self is other or self._definition() == other._definition()

    def __hash__(self) -> int:
        return hash((self.name, self.initial, len(self.stages), len(self.transitions)))

    def __repr__(self) -> str:
        return (
            f"Lifecycle(name={self.name!r}, stages={len(self.stages)},"
            f" transitions={len(self.transitions)}, initial={self.initial!r})"
        )


STARS = Lifecycle(STARS_STAGES, STARS_TRANSITIONS, initial="prospect", name="STARS")
"""The default STARS lifecycle (see the concepts page for its stages and transitions)."""
