"""The batch form of the derive rule, over DataFrames (private; see `stars.derive`).

`stars.derive.derive_events` walks one account's facts; this module runs the same rule over
a frame of facts for many accounts at once. It works in polars (imported when a function
runs, never at ``import stars``); pandas and pyarrow frames are converted once in and out.

How it is computed, and why it gives what the one-at-a-time walk gives:

1. The facts are checked, sorted by account and time (skipped when they already are), and
   turned into the evidence each row carries on its own, with column expressions only:
   carried flags (a forward fill that starts again at each account), the band, the green
   streak (a running count that starts again at every row that is not green), and the
   trend (the arithmetic of ``stars._trend``, term for term and in its order, over the
   policy's last health readings).
2. What depends on the path the account took (its stage, when it entered it, when it
   signed, the move the evidence has pointed to and for how many readings) is a small
   state per account. The walk takes the k-th fact of every account at once: one
   vectorised step per position (36 steps for three years of monthly facts), never a
   Python loop over rows.

polars divides a column by a constant by multiplying with the constant's reciprocal, which
can differ from Python's division in the last bit (and a tenure or a trend then lands on the
other side of a threshold). Dividing by a column that holds the constant gives the correctly
rounded quotient Python computes, so the constants are columns here (``__us__``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from stars._trend import added_in_order
from stars.derive._scalar import (
    _WHY_ANNOUNCED,
    _WHY_CRITICAL,
    _WHY_EXPANSION,
    _WHY_FALLING,
    _WHY_GREEN,
    _WHY_NOT_RED,
    _WHY_RED,
    _WHY_SETTLED,
    _WHY_STREAK,
    _WHY_YELLOW,
    CONTRACT_KINDS,
    DeriveRule,
    _check_lifecycle,
    _check_rule,
)
from stars.errors import InvalidValue, MissingDependency
from stars.lifecycle import STARS, Lifecycle

if TYPE_CHECKING:
    import polars as pl

    from stars.portfolio import Portfolio

# Stage codes in the walk.
_STAGES: Final = ("prospect", "seed", "accelerate", "ascend", "reset", "tact", "churn")
_PROSPECT, _SEED, _ACCELERATE, _ASCEND, _RESET, _TACT, _CHURN = range(7)
_NO_TARGET: Final = -1
_GREEN_OK: Final = 7  # green with metrics agreed: ASCEND or ACCELERATE, by tenure

# Move codes: (trigger, destination, rule). Code 2 is win_back then sign; 14 is that sign.
_MOVES: Final = {
    1: ("sign", _SEED, "contract_signed"),
    2: ("win_back", _PROSPECT, "contract_won_back"),
    3: ("lose", _CHURN, "contract_ended"),
    4: ("restart", _SEED, "reonboarding_agreed"),
    5: ("reseed", _SEED, "new_business_unit"),
    6: ("accelerate", _ACCELERATE, "evidence"),
    7: ("sustain", _ASCEND, "evidence"),
    8: ("expand", _ACCELERATE, "evidence"),
    9: ("stagnate", _RESET, "evidence"),
    10: ("escalate", _TACT, "evidence"),
    11: ("realign", _ASCEND, "evidence"),
    12: ("realign", _ACCELERATE, "evidence"),
    13: ("stabilize", _RESET, "evidence"),
    14: ("sign", _SEED, "contract_signed"),
}
_WIN_BACK: Final = 2
_SIGN_AFTER_WIN_BACK: Final = 14
# The reason of the evidence moves whose words do not depend on the row.
_FIXED_WHY: Final = {
    6: _WHY_GREEN,
    7: _WHY_SETTLED,
    8: _WHY_EXPANSION,
    11: _WHY_SETTLED,
    12: _WHY_STREAK,
    13: _WHY_NOT_RED,
}

_FLAGS: Final = (
    "contract_signed",
    "success_metrics_agreed",
    "expansion_open",
    "critical_risk",
    "reonboarding_agreed",
    "new_business_unit",
)
_BANDS: Final = ("red", "yellow", "green")
_SHOWN: Final = 5

# The columns the walk reads, per fact.
_STEP_INPUTS: Final = (
    "i",
    "at_us",
    "signed",
    "band",
    "streak",
    "expansion",
    "reonb",
    "new_unit",
    "target",
    "has_next",
    "__us__",
    "__day__",
)


def _require() -> None:
    """Import narwhals and polars, or say which extra to install."""
    try:
        import narwhals.stable.v1  # noqa: F401
    except ImportError:  # pragma: no cover - installed in the test environment
        raise MissingDependency("narwhals", "frames") from None
    try:
        import polars  # noqa: F401
    except ImportError:  # pragma: no cover - installed in the test environment
        raise MissingDependency("polars", "frames") from None


def _to_polars(frame: object) -> tuple[pl.DataFrame, Callable[[pl.DataFrame], Any]]:
    """The frame as polars, and a function that turns a polars result back into its kind."""
    _require()
    import narwhals.stable.v1 as nw
    import polars as pl

    from stars._tables import eager, to_caller

    if isinstance(frame, pl.DataFrame):
        return frame, lambda out: out
    df, _ = eager(frame)
    impl = df.implementation

    def back(out: pl.DataFrame) -> Any:
        result: nw.DataFrame[Any] = (
            nw.from_native(out, eager_only=True)
            if impl is nw.Implementation.POLARS
            else nw.from_arrow(out.to_arrow(), backend=impl)
        )
        return to_caller(result, frame)

    return df.to_polars(), back


# --------------------------------------------------------------------------- checks
def _raise_rows(df: pl.DataFrame, field: str, mask: pl.Expr, expected: str, count: int) -> None:
    """Raise for the rows where ``mask`` holds, naming the first few by their position."""
    shown = df.with_row_index("__row__").filter(mask.fill_null(False)).head(_SHOWN)
    rows = ", ".join(str(i) for i in shown["__row__"].to_list())
    plural = "row" if count == 1 else "rows"
    raise InvalidValue(
        f"facts.{field}",
        shown[field].to_list(),
        expected,
        hint=f"{count} bad {plural}; first at row positions {rows}",
    )


def _blank(df: pl.DataFrame, name: str) -> bool:
    """Whether a column holds no value at all (of any type, as an empty CSV column reads)."""
    return df[name].null_count() == len(df)


def _of_type(df: pl.DataFrame, name: str, *kinds: Any) -> bool:
    dtype = df.schema[name]
    return any(dtype == k for k in kinds) or _blank(df, name)


def _check(df: pl.DataFrame) -> None:
    """Refuse a frame of facts that the rule cannot read, naming the column and rows."""
    import polars as pl

    schema = df.schema
    absent = [n for n in ("account_id", "at") if n not in schema]
    if absent:
        raise InvalidValue(
            "facts", absent, "columns 'account_id' and 'at'", hint="one row per account and time"
        )
    text = (pl.String, pl.Categorical)
    for name in ("account_id", "band", "contract"):
        if name in schema and not (_of_type(df, name, *text) or isinstance(schema[name], pl.Enum)):
            raise InvalidValue(f"facts.{name}", str(schema[name]), "a text column")
    at = schema["at"]
    if not isinstance(at, pl.Datetime) or at.time_zone is None:
        raise InvalidValue(
            "facts.at",
            str(at),
            "a timezone-aware datetime column",
            hint="convert it, e.g. with .dt.replace_time_zone('UTC') in polars",
        )
    if "health" in schema and not (schema["health"].is_numeric() or _blank(df, "health")):
        raise InvalidValue("facts.health", str(schema["health"]), "a numeric column")
    for name in _FLAGS:
        if name in schema and not _of_type(df, name, pl.Boolean):
            raise InvalidValue(f"facts.{name}", str(schema[name]), "a boolean column")
    checks: list[tuple[str, pl.Expr, str]] = [
        ("account_id", pl.col("account_id").is_null(), "an account id on every row"),
        ("at", pl.col("at").is_null(), "a time on every row"),
    ]
    present = [n for n in schema if not _blank(df, n)]
    if "health" in present:
        h = pl.col("health").cast(pl.Float64)
        inside = h.is_finite() & (h >= 0) & (h <= 100)
        checks.append(("health", ~inside, "a number from 0 to 100"))
    if "band" in present:
        band = pl.col("band").cast(pl.String)
        checks.append(("band", ~band.is_in(_BANDS), "'red', 'yellow', 'green' or null"))
    if "contract" in present:
        contract = pl.col("contract").cast(pl.String)
        expected = "'start', 'renewal', 'end' or null"
        checks.append(("contract", ~contract.is_in(CONTRACT_KINDS), expected))
        if "contract_signed" in present:
            clash = pl.col("contract_signed") != (contract != "end")
            expected = "no clash with the row's contract fact (False with 'end', else True)"
            checks.append(("contract_signed", clash, expected))
    counts = df.select(
        *(m.fill_null(False).sum().alias(f"c{i}") for i, (_, m, _) in enumerate(checks))
    ).row(0)
    for (field, mask, expected), count in zip(checks, counts, strict=True):
        if count:
            _raise_rows(df, field, mask, expected, int(count))


# --------------------------------------------------------------------------- evidence per row
def _column(df: pl.DataFrame, name: str, dtype: Any) -> pl.Expr:
    import polars as pl

    if name in df.schema and not _blank(df, name):
        return pl.col(name).cast(dtype)
    return pl.lit(None, dtype=dtype)


def _rows(df: pl.DataFrame, lifecycle: Lifecycle) -> pl.DataFrame:
    """One row per fact, sorted by account and time, with the evidence each row carries."""
    import polars as pl

    cut = lifecycle.policy.bands
    health = _column(df, "health", pl.Float64)
    given = _column(df, "band", pl.String)
    band = (
        pl.when(given.is_not_null())
        .then(given.replace_strict(list(_BANDS), [0, 1, 2], return_dtype=pl.Int8))
        .when(health < cut.red_below)
        .then(pl.lit(0, pl.Int8))
        .when(health >= cut.green_from)
        .then(pl.lit(2, pl.Int8))
        .when(health.is_not_null())
        .then(pl.lit(1, pl.Int8))
    )
    contract = _column(df, "contract", pl.String)
    signed = (
        pl.when(contract.is_not_null())
        .then(contract != "end")
        .otherwise(_column(df, "contract_signed", pl.Boolean))
    )
    acc, at = pl.col("account_id"), pl.col("at_us")
    keys = df.lazy().select(
        pl.col("account_id").cast(pl.String), pl.col("at").dt.timestamp("us").alias("at_us")
    )
    in_order = (
        keys.select(
            ((acc > acc.shift()) | ((acc == acc.shift()) & (at > at.shift()))).fill_null(True).all()
        )
        .collect()
        .item()
    )
    base = df.lazy().select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("row"),
        pl.col("account_id").cast(pl.String),
        pl.col("at").dt.timestamp("us").alias("at_us"),
        health.alias("health"),
        band.alias("band"),
        signed.alias("signed"),
        _column(df, "success_metrics_agreed", pl.Boolean).alias("metrics"),
        _column(df, "expansion_open", pl.Boolean).alias("expansion"),
        _column(df, "critical_risk", pl.Boolean).alias("critical"),
        _column(df, "reonboarding_agreed", pl.Boolean).fill_null(False).alias("reonb"),
        _column(df, "new_business_unit", pl.Boolean).fill_null(False).alias("new_unit"),
    )
    if not in_order:
        base = base.sort("account_id", "at_us", maintain_order=True)
    rows = base.with_columns((acc != acc.shift()).fill_null(True).alias("first")).collect()
    if not in_order:
        same = ~pl.col("first") & (at == at.shift())
        dup = rows.filter(same.fill_null(False))
        if len(dup):
            one = dup.row(0, named=True)
            raise InvalidValue(
                "facts.at",
                one["at_us"],
                "one row per account and time",
                hint=f"{len(dup)} repeated; the first for account {one['account_id']!r}"
                f" at row position {one['row']} (microseconds since 1970 in UTC)",
            )
    n = len(rows)
    rows = rows.with_columns(
        pl.repeat(1e6, n, eager=True, dtype=pl.Float64).alias("__us__"),
        pl.repeat(86400.0, n, eager=True, dtype=pl.Float64).alias("__day__"),
        pl.repeat(30 * 86400.0, n, eager=True, dtype=pl.Float64).alias("__month__"),
    )
    return _evidence(rows, lifecycle)


def _evidence(rows: pl.DataFrame, lifecycle: Lifecycle) -> pl.DataFrame:
    """Carried flags, green streak, position in the account, trend and diagnosis per row."""
    import polars as pl

    first = pl.col("first")
    idx = pl.int_range(pl.len(), dtype=pl.Int64)

    def carried(name: str) -> pl.Expr:
        # A forward fill that starts again at each account's first row (-1: nothing said).
        col = pl.col(name).cast(pl.Int8)
        marked = pl.when(col.is_not_null()).then(col).when(first).then(pl.lit(-1, pl.Int8))
        filled = marked.forward_fill()
        return pl.when(filled >= 0).then(filled == 1)

    green = (pl.col("band") == 2).fill_null(False)
    greens = green.cast(pl.Int32).cum_sum()
    # The running count of greens where the current run started (a row that is not green,
    # or the account's first row).
    base = pl.when(~green).then(greens).when(first).then(greens - green.cast(pl.Int32))
    start = pl.when(first).then(idx).forward_fill()
    out = (
        rows.lazy()
        .with_columns(
            carried("signed").alias("signed"),
            carried("metrics").alias("metrics"),
            carried("expansion").alias("expansion"),
            carried("critical").alias("critical"),
            (greens - base.forward_fill()).alias("streak"),
            (idx - start).alias("pos"),
            idx.alias("i"),
        )
        .with_columns(first.shift(-1).fill_null(True).not_().alias("has_next"))
        .collect()
    )
    out = out.with_columns(_slopes(out, lifecycle))
    return out.with_columns(_target(lifecycle).alias("target"))


def _slopes(rows: pl.DataFrame, lifecycle: Lifecycle) -> pl.Series:
    """The trend at each row: the slope of the account's last ``trend_window`` readings.

    The arithmetic is `stars._trend.slope_per_30_days`'s, term for term and in its order,
    for each number of readings from 2 to the window (an account's first readings have
    fewer). A row without a reading has the trend of the account's latest reading (none
    before the first).
    """
    import polars as pl

    window = lifecycle.policy.trend_window
    if window < 2:
        return pl.repeat(None, len(rows), eager=True, dtype=pl.Float64).alias("slope")
    gaps = rows["health"].null_count()
    readings = rows.lazy().select("first", "at_us", "health", "__us__", "__month__")
    if gaps:
        readings = (
            readings.with_row_index("j")
            .with_columns(pl.col("first").cast(pl.Int32).cum_sum().alias("acc"))
            .filter(pl.col("health").is_not_null())
            .with_columns((pl.col("acc") != pl.col("acc").shift()).fill_null(True).alias("first"))
        )
    idx = pl.int_range(pl.len(), dtype=pl.Int64)
    readings = readings.with_columns(
        (idx - pl.when(pl.col("first")).then(idx).forward_fill() + 1).alias("k"),
        *(pl.col("at_us").shift(lag).alias(f"t{lag}") for lag in range(1, window)),
        *(pl.col("health").shift(lag).alias(f"y{lag}") for lag in range(1, window)),
    ).rename({"at_us": "t0", "health": "y0"})
    us, month, k = pl.col("__us__"), pl.col("__month__"), pl.col("k")
    chain: Any = None
    for size in range(2, window + 1):
        lags = range(size - 1, -1, -1)  # the points, oldest first
        oldest = pl.col(f"t{size - 1}")
        readings = readings.with_columns(
            (((pl.col(f"t{lag}") - oldest).cast(pl.Float64) / us) / month).alias(f"x{size}_{lag}")
            for lag in lags
        )
        xs = [pl.col(f"x{size}_{lag}") for lag in lags]
        ys = [pl.col(f"y{lag}") for lag in lags]
        count = us * 0.0 + float(size)  # a column, not a constant (see the module's docstring)
        readings = readings.with_columns(
            (added_in_order(xs) / count).alias(f"mx{size}"),
            (added_in_order(ys) / count).alias(f"my{size}"),
        )
        mx, my = pl.col(f"mx{size}"), pl.col(f"my{size}")
        sxx = added_in_order([(x - mx) * (x - mx) for x in xs])
        sxy = added_in_order([(x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)])
        value = pl.when(sxx != 0).then(sxy / sxx)
        enough = k >= size if size == window else k == size
        chain = (pl.when(enough) if chain is None else chain.when(enough)).then(value)
    # NaN marks "a reading, but no trend" so that the fill below does not look past it.
    nan = pl.lit(float("nan"))
    slope = chain.otherwise(nan).fill_null(nan)
    if not gaps:
        return readings.select(slope.fill_nan(None).alias("slope")).collect().to_series()
    got = readings.select("j", slope.alias("slope")).collect()
    full = pl.repeat(None, len(rows), eager=True, dtype=pl.Float64).alias("slope")
    full = full.scatter(got["j"], got["slope"])
    marked = pl.when(pl.col("slope").is_not_null()).then(pl.col("slope"))
    return (
        rows.select("first")
        .with_columns(full)
        .select(marked.when(pl.col("first")).then(nan).forward_fill().fill_nan(None).alias("slope"))
        .to_series()
    )


def _target(lifecycle: Lifecycle) -> pl.Expr:
    """What `stars.diagnose_stars` says for an active account, before tenure is known.

    ``_GREEN_OK`` stands for ASCEND or ACCELERATE: the walk decides between them once it
    knows the tenure (the one input of the diagnosis that depends on the path).
    """
    import polars as pl

    band = pl.col("band")
    red, yellow = (band == 0).fill_null(False), (band == 1).fill_null(False)
    falling = (pl.col("slope") < -lifecycle.policy.trend_flat_within).fill_null(False)
    metrics = pl.col("metrics").fill_null(False)
    critical = pl.col("critical").fill_null(False)
    return (
        pl.when(red | critical)
        .then(pl.lit(_TACT, pl.Int8))
        .when((yellow | falling) & metrics)
        .then(pl.lit(_RESET, pl.Int8))
        .when(yellow | falling)
        .then(pl.lit(_SEED, pl.Int8))
        .when(band.is_null())
        .then(pl.lit(_NO_TARGET, pl.Int8))
        .when(~metrics)
        .then(pl.lit(_SEED, pl.Int8))
        .otherwise(pl.lit(_GREEN_OK, pl.Int8))
    )


# --------------------------------------------------------------------------- the walk
def _step(lifecycle: Lifecycle, rule: DeriveRule) -> list[list[pl.Expr]]:
    """The expressions of one step of the walk, in the order they run (each reads the last).

    They mirror the branches of `stars.derive.derive_events` and ``_evidence_move``.
    """
    import polars as pl

    policy = lifecycle.policy

    def lit(x: int) -> pl.Expr:
        return pl.lit(x, pl.Int8)

    stage, signed, target = pl.col("stage"), pl.col("signed"), pl.col("target")
    at, aim, hard, soft = pl.col("at_us"), pl.col("aim"), pl.col("hard"), pl.col("soft")
    us, day = pl.col("__us__"), pl.col("__day__")
    active = (stage >= _SEED) & (stage <= _TACT)
    known = pl.col("band").is_not_null()
    streak_ok = pl.col("streak") >= policy.green_streak
    tenure = ((at - pl.col("signed_at")).cast(pl.Float64) / us) / day
    settled = streak_ok & (tenure >= policy.min_tenure_days).fill_null(False)
    expansion = pl.col("expansion").fill_null(False)
    # 1. where the evidence points, the moves facts announce, the days in the stage
    first = [
        pl.when(target != _GREEN_OK)
        .then(target)
        .when(settled & ~expansion)
        .then(lit(_ASCEND))
        .otherwise(lit(_ACCELERATE))
        .alias("aim"),
        pl.when((stage == _PROSPECT) & signed.eq_missing(True))
        .then(lit(1))
        .when((stage == _CHURN) & signed.eq_missing(True))
        .then(lit(_WIN_BACK))
        .when(active & signed.eq_missing(False))
        .then(lit(3))
        .when((stage == _TACT) & pl.col("reonb"))
        .then(lit(4))
        .when(((stage == _ACCELERATE) | (stage == _ASCEND)) & pl.col("new_unit"))
        .then(lit(5))
        .otherwise(lit(0))
        .alias("hard"),
        (((at - pl.col("entered")).cast(pl.Float64) / us) / day).alias("days"),
    ]
    # 2. the one move toward the aim whose guards pass now
    second = [
        pl.when(~active | (hard != 0) | (aim == _NO_TARGET) | (aim == stage))
        .then(lit(0))
        .when(aim == _TACT)
        .then(lit(10))
        .when(stage == _SEED)
        .then(pl.when((aim == _ACCELERATE) | (aim == _ASCEND)).then(lit(6)).otherwise(lit(0)))
        .when(stage == _TACT)
        .then(pl.when(known).then(lit(13)).otherwise(lit(0)))
        .when(aim == _RESET)
        .then(pl.when(known).then(lit(9)).otherwise(lit(0)))
        .when(stage == _ACCELERATE)
        .then(pl.when(aim == _ASCEND).then(lit(7)).otherwise(lit(0)))
        .when(stage == _ASCEND)
        .then(pl.when((aim == _ACCELERATE) & expansion).then(lit(8)).otherwise(lit(0)))
        .when(aim == _ASCEND)
        .then(lit(11))
        .when((aim == _ACCELERATE) & streak_ok)
        .then(lit(12))
        .otherwise(lit(0))
        .alias("soft")
    ]
    # 3. hysteresis: how many readings in a row have pointed to that move
    third = [
        pl.when(soft == 0)
        .then(pl.lit(0, pl.Int32))
        .when(soft == pl.col("run"))
        .then(pl.col("count") + 1)
        .otherwise(pl.lit(1, pl.Int32))
        .alias("readings")
    ]
    # 4. the move taken: an announced one, or the evidence's once confirmed and dwelt
    fire = (
        (soft != 0)
        & (pl.col("readings") >= rule.confirm)
        & (pl.col("days") >= rule.min_dwell_days).fill_null(False)
    )
    fourth = [pl.when(hard != 0).then(hard).when(fire).then(soft).otherwise(lit(0)).alias("move")]
    return [first, second, third, fourth]


def _next_state() -> list[pl.Expr]:
    import polars as pl

    move, at = pl.col("move"), pl.col("at_us")
    moved = move != 0
    codes = list(_MOVES)
    dest = move.replace_strict(
        codes, [_MOVES[c][1] for c in codes], default=None, return_dtype=pl.Int8
    )
    landed = pl.when(move == _WIN_BACK).then(pl.lit(_SEED, pl.Int8)).otherwise(dest)
    return [
        pl.when(moved).then(landed).otherwise(pl.col("stage")).alias("stage"),
        pl.when(moved).then(at).otherwise(pl.col("entered")).alias("entered"),
        pl.when((move == 1) | (move == _WIN_BACK))
        .then(at)
        .otherwise(pl.col("signed_at"))
        .alias("signed_at"),
        pl.when(moved).then(pl.lit(0, pl.Int8)).otherwise(pl.col("soft")).alias("run"),
        pl.when(moved).then(pl.lit(0, pl.Int32)).otherwise(pl.col("readings")).alias("count"),
    ]


def _walk(rows: pl.DataFrame, lifecycle: Lifecycle, rule: DeriveRule) -> pl.DataFrame:
    """Walk every account's facts by position; one row per move taken (codes, not words)."""
    import polars as pl

    steps = _step(lifecycle, rule)
    state = _next_state()
    hard = pl.col("hard")
    moved = [
        "i",
        "move",
        pl.col("stage").alias("source"),
        pl.when(hard != 0)
        .then(pl.lit(0, pl.Int32))
        .otherwise(pl.col("readings"))
        .alias("readings"),
        "days",
        "signed_at",
    ]
    parts = rows.select(*_STEP_INPUTS, "pos").partition_by(
        "pos", maintain_order=True, include_key=False
    )
    size = len(parts[0]) if parts else 0
    carry = pl.DataFrame(
        [
            pl.repeat(_PROSPECT, size, eager=True, dtype=pl.Int8).alias("stage"),
            pl.repeat(None, size, eager=True, dtype=pl.Int64).alias("entered"),
            pl.repeat(None, size, eager=True, dtype=pl.Int64).alias("signed_at"),
            pl.repeat(0, size, eager=True, dtype=pl.Int8).alias("run"),
            pl.repeat(0, size, eager=True, dtype=pl.Int32).alias("count"),
        ]
    )
    found = []
    for k, part in enumerate(parts):
        if k:
            carry = carry.filter(parts[k - 1]["has_next"])
        plan = pl.concat([carry, part], how="horizontal").lazy()
        for exprs in steps:
            plan = plan.with_columns(exprs)
        step = plan.collect()
        found.append(step.filter(pl.col("move") != 0).select(moved))
        carry = step.select(state)
    schema = {
        "i": pl.Int64,
        "move": pl.Int8,
        "source": pl.Int8,
        "readings": pl.Int32,
        "days": pl.Float64,
        "signed_at": pl.Int64,
    }
    return pl.concat(found) if found else pl.DataFrame(schema=schema)


