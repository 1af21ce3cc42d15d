"""Health bands (red, yellow, green) and the cut-offs that map a 0-100 score to one.

This is the lowest layer of health scoring; `stars.health` builds scorecards on it.

Examples:
    >>> from stars import Band, BandCutoffs
    >>> BandCutoffs().band_for(55.0)
    <Band.YELLOW: 'yellow'>
    >>> BandCutoffs(red_below=30, green_from=80).band_for(75)
    <Band.YELLOW: 'yellow'>
"""

from __future__ import annotations

import attrs

from stars._ordered import OrderedStrEnum
from stars._validate import number
from stars.errors import InvalidValue

__all__ = ["Band", "BandCutoffs"]


class Band(OrderedStrEnum):
    """A health band. Bands are ordered: red < yellow < green.

    Examples:
        >>> from stars import Band
        >>> Band.RED < Band.GREEN
        True
        >>> Band.GREEN > "red"
        True
        >>> sorted([Band.GREEN, Band.RED, Band.YELLOW])
        [<Band.RED: 'red'>, <Band.YELLOW: 'yellow'>, <Band.GREEN: 'green'>]
    """

    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"

    @property
    def rank(self) -> int:
        """0 for red, 1 for yellow, 2 for green.

        Examples:
            >>> from stars import Band
            >>> Band.YELLOW.rank
            1
        """
        return _RANK[self]


_RANK = {Band.RED: 0, Band.YELLOW: 1, Band.GREEN: 2}


def _check_cutoff(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    number(attribute.name, value, 0, 100)


@attrs.frozen(slots=True)
class BandCutoffs:
    """Where red ends and green starts on the 0-100 scale.

    A score below ``red_below`` is red, a score at or above ``green_from`` is green,
    anything between is yellow.

    Attributes:
        red_below: Scores below this are red (default 40).
        green_from: Scores at or above this are green (default 70).

    Examples:
        >>> from stars import BandCutoffs
        >>> BandCutoffs().band_for(70)
        <Band.GREEN: 'green'>
        >>> BandCutoffs(red_below=80, green_from=50)
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: green_from: got 50, expected a number at or above red_below (80)
    """

    red_below: float = attrs.field(default=40.0, validator=_check_cutoff)
    green_from: float = attrs.field(default=70.0, validator=_check_cutoff)

    def __attrs_post_init__(self) -> None:
        if self.green_from < self.red_below:
            raise InvalidValue(
                "green_from", self.green_from, f"a number at or above red_below ({self.red_below})"
            )

    def band_for(self, score: float) -> Band:
        """The band of a 0-100 score.

        Args:
            score: A health score from 0 to 100.

        Returns:
            The band the score falls in.

        Raises:
            InvalidValue: If the score is not a finite number from 0 to 100.

        Examples:
            >>> from stars import BandCutoffs
            >>> BandCutoffs().band_for(12.5).value
            'red'
        """
        score = number("score", score, 0, 100)
        if score < self.red_below:
            return Band.RED
        if score >= self.green_from:
            return Band.GREEN
        return Band.YELLOW
