"""Where the journal lives: the user's data directory (XDG on Linux) or a URL.

Resolution order for the database URL:

1. ``SUSURRUS_DATABASE_URL`` (any SQLAlchemy URL, e.g. ``postgresql+psycopg://…``);
2. ``sqlite:///<data dir>/susurrus.db``, the data directory being
   ``SUSURRUS_DATA_DIR`` if set, else ``$XDG_DATA_HOME/susurrus``, else the
   platform's usual place (``~/.local/share/susurrus``, ``~/Library/Application
   Support/susurrus``, ``%APPDATA%\\susurrus``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

APP_NAME = "susurrus"
DB_FILENAME = "susurrus.db"
ENV_DATA_DIR = "SUSURRUS_DATA_DIR"
ENV_DATABASE_URL = "SUSURRUS_DATABASE_URL"


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Return the user's Susurrus data directory (not created here)."""
    env = os.environ if environ is None else environ
    if env.get(ENV_DATA_DIR):
        return Path(env[ENV_DATA_DIR]).expanduser()
    if env.get("XDG_DATA_HOME"):
        return Path(env["XDG_DATA_HOME"]).expanduser() / APP_NAME
    home = Path(env.get("HOME") or Path.home())
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / APP_NAME
    if sys.platform.startswith("win"):
        base = env.get("APPDATA") or str(home / "AppData" / "Roaming")
        return Path(base) / APP_NAME
    return home / ".local" / "share" / APP_NAME


def default_database_url(environ: Mapping[str, str] | None = None) -> str:
    """Return the database URL to use (see the module docstring for the order)."""
    env = os.environ if environ is None else environ
    url = env.get(ENV_DATABASE_URL)
    if url:
        return url
    return f"sqlite:///{data_dir(env) / DB_FILENAME}"
