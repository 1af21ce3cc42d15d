"""stars.io: examples and every refusal."""

from __future__ import annotations

import enum
import io
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

import attrs
import pytest

from stars import (
    GUARDS,
    STARS,
    Account,
    Band,
    BandCutoffs,
    Cycle,
    Guard,
    InvalidDefinition,
    InvalidValue,
    Lifecycle,
    Policy,
    SchemaError,
    Snapshot,
    StageDef,
    StarsError,
    TransitionDef,
    TransitionRecord,
    UnknownName,
)
from stars.io import (
    MAX_INT,
    SCHEMA,
    AccountEvent,
    LoadContext,
    RejectedRow,
    accounts_from_events,
    dumps,
    events_of,
    from_dict,
    json_schema,
    lifecycle_from_dict,
    lifecycle_to_dict,
    loads,
    read_accounts_csv,
    read_events,
    read_snapshots_csv,
    register,
    registered_types,
    to_dict,
    write_events,
)

T0 = datetime(2025, 1, 6, tzinfo=UTC)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def lived_account() -> Account:
    """An account that signed, grew, slipped and fell into a turnaround."""
    a = Account("acme", name="Acme Corp", owner="dana", tags={"emea", "enterprise"}, since=at(-30))
    steps = [("sign", 85), ("accelerate", 88), ("stagnate", 55), ("escalate", 20)]
    for day, (trigger, health) in enumerate(steps):
        STARS.observe(a, Snapshot(at=at(day), health=health, metrics={"seats": 10.0 + day}))
        STARS.fire(a, trigger, at=at(day), actor="dana", force=True, reason="test")
    return a


def doc_of(value: Any) -> dict[str, Any]:
    return json.loads(dumps(value))


def refused(doc_or_text: Any, **kw: Any) -> SchemaError:
    load = loads if isinstance(doc_or_text, str | bytes) else from_dict
    with pytest.raises(SchemaError) as info:
        load(doc_or_text, **kw)
    return info.value


# --------------------------------------------------------------------------- round trips
def test_account_round_trip_keeps_everything() -> None:
    a = lived_account()
    back = loads(dumps(a))
    assert back == a
    assert (back.stage, back.version, back.tags, back.since) == ("tact", 8, a.tags, a.since)
    assert back.history == a.history and back.snapshots == a.snapshots


def test_document_shape() -> None:
    d = to_dict(lived_account())
    assert (d["schema"], d["type"], d["id"], d["stage"], d["version"]) == (
        SCHEMA,
        "Account",
        "acme",
        "tact",
        8,
    )
    assert d["tags"] == ["emea", "enterprise"]  # frozensets are written sorted
    first = d["history"][0]
    assert first == {
        "type": "TransitionRecord",
        "trigger": "sign",
        "source": "prospect",
        "dest": "seed",
        "cycle": "growth",
        "at": "2025-01-06T00:00:00+00:00",
        "actor": "dana",
        "reason": "test",
        "forced": True,
    }
    assert d["snapshots"][0]["band"] == "green"  # enums by value
    assert d["snapshots"][0]["metrics"] == {"seats": 10.0}


def test_offsets_are_kept_and_z_is_read() -> None:
    tz = timezone(timedelta(hours=5, minutes=30))
    snap = Snapshot(at=datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=tz))
    text = dumps(snap)
    assert '"2025-03-01T09:30:15.123456+05:30"' in text
    assert loads(text).at.utcoffset() == timedelta(hours=5, minutes=30)
    z = loads('{"schema":"stars/1","type":"Snapshot","at":"2025-01-01T00:00:00Z"}')
    assert z.at == datetime(2025, 1, 1, tzinfo=UTC)


def test_ints_and_floats_keep_their_kind() -> None:
    snap = Snapshot(at=T0, health=80, nps=12.5, open_tickets=3)
    back = loads(dumps(snap))
    assert type(back.health) is int and type(back.nps) is float and back.open_tickets == 3


def test_fields_with_defaults_may_be_left_out_and_nested_type_is_optional() -> None:
    doc = {
        "schema": SCHEMA,
        "type": "Account",
        "id": "acme",
        "snapshots": [{"at": "2025-01-01T00:00:00+00:00", "health": 50}],
    }
    a = from_dict(doc, Account)
    assert a.snapshots[0].health == 50 and a.stage == "prospect" and a.version == 1


def test_pretty_printing() -> None:
    text = dumps(BandCutoffs(), indent=2)
    assert text.splitlines()[1] == '  "schema": "stars/1",'
    assert loads(text) == BandCutoffs()


def test_cls_requires_that_type() -> None:
    text = dumps(BandCutoffs())
    assert loads(text, BandCutoffs) == BandCutoffs()
    err = refused(text, cls=Account)
    assert err.path == "$.type" and err.value == "BandCutoffs"
    with pytest.raises(UnknownName):
        loads(text, cls=dict)


# --------------------------------------------------------------------------- refusals
def test_unknown_or_missing_schema_version() -> None:
    doc = doc_of(Account("a"))
    doc["schema"] = "stars/2"
    err = refused(doc)
    assert (err.path, err.value) == ("$.schema", "stars/2")
    del doc["schema"]
    assert refused(doc).path == "$.schema"


def test_unknown_type_is_refused_and_never_imported() -> None:
    for kind in ("os.system", "builtins.eval", "Guard", "GuardContext", 3, None):
        err = refused({"schema": SCHEMA, "type": kind})
        assert err.path == "$.type"


