"""Render groups in worker processes: the layers of a long render on every core.

A scene's layers are summed in fixed groups (:func:`~susurrus.render.engine.layer_groups`).
For a long file render each group runs in its own process: it renders its share of
the calibration pre-pass, then streams its summed blocks, one pipe message per
block, while the parent masters and encodes. Python threads cannot do this: the
layers spend much of their time in small numpy operations that hold the GIL.

A worker talks to its parent over a socket pair. Where the parent runs a single
thread (the CLI) it is forked: it shares the parent's imported modules and HRTF
table page for page (a fresh interpreter costs about 100 MB more). Otherwise (a
threaded server) it is a fresh interpreter, ``python -m susurrus.render.workers
FD``: never a fork of a threaded process, and never a re-import of the caller's
``__main__`` (as multiprocessing's spawn would).

The streamed blocks do not go through the pipe: parent and worker map one shared
ring of ``SLOTS`` block-sized slots (a memfd, or an unlinked temporary file where
there is none, its descriptor passed over the socket), the worker renders into a
slot and says which, the parent adds the slot into its mix and hands it back. Each
block crosses no kernel buffer and is copied once.

Protocol (parent → worker, pickled): first ``(scene, indices, channels)``; then
``("calibrate", window, block_size)``, then ``("stream", total, block_size)``
followed by the ring's descriptor, then one ``b"F"`` (slot free) per block consumed.
Worker → parent, every message one frame of bytes whose first byte is the tag: ``C``
+ the pickled hop energies and mix shape, then ``M`` + a piece of the float32 mix (C
order) until it is all sent, ``S`` (a block is in its slot: block ``i`` in slot
``i % SLOTS``, ``channels × n`` float32, C order), ``E`` + a pickled exception. A
worker ignores SIGINT (the parent decides what an interrupt means) and ends when its
pipe closes, so it never outlives its parent's interest in it.
"""

from __future__ import annotations

import contextlib
import gc
import mmap
import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from multiprocessing.reduction import recv_handle, send_handle
from typing import TYPE_CHECKING

import numpy as np

from ..errors import SusurrusError

if TYPE_CHECKING:
    from ..scene.model import Scene
    from .engine import CalibrationWindow, LayerStream


def _send_error(conn: Connection, exc: BaseException) -> None:
    try:
        blob = pickle.dumps(exc)
        pickle.loads(blob)  # an exception that cannot be rebuilt goes as its text
    except Exception:
        blob = pickle.dumps(SusurrusError(f"{type(exc).__name__}: {exc}"))
    try:
        conn.send_bytes(b"E" + blob)
    except OSError:
        pass


#: float32 samples per piece of a calibration mix sent to the parent (1 MB)
MIX_PIECE = 1 << 18
#: block slots in the shared ring: the worker renders up to ``SLOTS`` blocks ahead of
#: the parent, so the two processes do not wait on each other's block-to-block ups
#: and downs (a voice phrase, a tap burst). 16 (8 MB of shared memory at the default
#: block size, about 20 s of audio) rendered an hour of relax ~6 % faster than 4
#: (A/B, median of 4): with 4 the parent waited ~3.5 s on the worker and the worker
#: ~1.3 s on the parent. 40 (20 MB, 55 s of audio: as long as the layers' on and off
#: spells) rendered it another ~5 % faster than 16 (A/B, median of 6; the parent's
#: waits 1.8 → 0.9–1.4 s), for 16 MB more tree RSS (the ring is counted in both
#: processes; PSS +2 MB)
SLOTS = 40


