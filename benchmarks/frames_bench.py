"""Batch scenarios on DataFrames: health scoring and stage assignment.

The hand-written contenders are what an analyst would write from the documented
formulas, in idiomatic polars or pandas; each is checked once (untimed) to give the
same numbers as ``stars`` before anything is timed.
"""

from __future__ import annotations

from typing import Any

from benchmarks._harness import Mode, Row, Section, Target, Unavailable, median_time, stars_attr

# The default scorecard (stars.health.default_scorecard), as its docstring states it:
# normalised weights, and each measure's rule.
WEIGHTS = {
    "adoption": 0.25,
    "open_tickets": 0.125,
    "days_since_contact": 0.125,
    "nps": 0.15,
    "csat": 0.15,
    "sentiment": 0.20,
}
MEASURES = tuple(WEIGHTS)


def _np() -> Any:
    try:
        import numpy as np
        import polars as pl  # noqa: F401
    except ImportError as exc:  # pragma: no cover - the bench extra installs them
        raise Unavailable(f"{exc.name} is not installed (the bench extra installs it)") from None
    return np


def signals_frame(rows: int, seed: int = 7) -> Any:
    """A polars frame of the default scorecard's measures, about 5% missing in three."""
    import polars as pl

    np = _np()
    rng = np.random.default_rng(seed)

    def with_gaps(values: Any) -> Any:
        out = values.astype("float64")
        out[rng.random(rows) < 0.05] = np.nan
        return out

    return pl.DataFrame(
        {
            "account": [f"acct-{i}" for i in range(rows)],
            "adoption": rng.random(rows),
            "open_tickets": rng.poisson(3.0, rows),
            "days_since_contact": rng.exponential(25.0, rows),
            "nps": with_gaps(rng.integers(-100, 101, rows)),
            "csat": with_gaps(rng.uniform(0, 100, rows)),
            "sentiment": with_gaps(rng.uniform(-1, 1, rows)),
        },
    ).fill_nan(None)


# ------------------------------------------------------------------------ hand-written
def hand_polars(df: Any) -> Any:
    """The default scorecard in plain polars expressions (missing: redistribute)."""
    import polars as pl

    def up(name: str, lo: float, hi: float) -> pl.Expr:
        return ((pl.col(name) - lo) * (100.0 / (hi - lo))).clip(0.0, 100.0)

    def down(name: str, lo: float, hi: float) -> pl.Expr:
        return ((hi - pl.col(name)) * (100.0 / (hi - lo))).clip(0.0, 100.0)

    tickets = pl.col("open_tickets")
    scores = {
        "adoption": up("adoption", 0.2, 0.8),
        "open_tickets": pl.when(tickets < 3)
        .then(100.0)
        .when(tickets < 6)
        .then(70.0)
        .when(tickets < 10)
        .then(40.0)
        .when(tickets >= 10)
        .then(0.0),
        "days_since_contact": down("days_since_contact", 14, 60),
        "nps": up("nps", -50, 50),
        "csat": up("csat", 50, 90),
        "sentiment": up("sentiment", -1, 1),
    }
    present = pl.sum_horizontal(pl.col(n).is_not_null() * w for n, w in WEIGHTS.items())
    contributions = {
        f"contribution_{n}": (scores[n] * w).fill_null(0.0) / present for n, w in WEIGHTS.items()
    }
    health = pl.sum_horizontal(*(pl.col(c) for c in contributions)).clip(0.0, 100.0)
    band = (
        pl.when(pl.col("health") < 40)
        .then(pl.lit("red"))
        .when(pl.col("health") >= 70)
        .then(pl.lit("green"))
        .otherwise(pl.lit("yellow"))
    )
    return (
        df.lazy()
        .with_columns(**contributions)
        .with_columns(health=health)
        .with_columns(band=band)
        .collect()
    )


