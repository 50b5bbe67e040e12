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
    lowpass_gain,
    pareto_amplitudes,
    poisson_times,
    shape,
    smooth_random,
)
from .base import EventTrigger, Param

JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "paper": {"crackle_rate_per_s": 300.0, "gesture_s": 2.2},
    "plastic": {"crackle_rate_per_s": 300.0, "brightness": 0.8},
    "foil": {"crackle_rate_per_s": 700.0, "gesture_s": 2.2},
}

#: calibrated: about −20 dBFS RMS at the defaults
_PEAK = 0.6  # −4.4 dBFS
_LEVEL = {"paper": 0.07, "plastic": 0.16, "foil": 0.15}

#: per material: click decay (ms), crack-energy exponent α, mean clicks per crease
#: avalanche beyond the first, avalanche spread (ms), band-pass Q, high-pass (Hz),
#: handling-rustle share, number of ringing modes, their decay (ms), mode share
_MATERIAL = {
    "paper": {
        "decay_ms": 2.2,
        "alpha": 1.55,
        "cap": 10.0,
        "cluster": 5.0,
        "spread_ms": 15.0,
        "q": 0.8,
        "hp_hz": 700.0,
        "rustle": 0.45,
        "modes": 0,
        "ring_ms": 0.0,
        "pop": 0.0,
    },
    "plastic": {
        "decay_ms": 1.2,
        "alpha": 1.9,
        "cap": 9.0,
        "cluster": 2.5,
        "spread_ms": 13.0,
        "q": 0.75,
        "hp_hz": 1200.0,
        "rustle": 0.17,
        "modes": 2,
        "ring_ms": 6.5,
        "pop": 0.25,
    },
    "foil": {
        "decay_ms": 1.8,
        "alpha": 1.9,
        "cap": 6.0,
        "cluster": 5.0,
        "spread_ms": 18.0,
        "q": 1.0,
        "hp_hz": 750.0,
        "rustle": 0.14,
        "modes": 4,
        "ring_ms": 6.0,
        "pop": 0.35,
    },
}


