from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from stars.account import Account, Snapshot
from stars.bands import Band
from stars.errors import InvalidValue, UnknownName
from stars.lifecycle import STARS, Event, Lifecycle, StageDef, TransitionDef
from stars.portfolio import (
    Cohort,
    EpisodeStats,
    ForecastBacktest,
    Portfolio,
    RecoveryCurve,
    StageDistribution,
    TransitionMatrix,
)


def at(month: int, day: int = 10, year: int = 2025) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def replay(
    account_id: str, *steps: tuple[str, datetime] | tuple[str, datetime, str], **kw: object
) -> Account:
    events = [
        Event(s[0], s[1], forced=True, reason="import", to=s[2] if len(s) > 2 else None)  # type: ignore[misc]
        for s in steps
    ]
    return STARS.replay(account_id, events, **kw)  # type: ignore[arg-type]


def snap(
    health: float | None = None, band: str | None = None, when: datetime | None = None
) -> Snapshot:
    return Snapshot(at=when or at(1), health=health, band=band)


# --------------------------------------------------------------------------- container
def test_mapping_access_and_order() -> None:
    a, b = Account("b"), Account("a")
    p = Portfolio([a, b])
    assert len(p) == 2
    assert list(p) == ["b", "a"]
    assert p["a"] is b
    assert "a" in p and "zzz" not in p
    assert p.accounts() == (a, b)
    assert p.lifecycle is STARS
    assert repr(p) == "Portfolio(accounts=2, lifecycle='STARS')"


def test_equality_compares_accounts_in_order_and_the_lifecycle() -> None:
    def book() -> list[Account]:
        return [Account("a", snapshots=[snap(50)]), Account("b")]

    p = Portfolio(book())
    assert p == Portfolio(book())  # equal values, distinct objects
    assert p != Portfolio(book()[::-1])  # same accounts, other order
    assert p != Portfolio([Account("a", snapshots=[snap(51)]), Account("b")])
    assert p != Portfolio(book()[:1])
    other = STARS.evolve(name="other")
    assert Portfolio(book(), other) != p
    assert Portfolio(book(), other) == Portfolio(book(), other)
    assert p != book() and p != "a"
    grown = Portfolio(book())
    grown.add(Account("c"))
    assert grown != p


def test_a_portfolio_is_not_hashable() -> None:
    # It is mutable (add), so a hash could change under a dict or set holding it.
    with pytest.raises(TypeError):
        hash(Portfolio())


def test_duplicate_id_is_refused_and_names_the_id() -> None:
    with pytest.raises(InvalidValue) as err:
        Portfolio([Account("acme"), Account("globex"), Account("acme")])
    assert err.value.field == "accounts"
    assert err.value.value == "acme"


def test_add_refuses_duplicate_and_changes_nothing() -> None:
    p = Portfolio([Account("acme")])
    with pytest.raises(InvalidValue, match="acme"):
        p.add(Account("acme", stage="churn"))
    assert len(p) == 1
    assert p["acme"].stage == "prospect"
    p.add(Account("globex"))
    assert list(p) == ["acme", "globex"]


def test_bad_inputs() -> None:
    with pytest.raises(InvalidValue):
        Portfolio(["acme"])  # type: ignore[list-item]
    with pytest.raises(InvalidValue):
        Portfolio("acme")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        Portfolio([], lifecycle="STARS")  # type: ignore[arg-type]
    with pytest.raises(UnknownName) as err:
        Portfolio()["nope"]
    assert isinstance(err.value, LookupError)


def test_stage_must_belong_to_the_lifecycle() -> None:
    custom = Lifecycle(
        [StageDef("new", "before"), StageDef("live", "growth")],
        [TransitionDef("go", "new", "live", "growth")],
        initial="new",
    )
    with pytest.raises(UnknownName):
        Portfolio([Account("a", stage="seed")], lifecycle=custom)
    p = Portfolio([Account("a", stage="live")], lifecycle=custom)
    assert p.stage_distribution().counts == {"new": 0, "live": 1}


