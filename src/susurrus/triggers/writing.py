"""Writing: a pencil on paper, letter by letter, word by word."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from . import register
from ._friction import (
    bandpass_gain,
    fade,
    friction_stroke,
    highpass_gain,
    soft_limit,
    stroke_profile,
)
from .base import EventTrigger, Param

JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "pencil": {"strokes_per_s": 7.0, "brightness": 0.7},
}

_LEVEL = 0.24  # calibrated: about −20 dBFS RMS at the defaults
_NATURAL_RATE = 3.47  # mean stroke onsets per second of the unscaled schedule


@register
class Writing(EventTrigger):
    """A pencil writing on paper.

    Physics
    -------
    Graphite sliding on paper is fine-grained friction: the lead passes paper
    fibres about every 20–50 µm, so at a writing speed of 3–10 cm/s the stick-slip
    grains arrive at a few kHz (rate = ``v / λ``, Akay 2002) — a grainy hiss whose
    level and density follow the pen speed. The sheet on the desk resonates broadly
    around 1–4 kHz (``brightness``), the grain itself reaches higher. Handwriting is a
    sequence of short strokes of 80–300 ms with a bell-shaped (minimum-jerk) speed
    profile, slowed at curvature (the two-thirds power law, Lacquaniti et al. 1983),
    separated by brief pen lifts; letters form words, words are separated by longer
    pauses, and now and then a dot or a quick crossing stroke lands with a tiny tap.

    Parameters: ``strokes_per_s`` (mean stroke onsets per second, pauses included:
    the writing tempo scales every duration), ``brightness`` (paper resonance
    1–4 kHz), ``pressure`` (level and graininess).
    """

    family = "writing"
    description = "A pencil writing on paper: short strokes, pen lifts, word pauses"
    params = (
        Param("strokes_per_s", 5.0, 1.5, 12.0, "1/s", "mean stroke onsets per second"),
        Param("brightness", 0.5, 0.0, 1.0, "", "paper resonance from 1 kHz (0) to 4 kHz (1)"),
        Param("pressure", 0.5, 0.0, 1.0, "", "pen pressure: level and graininess"),
    )
    variant_defaults: ClassVar[Mapping[str, Mapping[str, float]]] = {"pencil": {}}
    chunk_size = 4096

    def _setup(self) -> None:
        self._scale = _NATURAL_RATE / self.values["strokes_per_s"]
        self._paper_hz = 1000.0 * 4.0 ** self.values["brightness"]
        self._left_in_word = int(self.rng.integers(3, 12))

    def _stroke(self, dur_s: float, v_peak: float, tap: float) -> np.ndarray:
        rng, sr = self.rng, self.sr
        n = max(64, int(dur_s * sr))
        v = v_peak * stroke_profile(n, rng, glide=rng.uniform(0.0, 0.4), tremor=0.35)
        paper = self._paper_hz * rng.uniform(0.85, 1.15)
        grain_hz = 2.5 * paper * rng.uniform(0.9, 1.2)

        def gain(f: np.ndarray) -> np.ndarray:
            return (
                bandpass_gain(f, paper, 1.4) + 0.4 * bandpass_gain(f, grain_hz, 0.8)
            ) * highpass_gain(f, 300.0, 2)

        p = self.values["pressure"]
        y = friction_stroke(
            rng,
            sr,
            v,
            texture_m=rng.uniform(2e-5, 4e-5),
            gain=gain,
            grain=0.3 + 0.5 * p,
            decay_ms=0.15,
        )
        if tap > 0:  # the lead touching down: a tiny damped knock on the desk
            k = int(0.012 * sr)
            t = np.arange(k) / sr
            f0 = rng.uniform(900.0, 1600.0)
            y[:k] += tap * np.exp(-t / 0.002) * np.sin(2 * np.pi * f0 * t)
        return fade(y, sr, 1.5)

    def _event(self) -> tuple[np.ndarray, float]:
        rng, s = self.rng, self._scale
        kind = rng.uniform()
        if kind < 0.07:  # a dot
            dur, v_peak, tap = rng.uniform(0.02, 0.04) * s, 0.02, 1.5
        elif kind < 0.14:  # a quick crossing stroke
            dur, v_peak, tap = rng.uniform(0.08, 0.14) * s, 0.12, 0.6
        else:
            dur, v_peak, tap = rng.uniform(0.08, 0.3) * s, rng.uniform(0.04, 0.09), 0.3
        y = self._stroke(dur, v_peak, tap)
        y *= _LEVEL * (0.5 + self.values["pressure"]) * rng.uniform(0.6, 1.0)
        self._left_in_word -= 1
        if self._left_in_word > 0:
            gap = dur + rng.uniform(0.015, 0.09) * s  # pen lift within a word
        else:
            self._left_in_word = int(rng.integers(3, 12))
            gap = dur + rng.uniform(0.25, 0.7) * s  # between words
        return soft_limit(y), gap