@register
class Crinkling(EventTrigger):
    """Crinkling paper, plastic or foil in handling gestures.

    Physics
    -------
    A crumpled sheet stores elastic energy in ridges and vertices; as the hands
    squeeze, creases snap through, each releasing a click. The click energies follow
    a power law ``P(E) ∝ E^−α`` with α ≈ 1.3–1.6 (Kramer & Lobkovsky 1996, PRE 53,
    1465; Houle & Sethna 1996). Snaps are not independent: one buckling ridge loads
    its neighbours, so they come in *avalanches* — a crease event is a burst of a few
    (``cluster``) clicks spread over 5–30 ms (Houle & Sethna's crackling-noise
    picture). The rate of crease events follows the hand's squeeze — a swell over a
    gesture of 0.5–3 s with random sub-squeezes — and so does the click level
    (a harder squeeze snaps stiffer creases). Between the snaps, the hands' friction
    on the sheet adds a soft broadband rustle. Each click is a sub-millisecond
    release of a thin plate: a short noise burst whose spectrum rises to a broad
    peak of a few kHz (``brightness``) — thin sheets radiate little below ~1 kHz.
    The material sets the click: paper is softer (≈ 1.6 ms bursts, more rustle);
    plastic film snappier (≈ 0.9 ms) with a brief thin-shell ring; foil the finest
    and shortest, plus high, lightly damped modes (3–12 kHz) for its tinny shimmer.
    """

    family = "crinkling"
    description = "Paper, plastic or foil crinkled in the hands"
    params = (
        Param(
            "crackle_rate_per_s",
            400.0,
            20.0,
            3000.0,
            "1/s",
            "mean crease clicks per second during a gesture",
        ),
        Param("gesture_s", 1.7, 0.3, 3.0, "s", "mean length of one squeeze gesture"),
        Param("brightness", 0.6, 0.0, 1.0, "", "spectral band of the clicks (1.5 … 9 kHz)"),
    )
    variant_defaults: ClassVar[Mapping[str, Mapping[str, float]]] = {
        "paper": {"crackle_rate_per_s": 400.0, "brightness": 0.73},
        "plastic": {"crackle_rate_per_s": 400.0, "brightness": 0.73},
        "foil": {"crackle_rate_per_s": 450.0, "brightness": 0.8},
    }
    chunk_size = 4096

    def _setup(self) -> None:
        self._mat = _MATERIAL[self.variant]
        self._centre_hz = 1500.0 * 2.0 ** (2.6 * self.values["brightness"])  # 1.5 … 9.1 kHz

    def _event(self) -> tuple[np.ndarray, float]:
        rng, sr, mat = self.rng, self.sr, self._mat
        dur = self.values["gesture_s"] * rng.uniform(0.6, 1.4)
        n = int(dur * sr)
        # the squeeze: a swell with random sub-squeezes; mean over the gesture = 1
        tau = np.linspace(0.0, 1.0, n)
        squeeze = np.sin(np.pi * tau) ** 0.7 * np.exp(
            0.6 * smooth_random(n, rng, int(rng.integers(4, 9)))
        )
        squeeze /= max(float(squeeze.mean()), 1e-9)
        # crease avalanches: Poisson events, each 1 + Poisson(cluster) clicks
        cluster = mat["cluster"]
        events = poisson_times(
            rng, self.values["crackle_rate_per_s"] / (1.0 + cluster) * squeeze, sr
        )
        k = 1 + rng.poisson(cluster, len(events))
        lag = rng.exponential(mat["spread_ms"] * 1e-3 * sr, int(k.sum()))
        idx = np.minimum(np.repeat(events, k) + lag.astype(int), n - 1)
        amp = pareto_amplitudes(rng, len(idx), alpha=mat["alpha"], cap=mat["cap"])
        amp *= squeeze[idx] ** 1.1
        imp = np.zeros(n)
        np.add.at(imp, idx, amp)
        clicks = decaying_bursts(rng, imp, sr, mat["decay_ms"] * rng.uniform(0.8, 1.25))
        centre = min(self._centre_hz * rng.uniform(0.85, 1.18), 0.4 * sr)
        q, hp = mat["q"], mat["hp_hz"]

        def gain(f: np.ndarray) -> np.ndarray:
            return bandpass_gain(f, centre, q) * highpass_gain(f, hp, 2)

        def rustle_gain(f: np.ndarray) -> np.ndarray:
            return lowpass_gain(f, 1.1 * centre, 1) * highpass_gain(f, 300.0, 2)

        rustle = rng.standard_normal(n) * squeeze * mat["rustle"]
        y = shape(clicks, sr, gain) + shape(rustle, sr, rustle_gain)
        if mat["modes"]:
            # louder snaps ring in thin-shell / sheet modes (fresh frequencies each gesture)
            big = np.where(imp > 1.6, imp, 0.0)
            lo, hi = (1500.0, 5000.0) if self.variant == "plastic" else (3000.0, 12000.0)
            ring = np.zeros(n)
            for _ in range(int(mat["modes"])):
                f0 = min(rng.uniform(lo, hi) * (0.6 + 0.8 * self.values["brightness"]), 0.42 * sr)
                r = np.exp(-1000.0 / (mat["ring_ms"] * rng.uniform(0.6, 1.4) * sr))
                w = 2 * np.pi * f0 / sr
                ring += np.asarray(
                    sps.lfilter(
                        [np.sin(w)],
                        [1.0, -2 * r * np.cos(w), r * r],
                        big * rng.choice((-1.0, 1.0), n) * rng.uniform(0.3, 1.0),
                    )
                )
            y[:n] += mat["pop"] * 0.25 * ring
        fade(y, sr, 5.0)
        y *= _LEVEL[self.variant] * rng.uniform(0.7, 1.2)
        # a gesture whose loudest snap would clip is played a little softer (a linear
        # gain: a limiter's distortion would turn the crackle into fire)
        peak = float(np.max(np.abs(y)))
        if peak > _PEAK:
            y *= _PEAK / peak
        gap = dur * rng.uniform(0.85, 1.0) + rng.uniform(0.05, 0.6)
        return y, gap
