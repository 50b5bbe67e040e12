"""Listen: presets, triggers, scenes, live streams and offline renders."""

from __future__ import annotations

import math
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ..errors import ParameterError
from ..scene import Scene, scene_from_dict, scene_from_share_string
from .state import AppState, Caller, State, attachment, family_label, internal_name, not_found

router = APIRouter(prefix="/api", tags=["listen"])

GOALS = ("relax", "sleep", "focus", "unwind")


class SceneBody(BaseModel):
    scene: dict[str, Any]


class StreamBody(BaseModel):
    preset: str | None = None
    scene: dict[str, Any] | None = None
    share: str | None = None
    profile: str | None = Field(None, description="record the session in this profile's journal; "
                                "with `goal`, build a personal session from the profile")
    goal: Literal["relax", "sleep", "focus", "unwind"] | None = None


class TimerBody(BaseModel):
    minutes: float = Field(..., description="stop after this many minutes (0.5-720)")
    fade_s: float = Field(120.0, description="fade-out length, 60-1800 s")


class ExtendBody(BaseModel):
    minutes: float = Field(..., description="add (or, negative, take away) minutes: -60…60")


class RenderBody(BaseModel):
    scene: dict[str, Any]
    format: Literal["flac", "ogg", "wav"] = "flac"
    duration_s: float | None = None


def _scene(data: dict[str, Any]) -> Scene:
    return scene_from_dict(data, source="scene")


def _no_recordings(scene: Scene) -> Scene:
    """Scenes from the browser may not read server files: recording layers are refused."""
    for i, la in enumerate(scene.layers):
        if la.kind == "recording":
            raise ParameterError(f"layers[{i}].kind", "recording", "trigger or script (the web app "
                                 "cannot read files on the server)")
    return scene


@router.get("/presets", summary="The built-in presets")
def presets(who: Caller) -> list[dict[str, Any]]:
    from ..profile.sessions import ordered_families
    from ..scene.presets import list_presets

    return [{"name": s.name, "description": s.description, "families": ordered_families(s),
             "duration_s": s.duration_s, "share": s.to_share_string(), "scene": s.to_dict()}
            for s in list_presets()]


@router.get("/triggers", summary="The trigger families, their variants and parameters")
def trigger_list(who: Caller) -> list[dict[str, Any]]:
    from .. import triggers

    out = []
    for fid in triggers.available():
        d = triggers.get(fid).describe()
        out.append({"id": fid, "label": family_label(fid), "description": d["description"],
                    "variants": d["variants"], "default_variant": d["variants"][0],
                    "params": {p["name"]: {k: p[k] for k in ("default", "min", "max", "unit", "description")}
                               for p in d["params"]}})
    return out


@router.get("/scenes/{share}", summary="Decode a share string")
def scene_from_share(share: str, who: Caller) -> dict[str, Any]:
    scene = _no_recordings(scene_from_share_string(share))
    return {"scene": scene.to_dict(), "share": scene.to_share_string()}


@router.post("/scenes/validate", summary="Validate a scene; returns it normalised, with its share string")
def validate_scene(body: SceneBody, who: Caller) -> dict[str, Any]:
    scene = _no_recordings(_scene(body.scene))
    return {"scene": scene.to_dict(), "share": scene.to_share_string()}


# -- streams ------------------------------------------------------------------------------

def _stream_scene(st: AppState, who: Caller, body: StreamBody) -> tuple[Scene, list[str] | None, str | None]:
    given = [k for k in ("preset", "scene", "share") if getattr(body, k) is not None]
    if body.goal is not None:
        if body.profile is None:
            raise ParameterError("profile", None, "a profile name for a personal session")
        if given:
            raise ParameterError("goal", body.goal, "either a goal (personal session) or preset/scene/share")
        from ..profile.persist import load_listener
        from ..profile.sessions import build_session
        from .state import owned_profile

        own = owned_profile(st, who, body.profile)
        sess = build_session(load_listener(st.store, own), body.goal)
        return sess.scene, sess.explanation.lines(), own
    if len(given) != 1:
        raise ParameterError("stream", given or None, "exactly one of preset, scene, share (or profile + goal)")
    if body.preset is not None:
        from ..scene.presets import load_preset

        scene = load_preset(body.preset)
    elif body.scene is not None:
        scene = _scene(body.scene)
    else:
        scene = scene_from_share_string(str(body.share))
    stored: str | None = None
    if body.profile is not None:
        from .state import owned_profile

        stored = owned_profile(st, who, body.profile)
    return _no_recordings(scene), None, stored


@router.post("/streams", status_code=201, summary="Start a live stream (preset, scene, share or personal session)")
async def start_stream(body: StreamBody, st: State, who: Caller) -> dict[str, Any]:
    from ..journal import start_session

    scene, why, stored = await run_in_threadpool(_stream_scene, st, who, body)
    live = await run_in_threadpool(st.pool.open, scene)
    jid = None
    if stored is not None:
        jid = await run_in_threadpool(lambda: start_session(
            st.store, stored, scene=scene.to_dict(), goal=body.goal or "relax", duration_s=0.0))
    try:
        stream = st.streams.add(who.key, live, profile=stored, journal_session_id=jid, why=why)
    except OverflowError as exc:
        raise HTTPException(503, str(exc)) from None
    out = stream.status()
    out.update(audio_url=f"/api/streams/{stream.id}/audio", why=why)
    return out


