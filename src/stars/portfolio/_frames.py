"""Portfolio tables: a portfolio as DataFrames, and a portfolio built from DataFrames.

Behind `Portfolio.to_frame`, `Portfolio.evidence_frame` and `Portfolio.from_frames`;
narwhals is imported when a function runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from stars import _validate as v
from stars._pending import EventColumns, PendingHistory, utc_from_micros
from stars._tables import (
    SHOWN,
    eager,
    free_name,
    is_type_or_all_null,
    raise_bad_rows,
    require_narwhals,
)
from stars.account import Account
from stars.errors import InvalidValue, MissingDependency
from stars.frames import EVIDENCE_COLUMNS
from stars.lifecycle import Lifecycle, evidence
from stars.portfolio._episode_stats import episodes

if TYPE_CHECKING:
    import narwhals.stable.v1 as nw

#: The evidence columns that are flags (their default is False), written as booleans.
_EVIDENCE_FLAGS: Final = tuple(
    name for name, default in EVIDENCE_COLUMNS.items() if isinstance(default, bool)
)

_FRAME_KINDS: Final = ("accounts", "history", "snapshots", "episodes", "owners")
_SNAPSHOT_NUMBERS: Final = (
    "health",
    "adoption",
    "nps",
    "csat",
    "open_tickets",
    "days_since_contact",
    "sentiment",
)
_SNAPSHOT_FLAGS: Final = (
    "contract_signed",
    "success_metrics_agreed",
    "expansion_open",
    "champion_engaged",
    "reonboarding_agreed",
    "new_business_unit",
    "critical_risk",
)


def _backend(backend: object) -> Literal["polars", "pandas"]:
    from importlib.util import find_spec

    if backend == "polars":
        if find_spec("polars") is None:  # pragma: no cover - polars is installed in the tests
            raise MissingDependency("polars", "frames")
        return "polars"
    if backend == "pandas":
        if find_spec("pandas") is None:  # pragma: no cover - pandas is installed in the tests
            raise MissingDependency("pandas", "pandas")
        return "pandas"
    raise InvalidValue("backend", backend, "'polars' or 'pandas'")


def _utc(at: datetime | None) -> datetime | None:
    return None if at is None else at.astimezone(UTC)


def _build(
    columns: Mapping[str, list[Any]], types: Mapping[str, str], backend: Literal["polars", "pandas"]
) -> Any:
    import narwhals.stable.v1 as nw

    dtypes = {
        "str": nw.String(),
        "float": nw.Float64(),
        "int": nw.Int64(),
        "bool": nw.Boolean(),
        "time": nw.Datetime("us", "UTC"),
        "strs": nw.List(nw.String()),
    }
    schema = {name: dtypes[types[name]] for name in columns}
    native = nw.from_dict(dict(columns), schema=schema, backend=backend).to_native()
    if backend == "pandas":
        _keep_missing_text(native, columns, types)
    return native


def _keep_missing_text(
    native: Any, columns: Mapping[str, list[Any]], types: Mapping[str, str]
) -> None:
    """On pandas 2, put back the missing values a cast to text turned into the word 'None'.

    pandas 2 has no text type with a missing value by default: narwhals casts such a column
    with ``astype(str)``, which writes ``None`` as ``'None'``. pandas 3's ``str`` type keeps
    them missing, so there is nothing to do.
    """
    import pandas as pd

    if int(pd.__version__.split(".")[0]) >= 3:
        return
    for name, values in columns.items():
        if types[name] == "str" and any(value is None for value in values):
            native[name] = pd.Series(values, dtype=object, index=native.index)


def portfolio_frame(
    accounts: Sequence[Account], lifecycle: Lifecycle, kind: str, backend: str
) -> Any:
    """One table of a portfolio, built column by column (see `Portfolio.to_frame`)."""
    require_narwhals()
    if kind not in _FRAME_KINDS:
        raise InvalidValue("kind", kind, "one of " + ", ".join(map(repr, _FRAME_KINDS)))
    native = _backend(backend)
    cols: dict[str, list[Any]]
    types: dict[str, str]
    if kind == "accounts":
        policy = lifecycle.policy
        latest = [a.latest for a in accounts]
        bands = [policy.band_of(s) for s in latest]
        cols = {
            "id": [a.id for a in accounts],
            "name": [a.name for a in accounts],
            "owner": [a.owner for a in accounts],
            "tags": [sorted(a.tags) for a in accounts],
            "since": [_utc(a.since) for a in accounts],
            "stage": [a.stage for a in accounts],
            "stage_since": [_utc(a.stage_since) for a in accounts],
            "health": [s.health if s is not None else None for s in latest],
            "band": [b.value if b is not None else None for b in bands],
            "snapshots": [len(a.snapshots) for a in accounts],
            "transitions": [len(a.history) for a in accounts],
            "version": [a.version for a in accounts],
        }
        types = dict.fromkeys(cols, "str")
        types.update(
            tags="strs",
            since="time",
            stage_since="time",
            health="float",
            snapshots="int",
            transitions="int",
            version="int",
        )
    elif kind == "history":
        pairs = [(a.id, r) for a in accounts for r in a.history]
        cols = {
            "account_id": [i for i, _ in pairs],
            "trigger": [r.trigger for _, r in pairs],
            "source": [r.source for _, r in pairs],
            "dest": [r.dest for _, r in pairs],
            "cycle": [r.cycle.value for _, r in pairs],
            "at": [_utc(r.at) for _, r in pairs],
            "actor": [r.actor for _, r in pairs],
            "reason": [r.reason for _, r in pairs],
            "forced": [r.forced for _, r in pairs],
        }
        types = dict.fromkeys(cols, "str")
        types.update(at="time", forced="bool")
    elif kind == "snapshots":
        snaps = [(a.id, s) for a in accounts for s in a.snapshots]
        metrics = sorted({m for _, s in snaps for m in s.metrics})
        cols = {
            "account_id": [i for i, _ in snaps],
            "at": [_utc(s.at) for _, s in snaps],
            "band": [s.band.value if s.band is not None else None for _, s in snaps],
        }
        types = {"account_id": "str", "at": "time", "band": "str"}
        for name in _SNAPSHOT_NUMBERS:
            cols[name] = [getattr(s, name) for _, s in snaps]
            types[name] = "float"
        for name in _SNAPSHOT_FLAGS:
            cols[name] = [getattr(s, name) for _, s in snaps]
            types[name] = "bool"
        for name in metrics:
            cols["metric_" + name] = [s.metrics.get(name) for _, s in snaps]
            types["metric_" + name] = "float"
    elif kind == "owners":
        changes = [(a.id, c) for a in accounts for c in a.owners]
        cols = {
            "account_id": [i for i, _ in changes],
            "at": [_utc(c.at) for _, c in changes],
            "owner": [c.owner for _, c in changes],
            "previous": [c.previous for _, c in changes],
            "by": [c.by for _, c in changes],
            "reason": [c.reason for _, c in changes],
        }
        types = dict.fromkeys(cols, "str")
        types["at"] = "time"
    else:
        eps = episodes(accounts, lifecycle, timedelta(days=90))
        cols = {
            "account_id": [e.account_id for e in eps],
            "opened_at": [_utc(e.opened_at) for e in eps],
            "closed_at": [_utc(e.closed_at) for e in eps],
            "outcome": [e.outcome.value for e in eps],
            "left": [e.left for e in eps],
            "stages": [list(e.stages) for e in eps],
            "returned_to": [e.returned_to for e in eps],
            "relapse": [e.relapse for e in eps],
            "days": [
                e.duration.total_seconds() / 86400.0 if e.duration is not None else None
                for e in eps
            ],
        }
        types = dict.fromkeys(cols, "str")
        types.update(
            opened_at="time", closed_at="time", stages="strs", relapse="bool", days="float"
        )
    return _build(cols, types, native)


def evidence_frame(
    accounts: Sequence[Account], lifecycle: Lifecycle, at: datetime | None, backend: str
) -> Any:
    """The evidence of every account, one row each, in `assign_stages`' column names."""
    require_narwhals()
    native = _backend(backend)
    if at is not None:
        at = v.aware("at", at)
    rows = [evidence(a, at, lifecycle.policy, lifecycle.kind_of) for a in accounts]
    cols: dict[str, list[Any]] = {"account_id": [a.id for a in accounts]}
    types: dict[str, str] = {"account_id": "str"}
    for name in EVIDENCE_COLUMNS:
        if name == "band":
            cols[name] = [e.band.value if e.band is not None else None for e in rows]
            types[name] = "str"
        elif name == "green_streak":
            cols[name] = [e.green_streak for e in rows]
            types[name] = "int"
        elif name in _EVIDENCE_FLAGS:
            cols[name] = [getattr(e, name) for e in rows]
            types[name] = "bool"
        else:
            cols[name] = [getattr(e, name) for e in rows]
            types[name] = "float"
    return _build(cols, types, native)


