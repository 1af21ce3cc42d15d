"""The STARS graph, handed to every contender in the form it understands.

Everything here is derived from ``stars.STARS`` (its stages and transitions), so
``transitions``, ``python-statemachine`` and the bare dict all run the very graph
that ``stars`` runs. Guards are not given to the alternatives: they are the
"no guards" baselines the issues name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from stars import STARS, Event, Snapshot

#: Stage names, in definition order; the initial stage is ``STARS.initial``.
STATES: tuple[str, ...] = tuple(s.name for s in STARS.stages)
INITIAL: str = STARS.initial

#: ``transitions`` transition dicts, one per stars transition (same order, so a
#: trigger with several destinations picks the first, as stars does without a ``to``).
TRANSITIONS: tuple[dict[str, Any], ...] = tuple(
    {"trigger": t.trigger, "source": list(t.sources), "dest": t.dest} for t in STARS.transitions
)

#: ``(stage, trigger) -> destination``: the first destination in definition order.
TABLE: dict[tuple[str, str], str] = {}
for _t in STARS.transitions:
    for _src in _t.sources:
        TABLE.setdefault((_src, _t.trigger), _t.dest)

T0 = datetime(2025, 1, 6, tzinfo=UTC)

#: The snapshot every fire-benchmark account observes: all the guards on the cycle pass.
FIRE_SNAPSHOT = Snapshot(
    at=T0,
    health=90,
    contract_signed=True,
    success_metrics_agreed=True,
    new_business_unit=True,
)

#: One account's fire sequence: sign, then accelerate/reseed back and forth (50 fires),
#: after which the account is replaced by a fresh one so history stays realistic.
FIRE_CYCLE: tuple[str, ...] = ("sign", *(("accelerate", "reseed") * 24), "accelerate")

#: A round trip through every stage and cycle, back to prospect (16 triggers):
#: growth, a realignment, a turnaround, a reseed, a restart, churn and a win-back.
ROUND_TRIP: tuple[str, ...] = (
    "sign",
    "accelerate",
    "sustain",
    "expand",
    "stagnate",
    "realign",
    "stagnate",
    "escalate",
    "stabilize",
    "realign",
    "reseed",
    "escalate",
    "restart",
    "accelerate",
    "lose",
    "win_back",
)


def replay_triggers(per_account: int) -> list[str]:
    """The first ``per_account`` triggers of the round trip repeated (always legal)."""
    out: list[str] = []
    while len(out) < per_account:
        out.extend(ROUND_TRIP)
    return out[:per_account]


def replay_events(accounts: int, per_account: int) -> list[tuple[str, list[Event]]]:
    """``accounts`` histories of ``per_account`` distinct Event objects each, a week apart."""
    triggers = replay_triggers(per_account)
    times = [T0 + timedelta(days=7 * k) for k in range(per_account)]
    work = []
    for i in range(accounts):
        events = [
            Event(trig, at, actor="csm", reason="churned" if trig == "lose" else None)
            for trig, at in zip(triggers, times, strict=True)
        ]
        work.append((f"acct-{i}", events))
    return work


def dest_after(triggers: list[str]) -> str:
    """The stage reached from the initial stage by ``triggers`` (through the dict table)."""
    stage = INITIAL
    for trig in triggers:
        stage = TABLE[(stage, trig)]
    return stage


class Model:
    """A plain object for ``transitions`` to attach to (it holds an id, like an Account)."""

    state: str  # written by transitions
    trigger: Callable[..., bool]  # written by transitions

    def __init__(self, id: str) -> None:
        self.id = id


def machine_kwargs() -> dict[str, Any]:
    """Keyword arguments for a ``transitions.Machine`` on the STARS graph."""
    return {
        "states": list(STATES),
        "transitions": [dict(t) for t in TRANSITIONS],
        "initial": INITIAL,
        "auto_transitions": False,
    }


def statemachine_class() -> type[Any]:
    """A ``python-statemachine`` StateMachine class for the STARS graph.

    State attributes are prefixed (``s_accelerate``) because the STARS graph has a
    stage and a trigger both called ``accelerate``; state values are the stage names.
    """
    from statemachine import State, StateMachine

    namespace: dict[str, Any] = {}
    states: dict[str, Any] = {}
    for name in STATES:
        states[name] = State(name, value=name, initial=name == INITIAL)
        namespace[f"s_{name}"] = states[name]
    events: dict[str, Any] = {}
    for t in STARS.transitions:
        for src in t.sources:
            edge = states[src].to(states[t.dest])
            events[t.trigger] = edge if t.trigger not in events else events[t.trigger] | edge
    namespace.update(events)
    return type("StarsStateMachine", (StateMachine,), namespace)
