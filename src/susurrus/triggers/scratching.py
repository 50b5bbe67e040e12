"""Scratching: nails or a stiff object stroked back and forth across a textured surface."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from . import register
from ._friction import fade, gaussian_f32, highpass_gain, lowpass_gain, ridge_impulses
from ._strokes import RoomTone, peak_guard, speed_profile, swept_band
from .base import EventTrigger, Param

#: a second parameter setting per variant for the recognition test
JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "default": {"stroke_rate_hz": 3.0, "brightness": 0.65, "texture_mm": 0.4},
}

_LEVEL = 0.5  # calibrated: about −20 dBFS RMS at the defaults
_BED = 0.002  # room tone RMS (≈ −29 dB under the strokes)
_SWELL = 2.0  # level ∝ v^_SWELL (contact power grows faster than the speed)
_BAND = (0.55, 1.6)  # band centre at rest and at full speed, × the material centre
_WIDTH = 0.6  # Gaussian width of the moving band on the bank (natural-log frequency)
_Q = 0.8
_JITTER = 0.4
_DUTY = (0.7, 0.9)  # share of the period the nail is moving


@register
class Scratching(EventTrigger):
    """Slow scratching of a textured surface, in strokes back and forth.

    Physics
    -------
    A fingernail (or a stiff tip) pressed on a surface and dragged at speed ``v``
    passes one surface asperity every ``λ / v`` seconds; each passage is a
    stick-slip micro-impulse (Akay 2002). On a ridged texture the impulses are
    quasi-periodic — a harmonic comb at ``v / λ`` that glides up and down with the
    stroke's speed (the "zip" of a nail); the random roughness adds a smooth
    friction noise. The impulses excite the scratched object, whose response sets
    the colour (soft fabric or cardboard: dark, ≈ 1 kHz; hard board, plastic:
    bright, ≈ 4–6 kHz; ``brightness``); the contact's stiffness — and so the
    radiated band — rises with the sliding speed, so the band centre follows the
    speed (rendered as a moving band on a small filterbank, see
    :func:`~susurrus.triggers._strokes.swept_band`). Every stroke follows a
    minimum-jerk velocity profile with a glide (Flash & Hogan 1985); the contact
    power grows faster than the speed (level ∝ ``v^2``), so each stroke *swells*
    and fades. Strokes alternate direction (the push stroke is pressed a little
    harder than the pull), turn round in a short reversal, and now and then the
    hand pauses to reposition. Under it all, the faint tone of a quiet room.

    Parameters (see :attr:`params`): ``stroke_rate_hz`` strokes per second,
    ``stroke_speed_m_s`` peak sliding speed, ``texture_mm`` asperity spacing,
    ``roughness`` share of unridged noise, ``brightness`` material band 0–1.
    """

    family = "scratching"
    description = "Nails scratching a textured surface in slow back-and-forth strokes"
    params = (
        Param("stroke_rate_hz", 2.2, 0.5, 8.0, "Hz", "strokes per second (each way counts)"),
        Param("stroke_speed_m_s", 0.15, 0.02, 0.6, "m/s", "peak sliding speed of a stroke"),
        Param("texture_mm", 0.25, 0.03, 2.0, "mm", "ridge spacing of the surface"),
        Param("roughness", 0.6, 0.0, 1.0, "", "share of random (unridged) roughness noise"),
        Param("brightness", 0.5, 0.0, 1.0, "", "material band: soft fabric (0) to hard board (1)"),
    )
    variant_defaults: ClassVar[Mapping[str, Mapping[str, float]]] = {"default": {}}
    chunk_size = 16384

    def _setup(self) -> None:
        b = self.values["brightness"]
        self._centre_hz = 1000.0 * 2.0 ** (2.6 * b)  # 1 … 6 kHz
        self._direction = 1
        self._until_pause = int(self.rng.integers(6, 16))
        self._room = RoomTone(self.sr, _BED, hp_hz=100.0, lp_hz=2000.0, normal=gaussian_f32)
        self._commons: dict[int, np.ndarray] = {}

    def _common(self, f: np.ndarray) -> np.ndarray:
        """The contact's high-pass and the tip's low-pass on the bins ``f`` (cached by
        grid size; the grids come from one cached table per FFT size)."""
        g = self._commons.get(len(f))
        if g is None:
            g = self._commons[len(f)] = highpass_gain(f, 150.0, 2) * lowpass_gain(f, 16000.0, 2)
        return g

    def _bed(self, n: int) -> np.ndarray:
        return self._room(self.rng, n)

    def _event(self) -> tuple[np.ndarray, float]:
        rng, sr = self.rng, self.sr
        period = 1.0 / self.values["stroke_rate_hz"]
        n = int(period * rng.uniform(*_DUTY) * sr)
        v_peak = self.values["stroke_speed_m_s"] * rng.uniform(0.8, 1.2)
        v = speed_profile(n, rng, glide=rng.uniform(0.2, 0.45), tremor=0.15)
        lam = self.values["texture_mm"] * 1e-3 * rng.uniform(0.9, 1.1)
        rate = v_peak * np.maximum(v, 0.02) / lam
        ridges = ridge_impulses(rng, rate, sr, jitter=_JITTER, normal=gaussian_f32)
        rough = self.values["roughness"]
        # unit power at the mean rate
        ridges *= (1.0 - rough) * np.sqrt(sr / max(float(rate.mean()), 50.0))
        # the excitation ((1 − rough) · ridges + rough · noise) · v^_SWELL, in float32
        exc = gaussian_f32(rng, n)
        exc *= np.float32(rough)
        np.add(exc, ridges, out=exc)
        exc *= v**_SWELL
        centre = self._centre_hz * rng.uniform(0.85, 1.18)
        lo, hi = np.log(centre * _BAND[0]), np.log(min(centre * _BAND[1], 0.4 * sr))
        y = swept_band(
            exc,
            sr,
            lo + (hi - lo) * v / max(float(v.max()), 1e-9),
            n_bands=4,
            width=_WIDTH,
            q=_Q,
            common=self._common,
            pad=512,
            few_sizes=True,  # the stroke fades in and out: float32 rounding apart
        )
        fade(y, sr, 2.0)
        press = 1.0 if self._direction > 0 else rng.uniform(0.65, 0.9)
        self._direction = -self._direction
        y *= _LEVEL * press * (v_peak / 0.15) ** 0.8 * rng.uniform(0.85, 1.15)
        peak_guard(y)
        gap = period * rng.uniform(0.88, 1.12)
        self._until_pause -= 1
        if self._until_pause <= 0:
            self._until_pause = int(rng.integers(6, 16))
            gap += rng.uniform(0.3, 1.0)
        return y, gap
