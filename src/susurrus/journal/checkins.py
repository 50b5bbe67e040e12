"""Sessions and check-ins: what played, and how the person felt before and after.

A check-in rates stress, anxiety, mood and calm on 0–10 scales, tingles
intensity on 0–10 (0 = none), and keeps a free note. A *before* check-in
usually opens a session; the *after* check-in closes it as completed or
stopped.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..errors import ParameterError
from ..store import CheckIn, Session, SleepEntry, Store
from .errors import JournalError
from .profiles import profile_id

RATINGS = ("stress", "anxiety", "mood", "calm", "tingles")
GOALS = ("relax", "sleep", "focus", "unwind", "stress", "other")
MAX_NOTE = 20_000


@dataclass(frozen=True)
class Ratings:
    """0–10 ratings of one check-in; ``None`` = not answered."""

    stress: int | None = None
    anxiety: int | None = None
    mood: int | None = None
    calm: int | None = None
    tingles: int | None = None

    def __post_init__(self) -> None:
        for name in RATINGS:
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 10:
                raise ParameterError(name, v, "an integer 0-10 (or leave it out)")

    def as_dict(self) -> dict[str, int | None]:
        return {k: getattr(self, k) for k in RATINGS}


def check_note(note: str | None) -> str | None:
    """A free-text note: any Unicode except NUL (which databases cannot store), ≤ 20 000 chars."""
    if note is None:
        return None
    if not isinstance(note, str) or "\x00" in note or len(note) > MAX_NOTE:
        raise ParameterError(
            "note",
            note if not isinstance(note, str) else note[:40],
            f"text of at most {MAX_NOTE} characters without NUL (\\x00)",
        )
    return note


def _check_at(name: str, at: dt.datetime | None) -> dt.datetime | None:
    if at is not None and (at.tzinfo is None or at.utcoffset() is None):
        raise ParameterError(name, at, "a timezone-aware date-time")
    return at


def scene_family(scene: Mapping[str, Any] | None) -> str | None:
    """The main trigger family of a scene dict: the first layer's ``trigger``."""
    if not isinstance(scene, Mapping):
        return None
    for layer in scene.get("layers") or []:
        if isinstance(layer, Mapping) and layer.get("trigger"):
            return str(layer["trigger"]).split(":")[0]
    return None


def start_session(
    store: Store,
    profile: str,
    *,
    scene: Mapping[str, Any] | None = None,
    goal: str | None = None,
    family: str | None = None,
    duration_s: float | None = None,
    started_at: dt.datetime | None = None,
) -> int:
    """Record the start of a session; return its id (the profile is created if new).

    ``family`` defaults to the scene's first trigger layer.
    """
    if duration_s is not None and (not math.isfinite(duration_s) or duration_s < 0):
        raise ParameterError("duration_s", duration_s, "a finite number of seconds >= 0")
    if goal is not None and (not goal or len(goal) > 64 or "\x00" in goal):
        raise ParameterError(
            "goal", goal, f"one of {', '.join(GOALS)} (or another word, <= 64 chars)"
        )
    _check_at("started_at", started_at)
    with store.session() as s:
        row = Session(
            profile_id=profile_id(s, profile, create=True),
            scene=dict(scene) if scene is not None else None,
            goal=goal,
            family=family or scene_family(scene),
            duration_s=duration_s,
            outcome="open",
        )
        if started_at is not None:
            row.started_at = started_at
        s.add(row)
        s.flush()
        return int(row.id)


def finish_session(
    store: Store, session_id: int, *, completed: bool, duration_s: float | None = None
) -> None:
    """Mark a session completed or stopped (and set its listened duration)."""
    if duration_s is not None and (not math.isfinite(duration_s) or duration_s < 0):
        raise ParameterError("duration_s", duration_s, "a finite number of seconds >= 0")
    with store.session() as s:
        row = s.get(Session, session_id)
        if row is None:
            raise JournalError(f"no session with id {session_id}")
        row.outcome = "completed" if completed else "stopped"
        if duration_s is not None:
            row.duration_s = duration_s


