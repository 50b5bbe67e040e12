"""Writing: a pencil on paper, letter by letter, word by word."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from .. import _signal as sps
from . import register
from ._friction import fade, gaussian_f32, highpass_gain, lowpass_gain, ridge_impulses
from ._strokes import RoomTone, peak_guard, swept_band
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
        self._room = RoomTone(self.sr, _BED, hp_hz=100.0, lp_hz=2000.0, normal=gaussian_f32)

    def _bed(self, n: int) -> np.ndarray:
        return self._room(self.rng, n)

    def _common(self, f: np.ndarray) -> np.ndarray:
        """The sheet's high-pass times the grain's top, on the rFFT grid ``f`` (cached)."""
        n_fft = int(round(self.sr / float(f[1]))) if len(f) > 1 else 1
        return _common_gain(n_fft, self.sr, self._air_hz)

    def _strokes(self, durs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The excitations of a word's strokes of ``durs`` samples, end to end (float32),
        and their speed profiles normalised to a peak of 1 (float64).

        Every stroke draws its own speed profile, peak speed, tooth spacing and level;
        the per-sample work (the ridge count, the micro-bursts, the swell) runs once
        over the whole word.
        """
        rng, sr = self.rng, self.sr
        k = len(durs)
        starts = np.concatenate([[0], np.cumsum(durs)])
        total = int(starts[-1])
        # speed profiles: the minimum-jerk law every 16 samples, interpolated linearly
        m = np.maximum(2, durs // 16)
        coarse = _speed_profiles(m, rng.uniform(0.0, 0.4, k), rng.standard_normal((k, 6)))
        c_starts = np.concatenate([[0], np.cumsum(m)])
        j = np.arange(total) - np.repeat(starts[:-1], durs)
        x = j * np.repeat((m - 1) / np.maximum(durs - 1, 1), durs)
        x += np.repeat(c_starts[:-1], durs)
        v = np.interp(x, np.arange(len(coarse)), coarse)
        v_peak = _SPEED_M_S * rng.uniform(0.6, 1.4, k)
        tooth = _TOOTH_M * rng.uniform(0.8, 1.25, k)
        rate = v * np.repeat(v_peak / tooth, durs)  # slips per second
        # the ridges passed: a slip at each integer of the (jittered) ridge count
        slips = ridge_impulses(rng, rate, sr, jitter=_JITTER, normal=gaussian_f32)
        hit = np.flatnonzero(slips)
        slips[hit] *= v[hit] ** _SLIP_POW
        c = float(np.exp(-1000.0 / (_GRAIN_MS * sr)))
        env = sps.lfilter([1.0], [1.0, -c], slips)
        grains = gaussian_f32(rng, total)
        grains *= env
        mean_rate = np.add.reduceat(rate, starts[:-1]) / durs
        norm = 1.0 / np.sqrt(np.maximum(mean_rate, 1.0) * _GRAIN_MS * 2e-3)
        share = min(1.0, 0.5 + self.values["pressure"])  # graininess grows with pressure
        if share < 1.0:
            smooth = gaussian_f32(rng, total)
            smooth *= v
            smooth *= np.float32((1.0 - share) / share)
            smooth /= np.repeat(norm, durs).astype(np.float32)
            grains += smooth
            norm *= share
        level = rng.uniform(0.6, 1.0, k)  # stroke-to-stroke level
        gain = (norm * level).astype(np.float32)
        grains *= np.power(v.astype(np.float32), np.float32(_SWELL))
        taps = gaussian_f32(rng, 64 * k).reshape(k, 64)
        taps *= _TAP_SHAPE
        taps *= (level / np.maximum(gain, 1e-30)).astype(np.float32)[:, None]
        along = v
        for i in range(k):  # the touch-down tap, the stroke's level and normalised speed
            a, b = int(starts[i]), int(starts[i + 1])
            grains[a : a + 64] += taps[i]
            grains[a:b] *= gain[i]
            along[a:b] /= max(float(along[a:b].max()), 1e-9)
        return grains, along

    def _event(self) -> tuple[np.ndarray, float]:
        """One word: its strokes and pen lifts, filtered in one batch."""
        rng, sr, s = self.rng, self.sr, self._scale
        n_strokes = int(rng.integers(*_WORD_STROKES))
        pad = 512
        durs = np.maximum(64, (rng.uniform(*_DUR_S, n_strokes) * s * sr).astype(np.int64))
        lifts = (rng.uniform(*_LIFT_S, n_strokes - 1) * s * sr).astype(np.int64)
        onsets = np.concatenate([[0], np.cumsum(durs[:-1] + lifts)])
        flat, along_flat = self._strokes(durs)
        n_max = int(durs.max())
        exc = np.zeros((n_strokes, n_max), dtype=np.float32)
        along = np.zeros((n_strokes, n_max))
        a = 0
        for i, d in enumerate(durs.tolist()):
            exc[i, :d] = flat[a : a + d]
            along[i, :d] = along_flat[a : a + d]
            a += d
        lo = np.log(_SQUEAL_HZ[0] * self._bright)
        hi = np.log(_SQUEAL_HZ[1] * self._bright)
        along *= hi - lo
        along += lo
        strokes = swept_band(
            exc,
            sr,
            along,
            n_bands=5,
            width=_WIDTH,
            q=_Q,
            common=self._common,
            pad=pad,
        )
        y = np.zeros(int(onsets[-1] + durs[-1]) + pad)
        for o, d, stroke in zip(onsets.tolist(), durs.tolist(), strokes, strict=True):
            y[o : o + d + pad] += fade(stroke[: d + pad], sr, 1.5)
        y *= _LEVEL * (0.5 + self.values["pressure"])
        peak_guard(y)
        gap = (onsets[-1] + durs[-1]) / sr + rng.uniform(*_WORD_S) * s  # between words
        return y, gap


def _speed_profiles(m: np.ndarray, glides: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Speed profiles (peak ≈ 1) of strokes of ``m[i]`` samples, end to end.

    The law of :func:`~susurrus.triggers._friction.stroke_profile` for all strokes at
    once: the minimum-jerk bell ``16 τ² (1 − τ)²`` (Flash & Hogan 1985) blended with a
    plateau with raised-cosine ramps (``glides[i]`` = the plateau's share), times a
    tremor linear between the ``1 + 0.19 knots[i]`` (six knots over the stroke).
    """
    stroke = np.repeat(np.arange(len(m)), m)
    first = np.concatenate([[0], np.cumsum(m)[:-1]])
    tau = (np.arange(len(stroke)) - first[stroke]) / (m - 1)[stroke]
    rev = 1.0 - tau
    g = glides[stroke]
    bell = tau * rev
    bell *= bell
    bell *= 16.0 * (1.0 - g)
    ramp = np.maximum(1e-3, (1.0 - glides) / 2.0)[stroke]
    edge = np.minimum(tau, rev) / ramp  # the ramps are exactly 1 between them
    np.minimum(edge, 1.0, out=edge)
    plateau = np.cos(np.pi * edge)
    plateau *= -0.5
    plateau += 0.5
    plateau *= g
    bell += plateau
    # the tremor: linear between six knots
    pos = tau * 5.0
    seg = np.minimum(pos.astype(np.int64), 4)
    pos -= seg
    kn = 1.0 + 0.19 * knots
    tremor = kn[stroke, seg]
    tremor += (kn[stroke, seg + 1] - tremor) * pos
    bell *= tremor
    np.maximum(bell, 0.0, out=bell)
    return bell


#: the touch-down tap's decay over its 64 samples
_TAP_SHAPE = (_TAP * np.exp(-np.arange(64) / 8.0)).astype(np.float32)


@functools.lru_cache(maxsize=64)
def _common_gain(n_fft: int, sr: int, air_hz: float) -> np.ndarray:
    """High-pass at ``_HP_HZ`` times low-pass at ``air_hz`` on the ``n_fft`` rFFT grid."""
    f = np.fft.rfftfreq(n_fft, 1.0 / sr)
    g = (highpass_gain(f, _HP_HZ, 2) * lowpass_gain(f, air_hz, 2)).astype(np.float32)
    g.flags.writeable = False
    return g
