"""Live sessions rendered in worker processes, so the web server uses every core.

One Python process cannot render twenty live sessions: the interpreter lock serialises
the triggers' Python code. :class:`RenderPool` starts one worker process per core
(``spawn``: no threads are copied), each holding some of the server's
:class:`~susurrus.render.live.LiveSession` objects; a stream is placed on the worker with
the fewest streams. :class:`RemoteSession` is the server-side handle with the same
methods as a ``LiveSession``; ``read`` returns 16-bit PCM bytes ready to send.

Requests to one worker are serialised by a lock (a worker renders one block at a time
anyway). A worker that dies takes its streams with it: they end, and the next stream
starts a fresh worker. With ``workers=0`` sessions render in the server process (tests).
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing as mp
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from ..errors import ParameterError, SusurrusError

#: live rendering block (100 ms at 48 kHz): half the FFT overhead of 50 ms blocks, and
#: a mix change is still heard within ~0.6 s of the request plus the stream's lead
LIVE_BLOCK = 4800
#: scheduling priority of the render workers relative to the server process
WORKER_NICE = 4


def to_pcm16(y: np.ndarray, rng: np.random.Generator | None = None) -> bytes:
    """Interleaved little-endian 16-bit PCM of float audio ``(channels, n)`` (TPDF dither)."""
    rng = rng or np.random.default_rng()
    d = (rng.random(y.shape) - rng.random(y.shape)) / 32768.0
    q = np.clip(np.round((y + d) * 32767.0), -32768, 32767).astype("<i2")
    return q.T.tobytes()


def _status(ls: Any, *, scene: bool = True) -> dict[str, Any]:
    """Position, end and timer; and the scene, except on reads (it changes only on update)."""
    st = {"position_s": ls.position_s, "finished": ls.finished, "timer": ls.timer_status()}
    if scene:
        st["scene"] = ls.scene.to_dict()
    return st


def _error(exc: BaseException) -> tuple[str, Any]:
    if isinstance(exc, ParameterError):
        return "param", (exc.name, exc.value if isinstance(exc.value, (int, float, str, type(None))) else str(exc.value),
                         exc.allowed)
    return "error", f"{type(exc).__name__}: {exc}" if not isinstance(exc, SusurrusError) else str(exc)


def _handle(sessions: dict[int, Any], rng: np.random.Generator, op: str, sid: int, arg: Any) -> Any:
    from ..render.live import LiveSession
    from ..scene import scene_from_dict

    if op == "open":
        ls = LiveSession(scene_from_dict(arg, source="scene"), block_size=LIVE_BLOCK)
        sessions[sid] = ls
        return {"sr": ls.sr, "channels": ls.channels, **_status(ls)}
    ls = sessions[sid]
    if op == "read":
        y = ls.read(arg)
        return (to_pcm16(y, rng), int(y.shape[1]), _status(ls, scene=False))
    if op == "update":
        ls.update(scene_from_dict(arg, source="scene"))
    elif op == "set_timer":
        ls.set_timer(arg[0], fade_s=arg[1])
    elif op == "extend_timer":
        ls.extend_timer(arg)
    elif op == "cancel_timer":
        ls.cancel_timer()
    elif op == "close":
        sessions.pop(sid).close()
        return None
    else:
        raise ValueError(f"unknown operation {op!r}")
    return _status(ls)


def _warm_up() -> None:
    """Load the HRIR set and the trigger modules before the first listener waits for them."""
    from ..render.live import LiveSession
    from ..scene.presets import load_preset

    ls = LiveSession(load_preset("relax"))
    ls.read(2400)
    ls.close()


def _serve(conn: Connection) -> None:
    """A worker's loop: ``(request id, op, sid, arg)`` in, ``(request id, kind, result)`` out.

    Requests run on a small thread pool, so a stream starting (its loudness calibration
    takes a few hundred ms) does not hold up the blocks of the streams already playing.
    """
    from concurrent.futures import ThreadPoolExecutor

    # the streams have a lead of a second or more to ride out a busy moment; requests to the
    # API have none: the server's own process comes first
    try:
        os.nice(WORKER_NICE)
    except OSError:  # pragma: no cover - not permitted
        pass
    sessions: dict[int, Any] = {}
    send_lock = threading.Lock()
    pool = ThreadPoolExecutor(max_workers=8)
    try:
        _warm_up()
    except Exception:  # pragma: no cover - warm-up is an optimisation only
        pass

    def run(rid: int, op: str, sid: int, arg: Any) -> None:
        rng = np.random.default_rng()
        try:
            out: tuple[int, str, Any] = (rid, "ok", _handle(sessions, rng, op, sid, arg))
        except BaseException as exc:  # report, keep serving the other streams
            out = (rid, *_error(exc))
        with send_lock:
            conn.send(out)

    while True:
        try:
            rid, op, sid, arg = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            break
        if op == "quit":
            break
        pool.submit(run, rid, op, sid, arg)
    pool.shutdown(wait=False, cancel_futures=True)


class _Worker:
    def __init__(self, ctx: Any) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child,), daemon=True, name="susurrus-render")
        self.proc.start()
        child.close()
        self.send_lock = threading.Lock()
        self.streams = 0
        self._ids = itertools.count(1)
        self._waiting: dict[int, Callable[[tuple[str, Any]], None]] = {}
        self._wlock = threading.Lock()
        self._reader = threading.Thread(target=self._read_replies, daemon=True, name="susurrus-render-replies")
        self._reader.start()

    def _read_replies(self) -> None:
        while True:
            try:
                rid, kind, res = self.conn.recv()
            except (EOFError, OSError):
                break
            with self._wlock:
                deliver = self._waiting.pop(rid, None)
            if deliver is not None:
                deliver((kind, res))
        with self._wlock:
            waiting, self._waiting = self._waiting, {}
        for deliver in waiting.values():
            deliver(("error", "the render worker stopped; start the stream again"))

    def _send(self, rid: int, op: str, sid: int, arg: Any, deliver: Callable[[tuple[str, Any]], None]) -> None:
        with self._wlock:
            self._waiting[rid] = deliver
        try:
            with self.send_lock:
                self.conn.send((rid, op, sid, arg))
        except OSError:
            with self._wlock:
                self._waiting.pop(rid, None)
            raise SusurrusError("the render worker stopped; start the stream again") from None

    @staticmethod
    def _result(kind: str, res: Any) -> Any:
        if kind == "ok":
            return res
        if kind == "param":
            raise ParameterError(*res)
        raise SusurrusError(res)

    async def acall(self, op: str, sid: int, arg: Any = None) -> Any:
        """:meth:`call` for the event loop: no thread waits for the worker."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[tuple[str, Any]] = loop.create_future()

        def settle(reply: tuple[str, Any]) -> None:
            if not fut.done():
                fut.set_result(reply)

        def deliver(reply: tuple[str, Any]) -> None:
            loop.call_soon_threadsafe(settle, reply)

        self._send(next(self._ids), op, sid, arg, deliver)
        return self._result(*(await fut))

    def call(self, op: str, sid: int, arg: Any = None, timeout: float = 60.0) -> Any:
        fut: Future[tuple[str, Any]] = Future()
        self._send(next(self._ids), op, sid, arg, fut.set_result)
        try:
            kind, res = fut.result(timeout)
        except TimeoutError:
            raise SusurrusError(f"the render worker did not answer within {timeout:g} s") from None
        return self._result(kind, res)

    @property
    def alive(self) -> bool:
        return self.proc.is_alive()

    def stop(self) -> None:
        try:
            with self.send_lock:
                self.conn.send((0, "quit", 0, None))
        except OSError:
            pass
        self.proc.join(2)
        if self.proc.is_alive():
            self.proc.kill()


