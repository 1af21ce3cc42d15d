"""The ``stars backtest`` sub-command: its parser, the run, the files it reads and writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from stars import _tables
from stars._figure import require_matplotlib
from stars._outcomes import load_numpy as _numpy
from stars._texttable import terminal_width
from stars.backtesting._backtest import backtest
from stars.backtesting._calibrate import calibrate, calibration_warnings
from stars.backtesting._common import _scorecard_from_dict, _scorecard_to_dict, scorecard_digest
from stars.errors import (
    InvalidValue,
    MissingDependency,
    SchemaError,
    StarsError,
)
from stars.frames import score
from stars.health import Scorecard

if TYPE_CHECKING:
    import argparse


# -- the command -----------------------------------------------------------------------


def add_backtest_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``backtest`` sub-command to an argparse sub-parser set.

    Args:
        subparsers: What ``ArgumentParser.add_subparsers()`` returned.

    Returns:
        The new sub-parser (its default ``func`` is `cli_backtest`).

    Examples:
        >>> import argparse
        >>> from stars.backtesting import add_backtest_parser
        >>> parser = argparse.ArgumentParser(prog="stars")
        >>> _ = add_backtest_parser(parser.add_subparsers(dest="command"))
        >>> args = parser.parse_args(["backtest", "h.csv", "--scorecard", "c.json",
        ...                           "--outcome", "churned"])
        >>> args.command, args.outcome, args.calibrate
        ('backtest', 'churned', False)
    """
    from stars._backtest_args import backtest_parser

    parser = backtest_parser(subparsers)
    parser.set_defaults(func=cli_backtest)
    return parser


def cli_backtest(args: argparse.Namespace) -> int:
    """Run ``stars backtest``: print the report, and with ``--calibrate`` write a scorecard.

    It keeps the conventions of every ``stars`` command: bad input (a missing or unreadable
    file, a column that is not there, a missing optional dependency, named with the extra
    that brings it) ends with one line on stderr starting ``stars: error:`` and exit code 2,
    never a traceback. ``--calibrate`` warns, in its output and on stderr, when the
    calibrated card ranks the held-out periods worse than the one given, when one measure
    takes nearly all the weight, or when the training rows are too few to trust.

    Args:
        args: Parsed arguments from the parser `add_backtest_parser` adds.

    Returns:
        The exit code: 0 when it worked, 2 for bad input (the message goes to stderr).

    Examples:
        >>> import argparse
        >>> from stars.backtesting import cli_backtest
        >>> args = argparse.Namespace(file="missing.csv", scorecard="c.json", outcome="y",
        ...     period=None, segment=None, calibrate=False, train_until=None, output=None,
        ...     format="text")
        >>> cli_backtest(args)
        2
    """
    import sys

    try:
        _cli_backtest(args)
    except MissingDependency as exc:
        need = "with --calibrate " if exc.extra == "calibrate" else ""
        return _cli_fail(
            f"stars backtest {need}needs {exc.package!r}:"
            f" pip install 'stars-lifecycle[{exc.extra}]'"
        )
    except StarsError as exc:
        return _cli_fail(f"{type(exc).__name__}: {exc}")
    except OSError as exc:
        name = exc.filename if exc.filename is not None else ""
        if isinstance(exc, FileNotFoundError) and name:
            return _cli_fail(f"{name}: no such file")
        return _cli_fail(f"{name}: {exc.strerror or exc}" if name else str(exc))
    except KeyboardInterrupt:  # pragma: no cover - the user stopped it
        print("", file=sys.stderr)
        return 130
    return 0


def _cli_fail(message: str) -> int:
    import sys

    print(f"stars: error: {message}", file=sys.stderr)
    return 2


def _needs(calibrating: bool) -> None:
    """Say which extra is missing before any work starts."""
    _numpy()
    _tables.require_narwhals()
    try:
        import polars  # noqa: F401
    except ImportError:
        try:
            import pandas  # type: ignore[import-untyped,unused-ignore]  # noqa: F401
        except ImportError:
            raise MissingDependency("polars", "frames") from None
    if calibrating:
        try:
            import scipy  # noqa: F401
        except ImportError:
            raise MissingDependency("scipy", "calibrate") from None


