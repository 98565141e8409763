"""Home: has today been done, the streak, the week, and what Enter will start."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Static
from textual.worker import get_current_worker

from app.core.progression import RunEvidence, by_evidence
from app.core.routine import SIDES, Routine, RoutineError, builtin_names
from app.runner import format_clock
from app.session import RunOptions, prepare_routine, remembered_routine
from app.settings import Settings
from app.tui.homedata import HomeData, HomeLoader, safe_load
from app.tui.screens.picker import RoutinePicker, recent_after, shown_path
from app.tui.widgets.sensor_choice import SensorChoice, default_probe

DAY_MARKS = {True: "✓", False: "·", None: "?"}
# The package's routines, listed once as this loads (before the loop): Home repaints its
# Routine row on the loop, which lists no folder.
BUILTIN_NAMES = frozenset(builtin_names())
LABEL_W = 13


def _row(label: str, value: str) -> str:
    return f"[b]{label:<{LABEL_W}}[/b]{value}"


def week_lines(end: dt.date, last7: tuple[bool | None, ...]) -> list[str]:
    """Day names over marks (the days end at `end`), in columns of three; words, not colours."""
    if not last7 or all(d is None for d in last7):
        return [_row("Last 7 days", "no history yet")]
    days = [end - dt.timedelta(days=len(last7) - 1 - i) for i in range(len(last7))]
    names = " ".join(d.strftime("%a")[:2] for d in days)
    marks = " ".join(f"{DAY_MARKS[m]} " for m in last7)
    return [_row("Last 7 days", names), _row("", f"{marks}  (✓ done  · missed)")]


@dataclass(frozen=True)
class RoutineChoice:
    """What Enter on Home starts: the remembered routine, or the built-in that stands in
    for it and why (read on a thread: a user's file may be on a slow disk)."""

    routine: Routine
    problem: str | None = None

    @classmethod
    def read(cls, remembered: str) -> RoutineChoice:
        routine, problem = remembered_routine(remembered)
        return cls(routine, problem)


def routine_lines(remembered: str, choice: RoutineChoice | None) -> list[str]:
    """The Routine row: title and length (and the file it comes from), or, when the
    remembered routine cannot be used, what is wrong and what Enter starts instead."""
    if choice is None:
        return [_row("Routine", "reading…")]
    about = f"{escape(choice.routine.title)} — about {format_clock(choice.routine.total_s)}"
    if choice.problem is not None:
        return [
            _row("Routine", f"{escape(shown_path(remembered, 44))}   (r to change)"),
            _row("", f"cannot be used: {escape(choice.problem)}"),
            _row("", f"Enter starts {about} instead."),
        ]
    rows = [_row("Routine", f"{about}   (r to change)")]
    if remembered not in BUILTIN_NAMES:
        rows.append(_row("", f"file {escape(shown_path(remembered, 54))}"))
    return rows


def home_lines(
    today: dt.date, data: HomeData, settings: Settings, choice: RoutineChoice | None = None
) -> list[str]:
    today_text = {True: "done ✓", False: "not done yet", None: "no history yet"}[data.done_today]
    if data.streak_days is None:
        streak = "no history yet"
    else:
        streak = f"{data.streak_days} day{'s' if data.streak_days != 1 else ''}"
    routine_rows = routine_lines(settings.routine, choice)
    sided = choice is not None and choice.routine.sided
    if settings.side:
        side = settings.side
    elif choice is None:
        side = "…"
    else:
        side = "not chosen yet — press s" if sided else "not needed for this routine"
    lines = [
        _row("Today", f"{today:%A %d %B}: {today_text}"),
        _row("Streak", streak),
        *week_lines(data.last7_end or today, data.last7),
    ]
    last = data.last_session_text()
    if last:
        lines.append(_row("Last session", escape(last)))
    lines += [
        "",
        *routine_rows,
        _row("Tight side", f"{side}   (s to change)"),
        _row("Reminder", escape(data.next_reminder) if data.next_reminder else "none set"),
    ]
    if data.problem:
        lines += ["", f"Note: {escape(data.problem)}"]
    return lines


class HomeScreen(Screen[None]):
    class StartRequested(Message):
        """A routine was resolved for a side: the app runs the check-in, then the run."""

        def __init__(self, routine: Routine, side: str | None, options: RunOptions) -> None:
            """`options`: this run's: how the coach was opened, with Home's sensor choice."""
            super().__init__()
            self.routine = routine
            self.side = side
            self.options = options

    CSS_PATH = Path(__file__).with_name("home.tcss")  # absolute: subclasses elsewhere
    BINDINGS = [
        Binding("enter", "start", "Start", tooltip="start the routine (the check-in first)"),
        Binding(
            "r", "pick_routine", "Routine", tooltip="choose the routine: a built-in or your file"
        ),
        Binding("s", "toggle_side", "Side", tooltip="change the tight side"),
        Binding(
            "c",
            "next_sensor",
            "Sensor",
            tooltip="the force sensor: none, auto, a port or the simulator",
        ),
        Binding("h", "history", "History", tooltip="your history, from the session log"),
        Binding("question_mark", "app.help", "Help", key_display="?"),
        Binding("q", "app.quit", "Quit", tooltip="leave hiphook"),
    ]

    def __init__(
        self,
        today: dt.date,
        loader: HomeLoader,
        options: RunOptions | None = None,
        settings: Settings | None = None,
    ) -> None:
        """`options`: how the coach was opened (log, sensor, time scale); the routine
        and side come from the remembered `settings`, the app's, read before its event
        loop ran (a host that has none, such as a test's, reads them here)."""
        super().__init__()
        self.today = today
        self.loader = loader
        self.options = options or RunOptions()
        self.store_url = self.options.db
        self.settings = settings if settings is not None else Settings.load()
        # Each change is saved on a thread; the newest state is written, however the
        # threads race (changes made, the last one written, under the lock).
        self._changes = 0
        self._written = 0
        self._save_lock = threading.Lock()
        self.data = HomeData()
        self.loaded = False
        self.choice: RoutineChoice | None = None
        # Progression by evidence: the log's runs of the remembered routine, read with
        # the rest off the loop (None: not read, or the routine has no progression).
        self.runs: tuple[str, list[RunEvidence]] | None = None  # (routine name, its runs)
        self.progress_reason = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="body"):
            yield Static("hiphook — your daily hip-flexor release", id="title")
            yield Static(id="status")
            yield self.sensor_choice()
            with Center():
                start = Button("Start the routine (Enter)", id="start", variant="primary")
                start.can_focus = False  # Enter belongs to the screen (shown in the footer)
                yield start
        yield Footer()

    class ChoiceRead(Message):
        """The remembered routine was read and checked (on a thread)."""

        def __init__(self, choice: RoutineChoice) -> None:
            super().__init__()
            self.choice = choice

    def sensor_choice(self) -> SensorChoice:
        """The Sensor line: the remembered choice, probed with this run's port options."""
        probe = default_probe(
            self.settings.pressure_band().calibrated,
            self.options.baud,
            self.options.diy_scale * 100,
        )
        return SensorChoice(self.settings.sensor or "none", probe=probe, id="sensor")

    def on_mount(self) -> None:
        self.show()

    def on_screen_resume(self) -> None:
        """Shown (first, or again after a run): read the log afresh, once this frame is
        drawn (the loaders' threads would slow it down, taking turns with it)."""
        self.call_after_refresh(self._load)

    def _load(self) -> None:
        self.load_history()
        self.read_choice()
        self.load_progress()

    @work(thread=True, exclusive=True, group="home-routine")
    def read_choice(self) -> None:
        self.post_message(self.ChoiceRead(RoutineChoice.read(self.settings.routine)))

    @on(ChoiceRead)
    def _choice_read(self, message: ChoiceRead) -> None:
        self.choice = message.choice
        self.show()

    class HomeLoaded(Message):
        """The history loader finished (it runs in a thread after the first paint)."""

        def __init__(self, data: HomeData) -> None:
            super().__init__()
            self.data = data

    @work(thread=True, exclusive=True, group="home-data")
    def load_history(self) -> None:
        """Off the event loop: a real log imports the database layer (~0.8 s)."""
        self.post_message(self.HomeLoaded(safe_load(self.loader, self.today, self.store_url)))

    @work(thread=True, exclusive=True, group="home-progress")
    def load_progress(self) -> None:
        """Off the loop: the remembered routine's runs in the log, and what they decide."""
        routine, _why = remembered_routine(self.settings.routine)
        if routine.progression is None:
            return
        from app.store.progress import evidence_loader  # lazy: the store only for this

        runs = evidence_loader(self.store_url)(routine.name)
        if runs is None:
            return
        reason = by_evidence(routine.progression, runs, self.today).reason
        self.app.call_from_thread(self._progress_loaded, (routine.name, runs), reason)

    def _progress_loaded(self, runs: tuple[str, list[RunEvidence]], reason: str) -> None:
        self.runs, self.progress_reason = runs, reason
        self.show()

    @on(HomeLoaded)
    def _loaded(self, message: HomeLoaded) -> None:
        self.data = message.data
        self.loaded = True
        self.show()

    def show(self) -> None:
        lines = home_lines(self.today, self.data, self.settings, self.choice)
        if self.progress_reason:
            lines.append(_row("Presses", escape(self.progress_reason)))
        self.query_one("#status", Static).update("\n".join(lines))

    def _save(self) -> None:
        """Keep the settings as they are now, written on a thread (never on the loop)."""
        self._changes += 1
        self.save_settings(self._changes, dataclasses.replace(self.settings))

    @work(thread=True, group="home-save")
    def save_settings(self, change: int, settings: Settings) -> None:
        with self._save_lock:
            if change <= self._written:
                return  # a newer state is written already
            problem = settings.save()
            self._written = change
        if problem:
            self.app.call_from_thread(self.notify, problem, severity="warning")

    # ------------------------------------------------------------------ actions
    def action_toggle_side(self) -> None:
        current = self.settings.side
        self.settings.side = SIDES[(SIDES.index(current) + 1) % 2] if current else SIDES[0]
        self._save()
        self.show()

    def action_next_sensor(self) -> None:
        self.settings.sensor = self.query_one(SensorChoice).cycle()
        self._save()

    def action_pick_routine(self) -> None:
        recent = (self.settings.recent_routines or "").splitlines()
        self.app.push_screen(RoutinePicker(self.settings.routine, recent), self._picked)

    def _picked(self, source: str | None) -> None:
        if source is None:
            return
        recent = recent_after(
            source, self.settings.routine, (self.settings.recent_routines or "").splitlines()
        )
        self.settings.recent_routines = "\n".join(recent) or None
        self.settings.routine = source
        self._save()
        self.choice = None
        self.runs, self.progress_reason = None, ""
        self.show()
        self.read_choice()
        self.load_progress()

    def action_history(self) -> None:
        try:
            # lazy: plotext, for History's plots, loads when History first opens
            from app.tui.screens.history import HistoryScreen
        except ImportError as exc:  # history needs the plotting extra; the coach does not
            self.notify(f"History is not available: {exc}", severity="warning")
            return
        self.app.push_screen(HistoryScreen(self.store_url, today=self.today))

    def action_start(self) -> None:
        run = dataclasses.replace(self.options, sensor=self.query_one(SensorChoice).run_spec)
        self.resolve_start(run, dataclasses.replace(self.settings), self.runs)

    @work(thread=True, exclusive=True, group="home-start")
    def resolve_start(
        self,
        run: RunOptions,
        settings: Settings,
        loaded: tuple[str, list[RunEvidence]] | None,
    ) -> None:
        """On a thread, as `hiphook run` resolves it: the routine (a user's file is read
        again, it may have changed), the side, the progression from the runs read."""
        remembered = dataclasses.replace(run, routine=None, side=None)
        evidence = None
        if loaded is not None:  # the runs read for the routine now remembered, if so
            evidence = lambda name: loaded[1] if name == loaded[0] else None  # noqa: E731
        try:
            routine, side, _notes = prepare_routine(remembered, settings, None, evidence)
        except RoutineError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        except ValueError:
            words = "Which hip is tight? Press s to choose it, then Enter."
            self.app.call_from_thread(self.notify, words, severity="warning")
            return
        if get_current_worker().is_cancelled:  # a later Enter resolves it again: one start
            return
        self.app.call_from_thread(self._start_resolved, routine, side, run, settings)

    def _start_resolved(
        self, routine: Routine, side: str | None, run: RunOptions, settings: Settings
    ) -> None:
        """What the resolution remembered (the side, a beginner's first day) is kept."""
        self.settings.side = settings.side
        self.settings.beginner_started = settings.beginner_started
        self._save()
        self.post_message(self.StartRequested(routine, side, run))

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start()
