"""Audio validation and file I/O through libsndfile (``soundfile``); FLAC files are
written by libFLAC directly where it can be loaded (:mod:`susurrus._flac`: the same
samples, about a quarter less encoder work).

Audio is ``float32`` of shape ``(channels, samples)``; soundfile's
``(samples, channels)`` layout is converted here, at the edge, and nowhere else.

Writing is always chunked (libsndfile 1.2.2 crashes on one-shot OGG writes of a
minute or more) and atomic: samples go to a hidden partial file next to the
target, which is renamed into place when the writer closes. An interrupted
render (Ctrl-C, SIGTERM) can keep what was rendered as a valid, playable file;
any other failure (a full disk, say) removes the partial file, so a corrupt file
is never left behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import soundfile as sf

from . import _flac
from .errors import AudioError, AudioFileError, AudioWarning, ParameterError

#: output formats by file extension: (libsndfile format, subtype)
WRITE_FORMATS: dict[str, tuple[str, str]] = {
    ".wav": ("WAV", "PCM_24"),
    ".flac": ("FLAC", "PCM_24"),
    ".ogg": ("OGG", "VORBIS"),
}
#: FLAC compression where libsndfile writes FLAC (where libFLAC itself cannot be loaded,
#: see :mod:`susurrus._flac`; libsndfile's 0 … 1, its default 0.625 is FLAC level 5): 0.5, FLAC
#: level 4, wrote a 20-minute relax render the same size (261.8 MB) with about 15 %
#: less encoder CPU
FLAC_COMPRESSION = 0.5
READ_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif")
#: frames per libsndfile write call
WRITE_CHUNK = 32768
_WAV_LIMIT_BYTES = 0xFFFF_FFFF - 1_000_000


def validate(y: Any, *, name: str = "y", channels: int | None = None) -> np.ndarray:
    """Check that ``y`` is finite float32 ``(channels, samples)`` audio and return it.

    Raises :class:`AudioError` for a wrong dtype, a wrong number of dimensions or
    channels, or non-finite samples. Warns (:class:`AudioWarning`) on clipping.
    """
    if not isinstance(y, np.ndarray):
        raise AudioError(f"{name} must be a numpy array, got {type(y).__name__}")
    if y.dtype != np.float32:
        raise AudioError(f"{name} must be float32, got {y.dtype}")
    if y.ndim != 2:
        raise AudioError(f"{name} must have shape (channels, samples), got shape {y.shape}")
    if channels is not None and y.shape[0] != channels:
        raise AudioError(f"{name} must have {channels} channel(s), got {y.shape[0]}")
    if not np.all(np.isfinite(y)):
        bad = int(np.size(y) - np.count_nonzero(np.isfinite(y)))
        raise AudioError(f"{name} has {bad} non-finite sample(s) (NaN or inf)")
    if y.size and float(np.max(np.abs(y))) > 1.0:
        warnings.warn(f"{name} exceeds full scale (peak {float(np.max(np.abs(y))):.3f})",
                      AudioWarning, stacklevel=2)
    return y


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds, read from its header."""

    path: str
    sr: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def duration_s(self) -> float:
        return self.frames / self.sr if self.sr else 0.0


def _open_error(path: Path, exc: Exception) -> AudioFileError:
    if not path.exists():
        return AudioFileError(f"{path}: no such file")
    if path.is_dir():
        return AudioFileError(f"{path}: is a directory, not an audio file")
    if path.stat().st_size == 0:
        return AudioFileError(f"{path}: file is empty")
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return AudioFileError(f"{path}: not a readable audio file ({msg})")


def info(path: str | os.PathLike[str]) -> AudioInfo:
    """Header information of an audio file; :class:`AudioFileError` if unreadable."""
    p = Path(path)
    try:
        i = sf.info(str(p))
    except Exception as exc:  # soundfile raises LibsndfileError, RuntimeError, OSError
        raise _open_error(p, exc) from None
    if i.samplerate <= 0 or i.channels <= 0:
        raise AudioFileError(f"{p}: invalid header (sr={i.samplerate}, channels={i.channels})")
    return AudioInfo(str(p), int(i.samplerate), int(i.channels), int(i.frames), i.format, i.subtype)


def stream(
    path: str | os.PathLike[str], *, block_size: int = 65536
) -> Iterator[np.ndarray]:
    """Yield ``(channels, n)`` float32 blocks of a file, in constant memory.

    Non-finite samples raise :class:`AudioError`; a truncated or corrupt body
    raises :class:`AudioFileError` naming the file.
    """
    if block_size <= 0:
        raise ParameterError("block_size", block_size, "a positive number of samples")
    p = Path(path)
    try:
        f = sf.SoundFile(str(p))
    except Exception as exc:
        raise _open_error(p, exc) from None
    with f:
        while True:
            try:
                data = f.read(block_size, dtype="float32", always_2d=True)
            except Exception as exc:
                raise AudioFileError(f"{p}: cannot decode ({exc})") from None
            if data.shape[0] == 0:
                return
            block = np.ascontiguousarray(data.T)
            if not np.all(np.isfinite(block)):
                raise AudioError(f"{p}: contains non-finite samples (NaN or inf)")
            yield block


