"""Page turning: the pages of a book turned one by one at a reading pace."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from .. import _fft as spf
from .. import _signal as sps
from . import register
from ._friction import (
    fade,
    fft_len,
    gaussian_f32,
    poisson_steps,
    smooth_random,
    stroke_profile_f32,
)
from ._strokes import RoomTone, peak_guard, swept_band
from .base import EventTrigger, Param

JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "default": {"pages_per_min": 32.0, "brightness": 0.65},
}

_LEVEL = 0.11  # calibrated: the loudest turns peak near −4.4 dBFS
_BED = 0.0013  # room tone RMS (≈ −27 dB under the turns)
_RUSTLE_RATE = 3000.0  # fibre contacts per second at the peak of the bend
_RUSTLE_MS = 2.5  # decay of one contact burst
_RUSTLE_GAIN = 1.0
_WHOOSH_GAIN = 1.0
_WHOOSH_HZ = (350.0, 1400.0)  # whoosh band at rest and at the sheet's top speed
_CRACKLE = 0.1  # share of sharp crease crackles in the bend
_PAD = 1024  # ring-out samples after each filtered part
_STEP = 16  # samples per step of the smooth curves (bend, sheet speed, contact rate)

_F32 = np.float32


def _steps(n: int) -> int:
    """Whole ``_STEP``-sample steps covering ``n`` samples (at least 2)."""
    return max(2, -(-(n - 1) // _STEP))


def _upsample(knots: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``knots`` given every ``_STEP`` samples: ``_STEP · (m − 1) + 1``
    float32 samples (a smooth curve; the same as :func:`numpy.interp`)."""
    k = np.asarray(knots, dtype=_F32)
    frac = np.arange(_STEP, dtype=_F32) / _F32(_STEP)
    out = np.empty(_STEP * (len(k) - 1) + 1, dtype=_F32)
    body = out[:-1].reshape(len(k) - 1, _STEP)
    np.multiply((k[1:] - k[:-1])[:, None], frac[None, :], out=body)
    body += k[:-1, None]
    out[-1] = k[-1]
    return out


def _poisson_steps(rng: np.random.Generator, rate_knots: np.ndarray, sr: int) -> np.ndarray:
    """Sample indices of a Poisson process whose intensity (per second) is linear between
    ``rate_knots``, given every ``_STEP`` samples.

    (:func:`~susurrus.triggers._friction.poisson_steps` on each step's expected count.)
    """
    a = np.maximum(np.asarray(rate_knots, dtype=np.float64), 0.0)
    mass = (a[:-1] + a[1:]) * (0.5 * _STEP / sr)  # expected events per step
    return poisson_steps(rng, mass, _STEP)


def _contacts(
    rng: np.random.Generator,
    rate_knots: np.ndarray,
    n: int,
    sr: int,
    *,
    decay_ms: float,
    spread: float = 0.3,
) -> np.ndarray:
    """:func:`~susurrus.triggers._strokes.contact_noise` with the rate given every
    ``_STEP`` samples (linear between), float32: ``n`` samples of Poisson bursts of
    noise decaying over ``decay_ms``, log-normal amplitudes (``spread``), scaled by the
    same ``1 / √(mean rate · decay / 2)`` (impulses summed with :func:`numpy.bincount`,
    float32 Box–Muller noise)."""
    idx = _poisson_steps(rng, rate_knots, sr)
    idx = idx[idx < n]
    amp = gaussian_f32(rng, len(idx))
    amp *= _F32(spread)
    np.exp(amp, out=amp)
    imp = np.bincount(idx, amp, n).astype(_F32)
    c = _F32(np.exp(-1000.0 / (decay_ms * sr)))
    env = np.asarray(sps.lfilter(np.ones(1, _F32), np.array([1.0, -c], _F32), imp))
    a = np.maximum(np.asarray(rate_knots, dtype=np.float64), 0.0)
    mean_rate = max(float(np.mean(a[:-1] + a[1:])) * 0.5, 1.0)
    env *= gaussian_f32(rng, n)
    env *= _F32(1.0 / np.sqrt(mean_rate * decay_ms * 1e-3 / 2.0))
    return env


