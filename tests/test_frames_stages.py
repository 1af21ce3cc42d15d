"""assign_stages, evidence frames and portfolio <-> DataFrame conversions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stars.account import Account, Snapshot
from stars.bands import Band
from stars.errors import InvalidDefinition, InvalidValue, OutOfOrder, TransitionNotAllowed
from stars.frames import EVIDENCE_COLUMNS, assign_stages
from stars.lifecycle import STARS, Event, Evidence, Policy, diagnose_stars
from stars.portfolio import Portfolio

T0 = datetime(2025, 1, 1, tzinfo=UTC)


# --------------------------------------------------------------------------- assign_stages
def _frame(rows: list[Evidence], with_band: bool = True) -> pl.DataFrame:
    data: dict[str, Any] = {
        "health": pl.Series([e.health for e in rows], dtype=pl.Float64),
        "slope": pl.Series([e.slope for e in rows], dtype=pl.Float64),
        "green_streak": pl.Series([e.green_streak for e in rows], dtype=pl.Int64),
        "tenure_days": pl.Series([e.tenure_days for e in rows], dtype=pl.Float64),
    }
    if with_band:
        data["band"] = pl.Series([e.band.value if e.band else None for e in rows], dtype=pl.String)
    for name in (
        "customer",
        "success_metrics_agreed",
        "expansion_open",
        "critical_risk",
        "churned",
    ):
        data[name] = pl.Series([getattr(e, name) for e in rows], dtype=pl.Boolean)
    return pl.DataFrame(data)


maybe_float = st.none() | st.floats(-50, 50, allow_nan=False)
evidence_rows = st.builds(
    Evidence,
    health=st.none() | st.floats(0, 100, allow_nan=False),
    band=st.none() | st.sampled_from(list(Band)),
    slope=maybe_float,
    green_streak=st.integers(0, 6),
    tenure_days=st.none() | st.floats(0, 800, allow_nan=False),
    customer=st.booleans(),
    success_metrics_agreed=st.booleans(),
    expansion_open=st.booleans(),
    critical_risk=st.booleans(),
    churned=st.booleans(),
)
policies = st.builds(
    Policy,
    green_streak=st.integers(1, 5),
    min_tenure_days=st.sampled_from([0.0, 90.0, 180.0, 365.0]),
    trend_flat_within=st.sampled_from([0.0, 1.0, 2.0, 5.0]),
)


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(evidence_rows, min_size=1, max_size=25), policy=policies)
def test_assign_stages_equals_diagnose_stars(rows: list[Evidence], policy: Policy) -> None:
    lifecycle = STARS.evolve(policy=policy)
    expected = [diagnose_stars(e, policy) for e in rows]
    frame = _frame(rows)
    for native in (frame, frame.to_pandas()):
        out = assign_stages(native, lifecycle)
        got = pl.from_pandas(out) if isinstance(out, pd.DataFrame) else out
        stages = [None if s is None or s != s else s for s in got.get_column("stage").to_list()]
        assert stages == [stage for stage, _ in expected]
        for (stage, reasons), why in zip(
            expected, got.get_column("stage_reason").to_list(), strict=True
        ):
            joined = "; ".join(reasons)
            if stage == "ascend":
                assert why.startswith("green for")
            elif "falling" in joined:
                assert why == joined.split(" (")[0]
            else:
                assert why == joined


@settings(max_examples=25, deadline=None)
@given(rows=st.lists(evidence_rows, min_size=1, max_size=25))
def test_band_is_derived_from_health_without_a_band_column(rows: list[Evidence]) -> None:
    policy = Policy()
    derived = [
        Evidence(
            health=e.health,
            band=policy.bands.band_for(e.health) if e.health is not None else None,
            slope=e.slope,
            green_streak=e.green_streak,
            tenure_days=e.tenure_days,
            customer=e.customer,
            success_metrics_agreed=e.success_metrics_agreed,
            expansion_open=e.expansion_open,
            critical_risk=e.critical_risk,
            churned=e.churned,
        )
        for e in rows
    ]
    out = assign_stages(_frame(rows, with_band=False))
    assert out.get_column("stage").to_list() == [diagnose_stars(e, policy)[0] for e in derived]


def test_absent_optional_columns_take_evidence_defaults() -> None:
    # no customer column: every row is a prospect, exactly like a default Evidence
    out = assign_stages(pl.DataFrame({"health": [90.0, 10.0]}))
    assert out.get_column("stage").to_list() == ["prospect", "prospect"]
    assert diagnose_stars(Evidence(health=90.0, band=Band.GREEN), Policy())[0] == "prospect"
    out = assign_stages(pl.DataFrame({"band": ["green", None], "customer": [True, True]}))
    assert out.get_column("stage").to_list() == ["seed", None]
    assert list(EVIDENCE_COLUMNS) == [a.name for a in Evidence.__attrs_attrs__]
    assert all(EVIDENCE_COLUMNS[a.name] == a.default for a in Evidence.__attrs_attrs__)


def test_assign_stages_keeps_input_and_replaces_output_columns() -> None:
    frame = pl.DataFrame({"id": ["a"], "band": ["red"], "customer": [True], "stage": ["seed"]})
    out = assign_stages(frame)
    assert out.columns == ["id", "band", "customer", "stage", "stage_reason"]
    assert out.row(0) == ("a", "red", True, "tact", "health is red")
    assert frame.get_column("stage").to_list() == ["seed"]  # the caller's frame is unchanged
    import narwhals as nw

    wrapped = assign_stages(nw.from_native(frame, eager_only=True))
    assert isinstance(wrapped, nw.DataFrame)
    cat = assign_stages(frame.with_columns(pl.col("band").cast(pl.Categorical)))
    assert cat.get_column("stage").to_list() == ["tact"]
    nulls = assign_stages(pl.DataFrame({"band": [None, None], "customer": [None, True]}))
    assert nulls.get_column("stage").to_list() == ["prospect", None]


def test_reasons_can_be_left_out() -> None:
    frame = pl.DataFrame({"band": ["red", "green"], "customer": [True, True]})
    out = assign_stages(frame, reasons=False)
    assert out.columns == ["band", "customer", "stage"]
    assert out.get_column("stage").to_list() == ["tact", "seed"]
    with pytest.raises(InvalidValue):
        assign_stages(frame, reasons="no")  # type: ignore[arg-type]


def test_assign_stages_errors() -> None:
    with pytest.raises(InvalidValue, match="'band' or a 'health'"):
        assign_stages(pl.DataFrame({"customer": [True]}))
    with pytest.raises(InvalidValue) as err:
        assign_stages(pl.DataFrame({"band": ["red", "purple", "blue"]}))
    assert err.value.field == "band" and err.value.value == ["purple", "blue"]
    with pytest.raises(InvalidValue, match="string"):
        assign_stages(pl.DataFrame({"band": [1, 2]}))
    with pytest.raises(InvalidValue, match="boolean"):
        assign_stages(pl.DataFrame({"band": ["red"], "customer": ["yes"]}))
    with pytest.raises(InvalidValue, match="numeric"):
        assign_stages(pl.DataFrame({"health": ["high"]}))
    with pytest.raises(InvalidValue) as err:
        assign_stages(pl.DataFrame({"health": [50.0, float("nan")]}))
    assert err.value.field == "health"
    with pytest.raises(InvalidValue) as err:
        assign_stages(pl.DataFrame({"band": ["red"], "green_streak": [-1]}))
    assert err.value.field == "green_streak"
    with pytest.raises(InvalidValue):
        assign_stages({"band": ["red"]})  # type: ignore[call-overload]
    with pytest.raises(InvalidValue):
        assign_stages(pl.DataFrame({"band": ["red"]}), "STARS")  # type: ignore[arg-type]
    custom = STARS.evolve(diagnoser=lambda ev, policy: ("seed", ()))
    with pytest.raises(InvalidDefinition):
        assign_stages(pl.DataFrame({"band": ["red"]}), custom)


# --------------------------------------------------------------------------- to_frame
def _book() -> Portfolio:
    t = T0
    a = STARS.replay(
        "acme",
        [
            Event("sign", t, forced=True, reason="import", actor="ops"),
            Event("escalate", t + timedelta(days=40), forced=True, reason="outage"),
            Event("restart", t + timedelta(days=70), forced=True, reason="plan"),
        ],
        name="Acme",
        owner="dana",
        tags=["segment:smb", "emea"],
        snapshots=[
            Snapshot(at=t, health=80.0, open_tickets=2, metrics={"logins": 12.0}),
            Snapshot(at=t + timedelta(days=40), health=20.0, critical_risk=True),
        ],
    )
    b = Account("globex", since=datetime(2024, 6, 1, 9, tzinfo=timezone(timedelta(hours=2))))
    return Portfolio([a, b])


@pytest.mark.parametrize("backend", ["polars", "pandas"])
def test_to_frame_kinds(backend: str) -> None:
    book = _book()
    frames = {
        kind: book.to_frame(kind, backend=backend)
        for kind in ("accounts", "history", "snapshots", "episodes")
    }  # type: ignore[arg-type]
    kind_type = pl.DataFrame if backend == "polars" else pd.DataFrame
    assert all(isinstance(f, kind_type) for f in frames.values())
    acc = (
        pl.DataFrame(frames["accounts"])
        if backend == "polars"
        else pl.from_pandas(frames["accounts"])
    )
    assert acc.get_column("id").to_list() == ["acme", "globex"]
    assert acc.get_column("tags").to_list()[0] == ["emea", "segment:smb"]
    assert acc.get_column("band").to_list() == ["red", None]
    assert acc.get_column("transitions").to_list() == [3, 0]
    since = acc.get_column("since").to_list()[1]
    assert since == datetime(2024, 6, 1, 7, tzinfo=UTC)
    assert len(frames["history"]) == 3
    assert len(frames["snapshots"]) == 2
    snaps = frames["snapshots"]
    assert list(snaps.columns)[-1] == "metric_logins"
    assert len(frames["episodes"]) == 1
    eps = frames["episodes"]
    if backend == "polars":
        assert eps.get_column("days").to_list() == [30.0]
        assert eps.get_column("stages").to_list() == [["tact"]]
        hist = frames["history"]
        assert hist.get_column("cycle").to_list() == ["growth", "crisis", "recovery"]
        assert hist.schema["at"] == pl.Datetime("us", "UTC")
    else:
        assert eps["outcome"].tolist() == ["recovered"]
        assert str(frames["history"]["at"].dtype) == "datetime64[us, UTC]"


def test_to_frame_errors_and_empty() -> None:
    with pytest.raises(InvalidValue):
        _book().to_frame("people")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        _book().to_frame(backend="spark")  # type: ignore[arg-type]
    empty = Portfolio().to_frame("history")
    assert empty.shape == (0, 9)
    assert empty.schema["forced"] == pl.Boolean


# --------------------------------------------------------------------------- evidence_frame
def test_evidence_frame_matches_per_account_diagnosis() -> None:
    t = T0
    accounts = [
        Account("new", snapshots=[Snapshot(at=t, health=85.0)]),
        Account(
            "sick",
            stage="ascend",
            since=t - timedelta(days=400),
            snapshots=[Snapshot(at=t, health=30.0)],
        ),
        Account(
            "steady",
            stage="ascend",
            since=t - timedelta(days=400),
            snapshots=[
                Snapshot(at=t + timedelta(days=i), health=90.0, success_metrics_agreed=True)
                for i in range(4)
            ],
        ),
        Account("gone", stage="churn"),
    ]
    book = Portfolio(accounts)
    for backend in ("polars", "pandas"):
        frame = book.evidence_frame(backend=backend)  # type: ignore[arg-type]
        assert list(frame.columns) == ["account_id", *EVIDENCE_COLUMNS]
        out = assign_stages(frame)
        got = list(out["stage"]) if backend == "pandas" else out.get_column("stage").to_list()
        got = [None if s is None or s != s else s for s in got]
        assert got == [STARS.diagnose(a).stage for a in accounts]
        assert got == ["prospect", "tact", "ascend", "churn"]
    early = book.evidence_frame(at=t + timedelta(days=1))
    assert early.get_column("green_streak").to_list()[2] == 2
    with pytest.raises(InvalidValue):
        book.evidence_frame(at=datetime(2025, 1, 1))


# --------------------------------------------------------------------------- from_frames
def _events() -> dict[str, list[Any]]:
    return {
        "account_id": ["b", "a", "a", "a", "b"],
        "trigger": ["sign", "escalate", "sign", "stabilize", "accelerate"],
        "at": [T0, T0 + timedelta(days=5), T0, T0 + timedelta(days=5), T0 + timedelta(days=9)],
        "actor": ["x", None, "y", None, None],
        "reason": ["r", "r", "r", "r", None],
        "forced": [True, True, True, True, False],
        "to": [None, None, None, None, None],
    }


@pytest.mark.parametrize("backend", ["polars", "pandas"])
def test_from_frames_sorts_groups_and_keeps_tie_order(backend: str) -> None:
    accounts = {
        "id": ["a", "b", "c"],
        "name": ["A", None, "C"],
        "owner": ["dana", None, "lee"],
        "tags": ["smb, emea", None, ""],
        "since": [None, None, T0],
    }
    acc = pl.DataFrame(accounts, schema_overrides={"since": pl.Datetime("us", "UTC")})
    ev = pl.DataFrame(_events())
    if backend == "pandas":
        acc, ev = acc.to_pandas(), ev.to_pandas()  # type: ignore[assignment]
    book = Portfolio.from_frames(acc, ev)
    assert list(book) == ["a", "b", "c"]
    a = book["a"]
    # the two day-5 events keep their table order: escalate, then stabilize
    assert [r.trigger for r in a.history] == ["sign", "escalate", "stabilize"]
    assert a.stage == "reset" and a.owner == "dana" and a.name == "A"
    assert a.tags == {"smb", "emea"}
    assert a.history[0].actor == "y" and a.history[1].actor is None
    assert a.history[0].at == T0 and a.history[0].at.tzinfo is UTC
    assert book["b"].stage == "accelerate" and book["b"].history[1].forced is False
    assert book["b"].name == "" and book["b"].owner is None
    assert book["c"].stage == "prospect" and book["c"].since == T0 and book["c"].tags == set()


def test_from_frames_round_trip_through_history_frame() -> None:
    book = _book()
    accounts = book.to_frame("accounts")
    rebuilt = Portfolio.from_frames(accounts, book.to_frame("history").rename({"dest": "to"}))
    for account_id in book:
        assert rebuilt[account_id].history == book[account_id].history
        assert rebuilt[account_id].tags == book[account_id].tags
        assert rebuilt[account_id].since == book[account_id].since


def test_from_frames_errors() -> None:
    ev = pl.DataFrame(_events())
    with pytest.raises(InvalidValue) as err:
        Portfolio.from_frames(pl.DataFrame({"id": ["a", "b", "a"]}), ev)
    assert err.value.field == "accounts.id" and err.value.value == "a"
    with pytest.raises(InvalidValue) as err:
        Portfolio.from_frames(pl.DataFrame({"id": ["a"]}), ev)
    assert err.value.field == "events.account_id" and err.value.value == ["b"]
    with pytest.raises(InvalidValue, match="account_id"):
        Portfolio.from_frames(pl.DataFrame({"id": ["a"]}), ev.drop("account_id"))
    with pytest.raises(InvalidValue, match="id"):
        Portfolio.from_frames(pl.DataFrame({"key": ["a"]}), ev)
    naive = ev.with_columns(pl.col("at").dt.replace_time_zone(None))
    with pytest.raises(InvalidValue) as err:
        Portfolio.from_frames(pl.DataFrame({"id": ["a", "b"]}), naive)
    assert err.value.field == "events.at"
    bad = pl.DataFrame({"account_id": ["a"], "trigger": ["sustain"], "at": [T0]})
    with pytest.raises(TransitionNotAllowed):
        Portfolio.from_frames(pl.DataFrame({"id": ["a"]}), bad)
    with pytest.raises(InvalidValue):
        Portfolio.from_frames(pl.DataFrame({"id": ["a"]}), bad, lifecycle="STARS")  # type: ignore[arg-type]


def test_from_frames_with_list_tags_and_destinations() -> None:
    acc = pl.DataFrame({"id": ["a"], "tags": [["x", "y"]]})
    ev = pl.DataFrame(
        {
            "account_id": ["a"] * 4,
            "trigger": ["sign", "accelerate", "stagnate", "realign"],
            "at": [T0 + timedelta(days=i) for i in range(4)],
            "to": [None, None, None, "accelerate"],
        }
    )
    a = Portfolio.from_frames(acc, ev)["a"]
    assert a.tags == {"x", "y"} and a.stage == "accelerate"
    nulls = pl.DataFrame({"id": ["a"], "since": [None]})
    assert Portfolio.from_frames(nulls, ev.head(1))["a"].since is None


def _replayed(frame: dict[str, list[Any]], account_id: str) -> Account:
    rows = sorted(
        (at, i)
        for i, (aid, at) in enumerate(zip(frame["account_id"], frame["at"], strict=True))
        if aid == account_id
    )
    return STARS.replay(
        account_id,
        [
            Event(
                frame["trigger"][i],
                at,
                actor=frame["actor"][i],
                reason=frame["reason"][i],
                forced=frame["forced"][i],
                to=frame["to"][i],
            )
            for at, i in rows
        ],
    )


def test_from_frames_builds_records_on_first_read_and_loses_nothing() -> None:
    import copy
    import pickle

    import attrs

    from stars import io

    acc, ev = pl.DataFrame({"id": ["a", "b", "c"]}), pl.DataFrame(_events())
    want = {k: _replayed(_events(), k) for k in ("a", "b")} | {"c": Account("c")}

    def fresh(account_id: str) -> Account:
        account = Portfolio.from_frames(acc, ev)[account_id]
        assert account.version == len(want[account_id].history)
        return account

    # The graph walk is done; the records are not built until something reads them.
    a = fresh("a")
    assert type(a._history).__name__ == "PendingHistory" and "history=3" in repr(a)
    assert a.stage_since == T0 + timedelta(days=5)  # read from the rows, still not built
    assert type(a._history).__name__ == "PendingHistory"
    assert a == want["a"]  # equality compares the records, built on the fly
    assert a.history == want["a"].history and type(a._history) is tuple
    assert a.history is a.history  # built once, then kept
    for account_id, account in want.items():
        assert fresh(account_id) == account
        assert pickle.loads(pickle.dumps(fresh(account_id))) == account
        assert copy.deepcopy(fresh(account_id)) == account
        assert copy.copy(fresh(account_id)) == account
        assert attrs.evolve(fresh(account_id)) == account
        assert io.loads(io.dumps(fresh(account_id))) == account
    # A shallow copy shares the pending rows; building them through one serves both.
    original = fresh("a")
    twin = copy.copy(original)
    assert original.history == want["a"].history
    assert type(twin._history).__name__ == "PendingHistory"
    assert twin.stage_since == want["a"].stage_since and twin.history is original.history
    # A lifecycle keeps appending to an account built from a frame.
    b = fresh("b")
    record = STARS.fire(b, "sustain", at=T0 + timedelta(days=30), force=True, reason="grew")
    assert b.history[:-1] == want["b"].history and b.history[-1] is record
    assert b.stage == "ascend" and b.version == 3
    with pytest.raises(OutOfOrder):
        STARS.fire(fresh("b"), "sustain", at=T0, force=True, reason="too early")


def test_from_frames_shares_one_datetime_per_repeated_time() -> None:
    days = [T0 + timedelta(days=d) for d in (0, 30, 60)]
    ids = [f"acct-{i}" for i in range(4)]
    ev = pl.DataFrame(
        {
            "account_id": [aid for aid in ids for _ in days],
            "trigger": ["sign", "escalate", "stabilize"] * len(ids),
            "at": days * len(ids),
        }
    )
    book = Portfolio.from_frames(pl.DataFrame({"id": ids}), ev)
    assert book[ids[1]].stage_since == days[-1]  # read from the shared times, unbuilt
    first, last = book[ids[0]].history, book[ids[-1]].history
    assert [r.at for r in first] == days and all(r.at.tzinfo is UTC for r in first)
    assert all(x.at is y.at for x, y in zip(first, last, strict=True))
    assert [a.stage for a in book.accounts()] == ["reset"] * len(ids)


def test_from_frames_refuses_bad_ids_and_columns() -> None:
    ev = pl.DataFrame(_events())
    cases: list[tuple[pl.DataFrame, pl.DataFrame, str]] = [
        (pl.DataFrame({"id": ["a", " ", "b"]}), ev, "accounts.id"),
        (pl.DataFrame({"id": ["a", None, "b"]}), ev, "accounts.id"),
        (pl.DataFrame({"id": [1, 2]}), ev, "accounts.id"),
        (pl.DataFrame({"id": ["a", "b"], "name": [1, 2]}), ev, "accounts.name"),
        (pl.DataFrame({"id": ["a", "b"], "owner": [1.5, 2.5]}), ev, "accounts.owner"),
        (pl.DataFrame({"id": ["a", "b"], "tags": [1, 2]}), ev, "accounts.tags"),
        (
            pl.DataFrame({"id": ["a", "b"]}),
            ev.with_columns(
                pl.when(pl.col("trigger") == "sign")
                .then(None)
                .otherwise(pl.col("account_id"))
                .alias("account_id")
            ),
            "events.account_id",
        ),
        (
            pl.DataFrame({"id": ["1", "2"]}),
            ev.with_columns(pl.lit(1).alias("account_id")),
            "events.account_id",
        ),
    ]
    cases.append(
        (pl.DataFrame({"id": ["a", "b"]}), ev.with_columns(trigger=pl.lit(3)), "events.trigger")
    )
    cases.append(
        (pl.DataFrame({"id": ["a", "b"]}), ev.with_columns(forced=pl.lit("yes")), "events.forced")
    )
    mixed = pd.DataFrame({"id": ["a", "b"], "tags": [["x"], 3]})
    cases.append((mixed, ev, "accounts.tags"))
    for accounts, events, field in cases:
        with pytest.raises(InvalidValue) as err:
            Portfolio.from_frames(accounts, events)
        assert err.value.field == field, (field, err.value)
    with pytest.raises(InvalidValue) as err:
        Portfolio.from_frames(pl.DataFrame({"id": ["a", "", "b"]}), ev)
    assert "row positions 1" in str(err.value)
    # Missing values are named with their row positions in the events table.
    no_trigger = ev.with_columns(
        pl.when(pl.col("actor") == "y").then(None).otherwise(pl.col("trigger")).alias("trigger")
    )
    no_reason = ev.with_columns(pl.lit(None, dtype=pl.String).alias("reason"))
    for events, field, row in ((no_trigger, "events.trigger", 2), (no_reason, "events.reason", 0)):
        with pytest.raises(InvalidValue) as err:
            Portfolio.from_frames(pl.DataFrame({"id": ["a", "b"]}), events)
        assert err.value.field == field and f"first at row positions {row}" in str(err.value)


# --------------------------------------------------------------------------- dask
@pytest.mark.slow
# narwhals silences this pandas 2 warning with warnings.catch_warnings, which is not thread-safe:
# with two worker threads one can restore the suite's "error" filter while the other is inside.
@pytest.mark.filterwarnings("ignore:The 'downcast' keyword:FutureWarning")
def test_score_and_assign_stages_on_a_dask_cluster() -> None:
    dask = pytest.importorskip("dask")
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    from stars.frames import score
    from stars.health import default_scorecard

    n = 400
    frame = pd.DataFrame(
        {
            "account_id": [f"a{i}" for i in range(n)],
            "adoption": [(i % 10) / 10 for i in range(n)],
            "open_tickets": [float(i % 7) for i in range(n)],
            "days_since_contact": [float(i % 60) for i in range(n)],
            "nps": [float((i * 7) % 200 - 100) for i in range(n)],
            "csat": [float((i * 3) % 100) for i in range(n)],
            "sentiment": [((i % 21) - 10) / 10 for i in range(n)],
            "slope": [float((i % 13) - 6) for i in range(n)],
            "green_streak": [i % 5 for i in range(n)],
            "tenure_days": [float(i) for i in range(n)],
            "customer": [i % 11 != 0 for i in range(n)],
            "success_metrics_agreed": [i % 3 != 0 for i in range(n)],
            "expansion_open": [i % 4 == 0 for i in range(n)],
            "critical_risk": [i % 17 == 0 for i in range(n)],
            "churned": [i % 29 == 0 for i in range(n)],
        }
    )
    card = default_scorecard()

    def pipeline(part: pd.DataFrame) -> pd.DataFrame:
        return assign_stages(score(part, card))

    expected = pipeline(frame)
    with (
        dask.config.set({"dataframe.convert-string": False}),  # keep pandas' own dtypes
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        ddf = dd.from_pandas(frame, npartitions=4)
        assert ddf.npartitions >= 2
        result = ddf.map_partitions(pipeline, meta=expected.iloc[:0]).compute()
        assert client.status == "running"
    pd.testing.assert_frame_equal(result, expected)
    assert set(expected["stage"]) >= {"tact", "reset", "prospect", "churn"}
