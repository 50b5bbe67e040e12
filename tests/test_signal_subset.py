"""susurrus._signal: the scipy.signal functions the renderer uses, tested equal to scipy.signal."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.signal as S

from susurrus import _signal as M

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4000))


def test_the_compiled_kernels_load_without_scipy_signal() -> None:
    assert M.KERNELS


BUTTER_CASES = [
    (n, btype, wn)
    for n in range(1, 9)
    for btype, wn in [("low", 0.3), ("lowpass", 0.9), ("high", 0.05), ("highpass", 0.6),
                      ("band", [0.1, 0.4]), ("bandpass", [0.001, 0.02])]
]


@pytest.mark.parametrize(("n", "btype", "wn"), BUTTER_CASES)
def test_butter_equals_scipy(n: int, btype: str, wn: float | list[float]) -> None:
    b1, a1 = S.butter(n, wn, btype)
    b2, a2 = M.butter(n, wn, btype)
    np.testing.assert_array_equal(b2, b1)
    np.testing.assert_array_equal(a2, a1)
    sos1, sos2 = S.butter(n, wn, btype, output="sos"), M.butter(n, wn, btype, output="sos")
    assert sos2.shape == sos1.shape
    # the same sections (pairing and order), so the same filtering
    np.testing.assert_allclose(sos2, sos1, rtol=1e-12, atol=1e-15)
    y1, y2 = S.sosfilt(sos1, X, axis=1), M.sosfilt(sos2, X, axis=1)
    np.testing.assert_allclose(y2, y1, rtol=1e-9, atol=1e-12 * np.max(np.abs(y1)))
    z1, p1, k1 = S.butter(n, wn, btype, output="zpk")
    z2, p2, k2 = M.butter(n, wn, btype, output="zpk")
    np.testing.assert_allclose(np.sort_complex(p2), np.sort_complex(p1), atol=1e-12)
    np.testing.assert_allclose(np.sort_complex(z2), np.sort_complex(z1), atol=1e-12)
    assert k2 == pytest.approx(k1, rel=1e-12)


def test_butter_in_hz_and_bad_arguments() -> None:
    np.testing.assert_array_equal(M.butter(2, 100.0, "highpass", fs=48000, output="sos"),
                                  S.butter(2, 100.0, "highpass", fs=48000, output="sos"))
    np.testing.assert_array_equal(M.butter(1, [200.0, 640.0], "bandpass", fs=44100, output="sos"),
                                  S.butter(1, [200.0, 640.0], "bandpass", fs=44100, output="sos"))
    with pytest.raises(ValueError, match="0 < Wn < 1"):
        M.butter(2, 1.2)
    with pytest.raises(ValueError, match="btype"):
        M.butter(2, 0.2, "bandstop")
    with pytest.raises(ValueError, match="two"):
        M.butter(2, 0.2, "band")
    with pytest.raises(ValueError, match="N must be"):
        M.butter(0, 0.2)
    with pytest.raises(ValueError, match="output"):
        M.butter(2, 0.2, output="xyz")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lfilter_equals_scipy(dtype: type) -> None:
    b, a = (v.astype(dtype) for v in S.butter(2, 0.2))
    x = X.astype(dtype)
    zi = np.full((3, 2), 0.1, dtype)
    y1, zf1 = S.lfilter(b, a, x, axis=1, zi=zi)
    y2, zf2 = M.lfilter(b, a, x, axis=1, zi=zi)
    assert y2.dtype == y1.dtype
    np.testing.assert_array_equal(y2, y1)
    np.testing.assert_array_equal(zf2, zf1)
    np.testing.assert_array_equal(M.lfilter(b, a, x[0]), S.lfilter(b, a, x[0]))
    np.testing.assert_array_equal(M.lfilter(b, a, x.T, axis=0), S.lfilter(b, a, x.T, axis=0))
    # an FIR (a = [a0]) takes the convolution path, with and without state
    np.testing.assert_array_equal(M.lfilter([0.5, 0.25], [2.0], x, axis=1),
                                  S.lfilter([0.5, 0.25], [2.0], x, axis=1))
    y1, zf1 = S.lfilter([0.5, 0.25, 0.1], [1.0], x[0], zi=np.array([0.3, -0.2]))
    y2, zf2 = M.lfilter([0.5, 0.25, 0.1], [1.0], x[0], zi=np.array([0.3, -0.2]))
    np.testing.assert_array_equal(y2, y1)
    np.testing.assert_array_equal(zf2, zf1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sosfilt_and_its_state_equal_scipy(dtype: type) -> None:
    sos = S.butter(4, [0.1, 0.3], "band", output="sos")
    x = X.astype(dtype)
    zi = S.sosfilt_zi(sos)[:, None, :] * x[None, :, 0:1]
    np.testing.assert_array_equal(M.sosfilt_zi(sos), S.sosfilt_zi(sos))
    y1, zf1 = S.sosfilt(sos, x, axis=1, zi=zi)
    y2, zf2 = M.sosfilt(sos, x, axis=1, zi=zi)
    assert y2.dtype == y1.dtype == np.float64  # float32 data through float64 sections
    np.testing.assert_array_equal(y2, y1)
    np.testing.assert_array_equal(zf2, zf1)
    s32 = sos.astype(np.float32)
    y1 = S.sosfilt(s32, x.T, axis=0)
    y2 = M.sosfilt(s32, x.T, axis=0)
    assert y2.dtype == y1.dtype
    np.testing.assert_array_equal(y2, y1)
    # the stream cut in two continues exactly
    a, state = M.sosfilt(sos, x[:, :1500], axis=1, zi=np.zeros((4, 3, 2)))
    b, _ = M.sosfilt(sos, x[:, 1500:], axis=1, zi=state)
    np.testing.assert_allclose(np.concatenate([a, b], axis=1), M.sosfilt(sos, x, axis=1), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="zi must have shape"):
        M.sosfilt(sos, x, axis=1, zi=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="sos must have shape"):
        M.sosfilt(np.ones((2, 5)), x)


def test_sos2tf_freqz_fftconvolve_equal_scipy() -> None:
    sos = S.butter(3, [0.05, 0.5], "band", output="sos")
    for p, q in zip(M.sos2tf(sos), S.sos2tf(sos), strict=True):
        np.testing.assert_array_equal(p, q)
    b, a = S.butter(1, [300.0, 5000.0], "bandpass", fs=48000)
    w1, h1 = S.freqz(b, a, worN=8192, fs=48000)
    w2, h2 = M.freqz(b, a, worN=8192, fs=48000)
    np.testing.assert_allclose(w2, w1, rtol=1e-14)
    np.testing.assert_allclose(h2, h1, rtol=1e-12, atol=1e-14)
    u, v = RNG.standard_normal(1000), RNG.standard_normal(77)
    np.testing.assert_allclose(M.fftconvolve(u, v), S.fftconvolve(u, v), rtol=0, atol=1e-12)


@pytest.mark.parametrize(("numtaps", "cutoff", "beta"), [(201, 0.1, 5.0), (441, 1 / 20, 5.0), (31, 0.5, 8.6)])
def test_firwin_equals_scipy(numtaps: int, cutoff: float, beta: float) -> None:
    # numpy's Bessel I0 for scipy.special's: the same to a few units in the last place
    np.testing.assert_allclose(M.firwin(numtaps, cutoff, window=("kaiser", beta)),
                               S.firwin(numtaps, cutoff, window=("kaiser", beta)), rtol=1e-13, atol=1e-17)
    with pytest.raises(ValueError, match="window"):
        M.firwin(numtaps, cutoff, window="hann")
    with pytest.raises(ValueError, match="cutoff"):
        M.firwin(numtaps, 1.5)


@pytest.mark.parametrize(("up", "down", "shape", "axis", "dtype"), [
    (160, 147, (2, 3000), -1, np.float64),  # 44.1 -> 48 kHz
    (147, 160, (4000,), 0, np.float32),
    (4, 1, (2, 1000), 1, np.float32),  # the master's true-peak oversampling
    (8, 1, (5, 2, 300), -1, np.float64),  # HRIR onsets
    (2, 3, (7,), 0, np.float64),  # shorter than the filter
    (3, 3, (5,), 0, np.float64),  # the identity
])
def test_resample_poly_equals_scipy(up: int, down: int, shape: tuple[int, ...], axis: int, dtype: type) -> None:
    x = RNG.standard_normal(shape).astype(dtype)
    y1, y2 = S.resample_poly(x, up, down, axis=axis), M.resample_poly(x, up, down, axis=axis)
    assert y2.dtype == y1.dtype and y2.shape == y1.shape
    # the default filter is firwin's (within ~1e-15 of scipy's, see above)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(y2, y1, rtol=tol, atol=tol * np.max(np.abs(y1)))
    h = S.firwin(41, 0.2, window=("kaiser", 5.0)) * 3  # given taps: the same kernel, bit for bit
    np.testing.assert_array_equal(M.resample_poly(x, 3, 2, axis=axis, window=h),
                                  S.resample_poly(x, 3, 2, axis=axis, window=h))


def _python(code: str, env: dict[str, str] | None = None) -> list[str]:
    """Run ``code`` in a fresh interpreter; its output lines (it must succeed)."""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().splitlines()


def _render_code(tmp_path) -> str:
    """Code that renders 20 s of relax through the CLI with every trigger family registered."""
    return (
        "import sys\n"
        "from susurrus.cli import main\n"
        "from susurrus import triggers\n"
        "triggers.available()\n"
        f"rc = main(['render', '--preset', 'relax', '--duration', '20s', '-o', r'{tmp_path}/r.flac'])\n"
        "assert rc == 0, rc\n"
    )


def test_rendering_does_not_import_scipy_signal(tmp_path) -> None:
    """A render (CLI, every trigger family registered) leaves scipy.signal (and with it
    scipy.stats) unimported: about a second and 60 MB saved in each render process."""
    code = _render_code(tmp_path) + (
        "print(sorted(m for m in sys.modules if m.startswith(('scipy.signal', 'scipy.stats'))))\n"
        # scipy.signal imported afterwards works, on the extension modules loaded here
        "import scipy.signal, numpy as np\n"
        "b, a = scipy.signal.butter(2, 0.1)\n"
        "print(scipy.signal.lfilter(b, a, np.ones(4)).shape, scipy.signal.resample_poly(np.ones(9), 2, 1).shape)\n"
    )
    loaded, after = _python(code)[-2:]
    # only the three compiled kernels, loaded on their own
    assert loaded == "['scipy.signal._sigtools', 'scipy.signal._sosfilt', 'scipy.signal._upfirdn_apply']"
    assert after == "(4,) (18,)"


# scipy's Python packages a render must not import: each brings the array-API layer
# (numpy.testing, numpy.f2py) or scipy.special, together ~0.3 s and ~35 MB per process
SCIPY_PACKAGES = ("scipy.fft", "scipy.sparse", "scipy.ndimage", "scipy.special", "scipy.spatial",
                  "scipy.linalg", "scipy.signal", "scipy.stats", "scipy._lib._array_api")


def test_a_render_from_a_cached_table_imports_no_scipy_package(tmp_path) -> None:
    """With the HRTF table cached (as set-up leaves it), a render of relax (all trigger
    families registered) loads scipy's compiled kernels only, never their packages."""
    env = dict(os.environ, SUSURRUS_CACHE_DIR=str(tmp_path / "cache"))
    _python("from susurrus.spatial import build_table, load_hrir\n"
            "build_table(load_hrir(sr=48000))\n", env)
    code = _render_code(tmp_path) + "print(' '.join(sorted(m for m in sys.modules if m.startswith('scipy.'))))\n"
    loaded = set(_python(code, env)[-1].split())
    # (a kernel loaded by file may or may not list itself in sys.modules)
    kernels = {"scipy.signal._sigtools", "scipy.signal._sosfilt", "scipy.signal._upfirdn_apply",
               "scipy.fft._pocketfft.pypocketfft", "scipy.sparse._sparsetools"}
    assert "scipy.signal._sigtools" in loaded  # the render ran, on the kernels
    packages = {m for m in loaded - kernels if m.startswith(SCIPY_PACKAGES)}
    assert packages == set(), packages


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("shape", "axis", "n"), [
    ((1000,), 0, None), ((3, 1000), -1, 2048), ((3, 1000), 1, 999), ((5, 7, 64), 1, 12), ((4, 1), -1, 16),
])
def test_fft_equals_scipy_bit_for_bit(dtype: type, shape: tuple[int, ...], axis: int, n: int | None) -> None:
    import scipy.fft

    from susurrus import _fft

    x = RNG.standard_normal(shape).astype(dtype)
    for norm in (None, "forward", "ortho"):
        spec = _fft.rfft(x, n, axis=axis, norm=norm)
        ref = scipy.fft.rfft(x, n, axis=axis, norm=norm)
        assert spec.dtype == ref.dtype and spec.shape == ref.shape
        np.testing.assert_array_equal(spec, ref)
        for m in (None, n, 30):
            back, ref_back = _fft.irfft(spec, m, axis=axis, norm=norm), scipy.fft.irfft(ref, m, axis=axis, norm=norm)
            assert back.dtype == ref_back.dtype and back.shape == ref_back.shape
            np.testing.assert_array_equal(back, ref_back)
    np.testing.assert_array_equal(_fft.irfft(x, 40, axis=axis), scipy.fft.irfft(x, 40, axis=axis))  # real input
    for target in (1, 7, 1000, 10239, 65537):
        for real in (False, True):
            assert _fft.next_fast_len(target, real) == scipy.fft.next_fast_len(target, real)
    with pytest.raises(TypeError):
        _fft.rfft(x + 1j)
    with pytest.raises(ValueError, match="norm"):
        _fft.rfft(x, norm="sideways")
    with pytest.raises(ValueError, match="data points"):
        _fft.rfft(x, 0)


def test_without_the_kernels_scipy_signal_serves() -> None:
    """Where scipy's compiled modules are not where they are looked for (another scipy
    layout), every function is scipy.signal's own."""
    code = (
        "import scipy, numpy as np\n"
        "scipy.__file__ = '/nonexistent/scipy/__init__.py'\n"
        "from susurrus import _signal\n"
        "import scipy.signal\n"
        "assert not _signal.KERNELS\n"
        "assert _signal.lfilter is scipy.signal.lfilter and _signal.butter is scipy.signal.butter\n"
        "print(_signal.sosfilt(_signal.butter(2, 0.1, output='sos'), np.ones(5)).shape)\n"
    )
    assert _python(code) == ["(5,)"]
