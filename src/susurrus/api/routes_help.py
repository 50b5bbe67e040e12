"""Sign-in, help (crisis resources, the wellness note) and settings (export, delete all)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from .. import __version__
from ..errors import ParameterError
from .security import COOKIE, AuthError, set_session_cookie
from .state import Caller, State, _principal, attachment, visible_name

router = APIRouter(prefix="/api", tags=["help"])


class LoginBody(BaseModel):
    username: str
    password: str


@router.get("/me", summary="Who is signed in, and the CSRF token for this session")
def me(request: Request, st: State) -> Response:
    try:
        who = _principal(request, st)
    except AuthError as exc:
        return JSONResponse({"detail": str(exc), "mode": st.settings.auth}, status_code=exc.status)
    sess = who.session
    if sess is None:  # a Bearer/query-token caller: give it a browser session too
        sess = st.sessions.create(None, None)
        resp = JSONResponse({"mode": st.settings.auth, "user": None, "csrf": sess.csrf, "version": __version__})
        set_session_cookie(resp, sess.sid, secure=request.url.scheme == "https")
        return resp
    return JSONResponse({"mode": st.settings.auth, "user": who.username, "csrf": sess.csrf,
                         "version": __version__})


@router.post("/login", summary="Sign in (accounts mode); rate-limited")
def login(body: LoginBody, request: Request, st: State) -> Response:
    from .security import verify_login

    if st.settings.auth != "accounts":
        raise HTTPException(404, "this server uses an access token, not accounts")
    client = request.client.host if request.client else "?"
    keys = (f"user:{body.username.strip().lower()}", f"ip:{client}")
    wait = st.limiter.retry_after(keys)
    if wait > 0:
        raise HTTPException(429, f"too many failed sign-ins; try again in {wait:.0f} s",
                            headers={"Retry-After": str(int(wait) + 1)})
    found = verify_login(st.store, body.username, body.password)
    if found is None:
        st.limiter.failed(keys)
        raise HTTPException(401, "wrong user name or password")
    st.limiter.succeeded(keys)
    old = request.cookies.get(COOKIE)
    if old:
        st.sessions.drop(old)
    sess = st.sessions.create(*found)
    resp = JSONResponse({"mode": "accounts", "user": found[1], "csrf": sess.csrf, "version": __version__})
    set_session_cookie(resp, sess.sid, secure=request.url.scheme == "https")
    return resp


@router.post("/logout", status_code=204, summary="Sign out")
def logout(request: Request, st: State, who: Caller) -> Response:
    if who.session is not None:
        st.sessions.drop(who.session.sid)
    resp = Response(status_code=204)
    resp.delete_cookie(COOKIE, path="/")
    return resp


# Help needs no sign-in: crisis resources and the wellness note carry no one's data, and
# must be one click away even on the login screen.

@router.get("/crisis", summary="Crisis resources for a locale (no sign-in needed)")
def crisis(locale: str | None = None) -> dict[str, Any]:
    from ..safety import COMPLEMENT_NOTE_WEB, crisis_resources

    res = crisis_resources(locale)
    out = res.to_dict()
    out["message"] = ("If you might act on thoughts of harming yourself, or you are in danger, "
                      f"call {res.emergency} now or contact one of these services.")
    out["note"] = COMPLEMENT_NOTE_WEB
    return out


@router.get("/locales", summary="The locales that have crisis resources (no sign-in needed)")
def locale_list() -> dict[str, Any]:
    from ..safety import locales
    from ..safety.resources import default_locale

    return {"locales": list(locales()), "default": default_locale()}


@router.get("/wellness", summary="The wellness note (no sign-in needed)")
def wellness() -> dict[str, str]:
    from ..safety import COMPLEMENT_NOTE_WEB, RELAX_CLAIM

    return {"note": COMPLEMENT_NOTE_WEB, "claim": RELAX_CLAIM}


@router.get("/export", summary="Download all of the caller's data (JSON)")
def export_all(st: State, who: Caller) -> Response:
    from ..journal.profiles import list_profiles
    from ..store import export_profile

    docs = []
    for stored in list_profiles(st.store):
        name = visible_name(who, stored)
        if name is not None:
            doc = export_profile(st.store, stored)
            doc["profile_name"] = name
            docs.append(doc)
    body = json.dumps({"format": "susurrus-web-export/1", "user": who.username, "profiles": docs},
                      ensure_ascii=False, default=str)
    return Response(body, media_type="application/json", headers=attachment("susurrus-export.json"))


@router.delete("/data", status_code=204, summary="Delete all of the caller's data (header X-Confirm: delete)")
def delete_all(st: State, who: Caller, x_confirm: Annotated[str | None, Header()] = None) -> Response:
    from ..journal.profiles import list_profiles
    from ..store import delete_profile

    if x_confirm != "delete":
        raise ParameterError("X-Confirm", x_confirm, "the header X-Confirm: delete")
    for s in st.streams.owned_by(who.key):
        st.streams.remove(s.id)
    for job in st.jobs.owned_by(who.key):
        for p in (job.path, job.source, job.extra.get("report")):
            if p is not None:
                p.unlink(missing_ok=True)
        for child in job.children.values():
            if child.path is not None:
                child.path.unlink(missing_ok=True)
        st.jobs.forget(job)
    for stored in list_profiles(st.store):
        if visible_name(who, stored) is not None:
            delete_profile(st.store, stored)
    return Response(status_code=204)
