"""narwhals plumbing shared by the DataFrame code of several packages.

`stars.frames` (scoring, stage assignment), `stars.portfolio` (portfolio tables) and
`stars.backtesting` read and check frames the same way through these helpers. narwhals is
imported when a helper runs, never when this module is imported; the stable ``v1`` API
is used throughout, so a narwhals release cannot change what the code means.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from stars.errors import InvalidValue, MissingDependency

if TYPE_CHECKING:
    import narwhals.stable.v1 as nw

__all__ = [
    "SHOWN",
    "eager",
    "free_name",
    "is_type_or_all_null",
    "numeric_columns",
    "raise_bad_rows",
    "require_narwhals",
    "to_caller",
]

#: How many offending row positions an error message lists.
SHOWN: Final = 5


def require_narwhals() -> None:
    """Import narwhals, or say which extra to install."""
    try:
        import narwhals.stable.v1  # noqa: F401
    except ImportError:  # pragma: no cover - narwhals is installed in the test env
        raise MissingDependency("narwhals", "frames") from None


def eager(frame: object) -> tuple[nw.DataFrame[Any], bool]:
    """Wrap a native eager frame; also say whether it already was a narwhals frame.

    A narwhals frame of any API version (the main namespace, ``stable.v1`` or ``v2``) is
    rewrapped as a ``stable.v1`` frame; `to_caller` gives the result back in the caller's.
    """
    import narwhals
    import narwhals.stable.v1 as nw

    if isinstance(frame, nw.DataFrame):
        return frame, True
    try:
        return nw.from_native(frame, eager_only=True), isinstance(frame, narwhals.DataFrame)
    except TypeError:
        raise InvalidValue(
            "frame", type(frame).__name__, "a polars, pandas or pyarrow DataFrame"
        ) from None


def to_caller(out: nw.DataFrame[Any], frame: object) -> Any:
    """``out`` in the form the caller passed ``frame``: native, or narwhals of its API version."""
    import narwhals
    import narwhals.stable.v1 as nw

    if isinstance(frame, nw.DataFrame):
        return out
    if not isinstance(frame, narwhals.DataFrame):
        return out.to_native()
    # The main namespace's frames live in narwhals.dataframe; v2's in narwhals.stable.v2.
    namespace = sys.modules.get(type(frame).__module__)
    wrap = getattr(namespace, "from_native", narwhals.from_native)
    return wrap(out.to_native(), eager_only=True)


def free_name(columns: Sequence[str], base: str) -> str:
    """A column name that is not in ``columns``."""
    name = base
    while name in columns:
        name += "_"
    return name


def numeric_columns(df: nw.DataFrame[Any], names: Sequence[str]) -> list[nw.Expr]:
    """Float64 expressions for the named columns, after checking they exist and are numeric.

    A column of nothing but nulls is accepted as an all-missing numeric column whatever
    its type (polars ``Null``, a pandas ``object`` column of None, or a String column
    of nulls, as an empty CSV column reads); a non-numeric column with values is refused.
    """
    import narwhals.stable.v1 as nw

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


def is_type_or_all_null(df: nw.DataFrame[Any], name: str, dtype: Any) -> bool:
    """Whether the column has this type, or is a column of no type holding only nulls.

    A column of no type is ``Unknown``, or (pandas) ``Object``: the stable API reads an
    ``object`` column of nothing but None as ``Object``.
    """
    import narwhals.stable.v1 as nw

    got = df.schema[name]
    if got == dtype:
        return True
    untyped = got == nw.Unknown or got == nw.Object
    return bool(untyped and df.get_column(name).null_count() == len(df))


def raise_bad_rows(
    df: nw.DataFrame[Any],
    field: str,
    mask: nw.Expr,
    expected: str,
    kind: str | None,
    count: int,
) -> None:
    """Raise `InvalidValue` for the ``count`` rows where ``mask`` holds, naming the first few."""
    index = free_name(df.columns, "__stars_row__")
    hits = df.with_row_index(index).filter(mask.fill_null(False)).head(SHOWN)
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
