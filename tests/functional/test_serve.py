"""The run's view in a real headless Chromium sized as a phone (390×844 CSS px), served
by `hiphook run --serve` and `hiphook serve` in real processes."""

from __future__ import annotations

import os
import signal
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.browser import PHONE, phone_browser
from tests.support.cli import start
from tests.support.waiting import wait_for
from tests.support.watch import RunProcess, write_routine


def _get(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def _text(driver: Any, id_: str) -> str:
    return str(driver.execute_script(f"return document.getElementById('{id_}').textContent"))


def _layout(driver: Any) -> dict[str, Any]:
    """What a phone user would see, measured in the page: sizes, places, colours."""
    return dict(
        driver.execute_script(
            """
            const box = (id) => { const r = document.getElementById(id).getBoundingClientRect();
              return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                      size: parseFloat(getComputedStyle(document.getElementById(id)).fontSize)}; };
            const rgb = (c) => c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
            return {
              vw: innerWidth, vh: innerHeight,
              scrollW: document.documentElement.scrollWidth,
              clock: box("clock"), title: box("title"), phase: box("phase"),
              bg: rgb(getComputedStyle(document.body).backgroundColor),
              fg: rgb(getComputedStyle(document.body).color),
              fetched: performance.getEntriesByType("resource").map(e => e.name),
              origin: location.origin,
            };
            """
        )
    )


def _luma(rgb: list[float]) -> float:
    r, g, b = (x / 255 for x in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_run_serve_shows_the_run_on_a_phone_and_refuses_a_url_without_the_token(
    tmp_path: Path,
) -> None:
    """The page shows the step the run is in, then the next one after the boundary, the
    time left large, the phase in words, dark; the URL without its token (or with a
    wrong one) gets 403 and nothing else; the page fetches nothing but its own events;
    when the run ends, serving stops."""
    run = RunProcess("--routine", str(write_routine(tmp_path)), "--time-scale", "2", "--serve")
    try:
        url = run.url()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        token = url.rstrip("/").rsplit("/", 1)[1]
        assert len(token) >= 20
        base = url[: -len(token) - 1]
        for bad in (base, base + "x" * len(token) + "/", base + "favicon.ico", url[:-2] + "/"):
            status, body, _ = _get(bad)
            assert (status, body) == (403, b""), bad
        status, page, headers = _get(url)
        assert status == 200 and b"<title>hiphook</title>" in page
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert b"http:" not in page and b"https:" not in page and b"@import" not in page
        assert _get(url + "anything")[0] == 404
        with phone_browser() as driver:
            driver.get(url)
            assert wait_for(lambda: _text(driver, "title") == "Settle in", 60), _text(
                driver, "title"
            )
            first = _layout(driver)
            assert wait_for(lambda: _text(driver, "title") == "Pulses", 30)
            assert wait_for(lambda: "Hold" in _text(driver, "phase"), 10)
            assert _text(driver, "where") == "Step 2 of 4 · Watch me"
            phone = _layout(driver)
            assert wait_for(lambda: _text(driver, "title") == "Lever", 30)
            run.send("")  # Enter on the run's own face confirms the lever
            assert wait_for(lambda: _text(driver, "title") == "Rest", 30)
        for shot in (first, phone):
            assert (shot["vw"], shot["vh"]) == PHONE
            assert shot["scrollW"] <= PHONE[0]  # nothing wider than the phone
            clock, title = shot["clock"], shot["title"]
            assert clock["size"] >= 100  # the time left, in CSS px: readable from a metre
            assert clock["size"] >= 2.5 * title["size"]
            assert 0 <= clock["left"] and clock["right"] <= PHONE[0]
            assert 0 <= title["top"] and shot["phase"]["bottom"] <= PHONE[1]
            assert _luma(shot["bg"]) < 0.1 and _luma(shot["fg"]) > 0.8  # dark by default
            assert all(u.startswith(shot["origin"] + "/" + token) for u in shot["fetched"])
        assert run.wait() == 0
        # the run is over: so is serving
        try:
            _get(url)
            raise AssertionError("still serving after the run ended")
        except (urllib.error.URLError, ConnectionError):
            pass
    finally:
        run.stop()


def test_serve_says_no_run_then_follows_a_run_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    serve = start("serve")
    run: RunProcess | None = None
    try:
        assert serve.stdout is not None
        url = ""
        while not url.startswith("http://"):
            url = serve.stdout.readline().strip()
            assert url or serve.poll() is None
        with phone_browser() as driver:
            driver.get(url)
            assert wait_for(lambda: _text(driver, "title") == "No run is going on", 60)
            run = RunProcess("--routine", str(write_routine(tmp_path)), "--time-scale", "4")
            assert wait_for(lambda: _text(driver, "where").endswith("Watch me"), 60)
            assert wait_for(lambda: _text(driver, "title") == "Lever", 60)
            assert "WAITING FOR YOU" in _text(driver, "phase")
            serve.send_signal(signal.SIGINT)  # with a browser still on its stream
            assert serve.wait(30) == 0
        assert serve.stderr is not None
        assert "Traceback" not in serve.stderr.read()
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait(10)
        for f in (serve.stdout, serve.stderr):
            if f is not None:
                f.close()
        if run is not None:
            run.stop()


def test_serving_one_run_stops_when_that_run_ends_while_the_process_goes_on() -> None:
    """`run --serve` serves from a thread of its own and follows only its own run."""
    import asyncio
    import io
    import socket

    from app.core.clock import ScaledClock
    from app.core.routine import parse_routine
    from app.plain import run_plain
    from app.serve.server import ServeThread, WebViewer
    from app.session import RunOptions, assemble
    from app.settings import Settings
    from tests.support.watch import ROUTINE

    thread = ServeThread(WebViewer(follow_pid=os.getpid()))
    thread.start()
    assert thread.ready.wait(10) and thread.error is None
    url = thread.viewer.url
    assert _get(url)[0] == 200
    session = assemble(
        RunOptions(cues="none", time_scale=20),
        parse_routine(ROUTINE),
        None,
        clock=ScaledClock(20),
        settings=Settings.load(),
    )
    out = io.StringIO()
    shown: list[str] = []

    async def run() -> None:
        task = asyncio.create_task(run_plain(session, json_mode=True, inp=io.StringIO(), out=out))
        while not task.done():
            shown.append(thread.viewer.model.display(0).title)
            await asyncio.sleep(0.02)
        await task
        await session.aclose_publisher()

    try:
        asyncio.run(run())
    finally:
        session.close()
    assert "Pulses" in shown  # the viewer followed the run
    assert thread.viewer.ended.wait(10)
    thread.join(10)
    assert not thread.is_alive()
    host, port = url.split("/")[2].split(":")
    probe = socket.socket()
    try:
        assert probe.connect_ex((host, int(port))) != 0  # nothing listens any more
    finally:
        probe.close()


def test_the_lan_address_if_any_is_an_interface_ipv4_not_loopback() -> None:
    from app.serve.server import lan_address

    addr = lan_address()
    if addr is not None:
        parts = addr.split(".")
        assert len(parts) == 4 and all(p.isdigit() for p in parts)
        assert not addr.startswith("127.")


def test_run_serve_while_another_run_is_shown_says_so_on_the_page(tmp_path: Path) -> None:
    """Only one run is published at a time: `--serve` of a second one cannot show it,
    and its page says why instead of "no run"."""
    from app.serve.server import ServeThread, WebViewer

    other = RunProcess("--routine", str(write_routine(tmp_path)), "--time-scale", "1")
    thread = ServeThread(WebViewer(follow_pid=os.getpid()))
    try:
        other.wait_published()
        thread.start()
        assert thread.ready.wait(10) and thread.error is None
        assert wait_for(lambda: "Another hiphook run" in thread.viewer.model.notice, 30)
        shown = thread.viewer.model.display_dict(0)
        assert shown["notice"] == thread.viewer.model.notice and shown["status"] == "none"
    finally:
        thread.stop()
        other.stop()