# --------------------------------------------------------------------------- output
def _assemble(rows: pl.DataFrame, moves: pl.DataFrame, lifecycle: Lifecycle) -> pl.DataFrame:
    """Turn the walk's move codes into the output: words, times and the evidence read."""
    import polars as pl

    flat = lifecycle.policy.trend_flat_within
    facts = rows.select(
        "account_id",
        "at_us",
        "health",
        "band",
        "slope",
        "streak",
        "signed",
        "metrics",
        "expansion",
        "critical",
        "__us__",
        "__day__",
    )[moves["i"]]
    source, band, mv = pl.col("source"), pl.col("band"), pl.col("move")
    red, yellow = (band == 0).fill_null(False), (band == 1).fill_null(False)
    critical = pl.col("critical").fill_null(False)
    falling = (pl.col("slope") < -flat).fill_null(False)
    both = (
        pl.concat([moves, facts], how="horizontal")
        .lazy()
        .with_columns(
            (
                ((pl.col("at_us") - pl.col("signed_at")).cast(pl.Float64) / pl.col("__us__"))
                / pl.col("__day__")
            ).alias("tenure_days"),
            (((source >= _SEED) & (source <= _TACT)) | pl.col("signed").eq_missing(True)).alias(
                "customer"
            ),
            (source == _CHURN).alias("churned"),
            pl.lit(0, pl.Int8).alias("seq"),
        )
        .collect()
    )
    again = both.filter(mv == _WIN_BACK).with_columns(
        pl.lit(_SIGN_AFTER_WIN_BACK, pl.Int8).alias("move"),
        pl.lit(_PROSPECT, pl.Int8).alias("source"),
        pl.lit(0.0).alias("days"),
        pl.lit(1, pl.Int8).alias("seq"),
    )
    if len(again):
        both = pl.concat([both, again])
    codes = list(_MOVES)

    def by_move(values: list[Any]) -> pl.Expr:
        return mv.replace_strict(codes, values, return_dtype=pl.String)

    rules = [_MOVES[c][2] for c in codes]
    why = (
        pl.when(mv == 9)
        .then(
            pl.when(yellow & falling)
            .then(pl.lit(f"{_WHY_YELLOW}; {_WHY_FALLING}"))
            .when(yellow)
            .then(pl.lit(_WHY_YELLOW))
            .otherwise(pl.lit(_WHY_FALLING))
        )
        .when(mv == 10)
        .then(
            pl.when(red & critical)
            .then(pl.lit(f"{_WHY_RED}; {_WHY_CRITICAL}"))
            .when(red)
            .then(pl.lit(_WHY_RED))
            .otherwise(pl.lit(_WHY_CRITICAL))
        )
        .otherwise(by_move([_FIXED_WHY.get(c, "") for c in codes]))
    )
    readings = pl.col("readings")
    confirmed = pl.concat_str(
        why,
        pl.lit("; seen in "),
        readings.cast(pl.String),
        pl.when(readings == 1)
        .then(pl.lit(" reading in a row"))
        .otherwise(pl.lit(" readings in a row")),
    )
    announced = by_move([_WHY_ANNOUNCED.get(r, "") for r in rules])
    out = (
        both.lazy()
        .sort("i", "seq")  # i is the fact's place in account and time order
        .select(
            "account_id",
            pl.col("at_us").cast(pl.Datetime("us", "UTC")).alias("at"),
            by_move([_MOVES[c][0] for c in codes]).alias("trigger"),
            source.replace_strict(list(range(7)), list(_STAGES), return_dtype=pl.String).alias(
                "source"
            ),
            by_move([_STAGES[_MOVES[c][1]] for c in codes]).alias("to"),
            by_move(rules).alias("rule"),
            pl.when(mv >= 6)
            .then(pl.when(mv == _SIGN_AFTER_WIN_BACK).then(announced).otherwise(confirmed))
            .otherwise(announced)
            .alias("reason"),
            readings.cast(pl.Int64),
            pl.col("days").alias("days_in_stage"),
            "health",
            band.replace_strict([0, 1, 2], list(_BANDS), return_dtype=pl.String).alias("band"),
            "slope",
            pl.col("streak").cast(pl.Int64).alias("green_streak"),
            "tenure_days",
            "customer",
            pl.col("metrics").fill_null(False).alias("success_metrics_agreed"),
            pl.col("expansion").fill_null(False).alias("expansion_open"),
            critical.alias("critical_risk"),
            "churned",
        )
    )
    return out.collect()


