"""The one error the store raises, with the exit code a command should end with.

Callers (CLI, TUI) print `str(err)` and exit with `err.exit_code`; no traceback is
ever needed to understand a store problem, so none should be shown.
"""

from __future__ import annotations

# The run ended, but some of its steps could not be written to the log: they are in a
# recovery file (`hiphook import` takes them back). Not a sysexits code: the run itself
# went well, and scripts must not mistake it for a log that could not even be opened.
EXIT_LOG_INCOMPLETE = 3

# sysexits.h codes, so scripts can tell a busy database from a broken one.
EXIT_DATAERR = 65  # corrupt database, or a file to import that is not valid
EXIT_NOINPUT = 66  # a file to import that does not exist or cannot be read
EXIT_CANTCREAT = 73  # the database (or its folder) cannot be created
EXIT_IOERR = 74  # disk full, I/O error
EXIT_TEMPFAIL = 75  # locked by another program: try again later
EXIT_NOPERM = 77  # read-only database or folder
EXIT_CONFIG = 78  # written by a newer hiphook, or not a hiphook database at all


class StoreError(Exception):
    """A database problem explained in words a runner can act on."""

    def __init__(self, message: str, exit_code: int = EXIT_DATAERR) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message
