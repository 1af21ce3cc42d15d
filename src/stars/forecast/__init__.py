"""How likely, and how much revenue: calibrated renewal risk and revenue at risk.

A health score ranks accounts; a renewal team also needs to know *how likely* each
renewal is to go badly (churn or contraction) and *how much recurring revenue* a month's
renewals put at risk, with a range that holds when bad months come in waves.

`fit_renewal_model` learns, on training periods, a monotone map from health to the
probability that a renewal goes badly, separately by time to renewal (and optionally by a
group such as the contract term), with fallbacks where rows are few. The map is an
isotonic fit (pool adjacent violators) rather than a logistic curve on the score: health
scores are built from steps, caps and band cut-offs, so their relation to risk is monotone
but rarely a straight line in log-odds; an isotonic fit only assumes "lower health, higher
risk", and with many rows it is calibrated where a two-parameter logistic would be bent off
at the ends. Each block's rate is shrunk a little towards the base rate, so a block that
saw no bad renewal never predicts exactly 0.

The model also learns how much revenue a bad renewal loses (its mean share, and its
spread) and how much whole periods swing together (an overdispersion, estimated on the
training periods by the method of moments, as in a beta-binomial). `forecast` fits on the
early periods and judges the later ones: Brier score, log loss, expected calibration error
and a reliability table, beside the same figures for the base rate used as a forecast; and
for each held-out period, the expected lost revenue with an interval, and how often the
real loss fell inside it, in total and by segment and owner. Polars, pandas and pyarrow
frames all work; NumPy and narwhals are imported only when a function runs.

Examples:
    >>> import polars as pl
    >>> from stars.forecast import fit_renewal_model
    >>> rows = pl.DataFrame({"health": [10.0, 20, 30, 60, 70, 90] * 10,
    ...                      "lost": [1, 1, 0, 1, 0, 0] * 10})
    >>> model = fit_renewal_model(rows, outcome="lost", min_rows=10)
    >>> model.probability(15) > model.probability(65) > model.probability(95)
    True
"""

from __future__ import annotations

# isort: off
# In the order of the concepts (and of the reference page, which follows it).
from stars.forecast._curve import (
    RiskCurve,
)
from stars.forecast._model import (
    RevenueAtRisk,
    RenewalModel,
)
from stars.forecast._format import (
    MODEL_FORMAT as MODEL_FORMAT,
    MODEL_VERSION as MODEL_VERSION,
)
from stars.forecast._fit import (
    HORIZONS as HORIZONS,
    fit_renewal_model,
)
from stars.forecast._reliability import (
    ReliabilityBin,
    Reliability,
    reliability,
)
from stars.forecast._forecast import (
    PeriodRisk,
    GroupCoverage,
    RenewalForecast,
    forecast,
)
from stars.forecast._renewal_risk import (
    RenewalAtRisk,
    GroupRisk,
    RenewalRisk,
    renewal_risk,
)
# isort: on

__all__ = [
    "GroupCoverage",
    "GroupRisk",
    "PeriodRisk",
    "Reliability",
    "ReliabilityBin",
    "RenewalAtRisk",
    "RenewalForecast",
    "RenewalModel",
    "RenewalRisk",
    "RevenueAtRisk",
    "RiskCurve",
    "fit_renewal_model",
    "forecast",
    "reliability",
    "renewal_risk",
]
