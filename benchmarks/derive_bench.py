"""Stages from history: derive lifecycle events from three years of monthly facts.

stars' batch form (`stars.derive.derive_frame`) is compared with a hand-written polars
implementation of the same rule, written here from the rule as the concepts page states
it, and checked (untimed) to derive the very same events before anything is timed. The
one-account-at-a-time form (`stars.derive.derive_events`) is timed on a subset.
"""

from __future__ import annotations

from typing import Any

from benchmarks._harness import Mode, Row, Section, Target, Unavailable, median_time, stars_attr

# The default Policy and DeriveRule, as their docstrings state them.
RED_BELOW, GREEN_FROM = 40.0, 70.0
GREEN_STREAK, MIN_TENURE_DAYS, TREND_WINDOW, FLAT_WITHIN = 3, 180, 3, 2.0
CONFIRM, MIN_DWELL_DAYS = 2, 60
MONTHS = 36
DAY_US = 86_400_000_000

# stage codes
PROSPECT, SEED, ACCELERATE, ASCEND, RESET, TACT, CHURN = range(7)
STAGES = ("prospect", "seed", "accelerate", "ascend", "reset", "tact", "churn")
# move code -> (trigger, destination)
MOVES = {
    1: ("sign", SEED),
    2: ("win_back", PROSPECT),
    3: ("lose", CHURN),
    4: ("restart", SEED),
    5: ("reseed", SEED),
    6: ("accelerate", ACCELERATE),
    7: ("sustain", ASCEND),
    8: ("expand", ACCELERATE),
    9: ("stagnate", RESET),
    10: ("escalate", TACT),
    11: ("realign", ASCEND),
    12: ("realign", ACCELERATE),
    13: ("stabilize", RESET),
}


def _np() -> Any:
    try:
        import numpy as np
        import polars as pl  # noqa: F401
    except ImportError as exc:  # pragma: no cover - the bench extra installs them
        raise Unavailable(f"{exc.name} is not installed (the bench extra installs it)") from None
    return np


def monthly_facts(accounts: int, months: int = MONTHS, seed: int = 11) -> Any:
    """One row per account and month, sorted by account and month, like a CRM export.

    Health drifts per account with month-to-month noise (so some accounts flap around a
    band cut-off), about 2% of readings are missing; most accounts sign in the first
    month, some later; 12% churn (a contract ``end``), and some of those come back; a
    renewal every twelve months; success metrics agreed within the first months; short
    expansion openings, rare critical risks, re-onboardings and new business units.
    """
    import polars as pl

    np = _np()
    rng = np.random.default_rng(seed)
    n = accounts * months
    acc = np.repeat(np.arange(accounts), months)
    m = np.tile(np.arange(months), accounts)
    base = rng.uniform(35, 95, accounts)
    drift = rng.normal(0, 4, (accounts, months)).cumsum(axis=1)
    noise = rng.normal(0, 7, (accounts, months))
    health = np.clip(base[:, None] + drift + noise, 0, 100).ravel()
    health[rng.random(n) < 0.02] = np.nan
    start = np.where(rng.random(accounts) < 0.9, 0, rng.integers(1, months, accounts))
    churn_at = np.where(rng.random(accounts) < 0.12, start + rng.integers(3, 30, accounts), 999)
    back_at = np.where(rng.random(accounts) < 0.3, churn_at + rng.integers(2, 12, accounts), 999)
    s, c, b = start[acc], churn_at[acc], back_at[acc]
    contract = np.zeros(n, dtype=np.int8)
    contract[(m > s) & ((m - s) % 12 == 0) & (m < c)] = 2
    contract[m == s] = 1
    contract[m == c] = 3
    contract[m == b] = 1
    expand_at = rng.integers(6, 40, accounts)[acc]
    risk_at = np.where(rng.random(accounts) < 0.06, rng.integers(0, months, accounts), 999)[acc]
    first = np.datetime64("2022-01-01", "M")
    at = (first + m.astype("timedelta64[M]")).astype("datetime64[us]")
    ids = pl.Series("account_id", [f"acct-{i:06d}" for i in range(accounts)])
    raw = pl.DataFrame(
        {
            "account_id": ids.gather(acc),
            "at": pl.Series(at).dt.replace_time_zone("UTC"),
            "health": pl.Series(health).fill_nan(None),
            "contract": contract,
            "agreed": m == (start + rng.integers(0, 5, accounts))[acc],
            "expand_on": m == expand_at,
            "expand_off": m == expand_at + 3,
            "risk_on": m == risk_at,
            "risk_off": m == risk_at + 2,
            "reonboarding": rng.random(n) < 0.003,
            "unit": rng.random(n) < 0.002,
        }
    )

    def flag(on: str, off: str | None = None) -> Any:
        expr = pl.when(pl.col(on)).then(True)
        return expr.when(pl.col(off)).then(False) if off else expr

    return raw.select(
        "account_id",
        "at",
        "health",
        pl.col("contract").replace_strict(
            [0, 1, 2, 3], [None, "start", "renewal", "end"], return_dtype=pl.String
        ),
        flag("agreed").alias("success_metrics_agreed"),
        flag("expand_on", "expand_off").alias("expansion_open"),
        flag("risk_on", "risk_off").alias("critical_risk"),
        flag("reonboarding").alias("reonboarding_agreed"),
        flag("unit").alias("new_business_unit"),
    )


