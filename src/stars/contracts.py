"""Contracts, revenue movements, renewals and revenue retention (GRR, NRR, logos).

A `Contract` is what the CRM knows about a subscription: the account, the days it
covers, its annual recurring revenue (ARR) and its currency. A `ContractBook` holds a
portfolio's contracts with the structure around them (which accounts are children of
which, which were merged into which, how currencies convert) and answers the questions
a renewal team asks: what each account's ARR is on a day, how it moved (new, expansion,
contraction, renewal, churn, reactivation), what renews when, and how much revenue a
cohort kept (gross and net revenue retention, logo retention). The definitions are on
the concepts page "Contracts and revenue retention".

Examples:
    >>> from datetime import date
    >>> from stars.contracts import Contract, ContractBook
    >>> book = ContractBook([
    ...     Contract("acme", date(2024, 7, 1), date(2025, 7, 1), 100, "USD", id="a1"),
    ...     Contract("acme", date(2025, 7, 1), date(2026, 7, 1), 130, "USD", id="a2",
    ...              renews="a1"),
    ...     Contract("bolt", date(2024, 3, 1), date(2025, 3, 1), 50, "USD"),
    ... ])
    >>> book.arr(on=date(2025, 1, 1)), book.arr(on=date(2025, 12, 31))
    (150.0, 130.0)
    >>> (r,) = book.retention(date(2025, 1, 1), date(2026, 1, 1))
    >>> r.opening, r.expansion, r.churn, round(r.grr, 4), round(r.nrr, 4)
    (150.0, 30.0, 50.0, 0.6667, 0.8667)
"""

from __future__ import annotations

import bisect
import calendar
import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs

from stars import _validate as v
from stars._ordered import OrderedStrEnum
from stars.account import Account
from stars.bands import Band
from stars.errors import InvalidDefinition, InvalidValue

if TYPE_CHECKING:
    from stars.lifecycle import Policy

__all__ = [
    "AccountTree",
    "BandRevenue",
    "Contract",
    "ContractBook",
    "Merge",
    "Movement",
    "MovementKind",
    "Renewal",
    "Retention",
    "add_months",
]

Unit = Literal["account", "parent"]
Every = Literal["month", "quarter", "year"]
_EVERY: Final = {"month": 1, "quarter": 3, "year": 12}
_CURRENCY = re.compile(r"[A-Z]{3}")
_NONE: Final = "(none)"


# --------------------------------------------------------------------------- small checks
def _day(field: str, value: object) -> date:
    """A calendar date; a datetime is refused, since its day depends on a time zone."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidValue(
            field, value, "a date", "for a datetime, pass its .date() in the zone you mean"
        )
    return value


def _optional_text(field: str, value: object) -> str | None:
    if value is not None:
        v.text(field, value)
    return value  # type: ignore[return-value]


def _check_currency(field: str, value: object) -> str:
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        raise InvalidValue(field, value, "a three-letter currency code such as 'USD'")
    return value


def _to_currency(value: object) -> object:
    # A converter that normalises good codes and leaves bad ones to the validator.
    if isinstance(value, str) and _CURRENCY.fullmatch(value.strip().upper()):
        return value.strip().upper()
    return value


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later, kept within the month.

    A day past the end of the target month becomes that month's last day, so a term
    starting on 31 January ends on the last day of February.

    Args:
        day: The starting date.
        months: How many months to add (may be negative).

    Returns:
        The date ``months`` months later.

    Raises:
        InvalidValue: If ``day`` is not a date or ``months`` not a whole number.

    Examples:
        >>> from datetime import date
        >>> from stars.contracts import add_months
        >>> add_months(date(2025, 1, 31), 1), add_months(date(2025, 3, 15), 12)
        (datetime.date(2025, 2, 28), datetime.date(2026, 3, 15))
    """
    _day("day", day)
    if isinstance(months, bool) or not isinstance(months, int):
        raise InvalidValue("months", months, "a whole number")
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


# --------------------------------------------------------------------------- contract
@attrs.frozen(slots=True)
class Contract:
    """One contract (or subscription): an account's recurring revenue over a span of days.

    The contract covers the days from ``start`` up to, but not including, ``end``:
    ``end`` is the renewal date, the first day the next term would cover. Build one from
    a term with `Contract.for_term`.

    Attributes:
        account: The account's id.
        start: The first day covered.
        end: The renewal date (the first day no longer covered); after ``start``.
        arr: Annual recurring revenue, at or above 0, in ``currency``.
        currency: A three-letter currency code (stored in upper case).
        id: The contract's id in your CRM, if any; unique within a `ContractBook`.
        renews: The id of the contract this one renews, if known. The renewed contract
            then ends where this one starts: early if this one starts before its end,
            bridged if it starts after.

    Examples:
        >>> from datetime import date
        >>> from stars.contracts import Contract
        >>> c = Contract("acme", date(2025, 1, 1), date(2026, 1, 1), 1200, "usd")
        >>> c.currency, c.term_months, c.covers(date(2025, 12, 31)), c.covers(c.end)
        ('USD', 12, True, False)
        >>> Contract("acme", date(2025, 1, 1), date(2025, 1, 1), 1200, "USD")
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: end: got datetime.date(2025, 1, 1), expected a date after ...
    """

    account: str = attrs.field(validator=v.field(v.text))
    start: date = attrs.field(validator=v.field(_day))
    end: date = attrs.field(validator=v.field(_day))
    arr: float = attrs.field(converter=v.plain_number, validator=v.field(v.number, 0))
    currency: str = attrs.field(converter=_to_currency, validator=v.field(_check_currency))
    id: str | None = attrs.field(default=None, validator=v.field(_optional_text))
    renews: str | None = attrs.field(default=None, validator=v.field(_optional_text))

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidValue("end", self.end, f"a date after start ({self.start.isoformat()})")
        if self.renews is not None and self.renews == self.id:
            raise InvalidValue("renews", self.renews, "the id of another contract")
        object.__setattr__(self, "arr", float(self.arr))

    @classmethod
    def for_term(
        cls,
        account: str,
        start: date,
        months: int,
        arr: float,
        currency: str,
        *,
        id: str | None = None,
        renews: str | None = None,
    ) -> Contract:
        """A contract that runs ``months`` calendar months from ``start``.

        Args:
            account: The account's id.
            start: The first day covered.
            months: The term in months (at least 1).
            arr: Annual recurring revenue.
            currency: A three-letter currency code.
            id: The contract's id, if any.
            renews: The id of the contract this one renews, if any.

        Returns:
            The contract, ending on `add_months` (``start``, ``months``).

        Raises:
            InvalidValue: For a bad argument.

        Examples:
            >>> from datetime import date
            >>> from stars.contracts import Contract
            >>> Contract.for_term("acme", date(2025, 3, 1), 24, 500, "EUR").end
            datetime.date(2027, 3, 1)
        """
        if isinstance(months, bool) or not isinstance(months, int) or months < 1:
            raise InvalidValue("months", months, "a whole number of months at or above 1")
        _day("start", start)
        return cls(account, start, add_months(start, months), arr, currency, id=id, renews=renews)

    @property
    def term_months(self) -> int | None:
        """The term in whole calendar months, or ``None`` when it is not a whole number.

        Examples:
            >>> from datetime import date
            >>> from stars.contracts import Contract
            >>> Contract("a", date(2025, 1, 1), date(2025, 2, 15), 1, "USD").term_months is None
            True
        """
        months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month
        return months if months > 0 and add_months(self.start, months) == self.end else None

    def covers(self, day: date) -> bool:
        """Whether the contract is in force on ``day`` (``start <= day < end``).

        Examples:
            >>> from datetime import date
            >>> from stars.contracts import Contract
            >>> c = Contract("a", date(2025, 1, 1), date(2026, 1, 1), 1, "USD")
            >>> c.covers(date(2024, 12, 31)), c.covers(date(2025, 1, 1))
            (False, True)
        """
        _day("day", day)
        return self.start <= day < self.end


