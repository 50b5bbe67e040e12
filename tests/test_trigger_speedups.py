"""Known answers for the fast paths of the friction, crackle and voice triggers.

Each fast helper is checked against the plain formula it replaces (the slow
reference is written out here), so a speed-up can never quietly change a sound.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.signal as sps
from hypothesis import given, settings
from hypothesis import strategies as st

from susurrus.triggers import _friction as fr
from susurrus.triggers._strokes import swept_band
from susurrus.triggers._voice import _butter_lowpass4
from susurrus.triggers.crinkling import _swell, resonator_bank
from susurrus.triggers.fire import _crack_modes

SR = 48000


@given(st.integers(min_value=1, max_value=1 << 22))
def test_fft_len_is_a_close_smooth_size(n: int) -> None:
    m = fr.fft_len(n)
    assert m >= n
    assert m <= max(16, int(np.ceil(n * 1.2)))
    while m % 2 == 0:
        m //= 2
    assert m in (1, 3, 5, 9, 15, 27)  # the odd parts of 16, 18, 20, 24, 27, 30


def test_fft_len_takes_few_sizes_an_octave() -> None:
    sizes = {fr.fft_len(n) for n in range(20000, 40000)}
    assert len(sizes) <= 7


def _stroke_profile_reference(n: int, rng: np.random.Generator, glide: float, tremor: float):
    """The original formula: cosines everywhere, np.clip and np.interp."""
    n = max(2, int(n))
    tau = np.linspace(0.0, 1.0, n)
    bell = 16.0 * tau**2 * (1.0 - tau) ** 2
    ramp = max(1e-3, (1.0 - glide) / 2.0)
    up = np.clip(tau / ramp, 0.0, 1.0)
    down = np.clip((1.0 - tau) / ramp, 0.0, 1.0)
    plateau = (0.5 - 0.5 * np.cos(np.pi * up)) * (0.5 - 0.5 * np.cos(np.pi * down))
    v = (1.0 - glide) * bell + glide * plateau
    if tremor > 0:
        knots = 1.0 + tremor * rng.standard_normal(6)
        v = v * np.interp(tau, np.linspace(0, 1, 6), knots)
    return np.maximum(v, 0.0)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=2, max_value=30000),
    st.floats(min_value=0.0, max_value=1.0),
    st.sampled_from([0.0, 0.08, 0.3]),
    st.integers(min_value=0, max_value=2**31),
)
def test_stroke_profile_is_bit_identical_to_the_formula(
    n: int, glide: float, tremor: float, seed: int
) -> None:
    ref = _stroke_profile_reference(n, np.random.default_rng(seed), glide, tremor)
    rng = np.random.default_rng(seed)
    got = fr.stroke_profile(n, rng, glide=glide, tremor=tremor)
    np.testing.assert_array_equal(got, ref)
    # the same draws: the generator is left in the same state
    ref_rng = np.random.default_rng(seed)
    _stroke_profile_reference(n, ref_rng, glide, tremor)
    assert rng.random() == ref_rng.random()


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=2, max_value=30000),
    st.floats(min_value=0.0, max_value=0.9),
    st.sampled_from([0.0, 0.15, 0.3]),
    st.integers(min_value=0, max_value=2**31),
)
def test_float32_stroke_profile_agrees_to_float32_rounding(
    n: int, glide: float, tremor: float, seed: int
) -> None:
    ref = _stroke_profile_reference(n, np.random.default_rng(seed), glide, tremor)
    got = fr.stroke_profile_f32(n, np.random.default_rng(seed), glide=glide, tremor=tremor)
    assert got.dtype == np.float64 and got.shape == ref.shape
    assert np.max(np.abs(got - ref)) < 2e-6


@given(
    st.integers(min_value=0, max_value=2**31),
    st.integers(min_value=1, max_value=40000),
    st.integers(min_value=2, max_value=12),
)
def test_smooth_random_matches_the_gather_formula(seed: int, n: int, n_knots: int) -> None:
    rng = np.random.default_rng(seed)
    knots = rng.standard_normal(n_knots)
    x = np.linspace(0, n_knots - 1, n)
    i = np.minimum(np.floor(x).astype(int), n_knots - 2)
    t = x - i
    s = t * t * (3 - 2 * t)
    ref = knots[i] * (1 - s) + knots[i + 1] * s
    np.testing.assert_array_equal(fr.smooth_random(n, np.random.default_rng(seed), n_knots), ref)


@pytest.mark.parametrize("size", [0, 1, 7, 1000, (3, 4)])
def test_random_signs_are_rng_choice(size) -> None:
    a = np.random.default_rng(5).choice((-1.0, 1.0), size)
    b = fr.random_signs(np.random.default_rng(5), size)
    np.testing.assert_array_equal(a, b)


def test_direct_iir_equals_the_cascade_across_blocks() -> None:
    sos = np.vstack(
        [
            sps.butter(2, 100.0, "highpass", fs=SR, output="sos"),
            sps.butter(1, 2000.0, "lowpass", fs=SR, output="sos"),
        ]
    )
    x = np.random.default_rng(0).standard_normal(3 * SR)
    ref = sps.sosfilt(sos, x)
    filt = fr.DirectIIR(sos)
    cuts = [0, 1, 4096, 50000, 50001, len(x)]
    got = np.concatenate([filt(x[a:b]) for a, b in itertools.pairwise(cuts)])
    assert np.max(np.abs(got - ref)) < 1e-9 * np.std(ref)
    assert filt.direct and len(filt._a) == 4  # first-order zero taps trimmed


def test_poisson_times_and_ridge_impulses_keep_their_draws() -> None:
    rate = np.linspace(0.0, 3000.0, 20000)
    a = fr.poisson_times(np.random.default_rng(1), rate, SR)
    lam = np.cumsum(np.maximum(rate, 0.0)) / SR
    rng = np.random.default_rng(1)
    marks = np.sort(rng.uniform(0.0, lam[-1], int(rng.poisson(lam[-1]))))
    np.testing.assert_array_equal(a, np.minimum(np.searchsorted(lam, marks), len(lam) - 1))
    # ridge impulses: the phase formula of the original
    rng = np.random.default_rng(2)
    phase = np.cumsum(rate * (1.0 + 0.1 * rng.standard_normal(len(rate)))) / SR
    idx = np.nonzero(np.diff(np.floor(phase)) > 0)[0]
    ref = np.zeros(len(rate))
    ref[idx] = rng.uniform(0.6, 1.4, len(idx))
    np.testing.assert_array_equal(
        fr.ridge_impulses(np.random.default_rng(2), rate, SR, jitter=0.1), ref
    )


def test_shape_is_linear_zero_phase_filtering() -> None:
    # an impulse in the middle comes out as the (symmetric) impulse response of the gain
    x = np.zeros(4000)
    x[2000] = 1.0
    y = fr.shape(x, SR, lambda f: fr.bandpass_gain(f, 2000.0, 1.0), pad=512)
    assert len(y) == 4512
    h = y[1500:2501]
    np.testing.assert_allclose(h, h[::-1], atol=1e-12)
    assert np.argmax(np.abs(y)) == 2000


@pytest.mark.parametrize("n", [0, 1, 2, 3, 64, 65, 1001, 82001])
def test_swell_is_the_sine_law(n: int) -> None:
    tau = np.linspace(0.0, 1.0, n)
    np.testing.assert_allclose(_swell(n), np.sin(np.pi * tau) ** 0.7, rtol=0, atol=1e-10)


def test_crack_modes_are_damped_sines() -> None:
    rng = np.random.default_rng(3)
    p, n = 5, 3360
    f = rng.uniform(250.0, 5000.0, (p, 4))
    d = rng.uniform(4e-3, 14e-3, (p, 4))
    g = rng.uniform(-1.0, 1.0, (p, 4))
    ph = rng.uniform(0, 2 * np.pi, (p, 4))
    t = np.arange(n) / SR
    ref = (
        g[..., None]
        * np.exp(-t / d[..., None])
        * np.sin(2 * np.pi * f[..., None] * t + ph[..., None])
    ).sum(axis=1)
    np.testing.assert_allclose(_crack_modes(SR, n, f, d, g, ph), ref, rtol=0, atol=1e-11)


@pytest.mark.parametrize("sr", [16000, 22050, 44100, 48000, 96000])
def test_fourth_order_lowpass_design_is_scipys(sr: int) -> None:
    for cutoff in np.linspace(1000.0, 0.45 * sr, 11):
        ref = sps.butter(4, cutoff, "lowpass", fs=sr, output="sos")
        np.testing.assert_allclose(_butter_lowpass4(cutoff, sr), ref, rtol=0, atol=1e-14)


def test_swept_band_centre_moves_the_spectrum() -> None:
    # known answer: a band held at 1 kHz vs 4 kHz puts the energy there
    rng = np.random.default_rng(0)
    n = 24000
    exc = rng.standard_normal((2, n)).astype(np.float32)
    lc = np.log(np.array([[1000.0], [4000.0]])) * np.ones((2, n))
    y = swept_band(exc, SR, lc, n_bands=5, q=2.0, pad=256)
    assert y.shape == (2, n + 256)
    freqs = np.fft.rfftfreq(n + 256, 1.0 / SR)
    centroid = [
        float(np.sum(freqs * np.abs(np.fft.rfft(r)) ** 2) / np.sum(np.abs(np.fft.rfft(r)) ** 2))
        for r in y
    ]
    assert centroid[0] < centroid[1]
    peak = [
        freqs[np.argmax(np.convolve(np.abs(np.fft.rfft(r)) ** 2, np.ones(200), "same"))] for r in y
    ]
    assert 700 < peak[0] < 1400 and 2800 < peak[1] < 5600


@pytest.mark.parametrize(("n", "n_hits"), [(82000, 250), (1000, 5), (64, 1), (130, 3), (500, 0)])
def test_resonator_bank_equals_the_recursions(n: int, n_hits: int) -> None:
    rng = np.random.default_rng(n)
    times = np.sort(rng.choice(n, n_hits, replace=False))
    f0 = rng.uniform(1500.0, 15000.0, 4)
    r = np.exp(-1000.0 / (rng.uniform(3.6, 8.4, 4) * SR))
    gains = rng.uniform(-3.0, 3.0, (4, n_hits))
    ref = np.zeros(n)
    for m in range(4):
        drive = np.zeros(n)
        drive[times] = gains[m]
        w = 2 * np.pi * f0[m] / SR
        ref += sps.lfilter([np.sin(w)], [1.0, -2 * r[m] * np.cos(w), r[m] ** 2], drive)
    got = resonator_bank(times, gains, r * np.exp(2j * np.pi * f0 / SR), n)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-11)


def test_direct_iir_keeps_the_cascade_when_the_direct_form_is_fragile() -> None:
    # a narrow low band at 192 kHz: poles crowd z = 1
    sos = sps.butter(2, [141.0 / 96000, 358.0 / 96000], btype="band", output="sos")
    filt = fr.DirectIIR(sos)
    x = np.random.default_rng(1).standard_normal(192000)
    ref = sps.sosfilt(sos, x)
    got = np.concatenate([filt(x[:777]), filt(x[777:])])
    assert np.max(np.abs(got - ref)) <= 1e-9 * np.std(ref)


@pytest.mark.parametrize("n", [0, 1, 2, 7, 16384])
def test_gaussian_f32_shape_and_type(n: int) -> None:
    x = fr.gaussian_f32(np.random.default_rng(0), n)
    assert x.shape == (n,) and x.dtype == np.float32 and np.all(np.isfinite(x))


def test_gaussian_f32_is_standard_normal_white_noise() -> None:
    from scipy import stats

    x = fr.gaussian_f32(np.random.default_rng(1), 2_000_001).astype(np.float64)
    assert abs(x.mean()) < 0.004 and abs(x.std() - 1.0) < 0.003
    assert abs(stats.skew(x)) < 0.01 and abs(stats.kurtosis(x)) < 0.02
    assert stats.kstest(x[:100_000], "norm").pvalue > 1e-3
    # white: no correlation between neighbours, nor between the cosine and sine halves
    h = len(x) // 2
    for a, b in ((x[:-1], x[1:]), (x[:h], x[h : 2 * h])):
        assert abs(np.corrcoef(a, b)[0, 1]) < 0.004
    # the same seed, the same samples
    np.testing.assert_array_equal(
        fr.gaussian_f32(np.random.default_rng(2), 999),
        fr.gaussian_f32(np.random.default_rng(2), 999),
    )


def test_noise_options_default_to_the_original_draws() -> None:
    # the helpers shared with writing, crinkling and page turning keep their streams
    # unless a caller asks for another normal generator
    from susurrus.triggers._strokes import RoomTone

    imp = np.zeros(5000)
    imp[[10, 700, 701, 4000]] = [1.0, -2.0, 0.5, 3.0]
    rng = np.random.default_rng(4)
    c = float(np.exp(-1000.0 / (0.3 * SR)))
    ref = sps.lfilter([1.0], [1.0, -c], np.abs(imp)) * rng.standard_normal(len(imp))
    np.testing.assert_array_equal(fr.decaying_bursts(np.random.default_rng(4), imp, SR, 0.3), ref)
    b, a = sps.butter(1, [100.0, 2000.0], "bandpass", fs=SR)
    _, h = sps.freqz(b, a, worN=8192, fs=SR)
    rng = np.random.default_rng(5)
    x = rng.standard_normal(3000)
    ref = sps.lfilter(b, a, x) * (0.002 / np.sqrt(np.mean(np.abs(h) ** 2)))
    room = RoomTone(SR, 0.002, hp_hz=100.0, lp_hz=2000.0)
    rng = np.random.default_rng(5)
    got = np.concatenate([room(rng, 1000), room(rng, 2000)])
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-15)
    # with a faster normal generator: the same filters on its draws
    rng = np.random.default_rng(6)
    x32 = fr.gaussian_f32(rng, 5000)
    ref = sps.lfilter([1.0], [1.0, -c], np.abs(imp)) * x32
    got = fr.decaying_bursts(np.random.default_rng(6), imp, SR, 0.3, normal=fr.gaussian_f32)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0)


def _leaves_gust_reference(leaves, rng: np.random.Generator, state: dict):
    """The original gust and flutter code of :class:`Leaves` (gust factor, flutter)."""
    from susurrus.triggers import leaves as lv

    chunk, ctrl, sr = lv._CHUNK, lv._CTRL, leaves.sr
    k = chunk // ctrl
    theta = ctrl / sr / 2.5
    sigma = 0.75 * leaves.values["gustiness"]
    noise = rng.standard_normal(k) * sigma * np.sqrt(2 * theta)
    steps, _ = sps.lfilter([1.0], [1.0, theta - 1.0], noise, zi=[(1.0 - theta) * state["ou"]])
    state["ou"] = float(steps[-1])
    g = np.exp(steps - 0.5 * sigma**2)
    pts = np.concatenate([[state["g_prev"]], g])
    g_s = np.interp(np.arange(chunk), np.arange(k + 1) * ctrl, pts)
    state["g_prev"] = float(g[-1])
    inc = lv._FLUTTER_HZ / sr
    phase = state["phase"] + np.arange(chunk) * inc
    end = state["phase"] + chunk * inc
    n_new = int(np.floor(end))
    knots = np.concatenate([state["knots"], rng.standard_normal(n_new)])
    j = np.minimum(np.floor(phase).astype(int), n_new)
    frac = phase - j
    s = frac * frac * (3.0 - 2.0 * frac)
    f_s = knots[j] * (1.0 - s) + knots[j + 1] * s
    state["knots"] = (float(knots[n_new]), float(knots[n_new + 1]))
    state["phase"] = end - n_new
    return g_s, f_s


@pytest.mark.parametrize("params", [{}, {"wind_speed_m_s": 11.0, "gustiness": 1.0}])
def test_leaves_gust_is_the_original_formula(params) -> None:
    from susurrus import triggers

    leaves = triggers.create("leaves", "wind", sr=SR, rng=np.random.default_rng(7), **params)
    ref_rng = np.random.default_rng(7)  # _setup draws the first two flutter knots
    state: dict = {"ou": 0.0, "g_prev": 1.0, "phase": 0.0}
    state["knots"] = (float(ref_rng.standard_normal()), float(ref_rng.standard_normal()))
    scale = leaves.values["wind_speed_m_s"] / 4.0
    for _ in range(12):
        rel, fl = leaves._gust()
        g_s, f_s = _leaves_gust_reference(leaves, ref_rng, state)
        np.testing.assert_allclose(rel, scale * g_s, rtol=1e-12, atol=0)
        np.testing.assert_allclose(fl, f_s, rtol=0, atol=1e-12)


def _swept_band_reference(exc, sr, log_centre, *, n_bands, width, q, common, pad):
    """The original :func:`swept_band`: a 5-smooth FFT size, one product per band."""
    import scipy.fft as spf

    ex2 = np.atleast_2d(exc)
    lc2 = np.atleast_2d(log_centre)
    k, n = ex2.shape
    lo, hi = float(np.min(lc2)), float(np.max(lc2))
    centres = np.exp(np.linspace(lo - 0.25, min(hi + 0.25, np.log(0.4 * sr)), n_bands))
    step = 16
    n_steps = -(-n // step)
    n_fft = spf.next_fast_len(max(n + pad, n_steps * step), real=True)
    at = np.minimum(np.arange(n_steps) * step + step // 2, n - 1)
    w = np.exp(-0.5 * ((np.log(centres)[None, :, None] - lc2[:, at][:, None, :]) / width) ** 2)
    w = (w / np.maximum(w.sum(axis=1, keepdims=True), 1e-9)).astype(np.float32)
    f = np.fft.rfftfreq(n_fft, 1.0 / sr)
    total = np.zeros((k, n_fft // 2 + 1), dtype=np.complex128)
    for j in range(n_bands):
        gain = fr.bandpass_gain(f, centres[j], q) * (1.0 if common is None else common(f))
        weighted = np.zeros((k, n_fft))
        weighted[:, : n_steps * step] = np.repeat(w[:, j], step, axis=-1)
        weighted[:, :n] *= ex2
        weighted[:, n:] = 0.0
        total += np.fft.rfft(weighted, axis=-1) * gain
    out = np.fft.irfft(total, n_fft, axis=-1)[:, : n + pad]
    return out[0] if np.ndim(exc) == 1 else out


@pytest.mark.parametrize(("k", "n", "n_bands"), [(1, 17123, 4), (1, 4000, 6), (3, 9001, 5)])
def test_swept_band_equals_the_plain_filterbank(k: int, n: int, n_bands: int) -> None:
    # the summed band products, and (few_sizes) another FFT size: float32 rounding apart
    rng = np.random.default_rng(n)
    taper = np.sin(np.pi * np.linspace(0.0, 1.0, n)) ** 2  # a stroke fades in and out
    exc = (rng.standard_normal((k, n)) * taper).astype(np.float32)
    lc = np.log(800.0) + np.cumsum(rng.standard_normal((k, n)), axis=-1) * 0.01
    exc, lc = (exc[0], lc[0]) if k == 1 else (exc, lc)

    def common(f: np.ndarray) -> np.ndarray:
        return fr.highpass_gain(f, 150.0, 2) * fr.lowpass_gain(f, 16000.0, 2)

    kw = {"n_bands": n_bands, "width": 0.6, "q": 0.8, "common": common, "pad": 512}
    ref = _swept_band_reference(exc, SR, lc, **kw)
    for few_sizes in (False, True):
        got = swept_band(exc, SR, lc, few_sizes=few_sizes, **kw)
        assert got.shape == ref.shape
        assert np.max(np.abs(got - ref)) < 1e-5 * np.max(np.abs(ref))


def _brushing_event_reference(tr) -> tuple[np.ndarray, float]:
    """The original band section of :meth:`Brushing._event` (one transform per band,
    ``np.geomspace`` centres, the band-pass formula), float64 spectra."""
    from susurrus.triggers import brushing as br

    rng, sr, voice = tr.rng, tr.sr, tr._voice
    period = 1.0 / tr.values["stroke_rate_hz"]
    dur = min(tr.values["stroke_s"], 0.9 * period) * rng.uniform(0.8, 1.2)
    n = int(dur * sr)
    v = fr.stroke_profile_f32(n, rng, glide=rng.uniform(0.2, 0.4), tremor=0.15)
    level = v.astype(np.float32) ** np.float32(1.9)
    dens = tr.values["bristle_density"]
    imp = fr.impulse_train(rng, voice.grain_rate * v, sr, alpha=2.2, cap=10.0, level=v)
    bursts = fr.decaying_bursts(rng, imp, sr, voice.grain_ms, normal=fr.gaussian_f32)
    bursts /= np.sqrt(voice.grain_rate * voice.grain_ms * 2e-3)
    bursts *= dens
    exc = fr.gaussian_f32(rng, n) * np.float32(1.0 - dens) * level + bursts
    f1 = tr._sweep[0] * rng.uniform(0.85, 1.15)
    f2 = tr._sweep[1] * rng.uniform(0.85, 1.15)
    step = br._STEP
    m = -(-n // step)
    knots = np.minimum(np.arange(m + 1) * step, n - 1)
    if voice.by_speed:
        along = v[knots] / max(float(v.max()), 1e-9)
    else:
        along = np.linspace(0, 1, n)[knots]
    lc = np.log(f1) + (np.log(f2) - np.log(f1)) * along
    centres = np.geomspace(min(f1, f2) / 1.3, min(max(f1, f2) * 1.3, 0.4 * sr), br._N_BANDS)
    w = np.exp(-0.5 * ((np.log(centres)[:, None] - lc[None, :]) / voice.width) ** 2)
    w /= np.maximum(w.sum(axis=0), 1e-9)
    # the weights, linear between the knots, sample by sample
    t = np.arange(m * step)
    n_fft = fr.fft_len(n + 1024)
    f = np.fft.rfftfreq(n_fft, 1.0 / sr)
    common = (1.0 + 3.0 * tr.values["closeness"] * fr.lowpass_gain(f, 300.0, 1)) * (
        fr.highpass_gain(f, voice.hp_hz, 2)
    )
    total = np.zeros(n_fft // 2 + 1, dtype=np.complex128)
    for b in range(br._N_BANDS):
        wb = np.interp(t, np.arange(m + 1) * step, w[b])[:n]
        gain = fr.bandpass_gain(f, centres[b], voice.q) * common
        total += np.fft.rfft(wb * exc, n_fft) * gain
    y = np.fft.irfft(total, n_fft)[: n + 1024]
    fr.fade(y, sr, 5.0)
    y *= br._LEVEL[tr.variant] * rng.uniform(0.75, 1.15)
    peak = max(float(y.max()), -float(y.min()))
    if peak > br._PEAK:
        y *= br._PEAK / peak
    gap = period * rng.uniform(0.85, 1.15)
    if rng.uniform() < 0.08:
        gap += rng.uniform(0.3, 1.2)
    return y, gap


@pytest.mark.parametrize(
    ("variant", "params"),
    [("mic", {}), ("hair", {}), ("mic", {"closeness": 1.0, "brightness": 1.0})],
)
def test_brushing_strokes_are_the_plain_filterbank(variant: str, params: dict) -> None:
    # the batched, float32 filterbank: the same strokes as the plain formula, to float32
    # rounding, and the same draws
    from susurrus import triggers

    fast = triggers.create("brushing", variant, sr=SR, rng=np.random.default_rng(11), **params)
    slow = triggers.create("brushing", variant, sr=SR, rng=np.random.default_rng(11), **params)
    for _ in range(4):
        got, gap = fast._event()
        ref, ref_gap = _brushing_event_reference(slow)
        assert gap == ref_gap and got.shape == ref.shape
        assert np.max(np.abs(got - ref)) < 1e-5 * np.max(np.abs(ref))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_writing_speed_profiles_are_the_stroke_law(seed: int) -> None:
    # all strokes of a word at once: the same curves as stroke_profile, stroke by stroke
    from susurrus.triggers.writing import _speed_profiles

    rng = np.random.default_rng(seed)
    m = rng.integers(2, 700, 7)
    glides = rng.uniform(0.0, 0.4, 7)
    knots = rng.standard_normal((7, 6))

    class Knots:
        def __init__(self, row: np.ndarray) -> None:
            self.row = row

        def standard_normal(self, k: int) -> np.ndarray:
            assert k == 6
            return self.row

    ref = np.concatenate(
        [
            fr.stroke_profile(int(mm), Knots(kn), glide=float(g), tremor=0.19)  # type: ignore[arg-type]
            for mm, g, kn in zip(m, glides, knots, strict=True)
        ]
    )
    got = _speed_profiles(m, glides, knots)
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", [8640, 48001, 123457])  # gestures of 0.18 s and more
def test_crinkling_squeeze_is_the_swell_times_the_smooth_curve(n: int) -> None:
    # the squeeze, linear between 16-sample steps: the per-sample formula to 2e-3, the
    # same knots drawn
    from susurrus.triggers.crinkling import _squeeze

    ref = _swell(n) * np.exp(0.6 * fr.smooth_random(n, np.random.default_rng(n), 6))
    ref /= ref.mean()
    got, edges = _squeeze(n, 6, np.random.default_rng(n))
    assert got.dtype == np.float32 and got.shape == (n,)
    err = np.abs(got - ref)
    assert np.max(err) < 1e-2 * ref.max()  # the swell's steep first and last steps
    assert np.max(err[32:-32]) < 2e-3 * ref.max()
    assert abs(float(np.mean(got, dtype=np.float64)) - 1.0) < 1e-5
    np.testing.assert_allclose(edges[:-1], got[::16], rtol=1e-5, atol=1e-6)


def test_crinkling_block_poisson_follows_the_intensity() -> None:
    # the block-wise time rescaling: counts follow the integral of the rate, times
    # the rate's shape (here a ramp: 3/4 of the events in the second half)
    from susurrus.triggers.crinkling import _poisson_blocks

    edges = np.linspace(0.0, 2000.0, 3001)  # 3000 blocks of 16 samples = 1 s at 48 kHz
    rng = np.random.default_rng(5)
    t = np.concatenate([_poisson_blocks(rng, edges, SR) for _ in range(50)])
    assert abs(len(t) / 50 - 1000.0) < 3 * np.sqrt(1000.0 / 50)
    assert np.all((t >= 0) & (t < 3000 * 16))
    late = np.mean(t >= 1500 * 16)
    assert abs(late - 0.75) < 0.01
    assert len(_poisson_blocks(rng, np.zeros(10), SR)) == 0


@pytest.mark.parametrize("m", [2, 3, 17, 1700])
def test_page_turning_upsample_is_linear_interpolation(m: int) -> None:
    from susurrus.triggers.page_turning import _STEP, _upsample

    knots = np.random.default_rng(m).standard_normal(m)
    got = _upsample(knots)
    t = np.arange(_STEP * (m - 1) + 1)
    ref = np.interp(t, np.arange(m) * _STEP, knots)
    assert got.dtype == np.float32 and got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6 * np.max(np.abs(knots)))


def test_page_turning_step_poisson_follows_the_intensity() -> None:
    # a ramp of 0 → 2000 /s over 1 s: 1000 events, 3/4 of them in the second half
    from susurrus.triggers.page_turning import _poisson_steps

    knots = np.linspace(0.0, 2000.0, 3001)
    rng = np.random.default_rng(5)
    t = np.concatenate([_poisson_steps(rng, knots, SR) for _ in range(50)])
    assert abs(len(t) / 50 - 1000.0) < 3 * np.sqrt(1000.0 / 50)
    assert np.all((t >= 0) & (t < 3000 * 16))
    assert abs(np.mean(t >= 1500 * 16) - 0.75) < 0.01
    assert len(_poisson_steps(rng, np.zeros(10), SR)) == 0


def test_page_turning_contacts_have_the_power_of_contact_noise() -> None:
    # the power of contact_noise at the same rate (the same normalisation), bursts
    # follow the rate
    from susurrus.triggers._strokes import contact_noise
    from susurrus.triggers.page_turning import _contacts

    n = 4 * SR
    rng = np.random.default_rng(3)
    got = _contacts(rng, np.full(n // 16 + 1, 3000.0), n, SR, decay_ms=2.5)
    ref = contact_noise(np.random.default_rng(3), np.full(n, 3000.0), SR, decay_ms=2.5)
    assert got.dtype == np.float32 and got.shape == (n,)
    p_got, p_ref = np.mean(got.astype(np.float64) ** 2), np.mean(ref**2)
    assert abs(p_got / p_ref - 1.0) < 0.05
    half = _contacts(rng, np.linspace(0.0, 2000.0, n // 16 + 1), n, SR, decay_ms=0.6, spread=0.8)
    e = half.astype(np.float64) ** 2
    assert np.sum(e[n // 2 :]) > 2.0 * np.sum(e[: n // 2])  # the ramp: 3/4 of the contacts late


@pytest.mark.parametrize("n_fft", [4608, 27648, 28125])
def test_page_turning_gains_are_the_butterworth_formulas(n_fft: int) -> None:
    from susurrus.triggers.page_turning import _band_gain, _highpass150, _slap_gain

    f = np.fft.rfftfreq(n_fft, 1.0 / SR)
    ref = fr.highpass_gain(f, 1100.0, 2) * fr.lowpass_gain(f, 6000.0, 2)
    np.testing.assert_allclose(_band_gain(n_fft, SR, 1100.0, 6000.0), ref, rtol=2e-6, atol=1e-12)
    slap = fr.highpass_gain(f, 150.0, 2) * fr.lowpass_gain(f, 1800.0, 2)
    np.testing.assert_allclose(_slap_gain(n_fft, SR), slap, rtol=2e-6, atol=1e-12)
    hp = fr.highpass_gain(f, 150.0, 2)
    np.testing.assert_allclose(_highpass150(f), hp, rtol=2e-6, atol=1e-12)


@pytest.mark.parametrize("n", [4001, 27201])
def test_page_turning_paper_filter_is_shape(n: int) -> None:
    # the float32 product on a few-sizes FFT: the old float64 `shape` to float32 rounding
    # for an excitation that fades in and out (a bend), ring-out included
    import scipy.fft as spf

    from susurrus.triggers.page_turning import _PAD, _band_gain

    rng = np.random.default_rng(n)
    taper = np.sin(np.pi * np.linspace(0.0, 1.0, n)) ** 2
    exc = rng.standard_normal(n) * taper

    def paper(f: np.ndarray) -> np.ndarray:
        return fr.highpass_gain(f, 900.0, 2) * fr.lowpass_gain(f, 5000.0, 2)

    ref = fr.shape(exc, SR, paper, pad=_PAD)
    n_fft = fr.fft_len(n + _PAD)
    spec = spf.rfft(exc.astype(np.float32), n_fft)
    spec *= _band_gain(n_fft, SR, 900.0, 5000.0)
    got = spf.irfft(spec, n_fft)[: n + _PAD]
    assert got.shape == ref.shape
    assert np.max(np.abs(got - ref)) < 1e-5 * np.max(np.abs(ref))


def test_page_turning_events_fit_and_keep_their_level() -> None:
    from susurrus import triggers
    from susurrus.triggers._strokes import PEAK

    tr = triggers.create("page-turning", "default", sr=SR, rng=np.random.default_rng(4))
    for _ in range(6):
        y, gap = tr._event()
        assert y.dtype == np.float32 and np.all(np.isfinite(y))
        assert 0.7 * 0.9 * SR < len(y) - 1024 < 1.2 * 0.9 * SR + 1
        assert 0.05 < np.max(np.abs(y)) <= PEAK + 1e-6
        assert gap > len(y) / SR - 1024 / SR + 0.19
