"""Calibration: refit weights, rules and band cut-offs on early periods.

`calibrate`, `fit_rules`, `Percentile` and `fit_percentile`, and the warnings a fit earns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, overload

import attrs

from stars import _tables
from stars import _validate as v
from stars._html import table
from stars._outcomes import group_codes as _group_codes
from stars._outcomes import last_training as _last_training
from stars._outcomes import load_numpy as _numpy
from stars.backtesting._backtest import Backtest, _report
from stars.backtesting._common import (
    _GREEN_BINS,
    _count,
    _instance,
    _name,
    _pct,
    _plain,
    _to_direction,
    _to_notes,
)
from stars.backtesting._ranks import _auc, _health, _prepare, _Prepared, _Ranked, _undefined
from stars.bands import BandCutoffs
from stars.errors import (
    InvalidDefinition,
    InvalidValue,
    MissingDependency,
)
from stars.health import Direction, MissingPolicy, Scorecard, Steps

if TYPE_CHECKING:
    from numpy.typing import NDArray


@attrs.frozen(slots=True)
class Calibration:
    """A scorecard refitted on early periods and judged on the later ones.

    Made by `calibrate`.

    Attributes:
        scorecard: The fitted scorecard: the same measures, rules, groups and missing
            policy, with new weights and band cut-offs. Use it like any other.
        previous: The scorecard that was calibrated.
        period: The period column.
        train_until: The last training period (as text).
        train_rows: Rows used for fitting.
        train_positives: Of those, rows with outcome 1.
        before: The backtest of ``previous`` on the held-out rows.
        after: The backtest of ``scorecard`` on the held-out rows.
        notes: How the cut-offs were chosen, and anything unusual in the fit.

    Examples:
        >>> from stars.backtesting import calibrate
        >>> from stars.health import Direction, Linear, Measure, Scorecard
        >>> from stars.testing import synthetic_history
        >>> history = synthetic_history(400, 8, seed=3, signal=2.0)
        >>> up, down = Direction.HIGHER_IS_BETTER, Direction.LOWER_IS_BETTER
        >>> card = Scorecard([
        ...     Measure("adoption", 1, up, Linear(0, 1)),
        ...     Measure("open_tickets", 3, down, Linear(0, 12)),
        ... ])
        >>> fit = calibrate(history, card, outcome="churned", period="period",
        ...                 train_until="2024-05-01")
        >>> fit.weights["adoption"] > fit.previous.weights["adoption"]
        True
        >>> fit.after.auc > fit.before.auc
        True
    """

    scorecard: Scorecard = attrs.field(validator=lambda i, a, x: _instance(a.name, x, Scorecard))
    previous: Scorecard = attrs.field(validator=lambda i, a, x: _instance(a.name, x, Scorecard))
    period: str = attrs.field(validator=_name)
    train_until: str = attrs.field(validator=_name)
    train_rows: int = attrs.field(validator=_count)
    train_positives: int = attrs.field(validator=_count)
    before: Backtest = attrs.field(validator=lambda i, a, x: _instance(a.name, x, Backtest))
    after: Backtest = attrs.field(validator=lambda i, a, x: _instance(a.name, x, Backtest))
    notes: tuple[str, ...] = attrs.field(default=(), converter=_to_notes)

    @property
    def weights(self) -> dict[str, float]:
        """The fitted weights (non-negative, adding up to 1).

        Examples:
            >>> from stars.backtesting import Calibration
            >>> Calibration.weights.__doc__.split(".")[0]
            'The fitted weights (non-negative, adding up to 1)'
        """
        return self.scorecard.weights

    def explain(self) -> str:
        """A plain-text account of the new weights and cut-offs, and the held-out results.

        Examples:
            >>> from stars.backtesting import Calibration
            >>> callable(Calibration.explain)
            True
        """
        old = self.previous.weights
        lines = [
            f"Calibrated on {self.train_rows:,} rows up to {self.period} = {self.train_until} "
            f"({self.train_positives:,} positive); judged on {self.after.rows:,} later rows",
            "Weights (before -> after):",
        ]
        width = max(len(n) for n in old)
        for name, weight in self.weights.items():
            lines.append(f"  {name:<{width}}  {old[name]:6.1%} -> {weight:6.1%}")
        before, after = self.previous.cutoffs, self.scorecard.cutoffs
        lines.append(
            f"Bands: red below {before.red_below:g} -> {after.red_below:.1f}, "
            f"green from {before.green_from:g} -> {after.green_from:.1f}"
        )
        lines.append(f"Held-out AUC: {self.before.auc:.3f} -> {self.after.auc:.3f}")
        lines.append(
            "Held-out green but churned: "
            f"{self.before.green_but_churned:.1%} -> {self.after.green_but_churned:.1%}"
        )
        lines.extend(f"Note: {n}" for n in self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready data; the scorecards as plain dicts too.

        Examples:
            >>> from stars.backtesting import Calibration
            >>> "to_dict" in dir(Calibration)
            True
        """
        out: dict[str, Any] = _plain(self)
        out["before"]["base_rate"] = self.before.base_rate
        out["after"]["base_rate"] = self.after.base_rate
        return out

    def _repr_html_(self) -> str:
        old = self.previous.weights
        html = table(
            ("measure", "weight before", "weight after"),
            [(n, f"{old[n]:.1%}", f"{w:.1%}") for n, w in self.weights.items()],
            caption=f"Calibrated up to {self.period} = {self.train_until}",
        )
        html += table(
            ("held out", "before", "after"),
            [
                ("AUC", f"{self.before.auc:.3f}", f"{self.after.auc:.3f}"),
                (
                    "green but churned",
                    _pct(self.before.green_but_churned),
                    _pct(self.after.green_but_churned),
                ),
                (
                    "red below",
                    f"{self.previous.cutoffs.red_below:.1f}",
                    f"{self.scorecard.cutoffs.red_below:.1f}",
                ),
                (
                    "green from",
                    f"{self.previous.cutoffs.green_from:.1f}",
                    f"{self.scorecard.cutoffs.green_from:.1f}",
                ),
            ],
        )
        if self.notes:
            html += table(("note",), [(n,) for n in self.notes])
        return html


