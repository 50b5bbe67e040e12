"""Trigger tags over time and aversive sounds, from the YAMNet tagger, streamed.

The mono downmix is resampled to 16 kHz in chunks of 15.36 s (with 20 ms of real
signal as context on each side, so chunk edges leave no trace) and cut into
**non-overlapping 0.96 s patches** — every second patch of YAMNet's own 0.48 s
hop. Each chunk is levelled to :data:`TAG_LEVEL_DBFS` RMS first (YAMNet's log-mel
front end is not gain-invariant; the calm score must be). That tags every moment
of the file once at half the cost of the full hop
(about 1 ms per patch on one core: ~4 s per hour of audio). Per patch only the
family scores, the best aversive label and a running sum of the 521 class
probabilities are kept.

Families are scored as in :mod:`susurrus.tagger`: a family's score is its best
label's probability. A tag is a run of patches whose score is at least
:data:`TAG_THRESHOLD` (gaps of one patch are bridged); its confidence is the mean
score over the run.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import resample_poly

from ..families import FAMILIES
from ..tagger import SAMPLE_RATE, Tagger, log_mel_patches
from .features import Framer

#: AudioSet labels (YAMNet display names) treated as aversive: alarms, beeps,
#: barking, bangs, and the mouth sounds misophonia is most often triggered by.
AVERSIVE_LABELS: tuple[str, ...] = (
    "Alarm",
    "Beep, bleep",
    "Buzzer",
    "Siren",
    "Civil defense siren",
    "Smoke detector, smoke alarm",
    "Fire alarm",
    "Alarm clock",
    "Car alarm",
    "Bark",
    "Bang",
    "Gunshot, gunfire",
    "Explosion",
    "Chewing, mastication",
    "Slurp",
    "Smash, crash",
    "Breaking",
    "Screaming",
    "Crying, sobbing",
    "Baby cry, infant cry",
    "Squeal",
    "Screech",
    "Whistle",
    "Vacuum cleaner",
    "Drill",
    "Jackhammer",
)
#: patch length and hop (s)
PATCH_S = 0.96
#: resampling chunk (s) and context (s) on each side
CHUNK_S = 15.36
CONTEXT_S = 0.02
#: samples of one patch at 16 kHz (96 frames of 10 ms + the 25 ms window)
PATCH_SAMPLES = 15600
PATCH_HOP = 15360
TAG_THRESHOLD = 0.2
#: every chunk is brought to this RMS (dBFS) before tagging, so that tags do not
#: depend on the playback gain (YAMNet's log-mel front end does); at most ±40 dB,
#: and chunks quieter than SILENT_DBFS are left alone
TAG_LEVEL_DBFS = -35.0
MAX_TAG_GAIN_DB = 40.0
SILENT_DBFS = -80.0
AVERSIVE_THRESHOLD = 0.35
#: aversive labels of single loud impacts. YAMNet also gives them to impulsive
#: textures (near raindrops, crackling fire) at ordinary levels, so a patch counts
#: for them only when it stands out: its RMS at least IMPACT_CONTRAST_DB above the
#: median of the IMPACT_CONTEXT patches on each side (a bang over the bed, not the bed)
IMPACT_LABELS: tuple[str, ...] = ("Bang", "Gunshot, gunfire", "Explosion", "Smash, crash", "Breaking")
IMPACT_CONTRAST_DB = 6.0
IMPACT_CONTEXT = 8


class StreamingTagger:
    """Feed mono blocks at ``sr``; tags every 0.96 s patch with ``tagger``.

    State kept between blocks: the resampling framer (one chunk of native-rate
    samples), the 16 kHz patch framer, and per patch the family scores and the
    best aversive label; plus the running sum of all class probabilities.
    """

    def __init__(self, tagger: Tagger, sr: int) -> None:
        self.tagger = tagger
        self.sr = int(sr)
        g = math.gcd(self.sr, SAMPLE_RATE)
        self.up, self.down = SAMPLE_RATE // g, self.sr // g
        self.ctx = max(1, int(round(CONTEXT_S * self.sr)))
        self.chunk = max(1, int(round(CHUNK_S * self.sr)))
        self.ctx16 = self.ctx * SAMPLE_RATE / self.sr
        self._native = Framer(self.chunk + 2 * self.ctx, self.chunk, prefill=self.ctx)
        self._patches = Framer(PATCH_SAMPLES, PATCH_HOP)
        self._n16 = 0.0  # exact 16 kHz samples produced so far
        self._fam_idx = [[tagger.index(lab) for lab in f.labels] for f in FAMILIES]
        self._av_idx = np.array(
            [tagger.index(lab) for lab in AVERSIVE_LABELS if lab in tagger._index]
        )
        self._impact = np.array([tagger.labels[i] in IMPACT_LABELS for i in self._av_idx], dtype=bool)
        self.family_scores: list[np.ndarray] = []
        #: per patch: the aversive labels' probabilities, and the patch's level (dB)
        self._av_probs: list[np.ndarray] = []
        self._patch_db: list[float] = []
        self._aversive: tuple[int, tuple[np.ndarray, np.ndarray]] | None = None  # for n patches
        self.sum_probs = np.zeros(len(tagger.labels))
        self.n_patches = 0

    def _resampled(self, chunk: np.ndarray, n_out_exact: float) -> np.ndarray:
        r = resample_poly(chunk.astype(np.float64), self.up, self.down)
        a = int(round(self.ctx16))
        out = r[a : a + int(round(n_out_exact))]
        ms = float(np.mean(out**2)) if out.size else 0.0
        if ms > 10 ** (SILENT_DBFS / 10):
            gain_db = float(
                np.clip(TAG_LEVEL_DBFS - 10 * np.log10(ms), -MAX_TAG_GAIN_DB, MAX_TAG_GAIN_DB)
            )
            out = out * 10 ** (gain_db / 20)
        return out.astype(np.float32)

    def process(self, mono: np.ndarray) -> None:
        for chunk in self._native.push(mono):
            out = self._resampled(chunk, self.chunk * SAMPLE_RATE / self.sr)
            self._tag(self._patches.push(out))

    def finish(self) -> None:
        rest = self._native.remainder()
        n_real = rest.size - self.ctx
        if n_real > 0:
            padded = np.concatenate([rest, np.zeros(self.ctx, np.float32)])
            out = self._resampled(padded, n_real * SAMPLE_RATE / self.sr)
            self._tag(self._patches.push(out))
        tail = self._patches.remainder()
        if tail.size >= PATCH_HOP // 2 or (self.n_patches == 0 and tail.size):
            self._tag(np.pad(tail, (0, PATCH_SAMPLES - tail.size))[None, :])

    def _tag(self, patches16: np.ndarray) -> None:
        if not len(patches16):
            return
        # consecutive patches overlap by 240 samples: rebuild the stretch and run the
        # front end once (per-call overhead dominates a single patch)
        overlap = PATCH_SAMPLES - PATCH_HOP
        stretch = np.concatenate([patches16[0], *(p[overlap:] for p in patches16[1:])])
        mel = log_mel_patches(stretch)[::2][: len(patches16)]
        logits = self.tagger.logits(mel)
        probs = 0.5 * (1.0 + np.tanh(0.5 * logits.astype(np.float64)))
        self.sum_probs += probs.sum(axis=0)
        for row, patch in zip(probs, patches16, strict=True):
            self.family_scores.append(np.array([row[ix].max() for ix in self._fam_idx], np.float32))
            if self._av_idx.size:
                self._av_probs.append(row[self._av_idx].astype(np.float32))
                ms = float(np.mean(np.square(patch, dtype=np.float64)))
                self._patch_db.append(10.0 * math.log10(ms + 1e-20))
        self.n_patches += len(probs)

    # -- results -----------------------------------------------------------------------------

    def tags(self, duration_s: float) -> list[dict[str, Any]]:
        """Family tags over time: ``{family, start_s, end_s, confidence}``."""
        if not self.family_scores:
            return []
        scores = np.stack(self.family_scores)
        out: list[dict[str, Any]] = []
        for j, fam in enumerate(FAMILIES):
            s = scores[:, j]
            on = s >= TAG_THRESHOLD
            for a, b in runs(on, bridge=1):
                out.append(
                    {
                        "family": fam.id,
                        "start_s": round(a * PATCH_S, 3),
                        "end_s": round(min(duration_s, b * PATCH_S), 3),
                        "confidence": round(float(s[a:b].mean()), 3),
                    }
                )
        out.sort(key=lambda t: (t["start_s"], -t["confidence"]))
        return out

    def top_labels(self, k: int = 5) -> list[dict[str, Any]]:
        if not self.n_patches:
            return []
        mean = self.sum_probs / self.n_patches
        order = np.argsort(-mean, kind="stable")[:k]
        return [{"label": self.tagger.labels[i], "score": round(float(mean[i]), 3)} for i in order]

    def aversive(self) -> tuple[np.ndarray, np.ndarray]:
        """Per patch, the best aversive label's probability and its tagger index.

        An impact label (:data:`IMPACT_LABELS`) counts only in a patch that stands
        out from its neighbours by :data:`IMPACT_CONTRAST_DB` (levels are compared
        after the per-chunk level normalisation, so they are relative to the chunk).
        """
        n = len(self._av_probs)
        if self._aversive is not None and self._aversive[0] == n:  # events and share ask both
            return self._aversive[1]
        if not n:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        probs = np.stack(self._av_probs).astype(np.float64)  # (patches, labels)
        if self._impact.any() and n > 1:  # a lone patch has no neighbours to stand out from
            k = IMPACT_CONTEXT
            db = np.array(self._patch_db)
            # each patch's neighbours, k on each side (NaN past the ends), itself left out
            win = sliding_window_view(np.pad(db, k, constant_values=np.nan), 2 * k + 1)
            context = np.nanmedian(np.delete(win, k, axis=1), axis=1)
            plain = db < context + IMPACT_CONTRAST_DB
            probs[np.ix_(plain, self._impact)] = 0.0
        j = np.argmax(probs, axis=1)
        result = probs[np.arange(n), j], self._av_idx[j]
        self._aversive = (n, result)
        return result

    def aversive_events(self, duration_s: float) -> list[dict[str, Any]]:
        """Runs of patches whose best aversive label reaches :data:`AVERSIVE_THRESHOLD`."""
        p, label = self.aversive()
        out = []
        for a, b in runs(p >= AVERSIVE_THRESHOLD, bridge=0):
            j = a + int(np.argmax(p[a:b]))
            out.append(
                {
                    "start_s": a * PATCH_S,
                    "end_s": min(duration_s, b * PATCH_S),
                    "kind": "aversive_sound",
                    "severity": float(p[j]),
                    "label": self.tagger.labels[int(label[j])],
                    "excess_db": 0.0,
                }
            )
        return out

    def aversive_fraction(self) -> float:
        """Probability-weighted share of patches with an aversive label above threshold."""
        p, _ = self.aversive()
        if not p.size:
            return 0.0
        return float(np.sum(np.where(p >= AVERSIVE_THRESHOLD, p, 0.0)) / p.size)


def runs(mask: np.ndarray, *, bridge: int = 0, min_len: int = 1) -> list[tuple[int, int]]:
    """Half-open index runs ``[a, b)`` where ``mask`` is true; gaps ≤ ``bridge`` are joined."""
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        return []
    d = np.diff(np.concatenate([[0], m.astype(np.int8), [0]]))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    out: list[tuple[int, int]] = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        if out and a - out[-1][1] <= bridge:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return [(a, b) for a, b in out if b - a >= min_len]
