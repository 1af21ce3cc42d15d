"""The portfolio report: what a book of accounts looks like today, and what to do this week.

`build_report` reads a set of accounts once and returns a frozen `Report`
of plain data: the stage distribution, the health bands of active customers, the
accounts whose evidence disagrees with their stage, the open crisis episodes with a
first recovery plan drafted, the depth gaps between vendor and customer, the
key-account count against capacity, crisis-episode statistics, and a ranked list of
this week's actions. The report renders as terminal text, Markdown, or JSON
(`Report.to_text`, `Report.to_markdown`, `Report.to_json`), or as one self-contained
HTML page to open or mail (`Report.to_html`, `Report.write_html`); the ``stars demo`` and
``stars assess`` commands print it.

Examples:
    >>> from datetime import datetime, timezone
    >>> from stars.account import Account, Snapshot
    >>> from stars.lifecycle import STARS
    >>> from stars.report import build_report
    >>> t = datetime(2025, 3, 3, tzinfo=timezone.utc)
    >>> acme = Account("acme", owner="dana")
    >>> _ = STARS.observe(acme, Snapshot(at=t, health=30, contract_signed=True))
    >>> _ = STARS.fire(acme, "sign", at=t)
    >>> report = build_report([acme, Account("globex")])
    >>> report.accounts, [a.kind for a in report.actions]
    (2, ['red'])
"""

from __future__ import annotations

import heapq
import json
import os
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import attrs

from stars import _validate as v
from stars._texttable import DEFAULT_WIDTH, checked_width, text_table
from stars.account import Account
from stars.bands import Band
from stars.cycles import EpisodeOutcome
from stars.depth import Depth, gap_advice, key_account_check
from stars.errors import InvalidDefinition, InvalidValue
from stars.health import default_scorecard, measures_from
from stars.lifecycle import STARS, Lifecycle
from stars.portfolio import Portfolio
from stars.stages import StageKind

__all__ = [
    "FORMATS",
    "KEY_ACCOUNT_TAG",
    "TEXT_WIDTH",
    "Action",
    "BandRow",
    "CrisisRow",
    "DepthGap",
    "EpisodeSummary",
    "KeyAccounts",
    "Mismatch",
    "Report",
    "StageRow",
    "build_report",
    "render",
]

KEY_ACCOUNT_TAG: Final = "key-account"
"""The tag that marks an account as one of the company's key accounts."""

FORMATS: Final = ("text", "json", "markdown")
"""The formats `render` accepts."""

TEXT_WIDTH: Final = DEFAULT_WIDTH
"""The width text reports wrap at by default (the command uses the terminal's width)."""

_MIN_COLUMN: Final = 6

_DAY: Final = 86400.0
_SHOWN: Final = 15
_ACTIVE: Final = (StageKind.GROWTH, StageKind.CRISIS)


# --------------------------------------------------------------------------- rows
@attrs.frozen(slots=True)
class StageRow:
    """How many accounts are in one stage.

    Examples:
        >>> from stars.report import StageRow
        >>> StageRow("seed", 3, 0.25).share
        0.25
    """

    stage: str
    accounts: int
    share: float


@attrs.frozen(slots=True)
class BandRow:
    """How many active customers are in one health band (``unknown``: no reading).

    Examples:
        >>> from stars.report import BandRow
        >>> BandRow("red", 2, 0.1).band
        'red'
    """

    band: str
    accounts: int
    share: float


@attrs.frozen(slots=True)
class Mismatch:
    """An account whose evidence points to another stage than the one it is in.

    Attributes:
        account_id: The account.
        name: Its display name.
        owner: Its owner, if known.
        stage: The stage it is in.
        evidence_stage: The stage the evidence points to.
        reasons: Why the evidence points there.
        triggers: The triggers that lead there directly (empty when none does).
        ready: Those of ``triggers`` whose guards pass now.

    Examples:
        >>> from stars.report import Mismatch
        >>> m = Mismatch("a", "A", None, "ascend", "reset", ("health is yellow",), ("stagnate",))
        >>> m.triggers
        ('stagnate',)
    """

    account_id: str
    name: str
    owner: str | None
    stage: str
    evidence_stage: str
    reasons: tuple[str, ...]
    triggers: tuple[str, ...]
    ready: tuple[str, ...] = ()


@attrs.frozen(slots=True)
class CrisisRow:
    """An open crisis episode and the first draft of a plan to get back to green.

    Attributes:
        account_id: The account.
        name: Its display name.
        owner: Its owner, if known.
        stage: The crisis stage it is in now.
        opened_at: When it left its growth stage (``None`` for an account imported in a
            crisis stage without history).
        days_open: Days from then to the report's date (``None`` when unknown).
        left: The growth stage it left (``None`` when unknown).
        health: Its latest health score, if known.
        plan: Drafted plan items, most urgent first.
        plan_source: Where the draft comes from.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.report import CrisisRow
        >>> at = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> CrisisRow("a", "A", None, "tact", at, 30, "ascend", 31.0, ("call them",),
        ...           "stage playbook").days_open
        30
    """

    account_id: str
    name: str
    owner: str | None
    stage: str
    opened_at: datetime | None
    days_open: int | None
    left: str | None
    health: float | None
    plan: tuple[str, ...]
    plan_source: str


@attrs.frozen(slots=True)
class DepthGap:
    """An account the vendor sees as deeper than the customer does (or the other way).

    Attributes:
        account_id: The account.
        name: Its display name.
        owner: Its owner, if known.
        vendor: The vendor's latest depth.
        customer: The customer's latest depth.
        gap: Vendor minus customer, in levels.
        sees_more: The side that sees the relationship as deeper (``"vendor"`` or
            ``"customer"``); by default worked out from the two depths.
        advice: What to do about the gap, in one sentence (from `stars.depth.gap_advice`);
            by default worked out from the two depths.

    Examples:
        >>> from stars.report import DepthGap
        >>> g = DepthGap("a", "A", None, "collaborative", "basic", 1)
        >>> g.gap, g.sees_more
        (1, 'vendor')
        >>> print(g.advice)  # doctest: +ELLIPSIS
        Treat it as basic, not collaborative: confirm with the customer what the vendor ...
    """

    account_id: str
    name: str
    owner: str | None
    vendor: str
    customer: str
    gap: int
    sees_more: str = attrs.field(
        default=attrs.Factory(lambda g: _gap_side(g.vendor, g.customer), takes_self=True)
    )
    advice: str = attrs.field(
        default=attrs.Factory(lambda g: _gap_summary(g.vendor, g.customer), takes_self=True)
    )


