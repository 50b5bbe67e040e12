"""Crinkling: paper, plastic or foil squeezed and handled in the hands."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import scipy.signal as sps

from . import register
from ._friction import (
    bandpass_gain,
    decaying_bursts,
    fade,
    highpass_gain,
    impulse_train,
    lowpass_gain,
    shape,
    smooth_random,
    soft_limit,
)
from .base import EventTrigger, Param

JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "paper": {"crackle_rate_per_s": 600.0, "gesture_s": 0.8},
    "plastic": {"crackle_rate_per_s": 300.0, "brightness": 0.75},
    "foil": {"crackle_rate_per_s": 900.0, "gesture_s": 1.6},
}

#: calibrated: about −20 dBFS RMS at the defaults
_LEVEL = {"paper": 0.12, "plastic": 0.16, "foil": 0.07}

#: per material: click decay (ms), crack-energy exponent α, resonant "pop" share,
#: number of ringing modes, their decay (ms), handling-rustle share
_MATERIAL = {
    "paper": {
        "decay_ms": 1.2,
        "alpha": 1.5,
        "pop": 0.0,
        "modes": 0,
        "ring_ms": 0.0,
        "rustle": 0.35,
    },
    "plastic": {
        "decay_ms": 0.6,
        "alpha": 1.35,
        "pop": 0.8,
        "modes": 2,
        "ring_ms": 3.0,
        "rustle": 0.2,
    },
    "foil": {
        "decay_ms": 0.35,
        "alpha": 1.45,
        "pop": 0.9,
        "modes": 4,
        "ring_ms": 12.0,
        "rustle": 0.15,
    },
}


@register
class Crinkling(EventTrigger):
    """Crinkling paper, plastic or foil in handling gestures.

    Physics
    -------
    A crumpled sheet stores elastic energy in ridges and vertices; as the hands
    squeeze, creases snap through one by one, each releasing a click. The click
    energies follow a power law ``P(E) ∝ E^−α`` with α ≈ 1.3–1.6 (Kramer & Lobkovsky
    1996, PRE 53, 1465; Houle & Sethna 1996): a few loud cracks among many faint
    ticks. The snap rate follows the hand's squeeze — a smooth swell over a gesture
    of 0.5–2 s — and the hands' friction on the sheet adds a soft rustle.
    The material sets the click: paper is darker and denser (soft, 1 ms bursts);
    plastic film is brighter, with snappier pops that ring briefly in a thin-shell
    mode; foil is metallic — fine, very short clicks plus high, lightly damped modes
    (3–12 kHz) that give it its tinny shimmer. ``brightness`` moves the band.
    """

    family = "crinkling"
    description = "Paper, plastic or foil crinkled in the hands"
    params = (
        Param(
            "crackle_rate_per_s",
            350.0,
            20.0,
            3000.0,
            "1/s",
            "mean crease snaps per second during a gesture",
        ),
        Param("gesture_s", 1.1, 0.3, 3.0, "s", "mean length of one squeeze gesture"),
        Param("brightness", 0.45, 0.0, 1.0, "", "spectral band of the clicks"),
    )
    variant_defaults: ClassVar[Mapping[str, Mapping[str, float]]] = {
        "paper": {"crackle_rate_per_s": 350.0, "brightness": 0.4},
        "plastic": {"crackle_rate_per_s": 180.0, "brightness": 0.6},
        "foil": {"crackle_rate_per_s": 500.0, "brightness": 0.75},
    }
    chunk_size = 4096

    def _setup(self) -> None:
        self._mat = _MATERIAL[self.variant]
        self._centre_hz = 700.0 * 2.0 ** (3.8 * self.values["brightness"])  # 0.7 … 9.8 kHz

    def _event(self) -> tuple[np.ndarray, float]:
        rng, sr, mat = self.rng, self.sr, self._mat
        dur = self.values["gesture_s"] * rng.uniform(0.6, 1.4)
        n = int(dur * sr)
        # the squeeze: a swell with random sub-squeezes; mean over the gesture ≈ 1
        tau = np.linspace(0.0, 1.0, n)
        swell = np.sin(np.pi * tau) ** 0.7
        sub = np.exp(0.6 * smooth_random(n, rng, int(rng.integers(4, 9))))
        squeeze = swell * sub
        squeeze /= max(float(squeeze.mean()), 1e-9)
        rate = self.values["crackle_rate_per_s"] * squeeze
        imp = impulse_train(rng, rate, sr, alpha=mat["alpha"], cap=40.0)
        clicks = decaying_bursts(rng, imp, sr, mat["decay_ms"] * rng.uniform(0.8, 1.25))
        centre = self._centre_hz * rng.uniform(0.85, 1.18)
        n_rustle = rng.standard_normal(n) * squeeze * mat["rustle"] * 0.5

        def gain(f: np.ndarray) -> np.ndarray:
            return bandpass_gain(f, centre, 0.6) * highpass_gain(f, 250.0, 2)

        def rustle_gain(f: np.ndarray) -> np.ndarray:
            return lowpass_gain(f, 0.6 * centre, 1) * highpass_gain(f, 200.0, 2)

        y = shape(clicks, sr, gain) + shape(n_rustle, sr, rustle_gain)
        if mat["modes"]:
            # louder snaps ring in thin-shell / sheet modes (fresh frequencies each gesture)
            big = np.where(np.abs(imp) > 1.6, imp, 0.0)
            lo, hi = (1500.0, 5000.0) if self.variant == "plastic" else (3000.0, 12000.0)
            ring = np.zeros(n)
            for _ in range(int(mat["modes"])):
                f0 = min(rng.uniform(lo, hi) * (0.6 + 0.8 * self.values["brightness"]), 0.42 * sr)
                r = np.exp(-1000.0 / (mat["ring_ms"] * rng.uniform(0.6, 1.4) * sr))
                w = 2 * np.pi * f0 / sr
                ring += np.asarray(
                    sps.lfilter(
                        [np.sin(w)], [1.0, -2 * r * np.cos(w), r * r], big * rng.uniform(0.3, 1.0)
                    )
                )
            y[:n] += mat["pop"] * 0.25 * ring
        fade(y, sr, 5.0)
        y *= _LEVEL[self.variant] * rng.uniform(0.7, 1.2)
        gap = dur * rng.uniform(0.85, 1.0) + rng.uniform(0.05, 0.6)
        return soft_limit(y), gap
