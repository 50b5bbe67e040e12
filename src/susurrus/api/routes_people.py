"""Profiles, trigger discovery, the journal and questionnaires (every profile is the caller's own)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Query
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from ..errors import ParameterError
from .state import (
    AppState,
    Caller,
    State,
    attachment,
    family_label,
    internal_name,
    owned_profile,
    visible_name,
)

router = APIRouter(prefix="/api", tags=["profiles"])

Rating = Annotated[int | None, Field(None, ge=0, le=10)]


class NameBody(BaseModel):
    name: str


class AvoidBody(BaseModel):
    families: list[str]


class RateBody(BaseModel):
    clip_id: str
    tingles: int = Field(..., ge=0, le=10)
    relax: int = Field(..., ge=0, le=10)
    unpleasant: bool = False


class SessionBody(BaseModel):
    goal: Literal["relax", "sleep", "focus", "unwind"]
    duration_s: float | None = None


class CheckinBody(BaseModel):
    phase: Literal["before", "after", "standalone"] = "standalone"
    session_id: int | None = None
    stress: Rating = None
    anxiety: Rating = None
    mood: Rating = None
    calm: Rating = None
    tingles: Rating = None
    note: str | None = None


class FinishBody(BaseModel):
    outcome: Literal["completed", "stopped"]
    duration_s: float = Field(..., ge=0)


class SleepBody(BaseModel):
    night: dt.date
    bedtime: str
    lights_out: str
    sleep_latency_min: float = Field(..., ge=0)
    awakenings: int = Field(..., ge=0)
    wake_after_sleep_onset_min: float = Field(..., ge=0)
    final_wake: str
    out_of_bed: str
    quality: int | None = Field(None, ge=1, le=5)
    note: str | None = None


class QuestionnaireBody(BaseModel):
    instrument: Literal["phq9", "gad7"]
    answers: list[int]
    difficulty: int | None = None
    locale: str | None = None


def _summary(st: AppState, who: Caller, stored: str) -> dict[str, Any]:
    from ..profile.persist import load_listener

    m = load_listener(st.store, stored)
    s = m.summary()
    beliefs = [{**b, "label": family_label(b["family"])} for b in s["families"]]
    return {"name": visible_name(who, stored), "ratings": s["n_ratings"], "usable": s["usable"],
            "avoid": s["avoid"], "avoid_reasons": s["avoid_reasons"], "top": m.top(),
            "beliefs": beliefs, "sensitivity": s["sensitivity"]}


@router.get("/profiles", summary="The caller's profiles")
def profiles(st: State, who: Caller) -> list[dict[str, Any]]:
    from ..journal.profiles import list_profiles
    from ..profile.persist import load_listener

    out = []
    for stored in list_profiles(st.store):
        name = visible_name(who, stored)
        if name is None:
            continue
        try:
            m = load_listener(st.store, stored)
            out.append({"name": name, "ratings": m.n_ratings, "avoid": sorted(m.avoid)})
        except Exception:  # a journal-only profile (created by the CLI journal): no model yet
            out.append({"name": name, "ratings": 0, "avoid": []})
    return out


@router.post("/profiles", status_code=201, summary="Create a profile")
def create_profile(body: NameBody, st: State, who: Caller) -> dict[str, Any]:
    from ..profile.persist import create_listener

    stored = internal_name(who, body.name)
    create_listener(st.store, stored)
    return _summary(st, who, stored)


@router.get("/profiles/{name}", summary="A profile: beliefs per family, avoid-list, sensitivity")
def profile(name: str, st: State, who: Caller) -> dict[str, Any]:
    return _summary(st, who, _listener(st, who, name))


def _listener(st: AppState, who: Caller, name: str) -> str:
    """The stored name of the caller's profile, with a listener model (created if missing)."""
    from ..profile.persist import create_listener, load_listener

    stored = owned_profile(st, who, name)
    try:
        load_listener(st.store, stored)
    except Exception:
        create_listener(st.store, stored)
    return stored


@router.delete("/profiles/{name}", status_code=204, summary="Delete a profile and all its data")
def delete_profile(name: str, st: State, who: Caller,
                   x_confirm: Annotated[str | None, Header()] = None) -> Response:
    from ..store import delete_profile as drop

    if x_confirm != "delete":
        raise ParameterError("X-Confirm", x_confirm, "the header X-Confirm: delete")
    drop(st.store, owned_profile(st, who, name))
    return Response(status_code=204)


@router.get("/profiles/{name}/export", summary="Download everything in a profile (JSON)")
def export(name: str, st: State, who: Caller) -> Response:
    from ..store import export_profile

    doc = export_profile(st.store, owned_profile(st, who, name))
    return Response(json.dumps(doc, ensure_ascii=False, default=str), media_type="application/json",
                    headers=attachment(f"susurrus-{name}.json"))


