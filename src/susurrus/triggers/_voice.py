"""The voice engine shared by the ``whisper`` and ``soft-speaking`` triggers.

Pipeline (one utterance)
------------------------
1. **Text → speech.** espeak-ng (formant synthesis, Klatt-style cascade; deterministic
   for the same arguments) renders the phrase with ``--stdout``; the text goes in
   on stdin. Several phrases are rendered in *one* process, separated by SSML
   ``<break>`` elements, and cut apart at the long runs of digital silence the breaks
   leave (a process start costs ~15 ms, more than the synthesis of a phrase).
2. **Source–filter re-synthesis (whisper).** In a whisper the vocal folds do not
   vibrate: the source is turbulent noise at the glottis, filtered by the same vocal
   tract (Fant 1960, acoustic theory of speech production). So the espeak signal is cut
   into 23 ms frames, each frame's vocal-tract envelope is estimated by linear
   prediction (autocorrelation method, Levinson–Durbin, order ≈ sr/1000 + 2; Makhoul
   1975) on the pre-emphasised signal, and the all-pole envelope ``G / |A(e^{jω})|`` is
   re-excited with fresh Gaussian noise — no periodic excitation at all. Whispered
   formants are wider and F1 sits higher than in voiced speech (Jovičić 1998;
   Sharifzadeh et al. 2012): the LPC poles are pulled inward (bandwidth expansion
   ``a_k γ^k``) and the envelope is slightly warped upward. Synthesis happens directly
   at the render rate in the frequency domain (random-phase spectra shaped by the
   envelope, sine-windowed overlap-add, power complementary), which gives for free:
   time-stretching (synthesis frames read the envelope track at any speed), formant
   scaling (the envelope is read at ``f / warp``), EQ, a close-microphone *proximity
   effect* (low-frequency boost of a directional microphone in the near field) and
   **de-essing** (per frame, the 4.5–10 kHz band is compressed toward a threshold set
   from the utterance's own 0.3–3 kHz level).
3. **Soft speaking** keeps espeak's voiced signal, resampled to the render rate with a
   small random ratio (pitch and tempo vary by a few per cent), low-passed, warmed,
   de-essed, and mixed with a faint noise-excited copy of itself (breathiness).

Phrases live in editable text files (one phrase per line, ``#`` comments): package
defaults in ``susurrus/data/phrases/``, overridden by a directory named in the
environment variable ``SUSURRUS_PHRASES_DIR`` (same file names).
"""

from __future__ import annotations

import itertools
import os
import shutil
import struct
import subprocess
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from importlib import resources
from math import gcd
from pathlib import Path
from typing import Any, ClassVar
from xml.sax.saxutils import escape

import numpy as np

from .. import _fft as sfft
from .. import _signal as sps
from ..errors import ParameterError, SusurrusError
from .base import Param, Trigger

__all__ = [
    "PHRASES_ENV",
    "PhraseFileError",
    "VoiceEngineError",
    "breath_sound",
    "espeak_render",
    "load_phrases",
    "lpc_envelopes",
    "synthesise_phrase",
    "whisper_from_envelopes",
]

PHRASES_ENV = "SUSURRUS_PHRASES_DIR"

#: espeak-ng voice (language + variant) per gender, for whispered and voiced speech.
ESPEAK_VOICES: dict[tuple[str, bool], str] = {
    ("female", True): "en-us+f3",
    ("male", True): "en-us+m3",
    ("female", False): "en-us+f3",
    ("male", False): "en-us+m3",
}
_ESPEAK_MIN_WPM = 80
_ESPEAK_MAX_WPM = 450
_BREAK_MS = 1500  # SSML break between phrases rendered in one process
_SPLIT_S = 1.0  # a zero run this long separates two phrases
_CACHE_SIZE = 64
_BATCH = 12  # phrases per espeak-ng process


class VoiceEngineError(SusurrusError):
    """The speech engine (espeak-ng) is missing or failed."""


class PhraseFileError(SusurrusError):
    """A phrase file is missing, unreadable or holds no phrases."""


# ---------------------------------------------------------------------------------
# espeak-ng
# ---------------------------------------------------------------------------------


def _espeak_path() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise VoiceEngineError(
            "the whisper and soft-speaking voices need espeak-ng, which is not installed; "
            "install it with `apt-get install espeak-ng` (Debian/Ubuntu)"
        )
    return path


