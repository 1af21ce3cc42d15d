"""Revenue at risk over the renewals of the coming days, from a fitted model (`renewal_risk`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import attrs

from stars import _validate as v
from stars._html import framed, table
from stars._texttable import checked_width, text_table
from stars.errors import InvalidValue
from stars.forecast._common import _EPS, _interval, _level, _money
from stars.forecast._model import RenewalModel, RevenueAtRisk

if TYPE_CHECKING:
    from stars.account import Account
    from stars.contracts import Contract, ContractBook, Renewal


@attrs.frozen(slots=True)
class RenewalAtRisk:
    """One contract renewing soon: the chance it goes badly and the revenue that puts at risk.

    Attributes:
        account: The account (after merges).
        contract: The contract's id, if it has one.
        on: The renewal date.
        revenue: Its recurring revenue, in the reporting currency.
        health: The account's health on the as-of date (``None``: no score by then).
        probability: The chance the renewal ends in churn or contraction.
        expected: The expected revenue lost: probability times revenue times the share a
            bad renewal loses (all of it for a model fitted without a ``lost`` column).
        owner: The account's owner, if known.
        segment: The account's segment (its ``segment:<value>`` tag), if known.

    Examples:
        >>> from datetime import date
        >>> from stars.forecast import RenewalAtRisk
        >>> RenewalAtRisk("acme", None, date(2025, 3, 1), 1000.0, 35.0, 0.3, 300.0,
        ...               "ann", None).expected
        300.0
    """

    account: str
    contract: str | None
    on: date
    revenue: float
    health: float | None
    probability: float
    expected: float
    owner: str | None
    segment: str | None


@attrs.frozen(slots=True)
class GroupRisk:
    """Revenue at risk over one owner's or one segment's renewals.

    Attributes:
        column: ``"owner"`` or ``"segment"``.
        value: The owner or segment (``None``: not known).
        risk: The expected loss and its interval over the group's renewals.

    Examples:
        >>> from stars.forecast import GroupRisk, RevenueAtRisk
        >>> GroupRisk("owner", "ann", RevenueAtRisk(2, 100.0, 10.0, 0.0, 40.0, 0.9)).value
        'ann'
    """

    column: str
    value: str | None
    risk: RevenueAtRisk


@attrs.frozen(slots=True)
class RenewalRisk:
    """Revenue at risk over the renewals of the coming days: what `renewal_risk` gives.

    Attributes:
        as_of: The day health was read; the window starts there.
        horizon_days: The window's length: renewals from ``as_of`` up to (not including)
            ``as_of`` plus this many days count.
        level: The interval's level.
        currency: The reporting currency (``None`` when no contract renews).
        total: The expected loss and its interval over every renewal (``None`` when no
            contract renews in the window: there is nothing to forecast).
        renewals: Each renewal, most expected loss first.
        by_owner: The same by owner (empty when no renewing account has one).
        by_segment: The same by segment (empty when no renewing account has one).
        notes: What was left out and how the probabilities were read.

    Examples:
        >>> from datetime import date
        >>> from stars.forecast import RenewalRisk
        >>> empty = RenewalRisk(date(2025, 3, 1), 90, 0.9, None, None, (), (), (), ())
        >>> print(empty.to_text())
        <BLANKLINE>
        Revenue at risk in the next 90 days
        -----------------------------------
        No contract renews from 2025-03-01 to 2025-05-29: there is nothing to forecast.
    """

    as_of: date
    horizon_days: int
    level: float
    currency: str | None
    total: RevenueAtRisk | None
    renewals: tuple[RenewalAtRisk, ...]
    by_owner: tuple[GroupRisk, ...]
    by_segment: tuple[GroupRisk, ...]
    notes: tuple[str, ...] = ()

    @property
    def last_day(self) -> date:
        """The last day of the window."""
        from datetime import timedelta

        return self.as_of + timedelta(days=self.horizon_days - 1)

    def _title(self) -> str:
        return f"Revenue at risk in the next {self.horizon_days} days"

    def _summary(self) -> list[str]:
        span = f"from {self.as_of} to {self.last_day}"
        t = self.total
        if t is None:
            return [f"No contract renews {span}: there is nothing to forecast."]
        cur = f" {self.currency}" if self.currency else ""
        share = f" ({t.share:.1%} of it)" if t.share is not None else ""
        return [
            f"{t.contracts} renewal{'s' if t.contracts != 1 else ''} {span},"
            f" {_money(t.revenue)}{cur} of recurring revenue.",
            f"Expected loss to churn and contraction: {_money(t.expected)}{cur}{share};"
            f" {self.level:.0%} interval {_money(t.low)} to {_money(t.high)}{cur}.",
        ]

    def _group_rows(self, groups: tuple[GroupRisk, ...]) -> list[tuple[str, ...]]:
        return [
            (
                g.value if g.value is not None else "(none)",
                f"{g.risk.contracts:,}",
                _money(g.risk.revenue),
                _money(g.risk.expected),
                f"{_money(g.risk.low)} to {_money(g.risk.high)}",
            )
            for g in groups
        ]

    def _top_rows(self, top: int) -> list[tuple[str, ...]]:
        return [
            (
                r.account,
                r.on.isoformat(),
                "-" if r.health is None else f"{r.health:.0f}",
                f"{r.probability:.1%}",
                _money(r.revenue),
                _money(r.expected),
            )
            for r in self.renewals[:top]
        ]

    def _parts(
        self, top: int, *, short: bool = False
    ) -> list[tuple[str, tuple[str, ...], list[tuple[str, ...]], tuple[int, ...]]]:
        interval = f"{self.level:.0%} interval"
        loss = "exp. loss" if short else "expected loss"
        head = ("due" if short else "renewals", "revenue", loss, interval)
        parts: list[tuple[str, tuple[str, ...], list[tuple[str, ...]], tuple[int, ...]]] = []
        for title, groups in (("By owner", self.by_owner), ("By segment", self.by_segment)):
            if groups:
                column = groups[0].column
                parts.append((title, (column, *head), self._group_rows(groups), (1, 2, 3)))
        if self.renewals:
            chance = "chance" if short else "probability"
            parts.append(
                (
                    "Accounts with the most expected loss",
                    ("account", "renews", "health", chance, "revenue", loss),
                    self._top_rows(top),
                    (2, 3, 4, 5),
                )
            )
        return parts

    def to_text(self, width: int | None = 100, *, top: int = 10) -> str:
        """The section as plain-text tables, no line wider than ``width`` (``None``: any).

        Args:
            width: The widest line (at least 40).
            top: How many of the renewals with the most expected loss to list.

        Examples:
            >>> from stars.forecast import RenewalRisk
            >>> callable(RenewalRisk.to_text)
            True
        """
        import textwrap

        width = checked_width(width)
        top = int(v.number("top", top, 0, integer=True))

        def para(text: str) -> list[str]:
            if width is None or len(text) <= width:
                return [text]
            return textwrap.wrap(text, width, subsequent_indent="  ", break_on_hyphens=False)

        title = self._title()
        lines = ["", *para(title)]
        lines.append("-" * max(len(x) for x in lines[1:]))
        for text in self._summary():
            lines += para(text)
        long, short = self._parts(top), self._parts(top, short=True)
        shortened = False
        for (name, head, rows, right), (_, brief, _, _) in zip(long, short, strict=True):
            if width is not None and _natural_width(head, rows) > width:
                head, shortened = brief, True
            lines += ["", *para(name + ":")]
            dates = {i for i, h in enumerate(head) if h == "renews"}  # a date never wraps
            lines += text_table(head, rows, right=right, fixed=dates, width=width, min_column=8)
        if shortened:
            lines += para(
                "(due: renewals; chance: of churn or contraction at renewal;"
                " exp. loss: expected loss)"
            )
        more = len(self.renewals) - min(top, len(self.renewals))
        if more > 0:
            lines += para(f"... and {more} more renewals (the JSON output lists all).")
        for n in self.notes:
            lines += para(f"Note: {n}")
        return "\n".join(lines)

    def to_markdown(self, *, top: int = 10) -> str:
        """The section as Markdown.

        Examples:
            >>> from stars.forecast import RenewalRisk
            >>> callable(RenewalRisk.to_markdown)
            True
        """
        top = int(v.number("top", top, 0, integer=True))
        lines = ["", f"## {self._title()}", ""]
        lines += [" ".join(self._summary())]
        for name, head, rows, _ in self._parts(top):
            lines += ["", f"### {name}", ""]
            lines.append("| " + " | ".join(head) + " |")
            lines.append("|" + "---|" * len(head))
            lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
        more = len(self.renewals) - min(top, len(self.renewals))
        if more > 0:
            lines += ["", f"... and {more} more renewals (the JSON output lists all)."]
        if self.notes:
            lines.append("")
            lines += [f"- Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_html(self, *, top: int = 10) -> str:
        """The section as an HTML fragment (a heading and tables), for a page or a notebook.

        Examples:
            >>> from stars.forecast import RenewalRisk
            >>> callable(RenewalRisk.to_html)
            True
        """
        from html import escape

        top = int(v.number("top", top, 0, integer=True))
        out = [f'<h2 id="revenue-at-risk">{escape(self._title())}</h2>']
        out += [f"<p>{escape(x)}</p>" for x in self._summary()]
        for name, head, rows, _ in self._parts(top):
            out.append(table(head, rows, caption=name))
        more = len(self.renewals) - min(top, len(self.renewals))
        if more > 0:
            out.append(f"<p>... and {more} more renewals (the JSON output lists all).</p>")
        out += [f'<p class="stars-note">Note: {escape(n)}</p>' for n in self.notes]
        return "\n".join(out)

    def _repr_html_(self) -> str:
        return framed(self.to_html())

    def to_dict(self) -> dict[str, Any]:
        """The section as plain JSON-ready data (every renewal, not only the top ones).

        Examples:
            >>> from datetime import date
            >>> from stars.forecast import RenewalRisk
            >>> empty = RenewalRisk(date(2025, 3, 1), 90, 0.9, None, None, (), (), (), ())
            >>> empty.to_dict()["total"] is None
            True
        """

        def risk(r: RevenueAtRisk) -> dict[str, Any]:
            out: dict[str, Any] = attrs.asdict(r)
            out["share"] = r.share
            return out

        return {
            "as_of": self.as_of.isoformat(),
            "last_day": self.last_day.isoformat(),
            "horizon_days": self.horizon_days,
            "level": self.level,
            "currency": self.currency,
            "total": None if self.total is None else risk(self.total),
            "message": None if self.total is not None else self._summary()[0],
            "renewals": [{**attrs.asdict(r), "on": r.on.isoformat()} for r in self.renewals],
            "by_owner": [{"owner": g.value, **risk(g.risk)} for g in self.by_owner],
            "by_segment": [{"segment": g.value, **risk(g.risk)} for g in self.by_segment],
            "notes": list(self.notes),
        }


def _natural_width(head: Sequence[str], rows: Sequence[Sequence[str]]) -> int:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    return sum(widths) + 2 * (len(widths) - 1)


def _health_on(account: Account | None, day: date) -> float | None:
    """The health of the account's latest snapshot with a score, on or before ``day`` (UTC)."""
    from datetime import UTC

    if account is None:
        return None
    for snap in reversed(account.snapshots):
        if snap.health is not None and snap.at.astimezone(UTC).date() <= day:
            return snap.health
    return None


