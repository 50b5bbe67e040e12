"""The ``scipy.fft`` functions the renderer uses (``rfft``, ``irfft``, ``next_fast_len``),
called on scipy's compiled pocketfft module directly.

``import scipy.fft`` costs about 0.2 s and 25 MB per process (its array-API layer and
``scipy.special``, see :mod:`susurrus._compiled`); the transforms themselves are one
compiled module, ``scipy.fft._pocketfft.pypocketfft``, that needs numpy alone.
Called with the arguments ``scipy.fft`` passes it (the same dtype handling, zero
padding or truncation to ``n``, normalisation, one thread), it gives the same values
bit for bit (``tests/test_signal_subset.py``). Should it not load (another scipy
layout), these are ``scipy.fft``'s own functions.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from ._compiled import scipy_extension

__all__ = ["irfft", "next_fast_len", "rfft"]

try:
    _pfft: Any = scipy_extension("fft._pocketfft", "pypocketfft")
except (ImportError, OSError):  # pragma: no cover - another scipy layout
    _pfft = None

_NORM = {None: 0, "backward": 0, "ortho": 1, "forward": 2}


def _norm(norm: str | None) -> int:
    try:
        return _NORM[norm]
    except KeyError:
        raise ValueError(f"norm {norm!r}: 'backward', 'ortho' or 'forward'") from None


def _asfarray(x: Any) -> np.ndarray:
    """Floating or complex, native byte order, aligned (as scipy.fft takes its input)."""
    x = np.asarray(x)
    if x.dtype == np.float16:
        return np.asarray(x, np.float32)
    if x.dtype.kind not in "fc":
        return np.asarray(x, np.float64)
    return np.array(x, dtype=x.dtype.newbyteorder("="), copy=None if x.flags.aligned else True)


def _fit(x: np.ndarray, n: int, axis: int) -> np.ndarray:
    """``x`` cut or zero-padded to ``n`` along ``axis``."""
    if n < 1:
        raise ValueError(f"invalid number of data points ({n}) specified")
    index: list[slice] = [slice(None)] * x.ndim
    if x.shape[axis] >= n:
        index[axis] = slice(0, n)
        return x[tuple(index)]
    shape = list(x.shape)
    shape[axis] = n
    z = np.zeros(shape, x.dtype)
    index[axis] = slice(0, x.shape[axis])
    z[tuple(index)] = x
    return z


def rfft(x: Any, n: int | None = None, axis: int = -1, norm: str | None = None) -> np.ndarray:
    """``scipy.fft.rfft``: the half spectrum of real ``x`` along ``axis`` (zero-padded or
    cut to ``n``)."""
    if _pfft is None:  # pragma: no cover
        import scipy.fft

        return np.asarray(scipy.fft.rfft(x, n, axis=axis, norm=norm))
    t = _asfarray(x)
    if not np.isrealobj(t):
        raise TypeError("x must be a real sequence")
    if n is not None:
        t = _fit(t, n, axis)
    elif t.shape[axis] < 1:
        raise ValueError(f"invalid number of data points ({t.shape[axis]}) specified")
    return np.asarray(_pfft.r2c(t, (axis,), True, _norm(norm), None, 1))


def irfft(x: Any, n: int | None = None, axis: int = -1, norm: str | None = None,
          overwrite_x: bool = False) -> np.ndarray:
    """``scipy.fft.irfft``: ``n`` real samples (default ``2 (m - 1)``) from the half
    spectrum ``x`` along ``axis``. ``overwrite_x`` is accepted and, as in scipy, unused."""
    if _pfft is None:  # pragma: no cover
        import scipy.fft

        return np.asarray(scipy.fft.irfft(x, n, axis=axis, norm=norm))
    t = _asfarray(x)
    if np.isrealobj(t):
        t = t + 0j
    if n is None:
        n = (t.shape[axis] - 1) * 2
        if n < 1:
            raise ValueError(f"invalid number of data points ({n}) specified")
    else:
        t = _fit(t, n // 2 + 1, axis)
    return np.asarray(_pfft.c2r(t, (axis,), n, False, 2 - _norm(norm), None, 1))


@lru_cache(maxsize=256)
def next_fast_len(target: int, real: bool = False) -> int:
    """``scipy.fft.next_fast_len``: the smallest size ≥ ``target`` with only small prime factors."""
    if _pfft is None:  # pragma: no cover
        import scipy.fft

        return int(scipy.fft.next_fast_len(target, real))
    return int(_pfft.good_size(target, real))
