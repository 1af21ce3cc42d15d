"""The ``stars`` command (also ``python -m stars``).

Subcommands:

- ``stars demo``: the portfolio report on the bundled demo portfolio;
- ``stars assess ACCOUNTS.csv [--snapshots SNAPSHOTS.csv]``: the same report on your own data;
- ``stars diagram [--lifecycle FILE]``: the lifecycle as a Mermaid state diagram;
- ``stars maturity ANSWERS.json``: the customer-success maturity report;
- ``stars --version``.

Reports print as terminal tables by default; ``--format json`` and ``--format markdown``
suit machines and documents. The exit code is 0 on success and 2 for bad input, with a
one-line message on stderr and never a traceback.

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
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Final, TypeVar

from stars._version import __version__
from stars.errors import StarsError

__all__ = ["EXIT_BAD_INPUT", "EXIT_OK", "build_parser", "main"]

EXIT_OK: Final = 0
"""Exit code of a successful run."""

EXIT_BAD_INPUT: Final = 2
"""Exit code when the input (arguments, files, their content) is wrong."""

_FORMATS: Final = ("text", "json", "markdown")
_PROGRESS_MIN: Final = 2000
T = TypeVar("T")


class _BadInput(Exception):
    """A user mistake found by the command itself; the message is shown as is."""


# --------------------------------------------------------------------------- progress
class _Progress:
    """A one-line progress bar on a stream (stderr), redrawn in place."""

    def __init__(self, stream: IO[str], label: str, total: int, width: int = 30) -> None:
        self.stream = stream
        self.label = label
        self.total = max(total, 1)
        self.width = width
        self.shown = -1

    def update(self, done: int) -> None:
        filled = self.width * done // self.total
        if filled == self.shown and done != self.total:
            return
        self.shown = filled
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{self.total}")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _tracked(items: Sequence[T], label: str, show: bool) -> Iterator[T]:
    if not show:
        yield from items
        return
    bar = _Progress(sys.stderr, label, len(items))
    for i, item in enumerate(items, start=1):
        yield item
        bar.update(i)
    bar.close()


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
    return render(report, args.format)


def _read_csv(
    path: str, reader: Callable[[Path], tuple[list[T], list[Any]]]
) -> tuple[list[T], list[Any]]:
    where = Path(path)
    if not where.is_file():
        raise _BadInput(f"{path}: no such file")
    return reader(where)


def _cmd_assess(args: argparse.Namespace) -> str:
    from stars.io import read_accounts_csv, read_snapshots_csv
    from stars.lifecycle import STARS
    from stars.report import build_report, render

    accounts, rejected = _read_csv(args.accounts, read_accounts_csv)
    events: list[Any] = []
    bad_snaps: list[Any] = []
    if args.snapshots:
        events, bad_snaps = _read_csv(args.snapshots, read_snapshots_csv)
    _show_rejected(args.accounts, rejected)
    _show_rejected(args.snapshots or "", bad_snaps)
    if not accounts:
        raise _BadInput(f"{args.accounts}: no account could be imported")
    by_id = {a.id: a for a in accounts}
    unknown = sorted({e.account for e in events if e.account not in by_id})
    if unknown:
        shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        print(
            f"{args.snapshots}: {len(unknown)} account id(s) not in {args.accounts}, "
            f"their snapshots were skipped: {shown}",
            file=sys.stderr,
        )
    ordered = sorted(
        (e for e in events if e.account in by_id), key=lambda e: (e.account, e.event.at)
    )
    show = _want_progress(args.progress, len(ordered))
    for e in _tracked(ordered, "scoring snapshots", show):
        snap = e.event
        account = by_id[e.account]
        if snap.health is None and snap.band is None and _has_signals(snap):
            from stars.health import measures_from

            STARS.observe(account, snap, measures=measures_from(snap))
        else:
            STARS.observe(account, snap)
    report = build_report(accounts, STARS, title=f"Portfolio report: {Path(args.accounts).name}")
    return render(report, args.format)


def _has_signals(snap: Any) -> bool:
    from stars.health import measures_from

    return any(x is not None for x in measures_from(snap).values())


def _show_rejected(path: str, rejected: Iterable[Any]) -> None:
    rows = list(rejected)
    if not rows:
        return
    lines = [f"{path}: {len(rows)} rejected cell(s); those rows were skipped:"]
    for r in rows:
        column = f" column {r.column!r}" if r.column else ""
        lines.append(f"  line {r.line}{column}: got {r.value!r}, expected {r.why}")
    print("\n".join(lines), file=sys.stderr)


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
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- parser
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

    assess = sub.add_parser("assess", help="report on your own accounts (CSV)")
    assess.add_argument("accounts", metavar="ACCOUNTS.csv", help="columns: id, name, owner, ...")
    assess.add_argument(
        "--snapshots", metavar="SNAPSHOTS.csv", help="columns: account, at, and any signals"
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

    from stars.backtesting import add_backtest_parser

    add_backtest_parser(sub)
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
        stars 0.1.0
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
        output = args.run(args)
    except _BadInput as err:
        return _fail(str(err))
    except StarsError as err:
        return _fail(f"{type(err).__name__}: {err}")
    except OSError as err:
        name = err.filename if err.filename is not None else ""
        return _fail(f"{name}: {err.strerror or err}" if name else str(err))
    except UnicodeDecodeError as err:
        return _fail(f"cannot read the file as UTF-8 text ({err.reason})")
    try:
        sys.stdout.write(output)
        sys.stdout.flush()
    except BrokenPipeError:  # pragma: no cover - e.g. `stars demo | head`
        return EXIT_OK
    return EXIT_OK


def _fail(message: str) -> int:
    print(f"stars: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT
