"""Choose the routine Home starts: the built-ins and the user's own files, or any path.

The user's files are the `.toml` files in the routines folder beside the settings (on
Linux ~/.config/hiphook/routines/), the files picked here before, and the remembered
one. Every file is read and checked on a thread, so a slow or missing disk never holds
the screen, and a broken file is listed with what is wrong with it instead of hidden.
The screen hands back the chosen routine's source (a built-in's name or a file's
absolute path) with `dismiss`, or None when the user backs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from app.core.routine import Routine, builtin_names
from app.runner import format_clock
from app.session import routine_source, try_routine
from app.settings import settings_path

MAX_RECENT = 8  # files remembered in the settings besides the current choice


def routines_dir() -> Path:
    """Where the user's own routine files are looked for, beside the settings file."""
    return settings_path().parent / "routines"


def shown_path(source: str, limit: int = 60) -> str:
    """A file as a person reads it: under the home folder as ~/..., and a long path cut
    at the front, where it says least."""
    path = Path(source)
    try:
        text = f"~/{path.relative_to(Path.home())}"
    except ValueError:
        text = source
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


@dataclass(frozen=True)
class RoutineEntry:
    """One routine the user can pick: loaded, or the reason it cannot be used."""

    source: str  # a built-in's name or a file's absolute path
    routine: Routine | None
    problem: str | None = None

    @property
    def is_file(self) -> bool:
        return self.source not in builtin_names()

    def label(self) -> str:
        """One line: title and length, and where a file lives; or what is wrong."""
        where = f"  {shown_path(self.source, 40)}" if self.is_file else ""
        if self.routine is None:
            return f"✗ {shown_path(self.source)} cannot be used: {self.problem}"
        return f"{self.routine.title} — about {format_clock(self.routine.total_s)}{where}"


def check_routine(source: str) -> RoutineEntry:
    """Load one routine and say how it went; reads the disk, so call it on a thread."""
    routine, why = try_routine(source)
    return RoutineEntry(source, routine, why)


def known_sources(current: str, recent: Sequence[str], folder: Path) -> list[str]:
    """Built-ins first, then the current choice, the folder's files and the recent ones,
    each once; reads the folder, so call it on a thread."""
    out = list(builtin_names())
    try:
        found = sorted(str(p.absolute()) for p in folder.glob("*.toml") if p.is_file())
    except OSError:
        found = []
    for source in (current, *found, *recent):
        if source and source not in out:
            out.append(source)
    return out


def recent_after(chosen: str, previous: str, recent: Sequence[str]) -> list[str]:
    """The recent files after a pick: the chosen and the previous file first, no repeats."""
    out: list[str] = []
    for source in (chosen, previous, *recent):
        if source and source not in builtin_names() and source not in out:
            out.append(source)
    return out[:MAX_RECENT]


def resolve_typed(text: str) -> str:
    """A typed path as it will be remembered: ~ expanded, made absolute."""
    return routine_source(text.strip())


class RoutinePicker(ModalScreen[str | None]):
    CSS_PATH = Path(__file__).with_name("picker.tcss")
    BINDINGS = [Binding("escape", "cancel", "Back")]

    class Listed(Message):
        """The known routines were read and checked (on a thread)."""

        def __init__(self, entries: list[RoutineEntry]) -> None:
            super().__init__()
            self.entries = entries

    class Checked(Message):
        """A typed path was read and checked (on a thread)."""

        def __init__(self, entry: RoutineEntry) -> None:
            super().__init__()
            self.entry = entry

    def __init__(self, current: str, recent: Sequence[str]) -> None:
        super().__init__()
        self.current = current
        self.recent = list(recent)
        self.entries: list[RoutineEntry] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static("Which routine should Enter start?", id="heading")
            yield OptionList(Option("reading the routines…", disabled=True), id="routines")
            yield Static(
                f"Your own routines: .toml files in {escape(shown_path(str(routines_dir())))}"
                ", or type a file's path below (Tab to get there).",
                id="where",
            )
            yield Input(placeholder="path of a routine file, then Enter", id="path")
            yield Static(id="problem")
            yield Static("↑ ↓ and Enter pick · Esc goes back unchanged", id="keys")

    def on_mount(self) -> None:
        self.query_one("#picker").border_title = "Routine"
        self.list_routines()

    @work(thread=True, exclusive=True, group="picker-list")
    def list_routines(self) -> None:
        sources = known_sources(self.current, self.recent, routines_dir())
        self.post_message(self.Listed([check_routine(s) for s in sources]))

    @on(Listed)
    def _listed(self, message: Listed) -> None:
        self.entries = message.entries
        options = self.query_one("#routines", OptionList)
        options.clear_options()
        for i, entry in enumerate(self.entries):
            text = Text(entry.label())  # wraps: a broken file's reason is read whole
            if entry.source == self.current:
                text.append("  (now)", style="bold")
            options.add_option(Option(text, id=str(i), disabled=entry.routine is None))
        sources = [e.source for e in self.entries]
        if self.current in sources and self.entries[sources.index(self.current)].routine:
            options.highlighted = sources.index(self.current)

    @on(OptionList.OptionSelected, "#routines")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.dismiss(self.entries[int(event.option.id)].source)

    @on(Input.Submitted, "#path")
    def _typed(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self._say("Type the path of a .toml routine file, or pick one from the list.")
            return
        self._say("Reading the file…")
        self.check_typed(resolve_typed(event.value))

    @work(thread=True, exclusive=True, group="picker-check")
    def check_typed(self, source: str) -> None:
        self.post_message(self.Checked(check_routine(source)))

    @on(Checked)
    def _checked(self, message: Checked) -> None:
        entry = message.entry
        if entry.routine is not None:
            self.dismiss(entry.source)
            return
        self._say(
            f"{shown_path(entry.source)} cannot be used: {entry.problem}. "
            "Mend it (hiphook routine show FILE names the line) or type another path."
        )

    def _say(self, text: str) -> None:
        self.query_one("#problem", Static).update(escape(text))

    def action_cancel(self) -> None:
        self.dismiss(None)
