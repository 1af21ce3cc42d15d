r"""Readers for the files CRMs export: opportunities, contracts, cases and field history.

Each reader takes a CSV export and a `ColumnMap`, a small declarative value that says
which of the export's columns holds each fact (and which stages count as won, which
priorities as critical, which history fields mean what). `SALESFORCE` and `HUBSPOT`
hold maps for the export shapes of those two CRMs; adjust a copy with
`ColumnMap.with_columns` when your export names a column differently.

Readers are as honest as the command line: each returns the values and a `ReadResult`
that counts the rows read, used, skipped (valid, but not what the reader turns into
values, such as an opportunity that is not won) and rejected, and groups the reasons,
one line per cause with a count and the first line numbers. Date-times without an
offset are read in the time zone you give (``tz``, UTC by default).

- `read_opportunities` and `read_contracts` give `stars.contracts.Contract` values;
- `read_cases` gives snapshots with the open-ticket count (and the critical-risk flag);
- `read_field_history` gives stage changes as lifecycle `Event` values, owner changes,
  and snapshots of flags and signals;
- `timeline_from_facts` records those facts in a `stars.timeline.Timeline`, and
  `accounts_from_facts` builds the accounts from it.

Examples:
    >>> import io
    >>> from stars.crm import SALESFORCE, read_opportunities
    >>> export = io.StringIO(
    ...     "Opportunity ID,Account ID,Stage,Close Date,Amount,Opportunity Currency\n"
    ...     '006A1,001ACME,Closed Won,3/31/2025,"12,000.00",USD\n'
    ...     "006A2,001ACME,Prospecting,6/30/2025,5000,USD\n"
    ...     "006A3,,Closed Won,4/1/2025,800,USD\n")
    >>> contracts, result = read_opportunities(export, SALESFORCE.opportunities)
    >>> [(c.account, c.start.isoformat(), c.end.isoformat(), c.arr) for c in contracts]
    [('001ACME', '2025-03-31', '2026-03-31', 12000.0)]
    >>> print(result.summary())
    <export>: 3 rows read, 1 used, 1 skipped, 1 rejected
      rejected 1 (line 4): Account ID: no value
      skipped 1 (line 3): Stage: not a won stage, e.g. 'Prospecting'
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from importlib import resources
from typing import IO, Any, Final, Literal

import attrs

from stars import _validate as v
from stars._csv import all_rows
from stars.account import CARRIED, Account, OwnerChange, Snapshot
from stars.contracts import Contract, add_months
from stars.errors import InvalidValue, SchemaError, UnknownName
from stars.lifecycle import STARS, Event, Lifecycle
from stars.stages import stage_name
from stars.timeline import Timeline

__all__ = [
    "HUBSPOT",
    "PLAIN",
    "SALESFORCE",
    "ColumnMap",
    "CrmFact",
    "CrmPreset",
    "ReadResult",
    "Reason",
    "accounts_from_facts",
    "read_cases",
    "read_contracts",
    "read_field_history",
    "read_opportunities",
    "sample",
    "timeline_from_facts",
]

Kind = Literal["opportunities", "contracts", "cases", "history"]
Source = str | os.PathLike[str] | IO[str] | IO[bytes] | Any

#: Per kind: the fields an export must map, then those it may map.
FIELDS: Final[Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "opportunities": (
        ("account", "stage", "close_date", "amount"),
        ("id", "currency", "start_date", "end_date", "term_months"),
    ),
    "contracts": (
        ("account", "start_date", "amount"),
        ("id", "currency", "end_date", "term_months", "status", "renews"),
    ),
    "cases": (("account", "opened_at"), ("id", "closed_at", "priority")),
    "history": (("account", "field", "new_value", "changed_at"), ("old_value", "changed_by")),
}

_FLAGS: Final = (*CARRIED, "reonboarding_agreed", "new_business_unit")
_SIGNALS: Final = (
    "health",
    "adoption",
    "nps",
    "csat",
    "open_tickets",
    "days_since_contact",
    "sentiment",
)
_FACTS: Final = ("stage", "owner", *_FLAGS, *_SIGNALS)
_TRUE: Final = frozenset({"true", "yes", "y", "1", "checked", "x", "on"})
_FALSE: Final = frozenset({"false", "no", "n", "0", "unchecked", "off"})
_SHOWN_LINES: Final = 5


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _folded_set(field: str, value: object) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValue(field, value, "a collection of strings")
    items = list(value)
    for item in items:
        v.text(field, item)
    return frozenset(_fold(x) for x in items)


def _text_map(field: str, value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise InvalidValue(field, value, "a mapping of strings to strings")
    out: dict[str, str] = {}
    for key, item in value.items():
        v.text(f"{field} key", key)
        v.text(f"{field}[{key!r}]", item)
        out[key] = item
    return out


def _columns(value: object) -> dict[str, str]:
    return _text_map("columns", value)


def _fields(value: object) -> dict[str, str]:
    return _text_map("fields", value)


def _stages(value: object) -> dict[str, str]:
    return _text_map("stages", value)


def _won(value: object) -> frozenset[str]:
    return _folded_set("won_stages", value)


def _counted(value: object) -> frozenset[str]:
    return _folded_set("counted_statuses", value)


def _critical(value: object) -> frozenset[str]:
    return _folded_set("critical_priorities", value)


def _formats(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValue("date_formats", value, "a sequence of strptime formats")
    out = tuple(value)
    for item in out:
        v.text("date_formats", item)
    return out


def _check_choice(choices: tuple[str, ...]) -> Any:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value not in choices:
            shown = ", ".join(repr(c) for c in choices)
            raise InvalidValue(attribute.name, value, f"one of {shown}")

    return check


# --------------------------------------------------------------------------- the column map
@attrs.frozen(slots=True)
class ColumnMap:
    """Which column of an export holds each fact, and how to read its values.

    Attributes:
        kind: ``"opportunities"``, ``"contracts"``, ``"cases"`` or ``"history"``.
        columns: Each field the reader knows, mapped to the export's column header
            (matched exactly, else ignoring case and spacing). The fields by kind:

            - opportunities: ``account``, ``stage``, ``close_date``, ``amount``
              (required), ``id``, ``currency``, ``start_date`` (default: the close
              date), ``end_date``, ``term_months``;
            - contracts: ``account``, ``start_date``, ``amount`` (required), ``id``,
              ``currency``, ``end_date``, ``term_months``, ``status``, ``renews``;
            - cases: ``account``, ``opened_at`` (required), ``id``, ``closed_at``,
              ``priority``;
            - history: ``account``, ``field``, ``new_value``, ``changed_at``
              (required), ``old_value``, ``changed_by``.
        date_formats: ``strptime`` formats tried after ISO 8601, in order.
        decimal: The decimal mark of amounts, ``"."`` or ``","``; the other one, spaces
            and currency signs are ignored.
        amount: What an amount is: ``"arr"`` (annual recurring revenue), ``"mrr"``
            (monthly, times 12) or ``"total"`` (the whole term's value, spread over it).
        end_inclusive: The end date is the last day covered (so the renewal date is the
            day after), as many CRMs record it.
        won_stages: Opportunities: the stages that are won (case-insensitive).
        counted_statuses: Contracts: the statuses whose rows count (empty: every row).
        critical_priorities: Cases: the priorities that are a critical risk.
        fields: History: each field name of the CRM mapped to what it means in stars:
            ``"stage"``, ``"owner"``, a snapshot flag (``"contract_signed"``, ...), a
            snapshot signal (``"health"``, ``"nps"``, ...) or ``"metrics.<name>"``.
        stages: History: the stage field's values mapped to stage names.

    Raises:
        InvalidValue: For a bad value.
        UnknownName: For a field the kind does not know.
        SchemaError: When a required field is not mapped.

    Examples:
        >>> from stars.crm import ColumnMap
        >>> m = ColumnMap("cases", {"account": "Org", "opened_at": "Opened"})
        >>> m.with_columns(closed_at="Closed").columns["closed_at"]
        'Closed'
        >>> ColumnMap("cases", {"account": "Org", "opend_at": "Opened"})
        Traceback (most recent call last):
        ...
        stars.errors.UnknownName: unknown cases field 'opend_at'; did you mean 'opened_at'? ...
    """

    kind: Kind = attrs.field(validator=_check_choice(tuple(FIELDS)))
    columns: Mapping[str, str] = attrs.field(converter=_columns, hash=False)
    date_formats: tuple[str, ...] = attrs.field(default=(), converter=_formats)
    decimal: Literal[".", ","] = attrs.field(default=".", validator=_check_choice((".", ",")))
    amount: Literal["arr", "mrr", "total"] = attrs.field(
        default="arr", validator=_check_choice(("arr", "mrr", "total"))
    )
    end_inclusive: bool = attrs.field(default=False, validator=v.field(v.flag))
    won_stages: frozenset[str] = attrs.field(default=frozenset(), converter=_won)
    counted_statuses: frozenset[str] = attrs.field(default=frozenset(), converter=_counted)
    critical_priorities: frozenset[str] = attrs.field(default=frozenset(), converter=_critical)
    fields: Mapping[str, str] = attrs.field(factory=dict, converter=_fields, hash=False)
    stages: Mapping[str, str] = attrs.field(factory=dict, converter=_stages, hash=False)

    def __attrs_post_init__(self) -> None:
        required, optional = FIELDS[self.kind]
        known = (*required, *optional)
        for name in self.columns:
            if name not in known:
                raise UnknownName(f"{self.kind} field", name, known)
        for name in required:
            if name not in self.columns:
                raise SchemaError(f"columns[{name!r}]", _MISSING, f"a column for {name!r}")
        for crm_field, meaning in self.fields.items():
            if meaning not in _FACTS and not (
                meaning.startswith("metrics.") and len(meaning) > len("metrics.")
            ):
                raise UnknownName(f"fields[{crm_field!r}] meaning", meaning, _FACTS)

    def with_columns(self, **columns: str) -> ColumnMap:
        """A copy with some fields mapped to other columns.

        Examples:
            >>> from stars.crm import SALESFORCE
            >>> m = SALESFORCE.opportunities.with_columns(amount="ARR")
            >>> m.columns["amount"], m.columns["stage"]
            ('ARR', 'Stage')
        """
        return attrs.evolve(self, columns={**self.columns, **columns})

    def header(self, field: str) -> str:
        """The export's column header for ``field`` (the field's name when not mapped).

        Examples:
            >>> from stars.crm import HUBSPOT
            >>> HUBSPOT.cases.header("opened_at")
            'Create date'
        """
        return self.columns.get(field, field)


class _Missing:
    def __repr__(self) -> str:
        return "nothing"


_MISSING: Final = _Missing()


@attrs.frozen(slots=True)
class CrmPreset:
    """The column maps for one CRM's export shapes.

    Attributes:
        name: The CRM.
        opportunities: Opportunities (or deals).
        contracts: Contracts (or subscriptions).
        cases: Cases (or tickets).
        history: Field (or property) history.

    Examples:
        >>> from stars.crm import SALESFORCE
        >>> SALESFORCE.history.columns["changed_at"]
        'CreatedDate'
    """

    name: str
    opportunities: ColumnMap
    contracts: ColumnMap
    cases: ColumnMap
    history: ColumnMap

    def for_kind(self, kind: Kind) -> ColumnMap:
        """The map for one kind of export.

        Examples:
            >>> from stars.crm import HUBSPOT
            >>> HUBSPOT.for_kind("contracts").amount
            'mrr'
        """
        if kind not in FIELDS:
            raise UnknownName("export kind", kind, tuple(FIELDS))
        found: ColumnMap = getattr(self, kind)
        return found


_STAGE_VALUES: Final = {
    "Prospect": "prospect",
    "Onboarding": "seed",
    "Growing": "accelerate",
    "Established": "ascend",
    "Stalled": "reset",
    "At Risk": "tact",
    "Churned": "churn",
}

#: Contracts in the library's own words: ``account``, ``start``, ``end``, ``arr``, ``currency``,
#: ``id``, ``renews``, ``term_months`` (what `stars init` writes and ``stars assess
#: --contracts`` reads by default).
PLAIN_CONTRACTS: Final = ColumnMap(
    "contracts",
    {
        "account": "account",
        "start_date": "start",
        "end_date": "end",
        "amount": "arr",
        "currency": "currency",
        "id": "id",
        "renews": "renews",
        "term_months": "term_months",
    },
)

PLAIN: Final = CrmPreset(
    "plain",
    opportunities=ColumnMap(
        "opportunities",
        {
            "id": "id",
            "account": "account",
            "stage": "stage",
            "close_date": "close_date",
            "amount": "arr",
            "currency": "currency",
            "start_date": "start",
            "end_date": "end",
            "term_months": "term_months",
        },
        won_stages={"won", "closed won"},
    ),
    contracts=PLAIN_CONTRACTS,
    cases=ColumnMap(
        "cases",
        {
            "id": "id",
            "account": "account",
            "priority": "priority",
            "opened_at": "opened_at",
            "closed_at": "closed_at",
        },
        critical_priorities={"critical", "urgent"},
    ),
    history=ColumnMap(
        "history",
        {
            "account": "account",
            "field": "field",
            "old_value": "old_value",
            "new_value": "new_value",
            "changed_at": "changed_at",
            "changed_by": "changed_by",
        },
        fields={name: name for name in _FACTS},
    ),
)
"""Column maps in the library's own words, for files written by hand or by a script.

