"""How accounts move: period-to-period transition matrices, forecasts and their backtests."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import attrs

from stars import _validate as v
from stars._periods import Freq, check_freq, period_end, period_of
from stars.account import Account, TransitionRecord
from stars.errors import InvalidValue, UnknownName
from stars.lifecycle import Lifecycle
from stars.portfolio._common import optional_time, stage_names, whole
from stars.portfolio._standing import StageDistribution
from stars.stages import StageKind

_UTC: Final = UTC


def _str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _float_map(value: Mapping[str, float]) -> dict[str, float]:
    return dict(value)


def _square(name: str, rows: Sequence[Sequence[Any]], size: int) -> None:
    if len(rows) != size or any(len(row) != size for row in rows):
        raise InvalidValue(name, rows, f"a {size} x {size} table, one row and column per stage")


def _int_rows(value: Iterable[Iterable[int]]) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(row) for row in value)


def _float_rows(value: Iterable[Iterable[float]]) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(x) for x in row) for row in value)


@attrs.frozen(slots=True)
class TransitionMatrix:
    """Observed period-to-period stage movements, counted and as probabilities.

    Row ``i`` is where accounts that ended a period in ``stages[i]`` had got to by the end
    of the next period. Lost stages (CHURN) are absorbing: an account that reaches one
    stops being followed, and the row is all probability on itself. A stage that was
    never observed at a period end gets a row that stays where it is, so a forecast does
    not lose accounts.

    Attributes:
        stages: The lifecycle's stages, in definition order.
        counts: Observed movements, ``counts[i][j]`` from ``stages[i]`` to ``stages[j]``.
        probabilities: Each row of counts divided by its total.
        freq: ``"monthly"`` or ``"quarterly"``.
        start: The end of the first period counted (UTC), if any.
        end: The end of the last period counted (UTC), if any.

    Raises:
        InvalidValue: If the tables are not square over the stages, a count is negative,
            or a probability row does not add up to 1.

    Examples:
        >>> from stars.portfolio import TransitionMatrix
        >>> m = TransitionMatrix(("ok", "lost"), ((3, 1), (0, 0)), ((0.75, 0.25), (0.0, 1.0)))
        >>> m.probability("ok", "lost")
        0.25
        >>> m.forecast({"ok": 100}, months=2)
        {'ok': 56.25, 'lost': 43.75}
    """

    stages: tuple[str, ...] = attrs.field(converter=_str_tuple)
    counts: tuple[tuple[int, ...], ...] = attrs.field(converter=_int_rows)
    probabilities: tuple[tuple[float, ...], ...] = attrs.field(converter=_float_rows)
    freq: str = "monthly"
    start: datetime | None = None
    end: datetime | None = None

    def __attrs_post_init__(self) -> None:
        size = len(self.stages)
        if size == 0 or len(set(self.stages)) != size:
            raise InvalidValue("stages", self.stages, "distinct stage names")
        for s in self.stages:
            v.text("stages", s)
        _square("counts", self.counts, size)
        _square("probabilities", self.probabilities, size)
        check_freq(self.freq)
        for i, row in enumerate(self.counts):
            for n in row:
                v.number(f"counts[{i}]", n, 0, None, integer=True)
        for i, prow in enumerate(self.probabilities):
            for p in prow:
                v.number(f"probabilities[{i}]", p, 0, 1)
            if abs(sum(prow) - 1.0) > 1e-9:
                raise InvalidValue(f"probabilities[{i}]", prow, "a row that adds up to 1")
        optional_time("start", self.start)
        optional_time("end", self.end)

    def _index(self, stage: str) -> int:
        try:
            return self.stages.index(stage)
        except ValueError:
            raise UnknownName("stage", stage, self.stages) from None

    def probability(self, source: str, dest: str) -> float:
        """The probability of being in ``dest`` one period after being in ``source``.

        Raises:
            UnknownName: If either stage is not in the matrix.

        Examples:
            >>> from stars.portfolio import TransitionMatrix
            >>> m = TransitionMatrix(("a", "b"), ((1, 1), (0, 2)), ((0.5, 0.5), (0.0, 1.0)))
            >>> m.probability("b", "b")
            1.0
        """
        return self.probabilities[self._index(source)][self._index(dest)]

    @property
    def total(self) -> int:
        """How many account-periods were counted.

        Examples:
            >>> from stars.portfolio import TransitionMatrix
            >>> TransitionMatrix(("a",), ((4,),), ((1.0,),)).total
            4
        """
        return sum(sum(row) for row in self.counts)

    def forecast(self, distribution: Mapping[str, float], months: int = 1) -> dict[str, float]:
        """Project a distribution over stages forward by ``months`` periods (a Markov chain).

        The input may be counts or shares; the output is on the same scale. With a
        quarterly matrix, each step is a quarter.

        Args:
            distribution: Accounts (or shares) per stage; stages left out count as zero.
            months: How many periods to step forward (0 returns the input, completed).

        Returns:
            The projected distribution, one entry per stage, in stage order.

        Raises:
            UnknownName: A stage is not in the matrix.
            InvalidValue: A value is negative or not finite, or ``months`` is negative.

        Examples:
            >>> from stars.portfolio import TransitionMatrix
            >>> m = TransitionMatrix(("a", "b"), ((1, 1), (0, 2)), ((0.5, 0.5), (0.0, 1.0)))
            >>> m.forecast({"a": 1.0}, months=3)
            {'a': 0.125, 'b': 0.875}
        """
        steps = whole("months", months, 0)
        if not isinstance(distribution, Mapping):
            raise InvalidValue("distribution", distribution, "a mapping of stage to number")
        state = [0.0] * len(self.stages)
        for stage, amount in distribution.items():
            state[self._index(stage)] = v.number(f"distribution[{stage!r}]", amount, 0)
        p = self.probabilities
        size = len(state)
        for _ in range(steps):
            nxt = [0.0] * size
            for i, mass in enumerate(state):
                if mass:
                    row = p[i]
                    for j in range(size):
                        nxt[j] += mass * row[j]
            state = nxt
        return dict(zip(self.stages, state, strict=True))

    def _repr_html_(self) -> str:
        from stars._html import table

        rows = [
            (s, *(f"{p:.0%}" if p else "·" for p in prow), sum(crow))
            for s, prow, crow in zip(self.stages, self.probabilities, self.counts, strict=True)
        ]
        span = ""
        if self.start is not None and self.end is not None:
            span = f", {self.start.date().isoformat()} to {self.end.date().isoformat()}"
        return table(
            ("from \\ to", *self.stages, "observed"),
            rows,
            caption=f"{self.freq} transition probabilities ({self.total} account-periods{span})",
        )


@attrs.frozen(slots=True)
class ForecastBacktest:
    """A forecast made at one time, set against what then happened.

    Attributes:
        as_of: The end of the period the forecast was made from (UTC).
        months: How many periods ahead it looked.
        accounts: How many accounts were followed.
        start: Stage shares at ``as_of``.
        forecast: Forecast stage shares ``months`` periods later.
        actual: The stage shares that were then observed.
        error: Absolute difference between forecast and actual share, per stage.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.portfolio import ForecastBacktest
        >>> b = ForecastBacktest(datetime(2025, 1, 31, tzinfo=timezone.utc), 1, 10,
        ...                      {"a": 1.0}, {"a": 0.8}, {"a": 0.5}, {"a": 0.3})
        >>> b.mean_absolute_error
        0.3
    """

    as_of: datetime
    months: int
    accounts: int
    start: Mapping[str, float] = attrs.field(converter=_float_map)
    forecast: Mapping[str, float] = attrs.field(converter=_float_map)
    actual: Mapping[str, float] = attrs.field(converter=_float_map)
    error: Mapping[str, float] = attrs.field(converter=_float_map)

    @property
    def mean_absolute_error(self) -> float:
        """The per-stage absolute errors, averaged over the stages.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.portfolio import ForecastBacktest
            >>> at = datetime(2025, 1, 31, tzinfo=timezone.utc)
            >>> ForecastBacktest(at, 1, 0, {}, {}, {}, {}).mean_absolute_error
            0.0
        """
        return sum(self.error.values()) / len(self.error) if self.error else 0.0


def span(accounts: Iterable[Account], months: int) -> tuple[int, int] | None:
    """The first and last period that holds a transition, if any."""
    first: datetime | None = None
    last: datetime | None = None
    for account in accounts:
        hist = account.history
        if hist:
            if first is None or hist[0].at < first:
                first = hist[0].at
            if last is None or hist[-1].at > last:
                last = hist[-1].at
    if first is None or last is None:
        return None
    return period_of(first, months), period_of(last, months)


def transition_matrix(
    accounts: Collection[Account],
    lifecycle: Lifecycle,
    freq: Freq,
    start: datetime | None,
    end: datetime | None,
) -> TransitionMatrix:
    """Period-to-period stage movements (see `Portfolio.transition_matrix`)."""
    months = check_freq(freq)
    optional_time("start", start)
    optional_time("end", end)
    if start is not None and end is not None and start > end:
        raise InvalidValue("start", start, f"a time at or before end ({end.isoformat()})")
    stages = stage_names(lifecycle)
    size = len(stages)
    index = {s: i for i, s in enumerate(stages)}
    absorbing = frozenset(index[s.name] for s in lifecycle.stages if s.kind is StageKind.LOST)
    counts = [[0] * size for _ in range(size)]
    found = span(accounts, months)
    if found is not None:
        lo_all = found[0] if start is None else period_of(start, months)
        hi = found[1] if end is None else period_of(end, months)
        for account in accounts:
            _count_moves(account.history, months, lo_all, hi, index, absorbing, counts)
    probabilities = _normalise(counts, absorbing)
    lo_end = hi_end = None
    if found is not None:
        lo_p = found[0] if start is None else period_of(start, months)
        hi_p = found[1] if end is None else period_of(end, months)
        lo_end, hi_end = period_end(lo_p, months), period_end(hi_p, months)
    return TransitionMatrix(stages, counts, probabilities, freq, lo_end, hi_end)


def backtest_forecast(
    accounts: Collection[Account],
    lifecycle: Lifecycle,
    as_of: datetime,
    months: int,
    freq: Freq,
    start: datetime | None,
) -> ForecastBacktest:
    """Fit up to ``as_of``, forecast and compare (see `Portfolio.backtest_forecast`)."""
    v.aware("as_of", as_of)
    steps = whole("months", months, 1)
    per = check_freq(freq)
    found = span(accounts, per)
    p0 = period_of(as_of, per)
    if found is None or found[0] > p0:
        raise InvalidValue("as_of", as_of, "a time after the first transition in the portfolio")
    if p0 + steps > found[1]:
        raise InvalidValue(
            "months",
            months,
            f"at most {found[1] - p0} periods, so that the outcome is in the history",
        )
    matrix = transition_matrix(accounts, lifecycle, freq, start, as_of)
    stages = stage_names(lifecycle)
    absorbing = frozenset(s.name for s in lifecycle.stages if s.kind is StageKind.LOST)
    then: list[str] = []
    later: list[str] = []
    for account in accounts:
        hist = account.history
        if not hist or period_of(hist[0].at, per) > p0:
            continue
        then.append(_stage_at_period(hist, p0, per, absorbing))
        later.append(_stage_at_period(hist, p0 + steps, per, absorbing))
    begin = StageDistribution._of(stages, then).shares
    actual = StageDistribution._of(stages, later).shares
    projected = matrix.forecast(begin, steps)
    error = {s: abs(projected[s] - actual[s]) for s in stages}
    return ForecastBacktest(period_end(p0, per), steps, len(then), begin, projected, actual, error)


def _stage_at_period(
    hist: Sequence[TransitionRecord], p: int, months: int, absorbing: frozenset[str]
) -> str:
    """The stage at the end of period ``p`` (the history must start by then)."""
    stage = hist[0].source
    for record in hist:
        if stage in absorbing or period_of(record.at, months) > p:
            break
        stage = record.dest
    return stage


def _count_moves(
    hist: Sequence[TransitionRecord],
    months: int,
    lo_all: int,
    hi: int,
    index: Mapping[str, int],
    absorbing: frozenset[int],
    counts: list[list[int]],
) -> None:
    """Add one account's period-end to period-end movements into ``counts``.

    Reads the history once: the periods between two transitions add to the diagonal in
    one step.
    """
    if not hist:
        return
    n = len(hist)
    first = hist[0].at
    lo = (
        (first.year * 12 + first.month - 1) // months
        if first.tzinfo is _UTC
        else period_of(first, months)
    )
    lo = max(lo, lo_all)
    if lo > hi:
        return
    # Stage at the end of period lo: the last record in or before it.
    i = 0
    cur = index[hist[0].source]
    while i < n:
        at = hist[i].at
        p = (at.year * 12 + at.month - 1) // months if at.tzinfo is _UTC else period_of(at, months)
        if p > lo:
            break
        cur = index[hist[i].dest]
        i += 1
    if cur in absorbing:
        return
    prev = lo
    row = counts[cur]
    while i < n:
        record = hist[i]
        at = record.at
        p = (at.year * 12 + at.month - 1) // months if at.tzinfo is _UTC else period_of(at, months)
        if p > hi:
            break
        # every record of period p: the stage at its end is the last one's dest
        dest = index[record.dest]
        i += 1
        while i < n:
            nxt = hist[i].at
            q = (
                (nxt.year * 12 + nxt.month - 1) // months
                if nxt.tzinfo is _UTC
                else period_of(nxt, months)
            )
            if q != p:
                break
            dest = index[hist[i].dest]
            i += 1
        row[cur] += p - 1 - prev
        row[dest] += 1
        prev, cur = p, dest
        if cur in absorbing:
            return
        row = counts[cur]
    row[cur] += hi - prev


def _normalise(counts: Sequence[Sequence[int]], absorbing: frozenset[int]) -> list[list[float]]:
    out = []
    for i, row in enumerate(counts):
        total = sum(row)
        if i in absorbing or total == 0:
            out.append([1.0 if j == i else 0.0 for j in range(len(row))])
        else:
            out.append([n / total for n in row])
    return out
