"""Big snapshots files: read with polars in chunks, with the same verdicts as row by row.

The command reads a snapshots file of `stars._intake.BIG_FILE` bytes or more with polars
(when it is installed). These tests move that threshold to make either path read the
same files, and check that the user reads the same report, the same counts, the same
causes and the same rejects file; one test runs the real command on a file above the
threshold in a subprocess.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import pytest

import stars as stars_package
from stars import STARS, _bigcsv, _csv, _intake
from stars.cli import main
from stars.io import read_accounts_csv

SRC = str(Path(stars_package.__file__).resolve().parent.parent)

ACCOUNTS = "id,name,stage\na,A,ascend\nb,B,tact\nc,C,seed\n"

#: Every kind of cell the readers must agree about.
TRICKY = """account,at,health,band,adoption,open_tickets,critical_risk,metrics.seats,nps,arr
a,2025-01-06T00:00:00+00:00,72,green,0.5,3,no,40,10,1
a,2025-01-13T00:00:00+00:00,abc,purple,1.5,2.5,maybe,x,5,1
b,2025-01-06T00:00:00Z,,,,,yes,,,
,2025-01-06T00:00:00+00:00,,,,,,,,
b,,,,,,,,,

b,2025-01-06,50,,,,,,,
b,2025-01-07 10:30,nan,,,,,,,
b,2025-01-07T00:00:00+00:00,50,,,7,,1e400,,
b,2025-01-08T00:00:00-05:00,50,,,+0012,TRUE,,-20,
c,2025-01-08T00:00:00+00:00,140,,,,,,,
c,2025-01-09T00:00:00+00:00,,,0.7,2,,,101,
c,2025-01-10T00:00:00+00:00,,,0.7,2,,,30,"quoted, with a
line break"
c,20250111,,,0.7,2,,,30,
c,2025-02-30,,,0.7,2,,,30,
ghost,2025-01-10T00:00:00+00:00,,,0.7,2,,,30,
c,2025-01-12T00:00:00+00:00, 60 ,,,,,,,
a,2025-01-20,,,0.9,1,,,50,
a,2025-01-21,,,0.9,1,,,50,
a,2025-01-22,,,0.9,1,,,50,
a,2025-01-23,,,0.9,-1,,,50,
a,2025-03-30T02:30:00,,,0.9,1,,,50,
"""


def assess(tmp: Path, *extra: str) -> tuple[int, str, str]:
    """``stars assess`` on ``tmp``'s accounts.csv and snaps.csv, in this process."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["assess", str(tmp / "accounts.csv"), "--snapshots", str(tmp / "snaps.csv"), *extra]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def run(tmp: Path, big: bool, *extra: str) -> tuple[int, dict[str, object], str, str]:
    """The command in this process, with the polars path forced on or off."""
    old = _intake.BIG_FILE
    _intake.BIG_FILE = 0 if big else 10**15
    rejects = tmp / f"rejects-{big}.csv"
    try:
        code, out, err = assess(
            tmp, "--format", "json", "--max-rejects", "100%", "--rejects", str(rejects), *extra
        )
    finally:
        _intake.BIG_FILE = old
    return code, json.loads(out), err, rejects.read_text(encoding="utf-8")


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "+02:00"])
def test_both_readers_give_the_same_report_counts_and_rejects(tmp_path: Path, zone: str) -> None:
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (tmp_path / "snaps.csv").write_text(TRICKY, encoding="utf-8")
    slow = run(tmp_path, False, "--tz", zone)
    fast = run(tmp_path, True, "--tz", zone)
    assert fast == slow
    code, data, err, rejects = fast
    files = data["input"]["files"]  # type: ignore[index]
    assert (code, files[1]["rows"], files[1]["rejected"]) == (0, 21, 10)  # one line is blank
    assert "snaps.csv: 21 rows read, 11 used, 10 rejected" in " ".join(err.split())
    assert "snaps.csv,3,health,abc,a number\n" in rejects
    assert "snaps.csv,18,account,ghost,an account of" in rejects  # after the quoted line break


