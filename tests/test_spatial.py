"""Tests of the binaural space (susurrus.spatial): known answers on synthesised signals."""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.signal as sps
from hypothesis import given, settings
from hypothesis import strategies as st

from susurrus.errors import AudioError, HRIRError, ParameterError
from susurrus.spatial import (
    MOTIONS,
    HRIRSet,
    Spatializer,
    build_table,
    describe_conventions,
    distance_gain,
    find_sofa,
    load_hrir,
    make_spatializer,
    motion_path,
)
from susurrus.spatial import sofa as sofa_mod
from susurrus.spatial.render import near_far_gains

SR = 48000
MIT = "/usr/share/libmysofa/MIT_KEMAR_normal_pinna.sofa"
needs_mit = pytest.mark.skipif(not os.path.isfile(MIT), reason="apt-get install libmysofa1")


def _noise(seconds: float, seed: int = 0, scale: float = 0.1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (scale * rng.standard_normal(int(seconds * SR))).astype(np.float32)


def _pink(seconds: float, seed: int = 0) -> np.ndarray:
    """Pink noise: white noise through Kellet's -3 dB/octave filter."""
    w = np.random.default_rng(seed).standard_normal(int(seconds * SR))
    b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    a = [1.0, -2.494956002, 2.017265875, -0.522189400]
    p = sps.lfilter(b, a, w)
    return (0.05 * p / p.std()).astype(np.float32)


def _render(x: np.ndarray, **kw: object) -> np.ndarray:
    """Render ``x`` and drop the stage's latency."""
    sp = make_spatializer(sr=SR, **kw)  # type: ignore[arg-type]
    y = sp(x[None, :])
    return y[:, sp.latency_samples :]


def _itd_ms(y: np.ndarray) -> float:
    """Interaural time difference by cross-correlation below 1.5 kHz.

    Positive when the left ear lags the right one.
    """
    sos = sps.butter(6, 1500, fs=SR, output="sos")
    left, right = sps.sosfilt(sos, y[0]), sps.sosfilt(sos, y[1])
    n = len(left)
    xc = np.fft.irfft(np.fft.rfft(left, 2 * n) * np.conj(np.fft.rfft(right, 2 * n)), 2 * n)
    m = int(0.002 * SR)
    lags = np.arange(-m, m + 1)
    vals = np.concatenate([xc[-m:], xc[: m + 1]])
    i = int(np.argmax(vals))
    # parabolic refinement of the peak
    if 0 < i < len(vals) - 1:
        a, b, c = vals[i - 1], vals[i], vals[i + 1]
        frac = 0.5 * (a - c) / (a - 2 * b + c)
    else:
        frac = 0.0
    return float((lags[i] + frac) / SR * 1e3)


def _band_db(x: np.ndarray, lo: float, hi: float) -> float:
    sos = sps.butter(4, [lo, hi], btype="band", fs=SR, output="sos")
    return float(10 * np.log10(np.mean(sps.sosfilt(sos, x) ** 2)))


def _ild_db(y: np.ndarray, lo: float = 3000.0, hi: float = 8000.0) -> float:
    """Left minus right level in a band, dB."""
    return _band_db(y[0], lo, hi) - _band_db(y[1], lo, hi)


# -- HRIR data ---------------------------------------------------------------------------


@needs_mit
def test_load_mit_kemar_resampled_and_cached() -> None:
    h = load_hrir(MIT, sr=SR)
    assert isinstance(h, HRIRSet)
    assert h.n_directions == 710
    assert h.file_sr == 44100 and h.sr == SR
    assert h.hrir.dtype == np.float32 and h.hrir.shape[1] == 2
    assert abs(h.n_taps - 512 * SR / 44100) <= 1
    assert "Gardner" in h.citation and "KEMAR" in h.citation
    assert np.all(np.abs(h.azimuth_deg) <= 180) and h.elevation_deg.min() == -40
    assert load_hrir(MIT, sr=SR) is h  # cached per (path, sr)
    assert load_hrir(MIT, sr=44100).n_taps == 512


def test_env_var_and_missing_sofa_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(sofa_mod.SOFA_ENV, str(tmp_path / "nowhere.sofa"))
    with pytest.raises(HRIRError, match="SUSURRUS_SOFA"):
        find_sofa()
    monkeypatch.delenv(sofa_mod.SOFA_ENV)
    monkeypatch.setattr(sofa_mod, "DEFAULT_SOFA_PATHS", (str(tmp_path / "none.sofa"),))
    with pytest.raises(HRIRError, match="apt-get install libmysofa1"):
        load_hrir(sr=SR)


def test_unknown_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(HRIRError, match="no such SOFA file"):
        load_hrir(tmp_path / "missing.sofa", sr=SR)
    junk = tmp_path / "junk.sofa"
    junk.write_bytes(b"this is not HDF5")
    with pytest.raises(HRIRError, match="not a readable SOFA file"):
        load_hrir(junk, sr=SR)
    with pytest.raises(ParameterError, match="sr"):
        load_hrir(junk, sr=100)


def _write_sofa(
    path: Path,
    *,
    convention: str = "SimpleFreeFieldHRIR",
    right_first: bool = False,
    sr: int = 44100,
) -> None:
    """A small synthetic SOFA file: a rigid-sphere-like head (Woodworth ITD, HF shadow)."""
    az = np.concatenate([np.arange(0, 360, 30.0)] * 3 + [[0.0, 0.0]])
    el = np.concatenate([np.full(12, e) for e in (-30.0, 0.0, 30.0)] + [[90.0, -90.0]])
    n = 256
    a, c = 0.0875, 343.0
    ir = np.zeros((len(az), 2, n))
    t = np.arange(n)
    for i, (azi, eli) in enumerate(zip(np.deg2rad(az), np.deg2rad(el))):
        lat = np.sin(azi) * np.cos(eli)
        theta = np.arcsin(np.clip(lat, -1, 1))
        itd = a / c * (theta + np.sin(theta))  # Woodworth; > 0: left leads
        for e, side in ((0, 1.0), (1, -1.0)):
            delay = 40 + (-side * itd / 2) * sr
            pulse = np.sinc(t - delay) * np.exp(-(((t - delay) / 12.0) ** 2))
            shadow = 10 ** ((6.0 * side * lat) / 20)  # ±6 dB broadband
            ir[i, e] = pulse * shadow
    pos = np.stack([az, el, np.full(len(az), 1.2)], axis=1)
    recv = np.array([[[0.0], [0.09], [0.0]], [[0.0], [-0.09], [0.0]]])
    if right_first:
        ir = ir[:, ::-1]
        recv = recv[::-1]
    with h5py.File(path, "w") as f:
        f.attrs["Conventions"] = np.bytes_(b"SOFA")
        f.attrs["SOFAConventions"] = np.bytes_(convention.encode())
        f.attrs["DataType"] = np.bytes_(b"FIR")
        f.attrs["DatabaseName"] = np.bytes_(b"synthetic sphere")
        f.create_dataset("Data.IR", data=ir)
        d = f.create_dataset("Data.SamplingRate", data=np.array([float(sr)]))
        d.attrs["Units"] = np.bytes_(b"hertz")
        f.create_dataset("Data.Delay", data=np.zeros((1, 2)))
        p = f.create_dataset("SourcePosition", data=pos)
        p.attrs["Type"] = np.bytes_(b"spherical")
        p.attrs["Units"] = np.bytes_(b"degree, degree, metre")
        f.create_dataset("ReceiverPosition", data=recv)


def test_wrong_convention_is_rejected(tmp_path: Path) -> None:
    p = tmp_path / "general.sofa"
    _write_sofa(p, convention="GeneralFIR")
    with pytest.raises(HRIRError, match=r"GeneralFIR.*SimpleFreeFieldHRIR"):
        load_hrir(p, sr=SR)


@pytest.mark.parametrize("right_first", [False, True])
def test_own_sofa_file_is_used(tmp_path: Path, right_first: bool) -> None:
    """A user's own SOFA file: receivers identified by position, resampled, interpolated."""
    p = tmp_path / f"head{int(right_first)}.sofa"
    _write_sofa(p, right_first=right_first)
    h = load_hrir(p, sr=SR)
    assert h.n_directions == 38 and h.file_sr == 44100
    assert "synthetic sphere" in h.citation
    x = _noise(0.5)
    y = _render(x, azimuth_deg=75.0, hrir=h)  # between measured 60° and 90°
    assert _itd_ms(y) < -0.4  # left ear leads
    assert _band_db(y[0], 200, 8000) > _band_db(y[1], 200, 8000) + 6
    assert "head" in repr(make_spatializer(sr=SR, hrir=str(p)))


# -- the known answers ------------------------------------------------------------


@needs_mit
def test_itd_at_the_sides_and_ahead() -> None:
    x = _noise(1.0)
    left = _itd_ms(_render(x, azimuth_deg=90.0))
    right = _itd_ms(_render(x, azimuth_deg=-90.0))
    ahead = _itd_ms(_render(x, azimuth_deg=0.0))
    assert 0.6 <= -left <= 0.8, left  # +90°: the left ear leads (left lags by a negative time)
    assert 0.6 <= right <= 0.8, right
    assert abs(ahead) < 0.05


@needs_mit
def test_itd_between_measured_directions_is_smooth() -> None:
    """Interpolated directions give ITDs in order (no nearest-neighbour steps)."""
    x = _noise(0.5)
    itds = [-_itd_ms(_render(x, azimuth_deg=a)) for a in (10.0, 12.5, 15.0, 17.5, 20.0)]
    assert np.all(np.diff(itds) > 0), itds


@needs_mit
def test_ild_at_the_sides_and_its_growth() -> None:
    x = _noise(1.0, seed=3)
    assert _ild_db(_render(x, azimuth_deg=90.0)) >= 10.0
    assert _ild_db(_render(x, azimuth_deg=-90.0)) <= -10.0
    ilds = [_ild_db(_render(x, azimuth_deg=a)) for a in (0.0, 15.0, 30.0, 45.0)]
    assert abs(ilds[0]) < 1.0
    assert np.all(np.diff(ilds) > 1.0), ilds


@needs_mit
def test_pink_noise_loudness_is_flat_across_the_front() -> None:
    pyln = pytest.importorskip("pyloudnorm")
    x = _pink(3.0)
    meter = pyln.Meter(SR)
    ref = meter.integrated_loudness(np.stack([x, x], axis=1).astype(np.float64))
    levels = np.array(
        [
            meter.integrated_loudness(_render(x, azimuth_deg=a).T.astype(np.float64))
            for a in range(-90, 91, 15)
        ]
    )
    assert np.all(np.abs(levels - levels.mean()) <= 1.5), levels - levels.mean()
    # level convention: ahead at 1 m ≈ the mono input on both ears
    assert abs(levels[6] - ref) < 1.0


@needs_mit
@pytest.mark.slow
def test_sweeping_sine_has_no_discontinuity() -> None:
    t = np.arange(4 * SR) / SR
    x = (0.5 * np.sin(2 * np.pi * 200.0 * t)).astype(np.float32)
    skip = SR // 10  # the start-up transient of the filters

    def max_step(y: np.ndarray) -> np.ndarray:
        return np.abs(np.diff(y[:, skip:], axis=1)).max(axis=1)

    moving = max_step(_render(x, motion="sweep", azimuth_deg=90.0, period_s=4.0))
    static = np.max(
        [max_step(_render(x[: SR // 2], azimuth_deg=a)) for a in np.arange(-90.0, 91.0, 5.0)],
        axis=0,
    )
    assert np.all(moving <= 1.1 * static), (moving, static)


@needs_mit
def test_moving_source_is_a_crossfade_of_boundary_filters() -> None:
    """The moving renderer equals direct convolution: each input sample through the
    linear mix of the filters at its hop's start and end.

    The filters are the 2H-point circular responses of the spectra (a fractional
    delay rings round the circle), so each hop's convolution is folded onto 2H
    samples before the overlap-add.
    """
    hr = load_hrir(MIT, sr=SR)
    table = build_table(hr)
    h = table.hop
    x = _noise(0.25, seed=2)
    n_hops = len(x) // h
    x = x[: n_hops * h]
    sp = make_spatializer(sr=SR, azimuth_deg=60.0, motion="orbit", period_s=1.0, hrir=hr)
    y = sp(x[None, :])[:, h:]  # drop the one-hop latency
    t = np.arange(n_hops + 1) * h / SR
    az, el, r = sp.path(t)
    irs = np.fft.irfft(table.filters(az, el, distance_gain(r)).astype(np.complex128), 2 * h)
    w = np.arange(h) / h
    ref = np.zeros((2, (n_hops + 2) * h))
    for k in range(n_hops):
        seg = x[k * h : (k + 1) * h].astype(np.float64)
        for e in range(2):
            part = np.convolve(seg * (1 - w), irs[k, e]) + np.convolve(seg * w, irs[k + 1, e])
            part[: len(part) - 2 * h] += part[2 * h :]  # circular, 2H points
            ref[e, k * h : (k + 2) * h] += part[: 2 * h]
    n = y.shape[1]
    assert np.max(np.abs(y - ref[:, :n])) < 1e-5 * np.max(np.abs(ref))


@needs_mit
@pytest.mark.parametrize(
    ("motion", "period_s", "expect"),
    [("sweep", 24.0, "slow"), ("orbit", 60.0, "slow"), ("orbit", 1.0, "fast"), ("approach", 2.0, "both")],
)
def test_slow_motion_takes_the_mean_filter_at_odd_boundaries(motion: str, period_s: float, expect: str) -> None:
    """Even hop boundaries get their own filters; an odd one gets the mean of its two
    neighbours' while the source turns at most 1° and changes its distance by at most
    1 % across the pair (a slow sweep or orbit), and its own filter where it moves faster."""
    from susurrus.spatial.render import _GROUP

    sp = make_spatializer(sr=SR, azimuth_deg=80.0, distance_m=0.8, motion=motion, period_s=period_s)
    n_slow = n_fast = 0
    for g in (0, 7):
        ks = g * _GROUP + np.arange(_GROUP + 1)
        exact = sp._filters(ks)
        got = sp._group(g)
        assert got.shape == (2, _GROUP, sp.hop + 1) and got.dtype == np.complex64
        assert np.array_equal(got[:, 0::2], exact[:, 0:-1:2])
        az, el, r = sp.path(ks * sp.hop / SR)
        rad = np.deg2rad
        u = np.stack([np.cos(rad(el)) * np.cos(rad(az)), np.cos(rad(el)) * np.sin(rad(az)), np.sin(rad(el))])
        turn_deg = np.rad2deg(np.arccos(np.clip(np.sum(u[:, 0:-1:2] * u[:, 2::2], axis=0), -1, 1)))
        slow = (turn_deg < 0.99) & (np.abs(np.log(r[2::2] / r[0:-1:2])) < 0.0099)
        fast = (turn_deg > 1.01) | (np.abs(np.log(r[2::2] / r[0:-1:2])) > 0.0101)
        mean = 0.5 * (exact[:, 0:-1:2] + exact[:, 2::2])
        odd, tol = got[:, 1::2], 1e-6 * np.abs(exact).max()
        assert np.allclose(odd[:, slow], mean[:, slow], rtol=0, atol=tol)
        assert np.allclose(odd[:, fast], exact[:, 1::2][:, fast], rtol=0, atol=tol)
        # the mean is close to the exact filter (within 4 % of the peak, any bin)
        assert np.abs(odd - exact[:, 1::2]).max() < 0.04 * np.abs(exact).max()
        n_slow, n_fast = n_slow + int(slow.sum()), n_fast + int(fast.sum())
    assert (n_slow > 0, n_fast > 0) == {"slow": (True, False), "fast": (False, True), "both": (True, True)}[expect]


def _static_reference(sp: Spatializer, x: np.ndarray) -> np.ndarray:
    """Per-hop overlap-save in float64, the static renderer's definition.

    Hop k's output is the second half of the 2H-point circular convolution of
    ``[hop k-1, hop k]`` with the filter's 2H-point response (``irfft(filter, 2H)``),
    delayed by one hop. The filter is built from the table and the near/far-field
    gains directly, as ``Spatializer._filters`` documents it.
    """
    assert sp._table is not None
    h = sp.hop
    az, el, r = (np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in sp.path(np.zeros(1)))
    spec = sp._table.filters(az, el, distance_gain(r), ear_first=True)[:, 0]
    freqs = np.fft.rfftfreq(2 * h, 1.0 / SR)
    spec = spec * near_far_gains(freqs, az, el, r)[0].astype(np.float32)
    spec = spec.astype(np.complex128)  # (2, H+1)
    n_hops = len(x) // h
    xs = np.concatenate([np.zeros(h), x[: n_hops * h].astype(np.float64)])
    out = np.zeros((2, h + n_hops * h))
    for k in range(n_hops):
        seg = np.fft.rfft(xs[k * h : (k + 2) * h])
        out[:, h + k * h : h + (k + 1) * h] = np.fft.irfft(spec * seg, 2 * h)[:, h:]
    return out[:, : len(x)]


@needs_mit
@pytest.mark.parametrize(("azimuth_deg", "distance_m"), [(70.0, 1.0), (70.0, 0.4), (-150.0, 0.15)])
def test_static_renderer_equals_per_hop_overlap_save(azimuth_deg: float, distance_m: float) -> None:
    """The static path is overlap-save with the filter's 2H-point circular response.

    Not a linear FIR: the filters ring round the 2H circle (fractional delays,
    zero-phase near-field gains), and overlap-save folds that tail per hop; a plain
    convolution with ``irfft(filter, 2H)`` differs by about -50 dB re peak.
    """
    hr = load_hrir(MIT, sr=SR)
    x = _noise(1.0, seed=8)
    sp = make_spatializer(sr=SR, azimuth_deg=azimuth_deg, distance_m=distance_m, hrir=hr)
    h = sp.hop
    ref = _static_reference(sp, x)
    for sizes in ([len(x)], [8192], [1, 511, 2000, 0, 97]):
        sp.reset()
        y = _blocks(sp, x, sizes)
        assert y.dtype == np.float32 and y.shape == (2, len(x))
        assert np.all(y[:, :h] == 0.0)  # exactly one hop of latency
        assert np.max(np.abs(y - ref)) < 1e-5 * np.max(np.abs(ref)), sizes


@needs_mit
@pytest.mark.parametrize(
    ("motion", "mode"), [("static", "binaural"), ("orbit", "binaural"), ("static", "pan")]
)
def test_latency_is_one_hop(motion: str, mode: str) -> None:
    """An impulse comes out after exactly ``latency_samples`` (one hop): the first
    H output samples are zero, and the response starts within the next few samples."""
    sp = make_spatializer(sr=SR, azimuth_deg=70.0, distance_m=1.0, motion=motion, mode=mode)
    h = sp.hop
    assert sp.latency_samples == h
    x = np.zeros(4 * h, dtype=np.float32)
    x[0] = 1.0
    y = _blocks(sp, x, [300, 5])
    assert np.all(y[:, :h] == 0.0)
    peak = int(np.argmax(np.abs(y).max(axis=0)))
    assert h <= peak < h + 64


@needs_mit
def test_moving_renderer_on_a_fixed_path_equals_the_static_one() -> None:
    hr = load_hrir(MIT, sr=SR)
    x = _noise(0.5, seed=4)
    static = make_spatializer(sr=SR, azimuth_deg=-35.0, elevation_deg=10.0, hrir=hr)
    moving = Spatializer(
        sr=SR,
        path=motion_path("static", azimuth_deg=-35.0, elevation_deg=10.0),
        mode="binaural",
        table=build_table(hr),
        static=False,  # the moving code path, on a path that does not move
        params=static.params,
        hrir_source=None,
    )
    a, b = static(x[None, :]), _blocks(moving, x, [1000, 4096, 7])
    assert np.max(np.abs(a - b)) < 1e-5 * np.max(np.abs(a))


@needs_mit
def test_a_moving_source_has_the_cues_of_its_current_direction() -> None:
    """Slow sweep: ITD and ILD over short windows match static renderings there."""
    x = _noise(6.0, seed=9)
    period = 48.0
    y = _render(x, motion="sweep", azimuth_deg=90.0, period_s=period)
    win = SR // 4
    path = motion_path("sweep", azimuth_deg=90.0, period_s=period)
    for t0 in (1.0, 3.0, 5.5):
        i = int(t0 * SR)
        az = float(path(np.array([t0 + 0.125]))[0][0])  # the window's centre
        seg = y[:, i : i + win]
        ref = _render(x[i : i + win + 1024], azimuth_deg=az)[:, :win]
        assert abs(_itd_ms(seg) - _itd_ms(ref)) < 0.02, (t0, az)
        assert abs(_ild_db(seg) - _ild_db(ref)) < 0.5, (t0, az)


@needs_mit
def test_filters_ear_first_layout() -> None:
    table = build_table(load_hrir(MIT, sr=SR))
    az, el, g = np.array([10.0, -75.0, 130.0]), np.array([0.0, 20.0, -30.0]), np.ones(3)
    k_first = table.filters(az, el, g)
    ear_first = table.filters(az, el, g, ear_first=True)
    assert k_first.shape == (3, 2, table.hop + 1) and ear_first.shape == (2, 3, table.hop + 1)
    assert np.array_equal(ear_first.transpose(1, 0, 2), k_first)


# -- streaming: block-size independence, determinism, state --------------------------------


def _blocks(sp: object, x: np.ndarray, sizes: list[int]) -> np.ndarray:
    out, i, k = [], 0, 0
    while i < len(x):
        n = sizes[k % len(sizes)]
        out.append(sp(x[None, i : i + n]))  # type: ignore[operator]
        i += n
        k += 1
    return np.concatenate(out, axis=1)


@needs_mit
@pytest.mark.parametrize(
    ("motion", "mode", "distance_m"),
    [
        ("sweep", "binaural", 1.0),
        ("approach", "binaural", 0.8),
        ("drift", "binaural", 3.0),
        ("orbit", "pan", 1.0),
        ("static", "binaural", 0.3),
    ],
)
def test_block_size_independence_and_determinism(motion: str, mode: str, distance_m: float) -> None:
    x = _noise(1.2, seed=5)

    def make() -> object:
        return make_spatializer(
            sr=SR,
            azimuth_deg=20.0,
            motion=motion,
            period_s=2.0,
            mode=mode,
            distance_m=distance_m,
            rng=np.random.default_rng(11),
        )

    whole = make()(x[None, :])  # type: ignore[operator]
    assert whole.dtype == np.float32 and whole.shape == (2, len(x))
    assert np.all(np.isfinite(whole)) and np.abs(whole).max() > 0.01
    for sizes in ([1, 7, 300, 0, 4096], [513, 1000, 2], [48000]):
        assert np.array_equal(_blocks(make(), x, sizes), whole), sizes
    sp = make()
    first = sp(x[None, :])  # type: ignore[operator]
    sp.reset()  # type: ignore[attr-defined]
    assert np.array_equal(sp(x[None, :]), first)  # type: ignore[operator]


def test_drift_depends_on_the_seed() -> None:
    t = np.linspace(0, 60, 200)
    a = motion_path("drift", period_s=10.0, rng=np.random.default_rng(1))(t)[0]
    b = motion_path("drift", period_s=10.0, rng=np.random.default_rng(1))(t)[0]
    c = motion_path("drift", period_s=10.0, rng=np.random.default_rng(2))(t)[0]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


# -- motion paths ------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    az=st.floats(-180, 180),
    el=st.floats(-60, 60),
    dist=st.floats(0.05, 50),
    period=st.floats(0.5, 600),
    seed=st.integers(0, 2**32 - 1),
)
def test_motion_paths_stay_in_their_regions(
    az: float, el: float, dist: float, period: float, seed: int
) -> None:
    t = np.linspace(0.0, 3 * period, 301)
    kw = {"azimuth_deg": az, "elevation_deg": el, "distance_m": dist, "period_s": period}
    for name in MOTIONS:
        a, e, d = motion_path(name, rng=np.random.default_rng(seed), **kw)(t)  # type: ignore[arg-type]
        assert a.shape == e.shape == d.shape == t.shape
        assert np.all(np.isfinite(a)) and np.all(np.abs(e) <= 90) and np.all(d > 0)
        if name == "sweep":
            assert np.all(np.abs(a) <= 90 + 1e-9) and np.allclose(d, dist)
        elif name == "drift":
            assert np.all(np.abs(a - az) <= 30 + 1e-9) and np.all(np.abs(e - el) <= 15 + 1e-9)
        elif name == "approach":
            near = min(0.2, dist / 2)
            assert np.all((d >= near * (1 - 1e-9)) & (d <= dist * (1 + 1e-9)))
            assert np.isclose(d[0], dist) and np.isclose(d[50], near)  # t = P/2
        elif name == "orbit":
            assert np.all(np.abs(a) <= 180)
        else:
            assert np.all(a == az) and np.all(d == dist)


def test_sweep_and_orbit_directions() -> None:
    sweep = motion_path("sweep", azimuth_deg=90.0, period_s=4.0)
    a = sweep(np.array([0.0, 1.0, 2.0, 3.0, 4.0]))[0]
    assert np.allclose(a, [90, 0, -90, 0, 90], atol=1e-9)  # left → front → right → left
    orbit = motion_path("orbit", azimuth_deg=0.0, period_s=8.0)
    a = orbit(np.array([0.0, 2.0, 4.0, 6.0]))[0]
    assert np.allclose(np.abs(a), [0, 90, 180, 90]) and a[1] > 0 and a[3] < 0  # ahead → left


# -- distance, near field, pan ------------------------------------------------------------


def test_pan_mode_constant_power_and_distance() -> None:
    x = _noise(0.3)
    for az in (-90.0, -30.0, 0.0, 45.0, 90.0, 180.0):
        y = _render(x, azimuth_deg=az, mode="pan").astype(np.float64)
        xin = x[: y.shape[1]].astype(np.float64)
        # constant power: gL² + gR² = 2 at every sample, i.e. unit power on each ear ahead
        assert np.allclose(y[0] ** 2 + y[1] ** 2, 2.0 * xin**2, rtol=1e-4, atol=1e-9)
    y = _render(x, azimuth_deg=90.0, mode="pan")
    assert np.all(y[1] == 0) and np.abs(y[0]).max() > 0  # +90° is the left ear
    near = _render(x, azimuth_deg=0.0, distance_m=1.0, mode="pan")
    far = _render(x, azimuth_deg=0.0, distance_m=2.0, mode="pan")
    assert np.allclose(far, 0.5 * near, atol=1e-6)  # 1/r: -6 dB per doubling


@needs_mit
def test_near_field_cues() -> None:
    x = _noise(1.0, seed=7)
    close = _render(x, azimuth_deg=90.0, distance_m=0.2)
    ref = _render(x, azimuth_deg=90.0, distance_m=0.5)
    one_m = _render(x, azimuth_deg=90.0, distance_m=1.0)
    # level rise: 1/r re 1 m is +14 dB at 0.2 m (plus near-field extras at low frequencies)
    rise = _band_db(close[0], 2000, 8000) - _band_db(one_m[0], 2000, 8000)
    assert 13.0 < rise < 15.0
    # stronger interaural level difference at low frequencies
    assert _ild_db(close, 100, 500) > _ild_db(ref, 100, 500) + 3.0
    # bass proximity effect, ahead (no interaural change there)
    c0 = _render(x, distance_m=0.2)
    r0 = _render(x, distance_m=0.5)
    tilt_c = _band_db(c0[0], 60, 150) - _band_db(c0[0], 2000, 4000)
    tilt_r = _band_db(r0[0], 60, 150) - _band_db(r0[0], 2000, 4000)
    assert tilt_c > tilt_r + 2.0


# -- errors and the stage contract ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "name"),
    [
        ({"azimuth_deg": float("nan")}, "azimuth_deg"),
        ({"elevation_deg": float("nan")}, "elevation_deg"),
        ({"elevation_deg": 95.0}, "elevation_deg"),
        ({"distance_m": 0.0}, "distance_m"),
        ({"distance_m": -1.0}, "distance_m"),
        ({"distance_m": float("nan")}, "distance_m"),
        ({"period_s": 0.0}, "period_s"),
        ({"motion": "spiral"}, "motion"),
        ({"mode": "ambisonic"}, "mode"),
        ({"motion": "drift"}, "rng"),
        ({"sr": 44100.5}, "sr"),
    ],
)
def test_bad_parameters_name_what_was_wrong(kw: dict[str, object], name: str) -> None:
    args: dict[str, object] = {"sr": SR, "mode": "pan"}
    args.update(kw)
    with pytest.raises(ParameterError) as info:
        make_spatializer(**args)  # type: ignore[arg-type]
    assert info.value.name == name
    assert name in str(info.value)


def test_bad_audio_and_empty_blocks() -> None:
    sp = make_spatializer(sr=SR, mode="pan")
    assert sp(np.zeros((1, 0), dtype=np.float32)).shape == (2, 0)
    with pytest.raises(AudioError, match="shape"):
        sp(np.zeros((2, 10), dtype=np.float32))
    with pytest.raises(AudioError, match="non-finite"):
        sp(np.full((1, 10), np.nan, dtype=np.float32))


@needs_mit
def test_repr_and_conventions_text() -> None:
    r = repr(make_spatializer(sr=SR, azimuth_deg=45.0, motion="orbit", period_s=30.0))
    for part in (
        "azimuth_deg=45 deg",
        "distance_m=1 m",
        "period_s=30 s",
        "orbit",
        "binaural",
        "MIT_KEMAR",
    ):
        assert part in r
    text = describe_conventions()
    assert "+90 = your left ear" in text and "counter-clockwise" in text
    assert "positive up" in text and "metres" in text


@pytest.mark.parametrize("motion", ["static", "sweep"])
def test_silent_stretches_skip_the_transforms_and_give_the_same_samples(
    motion: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An intermittent layer is often silent: those batches are filled without FFTs."""
    x = _noise(3.0, seed=8)
    hop = make_spatializer(sr=SR).latency_samples
    # sound, a long silence (whole batches), sound, a silence starting mid-hop, sound
    x[20000:70000] = 0.0
    x[90001 : 90001 + 40 * hop] = 0.0

    def make() -> object:
        return make_spatializer(
            sr=SR, azimuth_deg=50.0, distance_m=0.4, motion=motion, period_s=2.0,
            rng=np.random.default_rng(3),
        )

    fast = make()
    calls = []
    original = type(fast)._silent_batch  # type: ignore[attr-defined]

    def spy(self: object, n_hops: int, dest: np.ndarray) -> bool:
        done = original(self, n_hops, dest)
        calls.append(done)
        return bool(done)

    monkeypatch.setattr(type(fast), "_silent_batch", spy)
    got = _blocks(fast, x, [4096, 777, 65536])
    assert sum(calls) >= 5  # the silences were skipped
    monkeypatch.setattr(type(fast), "_silent_batch", lambda self, n, dest: False)
    want = make()(x[None, :])  # type: ignore[operator]
    assert np.array_equal(got, want)
    # silence stays silence (a hop of latency; the filters reach about a hop either way)
    assert np.abs(got[:, 20000 + 3 * hop : 70000 - hop]).max() == 0.0


def test_an_interpolator_from_its_cached_state_answers_alike_and_searches_on_demand() -> None:
    """The cached state rebuilds the same interpolator; its k-d tree (for queries the
    lookup grid cannot settle) is made only when such a query comes."""
    from susurrus.spatial.hrtf import DirectionInterpolator

    rng = np.random.default_rng(3)
    az = rng.uniform(-180.0, 180.0, 200)
    el = rng.uniform(-40.0, 90.0, 200)
    built = DirectionInterpolator(az, el)
    restored = DirectionInterpolator.from_state(built.state())
    assert "tree" not in vars(restored)
    q_az, q_el = rng.uniform(-180.0, 180.0, 500), rng.uniform(-90.0, 90.0, 500)
    for a, b in zip(built(q_az, q_el), restored(q_az, q_el), strict=True):
        np.testing.assert_array_equal(a, b)
    idx, w, _ = restored._search(q_az[:50], q_el[:50])  # the exact search, through the tree
    assert "tree" in vars(restored)
    ref_idx, ref_w, _ = built._search(q_az[:50], q_el[:50])
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(w, ref_w)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)


def test_the_csr_kernel_is_scipy_sparse_product() -> None:
    """HRTF interpolation's weighted sums (scipy.sparse's CSR kernel, called on its own)
    equal scipy.sparse's matrix product bit for bit."""
    from scipy import sparse

    from susurrus.spatial.hrtf import _csr_times

    rng = np.random.default_rng(5)
    dense = rng.standard_normal((40, 26)).astype(np.float32)
    k = 17
    cols = rng.integers(0, 40, 3 * k).astype(np.int32)
    indptr = np.arange(0, 3 * k + 1, 3, dtype=np.int32)
    data = rng.random(3 * k).astype(np.float32)
    got = _csr_times(indptr, cols, data, dense)
    ref = np.asarray(sparse.csr_matrix((data, cols, indptr), shape=(k, 40)) @ dense)
    assert got.dtype == np.float32 and got.shape == (k, 26)
    np.testing.assert_array_equal(got, ref)
