"""Lifecycle definitions as data: `StageDef`, `TransitionDef` and the STARS definition."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
from transitions import Machine

from stars import _validate as v
from stars._engine import Edge, EdgeTable
from stars.errors import InvalidDefinition, InvalidValue, UnknownName
from stars.lifecycle._guards import GUARDS, Guard, GuardContext
from stars.stages import PROFILES, Cycle, Stage, StageKind, StageProfile, stage_name

if TYPE_CHECKING:
    pass


# --------------------------------------------------------------------------- definition
def _kind(value: object) -> StageKind:
    try:
        return StageKind(value)  # type: ignore[arg-type]
    except ValueError:
        raise InvalidValue(
            "kind", value, "one of " + ", ".join(k.value for k in StageKind)
        ) from None


@attrs.frozen(slots=True)
class StageDef:
    """A stage in a lifecycle definition.

    Attributes:
        name: The stage's name.
        kind: Before, growth, crisis or lost (drives cycle accounting and checks).
        profile: How the account looks there and how to show up (optional).

    Examples:
        >>> from stars import StageDef
        >>> StageDef("pilot", "growth").kind
        <StageKind.GROWTH: 'growth'>
    """

    name: str = attrs.field(validator=v.field(v.text))
    kind: StageKind = attrs.field(converter=_kind)
    profile: StageProfile | None = None


def _cycle(value: object) -> Cycle:
    try:
        return Cycle(value)  # type: ignore[arg-type]
    except ValueError:
        raise InvalidValue("cycle", value, "one of growth, recovery, crisis") from None


def _names(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Iterable):
        raise InvalidValue("sources", value, "a stage name or a list of stage names")
    return tuple(value)


def _guards(value: Iterable[Guard]) -> tuple[Guard, ...]:
    return tuple(value)


@attrs.frozen(slots=True)
class TransitionDef:
    """A transition in a lifecycle definition.

    Attributes:
        trigger: The trigger's name.
        sources: The stages it may fire from.
        dest: The stage it leads to.
        cycle: The cycle it belongs to.
        guards: Guards that must all pass (unless forced).

    Examples:
        >>> from stars import GUARDS, TransitionDef
        >>> t = TransitionDef("sign", "prospect", "seed", "growth", (GUARDS["contract_signed"],))
        >>> t.sources
        ('prospect',)
    """

    trigger: str = attrs.field(validator=v.field(v.text))
    sources: tuple[str, ...] = attrs.field(converter=_names)
    dest: str = attrs.field(validator=v.field(v.text))
    cycle: Cycle = attrs.field(converter=_cycle)
    guards: tuple[Guard, ...] = attrs.field(default=(), converter=_guards)


def _definition_items(field: str, value: object) -> tuple[Any, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidDefinition(f"{field} must be a list, got {value!r}")
    return tuple(value)


def _p(stage: Stage) -> StageDef:
    return StageDef(stage.value, stage.kind, PROFILES[stage.value])


STARS_STAGES: tuple[StageDef, ...] = tuple(_p(s) for s in Stage)
"""The seven stages of the default STARS lifecycle."""

_G = GUARDS
_GROWTH_STAGES = ("seed", "accelerate", "ascend")
STARS_TRANSITIONS: tuple[TransitionDef, ...] = (
    TransitionDef("sign", "prospect", "seed", "growth", (_G["contract_signed"],)),
    TransitionDef(
        "accelerate",
        "seed",
        "accelerate",
        "growth",
        (_G["success_metrics_agreed"], _G["health_green"]),
    ),
    TransitionDef(
        "sustain", "accelerate", "ascend", "growth", (_G["green_streak"], _G["min_tenure"])
    ),
    TransitionDef("expand", "ascend", "accelerate", "growth", (_G["expansion_open"],)),
    TransitionDef("reseed", ("accelerate", "ascend"), "seed", "growth", (_G["new_business_unit"],)),
    TransitionDef(
        "stagnate", ("accelerate", "ascend"), "reset", "crisis", (_G["yellow_or_falling"],)
    ),
    TransitionDef(
        "escalate", (*_GROWTH_STAGES, "reset"), "tact", "crisis", (_G["red_or_critical"],)
    ),
    TransitionDef("realign", "reset", "ascend", "recovery", (_G["green_streak"], _G["min_tenure"])),
    TransitionDef("realign", "reset", "accelerate", "recovery", (_G["green_streak"],)),
    TransitionDef("stabilize", "tact", "reset", "recovery", (_G["not_red"],)),
    TransitionDef("restart", "tact", "seed", "recovery", (_G["reonboarding_agreed"],)),
    TransitionDef(
        "lose", (*_GROWTH_STAGES, "reset", "tact"), "churn", "crisis", (_G["reason_given"],)
    ),
    TransitionDef("win_back", "churn", "prospect", "recovery"),
)
"""The transitions of the default STARS lifecycle (see the concepts page for the table)."""


# --------------------------------------------------------------------------- checks
def check_stages(stages: tuple[StageDef, ...], initial: str) -> dict[str, StageDef]:
    """Check the stages (names, the initial stage, a growth stage); index them by name."""
    if not stages:
        raise InvalidDefinition("a lifecycle needs at least one stage")
    out: dict[str, StageDef] = {}
    for stage in stages:
        if not isinstance(stage, StageDef):
            raise InvalidDefinition(f"stages must be StageDef values, got {stage!r}")
        if stage.name in out:
            raise InvalidDefinition(f"stage {stage.name!r} is defined twice")
        try:
            stored = stage_name(stage.name)
        except UnknownName as err:
            stored = f"a typo of {err.suggestion!r}"
        if stored != stage.name:
            raise InvalidDefinition(
                f"stage {stage.name!r} would be read as {stored}"
                if stored.startswith("a typo")
                else f"stage {stage.name!r} would be stored as {stored!r}; name it {stored!r}"
            )
        out[stage.name] = stage
    if initial not in out:
        raise InvalidDefinition(f"initial stage {initial!r} is not one of the stages")
    if not any(s.kind is StageKind.GROWTH for s in stages):
        raise InvalidDefinition("a lifecycle needs at least one growth stage")
    return out


def check_transitions(
    transitions: tuple[TransitionDef, ...], stage_map: Mapping[str, StageDef]
) -> EdgeTable[GuardContext]:
    """Check every transition, and index them as the engine's edge table."""
    seen: set[tuple[str, str, str]] = set()
    for t in transitions:
        if not isinstance(t, TransitionDef):
            raise InvalidDefinition(f"transitions must be TransitionDef values, got {t!r}")
        for stage in (*t.sources, t.dest):
            if stage not in stage_map:
                raise InvalidDefinition(
                    f"transition {t.trigger!r} refers to unknown stage {stage!r}"
                )
        if not t.sources:
            raise InvalidDefinition(f"transition {t.trigger!r} has no source stage")
        for g in t.guards:
            if not isinstance(g, Guard):
                raise InvalidDefinition(
                    f"transition {t.trigger!r}: guards must be Guard values, got {g!r}"
                )
        for source in t.sources:
            if (source, t.trigger, t.dest) in seen:
                raise InvalidDefinition(
                    f"transition {t.trigger!r} from {source!r} to {t.dest!r} is defined twice"
                )
            seen.add((source, t.trigger, t.dest))
    return EdgeTable(
        Edge(t.trigger, t.sources, t.dest, [g.check for g in t.guards], tag=t) for t in transitions
    )


