"""Who may use the app, and how requests prove it.

* **Host check** (DNS rebinding): the Host header must be an IP literal, ``localhost``,
  or a name given with ``--allow-host``. A rebinding attack needs a host *name* that
  resolves to 127.0.0.1, so names are refused.
* **Token mode** (default, loopback only): a random access token printed at start, as
  Jupyter does. ``/?token=…`` exchanges it for a session cookie (HttpOnly,
  SameSite=Strict); API clients may send ``Authorization: Bearer …`` instead.
* **Accounts mode**: user names with argon2id password hashes (``argon2-cffi``); a
  login rate limit per user name and per client address.
* **CSRF**: a state-changing request authenticated by the cookie must carry the
  session's CSRF token in ``X-CSRF-Token`` (double submit of a value only the page can
  read from ``/api/me``) and, when the browser sends one, a same-origin ``Origin``.
  Bearer-token requests carry no ambient credential and are exempt.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import ParameterError, SusurrusError
from ..store import Account, Store

COOKIE = "susurrus_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_TTL_S = 14 * 24 * 3600.0
USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")

# argon2id with the RFC 9106 "second recommended" parameters (64 MiB, 3 passes)
_HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)


class AuthError(SusurrusError):
    """A request is not authenticated (401) or not allowed (403)."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


def host_allowed(host_header: str | None, allow: tuple[str, ...]) -> bool:
    """Whether a Host header is acceptable (see the module docstring)."""
    if not host_header:
        return False
    host = host_header.strip().lower()
    if host.startswith("["):  # [::1]:8000
        host = host[1 : host.find("]")] if "]" in host else host
    elif host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    if host in ("localhost", *(h.lower() for h in allow)):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# -- sessions --------------------------------------------------------------------------

@dataclass
class WebSession:
    """A browser session: who it is (``account_id`` None in token mode) and its CSRF token."""

    sid: str
    account_id: int | None
    username: str | None
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    created: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Principal:
    """The caller of a request: the account (token mode: ``None``, the local user)."""

    account_id: int | None
    username: str | None
    session: WebSession | None  # None for Bearer-token callers

    @property
    def key(self) -> str:
        return "local" if self.account_id is None else f"a{self.account_id}"


class SessionTable:
    """Sessions in memory (a restart signs everyone out; the token link signs in again)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_sid: dict[str, WebSession] = {}

    def create(self, account_id: int | None, username: str | None) -> WebSession:
        s = WebSession(secrets.token_urlsafe(32), account_id, username)
        with self._lock:
            self._by_sid[s.sid] = s
        return s

    def get(self, sid: str | None) -> WebSession | None:
        if not sid:
            return None
        with self._lock:
            s = self._by_sid.get(sid)
            if s is not None and time.time() - s.created > SESSION_TTL_S:
                del self._by_sid[sid]
                return None
            return s

    def drop(self, sid: str) -> None:
        with self._lock:
            self._by_sid.pop(sid, None)

    def drop_account(self, account_id: int) -> None:
        with self._lock:
            for sid in [k for k, v in self._by_sid.items() if v.account_id == account_id]:
                del self._by_sid[sid]


def set_session_cookie(resp: Any, sid: str, *, secure: bool) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, for as long as the session lives."""
    resp.set_cookie(COOKIE, sid, httponly=True, samesite="strict", path="/", secure=secure,
                    max_age=int(SESSION_TTL_S))


def same_secret(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


# -- accounts --------------------------------------------------------------------------

def check_username(name: str) -> str:
    name = (name or "").strip().lower()
    if not 2 <= len(name) <= 64 or not set(name) <= USERNAME_CHARS:
        raise ParameterError("username", name, "2-64 characters: a-z, 0-9, '_', '.', '-'")
    return name


def check_password(pw: str) -> str:
    if not isinstance(pw, str) or not 10 <= len(pw) <= 1024:
        raise ParameterError("password", "<hidden>", "10-1024 characters")
    return pw


def create_account(store: Store, username: str, password: str) -> int:
    """Add an account (argon2id hash); ParameterError when the name is taken."""
    username = check_username(username)
    check_password(password)
    digest = _HASHER.hash(password)
    try:
        with store.session() as s:
            acc = Account(username=username, password_hash=digest)
            s.add(acc)
            s.flush()
            return int(acc.id)
    except IntegrityError:
        raise ParameterError("username", username, "a user name not yet taken") from None


def verify_login(store: Store, username: str, password: str) -> tuple[int, str] | None:
    """``(account id, user name)`` when the password matches, else ``None``.

    An unknown user costs one hash too, so timing does not reveal which names exist.
    """
    try:
        username = check_username(username)
    except ParameterError:
        return None
    with store.session() as s:
        row = s.execute(select(Account).where(Account.username == username)).scalar_one_or_none()
        stored = row.password_hash if row is not None else None
        acc_id = int(row.id) if row is not None else None
    if stored is None or acc_id is None:
        _HASHER.hash(password or "-")
        return None
    try:
        _HASHER.verify(stored, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if _HASHER.check_needs_rehash(stored):
        with store.session() as s:
            acc = s.get(Account, acc_id)
            if acc is not None:
                acc.password_hash = _HASHER.hash(password)
    return acc_id, username


class LoginLimiter:
    """At most ``attempts`` failed logins per ``window_s`` per user name and per client."""

    def __init__(self, attempts: int, window_s: float) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def retry_after(self, keys: tuple[str, ...]) -> float:
        """Seconds to wait before another attempt (0 when allowed)."""
        now = time.monotonic()
        with self._lock:
            waits = [self.window_s - (now - q[0]) for k in keys
                     if len(q := self._recent(k, now)) >= self.attempts]
        return max(waits, default=0.0)

    def failed(self, keys: tuple[str, ...]) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)

    def succeeded(self, keys: tuple[str, ...]) -> None:
        with self._lock:
            for k in keys:
                self._fails.pop(k, None)
