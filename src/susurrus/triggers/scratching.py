"""Scratching: nails or a stiff object stroked back and forth across a textured surface."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from . import register
from ._friction import (
    bandpass_gain,
    fade,
    highpass_gain,
    ridge_impulses,
    shape,
    soft_limit,
    stroke_profile,
)
from .base import EventTrigger, Param

#: a second parameter setting per variant for the recognition test
JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "default": {"stroke_rate_hz": 4.5, "brightness": 0.7, "texture_mm": 0.25},
}

_LEVEL = 0.4  # calibrated: about −20 dBFS RMS at the defaults


@register
class Scratching(EventTrigger):
    """Slow scratching of a textured surface, in strokes back and forth.

    Physics
    -------
    A fingernail (or a stiff tip) pressed on a surface and dragged at speed ``v``
    passes one surface asperity every ``λ / v`` seconds; each passage is a
    stick-slip micro-impulse (Akay 2002). The impulses, plus the smooth noise of
    the many tiny contacts, excite the scratched object, whose band-pass response
    sets the colour (soft fabric or cardboard: dark, ≈ 1 kHz; hard board, plastic:
    bright, ≈ 4–6 kHz; ``brightness``). Every stroke follows a minimum-jerk
    velocity profile (Flash & Hogan 1985) with a glide: the impulse rate (∝ ``v``),
    the level (∝ contact power, ≈ ``v``) and the brightness rise and fall with it.
    Strokes alternate direction (the push stroke is pressed a little harder than the
    pull), turn round in a short reversal, and now and then the hand pauses to
    reposition.

    Parameters (see :attr:`params`): ``stroke_rate_hz`` strokes per second,
    ``stroke_speed_m_s`` peak sliding speed, ``texture_mm`` asperity spacing,
    ``brightness`` material band 0–1.
    """

    family = "scratching"
    description = "Nails scratching a textured surface in quick back-and-forth strokes"
    params = (
        Param("stroke_rate_hz", 3.3, 0.5, 8.0, "Hz", "strokes per second (each way counts)"),
        Param("stroke_speed_m_s", 0.15, 0.02, 0.6, "m/s", "peak sliding speed of a stroke"),
        Param("texture_mm", 0.1, 0.03, 2.0, "mm", "ridge spacing of the surface"),
        Param("roughness", 0.3, 0.0, 1.0, "", "share of random (unridged) roughness noise"),
        Param("brightness", 0.5, 0.0, 1.0, "", "material band: soft fabric (0) to hard board (1)"),
    )
    variant_defaults: ClassVar[Mapping[str, Mapping[str, float]]] = {"default": {}}
    chunk_size = 4096

    def _setup(self) -> None:
        b = self.values["brightness"]
        self._centre_hz = 1000.0 * 2.0 ** (2.6 * b)  # 1 … 6 kHz
        self._direction = 1
        self._until_pause = int(self.rng.integers(6, 16))

    def _event(self) -> tuple[np.ndarray, float]:
        rng, sr = self.rng, self.sr
        period = 1.0 / self.values["stroke_rate_hz"]
        n = int(period * rng.uniform(0.4, 0.55) * sr)
        v_peak = self.values["stroke_speed_m_s"] * rng.uniform(0.8, 1.2)
        v = v_peak * stroke_profile(n, rng, glide=rng.uniform(0.2, 0.45), tremor=0.15)
        lam = self.values["texture_mm"] * 1e-3 * rng.uniform(0.9, 1.1)
        ridges = ridge_impulses(rng, (0.3 * v_peak + 0.7 * v) / lam, sr, jitter=0.05)
        level = v / max(v_peak, 1e-9)
        rough = self.values["roughness"]
        f_mean = max(0.7 * v_peak / lam, 50.0)
        exc = (1.0 - rough) * ridges * level * np.sqrt(sr / f_mean) + rough * rng.standard_normal(
            n
        ) * level
        centre = self._centre_hz * rng.uniform(0.85, 1.18)
        q = rng.uniform(0.4, 0.7)

        def gain(f: np.ndarray) -> np.ndarray:
            return bandpass_gain(f, centre, q) * highpass_gain(f, 150.0, 2)

        y = shape(exc, sr, gain, pad=512)
        fade(y, sr, 2.0)
        press = 1.0 if self._direction > 0 else rng.uniform(0.65, 0.9)
        self._direction = -self._direction
        y *= _LEVEL * press * (v_peak / 0.15) ** 0.8 * rng.uniform(0.85, 1.15)
        gap = period * rng.uniform(0.88, 1.12)
        self._until_pause -= 1
        if self._until_pause <= 0:
            self._until_pause = int(rng.integers(6, 16))
            gap += rng.uniform(0.3, 1.0)
        return soft_limit(y), gap
