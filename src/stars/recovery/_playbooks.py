"""Playbooks: what ended plans teach, per root cause and template."""

from __future__ import annotations

import statistics
from collections.abc import Iterable

import attrs

from stars import _validate as v
from stars._html import table
from stars.depth import BreakdownCause
from stars.recovery._catalog import RiskSource, _root_cause
from stars.recovery._common import _as_tuple, _each, _each_text, _member, _number
from stars.recovery._enums import RecoveryStep, TemplateKind, _c_template
from stars.recovery._plan import RecoveryPlan


@attrs.frozen(slots=True)
class PlaybookEntry:
    """How plans with one root cause and one template turned out.

    Attributes:
        root_cause: The root cause.
        template: The template the plans followed (``None``: no template).
        plans: Plans that ended recovered or lost.
        recovered: How many of them closed recovered.
        median_days: Median days from opening to recovery (``None`` if none recovered).
        lessons: The lessons those plans recorded.

    Examples:
        >>> from stars.recovery import PlaybookEntry
        >>> PlaybookEntry("support_strain", None, 4, 3, 41.0, ()).recovery_rate
        0.75
    """

    root_cause: str = attrs.field(converter=_root_cause)
    template: TemplateKind | None = attrs.field(
        converter=_c_template, validator=_member(TemplateKind, optional=True)
    )
    plans: int = attrs.field(validator=_number(1, integer=True))
    recovered: int = attrs.field(validator=_number(0, integer=True))
    median_days: float | None = attrs.field(validator=v.optional_number(0))
    lessons: tuple[str, ...] = attrs.field(converter=_as_tuple, validator=_each_text)

    @property
    def recovery_rate(self) -> float:
        """Recovered plans over plans that ended recovered or lost.

        Examples:
            >>> from stars.recovery import PlaybookEntry
            >>> PlaybookEntry("strategy_change", None, 2, 0, None, ()).recovery_rate
            0.0
        """
        return self.recovered / self.plans


@attrs.frozen(slots=True)
class PlaybookLibrary:
    """What ended plans teach: per root cause and template, how often and how fast they recovered.

    Build it with `from_plans`. Plans still running are skipped, and so are released
    plans: letting a poor-fit account go says nothing about whether a playbook works.

    Attributes:
        entries: One entry per (root cause, template), best recovery rate first.
        skipped: How many plans were left out (still open or released).

    Examples:
        >>> from stars.recovery import PlaybookLibrary
        >>> PlaybookLibrary.from_plans([]).entries
        ()
    """

    entries: tuple[PlaybookEntry, ...] = attrs.field(
        converter=_as_tuple, validator=_each(PlaybookEntry)
    )
    skipped: int = attrs.field(default=0, validator=_number(0, integer=True))

    @classmethod
    def from_plans(cls, plans: Iterable[RecoveryPlan]) -> PlaybookLibrary:
        """Summarise ended plans per root cause and template.

        A plan with several root causes counts once under each.

        Examples:
            >>> from stars.recovery import PlaybookLibrary
            >>> PlaybookLibrary.from_plans([]).skipped
            0
        """
        items = v.tuple_of("plans", RecoveryPlan)(plans)
        groups: dict[tuple[str, TemplateKind | None], list[RecoveryPlan]] = {}
        skipped = 0
        for plan in items:
            if plan.step not in (RecoveryStep.CLOSED, RecoveryStep.LOST):
                skipped += 1
                continue
            for cause in plan.root_causes:
                groups.setdefault((cause, plan.template), []).append(plan)
        entries = []
        for (cause, template), group in groups.items():
            days = [p.days_to_recover for p in group if p.days_to_recover is not None]
            entries.append(
                PlaybookEntry(
                    cause,
                    template,
                    len(group),
                    len(days),
                    statistics.median(days) if days else None,
                    tuple(dict.fromkeys(lesson for p in group for lesson in p.lessons)),
                )
            )
        entries.sort(key=lambda e: (-e.recovery_rate, -e.plans, e.root_cause, e.template or ""))
        return cls(tuple(entries), skipped)

    def for_cause(self, cause: str | BreakdownCause | RiskSource) -> tuple[PlaybookEntry, ...]:
        """The entries for one root cause, best recovery rate first.

        Raises:
            UnknownName: ``cause`` is not a known root cause.

        Examples:
            >>> from stars.recovery import PlaybookLibrary
            >>> PlaybookLibrary.from_plans([]).for_cause("support_strain")
            ()
        """
        name = _root_cause(cause)
        return tuple(e for e in self.entries if e.root_cause == name)

    def _repr_html_(self) -> str:
        rows = [
            (
                e.root_cause,
                e.template.value if e.template else None,
                e.plans,
                e.recovered,
                f"{e.recovery_rate:.0%}",
                e.median_days,
            )
            for e in self.entries
        ]
        return table(
            ("root cause", "template", "plans", "recovered", "rate", "median days"),
            rows,
            caption="Playbook library",
        )
