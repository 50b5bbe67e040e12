"""Clock: the tick-tock of a mechanical clock's escapement in its case."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from . import register
from ._impacts import OnsetGrid, contact_gain, damped_modes, highpass, noise_burst
from .base import EventTrigger, Param

#: a second parameter setting per variant for the recognition test
JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "ticking": {"tick_rate_hz": 1.0, "brightness": 0.35},
}


@register
class Clock(EventTrigger):
    """A mechanical clock ticking: escapement impacts exciting a small case.

    Physics: in an anchor (recoil) escapement the pendulum lets the escape wheel
    turn by half a tooth per swing; each release ends in the wheel tooth striking the
    pallet — a sub-millisecond metal-on-metal impact, followed within a few ms by a
    smaller "drop"/rebound impact. The impacts excite (1) the small steel parts of
    the movement — stiff, high, quickly damped modes (≈ 2–7 kHz, τ ≈ 2–6 ms) — and
    (2) the case, a wooden or sheet-metal box resonator whose plate modes
    (≈ 0.4–2 kHz, τ ≈ 10–40 ms) carry most of the sound (modal synthesis,
    van den Doel et al. 2001). The entry and exit pallets sit at different points of
    the movement, so successive beats alternate in timbre — *tick* and *tock* (the
    tock a little lower and duller, ``tock_contrast``).

    The period is fixed by the pendulum: ticks fall on an exact grid at
    ``tick_rate_hz`` (onsets scheduled to the sample with no drift). Every impact is
    synthesised afresh — random impact force, a slight scatter of the impact
    geometry (mode amplitudes and ±0.3 % mode frequencies) and fresh contact
    noise — so no two ticks are sample-identical, as in a real movement.
    """

    family = "clock"
    description = "A ticking mechanical clock"
    params = (
        Param("tick_rate_hz", 2.0, 0.5, 6.0, "Hz", "beats per second (2: a 0.5 s tick-tock)"),
        Param("tock_contrast", 0.5, 0.0, 1.0, "", "how different the tock sounds from the tick"),
        Param(
            "brightness", 0.5, 0.0, 1.0, "", "small metal case (bright) … large wooden case (dark)"
        ),
        Param("loudness", 0.5, 0.0, 1.0, "", "impact force (level and a little brightness)"),
    )
    variant_defaults: ClassVar[dict[str, dict[str, float]]] = {"ticking": {}}

    def _setup(self) -> None:
        rng = self.rng
        b = self.values["brightness"]
        scale = 0.75 + 0.6 * b
        # case plate modes (Hz), irregular ratios of a thin rectangular box
        self._case_f = scale * 520.0 * np.array([1.0, 1.37, 1.93, 2.41, 2.96, 3.62])
        self._case_f *= 1.0 + 0.05 * rng.standard_normal(len(self._case_f))
        self._case_tau = 0.03 * (self._case_f[0] / self._case_f) ** 0.6
        # movement (steel wheel and pallet) modes
        self._steel_f = (1.0 + 0.3 * b) * np.array([2300.0, 3100.0, 4400.0, 6200.0])
        self._steel_f *= 1.0 + 0.04 * rng.standard_normal(len(self._steel_f))
        self._steel_tau = np.array([0.006, 0.004, 0.003, 0.002])
        # pallet positions: the tick and the tock excite the case at different points
        self._pos = [
            rng.uniform(0.6, 1.4, len(self._case_f)),
            rng.uniform(0.6, 1.4, len(self._case_f)),
        ]
        self._grid = OnsetGrid(self.sr)
        self._beat = 0

    def _impact(self, force: float, tock: bool, n: int) -> np.ndarray:
        v = self.values
        rng = self.rng
        sr = self.sr
        c = v["tock_contrast"] if tock else 0.0
        shift = 1.0 - 0.12 * c
        case_f = self._case_f * shift * (1.0 + 0.003 * rng.standard_normal(len(self._case_f)))
        steel_f = (
            self._steel_f
            * (1.0 - 0.08 * c)
            * (1.0 + 0.003 * rng.standard_normal(len(self._steel_f)))
        )
        contact = 0.12e-3 * (1.3 - 0.5 * v["loudness"]) * force**-0.2 * (1.0 + 0.6 * c)
        pos = self._pos[1 if tock else 0] * rng.uniform(0.9, 1.1, len(case_f))
        case = damped_modes(
            sr,
            n,
            case_f,
            self._case_tau * rng.uniform(0.9, 1.1),
            pos * contact_gain(case_f, contact),
        )
        steel = damped_modes(
            sr,
            min(n, int(0.03 * sr)),
            steel_f,
            self._steel_tau,
            contact_gain(steel_f, contact) * rng.uniform(0.7, 1.3, len(steel_f)),
        )
        y = case / max(float(np.max(np.abs(case))), 1e-9)
        y[: len(steel)] += (0.45 - 0.2 * c) * steel / max(float(np.max(np.abs(steel))), 1e-9)
        k = int(0.002 * sr)
        y[:k] += 0.35 * noise_burst(
            rng, sr, k, lo_hz=1500.0, hi_hz=9000.0, attack_s=5e-5, decay_s=2.5e-4
        )
        return y

    def _event(self) -> tuple[np.ndarray, float]:
        v = self.values
        rng = self.rng
        sr = self.sr
        tock = self._beat % 2 == 1
        self._beat += 1
        force = float(np.clip(rng.lognormal(0.0, 0.08), 0.7, 1.3))
        n = int(0.16 * sr)
        y = self._impact(force, tock, n)
        # the drop: a second, smaller impact 3–8 ms after the first
        d = int(rng.uniform(0.003, 0.008) * sr)
        y[d:] += rng.uniform(0.25, 0.45) * self._impact(force * 0.5, tock, n - d)
        y = highpass(y, sr, 150.0)
        level = 0.35 + 0.3 * v["loudness"]
        y *= level * force / max(float(np.max(np.abs(y))), 1e-9)
        period = (
            1.0 / v["tick_rate_hz"] * (1.0 + 0.0005 * float(np.clip(rng.standard_normal(), -3, 3)))
        )
        return y, self._grid.advance(period)
