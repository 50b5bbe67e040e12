"""How ``susurrus serve`` is configured: address, auth mode, data directory, limits."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import ParameterError

#: the largest upload accepted by default (a 3-hour 44.1 kHz stereo FLAC is ~1 GB; WAVs at
#: bedtime length are larger — raise it with ``--max-upload-mb``)
DEFAULT_MAX_UPLOAD_MB = 200
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class ServerSettings:
    """Everything the app needs; the defaults are the safe ones (loopback, token).

    Parameters
    ----------
    data_dir : where the SQLite database, uploads, renders and clips live
    database_url : another database (``postgresql+psycopg://…``); default SQLite in ``data_dir``
    host, port : the address to bind (``port=0``: any free port, for tests)
    auth : ``token`` (one random access token, printed at start) or ``accounts``
    token : the access token (random when not given)
    allow_hosts : extra host names accepted in the Host header (IP literals always are)
    max_upload_mb : upload size limit
    lead_s : how far live rendering runs ahead of real time
    max_streams : live streams kept at once (the least recently used idle ones are closed)
    render_workers : processes rendering the live streams (default: one per core; 0 renders
        in the server process)
    """

    data_dir: Path
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    auth: Literal["token", "accounts"] = "token"
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    allow_hosts: tuple[str, ...] = ()
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB
    lead_s: float = 1.0
    max_streams: int = 48
    render_workers: int = field(default_factory=lambda: min(8, os.cpu_count() or 1))
    login_attempts: int = 5
    login_window_s: float = 300.0

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).expanduser().resolve()
        if self.auth not in ("token", "accounts"):
            raise ParameterError("auth", self.auth, "token or accounts")
        if self.auth == "token" and not is_loopback(self.host):
            raise ParameterError(
                "host", self.host,
                "a loopback address (127.0.0.1, ::1, localhost) unless --auth accounts is used",
            )
        if not 0 <= int(self.port) <= 65535:
            raise ParameterError("port", self.port, "0-65535")
        if not isinstance(self.token, str) or len(self.token) < 8:
            raise ParameterError("token", "<hidden>", "a string of at least 8 characters")
        if not 0.1 <= float(self.max_upload_mb) <= 65536:
            raise ParameterError("max_upload_mb", self.max_upload_mb, "0.1-65536 MB")
        if not 0.2 <= float(self.lead_s) <= 10.0:
            raise ParameterError("lead_s", self.lead_s, "0.2-10 s")
        if not 1 <= int(self.max_streams) <= 1000:
            raise ParameterError("max_streams", self.max_streams, "1-1000")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def db_url(self) -> str:
        from ..store.paths import DB_FILENAME  # here: `susurrus serve --help` needs no store

        return self.database_url or f"sqlite:///{self.data_dir / DB_FILENAME}"

    def web_dir(self, kind: str) -> Path:
        """``data_dir/web/<kind>`` (uploads, renders, clips), created 0700."""
        p = self.data_dir / "web" / kind
        p.mkdir(parents=True, exist_ok=True, mode=0o700)
        return p
