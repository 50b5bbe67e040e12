"""Brushing: a soft brush stroked over the microphone, or a brush going through hair."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from . import register
from ._friction import (
    bandpass_gain,
    decaying_bursts,
    fade,
    highpass_gain,
    impulse_train,
    lowpass_gain,
    shape,
    soft_limit,
    stroke_profile,
)
from .base import EventTrigger, Param

JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "mic": {"stroke_rate_hz": 1.5, "brightness": 0.6},
    "hair": {"stroke_rate_hz": 1.0, "bristle_density": 0.8},
}

_LEVEL = {"mic": 0.4, "hair": 0.45}  # calibrated: about −20 dBFS RMS at the defaults


@register
class Brushing(EventTrigger):
    """Soft brush strokes on the microphone, or hair brushing.

    Physics
    -------
    A brush is hundreds of bristles, each a tiny friction contact that sticks and
    flicks free as it slides (Akay 2002): the sound is a dense swarm of micro-bursts
    whose rate is proportional to the stroke speed times the number of bristles in
    contact, shaped by what they rub. Every stroke follows a smooth
    accelerate–glide–decelerate profile (minimum jerk, Flash & Hogan 1985), so level
    and density swell and fade.

    ``mic`` — a soft make-up brush on the microphone's windscreen: close (a
    directional microphone's proximity effect lifts the bass below ~300 Hz,
    ``closeness``), broadband and soft (the foam and grille damp the highs), slow
    rhythmic strokes, each swelling as the brush presses in.

    ``hair`` — a brush drawn through hair: many fine bristle-through-hair
    micro-frictions, brighter (thin hairs, 3–10 kHz), and the band sweeps down a
    little along the stroke as the bristles move from the scalp to the hair's ends.

    Parameters: ``stroke_rate_hz`` (strokes per second), ``brightness``,
    ``closeness`` (proximity bass), ``bristle_density`` (bristle micro-bursts).
    """

    family = "brushing"
    description = "Soft brush strokes on the microphone; a brush through hair"
    params = (
        Param("stroke_rate_hz", 0.9, 0.2, 4.0, "Hz", "strokes per second"),
        Param("brightness", 0.4, 0.0, 1.0, "", "spectral band of the bristle noise"),
        Param("closeness", 0.7, 0.0, 1.0, "", "proximity bass of a close microphone"),
        Param("bristle_density", 0.5, 0.0, 1.0, "", "share of grainy bristle micro-bursts"),
    )
    variant_defaults: ClassVar[Mapping[str, Mapping[str, float]]] = {
        "mic": {"stroke_rate_hz": 0.9, "brightness": 0.4, "closeness": 0.7, "bristle_density": 0.4},
        "hair": {
            "stroke_rate_hz": 1.4,
            "brightness": 0.7,
            "closeness": 0.2,
            "bristle_density": 0.7,
        },
    }
    chunk_size = 4096

    def _setup(self) -> None:
        b = self.values["brightness"]
        if self.variant == "mic":
            self._cut_hz = 1500.0 * 2.0 ** (3.0 * b)  # windscreen low-pass 1.5 … 12 kHz
        else:
            self._cut_hz = 2000.0 * 2.0 ** (2.0 * b)  # hair band centre 2 … 8 kHz

    def _event(self) -> tuple[np.ndarray, float]:
        rng, sr = self.rng, self.sr
        period = 1.0 / self.values["stroke_rate_hz"]
        dur = period * rng.uniform(0.6, 0.9)
        n = int(dur * sr)
        v = stroke_profile(n, rng, glide=rng.uniform(0.1, 0.4), tremor=0.15)
        dens = self.values["bristle_density"]
        base_rate = 2500.0 if self.variant == "mic" else 9000.0
        imp = impulse_train(rng, base_rate * (0.2 + dens) * v, sr, alpha=2.2, cap=10.0, level=v)
        bursts = decaying_bursts(rng, imp, sr, 0.4 if self.variant == "mic" else 0.2)
        bursts /= np.sqrt(base_rate * (0.2 + dens) * 0.0008 * 2.0)
        smooth = rng.standard_normal(n) * v
        exc = (1.0 - 0.7 * dens) * smooth + 0.7 * dens * bursts
        cut = self._cut_hz * rng.uniform(0.85, 1.15)
        close = self.values["closeness"]
        if self.variant == "mic":

            def gain(f: np.ndarray) -> np.ndarray:
                bass = 1.0 + 3.0 * close * lowpass_gain(f, 300.0, 1)  # proximity effect
                return bass * lowpass_gain(f, cut, 2) * highpass_gain(f, 60.0, 2)

            y = shape(exc, sr, gain, pad=1024)
        else:
            # the band sweeps down along the stroke: render two bands and cross-fade
            hi_band = shape(
                exc,
                sr,
                lambda f: bandpass_gain(f, 1.3 * cut, 0.7) * highpass_gain(f, 500.0, 2),
                pad=1024,
            )
            lo_band = shape(
                exc,
                sr,
                lambda f: (
                    bandpass_gain(f, 0.75 * cut, 0.7)
                    * (1.0 + 2.0 * close * lowpass_gain(f, 300.0, 1))
                    * highpass_gain(f, 150.0, 2)
                ),
                pad=1024,
            )
            w = np.concatenate([np.linspace(1.0, 0.0, n), np.zeros(len(hi_band) - n)])
            y = w * hi_band + (1.0 - w) * lo_band
        fade(y, sr, 5.0)
        y *= _LEVEL[self.variant] * rng.uniform(0.75, 1.15)
        gap = period * rng.uniform(0.85, 1.15)
        if rng.uniform() < 0.08:
            gap += rng.uniform(0.3, 1.2)  # the hand pauses
        return soft_limit(y), gap
