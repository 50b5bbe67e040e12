"""Fire: a crackling fireplace — clustered, heavy-tailed pops over a faint flame bed."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .. import _signal as sps
from . import register
from ._friction import DirectIIR, random_signs
from .base import Param, Trigger

#: a second parameter setting per variant for the recognition test
JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "fireplace": {"crackle_density_per_s": 45.0, "brightness": 0.5},
}


_BLOCK = 128  # samples per block of the crack modes' matrix product


def _crack_modes(
    sr: int, n: int, f: np.ndarray, d: np.ndarray, g: np.ndarray, ph: np.ndarray
) -> np.ndarray:
    """Per row ``p``: ``Σ_k g·exp(−t/d)·sin(2π f t + φ)`` over ``n`` samples, ``t = m / sr``.

    Each mode is ``Im(c · r^m)`` with ``r = exp(−1/(d·sr) + i·2πf/sr)`` and
    ``c = g·e^{iφ}``; splitting ``m = B·j + i`` makes the sum one batched matrix product
    of block powers ``r^{Bj}`` and in-block powers ``r^i`` — the same values as an
    ``exp`` and a ``sin`` per sample and mode (to float64 rounding), far cheaper.
    """
    log_r = -1.0 / (d * sr) + 1j * 2.0 * np.pi * f / sr  # (P, K)
    nb = -(-n // _BLOCK)
    inner = np.exp(log_r[:, :, None] * np.arange(_BLOCK))  # (P, K, B)
    outer = np.exp(log_r[:, :, None] * (_BLOCK * np.arange(nb)))  # (P, K, nb)
    outer *= (g * np.exp(1j * ph))[:, :, None]
    # Im(o·i) = Re o · Im i + Im o · Re i, summed over the modes k
    left = np.concatenate([outer.real, outer.imag], axis=1).transpose(0, 2, 1)  # (P, nb, 2K)
    right = np.concatenate([inner.imag, inner.real], axis=1)  # (P, 2K, B)
    return np.matmul(left, right).reshape(len(f), -1)[:, :n]


@register
class Fire(Trigger):
    """A wood fire in a fireplace, heard close.

    Physics: *crackle* is the sudden rupture of wood cells and resin pockets as
    trapped water and gas flash to steam — a sub-millisecond pressure pulse
    ("pop") whose sizes follow a heavy-tailed (power-law, Pareto α ≈ 1.8)
    distribution, as in other crackling-noise systems (Sethna, Dahmen & Myers 2001).
    Ruptures trigger neighbours, so pops come in clusters: a Neyman–Scott process —
    cluster centres arrive as a Poisson process, each bringing a geometric number of
    pops spread over a few tens of milliseconds (mean gap ≈ 26 ms). Each pop is a
    pressure step (a click) followed by a short burst of turbulent venting noise
    (decay ≈ 0.2 ms); it radiates through the log and the embers, which band-limit
    it: small ruptures near the surface snap high (≈ 3–5 kHz), larger ones thump
    lower (≈ 0.4 kHz) — the probability of the low band grows with the pop's size.
    Between the pops, escaping steam and resin hiss faintly and sputter (noise in
    the high band whose level flickers), and the flames make a low turbulent *roar*
    (combustion noise below ≈ 250 Hz, its level wandering with a ≈ 0.8 s memory) —
    quiet next to the crackle when the fire is close (a loud roar reads as wind or
    noise, not fire).

    ``crackle_density_per_s`` is the mean number of pops per second; ``roar`` sets
    the flame bed level; ``brightness`` moves the pops' radiating band.

    Synthesis is vectorised per chunk: the cluster process is sampled ahead (pending
    pops carried into the next chunk); each pop writes its click and an exponentially
    decaying stretch of fresh noise into one of three radiation bands (the tails
    carried into the next chunk), and each band is filtered by a stateful Butterworth
    band-pass. Everything is fresh random noise, so the fire never loops; the output
    does not depend on how callers cut the stream.

    State kept between chunks: pending pop times and sizes, the filter memories, the
    hiss and roar flicker.
    """

    family = "fire"
    description = "A crackling fireplace"
    params = (
        Param(
            "crackle_density_per_s",
            30.0,
            0.5,
            80.0,
            "1/s",
            "mean number of crackle pops per second",
        ),
        Param("roar", 0.05, 0.0, 1.0, "", "level of the low flame roar under the crackle"),
        Param(
            "brightness", 0.65, 0.0, 1.0, "", "pop brightness: dull thumps (0) … sharp snaps (1)"
        ),
    )
    variant_defaults: ClassVar[dict[str, dict[str, float]]] = {"fireplace": {}}

    #: samples per internal chunk
    chunk_size: ClassVar[int] = 16384
    #: Butterworth order of the radiation band-passes
    _ORDER: ClassVar[int] = 2
    #: tunable constants of the model (see the class docstring)
    _K: ClassVar[dict[str, float]] = {
        "cluster_mean": 1.9,  # mean pops per cluster (geometric)
        "cluster_spread_s": 0.026,  # mean gap between pops of a cluster
        "pop_decay_s": 0.21e-3,  # venting-noise decay
        "click_level": 0.95,  # pressure-step click relative to the venting noise
        "band_low_hz": 375.0,  # centres of the three radiation bands at brightness 0.5
        "band_mid_hz": 2700.0,
        "band_high_hz": 4300.0,
        "band_q": 0.75,  # half-bandwidth 0.5/q octaves
        "hiss_level": 0.001,
        "pop_scale": 0.05,
        "crack_above": 0.2,  # pops this loud also crack a piece of wood (own modes)
        "crack_share": 0.6,  # share of such a pop's amplitude that rings the piece
        "pop_cap": 0.5,  # the loudest pop (10x the typical one)
    }

    def _setup(self) -> None:
        k = self._K
        sr = self.sr
        nyq = 0.5 * sr
        b = self.values["brightness"]
        tilt = 0.6 + 0.8 * b
        self._tilt = tilt
        self._bands: list[DirectIIR] = []
        for name in ("band_low_hz", "band_mid_hz", "band_high_hz"):
            fc = min(k[name] * tilt, 0.35 * sr)
            half = 2.0 ** (0.5 / k["band_q"])
            lo, hi = fc / half, min(fc * half, 0.45 * sr)
            sos = sps.butter(self._ORDER, [lo / nyq, hi / nyq], btype="band", output="sos")
            self._bands.append(DirectIIR(np.asarray(sos)))
        self._tail_len = max(8, int(8.0 * k["pop_decay_s"] * sr))
        self._env_shape = np.exp(-np.arange(self._tail_len) / (k["pop_decay_s"] * sr)).astype(
            np.float32
        )
        self._carry = np.zeros((3, self._tail_len))
        self._crack_len = int(0.07 * sr)
        self._crack_carry = np.zeros(self._crack_len)
        self._roar_lp = DirectIIR(np.asarray(sps.butter(2, 250.0 / nyq, output="sos")))
        self._pos = 0  # absolute sample index of the next chunk
        self._pending = np.zeros((0, 3))  # (absolute sample, amplitude, band)
        self._flicker = np.zeros(2)
        self._gain = np.array([1.0, 1.0])  # (roar, hiss) gains at the end of the last chunk
        self._schedule_until = 0

    def _schedule(self, until: int) -> None:
        """Sample the cluster process from the last scheduled sample up to ``until``."""
        k = self._K
        rng = self.rng
        sr = self.sr
        rate_c = self.values["crackle_density_per_s"] / k["cluster_mean"]
        start = self._schedule_until
        n_c = int(rng.poisson(rate_c * (until - start) / sr))
        if n_c:
            centres = np.sort(rng.uniform(start, until, n_c))
            counts = rng.geometric(1.0 / k["cluster_mean"], n_c)
            total = int(counts.sum())
            owner = np.repeat(np.arange(n_c), counts)
            gaps = rng.exponential(k["cluster_spread_s"] * sr, total)
            first = np.concatenate([[0], np.cumsum(counts)[:-1]])
            gaps[first] = 0.0  # the first pop of each cluster sits on the centre
            cum = np.cumsum(gaps)
            offs = cum - cum[first][owner]
            t = centres[owner] + offs
            amps = np.minimum(k["pop_scale"] * (1.0 + rng.pareto(1.8, total)), k["pop_cap"])
            amps *= rng.choice([-1.0, 1.0], total)
            # small ruptures snap high, big ones thump lower
            size = np.log(np.abs(amps) / k["pop_scale"])
            p_low = np.clip(0.15 + 0.35 * size, 0.05, 0.8)
            u = rng.random(total)
            band = np.where(u < p_low, 0, np.where(u < p_low + 0.5 * (1 - p_low), 1, 2))
            new = np.stack([t, amps, band.astype(float)], axis=1)
            self._pending = np.concatenate([self._pending, new])
        self._schedule_until = until

    def _generate(self) -> np.ndarray:
        n = self.chunk_size
        rng = self.rng
        k = self._K
        v = self.values
        end = self._pos + n
        self._schedule(end)
        due = self._pending[:, 0] < end
        pops, self._pending = self._pending[due], self._pending[~due]
        idx = np.clip((pops[:, 0] - self._pos).astype(int), 0, n - 1)
        band = pops[:, 2].astype(int)
        # each pop: a click (pressure step) plus exponentially decaying venting noise,
        # written sparsely into its band's excitation (the tail carries over)
        tail = self._tail_len
        exc = np.zeros((3, n + tail))
        exc[:, :tail] = self._carry
        seg = rng.standard_normal((len(pops), tail), dtype=np.float32) * self._env_shape
        seg[:, 0] += k["click_level"]
        amp = pops[:, 1:2].copy()
        # a loud pop is a piece of wood cracking: it rings that piece's own modes (a few
        # inharmonic modes, 0.3–5 kHz, 4–14 ms), so no two loud pops sound alike
        big = np.flatnonzero(amp[:, 0] > k["crack_above"])
        amp[big] *= 1.0 - k["crack_share"]
        cols = idx[:, None] + np.arange(tail)
        np.add.at(exc, (band[:, None], cols), amp * seg)
        self._carry = exc[:, n:].copy()
        exc = exc[:, :n]
        crack = np.zeros(n + self._crack_len)
        crack[: self._crack_len] = self._crack_carry
        if len(big):
            f = self._tilt * np.exp(rng.uniform(np.log(250.0), np.log(4000.0), (len(big), 4)))
            d = rng.uniform(4e-3, 14e-3, (len(big), 4))
            g = rng.uniform(0.2, 1.0, (len(big), 4)) * random_signs(rng, (len(big), 4))
            ph = rng.uniform(0, 2 * np.pi, (len(big), 4))
            modes = _crack_modes(self.sr, self._crack_len, f, d, g, ph)
            modes /= np.maximum(1e-9, np.abs(modes).max(axis=1, keepdims=True))
            for j, i in enumerate(big):
                s0 = idx[i]
                crack[s0 : s0 + self._crack_len] += k["crack_share"] * pops[i, 1] * modes[j]
        self._crack_carry = crack[n:].copy()
        # flame bed: roar and a sputtering hiss, each with a slowly wandering level
        a = float(np.exp(-n / (0.8 * self.sr)))  # AR(1) with a 0.8 s memory
        self._flicker = a * self._flicker + 0.66 * np.sqrt(1.0 - a * a) * rng.standard_normal(2)
        g_new = np.exp(np.array([0.35, 0.8]) * self._flicker)
        ramp = np.linspace(0.0, 1.0, n)
        # steam hiss radiates in the high band
        white = rng.standard_normal(n, dtype=np.float32)
        exc[2] += k["hiss_level"] * white * (self._gain[1] + (g_new[1] - self._gain[1]) * ramp)
        out = self._bands[0](exc[0]) + self._bands[1](exc[1]) + self._bands[2](exc[2]) + crack[:n]
        if v["roar"] > 0:
            roar = self._roar_lp(white)
            out += 0.07 * v["roar"] * roar * (self._gain[0] + (g_new[0] - self._gain[0]) * ramp)
        self._gain = g_new
        self._pos = end
        return out
