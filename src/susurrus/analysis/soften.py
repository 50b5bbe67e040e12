"""Soften the jarring moments of a recording, and leave the rest alone.

Two passes over the file, both streamed:

1. :func:`~.core.analyze_file_full` finds the events (without the tagger);
   :func:`plan_soften` turns them into a :class:`SoftenPlan`.
2. :func:`soften_file` streams the input through, per block:

   a. **de-clipping** inside clipping regions: every run of samples at the clip level
      is replaced by the cubic through the 8 good samples around it (block cuts
      never fall inside such a region);
   b. **whole-file filters**: a notch (``scipy.signal.iirnotch``, Q 30) at each
      harmonic of a detected mains hum;
   c. **band reductions** inside their regions: ``y − (1 − g(t)) · bandpass(y)`` —
      2–10 kHz for harsh bursts (a gentle de-esser), a narrow band (Q 8) at the
      frequency of a tonal beep;
   d. **look-ahead gain riding**: a gain ``g(t)`` that reaches the region's reduction
      :data:`ATTACK_S` before the event starts (the analysis looked ahead) and
      returns to 1 over :data:`RELEASE_S` after it (raised-cosine ramps), for
      transients, loudness jumps and clipping;
   e. **overall gain** to ``target_lufs``, measured on the blocks no region touches
      (so the softened file lands near the target; capped so that the unsoftened parts keep
      1 dB of headroom).

Outside the regions (ramps included) ``g = 1`` and nothing but (b) and (e) touches
the signal, so the output equals the input through the whole-file filters —
:func:`whole_file_filters` — which is what the null test checks.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.signal as sps

from .. import audio
from ..errors import ParameterError
from ..loudness import LOUDNESS_OFFSET_DB, _prefetch, gated_integrated_lufs
from . import events as ev
from .core import Analysis, analyze_file_full
from .tags import runs

ATTACK_S = 0.015
PRE_S = 0.02
RELEASE_S = 0.08
NOTCH_Q = 30.0
BEEP_Q = 8.0
HEADROOM_DBFS = -1.0
DECLIP_MARGIN_S = 0.02


@dataclass(frozen=True)
class Region:
    """A softened stretch: ``kind`` (event kind), reduction in dB, optional band."""

    kind: str
    start_s: float
    end_s: float
    reduction_db: float
    band_hz: tuple[float, float] | None = None
    centre_hz: float | None = None
    clip_level: float | None = None

    @property
    def span(self) -> tuple[float, float]:
        """The stretch the region touches, ramps included."""
        return self.start_s - PRE_S, self.end_s + RELEASE_S


@dataclass
class SoftenPlan:
    """What :func:`soften_file` does: whole-file filters and softened regions."""

    sr: int
    gain_db: float
    notch_hz: list[float] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)

    def touched(self, *, notch_tail_s: float = 0.5) -> list[tuple[float, float]]:
        """Merged time spans (s) the softening may change (beyond the whole-file filters)."""
        spans = []
        for r in self.regions:
            a, b = r.span
            if r.kind == "clipping" and self.notch_hz:
                b += notch_tail_s  # the notch's memory carries the de-clipping on
            spans.append((max(0.0, a), b))
        spans.sort()
        merged: list[tuple[float, float]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
            else:
                merged.append((a, b))
        return merged

    def as_dict(self) -> dict[str, Any]:
        return {
            "gain_db": round(self.gain_db, 3),
            "hum_notch_hz": self.notch_hz,
            "regions": [
                {
                    k: (round(v, 3) if isinstance(v, float) else v)
                    for k, v in asdict(r).items()
                    if v is not None
                }
                for r in self.regions
            ],
        }


def plan_soften(analysis: Analysis, *, target_lufs: float = -27.0) -> SoftenPlan:
    """The plan for one analysed file (see the module docstring)."""
    rec = analysis.record
    sr = int(rec["sample_rate"])
    regions: list[Region] = []
    for e in analysis.events:
        k, s, t, x = e["kind"], e["start_s"], e["end_s"], e["excess_db"]
        if k == "transient":
            r = x - (ev.TRANSIENT_DB - 8.0)
        elif k == "loudness_jump":
            r = x - (ev.JUMP_LU - 6.0)
        elif k == "clipping":
            regions.append(
                Region("clipping", s, t, 12.0, clip_level=float(e.get("clip_level", 1.0)))
            )
            continue
        elif k == "harsh_burst":
            regions.append(
                Region(k, s, t, min(18.0, max(3.0, x - ev.HARSH_DB + 6.0)), band_hz=ev_band())
            )
            continue
        elif k == "tonal_beep":
            regions.append(Region(k, s, t, min(40.0, x + 6.0), centre_hz=float(e["frequency_hz"])))
            continue
        else:
            continue
        if r > 0:
            regions.append(Region(k, s, t, float(r)))
    hum = analysis.curves.get("hum_detail") or {}
    notch = [float(h) for h in hum.get("harmonics_hz", [])] if hum.get("detected") else []
    if notch:
        f0 = float(hum["frequency_hz"])
        notch = sorted({round(f0 * round(h / f0), 3) for h in notch})
    integrated = _unsoftened_lufs(analysis, regions)
    gain = 0.0 if not math.isfinite(integrated) else target_lufs - integrated
    # keep 1 dB of headroom where nothing is softened
    peak100 = analysis.curves.get("peak100")
    if peak100 is not None and len(peak100):
        keep = np.ones(len(peak100), bool)
        for r in regions:
            a, b = r.span
            keep[max(0, int(a / 0.1) - 1) : int(b / 0.1) + 2] = False
        if keep.any():
            pk = float(np.max(peak100[keep]))
            if pk > 0:
                gain = min(gain, HEADROOM_DBFS - 20.0 * math.log10(pk))
    return SoftenPlan(sr=sr, gain_db=float(gain), notch_hz=notch, regions=regions)


def _unsoftened_lufs(analysis: Analysis, regions: list[Region]) -> float:
    """Integrated loudness (BS.1770-4 gating) of the 400 ms blocks no region touches."""
    t_m, l_m = analysis.curves["momentary"]
    if not len(t_m):
        return -math.inf
    keep = np.ones(len(t_m), bool)
    for r in regions:
        a, b = r.span
        keep &= ~((t_m > a) & (t_m - 0.4 < b))
    z = np.power(10.0, (np.asarray(l_m)[keep] - LOUDNESS_OFFSET_DB) / 10.0)
    return gated_integrated_lufs(z) if z.size else -math.inf


def ev_band() -> tuple[float, float]:
    from .features import HARSH_BAND_HZ

    return HARSH_BAND_HZ


def _notch_sos(plan: SoftenPlan) -> np.ndarray | None:
    secs = []
    for f in plan.notch_hz:
        if 0 < f < 0.45 * plan.sr:
            b, a = sps.iirnotch(f, NOTCH_Q, fs=plan.sr)
            secs.append(np.concatenate([b, a]))
    return np.array(secs) if secs else None


def whole_file_filters(y: np.ndarray, sr: int, plan: SoftenPlan) -> np.ndarray:
    """The input through the whole-file filters only (hum notch, overall gain)."""
    sos = _notch_sos(plan)
    out = np.asarray(y, dtype=np.float64)
    if sos is not None:
        out = sps.sosfilt(sos, out, axis=-1)
    return (out * 10 ** (plan.gain_db / 20.0)).astype(np.float32)


def _ramp_gain(t: np.ndarray, r: Region) -> np.ndarray:
    """1 outside, ``10^(−reduction/20)`` inside, raised-cosine ramps at the edges."""
    floor = 10 ** (-r.reduction_db / 20.0)
    a0 = r.start_s - PRE_S
    a1 = a0 + ATTACK_S
    b0, b1 = r.end_s, r.end_s + RELEASE_S
    w = np.zeros_like(t)  # depth 0 … 1
    w[(t >= a1) & (t <= b0)] = 1.0
    m = (t >= a0) & (t < a1)
    w[m] = 0.5 - 0.5 * np.cos(np.pi * (t[m] - a0) / ATTACK_S)
    m = (t > b0) & (t < b1)
    w[m] = 0.5 + 0.5 * np.cos(np.pi * (t[m] - b0) / RELEASE_S)
    return 1.0 - (1.0 - floor) * w


def _declip(x: np.ndarray, level: float) -> np.ndarray:
    """Replace runs at the clip level by the cubic through 8 good neighbours."""
    out = x.copy()
    for c in range(x.shape[0]):
        bad = np.abs(x[c]) >= 0.98 * level
        for a, b in runs(bad):
            lo, hi = max(0, a - 4), min(x.shape[1], b + 4)
            idx = np.concatenate([np.arange(lo, a), np.arange(b, hi)])
            if idx.size < 6:
                continue
            coef = np.polyfit(idx - a, x[c, idx].astype(np.float64), 3)
            out[c, a:b] = np.polyval(coef, np.arange(a, b) - a)
    return out


@dataclass
class SoftenResult:
    """What :func:`soften_file` did."""

    input: str
    output: str
    plan: SoftenPlan
    events_before: int
    calm_before: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "output": self.output,
            "events_before": self.events_before,
            "calm_before": self.calm_before,
            **self.plan.as_dict(),
        }


class _Softener:
    """Streams blocks through the plan (see the module docstring for the stages).

    State kept between blocks: the notch filter memories, the band filters of the
    regions in progress, the position in the file.
    """

    def __init__(self, plan: SoftenPlan, channels: int) -> None:
        self.plan = plan
        self.sr = plan.sr
        self.channels = channels
        sos = _notch_sos(plan)
        self._notch_zi = np.zeros((sos.shape[0], channels, 2)) if sos is not None else None
        self._notch = sos
        self._bands: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.pos = 0
        self.gain = 10 ** (plan.gain_db / 20.0)

    def _band_sos(self, r: Region) -> np.ndarray:
        if r.band_hz is not None:
            lo, hi = r.band_hz
            return np.asarray(
                sps.butter(
                    2, [lo, min(hi, 0.45 * self.sr)], btype="bandpass", fs=self.sr, output="sos"
                )
            )
        assert r.centre_hz is not None
        b, a = sps.iirpeak(r.centre_hz, BEEP_Q, fs=self.sr)
        return np.concatenate([b, a])[None, :]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        n = x.shape[1]
        t0, t1 = self.pos / self.sr, (self.pos + n) / self.sr
        y = x.astype(np.float64)
        active = [
            (i, r)
            for i, r in enumerate(self.plan.regions)
            if r.span[0] - 0.05 < t1 and r.span[1] > t0
        ]
        for _, r in active:
            if r.kind == "clipping" and r.clip_level:
                a = max(0, int((r.start_s - DECLIP_MARGIN_S) * self.sr) - self.pos)
                b = min(n, int(math.ceil((r.end_s + DECLIP_MARGIN_S) * self.sr)) - self.pos)
                if b > a:
                    y[:, a:b] = _declip(y[:, a:b], r.clip_level)
        if self._notch is not None and self._notch_zi is not None:
            y, self._notch_zi = sps.sosfilt(self._notch, y, axis=-1, zi=self._notch_zi)
        t = (self.pos + np.arange(n)) / self.sr
        g = np.ones(n)
        for i, r in active:
            if r.band_hz is None and r.centre_hz is None:
                g = np.minimum(g, _ramp_gain(t, r))
                continue
            a = max(0, int((r.span[0] - 0.05) * self.sr) - self.pos)
            b = min(n, int(math.ceil(r.span[1] * self.sr)) - self.pos)
            if b <= a:
                continue
            if i not in self._bands:
                sos = self._band_sos(r)
                self._bands[i] = (sos, np.zeros((sos.shape[0], self.channels, 2)))
            sos, zi = self._bands[i]
            band, zi = sps.sosfilt(sos, y[:, a:b], axis=-1, zi=zi)
            self._bands[i] = (sos, zi)
            depth = 1.0 - _ramp_gain(t[a:b], r)
            y[:, a:b] -= depth * band
        for i in [i for i in self._bands if self.plan.regions[i].span[1] < t0]:
            del self._bands[i]
        self.pos += n
        return (y * (g * self.gain)).astype(np.float32)


def soften_file(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    target_lufs: float = -27.0,
    block_size: int = 1 << 16,
) -> SoftenResult:
    """Soften ``input_path`` into ``output_path`` (WAV, FLAC or OGG by extension).

    Raises :class:`~susurrus.errors.SusurrusError` subclasses for unreadable input,
    an unwritable output or ``target_lufs`` outside −70 … 0.
    """
    if not -70.0 <= float(target_lufs) <= 0.0:
        raise ParameterError("target_lufs", target_lufs, "-70 <= target_lufs <= 0 LUFS")
    audio.output_format(output_path)
    if Path(input_path).resolve() == Path(output_path).resolve():
        raise ParameterError("output", str(output_path), "a file other than the input")
    analysis = analyze_file_full(input_path, tagger=False)
    plan = plan_soften(analysis, target_lufs=target_lufs)
    info = audio.info(input_path)
    proc = _Softener(plan, info.channels)
    guard = [
        (
            int((r.start_s - DECLIP_MARGIN_S) * plan.sr) - 1,
            int(math.ceil((r.end_s + DECLIP_MARGIN_S) * plan.sr)) + 1,
        )
        for r in plan.regions
        if r.kind == "clipping"
    ]
    with audio.AudioWriter(
        output_path, sr=info.sr, channels=info.channels, expected_frames=info.frames
    ) as w:
        pending = np.zeros((info.channels, 0), np.float32)
        done = 0
        for block in _prefetch(audio.stream(input_path, block_size=block_size)):
            pending = np.concatenate([pending, block], axis=1) if pending.shape[1] else block
            cut = pending.shape[1]
            for a, b in guard:  # never cut inside a de-clipping region
                if a < done + cut < b:
                    cut = a - done
            if cut > 0:
                w.write(proc(pending[:, :cut]))
                done += cut
                pending = pending[:, cut:]
        if pending.shape[1]:
            w.write(proc(pending))
    return SoftenResult(
        input=str(input_path),
        output=str(output_path),
        plan=plan,
        events_before=len(analysis.events),
        calm_before=analysis.record["calm_score"],
    )