Opportunities: ``account``, ``stage`` (``won`` or ``closed won`` count), ``close_date``,
``arr``, ``currency``, ``id``, ``start``, ``end``, ``term_months``; contracts as
`PLAIN_CONTRACTS`; cases: ``account``, ``opened_at``, ``closed_at``, ``priority``
(``critical`` or ``urgent`` is a critical risk), ``id``; field history: ``account``,
``field``, ``old_value``, ``new_value``, ``changed_at``, ``changed_by``, where a field is
named by what it means (``stage``, ``owner``, ``health``, ``success_metrics_agreed``, ...)
and a stage by its name.
"""

SALESFORCE: Final = CrmPreset(
    "salesforce",
    opportunities=ColumnMap(
        "opportunities",
        {
            "id": "Opportunity ID",
            "account": "Account ID",
            "stage": "Stage",
            "close_date": "Close Date",
            "amount": "Amount",
            "currency": "Opportunity Currency",
            "start_date": "Contract Start Date",
            "term_months": "Term (Months)",
        },
        date_formats=("%m/%d/%Y", "%m/%d/%Y %I:%M %p"),
        won_stages={"Closed Won"},
    ),
    contracts=ColumnMap(
        "contracts",
        {
            "id": "Contract Number",
            "account": "Account ID",
            "status": "Status",
            "start_date": "Contract Start Date",
            "end_date": "Contract End Date",
            "term_months": "Contract Term (months)",
            "amount": "Annual Recurring Revenue",
            "currency": "Contract Currency",
            "renews": "Renewed Contract",
        },
        date_formats=("%m/%d/%Y",),
        end_inclusive=True,
        counted_statuses={"Activated", "Expired"},
    ),
    cases=ColumnMap(
        "cases",
        {
            "id": "Case Number",
            "account": "Account ID",
            "priority": "Priority",
            "opened_at": "Date/Time Opened",
            "closed_at": "Date/Time Closed",
        },
        date_formats=("%m/%d/%Y %I:%M %p", "%m/%d/%Y"),
        critical_priorities={"Critical"},
    ),
    history=ColumnMap(
        "history",
        {
            "account": "AccountId",
            "field": "Field",
            "old_value": "OldValue",
            "new_value": "NewValue",
            "changed_at": "CreatedDate",
            "changed_by": "CreatedById",
        },
        fields={
            "Customer_Stage__c": "stage",
            "Owner": "owner",
            "Health_Score__c": "health",
            "Success_Plan_Agreed__c": "success_metrics_agreed",
            "Executive_Sponsor_Active__c": "champion_engaged",
            "NPS__c": "nps",
        },
        stages=_STAGE_VALUES,
    ),
)
"""Column maps in the shape of Salesforce report and data exports.

