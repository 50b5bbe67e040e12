"""Water: pouring into a vessel, dripping droplets, a babbling stream."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from .. import _signal as sps
from . import register
from ._liquids import (
    IIR32,
    BubbleBank,
    OverlapAdd,
    TimeVaryingResonator,
    bubbles,
    decays,
    smooth_random_gain,
    soft_limit,
    white,
)
from .base import Param, Trigger

__all__ = ["JUDGE_SETTINGS", "Water"]

#: The second parameter setting the recognition test renders for each variant.
JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "pouring": {"rate_per_s": 250.0, "fill_s": 6.0},
    "droplets": {"rate_per_s": 0.8, "brightness": 0.6, "trickle_db": -50.0},
    "stream": {"rate_per_s": 400.0, "brightness": 0.4},
}

_TARGET_RMS = 0.1  # −20 dBFS
_CHUNK = 16384
_HOP = 1024  # resonance update hop (pouring)
_SPEED_OF_SOUND = 343.0
_CAL_SEED = 0x3A7E5
#: the distant trickle under the drips: a gentle brook (stream model) …
_TRICKLE: dict[str, float] = {
    "rate_per_s": 250.0,
    "brightness": 0.5,
    "fill_s": 8.0,
    "flow_noise": 0.5,
}
#: … heard from afar: air absorption and the basin's rim take its highs
_TRICKLE_LP_HZ = 2000.0
_TRICKLE_OFF_DB = -90.0


class _WaterSynth:
    """The stochastic water model of one variant; all randomness from ``rng``.

    State kept between chunks: the overlap-add accumulator, filter memories, the
    pour's progress (pouring), the babble and flow levels (stream).
    """

    def __init__(
        self, sr: int, variant: str, values: Mapping[str, float], rng: np.random.Generator
    ) -> None:
        self.sr = sr
        self.variant = variant
        self.rng = rng
        self.rate = values["rate_per_s"]
        self.bright = b = values["brightness"]
        self.fill_s = values["fill_s"]
        self.events = 0
        self.noise_level = 1.0
        self._ola = OverlapAdd()
        self._next = 0  # next drip onset, samples from the current chunk start (droplets)
        self._level_db = 0.0
        self._babble_db = 0.0
        nyq = 0.5 * sr
        if variant == "droplets":
            self._next = int(rng.uniform(0.05, 0.5) * sr)
            # the distant trickle: a quiet brook-like bubble population heard from
            # afar (its highs absorbed), at trickle_level (set by the owner)
            self.trickle = _WaterSynth(sr, "stream", _TRICKLE, rng)
            self.trickle.noise_level = 0.0
            self.trickle_level = 0.0
            self._far_lp = IIR32(*sps.butter(2, _TRICKLE_LP_HZ / nyq))
            return
        if variant == "stream":
            self.bank = BubbleBank(
                sr, rng, f_lo_hz=250.0, f_hi_hz=4500.0, rise=(0.1, 0.7), damping_scale=(1.0, 1.8)
            )
            self.centre_hz = 700.0 * 2.0 ** (2.0 * b)
            # turbulent flow noise: pink-ish, 80 Hz … 1.5–4 kHz
            b1, a1 = sps.butter(
                1, [80.0 / nyq, min(1500.0 + 2500.0 * b, 0.45 * sr) / nyq], btype="bandpass"
            )
            self._flow = IIR32(b1, a1)
            self.flow_rms = float(
                np.sqrt(np.sum(sps.lfilter(b1, a1, np.r_[1.0, np.zeros(sr)]) ** 2))
            )
        else:  # pouring
            self.bank = BubbleBank(
                sr, rng, f_lo_hz=400.0, f_hi_hz=3500.0, rise=(0.1, 0.5), damping_scale=(1.2, 2.0)
            )
            self.centre_hz = 900.0 * 2.0 ** (1.5 * b)
            b1, a1 = sps.butter(
                1, [150.0 / nyq, min(2500.0 + 4000.0 * b, 0.45 * sr) / nyq], btype="bandpass"
            )
            self._flow = IIR32(b1, a1)
            self.flow_rms = float(
                np.sqrt(np.sum(sps.lfilter(b1, a1, np.r_[1.0, np.zeros(sr)]) ** 2))
            )
            self._column = TimeVaryingResonator(sr, q=6.0, hop=_HOP)
            self._new_pour(first=True)

    # -- pouring -----------------------------------------------------------------------

    def _new_pour(self, first: bool = False) -> None:
        rng = self.rng
        self.pour_len = self.fill_s * rng.uniform(0.8, 1.2)
        self.gap_len = rng.uniform(0.8, 2.0)
        self.height_m = rng.uniform(0.16, 0.3)  # vessel height
        self.diam_m = rng.uniform(0.05, 0.09)
        self.pour_t = rng.uniform(0.0, 0.3 * self.pour_len) if first else 0.0

    def resonance_hz(self, fill: float) -> float:
        """Quarter-wave resonance of the air column above the water, fill 0 … 1.

        ``f = c / (4 (L + 0.3 D))`` with ``L = H (1 − 0.9 fill)`` the air column and
        ``0.3 D`` the open-end correction (Rayleigh).
        """
        air = self.height_m * (1.0 - 0.9 * fill)
        return _SPEED_OF_SOUND / (4.0 * (air + 0.3 * self.diam_m))

    def _pouring(self, n: int) -> np.ndarray:
        rng, sr = self.rng, self.sr
        hops = n // _HOP
        flow = np.empty(hops)
        freq = np.empty(hops)
        for j in range(hops):
            t = self.pour_t
            if t < self.pour_len:
                fade = min(1.0, t / 0.25, (self.pour_len - t) / 0.3)
                flow[j] = max(0.0, fade)
                freq[j] = self.resonance_hz(t / self.pour_len)
            else:
                flow[j] = 0.0
                freq[j] = self.resonance_hz(1.0)
            self.pour_t += _HOP / sr
            if self.pour_t >= self.pour_len + self.gap_len:
                self._new_pour()
        # bubbles entrained by the jet, at a rate ∝ flow (jittered per hop)
        lam = self.rate * flow * _HOP / sr * rng.uniform(0.6, 1.4, hops)
        counts = rng.poisson(lam)
        k = int(counts.sum())
        self.events += k
        if k:
            onsets = np.repeat(np.arange(hops), counts) * _HOP + rng.integers(0, _HOP, k)
            idx = self.bank.pick(rng, k, self.centre_hz, 0.8)
            self.bank.add(self._ola, rng, onsets, idx, rng.lognormal(0.0, 0.5, k))
        env = np.repeat(flow.astype(np.float32), _HOP)
        g, self._level_db = smooth_random_gain(rng, self._level_db, n, depth_db=3.0, pull=0.3)
        splash = self._flow(white(rng, n) * env * g) * (self.noise_level / self.flow_rms)
        dry = self._ola.pop(n) + splash
        # the vessel: the air column above the water resonates, rising as it fills
        return 0.35 * dry + self._column(dry, freq) * 1.5

    # -- stream ------------------------------------------------------------------------

    def _stream(self, n: int) -> np.ndarray:
        rng, sr = self.rng, self.sr
        # babble: the bubble rate wanders (gurgling bursts) around its mean
        g, self._babble_db = smooth_random_gain(rng, self._babble_db, n, depth_db=4.0, pull=0.4)
        lam = self.rate * n / sr * float(g.mean())
        k = int(rng.poisson(lam))
        self.events += k
        if k:
            onsets = rng.integers(0, n, k)
            idx = self.bank.pick(rng, k, self.centre_hz, 1.0)
            self.bank.add(self._ola, rng, onsets, idx, rng.lognormal(0.0, 0.6, k))
        fg, self._level_db = smooth_random_gain(rng, self._level_db, n, depth_db=1.5, pull=0.1)
        flow = self._flow(white(rng, n) * fg) * (self.noise_level / self.flow_rms)
        return self._ola.pop(n) + flow

    # -- droplets ----------------------------------------------------------------------

    def _drip(self) -> np.ndarray:
        """One drip: the drop's impact click and its entrained bubble, with a room tail."""
        rng, sr = self.rng, self.sr
        f0 = float(np.exp(rng.uniform(np.log(650.0), np.log(1400.0)))) * 2.0 ** (1.2 * self.bright)
        amp = rng.lognormal(0.0, 0.2)
        bub = bubbles(
            sr,
            np.array([f0]),
            np.array([amp]),
            rise=rng.uniform(0.15, 0.5),
            damping_scale=rng.uniform(0.5, 0.8),
            max_duration_s=0.15,
            decay_db=45.0,
            rng=rng,
        )[0].astype(np.float64)
        click = decays(sr, np.array([rng.uniform(0.1e-3, 0.3e-3)]), np.array([0.03 * amp]))[0]
        click = click * rng.standard_normal(len(click))
        wave = bub
        wave[: len(click)] += click
        # a small room: a few ms later, an exponentially decaying diffuse tail
        tail_n = int(0.25 * sr)
        tail = rng.standard_normal(tail_n) * np.exp(-np.arange(tail_n) / (0.05 * sr)) * 0.02
        out = np.zeros(max(len(wave), tail_n) + int(0.004 * sr))
        out[: len(wave)] += wave
        d0 = int(0.004 * sr)
        out[d0 : d0 + tail_n] += tail * amp
        return out

    def _droplets(self, n: int) -> np.ndarray:
        rng, sr = self.rng, self.sr
        while self._next < n:
            self._ola.add_one(self._next, self._drip())
            self.events += 1
            # a leaking tap drips quasi-regularly: gamma intervals, shape 6
            gap = rng.gamma(6.0, 1.0 / (6.0 * self.rate))
            self._next += max(1, int(gap * sr))
        self._next -= n
        y = self._ola.pop(n)
        if self.trickle_level > 0.0:
            y += self._far_lp(self.trickle.chunk(n)) * self.trickle_level
        return y

    def chunk(self, n: int) -> np.ndarray:
        if self.variant == "pouring":
            return self._pouring(n)
        if self.variant == "stream":
            return self._stream(n)
        return self._droplets(n)


