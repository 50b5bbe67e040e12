"""Live playback through the default audio device (PortAudio via ``sounddevice``).

The same session stream and master chain as a file render; a second thread
renders ahead into a small queue while the audio callback drains it.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import numpy as np

from .errors import SusurrusError
from .render import SessionStream
from .scene import Scene


class NoAudioDeviceError(SusurrusError):
    """There is no audio output device to play on."""


def _open_sounddevice() -> Any:
    try:
        import sounddevice as sd
    except (OSError, ImportError) as exc:
        raise NoAudioDeviceError(
            f"no audio output available ({exc}); use `susurrus render ... -o session.flac` "
            "and play the file instead") from None
    try:
        dev = sd.query_devices(kind="output")
    except Exception:
        dev = None
    if not dev:
        raise NoAudioDeviceError("no audio output device found; use `susurrus render ... "
                                 "-o session.flac` and play the file instead")
    return sd


def play(scene: Scene, *, block_size: int = 4096, lead_blocks: int = 8) -> None:
    """Play a scene to the end (or until Ctrl-C)."""
    sd = _open_sounddevice()
    stream = SessionStream(scene, block_size=block_size)
    q: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=lead_blocks)
    stop = threading.Event()

    def producer() -> None:
        for block in stream:
            if stop.is_set():
                return
            q.put(np.ascontiguousarray(block.T))
        q.put(None)

    th = threading.Thread(target=producer, daemon=True)
    th.start()
    try:
        with sd.OutputStream(samplerate=scene.sr, channels=2, dtype="float32",
                             blocksize=block_size) as out:
            while True:
                item = q.get()
                if item is None:
                    break
                out.write(item)
    finally:
        stop.set()
