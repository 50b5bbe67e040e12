"""Known answers for the fast paths of the rain trigger and its liquid helpers.

Each fast path is checked against the plain computation it replaces, so a speed-up
cannot quietly change the sound.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import scipy.signal as sps

from susurrus.triggers import _liquids as lq
from susurrus.triggers import create
from susurrus.triggers import rain as rain_mod

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


def test_ir_length_keeps_all_but_the_floor_of_the_energy() -> None:
    b, a = sps.butter(1, [600 / 24000, 6500 / 24000], btype="bandpass")
    m = lq.ir_length(b, a, SR, floor_db=120.0)
    imp = sps.lfilter(b, a, np.r_[1.0, np.zeros(SR // 4)])
    total = np.sum(imp**2)
    assert np.sum(imp[m:] ** 2) < 1e-12 * total
    assert np.sum(imp[m - 1 :] ** 2) >= 1e-12 * total


def test_ring_out_is_filtering_silence_then_rest() -> None:
    b, a = sps.butter(1, [250 / 24000, 3000 / 24000], btype="bandpass")
    x = np.random.default_rng(2).standard_normal(500).astype(np.float32)
    f, g = lq.IIR32(b, a), lq.IIR32(b, a)
    f(x)
    g(x)
    assert not f.at_rest
    np.testing.assert_array_equal(f.ring_out(200), g(np.zeros(200, dtype=np.float32)))
    assert f.at_rest


@pytest.mark.parametrize("variant", ["light", "window", "tent"])
def test_sparse_near_clicks_equal_the_filtered_near_layer(variant: str) -> None:
    """Bursts filtered one by one sum to the continuous filtering of the same bursts."""
    values = dict(rain_mod.Rain.variant_defaults[variant])
    synth = rain_mod._RainSynth(SR, variant, values, np.random.default_rng(3))
    onsets = np.array([100, 5000, 5050, 20000])
    taus = np.array([0.3e-3, 0.5e-3, 0.2e-3, 0.7e-3])
    amps = np.array([1.0, 0.5, 0.8, 0.3])
    replay = copy.deepcopy(synth.rng)
    synth._clicks(onsets, taus, amps)
    assert synth._near.empty  # sparse: nothing left for the continuous near layer
    got = synth._direct.pop(32768)
    # the plain computation: the same bursts on one line, through the near band-pass
    env = lq.decays(SR, taus, amps)
    ld = env.shape[1]
    noise = lq.white(replay, len(onsets) * ld).reshape(len(onsets), ld)
    x = np.zeros(32768)
    for o, row in zip(onsets, noise * env):
        x[o : o + ld] += row
    f = synth._near_filter
    ref = sps.lfilter(f.b.astype(np.float64), f.a.astype(np.float64), x)
    assert np.max(np.abs(got - ref)) < 1e-5 * np.max(np.abs(ref))


def test_dense_near_clicks_take_the_continuous_layer() -> None:
    values = dict(rain_mod.Rain.variant_defaults["tent"])
    synth = rain_mod._RainSynth(SR, "tent", values, np.random.default_rng(4))
    onsets = np.arange(0, 32768, 64)
    synth._clicks(onsets, np.full(len(onsets), 1e-3), np.ones(len(onsets)))
    assert not synth._near.empty


def test_puddle_bubbles_are_shared_and_read_only() -> None:
    bank = rain_mod._puddle_bubbles(SR)
    assert rain_mod._puddle_bubbles(SR) is bank
    assert len(bank.grains) == rain_mod._BANK_SIZE
    assert 1000.0 <= bank.f0.min() and bank.f0.max() <= 4000.0
    with pytest.raises(ValueError, match="read-only"):
        bank.grains[0][0] = 1.0


def test_light_level_stays_where_it_was() -> None:
    """``light`` sits near −23 dBFS RMS, as before the fast paths (its drops are peak-limited)."""
    t = create("rain", "light", sr=SR, rng=np.random.default_rng(5))
    y = t.render(20.0)[0].astype(np.float64)
    rms_db = 10 * np.log10(np.mean(y**2))
    assert -25.0 < rms_db < -21.0