def _gap_side(vendor: str, customer: str) -> str:
    advice = gap_advice(vendor, customer)
    return "" if advice is None else advice.sees_more


def _gap_summary(vendor: str, customer: str) -> str:
    advice = gap_advice(vendor, customer)
    return "" if advice is None else advice.summary


@attrs.frozen(slots=True)
class KeyAccounts:
    """The key accounts (tagged ``key-account``) against what the company can serve.

    Attributes:
        count: Active key accounts.
        maturity: The company's maturity (``young`` or ``mature``).
        capacity: How many key accounts it can serve.
        within: Whether the count is within capacity.
        message: A one-line verdict.
        below_interconnected: Key accounts whose agreed depth is below interconnected.

    Examples:
        >>> from stars.report import KeyAccounts
        >>> KeyAccounts(3, "young", 5, True, "fine", ()).within
        True
    """

    count: int
    maturity: str
    capacity: int
    within: bool
    message: str
    below_interconnected: tuple[str, ...]


@attrs.frozen(slots=True)
class EpisodeSummary:
    """Crisis episodes across the portfolio: how many, how they ended, how long recovery took.

    Examples:
        >>> from stars.report import EpisodeSummary
        >>> EpisodeSummary(4, 2, 1, 1, 2 / 3, 45.0).recovered
        2
    """

    opened: int
    recovered: int
    lost: int
    ongoing: int
    recovery_rate: float | None
    median_days_to_recover: float | None


@attrs.frozen(slots=True)
class Action:
    """One thing to do this week, for one account.

    Attributes:
        rank: 1 for the most urgent.
        account_id: The account.
        name: Its display name.
        owner: Who should act.
        kind: ``red`` (health is red), ``disagreement`` (the stage does not match the
            evidence) or ``stale contact`` (nobody has talked to the customer lately).
        detail: What to do, in one line.

    Examples:
        >>> from stars.report import Action
        >>> Action(1, "a", "A", "dana", "red", "call the sponsor").kind
        'red'
    """

    rank: int
    account_id: str
    name: str
    owner: str | None
    kind: str
    detail: str


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


# --------------------------------------------------------------------------- the report
@attrs.frozen(slots=True)
class Report:
    """A portfolio report, as plain data.

    Attributes:
        title: A heading for the rendered report.
        as_of: The date the report describes (the latest signal or transition).
        accounts: Accounts read.
        customers: Active customers among them (in a growth or crisis stage).
        stages: Accounts per stage, in the lifecycle's order.
        bands: Active customers per health band (red, yellow, green, unknown).
        disagreements: Accounts whose evidence points to another stage.
        crises: Open crisis episodes, longest open first, with a drafted plan.
        depth_gaps: Active customers whose two sides see different depths, widest first,
            each with the side that sees more and what to do about it.
        key_accounts: The key-account check.
        episodes: Crisis-episode statistics.
        actions: This week's actions, most urgent first.
        notes: Anything the reader should know about how the report was made.
        depth_assessed: Active customers whose depth is assessed on both sides.

    Examples:
        >>> from stars.report import build_report
        >>> r = build_report([])
        >>> r.accounts, r.as_of, r.actions
        (0, None, ())
    """

    title: str
    as_of: datetime | None
    accounts: int
    customers: int
    stages: tuple[StageRow, ...] = attrs.field(converter=_tuple)
    bands: tuple[BandRow, ...] = attrs.field(converter=_tuple)
    disagreements: tuple[Mismatch, ...] = attrs.field(converter=_tuple)
    crises: tuple[CrisisRow, ...] = attrs.field(converter=_tuple)
    depth_gaps: tuple[DepthGap, ...] = attrs.field(converter=_tuple)
    key_accounts: KeyAccounts
    episodes: EpisodeSummary
    actions: tuple[Action, ...] = attrs.field(converter=_tuple)
    notes: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    depth_assessed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (stable keys; times as ISO 8601 strings).

        Examples:
            >>> from stars.report import build_report
            >>> sorted(build_report([]).to_dict())[:4]
            ['accounts', 'actions', 'as_of', 'bands']
        """
        return _plain(attrs.asdict(self, recurse=True))  # type: ignore[no-any-return]

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as a JSON document (keys sorted, so output is stable).

        Examples:
            >>> import json
            >>> from stars.report import build_report
            >>> json.loads(build_report([]).to_json())["customers"]
            0
        """
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True, ensure_ascii=False)

    def to_markdown(self) -> str:
        """The report as a Markdown document, one section per part.

        Examples:
            >>> from stars.report import build_report
            >>> build_report([]).to_markdown().splitlines()[0]
            '# Portfolio report'
        """
        return _render(self, _Markdown())

    def to_text(self, width: int | None = TEXT_WIDTH) -> str:
        """The report as plain-text tables for a terminal, no wider than ``width``.

        Headings, paragraphs and bullets wrap at ``width`` columns; a table too wide for
        it wraps the text in its widest text columns (down to 6 characters each), so every
        line fits from a width of about 60 on (``None``: never wrap).
        Advice that several actions share is said once, below the table, and identical
        draft plans are shown once for all their accounts.

        Examples:
            >>> from stars.report import build_report
            >>> build_report([]).to_text().splitlines()[0]
            'PORTFOLIO REPORT'
            >>> from stars.demo import load_bundled
            >>> text = build_report(load_bundled()).to_text(width=80)
            >>> max(len(line) for line in text.splitlines()) <= 80
            True
        """
        return _render(self, _Text(checked_width(width)))

    def to_html(
        self,
        accounts: Portfolio | Iterable[Account] | None = None,
        *,
        figures: bool = True,
        sections: Sequence[object] = (),
    ) -> str:
        """The report as one self-contained HTML page, to open in a browser or send by mail.

        This week's actions come first, then a section per owner (their actions, their open
        crises and draft plans), the health bands (coloured), the stages, the open crisis
        episodes, the disagreements, depth gaps and key accounts. Styles are inline and
        figures are embedded as base64 PNG: the file loads nothing from anywhere.

        Args:
            accounts: The accounts the report was built from (a `Portfolio` or a list).
                With them, the page adds each account's health trend next to its actions
                and crises, and the portfolio pictures (with the ``plot`` extra; without
                matplotlib the page says so instead).
            figures: Whether to draw the portfolio pictures (needs ``accounts``).
            sections: More sections for the page, after the depth section: objects with
                a ``to_html()`` method, such as a `stars.forecast.RenewalRisk` (revenue
                at risk).

        Returns:
            A complete HTML document.

        Raises:
            InvalidValue: ``accounts`` is neither a Portfolio, accounts, nor None, or a
                section has no ``to_html()``.

        Examples:
            >>> from stars.demo import generate
            >>> from stars.report import build_report
            >>> book = generate(n_accounts=20, months=12)
            >>> page = build_report(book).to_html(book, figures=False)
            >>> page.startswith("<!DOCTYPE html>"), "This week's actions" in page
            (True, True)
            >>> "http://" in page or "https://" in page  # nothing to fetch
            False
        """
        from html import escape

        book = _as_portfolio(accounts)
        extra = []
        for i, section in enumerate(sections):
            render = getattr(section, "to_html", None)
            if not callable(render):
                raise InvalidValue(f"sections[{i}]", section, "an object with a to_html() method")
            extra.append(str(render()))
        body = _html_body(self, book, figures=figures, extra=extra)
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(self.title)}</title></head>\n"
            f'<body style="margin:16px">\n{body}\n</body></html>\n'
        )

    def write_html(
        self,
        path: str | os.PathLike[str],
        accounts: Portfolio | Iterable[Account] | None = None,
        *,
        figures: bool = True,
        sections: Sequence[object] = (),
    ) -> Path:
        """Write `to_html` to a file (UTF-8) and return its path.

        Examples:
            >>> import tempfile
            >>> from pathlib import Path
            >>> from stars.report import build_report
            >>> out = Path(tempfile.mkdtemp()) / "report.html"
            >>> build_report([]).write_html(out).read_text(encoding="utf-8")[:15]
            '<!DOCTYPE html>'
        """
        target = Path(path)
        page = self.to_html(accounts, figures=figures, sections=sections)
        target.write_text(page, encoding="utf-8")
        return target

    def _repr_html_(self) -> str:
        # every section, as in to_html, without the pictures (they need the accounts)
        return _html_body(self, None, figures=False)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(x) for k, x in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(x) for x in value]
    return value


