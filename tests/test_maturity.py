from __future__ import annotations

import io
import json
import re
import sys

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from stars.errors import InvalidDefinition, InvalidValue, MissingDependency, UnknownName
from stars.maturity import (
    Answer,
    Area,
    AreaChange,
    AreaResult,
    Indicator,
    Level,
    MaturityComparison,
    MaturityReport,
    MissingAnswers,
    Questionnaire,
    assess,
    compare,
    default_questionnaire,
    load_answers,
    plot_radar,
)

Q = default_questionnaire()
IDS = Q.ids


def answers_up_to(level: Level, *, area: Area | None = None, rest: str = "no") -> dict[str, str]:
    """Everything at or below ``level`` answered yes (in ``area`` only, if given)."""
    out = {}
    for ind in Q.indicators:
        hit = ind.level <= level and (area is None or ind.area is area)
        out[ind.id] = "yes" if hit else rest
    return out


# -- the questionnaire ----------------------------------------------------------------


def test_every_area_and_level_has_at_least_three_indicators() -> None:
    for area in Area:
        for level in Level:
            assert len(Q.cell(area, level)) >= 3, (area, level)
    assert len(Q.indicators) >= 75
    assert len(set(IDS)) == len(IDS)


def test_ids_are_stable_and_name_their_cell() -> None:
    for ind in Q.indicators:
        area, level, n = ind.id.split(".")
        assert (Area(area), Level(level)) == (ind.area, ind.level)
        assert n.isdigit()
    assert Q.get("data.managed.2").area is Area.DATA
    assert Q.get("data.managed.2").level is Level.MANAGED


def test_statements_are_distinct_sentences() -> None:
    statements = [i.statement for i in Q.indicators]
    assert len(set(statements)) == len(statements)
    assert all(s.endswith(".") and s[0].isupper() for s in statements)


def test_unknown_indicator_lookup() -> None:
    with pytest.raises(UnknownName, match=re.escape("data.gold.1")):
        Q.get("data.gold.1")


def test_questionnaire_checks_its_definition() -> None:
    base = list(Q.indicators)
    with pytest.raises(InvalidDefinition, match="more than once"):
        Questionnaire([*base, base[0]])
    with pytest.raises(InvalidDefinition, match="data/optimized"):
        Questionnaire([i for i in base if not (i.area is Area.DATA and i.level is Level.OPTIMIZED)])
    with pytest.raises(InvalidValue, match="indicators"):
        Questionnaire([*base, "not an indicator"])  # type: ignore[list-item]
    with pytest.raises(InvalidValue, match="indicators"):
        Questionnaire(5)  # type: ignore[arg-type]


def test_a_smaller_custom_questionnaire_works() -> None:
    q = Questionnaire(
        Indicator(f"{a}.{lv}", a, lv, f"Statement for {a} at {lv}.") for a in Area for lv in Level
    )
    report = q.assess(dict.fromkeys(q.ids, "yes"))
    assert report.overall is Level.OPTIMIZED


def test_indicator_validation() -> None:
    with pytest.raises(InvalidValue, match="id"):
        Indicator("", "data", "managed", "x")
    with pytest.raises(UnknownName, match="area"):
        Indicator("x", "finance", "managed", "x")
    with pytest.raises(UnknownName, match="level"):
        Indicator("x", "data", "legendary", "x")
    with pytest.raises(InvalidValue, match="statement"):
        Indicator("x", "data", "managed", "  ")


# -- levels and answers ---------------------------------------------------------------


def test_levels_are_ordered_by_rank_not_alphabet() -> None:
    assert sorted(Level, key=str) != list(Level)  # alphabetical order would be wrong
    assert sorted([Level.OPTIMIZED, Level.HEROIC, Level.MEASURABLE, Level.MANAGED]) == [
        Level.HEROIC,
        Level.MANAGED,
        Level.MEASURABLE,
        Level.OPTIMIZED,
    ]
    assert Level.HEROIC < Level.MANAGED <= Level.MANAGED < Level.OPTIMIZED
    assert Level.OPTIMIZED > Level.MEASURABLE >= Level.MEASURABLE
    assert Level.REPEATABLE > "managed"
    assert [lv.rank for lv in Level] == [1, 2, 3, 4, 5]
    assert Level.OPTIMIZED.next is None
    assert all(lv.summary for lv in Level)
    assert all(a.scope for a in Area)


