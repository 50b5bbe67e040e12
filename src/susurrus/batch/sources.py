"""What to analyse: a folder (recursive), a text file of paths, or a glob.

:func:`collect` turns the user's SOURCE into a sorted list of absolute paths with no
duplicates; :func:`file_key` is the (size, mtime_ns) pair the dataset's index keys on.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from ..audio import READ_EXTENSIONS
from ..errors import SusurrusError

#: extensions a folder is searched for (lower case; matched case-insensitively)
AUDIO_EXTENSIONS: tuple[str, ...] = tuple(sorted(set(READ_EXTENSIONS)))
_GLOB_CHARS = set("*?[")


class CorpusError(SusurrusError):
    """A corpus SOURCE or DATASET is unusable (missing, empty, locked, unreadable)."""


def _is_audio(p: Path) -> bool:
    return p.suffix.lower() in AUDIO_EXTENSIONS


def _from_folder(root: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        out.extend(
            Path(dirpath, f) for f in filenames if not f.startswith(".") and _is_audio(Path(f))
        )
    if not out:
        raise CorpusError(
            f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) found under the folder {root}"
        )
    return out


def _from_list(listing: Path) -> list[Path]:
    """One path a line; blank lines and ``#`` comments skipped; relative to the list's folder."""
    try:
        text = listing.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"cannot read the list of paths {listing}: {exc}") from None
    out: list[Path] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        p = Path(os.path.expanduser(line))
        out.append(p if p.is_absolute() else listing.parent / p)
    if not out:
        raise CorpusError(f"the list of paths {listing} names no files")
    return out


def _from_glob(pattern: str) -> list[Path]:
    out = [Path(p) for p in glob.glob(os.path.expanduser(pattern), recursive=True)]
    out = [p for p in out if p.is_file()]
    if not out:
        raise CorpusError(f"the pattern {pattern!r} matches no files")
    return out


def collect(source: str | os.PathLike[str]) -> list[str]:
    """The files SOURCE names, as sorted absolute paths without duplicates.

    Parameters
    ----------
    source:
        a folder (searched recursively for :data:`AUDIO_EXTENSIONS`, hidden entries
        skipped), a text file of paths (one a line, ``#`` comments, relative paths
        taken from the list's folder; a listed file that is missing is kept, so its
        record says so), or a glob pattern (``**`` recurses).

    Raises
    ------
    CorpusError
        SOURCE does not exist, or names no files.
    """
    text = os.fspath(source)
    p = Path(os.path.expanduser(text))
    if p.is_dir():
        files = _from_folder(p)
    elif p.is_file():
        files = [p] if _is_audio(p) else _from_list(p)
    elif _GLOB_CHARS & set(text):
        files = _from_glob(text)
    else:
        raise CorpusError(
            f"SOURCE {text!r} does not exist; give a folder, a text file of paths or a glob"
        )
    return sorted({os.path.abspath(f) for f in files})


def file_key(path: str) -> tuple[int, int]:
    """``(size, mtime_ns)`` of a file; ``(-1, -1)`` when it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1)
    return (int(st.st_size), int(st.st_mtime_ns))
