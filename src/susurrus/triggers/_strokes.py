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
import threading
from collections.abc import Callable

import numpy as np

from .. import _fft as spf
from .. import _signal as sps
from ._friction import fft_len, poisson_times, stroke_profile

#: the highest peak of one event (−4.4 dBFS)
PEAK = 0.6

_STEP = 16  # samples per step of the filterbank weights
_ROWS = 8  # transforms per batched FFT call (the FFT's float32 SIMD width)


_local = threading.local()


def _scratch(size: int) -> np.ndarray:
    """A float32 work buffer of ``size`` samples, reused by this thread (contents
    undefined): fresh large arrays cost page faults on every call."""
    buf: np.ndarray | None = getattr(_local, "buf", None)
    if buf is None or buf.size < size:
        buf = _local.buf = np.empty(max(size, 1 << 16), dtype=np.float32)
    return buf[:size]


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
    few_sizes: bool = False,
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
    few_sizes
        Take the FFT size from :func:`~susurrus.triggers._friction.fft_len` (few sizes
        an octave: the FFT plans stay cached, much faster when every call has another
        length) instead of the smallest 5-smooth size. The filters' zero-phase tails
        wrap round differently; for an excitation that fades out at both ends (a
        stroke) the results agree to float32 rounding.

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
    # the steps cover the excitation; beyond it the FFT buffer is zero padding
    n_steps = -(-n // _STEP)
    size = max(n + pad, n_steps * _STEP)
    n_fft = fft_len(size) if few_sizes else spf.next_fast_len(size, real=True)
    at = np.minimum(np.arange(n_steps) * _STEP + _STEP // 2, n - 1)
    lc = lc2[:, at]  # (k, steps)
    w = np.exp(-0.5 * ((np.log(centres)[None, :, None] - lc[:, None, :]) / width) ** 2)
    w = (w / np.maximum(w.sum(axis=1, keepdims=True), 1e-9)).astype(np.float32)
    ex = np.zeros((k, n_steps * _STEP), dtype=np.float32)
    ex[:, :n] = ex2
    f, inv_f = _freqs(n_fft, sr)
    c = centres[:, None].astype(np.float32)
    x = q * (f[None, :] / c - c * inv_f[None, :])
    bands = 1.0 / np.sqrt(1.0 + x * x)
    if common is not None:
        bands *= common(f).astype(np.float32)
    # a few bands at a time (about _ROWS transforms per call; smaller temporaries than
    # all bands at once, and fresh large arrays cost page faults): weight the
    # excitations, transform, filter, and sum in the frequency domain (one inverse
    # transform per excitation)
    group = max(1, min(n_bands, _ROWS // k))
    weighted = _scratch(k * group * n_fft).reshape(k, group, n_fft)
    weighted[:, :, n_steps * _STEP :] = 0.0
    steps = ex.reshape(k, 1, n_steps, _STEP)
    total = np.zeros((k, n_fft // 2 + 1), dtype=np.complex64)
    for j0 in range(0, n_bands, group):
        j1 = min(n_bands, j0 + group)
        wb = weighted[:, : j1 - j0]
        body = wb[:, :, : n_steps * _STEP].reshape(k, j1 - j0, n_steps, _STEP)
        np.multiply(w[:, j0:j1, :, None], steps, out=body)
        spec = spf.rfft(wb, axis=-1)
        np.multiply(spec, bands[j0:j1], out=spec)
        total += spec.sum(axis=1)
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
    (log-normal, ``spread`` in natural-log units). The envelope is shot noise, scaled
    by ``1 / sqrt(r̄ τ / 2)`` (``r̄`` the mean rate, ``τ`` the decay): that makes the
    envelope's *fluctuation* about unit where the rate is ``r̄``; its mean adds to that,
    so the power there is ``exp(2 s²) + 2 r̄ τ exp(s²)`` (``s`` = ``spread``): about
    2.3 at 200 contacts/s and 17.6 at 3000/s with a 2.5 ms decay.
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
    from ``hp_hz`` to ``lp_hz`` (one biquad), scaled to RMS ``level``.

    ``normal(rng, n)`` draws the white Gaussian noise (default
    ``rng.standard_normal(n)``; e.g. :func:`~susurrus.triggers._friction.gaussian_f32`,
    a faster stream of the same law).
    """

    def __init__(
        self,
        sr: int,
        level: float,
        *,
        hp_hz: float = 100.0,
        lp_hz: float = 2000.0,
        normal: Callable[[np.random.Generator, int], np.ndarray] | None = None,
    ):
        b, a = sps.butter(1, [hp_hz, lp_hz], "bandpass", fs=sr)
        self._b, self._a = np.asarray(b), np.asarray(a)
        self._zi = np.zeros(len(self._a) - 1)
        self._normal = normal
        # RMS of unit white noise through the filter (its noise bandwidth)
        _, h = sps.freqz(b, a, worN=8192, fs=sr)
        self._gain = level / float(np.sqrt(np.mean(np.abs(h) ** 2)))

    def __call__(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """The next ``n`` samples of the bed (the filter state carries over)."""
        x = rng.standard_normal(n) if self._normal is None else self._normal(rng, n)
        y, self._zi = sps.lfilter(self._b, self._a, x, zi=self._zi)
        y = np.asarray(y)
        y *= self._gain
        return y
