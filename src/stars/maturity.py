"""Customer-success maturity: five areas, five levels, and an assessment.

A customer-success organisation grows up along five areas (skill, process, data,
technology and organization), each passing through five levels, from a heroic start
where a few people hold everything together to an optimized state that keeps
improving itself. The `Questionnaire` lists concrete indicators for every
area and level; `Questionnaire.assess` turns yes / partly / no answers into a
`MaturityReport`.

The level rule is cumulative: a level counts for an area only when its own
indicators mostly hold (their mean reaches the threshold) *and* every level below
it counts too, so a strong top level cannot hide a weak foundation. ``HEROIC`` is
the floor every area stands on. The overall level is the weakest area's level.

Examples:
    >>> from stars.maturity import Area, Level, assess, default_questionnaire
    >>> q = default_questionnaire()
    >>> answers = {i.id: "yes" for i in q.indicators if i.level <= Level.REPEATABLE}
    >>> report = assess(answers, missing="count_as_no")
    >>> report.overall
    <Level.REPEATABLE: 'repeatable'>
    >>> [i.id for i in report.area(Area.DATA).next_steps]
    ['data.measurable.1', 'data.measurable.2', 'data.measurable.3']
"""

from __future__ import annotations

import enum
import importlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs

from stars import _validate as v
from stars._ordered import OrderedStrEnum
from stars.errors import InvalidDefinition, InvalidValue, MissingDependency, UnknownName

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "Answer",
    "Area",
    "AreaChange",
    "AreaResult",
    "Indicator",
    "Level",
    "MaturityComparison",
    "MaturityReport",
    "MissingAnswers",
    "Questionnaire",
    "assess",
    "compare",
    "default_questionnaire",
    "load_answers",
    "plot_radar",
]

DEFAULT_THRESHOLD: Final = 0.67


class Area(enum.StrEnum):
    """The five areas in which customer-success maturity is judged.

    Examples:
        >>> from stars.maturity import Area
        >>> [a.value for a in Area]
        ['skill', 'process', 'data', 'technology', 'organization']
        >>> Area.DATA.scope
        'accounts, contacts and contracts: the records about customers'
    """

    SKILL = "skill"
    PROCESS = "process"
    DATA = "data"
    TECHNOLOGY = "technology"
    ORGANIZATION = "organization"

    @property
    def scope(self) -> str:
        """What the area covers, in a short phrase.

        Examples:
            >>> from stars.maturity import Area
            >>> Area.SKILL.scope
            'managing customers, business sense, and soft skills such as handling conflict'
        """
        return _AREA_SCOPE[self]


_AREA_SCOPE: Final = {
    Area.SKILL: "managing customers, business sense, and soft skills such as handling conflict",
    Area.PROCESS: "how the team works with customers and talks to them",
    Area.DATA: "accounts, contacts and contracts: the records about customers",
    Area.TECHNOLOGY: "the systems the company uses to follow and manage customers",
    Area.ORGANIZATION: "the team that is accountable for customers, and how it is set up",
}


class Level(OrderedStrEnum):
    """The five maturity levels, ordered from ``HEROIC`` (lowest) to ``OPTIMIZED``.

    Levels compare by rank, not alphabetically (a plain string is read as a level).

    Examples:
        >>> from stars.maturity import Level
        >>> Level.HEROIC < Level.MANAGED < Level.OPTIMIZED
        True
        >>> max(Level.REPEATABLE, Level.MEASURABLE)
        <Level.MEASURABLE: 'measurable'>
        >>> Level.MANAGED.rank, Level.MANAGED.next
        (2, <Level.REPEATABLE: 'repeatable'>)
    """

    HEROIC = "heroic"
    MANAGED = "managed"
    REPEATABLE = "repeatable"
    MEASURABLE = "measurable"
    OPTIMIZED = "optimized"

    @property
    def rank(self) -> int:
        """The level's position, 1 (``HEROIC``) to 5 (``OPTIMIZED``).

        Examples:
            >>> from stars.maturity import Level
            >>> Level.OPTIMIZED.rank
            5
        """
        return _LEVEL_ORDER.index(self) + 1

    @property
    def next(self) -> Level | None:
        """The level above this one, or ``None`` at the top.

        Examples:
            >>> from stars.maturity import Level
            >>> print(Level.OPTIMIZED.next)
            None
        """
        i = _LEVEL_ORDER.index(self)
        return _LEVEL_ORDER[i + 1] if i + 1 < len(_LEVEL_ORDER) else None

    @property
    def summary(self) -> str:
        """What an organisation at this level looks like, in one sentence.

        Examples:
            >>> from stars.maturity import Level
            >>> Level.HEROIC.summary.split(":")[0]
            'Individual effort'
        """
        return _LEVEL_SUMMARY[self]


_LEVEL_ORDER: Final = tuple(Level)

_LEVEL_SUMMARY: Final = {
    Level.HEROIC: (
        "Individual effort: a few people firefight the accounts in the worst shape, nothing is"
        " written down, and churn arrives as a surprise."
    ),
    Level.MANAGED: (
        "Early awareness: the team admits the old way fails, relies on its best people, and"
        " starts to centralize data on one platform, though it can slide back."
    ),
    Level.REPEATABLE: (
        "Established: dedicated CSMs, tracked time, proactive routines, and a platform wired"
        " to the CRM so new customers start well."
    ),
    Level.MEASURABLE: (
        "Agile: clean shared data, full reporting and forecasting, automated routines, and"
        " growth inside accounts."
    ),
    Level.OPTIMIZED: (
        "Evolved: everyone improves the way of working, specialists emerge, and the team grows"
        " revenue toward shared goals instead of only defending it."
    ),
}


def _to_level(value: object) -> Level:
    if isinstance(value, Level):
        return value
    if isinstance(value, str):
        try:
            return Level(value.strip().lower())
        except ValueError:
            pass
    raise UnknownName("level", value, [lv.value for lv in Level])


