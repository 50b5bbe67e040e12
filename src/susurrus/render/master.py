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
    re-measured 4× oversampled (BS.1770-4 Annex 2 style interpolation) around the
    samples loud enough for an oversampled value to reach the ceiling; elsewhere
    nothing is done at all. The gain is a minimum over ``hold_ms`` back and
    ``attack_ms`` ahead, then a moving average over ``attack_ms`` — a curve that
    never exceeds the gain any sample needs.

Samples are held and passed on in single precision (a 24-bit file needs no more,
and the passes over them cost half the memory traffic of doubles); the
measurements that decide a gain, and the gain's application where one is needed,
run in double precision.
"""

from __future__ import annotations

import numpy as np

from .. import _signal as sps
from ..loudness import k_weighting_sos


def window_min(x: np.ndarray, back: int, fwd: int) -> np.ndarray:
    """``out[i] = min(x[i - back : i + fwd + 1])`` (edges clamp), in O(n).

    van Herk / Gil–Werman: with ``x`` padded by its edge values and cut into blocks
    of the window's width ``w``, every window spans the tail of one block and the
    head of the next, so its minimum is that of a running minimum from each block's
    end (at the window's start) and one from each block's start (at its end).
    """
    x = np.asarray(x)
    n, w = len(x), back + fwd + 1
    if n == 0 or w == 1:
        return x.copy()
    blocks = -(-(n + w - 1) // w)
    pad = np.empty(blocks * w, dtype=x.dtype)
    pad[:back] = x[0]
    pad[back : back + n] = x
    pad[back + n :] = x[-1]
    b = pad.reshape(blocks, w)
    head = np.minimum.accumulate(b, axis=1).reshape(-1)  # block start … i
    tail = np.minimum.accumulate(b[:, ::-1], axis=1)[:, ::-1].reshape(-1)  # i … block end
    return np.minimum(tail[:n], head[w - 1 : w - 1 + n])


# The leveler's quick hop energies sum the same squares in another order: each is within
# ~1e-12 (relative) of the exact one, and a segment's loudest window (which holds a share
# of every hop's energy) within ~1e-8 dB. Farther than this from the threshold, the quick
# answer is the exact one; nearer, the segment is measured exactly.
_SURE_DB = 1e-5
_PIECE = 1 << 16  # samples the chain takes at a time (bounds the temporaries of a long block)


class _ChunkedStage:
    """Fixed-chunk processing with ``history`` past and ``lookahead`` future samples.

    The stream starts with ``history`` zeros; chunk ``j`` leaves as :meth:`_process`
    of the segment ``[j·chunk, j·chunk + history + chunk + lookahead)`` (stream
    indices), or as it came in when the stage is at rest (:meth:`_at_rest`) and the
    segment needs nothing done (:meth:`_quiet`). The quiet test reads measures taken
    once, as input arrives (:meth:`_observe`), so no sample is measured twice; runs
    of untouched chunks are copied in one go.

    State: the input buffer — from the next chunk's segment on, in a larger array
    filled in place and compacted only when full — the stage's measures of it, and
    the counts of samples in and out. Latency: ``lookahead`` samples.
    """

    def __init__(self, rows: int, chunk: int, lookahead: int, history: int) -> None:
        self.rows, self.chunk, self.lookahead, self.history = rows, chunk, lookahead, history
        self._reset_buffer()

    def _reset_buffer(self) -> None:
        self._buf = np.zeros((self.rows, 2 * self.history + _PIECE), dtype=np.float32)
        self._t0 = 0  # stream index of buffer column 0
        self._lo = 0  # buffer column where the next chunk's segment starts
        self._hi = 0  # end of the buffered input
        self._extend(self.history)
        self._n_in = 0
        self._n_out = 0

    # -- buffer ------------------------------------------------------------------------

    def _space(self, m: int) -> np.ndarray:
        """The buffer columns the next ``m`` input samples go to (then :meth:`_extend`)."""
        cap = self._buf.shape[1]
        if self._hi + m > cap:
            keep = self._hi - self._lo
            if 2 * keep + m > cap:  # grow, with room for one more such block
                buf = np.empty((self.rows, 2 * keep + m + min(m, 1 << 17)), dtype=np.float32)
            else:  # compact in place: _lo > keep, so source and target do not overlap
                buf = self._buf
            buf[:, :keep] = self._buf[:, self._lo : self._hi]
            self._buf = buf
            self._t0 += self._lo
            self._lo, self._hi = 0, keep
        return self._buf[:, self._hi : self._hi + m]

    def _extend(self, m: int) -> None:
        """Take the ``m`` samples written into :meth:`_space` as buffered input."""
        self._observe(self._hi, self._hi + m)
        self._hi += m

    def _n_ready(self, more: int = 0) -> int:
        """Output samples the buffered input (and ``more`` to come) completes: whole chunks."""
        n = (self._hi + more - self._lo - self.history - self.lookahead) // self.chunk
        return max(n, 0) * self.chunk

    def _drain_into(self, out: np.ndarray) -> None:
        """Process the next ``out.shape[1] // chunk`` chunks into ``out``."""
        h, c, la = self.history, self.chunk, self.lookahead
        n = out.shape[1] // c
        if n == 0:
            return
        quiet = self._quiet(n)
        loud = np.flatnonzero(~quiet)
        lo, buf = self._lo, self._buf
        j = 0
        while j < n:
            if quiet[j] and self._at_rest():
                i = int(np.searchsorted(loud, j))
                k = int(loud[i]) if i < loud.size else n
                out[:, j * c : k * c] = buf[:, lo + h + j * c : lo + h + k * c]
                j = k
            else:
                s = lo + j * c
                out[:, j * c : (j + 1) * c] = self._process(buf[:, s : s + h + c + la])
                j += 1
        self._lo = lo + n * c

    # -- what a stage defines ----------------------------------------------------------

    def _observe(self, a: int, b: int) -> None:
        """Measure the new input ``_buf[:, a:b]`` (nothing by default)."""

    def _quiet(self, n: int) -> np.ndarray:
        """Which of the next ``n`` chunks pass untouched when the stage is at rest."""
        return np.zeros(n, dtype=bool)

    def _at_rest(self) -> bool:
        return True

    def _process(self, seg: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- streaming ---------------------------------------------------------------------

    def _block(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim != 2 or y.shape[0] != self.rows:
            raise ValueError(f"block of shape {y.shape}: expected ({self.rows}, samples)")
        return y

    def _take(self, y: np.ndarray, gain: float = 1.0) -> None:
        """Buffer ``y * gain`` as input (float32: ``y`` rounded to float32, times the
        gain rounded to float32)."""
        dst = self._space(y.shape[1])
        if gain == 1.0:
            dst[...] = y
        else:  # one pass (a float32 block is taken as it is)
            np.multiply(np.asarray(y, dtype=np.float32), np.float32(gain), out=dst)
        self._extend(y.shape[1])
        self._n_in += y.shape[1]

    def _emit(self, out: np.ndarray) -> None:
        """Drain every ready chunk into ``out`` and count it as output."""
        self._drain_into(out)
        self._n_out += out.shape[1]

    def push(self, y: np.ndarray) -> np.ndarray:
        """Feed samples; returns whatever is ready (possibly nothing)."""
        self._take(self._block(y))
        out = np.empty((self.rows, self._n_ready()), dtype=np.float32)
        self._emit(out)
        return out

    def flush(self) -> np.ndarray:
        """Return the delayed tail; afterwards total output length == total input length."""
        pad = self.chunk + self.lookahead
        self._space(pad)[...] = 0.0
        self._extend(pad)
        out = np.empty((self.rows, self._n_ready()), dtype=np.float32)
        self._drain_into(out)
        out = out[:, : self._n_in - self._n_out]
        self._n_out += out.shape[1]
        return out


class MomentaryLeveler(_ChunkedStage):
    """Keeps BS.1770 momentary loudness (400 ms) at or below ``ceiling_lufs``.

    The K-weighting shelf adds at most +4 dB, so a segment whose *unweighted*
    momentary level stays 4.1 dB under the (margined) ceiling cannot exceed it
    and passes untouched at almost no cost: the unweighted energy of each 10 ms
    hop is measured once, as it arrives, and each segment's 400 ms windows are
    summed from those (a segment within ``_SURE_DB`` of the threshold is measured
    again exactly). Only segments that come near the ceiling are K-weighted (from
    the segment's own 400 ms history, with the filters started in steady state)
    and levelled.

    State: the look-ahead buffer, the unweighted energies of its whole hops (from
    the next segment's first hop on) and the last gain (for the release). Latency:
    the look-ahead, 400 ms by default (every window that will contain a sample is
    seen before the sample leaves). A live stream may look ahead less
    (``lookahead_hops``, 10 ms each): the gain then comes down a little later on a
    sudden rise, and the true-peak limiter after it still holds the peaks.
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

    def _reset_buffer(self) -> None:
        self._hop_e = np.zeros(0)  # energies of stream hops _hop_e0, _hop_e0 + 1, …
        self._hop_e0 = 0
        super()._reset_buffer()

    def _window_lufs(self, x: np.ndarray) -> np.ndarray:
        """Momentary loudness of the window ending at each whole hop of ``x`` (-inf before the first)."""
        hop, w = self.hop, self.n_win
        n_hops = x.shape[1] // hop
        x = np.asarray(x, dtype=np.float64)
        e = (x[:, : n_hops * hop] ** 2).reshape(x.shape[0], n_hops, hop).mean(axis=2).sum(axis=0)
        c = np.concatenate([[0.0], np.cumsum(e)])
        k = np.arange(w - 1, n_hops)
        mean_e = (c[k + 1] - c[k + 1 - w]) / w
        m = np.full(n_hops, -np.inf)
        m[w - 1 :] = -0.691 + 10 * np.log10(np.maximum(mean_e, 1e-20))
        return m

    def _observe(self, a: int, b: int) -> None:
        """Quick energies of the hops the new input completes."""
        hop = self.hop
        done = self._hop_e0 + self._hop_e.size  # the first stream hop not measured yet
        end = (self._t0 + b) // hop
        if end > done:
            x = self._buf[:, done * hop - self._t0 : end * hop - self._t0].reshape(self.rows, end - done, hop)
            e = np.einsum("chk,chk->h", x, x).astype(np.float64)  # float32 sums: ~1e-6 relative
            self._hop_e = np.concatenate([self._hop_e, e / hop])

    def _quiet(self, n: int) -> np.ndarray:
        h, c, la, hop, w = self.history, self.chunk, self.lookahead, self.hop, self.n_win
        limit = self.ceiling_lufs - self.margin_db
        lo, start = self._lo, self._t0 + self._lo
        seg_hops, step = (h + c + la) // hop, c // hop
        self._hop_e = self._hop_e[start // hop - self._hop_e0 :]  # older hops are done with
        self._hop_e0 = start // hop
        if c % hop or start % hop:  # chunks off the hop grid: no quick answer
            loudest = np.full(n, np.nan)
        else:
            cs = np.zeros((n, seg_hops + 1))
            np.cumsum(self._hop_e[np.arange(0, n * step, step)[:, None] + np.arange(seg_hops)], axis=1, out=cs[:, 1:])
            mean_e = np.max(cs[:, w:] - cs[:, : seg_hops + 1 - w], axis=1) / w
            loudest = -0.691 + 10 * np.log10(np.maximum(mean_e, 1e-20))
        quiet = loudest + 4.1 < limit - _SURE_DB
        for j in np.flatnonzero(~quiet & ~(loudest + 4.1 > limit + _SURE_DB)):  # too close to call
            quiet[j] = np.max(self._window_lufs(self._buf[:, lo + j * c : lo + j * c + h + c + la])) + 4.1 < limit
        return quiet

    def _at_rest(self) -> bool:
        return self._last_db == 0.0

    def _process(self, seg: np.ndarray) -> np.ndarray:
        """Level one chunk: its segment comes near the ceiling, or the gain is releasing."""
        hop, h, c = self.hop, self.history, self.chunk
        limit = self.ceiling_lufs - self.margin_db
        seg = np.asarray(seg, dtype=np.float64)  # levelled in double precision
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


def _true_peak_taps() -> tuple[np.ndarray, int, float]:
    """``resample_poly(x, 4, 1)``'s filter as a ``(2r + 1, 4)`` matrix: the four phases
    at sample ``i`` are ``x[i - r … i + r] @ taps``; with its reach ``r`` and the largest
    absolute tap sum of a phase."""
    up, half = 4, 40
    h = sps.firwin(2 * half + 1, 1.0 / up) * up
    r = half // up
    taps = np.zeros((2 * r + 1, up))
    for j in range(2 * r + 1):  # x[i + j - r] meets h[p + up·(2r - j)] in phase p
        for p in range(up):
            if (k := p + up * (2 * r - j)) < h.size:
                taps[j, p] = h[k]
    return taps, r, float(np.max(np.abs(taps).sum(axis=0)))


_TP_TAPS, _TP_REACH, _TP_GAIN = _true_peak_taps()


class TruePeakLimiter(_ChunkedStage):
    """Look-ahead limiter holding the true peak at or below ``ceiling_dbtp``.

    State: the look-ahead buffer and the sample peak of each stretch of ``grid``
    samples in it (measured once, as they arrive; while a whole block stays under
    the threshold, 4 dB below the ceiling, its peak stands for each of its
    stretches). A segment whose stretches all stay under the threshold passes
    untouched; one with a loud stretch is checked sample by sample. The gain curve
    is recomputed from the buffered history, so there is no recursive state.
    Latency ``attack_ms`` plus the oversampling filter's reach (32 samples).
    """

    grid = 1024  # samples a peak is kept for (stream-aligned stretches)

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

    def _reset_buffer(self) -> None:
        self._peaks = np.zeros(0)  # peaks of the stretches _peak0, _peak0 + 1, … (the last may grow)
        self._peak0 = 0
        super()._reset_buffer()

    def _observe(self, a: int, b: int) -> None:
        if b == a:
            return
        g, s = self.grid, self._t0 + a
        cuts = np.arange(-(s % g), b - a, g)  # where each stretch starts, relative to a
        cuts[0] = 0
        x = self._buf[:, a:b]
        p = np.full(cuts.size, np.maximum(x.max(), -x.min()))  # a bound for each stretch …
        if not p[0] < self.threshold:  # … that says too little: each stretch's own peak
            p = np.maximum(np.max(np.maximum.reduceat(x, cuts, axis=1), axis=0),
                           -np.min(np.minimum.reduceat(x, cuts, axis=1), axis=0))
        if s // g < self._peak0 + self._peaks.size:  # the first stretch continues the last one
            p[0] = np.maximum(p[0], self._peaks[-1])
            self._peaks = self._peaks[:-1]
        self._peaks = np.concatenate([self._peaks, p])

    def _quiet(self, n: int) -> np.ndarray:
        g, c, span = self.grid, self.chunk, self.history + self.chunk + self.lookahead
        start = self._t0 + self._lo
        self._peaks = self._peaks[start // g - self._peak0 :]  # older stretches are done with
        self._peak0 = start // g
        if self._peaks[: (start + (n - 1) * c + span - 1) // g - self._peak0 + 1].max() < self.threshold:
            return np.ones(n, dtype=bool)  # the steady case: all of them
        first = (start + np.arange(n) * c) // g - self._peak0
        last = (start + np.arange(n) * c + span - 1) // g - self._peak0
        return np.array([self._peaks[i : k + 1].max() < self.threshold for i, k in zip(first, last, strict=True)])

    def _process(self, seg: np.ndarray) -> np.ndarray:
        """Limit one chunk whose segment has a loud stretch (sample by sample, it may pass untouched)."""
        h, c = self.history, self.chunk
        a = np.max(np.abs(seg), axis=0)
        if a.max() < self.threshold:
            return seg[:, h : h + c].copy()
        seg = np.asarray(seg, dtype=np.float64)  # limited in double precision
        tp = np.maximum(self._true_peaks(seg, a), a)
        g_raw = np.minimum(1.0, self.ceiling / np.maximum(tp, 1e-12))
        m = window_min(g_raw, self.hold, self.attack)
        cs = np.concatenate([[0.0], np.cumsum(m)])
        idx = np.arange(h, h + c)
        smooth = (cs[idx + 1] - cs[idx + 1 - self.attack]) / self.attack
        return seg[:, h : h + c] * smooth

    def _true_peaks(self, seg: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Each sample's 4× oversampled peak (over its four phases and the channels) where
        it could reach the ceiling, else ``a`` (the sample peaks).

        The values of ``resample_poly(seg, 4, 1)`` (zero-padded at the segment's ends),
        computed only for samples with one at least ``ceiling / reach_gain`` within
        the filter's reach: elsewhere no phase can reach the ceiling (the largest
        absolute tap sum of a phase is ``reach_gain``), so the gain is 1 either way.
        A chunk with a few loud transients costs a few dot products, not the
        oversampling of its whole segment.
        """
        taps, r = _TP_TAPS, _TP_REACH
        near = window_min(a < self.ceiling / _TP_GAIN, r, r) == 0  # a loud sample within reach
        at = np.flatnonzero(near)
        tp = a.astype(np.float64)
        if at.size:
            xp = np.zeros((seg.shape[0], seg.shape[1] + 2 * r))
            xp[:, r:-r] = seg
            win = np.lib.stride_tricks.sliding_window_view(xp, 2 * r + 1, axis=1)[:, at]  # x[i-r … i+r]
            tp[at] = np.max(np.abs(win @ taps), axis=(0, 2))
        return tp

    def __repr__(self) -> str:
        return (f"TruePeakLimiter(ceiling_dbtp={self.ceiling_dbtp:g} dBTP, "
                f"attack_ms={1000 * self.attack / self.sr:g} ms, hold_ms={1000 * self.hold / self.sr:g} ms)")


class MasterChain:
    """gain → momentary leveler → true-peak limiter, streaming with fixed latency.

    ``push(y)`` returns ready samples (float32); ``flush()`` the rest, after which
    exactly as many samples have come out as went in. The gain is applied as a
    block is copied into the first stage, and each stage writes what it lets out
    straight into the next one's buffer (the last into the block's output). A long
    block goes through in pieces of ``_PIECE`` samples, which bounds the temporaries.

    State: the stages' (see each).
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
        y = self.stages[0]._block(y)
        n = y.shape[1]
        for st in self.stages:
            n = st._n_ready(n)
        out = np.empty((y.shape[0], n), dtype=np.float32)
        pos = 0
        for a in range(0, max(y.shape[1], 1), _PIECE):
            self.stages[0]._take(y[:, a : a + _PIECE], self._gain)
            for st, nxt in zip(self.stages[:-1], self.stages[1:], strict=True):
                m = st._n_ready()
                st._emit(nxt._space(m))
                nxt._extend(m)
                nxt._n_in += m
            m = self.stages[-1]._n_ready()
            self.stages[-1]._emit(out[:, pos : pos + m])
            pos += m
        return out

    def flush(self) -> np.ndarray:
        x = np.zeros((self.stages[0].rows, 0), dtype=np.float32)
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
    if (n_in == 0 or start >= n_in) and (n_out == 0 or start + n <= total - n_out):
        return None
    idx = np.arange(start, start + n)
    g = np.ones(n)
    if n_in:
        x = np.clip((idx + 0.5) / n_in, 0.0, 1.0)
        g *= np.sin(0.5 * np.pi * x)
    if n_out:
        x = np.clip((idx - (total - n_out) + 0.5) / n_out, 0.0, 1.0)
        g *= np.cos(0.5 * np.pi * x)
    return g