US dates (``3/31/2025``), contract end dates that are the last day covered, and custom
fields (``Customer_Stage__c``, ``Health_Score__c``, ...) in the field history: rename
those to your own with `ColumnMap.with_columns` and ``attrs.evolve``.
"""

HUBSPOT: Final = CrmPreset(
    "hubspot",
    opportunities=ColumnMap(
        "opportunities",
        {
            "id": "Record ID",
            "account": "Associated Company ID",
            "stage": "Deal Stage",
            "close_date": "Close Date",
            "amount": "Amount",
            "currency": "Currency",
            "start_date": "Contract Start Date",
            "term_months": "Contract Term (Months)",
        },
        won_stages={"Closed Won"},
    ),
    contracts=ColumnMap(
        "contracts",
        {
            "id": "Subscription ID",
            "account": "Associated Company ID",
            "status": "Status",
            "start_date": "Start Date",
            "term_months": "Term (Months)",
            "amount": "MRR",
            "currency": "Currency",
            "renews": "Renewal Of",
        },
        amount="mrr",
        counted_statuses={"Active", "Expired", "Cancelled"},
    ),
    cases=ColumnMap(
        "cases",
        {
            "id": "Ticket ID",
            "account": "Associated Company ID",
            "priority": "Priority",
            "opened_at": "Create date",
            "closed_at": "Close date",
        },
        critical_priorities={"Urgent"},
    ),
    history=ColumnMap(
        "history",
        {
            "account": "Company ID",
            "field": "Property",
            "old_value": "Previous Value",
            "new_value": "New Value",
            "changed_at": "Changed At",
            "changed_by": "Changed By",
        },
        fields={
            "cs_stage": "stage",
            "hubspot_owner_id": "owner",
            "health_score": "health",
            "success_plan_agreed": "success_metrics_agreed",
            "executive_sponsor_active": "champion_engaged",
            "nps_score": "nps",
        },
        stages=_STAGE_VALUES,
    ),
)
"""Column maps in the shape of HubSpot exports.

