"""Heart rate from wearables: CSV import, linking to sessions, HR change and RMSSD.

Accepted CSV: a header row naming a time column (``timestamp``, ``time``,
``datetime`` or ``date``), a heart-rate column (``bpm``, ``hr``, ``heart_rate``,
``heartrate``, ``heart rate``) and optionally RR intervals (``rr``, ``rr_ms``,
``rr_intervals``; several values per row separated by spaces or ``;``, in ms —
or in seconds when all are below 3). Times are ISO 8601 (a missing zone is
taken as UTC) or Unix seconds. Every malformed row is reported with its line
number and nothing is imported unless the whole file is clean.

Measures (for a session of start ``t0`` and length ``T``):

* mean heart rate in the first and in the last 5 minutes of the session, and
  their difference (last − first, bpm);
* RMSSD, the root mean square of successive RR-interval differences (ms) —
  Task Force of the ESC and NASPE (1996), "Heart rate variability: standards of
  measurement, physiological interpretation and clinical use", *Circulation*
  93:1043–1065 — over the whole session, first and last 5 minutes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select

from ..store import HRRecording, HRSample, Session, Store
from .errors import HRImportError, JournalError
from .profiles import profile_id

TIME_COLS = ("timestamp", "time", "datetime", "date", "date_time", "unix_time")
BPM_COLS = ("bpm", "hr", "heart_rate", "heartrate", "heart rate", "heart_rate_bpm")
RR_COLS = ("rr", "rr_ms", "rr_intervals", "rr interval", "rr_interval", "ibi", "ibi_ms")
WINDOW_S = 300.0
BPM_RANGE = (20.0, 300.0)
RR_RANGE_MS = (200.0, 3000.0)


@dataclass(frozen=True)
class HRData:
    """Parsed samples: times (UTC), bpm (NaN where only RR was given), RR lists (ms)."""

    t: tuple[dt.datetime, ...]
    bpm: tuple[float | None, ...]
    rr_ms: tuple[tuple[float, ...] | None, ...]

    def __len__(self) -> int:
        return len(self.t)


@dataclass(frozen=True)
class SessionHR:
    """Heart rate during one session. ``None`` where the data do not cover the window."""

    session_id: int
    first5_bpm: float | None
    last5_bpm: float | None
    change_bpm: float | None
    rmssd_ms: float | None
    rmssd_first5_ms: float | None
    rmssd_last5_ms: float | None
    n_samples: int

    def as_dict(self) -> dict[str, float | int | None]:
        return dict(self.__dict__)


def _parse_time(text: str) -> dt.datetime:
    s = text.strip()
    try:
        v = float(s)
    except ValueError:
        pass
    else:
        if not math.isfinite(v):
            raise ValueError(f"time {text!r} is not finite")
        if v > 1e11:  # milliseconds
            v /= 1000.0
        return dt.datetime.fromtimestamp(v, dt.UTC)
    t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def _parse_rr(text: str) -> tuple[float, ...] | None:
    parts = [p for p in text.replace(";", " ").replace("|", " ").split() if p]
    if not parts:
        return None
    vals = [float(p) for p in parts]
    if all(v < 3.0 for v in vals):
        vals = [v * 1000.0 for v in vals]
    for v in vals:
        if not (math.isfinite(v) and RR_RANGE_MS[0] <= v <= RR_RANGE_MS[1]):
            raise ValueError(
                f"RR interval {v:g} ms outside {RR_RANGE_MS[0]:g}-{RR_RANGE_MS[1]:g} ms"
            )
    return tuple(vals)


def parse_hr_csv(text: str, *, source: str = "<csv>") -> HRData:
    """Parse a heart-rate CSV; raise :class:`HRImportError` listing every malformed row."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        raise HRImportError(
            source, [(1, "empty file: expected a header such as timestamp,bpm,rr")]
        ) from None
    cols = [h.strip().lower() for h in header]

    def find(names: Sequence[str]) -> int | None:
        for n in names:
            if n in cols:
                return cols.index(n)
        return None

    it, ib, ir = find(TIME_COLS), find(BPM_COLS), find(RR_COLS)
    if it is None or (ib is None and ir is None):
        raise HRImportError(
            source,
            [
                (
                    1,
                    f"header {header!r} needs a time column ({'/'.join(TIME_COLS[:3])}) "
                    f"and bpm and/or rr",
                )
            ],
        )
    ts: list[dt.datetime] = []
    bpms: list[float | None] = []
    rrs: list[tuple[float, ...] | None] = []
    problems: list[tuple[int, str]] = []
    for row in reader:
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        try:
            if len(row) > len(cols):
                raise ValueError(f"{len(row)} fields, header has {len(cols)}")
            cell = row + [""] * (len(cols) - len(row))
            t = _parse_time(cell[it])
            bpm: float | None = None
            if ib is not None and cell[ib].strip():
                bpm = float(cell[ib])
                if not (math.isfinite(bpm) and BPM_RANGE[0] <= bpm <= BPM_RANGE[1]):
                    raise ValueError(
                        f"heart rate {cell[ib].strip()} outside {BPM_RANGE[0]:g}-{BPM_RANGE[1]:g} bpm"
                    )
            rr = _parse_rr(cell[ir]) if ir is not None else None
            if bpm is None and rr is None:
                raise ValueError("neither a heart rate nor an RR interval")
        except (ValueError, OverflowError, OSError) as exc:
            problems.append((line, str(exc)))
            continue
        if ts and t < ts[-1]:
            problems.append((line, f"time {t.isoformat()} goes back before the previous row"))
            continue
        ts.append(t)
        bpms.append(bpm)
        rrs.append(rr)
    if problems:
        raise HRImportError(source, problems)
    if not ts:
        raise HRImportError(source, [(1, "no data rows")])
    return HRData(tuple(ts), tuple(bpms), tuple(rrs))


