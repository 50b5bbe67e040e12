"""Leaves: a tree's leaves rustling in a gusty wind."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from .. import _signal as sps
from ..dsp import StatefulIIR
from . import register
from ._friction import CEILING, DirectIIR, gaussian_f32, pareto_amplitudes
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


@functools.lru_cache(maxsize=8)
def _ramp(sr: int) -> np.ndarray:
    """The flutter phase's rise over a chunk, ``n · _FLUTTER_HZ / sr`` (read-only)."""
    r = np.arange(_CHUNK) * (_FLUTTER_HZ / sr)
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
        self._g_prev = self.values["wind_speed_m_s"] / 4.0  # rel at the gust factor 1
        # flutter: smooth random knots every 1 / _FLUTTER_HZ s (smoothstep in between)
        self._knots = (float(self.rng.standard_normal()), float(self.rng.standard_normal()))
        self._knot_phase = 0.0

    def _gust(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-sample relative wind speed ``rel`` (the gust factor, mean ≈ 1 and
        log-normal, times speed / 4 m/s) and flutter ``f`` (log, unit std)."""
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
        g *= self.values["wind_speed_m_s"] / 4.0
        # linear interpolation between the control points, one row per control step
        # (the same arithmetic as numpy.interp: slope · offset + start)
        pts = np.concatenate([[self._g_prev], g])
        slope = np.diff(pts) / float(_CTRL)
        rel = np.multiply(slope[:, None], _offsets()).reshape(-1)
        rel.reshape(k, _CTRL)[...] += pts[:-1, None]
        self._g_prev = float(g[-1])
        # flutter knots: smoothstep between consecutive knots; the phase rises, so each
        # knot interval is a slice of the chunk
        inc = _FLUTTER_HZ / self.sr
        phase = _ramp(self.sr) + self._knot_phase
        end = self._knot_phase + _CHUNK * inc
        n_new = int(np.floor(end))
        knots = np.concatenate([self._knots, self.rng.standard_normal(n_new)])
        f_s = np.empty(_CHUNK)
        edges = [0, *np.searchsorted(phase, np.arange(1, n_new + 1), side="left").tolist(), _CHUNK]
        for j in range(n_new + 1):
            sl = slice(edges[j], edges[j + 1])
            # knots[j] (1 − s) + knots[j + 1] s with s = smoothstep(phase − j), in place
            frac = np.subtract(phase[sl], j, out=phase[sl])
            smooth = np.multiply(frac, -2.0, out=f_s[sl])
            smooth += 3.0
            smooth *= frac
            smooth *= frac
            smooth *= knots[j + 1] - knots[j]
            smooth += knots[j]
        self._knots = (float(knots[n_new]), float(knots[n_new + 1]))
        self._knot_phase = end - n_new
        return rel, f_s

    def _generate(self) -> np.ndarray:
        rng, sr = self.rng, self.sr
        rel, fl = self._gust()
        # s = rel · √flutter: the friction noise's amplitude / 2; the contact rate is
        # density · rel² · flutter = density · s²
        s = np.multiply(fl, 0.5 * _FLUTTER_DEPTH, out=fl)
        np.exp(s, out=s)
        s *= rel
        s2 = np.square(s, out=s)
        density = self.values["rustle_density_per_s"]
        lam = np.cumsum(s2)
        lam *= density / sr
        total = float(lam[-1])
        count = int(rng.poisson(total))
        idx = np.minimum(np.searchsorted(lam, rng.uniform(0.0, total, count)), _CHUNK - 1)
        amp = pareto_amplitudes(rng, count, alpha=5.0, cap=7.0)
        amp *= rel[idx]
        # each contact: a 2.8 ms decaying burst of noise (unit power at 4 m/s), plus the
        # sliding friction noise of std 2 s. Both are Gaussian and independent given
        # their levels, so their sum is one Gaussian noise of the summed variance:
        # std = √(env² / (density · decay / 2) + 4 s²), drawn once. The output gain
        # (level, limiter input scale) is folded in here.
        env = self._env(np.bincount(idx, amp, minlength=_CHUNK))
        gain = _LEVEL / CEILING
        env *= gain / np.sqrt(density * self._decay_ms * 1e-3 / 2.0)
        env *= env
        s2 *= (2.0 * gain) ** 2
        env += s2
        std = np.sqrt(env, out=env)
        std *= gaussian_f32(rng, _CHUNK)
        rustle = self._band(std)
        # the wind: faint band noise following the gusts (∝ rel²)
        wind = self._wind(gaussian_f32(rng, _CHUNK))
        rel *= rel
        rel *= 0.088 * gain
        wind *= rel
        # the soft limiter CEILING · tanh(x / CEILING), in float32 (the output's type)
        out = np.add(rustle, wind, out=np.empty(_CHUNK, dtype=np.float32))
        np.tanh(out, out=out)
        out *= np.float32(CEILING)
        return out
