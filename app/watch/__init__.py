"""Second screens of a live run: `hiphook watch` (a terminal) and the page `serve` sends."""

# How often to look for a run while none is going on.
RETRY_S = 0.5
EXIT_NO_RUN = 69  # sysexits EX_UNAVAILABLE: `--once` and no run to follow
