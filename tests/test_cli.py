"""The `stars` command, run in-process: every command and format, and every kind of bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stars._version import __version__
from stars.cli import EXIT_BAD_INPUT, EXIT_OK, EXIT_REJECTED, build_parser, main
from stars.demo import maturity_answers
from stars.lifecycle import STARS

ACCOUNTS = """id,name,owner,tags,stage
acme,Acme,dana,segment:enterprise;key-account,accelerate
globex,Globex,lee,segment:smb,tact
initech,Initech,dana,,prospect
"""
SNAPSHOTS = """account,at,adoption,nps,csat,open_tickets,days_since_contact,sentiment,contract_signed,success_metrics_agreed
acme,2025-01-06T00:00:00+00:00,0.8,40,88,1,10,0.6,true,true
acme,2025-02-03T00:00:00+00:00,0.5,10,70,5,20,0.1,true,true
globex,2025-02-03T00:00:00+00:00,0.1,-60,40,12,70,-0.8,true,true
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (tmp_path / "snapshots.csv").write_text(SNAPSHOTS, encoding="utf-8")
    (tmp_path / "answers.json").write_text(json.dumps(maturity_answers()), encoding="utf-8")
    return tmp_path


# ----------------------------------------------------------------------------- demo
def test_demo_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "demo")
    assert (code, err) == (EXIT_OK, "")
    assert out.startswith("PORTFOLIO REPORT")
    assert "200 accounts" in out and "This week's actions" in out


def test_demo_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo", "--format", "json")
    data = json.loads(out)
    assert code == EXIT_OK
    assert data["accounts"] == 200
    assert sum(row["accounts"] for row in data["stages"]) == 200
    assert [a["rank"] for a in data["actions"]] == list(range(1, len(data["actions"]) + 1))


def test_demo_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo", "--format", "markdown")
    assert code == EXIT_OK
    assert out.startswith("# Portfolio report") and "| stage | accounts | share |" in out


def test_python_dash_m_stars_demo() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "stars", "demo", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["accounts"] == 200


# ----------------------------------------------------------------------------- assess
def test_assess_scores_signals_and_reports(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "assess",
        str(files / "accounts.csv"),
        "--snapshots",
        str(files / "snapshots.csv"),
        "--format",
        "json",
    )
    assert (code, err) == (EXIT_OK, "")
    data = json.loads(out)
    assert data["accounts"] == 3 and data["customers"] == 2
    bands = {b["band"]: b["accounts"] for b in data["bands"]}
    assert bands["red"] == 1  # globex: every signal poor, so the scorecard gives red
    assert data["actions"][0]["account_id"] == "globex"
    assert data["key_accounts"]["count"] == 1
    assert data["title"] == "Portfolio report: accounts.csv"


def test_assess_without_snapshots(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "assess", str(files / "accounts.csv"), "--format", "markdown")
    assert code == EXIT_OK
    assert "As of: no data, nothing dated was read. 3 accounts, 2 active customers." in out
    assert "Nothing can be called urgent or fine" in out