ISO-like date-times (``2025-03-31 14:05``), subscriptions with a monthly amount and a
term, tickets, and property history with custom properties (``cs_stage``,
``health_score``, ...) that you rename to your own.
"""


def sample(crm: str, kind: Kind) -> Any:
    """A bundled sample export, as an importlib resource (a ``Traversable``).

    The samples are small, made-up exports in the shape of each CRM's files, for
    trying the readers; every reader accepts the resource as it is.

    Args:
        crm: ``"salesforce"`` or ``"hubspot"``.
        kind: ``"opportunities"``, ``"contracts"``, ``"cases"`` or ``"history"``.

    Raises:
        UnknownName: For another CRM or kind.

    Examples:
        >>> from stars.crm import sample
        >>> sample("hubspot", "cases").name
        'tickets.csv'
    """
    files = _SAMPLES.get(crm)
    if files is None:
        raise UnknownName("sample CRM", crm, tuple(_SAMPLES))
    if kind not in files:
        raise UnknownName("export kind", kind, tuple(files))
    return resources.files("stars.data").joinpath("crm").joinpath(crm).joinpath(files[kind])


_SAMPLES: Final = {
    "salesforce": {
        "opportunities": "opportunities.csv",
        "contracts": "contracts.csv",
        "cases": "cases.csv",
        "history": "account_history.csv",
    },
    "hubspot": {
        "opportunities": "deals.csv",
        "contracts": "subscriptions.csv",
        "cases": "tickets.csv",
        "history": "property_history.csv",
    },
}


# --------------------------------------------------------------------------- results
@attrs.frozen(slots=True)
class Reason:
    """Why some rows were rejected, skipped or changed: one cause, its count and lines.

    Attributes:
        outcome: ``"rejected"`` (the row is wrong), ``"skipped"`` (valid, but not
            turned into a value) or ``"noted"`` (used, with a change said here).
        cause: What was wrong, the same words for every row it groups.
        count: How many rows.
        lines: The first line numbers (the header is line 1).
        example: The first offending value, if any.

    Examples:
        >>> from stars.crm import Reason
        >>> print(Reason("rejected", "Close Date: expected a date", 2, (4, 9), "31/31/2025"))
        rejected 2 (lines 4, 9): Close Date: expected a date, e.g. '31/31/2025'
    """

    outcome: Literal["rejected", "skipped", "noted"]
    cause: str
    count: int
    lines: tuple[int, ...]
    example: str = ""

    def __str__(self) -> str:
        shown = ", ".join(str(n) for n in self.lines)
        more = ", ..." if self.count > len(self.lines) else ""
        where = f"line{'s' if self.count > 1 else ''} {shown}{more}"
        example = f", e.g. {self.example!r}" if self.example else ""
        return f"{self.outcome} {self.count} ({where}): {self.cause}{example}"


@attrs.frozen(slots=True)
class ReadResult:
    """What a reader did with an export: rows read, used, skipped, rejected, and why.

    Every data row is counted once: ``read == used + skipped + rejected``.

    Attributes:
        source: The file's name (``"<export>"`` for a stream without one).
        kind: The kind of export.
        read: Data rows read (blank lines are not rows).
        used: Rows turned into values.
        skipped: Valid rows that are not turned into values (e.g. an open opportunity).
        rejected: Rows that could not be read.
        reasons: One entry per cause, rejected first, most frequent first.

    Examples:
        >>> from stars.crm import ReadResult
        >>> ReadResult("deals.csv", "opportunities", 3, 3, 0, 0, ()).summary()
        'deals.csv: 3 rows read, 3 used, 0 skipped, 0 rejected'
    """

    source: str
    kind: str
    read: int
    used: int
    skipped: int
    rejected: int
    reasons: tuple[Reason, ...]

    def summary(self) -> str:
        """The counts on one line, then one line per reason.

        Examples:
            >>> from stars.crm import ReadResult, Reason
            >>> r = ReadResult("t.csv", "cases", 2, 1, 0, 1,
            ...                (Reason("rejected", "Created: expected a date-time", 1, (3,)),))
            >>> print(r.summary())
            t.csv: 2 rows read, 1 used, 0 skipped, 1 rejected
              rejected 1 (line 3): Created: expected a date-time
        """
        head = (
            f"{self.source}: {self.read} rows read, {self.used} used,"
            f" {self.skipped} skipped, {self.rejected} rejected"
        )
        return "\n".join([head, *(f"  {r}" for r in self.reasons)])


@attrs.frozen(slots=True)
class CrmFact:
    """A fact read from a CRM export, for one account, with the line it came from.

    Attributes:
        account: The account's id.
        fact: A `Snapshot`, a lifecycle `Event` (a stage change) or an `OwnerChange`.
        line: The line of the row behind it.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars import Snapshot
        >>> from stars.crm import CrmFact
        >>> f = CrmFact("acme", Snapshot(at=datetime(2025, 1, 1, tzinfo=timezone.utc)), 2)
        >>> f.at.year
        2025
    """

    account: str
    fact: Snapshot | Event | OwnerChange
    line: int

    @property
    def at(self) -> datetime:
        """When the fact happened.

        Examples:
            >>> from datetime import datetime, timezone
            >>> from stars import Event
            >>> from stars.crm import CrmFact
            >>> CrmFact("a", Event("sign", datetime(2025, 1, 1, tzinfo=timezone.utc)), 2).at.month
            1
        """
        return self.fact.at


class _Tally:
    """Counts rows and groups the reasons of the ones not used."""

    def __init__(self, source: str, kind: str) -> None:
        self.source = source
        self.kind = kind
        self.read = 0
        self.used = 0
        self.outcome: dict[int, str] = {}
        self.groups: dict[tuple[str, str], list[Any]] = {}

    def _add(self, outcome: str, line: int, cause: str, example: str) -> None:
        group = self.groups.setdefault((outcome, cause), [0, [], example])
        group[0] += 1
        if len(group[1]) < _SHOWN_LINES:
            group[1].append(line)

    def reject(self, line: int, cause: str, example: str = "") -> None:
        if line in self.outcome:  # a row counts once, under its first cause
            return
        self.outcome[line] = "rejected"
        self._add("rejected", line, cause, example)

    def skip(self, line: int, cause: str, example: str = "") -> None:
        if line in self.outcome:
            return
        self.outcome[line] = "skipped"
        self._add("skipped", line, cause, example)

    def note(self, line: int, cause: str, example: str = "") -> None:
        self._add("noted", line, cause, example)

    def result(self) -> ReadResult:
        rejected = sum(1 for o in self.outcome.values() if o == "rejected")
        skipped = sum(1 for o in self.outcome.values() if o == "skipped")
        order = {"rejected": 0, "skipped": 1, "noted": 2}
        reasons = sorted(
            (
                Reason(outcome, cause, g[0], tuple(g[1]), g[2])  # type: ignore[arg-type]
                for (outcome, cause), g in self.groups.items()
            ),
            key=lambda r: (order[r.outcome], -r.count, r.lines[0]),
        )
        return ReadResult(
            self.source,
            self.kind,
            self.read,
            self.read - rejected - skipped,
            skipped,
            rejected,
            tuple(reasons),
        )


# --------------------------------------------------------------------------- reading the file
def _read_table(
    file: Source, encoding: str | None
) -> tuple[str, list[tuple[int, list[str] | None]]]:
    """The rows of a CSV export, each with the line it starts on (``None``: unreadable).

    The command line's rules (`stars._csv`): byte-order marks honoured, the delimiter
    found in the header, a line not in the encoding named with its number and the
    encoding it looks like (read it again with ``encoding=``).
    """
    return all_rows(file, encoding=encoding, stream_name="<export>")


class _Table:
    """An export's rows with their cells looked up by field through a column map."""

    def __init__(
        self, file: Source, columns: ColumnMap, kind: str, encoding: str | None = None
    ) -> None:
        if not isinstance(columns, ColumnMap):
            raise InvalidValue("columns", columns, "a ColumnMap")
        if columns.kind != kind:
            raise InvalidValue("columns", columns.kind, f"a ColumnMap of kind {kind!r}")
        self.map = columns
        source, rows = _read_table(file, encoding)
        self.tally = _Tally(source, kind)
        if not rows or rows[0][1] is None:
            raise SchemaError(
                f"{source}: header",
                _MISSING,
                f"a header row naming the columns of the {kind} export",
            )
        header = [h.strip() for h in rows[0][1]]
        exact = {h: i for i, h in enumerate(header)}
        folded = {_fold(h): i for i, h in enumerate(header)}
        self.index: dict[str, int] = {}
        required = FIELDS[kind][0]
        for field_name, column in columns.columns.items():
            i = exact.get(column.strip(), folded.get(_fold(column)))
            if i is not None:
                self.index[field_name] = i
            elif field_name in required:
                raise SchemaError(
                    f"{source}: column {column!r}",
                    _MISSING,
                    f"a column for {field_name!r} (header: {', '.join(header)})",
                )
        self.width = len(header)
        self.rows = rows[1:]

    def has(self, field: str) -> bool:
        return field in self.index

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        for line, row in self.rows:
            self.tally.read += 1
            if row is None:
                self.tally.reject(line, "unreadable CSV (an unclosed quote?)")
                continue
            if len(row) != self.width:
                self.tally.reject(
                    line, f"the row has {len(row)} fields, the header {self.width}", ",".join(row)
                )
                continue
            yield line, row

    def cell(self, row: list[str], field: str) -> str:
        i = self.index.get(field)
        return row[i].strip() if i is not None else ""

    def header(self, field: str) -> str:
        return self.map.header(field)


