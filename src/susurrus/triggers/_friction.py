"""Private helpers for the friction and crackle families (scratching, writing, crinkling,
brushing, page turning, leaves).

Physics shared by these sounds
------------------------------
*Friction noise.* When one surface slides over another, the contact is a population
of asperities that stick, load and slip. Each slip is a micro-impulse; their sum is a
noise whose level and brightness grow with the contact force and the sliding speed
(Akay 2002, "Acoustics of friction", JASA 111(4)). The surface texture sets the
spectrum: an asperity spacing ``λ`` swept at speed ``v`` excites the band around
``v / λ``, and the struck object (paper, board, bristle) colours it with its own
resonances. We model it as a *source–filter* sound: an excitation (Gaussian noise
for the many tiny contacts plus a sparse Poisson train of stick-slip impulses whose
rate is proportional to the speed) shaped by a material spectrum.

*Stroke kinematics.* A hand stroke follows the minimum-jerk velocity profile
``v(τ) = 30 τ² (1 − τ)²`` (Flash & Hogan 1985): accelerate, glide, decelerate. Real
strokes have a flatter glide; :func:`stroke_profile` blends the bell with a plateau.

*Crackle.* Crumpled sheets and dry leaves release stored elastic energy in sudden
snaps. Their energies follow a power law ``P(E) ∝ E^−α`` with α ≈ 1.3–1.6 (Kramer &
Lobkovsky 1996, "Universal power law in the noise from a crumpled elastic sheet",
PRE 53(2)); :func:`pareto_amplitudes` draws amplitudes with that law (amplitude
``∝ √E``), truncated so a single snap cannot clip.

Everything here is stateless and vectorised; randomness comes from the caller's
``numpy.random.Generator``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.fft as spf
import scipy.signal as sps

GainFn = Callable[[np.ndarray], np.ndarray]


# -- spectra -------------------------------------------------------------------------------


def bandpass_gain(f: np.ndarray, centre_hz: float, q: float) -> np.ndarray:
    """Magnitude of a second-order band-pass (resonance) at ``centre_hz`` with quality ``q``."""
    f = np.maximum(np.asarray(f, dtype=np.float64), 1e-3)
    x = f / centre_hz - centre_hz / f
    return 1.0 / np.sqrt(1.0 + (q * x) ** 2)


def highpass_gain(f: np.ndarray, cutoff_hz: float, order: int = 2) -> np.ndarray:
    """Butterworth high-pass magnitude."""
    f = np.maximum(np.asarray(f, dtype=np.float64), 1e-3)
    return 1.0 / np.sqrt(1.0 + (cutoff_hz / f) ** (2 * order))


def lowpass_gain(f: np.ndarray, cutoff_hz: float, order: int = 2) -> np.ndarray:
    """Butterworth low-pass magnitude."""
    f = np.asarray(f, dtype=np.float64)
    return 1.0 / np.sqrt(1.0 + (f / cutoff_hz) ** (2 * order))


def shape(x: np.ndarray, sr: int, gain: GainFn, *, pad: int = 1024) -> np.ndarray:
    """Filter ``x`` with the zero-phase magnitude ``gain(f_hz)`` (FFT, zero padded).

    Returns an array of ``len(x) + pad`` samples (the filter's ring-out after the end).
    The response is zero-phase, so a ring-out of ``pad / 2`` samples also precedes each
    transient; callers keep events padded at the start when it matters.
    """
    n = len(x) + pad
    n_fft = spf.next_fast_len(n, real=True)
    f = np.fft.rfftfreq(n_fft, 1.0 / sr)
    spec = spf.rfft(x, n_fft) * gain(f)
    return np.asarray(spf.irfft(spec, n_fft)[:n])


# -- kinematics ----------------------------------------------------------------------------


def stroke_profile(
    n: int, rng: np.random.Generator, *, glide: float = 0.5, tremor: float = 0.08
) -> np.ndarray:
    """Normalised speed (peak ≈ 1) over a stroke of ``n`` samples.

    A blend of the minimum-jerk bell ``30 τ² (1 − τ)²`` (Flash & Hogan 1985) and a
    plateau with raised-cosine ramps (``glide`` = the plateau's share, 0–1), times a
    slow random tremor of relative depth ``tremor``.
    """
    n = max(2, int(n))
    tau = np.linspace(0.0, 1.0, n)
    bell = 16.0 * tau**2 * (1.0 - tau) ** 2  # peak 1 at τ = 1/2
    ramp = max(1e-3, (1.0 - glide) / 2.0)
    up = np.clip(tau / ramp, 0.0, 1.0)
    down = np.clip((1.0 - tau) / ramp, 0.0, 1.0)
    plateau = (0.5 - 0.5 * np.cos(np.pi * up)) * (0.5 - 0.5 * np.cos(np.pi * down))
    v = (1.0 - glide) * bell + glide * plateau
    if tremor > 0:
        k = 6
        knots = 1.0 + tremor * rng.standard_normal(k)
        v = v * np.interp(tau, np.linspace(0, 1, k), knots)
    return np.maximum(v, 0.0)


def smooth_random(n: int, rng: np.random.Generator, n_knots: int) -> np.ndarray:
    """A smooth random curve (cubic-ish interpolation of Gaussian knots), length ``n``."""
    n_knots = max(2, int(n_knots))
    knots = rng.standard_normal(n_knots)
    x = np.linspace(0, n_knots - 1, n)
    i = np.minimum(np.floor(x).astype(int), n_knots - 2)
    t = x - i
    s = t * t * (3 - 2 * t)  # smoothstep
    return knots[i] * (1 - s) + knots[i + 1] * s


# -- excitations ---------------------------------------------------------------------------


def pareto_amplitudes(
    rng: np.random.Generator, k: int, *, alpha: float = 1.4, cap: float = 30.0
) -> np.ndarray:
    """``k`` amplitudes ``√E`` with energies ``E`` ~ Pareto(α) ≥ 1, truncated at ``cap``.

    Energy law of crumpling noise (Kramer & Lobkovsky 1996): ``P(E) ∝ E^−α``.
    Inverse-CDF sampling: ``E = u^{−1/(α−1)}`` for ``u`` uniform in (0, 1]; the returned
    amplitudes are ``√E`` clipped to ``√cap``.
    """
    u = rng.uniform(1e-9, 1.0, k)
    energy = np.minimum(u ** (-1.0 / (alpha - 1.0)), cap)
    return np.sqrt(energy)


def poisson_times(rng: np.random.Generator, rate_per_s: np.ndarray, sr: int) -> np.ndarray:
    """Sample indices of an inhomogeneous Poisson process with intensity ``rate_per_s[n]``.

    Time-rescaling: draw a homogeneous unit-rate process on the cumulative intensity
    ``Λ(t) = ∫ rate`` and map it back with ``Λ⁻¹`` (searchsorted).
    """
    lam = np.cumsum(np.maximum(rate_per_s, 0.0)) / sr
    total = float(lam[-1]) if len(lam) else 0.0
    if total <= 0:
        return np.zeros(0, dtype=int)
    k = int(rng.poisson(total))
    marks = np.sort(rng.uniform(0.0, total, k))
    return np.minimum(np.searchsorted(lam, marks), len(lam) - 1)


def impulse_train(
    rng: np.random.Generator,
    rate_per_s: np.ndarray,
    sr: int,
    *,
    alpha: float = 1.6,
    cap: float = 20.0,
    level: np.ndarray | None = None,
) -> np.ndarray:
    """Stick-slip (or crackle) impulses: Poisson times at ``rate_per_s``, Pareto amplitudes
    with random sign, scaled by ``level`` at their instants (default 1)."""
    n = len(rate_per_s)
    out = np.zeros(n)
    idx = poisson_times(rng, rate_per_s, sr)
    if len(idx):
        amp = pareto_amplitudes(rng, len(idx), alpha=alpha, cap=cap)
        amp *= rng.choice((-1.0, 1.0), len(idx))
        if level is not None:
            amp *= level[idx]
        np.add.at(out, idx, amp)
    return out


def decaying_bursts(
    rng: np.random.Generator, impulses: np.ndarray, sr: int, decay_ms: float
) -> np.ndarray:
    """Turn an impulse train into noise bursts with exponential decay ``decay_ms``.

    The impulse train is smoothed by a one-pole filter (``exp(−t/τ)``) into an amplitude
    envelope that multiplies white noise: every impulse becomes a short crackle burst.
    """
    c = float(np.exp(-1000.0 / (decay_ms * sr)))
    env = sps.lfilter([1.0], [1.0, -c], np.abs(impulses))
    return np.asarray(env) * rng.standard_normal(len(impulses))


def fade(x: np.ndarray, sr: int, ms: float = 3.0) -> np.ndarray:
    """Raised-cosine fade-in and fade-out of ``ms`` each (in place, also returned)."""
    k = min(len(x) // 2, max(1, int(ms * 1e-3 * sr)))
    if k > 1:
        w = 0.5 - 0.5 * np.cos(np.pi * np.arange(k) / k)
        x[:k] *= w
        x[len(x) - k :] *= w[::-1]
    return x


def rms(x: np.ndarray) -> float:
    """Root mean square (0 for an empty array)."""
    return float(np.sqrt(np.mean(np.square(x)))) if len(x) else 0.0


def friction_stroke(
    rng: np.random.Generator,
    sr: int,
    speed_m_s: np.ndarray,
    *,
    texture_m: float,
    gain: GainFn,
    grain: float = 0.5,
    decay_ms: float = 0.3,
    pad: int = 512,
) -> np.ndarray:
    """One friction stroke: noise plus stick-slip impulses, shaped by a material spectrum.

    Parameters
    ----------
    speed_m_s
        The sliding speed at every sample (m/s). The contact level follows the speed
        (relative to the stroke's peak); stick-slip impulses arrive at the rate
        ``v / texture_m`` (one per asperity passed).
    texture_m
        Asperity spacing λ of the surface (m).
    gain
        Material magnitude response ``gain(f_hz)``.
    grain
        Share (0–1) of the impulsive, grainy part in the excitation (the rest is the
        smooth noise of the many tiny contacts).
    decay_ms
        Decay of each stick-slip micro-burst.

    Returns
    -------
    numpy.ndarray
        ``len(speed_m_s) + pad`` samples (ring-out included), unit-ish RMS at the peak
        speed; the caller scales the level.
    """
    v = np.asarray(speed_m_s, dtype=np.float64)
    peak = float(v.max()) if len(v) else 0.0
    if peak <= 0:
        return np.zeros(len(v) + pad)
    level = v / peak
    rate = v / texture_m
    imp = impulse_train(rng, rate, sr, level=level)
    bursts = decaying_bursts(rng, imp, sr, decay_ms)
    # normalise the grainy part to the smooth part's power at the same level
    mean_rate = max(float(rate.mean()), 1.0)
    bursts *= 1.0 / np.sqrt(mean_rate * decay_ms * 1e-3 * 2.0 + 1e-9)
    smooth = rng.standard_normal(len(v)) * level
    exc = (1.0 - grain) * smooth + grain * bursts
    return shape(exc, sr, gain, pad=pad)


def ridge_impulses(
    rng: np.random.Generator, rate_per_s: np.ndarray, sr: int, *, jitter: float = 0.05
) -> np.ndarray:
    """Quasi-periodic impulses from a regular texture: one per ridge passed.

    The ridge count is the integral of ``rate_per_s`` (= ``v / λ``); each time it
    crosses an integer an impulse fires, so a stroke's speed profile sweeps a harmonic
    comb (the "zip" of a nail over a ribbed surface). ``jitter`` is the relative
    irregularity of the ridge spacing. Amplitudes vary ±40 %.
    """
    n = len(rate_per_s)
    phase = np.cumsum(rate_per_s * (1.0 + jitter * rng.standard_normal(n))) / sr
    idx = np.nonzero(np.diff(np.floor(phase)) > 0)[0]
    out = np.zeros(n)
    out[idx] = rng.uniform(0.6, 1.4, len(idx))
    return out


#: the soft limiter's ceiling (−3.5 dBFS)
CEILING = 0.67


def soft_limit(x: np.ndarray, ceiling: float = CEILING) -> np.ndarray:
    """Smooth saturation ``c·tanh(x / c)``: transparent at the −20 dBFS working level,
    it keeps the rare loudest crack (heavy-tailed energies) below ``ceiling``."""
    return ceiling * np.tanh(np.asarray(x) / ceiling)
