"""How a portfolio's value spreads across accounts and depths (`value_concentration`)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import attrs

from stars import _validate as v
from stars._html import table
from stars.depth._common import _as_tuple, _check_flag, _count, _non_negative, _whole
from stars.depth._depth import Depth, _to_depth
from stars.errors import InvalidValue

_fraction = v.field(v.number, 0, 1)


@attrs.frozen(slots=True)
class ValueConcentration:
    """How the value of a portfolio is spread across accounts and depths.

    Attributes:
        n_accounts: Accounts counted.
        total_value: Their total value.
        interconnected_accounts: Accounts at INTERCONNECTED or deeper.
        interconnected_share: Share of the value held by those accounts (0 to 1).
        top_accounts: How many accounts make up the top group (the top 20 percent by default).
        top_share: Share of the value held by the top group (0 to 1).
        target_share: The share the top group is expected to hold (80 percent by default).
        pareto_like: Whether ``top_share`` is within the tolerance of ``target_share``.
        top_not_interconnected: Accounts in the top group that are not yet interconnected,
            highest value first.

    Examples:
        >>> from stars.depth import value_concentration
        >>> values = {"a": 80.0, "b": 10.0, "c": 5.0, "d": 3.0, "e": 2.0}
        >>> depths = {"a": "interconnected", "b": "basic", "c": "basic", "d": "basic",
        ...           "e": "collaborative"}
        >>> c = value_concentration(values, depths)
        >>> c.top_accounts, c.top_share, c.pareto_like, c.interconnected_share
        (1, 0.8, True, 0.8)
    """

    n_accounts: int = attrs.field(converter=_whole, validator=_count(1))
    total_value: float = attrs.field(validator=_non_negative)
    interconnected_accounts: int = attrs.field(converter=_whole, validator=_count(0))
    interconnected_share: float = attrs.field(validator=_fraction)
    top_accounts: int = attrs.field(converter=_whole, validator=_count(1))
    top_share: float = attrs.field(validator=_fraction)
    target_share: float = attrs.field(validator=_fraction)
    pareto_like: bool = attrs.field(validator=_check_flag)
    top_not_interconnected: tuple[str, ...] = attrs.field(converter=_as_tuple)

    def _repr_html_(self) -> str:
        rows: list[tuple[str, object]] = [
            ("accounts", self.n_accounts),
            ("total value", self.total_value),
            ("interconnected accounts", self.interconnected_accounts),
            ("interconnected share", f"{self.interconnected_share:.0%}"),
            (f"top {self.top_accounts} accounts' share", f"{self.top_share:.0%}"),
            ("pareto-like", self.pareto_like),
            ("top accounts not interconnected", ", ".join(self.top_not_interconnected) or None),
        ]
        return table(["", "value"], rows, caption="Value concentration")


def value_concentration(
    values_by_account: Mapping[str, float],
    depth_by_account: Mapping[str, Depth | str],
    *,
    top_fraction: float = 0.2,
    target_share: float = 0.8,
    tolerance: float = 0.1,
) -> ValueConcentration:
    """Measure how much value sits in the interconnected tier and in the top accounts.

    The strongest relationships are expected to be the interconnected ones, and
    roughly the top 20 percent of accounts tend to bring about 80 percent of value.

    Args:
        values_by_account: Account id to value (revenue, profit, ...), each at least 0.
        depth_by_account: Account id to depth, for the same accounts.
        top_fraction: The fraction of accounts in the top group (rounded up, at least one).
        target_share: The share of value the top group is expected to hold.
        tolerance: How far ``top_share`` may be from ``target_share`` to count as pareto-like.

    Returns:
        The concentration figures.

    Raises:
        InvalidValue: A value is negative or not a number, the total is zero, a depth
            is unknown, or the two mappings do not cover the same accounts.

    Examples:
        >>> from stars.depth import value_concentration
        >>> value_concentration({"a": 1.0}, {"b": "basic"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: depth_by_account: got ['a'], expected a depth for every ...
    """
    values = v.number_mapping("values_by_account", values_by_account)
    for acct, value in values.items():
        v.number(f"values_by_account[{acct!r}]", value, 0)
    if not isinstance(depth_by_account, Mapping):
        raise InvalidValue("depth_by_account", depth_by_account, "a mapping of account to depth")
    depths = {
        acct: _to_depth(f"depth_by_account[{acct!r}]", d) for acct, d in depth_by_account.items()
    }
    without_depth = sorted(set(values) - set(depths))
    if without_depth:
        raise InvalidValue(
            "depth_by_account", without_depth, "a depth for every account in values_by_account"
        )
    without_value = sorted(set(depths) - set(values), key=str)
    if without_value:
        raise InvalidValue(
            "values_by_account", without_value, "a value for every account in depth_by_account"
        )
    v.number("top_fraction", top_fraction, 0, 1)
    if top_fraction == 0:
        raise InvalidValue("top_fraction", top_fraction, "a number above 0 and at most 1")
    v.number("target_share", target_share, 0, 1)
    v.number("tolerance", tolerance, 0, 1)
    try:
        total = math.fsum(values.values())
    except OverflowError:
        raise InvalidValue(
            "values_by_account", values_by_account, "values whose total is a finite number"
        ) from None
    if total <= 0:
        raise InvalidValue("values_by_account", values_by_account, "values with a positive total")
    n = len(values)
    tier = [a for a in values if depths[a] >= Depth.INTERCONNECTED]
    tier_share = math.fsum(values[a] for a in tier) / total
    ranked = sorted(values, key=lambda a: (-values[a], a))
    n_top = max(1, math.ceil(round(top_fraction * n, 9)))
    top = ranked[:n_top]
    top_share = math.fsum(values[a] for a in top) / total
    return ValueConcentration(
        n_accounts=n,
        total_value=total,
        interconnected_accounts=len(tier),
        interconnected_share=min(1.0, tier_share),
        top_accounts=n_top,
        top_share=min(1.0, top_share),
        target_share=float(target_share),
        pareto_like=abs(top_share - target_share) <= tolerance + 1e-12,
        top_not_interconnected=tuple(a for a in top if depths[a] < Depth.INTERCONNECTED),
    )
