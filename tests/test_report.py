"""The portfolio report: each section from hand-built accounts, the ranking, the renderers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stars.account import Account, Snapshot
from stars.depth import record_depth
from stars.errors import InvalidValue, UnknownName
from stars.lifecycle import STARS, Lifecycle
from stars.portfolio import Portfolio
from stars.report import FORMATS, KEY_ACCOUNT_TAG, Report, build_report, render

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def month(n: int) -> datetime:
    return T0 + timedelta(days=30 * n)


def customer(
    ident: str,
    healths: list[float],
    *,
    stage_path: tuple[str, ...] = (),
    contact: float | None = 10,
    tags: tuple[str, ...] = (),
    metrics_agreed: bool = True,
) -> Account:
    """A signed account with one snapshot a month and the given forced path after signing."""
    a = Account(ident, name=ident.title(), owner="dana", tags=frozenset(tags))
    STARS.fire(a, "sign", at=T0, force=True, reason="test set-up")
    for i, trig in enumerate(stage_path):
        STARS.fire(a, trig, at=T0 + timedelta(hours=i + 1), force=True, reason="test set-up")
    for i, h in enumerate(healths):
        STARS.observe(
            a,
            Snapshot(
                at=month(i + 1),
                health=h,
                days_since_contact=contact,
                contract_signed=True,
                success_metrics_agreed=metrics_agreed,
            ),
        )
    return a


def test_empty_report() -> None:
    r = build_report([])
    assert (r.accounts, r.customers, r.as_of) == (0, 0, None)
    assert [s.accounts for s in r.stages] == [0] * 7
    assert r.episodes.opened == 0 and r.episodes.recovery_rate is None
    assert r.key_accounts.count == 0 and r.key_accounts.within
    assert "Nothing urgent" in r.to_text()
    assert "no data" in r.to_markdown()


def test_stage_distribution_and_bands_count_the_right_accounts() -> None:
    book = [
        customer("green", [80, 82, 85], stage_path=("accelerate",)),
        customer("amber", [60], stage_path=("accelerate", "stagnate")),
        customer("red", [20], stage_path=("escalate",)),
        Account("prospect"),
        Account("gone", stage="churn"),
    ]
    r = build_report(book)
    counts = {s.stage: s.accounts for s in r.stages}
    assert counts == {
        "prospect": 1,
        "seed": 0,
        "accelerate": 1,
        "ascend": 0,
        "reset": 1,
        "tact": 1,
        "churn": 1,
    }
    assert r.customers == 3  # prospects and churned accounts are not active customers
    bands = {b.band: b.accounts for b in r.bands}
    assert bands == {"red": 1, "yellow": 1, "green": 1, "unknown": 0}
    assert sum(b.share for b in r.bands) == pytest.approx(1.0)
    assert r.as_of == month(3)


def test_disagreement_names_the_evidence_and_the_trigger() -> None:
    # an ASCEND account gone yellow: the evidence says RESET, reached by 'stagnate'
    drifting = customer("drift", [80, 58], stage_path=("accelerate",))
    calm = customer("calm", [80, 81], stage_path=("accelerate",))
    r = build_report([drifting, calm])
    (m,) = r.disagreements
    assert (m.account_id, m.stage, m.evidence_stage) == ("drift", "accelerate", "reset")
    assert m.triggers == m.ready == ("stagnate",)
    assert "health is yellow" in m.reasons


def test_open_crisis_gets_a_drafted_plan_and_closed_ones_do_not() -> None:
    from stars.recovery import detect, plan_for

    burning = customer("burning", [75, 30], stage_path=("accelerate", "escalate"), contact=40)
    healed = customer("healed", [80], stage_path=("accelerate", "stagnate", "realign"))
    r = build_report([burning, healed], as_of=month(5))
    (c,) = r.crises
    assert (c.account_id, c.stage, c.left) == ("burning", "tact", "accelerate")
    assert c.days_open == (month(5) - c.opened_at).days  # type: ignore[operator]
    # the draft is the recovery module's plan for what detection finds
    expected = plan_for(detect(burning, at=month(5)), burning, month(5))
    assert expected.template is not None
    assert c.plan_source == f"recovery plan, {expected.template.value.replace('_', ' ')}"
    assert c.plan[1:] == tuple(x.objective for x in expected.actions)
    assert c.plan[0].startswith("Root cause to confirm: ")
    assert (r.episodes.opened, r.episodes.recovered, r.episodes.ongoing) == (2, 1, 1)
    assert r.episodes.recovery_rate == 1.0


def test_crisis_without_attributed_risk_gets_the_playbook() -> None:
    # only health is known: detection cannot name a risk source, so the stage playbook
    # is the draft, led by the signal that costs the most points
    a = customer("vague", [], stage_path=("escalate",))
    STARS.observe(a, Snapshot(at=month(1), health=30, open_tickets=5, contract_signed=True))
    (c,) = build_report([a]).crises
    assert c.plan_source == "stage playbook"
    assert c.plan[0].startswith("Find the root cause behind open tickets")
    assert c.plan[1:] == STARS.profile("tact").key_actions[:3]  # type: ignore[union-attr]


def test_crisis_without_signals_gets_only_the_playbook() -> None:
    a = Account("quiet", owner="dana")
    for i, trig in enumerate(("sign", "escalate")):
        STARS.fire(a, trig, at=T0 + timedelta(hours=i), force=True, reason="set-up")
    STARS.observe(a, Snapshot(at=month(1)))
    (c,) = build_report([a]).crises
    assert c.plan == STARS.profile("tact").key_actions[:3]  # type: ignore[union-attr]
    assert c.health is None


def test_depth_gaps_from_latest_points_of_both_sides() -> None:
    a = customer("deep", [80])
    record_depth(a, "collaborative", month(1), side="vendor")
    record_depth(a, "basic", month(1), side="customer")
    b = customer("same", [80])
    record_depth(b, "basic", month(1), side="vendor")
    record_depth(b, "collaborative", month(1), side="customer")
    record_depth(b, "basic", month(2), side="customer")  # the latest point counts
    c = customer("odd", [80])
    record_depth(c, "basic", month(1), side="vendor")
    r = build_report([a, b, c])
    assert [(g.account_id, g.vendor, g.customer, g.gap) for g in r.depth_gaps] == [
        ("deep", "collaborative", "basic", 1)
    ]


def test_key_accounts_against_capacity() -> None:
    keys = [customer(f"k{i}", [80], tags=(KEY_ACCOUNT_TAG,)) for i in range(7)]
    record_depth(keys[0], "interconnected", month(1), side="vendor")
    record_depth(keys[0], "interconnected", month(1), side="customer")
    gone = Account("k-gone", stage="churn", tags=frozenset({KEY_ACCOUNT_TAG}))
    r = build_report([*keys, gone], company_maturity="young")
    k = r.key_accounts
    assert (k.count, k.capacity, k.within, k.maturity) == (7, 5, False, "young")
    assert "2 over the capacity of 5" in k.message
    assert k.below_interconnected == tuple(f"k{i}" for i in range(1, 7))
    assert build_report(keys, key_account_capacity=10).key_accounts.within


def test_actions_rank_red_then_disagreement_then_stale_contact() -> None:
    book = [
        customer("quiet", [80], stage_path=("accelerate",), contact=45),
        customer("quieter", [80], stage_path=("accelerate",), contact=90),
        customer("drift", [80, 58], stage_path=("accelerate",)),
        customer("red-reset", [35], stage_path=("accelerate", "stagnate")),
        customer("red-tact", [20], stage_path=("escalate",), contact=99),
        customer("fine", [80], stage_path=("accelerate",), contact=5),
    ]
    r = build_report(book)
    assert [(a.rank, a.account_id, a.kind) for a in r.actions] == [
        (1, "red-tact", "red"),
        (2, "red-reset", "red"),
        (3, "drift", "disagreement"),
        (4, "quieter", "stale contact"),
        (5, "quiet", "stale contact"),
    ]
    first = STARS.profile("tact").key_actions[0]  # type: ignore[union-attr]
    assert r.actions[0].detail.endswith(first)
    assert "fire stagnate" in r.actions[2].detail
    assert "90 days" in r.actions[3].detail
    assert [a.account_id for a in build_report(book, top=2).actions] == ["red-tact", "red-reset"]
    assert [a.kind for a in build_report(book, stale_after_days=60).actions][-1] == "stale contact"
    assert len(build_report(book, stale_after_days=60).actions) == 4


def test_a_shorter_action_list_is_the_start_of_the_longer_one() -> None:
    # the list stops looking at candidates once it has ``top`` of them: each shorter
    # list must be the start of the full one, whichever category it stops in
    book = [
        customer("quiet", [80], stage_path=("accelerate",), contact=45),
        customer("quieter", [80], stage_path=("accelerate",), contact=90),
        customer("drift", [80, 58], stage_path=("accelerate",)),
        customer("drift-2", [80, 59], stage_path=("accelerate",), contact=70),
        customer("red-reset", [35], stage_path=("accelerate", "stagnate")),
        customer("red-tact", [20], stage_path=("escalate",), contact=99),
        customer("red-2", [30], stage_path=("escalate",)),
        customer("fine", [80], stage_path=("accelerate",), contact=5),
    ]
    full = build_report(book, top=100).actions
    kinds = [a.kind for a in full]
    assert kinds == ["red"] * 3 + ["disagreement"] * 2 + ["stale contact"] * 2
    for top in range(len(full) + 2):
        assert build_report(book, top=top).actions == full[:top]


def test_red_account_outside_a_crisis_stage_is_told_to_escalate() -> None:
    a = customer("sudden", [80, 25], stage_path=("accelerate",))
    (act,) = [x for x in build_report([a]).actions if x.kind == "red"]
    assert "turnaround" in act.detail


def test_red_action_without_a_health_score_says_so() -> None:
    # A snapshot can carry a band with no score; the action used to read
    # "health and red in accelerate: ...".
    at = month(1)
    unscored = Account(
        "unscored",
        stage="accelerate",
        snapshots=[Snapshot(at=at, band="red", days_since_contact=5)],
    )
    scored = Account(
        "scored", stage="accelerate", snapshots=[Snapshot(at=at, health=25, days_since_contact=5)]
    )
    details = {x.account_id: x.detail for x in build_report([unscored, scored]).actions}
    assert details["unscored"].startswith("red in accelerate (no health score): ")
    assert "health and" not in details["unscored"]
    assert details["scored"].startswith("health 25 and red in accelerate: ")


def test_as_of_limits_what_diagnosis_reads() -> None:
    a = customer("drift", [80, 58], stage_path=("accelerate",))
    assert build_report([a], as_of=month(1)).disagreements == ()
    assert build_report([a]).disagreements != ()


def test_portfolio_input_uses_its_lifecycle() -> None:
    book = Portfolio([customer("a", [80]), Account("b")])
    r = build_report(book)
    assert r.accounts == 2


def test_lifecycle_without_diagnoser_is_noted_not_fatal() -> None:
    from stars.lifecycle import StageDef, TransitionDef

    lc = Lifecycle(
        [StageDef("trial", "before"), StageDef("paid", "growth"), StageDef("gone", "lost")],
        [
            TransitionDef("buy", "trial", "paid", "growth"),
            TransitionDef("leave", "paid", "gone", "crisis"),
            TransitionDef("return", "gone", "trial", "recovery"),
        ],
        initial="trial",
        name="plain",
    )
    a = lc.new_account("a", tags={KEY_ACCOUNT_TAG})
    lc.fire(a, "buy", at=T0)
    lc.observe(a, Snapshot(at=month(1), health=30, days_since_contact=50))
    r = build_report([a], lc)
    assert r.disagreements == ()
    assert r.notes == ("lifecycle 'plain' has no diagnoser, so no stage was checked",)
    assert "Note: lifecycle 'plain'" in r.to_text()
    assert [s.stage for s in r.stages] == ["trial", "paid", "gone"]
    (act,) = r.actions
    assert act.kind == "red" and "turnaround" in act.detail


def test_unknown_depth_names_are_ignored() -> None:
    from stars.account import DepthPoint

    a = customer("odd", [80])
    b = Account(
        "b",
        stage=a.stage,
        snapshots=a.snapshots,
        history=a.history,
        depths=[DepthPoint(month(1), "murky", "vendor"), DepthPoint(month(1), "basic", "customer")],
        tags=frozenset({KEY_ACCOUNT_TAG}),
    )
    r = build_report([b])
    assert r.depth_gaps == ()
    assert r.key_accounts.below_interconnected == ("b",)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"as_of": datetime(2025, 1, 1)}, InvalidValue),
        ({"top": -1}, InvalidValue),
        ({"stale_after_days": -3}, InvalidValue),
        ({"title": ""}, InvalidValue),
        ({"company_maturity": "ancient"}, UnknownName),
        ({"lifecycle": "STARS"}, InvalidValue),
    ],
)
def test_bad_options(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        build_report([], **kwargs)  # type: ignore[arg-type]


def test_bad_accounts() -> None:
    with pytest.raises(InvalidValue):
        build_report(["acme"])  # type: ignore[list-item]
    with pytest.raises(InvalidValue):
        build_report([Account("a"), Account("a")])


@pytest.fixture(scope="module")
def demo_report() -> Report:
    from stars.demo import generate

    return build_report(generate(n_accounts=120, months=24, seed=5))


def test_json_is_stable_and_complete(demo_report: Report) -> None:
    text = render(demo_report, "json")
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert set(data) == {
        "accounts",
        "actions",
        "as_of",
        "bands",
        "crises",
        "customers",
        "depth_assessed",
        "depth_gaps",
        "disagreements",
        "episodes",
        "key_accounts",
        "notes",
        "stages",
        "title",
    }
    assert data["accounts"] == 120
    assert datetime.fromisoformat(data["as_of"]) == demo_report.as_of
    assert len(data["crises"]) == len(demo_report.crises)
    assert text == render(demo_report, "json")


def test_text_and_markdown_show_every_section(demo_report: Report) -> None:
    for body in (render(demo_report, "text"), render(demo_report, "markdown")):
        for part in (
            "This week's actions",
            "Stages",
            "Health bands",
            "Stage and evidence disagree",
            "Open crisis episodes",
            "Draft plan for",
            "Depth gaps",
            "Key-account capacity",
        ):
            assert part in body
    md = render(demo_report, "markdown")
    assert md.startswith("# ") and "\n## Stages\n" in md and "| stage | accounts | share |" in md


def test_long_lists_are_cut_in_text_but_not_in_json() -> None:
    book = [customer(f"r{i:02d}", [20], stage_path=("escalate",)) for i in range(20)]
    r = build_report(book, top=50)
    text = r.to_text()
    assert "... and 5 more open episodes" in text
    assert len(r.to_dict()["crises"]) == 20
    assert len(r.actions) == 20


def test_markdown_escapes_pipes() -> None:
    a = customer("pipe", [20], stage_path=("escalate",))
    r = build_report([a], title="A | B")
    assert "A | B" in r.to_markdown().splitlines()[0]
    assert "<h1>A | B</h1>" in r._repr_html_()


def test_render_refuses_unknown_format_and_non_reports() -> None:
    assert FORMATS == ("text", "json", "markdown")
    with pytest.raises(InvalidValue, match="fmt"):
        render(build_report([]), "yaml")
    with pytest.raises(InvalidValue, match="report"):
        render("report", "text")  # type: ignore[arg-type]


def test_disagreement_whose_trigger_is_refused_says_so() -> None:
    # green, metrics not agreed: the evidence says SEED, and only 'reseed' leads there,
    # which needs a new business unit onboarding: refused, so it is not 'ready'
    a = customer("unsure", [80], stage_path=("accelerate",), metrics_agreed=False)
    r = build_report([a])
    (m,) = r.disagreements
    assert (m.evidence_stage, m.triggers, m.ready) == ("seed", ("reseed",), ())
    (act,) = r.actions
    assert "guards refuse it now" in act.detail


def test_account_imported_in_a_crisis_stage_is_listed_without_dates() -> None:
    a = Account("imported", stage="tact", owner="lee")
    b = customer("tracked", [30], stage_path=("escalate",))
    r = build_report([a, b], as_of=month(2))
    assert [(c.account_id, c.opened_at is None, c.days_open, c.left) for c in r.crises] == [
        ("tracked", False, (month(2) - (T0 + timedelta(hours=1))).days, "seed"),  # escalated 1 h in
        ("imported", True, None, None),
    ]
    assert "imported" in r.to_text()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), back=st.integers(0, 400))
def test_the_reports_disagreements_are_what_diagnose_and_check_say(seed: int, back: int) -> None:
    # build_report reads each account's disagreement through one internal call that
    # reads the known snapshot once; it must say what the public calls say, at any time
    from stars.demo import generate

    accounts = generate(n_accounts=12, months=14, seed=seed)
    latest = max(a.latest.at for a in accounts if a.latest is not None)
    at = latest - timedelta(days=back)
    for a in accounts:
        d = STARS.diagnose(a, at=at)
        expected = None
        if not d.agrees and d.stage is not None:
            ready = tuple(
                t
                for t in d.triggers
                if STARS.check(a, t, at=at, to=d.stage, reason="(checking)").allowed
            )
            expected = (d.stage, d.reasons, d.triggers, ready)
        assert STARS._disagreement(a, at) == expected