def render(report: Report, fmt: str = "text", *, width: int | None = TEXT_WIDTH) -> str:
    """Render a report as ``text``, ``json`` or ``markdown``.

    Args:
        report: The report.
        fmt: One of `FORMATS`.
        width: For ``text``, the widest a line may be (see `Report.to_text`).

    Raises:
        InvalidValue: ``fmt`` is not one of `FORMATS`, or ``report`` is not a Report.

    Examples:
        >>> from stars.report import build_report, render
        >>> render(build_report([]), "markdown").startswith("# Portfolio report")
        True
        >>> render(build_report([]), "html")
        Traceback (most recent call last):
        ...
        stars.errors.InvalidValue: fmt: got 'html', expected one of 'text', 'json', 'markdown'
    """
    if not isinstance(report, Report):
        raise InvalidValue("report", report, "a Report")
    if fmt == "text":
        return report.to_text(width)
    if fmt == "json":
        return report.to_json() + "\n"
    if fmt == "markdown":
        return report.to_markdown()
    raise InvalidValue("fmt", fmt, "one of " + ", ".join(repr(f) for f in FORMATS))


# --------------------------------------------------------------------------- building
def _as_of(accounts: Sequence[Account]) -> datetime | None:
    latest: datetime | None = None
    for a in accounts:
        for t in (a.latest.at if a.latest else None, a.history[-1].at if a.history else None):
            if t is not None and (latest is None or t > latest):
                latest = t
    return latest


def _share(n: int, total: int) -> float:
    return n / total if total else 0.0


def _draft_plan(
    account: Account, lc: Lifecycle, at: datetime | None
) -> tuple[tuple[str, ...], str]:
    """A first plan: `stars.recovery.plan_for` on what detection finds, else the playbook.

    When detection attributes no risk source, the draft names the signal costing the
    most health points and adds the current stage's key actions.
    """
    if at is not None:
        from stars.recovery import detect, plan_for  # loads with the first crisis row

        findings = detect(account, at=at)
        if any(f.source is not None for f in findings):
            plan = plan_for(findings, account, at, owner=account.owner or "unassigned")
            causes = ", ".join(c.replace("_", " ") for c in plan.root_causes)
            drafted = [f"Root cause to confirm: {causes}.", *(x.objective for x in plan.actions)]
            template = plan.template.value.replace("_", " ") if plan.template else "no template"
            return tuple(drafted), f"recovery plan, {template}"
    items: list[str] = []
    latest = account.latest
    if latest is not None:
        values = measures_from(latest, default_scorecard())
        if any(x is not None for x in values.values()):
            score = default_scorecard().score(values)
            if score.weakest is not None:
                lost = score.lost()[score.weakest]
                items.append(
                    f"Find the root cause behind {score.weakest.replace('_', ' ')}, "
                    f"the signal costing the most health ({lost:.0f} points)."
                )
    profile = lc.profile(account.stage)
    if profile is not None:
        items.extend(profile.key_actions[:3])
    return tuple(items), "stage playbook"


def _depth_of(account: Account, side: str) -> Depth | None:
    for point in reversed(account.depths):
        if point.side == side:
            try:
                return Depth(point.depth)
            except ValueError:
                return None
    return None


