"""The web app's HTTP side: FastAPI routes under ``/api/`` and the page at ``/``.

>>> from susurrus.api import ServerSettings, serve_in_thread
>>> server = serve_in_thread(ServerSettings(data_dir="/tmp/s", token="secret-token"), port=0)  # doctest: +SKIP
>>> server.url                                                                               # doctest: +SKIP
'http://127.0.0.1:39417'

FastAPI is imported only when the app is built, so the CLI starts quickly.
"""

from __future__ import annotations

from typing import Any

from .server import RunningServer, add_serve_parsers, serve_in_thread
from .settings import ServerSettings

__all__ = ["RunningServer", "ServerSettings", "add_serve_parsers", "create_app", "serve_in_thread"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
