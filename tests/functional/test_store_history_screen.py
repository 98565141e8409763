"""HistoryScreen opens at 80x24 on a small log, shows the streak, and plots presses."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.app import App
from textual.widgets import OptionList, Static

from app.core.engine import StepRecord
from app.store.stats import local_zone_name, today_in
from app.store.store import open_store
from app.store.trace import ForceTrace
from app.tui.screens.history import HistoryScreen
from tests.support.waiting import until


def _small_log(path: Path) -> None:
    store = open_store(path)
    tz = local_zone_name()
    today = today_in(tz)
    noon = datetime(today.year, today.month, today.day, 12, tzinfo=UTC)
    for back in (4, 3, 1, 0):  # day -2 missed: one bend
        sid = store.begin_session(
            "daily", 1, "left", "loop://", 5 - back % 3, started=noon - timedelta(days=back), tz=tz
        )
        trace = ForceTrace(tuple(120 + 10 * math.sin(i / 40) for i in range(800)), 80.0)
        store.record_step(
            sid,
            StepRecord(1, "press", "Psoas press", "left", 90, active_s=90, completed=True),
            "steady",
            85.0,
            trace,
        )
        store.end_session(sid, "completed", 2, ended=noon - timedelta(days=back, minutes=-10))
    store.close()


class _Host(App[None]):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def on_mount(self) -> None:
        self.push_screen(HistoryScreen(self.url))


def test_history_screen_shows_streak_and_presses(tmp_path: Path) -> None:
    asyncio.run(_shows_streak_and_presses(tmp_path))


async def _shows_streak_and_presses(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    _small_log(db)
    app = _Host(str(db))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        await until(pilot, lambda: screen.loaded)
        assert screen.streak_text.startswith("Streak: 4 days, bent 1×")
        streak = str(screen.query_one("#streak", Static).render())
        assert "Streak: 4 days" in streak and "two missed days in a row break it" in streak
        calendar = str(screen.query_one("#calendar", Static).render())
        assert calendar.count("■") == 4 + 1  # four days and the legend
        options = screen.query_one("#sessions", OptionList)
        assert options.option_count == 4
        await until(pilot, lambda: "Psoas press" in screen.detail_text)
        assert "steady" in screen.detail_text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HistoryScreen)


def test_history_screen_reports_a_bad_log(tmp_path: Path) -> None:
    asyncio.run(_reports_a_bad_log(tmp_path))


async def _reports_a_bad_log(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database" * 50)
    app = _Host(str(bad))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        await until(pilot, lambda: screen.loaded)
        assert "cannot be read" in screen.streak_text and "damaged" in screen.streak_text


def _full_log(path: Path) -> tuple[int, list[str]]:
    """Ten days of the daily routine (every step, four traced presses each), with pain;
    day -3 interrupted after its pain answer. Returns the newest session's id and steps."""
    from app.core.routine import load_routine

    routine = load_routine("daily").for_side("left")
    store = open_store(path)
    tz = local_zone_name()
    today = today_in(tz)
    noon = datetime(today.year, today.month, today.day, 12, tzinfo=UTC)
    names = []
    sid = 0
    for back in range(9, -1, -1):
        started = noon - timedelta(days=back)
        sid = store.begin_session("daily", 1, "left", "loop://", 6, started=started, tz=tz)
        names = []
        for i, step in enumerate(routine.steps):
            name = f"{step.name} ({step.side})" if step.side else step.name
            names.append(f"{i + 1}. {name}")
            rec = StepRecord(
                i, step.kind.value, step.name, step.side, 60, active_s=60, completed=True
            )
            if step.kind.value == "press":
                trace = ForceTrace(tuple(100 + i + 10 * math.sin(k / 30) for k in range(600)), 80.0)
                store.record_step(sid, rec, "confirmed", 58.0, trace)
            else:
                store.record_step(sid, rec)
        status = "interrupted" if back == 3 else "completed"
        store.end_session(sid, status, 3, ended=started + timedelta(minutes=10))
    store.close()
    return sid, names


def test_keys_work_at_once_and_every_step_and_press_is_shown(tmp_path: Path) -> None:
    asyncio.run(_keys_and_steps(tmp_path))