def test_assess_keeps_given_health(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.csv").write_text("id,stage\nacme,ascend\n", encoding="utf-8")
    (tmp_path / "s.csv").write_text(
        "account,at,health\nacme,2025-01-06T00:00:00+00:00,55\nacme,2025-02-06T00:00:00+00:00,\n",
        encoding="utf-8",
    )
    code, out, _ = run(
        capsys,
        "assess",
        str(tmp_path / "a.csv"),
        "--snapshots",
        str(tmp_path / "s.csv"),
        "--format",
        "json",
    )
    data = json.loads(out)
    assert code == EXIT_OK
    # the latest snapshot carries nothing, so the account's band is unknown
    assert {b["band"]: b["accounts"] for b in data["bands"]}["unknown"] == 1


def test_assess_lists_rejected_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.csv").write_text("id,stage\nacme,seed\nbeta,gold\n", encoding="utf-8")
    (tmp_path / "s.csv").write_text(
        "account,at,health\nacme,2025-01-06T00:00:00+00:00,140\n"
        "ghost,2025-01-06T00:00:00+00:00,50\n",
        encoding="utf-8",
    )
    code, out, err = run(
        capsys, "assess", str(tmp_path / "a.csv"), "--snapshots", str(tmp_path / "s.csv")
    )
    # half of each file is rejected: far more than the default 1%, so the exit says so
    assert code == EXIT_REJECTED
    err = " ".join(err.split())  # long lines are wrapped to the terminal's width
    assert "a.csv: 2 rows read, 1 used, 1 rejected" in err
    assert "stage: expected a stage of lifecycle 'STARS'" in err and "line 3" in err
    assert "health: expected a number from 0 to 100: 1 row (line 2; e.g. '140')" in err
    assert "account: expected an account of" in err and "'ghost'" in err
    assert err.rstrip().endswith("the report is incomplete")
    assert "1 accounts" in out and "INCOMPLETE" in out
    code, _, _ = run(
        capsys,
        "assess",
        str(tmp_path / "a.csv"),
        "--snapshots",
        str(tmp_path / "s.csv"),
        "--max-rejects",
        "100%",
    )
    assert code == EXIT_OK


def test_assess_progress_bar_on_request(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys,
        "assess",
        str(files / "accounts.csv"),
        "--snapshots",
        str(files / "snapshots.csv"),
        "--progress",
    )
    assert code == EXIT_OK
    assert "reading snapshots.csv [" in err and "100% of 0.3 kB" in err
    assert "scoring snapshots [" in err and "2/2" in err and err.endswith("\n")
    code, _, err = run(capsys, "assess", str(files / "accounts.csv"), "--no-progress")
    assert (code, err) == (EXIT_OK, "")


def test_progress_only_on_a_terminal_for_long_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    from stars import cli

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", Tty())
    assert cli._want_progress(None, 10_000)
    assert not cli._want_progress(None, 10)
    assert not cli._want_progress(False, 10_000)
    monkeypatch.setattr(sys, "stderr", object())
    assert not cli._want_progress(None, 10_000)


def test_assess_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "assess", str(tmp_path / "missing.csv"))
    assert (code, out) == (EXIT_BAD_INPUT, "")
    assert err == f"stars: error: {tmp_path / 'missing.csv'}: no such file\n"

    (tmp_path / "bad.csv").write_text("name,colour\nx,red\n", encoding="utf-8")
    code, _, err = run(capsys, "assess", str(tmp_path / "bad.csv"))
    assert code == EXIT_BAD_INPUT
    assert err.startswith("stars: error: SchemaError:") and err.count("\n") == 1

    (tmp_path / "none.csv").write_text("id,stage\nbeta,gold\n", encoding="utf-8")
    code, _, err = run(capsys, "assess", str(tmp_path / "none.csv"))
    assert code == EXIT_BAD_INPUT
    assert "no account could be imported" in err.splitlines()[-1]

    (tmp_path / "bin.csv").write_bytes(b"id\n\xff\xfe\x00bad\n")
    code, _, err = run(capsys, "assess", str(tmp_path / "bin.csv"))
    assert code == EXIT_BAD_INPUT and "Traceback" not in err

    (tmp_path / "ok.csv").write_text("id\nacme\n", encoding="utf-8")
    code, _, err = run(
        capsys, "assess", str(tmp_path / "ok.csv"), "--snapshots", str(tmp_path / "nope.csv")
    )
    assert code == EXIT_BAD_INPUT and "nope.csv: no such file" in err


def test_assess_sorts_snapshots_by_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # rows are sorted by time per account, so order in the file does not matter
    (tmp_path / "a.csv").write_text("id\nacme\n", encoding="utf-8")
    (tmp_path / "s.csv").write_text(
        "account,at,health\nacme,2025-03-01T00:00:00+00:00,80\nacme,2025-01-01T00:00:00+00:00,20\n",
        encoding="utf-8",
    )
    code, out, _ = run(
        capsys,
        "assess",
        str(tmp_path / "a.csv"),
        "--snapshots",
        str(tmp_path / "s.csv"),
        "--format",
        "json",
    )
    assert code == EXIT_OK
    assert json.loads(out)["as_of"].startswith("2025-03-01")


# ----------------------------------------------------------------------------- diagram
def test_diagram_default(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "diagram")
    assert code == EXIT_OK
    assert out == STARS.to_mermaid() + "\n"


def test_diagram_from_a_lifecycle_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    definition = {
        "initial": "trial",
        "stages": [
            {"name": "trial", "kind": "before"},
            {"name": "paid", "kind": "growth"},
        ],
        "transitions": [
            {"trigger": "buy", "sources": "trial", "dest": "paid", "cycle": "growth"},
            {"trigger": "lapse", "sources": "paid", "dest": "trial", "cycle": "crisis"},
        ],
    }
    path = tmp_path / "lc.json"
    path.write_text(json.dumps(definition), encoding="utf-8")
    code, out, err = run(capsys, "diagram", "--lifecycle", str(path))
    assert (code, err) == (EXIT_OK, "")
    assert out.splitlines()[:3] == [
        "stateDiagram-v2",
        "    [*] --> trial",
        "    trial --> paid : buy",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"initial": "x", "stages": [], "transitions": []}', "stars: error: "),
    ],
)
def test_diagram_bad_lifecycle_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "lc.json"
    path.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "diagram", "--lifecycle", str(path))
    assert (code, out) == (EXIT_BAD_INPUT, "")
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_diagram_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "diagram", "--lifecycle", str(tmp_path / "none.json"))
    assert code == EXIT_BAD_INPUT and "none.json: no such file" in err


