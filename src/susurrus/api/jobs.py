"""Background jobs of the web app: offline renders, analyses and softening.

Jobs run one at a time on a worker thread (the machine's cores are the live streams'
first), report progress in 0…1 and keep their results under the app's data directory.
"""

from __future__ import annotations

import secrets
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SusurrusError


@dataclass
class Job:
    """One job: who owns it, what it is, how far it got, and what it produced."""

    id: str
    owner: str
    kind: str
    name: str = ""
    status: str = "queued"  # queued | running | done | error
    progress: float = 0.0
    error: str | None = None
    result: dict[str, Any] | None = None
    path: Path | None = None  # the produced file (render, softened)
    source: Path | None = None  # the uploaded file (analyses)
    extra: dict[str, Any] = field(default_factory=dict)
    children: dict[str, Job] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "name": self.name, "status": self.status,
                "progress": round(self.progress, 4), "error": self.error}


class JobTable:
    """Jobs by id, run one after another on a single worker thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="susurrus-job")

    def new(self, owner: str, kind: str, name: str = "") -> Job:
        job = Job(id=secrets.token_urlsafe(10), owner=owner, kind=kind, name=name)
        with self._lock:
            self._jobs[job.id] = job
        return job

    def get(self, job_id: str, owner: str, kind: str | None = None) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.owner != owner or (kind is not None and job.kind != kind):
            return None
        return job

    def owned_by(self, owner: str) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if j.owner == owner]

    def forget(self, job: Job) -> None:
        with self._lock:
            self._jobs.pop(job.id, None)

    def submit(self, job: Job, fn: Callable[[Job], None]) -> None:
        """Run ``fn(job)``; its exceptions become ``job.error`` (one line)."""

        def run() -> None:
            job.status = "running"
            try:
                fn(job)
            except SusurrusError as exc:
                job.status, job.error = "error", str(exc).splitlines()[0]
            except Exception as exc:  # a bug: keep the server alive, report it
                traceback.print_exc()
                job.status, job.error = "error", f"internal error: {type(exc).__name__}: {exc}"
            else:
                job.progress = 1.0
                job.status = "done"

        self._pool.submit(run)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
