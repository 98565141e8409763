"""The session log: open (pre-flight, migrate), write as a run goes, read for history.

Every write is one short `BEGIN IMMEDIATE` transaction (a step, a session start or
end), so a killed process loses at most the step in progress. Reads never touch the
trace blobs unless a press's curve is asked for.
"""

from __future__ import annotations

import base64
import functools
import os
import socket
import uuid as uuidlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import CursorResult, Engine, delete, func, insert, select, text, update

from app.core.engine import StepRecord
from app.store import stats
from app.store.db import (
    DEFAULT_BUSY_TIMEOUT_MS,
    create_engine,
    current_revision,
    preflight_sqlite,
    shown_url,
    translated,
    upgrade,
    write_txn,
)
from app.store.errors import EXIT_DATAERR, StoreError
from app.store.fields import SESSION_FIELDS, STEP_FIELDS
from app.store.home import HomeData, parse_days, parse_last, summarize
from app.store.location import Location, ensure_private_file, resolve
from app.store.models import STATUSES, RunSession, StepRow, TraceRow
from app.store.schema import schema_head
from app.store.trace import CODEC, ForceTrace, TraceError, decode_trace, encode_trace
from app.store.transfer import EXPORT_FORMAT, EXPORT_VERSION, RECOVERY_ROLE, validate_export

S = RunSession.__table__  # type: ignore[attr-defined]
ST = StepRow.__table__  # type: ignore[attr-defined]
TR = TraceRow.__table__  # type: ignore[attr-defined]


def _new_id(result: CursorResult[Any]) -> int:
    """The id a one-row INSERT gave its row (SQLAlchemy types the key as optional)."""
    key = result.inserted_primary_key
    assert key is not None  # always set after a one-row INSERT
    return int(key[0])


# A run can be paused, but not for half a day: older "in progress" rows are dead.
STALE_AFTER = timedelta(hours=12)


@dataclass(frozen=True)
class PainPoint:
    day: date
    before: int | None
    after: int | None


@dataclass(frozen=True)
class HistoryData:
    """Everything the History screen shows, loaded in one go (no blobs)."""

    home: HomeData
    calendar: str
    pain: list[PainPoint]
    sessions: list[dict[str, Any]]  # newest first, without steps
    total_sessions: int


