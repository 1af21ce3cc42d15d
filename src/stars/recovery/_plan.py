"""`RecoveryPlan`, the immutable get-to-green plan, and the graph of steps its history follows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

import attrs

from stars import _validate as v
from stars._html import table
from stars.bands import Band, BandCutoffs
from stars.depth import BreakdownCause
from stars.errors import (
    InvalidValue,
    OutOfOrder,
)
from stars.recovery._catalog import RiskSource, _root_cause
from stars.recovery._common import (
    _DAY,
    _as_tuple,
    _aware,
    _each,
    _each_text,
    _member,
    _number,
    _text,
    _texts,
    _when,
)
from stars.recovery._enums import (
    _OPEN_STEPS,
    RecoveryStep,
    StakeholderLevel,
    TemplateKind,
    _c_step,
    _c_template,
)
from stars.recovery._findings import RiskFinding
from stars.recovery._parts import (
    ActionItem,
    CheckIn,
    Stakeholder,
    StepRecord,
    _check_cutoffs,
    _need_item,
)


def _to_causes(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValue("root_causes", value, "a sequence of root cause names")
    return tuple(_root_cause(item) for item in value)


def _index(field: str, value: object, size: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -size <= value < size:
        raise InvalidValue(field, value, f"an index from 0 to {size - 1}" if size else "no index")
    return value % size


# --------------------------------------------------------------------------- the plan
@attrs.frozen(slots=True)
class RecoveryPlan:
    """A get-to-green plan for one account, as an immutable value.

    Create plans with `RecoveryProcess.open` or `plan_for`, edit them with the
    methods below (each returns a new plan with ``version`` one higher), and move them
    through the steps with `RecoveryProcess.fire`. ``history`` only ever grows.

    Attributes:
        id: The plan's id.
        account_id: The account it is for.
        started_at: When it was opened; no action may be due earlier.
        step: The current step.
        owner: Who leads the plan on the vendor side.
        findings: What detection found.
        root_causes: Risk source ids or `BreakdownCause` values.
        stakeholders: The customer people engaged.
        actions: The action items.
        template: The template the plan follows, if any.
        check_ins: Health readings, in time order.
        lessons: What was learned (for the playbook library).
        indicators: The leading indicators of retention chosen to watch.
        history: The step records, in time order.
        version: Increases by one with every change.
        bands: The cut-offs `check_in` derives a band from health with. `RecoveryProcess.open`
            sets them from its `RecoveryPolicy.bands`; a plan built directly uses the defaults.

    Examples:
        >>> from datetime import datetime, timedelta, timezone
        >>> from stars.recovery import ActionItem, RecoveryPlan
        >>> t = datetime(2025, 3, 1, tzinfo=timezone.utc)
        >>> plan = RecoveryPlan("p1", "acme", t)
        >>> plan.step.value, plan.version
        ('detection', 0)
        >>> plan.add_action(ActionItem("Fix the export bug", "lee", t - timedelta(days=1)))
        ...     # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: actions[0].due: got ..., expected a time at or after the plan...
    """

    id: str = attrs.field(validator=_text)
    account_id: str = attrs.field(validator=_text)
    started_at: datetime = attrs.field(validator=_aware)
    step: RecoveryStep = attrs.field(
        default=RecoveryStep.DETECTION, converter=_c_step, validator=_member(RecoveryStep)
    )
    owner: str | None = attrs.field(default=None, validator=v.field(v.optional_string))
    findings: tuple[RiskFinding, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_each(RiskFinding)
    )
    root_causes: tuple[str, ...] = attrs.field(default=(), converter=_to_causes)
    stakeholders: tuple[Stakeholder, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_each(Stakeholder)
    )
    actions: tuple[ActionItem, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_each(ActionItem)
    )
    template: TemplateKind | None = attrs.field(
        default=None, converter=_c_template, validator=_member(TemplateKind, optional=True)
    )
    check_ins: tuple[CheckIn, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_each(CheckIn)
    )
    lessons: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple, validator=_each_text)
    indicators: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple, validator=_each_text)
    history: tuple[StepRecord, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_each(StepRecord)
    )
    version: int = attrs.field(default=0, validator=_number(0, integer=True))
    bands: BandCutoffs = attrs.field(factory=BandCutoffs, validator=_check_cutoffs)

    @root_causes.validator
    def _check_causes(self, attribute: Any, value: Any) -> None:
        if len(set(value)) != len(value):
            raise InvalidValue("root_causes", value, "distinct root causes")

    def __attrs_post_init__(self) -> None:
        for i, item in enumerate(self.actions):
            if item.due < self.started_at:
                raise InvalidValue(
                    f"actions[{i}].due",
                    item.due,
                    f"a time at or after the plan's start ({self.started_at.isoformat()})",
                )
        previous: datetime | None = None
        for c in self.check_ins:
            if previous is not None and v.before(c.at, previous):
                raise OutOfOrder("check-in", c.at.isoformat(), previous.isoformat())
            previous = c.at
        _check_history(self.history, self.step)
        if self.version < len(self.history):
            raise InvalidValue(
                "version", self.version, f"at least the number of records ({len(self.history)})"
            )

    # -- queries --------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        """Whether the plan is still running (not CLOSED, LOST or RELEASED).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan
            >>> RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc)).is_open
            True
        """
        return not self.step.is_final

    @property
    def outcome(self) -> str | None:
        """``"recovered"``, ``"lost"`` or ``"released"`` once the plan has ended, else ``None``.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan
            >>> print(RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc)).outcome)
            None
        """
        return {
            RecoveryStep.CLOSED: "recovered",
            RecoveryStep.LOST: "lost",
            RecoveryStep.RELEASED: "released",
        }.get(self.step)

    @property
    def ended_at(self) -> datetime | None:
        """When the plan ended, or ``None`` while it runs.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan
            >>> print(RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc)).ended_at)
            None
        """
        if self.step.is_final and self.history:
            return self.history[-1].at
        return None

    @property
    def days_to_recover(self) -> float | None:
        """Days from opening to closing recovered (``None`` unless the plan recovered).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan
            >>> print(RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc))
            ...       .days_to_recover)
            None
        """
        end = self.ended_at
        if self.step is not RecoveryStep.CLOSED or end is None:
            return None
        return (end - self.started_at).total_seconds() / _DAY

    @property
    def stakeholder_levels(self) -> frozenset[StakeholderLevel]:
        """The distinct customer levels engaged.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan, Stakeholder
            >>> p = RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc),
            ...                  stakeholders=[Stakeholder("Ana", "analyst"),
            ...                                Stakeholder("Bo", "analyst")])
            >>> sorted(level.value for level in p.stakeholder_levels)
            ['analyst']
        """
        return frozenset(s.level for s in self.stakeholders)

    @property
    def green_streak(self) -> int:
        """How many of the latest check-ins in a row were green.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> p = RecoveryPlan("p", "a", t).check_in(t, health=80).check_in(t, health=50)
            >>> p.green_streak
            0
        """
        streak = 0
        for c in reversed(self.check_ins):
            if c.band is not Band.GREEN:
                break
            streak += 1
        return streak

    @property
    def open_actions(self) -> tuple[ActionItem, ...]:
        """The actions not done yet, earliest due first.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan
            >>> RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc)).open_actions
            ()
        """
        return tuple(sorted((a for a in self.actions if not a.done), key=lambda a: a.due))

    # -- edits (each returns a new plan) ---------------------------------------------
    def _edit(self, what: str, **changes: Any) -> RecoveryPlan:
        if self.step.is_final:
            raise InvalidValue(
                "step",
                self.step.value,
                "an open plan",
                hint=f"cannot {what} once the plan is {self.step.value}",
            )
        return attrs.evolve(self, version=self.version + 1, **changes)

    def add_root_cause(self, cause: str | BreakdownCause | RiskSource) -> RecoveryPlan:
        """Record a root cause: a `RISK_SOURCES` id or a BreakdownCause.

        Raises:
            UnknownName: The cause is neither.
            InvalidValue: The cause is already recorded, or the plan has ended.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.depth import BreakdownCause
            >>> from stars.recovery import RecoveryPlan
            >>> p = RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc))
            >>> p.add_root_cause(BreakdownCause.STRATEGY_CHANGE).root_causes
            ('strategy_change',)
            >>> p.add_root_cause("bad_luck")  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            stars.errors.UnknownName: unknown root cause 'bad_luck'; known: ...
        """
        name = _root_cause(cause)
        return self._edit("add a root cause", root_causes=(*self.root_causes, name))

    def add_stakeholder(self, stakeholder: Stakeholder) -> RecoveryPlan:
        """Record a customer stakeholder the team engaged.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan, Stakeholder
            >>> p = RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc))
            >>> len(p.add_stakeholder(Stakeholder("Ana", "analyst")).stakeholders)
            1
        """
        _need_item("stakeholder", stakeholder, Stakeholder)
        return self._edit("add a stakeholder", stakeholders=(*self.stakeholders, stakeholder))

    def add_action(self, item: ActionItem) -> RecoveryPlan:
        """Add an action item (its due date must not be before the plan's start).

        Raises:
            InvalidValue: ``item`` is not an `ActionItem` (a mapping of its fields is not
                taken: build the item, so a typo in a field name fails loudly), its due date
                is before the plan's start, or the plan has ended.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import ActionItem, RecoveryPlan
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> p = RecoveryPlan("p", "a", t).add_action(ActionItem("Train", "sam", t))
            >>> p.actions[0].owner, p.version
            ('sam', 1)
            >>> p.add_action({"objective": "Train", "owner": "sam"})  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            stars.errors.InvalidValue: item: got {'objective': ...}, expected an ActionItem ...
        """
        _need_item("item", item, ActionItem)
        return self._edit("add an action", actions=(*self.actions, item))

    def replace_action(self, index: int, item: ActionItem) -> RecoveryPlan:
        """Replace the action at ``index`` (to edit a drafted action).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import ActionItem, RecoveryPlan
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> p = RecoveryPlan("p", "a", t).add_action(ActionItem("Train", "sam", t))
            >>> p.replace_action(0, ActionItem("Train analysts", "kim", t)).actions[0].owner
            'kim'
        """
        i = _index("index", index, len(self.actions))
        _need_item("item", item, ActionItem)
        actions = list(self.actions)
        actions[i] = item
        return self._edit("replace an action", actions=tuple(actions))

    def remove_action(self, index: int) -> RecoveryPlan:
        """Drop the action at ``index``.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import ActionItem, RecoveryPlan
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> p = RecoveryPlan("p", "a", t).add_action(ActionItem("Train", "sam", t))
            >>> p.remove_action(0).actions
            ()
        """
        i = _index("index", index, len(self.actions))
        return self._edit("remove an action", actions=self.actions[:i] + self.actions[i + 1 :])

    def complete_action(self, index: int, at: datetime) -> RecoveryPlan:
        """Mark the action at ``index`` done at ``at``.

        Raises:
            InvalidValue: Bad index, the action is already done, or ``at`` is before the start.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import ActionItem, RecoveryPlan
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> p = RecoveryPlan("p", "a", t).add_action(ActionItem("Train", "sam", t))
            >>> p.complete_action(0, t).actions[0].done
            True
        """
        i = _index("index", index, len(self.actions))
        v.aware("at", at)
        if self.actions[i].done:
            raise InvalidValue(f"actions[{i}]", self.actions[i].objective, "an open action")
        if at < self.started_at:
            raise InvalidValue("at", at, "a time at or after the plan's start")
        actions = list(self.actions)
        actions[i] = attrs.evolve(actions[i], done_at=at)
        return self._edit("complete an action", actions=tuple(actions))

    def check_in(
        self,
        at: datetime,
        *,
        health: float | None = None,
        band: Band | str | None = None,
        note: str = "",
        bands: BandCutoffs | None = None,
    ) -> RecoveryPlan:
        """Record a health reading; the band is derived from ``health`` when not given.

        The cut-offs that derive it are ``bands`` when passed (it wins), else the plan's
        own `bands`, which `RecoveryProcess.open` took from its `RecoveryPolicy.bands`.

        Args:
            at: When (timezone-aware, not before the plan's start or the latest check-in).
            health: The 0-100 score.
            band: The band, when there is no score or it was judged by hand.
            note: What was observed.
            bands: Cut-offs for this reading only, overriding the plan's.

        Raises:
            InvalidValue: Neither health nor band is given, ``bands`` is not a
                `BandCutoffs`, or ``at`` is before the plan's start.
            OutOfOrder: ``at`` is earlier than the latest check-in.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> RecoveryPlan("p", "a", t).check_in(t, health=72).check_ins[0].band.value
            'green'
            >>> from stars import BandCutoffs
            >>> strict = RecoveryPlan("p", "a", t, bands=BandCutoffs(green_from=80))
            >>> strict.check_in(t, health=72).check_ins[0].band.value
            'yellow'
            >>> strict.check_in(t, health=72, bands=BandCutoffs()).check_ins[0].band.value
            'green'
        """
        v.aware("at", at)
        if bands is not None and not isinstance(bands, BandCutoffs):
            raise InvalidValue("bands", bands, "a BandCutoffs")
        if at < self.started_at:
            raise InvalidValue("at", at, "a time at or after the plan's start")
        if band is None:
            if health is None:
                raise InvalidValue("health", None, "a health score or a band for the check-in")
            v.number("health", health, 0, 100)
            band = (bands if bands is not None else self.bands).band_for(health)
        item = CheckIn(at, band, health, note)
        if self.check_ins and at < self.check_ins[-1].at:
            raise OutOfOrder("check-in", at.isoformat(), self.check_ins[-1].at.isoformat())
        return self._edit("check in", check_ins=(*self.check_ins, item))

    def record_lessons(self, *lessons: str) -> RecoveryPlan:
        """Write down what was learned (allowed even after the plan ended).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan
            >>> p = RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc))
            >>> p.record_lessons("Invite the analysts to the kickoff").lessons
            ('Invite the analysts to the kickoff',)
        """
        added = _texts("lessons")(lessons)
        return attrs.evolve(self, lessons=(*self.lessons, *added), version=self.version + 1)

    def choose_indicators(self, *names: str) -> RecoveryPlan:
        """Choose leading indicators of retention to watch (see `LEADING_INDICATORS`).

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import RecoveryPlan
            >>> p = RecoveryPlan("p", "a", datetime(2025, 1, 1, tzinfo=timezone.utc))
            >>> p.choose_indicators("adoption").indicators
            ('adoption',)
        """
        added = _texts("indicators")(names)
        merged = tuple(dict.fromkeys((*self.indicators, *added)))
        return self._edit("choose indicators", indicators=merged)

    def _repr_html_(self) -> str:
        done = sum(a.done for a in self.actions)
        latest = self.check_ins[-1] if self.check_ins else None
        rows: list[tuple[str, object]] = [
            ("account", self.account_id),
            ("step", self.step.value),
            ("started", _when(self.started_at)),
            ("owner", self.owner),
            ("root causes", ", ".join(self.root_causes) or None),
            ("template", self.template.value if self.template else None),
            (
                "levels engaged",
                ", ".join(sorted(lv.value for lv in self.stakeholder_levels)) or None,
            ),
            ("actions done", f"{done} of {len(self.actions)}"),
            ("latest band", latest.band.value if latest else None),
            ("green streak", self.green_streak),
            ("version", self.version),
        ]
        out = table(("", ""), rows, caption=f"Recovery plan {self.id}")
        if self.actions:
            out += table(
                ("objective", "owner", "due", "done"),
                [
                    (a.objective, a.owner, _when(a.due), _when(a.done_at) if a.done_at else "")
                    for a in self.actions
                ],
                caption="actions",
            )
        return out


def _check_history(history: tuple[StepRecord, ...], step: RecoveryStep) -> None:
    if not history:
        if step is not RecoveryStep.DETECTION:
            raise InvalidValue("step", step.value, "'detection' for a plan without history")
        return
    first = history[0]
    if first.trigger != "open" or first.source is not None:
        raise InvalidValue("history[0]", first, "the 'open' record (source None)")
    for i in range(1, len(history)):
        prev, rec = history[i - 1], history[i]
        if rec.source is None or rec.source is not prev.dest:
            raise InvalidValue(f"history[{i}].source", rec.source, f"{prev.dest.value!r}")
        allowed = _GRAPH.get(rec.trigger)
        if allowed is None or rec.source not in allowed[0] or rec.dest is not allowed[1]:
            raise InvalidValue(
                f"history[{i}]",
                f"{rec.trigger}: {rec.source.value} -> {rec.dest.value}",
                "a move the recovery graph allows",
            )
        if v.before(rec.at, prev.at):
            raise OutOfOrder("step record", rec.at.isoformat(), prev.at.isoformat())
    if history[-1].dest is not step:
        raise InvalidValue(
            "step", step.value, f"{history[-1].dest.value!r}, the last record's dest"
        )


_S = RecoveryStep
# trigger -> (sources, dest). "open" enters DETECTION from nothing.
_GRAPH: Final[dict[str, tuple[tuple[RecoveryStep, ...], RecoveryStep]]] = {
    "analyze": ((_S.DETECTION,), _S.ANALYSIS),
    "execute": ((_S.ANALYSIS,), _S.EXECUTION),
    "monitor": ((_S.EXECUTION,), _S.MONITORING),
    "adjust": ((_S.MONITORING,), _S.ANALYSIS),
    "prevent": ((_S.MONITORING,), _S.PREVENTION),
    "close": ((_S.PREVENTION,), _S.CLOSED),
    "lose": (_OPEN_STEPS, _S.LOST),
    "release": (_OPEN_STEPS, _S.RELEASED),
}
