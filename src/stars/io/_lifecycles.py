"""Lifecycle definitions as documents (private): `lifecycle_to_dict`/`lifecycle_from_dict`.

Guards travel by name and are looked up in a registry; importing this module
registers ``Lifecycle`` as a document type.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any, Final

from stars._cells import ClassSpec, spec
from stars.errors import InvalidDefinition, InvalidValue, SchemaError, UnknownName
from stars.io._codec import _REGISTRY, Decoder, Encoder, LoadContext, _encode_any, _write
from stars.io._common import MAX_DEPTH, SCHEMA, _is_array
from stars.io._json import _check_depth, guarded
from stars.lifecycle import (
    GUARDS,
    Guard,
    Lifecycle,
    Policy,
    StageDef,
    TransitionDef,
)
from stars.stages import Cycle


# =========================================================================== lifecycles
def _transition_dict(t: TransitionDef, guards: Mapping[str, Guard]) -> dict[str, Any]:
    names = []
    for g in t.guards:
        if guards.get(g.name) is not g:
            raise InvalidDefinition(
                f"transition {t.trigger!r} uses guard {g.name!r}, which is not in the guard "
                "registry, so it cannot be exported by name; add it to a registry mapping "
                "and pass guards= when exporting and loading"
            )
        names.append(g.name)
    return {
        "type": "TransitionDef",
        "trigger": t.trigger,
        "sources": list(t.sources),
        "dest": t.dest,
        "cycle": t.cycle.value,
        "guards": names,
    }


def lifecycle_to_dict(lc: Lifecycle, *, guards: Mapping[str, Guard] = GUARDS) -> dict[str, Any]:
    """A lifecycle definition as data: stages, transitions with guard names, policy.

    Hooks and a custom diagnoser are code, so they are not part of the data; give
    them again when loading.

    Args:
        lc: The lifecycle.
        guards: The registry whose names the guards are exported by.

    Returns:
        A JSON-ready dict (``"type": "Lifecycle"``).

    Raises:
        InvalidDefinition: A guard is not the registry's guard of that name.

    Examples:
        >>> from stars import STARS
        >>> from stars.io import lifecycle_to_dict
        >>> d = lifecycle_to_dict(STARS)
        >>> d["initial"], d["transitions"][0]["trigger"], d["transitions"][0]["guards"]
        ('prospect', 'sign', ['contract_signed'])
    """
    out: dict[str, Any] = {
        "schema": SCHEMA,
        "type": "Lifecycle",
        "name": lc.name,
        "initial": lc.initial,
        "stages": _write(lc.stages, tuple[StageDef, ...], "$.stages"),
        "transitions": [_transition_dict(t, guards) for t in lc.transitions],
        "policy": _write(lc.policy, Policy, "$.policy"),
    }
    if lc.scorecards is not None:
        out["scorecards"] = _encode_any(lc.scorecards, "$.scorecards")
    return out


_LIFECYCLE_KEYS: Final = ("name", "initial", "stages", "transitions", "policy", "scorecards")
_TRANSITION_KEYS: Final = ("type", "trigger", "sources", "dest", "cycle", "guards")


def _decode_transition(raw: Any, path: str, ctx: LoadContext) -> TransitionDef:
    if not isinstance(raw, Mapping):
        raise SchemaError(path, raw, "a TransitionDef object")
    ctx.keys(raw, path, _TRANSITION_KEYS, ("trigger", "sources", "dest", "cycle"))
    if raw.get("type", "TransitionDef") != "TransitionDef":
        raise SchemaError(f"{path}.type", raw["type"], "'TransitionDef'")
    trigger = ctx.value(raw["trigger"], str, f"{path}.trigger")
    sources = raw["sources"]
    if isinstance(sources, str):
        sources = [sources]
    sources = ctx.value(sources, tuple[str, ...], f"{path}.sources")
    dest = ctx.value(raw["dest"], str, f"{path}.dest")
    cycle = ctx.value(raw["cycle"], Cycle, f"{path}.cycle")
    names = ctx.value(raw.get("guards", []), tuple[str, ...], f"{path}.guards")
    found = []
    for i, name in enumerate(names):
        guard = ctx.guards.get(name)
        if guard is None:
            err = UnknownName("guard", name, list(ctx.guards))
            err.add_note(f"at {path}.guards[{i}]")
            raise err
        found.append(guard)
    try:
        return TransitionDef(trigger, sources, dest, cycle, tuple(found))
    except InvalidValue as err:
        raise SchemaError(f"{path}.{err.field}", err.value, err.expected) from err


def _decode_lifecycle(
    data: Mapping[str, Any],
    ctx: LoadContext,
    path: str,
    diagnoser: Any = None,
) -> Lifecycle:
    ctx.keys(data, path, _LIFECYCLE_KEYS, ("initial", "stages", "transitions"))
    name = ctx.value(data.get("name", "custom"), str, f"{path}.name")
    initial = ctx.value(data["initial"], str, f"{path}.initial")
    stages = ctx.value(data["stages"], tuple[StageDef, ...], f"{path}.stages")
    raw_transitions = data["transitions"]
    if not _is_array(raw_transitions):
        raise SchemaError(f"{path}.transitions", raw_transitions, "a list of TransitionDef")
    transitions = [
        _decode_transition(t, f"{path}.transitions[{i}]", ctx)
        for i, t in enumerate(raw_transitions)
    ]
    policy = ctx.value(data["policy"], Policy, f"{path}.policy") if "policy" in data else None
    scorecards = None
    if data.get("scorecards") is not None:
        codec = _REGISTRY.named("ScorecardSet")
        if codec is None:
            raise SchemaError(f"{path}.scorecards", data["scorecards"], "null (no health module)")
        scorecards = ctx.value(data["scorecards"], codec.cls, f"{path}.scorecards")
    return Lifecycle(
        stages,
        transitions,
        initial=initial,
        policy=policy,
        name=name,
        diagnoser=diagnoser,
        scorecards=scorecards,
    )


def lifecycle_from_dict(
    data: Mapping[str, Any],
    *,
    guards: Mapping[str, Guard] = GUARDS,
    diagnoser: Any = None,
) -> Lifecycle:
    """Build a lifecycle from data written by `lifecycle_to_dict` (or by hand).

    Guards are named, never code: each name is looked up in ``guards``. ``"schema"``
    and ``"type"`` may be left out of hand-written definitions, and so may the
    ``"type"`` keys of stages and transitions; ``"sources"`` may be one stage name.

    Args:
        data: The definition.
        guards: The registry guard names refer to.
        diagnoser: The diagnosis rule, for custom stage names (see `Lifecycle`).

    Returns:
        The checked lifecycle.

    Raises:
        UnknownName: A guard name is not in the registry.
        SchemaError: The data has the wrong shape (the message names the path).
        InvalidDefinition: The definition is inconsistent (unknown or unreachable stages, ...).

    Examples:
        >>> from stars.io import lifecycle_from_dict
        >>> lc = lifecycle_from_dict({
        ...     "initial": "trial",
        ...     "stages": [{"name": "trial", "kind": "before"}, {"name": "paid", "kind": "growth"}],
        ...     "transitions": [
        ...         {"trigger": "buy", "sources": "trial", "dest": "paid", "cycle": "growth",
        ...          "guards": ["contract_signed"]},
        ...         {"trigger": "lapse", "sources": ["paid"], "dest": "trial", "cycle": "crisis"},
        ...     ],
        ... })
        >>> lc.initial, sorted(lc.triggers)
        ('trial', ['buy', 'lapse'])
        >>> bad = {"trigger": "t", "sources": "a", "dest": "a", "cycle": "growth",
        ...        "guards": ["vip"]}
        >>> lifecycle_from_dict({"initial": "a", "stages": [], "transitions": [bad]})
        Traceback (most recent call last):
        ...
        stars.errors.UnknownName: unknown guard 'vip'; known: ...
    """
    ctx = LoadContext(None, guards)
    with guarded():
        if not isinstance(data, Mapping):
            raise SchemaError("$", data, "a lifecycle definition object")
        body = dict(data)
        if body.pop("schema", SCHEMA) != SCHEMA:
            raise SchemaError("$.schema", data["schema"], repr(SCHEMA))
        if body.pop("type", "Lifecycle") != "Lifecycle":
            raise SchemaError("$.type", data["type"], "'Lifecycle'")
        _check_depth(body, MAX_DEPTH)
        return _decode_lifecycle(body, ctx, "$", diagnoser)


def _lifecycle_schema(defs: dict[str, Any]) -> dict[str, Any]:
    transition = {
        "title": "TransitionDef",
        "type": "object",
        "properties": {
            "type": {"const": "TransitionDef"},
            "trigger": {"type": "string"},
            "sources": {
                "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
            },
            "dest": {"type": "string"},
            "cycle": {"enum": [c.value for c in Cycle]},
            "guards": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["trigger", "sources", "dest", "cycle"],
        "additionalProperties": False,
    }
    props: dict[str, Any] = {
        "name": {"type": "string"},
        "initial": {"type": "string"},
        "stages": spec(tuple[StageDef, ...]).schema(defs),
        "transitions": {"type": "array", "items": {"$ref": "#/$defs/TransitionDef"}},
        "policy": spec(Policy).schema(defs),
    }
    sets = _REGISTRY.named("ScorecardSet")
    if sets is not None:
        props["scorecards"] = {"anyOf": [{"type": "null"}, ClassSpec(sets.cls).schema(defs)]}
    else:  # pragma: no cover - only without stars.health
        props["scorecards"] = {"type": "null"}
    defs["TransitionDef"] = transition
    return {
        "title": "Lifecycle",
        "description": "A lifecycle definition: stages, transitions (guards by name), policy.",
        "type": "object",
        "properties": {"type": {"const": "Lifecycle"}, **props},
        "required": ["initial", "stages", "transitions"],
        "additionalProperties": False,
    }


def _lifecycle_encode(lc: Lifecycle) -> Mapping[str, Any]:
    d = lifecycle_to_dict(lc)
    del d["schema"], d["type"]
    return d


def _lifecycle_decode(data: Mapping[str, Any], ctx: LoadContext, path: str) -> Lifecycle:
    return _decode_lifecycle(data, ctx, path)


_REGISTRY.add(
    Lifecycle,
    "Lifecycle",
    typing.cast(Encoder, _lifecycle_encode),
    typing.cast(Decoder, _lifecycle_decode),
    None,
    _lifecycle_schema,
)
