"""Whether the number of key accounts fits what the company can serve."""

from __future__ import annotations

import attrs

from stars import _validate as v
from stars.depth._common import _count, _member, _member_or_keep, _whole
from stars.depth._enums import CompanyMaturity
from stars.errors import UnknownName


def _as_maturity(value: CompanyMaturity | str) -> CompanyMaturity:
    return _member_or_keep(CompanyMaturity, value)  # type: ignore[no-any-return]


_USUAL_KEY_ACCOUNTS: dict[CompanyMaturity, tuple[int, int]] = {
    CompanyMaturity.YOUNG: (0, 5),
    CompanyMaturity.MATURE: (15, 30),
}


@attrs.frozen(slots=True)
class KeyAccountCheck:
    """Whether the number of key accounts fits what the company can serve.

    Attributes:
        n_key_accounts: How many key accounts there are.
        maturity: The company's maturity.
        capacity: How many key accounts it can serve.
        usual_range: The usual range for a company of this maturity.

    Examples:
        >>> from stars.depth import key_account_check
        >>> c = key_account_check(8, "young")
        >>> c.within, c.excess
        (False, 3)
    """

    n_key_accounts: int = attrs.field(converter=_whole, validator=_count(0))
    maturity: CompanyMaturity = attrs.field(
        converter=_as_maturity, validator=_member(CompanyMaturity)
    )
    capacity: int = attrs.field(converter=_whole, validator=_count(1))
    usual_range: tuple[int, int]

    @property
    def within(self) -> bool:
        """Whether the count is at or below capacity.

        Examples:
            >>> from stars.depth import key_account_check
            >>> key_account_check(20, "mature").within
            True
        """
        return self.n_key_accounts <= self.capacity

    @property
    def excess(self) -> int:
        """Key accounts beyond capacity (zero when within).

        Examples:
            >>> from stars.depth import key_account_check
            >>> key_account_check(34, "mature").excess
            4
        """
        return max(0, self.n_key_accounts - self.capacity)

    @property
    def headroom(self) -> int:
        """Key accounts that could still be added (zero when at or over capacity).

        Examples:
            >>> from stars.depth import key_account_check
            >>> key_account_check(2, "young").headroom
            3
        """
        return max(0, self.capacity - self.n_key_accounts)

    @property
    def below_usual(self) -> bool:
        """Whether the count is below the usual range (room, or a thin key-account tier).

        Examples:
            >>> from stars.depth import key_account_check
            >>> key_account_check(6, "mature").below_usual
            True
        """
        return self.n_key_accounts < self.usual_range[0]

    @property
    def message(self) -> str:
        """A one-line verdict.

        Examples:
            >>> from stars.depth import key_account_check
            >>> key_account_check(8, "young").message
            '8 key accounts for a young company: 3 over the capacity of 5'
        """
        head = f"{self.n_key_accounts} key accounts for a {self.maturity.value} company"
        if not self.within:
            return f"{head}: {self.excess} over the capacity of {self.capacity}"
        if self.below_usual:
            low, high = self.usual_range
            return f"{head}: within capacity, below the usual {low} to {high}"
        return f"{head}: within the capacity of {self.capacity}"


def key_account_check(
    n_key_accounts: int,
    maturity: CompanyMaturity | str,
    capacity: int | None = None,
) -> KeyAccountCheck:
    """Check the number of key accounts against the company's capacity.

    A young company can seldom serve more than about 5 key accounts; a mature one
    about 15 to 30. Key accounts sit inside the interconnected tier.

    Args:
        n_key_accounts: How many key accounts the company has.
        maturity: ``"young"`` or ``"mature"``.
        capacity: The most key accounts the company can serve; by default 5 (young)
            or 30 (mature).

    Returns:
        The check.

    Raises:
        InvalidValue: A count is negative or not a whole number.
        UnknownName: ``maturity`` is not a known maturity.

    Examples:
        >>> from stars.depth import key_account_check
        >>> key_account_check(12, "mature", capacity=10).message
        '12 key accounts for a mature company: 2 over the capacity of 10'
    """
    n = int(v.number("n_key_accounts", n_key_accounts, 0, integer=True))
    if isinstance(maturity, CompanyMaturity):
        kind = maturity
    elif isinstance(maturity, str) and maturity in {m.value for m in CompanyMaturity}:
        kind = CompanyMaturity(maturity)
    else:
        raise UnknownName("company maturity", maturity, [m.value for m in CompanyMaturity])
    usual = _USUAL_KEY_ACCOUNTS[kind]
    cap = usual[1] if capacity is None else int(v.number("capacity", capacity, 1, integer=True))
    return KeyAccountCheck(n, kind, cap, usual)
