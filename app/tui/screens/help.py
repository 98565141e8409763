"""Every key in one place, and the one statement that this is not medical advice."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from app.tui.screens.checkin import CheckInScreen
from app.tui.screens.confirm import QuitConfirm
from app.tui.screens.home import HomeScreen
from app.tui.screens.routine import RoutineScreen
from app.tui.screens.summary import SummaryScreen
from app.tui.widgets import PainScale

# Each section: a screen and the widget that holds the focus there (its keys win).
SECTIONS: tuple[tuple[str, type[Screen[Any]], tuple[type[DOMNode], ...]], ...] = (
    ("Home", HomeScreen, ()),
    ("Check-in", CheckInScreen, (PainScale,)),
    ("During the routine", RoutineScreen, ()),
    ("Asked whether to stop", QuitConfirm, ()),
    ("Summary", SummaryScreen, (PainScale,)),
)
ANYWHERE = "Anywhere but in a question"
IN_A_QUESTION = "In a question too"  # a dialog holds every key but Textual's own
KEY_NAMES = {
    "space": "Space",
    "enter": "Enter",
    "escape": "Esc",
    "right": "→",
    "left": "←",
    "up": "↑",
    "down": "↓",
    "question_mark": "?",
    "tab": "Tab",
}
# Keys that every screen has (Textual's own, and help) in words that fit here.
ACTION_WORDS = {
    "app.help": "this help",
    "app.focus_next": "move to the next field",
    "app.focus_previous": "move to the previous field",
    "screen.copy_text": "copy the selected text",
    "quit": "close hiphook at once (the run so far is kept, marked as interrupted)",
}


@dataclass(frozen=True)
class KeyLine:
    """One line of the help: the keys that do one thing, and what it is."""

    keys: tuple[str, ...]  # the keys as bound ("n", "right")
    shown: str  # as a person reads them ("n or →")
    what: str


def key_name(key: str) -> str:
    if key in KEY_NAMES:
        return KEY_NAMES[key]
    if "+" not in key:
        return key
    return "+".join(part.capitalize() for part in key.split("+"))


def either(names: list[str]) -> str:
    """ "n", "n or →", "n, Esc or q"."""
    names = list(dict.fromkeys(names))
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _words(b: Binding) -> str:
    return ACTION_WORDS.get(b.action) or b.tooltip or b.description


def merged(*nodes: type[DOMNode]) -> dict[str, Binding]:
    """Key -> binding as Textual resolves them: a later node (the focused widget) wins."""
    out: dict[str, Binding] = {}
    for node in nodes:
        for key, bindings in node._merge_bindings().key_to_bindings.items():
            out[key] = bindings[0]
    return {k: b for k, b in out.items() if not b.system}


def key_lines(bindings: dict[str, Binding]) -> list[KeyLine]:
    """Keys grouped by what they do; a family like 0-9 shows as its one key_display."""
    groups: dict[tuple[str, str], list[tuple[str, Binding]]] = {}
    for key, b in bindings.items():
        groups.setdefault((b.action.split("(")[0], _words(b)), []).append((key, b))
    out = []
    for (_action, what), members in groups.items():
        displays = [b.key_display for _k, b in members if b.key_display]
        family = len({b.action for _k, b in members}) > 1
        if family and displays:
            shown = displays[0]
        else:
            shown = either([b.key_display or key_name(k) for k, b in members])
        out.append(KeyLine(tuple(k for k, _b in members), shown, what))
    return out


def screen_bindings(
    screen: type[Screen[Any]], widgets: tuple[type[DOMNode], ...]
) -> dict[str, Binding]:
    """A screen's own keys and its focused widget's, without the ones every screen has."""
    common = merged(Screen)
    return {
        k: b
        for k, b in merged(screen, *widgets).items()
        if not (k in common and common[k].action == b.action)
    }


def anywhere_bindings(app: type[DOMNode]) -> dict[str, Binding]:
    """The app's keys, which a dialog (a modal screen) does not pass on."""
    return merged(app)


def listed_keys(title: str, app: type[DOMNode]) -> set[str]:
    """Every key the help says works on the screen of section `title`."""
    sections = dict(help_sections(app))
    [screen] = [s for t, s, _w in SECTIONS if t == title]
    shared = [*sections[IN_A_QUESTION]]
    if not issubclass(screen, ModalScreen):
        shared += sections[ANYWHERE]
    return {k for line in [*sections[title], *shared] for k in line.keys}


def help_sections(app: type[DOMNode]) -> list[tuple[str, list[KeyLine]]]:
    """What the help shows, from the bindings themselves: it cannot drift from them."""
    sections = [(title, key_lines(screen_bindings(s, w))) for title, s, w in SECTIONS]
    return [
        *sections,
        (ANYWHERE, key_lines(anywhere_bindings(app))),
        (IN_A_QUESTION, key_lines(merged(Screen))),
    ]


NOT_ADVICE = (
    "hiphook helps you keep a routine; it is not medical advice. If pain is strong, "
    "sharp, or does not ease, stop and see a physical therapist or a doctor."
)


def help_text(app: type[DOMNode], here: type[Screen[Any]] | None = None) -> str:
    """The statement first, then the keys of the screen the help was opened on (`here`),
    then the others: at 80 x 24 what matters is seen without scrolling."""
    sections = help_sections(app)
    first = [t for t, s, _w in SECTIONS if here is not None and issubclass(here, s)]
    sections.sort(key=lambda section: section[0] not in first)
    width = max(len(line.shown) for _title, keys in sections for line in keys)
    lines = [NOT_ADVICE, ""]
    for section, keys in sections:
        lines.append(f"[b]{section}[/b]")
        lines.extend(f"  {line.shown:<{width}}  {escape(line.what)}" for line in keys)
    lines.append("Esc closes this help.")
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    CSS_PATH = Path(__file__).with_name("help.tcss")  # absolute: subclasses elsewhere
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
        Binding("enter", "close", "Close", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.here: type[Screen[Any]] = type(self.app.screen)  # made before it is pushed

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(help_text(type(self.app), self.here), id="keys")

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "Keys (Esc to close)"

    def action_close(self) -> None:
        self.dismiss(None)