def _derived(frame: object, lifecycle: Lifecycle, rule: DeriveRule) -> tuple[pl.DataFrame, Any]:
    df, back = _to_polars(frame)
    _check(df)
    rows = _rows(df, lifecycle)
    return _assemble(rows, _walk(rows, lifecycle, rule), lifecycle), (df, back)


def _derive_frame(frame: object, lifecycle: Lifecycle, rule: DeriveRule) -> Any:
    """`stars.derive.derive_frame`, after its arguments are checked."""
    out, (_, back) = _derived(frame, lifecycle, rule)
    return back(out)


def _derive_portfolio(frame: object, lifecycle: Lifecycle, rule: DeriveRule) -> Portfolio:
    """`stars.derive.derive_portfolio`, after its arguments are checked."""
    import polars as pl

    from stars.portfolio import Portfolio

    events, (df, _) = _derived(frame, lifecycle, rule)
    accounts = df.select(pl.col("account_id").cast(pl.String).alias("id")).unique(
        maintain_order=True
    )
    return Portfolio.from_frames(
        accounts, events.select("account_id", "trigger", "at", "to", "reason"), lifecycle
    )


# ------------------------------------------------------------------ the public entry points
def derive_frame(
    frame: Any,
    *,
    lifecycle: Lifecycle = STARS,
    rule: DeriveRule | None = None,
) -> Any:
    """Derive lifecycle events from a DataFrame of facts: the batch form of `derive_events`.

    The frame holds one row per account and time (any order; the rule sorts it), with
    columns named like `Fact`'s fields:

    - ``account_id`` (text) and ``at`` (timezone-aware datetime), required;
    - ``health`` (0-100) and ``band`` (``"red"``, ``"yellow"``, ``"green"``), optional;
      a given band is used as it is, else the band comes from health;
    - ``contract`` (``"start"``, ``"renewal"``, ``"end"``), optional;
    - optional boolean flags: ``contract_signed``, ``success_metrics_agreed``,
      ``expansion_open``, ``critical_risk``, ``reonboarding_agreed``, ``new_business_unit``.

    Other columns are ignored. `stars.portfolio.Portfolio.to_frame` (``"snapshots"``) gives
    such a frame. The work is done in polars; pandas and pyarrow frames are converted once
    in and once out.

    Args:
        frame: A polars, pandas or pyarrow DataFrame (or a narwhals DataFrame).
        lifecycle: Whose policy to read; its graph and diagnosis must be the STARS ones.
        rule: The hysteresis and dwell (default `DeriveRule`).

    Returns:
        A frame of the same kind with one row per derived event, in account and time
        order: ``account_id``, ``at`` (UTC), ``trigger``, ``source``, ``to``, ``rule``,
        ``reason``, ``readings``, ``days_in_stage``, then the evidence read
        (``health``, ``band``, ``slope``, ``green_streak``, ``tenure_days``, ``customer``,
        ``success_metrics_agreed``, ``expansion_open``, ``critical_risk``, ``churned``).
        It is an events table for `stars.portfolio.Portfolio.from_frames`.

    Raises:
        InvalidValue: A required column is absent or of the wrong type, a value is out of
            range (health outside 0-100, an unknown band or contract fact, a null id or
            time), two rows share an account and a time, or a row contradicts itself
            (``contract`` against ``contract_signed``).
        InvalidDefinition: The lifecycle lacks a STARS transition or diagnoses otherwise.
        MissingDependency: narwhals or polars is not installed.

    Examples:
        >>> from datetime import datetime, timezone
        >>> import polars as pl
        >>> from stars.derive import derive_frame
        >>> months = [datetime(2024, m, 1, tzinfo=timezone.utc) for m in range(1, 7)]
        >>> facts = pl.DataFrame({
        ...     "account_id": ["acme"] * 6,
        ...     "at": months,
        ...     "health": [75.0, 80.0, 82.0, 30.0, 35.0, 32.0],
        ...     "contract": ["start", None, None, None, None, None],
        ...     "success_metrics_agreed": [True, None, None, None, None, None],
        ... })
        >>> for row in derive_frame(facts).select("at", "trigger", "to", "readings").rows():
        ...     print(row[0].date(), row[1:])
        2024-01-01 ('sign', 'seed', 0)
        2024-03-01 ('accelerate', 'accelerate', 2)
        2024-05-01 ('escalate', 'tact', 2)
    """
    return _derive_frame(frame, _check_lifecycle(lifecycle), _check_rule(rule))


