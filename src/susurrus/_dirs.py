"""Where Susurrus keeps the user's files: its data directory (the journal) and its
cache directory (derived arrays such as HRTF tables, :mod:`susurrus._cache`).

Light on purpose (the standard library only): the renderer asks for the cache
directory without importing the store.

- data: ``SUSURRUS_DATA_DIR`` if set, else ``$XDG_DATA_HOME/susurrus``, else the
  platform's usual place (``~/.local/share/susurrus``, ``~/Library/Application
  Support/susurrus``, ``%APPDATA%\\susurrus``);
- cache: ``SUSURRUS_CACHE_DIR`` if set (``off`` or empty: no cache), else
  ``$XDG_CACHE_HOME/susurrus``, else ``~/.cache/susurrus``, ``~/Library/Caches/susurrus``
  or ``%LOCALAPPDATA%\\susurrus\\Cache``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

APP_NAME = "susurrus"
ENV_DATA_DIR = "SUSURRUS_DATA_DIR"
ENV_CACHE_DIR = "SUSURRUS_CACHE_DIR"


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or Path.home())


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The user's Susurrus data directory (not created here)."""
    env = os.environ if environ is None else environ
    if env.get(ENV_DATA_DIR):
        return Path(env[ENV_DATA_DIR]).expanduser()
    if env.get("XDG_DATA_HOME"):
        return Path(env["XDG_DATA_HOME"]).expanduser() / APP_NAME
    home = _home(env)
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / APP_NAME
    if sys.platform.startswith("win"):
        base = env.get("APPDATA") or str(home / "AppData" / "Roaming")
        return Path(base) / APP_NAME
    return home / ".local" / "share" / APP_NAME


def cache_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """The user's Susurrus cache directory (not created here), or None when caching is off."""
    env = os.environ if environ is None else environ
    if ENV_CACHE_DIR in env:
        value = env[ENV_CACHE_DIR].strip()
        return None if value.lower() in ("", "off", "0", "none") else Path(value).expanduser()
    if env.get("XDG_CACHE_HOME", "").strip():
        return Path(env["XDG_CACHE_HOME"].strip()).expanduser() / APP_NAME
    home = _home(env)
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / APP_NAME
    if sys.platform.startswith("win"):
        base = env.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / APP_NAME / "Cache"
    return home / ".cache" / APP_NAME
