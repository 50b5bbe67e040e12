"""Breathing: slow, calm breaths — inhale, exhale, pause."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from .. import _signal as sps
from . import register
from ._liquids import OverlapAdd, soft_limit, white
from .base import Param, Trigger

__all__ = ["JUDGE_SETTINGS", "Breathing"]

#: The second parameter setting the recognition test renders for each variant.
JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "slow": {"rate_per_min": 5.0, "brightness": 0.6},
    "calm": {"rate_per_min": 12.0, "ie_ratio": 0.8},
}

_CHUNK = 16384
#: output gain: a breath's inhale peaks near −8 dBFS
_GAIN = 0.65


def _formant_sos(sr: int, freqs_hz: np.ndarray, bws_hz: np.ndarray) -> list[np.ndarray]:
    """One second-order band-pass per formant (centre, bandwidth)."""
    nyq = 0.5 * sr
    out = []
    for f, bw in zip(freqs_hz, bws_hz):
        lo = max(20.0, f - bw / 2) / nyq
        hi = min(f + bw / 2, 0.45 * sr) / nyq
        out.append(sps.butter(1, [lo, hi], btype="bandpass", output="sos"))
    return out


@register
class Breathing(Trigger):
    """Slow, calm breathing: turbulent airflow noise shaped by the vocal tract.

    Physics. Breath sound is turbulence noise generated where the airway narrows
    (nostrils, glottis, lips); its source spectrum is broadband and its power grows
    steeply with the flow velocity (roughly ∝ u³ for free-jet turbulence, so the
    level follows the flow envelope). The vocal tract above the source filters it:
    the noise shows the tract's resonances (formants; for a neutral open tract
    about 500, 1500, 2500 Hz, lower and weaker for a nasal inhale, the nasal
    cavity adding a low resonance near 250–300 Hz). Inhalation is faster-flowing
    and brighter (noise generated at the nares and the tongue, little radiation
    loss), exhalation slower, softer, lower (a more open tract, lips relaxed).

    Each breath cycle of period ``60 / rate_per_min`` seconds (jittered ±6 % per
    breath) is an inhale, an exhale and a pause: inhale : exhale = ``ie_ratio``
    (default 1 : 1.5), the pause takes ``pause_frac`` of the cycle. The inhale's
    level rises to its peak late (the breath deepening), then cuts off; the exhale
    starts near its peak and decays. Every breath draws new durations, level,
    formant frequencies and bandwidths, and fresh noise, so no breath repeats.

    Parameters
    ----------
    rate_per_min
        Breaths per minute (slow paced breathing 4–6, calm resting 10–12).
    ie_ratio
        Inhale duration over exhale duration.
    pause_frac
        Fraction of each cycle spent in the pause after the exhale.
    brightness
        0 dark (nasal, soft) … 1 bright (oral, more high-frequency hiss).
    """

    family = "breathing"
    description = "Slow, calm breathing: inhale, exhale, pause — never a loop"
    params = (
        Param("rate_per_min", 6.0, 3.0, 20.0, "1/min", "breaths per minute"),
        Param("ie_ratio", 0.67, 0.3, 1.5, "", "inhale duration / exhale duration"),
        Param("pause_frac", 0.15, 0.0, 0.5, "", "fraction of each cycle spent pausing"),
        Param("brightness", 0.5, 0.0, 1.0, "", "0 dark nasal … 1 bright oral"),
    )
    variant_defaults: ClassVar[Mapping[str, Mapping[str, float]]] = {
        "slow": {"rate_per_min": 6.0, "ie_ratio": 0.67, "pause_frac": 0.2},
        "calm": {"rate_per_min": 10.0, "ie_ratio": 0.7, "pause_frac": 0.12},
    }

    def _setup(self) -> None:
        self._ola = OverlapAdd()
        self._next = int(self.rng.uniform(0.05, 0.6) * self.sr)
        self.breaths = 0
        #: onset times (s) of every breath synthesised so far
        self.onsets_s: list[float] = []
        self._t = 0  # samples emitted before the current chunk

    def _phase(self, n: int, *, inhale: bool, level: float) -> np.ndarray:
        """One phase of airflow noise, ``n`` samples, formant-filtered and enveloped."""
        rng, sr, b = self.rng, self.sr, self.values["brightness"]
        x = np.linspace(0.0, 1.0, n, endpoint=False)
        if inhale:  # rising flow, peaking late, quick cut-off
            peak = rng.uniform(0.65, 0.8)
            env = np.where(
                x < peak, (x / peak) ** 1.6, np.cos(0.5 * np.pi * (x - peak) / (1 - peak)) ** 2
            )
            formants = np.array(
                [
                    rng.uniform(260, 320),
                    rng.uniform(550, 800),
                    rng.uniform(1300, 1800),
                    rng.uniform(2400, 2900),
                ]
            )
            gains = np.array([0.7, 1.0, 0.8 + 0.5 * b, 0.35 + 0.6 * b])
        else:  # exhale: quick onset, long decay, lower and softer
            peak = rng.uniform(0.08, 0.18)
            env = np.where(
                x < peak, np.sin(0.5 * np.pi * x / peak) ** 2, ((1 - x) / (1 - peak)) ** 1.3
            )
            formants = np.array(
                [
                    rng.uniform(230, 290),
                    rng.uniform(450, 650),
                    rng.uniform(1100, 1500),
                    rng.uniform(2200, 2700),
                ]
            )
            gains = np.array([0.9, 1.0, 0.5 + 0.4 * b, 0.15 + 0.4 * b])
        bws = formants * rng.uniform(0.09, 0.16, 4)
        src = white(rng, n).astype(np.float64)
        y = np.zeros(n)
        for sos, g in zip(_formant_sos(sr, formants, bws), gains * rng.uniform(0.8, 1.2, 4)):
            y += g * sps.sosfilt(sos, src)
        # flow envelope with a slow random tremor (turbulence is not steady)
        tremor = 1.0 + 0.12 * np.interp(x, np.linspace(0, 1, 8), rng.standard_normal(8))
        y *= env * np.clip(tremor, 0.6, 1.4)
        return y * level

    def _breath(self) -> tuple[np.ndarray, float]:
        """One breath (inhale, exhale) and the period to the next breath (s)."""
        rng, v = self.rng, self.values
        period = 60.0 / v["rate_per_min"] * float(np.clip(rng.normal(1.0, 0.06), 0.85, 1.15))
        pause = period * v["pause_frac"] * rng.uniform(0.8, 1.2)
        active = period - pause
        ratio = v["ie_ratio"] * rng.uniform(0.9, 1.1)
        t_in = active * ratio / (1.0 + ratio)
        t_out = active - t_in
        level = rng.lognormal(0.0, 0.12)
        inh = self._phase(int(t_in * self.sr), inhale=True, level=level)
        exh = self._phase(int(t_out * self.sr), inhale=False, level=level * rng.uniform(0.55, 0.7))
        gap = int(rng.uniform(0.03, 0.12) * self.sr)  # the turn between inhale and exhale
        wave = np.concatenate([inh, np.zeros(gap), exh])
        return wave, period

    def _generate(self) -> np.ndarray:
        n = _CHUNK
        while self._next < n:
            wave, period = self._breath()
            self._ola.add_one(self._next, wave)
            self.onsets_s.append((self._t + self._next) / self.sr)
            self.breaths += 1
            self._next += max(1, int(period * self.sr))
        self._next -= n
        self._t += n
        return soft_limit(self._ola.pop(n) * _GAIN, knee=0.5, ceiling=0.7)
