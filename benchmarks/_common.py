"""Helpers for the benchmarks: run a command in a child process, time it, read its peak RSS."""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float


def run_child(cmd: Sequence[str], *, env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` to completion; wall time and the child's peak RSS (ru_maxrss)."""
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child: exec the command so its RSS is its own
        try:
            os.execvpe(cmd[0], list(cmd), {**os.environ, **(env or {})})
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    dt = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}")
    return Run(dt, usage.ru_maxrss / 1024.0)


def median_run(cmd: Sequence[str], repeats: int, **kw: object) -> Run:
    runs = [run_child(cmd, **kw) for _ in range(repeats)]  # type: ignore[arg-type]
    return Run(statistics.median(r.seconds for r in runs), max(r.peak_rss_mb for r in runs))


def python() -> str:
    return sys.executable


__all__ = ["Run", "median_run", "python", "resource", "run_child"]
