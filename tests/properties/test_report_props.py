"""Properties of the portfolio report on generated portfolios of any size and seed."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from stars import STARS, Account
from stars.demo import generate
from stars.report import build_report, render

portfolios = st.builds(
    generate, n_accounts=st.integers(1, 25), months=st.integers(1, 14), seed=st.integers(0, 10_000)
)


@settings(max_examples=25, deadline=None)
@given(portfolios)
def test_report_accounts_for_every_account(accounts: list[Account]) -> None:
    report = build_report(accounts)
    assert report.accounts == len(accounts)
    assert sum(row.accounts for row in report.stages) == len(accounts)
    by_stage = {row.stage: row.accounts for row in report.stages}
    for stage in {a.stage for a in accounts}:
        assert by_stage[stage] == sum(1 for a in accounts if a.stage == stage)
    customers = sum(1 for a in accounts if STARS.kind_of(a.stage).value in ("growth", "crisis"))
    assert report.customers == customers
    assert sum(row.accounts for row in report.bands) == customers
    ids = {a.id for a in accounts}
    assert {m.account_id for m in report.disagreements} <= ids
    for mismatch in report.disagreements:
        assert (
            STARS.diagnose(next(a for a in accounts if a.id == mismatch.account_id)).agrees is False
        )


@settings(max_examples=15, deadline=None)
@given(portfolios)
def test_every_format_renders_and_json_is_stable(accounts: list[Account]) -> None:
    report = build_report(accounts)
    doc = json.loads(render(report, "json"))
    assert doc == json.loads(report.to_json())
    assert doc["accounts"] == len(accounts)
    text, markdown = render(report, "text"), render(report, "markdown")
    assert text.strip()
    assert markdown.strip()
    assert report == build_report(accounts)  # deterministic