def _area(value: object) -> Area:
    if isinstance(value, Area):
        return value
    if isinstance(value, str):
        try:
            return Area(value.strip().lower())
        except ValueError:
            pass
    raise UnknownName("area", value, [a.value for a in Area])


class Answer(enum.Enum):
    """An answer to one indicator, and the score it is worth.

    Examples:
        >>> from stars.maturity import Answer
        >>> Answer.PARTLY.value
        0.5
        >>> Answer.parse("Yes", "skill.managed.1")
        <Answer.YES: 1.0>
        >>> Answer.parse(0, "skill.managed.1")
        <Answer.NO: 0.0>
        >>> Answer.parse("maybe", "skill.managed.1")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: skill.managed.1: got 'maybe', expected 'yes', 'partly', ...
    """

    YES = 1.0
    PARTLY = 0.5
    NO = 0.0

    @classmethod
    def parse(cls, value: object, field: str) -> Answer:
        """Read an answer given as an `Answer`, a word, or a score.

        Args:
            value: ``Answer.YES``, ``"yes"``, ``"partly"``, ``"no"`` (any case), or the
                numbers 1, 0.5, 0.
            field: The indicator id, used in the error message.

        Returns:
            The answer.

        Raises:
            InvalidValue: For anything else (booleans included), naming ``field``.

        Examples:
            >>> from stars.maturity import Answer
            >>> Answer.parse(0.5, "data.managed.2")
            <Answer.PARTLY: 0.5>
        """
        if isinstance(value, Answer):
            return value
        if isinstance(value, str):
            found = _ANSWER_WORDS.get(value.strip().lower())
            if found is not None:
                return found
        elif isinstance(value, int | float) and not isinstance(value, bool):
            for answer in Answer:
                if value == answer.value:
                    return answer
        raise InvalidValue(field, value, _ANSWER_EXPECTED)


_ANSWER_WORDS: Final = {"yes": Answer.YES, "partly": Answer.PARTLY, "no": Answer.NO}
_ANSWER_EXPECTED: Final = "'yes', 'partly', 'no', or 1, 0.5, 0"


class MissingAnswers(enum.StrEnum):
    """What to do when an indicator has no answer.

    Examples:
        >>> from stars.maturity import MissingAnswers
        >>> MissingAnswers("count_as_no") is MissingAnswers.COUNT_AS_NO
        True
    """

    REFUSE = "refuse"
    COUNT_AS_NO = "count_as_no"


_check_id = v.field(v.text)
_check_statement = v.field(v.text)


@attrs.frozen(slots=True)
class Indicator:
    """One statement a team can answer yes, partly or no.

    Attributes:
        id: A stable identifier, ``"<area>.<level>.<n>"`` in the default questionnaire.
        area: The area the indicator belongs to.
        level: The level it is evidence for.
        statement: The statement itself.

    Examples:
        >>> from stars.maturity import Indicator
        >>> i = Indicator("data.managed.1", "data", "managed", "Customer data sits in one place.")
        >>> i.area, i.level
        (<Area.DATA: 'data'>, <Level.MANAGED: 'managed'>)
    """

    id: str = attrs.field(validator=_check_id)
    area: Area = attrs.field(converter=_area)
    level: Level = attrs.field(converter=_to_level)
    statement: str = attrs.field(validator=_check_statement)


