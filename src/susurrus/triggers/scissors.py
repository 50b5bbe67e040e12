"""Scissors: haircut snips in groups — blade shear and a metallic closing click."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from . import register
from ._impacts import bandpass, contact_gain, damped_modes, noise_burst
from .base import EventTrigger, Param

#: a second parameter setting per variant for the recognition test
JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "haircut": {"snip_rate_hz": 5.0, "sharpness": 0.7},
}


@register
class Scissors(EventTrigger):
    """Haircut scissors: snips in quick groups, pauses while the comb moves.

    Physics: closing scissors slide one blade along the other; the contact point
    travels from the pivot to the tips in ≈ 100–200 ms. Dry sliding friction between
    the blade edges is a stick-slip process that radiates broadband noise through
    the blades' bending modes — the amplitude follows the sliding speed (rising,
    then falling as the stroke ends) and the effective resonance rises as the free
    blade length shrinks (Akay 2002, "Acoustics of friction"). Hair strands caught
    between the edges break one by one: a dense train of tiny clicks. At closure
    the blades' stops meet — a metallic impact ringing the blade modes (steel
    bars, ≈ 2–7 kHz, τ ≈ 10–40 ms; modal synthesis, van den Doel et al. 2001).
    Re-opening slides the blades back, quieter and without hair.

    A stylist cuts in groups of 2–6 snips at ``snip_rate_hz`` then pauses (combing,
    moving); ``sharpness`` brightens the shear and the click. Every snip is
    synthesised afresh (random stroke length, force, hair count, blade modes).
    """

    family = "scissors"
    description = "Haircut scissor snips"
    params = (
        Param("snip_rate_hz", 3.0, 1.0, 8.0, "Hz", "snips per second within a group"),
        Param("group_size", 3.5, 1.0, 8.0, "", "mean number of snips per group"),
        Param("sharpness", 0.5, 0.0, 1.0, "", "brightness of the shear and the closing click"),
        Param("pause_s", 1.0, 0.2, 4.0, "s", "mean pause between groups"),
    )
    variant_defaults: ClassVar[dict[str, dict[str, float]]] = {"haircut": {}}
    chunk_size: ClassVar[int] = 8192

    def _setup(self) -> None:
        rng = self.rng
        s = self.values["sharpness"]
        self._blade_f = (0.85 + 0.3 * s) * np.array([2300.0, 3400.0, 4700.0, 6100.0, 7900.0])
        self._blade_f *= 1.0 + 0.04 * rng.standard_normal(len(self._blade_f))
        self._left = 0

    def _snip(self) -> np.ndarray:
        v = self.values
        rng = self.rng
        sr = self.sr
        s = v["sharpness"]
        stroke = float(rng.uniform(0.09, 0.18))
        n_close = int(stroke * sr)
        n = n_close + int(0.06 * sr)
        t = np.arange(n_close) / n_close
        # sliding speed profile of the closing stroke: rises then falls
        speed = np.sin(np.pi * t) ** 1.5
        lo = 1800.0 + 1200.0 * s
        shear = bandpass(rng.standard_normal(n_close), sr, lo, min(11000.0, 0.45 * sr))
        # the free blade length shortens: the noise brightens over the stroke
        shear = shear * speed * (0.6 + 0.8 * t)
        # hair strands break: a dense train of tiny clicks
        n_hairs = int(rng.integers(20, 80))
        idx = rng.integers(0, n_close, n_hairs)
        grains = np.zeros(n_close)
        np.add.at(grains, idx, rng.pareto(2.5, n_hairs) * rng.choice([-1.0, 1.0], n_hairs))
        grains = bandpass(grains, sr, 2500.0, min(12000.0, 0.45 * sr))
        y = np.zeros(n)
        y[:n_close] = 0.35 * shear / max(float(np.std(shear)), 1e-9) * 0.25
        y[:n_close] += 0.5 * grains / max(float(np.max(np.abs(grains))), 1e-9) * speed
        # closing click: the blades' stops meet
        m = n - n_close + int(0.005 * sr)
        i = n - m
        f = self._blade_f * (1.0 + 0.005 * rng.standard_normal(len(self._blade_f)))
        amps = contact_gain(f, 0.1e-3) * rng.uniform(0.5, 1.2, len(f))
        click = damped_modes(sr, m, f, 0.025 * (f[0] / f) ** 0.5, amps)
        click /= max(float(np.max(np.abs(click))), 1e-9)
        k = int(0.003 * sr)
        click[:k] += 0.6 * noise_burst(
            rng, sr, k, lo_hz=2000.0, hi_hz=12000.0, attack_s=3e-5, decay_s=3e-4
        )
        y[i:] += rng.uniform(0.7, 1.0) * click
        return y

    def _event(self) -> tuple[np.ndarray, float]:
        v = self.values
        rng = self.rng
        sr = self.sr
        if self._left <= 0:
            self._left = max(1, int(rng.poisson(v["group_size"] - 1) + 1))
        self._left -= 1
        y = self._snip()
        # re-opening slide (quieter, no hair)
        n_open = int(rng.uniform(0.06, 0.1) * sr)
        tt = np.arange(n_open) / n_open
        slide = bandpass(rng.standard_normal(n_open), sr, 2500.0, min(10000.0, 0.45 * sr)) * np.sin(
            np.pi * tt
        )
        gap = 1.0 / v["snip_rate_hz"] * float(rng.lognormal(0.0, 0.12))
        start = int(min(len(y) + 0.02 * sr, 0.7 * gap * sr))
        out = np.zeros(max(len(y), start + n_open))
        out[: len(y)] += y
        out[start : start + n_open] += (
            0.06 * slide / max(float(np.std(slide)), 1e-9) * rng.uniform(0.5, 1.0)
        )
        if self._left == 0:
            gap += float(rng.gamma(2.0, v["pause_s"] / 2.0))
        force = float(np.clip(rng.lognormal(0.0, 0.15), 0.6, 1.4))
        out *= 0.45 * force / max(float(np.max(np.abs(out))), 1e-9)
        return out, max(gap, y.size / sr * 0.5)
