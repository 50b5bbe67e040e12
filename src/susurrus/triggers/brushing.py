"""Brushing: a soft brush stroked over the microphone, or a brush going through hair."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import ClassVar, NamedTuple

import numpy as np

from .. import _fft as spf
from .. import _signal as sps
from . import register
from ._friction import (
    DirectIIR,
    decaying_bursts,
    fade,
    fft_len,
    gaussian_f32,
    highpass_gain,
    impulse_train,
    lowpass_gain,
    stroke_profile_f32,
)
from ._strokes import _freqs
from .base import EventTrigger, Param

JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "mic": {"stroke_rate_hz": 1.5, "brightness": 0.6},
    "hair": {"stroke_rate_hz": 1.0, "bristle_density": 0.4},
}

_LEVEL = {"mic": 0.6, "hair": 0.5}  # calibrated: about −20 dBFS RMS at the defaults


#: per variant: band sweep (start, end) in Hz at brightness 0.5 and whether it follows
#: the stroke's speed (else its time), Gaussian width of the sweep on the bank (in
#: natural-log frequency), band Q, high-pass (Hz), bristle grain rate at full speed
#: (1/s), grain decay (ms), room-tone bed level (RMS, re full scale)
class _Voice(NamedTuple):
    sweep: tuple[float, float]
    by_speed: bool
    width: float
    q: float
    hp_hz: float
    grain_rate: float
    grain_ms: float
    bed: float


_VOICE: dict[str, _Voice] = {
    "mic": _Voice(
        sweep=(1650.0, 500.0),
        by_speed=False,
        width=0.66,
        q=0.9,
        hp_hz=250.0,
        grain_rate=1700.0,
        grain_ms=0.35,
        bed=0.0005,
    ),
    "hair": _Voice(
        sweep=(1600.0, 2900.0),
        by_speed=True,
        width=0.87,
        q=0.63,
        hp_hz=490.0,
        grain_rate=4700.0,
        grain_ms=0.28,
        bed=0.00025,
    ),
}
_PEAK = 0.6  # −4.4 dBFS
_STEP = 32  # samples per step of the filterbank weights
_N_BANDS = 6  # band-pass bank the sweeping resonance is interpolated on
_ROWS = 8  # rows of the batched FFT (a multiple of the FFT's float32 SIMD width)


@functools.lru_cache(maxsize=64)
def _squares(n_fft: int, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """The squared rFFT bin frequencies and their squared inverses (float32, cached)."""
    f, inv_f = _freqs(n_fft, sr)
    return np.square(f), np.square(inv_f)


@functools.lru_cache(maxsize=1)
def _ramp() -> np.ndarray:
    """Offsets 0 … _STEP − 1 within a step of the weights (float32)."""
    return np.arange(_STEP, dtype=np.float32)


@register
class Brushing(EventTrigger):
    """Soft brush strokes on the microphone, or hair brushing.

    Physics
    -------
    A brush is hundreds of bristles, each a tiny friction contact that sticks and
    flicks free as it slides (Akay 2002): the sound is a dense swarm of micro-bursts
    whose rate is proportional to the stroke speed times the number of bristles in
    contact, shaped by what they rub. Every stroke follows a smooth
    accelerate–glide–decelerate profile (minimum jerk, Flash & Hogan 1985); the
    radiated friction power grows faster than the speed (more bristles bend into
    contact as the hand presses in), so each stroke *swells* and fades
    (level ∝ ``v^1.9``), with a silent gap while the hand returns.

    The colour moves along the stroke — the "swoosh". ``mic``: a soft make-up brush
    swept across a microphone's windscreen passes from the grille's edge to its
    centre and away; the foam's and the capsule's response sweep the band down
    (≈ 1.6 kHz → 0.5 kHz), and a directional microphone's proximity effect lifts
    the bass below ~300 Hz (``closeness``). ``hair``: bristles drawn from the scalp
    to the ends of the hair: fine, bright bristle-through-hair micro-frictions
    (thin hairs, 2–8 kHz) whose band sweeps as the tension changes.

    The sweep is rendered on a bank of fixed band-pass filters (a ``_N_BANDS``-band
    filterbank) with Gaussian weights in log-frequency that follow the moving centre.

    Parameters: ``stroke_rate_hz`` (strokes per second), ``stroke_s`` (duration of
    one stroke), ``brightness``, ``closeness`` (proximity bass), ``bristle_density``
    (share of grainy bristle micro-bursts).
    """

    family = "brushing"
    description = "Soft brush strokes on the microphone; a brush through hair"
    params = (
        Param("stroke_rate_hz", 1.2, 0.2, 4.0, "Hz", "strokes per second"),
        Param("stroke_s", 0.55, 0.15, 2.0, "s", "duration of one stroke"),
        Param("brightness", 0.4, 0.0, 1.0, "", "spectral band of the bristle noise"),
        Param("closeness", 0.7, 0.0, 1.0, "", "proximity bass of a close microphone"),
        Param("bristle_density", 0.1, 0.0, 1.0, "", "share of grainy bristle micro-bursts"),
    )
    variant_defaults: ClassVar[Mapping[str, Mapping[str, float]]] = {
        "mic": {
            "stroke_rate_hz": 1.1,
            "stroke_s": 0.55,
            "brightness": 0.5,
            "closeness": 0.0,
            "bristle_density": 0.02,
        },
        "hair": {
            "stroke_rate_hz": 1.2,
            "stroke_s": 0.48,
            "brightness": 0.5,
            "closeness": 0.0,
            "bristle_density": 0.2,
        },
    }
    chunk_size = 16384

    def _setup(self) -> None:
        self._voice = _VOICE[self.variant]
        scale = 2.0 ** (2.0 * (self.values["brightness"] - 0.5))  # ±1 octave
        self._sweep = (self._voice.sweep[0] * scale, self._voice.sweep[1] * scale)
        # the bed: the room tone and the microphone's own noise, faint and dark
        hp = sps.butter(2, 100.0, "highpass", fs=self.sr, output="sos")
        lp = sps.butter(1, 2000.0, "lowpass", fs=self.sr, output="sos")
        self._bed_filter = DirectIIR(np.vstack([hp, lp]))
        self._bed_gain = self._voice.bed / 0.25  # the filtered noise's RMS is ≈ 0.25
        self._commons: dict[int, np.ndarray] = {}
        self._work = np.zeros((_ROWS, 0), dtype=np.float32)
        self._gains = np.zeros((2, _N_BANDS, 0), dtype=np.float32)

    def _common(self, n_fft: int) -> np.ndarray:
        """The proximity bass and the high-pass on an ``n_fft`` grid (float32, cached)."""
        g = self._commons.get(n_fft)
        if g is None:
            f, _ = _freqs(n_fft, self.sr)
            bass_gain = 3.0 * self.values["closeness"]
            g = (1.0 + bass_gain * lowpass_gain(f, 300.0, 1)) * highpass_gain(
                f, self._voice.hp_hz, 2
            )
            g = self._commons[n_fft] = g.astype(np.float32)
        return g

    def _fft_buffer(self, n_fft: int) -> np.ndarray:
        """A reused ``(_ROWS, n_fft)`` float32 work buffer (grown as needed; no fresh
        pages per stroke). Rows from ``_N_BANDS`` on stay zero."""
        if self._work.shape[1] < n_fft:
            self._work = np.zeros((_ROWS, n_fft), dtype=np.float32)
        return self._work[:, :n_fft]

    def _bands(self, n_fft: int, centres: np.ndarray) -> np.ndarray:
        """The bank's band-passes at ``centres`` (Hz, float32) times :meth:`_common`, on the
        ``n_fft`` grid: ``(_N_BANDS, n_fft // 2 + 1)`` float32 (a reused buffer).

        ``|H|² = 1 / (1 + x²)`` with ``x = q (f / c − c / f)``; here
        ``1 + x² = (q / c)² f² + (q c)² / f² + 1 − 2 q²`` (the squares are cached).
        """
        n_bins = n_fft // 2 + 1
        if self._gains.shape[2] < n_bins:
            self._gains = np.zeros((2, _N_BANDS, n_bins), dtype=np.float32)
        out, tmp = self._gains[0, :, :n_bins], self._gains[1, :, :n_bins]
        f2, inv_f2 = _squares(n_fft, self.sr)
        q = np.float32(self._voice.q)
        c = centres[:, None]
        np.multiply(f2, np.square(q / c), out=out)
        np.multiply(inv_f2, np.square(q * c), out=tmp)
        out += tmp
        out += np.float32(1.0) - np.float32(2.0) * q * q
        np.sqrt(out, out=out)
        np.divide(self._common(n_fft), out, out=out)
        return out

    def _bed(self, n: int) -> np.ndarray:
        y = self._bed_filter(gaussian_f32(self.rng, n))
        y *= self._bed_gain
        return y

    def _event(self) -> tuple[np.ndarray, float]:
        rng, sr, voice = self.rng, self.sr, self._voice
        period = 1.0 / self.values["stroke_rate_hz"]
        dur = min(self.values["stroke_s"], 0.9 * period) * rng.uniform(0.8, 1.2)
        n = int(dur * sr)
        v = stroke_profile_f32(n, rng, glide=rng.uniform(0.2, 0.4), tremor=0.15)
        level = v.astype(np.float32) ** np.float32(1.9)  # float32: a tenth of the cost
        dens = self.values["bristle_density"]
        grain_rate, grain_ms = voice.grain_rate, voice.grain_ms
        imp = impulse_train(rng, grain_rate * v, sr, alpha=2.2, cap=10.0, level=v)
        bursts = decaying_bursts(rng, imp, sr, grain_ms, normal=gaussian_f32)
        bursts /= np.sqrt(grain_rate * grain_ms * 2e-3)
        bursts *= dens
        m = -(-n // _STEP)  # steps covering the stroke; the weights at m + 1 knots
        # exc = (1 − dens) · noise · level + dens · bursts, in place, in float32
        exc = gaussian_f32(rng, n)
        exc *= np.float32(1.0 - dens)
        exc *= level
        exc32 = np.zeros(m * _STEP, dtype=np.float32)
        np.add(exc, bursts, out=exc32[:n])
        f1 = self._sweep[0] * rng.uniform(0.85, 1.15)
        f2 = self._sweep[1] * rng.uniform(0.85, 1.15)
        # the band's centre (log Hz) sweeps along the stroke's time or speed; the weights
        # move smoothly: compute them every _STEP samples (at the knots, clamped to the
        # last sample) and interpolate linearly in between (float32, written straight
        # into the FFT buffer)
        knots = np.minimum(np.arange(m + 1) * _STEP, n - 1)
        if voice.by_speed:
            along = v[knots] / max(float(v.max()), 1e-9)
        else:
            along = knots * (1.0 / (n - 1))  # np.linspace(0, 1, n)[knots]
        lc = np.log(f1) + (np.log(f2) - np.log(f1)) * along
        # geometrically spaced centres (np.geomspace)
        log_c = np.linspace(
            np.log(min(f1, f2) / 1.3), np.log(min(max(f1, f2) * 1.3, 0.4 * sr)), _N_BANDS
        )
        w = np.exp(-0.5 * ((log_c[:, None] - lc[None, :]) / voice.width) ** 2)
        w /= np.maximum(w.sum(axis=0), 1e-9)
        w32 = w.astype(np.float32)
        slope = (np.diff(w32, axis=1) * np.float32(1.0 / _STEP))[:, :, None]
        n_fft = fft_len(n + 1024)
        buf = self._fft_buffer(n_fft)
        buf[:_N_BANDS, m * _STEP :] = 0.0
        body = buf[:_N_BANDS, : m * _STEP].reshape(_N_BANDS, m, _STEP)
        np.multiply(slope, _ramp(), out=body)
        body += w32[:, :m, None]
        body *= exc32.reshape(1, m, _STEP)
        # the filterbank: each band filters its weighted share of the excitation; the
        # bands sum in the frequency domain (one inverse transform). All rows in one
        # batched transform (the spare rows stay zero): several times cheaper a row
        spec = spf.rfft(buf, axis=-1)[:_N_BANDS]
        gains = self._bands(n_fft, np.exp(log_c).astype(np.float32))
        np.multiply(spec, gains, out=spec)
        total = spec.sum(axis=0)
        y = spf.irfft(total, n_fft, overwrite_x=True)[: n + 1024]
        fade(y, sr, 5.0)
        y *= _LEVEL[self.variant] * rng.uniform(0.75, 1.15)
        peak = max(float(y.max()), -float(y.min()))
        if peak > _PEAK:  # a linear guard: a limiter's distortion would colour the swoosh
            y *= _PEAK / peak
        gap = period * rng.uniform(0.85, 1.15)
        if rng.uniform() < 0.08:
            gap += rng.uniform(0.3, 1.2)  # the hand pauses
        return y, gap
