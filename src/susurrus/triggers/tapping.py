"""Tapping: fingertips and fingernails on wood, glass and plastic (modal impacts)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from . import register
from ._impacts import (
    contact_gain,
    damped_modes_batch,
    noise_bursts,
    position_weights,
    row_peaks,
    zero_past,
)
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


@dataclass
class _TapDraws:
    """Everything random about a batch of taps, one row or entry per tap."""

    freqs: np.ndarray  #: (taps, modes) mode frequencies, Hz
    tau_jitter: np.ndarray  #: decay-time factor
    amp_jitter: np.ndarray  #: (taps, modes) uniform 0…1 draws for the mode-level factors
    f0: np.ndarray  #: the struck object's fundamental, Hz
    force: np.ndarray  #: tap force (relative)
    x: np.ndarray  #: strike position (0…1)
    thud_hz: np.ndarray  #: finger-pad thud frequency
    noise_gain: np.ndarray  #: contact-noise level factor
    length: np.ndarray  #: samples of the tap
    noise_length: np.ndarray  #: samples of its contact noise
    white: np.ndarray  #: (taps, samples) white noise for the contact noise, zero-padded
    gaps: list[float]  #: seconds from each tap's onset to the next


def _uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    """``rng.uniform(lo, hi)`` for one number without its argument checks.

    numpy's ``Generator.uniform`` computes ``lo + (hi - lo) · random()``, so this is
    the same draw from the same stream (checked by ``tests/test_tapping_speed_contract.py``).
    """
    return lo + (hi - lo) * rng.random()


def _clip(value: float, lo: float, hi: float) -> float:
    """``np.clip`` for one number, without the array machinery (same result)."""
    return min(max(float(value), lo), hi)


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

    For speed, taps are synthesised ``batch_size`` at a time as a few array
    operations; their random numbers are still drawn tap by tap in the order that
    one-tap-per-event synthesis drew them, so a seed gives the same samples. The
    generator is therefore read up to a batch of taps ahead of the output.
    """

    family = "tapping"
    #: taps synthesised together (their random numbers are still drawn tap by tap)
    batch_size: ClassVar[int] = 32
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
        self._ready: deque[tuple[np.ndarray, float]] = deque()  # synthesised (tap, gap s)
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
        self._tempo_drift = _clip(
            0.97 * self._tempo_drift + 0.004 * rng.standard_normal(), -0.03, 0.03
        )
        period = 60.0 / v["tempo_bpm"] * (1.0 + self._tempo_drift)
        burst = v["burstiness"]
        onset = self._grid_s + v["jitter"] * period * _clip(rng.standard_normal(), -2.5, 2.5)
        self._x = _clip(self._x + 0.05 * rng.standard_normal(), 0.08, 0.92)
        if burst > 0 and rng.random() < 0.3 * burst:
            n = int(rng.integers(3, 6))
            gap = float(rng.uniform(0.035, 0.07))
            for i in range(n):
                xi = _clip(self._x + 0.12 * (i - n / 2) + 0.03 * rng.standard_normal(), 0.05, 0.95)
                force = _clip(rng.lognormal(-0.25, 0.2) * (1.0 - 0.08 * i), 0.2, 1.2)
                self._queue.append(
                    (onset + i * gap * (1 + 0.15 * rng.standard_normal()), force, xi)
                )
            self._grid_s += period * max(1, int(np.ceil(n * gap / period)))
        else:
            force = _clip(rng.lognormal(0.0, 0.22), 0.25, 1.35)
            self._queue.append((onset, force, self._x + 0.02 * float(rng.standard_normal())))
            self._grid_s += period
        if burst > 0 and rng.random() < 0.04 * burst:  # the hand pauses, moves
            self._grid_s += period * int(rng.integers(2, 6))

    def _first_onset_s(self) -> float:
        while len(self._queue) < 2:
            self._plan_beat()
        self._t_now = self._queue[0][0]  # the stream's time origin is arbitrary
        return float(self.rng.uniform(0.05, 0.3))

    def _draw_taps(self, k: int) -> _TapDraws:
        """Plan the next ``k`` taps and draw all their random numbers.

        The numbers are drawn tap by tap in exactly the order in which synthesising
        one tap per :meth:`_event` drew them (beat planning, the tap's own draws and
        the object changes interleave as they always did), so a seed's stream is
        unchanged by batching.
        """
        rng = self.rng
        sr = self.sr
        m = len(self._ratios)
        noise_max = int(12 * self._noise_decay * sr) + 16
        d = _TapDraws(
            freqs=np.empty((k, m)),
            tau_jitter=np.empty(k),
            amp_jitter=np.empty((k, m)),
            f0=np.empty(k),
            force=np.empty(k),
            x=np.empty(k),
            thud_hz=np.empty(k),
            noise_gain=np.empty(k),
            length=np.empty(k, dtype=np.int64),
            noise_length=np.empty(k, dtype=np.int64),
            white=np.zeros((k, noise_max)),
            gaps=[],
        )
        detune = np.empty(m)
        for i in range(k):
            while len(self._queue) < 2:
                self._plan_beat()
            _, d.force[i], d.x[i] = self._queue.popleft()
            # a slight loading detune of the modes, then the tap's decay, mode levels,
            # thud pitch, contact noise and noise level (this order is the stream's)
            rng.standard_normal(out=detune)
            f = self._f0 * self._obj_ratios * (1.0 + 0.003 * detune)
            u = _uniform(rng, 0.85, 1.15)
            rng.random(out=d.amp_jitter[i])  # scaled to 0.8 … 1.2 in _render_taps
            d.thud_hz[i] = self._thud_hz * _uniform(rng, 0.85, 1.15)
            # the longest decay is the lowest mode's (τ falls with frequency)
            tau_max = self._tau0 * (self._f0 / float(f.min())) ** self._tau_p * u
            n = max(64, int(min(5.0 * tau_max, 1.6) * sr))
            noise_n = min(n, noise_max)
            rng.standard_normal(out=d.white[i, :noise_n])
            d.noise_gain[i] = _uniform(rng, 0.7, 1.3)
            d.freqs[i], d.tau_jitter[i], d.f0[i] = f, u, self._f0
            d.length[i], d.noise_length[i] = n, noise_n
            gap = max(self._queue[0][0] - self._t_now, 0.02)
            self._t_now += gap
            self._object_left_s -= gap
            if self._object_left_s <= 0:
                self._new_object()
            d.gaps.append(gap)
        return d

    def _render_taps(self, d: _TapDraws) -> np.ndarray:
        """The taps of ``d`` as rows (tap ``i`` is ``row[: d.length[i]]``; zeros after it)."""
        v = self.values
        sr = self.sr
        k, m = d.freqs.shape
        hard = v["hardness"]
        f = d.freqs
        tau = self._tau0 * (d.f0[:, None] / f) ** self._tau_p * d.tau_jitter[:, None]
        contact = self._contact_s * (1.6 - 1.1 * hard) * d.force**-0.2
        amps = position_weights(m, np.clip(d.x, 0.02, 0.98)) * contact_gain(f, contact[:, None])
        amps *= (f / d.f0[:, None]) ** (-0.6 + 0.8 * v["brightness"])
        amps *= 0.8 + (1.2 - 0.8) * d.amp_jitter  # what rng.uniform(0.8, 1.2) makes of them
        width = int(d.length.max())
        body = damped_modes_batch(sr, width, f, tau, amps, dtype=np.float32)
        zero_past(body, d.length)
        body /= np.maximum(row_peaks(body), 1e-9)[:, None]
        # the finger pad's mass on the local contact stiffness: a heavily damped low
        # "thud" oscillator (about one cycle long) under the object's modes; a soft pad
        # thuds, a hard (stiff, nail-like) finger mostly rings the object
        thud_n = np.minimum(d.length, (6.0 / d.thud_hz * sr).astype(np.int64))
        thud = damped_modes_batch(
            sr,
            int(thud_n.max()),
            d.thud_hz[:, None],
            1.2 / d.thud_hz[:, None],
            np.ones((k, 1)),
            dtype=np.float32,
        )
        zero_past(thud, thud_n)
        thud *= (self._thud_level * (1.3 - 0.8 * hard) * (0.5 + d.force * 0.5))[:, None]
        body[:, : thud.shape[1]] += thud
        # contact noise: band-limited, brighter for a harder finger
        lo, hi = self._noise_band
        tilt = 0.7 + 0.6 * hard
        noise = noise_bursts(
            d.white,
            d.noise_length,
            sr,
            lo_hz=lo * tilt,
            hi_hz=min(hi * tilt, 0.45 * sr),
            attack_s=np.minimum(contact, 1e-3) * 0.5,
            decay_s=self._noise_decay,
        )
        noise *= (self._noise_level * (0.6 + 0.6 * hard) * d.noise_gain)[:, None]
        body[:, : noise.shape[1]] += noise[:, : body.shape[1]]
        body *= (0.5 * d.force / row_peaks(body))[:, None]
        return body

    def _event(self) -> tuple[np.ndarray, float]:
        if not self._ready:  # synthesise the next batch_size taps at once
            draws = self._draw_taps(self.batch_size)
            rows = self._render_taps(draws)
            self._ready.extend(
                (rows[i, :n], gap)
                for i, (n, gap) in enumerate(zip(draws.length, draws.gaps, strict=True))
            )
        return self._ready.popleft()
