"""Fire: a crackling fireplace — clustered, heavy-tailed pops over a faint flame bed."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.signal as sps

from ..dsp import StatefulSOS
from . import register
from .base import Param, Trigger

#: a second parameter setting per variant for the recognition test
JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "fireplace": {"crackle_density_per_s": 14.0, "roar": 0.5},
}


@register
class Fire(Trigger):
    """A wood fire in a fireplace, heard close.

    Physics: *crackle* is the sudden rupture of wood cells and resin pockets as
    trapped water and gas flash to steam — a sub-millisecond pressure pulse
    ("pop") whose sizes follow a heavy-tailed (power-law, Pareto α ≈ 1.8)
    distribution, as in other crackling-noise systems (Sethna, Dahmen & Myers 2001).
    Ruptures trigger neighbours, so pops come in clusters: a Neyman–Scott process —
    cluster centres arrive as a Poisson process, each bringing a geometric number of
    pops spread over a few tens of milliseconds. Each pop is a pressure step (a
    click) followed by a short burst of turbulent venting noise (decay ≈ 0.3–1 ms);
    it radiates through the log and the embers, which band-limit it: small ruptures
    near the surface snap high (≈ 3–8 kHz), deeper or larger ones thump lower
    (≈ 0.5–1.5 kHz). Between the pops, escaping steam and resin hiss faintly and
    sputter (a high-passed noise whose level flickers), and the flames make a low
    turbulent *roar* (combustion noise, ≈ 1/f² below a few hundred Hz, flickering at
    ≈ 0.5–3 Hz) — quiet next to the crackle when the fire is close.

    ``crackle_density_per_s`` is the mean number of pops per second; ``roar`` sets
    the flame bed level; ``brightness`` moves the pops' radiating band.

    Synthesis is vectorised per chunk: the cluster process is sampled ahead (pending
    pops carried into the next chunk); each pop adds an impulse and an exponentially
    decaying noise envelope (a stateful one-pole) into one of three radiation bands,
    each band filtered by a stateful Butterworth band-pass. Everything is fresh random
    noise, so the fire never loops; the output does not depend on how callers cut
    the stream.

    State kept between chunks: pending pop times and sizes, the filter memories, the
    hiss and roar flicker.
    """

    family = "fire"
    description = "A crackling fireplace"
    params = (
        Param(
            "crackle_density_per_s",
            25.0,
            0.5,
            60.0,
            "1/s",
            "mean number of crackle pops per second",
        ),
        Param("roar", 0.15, 0.0, 1.0, "", "level of the low flame roar under the crackle"),
        Param("brightness", 0.5, 0.0, 1.0, "", "pop brightness: dull thumps (0) … sharp snaps (1)"),
    )
    variant_defaults: ClassVar[dict[str, dict[str, float]]] = {"fireplace": {}}

    #: samples per internal chunk
    chunk_size: ClassVar[int] = 8192
    #: tunable constants of the model (see the class docstring)
    _K: ClassVar[dict[str, float]] = {
        "cluster_mean": 3.0,  # mean pops per cluster (geometric)
        "cluster_spread_s": 0.012,  # mean gap between pops of a cluster
        "pop_decay_s": 0.5e-3,  # venting-noise decay
        "click_level": 0.5,  # pressure-step click relative to the venting noise
        "band_low_hz": 900.0,  # centres of the three radiation bands
        "band_mid_hz": 2500.0,
        "band_high_hz": 6000.0,
        "band_q": 0.9,  # bandwidth in octaves ~ 1/q
        "hiss_level": 0.01,
        "pop_scale": 0.05,
    }

    def _setup(self) -> None:
        k = self._K
        sr = self.sr
        nyq = 0.5 * sr
        b = self.values["brightness"]
        tilt = 0.6 + 0.8 * b
        self._bands: list[StatefulSOS] = []
        for name in ("band_low_hz", "band_mid_hz", "band_high_hz"):
            fc = min(k[name] * tilt, 0.35 * sr)
            half = 2.0 ** (0.5 / k["band_q"])
            lo, hi = fc / half, min(fc * half, 0.45 * sr)
            sos = sps.butter(2, [lo / nyq, hi / nyq], btype="band", output="sos")
            self._bands.append(StatefulSOS(np.asarray(sos)))
        self._env_zi = np.zeros((3, 1))
        self._env_a = float(np.exp(-1.0 / (k["pop_decay_s"] * sr)))
        self._roar_lp = StatefulSOS(np.asarray(sps.butter(2, 250.0 / nyq, output="sos")))
        self._hiss_hp = StatefulSOS(
            np.asarray(sps.butter(2, 3500.0 / nyq, btype="high", output="sos"))
        )
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
            amps = np.minimum(k["pop_scale"] * (1.0 + rng.pareto(1.8, total)), 0.8)
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
        imp = np.zeros((3, n))
        np.add.at(imp, (band, idx), pops[:, 1])
        env, self._env_zi = sps.lfilter([1.0], [1.0, -self._env_a], np.abs(imp), axis=1,
                                        zi=self._env_zi)
        noise = rng.standard_normal((3, n), dtype=np.float32).astype(np.float64)
        exc = k["click_level"] * imp + env * noise
        out = np.zeros(n)
        for j in range(3):
            out += self._bands[j](exc[j])
        # flame bed: roar and a sputtering hiss, each with a slowly wandering level
        self._flicker = 0.85 * self._flicker + 0.35 * rng.standard_normal(2)
        g_new = np.exp(np.array([0.35, 0.8]) * self._flicker)
        ramp = np.linspace(0.0, 1.0, n)
        white = rng.standard_normal(n, dtype=np.float32).astype(np.float64)
        roar = self._roar_lp(white) * (self._gain[0] + (g_new[0] - self._gain[0]) * ramp)
        hiss = self._hiss_hp(white) * (self._gain[1] + (g_new[1] - self._gain[1]) * ramp)
        self._gain = g_new
        out += 0.35 * v["roar"] * roar + k["hiss_level"] * hiss
        self._pos = end
        return out