def test_not_an_object() -> None:
    for text in ("[]", '"Account"', "3", "null"):
        assert refused(text).path == "$"


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d["history"][3].update(at="2025-01-01T00:00:00+00:00"), "$.history[3].at"),
        (lambda d: d["history"][3].update(at="2025-01-09T00:00:00"), "$.history[3].at"),
        (lambda d: d["history"][2].update(at=20250108), "$.history[2].at"),
        (
            lambda d: d["history"][1].update(source="prospect", trigger="sign", dest="seed"),
            "$.history[1].source",
        ),
        (lambda d: d["history"][0].update(trigger="expand"), "$.history[0].trigger"),
        (lambda d: d["history"][0].update(trigger="teleport"), "$.history[0].trigger"),
        (lambda d: d["history"][0].update(cycle="crisis"), "$.history[0].cycle"),
        (lambda d: d["history"][0].update(cycle="sideways"), "$.history[0].cycle"),
        (lambda d: d["history"][0].update(forced="yes"), "$.history[0].forced"),
        (lambda d: d["history"][0].update(reason=None), "$.history[0].reason"),
        (lambda d: d["history"][0].pop("dest"), "$.history[0].dest"),
        (lambda d: d["history"][0].update(colour="red"), "$.history[0].colour"),
        (lambda d: d["history"][0].update(type="Snapshot"), "$.history[0].type"),
        (lambda d: d["snapshots"][1].update(health=101), "$.snapshots[1].health"),
        (lambda d: d["snapshots"][1].update(health="80"), "$.snapshots[1].health"),
        (lambda d: d["snapshots"][1].update(band="blue"), "$.snapshots[1].band"),
        (lambda d: d["snapshots"][1].update(open_tickets=2.5), "$.snapshots[1].open_tickets"),
        (lambda d: d["snapshots"][1]["metrics"].update(seats=None), "$.snapshots[1].metrics.seats"),
        (lambda d: d["snapshots"][2].update(at="2024-12-31T00:00:00+00:00"), "$.snapshots[2].at"),
        (lambda d: d.update(stage="seed"), "$.stage"),
        (lambda d: (d.update(stage="gold", history=[]), d.pop("version")), "$.stage"),
        (lambda d: d.update(version=-1), "$.version"),
        (lambda d: d.update(version=True), "$.version"),
        (lambda d: d.update(id=""), "$.id"),
        (lambda d: d.pop("id"), "$.id"),
        (lambda d: d.update(tags=["a", "a"]), "$.tags"),
        (lambda d: d.update(tags="emea"), "$.tags"),
        (lambda d: d.update(since="yesterday"), "$.since"),
        (lambda d: d.update(extra=1), "$.extra"),
        (lambda d: d.update(snapshots={}), "$.snapshots"),
    ],
)
def test_bad_account_documents_name_the_path(mutate: Any, path: str) -> None:
    doc = doc_of(lived_account())
    mutate(doc)
    err = refused(doc)
    assert err.path == path, str(err)
    # and the same through JSON text
    assert refused(json.dumps(doc)).path == path


def test_without_a_lifecycle_custom_stages_load() -> None:
    doc = {"schema": SCHEMA, "type": "Account", "id": "a", "stage": "pilot"}
    assert refused(doc).path == "$.stage"
    assert from_dict(doc, lifecycle=None).stage == "pilot"


def test_a_custom_lifecycle_checks_its_own_graph() -> None:
    lc = lifecycle_from_dict(
        {
            "initial": "trial",
            "stages": [{"name": "trial", "kind": "before"}, {"name": "paid", "kind": "growth"}],
            "transitions": [
                {"trigger": "buy", "sources": "trial", "dest": "paid", "cycle": "growth"},
                {"trigger": "lapse", "sources": "paid", "dest": "trial", "cycle": "crisis"},
            ],
        }
    )
    a = lc.new_account("a")
    lc.fire(a, "buy", at=T0)
    assert loads(dumps(a), lifecycle=lc) == a
    assert refused(dumps(a)).path == "$.history[0].source"  # STARS has no 'trial'


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (
            '{"schema":"stars/1","type":"Snapshot","at":"2025-01-01T00:00:00+00:00","health":NaN}',
            "finite",
        ),
        (
            '{"schema":"stars/1","type":"Snapshot","at":"2025-01-01T00:00:00+00:00","health":Infinity}',
            "finite",
        ),
        (
            '{"schema":"stars/1","type":"Snapshot","at":"2025-01-01T00:00:00+00:00","health":1e999}',
            "finite",
        ),
        ('{"schema":"stars/1","type":"Account","id":"a","version":9007199254740992}', "integer"),
        ('{"schema":"stars/1","type":"Account","id":"a","version":' + "9" * 5000 + "}", "integer"),
        ('{"schema":"stars/1","type":"Account","id":"a","id":"b"}', "once"),
        ('{"schema":"stars/1","type":"Account","id":"a"', "valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "nesting"),
        (
            '{"schema":"stars/1","type":"Account","id":"a","tags":' + "[" * 70 + "]" * 70 + "}",
            "nesting",
        ),
    ],
)
def test_hostile_json_is_refused(text: str, why: str) -> None:
    assert why in str(refused(text))


def test_size_limit_and_bytes() -> None:
    text = dumps(lived_account())
    assert "at most 100" in str(refused(text, max_bytes=100))
    assert "at most 100 bytes" in str(refused(text.encode(), max_bytes=100))
    assert loads(text.encode()) == lived_account()
    assert "UTF-8" in str(refused(b"\xff\xfe{}"))
    assert refused(text, max_depth=2).path == "$"
    with pytest.raises(SchemaError):
        loads(3)  # type: ignore[call-overload]


