"""The calm score (0–100) and the calm-listening level budget.

Calm score
    100 minus the points each factor costs. Every factor is measured relative to
    the recording itself (events against their local background, hum and hiss
    against the programme level — the median 100 ms RMS of the sounding frames, so
    that loud events do not make the bed look quieter — harshness as the median
    share of the power), so the score does not depend on the playback gain:

    ========== ===================================================== ======
    factor     measure                                               max
    ========== ===================================================== ======
    events     Σ kind weight × severity per minute, ``r``:           40
               ``40 (1 − e^(−r/3))``
    aversive   probability-weighted share of patches with an          15
               aversive AudioSet label, ``a``: ``15 (1 − e^(−10 a))``
    harshness  2–10 kHz share of the power, −8 dB → 0, −2 dB → 10     10
    hum        hum level re programme, −45 dB → 0, −15 dB → 10        10
    hiss       hiss floor re programme, −40 dB → 0, −10 dB → 10       10
    steadiness loudness range (EBU Tech 3342), 6 LU → 0, 20 LU → 15   15
    ========== ===================================================== ======

Level budget
    The calm-listening budget of DESIGN.md (EBU R128 measures): integrated −35 …
    −23 LUFS (ideal −27), true peak ≤ −6 dBTP, momentary loudness ≤ −18 LUFS. The
    gain that brings the file to −27 LUFS is clamped into the range of gains that
    satisfy all three; when no gain does (a peaky file), the highest gain that keeps
    the peaks in budget is given and ``needs_limiting`` is true.
"""

from __future__ import annotations

import math
from typing import Any

EVENT_WEIGHTS: dict[str, float] = {
    "transient": 1.0,
    "loudness_jump": 1.0,
    "clipping": 1.0,
    "tonal_beep": 0.8,
    "harsh_burst": 0.6,
}
BUDGET_INTEGRATED_LUFS = (-35.0, -23.0)
BUDGET_IDEAL_LUFS = -27.0
BUDGET_TRUE_PEAK_DBTP = -6.0
BUDGET_MOMENTARY_LUFS = -18.0


def _ramp(x: float | None, lo: float, hi: float) -> float:
    if x is None or not math.isfinite(x):
        return 0.0
    return min(1.0, max(0.0, (x - lo) / (hi - lo)))


def calm_score(
    *,
    events: list[dict[str, Any]],
    duration_s: float,
    aversive_share: float,
    harsh_share_db: float | None,
    hum: dict[str, Any],
    hiss_db: float | None,
    programme_db: float | None,
    loudness_range_lu: float,
) -> tuple[float, dict[str, dict[str, Any]]]:
    """``(score, breakdown)``; the breakdown gives each factor's lost points and measure."""
    minutes = max(duration_s / 60.0, 0.5)
    weighted = sum(EVENT_WEIGHTS.get(e["kind"], 0.0) * e["severity"] for e in events)
    rate = weighted / minutes
    hum_rel = (
        hum["level_db"] - programme_db
        if hum.get("detected") and hum.get("level_db") is not None and programme_db is not None
        else None
    )
    hiss_rel = hiss_db - programme_db if hiss_db is not None and programme_db is not None else None
    factors: dict[str, dict[str, Any]] = {
        "events": {
            "points_lost": 40.0 * (1.0 - math.exp(-rate / 3.0)),
            "measure": round(rate, 3),
            "unit": "weighted events per minute",
        },
        "aversive": {
            "points_lost": 15.0 * (1.0 - math.exp(-10.0 * aversive_share)),
            "measure": round(aversive_share, 4),
            "unit": "share of time",
        },
        "harshness": {
            "points_lost": 10.0 * _ramp(harsh_share_db, -8.0, -2.0),
            "measure": None if harsh_share_db is None else round(harsh_share_db, 2),
            "unit": "dB share of power in 2-10 kHz",
        },
        "hum": {
            "points_lost": 10.0 * _ramp(hum_rel, -45.0, -15.0),
            "measure": None if hum_rel is None else round(hum_rel, 2),
            "unit": "dB re programme",
        },
        "hiss": {
            "points_lost": 10.0 * _ramp(hiss_rel, -40.0, -10.0),
            "measure": None if hiss_rel is None else round(hiss_rel, 2),
            "unit": "dB re programme",
        },
        "steadiness": {
            "points_lost": 15.0 * _ramp(loudness_range_lu, 6.0, 20.0),
            "measure": round(loudness_range_lu, 2),
            "unit": "LU loudness range",
        },
    }
    for f in factors.values():
        f["points_lost"] = round(f["points_lost"], 2)
    score = max(0.0, 100.0 - sum(f["points_lost"] for f in factors.values()))
    return round(score, 1), factors


def level_budget(
    integrated_lufs: float, true_peak_dbtp: float, max_momentary_lufs: float
) -> dict[str, Any]:
    """Compliance with the calm-listening budget and the gain that would meet it."""
    lo_i, hi_i = BUDGET_INTEGRATED_LUFS
    out: dict[str, Any] = {
        "budget": {
            "integrated_lufs": [lo_i, hi_i],
            "ideal_lufs": BUDGET_IDEAL_LUFS,
            "max_true_peak_dbtp": BUDGET_TRUE_PEAK_DBTP,
            "max_momentary_lufs": BUDGET_MOMENTARY_LUFS,
        },
        "integrated_ok": False,
        "true_peak_ok": False,
        "momentary_ok": False,
        "compliant": False,
        "gain_db": None,
        "gain_range_db": None,
        "needs_limiting": False,
    }
    if not math.isfinite(integrated_lufs):
        return out
    tp = true_peak_dbtp if math.isfinite(true_peak_dbtp) else -math.inf
    mm = max_momentary_lufs if math.isfinite(max_momentary_lufs) else -math.inf
    out["integrated_ok"] = lo_i <= integrated_lufs <= hi_i
    out["true_peak_ok"] = tp <= BUDGET_TRUE_PEAK_DBTP
    out["momentary_ok"] = mm <= BUDGET_MOMENTARY_LUFS
    out["compliant"] = out["integrated_ok"] and out["true_peak_ok"] and out["momentary_ok"]
    g_min = lo_i - integrated_lufs
    g_max = min(hi_i - integrated_lufs, BUDGET_TRUE_PEAK_DBTP - tp, BUDGET_MOMENTARY_LUFS - mm)
    ideal = BUDGET_IDEAL_LUFS - integrated_lufs
    if g_min <= g_max:
        out["gain_range_db"] = [round(g_min, 2), round(g_max, 2)]
        out["gain_db"] = round(min(max(ideal, g_min), g_max), 2)
    else:
        out["gain_db"] = round(g_max, 2)
        out["needs_limiting"] = True
    return out