def derive_portfolio(
    frame: Any,
    *,
    lifecycle: Lifecycle = STARS,
    rule: DeriveRule | None = None,
) -> Portfolio:
    """A `stars.portfolio.Portfolio` of derived histories from a DataFrame of facts.

    `derive_frame` derives the events, and `stars.portfolio.Portfolio.from_frames` replays
    them; every account of the frame is in the portfolio (in order of first appearance),
    those with no derived event as prospects. Episodes, time in stage and transition
    matrices then work on facts alone.

    Args:
        frame: A frame of facts, as `derive_frame` reads it.
        lifecycle: The lifecycle to replay with (its graph and diagnosis must be STARS's).
        rule: The hysteresis and dwell (default `DeriveRule`).

    Returns:
        A new portfolio.

    Raises:
        InvalidValue: As `derive_frame`.

    Examples:
        >>> from datetime import datetime, timezone
        >>> import polars as pl
        >>> from stars.derive import derive_portfolio
        >>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
        >>> facts = pl.DataFrame({"account_id": ["a", "b"], "at": [t, t],
        ...                       "contract": ["start", None]})
        >>> book = derive_portfolio(facts)
        >>> book["a"].stage, book["b"].stage
        ('seed', 'prospect')
    """
    return _derive_portfolio(frame, _check_lifecycle(lifecycle), _check_rule(rule))
