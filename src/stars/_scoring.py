"""The one scoring core: rule points, their combination into health, and the bands.

`stars.health.Scorecard` scores one account with Python floats; `stars.frames.score`
scores a whole frame with narwhals expressions. Both are built from the functions here,
written once over "numbers" that support ``+ - * /`` and a few operations of an `Ops`
object (`FLOATS` for floats, `ExprOps` for expressions). So the two give the same
operations in the same order, and a row scored in a frame equals the scalar score to the
last bit; a new rule or missing-value policy is one edit here.

For floats a missing measure is NaN inside this module (``None`` outside it).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol

from stars._tables import free_name, raise_bad_rows

if TYPE_CHECKING:
    import narwhals.stable.v1 as nw

    from stars.bands import Band, BandCutoffs
    from stars.health import Measure, Scorecard

__all__ = [
    "FLOATS",
    "MISSING",
    "ExprOps",
    "FloatOps",
    "check_frame_values",
    "combine",
    "frame_steps",
    "health_of",
    "linear",
    "rule_expr",
]

#: How a missing measure is written among floats.
MISSING: Final = math.nan


class Ops(Protocol):
    """The few operations the formulas need beyond arithmetic.

    The formulas are typed with ``Any``: a "number" is a float or a narwhals expression.
    """

    def clip(self, x: Any, lo: float, hi: float) -> Any: ...
    def steps(self, x: Any, thresholds: Sequence[float], scores: Sequence[float]) -> Any: ...
    def present(self, x: Any) -> Any: ...
    def fill(self, x: Any, value: float) -> Any: ...
    def stage(self, items: list[Any]) -> list[Any]: ...


# -- the formulas --------------------------------------------------------------------------


def linear(ops: Ops, x: Any, lo: float, hi: float, higher: bool) -> Any:
    """`stars.health.Linear`: a straight line from ``lo`` to ``hi``, clipped to 0-100."""
    k = 100.0 / (hi - lo)
    raw = (x - lo) * k if higher else (hi - x) * k
    return ops.clip(raw, 0.0, 100.0)


def rule_points(ops: Ops, measure: Measure, x: Any) -> Any:
    """A measure's rule applied to ``x`` (a missing value gives a missing score)."""
    rule: Any = measure.rule
    thresholds = getattr(rule, "thresholds", None)
    if thresholds is None:  # Linear
        higher = measure.direction == "higher_is_better"
        return linear(ops, x, rule.lo, rule.hi, higher)
    return ops.steps(x, thresholds, rule.scores)  # Steps


def _fold(items: Sequence[Any]) -> Any:
    # Left-to-right sum, like ``a + b + c`` in a DataFrame expression (not fsum).
    total = items[0]
    for item in items[1:]:
        total = total + item
    return total


def combine(
    ops: Ops,
    missing: str,
    points: Sequence[Any],
    present: Sequence[Any],
    weights: Sequence[float],
    worsts: Sequence[float],
) -> tuple[list[Any], Any | None]:
    """Each measure's contribution to health under a missing-value policy.

    Args:
        ops: `FLOATS` or an `ExprOps`.
        missing: The `stars.health.MissingPolicy` value.
        points: Each measure's rule points (missing where the value is).
        present: What tells whether each measure is present (its points, or its raw value).
        weights: The normalised weights.
        worsts: Each measure's lowest score (the ``worst`` policy's stand-in).

    Returns:
        The contributions and, under ``redistribute``, the weight present (the divisor;
        dividing by a zero one raises ZeroDivisionError for floats).
    """
    if missing == "redistribute":
        weighted = [p * w for p, w in zip(points, weights, strict=True)]
        share = _fold([ops.present(x) * w for x, w in zip(present, weights, strict=True)])
        *weighted, share = ops.stage([*weighted, share])
        return [ops.fill(t, 0.0) / share for t in weighted], share
    if missing == "worst":
        return [
            ops.fill(p, bad) * w for p, bad, w in zip(points, worsts, weights, strict=True)
        ], None
    return [p * w for p, w in zip(points, weights, strict=True)], None


def health_of(ops: Ops, contributions: Sequence[Any]) -> Any:
    """The health score: the contributions added up, clipped to 0-100."""
    return ops.clip(_fold(contributions), 0.0, 100.0)


# -- floats ----------------------------------------------------------------------------------


class FloatOps:
    """The operations on Python floats (NaN is a missing value)."""

    __slots__ = ()

    def clip(self, x: float, lo: float, hi: float) -> float:
        return min(max(x, lo), hi)

    def steps(self, x: float, thresholds: Sequence[float], scores: Sequence[float]) -> float:
        return scores[bisect_right(thresholds, x)]

    def present(self, x: float) -> float:
        return 0.0 if x != x else 1.0

    def fill(self, x: float, value: float) -> float:
        return value if x != x else x

    def stage(self, items: list[float]) -> list[float]:
        return items

    def band(self, health: float, cutoffs: BandCutoffs) -> Band:
        return cutoffs.band_for(health)


FLOATS: Final = FloatOps()


# -- narwhals expressions ----------------------------------------------------------------------