def build_report(
    accounts: Iterable[Account] | Portfolio,
    lifecycle: Lifecycle = STARS,
    as_of: datetime | None = None,
    *,
    company_maturity: str = "mature",
    key_account_capacity: int | None = None,
    stale_after_days: float = 30.0,
    top: int = 10,
    title: str = "Portfolio report",
) -> Report:
    """Read a set of accounts and build the portfolio report.

    Args:
        accounts: The accounts, or a `Portfolio` (whose lifecycle
            is then used).
        lifecycle: The lifecycle the accounts live in (default ``STARS``).
        as_of: The report's date (default: the latest snapshot or transition). Signals
            after it are ignored by the diagnosis.
        company_maturity: ``"young"`` or ``"mature"``: sets the usual key-account capacity.
        key_account_capacity: Override the capacity.
        stale_after_days: Days without a real conversation that count as stale contact.
        top: How many actions to list.
        title: The report's heading.

    Returns:
        The report.

    Raises:
        InvalidValue: An item is not an Account, an id repeats, or an option is out of range.
        UnknownName: An account's stage is not in the lifecycle, or the maturity is unknown.

    Examples:
        >>> from stars.demo import generate
        >>> from stars.report import build_report
        >>> r = build_report(generate(n_accounts=30, months=12))
        >>> sum(row.accounts for row in r.stages)
        30
        >>> [a.rank for a in r.actions][:3]
        [1, 2, 3]
    """
    if isinstance(accounts, Portfolio):
        book = accounts
        lifecycle = accounts.lifecycle
    else:
        if not isinstance(lifecycle, Lifecycle):
            raise InvalidValue("lifecycle", lifecycle, "a Lifecycle")
        book = Portfolio(accounts, lifecycle)
    items = book.accounts()
    if as_of is not None:
        v.aware("as_of", as_of)
    stale = v.number("stale_after_days", stale_after_days, 0)
    limit = int(v.number("top", top, 0, integer=True))
    v.text("title", title)
    when = as_of or _as_of(items)
    lc = lifecycle
    policy = lc.policy
    kind = {a.id: lc.kind_of(a.stage) for a in items}
    active = [a for a in items if kind[a.id] in _ACTIVE]
    notes: list[str] = []

    dist = book.stage_distribution()
    stages = [StageRow(s, n, dist.shares[s]) for s, n in dist.counts.items()]

    band_counts = {"red": 0, "yellow": 0, "green": 0, "unknown": 0}
    band_of: dict[str, Band | None] = {}
    for a in active:
        band = policy.band_of(a.latest)
        band_of[a.id] = band
        band_counts[band.value if band else "unknown"] += 1
    bands = [BandRow(b, n, _share(n, len(active))) for b, n in band_counts.items()]

    mismatches: list[Mismatch] = []
    try:
        for a in items:
            if when is None:  # no snapshot and no history anywhere: each judged at its own
                d = lc.diagnose(a)
                if d.agrees or d.stage is None:
                    continue
                found = (
                    d.stage,
                    d.reasons,
                    d.triggers,
                    tuple(
                        t
                        for t in d.triggers
                        if lc.check(a, t, to=d.stage, reason="(checking)").allowed
                    ),
                )
            else:  # what diagnose and check say, with the known snapshot read once
                disagreement = lc._disagreement(a, when)
                if disagreement is None:
                    continue
                found = disagreement
            mismatches.append(Mismatch(a.id, a.name, a.owner, a.stage, *found))
    except InvalidDefinition:
        notes.append(f"lifecycle {lc.name!r} has no diagnoser, so no stage was checked")
        mismatches = []

    crises: list[CrisisRow] = []
    opened = {e.account_id: e for e in book.episodes() if e.outcome is EpisodeOutcome.ONGOING}
    for a in active:
        if kind[a.id] is not StageKind.CRISIS:
            continue
        # accounts imported in a crisis stage have no episode: their start is unknown
        e = opened.get(a.id)
        start = e.opened_at if e else None
        days = int((when - start).total_seconds() // _DAY) if when and start else None
        plan, source = _draft_plan(a, lc, when)
        health = a.latest.health if a.latest else None
        left = e.left if e else None
        crises.append(
            CrisisRow(a.id, a.name, a.owner, a.stage, start, days, left, health, plan, source)
        )
    crises.sort(key=lambda c: (-(c.days_open if c.days_open is not None else -1), c.account_id))

    gaps: list[DepthGap] = []
    both_sides = 0
    for a in active:
        ven, cus = _depth_of(a, "vendor"), _depth_of(a, "customer")
        both_sides += ven is not None and cus is not None
        if ven is not None and cus is not None and ven is not cus:
            gaps.append(DepthGap(a.id, a.name, a.owner, ven.value, cus.value, ven.rank - cus.rank))
    gaps.sort(key=lambda g: (-abs(g.gap), g.account_id))

    keys = [a for a in active if KEY_ACCOUNT_TAG in a.tags]
    check = key_account_check(len(keys), company_maturity, key_account_capacity)
    shallow = []
    for a in keys:
        ven, cus = _depth_of(a, "vendor"), _depth_of(a, "customer")
        agreed = min(ven, cus) if ven is not None and cus is not None else None
        if agreed is None or agreed < Depth.INTERCONNECTED:
            shallow.append(a.id)
    key_accounts = KeyAccounts(
        check.n_key_accounts,
        check.maturity.value,
        check.capacity,
        check.within,
        check.message,
        tuple(shallow),
    )

    stats = book.episode_stats(as_of=when) if items else ()
    episodes = EpisodeSummary(0, 0, 0, 0, None, None)
    for st in stats:
        episodes = EpisodeSummary(
            st.episodes,
            st.recovered,
            st.lost,
            st.ongoing,
            st.recovery_rate,
            st.median_days_to_recover,
        )

    actions = _actions(active, band_of, mismatches, lc, stale, limit)
    return Report(
        title=title,
        as_of=when,
        accounts=len(items),
        customers=len(active),
        stages=stages,
        bands=bands,
        disagreements=mismatches,
        crises=crises,
        depth_gaps=gaps,
        depth_assessed=both_sides,
        key_accounts=key_accounts,
        episodes=episodes,
        actions=actions,
        notes=notes,
    )


def _actions(
    active: Sequence[Account],
    band_of: Mapping[str, Band | None],
    mismatches: Sequence[Mismatch],
    lc: Lifecycle,
    stale: float,
    limit: int,
) -> list[Action]:
    """Red accounts first (lowest health first), then disagreements, then stale contact.

    Only the first ``limit`` are listed: the candidates after them are not looked at
    (on a big book most accounts are one, and describing each cost more than the rest).
    """
    found: list[tuple[Account, str, str]] = []
    listed: set[str] = set()
    reds = [a for a in active if band_of.get(a.id) is Band.RED]
    # the same as sorting them all and taking the first ``limit`` (the keys are unique)
    reds = heapq.nsmallest(
        limit,
        reds,
        key=lambda a: (a.latest.health if a.latest and a.latest.health is not None else 0, a.id),
    )
    for a in reds:
        health = a.latest.health if a.latest else None
        profile = lc.profile(a.stage)
        if lc.kind_of(a.stage) is StageKind.CRISIS and profile and profile.key_actions:
            step = profile.key_actions[0]
        else:
            step = "move it into turnaround and draft a recovery plan."
        if health is not None:
            what = f"health {health:.0f} and red in {a.stage}"
        else:
            what = f"red in {a.stage} (no health score)"
        found.append((a, "red", f"{what}: {step}"))
        listed.add(a.id)
    if len(found) >= limit:
        return _numbered(found[:limit])
    by_id = {a.id: a for a in active}
    for m in mismatches:
        if len(found) >= limit:
            return _numbered(found[:limit])
        if m.account_id in listed or m.account_id not in by_id:
            continue
        if m.ready:
            how = f"fire {' or '.join(m.ready)} if the team agrees"
        elif m.triggers:
            how = (
                f"{' or '.join(m.triggers)} would lead there, but its guards refuse it now;"
                " check the evidence with the customer"
            )
        else:
            how = f"no single transition leads from {m.stage} there; review the account"
        found.append(
            (
                by_id[m.account_id],
                "disagreement",
                f"evidence points to {m.evidence_stage} ({'; '.join(m.reasons)}): {how}.",
            )
        )
        listed.add(m.account_id)
    quiet = [
        a
        for a in active
        if a.id not in listed
        and a.latest is not None
        and a.latest.days_since_contact is not None
        and a.latest.days_since_contact >= stale
    ]
    quiet = heapq.nsmallest(
        limit - len(found),
        quiet,
        key=lambda a: (-(a.latest.days_since_contact or 0) if a.latest else 0, a.id),
    )
    for a in quiet:
        days = a.latest.days_since_contact if a.latest else 0
        found.append(
            (
                a,
                "stale contact",
                f"no real conversation for {days:.0f} days: book one with the champion.",
            )
        )
    return _numbered(found[:limit])


def _numbered(found: Sequence[tuple[Account, str, str]]) -> list[Action]:
    return [
        Action(i, a.id, a.name, a.owner, kind, detail)
        for i, (a, kind, detail) in enumerate(found, start=1)
    ]


# --------------------------------------------------------------------------- rendering
class _Text:
    def __init__(self, width: int | None = None) -> None:
        self.width = width

    def heading(self, text: str) -> list[str]:
        lines = self.para(text.upper())
        return [*lines, "=" * max(len(x) for x in lines)]

    def section(self, text: str) -> list[str]:
        lines = self.para(text)
        return ["", *lines, "-" * max(len(x) for x in lines)]

    def para(self, text: str, indent: str = "") -> list[str]:
        if self.width is None or len(text) <= self.width:
            return [text]
        return textwrap.wrap(
            text, self.width, subsequent_indent=indent, break_on_hyphens=False
        ) or [text]

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
        cells = [[_cell(c) for c in row] for row in rows]
        numeric = [
            all(isinstance(row[i], int | float) and not isinstance(row[i], bool) for row in rows)
            and bool(rows)
            for i in range(len(headers))
        ]
        right = {i for i, num in enumerate(numeric) if num}
        return text_table(headers, cells, right=right, width=self.width, min_column=_MIN_COLUMN)

    def bullets(self, items: Sequence[str]) -> list[str]:
        out: list[str] = []
        for x in items:
            out += self.para(f"  - {x}", indent="    ")
        return out


class _Markdown(_Text):
    def __init__(self) -> None:
        super().__init__(None)

    def heading(self, text: str) -> list[str]:
        return [f"# {text}"]

    def section(self, text: str) -> list[str]:
        return ["", f"## {text}", ""]

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
        def esc(value: object) -> str:
            return _cell(value).replace("|", "\\|")

        out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        out += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
        return out

    def bullets(self, items: Sequence[str]) -> list[str]:
        return [f"- {x}" for x in items]


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, tuple | list):
        return ", ".join(str(x) for x in value) or "-"
    return str(value)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def _more(out: _Text, total: int, shown: int, what: str) -> list[str]:
    if total <= shown:
        return []
    return ["", *out.para(f"... and {total - shown} more {what} (the JSON output lists all).")]


