"""DataFrame batch functions for polars, pandas and pyarrow, through narwhals.

Each function takes a native eager DataFrame and returns a new one of the same
kind; the caller's frame is never changed and rows are never looped over in Python.
The functions work on one frame (or one partition) at a time, so they run unchanged
under Dask's ``map_partitions`` or Spark's ``mapInArrow``.

This module imports narwhals when a function runs, not when ``stars`` is imported;
install the ``frames`` (polars) or ``pandas`` extra.

Example:
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
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from stars.errors import InvalidValue, MissingDependency
from stars.health import Direction, Linear, Measure, MissingPolicy, Scorecard

if TYPE_CHECKING:
    import narwhals as nw
    from narwhals.typing import IntoDataFrameT

__all__ = ["score"]

#: Names of the columns that :func:`score` adds (plus one ``contribution_<measure>`` each).
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
    as :meth:`~stars.health.Scorecard.score` does; with pandas' NumPy dtypes a NaN
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

    Example:
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
    raw = [nw.col(name) for name in scorecard.names]
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

    A column of nothing but nulls (which polars types as ``Null``) is accepted as an
    all-missing numeric column.
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
        all_null = dtype == nw.Unknown and df.get_column(name).null_count() == len(df)
        if not dtype.is_numeric() and not all_null:
            raise InvalidValue(name, str(dtype), "a numeric column")
        out.append(nw.col(name).cast(nw.Float64))
    return out
