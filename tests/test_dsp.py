"""Streaming DSP blocks: the planned real FFTs (FFTW and pocketfft) and the FFT FIR filter."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from susurrus import dsp
from susurrus.dsp import RealFFT, StreamingFIR

BACKENDS = ["pocketfft"] + (["fftw"] if dsp._pyfftw is not None else [])


@contextmanager
def _backend(name: str) -> Iterator[None]:
    saved, dsp.FFT_BACKEND = dsp.FFT_BACKEND, name
    try:
        yield
    finally:
        dsp.FFT_BACKEND = saved


def test_fftw_is_the_default_where_installed() -> None:
    # the speed of the long beds rests on it; pyFFTW is a declared dependency
    assert dsp._pyfftw is not None
    assert dsp.FFT_BACKEND == "fftw"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_real_fft_matches_numpy(backend: str, dtype: type[np.floating]) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 700))
    fft = RealFFT(1024, rows_in=3, rows_out=2, dtype=dtype, backend=backend)
    spec = fft.forward(x.astype(dtype))
    assert spec.shape == (3, 513) and spec.dtype == np.result_type(dtype, np.complex64)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    ref = np.fft.rfft(x, 1024, axis=-1)
    assert np.max(np.abs(spec - ref)) < tol * np.max(np.abs(ref))
    # the inverse is unscaled: n_fft times numpy's irfft
    y = fft.inverse(ref[:2])
    assert y.shape == (2, 1024) and y.dtype == dtype
    assert np.allclose(y[:, :700] / 1024, x[:2], atol=tol)
    assert np.allclose(y[:, 700:], 0.0, atol=tol * 1024)


@pytest.mark.parametrize("backend", BACKENDS)
def test_real_fft_rows_do_not_depend_on_the_batch(backend: str) -> None:
    """A row transformed alone equals the same row in a batch of any size, bit for bit
    (callers rely on it for output independent of block size)."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((16, 1024)).astype(np.float32)
    ref_f = RealFFT(1024, rows_in=16, rows_out=16, backend=backend)
    want_spec = ref_f.forward(x).copy()
    want_y = ref_f.inverse(want_spec).copy()
    for k in (1, 2, 3, 7, 15):
        f = RealFFT(1024, rows_in=k, rows_out=k, backend=backend)
        assert np.array_equal(f.forward(x[:k]), want_spec[:k]), k
        assert np.array_equal(f.inverse(want_spec[:k]), want_y[:k]), k


def test_real_fft_rejects_an_unknown_backend() -> None:
    with pytest.raises(ValueError, match="backend 'mkl'"):
        RealFFT(64, backend="mkl")


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(1, 5000), min_size=1, max_size=8), bank=st.booleans())
def test_streaming_fir_is_convolution_whatever_the_blocks(backend: str, cuts: list[int], bank: bool) -> None:
    rng = np.random.default_rng(len(cuts))
    taps = rng.standard_normal((2, 300) if bank else 300)
    x = rng.standard_normal(sum(cuts)).astype(np.float32)
    pos, parts = 0, []
    with _backend(backend):
        fir = StreamingFIR(taps, dtype=np.float32)
        for n in cuts:
            parts.append(np.atleast_2d(fir(x[pos : pos + n])))
            pos += n
    y = np.concatenate(parts, axis=1)
    rows = np.atleast_2d(taps)
    ref = np.stack([np.convolve(x.astype(np.float64), t)[: len(x)] for t in rows])
    assert y.dtype == np.float32 and y.shape == ref.shape
    assert np.max(np.abs(y - ref)) < 2e-6 * np.max(np.abs(ref)) * np.sqrt(300)


def test_streaming_fir_backends_agree() -> None:
    if "fftw" not in BACKENDS:
        pytest.skip("pyFFTW is not installed")
    rng = np.random.default_rng(3)
    taps = rng.standard_normal((2, 2048))
    x = rng.standard_normal(50000).astype(np.float32)
    out = {}
    for b in BACKENDS:
        with _backend(b):
            out[b] = StreamingFIR(taps, dtype=np.float32)(x)
    assert np.max(np.abs(out["fftw"] - out["pocketfft"])) < 1e-5 * np.max(np.abs(out["pocketfft"]))


def test_fftw_loads_without_the_pyfftw_package_and_its_dask_import() -> None:
    import subprocess
    import sys

    code = ("import sys; from susurrus import dsp; "
            "print(dsp.FFT_BACKEND, 'dask' in sys.modules, 'pyfftw' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["fftw", "False", "False"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_products_go_through_the_transforms_as_if_formed_first(backend: str) -> None:
    """``forward_product`` and ``inverse_product`` (products with leading dimensions,
    written straight into the plans' inputs) equal the transforms of the products."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 3, 300)).astype(np.float32)
    w = rng.standard_normal((2, 1, 300)).astype(np.float32)
    f = RealFFT(512, rows_in=6, rows_out=6, backend=backend)
    g = RealFFT(512, rows_in=6, rows_out=6, backend=backend)
    spec = f.forward_product(x, w).copy()
    assert spec.shape == (6, 257)
    np.testing.assert_array_equal(spec, g.forward((x * w).reshape(6, 300)))
    f.forward(rng.standard_normal((6, 512)).astype(np.float32))  # a full input first: the pad is cleared
    np.testing.assert_array_equal(f.forward_product(x, w), spec)
    h = rng.standard_normal((2, 1, 257)).astype(np.complex64)
    s = spec.reshape(2, 3, 257)[:1]
    np.testing.assert_array_equal(f.inverse_product(h, s), g.inverse((h * s).reshape(6, 257)))