@router.put("/profiles/{name}/avoid", summary="Set the avoid-list (family ids)")
def set_avoid(name: str, body: AvoidBody, st: State, who: Caller) -> dict[str, Any]:
    from ..profile.model import check_family
    from ..profile.persist import load_listener, save_listener

    stored = _listener(st, who, name)
    wanted = {check_family(f, name=f"families[{i}]") for i, f in enumerate(body.families)}
    m = load_listener(st.store, stored)
    if gone := m.avoided - wanted:
        m.remove_avoid(*gone)
    if new := wanted - m.avoided:
        m.add_avoid(*new)
    save_listener(st.store, m)
    return _summary(st, who, stored)


# -- discovery ----------------------------------------------------------------------------

def _clip_dir(st: AppState, stored: str) -> Any:
    import hashlib

    d = st.settings.web_dir("clips") / hashlib.sha256(stored.encode()).hexdigest()[:24]
    d.mkdir(exist_ok=True, mode=0o700)
    return d


@router.post("/profiles/{name}/clips", status_code=201, summary="Render the next discovery clip")
def next_clip(name: str, st: State, who: Caller) -> dict[str, Any]:
    from ..profile.discovery import next_clip as choose
    from ..profile.discovery import render_clip
    from ..profile.persist import load_listener, save_listener

    stored = _listener(st, who, name)
    m = load_listener(st.store, stored)
    spec = choose(m)
    render_clip(spec, _clip_dir(st, stored) / f"{spec['id']}.wav")
    save_listener(st.store, m)
    return {"id": spec["id"], "family": spec["family"], "label": family_label(spec["family"]),
            "variant": spec["variant"], "params": spec["params"], "duration_s": spec["duration_s"],
            "audio_url": f"/api/profiles/{name}/clips/{spec['id']}/audio"}


@router.get("/profiles/{name}/clips/{clip_id}/audio", summary="A rendered discovery clip (WAV)")
def clip_audio(name: str, clip_id: str, st: State, who: Caller) -> FileResponse:
    stored = owned_profile(st, who, name)
    if not clip_id.replace("-", "").isalnum():
        raise HTTPException(404, f"no clip {clip_id!r}")
    path = _clip_dir(st, stored) / f"{clip_id}.wav"
    if not path.is_file():
        raise HTTPException(404, f"no clip {clip_id!r}")
    return FileResponse(path, media_type="audio/wav")


@router.post("/profiles/{name}/ratings", summary="Rate a discovery clip")
def rate(name: str, body: RateBody, st: State, who: Caller) -> dict[str, Any]:
    from ..profile.persist import load_listener, save_listener

    stored = _listener(st, who, name)
    m = load_listener(st.store, stored)
    m.rate(clip_id=body.clip_id, tingles=body.tingles, relax=body.relax, unpleasant=body.unpleasant)
    save_listener(st.store, m)
    return _summary(st, who, stored)


@router.post("/profiles/{name}/sessions", summary="Build a personal session for a goal (scene + why)")
def personal_session(name: str, body: SessionBody, st: State, who: Caller) -> dict[str, Any]:
    from ..profile.persist import load_listener
    from ..profile.sessions import build_session

    stored = _listener(st, who, name)
    sess = build_session(load_listener(st.store, stored), body.goal,
                         duration_s=2700.0 if body.duration_s is None else body.duration_s)
    expl = sess.explanation.to_dict()
    return {"scene": sess.scene.to_dict(), "share": sess.scene.to_share_string(),
            "why": sess.explanation.lines(), "explanation": expl}


# -- journal ------------------------------------------------------------------------------

@router.post("/profiles/{name}/checkins", status_code=201, summary="A check-in (before, after or standalone)")
def checkin(name: str, body: CheckinBody, st: State, who: Caller) -> dict[str, Any]:
    from ..journal import Ratings, add_checkin

    stored = owned_profile(st, who, name)
    ratings = Ratings(stress=body.stress, anxiety=body.anxiety, mood=body.mood, calm=body.calm,
                      tingles=body.tingles)
    cid = add_checkin(st.store, stored, ratings, phase=body.phase, session_id=body.session_id, note=body.note)
    return {"id": cid}


@router.post("/profiles/{name}/journal/sessions/{sid}/finish", summary="Mark a journal session finished")
def finish(name: str, sid: int, body: FinishBody, st: State, who: Caller) -> dict[str, Any]:
    from ..journal import finish_session
    from ..store import Profile
    from ..store import Session as JSession

    stored = owned_profile(st, who, name)
    with st.store.session() as s:
        ok = s.execute(select(JSession.id).join(Profile, Profile.id == JSession.profile_id)
                       .where(JSession.id == sid, Profile.name == stored)).first()
    if ok is None:
        raise HTTPException(404, f"no session {sid} in profile {name!r}")
    finish_session(st.store, sid, completed=body.outcome == "completed", duration_s=body.duration_s)
    return {"id": sid}


