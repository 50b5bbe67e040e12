"""Fire: a crackling fireplace — Poisson-clustered pops over a roaring, hissing bed."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.signal as sps

from ..dsp import StatefulSOS
from . import register
from ._impacts import bandpass
from .base import EventTrigger, Param

#: a second parameter setting per variant for the recognition test
JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "fireplace": {"crackle_density_per_s": 14.0, "roar": 0.7},
}


@register
class Fire(EventTrigger):
    """A wood fire in a fireplace.

    Physics: *crackle* is the sudden rupture of wood cells and resin pockets as
    trapped water and gas flash to steam — a sub-millisecond pressure pulse
    ("pop") whose sizes follow a heavy-tailed (power-law) distribution, as in
    other crackling-noise systems (Sethna, Dahmen & Myers 2001). Ruptures trigger
    neighbours, so pops come in clusters: a Neyman–Scott process — cluster centres
    arrive as a Poisson process, each bringing a geometric number of pops spread
    over a few tens of milliseconds. The flames themselves make a low turbulent
    *roar* (combustion noise, broadband with a brown ≈ 1/f² spectrum below a few
    hundred Hz, flickering at ≈ 0.5–3 Hz) and a faint gas *hiss*.

    ``crackle_density_per_s`` is the mean number of pops per second; ``roar`` sets
    the bed level; ``brightness`` moves the pops' radiating band. Every pop is
    synthesised afresh and the bed is fresh noise, so the fire never loops.
    """

    family = "fire"
    description = "A crackling fireplace"
    params = (
        Param(
            "crackle_density_per_s",
            12.0,
            0.5,
            40.0,
            "1/s",
            "mean number of crackle pops per second",
        ),
        Param("roar", 0.3, 0.0, 1.0, "", "level of the low flame roar and hiss under the crackle"),
        Param("brightness", 0.5, 0.0, 1.0, "", "pop brightness: dull thumps (0) … sharp snaps (1)"),
    )
    variant_defaults: ClassVar[dict[str, dict[str, float]]] = {"fireplace": {}}
    chunk_size: ClassVar[int] = 8192

    #: mean pops per cluster (geometric)
    _CLUSTER_MEAN = 2.5

    def _setup(self) -> None:
        self._mod_state = np.zeros(2)
        nyq = 0.5 * self.sr
        self._roar_lp = StatefulSOS(
            np.asarray(sps.butter(2, 250.0 / nyq, btype="low", output="sos"))
        )
        self._hiss_hp = StatefulSOS(
            np.asarray(sps.butter(2, 3000.0 / nyq, btype="high", output="sos"))
        )
        self._flicker = float(self.rng.uniform(0.0, 1.0))

    def _pop(self, amp: float) -> np.ndarray:
        rng = self.rng
        sr = self.sr
        b = self.values["brightness"]
        dur = float(rng.uniform(0.2e-3, 1.5e-3)) * (1.3 - 0.6 * b)
        n = max(16, int(8 * dur * sr))
        t = np.arange(n) / sr
        x = rng.standard_normal(n) * np.exp(-t / dur)
        x[0] += 3.0 * rng.choice([-1.0, 1.0])
        fc = float(rng.uniform(800.0, 5000.0)) * (0.6 + 0.8 * b)
        x = bandpass(x, sr, fc / 2.5, min(fc * 2.5, 0.45 * sr))
        return amp * x / max(float(np.max(np.abs(x))), 1e-9)

    def _event(self) -> tuple[np.ndarray, float]:
        v = self.values
        rng = self.rng
        sr = self.sr
        k = int(rng.geometric(1.0 / self._CLUSTER_MEAN))
        offsets = np.concatenate([[0.0], np.cumsum(rng.exponential(0.012, k - 1))])
        # heavy-tailed pop sizes: Pareto (α = 1.8), clipped to keep peaks in range
        amps = np.minimum(0.04 * (1.0 + rng.pareto(1.8, k)), 0.6)
        n = int((offsets[-1] + 0.01) * sr) + 1
        y = np.zeros(n)
        for off, a in zip(offsets, amps, strict=True):
            p = self._pop(float(a))
            i = int(off * sr)
            m = min(len(p), n - i)
            y[i : i + m] += p[:m]
        rate = v["crackle_density_per_s"] / self._CLUSTER_MEAN
        return y, float(rng.exponential(1.0 / rate))

    def _bed(self, n: int) -> np.ndarray:
        v = self.values
        rng = self.rng
        # block-wise flicker gain: a slowly wandering log-amplitude (AR(1) per chunk)
        self._flicker = 0.9 * self._flicker + 0.3 * float(rng.standard_normal())
        g1 = float(self._mod_state[1])
        g_new = float(np.exp(0.35 * self._flicker))
        ramp = np.linspace(g1, g_new, n)
        self._mod_state = np.array([g1, g_new])
        # roar: white noise through a stateful low-pass chain (brown-ish below 300 Hz)
        white = rng.standard_normal(n, dtype=np.float32).astype(np.float64)
        roar = 0.6 * self._roar_lp(white) + 0.002 * self._hiss_hp(white)
        return v["roar"] * 0.6 * roar * ramp

    def _first_onset_s(self) -> float:
        self._mod_state = np.array([1.0, 1.0])
        return float(self.rng.exponential(0.2))