def _zone(tz: str | tzinfo) -> tzinfo:
    if isinstance(tz, tzinfo):
        return tz
    if isinstance(tz, str):
        if tz.upper() == "UTC":
            return UTC
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise InvalidValue("tz", tz, "a time zone name such as 'Europe/Berlin', or a tzinfo")


_TIME_DIRECTIVES: Final = re.compile(r"%[HIMSfpTRXc]")


def _parse_when(text: str, formats: Sequence[str]) -> datetime | date | None:
    """A date or a date-time (naive or aware) from ISO 8601 or one of the formats."""
    t = text.strip()
    if not t:
        return None
    if len(t) == 10:
        try:
            return date.fromisoformat(t)
        except ValueError:
            pass
    try:
        return datetime.fromisoformat(t)
    except ValueError:
        pass
    for fmt in formats:
        try:
            parsed = datetime.strptime(t, fmt)
        except ValueError:
            continue
        return parsed if _TIME_DIRECTIVES.search(fmt) else parsed.date()
    return None


def _instant(text: str, tz: tzinfo, formats: Sequence[str]) -> datetime | None:
    when = _parse_when(text, formats)
    if when is None:
        return None
    if not isinstance(when, datetime):
        return datetime.combine(when, time(), tz)
    return when if when.tzinfo is not None else when.replace(tzinfo=tz)


def _day(text: str, tz: tzinfo, formats: Sequence[str]) -> date | None:
    when = _parse_when(text, formats)
    if when is None or not isinstance(when, datetime):
        return when
    return when.astimezone(tz).date() if when.tzinfo is not None else when.date()


_NOT_NUMBER: Final = re.compile(r"[^0-9,.\-]")


def _number(text: str, decimal: str) -> float | None:
    t = _NOT_NUMBER.sub("", text)
    t = t.replace(",", "") if decimal == "." else t.replace(".", "").replace(",", ".")
    if not t or t in ("-", "."):
        return None
    try:
        return float(t)
    except ValueError:
        return None


def _flag(text: str) -> bool | None:
    folded = text.strip().casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    return None


def _date_words(formats: Sequence[str]) -> str:
    shown = ", ".join(f"'{f}'" for f in formats)
    return "a date (ISO 8601" + (f" or {shown})" if formats else ")")


# --------------------------------------------------------------------------- contracts
def _contract_rows(
    table: _Table,
    tz: tzinfo,
    currency: str | None,
    term_months: int | None,
    *,
    keep: Any,
) -> tuple[Contract, ...]:
    m = table.map
    tally = table.tally
    h = table.header
    dates = m.date_formats
    out: list[tuple[int, Contract]] = []
    seen: dict[str, int] = {}
    for line, row in table:
        why = keep(row)
        if why is not None:
            tally.skip(line, *why)
            continue
        account = table.cell(row, "account")
        if not account:
            tally.reject(line, f"{h('account')}: no value")
            continue
        start_field = "start_date"
        start_text = table.cell(row, "start_date")
        if not start_text and m.kind == "opportunities":
            start_field, start_text = "close_date", table.cell(row, "close_date")
        start = _day(start_text, tz, dates)
        if start is None:
            tally.reject(line, f"{h(start_field)}: expected {_date_words(dates)}", start_text)
            continue
        if m.kind == "opportunities" and start_field == "start_date":
            close_text = table.cell(row, "close_date")
            if _day(close_text, tz, dates) is None:
                tally.reject(line, f"{h('close_date')}: expected {_date_words(dates)}", close_text)
                continue
        end: date | None = None
        end_text = table.cell(row, "end_date")
        if end_text:
            end = _day(end_text, tz, dates)
            if end is None:
                tally.reject(line, f"{h('end_date')}: expected {_date_words(dates)}", end_text)
                continue
            if m.end_inclusive:
                end += timedelta(days=1)
        else:
            term_text = table.cell(row, "term_months")
            months: int | None = term_months
            if term_text:
                number = _number(term_text, m.decimal)
                if number is None or not number.is_integer() or number < 1:
                    tally.reject(
                        line, f"{h('term_months')}: expected a whole number of months", term_text
                    )
                    continue
                months = int(number)
            if months is None:
                tally.reject(line, f"{h('end_date')} and {h('term_months')}: no value")
                continue
            end = add_months(start, months)
        amount_text = table.cell(row, "amount")
        amount = _number(amount_text, m.decimal)
        if amount is None or amount < 0:
            tally.reject(line, f"{h('amount')}: expected an amount at or above 0", amount_text)
            continue
        code = table.cell(row, "currency") or currency
        if not code:
            tally.reject(line, f"{h('currency')}: no value (or pass currency=)")
            continue
        ident = table.cell(row, "id") or None
        if ident is not None and ident in seen:
            tally.reject(line, f"{h('id')}: repeats an id", f"{ident} (line {seen[ident]})")
            continue
        renews = table.cell(row, "renews") or None
        try:
            contract = Contract(account, start, end, 0, code, id=ident, renews=renews)
            arr = _annual(amount, m.amount, contract)
            contract = attrs.evolve(contract, arr=arr)
        except InvalidValue as err:
            column = {"end": "end_date", "currency": "currency", "renews": "renews"}.get(
                err.field, err.field
            )
            tally.reject(line, f"{h(column)}: expected {err.expected}", str(err.value))
            continue
        if ident is not None:
            seen[ident] = line
        out.append((line, contract))
    ids = set(seen)
    result: list[Contract] = []
    for line, contract in out:
        if contract.renews is not None and contract.renews not in ids:
            table.tally.note(
                line, f"{h('renews')}: not a contract of this export, link dropped", contract.renews
            )
            contract = attrs.evolve(contract, renews=None)
        result.append(contract)
    return tuple(result)


def _annual(amount: float, kind: str, contract: Contract) -> float:
    if kind == "arr":
        return amount
    if kind == "mrr":
        return amount * 12
    months = contract.term_months
    years = months / 12 if months is not None else (contract.end - contract.start).days / 365.25
    return amount / years


def _term(value: object) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise InvalidValue("term_months", value, "a whole number of months at or above 1, or None")
    return value


