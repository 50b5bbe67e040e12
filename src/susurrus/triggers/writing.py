"""Writing: a pencil on paper, letter by letter, word by word."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from . import register
from ._friction import decaying_bursts, fade, highpass_gain, lowpass_gain, ridge_impulses
from ._strokes import RoomTone, peak_guard, speed_profile, swept_band
from .base import EventTrigger, Param

JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "pencil": {"strokes_per_s": 4.0, "brightness": 0.6},
}

_LEVEL = 0.31  # calibrated: about −38 dBFS RMS, the loudest strokes near −4.4 dBFS
_BED = 0.00225  # room tone RMS (≈ −24 dB under the strokes)
_TOOTH_M = 2.8e-4  # mean spacing of the paper's tooth (fibre ridges), m
_SPEED_M_S = 0.097  # mean peak writing speed of a stroke, m/s
_JITTER = 0.12  # irregularity of the tooth spacing
_GRAIN_MS = 0.32  # decay of one stick-slip micro-burst
_SWELL = 0.7  # level ∝ v^_SWELL
_SLIP_POW = 0.53  # slip strength ∝ v^_SLIP_POW
_SQUEAL_HZ = (4700.0, 45600.0)  # contact resonance at rest and at full speed (brightness 0.5)
_Q = 4.45
_WIDTH = 0.43
_HP_HZ = 1100.0
_TAP = 8.0  # touch-down tap (relative to the friction)
_DUR_S = (0.036, 0.18)  # stroke duration range (scale 1)
_LIFT_S = (0.01, 0.135)  # pen lift within a word
_WORD_S = (0.25, 0.7)  # pause between words
_WORD_STROKES = (3, 10)  # strokes per word (integers, high exclusive)
#: mean stroke onsets per second of the unscaled schedule
_NATURAL_RATE = 1.0 / (
    (_DUR_S[0] + _DUR_S[1]) / 2
    + (_LIFT_S[0] + _LIFT_S[1]) / 2
    + ((_WORD_S[0] + _WORD_S[1]) / 2 - (_LIFT_S[0] + _LIFT_S[1]) / 2)
    / ((_WORD_STROKES[0] + _WORD_STROKES[1] - 1) / 2)
)


@register
class Writing(EventTrigger):
    """A pencil writing on paper.

    Physics
    -------
    Graphite sliding on paper is stick-slip friction over the paper's *tooth*: the
    lead catches on the fibre ridges, about ``λ ≈ 0.25 mm`` apart, so at a writing
    speed ``v`` of 5–15 cm/s it slips ``v / λ`` ≈ 200–600 times a second (Akay
    2002) — a buzzy comb of sub-millisecond micro-bursts that glides with the pen
    speed. The bursts ring the lead–paper contact, a narrow resonance whose
    frequency rises with the sliding speed (a stiffer, shorter contact), from
    ≈ 4.7 kHz at rest upwards (``brightness`` shifts it ±1 octave; rendered as a
    moving band over a small filterbank); below ~0.9 kHz the light sheet radiates
    little. The slip strength and the contact's level follow the speed (∝ ``v^1.75``). Handwriting is a sequence of
    short strokes of 40–180 ms with a bell-shaped (minimum-jerk) speed profile
    (Flash & Hogan 1985) — each touch-down lands with a tiny tap — separated by brief
    pen lifts; letters form words, and words are separated by longer pauses. Under
    it all, the faint tone of a quiet room.

    Parameters: ``strokes_per_s`` (mean stroke onsets per second, pauses included:
    the writing tempo scales every duration), ``brightness`` (contact resonance),
    ``pressure`` (level and graininess).
    """

    family = "writing"
    description = "A pencil writing on paper: short strokes, pen lifts, word pauses"
    params = (
        Param("strokes_per_s", 3.5, 1.5, 12.0, "1/s", "mean stroke onsets per second"),
        Param("brightness", 0.5, 0.0, 1.0, "", "contact resonance: dull (0) to squeaky (1)"),
        Param("pressure", 0.5, 0.0, 1.0, "", "pen pressure: level and graininess"),
    )
    variant_defaults: ClassVar[Mapping[str, Mapping[str, float]]] = {"pencil": {}}
    chunk_size = 16384

    def _setup(self) -> None:
        self._scale = _NATURAL_RATE / self.values["strokes_per_s"]
        self._bright = 2.0 ** (2.0 * (self.values["brightness"] - 0.5))  # ±1 octave
        self._air_hz = min(12000.0 * self._bright, 0.45 * self.sr)  # the top of the grain
        self._room = RoomTone(self.sr, _BED, hp_hz=100.0, lp_hz=2000.0)

    def _bed(self, n: int) -> np.ndarray:
        return self._room(self.rng, n)

    def _stroke_excitation(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """One stroke of ``n`` samples: (excitation, normalised speed profile)."""
        rng, sr = self.rng, self.sr
        v = speed_profile(n, rng, glide=rng.uniform(0.0, 0.4), tremor=0.19)
        v_peak = _SPEED_M_S * rng.uniform(0.6, 1.4)
        tooth = _TOOTH_M * rng.uniform(0.8, 1.25)
        rate = v_peak * v / tooth
        slips = ridge_impulses(rng, rate, sr, jitter=_JITTER)
        hit = np.flatnonzero(slips)
        slips[hit] *= v[hit] ** _SLIP_POW
        grains = decaying_bursts(rng, slips, sr, _GRAIN_MS)
        grains *= 1.0 / np.sqrt(max(float(rate.mean()), 1.0) * _GRAIN_MS * 2e-3)
        share = min(1.0, 0.5 + self.values["pressure"])  # graininess grows with pressure
        if share < 1.0:
            grains = share * grains + (1.0 - share) * rng.standard_normal(n) * v
        exc = grains * np.power(v.astype(np.float32), np.float32(_SWELL))
        k = min(64, n)  # the touch-down tap
        exc[:k] += _TAP * rng.standard_normal(k) * np.exp(-np.arange(k) / 8.0)
        exc *= rng.uniform(0.6, 1.0)  # stroke-to-stroke level
        return exc, v / max(float(v.max()), 1e-9)

    def _event(self) -> tuple[np.ndarray, float]:
        """One word: its strokes and pen lifts, filtered in one batch."""
        rng, sr, s = self.rng, self.sr, self._scale
        n_strokes = int(rng.integers(*_WORD_STROKES))
        pad = 512
        durs = [max(64, int(rng.uniform(*_DUR_S) * s * sr)) for _ in range(n_strokes)]
        onsets = [0]
        for d in durs[:-1]:
            onsets.append(onsets[-1] + d + int(rng.uniform(*_LIFT_S) * s * sr))  # a lift
        n_max = max(durs)
        exc = np.zeros((n_strokes, n_max), dtype=np.float32)
        along = np.zeros((n_strokes, n_max))
        for i, d in enumerate(durs):
            exc[i, :d], along[i, :d] = self._stroke_excitation(d)
        lo = np.log(_SQUEAL_HZ[0] * self._bright)
        hi = np.log(_SQUEAL_HZ[1] * self._bright)
        strokes = swept_band(
            exc,
            sr,
            lo + (hi - lo) * along,
            n_bands=5,
            width=_WIDTH,
            q=_Q,
            common=lambda f: highpass_gain(f, _HP_HZ, 2) * lowpass_gain(f, self._air_hz, 2),
            pad=pad,
        )
        y = np.zeros(onsets[-1] + durs[-1] + pad)
        for i, (o, d) in enumerate(zip(onsets, durs, strict=True)):
            y[o : o + d + pad] += fade(strokes[i, : d + pad], sr, 1.5)
        y *= _LEVEL * (0.5 + self.values["pressure"])
        peak_guard(y)
        gap = (onsets[-1] + durs[-1]) / sr + rng.uniform(*_WORD_S) * s  # between words
        return y, gap
