"""Rain: light rain outdoors, rain on a window, rain on a tent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from .. import _signal as sps
from . import register
from ._liquids import (
    IIR32,
    BubbleBank,
    LowRateOverlapAdd,
    OverlapAdd,
    add_bubbles,
    damped_modes,
    decays,
    smooth_random_gain,
    soft_limit,
    white,
)
from .base import Param, Trigger

__all__ = ["JUDGE_SETTINGS", "Rain"]

#: The second parameter setting the recognition test renders for each variant.
JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "light": {"density_per_s": 250.0, "brightness": 0.7},
    "window": {"density_per_s": 120.0, "brightness": 0.4},
    "tent": {"density_per_s": 350.0, "brightness": 0.3},
}

_TARGET_RMS = 0.1  # −20 dBFS
_CHUNK = 32768
_CAL_SEED = 0x5EED0A1
_CAL_S = 1.5
_LOW = 16  # rate divisor for the membrane modes (tent)
_BANK = 512  # distinct bubbles of light rain (each heard every ~13 s, varied)
#: the longest near impact, in samples (``decays``' 10 ms cap at up to 96 kHz, rounded up)
_AHEAD = 1024


def _bandpass(sr: int, lo_hz: float, hi_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """A second-order (first-order Butterworth pair) band-pass, ``lo_hz`` … ``hi_hz``."""
    nyq = 0.5 * sr
    hi = min(hi_hz, 0.45 * sr)
    b, a = sps.butter(1, [lo_hz / nyq, hi / nyq], btype="bandpass")
    return np.asarray(b), np.asarray(a)


def _power_gain(b: np.ndarray, a: np.ndarray, sr: int) -> float:
    """Output power of the filter for unit-variance white noise."""
    imp = sps.lfilter(b, a, np.r_[1.0, np.zeros(sr // 4)])
    return float(np.sum(imp**2))


class _RainSynth:
    """The stochastic rain model of one variant; all randomness from ``rng``.

    Three layers: ``near`` and ``far`` are white noise times an envelope of
    scattered exponential decays (one per drop), each through its own band-pass
    (the near one brighter); ``direct`` holds tonal events (bubbles, pane modes,
    membrane modes) added as they are. State kept between chunks: the three
    accumulators (event tails), the filter memories, the gust level and the active
    rivulets (window).
    """

    def __init__(
        self, sr: int, variant: str, values: Mapping[str, float], rng: np.random.Generator
    ) -> None:
        self.sr = sr
        self.variant = variant
        self.rng = rng
        self.density = values["density_per_s"]
        self.bright = b = values["brightness"]
        self.wash_level = 0.0
        self.drops_emitted = 0
        self._near = OverlapAdd()  # envelope of the impacts heard directly
        # envelope of the drops heard through distance/glass/fabric: smooth enough
        # (τ ≥ 0.25 ms) to be built at a quarter of the rate
        self._far = LowRateOverlapAdd(4)
        self._direct = OverlapAdd()  # tonal events
        self._low = LowRateOverlapAdd(_LOW)  # membrane modes (tent)
        self._gust_db = 0.0
        self._rivulets: list[list[float]] = []  # [remaining_s, rate_per_s, f_scale]
        near_band, far_band = {
            "light": ((600.0, 3000.0 + 7000.0 * b), (250.0, 1500.0 + 3000.0 * b)),
            "window": ((900.0, 4000.0 + 8000.0 * b), (250.0, 1500.0 + 1500.0 * b)),
            "tent": ((250.0, 900.0 + 2500.0 * b), (150.0, 1000.0 + 1500.0 * b)),
        }[variant]
        self._near_filter = IIR32(*_bandpass(sr, *near_band))
        # outdoors and behind glass the near impacts are sparse (light rain: ~3 % of the
        # drops): each goes through the band-pass on its own, with the filter's
        # ring-out, instead of the band-pass running over a mostly-zero envelope at the
        # full rate (linear: the same sound for a fraction of the work). An impact near
        # a chunk's end rides on the next chunk's noise, as in a full-rate pass, so
        # chunks are made one ahead. On a tent every drop is near: the full-rate pass.
        self._near_events = variant != "tent"
        poles = np.abs(np.roots(self._near_filter.a.astype(np.float64)))
        self._near_tail = int(np.ceil(np.log(1e-5) / np.log(float(poles.max()))))
        self._near_out = OverlapAdd()  # filtered near impacts, from the next chunk out on
        self._recorded: list[tuple[np.ndarray, np.ndarray]] = []  # near impacts of the chunk made
        self._ahead: tuple[np.ndarray, int, np.ndarray, list[tuple[np.ndarray, np.ndarray]]] | None = None
        bf, af = _bandpass(sr, *far_band)
        self._far_filter = IIR32(bf, af)
        self.far_power_gain = _power_gain(bf, af, sr)
        # outdoors a tenth of the drops ring a bubble (~40 a second): drawn from a bank
        # of distinct bubbles (each use varied in gain, polarity and start) rather than
        # synthesised one by one, which cost a fifth of the rain's time
        self._bank = (
            BubbleBank(sr, rng, n=_BANK, f_lo_hz=1000.0, f_hi_hz=4000.0, rise=(0.1, 0.5),
                       damping_scale=(1.0, 1.0), max_duration_s=0.08)
            if variant == "light" else None
        )

    # -- one chunk -------------------------------------------------------------------

    def chunk(self, n: int) -> np.ndarray:
        """The next ``n`` samples (unscaled drops plus the wash at ``wash_level``).

        Made one chunk ahead (the first call makes two), with the same ``n`` each
        call: a near impact at a chunk's end is finished with the next chunk's noise.
        """
        if self._ahead is None:
            self._ahead = self._make(n)
        y, k, u, near = self._ahead
        if len(y) != n:
            raise ValueError(f"rain chunks are {len(y)} samples, not {n}")
        self._ahead = self._make(n)
        if near:
            noise = np.concatenate([u, self._ahead[2][:_AHEAD]])
            for onsets, env in near:
                length = env.shape[1]
                x = np.zeros((len(onsets), length + self._near_tail), dtype=np.float32)
                np.multiply(noise[onsets[:, None] + np.arange(length)[None, :]], env, out=x[:, :length])
                f = self._near_filter
                self._near_out.add(onsets, sps.lfilter(f.b, f.a, x, axis=1))
        if self._near_events:
            y += self._near_out.pop(n)
        self.drops_emitted += k
        return y

    def _make(self, n: int) -> tuple[np.ndarray, int, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """The next chunk but its sparse near impacts: ``(samples, drops, noise, near
        impacts as (onsets, envelopes))``."""
        if n < _AHEAD:
            raise ValueError(f"rain chunks must be at least {_AHEAD} samples, got {n}")
        k = int(self.rng.poisson(self.density * n / self.sr))
        onsets = self.rng.integers(0, n, k)
        self._recorded = []
        if self.variant == "light":
            self._light(onsets)
        elif self.variant == "window":
            self._window(onsets, n)
        else:
            self._tent(onsets)
        u = white(self.rng, n)
        e_far = self._far.pop(n)
        if self.wash_level > 0:
            gain, self._gust_db = smooth_random_gain(
                self.rng, self._gust_db, n, depth_db=2.0, pull=0.05
            )
            e_far += self.wash_level * gain
        if self._near_events:
            y = self._far_filter(u * e_far)
        else:
            y = self._near_filter(u * self._near.pop(n))
            y += self._far_filter(u * e_far)
        y += self._direct.pop(n)
        if self.variant == "tent":
            y += self._low.pop(n)
        return y, k, u, self._recorded

    def _add_near(self, onsets: np.ndarray, env: np.ndarray) -> None:
        """Near impacts: noise under the envelopes ``env`` ``(k, L)`` (``L`` ≤ ``_AHEAD``)
        through the near band-pass, one by one once the noise is drawn (see
        :meth:`chunk`) or, on a tent, into the envelope the chunk is filtered by."""
        if not self._near_events:
            self._near.add(onsets, env)
        elif len(onsets) and env.size:
            self._recorded.append((np.asarray(onsets, dtype=np.int64), env))

    # -- the variants ----------------------------------------------------------------

    def _distances(self, k: int, r_min: float, r_max: float) -> np.ndarray:
        """Drop distances for drops uniform over an annulus: p(r) ∝ r."""
        u = self.rng.random(k)
        return np.sqrt(r_min**2 + u * (r_max**2 - r_min**2))

    def _light(self, onsets: np.ndarray) -> None:
        rng, k = self.rng, len(onsets)
        r = self._distances(k, 1.5, 15.0)
        amp = (1.5 / r) * rng.lognormal(0.0, 0.35, k)
        tau = 0.35e-3 * (1.0 + r / 8.0) * rng.uniform(0.6, 1.6, k)
        near = r < 3.0
        self._add_near(onsets[near], decays(self.sr, tau[near], amp[near]))
        self._far.add(onsets[~near], decays(self.sr / 4, tau[~near], amp[~near]))
        # drops on puddles and wet leaves entrain a Minnaert bubble (~1–4 kHz)
        hit = rng.random(k) < 0.1
        if np.any(hit):
            m = int(hit.sum())
            a = amp[hit] * rng.uniform(0.02, 0.08, m)
            assert self._bank is not None
            self._bank.add(self._direct, rng, onsets[hit], rng.integers(0, _BANK, m), a)

    def _window(self, onsets: np.ndarray, n: int) -> None:
        rng, k = self.rng, len(onsets)
        # 35 % of the drops hit the pane in front of the listener: bright, short ticks
        on_glass = rng.random(k) < 0.35
        g = onsets[on_glass]
        kg = len(g)
        if kg:
            amp = rng.lognormal(0.0, 0.35, kg)
            tau = 0.2e-3 * rng.uniform(0.6, 1.6, kg)
            self._add_near(g, decays(self.sr, tau, amp))
            # the pane's bending modes ring weakly and briefly (spread 1–7 kHz)
            f = np.exp(rng.uniform(np.log(900.0), np.log(7000.0), (kg, 3)))
            dec = rng.uniform(0.6e-3, 2.5e-3, (kg, 3))
            a = amp[:, None] * rng.uniform(0.002, 0.008, (kg, 3))
            self._direct.add(g, damped_modes(self.sr, f, dec, a, rng, max_duration_s=0.015))
            # a few drops on the pane's water film make a tiny bubble
            bub = rng.random(kg) < 0.12
            if np.any(bub):
                f0 = np.exp(rng.uniform(np.log(1500.0), np.log(4500.0), int(bub.sum())))
                add_bubbles(self._direct, self.sr, g[bub], f0, amp[bub] * 0.02, rise=0.3, rng=rng)
        # the rest fall outside, 3–20 m away, heard through the glass (the far band-pass)
        o = onsets[~on_glass]
        ko = len(o)
        if ko:
            r = self._distances(ko, 3.0, 20.0)
            amp = (3.0 / r) * rng.lognormal(0.0, 0.4, ko) * 0.6
            tau = 0.4e-3 * (1.0 + r / 6.0) * rng.uniform(0.6, 1.5, ko)
            self._far.add(o, decays(self.sr / 4, tau, amp))
        self._rivulet(n)

    def _rivulet(self, n: int) -> None:
        """Water running down the pane: runs of tiny, quick bubbles and drips."""
        rng, dur = self.rng, n / self.sr
        if rng.random() < 0.25 * dur:  # a new rivulet every ~4 s on average
            self._rivulets.append(
                [rng.uniform(0.4, 2.0), rng.uniform(15.0, 45.0), rng.uniform(0.8, 1.3)]
            )
        alive = []
        for riv in self._rivulets:
            span = min(dur, riv[0])
            m = int(rng.poisson(riv[1] * span))
            if m:
                on = rng.integers(0, int(span * self.sr), m)
                f0 = riv[2] * np.exp(rng.uniform(np.log(2000.0), np.log(5000.0), m))
                a = rng.uniform(0.005, 0.02, m)
                add_bubbles(
                    self._direct,
                    self.sr,
                    on,
                    f0,
                    a,
                    rise=rng.uniform(0.2, 0.8, m),
                    damping_scale=1.5,
                    rng=rng,
                )
            riv[0] -= dur
            if riv[0] > 0:
                alive.append(riv)
        self._rivulets = alive

    def _tent(self, onsets: np.ndarray) -> None:
        rng, k = self.rng, len(onsets)
        # drops land anywhere on the fly sheet, 0.7–3 m from the ear
        r = self._distances(k, 0.7, 3.0)
        amp = (0.7 / r) * rng.lognormal(0.0, 0.35, k)
        # the taut fabric: a damped membrane (modes 1 : 1.59 : 2.14 : 2.30 of a
        # circular membrane) whose fundamental depends on the panel and tension
        f1 = np.exp(rng.uniform(np.log(90.0), np.log(260.0), k))
        ratios = np.array([1.0, 1.594, 2.136, 2.296])
        f = f1[:, None] * ratios[None, :] * rng.uniform(0.97, 1.03, (k, 4))
        dec = rng.uniform(0.006, 0.02, (k, 1)) / np.array([1.0, 1.3, 1.6, 1.8])[None, :]
        a = amp[:, None] * np.array([1.0, 0.6, 0.45, 0.3])[None, :] * rng.uniform(0.5, 1.0, (k, 4))
        self._low.add(
            onsets,
            damped_modes(self.sr / _LOW, f, dec, a * 0.05, rng, max_duration_s=0.1, attack_s=0.0),
        )
        # the patter: the fabric's own dull tap (longer contact than on a hard surface)
        tau = 0.8e-3 * rng.uniform(0.6, 1.5, k)
        self._add_near(onsets, decays(self.sr, tau, amp))


@register
class Rain(Trigger):
    """Rain as a population of raindrop impacts over a soft diffuse wash.

    Physics. Rain is a Poisson process of drop impacts (rate ``density_per_s``
    drops heard per second). Drops fall uniformly over the ground, so the distance
    ``r`` of a drop from the listener has density p(r) ∝ r and its amplitude goes as
    1/r (spherical spreading); air absorption and ground scattering dull far drops,
    modelled by a longer contact time. Each impact is a short broadband click: an
    exponentially decaying noise burst whose time constant (0.1–0.5 ms, the drop's
    contact time) sets its bandwidth. A drop on water (a puddle, the film on glass)
    also entrains an air bubble that rings at its Minnaert frequency
    ``f₀ ≈ 3.26 / r_b`` (1–4 kHz for the 1–3 mm bubbles of rain), damped at
    ``d = 0.043 f₀ + 0.0014 f₀^1.5`` s⁻¹ with a slight upward chirp as it rises
    (Minnaert 1933; van den Doel 2005; Pumphrey & Crum 1989 for rain-entrained
    bubbles). The countless drops too far away to be heard singly add up to a
    smooth, gently gusting band of noise: the wash.

    Variants.

    ``light``
        Drops on ground, leaves and puddles 1.5–15 m away; 10 % ring a bubble
        (from a bank of 512 distinct bubbles, f₀ log-uniform 1–4 kHz, each use
        varied in gain, polarity and start).
    ``window``
        Indoors, behind a pane: 35 % of the drops tick on the glass right in front
        of the listener (brighter, shorter clicks, with the pane's bending modes
        ringing weakly for 1–3 ms, and tiny bubbles in the water film); the rest,
        and the wash, are heard through the glass, low-passed (mass law: glass
        transmits lows, blocks highs). Now and then a rivulet runs down the pane: a
        run of tiny quick bubbles for 0.4–2 s.
    ``tent``
        Drops on taut fabric 0.7–3 m away: each excites the membrane's first modes
        (ratios 1 : 1.59 : 2.14 : 2.30 of a circular membrane, fundamental
        90–260 Hz depending on panel and tension, decaying in 6–20 ms) plus a dull
        tap — the patter; the rain outside is muffled by the fabric.

    Levels: the drop layer and the wash are calibrated (the drop layer by a short
    render with a fixed private seed) so the sum sits at −20 dBFS RMS with the wash
    carrying the fraction ``wash`` of the power — unless that would put the loudest
    drops (the 99.99th percentile) past the limiter's knee, in which case the drops sit lower;
    a memoryless soft limiter keeps the rare very near drop below about −3 dBFS.

    Parameters
    ----------
    density_per_s
        Drops heard per second (the rain's intensity).
    brightness
        0 dull … 1 bright: shorter contact times, higher low-pass corners.
    wash
        Fraction of the power in the diffuse wash (too much and rain turns into a
        stream; too little and sparse clicks read as tapping).
    """

    family = "rain"
    description = (
        "Rain: drop impacts, bubbles and a diffuse wash — outdoors, on a window, on a tent"
    )
    params = (
        Param("density_per_s", 400.0, 5.0, 3000.0, "1/s", "raindrops heard per second"),
        Param("brightness", 0.5, 0.0, 1.0, "", "0 dull … 1 bright"),
        Param("wash", 0.3, 0.0, 0.9, "", "fraction of the power in the diffuse far-rain wash"),
    )
    variant_defaults: ClassVar[Mapping[str, Mapping[str, float]]] = {
        "light": {"density_per_s": 400.0, "brightness": 0.5, "wash": 0.3},
        "window": {"density_per_s": 200.0, "brightness": 0.6, "wash": 0.5},
        "tent": {"density_per_s": 250.0, "brightness": 0.5, "wash": 0.25},
    }

    def _setup(self) -> None:
        # calibrate the drop layer's level with a private, fixed generator
        cal = _RainSynth(self.sr, self.variant, self.values, np.random.default_rng(_CAL_SEED))
        n_cal = int(_CAL_S * self.sr) // _CHUNK + 2
        y = np.concatenate([cal.chunk(_CHUNK) for _ in range(n_cal)])[_CHUNK:]
        drop_rms = float(np.sqrt(np.mean(y**2))) or 1.0
        w = self.values["wash"]
        self._synth = _RainSynth(self.sr, self.variant, self.values, self.rng)
        # the wash carries the fraction w of the power at −20 dBFS RMS …
        g_rms = _TARGET_RMS * np.sqrt(1.0 - w) / drop_rms
        self._synth.wash_level = (
            _TARGET_RMS * np.sqrt(w) / (g_rms * np.sqrt(self._synth.far_power_gain))
        )
        # … unless the loudest drops (99.99th percentile) would then pass the
        # limiter's knee: sparse, spiky rain sits quieter rather than distorted
        peak = float(np.quantile(np.abs(y), 0.9999)) or 1.0
        self._gain = min(g_rms, 0.75 / peak)

    @property
    def drops_emitted(self) -> int:
        """How many raindrops have been synthesised so far (for tests and analysis)."""
        return self._synth.drops_emitted

    def _generate(self) -> np.ndarray:
        y = self._synth.chunk(_CHUNK)
        y *= np.float32(self._gain)
        return soft_limit(y, knee=0.5, ceiling=0.7)
