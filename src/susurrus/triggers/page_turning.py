"""Page turning: the pages of a book turned one by one at a reading pace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from . import register
from ._friction import fade, highpass_gain, lowpass_gain, shape, smooth_random, stroke_profile
from ._strokes import RoomTone, contact_noise, peak_guard, swept_band
from .base import EventTrigger, Param

JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "default": {"pages_per_min": 32.0, "brightness": 0.65},
}

_LEVEL = 0.11  # calibrated: the loudest turns peak near −4.4 dBFS
_BED = 0.0013  # room tone RMS (≈ −27 dB under the turns)
_RUSTLE_RATE = 3000.0  # fibre contacts per second at the peak of the bend
_RUSTLE_MS = 2.5  # decay of one contact burst
_RUSTLE_GAIN = 1.0
_WHOOSH_GAIN = 1.0
_WHOOSH_HZ = (350.0, 1400.0)  # whoosh band at rest and at the sheet's top speed
_CRACKLE = 0.1  # share of sharp crease crackles in the bend


@register
class PageTurning(EventTrigger):
    """Turning the pages of a book.

    Physics
    -------
    One turn has four parts. (1) The grab: a fingertip slides under the page's
    corner — a short friction stroke. (2) The bend: the lifted sheet flexes; its
    fibres rub one another and the neighbouring pages — thousands of soft fibre
    contacts a second (a dense rustle, few-millisecond bursts of nearly uniform
    energy) whose rate follows the bending speed, with a few sharper crease
    crackles (power-law energies, Kramer & Lobkovsky 1996); the sheet radiates the
    papery band, 1–5 kHz. (3) The flip: the sheet sweeps through the air and sheds
    turbulence — a whoosh whose band follows the sheet's angular speed (Strouhal
    shedding, ``f ∝ v``: it rises and falls as the page accelerates and settles,
    ≈ 0.35–1.4 kHz) and whose level swells with it. (4) The landing: the page
    settles on the others — a soft, dark slap and a last short rustle. A turn lasts
    0.5–1.5 s (``turn_s``); between turns the reader reads (``pages_per_min``). Thin
    paper (``brightness`` high) is crisper and brighter; heavy stock darker. Under
    it all, the faint room tone of a quiet room.
    """

    family = "page-turning"
    description = "Pages of a book turned one by one"
    params = (
        Param("pages_per_min", 25.0, 2.0, 50.0, "1/min", "turns per minute (reading tempo)"),
        Param("turn_s", 0.9, 0.5, 1.5, "s", "duration of one turn"),
        Param("brightness", 0.5, 0.0, 1.0, "", "paper: heavy and dark (0) to thin and crisp (1)"),
    )
    variant_defaults: ClassVar[Mapping[str, Mapping[str, float]]] = {"default": {}}
    chunk_size = 16384

    def _setup(self) -> None:
        self._scale = 2.0 ** (2.0 * (self.values["brightness"] - 0.5))  # ±1 octave
        self._room = RoomTone(self.sr, _BED, hp_hz=100.0, lp_hz=1500.0)

    def _first_onset_s(self) -> float:
        return float(self.rng.uniform(0.1, 0.6))

    def _bed(self, n: int) -> np.ndarray:
        return self._room(self.rng, n)

    def _event(self) -> tuple[np.ndarray, float]:
        rng, sr = self.rng, self.sr
        turn = self.values["turn_s"] * rng.uniform(0.8, 1.2)
        n = int(turn * sr)
        pad = 1024
        y = np.zeros(n + pad)
        lo_hz = 900.0 * self._scale * rng.uniform(0.85, 1.15)
        hi_hz = min(5000.0 * self._scale * rng.uniform(0.85, 1.15), 0.4 * sr)

        def paper(f: np.ndarray) -> np.ndarray:
            return highpass_gain(f, lo_hz, 2) * lowpass_gain(f, hi_hz, 2)

        # (1) + (2) grab and bend: one rustle whose contact rate follows the bending
        nb = max(256, int(rng.uniform(0.55, 0.7) * n))
        bend = stroke_profile(nb, rng, glide=rng.uniform(0.1, 0.4), tremor=0.3)
        bend *= np.exp(0.35 * smooth_random(nb, rng, 8))
        rate = _RUSTLE_RATE * bend
        rustle = contact_noise(rng, rate, sr, decay_ms=_RUSTLE_MS) * bend
        crack_rate = 40.0 * bend
        cracks = contact_noise(rng, crack_rate, sr, decay_ms=0.6, spread=0.8) * bend
        exc = (1.0 - _CRACKLE) * rustle + _CRACKLE * cracks * 0.5
        y[: nb + pad] += _RUSTLE_GAIN * shape(exc, sr, paper, pad=pad)
        # (3) the flip: a whoosh, band and level following the sheet's speed
        nf = max(256, int(rng.uniform(0.3, 0.45) * n + 0.12 * sr))
        f0 = max(0, min(n - nf, int(rng.uniform(0.4, 0.55) * n)))
        v = stroke_profile(nf, rng, glide=rng.uniform(0.0, 0.3), tremor=0.1)
        w_lo = _WHOOSH_HZ[0] * rng.uniform(0.8, 1.2)
        w_hi = _WHOOSH_HZ[1] * self._scale**0.5 * rng.uniform(0.8, 1.2)
        log_c = np.log(w_lo) + (np.log(w_hi) - np.log(w_lo)) * v
        whoosh = swept_band(
            rng.standard_normal(nf) * v**1.5,
            sr,
            log_c,
            n_bands=5,
            width=0.6,
            q=1.2,
            common=lambda f: highpass_gain(f, 150.0, 2),
            pad=pad,
        )
        y[f0 : f0 + nf + pad] += _WHOOSH_GAIN * whoosh
        # (4) the landing: a soft dark slap and a last short rustle
        nl = int(rng.uniform(0.04, 0.08) * sr)
        l0 = min(n - nl, f0 + int(0.85 * nf))
        t = np.arange(nl) / sr
        slap_env = np.exp(-t / rng.uniform(0.008, 0.015))
        slap = shape(
            rng.standard_normal(nl) * slap_env,
            sr,
            lambda f: lowpass_gain(f, 1800.0, 2) * highpass_gain(f, 150.0, 2),
            pad=pad,
        )
        settle = contact_noise(rng, 1500.0 * np.exp(-t / 0.03), sr, decay_ms=_RUSTLE_MS)
        settle = shape(settle * np.exp(-t / 0.03), sr, paper, pad=pad)
        y[l0 : l0 + nl + pad] += 0.6 * slap + 0.3 * settle
        fade(y, sr, 5.0)
        y *= _LEVEL * rng.uniform(0.75, 1.2)
        peak_guard(y)
        mean_gap = 60.0 / self.values["pages_per_min"]
        gap = max(turn + 0.2, mean_gap * rng.uniform(0.7, 1.3))
        return y, gap
