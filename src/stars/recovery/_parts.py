"""What a recovery plan holds (stakeholders, actions, check-ins, step records), and its policy."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from stars import _validate as v
from stars._shown import article as _a
from stars.bands import Band, BandCutoffs
from stars.errors import InvalidValue
from stars.recovery._catalog import _root_cause
from stars.recovery._common import _any_text, _aware, _member, _number, _optional_aware, _text
from stars.recovery._enums import RecoveryStep, StakeholderLevel, _c_band, _c_level, _c_step


@attrs.frozen(slots=True)
class Stakeholder:
    """A person on the customer side whom the team engaged.

    Attributes:
        name: Who.
        level: Their level, from analyst to economic buyer.
        title: Their job title, if known.

    Examples:
        >>> from stars.recovery import Stakeholder
        >>> Stakeholder("Ana", "analyst").level.value
        'analyst'
        >>> Stakeholder("Ana", "intern")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: level: got 'intern', expected one of 'analyst', ...
    """

    name: str = attrs.field(validator=_text)
    level: StakeholderLevel = attrs.field(converter=_c_level, validator=_member(StakeholderLevel))
    title: str = attrs.field(default="", validator=_any_text)


@attrs.frozen(slots=True)
class ActionItem:
    """One action in a recovery plan: what it should achieve, who owns it, when it is due.

    Attributes:
        objective: What the action should achieve.
        owner: Who is accountable for it.
        due: When it is due (timezone-aware; not before the plan starts).
        done_at: When it was done, or ``None`` while open.
        source: The risk source or root cause it addresses, if any.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.recovery import ActionItem
        >>> due = datetime(2025, 2, 1, tzinfo=timezone.utc)
        >>> ActionItem("Weekly check-in with the team", "dana", due).done
        False
        >>> ActionItem("Weekly check-in with the team", None, due)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: owner: got None, expected a non-empty string (every action ...
    """

    objective: str = attrs.field(validator=_text)
    owner: str = attrs.field()
    due: datetime = attrs.field(validator=_aware)
    done_at: datetime | None = attrs.field(default=None, validator=_optional_aware)
    source: str | None = attrs.field(default=None)

    @owner.validator
    def _check_owner(self, attribute: Any, value: Any) -> None:
        if not isinstance(value, str) or not value.strip():
            raise InvalidValue(
                "owner", value, "a non-empty string", hint="every action needs an owner"
            )

    @source.validator
    def _check_source(self, attribute: Any, value: Any) -> None:
        if value is not None:
            _root_cause(value)

    @property
    def done(self) -> bool:
        """Whether the action is done.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.recovery import ActionItem
            >>> t = datetime(2025, 2, 1, tzinfo=timezone.utc)
            >>> ActionItem("Train the analysts", "sam", t, done_at=t).done
            True
        """
        return self.done_at is not None


@attrs.frozen(slots=True)
class CheckIn:
    """A health reading taken while the plan runs.

    Attributes:
        at: When (timezone-aware).
        band: The band then.
        health: The 0-100 score, if known.
        note: What was observed.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.recovery import CheckIn
        >>> CheckIn(datetime(2025, 2, 1, tzinfo=timezone.utc), "green", 74).band
        <Band.GREEN: 'green'>
    """

    at: datetime = attrs.field(validator=_aware)
    band: Band = attrs.field(converter=_c_band, validator=_member(Band))
    health: float | None = attrs.field(default=None, validator=v.optional_number(0, 100))
    note: str = attrs.field(default="", validator=_any_text)


@attrs.frozen(slots=True)
class StepRecord:
    """One move of a plan from step to step. Records are appended in time order.

    Attributes:
        trigger: What moved it (``open`` for the first record).
        source: The step it left (``None`` for ``open``).
        dest: The step it entered.
        at: When (timezone-aware).
        actor: Who, if known.
        reason: Why (always given when forced).
        forced: Whether a guard was overridden.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.recovery import StepRecord
        >>> r = StepRecord("open", None, "detection", datetime(2025, 1, 1, tzinfo=timezone.utc))
        >>> r.dest
        <RecoveryStep.DETECTION: 'detection'>
    """

    trigger: str = attrs.field(validator=_text)
    source: RecoveryStep | None = attrs.field(
        converter=_c_step, validator=_member(RecoveryStep, optional=True)
    )
    dest: RecoveryStep = attrs.field(converter=_c_step, validator=_member(RecoveryStep))
    at: datetime = attrs.field(validator=_aware)
    actor: str | None = attrs.field(default=None, validator=v.field(v.optional_string))
    reason: str | None = attrs.field(default=None, validator=v.field(v.optional_string))
    forced: bool = attrs.field(default=False)

    def __attrs_post_init__(self) -> None:
        v.flag("forced", self.forced)
        if self.forced and not (self.reason and self.reason.strip()):
            raise InvalidValue("reason", self.reason, "a reason whenever forced=True")


def _check_cutoffs(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, BandCutoffs):
        raise InvalidValue(attribute.name, value, "a BandCutoffs")


def _need_item(field: str, value: object, kind: type[Any]) -> None:
    """Refuse a value that is not a ``kind``, with a hint on how to build one."""
    if isinstance(value, kind):
        return
    names = list(attrs.fields_dict(kind))
    hint = f"build one with {kind.__name__}({', '.join(names)})"
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in names]
        if not unknown and value:
            hint = f"build one from the mapping: {kind.__name__}(**{field})"
        elif unknown:
            hint += "; not fields of it: " + ", ".join(repr(k) for k in unknown)
    raise InvalidValue(field, value, _a(kind.__name__), hint=hint)


@attrs.frozen(slots=True)
class RecoveryPolicy:
    """The thresholds the recovery guards read, and the bands its check-ins use.

    Attributes:
        green_check_ins: Consecutive green check-ins needed before prevention (hysteresis:
            one good week is not enough).
        min_stakeholder_levels: Distinct customer levels that must be engaged before execution.
        stall_window: Check-ins since monitoring began needed to call progress stalled.
        min_progress: Health points gained over the window below which progress has stalled.
        bands: Cut-offs from health to band for check-ins. `RecoveryProcess.open` (and so
            `plan_for`) copies them onto every plan it opens, and `RecoveryPlan.check_in`
            derives each band with them; `weekly_update` uses them for a health given as a fact.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import BandCutoffs
        >>> from stars.recovery import RecoveryPolicy, RecoveryProcess
        >>> RecoveryPolicy().green_check_ins
        3
        >>> strict = RecoveryProcess(RecoveryPolicy(bands=BandCutoffs(green_from=80)))
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> strict.open("acme", at=t).check_in(t, health=75).check_ins[0].band.value
        'yellow'
        >>> RecoveryPolicy(min_stakeholder_levels=1)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: min_stakeholder_levels: got 1, expected a whole number from 2 ...
    """

    green_check_ins: int = attrs.field(default=3, validator=_number(1, integer=True))
    min_stakeholder_levels: int = attrs.field(default=2, validator=_number(2, 5, integer=True))
    stall_window: int = attrs.field(default=3, validator=_number(2, integer=True))
    min_progress: float = attrs.field(default=5.0, validator=_number(0))
    bands: BandCutoffs = attrs.field(factory=BandCutoffs, validator=_check_cutoffs)
