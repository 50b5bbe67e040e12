"""Per-file analysis: one streaming pass, one JSON-able record.

:func:`analyze_file` is a pure function of the file (and the tagger): it reads the
file once in blocks (decoding in a background thread), feeds the foundation's
:class:`~susurrus.loudness.LoudnessMeter`, the :class:`~.features.FeatureExtractor`
and the :class:`~.tags.StreamingTagger`, and derives everything else from their
per-frame state. Memory is constant apart from a few bytes per 10 ms of audio.

The record (:data:`RECORD_KEYS`, in this order) is what ``susurrus analyze --json``
prints, one line per file; a file that cannot be analysed gets a record with its
``path``, a one-line ``error`` and ``None`` everywhere else.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import audio
from ..errors import AudioFileError, SusurrusError
from ..loudness import CHANNEL_WEIGHTS, LoudnessMeter, _prefetch
from ..tagger import Tagger, get_tagger
from . import events as ev
from . import spectral
from .calm import calm_score, level_budget
from .features import FeatureExtractor
from .tags import StreamingTagger

RECORD_KEYS: tuple[str, ...] = (
    "path",
    "error",
    "duration_s",
    "sample_rate",
    "channels",
    "integrated_lufs",
    "loudness_range_lu",
    "true_peak_dbtp",
    "max_momentary_lufs",
    "max_short_term_lufs",
    "events",
    "hum",
    "hiss_db",
    "silences",
    "tags",
    "top_labels",
    "calm_score",
    "calm_breakdown",
    "level",
)
#: shortest file analysed (s): one tagger patch and two momentary blocks
MIN_DURATION_S = 1.0
BLOCK_SIZE = 1 << 17
#: kinds of event, in the order of the issue
EVENT_KINDS = (
    "loudness_jump",
    "transient",
    "clipping",
    "tonal_beep",
    "harsh_burst",
    "aversive_sound",
)


def error_record(path: str | os.PathLike[str], message: str) -> dict[str, Any]:
    """The record of a file that could not be analysed."""
    rec: dict[str, Any] = dict.fromkeys(RECORD_KEYS)
    rec["path"] = str(path)
    rec["error"] = " ".join(str(message).split())  # one line
    return rec


def _num(x: float | None, nd: int = 2) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), nd)


@dataclass
class Analysis:
    """Everything one pass found: the public record and the internals soften needs."""

    record: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    curves: dict[str, Any] = field(default_factory=dict)


class Analyzer:
    """Streaming analysis of one signal: :meth:`process` blocks, then :meth:`finish`.

    Parameters
    ----------
    sr, channels:
        the stream's rate and channel count (1, 2 or 6 — BS.1770 channel weights).
    tagger:
        a :class:`~susurrus.tagger.Tagger`, or ``False`` to skip tagging.

    State kept between blocks: the loudness meter, the feature extractor, the
    streaming tagger (see their docstrings).
    """

    def __init__(self, sr: int, channels: int, *, tagger: Tagger | bool | None = None) -> None:
        if channels not in CHANNEL_WEIGHTS:
            raise AudioFileError(
                f"{channels} channels: only mono, stereo and 5.1 (6 channels, WAV order) have "
                "BS.1770 channel weights"
            )
        self.sr = int(sr)
        self.channels = int(channels)
        self.meter = LoudnessMeter(self.sr, self.channels)
        self.fx = FeatureExtractor(self.sr, self.channels)
        tg: Tagger | None
        if tagger is False:
            tg = None
        elif tagger is None or tagger is True:
            tg = get_tagger()
        else:
            tg = tagger
        self.tagger = StreamingTagger(tg, self.sr) if tg is not None else None

    def process(self, y: np.ndarray) -> None:
        """Analyse the next float32 ``(channels, n)`` block."""
        self.meter.process(y)
        mono = y.mean(axis=0, dtype=np.float32)
        self.fx.process(y, mono)
        if self.tagger is not None:
            self.tagger.process(mono)

    def finish(self, path: str = "") -> Analysis:
        """Derive the record from the streamed state."""
        fx = self.fx
        duration_s = fx.n_samples / self.sr
        if duration_s < MIN_DURATION_S:
            raise AudioFileError(
                f"{path or 'signal'}: too short ({duration_s:.2f} s); at least {MIN_DURATION_S:g} s needed"
            )
        if self.tagger is not None:
            self.tagger.finish()
        res = self.meter.result()
        t_m, l_m = self.meter.momentary_lufs()
        bg = ev.Background(fx)
        found = (
            ev.loudness_jumps(t_m, l_m, bg)
            + ev.transients(fx, bg)
            + ev.clipping(fx)
            + ev.tonal_beeps(fx)
            + ev.harsh_bursts(fx)
        )
        aversive_share = 0.0
        if self.tagger is not None:
            found += self.tagger.aversive_events(duration_s)
            aversive_share = self.tagger.aversive_fraction()
        found.sort(key=lambda e: (e["start_s"], EVENT_KINDS.index(e["kind"])))
        hum = spectral.hum(fx)
        hiss = spectral.hiss_db(fx)
        score, breakdown = calm_score(
            events=found,
            duration_s=duration_s,
            aversive_share=aversive_share,
            harsh_share_db=spectral.harsh_share_db(fx),
            hum=hum,
            hiss_db=hiss,
            programme_db=bg.programme_db(),
            loudness_range_lu=res.loudness_range_lu,
        )
        public = []
        for e in found:
            pe = {
                "start_s": round(e["start_s"], 3),
                "end_s": round(e["end_s"], 3),
                "kind": e["kind"],
                "severity": round(e["severity"], 3),
            }
            if "label" in e:
                pe["label"] = e["label"]
            if "frequency_hz" in e:
                pe["frequency_hz"] = round(e["frequency_hz"], 1)
            public.append(pe)
        record: dict[str, Any] = {
            "path": path,
            "error": None,
            "duration_s": round(duration_s, 3),
            "sample_rate": self.sr,
            "channels": self.channels,
            "integrated_lufs": _num(res.integrated_lufs),
            "loudness_range_lu": _num(res.loudness_range_lu),
            "true_peak_dbtp": _num(res.true_peak_dbtp),
            "max_momentary_lufs": _num(res.max_momentary_lufs),
            "max_short_term_lufs": _num(res.max_short_term_lufs),
            "events": public,
            "hum": {k: hum[k] for k in ("detected", "frequency_hz", "level_db")},
            "hiss_db": hiss,
            "silences": ev.silences(bg),
            "tags": self.tagger.tags(duration_s) if self.tagger is not None else [],
            "top_labels": self.tagger.top_labels() if self.tagger is not None else [],
            "calm_score": score,
            "calm_breakdown": breakdown,
            "level": level_budget(res.integrated_lufs, res.true_peak_dbtp, res.max_momentary_lufs),
        }
        t_s, l_s = self.meter.short_term_lufs()
        peak = fx.fine_peak.get()
        n10 = peak.size // 10
        curves = {
            "momentary": (t_m, l_m),
            "short_term": (t_s, l_s),
            "peak100": peak[: n10 * 10].reshape(n10, 10).max(axis=1) if n10 else np.zeros(0),
            "spectrogram": fx.report_spec.get(),
            "spectrogram_column_s": fx.report_columns_s(),
            "spectrogram_bands_hz": (50.0, 0.45 * self.sr),
            "hum_detail": hum,
        }
        return Analysis(record=record, events=found, curves=curves)


def analyze_signal(
    y: np.ndarray,
    sr: int,
    *,
    tagger: Tagger | bool | None = None,
    path: str = "<signal>",
    block_size: int = BLOCK_SIZE,
) -> dict[str, Any]:
    """Analyse a float32 ``(channels, n)`` array through the same streaming path."""
    return analyze_signal_full(y, sr, tagger=tagger, path=path, block_size=block_size).record


def analyze_signal_full(
    y: np.ndarray,
    sr: int,
    *,
    tagger: Tagger | bool | None = None,
    path: str = "<signal>",
    block_size: int = BLOCK_SIZE,
) -> Analysis:
    """:func:`analyze_signal` with the internals (events with ``excess_db``, curves)."""
    audio.validate(y)
    an = Analyzer(sr, y.shape[0], tagger=tagger)
    for start in range(0, y.shape[1], block_size):
        an.process(y[:, start : start + block_size])
    return an.finish(path)


def _check_wav_complete(p: Path) -> None:
    """Raise if a RIFF/WAVE file's ``data`` chunk promises more bytes than the file has.

    libsndfile quietly shortens such a file to what is there; a recording cut off
    in transfer should be reported, not analysed as if it were whole.
    """
    try:
        with p.open("rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return
            size = p.stat().st_size
            pos = 12
            while pos + 8 <= size:
                fh.seek(pos)
                chunk = fh.read(8)
                n = int.from_bytes(chunk[4:8], "little")
                if chunk[:4] == b"data":
                    if n not in (0, 0xFFFFFFFF) and pos + 8 + n > size:
                        raise AudioFileError(
                            f"{p}: truncated: the data chunk promises {n} bytes, the file holds {size - pos - 8}"
                        )
                    return
                pos += 8 + n + (n & 1)
    except OSError:
        return


def analyze_file_full(
    path: str | os.PathLike[str],
    *,
    tagger: Tagger | bool | None = None,
    block_size: int = BLOCK_SIZE,
    progress: Callable[[float], None] | None = None,
) -> Analysis:
    """Analyse a file; raises :class:`~susurrus.errors.SusurrusError` when it cannot.

    ``progress`` (optional) is called after each block with the share decoded, 0…1.
    """
    p = Path(path)
    info = audio.info(p)
    if info.format in ("WAV", "WAVEX"):
        _check_wav_complete(p)
    an = Analyzer(info.sr, info.channels, tagger=tagger)
    for block in _prefetch(audio.stream(p, block_size=block_size)):
        an.process(block)
        if progress is not None and info.frames > 0:
            progress(min(1.0, an.fx.n_samples / info.frames))
    decoded = an.fx.n_samples
    if decoded == 0:
        raise AudioFileError(f"{p}: contains no audio samples")
    exact = info.format in ("WAV", "WAVEX", "FLAC", "AIFF", "RF64", "W64", "CAF")
    if exact and info.frames > 0 and decoded < info.frames:
        raise AudioFileError(
            f"{p}: truncated or corrupt: the header promises {info.frames} frames, only {decoded} could be decoded"
        )
    return an.finish(str(path))


def analyze_file(
    path: str | os.PathLike[str],
    *,
    tagger: Tagger | bool | None = None,
    block_size: int = BLOCK_SIZE,
) -> dict[str, Any]:
    """Analyse one recording; never raises for a bad file.

    Parameters
    ----------
    path:
        a WAV, FLAC, OGG or MP3 file (mono, stereo or 5.1; any length).
    tagger:
        the YAMNet tagger to use (default: the process-wide one); ``False`` skips
        tags, top labels and aversive sounds.
    block_size:
        samples read per block.

    Returns
    -------
    dict
        The JSON-able record with the keys of :data:`RECORD_KEYS`; for a file that
        cannot be analysed, ``error`` holds a one-line message and every measurement
        is ``None``.
    """
    try:
        return analyze_file_full(path, tagger=tagger, block_size=block_size).record
    except SusurrusError as exc:
        return error_record(path, str(exc))
    except MemoryError:
        return error_record(path, f"{path}: out of memory")
    except Exception as exc:  # a decoder or a library failing on odd input: report, go on
        return error_record(path, f"{path}: cannot analyse ({type(exc).__name__}: {exc})")