def _ring_file(nbytes: int) -> int:
    """A descriptor of ``nbytes`` of shared memory (memfd; else an unlinked temp file)."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("susurrus-render-ring", os.MFD_CLOEXEC)
    else:  # pragma: no cover - platforms without memfd
        with tempfile.TemporaryFile() as f:
            fd = os.dup(f.fileno())
    try:
        os.ftruncate(fd, nbytes)
    except BaseException:
        os.close(fd)
        raise
    return fd


class _Ring:
    """``SLOTS`` float32 blocks ``(channels, block_size)`` in one shared mapping."""

    def __init__(self, fd: int, channels: int, block_size: int) -> None:
        self.channels = channels
        self._map = mmap.mmap(fd, SLOTS * channels * block_size * 4)
        self.slots = np.frombuffer(self._map, dtype=np.float32).reshape(SLOTS, channels, block_size)

    def view(self, i: int, n: int) -> np.ndarray:
        """Block ``i``'s slot holding ``n`` samples, ``(channels, n)`` C-contiguous."""
        flat = self.slots[i % SLOTS].reshape(-1)
        return flat[: self.channels * n].reshape(self.channels, n)

    def close(self) -> None:
        del self.slots
        with contextlib.suppress(BufferError):  # a view still held: the GC unmaps it
            self._map.close()


def _stream(conn: Connection, layers: list[LayerStream], total: int, block_size: int,
            channels: int) -> None:
    """Render ``total`` samples of the group into the shared ring, block by block."""
    from .engine import group_block

    fd = recv_handle(conn)
    try:
        ring = _Ring(fd, channels, block_size)
    finally:
        os.close(fd)
    try:
        pos = i = freed = 0
        while pos < total:
            n = min(block_size, total - pos)
            while i - freed >= SLOTS:  # every slot holds a block the parent has not added
                if conn.recv_bytes() != b"F":
                    raise ValueError("render worker: expected a freed slot")
                freed += 1
            group_block(layers, n, channels, out=ring.view(i, n))  # rendered in its slot
            conn.send_bytes(b"S")
            pos += n
            i += 1
    finally:
        ring.close()


