"""The corpus batch engine: one Dask task per file, records journalled as they finish.

Without a scheduler address the engine starts a
:class:`dask.distributed.LocalCluster` of single-threaded worker processes bound to
127.0.0.1 and closes it when done; with one (``tcp://host:8786``) it uses that
cluster, whose workers must have ``susurrus`` installed and see the files at the
same paths.

Each task runs :func:`susurrus.analysis.analyze_file` in the worker process, which
streams the file in blocks (memory does not grow with its length) and uses the
process-wide YAMNet tagger: it is loaded once per worker, on its first file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from ..analysis.core import BLOCK_SIZE, RECORD_KEYS, analyze_file, error_record
from ..errors import ParameterError
from .dataset import Dataset, Entry
from .sources import CorpusError, collect, file_key

#: tasks kept submitted ahead of the workers (× workers); bounds scheduler memory
_TASKS_PER_WORKER = 4


@dataclass
class Progress:
    """The state of a run, passed to the progress callback after every file."""

    done: int
    total: int
    skipped: int
    errors: int
    audio_s: float
    elapsed_s: float
    dashboard: str | None = None

    @property
    def hours_per_minute(self) -> float:
        """Hours of audio analysed per minute of wall time (this run)."""
        return (self.audio_s / 3600.0) / (self.elapsed_s / 60.0) if self.elapsed_s > 0 else 0.0


@dataclass
class CorpusRun:
    """What one run did."""

    dataset: str
    files: int
    skipped: int
    analysed: int
    errors: int
    retry: int
    audio_s: float
    seconds: float
    workers: int
    dashboard: str | None

    @property
    def hours_per_minute(self) -> float:
        return (self.audio_s / 3600.0) / (self.seconds / 60.0) if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hours_per_minute"] = round(self.hours_per_minute, 4)
        d["audio_s"] = round(self.audio_s, 3)
        d["seconds"] = round(self.seconds, 3)
        return d


# -- what runs on the workers ---------------------------------------------------------------


def analyse_task(path: str, tag: bool, block_size: int) -> dict[str, Any]:
    """Analyse one file in a worker process (never raises for a bad file).

    The tagger is the worker process's own (:func:`susurrus.tagger.get_tagger`, a
    module-level cache), so it is loaded once per worker, not once per file.
    """
    return analyze_file(path, tagger=None if tag else False, block_size=block_size)


# -- the cluster -----------------------------------------------------------------------------


@contextmanager
def open_client(*, scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A :class:`dask.distributed.Client`: to ``scheduler``, or to a LocalCluster started here.

    The LocalCluster has ``workers`` single-threaded worker processes (default: one per
    core), listens on 127.0.0.1 only, serves the dashboard on a random loopback port
    when ``bokeh`` is installed, and is closed on exit.
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - dask is a dependency
        raise CorpusError(
            f"dask.distributed is not installed ({exc}); pip install 'dask[distributed]'"
        ) from None
    if scheduler is not None:
        if workers is not None:
            raise ParameterError(
                "workers", workers, "no --workers with --scheduler (the cluster has its own)"
            )
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise CorpusError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n < 1:
        raise ParameterError("workers", n, "an integer >= 1")
    # the scheduler always serves HTTP (health, metrics; the dashboard when bokeh is
    # installed): keep it on a random loopback port
    dashboard = "127.0.0.1:0"
    with (
        LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=dashboard,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _dashboard(client: Any, *, local: bool) -> str | None:
    """The dashboard's URL, or ``None`` when there is none (a local cluster without bokeh)."""
    if local and importlib.util.find_spec("bokeh") is None:
        return None
    try:
        info = client.scheduler_info()
        if "dashboard" not in info.get("services", {}):
            return None
        return str(client.dashboard_link)
    except Exception:
        return None


def _n_workers(client: Any) -> int:
    try:
        return len(client.scheduler_info().get("workers", {}))
    except Exception:
        return 0


# -- the run ---------------------------------------------------------------------------------