# The default indicators: for every area and level, three statements written from the
# maturity seed. The ids follow the order here: "<area>.<level>.<n>".
_STATEMENTS: Final[dict[Area, dict[Level, tuple[str, str, str]]]] = {
    Area.SKILL: {
        Level.HEROIC: (
            "Every important customer has somebody who looks after it, even if informally.",
            "People on the team can calm an upset customer when a problem lands on them.",
            "What the team knows about customers is held by a few experienced individuals.",
        ),
        Level.MANAGED: (
            "The team has named the basic customer-management skills it is short of.",
            "What the strongest people do well is being discussed as shared practice.",
            "Conflict handling and business conversations are part of someone's training plan.",
        ),
        Level.REPEATABLE: (
            "One or more people work full time as customer success managers.",
            "A newcomer can learn a written, common way of running an account.",
            "CSMs start renewal talks early, using evidence of the value delivered.",
        ),
        Level.MEASURABLE: (
            "CSMs adapt to very different customer needs without escalating each case.",
            "CSMs raise expansion ideas, such as unused features or paid service tiers.",
            "A new hire becomes productive fast because the job is clearly understood.",
        ),
        Level.OPTIMIZED: (
            "Team members specialize by role, segment or expertise.",
            "People in every role work on their own skills and pass ideas on to others.",
            "CSMs find openings and put solutions in place that lift adoption and return.",
        ),
    },
    Area.PROCESS: {
        Level.HEROIC: (
            "When a customer raises a problem, somebody responds to it.",
            "The accounts in the deepest trouble get attention first.",
            "Whatever routines exist are known to the people who follow them.",
        ),
        Level.MANAGED: (
            "The team has estimated the time each customer needs against the time it gets.",
            "Gaps and risks in how customers are handled have been written down.",
            "The steps that could be automated have been identified.",
        ),
        Level.REPEATABLE: (
            "Every new customer goes through a defined start-up sequence.",
            "Satisfaction or NPS surveys go out on a fixed schedule.",
            "Retrospectives and regular health checks happen before problems surface.",
        ),
        Level.MEASURABLE: (
            "Accounts are run with iterative, adaptive routines that are prescribed.",
            "Routine steps are precise enough to be automated, and most of them are.",
            "Processes are revised on the strength of measured results.",
        ),
        Level.OPTIMIZED: (
            "People in several roles propose and make process improvements.",
            "New ideas are tried with customers and kept when they work.",
            "The processes aim at growing accounts, not only at keeping them.",
        ),
    },
    Area.DATA: {
        Level.HEROIC: (
            "A list of current customers exists somewhere.",
            "Contract terms can be found for most accounts, even if it takes digging.",
            "Each account has at least one contact on record.",
        ),
        Level.MANAGED: (
            "Customer records have been cleaned and brought into one central place.",
            "Accounts, contacts and contracts are shared with the other teams.",
            "Every account has a current champion or power user on record.",
        ),
        Level.REPEATABLE: (
            "Every account's renewal date is recorded and visible.",
            "Product usage is tracked for each account.",
            "Time spent is logged against activities, so capacity can be planned.",
        ),
        Level.MEASURABLE: (
            "The data is clean and every team that needs it can see it.",
            "Anyone can report on any measure by any dimension, such as revenue by tier.",
            "Revenue and the effort per customer or tier are forecast from the data.",
        ),
        Level.OPTIMIZED: (
            "The data tracks revenue goals that the whole company shares.",
            "The data is used to spot opportunities before the customer asks.",
            "Outcome data shows the return each customer gets, as evidence of value.",
        ),
    },
    Area.TECHNOLOGY: {
        Level.HEROIC: (
            "Customers are tracked in general tools such as spreadsheets or the CRM.",
            "The people who manage customers can reach the tools that hold their notes.",
            "Account notes are kept electronically rather than only in memory.",
        ),
        Level.MANAGED: (
            "A single platform built for customer success has been chosen and bought.",
            "The platform is being rolled out to the team.",
            "Automation is an explicit part of the plan for the platform.",
        ),
        Level.REPEATABLE: (
            "The customer success platform is integrated with the CRM.",
            "Newly won deals reach the platform on their own and start automated onboarding.",
            "Health scores built from surveys and usage raise alerts for troubled accounts.",
        ),
        Level.MEASURABLE: (
            "Everyone who works with customers uses the platform fully.",
            "Routine activities run automatically from the platform.",
            "Reports and forecasts come out of the platform with no manual assembly.",
        ),
        Level.OPTIMIZED: (
            "The tools are tuned continuously as the processes evolve.",
            "The platform supports specialized roles and their own workflows.",
            "The tools help the team deploy solutions that raise customer adoption.",
        ),
    },
    Area.ORGANIZATION: {
        Level.HEROIC: (
            "Somebody is responsible for customers, even if success and support are mixed.",
            "Renewals have an owner, even an informal one.",
            "Leaders know whom to ask about a given customer.",
        ),
        Level.MANAGED: (
            "Leaders accept that the current approach does not work and must change.",
            "A customer success team is starting to take shape.",
            "The headcount needed to cover the accounts properly has been estimated.",
        ),
        Level.REPEATABLE: (
            "At least one or two people are dedicated to customer success alone.",
            "High-touch customers are covered first by dedicated CSMs.",
            "Customer success is a function separate from support.",
        ),
        Level.MEASURABLE: (
            "Hiring keeps pace with new accounts because the effort per account is known.",
            "Management steers the team with reports rather than anecdotes.",
            "Paid service levels are offered as part of the customer success offering.",
        ),
        Level.OPTIMIZED: (
            "Teams across the company share recurring-revenue goals.",
            "Customer success is expected to grow revenue and push churn below zero.",
            "Specialist roles or groups exist within customer success.",
        ),
    },
}