def check_graph(stages: tuple[StageDef, ...], initial: str, table: EdgeTable[GuardContext]) -> None:
    """Refuse unreachable stages and dead ends (stages that never get back to growth)."""
    edges: dict[str, set[str]] = {s.name: set() for s in stages}
    for (source, _), group in table.by_pair.items():
        edges[source].update(e.dest for e in group)
    seen, todo = {initial}, [initial]
    while todo:
        for nxt in edges[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    for stage in stages:
        if stage.name not in seen:
            raise InvalidDefinition(f"stage {stage.name!r} is unreachable from {initial!r}")
    growth = {s.name for s in stages if s.kind is StageKind.GROWTH}
    reverse: dict[str, set[str]] = {s.name: set() for s in stages}
    for source, dests in edges.items():
        for dest in dests:
            reverse[dest].add(source)
    back, todo = set(growth), list(growth)
    while todo:
        for prev in reverse[todo.pop()]:
            if prev not in back:
                back.add(prev)
                todo.append(prev)
    for stage in stages:
        if stage.name not in back:
            raise InvalidDefinition(
                f"stage {stage.name!r} can never get back to a growth stage (a dead end)"
            )


def reference_machine(
    stages: tuple[StageDef, ...], initial: str, table: EdgeTable[GuardContext]
) -> Machine:
    """The definition as a ``transitions.Machine``: the reference the engine agrees with.

    One event per trigger, its transitions added in definition order with the guards
    as conditions, so ``transitions`` picks the destination the way `fire` does (the
    first whose guards pass; all guards pass when forced). It is built once per
    definition, which also has ``transitions`` check the graph; accounts are never
    registered with it, and `fire` does not run it (the tests prove both agree).
    """
    machine = Machine(
        model=None,
        states=[s.name for s in stages],
        initial=initial,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )
    for edge in table.edges:

        def passes(event_data: Any, edge: Edge[GuardContext] = edge) -> bool:
            kwargs = event_data.kwargs
            return bool(kwargs["force"]) or not edge.reasons(kwargs["context"](edge.dest))

        machine.add_transition(edge.trigger, list(edge.sources), edge.dest, conditions=[passes])
    return machine
