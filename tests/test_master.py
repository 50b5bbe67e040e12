"""Master chain: true-peak limiter, momentary leveler, fades — known answers and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from susurrus.loudness import LoudnessMeter, true_peak_dbtp
from susurrus.render.master import (
    MasterChain,
    MomentaryLeveler,
    TruePeakLimiter,
    fade_gains,
    window_min,
)

SR = 48000


def _pink(n: int, rng: np.random.Generator, channels: int = 2) -> np.ndarray:
    w = rng.standard_normal((channels, n))
    f = np.fft.rfftfreq(n, 1 / SR)
    f[0] = f[1]
    return np.fft.irfft(np.fft.rfft(w, axis=1) / np.sqrt(f), n, axis=1)


def _run(stage, y: np.ndarray, block: int) -> np.ndarray:
    outs = [stage.push(y[:, i : i + block]) for i in range(0, y.shape[1], block)]
    outs.append(stage.flush())
    return np.concatenate(outs, axis=1)


def _level(y: np.ndarray, lufs: float) -> np.ndarray:
    m = LoudnessMeter(SR, y.shape[0], true_peak=False)
    m.process(y.astype(np.float32))
    return y * 10 ** ((lufs - m.result().integrated_lufs) / 20)


def test_window_min_known_answer() -> None:
    x = np.array([5.0, 4, 3, 9, 9, 1, 9, 9, 9, 9])
    assert list(window_min(x, 1, 2)) == [3, 3, 3, 1, 1, 1, 1, 9, 9, 9]


def test_limiter_holds_true_peak_ceiling_on_hot_transients() -> None:
    rng = np.random.default_rng(1)
    y = 0.05 * _pink(SR * 4, rng)
    for t in rng.integers(0, SR * 4 - 2000, 12):  # loud clicks and a hot sine burst
        y[:, t : t + 200] += 1.8 * np.hanning(200) * np.sign(rng.standard_normal())
    y[:, SR : SR + 4800] += 1.5 * np.sin(2 * np.pi * (SR / 4) * np.arange(4800) / SR + np.pi / 4)
    out = _run(TruePeakLimiter(SR, 2, ceiling_dbtp=-6.0), y, 1000)
    assert out.shape == y.shape
    assert true_peak_dbtp(out.astype(np.float32), SR) <= -6.0 + 0.05
    # away from the transients the signal is untouched
    quiet = slice(3 * SR + 2000, 3 * SR + 3000)
    if np.all(np.abs(y[:, quiet.start - 3000 : quiet.stop + 3000]) < 0.3):
        np.testing.assert_allclose(out[:, quiet], y[:, quiet])


def test_limiter_is_transparent_below_the_ceiling() -> None:
    y = 0.2 * _pink(SR * 2, np.random.default_rng(2))
    out = _run(TruePeakLimiter(SR, 2, ceiling_dbtp=0.0), y, 4096)
    np.testing.assert_array_equal(out, y.astype(np.float32))  # passed on, in float32


def test_leveler_keeps_momentary_under_ceiling_and_leaves_the_bed_alone() -> None:
    rng = np.random.default_rng(3)
    bed = _level(_pink(SR * 12, rng), -27.0)
    loud = bed.copy()
    loud[:, 5 * SR : 6 * SR] += _level(_pink(SR, rng), -10.0)  # a jump of 17 LU
    lev = MomentaryLeveler(SR, 2, ceiling_lufs=-18.0)
    out = _run(lev, loud, 2345)
    m = LoudnessMeter(SR, 2, true_peak=False)
    m.process(out.astype(np.float32))
    assert m.result().max_momentary_lufs <= -18.0 + 0.1
    # before the event (outside the 400 ms look-ahead) nothing changes: no pumping
    np.testing.assert_array_equal(out[:, : 4 * SR], loud[:, : 4 * SR].astype(np.float32))
    # and a steady bed alone passes bit-exactly (as float32)
    np.testing.assert_array_equal(_run(MomentaryLeveler(SR, 2, ceiling_lufs=-18.0), bed, 999),
                                  bed.astype(np.float32))


@settings(max_examples=15, deadline=None)
@given(blocks=st.lists(st.integers(1, 9000), min_size=1, max_size=30))
def test_master_chain_is_block_size_independent(blocks: list[int]) -> None:
    rng = np.random.default_rng(4)
    y = 0.3 * _pink(SR * 2, rng)
    y[:, SR // 2 : SR // 2 + 300] += 2.0  # force both stages to act

    def run(sizes: list[int]) -> np.ndarray:
        chain = MasterChain(SR, 2, gain_db=-3.0, momentary_max_lufs=-18.0, true_peak_dbtp=-6.0)
        outs, pos, k = [], 0, 0
        while pos < y.shape[1]:
            n = sizes[k % len(sizes)]
            outs.append(chain.push(y[:, pos : pos + n]))
            pos += n
            k += 1
        outs.append(chain.flush())
        return np.concatenate(outs, axis=1)

    ref = run([SR * 2])
    assert ref.shape == y.shape
    np.testing.assert_array_equal(run(blocks), ref)


def test_fades_are_equal_power_and_a_third_at_most() -> None:
    total = SR * 30
    g_in = fade_gains(0, SR * 10, sr=SR, total=total, fade_in_s=10, fade_out_s=10)
    g_out = fade_gains(total - SR * 10, SR * 10, sr=SR, total=total, fade_in_s=10, fade_out_s=10)
    assert g_in is not None and g_out is not None
    np.testing.assert_allclose(g_in**2 + g_out**2, 1.0, atol=1e-9)  # equal power
    assert g_in[0] < 1e-3 and g_out[-1] < 1e-3
    assert np.all(np.diff(g_in) > 0) and np.all(np.diff(g_out) < 0)
    assert fade_gains(SR * 10, SR * 10, sr=SR, total=total, fade_in_s=10, fade_out_s=10) is None


@pytest.mark.parametrize("stage", [
    TruePeakLimiter(SR, 2, ceiling_dbtp=-6.0),
    MomentaryLeveler(SR, 2, ceiling_lufs=-18.0),
])
def test_repr_shows_parameters_with_units(stage) -> None:
    r = repr(stage)
    assert "dB" in r and ("LUFS" in r or "dBTP" in r)
