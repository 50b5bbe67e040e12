"""Streaming per-frame features: the only state analysis keeps about a recording.

A :class:`FeatureExtractor` takes ``(channels, n)`` float32 blocks of any size and
keeps, per frame, a handful of floats; memory grows by a few bytes per 10 ms of
audio (about 60 MB for 3 hours, most of it the 10 ms frame arrays) and nothing
else grows with the length of the file.

Frames
------
* **fine frames** of 10 ms (``round(sr / 100)`` samples): sample peak (all
  channels), mean square of the mono downmix, and the number of "plateau" samples
  (a sample equal to its three predecessors in the same channel, away from zero)
  with their largest magnitude — the trace hard clipping leaves in PCM.
* **spectral frames**: non-overlapping Hann-windowed FFT frames of about 43 ms
  (``2**round(log2(0.043 sr))`` samples: 2048 at 44.1/48 kHz) of the mono downmix:
  total power, power in the harsh band 2–10 kHz, power in the hiss band 4–16 kHz,
  and the most prominent narrow-band peak above 300 Hz (its level over the mean of
  the bins 3–12 bins away, and its frequency).
* **hum spectrum**: a Hann-windowed power spectrum of about 0.7 Hz resolution,
  one window (~1.4 s) every ``hum_every_s`` = 2 s (mains hum is steady, so this
  subsample measures it at a fraction of the cost); only the bins within 11 Hz of
  the mains harmonics are kept per window (~1.8 kB), for a trimmed mean.
* **report spectrogram**: one spectral frame every ~0.5 s, pooled into 48
  log-spaced bands (for the HTML report only).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import fft as sfft

from ..errors import AudioError

#: fine frame duration (s)
FINE_S = 0.01
#: edges of the harsh band (Hz)
HARSH_BAND_HZ = (2000.0, 10000.0)
#: edges of the hiss band (Hz); the top edge is capped at 0.45 sr
HISS_BAND_HZ = (4000.0, 16000.0)
#: lowest frequency considered for tonal beeps (below: mains hum and bass)
TONAL_MIN_HZ = 300.0
TONAL_MAX_HZ = 12000.0
#: neighbourhood of the tonal prominence (bins): inner gap and outer edge
TONAL_GAP_BINS = 3
TONAL_OUTER_BINS = 12
#: report spectrogram bands and column spacing
SPEC_BANDS = 48
SPEC_COLUMN_S = 0.5
TINY = 1e-20


class Framer:
    """Cut a stream into frames of ``size`` samples every ``hop`` samples.

    ``hop`` may be smaller than ``size`` (overlap) or larger (frames are skipped).
    State kept between pushes: the not yet framed samples and a pending skip.
    """

    def __init__(self, size: int, hop: int, *, prefill: int = 0) -> None:
        self.size = int(size)
        self.hop = int(hop)
        self._buf = np.zeros(prefill, dtype=np.float32)
        self._skip = 0
        self.emitted = 0  # frames emitted so far

    def push(self, x: np.ndarray) -> np.ndarray:
        """Append 1-D ``x``; return the completed frames ``(k, size)`` (a copy)."""
        if self._skip:
            drop = min(self._skip, x.size)
            x = x[drop:]
            self._skip -= drop
        buf = np.concatenate([self._buf, x]) if self._buf.size else np.asarray(x, np.float32)
        if buf.size < self.size:
            self._buf = buf
            return np.zeros((0, self.size), np.float32)
        frames = sliding_window_view(buf, self.size)[:: self.hop]
        k = frames.shape[0]
        out = np.array(frames, dtype=np.float32)
        consumed = k * self.hop
        if consumed <= buf.size:
            self._buf = buf[consumed:].copy()
        else:
            self._buf = np.zeros(0, np.float32)
            self._skip = consumed - buf.size
        self.emitted += k
        return out

    def remainder(self) -> np.ndarray:
        """The samples not yet framed (for a final partial frame)."""
        return self._buf.copy()


class _Growing:
    """A 1-D (or row-wise 2-D) array that grows by doubling."""

    def __init__(self, width: int = 0, dtype: type = np.float32) -> None:
        self.width = width
        shape = (1024, width) if width else (1024,)
        self._a: np.ndarray = np.zeros(shape, dtype=dtype)
        self.n = 0

    def extend(self, rows: np.ndarray) -> None:
        need = self.n + len(rows)
        if need > len(self._a):
            grown = np.zeros((max(need, 2 * len(self._a)), *self._a.shape[1:]), self._a.dtype)
            grown[: self.n] = self._a[: self.n]
            self._a = grown
        self._a[self.n : need] = rows
        self.n = need

    def get(self) -> np.ndarray:
        return self._a[: self.n]


class FeatureExtractor:
    """Streaming feature extraction (see the module docstring for the frames).

    Parameters
    ----------
    sr, channels:
        sample rate (Hz) and channel count of the stream.
    hum_every_s:
        one hum-spectrum window every this many seconds.

    State kept between blocks: the fine-frame carry (channels, < 10 ms), the last
    three samples of each channel (for plateaus across frame edges), the framers
    of the spectral and hum analyses, the hum spectrum sum, and the per-frame
    arrays.
    """

    def __init__(self, sr: int, channels: int, *, hum_every_s: float = 2.0) -> None:
        self.sr = int(sr)
        self.channels = int(channels)
        self.fine_hop = max(1, int(round(sr * FINE_S)))
        self.nfft = int(2 ** round(math.log2(0.043 * sr)))
        self.window = np.hanning(self.nfft + 2)[1:-1].astype(np.float32)
        self.freqs = np.fft.rfftfreq(self.nfft, 1.0 / sr)
        nyq = 0.45 * sr
        self._harsh = self._band(*HARSH_BAND_HZ, nyq)
        self._hiss = self._band(HISS_BAND_HZ[0], min(HISS_BAND_HZ[1], nyq), nyq)
        k_lo = int(np.searchsorted(self.freqs, TONAL_MIN_HZ))
        k_hi = int(np.searchsorted(self.freqs, min(TONAL_MAX_HZ, nyq)))
        self._tonal = (
            max(k_lo, TONAL_OUTER_BINS),
            min(k_hi, len(self.freqs) - TONAL_OUTER_BINS - 1),
        )
        # report spectrogram bands: log-spaced 50 Hz … 0.45 sr
        edges = np.geomspace(50.0, nyq, SPEC_BANDS + 1)
        idx = np.searchsorted(self.freqs, edges)
        self._spec_bands = [(int(a), max(int(b), int(a) + 1)) for a, b in itertools.pairwise(idx)]
        self._spec_every = max(1, int(round(SPEC_COLUMN_S * sr / self.nfft)))
        # hum
        self.hum_nfft = int(2 ** math.ceil(math.log2(sr)))
        self.hum_window = np.hanning(self.hum_nfft).astype(np.float32)
        hum_hop = max(self.hum_nfft, int(round(hum_every_s * sr)))
        self._hum_framer = Framer(self.hum_nfft, hum_hop)
        self.hum_freqs = np.fft.rfftfreq(self.hum_nfft, 1.0 / sr)
        n_hum_bins = int(np.searchsorted(self.hum_freqs, 1000.0))
        self.hum_freqs = self.hum_freqs[:n_hum_bins]
        near = np.zeros(n_hum_bins, bool)
        for f0 in (50.0, 60.0):
            for k in range(1, 9):
                near |= np.abs(self.hum_freqs - k * f0) <= 11.0
        self.hum_sel = np.flatnonzero(near)
        self.hum_rows = _Growing(self.hum_sel.size)
        self.hum_windows = 0
        self._spec_framer = Framer(self.nfft, self.nfft)
        self._carry = np.zeros((self.channels, 0), np.float32)
        self._tail = np.zeros((self.channels, 3), np.float32)
        self._tail_ok = False
        self.n_samples = 0
        self.sample_peak = 0.0
        # per fine frame
        self.fine_peak = _Growing()
        self.fine_ms = _Growing()
        self.fine_plateau_n = _Growing(dtype=np.int32)
        self.fine_plateau_level = _Growing()
        # per spectral frame
        self.spec_total = _Growing()
        self.spec_harsh = _Growing()
        self.spec_hiss = _Growing()
        self.spec_prom_db = _Growing()
        self.spec_prom_hz = _Growing()
        self.spec_prom_power = _Growing()
        self.report_spec = _Growing(SPEC_BANDS)

    def _band(self, lo_hz: float, hi_hz: float, nyq: float) -> tuple[int, int]:
        lo = int(np.searchsorted(self.freqs, min(lo_hz, nyq)))
        hi = int(np.searchsorted(self.freqs, min(hi_hz, nyq)))
        return lo, max(hi, lo + 1)

    # -- streaming -----------------------------------------------------------------------

    def process(self, y: np.ndarray, mono: np.ndarray | None = None) -> None:
        """Take the next block ``y`` (channels, n); ``mono`` is its downmix if known."""
        if y.ndim != 2 or y.shape[0] != self.channels:
            raise AudioError(f"y must have shape ({self.channels}, n), got {y.shape}")
        if y.shape[1] == 0:
            return
        if mono is None:
            mono = y.mean(axis=0, dtype=np.float32)
        self.n_samples += y.shape[1]
        self._fine(y)
        self._spectral(self._spec_framer.push(mono))
        hum_frames = self._hum_framer.push(mono)
        if len(hum_frames):
            spec = np.abs(sfft.rfft(hum_frames * self.hum_window, axis=1)[:, self.hum_sel]) ** 2
            self.hum_rows.extend(spec.astype(np.float32))
            self.hum_windows += len(hum_frames)

    def hum_spectrum(self) -> np.ndarray:
        """Per-bin trimmed mean (lowest 75 % of the windows) of the hum spectrum.

        Bins away from the mains harmonics are zero. Trimming keeps a few loud
        events (a clipped 160 Hz burst has a harmonic at 480 Hz = 8 × 60 Hz) from
        posing as steady hum.
        """
        out = np.zeros(self.hum_freqs.size)
        rows = self.hum_rows.get()
        if len(rows):
            k = max(1, int(np.ceil(0.75 * len(rows))))
            out[self.hum_sel] = np.sort(rows, axis=0)[:k].astype(np.float64).mean(axis=0)
        return out

    def _fine(self, y: np.ndarray) -> None:
        h = self.fine_hop
        x = np.concatenate([self._carry, y], axis=1) if self._carry.shape[1] else y
        nf = x.shape[1] // h
        if nf == 0:
            self._carry = x.copy()
            return
        body = x[:, : nf * h]
        self._carry = x[:, nf * h :].copy()
        fr = body.reshape(self.channels, nf, h)
        peak = np.maximum(fr.max(axis=2), -fr.min(axis=2)).max(axis=0)
        mono = body.mean(axis=0, dtype=np.float32).reshape(nf, h)
        ms = np.einsum("ij,ij->i", mono, mono) / h
        block_peak = float(peak.max())
        self.sample_peak = max(self.sample_peak, block_peak)
        # plateaus: only frames near the running peak can belong to a clipped passage
        pl_n = np.zeros(nf, np.int32)
        pl_lv = np.zeros(nf, np.float32)
        cand = np.flatnonzero(peak >= 0.9 * self.sample_peak)
        if cand.size and self.sample_peak > 0:
            ext = np.concatenate([self._tail, body], axis=1)
            seg = ext[:, cand[:, None] * h + np.arange(h + 3)]  # (channels, n_cand, h + 3)
            cur = seg[..., 3:]
            eq = (
                (cur == seg[..., 2:-1])
                & (cur == seg[..., 1:-2])
                & (cur == seg[..., :-3])
                & (cur != 0)
            )
            if not self._tail_ok and cand[0] == 0:
                eq[:, 0, :3] = False
            cnt = eq.sum(axis=(0, 2))
            lv = np.where(eq, np.abs(cur), 0.0).max(axis=(0, 2))
            pl_n[cand] = cnt
            pl_lv[cand] = lv
        self._tail = body[:, -3:].copy() if body.shape[1] >= 3 else self._tail
        self._tail_ok = True
        self.fine_peak.extend(peak.astype(np.float32))
        self.fine_ms.extend(ms.astype(np.float32))
        self.fine_plateau_n.extend(pl_n)
        self.fine_plateau_level.extend(pl_lv)

    def _spectral(self, frames: np.ndarray) -> None:
        if not len(frames):
            return
        start = self._spec_framer.emitted - len(frames)
        spec = sfft.rfft(frames * self.window, axis=1, workers=1)
        p = (spec.real**2 + spec.imag**2).astype(np.float32)
        total = p.sum(axis=1)
        harsh = p[:, self._harsh[0] : self._harsh[1]].sum(axis=1)
        hiss = p[:, self._hiss[0] : self._hiss[1]].sum(axis=1)
        # tonal prominence: bin power over the mean of bins GAP..OUTER away on both sides
        lo, hi = self._tonal
        if hi > lo:
            c = np.concatenate(
                [np.zeros((len(p), 1), np.float64), np.cumsum(p, axis=1, dtype=np.float64)], axis=1
            )
            k = np.arange(lo, hi)
            g, o = TONAL_GAP_BINS, TONAL_OUTER_BINS
            left = c[:, k - g + 1] - c[:, k - o]
            right = c[:, k + o + 1] - c[:, k + g]
            neigh = (left + right) / (2 * (o - g + 1)) + TINY
            ratio = p[:, lo:hi] / neigh
            best = np.argmax(ratio, axis=1)
            rows = np.arange(len(p))
            prom = 10.0 * np.log10(ratio[rows, best] + TINY)
            hz = self.freqs[lo + best]
            pw = p[rows, lo + best]
        else:
            prom = np.zeros(len(p))
            hz = np.zeros(len(p))
            pw = np.zeros(len(p))
        self.spec_total.extend(total)
        self.spec_harsh.extend(harsh)
        self.spec_hiss.extend(hiss)
        self.spec_prom_db.extend(prom.astype(np.float32))
        self.spec_prom_hz.extend(hz.astype(np.float32))
        self.spec_prom_power.extend(pw.astype(np.float32))
        idx = np.arange(start, start + len(p))
        pick = np.flatnonzero(idx % self._spec_every == 0)
        if pick.size:
            cols = np.stack([p[pick, a:b].mean(axis=1) for a, b in self._spec_bands], axis=1)
            self.report_spec.extend(cols.astype(np.float32))

    # -- results ---------------------------------------------------------------------------

    @property
    def spec_hop_s(self) -> float:
        """Seconds between spectral frames."""
        return self.nfft / self.sr

    @property
    def window_power(self) -> float:
        """Σ w² of the spectral window (to turn frame powers into mean squares)."""
        return float(np.sum(self.window.astype(np.float64) ** 2))

    def report_columns_s(self) -> float:
        return self._spec_every * self.nfft / self.sr