def _split_advice(detail: str) -> tuple[str, str]:
    """An action's detail as what is seen and what to do (split at a ': ' outside brackets)."""
    depth = 0
    for i, ch in enumerate(detail):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == ":" and depth == 0 and detail[i + 1 : i + 2] == " ":
            return detail[:i], detail[i + 2 :]
    return detail, ""


def _grouped_advice(
    actions: Sequence[Action],
) -> tuple[list[str], dict[str, tuple[list[int], str]]]:
    """Each action's text, with advice shared by several said once under a letter."""
    parts = [_split_advice(a.detail) for a in actions]
    counts: dict[str, int] = {}
    for _, advice in parts:
        if advice:
            counts[advice] = counts.get(advice, 0) + 1
    marks: dict[str, str] = {}
    grouped: dict[str, tuple[list[int], str]] = {}
    shown = []
    for a, (seen, advice) in zip(actions, parts, strict=True):
        if advice and counts[advice] > 1:
            if advice not in marks:
                marks[advice] = chr(ord("a") + len(marks)) if len(marks) < 26 else str(len(marks))
                grouped[marks[advice]] = ([], advice)
            grouped[marks[advice]][0].append(a.rank)
            shown.append(f"{seen}: see ({marks[advice]})")
        else:
            shown.append(a.detail)
    return shown, grouped


def _ranks(ranks: Sequence[int]) -> str:
    return "#" + ", #".join(str(n) for n in ranks)


