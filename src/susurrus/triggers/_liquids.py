"""Private helpers for the liquid and bed families (rain, water, breathing).

Vectorised synthesis of many short events at once — Minnaert bubbles, noise-burst
impacts, damped modes — and an overlap-add accumulator that lets a continuous
trigger scatter thousands of events per second into fixed-size chunks.

References
----------
M. Minnaert (1933), "On musical air-bubbles and the sounds of running water",
Phil. Mag. 16, 235–248: a gas bubble of radius ``r`` in water rings at
``f₀ = (1 / 2πr) √(3γ p₀ / ρ) ≈ 3.26 m·Hz / r``.

K. van den Doel (2005), "Physically based models for liquid sounds", ACM TAP 2(4):
bubble pressure ``p(t) = a sin(2π ∫ f dt) e^{−d t}`` with damping
``d = 0.043 f₀ + 0.0014 f₀^{3/2}`` (s⁻¹, f₀ in Hz; viscous, radiative and thermal
losses) and a rising pitch ``f(t) = f₀ (1 + ξ d t)`` as the bubble nears the surface.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .. import _signal as sps

FloatArray = NDArray[np.float64]


def minnaert_damping(f0_hz: FloatArray) -> FloatArray:
    """Bubble damping rate ``d`` (1/s) for resonance ``f0_hz`` (van den Doel 2005)."""
    f = np.asarray(f0_hz, dtype=np.float64)
    return 0.043 * f + 0.0014 * f**1.5


def bubbles(
    sr: float,
    f0_hz: FloatArray,
    amps: FloatArray,
    *,
    rise: FloatArray | float = 0.1,
    damping_scale: FloatArray | float = 1.0,
    max_duration_s: float = 0.08,
    attack_s: float = 0.0004,
    decay_db: float = 35.0,
    rng: np.random.Generator | None = None,
) -> NDArray[np.float32]:
    """A batch of Minnaert bubbles as rows of a float32 array ``(n, L)``.

    Row ``k`` is ``amps[k] · e^{−d t} sin(2π f₀ (t + ξ d t² / 2) + φ)`` with
    ``d = damping_scale · d(f₀)`` (see :func:`minnaert_damping`), ``ξ = rise`` (the
    fractional pitch rise per damping time) and a raised-cosine attack. ``L`` covers
    the slowest bubble's decay by ``decay_db``, capped at ``max_duration_s``.
    """
    f0 = np.asarray(f0_hz, dtype=np.float64).reshape(-1)
    n = len(f0)
    if n == 0:
        return np.zeros((0, 1), dtype=np.float32)
    d = minnaert_damping(f0) * np.broadcast_to(np.asarray(damping_scale, dtype=np.float64), (n,))
    xi = np.broadcast_to(np.asarray(rise, dtype=np.float64), (n,))
    dur = min(max_duration_s, decay_db / 8.686 / float(d.min()))
    # keep the chirp below Nyquist
    xi = np.where(f0 * (1 + xi * d * dur) < 0.45 * sr, xi, 0.0)
    length = max(2, int(dur * sr))
    t = (np.arange(length) / sr).astype(np.float32)
    phi = rng.uniform(0, 2 * np.pi, n) if rng is not None else np.zeros(n)
    # in place, two buffers: few large temporaries (allocation page faults dominate
    # the cost of these (n, L) arrays otherwise)
    y = np.multiply((0.5 * xi * d).astype(np.float32)[:, None], t[None, :])
    y += np.float32(1.0)
    y *= t[None, :]
    y *= (2 * np.pi * f0).astype(np.float32)[:, None]
    y += phi.astype(np.float32)[:, None]
    np.sin(y, out=y)
    env = np.multiply((-d).astype(np.float32)[:, None], t[None, :])
    np.exp(env, out=env)
    env *= np.asarray(amps, dtype=np.float32).reshape(-1)[:, None]
    y *= env
    na = max(1, int(attack_s * sr))
    if na > 1:
        y[:, :na] *= (0.5 - 0.5 * np.cos(np.pi * np.arange(na) / na)).astype(np.float32)
    return y


def add_bubbles(
    ola: OverlapAdd,
    sr: float,
    onsets: NDArray[np.integer],
    f0_hz: FloatArray,
    amps: FloatArray,
    *,
    rise: FloatArray | float = 0.1,
    damping_scale: FloatArray | float = 1.0,
    rng: np.random.Generator,
    max_duration_s: float = 0.08,
) -> None:
    """Synthesise bubbles (see :func:`bubbles`) and overlap-add them into ``ola``.

    Bubbles are batched by octave so that short, high bubbles are not computed
    over the length of the longest one.
    """
    f0 = np.asarray(f0_hz, dtype=np.float64).reshape(-1)
    if len(f0) == 0:
        return
    n = len(f0)
    on = np.asarray(onsets)
    amp = np.broadcast_to(np.asarray(amps, dtype=np.float64), (n,))
    xi = np.broadcast_to(np.asarray(rise, dtype=np.float64), (n,))
    ds = np.broadcast_to(np.asarray(damping_scale, dtype=np.float64), (n,))
    octave = np.floor(np.log2(np.maximum(f0, 1.0) / 250.0)).astype(int)
    for o in np.unique(octave):
        m = octave == o
        ola.add(
            on[m],
            bubbles(
                sr,
                f0[m],
                amp[m],
                rise=xi[m],
                damping_scale=ds[m],
                rng=rng,
                max_duration_s=max_duration_s,
            ),
        )


def decays(
    sr: float, taus_s: FloatArray, amps: FloatArray, *, max_duration_s: float = 0.01
) -> NDArray[np.float32]:
    """Exponential decays ``amps[k] · e^{−t/τ_k}`` as rows ``(n, L)`` (float32).

    Scattered into an envelope and multiplied by white noise, these make impact
    clicks: each click is then a fresh noise burst, never the same twice.
    """
    taus = np.asarray(taus_s, dtype=np.float64).reshape(-1)
    n = len(taus)
    if n == 0:
        return np.zeros((0, 1), dtype=np.float32)
    length = max(2, int(min(max_duration_s, 4.6 * float(taus.max())) * sr))
    t = (np.arange(length) / sr).astype(np.float32)
    y = np.multiply((-1.0 / taus).astype(np.float32)[:, None], t[None, :])
    np.exp(y, out=y)
    y *= np.asarray(amps, dtype=np.float32).reshape(-1)[:, None]
    return y


def damped_modes(
    sr: float,
    freqs_hz: FloatArray,
    decays_s: FloatArray,
    amps: FloatArray,
    rng: np.random.Generator,
    *,
    max_duration_s: float = 0.1,
    attack_s: float = 0.0003,
    decay_db: float = 35.0,
) -> NDArray[np.float32]:
    """Modal impacts, one per row: ``Σ_m amps[k,m] e^{−t/τ[k,m]} sin(2π f[k,m] t + φ)``.

    ``freqs_hz``, ``decays_s`` and ``amps`` have shape ``(n, M)`` (M modes per event).
    Rows last until the slowest mode has decayed by ``decay_db`` (float32 output).
    """
    f = np.atleast_2d(np.asarray(freqs_hz, dtype=np.float64))
    tau = np.atleast_2d(np.asarray(decays_s, dtype=np.float64))
    a = np.atleast_2d(np.asarray(amps, dtype=np.float64))
    n = f.shape[0]
    if n == 0:
        return np.zeros((0, 1), dtype=np.float32)
    a = np.where(f < 0.45 * sr, a, 0.0)
    length = max(2, int(min(max_duration_s, decay_db / 8.686 * float(tau.max())) * sr))
    t = (np.arange(length) / sr).astype(np.float32)
    phi = rng.uniform(0, 2 * np.pi, f.shape).astype(np.float32)
    w = (2 * np.pi * f).astype(np.float32)
    inv = (1.0 / tau).astype(np.float32)
    a32 = a.astype(np.float32)
    y = np.zeros((n, length), dtype=np.float32)
    env = np.empty((n, length), dtype=np.float32)
    osc = np.empty((n, length), dtype=np.float32)
    for m in range(f.shape[1]):  # few modes: loop over modes, vectorise over events
        np.multiply(-inv[:, m, None], t[None, :], out=env)
        np.exp(env, out=env)
        env *= a32[:, m, None]
        np.multiply(w[:, m, None], t[None, :], out=osc)
        osc += phi[:, m, None]
        np.sin(osc, out=osc)
        osc *= env
        y += osc
    na = max(1, int(attack_s * sr))
    if na > 1:
        y[:, :na] *= (0.5 - 0.5 * np.cos(np.pi * np.arange(na) / na)).astype(np.float32)
    return y


def white(rng: np.random.Generator, n: int) -> NDArray[np.float32]:
    """``n`` samples of fast white noise, uniform on [−√3, √3) (unit variance), float32.

    Drawn from raw random bytes: an order of magnitude faster than Gaussian draws;
    after any filtering or envelope the difference is inaudible.
    """
    b = np.frombuffer(rng.bytes(2 * n), dtype=np.int16).astype(np.float32)
    b *= np.float32(np.sqrt(3.0) / 32768.0)
    return b


class IIR32:
    """``scipy.signal.lfilter`` in float32 with its state carried between blocks.

    Like :class:`susurrus.dsp.StatefulIIR` but staying in single precision (half the
    memory traffic; ample for the low-order, well-conditioned filters used here).
    State: the filter memories ``zi``.
    """

    def __init__(self, b: NDArray[np.floating], a: NDArray[np.floating]) -> None:
        self.b = np.asarray(b, dtype=np.float32)
        self.a = np.asarray(a, dtype=np.float32)
        self._zi = np.zeros(max(len(self.a), len(self.b)) - 1, dtype=np.float32)

    def __call__(self, x: NDArray[np.floating]) -> NDArray[np.float32]:
        y, self._zi = sps.lfilter(self.b, self.a, np.asarray(x, dtype=np.float32), zi=self._zi)
        return np.asarray(y, dtype=np.float32)


class OverlapAdd:
    """An accumulator that events are scattered into and fixed chunks popped from.

    State kept between chunks: the pending samples (event tails that reach past the
    current chunk). Positions are in samples from the start of the next chunk to pop.

    The accumulator is float32 and double-buffered: two preallocated buffers that
    only grow, so steady-state streaming allocates nothing but the popped chunk
    (allocating fresh mid-sized arrays every chunk costs more in page faults than
    the arithmetic).
    """

    def __init__(self) -> None:
        self._acc = np.zeros(1, dtype=np.float32)
        self._spare = np.zeros(1, dtype=np.float32)
        self._used = 0  # samples that may be non-zero; both buffers are zero beyond

    def _reserve(self, need: int) -> NDArray[np.float32]:
        """Make room for ``need`` samples; returns the live buffer."""
        if need > len(self._acc):
            cap = max(need, 2 * len(self._acc))
            grown = np.zeros(cap, dtype=np.float32)
            grown[: self._used] = self._acc[: self._used]
            self._acc = grown
            self._spare = np.zeros(cap, dtype=np.float32)
        self._used = max(self._used, need)
        return self._acc

    def add(self, onsets: NDArray[np.integer], waves: NDArray[np.floating]) -> None:
        """Add rows of ``waves`` (``(n, L)``) at integer ``onsets`` (``(n,)``, ≥ 0)."""
        w = np.asarray(waves)
        if w.size == 0 or len(onsets) == 0:
            return
        on = np.asarray(onsets, dtype=np.int64)
        length = w.shape[1]
        need = int(on.max()) + length
        acc = self._reserve(need)
        if length > 256:  # long rows: slice-adds are cheapest
            for o, row in zip(on.tolist(), w):
                acc[o : o + length] += row
        else:  # many short rows: one unbuffered scatter-add
            idx = on[:, None] + np.arange(length)[None, :]
            np.add.at(acc, idx.ravel(), w.astype(np.float32, copy=False).ravel())

    def add_one(self, onset: int, wave: NDArray[np.floating]) -> None:
        """Add one 1-D waveform at ``onset``."""
        w = np.asarray(wave).reshape(-1)
        end = int(onset) + len(w)
        self._reserve(end)[int(onset) : end] += w

    def pop(self, n: int) -> NDArray[np.float32]:
        """The next ``n`` samples (float32; zeros where nothing was added)."""
        acc = self._reserve(n)
        out = acc[:n].copy()
        rest = self._used - n
        if rest > 0:
            self._spare[:rest] = acc[n : self._used]
        acc[: self._used] = 0.0
        self._acc, self._spare = self._spare, acc
        self._used = max(rest, 0)
        return out


def smooth_random_gain(
    rng: np.random.Generator, prev: float, n: int, *, depth_db: float, pull: float = 0.1
) -> tuple[NDArray[np.float32], float]:
    """A slowly wandering gain (a mean-reverting random walk in dB), ramped over ``n`` samples.

    Returns the per-sample linear gain ramp from ``prev`` (dB) to the new value
    (linear in amplitude), and the new value in dB.
    """
    new = prev * (1.0 - pull) + rng.normal(0.0, depth_db * np.sqrt(2 * pull))
    g0, g1 = 10.0 ** (prev / 20.0), 10.0 ** (new / 20.0)
    ramp = np.arange(n, dtype=np.float32)
    ramp *= np.float32((g1 - g0) / n)
    ramp += np.float32(g0)
    return ramp, float(new)


def soft_limit(
    y: NDArray[np.floating], *, knee: float = 0.5, ceiling: float = 0.7
) -> NDArray[np.floating]:
    """Memoryless soft limiter: identity below ``knee``, tanh toward ``ceiling`` above."""
    if y.size == 0 or max(float(y.max()), -float(y.min())) <= knee:
        return y  # the common case, found by two reductions and no temporaries
    a = np.abs(y)
    over = a > knee
    span = ceiling - knee
    out = y.copy()
    out[over] = np.sign(y[over]) * (knee + span * np.tanh((a[over] - knee) / span))
    return out


class LowRateOverlapAdd:
    """An :class:`OverlapAdd` running at ``sr / factor``, popped at the full rate.

    Low-frequency events (membrane thumps, vessel resonances) are synthesised at a
    low rate — ``factor`` times cheaper — and brought back to ``sr`` by linear
    interpolation (its images are ≥ 25 dB down for content below ``sr / (5 factor)``;
    callers low-pass further). State: the low-rate accumulator and its last sample.
    """

    def __init__(self, factor: int) -> None:
        self.factor = int(factor)
        self._ola = OverlapAdd()
        self._last = np.float32(0.0)
        self._frac = (np.arange(self.factor) / self.factor).astype(np.float32)

    def add(self, onsets: NDArray[np.integer], waves: NDArray[np.floating]) -> None:
        """Add rows of ``waves`` (sampled at ``sr / factor``) at full-rate ``onsets``."""
        self._ola.add(np.asarray(onsets) // self.factor, waves)

    def pop(self, n: int) -> NDArray[np.float32]:
        """The next ``n`` full-rate samples (``n`` must be a multiple of ``factor``)."""
        m = n // self.factor
        lo = np.empty(m + 1, dtype=np.float32)
        lo[0] = self._last
        lo[1:] = self._ola.pop(m)
        self._last = lo[-1]
        base = lo[:-1]
        step = lo[1:] - base
        out = np.empty(m * self.factor, dtype=np.float32)
        phases = out.reshape(m, self.factor)
        # one strided column per phase: broadcasting over a (m, factor) array with
        # its tiny inner dimension would cost several times more
        for j, frac in enumerate(self._frac):
            col = phases[:, j]
            np.multiply(step, frac, out=col)
            col += base
        return out


class BubbleBank:
    """A bank of distinct Minnaert bubbles, synthesised once, for dense populations.

    A brook or a pour has hundreds of bubbles a second; synthesising each one afresh
    would cost more than real time allows. The bank holds ``n`` different bubbles
    (random radius → f₀ log-uniform in ``f_lo_hz … f_hi_hz``, random chirp ``rise``
    and phase), sorted by f₀. Every use is varied further — random gain, polarity
    and a random start offset of 0–7 samples into the attack — so no two events in
    the output are sample-identical, and their random superposition never repeats.
    """

    def __init__(
        self,
        sr: float,
        rng: np.random.Generator,
        *,
        n: int = 384,
        f_lo_hz: float = 300.0,
        f_hi_hz: float = 4000.0,
        rise: tuple[float, float] = (0.1, 0.6),
        damping_scale: tuple[float, float] = (1.0, 1.6),
        max_duration_s: float = 0.06,
    ) -> None:
        self.f0 = np.sort(np.exp(rng.uniform(np.log(f_lo_hz), np.log(f_hi_hz), n)))
        xi = rng.uniform(*rise, n)
        ds = rng.uniform(*damping_scale, n)
        self.grains: list[NDArray[np.float32]] = []
        for lo in range(0, n, 32):
            sl = slice(lo, lo + 32)
            block = bubbles(
                sr,
                self.f0[sl],
                np.ones(len(self.f0[sl])),
                rise=xi[sl],
                damping_scale=ds[sl],
                rng=rng,
                max_duration_s=max_duration_s,
            )
            d = minnaert_damping(self.f0[sl]) * ds[sl]
            for row, dk in zip(block, d):
                keep = min(len(row), max(16, int(35.0 / 8.686 / dk * sr)))
                g = row[:keep].copy()
                fade = min(64, keep // 4)
                g[keep - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
                self.grains.append(g)
        self._log_f0 = np.log(self.f0)

    def pick(
        self, rng: np.random.Generator, k: int, centre_hz: float, spread_oct: float
    ) -> NDArray[np.int64]:
        """Indices of ``k`` bubbles with f₀ log-normally spread around ``centre_hz``."""
        target = rng.normal(np.log(centre_hz), spread_oct * np.log(2.0), k)
        idx = np.searchsorted(self._log_f0, target)
        return np.clip(idx, 0, len(self.f0) - 1)

    def add(
        self,
        ola: OverlapAdd,
        rng: np.random.Generator,
        onsets: NDArray[np.integer],
        idx: NDArray[np.integer],
        amps: FloatArray,
    ) -> None:
        """Overlap-add bubbles ``idx`` at ``onsets`` with gains ``amps`` (varied per use)."""
        k = len(onsets)
        if k == 0:
            return
        gains = np.asarray(amps, dtype=np.float64) * np.where(rng.random(k) < 0.5, -1.0, 1.0)
        skips = rng.integers(0, 8, k)
        grains = self.grains
        need = int(np.max(onsets)) + max(len(grains[i]) for i in idx)
        acc = ola._reserve(need)
        for o, i, g, s in zip(
            np.asarray(onsets).tolist(), np.asarray(idx).tolist(), gains.tolist(), skips.tolist()
        ):
            w = grains[i][s:]
            acc[o : o + len(w)] += np.float32(g) * w


class TimeVaryingResonator:
    """A two-pole resonator whose centre frequency may change every ``hop`` samples.

    ``y[n] = b0 x[n] − a1 y[n−1] − a2 y[n−2]`` with pole radius ``R = e^{−π B / sr}``
    (bandwidth ``B = f / Q``) and ``a1 = −2R cos(2π f / sr)``, ``a2 = R²``; gain
    normalised to about 1 at resonance. State: the two output memories.
    """

    def __init__(self, sr: float, q: float, hop: int = 1024) -> None:
        self.sr = float(sr)
        self.q = float(q)
        self.hop = int(hop)
        self._zi = np.zeros(2, dtype=np.float32)

    def __call__(self, x: NDArray[np.floating], f_hz: FloatArray) -> NDArray[np.float32]:
        """Filter ``x``; ``f_hz`` holds one centre frequency per hop (len(x)/hop values)."""
        x32 = np.asarray(x, dtype=np.float32)
        out = np.empty(len(x32), dtype=np.float32)
        f = np.asarray(f_hz, dtype=np.float64)
        r = np.exp(-np.pi * (f / self.q) / self.sr)
        w = 2 * np.pi * f / self.sr
        a1 = (-2.0 * r * np.cos(w)).astype(np.float32)
        a2 = (r * r).astype(np.float32)
        b0 = (2.0 * (1.0 - r) * np.sin(w)).astype(np.float32)
        one = np.float32(1.0)
        for j in range(len(f)):
            sl = slice(j * self.hop, (j + 1) * self.hop)
            out[sl], self._zi = sps.lfilter(
                b0[j : j + 1], np.array([one, a1[j], a2[j]]), x32[sl], zi=self._zi
            )
        return out