async def _keys_and_steps(tmp_path: Path) -> None:
    db = tmp_path / "full.db"
    newest, names = _full_log(db)
    app = _Host(str(db))
    async with app.run_test(size=(200, 60)) as pilot:
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        await until(pilot, lambda: screen.loaded)
        options = screen.query_one("#sessions", OptionList)
        assert app.focused is options  # no Tab needed
        # The newest session's details come at once, every step, every press plotted.
        await until(pilot, lambda: f"#{newest} " in screen.detail_text)
        await until(pilot, lambda: len(screen.press_titles) == 4)
        assert [ln.split(":")[0] for ln in screen.detail_text.splitlines()[1:11]] == names
        detail = screen.query_one("#detail", Static)
        shown = str(detail.render())
        assert all(n in shown for n in names) and "10. Calf raises" in shown
        # ...and on screen at 200x60, not cut off below the fold (once laid out: the new
        # text's size is known at the next refresh, not when the text is set).
        await until(pilot, lambda: detail.region.height >= 12)
        assert detail.region.bottom <= 60 - 1
        plots = list(screen.query(".press"))
        assert len(plots) == 4 and "Psoas press (left): confirmed" in screen.press_titles[0]
        # Down picks the previous session, Up comes back; Enter brings the details in view.
        await pilot.press("down")
        await until(pilot, lambda: f"#{newest - 1} " in screen.detail_text)
        await pilot.press("up")
        await until(pilot, lambda: f"#{newest} " in screen.detail_text)
        await pilot.press("enter")
        await pilot.pause()
        assert screen.query_one("#detail-box").region.y >= 0


def _rows(svg: str) -> dict[int, str]:
    """The text of an exported screenshot, row by row, each character in its column.

    Textual's SVG clips each row and places each run of text at x = column × 12.2 px.
    """
    import html
    import re

    rows: dict[int, list[str]] = {}
    pattern = r'<text [^>]*x="([\d.]+)"[^>]*clip-path="url\(#[\w-]+-line-(\d+)\)"[^>]*>(.*?)</text>'
    for x, line, text in re.findall(pattern, svg):
        row = rows.setdefault(int(line), [])
        col = round(float(x) / 12.2)
        chars = html.unescape(text).replace("\xa0", " ")
        row.extend(" " * (col + len(chars) - len(row)))
        row[col : col + len(chars)] = chars
    return {k: "".join(v) for k, v in rows.items()}


def test_pain_plot_marks_stopped_runs_and_no_legend_sits_on_an_axis_label(tmp_path: Path) -> None:
    asyncio.run(_pain_plot(tmp_path))


async def _pain_plot(tmp_path: Path) -> None:
    import re

    db = tmp_path / "full.db"
    _full_log(db)
    app = _Host(str(db))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        await until(pilot, lambda: screen.loaded)
        await pilot.pause()
        svg = app.export_screenshot()
        region = screen.query_one("#pain").region
    (tmp_path / "history.svg").write_text(svg)
    rows = _rows(svg)
    inside = {
        k: v[region.x : region.right] for k, v in rows.items() if region.y <= k < region.bottom
    }
    text = "\n".join(inside[k] for k in sorted(inside))
    assert "• before" in text and "x after" in text and "! run stopped early" in text
    tick_rows = [v for v in inside.values() if re.match(r"\s*10(\.0)?\s*[┤│┼├]", v)]
    assert tick_rows, text  # the y axis's "10" label is drawn...
    for row in inside.values():  # ...and nothing but the title names a series
        if "before" in row or "after" in row:
            assert "Pain 0–10" in row, text
    # The interrupted run (pain 6 before, 3 after) is on the plot, marked "!".
    assert sum(row.count("!") for row in inside.values()) >= 2  # the legend and the point


def test_history_show_draws_each_press_in_the_terminal(tmp_path: Path) -> None:
    from tests.support.cli import hiphook

    db = tmp_path / "full.db"
    newest, names = _full_log(db)
    out = hiphook("history", "show", str(newest), "--db", str(db))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith(f"#{newest} ") and "pain 6→3" in lines[0]
    assert [ln.strip().split(":")[0] for ln in lines[1:11]] == names
    titles = [ln.strip() for ln in lines if "force (N) over seconds" in ln]
    assert titles == [
        f"{i}. {n}: confirmed, force (N) over seconds"
        for i, n in (
            (2, "Psoas press (left)"),
            (4, "Iliacus press (left)"),
            (6, "Psoas press (right)"),
            (8, "Iliacus press (right)"),
        )
    ]
    braille = [ln for ln in lines if any("\u2801" <= ch <= "\u28ff" for ch in ln)]
    assert len(braille) >= 4 * 6  # each curve drawn over several rows
    assert "\x1b" not in out.stdout  # plain text in a pipe
    missing = hiphook("history", "show", "999", "--db", str(db))
    assert missing.returncode == 66 and "no session #999" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_history_show_without_a_sensor_says_so(tmp_path: Path) -> None:
    from tests.support.cli import hiphook

    db = tmp_path / "plain.db"
    store = open_store(db)
    sid = store.begin_session("daily", 1, "left", None, 4, tz="UTC")
    store.record_step(
        sid, StepRecord(0, "press", "Psoas press", "left", 90, active_s=90, completed=True)
    )
    store.end_session(sid, "completed", 2)
    store.close()
    out = hiphook("history", "show", f"#{sid}", "--db", str(db))
    assert out.returncode == 0, out.stderr
    assert "1. Psoas press (left): done, 90/90 s" in out.stdout
    assert "No force traces in this session (no sensor was used)." in out.stdout