def analyze_corpus(
    source: str | os.PathLike[str],
    dataset: str | os.PathLike[str],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    client: Any = None,
    tagger: bool = True,
    block_size: int = BLOCK_SIZE,
    progress: Callable[[Progress], None] | None = None,
) -> CorpusRun:
    """Analyse every file of SOURCE into DATASET, resuming what an earlier run did.

    Parameters
    ----------
    source:
        a folder (recursive), a text file of paths or a glob (see :func:`.sources.collect`).
    dataset:
        the dataset folder (created if missing; see :mod:`.dataset` for its layout).
    scheduler:
        a Dask scheduler address (``tcp://host:8786``); default: a LocalCluster.
    workers:
        LocalCluster worker processes (single-threaded; default one per core).
    client:
        an existing :class:`dask.distributed.Client` to use instead (tests, notebooks).
    tagger:
        ``False`` skips YAMNet tags (faster; ``tags``, ``top_labels`` empty).
    block_size:
        samples read per block in the workers.
    progress:
        called with a :class:`Progress` when the run starts and after every file.

    Returns
    -------
    CorpusRun

    Raises
    ------
    CorpusError
        SOURCE names no files, DATASET is unusable or locked by another run, the
        scheduler cannot be reached or was lost, or the workers cannot import susurrus.

    Notes
    -----
    A file is skipped when the dataset holds a record for the same path, size and
    modification time (ns); otherwise it is (re)analysed. Records are appended to the
    journal as each task finishes (flushed and fsync'd), so a run killed at any point
    loses only the files in flight. A task whose worker died
    (``distributed.scheduler.allowed-failures`` + 1 times: a file that crashes the
    decoder or exhausts memory) is recorded with that error; a task lost with the
    scheduler connection is recorded with ``retry`` set and redone by the next run.
    """
    files = collect(source)
    t0 = time.monotonic()
    with Dataset(dataset) as ds:
        keys = {p: file_key(p) for p in files}
        todo = [p for p in files if not ds.is_done(p, keys[p])]
        skipped = len(files) - len(todo)
        state = Progress(0, len(todo), skipped, 0, 0.0, 0.0)
        run = CorpusRun(str(dataset), len(files), skipped, 0, 0, 0, 0.0, 0.0, 0, None)
        if not todo:
            if progress is not None:
                progress(state)
            run.seconds = time.monotonic() - t0
            return run
        # biggest files first: the long ones do not end up alone at the tail of the run
        todo.sort(key=lambda p: -keys[p][0])
        if client is not None:
            _run(client, ds, todo, keys, tagger, block_size, state, run, progress, t0, local=False)
        else:
            n = workers
            if scheduler is None:  # no more local workers than files to do
                n = min(workers or os.cpu_count() or 1, len(todo))
            with open_client(scheduler=scheduler, workers=n) as cl:
                _run(
                    cl,
                    ds,
                    todo,
                    keys,
                    tagger,
                    block_size,
                    state,
                    run,
                    progress,
                    t0,
                    local=scheduler is None,
                )
    run.seconds = time.monotonic() - t0
    return run


def _task_key(path: str) -> str:
    return (
        "susurrus-analyse-" + hashlib.sha1(path.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    )


def _run(
    client: Any,
    ds: Dataset,
    todo: list[str],
    keys: dict[str, tuple[int, int]],
    tagger: bool,
    block_size: int,
    state: Progress,
    run: CorpusRun,
    progress: Callable[[Progress], None] | None,
    t0: float,
    *,
    local: bool,
) -> None:
    from distributed import KilledWorker, as_completed

    run.workers = _n_workers(client)
    run.dashboard = state.dashboard = _dashboard(client, local=local)
    if progress is not None:
        progress(state)
    pending = iter(enumerate(todo))
    nonce = f"{os.getpid()}-{time.time_ns()}"

    inflight: dict[str, tuple[Any, str]] = {}

    def submit(i: int, path: str) -> Any:
        fut = client.submit(
            analyse_task,
            path,
            tagger,
            block_size,
            key=f"{_task_key(path)}-{nonce}",
            priority=len(todo) - i,
            pure=False,
        )
        inflight[fut.key] = (fut, path)
        return fut

    ahead = max(8, _TASKS_PER_WORKER * max(1, run.workers))
    first = [submit(i, p) for i, p in _take(pending, ahead)]
    queue = as_completed(first)
    try:
        for fut in queue:
            path = inflight.pop(fut.key)[1]
            retry = False
            try:
                rec = fut.result()
            except KilledWorker as exc:
                rec = error_record(path, f"{path}: the worker analysing it died repeatedly ({exc})")
            except ImportError as exc:
                raise CorpusError(
                    f"the Dask workers cannot import susurrus ({exc}); install it on every worker"
                ) from None
            except (OSError, TimeoutError) as exc:
                raise CorpusError(
                    f"lost the Dask scheduler ({type(exc).__name__}: {exc}); "
                    f"{state.done} file(s) of this run were saved; run again to finish"
                ) from None
            except Exception as exc:  # a task lost with its worker or cancelled: redo next run
                rec = error_record(path, f"{path}: not analysed ({type(exc).__name__}: {exc})")
                retry = True
            fut.release()
            if not isinstance(rec, dict) or tuple(rec) != RECORD_KEYS:
                rec = error_record(path, f"{path}: the worker returned an unexpected result")
                retry = True
            size, mtime_ns = keys[path]
            ds.append(Entry(path, size, mtime_ns, retry, rec))
            state.done += 1
            run.analysed += 1
            if rec["error"] is not None:
                state.errors += 1
                run.errors += 1
                run.retry += int(retry)
            elif rec.get("duration_s"):
                state.audio_s += float(rec["duration_s"])
                run.audio_s = state.audio_s
            state.elapsed_s = time.monotonic() - t0
            if progress is not None:
                progress(state)
            for i, p in _take(pending, 1):
                queue.add(submit(i, p))
    finally:
        for f, _ in inflight.values():  # interrupted: stop what is still queued
            f.cancel()


def _take(it: Iterator[tuple[int, str]], n: int) -> list[tuple[int, str]]:
    out = []
    for _ in range(n):
        try:
            out.append(next(it))
        except StopIteration:
            break
    return out


__all__ = ["CorpusRun", "Progress", "analyse_task", "analyze_corpus", "open_client"]
