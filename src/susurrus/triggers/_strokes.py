"""Private helpers for stroke-like friction sounds (page turning, scratching, writing).

Physics
-------
*A band that moves.* A friction or air-flow noise is shaped by a resonance whose
centre moves during a stroke: the stick-slip rate of a tip crossing a texture grows
with the sliding speed (``f ≈ v / λ``, Akay 2002), a sheet sweeping through the air
sheds turbulence at a frequency that follows its speed (Strouhal, ``f ≈ St·v / d``).
:func:`swept_band` renders such a time-varying band-pass the way a filterbank
vocoder does: the excitation is split over a small bank of fixed band-pass filters
with Gaussian weights in log-frequency that follow the moving centre, and the
bands are summed (one batched FFT).

*Dense rustle.* A rubbed sheet of paper is thousands of fibre contacts a second,
each a few-millisecond burst of noise with nearly uniform energy:
:func:`contact_noise` draws them as an inhomogeneous Poisson process.

*Room tone.* A recording is never digitally silent between strokes: the room's
diffuse noise and the microphone's self-noise form a faint, dark bed
(:class:`RoomTone`).

*Level.* Loud strokes are turned down by a plain linear gain (:func:`peak_guard`),
never saturated: a limiter's distortion adds crackle.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import scipy.fft as spf
import scipy.signal as sps

from ._friction import poisson_times, stroke_profile

#: the highest peak of one event (−4.4 dBFS)
PEAK = 0.6

_STEP = 16  # samples per step of the filterbank weights


def peak_guard(y: np.ndarray, peak: float = PEAK) -> np.ndarray:
    """Scale ``y`` down linearly (in place, also returned) if its peak exceeds ``peak``."""
    p = float(np.max(np.abs(y))) if len(y) else 0.0
    if p > peak:
        y *= peak / p
    return y


@functools.lru_cache(maxsize=64)
def _freqs(n_fft: int, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """The rFFT bin frequencies (float32) and their inverses (0 Hz clamped to 1 mHz)."""
    f = np.fft.rfftfreq(n_fft, 1.0 / sr).astype(np.float32)
    return f, (1.0 / np.maximum(f, 1e-3)).astype(np.float32)


def speed_profile(
    n: int, rng: np.random.Generator, *, glide: float = 0.5, tremor: float = 0.08
) -> np.ndarray:
    """:func:`~susurrus.triggers._friction.stroke_profile` computed every 16 samples and
    linearly interpolated (the profile is smooth; this is 10× cheaper)."""
    n = max(2, int(n))
    m = max(2, n // 16)
    coarse = stroke_profile(m, rng, glide=glide, tremor=tremor)
    return np.interp(np.linspace(0.0, m - 1.0, n), np.arange(m), coarse)


def swept_band(
    exc: np.ndarray,
    sr: int,
    log_centre: np.ndarray,
    *,
    n_bands: int = 6,
    width: float = 0.7,
    q: float = 0.8,
    common: Callable[[np.ndarray], np.ndarray] | None = None,
    pad: int = 1024,
) -> np.ndarray:
    """Filter ``exc`` through a band-pass whose centre follows ``exp(log_centre)``.

    Parameters
    ----------
    exc
        The excitation, ``n`` samples, or a batch ``(k, n)`` of excitations filtered
        at once through the same bank (one batched FFT).
    log_centre
        Natural log of the band's centre (Hz) at every sample, shaped like ``exc``.
    n_bands
        Size of the fixed filterbank (geometrically spaced over the centre's range).
    width
        Standard deviation of the Gaussian weights in natural-log frequency.
    q
        Quality of each second-order band-pass of the bank.
    common
        An extra magnitude response ``gain(f_hz)`` applied to the sum (e.g. a high-pass).
    pad
        Ring-out samples appended.

    Returns
    -------
    numpy.ndarray
        ``n + pad`` samples (float64), or ``(k, n + pad)`` for a batch.
    """
    exc = np.asarray(exc)
    log_centre = np.asarray(log_centre)
    single = exc.ndim == 1
    ex2 = exc.reshape(1, -1) if single else exc
    lc2 = log_centre.reshape(1, -1) if single else log_centre
    k, n = ex2.shape
    lo = float(np.min(lc2))
    hi = float(np.max(lc2))
    centres = np.exp(np.linspace(lo - 0.25, min(hi + 0.25, np.log(0.4 * sr)), n_bands))
    # Gaussian weights, held over steps of _STEP samples (the centre moves slowly: the
    # steps are far below the noise's own fluctuation)
    n_fft = spf.next_fast_len(n + pad, real=True)
    n_steps = n_fft // _STEP
    at = np.minimum(np.arange(n_steps) * _STEP + _STEP // 2, n - 1)
    lc = lc2[:, at]  # (k, steps)
    w = np.exp(-0.5 * ((np.log(centres)[None, :, None] - lc[:, None, :]) / width) ** 2)
    w = (w / np.maximum(w.sum(axis=1, keepdims=True), 1e-9)).astype(np.float32)
    ex = np.zeros((k, n_fft), dtype=np.float32)
    ex[:, :n] = ex2
    weighted = np.empty((k, n_bands, n_fft), dtype=np.float32)
    weighted[:, :, n_steps * _STEP :] = 0.0
    body = weighted[:, :, : n_steps * _STEP].reshape(k, n_bands, n_steps, _STEP)
    steps = ex[:, : n_steps * _STEP].reshape(k, 1, n_steps, _STEP)
    np.multiply(w[:, :, :, None], steps, out=body)
    f, inv_f = _freqs(n_fft, sr)
    spec = spf.rfft(weighted, axis=-1)
    c = centres[:, None].astype(np.float32)
    bands = 1.0 / np.sqrt(1.0 + (q * (f[None, :] / c - c * inv_f[None, :])) ** 2)
    total = np.einsum("kbf,bf->kf", spec, bands) if k > 1 else (spec[0] * bands).sum(0)[None]
    if common is not None:
        total = total * common(f).astype(np.float32)
    out = np.asarray(spf.irfft(total, n_fft, axis=-1)[:, : n + pad], dtype=np.float64)
    return out[0] if single else out


def contact_noise(
    rng: np.random.Generator,
    rate_per_s: np.ndarray,
    sr: int,
    *,
    decay_ms: float,
    spread: float = 0.3,
) -> np.ndarray:
    """Dense fibre contacts: Poisson bursts of noise decaying over ``decay_ms``.

    Contact times follow the intensity ``rate_per_s``; amplitudes are nearly uniform
    (log-normal, ``spread`` in natural-log units). The result has unit power where the
    rate equals its mean over the stroke.
    """
    n = len(rate_per_s)
    idx = poisson_times(rng, rate_per_s, sr)
    imp = np.zeros(n)
    if len(idx):
        np.add.at(imp, idx, np.exp(spread * rng.standard_normal(len(idx))))
    c = float(np.exp(-1000.0 / (decay_ms * sr)))
    env = np.asarray(sps.lfilter([1.0], [1.0, -c], imp))
    mean_rate = max(float(np.mean(rate_per_s)), 1.0)
    norm = 1.0 / np.sqrt(mean_rate * decay_ms * 1e-3 / 2.0)
    return env * rng.standard_normal(n) * norm


class RoomTone:
    """A faint, dark, endless room-tone bed: white noise through a first-order band-pass
    from ``hp_hz`` to ``lp_hz`` (one biquad), scaled to RMS ``level``."""

    def __init__(self, sr: int, level: float, *, hp_hz: float = 100.0, lp_hz: float = 2000.0):
        b, a = sps.butter(1, [hp_hz, lp_hz], "bandpass", fs=sr)
        self._b, self._a = np.asarray(b), np.asarray(a)
        self._zi = np.zeros(len(self._a) - 1)
        # RMS of unit white noise through the filter (its noise bandwidth)
        _, h = sps.freqz(b, a, worN=8192, fs=sr)
        self._gain = level / float(np.sqrt(np.mean(np.abs(h) ** 2)))

    def __call__(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """The next ``n`` samples of the bed (the filter state carries over)."""
        y, self._zi = sps.lfilter(self._b, self._a, rng.standard_normal(n), zi=self._zi)
        return np.asarray(y) * self._gain
