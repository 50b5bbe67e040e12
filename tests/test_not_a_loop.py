"""No trigger is a loop: 10 minutes of each family, compared window against window.

Between any two non-overlapping 5-second windows the normalised cross-correlation,
maximised over all lags, stays below 0.5 (0.9 for the periodic clock and heartbeat).
The renders are made at 48 kHz and compared at 8 kHz (a loop repeats sample for
sample, so it correlates at any bandwidth).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft as sfft
import scipy.signal as sps

from susurrus import triggers
from susurrus.families import FAMILY_IDS

pytestmark = pytest.mark.slow
MINUTES = 10
WIN_S = 5
PERIODIC = {"clock": 0.9, "heartbeat": 0.9}


def max_window_correlation(y: np.ndarray, sr: int, win_s: float) -> tuple[float, int, int]:
    """The largest normalised cross-correlation (over all lags) between any two windows."""
    n = int(win_s * sr)
    k = len(y) // n
    w = y[: k * n].reshape(k, n).astype(np.float64)
    w -= w.mean(axis=1, keepdims=True)
    norms = np.sqrt((w**2).sum(axis=1))
    nfft = sfft.next_fast_len(2 * n - 1)
    spec = sfft.rfft(w, nfft, axis=1)
    best, where = 0.0, (0, 0)
    for i in range(k - 1):
        xc = sfft.irfft(spec[i + 1 :] * np.conj(spec[i]), nfft, axis=1)
        peak = np.abs(xc).max(axis=1) / np.maximum(norms[i + 1 :] * norms[i], 1e-20)
        j = int(np.argmax(peak))
        if peak[j] > best:
            best, where = float(peak[j]), (i, i + 1 + j)
    return best, *where


def test_the_detector_finds_a_loop() -> None:
    rng = np.random.default_rng(0)
    loop = rng.standard_normal(8000 * 7)  # a 7-second loop: windows overlap it at shifted lags
    y = np.tile(loop, 10)
    assert max_window_correlation(y, 8000, WIN_S)[0] > 0.5
    assert max_window_correlation(rng.standard_normal(8000 * 60), 8000, WIN_S)[0] < 0.1


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_ten_minutes_without_repetition(family: str) -> None:
    if family not in triggers.available():
        pytest.fail(f"{family} is not registered")
    src = triggers.create(family, sr=48000, rng=np.random.default_rng(11))
    y = src.read(MINUTES * 60 * 48000)[0]
    y8 = sps.resample_poly(y, 1, 6)
    best, i, j = max_window_correlation(y8, 8000, WIN_S)
    limit = PERIODIC.get(family, 0.5)
    assert best < limit, f"{family}: windows {i} and {j} correlate at {best:.3f} (limit {limit})"
