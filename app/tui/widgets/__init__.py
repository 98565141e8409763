"""Small widgets drawn with shapes and words, so nothing depends on colour alone.

Each carries its own look (`DEFAULT_CSS`), so it looks the same whoever mounts it.
"""

from app.tui.widgets.bar import TextBar
from app.tui.widgets.bigclock import BigClock
from app.tui.widgets.line import TextLine
from app.tui.widgets.pain import PainScale

__all__ = ["BigClock", "PainScale", "TextBar", "TextLine"]