def test_the_big_file_path_from_the_command_line(tmp_path: Path) -> None:
    accounts = 2_000
    rows = ["account,at,adoption,nps,csat,open_tickets,days_since_contact,sentiment,extra"]
    for week in range(60):
        for n in range(accounts):
            rows.append(
                f"acct-{n:05d},2024-{1 + week // 5:02d}-{1 + week % 5 * 6:02d},"
                f"0.{(n * 7 + week) % 100:02d},{n % 90 - 40},{60 + n % 40},{n % 9},{week % 50},"
                f"0.{n % 10},x"
            )
    rows[5] = rows[5].replace(",0.", ",1.7", 1)  # adoption 1.7..: out of range on line 6
    (tmp_path / "snaps.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert (tmp_path / "snaps.csv").stat().st_size >= _intake.BIG_FILE
    # a long description per account (kept aside) makes the accounts file big too
    about = "a customer with a long description in the CRM " * 12
    ids = "\n".join(f"acct-{n:05d},ascend,{about}{n}" for n in range(accounts))
    (tmp_path / "accounts.csv").write_text("id,stage,description\n" + ids + "\n", encoding="utf-8")
    assert (tmp_path / "accounts.csv").stat().st_size >= _intake.BIG_ACCOUNTS
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stars",
            "assess",
            "accounts.csv",
            "--snapshots",
            "snaps.csv",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    accounts_in, snaps = data["input"]["files"]
    assert (accounts_in["rows"], accounts_in["used"], accounts_in["rejected"]) == (2_000,) * 2 + (
        0,
    )
    assert accounts_in["extra_columns"] == ["description"]
    assert (snaps["rows"], snaps["used"], snaps["rejected"]) == (120_000, 119_999, 1)
    assert snaps["causes"][0]["first_lines"] == [6] and snaps["extra_columns"] == ["extra"]
    assert snaps["notes"] == []  # read with polars, not row by row
    assert any(
        "read its latest 3 snapshots; 2,000 accounts have more (up to 60" in n
        for n in data["notes"]
    )
    assert "adoption: expected a number from 0 to 1: 1 row (line 6" in done.stderr


def test_a_file_polars_cannot_read_is_read_row_by_row_and_said_so(tmp_path: Path) -> None:
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    text = "account,at,health,note\na,2025-01-06,72,Société\nb,2025-01-06,40,x,y\n"
    (tmp_path / "snaps.csv").write_bytes(text.encode("cp1252"))
    _, data, _, rejects = run(tmp_path, True, "--encoding", "cp1252")
    notes = data["input"]["files"][1]["notes"]  # type: ignore[index]
    assert notes == ["read row by row (encoding cp1252)"]
    assert 'snaps.csv,3,,"b,2025-01-06,40,x,y","4 fields, got 5"' in rejects
    (tmp_path / "snaps.csv").write_text(text, encoding="utf-8")
    _, data, _, rejects = run(tmp_path, True)
    notes = data["input"]["files"][1]["notes"]  # type: ignore[index]
    assert len(notes) == 1 and notes[0].startswith("read row by row (polars:")
    assert "4 fields, got 5" in rejects


def test_without_polars_a_big_file_says_how_to_read_it_faster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (tmp_path / "snaps.csv").write_text(TRICKY, encoding="utf-8")
    monkeypatch.setattr(_bigcsv, "available", lambda: False)
    _, data, _, _ = run(tmp_path, True)
    notes = data["input"]["files"][1]["notes"]  # type: ignore[index]
    assert notes == ["read row by row: install the frames extra to read big files faster"]


def test_keep_snapshots_reads_more_of_each_account(tmp_path: Path) -> None:
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (tmp_path / "snaps.csv").write_text(TRICKY, encoding="utf-8")
    for big in (False, True):
        _, data, _, _ = run(tmp_path, big)
        assert any(
            "latest 3 snapshots; 1 account has more (up to 5;" in str(n) for n in data["notes"]
        )  # type: ignore[attr-defined]
        _, data, _, _ = run(tmp_path, big, "--keep-snapshots", "5")
        assert not any("latest" in str(n) for n in data["notes"])  # type: ignore[attr-defined]


#: Typos in cells and in a header (read through --map), naive dates, a column no reader
#: uses, unknown and blank accounts, values out of range: what a hand-made export holds.
SLOPPY = """Account ID,When,helth,adoption,open_tickets,success_metrics_agreed,band,notes
a,2025-01-06,72,0.5,3,ture,green,ok
a,2025-01-13 09:30,70,0.55,2,true,Green,
a,2025-01-20,68,O.6,2,yes,green,typo in adoption
a,2025-01-27T08:00:00+01:00,66,0.6,two,true,,
b,2025-01-06,35,0.2,9,false,red,
b,2025-01-32,30,0.2,9,false,red,no such day
b,06/01/2025,30,0.2,9,false,red,not ISO
b,2025-02-03,101,0.2,9,false,,out of range
c,2025-01-06,,1.2,0,true,,
c,2025-01-13,55,0.4,0,TRUE,yelow,
zed,2025-01-06,50,0.5,1,true,,unknown account
,2025-01-06,50,0.5,1,true,,no account
c,2025-03-30T02:30:00,60,0.5,1,true,,a time that does not exist in Paris
c,2025-03-31,61,0.5,1,true,,
"""


@pytest.mark.parametrize("fmt", ["text", "markdown"])
@pytest.mark.parametrize("strict", [False, True])
def test_both_readers_print_the_same_report_on_a_sloppy_export(
    tmp_path: Path, fmt: str, strict: bool
) -> None:
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (tmp_path / "snaps.csv").write_text(SLOPPY, encoding="utf-8")
    runs = []
    for big in (False, True):
        old = _intake.BIG_FILE
        _intake.BIG_FILE = 0 if big else 10**15
        rejects = tmp_path / f"rejects-{big}.csv"
        try:
            code, out, err = assess(
                tmp_path,
                "--format",
                fmt,
                "--tz",
                "Europe/Paris",
                "--map",
                "Account ID=account",
                "--map",
                "When=at",
                "--map",
                "helth=health",
                "--rejects",
                str(rejects),
                *(["--strict"] if strict else ["--max-rejects", "100%"]),
            )
        finally:
            _intake.BIG_FILE = old
        runs.append((code, out, err, rejects.read_text(encoding="utf-8")))
    slow, fast = runs
    assert fast == slow
    code, report, err, rejects = fast
    assert code == (3 if strict else 0)
    said = " ".join((report + err).split())
    assert "snaps.csv: 14 rows read, 3 used, 11 rejected" in said
    assert "columns not used: notes; 11 times without a UTC offset read in Europe/Paris" in said
    assert "rejected at: expected an ISO 8601 date" in said and "(lines 7, 8;" in said
    assert "snaps.csv,2,success_metrics_agreed,ture," in rejects
    assert "snaps.csv,4,adoption,O.6,a number\n" in rejects
    assert "snaps.csv,11,band,yelow," in rejects
    assert "snaps.csv,12,account,zed,an account of" in rejects
    assert ("INCOMPLETE" in said) is strict


def _generated(seed: int, accounts: int, weeks: int, order: str = "week") -> str:
    """A weekly snapshots export with a few faults spread over it (some chunks are clean).

    ``order``: ``week`` lists every account's row for a week, then the next week (short
    runs of one account); ``account`` lists each account's weeks together, oldest first
    (long runs, already in time order); ``shuffled`` is in no order at all.
    """
    import random

    rnd = random.Random(seed)
    header = "account,at,adoption,nps,open_tickets,success_metrics_agreed,band,csat"
    lines = []
    shapes = ("{d}T00:00:00+00:00", "{d}", "{d} 09:30", "{d}T08:00:00Z")
    for week in range(weeks):
        day = f"2024-{1 + week // 4:02d}-{1 + week % 4 * 7:02d}"
        # one shape for a while, as exports do (or one for the whole file)
        shape = shapes[(week // 10 if order == "week" else seed) % len(shapes)]
        for n in range(accounts):
            adoption = f"{rnd.random():.2f}"
            words = ("true", "false", "") if order == "account" else ("TRUE", "yes", "No", "1")
            flag = rnd.choice(("true", "false", "", *words))
            band = rnd.choice(("", "", "green", "red", "yellow"))
            cells = [
                f"acct-{n:04d}",
                shape.format(d=day),
                adoption,
                str(rnd.randint(-100, 100)),
                str(rnd.randint(0, 9)),
                flag,
                band,
                f"{rnd.uniform(0, 100):.1f}",
            ]
            # faults in some chunks only
            fault = rnd.random() if (week % 10 == 0 if order == "week" else n < 40) else 1.0
            if fault < 0.002:
                cells[2] = rnd.choice(("1.5", "x", "nan", " 0.3 "))
            elif fault < 0.003:
                cells[0] = rnd.choice(("ghost", ""))
            elif fault < 0.004:
                cells[5] = rnd.choice(("maybe", "ture"))
            elif fault < 0.005:
                cells[1] = rnd.choice(("2024-02-30", "yesterday", ""))
            elif fault < 0.006:  # numbers polars reads but the row-by-row reader refuses
                cells[rnd.choice((2, 7))] = rnd.choice(("inf", "-inf", "NaN", "1e400"))
            elif fault < 0.007:
                cells[4] = rnd.choice(("99999999999999999", "1e2", "2.0", "+-1"))
            elif fault < 0.008:  # digits of other scripts: Python's float() takes them
                cells[rnd.choice((2, 4, 7))] = rnd.choice(("\u0663", "\uff11\uff12", "0.\u0665"))
            elif fault < 0.02:  # unusual numbers both readers take
                cells[rnd.choice((3, 4))] = rnd.choice(("+5", "007", "-0"))
                cells[7] = rnd.choice(("1e1", "5.", ".5", "+2.5E-1"))
            lines.append(",".join(cells))
    if order == "account":
        lines = [lines[w * accounts + n] for n in range(accounts) for w in range(weeks)]
    elif order == "shuffled":
        rnd.shuffle(lines)
    return "\n".join([header, *lines]) + "\n"


@pytest.mark.parametrize(
    ("seed", "order"), [(1, "week"), (2, "week"), (3, "account"), (4, "shuffled")]
)
def test_both_readers_print_the_same_bytes_on_a_generated_export(
    tmp_path: Path, seed: int, order: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = 300
    ids = "\n".join(
        f"acct-{n:04d},Account {n},{('ascend', 'tact', 'seed')[n % 3]}" for n in range(accounts)
    )
    (tmp_path / "accounts.csv").write_text("id,name,stage\n" + ids + "\n", encoding="utf-8")
    (tmp_path / "snaps.csv").write_text(_generated(seed, accounts, 40, order), encoding="utf-8")
    # small chunks, so that the file is many chunks: clean ones and ones with faults
    monkeypatch.setattr(_bigcsv, "CHUNK", 64 * 1024)
    quick = []
    fast = _bigcsv._fast
    monkeypatch.setattr(_bigcsv, "_fast", lambda *a: quick.append(fast(*a)) or quick[-1])
    outputs = {}
    for fmt in ("text", "json"):
        for big in (False, True):
            monkeypatch.setattr(_intake, "BIG_FILE", 0 if big else 10**15)
            rejects = tmp_path / f"rejects-{fmt}-{big}.csv"
            code, out, err = assess(tmp_path, "--format", fmt, "--rejects", str(rejects))
            outputs[fmt, big] = (code, out, err, rejects.read_bytes())
        assert outputs[fmt, True] == outputs[fmt, False]
    data = json.loads(outputs["json", True][1])
    snaps = data["input"]["files"][1]
    assert snaps["rows"] == accounts * 40 and 0 < snaps["rejected"] < snaps["rows"] // 50
    assert snaps["notes"] == []  # the big path read it with polars, not row by row
    assert (tmp_path / "snaps.csv").stat().st_size > 8 * 64 * 1024
    # some chunks took the quick path, and some were looked at cell by cell
    assert any(r is not None for r in quick) and any(r is None for r in quick)


@pytest.mark.parametrize(("quoted", "blank"), [(False, True), (False, False), (True, True)])
def test_a_record_with_too_few_cells_is_refused_by_both_readers(
    tmp_path: Path, quoted: bool, blank: bool
) -> None:
    # polars reads a short record as if its last cells were empty: the big path must not
    # keep what the row-by-row reader refuses (a blank line or a quote sends the chunk
    # to the text path; without either, the typed path must see it)
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    note = '"a, quoted note"' if quoted else "x"
    text = (
        "account,at,health,note\n"
        f"a,2025-01-06T00:00:00+00:00,72,{note}\n"
        "b,2025-01-06T00:00:00+00:00,40\n"
        + ("\n" if blank else "")
        + f"c,2025-01-06T00:00:00+00:00,55,{note}\n"
    )
    (tmp_path / "snaps.csv").write_text(text, encoding="utf-8")
    slow = run(tmp_path, False)
    fast = run(tmp_path, True)
    code, data, _, rejects = fast
    said = "read row by row (rows of another length)"
    files = data["input"]["files"]  # type: ignore[index]
    assert files[1]["notes"] == [said]
    files[1]["notes"] = []
    data["notes"] = [n for n in data["notes"] if said not in n]  # type: ignore[index,attr-defined]
    assert (code, data, rejects) == (slow[0], slow[1], slow[3])
    assert "snaps.csv,3,," in rejects and "4 fields, got 3" in rejects
    assert (files[1]["rows"], files[1]["rejected"]) == (3, 1)


def test_the_quick_path_reads_flags_as_the_row_by_row_reader_does() -> None:
    from stars._cells import SPECS

    spec = SPECS[bool]
    for value, words in _bigcsv._FLAG_SPELLINGS.items():
        assert words and all(spec.parse_cell(w) is value for w in words)


# --------------------------------------------------------------------------- big accounts files
#: Accounts files the polars path must read as the row-by-row reader does, or leave to it.
#: ``True``: plainly clean, so polars reads it.
ACCOUNT_FILES = {
    "plain": (
        True,
        "id,name,owner,stage\n" + "".join(f"a{i},A {i},o{i % 3},ascend\n" for i in range(9)),
    ),
    "aliases and defaults": (
        True,
        "account_id;stage;owner;name;arr\nx;Turnaround;;;5\ny;ASCEND;ann;Y;\nz;;;Zed;1\n",
    ),
    "crlf and a byte-order mark": (True, "\ufeffid,stage\r\nx,seed\r\ny,tact\r\n"),
    "non-ascii names": (True, "id,name\nx,Société Générale\ny,Zoë\n"),
    "quotes": (False, 'id,name\nx,"Acme, Inc"\ny,Y\n'),
    "padded cell": (False, "id,name\nx ,X\ny,Y\n"),
    "no-break space": (False, "id,name\nx\u00a0,X\ny,Y\n"),
    "unit separator": (False, "id,name\nx\x1f,X\ny,Y\n"),
    "lone carriage return": (False, "id,name\nx,X\ry,Y\n"),
    "repeated id": (False, "id,name\nx,X\nx,Y\n"),
    "empty id": (False, "id,name\n,X\ny,Y\n"),
    "stage typo": (False, "id,stage\nx,accelarate\ny,seed\n"),
    "blank line": (False, "id,name\nx,X\n\ny,Y\n"),
    "short first record": (False, "id,name,owner\nx,X\ny,Y,o\n"),
    "short later record": (False, "id,name,owner\nx,X,o\ny,Y\n"),
    "long record": (False, "id,name\nx,X,1\ny,Y\n"),
    "tags": (False, "id,tags\nx,a;b\ny,\n"),
    "since": (False, "id,since\nx,2024-01-01\ny,\n"),
    "latin-1": (False, "id,name\nx,Soci\xe9t\xe9\n"),
}


@pytest.mark.parametrize("case", sorted(ACCOUNT_FILES))
def test_both_accounts_readers_give_the_same_report(
    tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick, text = ACCOUNT_FILES[case]
    data = text.encode("latin-1" if case == "latin-1" else "utf-8")
    (tmp_path / "accounts.csv").write_bytes(data)
    (tmp_path / "snaps.csv").write_text("account,at,health\n", encoding="utf-8")
    outcomes: list[str] = []
    real = _bigcsv.read_accounts

    def spy(*args: object, **kwargs: object) -> object:
        try:
            read = real(*args, **kwargs)  # type: ignore[arg-type]
        except _bigcsv.GiveUp:
            outcomes.append("row by row")
            raise
        outcomes.append("polars")
        return read

    monkeypatch.setattr(_bigcsv, "read_accounts", spy)

    def both(big: bool) -> tuple[int, str, str]:
        monkeypatch.setattr(_intake, "BIG_ACCOUNTS", 0 if big else 10**15)
        rejects = tmp_path / f"r{big}.csv"
        code, out, err = assess(
            tmp_path, "--format", "json", "--max-rejects", "100%", "--rejects", str(rejects)
        )
        return code, out, err + (rejects.read_text(encoding="utf-8") if code != 2 else "")

    assert both(True) == both(False)
    assert outcomes == ["polars" if quick else "row by row"]
    if case != "latin-1":  # the same accounts (names, owners, stages), lines and counts
        opts = _intake.Options(UTC, "UTC")
        path = str(tmp_path / "accounts.csv")
        monkeypatch.setattr(_intake, "BIG_ACCOUNTS", 0)
        fast, fast_in = _intake.read_accounts(path, opts, STARS)
        monkeypatch.setattr(_intake, "BIG_ACCOUNTS", 10**15)
        slow, slow_in = _intake.read_accounts(path, opts, STARS)
        assert (fast, vars(fast_in)) == (slow, vars(slow_in))
        assert [a.name for a in fast] == [a.name for a in slow]  # eq compares every field
    if quick:  # and what the reader says besides: each account's line, the file's shape
        got = real(tmp_path / "accounts.csv", STARS, rename=None, encoding=None, delimiter=None)
        want = read_accounts_csv(tmp_path / "accounts.csv", extra="keep")
        shape = ("file", "rows", "lines", "extra_columns", "encoding", "delimiter", "zoned")
        assert [getattr(got, k) for k in shape] == [getattr(want, k) for k in shape]
        assert (got.items, got.rejected) == (want.items, want.rejected)


@pytest.mark.parametrize("kind", ["accounts", "snapshots"])
def test_a_line_too_long_for_the_row_by_row_reader_is_refused_by_both(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the polars paths read a file in big pieces: they must not take a line the
    # row-by-row reader refuses (it names the line)
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (tmp_path / "snaps.csv").write_text("account,at,health\n", encoding="utf-8")
    long = "x" * (_csv.MAX_LINE_BYTES + 10)
    if kind == "accounts":
        text = f"id,name\nacme,{long}\nglobex,Globex\n"
        (tmp_path / "accounts.csv").write_text(text, encoding="utf-8")
    else:
        text = f"account,at,health\na,2025-01-06T00:00:00+00:00,7{long}\n"
        (tmp_path / "snaps.csv").write_text(text, encoding="utf-8")
    said = []
    for big in (True, False):
        monkeypatch.setattr(_intake, "BIG_ACCOUNTS", 0 if big else 10**15)
        monkeypatch.setattr(_intake, "BIG_FILE", 0 if big else 10**15)
        code, _, err = assess(tmp_path)
        said.append((code, err))
    assert said[0] == said[1]
    assert said[0][0] == 2 and "line 2" in said[0][1] and "at most" in said[0][1]


def test_a_metric_the_scorecard_does_not_read_is_kept_not_scored(tmp_path: Path) -> None:
    # a metrics.* column is any other numeric signal: it used to make scoring fail with
    # "unknown measure 'seats'" (exit 2) on every row without a health score
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    text = (
        "account,at,adoption,metrics.seats\n"
        "a,2025-01-06T00:00:00+00:00,0.9,40\n"  # scored from adoption, seats kept
        "b,2025-01-06T00:00:00+00:00,,12\n"  # nothing the scorecard reads: no health
    )
    (tmp_path / "snaps.csv").write_text(text, encoding="utf-8")
    fast, slow = run(tmp_path, True), run(tmp_path, False)
    assert fast[0] == slow[0] == 0
    assert fast[1] == slow[1] and fast[3] == slow[3]
    bands = {row["band"]: row["accounts"] for row in fast[1]["bands"]}  # type: ignore[index,union-attr]
    assert (bands["green"], bands["unknown"]) == (1, 2)  # c has no snapshot at all


def test_rows_of_one_time_in_several_chunks_keep_the_file_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an export can repeat an account's time (a corrected row): the later line wins,
    # also when the rows are chunks apart (each chunk numbers its lines from its own start)
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    filler = "".join(f"b,2025-01-{1 + n % 28:02d}T00:00:00+00:00,{n % 100}\n" for n in range(1500))
    rows = "".join(
        f"a,2025-01-06T00:00:00+00:00,{health}\n" + filler for health in (90, 80, 70, 20, 10)
    )
    (tmp_path / "snaps.csv").write_text("account,at,health\n" + rows, encoding="utf-8")
    monkeypatch.setattr(_bigcsv, "CHUNK", 64 * 1024)  # a few chunks between a's rows
    fast, slow = run(tmp_path, True), run(tmp_path, False)
    assert fast[1] == slow[1]
    found = {row["account_id"]: row for row in fast[1]["disagreements"]}  # type: ignore[index]
    assert found["a"]["reasons"] == ["health is red"]  # health 10, the last line, not 90
