"""Helpers for the benchmarks: run a command in a child process, time it, read its peak RSS."""

from __future__ import annotations

import os
import resource
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    #: peak of the summed RSS / PSS of the whole process tree (the command and any
    #: worker processes it starts), sampled every 50 ms; 0 when not sampled
    tree_rss_mb: float = 0.0
    tree_pss_mb: float = 0.0


def _tree(root: int) -> list[int]:
    """``root`` and its live descendants (from /proc)."""
    parent: dict[int, int] = {}
    for stat in os.scandir("/proc"):
        if not stat.name.isdigit():
            continue
        try:
            with open(f"/proc/{stat.name}/stat") as f:
                parent[int(stat.name)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    out, frontier = [root], [root]
    while frontier:
        frontier = [p for p, pp in parent.items() if pp in frontier]
        out += frontier
    return out


def _memory_kb(pid: int) -> tuple[int, int]:
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def _sample_tree(pid: int, peaks: list[float], stop: threading.Event) -> None:
    while not stop.wait(0.05):
        rss = pss = 0
        for p in _tree(pid):
            r, s = _memory_kb(p)
            rss, pss = rss + r, pss + s
        peaks[0], peaks[1] = max(peaks[0], rss / 1024.0), max(peaks[1], pss / 1024.0)


def run_child(cmd: Sequence[str], *, env: dict[str, str] | None = None, tree: bool = False) -> Run:
    """Run ``cmd`` to completion; wall time and the child's peak RSS (ru_maxrss).

    ``tree=True`` also samples the memory of the child and all its descendants.
    """
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child: exec the command so its RSS is its own
        try:
            os.execvpe(cmd[0], list(cmd), {**os.environ, **(env or {})})
        finally:
            os._exit(127)
    peaks = [0.0, 0.0]
    stop = threading.Event()
    sampler = threading.Thread(target=_sample_tree, args=(pid, peaks, stop), daemon=True)
    if tree:
        sampler.start()
    _, status, usage = os.wait4(pid, 0)
    dt = time.perf_counter() - t0
    stop.set()
    if tree:
        sampler.join()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}")
    return Run(dt, usage.ru_maxrss / 1024.0, peaks[0], peaks[1])


def summarize(runs: Sequence[Run]) -> Run:
    """The median time of ``runs`` and the largest of each of their memory peaks."""
    return Run(statistics.median(r.seconds for r in runs), max(r.peak_rss_mb for r in runs),
               max(r.tree_rss_mb for r in runs), max(r.tree_pss_mb for r in runs))


def median_run(cmd: Sequence[str], repeats: int, **kw: object) -> Run:
    return summarize([run_child(cmd, **kw) for _ in range(repeats)])  # type: ignore[arg-type]


def python() -> str:
    return sys.executable


__all__ = ["Run", "median_run", "python", "resource", "run_child", "summarize"]