def _stream(st: AppState, who: Caller, sid: str) -> Any:
    stream = st.streams.get(sid, who.key)
    if stream is None:
        raise not_found(f"stream {sid!r}")
    return stream


@router.get("/streams/{sid}", summary="A stream's state: position, bytes sent, timer")
def stream_status(sid: str, st: State, who: Caller) -> dict[str, Any]:
    return dict(_stream(st, who, sid).status())


@router.get("/streams/{sid}/audio", summary="The live audio (endless 16-bit WAV, paced to real time)",
            response_class=StreamingResponse)
async def stream_audio(sid: str, st: State, who: Caller) -> StreamingResponse:
    stream = _stream(st, who, sid)
    if stream.session.finished:
        raise HTTPException(410, "this stream has finished (sleep timer)")
    return StreamingResponse(stream.audio(st.settings.lead_s), media_type="audio/wav",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.put("/streams/{sid}/scene", summary="Change the mix of a playing stream (heard within 2 s)")
def stream_update(sid: str, body: SceneBody, st: State, who: Caller) -> dict[str, Any]:
    stream = _stream(st, who, sid)
    stream.session.update(_no_recordings(_scene(body.scene)))
    return dict(stream.status())


@router.post("/streams/{sid}/timer", summary="Start (or restart) the sleep timer")
def stream_timer(sid: str, body: TimerBody, st: State, who: Caller) -> dict[str, Any]:
    stream = _stream(st, who, sid)
    if not (math.isfinite(body.minutes) and 0.5 <= body.minutes <= 720):
        raise ParameterError("minutes", body.minutes, "0.5-720 minutes")
    if not (math.isfinite(body.fade_s) and 60.0 <= body.fade_s <= 1800.0):
        raise ParameterError("fade_s", body.fade_s, "60-1800 s")
    stream.session.set_timer(body.minutes * 60.0, fade_s=body.fade_s)
    return dict(stream.status())


@router.post("/streams/{sid}/timer/extend", summary="Extend (or shorten) the sleep timer")
def stream_timer_extend(sid: str, body: ExtendBody, st: State, who: Caller) -> dict[str, Any]:
    stream = _stream(st, who, sid)
    if not (math.isfinite(body.minutes) and -60 <= body.minutes <= 60 and body.minutes != 0):
        raise ParameterError("minutes", body.minutes, "-60…60 minutes, not 0")
    stream.session.extend_timer(body.minutes * 60.0)
    return dict(stream.status())


@router.delete("/streams/{sid}/timer", summary="Cancel the sleep timer")
def stream_timer_cancel(sid: str, st: State, who: Caller) -> dict[str, Any]:
    stream = _stream(st, who, sid)
    stream.session.cancel_timer()
    return dict(stream.status())


@router.delete("/streams/{sid}", status_code=204, summary="Stop a stream")
def stream_stop(sid: str, st: State, who: Caller) -> Response:
    from ..journal import finish_session

    stream = _stream(st, who, sid)
    position, finished = stream.session.position_s, stream.session.finished
    st.streams.remove(sid)
    if stream.journal_session_id is not None:
        finish_session(st.store, stream.journal_session_id, completed=finished, duration_s=position)
    return Response(status_code=204)


# -- offline renders ----------------------------------------------------------------------

@router.post("/renders", status_code=202, summary="Render a scene to a file (FLAC, OGG or WAV) in the background")
def start_render(body: RenderBody, st: State, who: Caller) -> dict[str, Any]:
    from ..render import render_to_file

    scene = _no_recordings(_scene(body.scene))
    if body.duration_s is not None:
        scene = scene_from_dict({**scene.to_dict(), "duration_s": body.duration_s}, source="scene")
    job = st.jobs.new(who.key, "render", name=f"{scene.name or 'session'}.{body.format}")
    path = st.settings.web_dir("renders") / f"{job.id}.{body.format}"

    def run(j: Any) -> None:
        total = scene.timing().total_s

        def progress(done_s: float, _total: float) -> None:
            j.progress = min(0.999, done_s / total) if total > 0 else 0.0

        render_to_file(scene, path, progress=progress)
        j.path = path

    st.jobs.submit(job, run)
    return {"id": job.id, "status_url": f"/api/renders/{job.id}"}


@router.get("/renders/{rid}", summary="A render job's progress")
def render_status(rid: str, st: State, who: Caller) -> dict[str, Any]:
    job = st.jobs.get(rid, who.key, "render")
    if job is None:
        raise not_found(f"render {rid!r}")
    out = job.public()
    out["download_url"] = f"/api/renders/{rid}/file" if job.status == "done" else None
    return out


@router.get("/renders/{rid}/file", summary="Download a finished render")
def render_file(rid: str, st: State, who: Caller, request: Request) -> FileResponse:
    job = st.jobs.get(rid, who.key, "render")
    if job is None or job.status != "done" or job.path is None:
        raise not_found(f"finished render {rid!r}")
    media = {"flac": "audio/flac", "ogg": "audio/ogg", "wav": "audio/wav"}[job.path.suffix[1:]]
    return FileResponse(job.path, media_type=media, headers=attachment(job.name))


__all__ = ["GOALS", "internal_name", "router"]