def _calibrate(
    sr: int, variant: str, values: Mapping[str, float], *, lowpass_hz: float | None = None
) -> tuple[float, float, float]:
    """Level a continuous variant with a private fixed generator (1.5 s render).

    Returns the flow-noise level (in units of the bubble layer's RMS, from
    ``flow_noise``), and the RMS and 99.99th-percentile peak of the mix (optionally
    low-passed at ``lowpass_hz``).
    """
    fn = values["flow_noise"]
    n_cal = int(1.5 * sr) // _CHUNK + 1
    cal = _WaterSynth(sr, variant, values, np.random.default_rng(_CAL_SEED))
    cal.noise_level = 0.0
    bub = np.concatenate([cal.chunk(_CHUNK) for _ in range(n_cal)])
    bub_rms = float(np.sqrt(np.mean(bub**2))) or 1.0
    noise = bub_rms * 30.0 if fn >= 1.0 else bub_rms * float(np.sqrt(fn / max(1e-6, 1.0 - fn)))
    cal = _WaterSynth(sr, variant, values, np.random.default_rng(_CAL_SEED))
    cal.noise_level = noise
    y = np.concatenate([cal.chunk(_CHUNK) for _ in range(n_cal)])
    if lowpass_hz is not None:
        b, a = sps.butter(2, lowpass_hz / (0.5 * sr))
        y = sps.lfilter(b, a, y)
    rms = float(np.sqrt(np.mean(y**2))) or 1.0
    peak = float(np.quantile(np.abs(y), 0.9999)) or 1.0
    return noise, rms, peak