def test_level_comparison_with_bad_values() -> None:
    with pytest.raises(UnknownName):
        _ = Level.HEROIC < "legendary"
    with pytest.raises(TypeError):
        _ = Level.HEROIC < 3  # type: ignore[operator]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("yes", Answer.YES),
        (" Partly ", Answer.PARTLY),
        ("NO", Answer.NO),
        (1, Answer.YES),
        (0.5, Answer.PARTLY),
        (0, Answer.NO),
        (Answer.PARTLY, Answer.PARTLY),
    ],
)
def test_answers_parse(given: object, expected: Answer) -> None:
    assert Answer.parse(given, "x") is expected


@pytest.mark.parametrize("bad", ["maybe", "", None, True, 0.3, 2, float("nan"), [1]])
def test_bad_answers_name_the_indicator_and_value(bad: object) -> None:
    with pytest.raises(InvalidValue) as info:
        assess({"data.managed.2": bad}, missing="count_as_no")
    assert info.value.field == "data.managed.2"
    assert info.value.value is bad or info.value.value != info.value.value  # nan


# -- the level rule -------------------------------------------------------------------


def test_all_yes_is_optimized_and_all_no_is_heroic() -> None:
    assert assess(dict.fromkeys(IDS, "yes")).overall is Level.OPTIMIZED
    low = assess(dict.fromkeys(IDS, "no"))
    assert low.overall is Level.HEROIC
    assert set(low.levels.values()) == {Level.HEROIC}


@pytest.mark.parametrize("level", list(Level))
def test_each_area_reaches_exactly_the_level_its_answers_support(level: Level) -> None:
    report = assess(answers_up_to(level))
    assert report.levels == dict.fromkeys(Area, level)


def test_a_strong_top_level_cannot_hide_a_failing_lower_one() -> None:
    answers = dict.fromkeys(IDS, "yes")
    for ind in Q.cell(Area.PROCESS, Level.REPEATABLE):
        answers[ind.id] = "no"
    report = assess(answers)
    process = report.area(Area.PROCESS)
    # measurable and optimized are fully met, but repeatable fails, so they do not count
    assert process.scores["measurable"] == 1.0
    assert process.scores["optimized"] == 1.0
    assert process.level is Level.MANAGED
    assert [i.id for i in process.next_steps] == [i.id for i in Q.cell("process", "repeatable")]


def test_heroic_is_the_floor_whatever_its_own_indicators_say() -> None:
    answers = dict.fromkeys(IDS, "yes")
    for ind in Q.indicators:
        if ind.level is Level.HEROIC:
            answers[ind.id] = "no"
    assert assess(answers).overall is Level.OPTIMIZED


def test_threshold_decides_whether_a_level_mostly_holds() -> None:
    answers = answers_up_to(Level.HEROIC)
    managed = Q.cell(Area.DATA, Level.MANAGED)
    answers[managed[0].id] = "yes"
    answers[managed[1].id] = "yes"  # two of three: mean 0.667
    assert assess(answers).area("data").level is Level.HEROIC  # below the default 0.67
    assert assess(answers, threshold=0.66).area("data").level is Level.MANAGED
    answers[managed[2].id] = "partly"  # mean 0.833
    assert assess(answers).area("data").level is Level.MANAGED
    assert assess(answers, threshold=1.0).area("data").level is Level.HEROIC


def test_overall_is_the_weakest_area() -> None:
    answers = answers_up_to(Level.MEASURABLE)
    for ind in Q.cell(Area.TECHNOLOGY, Level.REPEATABLE):
        answers[ind.id] = "no"
    report = assess(answers)
    assert report.area("technology").level is Level.MANAGED
    assert report.overall is Level.MANAGED
    assert report.weakest == (Area.TECHNOLOGY,)
    assert min(report.levels.values()) is report.overall


def test_gaps_next_steps_and_weak_spots() -> None:
    answers = answers_up_to(Level.REPEATABLE)
    measurable = Q.cell(Area.SKILL, Level.MEASURABLE)
    answers[measurable[0].id] = "partly"
    answers[measurable[1].id] = "yes"
    weak = Q.cell(Area.SKILL, Level.MANAGED)[0]
    answers[weak.id] = "partly"  # managed still holds (mean 0.833)
    skill = assess(answers).area(Area.SKILL)
    assert skill.level is Level.REPEATABLE
    assert skill.next_level is Level.MEASURABLE
    # next level mean is (0.5 + 1 + 0) / 3 = 0.5: 0.17 short of the threshold
    assert skill.gap == pytest.approx(0.67 - 0.5)
    # unmet next-level indicators, weakest first; the fully met one is not a next step
    assert [i.id for i in skill.next_steps] == [measurable[2].id, measurable[0].id]
    assert [i.id for i in skill.weak_spots] == [weak.id]
    top = assess(dict.fromkeys(IDS, "yes")).area(Area.SKILL)
    assert top.next_steps == () and top.gap == 0.0 and top.next_level is None


