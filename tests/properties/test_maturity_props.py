from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stars.maturity import Answer, Area, Level, assess, compare, default_questionnaire

Q = default_questionnaire()
IDS = Q.ids

# weighted toward yes, so that higher levels are reached often enough to matter
answer = st.sampled_from(["yes", "yes", "yes", "partly", "no"])
answers = st.fixed_dictionaries(dict.fromkeys(IDS, answer))
thresholds = st.floats(min_value=0.05, max_value=1.0, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(answers, st.sets(st.sampled_from(IDS)), thresholds)
def test_more_yes_never_lowers_any_level(
    base: dict[str, str], raised: set[str], threshold: float
) -> None:
    better = {**base, **dict.fromkeys(raised, "yes")}
    before = assess(base, threshold=threshold)
    after = assess(better, threshold=threshold)
    for area in Area:
        assert after.levels[area] >= before.levels[area]
    assert after.overall >= before.overall
    assert not compare(before, after).regressed


@settings(max_examples=100, deadline=None)
@given(answers, thresholds, thresholds)
def test_a_stricter_threshold_never_raises_a_level(
    given_answers: dict[str, str], a: float, b: float
) -> None:
    low, high = sorted((a, b))
    lenient = assess(given_answers, threshold=low)
    strict = assess(given_answers, threshold=high)
    for area in Area:
        assert strict.levels[area] <= lenient.levels[area]


@settings(max_examples=100, deadline=None)
@given(answers, thresholds)
def test_levels_follow_the_cumulative_rule(given_answers: dict[str, str], threshold: float) -> None:
    report = assess(given_answers, threshold=threshold)
    for result in report.areas:
        # every level up to the one held reaches the threshold ...
        for level in Level:
            if Level.HEROIC < level <= result.level:
                assert result.scores[level.value] >= threshold
        # ... and the next one does not, and its shortfall is the gap
        nxt = result.level.next
        if nxt is not None:
            assert result.scores[nxt.value] < threshold
            assert result.gap == pytest.approx(threshold - result.scores[nxt.value])
            ids = {i.id for i in result.next_steps}
            assert ids == {i.id for i in Q.cell(result.area, nxt) if given_answers[i.id] != "yes"}
        else:
            assert result.next_steps == ()
    assert report.overall == min(report.levels.values())
    assert set(report.weakest) == {a for a, lv in report.levels.items() if lv is report.overall}


@settings(max_examples=30, deadline=None)
@given(st.lists(answers, min_size=1, max_size=4))
def test_frames_and_mappings_agree(rows: list[dict[str, str]]) -> None:
    from_rows = assess(rows)
    from_frame = assess(pl.DataFrame(rows))
    assert from_frame.levels == from_rows.levels
    assert from_frame.answers == pytest.approx(from_rows.answers)
    assert from_frame.disagreements == from_rows.disagreements
    for iid, mean in from_rows.answers.items():
        scores = [Answer.parse(r[iid], iid).value for r in rows]
        assert mean == pytest.approx(sum(scores) / len(scores))
        assert (iid in from_rows.disagreements) == (min(scores) == 0.0 and max(scores) == 1.0)
