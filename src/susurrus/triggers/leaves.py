"""Leaves: a tree's leaves rustling in a gusty wind."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import scipy.signal as sps

from . import register
from ._friction import pareto_amplitudes, soft_limit
from .base import Param, Trigger

JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "wind": {"wind_speed_m_s": 8.0, "gustiness": 0.8},
}

_LEVEL = 0.15  # calibrated: about −20 dBFS RMS at the defaults
_CHUNK = 16384
_CTRL = 256  # samples per control step of the gust process


@register
class Leaves(Trigger):
    """Leaves rustling in gusty wind.

    Physics
    -------
    Wind speed near the ground is gusty: a slowly varying mean with log-normal
    gusts of a few seconds (modelled here as an Ornstein–Uhlenbeck process in
    log-speed, time constant ≈ 2.5 s, depth ``gustiness``). The drag on a leaf grows
    with the square of the speed, so the rate of leaf-on-leaf collisions and flutter
    slaps grows ~``u²`` and their level ~``u``; each collision is a short, dry click
    (a 0.5–3 ms noise burst; small stiff leaves bright, around 3–8 kHz, larger ones
    darker, 1.5–3 kHz) whose energies are heavy-tailed as for other crackle
    (Kramer & Lobkovsky 1996). Under the rustle, the wind itself: turbulent
    low-frequency noise (below ~500 Hz) that follows the same gusts.

    Continuous source: a fixed-size chunk loop with filter and gust state carried
    over, so the stream does not depend on how callers cut it.
    """

    family = "leaves"
    description = "Leaves rustling in a gusty wind"
    params = (
        Param("wind_speed_m_s", 4.0, 0.5, 15.0, "m/s", "mean wind speed"),
        Param("gustiness", 0.5, 0.0, 1.0, "", "depth of the gusts"),
        Param(
            "rustle_density_per_s", 900.0, 50.0, 6000.0, "1/s", "leaf clicks per second at 4 m/s"
        ),
        Param("brightness", 0.5, 0.0, 1.0, "", "small, stiff leaves (1) or large, soft (0)"),
    )
    variant_defaults: ClassVar[Mapping[str, Mapping[str, float]]] = {"wind": {}}

    def _setup(self) -> None:
        sr, b = self.sr, self.values["brightness"]
        self._ou = 0.0  # log-gust state
        self._g_prev = 1.0
        hi = min(3500.0 * 2.0 ** (1.2 * b), 0.4 * sr)
        lo = 1200.0 * 2.0 ** (1.2 * b)
        self._bands = [
            sps.butter(2, [hi / 1.8, min(hi * 1.8, 0.45 * sr)], "bandpass", fs=sr, output="sos"),
            sps.butter(2, [lo / 1.6, lo * 1.6], "bandpass", fs=sr, output="sos"),
        ]
        self._band_zi = [np.zeros((s.shape[0], 2)) for s in self._bands]
        self._decay = [np.exp(-1000.0 / (ms * sr)) for ms in (0.7, 1.8)]
        self._env_zi = [np.zeros(1), np.zeros(1)]
        self._wind = sps.butter(2, [40.0, 450.0], "bandpass", fs=sr, output="sos")
        self._wind_zi = np.zeros((self._wind.shape[0], 2))

    def _gust(self) -> np.ndarray:
        """Per-sample gust factor for one chunk (mean ≈ 1, log-normal)."""
        k = _CHUNK // _CTRL
        dt = _CTRL / self.sr
        theta = dt / 2.5
        sigma = 0.75 * self.values["gustiness"]
        steps = np.empty(k)
        x = self._ou
        noise = self.rng.standard_normal(k)
        for i in range(k):
            x += -theta * x + sigma * np.sqrt(2 * theta) * noise[i]
            steps[i] = x
        self._ou = x
        g = np.exp(steps - 0.5 * sigma**2)
        ctrl = np.concatenate([[self._g_prev], g])
        self._g_prev = float(g[-1])
        return np.interp(np.arange(_CHUNK), np.arange(k + 1) * _CTRL, ctrl)

    def _generate(self) -> np.ndarray:
        rng, sr = self.rng, self.sr
        u = self.values["wind_speed_m_s"] * self._gust()
        rel = u / 4.0
        out = np.zeros(_CHUNK)
        rate = self.values["rustle_density_per_s"] * rel**2
        for j, share in enumerate((0.6, 0.4)):
            lam = np.cumsum(rate * share) / sr
            total = float(lam[-1])
            count = int(rng.poisson(total))
            marks = rng.uniform(0.0, total, count)
            idx = np.minimum(np.searchsorted(lam, marks), _CHUNK - 1)
            imp = np.zeros(_CHUNK)
            np.add.at(imp, idx, pareto_amplitudes(rng, count, alpha=1.6, cap=16.0) * rel[idx])
            c = self._decay[j]
            env, self._env_zi[j] = sps.lfilter([1.0], [1.0, -c], imp, zi=self._env_zi[j])
            clicks = env * rng.standard_normal(_CHUNK)
            band, self._band_zi[j] = sps.sosfilt(self._bands[j], clicks, zi=self._band_zi[j])
            out += band
        wind, self._wind_zi = sps.sosfilt(
            self._wind, rng.standard_normal(_CHUNK) * rel, zi=self._wind_zi
        )
        out = out * 0.35 + 0.6 * wind * rel
        return soft_limit(out * _LEVEL)