def read_opportunities(
    file: Source,
    columns: ColumnMap,
    *,
    tz: str | tzinfo = "UTC",
    encoding: str | None = None,
    currency: str | None = None,
    term_months: int | None = 12,
) -> tuple[tuple[Contract, ...], ReadResult]:
    """Read won opportunities (or deals) as contracts.

    A row whose stage is one of the map's ``won_stages`` becomes a contract from its
    start date (its close date when there is none) for its term (the row's, else
    ``term_months``) or up to its end date; the amount is read as the map's ``amount``
    says. Rows in other stages are skipped, with their stage in the reasons.

    Args:
        file: A path, a text or binary stream, or a `sample`.
        columns: The map, e.g. ``SALESFORCE.opportunities``.
        tz: The time zone of date-times without an offset (default UTC); a date-time
            with an offset is taken on its day in this zone.
        encoding: The file's encoding, when it is not UTF-8 (or marked UTF-16): a line
            that is not in it is named in the error with the encoding it looks like.
        currency: The currency of rows without one (no default: such rows are rejected).
        term_months: The term of rows without an end date or a term.

    Returns:
        The contracts in file order, and the result.

    Raises:
        SchemaError: When the export has no header, lacks a required column, or holds a
            line that is not in the encoding.
        InvalidValue: For a bad argument.

    Examples:
        >>> from stars.crm import HUBSPOT, read_opportunities, sample
        >>> contracts, result = read_opportunities(sample("hubspot", "opportunities"),
        ...                                        HUBSPOT.opportunities)
        >>> result.read == result.used + result.skipped + result.rejected
        True
    """
    zone = _zone(tz)
    term = _term(term_months)
    table = _Table(file, columns, "opportunities", encoding)
    won = columns.won_stages
    header = table.header("stage")

    def keep(row: list[str]) -> tuple[str, str] | None:
        stage = table.cell(row, "stage")
        return None if _fold(stage) in won else (f"{header}: not a won stage", stage)

    contracts = _contract_rows(table, zone, currency, term, keep=keep)
    return contracts, table.tally.result()


def read_contracts(
    file: Source,
    columns: ColumnMap,
    *,
    tz: str | tzinfo = "UTC",
    encoding: str | None = None,
    currency: str | None = None,
    term_months: int | None = None,
) -> tuple[tuple[Contract, ...], ReadResult]:
    """Read contracts (or subscriptions).

    Each row whose status is one of the map's ``counted_statuses`` (every row when the
    set is empty) becomes a contract from its start date up to its end date (the day
    after it when the map says ``end_inclusive``), or for its term. A ``renews`` link
    to a contract that is not in the export is dropped, and said in the reasons.

    Args:
        file: A path, a text or binary stream, or a `sample`.
        columns: The map, e.g. ``SALESFORCE.contracts``.
        tz: The time zone of date-times without an offset (default UTC).
        encoding: The file's encoding, when it is not UTF-8 (or marked UTF-16): a line
            that is not in it is named in the error with the encoding it looks like.
        currency: The currency of rows without one.
        term_months: The term of rows without an end date or a term (default: reject them).

    Returns:
        The contracts in file order, and the result.

    Raises:
        SchemaError: When the export has no header, lacks a required column, or holds a
            line that is not in the encoding.
        InvalidValue: For a bad argument.

    Examples:
        >>> from stars.crm import SALESFORCE, read_contracts, sample
        >>> contracts, result = read_contracts(sample("salesforce", "contracts"),
        ...                                    SALESFORCE.contracts)
        >>> contracts[0].end > contracts[0].start
        True
    """
    zone = _zone(tz)
    term = _term(term_months)
    table = _Table(file, columns, "contracts", encoding)
    counted = columns.counted_statuses
    header = table.header("status")

    def keep(row: list[str]) -> tuple[str, str] | None:
        if not counted or not table.has("status"):
            return None
        status = table.cell(row, "status")
        return None if _fold(status) in counted else (f"{header}: not a counted status", status)

    contracts = _contract_rows(table, zone, currency, term, keep=keep)
    return contracts, table.tally.result()


# --------------------------------------------------------------------------- cases
def read_cases(
    file: Source, columns: ColumnMap, *, tz: str | tzinfo = "UTC", encoding: str | None = None
) -> tuple[tuple[CrmFact, ...], ReadResult]:
    r"""Read cases (or tickets) as snapshots of each account's open tickets.

    A case is open from its opening until its closing (still open without one). Each
    moment an account's count of open cases changes gives one snapshot with
    ``open_tickets``; when the map names ``critical_priorities`` and the export has a
    priority column, the snapshot also says ``critical_risk``: whether a case of such a
    priority is open (a standing fact, so it lasts until a later snapshot changes it).

    Args:
        file: A path, a text or binary stream, or a `sample`.
        columns: The map, e.g. ``HUBSPOT.cases``.
        tz: The time zone of date-times without an offset (default UTC).
        encoding: The file's encoding, when it is not UTF-8 (or marked UTF-16): a line
            that is not in it is named in the error with the encoding it looks like.

    Returns:
        The snapshots, by account then time, and the result.

    Raises:
        SchemaError: When the export has no header, lacks a required column, or holds a
            line that is not in the encoding.
        InvalidValue: For a bad argument.

    Examples:
        >>> import io
        >>> from stars.crm import ColumnMap, read_cases
        >>> m = ColumnMap("cases", {"account": "Org", "opened_at": "Opened", "closed_at": "Closed"})
        >>> facts, result = read_cases(io.StringIO(
        ...     "Org,Opened,Closed\n"
        ...     "acme,2025-03-01 09:00,2025-03-04 17:00\n"
        ...     "acme,2025-03-02 10:00,\n"), m, tz="Europe/Berlin")
        >>> [f.fact.open_tickets for f in facts], facts[0].at.isoformat()
        ([1, 2, 1], '2025-03-01T09:00:00+01:00')
        >>> [(f.at.isoformat(), f.fact.open_tickets) for f in facts][-1]
        ('2025-03-04T17:00:00+01:00', 1)
    """
    zone = _zone(tz)
    table = _Table(file, columns, "cases", encoding)
    h = table.header
    dates = columns.date_formats
    track_critical = bool(columns.critical_priorities) and table.has("priority")
    changes: dict[str, list[tuple[datetime, int, int, int]]] = {}
    seen: dict[str, int] = {}
    for line, row in table:
        account = table.cell(row, "account")
        if not account:
            table.tally.reject(line, f"{h('account')}: no value")
            continue
        opened_text = table.cell(row, "opened_at")
        opened = _instant(opened_text, zone, dates)
        if opened is None:
            table.tally.reject(line, f"{h('opened_at')}: expected a date-time", opened_text)
            continue
        closed_text = table.cell(row, "closed_at")
        closed = _instant(closed_text, zone, dates) if closed_text else None
        if closed_text and closed is None:
            table.tally.reject(line, f"{h('closed_at')}: expected a date-time", closed_text)
            continue
        if closed is not None and v.before(closed, opened):
            table.tally.reject(line, f"{h('closed_at')}: before the opening", closed_text)
            continue
        ident = table.cell(row, "id")
        if ident and ident in seen:
            table.tally.reject(line, f"{h('id')}: repeats an id", f"{ident} (line {seen[ident]})")
            continue
        if ident:
            seen[ident] = line
        critical = int(
            track_critical and _fold(table.cell(row, "priority")) in columns.critical_priorities
        )
        steps = changes.setdefault(account, [])
        steps.append((opened, 1, critical, line))
        if closed is not None:
            steps.append((closed, -1, -critical, line))
    facts: list[CrmFact] = []
    for account in sorted(changes):
        steps = sorted(changes[account], key=lambda s: (v.instant(s[0]), s[3]))
        open_count = critical_count = 0
        i = 0
        while i < len(steps):
            at, line = steps[i][0], steps[i][3]
            j = i
            while j < len(steps) and v.instant(steps[j][0]) == v.instant(at):
                open_count += steps[j][1]
                critical_count += steps[j][2]
                j += 1
            snapshot = Snapshot(
                at=at,
                open_tickets=open_count,
                critical_risk=(critical_count > 0) if track_critical else None,
            )
            facts.append(CrmFact(account, snapshot, line))
            i = j
    return tuple(facts), table.tally.result()


