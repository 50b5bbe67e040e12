"""A small on-disk cache of arrays derived from fixed inputs (the HRIR set, its HRTF table).

Loading the SOFA file (HDF5, through h5py), resampling it and building the renderer's
HRTF table take most of a second before a binaural render's first sample, and h5py
alone adds about 11 MB to every render process. Both results depend only on the SOFA
file, the sample rate and the code that derives them, so they are kept as ``.npz``
files, named by a digest of exactly those (the code by the bytes of its modules):
a changed file, rate or module gives a new name, never a stale table.

Where: the user's cache directory (:mod:`susurrus._dirs`: ``$SUSURRUS_CACHE_DIR``,
else ``$XDG_CACHE_HOME/susurrus``, else ``~/.cache/susurrus`` or the platform's
place); ``SUSURRUS_CACHE_DIR=off`` turns it off. Files are written
atomically (a temporary file renamed into place) and read without pickle; one that
cannot be read is ignored and written again. Without a writable directory nothing is
cached and nothing fails.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ._dirs import cache_dir

__all__ = ["cache_dir", "code_digest", "digest", "load", "save"]

#: bump when the layout of what is stored changes
FORMAT = 1


@functools.cache
def code_digest(*files: str) -> str:
    """A digest of the bytes of source files (the code a cached result came from)."""
    h = hashlib.sha256()
    for f in files:
        try:
            h.update(Path(f).read_bytes())
        except OSError:
            h.update(f"missing:{f}".encode())
    return h.hexdigest()


def digest(*parts: object) -> str:
    """A digest of values and arrays (arrays by dtype, shape and bytes)."""
    h = hashlib.sha256(f"susurrus-cache-{FORMAT}".encode())
    for p in parts:
        if isinstance(p, np.ndarray):
            a = np.ascontiguousarray(p)
            h.update(f"{a.dtype.str}{a.shape}".encode())
            h.update(a.tobytes())
        else:
            h.update(repr(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def _path(kind: str, key: str) -> Path | None:
    d = cache_dir()
    return None if d is None else d / f"{kind}-{key}.npz"


def load(kind: str, key: str) -> dict[str, np.ndarray] | None:
    """The arrays stored under ``kind``/``key``, or None (missing, unreadable, or off)."""
    p = _path(kind, key)
    if p is None or not p.is_file():
        return None
    try:
        with np.load(p, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception:  # a damaged or foreign file: as if missing (it is written again)
        return None


def save(kind: str, key: str, arrays: dict[str, np.ndarray]) -> None:
    """Store ``arrays`` under ``kind``/``key`` (atomically; silently not where not writable)."""
    p = _path(kind, key)
    if p is None:
        return
    tmp: str | None = None
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".partial", dir=p.parent)
        savez: Any = np.savez  # (numpy's stub reads the arrays' names as its keywords)
        with os.fdopen(fd, "wb") as f:
            savez(f, **arrays)
        os.replace(tmp, p)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