class RemoteSession:
    """A live session in a worker process (the ``LiveSession`` interface; ``read`` gives PCM bytes)."""

    def __init__(self, worker: _Worker, sid: int, info: dict[str, Any]) -> None:
        self._w = worker
        self._sid = sid
        self.sr = int(info["sr"])
        self.channels = int(info["channels"])
        self._state = info
        self._scene: Any = None
        self._closed = False

    def _set(self, st: dict[str, Any]) -> None:
        self._state = {**self._state, **st}
        if "scene" in st:
            self._scene = None

    @property
    def position_s(self) -> float:
        return float(self._state["position_s"])

    @property
    def finished(self) -> bool:
        return bool(self._state["finished"])

    @property
    def scene(self) -> Any:
        from ..scene import scene_from_dict

        if self._scene is None:
            self._scene = scene_from_dict(self._state["scene"], source="scene")
        return self._scene

    def timer_status(self) -> dict[str, Any] | None:
        t: dict[str, Any] | None = self._state["timer"]
        return t

    def read_pcm(self, n: int) -> tuple[bytes, int]:
        data, frames, st = self._w.call("read", self._sid, n)
        self._set(st)
        return data, frames

    async def aread_pcm(self, n: int) -> tuple[bytes, int]:
        data, frames, st = await self._w.acall("read", self._sid, n)
        self._set(st)
        return data, frames

    def update(self, scene: Any) -> None:
        self._set(self._w.call("update", self._sid, scene.to_dict()))

    def set_timer(self, after_s: float, *, fade_s: float = 120.0) -> None:
        self._set(self._w.call("set_timer", self._sid, (after_s, fade_s)))

    def extend_timer(self, delta_s: float) -> None:
        self._set(self._w.call("extend_timer", self._sid, delta_s))

    def cancel_timer(self) -> None:
        self._set(self._w.call("cancel_timer", self._sid))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._w.streams -= 1
        try:
            self._w.call("close", self._sid)
        except SusurrusError:
            pass


class LocalSession:
    """A ``LiveSession`` in this process, with the same ``read_pcm`` as :class:`RemoteSession`."""

    def __init__(self, scene: Any) -> None:
        from ..render.live import LiveSession

        self._ls = LiveSession(scene, block_size=LIVE_BLOCK)
        self._rng = np.random.default_rng()
        self.sr, self.channels = self._ls.sr, self._ls.channels

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ls, name)

    def read_pcm(self, n: int) -> tuple[bytes, int]:
        y = self._ls.read(n)
        return to_pcm16(y, self._rng), int(y.shape[1])

    async def aread_pcm(self, n: int) -> tuple[bytes, int]:
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(self.read_pcm, n)


class RenderPool:
    """``workers`` render processes (0: render in this process)."""

    def __init__(self, workers: int) -> None:
        if not 0 <= int(workers) <= 64:
            raise ParameterError("render_workers", workers, "0-64")
        self._ctx = mp.get_context("spawn")
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._workers: list[_Worker] = [_Worker(self._ctx) for _ in range(int(workers))]

    @property
    def workers(self) -> int:
        return len(self._workers)

    def open(self, scene: Any) -> RemoteSession | LocalSession:
        """Start a live session of ``scene`` on the least busy worker."""
        if not self._workers:
            return LocalSession(scene)
        with self._lock:
            for i, w in enumerate(self._workers):
                if not w.alive:
                    self._workers[i] = _Worker(self._ctx)
            w = min(self._workers, key=lambda x: x.streams)
            w.streams += 1
            sid = next(self._ids)
        try:
            info = w.call("open", sid, scene.to_dict())
        except BaseException:
            w.streams -= 1
            raise
        return RemoteSession(w, sid, info)

    def close(self) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
        for w in workers:
            w.stop()