def hand_pandas(df: Any) -> Any:
    """The default scorecard in vectorised pandas/NumPy (missing: redistribute)."""
    import numpy as np

    def up(col: Any, lo: float, hi: float) -> Any:
        return ((col - lo) * (100.0 / (hi - lo))).clip(0.0, 100.0)

    def down(col: Any, lo: float, hi: float) -> Any:
        return ((hi - col) * (100.0 / (hi - lo))).clip(0.0, 100.0)

    tickets = df["open_tickets"]
    scores = {
        "adoption": up(df["adoption"], 0.2, 0.8),
        "open_tickets": np.select(
            [tickets < 3, tickets < 6, tickets < 10], [100.0, 70.0, 40.0], default=0.0
        ),
        "days_since_contact": down(df["days_since_contact"], 14, 60),
        "nps": up(df["nps"], -50, 50),
        "csat": up(df["csat"], 50, 90),
        "sentiment": up(df["sentiment"], -1, 1),
    }
    present = sum(df[n].notna() * w for n, w in WEIGHTS.items())
    contributions = {
        f"contribution_{n}": np.nan_to_num(scores[n] * w) / present for n, w in WEIGHTS.items()
    }
    health = np.clip(sum(contributions.values()), 0.0, 100.0)
    band = np.select([health < 40, health >= 70], ["red", "green"], default="yellow")
    return df.assign(**contributions, health=health, band=band)


def loop_rows(sample: Any, card: Any) -> list[Any]:
    """One account at a time: Scorecard.score on each row's values."""
    score = card.score
    return [
        score({n: row[n] for n in MEASURES})
        for row in sample.select(MEASURES).iter_rows(named=True)
    ]


def _same(a: Any, b: Any, what: str) -> None:
    import polars as pl

    left = pl.from_pandas(a) if not isinstance(a, pl.DataFrame) else a
    right = pl.from_pandas(b) if not isinstance(b, pl.DataFrame) else b
    diff: Any = (left["health"] - right["health"]).abs().max()
    bands = (left["band"].cast(pl.String) == right["band"].cast(pl.String)).all()
    if not (diff is not None and diff < 1e-9 and bands):
        raise AssertionError(f"{what} disagrees with stars (max health gap {diff}, bands {bands})")


# ------------------------------------------------------------------------ score
def score(mode: Mode) -> Section:
    """Score 1,000,000 rows with the default scorecard."""
    try:
        from stars.frames import score as stars_score
        from stars.health import default_scorecard
    except ImportError as exc:
        raise Unavailable(f"stars.frames.score: {exc}") from None
    n = mode.size(1_000_000)
    section = Section("score", "batch health scoring", f"{n:,} rows")
    card = default_scorecard()
    if card.weights != WEIGHTS:
        raise AssertionError(f"the default scorecard changed: {card.weights}; update WEIGHTS")
    frame = signals_frame(n)
    pdf = frame.to_pandas()
    sample_n = mode.size(20_000, minimum=200)
    sample = frame.head(sample_n)

    _same(stars_score(frame, card), hand_polars(frame), "hand-written polars")
    _same(stars_score(pdf, card), hand_pandas(pdf), "hand-written pandas")
    looped = loop_rows(sample.head(50), card)
    want = stars_score(sample.head(50), card)["health"].to_list()
    if max(abs(h.score - w) for h, w in zip(looped, want, strict=True)) > 1e-9:
        raise AssertionError("the per-row loop disagrees with stars.frames.score")

    r = mode.repeats
    t_pl = median_time(lambda _: stars_score(frame, card), repeats=r, warmup=1)
    t_hand_pl = median_time(lambda _: hand_polars(frame), repeats=r, warmup=1)
    t_pd = median_time(lambda _: stars_score(pdf, card), repeats=r, warmup=1)
    t_hand_pd = median_time(lambda _: hand_pandas(pdf), repeats=r, warmup=1)
    t_loop = median_time(lambda _: loop_rows(sample, card), repeats=3, warmup=0) * n / sample_n

    s_pl = "stars.frames.score on polars"
    s_pd = "stars.frames.score on pandas"
    loop = "per-row loop of Scorecard.score"
    section.rows = [
        Row(s_pl, t_pl, n),
        Row("hand-written polars expressions", t_hand_pl, n, ref=s_pl),
        Row(s_pd, t_pd, n),
        Row("hand-written pandas/NumPy", t_hand_pd, n, ref=s_pd),
        Row(loop, t_loop, n, ref=s_pl, note=f"extrapolated from {sample_n:,} rows"),
    ]
    section.notes = [
        "Default scorecard (six measures in three groups, missing measures redistributed); "
        "about 5% of nps, csat and sentiment missing. Each contender returns health, band "
        "and one contribution column per measure; the hand-written ones were checked to "
        "give the same health (to 1e-9) and bands as stars before timing.",
        "stars also checks every value against its measure's domain (one extra aggregate "
        "pass); the hand-written versions do not check anything.",
        f"The per-row loop was timed on the first {sample_n:,} rows (median of 3) and "
        f"multiplied by {n / sample_n:,.0f}: it is linear in the rows.",
    ]
    q_pl = section.ratio("hand-written polars expressions")
    q_pd = section.ratio("hand-written pandas/NumPy")
    q_loop = section.ratio(loop)
    section.targets = [
        Target("polars within 1.5x of hand-written polars (issue 3)", f"{q_pl:.2f}x", q_pl <= 1.5),
        Target("pandas within 2x of hand-written pandas (issue 3)", f"{q_pd:.2f}x", q_pd <= 2.0),
        Target(
            "at least 50x faster than a per-row loop (issue 3)",
            f"{1 / q_loop:,.0f}x faster",
            q_loop <= 1 / 50,
        ),
    ]
    return section


