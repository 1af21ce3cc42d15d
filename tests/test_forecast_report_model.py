"""A fitted renewal model saved and read back, and revenue at risk from the Python API."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stars import Account, Snapshot
from stars.contracts import Contract, ContractBook
from stars.errors import InvalidValue, SchemaError
from stars.forecast import (
    MODEL_FORMAT,
    RenewalModel,
    RiskCurve,
    fit_renewal_model,
    renewal_risk,
)

# -- models to save ------------------------------------------------------------------


@st.composite
def fitted_models(draw: st.DrawFn) -> RenewalModel:
    """A model fitted on random renewals: with or without days, groups and revenue."""
    n = draw(st.integers(60, 300))
    seed = draw(st.integers(0, 2**16))
    import random

    rng = random.Random(seed)
    health = [round(rng.uniform(0, 100), rng.choice((0, 1, 3))) for _ in range(n)]
    bad = [int(rng.random() < 0.6 - h / 200) for h in health]
    bad[0], bad[1] = 0, 1  # both outcomes
    frame = pl.DataFrame(
        {
            "health": [None if rng.random() < 0.05 else h for h in health],
            "days": [float(rng.randint(0, 300)) for _ in range(n)],
            "term": [rng.choice(("annual", "monthly")) for _ in range(n)],
            "arr": [float(rng.randint(1, 90) * 100) for _ in range(n)],
            "lost": [0.0] * n,
            "period": [rng.choice(("2025-01", "2025-02", "2025-03", "2025-04")) for _ in range(n)],
            "bad": bad,
        }
    )
    frame = frame.with_columns(lost=pl.col("arr") * pl.col("bad") * rng.uniform(0.1, 1.0))
    use_days, use_by, use_revenue = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    return fit_renewal_model(
        frame,
        outcome="bad",
        days="days" if use_days else None,
        by="term" if use_by else None,
        revenue="arr" if use_revenue else None,
        lost="lost" if use_revenue and draw(st.booleans()) else None,
        period="period" if use_revenue else None,
        min_rows=draw(st.integers(10, 80)),
        horizons=draw(st.sampled_from([(31.0, 92.0, 183.0), (60.0,), (10.5, 20.25)])),
    )


finite = st.floats(0, 1, allow_nan=False, allow_subnormal=True)


@st.composite
def built_models(draw: st.DrawFn) -> RenewalModel:
    """A model put together from arbitrary valid parts (awkward floats included)."""
    knots = sorted(draw(st.sets(st.floats(0, 100, allow_nan=False), min_size=1, max_size=12)))
    probs = sorted(draw(st.lists(finite, min_size=len(knots), max_size=len(knots))), reverse=True)
    rows = draw(st.integers(0, 10**9))
    pooled = RiskCurve(None, None, knots, probs, rows, draw(st.integers(0, rows)))
    m = draw(finite)
    return RenewalModel(
        health=draw(st.text(min_size=1).filter(str.strip)),
        days=None,
        by=None,
        horizons=(),
        curves=(pooled,),
        base_rate=draw(finite),
        rows=rows,
        positives=pooled.positives,
        severity={"": (m, m * m)},
        overdispersion=draw(st.floats(0, 1e6, allow_nan=False)),
        notes=tuple(draw(st.lists(st.text(min_size=1).filter(str.strip), max_size=3))),
        measures=tuple(draw(st.lists(st.sampled_from(["adoption", "nps", "csat"]), max_size=3))),
        scorecard=draw(st.none() | st.text(min_size=1).filter(str.strip)),
    )


def through_json(model: RenewalModel) -> RenewalModel:
    return RenewalModel.from_dict(json.loads(json.dumps(model.to_dict(), allow_nan=False)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fitted_models(), st.lists(st.floats(0, 100) | st.none(), min_size=1, max_size=30))
def test_a_fitted_model_survives_json_with_the_same_probabilities(
    model: RenewalModel, healths: list[float | None]
) -> None:
    back = through_json(model)
    assert back == model
    for i, h in enumerate(healths):
        days = float(i * 17 % 400)
        for group in (None, "annual", "monthly", "other"):
            assert back.probability(h, days, group) == model.probability(h, days, group)
    frame = pl.DataFrame(
        {
            "health": healths,
            "days": [float(i) for i in range(len(healths))],
            "term": ["annual"] * len(healths),
            "arr": [100.0] * len(healths),
        },
        schema_overrides={"health": pl.Float64},
    )
    assert back.apply(frame)["probability"].to_list() == model.apply(frame)["probability"].to_list()
    assert back.revenue_at_risk(frame, revenue="arr") == model.revenue_at_risk(frame, revenue="arr")


@settings(max_examples=100, deadline=None)
@given(built_models(), st.floats(0, 100))
def test_any_valid_model_survives_json_exactly(model: RenewalModel, health: float) -> None:
    back = through_json(model)
    assert back == model
    assert back.probability(health) == model.probability(health)


def test_save_and_load_write_a_versioned_json_file(tmp_path: Path) -> None:
    pooled = RiskCurve(None, None, (20.0, 80.0), (0.3, 0.1), 100, 20)
    model = RenewalModel("health", None, None, (), (pooled,), 0.2, 100, 20, {"": (1, 1)}, 0.1)
    path = model.save(tmp_path / "model.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == MODEL_FORMAT == "stars.renewal-model"
    assert data["version"] == 1
    assert RenewalModel.load(path) == model


# -- files refused -----------------------------------------------------------------------

GOOD = RenewalModel(
    "health",
    "days",
    "term",
    (31.0, 92.0),
    (
        RiskCurve("annual", 0, (10.0, 50.0), (0.4, 0.2), 300, 60),
        RiskCurve(None, None, (10.0, 90.0), (0.3, 0.1), 900, 150),
    ),
    0.16,
    900,
    150,
    {"": (0.8, 0.7), "annual": (0.9, 0.85)},
    0.02,
).to_dict()


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("format",), "stars.portfolio", "$.format"),
        (("version",), "1", "$.version"),
        (("health",), "", "$.health"),
        (("horizons",), [92.0, 31.0], "$.horizons"),
        (("horizons", 0), -1, "$.horizons[0]"),
        (("curves", 0, "health", 1), 150.0, "$.curves[0].health[1]"),
        (("curves", 0, "probability"), [0.2, 0.4], "$.curves[0].probability"),
        (("curves", 0, "probability"), [0.4], "$.curves[0].probability"),
        (("curves", 0, "horizon"), 7, "$.curves[0].horizon"),
        (("curves", 0, "rows"), True, "$.curves[0].rows"),
        (("curves", 1, "group"), "annual", "$.curves"),
        (("curves", 0, "positives"), 301, "$.curves[0].positives"),
        (("severity",), {"annual": [1, 1]}, "$.severity"),
        (("severity", ""), [0.5], "$.severity['']"),
        (("overdispersion",), -0.1, "$.overdispersion"),
        (("overdispersion",), "0.1", "$.overdispersion"),
        (("notes",), "fitted", "$.notes"),
    ],
)
def test_a_bad_field_is_refused_by_its_path(
    path: tuple[Any, ...], value: object, where: str
) -> None:
    data = copy.deepcopy(GOOD)
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(SchemaError) as caught:
        RenewalModel.from_dict(data)
    assert caught.value.path == where


@pytest.mark.parametrize("key", sorted(GOOD))
def test_a_missing_field_is_named(key: str) -> None:
    data = {k: x for k, x in GOOD.items() if k != key}
    with pytest.raises(SchemaError, match=rf"^\$\.{key}: "):
        RenewalModel.from_dict(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for k, x in data.items():
            out += _paths(x, (*prefix, k))
    elif isinstance(data, list):
        for i, x in enumerate(data):
            out += _paths(x, (*prefix, i))
    return out


@settings(max_examples=300, deadline=None)
@given(st.data(), json_values)
def test_any_damaged_document_gives_a_schema_error_or_a_model(
    data: st.DataObject, junk: object
) -> None:
    doc = copy.deepcopy(GOOD)
    path = data.draw(st.sampled_from(_paths(doc)))
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    if data.draw(st.booleans()) and isinstance(target, dict):
        del target[path[-1]]
    else:
        target[path[-1]] = junk
    try:
        model = RenewalModel.from_dict(doc)
    except SchemaError:
        return
    assert model.probability(50.0, 10.0, "annual") >= 0.0  # what loads, works


def test_a_file_that_is_not_json_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "model.json"
    bad.write_text('{"format": "stars.renewal-model",\n  "version": }', encoding="utf-8")
    with pytest.raises(SchemaError, match=r"model\.json: got 'line 2 column 14'"):
        RenewalModel.load(bad)
    bad.write_text(json.dumps({**GOOD, "base_rate": 2}), encoding="utf-8")
    with pytest.raises(SchemaError, match=r"model\.json: \$\.base_rate: got 2"):
        RenewalModel.load(bad)


# -- revenue at risk from accounts and contracts -----------------------------------------------

STEP = RenewalModel(
    "health",
    "days",
    None,
    (30.0,),
    (
        RiskCurve(None, 0, (20.0, 80.0), (0.5, 0.2), 500, 100),
        RiskCurve(None, None, (20.0, 80.0), (0.3, 0.1), 1000, 200),
    ),
    0.2,
    1000,
    200,
    {"": (0.5, 0.3)},
    0.04,
)
AS_OF = date(2025, 6, 1)


def snap(day: date, health: float) -> Snapshot:
    return Snapshot(at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC), health=health)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-30, 150),  # renewal, days after AS_OF
            st.integers(1, 500) | st.just(0),  # arr in hundreds
            st.floats(0, 100) | st.none(),  # health on AS_OF
            st.floats(0, 100),  # a later health that must not be read
            st.sampled_from(["ann", "bo", None]),
        ),
        min_size=1,
        max_size=25,
    ),
    st.integers(1, 120),
)
def test_revenue_at_risk_is_the_sum_over_the_window(
    rows: list[tuple[int, int, float | None, float, str | None]], horizon: int
) -> None:
    accounts, contracts = [], []
    want = 0.0
    count = 0
    for i, (ahead, arr, health, later, owner) in enumerate(rows):
        snaps = [snap(AS_OF - timedelta(days=3), health)] if health is not None else []
        snaps.append(snap(AS_OF + timedelta(days=1), later))
        accounts.append(Account(f"a{i}", owner=owner, snapshots=snaps))
        end = AS_OF + timedelta(days=ahead)
        contracts.append(Contract(f"a{i}", end - timedelta(days=365), end, arr * 100.0, "EUR"))
        if 0 <= ahead < horizon:
            p = STEP.probability(health, ahead)
            want += p * arr * 100.0 * 0.5
            count += 1
    risk = renewal_risk(STEP, accounts, ContractBook(contracts), as_of=AS_OF, horizon_days=horizon)
    if count == 0:
        assert risk.total is None and risk.renewals == () and risk.currency is None
        assert "nothing to forecast" in risk.to_text()
        return
    assert risk.total is not None
    assert risk.total.contracts == count == len(risk.renewals)
    assert risk.total.expected == pytest.approx(want, rel=1e-12, abs=1e-9)
    assert risk.total.low <= risk.total.expected <= risk.total.high
    if any(r.owner for r in risk.renewals):
        assert sum(g.risk.expected for g in risk.by_owner) == pytest.approx(want, abs=1e-6)
    else:
        assert risk.by_owner == ()  # no owner known: no table of owners
    assert all(r.on < AS_OF + timedelta(days=horizon) for r in risk.renewals)
    assert risk.currency == "EUR"
    assert max(len(line) for line in risk.to_text(width=60).splitlines()) <= 60


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(InvalidValue, match=r"^model"):
        renewal_risk("model.json", [], [], as_of=AS_OF)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^horizon_days"):
        renewal_risk(STEP, [], [], as_of=AS_OF, horizon_days=0)
    with pytest.raises(InvalidValue, match=r"^level"):
        renewal_risk(STEP, [], [], as_of=AS_OF, level=1.0)
    with pytest.raises(InvalidValue, match=r"^accounts\[0\]"):
        renewal_risk(STEP, ["acme"], [], as_of=AS_OF)  # type: ignore[list-item]
