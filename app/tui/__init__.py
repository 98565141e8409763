"""The full-screen coach (Textual): Home, check-in, the routine, its summary.

Screens render the session runner's state; none of them keeps time of its own.
"""
