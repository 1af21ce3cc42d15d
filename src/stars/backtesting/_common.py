"""Shared by the backtest, calibration and command modules: constants, converters, documents."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from stars import _validate as v
from stars._shown import article as _a
from stars.bands import Band
from stars.errors import (
    InvalidValue,
)
from stars.health import Direction, Scorecard

if TYPE_CHECKING:
    from matplotlib.figure import Figure


#: A measure whose own AUC is below ``0.5 - DIRECTION_MARGIN`` is flagged: in this data
#: it ranks churners the opposite way to its declared direction.
DIRECTION_MARGIN: Final = 0.05

#: At most this many points of the ROC curve are kept for plotting.
_ROC_POINTS: Final = 201

#: `calibrate` finds the green cut-off on this many equal-count bins of score.
_GREEN_BINS: Final = 20


# -- small validators ------------------------------------------------------------------


_count = v.field(v.number, 0, integer=True)
_share = v.field(v.number, 0, 1)
_optional_share = v.field(v.number, 0, 1, optional=True)
_optional_positive = v.field(v.number, 0, optional=True)
_score = v.field(v.number, 0, 100)
_name = v.field(v.text)


def _to_notes(value: object) -> tuple[str, ...]:
    return v.tuple_of("notes", str)(value)


def _to_roc(value: object) -> tuple[tuple[float, float], ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidValue("roc", value, "a sequence of (false positive rate, true positive rate)")
    out = []
    for i, point in enumerate(value):
        if not isinstance(point, Sequence) or len(point) != 2:
            raise InvalidValue(f"roc[{i}]", point, "a pair of shares from 0 to 1")
        out.append((v.number(f"roc[{i}]", point[0], 0, 1), v.number(f"roc[{i}]", point[1], 0, 1)))
    return tuple(out)


def _to_band(value: object) -> Band:
    if isinstance(value, Band):
        return value
    try:
        return Band(str(value))
    except ValueError:
        raise InvalidValue("band", value, "'red', 'yellow' or 'green'") from None


def _to_direction(value: object) -> Direction:
    if isinstance(value, Direction):
        return value
    try:
        return Direction(str(value))
    except ValueError:
        raise InvalidValue("direction", value, "'higher_is_better' or 'lower_is_better'") from None


def _float(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _optional_float(value: Any) -> Any:
    return None if value is None else _float(value)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"


def _auc_text(x: float | None) -> str:
    return "undefined" if x is None else f"{x:.3f}"


def _instance(field: str, value: object, kind: type[Any]) -> None:
    if not isinstance(value, kind):
        raise InvalidValue(field, value, _a(kind.__name__))


# -- plain data --------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Scorecard):
        return _scorecard_to_dict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if attrs.has(type(value)):
        return {f.name: _plain(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, tuple | list):
        return [_plain(x) for x in value]
    return value


def _scorecard_to_dict(card: Scorecard) -> dict[str, Any]:
    """The scorecard as a stars.io document (one format for every scorecard file)."""
    from stars import io

    return io.to_dict(card)


def _scorecard_from_dict(data: object) -> Scorecard:
    """Load a scorecard document written by `stars.io` (or by this command)."""
    from stars import io

    return io.from_dict(data, Scorecard)


# -- plots -----------------------------------------------------------------------------


def _figure() -> tuple[Figure, Any]:
    from stars._figure import figure

    fig = figure(5.5, 4.0, layout="constrained")  # shows itself in a notebook
    return fig, fig.add_subplot()


def scorecard_digest(card: Scorecard) -> str:
    """A short digest of a scorecard's measures, weights and rules (the same card, the same digest).

    A saved renewal model keeps the digest of the scorecard its health came from, so that
    ``stars assess`` can refuse a model fitted on another scale of health.

    Examples:
        >>> from stars.backtesting import scorecard_digest
        >>> from stars.health import default_scorecard
        >>> scorecard_digest(default_scorecard()) == scorecard_digest(default_scorecard())
        True
    """
    import hashlib

    text = json.dumps(_scorecard_to_dict(card), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
