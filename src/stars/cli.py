"""The ``stars`` command (also ``python -m stars``).

Subcommands:

- ``stars demo``: the portfolio report on the bundled demo portfolio;
- ``stars assess ACCOUNTS.csv [--snapshots SNAPSHOTS.csv]``: the same report on your own data;
- ``stars diagram [--lifecycle FILE]``: the lifecycle as a Mermaid state diagram;
- ``stars maturity ANSWERS.json``: the customer-success maturity report;
- ``stars backtest FILE.csv --scorecard CARD.json --outcome COLUMN``: does a scorecard
  predict churn (needs the ``frames`` extra);
- ``stars init DIR``: template files that every command accepts, to start from;
- ``stars scorecard``: the default health scorecard as JSON;
- ``stars --version``.

Reports print as terminal tables by default; ``--format json`` and ``--format markdown``
suit machines and documents. The exit code is 0 on success and 2 for bad input, with a
one-line message on stderr and never a traceback; ``stars assess`` exits with 3 when it
wrote its report but a file had more rejected rows than ``--max-rejects`` allows.

Examples:
    >>> from stars.cli import main
    >>> main(["diagram"])  # doctest: +ELLIPSIS
    stateDiagram-v2
        [*] --> prospect
    ...
    0
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Final

from stars._texttable import terminal_width
from stars._version import __version__
from stars.errors import InvalidValue, StarsError

__all__ = ["EXIT_BAD_INPUT", "EXIT_OK", "EXIT_REJECTED", "build_parser", "main"]

EXIT_OK: Final = 0
"""Exit code of a successful run."""

EXIT_BAD_INPUT: Final = 2
"""Exit code when the input (arguments, files, their content) is wrong."""

EXIT_REJECTED: Final = 3
"""Exit code when the report was written but a file had more rejected rows than allowed."""

_FORMATS: Final = ("text", "json", "markdown")
_PROGRESS_MIN: Final = 2000


class _BadInput(Exception):
    """A user mistake found by the command itself; the message is shown as is."""


# --------------------------------------------------------------------------- progress
class _Progress:
    """A one-line progress bar on a stream (stderr), redrawn in place."""

    def __init__(
        self, stream: IO[str], label: str, total: int, width: int = 30, unit: str = ""
    ) -> None:
        self.stream = stream
        self.label = label
        self.total = max(total, 1)
        self.width = width
        self.unit = unit
        self.shown = -1

    def _amount(self, done: int) -> str:
        if self.unit != "B":
            return f"{done}/{self.total}"
        size = self.total
        human = f"{size / 1e6:,.0f} MB" if size >= 10e6 else f"{size / 1e3:,.1f} kB"
        return f"{100 * done // size}% of {human}"

    def update(self, done: int) -> None:
        done = min(done, self.total)
        filled = self.width * done // self.total
        if filled == self.shown and done != self.total:
            return
        self.shown = filled
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self._amount(done)}")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _want_progress(flag: bool | None, size: int) -> bool:
    if flag is not None:
        return flag
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty()) and size >= _PROGRESS_MIN


# --------------------------------------------------------------------------- commands
def _cmd_demo(args: argparse.Namespace) -> str:
    from stars.demo import load_bundled
    from stars.report import build_report, render

    report = build_report(load_bundled(), title="Portfolio report: the stars demo portfolio")
    return render(report, args.format, width=terminal_width())


def _need_file(path: str) -> None:
    if not Path(path).is_file():
        raise _BadInput(f"{path}: no such file")


def _options(args: argparse.Namespace) -> Any:
    from stars import _csv
    from stars._intake import Options, known_column, listing

    rename: dict[str, str] = {}
    for item in args.map or ():
        source, sep, target = item.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise _BadInput(f"--map {item!r}: expected SOURCE=TARGET, such as 'Account ID=id'")
        column = target.strip()
        if not known_column(column):
            raise _BadInput(f"--map {item!r}: {column!r} is no column stars reads ({listing()})")
        rename[source.strip()] = column
    zone = _csv.parse_zone(args.tz)
    return Options(
        zone=zone,
        zone_name=_csv.zone_label(zone),
        rename=rename,
        encoding=_csv.check_encoding(args.encoding),
        delimiter=args.delimiter,
    )


class _Done:
    """What a command produced: its output, its exit code, and lines for stderr after it."""

    __slots__ = ("code", "messages", "output")

    def __init__(self, output: str, code: int = EXIT_OK, messages: Sequence[str] = ()) -> None:
        self.output = output
        self.code = code
        self.messages = list(messages)


_MAX_CAUSES: Final = 8


def _open_store(url: str) -> Any:
    from stars import store

    try:
        return store.open(url)
    except (StarsError, OSError) as err:
        raise _BadInput(f"--store {url}: {err}") from None


def _write_html(
    path: str | None, report: Any, accounts: Sequence[Any], sections: Sequence[Any] = ()
) -> list[str]:
    """Write the report's HTML page when ``--html`` asks for it; the line that says so."""
    if not path:
        return []
    try:
        written = report.write_html(path, accounts, sections=sections)
    except OSError as exc:
        raise _BadInput(f"{path}: cannot write the HTML report: {exc.strerror}") from None
    return [f"stars: wrote the HTML report to {written}"]


def _assess_store(args: argparse.Namespace) -> _Done:
    if args.accounts or args.snapshots or args.events:
        raise _BadInput("--store reads the accounts from the store: give no CSV files with it")
    with _open_store(args.store) as kept:  # accounts read their older changes on demand
        return _store_report(args, list(kept.accounts()))


