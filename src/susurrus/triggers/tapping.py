"""Tapping: fingertips and fingernails on wood, glass and plastic (modal impacts)."""

from __future__ import annotations

from collections import deque
from typing import ClassVar

import numpy as np

from . import register
from ._impacts import contact_gain, damped_modes, noise_burst, position_weights
from .base import EventTrigger, Param

#: a second parameter setting per variant for the recognition test
JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "wood": {"tempo_bpm": 210.0, "hardness": 0.95},
    "glass": {"tempo_bpm": 200.0, "burstiness": 0.5},
    "plastic": {"tempo_bpm": 200.0, "hardness": 0.6},
    "fingernails": {"tempo_bpm": 200.0, "hardness": 0.8},
}

# material: (f0 range Hz, mode ratios, decay of the fundamental s, decay exponent,
#            fingertip contact s, contact-noise band Hz, contact-noise level, noise decay s,
#            thud Hz, thud level)
_MATERIALS: dict[
    str,
    tuple[
        tuple[float, float],
        tuple[float, ...],
        float,
        float,
        float,
        tuple[float, float],
        float,
        float,
        float,
        float,
    ],
] = {
    "wood": (
        (170.0, 255.0),
        (1.0, 1.62, 2.31, 2.95, 3.78, 4.71, 5.63),
        0.0076,
        0.75,
        0.37e-3,
        (500.0, 11900.0),
        0.62,
        0.6e-3,
        340.0,
        1.95,
    ),
    "glass": (
        (1500.0, 2300.0),
        (1.0, 2.71, 5.05, 5.31, 8.2),
        0.02,
        0.55,
        0.5e-3,
        (2500.0, 11000.0),
        1.1,
        0.6e-3,
        250.0,
        0.6,
    ),
    "plastic": (
        (720.0, 1080.0),
        (1.0, 1.87, 2.69, 3.93, 5.02, 6.3),
        0.0045,
        0.45,
        0.26e-3,
        (1250.0, 12000.0),
        0.4,
        1.8e-3,
        230.0,
        1.1,
    ),
    "fingernails": (
        (260.0, 390.0),
        (1.0, 1.71, 2.64, 3.58, 4.83, 6.1),
        0.006,
        0.85,
        0.13e-3,
        (1250.0, 11000.0),
        0.36,
        0.35e-3,
        160.0,
        1.3,
    ),
}


