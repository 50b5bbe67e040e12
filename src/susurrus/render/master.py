"""The master chain: gain, momentary-loudness leveler, true-peak limiter, fades.

Both dynamic stages look ahead, so they act *before* a loud moment instead of
clipping it, and both process fixed internal chunks: the output never depends
on how the caller cuts the stream. The chain delays the signal by its total
look-ahead; :meth:`MasterChain.flush` returns the tail so that exactly as many
samples come out as went in.

Momentary leveler
    BS.1770 momentary loudness (K-weighted mean square over 400 ms, here on a
    10 ms hop) of every window is compared with the ceiling; each 10 ms hop gets
    the smallest gain any 400 ms window containing it needs (a forward minimum),
    released slowly (``release_db_per_s``). Steady beds below the ceiling are
    left untouched: nothing pumps.
True-peak limiter
    Where the sample peak comes within 4 dB of the ceiling, the signal is
    re-measured 4× oversampled (BS.1770-4 Annex 2 style interpolation); elsewhere
    nothing is done at all. The gain is a minimum over ``hold_ms`` back and
    ``attack_ms`` ahead, then a moving average over ``attack_ms`` — a curve that
    never exceeds the gain any sample needs.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage as ndi
import scipy.signal as sps

from ..loudness import k_weighting_sos


def window_min(x: np.ndarray, back: int, fwd: int) -> np.ndarray:
    """``out[i] = min(x[i - back : i + fwd + 1])`` (edges clamp), in O(n)."""
    size = back + fwd + 1
    return np.asarray(ndi.minimum_filter1d(x, size=size, origin=back - size // 2, mode="nearest"))


class _ChunkedStage:
    """Fixed-chunk processing with ``history`` past and ``lookahead`` future samples.

    State: the input buffer (history + pending input) and the counts of samples in
    and out. Latency: ``lookahead`` samples.
    """

    def __init__(self, rows: int, chunk: int, lookahead: int, history: int) -> None:
        self.rows, self.chunk, self.lookahead, self.history = rows, chunk, lookahead, history
        self._reset_buffer()

    def _reset_buffer(self) -> None:
        self._buf = np.zeros((self.rows, self.history))
        self._n_in = 0
        self._n_out = 0

    def _process(self, seg: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _drain(self) -> np.ndarray:
        outs = []
        h, c, la = self.history, self.chunk, self.lookahead
        pos = h
        while self._buf.shape[1] - pos >= c + la:
            outs.append(self._process(self._buf[:, pos - h : pos + c + la]))
            pos += c
        if pos > h:
            self._buf = self._buf[:, pos - h :]
        return np.concatenate(outs, axis=1) if outs else np.zeros((self.rows, 0))

    def push(self, y: np.ndarray) -> np.ndarray:
        """Feed samples; returns whatever is ready (possibly nothing)."""
        self._buf = np.concatenate([self._buf, y], axis=1)
        self._n_in += y.shape[1]
        out = self._drain()
        self._n_out += out.shape[1]
        return out

    def flush(self) -> np.ndarray:
        """Return the delayed tail; afterwards total output length == total input length."""
        pad = np.zeros((self.rows, self.chunk + self.lookahead))
        self._buf = np.concatenate([self._buf, pad], axis=1)
        out = self._drain()[:, : self._n_in - self._n_out]
        self._n_out += out.shape[1]
        return out


class MomentaryLeveler(_ChunkedStage):
    """Keeps BS.1770 momentary loudness (400 ms) at or below ``ceiling_lufs``.

    The K-weighting shelf adds at most +4 dB, so a segment whose *unweighted*
    momentary level stays 4.1 dB under the (margined) ceiling cannot exceed it
    and passes untouched at almost no cost. Only segments that come near the
    ceiling are K-weighted (from the segment's own 400 ms history, with the
    filters started in steady state) and levelled.

    State: the look-ahead buffer and the last gain (for the release). Latency: the
    look-ahead, 400 ms by default (every window that will contain a sample is seen before
    the sample leaves). A live stream may look ahead less (``lookahead_hops``, 10 ms
    each): the gain then comes down a little later on a sudden rise, and the true-peak
    limiter after it still holds the peaks.
    """

    def __init__(self, sr: int, channels: int, *, ceiling_lufs: float, margin_db: float = 0.7,
                 release_db_per_s: float = 3.0, lookahead_hops: int = 40) -> None:
        self.sr, self.channels = sr, channels
        self.hop = sr // 100
        self.n_win = 40  # 400 ms of 10 ms hops
        if not 1 <= int(lookahead_hops) <= self.n_win:
            raise ValueError(f"lookahead_hops {lookahead_hops!r}: 1-{self.n_win}")
        self.ahead = int(lookahead_hops)
        self.ceiling_lufs = ceiling_lufs
        self.margin_db = margin_db
        self.release_db_per_s = release_db_per_s
        self._sos = k_weighting_sos(sr)
        super().__init__(channels, 50 * self.hop, self.ahead * self.hop, self.n_win * self.hop)
        self._last_db = 0.0

    def reset(self) -> None:
        self._reset_buffer()
        self._last_db = 0.0

    def _window_lufs(self, x: np.ndarray) -> np.ndarray:
        hop, w = self.hop, self.n_win
        n_hops = x.shape[1] // hop
        e = (x[:, : n_hops * hop] ** 2).reshape(x.shape[0], n_hops, hop).mean(axis=2).sum(axis=0)
        c = np.concatenate([[0.0], np.cumsum(e)])
        k = np.arange(w - 1, n_hops)
        mean_e = (c[k + 1] - c[k + 1 - w]) / w
        m = np.full(n_hops, -np.inf)
        m[w - 1 :] = -0.691 + 10 * np.log10(np.maximum(mean_e, 1e-20))
        return m

    def _process(self, seg: np.ndarray) -> np.ndarray:
        hop, h, c = self.hop, self.history, self.chunk
        limit = self.ceiling_lufs - self.margin_db
        if self._last_db == 0.0 and np.max(self._window_lufs(seg)) + 4.1 < limit:
            return seg[:, h : h + c].copy()
        zi = sps.sosfilt_zi(self._sos)[:, None, :] * seg[None, :, 0:1]
        kw, _ = sps.sosfilt(self._sos, seg, axis=1, zi=zi)
        g = np.minimum(0.0, limit - self._window_lufs(kw))  # per window ending at each hop
        first, n_chunk = h // hop, c // hop
        step = self.release_db_per_s * hop / self.sr
        prev = self._last_db
        ramp = np.arange(1, hop + 1) / hop
        out = np.empty((seg.shape[0], c))
        for j in range(n_chunk):
            i = first + j
            cur = min(float(np.min(g[i : i + self.ahead])), prev + step)
            s0 = h + j * hop
            out[:, j * hop : (j + 1) * hop] = seg[:, s0 : s0 + hop] * 10 ** ((prev + (cur - prev) * ramp) / 20)
            prev = cur
        self._last_db = prev
        return out

    def __repr__(self) -> str:
        return (f"MomentaryLeveler(ceiling_lufs={self.ceiling_lufs:g} LUFS, "
                f"margin_db={self.margin_db:g} dB, release_db_per_s={self.release_db_per_s:g} dB/s)")


class TruePeakLimiter(_ChunkedStage):
    """Look-ahead limiter holding the true peak at or below ``ceiling_dbtp``.

    State: the look-ahead buffer only (the gain curve is recomputed from the
    buffered history, so there is no recursive state). Latency ``attack_ms``
    plus the oversampling filter's reach (32 samples).
    """

    def __init__(self, sr: int, channels: int, *, ceiling_dbtp: float, attack_ms: float = 5.0,
                 hold_ms: float = 30.0, chunk: int = 4096) -> None:
        self.sr, self.channels, self.ceiling_dbtp = sr, channels, ceiling_dbtp
        self.attack = max(1, int(round(attack_ms * sr / 1000)))
        self.hold = int(round(hold_ms * sr / 1000))
        self.ceiling = 10 ** ((ceiling_dbtp - 0.1) / 20.0)
        self.threshold = self.ceiling * 10 ** (-4 / 20.0)
        self.ctx = 32
        super().__init__(channels, chunk, self.attack + self.ctx, self.hold + self.attack + self.ctx)

    def reset(self) -> None:
        self._reset_buffer()

    def _process(self, seg: np.ndarray) -> np.ndarray:
        h, c = self.history, self.chunk
        a = np.max(np.abs(seg), axis=0)
        if a.max() < self.threshold:
            return seg[:, h : h + c].copy()
        up = sps.resample_poly(seg, 4, 1, axis=1)
        tp = np.max(np.abs(up).reshape(seg.shape[0], -1, 4), axis=(0, 2))
        tp = np.maximum(tp, a)
        g_raw = np.minimum(1.0, self.ceiling / np.maximum(tp, 1e-12))
        m = window_min(g_raw, self.hold, self.attack)
        cs = np.concatenate([[0.0], np.cumsum(m)])
        idx = np.arange(h, h + c)
        smooth = (cs[idx + 1] - cs[idx + 1 - self.attack]) / self.attack
        return seg[:, h : h + c] * smooth

    def __repr__(self) -> str:
        return (f"TruePeakLimiter(ceiling_dbtp={self.ceiling_dbtp:g} dBTP, "
                f"attack_ms={1000 * self.attack / self.sr:g} ms, hold_ms={1000 * self.hold / self.sr:g} ms)")


class MasterChain:
    """gain → momentary leveler → true-peak limiter, streaming with fixed latency.

    ``push(y)`` returns ready samples (float64); ``flush()`` the rest, after which
    exactly as many samples have come out as went in.
    """

    def __init__(self, sr: int, channels: int, *, gain_db: float, momentary_max_lufs: float | None,
                 true_peak_dbtp: float) -> None:
        self.gain_db = gain_db
        self._gain = 10 ** (gain_db / 20.0)
        self.stages: list[_ChunkedStage] = []
        if momentary_max_lufs is not None:
            self.stages.append(MomentaryLeveler(sr, channels, ceiling_lufs=momentary_max_lufs))
        self.stages.append(TruePeakLimiter(sr, channels, ceiling_dbtp=true_peak_dbtp))

    def push(self, y: np.ndarray) -> np.ndarray:
        x = np.asarray(y, dtype=np.float64) * self._gain
        for st in self.stages:
            x = st.push(x)
        return x

    def flush(self) -> np.ndarray:
        x = np.zeros((self.stages[0].rows, 0))
        for st in self.stages:
            x = np.concatenate([st.push(x), st.flush()], axis=1) if x.shape[1] else st.flush()
        return x

    def __repr__(self) -> str:
        return f"MasterChain(gain_db={self.gain_db:.2f} dB, stages={self.stages!r})"


def fade_gains(start: int, n: int, *, sr: int, total: int, fade_in_s: float, fade_out_s: float) -> np.ndarray | None:
    """Equal-power fade gains for output samples ``start … start+n`` (None: all 1).

    Fade-in ``sin(π/2·x)``, fade-out ``cos(π/2·x)`` (x from 0 to 1), so a fade-out
    overlapping a fade-in of the next session would keep power constant.
    """
    n_in = int(round(fade_in_s * sr))
    n_out = int(round(fade_out_s * sr))
    idx = np.arange(start, start + n)
    if (n_in == 0 or start >= n_in) and (n_out == 0 or start + n <= total - n_out):
        return None
    g = np.ones(n)
    if n_in:
        x = np.clip((idx + 0.5) / n_in, 0.0, 1.0)
        g *= np.sin(0.5 * np.pi * x)
    if n_out:
        x = np.clip((idx - (total - n_out) + 0.5) / n_out, 0.0, 1.0)
        g *= np.cos(0.5 * np.pi * x)
    return g
