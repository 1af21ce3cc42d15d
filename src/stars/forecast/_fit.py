"""Fitting the renewal model: isotonic maps by horizon and group, loss severity, overdispersion."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from stars import _validate as v
from stars._isotonic import pav
from stars._outcomes import group_codes, last_training
from stars.errors import InvalidValue
from stars.forecast._common import _Columns, _eager, _numpy
from stars.forecast._curve import RiskCurve
from stars.forecast._model import RenewalModel

if TYPE_CHECKING:
    import narwhals.stable.v1 as nw
    from numpy.typing import NDArray


#: Health is pooled on a grid of this many cells per point before the isotonic fit.
_CELLS_PER_POINT: Final = 10
#: Pseudo-rows at the base rate added to every block of the fitted map.
_PRIOR_ROWS: Final = 20.0
#: Default horizon edges, in days to renewal: within a month, a quarter, half a year, later.
HORIZONS: Final = (31.0, 92.0, 183.0)


def _fit_curve(
    np: Any, health: NDArray[Any], y: NDArray[Any], group: str | None, horizon: int | None
) -> RiskCurve:
    cells = 100 * _CELLS_PER_POINT + 1
    seen = ~np.isnan(health)
    rows, positives = int(y.size), int(y.sum())
    rate = positives / rows
    idx = np.rint(health[seen] * _CELLS_PER_POINT).astype(np.int64)
    n = np.bincount(idx, minlength=cells)
    pos = np.bincount(idx, weights=y[seen], minlength=cells)
    used = np.flatnonzero(n)
    if used.size == 0:
        return RiskCurve(group, horizon, (50.0,), (rate,), rows, positives)
    nu, pu = n[used], pos[used]
    fitted = np.asarray(pav((pu / nu).tolist(), nu.tolist(), increasing=False))
    starts = np.flatnonzero(np.r_[True, fitted[1:] != fitted[:-1]])
    bn = np.add.reduceat(nu, starts).astype(np.float64)
    bp = np.add.reduceat(pu, starts)
    knots = np.add.reduceat(used * nu, starts) / bn / _CELLS_PER_POINT
    smooth = (bp + _PRIOR_ROWS * rate) / (bn + _PRIOR_ROWS)
    probs = pav(smooth.tolist(), (bn + _PRIOR_ROWS).tolist(), increasing=False)
    return RiskCurve(group, horizon, knots.tolist(), probs, rows, positives)


def fit_renewal_model(
    frame: Any,
    *,
    outcome: str,
    health: str = "health",
    days: str | None = None,
    by: str | None = None,
    revenue: str | None = None,
    lost: str | None = None,
    period: str | None = None,
    train_until: object = None,
    horizons: Sequence[float] = HORIZONS,
    min_rows: int = 200,
) -> RenewalModel:
    """Fit the probability that a renewal goes badly, from health and time to renewal.

    Args:
        frame: One row per contract coming up for renewal, read some days before it: a
            polars, pandas or pyarrow DataFrame. Monthly subscriptions renew every month,
            so they have a row every month.
        outcome: The 0/1 column: 1 when the renewal ended in churn or contraction.
        health: The health column (0-100; a null is an unknown health).
        days: The column of days from the reading to the renewal date, if any: then a
            map is fitted per time-to-renewal bucket.
        by: A group column (such as the contract term) to fit separate maps for.
        revenue: The column of each contract's recurring revenue: needed for revenue at
            risk.
        lost: The column of revenue each renewal lost (default: all of it when the
            outcome is 1).
        period: The period column, to train on early periods only and to estimate how
            much periods swing together.
        train_until: The last training period (with ``period``; default: every period).
        horizons: The edges of the time-to-renewal buckets, in days, increasing.
        min_rows: A bucket or group with fewer training rows (or fewer than 5 renewals of
            either outcome) uses the map of the level above it.

    Returns:
        The fitted model.

    Raises:
        InvalidValue: For a missing column, values out of range, a bad ``train_until``,
            or training rows with only one outcome.

    Examples:
        >>> from stars.forecast import fit_renewal_model
        >>> from stars.frames import score
        >>> from stars.health import Direction, Linear, Measure, Scorecard
        >>> from stars.testing import synthetic_history
        >>> rows = synthetic_history(300, 24, seed=3, contracts=True)
        >>> card = Scorecard([Measure("adoption", 1, Direction.HIGHER_IS_BETTER, Linear(0, 1))])
        >>> due = score(rows.filter(rows["renewing"] == 1), card)
        >>> model = fit_renewal_model(due, outcome="churned", days="days_to_renewal",
        ...                           by="term", revenue="arr", lost="lost_revenue")
        >>> model.probability(20, 10, "annual") > model.probability(20, 10, "monthly")
        True
    """
    np = _numpy()
    df, _ = _eager(frame)
    edges = tuple(v.number(f"horizons[{i}]", h, 0) for i, h in enumerate(horizons))
    if any(b <= a for a, b in itertools.pairwise(edges)):
        raise InvalidValue("horizons", horizons, "edges in days, strictly increasing")
    min_rows = int(v.number("min_rows", min_rows, 1, integer=True))
    if (period is None) != (train_until is None) and train_until is not None:
        raise InvalidValue("train_until", train_until, "None when no period column is given")
    train, _, notes = _split(np, df, period, train_until, outcome)
    return _fit(
        np, df, train, notes, outcome, health, days, by, revenue, lost, period, edges, min_rows
    )


def _split(
    np: Any, df: nw.DataFrame[Any], period: str | None, train_until: object, outcome: str
) -> tuple[NDArray[Any], NDArray[Any] | None, list[str]]:
    v.text("outcome", outcome)
    if outcome not in df.columns:
        raise InvalidValue("outcome", outcome, f"a column of the frame ({len(df.columns)})")
    if len(df) == 0:
        raise InvalidValue("frame", "0 rows", "at least one renewal")
    if period is None:
        return np.ones(len(df), dtype=bool), None, []
    v.text("period", period)
    if period not in df.columns:
        raise InvalidValue("period", period, f"a column of the frame ({len(df.columns)})")
    codes, labels, uniques = group_codes(df, period, ordered=True)
    if train_until is None:
        return np.ones(len(df), dtype=bool), codes, []
    last = last_training(np, uniques, labels, train_until)
    return codes <= last, codes, [f"trained on periods up to {labels[last]}"]


def _fit(
    np: Any,
    df: nw.DataFrame[Any],
    train: NDArray[Any],
    notes: list[str],
    outcome: str,
    health: str,
    days: str | None,
    by: str | None,
    revenue: str | None,
    lost: str | None,
    period: str | None,
    edges: tuple[float, ...],
    min_rows: int,
) -> RenewalModel:
    cols = _Columns(np, df, health, days, by, revenue, lost, outcome)
    assert cols.y is not None
    y, h = cols.y[train], cols.health[train]
    positives = int(y.sum())
    if positives in (0, y.size):
        raise InvalidValue(
            outcome,
            f"{positives} of {y.size} training rows with outcome 1",
            "both 0s and 1s in the training rows",
        )
    glabels, gcodes = cols.groups
    gcodes = gcodes[train]
    groups = (glabels, gcodes)
    if cols.days is not None:
        horizon = np.searchsorted(np.asarray(edges), cols.days[train], side="right")
        horizon = np.where(np.isnan(cols.days[train]), -1, horizon)
    else:
        horizon = np.full(y.size, -1)

    def enough(mask: NDArray[Any]) -> bool:
        k, n = int(y[mask].sum()), int(mask.sum())
        return n >= min_rows and k >= 5 and n - k >= 5

    curves: list[RiskCurve] = []
    labels = [g for i, g in enumerate(glabels) if (gcodes == i).any()]
    for g in [*labels, None]:
        in_group = gcodes == glabels.index(g) if g is not None else np.ones(y.size, dtype=bool)
        if g is not None and not enough(in_group):
            notes.append(f"{by} = {g}: too few training rows of each outcome; the pooled map")
            continue
        if cols.days is not None:
            for b in range(len(edges) + 1):
                mask = in_group & (horizon == b)
                if enough(mask):
                    curves.append(_fit_curve(np, h[mask], y[mask], g, b))
        curves.append(_fit_curve(np, h[in_group], y[in_group], g, None))

    severity: dict[str, tuple[float, float]] = {"": (1.0, 1.0)}
    overdispersion = 0.0
    model = RenewalModel(
        health, days, by, edges, tuple(curves), positives / y.size, int(y.size), positives,
        severity, 0.0, (),
    )  # fmt: skip
    if cols.revenue is not None:
        a = cols.revenue[train]
        loss = cols.lost[train] if cols.lost is not None else a * y
        share = np.where(a > 0, np.minimum(loss / np.where(a > 0, a, 1.0), 1.0), 0.0)
        bad = y > 0
        for g in ["", *labels]:
            mask = bad & (gcodes == glabels.index(g)) if g else bad
            if int(mask.sum()) >= 5 and a[mask].sum() > 0:
                m = float((a[mask] * share[mask]).sum() / a[mask].sum())
                m2 = float((a[mask] ** 2 * share[mask] ** 2).sum() / (a[mask] ** 2).sum())
                severity[g] = (m, m2)
        model = attrs.evolve(model, severity=severity)
        notes.append(
            f"a bad renewal lost {severity[''][0]:.1%} of its revenue on average in training"
        )
        if period is not None:
            codes = _split(np, df, period, None, outcome)[1]
            assert codes is not None
            p = model._predict(np, h, None if cols.days is None else cols.days[train], groups)
            t = codes[train]
            size = int(t.max()) + 1
            # the shock scales every probability of a period, so it is read off the count
            # of bad renewals, which large contracts do not make lumpy
            e_t = np.bincount(t, weights=p, minlength=size)
            v_t = np.bincount(t, weights=p * (1 - p), minlength=size)
            k_t = np.bincount(t, weights=y, minlength=size)
            used = np.bincount(t, minlength=size) > 0
            e_t, v_t, k_t = e_t[used], v_t[used], k_t[used]
            if used.sum() >= 3 and (e_t**2).sum() > 0:
                overdispersion = max(0.0, float(((k_t - e_t) ** 2 - v_t).sum() / (e_t**2).sum()))
            notes.append(
                f"periods swing together: a shock of standard deviation "
                f"{math.sqrt(overdispersion):.1%} scales every expected loss of a period "
                f"(estimated on the bad renewals of {int(used.sum())} training periods)"
            )
    return attrs.evolve(model, overdispersion=overdispersion, notes=tuple(notes))
