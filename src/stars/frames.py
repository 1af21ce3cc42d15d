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

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from stars import _stage_rules
from stars import _validate as _v
from stars._scoring import check_frame_values, frame_steps
from stars._tables import eager as _eager
from stars._tables import free_name as _free_name
from stars._tables import is_type_or_all_null as _is_type_or_all_null
from stars._tables import numeric_columns as _numeric_columns
from stars._tables import raise_bad_rows as _raise_bad_rows
from stars._tables import require_narwhals as _require_narwhals
from stars._tables import to_caller
from stars.errors import InvalidDefinition, InvalidValue
from stars.health import Scorecard
from stars.lifecycle import (
    STARS,
    Lifecycle,
    diagnose_stars,
)

if TYPE_CHECKING:
    import narwhals.stable.v1 as nw
    from narwhals.typing import IntoDataFrameT

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
    import narwhals.stable.v1 as nw

    if not isinstance(scorecard, Scorecard):
        raise InvalidValue("scorecard", scorecard, "a Scorecard")
    df, _ = _eager(frame)
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
    check_frame_values(df, scorecard, xs)
    outputs = [CONTRIBUTION_PREFIX + n for n in names]
    steps = frame_steps(
        scorecard,
        xs,
        df.columns,
        outputs=outputs,
        health=HEALTH,
        band=BAND,
        shared=df.implementation is nw.Implementation.POLARS,
    )
    plan = df.lazy()
    for step in steps:
        plan = plan.with_columns(**step)
    added = [HEALTH, BAND, *outputs]
    kept = [c for c in df.columns if c not in added]
    out = plan.select(*kept, *added).collect()
    return to_caller(out, frame)  # type: ignore[no-any-return]


# ======================================================================================
# Stage assignment
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
    import narwhals.stable.v1 as nw

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


def _check_evidence(df: nw.DataFrame[Any], numbers: Mapping[str, nw.Expr]) -> None:
    import narwhals.stable.v1 as nw

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
