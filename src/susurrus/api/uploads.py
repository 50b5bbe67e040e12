"""Receiving an uploaded recording safely.

The multipart body is parsed as it streams in (``python-multipart``'s push parser) and
the ``file`` part is written straight to a hidden partial file under the app's data
directory, with a name the server chooses: the client's file name is only ever shown,
never used as a path. Past the size limit the upload stops at once (413). A file whose
first bytes are not WAV/RF64, FLAC, OGG or MP3, or that libsndfile cannot open, is
removed (415).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from fastapi import HTTPException, Request
from python_multipart.multipart import MultipartParser, parse_options_header

from .. import audio
from ..errors import SusurrusError

EXTENSIONS = {"wav": ".wav", "flac": ".flac", "ogg": ".ogg", "mp3": ".mp3"}


def sniff(head: bytes) -> str | None:
    """The container of a file from its first bytes: wav, flac, ogg, mp3 or None."""
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0):
        return "mp3"
    return None


def display_name(raw: str) -> str:
    """A safe name to show: the last path component, printable, at most 120 characters."""
    base = re.split(r"[\\/]", raw or "")[-1]
    base = "".join(c for c in base if c.isprintable() and c not in "<>\"'`")
    return base[:120] or "upload"


class _Receiver:
    """Callbacks of the push parser: the ``file`` part goes to ``path``, at most ``limit`` bytes."""

    def __init__(self, path: Path, limit: int) -> None:
        self.fh = open(path, "wb")
        os.chmod(path, 0o600)
        self.limit = limit
        self.field = b""
        self.value = b""
        self.headers: dict[bytes, bytes] = {}
        self.in_file = False
        self.done = False
        self.name = "upload"
        self.size = 0

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.field.lower()] = self.value
        self.field, self.value = b"", b""

    def on_headers_finished(self) -> None:
        _, disp = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.in_file = disp.get(b"name") == b"file" and not self.done
        if self.in_file:
            self.name = display_name(disp.get(b"filename", b"upload").decode("utf-8", "replace"))

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self.in_file:
            return
        self.size += end - start
        if self.size > self.limit:
            raise OverflowError
        self.fh.write(data[start:end])

    def on_part_end(self) -> None:
        if self.in_file:
            self.done = True
        self.in_file = False
        self.headers = {}


async def receive_upload(request: Request, dest_dir: Path, stem: str, limit: int) -> tuple[Path, str]:
    """Stream the multipart field ``file`` of ``request`` to ``dest_dir``; returns (path, shown name)."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise HTTPException(415, "send the recording as multipart/form-data, field 'file'")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit + 64 * 1024:
        raise HTTPException(413, f"the upload is {int(length) / 2**20:.1f} MB; the limit is {limit / 2**20:.0f} MB")

    partial = dest_dir / f".{stem}.partial"
    rx = _Receiver(partial, limit)
    parser = MultipartParser(params[b"boundary"], {
        "on_header_field": rx.on_header_field, "on_header_value": rx.on_header_value,
        "on_header_end": rx.on_header_end, "on_headers_finished": rx.on_headers_finished,
        "on_part_data": rx.on_part_data, "on_part_end": rx.on_part_end})
    ok = False
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        if not rx.done or rx.size == 0:
            raise HTTPException(422, "no file in the upload (multipart field 'file'), or it is empty")
        ok = True
    except OverflowError:
        raise HTTPException(413, f"the file is larger than the {limit / 2**20:.0f} MB limit") from None
    except HTTPException:
        raise
    except Exception as exc:  # malformed multipart
        raise HTTPException(400, f"malformed upload: {type(exc).__name__}") from None
    finally:
        rx.fh.close()
        if not ok:
            partial.unlink(missing_ok=True)

    with open(partial, "rb") as f:
        kind = sniff(f.read(16))
    if kind is None:
        partial.unlink(missing_ok=True)
        raise HTTPException(415, "not a WAV, FLAC, OGG or MP3 file")
    path = dest_dir / f"{stem}{EXTENSIONS[kind]}"
    partial.replace(path)
    try:
        audio.info(path)
    except SusurrusError as exc:
        path.unlink(missing_ok=True)
        raise HTTPException(415, f"cannot read the audio: {str(exc).splitlines()[0]}") from None
    return path, rx.name
