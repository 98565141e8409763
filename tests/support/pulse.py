"""A private PulseAudio server with a null sink, and a recorder of what that sink plays.

Shared by the audio tests and `bench/bench_cues.py`: what the ear would get is what the
null sink renders, so its monitor is recorded with `parec` at 5 ms latency and every chunk
is time-stamped on the monotonic clock as it arrives. Sample `i` of the recording was
rendered at `t0 + i / rate`, where `t0` is the lower envelope of (arrival - frames
before the chunk / rate) over all chunks: the chunk that waited least in buffers says
where the timeline lies. The null sink renders up to its latency (5 ms here) ahead of
its clock, so a block's last sample can reach the monitor before it is due, but its
first one cannot: hence the chunk's first frame. Any delay left after that (a fraction
of a millisecond) only makes onsets look later than they were, never earlier.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SINK = "hiphook_null"
RATE = 48000
# Found once, at import: a test may run the app with a PATH that lacks the sound tools.
PAREC = shutil.which("parec") or "parec"
PACTL = shutil.which("pactl") or "pactl"

_SCRIPT = """\
load-module module-null-sink sink_name={sink} rate={rate} channels=2 \
sink_properties=device.description={sink}
set-default-sink {sink}
load-module module-native-protocol-unix auth-anonymous=1 socket={socket}
"""


def _die_with_parent() -> None:
    """In the child: let the kernel stop the server when the test process dies, however
    it dies (a killed pytest must not leave a sound server behind)."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class PulseMissing(RuntimeError):
    """No pulseaudio program, or a server that would not start; str() says which."""