def _text_list(series: Any) -> list[Any]:
    values = series.to_list()
    if series.implementation.is_pandas_like():
        # pandas writes a missing string as NaN; every missing value becomes None.
        return [None if x is None or x != x else x for x in values]
    return values  # type: ignore[no-any-return]


def _timestamps(df: nw.DataFrame[Any], name: str, table: str) -> nw.Series[Any] | None:
    """A timezone-aware datetime column as microseconds since the epoch.

    Returns ``None`` for a column that holds no value at all (an all-null column of no type).
    """
    import narwhals.stable.v1 as nw

    dtype = df.schema[name]
    if not isinstance(dtype, nw.Datetime) or dtype.time_zone is None:
        if is_type_or_all_null(df, name, nw.Unknown):
            return None
        raise InvalidValue(
            f"{table}.{name}",
            str(dtype),
            "a timezone-aware datetime column",
            hint="convert it, e.g. with .dt.replace_time_zone('UTC') in polars",
        )
    return df.get_column(name).dt.timestamp("us")


def _micros_list(series: nw.Series[Any]) -> list[int | None]:
    """A `_timestamps` column as Python ints (None for nulls)."""
    micros: list[Any] = series.to_list()
    if series.implementation.is_pandas_like():
        # pandas gives NaN for a missing time and may give floats for the rest.
        return [None if m is None or m != m else int(m) for m in micros]
    return micros