# -- input errors and missing answers -------------------------------------------------


def test_unknown_ids_are_refused() -> None:
    with pytest.raises(UnknownName, match=re.escape("unknown indicator 'data.gold.1'")):
        assess({"data.gold.1": "yes"})
    with pytest.raises(InvalidValue, match="answers key"):
        assess({3: "yes"})


def test_missing_answers_refused_by_default() -> None:
    partial = dict.fromkeys(IDS[:-2], "yes")
    with pytest.raises(InvalidValue, match="2 unanswered") as info:
        assess(partial)
    assert info.value.value == list(IDS[-2:])


def test_missing_answers_counted_as_no_are_listed() -> None:
    partial = dict.fromkeys(IDS, "yes")
    gone = Q.cell(Area.ORGANIZATION, Level.OPTIMIZED)
    for ind in gone:
        del partial[ind.id]
    report = assess(partial, missing=MissingAnswers.COUNT_AS_NO)
    assert report.missing == tuple(i.id for i in gone)
    assert all(report.answers[i.id] == 0.0 for i in gone)
    assert report.area(Area.ORGANIZATION).level is Level.MEASURABLE


@pytest.mark.parametrize("bad", [0, -0.1, 1.5, "high", True, float("nan")])
def test_bad_thresholds(bad: object) -> None:
    with pytest.raises(InvalidValue, match="threshold"):
        assess(dict.fromkeys(IDS, "yes"), threshold=bad)  # type: ignore[arg-type]


def test_bad_missing_policy() -> None:
    with pytest.raises(InvalidValue, match="missing"):
        assess({}, missing="guess")
    with pytest.raises(InvalidValue, match="missing"):
        assess({}, missing=None)  # type: ignore[arg-type]


def test_answers_of_the_wrong_shape() -> None:
    with pytest.raises(InvalidValue, match="DataFrame"):
        assess(42)
    with pytest.raises(InvalidValue, match="DataFrame"):
        assess([{"data.managed.1": "yes"}, "no"])
    with pytest.raises(InvalidValue, match="DataFrame"):
        assess("data.managed.1")


# -- several respondents --------------------------------------------------------------


def test_respondents_are_averaged_and_disagreement_reported() -> None:
    alice = dict.fromkeys(IDS, "yes")
    bob = dict.fromkeys(IDS, "yes")
    carol = dict.fromkeys(IDS, "yes")
    bob["data.managed.1"] = "no"
    carol["data.managed.2"] = "partly"
    report = assess([alice, bob, carol])
    assert report.respondents == 3
    assert report.answers["data.managed.1"] == pytest.approx(2 / 3)
    assert report.answers["data.managed.2"] == pytest.approx(2.5 / 3)
    # yes and no on the same indicator is a disagreement; yes and partly is not
    assert report.disagreements == ("data.managed.1",)
    assert report.spread["data.managed.1"] == pytest.approx((2 / 9) ** 0.5)
    assert report.spread["skill.heroic.1"] == 0.0
    # mean of data.managed is (2/3 + 5/6 + 1) / 3 = 0.83: still holds
    assert report.area(Area.DATA).level is Level.OPTIMIZED


def test_a_respondent_who_skipped_an_indicator_is_left_out_of_its_mean() -> None:
    one = dict.fromkeys(IDS, "yes")
    two = dict.fromkeys(IDS, "no")
    del two["skill.managed.1"]
    report = assess([one, two])
    assert report.answers["skill.managed.1"] == 1.0
    assert report.answers["skill.managed.2"] == 0.5


def _frame_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [
        dict.fromkeys(IDS, "yes"),
        dict.fromkeys(IDS, "partly"),
        dict.fromkeys(IDS, "no"),
    ]
    rows[0]["data.managed.1"] = "No"
    rows[1]["data.managed.1"] = " YES "
    return rows


@pytest.mark.parametrize("backend", ["polars", "pandas", "pyarrow"])
def test_frames_give_the_same_report_as_mappings(backend: str) -> None:
    rows = _frame_rows()
    expected = assess(rows)
    columns = {k: [r[k] for r in rows] for k in IDS}
    native: object
    if backend == "polars":
        native = pl.DataFrame(columns)
    elif backend == "pandas":
        native = pd.DataFrame(columns)
    else:
        native = pa.table(columns)
    report = assess(native)
    assert report.respondents == 3
    assert report.answers == pytest.approx(expected.answers)
    assert report.spread == pytest.approx(expected.spread)
    assert report.disagreements == expected.disagreements
    assert report.levels == expected.levels


