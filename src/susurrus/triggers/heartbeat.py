"""Heartbeat: a slow, resting lub-dub heard through the chest."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from . import register
from ._impacts import brown_noise, lowpass
from .base import EventTrigger, Param

#: a second parameter setting per variant for the recognition test
JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "slow": {"rate_bpm": 48.0, "brightness": 0.7},
    "resting": {"rate_bpm": 75.0, "variability": 0.6},
}


def _glide(
    sr: int, n: int, f_start: float, f_end: float, glide_s: float, attack_s: float, decay_s: float
) -> np.ndarray:
    """A damped sinusoid whose frequency glides exponentially from ``f_start`` to ``f_end``."""
    t = np.arange(n) / sr
    g = np.exp(-t / glide_s)
    # phase = 2π ∫ f dt with f(t) = f_end + (f_start − f_end) e^{−t/glide_s}
    phase = 2.0 * np.pi * (f_end * t + (f_start - f_end) * glide_s * (1.0 - g))
    env = (1.0 - np.exp(-t / attack_s)) * np.exp(-t / decay_s)
    return np.sin(phase) * env


@register
class Heartbeat(EventTrigger):
    """A resting heartbeat — lub (S1) and dub (S2) — as heard through the chest wall.

    Physics (cardiac auscultation; Rangayyan & Lehner 1987, Leatham 1958): the first
    heart sound S1 is the closure of the mitral then the tricuspid valve (M1, T1,
    10–30 ms apart); the sudden tensing of the valve leaflets and the blood mass
    rings the ventricles as a low, heavily damped oscillation, ≈ 50–150 Hz, lasting
    ≈ 80–120 ms, whose frequency falls as the wall tension settles. The second sound
    S2 (aortic then pulmonary valve closure, A2–P2) is shorter (≈ 60–80 ms) and a
    little higher (≈ 80–200 Hz); its split widens on inspiration. The interval S1→S2
    (systole) shortens only slowly with rate (≈ 0.33 s at 60 bpm), diastole takes
    the rest. Chest wall and stethoscope act as a low-pass filter (``brightness``
    sets its corner, 150–400 Hz), and a faint body/blood-flow rumble sits beneath.

    Each component is a damped sinusoid gliding down in frequency (fresh random
    frequencies, lengths, splits and amplitudes every beat, so no two beats are
    sample-identical). Rate: ``rate_bpm`` with respiratory sinus arrhythmia (the
    rate rises on inspiration — a ≈ 0.25 Hz modulation) and small random beat-to-beat
    variability (``variability``); the mean rate stays at ``rate_bpm``.
    """

    family = "heartbeat"
    description = "A slow, resting heartbeat (lub-dub)"
    params = (
        Param("rate_bpm", 60.0, 35.0, 120.0, "bpm", "heart rate, beats per minute"),
        Param(
            "variability", 0.3, 0.0, 1.0, "", "heart-rate variability (breathing-linked and random)"
        ),
        Param(
            "brightness", 0.5, 0.0, 1.0, "", "chest low-pass: muffled (0) … stethoscope-clear (1)"
        ),
        Param("dub_level", 0.6, 0.2, 1.0, "", "loudness of the second sound relative to the first"),
    )
    variant_defaults: ClassVar[dict[str, dict[str, float]]] = {
        "slow": {"rate_bpm": 54.0, "variability": 0.25},
        "resting": {"rate_bpm": 66.0, "variability": 0.35},
    }

    chunk_size: ClassVar[int] = 8192

    def _setup(self) -> None:
        self._breath_phase = float(self.rng.uniform(0, 2 * np.pi))
        self._breath_hz = float(self.rng.uniform(0.2, 0.3))
        self._bed_state = 0.0
        self._corner_hz = 150.0 + 250.0 * self.values["brightness"]

    def _component(self, f_start: float, f_end: float, dur_s: float) -> np.ndarray:
        rng = self.rng
        n = int(dur_s * self.sr)
        return _glide(
            self.sr,
            n,
            f_start * rng.uniform(0.9, 1.1),
            f_end * rng.uniform(0.9, 1.1),
            glide_s=dur_s * rng.uniform(0.25, 0.4),
            attack_s=dur_s * 0.06,
            decay_s=dur_s * rng.uniform(0.18, 0.25),
        )

    def _event(self) -> tuple[np.ndarray, float]:
        v = self.values
        rng = self.rng
        sr = self.sr
        period = 60.0 / v["rate_bpm"]
        var = v["variability"]
        inspiration = float(np.sin(self._breath_phase))
        beat_period = period * (
            1.0 - 0.04 * var * inspiration + 0.012 * var * float(rng.standard_normal())
        )
        self._breath_phase += 2 * np.pi * self._breath_hz * beat_period
        systole = min(0.33 * (period / 1.0) ** 0.4, 0.55 * beat_period)
        n = int((systole + 0.2) * sr)
        y = np.zeros(n)
        # S1: M1 then T1
        force = float(rng.lognormal(0.0, 0.06))
        m1 = self._component(140.0, 55.0, rng.uniform(0.09, 0.12))
        y[: len(m1)] += m1
        t1 = self._component(120.0, 50.0, rng.uniform(0.07, 0.1))
        o = int(rng.uniform(0.012, 0.03) * sr)
        y[o : o + len(t1)] += rng.uniform(0.4, 0.6) * t1[: n - o]
        # S2: A2 then P2 (split wider on inspiration)
        s2 = int(systole * sr)
        a2 = self._component(190.0, 80.0, rng.uniform(0.06, 0.08))
        y[s2 : s2 + len(a2)] += v["dub_level"] * rng.uniform(0.9, 1.1) * a2[: n - s2]
        split = int((0.025 + 0.02 * max(inspiration, 0.0)) * sr)
        p2 = self._component(160.0, 70.0, rng.uniform(0.05, 0.07))
        q = s2 + split
        y[q : q + len(p2)] += v["dub_level"] * rng.uniform(0.3, 0.5) * p2[: max(0, n - q)]
        y = lowpass(y, sr, self._corner_hz, order=2)
        y *= 0.6 * force / max(float(np.max(np.abs(y))), 1e-9)
        return y, beat_period

    def _bed(self, n: int) -> np.ndarray:
        x, self._bed_state = brown_noise(self.rng, n, self._bed_state, leak=0.995)
        return 0.0015 * x
