"""Leaves: a tree's leaves rustling in a gusty wind."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import scipy.signal as sps

from ..dsp import StatefulIIR
from . import register
from ._friction import CEILING, DirectIIR, pareto_amplitudes
from .base import Param, Trigger

JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "wind": {"wind_speed_m_s": 5.0, "gustiness": 0.7},
}

_LEVEL = 0.008  # calibrated: about −20 dBFS RMS at the defaults
_CHUNK = 16384
_CTRL = 256  # samples per control step of the gust and flutter processes
_FLUTTER_HZ = 9.0  # bandwidth of the leaves' collective flutter
_FLUTTER_DEPTH = 0.67  # standard deviation of the flutter in log-rate


@functools.lru_cache(maxsize=1)
def _offsets() -> np.ndarray:
    """Sample offsets 0 … _CTRL − 1 within a control step (float64, read-only)."""
    r = np.arange(_CTRL, dtype=np.float64)
    r.flags.writeable = False
    return r


@register
class Leaves(Trigger):
    """Leaves rustling in gusty wind.

    Physics
    -------
    Wind speed near the ground is gusty: a slowly varying mean with log-normal
    gusts of a few seconds (an Ornstein–Uhlenbeck process in log-speed, time
    constant ≈ 2.5 s, depth ``gustiness``). A canopy is thousands of leaves, each
    fluttering in the flow; a leaf brushing or tapping its neighbours is a tiny,
    soft contact — a 2–4 ms burst of friction noise — and there are thousands of
    them a second, so the sound is a *dense* rustle rather than separate clicks,
    with nearly uniform contact energies (light leaves, no stored elastic energy to
    snap). The drag on a leaf grows as ``u²``, so the contact rate grows ~``u²``,
    their amplitude ~``u``, and the sliding-friction part of the rustle (force ∝ u²
    times sliding speed ∝ u) in power ~``u³``. The canopy flutters collectively
    (clusters of leaves in the same eddy) — a random modulation of the contact rate
    below ~``_FLUTTER_HZ``. Leaves are thin plates: they radiate a band of ~0.5–3 kHz
    (small stiff leaves higher, ``brightness``). Under the rustle, the wind itself:
    faint turbulent noise around 200–650 Hz following the same gusts.

    Continuous source: a fixed-size chunk loop with filter, gust and flutter state
    carried over, so the stream does not depend on how callers cut it.
    """

    family = "leaves"
    description = "Leaves rustling in a gusty wind"
    params = (
        Param("wind_speed_m_s", 4.0, 0.5, 15.0, "m/s", "mean wind speed"),
        Param("gustiness", 0.4, 0.0, 1.0, "", "depth of the gusts"),
        Param(
            "rustle_density_per_s",
            3800.0,
            50.0,
            20000.0,
            "1/s",
            "leaf contacts per second at 4 m/s",
        ),
        Param("brightness", 0.5, 0.0, 1.0, "", "small, stiff leaves (1) or large, soft (0)"),
    )
    variant_defaults: ClassVar[Mapping[str, Mapping[str, float]]] = {"wind": {}}

    def _setup(self) -> None:
        sr = self.sr
        scale = 2.0 ** (2.0 * (self.values["brightness"] - 0.5))
        lo, hi = 450.0 * scale, min(3070.0 * scale, 0.4 * sr)
        self._band = DirectIIR(
            np.vstack(
                [
                    sps.butter(2, lo, "highpass", fs=sr, output="sos"),
                    sps.butter(2, hi, "lowpass", fs=sr, output="sos"),
                ]
            )
        )
        self._wind = DirectIIR(sps.butter(1, [200.0, 640.0], "bandpass", fs=sr, output="sos"))
        self._decay_ms = 2.8
        self._env = StatefulIIR(np.array([1.0]), np.array([1.0, -np.exp(-1.0 / (2.8e-3 * sr))]))
        self._ou = 0.0  # log-gust state
        self._g_prev = 1.0
        # flutter: smooth random knots every 1 / _FLUTTER_HZ s (smoothstep in between)
        self._knots = (float(self.rng.standard_normal()), float(self.rng.standard_normal()))
        self._knot_phase = 0.0

    def _gust(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-sample gust factor (mean ≈ 1, log-normal) and flutter (log, unit std)."""
        k = _CHUNK // _CTRL
        dt = _CTRL / self.sr
        theta = dt / 2.5
        sigma = 0.75 * self.values["gustiness"]
        # the Ornstein–Uhlenbeck recursion x ← (1 − θ) x + σ √(2θ) ξ as a one-pole filter
        noise = self.rng.standard_normal(k)
        noise *= sigma * np.sqrt(2 * theta)
        steps, _ = sps.lfilter([1.0], [1.0, theta - 1.0], noise, zi=[(1.0 - theta) * self._ou])
        self._ou = float(steps[-1])
        g = np.exp(steps - 0.5 * sigma**2)
        # linear interpolation between the control points, one row per control step
        # (the same arithmetic as numpy.interp: slope · offset + start)
        pts = np.concatenate([[self._g_prev], g])
        slope = np.diff(pts) / float(_CTRL)
        g_s = (slope[:, None] * _offsets() + pts[:-1, None]).reshape(-1)
        t = np.arange(_CHUNK)
        self._g_prev = float(g[-1])
        # flutter knots: smoothstep between consecutive knots; the phase rises, so each
        # knot interval is a slice of the chunk
        inc = _FLUTTER_HZ / self.sr
        phase = self._knot_phase + t * inc
        end = self._knot_phase + _CHUNK * inc
        n_new = int(np.floor(end))
        knots = np.concatenate([self._knots, self.rng.standard_normal(n_new)])
        f_s = np.empty(_CHUNK)
        edges = [0, *np.searchsorted(phase, np.arange(1, n_new + 1), side="left").tolist(), _CHUNK]
        for j in range(n_new + 1):
            sl = slice(edges[j], edges[j + 1])
            frac = phase[sl] - j
            smooth = frac * frac * (3.0 - 2.0 * frac)
            f_s[sl] = knots[j] * (1.0 - smooth) + knots[j + 1] * smooth
        self._knots = (float(knots[n_new]), float(knots[n_new + 1]))
        self._knot_phase = end - n_new
        return g_s, f_s

    def _generate(self) -> np.ndarray:
        rng, sr = self.rng, self.sr
        g, fl = self._gust()
        rel = self.values["wind_speed_m_s"] * g / 4.0
        flutter = np.exp(_FLUTTER_DEPTH * fl)
        density = self.values["rustle_density_per_s"]
        rate = density * rel**2 * flutter
        lam = np.cumsum(rate, out=rate)
        lam /= sr
        total = float(lam[-1])
        count = int(rng.poisson(total))
        idx = np.minimum(np.searchsorted(lam, rng.uniform(0.0, total, count)), _CHUNK - 1)
        imp = np.zeros(_CHUNK)
        np.add.at(imp, idx, pareto_amplitudes(rng, count, alpha=5.0, cap=7.0) * rel[idx])
        # each contact: a 2.8 ms decaying burst of noise; unit power at 4 m/s
        # (the arithmetic below is done in place, in the original order)
        contacts = self._env(imp)
        contacts *= rng.standard_normal(_CHUNK)
        contacts *= 1.0 / np.sqrt(density * self._decay_ms * 1e-3 / 2.0)
        friction = rng.standard_normal(_CHUNK)
        friction *= 2.0
        friction *= rel
        friction *= np.sqrt(flutter)
        contacts += friction
        rustle = self._band(contacts)
        wind = self._wind(rng.standard_normal(_CHUNK))
        wind *= 0.088
        wind *= rel**2
        rustle += wind
        rustle *= _LEVEL
        rustle /= CEILING  # soft_limit, in place
        np.tanh(rustle, out=rustle)
        rustle *= CEILING
        return rustle