def _store_report(args: argparse.Namespace, accounts: list[Any]) -> _Done:
    from stars.lifecycle import STARS
    from stars.report import build_report, render

    if not accounts:
        raise _BadInput(f"--store {args.store}: the store holds no account")
    report = build_report(
        accounts,
        STARS,
        title=f"Portfolio report: {args.store}",
        company_maturity=args.maturity,
        key_account_capacity=args.key_account_capacity,
    )
    messages = _write_html(args.html, report, accounts)
    if args.format == "json":
        output = json.dumps(report.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    else:
        output = render(report, args.format, width=terminal_width())
        if any(a.history for a in accounts):
            output += _histories_text(accounts, report.as_of, args.format == "markdown")
    return _Done(output, EXIT_OK, messages)


def _cmd_import(args: argparse.Namespace) -> _Done:
    from stars import store

    for path in args.files:
        _need_file(path)
    with _open_store(args.store) as kept:
        try:
            result = store.import_files(kept, args.files)
        except StarsError as err:
            raise _BadInput(str(err)) from None
    failed = len(result.rejected) + result.rows_rejected
    messages = []
    if failed:
        messages.append(
            f"stars: error: {len(result.rejected)} events and {result.rows_rejected} CSV rows"
            " were not imported"
        )
    return _Done(result.summary() + "\n", EXIT_REJECTED if failed else EXIT_OK, messages)


def _cmd_assess(args: argparse.Namespace) -> _Done:
    # A report on a big book builds hundreds of thousands of small objects (snapshots,
    # accounts, rows) that are kept to the end: the cyclic collector would walk them over
    # and over for nothing (a sixth of the command's time on 50,000 accounts).
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        return _assess(args)
    finally:
        if enabled:
            gc.enable()


def _assess(args: argparse.Namespace) -> _Done:
    import attrs

    if args.store:
        if args.renewal_model:
            raise _BadInput("--renewal-model reads the renewals from --contracts: not with --store")
        return _assess_store(args)
    if not args.accounts:
        raise _BadInput("give an accounts file (ACCOUNTS.csv) or --store URL")
    risk_model = _renewal_model(args)  # checked before the long reads

    from stars._intake import (
        DEFAULT_MAX_REJECTS,
        Limit,
        apply_events,
        default_keep,
        read_accounts,
        read_snapshots,
        scored,
        with_snapshots,
        write_rejects,
    )
    from stars.lifecycle import STARS
    from stars.report import build_report, render

    limit = Limit.parse("0" if args.strict else (args.max_rejects or DEFAULT_MAX_REJECTS))
    for path in (
        args.accounts,
        args.events,
        args.snapshots,
        args.contracts,
        args.opportunities,
        args.cases,
        args.field_history,
    ):
        if path is not None:
            _need_file(path)
    if args.contracts and args.opportunities:
        raise _BadInput(
            "give --contracts or --opportunities, not both: a won opportunity and the"
            " contract it became would count twice"
        )
    opts = _options(args)
    accounts, acc_in = read_accounts(args.accounts, opts, STARS)
    intakes = [acc_in]
    kept_note = None
    if accounts and args.snapshots:
        size = Path(args.snapshots).stat().st_size
        if "polars" not in sys.modules:
            # Polars' allocator (jemalloc) keeps freed pages for 10 s by default: reading
            # 3 million rows chunk by chunk then peaks at 1.42 times the file's size.
            # Returning them at once (0 ms) peaks at 1.04 times, but every chunk faults
            # its pages in again: 0.8 s of system time, 3.57 s for the whole command.
            # 200 ms keeps the pages the next chunks reuse: 1.28 times and 3.28 s (a
            # user's own setting wins).
            os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:200")
        show = _want_progress(args.progress, size // 64)

        def progress(label: str, total: int, unit: str) -> _Progress | None:
            return _Progress(sys.stderr, label, total, unit=unit) if show else None

        ids = frozenset(a.id for a in accounts)
        tails, snap_in = read_snapshots(
            args.snapshots,
            opts,
            ids,
            args.accounts,
            args.keep_snapshots or default_keep(STARS),
            progress,
            detail=bool(args.rejects),
            lifecycle=STARS,
        )
        intakes.append(snap_in)
        kept = tails.snapshots()
        if not tails.banded:  # else every kept snapshot is scored and banded already
            stage = {a.id: a.stage for a in accounts}
            bar = progress("scoring snapshots", len(kept), "")
            for n, (ident, snaps) in enumerate(kept.items(), start=1):
                kept[ident] = scored(snaps, stage[ident], STARS)
                if bar is not None and not n % 512:
                    bar.update(n)
            if bar is not None:
                bar.update(len(kept))
                bar.close()
        accounts = with_snapshots(accounts, kept)
        kept_note = tails.note()
    if accounts and args.events:
        accounts, ev_in = apply_events(args.events, opts, accounts, args.accounts, STARS)
        intakes.insert(1, ev_in)
    crm_reads: list[tuple[str, Any]] = []
    crm_notes: list[str] = []
    if accounts and (args.cases or args.field_history):
        accounts, crm_reads, crm_notes = _crm_facts(args, accounts, STARS)
    messages = _reject_messages(intakes, opts.zone_name)
    if args.rejects:
        write_rejects(Path(args.rejects), intakes)
    if not accounts:
        for line in messages:
            print(_wrap_message(line, terminal_width()), file=sys.stderr)
        raise _BadInput(f"{args.accounts}: no account could be imported")
    over = [i for i in intakes if i.rejected_rows > limit.allowed(i.rows)]
    report = build_report(
        accounts,
        STARS,
        title=f"Portfolio report: {Path(args.accounts).name}",
        company_maturity=args.maturity,
        key_account_capacity=args.key_account_capacity,
    )
    notes: list[str] = []
    revenue = None
    if args.contracts or args.opportunities:
        revenue, read = _revenue(args, accounts, report.as_of, risk_model)
        crm_reads.insert(0, (args.contracts or args.opportunities, read))
    crm_over = [
        (path, read) for path, read in crm_reads if read.rejected > limit.allowed(read.read)
    ]
    for path, read in crm_over:
        crm_message = (
            f"stars: error: {path}: {read.rejected:,} of {read.read:,} rows rejected,"
            f" more than --max-rejects {limit.text} allows ({limit.allowed(read.read):,});"
            " the report is incomplete"
        )
        notes.append(f"INCOMPLETE: {crm_message.removeprefix('stars: error: ')}")
        messages.append(crm_message)
    contract_notes: list[str] = []
    for path, read in crm_reads:
        contract_notes.append(path + read.summary().splitlines()[0].removeprefix(read.source))
        contract_notes += [f"{path}, {r}" for r in read.reasons[:_MAX_CAUSES]]
        if len(read.reasons) > _MAX_CAUSES:
            contract_notes.append(f"{path}: {len(read.reasons) - _MAX_CAUSES} more causes")
    contract_notes += crm_notes
    for i in over:
        notes.append(
            f"INCOMPLETE: {i.label} had {i.rejected_rows:,} of {i.rows:,} rows rejected,"
            f" more than --max-rejects {limit.text} allows ({limit.allowed(i.rows):,})"
        )
    for i in intakes:
        notes.append(i.summary(opts.zone_name))
        causes = i.cause_lines()
        notes += [f"{i.label}, rejected {c}" for c in causes[:_MAX_CAUSES]]
        if len(causes) > _MAX_CAUSES:
            more = len(causes) - _MAX_CAUSES
            notes.append(f"{i.label}: {more} more causes (--rejects FILE lists every row)")
        notes += [f"{i.label}: {n}" for n in i.notes]
    notes += contract_notes
    if kept_note is not None:
        notes.append(f"{args.snapshots}: {kept_note}")
    report = attrs.evolve(report, notes=(*notes, *report.notes))
    at_risk = revenue.risk if revenue is not None else None
    messages += _write_html(args.html, report, accounts, () if at_risk is None else (at_risk,))
    briefs = _briefs(args.brief or (), accounts, report.as_of)
    with_history = bool(args.events) or any(a.history for a in accounts)
    if args.format == "json":
        data = report.to_dict()
        data["input"] = {
            "files": [i.to_dict(limit) for i in intakes],
            "time_zone": opts.zone_name,
            "max_rejects": limit.text,
            "complete": not over and not crm_over,
        }
        data["input"]["files"] += [_crm_file_data(p, r, limit) for p, r in crm_reads]
        if with_history:
            data["histories"] = _histories_data(accounts, report.as_of)
        if revenue is not None:
            data["revenue"] = revenue.data()
        if at_risk is not None:
            data["revenue_at_risk"] = at_risk.to_dict()
        if briefs:
            data["briefs"] = briefs
        output = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    else:
        output = render(report, args.format, width=terminal_width())
        if with_history:
            output += _histories_text(accounts, report.as_of, args.format == "markdown")
        if revenue is not None:
            output += revenue.text(args.format == "markdown")
        for text in briefs.values():
            brief = text.rstrip("\n")
            output += "\n" + (
                brief if args.format == "markdown" else _fit_lines(brief, terminal_width())
            )
            output += "\n"
    code = EXIT_OK
    if crm_over:
        code = EXIT_REJECTED
    if over:
        code = EXIT_REJECTED
        for i in over:
            messages.append(
                f"stars: error: {i.label}: {i.rejected_rows:,} of {i.rows:,} rows rejected, more"
                f" than --max-rejects {limit.text} allows ({limit.allowed(i.rows):,});"
                " the report is incomplete"
            )
    return _Done(output, code, messages)


def _briefs(ids: Sequence[str], accounts: Sequence[Any], as_of: Any) -> dict[str, str]:
    from stars.lifecycle import handover_brief

    by_id = {a.id: a for a in accounts}
    out: dict[str, str] = {}
    for ident in ids:
        if ident not in by_id:
            from stars.errors import UnknownName

            raise _BadInput(f"--brief: {UnknownName('account', ident, sorted(by_id)[:20])}")
        out[ident] = handover_brief(by_id[ident], as_of=as_of)
    return out


def _histories_data(accounts: Sequence[Any], as_of: Any) -> dict[str, Any]:
    from stars._intake import histories
    from stars.lifecycle import STARS

    rows, matrix, days = histories(accounts, STARS, as_of)
    return {
        "time_in_stage": [
            {
                "stage": r.stage,
                "accounts": r.accounts,
                "median_days": r.median_days,
                "longest_days": r.longest_days,
            }
            for r in rows
        ],
        "days_in_stage": days,
        "transition_matrix": {
            "freq": matrix.freq,
            "stages": list(matrix.stages),
            "counts": [list(row) for row in matrix.counts],
        },
    }


class _Revenue:
    """The contracts' part of the report: renewals, retention, revenue by band."""

    def __init__(
        self, renewals: Any, retention: Any, bands: Any, as_of: Any, risk: Any = None
    ) -> None:
        self.renewals, self.retention, self.bands, self.as_of = renewals, retention, bands, as_of
        self.risk = risk  # a stars.forecast.RenewalRisk with --renewal-model

    def text(self, markdown: bool) -> str:
        out = _Table(markdown)
        out.section(f"Renewals in the next {_RENEWAL_DAYS} days")
        if not self.renewals:
            out.para(f"No contract renews between {self.as_of} and {_RENEWAL_DAYS} days later.")
        else:
            out.table(
                ("renews", "account", "arr", "band", "renewal signed"),
                [
                    (
                        r.on.isoformat(),
                        r.account,
                        f"{r.arr:,.0f} {r.currency}",
                        r.band.value if r.band is not None else "-",
                        "yes" if r.renewed else "no",
                    )
                    for r in self.renewals
                ],
                right=(2,),
            )
        out.section("Revenue retention over the last 12 months")
        for r in self.retention:
            out.para(r.summary())
        out.para(
            "GRR counts the revenue kept from the accounts paying as the year opened, without"
            " expansion (at most 100%); NRR adds their expansion; new and reactivated"
            " accounts count in neither."
        )
        out.section(f"Revenue in force on {self.as_of}, by health band")
        out.table(
            ("band", "accounts", "arr", "share"),
            [
                (
                    b.band.value if b.band is not None else "unknown",
                    str(b.accounts),
                    f"{b.arr:,.0f}",
                    f"{b.share:.0%}",
                )
                for b in self.bands
            ],
            right=(1, 2, 3),
        )
        if self.risk is not None:
            out.lines.append(
                self.risk.to_markdown() if markdown else self.risk.to_text(terminal_width())
            )
        return "\n".join(out.lines) + "\n"

    def data(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "renewals": [
                {
                    "on": r.on.isoformat(),
                    "account": r.account,
                    "arr": r.arr,
                    "currency": r.currency,
                    "band": r.band.value if r.band is not None else None,
                    "renewed": r.renewed,
                }
                for r in self.renewals
            ],
            "retention": [
                {
                    "start": r.start.isoformat(),
                    "end": r.end.isoformat(),
                    "opening": r.opening,
                    "closing": r.closing,
                    "grr": r.grr,
                    "nrr": r.nrr,
                    "logo_retention": r.logo_retention,
                }
                for r in self.retention
            ],
            "revenue_by_band": [
                {
                    "band": b.band.value if b.band is not None else None,
                    "accounts": b.accounts,
                    "arr": b.arr,
                    "share": b.share,
                }
                for b in self.bands
            ],
        }


_RENEWAL_DAYS = 90


def _revenue(
    args: argparse.Namespace, accounts: Sequence[Any], as_of: Any, risk_model: Any = None
) -> tuple[_Revenue, Any]:
    from datetime import timedelta

    from stars import crm
    from stars.contracts import ContractBook

    preset = _preset(args.crm)
    path = args.contracts or args.opportunities
    if args.contracts:
        contracts, read = crm.read_contracts(
            path, preset.contracts, tz=args.tz or "UTC", encoding=args.encoding
        )
    else:
        contracts, read = crm.read_opportunities(
            path, preset.opportunities, tz=args.tz or "UTC", encoding=args.encoding
        )
    if not contracts:
        what = "contract" if args.contracts else "won opportunity"
        raise _BadInput(f"{path}: no {what} could be read ({read.summary().splitlines()[0]})")
    rates: dict[str, float] = {}
    for given in args.rate or ():
        code, _, value = given.partition("=")
        try:
            rates[code.strip().upper()] = float(value)
        except ValueError:
            raise _BadInput(f"--rate {given}: expected CODE=VALUE, e.g. EUR=1.08") from None
    if rates and not args.currency:
        raise _BadInput("--rate needs --currency, the currency the rates convert to")
    try:
        book = ContractBook(contracts, rates=rates or None, currency=args.currency)
    except InvalidValue as err:
        raise _BadInput(
            f"{path}: {err} (on the command line: --rate CODE=VALUE and --currency CODE)"
        ) from None
    day = as_of.date() if as_of is not None else max(c.start for c in contracts)
    year_ago = (
        day.replace(year=day.year - 1)
        if not (day.month == 2 and day.day == 29)
        else (day - timedelta(days=365))
    )
    renewals = book.renewals(day, day + timedelta(days=_RENEWAL_DAYS), accounts=accounts)
    retention = book.retention(year_ago, day, accounts=accounts)
    bands = book.revenue_by_band(day, accounts)
    risk = None
    if risk_model is not None:
        from stars.forecast import renewal_risk

        risk = renewal_risk(
            risk_model, accounts, book, as_of=day, horizon_days=args.horizon_days, level=args.level
        )
    return _Revenue(renewals, retention, bands, day, risk), read


def _renewal_model(args: argparse.Namespace) -> Any:
    """Read ``--renewal-model`` and check it fits the report's health (None without it)."""
    path = args.renewal_model
    if path is None:
        for flag, given in (("--horizon-days", args.horizon_days), ("--level", args.level)):
            if given is not None:
                raise _BadInput(f"{flag} sets the revenue at risk: give --renewal-model too")
        return None
    if not (args.contracts or args.opportunities):
        raise _BadInput(
            f"--renewal-model {path}: needs --contracts CONTRACTS.csv (or --opportunities):"
            " the renewals at risk are read from the contracts"
        )
    args.horizon_days = 90 if args.horizon_days is None else args.horizon_days
    args.level = 0.9 if args.level is None else args.level
    if not 0 < args.level < 1:
        raise _BadInput(f"--level {args.level:g}: expected a level between 0 and 1, such as 0.9")
    _need_file(path)
    from stars.backtesting import scorecard_digest
    from stars.forecast import RenewalModel
    from stars.health import default_scorecard
    from stars.lifecycle import STARS

    try:
        model = RenewalModel.load(path)
    except StarsError as err:
        raise _BadInput(f"--renewal-model {err}") from None
    if STARS.scorecards is not None or not model.measures:
        return model  # health from the lifecycle's own cards, or a model from Python
    card = default_scorecard()
    names = [m.name for m in card.measures]
    if sorted(model.measures) != sorted(names):
        raise _BadInput(
            f"--renewal-model {path}: fitted on the health of the measures"
            f" {', '.join(model.measures)}; the report scores health with"
            f" {', '.join(names)}. Backtest with the report's scorecard"
            " (stars scorecard --output card.json) and save the model again"
        )
    if model.scorecard is not None and model.scorecard != scorecard_digest(card):
        raise _BadInput(
            f"--renewal-model {path}: fitted on health from a scorecard with the report's"
            " measures but other weights or rules; backtest with the report's scorecard"
            " (stars scorecard --output card.json) and save the model again"
        )
    return model


def _preset(name: str) -> Any:
    from stars import crm

    return {"plain": crm.PLAIN, "salesforce": crm.SALESFORCE, "hubspot": crm.HUBSPOT}[name]


def _crm_file_data(path: str, read: Any, limit: Any) -> dict[str, Any]:
    """A CRM file's counts as JSON-ready data, beside the other files'."""
    return {
        "file": path,
        "kind": read.kind,
        "rows": read.read,
        "used": read.used,
        "skipped": read.skipped,
        "rejected": read.rejected,
        "max_rejects": limit.allowed(read.read),
        "causes": [
            {
                "outcome": r.outcome,
                "cause": r.cause,
                "rows": r.count,
                "first_lines": list(r.lines),
                "example": r.example,
            }
            for r in read.reasons
        ],
    }


def _crm_facts(
    args: argparse.Namespace, accounts: list[Any], lifecycle: Any
) -> tuple[list[Any], list[tuple[str, Any]], list[str]]:
    """Read --cases and --field-history through the --crm map and add their facts.

    Each account's own changes (from --events and --snapshots) and the CRM's facts go
    through one `Timeline`, so a fact lands where it happened. A CRM fact that does not
    fit the account's history is a rejected row of its file; a fact about an account the
    accounts file does not list is a skipped row.
    """
    from stars import crm
    from stars.lifecycle import Event
    from stars.timeline import Timeline

    preset = _preset(args.crm)
    tz = args.tz or "UTC"
    files: list[tuple[str, tuple[Any, ...], Any]] = []
    if args.cases:
        facts, read = crm.read_cases(args.cases, preset.cases, tz=tz, encoding=args.encoding)
        files.append((args.cases, facts, read))
    if args.field_history:
        facts, read = crm.read_field_history(
            args.field_history, preset.history, tz=tz, encoding=args.encoding, lifecycle=lifecycle
        )
        files.append((args.field_history, facts, read))
    by_id = {a.id: a for a in accounts}
    mine: dict[str, list[tuple[int, Any]]] = {}
    skipped: list[dict[int, tuple[str, str]]] = [{} for _ in files]
    rejected: list[dict[int, tuple[str, str]]] = [{} for _ in files]
    for n, (_, facts, read) in enumerate(files):
        column = preset.for_kind(read.kind).header("account")
        for f in facts:
            if f.account in by_id:
                mine.setdefault(f.account, []).append((n, f))
            else:
                why = f"{column}: not an account of {args.accounts}"
                skipped[n].setdefault(f.line, (why, f.account))
    notes: list[str] = []
    out: list[Any] = []
    moved: list[str] = []
    for a in accounts:
        facts_of = mine.get(a.id)
        if not facts_of:
            out.append(a)
            continue
        tl = Timeline(lifecycle)
        first_owner = a.owners[0].previous if a.owners else a.owner
        tl.describe(a.id, name=a.name, owner=first_owner, tags=a.tags, since=a.since)
        own: list[Any] = [
            Event(r.trigger, r.at, r.actor, r.reason, r.forced, r.dest) for r in a.history
        ]
        for k, item in enumerate([*own, *a.snapshots, *a.owners]):
            tl.record(a.id, item, recorded_at=item.at, id=f"{args.accounts}:{k}")
        where: dict[str, tuple[int, int]] = {}
        for n, (path, _, _) in enumerate(files):
            before = {f.id for f in tl.facts(a.id)}
            given = [f for m, f in facts_of if m == n]
            crm.timeline_from_facts(given, timeline=tl, source=path)
            for fact in tl.facts(a.id):
                if fact.id not in before:
                    where[fact.id] = (n, int(fact.id.rsplit("@", 1)[1]))
        built = tl.account(a.id)
        for conflict in tl.conflicts(a.id):
            found = where.get(conflict.fact.id)
            if found is None:
                notes.append(f"{a.id}: left out, after the CRM facts: {conflict.reason}")
                continue
            n, line = found
            why = "does not fit the account's history"
            rejected[n].setdefault(line, (why, conflict.reason))
        if not built.history and not a.history:
            built = type(a)(
                a.id,
                name=built.name,
                owner=built.owner,
                tags=built.tags,
                since=built.since,
                stage=a.stage,
                snapshots=built.snapshots,
                owners=built.owners,
            )
        elif not a.history and a.stage not in (lifecycle.initial, built.stage):
            moved.append(f"{a.id} ({a.stage} -> {built.stage})")
        out.append(built)
    if moved:
        shown = ", ".join(moved[:5]) + (", ..." if len(moved) > 5 else "")
        notes.append(
            f"{len(moved)} {'accounts end' if len(moved) > 1 else 'account ends'} in another"
            f" stage than {args.accounts} gives; the CRM's stage changes were followed: {shown}"
        )
    reads = [
        (path, _amended(read, skipped[n], rejected[n])) for n, (path, _, read) in enumerate(files)
    ]
    return out, reads, notes


def _amended(
    read: Any, skipped: dict[int, tuple[str, str]], rejected: dict[int, tuple[str, str]]
) -> Any:
    """A reader's result with rows it used moved to skipped or rejected, their causes added."""
    import attrs

    from stars.crm import Reason

    if not skipped and not rejected:
        return read
    reasons = list(read.reasons)
    for outcome, rows in (("rejected", rejected), ("skipped", skipped)):
        groups: dict[str, list[int]] = {}
        examples: dict[str, str] = {}
        for line in sorted(rows):
            cause, example = rows[line]
            groups.setdefault(cause, []).append(line)
            examples.setdefault(cause, example)
        for cause, lines in groups.items():
            reasons.append(Reason(outcome, cause, len(lines), tuple(lines[:5]), examples[cause]))  # type: ignore[arg-type]
    order = {"rejected": 0, "skipped": 1, "noted": 2}
    reasons.sort(key=lambda r: (order[r.outcome], -r.count, r.lines[0]))
    return attrs.evolve(
        read,
        used=read.used - len(skipped) - len(rejected),
        skipped=read.skipped + len(skipped),
        rejected=read.rejected + len(rejected),
        reasons=tuple(reasons),
    )


def _histories_text(accounts: Sequence[Any], as_of: Any, markdown: bool) -> str:
    from stars._intake import histories
    from stars.lifecycle import STARS

    rows, matrix, _ = histories(accounts, STARS, as_of)

    def days(x: float | None) -> str:
        return "-" if x is None else f"{x:.0f}"

    out = _Table(markdown)
    out.section("Time in the current stage")
    out.table(
        ("stage", "accounts", "median days", "longest"),
        [(r.stage, str(r.accounts), days(r.median_days), days(r.longest_days)) for r in rows],
        right=(1, 2, 3),
    )
    out.section("Stage moves, month to month (from the histories)")
    used = [i for i, row in enumerate(matrix.counts) if any(row)]
    if not used:
        out.para("No account has moves spanning a month end yet.")
    else:
        cols = [j for j in range(len(matrix.stages)) if any(matrix.counts[i][j] for i in used)]
        out.table(
            ("from \\ to", *(matrix.stages[j] for j in cols)),
            [(matrix.stages[i], *(str(matrix.counts[i][j]) for j in cols)) for i in used],
            right=tuple(range(1, len(cols) + 1)),
        )
    return "\n".join(out.lines) + "\n"


class _Table:
    """Sections and tables in the report's plain-text or Markdown style."""

    def __init__(self, markdown: bool) -> None:
        self.markdown = markdown
        self.lines: list[str] = []

    def section(self, title: str) -> None:
        self.lines += ["", f"## {title}", ""] if self.markdown else ["", title, "-" * len(title)]

    def para(self, text: str) -> None:
        self.lines.append(text if self.markdown else _fit_lines(text, terminal_width()))

    def table(
        self, head: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()
    ) -> None:
        if self.markdown:
            self.lines.append("| " + " | ".join(head) + " |")
            self.lines.append("|" + "---|" * len(head))
            self.lines += ["| " + " | ".join(row) + " |" for row in rows]
            return
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]

        def line(cells: Sequence[str]) -> str:
            parts = [
                c.rjust(w) if i in right else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ]
            return "  ".join(parts).rstrip()

        self.lines += [line(head), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def _reject_messages(intakes: Sequence[Any], zone: str) -> list[str]:
    lines: list[str] = []
    for i in intakes:
        if not i.rejected_rows:
            continue
        lines.append(f"stars: {i.summary(zone)}")
        causes = i.cause_lines()
        lines += [f"  {c}" for c in causes[:_MAX_CAUSES]]
        if len(causes) > _MAX_CAUSES:
            lines.append(
                f"  ... {len(causes) - _MAX_CAUSES} more causes (--rejects FILE lists every row)"
            )
    return lines


def _cmd_diagram(args: argparse.Namespace) -> str:
    from stars.lifecycle import STARS

    if args.lifecycle is None:
        return STARS.to_mermaid() + "\n"
    from stars.io import lifecycle_from_dict

    data = _read_json(args.lifecycle)
    if not isinstance(data, dict):
        raise _BadInput(f"{args.lifecycle}: expected a JSON object with a lifecycle definition")
    return lifecycle_from_dict(data).to_mermaid() + "\n"


def _read_json(path: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _BadInput(f"{path}: no such file") from None
    try:
        return json.loads(text)
    except ValueError as err:
        raise _BadInput(f"{path}: not valid JSON ({err})") from None


def _cmd_maturity(args: argparse.Namespace) -> str:
    from stars.maturity import assess, load_answers

    if not Path(args.answers).is_file():
        raise _BadInput(f"{args.answers}: no such file")
    report = assess(load_answers(args.answers), missing=args.missing)
    if args.format == "json":
        data = {
            "overall": report.overall.value,
            "weakest": [a.value for a in report.weakest],
            "respondents": report.respondents,
            "threshold": report.threshold,
            "areas": [
                {
                    "area": r.area.value,
                    "level": r.level.value,
                    "next_level": r.next_level.value if r.next_level else None,
                    "gap": r.gap,
                    "scores": dict(r.scores),
                    "next_steps": [i.id for i in r.next_steps],
                }
                for r in report.areas
            ],
            "missing": list(report.missing),
            "disagreements": list(report.disagreements),
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"
    if args.format == "markdown":
        return report.to_markdown()
    return _maturity_text(report)


def _fit_lines(text: str, width: int) -> str:
    """Wrap the lines longer than ``width``, keeping each line's indentation (and its bullet)."""
    import re
    import textwrap

    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        lead = re.match(r"\s*(?:- |\* )?", line)
        indent = " " * (lead.end() if lead else 0)
        out += textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False)
    return "\n".join(out)


def _maturity_text(report: Any) -> str:
    from stars.maturity import Level

    lines = [
        "CUSTOMER-SUCCESS MATURITY",
        "=========================",
        "",
        f"Overall: {report.overall.value} (held down by "
        + ", ".join(a.value for a in report.weakest)
        + ")",
        "",
    ]
    head = ["area", "level"] + [lv.value for lv in Level]
    rows = [
        [r.area.value, r.level.value] + [f"{r.scores.get(lv.value, 0.0):.2f}" for lv in Level]
        for r in report.areas
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    lines += ["", "Next steps", "----------"]
    for r in report.areas:
        if r.next_level is None:
            lines.append(f"{r.area.value}: at the top level.")
            continue
        lines.append(f"{r.area.value} ({r.level.value} -> {r.next_level.value}):")
        lines += [f"  - {i.id}: {i.statement}" for i in r.next_steps]
    if report.missing:
        lines += ["", "Unanswered (scored as no): " + ", ".join(report.missing)]
    return _fit_lines("\n".join(lines), terminal_width()) + "\n"


def _cmd_init(args: argparse.Namespace) -> _Done:
    from stars._templates import files

    where = Path(args.dir)
    if where.exists() and not where.is_dir():
        raise _BadInput(f"{args.dir}: not a directory")
    templates = files()
    taken = sorted(name for name in templates if (where / name).exists())
    if taken and not args.force:
        raise _BadInput(
            f"{args.dir}: {', '.join(taken)} already there; pass --force to overwrite them"
        )
    where.mkdir(parents=True, exist_ok=True)
    for name, text in templates.items():
        (where / name).write_text(text, encoding="utf-8")
    lines = [f"Wrote {len(templates)} template files to {where}:"]
    lines += [f"  {where / name}" for name in templates]
    lines += [
        "Try them:",
        f"  stars assess {where / 'accounts.csv'} --events {where / 'events.csv'}"
        f" --snapshots {where / 'snapshots.csv'} --contracts {where / 'contracts.csv'}",
        f"  stars maturity {where / 'maturity.json'}",
        f"  stars backtest {where / 'history.csv'} --scorecard {where / 'scorecard.json'}"
        " --outcome churned --period period",
    ]
    return _Done("\n".join(lines) + "\n")


def _cmd_scorecard(args: argparse.Namespace) -> _Done:
    from stars._templates import scorecard

    text = scorecard()
    if args.output is None:
        return _Done(text)
    target = Path(args.output)
    if target.exists() and not args.force:
        raise _BadInput(f"{args.output}: already there; pass --force to overwrite it")
    target.write_text(text, encoding="utf-8")
    return _Done(f"Wrote the default scorecard to {target}\n")


# --------------------------------------------------------------------------- parser
def _positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``stars`` command.

    Examples:
        >>> from stars.cli import build_parser
        >>> build_parser().parse_args(["demo", "--format", "json"]).format
        'json'
    """
    parser = argparse.ArgumentParser(
        prog="stars",
        description="Where each B2B account stands in the STARS lifecycle, and what to do next.",
    )
    parser.add_argument("--version", action="version", version=f"stars {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def with_format(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--format",
            choices=_FORMATS,
            default="text",
            help="output format (default: text tables)",
        )

    demo = sub.add_parser("demo", help="report on the bundled demo portfolio")
    with_format(demo)
    demo.set_defaults(run=_cmd_demo)

    assess = sub.add_parser(
        "assess",
        help="report on your own accounts (CSV files)",
        description=(
            "Read an accounts file and, optionally, a stage-events file and a snapshots file,"
            " and print the portfolio report. Every file's rows are counted (read, used,"
            " rejected, grouped by cause); more rejected rows than --max-rejects allows makes"
            f" the exit code {EXIT_REJECTED}."
        ),
    )
    assess.add_argument(
        "accounts",
        metavar="ACCOUNTS.csv",
        nargs="?",
        help="columns: id (or account_id), name, owner, ... (leave out with --store)",
    )
    assess.add_argument(
        "--store",
        metavar="URL",
        help="report on the accounts kept in a store (sqlite:///FILE or postgresql://...)",
    )
    assess.add_argument(
        "--snapshots", metavar="SNAPSHOTS.csv", help="columns: account, at, and any signals"
    )
    assess.add_argument(
        "--events",
        metavar="EVENTS.csv",
        help="stage events: account, at, trigger and/or stage, actor, reason (builds histories)",
    )
    assess.add_argument(
        "--tz",
        default="UTC",
        metavar="ZONE",
        help="read dates and times without a UTC offset in this zone (default: UTC)",
    )
    assess.add_argument(
        "--map",
        action="append",
        metavar="SOURCE=TARGET",
        help="read column SOURCE as TARGET (repeat for more), e.g. --map 'Account ID=id'",
    )
    assess.add_argument(
        "--encoding", metavar="NAME", help="the files' encoding (default: UTF-8, BOM honoured)"
    )
    assess.add_argument(
        "--delimiter", metavar="CHAR", help="the delimiter (default: found from the header)"
    )
    limits = assess.add_mutually_exclusive_group()
    limits.add_argument(
        "--max-rejects",
        metavar="N|P%",
        help=(
            "rejected rows a file may have, a count or a share (default: 1%%);"
            f" more exits with {EXIT_REJECTED}"
        ),
    )
    limits.add_argument(
        "--strict", action="store_true", help="no rejected row at all (--max-rejects 0)"
    )
    assess.add_argument(
        "--rejects", metavar="FILE.csv", help="write every rejected row, with why, to this file"
    )
    assess.add_argument(
        "--keep-snapshots",
        type=_positive_int,
        metavar="N",
        help=(
            "how many of each account's latest snapshots the report reads"
            " (default: what the policy's green streak and trend window need, 3)"
        ),
    )
    assess.add_argument(
        "--contracts",
        metavar="CONTRACTS.csv",
        help=(
            "contracts or subscriptions (account, start, end or term, arr, currency, id,"
            " renews): adds renewals, revenue retention and revenue by band"
        ),
    )
    assess.add_argument(
        "--renewal-model",
        metavar="MODEL.json",
        help=(
            "a renewal model saved by stars backtest --revenue COLUMN --save-model: adds"
            " revenue at risk over the renewals of the next --horizon-days (needs --contracts)"
        ),
    )
    assess.add_argument(
        "--horizon-days",
        type=_positive_int,
        metavar="N",
        help="with --renewal-model, the days of renewals counted from the as-of date (default: 90)",
    )
    assess.add_argument(
        "--level",
        type=float,
        metavar="P",
        help="with --renewal-model, the level of the revenue-at-risk interval (default: 0.9)",
    )
    assess.add_argument(
        "--opportunities",
        metavar="OPPORTUNITIES.csv",
        help=(
            "opportunities or deals, read through the --crm map: the won ones become"
            " contracts (instead of --contracts)"
        ),
    )
    assess.add_argument(
        "--cases",
        metavar="CASES.csv",
        help="cases or tickets, read through the --crm map: open tickets and critical risk",
    )
    assess.add_argument(
        "--field-history",
        metavar="HISTORY.csv",
        help=(
            "field-history rows (field, old value, new value, changed at), read through the"
            " --crm map: stage changes, owner changes and signals"
        ),
    )
    assess.add_argument(
        "--rate",
        action="append",
        metavar="CODE=VALUE",
        help="the value of one unit of a currency in --currency, to report mixed currencies"
        " (repeat per currency, e.g. --rate EUR=1.08 --currency USD)",
    )
    assess.add_argument(
        "--currency", metavar="CODE", help="the currency to report revenue in, with --rate"
    )
    assess.add_argument(
        "--crm",
        choices=("plain", "salesforce", "hubspot"),
        default="plain",
        help=(
            "the column names of --contracts, --opportunities, --cases and --field-history:"
            " plain (stars' own names) or a CRM's export (default: plain)"
        ),
    )
    assess.add_argument(
        "--html",
        metavar="REPORT.html",
        help="also write the report as one self-contained HTML page (opens offline, mailable)",
    )
    assess.add_argument(
        "--brief",
        action="append",
        metavar="ACCOUNT",
        help="add the hand-over brief of this account (repeat for more)",
    )
    assess.add_argument(
        "--maturity",
        choices=("young", "mature"),
        default="mature",
        help="the company's maturity, for key-account capacity (default: mature)",
    )
    assess.add_argument(
        "--key-account-capacity",
        type=_positive_int,
        metavar="N",
        help="how many key accounts the company can serve (default: 5 young, 30 mature)",
    )
    assess.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar on stderr (default: only on a terminal, for long inputs)",
    )
    with_format(assess)
    assess.set_defaults(run=_cmd_assess)

    diagram = sub.add_parser("diagram", help="print the lifecycle as a Mermaid diagram")
    diagram.add_argument(
        "--lifecycle", metavar="FILE", help="a lifecycle definition (JSON) instead of STARS"
    )
    diagram.set_defaults(run=_cmd_diagram)

    maturity = sub.add_parser("maturity", help="assess customer-success maturity")
    maturity.add_argument("answers", metavar="ANSWERS.json", help="indicator id -> yes/partly/no")
    maturity.add_argument(
        "--missing",
        choices=("refuse", "count_as_no"),
        default="refuse",
        help="what an unanswered indicator means (default: refuse)",
    )
    with_format(maturity)
    maturity.set_defaults(run=_cmd_maturity)

    imp = sub.add_parser(
        "import",
        help="keep accounts and events in a store (SQLite or PostgreSQL)",
        description=(
            "Import files into a store, each event at most once: JSON Lines event streams,"
            " account or portfolio JSON documents, accounts or snapshots CSV files. Importing"
            " a file again stores nothing twice. Rejected events make the exit code"
            f" {EXIT_REJECTED}."
        ),
    )
    imp.add_argument("files", metavar="FILE", nargs="+", help=".jsonl, .json or .csv files")
    imp.add_argument(
        "--store", required=True, metavar="URL", help="sqlite:///FILE, a path, or postgresql://..."
    )
    imp.set_defaults(run=_cmd_import)

    init = sub.add_parser(
        "init",
        help="write template files to start from",
        description=(
            "Write small template files (accounts, stage events, snapshots, a churn history,"
            " the default scorecard and the maturity questionnaire) that every command accepts"
            " unchanged."
        ),
    )
    init.add_argument("dir", metavar="DIR", help="where to write them (made if missing)")
    init.add_argument("--force", action="store_true", help="overwrite files already there")
    init.set_defaults(run=_cmd_init)

    card = sub.add_parser(
        "scorecard",
        help="print or write the default health scorecard (JSON)",
        description="The default health scorecard as JSON, to edit and give to stars backtest.",
    )
    card.add_argument("--output", metavar="FILE.json", help="write it here instead of printing")
    card.add_argument("--force", action="store_true", help="overwrite FILE.json if it exists")
    card.set_defaults(run=_cmd_scorecard)

    from stars._backtest_args import backtest_parser

    backtest_parser(sub)  # main runs it: stars.backtesting loads only then
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``stars`` command and return its exit code.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        0 on success, 2 when the input is wrong (a message goes to stderr).

    Examples:
        >>> from stars.cli import main
        >>> main(["--version"])
        stars 0.2.0.dev0
        0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else EXIT_BAD_INPUT
    if getattr(args, "command", None) == "backtest":
        from stars.backtesting import cli_backtest

        return cli_backtest(args)
    try:
        done = args.run(args)
    except _BadInput as err:
        return _fail(str(err))
    except StarsError as err:
        return _fail(f"{type(err).__name__}: {err}")
    except OSError as err:
        name = err.filename if err.filename is not None else ""
        return _fail(f"{name}: {err.strerror or err}" if name else str(err))
    except UnicodeDecodeError as err:
        return _fail(f"cannot read the file as UTF-8 text ({err.reason})")
    if not isinstance(done, _Done):
        done = _Done(done)
    try:
        sys.stdout.write(done.output)
        sys.stdout.flush()
    except BrokenPipeError:  # pragma: no cover - e.g. `stars demo | head`
        return done.code
    width = terminal_width()
    for line in done.messages:
        print(_wrap_message(line, width), file=sys.stderr)
    return done.code


def _wrap_message(line: str, width: int) -> str:
    """A stderr line wrapped to the width, its continuation indented under it."""
    import textwrap

    if len(line) <= width:
        return line
    lead = len(line) - len(line.lstrip())
    indent = " " * (lead + 4 if lead else 4)
    return "\n".join(textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False))


def _fail(message: str) -> int:
    print(f"stars: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT
