"""Small streaming DSP building blocks shared by triggers, spatial and master stages.

Every stateful object here says what state it keeps between blocks. All of them
take and return 1-D float arrays (one channel); multichannel callers loop.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _fft as sfft
from . import _signal as sps


def _load_fftw() -> Any:
    """pyFFTW's compiled module (``FFTW``, ``empty_aligned``, ``simd_alignment``), or None.

    FFTW is about 2.5x faster than pocketfft for the long streaming transforms. The
    module is loaded from its file without running the ``pyfftw`` package's
    ``__init__``, which imports dask.array and scipy.fftpack for interfaces not used
    here (0.4 s and 15 MB more for every process that renders). The compiled module
    imports only numpy and the standard library; anything unexpected falls back to the
    plain import.
    """
    try:
        spec = importlib.util.find_spec("pyfftw")
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    try:
        where = next(iter(spec.submodule_search_locations or []))
        path = next(p for s in importlib.machinery.EXTENSION_SUFFIXES
                    if os.path.exists(p := os.path.join(where, "pyfftw" + s)))
        ext = importlib.util.spec_from_file_location("pyfftw.pyfftw", path)
        assert ext is not None and ext.loader is not None
        module = importlib.util.module_from_spec(ext)
        ext.loader.exec_module(module)
        return module
    except Exception:  # pragma: no cover - another layout of the package
        import pyfftw

        return pyfftw


_pyfftw = _load_fftw()

Array = NDArray[np.floating]

#: the transform library of :class:`RealFFT`: "fftw" when pyFFTW is installed, else
#: "pocketfft" (scipy's). ``SUSURRUS_FFT=pocketfft`` forces the fallback.
FFT_BACKEND = "fftw" if _pyfftw is not None and os.environ.get("SUSURRUS_FFT") != "pocketfft" else "pocketfft"
_PLAN_LOCK = threading.Lock()


def next_pow2(n: int) -> int:
    """Smallest power of two >= n."""
    return 1 << max(0, int(n - 1).bit_length())


def design_shaped_fir(
    sr: int, gain: Callable[[np.ndarray], np.ndarray], *, n_taps: int = 8192
) -> np.ndarray:
    """Linear-phase FIR whose magnitude follows ``gain(f_hz)`` (frequency sampling, Hann window).

    ``gain`` receives an array of frequencies (Hz, 0 … sr/2) and returns linear
    amplitude factors. Returns float64 taps of length ``n_taps`` (even).
    """
    n_fft = next_pow2(n_taps) * 2
    f = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mag = np.asarray(gain(f), dtype=np.float64)
    h = sfft.irfft(mag, n_fft)
    h = np.roll(h, n_taps // 2)[:n_taps] * np.hanning(n_taps)
    return h


def _aligned_rows(rows: int, n: int, dtype: np.dtype[Any]) -> np.ndarray:
    """A ``(rows, n)`` view whose every row starts on FFTW's SIMD alignment.

    With each row aligned alike, a batch of any number of rows runs the same
    codelets on every row as a batch of one: a row's result does not depend on how
    many rows were transformed with it (measured: without the padding a single row
    takes another path and rounds differently).
    """
    assert _pyfftw is not None
    per = max(1, int(_pyfftw.simd_alignment) // dtype.itemsize)
    stride = -(-n // per) * per
    return _pyfftw.empty_aligned((rows, stride), dtype=dtype)[:, :n]


def _multiply_into(buf: np.ndarray, a: np.ndarray, b: np.ndarray, shape: tuple[int, ...]) -> None:
    """``a * b`` (broadcast to ``shape``) written into the rows of ``buf``: into ``buf``
    itself, or, when ``shape`` has more than two dimensions, into a view of it with its
    rows split into ``shape``'s leading ones (never a copy)."""
    out = buf if len(shape) <= 2 else buf.reshape(shape)
    assert np.may_share_memory(out, buf)
    np.multiply(a, b, out=out)


class RealFFT:
    """Planned real transforms of one size: ``rows_in`` signals forward, ``rows_out`` back.

    ``forward(x)`` zero-pads each row of ``x`` ``(rows_in, m)`` (``m <= n_fft``) to
    ``n_fft`` and returns its half spectrum ``(rows_in, n_fft // 2 + 1)``;
    ``inverse(spec)`` returns ``(rows_out, n_fft)`` real samples, the unscaled
    inverse (``n_fft`` times numpy's ``irfft``: fold ``1 / n_fft`` into the spectrum).
    Both return views of buffers the next call overwrites: copy what you keep.

    With FFTW the plans (FFTW_ESTIMATE, one thread) and their aligned buffers are made
    once, so every call runs the same plan on the same alignment: the results do not
    depend on where numpy happened to allocate the input. With pocketfft they are
    plain ``scipy.fft`` calls. ``dtype`` float32 or float64 sets the precision;
    ``backend`` ("fftw" or "pocketfft") defaults to :data:`FFT_BACKEND`.
    """

    def __init__(self, n_fft: int, *, rows_in: int = 1, rows_out: int = 1,
                 dtype: type[np.floating] | np.dtype[Any] = np.float32, backend: str | None = None) -> None:
        self.n_fft = int(n_fft)
        self.dtype = np.dtype(dtype)
        self.ctype = np.result_type(self.dtype, np.complex64)
        nb = self.n_fft // 2 + 1
        backend = backend or FFT_BACKEND
        if backend not in ("fftw", "pocketfft") or (backend == "fftw" and _pyfftw is None):
            raise ValueError(f"backend {backend!r}: 'pocketfft'" + (" or 'fftw'" if _pyfftw else ""))
        self._fftw = backend == "fftw"
        if self._fftw:
            assert _pyfftw is not None
            self._x = _aligned_rows(rows_in, self.n_fft, self.dtype)
            self._xf = _aligned_rows(rows_in, nb, self.ctype)
            self._yf = _aligned_rows(rows_out, nb, self.ctype)
            self._y = _aligned_rows(rows_out, self.n_fft, self.dtype)
            flags = ("FFTW_ESTIMATE", "FFTW_DESTROY_INPUT")
            with _PLAN_LOCK:  # FFTW's planner is not thread-safe
                self._fwd: Any = _pyfftw.FFTW(self._x, self._xf, axes=(1,), flags=flags, threads=1)
                self._inv: Any = _pyfftw.FFTW(self._yf, self._y, axes=(1,), direction="FFTW_BACKWARD",
                                              flags=flags, threads=1, normalise_idft=False)
            self._x[:] = 0.0

    def forward(self, x: np.ndarray) -> np.ndarray:
        m = x.shape[-1]
        if not self._fftw:
            return np.asarray(sfft.rfft(np.asarray(x, dtype=self.dtype), self.n_fft, axis=-1))
        self._x[:, :m] = x
        self._x[:, m:] = 0.0
        self._fwd.execute()
        return self._xf

    def forward_product(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``forward(a * b)``: the product broadcasts to ``(rows_in, m)``, or to ``(..., m)``
        with ``rows_in`` rows in all (taken in C order); with FFTW it goes straight into
        the forward plan's input."""
        shape = np.broadcast_shapes(np.shape(a), np.shape(b))
        if not self._fftw:
            return self.forward((a * b).reshape(-1, shape[-1]))
        m = shape[-1]
        _multiply_into(self._x[:, :m], a, b, shape)
        self._x[:, m:] = 0.0
        self._fwd.execute()
        return self._xf

    def inverse(self, spec: np.ndarray) -> np.ndarray:
        if not self._fftw:
            return np.asarray(sfft.irfft(np.asarray(spec, dtype=self.ctype), self.n_fft, axis=-1,
                                         norm="forward"))
        self._yf[:] = spec
        self._inv.execute()
        return self._y

    def inverse_product(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``inverse(a * b)``: the product broadcasts to ``(rows_out, n_fft // 2 + 1)``, or to
        ``(..., n_fft // 2 + 1)`` with ``rows_out`` rows in all (taken in C order); with
        FFTW it goes straight into the inverse plan's input."""
        shape = np.broadcast_shapes(np.shape(a), np.shape(b))
        if not self._fftw:
            return self.inverse((a * b).reshape(-1, shape[-1]))
        _multiply_into(self._yf, a, b, shape)
        self._inv.execute()
        return self._y

    def __repr__(self) -> str:
        backend = "fftw" if self._fftw else "pocketfft"
        return f"RealFFT(n_fft={self.n_fft}, {backend}, {self.dtype.name})"


class StreamingFIR:
    """Overlap-add FFT convolution of a stream with fixed taps.

    ``taps`` is one filter ``(n_taps,)`` or a bank ``(k, n_taps)``: a bank filters one
    input through all ``k`` filters with a single forward FFT and returns ``(k, n)``.
    ``dtype=np.float32`` computes in single precision (about twice as fast, and as
    exact as float32 audio needs); the default float64 keeps double precision.

    State: the convolution tail (``n_taps - 1`` samples per filter) carried into the
    next block. Output for a given input stream does not depend on how it is cut
    into blocks.
    """

    def __init__(self, taps: np.ndarray, *, dtype: type[np.floating] = np.float64) -> None:
        t = np.asarray(taps, dtype=np.float64)
        if t.ndim not in (1, 2) or t.shape[-1] < 1:
            raise ValueError(f"taps must be (n_taps,) or (k, n_taps), got shape {t.shape}")
        self.dtype = np.dtype(dtype)
        self._bank = t.ndim == 2
        self.taps = t if self._bank else t[None, :]
        self.n_taps = self.taps.shape[1]
        self._tail = np.zeros((self.taps.shape[0], self.n_taps - 1), dtype=self.dtype)
        self._cache: dict[int, tuple[RealFFT, np.ndarray]] = {}

    def reset(self) -> None:
        self._tail[:] = 0.0

    def _plan(self, n: int) -> tuple[RealFFT, np.ndarray]:
        """The transforms for blocks of ``n`` samples and the taps' spectrum (scaled by 1/n_fft)."""
        hit = self._cache.get(n)
        if hit is None:
            n_fft = next_pow2(n + self.n_taps - 1)
            fft = RealFFT(n_fft, rows_out=self.taps.shape[0], dtype=self.dtype)
            spec = sfft.rfft(self.taps / n_fft, n_fft, axis=1).astype(fft.ctype)
            hit = (fft, spec)
            self._cache[n] = hit
        return hit

    def __call__(self, x: np.ndarray) -> np.ndarray:
        n = len(x)
        k = self.taps.shape[0]
        if n == 0:
            return np.zeros((k, 0) if self._bank else 0, dtype=self.dtype)
        fft, spec = self._plan(n)
        xf = fft.forward(np.asarray(x).reshape(1, n))
        full = fft.inverse_product(xf, spec)[:, : n + self.n_taps - 1]
        m = self._tail.shape[1]
        full[:, :m] += self._tail
        out = full[:, :n].copy()
        self._tail = full[:, n:].copy()
        return out if self._bank else out[0]

    def __repr__(self) -> str:
        bank = f", filters={self.taps.shape[0]}" if self._bank else ""
        return f"StreamingFIR(n_taps={self.n_taps}{bank}, dtype={self.dtype.name})"


class ChunkedStream:
    """Reads of any length from a producer of whole chunks along the last axis.

    ``produce()`` returns the next chunk, ``(rows, k)`` float32 (any ``k`` > 0); a
    stage that works in fixed chunks (an FFT filter filling whole transforms) thus
    computes the same samples however its reads are cut.

    State: samples produced but not yet read.
    """

    def __init__(self, rows: int, produce: Callable[[], np.ndarray]) -> None:
        self._produce = produce
        self._buf = np.zeros((rows, 0), dtype=np.float32)

    def read(self, n: int) -> np.ndarray:
        """The next ``n`` samples, float32 ``(rows, n)``."""
        buf = self._buf
        if buf.shape[1] < n:
            parts = [buf]
            have = buf.shape[1]
            while have < n:
                parts.append(self._produce())
                have += parts[-1].shape[1]
            buf = np.concatenate(parts, axis=1, dtype=np.float32)
        y, self._buf = buf[:, :n], buf[:, n:]
        return y


class StatefulIIR:
    """``scipy.signal.lfilter`` with its state carried between blocks (``zi``)."""

    def __init__(self, b: np.ndarray, a: np.ndarray) -> None:
        self.b = np.asarray(b, dtype=np.float64)
        self.a = np.asarray(a, dtype=np.float64)
        self._zi = np.zeros(max(len(self.a), len(self.b)) - 1)

    def reset(self) -> None:
        self._zi[:] = 0.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        y, self._zi = sps.lfilter(self.b, self.a, x, zi=self._zi)
        return np.asarray(y)

    def __repr__(self) -> str:
        return f"StatefulIIR(order={len(self.a) - 1})"


class StatefulSOS:
    """``scipy.signal.sosfilt`` with its state carried between blocks."""

    def __init__(self, sos: np.ndarray) -> None:
        self.sos = np.asarray(sos, dtype=np.float64)
        self._zi = np.zeros((self.sos.shape[0], 2))

    def reset(self) -> None:
        self._zi[:] = 0.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        y, self._zi = sps.sosfilt(self.sos, x, zi=self._zi)
        return np.asarray(y)

    def __repr__(self) -> str:
        return f"StatefulSOS(sections={self.sos.shape[0]})"


def modal_impact(
    sr: int,
    *,
    freqs_hz: np.ndarray,
    decays_s: np.ndarray,
    amps: np.ndarray,
    duration_s: float,
    attack_ms: float = 0.5,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Sum of exponentially decaying sinusoids (modal synthesis of an impact).

    Each mode ``k`` is ``amps[k] * exp(-t / decays_s[k]) * sin(2π freqs_hz[k] t + φ_k)``;
    the onset is shaped by a raised-cosine attack of ``attack_ms`` (the contact time).
    Modes above Nyquist are dropped.
    """
    n = max(1, int(round(duration_s * sr)))
    t = np.arange(n) / sr
    keep = np.asarray(freqs_hz) < 0.45 * sr
    f = np.asarray(freqs_hz)[keep]
    d = np.asarray(decays_s)[keep]
    a = np.asarray(amps)[keep]
    phase = rng.uniform(0, 2 * np.pi, len(f)) if rng is not None else np.zeros(len(f))
    y = (a[:, None] * np.exp(-t[None, :] / d[:, None])
         * np.sin(2 * np.pi * f[:, None] * t[None, :] + phase[:, None])).sum(axis=0)
    na = max(1, int(attack_ms * 1e-3 * sr))
    if na > 1:
        y[:na] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(na) / na)
    return y


def decorrelation_filters(
    rng: np.random.Generator, *, n_taps: int = 2048, channels: int = 2, max_delay_ms: float = 8.0,
    sr: int = 48000,
) -> np.ndarray:
    """FIR filters (channels, n_taps) with unit magnitude and independent random phase.

    The phase of each filter is a random walk over frequency that starts at 0 at DC,
    so its group delay stays within ±``max_delay_ms`` around a common bulk delay of
    ``n_taps // 4`` samples: a mono signal through two of them becomes two channels
    that sound like one diffuse source (coherent at the lowest frequencies, as a real
    diffuse field is, incoherent above) with an unchanged spectrum and no audible smear.
    """
    n_bins = n_taps // 2 + 1
    d_omega = 2 * np.pi / n_taps
    step = max_delay_ms * 1e-3 * sr * d_omega  # largest phase step per bin
    bulk = n_taps // 4
    k = np.arange(n_bins)
    out = np.empty((channels, n_taps))
    for c in range(channels):
        phase = np.concatenate([[0.0], np.cumsum(rng.uniform(-step, step, n_bins - 1))])
        phase[-1] = 0.0 if n_taps % 2 == 0 else phase[-1]  # real Nyquist bin
        spec = np.exp(1j * (phase - bulk * d_omega * k))
        out[c] = np.fft.irfft(spec, n_taps)
    return out