# --------------------------------------------------------------------------- field history
def _stage_of(value: str, m: ColumnMap, names: frozenset[str]) -> str | None:
    mapped = {_fold(k): s for k, s in m.stages.items()}.get(_fold(value))
    candidate = mapped if mapped is not None else value
    try:
        name = stage_name(candidate)
    except (InvalidValue, UnknownName):
        return None
    return name if name in names else None


def _trigger(lifecycle: Lifecycle, source: str, dest: str) -> str | None:
    for t in lifecycle.transitions:
        if source in t.sources and t.dest == dest:
            return t.trigger
    return None


def read_field_history(
    file: Source,
    columns: ColumnMap,
    *,
    tz: str | tzinfo = "UTC",
    encoding: str | None = None,
    lifecycle: Lifecycle = STARS,
) -> tuple[tuple[CrmFact, ...], ReadResult]:
    r"""Read field-history rows ("field, old value, new value, changed at") as facts.

    The map's ``fields`` say what each CRM field means; rows of other fields are
    skipped. Per account, in time order:

    - a ``"stage"`` field gives a lifecycle `Event`: the trigger that leads from the
      stage reached so far (at first the row's old value, else the lifecycle's initial
      stage) to the new one, forced, since the CRM recorded it, with the change as its
      reason; a change the lifecycle has no transition for is rejected;
    - ``"owner"`` gives an `OwnerChange` (its previous owner is the owner reached so far);
    - a flag, a signal or ``"metrics.<name>"`` gives a `Snapshot` that reports only that;
      rows of one account at the same moment make one snapshot.

    Args:
        file: A path, a text or binary stream, or a `sample`.
        columns: The map, e.g. ``SALESFORCE.history``.
        tz: The time zone of date-times without an offset (default UTC).
        encoding: The file's encoding, when it is not UTF-8 (or marked UTF-16): a line
            that is not in it is named in the error with the encoding it looks like.
        lifecycle: The lifecycle whose stages and transitions stage changes follow.

    Returns:
        The facts, by account then time, and the result.

    Raises:
        SchemaError: When the export has no header, lacks a required column, or holds a
            line that is not in the encoding.
        InvalidValue: For a bad argument.

    Examples:
        >>> import io
        >>> from stars.crm import SALESFORCE, read_field_history
        >>> facts, result = read_field_history(io.StringIO(
        ...     "AccountId,Field,OldValue,NewValue,CreatedDate\n"
        ...     "001A,Customer_Stage__c,Prospect,Onboarding,2025-01-10T09:00:00.000Z\n"
        ...     "001A,Health_Score__c,,82,2025-02-01T09:00:00.000Z\n"
        ...     "001A,Phone,,555-0100,2025-02-01T09:00:00.000Z\n"), SALESFORCE.history)
        >>> [type(f.fact).__name__ for f in facts], facts[0].fact.trigger, facts[1].fact.health
        (['Event', 'Snapshot'], 'sign', 82.0)
        >>> result.skipped, result.reasons[0].cause
        (1, 'Field: not a mapped field')
    """
    zone = _zone(tz)
    if not isinstance(lifecycle, Lifecycle):
        raise InvalidValue("lifecycle", lifecycle, "a Lifecycle")
    table = _Table(file, columns, "history", encoding)
    h = table.header
    tally = table.tally
    meanings = {_fold(k): m for k, m in columns.fields.items()}
    names = frozenset(s.name for s in lifecycle.stages)
    rows: list[tuple[str, datetime, int, str, str, str, str, str]] = []
    for line, row in table:
        account = table.cell(row, "account")
        if not account:
            tally.reject(line, f"{h('account')}: no value")
            continue
        crm_field = table.cell(row, "field")
        meaning = meanings.get(_fold(crm_field))
        if meaning is None:
            tally.skip(line, f"{h('field')}: not a mapped field", crm_field)
            continue
        at_text = table.cell(row, "changed_at")
        at = _instant(at_text, zone, columns.date_formats)
        if at is None:
            tally.reject(line, f"{h('changed_at')}: expected a date-time", at_text)
            continue
        old, new = table.cell(row, "old_value"), table.cell(row, "new_value")
        rows.append(
            (account, at, line, crm_field, meaning, old, new, table.cell(row, "changed_by"))
        )
    rows.sort(key=lambda r: (r[0], v.instant(r[1]), r[2]))
    facts: list[CrmFact] = []
    stage: dict[str, str] = {}
    owner: dict[str, str] = {}
    pending: dict[
        tuple[str, datetime], tuple[dict[str, Any], dict[str, float], dict[str, int], int]
    ] = {}
    for account, at, line, crm_field, meaning, old, new, by in rows:
        if meaning == "stage":
            dest = _stage_of(new, columns, names)
            if dest is None:
                tally.reject(line, f"{h('new_value')}: not a stage of the lifecycle", new)
                continue
            source = stage.get(account)
            if source is None:
                source = (_stage_of(old, columns, names) if old else None) or lifecycle.initial
            if source == dest:
                tally.skip(line, f"{h('new_value')}: the stage the account is in already", new)
                continue
            trigger = _trigger(lifecycle, source, dest)
            if trigger is None:
                tally.reject(
                    line,
                    f"{h('new_value')}: no transition to it from the stage reached",
                    f"{source} -> {dest}",
                )
                continue
            reason = f"{crm_field} changed from {old or 'nothing'} to {new} in the CRM"
            facts.append(
                CrmFact(
                    account,
                    Event(trigger, at, actor=by or None, reason=reason, forced=True, to=dest),
                    line,
                )
            )
            stage[account] = dest
        elif meaning == "owner":
            if not new:
                tally.reject(line, f"{h('new_value')}: no owner")
                continue
            previous = owner.get(account, old or None)
            if previous == new:
                tally.skip(line, f"{h('new_value')}: the owner already", new)
                continue
            facts.append(CrmFact(account, OwnerChange(at, new, previous, by=by or None), line))
            owner[account] = new
        else:
            if not new:
                tally.skip(line, f"{h('new_value')}: no value (not reported)")
                continue
            key = (account, v.instant(at))
            kwargs, metrics, lines, first = pending.get(key, ({"at": at}, {}, {}, line))
            if meaning in _FLAGS:
                value: Any = _flag(new)
                if value is None:
                    tally.reject(
                        line, f"{h('new_value')}: expected true or false for {meaning}", new
                    )
                    continue
            else:
                value = _number(new, columns.decimal)
                if value is None:
                    tally.reject(line, f"{h('new_value')}: expected a number for {meaning}", new)
                    continue
            target, name = (
                (metrics, meaning[8:]) if meaning.startswith("metrics.") else (kwargs, meaning)
            )
            if name in target and target[name] != value:
                tally.reject(
                    line,
                    f"{h('new_value')}: another value for the same moment",
                    f"{new} (line {lines[name]})",
                )
                continue
            trial = {**kwargs, name: value} if target is kwargs else kwargs
            try:
                Snapshot(
                    **trial, metrics={**metrics, name: value} if target is metrics else metrics
                )
            except InvalidValue as err:
                tally.reject(line, f"{h('new_value')}: expected {err.expected} for {meaning}", new)
                continue
            target[name] = value
            lines[name] = line
            pending[key] = (kwargs, metrics, lines, first)
    for (account, _), (kwargs, metrics, _lines, first) in pending.items():
        facts.append(CrmFact(account, Snapshot(**kwargs, metrics=metrics), first))
    facts.sort(key=lambda f: (f.account, v.instant(f.at), f.line))
    return tuple(facts), tally.result()


