"""Where the journal lives: the user's data directory (XDG on Linux) or a URL.

Resolution order for the database URL:

1. ``SUSURRUS_DATABASE_URL`` (any SQLAlchemy URL, e.g. ``postgresql+psycopg://…``);
2. ``sqlite:///<data dir>/susurrus.db``, the data directory being
   :func:`susurrus._dirs.data_dir`'s (``SUSURRUS_DATA_DIR``, ``$XDG_DATA_HOME`` or
   the platform's usual place).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .._dirs import APP_NAME, ENV_DATA_DIR, data_dir

__all__ = ["APP_NAME", "DB_FILENAME", "ENV_DATABASE_URL", "ENV_DATA_DIR", "data_dir", "default_database_url"]

DB_FILENAME = "susurrus.db"
ENV_DATABASE_URL = "SUSURRUS_DATABASE_URL"


def default_database_url(environ: Mapping[str, str] | None = None) -> str:
    """Return the database URL to use (see the module docstring for the order)."""
    env = os.environ if environ is None else environ
    url = env.get(ENV_DATABASE_URL)
    if url:
        return url
    return f"sqlite:///{data_dir(env) / DB_FILENAME}"