def rmssd(rr_ms: Sequence[float]) -> float | None:
    """Root mean square of successive differences of RR intervals (ms); ``None`` if < 2 intervals."""
    x = np.asarray(rr_ms, dtype=np.float64)
    if x.size < 2:
        return None
    return float(np.sqrt(np.mean(np.diff(x) ** 2)))


def summarize(
    data: HRData, start: dt.datetime, duration_s: float, session_id: int = 0
) -> SessionHR:
    """Heart-rate measures of a session from ``start`` lasting ``duration_s`` seconds.

    The first window is [start, start + 5 min), the last [end − 5 min, end];
    for sessions shorter than 10 min the windows are the first and last halves.
    """
    end = start + dt.timedelta(seconds=duration_s)
    win = dt.timedelta(seconds=min(WINDOW_S, duration_s / 2.0))
    first_bpm: list[float] = []
    last_bpm: list[float] = []
    rr_all: list[float] = []
    rr_first: list[float] = []
    rr_last: list[float] = []
    n = 0
    for t, b, rr in zip(data.t, data.bpm, data.rr_ms):
        if not start <= t <= end:
            continue
        n += 1
        in_first, in_last = t < start + win, t >= end - win
        if b is not None:
            if in_first:
                first_bpm.append(b)
            if in_last:
                last_bpm.append(b)
        if rr:
            rr_all.extend(rr)
            if in_first:
                rr_first.extend(rr)
            if in_last:
                rr_last.extend(rr)
    f = float(np.mean(first_bpm)) if first_bpm else None
    la = float(np.mean(last_bpm)) if last_bpm else None
    return SessionHR(
        session_id,
        f,
        la,
        (la - f) if f is not None and la is not None else None,
        rmssd(rr_all),
        rmssd(rr_first),
        rmssd(rr_last),
        n,
    )


def import_hr(
    store: Store, profile: str, path: str | Path, *, session_id: int | None = None
) -> tuple[int, int | None, int]:
    """Import a heart-rate CSV, all or nothing; return (recording id, linked session id, rows).

    Without ``session_id`` the recording is linked to the profile's session
    that overlaps it most (if any).
    """
    p = Path(path)
    data = parse_hr_csv(p.read_text(encoding="utf-8-sig", errors="strict"), source=str(p))
    with store.session() as s:
        pid = profile_id(s, profile, create=True)
        if session_id is not None:
            sess = s.get(Session, session_id)
            if sess is None or sess.profile_id != pid:
                raise JournalError(f"no session {session_id} in profile {profile!r}")
        else:
            session_id = _best_session(s, pid, data.t[0], data.t[-1])
        rec = HRRecording(profile_id=pid, session_id=session_id, source=p.name)
        s.add(rec)
        s.flush()
        s.execute(
            insert(HRSample),
            [
                {"recording_id": rec.id, "t": t, "bpm": b, "rr_ms": list(rr) if rr else None}
                for t, b, rr in zip(data.t, data.bpm, data.rr_ms)
            ],
        )
        return int(rec.id), session_id, len(data)


def _best_session(s: object, pid: int, t0: dt.datetime, t1: dt.datetime) -> int | None:
    from sqlalchemy.orm import Session as Orm

    assert isinstance(s, Orm)
    best, best_overlap = None, 0.0
    rows = s.execute(
        select(Session).where(Session.profile_id == pid, Session.started_at <= t1)
    ).scalars()
    for x in rows:
        end = x.started_at + dt.timedelta(seconds=x.duration_s or 0.0)
        overlap = (min(end, t1) - max(x.started_at, t0)).total_seconds()
        if overlap > best_overlap:
            best, best_overlap = x.id, overlap
    return best


def session_hr(store: Store, session_id: int) -> SessionHR | None:
    """Heart-rate measures of a stored session from its linked recordings (``None`` if none)."""
    with store.session() as s:
        sess = s.get(Session, session_id)
        if sess is None or not sess.duration_s:
            return None
        rows = (
            s.execute(
                select(HRSample)
                .join(HRRecording)
                .where(HRRecording.session_id == session_id)
                .order_by(HRSample.t)
            )
            .scalars()
            .all()
        )
        if not rows:
            return None
        data = HRData(
            tuple(r.t for r in rows),
            tuple(r.bpm for r in rows),
            tuple(tuple(r.rr_ms) if r.rr_ms else None for r in rows),
        )
        return summarize(data, sess.started_at, sess.duration_s, session_id)
