"""Live streams: one :class:`~susurrus.render.live.LiveSession` per listener, sent as WAV.

The audio route sends an endless 16-bit WAV (sizes in the header set to the maximum, as
streaming WAV servers do) in 200 ms chunks, paced so that rendering never runs more than
``lead_s`` ahead of real time: a change to the mix is heard within about ``lead_s`` plus
the browser's own start-up buffer. A second GET on the same stream takes over from the
first (the page reconnects after a pause) and continues the same session.
"""

from __future__ import annotations

import asyncio
import secrets
import struct
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import SusurrusError
from ..scene import Scene
from .renderpool import LocalSession, RemoteSession

CHUNK_S = 0.2
#: a reconnection (play after pause) fades in over this long: the page's own volume ramp
#: cannot run where ``audio.volume`` is read-only (iOS), and nothing may start abruptly
RESUME_FADE_S = 1.5


def fade_in_pcm(data: bytes, channels: int, start: int, total: int) -> bytes:
    """16-bit PCM ``data`` × a raised-cosine rise, frames ``start`` … of a ``total``-frame fade."""
    x = np.frombuffer(data, dtype="<i2").reshape(-1, channels).astype(np.float32)
    k = np.arange(start, start + x.shape[0], dtype=np.float32)
    g = np.where(k < total, 0.5 - 0.5 * np.cos(np.pi * np.minimum(k, total) / total), 1.0)
    return np.asarray((x * g[:, None].astype(np.float32)).round(), dtype="<i2").tobytes()


def wav_header(sr: int, channels: int) -> bytes:
    """A 16-bit PCM WAV header for a stream of unknown length."""
    block_align = channels * 2
    return (b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, sr, sr * block_align, block_align, 16)
            + b"data" + struct.pack("<I", 0xFFFFFFFF - 36))


@dataclass
class LiveStream:
    """A live session owned by one principal, plus its delivery statistics."""

    id: str
    owner: str
    session: RemoteSession | LocalSession
    profile: str | None = None
    journal_session_id: int | None = None
    why: list[str] | None = None
    bytes_sent: int = 0
    generation: int = 0
    clients: int = 0
    last_active: float = field(default_factory=time.monotonic)
    render_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def scene(self) -> Scene:
        return self.session.scene

    def status(self) -> dict[str, Any]:
        scene = self.session.scene
        return {
            "id": self.id,
            "position_s": round(self.session.position_s, 3),
            "bytes_sent": self.bytes_sent,
            "clients": self.clients,
            "scene": scene.to_dict(),
            "share": scene.to_share_string(),
            "timer": self.session.timer_status(),
            "finished": self.session.finished,
            "journal_session_id": self.journal_session_id,
        }

    async def audio(self, lead_s: float) -> AsyncIterator[bytes]:
        """The WAV byte stream (one connection); stops when superseded or finished."""
        self.generation += 1
        mine = self.generation
        ls = self.session
        n = int(round(CHUNK_S * ls.sr))
        self.clients += 1
        try:
            header = wav_header(ls.sr, ls.channels)
            self.bytes_sent += len(header)
            yield header
            t0 = time.monotonic()
            sent = 0
            fade = int(RESUME_FADE_S * ls.sr) if mine > 1 else 0  # the first play fades in already
            while self.generation == mine and not ls.finished:
                ahead = sent / ls.sr - (time.monotonic() - t0)
                if ahead > lead_s:
                    await asyncio.sleep(ahead - lead_s)
                    continue
                try:
                    async with self.render_lock:
                        data, frames = await self.session.aread_pcm(n)
                except SusurrusError:  # stopped meanwhile, or its render worker died
                    break
                if frames == 0:
                    break
                if sent < fade:
                    data = fade_in_pcm(data, ls.channels, sent, fade)
                sent += frames
                self.bytes_sent += len(data)
                self.last_active = time.monotonic()
                yield data
        finally:
            self.clients -= 1
            self.last_active = time.monotonic()



class StreamTable:
    """The live streams of the server (bounded; idle ones are closed first)."""

    def __init__(self, max_streams: int) -> None:
        self.max_streams = max_streams
        self._lock = threading.Lock()
        self._streams: dict[str, LiveStream] = {}

    def add(self, owner: str, session: RemoteSession | LocalSession, **kw: Any) -> LiveStream:
        st = LiveStream(id=secrets.token_urlsafe(12), owner=owner, session=session, **kw)
        evicted: list[LiveStream] = []
        with self._lock:
            while len(self._streams) >= self.max_streams:
                idle = [s for s in self._streams.values() if s.clients == 0]
                if not idle:
                    break
                oldest = min(idle, key=lambda s: s.last_active)
                evicted.append(self._streams.pop(oldest.id))
            if len(self._streams) >= self.max_streams:
                session.close()
                raise OverflowError(f"{self.max_streams} streams are playing; stop one first")
            self._streams[st.id] = st
        for s in evicted:
            s.session.close()
        return st

    def get(self, sid: str, owner: str) -> LiveStream | None:
        with self._lock:
            st = self._streams.get(sid)
        return st if st is not None and st.owner == owner else None

    def remove(self, sid: str) -> LiveStream | None:
        with self._lock:
            st = self._streams.pop(sid, None)
        if st is not None:
            st.generation += 1  # ends any connected client
            st.session.close()
        return st

    def owned_by(self, owner: str) -> list[LiveStream]:
        with self._lock:
            return [s for s in self._streams.values() if s.owner == owner]

    def close_all(self) -> None:
        with self._lock:
            streams = list(self._streams.values())
            self._streams.clear()
        for s in streams:
            s.generation += 1
            s.session.close()
