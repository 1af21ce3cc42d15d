"""Properties of stars.io: lossless round trips, and nothing but StarsError out of loads."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from stars import (
    STARS,
    Account,
    BandCutoffs,
    DepthPoint,
    Event,
    Lifecycle,
    Policy,
    Snapshot,
    StarsError,
    TransitionRecord,
    UnknownName,
    episodes,
    evidence,
)
from stars.io import (
    AccountEvent,
    accounts_from_events,
    dumps,
    events_of,
    from_dict,
    json_schema,
    lifecycle_from_dict,
    lifecycle_to_dict,
    loads,
    registered_types,
    to_dict,
)
from stars.stages import stage_name
from stars.testing import accounts, snapshots

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T0 = datetime(2024, 1, 1, tzinfo=UTC)

# -- strategies -------------------------------------------------------------------------
# Offsets include odd ones (+05:45, -09:30) and seconds, to prove offsets survive the trip.
offsets = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=5, minutes=45)),
        timezone(timedelta(hours=-9, minutes=-30)),
        timezone(timedelta(hours=14)),
    ]
)
times = st.builds(
    lambda us, tz: (T0 + timedelta(microseconds=us)).astimezone(tz),
    st.integers(-(10**15), 10**15),
    offsets,
)
names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12)
names = names.filter(lambda s: bool(s.strip()))


def _kept_as_a_stage(name: str) -> bool:
    """A record refuses a near miss of a STARS stage ('TAT' for 'tact') as a typo."""
    try:
        stage_name(name)
    except UnknownName:
        return False
    return True


stage_names = names.filter(_kept_as_a_stage)
opt_text = st.none() | st.text(max_size=20)

records = st.builds(
    TransitionRecord,
    trigger=names,
    source=stage_names,
    dest=stage_names,
    cycle=st.sampled_from(["growth", "recovery", "crisis"]),
    at=times,
    actor=opt_text,
    reason=names,
    forced=st.booleans(),
)


def _with_extras(account: Account, data: Any) -> Account:
    """Add what the shared strategy leaves out: tags, since, depths (the version counts them)."""
    depths = sorted(
        data.draw(
            st.lists(
                st.builds(
                    DepthPoint, times, names, st.sampled_from(["agreed", "vendor", "customer"])
                ),
                max_size=3,
            )
        ),
        key=lambda d: d.at,
    )
    return Account(
        account.id,
        name=data.draw(st.text(max_size=10)),
        owner=account.owner,
        owners=account.owners,
        tags=data.draw(st.frozensets(names, max_size=3)),
        since=data.draw(st.none() | times),
        stage=account.stage,
        snapshots=account.snapshots,
        history=account.history,
        depths=depths,
        version=account.version + len(depths),
    )


# -- round trips -----------------------------------------------------------------------
@FAST
@given(snapshots(at=times))
def test_snapshot_round_trip(snap: Snapshot) -> None:
    back = loads(dumps(snap))
    assert back == snap
    assert back.at.utcoffset() == snap.at.utcoffset()
    assert type(back.health) is type(snap.health)


@FAST
@given(records)
def test_record_round_trip_without_lifecycle(record: TransitionRecord) -> None:
    # Arbitrary stage names only load when no lifecycle is asked to check them.
    assert loads(dumps(record), lifecycle=None) == record


@FAST
@given(accounts(), st.data())
def test_account_round_trip(account: Account, data: Any) -> None:
    account = _with_extras(account, data)
    back = loads(dumps(account), Account)
    assert back == account
    assert (back.version, back.stage, back.tags) == (account.version, account.stage, account.tags)
    assert back.history == account.history
    # and the documents are a fixed point
    assert to_dict(back) == to_dict(account)


@FAST
@given(accounts())
def test_account_parts_round_trip(account: Account) -> None:
    for value in (*episodes(account), evidence(account), *events_of(account)):
        assert loads(dumps(value)) == value
    diagnosis = STARS.diagnose(account)
    assert loads(dumps(diagnosis)) == diagnosis


@FAST
@given(
    st.builds(BandCutoffs, st.floats(0, 50), st.floats(50, 100)),
    st.integers(1, 10),
    st.floats(0, 1000),
    st.integers(1, 10),
    st.floats(0, 10),
)
def test_policy_round_trip(
    bands: BandCutoffs, streak: int, tenure: float, window: int, flat: float
) -> None:
    policy = Policy(bands, streak, tenure, window, flat)
    assert loads(dumps(policy)) == policy
    lc = STARS.evolve(policy=policy)
    assert lifecycle_to_dict(lifecycle_from_dict(lifecycle_to_dict(lc))) == lifecycle_to_dict(lc)


@FAST
@given(names, times, st.none() | names, st.none() | names, st.booleans())
def test_event_round_trip(
    trigger: str, at: datetime, actor: str | None, to: str | None, forced: bool
) -> None:
    event = Event(trigger, at, actor, "why", forced, to)
    assert loads(dumps(event), lifecycle=None) == event


@FAST
@given(
    st.floats(0, 1), st.integers(0, 40), st.floats(0, 120), st.integers(-100, 100), st.floats(-1, 1)
)
def test_health_values_round_trip(
    adoption: float, tickets: int, days: float, nps: int, sentiment: float
) -> None:
    health = pytest.importorskip("stars.health")
    card_set = health.default_scorecard_set()
    values = {
        "adoption": adoption,
        "open_tickets": tickets,
        "days_since_contact": days,
        "nps": nps,
        "sentiment": sentiment,
    }
    score = card_set.score("seed", values)
    for value in (score, card_set, card_set.default, *card_set.default.measures):
        assert loads(dumps(value)) == value


@FAST
@given(st.data())
def test_depth_and_maturity_values_round_trip(data: Any) -> None:
    depth = pytest.importorskip("stars.depth")
    maturity = pytest.importorskip("stars.maturity")

    def side() -> Any:
        return depth.DepthEvidence(
            formal_relationship=data.draw(st.booleans()),
            vendor_stakeholders=data.draw(st.integers(0, 6)),
            customer_stakeholders=data.draw(st.integers(0, 6)),
            vendor_functions=data.draw(st.integers(0, 5)),
            customer_functions=data.draw(st.integers(0, 5)),
            joint_planning=data.draw(st.booleans()),
            shared_roadmap=data.draw(st.booleans()),
        )

    two = depth.TwoSidedDepth(depth.assess(side()), depth.assess(side()))
    for value in (two, two.vendor, two.vendor.evidence, *two.disagreements):
        assert loads(dumps(value)) == value
    questionnaire = maturity.default_questionnaire()
    answers = {
        i.id: data.draw(st.sampled_from(["yes", "partly", "no"])) for i in questionnaire.indicators
    }
    report = maturity.assess(answers)
    later = maturity.assess(dict.fromkeys(answers, "yes"))
    for value in (report, maturity.compare(report, later), *report.areas, questionnaire):
        assert loads(dumps(value)) == value
    for requirement in depth.requirements():
        assert loads(dumps(requirement)) == requirement


@FAST
@given(st.lists(accounts(max_events=6), max_size=4, unique_by=lambda a: a.id))
def test_portfolio_round_trip(members: list[Account]) -> None:
    portfolio = pytest.importorskip("stars.portfolio")
    p = portfolio.Portfolio(members)
    back = loads(dumps(p))
    assert isinstance(back, portfolio.Portfolio)
    assert back == p
    assert back.accounts() == p.accounts()
    assert back.lifecycle is STARS
    matrix = p.transition_matrix() if hasattr(p, "transition_matrix") else None
    if matrix is not None:
        assert loads(dumps(matrix)) == matrix


# -- every registered type, from documents shaped by its JSON Schema -----------------------
WORDS = ["a", "seed", "growth", "red", "green", "skill", "acme", "x.y.1", "usage", "basic"]


def _from_schema(
    schema: dict[str, Any], defs: dict[str, Any], depth: int = 0
) -> st.SearchStrategy[Any]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return st.deferred(lambda: _from_schema(defs[name], defs, depth + 1))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([_from_schema(s, defs, depth) for s in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(0, 6)
    if kind == "number":
        return st.integers(0, 100) | st.floats(0, 1) | st.floats(0, 100)
    if kind == "string":
        if schema.get("format") == "date-time":
            return times.map(datetime.isoformat)
        return st.sampled_from(WORDS) | st.text(max_size=5)
    if kind == "array":
        if "prefixItems" in schema:
            return st.tuples(*[_from_schema(s, defs, depth) for s in schema["prefixItems"]]).map(
                list
            )
        items = _from_schema(schema["items"], defs, depth)
        return st.lists(
            items,
            max_size=0 if depth > 3 else 3,
            unique_by=(lambda x: json.dumps(x, sort_keys=True))
            if schema.get("uniqueItems")
            else None,
        )
    if kind == "object":
        if "properties" in schema:
            props = schema["properties"]
            required = {
                k: _from_schema(props[k], defs, depth + 1) for k in schema.get("required", ())
            }
            optional = {
                k: _from_schema(s, defs, depth + 1) for k, s in props.items() if k not in required
            }
            return st.fixed_dictionaries(required, optional=optional)
        values = _from_schema(schema["additionalProperties"], defs, depth + 1)
        return st.dictionaries(st.sampled_from(WORDS), values, max_size=3)
    raise AssertionError(f"schema without a strategy: {schema}")


DOC_TYPES = sorted(name for name, cls in registered_types().items() if cls is not Lifecycle)


@pytest.mark.parametrize("name", DOC_TYPES)
def test_schema_shaped_documents_load_or_refuse_cleanly(name: str) -> None:
    schema = json_schema(name)
    docs = _from_schema(schema, schema["$defs"])
    loaded: list[Any] = []

    @settings(
        max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(docs)
    def run(doc: dict[str, Any]) -> None:
        try:
            value = from_dict(doc, lifecycle=None)
        except StarsError:
            return
        loaded.append(value)
        again = loads(dumps(value), lifecycle=None)
        assert to_dict(again) == to_dict(value)
        if attrs.has(type(value)):
            assert again == value

    run()


# -- fuzz: mutated valid documents and random JSON ---------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _paths(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*path, i))
    return out


def _mutate(doc: Any, data: Any) -> Any:
    doc = json.loads(json.dumps(doc))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(doc)))
        if not path:
            return data.draw(json_values)
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = data.draw(st.sampled_from(["replace", "delete", "add", "swap"]))
        key = path[-1]
        if action == "replace":
            parent[key] = data.draw(
                json_values
                | st.sampled_from(
                    [
                        "2025-13-01T00:00:00+00:00",
                        "2025-01-01T00:00:00",
                        "1999-01-01T00:00:00-23:59",
                        "churn",
                        "gold",
                        2**60,
                        -1,
                        1e308,
                    ]
                )
            )
        elif action == "delete":
            del parent[key]
        elif action == "add" and isinstance(parent, dict):
            parent[data.draw(st.text(max_size=6))] = data.draw(json_values)
        elif action == "swap" and isinstance(parent, list) and len(parent) > 1:
            parent[0], parent[-1] = parent[-1], parent[0]
    return doc


@settings(max_examples=100, deadline=None)
@given(accounts(max_events=8), st.data())
def test_mutated_account_documents_never_crash(account: Account, data: Any) -> None:
    doc = _mutate(to_dict(account), data)
    text = json.dumps(doc, allow_nan=True)
    try:
        value = loads(text)
    except StarsError:
        return
    # whatever loaded is whole and valid: it writes and loads back the same
    assert loads(dumps(value)) == value


@settings(max_examples=100, deadline=None)
@given(json_values, st.sampled_from(sorted(registered_types())))
def test_random_json_never_crashes(value: Any, kind: str) -> None:
    docs = (
        value,
        {"schema": "stars/1", "type": kind, "x": value},
        {"schema": "stars/1", "type": kind, **(value if isinstance(value, dict) else {})},
    )
    for doc in docs:
        for load in (lambda d: loads(json.dumps(d, allow_nan=True)), from_dict):
            try:
                loaded = load(doc)
            except StarsError:
                continue
            # only a document that really is one loads, and it is whole
            assert isinstance(loaded, registered_types()[kind])
            assert to_dict(loaded)["type"] == kind


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=60) | st.text(max_size=60).map(str.encode))
def test_random_bytes_never_crash(raw: bytes) -> None:
    try:
        value = loads(raw)
    except StarsError:
        return
    assert type(value) in registered_types().values()  # pragma: no cover - never valid


# -- replay -------------------------------------------------------------------------------
@FAST
@given(accounts())
def test_history_replays_to_the_same_account(account: Account) -> None:
    again = STARS.replay(
        account.id,
        account.history,
        owner=account.owner,
        snapshots=account.snapshots,
        owners=account.owners,
    )
    assert again == account
    assert all(a is b for a, b in zip(again.history, account.history, strict=True))
    # and through the event stream
    rebuilt = accounts_from_events(events_of(account)).get(account.id, Account(account.id))
    assert (rebuilt.stage, rebuilt.history, rebuilt.snapshots) == (
        account.stage,
        account.history,
        account.snapshots,
    )


@settings(FAST, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(accounts(), st.integers(0, 1000))
def test_loaded_history_breaks_are_refused_with_their_path(account: Account, pick: int) -> None:
    assume(account.history)
    i = pick % len(account.history)
    doc = to_dict(account)
    doc["history"][i]["source"] = "churn" if doc["history"][i]["source"] != "churn" else "seed"
    with pytest.raises(StarsError) as info:
        from_dict(doc)
    assert f"$.history[{i}]" in str(info.value)


def test_floats_that_json_cannot_hold_are_refused_on_write() -> None:
    snap = Snapshot(at=T0, metrics={"x": 1.0})
    object.__setattr__(snap, "metrics", {"x": math.inf})
    with pytest.raises(StarsError):
        dumps(snap)
    assert AccountEvent("a", Snapshot(at=T0)).at == T0
