"""The full-screen coach (Textual): Home, check-in, the routine, its summary.

Screens render the session runner's state; none of them keeps time of its own.

Textual paints dirty widgets on a timer locked to its frame rate (60 Hz by default), so a
boundary that lands just after a frame waits a whole period before it shows. 120 Hz halves
that wait; frames are only drawn when something changed, so an idle press costs no more.
Set before Textual is first imported (its constants read the environment once); a user's
own TEXTUAL_FPS wins.
"""

import os

os.environ.setdefault("TEXTUAL_FPS", "120")