def _to_indicators(value: object) -> tuple[Indicator, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidValue("indicators", value, "an iterable of Indicator")
    return tuple(value)


@attrs.frozen(slots=True)
class Questionnaire:
    """A set of indicators covering every area and level.

    The definition is checked when it is built: every item is an `Indicator`, ids
    are unique, and every (area, level) cell has at least one indicator.

    Attributes:
        indicators: The indicators, in a stable order.

    Examples:
        >>> from stars.maturity import Area, Level, default_questionnaire
        >>> q = default_questionnaire()
        >>> len(q.indicators)
        75
        >>> [i.id for i in q.cell(Area.DATA, Level.MANAGED)]
        ['data.managed.1', 'data.managed.2', 'data.managed.3']
    """

    indicators: tuple[Indicator, ...] = attrs.field(converter=_to_indicators)

    def __attrs_post_init__(self) -> None:
        seen: set[str] = set()
        for item in self.indicators:
            if not isinstance(item, Indicator):
                raise InvalidValue("indicators", item, "an Indicator")
            if item.id in seen:
                raise InvalidDefinition(f"indicator id {item.id!r} appears more than once")
            seen.add(item.id)
        cells = {(i.area, i.level) for i in self.indicators}
        empty = [f"{a}/{lv}" for a in Area for lv in Level if (a, lv) not in cells]
        if empty:
            raise InvalidDefinition("no indicator for " + ", ".join(empty))

    @property
    def ids(self) -> tuple[str, ...]:
        """The indicator ids, in order.

        Examples:
            >>> from stars.maturity import default_questionnaire
            >>> default_questionnaire().ids[:2]
            ('skill.heroic.1', 'skill.heroic.2')
        """
        return tuple(i.id for i in self.indicators)

    def get(self, indicator_id: str) -> Indicator:
        """The indicator with this id.

        Raises:
            UnknownName: If no indicator has that id.

        Examples:
            >>> from stars.maturity import default_questionnaire
            >>> default_questionnaire().get("process.repeatable.2").level
            <Level.REPEATABLE: 'repeatable'>
        """
        for item in self.indicators:
            if item.id == indicator_id:
                return item
        raise UnknownName("indicator", indicator_id, self.ids)

    def cell(self, area: Area | str, level: Level | str) -> tuple[Indicator, ...]:
        """The indicators of one area at one level.

        Examples:
            >>> from stars.maturity import default_questionnaire
            >>> len(default_questionnaire().cell("skill", "optimized"))
            3
        """
        a, lv = _area(area), _to_level(level)
        return tuple(i for i in self.indicators if i.area is a and i.level is lv)

    def assess(
        self,
        answers: object,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        missing: MissingAnswers | str = MissingAnswers.REFUSE,
        ignore_columns: Iterable[str] = (),
    ) -> MaturityReport:
        """Assess maturity from answers.

        Args:
            answers: One respondent's answers as a mapping of indicator id to answer
                (``"yes"``/``"partly"``/``"no"``, 1/0.5/0 or `Answer`); several
                respondents as a sequence of such mappings; or a DataFrame (polars,
                pandas, pyarrow, through narwhals) with one row per respondent and one
                column per indicator id. Several respondents are averaged per indicator
                and their disagreement is reported. A null cell in a frame, or an id left
                out of one respondent's mapping, means that respondent did not answer.
            threshold: The mean score (0 to 1, above 0) a level's indicators need for the
                level to count.
            missing: ``REFUSE`` (default) raises when an indicator has no answer at all;
                ``COUNT_AS_NO`` scores it 0 and lists it in `MaturityReport.missing`.
            ignore_columns: Frame columns that are not indicators (e.g. a respondent name).

        Returns:
            The report.

        Raises:
            UnknownName: An answer names an indicator the questionnaire does not have.
            InvalidValue: An answer is not yes/partly/no, the threshold is out of range,
                or answers are missing under ``REFUSE``.

        Examples:
            >>> from stars.maturity import default_questionnaire
            >>> q = default_questionnaire()
            >>> team = [{i: "yes" for i in q.ids}, {i: "partly" for i in q.ids}]
            >>> r = q.assess(team)
            >>> r.respondents, r.answers["data.optimized.1"], r.overall.value
            (2, 0.75, 'optimized')
            >>> q.assess({"data.gold.1": "yes"})
            Traceback (most recent call last):
            ...
            stars.errors.UnknownName: unknown indicator 'data.gold.1'; known: ...
        """
        limit = v.number("threshold", threshold, 0, 1)
        if limit <= 0:
            raise InvalidValue("threshold", threshold, "a number above 0 and at most 1")
        policy = _missing_policy(missing)
        if isinstance(answers, Mapping):
            stats = self._from_mappings([answers])
        elif isinstance(answers, Sequence) and not isinstance(answers, str | bytes):
            if not all(isinstance(a, Mapping) for a in answers):
                raise InvalidValue(
                    "answers", answers, "a mapping, a sequence of mappings, or a DataFrame"
                )
            stats = self._from_mappings(list(answers))
        else:
            stats = self._from_frame(answers, frozenset(ignore_columns))
        return self._report(stats, limit, policy)

    # -- internals -------------------------------------------------------------------
    def _known(self, ids: Iterable[object]) -> None:
        known = set(self.ids)
        for key in ids:
            if not isinstance(key, str):
                raise InvalidValue("answers key", key, "an indicator id (a string)")
            if key not in known:
                raise UnknownName("indicator", key, self.ids)

    def _from_mappings(self, rows: Sequence[Mapping[Any, Any]]) -> _Stats:
        for row in rows:
            self._known(row.keys())
        parsed = [{k: Answer.parse(x, k).value for k, x in row.items()} for row in rows]
        means: dict[str, float] = {}
        spread: dict[str, float] = {}
        split: list[str] = []
        for iid in self.ids:
            values = [row[iid] for row in parsed if iid in row]
            if not values:
                continue
            mean = sum(values) / len(values)
            means[iid] = mean
            if len(rows) > 1:
                spread[iid] = math.sqrt(sum((x - mean) ** 2 for x in values) / len(values))
                if min(values) == 0.0 and max(values) == 1.0:
                    split.append(iid)
        return _Stats(means, spread, tuple(split), len(rows))

    def _from_frame(self, frame: object, ignore: frozenset[str]) -> _Stats:
        nw = _narwhals()
        try:
            df = nw.from_native(frame, eager_only=True)
        except TypeError:
            raise InvalidValue(
                "answers", type(frame).__name__, "a mapping, a sequence of mappings, or a DataFrame"
            ) from None
        columns = [c for c in df.columns if c not in ignore]
        self._known(columns)
        schema = df.schema
        scored: dict[str, Any] = {}
        invalid: dict[str, Any] = {}
        for col in columns:
            dtype = schema[col]
            raw = nw.col(col)
            if dtype == nw.String:
                word = raw.str.strip_chars().str.to_lowercase()
                invalid[col] = ~word.is_in(list(_ANSWER_WORDS)) & ~raw.is_null()
                scored[col] = nw.when(~raw.is_null()).then(
                    (word == "yes").cast(nw.Float64) + (word == "partly").cast(nw.Float64) * 0.5
                )
            elif dtype.is_numeric():
                number = raw.cast(nw.Float64)
                invalid[col] = ~number.is_in([0.0, 0.5, 1.0]) & ~raw.is_null()
                scored[col] = number
            elif int(df.select(raw.null_count()).item(0, 0)) == df.shape[0]:
                # an all-null column has no type of its own: nobody answered
                invalid[col] = raw.is_null() & ~raw.is_null()
                scored[col] = raw.cast(nw.Float64)
            else:
                raise InvalidValue(col, str(dtype), "a column of 'yes'/'partly'/'no' or 1/0.5/0")
        rows = int(df.shape[0])
        if not columns or rows == 0:
            return _Stats({}, {}, (), rows)
        counts = df.select([invalid[c].cast(nw.Int64).sum().alias(c) for c in columns]).row(0)
        for col, count in zip(columns, counts, strict=True):
            if count:
                raise InvalidValue(col, df.filter(invalid[col]).item(0, col), _ANSWER_EXPECTED)
        aggs = []
        for i, col in enumerate(columns):
            s = scored[col]
            aggs += [
                s.mean().alias(f"{i}m"),
                s.std(ddof=0).alias(f"{i}s"),
                s.min().alias(f"{i}lo"),
                s.max().alias(f"{i}hi"),
            ]
        values = df.select(aggs).row(0)
        means: dict[str, float] = {}
        spread: dict[str, float] = {}
        split: list[str] = []
        for i, col in enumerate(columns):
            mean, sd, lo, hi = values[4 * i : 4 * i + 4]
            if mean is None or math.isnan(mean):
                continue
            means[col] = float(mean)
            if rows > 1:
                spread[col] = float(sd)
                if float(lo) == 0.0 and float(hi) == 1.0:
                    split.append(col)
        order = {iid: n for n, iid in enumerate(self.ids)}
        split.sort(key=order.__getitem__)
        return _Stats(means, spread, tuple(split), rows)

    def _report(self, stats: _Stats, threshold: float, policy: MissingAnswers) -> MaturityReport:
        absent = tuple(i for i in self.ids if i not in stats.means)
        if absent and policy is MissingAnswers.REFUSE:
            raise InvalidValue(
                "answers",
                list(absent[:3]) + (["..."] if len(absent) > 3 else []),
                "an answer for every indicator",
                hint=f"{len(absent)} unanswered; pass missing='count_as_no' to score them as no",
            )
        scores = {i: stats.means.get(i, 0.0) for i in self.ids}
        results = tuple(self._area_result(a, scores, threshold) for a in Area)
        return MaturityReport(
            areas=results,
            threshold=threshold,
            answers=scores,
            missing=absent,
            respondents=stats.respondents,
            spread=stats.spread,
            disagreements=stats.disagreements,
        )

    def _area_result(self, area: Area, scores: Mapping[str, float], threshold: float) -> AreaResult:
        means: dict[str, float] = {}
        for lv in Level:
            items = self.cell(area, lv)
            means[lv.value] = sum(scores[i.id] for i in items) / len(items)
        held = Level.HEROIC
        for lv in _LEVEL_ORDER[1:]:
            if means[lv.value] >= threshold:
                held = lv
            else:
                break
        above = held.next
        if above is None:
            steps: tuple[Indicator, ...] = ()
            gap = 0.0
        else:
            todo = [i for i in self.cell(area, above) if scores[i.id] < 1.0]
            steps = tuple(sorted(todo, key=lambda i: scores[i.id]))
            gap = max(0.0, threshold - means[above.value])
        weak = tuple(
            i
            for lv in _LEVEL_ORDER[1 : held.rank]
            for i in self.cell(area, lv)
            if scores[i.id] < 1.0
        )
        return AreaResult(area, held, means, gap, steps, weak)


@attrs.frozen(slots=True)
class _Stats:
    means: dict[str, float]
    spread: dict[str, float]
    disagreements: tuple[str, ...]
    respondents: int


def _missing_policy(value: object) -> MissingAnswers:
    if isinstance(value, MissingAnswers):
        return value
    if isinstance(value, str):
        try:
            return MissingAnswers(value)
        except ValueError:
            pass
    raise InvalidValue("missing", value, "'refuse' or 'count_as_no'")


def _narwhals() -> Any:
    try:
        import narwhals.stable.v1 as nw
    except ImportError:  # pragma: no cover - narwhals ships with the frames extra
        raise MissingDependency("narwhals", "frames") from None
    return nw


def _as_tuple(value: object) -> Any:
    # Make a tuple of any non-string iterable; leave anything else for the validator,
    # which names the field in its error.
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping):
        return tuple(value)
    return value


