"""Clock: the tick-tock of a mechanical clock's escapement."""

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
    """A small mechanical clock ticking, heard close: escapement impacts in the movement.

    Physics: in an anchor (recoil) escapement the pendulum or balance lets the escape
    wheel turn by half a tooth per swing; each release ends in the wheel tooth
    striking the pallet — a sub-millisecond metal-on-metal impact (a Hertzian contact
    of ≈ 0.1 ms, :func:`~._impacts.contact_gain`), followed within 3–8 ms by a smaller
    "drop"/rebound impact. The impact radiates (1) a click of contact noise and (2) the
    ring of the movement — brass plates, wheels and the steel pallet, small and stiff:
    inharmonic modes from ≈ 1 kHz up (ratios of a small plate, 1 : 1.47 : 2.09 …),
    damped within a few ms (τ ≈ 5 ms) by the pivots and riveted joints (modal
    synthesis, van den Doel et al. 2001). A clock heard close is this short, dry
    *tick* — a light case adds little (a resonant case modelled with slowly decaying
    plate modes would ring tonally, like a horn, which real ticks do not). The entry
    and exit pallets sit at different points of the movement, so successive beats
    alternate in timbre — *tick* and *tock* (the tock a little lower and longer,
    ``tock_contrast``).

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
            "brightness",
            0.5,
            0.0,
            1.0,
            "",
            "small, stiff movement (bright) … larger movement (dark)",
        ),
        Param("loudness", 0.5, 0.0, 1.0, "", "impact force (level and a little brightness)"),
    )
    variant_defaults: ClassVar[dict[str, dict[str, float]]] = {"ticking": {}}

    #: decay time of the lowest movement mode (s)
    _TAU_MOV: ClassVar[float] = 0.005
    #: level of the pallet's contact noise relative to the ringing movement
    _NOISE_LEVEL: ClassVar[float] = 0.5

    def _setup(self) -> None:
        rng = self.rng
        b = self.values["brightness"]
        scale = 0.75 + 0.6 * b
        # the movement: brass plates, wheels and the steel pallet, small and stiff —
        # inharmonic modes around 1–3 kHz, damped within a few ms by the riveted joints
        self._mov_f = scale * 1000.0 * np.array([1.0, 1.47, 2.09, 2.83, 3.6])
        self._mov_f *= 1.0 + 0.05 * rng.standard_normal(len(self._mov_f))
        self._mov_tau = self._TAU_MOV * (self._mov_f[0] / self._mov_f) ** 0.5
        # pallet positions: the tick and the tock excite the movement at different points
        self._pos = [
            rng.uniform(0.5, 1.0, len(self._mov_f)),
            rng.uniform(0.5, 1.0, len(self._mov_f)),
        ]
        self._grid = OnsetGrid(self.sr)
        self._beat = 0

    def _impact(self, force: float, tock: bool, n: int) -> np.ndarray:
        v = self.values
        rng = self.rng
        sr = self.sr
        c = v["tock_contrast"] if tock else 0.0
        mov_f = (
            self._mov_f * (1.0 - 0.12 * c) * (1.0 + 0.003 * rng.standard_normal(len(self._mov_f)))
        )
        contact = 0.12e-3 * (1.3 - 0.5 * v["loudness"]) * force**-0.2 * (1.0 + 0.6 * c)
        pos = self._pos[1 if tock else 0] * rng.uniform(0.9, 1.1, len(mov_f))
        mov = damped_modes(
            sr,
            n,
            mov_f,
            self._mov_tau * rng.uniform(0.9, 1.1) * (1.0 + 0.3 * c),
            pos * contact_gain(mov_f, contact) * (self._mov_f[0] / mov_f),
        )
        y = mov / max(float(np.max(np.abs(mov))), 1e-9)
        k = min(n, int(0.003 * sr))
        y[:k] += self._NOISE_LEVEL * noise_burst(
            rng, sr, k, lo_hz=1500.0, hi_hz=min(10000.0, 0.45 * sr), attack_s=5e-5, decay_s=3e-4
        )
        return y

    def _event(self) -> tuple[np.ndarray, float]:
        v = self.values
        rng = self.rng
        sr = self.sr
        tock = self._beat % 2 == 1
        self._beat += 1
        force = float(np.clip(rng.lognormal(0.0, 0.08), 0.7, 1.3))
        n = int(0.06 * sr)
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