# ------------------------------------------------------------------------ hand-written
def hand_polars(facts: Any) -> Any:
    """The derive rule (default Policy and DeriveRule) in hand-written polars.

    Per-row evidence with window expressions over the account, then the k-th fact of every
    account at once, one step per month. Returns account_id, at, trigger, to, one row per
    derived event, in account and time order.
    """
    import polars as pl

    acct = "account_id"
    df = facts.sort(acct, "at")
    h = pl.col("health")
    band = (
        pl.when(h < RED_BELOW)
        .then(0)
        .when(h >= GREEN_FROM)
        .then(2)
        .when(h.is_not_null())
        .then(1)
        .cast(pl.Int8)
    )
    contract = pl.col("contract")
    signed = pl.when(contract.is_not_null()).then(contract != "end")
    df = df.with_columns(
        pl.col("at").dt.timestamp("us").alias("t"),
        band.alias("band"),
        signed.forward_fill().over(acct).alias("signed"),
        pl.col("success_metrics_agreed").forward_fill().over(acct).fill_null(False).alias("met"),
        pl.col("expansion_open").forward_fill().over(acct).fill_null(False).alias("exp"),
        pl.col("critical_risk").forward_fill().over(acct).fill_null(False).alias("crit"),
        pl.col("reonboarding_agreed").fill_null(False).alias("reonb"),
        pl.col("new_business_unit").fill_null(False).alias("unit"),
        pl.int_range(pl.len()).over(acct).alias("pos"),
    )
    # green streak: greens so far, minus the count where the last non-green row was
    green = (pl.col("band") == 2).fill_null(False)
    greens = green.cast(pl.Int32).cum_sum().over(acct)
    df = df.with_columns(greens.alias("greens")).with_columns(
        (
            pl.col("greens")
            - pl.when(~green).then(pl.col("greens")).forward_fill().over(acct).fill_null(0)
        ).alias("streak")
    )
    # the trend: least squares over the last three readings (two at the start)
    df = df.with_row_index("row")
    readings = df.filter(h.is_not_null()).select("row", acct, "t", "health")
    x1 = (pl.col("t") - pl.col("t").shift(1).over(acct)) / 1e6 / (30 * 86400)
    x2 = (pl.col("t") - pl.col("t").shift(2).over(acct)) / 1e6 / (30 * 86400)
    y1, y2 = h.shift(1).over(acct), h.shift(2).over(acct)
    k = pl.int_range(pl.len()).over(acct) + 1
    readings = readings.with_columns(
        x1.alias("d1"), x2.alias("d2"), y1.alias("y1"), y2.alias("y2"), k.alias("k")
    )
    d1, d2, v1, v2 = pl.col("d1"), pl.col("d2"), pl.col("y1"), pl.col("y2")
    # three points, oldest first: (0, y2), (d2 - d1, y1), (d2, y)
    a, bx = d2 - d1, d2
    mx3 = (a + bx) / 3
    my3 = (v2 + v1 + h) / 3
    sxx3 = mx3**2 + (a - mx3) ** 2 + (bx - mx3) ** 2
    sxy3 = (0 - mx3) * (v2 - my3) + (a - mx3) * (v1 - my3) + (bx - mx3) * (h - my3)
    # two points: (0, y1), (d1, y)
    sxx2 = d1**2 / 2
    sxy2 = d1 * (h - v1) / 2
    readings = readings.select(
        "row",
        pl.when(pl.col("k") >= 3)
        .then(pl.when(sxx3 != 0).then(sxy3 / sxx3))
        .when(pl.col("k") == 2)
        .then(pl.when(sxx2 != 0).then(sxy2 / sxx2))
        .fill_null(float("nan"))  # a reading without a trend yet
        .alias("slope"),
    )
    df = df.join(readings, on="row", how="left", maintain_order="left")
    # rows without a reading keep the trend of the account's last reading
    df = df.with_columns(pl.col("slope").forward_fill().over(acct).fill_nan(None))
    b, met, crit = pl.col("band"), pl.col("met"), pl.col("crit")
    falling = (pl.col("slope") < -FLAT_WITHIN).fill_null(False)
    red, yellow = (b == 0).fill_null(False), (b == 1).fill_null(False)
    df = df.with_columns(
        pl.when(red | crit)
        .then(TACT)
        .when((yellow | falling) & met)
        .then(RESET)
        .when(yellow | falling)
        .then(SEED)
        .when(b.is_null())
        .then(-1)
        .when(~met)
        .then(SEED)
        .otherwise(9)  # green with metrics agreed: ascend or accelerate, by tenure
        .cast(pl.Int8)
        .alias("target")
    )
    # the walk, one month position at a time
    stage, t = pl.col("stage"), pl.col("t")
    active = stage.is_between(SEED, TACT)
    tenure_ok = (t - pl.col("signed_at")) >= MIN_TENURE_DAYS * DAY_US
    settled = (pl.col("streak") >= GREEN_STREAK) & tenure_ok.fill_null(False)
    target = pl.col("target")
    aim = pl.when(target != 9).then(target).when(settled & ~pl.col("exp")).then(ASCEND)
    aim = aim.otherwise(ACCELERATE)
    s = pl.col("signed")
    hard = (
        pl.when((stage == PROSPECT) & s.eq_missing(True))
        .then(1)
        .when((stage == CHURN) & s.eq_missing(True))
        .then(2)
        .when(active & s.eq_missing(False))
        .then(3)
        .when((stage == TACT) & pl.col("reonb"))
        .then(4)
        .when(stage.is_in([ACCELERATE, ASCEND]) & pl.col("unit"))
        .then(5)
        .otherwise(0)
    )
    g, known = pl.col("aim"), b.is_not_null()
    soft = (
        pl.when(~active | (pl.col("hard") > 0) | (g == -1) | (g == stage))
        .then(0)
        .when(g == TACT)
        .then(10)
        .when(stage == SEED)
        .then(pl.when(g.is_in([ACCELERATE, ASCEND])).then(6).otherwise(0))
        .when(stage == TACT)
        .then(pl.when(known).then(13).otherwise(0))
        .when(g == RESET)
        .then(pl.when(known).then(9).otherwise(0))
        .when(stage == ACCELERATE)
        .then(pl.when(g == ASCEND).then(7).otherwise(0))
        .when(stage == ASCEND)
        .then(pl.when((g == ACCELERATE) & pl.col("exp")).then(8).otherwise(0))
        .when(g == ASCEND)
        .then(11)
        .when((g == ACCELERATE) & (pl.col("streak") >= GREEN_STREAK))
        .then(12)
        .otherwise(0)
    )
    sft = pl.col("soft")
    count = pl.when(sft == 0).then(0).when(sft == pl.col("run")).then(pl.col("count") + 1)
    count = count.otherwise(1)
    dwelt = ((t - pl.col("entered")) >= MIN_DWELL_DAYS * DAY_US).fill_null(False)
    fire = (sft > 0) & (pl.col("n") >= CONFIRM) & dwelt
    move = pl.when(pl.col("hard") > 0).then(pl.col("hard")).when(fire).then(sft).otherwise(0)
    mv = pl.col("move")
    dest = mv.replace_strict(list(MOVES), [d for _, d in MOVES.values()], default=None)
    dest = pl.when(mv == 2).then(SEED).otherwise(dest)
    state = [
        pl.when(mv > 0).then(dest).otherwise(stage).cast(pl.Int8).alias("stage"),
        pl.when(mv > 0).then(t).otherwise(pl.col("entered")).alias("entered"),
        pl.when(mv.is_in([1, 2])).then(t).otherwise(pl.col("signed_at")).alias("signed_at"),
        pl.when(mv > 0).then(0).otherwise(sft).alias("run"),
        pl.when(mv > 0).then(0).otherwise(pl.col("n")).alias("count"),
    ]
    cols = [acct, "t", "signed", "band", "streak", "exp", "reonb", "unit", "target"]
    months = df.select(*cols, "pos").partition_by("pos", maintain_order=True, include_key=False)
    size = len(months[0])
    # Every account has a fact every month (the data says so), so each month's rows line
    # up with the state rows, account by account.
    if any(len(month) != size for month in months):
        raise AssertionError("the hand-written walk expects a fact per account and month")
    carry = pl.DataFrame(
        {
            "stage": pl.repeat(PROSPECT, size, eager=True, dtype=pl.Int8),
            "entered": pl.repeat(None, size, eager=True, dtype=pl.Int64),
            "signed_at": pl.repeat(None, size, eager=True, dtype=pl.Int64),
            "run": pl.repeat(0, size, eager=True, dtype=pl.Int32),
            "count": pl.repeat(0, size, eager=True, dtype=pl.Int32),
        }
    )
    found = []
    for month in months:
        step = (
            pl.concat([carry, month], how="horizontal")
            .lazy()
            .with_columns(aim.alias("aim"), hard.alias("hard"))
            .with_columns(soft.alias("soft"))
            .with_columns(count.alias("n"))
            .with_columns(move.alias("move"))
            .collect()
        )
        found.append(step.filter(mv > 0).select(acct, "t", "move"))
        carry = step.select(state)
    events = pl.concat(found)
    again = events.filter(pl.col("move") == 2).with_columns(pl.lit(99).alias("move"))
    names = {c: name for c, (name, _) in MOVES.items()} | {99: "sign"}
    tos = {c: STAGES[d] for c, (_, d) in MOVES.items()} | {99: "seed"}
    return (
        pl.concat([events, again])
        .with_columns((pl.col("move") == 99).cast(pl.Int8).alias("seq"))
        .sort(acct, "t", "seq")
        .select(
            acct,
            pl.col("t").cast(pl.Datetime("us", "UTC")).alias("at"),
            pl.col("move").replace_strict(names, return_dtype=pl.String).alias("trigger"),
            pl.col("move").replace_strict(tos, return_dtype=pl.String).alias("to"),
        )
    )