# --------------------------------------------------------------------------- where they stand
def test_stage_distribution_counts_and_shares() -> None:
    p = Portfolio(
        [
            Account("a"),
            Account("b", stage="tact"),
            Account("c", stage="tact"),
            Account("d", stage="seed"),
        ]
    )
    d = p.stage_distribution()
    assert list(d.counts) == ["prospect", "seed", "accelerate", "ascend", "reset", "tact", "churn"]
    assert d.counts["tact"] == 2 and d.counts["ascend"] == 0
    assert d.shares["tact"] == 0.5 and d.shares["seed"] == 0.25
    assert d.total == 4
    assert "tact" in d._repr_html_()


def test_empty_distribution_has_zero_shares() -> None:
    d = Portfolio().stage_distribution()
    assert d.total == 0
    assert set(d.shares.values()) == {0.0}


def test_by_band_uses_policy_and_given_band() -> None:
    p = Portfolio(
        [
            Account("r", snapshots=[snap(39.9)]),
            Account("y", snapshots=[snap(40)]),
            Account("g", snapshots=[snap(70)]),
            Account("given", snapshots=[snap(band="green")]),
            Account("none", snapshots=[snap()]),
            Account("nosnap"),
        ]
    )
    assert p.by_band() == {
        "red": ("r",),
        "yellow": ("y",),
        "green": ("g", "given"),
        "unknown": ("none", "nosnap"),
    }


def test_at_risk_order_and_exclusions() -> None:
    p = Portfolio(
        [
            Account("ok", stage="ascend", snapshots=[snap(90)]),
            Account("yellow_ascend", stage="ascend", snapshots=[snap(55)]),
            Account("reset_green", stage="reset", snapshots=[snap(80)]),
            Account("red_tact_30", stage="tact", snapshots=[snap(30)]),
            Account("red_tact_10", stage="tact", snapshots=[snap(10)]),
            Account("red_reset", stage="reset", snapshots=[snap(5)]),
            Account("tact_unscored", stage="tact"),
            Account("churned_red", stage="churn", snapshots=[snap(1)]),
            Account("prospect_red", snapshots=[snap(1)]),
        ]
    )
    got = [(r.account_id, r.severity) for r in p.at_risk()]
    # tact weighs 2 and reset 1; red weighs 2 and yellow 1; ties go to lower health
    assert got == [
        ("red_tact_10", 4),
        ("red_tact_30", 4),
        ("red_reset", 3),
        ("tact_unscored", 2),
        ("yellow_ascend", 1),
        ("reset_green", 1),
    ]
    first = p.at_risk()[0]
    assert first.band is Band.RED and first.health == 10
    assert first.reasons == ("in the crisis stage tact", "latest health band is red")


def test_time_in_stage() -> None:
    a = replay("a", ("sign", at(1, 1)), ("escalate", at(1, 11)))
    p = Portfolio([a, Account("b", since=at(1, 1)), Account("c")])
    assert p.time_in_stage(at(1, 21)) == {"a": 10.0, "b": 20.0, "c": None}
    with pytest.raises(InvalidValue) as err:
        p.time_in_stage(at(1, 5))
    assert err.value.field == "as_of" and "'a'" in str(err.value)
    with pytest.raises(InvalidValue):
        p.time_in_stage(datetime(2025, 2, 1))


def test_distribution_at_reads_history() -> None:
    a = replay("a", ("sign", at(1)), ("escalate", at(3)))
    b = replay("b", ("sign", at(2)))
    c = Account("c", stage="ascend", since=at(1, 1))
    p = Portfolio([a, b, c, Account("never")])
    assert p.distribution_at(at(1, 20)).counts == {
        **dict.fromkeys(p.stage_distribution().counts, 0),
        "seed": 1,
        "ascend": 1,
    }
    later = p.distribution_at(at(3, 20))
    assert (later.counts["seed"], later.counts["tact"], later.total) == (1, 1, 3)
    assert p.distribution_at(at(1, 1, 2024)).total == 0


# --------------------------------------------------------------------------- transition matrix
def _cell(m: TransitionMatrix, source: str, dest: str) -> int:
    return m.counts[m.stages.index(source)][m.stages.index(dest)]