def _as_dict(value: object) -> Any:
    return dict(value) if isinstance(value, Mapping) else value


def _check_scores(instance: Any, attribute: Any, value: Any) -> None:
    for key, x in v.number_mapping(attribute.name, value).items():
        v.number(f"{attribute.name}[{key!r}]", x, 0, 1)


def _check_ids(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple):
        raise InvalidValue(attribute.name, value, "a sequence of indicator ids")
    for item in value:
        v.text(attribute.name, item)


def _check_indicators(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple):
        raise InvalidValue(attribute.name, value, "a sequence of Indicator")
    for item in value:
        if not isinstance(item, Indicator):
            raise InvalidValue(attribute.name, item, "an Indicator")


_unit = v.field(v.number, 0, 1)


@attrs.frozen(slots=True)
class AreaResult:
    """The assessment of one area.

    Attributes:
        area: The area.
        level: The highest level that counts (every level up to it reaches the threshold).
        scores: The mean score (0 to 1) of each level's indicators, keyed by level name.
        gap: How far the next level's mean falls short of the threshold (0 at the top).
        next_steps: The next level's indicators not yet fully met, weakest first: doing
            these moves the area up one level.
        weak_spots: Indicators of the levels already held (above ``HEROIC``) that are not
            fully met.

    Examples:
        >>> from stars.maturity import Area, assess, default_questionnaire
        >>> q = default_questionnaire()
        >>> answers = {i: "yes" for i in q.ids if ".heroic." in i or ".managed." in i}
        >>> result = assess(answers, missing="count_as_no").area(Area.PROCESS)
        >>> result.level.value, result.gap, len(result.next_steps)
        ('managed', 0.67, 3)
    """

    area: Area = attrs.field(converter=_area)
    level: Level = attrs.field(converter=_to_level)
    scores: Mapping[str, float] = attrs.field(
        converter=_as_dict, validator=_check_scores, hash=False
    )
    gap: float = attrs.field(validator=_unit)
    next_steps: tuple[Indicator, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_check_indicators
    )
    weak_spots: tuple[Indicator, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_check_indicators
    )

    @property
    def next_level(self) -> Level | None:
        """The level this area would reach next, or ``None`` at ``OPTIMIZED``.

        Examples:
            >>> from stars.maturity import AreaResult
            >>> AreaResult("data", "managed", {}, 0.2).next_level
            <Level.REPEATABLE: 'repeatable'>
        """
        return self.level.next


