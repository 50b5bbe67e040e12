"""Jarring moments, found in the per-frame features of :mod:`.features`.

Every detector compares a frame with its **local background** (a running median
over the surrounding seconds), never with a fixed level, so the events of a file
do not change when its gain does. Each event is a dict
``{start_s, end_s, kind, severity}`` plus ``excess_db`` (how far it stood out; used
by :mod:`.soften`, dropped from the public record).

Kinds and rules (thresholds are module constants):

``transient``
    a 10 ms frame whose sample peak stands :data:`TRANSIENT_DB` above the running
    median of the 100 ms RMS around it **and** :data:`TRANSIENT_PEAK_DB` above the
    running 90th percentile of the 100 ms peaks over ±10 s, silent frames left out
    (so a crackly bed such as rain, whose drops are its own texture, and speech
    starting after a pause do not count) — or an **isolated impulse**: a frame
    :data:`ISOLATED_RISE_DB` above every peak of the 300 ms before it that has died
    :data:`ISOLATED_DECAY_DB` away 50–250 ms later, at least as loud as the bed's
    typical peaks less :data:`ISOLATED_LEVEL_DB` (a tap or a dropped object in a gap
    between whispered words: no louder than the whisper's own loudest peaks, but
    sharper than what came before and gone at once, where a whispered word goes on).
``loudness_jump``
    momentary loudness (400 ms, EBU Tech 3341) :data:`JUMP_LU` above the running
    75th percentile of the momentary loudness over ±10 s (a percentile rather than
    the median, so that speech after a pause is not a jump).
``clipping``
    10 ms frames with at least :data:`CLIP_MIN_SAMPLES` plateau samples (four equal
    consecutive samples) at ≥ 95 % of the file's sample peak.
``tonal_beep``
    at least :data:`BEEP_MIN_FRAMES` consecutive spectral frames with a narrow-band
    peak :data:`BEEP_PROMINENCE_DB` above its neighbouring bins, at a stable
    frequency (±2 bins), rising :data:`BEEP_RISE_DB` above that band's background.
``harsh_burst``
    the 2–10 kHz power :data:`HARSH_DB` above its running median, with the band's
    share of the total power :data:`HARSH_SHARE_DB` above its own running median,
    for at least two spectral frames.
``silences``
    100 ms frames below :data:`SILENCE_DB` dBFS for at least :data:`MIN_SILENCE_S`.

Severity is ``1 − exp(−excess / 20 dB)``: 0.63 at 20 dB above the background,
0.78 at 30 dB (for clipping, from the share of clipped frames).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.ndimage import median_filter, percentile_filter

from .features import FeatureExtractor
from .tags import runs

TRANSIENT_DB = 20.0
TRANSIENT_PEAK_DB = 7.0
JUMP_LU = 10.0
CLIP_MIN_SAMPLES = 2
BEEP_PROMINENCE_DB = 20.0
BEEP_RISE_DB = 12.0
BEEP_MIN_FRAMES = 3
HARSH_DB = 12.0
HARSH_SHARE_DB = 4.0
SILENCE_DB = -60.0
MIN_SILENCE_S = 2.0
#: running-background windows (s)
BG_WINDOW_S = 5.0
JUMP_WINDOW_S = 10.0
#: half-width of the running 90th percentile of the 100 ms peaks (s)
PEAK_WINDOW_S = 10.0
#: percentile of the momentary loudness over ±JUMP_WINDOW_S taken as the background
JUMP_PERCENTILE = 75
#: events of one kind closer than this are merged (s)
MERGE_GAP_S = 0.25
FLOOR_DB = -150.0
#: isolated impulses (10 ms frames): rise over the previous 300 ms, decay 50–250 ms later
ISOLATED_RISE_DB = 10.0
ISOLATED_DECAY_DB = 10.0
ISOLATED_LEVEL_DB = 6.0


def _db(power: np.ndarray) -> np.ndarray:
    return np.asarray(10.0 * np.log10(np.maximum(power, 1e-15)), dtype=np.float64)


def _db32(power: np.ndarray) -> np.ndarray:
    """:func:`_db` in float32, for the per-10-ms arrays (a 3-hour file has a million frames:
    float64 temporaries would cost the streamed analysis its memory budget)."""
    x = np.maximum(np.asarray(power, dtype=np.float32), np.float32(1e-15))
    np.log10(x, out=x)
    x *= np.float32(10.0)
    return x


def _severity(excess_db: float) -> float:
    return float(1.0 - math.exp(-max(0.0, excess_db) / 20.0))


def _odd(n: float) -> int:
    k = max(1, int(round(n)))
    return k if k % 2 else k + 1


def _event(
    kind: str, start_s: float, end_s: float, excess_db: float, **extra: Any
) -> dict[str, Any]:
    return {
        "start_s": float(start_s),
        "end_s": float(max(end_s, start_s)),
        "kind": kind,
        "severity": _severity(excess_db),
        "excess_db": float(excess_db),
        **extra,
    }


class Background:
    """The 100 ms RMS of the mono downmix and its running median (dB)."""

    def __init__(self, fx: FeatureExtractor) -> None:
        ms = fx.fine_ms.get()
        self.n10 = ms.size // 10
        ms100 = (ms[: self.n10 * 10].reshape(self.n10, 10).mean(axis=1, dtype=np.float64)
                 if self.n10 else np.zeros(0))
        self.rms100_db = _db(ms100)
        w = _odd(BG_WINDOW_S / 0.1)
        self.bg100_db = (
            median_filter(self.rms100_db, size=w, mode="nearest") if self.n10 else np.zeros(0)
        )
        self.fine_db = _db32(ms)

    def programme_db(self) -> float | None:
        """Median 100 ms mean square (dBFS) of the frames above :data:`SILENCE_DB`."""
        sounding = self.rms100_db[self.rms100_db > SILENCE_DB]
        return float(np.median(sounding)) if sounding.size else None

    def at_fine(self, i: np.ndarray) -> np.ndarray:
        """Background (dB) at fine-frame indices ``i``."""
        if not self.n10:
            return np.full(np.shape(i), FLOOR_DB)
        return np.asarray(self.bg100_db[np.clip(np.asarray(i) // 10, 0, self.n10 - 1)])

    def refine(
        self, start_s: float, end_s: float, *, above_db: float = 10.0
    ) -> tuple[float, float]:
        """Tighten ``[start_s, end_s]`` to the 10 ms frames above background + ``above_db``."""
        a = max(0, int(math.floor(start_s / 0.01)))
        b = min(self.fine_db.size, int(math.ceil(end_s / 0.01)))
        if b <= a:
            return start_s, end_s
        idx = np.arange(a, b)
        loud = np.flatnonzero(self.fine_db[a:b] > self.at_fine(idx) + above_db)
        if not loud.size:
            return start_s, end_s
        return (a + int(loud[0])) * 0.01, (a + int(loud[-1]) + 1) * 0.01


def _fill_silent(x: np.ndarray, silent: np.ndarray) -> np.ndarray:
    """``x`` with silent frames replaced by the nearest earlier (else later) sound frame."""
    if not silent.any() or silent.all():
        return x
    idx = np.where(~silent, np.arange(x.size), -1)
    idx = np.maximum.accumulate(idx)
    first = int(np.flatnonzero(~silent)[0])
    idx[idx < 0] = first
    return x[idx]


def _isolated(pk_db: np.ndarray) -> np.ndarray:
    """10 ms frames that rise out of quiet and are gone again at once (see ``transient``)."""
    n = pk_db.size
    if n < 40:
        return np.zeros(n, dtype=bool)
    padded = np.concatenate([np.full(30, FLOOR_DB, pk_db.dtype), pk_db, np.full(25, FLOOR_DB, pk_db.dtype)])
    win = np.lib.stride_tricks.sliding_window_view
    before = win(padded[: n + 29], 30).max(axis=1)  # frames i-30 … i-1
    after = win(padded[35:], 21).max(axis=1)[:n]  # frames i+5 … i+25
    return (pk_db - before >= ISOLATED_RISE_DB) & (pk_db - after >= ISOLATED_DECAY_DB)


def transients(fx: FeatureExtractor, bg: Background) -> list[dict[str, Any]]:
    peak = fx.fine_peak.get()
    if not bg.n10:
        return []
    pk_db = _db32(np.square(peak))
    n = bg.n10 * 10
    pk100 = _fill_silent(pk_db[:n].reshape(bg.n10, 10).max(axis=1), bg.rms100_db < SILENCE_DB)
    pk_bg = percentile_filter(pk100, 90, size=_odd(2 * PEAK_WINDOW_S / 0.1), mode="nearest")
    # the 100 ms background of each 10 ms frame (the last partial 100 ms takes the last value)
    i100 = np.minimum(np.arange(pk_db.size, dtype=np.int32) // 10, bg.n10 - 1)
    crest = pk_db - bg.bg100_db.astype(np.float32)[i100]
    over_pk = pk_db - pk_bg.astype(np.float32)[i100]
    del i100
    hit = (crest >= TRANSIENT_DB) & (over_pk >= TRANSIENT_PEAK_DB)
    hit |= _isolated(pk_db) & (over_pk >= -ISOLATED_LEVEL_DB)
    gap = int(round(MERGE_GAP_S / 0.01))
    out = []
    for a, b in runs(hit, bridge=gap):
        excess = float(crest[a:b].max())
        _, end = bg.refine(a * 0.01, b * 0.01 + 0.3, above_db=10.0)
        out.append(
            _event(
                "transient", a * 0.01, max(end, b * 0.01), excess, peak_db=float(pk_db[a:b].max())
            )
        )
    return out


def loudness_jumps(
    times_s: np.ndarray, momentary: np.ndarray, bg: Background
) -> list[dict[str, Any]]:
    if momentary.size < 3:
        return []
    m = np.where(np.isfinite(momentary), momentary, FLOOR_DB)
    base = percentile_filter(m, JUMP_PERCENTILE, size=_odd(2 * JUMP_WINDOW_S / 0.1), mode="nearest")
    excess = m - base
    hit = (excess >= JUMP_LU) & (m > -70.0)
    out = []
    for a, b in runs(hit, bridge=2):
        t0 = float(times_s[a]) - 0.4
        t1 = float(times_s[b - 1])
        s, e = bg.refine(t0, t1, above_db=10.0)
        out.append(_event("loudness_jump", s, e, float(excess[a:b].max())))
    return out


def clipping(fx: FeatureExtractor) -> list[dict[str, Any]]:
    n = fx.fine_plateau_n.get()
    lv = fx.fine_plateau_level.get()
    peak = fx.sample_peak
    if peak <= 0:
        return []
    hit = (n >= CLIP_MIN_SAMPLES) & (lv >= 0.95 * peak)
    out = []
    gap = int(round(MERGE_GAP_S / 0.01))
    for a, b in runs(hit, bridge=gap):
        share = float(hit[a:b].mean())
        clipped = int(n[a:b].sum())
        # severity from how much is clipped: 10 clipped samples ~ 0.4, 100 ~ 0.7
        excess = 10.0 * math.log10(1.0 + clipped)
        ev = _event(
            "clipping", a * 0.01, b * 0.01, excess * max(share, 0.5) * 2.0, clipped_samples=clipped
        )
        ev["clip_level"] = float(lv[a:b].max())
        out.append(ev)
    return out


def tonal_beeps(fx: FeatureExtractor) -> list[dict[str, Any]]:
    prom = fx.spec_prom_db.get().astype(np.float64)
    hz = fx.spec_prom_hz.get().astype(np.float64)
    pw = _db(fx.spec_prom_power.get().astype(np.float64))
    if prom.size < BEEP_MIN_FRAMES:
        return []
    hop = fx.spec_hop_s
    pw_bg = median_filter(pw, size=_odd(BG_WINDOW_S / hop), mode="nearest")
    binw = fx.sr / fx.nfft
    stable = np.zeros(prom.size, bool)
    stable[1:] = np.abs(np.diff(hz)) <= 2 * binw + 1e-6
    stable[:-1] |= stable[1:]
    cand = (prom >= BEEP_PROMINENCE_DB) & stable & (pw - pw_bg >= BEEP_RISE_DB)
    out = []
    for a, b in runs(cand, bridge=1, min_len=BEEP_MIN_FRAMES):
        f = float(np.median(hz[a:b]))
        excess = float(np.max(pw[a:b] - pw_bg[a:b]))
        out.append(
            _event(
                "tonal_beep",
                a * hop,
                b * hop,
                excess,
                frequency_hz=f,
                prominence_db=float(prom[a:b].max()),
            )
        )
    return out


def harsh_bursts(fx: FeatureExtractor) -> list[dict[str, Any]]:
    h = _db(fx.spec_harsh.get().astype(np.float64))
    tot = _db(fx.spec_total.get().astype(np.float64))
    if h.size < 3:
        return []
    hop = fx.spec_hop_s
    w = _odd(BG_WINDOW_S / hop)
    share = h - tot
    h_bg = median_filter(h, size=w, mode="nearest")
    s_bg = median_filter(share, size=w, mode="nearest")
    hit = (h - h_bg >= HARSH_DB) & (share - s_bg >= HARSH_SHARE_DB) & (h > FLOOR_DB + 20)
    out = []
    for a, b in runs(hit, bridge=1, min_len=2):
        out.append(_event("harsh_burst", a * hop, b * hop, float(np.max(h[a:b] - h_bg[a:b]))))
    return out


def silences(
    bg: Background, *, silence_db: float = SILENCE_DB, min_silence_s: float = MIN_SILENCE_S
) -> list[dict[str, float]]:
    quiet = bg.rms100_db < silence_db
    return [
        {"start_s": round(a * 0.1, 3), "end_s": round(b * 0.1, 3)}
        for a, b in runs(quiet, min_len=max(1, int(round(min_silence_s / 0.1))))
    ]
