"""The FastAPI application: middleware (host check, security headers), error mapping, page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError

from .. import __version__
from ..errors import ParameterError, SceneError, SusurrusError
from ..store import ProfileExistsError, ProfileNotFoundError, open_store
from . import routes_analyze, routes_help, routes_listen, routes_people
from .jobs import JobTable
from .renderpool import RenderPool
from .security import (
    COOKIE,
    LoginLimiter,
    SessionTable,
    host_allowed,
    same_secret,
    set_session_cookie,
)
from .settings import ServerSettings
from .state import AppState
from .streams import StreamTable

CSP = ("default-src 'self'; img-src 'self' data:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self'; connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "form-action 'self'")


def static_dir() -> Path:
    return Path(str(resources.files("susurrus") / "web" / "static"))


def _err(status: int, detail: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail, "field": field}, status_code=status)


def _validation_detail(errors: list[Any]) -> tuple[str, str | None]:
    if not errors:
        return "invalid request", None
    e = errors[0]
    loc = [str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path")]
    field = ".".join(loc) or None
    value = e.get("input")
    shown = "" if isinstance(value, (dict, list)) else f" (got {value!r})"
    return f"{field or 'request'}: {e.get('msg', 'invalid')}{shown}", field


def create_app(settings: ServerSettings) -> FastAPI:
    """The web app over the library and the database named by ``settings``."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = open_store(settings.db_url)
    state = AppState(settings=settings, store=store, sessions=SessionTable(),
                     streams=StreamTable(settings.max_streams), jobs=JobTable(),
                     limiter=LoginLimiter(settings.login_attempts, settings.login_window_s),
                     pool=RenderPool(settings.render_workers))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.streams.close_all()
        state.pool.close()
        state.jobs.shutdown()
        store.close()

    app = FastAPI(title="Susurrus", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Local-first ASMR: live sessions, trigger discovery, a private journal and "
                              "recording analysis. Susurrus may help you relax; it complements professional "
                              "care and never replaces it.")
    app.state.sus = state

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        if not host_allowed(request.headers.get("host"), settings.allow_hosts):
            return _err(400, f"host {request.headers.get('host')!r} not allowed (DNS rebinding protection); "
                             "use 127.0.0.1 or add --allow-host")
        resp: Response = await call_next(request)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        resp.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        resp.headers.setdefault("Content-Security-Policy", CSP)
        if request.url.path.startswith("/api/"):
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    @app.exception_handler(ProfileNotFoundError)
    async def _nf(request: Request, exc: ProfileNotFoundError) -> JSONResponse:
        return _err(404, f"no profile {exc.name!r}", "profile")

    @app.exception_handler(ProfileExistsError)
    async def _exists(request: Request, exc: ProfileExistsError) -> JSONResponse:
        return _err(409, str(exc).splitlines()[0], "name")

    @app.exception_handler(ParameterError)
    async def _param(request: Request, exc: ParameterError) -> JSONResponse:
        return _err(422, str(exc).splitlines()[0], exc.name)

    @app.exception_handler(SceneError)
    async def _scene(request: Request, exc: SceneError) -> JSONResponse:
        return _err(422, str(exc).splitlines()[0], "scene")

    @app.exception_handler(SusurrusError)
    async def _sus(request: Request, exc: SusurrusError) -> JSONResponse:
        return _err(400, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

    @app.exception_handler(RequestValidationError)
    async def _rv(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail, field = _validation_detail(list(exc.errors()))
        return _err(422, detail, field)

    @app.exception_handler(ValidationError)
    async def _pv(request: Request, exc: ValidationError) -> JSONResponse:
        detail, field = _validation_detail(list(exc.errors()))
        return _err(422, detail, field)

    for r in (routes_help, routes_listen, routes_people, routes_analyze):
        app.include_router(r.router)

    app.mount("/static", StaticFiles(directory=static_dir()), name="static")

    @app.get("/", include_in_schema=False)
    def index(request: Request, token: str | None = None) -> Response:
        if settings.auth == "token":
            if token is not None:
                if not same_secret(token, settings.token):
                    return HTMLResponse(_plain("That link's access token is not right. Open the link "
                                               "printed by <code>susurrus serve</code>."), status_code=401)
                sess = state.sessions.create(None, None)
                resp = RedirectResponse("/", status_code=303)
                set_session_cookie(resp, sess.sid, secure=request.url.scheme == "https")
                return resp
            if state.sessions.get(request.cookies.get(COOKIE)) is None:
                return HTMLResponse(_plain("Open the link printed by <code>susurrus serve</code> "
                                           "(it carries a one-time access token)."), status_code=401)
        return FileResponse(static_dir() / "index.html", media_type="text/html",
                            headers={"Cache-Control": "no-store"})

    return app


def _plain(message: str) -> str:
    return ("<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
            "<title>Susurrus</title><body style='background:#15120f;color:#b9ad9c;font:1.1rem system-ui;"
            f"padding:2rem;max-width:36rem;margin:auto'><h1 style='font-weight:400'>Susurrus</h1><p>{message}</p>")
