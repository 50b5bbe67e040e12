"""Scissors: haircut snips in runs — narrow-band blade shear and a closing click."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from . import register
from ._impacts import bandpass, noise_burst
from .base import EventTrigger, Param

#: a second parameter setting per variant for the recognition test
JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "haircut": {"snip_rate_hz": 4.5, "sharpness": 0.45},
}


@register
class Scissors(EventTrigger):
    """Haircut scissors: quick runs of snips, short pauses while the comb moves.

    Physics: closing scissors slide one blade along the other; the contact point
    travels from the pivot to the tips in ≈ 0.1–0.17 s. Dry sliding friction between
    the ground edges is a stick-slip process (Akay 2002, "Acoustics of friction"):
    the edges stick, load, then slip, each slip releasing a short burst of friction
    force (decaying in ≈ 0.35 ms); the slip rate follows the sliding speed, rising
    from ≈ 350 to ≈ 1050 Hz through the stroke — the dry rasp of the cut. The force
    drives the blades' bending modes; a blade is a long thin steel bar, and the mode
    that couples best to the sliding contact rings around 4 kHz with a high Q, so
    the shear radiates as *narrow-band* noise, about half an octave wide — the
    metallic "shhk". Its level grows steeply through the stroke (≈ t^2.5): the hand
    squeezes harder as the cut meets the hair and the contact pressure rises towards
    the tips. At closure the blades' stops (or the tips) meet: a short broadband
    click (contact noise decaying in ≈ 0.3 ms). Re-opening is nearly silent.

    A stylist cuts in runs of ``group_size`` snips (on average) at ``snip_rate_hz``
    and pauses for ``pause_s`` (combing, moving); ``sharpness`` moves the blade
    resonance up (a smaller, stiffer pair) and shortens the click. Every snip is
    synthesised afresh (random stroke length, force, friction noise, click).
    """

    family = "scissors"
    description = "Haircut scissor snips"
    params = (
        Param("snip_rate_hz", 5.0, 1.0, 8.0, "Hz", "snips per second within a run"),
        Param("group_size", 8.0, 1.0, 20.0, "", "mean number of snips per run"),
        Param("sharpness", 0.5, 0.0, 1.0, "", "blade resonance and click brightness"),
        Param("pause_s", 0.3, 0.1, 4.0, "s", "mean pause between runs"),
    )
    variant_defaults: ClassVar[dict[str, dict[str, float]]] = {"haircut": {}}
    chunk_size: ClassVar[int] = 8192

    #: model constants: stroke (s), blade resonance (Hz at sharpness 0.5), its width
    #: (octaves), the exponent of the rising shear level, the click level and decay (s)
    _K: ClassVar[dict[str, float]] = {
        "stroke_s": 0.142,
        "blade_hz": 4300.0,
        "width_oct": 0.5,
        "rise_power": 2.5,
        "click_level": 0.61,
        "click_decay_s": 0.275e-3,
        "slip_hz": 700.0,  # mean stick-slip rate over the stroke
        "slip_decay_s": 0.34e-3,  # decay of the force release of each slip
    }

    def _setup(self) -> None:
        self._left = 0

    def _snip(self) -> np.ndarray:
        k = self._K
        rng = self.rng
        sr = self.sr
        s = self.values["sharpness"]
        n = int(k["stroke_s"] * rng.uniform(0.8, 1.2) * sr)
        fc = k["blade_hz"] * (0.85 + 0.3 * s) * rng.uniform(0.97, 1.03)
        half = 2.0 ** (0.5 * k["width_oct"])
        t = np.arange(n) / n
        # stick-slip: each slip releases a burst of friction force that decays in
        # ≈ 0.3 ms; the slip rate follows the sliding speed, rising through the stroke
        slip_hz = k["slip_hz"] * float(rng.uniform(0.8, 1.2))
        phase = np.cumsum(slip_hz * (0.5 + t)) / sr + float(rng.uniform())
        force = np.exp(-(phase - np.floor(phase)) / (slip_hz * k["slip_decay_s"]))
        shear = bandpass(rng.standard_normal(n) * force, sr, fc / half, min(fc * half, 0.45 * sr))
        shear *= t ** k["rise_power"] / max(float(np.std(shear)), 1e-9)
        m = int(0.003 * sr)
        click = noise_burst(
            rng,
            sr,
            m,
            lo_hz=2000.0,
            hi_hz=min(16000.0, 0.45 * sr),
            attack_s=3e-5,
            decay_s=k["click_decay_s"] * (1.3 - 0.6 * s),
        )
        y = np.zeros(n + m)
        y[:n] = shear
        y[n:] += k["click_level"] * click
        return y

    def _event(self) -> tuple[np.ndarray, float]:
        v = self.values
        rng = self.rng
        if self._left <= 0:
            self._left = max(1, int(rng.poisson(v["group_size"] - 1) + 1))
        self._left -= 1
        y = self._snip()
        gap = 1.0 / v["snip_rate_hz"] * float(rng.lognormal(0.0, 0.1))
        if self._left == 0:
            gap += float(rng.gamma(2.0, v["pause_s"] / 2.0))
        force = float(np.clip(rng.lognormal(0.0, 0.2), 0.5, 1.6))
        y *= 0.3 * force / max(float(np.max(np.abs(y))), 1e-9)
        return y, max(gap, y.size / self.sr * 0.8)
