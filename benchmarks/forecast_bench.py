"""Renewal risk: fit a monotone health-to-probability map and apply it, against scikit-learn."""

from __future__ import annotations

from typing import Any

from benchmarks._harness import Mode, Row, Section, Target, Unavailable, median_time, stars_attr


def renewal_frame(rows: int, seed: int = 23) -> Any:
    """Health 0-100 and a 0/1 ``bad`` renewal outcome whose chance falls with health."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    health = np.round(rng.uniform(0, 100, rows), 1)
    chance = 1 / (1 + np.exp(-(-1.0 - 0.04 * (health - 50))))
    return pl.DataFrame({"health": health, "bad": (rng.random(rows) < chance).astype(np.int8)})


def hand_isotonic(frame: Any) -> Any:
    """What a user writes by hand: polars columns, scikit-learn's IsotonicRegression."""
    import polars as pl
    from sklearn.isotonic import IsotonicRegression

    x = frame["health"].to_numpy()
    y = frame["bad"].to_numpy()
    fit = IsotonicRegression(increasing=False, out_of_bounds="clip", y_min=0, y_max=1)
    fit.fit(x, y)
    return frame.with_columns(probability=pl.Series(fit.predict(x)))


def forecast(mode: Mode) -> Section:
    """Fit renewal risk on 1,000,000 renewals and apply it to them."""
    fit = stars_attr("stars.forecast", "fit_renewal_model")
    try:
        import sklearn  # noqa: F401
    except ImportError:  # pragma: no cover - the bench extra installs it
        raise Unavailable("scikit-learn is not installed") from None

    n = mode.size(1_000_000)
    section = Section("forecast", "renewal risk: fit and apply", f"{n:,} rows")
    frame = renewal_frame(n)

    def ours(_: object) -> Any:
        return fit(frame, outcome="bad", min_rows=1).apply(frame)

    got = ours(None)["probability"].to_numpy()
    want = hand_isotonic(frame)["probability"].to_numpy()
    gap = float(abs(got - want).mean())
    if gap > 0.01:
        raise AssertionError(f"stars and scikit-learn probabilities differ by {gap:.4f} on average")

    r = mode.heavy_repeats
    t_stars = median_time(ours, repeats=r, warmup=1)
    t_hand = median_time(lambda _: hand_isotonic(frame), repeats=r, warmup=1)
    s = "stars.forecast fit_renewal_model + apply"
    alt = "polars + sklearn IsotonicRegression fit + predict"
    section.rows = [Row(s, t_stars, n), Row(alt, t_hand, n, ref=s)]
    section.notes = [
        "One row per renewal: a health score (one decimal) and a 0/1 outcome that falls with it.",
        "stars pools health on a 0.1-point grid before its pool-adjacent-violators fit and "
        "shrinks each block towards the base rate; scikit-learn fits every distinct value. "
        f"Mean absolute difference of the probabilities: {gap:.5f}.",
    ]
    q = section.ratio(alt)
    section.targets = [
        Target(
            "renewal risk fit + apply within 2x of polars + sklearn (issue 23)",
            f"{q:.2f}x",
            q <= 2.0,
        )
    ]
    return section
