"""Known answers for the fast paths of the rain trigger and its liquid helpers.

Each fast path is checked against the plain computation it replaces, so a speed-up
cannot quietly change the sound.
"""

from __future__ import annotations

import numpy as np
import pytest

from susurrus.triggers import _liquids as lq
from susurrus.triggers import create

SR = 48000


@pytest.mark.parametrize("factor", [4, 16])
def test_low_rate_pop_is_the_linear_interpolation_formula(factor: int) -> None:
    rng = np.random.default_rng(0)
    fast = lq.LowRateOverlapAdd(factor)
    last = np.float32(0.0)
    frac = (np.arange(factor) / factor).astype(np.float32)
    for _ in range(3):
        n = 4096
        onsets = rng.integers(0, n, 20)
        waves = rng.standard_normal((20, 30)).astype(np.float32)
        fast.add(onsets, waves)
        ref_ola = lq.OverlapAdd()
        ref_ola._acc, ref_ola._spare, ref_ola._used = (
            fast._ola._acc.copy(),
            fast._ola._spare.copy(),
            fast._ola._used,
        )
        lo = np.r_[last, ref_ola.pop(n // factor)].astype(np.float32)
        last = lo[-1]
        # the original broadcast formula
        ref = ((lo[1:] - lo[:-1])[:, None] * frac[None, :] + lo[:-1, None]).reshape(-1)
        np.testing.assert_array_equal(fast.pop(n), ref)


def test_soft_limit_fast_path_returns_the_input_unchanged() -> None:
    y = (0.1 * np.random.default_rng(1).standard_normal(1000)).astype(np.float32)
    assert lq.soft_limit(y, knee=0.5, ceiling=0.7) is y
    y[10] = 0.9
    y[20] = -0.8
    out = lq.soft_limit(y, knee=0.5, ceiling=0.7)
    assert out[10] == pytest.approx(0.5 + 0.2 * np.tanh(0.4 / 0.2), rel=1e-6)
    assert out[20] == pytest.approx(-(0.5 + 0.2 * np.tanh(0.3 / 0.2)), rel=1e-6)
    np.testing.assert_array_equal(np.delete(out, [10, 20]), np.delete(y, [10, 20]))


def test_light_level_stays_where_it_was() -> None:
    """``light`` sits near −23 dBFS RMS (its drops are peak-limited)."""
    t = create("rain", "light", sr=SR, rng=np.random.default_rng(5))
    y = t.render(20.0)[0].astype(np.float64)
    rms_db = 10 * np.log10(np.mean(y**2))
    assert -25.0 < rms_db < -21.0


@pytest.mark.parametrize("variant", ["light", "window"])
def test_near_impacts_filtered_one_by_one_equal_filtering_their_sum(variant: str) -> None:
    """Each sparse near impact goes through the band-pass on its own (with its ring-out):
    the same samples, to the ring-out's 1e-5 cut, as the sum of the bursts filtered."""
    import scipy.signal as sps

    from susurrus.triggers.rain import _RainSynth

    rng = np.random.default_rng(3)
    synth = _RainSynth(SR, variant, {"density_per_s": 300.0, "brightness": 0.6, "wash": 0.3}, rng)
    assert synth._near_events and synth._near_tail > 10
    onsets = np.array([10, 500, 520, 3000])
    env = lq.decays(SR, np.array([0.3e-3, 0.5e-3, 0.2e-3, 0.6e-3]), np.array([1.0, 0.5, 0.8, 0.3]))
    replay = np.random.Generator(np.random.PCG64())
    replay.bit_generator.state = rng.bit_generator.state
    synth._add_near(onsets, env)
    got = synth._direct.pop(4000).astype(np.float64)
    # the plain way: the noise bursts summed at their onsets, then one band-pass
    k, length = env.shape
    bursts = lq.white(replay, k * length).reshape(k, length) * env
    x = np.zeros(4000)
    for o, b in zip(onsets, bursts, strict=True):
        x[o : o + length] += b
    f = synth._near_filter
    want = sps.lfilter(f.b.astype(np.float64), f.a.astype(np.float64), x)
    assert np.max(np.abs(got - want)) < 1e-4 * np.max(np.abs(want))
    assert not synth._near._used  # nothing went to the dense envelope


def test_tent_impacts_stay_in_the_dense_path() -> None:
    from susurrus.triggers.rain import _RainSynth

    synth = _RainSynth(SR, "tent", {"density_per_s": 250.0, "brightness": 0.5, "wash": 0.25},
                       np.random.default_rng(0))
    assert not synth._near_events
    y = np.concatenate([synth.chunk(8192) for _ in range(6)])
    assert np.all(np.isfinite(y)) and np.abs(y).max() > 0