def _render(r: Report, out: _Text) -> str:
    lines = out.heading(r.title)
    counts = f"{r.accounts} accounts, {r.customers} active customers."
    if r.as_of is None:
        lines += ["", *out.para(f"As of: no data, nothing dated was read. {counts}")]
    else:
        lines += ["", *out.para(f"As of {r.as_of.date().isoformat()}: {counts}")]
    # Active customers with a health reading: without any, no verdict can be "all is well".
    readings = sum(b.accounts for b in r.bands if b.band != "unknown")
    unread = r.customers - readings
    for note in r.notes:
        lines += out.para(f"Note: {note}.", indent="  ")

    lines += out.section("This week's actions")
    if r.actions:
        shown, advice = _grouped_advice(r.actions)
        lines += out.table(
            ("#", "account", "owner", "why", "what to do"),
            [
                (
                    a.rank,
                    f"{a.name} ({a.account_id})" if a.name else a.account_id,
                    a.owner,
                    a.kind,
                    text,
                )
                for a, text in zip(r.actions, shown, strict=True)
            ],
        )
        for mark, (ranks, text) in advice.items():
            lines += ["", *out.para(f"({mark}) For {_ranks(ranks)}: {text}", indent="    ")]
    elif r.customers and not readings:
        lines += out.para(
            f"Nothing can be called urgent or fine: none of the {r.customers} active customers"
            " has a health reading. Give snapshots with signals to judge them."
        )
    elif unread:
        lines += out.para(
            f"Nothing urgent among the {readings} active customers with a health reading;"
            f" {unread} more have none, so nothing is known about them."
        )
    else:
        lines += out.para("Nothing urgent: no red accounts, disagreements or stale contacts.")

    lines += out.section("Stages")
    lines += out.table(
        ("stage", "accounts", "share"), [(s.stage, s.accounts, _pct(s.share)) for s in r.stages]
    )
    lines += out.section("Health bands of active customers")
    lines += out.table(
        ("band", "accounts", "share"), [(b.band, b.accounts, _pct(b.share)) for b in r.bands]
    )

    lines += out.section("Stage and evidence disagree")
    if r.disagreements:
        lines += out.table(
            ("account", "owner", "stage", "evidence says", "because", "move with"),
            [
                (
                    m.account_id,
                    m.owner,
                    m.stage,
                    m.evidence_stage,
                    "; ".join(m.reasons),
                    m.triggers or "-",
                )
                for m in r.disagreements[:_SHOWN]
            ],
        )
        lines += _more(out, len(r.disagreements), _SHOWN, "accounts")
    elif r.customers and not readings:
        lines += out.para("No stage could be checked: no account has a health reading to judge by.")
    elif unread:
        lines += out.para(
            f"Every account with a health reading is in the stage its evidence points to;"
            f" {unread} active customers have no reading to check."
        )
    else:
        lines += out.para("Every account's stage matches its evidence.")

    lines += out.section("Open crisis episodes")
    e = r.episodes
    lines += out.para(
        f"{e.opened} episodes so far: {e.recovered} recovered, {e.lost} lost, {e.ongoing} open;"
        f" recovery rate {_pct(e.recovery_rate)}, median "
        + ("-" if e.median_days_to_recover is None else f"{e.median_days_to_recover:.0f} days")
        + " to recover (recovered episodes only)."
    )
    unknown = sum(1 for c in r.crises if c.opened_at is None)
    if unknown:
        lines += out.para(
            f"Not counted above: {unknown} accounts are in a crisis stage with no recorded move"
            " into it, so when their episode opened is unknown; their history would tell."
        )
    if r.crises:
        lines += [
            "",
            *out.table(
                ("account", "owner", "stage", "open since", "days", "left", "health"),
                [
                    (c.account_id, c.owner, c.stage, c.opened_at, c.days_open, c.left, c.health)
                    for c in r.crises[:_SHOWN]
                ],
            ),
        ]
        lines += _more(out, len(r.crises), _SHOWN, "open episodes")
        plans: dict[tuple[tuple[str, ...], str], list[str]] = {}
        for c in r.crises:
            plans.setdefault((c.plan, c.plan_source), []).append(c.account_id)
        for (plan, source), ids in list(plans.items())[:3]:
            who = ", ".join(ids[:_SHOWN]) + (
                f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else ""
            )
            lines += ["", *out.para(f"Draft plan for {who} ({source}):")]
            lines += out.bullets(plan)
        lines += _more(out, len(plans), 3, "draft plans")
    lines += out.section("Depth gaps (vendor's view against the customer's)")
    if r.depth_gaps:
        lines += out.table(
            ("account", "owner", "vendor sees", "customer sees", "gap", "sees more"),
            [
                (g.account_id, g.owner, g.vendor, g.customer, g.gap, g.sees_more)
                for g in r.depth_gaps[:_SHOWN]
            ],
        )
        lines += _more(out, len(r.depth_gaps), _SHOWN, "accounts with a gap")
        lines += [
            "",
            *out.para(
                "Only what both sides agree on is real: plan each of these at the lower"
                " depth until both sides see the higher one."
            ),
        ]
        same: dict[str, list[str]] = {}
        for g in r.depth_gaps[:_SHOWN]:
            same.setdefault(g.advice, []).append(g.account_id)
        lines += out.bullets([f"{', '.join(ids)}: {advice}" for advice, ids in same.items()])
    else:
        lines += out.para(_no_gap(r))
    k = r.key_accounts
    lines += out.section("Key-account capacity")
    lines += out.para(k.message + ".")
    if k.below_interconnected:
        lines += out.para(
            f"{len(k.below_interconnected)} key accounts are not interconnected yet: "
            + ", ".join(k.below_interconnected)
            + "."
        )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- HTML
# One self-contained page: inline styles, figures as base64 PNG, no scripts, no fonts or
# sheets from elsewhere, so it opens offline and survives being mailed.
_CSS: Final = """
.stars-report{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;
color:#212121;max-width:1100px;line-height:1.4}
.stars-report h1{font-size:1.6em;margin:0.2em 0}
.stars-report h2{font-size:1.25em;border-bottom:2px solid #3f51b5;padding-bottom:2px;
margin-top:1.4em}
.stars-report h3{font-size:1.05em;margin:1em 0 0.3em}
.stars-report .stars-tiles{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}
.stars-report .stars-tile{border:1px solid #e0e0e0;border-radius:6px;padding:6px 12px;
min-width:90px}
.stars-report .stars-tile b{display:block;font-size:1.4em}
.stars-report .stars-bar{display:flex;height:18px;border-radius:3px;overflow:hidden;max-width:600px}
.stars-report figure{margin:12px 0;max-width:760px}
.stars-report figcaption{font-size:0.9em;color:#424242}
.stars-report .stars-note{color:#616161;font-size:0.9em}
.stars-report table{border-collapse:collapse;margin:4px 0 8px}
.stars-report td,.stars-report th{text-align:left;padding:3px 8px;border-bottom:1px solid #e0e0e0;
vertical-align:top}
.stars-report th{font-weight:600;border-bottom:2px solid #9e9e9e}
"""