def _sum_risk(
    model: RenewalModel, items: Sequence[tuple[RenewalAtRisk, str | None]], level: float
) -> RevenueAtRisk:
    """Expected loss and interval over renewals, as `RenewalModel.revenue_at_risk` does."""
    pooled = model.severity[""]
    e = var = log_q = revenue = 0.0
    for r, group in items:
        m, m2 = model.severity.get(group, pooled) if group is not None else pooled
        e += r.expected
        var += r.revenue * r.revenue * max(r.probability * m2 - (r.probability * m) ** 2, 0.0)
        log_q += math.log1p(-min(r.probability, 1 - _EPS))
        revenue += r.revenue
    low, high = _interval(e, var + model.overdispersion * e * e, math.exp(log_q), level)
    return RevenueAtRisk(len(items), revenue, e, low, high, level)


def renewal_risk(
    model: RenewalModel,
    accounts: Iterable[Account],
    contracts: ContractBook | Iterable[Contract],
    *,
    as_of: date,
    horizon_days: int = 90,
    level: float = 0.9,
    group: Callable[[Renewal], str | None] | None = None,
) -> RenewalRisk:
    """Revenue at risk over the contracts renewing in the coming days, from a fitted model.

    The renewals are those of the book whose renewal date falls from ``as_of`` up to
    ``as_of`` plus ``horizon_days`` (excluded). Renewals already signed (a successor
    contract is known) are left out: they are no longer at risk, and a note says how many.
    Each one's probability reads the account's health on ``as_of`` (its latest snapshot
    with a score on or before that day; without one, the training rate), and the days from
    ``as_of`` to the renewal when the model was fitted with them. The expected loss is the
    probability times the revenue times the share a bad renewal loses, summed; the
    interval is built as in `forecast`, with the model's overdispersion. The same is given
    by owner and by segment (read from ``segment:<value>`` tags) when accounts have them.

    Args:
        model: A fitted (or loaded) `RenewalModel`.
        accounts: The accounts, with their snapshots.
        contracts: A `stars.contracts.ContractBook`, or contracts to make one of.
        as_of: The day the forecast is made.
        horizon_days: The window's length in days (default 90).
        level: The interval's level (default 0.9).
        group: For a model fitted with ``by``: a function giving a renewal's group
            (default: the account's ``<by>:<value>`` tag, or its owner when ``by`` is
            ``"owner"``).

    Returns:
        The section: totals, groups and each renewal, with text, Markdown, HTML and JSON
        renderings.

    Raises:
        InvalidValue: For a bad argument.

    Examples:
        >>> from datetime import date, datetime, timezone
        >>> from stars import Account, Snapshot
        >>> from stars.contracts import Contract
        >>> from stars.forecast import RenewalModel, RiskCurve, renewal_risk
        >>> pooled = RiskCurve(None, None, (20.0, 80.0), (0.3, 0.1), 100, 20)
        >>> model = RenewalModel("health", None, None, (), (pooled,), 0.2, 100, 20,
        ...                      {"": (1.0, 1.0)}, 0.0)
        >>> day = datetime(2025, 1, 10, tzinfo=timezone.utc)
        >>> accounts = [Account("acme", owner="ann", snapshots=[Snapshot(at=day, health=20)]),
        ...             Account("bolt", owner="bo", snapshots=[Snapshot(at=day, health=80)])]
        >>> book = [Contract.for_term("acme", date(2024, 3, 1), 12, 1000, "USD"),
        ...         Contract.for_term("bolt", date(2024, 2, 1), 12, 500, "USD")]
        >>> risk = renewal_risk(model, accounts, book, as_of=date(2025, 1, 15))
        >>> risk.total.expected, [r.account for r in risk.renewals]
        (350.0, ['acme', 'bolt'])
    """
    from datetime import timedelta

    from stars.account import Account
    from stars.contracts import ContractBook

    if not isinstance(model, RenewalModel):
        raise InvalidValue("model", model, "a RenewalModel (fit_renewal_model or load)")
    if not isinstance(as_of, date):
        raise InvalidValue("as_of", as_of, "a date")
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    horizon_days = int(v.number("horizon_days", horizon_days, 1, 3660, integer=True))
    level = _level(level)
    book = contracts if isinstance(contracts, ContractBook) else ContractBook(contracts)
    if isinstance(accounts, str | bytes) or not isinstance(accounts, Iterable):  # type: ignore[unreachable]
        raise InvalidValue("accounts", accounts, "an iterable of Account values")
    index: dict[str, Account] = {}
    for i, a in enumerate(accounts):
        if not isinstance(a, Account):
            raise InvalidValue(f"accounts[{i}]", a, "an Account")
        index[a.id] = a
    end = as_of + timedelta(days=horizon_days)
    calendar = book.renewals(as_of, end)
    signed = sum(r.renewed for r in calendar)
    items: list[tuple[RenewalAtRisk, str | None]] = []
    no_health = 0
    for r in calendar:
        if r.renewed:
            continue
        holder = index.get(r.account) or index.get(r.contract.account)
        health = _health_on(holder, as_of)
        no_health += health is None
        key = group(r) if group is not None else _tag_group(model.by, holder)
        p = model.probability(health, (r.on - as_of).days, key)
        m = model.severity.get(key, model.severity[""]) if key else model.severity[""]
        segment = _tag_group("segment", holder)
        owner = holder.owner if holder is not None else None
        row = RenewalAtRisk(
            r.account, r.contract.id, r.on, r.arr, health, p, r.arr * p * m[0], owner, segment
        )
        items.append((row, key))
    items.sort(key=lambda x: (-x[0].expected, x[0].on, x[0].account))
    notes = []
    if signed:
        notes.append(
            f"{signed} renewal{'s' if signed != 1 else ''} in the window already signed"
            " (a successor contract is known) left out"
        )
    if no_health:
        notes.append(
            f"{no_health} renewing account{'s' if no_health != 1 else ''} had no health score"
            f" on {as_of}: the model's training rate was used"
        )
    if not items:
        return RenewalRisk(as_of, horizon_days, level, None, None, (), (), (), tuple(notes))

    def by(column: str) -> tuple[GroupRisk, ...]:
        parts: dict[str | None, list[tuple[RenewalAtRisk, str | None]]] = {}
        for item in items:
            parts.setdefault(getattr(item[0], column), []).append(item)
        if set(parts) == {None}:
            return ()
        out = [GroupRisk(column, k, _sum_risk(model, x, level)) for k, x in parts.items()]
        return tuple(sorted(out, key=lambda g: (-g.risk.expected, g.value or "")))

    return RenewalRisk(
        as_of,
        horizon_days,
        level,
        calendar[0].currency,
        _sum_risk(model, items, level),
        tuple(r for r, _ in items),
        by("owner"),
        by("segment"),
        tuple(notes),
    )


def _tag_group(by: str | None, account: Account | None) -> str | None:
    if by is None or account is None:
        return None
    if by == "owner":
        return account.owner
    prefix = by + ":"
    values = sorted(t[len(prefix) :] for t in account.tags if t.startswith(prefix))
    return values[0] if values else None
