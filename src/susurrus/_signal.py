"""The few ``scipy.signal`` functions the renderer uses, without importing ``scipy.signal``.

Importing ``scipy.signal`` imports ``scipy.stats``, ``scipy.interpolate`` and
``scipy.optimize`` with it: about a second and 60–75 MB of memory in every process,
before the first sample (and a render's worker process carries the same pages). The
renderer only needs a handful of its functions:

- the filtering kernels — ``lfilter``, ``sosfilt`` and the polyphase ``upfirdn``
  behind ``resample_poly`` — are scipy's own compiled code, loaded here straight
  from their extension modules (they depend on numpy alone);
- the filter design — Butterworth filters (``ba``, ``sos`` and ``zpk``), ``firwin``,
  ``sosfilt_zi``, ``sos2tf``, ``freqz``, ``fftconvolve`` — is the textbook math
  (analog prototype, frequency transformation, bilinear transform, pole/zero
  pairing), written out here and tested against ``scipy.signal`` itself
  (``tests/test_signal_subset.py``); its transforms are :mod:`susurrus._fft`'s and its
  Kaiser window uses numpy's Bessel I0 (so ``firwin`` agrees with scipy's to ~1e-16
  relative, not bit for bit).

Arguments and results follow ``scipy.signal``'s, for the cases used here. Should the
extension modules not load (another scipy layout), every function is scipy.signal's
own. Rarely used functions (``resample``) import ``scipy.signal`` when called.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _fft as sfft
from ._compiled import scipy_extension

__all__ = [
    "butter", "fftconvolve", "firwin", "freqz", "lfilter", "resample", "resample_poly",
    "sos2tf", "sosfilt", "sosfilt_zi",
]


try:
    _linear_filter = scipy_extension("signal", "_sigtools")._linear_filter
    _sosfilt_kernel = scipy_extension("signal", "_sosfilt")._sosfilt
    _upfirdn = scipy_extension("signal", "_upfirdn_apply")
    _upfirdn_apply, _upfirdn_output_len, _upfirdn_mode = _upfirdn._apply, _upfirdn._output_len, _upfirdn.mode_enum
    KERNELS = True
except (ImportError, AttributeError, OSError):  # pragma: no cover - another scipy layout
    KERNELS = False


# -- filtering -------------------------------------------------------------------------

def lfilter(b: Any, a: Any, x: Any, axis: int = -1, zi: Any = None) -> Any:
    """``scipy.signal.lfilter``: ``y`` (and the final state when ``zi`` is given)."""
    b, a, x = np.atleast_1d(b), np.atleast_1d(a), np.asarray(x)
    if b.ndim != 1 or a.ndim != 1 or b.size == 0 or a.size == 0:
        raise ValueError(f"b and a must be non-empty 1-D arrays, got shapes {b.shape} and {a.shape}")
    if x.ndim == 0:
        raise ValueError("x must be at least 1-D")
    if len(a) == 1:  # an FIR: a full convolution along the axis
        inputs = [b, a, x] + ([np.asarray(zi)] if zi is not None else [])
        dtype = np.result_type(*inputs)
        bb = np.array(b, dtype=dtype) / np.asarray(a, dtype=dtype)[0]
        full = np.apply_along_axis(lambda v: np.convolve(bb, v), axis, np.asarray(x, dtype=dtype))
        ind: list[slice] = [slice(None)] * full.ndim
        if zi is not None:
            ind[axis] = slice(np.asarray(zi).shape[axis])
            full[tuple(ind)] += zi
        ind[axis] = slice(full.shape[axis] - len(bb) + 1)
        out = full[tuple(ind)]
        if zi is None:
            return out
        ind[axis] = slice(full.shape[axis] - len(bb) + 1, None)
        return out, full[tuple(ind)]
    if zi is None:
        return _linear_filter(b, a, x, axis)
    return _linear_filter(b, a, x, axis, np.asarray(zi))


def sosfilt(sos: Any, x: Any, axis: int = -1, zi: Any = None) -> Any:
    """``scipy.signal.sosfilt``: ``y`` (and the final state when ``zi`` is given).

    Computes in the result type of ``sos``, ``x`` and ``zi`` (float32 data through a
    float64 ``sos`` comes back float64, as in scipy)."""
    sos = np.atleast_2d(np.asarray(sos))
    if sos.ndim != 2 or sos.shape[1] != 6:
        raise ValueError(f"sos must have shape (n_sections, 6), got {sos.shape}")
    if not np.all(sos[:, 3] == 1):
        raise ValueError("sos[:, 3] should be all ones")
    n_sections = sos.shape[0]
    x = np.asarray(x)
    if x.ndim == 0:
        raise ValueError("x must be at least 1-D")
    axis = axis % x.ndim
    zi_shape = list(x.shape)
    zi_shape[axis] = 2
    zi_shape = [n_sections, *zi_shape]
    inputs = [sos, x] + ([np.asarray(zi)] if zi is not None else [])
    dtype = np.result_type(*inputs)
    if dtype.char not in "fdgFDGO":
        raise NotImplementedError(f"input type '{dtype}' not supported")
    if zi is not None:
        state = np.array(zi, dtype=dtype)
        if state.shape != tuple(zi_shape):
            raise ValueError(f"zi must have shape {tuple(zi_shape)}, got {state.shape}")
    else:
        state = np.zeros(zi_shape, dtype=dtype)
    xm = np.moveaxis(x, axis, -1)
    st = np.moveaxis(state, (0, axis + 1), (-2, -1))
    x_shape, st_shape = xm.shape, st.shape
    y = np.array(xm.reshape(-1, xm.shape[-1]), dtype, order="C")  # a copy, filtered in place
    st = np.ascontiguousarray(st.reshape(-1, n_sections, 2))
    _sosfilt_kernel(sos.astype(dtype, copy=False), y, st)
    out = np.moveaxis(y.reshape(x_shape), -1, axis)
    if zi is None:
        return out
    return out, np.moveaxis(st.reshape(st_shape), (-2, -1), (0, axis + 1))


def _lfilter_zi(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Steady-state initial conditions of ``lfilter`` for a unit step (``lfilter_zi``)."""
    b, a = np.atleast_1d(b).astype(np.float64), np.atleast_1d(a).astype(np.float64)
    while len(a) > 1 and a[0] == 0.0:
        a = a[1:]
    if a[0] != 1.0:
        b, a = b / a[0], a / a[0]
    n = max(len(a), len(b))
    a, b = np.r_[a, np.zeros(n - len(a))], np.r_[b, np.zeros(n - len(b))]
    companion = np.zeros((n - 1, n - 1))
    companion[0] = -a[1:]
    companion[np.arange(1, n - 1), np.arange(n - 2)] = 1.0
    return np.linalg.solve(np.eye(n - 1) - companion.T, b[1:] - a[1:] * b[0])


