"""Keep every test away from the user's real settings, session log and sound cache;
and give the audio tests a real sound server."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

# No per-example time limit: on a loaded machine (or beside another xdist worker) a slow
# example is the machine, not the code; speed is measured in bench/, never asserted here.
settings.register_profile("hiphook", deadline=None)
settings.load_profile("hiphook")

if TYPE_CHECKING:
    from tests.support.pulse import PulseServer


def pytest_configure(config: pytest.Config) -> None:
    """Let Ctrl-C reach the programs the tests start, however pytest itself was started.

    A shell starts a background job with SIGINT ignored, and an ignored signal stays
    ignored across exec, so a child Python would never see KeyboardInterrupt and the
    Ctrl-C tests would hang. A handler (unlike "ignore") is reset to the default on
    exec, so installing Python's own here gives every child a normal Ctrl-C.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HIPHOOK_CONFIG", str(tmp_path / "settings.json"))
    monkeypatch.setenv("HIPHOOK_DB", str(tmp_path / "hiphook.db"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HIPHOOK_RUNTIME_DIR", str(tmp_path / "run"))  # simulators announced
    # Each test's runs publish in a folder of their own (app/publish), kept short: a
    # socket's path has at most 107 bytes, and tmp_path can be longer than that.
    runtime = tempfile.mkdtemp(prefix="hh-rt-")
    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    yield
    shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _sound_server_of_this_worker() -> Iterator[None]:
    """Under pytest-xdist, a private sound server for each worker, set for the whole worker.

    The audio tests record what a null sink plays. Two workers sharing one server would
    hear each other's cues (a plain run in one worker, a recording in the other), so each
    worker gets its own: the tests within a worker run one at a time, as a serial run
    does with the server `.ci/run` starts. Without pulseaudio nothing is started here;
    `pulse_server` then says why the audio tests cannot run.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield
        return
    from tests.support.pulse import PulseMissing, PulseServer

    try:
        server = PulseServer.start()
    except PulseMissing:
        yield
        return
    saved = {k: os.environ.get(k) for k in server.env}
    os.environ.update(server.env)
    try:
        yield
    finally:
        _restore(saved)
        server.stop()


def _restore(saved: dict[str, str | None]) -> None:
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def pulse_server() -> Iterator[PulseServer]:
    """The PulseAudio server named by $PULSE_SERVER (CI starts one), or a private one
    started here with a null sink as its default. Skips only when pulseaudio is missing;
    in CI (CI=true) a missing server fails instead."""
    from tests.support.pulse import PulseMissing, PulseServer

    server = PulseServer.existing()
    if server is None:
        try:
            server = PulseServer.start()
        except PulseMissing as exc:
            if os.environ.get("CI") == "true":
                pytest.fail(f"CI must have a sound server: {exc}")
            pytest.skip(f"no sound server for the audio tests: {exc}")
    saved = {k: os.environ.get(k) for k in server.env}
    os.environ.update(server.env)
    try:
        yield server
    finally:
        _restore(saved)
        if server.owned:
            server.stop()