@dataclass
class ImportResult:
    added: int = 0
    skipped: int = 0
    merged: int = 0  # sessions of a recovery file completed in place
    uuids: list[str] = field(default_factory=list)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    m = _utc(moment)
    return m.isoformat() if m else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class SessionStart:
    """What a new session is made of, declared once: `session_row` and
    `Store.begin_session` take these fields, the log's writer keeps one per run, and a
    recovery file saves the row it makes."""

    routine: str
    routine_version: int
    side: str | None = None
    sensor: str | None = None
    pain_before: int | None = None
    _: KW_ONLY
    started: datetime | None = None
    tz: str | None = None
    uuid: str | None = None
    demo: bool = False

    def row(self) -> dict[str, Any]:
        """The session's row, as `begin_session` writes it and a recovery file keeps it."""
        _check_pain(self.pain_before, "pain_before")
        started = _utc(self.started) or datetime.now(UTC)
        tz = self.tz or stats.local_zone_name()
        offset = started.astimezone(stats.zone(tz)).utcoffset() or timedelta(0)
        return {
            "uuid": self.uuid or str(uuidlib.uuid4()),
            "started_utc": started,
            "ended_utc": None,
            "tz": tz,
            "utc_offset_min": int(offset.total_seconds() // 60),
            "local_day": stats.local_day(started, tz),
            "routine": self.routine,
            "routine_version": int(self.routine_version),
            "side": self.side,
            "sensor": self.sensor,
            "status": "in_progress",
            "pain_before": self.pain_before,
            "pain_after": None,
            "notes": "",
            "elapsed_s": None,
            "demo": bool(self.demo),
        }


_P = ParamSpec("_P")
_R = TypeVar("_R")
_Self = TypeVar("_Self")


def _fields_of(
    cls: Callable[_P, SessionStart],
) -> Callable[[Callable[[SessionStart], _R]], Callable[_P, _R]]:
    """Call a function of a `SessionStart` with its fields instead (typed from them)."""

    def decorate(fn: Callable[[SessionStart], _R]) -> Callable[_P, _R]:
        @functools.wraps(fn)
        def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            return fn(cls(*args, **kwargs))

        return call

    return decorate


def _method_fields_of(
    cls: Callable[_P, SessionStart],
) -> Callable[[Callable[[_Self, SessionStart], _R]], Callable[Concatenate[_Self, _P], _R]]:
    """The same for a method: `store.begin_session("daily", 1, "left", pain_before=3)`."""

    def decorate(fn: Callable[[_Self, SessionStart], _R]) -> Callable[Concatenate[_Self, _P], _R]:
        def call(self: _Self, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            return fn(self, cls(*args, **kwargs))

        call.__name__, call.__doc__ = fn.__name__, fn.__doc__  # (wraps loses Concatenate)
        return call

    return decorate


@_fields_of(SessionStart)
def session_row(start: SessionStart) -> dict[str, Any]:
    """A new session's row, from `SessionStart`'s fields."""
    return start.row()


def step_values(
    step: StepRecord, verdict: str | None = None, under_pressure_s: float | None = None
) -> dict[str, Any]:
    """A finished step's columns (without its index), as `record_step` writes them."""
    return {
        "kind": step.kind,
        "name": step.name,
        "side": step.side,
        "planned_s": float(step.planned_s),
        # an action step's time is its wait (never active time, see StepRecord)
        "actual_s": float(step.active_s + step.waited_s),
        "reps_done": int(step.reps_done),
        "skipped": bool(step.skipped),
        "completed": bool(step.completed),
        "verdict": verdict,
        "under_pressure_s": under_pressure_s,
    }


class Store:
    """An open, migrated session log. Thread-safe: each call takes its own connection."""

    def __init__(self, engine: Engine, location: Location) -> None:
        self.engine = engine
        self.location = location
        self.where = (
            f"the database {location.path}"
            if location.path
            else f"the database {shown_url(location.url)}"
        )

    @property
    def url(self) -> str:
        return self.location.url

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing a run

    @_method_fields_of(SessionStart)
    def begin_session(self, start: SessionStart) -> int:
        """Log a run as in progress now (`SessionStart`'s fields); returns its id for the
        other calls. `demo`: time-scaled; kept, but it never makes a day done."""
        return self.begin(start)

    def begin(self, start: SessionStart) -> int:
        """`begin_session` with its fields in one value (the log's writer keeps them)."""
        row = start.row()
        row = {**row, "pid": os.getpid(), "host": socket.gethostname()}
        with translated(self.where), write_txn(self.engine) as conn:
            return _new_id(conn.execute(insert(S).values(**row)))

    def record_step(
        self,
        session_id: int,
        step: StepRecord,
        verdict: str | None = None,
        under_pressure_s: float | None = None,
        trace: ForceTrace | None = None,
    ) -> None:
        """Write one finished step (and its force trace) in one transaction.

        A step visited again (Back) replaces its earlier row, as the engine's record does.
        """
        blob = encode_trace(trace) if trace is not None else None
        values = step_values(step, verdict, under_pressure_s)
        with translated(self.where), write_txn(self.engine) as conn:
            step_id = self._upsert_step(conn, session_id, step.index, values)
            if blob is not None and trace is not None:
                conn.execute(delete(TR).where(TR.c.step_id == step_id))
                conn.execute(
                    insert(TR).values(
                        step_id=step_id,
                        codec=CODEC,
                        rate_hz=trace.rate_hz,
                        n_samples=len(trace.values),
                        data=blob,
                    )
                )

    @staticmethod
    def _upsert_step(conn: Any, session_id: int, idx: int, values: dict[str, Any]) -> int:
        found = conn.execute(
            select(ST.c.id).where(ST.c.session_id == session_id, ST.c.idx == idx)
        ).scalar()
        if found is not None:
            conn.execute(update(ST).where(ST.c.id == found).values(**values))
            return int(found)
        res = conn.execute(insert(ST).values(session_id=session_id, idx=idx, **values))
        return int(res.inserted_primary_key[0])

    def end_session(
        self,
        session_id: int,
        status: str,
        pain_after: int | None = None,
        notes: str = "",
        *,
        ended: datetime | None = None,
        elapsed_s: float | None = None,
    ) -> None:
        """Close a run as completed, aborted or interrupted."""
        if status not in STATUSES or status == "in_progress":
            raise StoreError(f"cannot end a session as {status!r}", EXIT_DATAERR)
        _check_pain(pain_after, "pain_after")
        values: dict[str, Any] = {"status": status, "ended_utc": _utc(ended) or datetime.now(UTC)}
        if pain_after is not None:
            values["pain_after"] = pain_after
        if notes:
            values["notes"] = notes
        if elapsed_s is not None:
            values["elapsed_s"] = float(elapsed_s)
        with translated(self.where), write_txn(self.engine) as conn:
            conn.execute(update(S).where(S.c.id == session_id).values(**values))

    def update_session(
        self,
        session_id: int,
        *,
        pain_after: int | None = None,
        notes: str | None = None,
        sensor_notice: str | None = None,
    ) -> None:
        """Add what is asked after a run (pain after, notes), or why its sensor gave no
        readings."""
        _check_pain(pain_after, "pain_after")
        values: dict[str, Any] = {}
        if sensor_notice is not None:
            values["sensor_notice"] = sensor_notice[:1000]
        if pain_after is not None:
            values["pain_after"] = pain_after
        if notes is not None:
            values["notes"] = notes
        if values:
            with translated(self.where), write_txn(self.engine) as conn:
                conn.execute(update(S).where(S.c.id == session_id).values(**values))

    def recover_interrupted(self, *, now: datetime | None = None) -> list[dict[str, Any]]:
        """Mark runs left "in progress" by a dead process as interrupted; return them.

        A run whose recording process is still alive on this machine is left alone (it
        is being recorded right now); one older than 12 hours is dead whatever its pid.
        The caller tells the user once: the next call finds nothing.
        """
        now = _utc(now) or datetime.now(UTC)
        host = socket.gethostname()
        with translated(self.where), write_txn(self.engine) as conn:
            rows = conn.execute(
                select(
                    S.c.id, S.c.uuid, S.c.started_utc, S.c.routine, S.c.pid, S.c.host, S.c.local_day
                ).where(S.c.status == "in_progress")
            ).all()
            dead = []
            for r in rows:
                started = _utc(r.started_utc) or now
                alive = r.host == host and r.pid is not None and _pid_alive(int(r.pid))
                if alive and now - started < STALE_AFTER:
                    continue
                dead.append(r)
            out = []
            for r in dead:
                n_steps = conn.execute(
                    select(func.count()).select_from(ST).where(ST.c.session_id == r.id)
                ).scalar_one()
                conn.execute(update(S).where(S.c.id == r.id).values(status="interrupted"))
                out.append(
                    {
                        "id": r.id,
                        "uuid": r.uuid,
                        "started_utc": _iso(r.started_utc),
                        "local_day": str(r.local_day),
                        "routine": r.routine,
                        "steps_recorded": int(n_steps),
                    }
                )
        return out

    # ------------------------------------------------------------------ reading

    def done_days(self) -> set[date]:
        with translated(self.where), self.engine.connect() as conn:
            rows = (
                conn.execute(select(S.c.local_day).where(text(stats.DONE_SQL)).distinct())
                .scalars()
                .all()
            )
        return parse_days(list(rows))

    def home(self, today: date | None = None, tz: str | None = None) -> HomeData:
        today = today or stats.today_in(tz or stats.local_zone_name())
        with translated(self.where), self.engine.connect() as conn:
            row = conn.execute(
                select(S.c.started_utc, S.c.tz, S.c.status, S.c.elapsed_s, S.c.routine)
                .order_by(S.c.started_utc.desc())
                .limit(1)
            ).first()
        return summarize(self.done_days(), today, last=parse_last(tuple(row) if row else None))

    def history(
        self, today: date | None = None, tz: str | None = None, recent: int = 500
    ) -> HistoryData:
        """The History screen's data: streak, calendar, adherence, pain, recent sessions."""
        today = today or stats.today_in(tz or stats.local_zone_name())
        home = self.home(today=today)
        with translated(self.where), self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(S)).scalar_one()
            rows = (
                conn.execute(
                    select(*(S.c[f] for f in SESSION_FIELDS), S.c.id)
                    .order_by(S.c.started_utc.desc())
                    .limit(recent)
                )
                .mappings()
                .all()
            )
        sessions = [self._session_dict(r) for r in rows]
        pain = [
            PainPoint(date.fromisoformat(s["local_day"]), s["pain_before"], s["pain_after"])
            for s in reversed(sessions)
            if s["status"] == "completed"
            and (s["pain_before"] is not None or s["pain_after"] is not None)
        ]
        return HistoryData(
            home=home,
            calendar=stats.calendar_text(home.done_days, today),
            pain=pain,
            sessions=sessions,
            total_sessions=int(total),
        )

    @staticmethod
    def _session_dict(r: Mapping[Any, Any]) -> dict[str, Any]:
        d: dict[str, Any] = {f: r[f] for f in SESSION_FIELDS}
        d["started_utc"] = _iso(d["started_utc"])
        d["ended_utc"] = _iso(d["ended_utc"])
        d["local_day"] = str(d["local_day"])
        if "id" in r:
            d = {"id": r["id"], **d}
        return d

    def sessions(
        self,
        *,
        limit: int | None = None,
        steps: bool = True,
        traces: str = "summary",
        ids: Iterable[int] | None = None,
    ) -> list[dict[str, Any]]:
        """Sessions oldest first, each with its steps.

        traces: "none", "summary" (codec, rate, sample count) or "data" (the blob as
        base64, for a lossless export).
        """
        with translated(self.where), self.engine.connect() as conn:
            q = select(*(S.c[f] for f in SESSION_FIELDS), S.c.id).order_by(S.c.started_utc, S.c.id)
            if ids is not None:
                q = q.where(S.c.id.in_(list(ids)))
            if limit is not None:
                q = q.order_by(None).order_by(S.c.started_utc.desc(), S.c.id.desc()).limit(limit)
            rows = [self._session_dict(r) for r in conn.execute(q).mappings().all()]
            if limit is not None:
                rows.reverse()
            if not steps:
                return rows
            by_id = {r["id"]: r for r in rows}
            for r in rows:
                r["steps"] = []
            cols = [
                ST.c.session_id,
                ST.c.id.label("step_id"),
                ST.c.idx,
                *(ST.c[f] for f in STEP_FIELDS if f != "index"),
            ]
            if traces != "none":
                cols += [TR.c.codec, TR.c.rate_hz, TR.c.n_samples]
                if traces == "data":
                    cols.append(TR.c.data)
            sq = select(*cols)
            if traces != "none":
                sq = sq.select_from(ST.outerjoin(TR, TR.c.step_id == ST.c.id))
            if ids is not None or limit is not None:
                sq = sq.where(ST.c.session_id.in_(list(by_id)))
            for s in conn.execute(sq.order_by(ST.c.session_id, ST.c.idx)).mappings():
                owner = by_id.get(s["session_id"])
                if owner is None:
                    continue
                step: dict[str, Any] = {"index": s["idx"]}
                for f in STEP_FIELDS[1:]:
                    step[f] = s[f]
                step["skipped"] = bool(step["skipped"])
                step["completed"] = bool(step["completed"])
                if traces != "none":
                    step["trace"] = None
                    if s["codec"] is not None:
                        step["trace"] = {
                            "codec": s["codec"],
                            "rate_hz": s["rate_hz"],
                            "n_samples": s["n_samples"],
                        }
                        if traces == "data":
                            step["trace"]["data"] = base64.b64encode(s["data"]).decode("ascii")
                owner["steps"].append(step)
        return rows

    def session_traces(self, session_id: int) -> list[tuple[dict[str, Any], ForceTrace]]:
        """Each press of a session with its decoded force trace, in step order."""
        with translated(self.where), self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(ST.c.idx, ST.c.name, ST.c.side, ST.c.verdict, TR.c.data)
                    .select_from(ST.join(TR, TR.c.step_id == ST.c.id))
                    .where(ST.c.session_id == session_id)
                    .order_by(ST.c.idx)
                )
                .mappings()
                .all()
            )
        out = []
        for r in rows:
            try:
                tr = decode_trace(r["data"])
            except TraceError:
                continue  # a damaged blob hides one curve, not the session
            out.append(
                (
                    {
                        "index": r["idx"],
                        "name": r["name"],
                        "side": r["side"],
                        "verdict": r["verdict"],
                    },
                    tr,
                )
            )
        return out

    # ------------------------------------------------------------------ import / export

    def export_data(self) -> dict[str, Any]:
        """Everything, losslessly (traces as base64 blobs), for `hiphook export`."""
        sessions = self.sessions(traces="data")
        for s in sessions:
            s.pop("id", None)
        return {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "sessions": sessions}

    def import_data(self, data: Any, source: str = "import") -> ImportResult:
        """Add sessions from an export; sessions whose uuid is already here are skipped.

        The whole file is validated first and written in one transaction: a bad file
        adds nothing.
        """
        sessions = validate_export(data, source)
        recovery = data.get("format_role") == RECOVERY_ROLE
        result = ImportResult()
        with translated(self.where), write_txn(self.engine) as conn:
            rows = conn.execute(
                select(S.c.uuid, S.c.id).where(S.c.uuid.in_([s["uuid"] for s in sessions]))
            ).all()
            have: dict[str, int] = {str(u): int(i) for u, i in rows}
            for s in sessions:
                if s["uuid"] in have:
                    if recovery and self._merge_recovered(conn, int(have[s["uuid"]]), s):
                        result.merged += 1
                    else:
                        result.skipped += 1
                    continue
                have[s["uuid"]] = -1
                row = {f: s[f] for f in SESSION_FIELDS}
                sid = _new_id(conn.execute(insert(S).values(**row, pid=None, host=None)))
                for st in s["steps"]:
                    values = {f: st[f] for f in STEP_FIELDS if f != "index"}
                    step_id = _new_id(
                        conn.execute(insert(ST).values(session_id=sid, idx=st["index"], **values))
                    )
                    tr = st.get("trace")
                    if tr:
                        conn.execute(
                            insert(TR).values(
                                step_id=step_id,
                                codec=tr["codec"],
                                rate_hz=tr["rate_hz"],
                                n_samples=tr["n_samples"],
                                data=tr["data"],
                            )
                        )
                result.added += 1
                result.uuids.append(s["uuid"])
        return result

    def _merge_recovered(self, conn: Any, sid: int, s: dict[str, Any]) -> bool:
        """A recovery file's session whose start is already in the log: its steps and its
        end go into that row. Only a session the log never saw end is changed."""
        status = conn.execute(select(S.c.status).where(S.c.id == sid)).scalar_one()
        if status not in ("in_progress", "interrupted"):
            return False
        for st in s["steps"]:
            values = {f: st[f] for f in STEP_FIELDS if f != "index"}
            step_id = self._upsert_step(conn, sid, st["index"], values)
            tr = st.get("trace")
            if tr:
                conn.execute(delete(TR).where(TR.c.step_id == step_id))
                conn.execute(
                    insert(TR).values(
                        step_id=step_id,
                        codec=tr["codec"],
                        rate_hz=tr["rate_hz"],
                        n_samples=tr["n_samples"],
                        data=tr["data"],
                    )
                )
        end = {f: s[f] for f in ("status", "ended_utc", "elapsed_s", "pain_after", "notes")}
        if end["status"] == "in_progress":
            end["status"] = "interrupted"  # the process that wrote it has ended
        if s.get("sensor_notice"):
            end["sensor_notice"] = s["sensor_notice"]
        conn.execute(update(S).where(S.c.id == sid).values(**end))
        return True


