"""Activity envelopes: how a layer comes and goes (continuous, intermittent, drift).

An envelope is a deterministic function of time drawn from its own generator:
the same seed gives the same envelope whatever the sample rate or block size,
so the calibration pre-pass can evaluate it cheaply at a control rate.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from ..scene.model import Activity

#: control rate (Hz) of the drift pattern
_DRIFT_RATE = 100.0


def _smoothstep(x: np.ndarray) -> np.ndarray:
    return x * x * (3.0 - 2.0 * x)


class ActivityEnvelope:
    """Gain envelope (0–1) of one layer over time.

    State kept between calls: the list of on/off switch times drawn so far
    (intermittent) — extended lazily as later times are asked for.
    """

    def __init__(self, activity: Activity, rng: np.random.Generator) -> None:
        self.activity = activity
        self.rng = rng
        a = activity
        if a.pattern == "intermittent":
            off = a.mean_gap_s
            on = off * a.on_fraction / max(1e-9, 1.0 - a.on_fraction) if a.on_fraction < 1 else 1e12
            self._mean = (on, off)
            self._state0 = bool(rng.random() < a.on_fraction)
            self._switch: list[float] = []  # absolute switch times
            self._t_drawn = 0.0
        elif a.pattern == "drift":
            k = 3
            self._periods = a.period_s * rng.uniform(0.6, 1.6, k)
            self._phases = rng.uniform(0, 2 * np.pi, k)

    def _drift_grid(self, k0: int, k1: int) -> np.ndarray:
        """The drift's gain at grid points ``k0 … k1`` (inclusive; 100 per second)."""
        grid = np.arange(k0, k1 + 1) / _DRIFT_RATE
        s = np.zeros_like(grid)
        for p, ph in zip(self._periods, self._phases, strict=True):
            s += np.sin(2 * np.pi * grid / p + ph)
        s /= len(self._periods)  # −1 … 1
        return np.asarray(10.0 ** (-0.5 * self.activity.depth_db * (1.0 - s) / 20.0))

    def _extend(self, t_end: float) -> None:
        on, off = self._mean
        state = self._state0 if len(self._switch) % 2 == 0 else not self._state0
        while self._t_drawn <= t_end:
            mean = on if state else off
            dur = max(self.activity.ramp_s * 1.5, float(self.rng.exponential(mean)))
            self._t_drawn += dur
            self._switch.append(self._t_drawn)
            state = not state

    def __call__(self, t_s: np.ndarray) -> np.ndarray:
        """Envelope values (float64) at times ``t_s`` (seconds, ascending)."""
        a = self.activity
        t = np.asarray(t_s, dtype=np.float64)
        if a.pattern == "continuous" or len(t) == 0:
            return np.ones_like(t)
        if a.pattern == "drift":
            # evaluated on a fixed absolute 100 Hz grid and interpolated: the result does
            # not depend on how times are grouped into blocks
            k0, k1 = int(np.floor(t[0] * _DRIFT_RATE)), int(np.ceil(t[-1] * _DRIFT_RATE)) + 1
            return np.interp(t, np.arange(k0, k1 + 1) / _DRIFT_RATE, self._drift_grid(k0, k1))
        steady = self._steady_level(float(t[0]), float(t[-1]))
        if steady is not None:  # no switch and no ramp anywhere in [t0 - ramp, t1]
            return np.full(len(t), steady)
        sw = np.asarray(self._switch)
        # state index at each time; level ramps linearly over ramp_s after each switch
        idx = np.searchsorted(sw, t, side="right")  # number of switches at or before t
        on_now = (idx % 2 == 0) == self._state0
        prev = np.where(idx > 0, sw[np.maximum(idx - 1, 0)], -np.inf)
        frac = np.clip((t - prev) / a.ramp_s, 0.0, 1.0)
        level = np.where(on_now, frac, 1.0 - frac)
        return _smoothstep(level)

    def gains(self, pos: int, n: int, sr: int) -> float | np.ndarray:
        """The envelope over samples ``pos … pos+n`` at ``sr``: a float where it is
        constant over them, else float32 ``(n,)``.

        The same values as calling the envelope at those sample times (up to float32
        rounding), computed per sample from its absolute index (so independent of how
        the samples are cut into calls) and, for the drift, without a search per sample:
        the 100 Hz grid points are joined by straight lines ``step`` samples long.
        """
        a = self.activity
        if a.pattern == "continuous" or n == 0:
            return 1.0
        step = sr / _DRIFT_RATE
        if a.pattern == "drift" and step == int(step):
            st = int(step)
            k0, k1 = pos // st, (pos + n - 1) // st + 1
            g = self._drift_grid(k0, k1).astype(np.float32)
            seg = g[:-1, None] + (g[1:] - g[:-1])[:, None] * (np.arange(st, dtype=np.float32) / np.float32(st))
            off = pos - k0 * st
            return seg.reshape(-1)[off : off + n]
        if a.pattern == "intermittent":
            level = self._steady_level(pos / sr, (pos + n - 1) / sr)
            if level is not None:
                return level
            env = self._ramps(pos, n, sr)
        else:
            env = self((pos + np.arange(n)) / sr)
        if env[0] == env[-1] and np.ptp(env) == 0.0:
            return float(env[0])
        return env.astype(np.float32, copy=False)

    def _ramps(self, pos: int, n: int, sr: int) -> np.ndarray:
        """An intermittent envelope over samples ``pos … pos+n`` (float32), run by run.

        The envelope's values (to float32 rounding) worked out per run of samples
        between switches: no sample needs a search of the switch times, a run past
        its ramp is constant, and a ramp is computed in single precision from each
        sample's offset to its switch (an exact integer plus the switch's fixed
        fraction of a sample), so every sample's value depends on its own index only,
        not on how the samples are cut into calls.
        """
        ramp = self.activity.ramp_s
        sw = self._switch
        lo = bisect.bisect_right(sw, pos / sr)
        hi = bisect.bisect_right(sw, (pos + n - 1) / sr)
        # run j holds the samples after ``lo + j`` switches: sample i is at or after
        # switch s when (pos + i) / sr >= s, i.e. from ceil(s · sr) - pos on (checked
        # against the division, which decides exactly as the envelope does)
        cuts = [0]
        for s in sw[lo:hi]:
            i = max(0, math.ceil(s * sr) - pos)
            while i > 0 and (pos + i - 1) / sr >= s:
                i -= 1
            while i < n and (pos + i) / sr < s:
                i += 1
            cuts.append(i)
        cuts.append(n)
        env = np.empty(n, dtype=np.float32)
        for j in range(len(cuts) - 1):
            i0, i1 = cuts[j], cuts[j + 1]
            idx = lo + j
            on = (idx % 2 == 0) == self._state0
            if idx == 0:  # before the first switch: steady
                env[i0:i1] = 1.0 if on else 0.0
                continue
            # samples since the switch: k = pos + i - base (an integer), plus frac0
            s_samples = sw[idx - 1] * sr
            base = math.floor(s_samples)
            frac0 = np.float32(base - s_samples)  # in (-1, 0]
            k0 = pos + i0 - base
            ramp_n = ramp * sr
            i_end = min(i1, i0 + max(0, math.ceil(ramp_n - k0) + 1))
            if i_end > i0:
                x = np.arange(k0, k0 + (i_end - i0), dtype=np.float32)
                x += frac0
                x *= np.float32(1.0 / ramp_n)
                np.clip(x, 0.0, 1.0, out=x)
                if not on:
                    np.subtract(1.0, x, out=x)
                env[i0:i_end] = _smoothstep(x)
            env[i_end:i1] = 1.0 if on else 0.0
        return env

    def silent(self, start_s: float, end_s: float) -> bool:
        """True when the envelope is exactly 0 over ``[start_s, end_s]`` (an intermittent
        layer between a ramp down and the next switch on); False when it may not be."""
        return self.activity.pattern == "intermittent" and self._steady_level(start_s, end_s) == 0.0

    def _steady_level(self, start_s: float, end_s: float) -> float | None:
        """An intermittent envelope's level over ``[start_s, end_s]`` when no switch and
        no ramp falls within it (1.0 on, 0.0 off), else None."""
        ramp = self.activity.ramp_s
        self._extend(end_s + ramp)
        hi = bisect.bisect_right(self._switch, end_s)
        if bisect.bisect_right(self._switch, start_s - ramp) != hi:
            return None
        return 1.0 if (hi % 2 == 0) == self._state0 else 0.0

    def mean_square(self, start_s: float, end_s: float, *, rate_hz: float = 50.0) -> float:
        """Mean of envelope² over a time range (for the loudness calibration)."""
        if end_s <= start_s:
            return 1.0
        t = np.arange(start_s, end_s, 1.0 / rate_hz)
        return float(np.mean(self(t) ** 2))
