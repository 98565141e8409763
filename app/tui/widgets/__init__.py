"""Small widgets drawn with shapes and words, so nothing depends on colour alone."""

from app.tui.widgets.bar import TextBar
from app.tui.widgets.bigclock import BigClock
from app.tui.widgets.pain import PainScale

__all__ = ["BigClock", "PainScale", "TextBar"]
