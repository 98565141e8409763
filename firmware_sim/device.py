"""The device model: a load cell behind an ADC, a lever switch, and the command handler.

Time is passed in (seconds since power-on) so the model is deterministic and testable;
the server owns the real clock and the transport.
"""

from __future__ import annotations

import math
import random

from app.core import protocol as p

from .scenarios import AUTO_CYCLE, PHASES, Scenario

G = 9.80665
NOISE_N = 0.3  # standard deviation of the ADC noise
ZERO_OFFSET_N = 3.5  # what an untared cell reads with nothing on it
GAIN_ERROR = 1.03  # an uncalibrated cell reads 3% high
LEVER_HEARTBEAT_S = 1.0
BAUD_CONFIRM_S = 2.0


class DeviceModel:
    """Everything the firmware would hold in RAM, and its reactions to host commands."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        rate_hz: int = 100,
        serial: str = "HHSIM0001",
        model: str = "HipHook-SIM",
        firmware: str = "sim-1.0",
        start_ms: int = 0,
    ) -> None:
        self.scenario = scenario
        self.rng = random.Random(scenario.seed)
        self.identity_text = (model, firmware, serial)
        self.power_on_rate = rate_hz
        self.start_ms = start_ms
        # Kept across power cycles, as firmware would keep them in EEPROM:
        self.tare_n = 0.0
        self.cal_gain = 1.0
        # The world, not the device:
        self.weight_n = 0.0
        self.phase: str | None = None  # None: automatic cycle
        self.phase_since = 0.0
        # A time-scaled app run (demos, tests) speeds the simulated user up to match;
        # the device's own clock and sample rate stay real.
        self.scenario_scale = 1.0
        self.commands_seen: list[str] = []
        self.power_cycle(0.0)

    def power_cycle(self, now: float) -> None:
        """Plugged back in: RAM state starts over, the clock from zero."""
        rate = self.power_on_rate
        self.rate_hz = rate if self.scenario.plain else min(rate, p.max_rate_hz(p.DEFAULT_BAUD))
        self.baud = p.DEFAULT_BAUD
        self._baud_fallback: tuple[int, float] | None = None
        self.streaming = self.scenario.plain  # a DIY sketch prints from power-on
        self.boot_at = now
        self.seq = 0
        self.lever = False
        self._lever_sent_at = -math.inf
        self._next = now

    # -- inputs from the world ------------------------------------------------------------

    def set_phase(self, phase: str, now: float) -> None:
        if phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}; choose from {', '.join(PHASES)}")
        self.phase = phase
        self.phase_since = now

    def place_weight(self, grams: float) -> None:
        """Put a known mass on the tool (for calibration)."""
        self.weight_n = grams * G / 1000.0

    def _phase_at(self, now: float) -> tuple[str, float]:
        if self.phase is not None:
            return self.phase, now - self.phase_since
        cycle = sum(d for _, d in AUTO_CYCLE)
        into = now % cycle
        for name, length in AUTO_CYCLE:
            if into < length:
                return name, into
            into -= length
        return "rest", 0.0  # pragma: no cover

    def true_force(self, now: float) -> tuple[float, bool]:
        phase, t_in = self._phase_at(now)
        k = self.scenario_scale
        force, lever = self.scenario.at(phase, t_in * k, now * k)
        return force + self.weight_n, lever

    def _raw_mean(self, now: float) -> float:
        force, _ = self.true_force(now)
        drift = 1.5 * math.sin(now / 97.0)  # slow thermal drift, newtons
        return force * GAIN_ERROR + ZERO_OFFSET_N + drift

    def reading_n(self, now: float) -> float:
        raw = self._raw_mean(now) + self.rng.gauss(0.0, NOISE_N)
        return (raw - self.tare_n) * self.cal_gain

    def ms(self, now: float) -> int:
        return (self.start_ms + int((now - self.boot_at) * 1000)) % p.MS_MOD

    # -- output ---------------------------------------------------------------------------

    def next_due(self) -> float:
        """Device time of the next line to send (inf when idle)."""
        if not self.streaming:
            return math.inf if self._baud_fallback is None else self._baud_fallback[1]
        return self._next

    def due(self, now: float) -> bytes:
        """All lines due by `now`; a late caller gets the backlog (at most 1 s of it)."""
        self._check_baud(now)
        if not self.streaming:
            return b""
        step = 1.0 / self.rate_hz
        if now - self._next > 1.0:
            self._next = now - 1.0  # a stalled host loop: skip ahead, like a full TX buffer
        out = []
        while self._next <= now:
            t = self._next
            force = self.reading_n(t)
            if self.scenario.plain:
                out.append(p.encode_plain(force))
            else:
                _, lever = self.true_force(t)
                if lever != self.lever or t - self._lever_sent_at >= LEVER_HEARTBEAT_S:
                    self.lever = lever
                    self._lever_sent_at = t
                    out.append(p.encode_lever(self.ms(t), lever))
                out.append(p.encode_sample(self.seq, self.ms(t), round(force * 100)))
                self.seq = (self.seq + 1) % p.SEQ_MOD
            self._next += step
        return b"".join(out)

    # -- host commands --------------------------------------------------------------------

    def handle(self, line: bytes, now: float) -> bytes:
        """React to one host line; returns the reply bytes (a DIY sketch never answers)."""
        if self.scenario.plain:
            return b""
        cmd = p.parse_command(line)
        if cmd is None:
            return b""
        if isinstance(cmd, p.Refusal):
            return p.encode_refusal(cmd.command, cmd.reason)
        self.commands_seen.append(cmd.name)
        self._baud_fallback = None  # any good command confirms a new baud rate
        name, arg = cmd.name, cmd.arg
        if name == "ID":
            model, firmware, serial = self.identity_text
            ident = p.Identity(p.PROTOCOL_VERSION, model, firmware, serial, self.rate_hz, self.baud)
            return p.encode_identity(ident)
        if name == "START":
            if not self.streaming:
                self.streaming = True
                self._next = now
                self._lever_sent_at = -math.inf
            return p.encode_ack("START", self.rate_hz)
        if name == "STOP":
            self.streaming = False
            return p.encode_ack("STOP")
        if name == "TARE":
            self.tare_n = self._raw_mean(now)
            return p.encode_ack("TARE")
        assert arg is not None  # parse_command guarantees an argument for the rest
        if name == "RATE":
            if not p.RATE_MIN_HZ <= arg <= p.RATE_MAX_HZ:
                return p.encode_refusal("RATE", "RANGE")
            if not p.rate_fits(arg, self.baud):
                return p.encode_refusal("RATE", "BUDGET")
            self.rate_hz = arg
            self._next = now
            return p.encode_ack("RATE", arg)
        if name == "CAL":
            if not p.CAL_MIN_G <= arg <= p.CAL_MAX_G:
                return p.encode_refusal("CAL", "RANGE")
            loaded = self._raw_mean(now) - self.tare_n
            if loaded < 0.5:
                return p.encode_refusal("CAL", "NOLOAD")
            self.cal_gain = arg * G / 1000.0 / loaded
            return p.encode_ack("CAL", arg)
        if name == "BAUD":
            if arg not in p.BAUD_RATES:
                return p.encode_refusal("BAUD", "RANGE")
            reply = p.encode_ack("BAUD", arg)  # sent at the old rate, then switch
            if arg != self.baud:
                self._baud_fallback = (self.baud, now + BAUD_CONFIRM_S)
                self.baud = arg
            return reply
        return p.encode_refusal(name, "UNKNOWN")  # pragma: no cover

    def _check_baud(self, now: float) -> None:
        """Fall back to the old baud rate when the host never spoke at the new one."""
        if self._baud_fallback is not None and now >= self._baud_fallback[1]:
            self.baud = self._baud_fallback[0]
            self._baud_fallback = None
            if not p.rate_fits(self.rate_hz, self.baud):
                self.rate_hz = p.max_rate_hz(self.baud)
