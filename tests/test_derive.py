"""Stages from history: lifecycle events derived from dated facts (stars.derive)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import attrs
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from stars import STARS, Band, Policy, Snapshot, StageDef, TransitionDef
from stars.derive import (
    RULES,
    DeriveRule,
    Fact,
    derive_account,
    derive_events,
    derive_frame,
    derive_portfolio,
)
from stars.errors import InvalidDefinition, InvalidSignal, InvalidValue
from stars.lifecycle import Lifecycle
from stars.portfolio import Portfolio


def month(m: int, year: int = 2024) -> datetime:
    return datetime(year + (m - 1) // 12, (m - 1) % 12 + 1, 1, tzinfo=UTC)


def stream(healths: list[float | None]) -> list[Fact]:
    """Monthly facts from January 2024: a contract starts and metrics are agreed on the first."""
    facts = [Fact(month(1), health=healths[0], contract="start", success_metrics_agreed=True)]
    facts += [Fact(month(m), health=h) for m, h in enumerate(healths[1:], start=2)]
    return facts


def moves(facts: list[Fact], rule: DeriveRule | None = None) -> list[tuple[str, int]]:
    return [(d.event.trigger, d.event.at.month) for d in derive_events("a", facts, rule=rule)]


def frame(accounts: dict[str, list[Fact]]) -> pl.DataFrame:
    rows = [(aid, f) for aid, facts in accounts.items() for f in facts]
    data: dict[str, list[object]] = {
        "account_id": [aid for aid, _ in rows],
        "at": [f.at for _, f in rows],
        "health": [f.health for _, f in rows],
        "contract": [f.contract for _, f in rows],
    }
    for name in ("success_metrics_agreed", "critical_risk", "expansion_open"):
        data[name] = [getattr(f, name) for _, f in rows]
    return pl.DataFrame(data, schema_overrides={"health": pl.Float64, "contract": pl.String})


# --------------------------------------------------------------------------- hysteresis and dwell
NOISY = [80, 82, 84, 86, 55, 85, 88, 50, 52, 48, 75, 30]  # May is one noisy month


def test_one_noisy_month_moves_nothing_but_two_in_a_row_do() -> None:
    assert moves(stream(NOISY)) == [("sign", 1), ("accelerate", 3), ("stagnate", 9)]


def test_without_hysteresis_or_dwell_a_noisy_stream_flaps() -> None:
    eager = DeriveRule(confirm=1, min_dwell_days=0)
    assert moves(stream(NOISY), eager) == [
        ("sign", 1),
        ("accelerate", 2),
        ("stagnate", 5),  # the one noisy month
        ("escalate", 12),
    ]
    # red and yellow by turns after a crisis starts
    noisy = [80, 80, 80, 30, 30, 50, 30, 50, 30, 50, 30, 50]
    assert moves(stream(noisy)) == [("sign", 1), ("accelerate", 3), ("escalate", 5)]
    flapping = [t for t, _ in moves(stream(noisy), eager)]
    assert flapping == [
        "sign",
        "accelerate",
        "escalate",
        *["stabilize", "escalate"] * 3,
        "stabilize",
    ]


def test_the_evidence_waits_for_the_minimum_dwell() -> None:
    red = [80, 20, 20, 20, 20, 20]
    assert moves(stream(red)) == [("sign", 1), ("escalate", 3)]  # 60 days after signing
    slow = DeriveRule(confirm=2, min_dwell_days=100)
    assert moves(stream(red), slow) == [("sign", 1), ("escalate", 5)]  # April 10 is day 100


def test_confirmation_counts_readings_that_point_to_the_same_move() -> None:
    # red, yellow, red: escalate, nothing, escalate -- never two in a row
    assert moves(stream([80, 80, 80, 20, 55, 20, 55, 20])) == [("sign", 1), ("accelerate", 3)]
    d = derive_events("a", stream([80, 80, 80, 20, 20, 20]))[-1]
    assert (d.event.trigger, d.readings, d.rule) == ("escalate", 2, "evidence")
    assert d.event.reason == "health is red; seen in 2 readings in a row"


def test_a_reading_without_health_starts_the_count_again() -> None:
    assert moves(stream([80, 80, 80, 20, None, 20, 20])) == [
        ("sign", 1),
        ("accelerate", 3),
        ("escalate", 7),
    ]


# --------------------------------------------------------------------------- the STARS path
def test_a_long_green_run_sustains_and_a_crisis_realigns() -> None:
    healths = [80] * 8 + [50, 50] + [85] * 6
    account = derive_account("acme", stream(healths))
    assert [(r.trigger, r.dest) for r in account.history] == [
        ("sign", "seed"),
        ("accelerate", "accelerate"),
        ("sustain", "ascend"),
        ("stagnate", "reset"),
        ("realign", "ascend"),
    ]
    sustain = account.history[2]
    assert sustain.at == month(8)  # a customer for 180 days from July, confirmed in August
    (episode,) = Portfolio([account]).episodes()
    assert (episode.left, episode.returned_to, episode.outcome.value) == (
        "ascend",
        "ascend",
        "recovered",
    )


def test_tact_stabilizes_to_reset_before_it_can_realign() -> None:
    healths = [80, 80, 80, 20, 20, 20, 85, 85, 85, 85, 85, 85]
    history = derive_account("a", stream(healths)).history
    assert [(r.trigger, r.dest, r.at.month) for r in history] == [
        ("sign", "seed", 1),
        ("accelerate", "accelerate", 3),
        ("escalate", "tact", 5),
        ("stabilize", "reset", 8),
        ("realign", "ascend", 10),  # green for three readings, confirmed by a fourth
    ]


def test_an_expansion_opportunity_takes_ascend_back_to_accelerate() -> None:
    facts = stream([80] * 9)
    facts.append(Fact(month(10), health=85, expansion_open=True))
    facts.append(Fact(month(11), health=86))
    facts.append(Fact(month(12), health=87))
    assert moves(facts)[-2:] == [("sustain", 8), ("expand", 11)]


def test_contract_facts_sign_lose_and_win_back_at_once() -> None:
    facts = [
        Fact(month(1), contract="start", health=80),
        Fact(month(2), health=80),
        Fact(month(3), contract="end"),
        Fact(month(4), health=90),
        Fact(month(5), contract="renewal", health=90),
    ]
    derived = derive_events("a", facts)
    assert [(d.event.trigger, d.event.at.month, d.rule) for d in derived] == [
        ("sign", 1, "contract_signed"),
        ("lose", 3, "contract_ended"),
        ("win_back", 5, "contract_won_back"),
        ("sign", 5, "contract_signed"),
    ]
    assert derived[1].event.reason == "the contract ended"
    assert derived[1].days_in_stage == 60.0  # no dwell for a fact that announces a move
    assert derive_account("a", facts).stage == "seed"


def test_a_renewal_or_a_signed_flag_is_a_contract_in_force() -> None:
    assert moves([Fact(month(1), contract="renewal")]) == [("sign", 1)]
    assert moves([Fact(month(1), contract_signed=True)]) == [("sign", 1)]
    assert moves([Fact(month(1), health=90), Fact(month(2), contract_signed=False)]) == []


def test_reonboarding_restarts_tact_and_a_new_unit_reseeds() -> None:
    facts = stream([80, 80, 80, 20, 20])
    facts.append(Fact(month(6), health=30, reonboarding_agreed=True))
    assert moves(facts)[-2:] == [("escalate", 5), ("restart", 6)]
    grow = stream([80, 80, 80])
    grow.append(Fact(month(4), health=80, new_business_unit=True))
    assert moves(grow)[-1] == ("reseed", 4)


def test_every_event_carries_its_rule_its_evidence_and_words() -> None:
    derived = derive_events("acme", stream(NOISY))
    assert {d.rule for d in derived} <= set(RULES)
    stagnate = derived[-1]
    assert stagnate.account_id == "acme"
    assert stagnate.source == "accelerate" and stagnate.dest == "reset"
    assert stagnate.evidence.band is Band.YELLOW
    assert stagnate.evidence.health == 52
    assert stagnate.evidence.success_metrics_agreed is True
    assert stagnate.days_in_stage == 184.0
    assert stagnate.event.reason == (
        "health is yellow; health is falling; seen in 2 readings in a row"
    )


def test_snapshots_are_facts_too() -> None:
    snaps = [
        Snapshot(at=month(1), health=80, contract_signed=True, success_metrics_agreed=True),
        Snapshot(at=month(2), health=80),
        Snapshot(at=month(3), health=82, nps=40),
    ]
    assert moves(snaps) == [("sign", 1), ("accelerate", 3)]


def test_derived_accounts_keep_one_snapshot_per_fact() -> None:
    facts = stream([80, 81, 82])
    account = derive_account("a", facts, owner="dana", tags=["emea"])
    assert [s.at for s in account.snapshots] == [f.at for f in facts]
    assert account.snapshots[0].contract_signed is True
    assert account.owner == "dana" and account.tags == frozenset({"emea"})
    assert STARS.diagnose(account).stage == "accelerate"


def test_the_policy_of_the_lifecycle_is_read() -> None:
    quick = STARS.evolve(policy=Policy(green_streak=1, min_tenure_days=0))
    healths = [80, 80, 80, 80, 80]
    assert ("sustain", 5) in [
        (d.event.trigger, d.event.at.month)
        for d in derive_events("a", stream(healths), lifecycle=quick)
    ]
    assert "sustain" not in [t for t, _ in moves(stream(healths))]


# --------------------------------------------------------------------------- frames
def test_a_frame_of_monthly_facts_becomes_histories_and_episodes() -> None:
    accounts = {
        "acme": stream([80] * 8 + [50, 50] + [85] * 6),
        "globex": stream([80, 80, 80, 20, 20, 20, 20]),
        "initech": [Fact(month(1), health=90)],  # never signs
    }
    facts = frame(accounts)
    assert "stage" not in facts.columns
    book = derive_portfolio(facts)
    assert list(book) == ["acme", "globex", "initech"]
    for aid, items in accounts.items():
        assert book[aid].history == derive_account(aid, items).history
    assert book["initech"].stage == "prospect"
    assert [(e.account_id, e.outcome.value) for e in book.episodes()] == [
        ("acme", "recovered"),
        ("globex", "ongoing"),
    ]
    assert book.time_in_stage(month(17))["globex"] == 365.0  # in TACT since May 2024
    matrix = book.transition_matrix()
    assert matrix.counts[matrix.stages.index("tact")][matrix.stages.index("tact")] > 0


def test_the_frame_gives_the_same_events_as_one_account_at_a_time() -> None:
    accounts = {"b": stream(NOISY), "a": stream([80, 80, 80, 20, 20, 20])}
    events = derive_frame(frame(accounts))
    want = [
        (d.account_id, d.event.trigger, d.event.to, d.rule, d.event.reason)
        for aid in ("a", "b")
        for d in derive_events(aid, accounts[aid])
    ]
    assert events.select("account_id", "trigger", "to", "rule", "reason").rows() == want
    assert events.columns[:9] == [
        "account_id",
        "at",
        "trigger",
        "source",
        "to",
        "rule",
        "reason",
        "readings",
        "days_in_stage",
    ]


def test_the_frame_and_one_account_agree_on_the_trend_to_the_bit() -> None:
    # Python's sum() rounds float additions its own way from 3.12 on (polars adds in
    # order): the trend adds in order in both forms, so both give the same number
    facts = stream([46.9, 24.7, 54.4, 57.4, 1.3, 21.7])
    slopes = derive_frame(frame({"a": facts}))["slope"].to_list()
    assert slopes == [d.evidence.slope for d in derive_events("a", facts)]
    assert slopes[-1] is not None and slopes[-1] < 0


def test_row_order_does_not_matter() -> None:
    facts = frame({"a": stream(NOISY), "b": stream([80, 80, 80, 20, 20, 20])})
    shuffled = facts.sample(fraction=1.0, shuffle=True, seed=1)
    assert derive_frame(shuffled).equals(derive_frame(facts))


def test_pandas_and_pyarrow_frames_come_back_as_they_came() -> None:
    facts = frame({"a": stream(NOISY)})
    want = derive_frame(facts)
    got_pd = derive_frame(facts.to_pandas())
    assert isinstance(got_pd, pd.DataFrame)
    assert list(got_pd["trigger"]) == want["trigger"].to_list()
    got_pa = derive_frame(facts.to_arrow())
    assert isinstance(got_pa, pa.Table)
    assert got_pa.column("trigger").to_pylist() == want["trigger"].to_list()


def test_a_snapshots_table_of_a_portfolio_is_a_frame_of_facts() -> None:
    account = derive_account("a", stream(NOISY))
    table = Portfolio([account]).to_frame("snapshots")
    again = derive_portfolio(table)
    assert again["a"].history == account.history


def test_an_empty_frame_derives_nothing() -> None:
    empty = pl.DataFrame(schema={"account_id": pl.String, "at": pl.Datetime("us", "UTC")})
    assert derive_frame(empty).shape == (0, 19)
    assert len(derive_portfolio(empty)) == 0


# --------------------------------------------------------------------------- bad input
def test_facts_out_of_order_are_refused_naming_the_fact() -> None:
    with pytest.raises(InvalidValue, match=r"facts\[1\]\.at: .*a time after the previous fact"):
        derive_events("a", [Fact(month(2)), Fact(month(1))])
    with pytest.raises(InvalidValue, match=r"facts\[0\]: got 'x', expected a Fact or a Snapshot"):
        derive_events("a", ["x"])  # type: ignore[list-item]
    with pytest.raises(InvalidValue, match="facts: got 'abc'"):
        derive_events("a", "abc")  # type: ignore[arg-type]


def test_a_fact_that_contradicts_itself_is_refused() -> None:
    with pytest.raises(InvalidValue, match="contract_signed: got True, expected False or None"):
        Fact(month(1), contract="end", contract_signed=True)
    with pytest.raises(InvalidSignal, match="health: got 120"):
        Fact(month(1), health=120)
    with pytest.raises(InvalidSignal, match="band: got 'amber'"):
        Fact(month(1), band="amber")  # type: ignore[arg-type]
    with pytest.raises(InvalidSignal, match="at: got"):
        Fact(datetime(2024, 1, 1))


def test_bad_rules_and_lifecycles_are_refused() -> None:
    with pytest.raises(InvalidValue, match="min_dwell_days: got -1"):
        DeriveRule(min_dwell_days=-1)
    with pytest.raises(InvalidValue, match="rule: got 3"):
        derive_events("a", [], rule=3)  # type: ignore[arg-type]
    with pytest.raises(InvalidDefinition, match="diagnoses with its own rule"):
        derive_events("a", [], lifecycle=STARS.evolve(diagnoser=lambda ev, p: (None, ())))
    tiny = Lifecycle(
        [StageDef("prospect", "before"), StageDef("seed", "growth")],
        [TransitionDef("sign", "prospect", "seed", "growth")],
        initial="prospect",
        diagnoser=STARS._diagnoser,
    )
    with pytest.raises(InvalidDefinition, match="lacks transitions the derive rule takes"):
        derive_frame(frame({}), lifecycle=tiny)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"health": [120.0, 50.0]}, r"facts\.health: got \[120\.0\], expected a number from 0"),
        ({"band": ["amber", None]}, r"facts\.band: got \['amber'\], expected 'red', 'yellow'"),
        ({"contract": ["begin", None]}, r"facts\.contract: got \['begin'\]"),
        ({"account_id": [None, "a"]}, r"facts\.account_id: .*an account id on every row"),
        ({"health": ["80", "x"]}, r"facts\.health: got 'String', expected a numeric column"),
        ({"critical_risk": [1, 0]}, r"facts\.critical_risk: got 'Int64', expected a boolean"),
        (
            {"contract": ["end", None], "contract_signed": [True, None]},
            r"facts\.contract_signed: got \[True\], expected no clash",
        ),
    ],
)
def test_bad_frames_are_refused_naming_the_column_and_rows(
    change: dict[str, list[object]], message: str
) -> None:
    data: dict[str, list[object]] = {"account_id": ["a", "a"], "at": [month(1), month(2)]}
    data.update(change)
    with pytest.raises(InvalidValue, match=message):
        derive_frame(pl.DataFrame(data, strict=False))


def test_frames_without_the_key_columns_or_aware_times_are_refused() -> None:
    with pytest.raises(InvalidValue, match="facts: got \\['at'\\], expected columns"):
        derive_frame(pl.DataFrame({"account_id": ["a"]}))
    naive = pl.DataFrame({"account_id": ["a"], "at": [datetime(2024, 1, 1)]})
    with pytest.raises(InvalidValue, match=r"facts\.at: .*timezone-aware"):
        derive_frame(naive)
    twice = pl.DataFrame({"account_id": ["a", "a"], "at": [month(1), month(1)]})
    with pytest.raises(InvalidValue, match="one row per account and time"):
        derive_frame(twice)
    with pytest.raises(InvalidValue, match="frame: got 'list'"):
        derive_frame([1, 2])


def test_nothing_is_changed_on_the_callers_frame() -> None:
    facts = frame({"a": stream(NOISY)})
    before = facts.clone()
    derive_frame(facts.sample(fraction=1.0, shuffle=True, seed=2))
    assert facts.equals(before)


def test_times_keep_the_instant_whatever_their_zone() -> None:
    tokyo = timezone(timedelta(hours=9))
    east = [attrs.evolve(f, at=f.at.astimezone(tokyo)) for f in stream(NOISY)]
    assert moves(east) == moves(stream(NOISY))