# ------------------------------------------------------------------------ stages
def evidence_frame(rows: int, seed: int = 5) -> Any:
    """Per-account evidence columns, named like stars.Evidence's fields."""
    import polars as pl

    np = _np()
    rng = np.random.default_rng(seed)

    def gaps(values: Any, share: float) -> Any:
        out = values.astype("float64")
        out[rng.random(rows) < share] = np.nan
        return out

    return pl.DataFrame(
        {
            "account": [f"acct-{i}" for i in range(rows)],
            "health": gaps(rng.uniform(0, 100, rows), 0.05),
            "slope": gaps(rng.normal(0, 3, rows), 0.10),
            "green_streak": rng.integers(0, 7, rows),
            "tenure_days": gaps(rng.uniform(0, 1000, rows), 0.05),
            "customer": rng.random(rows) < 0.95,
            "success_metrics_agreed": rng.random(rows) < 0.7,
            "expansion_open": rng.random(rows) < 0.2,
            "critical_risk": rng.random(rows) < 0.03,
            "churned": rng.random(rows) < 0.03,
        }
    ).fill_nan(None)


def hand_stages(df: Any, reasons: bool = False) -> Any:
    """stars.diagnose_stars's documented rule (default Policy) in polars expressions.

    With ``reasons``, also a short reason per row, branch for branch like the rule.
    """
    import polars as pl

    health, slope, tenure = pl.col("health"), pl.col("slope"), pl.col("tenure_days")
    band = (
        pl.when(health < 40)
        .then(pl.lit("red"))
        .when(health >= 70)
        .then(pl.lit("green"))
        .when(health.is_not_null())
        .then(pl.lit("yellow"))
    )
    settled = (pl.col("green_streak") >= 3) & (tenure >= 180)
    stage = (
        pl.when(pl.col("churned"))
        .then(pl.lit("churn"))
        .when(~pl.col("customer"))
        .then(pl.lit("prospect"))
        .when((pl.col("band") == "red") | pl.col("critical_risk"))
        .then(pl.lit("tact"))
        .when(((pl.col("band") == "yellow") | (slope < -2.0)) & pl.col("success_metrics_agreed"))
        .then(pl.lit("reset"))
        .when((pl.col("band") == "yellow") | (slope < -2.0))
        .then(pl.lit("seed"))
        .when(pl.col("band").is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(~pl.col("success_metrics_agreed"))
        .then(pl.lit("seed"))
        .when(settled.fill_null(False) & ~pl.col("expansion_open"))
        .then(pl.lit("ascend"))
        .otherwise(pl.lit("accelerate"))
    )
    columns = {"stage": stage}
    if reasons:
        red, critical = pl.col("band") == "red", pl.col("critical_risk")
        yellow, falling = pl.col("band") == "yellow", slope < -2.0
        onboarding = ~pl.col("success_metrics_agreed")
        columns["stage_reason"] = (
            pl.when(pl.col("churned"))
            .then(pl.lit("churned"))
            .when(~pl.col("customer"))
            .then(pl.lit("no contract yet"))
            .when(red & critical)
            .then(pl.lit("red; critical risk"))
            .when(red)
            .then(pl.lit("red"))
            .when(critical)
            .then(pl.lit("critical risk"))
            .when(yellow & falling & onboarding)
            .then(pl.lit("onboarding; yellow; falling"))
            .when(yellow & onboarding)
            .then(pl.lit("onboarding; yellow"))
            .when(falling & onboarding)
            .then(pl.lit("onboarding; falling"))
            .when(yellow & falling)
            .then(pl.lit("yellow; falling"))
            .when(yellow)
            .then(pl.lit("yellow"))
            .when(falling)
            .then(pl.lit("falling"))
            .when(pl.col("band").is_null())
            .then(pl.lit("no health reading"))
            .when(~pl.col("success_metrics_agreed"))
            .then(pl.lit("metrics not agreed"))
            .when(settled.fill_null(False) & ~pl.col("expansion_open"))
            .then(pl.lit("settled"))
            .when(pl.col("expansion_open"))
            .then(pl.lit("expansion open"))
            .otherwise(pl.lit("green, metrics agreed"))
        )
    return df.lazy().with_columns(band=band).with_columns(**columns).collect()


def assign_stages(mode: Mode) -> Section:
    """Assign the stage the evidence points to, on 1,000,000 rows."""
    import polars as pl

    from stars import STARS

    stars_assign = stars_attr("stars.frames", "assign_stages")
    n = mode.size(1_000_000)
    section = Section("assign_stages", "batch stage assignment (diagnose)", f"{n:,} rows")
    frame = evidence_frame(n)
    got = stars_assign(frame, STARS)
    want = hand_stages(frame)
    same = got["stage"].cast(pl.String).eq_missing(want["stage"]).all()
    if not same:
        raise AssertionError("hand-written polars stages disagree with stars.frames.assign_stages")

    r = mode.repeats
    t_stars = median_time(lambda _: stars_assign(frame, STARS, reasons=False), repeats=r, warmup=1)
    t_stars_why = median_time(lambda _: stars_assign(frame, STARS), repeats=r, warmup=1)
    t_hand = median_time(lambda _: hand_stages(frame), repeats=r, warmup=1)
    t_reasons = median_time(lambda _: hand_stages(frame, reasons=True), repeats=r, warmup=1)
    s = "stars.frames.assign_stages on polars, stage only (reasons=False)"
    s_why = "stars.frames.assign_stages on polars, stage and reason (the default)"
    section.rows = [
        Row(s, t_stars, n),
        Row("hand-written polars (the same rule), stage only", t_hand, n, ref=s),
        Row(s_why, t_stars_why, n),
        Row("hand-written polars, stage and a reason", t_reasons, n, ref=s_why),
    ]
    section.notes = [
        "Evidence columns named like stars.Evidence (health, slope, green_streak, tenure_days, "
        "customer, success_metrics_agreed, expansion_open, critical_risk, churned), with "
        "some health, slope and tenure missing; band derived from health (40/70).",
        "The hand-written rule was checked to give the same stage on every row before timing. "
        "stars also checks every number is finite and every column has the right type (one "
        "aggregate pass); each stars row is compared with the hand-written row that writes "
        "the same columns.",
    ]
    q = section.ratio("hand-written polars (the same rule), stage only")
    q2 = section.ratio("hand-written polars, stage and a reason")
    section.targets = [
        Target(
            "assign_stages within 2x of hand-written polars (issue 7)",
            f"{q:.2f}x (stage only), {q2:.2f}x (with a reason)",
            q <= 2.0,
        )
    ]
    return section
