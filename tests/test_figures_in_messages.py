"""A refusal never shows a figure that meets the threshold it failed (issue 17, item 8)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from stars import STARS, Account, Snapshot
from stars.journey import CustomerJourney, Journey, Phase, ValueCase


def _figures(message: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", message)]


def test_realized_value_just_short_of_projected_reads_as_short() -> None:
    journey = Journey()
    j = CustomerJourney("acme", phase=Phase.PERFORMANCE)
    (reason,) = journey.check(j, value=ValueCase(10_000, 9_999))
    assert reason == "realized value is 99.99% of projected, below the 100% required"


def test_tenure_just_short_of_the_minimum_reads_as_short() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    account = Account("acme", stage="accelerate", since=start)
    t = start + timedelta(days=179, hours=20)
    for i in range(8):
        STARS.observe(
            account,
            Snapshot(at=t - timedelta(days=7 * (7 - i)), health=90, success_metrics_agreed=True),
        )
    verdict = STARS.check(account, "sustain", at=t)
    assert "a customer for 179.8 days, 180 needed" in verdict.reasons


@given(st.floats(0, 1, exclude_max=True), st.floats(0.05, 1))
def test_an_adoption_refusal_shows_a_figure_below_the_threshold(
    adoption: float, need: float
) -> None:
    from stars.journey import JourneyPolicy

    if adoption >= need:
        return
    journey = Journey(policy=JourneyPolicy(adoption_threshold=need))
    (reason,) = journey.check(CustomerJourney("a", phase=Phase.IMPLEMENTATION), adoption=adoption)
    shown, limit = _figures(reason)
    assert shown < limit, reason


@given(st.integers(1, 10**7), st.floats(0, 1, exclude_max=True))
def test_a_value_refusal_shows_a_figure_below_the_threshold(projected: int, share: float) -> None:
    realized = projected * share
    journey = Journey()
    j = CustomerJourney("a", phase=Phase.PERFORMANCE)
    (reason,) = journey.check(j, value=ValueCase(projected, realized))
    shown, limit = _figures(reason)
    assert shown < limit, reason