def _results(value: object) -> tuple[AreaResult, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValue("areas", value, "one AreaResult per area")
    out = tuple(value)
    if [r.area if isinstance(r, AreaResult) else r for r in out] != list(Area):
        raise InvalidValue("areas", value, "one AreaResult per area, in Area order")
    return out


_count = v.field(v.number, 0, None, integer=True)


@attrs.frozen(slots=True)
class MaturityReport:
    """The result of a maturity assessment.

    Attributes:
        areas: One `AreaResult` per area, in `Area` order.
        threshold: The mean a level's indicators needed for the level to count.
        answers: The score (0 to 1) used for every indicator; the mean over respondents.
        missing: Indicators nobody answered (scored 0 under ``COUNT_AS_NO``).
        respondents: How many respondents were aggregated.
        spread: Standard deviation of the respondents' scores per indicator (several
            respondents only).
        disagreements: Indicators some respondents answered yes and others no.

    Examples:
        >>> from stars.maturity import Area, assess, default_questionnaire
        >>> q = default_questionnaire()
        >>> answers = {i: "yes" for i in q.ids}
        >>> answers.update({"data.managed.1": "no", "data.managed.2": "no"})
        >>> report = assess(answers)
        >>> report.overall.value, report.weakest
        ('heroic', (<Area.DATA: 'data'>,))
        >>> report.levels[Area.SKILL].value
        'optimized'
    """

    areas: tuple[AreaResult, ...] = attrs.field(converter=_results)
    threshold: float = attrs.field(validator=_unit)
    answers: Mapping[str, float] = attrs.field(
        factory=dict, converter=_as_dict, validator=_check_scores, hash=False
    )
    missing: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple, validator=_check_ids)
    respondents: int = attrs.field(default=1, validator=_count)
    spread: Mapping[str, float] = attrs.field(
        factory=dict, converter=_as_dict, validator=_check_scores, hash=False
    )
    disagreements: tuple[str, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_check_ids
    )

    @property
    def levels(self) -> dict[Area, Level]:
        """Each area's level.

        Examples:
            >>> from stars.maturity import assess, default_questionnaire
            >>> r = assess({i: "no" for i in default_questionnaire().ids})
            >>> set(r.levels.values())
            {<Level.HEROIC: 'heroic'>}
        """
        return {r.area: r.level for r in self.areas}

    @property
    def overall(self) -> Level:
        """The overall level: the level of the weakest area.

        Examples:
            >>> from stars.maturity import assess, default_questionnaire
            >>> assess({i: "yes" for i in default_questionnaire().ids}).overall.value
            'optimized'
        """
        return min(r.level for r in self.areas)

    @property
    def weakest(self) -> tuple[Area, ...]:
        """The areas at the overall level (the ones holding it down).

        Examples:
            >>> from stars.maturity import assess, default_questionnaire
            >>> len(assess({i: "yes" for i in default_questionnaire().ids}).weakest)
            5
        """
        low = self.overall
        return tuple(r.area for r in self.areas if r.level is low)

    def area(self, area: Area | str) -> AreaResult:
        """The result for one area.

        Examples:
            >>> from stars.maturity import assess, default_questionnaire
            >>> r = assess({i: "yes" for i in default_questionnaire().ids})
            >>> r.area("skill").next_steps
            ()
        """
        wanted = _area(area)
        return next(r for r in self.areas if r.area is wanted)

    def to_markdown(self) -> str:
        """The report as Markdown: levels and scores, next steps, disagreements.

        Examples:
            >>> from stars.maturity import assess, default_questionnaire
            >>> r = assess({i: "yes" for i in default_questionnaire().ids})
            >>> print(r.to_markdown().splitlines()[2])
            Overall level: **optimized** (weakest: skill, process, data, technology, organization).
        """
        lines = [
            "# Customer-success maturity",
            "",
            f"Overall level: **{self.overall.value}** (weakest: "
            + ", ".join(a.value for a in self.weakest)
            + ").",
            f"Threshold {self.threshold:.2f}; respondents {self.respondents}.",
            "",
            "| area | level | " + " | ".join(lv.value for lv in Level) + " |",
            "|---|---|" + "---:|" * len(Level),
        ]
        for r in self.areas:
            cells = " | ".join(f"{r.scores.get(lv.value, 0.0):.2f}" for lv in Level)
            lines.append(f"| {r.area.value} | {r.level.value} | {cells} |")
        lines += ["", "## Next steps", ""]
        for r in self.areas:
            if r.next_level is None:
                lines.append(f"- **{r.area.value}**: at the top level; keep it there.")
                continue
            lines.append(
                f"- **{r.area.value}** ({r.level.value} → {r.next_level.value}, gap {r.gap:.2f}):"
            )
            for ind in r.next_steps:
                now = self.answers.get(ind.id, 0.0)
                lines.append(f"    - `{ind.id}` {ind.statement} (now {now:.2f})")
        if self.missing:
            lines += ["", "Unanswered (scored as no): " + ", ".join(self.missing)]
        if self.disagreements:
            lines += ["", "## Disagreement", ""]
            for iid in self.disagreements:
                sd = self.spread.get(iid, 0.0)
                lines.append(f"- `{iid}`: answers range from no to yes (sd {sd:.2f})")
        return "\n".join(lines) + "\n"

    def _repr_html_(self) -> str:
        from stars._html import table

        rows = [
            (
                r.area.value,
                r.level.value,
                r.next_level.value if r.next_level else None,
                f"{r.gap:.2f}",
                ", ".join(i.id for i in r.next_steps),
            )
            for r in self.areas
        ]
        caption = f"Maturity: {self.overall.value} overall ({self.respondents} respondents)"
        return table(("area", "level", "next", "gap", "next steps"), rows, caption)


_DEFAULT: Final = Questionnaire(
    tuple(
        Indicator(f"{area.value}.{level.value}.{n}", area, level, text)
        for area, by_level in _STATEMENTS.items()
        for level, statements in by_level.items()
        for n, text in enumerate(statements, 1)
    )
)


def default_questionnaire() -> Questionnaire:
    """The built-in questionnaire: three indicators for every area and level.

    Examples:
        >>> from stars.maturity import default_questionnaire
        >>> default_questionnaire().get("data.measurable.2").statement.split(" ")[0]
        'Anyone'
    """
    return _DEFAULT


