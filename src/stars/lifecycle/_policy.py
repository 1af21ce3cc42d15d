"""The `Policy`: the thresholds that guards and diagnosis read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from stars import _validate as v
from stars.account import (
    Snapshot,
)
from stars.bands import Band, BandCutoffs
from stars.errors import (
    InvalidValue,
)

if TYPE_CHECKING:
    pass


# --------------------------------------------------------------------------- policy
_positive_int = v.field(v.number, 1, None, integer=True)
_non_negative = v.field(v.number, 0, None)


def _cutoffs(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, BandCutoffs):
        raise InvalidValue(attribute.name, value, "a BandCutoffs")


@attrs.frozen(slots=True)
class Policy:
    """The thresholds that guards and diagnosis read.

    Attributes:
        bands: Cut-offs from health score to band.
        green_streak: Consecutive green snapshots needed to sustain or realign (hysteresis).
        min_tenure_days: Days as a customer before an account can be in ASCEND.
        trend_window: Number of latest health readings used for the trend.
        trend_flat_within: A slope (points per 30 days) within ± this is flat; below is falling.

    Examples:
        >>> from stars import Policy
        >>> Policy(green_streak=2).green_streak
        2
        >>> Policy(green_streak=0)
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: green_streak: got 0, expected a whole number at or above 1
    """

    bands: BandCutoffs = attrs.field(factory=BandCutoffs, validator=_cutoffs)
    green_streak: int = attrs.field(default=3, validator=_positive_int)
    min_tenure_days: float = attrs.field(default=180.0, validator=_non_negative)
    trend_window: int = attrs.field(default=3, validator=_positive_int)
    trend_flat_within: float = attrs.field(default=2.0, validator=_non_negative)

    def band_of(self, snapshot: Snapshot | None) -> Band | None:
        """The snapshot's band: as given, else derived from its health, else ``None``.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import Policy, Snapshot
            >>> Policy().band_of(Snapshot(at=datetime(2025, 1, 1, tzinfo=timezone.utc), health=75))
            <Band.GREEN: 'green'>
        """
        if snapshot is None:
            return None
        if snapshot.band is not None:
            return snapshot.band
        if snapshot.health is not None:
            return self.bands.band_for(snapshot.health)
        return None
