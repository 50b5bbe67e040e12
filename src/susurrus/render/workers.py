"""Render groups in worker processes: the layers of a long render on every core.

A scene's layers are summed in fixed groups (:func:`~susurrus.render.engine.layer_groups`).
For a long file render each group runs in its own process: it renders its share of
the calibration pre-pass, then streams its summed blocks, one pipe message per
block, while the parent masters and encodes. Python threads cannot do this: the
layers spend much of their time in small numpy operations that hold the GIL.

A worker is a fresh interpreter (``python -m susurrus.render.workers FD``) talking
over a socket pair, so starting one never re-imports the caller's ``__main__`` (as
multiprocessing's spawn would) nor forks a threaded server.

Protocol (parent → worker, pickled): first ``(scene, indices, channels)``; then
``("calibrate", window, block_size)``, then
``("stream", total, block_size)``. Worker → parent, every message one frame of bytes
whose first byte is the tag: ``C`` + the pickled hop energies and mix shape (the
float32 mix follows raw, in a frame of its own), ``D`` + a float32
block (``channels × n``, C order), ``E`` + a pickled exception. A worker ignores
SIGINT (the parent decides what an interrupt means) and ends when its pipe closes,
so it never outlives its parent's interest in it.
"""

from __future__ import annotations

import pickle
import signal
import socket
import subprocess
import sys
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

import numpy as np

from ..errors import SusurrusError

if TYPE_CHECKING:
    from ..scene.model import Scene
    from .engine import CalibrationWindow


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


def _worker_main(conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from .engine import LayerStream, calibrate_group, group_block, trim_heap

    try:
        scene, indices, channels = conn.recv()
        while True:
            msg = conn.recv()
            if msg[0] == "calibrate":
                _, win, block_size = msg
                energies, mix = calibrate_group(scene, indices, win, block_size)
                conn.send_bytes(b"C" + pickle.dumps((energies, mix.shape)))
                conn.send_bytes(mix.data.cast("B"))  # raw, without a pickled copy
                del mix
                trim_heap()
            elif msg[0] == "stream":
                _, total, block_size = msg
                layers = [LayerStream(scene.layers[i], i, scene) for i in indices]
                trim_heap()
                pos = 0
                while pos < total:
                    n = min(block_size, total - pos)
                    block = group_block(layers, n, channels)
                    conn.send_bytes(b"D" + block.tobytes())
                    pos += n
                return
            else:
                raise ValueError(f"render worker: unknown request {msg[0]!r}")
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return
    except BaseException as exc:  # any failure reaches the parent, which raises it
        _send_error(conn, exc)
    finally:
        conn.close()


class GroupWorker:
    """One render group in a child process (spawned, so safe beside threads)."""

    def __init__(self, scene: Scene, indices: list[int], channels: int) -> None:
        self.indices = indices
        self.channels = channels
        ours, theirs = socket.socketpair()
        try:
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

    def calibration(self) -> tuple[list[np.ndarray], np.ndarray]:
        """The group's hop energies and its float32 window mix (see ``calibrate_group``)."""
        energies, shape = pickle.loads(self._recv(b"C"))
        try:
            raw = self._conn.recv_bytes()
        except (EOFError, OSError) as exc:
            raise SusurrusError(f"render worker for layers {self.indices} stopped") from exc
        return energies, np.frombuffer(raw, dtype=np.float32).reshape(shape)

    def start_stream(self, total: int, block_size: int) -> None:
        self._conn.send(("stream", total, block_size))

    def next_block(self, n: int) -> np.ndarray:
        data = self._recv(b"D")
        y = np.frombuffer(data, dtype=np.float32).reshape(self.channels, -1)
        if y.shape[1] != n:
            raise SusurrusError(f"render worker sent {y.shape[1]} samples, expected {n}")
        return y

    def close(self) -> None:
        self._conn.close()
        try:
            self._proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def start_workers(scene: Scene, groups: list[list[int]], channels: int) -> dict[int, GroupWorker]:
    """One worker per group, keyed by the group's index."""
    workers: dict[int, GroupWorker] = {}
    try:
        for gi, g in enumerate(groups):
            workers[gi] = GroupWorker(scene, g, channels)
    except BaseException:
        for w in workers.values():
            w.close()
        raise
    return workers


if __name__ == "__main__":
    _worker_main(Connection(int(sys.argv[1])))