def sosfilt_zi(sos: Any) -> np.ndarray:
    """``scipy.signal.sosfilt_zi``: the sections' steady state for a unit step, ``(n, 2)``."""
    sos = np.asarray(sos)
    zi = np.empty((sos.shape[0], 2))
    scale = 1.0
    for s in range(sos.shape[0]):
        b, a = sos[s, :3], sos[s, 3:]
        zi[s] = scale * _lfilter_zi(b, a)
        scale *= b.sum() / a.sum()
    return zi


def sos2tf(sos: Any) -> tuple[np.ndarray, np.ndarray]:
    """``scipy.signal.sos2tf``: the sections multiplied out into one ``(b, a)``."""
    sos = np.asarray(sos)
    dtype = sos.dtype if sos.dtype.kind in "fc" else np.dtype(np.float64)
    b, a = np.array([1], dtype=dtype), np.array([1], dtype=dtype)
    for s in range(sos.shape[0]):
        b, a = np.polymul(b, sos[s, :3]), np.polymul(a, sos[s, 3:])
    return b, a


# -- Butterworth design ----------------------------------------------------------------

def _bilinear_zpk(z: np.ndarray, p: np.ndarray, k: float, fs: float) -> tuple[np.ndarray, np.ndarray, float]:
    degree = len(p) - len(z)
    fs2 = 2.0 * fs
    zz = np.append((fs2 + z) / (fs2 - z), -np.ones(degree))
    pz = (fs2 + p) / (fs2 - p)
    return zz, pz, float(k * np.real(np.prod(fs2 - z) / np.prod(fs2 - p)))