def _parse_wav(data: bytes) -> tuple[np.ndarray, int]:
    """16-bit mono PCM from espeak-ng's stdout WAV (its size fields are bogus)."""
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise VoiceEngineError("espeak-ng returned no WAV data")
    pos = 12
    sr = 22050
    while pos + 8 <= len(data):
        cid = data[pos : pos + 4]
        size = struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if cid == b"fmt ":
            sr = struct.unpack("<I", data[pos + 12 : pos + 16])[0]
        if cid == b"data":
            body = data[pos + 8 :]
            body = body[: len(body) // 2 * 2]
            y = np.frombuffer(body, dtype="<i2").astype(np.float64) / 32768.0
            return y, int(sr)
        pos += 8 + size
    raise VoiceEngineError("espeak-ng returned a WAV without a data chunk")


def _run_espeak(args: list[str], text: str) -> tuple[np.ndarray, int]:
    try:
        proc = subprocess.run(
            [_espeak_path(), *args, "--stdout"],
            input=text.encode("utf-8"),
            capture_output=True,
            check=False,
            timeout=60,
        )
    except OSError as exc:  # pragma: no cover - exotic
        raise VoiceEngineError(f"espeak-ng could not be started: {exc}") from exc
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip()
        raise VoiceEngineError(f"espeak-ng failed (exit {proc.returncode}): {msg}")
    return _parse_wav(proc.stdout)


def _trim(y: np.ndarray) -> np.ndarray:
    nz = np.flatnonzero(np.abs(y) > 1e-4)
    if nz.size == 0:
        return np.zeros(0)
    return y[nz[0] : nz[-1] + 1]


def _split_on_silence(y: np.ndarray, sr: int, n_parts: int) -> list[np.ndarray] | None:
    zero = np.abs(y) < 1e-4
    edges = np.flatnonzero(zero[1:] != zero[:-1]) + 1
    bounds = np.concatenate([[0], edges, [len(y)]])
    starts, ends = bounds[:-1], bounds[1:]
    is_zero = zero[starts]
    long_run = is_zero & (ends - starts >= _SPLIT_S * sr) & (starts > 0) & (ends < len(y))
    if int(long_run.sum()) != n_parts - 1:
        return None
    mids = (starts[long_run] + ends[long_run]) // 2
    cuts = [0, *mids.tolist(), len(y)]
    parts = [_trim(y[a:b]) for a, b in itertools.pairwise(cuts)]
    if any(p.size == 0 for p in parts):
        return None
    return parts


def espeak_render(
    texts: Sequence[str],
    *,
    voice: str,
    speed_wpm: int,
    pitch: int = 50,
    word_gap: int = 0,
) -> tuple[list[np.ndarray], int]:
    """Render phrases with espeak-ng; returns (one float64 array per phrase, sample rate).

    All phrases go through one espeak-ng process (SSML breaks between them); if the
    result cannot be cut into exactly ``len(texts)`` parts, each phrase is rendered on
    its own. Leading and trailing silence is trimmed.

    Parameters
    ----------
    texts : phrases (plain text)
    voice : espeak-ng voice, e.g. ``"en-us+whisperf"``
    speed_wpm : speaking rate (espeak ``-s``, 80–450 words per minute)
    pitch : base pitch (espeak ``-p``, 0–99)
    word_gap : extra pause between words in units of 10 ms (espeak ``-g``)
    """
    if not texts:
        return [], 22050
    speed = int(np.clip(speed_wpm, _ESPEAK_MIN_WPM, _ESPEAK_MAX_WPM))
    base = [
        "-v",
        voice,
        "-s",
        str(speed),
        "-p",
        str(int(np.clip(pitch, 0, 99))),
        "-g",
        str(int(max(0, word_gap))),
    ]
    if len(texts) > 1:
        sep = f' <break time="{_BREAK_MS}ms"/> '
        ssml = "<speak>" + sep.join(escape(t) for t in texts) + "</speak>"
        y, sr = _run_espeak([*base, "-m"], ssml)
        parts = _split_on_silence(y, sr, len(texts))
        if parts is not None:
            return parts, sr
    out = []
    sr = 22050
    for t in texts:
        y, sr = _run_espeak(base, t)
        out.append(_trim(y))
    return out, sr


# ---------------------------------------------------------------------------------
# phrase files
# ---------------------------------------------------------------------------------


def phrases_dir() -> Path | None:
    """The override directory from ``SUSURRUS_PHRASES_DIR`` (None when unset)."""
    env = os.environ.get(PHRASES_ENV, "").strip()
    return Path(env).expanduser() if env else None


def load_phrases(name: str) -> list[str]:
    """Phrases of ``name`` (e.g. ``"attention.txt"``): one per line, ``#`` starts a comment.

    Reads ``$SUSURRUS_PHRASES_DIR/name`` when the variable is set, else the package
    default. Raises :class:`PhraseFileError` when the file is missing or empty.
    """
    override = phrases_dir()
    if override is not None:
        path = override / name
        if not path.is_file():
            raise PhraseFileError(
                f"phrase file {name!r} not found in {PHRASES_ENV}={str(override)!r} "
                f"(expected {path}); copy it from the package's data/phrases/ folder"
            )
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PhraseFileError(f"phrase file {path} cannot be read: {exc}") from exc
        where = str(path)
    else:
        res = resources.files("susurrus").joinpath("data", "phrases", name)
        if not res.is_file():
            raise PhraseFileError(f"package phrase file data/phrases/{name} is missing")
        text = res.read_text(encoding="utf-8")
        where = f"susurrus/data/phrases/{name}"
    phrases = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            phrases.append(" ".join(line.split()))
    if not phrases:
        raise PhraseFileError(f"phrase file {where} holds no phrases (one phrase per line)")
    return phrases


# ---------------------------------------------------------------------------------
# linear prediction and noise re-excitation
# ---------------------------------------------------------------------------------


def _levinson(r: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Levinson–Durbin on many frames at once: r (F, order+1) → a (F, order+1), error (F,)."""
    f = r.shape[0]
    a = np.zeros((f, order + 1))
    a[:, 0] = 1.0
    err = r[:, 0].copy()
    for i in range(1, order + 1):
        acc = r[:, i] + np.einsum("fj,fj->f", a[:, 1:i], r[:, i - 1 : 0 : -1])
        k = -acc / err
        prev = a[:, 1:i].copy()
        a[:, 1:i] = prev + k[:, None] * prev[:, ::-1]
        a[:, i] = k
        err = err * (1.0 - k * k)
    return a, err


@lru_cache(maxsize=8)
def _analysis_window(n: int) -> np.ndarray:
    return np.hanning(n + 2)[1:-1]


def lpc_envelopes(
    x: np.ndarray,
    sr: int,
    *,
    frame_s: float = 0.023,
    order: int | None = None,
    preemph: float = 0.9,
    bw_expand_hz: float = 60.0,
    n_fft: int = 512,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Per-frame all-pole envelopes of ``x`` (linear prediction, autocorrelation method).

    Returns ``(log_env, power, hop_s)``: ``log_env`` (frames, n_fft//2+1, float32) is the
    natural log of the unit-mean-power magnitude ``1/|A(e^{jω})|`` on the rfft grid of
    ``n_fft`` at ``sr``; ``power`` is each frame's mean-square level; frames are
    ``hop_s`` apart (half a frame). ``bw_expand_hz`` widens every pole's bandwidth by
    that much (``a_k γ^k`` with ``γ = exp(-π B / sr)``).
    """
    order = order or int(round(sr / 1000)) + 2
    n = max(64, 2 * int(round(frame_s * sr / 2)))
    hop = n // 2
    xp = np.concatenate([np.zeros(hop + 1), x, np.zeros(n)]).astype(np.float32)
    n_frames = max(1, (len(xp) - n - 1) // hop + 1)
    idx = 1 + np.arange(n)[None, :] + hop * np.arange(n_frames)[:, None]
    w = _analysis_window(n).astype(np.float32)
    raw = xp[idx]
    prev = xp[idx - 1]
    power = np.mean((raw * w) ** 2, axis=1, dtype=np.float64) / np.mean(w**2)
    fr = (raw - np.float32(preemph) * prev) * w
    nf = 1 << int(np.ceil(np.log2(2 * n)))
    spec = sfft.rfft(fr, nf, axis=1)
    r = sfft.irfft(spec.real**2 + spec.imag**2, nf, axis=1)[:, : order + 1].astype(np.float64)
    # lag window (Gaussian, 40 Hz) and a -40 dB white-noise floor keep the recursion stable
    lags = np.arange(order + 1)
    r = r * np.exp(-0.5 * (2 * np.pi * 40.0 * lags / sr) ** 2)[None, :]
    r[:, 0] = r[:, 0] * 1.0001 + 1e-12
    a, _ = _levinson(r, order)
    gamma = np.exp(-np.pi * bw_expand_hz / sr)
    a = a * gamma ** lags[None, :]
    big_a = sfft.rfft(a, n_fft, axis=1)
    log_env = -0.5 * np.log(np.maximum(big_a.real**2 + big_a.imag**2, 1e-12))
    log_env -= 0.5 * np.log(np.mean(np.exp(2 * log_env), axis=1, keepdims=True))
    return log_env.astype(np.float32), np.asarray(power, dtype=np.float64), hop / sr


@lru_cache(maxsize=16)
def _synthesis_grid(sr: int) -> tuple[int, np.ndarray, np.ndarray]:
    """Synthesis frame length (power of two near 21 ms), its rfft frequencies, sine window."""
    n = 1 << int(round(np.log2(0.0213 * sr)))
    f = np.fft.rfftfreq(n, 1.0 / sr)
    w = np.sin(np.pi * (np.arange(n) + 0.5) / n).astype(np.float32)
    return n, f, w


@lru_cache(maxsize=16)
def _deess_bands(sr: int) -> tuple[slice, slice, int, int, np.ndarray]:
    """Bins of the synthesis grid: sibilant band (4.5–10 kHz), mid band (0.3–3 kHz),
    and the de-esser's ramp — 0 below ``lo``, ``ramp`` (float32) on ``lo:hi``, 1 from
    ``hi`` on. The grid is uniform, so each band is one contiguous slice."""
    f = _synthesis_grid(sr)[1]
    hb = np.flatnonzero((f >= 4500) & (f <= 10000))
    mb = np.flatnonzero((f >= 300) & (f <= 3000))
    band = np.clip((f - 3500) / 1000, 0, 1).astype(np.float32)
    nz = np.flatnonzero(band > 0)
    lo = int(nz[0]) if nz.size else len(f)
    full = np.flatnonzero(band >= 1)
    hi = int(full[0]) if full.size else len(f)
    hb_s = slice(int(hb[0]), int(hb[-1]) + 1) if hb.size else slice(0, 0)
    mb_s = slice(int(mb[0]), int(mb[-1]) + 1) if mb.size else slice(0, 0)
    return hb_s, mb_s, lo, hi, band[lo:hi].copy()


def _noise_frames(amp: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """Random-phase frames shaped by ``amp`` (float32, frames × n//2+1), sine-windowed,
    overlap-added.

    Each bin gets independent uniform real and imaginary parts (zero mean), scaled by
    ``amp``, which carries the unit-variance factor ``sqrt(6 n)``: ``amp = mag ·
    sqrt(6 n)`` gives unit variance per bin. Every output sample sums hundreds of bins,
    so it is Gaussian (central limit theorem). The sine window is power-complementary
    at 50 % overlap, so the output power follows ``mean(mag**2)`` frame by frame.
    ``amp`` is left unchanged.
    """
    n_s, nb = amp.shape
    u = rng.random((n_s, nb, 2), dtype=np.float32)
    u -= 0.5
    # real and imaginary parts times the (real) magnitude: one real multiply per value
    u *= amp[:, :, None]
    spec = u.view(np.complex64)[:, :, 0]
    return _overlap_add(sfft.irfft(spec, n, axis=1, overwrite_x=True), n)


def _overlap_add(frames: np.ndarray, n: int) -> np.ndarray:
    """Sine-window ``frames`` (frames, n) and overlap-add them at hop ``n // 2``."""
    n_s = frames.shape[0]
    hop = n // 2
    w = _synthesis_grid_window(n)
    out = np.empty((n_s + 1) * hop, dtype=np.float32)
    np.multiply(frames[:, :hop], w[:hop], out=out[: n_s * hop].reshape(n_s, hop))
    out[n_s * hop :] = 0.0
    tail = frames[:, hop:]
    tail *= w[hop:]
    out[hop:].reshape(n_s, hop)[...] += tail
    return out


def whisper_from_envelopes(
    log_env: np.ndarray,
    power: np.ndarray,
    hop_s: float,
    env_sr: int,
    *,
    sr: int,
    rng: np.random.Generator,
    stretch: float = 1.0,
    warp: float = 1.0,
    gain_fn: np.ndarray | None = None,
    deess_db: float = -6.0,
) -> np.ndarray:
    """Re-excite an envelope track with noise at rate ``sr`` (a true whisper), float32.

    Parameters
    ----------
    log_env, power, hop_s, env_sr : from :func:`lpc_envelopes`
    stretch : duration factor (> 1 slower)
    warp : formant scale (> 1 raises every formant; a shorter vocal tract)
    gain_fn : linear EQ on the synthesis grid (see :func:`synthesis_freqs`), or None
    deess_db : how far (dB) a frame's 4.5–10 kHz band power may exceed its own
        0.3–3 kHz band power — or a tenth of the loud frames' one, whichever is
        higher — before it is compressed (4:1)
    """
    n, f, _ = _synthesis_grid(sr)
    hop = n // 2
    n_a, n_env = log_env.shape
    n_s = max(1, int(np.ceil(n_a * hop_s * stretch * sr / hop)))
    # envelope track in time: synthesis frame j reads analysis position t_j / stretch
    pos = np.minimum(np.arange(n_s) * (hop / sr / stretch / hop_s), n_a - 1.0)
    i0 = pos.astype(int)
    i1 = np.minimum(i0 + 1, n_a - 1)
    fr = (pos - i0).astype(np.float32)
    # frequency axis: synthesis bin f reads the envelope at f / warp; above 92 % of the
    # analysis band the last value continues with an -18 dB/octave roll-off
    top = 0.92 * env_sr / 2
    fa = np.minimum(f / warp, top)
    fpos = fa / (env_sr / 2) * (n_env - 1)
    k0 = fpos.astype(int)
    k1 = np.minimum(k0 + 1, n_env - 1)
    kf = (fpos - k0).astype(np.float32)
    g_log = 3.0 * np.log(np.minimum(1.0, top * warp / np.maximum(f, 1.0)))
    if gain_fn is not None:
        g_log = g_log + np.log(np.maximum(gain_fn, 1e-9))
    # linear interpolation in time, then in frequency, in place (float32 throughout)
    le = log_env[i0]
    d = log_env[i1]
    d -= le
    d *= fr[:, None]
    le += d
    mag = le[:, k0]
    d = le[:, k1]
    d -= mag
    d *= kf
    mag += d
    mag += g_log.astype(np.float32)
    np.exp(mag, out=mag)
    lp = (1 - fr) * power[i0] + fr * power[i1]
    # de-essing: compress the sibilant band toward the utterance's mid-band level
    hb, mb, lo, hi, ramp = _deess_bands(sr)
    tot = np.einsum("ij,ij->i", mag, mag) + 1e-30
    p_hb = lp * np.einsum("ij,ij->i", mag[:, hb], mag[:, hb]) / tot
    p_mb = lp * np.einsum("ij,ij->i", mag[:, mb], mag[:, mb]) / tot
    ref = np.maximum(p_mb, 0.1 * np.percentile(p_mb, 90)) + 1e-20
    thr = ref * 10 ** (deess_db / 10)
    over_db = 10 * np.log10(np.maximum(p_hb / thr, 1.0))
    cut = 10 ** (-(over_db * 0.75) / 20)  # 4:1 above threshold
    # per-frame level (and the noise's unit-variance factor): below the ramp the gain
    # is ``scale``, above it ``scale * cut``, on it ``scale * (1 - ramp * (1 - cut))``
    scale = np.sqrt(lp / tot * len(f) * (12.0 * n / 2.0))
    s32 = scale.astype(np.float32)[:, None]
    mag[:, :lo] *= s32
    mag[:, lo:hi] *= (scale[:, None] * (1 - ramp[None, :] * (1 - cut[:, None]))).astype(np.float32)
    mag[:, hi:] *= (scale * cut).astype(np.float32)[:, None]
    return _noise_frames(mag, rng, n)


@lru_cache(maxsize=16)
def _synthesis_grid_window(n: int) -> np.ndarray:
    return np.sin(np.pi * (np.arange(n) + 0.5) / n).astype(np.float32)


def synthesis_freqs(sr: int) -> np.ndarray:
    """Frequencies (Hz) of the synthesis grid used by :func:`whisper_from_envelopes`."""
    return _synthesis_grid(sr)[1]


def voice_eq(
    f: np.ndarray,
    *,
    closeness: float,
    brightness: float,
    tilt_db_per_oct: float = 0.0,
    whisper: bool = True,
) -> np.ndarray:
    """Linear EQ magnitude at ``f``: whisper source tilt, proximity warmth, brightness.

    - A whisper has no glottal pulse: its turbulent source is roughly flat, and with the
      +6 dB/octave lip radiation its spectrum *rises* toward 1 kHz instead of falling
      like voiced speech; below 1 kHz it is thinned by 5 dB/octave (``whisper``), and
      cut steeply below 150 Hz.
    - The proximity effect of a directional microphone a few centimetres away lifts the
      lows; ``closeness`` 0–1 scales a low shelf at ~250 Hz to +0…+5 dB.
    - ``brightness`` 0–1 moves a high shelf above ~3 kHz from −9 dB to 0 dB, and a
      9 dB/octave roll-off above 5 kHz keeps sibilants soft; air rolls off above 12 kHz.
    """
    ff = np.maximum(f, 1.0)
    shelf_lo = 1.0 / np.sqrt(1.0 + (ff / 250.0) ** 2)  # 1 at DC → 0 above
    g_db = 5.0 * closeness * shelf_lo
    hi_shape = (ff / 3000.0) ** 2 / (1.0 + (ff / 3000.0) ** 2)
    g_db = g_db - 9.0 * (1.0 - brightness) * hi_shape
    g_db = g_db + np.clip(tilt_db_per_oct * np.log2(ff / 1000.0), -12, 12)
    g_db = g_db - 9.0 * np.clip(np.log2(ff / 5000.0), 0, None)
    if whisper:
        g_db = g_db - 5.0 * np.clip(np.log2(1000.0 / ff), 0, None)
        g_db = g_db - 18.0 * np.clip(np.log2(150.0 / ff), 0, None)
    g_db = g_db - 12.0 * np.clip(np.log2(ff / 12000.0), 0, None)
    return np.asarray(10 ** (g_db / 20))


#: formant frequencies (Hz) of the open tract shapes a breath passes through
#: (neutral schwa, open "ah", rounded "oo", spread "ee"; Peterson & Barney 1952, rounded)
_BREATH_TRACTS = (
    (500.0, 1500.0, 2500.0, 3500.0),
    (700.0, 1200.0, 2600.0, 3600.0),
    (350.0, 900.0, 2300.0, 3300.0),
    (300.0, 2200.0, 3000.0, 3800.0),
)
_ENV_SR = 22050
_ENV_BINS = 257


def _formant_log_env(formants_hz: np.ndarray, bandwidths_hz: np.ndarray) -> np.ndarray:
    """Log magnitude of a cascade of second-order resonators (an all-pole vocal tract)."""
    f = np.linspace(0.0, _ENV_SR / 2, _ENV_BINS)
    z = np.exp(-2j * np.pi * f / _ENV_SR)
    a = np.ones_like(z)
    for fc, bw in zip(formants_hz, bandwidths_hz):
        r = np.exp(-np.pi * bw / _ENV_SR)
        a = a * (1 - 2 * r * np.cos(2 * np.pi * fc / _ENV_SR) * z + r * r * z * z)
    # lip radiation (+6 dB/octave, as a first difference): the same balance as the
    # pre-emphasised LPC envelopes of speech
    le = np.log(np.abs(1 - 0.9 * z) + 1e-9) - np.log(np.abs(a) + 1e-9)
    return le - 0.5 * np.log(np.mean(np.exp(2 * le)))


def breath_sound(
    sr: int,
    rng: np.random.Generator,
    *,
    duration_s: float,
    inhale: bool = True,
    eq: np.ndarray | None = None,
) -> np.ndarray:
    """One soft breath (inhale or exhale), peak 1, synthesised fresh (float64).

    Physics: a breath is turbulent airflow through the open glottis and the vocal
    tract, i.e. the whisper source without articulation: Gaussian noise filtered by
    an open tract (one of a few vowel-like formant patterns, formants jittered
    ±12 %, bandwidths of 65–290 Hz, plus lip radiation) under a smooth swell with a slightly
    irregular flow. An inhale rises fast and is a little brighter (a higher, shorter
    tract); an exhale peaks early and fades.
    """
    tract = _BREATH_TRACTS[int(rng.integers(len(_BREATH_TRACTS)))]
    jit = rng.uniform(0.88, 1.12, 4)
    bws = np.array([80.0, 110.0, 160.0, 220.0]) * rng.uniform(0.8, 1.3, 4)
    le = _formant_log_env(np.asarray(tract) * jit, bws).astype(np.float32)
    hop_s = 0.0115
    n_a = max(4, int(duration_s / hop_s))
    t = np.linspace(0.0, 1.0, n_a)
    pk = rng.uniform(0.3, 0.5) if inhale else rng.uniform(0.15, 0.3)
    swell = np.where(
        t < pk, np.sin(0.5 * np.pi * t / pk) ** 2, np.cos(0.5 * np.pi * (t - pk) / (1 - pk)) ** 2
    )
    flow = 1.0 + 0.2 * np.cumsum(rng.standard_normal(n_a)) / np.sqrt(np.arange(1, n_a + 1))
    amp = np.clip(swell * flow, 0.0, None)
    if eq is None:
        eq = voice_eq(synthesis_freqs(sr), closeness=0.4, brightness=0.5)
    warp = rng.uniform(1.05, 1.3) if inhale else rng.uniform(0.95, 1.15)
    w = whisper_from_envelopes(
        np.repeat(le[None, :], n_a, axis=0),
        amp**2 + 1e-12,
        hop_s,
        _ENV_SR,
        sr=sr,
        rng=rng,
        gain_fn=eq,
        warp=warp,
    )
    w = w.astype(np.float64)
    return w / (np.max(np.abs(w)) + 1e-12)


@lru_cache(maxsize=32)
def _resample_filter(up: int, down: int) -> np.ndarray:
    """The anti-aliasing FIR ``resample_poly`` would design (Kaiser β = 5), cached."""
    max_rate = max(up, down)
    h = sps.firwin(2 * 10 * max_rate + 1, 1.0 / max_rate, window=("kaiser", 5.0))
    return np.asarray(h * up)


def _resample(x: np.ndarray, sr_in: int, sr_out: int, factor: float = 1.0) -> np.ndarray:
    """Polyphase resampling by ``sr_out/sr_in × factor`` (factor ≈ 1 varies pitch and tempo).

    ``factor`` is quantised to steps of about 0.5 % so the filter designs can be cached.
    """
    g = gcd(sr_out, sr_in)
    up0, down0 = sr_out // g, sr_in // g
    m = max(1, int(np.ceil(200 / up0)))
    step = max(1, int(round(up0 * m * 0.005)))
    up = max(1, int(round(up0 * m * factor / step)) * step)
    down = down0 * m
    g2 = gcd(up, down)
    up, down = up // g2, down // g2
    return np.asarray(sps.resample_poly(x, up, down, window=_resample_filter(up, down)))


# ---------------------------------------------------------------------------------
# the reusable one-shot function
# ---------------------------------------------------------------------------------


def synthesise_phrase(
    text: str,
    *,
    sr: int,
    rng: np.random.Generator,
    voice: str = "female",
    whisper: bool = True,
    rate_wpm: float = 110.0,
    pitch: float = 50.0,
    closeness: float = 0.6,
    brightness: float = 0.4,
) -> np.ndarray:
    """One phrase, whispered (noise-excited, unvoiced) or softly spoken, as float64 1-D.

    For guided sessions. The result peaks at about −6 dBFS; trim or scale as needed.

    Parameters
    ----------
    text : the phrase (plain text)
    sr : output sample rate (Hz)
    rng : source of the whisper noise and the small variations
    voice : ``"female"`` or ``"male"``
    whisper : True for a whisper, False for a soft spoken voice
    rate_wpm : speaking rate, words per minute (40–250)
    pitch : espeak-ng base pitch 0–99 (voiced speech; for a whisper it only nudges
        the formant scale)
    closeness, brightness : 0–1, see :func:`voice_eq`
    """
    if not isinstance(text, str) or not text.strip():
        raise ParameterError("text", text, "a non-empty phrase")
    if voice not in ("female", "male"):
        raise ParameterError("voice", voice, "'female' or 'male'")
    for name, val, lo, hi in (
        ("rate_wpm", rate_wpm, 40.0, 250.0),
        ("pitch", pitch, 0.0, 99.0),
        ("closeness", closeness, 0.0, 1.0),
        ("brightness", brightness, 0.0, 1.0),
    ):
        if not np.isfinite(val) or not lo <= val <= hi:
            raise ParameterError(name, val, f"{lo:g} to {hi:g}")
    engine = VoiceEngine(
        voice=voice,
        whisper=whisper,
        rate_wpm=rate_wpm,
        pitch=pitch,
        sr=sr,
        closeness=closeness,
        brightness=brightness,
    )
    y = engine.utterance(text, rng)
    return y / (np.max(np.abs(y)) + 1e-12) * 0.5


# ---------------------------------------------------------------------------------
# the per-trigger engine (cache, variation)
# ---------------------------------------------------------------------------------


class VoiceEngine:
    """Renders phrases with per-utterance variation; caches espeak-ng renders (LRU).

    State: an LRU of espeak-ng renders (and, for whispers, their LPC envelope tracks)
    keyed by phrase; the espeak arguments are fixed per engine so a phrase's render
    never depends on when or with which other phrases it was rendered.
    """

    def __init__(
        self,
        *,
        voice: str,
        whisper: bool,
        rate_wpm: float,
        pitch: float,
        sr: int,
        closeness: float,
        brightness: float,
    ) -> None:
        _espeak_path()
        self.voice = voice
        self.whisper = whisper
        self.sr = sr
        self.rate_wpm = float(rate_wpm)
        self.espeak_wpm = int(np.clip(round(rate_wpm), _ESPEAK_MIN_WPM, _ESPEAK_MAX_WPM))
        self.base_stretch = self.espeak_wpm / self.rate_wpm
        self.pitch = int(round(pitch))
        self.closeness = closeness
        self.brightness = brightness
        self._voice_name = ESPEAK_VOICES[(voice, whisper)]
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._pending: dict[str, Future[list[tuple[str, Any]]]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._src_sr = 22050
        self._eq = voice_eq(
            synthesis_freqs(sr), closeness=closeness, brightness=brightness, whisper=True
        )

    def _render(self, todo: list[str]) -> list[tuple[str, Any]]:
        ys, self._src_sr = espeak_render(
            todo, voice=self._voice_name, speed_wpm=self.espeak_wpm, pitch=self.pitch
        )
        # a whisper is re-synthesised from the envelopes alone: its waveform is not kept;
        # a soft voice keeps it in float32 (espeak-ng's 16-bit samples, exactly)
        return [(t, (None if self.whisper else y.astype(np.float32), *lpc_envelopes(y, self._src_sr)))
                for t, y in zip(todo, ys)]

    def _store(self, items: list[tuple[str, Any]]) -> None:
        for t, entry in items:
            self._cache[t] = entry
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)

    def prefetch(self, texts: Sequence[str], *, background: bool = False) -> None:
        """Render the uncached phrases among ``texts`` in one espeak-ng process.

        With ``background`` the render runs on a helper thread while synthesis goes
        on. espeak-ng's output for a phrase also depends on the batch it is rendered
        in (its neighbours and position in the SSML), so batches are formed from the
        phrase deck alone (never from timing): the output is the same either way.
        """
        todo = list(
            dict.fromkeys(t for t in texts if t not in self._cache and t not in self._pending)
        )
        if not todo:
            return
        if not background:
            self._store(self._render(todo))
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="espeak")
        fut = self._pool.submit(self._render, todo)
        for t in todo:
            self._pending[t] = fut

    def _get(self, text: str) -> Any:
        if text not in self._cache and text in self._pending:
            fut = self._pending[text]
            for t in [k for k, f in self._pending.items() if f is fut]:
                del self._pending[t]
            self._store(fut.result())
        if text not in self._cache:
            self.prefetch([text])
        self._cache.move_to_end(text)
        return self._cache[text]

    def utterance(self, text: str, rng: np.random.Generator, *, stretch: float = 1.0) -> np.ndarray:
        """One fresh rendition of ``text`` at ``self.sr`` (float64, unnormalised)."""
        y, env, power, hop_s = self._get(text)
        st = self.base_stretch * stretch * rng.uniform(0.93, 1.08)
        if self.whisper:
            f = synthesis_freqs(self.sr)
            tilt = rng.uniform(-0.8, 0.8)
            eq = self._eq * 10 ** (tilt * np.clip(np.log2(np.maximum(f, 1) / 1000), -4, 4) / 20)
            warp = (1.0 if self.voice == "female" else 1.03) * rng.uniform(0.97, 1.03)
            warp *= 1.0 + (self.pitch - 50) / 50 * 0.04
            # vowels lose their voicing energy in a whisper: compress frame levels
            pw = power
            return whisper_from_envelopes(
                env, pw, hop_s, self._src_sr, sr=self.sr, rng=rng, stretch=st, warp=warp, gain_fn=eq
            )
        return self._soft(y, env, power, hop_s, rng, st)

    def _soft(
        self,
        y: np.ndarray,
        env: np.ndarray,
        power: np.ndarray,
        hop_s: float,
        rng: np.random.Generator,
        st: float,
    ) -> np.ndarray:
        factor = rng.uniform(0.975, 1.025)
        y = y.astype(np.float64)
        v = _resample(y, self._src_sr, self.sr, factor)
        # breathiness: a faint noise-excited copy of the same phrase (fresh noise)
        duration_factor = len(v) / self.sr / max(1e-9, len(y) / self._src_sr)
        b = whisper_from_envelopes(
            env,
            power**0.8,
            hop_s,
            self._src_sr,
            sr=self.sr,
            rng=rng,
            stretch=duration_factor,
            warp=1.0,
            gain_fn=self._eq,
        )
        n = min(len(v), len(b))
        rv = np.sqrt(np.mean(v**2)) + 1e-12
        rb = np.sqrt(np.mean(b**2)) + 1e-12
        mix = v.copy()
        mix[:n] += b[:n] * (rv / rb) * 10 ** (rng.uniform(-17, -13) / 20)
        mix = _time_warp(mix, self.sr, rng)
        # soft, warm, close: low-pass (no harsh sibilants), proximity shelf
        cutoff = float(
            np.clip((3200 + 2500 * self.brightness) * rng.uniform(0.9, 1.1), 1000, 0.45 * self.sr)
        )
        sos = _butter_lowpass4(cutoff, self.sr)
        hp = _butter_sos(2, 90.0, "highpass", self.sr)
        out = sps.sosfilt(np.vstack([sos, hp]), np.concatenate([mix, np.zeros(self.sr // 20)]))
        warm_gain = 10 ** (6 * self.closeness * rng.uniform(0.8, 1.2) / 20) - 1.0
        lows = sps.sosfilt(_butter_sos(2, 250.0, "lowpass", self.sr), out)
        return np.asarray(out + warm_gain * lows)


@lru_cache(maxsize=16)
def _butter_sos(order: int, cutoff_hz: float, btype: str, sr: int) -> np.ndarray:
    """A Butterworth design as second-order sections (cached: fixed corners; do not
    modify the returned array)."""
    return np.asarray(sps.butter(order, cutoff_hz, btype, fs=sr, output="sos"))


def _butter_lowpass4(cutoff_hz: float, sr: int) -> np.ndarray:
    """``scipy.signal.butter(4, cutoff_hz, "lowpass", fs=sr, output="sos")``, built from
    the poles directly (``zpk2sos`` costs ten times the design).

    Four zeros at z = −1; the two conjugate pole pairs become the sections, the pair
    farther from the unit circle first, the gain in the first section — scipy's
    ordering; the coefficients agree to float64 rounding.
    """
    _, p, k = sps.butter(4, cutoff_hz, "lowpass", fs=sr, output="zpk")
    upper = p[np.imag(p) > 0]
    upper = upper[np.argsort(np.abs(upper))]
    sos = np.zeros((2, 6))
    sos[:, :3] = (1.0, 2.0, 1.0)
    sos[:, 3] = 1.0
    sos[:, 4] = -2.0 * upper.real
    sos[:, 5] = np.abs(upper) ** 2
    sos[0, :3] *= k
    return sos


def _time_warp(
    x: np.ndarray, sr: int, rng: np.random.Generator, *, depth: float = 0.02, knot_s: float = 0.25
) -> np.ndarray:
    """Read ``x`` at a smoothly wandering rate (1 ± ``depth``), fresh for every call.

    Natural prosody drifts like this from one telling to the next; it also means no
    single lag can line up two tellings of a phrase, so a voice that reuses an
    espeak-ng render never repeats itself sample for sample.
    """
    n = len(x)
    k = max(2, int(n / (knot_s * sr)) + 2)
    knots = rng.uniform(-depth, depth, k)
    rate = 1.0 + np.interp(np.arange(n) / (knot_s * sr), np.arange(k), knots)
    pos = np.concatenate([[0.0], np.cumsum(rate[:-1])])
    pos = pos[pos <= n - 1]
    return np.interp(pos, np.arange(n), x)


# ---------------------------------------------------------------------------------
# the shared trigger machinery
# ---------------------------------------------------------------------------------

_TARGET_ACTIVE_RMS = 10 ** (-18.0 / 20)  # speech level while speaking
_PEAK_MAX = 10 ** (-4.0 / 20)


class VoiceTrigger(Trigger):
    """Phrases separated by pauses (and, when ``breaths`` > 0, soft breaths).

    Subclasses set ``whisper`` and may override :meth:`_next_segment`. Each
    ``_generate`` call returns one utterance followed by its pause.
    """

    whisper: ClassVar[bool] = True
    phrase_file: ClassVar[str] = "attention.txt"
    params: ClassVar[tuple[Param, ...]] = ()

    def _voice_gender(self) -> str:
        return "male" if self.variant == "male" else "female"

    def _setup(self) -> None:
        v = self.values
        self.engine = VoiceEngine(
            voice=self._voice_gender(),
            whisper=self.whisper,
            rate_wpm=v["rate_wpm"],
            pitch=v.get("pitch", 50.0),
            sr=self.sr,
            closeness=v["closeness"],
            brightness=v["brightness"],
        )
        self._load()
        self._deck: list[str] = []
        self._last = ""

    def _load(self) -> None:
        self.phrases = load_phrases(self.phrase_file)

    # -- phrase order ------------------------------------------------------------------

    def _shuffle_deck(self) -> None:
        """Deal a fresh shuffled deck of phrases and render its first batch (in this
        thread: the next utterance needs it)."""
        order = list(self.rng.permutation(len(self.phrases)))
        deck = [self.phrases[i] for i in order]
        if len(deck) > 1 and deck[0] == self._last:
            deck[0], deck[-1] = deck[-1], deck[0]
        self._deck = deck
        self.engine.prefetch(self._deck[:_BATCH])

    def _draw(self) -> str:
        if not self._deck:
            self._shuffle_deck()
        if self._deck[0] not in self.engine._cache:
            self.engine.prefetch(self._deck[:_BATCH])
        self._last = self._deck.pop(0)
        # render the next phrases on a helper thread while this one is synthesised —
        # a batch at a time, once the first phrase not yet rendered (or on its way) is
        # within half a batch: an espeak-ng process per phrase would cost far more
        ahead = self._deck[:_BATCH]
        eng = self.engine
        if any(t not in eng._cache and t not in eng._pending for t in ahead[: _BATCH // 2]):
            eng.prefetch(ahead, background=True)
        return self._last

    # -- building blocks ---------------------------------------------------------------

    def _level(self, y: np.ndarray, gain_db: float = 0.0) -> np.ndarray:
        """Scale an utterance to the active-speech level (±1.5 dB), peak ≤ −4 dBFS."""
        if y.size == 0:
            return y
        frame = max(1, self.sr // 50)
        nfr = max(1, len(y) // frame)
        e = np.mean(y[: nfr * frame].reshape(nfr, frame) ** 2, axis=1)
        active = e[e > 0.05 * np.max(e)] if np.max(e) > 0 else e
        rms = np.sqrt(np.mean(active)) + 1e-12
        g = _TARGET_ACTIVE_RMS * 10 ** ((gain_db + self.rng.uniform(-1.5, 1.5)) / 20) / rms
        peak = np.max(np.abs(y)) * g
        if peak > _PEAK_MAX:
            g *= _PEAK_MAX / peak
        return y * g

    def _breath(self, *, inhale: bool = True, duration_s: float | None = None) -> np.ndarray:
        dur = duration_s if duration_s is not None else self.rng.uniform(0.6, 1.1)
        b = breath_sound(self.sr, self.rng, duration_s=dur, inhale=inhale)
        level_db = self.rng.uniform(-24.0, -19.0) + 6.0 * (self.values["breaths"] - 1.0)
        return b * 10 ** (level_db / 20)

    def _pause_with_breath(self, pause_s: float) -> np.ndarray:
        """``pause_s`` of silence, with a soft inhale ending just before the next phrase."""
        n = max(1, int(round(pause_s * self.sr)))
        out = np.zeros(n)
        b_amt = self.values["breaths"]
        if b_amt > 0 and self.rng.random() < b_amt:
            b = self._breath(inhale=True)
            end = n - int(self.rng.uniform(0.12, 0.3) * self.sr)
            start = max(0, end - len(b))
            seg = b[: end - start]
            out[start : start + len(seg)] += seg
        return out

    def _next_segment(self) -> np.ndarray:
        text = self._draw()
        y = self._level(self.engine.utterance(text, self.rng))
        p = self.values["pause_s"] * self.rng.uniform(0.65, 1.4)
        return np.concatenate([y, self._pause_with_breath(p)])

    def _generate(self) -> np.ndarray:
        return self._next_segment()
