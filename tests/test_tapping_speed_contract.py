"""Batched tap synthesis: the same taps as one-at-a-time synthesis, and the batch helpers.

:class:`~susurrus.triggers.tapping.Tapping` synthesises ``batch_size`` taps at once
for speed but draws their random numbers in the order that synthesising one tap
per event drew them. The reference below is that one-at-a-time synthesis (the
former ``Tapping._tap``), built on the single-event helpers; the batched trigger
must reproduce it sample for sample (to float32 rounding).
"""

from __future__ import annotations

import numpy as np
import pytest

from susurrus.triggers._impacts import (
    contact_gain,
    damped_modes,
    damped_modes_batch,
    noise_burst,
    noise_bursts,
    position_weights,
)
from susurrus.triggers.tapping import Tapping

SR = 48000
VARIANTS = ("wood", "glass", "plastic", "fingernails")


class OneTapAtATime(Tapping):
    """Tapping as it was before batching: every tap synthesised on its own."""

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
        f_thud = self._thud_hz * rng.uniform(0.85, 1.15)
        body = damped_modes(sr, n, f, tau, amps)
        body /= max(float(np.max(np.abs(body))), 1e-9)
        thud = damped_modes(sr, min(n, int(6.0 / f_thud * sr)), [f_thud], [1.2 / f_thud], [1.0])
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


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("params", [{}, {"tempo_bpm": 600.0, "burstiness": 1.0, "hardness": 1.0}])
def test_batched_taps_equal_one_at_a_time(variant: str, params: dict[str, float]) -> None:
    seconds = 45.0  # more than one batch, and (20–60 s per object) often a change of object
    fast = Tapping(sr=SR, rng=np.random.default_rng(7), variant=variant, **params)
    ref = OneTapAtATime(sr=SR, rng=np.random.default_rng(7), variant=variant, **params)
    y = fast.render(seconds)
    y_ref = ref.render(seconds)
    assert np.max(np.abs(y_ref)) > 0.1
    # equal samples for the same seed: the random stream is unchanged by batching
    # (the batched trigger draws up to a batch ahead, so the generators' states differ)
    np.testing.assert_allclose(y, y_ref, rtol=0.0, atol=2e-6)


def test_every_tap_of_a_batch_is_different() -> None:
    t = Tapping(sr=SR, rng=np.random.default_rng(3), variant="wood")
    taps = [t._event()[0] for _ in range(3 * Tapping.batch_size)]
    n = min(len(w) for w in taps)
    heads = np.array([w[:n] for w in taps], dtype=np.float64)
    heads /= np.linalg.norm(heads, axis=1, keepdims=True)
    corr = heads @ heads.T
    np.fill_diagonal(corr, 0.0)
    assert corr.max() < 0.999  # no two taps are the same waveform


def test_damped_modes_batch_matches_the_direct_formula() -> None:
    rng = np.random.default_rng(0)
    f = rng.uniform(100.0, 23000.0, (5, 6))  # some above 0.45·sr: dropped
    d = rng.uniform(0.002, 0.3, (5, 6))
    a = rng.uniform(-1.0, 1.0, (5, 6))
    kept = np.where(f < 0.45 * SR, a, 0.0)
    for n in (1, 17, 300, 5000):
        y = damped_modes_batch(SR, n, f, d, a)
        t = np.arange(n) / SR
        ref = np.einsum(
            "em,emt->et",
            kept,
            np.exp(-t / d[:, :, None]) * np.sin(2 * np.pi * f[:, :, None] * t),
        )
        np.testing.assert_allclose(damped_modes(SR, n, f[0], d[0], a[0]), ref[0], rtol=0.0, atol=1e-9)
        np.testing.assert_allclose(y, ref, rtol=0.0, atol=1e-9)
        y32 = damped_modes_batch(SR, n, f, d, a, dtype=np.float32)
        assert y32.dtype == np.float32
        np.testing.assert_allclose(y32, ref, rtol=0.0, atol=1e-5)
    assert damped_modes_batch(SR, 0, f, d, a).shape == (5, 0)


def test_noise_bursts_match_noise_burst() -> None:
    rng = np.random.default_rng(1)
    lengths = np.array([64, 200, 361, 17])
    white = rng.standard_normal((4, 361))
    attack = np.array([1e-4, 3e-4, 1e-3, 5e-5])
    out = noise_bursts(
        white, lengths, SR, lo_hz=560.0, hi_hz=13000.0, attack_s=attack, decay_s=0.6e-3
    )
    for e, n in enumerate(lengths):

        class Rows:
            def standard_normal(self, size: int, row: int = e) -> np.ndarray:
                return white[row, :size].copy()

        ref = noise_burst(
            Rows(),  # type: ignore[arg-type]
            SR,
            int(n),
            lo_hz=560.0,
            hi_hz=13000.0,
            attack_s=float(attack[e]),
            decay_s=0.6e-3,
        )
        np.testing.assert_allclose(out[e, :n], ref, rtol=0.0, atol=1e-12)
        assert not np.any(out[e, n:])


def test_position_weights_rows() -> None:
    x = np.array([0.1, 0.5, 0.77])
    rows = position_weights(5, x)
    assert rows.shape == (3, 5)
    for i, xi in enumerate(x):
        np.testing.assert_array_equal(rows[i], position_weights(5, float(xi)))