def _utc_list(df: nw.DataFrame[Any], name: str, table: str) -> list[datetime | None]:
    """A timezone-aware datetime column as Python datetimes in UTC (None for nulls)."""
    series = _timestamps(df, name, table)
    if series is None:
        return [None] * len(df)
    return [None if m is None else utc_from_micros(m) for m in _micros_list(series)]


def _need(df: nw.DataFrame[Any], table: str, names: Sequence[str]) -> None:
    absent = [n for n in names if n not in df.schema]
    if absent:
        raise InvalidValue(f"{table}", absent, "columns " + ", ".join(map(repr, names)))


def _text_column(df: nw.DataFrame[Any], table: str, name: str) -> list[Any]:
    """A text column as a list (None for missing values), refusing any other type."""
    import narwhals.stable.v1 as nw

    if not is_type_or_all_null(df, name, nw.String):
        raise InvalidValue(f"{table}.{name}", str(df.schema[name]), "a text column")
    return _text_list(df.get_column(name))


def _tag_items(value: object) -> Iterable[Any]:
    """One row's tags: a list, comma-separated text, or nothing."""
    if value is None or (isinstance(value, float) and value != value):
        return ()
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    if isinstance(value, Iterable):
        return list(value)
    raise InvalidValue("accounts.tags", value, "a list of tags or comma-separated text")


def _account_columns(acc: nw.DataFrame[Any]) -> list[tuple[Any, ...]]:
    """Each accounts-table row as (id, name, owner, tags, since), checked."""
    import narwhals.stable.v1 as nw

    from stars._accounts import _tags

    n = len(acc)
    schema = acc.schema
    ids = _text_column(acc, "accounts", "id")
    blank = [i for i, x in enumerate(ids) if x is None or not x.strip()]
    if blank:
        raise InvalidValue(
            "accounts.id",
            ids[blank[0]],
            "a non-empty id on every row",
            hint=f"{len(blank)} rows without one; first at row positions "
            + ", ".join(map(str, blank[:SHOWN])),
        )
    names = _text_column(acc, "accounts", "name") if "name" in schema else [None] * n
    owners = _text_column(acc, "accounts", "owner") if "owner" in schema else [None] * n
    since: list[datetime | None] = (
        _utc_list(acc, "since", "accounts") if "since" in schema else [None] * n
    )
    tags: list[frozenset[str]]
    if "tags" not in schema:
        tags = [_tags(())] * n
    elif isinstance(schema["tags"], nw.List | nw.Object) or schema["tags"] == nw.String:
        # a list column, comma-separated text, or (pandas) an object column of either
        tags = [_tags(_tag_items(t)) for t in acc.get_column("tags").to_list()]
    else:
        raise InvalidValue(
            "accounts.tags", str(schema["tags"]), "a list column or comma-separated text"
        )
    return [
        (ids[k], names[k] if names[k] is not None else "", owners[k], tags[k], since[k])
        for k in range(n)
    ]