def test_anything_unexpected_becomes_a_schema_error() -> None:
    class Weird(dict[str, Any]):
        def get(self, *args: Any) -> Any:
            raise RuntimeError("boom")

    err = refused(Weird(schema=SCHEMA))
    assert "RuntimeError" in str(err) and isinstance(err.__cause__, RuntimeError)
    loop: dict[str, Any] = {"schema": SCHEMA, "type": "Account", "id": "a"}
    loop["tags"] = [loop]
    assert refused(loop).path == "$"


def test_from_dict_is_as_strict_as_loads_about_python_values() -> None:
    base = {"schema": SCHEMA, "type": "Snapshot", "at": "2025-01-01T00:00:00+00:00"}
    assert refused({**base, "health": float("nan")}).path == "$.health"
    assert refused({**base, "at": T0}).path == "$.at"  # a datetime object is not JSON
    assert refused({**base, "metrics": {1: 2.0}}).path == "$.metrics"
    assert refused({**base, "open_tickets": 2**60}).path == "$.open_tickets"


def test_constructor_refusals_keep_the_original_as_cause() -> None:
    doc = {"schema": SCHEMA, "type": "BandCutoffs", "red_below": 80, "green_from": 50}
    err = refused(doc)
    assert err.path == "$.green_from" and isinstance(err.__cause__, InvalidValue)


# --------------------------------------------------------------------------- writing
def test_unregistered_values_and_unwritable_numbers() -> None:
    with pytest.raises(InvalidValue):
        to_dict(object())
    with pytest.raises(InvalidValue):
        to_dict(Account("a", version=MAX_INT + 1))


# --------------------------------------------------------------------------- registry
@attrs.frozen
class Visit:
    """A visit to a customer (a test class)."""

    who: str
    when: datetime
    mood: Band | None = None
    notes: tuple[str, ...] = ()
    scores: tuple[int, float] = (0, 0.0)


@attrs.frozen
class Trip:
    visits: tuple[Visit, ...]
    budget: dict[str, float] = attrs.Factory(dict)


def test_register_a_plain_class_and_its_nested_ones() -> None:
    register(Trip)
    assert registered_types()["Visit"] is Visit  # found through the annotation
    trip = Trip((Visit("dana", T0, Band.GREEN, ("ok",), (3, 4.5)),), {"fuel": 12.5})
    assert loads(dumps(trip)) == trip
    doc = doc_of(trip)
    doc["visits"][0]["scores"] = [1]
    assert refused(doc).path == "$.visits[0].scores"
    doc["visits"][0]["scores"] = [1, "x"]
    assert refused(doc).path == "$.visits[0].scores[1]"
    assert register(Trip) is Trip  # registering again is harmless


def test_register_refusals() -> None:
    @attrs.frozen
    class Visit:  # same name, another class
        who: str

    with pytest.raises(InvalidDefinition, match="already registered"):
        register(Visit)
    register(Visit, name="OtherVisit")
    assert loads(dumps(Visit("x"))) == Visit("x")

    @attrs.frozen
    class Holder:
        fn: Any

    with pytest.raises(InvalidDefinition, match="cannot serialize"):
        register(Holder)
    assert "Holder" not in registered_types()

    class Plain:
        pass

    with pytest.raises(InvalidDefinition, match="not an attrs class"):
        register(Plain)
    with pytest.raises(InvalidDefinition, match="both"):
        register(Plain, encode=lambda p: {})
    with pytest.raises(InvalidValue):
        register("Plain")  # type: ignore[arg-type]


class Counter:
    """A non-attrs class with hooks."""

    def __init__(self, name: str, n: int) -> None:
        self.name, self.n = name, n


def test_register_with_hooks() -> None:
    def decode(data: Any, ctx: LoadContext, path: str) -> Counter:
        ctx.keys(data, path, ("name", "n"), ("name", "n"))
        return Counter(
            ctx.value(data["name"], str, f"{path}.name"), ctx.value(data["n"], int, f"{path}.n")
        )

    checked: list[str] = []
    register(
        Counter,
        encode=lambda c: {"name": c.name, "n": c.n, "when": T0},
        decode=decode,
        check=lambda c, ctx, path: checked.append(c.name),
        schema={"type": "object", "properties": {"name": {"type": "string"}}},
    )
    text = dumps(Counter("x", 2))
    assert '"when":"2025-01-06T00:00:00+00:00"' in text
    with pytest.raises(SchemaError, match=r"\$\.when"):
        loads(text)
    back = loads('{"schema":"stars/1","type":"Counter","name":"x","n":2}')
    assert (back.name, back.n, checked) == ("x", 2, ["x"])
    assert refused('{"schema":"stars/1","type":"Counter","name":"x"}').path == "$.n"
    assert json_schema(Counter)["properties"]["type"] == {"const": "Counter"}


def test_hook_that_returns_the_wrong_thing() -> None:
    class Odd:
        pass

    register(Odd, encode=lambda o: {}, decode=lambda d, c, p: "not an Odd")
    assert refused('{"schema":"stars/1","type":"Odd"}').path == "$"


def test_custom_encoders_write_any_plain_value() -> None:
    class Bag:
        pass

    register(
        Bag,
        encode=lambda b: {
            "items": (
                1,
                2.5,
                None,
                True,
                "s",
                Band.RED,
                frozenset({"b", "a"}),
                {Cycle.GROWTH: [Account("z")]},
            ),
        },
        decode=lambda d, c, p: Bag(),
    )
    items = to_dict(Bag())["items"]
    assert items[:7] == [1, 2.5, None, True, "s", "red", ["a", "b"]]
    assert items[7]["growth"][0]["type"] == "Account"

    register(Bag, encode=lambda b: {"x": object()}, decode=lambda d, c, p: Bag())
    with pytest.raises(InvalidValue, match=r"\$\.x"):
        to_dict(Bag())
    register(Bag, encode=lambda b: {"type": 1}, decode=lambda d, c, p: Bag())
    with pytest.raises(InvalidValue):
        to_dict(Bag())
    register(Bag, encode=lambda b: {"m": {1: 2}}, decode=lambda d, c, p: Bag())
    with pytest.raises(InvalidValue):
        to_dict(Bag())


