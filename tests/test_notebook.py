"""What a notebook user sees: cells run in a real, fresh Jupyter kernel (nbclient).

No ``%matplotlib inline``, no pyplot: figures must show as pictures because they are the
cell's value, and the reprs must be the rich HTML ones. A plain matplotlib `Figure` in the
same kernel is the control: it still shows only as text, so the check can tell the two apart.
"""

from __future__ import annotations

from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

CELLS = [
    # 0: set up, as a user would
    "from datetime import datetime, timezone\n"
    "from stars import Portfolio, default_scorecard\n"
    "from stars.demo import load_bundled\n"
    "from stars.plots import recovery_plot, stage_history\n"
    "from stars.report import build_report\n"
    "book = Portfolio(load_bundled())",
    # 1: a figure as the cell's value
    "stage_history(book)",
    # 2: the control, a plain matplotlib figure
    "from matplotlib.figure import Figure\nplain = Figure()\nplain.add_subplot().plot([1, 2])\nplain",
    # 3: the report
    "report = build_report(book)\nreport",
    # 4: an account with history
    "account = next(a for a in book.accounts() if len(a.snapshots) > 3 and a.latest.band)\naccount",
    # 5: a health score
    'default_scorecard().score({"adoption": 0.2, "nps": 40, "csat": 80})',
    # 6: the Kaplan-Meier plot says which median it marks
    "recovery_plot(book).axes[0].texts[0].get_text()",
]


@pytest.fixture(scope="module")
def outputs() -> list[dict[str, Any]]:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3")
    client.execute()
    results = []
    for cell in notebook.cells:
        data: dict[str, Any] = {}
        for output in cell.outputs:
            assert output.output_type != "error", "".join(output.get("traceback", []))
            data.update(output.get("data", {}))
        results.append(data)
    return results


def test_a_figure_shows_as_a_picture_without_matplotlib_magic(
    outputs: list[dict[str, Any]],
) -> None:
    shown = outputs[1]
    assert "image/png" in shown
    assert "<img" in shown["text/html"] and "Stage distribution by month end" in shown["text/html"]


def test_the_control_shows_why_it_matters(outputs: list[dict[str, Any]]) -> None:
    # a figure built without pyplot, in a fresh kernel, is only text
    assert "image/png" not in outputs[2]
    assert outputs[2]["text/plain"].startswith("<Figure size")


def test_the_report_repr_has_every_section(outputs: list[dict[str, Any]]) -> None:
    html = outputs[3]["text/html"]
    sections = [
        "This week's actions",
        "By owner",
        "Health bands of active customers",
        "Stages",
        "Open crisis episodes",
        "Stage and evidence disagree",
        "Depth gaps",
        "Key-account capacity",
    ]
    positions = [html.find(s) for s in sections]
    assert -1 not in positions, dict(zip(sections, positions, strict=True))
    assert positions == sorted(positions)  # actions first
    assert "stars-band-red" in html and "background:#c62828" in html  # bands coloured
    assert "(recovered episodes only)" in html


def test_an_account_shows_its_band_trend_and_weakest_measure(
    outputs: list[dict[str, Any]],
) -> None:
    html = outputs[4]["text/html"]
    assert 'class="stars-band stars-band-' in html
    assert '<svg class="stars-trend"' in html and "<polyline" in html
    assert "costs the most" in html and "pts below full marks" in html


def test_a_score_marks_its_weakest_measure(outputs: list[dict[str, Any]]) -> None:
    html = outputs[5]["text/html"]
    assert '<tr style="background:#fff8e1;font-weight:600"><td>adoption</td>' in html


def test_the_recovery_plot_names_its_median(outputs: list[dict[str, Any]]) -> None:
    assert "Kaplan-Meier median" in outputs[6]["text/plain"]