def _account_label(account_id: str, name: str) -> str:
    return f"{name} ({account_id})" if name and name != account_id else account_id


def _median_sentence(e: EpisodeSummary) -> str:
    median = "-" if e.median_days_to_recover is None else f"{e.median_days_to_recover:.0f} days"
    return (
        f"{e.opened} episodes so far: {e.recovered} recovered, {e.lost} lost, {e.ongoing} open;"
        f" recovery rate {_pct(e.recovery_rate)}; median time to recover {median}"
        " (recovered episodes only)."
    )


class _HtmlParts:
    """Builds the report's HTML sections (shared by `Report.to_html` and the notebook repr)."""

    def __init__(self, report: Report, book: Portfolio | None) -> None:
        from stars import _html

        self.r = report
        self.h = _html
        self.by_id = {a.id: a for a in book.accounts()} if book is not None else {}
        self.book = book

    def trend(self, account_id: str) -> object:
        account = self.by_id.get(account_id)
        if account is None:
            return None
        return self.h.sparkline(self.h.health_series(account)[-12:]) or None

    def header(self) -> str:
        from html import escape

        r = self.r
        date = r.as_of.date().isoformat() if r.as_of else "no data"
        bands = {b.band: b.accounts for b in r.bands}
        tiles = [
            ("accounts", r.accounts, "#3f51b5"),
            ("active customers", r.customers, "#3f51b5"),
            ("red", bands.get("red", 0), self.h.BAND_COLORS["red"][0]),
            ("yellow", bands.get("yellow", 0), self.h.BAND_COLORS["yellow"][0]),
            ("green", bands.get("green", 0), self.h.BAND_COLORS["green"][0]),
            ("open crises", len(r.crises), "#e65100"),
            ("actions this week", len(r.actions), "#212121"),
        ]
        out = [
            f"<h1>{escape(r.title)}</h1>",
            f"<p>As of {date}: {r.accounts} accounts, {r.customers} active customers.</p>",
            '<div class="stars-tiles">',
            *(
                f'<div class="stars-tile" style="border-top:4px solid {color}">'
                f"<b>{value}</b>{escape(label)}</div>"
                for label, value, color in tiles
            ),
            "</div>",
        ]
        out += [f'<p class="stars-note">Note: {escape(n)}.</p>' for n in r.notes]
        return "\n".join(out)

    def actions(self) -> str:
        r = self.r
        out = ['<h2 id="actions">This week\'s actions</h2>']
        if not r.actions:
            out.append("<p>Nothing urgent: no red accounts, disagreements or stale contacts.</p>")
            return "\n".join(out)
        headers = ["#", "account", "owner", "why", "what to do"]
        if self.by_id:
            headers.insert(4, "health trend")
        rows = []
        for a in r.actions:
            kind = self.h.band_badge("red") if a.kind == "red" else a.kind
            row: list[object] = [a.rank, _account_label(a.account_id, a.name), a.owner, kind]
            if self.by_id:
                row.append(self.trend(a.account_id))
            row.append(a.detail)
            rows.append(row)
        out.append(self.h.table(headers, rows))
        return "\n".join(out)

    def owners(self) -> str:
        from html import escape

        r = self.r
        owners: dict[str, dict[str, list[Any]]] = {}

        def slot(owner: str | None, key: str) -> list[Any]:
            entry = owners.setdefault(owner or "unassigned", {"actions": [], "crises": []})
            return entry[key]

        for a in r.actions:
            slot(a.owner, "actions").append(a)
        for c in r.crises:
            slot(c.owner, "crises").append(c)
        out = ['<h2 id="owners">By owner</h2>']
        if not owners:
            out.append("<p>No owner has an action or an open crisis this week.</p>")
        order = sorted(owners, key=lambda o: (-len(owners[o]["actions"]), o))
        for owner in order:
            acts, crises = owners[owner]["actions"], owners[owner]["crises"]
            out.append(
                f'<h3 id="owner-{escape(owner)}">{escape(owner)}: {len(acts)} action'
                f"{'s' if len(acts) != 1 else ''}, {len(crises)} open crisis"
                f"{'es' if len(crises) != 1 else ''}</h3>"
            )
            if acts:
                out.append(
                    self.h.table(
                        ("#", "account", "why", "what to do"),
                        [
                            (
                                a.rank,
                                _account_label(a.account_id, a.name),
                                self.h.band_badge("red") if a.kind == "red" else a.kind,
                                a.detail,
                            )
                            for a in acts
                        ],
                    )
                )
            if crises:
                out.append(
                    self.h.table(
                        (
                            "open crisis",
                            "stage",
                            "days open",
                            "health",
                            "health trend",
                            "first step",
                        ),
                        [
                            (
                                _account_label(c.account_id, c.name),
                                c.stage,
                                c.days_open,
                                c.health,
                                self.trend(c.account_id),
                                c.plan[0] if c.plan else None,
                            )
                            for c in crises
                        ],
                    )
                )
        return "\n".join(out)

    def bands(self) -> str:
        r = self.r
        total = sum(b.accounts for b in r.bands)
        bar = "".join(
            f'<div title="{b.band}: {b.accounts}" style="width:{100 * b.accounts / total:.2f}%;'
            f'background:{self.h.BAND_COLORS.get(b.band, self.h.BAND_COLORS["unknown"])[0]}"></div>'
            for b in r.bands
            if b.accounts
        )
        out = ['<h2 id="bands">Health bands of active customers</h2>']
        if total:
            out.append(f'<div class="stars-bar" role="img" aria-label="health bands">{bar}</div>')
        out.append(
            self.h.table(
                ("band", "accounts", "share"),
                [(self.h.band_badge(b.band), b.accounts, _pct(b.share)) for b in r.bands],
            )
        )
        out.append('<h2 id="stages">Stages</h2>')
        out.append(
            self.h.table(
                ("stage", "accounts", "share"),
                [(s.stage, s.accounts, _pct(s.share)) for s in r.stages],
            )
        )
        return "\n".join(out)

    def disagreements(self) -> str:
        r = self.r
        out = ['<h2 id="disagreements">Stage and evidence disagree</h2>']
        if not r.disagreements:
            out.append("<p>Every account's stage matches its evidence.</p>")
            return "\n".join(out)
        out.append(
            self.h.table(
                ("account", "owner", "stage", "evidence says", "because", "move with"),
                [
                    (
                        m.account_id,
                        m.owner,
                        m.stage,
                        m.evidence_stage,
                        "; ".join(m.reasons),
                        ", ".join(m.triggers) or "-",
                    )
                    for m in r.disagreements
                ],
            )
        )
        return "\n".join(out)

    def crises(self) -> str:
        from html import escape

        r = self.r
        out = [
            '<h2 id="crises">Open crisis episodes</h2>',
            f"<p>{_median_sentence(r.episodes)}</p>",
        ]
        if r.crises:
            headers = ["account", "owner", "stage", "open since", "days", "left", "health"]
            if self.by_id:
                headers.append("health trend")
            rows = []
            for c in r.crises:
                row: list[object] = [
                    _account_label(c.account_id, c.name),
                    c.owner,
                    c.stage,
                    c.opened_at.date().isoformat() if c.opened_at else None,
                    c.days_open,
                    c.left,
                    c.health,
                ]
                if self.by_id:
                    row.append(self.trend(c.account_id))
                rows.append(row)
            out.append(self.h.table(headers, rows))
            for c in r.crises[:3]:
                plan = "".join(f"<li>{escape(step)}</li>" for step in c.plan)
                out.append(
                    f"<p>Draft plan for {escape(c.account_id)} ({escape(c.plan_source)}):</p>"
                    f"<ul>{plan}</ul>"
                )
        return "\n".join(out)

    def depth(self) -> str:
        from html import escape

        r = self.r
        out = ["<h2 id=\"depth\">Depth gaps (vendor's view against the customer's)</h2>"]
        if r.depth_gaps:
            out.append(
                self.h.table(
                    (
                        "account",
                        "owner",
                        "vendor sees",
                        "customer sees",
                        "gap",
                        "sees more",
                        "advice",
                    ),
                    [
                        (g.account_id, g.owner, g.vendor, g.customer, g.gap, g.sees_more, g.advice)
                        for g in r.depth_gaps
                    ],
                )
            )
        else:
            out.append(f"<p>{_no_gap(self.r)}</p>")
        k = r.key_accounts
        out.append('<h2 id="key-accounts">Key-account capacity</h2>')
        out.append(f"<p>{escape(k.message)}.</p>")
        if k.below_interconnected:
            out.append(
                f"<p>{len(k.below_interconnected)} key accounts are not interconnected yet: "
                f"{escape(', '.join(k.below_interconnected))}.</p>"
            )
        return "\n".join(out)

    def figures(self) -> str:
        out = ['<h2 id="pictures">The portfolio in pictures</h2>']
        if self.book is None:
            out.append(
                '<p class="stars-note">Pass the accounts to <code>to_html</code> to add the '
                "health trends and the portfolio pictures.</p>"
            )
            return "\n".join(out)
        try:
            from stars import _figure, plots
        except ImportError:  # pragma: no cover - stars.plots imports nothing optional
            return ""
        from stars.errors import MissingDependency

        book, when = self.book, self.r.as_of
        shown: list[tuple[Callable[[], Any], str]] = [
            (
                lambda: plots.stage_history(book, end=when),
                "Share of all accounts in each stage at every month end.",
            ),
            (
                lambda: plots.transition_heatmap(book.transition_matrix(end=when)),
                "Monthly transition probabilities: each row is a stage at a month end, each"
                " cell the share of those accounts found in the column's stage a month later.",
            ),
            (
                lambda: plots.recovery_plot(book, as_of=when),
                "Crisis episodes still open by days since they opened (Kaplan-Meier): lost"
                " and still-open episodes count until they ended or until the report's date;"
                " its median therefore differs from the median over recovered episodes only.",
            ),
        ]
        if not any(a.history for a in book.accounts()):
            out.append(
                '<p class="stars-note">No pictures: no account has a recorded history (they'
                " are drawn from transitions; the command reads them from a stage-events"
                " file).</p>"
            )
            return "\n".join(out)
        try:
            for draw, caption in shown:
                fig = draw()
                out.append(f"<figure>{_figure.img(fig)}<figcaption>{caption}</figcaption></figure>")
        except MissingDependency as missing:
            out.append(f'<p class="stars-note">No pictures: {missing}.</p>')
        return "\n".join(out)


