"""The app's shared state and the request dependencies every route uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from ..journal.profiles import check_name
from ..store import ProfileNotFoundError, Store
from .jobs import JobTable
from .renderpool import RenderPool
from .security import (
    COOKIE,
    CSRF_HEADER,
    SAFE_METHODS,
    AuthError,
    LoginLimiter,
    Principal,
    SessionTable,
    same_secret,
)
from .settings import ServerSettings
from .streams import StreamTable


@dataclass
class AppState:
    settings: ServerSettings
    store: Store
    sessions: SessionTable
    streams: StreamTable
    jobs: JobTable
    limiter: LoginLimiter
    pool: RenderPool


def app_state(request: Request) -> AppState:
    st: AppState = request.app.state.sus
    return st


State = Annotated[AppState, Depends(app_state)]


def _principal(request: Request, st: AppState) -> Principal:
    auth = request.headers.get("authorization", "")
    if st.settings.auth == "token":
        if auth.lower().startswith("bearer "):
            if same_secret(auth[7:].strip(), st.settings.token):
                return Principal(None, None, None)
            raise AuthError("wrong access token", 401)
        qtok = request.query_params.get("token")
        if qtok is not None:
            if same_secret(qtok, st.settings.token):
                return Principal(None, None, None)
            raise AuthError("wrong access token", 401)
    sess = st.sessions.get(request.cookies.get(COOKIE))
    if sess is None:
        if st.settings.auth == "token":
            raise AuthError("open the link with the access token printed by `susurrus serve`", 401)
        raise AuthError("please log in", 401)
    if request.method not in SAFE_METHODS:
        if not same_secret(request.headers.get(CSRF_HEADER), sess.csrf):
            raise AuthError("missing or wrong CSRF token (X-CSRF-Token header)", 403)
        origin = request.headers.get("origin")
        if origin and origin != "null":
            host = request.headers.get("host", "")
            if origin.split("://", 1)[-1] != host:
                raise AuthError(f"cross-origin request from {origin} refused", 403)
    return Principal(sess.account_id, sess.username, sess)


def principal(request: Request, st: State) -> Principal:
    try:
        return _principal(request, st)
    except AuthError as exc:
        raise HTTPException(exc.status, str(exc)) from None


Caller = Annotated[Principal, Depends(principal)]


# -- profile names per account --------------------------------------------------------

def internal_name(who: Principal, name: str) -> str:
    """The stored profile name: accounts own ``@<account id>/<name>``."""
    check_name(name)
    if name.startswith("@"):
        from ..errors import ParameterError

        raise ParameterError("profile", name, "a name not starting with '@'")
    return name if who.account_id is None else f"@{who.account_id}/{name}"


def visible_name(who: Principal, stored: str) -> str | None:
    """The name a caller sees for a stored profile, or ``None`` when not theirs."""
    if who.account_id is None:
        return None if stored.startswith("@") else stored
    prefix = f"@{who.account_id}/"
    return stored[len(prefix):] if stored.startswith(prefix) else None


def owned_profile(st: AppState, who: Principal, name: str) -> str:
    """The stored name of the caller's profile ``name``; 404 when it is not theirs."""
    from ..journal.profiles import list_profiles

    stored = internal_name(who, name)
    if stored not in list_profiles(st.store):
        raise ProfileNotFoundError(name)
    return stored


def family_label(fid: str) -> str:
    """A family id as words: ``soft-speaking`` → ``Soft speaking``."""
    return fid.replace("-", " ").capitalize()


def not_found(what: str) -> HTTPException:
    return HTTPException(404, f"no {what}")


def attachment(filename: str) -> dict[str, Any]:
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename)[:120] or "download"
    return {"Content-Disposition": f'attachment; filename="{safe}"'}