def test_numeric_frames_and_nulls() -> None:
    frame = pl.DataFrame(
        {
            "who": ["a", "b", "c"],
            "data.managed.1": [1.0, 0.0, None],
            "data.managed.2": [1, 1, 0],
            "data.managed.3": [None, None, None],
        }
    )
    report = assess(frame, ignore_columns=["who"], missing="count_as_no")
    assert report.answers["data.managed.1"] == 0.5  # the null is not a "no"
    assert report.answers["data.managed.2"] == pytest.approx(2 / 3)
    assert "data.managed.3" in report.missing
    assert report.disagreements == ("data.managed.1", "data.managed.2")


def test_frames_are_not_mutated() -> None:
    native = pd.DataFrame({"data.managed.1": ["Yes", "no"], "who": ["a", "b"]})
    before = native.copy()
    assess(native, ignore_columns=["who"], missing="count_as_no")
    pd.testing.assert_frame_equal(native, before)


def test_frame_errors() -> None:
    with pytest.raises(InvalidValue, match="'maybe'") as info:
        assess(pl.DataFrame({"data.managed.1": ["yes", "maybe"]}), missing="count_as_no")
    assert info.value.field == "data.managed.1"
    with pytest.raises(InvalidValue) as info:
        assess(pl.DataFrame({"data.managed.1": [1.0, 0.7]}), missing="count_as_no")
    assert (info.value.field, info.value.value) == ("data.managed.1", 0.7)
    with pytest.raises(InvalidValue, match="column"):
        assess(pl.DataFrame({"data.managed.1": [True, False]}), missing="count_as_no")
    with pytest.raises(UnknownName, match="'who'"):
        assess(pl.DataFrame({"who": ["a"]}), missing="count_as_no")


def test_empty_frame_has_no_answers() -> None:
    empty = pl.DataFrame({"data.managed.1": pl.Series([], dtype=pl.String)})
    report = assess(empty, missing="count_as_no")
    assert report.respondents == 0
    assert len(report.missing) == len(IDS)
    with pytest.raises(InvalidValue, match="unanswered"):
        assess(empty)


# -- files ----------------------------------------------------------------------------


def test_load_answers_from_json_and_yaml(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "a.json"  # type: ignore[operator]
    path.write_text(json.dumps({"data.managed.1": "yes", "data.managed.2": 0.5}))
    assert load_answers(path) == {"data.managed.1": 1.0, "data.managed.2": 0.5}
    team = tmp_path / "team.yaml"  # type: ignore[operator]
    team.write_text("- data.managed.1: partly\n- data.managed.1: no\n")
    loaded = load_answers(str(team))
    assert loaded == [{"data.managed.1": 0.5}, {"data.managed.1": 0.0}]
    assert assess(loaded, missing="count_as_no").answers["data.managed.1"] == 0.25
    yml = tmp_path / "a.YML"  # type: ignore[operator]
    yml.write_text("data.managed.1: Yes\n")
    assert load_answers(yml) == {"data.managed.1": 1.0}


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("a.txt", "data.managed.1: yes", "a .json, .yaml or .yml file"),
        ("a.json", "{not json", "a valid JSON file"),
        ("a.yaml", "a: [unclosed", "a valid YAML file"),
        ("a.json", "[1, 2]", "a mapping of ids"),
        ("a.json", '"yes"', "a mapping of ids"),
        ("a.json", '{"data.managed.1": "maybe"}', "data.managed.1: got 'maybe'"),
        ("a.yaml", "1: yes", "answers key"),
    ],
)
def test_load_answers_errors(
    tmp_path: pytest.TempPathFactory, name: str, content: str, match: str
) -> None:
    path = tmp_path / name  # type: ignore[operator]
    path.write_text(content)
    with pytest.raises(InvalidValue, match=re.escape(match)):
        load_answers(path)


