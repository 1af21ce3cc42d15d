"""The shareable HTML report, read as a person would: in a real browser, offline.

`Report.to_html` must give one file that a CS leader can open or mail: nothing fetched from
anywhere, the week's actions first, bands coloured, a section per owner, health trends and
the portfolio pictures embedded and captioned. The browser test loads the file in Debian's
headless Chromium with every network request refused, lets a small script measure what
rendered (sections, images that decoded, badge colours), and reads its verdict back.
It runs whenever /usr/bin/chromium (or `chromium` on PATH) exists; `.ci/run` installs it.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from stars.demo import load_bundled
from stars.errors import InvalidValue
from stars.portfolio import Portfolio
from stars.report import build_report

pytest.importorskip("matplotlib")

SECTIONS = [
    "This week's actions",
    "By owner",
    "Health bands of active customers",
    "Stages",
    "Open crisis episodes",
    "Stage and evidence disagree",
    "Depth gaps (vendor's view against the customer's)",
    "Key-account capacity",
    "The portfolio in pictures",
]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    book = Portfolio(load_bundled())
    path = tmp_path_factory.mktemp("report") / "report.html"
    assert build_report(book).write_html(path, book) == path
    return path


def test_the_file_needs_nothing_from_anywhere(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<script" not in text and "<link" not in text and "@import" not in text
    # every URL-like attribute is an embedded image or an anchor on the page itself
    for attribute in re.findall(r'(?:src|href)="([^"]*)"', text):
        assert attribute.startswith(("data:image/png;base64,", "#")), attribute[:60]
    assert "url(" not in text


def test_every_figure_says_what_it_counts(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    figures = re.findall(r"<figure>(.*?)</figure>", text, re.S)
    assert len(figures) == 3
    for figure in figures:
        alt = re.search(r'<img [^>]*alt="([^"]+)"', figure)
        caption = re.search(r"<figcaption>(.+?)</figcaption>", figure, re.S)
        assert alt and caption and len(caption.group(1)) > 40
    assert "Kaplan-Meier" in figures[2] and "recovered episodes only" in figures[2]


def test_without_the_accounts_the_page_says_what_is_missing() -> None:
    report = build_report(load_bundled())
    text = report.to_html()
    assert "Pass the accounts to <code>to_html</code>" in text and "<img" not in text
    assert '<svg class="stars-trend"' not in text
    with pytest.raises(InvalidValue, match="accounts"):
        report.to_html(42)  # type: ignore[arg-type]


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    return found


CHECK = """
<script>
window.addEventListener("load", () => {
  const root = document.querySelector(".stars-report");
  const images = [...document.images];
  const badge = document.querySelector(".stars-band-red");
  const out = {
    h2: [...document.querySelectorAll("h2")].map(h => h.textContent),
    owners: document.querySelectorAll("h3[id^='owner-']").length,
    images: images.length,
    decoded: images.filter(i => i.complete && i.naturalWidth > 200).length,
    shownWide: images.filter(i => i.getBoundingClientRect().width > 200).length,
    trends: document.querySelectorAll("svg.stars-trend polyline").length,
    redBackground: badge ? getComputedStyle(badge).backgroundColor : null,
    actionsTop: document.getElementById("actions").getBoundingClientRect().top,
    ownersTop: document.getElementById("owners").getBoundingClientRect().top,
    height: root.getBoundingClientRect().height,
  };
  const pre = document.createElement("pre");
  pre.id = "verdict";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def _render(page: Path, tmp_path: Path) -> dict[str, Any]:
    """Load the page in headless Chromium with the network refused; what rendered."""
    probe = tmp_path / "probe.html"
    probe.write_text(
        page.read_text(encoding="utf-8").replace("</body>", CHECK + "</body>"), encoding="utf-8"
    )
    browser = _chromium()
    assert browser is not None
    with tempfile.TemporaryDirectory() as profile:
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            # refuse every network request: the page must need none
            "--proxy-server=http://127.0.0.1:9",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--window-size=1280,2000",
            "--virtual-time-budget=10000",
        ]
        dom = subprocess.run(
            [browser, *flags, "--dump-dom", probe.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        shot = tmp_path / "report.png"
        subprocess.run(
            [browser, *flags, f"--screenshot={shot}", page.as_uri()],
            capture_output=True,
            timeout=120,
            check=True,
        )
    found = re.search(r'<pre id="verdict">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    verdict: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    verdict["screenshot_bytes"] = shot.stat().st_size
    return verdict


needs_chromium = pytest.mark.skipif(
    _chromium() is None, reason="needs Chromium: apt-get install chromium (.ci/run does)"
)


@needs_chromium
def test_a_real_browser_renders_it_offline(page: Path, tmp_path: Path) -> None:
    verdict = _render(page, tmp_path)
    assert verdict["h2"] == SECTIONS
    assert verdict["actionsTop"] < verdict["ownersTop"]  # the week's actions come first
    assert verdict["owners"] >= 2
    assert verdict["images"] == verdict["decoded"] == verdict["shownWide"] == 3
    assert verdict["trends"] >= 10
    assert verdict["redBackground"] == "rgb(198, 40, 40)"
    assert verdict["height"] > 2000
    assert verdict["screenshot_bytes"] > 20_000  # a page with content, not a blank one


@needs_chromium
def test_the_browser_check_catches_a_picture_that_needs_the_network(
    page: Path, tmp_path: Path
) -> None:
    planted = tmp_path / "planted.html"
    text = page.read_text(encoding="utf-8")
    text = re.sub(r'src="data:[^"]*"', 'src="https://example.com/x.png"', text, count=1)
    planted.write_text(text, encoding="utf-8")
    verdict = _render(planted, tmp_path)
    assert (verdict["images"], verdict["decoded"]) == (3, 2)


@needs_chromium
def test_the_command_writes_the_same_page_a_browser_renders(tmp_path: Path) -> None:
    import sys

    from stars.io import write_accounts_csv, write_snapshots_csv, write_stage_events_csv

    book = load_bundled()
    accounts, snapshots = tmp_path / "accounts.csv", tmp_path / "snapshots.csv"
    events = tmp_path / "events.csv"
    write_accounts_csv(book, accounts)
    write_snapshots_csv(book, snapshots)
    write_stage_events_csv(book, events)
    out = tmp_path / "report.html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stars",
            "assess",
            str(accounts),
            "--snapshots",
            str(snapshots),
            "--events",
            str(events),
            "--html",
            str(out),
            "--keep-snapshots",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert f"wrote the HTML report to {out}" in " ".join(done.stderr.split())
    verdict = _render(out, tmp_path)
    assert verdict["h2"] == SECTIONS
    assert verdict["images"] == verdict["decoded"] == 3


def test_the_command_says_in_one_line_when_the_page_cannot_be_written(tmp_path: Path) -> None:
    import sys

    accounts = tmp_path / "accounts.csv"
    accounts.write_text("id,name,stage\nacme,Acme,seed\n", encoding="utf-8")
    missing = tmp_path / "no" / "such" / "dir" / "report.html"
    done = subprocess.run(
        [sys.executable, "-m", "stars", "assess", str(accounts), "--html", str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith(f"stars: error: {missing}: cannot write the HTML report")
    )
    assert "Traceback" not in done.stderr