def _worker_main(conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from .engine import LayerStream, calibrate_group, trim_heap

    try:
        scene, indices, channels = conn.recv()
        while True:
            msg = conn.recv()
            if msg[0] == "calibrate":
                _, win, block_size = msg
                energies, mix = calibrate_group(scene, indices, win, block_size)
                conn.send_bytes(b"C" + pickle.dumps((energies, mix.shape)))
                flat = mix.reshape(-1)
                for pos in range(0, flat.size, MIX_PIECE):  # pieces: the parent adds them up
                    conn.send_bytes(b"M" + flat[pos : pos + MIX_PIECE].tobytes())
                del mix, flat
                trim_heap()
            elif msg[0] == "stream":
                _, total, block_size = msg
                layers = [LayerStream(scene.layers[i], i, scene) for i in indices]
                trim_heap()
                _stream(conn, layers, total, block_size, channels)
                return
            else:
                raise ValueError(f"render worker: unknown request {msg[0]!r}")
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return
    except BaseException as exc:  # any failure reaches the parent, which raises it
        _send_error(conn, exc)
    finally:
        conn.close()


class _Forked:
    """A forked child, with the bits of :class:`subprocess.Popen` a worker needs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"render worker {self.pid}", timeout or 0.0)
            time.sleep(0.01)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


def fork_is_safe() -> bool:
    """True where a worker may be forked: POSIX, and this process runs one thread (a
    fork copies only the calling thread; with others running, locks they hold stay
    locked in the child). Forked workers share the parent's imported modules page for
    page instead of importing their own (about 100 MB each)."""
    return hasattr(os, "fork") and threading.active_count() == 1


class GroupWorker:
    """One render group in a child process.

    Forked when :func:`fork_is_safe` (and ``fork`` is not false): the child shares
    the parent's memory until it writes to it. Otherwise a fresh interpreter
    (``python -m susurrus.render.workers``), safe beside threads. ``close_fds`` are
    descriptors a forked child closes first (its siblings' pipe ends: a sibling
    must see its parent hang up).
    """

    def __init__(self, scene: Scene, indices: list[int], channels: int, *,
                 fork: bool | None = None, close_fds: Sequence[int] = ()) -> None:
        self.indices = indices
        self.channels = channels
        if fork is None:
            fork = fork_is_safe()
        ours, theirs = socket.socketpair()
        self._proc: subprocess.Popen[bytes] | _Forked
        try:
            if fork:
                gc.freeze()  # the child's collections leave the shared objects' pages alone
                pid = os.fork()
                if pid == 0:  # the child: render, then leave without the parent's exit path
                    code = 0
                    try:
                        ours.close()
                        for fd in close_fds:
                            with contextlib.suppress(OSError):
                                os.close(fd)
                        signal.signal(signal.SIGTERM, signal.SIG_DFL)
                        _worker_main(Connection(theirs.detach()))
                    except BaseException:
                        code = 1
                    finally:
                        os._exit(code)
                gc.unfreeze()
                self._proc = _Forked(pid)
            else:
                self._proc = subprocess.Popen(
                    [sys.executable, "-m", "susurrus.render.workers", str(theirs.fileno())],
                    pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._conn = Connection(ours.detach())
        self._conn.send((scene, indices, channels))
        self._ring: _Ring | None = None
        self._block = 0

    def fileno(self) -> int:
        return self._conn.fileno()

    def _recv(self, tag: bytes) -> bytes:
        try:
            frame = self._conn.recv_bytes()
        except (EOFError, OSError) as exc:
            code = self._proc.poll()
            raise SusurrusError(f"render worker for layers {self.indices} stopped "
                                f"(exit code {code})") from exc
        if frame[:1] == b"E":
            raise pickle.loads(frame[1:])
        if frame[:1] != tag:
            raise SusurrusError(f"render worker: expected {tag!r}, got {frame[:1]!r}")
        return frame[1:]

    def request_calibration(self, win: CalibrationWindow, block_size: int) -> None:
        self._conn.send(("calibrate", win, block_size))

    def add_calibration(self, mix: np.ndarray) -> list[np.ndarray]:
        """Add the group's float32 window mix into ``mix`` (C-contiguous, the shape the
        worker reports), piece by piece as it arrives; return the group's hop energies
        (see ``calibrate_group``)."""
        energies, shape = pickle.loads(self._recv(b"C"))
        if tuple(shape) != mix.shape or not mix.flags.c_contiguous or mix.dtype != np.float32:
            raise SusurrusError(f"render worker: a {shape} mix for a {mix.shape} buffer")
        flat = mix.reshape(-1)
        pos = 0
        while pos < flat.size:
            piece = np.frombuffer(self._recv(b"M"), dtype=np.float32)
            flat[pos : pos + piece.size] += piece
            pos += piece.size
        return energies

    def start_stream(self, total: int, block_size: int) -> None:
        fd = _ring_file(SLOTS * self.channels * block_size * 4)
        try:
            self._ring = _Ring(fd, self.channels, block_size)
            self._conn.send(("stream", total, block_size))
            send_handle(self._conn, fd, self._proc.pid)
        finally:
            os.close(fd)

    def add_next_block(self, mix: np.ndarray | None, n: int) -> np.ndarray:
        """Add the group's next block (``channels × n``) into ``mix`` and return it
        (``mix`` None: a copy of the block), then free the block's slot."""
        self._recv(b"S")
        assert self._ring is not None
        block = self._ring.view(self._block, n)
        if mix is None:
            mix = np.array(block)
        else:
            mix += block
        self._block += 1
        try:
            self._conn.send_bytes(b"F")
        except OSError:  # the worker is gone: its error (or exit) surfaces at the next block
            pass
        return mix

    def close(self) -> None:
        self._conn.close()
        if self._ring is not None:
            self._ring.close()
            self._ring = None
        try:
            self._proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def start_workers(scene: Scene, groups: list[list[int]], channels: int, *,
                  fork: bool | None = None) -> dict[int, GroupWorker]:
    """One worker per group, keyed by the group's index (``fork``: see :class:`GroupWorker`)."""
    workers: dict[int, GroupWorker] = {}
    try:
        for gi, g in enumerate(groups):
            workers[gi] = GroupWorker(scene, g, channels, fork=fork,
                                      close_fds=[w.fileno() for w in workers.values()])
    except BaseException:
        for w in workers.values():
            w.close()
        raise
    return workers


if __name__ == "__main__":
    _worker_main(Connection(int(sys.argv[1])))