def butter(N: int, Wn: Any, btype: str = "low", analog: bool = False, output: str = "ba",
           fs: float | None = None) -> Any:
    """``scipy.signal.butter`` for digital filters: low-, high- and band-pass (``btype``
    ``low``/``lowpass``, ``high``/``highpass``, ``band``/``bandpass``), as ``ba``,
    ``sos`` or ``zpk``. ``Wn`` is relative to Nyquist, or in Hz with ``fs``."""
    if analog:
        raise ValueError("only digital Butterworth filters are designed here")
    kind = {"low": "low", "lowpass": "low", "high": "high", "highpass": "high",
            "band": "band", "bandpass": "band"}.get(btype)
    if kind is None:
        raise ValueError(f"btype must be low, high or band(pass), got {btype!r}")
    if int(N) != N or N < 1:
        raise ValueError(f"N must be a positive integer, got {N!r}")
    wn = np.atleast_1d(np.asarray(Wn, dtype=np.float64))
    if fs is not None:
        wn = 2 * wn / fs
    if np.any(wn <= 0) or np.any(wn >= 1):
        raise ValueError(f"digital filter critical frequencies must be 0 < Wn < 1, got {wn}")
    if (kind == "band") != (wn.size == 2):
        raise ValueError(f"a {kind}-pass filter takes {'two' if kind == 'band' else 'one'} "
                         f"critical frequencies, got {wn.size}")
    # analog prototype: poles on the left half of the unit circle
    m = np.arange(-int(N) + 1, int(N), 2)
    p = -np.exp(1j * np.pi * m / (2 * int(N)))
    z = np.array([], dtype=np.complex128)
    k = 1.0
    # pre-warp for the bilinear transform (fs = 2, as frequencies are relative to Nyquist)
    warped = 4.0 * np.tan(np.pi * wn / 2.0)
    degree = len(p) - len(z)
    if kind == "low":
        wo = float(warped[0])
        z, p, k = z * wo, p * wo, k * wo**degree
    elif kind == "high":
        wo = float(warped[0])
        k = k * float(np.real(np.prod(-z) / np.prod(-p)))
        z, p = np.append(wo / z, np.zeros(degree)), wo / p
    else:
        bw, wo = float(warped[1] - warped[0]), float(np.sqrt(warped[0] * warped[1]))
        z_lp, p_lp = (z * bw / 2).astype(complex), (p * bw / 2).astype(complex)
        z = np.append(np.concatenate((z_lp + np.sqrt(z_lp**2 - wo**2), z_lp - np.sqrt(z_lp**2 - wo**2))),
                      np.zeros(degree))
        p = np.concatenate((p_lp + np.sqrt(p_lp**2 - wo**2), p_lp - np.sqrt(p_lp**2 - wo**2)))
        k = k * bw**degree
    z, p, k = _bilinear_zpk(z, p, k, fs=2.0)
    if output == "zpk":
        return z, p, k
    if output == "ba":
        return _zpk2tf(z, p, k)
    if output == "sos":
        return _zpk2sos(z, p, k)
    raise ValueError(f"output must be 'ba', 'sos' or 'zpk', got {output!r}")


