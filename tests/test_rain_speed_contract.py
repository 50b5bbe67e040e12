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
def test_near_impacts_filtered_one_by_one_equal_the_full_rate_pass(variant: str) -> None:
    """The sparse near impacts, each through the band-pass on its own (with its
    ring-out, and the next chunk's noise where it reaches past a chunk), give the
    samples of the full-rate band-pass over their envelope, from the same draws."""

    def render(events: bool) -> np.ndarray:
        t = create("rain", variant, sr=SR, rng=np.random.default_rng(9))
        t._synth._near_events = events
        return t.read(6 * SR).astype(np.float64)

    fast, full = render(True), render(False)
    assert np.max(np.abs(fast - full)) < 1e-5 * np.max(np.abs(full))
    assert np.max(np.abs(full)) > 0.1


def test_rain_chunks_keep_their_size() -> None:
    from susurrus.triggers.rain import _RainSynth

    synth = _RainSynth(SR, "light", {"density_per_s": 300.0, "brightness": 0.6, "wash": 0.3},
                       np.random.default_rng(5))
    assert len(synth.chunk(4096)) == 4096
    with pytest.raises(ValueError, match="4096 samples, not 2048"):
        synth.chunk(2048)


def test_tent_impacts_stay_in_the_dense_path() -> None:
    from susurrus.triggers.rain import _RainSynth

    synth = _RainSynth(SR, "tent", {"density_per_s": 250.0, "brightness": 0.5, "wash": 0.25},
                       np.random.default_rng(0))
    assert not synth._near_events
    y = np.concatenate([synth.chunk(8192) for _ in range(6)])
    assert np.all(np.isfinite(y)) and np.abs(y).max() > 0
