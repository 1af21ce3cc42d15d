from __future__ import annotations

import io
import sys
from datetime import UTC, datetime, timedelta

import pytest

from stars.account import Account
from stars.errors import InvalidValue
from stars.lifecycle import STARS, Event, Lifecycle, StageDef, TransitionDef
from stars.plots import recovery_plot, stage_flow, stage_history, transition_heatmap
from stars.portfolio import Portfolio, RecoveryCurve, TransitionMatrix

PNG = b"\x89PNG\r\n\x1a\n"
T0 = datetime(2024, 1, 5, tzinfo=UTC)


def png(fig: object) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)  # type: ignore[attr-defined]
    return buf.getvalue()


def _book() -> Portfolio:
    paths = [
        ["sign", "accelerate", "sustain"],
        ["sign", "escalate", "restart", "accelerate"],
        ["sign", "accelerate", "stagnate", "escalate", "lose"],
        ["sign", "escalate", "stabilize"],
        ["sign"],
    ]
    accounts = []
    for n, path in enumerate(paths):
        events = [
            Event(trigger, T0 + timedelta(days=45 * i + 7 * n), forced=True, reason="x")
            for i, trigger in enumerate(path)
        ]
        accounts.append(STARS.replay(f"a{n}", events))
    return Portfolio([*accounts, Account("idle")])


def _check(fig: object) -> None:
    from matplotlib.figure import Figure

    assert isinstance(fig, Figure)
    data = png(fig)
    assert data.startswith(PNG)
    assert len(data) > 2_000  # a blank canvas of this size is a few hundred bytes


def test_no_pyplot_state() -> None:
    _check(transition_heatmap(_book().transition_matrix()))
    assert "matplotlib.pyplot" not in sys.modules


def test_stage_history() -> None:
    book = _book()
    fig = stage_history(book)
    _check(fig)
    ax = fig.axes[0]
    assert len(ax.collections) == 7
    assert ax.get_ylim() == (0.0, 1.0)
    counts = stage_history(book, freq="quarterly", shares=False)
    _check(counts)
    assert counts.axes[0].get_ylabel() == "accounts"
    window = stage_history(Portfolio([Account("x")]), start=T0, end=T0 + timedelta(days=60))
    _check(window)
    with pytest.raises(InvalidValue):
        stage_history(Portfolio([Account("x")]))
    with pytest.raises(InvalidValue):
        stage_history(book, start=T0 + timedelta(days=90), end=T0)
    with pytest.raises(InvalidValue):
        stage_history("book")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        stage_history(book, shares=1)  # type: ignore[arg-type]


def test_stage_flow() -> None:
    book = _book()
    start, end = T0 + timedelta(days=10), T0 + timedelta(days=200)
    fig = stage_flow(book, start, end)
    _check(fig)
    ax = fig.axes[0]
    # every account that had started by `start` is counted once
    started = sum(1 for a in book.accounts() if a.history and a.history[0].at <= start)
    assert ax.get_title().endswith(f"({started} accounts)")
    labels = {t.get_text() for t in ax.texts}
    assert "seed" in labels
    with pytest.raises(InvalidValue):
        stage_flow(book, end, start)
    with pytest.raises(InvalidValue):
        stage_flow(book, datetime(2024, 1, 1), end)
    _check(stage_flow(Portfolio(), start, end))


def test_transition_heatmap() -> None:
    m = _book().transition_matrix()
    fig = transition_heatmap(m)
    _check(fig)
    assert len(fig.axes[0].texts) == len(m.stages) ** 2
    counts = transition_heatmap(m, values="counts")
    _check(counts)
    texts = [t.get_text() for t in counts.axes[0].texts]
    assert str(m.counts[1][1]) in texts
    with pytest.raises(InvalidValue):
        transition_heatmap(m, values="odds")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        transition_heatmap("m")  # type: ignore[arg-type]


def test_recovery_plot() -> None:
    book = _book()
    _check(recovery_plot(book))
    flat = recovery_plot(RecoveryCurve((0.0,), (1.0,), 1))
    _check(flat)
    assert not flat.axes[0].texts  # no median line when the curve never reaches one half
    with pytest.raises(InvalidValue):
        recovery_plot([1, 2])  # type: ignore[arg-type]


def test_custom_stages_get_colours() -> None:
    custom = Lifecycle(
        [StageDef("new", "before"), StageDef("live", "growth"), StageDef("sick", "crisis")],
        [
            TransitionDef("go", "new", "live", "growth"),
            TransitionDef("fall", "live", "sick", "crisis"),
            TransitionDef("heal", "sick", "live", "recovery"),
        ],
        initial="new",
    )
    a = custom.replay("a", [Event("go", T0), Event("fall", T0 + timedelta(days=40))])
    book = Portfolio([a], lifecycle=custom)
    _check(stage_history(book))
    _check(transition_heatmap(TransitionMatrix(("x",), ((1,),), ((1.0,),))))