# -- the percentile rule ---------------------------------------------------------------


@attrs.frozen(slots=True)
class Percentile(Steps):
    """A relative rule: a value scores its percentile within a reference distribution.

    The reference is stored, not looked up: ``thresholds`` are the distinct quantiles of
    the reference values and ``scores`` the percentile each one reaches (0-100, rising
    for a higher-is-better measure, falling for a lower-is-better one). So an account
    scores the same alone as in any batch, and the rule saves like any other. It is a
    kind of `Steps`, so every scorecard and DataFrame function
    accepts it. Make one with `fit_percentile`.

    Attributes:
        thresholds: The distinct reference quantiles, increasing.
        scores: The percentile below the first quantile, then at each quantile.

    Examples:
        >>> from stars.backtesting import Percentile
        >>> from stars.health import Direction
        >>> rule = Percentile((10, 20, 30), (0, 50, 75, 100))
        >>> rule.apply(25, Direction.HIGHER_IS_BETTER)
        75.0
        >>> Percentile((1, 2), (0, 80, 40))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidDefinition: a Percentile rule's scores must run one way, ...
    """

    def __attrs_post_init__(self) -> None:
        Steps.__attrs_post_init__(self)
        pairs = list(zip(self.scores, self.scores[1:], strict=False))
        if not (all(a <= b for a, b in pairs) or all(a >= b for a, b in pairs)):
            raise InvalidDefinition(
                f"a Percentile rule's scores must run one way, got {self.scores!r}"
            )


@overload
def fit_percentile(
    frame: Any,
    column: str,
    *,
    direction: Direction | str,
    quantiles: int = 101,
    segment: None = None,
) -> Percentile: ...


@overload
def fit_percentile(
    frame: Any,
    column: str,
    *,
    direction: Direction | str,
    quantiles: int = 101,
    segment: str,
) -> dict[str, Percentile]: ...