def test_load_context_helpers() -> None:
    ctx = LoadContext()
    assert ctx.value("2025-01-01T00:00:00+00:00", "datetime", "$.t") == datetime(
        2025, 1, 1, tzinfo=UTC
    )
    assert ctx.value({"a": 1}, dict[str, float], "$.m") == {"a": 1}
    assert ctx.value("growth", Cycle, "$.c") is Cycle.GROWTH
    with pytest.raises(SchemaError, match=r"\$\.m\.a"):
        ctx.value({"a": "x"}, dict[str, float], "$.m")
    with pytest.raises(SchemaError, match="required"):
        ctx.keys({}, "$", ["a"], ["a"])
    assert str(ctx.error("$.x", 1, "two")) == "$.x: got 1, expected two"


# --------------------------------------------------------------------------- JSON Schema
def _validate(instance: Any, schema: dict[str, Any], root: dict[str, Any]) -> list[str]:
    """A small JSON Schema checker for the keywords json_schema() writes."""
    if "$ref" in schema:
        return _validate(instance, root["$defs"][schema["$ref"].rsplit("/", 1)[-1]], root)
    if "const" in schema:
        return [] if instance == schema["const"] else [f"{instance!r} != {schema['const']!r}"]
    if "enum" in schema:
        return [] if instance in schema["enum"] else [f"{instance!r} not in enum"]
    if "anyOf" in schema:
        results = [_validate(instance, s, root) for s in schema["anyOf"]]
        return [] if any(not r for r in results) else [f"{instance!r} matches no option"]
    kind = schema.get("type")
    checks = {
        "null": instance is None,
        "boolean": isinstance(instance, bool),
        "integer": isinstance(instance, int) and not isinstance(instance, bool),
        "number": isinstance(instance, int | float) and not isinstance(instance, bool),
        "string": isinstance(instance, str),
        "array": isinstance(instance, list),
        "object": isinstance(instance, dict),
    }
    if kind is not None and not checks[kind]:
        return [f"{instance!r} is not {kind}"]
    errors: list[str] = []
    date_time = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d(:\d\d(\.\d+)?)?|Z)"
    if (
        kind == "string"
        and schema.get("format") == "date-time"
        and not re.fullmatch(date_time, instance)
    ):
        errors.append(f"{instance!r} is not a date-time")
    if kind == "integer" and not schema["minimum"] <= instance <= schema["maximum"]:
        errors.append("integer out of range")
    if kind == "array":
        prefix = schema.get("prefixItems", [])
        if prefix and len(instance) != len(prefix):
            errors.append("wrong length")
        for i, item in enumerate(instance):
            sub = prefix[i] if i < len(prefix) else schema.get("items", {})
            errors += [] if sub is False else _validate(item, sub, root)
        if schema.get("uniqueItems") and len({json.dumps(x) for x in instance}) != len(instance):
            errors.append("items repeat")
    if kind == "object":
        props = schema.get("properties")
        for key in schema.get("required", []):
            if key not in instance:
                errors.append(f"missing {key}")
        for key, item in instance.items():
            if props is not None and key in props:
                errors += _validate(item, props[key], root)
            elif schema.get("additionalProperties") is False:
                errors.append(f"extra {key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += _validate(item, schema["additionalProperties"], root)
    return errors


@pytest.mark.parametrize("kind", ["account", "snapshot", "transition", "event", "lifecycle"])
def test_json_schema_accepts_what_dumps_writes(kind: str) -> None:
    a = lived_account()
    samples = {
        "account": a,
        "snapshot": a.snapshots[0],
        "transition": a.history[0],
        "event": events_of(a)[0],
        "lifecycle": STARS,
    }
    schema = json_schema(kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"][:2] == ["schema", "type"]
    assert _validate(doc_of(samples[kind]), schema, schema) == []


def test_json_schema_refuses_what_loads_refuses_by_shape() -> None:
    schema = json_schema("account")
    doc = doc_of(lived_account())
    for mutate in (
        lambda d: d.update(extra=1),
        lambda d: d.pop("id"),
        lambda d: d.update(schema="stars/2"),
        lambda d: d["history"][0].update(at=3),
        lambda d: d["snapshots"][0].update(band="blue"),
        lambda d: d.update(tags=["a", "a"]),
        lambda d: d.update(version=2**60),
    ):
        bad = json.loads(json.dumps(doc))
        mutate(bad)
        assert _validate(bad, schema, schema) != []
        with pytest.raises(SchemaError):
            from_dict(bad)


def test_json_schema_follows_the_fields() -> None:
    schema = json_schema(Snapshot)
    fields = [f.name for f in attrs.fields(Snapshot)]
    assert list(schema["properties"]) == ["schema", "type", *fields]
    assert schema["properties"]["band"] == {
        "anyOf": [{"enum": ["red", "yellow", "green"]}, {"type": "null"}]
    }
    account = json_schema("account")
    assert "stage" in account["properties"] and "_stage" not in account["properties"]
    assert account["$defs"]["Snapshot"]["required"] == ["at"]
    with pytest.raises(UnknownName):
        json_schema("nonsense")
    with pytest.raises(UnknownName):
        json_schema(dict)


# --------------------------------------------------------------------------- lifecycles
def test_lifecycle_definition_round_trip() -> None:
    d = lifecycle_to_dict(STARS)
    lc = lifecycle_from_dict(json.loads(json.dumps(d)))
    assert lc.stages == STARS.stages and lc.transitions == STARS.transitions
    assert lc.policy == STARS.policy and lc.initial == STARS.initial and lc.name == "STARS"
    assert all(g is GUARDS[g.name] for t in lc.transitions for g in t.guards)
    assert lifecycle_to_dict(lc) == d
    again = loads(dumps(STARS))
    assert isinstance(again, Lifecycle) and lifecycle_to_dict(again) == d
    # the default diagnoser comes back for the STARS stage names
    assert again.diagnose(Account("a")).stage == "prospect"


def test_lifecycle_with_scorecards_and_policy() -> None:
    health = pytest.importorskip("stars.health")
    lc = STARS.evolve(policy=Policy(green_streak=2), scorecards=health.default_scorecard_set())
    back = loads(dumps(lc))
    assert back.scorecards == lc.scorecards and back.policy.green_streak == 2


def test_unknown_guard_name() -> None:
    d = lifecycle_to_dict(STARS)
    d["transitions"][0]["guards"] = ["contract_signed", "vip_only"]
    with pytest.raises(UnknownName) as info:
        lifecycle_from_dict(d)
    assert info.value.name == "vip_only"
    with pytest.raises(UnknownName):
        loads(json.dumps(d))


def test_custom_guards_travel_by_name_through_a_registry() -> None:
    vip = Guard("vip", "vip only", lambda ctx: None)
    lc = STARS.evolve(
        transitions=[
            *STARS.transitions[:-1],
            TransitionDef("win_back", "churn", "prospect", "recovery", (vip,)),
        ]
    )
    with pytest.raises(InvalidDefinition, match="'vip'"):
        lifecycle_to_dict(lc)
    with pytest.raises(InvalidDefinition):
        dumps(lc)
    registry = {**GUARDS, "vip": vip}
    d = lifecycle_to_dict(lc, guards=registry)
    assert d["transitions"][-1]["guards"] == ["vip"]
    assert lifecycle_from_dict(d, guards=registry).transitions[-1].guards == (vip,)
    assert isinstance(loads(json.dumps(d), guards=registry), Lifecycle)
    # a guard named like a built-in but with other code is not the registry's guard
    fake = Guard("contract_signed", "contract signed", lambda ctx: None)
    lc2 = STARS.evolve(
        transitions=[
            TransitionDef("sign", "prospect", "seed", "growth", (fake,)),
            *STARS.transitions[1:],
        ]
    )
    with pytest.raises(InvalidDefinition):
        lifecycle_to_dict(lc2)


@pytest.mark.parametrize(
    ("mutate", "error", "where"),
    [
        (lambda d: d.update(schema="stars/0"), SchemaError, "$.schema"),
        (lambda d: d.update(type="Account"), SchemaError, "$.type"),
        (lambda d: d.pop("initial"), SchemaError, "$.initial"),
        (lambda d: d.update(color="red"), SchemaError, "$.color"),
        (lambda d: d.update(transitions={}), SchemaError, "$.transitions"),
        (lambda d: d["transitions"].__setitem__(0, "sign"), SchemaError, "$.transitions[0]"),
        (lambda d: d["transitions"][0].update(type="X"), SchemaError, "$.transitions[0].type"),
        (lambda d: d["transitions"][0].update(cycle="up"), SchemaError, "$.transitions[0].cycle"),
        (lambda d: d["transitions"][0].update(trigger=""), SchemaError, "$.transitions[0].trigger"),
        (
            lambda d: d["transitions"][0].update(guards="contract_signed"),
            SchemaError,
            "$.transitions[0].guards",
        ),
        (lambda d: d["stages"][0].update(kind="limbo"), SchemaError, "$.stages[0].kind"),
        (lambda d: d.update(scorecards=[]), SchemaError, "$.scorecards"),
        (lambda d: d["transitions"][0].update(dest="nowhere"), InvalidDefinition, None),
        (lambda d: d.update(initial="nowhere"), InvalidDefinition, None),
    ],
)
def test_bad_lifecycle_definitions(mutate: Any, error: type[StarsError], where: str | None) -> None:
    d = lifecycle_to_dict(STARS)
    mutate(d)
    with pytest.raises(error) as info:
        lifecycle_from_dict(d)
    if where is not None:
        assert isinstance(info.value, SchemaError) and info.value.path == where
    with pytest.raises(StarsError):
        loads(json.dumps(d))


def test_lifecycle_from_dict_refuses_non_objects_and_wraps_surprises() -> None:
    with pytest.raises(SchemaError):
        lifecycle_from_dict([])  # type: ignore[arg-type]
    d = lifecycle_to_dict(STARS)
    d["stages"] = [StageDef("x", "growth")]  # Python objects are not data
    with pytest.raises(SchemaError):
        lifecycle_from_dict(d)


def test_lifecycle_diagnoser_is_given_when_loading() -> None:
    d = {
        "initial": "new",
        "stages": [{"name": "new", "kind": "before"}, {"name": "live", "kind": "growth"}],
        "transitions": [
            {"trigger": "go", "sources": ["new"], "dest": "live", "cycle": "growth"},
            {"trigger": "back", "sources": ["live"], "dest": "new", "cycle": "crisis"},
        ],
    }
    lc = lifecycle_from_dict(d, diagnoser=lambda ev, policy: ("live", ("always",)))
    assert lc.diagnose(Account("a", stage="new")).stage == "live"


# --------------------------------------------------------------------------- JSON Lines
def test_events_append_and_rebuild(tmp_path: Path) -> None:
    a = lived_account()
    path = tmp_path / "events.jsonl"
    first, rest = events_of(a)[:3], events_of(a)[3:]
    assert write_events(first, path) == 3
    assert write_events(rest, str(path)) == len(rest)  # appends
    events = read_events(path)
    assert events == events_of(a)
    assert [type(e.event).__name__ for e in events[:2]] == ["Snapshot", "TransitionRecord"]
    rebuilt = accounts_from_events(events)["acme"]
    assert (rebuilt.stage, rebuilt.history, rebuilt.snapshots, rebuilt.version) == (
        a.stage,
        a.history,
        a.snapshots,
        a.version,
    )


def test_events_of_many_accounts_and_bare_items() -> None:
    out = io.StringIO()
    a, b = lived_account(), Account("beta")
    STARS.fire(b, "sign", at=T0, force=True, reason="import")
    write_events(a, out)
    write_events([b.history[0]], out, account_id="beta")
    write_events([AccountEvent("gamma", Snapshot(at=T0))], out)
    out.seek(0)
    events = read_events(out)
    assert {e.account for e in events} == {"acme", "beta", "gamma"}
    rebuilt = accounts_from_events(events)
    assert rebuilt["beta"].stage == "seed" and rebuilt["gamma"].snapshots == (Snapshot(at=T0),)
    with pytest.raises(InvalidValue):
        write_events([b.history[0]], out)
    with pytest.raises(InvalidValue):
        write_events(["x"], out)  # type: ignore[list-item]
    with pytest.raises(InvalidValue):
        accounts_from_events(["x"])  # type: ignore[list-item]


def _line(account: str, event: Any) -> str:
    return dumps(AccountEvent(account, event))


def test_bad_event_lines_are_named_by_line() -> None:
    r1 = TransitionRecord("sign", "prospect", "seed", "growth", at(1))
    r2 = TransitionRecord("accelerate", "seed", "accelerate", "growth", at(2))
    good = [_line("a", r1), "", _line("a", r2)]
    assert len(read_events(good)) == 2
    cases = [
        (
            [_line("a", r2)],
            "line 1: $.event.trigger",
        ),  # seed->accelerate fine alone, but source check below
        ([_line("a", r1), _line("a", r1)], "line 2: $.event.source"),
        ([_line("a", r1), _line("a", attrs.evolve(r2, at=at(0)))], "line 2: $.event.at"),
        ([_line("a", Snapshot(at=at(2))), _line("a", Snapshot(at=at(1)))], "line 2: $.event.at"),
        (["{not json"], "line 1: $"),
        (
            [
                _line("a", r1),
                '{"schema":"stars/1","type":"Snapshot","at":"2025-01-01T00:00:00+00:00"}',
            ],
            "line 2: $.type",
        ),
        ([_line("a", attrs.evolve(r1, trigger="teleport"))], "line 1: $.event.trigger"),
    ]
    for lines, where in cases[1:]:
        with pytest.raises(SchemaError) as info:
            read_events(lines)
        assert info.value.path == where, str(info.value)
    # a record on its own is fine: each account's stream may start mid-life
    assert read_events(cases[0][0])[0].event == r2
    # without a lifecycle, unknown triggers pass the graph check
    assert len(read_events([_line("a", attrs.evolve(r1, trigger="teleport"))], lifecycle=None)) == 1


def test_other_accounts_do_not_break_each_others_chain() -> None:
    r1 = TransitionRecord("sign", "prospect", "seed", "growth", at(1))
    lines = [_line("a", r1), _line("b", attrs.evolve(r1, at=at(0))), _line("b", Snapshot(at=at(0)))]
    assert [e.account for e in read_events(lines)] == ["a", "b", "b"]


# --------------------------------------------------------------------------- CSV
def test_accounts_csv(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text(
        "\ufeffid,name,owner,tags,since,stage\n"
        "acme,Acme,dana,emea; enterprise,2024-01-01T00:00:00+00:00,ascend\n"
        "beta,Beta,,,,\n"
        "\n"
        "gamma,Gamma,lee,,2024-02-30T00:00:00+00:00,seed\n"
        "delta,Delta,lee,,,gold\n"
        "acme,Acme again,,,,\n"
        "eps,Eps,,,\n"
        '"zeta","Zeta ""Z""",,,2024-03-01T10:00:00-05:00,tact\n'
        "  ,Blank id,,,,\n",
        encoding="utf-8",
    )
    accounts, rejected = read_accounts_csv(path)
    assert [a.id for a in accounts] == ["acme", "beta", "zeta"]
    acme, beta, zeta = accounts
    assert (acme.stage, sorted(acme.tags), acme.since, acme.owner) == (
        "ascend",
        ["emea", "enterprise"],
        datetime(2024, 1, 1, tzinfo=UTC),
        "dana",
    )
    assert (beta.stage, beta.owner, beta.tags, beta.since) == ("prospect", None, frozenset(), None)
    assert zeta.name == 'Zeta "Z"' and zeta.since.utcoffset() == timedelta(hours=-5)
    assert [(r.line, r.column, r.value) for r in rejected] == [
        (5, "since", "2024-02-30T00:00:00+00:00"),
        (6, "stage", "gold"),
        (7, "id", "acme"),
        (8, "", "eps,Eps,,,"),
        (10, "id", "  "),
    ]
    assert "first seen on line 2" in rejected[2].why
    assert isinstance(rejected[0], RejectedRow)
    # without a lifecycle any stage name is kept
    accounts, rejected = read_accounts_csv(io.StringIO("id,stage\nx,gold\n"), lifecycle=None)
    assert accounts[0].stage == "gold" and rejected == []


def test_accounts_csv_quick_rows_are_the_checked_accounts(monkeypatch: pytest.MonkeyPatch) -> None:
    # plain rows skip the validators (see _quick_accounts): the accounts must be the ones
    # the checked constructor builds, and rows it would refuse or change take that path
    from stars.io import _csv_io

    text = (
        "id,name,owner,tags,since,stage\n"
        "acme,Acme,dana,,2024-01-01T00:00:00+02:00,ascend\n"
        "beta,,,,,\n"
        "gamma,Gamma,lee,emea;smb,,Seed\n"
        "delta, Delta ,,,2024-03-01,turnaround\n"
        "eps,Eps,,,2024-03-01T00:00:00Z,Accelerated growth\n"
    )
    custom = Lifecycle(
        [StageDef("new", "before"), StageDef("gold", "growth"), StageDef("sick", "crisis")],
        [
            TransitionDef("go", "new", "gold", "growth"),
            TransitionDef("fall", "gold", "sick", "crisis"),
            TransitionDef("heal", "sick", "gold", "recovery"),
        ],
        initial="new",
    )
    custom_text = "id,stage\nx,gold\ny,Sick\nz,\n"

    def both(lc: Lifecycle | None, rows: str) -> tuple[list[Account], list[Account]]:
        quick = read_accounts_csv(io.StringIO(rows), lifecycle=lc, tz="UTC")
        with monkeypatch.context() as m:
            m.setattr(_csv_io, "_quick_accounts", lambda: lambda values: None)
            checked = read_accounts_csv(io.StringIO(rows), lifecycle=lc, tz="UTC")
        assert quick.rejected == checked.rejected
        return quick.items, checked.items

    for lc, rows in ((STARS, text), (None, text), (custom, custom_text)):
        quick, checked = both(lc, rows)
        assert quick == checked and len(quick) == len(rows.splitlines()) - 1
        for a, b in zip(quick, checked, strict=True):
            assert (a.stage, a.tags, a.since, a.owner, a.name, a.version) == (
                b.stage,
                b.tags,
                b.since,
                b.owner,
                b.name,
                b.version,
            )
            assert a.tags is b.tags or a.tags  # the shared empty set, as the constructor gives
    assert [a.stage for a in both(custom, custom_text)[0]] == ["gold", "sick", "prospect"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "header"),
        ("\n\n", "header"),
        ("name,owner\nacme,dana\n", "'id'"),
        ("id,colour\nacme,red\n", "'colour'"),
        ("id,id\nacme,acme\n", "once"),
    ],
)
def test_accounts_csv_bad_headers(text: str, match: str) -> None:
    with pytest.raises(SchemaError, match=match):
        read_accounts_csv(io.StringIO(text))


def test_snapshots_csv() -> None:
    text = (
        "account,at,health,band,adoption,open_tickets,critical_risk,metrics.seats,metrics.logins\n"
        "acme,2025-01-06T00:00:00+00:00,72,green,0.5,3,no,40,\n"
        "acme,2025-01-13T00:00:00+00:00,abc,purple,1.5,2.5,maybe,x,1\n"
        "beta,2025-01-06T00:00:00Z,,,,,yes,,\n"
        ",2025-01-06T00:00:00+00:00,,,,,,,\n"
        "beta,,,,,,,,\n"
        "beta,2025-01-06,50,,,,,,\n"
        "beta,2025-01-07T00:00:00+00:00,nan,,,,,,\n"
        "beta,2025-01-07T00:00:00+00:00,50,,,7,,1e400,\n"
        "beta,2025-01-07T00:00:00+00:00,50,,,+0012,TRUE,,-2.5e3\n"
    )
    good, rejected = read_snapshots_csv(io.StringIO(text))
    assert [(e.account, e.event.health) for e in good] == [
        ("acme", 72.0),
        ("beta", None),
        ("beta", 50.0),
    ]
    first = good[0].event
    assert (first.band, first.adoption, first.open_tickets, first.critical_risk, first.metrics) == (
        Band.GREEN,
        0.5,
        3,
        False,
        {"seats": 40.0},
    )
    assert good[1].event.critical_risk is True
    assert (good[2].event.open_tickets, good[2].event.critical_risk, good[2].event.metrics) == (
        12,
        True,
        {"logins": -2500.0},
    )
    bad = [(r.line, r.column, r.value) for r in rejected]
    assert bad == [
        (3, "health", "abc"),
        (3, "band", "purple"),
        (3, "open_tickets", "2.5"),
        (3, "critical_risk", "maybe"),
        (3, "metrics.seats", "x"),
        (5, "account", ""),
        (6, "at", ""),
        (7, "at", "2025-01-06"),
        (8, "health", "nan"),
        (9, "metrics.seats", "1e400"),
    ]
    assert "offset" in rejected[7].why


def test_snapshots_csv_range_errors_name_the_column(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "account,at,adoption,metrics.seats\na,2025-01-06T00:00:00+00:00,1.5,1\n", encoding="utf-8"
    )
    good, rejected = read_snapshots_csv(path)
    assert good == [] and [(r.line, r.column, r.value, r.why) for r in rejected] == [
        (2, "adoption", "1.5", "a number from 0 to 1")
    ]
    with pytest.raises(SchemaError, match="'sparkle'"):
        read_snapshots_csv(io.StringIO("account,at,sparkle\n"))
    with pytest.raises(SchemaError, match="'at'"):
        read_snapshots_csv(io.StringIO("account,health\n"))


def test_csv_rows_the_csv_module_refuses_do_not_stop_the_rest() -> None:
    import csv

    limit = csv.field_size_limit()
    csv.field_size_limit(50)
    try:
        text = "id,name\nacme,Acme\nbig," + "x" * 80 + "\nbeta,Beta\n"
        accounts, rejected = read_accounts_csv(io.StringIO(text))
    finally:
        csv.field_size_limit(limit)
    assert [a.id for a in accounts] == ["acme", "beta"]
    assert rejected[0].line == 3 and "unreadable" in rejected[0].why


# --------------------------------------------------------------------------- converter edges
class Grade(float, enum.Enum):
    FULL = 1.0
    HALF = 0.5


class Mixed(enum.Enum):
    A = (1, 2)


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@attrs.frozen
class Edge:
    kind: Literal["a", "b", 3]
    grade: Grade
    pair: tuple[int, str]
    by_colour: Mapping[Colour, float]
    labels: frozenset[str] = frozenset()
    mood: Band | None = None


def test_generic_edges_round_trip_and_schema() -> None:
    register(Edge)
    e = Edge("a", Grade.HALF, (1, "x"), {Colour.RED: 1.5}, frozenset({"z", "y"}))
    d = doc_of(e)
    assert (d["kind"], d["grade"], d["pair"], d["by_colour"], d["labels"]) == (
        "a",
        0.5,
        [1, "x"],
        {"red": 1.5},
        ["y", "z"],
    )
    assert loads(dumps(e)) == e
    assert loads(dumps(attrs.evolve(e, kind=3))).kind == 3
    schema = json_schema(Edge)
    assert schema["properties"]["kind"] == {"enum": ["a", "b", 3]}
    assert schema["properties"]["by_colour"]["propertyNames"] == {"enum": ["red", "blue"]}
    assert schema["properties"]["pair"]["prefixItems"] == [
        json_schema("account")["properties"]["version"],
        {"type": "string"},
    ]
    for key, bad in [
        ("kind", "c"),
        ("kind", True),
        ("grade", True),
        ("grade", "0.5"),
        ("grade", 0.25),
        ("pair", [1, 2, 3]),
        ("by_colour", {"green": 1.0}),
        ("by_colour", []),
        ("labels", ["a", "a"]),
    ]:
        assert refused({**d, key: bad}).path.startswith(f"$.{key}"), key
    assert loads(json.dumps({**d, "grade": 1})).grade is Grade.FULL


def test_encoding_refuses_values_that_do_not_fit_their_annotation() -> None:
    register(Edge)
    e = Edge("a", Grade.HALF, (1, "x"), {Colour.RED: 1.5})
    for key, bad in [
        ("kind", "zz"),
        ("grade", 0.5),
        ("pair", (1,)),
        ("pair", ("x", "y")),
        ("by_colour", [1]),
        ("by_colour", {"red": 1.0}),
        ("labels", "ab"),
        ("labels", frozenset({3})),
        ("mood", "green"),
    ]:
        broken = attrs.evolve(e)
        object.__setattr__(broken, key, bad)
        with pytest.raises(InvalidValue):
            to_dict(broken)
    snap = Snapshot(at=T0)
    for key, bad in [("at", "2025"), ("contract_signed", 1), ("health", "x"), ("health", math.nan)]:
        broken_snap = attrs.evolve(snap)
        object.__setattr__(broken_snap, key, bad)
        with pytest.raises(InvalidValue):
            to_dict(broken_snap)
    account = Account("a")
    object.__setattr__(account, "_stage", 3)
    with pytest.raises(InvalidValue):
        to_dict(account)
    object.__setattr__(account, "_stage", "prospect")
    object.__setattr__(account, "_snapshots", ["x"])
    with pytest.raises(InvalidValue):
        to_dict(account)


def test_classes_that_cannot_be_registered() -> None:
    @attrs.frozen
    class Typed:
        type: str

    @attrs.frozen
    class Unresolvable:
        x: NoSuchName  # type: ignore[name-defined]  # noqa: F821

    @attrs.frozen
    class Flagged:
        f: dict[int, float]

    @attrs.frozen
    class Listed:
        f: tuple[int, ...] | list[int]

    @attrs.frozen
    class WithMixed:
        m: Mixed

    @attrs.frozen
    class WithLiteral:
        m: Literal[1.5]

    for cls, match in [
        (Typed, "may not be named"),
        (Unresolvable, "annotations"),
        (Flagged, "keys"),
        (Listed, "cannot serialize"),
        (WithMixed, "strings or numbers"),
        (WithLiteral, "Literal"),
    ]:
        with pytest.raises(InvalidDefinition, match=match):
            register(cls)


def test_events_and_portfolios_are_checked_against_the_lifecycle() -> None:
    from stars import Event

    ok = dumps(Event("sign", T0, to="seed"))
    assert loads(ok).to == "seed"
    assert refused(dumps(Event("teleport", T0))).path == "$.trigger"
    assert refused(dumps(Event("sign", T0, to="moon"))).path == "$.to"
    with pytest.raises(SchemaError):
        from_dict(
            {
                "schema": SCHEMA,
                "type": "AccountEvent",
                "account": "a",
                "event": {"type": "Account", "id": "a"},
            }
        )
    portfolio = pytest.importorskip("stars.portfolio")
    p = portfolio.Portfolio([Account("a"), Account("b")])
    d = doc_of(p)
    d["accounts"][1]["id"] = "a"
    assert refused(d).path == "$.accounts[1].id"
    d["lifecycle"] = "custom"
    assert refused(d).path == "$.lifecycle"
    assert refused({"schema": SCHEMA, "type": "Portfolio", "accounts": [], "x": 1}).path == "$.x"
    assert (
        len(from_dict({"schema": SCHEMA, "type": "Portfolio", "accounts": []}, lifecycle=None)) == 0
    )


def test_blank_csv_lines_are_skipped() -> None:
    text = "account,at,health\n\n" + "a,2025-01-06T00:00:00+00:00,50\n"
    good, rejected = read_snapshots_csv(io.StringIO(text))
    assert len(good) == 1 and rejected == []