# ----------------------------------------------------------------------------- maturity
@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_maturity_formats(files: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    from stars.maturity import assess

    expected = assess(maturity_answers())
    code, out, err = run(capsys, "maturity", str(files / "answers.json"), "--format", fmt)
    assert (code, err) == (EXIT_OK, "")
    if fmt == "json":
        data = json.loads(out)
        assert data["overall"] == expected.overall.value
        assert [a["area"] for a in data["areas"]] == [r.area.value for r in expected.areas]
    elif fmt == "markdown":
        assert out == expected.to_markdown()
    else:
        assert out.startswith("CUSTOMER-SUCCESS MATURITY")
        assert f"Overall: {expected.overall.value}" in out
        for r in expected.areas:
            assert r.area.value in out


def test_maturity_missing_answers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "few.json"
    path.write_text(json.dumps({"skill.managed.1": "yes"}), encoding="utf-8")
    code, _, err = run(capsys, "maturity", str(path))
    assert code == EXIT_BAD_INPUT and "expected an answer for every indicator" in err
    code, out, _ = run(capsys, "maturity", str(path), "--missing", "count_as_no")
    assert code == EXIT_OK and "Unanswered (scored as no)" in out
    code, out, _ = run(
        capsys, "maturity", str(path), "--missing", "count_as_no", "--format", "json"
    )
    assert code == EXIT_OK and len(json.loads(out)["missing"]) > 50


def test_maturity_all_yes_is_at_the_top(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from stars.maturity import default_questionnaire

    path = tmp_path / "top.json"
    path.write_text(json.dumps(dict.fromkeys(default_questionnaire().ids, "yes")), encoding="utf-8")
    code, out, _ = run(capsys, "maturity", str(path))
    assert code == EXIT_OK and "skill: at the top level." in out


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.json", "{oops", "a valid JSON file"),
        ("a.json", '{"skill.gold.1": "yes"}', "unknown indicator"),
        ("a.json", '{"skill.managed.1": "maybe"}', "skill.managed.1"),
        ("a.txt", "{}", "a .json, .yaml or .yml file"),
    ],
)
def test_maturity_bad_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "maturity", str(path))
    assert (code, out) == (EXIT_BAD_INPUT, "")
    assert message in err and err.count("\n") == 1


def test_maturity_file_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"skill.managed.1": "s\xed"}')
    code, _, err = run(capsys, "maturity", str(path))
    assert code == EXIT_BAD_INPUT and "UTF-8" in err and err.count("\n") == 1


def test_progress_bar_redraws_only_when_it_grows() -> None:
    import io

    from stars.cli import _Progress

    stream = io.StringIO()
    bar = _Progress(stream, "work", 300, width=10)
    for i in range(1, 301):
        bar.update(i)
    bar.close()
    frames = stream.getvalue().split("\r")[1:]
    assert len(frames) == 11  # the empty bar, then one frame per new "#"
    assert frames[-1] == "work [##########] 300/300\n"


def test_maturity_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "maturity", str(tmp_path / "nope.json"))
    assert code == EXIT_BAD_INPUT and "nope.json: no such file" in err


# ----------------------------------------------------------------------------- the parser
def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert (code, out) == (EXIT_OK, f"stars {__version__}\n")


@pytest.mark.parametrize(
    "argv",
    [[], ["nonsense"], ["demo", "--format", "yaml"], ["maturity"], ["demo", "extra"]],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (EXIT_BAD_INPUT, "")
    assert "usage: stars" in err and "Traceback" not in err


def test_assess_without_files_or_store_says_what_it_needs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "assess")
    assert (code, out) == (EXIT_BAD_INPUT, "")
    assert err == "stars: error: give an accounts file (ACCOUNTS.csv) or --store URL\n"


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == EXIT_OK and "demo" in out and "assess" in out and "maturity" in out


def test_os_errors_become_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from stars import cli

    def refuse(args: object) -> str:
        raise PermissionError(13, "Permission denied", "/secret.csv")

    def plain(args: object) -> str:
        raise OSError("disk on fire")

    parser = build_parser()
    for fn, text in ((refuse, "/secret.csv: Permission denied"), (plain, "disk on fire")):
        monkeypatch.setattr(cli, "build_parser", lambda fn=fn: _with_run(parser, fn))
        code, _, err = run(capsys, "demo")
        assert (code, err) == (EXIT_BAD_INPUT, f"stars: error: {text}\n")


def _with_run(parser: object, fn: object) -> object:
    import argparse

    class P:
        def parse_args(self, argv: object) -> argparse.Namespace:
            return argparse.Namespace(run=fn)

    return P()


def test_demo_needs_no_optional_dependency() -> None:
    # `make demo` installs the package without extras: the report must not import them
    code = (
        "import contextlib, io, sys\n"
        "from stars.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['demo']) == 0\n"
        "heavy = ('polars', 'pandas', 'numpy', 'narwhals', 'pyarrow', 'matplotlib', 'yaml',\n"
        "         'scipy', 'sklearn', 'dask')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_backtest_command_is_wired(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from stars.cli import main

    # A bad input goes through the backtest command's own error path: exit 2, one line.
    assert (
        main(["backtest", str(tmp_path / "missing.csv"), "--scorecard", "x.json", "--outcome", "y"])
        == 2
    )
    assert "stars" in capsys.readouterr().err
