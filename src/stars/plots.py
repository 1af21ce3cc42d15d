"""Pictures of a portfolio, drawn with matplotlib (install the ``plot`` extra).

Every function builds and returns a `matplotlib.figure.Figure` directly, without
pyplot, so nothing global changes and figures are safe to build in threads or services.
Show one in a notebook by leaving it as the cell's value: the figures carry their own
``_repr_png_`` and ``_repr_html_``, so they show as pictures in a fresh kernel, without
``%matplotlib inline``. Save one with ``fig.savefig("flow.png")``. matplotlib is imported
when a function runs, not when ``stars`` is imported.

Examples:
    >>> from datetime import datetime, timezone
    >>> from stars.lifecycle import STARS, Event
    >>> from stars.plots import transition_heatmap
    >>> from stars.portfolio import Portfolio
    >>> t = datetime(2025, 1, 10, tzinfo=timezone.utc)
    >>> a = STARS.replay("a", [Event("sign", t, forced=True, reason="x"),
    ...                         Event("escalate", t.replace(month=3), forced=True, reason="x")])
    >>> fig = transition_heatmap(Portfolio([a]).transition_matrix())
    >>> fig.axes[0].get_title()
    'Monthly stage transitions'
    >>> fig._repr_png_()[1:4]  # a notebook shows the figure as a picture
    b'PNG'
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from stars import _validate as v
from stars._periods import check_freq, period_end, period_of, stage_at
from stars.errors import InvalidValue
from stars.portfolio import Portfolio, RecoveryCurve, TransitionMatrix

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["recovery_plot", "stage_flow", "stage_history", "transition_heatmap"]

#: Colours of the STARS stages (other stages take colours from matplotlib's cycle).
STAGE_COLORS: Final = {
    "prospect": "#9e9e9e",
    "seed": "#8bc34a",
    "accelerate": "#2e7d32",
    "ascend": "#1565c0",
    "reset": "#f9a825",
    "tact": "#e65100",
    "churn": "#424242",
}
_FALLBACK: Final = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def _figure(width: float = 8.0, height: float = 4.5) -> Figure:
    from stars._figure import figure

    return figure(width, height, layout="constrained")


def _colors(stages: Sequence[str]) -> dict[str, str]:
    out = {}
    spare = iter(_FALLBACK * (1 + len(stages) // len(_FALLBACK)))
    for s in stages:
        out[s] = STAGE_COLORS.get(s) or next(spare)
    return out


def _portfolio(value: object) -> Portfolio:
    if not isinstance(value, Portfolio):
        raise InvalidValue("portfolio", value, "a Portfolio")
    return value


def stage_history(
    portfolio: Portfolio,
    *,
    freq: Literal["monthly", "quarterly"] = "monthly",
    start: datetime | None = None,
    end: datetime | None = None,
    shares: bool = True,
) -> Figure:
    """The stage distribution at each period end, as stacked areas.

    Args:
        portfolio: The accounts.
        freq: ``"monthly"`` or ``"quarterly"`` period ends.
        start: The first period (default: the first transition in the portfolio).
        end: The last period (default: the last transition).
        shares: Plot shares of the accounts counted (True) or account counts (False).

    Returns:
        The figure.

    Raises:
        InvalidValue: The portfolio has no transitions and no ``start``/``end`` are given,
            or ``start`` is after ``end``.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.lifecycle import STARS, Event
        >>> from stars.plots import stage_history
        >>> from stars.portfolio import Portfolio
        >>> t = datetime(2025, 1, 10, tzinfo=timezone.utc)
        >>> a = STARS.replay("a", [Event("sign", t, forced=True, reason="x"),
        ...                         Event("escalate", t.replace(month=4), forced=True, reason="x")])
        >>> fig = stage_history(Portfolio([a]))
        >>> len(fig.axes[0].collections)
        7
    """
    book = _portfolio(portfolio)
    months = check_freq(freq)
    v.flag("shares", shares)
    times = [r.at for a in book.accounts() for r in (*a.history[:1], *a.history[-1:])]
    if not times and (start is None or end is None):
        raise InvalidValue("portfolio", book, "a portfolio with transitions, or start and end")
    lo = period_of(v.aware("start", start) if start is not None else min(times), months)
    hi = period_of(v.aware("end", end) if end is not None else max(times), months)
    if lo > hi:
        raise InvalidValue("start", start, "a time before end")
    ends = [period_end(p, months) for p in range(lo, hi + 1)]
    stages = [s.name for s in book.lifecycle.stages]
    dists = [book.distribution_at(t) for t in ends]
    series = [[(d.shares if shares else d.counts)[s] for d in dists] for s in stages]
    colors = _colors(stages)
    fig = _figure()
    ax = fig.add_subplot()
    dates: Any = [t.date() for t in ends]  # matplotlib's stubs do not list dates
    ax.stackplot(
        dates,
        series,
        labels=stages,
        colors=[colors[s] for s in stages],
        alpha=0.9,
    )
    ax.set_title(f"Stage distribution by {'month' if months == 1 else 'quarter'} end")
    ax.set_ylabel("share of accounts" if shares else "accounts")
    if shares:
        ax.set_ylim(0, 1)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.autofmt_xdate()
    return fig


def _ribbon(x0: float, x1: float, y0: tuple[float, float], y1: tuple[float, float]) -> Any:
    from matplotlib.path import Path

    mid = (x0 + x1) / 2
    verts = [
        (x0, y0[0]),
        (mid, y0[0]),
        (mid, y1[0]),
        (x1, y1[0]),
        (x1, y1[1]),
        (mid, y1[1]),
        (mid, y0[1]),
        (x0, y0[1]),
        (x0, y0[0]),
    ]
    codes = [
        Path.MOVETO,
        Path.CURVE4,
        Path.CURVE4,
        Path.CURVE4,
        Path.LINETO,
        Path.CURVE4,
        Path.CURVE4,
        Path.CURVE4,
        Path.CLOSEPOLY,
    ]
    return Path(verts, codes)


def stage_flow(portfolio: Portfolio, start: datetime, end: datetime) -> Figure:
    """Where the accounts in each stage at ``start`` were at ``end`` (an alluvial diagram).

    Bars on the left and right stack the accounts by stage at the two dates; each ribbon
    between them is as thick as the number of accounts that made that move. Accounts that
    had not started by ``start`` are left out.

    Args:
        portfolio: The accounts.
        start: The first date.
        end: The second date (after ``start``).

    Returns:
        The figure.

    Raises:
        InvalidValue: Dates that are naive or out of order.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from stars.lifecycle import STARS, Event
        >>> from stars.plots import stage_flow
        >>> from stars.portfolio import Portfolio
        >>> t = datetime(2025, 1, 10, tzinfo=timezone.utc)
        >>> a = STARS.replay("a", [Event("sign", t, forced=True, reason="x"),
        ...                         Event("escalate", t.replace(month=4), forced=True, reason="x")])
        >>> fig = stage_flow(Portfolio([a]), t, t.replace(month=6))
        >>> len(fig.axes[0].patches)
        3
    """
    from matplotlib.patches import PathPatch, Rectangle

    book = _portfolio(portfolio)
    v.aware("start", start)
    v.aware("end", end)
    if end <= start:
        raise InvalidValue("end", end, "a time after start")
    stages = [s.name for s in book.lifecycle.stages]
    flows: dict[tuple[str, str], int] = {}
    for account in book.accounts():
        a = stage_at(account, start)
        if a is None:
            continue
        b = stage_at(account, end)
        assert b is not None
        flows[(a, b)] = flows.get((a, b), 0) + 1
    total = sum(flows.values()) or 1
    gap = 0.02
    colors = _colors(stages)
    fig = _figure(8.0, 5.0)
    ax = fig.add_subplot()
    width = 0.08

    def stack(side: int) -> dict[str, tuple[float, float]]:
        y = 0.0
        out = {}
        for s in stages:
            n = sum(c for (a, b), c in flows.items() if (a if side == 0 else b) == s)
            if n:
                h = n / total
                out[s] = (y, y + h)
                y += h + gap
        return out

    left, right = stack(0), stack(1)
    for side, blocks in ((0, left), (1, right)):
        x = 0.0 if side == 0 else 1.0 - width
        for s, (y0, y1) in blocks.items():
            ax.add_patch(Rectangle((x, y0), width, y1 - y0, color=colors[s]))
            label_x = x - 0.01 if side == 0 else x + width + 0.01
            ax.text(
                label_x,
                (y0 + y1) / 2,
                s,
                ha="right" if side == 0 else "left",
                va="center",
                fontsize=9,
            )
    out_pos = {s: y0 for s, (y0, _) in left.items()}
    in_pos = {s: y0 for s, (y0, _) in right.items()}
    for a in stages:
        for b in stages:
            n = flows.get((a, b), 0)
            if not n:
                continue
            h = n / total
            src = (out_pos[a], out_pos[a] + h)
            dst = (in_pos[b], in_pos[b] + h)
            out_pos[a] += h
            in_pos[b] += h
            path = _ribbon(width, 1.0 - width, src, dst)
            ax.add_patch(PathPatch(path, facecolor=colors[a], edgecolor="none", alpha=0.45))
    top = max([y1 for _, y1 in (*left.values(), *right.values())] or [1.0])
    ax.set_xlim(-0.2, 1.2)
    ax.set_ylim(top + 0.02, -0.02)
    ax.set_axis_off()
    ax.set_title(
        f"Stage movements from {start.date().isoformat()} to {end.date().isoformat()}"
        f" ({sum(flows.values())} accounts)"
    )
    return fig


def transition_heatmap(
    matrix: TransitionMatrix, *, values: Literal["probabilities", "counts"] = "probabilities"
) -> Figure:
    """The transition matrix as a heatmap, each cell labelled.

    Args:
        matrix: From `transition_matrix`.
        values: Colour by ``"probabilities"`` (default) or raw ``"counts"``.

    Returns:
        The figure.

    Examples:
        >>> from stars.plots import transition_heatmap
        >>> from stars.portfolio import TransitionMatrix
        >>> m = TransitionMatrix(("ok", "lost"), ((3, 1), (0, 0)), ((0.75, 0.25), (0.0, 1.0)))
        >>> [t.get_text() for t in transition_heatmap(m).axes[0].texts]
        ['75%', '25%', '', '100%']
    """
    if not isinstance(matrix, TransitionMatrix):
        raise InvalidValue("matrix", matrix, "a TransitionMatrix")
    if values not in ("probabilities", "counts"):
        raise InvalidValue("values", values, "'probabilities' or 'counts'")
    grid = matrix.probabilities if values == "probabilities" else matrix.counts
    size = len(matrix.stages)
    fig = _figure(1.0 + 0.9 * size, 0.8 + 0.8 * size)
    ax = fig.add_subplot()
    image = ax.imshow([list(row) for row in grid], cmap="Blues", vmin=0)
    top = max((max(row) for row in grid), default=0) or 1
    for i in range(size):
        for j in range(size):
            x = grid[i][j]
            text = "" if not x else (f"{x:.0%}" if values == "probabilities" else str(x))
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=8,
                color="white" if x > top * 0.6 else "black",
            )
    ax.set_xticks(range(size), matrix.stages, rotation=45, ha="right")
    ax.set_yticks(range(size), matrix.stages)
    ax.set_xlabel("to")
    ax.set_ylabel("from")
    ax.set_title(f"{matrix.freq.capitalize()} stage transitions")
    fig.colorbar(image, ax=ax, shrink=0.8, label=values)
    return fig


def recovery_plot(source: Portfolio | RecoveryCurve, *, as_of: datetime | None = None) -> Figure:
    """The share of crisis episodes still open by days since they opened (Kaplan-Meier).

    The median marked on the plot is the Kaplan-Meier median: lost and still-open episodes
    count as not recovered until they end (or until ``as_of``). It is longer than the median
    over recovered episodes only, which `Portfolio.episode_stats` and the report give.

    Args:
        source: A portfolio (its `recovery_curve` is used)
            or a curve.
        as_of: Passed to ``recovery_curve`` for a portfolio.

    Returns:
        The figure.

    Examples:
        >>> from stars.plots import recovery_plot
        >>> from stars.portfolio import RecoveryCurve
        >>> fig = recovery_plot(RecoveryCurve((0.0, 30.0, 60.0), (1.0, 0.5, 0.2), 10))
        >>> fig.axes[0].get_ylabel()
        'share still in crisis'
    """
    if isinstance(source, Portfolio):
        curve = source.recovery_curve(as_of=as_of)
    elif isinstance(source, RecoveryCurve):
        curve = source
    else:
        raise InvalidValue("source", source, "a Portfolio or a RecoveryCurve")
    fig = _figure(7.0, 4.0)
    ax = fig.add_subplot()
    ax.step(curve.days, curve.share, where="post", color=STAGE_COLORS["tact"])
    median = curve.median_days
    if median is not None:
        ax.axvline(median, linestyle=":", color="#616161")
        ax.annotate(
            # which median: lost and open episodes count until they end, so it is longer
            # than the median over recovered episodes only that reports and stats give
            f"Kaplan-Meier median {median:.0f} days\n(lost and open episodes count until they end)",
            (median, 0.5),
            xytext=(5, 5),
            textcoords="offset points",
            fontsize=9,
        )
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_xlabel("days since the crisis opened")
    ax.set_ylabel("share still in crisis")
    ax.set_title(f"Time to recover ({curve.episodes} episodes, Kaplan-Meier)")
    return fig