@register
class Tapping(EventTrigger):
    """Finger or fingernail taps on a wooden, glass or plastic object.

    Physics (modal synthesis of impacts; van den Doel, Kry & Pai 2001): the struck
    object rings as a sum of damped modes ``Σ a_k e^{-t/τ_k} sin(2π f_k t)``.

    * **Material** sets the modes: wood — a table or desk top: low inharmonic plate
      modes (≈ 170–1500 Hz) damped within ≈ 10 ms (wood's internal friction and the
      table's mounting), so a fingertip tap is a dull knock with a heavy finger thud;
      glass — a small tumbler or jar struck by a fingertip or nail: high modes
      (≈ 1.6–2.5 kHz up to ≈ 10 kHz, glass-shell ratios 1 : 2.7 : 5.1 …) with a
      strong contact "chink" and a short ring (τ ≈ 20 ms on the lowest mode, less on
      the higher ones: a glass held or standing on a table is damped by the hand or
      the table, so it clinks rather than chimes);
      plastic — a hollow case or box: mid modes (≈ 0.7–6 kHz) damped within a few ms
      (τ ≈ 5 ms; polymers have a high loss factor), so a tap is a short "tok" of
      contact noise and a heavy finger thud rather than a pitch; fingernails — a hard,
      very short nail contact (≈ 0.13 ms: a click of contact noise up to ≈ 11 kHz) on
      a hollow surface whose low modes (≈ 0.26–2.4 kHz) ring briefly, followed by the
      soft fingertip pad landing (the low "thud"). Higher modes decay faster,
      ``τ_k = τ_0 (f_0/f_k)^p``.
    * **Contact**: the fingertip pushes a half-sine force pulse into the surface;
      its duration ``T`` (soft pad ≈ 1–2 ms, nail ≈ 0.1 ms) low-passes the mode
      excitation (spectrum ``|cos(π f T)| / |1 − (2fT)²|``). Harder taps — more force
      (Hertz contact: ``T ∝ F^{-1/5}``) or a harder finger — are brighter.
    * **Position**: mode ``k`` is excited in proportion to its shape at the strike
      point, ``|sin(π k x)|``; the hand drifts across the surface and each finger of
      a roll lands somewhere else, so the timbre changes from tap to tap.
    * **Timing**: a steady beat at ``tempo_bpm`` with human jitter around an internal
      clock (errors do not accumulate) and slow tempo drift; with ``burstiness`` > 0
      some beats become quick finger rolls (3–5 taps, 35–70 ms apart) and the hand
      occasionally pauses. With ``burstiness = 0`` the median inter-onset interval
      is ``60 / tempo_bpm``.

    Every tap is synthesised afresh (random force, position, contact noise and a
    slight loading detune of the modes), and every 20–60 s the hand moves to a
    slightly different object of the same material, so nothing ever repeats.
    """

    family = "tapping"
    description = "Fingertip and nail taps on wood, glass and plastic"
    params = (
        Param("tempo_bpm", 240.0, 30.0, 720.0, "bpm", "taps per minute of the steady beat"),
        Param(
            "burstiness", 0.3, 0.0, 1.0, "", "share of quick finger rolls and pauses (0: steady)"
        ),
        Param(
            "hardness",
            0.5,
            0.0,
            1.0,
            "",
            "tap force and finger hardness: shorter contact, brighter",
        ),
        Param("brightness", 0.5, 0.0, 1.0, "", "pitch and brilliance of the tapped object"),
        Param("jitter", 0.04, 0.0, 0.2, "", "human timing jitter, SD as a fraction of the beat"),
    )
    variant_defaults: ClassVar[dict[str, dict[str, float]]] = {
        "wood": {"tempo_bpm": 280.0, "burstiness": 0.3, "hardness": 0.7},
        "glass": {"tempo_bpm": 150.0, "burstiness": 0.2, "brightness": 0.6},
        "plastic": {"tempo_bpm": 300.0, "burstiness": 0.7, "hardness": 0.3, "jitter": 0.08},
        "fingernails": {"tempo_bpm": 300.0, "burstiness": 0.15, "hardness": 0.45},
    }

    def _setup(self) -> None:
        (
            self._f0_range,
            ratios,
            self._tau0,
            self._tau_p,
            self._contact_s,
            self._noise_band,
            self._noise_level,
            self._noise_decay,
            self._thud_hz,
            self._thud_level,
        ) = _MATERIALS[self.variant]
        self._ratios = np.asarray(ratios)
        self._queue: deque[tuple[float, float, float]] = deque()  # (onset s, force, position)
        self._grid_s = 0.0  # time of the next beat on the internal clock
        self._tempo_drift = 0.0
        self._x = float(self.rng.uniform(0.15, 0.85))
        self._object_left_s = 0.0
        self._new_object()

    def _new_object(self) -> None:
        lo, hi = self._f0_range
        b = self.values["brightness"]
        scale = 0.8 + 0.45 * b  # brighter: a smaller, stiffer object
        self._f0 = float(self.rng.uniform(lo, hi)) * scale
        self._obj_ratios = self._ratios * (1.0 + 0.04 * self.rng.standard_normal(len(self._ratios)))
        self._obj_ratios[0] = 1.0
        self._obj_ratios = np.sort(self._obj_ratios)
        self._object_left_s = float(self.rng.uniform(20.0, 60.0))

    def _plan_beat(self) -> None:
        """Append the taps of the next beat (one tap, or a finger roll) to the queue."""
        v = self.values
        rng = self.rng
        self._tempo_drift = float(
            np.clip(0.97 * self._tempo_drift + 0.004 * rng.standard_normal(), -0.03, 0.03)
        )
        period = 60.0 / v["tempo_bpm"] * (1.0 + self._tempo_drift)
        burst = v["burstiness"]
        onset = self._grid_s + v["jitter"] * period * float(
            np.clip(rng.standard_normal(), -2.5, 2.5)
        )
        self._x = float(np.clip(self._x + 0.05 * rng.standard_normal(), 0.08, 0.92))
        if burst > 0 and rng.random() < 0.3 * burst:
            n = int(rng.integers(3, 6))
            gap = float(rng.uniform(0.035, 0.07))
            for i in range(n):
                xi = float(
                    np.clip(self._x + 0.12 * (i - n / 2) + 0.03 * rng.standard_normal(), 0.05, 0.95)
                )
                force = float(np.clip(rng.lognormal(-0.25, 0.2) * (1.0 - 0.08 * i), 0.2, 1.2))
                self._queue.append(
                    (onset + i * gap * (1 + 0.15 * rng.standard_normal()), force, xi)
                )
            self._grid_s += period * max(1, int(np.ceil(n * gap / period)))
        else:
            force = float(np.clip(rng.lognormal(0.0, 0.22), 0.25, 1.35))
            self._queue.append((onset, force, self._x + 0.02 * float(rng.standard_normal())))
            self._grid_s += period
        if burst > 0 and rng.random() < 0.04 * burst:  # the hand pauses, moves
            self._grid_s += period * int(rng.integers(2, 6))

    def _first_onset_s(self) -> float:
        while len(self._queue) < 2:
            self._plan_beat()
        self._t_now = self._queue[0][0]  # the stream's time origin is arbitrary
        return float(self.rng.uniform(0.05, 0.3))

    def _tap(self, force: float, x: float) -> np.ndarray:
        v = self.values
        rng = self.rng
        sr = self.sr
        f = self._f0 * self._obj_ratios * (1.0 + 0.003 * rng.standard_normal(len(self._obj_ratios)))
        tau = self._tau0 * (self._f0 / f) ** self._tau_p * rng.uniform(0.85, 1.15)
        hard = v["hardness"]
        contact = self._contact_s * (1.6 - 1.1 * hard) * force**-0.2
        amps = position_weights(len(f), float(np.clip(x, 0.02, 0.98))) * contact_gain(f, contact)
        amps *= (f / self._f0) ** (-0.6 + 0.8 * v["brightness"])
        amps *= rng.uniform(0.8, 1.2, len(f))
        dur = float(min(5.0 * tau.max(), 1.6))
        n = max(64, int(dur * sr))
        # the finger pad's mass on the local contact stiffness: a heavily damped low
        # "thud" oscillator (about one cycle long) under the object's modes
        f_thud = self._thud_hz * rng.uniform(0.85, 1.15)
        body = damped_modes(sr, n, f, tau, amps)
        body /= max(float(np.max(np.abs(body))), 1e-9)
        thud = damped_modes(sr, min(n, int(6.0 / f_thud * sr)), [f_thud], [1.2 / f_thud], [1.0])
        # a soft pad thuds; a hard (stiff, nail-like) finger mostly rings the object
        body[: len(thud)] += self._thud_level * (1.3 - 0.8 * hard) * (0.5 + force * 0.5) * thud
        lo, hi = self._noise_band
        tilt = 0.7 + 0.6 * hard
        noise_n = min(n, int(12 * self._noise_decay * sr) + 16)
        noise = noise_burst(
            rng,
            sr,
            noise_n,
            lo_hz=lo * tilt,
            hi_hz=min(hi * tilt, 0.45 * sr),
            attack_s=min(contact, 1e-3) * 0.5,
            decay_s=self._noise_decay,
        )
        body[:noise_n] += self._noise_level * (0.6 + 0.6 * hard) * noise * rng.uniform(0.7, 1.3)
        peak = float(np.max(np.abs(body)))
        return body * (0.5 * force / peak)

    def _event(self) -> tuple[np.ndarray, float]:
        while len(self._queue) < 2:
            self._plan_beat()
        _, force, x = self._queue.popleft()
        wave = self._tap(force, x)
        gap = max(self._queue[0][0] - self._t_now, 0.02)
        self._t_now += gap
        self._object_left_s -= gap
        if self._object_left_s <= 0:
            self._new_object()
        return wave, gap
