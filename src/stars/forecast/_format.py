"""The model's file format: what `RenewalModel.to_dict` writes and `RenewalModel.from_dict` reads.

Reading checks every field and names the JSON path of the first bad one.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any, Final

from stars.errors import SchemaError
from stars.forecast._curve import RiskCurve

if TYPE_CHECKING:
    from stars.forecast._model import RenewalModel


#: The ``format`` of a saved `RenewalModel`.
MODEL_FORMAT: Final = "stars.renewal-model"
#: The ``version`` of that format this release writes and reads.
MODEL_VERSION: Final = 1


def _model_dict(model: RenewalModel) -> dict[str, Any]:
    """The data `RenewalModel.to_dict` gives (every number as it is)."""
    return {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "health": model.health,
        "days": model.days,
        "by": model.by,
        "horizons": list(model.horizons),
        "curves": [
            {
                "group": c.group,
                "horizon": c.horizon,
                "health": list(c.health),
                "probability": list(c.probability),
                "rows": c.rows,
                "positives": c.positives,
            }
            for c in model.curves
        ],
        "base_rate": model.base_rate,
        "rows": model.rows,
        "positives": model.positives,
        "severity": {g: list(x) for g, x in sorted(model.severity.items())},
        "overdispersion": model.overdispersion,
        "notes": list(model.notes),
        "measures": list(model.measures),
        "scorecard": model.scorecard,
    }


# -- reading a saved model ----------------------------------------------------------------


_MODEL_KEYS: Final = frozenset(
    {
        "format", "version", "health", "days", "by", "horizons", "curves", "base_rate", "rows",
        "positives", "severity", "overdispersion", "notes", "measures", "scorecard",
    }
)  # fmt: skip
_CURVE_KEYS: Final = frozenset({"group", "horizon", "health", "probability", "rows", "positives"})


def _fields(data: object, path: str, keys: frozenset[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise SchemaError(path, type(data).__name__, "a JSON object")
    for key in data:
        if key not in keys:
            raise SchemaError(
                f"{path}.{key}", data[key], f"no such field ({', '.join(sorted(keys))})"
            )
    for key in sorted(keys):
        if key not in data:
            raise SchemaError(f"{path}.{key}", "nothing", "the field (it is missing)")
    return data


def _name(path: str, value: object, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not value.strip() and not optional):
        raise SchemaError(path, value, "a text" + (" or null" if optional else ""))
    return value


def _count(path: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SchemaError(path, value, "a whole number of 0 or more")
    return value


def _real(path: str, value: object, lo: float, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SchemaError(path, value, "a number")
    if not math.isfinite(value) or value < lo or (hi is not None and value > hi):
        span = f"from {lo:g} to {hi:g}" if hi is not None else f"of {lo:g} or more"
        raise SchemaError(path, value, f"a number {span}")
    return float(value)


def _reals(path: str, value: object, lo: float, hi: float | None = None) -> tuple[float, ...]:
    if not isinstance(value, list):
        raise SchemaError(path, value, "a list of numbers")
    return tuple(_real(f"{path}[{i}]", x, lo, hi) for i, x in enumerate(value))


def _model_fields(data: object) -> dict[str, Any]:
    """The constructor arguments of the `RenewalModel` that ``data`` describes, checked."""
    if isinstance(data, dict) and data.get("format") != MODEL_FORMAT:
        raise SchemaError("$.format", data.get("format"), repr(MODEL_FORMAT))
    if isinstance(data, dict) and data.get("version") != MODEL_VERSION:
        version = data.get("version")
        hint = "a newer stars wrote it" if isinstance(version, int) else "a format version"
        raise SchemaError("$.version", version, f"{MODEL_VERSION} ({hint})")
    d = _fields(data, "$", _MODEL_KEYS)
    health = _name("$.health", d["health"])
    assert health is not None
    days = _name("$.days", d["days"], optional=True)
    by = _name("$.by", d["by"], optional=True)
    horizons = _reals("$.horizons", d["horizons"], 0)
    if any(b <= a for a, b in itertools.pairwise(horizons)):
        raise SchemaError("$.horizons", d["horizons"], "edges in days, strictly increasing")
    if not isinstance(d["curves"], list) or not d["curves"]:
        raise SchemaError("$.curves", d["curves"], "a non-empty list of curves")
    curves = []
    seen: set[tuple[str | None, int | None]] = set()
    for i, raw in enumerate(d["curves"]):
        at = f"$.curves[{i}]"
        c = _fields(raw, at, _CURVE_KEYS)
        group = _name(f"{at}.group", c["group"], optional=True)
        if group is not None and by is None:
            raise SchemaError(f"{at}.group", group, "null (the model has no 'by' column)")
        horizon = c["horizon"]
        if horizon is not None:
            horizon = _count(f"{at}.horizon", horizon)
            if days is None or horizon > len(horizons):
                raise SchemaError(
                    f"{at}.horizon",
                    horizon,
                    "null" if days is None else f"a bucket from 0 to {len(horizons)}",
                )
        knots = _reals(f"{at}.health", c["health"], 0, 100)
        probs = _reals(f"{at}.probability", c["probability"], 0, 1)
        if not knots or len(knots) != len(probs):
            raise SchemaError(
                f"{at}.probability", f"{len(probs)} values", f"{len(knots)} values, at least one"
            )
        if any(b <= a for a, b in itertools.pairwise(knots)):
            raise SchemaError(f"{at}.health", c["health"], "knots strictly increasing")
        if any(b > a for a, b in itertools.pairwise(probs)):
            raise SchemaError(
                f"{at}.probability", c["probability"], "probabilities that never rise with health"
            )
        rows, positives = _count(f"{at}.rows", c["rows"]), _count(f"{at}.positives", c["positives"])
        if positives > rows:
            raise SchemaError(f"{at}.positives", positives, f"at most rows ({rows})")
        if (group, horizon) in seen:
            raise SchemaError(at, f"a second curve for {(group, horizon)}", "one curve per key")
        seen.add((group, horizon))
        curves.append(RiskCurve(group, horizon, knots, probs, rows, positives))
    if (None, None) not in seen:
        raise SchemaError(
            "$.curves", f"{len(curves)} curves", "the pooled curve (group and horizon null)"
        )
    rows, positives = _count("$.rows", d["rows"]), _count("$.positives", d["positives"])
    if positives > rows:
        raise SchemaError("$.positives", positives, f"at most rows ({rows})")
    if not isinstance(d["severity"], dict) or "" not in d["severity"]:
        raise SchemaError("$.severity", d["severity"], 'an object with the pooled entry ""')
    severity: dict[str, tuple[float, float]] = {}
    for g, pair in d["severity"].items():
        share = _reals(f"$.severity[{g!r}]", pair, 0, 1)
        if len(share) != 2:
            raise SchemaError(
                f"$.severity[{g!r}]", pair, "two numbers: the mean share and its square"
            )
        severity[g] = (share[0], share[1])
    for key in ("notes", "measures"):
        if not isinstance(d[key], list):
            raise SchemaError(f"$.{key}", d[key], "a list of texts")
        for i, x in enumerate(d[key]):
            _name(f"$.{key}[{i}]", x)
    return {
        "health": health,
        "days": days,
        "by": by,
        "horizons": horizons,
        "curves": tuple(curves),
        "base_rate": _real("$.base_rate", d["base_rate"], 0, 1),
        "rows": rows,
        "positives": positives,
        "severity": severity,
        "overdispersion": _real("$.overdispersion", d["overdispersion"], 0),
        "notes": tuple(d["notes"]),
        "measures": tuple(d["measures"]),
        "scorecard": _name("$.scorecard", d["scorecard"], optional=True),
    }