def _pactl_ok(env: dict[str, str], timeout: float = 2.0) -> bool:
    try:
        done = subprocess.run(
            [PACTL, "info"], env=env, capture_output=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@dataclass
class PulseServer:
    """One private server: its own runtime dir, a null sink as default, no autospawn."""

    root: Path
    proc: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)
    monitor: str = f"{SINK}.monitor"
    owned: bool = True

    @classmethod
    def start(cls, root: Path | None = None, timeout: float = 10.0) -> PulseServer:
        exe = shutil.which("pulseaudio")
        if exe is None:
            raise PulseMissing(
                "pulseaudio is not installed (apt-get install pulseaudio pulseaudio-utils)"
            )
        if shutil.which("pactl") is None or shutil.which("parec") is None:
            raise PulseMissing("pactl/parec are missing (apt-get install pulseaudio-utils)")
        root = Path(root or tempfile.mkdtemp(prefix="hiphook-pulse-"))
        for sub in ("run", "state", "home"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        socket = root / "run" / "native"
        script = root / "server.pa"
        script.write_text(_SCRIPT.format(sink=SINK, rate=RATE, socket=socket))
        env = dict(os.environ)
        env.update(
            PULSE_RUNTIME_PATH=str(root / "run"),
            PULSE_STATE_PATH=str(root / "state"),
            HOME=str(root / "home"),
            PULSE_SERVER=f"unix:{socket}",
        )
        env.pop("DISPLAY", None)
        log = open(root / "pulse.log", "wb")  # noqa: SIM115 - kept open for the server
        # -n: no default script (nothing probes real cards or the network);
        # --system=false and --daemonize=no are what lets root run a private server.
        proc = subprocess.Popen(
            [
                exe,
                "--daemonize=no",
                "--system=false",
                "-n",
                "-F",
                str(script),
                "--exit-idle-time=-1",
                "--disable-shm=yes",
                "--use-pid-file=no",
                "--log-target=stderr",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log.close()
        server = cls(
            root=root,
            proc=proc,
            env={
                "PULSE_SERVER": env["PULSE_SERVER"],
                "PULSE_RUNTIME_PATH": env["PULSE_RUNTIME_PATH"],
            },
        )
        atexit.register(server.stop)  # never leave a server behind a crashed script
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if proc.poll() is not None:
                text = (root / "pulse.log").read_text(errors="replace")[-600:]
                raise PulseMissing(f"pulseaudio exited at start ({proc.returncode}): {text}")
            if _pactl_ok(server.full_env()):
                return server
            time.sleep(0.05)
        server.stop()
        raise PulseMissing(f"pulseaudio did not answer within {timeout:.0f} s")

    @classmethod
    def existing(cls) -> PulseServer | None:
        """The server named by $PULSE_SERVER (CI starts one), if it answers."""
        if not os.environ.get("PULSE_SERVER") or shutil.which("pactl") is None:
            return None
        env = dict(os.environ)
        if not _pactl_ok(env):
            return None
        sink = (
            subprocess.run(
                [PACTL, "get-default-sink"], env=env, capture_output=True, text=True, check=False
            ).stdout.strip()
            or SINK
        )
        keep = {k: os.environ[k] for k in ("PULSE_SERVER", "PULSE_RUNTIME_PATH") if k in os.environ}
        return cls(
            root=Path(tempfile.gettempdir()), env=keep, monitor=f"{sink}.monitor", owned=False
        )

    def full_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.env)
        return env

    def alive(self) -> bool:
        return _pactl_ok(self.full_env())

    def kill(self) -> None:
        """Kill the server hard, as a crash would (tests of a server lost mid-run)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=5)

    def stop(self) -> None:
        keeper = _keepers.pop(self.env.get("PULSE_SERVER", "") + self.monitor, None)
        if keeper is not None:
            _stop(keeper)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.owned:
            shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Recording:
    """Mono samples of the sink's monitor and the monotonic time of sample 0.

    `t0` is the envelope over the whole recording; with the chunks' start frames and
    their local envelopes (over a few seconds around each chunk), sample times follow a
    gap (parec losing samples on a loaded machine) instead of shifting everything after it.
    """

    samples: np.ndarray
    t0: float
    rate: int
    chunk_starts: np.ndarray | None = None  # first frame of each chunk
    chunk_t0: np.ndarray | None = None  # local t0 of each chunk

    @property
    def timeline_shift_ms(self) -> float:
        """How far the local envelope moved over the recording (samples lost, or drift)."""
        if self.chunk_t0 is None or not self.chunk_t0.size:
            return 0.0
        return float((self.chunk_t0.max() - self.chunk_t0.min()) * 1000)

    def times(self, frames: np.ndarray) -> np.ndarray:
        """Monotonic times of sample indices."""
        if self.chunk_starts is None or self.chunk_t0 is None or not self.chunk_t0.size:
            return self.t0 + frames / self.rate
        k = np.clip(
            np.searchsorted(self.chunk_starts, frames, side="right") - 1, 0, len(self.chunk_t0) - 1
        )
        return self.chunk_t0[k] + frames / self.rate

    def index(self, t: float) -> int:
        """The sample heard at monotonic time `t` (inverse of `times`)."""
        if self.chunk_starts is None or self.chunk_t0 is None or not self.chunk_t0.size:
            return int((t - self.t0) * self.rate)
        starts_t = self.chunk_t0 + self.chunk_starts / self.rate
        k = int(np.clip(np.searchsorted(starts_t, t, side="right") - 1, 0, len(starts_t) - 1))
        return int((t - self.chunk_t0[k]) * self.rate)

    def onsets(self, threshold: float = 0.02, min_gap_s: float = 0.04) -> np.ndarray:
        """Monotonic times where sound starts after at least `min_gap_s` of silence."""
        loud = np.flatnonzero(np.abs(self.samples.astype(np.int32)) > threshold * 32767)
        if loud.size == 0:
            return np.empty(0)
        gaps = np.diff(loud) > int(min_gap_s * self.rate)
        starts = np.concatenate(([loud[0]], loud[1:][gaps]))
        return self.times(starts)

    def match(
        self, expected: list[float], early_s: float = 0.05, late_s: float = 0.25
    ) -> list[float | None]:
        """For each expected time, the first onset in [e - early_s, e + late_s], as the
        error in seconds (positive: heard late), or None when nothing was heard there."""
        found = self.onsets()
        out: list[float | None] = []
        for e in expected:
            hits = found[(found >= e - early_s) & (found <= e + late_s)]
            out.append(float(hits[0] - e) if hits.size else None)
        return out

    def loud_between(self, start: float, end: float, threshold: float = 0.02) -> bool:
        i = max(0, self.index(start))
        j = max(i, self.index(end))
        seg = self.samples[i:j]
        return bool(seg.size and np.abs(seg.astype(np.int32)).max() > threshold * 32767)


# An idle null sink renders in 2 s blocks: a new recording's first chunk waits for the
# block under way (~2 s per test). One quiet listener at 250 ms keeps the blocks short
# (~0.4% of a core for the server) from the first recording to the end of the process
# (only a process that records pays it); the sink is suspended and resumed once it
# listens, so the 2 s block under way ends too.
KEEPER_LATENCY_MS = 250
_keepers: dict[str, subprocess.Popen[bytes]] = {}


def _listening(server: PulseServer, pid: int) -> bool:
    done = subprocess.run(
        [PACTL, "list", "source-outputs"],
        env=server.full_env(),
        capture_output=True,
        text=True,
        timeout=5,
        check=False,
    )
    return f'application.process.id = "{pid}"' in done.stdout


def keep_awake(server: PulseServer, timeout: float = 3.0) -> None:
    """Start the listener for this server's monitor, once; it dies with this process."""
    key = server.env.get("PULSE_SERVER", "") + server.monitor
    proc = _keepers.get(key)
    if proc is not None and proc.poll() is None:
        return
    env = server.full_env()
    proc = subprocess.Popen(
        [PAREC, "--raw", f"--latency-msec={KEEPER_LATENCY_MS}", "-d", server.monitor],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )
    _keepers[key] = proc
    atexit.register(_stop, proc)
    end = time.monotonic() + timeout
    while not _listening(server, proc.pid):
        if time.monotonic() > end or proc.poll() is not None:
            return  # recordings then start slowly, nothing worse
        time.sleep(0.02)
    sink = server.monitor.removesuffix(".monitor")
    for flag in ("1", "0"):
        subprocess.run(
            [PACTL, "suspend-sink", sink, flag],
            env=env,
            capture_output=True,
            timeout=5,
            check=False,
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=5)


class Recorder:
    """`parec` on the monitor, read by one thread that stamps each chunk on arrival."""

    def __init__(self, server: PulseServer, rate: int = RATE) -> None:
        self.server = server
        self.rate = rate
        self._chunks: list[bytes] = []
        self._offsets: list[float] = []
        self._frames = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._first = threading.Event()
        self._arrived = threading.Condition()
        self._last_arrival = 0.0
        self._result: Recording | None = None

    def __enter__(self) -> Recorder:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 5.0) -> None:
        keep_awake(self.server)
        self._proc = subprocess.Popen(
            [
                PAREC,
                "--raw",
                "--format=s16le",
                "--channels=1",
                f"--rate={self.rate}",
                "--latency-msec=5",
                "-d",
                self.server.monitor,
                "--client-name=hiphook-probe",
            ],
            env=self.server.full_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        self._thread = threading.Thread(target=self._read, name="parec-reader", daemon=True)
        self._thread.start()
        if not self._first.wait(timeout):
            self.stop()
            raise PulseMissing("parec recorded nothing: is the server running?")
        # Let the recording settle so the lower envelope has chunks that did not wait.
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            time.sleep(0.02)

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        carry = b""
        while True:
            data = os.read(fd, 4800)
            now = time.monotonic()
            if not data:
                return
            data = carry + data
            cut = len(data) - len(data) % 2
            data, carry = data[:cut], data[cut:]
            # The chunk's first sample: the null sink renders up to its latency ahead, so
            # a block's last sample may arrive before it is due, its first one never.
            self._offsets.append(now - self._frames / self.rate)
            self._frames += len(data) // 2
            self._chunks.append(data)
            self._first.set()
            with self._arrived:
                self._last_arrival = now
                self._arrived.notify_all()

    def wait_past(self, t: float, timeout: float = 2.0) -> bool:
        """Wait until the recording holds what was heard at monotonic time `t` (a chunk
        arrived after it): a sound that ended at `t` is then in the recording."""
        end = time.monotonic() + timeout
        with self._arrived:
            while self._last_arrival <= t:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._arrived.wait(left)
        return True

    def stop(self) -> Recording:
        if self._result is not None:
            return self._result
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
            self._proc.wait(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=5)
        samples = np.frombuffer(b"".join(self._chunks), dtype="<i2")
        offsets = np.asarray(self._offsets)
        t0 = float(offsets.min()) if offsets.size else 0.0
        sizes = np.asarray([len(c) // 2 for c in self._chunks])
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1])) if sizes.size else sizes
        self._result = Recording(
            samples=samples,
            t0=t0,
            rate=self.rate,
            chunk_starts=starts,
            chunk_t0=_local_envelope(offsets),
        )
        return self._result


def _local_envelope(offsets: np.ndarray, block: int = 50, reach: int = 8) -> np.ndarray:
    """Per chunk, the lowest offset over its block and the `reach` blocks after it (blocks
    of 0.25 s at 5 ms chunks: 2 s ahead). Looking ahead only, because a gap (samples lost)
    can only raise the offsets after it: the envelope follows it within one block."""
    if not offsets.size:
        return offsets
    n = len(offsets)
    nb = -(-n // block)
    padded = np.full(nb * block, np.inf)
    padded[:n] = offsets
    mins = padded.reshape(nb, block).min(axis=1)
    local = np.array([mins[b : b + reach + 1].min() for b in range(nb)])
    return np.repeat(local, block)[:n]


def percentiles(errors: list[float]) -> dict[str, float]:
    """p50 / p99 / max of onset errors, in milliseconds."""
    a = np.abs(np.asarray(errors)) * 1000
    return {
        "p50": float(np.percentile(a, 50)),
        "p99": float(np.percentile(a, 99)),
        "max": float(a.max()),
    }


def short_routine(
    reps: int = 5, timed_s: int = 6, press_s: int = 10, relax_s: int = 3, raises: int | None = None
) -> str:
    """The issue's short routine as TOML: a 6 s timed step, a 10 s press, `reps` holds of
    2 s push / 3 s relax and `reps` calf raises of 2 s up / 2 s down (each adjustable)."""
    raises = reps if raises is None else raises
    return f"""
name = "short"
title = "Short routine for the ear"
version = 1
description = "Measures cues at the ear."

[[step]]
kind = "timed"
name = "Get into position"
side = "left"
seconds = {timed_s}
instruction = "Lie down."

[[step]]
kind = "press"
name = "Psoas press"
side = "left"
seconds = {press_s}
instruction = "Press."

[[step]]
kind = "holds"
name = "Realignment"
side = "left"
reps = {reps}
push_s = 2
relax_s = {relax_s}
instruction = "Push and relax."

[[step]]
kind = "reps"
name = "Calf raises"
reps = {raises}
up_s = 2
down_s = 2
instruction = "Up and down."
"""


# --------------------------------------------------------------- making players fail
def has_sound_card() -> bool:
    """A real card is here: without a server, PortAudio or aplay may still open it, so
    "no device" cannot be staged."""
    try:
        text = Path("/proc/asound/cards").read_text()
    except OSError:
        return False
    return "no soundcards" not in text and bool(text.strip())


def nobody_here(root: Path) -> str:
    """A PULSE_SERVER where no server listens: paplay, PortAudio and ALSA's pulse
    plugin (through its default config) all fail to connect, for real."""
    return f"unix:{root}/nobody-here"


@contextlib.contextmanager
def silent_server(root: Path) -> Iterator[str]:
    """A PULSE_SERVER that takes connections and never answers: the kernel accepts them
    into the listening socket's backlog, so paplay and PortAudio hang, for real, until
    their own timeouts."""
    path = root / "silent.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(path))
        listener.listen(64)
        yield f"unix:{path}"
    finally:
        listener.close()
        path.unlink(missing_ok=True)


def alsa_home(server: PulseServer, root: Path) -> Path:
    """A HOME whose ~/.asoundrc sends ALSA's default device to `server` by name, so aplay
    reaches the server while $PULSE_SERVER (what paplay uses) points elsewhere."""
    home = root / "alsa-home"
    home.mkdir(parents=True, exist_ok=True)
    name = server.env["PULSE_SERVER"]
    (home / ".asoundrc").write_text(
        f'pcm.!default {{ type pulse; server "{name}" }}\n'
        f'ctl.!default {{ type pulse; server "{name}" }}\n'
    )
    return home


def path_with(programs: list[str], root: Path) -> str:
    """A PATH of one folder holding links to just these programs (those installed)."""
    folder = root / "bin"
    folder.mkdir(parents=True, exist_ok=True)
    for name in programs:
        exe = shutil.which(name)
        if exe is not None and not (folder / name).exists():
            (folder / name).symlink_to(exe)
    return str(folder)