def _check_pain(value: int | None, name: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise StoreError(f"{name} must be a whole number from 0 to 10, not {value!r}", EXIT_DATAERR)


def open_store(
    target: str | os.PathLike[str] | None = None, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS
) -> Store:
    """Open (creating privately if needed) and migrate the log; StoreError if unusable.

    target: a path or SQLAlchemy URL; None means HIPHOOK_DB, then the user data dir.
    A locked, read-only, corrupt, foreign or newer database raises StoreError and is
    left byte-for-byte as it was.
    """
    loc = resolve(target)
    where = f"the database {loc.path}" if loc.path else f"the database {shown_url(loc.url)}"
    rev: str | None = None
    if loc.path is not None:
        created = ensure_private_file(loc.path)
        rev = None if created else preflight_sqlite(loc.path, busy_timeout_ms)
    try:
        engine = create_engine(loc, busy_timeout_ms=busy_timeout_ms)
    except StoreError:
        raise
    except Exception as err:  # a bad URL or a missing driver
        raise StoreError(
            f"cannot use database URL {shown_url(loc.url)!r}: {err}", EXIT_DATAERR
        ) from None
    try:
        if loc.path is None:
            rev = current_revision(engine, where)
        if rev != schema_head():
            upgrade(engine, where)
        with translated(where), write_txn(engine):
            pass  # takes and drops the write lock: "locked" is reported now, not mid-run
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, loc)
