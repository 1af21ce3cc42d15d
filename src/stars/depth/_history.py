"""An account's depth history: recording a depth, the INTEGRATED opt-in, moves, time at a depth."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime

import attrs

from stars import _validate as v
from stars._accounts import _need_account
from stars._engine import commit
from stars.account import Account, DepthPoint
from stars.depth._assessment import DepthAssessment
from stars.depth._common import _as_items, _member
from stars.depth._depth import Depth, _as_depth, _to_depth
from stars.depth._enums import MovementDirection
from stars.depth._evidence import DepthEvidence
from stars.depth._policy import _DEFAULT_POLICY
from stars.depth._requirements import _RULES, _evaluate
from stars.depth._two_sided import TwoSidedDepth
from stars.errors import InvalidValue

_check_aware = v.field(v.aware)


@attrs.frozen(slots=True)
class DepthMovement:
    """A change of depth between two consecutive observations of one side.

    Attributes:
        at: When the new depth was observed.
        previous_at: When the previous depth was last observed.
        source: The previous depth.
        dest: The new depth.
        side: Whose view: ``"agreed"``, ``"vendor"`` or ``"customer"``.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.depth import Depth, DepthMovement
        >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> m = DepthMovement(t, t, Depth.INTERCONNECTED, Depth.BASIC, "agreed")
        >>> m.direction.value, m.levels
        ('backward', -2)
    """

    at: datetime = attrs.field(validator=_check_aware)
    previous_at: datetime = attrs.field(validator=_check_aware)
    source: Depth = attrs.field(converter=_as_depth, validator=_member(Depth))
    dest: Depth = attrs.field(converter=_as_depth, validator=_member(Depth))
    side: str = attrs.field(default="agreed", validator=lambda _i, _a, val: _check_side(val))

    @property
    def levels(self) -> int:
        """Levels moved: positive forward, negative backward.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.depth import DepthMovement
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> DepthMovement(t, t, "basic", "collaborative").levels
            1
        """
        return self.dest.rank - self.source.rank

    @property
    def direction(self) -> MovementDirection:
        """FORWARD when the relationship got deeper, BACKWARD otherwise.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars.depth import DepthMovement
            >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
            >>> DepthMovement(t, t, "basic", "collaborative").direction
            <MovementDirection.FORWARD: 'forward'>
        """
        return MovementDirection.FORWARD if self.levels > 0 else MovementDirection.BACKWARD


_SIDES = ("agreed", "vendor", "customer")


def _check_side(side: object) -> str:
    if side not in _SIDES:
        raise InvalidValue("side", side, "'agreed', 'vendor' or 'customer'")
    return str(side)


def check_integrated_opt_in(
    depth: Depth | str,
    *,
    allow_integrated: bool = False,
    evidence: DepthEvidence | Iterable[DepthEvidence] | None = None,
) -> Depth:
    """Refuse INTEGRATED unless it was asked for, as `assess` does.

    INTEGRATED is rare and risky for the vendor, so it takes the same explicit opt-in
    everywhere: ``allow_integrated=True``. When evidence is given as well, it must meet
    every INTEGRATED requirement. Any other depth passes unchanged. `record_depth` calls
    this before it writes anything; call it too in code that stores depths another way.

    Args:
        depth: The depth (or its name) about to be recorded.
        allow_integrated: The opt-in.
        evidence: The evidence behind the depth, if any (one side's, or several).

    Returns:
        The depth.

    Raises:
        InvalidValue: ``depth`` is INTEGRATED without the opt-in, or its evidence misses
            an INTEGRATED requirement; or an argument has the wrong type.

    Examples:
        >>> from stars.depth import check_integrated_opt_in
        >>> check_integrated_opt_in("interconnected")
        <Depth.INTERCONNECTED: 'interconnected'>
        >>> check_integrated_opt_in("integrated")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: allow_integrated: got False, expected True to record ...
        >>> check_integrated_opt_in("integrated", allow_integrated=True)
        <Depth.INTEGRATED: 'integrated'>
    """
    level = _to_depth("depth", depth)
    v.flag("allow_integrated", allow_integrated)
    if evidence is None:
        sides: tuple[DepthEvidence, ...] = ()
    elif isinstance(evidence, DepthEvidence):
        sides = (evidence,)
    else:
        sides = _as_items(evidence)
        if not isinstance(sides, tuple) or not all(isinstance(e, DepthEvidence) for e in sides):
            raise InvalidValue("evidence", evidence, "a DepthEvidence or several")
    if level is not Depth.INTEGRATED:
        return level
    if not allow_integrated:
        raise InvalidValue(
            "allow_integrated",
            allow_integrated,
            "True to record 'integrated', which is opt-in as in assess",
            "integrated is rare and ties the vendor to one customer; pass"
            " allow_integrated=True only when that is intended",
        )
    for e in sides:
        # The INTEGRATED requirements use no policy threshold, so the default policy serves.
        results = _evaluate(e, _DEFAULT_POLICY)
        short = [name for name, d, *_ in _RULES if d is Depth.INTEGRATED and not results[name]]
        if short:
            raise InvalidValue(
                "depth",
                level.value,
                "a depth the evidence supports; it misses the integrated requirement(s) "
                + ", ".join(short),
            )
    return level


def record_depth(
    account: Account,
    assessment_or_depth: DepthAssessment | TwoSidedDepth | Depth | str,
    at: datetime,
    side: str = "agreed",
    *,
    allow_integrated: bool = False,
    expected_version: int | None = None,
) -> DepthPoint:
    """Append a depth observation to an account's depth history.

    The account's version goes up by one. Observations must be in time order (compared
    as instants); nothing changes when the call raises. The point is appended under the
    account's own lock, like every other write to it, so concurrent calls lose nothing.

    INTEGRATED is opt-in here as in `assess`: recording it takes
    ``allow_integrated=True``, and an assessment's evidence must meet the INTEGRATED
    requirements (see `check_integrated_opt_in`).

    Args:
        account: The account.
        assessment_or_depth: A depth (or its name), an assessment, or a two-sided view
            (``side`` then picks the vendor's, the customer's, or the agreed depth).
        at: When the depth was observed (timezone-aware, not before the last observation).
        side: Whose view it is: ``"agreed"``, ``"vendor"`` or ``"customer"``.
        allow_integrated: The opt-in needed to record INTEGRATED.
        expected_version: Refuse with `ConcurrentModification` unless the account is at
            this version.

    Returns:
        The recorded point.

    Raises:
        InvalidValue: A bad account, depth, time or side; INTEGRATED without
            ``allow_integrated=True`` or without the evidence for it.
        OutOfOrder: ``at`` is earlier than the latest observation.
        ConcurrentModification: ``expected_version`` does not match.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.account import Account
        >>> from stars.depth import record_depth
        >>> acct = Account("acme")
        >>> record_depth(acct, "basic", datetime(2025, 1, 1, tzinfo=timezone.utc)).depth
        'basic'
        >>> acct.version
        1
    """
    _need_account(account)
    side = _check_side(side)
    v.aware("at", at)
    evidence: tuple[DepthEvidence, ...] = ()
    if isinstance(assessment_or_depth, TwoSidedDepth):
        two = assessment_or_depth
        depth = {"agreed": two.agreed, "vendor": two.vendor.depth, "customer": two.customer.depth}[
            side
        ]
        evidence = {
            "agreed": (two.vendor.evidence, two.customer.evidence),
            "vendor": (two.vendor.evidence,),
            "customer": (two.customer.evidence,),
        }[side]
    elif isinstance(assessment_or_depth, DepthAssessment):
        depth = assessment_or_depth.depth
        evidence = (assessment_or_depth.evidence,)
    else:
        depth = _to_depth("assessment_or_depth", assessment_or_depth)
    check_integrated_opt_in(depth, allow_integrated=allow_integrated, evidence=evidence)
    read = v.expected_version(expected_version)
    point = DepthPoint(at, depth.value, side)
    commit(account, account.id, read, lambda: account._append_depth(point))
    return point


def _points(account: Account, side: str) -> list[tuple[DepthPoint, Depth]]:
    out: list[tuple[DepthPoint, Depth]] = []
    for i, point in enumerate(account.depths):
        if point.side == side:
            out.append((point, _to_depth(f"depths[{i}].depth", point.depth)))
    return out


def depth_movements(account: Account, side: str = "agreed") -> tuple[DepthMovement, ...]:
    """List the forward and backward moves in one side's depth history.

    Consecutive observations at the same depth are not moves.

    Args:
        account: The account.
        side: Whose view: ``"agreed"``, ``"vendor"`` or ``"customer"``.

    Returns:
        The moves, oldest first.

    Raises:
        InvalidValue: A bad account or side, or a recorded depth that is not a depth's name.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.account import Account
        >>> from stars.depth import depth_movements, record_depth
        >>> acct = Account("acme")
        >>> for month, depth in [(1, "basic"), (4, "collaborative"), (7, "collaborative"),
        ...                      (12, "basic")]:
        ...     _ = record_depth(acct, depth, datetime(2025, month, 1, tzinfo=timezone.utc))
        >>> [(m.dest.value, m.direction.value) for m in depth_movements(acct)]
        [('collaborative', 'forward'), ('basic', 'backward')]
    """
    _need_account(account)
    side = _check_side(side)
    points = _points(account, side)
    moves: list[DepthMovement] = []
    for (prev, prev_depth), (point, depth) in itertools.pairwise(points):
        if depth is not prev_depth:
            moves.append(DepthMovement(point.at, prev.at, prev_depth, depth, side))
    return tuple(moves)


def depth_since(account: Account, side: str = "agreed") -> tuple[Depth, datetime] | None:
    """The current depth of one side and when the account reached it.

    Use the time with `dwell_advice` when the current depth is COLLABORATIVE.

    Args:
        account: The account.
        side: Whose view: ``"agreed"``, ``"vendor"`` or ``"customer"``.

    Returns:
        ``(depth, since)``, or ``None`` when that side has no observation.

    Raises:
        InvalidValue: A bad account or side, or a recorded depth that is not a depth's name.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.account import Account
        >>> from stars.depth import depth_since, record_depth
        >>> acct = Account("acme")
        >>> for month, depth in [(1, "basic"), (4, "collaborative"), (7, "collaborative")]:
        ...     _ = record_depth(acct, depth, datetime(2025, month, 1, tzinfo=timezone.utc))
        >>> depth, since = depth_since(acct)
        >>> depth.value, since.month
        ('collaborative', 4)
        >>> print(depth_since(acct, side="customer"))
        None
    """
    _need_account(account)
    side = _check_side(side)
    points = _points(account, side)
    if not points:
        return None
    current = points[-1][1]
    since = points[-1][0].at
    for point, depth in reversed(points):
        if depth is not current:
            break
        since = point.at
    return current, since
