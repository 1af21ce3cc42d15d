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


def _risk_book(size: int) -> tuple[list[Any], Any]:
    """``size`` accounts with four weekly health readings each, and one contract each.

    Every contract renews within the year after 2025-01-01, so a 365-day window holds
    them all.
    """
    from datetime import UTC, date, datetime, timedelta

    from stars import Account, Snapshot
    from stars.contracts import Contract, ContractBook

    day = datetime(2024, 12, 10, tzinfo=UTC)
    accounts = [
        Account(
            f"acct-{i:06d}",
            owner=f"owner-{i % 40}",
            tags=[f"segment:s{i % 5}"],
            snapshots=[
                Snapshot(at=day + timedelta(days=7 * k), health=float((i * 7 + k) % 100))
                for k in range(4)
            ],
        )
        for i in range(size)
    ]
    book = ContractBook(
        Contract.for_term(
            f"acct-{i:06d}", date(2024, 1, 1) + timedelta(days=i % 365), 12, 1000.0 + i, "USD"
        )
        for i in range(size)
    )
    return accounts, book


def renewal_risk_growth(mode: Mode) -> Section:
    """Revenue at risk per renewal: 500 renewals in the window against 50,000 (quick: 5,000)."""
    from datetime import date

    from benchmarks.engine_bench import _growth_rows

    renewal_risk = stars_attr("stars.forecast", "renewal_risk")
    model_type = stars_attr("stars.forecast", "RenewalModel")
    curve = stars_attr("stars.forecast", "RiskCurve")
    short_n = 500
    long_n = 50_000 if mode.name == "full" else 5_000
    section = Section(
        "renewal_risk_growth",
        "revenue at risk per renewal, a small book against a big one",
        f"{short_n:,} vs {long_n:,} renewals",
    )
    pooled = curve(None, None, (20.0, 80.0), (0.3, 0.1), 100, 20)
    model = model_type("health", None, None, (), (pooled,), 0.2, 100, 20, {"": (1.0, 1.0)}, 0.0)

    def per_renewal(size: int) -> float:
        accounts, book = _risk_book(size)

        def run(_: object) -> Any:
            return renewal_risk(model, accounts, book, as_of=date(2025, 1, 1), horizon_days=365)

        got = run(None)
        assert len(got.renewals) == size
        assert len(got.by_owner) == min(40, size)
        repeats = mode.heavy_repeats if size > 10_000 else 3 * mode.repeats
        return median_time(run, repeats=repeats, warmup=1) / size

    t_short = per_renewal(short_n)
    t_long = per_renewal(long_n)
    n = long_n
    _growth_rows(
        section,
        "stars.forecast.renewal_risk",
        "renewals",
        (short_n, t_short * n),
        (long_n, t_long * n),
        n,
        source="measure growth, issue 23",
    )
    section.notes = [
        "One contract per account, each account with four weekly health readings and an owner "
        "and segment tag; every contract renews inside the 365-day window, so each call "
        "prices every renewal, its owner and segment groups and the total.",
        f"Both rows are the time per renewal times {n:,}: the ratio is the cost of one renewal "
        "in the big book against the small one.",
    ]
    return section