@functools.lru_cache(maxsize=64)
def _freq_powers(n_fft: int, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """``f⁴`` and ``f⁻⁴`` (0 Hz clamped to 1 mHz) on the ``n_fft`` rFFT grid, float32."""
    f = np.maximum(np.fft.rfftfreq(n_fft, 1.0 / sr), 1e-3)
    f4, inv4 = (f**4).astype(_F32), (f**-4.0).astype(_F32)
    f4.flags.writeable = inv4.flags.writeable = False
    return f4, inv4


def _band_gain(n_fft: int, sr: int, lo_hz: float, hi_hz: float) -> np.ndarray:
    """Second-order Butterworth high-pass at ``lo_hz`` times low-pass at ``hi_hz``
    (:func:`~susurrus.triggers._friction.highpass_gain` ·
    :func:`~susurrus.triggers._friction.lowpass_gain`) on the rFFT grid, float32."""
    f4, inv4 = _freq_powers(n_fft, sr)
    hp = inv4 * _F32(lo_hz**4)
    hp += _F32(1.0)
    lp = f4 * _F32(hi_hz**-4)
    lp += _F32(1.0)
    hp *= lp
    np.sqrt(hp, out=hp)
    np.reciprocal(hp, out=hp)
    return hp


@functools.lru_cache(maxsize=64)
def _slap_gain(n_fft: int, sr: int) -> np.ndarray:
    """The landing slap's dark band (150–1800 Hz), float32, cached per FFT size."""
    g = _band_gain(n_fft, sr, 150.0, 1800.0)
    g.flags.writeable = False
    return g


def _highpass150(f: np.ndarray) -> np.ndarray:
    """Second-order Butterworth high-pass at 150 Hz (the whoosh's common response)."""
    f = np.maximum(np.asarray(f, dtype=_F32), _F32(1e-3))
    x = _F32(150.0) / f
    x *= x
    x *= x
    x += _F32(1.0)
    np.sqrt(x, out=x)
    return np.reciprocal(x, out=x)


@register
class PageTurning(EventTrigger):
    """Turning the pages of a book.

    Physics
    -------
    One turn has four parts. (1) The grab: a fingertip slides under the page's
    corner — a short friction stroke. (2) The bend: the lifted sheet flexes; its
    fibres rub one another and the neighbouring pages — thousands of soft fibre
    contacts a second (a dense rustle, few-millisecond bursts of nearly uniform
    energy) whose rate follows the bending speed, with a few sharper crease
    crackles (power-law energies, Kramer & Lobkovsky 1996); the sheet radiates the
    papery band, 1–5 kHz. (3) The flip: the sheet sweeps through the air and sheds
    turbulence — a whoosh whose band follows the sheet's angular speed (Strouhal
    shedding, ``f ∝ v``: it rises and falls as the page accelerates and settles,
    ≈ 0.35–1.4 kHz) and whose level swells with it. (4) The landing: the page
    settles on the others — a soft, dark slap and a last short rustle. A turn lasts
    0.5–1.5 s (``turn_s``); between turns the reader reads (``pages_per_min``). Thin
    paper (``brightness`` high) is crisper and brighter; heavy stock darker. Under
    it all, the faint room tone of a quiet room.

    The smooth curves (bend, sheet speed, contact rate) are computed every 16
    samples and interpolated linearly; the filters are zero-phase FFT products
    (float32).
    """

    family = "page-turning"
    description = "Pages of a book turned one by one"
    params = (
        Param("pages_per_min", 25.0, 2.0, 50.0, "1/min", "turns per minute (reading tempo)"),
        Param("turn_s", 0.9, 0.5, 1.5, "s", "duration of one turn"),
        Param("brightness", 0.5, 0.0, 1.0, "", "paper: heavy and dark (0) to thin and crisp (1)"),
    )
    variant_defaults: ClassVar[Mapping[str, Mapping[str, float]]] = {"default": {}}
    chunk_size = 16384

    def _setup(self) -> None:
        self._scale = 2.0 ** (2.0 * (self.values["brightness"] - 0.5))  # ±1 octave
        self._room = RoomTone(self.sr, _BED, hp_hz=100.0, lp_hz=1500.0, normal=gaussian_f32)

    def _first_onset_s(self) -> float:
        return float(self.rng.uniform(0.1, 0.6))

    def _bed(self, n: int) -> np.ndarray:
        return self._room(self.rng, n)

    def _event(self) -> tuple[np.ndarray, float]:
        rng, sr, pad = self.rng, self.sr, _PAD
        turn = self.values["turn_s"] * rng.uniform(0.8, 1.2)
        n = int(turn * sr)
        y = np.zeros(n + pad, dtype=_F32)
        lo_hz = 900.0 * self._scale * rng.uniform(0.85, 1.15)
        hi_hz = min(5000.0 * self._scale * rng.uniform(0.85, 1.15), 0.4 * sr)

        # (1) + (2) grab and bend: one rustle whose contact rate follows the bending
        mb = _steps(max(256, int(rng.uniform(0.55, 0.7) * n))) + 1
        glide = rng.uniform(0.1, 0.4)
        bend_k = stroke_profile_f32(mb, rng, glide=glide, tremor=0.3)
        bend_k *= np.exp(0.35 * smooth_random(mb, rng, 8))
        bend = _upsample(bend_k)
        nb = len(bend)
        exc = _contacts(rng, _RUSTLE_RATE * bend_k, nb, sr, decay_ms=_RUSTLE_MS)
        exc *= _F32(1.0 - _CRACKLE)
        cracks = _contacts(rng, 40.0 * bend_k, nb, sr, decay_ms=0.6, spread=0.8)
        cracks *= _F32(_CRACKLE * 0.5)
        exc += cracks
        exc *= bend
        n_fft = fft_len(nb + pad)
        spec = spf.rfft(exc, n_fft)
        spec *= _band_gain(n_fft, sr, lo_hz, hi_hz)
        y[: nb + pad] += spf.irfft(spec, n_fft)[: nb + pad]
        # (3) the flip: a whoosh, band and level following the sheet's speed
        mf = _steps(max(256, int(rng.uniform(0.3, 0.45) * n + 0.12 * sr))) + 1
        nf = _STEP * (mf - 1) + 1
        f0 = max(0, min(n - nf, int(rng.uniform(0.4, 0.55) * n)))
        v_k = stroke_profile_f32(mf, rng, glide=rng.uniform(0.0, 0.3), tremor=0.1)
        w_lo = _WHOOSH_HZ[0] * rng.uniform(0.8, 1.2)
        w_hi = _WHOOSH_HZ[1] * self._scale**0.5 * rng.uniform(0.8, 1.2)
        log_c = _upsample(np.log(w_lo) + (np.log(w_hi) - np.log(w_lo)) * v_k)
        w_exc = gaussian_f32(rng, nf)
        w_exc *= _upsample(v_k**1.5)
        whoosh = swept_band(
            w_exc,
            sr,
            log_c,
            n_bands=5,
            width=0.6,
            q=1.2,
            common=_highpass150,
            pad=pad,
            few_sizes=True,
        )
        y[f0 : f0 + nf + pad] += _WHOOSH_GAIN * whoosh
        # (4) the landing: a soft dark slap and a last short rustle
        nl = int(rng.uniform(0.04, 0.08) * sr)
        ml = _steps(nl) + 1
        nl = _STEP * (ml - 1) + 1
        l0 = max(0, min(n - nl, f0 + int(0.85 * nf)))
        t = np.arange(nl, dtype=_F32) / _F32(sr)
        slap = gaussian_f32(rng, nl)
        slap *= np.exp(t / _F32(-rng.uniform(0.008, 0.015)))
        t_k = np.arange(ml) * (_STEP / sr)
        settle = _contacts(rng, 1500.0 * np.exp(-t_k / 0.03), nl, sr, decay_ms=_RUSTLE_MS)
        settle *= np.exp(t / _F32(-0.03))
        n_fft = fft_len(nl + pad)
        spec = spf.rfft(slap, n_fft)
        spec *= _slap_gain(n_fft, sr) * _F32(0.6)
        spec_s = spf.rfft(settle, n_fft)
        spec_s *= _band_gain(n_fft, sr, lo_hz, hi_hz) * _F32(0.3)
        spec += spec_s
        y[l0 : l0 + nl + pad] += spf.irfft(spec, n_fft)[: nl + pad]
        fade(y, sr, 5.0)
        y *= _F32(_LEVEL * rng.uniform(0.75, 1.2))
        peak_guard(y)
        mean_gap = 60.0 / self.values["pages_per_min"]
        gap = max(turn + 0.2, mean_gap * rng.uniform(0.7, 1.3))
        return y, gap