def add_checkin(
    store: Store,
    profile: str,
    ratings: Ratings,
    *,
    phase: str = "standalone",
    session_id: int | None = None,
    note: str | None = None,
    at: dt.datetime | None = None,
) -> int:
    """Record a check-in; return its id.

    ``phase`` is ``before``, ``after`` or ``standalone``; ``before``/``after``
    need a ``session_id`` of the same profile, and each session has at most one
    of each.
    """
    if phase not in ("before", "after", "standalone"):
        raise ParameterError("phase", phase, "before, after or standalone")
    if phase != "standalone" and session_id is None:
        raise ParameterError("session_id", None, f"a session id for a {phase!r} check-in")
    check_note(note)
    _check_at("at", at)
    with store.session() as s:
        pid = profile_id(s, profile, create=True)
        if session_id is not None:
            sess = s.get(Session, session_id)
            if sess is None or sess.profile_id != pid:
                raise JournalError(f"no session {session_id} in profile {profile!r}")
            dup = s.execute(
                select(CheckIn.id).where(CheckIn.session_id == session_id, CheckIn.phase == phase)
            ).first()
            if dup is not None:
                raise JournalError(f"session {session_id} already has a {phase!r} check-in")
        row = CheckIn(
            profile_id=pid, session_id=session_id, phase=phase, note=note, **ratings.as_dict()
        )
        if at is not None:
            row.at = at
        s.add(row)
        s.flush()
        return int(row.id)


def latest_open_session(store: Store, profile: str) -> int | None:
    """The newest session of ``profile`` that has no *after* check-in yet."""
    with store.session() as s:
        pid = profile_id(s, profile)
        has_after = select(CheckIn.session_id).where(
            CheckIn.phase == "after", CheckIn.session_id.is_not(None)
        )
        sid = s.execute(
            select(Session.id)
            .where(Session.profile_id == pid, Session.id.not_in(has_after))
            .order_by(Session.started_at.desc(), Session.id.desc())
            .limit(1)
        ).scalar()
        return None if sid is None else int(sid)


def list_entries(
    store: Store, profile: str, *, since: dt.datetime | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Sessions (with their check-ins), standalone check-ins and sleep entries, oldest first.

    Each entry is a dict with ``kind`` = ``session`` | ``checkin`` | ``sleep``
    and a UTC ``at`` timestamp (sleep: the night's date). ``limit`` keeps only the
    newest ``limit`` entries (each table is read newest first, at most ``limit`` rows).
    """
    from .sleep import entry_metrics

    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ParameterError("limit", limit, "a whole number >= 1 (or None for all)")
    out: list[tuple[str, dict[str, Any]]] = []
    with store.session() as s:
        pid = profile_id(s, profile)
        sq = select(Session).where(Session.profile_id == pid)
        if since is not None:
            sq = sq.where(Session.started_at >= since)
        if limit is not None:
            sq = sq.order_by(Session.started_at.desc(), Session.id.desc()).limit(limit)
        sessions = s.execute(sq).scalars().all()
        cq = select(CheckIn).where(CheckIn.profile_id == pid)
        if limit is not None:  # the newest standalone ones, and those of the sessions shown
            alone = (cq.where(CheckIn.session_id.is_(None))
                     .order_by(CheckIn.at.desc(), CheckIn.id.desc()).limit(limit))
            linked = cq.where(CheckIn.session_id.in_([x.id for x in sessions]))
            checkins = [*s.execute(alone).scalars(), *s.execute(linked).scalars()]
        else:
            checkins = list(s.execute(cq).scalars())
        by_session: dict[int, dict[str, Any]] = {}
        for c in checkins:
            d = {
                "id": c.id,
                "phase": c.phase,
                "at": c.at.isoformat(),
                "note": c.note,
                **_ratings(c),
            }
            if c.session_id is not None:
                by_session.setdefault(c.session_id, {})[c.phase] = d
            elif since is None or c.at >= since:
                out.append((c.at.isoformat(), {"kind": "checkin", **d}))
        for x in sessions:
            out.append(
                (
                    x.started_at.isoformat(),
                    {
                        "kind": "session",
                        "id": x.id,
                        "at": x.started_at.isoformat(),
                        "goal": x.goal,
                        "family": x.family,
                        "duration_s": x.duration_s,
                        "outcome": x.outcome,
                        "before": by_session.get(x.id, {}).get("before"),
                        "after": by_session.get(x.id, {}).get("after"),
                    },
                )
            )
        lq = select(SleepEntry).where(SleepEntry.profile_id == pid)
        if since is not None:
            lq = lq.where(SleepEntry.night >= since.date())
        if limit is not None:
            lq = lq.order_by(SleepEntry.night.desc(), SleepEntry.id.desc()).limit(limit)
        for e in s.execute(lq).scalars():
            out.append(
                (
                    e.night.isoformat(),
                    {
                        "kind": "sleep",
                        "id": e.id,
                        "at": e.night.isoformat(),
                        "night": e.night.isoformat(),
                        "quality": e.quality,
                        "note": e.note,
                        **entry_metrics(e).as_dict(),
                    },
                )
            )
    out.sort(key=lambda p: p[0])
    if limit is not None:
        out = out[-limit:]
    return [d for _, d in out]


def _ratings(c: CheckIn) -> dict[str, int | None]:
    return {k: getattr(c, k) for k in RATINGS}
