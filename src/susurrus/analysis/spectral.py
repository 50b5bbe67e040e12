"""Mains hum and hiss from the streamed spectra of :mod:`.features`.

Hum
    The long-term spectrum (~0.7 Hz bins) is searched at the harmonics
    ``k · f0`` (k = 1 … 8) of 50 Hz and of 60 Hz. A harmonic's prominence is its
    peak power (±1 Hz) over the median power 2.5–10 Hz away on both sides. Hum is
    detected when the prominences of the first eight harmonics add up to
    :data:`HUM_SCORE_DB` and one of them reaches :data:`HUM_HARMONIC_DB` (noise beds
    add up to ~3–6 dB) and the fundamental or the second harmonic reaches
    :data:`HUM_HARMONIC_DB` (mains hum always has one of them); the mains frequency whose harmonics stand out most wins. ``level_db`` is the mean square
    (dBFS) of the prominent harmonics, each summed over its Hann main lobe and
    scaled by Parseval's theorem.
Hiss
    ``hiss_db``: the 10th percentile over spectral frames of the 4–16 kHz band's
    mean square (dBFS) — the floor the band never drops below, i.e. steady
    high-frequency noise rather than the sibilants and clicks above it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .features import FeatureExtractor

MAINS_HZ = (50.0, 60.0)
HUM_HARMONICS = 8
#: a harmonic counts when it stands this much above its neighbourhood
HUM_HARMONIC_DB = 6.0
#: hum is detected when the prominences of the harmonics (dB, each ≥ 0) add up to this
HUM_SCORE_DB = 15.0
HISS_PERCENTILE = 10.0


def _db(x: float) -> float:
    return 10.0 * math.log10(x) if x > 0 else -math.inf


def hum(fx: FeatureExtractor) -> dict[str, Any]:
    """``{detected, frequency_hz, level_db}`` plus the harmonics found."""
    none: dict[str, Any] = {
        "detected": False,
        "frequency_hz": None,
        "level_db": None,
        "harmonics_hz": [],
    }
    if fx.hum_windows == 0:
        return none
    p = fx.hum_spectrum()
    f = fx.hum_freqs
    df = f[1] - f[0]
    norm = 2.0 / (fx.hum_nfft * float(np.sum(fx.hum_window.astype(np.float64) ** 2)))
    best: tuple[float, float, float, list[float]] | None = None  # (score, f0, ms, harmonics)
    for f0 in MAINS_HZ:
        score, top, ms, found = 0.0, 0.0, 0.0, []
        for k in range(1, HUM_HARMONICS + 1):
            fk = k * f0
            if fk + 10.0 >= f[-1]:
                break
            i = int(round(fk / df))
            w = int(math.ceil(1.0 / df))
            lo = max(0, i - w)
            j = lo + int(np.argmax(p[lo : i + w + 1]))
            nb = np.concatenate(
                [
                    p[int((fk - 10.0) / df) : int((fk - 2.5) / df)],
                    p[int((fk + 2.5) / df) + 1 : int((fk + 10.0) / df) + 1],
                ]
            )
            neigh = float(np.median(nb)) if nb.size else 0.0
            prom = min(60.0, _db(p[j] / neigh)) if neigh > 0 and p[j] > 0 else 0.0
            score += max(0.0, prom)
            if k <= 2:
                top = max(top, prom)
            if prom >= HUM_HARMONIC_DB:
                ms += float(p[max(0, j - 3) : j + 4].sum()) * norm
                found.append(round(float(f[j]), 2))
        if score >= HUM_SCORE_DB and top >= HUM_HARMONIC_DB and (best is None or score > best[0]):
            best = (score, f0, ms, found)
    if best is None:
        return none
    return {
        "detected": True,
        "frequency_hz": best[1],
        "level_db": round(_db(best[2]), 2),
        "harmonics_hz": best[3],
    }


def hiss_db(fx: FeatureExtractor) -> float | None:
    """Steady high-frequency noise floor (dBFS mean square in 4–16 kHz), None if silent."""
    h = fx.spec_hiss.get().astype(np.float64)
    tot = fx.spec_total.get()
    active = tot > 1e-12
    if not active.any():
        return None
    ms = 2.0 * h[active] / (fx.nfft * fx.window_power)
    v = float(np.percentile(ms, HISS_PERCENTILE))
    return round(_db(v), 2) if v > 0 else None


def harsh_share_db(fx: FeatureExtractor) -> float | None:
    """Median over the sounding spectral frames of the 2–10 kHz share of the power (dB).

    The median, so that a few harsh events (counted as events) do not also count here.
    """
    tot = fx.spec_total.get().astype(np.float64)
    active = tot > 1e-12
    if not active.any():
        return None
    share = fx.spec_harsh.get().astype(np.float64)[active] / tot[active]
    return _db(float(np.median(share)))
