"""An RFC 2217 server for a local serial port, as pyserial's `examples/rfc2217_server.py`.

The example's `Redirector`, in threads: one TCP client at a time, bytes from the port
escaped to the socket, bytes from the socket filtered by `serial.rfc2217.PortManager`
(which answers the telnet option negotiation and applies baud-rate changes to the real
port) and written to the port. Used by the tests and `bench/bench_sensor.py` to put a
real `rfc2217://` hop in front of the simulator's pty.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

import serial
import serial.rfc2217


class _NoModemLines:
    """The port as PortManager sees it: a pty has no modem lines (TIOCMGET fails, and
    the example would stop), so they read as off and setting them does nothing."""

    cts = dsr = ri = cd = False

    def __init__(self, port: serial.SerialBase) -> None:
        object.__setattr__(self, "_port", port)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._port, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in ("rts", "dtr", "break_condition"):
            setattr(self._port, name, value)


class Rfc2217Bridge:
    def __init__(self, device: str) -> None:
        self.device = device
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.1)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._write_lock = threading.Lock()
        self._conn: socket.socket | None = None
        self._thread = threading.Thread(target=self._serve, name="rfc2217-server", daemon=True)

    @property
    def url(self) -> str:
        return f"rfc2217://127.0.0.1:{self._server.getsockname()[1]}"

    def start(self) -> Rfc2217Bridge:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for t in self._threads:
            t.join(2)
        self._server.close()

    def __enter__(self) -> Rfc2217Bridge:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # PortManager's connection: it writes its negotiation replies here.
    def write(self, data: bytes) -> None:
        with self._write_lock:
            if self._conn is not None:
                self._conn.sendall(data)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._session(conn)

    def _session(self, conn: socket.socket) -> None:
        port = serial.serial_for_url(self.device, timeout=0.05)
        self._conn = conn
        manager = serial.rfc2217.PortManager(_NoModemLines(port), self)
        done = threading.Event()

        def port_to_net() -> None:
            while not done.is_set() and not self._stop.is_set():
                try:
                    data = port.read(port.in_waiting or 1)
                    if data:
                        self.write(b"".join(manager.escape(data)))
                    manager.check_modem_lines()
                except (serial.SerialException, OSError):
                    break
            done.set()

        reader = threading.Thread(target=port_to_net, name="rfc2217-port", daemon=True)
        self._threads.append(reader)
        reader.start()
        conn.settimeout(0.1)
        try:
            while not done.is_set() and not self._stop.is_set():
                try:
                    data = conn.recv(1024)
                except TimeoutError:
                    continue
                if not data:
                    break
                port.write(b"".join(manager.filter(data)))
        except (serial.SerialException, OSError):
            pass
        finally:
            done.set()
            reader.join(2)
            with self._write_lock:
                self._conn = None
            with contextlib.suppress(OSError):
                conn.close()
            port.close()


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.support.rfc2217_bridge DEVICE`: serve DEVICE, print the URL, stop at EOF
    on stdin (a separate process, as the example runs beside the app)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tests.support.rfc2217_bridge DEVICE", file=sys.stderr)
        return 2
    with Rfc2217Bridge(args[0]) as bridge:
        print(bridge.url, flush=True)
        sys.stdin.read()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
