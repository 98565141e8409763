"""Export and import formats: JSON (lossless, re-importable) and CSV (for spreadsheets).

Import trusts nothing: every field is checked and a fault names the session, the step
and the key, so a hand-edited file gets a message rather than a traceback.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import math
import uuid as uuidlib
from datetime import UTC, date, datetime
from typing import Any

from app.store.errors import EXIT_DATAERR, StoreError
from app.store.models import STATUSES
from app.store.trace import CODEC, TraceError, decode_trace

EXPORT_FORMAT = "hiphook-export"
EXPORT_VERSION = 1
# An export written by the log writer when the log could not take a run's steps: its
# sessions may already be in the log, begun but not ended, and are completed in place.
RECOVERY_ROLE = "recovery"
SUPPORTED_VERSIONS = (EXPORT_VERSION,)
_KINDS = ("timed", "press", "action", "holds", "reps")
_MAX_TEXT = 10_000


class _Bad(Exception):
    pass


def _show(v: Any) -> str:
    """A short repr for messages: a hand-edited file may hold a 4,000-digit number or a
    megabyte of text, and the message must still fit a line (and not raise itself)."""
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 64:
        try:
            digits = f"{len(str(abs(v))):,}"
        except ValueError:  # past the digit limit (never from json.loads, which stops there)
            digits = f"about {int(v.bit_length() * 0.30103) + 1:,}"
        return f"<a number of {digits} digits>"
    try:
        r = repr(v)
    except (RecursionError, ValueError):
        return f"a deeply nested {type(v).__name__}"
    return r if len(r) <= 60 else r[:57] + "..."


def _text(d: dict[str, Any], key: str, *, optional: bool = False, limit: int = 200) -> str | None:
    v = d.get(key)
    if v is None and optional:
        return None
    if not isinstance(v, str):
        raise _Bad(f"'{key}' must be text, not {_show(v)}")
    if len(v) > limit:
        raise _Bad(f"'{key}' is longer than {limit} characters")
    return v


def _int(
    d: dict[str, Any],
    key: str,
    *,
    optional: bool = False,
    lo: int | None = None,
    hi: int | None = None,
) -> int | None:
    v = d.get(key)
    if v is None and optional:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise _Bad(f"'{key}' must be a whole number, not {_show(v)}")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise _Bad(f"'{key}' = {_show(v)} is out of range ({lo} to {hi})")
    return v


def _float(d: dict[str, Any], key: str, *, optional: bool = False) -> float | None:
    v = d.get(key)
    if v is None and optional:
        return None
    try:
        f = float(v) if isinstance(v, int | float) and not isinstance(v, bool) else math.nan
    except OverflowError:  # an integer beyond any float
        f = math.nan
    if not math.isfinite(f):
        raise _Bad(f"'{key}' must be a finite number, not {_show(v)}")
    return f


def _bool(d: dict[str, Any], key: str) -> bool:
    v = d.get(key)
    if not isinstance(v, bool):
        raise _Bad(f"'{key}' must be true or false, not {_show(v)}")
    return v


def _moment(d: dict[str, Any], key: str, *, optional: bool = False) -> datetime | None:
    v = d.get(key)
    if v is None and optional:
        return None
    if not isinstance(v, str):
        raise _Bad(f"'{key}' must be an ISO 8601 time, not {_show(v)}")
    try:
        m = datetime.fromisoformat(v)
    except ValueError:
        raise _Bad(f"'{key}' = {_show(v)} is not an ISO 8601 time") from None
    if m.tzinfo is None:
        raise _Bad(f"'{key}' = {_show(v)} needs a UTC offset (e.g. +00:00)")
    return m.astimezone(UTC)


def _trace(v: Any) -> dict[str, Any] | None:
    if v is None:
        return None
    if not isinstance(v, dict):
        raise _Bad("'trace' must be an object or null")
    if v.get("codec") != CODEC:
        raise _Bad(f"trace codec {_show(v.get('codec'))} is not supported (expected {CODEC!r})")
    raw = v.get("data")
    if not isinstance(raw, str):
        raise _Bad("trace 'data' must be base64 text")
    try:
        blob = base64.b64decode(raw.encode("ascii"), validate=True)
        decoded = decode_trace(blob)
    except (binascii.Error, UnicodeEncodeError, ValueError) as err:
        if isinstance(err, TraceError):
            raise _Bad(f"trace data: {err}") from None
        raise _Bad("trace 'data' is not valid base64") from None
    return {
        "codec": CODEC,
        "rate_hz": decoded.rate_hz,
        "n_samples": len(decoded.values),
        "data": blob,
    }


def _step(d: Any) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise _Bad("a step must be an object")
    kind = _text(d, "kind")
    if kind not in _KINDS:
        raise _Bad(f"'kind' = {kind!r} is not one of {', '.join(_KINDS)}")
    return {
        "index": _int(d, "index", lo=0, hi=10_000),
        "kind": kind,
        "name": _text(d, "name"),
        "side": _side(d),
        "planned_s": _float(d, "planned_s"),
        "actual_s": _float(d, "actual_s"),
        "reps_done": _int(d, "reps_done", lo=0, hi=1_000_000),
        "skipped": _bool(d, "skipped"),
        "completed": _bool(d, "completed"),
        "verdict": _text(d, "verdict", optional=True, limit=32),
        "under_pressure_s": _float(d, "under_pressure_s", optional=True),
        "trace": _trace(d.get("trace")),
    }


def _side(d: dict[str, Any]) -> str | None:
    side = _text(d, "side", optional=True, limit=8)
    if side not in (None, "left", "right"):
        raise _Bad(f"'side' = {side!r} must be left, right or null")
    return side


def _session(d: Any) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise _Bad("a session must be an object")
    uid = _text(d, "uuid", limit=36)
    try:
        uuidlib.UUID(str(uid))
    except ValueError:
        raise _Bad(f"'uuid' = {uid!r} is not a UUID") from None
    status = _text(d, "status", limit=16)
    if status not in STATUSES:
        raise _Bad(f"'status' = {status!r} is not one of {', '.join(STATUSES)}")
    day = _text(d, "local_day", limit=10)
    try:
        local_day = date.fromisoformat(str(day))
    except ValueError:
        raise _Bad(f"'local_day' = {day!r} is not a date (YYYY-MM-DD)") from None
    steps_raw = d.get("steps", [])
    if not isinstance(steps_raw, list):
        raise _Bad("'steps' must be a list")
    steps = []
    for i, s in enumerate(steps_raw):
        try:
            steps.append(_step(s))
        except _Bad as err:
            raise _Bad(f"step {i + 1}: {err}") from None
    if len({s["index"] for s in steps}) != len(steps):
        raise _Bad("two steps have the same 'index'")
    return {
        "uuid": uid,
        "started_utc": _moment(d, "started_utc"),
        "ended_utc": _moment(d, "ended_utc", optional=True),
        "tz": _text(d, "tz", limit=64),
        "utc_offset_min": _int(d, "utc_offset_min", lo=-24 * 60, hi=24 * 60),
        "local_day": local_day,
        "routine": _text(d, "routine", limit=64),
        "routine_version": _int(d, "routine_version", lo=0, hi=2**31 - 1),
        "side": _side(d),
        "sensor": _text(d, "sensor", optional=True),
        "sensor_notice": _text(d, "sensor_notice", optional=True, limit=1000),
        "status": status,
        "pain_before": _int(d, "pain_before", optional=True, lo=0, hi=10),
        "pain_after": _int(d, "pain_after", optional=True, lo=0, hi=10),
        "notes": _text(d, "notes", limit=_MAX_TEXT),
        "elapsed_s": _float(d, "elapsed_s", optional=True),
        # Exports made before demo runs were marked carry no "demo": those runs were real.
        "demo": _bool(d, "demo") if "demo" in d else False,
        "steps": steps,
    }


def validate_export(data: Any, source: str) -> list[dict[str, Any]]:
    """Sessions from a parsed export, checked and normalized; StoreError names the fault."""
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise StoreError(
            f"{source}: not a hiphook export (expected a JSON object with "
            f'"format": "{EXPORT_FORMAT}")',
            EXIT_DATAERR,
        )
    if data.get("version") not in SUPPORTED_VERSIONS:
        raise StoreError(
            f"{source}: export version {_show(data.get('version'))} is not supported "
            f"by this hiphook (supports {SUPPORTED_VERSIONS})",
            EXIT_DATAERR,
        )
    sessions = data.get("sessions")
    if not isinstance(sessions, list):
        raise StoreError(f"{source}: 'sessions' must be a list", EXIT_DATAERR)
    out = []
    seen: set[str] = set()
    for i, s in enumerate(sessions):
        try:
            row = _session(s)
        except _Bad as err:
            raise StoreError(f"{source}: session {i + 1}: {err}", EXIT_DATAERR) from None
        if row["uuid"] in seen:
            continue
        seen.add(row["uuid"])
        out.append(row)
    return out


# --------------------------------------------------------------------------- CSV

SESSION_COLUMNS = (
    "uuid",
    "local_day",
    "started_utc",
    "ended_utc",
    "tz",
    "routine",
    "routine_version",
    "side",
    "sensor",
    "status",
    "pain_before",
    "pain_after",
    "elapsed_s",
    "demo",
    "notes",
)
STEP_COLUMNS = (
    "step_index",
    "step_kind",
    "step_name",
    "step_side",
    "planned_s",
    "actual_s",
    "reps_done",
    "skipped",
    "completed",
    "verdict",
    "under_pressure_s",
    "trace_samples",
)


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return v


def sessions_csv(sessions: list[dict[str, Any]]) -> str:
    """One row per session (history --csv)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*SESSION_COLUMNS, "steps"])
    for s in sessions:
        w.writerow([_cell(s.get(c)) for c in SESSION_COLUMNS] + [len(s.get("steps", []))])
    return buf.getvalue()


def steps_csv(sessions: list[dict[str, Any]]) -> str:
    """One row per step with its session's columns repeated (export --format csv)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*SESSION_COLUMNS, *STEP_COLUMNS])
    for s in sessions:
        head = [_cell(s.get(c)) for c in SESSION_COLUMNS]
        steps = s.get("steps") or []
        if not steps:
            w.writerow(head + [""] * len(STEP_COLUMNS))
        for st in steps:
            tr = st.get("trace")
            w.writerow(
                head
                + [
                    _cell(v)
                    for v in (
                        st["index"],
                        st["kind"],
                        st["name"],
                        st["side"],
                        st["planned_s"],
                        st["actual_s"],
                        st["reps_done"],
                        st["skipped"],
                        st["completed"],
                        st["verdict"],
                        st["under_pressure_s"],
                        tr["n_samples"] if tr else None,
                    )
                ]
            )
    return buf.getvalue()