@router.get("/profiles/{name}/journal", summary="Journal entries, newest first (at most `limit`)")
def journal(name: str, st: State, who: Caller, limit: Annotated[int, Query(ge=1, le=5000)] = 200) -> dict[str, Any]:
    from ..journal import list_entries
    from ..store import Profile, QuestionnaireResponse

    stored = owned_profile(st, who, name)
    entries = list_entries(st.store, stored, limit=limit)
    with st.store.session() as s:
        rows = s.execute(select(QuestionnaireResponse).join(Profile, Profile.id == QuestionnaireResponse.profile_id)
                         .where(Profile.name == stored)
                         .order_by(QuestionnaireResponse.taken_at.desc()).limit(limit)).scalars().all()
        entries += [{"kind": "questionnaire", "id": r.id, "at": r.taken_at.isoformat(),
                     "instrument": r.instrument, "score": r.score, "severity": r.severity} for r in rows]
    entries.sort(key=lambda e: str(e.get("at")), reverse=True)
    return {"entries": entries[:limit]}


@router.post("/profiles/{name}/sleep", status_code=201, summary="A sleep-diary night")
def sleep(name: str, body: SleepBody, st: State, who: Caller) -> dict[str, Any]:
    from ..journal.sleep import SleepAnswers, add_sleep_entry, resolve_clock

    stored = owned_profile(st, who, name)
    n = body.night
    answers = SleepAnswers(
        night=n, bed_time=resolve_clock(n, body.bedtime, name="bedtime"),
        try_sleep_time=resolve_clock(n, body.lights_out, name="lights_out"),
        sol_min=body.sleep_latency_min, awakenings=body.awakenings,
        waso_min=body.wake_after_sleep_onset_min,
        final_wake_time=resolve_clock(n, body.final_wake, name="final_wake"),
        out_of_bed_time=resolve_clock(n, body.out_of_bed, name="out_of_bed"),
        quality=body.quality, note=body.note)
    eid, metrics = add_sleep_entry(st.store, stored, answers)
    return {"id": eid, "metrics": metrics.as_dict()}


@router.get("/questionnaires/{instrument}", summary="A questionnaire's items and answer options")
def questionnaire(instrument: str, who: Caller) -> dict[str, Any]:
    from ..journal.questionnaires import get_instrument

    if instrument not in ("phq9", "gad7"):
        raise HTTPException(404, f"no questionnaire {instrument!r} (phq9, gad7)")
    inst = get_instrument(instrument)
    return {"instrument": inst.id, "title": inst.title, "prompt": inst.stem, "items": list(inst.items),
            "choices": [{"value": i, "label": o} for i, o in enumerate(inst.options)],
            "citation": inst.citation}


@router.post("/profiles/{name}/questionnaires", status_code=201,
             summary="Score and save a questionnaire; crisis resources when PHQ-9 item 9 is above 0")
def answer_questionnaire(name: str, body: QuestionnaireBody, st: State, who: Caller) -> dict[str, Any]:
    from ..journal.questionnaires import get_instrument, record_result, score_answers
    from ..safety import COMPLEMENT_NOTE_WEB, SCREENING_NOTE

    stored = owned_profile(st, who, name)
    res = score_answers(body.instrument, body.answers, difficulty=body.difficulty, locale=body.locale)
    rid = record_result(st.store, stored, res)
    out = res.to_json()
    out.update(id=rid, max_score=get_instrument(body.instrument).max_score,
               note=f"{SCREENING_NOTE} {COMPLEMENT_NOTE_WEB}")
    return out


@router.get("/profiles/{name}/insights", summary="What helps: paired before/after changes, by family")
def insights(name: str, st: State, who: Caller) -> dict[str, Any]:
    from ..journal.insights import compute_insights

    stored = owned_profile(st, who, name)
    out: dict[str, Any] = compute_insights(st.store, stored).to_json()
    out["profile"] = name
    out["series"] = _series(st, stored)
    return out


def _series(st: AppState, stored: str) -> list[dict[str, Any]]:
    """Per session: the before and after ratings (for the page's charts)."""
    from ..journal import list_entries

    rows = []
    for e in list_entries(st.store, stored):
        if e["kind"] == "session" and (e.get("before") or e.get("after")):
            rows.append({"at": e["at"], "family": e.get("family"), "goal": e.get("goal"),
                         "before": e.get("before"), "after": e.get("after")})
    return rows


@router.get("/profiles/{name}/report", summary="The journal report (HTML download)")
def report(name: str, st: State, who: Caller, locale: str | None = None) -> HTMLResponse:
    from ..journal.insights import compute_insights
    from ..journal.report import render_html

    stored = owned_profile(st, who, name)
    html = render_html(compute_insights(st.store, stored), locale=locale)
    return HTMLResponse(html, headers=attachment(f"susurrus-report-{name}.html"))