@register
class Water(Trigger):
    """Water sounds built from Minnaert bubbles: pouring, dripping, a babbling stream.

    Physics. Almost all the sound of moving water comes from air bubbles: when a
    bubble of radius ``r`` is entrained it rings at its Minnaert frequency
    ``f₀ = (1/2πr) √(3γp₀/ρ) ≈ 3.26 m·Hz / r`` (Minnaert 1933), damped at
    ``d = 0.043 f₀ + 0.0014 f₀^1.5`` s⁻¹, and its pitch rises as it nears the
    surface, ``f(t) = f₀ (1 + ξ d t)`` (van den Doel 2005). Turbulent flow adds a
    broadband noise.

    Variants.

    ``pouring``
        A jet of water into a vessel: bubbles entrained at ``rate_per_s`` (400 Hz–
        3.5 kHz) and splash noise, heard through the vessel's air column, a
        quarter-wave resonator ``f = c / 4(L + 0.3 D)`` whose length ``L`` shrinks as
        the vessel fills — the resonance rises over a pour of ``fill_s`` seconds
        (e.g. 330 Hz → 1.5 kHz), the classic filling-bottle glug. Then a pause, and a
        new vessel (height, width) is filled.
    ``droplets``
        A leaking tap over a basin: drips at ``rate_per_s`` on average,
        quasi-regular (gamma intervals of shape 6). Each drop that falls into the
        water entrains one large bubble (regular entrainment, Pumphrey & Crum 1990):
        a faint impact click, then the bubble's ring (650 Hz–2.8 kHz) for 20–60 ms
        with an upward chirp (ξ 0.15–0.5), plus a small room's diffuse tail. Under
        the drips, a distant trickle (water running into the drain, a gutter
        outside): a gentle brook-like bubble population plus flow noise (the
        ``stream`` model at 250 bubbles/s), heard from afar — air absorption and the
        basin's rim take its highs (2nd-order low-pass at 2 kHz) — at
        ``trickle_db`` dBFS RMS, some 45 dB under the drips' peaks. Real drip
        recordings are never silent between drops; without it, the gaps read as
        silence and the drops alone as plops and taps.
    ``stream``
        A babbling brook: a dense population of bubbles of all sizes (250 Hz–
        4.5 kHz, log-normal around a centre set by ``brightness``) at ``rate_per_s``
        whose rate wanders in gurgling bursts, over a broadband flow noise.

    Dense populations use a bank of distinct pre-synthesised bubbles (see
    :class:`~susurrus.triggers._liquids.BubbleBank`), each use varied in gain,
    polarity and start. Levels: the continuous variants are calibrated to −20 dBFS
    RMS by a short render with a private fixed seed; drips peak near −6 dBFS.

    Parameters
    ----------
    rate_per_s
        Bubbles per second (pouring, stream) or drips per second (droplets).
    brightness
        0 … 1: smaller bubbles (higher pitches) and a brighter flow.
    fill_s
        Seconds to fill one vessel (pouring).
    flow_noise
        Share of the turbulent flow noise against the bubbles (pouring, stream).
    trickle_db
        RMS level (dBFS) of the distant trickle under the drips (droplets); −90 is off.
    """

    family = "water"
    description = "Water: pouring into a vessel, droplets, a babbling stream (Minnaert bubbles)"
    params = (
        Param(
            "rate_per_s",
            300.0,
            0.2,
            2000.0,
            "1/s",
            "bubbles per second (pouring, stream) or drips per second (droplets)",
        ),
        Param("brightness", 0.5, 0.0, 1.0, "", "0 big low bubbles … 1 small high bubbles"),
        Param("fill_s", 8.0, 2.0, 40.0, "s", "seconds to fill one vessel (pouring)"),
        Param("flow_noise", 0.5, 0.0, 1.0, "", "turbulent flow noise against the bubbles"),
        Param(
            "trickle_db",
            -52.0,
            _TRICKLE_OFF_DB,
            -30.0,
            "dBFS",
            f"RMS of the distant trickle under the drips (droplets; {_TRICKLE_OFF_DB:g} = off)",
        ),
    )
    variant_defaults: ClassVar[Mapping[str, Mapping[str, float]]] = {
        "pouring": {"rate_per_s": 300.0, "brightness": 0.5, "flow_noise": 0.5},
        "droplets": {"rate_per_s": 1.5, "brightness": 0.4, "flow_noise": 0.0},
        "stream": {"rate_per_s": 250.0, "brightness": 0.5, "flow_noise": 0.5},
    }

    def _setup(self) -> None:
        self._synth = _WaterSynth(self.sr, self.variant, self.values, self.rng)
        if self.variant == "droplets":
            self._gain = 0.5
            level_db = self.values["trickle_db"]
            if level_db > _TRICKLE_OFF_DB:
                noise, rms, _ = _calibrate(self.sr, "stream", _TRICKLE, lowpass_hz=_TRICKLE_LP_HZ)
                tr = self._synth.trickle
                tr.noise_level = noise
                self._synth.trickle_level = 10.0 ** (level_db / 20.0) / (self._gain * rms)
            return
        noise, rms, peak = _calibrate(self.sr, self.variant, self.values)
        self._synth.noise_level = noise
        self._gain = min(_TARGET_RMS / rms, 0.75 / peak)

    @property
    def events_emitted(self) -> int:
        """Bubbles (pouring, stream) or drips (droplets) synthesised so far."""
        return self._synth.events

    def _generate(self) -> np.ndarray:
        y = self._gain * self._synth.chunk(_CHUNK)
        return soft_limit(y, knee=0.5, ceiling=0.7)