def assess(
    answers: object,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    missing: MissingAnswers | str = MissingAnswers.REFUSE,
    ignore_columns: Iterable[str] = (),
) -> MaturityReport:
    """Assess answers with the default questionnaire (see `Questionnaire.assess`).

    Examples:
        >>> from stars.maturity import assess
        >>> assess({"skill.managed.1": "yes"}, missing="count_as_no").overall.value
        'heroic'
        >>> assess({"skill.managed.1": "yes"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: answers: got [...], expected an answer for every indicator (...)
    """
    return _DEFAULT.assess(
        answers, threshold=threshold, missing=missing, ignore_columns=ignore_columns
    )


def load_answers(path: str | PathLike[str]) -> dict[str, float] | list[dict[str, float]]:
    """Read answers from a JSON or YAML file.

    The file holds one mapping of indicator id to answer, or a list of such mappings
    (one per respondent). YAML needs the ``yaml`` extra (PyYAML); since YAML reads a
    bare ``yes`` or ``no`` as a boolean, booleans in a YAML file count as yes and no.

    Args:
        path: A ``.json``, ``.yaml`` or ``.yml`` file.

    Returns:
        The answers as scores (1, 0.5, 0), ready for `assess`.

    Raises:
        InvalidValue: The file type is not supported, its content cannot be parsed, or
            it does not hold mappings of ids to yes/partly/no answers.
        MissingDependency: A YAML file was given and PyYAML is not installed.

    Examples:
        >>> import json, tempfile, pathlib
        >>> from stars.maturity import load_answers
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     p = pathlib.Path(tmp) / "team.json"
        ...     _ = p.write_text(json.dumps({"data.managed.1": "partly"}))
        ...     load_answers(p)
        {'data.managed.1': 0.5}
    """
    where = Path(path)
    suffix = where.suffix.lower()
    text = where.read_text(encoding="utf-8")
    content: object
    if suffix == ".json":
        try:
            content = json.loads(text)
        except ValueError as err:
            raise InvalidValue("path", str(where), "a valid JSON file", hint=str(err)) from None
    elif suffix in (".yaml", ".yml"):
        try:
            yaml: Any = importlib.import_module("yaml")
        except ImportError:
            raise MissingDependency("pyyaml", "yaml") from None
        try:
            content = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise InvalidValue("path", str(where), "a valid YAML file", hint=str(err)) from None
    else:
        raise InvalidValue("path", str(where), "a .json, .yaml or .yml file")
    if isinstance(content, Mapping):
        return _parse_row(content, yaml_bools=suffix != ".json")
    if isinstance(content, list) and all(isinstance(x, Mapping) for x in content):
        return [_parse_row(x, yaml_bools=suffix != ".json") for x in content]
    raise InvalidValue(str(where), type(content).__name__, "a mapping of ids to answers, or a list")


def _parse_row(row: Mapping[Any, Any], *, yaml_bools: bool) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in row.items():
        if not isinstance(key, str):
            raise InvalidValue("answers key", key, "an indicator id (a string)")
        if yaml_bools and isinstance(value, bool):
            # YAML 1.1 reads a bare yes / no as true / false; take them as meant.
            value = Answer.YES if value else Answer.NO
        out[key] = Answer.parse(value, key).value
    return out


@attrs.frozen(slots=True)
class AreaChange:
    """How one area moved between two assessments.

    Attributes:
        area: The area.
        before: Its level in the earlier assessment.
        after: Its level in the later one.
        raised: Indicators whose score went up.
        lowered: Indicators whose score went down.

    Examples:
        >>> from stars.maturity import AreaChange
        >>> c = AreaChange("data", "managed", "measurable")
        >>> c.delta, c.moved
        (2, True)
    """

    area: Area = attrs.field(converter=_area)
    before: Level = attrs.field(converter=_to_level)
    after: Level = attrs.field(converter=_to_level)
    raised: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple, validator=_check_ids)
    lowered: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple, validator=_check_ids)

    @property
    def delta(self) -> int:
        """Levels gained (negative when the area slipped).

        Examples:
            >>> from stars.maturity import AreaChange
            >>> AreaChange("skill", "repeatable", "managed").delta
            -1
        """
        return self.after.rank - self.before.rank

    @property
    def moved(self) -> bool:
        """Whether the area's level changed.

        Examples:
            >>> from stars.maturity import AreaChange
            >>> AreaChange("skill", "managed", "managed", raised=("skill.repeatable.1",)).moved
            False
        """
        return self.delta != 0


