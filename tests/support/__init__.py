"""Helpers shared by the tests: real servers, waiting for states, the TUI driver."""
