"""Crinkling: paper, plastic or foil squeezed and handled in the hands."""

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
    highpass_gain,
    pareto_amplitudes,
    poisson_steps,
)
from ._strokes import _freqs
from .base import EventTrigger, Param

JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "paper": {"crackle_rate_per_s": 300.0, "gesture_s": 2.2},
    "plastic": {"crackle_rate_per_s": 300.0, "brightness": 0.8},
    "foil": {"crackle_rate_per_s": 700.0, "gesture_s": 2.2},
}

#: calibrated: about −20 dBFS RMS at the defaults
_PEAK = 0.6  # −4.4 dBFS
_LEVEL = {"paper": 0.07, "plastic": 0.16, "foil": 0.15}
_PAD = 1024  # ring-out of the zero-phase filters
_BLOCK = 64  # samples per block of the swell's angle-addition sine
_STEP = 16  # samples per step of the squeeze curve (linear in between)


def resonator_bank(times: np.ndarray, gains: np.ndarray, poles: np.ndarray, n: int) -> np.ndarray:
    """Sparse impulses through a bank of two-pole resonators, summed; ``n`` samples.

    ``times`` (J,) sample indices, ``gains`` (M, J) real impulse amplitudes per mode,
    ``poles`` (M,) complex, inside the unit circle.

    Mode ``m`` is the filter ``sin ω / (1 − 2r cos ω z⁻¹ + r² z⁻²)`` (pole
    ``p = r e^{iω}``) driven by impulses ``gains[m, j]`` at ``times[j]`` (sorted,
    distinct); its impulse response is ``h[k] = r^k sin((k+1) ω) = Im(p^{k+1}) / r``.
    The result equals ``Σ_m lfilter([sin ω], [1, −2r cos ω, r²], drive_m)`` to float64
    rounding, but costs a few matrix products instead of a recursion per sample: with
    the complex state ``S[t] = Σ_{t_j ≤ t} g_j p^{t − t_j}``, blocks of ``B`` samples
    start from a carried state (``C_{b+1} = p^B C_b + u_b``, a short recursion over
    blocks), and each impulse adds its own partial row inside its block.
    """
    out = np.zeros(n)
    if n <= 0 or len(times) == 0 or len(poles) == 0:
        return out
    b_sz = _BLOCK
    nb = -(-n // b_sz)
    log_p = np.log(poles)[:, None]  # (M, 1)
    r = np.abs(poles)[:, None]
    blk, off = np.divmod(times, b_sz)
    # each block's impulses carried to its last sample, then the state across blocks
    u_val = gains * np.exp(log_p * (b_sz - 1 - off)[None, :])  # (M, J)
    carry = np.zeros((len(poles), nb), dtype=np.complex128)
    for m in range(len(poles)):
        u = np.bincount(blk, u_val[m].real, nb) + 1j * np.bincount(blk, u_val[m].imag, nb)
        c = sps.lfilter([1.0], [1.0, -np.exp(log_p[m, 0] * b_sz)], u[:-1])
        carry[m, 1:] = c
    # the carried states ring through their blocks: Im(C_b p^{i+2}) / r
    k = np.arange(b_sz)
    q2 = np.exp(log_p * (k + 2)[None, :]) / r  # (M, B)
    left = np.concatenate([carry.real, carry.imag]).T  # (nb, 2M)
    right = np.concatenate([q2.imag, q2.real])  # (2M, B)
    out[:] = (left @ right).reshape(-1)[:n]
    # each impulse within its own block: Im(g p^{i'+1}) / r for i' = 0 … B − 1 − off
    q1 = np.exp(log_p * (k + 1)[None, :]) / r
    rows = gains.T @ q1.imag  # (J, B); the gains are real
    pos = times[:, None] + k[None, :]
    keep = (k[None, :] < (b_sz - off)[:, None]) & (pos < n)
    out += np.bincount(pos[keep], rows[keep], n)
    return out


def _swell(n: int) -> np.ndarray:
    """The squeeze's swell ``sin(πτ)^0.7`` over a gesture of ``n`` samples, τ = 0 … 1.

    The curve is symmetric: the first half is computed and mirrored. The sine of the
    evenly spaced phases ``θ = a + b`` (block start ``a``, offset ``b`` within a block of
    64) comes from the angle-addition formula ``sin a cos b + cos a sin b`` — an outer
    product of a few hundred sines and cosines, exact to float64 rounding and far
    cheaper than a sine per sample.
    """
    if n < 2:
        return np.zeros(max(n, 0))
    h = (n + 1) // 2
    step = np.pi / (n - 1)
    nb = -(-h // _BLOCK)
    a = np.arange(nb) * (_BLOCK * step)
    b = np.arange(_BLOCK) * step
    sin = np.outer(np.sin(a), np.cos(b))
    sin += np.outer(np.cos(a), np.sin(b))
    half = sin.reshape(-1)[:h]
    np.maximum(half, 0.0, out=half)
    half **= 0.7
    s = np.empty(n)
    s[:h] = half
    s[h:] = half[: n - h][::-1]
    return s


def _squeeze(n: int, n_knots: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The hand's squeeze over a gesture of ``n`` samples, mean 1: the swell
    ``sin(πτ)^0.7`` times ``exp(0.6 s(τ))``, ``s`` a smooth random curve through
    ``n_knots`` Gaussian knots (smoothstep between them, as
    :func:`~susurrus.triggers._friction.smooth_random`).

    The curve is evaluated every ``_STEP`` samples and is linear in between (it moves
    over hundreds of milliseconds). Returns the curve (float32, ``n`` samples) and its
    values at the block edges ``0, _STEP, 2 _STEP, …`` (float64, one more than blocks).
    """
    n_knots = max(2, n_knots)
    knots = rng.standard_normal(n_knots)
    nb = max(1, -(-n // _STEP))
    tau = np.minimum(np.arange(nb + 1) * _STEP, n - 1) / max(n - 1, 1)
    x = tau * (n_knots - 1)
    j = np.minimum(x.astype(np.int64), n_knots - 2)
    t = x - j
    s = t * t * (3.0 - 2.0 * t)  # smoothstep
    curve = knots[j] * (1.0 - s) + knots[j + 1] * s
    swell = np.maximum(np.sin(np.pi * tau), 0.0) ** 0.7
    edges = swell * np.exp(0.6 * curve)
    fine = _ramps(edges)[:n]
    scale = 1.0 / max(float(np.mean(fine, dtype=np.float64)), 1e-9)
    fine *= np.float32(scale)
    return fine, edges * scale


_RAMP = (np.arange(_STEP) / _STEP).astype(np.float32)
_STEP_SUM = float(np.sum(_RAMP, dtype=np.float64))


def _ramps(edges: np.ndarray) -> np.ndarray:
    """Linear interpolation between ``edges`` spaced ``_STEP`` samples (float32)."""
    e = edges.astype(np.float32)
    out = np.empty((len(e) - 1, _STEP), dtype=np.float32)
    np.multiply((e[1:] - e[:-1])[:, None], _RAMP[None, :], out=out)
    out += e[:-1, None]
    return out.reshape(-1)


def _poisson_blocks(rng: np.random.Generator, edges_per_s: np.ndarray, sr: int) -> np.ndarray:
    """Sample indices of a Poisson process whose intensity (per second) is linear
    between ``edges_per_s``, given every ``_STEP`` samples.

    (:func:`~susurrus.triggers._friction.poisson_steps` on each block's expected count.)
    """
    a = np.maximum(edges_per_s, 0.0)
    mass = (a[:-1] * _STEP + (a[1:] - a[:-1]) * _STEP_SUM) / sr  # per block
    return poisson_steps(rng, mass, _STEP)


@functools.lru_cache(maxsize=32)
def _highpass32(n_fft: int, sr: int, cutoff_hz: float) -> np.ndarray:
    """Second-order Butterworth high-pass magnitude on the ``n_fft`` rFFT grid (float32)."""
    g = highpass_gain(np.fft.rfftfreq(n_fft, 1.0 / sr), cutoff_hz, 2).astype(np.float32)
    g.flags.writeable = False
    return g


#: per material: click decay (ms), crack-energy exponent α, mean clicks per crease
#: avalanche beyond the first, avalanche spread (ms), band-pass Q, high-pass (Hz),
#: handling-rustle share, number of ringing modes, their decay (ms), mode share
_MATERIAL = {
    "paper": {
        "decay_ms": 2.2,
        "alpha": 1.55,
        "cap": 10.0,
        "cluster": 5.0,
        "spread_ms": 15.0,
        "q": 0.8,
        "hp_hz": 700.0,
        "rustle": 0.45,
        "modes": 0,
        "ring_ms": 0.0,
        "pop": 0.0,
    },
    "plastic": {
        "decay_ms": 1.2,
        "alpha": 1.9,
        "cap": 9.0,
        "cluster": 2.5,
        "spread_ms": 13.0,
        "q": 0.75,
        "hp_hz": 1200.0,
        "rustle": 0.17,
        "modes": 2,
        "ring_ms": 6.5,
        "pop": 0.25,
    },
    "foil": {
        "decay_ms": 1.8,
        "alpha": 1.9,
        "cap": 6.0,
        "cluster": 5.0,
        "spread_ms": 18.0,
        "q": 1.0,
        "hp_hz": 750.0,
        "rustle": 0.14,
        "modes": 4,
        "ring_ms": 6.0,
        "pop": 0.35,
    },
}


@register
class Crinkling(EventTrigger):
    """Crinkling paper, plastic or foil in handling gestures.

    Physics
    -------
    A crumpled sheet stores elastic energy in ridges and vertices; as the hands
    squeeze, creases snap through, each releasing a click. The click energies follow
    a power law ``P(E) ∝ E^−α`` with α ≈ 1.3–1.6 (Kramer & Lobkovsky 1996, PRE 53,
    1465; Houle & Sethna 1996). Snaps are not independent: one buckling ridge loads
    its neighbours, so they come in *avalanches* — a crease event is a burst of a few
    (``cluster``) clicks spread over 5–30 ms (Houle & Sethna's crackling-noise
    picture). The rate of crease events follows the hand's squeeze — a swell over a
    gesture of 0.5–3 s with random sub-squeezes — and so does the click level
    (a harder squeeze snaps stiffer creases). Between the snaps, the hands' friction
    on the sheet adds a soft broadband rustle. Each click is a sub-millisecond
    release of a thin plate: a short noise burst whose spectrum rises to a broad
    peak of a few kHz (``brightness``) — thin sheets radiate little below ~1 kHz.
    The material sets the click: paper is softer (≈ 1.6 ms bursts, more rustle);
    plastic film snappier (≈ 0.9 ms) with a brief thin-shell ring; foil the finest
    and shortest, plus high, lightly damped modes (3–12 kHz) for its tinny shimmer.
    """

    family = "crinkling"
    description = "Paper, plastic or foil crinkled in the hands"
    params = (
        Param(
            "crackle_rate_per_s",
            400.0,
            20.0,
            3000.0,
            "1/s",
            "mean crease clicks per second during a gesture",
        ),
        Param("gesture_s", 1.7, 0.3, 3.0, "s", "mean length of one squeeze gesture"),
        Param("brightness", 0.6, 0.0, 1.0, "", "spectral band of the clicks (1.5 … 9 kHz)"),
    )
    variant_defaults: ClassVar[Mapping[str, Mapping[str, float]]] = {
        "paper": {"crackle_rate_per_s": 400.0, "brightness": 0.73},
        "plastic": {"crackle_rate_per_s": 400.0, "brightness": 0.73},
        "foil": {"crackle_rate_per_s": 450.0, "brightness": 0.8},
    }
    chunk_size = 4096

    def _setup(self) -> None:
        self._mat = _MATERIAL[self.variant]
        self._centre_hz = 1500.0 * 2.0 ** (2.6 * self.values["brightness"])  # 1.5 … 9.1 kHz
        self._buf2 = np.zeros((2, 0), dtype=np.float32)

    def _work(self, n_fft: int) -> np.ndarray:
        """A reused float32 ``(2, n_fft)`` FFT work buffer (grown as needed)."""
        if self._buf2.shape[1] < n_fft:
            self._buf2 = np.zeros((2, n_fft), dtype=np.float32)
        return self._buf2[:, :n_fft]

    def _event(self) -> tuple[np.ndarray, float]:
        rng, sr, mat = self.rng, self.sr, self._mat
        dur = self.values["gesture_s"] * rng.uniform(0.6, 1.4)
        n = int(dur * sr)
        # the squeeze: a swell with random sub-squeezes; mean over the gesture = 1
        squeeze, knots = _squeeze(n, int(rng.integers(4, 9)), rng)
        # crease avalanches: Poisson events, each 1 + Poisson(cluster) clicks
        cluster = mat["cluster"]
        events = _poisson_blocks(
            rng, knots * (self.values["crackle_rate_per_s"] / (1.0 + cluster)), sr
        )
        events = events[events < n]
        k = 1 + rng.poisson(cluster, len(events))
        lag = rng.exponential(mat["spread_ms"] * 1e-3 * sr, int(k.sum()))
        idx = np.minimum(np.repeat(events, k) + lag.astype(int), n - 1)
        amp = pareto_amplitudes(rng, len(idx), alpha=mat["alpha"], cap=mat["cap"])
        amp *= squeeze[idx] ** 1.1
        imp = np.bincount(idx, amp, n)
        # the clicks: each snap a noise burst with an exponential decay
        c = float(np.exp(-1000.0 / (mat["decay_ms"] * rng.uniform(0.8, 1.25) * sr)))
        n_fft = fft_len(n + _PAD)
        buf = self._work(n_fft)
        np.multiply(sps.lfilter([1.0], [1.0, -c], imp), gaussian_f32(rng, n), out=buf[0, :n])
        centre = min(self._centre_hz * rng.uniform(0.85, 1.18), 0.4 * sr)
        # the hands' rustle follows the squeeze
        np.multiply(gaussian_f32(rng, n), squeeze, out=buf[1, :n])
        buf[1, :n] *= np.float32(mat["rustle"])
        buf[:, n:] = 0.0
        # the clicks through the sheet's band (band-pass × high-pass) plus the rustle
        # (low-pass × high-pass): zero-phase filters, both in one batched float32 FFT,
        # summed before one inverse transform
        spec = spf.rfft(buf, axis=-1)
        f, inv_f = _freqs(n_fft, sr)
        q = np.float32(mat["q"])
        g = np.multiply(f, q / np.float32(centre))
        g -= np.multiply(inv_f, q * np.float32(centre))
        g *= g
        g += np.float32(1.0)
        np.sqrt(g, out=g)
        np.divide(_highpass32(n_fft, sr, mat["hp_hz"]), g, out=g)
        spec[0] *= g
        g = np.multiply(f, np.float32(1.0 / (1.1 * centre)))
        g *= g
        g += np.float32(1.0)
        np.sqrt(g, out=g)
        np.divide(_highpass32(n_fft, sr, 300.0), g, out=g)
        spec[1] *= g
        spec[0] += spec[1]
        y = spf.irfft(spec[0], n_fft)[: n + _PAD]
        if mat["modes"]:
            # louder snaps ring in thin-shell / sheet modes (fresh frequencies each gesture)
            hit = np.flatnonzero(imp > 1.6)
            start = int(hit[0]) if len(hit) else n
            lo, hi = (1500.0, 5000.0) if self.variant == "plastic" else (3000.0, 12000.0)
            n_modes = int(mat["modes"])
            poles = np.empty(n_modes, dtype=np.complex128)
            gains = np.empty((n_modes, len(hit)))
            for m in range(n_modes):
                f0 = min(rng.uniform(lo, hi) * (0.6 + 0.8 * self.values["brightness"]), 0.42 * sr)
                r = np.exp(-1000.0 / (mat["ring_ms"] * rng.uniform(0.6, 1.4) * sr))
                poles[m] = r * np.exp(1j * 2 * np.pi * f0 / sr)
                # the drive: the big snaps with a random sign and strength
                signs = rng.integers(0, 2, len(hit)) * 2.0 - 1.0
                gains[m] = imp[hit] * signs * rng.uniform(0.3, 1.0)
            ring = resonator_bank(hit - start, gains, poles, n - start)
            y[start:n] += mat["pop"] * 0.25 * ring
        fade(y, sr, 5.0)
        y *= _LEVEL[self.variant] * rng.uniform(0.7, 1.2)
        # a gesture whose loudest snap would clip is played a little softer (a linear
        # gain: a limiter's distortion would turn the crackle into fire)
        peak = max(float(y.max()), -float(y.min()))
        if peak > _PEAK:
            y *= _PEAK / peak
        gap = dur * rng.uniform(0.85, 1.0) + rng.uniform(0.05, 0.6)
        return y, gap