def test_load_yaml_without_pyyaml(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.yaml"  # type: ignore[operator]
    path.write_text("data.managed.1: yes\n")
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(MissingDependency) as info:
        load_answers(path)
    assert (info.value.package, info.value.extra) == ("pyyaml", "yaml")


# -- comparing, rendering, plotting ----------------------------------------------------


def test_compare_reports_what_moved() -> None:
    before = assess(answers_up_to(Level.MANAGED))
    later = answers_up_to(Level.MANAGED)
    for ind in Q.cell(Area.DATA, Level.REPEATABLE):
        later[ind.id] = "yes"
    for ind in Q.cell(Area.SKILL, Level.MANAGED):
        later[ind.id] = "no"
    diff = compare(before, assess(later))
    by_area = {c.area: c for c in diff.changes}
    assert by_area[Area.DATA].delta == 1
    assert by_area[Area.DATA].raised == tuple(i.id for i in Q.cell("data", "repeatable"))
    assert by_area[Area.SKILL].delta == -1
    assert by_area[Area.SKILL].lowered == tuple(i.id for i in Q.cell("skill", "managed"))
    assert not by_area[Area.PROCESS].moved
    assert diff.improved == (Area.DATA,)
    assert diff.regressed == (Area.SKILL,)
    assert (diff.overall_before, diff.overall_after) == (Level.MANAGED, Level.HEROIC)
    text = diff.to_markdown()
    assert "| data | managed | repeatable | +1 | 3 | 0 |" in text
    assert "| skill | managed | heroic | -1 | 0 | 3 |" in text


def test_compare_refuses_mismatched_inputs() -> None:
    r = assess(dict.fromkeys(IDS, "no"))
    with pytest.raises(InvalidValue, match="before"):
        compare("report", r)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=re.escape("after.threshold")):
        compare(r, assess(dict.fromkeys(IDS, "no"), threshold=0.8))


def test_markdown_report() -> None:
    answers = answers_up_to(Level.REPEATABLE)
    del answers["skill.optimized.1"]
    rows = [answers, {**answers, "data.measurable.1": "yes"}]
    text = assess(rows, missing="count_as_no").to_markdown()
    assert "Overall level: **repeatable**" in text
    assert "| data | repeatable | 1.00 | 1.00 | 1.00 | 0.17 | 0.00 |" in text
    assert "`data.measurable.2`" in text
    assert "Unanswered (scored as no): skill.optimized.1" in text
    assert "`data.measurable.1`: answers range from no to yes (sd 0.50)" in text
    top = assess(dict.fromkeys(IDS, "yes")).to_markdown()
    assert "at the top level" in top and "Disagreement" not in top


def test_html_repr_is_an_escaped_table() -> None:
    html = assess(answers_up_to(Level.MANAGED))._repr_html_()
    assert html.startswith("<table><caption>Maturity: managed overall")
    assert "<td>repeatable</td>" in html
    assert html.count("<tr>") == 1 + len(Area)


def test_plot_radar_renders_png() -> None:
    before = assess(answers_up_to(Level.MANAGED))
    after = assess(answers_up_to(Level.MEASURABLE))
    fig = plot_radar(before, after, labels=["Q1", "Q3"])
    ax = fig.axes[0]
    assert ax.name == "polar"
    assert len(ax.lines) == 2
    assert list(ax.lines[1].get_ydata()[:-1]) == [4.0] * len(Area)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue().startswith(b"\x89PNG\r\n\x1a\n")


def test_plot_radar_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    r = assess(dict.fromkeys(IDS, "no"))
    with pytest.raises(InvalidValue, match="labels"):
        plot_radar(r, r, labels=["only one"])
    with pytest.raises(InvalidValue, match=re.escape("reports[1]")):
        plot_radar(r, "x")  # type: ignore[arg-type]
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(MissingDependency, match="plot"):
        plot_radar(r)


# -- value objects validate themselves -------------------------------------------------


def test_report_value_objects_validate() -> None:
    good = assess(dict.fromkeys(IDS, "no"))
    with pytest.raises(InvalidValue, match="areas"):
        MaturityReport(good.areas[::-1], 0.67)
    with pytest.raises(InvalidValue, match="areas"):
        MaturityReport(5, 0.67)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="threshold"):
        MaturityReport(good.areas, 2.0)
    with pytest.raises(InvalidValue, match="answers"):
        MaturityReport(good.areas, 0.5, answers={"x": 3})
    with pytest.raises(InvalidValue, match="missing"):
        MaturityReport(good.areas, 0.5, missing="x.y.z")
    with pytest.raises(InvalidValue, match="respondents"):
        MaturityReport(good.areas, 0.5, respondents=-1)
    with pytest.raises(InvalidValue, match="next_steps"):
        AreaResult("data", "heroic", {}, 0.1, next_steps=("data.managed.1",))  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="next_steps"):
        AreaResult("data", "heroic", {}, 0.1, next_steps=3)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="scores"):
        AreaResult("data", "heroic", [0.1], 0.1)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="raised"):
        AreaChange("data", "heroic", "managed", raised=(1,))  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="raised"):
        AreaChange("data", "heroic", "managed", raised=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="changes"):
        MaturityComparison((), "heroic", "heroic")
    with pytest.raises(InvalidValue, match="changes"):
        MaturityComparison(None, "heroic", "heroic")  # type: ignore[arg-type]
    assert hash(good) == hash(assess(dict.fromkeys(IDS, "no")))