def fit_percentile(
    frame: Any,
    column: str,
    *,
    direction: Direction | str,
    quantiles: int = 101,
    segment: str | None = None,
) -> Percentile | dict[str, Percentile]:
    """Fit a `Percentile` rule from the values of one column.

    The reference distribution is kept as ``quantiles`` evenly spaced quantiles (for
    each level, the smallest observed value with at least that share of the reference
    at or below it; never an interpolation). A value then scores the share of the
    reference at or below it, rounded down to a whole quantile step of
    ``100 / (quantiles - 1)`` points. Missing values are left out of the reference.

    Args:
        frame: A polars, pandas or pyarrow DataFrame.
        column: The numeric column to fit on.
        direction: The direction of the measure the rule is for: with
            ``lower_is_better`` a value at the bottom of the reference scores 100.
        quantiles: How many quantiles to keep (2 to 10001); 101 gives whole percentiles.
        segment: When given, one rule per value of this column (for scoring accounts
            against their own segment), keyed by the value as text.

    Returns:
        The rule, or a dict of rules by segment.

    Raises:
        InvalidValue: If the column is absent, not numeric, holds NaN or infinity, or has
            no values (in some segment), or if ``quantiles`` is out of range.

    Examples:
        >>> import polars as pl
        >>> from stars.backtesting import fit_percentile
        >>> from stars.health import Direction, Measure, Scorecard
        >>> frame = pl.DataFrame({"days": [3, 7, 7, 14, 30], "tier": ["a", "a", "b", "b", "b"]})
        >>> rule = fit_percentile(frame, "days", direction="lower_is_better", quantiles=5)
        >>> rule.thresholds, rule.scores
        ((3.0, 7.0, 14.0, 30.0), (100.0, 100.0, 50.0, 25.0, 0.0))
        >>> card = Scorecard([Measure("days", 1, "lower_is_better", rule)])
        >>> card.score({"days": 10}).score
        50.0
        >>> sorted(fit_percentile(frame, "days", direction="lower_is_better", segment="tier"))
        ['a', 'b']
    """
    np = _numpy()
    way = _to_direction(direction)
    count = int(v.number("quantiles", quantiles, 2, 10001, integer=True))
    _tables.require_narwhals()
    df, _ = _tables.eager(frame)
    (x,) = _tables.numeric_columns(df, [column])
    values = df.select(x.alias(column)).get_column(column).to_numpy().astype(np.float64)
    bad = ~np.isnan(values) & ~np.isfinite(values)
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise InvalidValue(column, values[bad][:5].tolist(), "finite numbers", hint=f"rows {rows}")
    if segment is None:
        return _percentile(np, values[~np.isnan(values)], count, way, column)
    codes, labels, _ = _group_codes(df, segment)
    out: dict[str, Percentile] = {}
    for i, label in enumerate(labels):
        chosen = values[(codes == i) & ~np.isnan(values)]
        out[label] = _percentile(np, chosen, count, way, f"{column} in {segment} {label!r}")
    return out


