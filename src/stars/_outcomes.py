"""The outcome and period columns that a backtest and a forecast read (private, shared).

`stars.backtesting` and `stars.forecast` both take a frame with a 0/1 outcome column and a
period column to split training from held-out periods; the checks and the codes they need
live here once, so both refuse the same input with the same words.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final

from stars import _tables
from stars.errors import InvalidValue, MissingDependency

if TYPE_CHECKING:
    import narwhals.stable.v1 as nw
    from numpy.typing import NDArray

#: Period labels that sort in time order as text: years, months, quarters, weeks, dates.
ISO_PERIOD: Final = re.compile(
    r"^\d{4}(-(\d{2}|Q[1-4]|W\d{2}|H[12]))?(-\d{2})?([T ][\d:.]+([+-]\d{2}:\d{2}|Z)?)?$"
)


#: The normal quantile of a two-sided 95% interval.
Z95: Final = 1.959963984540054


def wilson(k: float, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval of ``k`` successes in ``n`` trials (``n`` > 0)."""
    p = k / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # In exact arithmetic the interval always holds p (and is exactly 0 at k=0, 1 at k=n);
    # clamp so rounding never puts the observed rate outside its own interval.
    return min(max(centre - half, 0.0), p), max(min(centre + half, 1.0), p)


def load_numpy() -> Any:
    try:
        import numpy
    except ImportError:  # pragma: no cover - numpy comes with every DataFrame library here
        raise MissingDependency("numpy", "frames") from None
    return numpy


def outcome_values(df: nw.DataFrame[Any], outcome: str) -> NDArray[Any]:
    import narwhals.stable.v1 as nw

    np = load_numpy()
    dtype = df.schema[outcome]
    if dtype == nw.Boolean:
        x = nw.col(outcome).cast(nw.Int64)
    elif dtype.is_numeric():
        x = nw.col(outcome)
    else:
        raise InvalidValue(outcome, str(dtype), "a 0/1 (or boolean) outcome column")
    bad = x.is_null() | ~((x == 0) | (x == 1))
    count = int(df.select(bad.fill_null(True).sum()).item())
    if count:
        index = _tables.free_name(df.columns, "__stars_row__")
        hits = df.with_row_index(index).filter(bad.fill_null(True)).head(_tables.SHOWN)
        rows = ", ".join(str(i) for i in hits.get_column(index).to_list())
        raise InvalidValue(
            outcome,
            hits.get_column(outcome).to_list(),
            "0 or 1 in every row",
            hint=f"{count} bad row{'s' if count > 1 else ''}; first at row positions {rows}",
        )
    out: NDArray[Any] = df.select(x.cast(nw.Int64).alias(outcome)).get_column(outcome).to_numpy()
    return out.astype(np.int64)


def group_codes(
    df: nw.DataFrame[Any], column: str, *, ordered: bool = False
) -> tuple[NDArray[Any], list[str], NDArray[Any]]:
    """Codes (in sorted order), text labels and sorted unique values of a group column."""
    import narwhals.stable.v1 as nw

    np = load_numpy()
    series = df.get_column(column)
    values = series.to_numpy()
    missing = nw.col(column).is_null()
    if values.dtype.kind == "f":
        missing = missing | nw.col(column).is_nan()
    count = int(df.select(missing.sum()).item())
    if count:
        index = _tables.free_name(df.columns, "__stars_row__")
        hits = df.with_row_index(index).filter(missing).head(_tables.SHOWN)
        rows = ", ".join(str(i) for i in hits.get_column(index).to_list())
        raise InvalidValue(
            column, None, "a value in every row", hint=f"{count} missing; first at rows {rows}"
        )
    try:
        uniques, codes = np.unique(values, return_inverse=True)
    except TypeError:
        raise InvalidValue(
            column, str(series.dtype), "values of one kind that can be sorted"
        ) from None
    if uniques.dtype.kind == "M":
        days = uniques.astype("datetime64[D]")
        whole = bool((days == uniques).all())
        labels = np.datetime_as_string(days if whole else uniques, unit="D" if whole else "s")
        labels = labels.tolist()
    else:
        labels = [label(u) for u in uniques.tolist()]
    if ordered and uniques.dtype.kind in "OUS":
        odd = [u for u in labels if not ISO_PERIOD.match(u)]
        if odd:
            raise InvalidValue(
                column,
                odd[:5],
                "periods that sort in time order: numbers, dates, or ISO text like '2025-03'",
                hint="text such as 'Mar 2025' sorts alphabetically, putting periods out of order",
            )
    return codes.reshape(-1), labels, uniques


def label(value: object) -> str:
    if isinstance(value, datetime):
        midnight = value.time() == datetime.min.time() and value.tzinfo is None
        return value.date().isoformat() if midnight else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def last_training(np: Any, uniques: NDArray[Any], labels: list[str], train_until: object) -> int:
    """The code of the last training period."""
    if uniques.size < 2:
        raise InvalidValue(
            "period", labels, "at least two periods, to train on one and test on another"
        )
    kind = uniques.dtype.kind
    try:
        if kind == "M":
            if isinstance(train_until, str | date):
                cut = np.datetime64(train_until).astype(uniques.dtype)
            else:
                raise TypeError
        elif kind in "iuf":
            if isinstance(train_until, bool) or not isinstance(train_until, int | float):
                raise TypeError
            cut = train_until
        elif isinstance(train_until, str) or (
            isinstance(train_until, date) and all(isinstance(u, date) for u in uniques.tolist())
        ):
            cut = train_until
        else:
            raise TypeError
        last = int(np.searchsorted(uniques, cut, side="right")) - 1
    except (TypeError, ValueError):
        raise InvalidValue(
            "train_until",
            train_until,
            f"a value of the same kind as the periods (first {labels[0]!r})",
        ) from None
    if last < 0 or last >= uniques.size - 1:
        raise InvalidValue(
            "train_until",
            train_until,
            f"a period from {labels[0]} up to {labels[-2]}, so that some periods are held out",
        )
    return last