def _zpk2tf(z: np.ndarray, p: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    """Polynomials of conjugate-symmetric roots (real coefficients)."""
    b = k * np.poly(z) if len(z) else np.array([k], dtype=np.float64)
    a = np.atleast_1d(np.poly(p))
    return np.real(b).astype(np.float64), np.real(a).astype(np.float64)


def _zpk2sos(z: np.ndarray, p: np.ndarray, k: float) -> np.ndarray:
    """Second-order sections of a digital filter (scipy's ``nearest`` pairing): the
    poles closest to the unit circle go in the last section, each pole pair with the
    zeros nearest to it; the gain goes in the first section."""
    n = max(len(z), len(p))
    z = np.concatenate((z, np.zeros(n - len(z)))).astype(complex)
    p = np.concatenate((p, np.zeros(n - len(p)))).astype(complex)
    if n % 2:
        z, p = np.append(z, 0.0), np.append(p, 0.0)
    n_sections = len(p) // 2
    tol = 100 * np.finfo(np.float64).eps

    def is_real(v: complex) -> bool:
        return bool(abs(v.imag) <= tol * max(1.0, abs(v)))

    def take(pool: list[complex], target: complex, kind: str) -> complex:
        cand = [i for i, v in enumerate(pool) if kind == "any" or is_real(v)]
        if not cand:
            cand = list(range(len(pool)))
        i = min(cand, key=lambda j: abs(pool[j] - target))
        return pool.pop(i)

    def partner(pool: list[complex], v: complex) -> complex:
        return pool.pop(min(range(len(pool)), key=lambda j: abs(pool[j] - np.conj(v))))

    poles, zeros = list(p), list(z)
    sos = np.zeros((n_sections, 6))
    for si in range(n_sections - 1, -1, -1):
        i = min(range(len(poles)), key=lambda j: (abs(1 - abs(poles[j])), -poles[j].imag))
        p1 = poles.pop(i)
        p2 = take(poles, p1, "real") if is_real(p1) else partner(poles, p1)
        z1 = take(zeros, p1, "any")
        z2 = take(zeros, p1, "real") if is_real(z1) else partner(zeros, z1)
        sos[si, :3] = np.real(np.poly([z1, z2]))
        sos[si, 3:] = np.real(np.poly([p1, p2]))
    sos[0, :3] *= k
    return sos


def freqz(b: Any, a: Any = 1, worN: int = 512, fs: float = 2 * np.pi) -> tuple[np.ndarray, np.ndarray]:
    """``scipy.signal.freqz`` at ``worN`` evenly spaced frequencies from 0 to (not
    including) Nyquist: ``(frequencies in units of fs, complex response)``."""
    b, a = np.atleast_1d(b), np.atleast_1d(a)
    n = int(worN)
    w = np.linspace(0, fs / 2, n, endpoint=False)
    zm1 = np.exp(-1j * np.pi * np.arange(n) / n)
    h = np.polynomial.polynomial.polyval(zm1, b) / np.polynomial.polynomial.polyval(zm1, a)
    return w, h


# -- FIR design and resampling ---------------------------------------------------------

def firwin(numtaps: int, cutoff: float, window: Any = ("kaiser", 5.0)) -> np.ndarray:
    """``scipy.signal.firwin`` for a low-pass (``cutoff`` relative to Nyquist) with a
    Kaiser window ``("kaiser", beta)``, scaled to unit gain at DC."""
    c = float(cutoff)
    if not 0 < c < 1:
        raise ValueError(f"cutoff must be between 0 and 1 (Nyquist), got {cutoff}")
    if not (isinstance(window, tuple) and len(window) == 2 and window[0] == "kaiser"):
        raise ValueError(f"window must be ('kaiser', beta), got {window!r}")
    m = np.arange(0, numtaps) - 0.5 * (numtaps - 1)
    h = c * np.sinc(c * m)
    beta, alpha = float(window[1]), 0.5 * (numtaps - 1)
    n = np.arange(0, numtaps)
    # numpy's Bessel I0 (scipy.special's differs by ≤ 5e-16 relative; importing
    # scipy.special costs a render 0.05 s and its array-API layer)
    h = h * (np.i0(beta * np.sqrt(1 - ((n - alpha) / alpha) ** 2.0)) / np.i0(beta))
    return np.asarray(h / np.sum(h))


def _upfirdn_filter(h: np.ndarray, x: np.ndarray, up: int, down: int, axis: int) -> np.ndarray:
    """scipy's polyphase ``upfirdn`` (zero padding) along ``axis``."""
    dtype = np.result_type(h.dtype, x.dtype, np.float32)
    h = np.asarray(h, dtype)
    padded = np.zeros(len(h) + (-len(h) % up), dtype)
    padded[: len(h)] = h
    h_flip = np.ascontiguousarray(padded.reshape(-1, up).T[:, ::-1].ravel())
    shape = np.asarray(x.shape, dtype=np.int64)
    shape[axis] = _upfirdn_output_len(len(h), x.shape[axis], up, down)
    out = np.zeros(shape, dtype=dtype, order="C")
    _upfirdn_apply(np.asarray(x, dtype), h_flip, out, up, down, axis % x.ndim,
                   _upfirdn_mode("constant"), 0)
    return out


def resample_poly(x: Any, up: int, down: int, axis: int = 0, window: Any = ("kaiser", 5.0)) -> np.ndarray:
    """``scipy.signal.resample_poly`` (zero padding): ``x`` resampled by ``up / down``
    along ``axis`` with a polyphase FIR (designed by :func:`firwin`, or ``window`` when
    it is an array of taps)."""
    x = np.asarray(x)
    if up != int(up) or down != int(down) or up < 1 or down < 1:
        raise ValueError(f"up and down must be integers >= 1, got {up} and {down}")
    g = math.gcd(int(up), int(down))
    up, down = int(up) // g, int(down) // g
    if up == down == 1:
        return x.copy()
    n_in = x.shape[axis]
    n_out = n_in * up // down + bool(n_in * up % down)
    if isinstance(window, list | np.ndarray):
        h = np.array(window)
        half_len = (h.size - 1) // 2
    else:
        half_len = 10 * max(up, down)
        h = firwin(2 * half_len + 1, 1.0 / max(up, down), window=window)
        if x.dtype.kind in "fc":
            h = h.astype(x.dtype)
    h = h * up
    n_pre_pad = down - half_len % down
    n_post_pad = 0
    n_pre_remove = (half_len + n_pre_pad) // down
    while _upfirdn_output_len(len(h) + n_pre_pad + n_post_pad, n_in, up, down) < n_out + n_pre_remove:
        n_post_pad += 1
    h = np.concatenate((np.zeros(n_pre_pad, h.dtype), h, np.zeros(n_post_pad, h.dtype)))
    y = _upfirdn_filter(h, x, up, down, axis)
    keep: list[slice] = [slice(None)] * x.ndim
    keep[axis] = slice(n_pre_remove, n_pre_remove + n_out)
    return y[tuple(keep)]


def fftconvolve(a: Any, b: Any) -> np.ndarray:
    """The full linear convolution of two 1-D arrays, by FFT (``fftconvolve`` ``full``)."""
    a, b = np.asarray(a), np.asarray(b)
    n = len(a) + len(b) - 1
    n_fft = sfft.next_fast_len(n, real=True)
    return np.asarray(sfft.irfft(sfft.rfft(a, n_fft) * sfft.rfft(b, n_fft), n_fft)[:n])


def resample(x: Any, num: int, axis: int = 0) -> np.ndarray:
    """``scipy.signal.resample`` (FFT method; rare here, so it imports scipy.signal)."""
    import scipy.signal

    return np.asarray(scipy.signal.resample(x, num, axis=axis))


if not KERNELS:  # pragma: no cover - scipy.signal's own functions throughout
    import scipy.signal as _sps

    globals().update({name: getattr(_sps, name) for name in __all__})