def read(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Read a whole file into ``(y, sr)``; ``y`` is float32 ``(channels, samples)``."""
    i = info(path)
    blocks = list(stream(path))
    y = np.concatenate(blocks, axis=1) if blocks else np.zeros((i.channels, 0), np.float32)
    if y.shape[1] == 0:
        raise AudioFileError(f"{path}: contains no audio samples")
    return y, i.sr


def output_format(path: str | os.PathLike[str]) -> tuple[str, str]:
    """The (format, subtype) written for ``path``'s extension."""
    ext = Path(path).suffix.lower()
    if ext not in WRITE_FORMATS:
        raise ParameterError("output", str(path), "a file ending in " + ", ".join(WRITE_FORMATS))
    return WRITE_FORMATS[ext]


class AudioWriter:
    """Chunked, atomic audio file writer.

    Parameters
    ----------
    path:
        target file; its extension picks the format (``.wav``, ``.flac``, ``.ogg``).
    sr, channels:
        sample rate and channel count.
    expected_frames:
        if known, WAV files that would pass 4 GB are written as RF64.

    Use as a context manager. Leaving the block normally renames the partial file
    into place. ``KeyboardInterrupt`` (and :class:`Interrupted`) keep what was
    written as a valid file when ``keep_partial`` is true; any other exception
    removes the partial file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        sr: int,
        channels: int,
        expected_frames: int | None = None,
        keep_partial: bool = True,
    ) -> None:
        self.path = Path(path)
        fmt, subtype = output_format(self.path)
        if fmt == "WAV" and expected_frames is not None:
            if expected_frames * channels * 3 > _WAV_LIMIT_BYTES:
                fmt = "RF64"
        if sr <= 0:
            raise ParameterError("sr", sr, "a positive sample rate in Hz")
        if not 1 <= channels <= 64:
            raise ParameterError("channels", channels, "1 to 64")
        parent = self.path.parent if str(self.path.parent) else Path(".")
        if not parent.is_dir():
            raise AudioFileError(f"{self.path}: directory {parent} does not exist")
        if not os.access(parent, os.W_OK):
            raise AudioFileError(f"{self.path}: directory {parent} is not writable")
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".partial", dir=parent)
        os.close(fd)
        self._tmp = Path(tmp)
        self.sr = sr
        self.channels = channels
        self.frames = 0
        self.keep_partial = keep_partial
        try:
            if fmt == "FLAC" and _flac.available():  # libFLAC directly: a quarter less work
                self._f: sf.SoundFile | _flac.FlacEncoder | None = _flac.FlacEncoder(
                    self._tmp, sr=sr, channels=channels, total_frames=expected_frames)
            else:
                self._f = sf.SoundFile(
                    str(self._tmp), "w", samplerate=sr, channels=channels, format=fmt, subtype=subtype,
                    compression_level=FLAC_COMPRESSION if fmt == "FLAC" else None,
                )
        except Exception as exc:
            self._tmp.unlink(missing_ok=True)
            raise AudioFileError(f"{self.path}: cannot open for writing ({exc})") from None

    def write(self, y: np.ndarray) -> None:
        """Append ``(channels, n)`` float32 samples, in chunks."""
        if self._f is None:
            raise AudioFileError(f"{self.path}: writer is closed")
        if y.ndim != 2 or y.shape[0] != self.channels:
            raise AudioError(f"block must have shape ({self.channels}, n), got {y.shape}")
        for start in range(0, y.shape[1], WRITE_CHUNK):
            try:
                if isinstance(self._f, _flac.FlacEncoder):
                    self._f.write(y[:, start : start + WRITE_CHUNK])
                else:
                    self._f.write(np.ascontiguousarray(y[:, start : start + WRITE_CHUNK].T))
            except Exception as exc:
                raise AudioFileError(f"{self.path}: write failed ({exc})") from None
        self.frames += y.shape[1]

    def close(self) -> Path:
        """Finish the file and move it into place; returns the final path."""
        if self._f is None:
            return self.path
        f, self._f = self._f, None
        try:
            f.close()
        except Exception as exc:
            self._tmp.unlink(missing_ok=True)
            raise AudioFileError(f"{self.path}: cannot finish file ({exc})") from None
        try:
            os.chmod(self._tmp, 0o644)
            os.replace(self._tmp, self.path)
        except OSError as exc:
            self._tmp.unlink(missing_ok=True)
            raise AudioFileError(f"{self.path}: cannot move into place ({exc})") from None
        return self.path

    def discard(self) -> None:
        """Drop everything written; no file is left behind."""
        if self._f is not None:
            f, self._f = self._f, None
            with contextlib.suppress(Exception):
                f.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> AudioWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        elif issubclass(exc_type, KeyboardInterrupt | Interrupted) and self.keep_partial and self.frames:
            try:
                self.close()
            except AudioFileError:
                self.discard()
        else:
            self.discard()


class Interrupted(BaseException):
    """Raised inside a render loop when SIGTERM (or SIGINT) asks it to stop."""


def write(path: str | os.PathLike[str], y: np.ndarray, sr: int) -> Path:
    """Write a whole array (chunked, atomic)."""
    validate(y)
    with AudioWriter(path, sr=sr, channels=y.shape[0], expected_frames=y.shape[1]) as w:
        w.write(y)
    return Path(path)
