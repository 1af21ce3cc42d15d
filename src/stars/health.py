"""Health scoring: weighted measures rolled up into a 0-100 score and a band.

A `Scorecard` is plain data: a tuple of `Measure` objects, each with a
weight, an explicit `Direction` and a scoring rule (`Linear` or
`Steps`) that turns the raw value into 0-100 points. Scoring one account gives
a frozen `HealthScore` that says how much each measure contributed, which
measure costs the most points, and which ones were missing. The same formula runs
over a whole DataFrame in `stars.frames.score`.

Examples:
    >>> from stars.health import Direction, Linear, Measure, Scorecard
    >>> card = Scorecard([
    ...     Measure("adoption", 2, Direction.HIGHER_IS_BETTER, Linear(0.2, 0.8), domain=(0, 1)),
    ...     Measure("open_tickets", 1, Direction.LOWER_IS_BETTER, Linear(0, 10)),
    ... ])
    >>> result = card.score({"adoption": 0.5, "open_tickets": 2})
    >>> round(result.score, 1), result.band.value, result.weakest
    (60.0, 'yellow', 'adoption')
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Final, TypeVar

import attrs

from stars import _scoring
from stars import _validate as v
from stars._html import table
from stars._snapshot import Snapshot
from stars._trend import slope_per_30_days
from stars.bands import Band, BandCutoffs
from stars.errors import InvalidDefinition, InvalidValue, UnknownName

__all__ = [
    "Band",
    "BandCutoffs",
    "Direction",
    "HealthScore",
    "Linear",
    "Measure",
    "MissingPolicy",
    "Scorecard",
    "ScorecardSet",
    "Steps",
    "Trend",
    "TrendDirection",
    "default_scorecard",
    "default_scorecard_set",
    "measures_from",
    "trend",
]

E = TypeVar("E", bound=enum.Enum)

#: The numeric signals of a Snapshot that can feed a scorecard measure of the same name.
_SNAPSHOT_SIGNALS: Final = (
    "adoption",
    "open_tickets",
    "days_since_contact",
    "nps",
    "csat",
    "sentiment",
)


# -- small converters and validators ---------------------------------------------------


def _float_or_keep(value: Any) -> Any:
    # Real numbers (ints, NumPy scalars) become floats; anything else, and an int too large
    # for a float, is left for the validator to name.
    value = v.plain_number(value)
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            return value
    return value


def _total(field: str, weights: list[float]) -> float:
    try:
        return math.fsum(weights)
    except OverflowError:
        raise InvalidValue(field, weights, "weights whose total is a finite number") from None


_finite = v.field(v.number)


def _float_tuple(field: str, value: object) -> tuple[float, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidValue(field, value, "a sequence of numbers")
    return tuple(v.number(f"{field}[{i}]", item) for i, item in enumerate(value))


def _to_thresholds(value: object) -> tuple[float, ...]:
    return _float_tuple("thresholds", value)


def _to_scores(value: object) -> tuple[float, ...]:
    return _float_tuple("scores", value)


def _to_enum(kind: type[E], field: str, value: object) -> E:
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        known = " or ".join(repr(member.value) for member in kind)
        raise InvalidValue(field, value, known) from None


def _to_direction(value: object) -> Direction:
    return _to_enum(Direction, "direction", value)


def _to_policy(value: object) -> MissingPolicy:
    return _to_enum(MissingPolicy, "missing", value)


def _to_band(value: object) -> Band:
    return _to_enum(Band, "band", value)


def _to_trend_direction(value: object) -> TrendDirection:
    return _to_enum(TrendDirection, "direction", value)


# -- directions and rules --------------------------------------------------------------


class Direction(enum.StrEnum):
    """Which way a measure improves. Every measure states it; there is no default.

    Examples:
        >>> from stars.health import Direction
        >>> Direction("lower_is_better") is Direction.LOWER_IS_BETTER
        True
    """

    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


@attrs.frozen(slots=True)
class Linear:
    """A straight line between two bounds, clipped to 0-100.

    With `Direction.HIGHER_IS_BETTER` a value at or below ``lo`` scores 0 and one
    at or above ``hi`` scores 100; with `Direction.LOWER_IS_BETTER` it is the
    other way round. Between the bounds the score moves in proportion.

    Attributes:
        lo: The lower bound (must be below ``hi``).
        hi: The upper bound.

    Examples:
        >>> from stars.health import Direction, Linear
        >>> rule = Linear(0, 50)
        >>> rule.apply(10, Direction.HIGHER_IS_BETTER), rule.apply(10, Direction.LOWER_IS_BETTER)
        (20.0, 80.0)
        >>> Linear(5, 5)
        Traceback (most recent call last):
        ...
        stars.errors.InvalidDefinition: Linear rule needs lo below hi, got lo=5.0, hi=5.0
    """

    lo: float = attrs.field(converter=_float_or_keep, validator=_finite)
    hi: float = attrs.field(converter=_float_or_keep, validator=_finite)

    def __attrs_post_init__(self) -> None:
        if not self.lo < self.hi:
            raise InvalidDefinition(
                f"Linear rule needs lo below hi, got lo={self.lo!r}, hi={self.hi!r}"
            )
        if not math.isfinite(100.0 / (self.hi - self.lo)):
            raise InvalidDefinition(f"Linear rule bounds {self.lo!r}..{self.hi!r} are too close")

    @property
    def worst(self) -> float:
        """The lowest score the rule can give (0).

        Examples:
            >>> from stars.health import Linear
            >>> Linear(0, 1).worst
            0.0
        """
        return 0.0

    def apply(self, value: float, direction: Direction) -> float:
        """Score a finite value (no checks; see `Measure.score` for those).

        Args:
            value: A finite number.
            direction: Which end of the line scores 100.

        Returns:
            The score from 0 to 100.

        Examples:
            >>> from stars.health import Direction, Linear
            >>> Linear(14, 60).apply(90, Direction.LOWER_IS_BETTER)
            0.0
        """
        higher = direction is Direction.HIGHER_IS_BETTER
        points: float = _scoring.linear(_scoring.FLOATS, value, self.lo, self.hi, higher)
        return points


@attrs.frozen(slots=True)
class Steps:
    """Step thresholds: a value gets the score of the step it falls in.

    A value below ``thresholds[0]`` scores ``scores[0]``; a value at or above
    ``thresholds[i]`` (and below the next threshold) scores ``scores[i + 1]``.

    Attributes:
        thresholds: Strictly increasing cut points.
        scores: One score (0-100) per step, one more than there are thresholds.

    Examples:
        >>> from stars.health import Direction, Steps
        >>> rule = Steps((3, 6), (100, 60, 20))
        >>> [rule.apply(x, Direction.LOWER_IS_BETTER) for x in (0, 3, 5, 6, 40)]
        [100.0, 60.0, 60.0, 20.0, 20.0]
        >>> Steps((3, 6), (100, 60))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidDefinition: Steps needs one score more than thresholds, ...
    """

    thresholds: tuple[float, ...] = attrs.field(converter=_to_thresholds)
    scores: tuple[float, ...] = attrs.field(converter=_to_scores)

    def __attrs_post_init__(self) -> None:
        if not self.thresholds:
            raise InvalidDefinition("Steps needs at least one threshold")
        if len(self.scores) != len(self.thresholds) + 1:
            raise InvalidDefinition(
                "Steps needs one score more than thresholds, got "
                f"{len(self.thresholds)} thresholds and {len(self.scores)} scores"
            )
        for before, after in zip(self.thresholds, self.thresholds[1:], strict=False):
            if not before < after:
                raise InvalidDefinition(
                    f"Steps thresholds must increase strictly, got {self.thresholds!r}"
                )
        for i, item in enumerate(self.scores):
            v.number(f"scores[{i}]", item, 0, 100)

    @property
    def worst(self) -> float:
        """The lowest score any step gives.

        Examples:
            >>> from stars.health import Steps
            >>> Steps((1,), (30, 90)).worst
            30.0
        """
        return min(self.scores)

    def apply(self, value: float, direction: Direction) -> float:
        """Score a finite value (no checks; see `Measure.score` for those).

        The scores are explicit, so ``direction`` does not change the result here; the
        `Measure` checks that the scores run the way the direction says.

        Args:
            value: A finite number.
            direction: The measure's direction (unused by the lookup).

        Returns:
            The score of the step the value falls in.

        Examples:
            >>> from stars.health import Direction, Steps
            >>> Steps((0.5,), (0, 100)).apply(0.5, Direction.HIGHER_IS_BETTER)
            100.0
        """
        return _scoring.FLOATS.steps(value, self.thresholds, self.scores)


Rule = Linear | Steps


# -- measures --------------------------------------------------------------------------


def _check_name(instance: Any, attribute: Any, value: Any) -> None:
    v.text(attribute.name, value)
    if value != value.strip():
        raise InvalidValue(attribute.name, value, "a name without leading or trailing spaces")


_check_weight = v.field(v.number, 0)


def _check_rule(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, Linear | Steps):
        raise InvalidValue(attribute.name, value, "a Linear or Steps rule")


def _to_domain(value: object) -> tuple[float | None, float | None] | None:
    if value is None:
        return None
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 2:
        raise InvalidValue("domain", value, "None or a pair (lo, hi); either end may be None")
    lo, hi = (None if end is None else v.number("domain", end) for end in value)
    if lo is not None and hi is not None and lo > hi:
        raise InvalidValue("domain", value, "a pair (lo, hi) with lo at or below hi")
    return (lo, hi)


@attrs.frozen(slots=True)
class Measure:
    """One input of a scorecard: a named value, its weight, and how to score it.

    Attributes:
        name: The measure's name; the key in the values passed to
            `Scorecard.score` and the column name in a DataFrame.
        weight: Relative weight (zero or more); weights are normalised by the scorecard.
        direction: Whether higher or lower raw values are better. Always explicit.
        rule: How the raw value becomes a 0-100 score.
        domain: The values that make sense, as ``(lo, hi)`` (either end may be ``None``);
            a value outside it is refused, never scored.
        group: The group the measure belongs to, when the scorecard weighs groups.

    Examples:
        >>> from stars.health import Direction, Linear, Measure
        >>> m = Measure("adoption", 1, Direction.HIGHER_IS_BETTER, Linear(0, 1), domain=(0, 1))
        >>> m.score(0.25)
        25.0
        >>> m.score(1.5)
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: adoption: got 1.5, expected a number from 0 to 1
        >>> from stars.health import Steps
        >>> rising = Steps((5,), (0, 100))
        >>> Measure("tickets", 1, Direction.LOWER_IS_BETTER, rising)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidDefinition: measure 'tickets' is lower_is_better, so its step ...
    """

    name: str = attrs.field(validator=_check_name)
    weight: float = attrs.field(converter=_float_or_keep, validator=_check_weight)
    direction: Direction = attrs.field(converter=_to_direction)
    rule: Linear | Steps = attrs.field(validator=_check_rule)
    domain: tuple[float | None, float | None] | None = attrs.field(
        default=None, converter=_to_domain
    )
    group: str | None = attrs.field(default=None, validator=v.field(v.text, optional=True))

    def __attrs_post_init__(self) -> None:
        if isinstance(self.rule, Steps):
            pairs = zip(self.rule.scores, self.rule.scores[1:], strict=False)
            higher = self.direction is Direction.HIGHER_IS_BETTER
            if any((a > b) if higher else (a < b) for a, b in pairs):
                way = "fall" if higher else "rise"
                raise InvalidDefinition(
                    f"measure {self.name!r} is {self.direction.value}, so its step scores "
                    f"must not {way}, got {self.rule.scores!r}"
                )

    def check(self, value: object) -> float:
        """Check a raw value: a finite number (not a bool) inside the domain.

        Args:
            value: The raw value.

        Returns:
            The value as a float.

        Raises:
            InvalidValue: Naming the measure and the value.

        Examples:
            >>> from stars.health import Direction, Linear, Measure
            >>> m = Measure("nps", 1, Direction.HIGHER_IS_BETTER, Linear(-50, 50))
            >>> m.check(30)
            30.0
            >>> m.check(float("nan"))
            Traceback (most recent call last):
            ...
            stars.errors.InvalidValue: nps: got nan, expected a finite number
        """
        lo, hi = self.domain if self.domain is not None else (None, None)
        return v.number(self.name, value, lo, hi)

    def score(self, value: object) -> float:
        """Check a raw value and turn it into a 0-100 score.

        Args:
            value: The raw value.

        Returns:
            The measure's score from 0 to 100.

        Raises:
            InvalidValue: If the value is not a finite number inside the domain.

        Examples:
            >>> from stars.health import Direction, Linear, Measure
            >>> m = Measure("days_since_contact", 1, Direction.LOWER_IS_BETTER, Linear(14, 60))
            >>> m.score(37)
            50.0
        """
        return self.rule.apply(self.check(value), self.direction)

    @property
    def worst(self) -> float:
        """The lowest score this measure can give (used for missing values under ``WORST``).

        Examples:
            >>> from stars.health import Direction, Measure, Steps
            >>> Measure("t", 1, Direction.LOWER_IS_BETTER, Steps((3,), (90, 20))).worst
            20.0
        """
        return self.rule.worst


# -- scorecards ------------------------------------------------------------------------


class MissingPolicy(enum.StrEnum):
    """What a scorecard does when a measure has no value.

    ``REDISTRIBUTE`` leaves the measure out and shares its weight among the measures
    that are present, in proportion to their weights. ``WORST`` scores it as low as
    its rule allows. ``REFUSE`` raises `InvalidValue`.

    Examples:
        >>> from stars.health import MissingPolicy
        >>> MissingPolicy("worst")
        <MissingPolicy.WORST: 'worst'>
    """

    REDISTRIBUTE = "redistribute"
    WORST = "worst"
    REFUSE = "refuse"


def _to_measures(value: object) -> tuple[Measure, ...]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise InvalidValue("measures", value, "a sequence of Measure objects")
    out = tuple(value)
    for i, item in enumerate(out):
        if not isinstance(item, Measure):
            raise InvalidValue(f"measures[{i}]", item, "a Measure")
    return out


def _to_groups(value: object) -> dict[str, float]:
    if value is None:
        return {}
    out = v.number_mapping("groups", value)
    for key, weight in out.items():
        v.number(f"groups[{key!r}]", weight, 0)
    return out


def _check_cutoffs(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, BandCutoffs):
        raise InvalidValue(attribute.name, value, "a BandCutoffs")


@attrs.frozen(slots=True)
class Scorecard:
    """Weighted measures that roll up into a 0-100 health score and a band.

    The definition is checked when it is built: no measures, a duplicate name, a
    group that is not listed, or weights that are all zero raise at once.

    Weights are normalised. Without groups each measure weighs ``weight / sum``.
    With ``groups`` (group name to weight) every measure names its group, the groups
    share the total by their weights, and the measures share their group's part by
    theirs.

    Attributes:
        measures: The measures, in the order results are reported.
        groups: Optional group weights; when given, every measure must belong to one.
        missing: What to do with a measure that has no value.
        cutoffs: Where the red and green bands start.

    Examples:
        >>> from stars.health import Direction, Linear, Measure, Scorecard
        >>> up = Direction.HIGHER_IS_BETTER
        >>> card = Scorecard(
        ...     [Measure("nps", 1, up, Linear(-50, 50), group="feedback"),
        ...      Measure("csat", 1, up, Linear(50, 90), group="feedback"),
        ...      Measure("adoption", 1, up, Linear(0, 1), group="usage")],
        ...     groups={"feedback": 1, "usage": 3},
        ... )
        >>> card.weights
        {'nps': 0.125, 'csat': 0.125, 'adoption': 0.75}
        >>> Scorecard([])
        Traceback (most recent call last):
        ...
        stars.errors.InvalidDefinition: a scorecard needs at least one measure
    """

    measures: tuple[Measure, ...] = attrs.field(converter=_to_measures)
    groups: Mapping[str, float] = attrs.field(factory=dict, converter=_to_groups, hash=False)
    missing: MissingPolicy = attrs.field(default=MissingPolicy.REDISTRIBUTE, converter=_to_policy)
    cutoffs: BandCutoffs = attrs.field(factory=BandCutoffs, validator=_check_cutoffs)
    _weights: tuple[float, ...] = attrs.field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not self.measures:
            raise InvalidDefinition("a scorecard needs at least one measure")
        seen: set[str] = set()
        for m in self.measures:
            if m.name in seen:
                raise InvalidDefinition(f"measure {m.name!r} appears more than once")
            seen.add(m.name)
        object.__setattr__(self, "_weights", self._normalised())

    def _normalised(self) -> tuple[float, ...]:
        if not self.groups:
            for m in self.measures:
                if m.group is not None:
                    raise UnknownName("group", m.group, ())
            total = _total("weights", [m.weight for m in self.measures])
            if total == 0:
                raise InvalidDefinition("every measure weighs 0; give at least one a weight")
            return tuple(m.weight / total for m in self.measures)
        members: dict[str, float] = dict.fromkeys(self.groups, 0.0)
        for m in self.measures:
            if m.group is None:
                raise InvalidDefinition(
                    f"measure {m.name!r} has no group, but this scorecard weighs groups "
                    f"({', '.join(map(repr, self.groups))})"
                )
            if m.group not in members:
                raise UnknownName("group", m.group, tuple(self.groups))
            members[m.group] += m.weight
        for group, inside in members.items():
            if self.groups[group] > 0 and inside == 0:
                raise InvalidDefinition(
                    f"group {group!r} has weight but no measure with weight in it"
                )
        total = _total("groups", list(self.groups.values()))
        if total == 0:
            raise InvalidDefinition("every group weighs 0; give at least one a weight")
        return tuple(
            0.0
            if members[m.group] == 0  # type: ignore[index]
            else (self.groups[m.group] / total) * (m.weight / members[m.group])  # type: ignore[index]
            for m in self.measures
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The measure names, in order.

        Examples:
            >>> from stars.health import default_scorecard
            >>> default_scorecard().names[:2]
            ('adoption', 'open_tickets')
        """
        return tuple(m.name for m in self.measures)

    @property
    def weights(self) -> dict[str, float]:
        """Each measure's normalised weight (they add up to 1).

        Examples:
            >>> from stars.health import Direction, Linear, Measure, Scorecard
            >>> up = Direction.HIGHER_IS_BETTER
            >>> card = Scorecard([Measure("a", 3, up, Linear(0, 1)),
            ...                   Measure("b", 1, up, Linear(0, 1))])
            >>> card.weights
            {'a': 0.75, 'b': 0.25}
        """
        return dict(zip(self.names, self._weights, strict=True))

    def measure(self, name: str) -> Measure:
        """The measure with this name.

        Args:
            name: A measure name.

        Returns:
            The measure.

        Raises:
            UnknownName: If no measure has that name.

        Examples:
            >>> from stars.health import default_scorecard
            >>> default_scorecard().measure("nps").direction.value
            'higher_is_better'
        """
        for m in self.measures:
            if m.name == name:
                return m
        raise UnknownName("measure", name, self.names)

    def score(self, values: Mapping[str, float | None]) -> HealthScore:
        """Score one account.

        Args:
            values: Raw values by measure name. A name that is absent or maps to
                ``None`` is missing and handled by `missing`.

        Returns:
            The health score with its band, contributions and explanation.

        Raises:
            UnknownName: If a key is not a measure of this scorecard.
            InvalidValue: If a value is not a finite number inside its measure's domain,
                if a measure is missing under ``REFUSE``, or if no measure with weight
                is present under ``REDISTRIBUTE``.

        Examples:
            >>> from stars.health import default_scorecard
            >>> card = default_scorecard()
            >>> card.score({"adoption": 0.9, "nps": 10}).missing
            ('open_tickets', 'days_since_contact', 'csat', 'sentiment')
            >>> card.score({"adoptoin": 0.9})  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            stars.errors.UnknownName: unknown measure 'adoptoin'; did you mean 'adoption'? ...
        """
        if not isinstance(values, Mapping):
            raise InvalidValue("values", values, "a mapping of measure names to numbers or None")
        names = self.names
        for key in values:
            if key not in names:
                raise UnknownName("measure", key, names)
        scores: list[float | None] = []
        for m in self.measures:
            raw = values.get(m.name)
            scores.append(None if raw is None else m.score(raw))
        return self._combine(scores)

    def _combine(self, scores: Sequence[float | None]) -> HealthScore:
        # The arithmetic is stars._scoring's, which stars.frames.score also uses, so a row
        # scored in a DataFrame gives exactly the number scored here.
        names = self.names
        w = self._weights
        missing = tuple(n for n, s in zip(names, scores, strict=True) if s is None)
        if missing and self.missing is MissingPolicy.REFUSE:
            raise InvalidValue(
                missing[0],
                None,
                "a number (this scorecard refuses missing measures)",
                hint="missing: " + ", ".join(missing),
            )
        points = [_scoring.MISSING if s is None else s for s in scores]
        worsts = [m.worst for m in self.measures] if missing else [0.0] * len(points)
        try:
            contributions, share = _scoring.combine(
                _scoring.FLOATS, self.missing, points, points, w, worsts
            )
        except ZeroDivisionError:
            raise InvalidValue(
                "values",
                dict.fromkeys(missing),
                "at least one measure with weight",
                hint="every weighted measure is missing; there is nothing to score",
            ) from None
        weights: list[float]
        measured: dict[str, float]
        if share is not None:
            weights = [0.0 if s is None else wi / share for s, wi in zip(scores, w, strict=True)]
            measured = {n: s for n, s in zip(names, scores, strict=True) if s is not None}
        else:
            weights = list(w)
            measured = dict(
                zip(
                    names,
                    (
                        _scoring.FLOATS.fill(p, m.worst)
                        for p, m in zip(points, self.measures, strict=True)
                    ),
                    strict=True,
                )
            )
        total = _scoring.health_of(_scoring.FLOATS, contributions)
        lost = {
            n: wi * (100.0 - measured[n])
            for n, wi in zip(names, weights, strict=True)
            if n in measured
        }
        worst_loss = max(lost.values(), default=0.0)
        weakest = next((n for n, x in lost.items() if x == worst_loss), None)
        return HealthScore(
            score=total,
            band=self.cutoffs.band_for(total),
            contributions=dict(zip(names, contributions, strict=True)),
            measure_scores=measured,
            weights=dict(zip(names, weights, strict=True)),
            weakest=weakest if worst_loss > 0 else None,
            missing=missing,
        )