def _changes(value: object) -> tuple[AreaChange, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValue("changes", value, "one AreaChange per area")
    out = tuple(value)
    if [c.area if isinstance(c, AreaChange) else c for c in out] != list(Area):
        raise InvalidValue("changes", value, "one AreaChange per area, in Area order")
    return out


@attrs.frozen(slots=True)
class MaturityComparison:
    """What moved between two maturity assessments.

    Attributes:
        changes: One `AreaChange` per area, in `Area` order.
        overall_before: The overall level before.
        overall_after: The overall level after.

    Examples:
        >>> from stars.maturity import assess, compare, default_questionnaire
        >>> ids = default_questionnaire().ids
        >>> before = assess({i: "no" for i in ids})
        >>> after = assess({i: "yes" if ".managed." in i else "no" for i in ids})
        >>> diff = compare(before, after)
        >>> diff.overall_before.value, diff.overall_after.value
        ('heroic', 'managed')
        >>> len(diff.improved), diff.regressed
        (5, ())
    """

    changes: tuple[AreaChange, ...] = attrs.field(converter=_changes)
    overall_before: Level = attrs.field(converter=_to_level)
    overall_after: Level = attrs.field(converter=_to_level)

    @property
    def improved(self) -> tuple[Area, ...]:
        """Areas that went up at least one level.

        Examples:
            >>> from stars.maturity import assess, compare, default_questionnaire
            >>> r = assess({i: "yes" for i in default_questionnaire().ids})
            >>> compare(r, r).improved
            ()
        """
        return tuple(c.area for c in self.changes if c.delta > 0)

    @property
    def regressed(self) -> tuple[Area, ...]:
        """Areas that went down at least one level.

        Examples:
            >>> from stars.maturity import assess, compare, default_questionnaire
            >>> ids = default_questionnaire().ids
            >>> top = assess({i: "yes" for i in ids})
            >>> low = assess({i: "no" if i.startswith("data.") else "yes" for i in ids})
            >>> compare(top, low).regressed
            (<Area.DATA: 'data'>,)
        """
        return tuple(c.area for c in self.changes if c.delta < 0)

    def to_markdown(self) -> str:
        """The comparison as a Markdown table.

        Examples:
            >>> from stars.maturity import assess, compare, default_questionnaire
            >>> r = assess({i: "no" for i in default_questionnaire().ids})
            >>> print(compare(r, r).to_markdown().splitlines()[0])
            Overall: heroic → heroic
        """
        lines = [
            f"Overall: {self.overall_before.value} → {self.overall_after.value}",
            "",
            "| area | before | after | change | raised | lowered |",
            "|---|---|---|---:|---:|---:|",
        ]
        for c in self.changes:
            lines.append(
                f"| {c.area.value} | {c.before.value} | {c.after.value} | {c.delta:+d}"
                f" | {len(c.raised)} | {len(c.lowered)} |"
            )
        return "\n".join(lines) + "\n"


def compare(before: MaturityReport, after: MaturityReport) -> MaturityComparison:
    """Compare two assessments: each area's level before and after, and what moved.

    Both reports must use the same threshold, or their levels would not be comparable.

    Args:
        before: The earlier report.
        after: The later report.

    Returns:
        The per-area changes and the overall levels.

    Raises:
        InvalidValue: An argument is not a report, or the thresholds differ.

    Examples:
        >>> from stars.maturity import assess, compare, default_questionnaire
        >>> ids = default_questionnaire().ids
        >>> a = assess({i: "no" for i in ids})
        >>> b = assess({i: "yes" if i.startswith("skill.") else "no" for i in ids})
        >>> change = compare(a, b).changes[0]
        >>> change.area.value, change.after.value, len(change.raised)
        ('skill', 'optimized', 15)
        >>> compare(a, assess({i: "no" for i in ids}, threshold=0.9))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: after.threshold: got 0.9, expected the same threshold as ...
    """
    for name, report in (("before", before), ("after", after)):
        if not isinstance(report, MaturityReport):
            raise InvalidValue(name, report, "a MaturityReport")
    if before.threshold != after.threshold:
        raise InvalidValue(
            "after.threshold",
            after.threshold,
            f"the same threshold as before ({before.threshold:g})",
        )
    changes = []
    for b, a in zip(before.areas, after.areas, strict=True):
        prefix = f"{b.area.value}."
        common = [i for i in before.answers if i.startswith(prefix) and i in after.answers]
        changes.append(
            AreaChange(
                b.area,
                b.level,
                a.level,
                raised=tuple(i for i in common if after.answers[i] > before.answers[i]),
                lowered=tuple(i for i in common if after.answers[i] < before.answers[i]),
            )
        )
    return MaturityComparison(tuple(changes), before.overall, after.overall)


def plot_radar(
    report: MaturityReport,
    *others: MaturityReport,
    labels: Sequence[str] | None = None,
    title: str = "Customer-success maturity",
) -> Figure:
    r"""Draw each area's level on a radar chart; overlay further reports to compare.

    Needs the ``plot`` extra (matplotlib). The figure is built without pyplot, so it
    works on servers and in threads; show it in a notebook or save it with
    ``fig.savefig``.

    Args:
        report: The report to draw.
        *others: More reports drawn on the same axes (e.g. a later assessment).
        labels: A legend label per report.
        title: The chart title.

    Returns:
        A `matplotlib.figure.Figure`.

    Raises:
        MissingDependency: matplotlib is not installed.
        InvalidValue: An argument is not a report, or ``labels`` has the wrong length.

    Examples:
        >>> import io
        >>> from stars.maturity import assess, default_questionnaire, plot_radar
        >>> r = assess({i: "partly" for i in default_questionnaire().ids})
        >>> fig = plot_radar(r)
        >>> buf = io.BytesIO()
        >>> fig.savefig(buf, format="png")
        >>> buf.getvalue()[:4]
        b'\x89PNG'
    """
    reports = (report, *others)
    for n, item in enumerate(reports):
        if not isinstance(item, MaturityReport):
            raise InvalidValue(f"reports[{n}]", item, "a MaturityReport")
    names = (
        list(labels) if labels is not None else [f"assessment {n + 1}" for n in range(len(reports))]
    )
    if len(names) != len(reports):
        raise InvalidValue("labels", labels, f"{len(reports)} labels, one per report")
    from stars._figure import figure

    fig = figure(6, 6)  # shows itself in a notebook; MissingDependency without matplotlib
    ax = fig.add_subplot(projection="polar")
    count = len(Area)
    angles = [2 * math.pi * k / count for k in range(count)]
    for item, name in zip(reports, names, strict=True):
        ranks = [float(r.level.rank) for r in item.areas]
        ax.plot([*angles, angles[0]], [*ranks, ranks[0]], marker="o", label=name)
        ax.fill([*angles, angles[0]], [*ranks, ranks[0]], alpha=0.15)
    ax.set_xticks(angles)
    ax.set_xticklabels([a.value for a in Area])
    ax.set_ylim(0, len(Level))
    ax.set_yticks([lv.rank for lv in Level])
    ax.set_yticklabels([lv.value for lv in Level], fontsize=7)
    ax.set_title(title)
    if len(reports) > 1 or labels is not None:
        ax.legend(loc="lower right", fontsize=8)
    return fig