def test_transition_matrix_by_hand() -> None:
    # a: seed from Jan, tact in Mar, reset in Mar too (end of Mar: reset), churn in May.
    a = replay(
        "a", ("sign", at(1)), ("escalate", at(3, 5)), ("stabilize", at(3, 20)), ("lose", at(5))
    )
    # b: seed from Feb, accelerate in Apr; followed to the last period (May).
    b = replay("b", ("sign", at(2)), ("accelerate", at(4)))
    m = Portfolio([a, b, Account("idle")]).transition_matrix()
    # a: Jan->Feb seed/seed, Feb->Mar seed/reset, Mar->Apr reset/reset, Apr->May reset/churn
    # b: Feb->Mar seed/seed, Mar->Apr seed/accelerate, Apr->May accelerate/accelerate
    assert _cell(m, "seed", "seed") == 2
    assert _cell(m, "seed", "reset") == 1
    assert _cell(m, "seed", "accelerate") == 1
    assert _cell(m, "reset", "reset") == 1
    assert _cell(m, "reset", "churn") == 1
    assert _cell(m, "accelerate", "accelerate") == 1
    assert m.total == 7
    assert m.probability("seed", "seed") == 0.5
    assert m.probability("reset", "churn") == 0.5
    # unobserved stages stay put; churn is absorbing
    assert m.probability("ascend", "ascend") == 1.0
    assert m.probability("churn", "churn") == 1.0
    assert m.start == datetime(2025, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert m.end is not None and m.end.month == 5
    assert all(abs(sum(row) - 1) < 1e-12 for row in m.probabilities)


def test_churn_is_absorbing_even_after_win_back() -> None:
    a = replay("a", ("sign", at(1)), ("lose", at(2)), ("win_back", at(4)), ("sign", at(5)))
    m = Portfolio([a]).transition_matrix()
    assert m.total == 1
    assert _cell(m, "seed", "churn") == 1
    assert _cell(m, "churn", "prospect") == 0


def test_transition_matrix_reads_periods_in_utc() -> None:
    minus5 = timezone(timedelta(hours=-5))
    # 31 Jan 22:00 at UTC-5 is 1 Feb 03:00 UTC, so the escalation belongs to February
    a = replay("a", ("sign", at(1)), ("escalate", datetime(2025, 1, 31, 22, tzinfo=minus5)))
    a_utc = replay("b", ("sign", at(1)), ("escalate", datetime(2025, 2, 1, 3, tzinfo=UTC)))
    m1 = Portfolio([a]).transition_matrix()
    m2 = Portfolio([a_utc]).transition_matrix()
    assert m1.counts == m2.counts
    assert _cell(m1, "seed", "tact") == 1


def test_transition_matrix_quarterly_and_window() -> None:
    a = replay("a", ("sign", at(1)), ("escalate", at(5)), ("stabilize", at(11)))
    q = Portfolio([a]).transition_matrix("quarterly")
    # Q1 seed -> Q2 tact -> Q3 tact -> Q4 reset
    assert (_cell(q, "seed", "tact"), _cell(q, "tact", "tact"), _cell(q, "tact", "reset")) == (
        1,
        1,
        1,
    )
    assert q.freq == "quarterly"
    w = Portfolio([a]).transition_matrix(start=at(4), end=at(6))
    # April end: seed; May end: tact; June end: tact
    assert w.total == 2
    assert (_cell(w, "seed", "tact"), _cell(w, "tact", "tact")) == (1, 1)
    with pytest.raises(InvalidValue):
        Portfolio([a]).transition_matrix("weekly")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        Portfolio([a]).transition_matrix(start=datetime(2025, 1, 1))


@pytest.mark.parametrize("quarterly", [False, True])
def test_transition_matrix_refuses_start_after_end(quarterly: bool) -> None:
    # A reversed window used to give an all-zero matrix, which reads as "nothing moved".
    a = replay("a", ("sign", at(1)), ("escalate", at(5)), ("stabilize", at(11)))
    book = Portfolio([a])
    freq = "quarterly" if quarterly else "monthly"
    with pytest.raises(InvalidValue) as err:
        book.transition_matrix(freq, start=at(6), end=at(4))
    assert err.value.field == "start"
    assert err.value.value == at(6)
    # Same period, start a few days later: still a reversed window.
    with pytest.raises(InvalidValue):
        book.transition_matrix(freq, start=at(6, 20), end=at(6, 10))
    assert book.transition_matrix(freq, start=at(4), end=at(4)).total == 0


def test_empty_portfolio_matrix_is_identity() -> None:
    m = Portfolio([Account("a")]).transition_matrix()
    assert m.total == 0 and m.start is None and m.end is None
    assert all(m.probabilities[i][i] == 1.0 for i in range(len(m.stages)))


def test_transition_matrix_value_checks() -> None:
    with pytest.raises(InvalidValue):
        TransitionMatrix(("a", "b"), ((1,),), ((1.0,),))
    with pytest.raises(InvalidValue):
        TransitionMatrix(("a",), ((1,),), ((0.5,),))
    with pytest.raises(InvalidValue):
        TransitionMatrix(("a",), ((-1,),), ((1.0,),))
    with pytest.raises(InvalidValue):
        TransitionMatrix(("a", "a"), ((1, 0), (0, 1)), ((1.0, 0.0), (0.0, 1.0)))
    with pytest.raises(InvalidValue):
        TransitionMatrix(("a",), ((1,),), ((1.0,),), freq="daily")
    with pytest.raises(InvalidValue):
        TransitionMatrix(("a",), ((1,),), ((1.0,),), start=datetime(2025, 1, 1))


def test_forecast() -> None:
    m = TransitionMatrix(
        ("a", "b", "c"),
        ((8, 2, 0), (0, 5, 5), (0, 0, 0)),
        ((0.8, 0.2, 0.0), (0.0, 0.5, 0.5), (0.0, 0.0, 1.0)),
    )
    assert m.forecast({"a": 100}, months=0) == {"a": 100.0, "b": 0.0, "c": 0.0}
    one = m.forecast({"a": 100})
    assert one == pytest.approx({"a": 80.0, "b": 20.0, "c": 0.0})
    two = m.forecast({"a": 100}, months=2)
    # a: 64; b: 80*0.2 + 20*0.5 = 26; c: 20*0.5 = 10
    assert two == pytest.approx({"a": 64.0, "b": 26.0, "c": 10.0})
    assert sum(m.forecast({"a": 3, "b": 1}, months=7).values()) == pytest.approx(4)
    with pytest.raises(UnknownName):
        m.forecast({"zzz": 1})
    with pytest.raises(InvalidValue):
        m.forecast({"a": -1})
    with pytest.raises(InvalidValue):
        m.forecast({"a": 1}, months=-1)
    with pytest.raises(InvalidValue):
        m.forecast([("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(UnknownName):
        m.probability("a", "zzz")


def test_matrix_html() -> None:
    a = replay("a", ("sign", at(1)), ("escalate", at(3)))
    html = Portfolio([a]).transition_matrix()._repr_html_()
    assert "<table>" in html and "tact" in html and "2025-01-31" in html
    assert "monthly transition probabilities (2 account-periods" in html
    assert "<table>" in TransitionMatrix(("a",), ((0,),), ((1.0,),))._repr_html_()


def test_backtest_forecast() -> None:
    a = replay("a", ("sign", at(1)), ("escalate", at(4)))
    b = replay("b", ("sign", at(1)), ("escalate", at(2)))
    c = replay("c", ("sign", at(3)))  # signs after as_of: not followed
    p = Portfolio([a, b, c])
    bt = p.backtest_forecast(at(2), 2)
    assert isinstance(bt, ForecastBacktest)
    assert bt.accounts == 2
    assert bt.start["seed"] == 0.5 and bt.start["tact"] == 0.5
    assert bt.actual["tact"] == 1.0
    # fitted up to February: seed->tact once (b), seed->seed once (a); tact row unobserved
    assert bt.forecast["seed"] == pytest.approx(0.5 * 0.25)
    assert bt.forecast["tact"] == pytest.approx(1 - 0.125)
    assert bt.error["tact"] == pytest.approx(0.125)
    assert bt.mean_absolute_error == pytest.approx(0.25 / 7)
    assert bt.as_of.month == 2 and bt.months == 2
    with pytest.raises(InvalidValue) as err:
        p.backtest_forecast(at(2), 3)
    assert err.value.field == "months"
    with pytest.raises(InvalidValue):
        p.backtest_forecast(at(12, 1, 2024), 1)
    with pytest.raises(InvalidValue):
        p.backtest_forecast(at(2), 0)


# --------------------------------------------------------------------------- episodes
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def d(days: float) -> datetime:
    return T0 + timedelta(days=days)


def test_episode_stats_overall() -> None:
    # a: two crises, recovered after 10 and 40 days; the second is a relapse (20 days later)
    a = replay(
        "a",
        ("sign", d(0)),
        ("escalate", d(10)),
        ("restart", d(20)),
        ("escalate", d(40)),
        ("restart", d(80)),
    )
    # b: a crisis recovered after 20 days, then one recovered after 30 days much later
    b = replay(
        "b",
        ("sign", d(0)),
        ("accelerate", d(5)),
        ("stagnate", d(100)),
        ("realign", d(120), "accelerate"),
        ("stagnate", d(300)),
        ("realign", d(330), "accelerate"),
    )
    # c: lost in its crisis at day 73.05 (0.2 years)
    c = replay("c", ("sign", d(0)), ("escalate", d(50)), ("lose", d(73.05)))
    # e: still in crisis
    e = replay("e", ("sign", d(0)), ("escalate", d(300)))
    p = Portfolio([a, b, c, e, Account("prospect")])
    (s,) = p.episode_stats(as_of=d(365.25))
    assert isinstance(s, EpisodeStats)
    assert s.group == "all" and s.accounts == 5
    assert s.account_years == pytest.approx(3.2)
    assert (s.episodes, s.recovered, s.lost, s.ongoing, s.relapses) == (6, 4, 1, 1, 1)
    assert s.per_account_year == pytest.approx(6 / 3.2)
    assert s.recovery_rate == pytest.approx(0.8)
    assert s.relapse_rate == pytest.approx(0.25)
    # recovered durations 10, 20, 30, 40
    assert s.median_days_to_recover == pytest.approx(25)
    assert s.p75_days_to_recover == pytest.approx(32.5)
    assert s.p90_days_to_recover == pytest.approx(37)
    (tight,) = p.episode_stats(as_of=d(365.25), relapse_window=timedelta(days=10))
    assert tight.relapses == 0


def test_episode_stats_groups() -> None:
    a = replay("a", ("sign", d(0)), ("escalate", d(10)), owner="dana", tags=["segment:smb", "emea"])
    b = replay(
        "b",
        ("sign", d(0)),
        ("escalate", d(10)),
        ("restart", d(30)),
        owner="lee",
        tags=["segment:ent"],
    )
    c = replay("c", ("sign", d(0)), owner="dana")
    p = Portfolio([a, b, c])
    by_owner = {s.group: s for s in p.episode_stats(by="owner", as_of=d(100))}
    assert set(by_owner) == {"dana", "lee"}
    assert (by_owner["dana"].accounts, by_owner["dana"].episodes, by_owner["dana"].ongoing) == (
        2,
        1,
        1,
    )
    assert by_owner["dana"].recovery_rate is None
    assert by_owner["lee"].median_days_to_recover == pytest.approx(20)
    by_segment = [s.group for s in p.episode_stats(by="segment", as_of=d(100))]
    assert by_segment == ["(none)", "ent", "smb"]
    (empty,) = Portfolio().episode_stats()
    assert (empty.group, empty.accounts, empty.episodes) == ("all", 0, 0)
    no_owner = Portfolio([Account("x")]).episode_stats(by="owner")
    assert no_owner[0].group == "(none)" and no_owner[0].per_account_year is None
    for bad in ("", "seg:ment", 3):
        with pytest.raises(InvalidValue):
            p.episode_stats(by=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        p.episode_stats(relapse_window=-timedelta(days=1))
    with pytest.raises(InvalidValue):
        p.episode_stats(as_of=datetime(2025, 1, 1))


def test_portfolio_episodes_match_cycles() -> None:
    a = replay("a", ("sign", d(0)), ("escalate", d(10)), ("restart", d(20)))
    b = replay("b", ("sign", d(0)), ("escalate", d(10)), ("lose", d(20)))
    eps = Portfolio([a, b]).episodes()
    assert [(e.account_id, e.outcome.value) for e in eps] == [("a", "recovered"), ("b", "lost")]


def test_recovery_curve_kaplan_meier() -> None:
    def path(name: str, *tail: tuple[str, datetime]) -> Account:
        return replay(name, ("sign", d(0)), ("escalate", d(0)), *tail)

    p = Portfolio(
        [
            path("a", ("restart", d(10))),
            path("b"),  # ongoing: censored at as_of (day 20)
            path("c", ("restart", d(30))),
            path("e", ("lose", d(5))),  # lost: censored at day 5
        ]
    )
    curve = p.recovery_curve(as_of=d(20))
    assert isinstance(curve, RecoveryCurve)
    # at day 10 three episodes are at risk (e left at 5): 1 - 1/3; at day 30 only c is left
    assert curve.days == (0.0, 10.0, 30.0)
    assert curve.share == pytest.approx((1.0, 2 / 3, 0.0))
    assert curve.episodes == 4
    assert curve.share_at(9.9) == 1.0 and curve.share_at(10) == pytest.approx(2 / 3)
    assert curve.median_days == 30.0
    assert RecoveryCurve((0.0,), (1.0,), 1).median_days is None
    same_day = Portfolio([path("z", ("restart", d(0)))]).recovery_curve()
    assert same_day.days == (0.0,) and same_day.share == (0.0,)


# --------------------------------------------------------------------------- cohorts
def test_cohorts() -> None:
    a = replay("a", ("sign", at(1, 31)), ("escalate", at(3, 15)))
    b = replay("b", ("sign", at(2)))
    c = replay("c", ("sign", at(4)))
    d_ = Account("d", stage="ascend", since=at(5, 1))
    p = Portfolio([a, b, c, d_, Account("prospect")])
    q1, q2 = p.cohorts(months=2, as_of=at(6, 5))
    assert isinstance(q1, Cohort)
    assert (q1.label, q1.accounts, q1.observed) == ("2025-Q1", 2, (2, 2, 2))
    # month 1 after 31 Jan is 28 Feb (still seed); month 2 is 31 Mar (tact)
    assert q1.shares[1]["seed"] == 1.0
    assert q1.shares[2]["tact"] == 0.5 and q1.shares[2]["seed"] == 0.5
    # Q2: c signed 10 Apr (observed at 0, 1 (10 May); 10 Jun is after as_of); d since 1 May
    assert (q2.label, q2.accounts, q2.observed) == ("2025-Q2", 2, (2, 2))
    assert q2.shares[0] == {**dict.fromkeys(q2.shares[0], 0.0), "seed": 0.5, "ascend": 0.5}
    assert Portfolio([a]).cohorts(months=0)[0].observed == (1,)
    with pytest.raises(InvalidValue):
        p.cohorts(months=-1)
    assert Portfolio([Account("x")]).cohorts() == ()


# --------------------------------------------------------------------------- notebook
def test_portfolio_html() -> None:
    many = [Account(f"t{i}", stage="tact", snapshots=[snap(float(i))]) for i in range(12)]
    html = Portfolio([*many, Account("calm", stage="seed", snapshots=[snap(90)])])._repr_html_()
    assert "13 accounts" in html and "at risk: 12 (worst 10 shown)" in html
    assert "t0" in html and "t11" not in html
    small = Portfolio([Account("x", stage="reset")])._repr_html_()
    assert "at risk: 1" in small
    assert "at risk" not in Portfolio([Account("y")])._repr_html_()


def test_value_objects_are_frozen() -> None:
    d_ = StageDistribution({"a": 1}, {"a": 1.0}, 1)
    with pytest.raises(AttributeError):
        d_.total = 2  # type: ignore[misc]
