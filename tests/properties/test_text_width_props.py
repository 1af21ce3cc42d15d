"""Rule: a text report fits the width it is given, and wrapping drops no word (issue 18)."""

from __future__ import annotations

import re
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from stars import Account
from stars.demo import generate
from stars.report import build_report

portfolios = st.builds(
    generate, n_accounts=st.integers(1, 25), months=st.integers(1, 14), seed=st.integers(0, 10_000)
)


def characters(text: str) -> Counter[str]:
    """The text's characters in any order, without spaces and the rules under headings."""
    kept = [line for line in text.splitlines() if not set(line) <= {"-", "=", " "}]
    return Counter(re.sub(r"\s+", "", "".join(kept)))


@settings(max_examples=20, deadline=None)
@given(portfolios, st.integers(60, 160))
def test_every_line_fits_the_width_and_no_word_is_lost(accounts: list[Account], width: int) -> None:
    report = build_report(accounts)
    text = report.to_text(width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    # wrapping moves text (and may break a long word), it never drops any
    assert characters(text) == characters(report.to_text(width=None))