def _facts_of(frame: Any) -> list[tuple[str, list[Any]]]:
    """The frame as (account id, [Fact, ...]) per account, for the one-at-a-time form."""
    from stars.derive import Fact

    out: dict[str, list[Any]] = {}
    for row in frame.iter_rows(named=True):
        aid = row.pop("account_id")
        out.setdefault(aid, []).append(Fact(**row))
    return list(out.items())


# ------------------------------------------------------------------------ scenario
def derive(mode: Mode) -> Section:
    """Derive histories for 100,000 accounts from 36 monthly facts each (3.6M rows)."""
    import polars as pl

    derive_frame = stars_attr("stars.derive", "derive_frame")
    derive_events = stars_attr("stars.derive", "derive_events")
    derive_portfolio = stars_attr("stars.derive", "derive_portfolio")
    n = mode.size(100_000, minimum=100)
    facts = monthly_facts(n)
    rows = len(facts)
    section = Section(
        "derive", "stages from history (monthly facts to events)", f"{n:,} accounts, {rows:,} rows"
    )
    key = ["account_id", "at", "trigger", "to"]
    got = derive_frame(facts)
    want = hand_polars(facts)
    if not got.select(key).equals(want):
        raise AssertionError("the hand-written polars rule disagrees with stars.derive_frame")
    sub_n = mode.size(2_000, minimum=50)
    subset = facts.filter(pl.col("account_id").is_in(facts["account_id"].unique().sort()[:sub_n]))
    work = _facts_of(subset)
    scalar = [d for aid, items in work for d in derive_events(aid, items)]
    batch = derive_frame(subset)
    same = [(d.account_id, d.event.trigger, d.event.to, d.event.reason) for d in scalar] == list(
        batch.select("account_id", "trigger", "to", "reason").iter_rows()
    )
    if not same:
        raise AssertionError("derive_events (one account at a time) disagrees with derive_frame")

    r = mode.heavy_repeats
    t_stars = median_time(lambda _: derive_frame(facts), repeats=r, warmup=1)
    t_hand = median_time(lambda _: hand_polars(facts), repeats=r, warmup=1)
    t_book = median_time(lambda _: derive_portfolio(facts), repeats=1)

    def one_at_a_time(_: object) -> Any:
        return [derive_events(aid, items) for aid, items in work]

    t_scalar = median_time(one_at_a_time, repeats=3) * n / sub_n
    s = "stars.derive.derive_frame on polars"
    hand = "hand-written polars (the same rule)"
    loop = "stars.derive.derive_events, one account at a time"
    section.rows = [
        Row(s, t_stars, rows),
        Row(hand, t_hand, rows, ref=s),
        Row(loop, t_scalar, rows, ref=s, note=f"extrapolated from {sub_n:,} accounts"),
        Row("stars.derive.derive_portfolio (events, then Portfolio.from_frames)", t_book, rows),
    ]
    events = len(got)
    section.notes = [
        f"{n:,} accounts x {MONTHS} monthly facts (health drifting with noise, 2% missing; "
        "contracts that start, renew, end and come back; success metrics, expansions, "
        f"critical risks, re-onboardings, new business units); {events:,} events derived "
        "with the default Policy and DeriveRule (confirm 2 readings, dwell 60 days).",
        "The hand-written polars version was checked to derive the same events (account, "
        "time, trigger, destination) as stars before timing. It reads a clean frame; stars "
        "also checks every column's type and values (one aggregate pass), writes the reason "
        "and the evidence of every event, and computes days and trends with the same "
        "divisions as Python (a column of the constant, not a constant).",
        f"The one-account-at-a-time form was checked to give the same events and reasons on "
        f"{sub_n:,} accounts, timed on them (median of 3) and multiplied by {n / sub_n:,.0f}.",
        "derive_portfolio adds replaying the events into accounts with Portfolio.from_frames "
        "(one run), after which episodes, time in stage and transition matrices work.",
    ]
    q = section.ratio(hand)
    q_loop = section.ratio(loop)
    section.targets = [
        Target("derive_frame within 2x of hand-written polars (issue 20)", f"{q:.2f}x", q <= 2.0),
        Target(
            "the batch form is faster than one account at a time (for scale)",
            f"{1 / q_loop:,.1f}x faster",
            q_loop < 1,
        ),
    ]
    return section
