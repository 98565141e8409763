"""`hiphook report` on a real SQLite log: the HTML's figures equal `history --json`'s."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from app.report.figures import compute, monday
from app.store import stats
from tests.support.cli import hiphook
from tests.support.report_fixture import build_log

ROOT = Path(__file__).resolve().parents[2]


class Page(HTMLParser):
    """Collects data-figure spans, the embedded figures and the inline SVGs."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.svgs = 0
        self.external: list[str] = []
        self._key: str | None = None
        self._json = False
        self.blob = ""
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "svg":
            self.svgs += 1
        for name in ("src", "href"):
            if a.get(name) and not str(a[name]).startswith("#"):
                self.external.append(str(a[name]))
        if tag == "span" and "data-figure" in a:
            self._key = a["data-figure"]
        if tag == "script" and a.get("id") == "hiphook-figures":
            self._json = True

    def handle_endtag(self, tag: str) -> None:
        self._key = None if tag == "span" else self._key
        self._json = False if tag == "script" else self._json

    def handle_data(self, data: str) -> None:
        if self._key is not None:
            self.figures[self._key] = data
        if self._json:
            self.blob += data
        self.text.append(data)


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "log.db"
    build_log(path, stats.today_in("UTC"))
    return path


def test_report_html_numbers_equal_history_json(log: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = hiphook("report", "--weeks", "12", "-o", str(out), "--db", str(log))
    assert res.returncode == 0, res.stderr
    assert "Wrote" in res.stderr
    hist = hiphook("history", "--json", "--db", str(log))
    assert hist.returncode == 0, hist.stderr
    data = json.loads(hist.stdout)
    summary, sessions = data["summary"], data["sessions"]

    page = Page()
    page.feed(out.read_text(encoding="utf-8"))
    fig = page.figures
    assert page.external == [], "the report must not load anything from outside"
    # the calendar, sessions per week, one press chart, pain: at least four inline charts
    assert page.svgs >= 4
    text = "".join(page.text)
    assert "not medical advice" in text

    # Streak and adherence as history --json states them.
    assert int(fig["streak.days"]) == summary["streak"]["days"]
    assert int(fig["streak.best"]) == summary["streak"]["best"]
    assert fig["adherence.last7"] == f"{round(summary['adherence']['last7'] * 100)}%"
    assert fig["adherence.last30"] == f"{round(summary['adherence']['last30'] * 100)}%"
    assert int(fig["sessions"]) == summary["sessions"] == len(sessions)

    # Sessions per week and per-day states, recomputed here from the JSON's sessions.
    today = date.fromisoformat(summary["today"])
    first = monday(today) - timedelta(weeks=11)
    assert fig["first_day"] == first.isoformat()
    per_week = Counter(
        monday(date.fromisoformat(s["local_day"])).isoformat()
        for s in sessions
        if date.fromisoformat(s["local_day"]) >= first
    )
    for w in range(12):
        wk = (first + timedelta(weeks=w)).isoformat()
        assert int(fig[f"week.{wk}.sessions"]) == per_week.get(wk, 0), wk
    inside = [s for s in sessions if date.fromisoformat(s["local_day"]) >= first]
    done = {s["local_day"] for s in inside if s["status"] == "completed"}
    assert int(fig["days.done"]) == len(done)
    elapsed = (today - first).days  # today is open in the fixture (nothing logged yet)
    assert (
        sum(int(fig[f"days.{k}"]) for k in ("done", "partial", "interrupted", "missed")) == elapsed
    )

    # Pain and notes: every session with a pain answer is in the embedded figures.
    blob = json.loads(page.blob)
    want = [
        (s["local_day"], s["pain_before"], s["pain_after"])
        for s in inside
        if s["pain_before"] is not None or s["pain_after"] is not None
    ]
    assert [(p["day"], p["before"], p["after"]) for p in blob["pain"]] == want
    assert any(p["status"] == "interrupted" for p in blob["pain"])
    noted = [s for s in inside if s["notes"]]
    assert noted and all(s["notes"] in text for s in noted)

    # Confirmed share per week and side, with a sensor, from the JSON's steps.
    wk = blob["press_weekly"][0]
    ps = [
        st
        for s in inside
        if bool(s["sensor"]) == wk["sensor"]
        and monday(date.fromisoformat(s["local_day"])).isoformat() == wk["week"]
        for st in s["steps"]
        if st["kind"] == "press" and st["side"] == wk["side"]
    ]
    good = sum(st["verdict"] == "confirmed" if wk["sensor"] else st["completed"] for st in ps)
    assert wk["presses"] == len(ps) and wk["share"] == round(good / len(ps), 4)


def test_sensor_and_no_sensor_are_told_apart(log: Path) -> None:
    from app.store.store import open_store

    with open_store(str(log)) as store:
        sessions = store.sessions(traces="summary")
    f = compute(sessions, stats.today_in("UTC"), 12)
    kinds = {(r["side"], r["sensor"]) for r in f.press_weekly}
    assert {("left", True), ("left", False), ("right", True), ("right", False)} <= kinds
    # Without a sensor there is no verdict to count: the share is of completed presses.
    assert all(r["confirmed"] == 0 for r in f.press_weekly if not r["sensor"])


def test_pdf_holds_the_figures_and_the_charts(log: Path, tmp_path: Path) -> None:
    # No skip: the test extra installs WeasyPrint, and .ci/run the Pango it needs (and
    # poppler-utils, which reads the PDF back here).
    out = tmp_path / "r.pdf"
    res = hiphook("report", "-o", str(out), "--db", str(log))
    assert res.returncode == 0, res.stderr
    assert out.read_bytes()[:5] == b"%PDF-"
    assert out.stat().st_mode & 0o077 == 0
    from app.store.store import open_store

    with open_store(str(log)) as store:
        f = compute(store.sessions(traces="summary"), stats.today_in("UTC"), 12)
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    st, adh = f.summary["streak"], f.summary["adherence"]
    assert f"Streak: {st['days']} day(s), best {st['best']}" in text
    assert f"{round(adh['last7'] * 100)}% of the last 7 days" in text
    assert f"Sessions in the whole log: {f.summary['sessions']}" in text
    assert "not medical advice" in text
    # The four charts (calendar, weeks, the press, pain) are drawn into the PDF as images.
    images = subprocess.run(
        ["pdfimages", "-list", str(out)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert len(images) >= 4, images


def test_bad_weeks_is_a_usage_message(log: Path) -> None:
    res = hiphook("report", "--weeks", "0", "--db", str(log))
    assert res.returncode == 2
    assert "whole number of weeks" in res.stderr and "Traceback" not in res.stderr


def test_the_fast_reader_returns_what_the_store_does(log: Path) -> None:
    """The report reads an up-to-date log with sqlite3; every field must be the store's."""
    from app.report.logread import REVISION, read_sessions
    from app.store.schema import schema_head
    from app.store.store import open_store

    with open_store(str(log)) as store:
        want = store.sessions(traces="summary")
    got = read_sessions(str(log))
    assert got is not None, (
        f"app/report/logread.py reads revision {REVISION}, the schema is at {schema_head()}: "
        "check that its SQL still fits the new schema, then bring its REVISION up to date"
    )
    assert got == want
    assert any(st["trace"] for s in want for st in s["steps"])  # summaries were compared
    assert any(s["notes"] for s in want) and any(not s["sensor"] for s in want)


def test_the_fast_reader_leaves_what_needs_the_store_to_the_store(tmp_path: Path) -> None:
    """A run left in progress (to recover), an older schema, no file, or a file that is
    not a log: the report opens the full store, which recovers, migrates or says why."""
    import sqlite3

    from app.report.logread import read_sessions
    from app.store.store import open_store

    assert read_sessions(str(tmp_path / "none.db")) is None
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database at all" * 20)
    assert read_sessions(str(bad)) is None
    db = tmp_path / "log.db"
    build_log(db, stats.today_in("UTC"), days=3, seed=3)
    assert read_sessions(str(db)) is not None
    with open_store(str(db)) as store:
        store.begin_session("beginner", 1, side="left", tz="UTC")
    assert read_sessions(str(db)) is None
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM session WHERE status = 'in_progress'")
        con.execute("UPDATE alembic_version SET version_num = '0003'")
    assert read_sessions(str(db)) is None