class ExprOps:
    """The operations on narwhals expressions, collecting the ``with_columns`` steps of a plan.

    pandas and pyarrow evaluate every expression on its own, so there `stage` writes
    shared parts to temporary columns (named to avoid ``taken``) that later steps read.
    polars in lazy mode computes a repeated subexpression once (``shared=True``), so there
    they stay inline, which saves writing the temporaries.
    """

    __slots__ = ("plan", "shared", "taken", "temps")

    def __init__(self, taken: Sequence[str] = (), *, shared: bool = True) -> None:
        self.taken = list(taken)
        self.shared = shared
        self.temps: list[str] = []
        self.plan: list[dict[str, nw.Expr]] = []

    def clip(self, x: nw.Expr, lo: float, hi: float) -> nw.Expr:
        return x.clip(lo, hi)

    def steps(self, x: nw.Expr, thresholds: Sequence[float], scores: Sequence[float]) -> nw.Expr:
        import narwhals.stable.v1 as nw

        chain = nw.when(x < thresholds[0]).then(nw.lit(scores[0]))
        for threshold, points in zip(thresholds[1:], scores[1:-1], strict=True):
            chain = chain.when(x < threshold).then(nw.lit(points))
        # The last step tests its own threshold rather than using ``otherwise``, so that a
        # null value falls through every test and stays null.
        return chain.when(x >= thresholds[-1]).then(nw.lit(scores[-1]))

    def present(self, x: nw.Expr) -> nw.Expr:
        import narwhals.stable.v1 as nw

        return (~x.is_null()).cast(nw.Float64)

    def fill(self, x: nw.Expr, value: float) -> nw.Expr:
        return x.fill_null(value)

    def stage(self, items: list[nw.Expr]) -> list[nw.Expr]:
        import narwhals.stable.v1 as nw

        if self.shared:
            return items
        names: list[str] = []
        for i in range(len(items)):
            names.append(free_name([*self.taken, *self.temps, *names], f"__stars_{i}__"))
        self.temps.extend(names)
        self.plan.append(dict(zip(names, items, strict=True)))
        return [nw.col(name) for name in names]

    def band(self, health: nw.Expr, cutoffs: BandCutoffs) -> nw.Expr:
        import narwhals.stable.v1 as nw

        return (
            nw.when(health < cutoffs.red_below)
            .then(nw.lit("red"))
            .when(health >= cutoffs.green_from)
            .then(nw.lit("green"))
            .otherwise(nw.lit("yellow"))
        )


def rule_expr(measure: Measure, x: nw.Expr) -> nw.Expr:
    """A measure's score as an expression (null for a null value)."""
    expr: nw.Expr = rule_points(ExprOps(), measure, x)
    return expr


def frame_steps(
    scorecard: Scorecard,
    xs: Sequence[nw.Expr],
    columns: Sequence[str],
    *,
    outputs: Sequence[str],
    health: str,
    band: str,
    shared: bool,
) -> list[dict[str, nw.Expr]]:
    """The scoring plan for a frame: a few ``with_columns`` steps.

    Temporary columns (see `ExprOps.stage`) are for the caller to leave out at the end.

    Args:
        scorecard: The scorecard.
        xs: Each measure's values as Float64 expressions.
        columns: The frame's columns (temporaries avoid them).
        outputs: The names of the contribution columns, one per measure.
        health: The name of the health column.
        band: The name of the band column.
        shared: Whether the engine computes a repeated subexpression once (polars lazy).
    """
    import narwhals.stable.v1 as nw

    ops = ExprOps([*columns, *outputs, health, band], shared=shared)
    points = [rule_points(ops, m, x) for m, x in zip(scorecard.measures, xs, strict=True)]
    weights = list(scorecard.weights.values())
    worsts = [m.worst for m in scorecard.measures]
    contributions, _ = combine(ops, scorecard.missing, points, xs, weights, worsts)
    ops.plan.append(dict(zip(outputs, contributions, strict=True)))
    ops.plan.append({health: health_of(ops, [nw.col(out) for out in outputs])})
    ops.plan.append({band: ops.band(nw.col(health), scorecard.cutoffs)})
    return ops.plan


# -- checking a frame's values -------------------------------------------------------------


def check_frame_values(df: nw.DataFrame[Any], scorecard: Scorecard, xs: Sequence[nw.Expr]) -> None:
    """Refuse bad values of a frame about to be scored, in one pass of cheap aggregates.

    The pass reads each measure's min, max, sum and null count. Values outside the
    domain show in the min or max; NaN or infinity make the sum NaN or infinite. Only
    when this screen trips are the offending rows counted exactly (a huge but finite
    sum can trip it without any bad row, and then nothing is raised).
    """
    import narwhals.stable.v1 as nw

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
    if scorecard.missing == "refuse":
        for m, x, count in zip(scorecard.measures, xs, nulls, strict=True):
            if count:
                expected = "a number (this scorecard refuses missing)"
                _refuse_rows(df, m.name, x.is_null(), expected, "missing")
    elif scorecard.missing == "redistribute":
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
        raise_bad_rows(df, field, mask, expected, kind, count)


def _expected(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"a number from {lo:g} to {hi:g}"
    if lo is not None:
        return f"a number at or above {lo:g}"
    if hi is not None:
        return f"a number at or below {hi:g}"
    return "a finite number"