def _cli_backtest(args: argparse.Namespace) -> None:
    import sys

    if args.calibrate and (args.period is None or args.train_until is None):
        raise InvalidValue("--calibrate", True, "--period and --train-until as well")
    revenue = getattr(args, "revenue", None)
    if revenue is not None and (args.period is None or args.train_until is None):
        raise InvalidValue("--revenue", revenue, "--period and --train-until as well")
    save_model = getattr(args, "save_model", None)
    if save_model is not None and revenue is None:
        raise InvalidValue("--save-model", save_model, "--revenue COLUMN as well")
    if save_model is not None and args.calibrate:
        raise InvalidValue("--save-model", save_model, "no --calibrate (run them apart)")
    plot = getattr(args, "plot", None)
    if plot is not None:
        if revenue is None:
            raise InvalidValue("--plot", plot, "--revenue COLUMN as well")
        if Path(plot).suffix.lower() not in (".png", ".svg", ".pdf"):
            raise InvalidValue("--plot", plot, "a file name ending in .png, .svg or .pdf")
    _needs(args.calibrate)
    if plot is not None:
        require_matplotlib()
    card = _scorecard_from_dict(_read_json(Path(args.scorecard)))
    frame = _read_csv(Path(args.file))
    if args.calibrate:
        fit = calibrate(
            frame,
            card,
            outcome=args.outcome,
            period=args.period,
            train_until=args.train_until,
        )
        warnings = calibration_warnings(fit)
        output = (
            Path(args.output)
            if args.output
            else Path(args.scorecard).with_suffix(".calibrated.json")
        )
        output.write_text(
            json.dumps(_scorecard_to_dict(fit.scorecard), indent=2) + "\n", encoding="utf-8"
        )
        if args.format == "json":
            data = fit.to_dict()
            data["warnings"] = warnings
            print(json.dumps(data, indent=2))
        else:
            print(_fit_lines("\n".join([fit.explain(), *(f"Warning: {w}." for w in warnings)])))
            print(f"Wrote the calibrated scorecard to {output}")  # whole, to copy the path
        for w in warnings:
            print(_fit_lines(f"stars: warning: {w}"), file=sys.stderr)
    else:
        result = backtest(
            frame, card, outcome=args.outcome, period=args.period, segment=args.segment
        )
        ahead = None
        saved = None
        if revenue is not None:
            from stars.forecast import forecast

            scored = score(frame, card)
            ahead = forecast(
                scored,
                outcome=args.outcome,
                period=args.period,
                train_until=args.train_until,
                revenue=revenue,
                segment=args.segment,
            )
            if save_model is not None:
                saved = _save_model(scored, card, args, Path(save_model))
            if plot is not None:
                ahead.plot(reliability=True).savefig(plot)
        if args.format == "json":
            data = result.to_dict()
            if ahead is not None:
                data["forecast"] = ahead.to_dict()
            if plot is not None:
                data["plot"] = str(plot)
            if saved is not None:
                data["saved_model"] = {"path": str(saved[0]), **saved[1]}
            print(json.dumps(data, indent=2, default=str))
        else:
            print(_fit_lines(result.explain()))
            if ahead is not None:
                print(_fit_lines(ahead.to_text(terminal_width())))
                for w in ahead.warnings:
                    print(_fit_lines(f"stars: warning: {w}"), file=sys.stderr)
            if plot is not None:
                print(
                    _fit_lines(
                        "Drew the fan chart of revenue at risk and the reliability diagram in:"
                    )
                )
                print(f"  {plot}")  # whole, to copy the path
            if saved is not None:
                path, facts = saved
                print(
                    _fit_lines(
                        f"Saved the renewal model fitted on the whole history ({facts['rows']:,}"
                        f" renewals in {facts['periods']} periods, not only those up to"
                        f" --train-until) for stars assess --renewal-model:"
                    )
                )
                print(f"  {path}")  # whole, to copy the path


def _save_model(
    scored: Any, card: Scorecard, args: argparse.Namespace, target: Path
) -> tuple[Path, dict[str, Any]]:
    """Fit the renewal model on every period of the history and write it (``--save-model``)."""
    from stars.forecast import fit_renewal_model

    model = fit_renewal_model(
        scored, outcome=args.outcome, revenue=args.revenue, period=args.period
    )
    model = attrs.evolve(
        model,
        measures=tuple(m.name for m in card.measures),
        scorecard=scorecard_digest(card),
        notes=(*model.notes, f"fitted by stars backtest on {Path(args.file).name}, every period"),
    )
    try:
        written = model.save(target)
    except OSError as exc:
        raise InvalidValue(
            "--save-model", str(target), "a file that can be written", hint=exc.strerror
        ) from None
    periods = len({str(x) for x in _column_values(scored, args.period)})
    return written, {"rows": model.rows, "positives": model.positives, "periods": periods}


def _column_values(frame: Any, column: str) -> list[Any]:
    import narwhals.stable.v1 as nw

    return list(nw.from_native(frame, eager_only=True).get_column(column).to_list())


def _fit_lines(text: str) -> str:
    """Wrap lines wider than the terminal (``COLUMNS``; else 100), keeping their indents."""
    import textwrap

    width = terminal_width()
    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        indent = " " * (len(line) - len(line.lstrip()) + 2)
        out += textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False)
    return "\n".join(out)


def _read_json(path: Path) -> object:
    if not path.is_file():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SchemaError(
            str(path), f"byte {exc.start}", "a scorecard saved as JSON (UTF-8 text)"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(str(path), f"line {exc.lineno}", "valid JSON") from None


def _read_csv(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    try:
        import polars as pl
    except ImportError:  # pragma: no cover - polars is installed in the test env
        try:
            import pandas as pd  # type: ignore[import-untyped,unused-ignore]
        except ImportError:
            raise MissingDependency("polars", "frames") from None
        try:
            return pd.read_csv(path)
        except Exception as exc:
            raise InvalidValue(
                "FILE.csv", str(path), "a readable CSV file", hint=str(exc)
            ) from None
    try:
        return pl.read_csv(path, try_parse_dates=True)
    except pl.exceptions.PolarsError as exc:
        raise InvalidValue("FILE.csv", str(path), "a readable CSV file", hint=str(exc)) from None