# -- results ---------------------------------------------------------------------------


def _to_number_map(value: object) -> dict[str, float]:
    return v.number_mapping("mapping", value)


def _to_names(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValue("missing", value, "a sequence of measure names")
    out = tuple(value)
    for item in out:
        v.text("missing", item)
    return out


_check_score = v.field(v.number, 0, 100)


@attrs.frozen(slots=True)
class HealthScore:
    """The health of one account under one scorecard.

    Attributes:
        score: The overall score, 0 to 100.
        band: The band the score falls in.
        contributions: Points each measure added to ``score`` (they add up to it);
            a measure left out as missing contributes 0.
        measure_scores: Each scored measure's own 0-100 score (a measure counted as
            worst appears with that worst score; one left out does not appear).
        weights: The share of the total each measure carried after missing measures
            were handled (adds up to 1).
        weakest: The measure that costs the most points (``weight * (100 - score)``),
            or ``None`` when nothing is lost.
        missing: The measures that had no value.

    Examples:
        >>> from stars.health import default_scorecard
        >>> hs = default_scorecard().score({"adoption": 0.8, "open_tickets": 1, "nps": -20})
        >>> hs.band.value, hs.weakest, hs.missing
        ('green', 'nps', ('days_since_contact', 'csat', 'sentiment'))
        >>> round(sum(hs.contributions.values()), 6) == round(hs.score, 6)
        True
    """

    score: float = attrs.field(converter=_float_or_keep, validator=_check_score)
    band: Band = attrs.field(converter=_to_band)
    contributions: Mapping[str, float] = attrs.field(converter=_to_number_map, hash=False)
    measure_scores: Mapping[str, float] = attrs.field(converter=_to_number_map, hash=False)
    weights: Mapping[str, float] = attrs.field(converter=_to_number_map, hash=False)
    weakest: str | None = attrs.field(default=None, validator=v.field(v.text, optional=True))
    missing: tuple[str, ...] = attrs.field(default=(), converter=_to_names)

    def lost(self) -> dict[str, float]:
        """Points each scored measure costs against a perfect 100.

        Examples:
            >>> from stars.health import default_scorecard
            >>> hs = default_scorecard().score({"adoption": 0.5, "nps": 50})
            >>> {k: round(x, 1) for k, x in hs.lost().items()}
            {'adoption': 31.3, 'nps': 0.0}
        """
        return {n: self.weights[n] * (100.0 - s) for n, s in self.measure_scores.items()}

    def explain(self) -> str:
        """A short plain-text account of the score.

        Examples:
            >>> from stars.health import default_scorecard
            >>> print(default_scorecard().score({"adoption": 0.5, "nps": 50}).explain())
            Health 68.7 (yellow)
              adoption              50.0/100  weight 62%  ->  31.2 pts
              nps                  100.0/100  weight 37%  ->  37.5 pts
            Costs the most: adoption (31.3 pts below full marks)
            Missing: open_tickets, days_since_contact, csat, sentiment
        """
        lines = [f"Health {self.score:.1f} ({self.band.value})"]
        width = max((len(n) for n in self.contributions), default=0)
        for name, points in self.contributions.items():
            if name in self.measure_scores:
                lines.append(
                    f"  {name:<{max(width, 20)}} {self.measure_scores[name]:5.1f}/100"
                    f"  weight {self.weights[name]:.0%}  ->  {points:4.1f} pts"
                )
        if self.weakest is not None:
            lines.append(
                f"Costs the most: {self.weakest} "
                f"({self.lost()[self.weakest]:.1f} pts below full marks)"
            )
        if self.missing:
            lines.append("Missing: " + ", ".join(self.missing))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = [
            (name, self.measure_scores.get(name), f"{self.weights[name]:.0%}", points)
            for name, points in self.contributions.items()
        ]
        html = table(
            ("measure", "score", "weight", "points"),
            rows,
            caption=f"Health {self.score:.1f} ({self.band.value})",
            highlight=[n for n, (name, *_) in enumerate(rows) if name == self.weakest],
        )
        notes = []
        if self.weakest is not None:
            notes.append(("costs the most", self.weakest))
        if self.missing:
            notes.append(("missing", ", ".join(self.missing)))
        if notes:
            html += table(("note", "measures"), notes)
        return html


# -- per-stage scorecards --------------------------------------------------------------


def _to_stage_cards(value: object) -> dict[str, Scorecard]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidValue("by_stage", value, "a mapping of stage names to Scorecard objects")
    out: dict[str, Scorecard] = {}
    for key, card in value.items():
        v.text("by_stage key", key)
        if not isinstance(card, Scorecard):
            raise InvalidValue(f"by_stage[{key!r}]", card, "a Scorecard")
        out[str(key)] = card
    return out


@attrs.frozen(slots=True)
class ScorecardSet:
    """A scorecard per stage, with a default for the stages not listed.

    What counts as healthy for a new account differs from a long-standing one, so
    each stage may have its own scorecard.

    Attributes:
        default: The scorecard for any stage without its own.
        by_stage: Scorecards by stage name.

    Examples:
        >>> from stars.health import ScorecardSet, default_scorecard, default_scorecard_set
        >>> cards = default_scorecard_set()
        >>> cards.for_stage("seed") is cards.by_stage["seed"]
        True
        >>> cards.for_stage("ascend") is cards.default
        True
        >>> cards.score("ascend", {"adoption": 0.9, "nps": 40}).band.value
        'green'
    """

    default: Scorecard = attrs.field()
    by_stage: Mapping[str, Scorecard] = attrs.field(
        factory=dict, converter=_to_stage_cards, hash=False
    )

    @default.validator
    def _check_default(self, attribute: Any, value: Any) -> None:
        if not isinstance(value, Scorecard):
            raise InvalidValue("default", value, "a Scorecard")

    def for_stage(self, stage: str) -> Scorecard:
        """The scorecard for a stage (the default when the stage has none of its own).

        Args:
            stage: A stage name (a `Stage` works too).

        Returns:
            The scorecard to use.

        Examples:
            >>> from stars.health import ScorecardSet, default_scorecard
            >>> card = default_scorecard()
            >>> ScorecardSet(card).for_stage("tact") is card
            True
        """
        return self.by_stage.get(str(stage), self.default)

    def score(self, stage: str, values: Mapping[str, float | None]) -> HealthScore:
        """Score an account in a stage with that stage's scorecard.

        Args:
            stage: The account's stage.
            values: Raw values by measure name.

        Returns:
            The health score.

        Examples:
            >>> from stars.health import default_scorecard_set
            >>> default_scorecard_set().score("seed", {"adoption": 0.1}).band.value
            'red'
        """
        return self.for_stage(stage).score(values)


# -- trend -----------------------------------------------------------------------------


class TrendDirection(enum.StrEnum):
    """Which way health is moving.

    Examples:
        >>> from stars.health import TrendDirection
        >>> TrendDirection.FALLING.value
        'falling'
    """

    RISING = "rising"
    FLAT = "flat"
    FALLING = "falling"


_check_slope = v.field(v.number, optional=True)
_check_points = v.field(v.number, 0, integer=True)


@attrs.frozen(slots=True)
class Trend:
    """How health moved over a run of snapshots.

    Attributes:
        slope: Health points gained (or lost, if negative) per 30 days, from a
            least-squares line; ``None`` with fewer than two points in time.
        direction: Rising, flat (within the noise threshold) or falling. With too few
            points it is flat.
        points: How many snapshots with a health value were used.

    Examples:
        >>> from stars.health import Trend, TrendDirection
        >>> Trend(-4.0, TrendDirection.FALLING, 3).direction.value
        'falling'
    """

    slope: float | None = attrs.field(converter=_float_or_keep, validator=_check_slope)
    direction: TrendDirection = attrs.field(converter=_to_trend_direction)
    points: int = attrs.field(validator=_check_points)


def trend(
    snapshots: Iterable[Snapshot],
    *,
    window: timedelta | None = None,
    flat_within: float = 2.0,
) -> Trend:
    """The trend of health over snapshots: slope per 30 days and direction.

    Snapshots without a health value are skipped; the rest are put in time order.

    Args:
        snapshots: The account's snapshots.
        window: When given, only snapshots at most this long before the latest one
            with a health value are used.
        flat_within: A slope whose size is at most this (points per 30 days) counts
            as flat, so small noise does not read as a movement.

    Returns:
        The trend.

    Raises:
        InvalidValue: If an item is not a Snapshot, the window is not a positive
            timedelta, or ``flat_within`` is negative or not finite.

    Examples:
        >>> from datetime import datetime, timedelta, timezone
        >>> from stars.account import Snapshot
        >>> from stars.health import trend
        >>> start = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> snaps = [Snapshot(at=start + timedelta(days=30 * i), health=h)
        ...          for i, h in enumerate([80, 74, 71, 62])]
        >>> t = trend(snaps)
        >>> round(t.slope, 1), t.direction.value, t.points
        (-5.7, 'falling', 4)
        >>> trend(snaps, window=timedelta(days=45)).points
        2
    """
    flat_within = v.number("flat_within", flat_within, 0)
    if window is not None and (not isinstance(window, timedelta) or window <= timedelta(0)):
        raise InvalidValue("window", window, "None or a positive timedelta")
    items = _snapshot_list(snapshots)
    for i, item in enumerate(items):
        if not isinstance(item, Snapshot):
            raise InvalidValue(f"snapshots[{i}]", item, "a Snapshot")
    points = sorted((s.at, s.health) for s in items if s.health is not None)
    if window is not None and points:
        start = points[-1][0] - window
        points = [p for p in points if p[0] >= start]
    slope = slope_per_30_days(points)
    if slope is None or abs(slope) <= flat_within:
        direction = TrendDirection.FLAT
    elif slope > 0:
        direction = TrendDirection.RISING
    else:
        direction = TrendDirection.FALLING
    return Trend(slope, direction, len(points))


def _snapshot_list(value: object) -> list[Snapshot]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidValue("snapshots", value, "an iterable of Snapshot objects")
    return list(value)


# -- defaults and snapshot bridge ------------------------------------------------------

_UP = Direction.HIGHER_IS_BETTER
_DOWN = Direction.LOWER_IS_BETTER


def _default_measures(weights: Mapping[str, float]) -> list[Measure]:
    return [
        Measure("adoption", weights["adoption"], _UP, Linear(0.2, 0.8), (0, 1), "usage"),
        Measure(
            "open_tickets",
            weights["open_tickets"],
            _DOWN,
            Steps((3, 6, 10), (100, 70, 40, 0)),
            (0, None),
            "usage",
        ),
        Measure(
            "days_since_contact",
            weights["days_since_contact"],
            _DOWN,
            Linear(14, 60),
            (0, None),
            "usage",
        ),
        Measure("nps", weights["nps"], _UP, Linear(-50, 50), (-100, 100), "feedback"),
        Measure("csat", weights["csat"], _UP, Linear(50, 90), (0, 100), "feedback"),
        Measure("sentiment", weights["sentiment"], _UP, Linear(-1, 1), (-1, 1), "qualitative"),
    ]


_DEFAULT_WEIGHTS: Final = {
    "adoption": 2.0,
    "open_tickets": 1.0,
    "days_since_contact": 1.0,
    "nps": 1.0,
    "csat": 1.0,
    "sentiment": 1.0,
}
_DEFAULT_GROUPS: Final = {"usage": 50.0, "feedback": 30.0, "qualitative": 20.0}


def default_scorecard() -> Scorecard:
    """The built-in scorecard, made of the usual early-warning inputs.

    Three groups: ``usage`` (50%) holds what the data says, adoption of the
    product (weighted double), open support tickets and days since the last real
    conversation; ``feedback`` (30%) holds NPS and CSAT; ``qualitative`` (20%) holds
    the account team's own read of sentiment. Measure names match the
    `Snapshot` fields, so `measures_from` feeds a snapshot
    straight in. Missing measures are redistributed; bands start at 40 and 70.

    Returns:
        A new scorecard.

    Examples:
        >>> from stars.health import default_scorecard
        >>> card = default_scorecard()
        >>> for name, weight in card.weights.items():
        ...     print(f"{name:<20}{weight:.3f}")
        adoption            0.250
        open_tickets        0.125
        days_since_contact  0.125
        nps                 0.150
        csat                0.150
        sentiment           0.200
        >>> card.score({"adoption": 0.85, "open_tickets": 0, "days_since_contact": 7,
        ...             "nps": 55, "csat": 95, "sentiment": 1}).score
        100.0
    """
    return Scorecard(_default_measures(_DEFAULT_WEIGHTS), _DEFAULT_GROUPS)


def default_scorecard_set() -> ScorecardSet:
    """The default scorecard for every stage, with a SEED variant for new accounts.

    A new account has little feedback history yet, so in ``seed`` usage counts for
    more (adoption and regular contact most of all) and feedback for less.

    Returns:
        A new scorecard set.

    Examples:
        >>> from stars.health import default_scorecard_set
        >>> seed = default_scorecard_set().for_stage("seed")
        >>> round(seed.weights["adoption"], 3), round(seed.weights["nps"], 3)
        (0.35, 0.075)
    """
    seed_weights = dict(_DEFAULT_WEIGHTS, adoption=3.0, open_tickets=1.0, days_since_contact=2.0)
    seed = Scorecard(
        _default_measures(seed_weights), {"usage": 70.0, "feedback": 15.0, "qualitative": 15.0}
    )
    return ScorecardSet(default_scorecard(), {"seed": seed})


def measures_from(
    snapshot: Snapshot, scorecard: Scorecard | None = None
) -> dict[str, float | None]:
    """The raw measure values held by a snapshot, ready for `Scorecard.score`.

    Named signal fields (adoption, open_tickets, days_since_contact, nps, csat,
    sentiment) come first; entries of ``snapshot.metrics`` fill any other names.

    Args:
        snapshot: The snapshot to read.
        scorecard: When given, exactly that scorecard's measures are returned
            (``None`` for those the snapshot does not hold).

    Returns:
        Values by measure name.

    Raises:
        InvalidValue: If ``snapshot`` is not a Snapshot or ``scorecard`` not a Scorecard.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.account import Snapshot
        >>> from stars.health import default_scorecard, measures_from
        >>> snap = Snapshot(at=datetime(2025, 5, 1, tzinfo=timezone.utc), adoption=0.7, nps=30)
        >>> values = measures_from(snap, default_scorecard())
        >>> values["adoption"], values["csat"]
        (0.7, None)
        >>> default_scorecard().score(values).band.value
        'green'
    """
    if not isinstance(snapshot, Snapshot):
        raise InvalidValue("snapshot", snapshot, "a Snapshot")
    found: dict[str, float | None] = {
        name: (None if (raw := getattr(snapshot, name)) is None else float(raw))
        for name in _SNAPSHOT_SIGNALS
    }
    for name, value in snapshot.metrics.items():
        if found.get(name) is None:
            found[name] = value
    if scorecard is None:
        return found
    if not isinstance(scorecard, Scorecard):
        raise InvalidValue("scorecard", scorecard, "a Scorecard")
    return {name: found.get(name) for name in scorecard.names}
