"""The first-run note: shown once, always reachable afterwards.

The flag is a small marker file in the user's data directory (the caller
passes the directory, so this module needs nothing but the standard library).
"""

from __future__ import annotations

import os
from pathlib import Path

from .wording import COMPLEMENT_NOTE

MARKER = "first-run-note-shown"


def first_run_pending(data_dir: str | Path) -> bool:
    """``True`` until :func:`mark_first_run_shown` has been called for ``data_dir``."""
    return not (Path(data_dir) / MARKER).exists()


def mark_first_run_shown(data_dir: str | Path) -> None:
    """Remember that the note was shown (creates ``data_dir`` 0700 if needed)."""
    d = Path(data_dir)
    d.mkdir(parents=True, mode=0o700, exist_ok=True)
    fd = os.open(d / MARKER, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)


def first_run_note(data_dir: str | Path) -> str | None:
    """The complement-not-replacement note the first time, ``None`` afterwards."""
    if not first_run_pending(data_dir):
        return None
    mark_first_run_shown(data_dir)
    return COMPLEMENT_NOTE