def accounts_from_frames(accounts: object, events: object, lifecycle: Lifecycle) -> list[Account]:
    """Build accounts from an accounts table and an events table (see `Portfolio.from_frames`).

    One sort puts each account's events together in time order; each account's rows are
    walked through the graph (so a bad event fails the whole build, before any account is
    returned), and the records themselves are built from the shared columns on first read
    of ``Account.history``.
    """
    require_narwhals()
    import narwhals.stable.v1 as nw

    from stars._accounts import _account_unchecked

    if not isinstance(lifecycle, Lifecycle):
        raise InvalidValue("lifecycle", lifecycle, "a Lifecycle")
    acc, _ = eager(accounts)
    ev, _ = eager(events)
    _need(acc, "accounts", ["id"])
    _need(ev, "events", ["account_id", "trigger", "at"])
    rows = _account_columns(acc)
    known: set[str] = set()
    for row in rows:
        if row[0] in known:
            raise InvalidValue(
                "accounts.id", row[0], "unique account ids", hint="the id appears twice"
            )
        known.add(row[0])
    _check_event_columns(ev)  # before sorting, so bad rows are named by their place in the table
    order = free_name(ev.columns, "__stars_row__")
    ev = ev.with_row_index(order).sort("account_id", "at", order)
    n_ev = len(ev)
    # Each account's rows are contiguous after the sort: its span is (first, last + 1).
    spans = {
        account_id: (lo, hi + 1)
        for account_id, lo, hi in ev.select(nw.col("account_id"))
        .with_row_index(order)
        .group_by("account_id")
        .agg(nw.col(order).min().alias("lo"), nw.col(order).max().alias("hi"))
        .iter_rows()
    }
    stray = [k for k in spans if k not in known]
    if stray:
        raise InvalidValue("events.account_id", sorted(stray)[:5], "ids from the accounts table")
    triggers = _text_list(ev.get_column("trigger"))
    at = _timestamps(ev, "at", "events")
    assert at is not None  # a column of no type holds only nulls, refused by the checks
    micros = cast("list[int]", _micros_list(at))  # and so is any null time
    none: list[None] = [None] * n_ev
    actors = _text_list(ev.get_column("actor")) if "actor" in ev.schema else none
    reasons = _text_list(ev.get_column("reason")) if "reason" in ev.schema else none
    tos = _text_list(ev.get_column("to")) if "to" in ev.schema else none
    forced = (
        ev.get_column("forced").fill_null(False).to_list()
        if "forced" in ev.schema
        else [False] * n_ev
    )
    # Event tables often repeat times (dates, batch imports): then one datetime per value.
    times: dict[int, datetime] | None = None
    distinct = at.unique().to_list() if n_ev else []
    if len(distinct) * 4 <= n_ev:
        times = {m: utc_from_micros(m) for m in distinct}
    steps: list[Any] = [None] * n_ev
    columns = EventColumns(triggers, micros, actors, reasons, forced, steps, times)
    walk = lifecycle._walk_rows
    initial = lifecycle.initial
    built: list[Account] = []
    for account_id, name, owner, tags, since in rows:
        span = spans.get(account_id)
        if span is None:
            built.append(_account_unchecked(account_id, name, owner, tags, since, initial, (), 0))
            continue
        lo, hi = span
        stage = walk(account_id, triggers, tos, steps, lo, hi)
        history = PendingHistory(columns, lo, hi, initial)
        built.append(
            _account_unchecked(account_id, name, owner, tags, since, stage, history, hi - lo)
        )
    return built


def _check_event_columns(ev: nw.DataFrame[Any]) -> None:
    """Check every event column's type and the row rules once, before the replay loop."""
    import narwhals.stable.v1 as nw

    schema = ev.schema
    for name in ("trigger", "actor", "reason", "to"):
        if name in schema and not is_type_or_all_null(ev, name, nw.String):
            raise InvalidValue(f"events.{name}", str(schema[name]), "a text column")
    if "forced" in schema and not is_type_or_all_null(ev, "forced", nw.Boolean):
        raise InvalidValue("events.forced", str(schema["forced"]), "a boolean column")
    if not is_type_or_all_null(ev, "account_id", nw.String):
        raise InvalidValue("events.account_id", str(schema["account_id"]), "a text column")
    checks: list[tuple[str, nw.Expr, str]] = [
        ("events.account_id", nw.col("account_id").is_null(), "an account id on every row"),
        ("events.trigger", nw.col("trigger").is_null(), "a trigger name on every row"),
        ("events.at", nw.col("at").is_null(), "a time on every row"),
    ]
    if "forced" in schema and schema["forced"] == nw.Boolean:
        reason = (
            nw.col("reason").cast(nw.String).str.strip_chars()
            if "reason" in schema and schema["reason"] == nw.String
            else nw.lit(None, dtype=nw.String)
        )
        blank = reason.is_null() | (reason == "")
        checks.append(
            ("events.reason", nw.col("forced").fill_null(False) & blank, "a reason on forced rows")
        )
    counts = ev.select(*(m.sum().alias(f"c{i}") for i, (_, m, _) in enumerate(checks))).row(0)
    for (field, mask, expected), count in zip(checks, counts, strict=True):
        if count:
            raise_bad_rows(ev, field, mask, expected, "missing", int(count))
