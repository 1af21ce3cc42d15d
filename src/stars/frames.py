"""DataFrame batch functions for polars, pandas and pyarrow, through narwhals.

Each function takes a native eager DataFrame and returns a new one of the same
kind; the caller's frame is never changed and rows are never looped over in Python.
The functions work on one frame (or one partition) at a time, so they run unchanged
under Dask's ``map_partitions`` or Spark's ``mapInArrow``.

This module imports narwhals when a function runs, not when ``stars`` is imported;
install the ``frames`` (polars) or ``pandas`` extra.

Examples:
    >>> import polars as pl
    >>> from stars.frames import score
    >>> from stars.health import default_scorecard
    >>> frame = pl.DataFrame({
    ...     "account": ["acme", "globex"],
    ...     "adoption": [0.9, 0.3],
    ...     "open_tickets": [1, 12],
    ...     "days_since_contact": [10, 75],
    ...     "nps": [40.0, None],
    ...     "csat": [88.0, 60.0],
    ...     "sentiment": [0.5, -0.5],
    ... })
    >>> out = score(frame, default_scorecard())
    >>> out.select("account", "health", "band").rows()
    [('acme', 92.75, 'green'), ('globex', 15.196078431372545, 'red')]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from stars import _stage_rules
from stars import _validate as _v
from stars._pending import utc_from_micros
from stars.errors import InvalidDefinition, InvalidValue, MissingDependency
from stars.health import Direction, Linear, Measure, MissingPolicy, Scorecard
from stars.lifecycle import (
    STARS,
    Lifecycle,
    diagnose_stars,
    evidence,
)

if TYPE_CHECKING:
    import narwhals as nw
    from narwhals.typing import IntoDataFrameT

    from stars.portfolio import Portfolio

__all__ = [
    "BAND",
    "CONTRIBUTION_PREFIX",
    "EVIDENCE_COLUMNS",
    "HEALTH",
    "STAGE",
    "STAGE_REASON",
    "assign_stages",
    "score",
]

#: Names of the columns that `score` adds (plus one ``contribution_<measure>`` each).
HEALTH: Final = "health"
BAND: Final = "band"
CONTRIBUTION_PREFIX: Final = "contribution_"

#: How many offending row positions an error message lists.
_SHOWN: Final = 5


# -- public functions ------------------------------------------------------------------


def score(frame: IntoDataFrameT, scorecard: Scorecard) -> IntoDataFrameT:
    """Score every row of a DataFrame with a scorecard.

    The frame needs one numeric column per measure (extra columns pass through).
    A null is a missing value and follows the scorecard's missing policy exactly
    as `score` does; with pandas' NumPy dtypes a NaN
    is how a missing value is written, so there it counts as missing too.

    Args:
        frame: A polars, pandas or pyarrow DataFrame (or a narwhals DataFrame).
        scorecard: The scorecard to apply.

    Returns:
        A new frame of the same kind: the input's columns, then ``health`` (0-100),
        ``band`` (``"red"``, ``"yellow"`` or ``"green"``) and one
        ``contribution_<measure>`` column per measure (its points of the total).
        Input columns with those names are replaced.

    Raises:
        InvalidValue: If a measure's column is absent or not numeric, or if values
            are NaN, infinite or outside a measure's domain (the message names the
            measure, how many rows are bad and the first row positions); also for
            missing values under ``REFUSE``, and rows where no weighted measure is
            present under ``REDISTRIBUTE``.
        MissingDependency: If narwhals is not installed.

    Examples:
        >>> import pandas as pd
        >>> from stars.frames import score
        >>> from stars.health import Direction, Linear, Measure, Scorecard
        >>> card = Scorecard([
        ...     Measure("adoption", 3, Direction.HIGHER_IS_BETTER, Linear(0, 1), domain=(0, 1)),
        ...     Measure("open_tickets", 1, Direction.LOWER_IS_BETTER, Linear(0, 10)),
        ... ])
        >>> frame = pd.DataFrame({"id": ["a", "b"], "adoption": [1.0, 0.2], "open_tickets": [0, 8]})
        >>> score(frame, card)[["id", "health", "band"]]
          id  health   band
        0  a   100.0  green
        1  b    20.0    red
        >>> bad = pd.DataFrame({"adoption": [0.5, 1.7, 2.0], "open_tickets": [1, 2, 3]})
        >>> score(bad, card)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: adoption: got [1.7, 2.0], expected a number from 0 to 1 (2 ...
    """
    _require_narwhals()
    import narwhals as nw

    if not isinstance(scorecard, Scorecard):
        raise InvalidValue("scorecard", scorecard, "a Scorecard")
    df, wrapped = _eager(frame)
    names = scorecard.names
    for name in names:
        if name in (HEALTH, BAND) or name.startswith(CONTRIBUTION_PREFIX):
            raise InvalidValue(
                "measure",
                name,
                f"a name other than {HEALTH!r}, {BAND!r} or {CONTRIBUTION_PREFIX}*",
                hint="the output columns would overwrite it",
            )
    xs = _numeric_columns(df, names)
    _check_values(df, scorecard, xs)
    shared = df.implementation is nw.Implementation.POLARS
    steps = _score_stages(scorecard, xs, df.columns, shared=shared)
    plan = df.lazy()
    for step in steps:
        plan = plan.with_columns(**step)
    added = [HEALTH, BAND, *(CONTRIBUTION_PREFIX + n for n in names)]
    kept = [c for c in df.columns if c not in added]
    out = plan.select(*kept, *added).collect()
    return out if wrapped else out.to_native()  # type: ignore[return-value]


# -- scoring expressions ---------------------------------------------------------------


def _rule_expr(measure: Measure, x: nw.Expr) -> nw.Expr:
    import narwhals as nw

    # Mirrors Linear.apply and Steps.apply in stars.health: same operations, same order,
    # so a row gives the very same float. A null input gives a null score.
    rule = measure.rule
    if isinstance(rule, Linear):
        k = 100.0 / (rule.hi - rule.lo)
        higher = measure.direction is Direction.HIGHER_IS_BETTER
        raw = (x - rule.lo) * k if higher else (rule.hi - x) * k
        return raw.clip(0.0, 100.0)
    thresholds, scores = rule.thresholds, rule.scores
    chain = nw.when(x < thresholds[0]).then(nw.lit(scores[0]))
    for threshold, points in zip(thresholds[1:], scores[1:-1], strict=True):
        chain = chain.when(x < threshold).then(nw.lit(points))
    # The last step tests its own threshold rather than using ``otherwise``, so that a
    # null value falls through every test and stays null.
    return chain.when(x >= thresholds[-1]).then(nw.lit(scores[-1]))


def _score_stages(
    scorecard: Scorecard, xs: Sequence[nw.Expr], columns: Sequence[str], *, shared: bool
) -> list[dict[str, nw.Expr]]:
    """The scoring plan: a few ``with_columns`` steps (temporary columns are left out later).

    pandas and pyarrow evaluate every expression on its own, so there the shared
    denominator and the weighted scores go to temporary columns first and later steps
    read them. polars in lazy mode computes a repeated subexpression once
    (``shared=True``), so there they stay inline, which saves writing the temporaries.
    Either way the arithmetic mirrors ``Scorecard._combine`` in stars.health, term
    for term.
    """
    import narwhals as nw

    names = scorecard.names
    weights = list(scorecard.weights.values())
    rule_scores = [_rule_expr(m, x) for m, x in zip(scorecard.measures, xs, strict=True)]
    outputs = [CONTRIBUTION_PREFIX + n for n in names]
    temps: list[str] = []
    steps: list[dict[str, nw.Expr]] = []
    if scorecard.missing is MissingPolicy.REDISTRIBUTE and shared:
        den_expr = _fold(
            [(~x.is_null()).cast(nw.Float64) * w for x, w in zip(xs, weights, strict=True)]
        )
        steps.append(
            {
                out: (s * w).fill_null(0.0) / den_expr
                for out, s, w in zip(outputs, rule_scores, weights, strict=True)
            }
        )
    elif scorecard.missing is MissingPolicy.REDISTRIBUTE:
        taken = [*columns, *outputs, HEALTH, BAND]
        for i in range(len(names) + 1):
            temps.append(_free_name([*taken, *temps], f"__stars_{i}__"))
        den = temps[-1]
        first = {t: s * w for t, s, w in zip(temps, rule_scores, weights, strict=False)}
        first[den] = _fold(
            [(~x.is_null()).cast(nw.Float64) * w for x, w in zip(xs, weights, strict=True)]
        )
        steps.append(first)
        steps.append(
            {
                out: nw.col(t).fill_null(0.0) / nw.col(den)
                for out, t in zip(outputs, temps, strict=False)
            }
        )
    elif scorecard.missing is MissingPolicy.WORST:
        steps.append(
            {
                out: s.fill_null(m.worst) * w
                for out, s, m, w in zip(
                    outputs, rule_scores, scorecard.measures, weights, strict=True
                )
            }
        )
    else:
        steps.append({out: s * w for out, s, w in zip(outputs, rule_scores, weights, strict=True)})
    steps.append({HEALTH: _fold([nw.col(out) for out in outputs]).clip(0.0, 100.0)})
    steps.append({BAND: _band_expr(scorecard, nw.col(HEALTH))})
    return steps


def _band_expr(scorecard: Scorecard, health: nw.Expr) -> nw.Expr:
    import narwhals as nw

    cut = scorecard.cutoffs
    return (
        nw.when(health < cut.red_below)
        .then(nw.lit("red"))
        .when(health >= cut.green_from)
        .then(nw.lit("green"))
        .otherwise(nw.lit("yellow"))
    )


def _fold(items: Sequence[nw.Expr]) -> nw.Expr:
    total = items[0]
    for item in items[1:]:
        total = total + item
    return total


# -- validation ------------------------------------------------------------------------


def _check_values(df: nw.DataFrame[Any], scorecard: Scorecard, xs: Sequence[nw.Expr]) -> None:
    """Refuse bad values in one pass of cheap aggregates.

    The pass reads each measure's min, max, sum and null count. Values outside the
    domain show in the min or max; NaN or infinity make the sum NaN or infinite. Only
    when this screen trips are the offending rows counted exactly (a huge but finite
    sum can trip it without any bad row, and then nothing is raised).
    """
    import narwhals as nw

    # The raw columns, not their Float64 casts: the screen needs no copy of the data.
    # A non-numeric column got past _numeric_columns only because it is all null; its
    # cast is read instead, since min and sum are not defined on strings.
    schema = df.schema
    raw = [
        nw.col(name) if schema[name].is_numeric() else x
        for name, x in zip(scorecard.names, xs, strict=True)
    ]
    stats = df.select(
        *(
            agg.alias(f"s{i}_{j}")
            for i, x in enumerate(raw)
            for j, agg in enumerate((x.min(), x.max(), x.sum(), x.null_count()))
        )
    ).row(0)
    nulls: list[int] = []
    for i, (m, x) in enumerate(zip(scorecard.measures, xs, strict=True)):
        low, high, total, missing = stats[4 * i : 4 * i + 4]
        nulls.append(int(missing))
        lo, hi = m.domain if m.domain is not None else (None, None)
        if _suspicious(low, high, total, lo, hi):
            bad = ~x.is_finite()
            if lo is not None:
                bad = bad | (x < lo)
            if hi is not None:
                bad = bad | (x > hi)
            _refuse_rows(df, m.name, ~x.is_null() & bad, _expected(lo, hi), None)
    if scorecard.missing is MissingPolicy.REFUSE:
        for m, x, count in zip(scorecard.measures, xs, nulls, strict=True):
            if count:
                expected = "a number (this scorecard refuses missing)"
                _refuse_rows(df, m.name, x.is_null(), expected, "missing")
    elif scorecard.missing is MissingPolicy.REDISTRIBUTE:
        live = [
            (x, count)
            for x, count, w in zip(xs, nulls, scorecard.weights.values(), strict=True)
            if w > 0
        ]
        # A row can only be empty if every weighted measure has some nulls.
        if all(count for _, count in live):
            none_present = live[0][0].is_null()
            for x, _ in live[1:]:
                none_present = none_present & x.is_null()
            _refuse_rows(df, "values", none_present, "at least one measure with weight", "empty")


def _suspicious(low: Any, high: Any, total: Any, lo: float | None, hi: float | None) -> bool:
    # ``None`` is what an all-null column gives; pandas gives NaN for its min and max.
    for stat in (low, high, total):
        if stat is not None and not math.isfinite(stat):
            return True
    if lo is not None and low is not None and low < lo:
        return True
    return hi is not None and high is not None and high > hi


def _refuse_rows(
    df: nw.DataFrame[Any], field: str, mask: nw.Expr, expected: str, kind: str | None
) -> None:
    """Count the rows where ``mask`` holds and raise, naming the first few, if any do."""
    count = int(df.select(mask.fill_null(False).sum().alias("n")).item())
    if count:
        _raise_bad_rows(df, field, mask, expected, kind, count)


def _raise_bad_rows(
    df: nw.DataFrame[Any],
    field: str,
    mask: nw.Expr,
    expected: str,
    kind: str | None,
    count: int,
) -> None:
    index = _free_name(df.columns, "__stars_row__")
    hits = df.with_row_index(index).filter(mask.fill_null(False)).head(_SHOWN)
    rows = ", ".join(str(i) for i in hits.get_column(index).to_list())
    plural = "row" if count == 1 else "rows"
    if kind == "missing":
        raise InvalidValue(
            field, None, expected, hint=f"{count} {plural} missing; first at row positions {rows}"
        )
    if kind == "empty":
        raise InvalidValue(
            field,
            None,
            expected,
            hint=f"{count} {plural} have no weighted measure; first at row positions {rows}",
        )
    values = hits.get_column(field).to_list()
    raise InvalidValue(
        field, values, expected, hint=f"{count} bad {plural}; first at row positions {rows}"
    )


def _expected(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"a number from {lo:g} to {hi:g}"
    if lo is not None:
        return f"a number at or above {lo:g}"
    if hi is not None:
        return f"a number at or below {hi:g}"
    return "a finite number"


# -- shared narwhals helpers (private) -------------------------------------------------


def _require_narwhals() -> None:
    """Import narwhals, or say which extra to install."""
    try:
        import narwhals  # noqa: F401
    except ImportError:  # pragma: no cover - narwhals is installed in the test env
        raise MissingDependency("narwhals", "frames") from None


def _eager(frame: object) -> tuple[nw.DataFrame[Any], bool]:
    """Wrap a native eager frame; also say whether it already was a narwhals frame."""
    import narwhals as nw

    if isinstance(frame, nw.DataFrame):
        return frame, True
    try:
        return nw.from_native(frame, eager_only=True), False
    except TypeError:
        raise InvalidValue(
            "frame", type(frame).__name__, "a polars, pandas or pyarrow DataFrame"
        ) from None


def _free_name(columns: Sequence[str], base: str) -> str:
    """A column name that is not in ``columns``."""
    name = base
    while name in columns:
        name += "_"
    return name


def _numeric_columns(df: nw.DataFrame[Any], names: Sequence[str]) -> list[nw.Expr]:
    """Float64 expressions for the named columns, after checking they exist and are numeric.

    A column of nothing but nulls is accepted as an all-missing numeric column whatever
    its type (polars ``Null``, a pandas ``object`` column of None, or a String column
    of nulls, as an empty CSV column reads); a non-numeric column with values is refused.
    """
    import narwhals as nw

    schema = df.schema
    absent = [n for n in names if n not in schema]
    if absent:
        raise InvalidValue(
            "frame",
            absent,
            "a column for every measure",
            hint="add a column of nulls to score a measure as missing",
        )
    out = []
    for name in names:
        dtype = schema[name]
        all_null = not dtype.is_numeric() and df.get_column(name).null_count() == len(df)
        if not dtype.is_numeric() and not all_null:
            raise InvalidValue(name, str(dtype), "a numeric column")
        out.append(nw.col(name).cast(nw.Float64))
    return out


# ======================================================================================
# Stage assignment and portfolio frames (portfolio analytics, see stars.portfolio)
# ======================================================================================


#: The per-account evidence columns `assign_stages` reads, and the value a row
#: takes when the column is absent (the defaults of `Evidence`).
EVIDENCE_COLUMNS: Final[Mapping[str, object]] = MappingProxyType(
    {
        "health": None,
        "band": None,
        "slope": None,
        "green_streak": 0,
        "tenure_days": None,
        "customer": False,
        "success_metrics_agreed": False,
        "expansion_open": False,
        "critical_risk": False,
        "churned": False,
    }
)
#: Names of the columns that `assign_stages` adds.
STAGE: Final = "stage"
STAGE_REASON: Final = "stage_reason"

_EVIDENCE_NUMBERS: Final = ("health", "slope", "green_streak", "tenure_days")
_EVIDENCE_FLAGS: Final = (
    "customer",
    "success_metrics_agreed",
    "expansion_open",
    "critical_risk",
    "churned",
)
_BANDS: Final = ("red", "yellow", "green")


def assign_stages(
    frame: IntoDataFrameT, lifecycle: Lifecycle = STARS, *, reasons: bool = True
) -> IntoDataFrameT:
    """Add the stage the evidence points to, for every row (the batch form of ``diagnose``).

    The rule is `diagnose_stars`: the DataFrame expressions are built from its table
    of rules, and tested to agree with it row for row, with the lifecycle's policy.
    Columns carry the `Evidence` fields (see `EVIDENCE_COLUMNS`):

    - ``band`` (``"red"``, ``"yellow"``, ``"green"`` or null) or, when there is no
      ``band`` column, ``health`` (0-100), turned into a band with the policy's cut-offs.
      One of the two is required; a given ``band`` is used as it is.
    - optional numbers: ``slope`` (points per 30 days; null means no trend),
      ``green_streak`` (0 when absent), ``tenure_days`` (null means unknown);
    - optional flags, False when absent or null: ``customer``, ``success_metrics_agreed``,
      ``expansion_open``, ``critical_risk``, ``churned``. Without a ``customer`` column
      every row is a prospect, as with a default ``Evidence``.

    `stars.portfolio.Portfolio.evidence_frame` builds such a frame from accounts.

    Args:
        frame: A polars, pandas or pyarrow DataFrame (or a narwhals DataFrame).
        lifecycle: Whose policy to use; its diagnosis rule must be the default STARS one.
        reasons: Also add ``stage_reason`` (the words of the rule that decided, without the
            figures ``diagnose`` quotes). Leave it out for speed on very large frames.

    Returns:
        A new frame of the same kind with ``stage`` (null when there is no band to judge
        by) and, with ``reasons``, ``stage_reason`` added, replacing columns of those names.

    Raises:
        InvalidValue: Neither ``band`` nor ``health``; a column of the wrong type; a band
            other than red, yellow or green; a number that is NaN, infinite or (for
            ``green_streak``) negative.
        InvalidDefinition: The lifecycle diagnoses with a rule of its own.
        MissingDependency: If narwhals is not installed.

    Examples:
        >>> import polars as pl
        >>> from stars.frames import assign_stages
        >>> frame = pl.DataFrame({
        ...     "account": ["a", "b", "c"],
        ...     "health": [82.0, 55.0, None],
        ...     "customer": [True, True, True],
        ...     "success_metrics_agreed": [True, True, False],
        ... })
        >>> for row in assign_stages(frame).select("account", "stage", "stage_reason").rows():
        ...     print(row)
        ('a', 'accelerate', 'health is green and success metrics are agreed')
        ('b', 'reset', 'health is yellow')
        ('c', None, 'no health reading to judge by')
    """
    _require_narwhals()
    import narwhals as nw

    if not isinstance(lifecycle, Lifecycle):
        raise InvalidValue("lifecycle", lifecycle, "a Lifecycle")
    if getattr(lifecycle, "_diagnoser", None) is not diagnose_stars:
        raise InvalidDefinition(
            f"lifecycle {lifecycle.name!r} diagnoses with its own rule; assign_stages"
            " applies the default STARS rule only"
        )
    _v.flag("reasons", reasons)
    df, wrapped = _eager(frame)
    policy = lifecycle.policy
    schema = df.schema
    if "band" not in schema and "health" not in schema:
        raise InvalidValue(
            "frame", list(df.columns), "a 'band' or a 'health' column", hint="see EVIDENCE_COLUMNS"
        )
    present = [n for n in _EVIDENCE_NUMBERS if n in schema]
    numbers = dict(zip(present, _numeric_columns(df, present), strict=True))
    for name in _EVIDENCE_FLAGS:
        if name in schema and not _is_type_or_all_null(df, name, nw.Boolean):
            raise InvalidValue(name, str(schema[name]), "a boolean column")
    if "band" in schema and not (
        _is_type_or_all_null(df, "band", nw.String) or schema["band"] in (nw.Categorical, nw.Enum)
    ):
        raise InvalidValue("band", str(schema["band"]), "a string column")
    _check_evidence(df, numbers)
    if "band" in schema:
        band = nw.col("band").cast(nw.String)
    else:
        health = numbers["health"]
        cut = policy.bands
        band = (
            nw.when(health < cut.red_below)
            .then(nw.lit("red"))
            .when(health >= cut.green_from)
            .then(nw.lit("green"))
            .when(~health.is_null())
            .then(nw.lit("yellow"))
        )

    flags = {
        name: nw.col(name).fill_null(False) if name in schema else nw.lit(False)
        for name in _EVIDENCE_FLAGS
    }
    # The band once as a column of a lazy plan, so every rule below reads it instead of
    # recomputing the when-chain (polars then also shares the repeated conditions).
    band_col = _free_name(df.columns, "__stars_band__")
    plan = df.lazy().with_columns(band.alias(band_col))
    columns = _stage_rules.Columns(
        band=nw.col(band_col),
        slope=numbers.get("slope"),
        green_streak=numbers.get("green_streak"),
        tenure_days=numbers.get("tenure_days"),
        flags=flags,
    )
    # diagnose_stars' own table of rules, as expressions.
    added = [_stage_rules.stage_expression(columns, policy).alias(STAGE)]
    if reasons:
        added.append(_stage_rules.reason_expression(columns, policy).alias(STAGE_REASON))
    out = plan.with_columns(*added).drop(band_col).collect()
    return out if wrapped else out.to_native()  # type: ignore[return-value]


def _is_type_or_all_null(df: nw.DataFrame[Any], name: str, dtype: Any) -> bool:
    import narwhals as nw

    got = df.schema[name]
    if got == dtype:
        return True
    return bool(got == nw.Unknown and df.get_column(name).null_count() == len(df))


def _check_evidence(df: nw.DataFrame[Any], numbers: Mapping[str, nw.Expr]) -> None:
    import narwhals as nw

    checks: list[tuple[str, nw.Expr, str]] = []
    for name, x in numbers.items():
        bad = ~x.is_finite()
        if name == "green_streak":
            checks.append((name, ~x.is_null() & (bad | (x < 0)), "a finite number at or above 0"))
        else:
            checks.append((name, ~x.is_null() & bad, "a finite number"))
    if "band" in df.schema:
        band = nw.col("band").cast(nw.String)
        checks.append(("band", ~band.is_null() & ~band.is_in(_BANDS), "'red', 'yellow' or 'green'"))
    counts = df.select(
        *(mask.fill_null(False).sum().alias(f"c{i}") for i, (_, mask, _) in enumerate(checks))
    ).row(0)
    for (name, mask, expected), count in zip(checks, counts, strict=True):
        if count:
            _raise_bad_rows(df, name, mask, expected, None, int(count))


# -- portfolio <-> frames (behind Portfolio.to_frame, from_frames and evidence_frame) ---

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
    import narwhals as nw

    dtypes = {
        "str": nw.String(),
        "float": nw.Float64(),
        "int": nw.Int64(),
        "bool": nw.Boolean(),
        "time": nw.Datetime("us", "UTC"),
        "strs": nw.List(nw.String()),
    }
    schema = {name: dtypes[types[name]] for name in columns}
    return nw.from_dict(dict(columns), schema=schema, backend=backend).to_native()


def _portfolio_frame(portfolio: Portfolio, kind: str, backend: str) -> Any:
    """One table from a portfolio, built column by column."""
    _require_narwhals()
    if kind not in _FRAME_KINDS:
        raise InvalidValue("kind", kind, "one of " + ", ".join(map(repr, _FRAME_KINDS)))
    native = _backend(backend)
    accounts = portfolio.accounts()
    cols: dict[str, list[Any]]
    types: dict[str, str]
    if kind == "accounts":
        policy = portfolio.lifecycle.policy
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
        eps = portfolio.episodes()
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


def _evidence_frame(portfolio: Portfolio, at: datetime | None, backend: str) -> Any:
    """The evidence of every account, one row each, in `assign_stages`' column names."""
    _require_narwhals()
    native = _backend(backend)
    if at is not None:
        at = _v.aware("at", at)
    lc = portfolio.lifecycle
    accounts = portfolio.accounts()
    rows = [evidence(a, at, lc.policy, lc.kind_of) for a in accounts]
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
    import narwhals as nw

    dtype = df.schema[name]
    if not isinstance(dtype, nw.Datetime) or dtype.time_zone is None:
        if _is_type_or_all_null(df, name, nw.Unknown):
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
    import narwhals as nw

    if not _is_type_or_all_null(df, name, nw.String):
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
    import narwhals as nw

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
            + ", ".join(map(str, blank[:_SHOWN])),
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


def _portfolio_from_frames(accounts: object, events: object, lifecycle: Lifecycle) -> Portfolio:
    """Build accounts from an accounts table and an events table.

    One sort puts each account's events together in time order; each account's rows are
    walked through the graph (so a bad event fails the whole build, before any account is
    returned), and the records themselves are built from the shared columns on first read
    of ``Account.history``.
    """
    _require_narwhals()
    import narwhals as nw

    from stars._accounts import _account_unchecked
    from stars._pending import EventColumns, PendingHistory
    from stars.portfolio import Portfolio

    if not isinstance(lifecycle, Lifecycle):
        raise InvalidValue("lifecycle", lifecycle, "a Lifecycle")
    acc, _ = _eager(accounts)
    ev, _ = _eager(events)
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
    order = _free_name(ev.columns, "__stars_row__")
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
    built = []
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
    return Portfolio(built, lifecycle)


def _check_event_columns(ev: nw.DataFrame[Any]) -> None:
    """Check every event column's type and the row rules once, before the replay loop."""
    import narwhals as nw

    schema = ev.schema
    for name in ("trigger", "actor", "reason", "to"):
        if name in schema and not _is_type_or_all_null(ev, name, nw.String):
            raise InvalidValue(f"events.{name}", str(schema[name]), "a text column")
    if "forced" in schema and not _is_type_or_all_null(ev, "forced", nw.Boolean):
        raise InvalidValue("events.forced", str(schema["forced"]), "a boolean column")
    if not _is_type_or_all_null(ev, "account_id", nw.String):
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
            _raise_bad_rows(ev, field, mask, expected, "missing", int(count))
