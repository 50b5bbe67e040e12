"""Analyse: upload a recording, follow the analysis, read the report, download it softened."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from .jobs import Job
from .state import Caller, State, attachment, not_found
from .uploads import receive_upload

router = APIRouter(prefix="/api", tags=["analyses"])


def _public(job: Job) -> dict[str, Any]:
    out = job.public()
    out["result"] = job.result
    soft = job.children.get("soften")
    out["softened"] = None if soft is None else {
        **soft.public(), "download_url": f"/api/analyses/{job.id}/softened" if soft.status == "done" else None,
        "result": soft.result}
    out["report_url"] = f"/api/analyses/{job.id}/report" if job.status == "done" else None
    return out


@router.post("/analyses", status_code=202,
             summary="Upload a recording (multipart field 'file': WAV, FLAC, OGG or MP3) and analyse it")
async def upload(request: Request, st: State, who: Caller) -> dict[str, Any]:
    from ..analysis.core import analyze_file_full
    from ..analysis.report import write_html

    stem = secrets.token_urlsafe(12)
    path, shown = await receive_upload(request, st.settings.web_dir("uploads"), stem,
                                       st.settings.max_upload_bytes)
    job = st.jobs.new(who.key, "analysis", name=shown)
    job.source = path
    report = path.with_suffix(".report.html")

    def run(j: Job) -> None:
        def progress(share: float) -> None:
            j.progress = 0.98 * share

        an = analyze_file_full(path, progress=progress)
        rec = dict(an.record)
        rec["path"] = shown
        write_html(report, [(rec, an.curves)])
        j.result = rec
        j.extra["report"] = report

    st.jobs.submit(job, run)
    return {"id": job.id, "name": shown, "status_url": f"/api/analyses/{job.id}"}


def _job(st: Any, who: Caller, aid: str) -> Job:
    job: Job | None = st.jobs.get(aid, who.key, "analysis")
    if job is None:
        raise not_found(f"analysis {aid!r}")
    return job


@router.get("/analyses", summary="The caller's analyses")
def analyses(st: State, who: Caller) -> list[dict[str, Any]]:
    return [j.public() for j in st.jobs.owned_by(who.key) if j.kind == "analysis"]


@router.get("/analyses/{aid}", summary="An analysis: progress, then the result")
def analysis(aid: str, st: State, who: Caller) -> dict[str, Any]:
    return _public(_job(st, who, aid))


@router.get("/analyses/{aid}/report", summary="The analysis report (HTML)")
def analysis_report(aid: str, st: State, who: Caller) -> HTMLResponse:
    job = _job(st, who, aid)
    path = job.extra.get("report")
    if job.status != "done" or path is None:
        raise HTTPException(409, f"analysis {aid!r} is {job.status}")
    return HTMLResponse(path.read_text(encoding="utf-8"),
                        headers={"Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'"})


@router.post("/analyses/{aid}/soften", status_code=202, summary="Soften the jarring moments (background job)")
def soften(aid: str, st: State, who: Caller) -> dict[str, Any]:
    from ..analysis.soften import soften_file

    job = _job(st, who, aid)
    if job.status != "done" or job.source is None:
        raise HTTPException(409, f"analysis {aid!r} is {job.status}; soften it when done")
    if "soften" in job.children and job.children["soften"].status in ("queued", "running", "done"):
        return _public(job)
    child = st.jobs.new(who.key, "soften", name=job.name.rsplit(".", 1)[0] + ".softened.flac")
    job.children["soften"] = child
    out = job.source.with_suffix(".softened.flac")
    src = job.source

    def run(j: Job) -> None:
        res = soften_file(src, out)
        j.result = res.as_dict()
        j.result.pop("input", None)
        j.result.pop("output", None)
        j.path = out

    st.jobs.submit(child, run)
    return _public(job)


@router.get("/analyses/{aid}/softened", summary="Download the softened recording (FLAC)")
def softened(aid: str, st: State, who: Caller) -> FileResponse:
    job = _job(st, who, aid)
    child = job.children.get("soften")
    if child is None or child.status != "done" or child.path is None:
        raise not_found(f"softened version of {aid!r} (POST …/soften first)")
    return FileResponse(child.path, media_type="audio/flac", headers=attachment(child.name))