def _percentile(np: Any, values: NDArray[Any], count: int, way: Direction, what: str) -> Percentile:
    if values.size == 0:
        raise InvalidValue(what, [], "at least one value to fit a percentile rule on")
    ordered = np.sort(values)
    # The inverse of the empirical distribution: for each level, the smallest value
    # with at least that share of the reference at or below it.
    picks = np.maximum((np.arange(count) * ordered.size + count - 2) // (count - 1) - 1, 0)
    q = ordered[picks]
    thresholds = np.unique(q)
    reached = 100.0 * (np.searchsorted(q, thresholds, side="right") - 1) / (count - 1)
    if way is Direction.HIGHER_IS_BETTER:
        scores = [0.0, *reached.tolist()]
    else:
        scores = [100.0, *(100.0 - reached).tolist()]
    return Percentile(tuple(thresholds.tolist()), tuple(scores))


def calibrate(
    frame: Any,
    scorecard: Scorecard,
    *,
    outcome: str,
    period: str,
    train_until: object,
    red_share: float | None = None,
    red_below: float | None = None,
    rules: bool = False,
) -> Calibration:
    """Refit a scorecard's weights and bands on early periods; judge it on later ones.

    The weights are fitted on the rows with ``period <= train_until`` by a logistic
    regression of the outcome on the measures' own 0-100 scores (SciPy's L-BFGS-B),
    with every coefficient bound so that a higher measure score can only lower the
    risk: the declared directions stay, and a measure that points the wrong way gets
    weight 0. The coefficients, scaled to add up to 1, are the new weights. For the fit
    only, a missing measure score is filled with that measure's mean training score
    (``redistribute``) or its worst score (``worst``).

    Then the band cut-offs are set from the training rows scored with the new weights.
    Red: the lowest scores that hold at least half of the positive rows (or the
    riskiest ``red_share`` of rows, or a given ``red_below``). Green: the lowest score
    from which on the outcome rate is at most half the base rate.

    Args:
        frame: A polars, pandas or pyarrow DataFrame, as for `backtest`.
        scorecard: The scorecard to start from.
        outcome: The 0/1 outcome column.
        period: The period column.
        train_until: The last period to train on (same kind as the period column;
            ISO text is accepted for dates). Later periods are held out.
        red_share: Make the riskiest share of training rows red instead (0 to 1).
        red_below: Use this red cut-off instead.
        rules: Fit each measure's rule too, before its weight: see `fit_rules`. Each
            fitted rule is kept only where it earns its place: each of the last four
            training periods is scored by rules and weights fitted on the periods before
            it, and a measure takes its fitted steps only if they raise the mean AUC of
            those periods by more than 0.002 plus two standard errors (the others keep
            their declared rules; the first note says which and by how much). The
            result stays points per measure.

    Returns:
        The calibration, with the new scorecard and held-out results before and after.

    Raises:
        InvalidValue: For the bad inputs `backtest` refuses, a ``train_until``
            that leaves no training or no held-out periods or cannot be compared with
            the periods, both ``red_share`` and ``red_below``, or training or held-out
            rows with only one outcome.
        MissingDependency: If SciPy is not installed (the ``calibrate`` extra).

    Examples:
        >>> from stars.backtesting import calibrate
        >>> from stars.health import Direction, Linear, Measure, Scorecard
        >>> from stars.testing import synthetic_history
        >>> history = synthetic_history(400, 8, seed=5, signal=2.0)
        >>> card = Scorecard([
        ...     Measure("adoption", 1, Direction.HIGHER_IS_BETTER, Linear(0, 1)),
        ...     Measure("sentiment", 1, Direction.HIGHER_IS_BETTER, Linear(-1, 1)),
        ... ])
        >>> fit = calibrate(history, card, outcome="churned", period="period",
        ...                 train_until="2024-04-01", red_share=0.2)
        >>> round(sum(fit.weights.values()), 9), fit.train_until
        (1.0, '2024-04-01')
    """
    np = _numpy()
    try:
        from scipy.optimize import minimize
    except ImportError:  # pragma: no cover - scipy is installed in the test env
        raise MissingDependency("scipy", "calibrate") from None
    v.text("period", period)
    if not isinstance(rules, bool):
        raise InvalidValue("rules", rules, "True or False")
    if rules:
        return _calibrate_rules(
            frame, scorecard, outcome, period, train_until, red_share, red_below
        )
    if red_share is not None and red_below is not None:
        raise InvalidValue("red_share", red_share, "None when red_below is given")
    if red_share is not None:
        v.number("red_share", red_share, 0, 1)
    if red_below is not None:
        v.number("red_below", red_below, 0, 100)
    df, data = _prepare(frame, scorecard, outcome, period, None)
    assert data.period is not None
    codes, labels, uniques = data.period
    last = _last_training(np, uniques, labels, train_until)
    train = codes <= last
    test = ~train
    y_train = data.y[train]
    p_train = int(y_train.sum())
    if p_train == 0 or p_train == y_train.size:
        raise InvalidValue(
            outcome,
            f"{p_train} of {y_train.size} training rows with outcome 1",
            "both 0s and 1s in the training periods",
            hint=_undefined(p_train, y_train.size - p_train),
        )
    notes: list[str] = []

    worsts = [m.worst for m in scorecard.measures]
    points = [s[train] for s in data.measure_scores]
    coef = _fit_weights(np, minimize, points, y_train, scorecard.missing, worsts)
    if not coef.sum() > 1e-12:
        notes.append("no measure separated the outcomes in training; the weights are unchanged")
        new_weights = list(scorecard.weights.values())
    else:
        new_weights = (coef / coef.sum()).tolist()
    card = _reweighted(scorecard, new_weights)

    xs = _tables.numeric_columns(df, card.names)
    health_after, _ = _health(df, card, xs, with_measures=False)
    cutoffs, cut_notes = _cutoffs(np, health_after[train], y_train, red_share, red_below)
    notes.extend(cut_notes)
    card = attrs.evolve(card, cutoffs=cutoffs)

    before = _report(data, scorecard, outcome, period, None, mask=test)
    after_data = _Prepared(health_after, data.y, data.measure_scores, data.period, None)
    after = _report(after_data, card, outcome, period, None, mask=test)
    return Calibration(
        scorecard=card,
        previous=scorecard,
        period=period,
        train_until=labels[last],
        train_rows=int(train.sum()),
        train_positives=p_train,
        before=before,
        after=after,
        notes=notes,
    )


def _fit_weights(
    np: Any,
    minimize: Any,
    points: Sequence[NDArray[Any]],
    y: NDArray[Any],
    missing: MissingPolicy,
    worsts: Sequence[float],
) -> NDArray[Any]:
    """Non-negative logistic coefficients of the outcome on the measures' 0-100 points.

    For the fit only, a missing point is filled with the measure's mean (or, under
    ``worst``, its worst score).
    """
    x = np.column_stack(points) / 100.0
    for j, bad in enumerate(worsts):
        gap = np.isnan(x[:, j])
        if gap.any():
            fill = bad / 100.0 if missing is MissingPolicy.WORST else None
            if fill is None:
                fill = float(np.nanmean(x[:, j])) if (~gap).any() else 0.5
            x[gap, j] = fill
    yf = y.astype(np.float64)
    k = x.shape[1]

    def loss(theta: NDArray[Any]) -> tuple[float, NDArray[Any]]:
        z = theta[0] - x @ theta[1:]
        with np.errstate(over="ignore"):  # exp(-z) of a very negative z: 1/inf is 0
            r = 1.0 / (1.0 + np.exp(-z)) - yf
        value = float(np.mean(np.logaddexp(0.0, z) - yf * z))
        grad = np.concatenate(([r.mean()], -(x.T @ r) / yf.size))
        return value, grad

    base = float(yf.mean())
    start = np.concatenate(([math.log(base / (1 - base))], np.zeros(k)))
    fitted = minimize(
        loss, start, jac=True, method="L-BFGS-B", bounds=[(None, None)] + [(0.0, None)] * k
    )
    coef: NDArray[Any] = np.maximum(fitted.x[1:], 0.0)
    return coef


#: `fit_rules` cuts each measure's training values into at most this many equal-count steps.
_RULE_STEPS: Final = 20


#: With ``rules=True``, the rules are validated on (at most) this many of the last training
#: periods, each predicted from a fit on the periods before it (rolling origin).
_RULE_FOLDS: Final = 4
#: A measure's fitted rule replaces its declared one only if it raises the validation AUC
#: (the mean over those periods) by more than this plus two standard errors of that mean.
_RULE_MARGIN: Final = 0.002


def _calibrate_rules(
    frame: Any,
    scorecard: Scorecard,
    outcome: str,
    period: str,
    train_until: object,
    red_share: float | None,
    red_below: float | None,
) -> Calibration:
    """`calibrate` with ``rules=True``: each fitted rule only where it earns its place.

    Rolling-origin validation inside the training periods: each of the last few training
    periods is scored by rules and weights fitted on the periods before it. Starting from
    the declared rules, the measure whose fitted steps raise the mean AUC of those periods
    most takes them, if the gain clears `_RULE_MARGIN` by two standard errors (of the mean
    over the periods), and so on until no measure gains that much. A rule the data only
    seems to improve stays as declared: on held-out periods, fitted steps lose resolution
    against a right declared rule, so a gain within noise is not worth taking.
    The chosen rules are then refitted on every training period, the others kept.
    """
    from scipy.optimize import minimize

    from stars._isotonic import pav

    np = _numpy()
    df, data = _prepare(frame, scorecard, outcome, period, None)
    assert data.period is not None
    codes, labels, uniques = data.period
    last = _last_training(np, uniques, labels, train_until)
    xs = _tables.numeric_columns(df, scorecard.names)
    got = df.select(*(x.alias(f"m{i}") for i, x in enumerate(xs)))
    raw = [got.get_column(f"m{i}").to_numpy().astype(np.float64) for i in range(len(xs))]
    chosen, why = _choose_rules(np, minimize, pav, scorecard, raw, data, codes, last)
    train = codes <= last
    y = data.y[train].astype(np.float64)
    measures = []
    for i, m in enumerate(scorecard.measures):
        rule = _step_rule(np, pav, raw[i][train], y, m.direction, _RULE_STEPS)
        measures.append(attrs.evolve(m, rule=rule) if chosen[i] and rule is not None else m)
    groups = dict(scorecard.groups) if scorecard.groups else {}
    card = Scorecard(measures, groups, missing=scorecard.missing, cutoffs=scorecard.cutoffs)
    kwargs: dict[str, Any] = {"red_share": red_share, "red_below": red_below}
    fit = calibrate(frame, card, outcome=outcome, period=period, train_until=train_until, **kwargs)
    before = _report(data, scorecard, outcome, period, None, mask=codes > last)
    return attrs.evolve(fit, previous=scorecard, before=before, notes=(*why, *fit.notes))


def _choose_rules(
    np: Any,
    minimize: Any,
    pav: Any,
    scorecard: Scorecard,
    raw: Sequence[NDArray[Any]],
    data: _Prepared,
    codes: NDArray[Any],
    last: int,
) -> tuple[list[bool], list[str]]:
    """Which measures take fitted rules, by rolling-origin validation; and why, as notes."""
    declared = data.measure_scores
    folds = []
    for t in range(max(1, last + 1 - _RULE_FOLDS), last + 1):
        fit, val = codes < t, codes == t
        y_fit, y_val = data.y[fit], data.y[val]
        if not (0 < y_fit.sum() < y_fit.size and 0 < y_val.sum() < y_val.size):
            continue
        steps: list[NDArray[Any] | None] = []
        for i, m in enumerate(scorecard.measures):
            rule = _step_rule(np, pav, raw[i][fit], y_fit.astype(np.float64), m.direction,
                              _RULE_STEPS)  # fmt: skip
            if rule is None:
                steps.append(None)
                continue
            cuts, points = np.asarray(rule.thresholds), np.asarray(rule.scores)
            x = raw[i][fit | val]
            seen = ~np.isnan(x)
            out = np.full(x.size, np.nan)
            out[seen] = points[np.searchsorted(cuts, x[seen], side="right")]
            steps.append(out)
        folds.append((fit, val, fit[fit | val], steps))
    names = scorecard.names
    if not folds:
        return [False] * len(names), [
            "declared rules kept: fitted rules need two training periods with both outcomes "
            "to be validated on"
        ]
    weights = list(scorecard.weights.values())
    worsts = [m.worst for m in scorecard.measures]
    cache: dict[tuple[bool, ...], NDArray[Any]] = {}

    def score(pick: tuple[bool, ...]) -> NDArray[Any]:
        if pick not in cache:
            aucs = []
            for fit, val, fit_part, steps in folds:
                both = fit | val
                cols = [
                    s if p and s is not None else d[both]
                    for p, s, d in zip(pick, steps, declared, strict=True)
                ]
                worst = [
                    float(np.nanmin(c)) if p and c is not None and not np.isnan(c).all() else w
                    for p, c, w in zip(pick, cols, worsts, strict=True)
                ]
                coef = _fit_weights(
                    np, minimize, [c[fit_part] for c in cols], data.y[fit], scorecard.missing, worst
                )
                w = coef / coef.sum() if coef.sum() > 1e-12 else np.asarray(weights)
                h = _array_health(np, [c[~fit_part] for c in cols], w, scorecard.missing, worst)
                aucs.append(_auc(_Ranked(h, data.y[val], None))[0] or 0.5)
            cache[pick] = np.asarray(aucs)
        return cache[pick]

    pick = [False] * len(names)
    notes = []
    while True:
        now = score(tuple(pick))
        diffs = {}
        for i in range(len(names)):
            if not pick[i]:
                diffs[i] = score(tuple(p or j == i for j, p in enumerate(pick))) - now
        if not diffs:
            break
        best = max(diffs, key=lambda i: (float(diffs[i].mean()), -i))
        if not _rule_gain_ok(np, diffs[best]):
            break
        pick[best] = True
        notes.append(f"{names[best]} +{float(diffs[best].mean()):.4f}")
    fitted = ", ".join(notes) or "none"
    kept = [n for n, p in zip(names, pick, strict=True) if not p]
    why = (
        f"rules fitted as monotone steps where they ranked the last {len(folds)} training "
        f"periods better (AUC gain, each period predicted from the ones before): {fitted}"
    )
    if kept:
        why += f"; declared rules kept for {', '.join(kept)}"
    return pick, [why]


def _rule_gain_ok(np: Any, diffs: NDArray[Any]) -> bool:
    """Whether per-period AUC gains clear `_RULE_MARGIN` by two standard errors."""
    se = float(diffs.std(ddof=1)) / math.sqrt(diffs.size) if diffs.size > 1 else 0.0
    return bool(diffs.mean() - 2 * se > _RULE_MARGIN)


def _array_health(
    np: Any,
    points: Sequence[NDArray[Any]],
    weights: NDArray[Any],
    missing: MissingPolicy,
    worsts: Sequence[float],
) -> NDArray[Any]:
    """Health from the measures' points, as a scorecard adds them (before clipping)."""
    p = np.column_stack(points)
    gap = np.isnan(p)
    if missing is MissingPolicy.REDISTRIBUTE:
        share = (~gap) @ weights
        total = np.where(gap, 0.0, p) @ weights
        return np.where(share > 0, total / np.where(share > 0, share, 1.0), 0.0)  # type: ignore[no-any-return]
    filled = np.where(gap, np.asarray(worsts)[None, :], p)
    return filled @ weights  # type: ignore[no-any-return]


def fit_rules(
    frame: Any,
    scorecard: Scorecard,
    *,
    outcome: str,
    period: str,
    train_until: object,
    steps: int = _RULE_STEPS,
) -> Scorecard:
    """Fit each measure's scoring rule on the training periods, as monotone steps.

    Each measure's training values are cut into (at most) ``steps`` equal-count steps; the
    outcome rate of each step is made monotone in the measure's declared direction (pool
    adjacent violators: a step that breaks the direction is pooled with its neighbour),
    and the steps are scored from 0 (the riskiest rate) to 100 (the safest), in
    proportion to the log-odds of their rates (with one pseudo-row at the base rate, so a
    step without a positive keeps a finite score). So the
    points stay explainable ("fewer than 12 days since contact: 100 points") and a
    measure can never score better for being worse. A measure whose rate is flat in
    training keeps its rule. Weights and bands are left as they are: `calibrate` with
    ``rules=True`` fits them next.

    Args:
        frame: A polars, pandas or pyarrow DataFrame, as for `backtest`.
        scorecard: The scorecard whose rules to refit.
        outcome: The 0/1 outcome column.
        period: The period column.
        train_until: The last training period.
        steps: Most steps per rule (at least 2).

    Returns:
        The scorecard with fitted `Steps` rules.

    Raises:
        InvalidValue: For the inputs `calibrate` refuses, or ``steps`` below 2.

    Examples:
        >>> from stars.backtesting import fit_rules
        >>> from stars.health import Direction, Linear, Measure, Scorecard
        >>> from stars.testing import synthetic_history
        >>> history = synthetic_history(400, 8, seed=3, signal=2.0)
        >>> card = Scorecard([
        ...     Measure("days_since_contact", 1, Direction.LOWER_IS_BETTER, Linear(0, 10))])
        >>> rule = fit_rules(history, card, outcome="churned", period="period",
        ...                  train_until="2024-05-01").measures[0].rule
        >>> rule.scores[0], rule.scores[-1]
        (100.0, 0.0)
    """
    from stars._isotonic import pav

    np = _numpy()
    v.text("period", period)
    steps = int(v.number("steps", steps, 2, integer=True))
    df, data = _prepare(frame, scorecard, outcome, period, None)
    assert data.period is not None
    codes, labels, uniques = data.period
    train = codes <= _last_training(np, uniques, labels, train_until)
    xs = _tables.numeric_columns(df, scorecard.names)
    raw = df.select(*(x.alias(f"m{i}") for i, x in enumerate(xs)))
    y = data.y[train].astype(np.float64)
    measures = []
    for i, m in enumerate(scorecard.measures):
        x = raw.get_column(f"m{i}").to_numpy().astype(np.float64)[train]
        rule = _step_rule(np, pav, x, y, m.direction, steps)
        measures.append(m if rule is None else attrs.evolve(m, rule=rule))
    groups = dict(scorecard.groups) if scorecard.groups else {}
    return Scorecard(measures, groups, missing=scorecard.missing, cutoffs=scorecard.cutoffs)


def _step_rule(
    np: Any, pav: Any, x: NDArray[Any], y: NDArray[Any], direction: Direction, steps: int
) -> Steps | None:
    """One measure's fitted monotone steps (see `fit_rules`); None when flat or unseen."""
    seen = ~np.isnan(x)
    if not seen.any():
        return None
    cuts = np.unique(np.quantile(x[seen], np.linspace(0, 1, steps + 1)[1:-1]))
    if len(cuts) == 0:
        return None
    step = np.searchsorted(cuts, x[seen], side="right")
    n = np.bincount(step, minlength=len(cuts) + 1).astype(np.float64)
    k = np.bincount(step, weights=y[seen], minlength=len(cuts) + 1)
    keep = n > 0
    rate = np.zeros(n.size)
    rate[keep] = pav(
        (k[keep] / n[keep]).tolist(),
        n[keep].tolist(),
        increasing=direction is Direction.LOWER_IS_BETTER,
    )
    rate[~keep] = np.interp(np.flatnonzero(~keep), np.flatnonzero(keep), rate[keep])
    # points in log-odds: the weights are then fitted by a logistic regression that
    # is linear in the points, so each step's points carry its own risk additively
    base = float(y.mean())
    odds = np.log((rate * n + base) / ((1 - rate) * n + 1 - base))
    top, low = float(odds.max()), float(odds.min())
    if not top - low > 1e-9:
        return None
    scores = np.round(100 * (top - odds) / (top - low), 6)
    # pooled steps of different sizes smooth a little differently: keep the order
    rising = direction is Direction.HIGHER_IS_BETTER
    scores = (np.maximum if rising else np.minimum).accumulate(scores)
    return Steps(tuple(cuts.tolist()), tuple(scores.tolist()))


def _reweighted(scorecard: Scorecard, weights: Sequence[float]) -> Scorecard:
    measures = [attrs.evolve(m, weight=w) for m, w in zip(scorecard.measures, weights, strict=True)]
    groups: dict[str, float] = {}
    if scorecard.groups:
        groups = dict.fromkeys(scorecard.groups, 0.0)
        for m in measures:
            groups[m.group] += m.weight  # type: ignore[index]
    return Scorecard(measures, groups, missing=scorecard.missing, cutoffs=scorecard.cutoffs)


def _cutoffs(
    np: Any,
    health: NDArray[Any],
    y: NDArray[Any],
    red_share: float | None,
    red_below: float | None,
) -> tuple[BandCutoffs, list[str]]:
    r = _Ranked(health, y, None)
    values = r.values
    notes: list[str] = []
    if red_below is None:
        cum = np.cumsum(r.cnt if red_share is not None else r.pos)
        need = (
            math.ceil(red_share * health.size) if red_share is not None else math.ceil(cum[-1] / 2)
        )
        i = int(np.searchsorted(cum, max(need, 1)))
        if red_share == 0:
            red_below = float(values[0])
        else:
            red_below = float((values[i] + values[i + 1]) / 2) if i + 1 < values.size else 100.0
        what = (
            f"the riskiest {red_share:.0%} of training rows"
            if red_share is not None
            else "the lowest scores holding half of the training positives"
        )
        notes.append(f"red below {red_below:.1f}: {what}")
    else:
        notes.append(f"red below {red_below:g}: given")
    # Green: cut the training scores into twenty equal-count bins (ties kept together)
    # and walk down from the top while each bin's outcome rate stays at most half the
    # base rate; green starts at the lowest score of the last bin reached.
    base = r.pos.sum() / health.size
    bins = np.minimum((_GREEN_BINS * r.starts) // health.size, _GREEN_BINS - 1)
    b_rows = np.bincount(bins, weights=r.cnt, minlength=_GREEN_BINS)
    b_pos = np.bincount(bins, weights=r.pos, minlength=_GREEN_BINS)
    lowest = None
    for b in range(_GREEN_BINS - 1, -1, -1):
        if not b_rows[b]:
            continue
        if b_pos[b] > b_rows[b] * base / 2:
            break
        lowest = b
    if lowest is not None:
        green_from = float(values[np.flatnonzero(bins == lowest)[0]])
        notes.append(
            f"green from {green_from:.1f}: in training, every twentieth of the rows from "
            "there up churned at most half as often as the base rate"
        )
    else:
        green_from = 100.0
        notes.append(
            "even the top-scoring twentieth of training rows churned more than half as often "
            "as the base rate; green starts at 100"
        )
    if green_from < red_below:
        green_from = red_below
        notes.append("green would start below red ends, so green starts where red ends")
    return BandCutoffs(red_below=red_below, green_from=green_from), notes


#: Below this many positive training rows per fitted weight, a calibration is not trusted.
_POSITIVES_PER_WEIGHT: Final = 10

#: A calibrated weight above this share says the fit leaned on one measure alone.
_DOMINANT_WEIGHT: Final = 0.9


def calibration_warnings(fit: Calibration) -> list[str]:
    """What to be wary of in a calibration: worse held-out AUC, a dominant weight, too few rows.

    Args:
        fit: A result of `calibrate`.

    Returns:
        One sentence per warning (empty when the fit looks trustworthy).

    Examples:
        >>> from stars.backtesting import calibrate, calibration_warnings
        >>> from stars.health import Direction, Linear, Measure, Scorecard
        >>> from stars.testing import synthetic_history
        >>> card = Scorecard([
        ...     Measure("adoption", 1, Direction.HIGHER_IS_BETTER, Linear(0, 1)),
        ...     Measure("sentiment", 1, Direction.HIGHER_IS_BETTER, Linear(-1, 1)),
        ... ])
        >>> small = synthetic_history(12, 8, seed=5, signal=2.0)
        >>> fit = calibrate(small, card, outcome="churned", period="period",
        ...                 train_until="2024-04-01")
        >>> any("too few to trust" in w for w in calibration_warnings(fit))
        True
    """
    out: list[str] = []
    before, after = fit.before.auc, fit.after.auc
    if before is not None and after is not None and after < before:
        out.append(
            f"the calibrated scorecard ranks the held-out periods worse than the one given"
            f" (AUC {before:.3f} -> {after:.3f}); keep the one you have"
        )
    weights = fit.weights
    top = max(weights, key=lambda n: weights[n]) if weights else None
    if top is not None and len(weights) > 1 and weights[top] > _DOMINANT_WEIGHT:
        out.append(
            f"{top} takes {weights[top]:.1%} of the weight: the fit leans on one measure alone"
        )
    need = _POSITIVES_PER_WEIGHT * len(weights)
    if fit.train_positives < need:
        out.append(
            f"{fit.train_positives} positive rows in {fit.train_rows} training rows are too few"
            f" to trust for {len(weights)} weights (about {need}, {_POSITIVES_PER_WEIGHT} per"
            " weight, are needed)"
        )
    return out