def _no_gap(r: Report) -> str:
    """What the depth section says when no account shows a gap."""
    if not r.depth_assessed:
        return "No active customer has its depth assessed on both sides, so no gap can be seen."
    n = r.depth_assessed
    return (
        f"Both sides see the same depth for the {n} active customer{'s' if n > 1 else ''}"
        " assessed on both sides."
    )


def _html_body(
    report: Report, book: Portfolio | None, *, figures: bool, extra: Sequence[str] = ()
) -> str:
    parts = _HtmlParts(report, book)
    sections = [
        parts.header(),
        parts.actions(),
        parts.owners(),
        parts.bands(),
        parts.crises(),
        parts.disagreements(),
        parts.depth(),
        *extra,
    ]
    if figures:
        sections.append(parts.figures())
    return f'<div class="stars-report"><style>{_CSS}</style>\n' + "\n".join(sections) + "\n</div>"


def _as_portfolio(accounts: Portfolio | Iterable[Account] | None) -> Portfolio | None:
    if accounts is None or isinstance(accounts, Portfolio):
        return accounts
    if not isinstance(accounts, Iterable) or isinstance(accounts, str | bytes):  # type: ignore[unreachable]
        raise InvalidValue("accounts", accounts, "a Portfolio, a list of accounts, or None")
    return Portfolio(accounts)
