"""Export → import is the identity (hypothesis), imports never duplicate, traces survive."""

from __future__ import annotations

import base64
import json
import math
import shutil
import tempfile
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.store.errors import StoreError
from app.store.store import open_store
from app.store.trace import ForceTrace, TraceError, decode_trace, encode_trace

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]
finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
moment = st.datetimes(
    min_value=__import__("datetime").datetime(1990, 1, 1),
    max_value=__import__("datetime").datetime(2090, 1, 1),
    timezones=st.just(UTC),
).map(lambda d: d.isoformat())


@st.composite
def traces(draw: st.DrawFn) -> dict[str, Any] | None:
    if draw(st.booleans()):
        return None
    values = draw(st.lists(st.floats(-2000, 2000, allow_nan=False), max_size=300))
    rate = draw(st.sampled_from([10.0, 80.0, 100.0, 1000.0]))
    stamps = None
    if draw(st.booleans()) and values:
        stamps = tuple(
            sorted(draw(st.lists(st.floats(0, 1000), min_size=len(values), max_size=len(values))))
        )
    blob = encode_trace(ForceTrace(tuple(values), rate, timestamps=stamps))
    return {
        "codec": "hhf1",
        "rate_hz": rate,
        "n_samples": len(values),
        "data": base64.b64encode(blob).decode(),
    }


@st.composite
def steps(draw: st.DrawFn) -> list[dict[str, Any]]:
    idxs = draw(st.lists(st.integers(0, 60), unique=True, max_size=6))
    return [
        {
            "index": i,
            "kind": draw(st.sampled_from(["timed", "press", "action", "holds", "reps"])),
            "name": draw(st.text(min_size=1, max_size=40)),
            "side": draw(st.sampled_from([None, "left", "right"])),
            "planned_s": draw(finite),
            "actual_s": draw(finite),
            "reps_done": draw(st.integers(0, 500)),
            "skipped": draw(st.booleans()),
            "completed": draw(st.booleans()),
            "verdict": draw(st.none() | st.text(max_size=32)),
            "under_pressure_s": draw(st.none() | finite),
            "trace": draw(traces()),
        }
        for i in idxs
    ]


@st.composite
def sessions(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "uuid": str(draw(st.uuids())),
        "started_utc": draw(moment),
        "ended_utc": draw(st.none() | moment),
        "tz": draw(st.sampled_from(ZONES)),
        "utc_offset_min": draw(st.integers(-720, 840)),
        "local_day": draw(st.dates()).isoformat(),
        "routine": draw(st.text(min_size=1, max_size=64)),
        "routine_version": draw(st.integers(0, 2**31 - 1)),
        "side": draw(st.sampled_from([None, "left", "right"])),
        "sensor": draw(st.none() | st.text(max_size=200)),
        "sensor_notice": draw(st.none() | st.text(max_size=1000)),
        "status": draw(st.sampled_from(["completed", "interrupted", "aborted", "in_progress"])),
        "pain_before": draw(st.none() | st.integers(0, 10)),
        "pain_after": draw(st.none() | st.integers(0, 10)),
        "notes": draw(st.text(max_size=300)),
        "elapsed_s": draw(st.none() | finite),
        "demo": draw(st.booleans()),
        "steps": draw(steps()),
    }


@pytest.fixture(scope="module")
def template() -> Any:
    folder = Path(tempfile.mkdtemp(prefix="hiphook-rt-"))
    open_store(folder / "template.db").close()
    yield folder / "template.db"
    shutil.rmtree(folder, ignore_errors=True)


def _fresh(template: Path) -> Any:
    folder = Path(tempfile.mkdtemp(prefix="hiphook-rt-"))
    shutil.copy(template, folder / "t.db")
    return open_store(folder / "t.db"), folder


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sessions(), max_size=4, unique_by=lambda s: s["uuid"]))
def test_import_then_export_is_identity(template: Path, batch: list[dict[str, Any]]) -> None:
    data = {"format": "hiphook-export", "version": 1, "sessions": batch}
    wire = json.loads(json.dumps(data))  # what a file would hold
    store, folder = _fresh(template)
    try:
        result = store.import_data(wire)
        assert (result.added, result.skipped) == (len(batch), 0)
        out = json.loads(json.dumps(store.export_data()))
        expected = sorted(batch, key=lambda s: s["started_utc"])  # stable: import order
        for s in expected:
            s["steps"] = sorted(s["steps"], key=lambda x: x["index"])
        assert out == {"format": "hiphook-export", "version": 1, "sessions": expected}
        again = store.import_data(wire)
        assert (again.added, again.skipped) == (0, len(batch))
    finally:
        store.close()
        shutil.rmtree(folder, ignore_errors=True)


def test_recorded_run_exports_and_imports_without_loss(tmp_path: Path) -> None:
    from app.core.engine import StepRecord

    a = open_store(tmp_path / "a.db")
    sid = a.begin_session("daily", 3, "right", "socket://localhost:7777", 6)
    tr = ForceTrace(tuple(100 + math.sin(i / 9) * 20 for i in range(7200)), 80.0)
    a.record_step(
        sid,
        StepRecord(1, "press", "Psoas press", "right", 90, 89.5, 0, False, True),
        "steady",
        84.25,
        tr,
    )
    a.end_session(sid, "completed", 3, "felt good")
    exported = a.export_data()
    b = open_store(tmp_path / "b.db")
    b.import_data(json.loads(json.dumps(exported)))
    assert b.export_data() == exported
    [(info, back)] = b.session_traces(b.sessions()[0]["id"])
    assert info["verdict"] == "steady"
    assert back.values == tr.quantized().values and len(back.values) == 7200
    assert max(abs(x - y) for x, y in zip(back.values, tr.values, strict=True)) <= 0.125 + 1e-9
    a.close()
    b.close()


def test_import_rejects_bad_files_and_adds_nothing(tmp_path: Path) -> None:
    store = open_store(tmp_path / "x.db")
    good = {"format": "hiphook-export", "version": 1, "sessions": []}
    bad_cases = [
        ([], "not a hiphook export"),
        ({**good, "version": 99}, "version 99"),
        ({**good, "sessions": [{"uuid": "nope"}]}, "session 1: 'uuid'"),
    ]
    for data, words in bad_cases:
        with pytest.raises(StoreError, match=words):
            store.import_data(data)
    assert store.sessions() == []
    store.close()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_trace_decoder_only_ever_raises_trace_error(blob: bytes) -> None:
    try:
        decode_trace(blob)
    except TraceError:
        pass


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(-5000, 5000, allow_nan=False), max_size=500),
    st.sampled_from([0.01, 0.25, 1.0]),
)
def test_trace_round_trip_within_half_a_quantum(values: list[float], quantum: float) -> None:
    tr = ForceTrace(tuple(values), 80.0, quantum=quantum)
    back = decode_trace(encode_trace(tr))
    assert len(back.values) == len(values) and back.rate_hz == 80.0
    for a, b in zip(values, back.values, strict=True):
        assert abs(a - b) <= quantum / 2 + 1e-9 * max(1.0, abs(a))
    assert decode_trace(encode_trace(back)) == back  # stable once quantized


def test_trace_rejects_unstorable_values() -> None:
    for bad in (ForceTrace((math.nan,), 80.0), ForceTrace((1.0,), 0.0), ForceTrace((1e300,), 80.0)):
        with pytest.raises(TraceError):
            encode_trace(bad)
