"""`hiphook report`: the log as a report to take to a physical therapist (docs/report.md)."""
