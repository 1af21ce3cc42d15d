"""The documentation's examples run, and what the pages say about their results holds.

The docs build runs every ```python block of every page (markdown-exec) and shows what it
prints; a block that raises fails the build. The claims the pages make in words ("the
heaviest measure points the wrong way", "exit code 0") are checked here, after the block
that computes them, in the page's own namespace, so the pages show results instead of
asserts. The README is not part of the site, so its blocks run here too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```python([^\n]*)\n(.*?)^```", re.S | re.M)

#: For each page, the checks to run after its block number N (counted from 0).
CHECKS: dict[str, dict[int, list[str]]] = {
    "docs/concepts/depth.md": {
        0: [
            "assert Depth.BASIC < Depth.COLLABORATIVE < Depth.INTERCONNECTED",
            "assert guidance(Depth.INTEGRATED).rare",
        ],
        2: [
            "assert result.depth is Depth.COLLABORATIVE",
        ],
        4: [
            "assert two.agreed is Depth.BASIC",
            "assert two.gap == 1",
        ],
        5: [
            "assert advice is not None",
            'assert advice.sees_more == "vendor" and advice.agreed is Depth.BASIC',
        ],
        6: [
            'assert gap_advice("basic", "interconnected").sees_more == "customer"',
            'assert gap_advice("basic", "basic") is None',
        ],
        7: [
            "assert early.action is DwellAction.STAY",
            "assert late.action is DwellAction.STEP_BACK",
        ],
        8: [
            "assert depth is Depth.COLLABORATIVE and since == entered",
        ],
        9: [
            "assert held_back.depth is Depth.INTERCONNECTED and held_back.integrated_withheld",
            "assert other.version == 1  # the refusal recorded nothing; the opt-in, one point",
            'assert check_integrated_opt_in("interconnected") is Depth.INTERCONNECTED',
        ],
        10: [
            'assert key_account_check(40, "mature", capacity=45).within',
        ],
        11: [
            "assert c.pareto_like",
        ],
    },
    "docs/concepts/engine.md": {
        0: [
            'assert ran == ["crm", "outbox"] and acme.stage == "seed"',
        ],
        1: [
            "assert len(first) == 1 and len(acme.history) == 2",
            "assert acme.history[:1] == first == (first[0],)",
        ],
        2: [
            'assert Account("beta", snapshots=[Snapshot(at=t, health=70)]).version == 1',
        ],
        3: [
            'assert not ticking.check(beta, "accelerate").allowed  # judged as of the clock\'s time',
        ],
    },
    "docs/concepts/health.md": {
        1: [
            'assert result.weakest == "adoption"',
            'assert result.missing == ("csat",)',
        ],
    },
    "docs/concepts/journey.md": {
        0: [
            "assert Phase.COMMITMENT < Phase.IMPLEMENTATION",
        ],
        2: [
            "assert acme.phase is Phase.ADVOCACY",
        ],
        4: [
            "assert all(phase in phases_for(phase.stage) for phase in Phase)",
        ],
    },
    "docs/concepts/maturity.md": {
        0: [
            "assert Level.HEROIC < Level.MANAGED < Level.OPTIMIZED",
            "assert Level.REPEATABLE.next is Level.MEASURABLE",
        ],
        2: [
            "assert report.area(Area.DATA).level is Level.MANAGED",
            "assert report.overall is Level.MANAGED",
            "assert report.weakest == (Area.DATA,)",
        ],
    },
    "docs/concepts/portfolio.md": {
        1: [
            'assert len(book) == 60 and "acct-03" in book',
            'assert book["acct-03"].id == "acct-03"',
        ],
        2: [
            "assert sum(dist.counts.values()) == dist.total == len(book)",
            "assert sorted(i for ids in book.by_band().values() for i in ids) == sorted(book)",
        ],
        4: [
            "assert all(abs(sum(row) - 1) < 1e-9 for row in matrix.probabilities)",
        ],
        5: [
            "assert abs(sum(in_six_months.values()) - len(book)) < 1e-9",
        ],
        11: [
            "assert history.height == sum(len(a.history) for a in book.accounts())",
        ],
        12: [
            "assert all(rebuilt[i].history == book[i].history for i in book)",
        ],
    },
    "docs/concepts/recovery.md": {
        0: [
            'assert process.allowed("monitoring") == ("adjust", "prevent", "lose", "release")',
        ],
        1: [
            'assert plan.check_in(t, health=75).check_ins[-1].band.value == "yellow"  # the policy\'s cut-offs',
            'assert plan.check_in(t, health=75, bands=lenient).check_ins[-1].band.value == "green"  # the argument wins',
        ],
        2: [
            "assert (doubled.evidence.baseline, doubled.evidence.change) == (2, 2)",
        ],
        3: [
            'assert warning.source is None and warning.severity.value == "low"',
        ],
        4: [
            'assert (rerun.phase.value, rerun.risk_phase.value) == ("mid", "late")',
        ],
        6: [
            'assert verdict.decided_by.value == "expected_value"  # 1.5x is not enough for a high-effort save',
        ],
        7: [
            'assert "- Health is still yellow." in note',
        ],
    },
    "docs/howto/forecast.md": {
        0: [
            'assert set(due["term"]) == {"annual", "monthly"}',
        ],
        1: [
            "assert result.reliability.ece < 0.01",
            "assert result.reliability.log_loss < result.reliability.base_log_loss",
            "assert abs(result.coverage - 0.9) <= 0.08",
            "assert result.independent_coverage < result.coverage",
        ],
        3: [
            'assert fig.axes[0].get_title() == "Reliability (equal-count bins)"',
        ],
        4: [
            "assert table.height == len(result.periods)",
        ],
        5: [
            "assert risk.low <= risk.expected <= risk.high",
        ],
        6: [
            "assert again == model",
        ],
        7: [
            'assert "Saved the renewal model fitted on the whole history" in " ".join(backtest.split())',
        ],
        8: [
            'assert "already signed" in report and "By segment:" in report',
        ],
        9: [
            'assert data["total"]["low"] <= data["total"]["expected"] <= data["total"]["high"]',
        ],
        10: [
            "assert abs(section.total.expected - sum(r.probability * r.revenue for r in section.renewals)) < 1e-6",
            'assert f"Expected loss to churn and contraction: {section.total.expected:,.0f} USD" in report',
        ],
    },
    "docs/howto/backtest.md": {
        0: [
            'assert set(history.columns) >= {"period", "segment", "adoption", "churned"}',
        ],
        2: [
            "assert 0.5 < result.auc < 0.7",
        ],
        4: [
            "assert tickets.direction_warning",
        ],
        7: [
            'assert weights["adoption"] > weights["days_since_contact"] > weights["sentiment"]',
            'assert weights["open_tickets"] < 0.01',
            "assert fit.after.auc > fit.before.auc",
        ],
        10: [
            'assert batch["health"][1] == alone',
        ],
    },
    "docs/howto/cli.md": {
        1: ["assert code == 0"],
    },
    "docs/howto/custom-lifecycle.md": {
        0: [
            'assert acct.stage == "seed"',
        ],
        2: [
            'assert alerts == ["umbrella entered TACT: exec escalation"]',
        ],
    },
    "docs/howto/dataframes.md": {
        1: [
            'assert scored["health"][2] == single.score',
            'assert scored["band"][2] == single.band.value',
        ],
    },
    "docs/howto/recovery-plan.md": {
        0: [
            'assert {f.source for f in findings} >= {"support_strain", "relationship_change"}',
        ],
        1: [
            'assert verdict.decision.value == "save"',
        ],
        2: [
            'assert initech.stage == "reset"',
        ],
        3: [
            'assert plan.step.value == "execution"',
        ],
        7: [
            'assert initech.history[-1].trigger == "realign"',
        ],
        9: [
            "assert not audit.complete",
        ],
    },
    "docs/howto/service.md": {
        0: [
            'assert text.startswith(\'{"schema":"stars/1","type":"Account"\')',
            "assert stored == acme",
            'assert (stored.stage, stored.version) == ("seed", 2)',
        ],
        1: [
            'assert problem["path"] == "$.history[0].at"',
        ],
        2: [
            'assert stored.stage == "churn"',
        ],
        3: [
            'assert rebuilt["beta"].history == beta.history',
            'assert rebuilt["acme"].stage == acme.stage',
        ],
        4: [
            'assert [a.id for a in accounts] == ["acme"]',
            'assert [(r.line, r.column, r.value) for r in refused] == [(3, "stage", "gold")]',
            'assert snaps[0].event.metrics == {"seats": 120.0}',
            'assert rejected[0].column == "adoption" and rejected[0].why == "a number from 0 to 1"',
        ],
        5: [
            'assert (read.rows, read.used, read.rejected_rows, read.extra_columns) == (2, 1, 1, ("ARR",))',
        ],
        6: [
            'assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"',
            'assert schema["required"] == ["schema", "type", "id"]',
            'assert set(json_schema("lifecycle")["properties"]) >= {"stages", "transitions", "policy"}',
        ],
        7: [
            'assert lifecycle_to_dict(STARS)["transitions"][0]["guards"] == ["contract_signed"]',
            "assert copy.transitions == STARS.transitions",
            "assert isinstance(loaded, Lifecycle) and loaded.transitions[-1].guards == (budget_ok,)",
        ],
        8: [
            "assert loads(dumps(meeting)) == meeting",
        ],
    },
    "docs/concepts/contracts.md": {
        0: [
            "assert (year.opening, year.expansion, year.contraction, year.churn) == (350, 30, 50, 50)",
            "assert year.grr == (350 - 50 - 50) / 350",
            "assert year.nrr == (350 + 30 - 50 - 50) / 350",
        ],
    },
    "docs/concepts/derive.md": {
        1: [
            'assert stagnate.rule == "evidence" and stagnate.readings == 2',
            'assert stagnate.evidence.band.value == "yellow" and stagnate.evidence.health == 52',
            "assert stagnate.days_in_stage == 184.0",
            'assert [r.trigger for r in account.history] == ["sign", "accelerate", "stagnate"]',
            "assert len(account.snapshots) == len(facts)",
        ],
        2: [
            'assert [d.event.trigger for d in derive_events("acme", facts, rule=eager)] == [ "sign", "accelerate", "stagnate", "escalate", ]',
        ],
        3: [
            'assert "stage" not in frame.columns',
            'assert book["acme"].history == derive_account("acme", facts).history',
        ],
    },
    "docs/howto/store.md": {
        0: [
            'assert store.load("acme").version == 3',
        ],
        1: [
            "assert (result.accepted, result.duplicates, len(result.rejected)) == (2, 1, 1)",
        ],
        2: [
            "assert published == 5 and store.last_position() == 6",
        ],
        4: [
            'assert first["accepted"] == 3 and retry["duplicates"] == 3',
            'assert (account["version"], account["health"]) == (3, 62)',
            'assert status == 409 and "at version 4" in error["error"]',
            'assert [c["version"] for c in feed if c["account"] == "initech"] == [1, 2, 3, 4]',
        ],
    },
    "docs/tutorial.md": {
        4: [
            "assert again == acme",
        ],
    },
}


def _blocks(page: Path) -> list[str]:
    return [
        code
        for options, code in BLOCK.findall(page.read_text(encoding="utf-8"))
        if 'exec="0"' not in options
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_code_blocks_run_and_claims_hold(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = str(page.relative_to(ROOT))
    blocks = _blocks(page)
    checks = CHECKS.get(name, {})
    assert max(checks, default=-1) < len(blocks), f"{name}: a check names a block that is gone"
    monkeypatch.chdir(tmp_path)  # pages that write files write them here
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for i, code in enumerate(blocks):
        try:
            exec(compile(code, f"{name}[block {i}]", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            raise AssertionError(f"{name}, block {i} failed: {exc!r}\n{code}") from exc
        for check in checks.get(i, []):
            try:
                exec(compile(check, f"{name}[check after block {i}]", "exec"), namespace)
            except AssertionError:  # pragma: no cover - the message is the point
                raise AssertionError(f"{name}, after block {i}: {check}") from None


def test_every_page_with_checks_exists() -> None:
    assert all((ROOT / page).exists() for page in CHECKS)


def test_pages_have_code_blocks_where_expected() -> None:
    assert _blocks(ROOT / "README.md")
    assert _blocks(ROOT / "docs" / "tutorial.md")


def test_no_page_shows_an_assert() -> None:
    # the pages show results; the checks live here
    for page in PAGES:
        for code in _blocks(page):
            assert not re.search(r"^\s*assert ", code, re.M), f"{page.name}: {code}"