# --------------------------------------------------------------------------- facts to accounts
def timeline_from_facts(
    facts: Iterable[CrmFact],
    *,
    lifecycle: Lifecycle = STARS,
    timeline: Timeline | None = None,
    source: str = "crm",
) -> Timeline:
    r"""Record CRM facts in a `stars.timeline.Timeline`, each known when it happened.

    A CRM logs a case or a field change as it happens, so each fact is recorded at its
    own time (``recorded_at`` is ``at``): asked "as of" a date, the timeline answers with
    the facts logged by then. Facts from several readers can be mixed; at the same moment
    they keep the order they were given in (a snapshot still comes before a stage change,
    as in every timeline). An account's owner before its first recorded owner change is
    that change's previous owner.

    Args:
        facts: Facts from the readers.
        lifecycle: The lifecycle stage changes follow (of a new timeline).
        timeline: A timeline to record into, holding other facts already (its lifecycle
            is used); default a new one.
        source: Where the facts come from (a file's name, say): each fact's id is
            ``SOURCE:ACCOUNT#N@LINE``, so facts of two sources never share an id. The
            same facts recorded twice from one source are recorded once.

    Returns:
        The timeline. A fact that no longer fits where it happened is left out of its
        account and listed by `Timeline.conflicts`, with the reason.

    Raises:
        InvalidValue: For a value that is not a `CrmFact`, or a bad argument.

    Examples:
        >>> import io
        >>> from datetime import datetime, timezone
        >>> from stars.crm import SALESFORCE, read_field_history, timeline_from_facts
        >>> facts, _ = read_field_history(io.StringIO(
        ...     "AccountId,Field,OldValue,NewValue,CreatedDate\n"
        ...     "001A,Customer_Stage__c,,Onboarding,2025-01-10T09:00:00Z\n"
        ...     "001A,Customer_Stage__c,Onboarding,Growing,2025-03-03T09:00:00Z\n"),
        ...     SALESFORCE.history)
        >>> tl = timeline_from_facts(facts)
        >>> tl.account("001A").stage
        'accelerate'
        >>> tl.account("001A", as_of=datetime(2025, 2, 1, tzinfo=timezone.utc)).stage
        'seed'
    """
    if timeline is None:
        if not isinstance(lifecycle, Lifecycle):
            raise InvalidValue("lifecycle", lifecycle, "a Lifecycle")
        timeline = Timeline(lifecycle)
    elif not isinstance(timeline, Timeline):
        raise InvalidValue("timeline", timeline, "a Timeline, or None")
    v.text("source", source)
    grouped: dict[str, list[tuple[int, CrmFact]]] = {}
    for i, fact in enumerate(facts):
        if not isinstance(fact, CrmFact):
            raise InvalidValue(f"facts[{i}]", fact, "a CrmFact")
        grouped.setdefault(fact.account, []).append((i, fact))
    width = len(str(sum(len(g) for g in grouped.values())))
    for account in sorted(grouped):
        ordered = sorted(grouped[account], key=lambda p: (v.instant(p[1].at), p[0]))
        first = next((f.fact for _, f in ordered if isinstance(f.fact, OwnerChange)), None)
        if first is not None and first.previous is not None and not timeline.facts(account):
            timeline.describe(account, owner=first.previous)
        for i, fact in ordered:
            # The id keeps the order given among facts of one moment (a timeline orders
            # those by id), and names where the fact came from.
            ident = f"{source}:{account}#{i:0{width}d}@{fact.line}"
            timeline.record(account, fact.fact, recorded_at=fact.at, id=ident)
    return timeline


def accounts_from_facts(
    facts: Iterable[CrmFact], *, lifecycle: Lifecycle = STARS
) -> dict[str, Account]:
    r"""Build accounts from CRM facts: stage changes, owner changes and snapshots.

    The facts go through a `stars.timeline.Timeline` (see `timeline_from_facts`), so
    they mean here what they mean there: each account's facts are taken in the order
    they happened, whatever order they came in. Stage changes are replayed as recorded
    (guards are not evaluated, see `Lifecycle.replay`); one that does not follow from
    the stage reached is refused here, where a timeline leaves it out and lists it.

    Args:
        facts: Facts from the readers.
        lifecycle: The lifecycle to replay stage changes on.

    Returns:
        The accounts by id.

    Raises:
        InvalidValue: For a value that is not a `CrmFact`.
        TransitionNotAllowed: A stage change does not follow from the stage reached.

    Examples:
        >>> import io
        >>> from stars.crm import SALESFORCE, accounts_from_facts, read_field_history
        >>> facts, _ = read_field_history(io.StringIO(
        ...     "AccountId,Field,OldValue,NewValue,CreatedDate\n"
        ...     "001A,Customer_Stage__c,,Onboarding,2025-01-10T09:00:00Z\n"
        ...     "001A,Success_Plan_Agreed__c,false,true,2025-02-01T09:00:00Z\n"),
        ...     SALESFORCE.history)
        >>> a = accounts_from_facts(facts)["001A"]
        >>> a.stage, a.known().success_metrics_agreed
        ('seed', True)
    """
    timeline = timeline_from_facts(facts, lifecycle=lifecycle)
    out: dict[str, Account] = {}
    for account in sorted({f.account for f in timeline}):
        for conflict in timeline.conflicts(account):
            if conflict.error is not None:
                raise conflict.error
            raise InvalidValue("facts", conflict.fact.item, conflict.reason)  # pragma: no cover
        out[account] = timeline.account(account)
    return out
