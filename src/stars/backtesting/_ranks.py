"""Preparing a history (scores, outcomes, groups) and the rank metrics computed on its arrays."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from stars import _scoring, _tables
from stars import _validate as v
from stars._outcomes import group_codes as _group_codes
from stars._outcomes import load_numpy as _numpy
from stars._outcomes import outcome_values as _outcome
from stars.errors import (
    InvalidValue,
)
from stars.frames import BAND, CONTRIBUTION_PREFIX, HEALTH
from stars.health import Scorecard

if TYPE_CHECKING:
    import narwhals.stable.v1 as nw
    from numpy.typing import NDArray


# -- preparing a frame -----------------------------------------------------------------


class _Prepared:
    """Whole-column arrays for one frame and scorecard (private, never returned)."""

    __slots__ = ("health", "measure_scores", "n", "period", "segment", "y")

    def __init__(
        self,
        health: NDArray[Any],
        y: NDArray[Any],
        measure_scores: list[NDArray[Any]],
        period: tuple[NDArray[Any], list[str], NDArray[Any]] | None,
        segment: tuple[NDArray[Any], list[str]] | None,
    ) -> None:
        self.health = health
        self.y = y
        self.measure_scores = measure_scores
        self.period = period
        self.segment = segment
        self.n = int(y.size)


def _prepare(
    frame: Any,
    scorecard: Scorecard,
    outcome: str,
    period: str | None,
    segment: str | None,
) -> tuple[nw.DataFrame[Any], _Prepared]:
    _numpy()
    _tables.require_narwhals()
    if not isinstance(scorecard, Scorecard):
        raise InvalidValue("scorecard", scorecard, "a Scorecard")
    df, _ = _tables.eager(frame)
    for field, name in (("outcome", outcome), ("period", period), ("segment", segment)):
        if name is not None or field == "outcome":
            v.text(field, name)
            if name not in df.columns:
                raise InvalidValue(
                    field, name, f"a column of the frame ({len(df.columns)} columns)"
                )
    if len(df) == 0:
        raise InvalidValue("frame", "0 rows", "at least one row to backtest on")
    y = _outcome(df, outcome)
    xs = _tables.numeric_columns(df, scorecard.names)
    _scoring.check_frame_values(df, scorecard, xs)
    health, scores = _health(df, scorecard, xs, with_measures=True)
    periods = None
    if period is not None:
        periods = _group_codes(df, period, ordered=True)
    segments = _group_codes(df, segment)[:2] if segment is not None else None
    return df, _Prepared(health, y, scores, periods, segments)


def _health(
    df: nw.DataFrame[Any], scorecard: Scorecard, xs: Sequence[nw.Expr], *, with_measures: bool
) -> tuple[NDArray[Any], list[NDArray[Any]]]:
    """Health (and each measure's own 0-100 score) as arrays, via stars._scoring's plan."""
    import narwhals.stable.v1 as nw

    shared = df.implementation is nw.Implementation.POLARS
    steps = _scoring.frame_steps(
        scorecard,
        xs,
        df.columns,
        outputs=[CONTRIBUTION_PREFIX + n for n in scorecard.names],
        health=HEALTH,
        band=BAND,
        shared=shared,
    )
    steps = [s for s in ({k: e for k, e in step.items() if k != BAND} for step in steps) if s]
    measure_cols: list[str] = []
    if with_measures:
        taken = [*df.columns, *(k for step in steps for k in step)]
        first: dict[str, nw.Expr] = {}
        for i, (m, x) in enumerate(zip(scorecard.measures, xs, strict=True)):
            name = _tables.free_name([*taken, *measure_cols], f"__stars_measure_{i}__")
            measure_cols.append(name)
            first[name] = _scoring.rule_expr(m, x)
        steps.insert(0, first)
    plan = df.lazy()
    for step in steps:
        plan = plan.with_columns(**step)
    out = plan.select(HEALTH, *measure_cols).collect()
    health = out.get_column(HEALTH).to_numpy()
    scores = [out.get_column(c).to_numpy() for c in measure_cols]
    return health, scores


# -- metrics on arrays -----------------------------------------------------------------


def _sort(values: NDArray[Any]) -> NDArray[Any]:
    """``values`` sorted ascending: by polars when it is installed, else by NumPy.

    polars sorts a numeric column on its own thread pool (the one every polars call
    uses), about twice as fast as NumPy's single-threaded sort on a million floats; the
    backtest sorts one column per measure. The values are finite here (missing scores
    are dropped first), so both give the same array.
    """
    try:
        import polars as pl
    except ImportError:
        return _numpy().sort(values)  # type: ignore[no-any-return]
    return pl.Series(values).sort().to_numpy()


class _Ranked:
    """Tie groups of a score, ascending (riskiest first), optionally within groups."""

    __slots__ = ("cnt", "group", "neg", "pos", "starts", "values")

    def __init__(self, values: NDArray[Any], y: NDArray[Any], group: NDArray[Any] | None) -> None:
        np = _numpy()
        if group is None:
            # Sorting the values is cheaper than an argsort followed by gathers; the
            # positives are then counted per distinct value by locating each positive
            # row's value among the distinct values.
            s = _sort(values)
            change = s[1:] != s[:-1]
            self.group = None
        else:
            order = np.lexsort((values, group))
            s = values[order]
            g = group[order]
            change = (s[1:] != s[:-1]) | (g[1:] != g[:-1])
        starts = np.flatnonzero(np.concatenate(([True], change)))
        self.starts = starts
        self.values = s[starts]
        self.cnt = np.diff(np.append(starts, values.size))
        if group is None:
            # (sorted needles let searchsorted narrow each search from the previous one)
            where = np.searchsorted(self.values, _sort(values[y.astype(bool)]))
            self.pos = np.bincount(where, minlength=starts.size).astype(np.int64)
        else:
            self.group = g[starts]
            self.pos = np.add.reduceat(y[order], starts)
        self.neg = self.cnt - self.pos


def _auc(r: _Ranked) -> tuple[float | None, int, int]:
    np = _numpy()
    big_p, big_n = int(r.pos.sum()), int(r.neg.sum())
    if big_p == 0 or big_n == 0:
        return None, big_p, big_n
    higher = big_n - np.cumsum(r.neg)
    twice = 2 * int((r.pos * higher).sum()) + int((r.pos * r.neg).sum())
    return twice / (2 * big_p * big_n), big_p, big_n


def _auc_by_group(
    values: NDArray[Any], y: NDArray[Any], codes: NDArray[Any], n_groups: int
) -> list[tuple[float | None, int, int]]:
    np = _numpy()
    r = _Ranked(values, y, codes)
    g = r.group
    pos_g = np.bincount(g, weights=r.pos, minlength=n_groups)
    neg_g = np.bincount(g, weights=r.neg, minlength=n_groups)
    before = np.cumsum(neg_g) - neg_g
    higher = neg_g[g] - (np.cumsum(r.neg) - before[g])
    twice = 2 * np.bincount(g, weights=r.pos * higher, minlength=n_groups) + np.bincount(
        g, weights=r.pos * r.neg, minlength=n_groups
    )
    out: list[tuple[float | None, int, int]] = []
    for i in range(n_groups):
        p, n = int(pos_g[i]), int(neg_g[i])
        out.append((float(twice[i]) / (2 * p * n) if p and n else None, p, n))
    return out


def _measure_auc(scores: NDArray[Any], y: NDArray[Any]) -> tuple[float | None, int, int, int]:
    """A measure's own AUC over the rows where it has a score, and how many those are."""
    np = _numpy()
    present = ~np.isnan(scores)
    n_present = int(present.sum())
    if n_present == 0:
        return None, 0, 0, 0
    if n_present < scores.size:
        scores, y = scores[present], y[present]
    return (*_auc(_Ranked(scores, y, None)), n_present)


def _undefined(p: int, n: int) -> str:
    return "no rows with outcome 1" if p == 0 else "every row has outcome 1"


def _instant(df: nw.DataFrame[Any], column: str) -> nw.Expr:
    """A column of dates, date-times or ISO text as naive UTC date-times."""
    import narwhals.stable.v1 as nw

    dtype = df.schema[column]
    x = nw.col(column)
    if dtype == nw.String:
        return x.str.to_datetime()
    if dtype == nw.Date:
        return x.cast(nw.Datetime("us"))
    if isinstance(dtype, nw.Datetime):
        if dtype.time_zone is not None:
            return x.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return x
    raise InvalidValue(column, str(dtype), "dates, date-times or ISO text, to compare in time")


def _as_of(
    frame: Any, period: str | None, known_at: str | None, account: str | None
) -> tuple[nw.DataFrame[Any], list[str]]:
    """The rows known by their period's cut-off (the latest version per account and period)."""
    import narwhals.stable.v1 as nw

    _numpy()
    _tables.require_narwhals()
    if known_at is None:
        raise InvalidValue("known_at", None, "a column of recording times when account= is given")
    if period is None:
        raise InvalidValue(
            "period", None, "a period column: known_at keeps the rows known by each period"
        )
    df, _ = _tables.eager(frame)
    for field, name in (("known_at", known_at), ("period", period), ("account", account)):
        if name is not None and name not in df.columns:
            v.text(field, name)
            raise InvalidValue(field, name, f"a column of the frame ({len(df.columns)} columns)")
    known = _tables.free_name(df.columns, "__stars_known__")
    cutoff = _tables.free_name([*df.columns, known], "__stars_cutoff__")
    try:
        marked = df.with_columns(**{known: _instant(df, known_at), cutoff: _instant(df, period)})
    except InvalidValue:
        raise
    except Exception as err:  # a text column that is not ISO dates
        raise InvalidValue(
            known_at, str(err).splitlines()[0][:120], "dates, date-times or ISO text"
        ) from None
    total = len(marked)
    kept = marked.filter(nw.col(known).is_null() | (nw.col(known) <= nw.col(cutoff)))
    late = total - len(kept)
    replaced = 0
    if account is not None:
        before = len(kept)
        kept = kept.sort(known, nulls_last=False).unique(
            subset=[account, period], keep="last", maintain_order=True
        )
        replaced = before - len(kept)
    notes = [
        f"as of each period's cut-off ({period}): {late:,} of {total:,} rows recorded later"
        f" ({known_at}) left out"
        + (
            f", {replaced:,} replaced by a later version of the same {account} and period"
            if account is not None
            else ""
        )
    ]
    return kept.drop(known, cutoff), notes
