"""The corpus dataset on disk: a crash-safe journal, a clean record table and an index.

Layout of a DATASET folder::

    journal.jsonl   append-only, the source of truth: one line per finished file,
                    {"path", "size", "mtime_ns", "retry", "record"}; each line is
                    flushed and fsync'd as soon as the file is done, so a killed
                    run loses at most the files in flight. A torn last line (the
                    process died mid-write) is ignored and cut off on the next run.
    records.jsonl   the records, exactly as ``susurrus analyze --json`` prints them,
                    one per file (the latest for each path), sorted by path;
                    rewritten atomically (temporary file + rename) after each run.
    index.json      {"files": {path: {"size", "mtime_ns", "error"}}}, same moment.
    .lock           held (``flock``) by the run writing the journal.

Re-running skips a file whose (path, size, mtime_ns) is in the journal and redoes a
changed one; the newest journal line for a path wins, so there are never duplicates
in ``records.jsonl`` nor in :func:`load_records`.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .sources import CorpusError

JOURNAL = "journal.jsonl"
RECORDS = "records.jsonl"
INDEX = "index.json"
LOCK = ".lock"
FORMAT_VERSION = 1


def clean(obj: Any) -> Any:
    """JSON-safe copy: non-finite floats become ``None`` (as ``susurrus analyze --json``)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean(v) for v in obj]
    return obj


@dataclass(frozen=True)
class Entry:
    """One journal line: the file's key when it was analysed, and its record."""

    path: str
    size: int
    mtime_ns: int
    retry: bool
    record: dict[str, Any]

    def as_json(self) -> str:
        return json.dumps(
            {
                "path": self.path,
                "size": self.size,
                "mtime_ns": self.mtime_ns,
                "retry": self.retry,
                "record": clean(self.record),
            },
            ensure_ascii=False,
            allow_nan=False,
        )


def read_journal(dataset: str | os.PathLike[str]) -> tuple[dict[str, Entry], int]:
    """The latest entry per path, and the byte length of the journal's complete lines."""
    path = Path(dataset) / JOURNAL
    latest: dict[str, Entry] = {}
    good = 0
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return latest, 0
    pos = 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        if nl < 0:  # torn last line: a run died while writing it
            break
        line = data[pos:nl]
        pos = nl + 1
        good = pos
        try:
            d = json.loads(line)
            e = Entry(
                str(d["path"]), int(d["size"]), int(d["mtime_ns"]), bool(d["retry"]), d["record"]
            )
        except (ValueError, KeyError, TypeError):
            continue  # a damaged line: skip it (the file is simply redone)
        if not isinstance(e.record, dict):
            continue
        latest[e.path] = e
    return latest, good


def load_records(dataset: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The dataset's records, one per path (the latest), sorted by path.

    Raises
    ------
    CorpusError
        DATASET is not a corpus dataset.
    """
    d = Path(dataset)
    if not (d / JOURNAL).is_file():
        raise CorpusError(
            f"{d} is not a corpus dataset (no {JOURNAL}); create one with `susurrus corpus analyze`"
        )
    latest, _ = read_journal(d)
    return [latest[p].record for p in sorted(latest)]


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Dataset:
    """A dataset opened for writing by one run (an exclusive lock on ``.lock``).

    Use as a context manager: :meth:`append` each finished file, and on exit the
    journal is compacted when it holds superseded lines and ``records.jsonl`` and
    ``index.json`` are rewritten atomically.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.entries: dict[str, Entry] = {}
        self._journal: IO[str] | None = None
        self._lock: IO[bytes] | None = None
        self._lines = 0

    def __enter__(self) -> Dataset:
        if self.path.exists() and not self.path.is_dir():
            raise CorpusError(f"--out {self.path} exists and is not a folder")
        if self.path.is_dir() and any(self.path.iterdir()) and not (self.path / JOURNAL).exists():
            raise CorpusError(
                f"--out {self.path} is a folder that is not empty and not a corpus dataset; "
                "give a new or empty folder"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        lock = (self.path / LOCK).open("ab")
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            raise CorpusError(f"the dataset {self.path} is in use by another run") from None
        self._lock = lock
        self.entries, good = read_journal(self.path)
        jpath = self.path / JOURNAL
        if jpath.exists() and jpath.stat().st_size != good:
            os.truncate(jpath, good)  # drop a torn last line
        self._lines = _count_lines(jpath)
        self._journal = jpath.open("a", encoding="utf-8")
        return self

    def is_done(self, path: str, key: tuple[int, int]) -> bool:
        """Whether ``path`` has a final record for this (size, mtime_ns)."""
        e = self.entries.get(path)
        return e is not None and not e.retry and (e.size, e.mtime_ns) == key

    def append(self, entry: Entry, *, sync: bool = True) -> None:
        """Write one finished file to the journal (flushed, and fsync'd unless ``sync=False``)."""
        assert self._journal is not None, "use Dataset as a context manager"
        self._journal.write(entry.as_json() + "\n")
        self._journal.flush()
        if sync:
            os.fsync(self._journal.fileno())
        self.entries[entry.path] = entry
        self._lines += 1

    def sync(self) -> None:
        if self._journal is not None:
            self._journal.flush()
            os.fsync(self._journal.fileno())

    def _finalise(self) -> None:
        paths = sorted(self.entries)
        if self._lines > len(paths):  # superseded lines: compact the journal
            _atomic_write(
                self.path / JOURNAL, "".join(self.entries[p].as_json() + "\n" for p in paths)
            )
            self._lines = len(paths)
        _atomic_write(
            self.path / RECORDS,
            "".join(
                json.dumps(clean(self.entries[p].record), ensure_ascii=False) + "\n" for p in paths
            ),
        )
        index = {
            "format_version": FORMAT_VERSION,
            "files": {
                p: {
                    "size": self.entries[p].size,
                    "mtime_ns": self.entries[p].mtime_ns,
                    "error": self.entries[p].record.get("error"),
                    "retry": self.entries[p].retry,
                }
                for p in paths
            },
        }
        _atomic_write(self.path / INDEX, json.dumps(index, ensure_ascii=False, indent=1) + "\n")

    def __exit__(self, *exc: object) -> None:
        try:
            if self._journal is not None:
                self.sync()
                self._journal.close()
                self._journal = None
            self._finalise()
        finally:
            if self._lock is not None:
                fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
                self._lock.close()
                self._lock = None


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as fh:
            return sum(1 for _ in fh)
    except FileNotFoundError:
        return 0