# --------------------------------------------------------------------------- hierarchy and merges
@attrs.frozen(slots=True)
class Merge:
    """One account merged into another: both keep their contracts, the old id redirects.

    Attributes:
        old: The id that goes away.
        into: The id that survives.
        at: When the merge happened, for the record (revenue is restated over the whole
            history, so a merge never shows as churn of one account and expansion of the
            other).
        reason: Why, if given.

    Examples:
        >>> from datetime import date
        >>> from stars.contracts import Merge
        >>> Merge("globex-old", "globex", at=date(2025, 6, 1)).into
        'globex'
        >>> Merge("globex", "globex")
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: into: got 'globex', expected an id other than old ('globex')
    """

    old: str = attrs.field(validator=v.field(v.text))
    into: str = attrs.field(validator=v.field(v.text))
    at: date | None = attrs.field(default=None, validator=v.field(_day, optional=True))
    reason: str | None = attrs.field(default=None, validator=v.field(v.optional_string))

    def __attrs_post_init__(self) -> None:
        if self.old == self.into:
            raise InvalidValue("into", self.into, f"an id other than old ({self.old!r})")


def _parents(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise InvalidValue("parents", value, "a mapping of child id to parent id")
    out: dict[str, str] = {}
    for child, parent in value.items():
        v.text("parents key", child)
        v.text(f"parents[{child!r}]", parent)
        out[child] = parent
    return out


def _merges(value: object) -> tuple[Merge, ...]:
    return v.tuple_of("merges", Merge)(value)


@attrs.frozen(slots=True)
class AccountTree:
    """Which accounts belong to which parent, and which were merged into which.

    The hierarchy is data, kept apart from `Account`: ``parents`` maps a child's id to
    its parent's id, at any depth. ``merges`` redirect an old id to the id it was merged
    into; the redirect is followed wherever an id is used, here and in a `ContractBook`,
    so contracts recorded under the old id count for the surviving account. Both are
    checked when the tree is built: a cycle, an id merged into two accounts, or a child
    given two parents (once merges are followed) raises `InvalidDefinition`.

    Attributes:
        parents: Child id to parent id.
        merges: The merges, in any order.

    Examples:
        >>> from stars.contracts import AccountTree, Merge
        >>> tree = AccountTree({"acme-eu": "acme", "acme-de": "acme-eu", "acme-fr-old": "acme-eu"},
        ...                    merges=[Merge("acme-fr-old", "acme-fr")])
        >>> tree.resolve("acme-fr-old"), tree.parent_of("acme-fr"), tree.root_of("acme-de")
        ('acme-fr', 'acme-eu', 'acme')
        >>> tree.descendants_of("acme")
        ('acme-de', 'acme-eu', 'acme-fr')
        >>> AccountTree({"a": "b", "b": "a"})
        Traceback (most recent call last):
        ...
        stars.errors.InvalidDefinition: parents: 'a' is its own ancestor ('a' -> 'b' -> 'a')
    """

    parents: Mapping[str, str] = attrs.field(factory=dict, converter=_parents, hash=False)
    merges: tuple[Merge, ...] = attrs.field(default=(), converter=_merges)
    _redirect: dict[str, str] = attrs.field(init=False, eq=False, repr=False, hash=False)
    _parent: dict[str, str] = attrs.field(init=False, eq=False, repr=False, hash=False)
    _children: dict[str, tuple[str, ...]] = attrs.field(
        init=False, eq=False, repr=False, hash=False
    )

    def __attrs_post_init__(self) -> None:
        step: dict[str, str] = {}
        for m in self.merges:
            if m.old in step and step[m.old] != m.into:
                raise InvalidDefinition(
                    f"merges: {m.old!r} is merged into both {step[m.old]!r} and {m.into!r}"
                )
            step[m.old] = m.into
        redirect: dict[str, str] = {}
        for old in step:
            path = [old]
            current = old
            while current in step:
                current = step[current]
                if current in path:
                    chain = " -> ".join(repr(x) for x in [*path, current])
                    raise InvalidDefinition(f"merges: {old!r} is merged into itself ({chain})")
                path.append(current)
            redirect[old] = current
        object.__setattr__(self, "_redirect", redirect)

        parent: dict[str, str] = {}
        for child, up in self.parents.items():
            c, p = redirect.get(child, child), redirect.get(up, up)
            if c == p:  # a child merged into its parent (or the reverse): no edge left
                continue
            if c in parent and parent[c] != p:
                raise InvalidDefinition(
                    f"parents: {c!r} has two parents once merges are followed:"
                    f" {parent[c]!r} and {p!r}"
                )
            parent[c] = p
        for start in parent:
            path = [start]
            current = start
            while current in parent:
                current = parent[current]
                if current in path:
                    chain = " -> ".join(repr(x) for x in [*path, current])
                    raise InvalidDefinition(f"parents: {current!r} is its own ancestor ({chain})")
                path.append(current)
        object.__setattr__(self, "_parent", parent)
        children: dict[str, list[str]] = {}
        for c, p in parent.items():
            children.setdefault(p, []).append(c)
        object.__setattr__(self, "_children", {p: tuple(sorted(cs)) for p, cs in children.items()})

    def resolve(self, account: str) -> str:
        """The id that ``account`` stands for now: itself, or the account it was merged into.

        Merges are followed to the end (``a`` into ``b`` and ``b`` into ``c`` resolve to ``c``).

        Examples:
            >>> from stars.contracts import AccountTree, Merge
            >>> AccountTree(merges=[Merge("a", "b"), Merge("b", "c")]).resolve("a")
            'c'
        """
        return self._redirect.get(account, account)

    def aliases_of(self, account: str) -> tuple[str, ...]:
        """The old ids that redirect to ``account``, sorted.

        Examples:
            >>> from stars.contracts import AccountTree, Merge
            >>> AccountTree(merges=[Merge("a", "c"), Merge("b", "c")]).aliases_of("c")
            ('a', 'b')
        """
        target = self.resolve(account)
        return tuple(sorted(old for old, new in self._redirect.items() if new == target))

    def parent_of(self, account: str) -> str | None:
        """The parent of ``account`` (after merges), or ``None`` for a top-level account.

        Examples:
            >>> from stars.contracts import AccountTree
            >>> print(AccountTree({"b": "a"}).parent_of("a"))
            None
        """
        return self._parent.get(self.resolve(account))

    def root_of(self, account: str) -> str:
        """The top-level ancestor of ``account`` (the account itself when it has no parent).

        Examples:
            >>> from stars.contracts import AccountTree
            >>> AccountTree({"c": "b", "b": "a"}).root_of("c")
            'a'
        """
        current = self.resolve(account)
        while current in self._parent:
            current = self._parent[current]
        return current

    def children_of(self, account: str) -> tuple[str, ...]:
        """The direct children of ``account``, sorted.

        Examples:
            >>> from stars.contracts import AccountTree
            >>> AccountTree({"c": "b", "b": "a", "d": "a"}).children_of("a")
            ('b', 'd')
        """
        return self._children.get(self.resolve(account), ())

    def descendants_of(self, account: str) -> tuple[str, ...]:
        """Every account below ``account``, at any depth, sorted.

        Examples:
            >>> from stars.contracts import AccountTree
            >>> AccountTree({"c": "b", "b": "a"}).descendants_of("a")
            ('b', 'c')
        """
        out: list[str] = []
        todo = list(self.children_of(account))
        while todo:
            child = todo.pop()
            out.append(child)
            todo.extend(self._children.get(child, ()))
        return tuple(sorted(out))


# --------------------------------------------------------------------------- results
class MovementKind(OrderedStrEnum):
    """How an account's recurring revenue changed.

    - ``new``: from nothing, for an account that never had revenue before;
    - ``expansion``: up, from above zero;
    - ``contraction``: down, but not to zero;
    - ``renewal``: a contract ended and another started the same day (or the gap was
      bridged), with the same revenue: a flat renewal, amount 0;
    - ``churn``: down to zero;
    - ``reactivation``: from nothing, for an account that had revenue before.

    Examples:
        >>> from stars.contracts import MovementKind
        >>> [k.value for k in MovementKind]
        ['new', 'expansion', 'contraction', 'renewal', 'churn', 'reactivation']
    """

    NEW = "new"
    EXPANSION = "expansion"
    CONTRACTION = "contraction"
    RENEWAL = "renewal"
    CHURN = "churn"
    REACTIVATION = "reactivation"


@attrs.frozen(slots=True)
class Movement:
    """One change of an account's (or a parent's) recurring revenue, on one day.

    Attributes:
        account: The account (after merges), or the top-level parent when rolled up.
        on: The day the change took effect.
        kind: What kind of change it was.
        amount: ``after - before`` (negative for contraction and churn, 0 for a renewal).
        before: The revenue the day before.
        after: The revenue from this day.
        currency: The book's reporting currency.
        at_renewal: Whether a contract ended and another started on this day, so the
            change came with a renewal (an uplift at renewal is an expansion at renewal).

    Examples:
        >>> from datetime import date
        >>> from stars.contracts import Contract, ContractBook
        >>> book = ContractBook([Contract.for_term("acme", date(2025, 1, 1), 12, 100, "USD")])
        >>> [(m.on.isoformat(), m.kind.value, m.amount) for m in book.movements()]
        [('2025-01-01', 'new', 100.0), ('2026-01-01', 'churn', -100.0)]
    """

    account: str
    on: date
    kind: MovementKind
    amount: float
    before: float
    after: float
    currency: str
    at_renewal: bool = False


@attrs.frozen(slots=True)
class Renewal:
    """A contract coming up for renewal: the renewal calendar's row.

    Attributes:
        on: The renewal date (the contract's ``end``).
        account: The account (after merges).
        contract: The contract, as recorded (its own ``account`` is kept).
        arr: Its annual recurring revenue in the book's reporting currency.
        currency: The book's reporting currency.
        renewed: Whether a successor is known: a contract that ``renews`` it, or another
            contract of the same account starting on the renewal date or within the
            book's grace days after it.
        parent: The account's top-level parent, when it has one.
        band: The account's current health band: that of its latest snapshot with a health
            score or a band, when accounts were given.
        health: That snapshot's health score, when it has one.

    Examples:
        >>> from datetime import date
        >>> from stars.contracts import Contract, ContractBook
        >>> book = ContractBook([Contract.for_term("acme", date(2025, 1, 1), 12, 100, "USD")])
        >>> (r,) = book.renewals(date(2025, 1, 1), date(2027, 1, 1))
        >>> r.on, r.arr, r.renewed
        (datetime.date(2026, 1, 1), 100.0, False)
    """

    on: date
    account: str
    contract: Contract
    arr: float
    currency: str
    renewed: bool
    parent: str | None = None
    band: Band | None = None
    health: float | None = None


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _money(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


@attrs.frozen(slots=True)
class Retention:
    """Revenue and logo retention of one group over one period.

    The period runs from ``start`` through the day before ``end``. The cohort is every
    account (or parent, when rolled up) with revenue in force as the period opens, that
    is on the day before ``start``: ``opening`` is its revenue. Each cohort member is
    compared with its own revenue on the day before ``end``: a rise is ``expansion``, a
    fall to above zero is ``contraction``, a fall to zero is ``churn``. Accounts outside
    the cohort that have revenue at the end are ``new`` (never had revenue before) or
    ``reactivation`` (had revenue before the period). So
    ``opening + new + reactivation + expansion - contraction - churn == closing``.

    Attributes:
        start: The first day of the period.
        end: The day after the last day of the period.
        group: The group (``"all"`` when not grouped).
        currency: The reporting currency (``None`` for an empty book).
        opening: The cohort's revenue as the period opens.
        new: Revenue at the end from accounts that never had any before.
        reactivation: Revenue at the end from accounts that had revenue before the period
            but none as it opened.
        expansion: The cohort's rises (each member's end revenue above its opening).
        contraction: The cohort's falls to a revenue above zero.
        churn: The opening revenue of cohort members with no revenue at the end.
        closing: All the group's revenue at the end of the period.
        logos_opening: Cohort members.
        logos_retained: Cohort members with revenue at the end.
        logos_new: Accounts counted under ``new``.
        logos_reactivated: Accounts counted under ``reactivation``.

    Examples:
        >>> from datetime import date
        >>> from stars.contracts import Retention
        >>> r = Retention(date(2025, 1, 1), date(2026, 1, 1), "all", "USD", opening=200,
        ...               new=10, reactivation=0, expansion=30, contraction=20, churn=40,
        ...               closing=180, logos_opening=4, logos_retained=3, logos_new=1,
        ...               logos_reactivated=0)
        >>> r.grr, r.nrr, r.logo_retention
        (0.7, 0.85, 0.75)
        >>> print(r.summary())  # doctest: +NORMALIZE_WHITESPACE
        2025-01-01 to 2025-12-31, all: opening 200 + new 10 + reactivation 0
        + expansion 30 - contraction 20 - churn 40 = closing 180 USD;
        GRR 70.0%, NRR 85.0%, logos 3 of 4 kept (75.0%)
    """

    start: date
    end: date
    group: str
    currency: str | None
    opening: float
    new: float
    reactivation: float
    expansion: float
    contraction: float
    churn: float
    closing: float
    logos_opening: int
    logos_retained: int
    logos_new: int
    logos_reactivated: int

    @property
    def retained(self) -> float:
        """The cohort's revenue kept, expansion left out: ``opening - contraction - churn``.

        Examples:
            >>> from datetime import date
            >>> from stars.contracts import Retention
            >>> Retention(date(2025, 1, 1), date(2025, 4, 1), "all", "USD", 100, 0, 0, 5,
            ...           10, 0, 95, 1, 1, 0, 0).retained
            90.0
        """
        # Contraction and churn never exceed the opening revenue; summed in floats, they
        # can overshoot it by a rounding error, which would show as a GRR of "-0.0%".
        return max(0.0, float(self.opening - self.contraction - self.churn))

    @property
    def grr(self) -> float | None:
        """Gross revenue retention: ``(opening - contraction - churn) / opening``.

        Never above 1: expansion is left out, each member counts at most its opening
        revenue. ``None`` when the cohort is empty.

        Examples:
            >>> from datetime import date
            >>> from stars.contracts import Retention
            >>> Retention(date(2025, 1, 1), date(2025, 4, 1), "all", "USD", 100, 0, 0, 5,
            ...           10, 0, 95, 1, 1, 0, 0).grr
            0.9
        """
        return _ratio(self.retained, self.opening)

    @property
    def nrr(self) -> float | None:
        """Net revenue retention: ``(opening + expansion - contraction - churn) / opening``.

        Expansion counts, new and reactivated accounts do not. ``None`` when the cohort
        is empty.

        Examples:
            >>> from datetime import date
            >>> from stars.contracts import Retention
            >>> Retention(date(2025, 1, 1), date(2025, 4, 1), "all", "USD", 100, 0, 0, 5,
            ...           10, 0, 95, 1, 1, 0, 0).nrr
            0.95
        """
        return _ratio(self.retained + self.expansion, self.opening)

    @property
    def logo_retention(self) -> float | None:
        """The share of cohort members that still have revenue at the end.

        Examples:
            >>> from datetime import date
            >>> from stars.contracts import Retention
            >>> print(Retention(date(2025, 1, 1), date(2025, 4, 1), "all", "USD", 0, 0, 0,
            ...                 0, 0, 0, 0, 0, 0, 0, 0).logo_retention)
            None
        """
        if not self.logos_opening:
            return None
        return self.logos_retained / self.logos_opening

    def summary(self) -> str:
        """One line: the revenue bridge, GRR, NRR and logo retention.

        Examples:
            >>> from datetime import date
            >>> from stars.contracts import Retention
            >>> r = Retention(date(2025, 1, 1), date(2025, 4, 1), "smb", "EUR", 100, 0, 0,
            ...               5, 10, 0, 95, 1, 1, 0, 0)
            >>> r.summary().split(";")[1]
            ' GRR 90.0%, NRR 95.0%, logos 1 of 1 kept (100.0%)'
        """
        last = self.end - timedelta(days=1)
        cur = f" {self.currency}" if self.currency else ""
        return (
            f"{self.start.isoformat()} to {last.isoformat()}, {self.group}:"
            f" opening {_money(self.opening)} + new {_money(self.new)}"
            f" + reactivation {_money(self.reactivation)} + expansion {_money(self.expansion)}"
            f" - contraction {_money(self.contraction)} - churn {_money(self.churn)}"
            f" = closing {_money(self.closing)}{cur};"
            f" GRR {_pct(self.grr)}, NRR {_pct(self.nrr)},"
            f" logos {self.logos_retained} of {self.logos_opening} kept"
            f" ({_pct(self.logo_retention)})"
        )


@attrs.frozen(slots=True)
class BandRevenue:
    """Recurring revenue in force on a day, by current health band.

    Attributes:
        band: The band (``None``: the account has no band, or was not given).
        accounts: Accounts with revenue in this band.
        arr: Their revenue, in the book's reporting currency.
        share: Their share of all revenue in force that day (0 to 1).

    Examples:
        >>> from datetime import date, datetime, timezone
        >>> from stars import Account, Snapshot
        >>> from stars.contracts import Contract, ContractBook
        >>> book = ContractBook([Contract.for_term("a", date(2025, 1, 1), 12, 300, "USD"),
        ...                      Contract.for_term("b", date(2025, 1, 1), 12, 100, "USD")])
        >>> red = Account("b", snapshots=[Snapshot(at=datetime(2025, 2, 1, tzinfo=timezone.utc),
        ...                                         health=20)])
        >>> [(r.band, r.arr, r.share) for r in book.revenue_by_band(date(2025, 6, 1), [red])]
        [(<Band.RED: 'red'>, 100.0, 0.25), (None, 300.0, 0.75)]
    """

    band: Band | None
    accounts: int
    arr: float
    share: float


# --------------------------------------------------------------------------- timelines
class _Timeline:
    """One account's (or parent's) revenue as a step function of the day, kept exact."""

    __slots__ = ("dates", "exact", "first_positive", "renewal_days", "values")

    def __init__(
        self,
        deltas: Mapping[date, Fraction],
        starts: set[date],
        ends: set[date],
        grace: int,
    ) -> None:
        dates = sorted(deltas)
        values: list[Fraction] = []
        running = Fraction(0)
        for d in dates:
            running += deltas[d]
            values.append(running)
        ends = set(ends)
        if grace > 0:  # a short gap between two spans of revenue is bridged
            kept_d: list[date] = []
            kept_v: list[Fraction] = []
            for i, d in enumerate(dates):
                if (
                    values[i] == 0
                    and kept_v
                    and kept_v[-1] > 0
                    and i + 1 < len(dates)
                    and values[i + 1] > 0
                    and (dates[i + 1] - d).days <= grace
                ):
                    ends.add(dates[i + 1])  # the revenue resumes there: a renewal point
                    continue
                kept_d.append(d)
                kept_v.append(values[i])
            dates, values = kept_d, kept_v
        renewal_days = starts & ends
        out_d: list[date] = []
        out_v: list[Fraction] = []
        previous = Fraction(0)
        for d, value in zip(dates, values, strict=True):
            if value == previous and not (value > 0 and d in renewal_days):
                continue
            out_d.append(d)
            out_v.append(value)
            previous = value
        self.dates = out_d
        self.exact = out_v
        self.values = [float(x) for x in out_v]
        self.renewal_days = renewal_days
        self.first_positive = next((d for d, x in zip(out_d, out_v, strict=True) if x > 0), None)

    def on(self, day: date) -> float:
        """Revenue in force on ``day``."""
        i = bisect.bisect_right(self.dates, day) - 1
        return self.values[i] if i >= 0 else 0.0

    def before(self, day: date) -> float:
        """Revenue in force on the day before ``day``."""
        i = bisect.bisect_left(self.dates, day) - 1
        return self.values[i] if i >= 0 else 0.0

    def deltas(self) -> dict[date, Fraction]:
        out: dict[date, Fraction] = {}
        previous = Fraction(0)
        for d, x in zip(self.dates, self.exact, strict=True):
            out[d] = x - previous
            previous = x
        return out


def _combine(parts: Iterable[_Timeline]) -> _Timeline:
    deltas: dict[date, Fraction] = {}
    starts: set[date] = set()
    ends: set[date] = set()
    for part in parts:
        for d, x in part.deltas().items():
            deltas[d] = deltas.get(d, Fraction(0)) + x
        starts |= part.renewal_days
        ends |= part.renewal_days
    return _Timeline(deltas, starts, ends, 0)


def _kind(before: float, after: float, had_before: bool) -> MovementKind:
    if before == after:
        return MovementKind.RENEWAL
    if before == 0:
        return MovementKind.REACTIVATION if had_before else MovementKind.NEW
    if after == 0:
        return MovementKind.CHURN
    return MovementKind.EXPANSION if after > before else MovementKind.CONTRACTION


def _account_index(accounts: Iterable[Account], tree: AccountTree) -> dict[str, Account]:
    if isinstance(accounts, str | bytes | Mapping) or not isinstance(accounts, Iterable):
        raise InvalidValue("accounts", accounts, "an iterable of Account values")
    exact: dict[str, Account] = {}
    redirected: dict[str, Account] = {}
    for i, account in enumerate(accounts):
        if not isinstance(account, Account):
            raise InvalidValue(f"accounts[{i}]", account, "an Account")
        exact[account.id] = account
        redirected.setdefault(tree.resolve(account.id), account)
    return {**redirected, **exact}


def _health(account: Account | None, policy: Policy) -> tuple[Band | None, float | None]:
    """The band and score of the account's latest snapshot that has a score or a band."""
    if account is None:
        return None, None
    for snapshot in reversed(account.snapshots):
        if snapshot.health is not None or snapshot.band is not None:
            return policy.band_of(snapshot), snapshot.health
    return None, None


def _check_rates(value: object) -> dict[str, float] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidValue("rates", value, "a mapping of currency code to rate, or None")
    out: dict[str, float] = {}
    for code, rate in value.items():
        if not isinstance(code, str) or not _CURRENCY.fullmatch(code.strip().upper()):
            raise InvalidValue("rates key", code, "a three-letter currency code such as 'EUR'")
        if v.number(f"rates[{code!r}]", rate, 0) == 0:
            raise InvalidValue(f"rates[{code!r}]", rate, "a rate above 0")
        out[code.strip().upper()] = v.plain_number(rate)
    return out


def _check_grace(field: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidValue(field, value, "a whole number of days at or above 0")


def _contracts(value: object) -> tuple[Contract, ...]:
    return v.tuple_of("contracts", Contract)(value)


# --------------------------------------------------------------------------- the book
@attrs.frozen(slots=True, eq=False)
class ContractBook:
    """A portfolio's contracts, with its account tree and currencies: revenue questions.

    All amounts are converted to one reporting currency. Without ``rates`` every
    contract must be in the same currency (mixing them is refused); with ``rates``,
    each contract's revenue is multiplied by its currency's rate, a constant rate, so
    that exchange-rate moves never show as expansion or contraction.

    Revenue is counted per account after merges: an account's revenue on a day is the
    sum of its contracts in force that day. A contract renewed by another (``renews``)
    ends where its successor starts. ``grace_days`` bridges a short gap in an account's
    revenue: when its revenue falls to zero and comes back within that many days, the
    revenue before the gap is counted through it, so a late signature is a renewal and
    not a churn followed by a reactivation.

    Attributes:
        contracts: The contracts, in any order; ids, when given, must be unique.
        tree: Parents and merges (default: none).
        rates: Currency code to the value of one unit of it in the reporting currency.
        currency: The reporting currency; needed with ``rates`` (the currency the rates
            convert into), otherwise the contracts' own currency.
        grace_days: The longest gap in an account's revenue that is bridged (default 0).

    Raises:
        InvalidValue: For a bad argument, several currencies without rates, a currency
            without a rate, a repeated contract id, or a ``renews`` that names an unknown
            contract, one of another account, or one that does not start earlier.

    Examples:
        >>> from datetime import date
        >>> from stars.contracts import Contract, ContractBook
        >>> usd = Contract.for_term("acme", date(2025, 1, 1), 12, 100, "USD")
        >>> eur = Contract.for_term("bolt", date(2025, 1, 1), 12, 100, "EUR")
        >>> ContractBook([usd, eur])
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: currency: got ('EUR', 'USD'), expected contracts in one ...
        >>> ContractBook([usd, eur], rates={"EUR": 1.1}, currency="USD").arr(on=date(2025, 6, 1))
        210.0
    """

    contracts: tuple[Contract, ...] = attrs.field(converter=_contracts)
    tree: AccountTree = attrs.field(factory=AccountTree)
    rates: Mapping[str, float] | None = attrs.field(default=None, converter=_check_rates)
    currency: str | None = attrs.field(
        default=None,
        converter=_to_currency,
        validator=v.field(_check_currency, optional=True),
    )
    grace_days: int = attrs.field(default=0, validator=v.field(_check_grace))
    _amounts: tuple[float, ...] = attrs.field(init=False, repr=False)
    _ends: tuple[date, ...] = attrs.field(init=False, repr=False)
    _renewed_by: dict[int, tuple[int, ...]] = attrs.field(init=False, repr=False)
    _timelines: dict[str, _Timeline] = attrs.field(init=False, repr=False)
    _cache: dict[str, dict[str, _Timeline]] = attrs.field(init=False, repr=False)

    @tree.validator
    def _check_tree(self, attribute: Any, value: Any) -> None:
        if not isinstance(value, AccountTree):
            raise InvalidValue("tree", value, "an AccountTree")

    def __attrs_post_init__(self) -> None:
        contracts = self.contracts
        currencies = sorted({c.currency for c in contracts})
        rates = self.rates
        if rates is None:
            if len(currencies) > 1:
                raise InvalidValue(
                    "currency",
                    tuple(currencies),
                    "contracts in one currency (pass rates= and currency= to convert,"
                    f" e.g. rates={{{currencies[0]!r}: 1.08}}, currency={currencies[1]!r})",
                )
            if self.currency is not None and currencies and currencies[0] != self.currency:
                raise InvalidValue(
                    "currency",
                    self.currency,
                    f"{currencies[0]!r}, the contracts' currency (or pass rates= to convert)",
                )
            if self.currency is None and currencies:
                object.__setattr__(self, "currency", currencies[0])
            rate = dict.fromkeys(currencies, 1.0)
        else:
            if self.currency is None:
                raise InvalidValue(
                    "currency", None, "the reporting currency the rates convert into"
                )
            rate = {self.currency: 1.0, **rates}
            if rate[self.currency] != 1.0:
                raise InvalidValue(
                    f"rates[{self.currency!r}]",
                    rates[self.currency],
                    "1, the reporting currency's own rate (or leave it out)",
                )
            for code in currencies:
                if code not in rate:
                    raise InvalidValue(
                        "rates",
                        code,
                        f"a rate for every contract currency; {code!r} has none",
                    )
        amounts = tuple(c.arr * rate[c.currency] for c in contracts)

        by_id: dict[str, int] = {}
        for i, c in enumerate(contracts):
            if c.id is None:
                continue
            if c.id in by_id:
                raise InvalidValue(f"contracts[{i}].id", c.id, "an id not used by another contract")
            by_id[c.id] = i
        tree = self.tree
        successors: dict[int, list[int]] = {}
        for i, c in enumerate(contracts):
            if c.renews is None:
                continue
            j = by_id.get(c.renews)
            if j is None:
                raise InvalidValue(
                    f"contracts[{i}].renews", c.renews, "the id of a contract in the book"
                )
            old = contracts[j]
            if tree.resolve(old.account) != tree.resolve(c.account):
                raise InvalidValue(
                    f"contracts[{i}].renews",
                    c.renews,
                    f"a contract of the same account ({c.account!r}), not of {old.account!r}",
                )
            if c.start <= old.start:
                raise InvalidValue(
                    f"contracts[{i}].renews",
                    c.renews,
                    f"a contract that starts before this one ({c.start.isoformat()})",
                )
            successors.setdefault(j, []).append(i)
        ends = tuple(
            min(contracts[k].start for k in successors[i]) if i in successors else c.end
            for i, c in enumerate(contracts)
        )
        per_account: dict[str, tuple[dict[date, Fraction], set[date], set[date]]] = {}
        for i, c in enumerate(contracts):
            deltas, starts, stops = per_account.setdefault(
                tree.resolve(c.account), ({}, set(), set())
            )
            amount = Fraction(amounts[i])
            deltas[c.start] = deltas.get(c.start, Fraction(0)) + amount
            deltas[ends[i]] = deltas.get(ends[i], Fraction(0)) - amount
            starts.add(c.start)
            stops.add(ends[i])
        timelines = {
            account: _Timeline(deltas, starts, stops, self.grace_days)
            for account, (deltas, starts, stops) in per_account.items()
        }
        object.__setattr__(self, "_amounts", amounts)
        object.__setattr__(self, "_ends", ends)
        object.__setattr__(self, "_renewed_by", {k: tuple(s) for k, s in successors.items()})
        object.__setattr__(self, "_timelines", timelines)
        object.__setattr__(self, "_cache", {"account": timelines})

    # ----------------------------------------------------------------- lookups
    @property
    def accounts(self) -> tuple[str, ...]:
        """The accounts (after merges) that hold at least one contract, sorted.

        Examples:
            >>> from datetime import date
            >>> from stars.contracts import AccountTree, Contract, ContractBook, Merge
            >>> book = ContractBook([Contract.for_term("old", date(2025, 1, 1), 12, 1, "USD")],
            ...                     tree=AccountTree(merges=[Merge("old", "new")]))
            >>> book.accounts
            ('new',)
        """
        return tuple(sorted(self._timelines))

    def contracts_of(self, account: str, *, rollup: bool = False) -> tuple[Contract, ...]:
        """The contracts of ``account``, including those recorded under ids merged into it.

        An old id redirects: asking for it gives the surviving account's contracts.

        Args:
            account: An account id (old or surviving).
            rollup: Also the contracts of every account below it in the tree.

        Returns:
            The contracts, as recorded, by start date.

        Examples:
            >>> from datetime import date
            >>> from stars.contracts import AccountTree, Contract, ContractBook, Merge
            >>> book = ContractBook(
            ...     [Contract.for_term("old", date(2024, 1, 1), 12, 70, "USD", id="o1"),
            ...      Contract.for_term("new", date(2025, 1, 1), 12, 100, "USD", id="n1")],
            ...     tree=AccountTree(merges=[Merge("old", "new")]))
            >>> [c.id for c in book.contracts_of("old")]
            ['o1', 'n1']
        """
        v.text("account", account)
        wanted = self._scope(account, rollup)
        found = [c for c in self.contracts if self.tree.resolve(c.account) in wanted]
        return tuple(sorted(found, key=lambda c: (c.start, c.end, c.id or "")))

    def _scope(self, account: str, rollup: bool) -> set[str]:
        target = self.tree.resolve(account)
        return {target, *self.tree.descendants_of(target)} if rollup else {target}

    def arr(self, account: str | None = None, *, on: date, rollup: bool = False) -> float:
        """Annual recurring revenue in force on the day ``on``.

        Args:
            account: An account (old ids redirect); ``None`` for the whole book.
            on: The day.
            rollup: Add the revenue of every account below ``account`` in the tree.

        Returns:
            The revenue in the reporting currency (0 for an account without contracts).

        Examples:
            >>> from datetime import date
            >>> from stars.contracts import AccountTree, Contract, ContractBook
            >>> book = ContractBook([Contract.for_term("acme", date(2025, 1, 1), 12, 100, "USD"),
            ...                      Contract.for_term("acme-eu", date(2025, 1, 1), 12, 40, "USD")],
            ...                     tree=AccountTree({"acme-eu": "acme"}))
            >>> day = date(2025, 6, 1)
            >>> book.arr("acme", on=day), book.arr("acme", on=day, rollup=True), book.arr(on=day)
            (100.0, 140.0, 140.0)
        """
        _day("on", on)
        if account is None:
            return math.fsum(t.on(on) for t in self._timelines.values())
        v.text("account", account)
        return math.fsum(
            self._timelines[a].on(on) for a in self._scope(account, rollup) if a in self._timelines
        )

    def _units(self, unit: object) -> dict[str, _Timeline]:
        if unit not in ("account", "parent"):
            raise InvalidValue("unit", unit, "'account' or 'parent'")
        found = self._cache.get(str(unit))
        if found is None:
            groups: dict[str, list[_Timeline]] = {}
            for account, timeline in self._timelines.items():
                groups.setdefault(self.tree.root_of(account), []).append(timeline)
            found = {root: _combine(parts) for root, parts in groups.items()}
            self._cache[str(unit)] = found
        return found

    # ----------------------------------------------------------------- movements
    def movements(
        self, start: date | None = None, end: date | None = None, *, unit: Unit = "account"
    ) -> tuple[Movement, ...]:
        """Every change of revenue, per account (or per top-level parent), by day.

        Args:
            start: The first day to include (default: from the beginning).
            end: The first day not to include (default: to the end).
            unit: ``"account"`` (after merges) or ``"parent"``: each top-level parent with
                everything below it, so moves between siblings net out.

        Returns:
            The movements, by day, then account. Their amounts over any span of days add
            up to the change in revenue over it.

        Raises:
            InvalidValue: For a bad argument, or ``end`` not after ``start``.

        Examples:
            >>> from datetime import date
            >>> from stars.contracts import Contract, ContractBook
            >>> book = ContractBook([
            ...     Contract.for_term("acme", date(2024, 1, 1), 12, 100, "USD", id="a1"),
            ...     Contract.for_term("acme", date(2025, 1, 1), 12, 100, "USD", renews="a1"),
            ...     Contract.for_term("acme", date(2025, 7, 1), 6, 20, "USD"),
            ... ])
            >>> for m in book.movements(date(2025, 1, 1)):
            ...     print(m.on, m.kind.value, m.amount, m.at_renewal)
            2025-01-01 renewal 0.0 True
            2025-07-01 expansion 20.0 False
            2026-01-01 churn -120.0 False
        """
        lo, hi = self._span(start, end)
        out: list[Movement] = []
        currency = self.currency or ""
        for account, t in self._units(unit).items():
            previous = 0.0
            for d, after in zip(t.dates, t.values, strict=True):
                before = previous
                previous = after
                if (lo is not None and d < lo) or (hi is not None and d >= hi):
                    continue
                kind = _kind(before, after, t.first_positive is not None and t.first_positive < d)
                out.append(
                    Movement(
                        account,
                        d,
                        kind,
                        after - before,
                        before,
                        after,
                        currency,
                        d in t.renewal_days,
                    )
                )
        out.sort(key=lambda m: (m.on, m.account))
        return tuple(out)

    @staticmethod
    def _window(start: date, end: date) -> tuple[date, date]:
        _day("start", start)
        _day("end", end)
        if end <= start:
            raise InvalidValue("end", end, f"a date after start ({start.isoformat()})")
        return start, end

    @staticmethod
    def _span(start: date | None, end: date | None) -> tuple[date | None, date | None]:
        if start is not None:
            _day("start", start)
        if end is not None:
            _day("end", end)
        if start is not None and end is not None and end <= start:
            raise InvalidValue("end", end, f"a date after start ({start.isoformat()})")
        return start, end

    # ----------------------------------------------------------------- renewals
    def renewals(
        self,
        start: date,
        end: date,
        *,
        accounts: Iterable[Account] = (),
        policy: Policy | None = None,
    ) -> tuple[Renewal, ...]:
        """The renewal calendar: every contract whose renewal date falls in ``[start, end)``.

        Args:
            start: The first day of the window.
            end: The first day after it.
            accounts: Accounts to read the current health from (matched by id, old ids
                redirecting): their latest snapshot with a health score or a band gives
                ``band`` and ``health`` (snapshots that report other things are passed over).
            policy: The band cut-offs for snapshots without a band (default `Policy()`).

        Returns:
            The renewals by date, then account, then contract id.

        Raises:
            InvalidValue: For a bad argument.

        Examples:
            >>> from datetime import date, datetime, timezone
            >>> from stars import Account, Snapshot
            >>> from stars.contracts import Contract, ContractBook
            >>> book = ContractBook([
            ...     Contract.for_term("acme", date(2024, 3, 1), 12, 100, "USD", id="a1"),
            ...     Contract.for_term("acme", date(2025, 3, 1), 12, 120, "USD", renews="a1"),
            ...     Contract.for_term("bolt", date(2024, 5, 1), 12, 50, "USD", id="b1"),
            ... ])
            >>> bolt = Account("bolt", snapshots=[
            ...     Snapshot(at=datetime(2025, 1, 1, tzinfo=timezone.utc), health=35)])
            >>> for r in book.renewals(date(2025, 1, 1), date(2025, 7, 1), accounts=[bolt]):
            ...     print(r.on, r.account, r.arr, r.renewed, r.band)
            2025-03-01 acme 100.0 True None
            2025-05-01 bolt 50.0 False red
        """
        lo, hi = self._window(start, end)
        index = _account_index(accounts, self.tree)
        if policy is None:
            from stars.lifecycle import Policy

            policy = Policy()
        tree = self.tree
        grace = timedelta(days=self.grace_days)
        starts: dict[str, list[tuple[date, int]]] = {}
        for i, c in enumerate(self.contracts):
            starts.setdefault(tree.resolve(c.account), []).append((c.start, i))
        out: list[Renewal] = []
        for i, c in enumerate(self.contracts):
            if not lo <= c.end < hi:
                continue
            account = tree.resolve(c.account)
            renewed = i in self._renewed_by or any(
                j != i and c.start < s and c.end <= s <= c.end + grace for s, j in starts[account]
            )
            root = tree.root_of(account)
            holder = index.get(account) or index.get(c.account)
            band, health = _health(holder, policy)
            out.append(
                Renewal(
                    c.end,
                    account,
                    c,
                    self._amounts[i],
                    self.currency or c.currency,
                    renewed,
                    root if root != account else None,
                    band,
                    health,
                )
            )
        out.sort(key=lambda r: (r.on, r.account, r.contract.id or ""))
        return tuple(out)

    # ----------------------------------------------------------------- retention
    def retention(
        self,
        start: date,
        end: date,
        *,
        every: Every | None = None,
        by: str | Mapping[str, str] | None = None,
        unit: Unit = "account",
        accounts: Iterable[Account] = (),
    ) -> tuple[Retention, ...]:
        """Gross and net revenue retention and logo retention, by period and group.

        Args:
            start: The first day.
            end: The day after the last day.
            every: ``None`` for one period from ``start`` to ``end``, or ``"month"``,
                ``"quarter"`` or ``"year"`` for consecutive periods from ``start`` (the
                last one ends at ``end``, shorter if need be).
            by: ``None`` for one group (``"all"``); ``"account"``; ``"parent"`` (the
                top-level parent); ``"owner"`` or a tag key such as ``"segment"`` (read
                from ``segment:<value>`` tags), both read from ``accounts``; or a mapping
                of account id to group. Accounts without one fall in ``"(none)"``.
            unit: What is compared from the start to the end of a period: each
                ``"account"`` (after merges), or each top-level ``"parent"`` with
                everything below it, so that revenue moving between siblings nets out.
            accounts: The accounts that ``"owner"`` and tag keys are read from.

        Returns:
            One row per period and group with revenue at its start or end, by period
            then group (always one ``"all"`` row per period when ``by`` is None).

        Raises:
            InvalidValue: For a bad argument, or a ``by`` that needs accounts without them.

        Examples:
            >>> from datetime import date
            >>> from stars.contracts import Contract, ContractBook
            >>> book = ContractBook([
            ...     Contract.for_term("acme", date(2024, 7, 1), 12, 100, "USD", id="a1"),
            ...     Contract.for_term("acme", date(2025, 7, 1), 12, 130, "USD", renews="a1"),
            ...     Contract.for_term("bolt", date(2024, 4, 1), 12, 200, "USD"),
            ... ])
            >>> for r in book.retention(date(2025, 1, 1), date(2026, 1, 1), every="quarter"):
            ...     print(r.start, r.opening, r.expansion, r.churn, r.grr, r.nrr)
            2025-01-01 300.0 0.0 0.0 1.0 1.0
            2025-04-01 300.0 0.0 200.0 0.3333333333333333 0.3333333333333333
            2025-07-01 100.0 30.0 0.0 1.0 1.3
            2025-10-01 130.0 0.0 0.0 1.0 1.0
        """
        lo, hi = self._window(start, end)
        units = self._units(unit)
        group_of = self._grouper(by, accounts)
        bounds = _periods(lo, hi, every)
        out: list[Retention] = []
        for p_start, p_end in bounds:
            rows: dict[str, dict[str, list[float]]] = {}
            if by is None:
                rows["all"] = _empty_row()
            for account, t in units.items():
                s, e = t.before(p_start), t.before(p_end)
                if s == 0 and e == 0:
                    continue
                row = rows.setdefault(group_of(account), _empty_row())
                if s > 0:
                    row["opening"].append(s)
                    row["logos_opening"].append(1)
                    if e > 0:
                        row["logos_retained"].append(1)
                    if e > s:
                        row["expansion"].append(e - s)
                    elif e == 0:
                        row["churn"].append(s)
                    elif e < s:
                        row["contraction"].append(s - e)
                elif t.first_positive is not None and t.first_positive < p_start:
                    row["reactivation"].append(e)
                    row["logos_reactivated"].append(1)
                else:
                    row["new"].append(e)
                    row["logos_new"].append(1)
                if e > 0:
                    row["closing"].append(e)
            for group in sorted(rows):
                row = rows[group]
                total = {k: math.fsum(row[k]) for k in _SUMS}
                out.append(
                    Retention(
                        p_start,
                        p_end,
                        group,
                        self.currency,
                        opening=total["opening"],
                        new=total["new"],
                        reactivation=total["reactivation"],
                        expansion=total["expansion"],
                        contraction=total["contraction"],
                        churn=total["churn"],
                        closing=total["closing"],
                        logos_opening=len(row["logos_opening"]),
                        logos_retained=len(row["logos_retained"]),
                        logos_new=len(row["logos_new"]),
                        logos_reactivated=len(row["logos_reactivated"]),
                    )
                )
        return tuple(out)

    def _grouper(
        self, by: str | Mapping[str, str] | None, accounts: Iterable[Account]
    ) -> Callable[[str], str]:
        tree = self.tree
        if by is None:
            return lambda account: "all"
        if isinstance(by, Mapping):
            groups = {tree.resolve(k): g for k, g in by.items()}
            for key, group in groups.items():
                v.text(f"by[{key!r}]", group)
            return lambda account: groups.get(account, _NONE)
        if by == "account":
            return lambda account: account
        if by == "parent":
            return tree.root_of
        if not isinstance(by, str) or not by.strip() or ":" in by:
            raise InvalidValue(
                "by",
                by,
                "None, 'account', 'parent', 'owner', a tag key such as 'segment',"
                " or a mapping of account id to group",
            )
        index = _account_index(accounts, tree)
        if not index:
            raise InvalidValue(
                "accounts", accounts, f"the accounts to read {by!r} from (by={by!r} needs them)"
            )
        if by == "owner":

            def owner(account: str) -> str:
                found = index.get(account)
                return found.owner if found is not None and found.owner is not None else _NONE

            return owner
        prefix = by + ":"

        def tag_value(account: str) -> str:
            found = index.get(account)
            if found is None:
                return _NONE
            values = sorted(t[len(prefix) :] for t in found.tags if t.startswith(prefix))
            return values[0] if values else _NONE

        return tag_value

    def revenue_by_band(
        self,
        on: date,
        accounts: Iterable[Account],
        *,
        policy: Policy | None = None,
    ) -> tuple[BandRevenue, ...]:
        """Revenue in force on ``on``, by each account's current health band.

        Args:
            on: The day.
            accounts: The accounts to read the bands from (their latest snapshot with a
                health score or a band); accounts with revenue but not given, or without a
                band, count under ``None``.
            policy: The band cut-offs for snapshots without a band (default `Policy()`).

        Returns:
            One row per band that holds revenue: red, yellow, green, then ``None``.

        Raises:
            InvalidValue: For a bad argument.

        Examples:
            >>> from datetime import date
            >>> from stars.contracts import Contract, ContractBook
            >>> book = ContractBook([Contract.for_term("a", date(2025, 1, 1), 12, 10, "USD")])
            >>> book.revenue_by_band(date(2025, 2, 1), [])
            (BandRevenue(band=None, accounts=1, arr=10.0, share=1.0),)
        """
        _day("on", on)
        index = _account_index(accounts, self.tree)
        if policy is None:
            from stars.lifecycle import Policy

            policy = Policy()
        sums: dict[Band | None, list[float]] = {}
        for account, t in self._timelines.items():
            amount = t.on(on)
            if amount <= 0:
                continue
            band, _ = _health(index.get(account), policy)
            sums.setdefault(band, []).append(amount)
        total = math.fsum(x for xs in sums.values() for x in xs)
        order: list[Band | None] = [*Band, None]
        return tuple(
            BandRevenue(b, len(sums[b]), math.fsum(sums[b]), math.fsum(sums[b]) / total)
            for b in order
            if b in sums
        )


_SUMS: Final = (
    "opening",
    "new",
    "reactivation",
    "expansion",
    "contraction",
    "churn",
    "closing",
)
_COUNTS: Final = ("logos_opening", "logos_retained", "logos_new", "logos_reactivated")


def _empty_row() -> dict[str, list[float]]:
    return {k: [] for k in (*_SUMS, *_COUNTS)}


def _periods(start: date, end: date, every: object) -> list[tuple[date, date]]:
    if every is None:
        return [(start, end)]
    if every not in _EVERY:
        raise InvalidValue("every", every, "None, 'month', 'quarter' or 'year'")
    step = _EVERY[str(every)]
    out: list[tuple[date, date]] = []
    k = 0
    lo = start
    while lo < end:
        k += 1
        hi = min(add_months(start, k * step), end)
        out.append((lo, hi))
        lo = hi
    return out
