"""The fast master chain against the pre-optimisation one: the same samples, any cut.

``_Reference*`` below is the master chain as it was before the quiet path measured
each sample once (hop energies and stretch peaks kept as state, buffers filled in
place, stages writing into each other): the pre-optimisation implementation, kept
verbatim (only renamed) as the test oracle.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.signal as sps
from hypothesis import given, settings
from hypothesis import strategies as hst

from susurrus.loudness import k_weighting_sos
from susurrus.render.master import MasterChain, MomentaryLeveler, TruePeakLimiter

SR = 48000
ATOL = 1e-6  # samples are held in float32 now (the reference in float64): rounding, ~6e-8 per step

# -- the oracle: the pre-optimisation implementation, verbatim (only renamed) ---------------


def _reference_window_min(x: np.ndarray, back: int, fwd: int) -> np.ndarray:
    """``out[i] = min(x[i - back : i + fwd + 1])`` (edges clamp), in O(n)."""
    size = back + fwd + 1
    return np.asarray(ndi.minimum_filter1d(x, size=size, origin=back - size // 2, mode="nearest"))


class _ReferenceChunkedStage:
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


class _ReferenceMomentaryLeveler(_ReferenceChunkedStage):
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
        return (f"_ReferenceMomentaryLeveler(ceiling_lufs={self.ceiling_lufs:g} LUFS, "
                f"margin_db={self.margin_db:g} dB, release_db_per_s={self.release_db_per_s:g} dB/s)")


class _ReferenceTruePeakLimiter(_ReferenceChunkedStage):
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
        m = _reference_window_min(g_raw, self.hold, self.attack)
        cs = np.concatenate([[0.0], np.cumsum(m)])
        idx = np.arange(h, h + c)
        smooth = (cs[idx + 1] - cs[idx + 1 - self.attack]) / self.attack
        return seg[:, h : h + c] * smooth

    def __repr__(self) -> str:
        return (f"_ReferenceTruePeakLimiter(ceiling_dbtp={self.ceiling_dbtp:g} dBTP, "
                f"attack_ms={1000 * self.attack / self.sr:g} ms, hold_ms={1000 * self.hold / self.sr:g} ms)")


class _ReferenceMasterChain:
    """gain → momentary leveler → true-peak limiter, streaming with fixed latency.

    ``push(y)`` returns ready samples (float64); ``flush()`` the rest, after which
    exactly as many samples have come out as went in.
    """

    def __init__(self, sr: int, channels: int, *, gain_db: float, momentary_max_lufs: float | None,
                 true_peak_dbtp: float) -> None:
        self.gain_db = gain_db
        self._gain = 10 ** (gain_db / 20.0)
        self.stages: list[_ReferenceChunkedStage] = []
        if momentary_max_lufs is not None:
            self.stages.append(_ReferenceMomentaryLeveler(sr, channels, ceiling_lufs=momentary_max_lufs))
        self.stages.append(_ReferenceTruePeakLimiter(sr, channels, ceiling_dbtp=true_peak_dbtp))

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
        return f"_ReferenceMasterChain(gain_db={self.gain_db:.2f} dB, stages={self.stages!r})"


# -- signals and runners --------------------------------------------------------------------

KINDS = ("bed", "loud", "silence", "edge")
MIXED = (1, 7, 4095, 65536, 1, 3000, 7)


def _signal(kind: str, n: int, seed: int) -> np.ndarray:
    """Stereo float32: a bed at about -27 LUFS, the same with a passage and clicks that
    make both stages act, silence with one click, or a bed right at the leveler's
    quick test (unweighted momentary level 4.1 dB under -18.7 LUFS: some segments pass,
    some are K-weighted)."""
    rng = np.random.default_rng(seed)
    if kind == "silence":
        y = np.zeros((2, n))
        y[:, n // 3 : n // 3 + 50] = 0.9
        return y.astype(np.float32)
    w = rng.standard_normal((2, n))
    f = np.fft.rfftfreq(n, 1 / SR)
    f[0] = f[1]
    y = np.fft.irfft(np.fft.rfft(w, axis=1) / f**0.25, n, axis=1)
    # the bed: about -27 LUFS, peaks near -15 dBFS; the edge: at -1 dB (the chains' default
    # gain here) about half the segments pass the quick test
    y *= (0.0617 if kind == "edge" else 0.034) / np.std(y)
    if kind == "loud":
        a, b = n // 4, n // 4 + SR // 2
        y[:, a:b] *= 8.0  # about +18 LU for half a second: the leveler acts
        for t in rng.integers(0, n - 300, 6):  # clicks over full scale: the limiter acts
            y[:, t : t + 300] += 1.6 * np.hanning(300) * np.sign(rng.standard_normal())
    return y.astype(np.float32)


def _run(stage: object, y: np.ndarray, sizes: tuple[int, ...] | list[int]) -> np.ndarray:
    outs, pos, k = [], 0, 0
    while pos < y.shape[1]:
        n = sizes[k % len(sizes)]
        outs.append(stage.push(y[:, pos : pos + n]))  # type: ignore[attr-defined]
        pos += n
        k += 1
    outs.append(stage.flush())  # type: ignore[attr-defined]
    out = np.concatenate(outs, axis=1)
    assert out.shape == y.shape  # as many samples out as in
    return out


def _chains(gain_db: float = -1.0, momentary: float | None = -18.0,
            tp: float = -6.0) -> tuple[MasterChain, _ReferenceMasterChain]:
    kw = dict(gain_db=gain_db, momentary_max_lufs=momentary, true_peak_dbtp=tp)
    return MasterChain(SR, 2, **kw), _ReferenceMasterChain(SR, 2, **kw)  # type: ignore[arg-type]


def _live_sized(stage: object) -> object:
    """Shorten the chunks the way :mod:`susurrus.render.live` does, after construction."""
    if isinstance(stage, MomentaryLeveler | _ReferenceMomentaryLeveler):
        stage.chunk, stage.ahead, stage.lookahead = 10 * stage.hop, 10, 10 * stage.hop
    elif isinstance(stage, TruePeakLimiter | _ReferenceTruePeakLimiter):
        stage.chunk = 1024
    return stage


# -- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sizes", [(65536,), MIXED, (4095,), (3 * SR,)], ids=["65536", "mixed", "4095", "whole"])
def test_master_chain_matches_the_reference(kind: str, sizes: tuple[int, ...]) -> None:
    y = _signal(kind, 3 * SR, seed=7)
    new, ref = _chains()
    want = _run(ref, y, sizes)
    np.testing.assert_allclose(_run(new, y, sizes), want, rtol=0, atol=ATOL)
    if kind == "loud":  # the case really exercises both stages
        assert np.max(np.abs(want - y * 10 ** (-1 / 20))) > 0.1


def test_master_chain_pushed_one_sample_at_a_time_matches_the_reference() -> None:
    y = _signal("loud", SR // 2, seed=8)
    y[:, 100:400] += 1.5  # within the first limiter chunks
    new, ref = _chains(gain_db=3.0)
    np.testing.assert_allclose(_run(new, y, (1,)), _run(ref, y, (1,)), rtol=0, atol=ATOL)


@pytest.mark.parametrize("kind", KINDS)
def test_limiter_only_chain_matches_the_reference(kind: str) -> None:
    y = _signal(kind, 2 * SR, seed=9)
    new, ref = _chains(gain_db=4.0, momentary=None, tp=-3.0)
    np.testing.assert_allclose(_run(new, y, MIXED), _run(ref, y, MIXED), rtol=0, atol=ATOL)


@pytest.mark.parametrize("kind", KINDS)
def test_stages_with_live_chunks_match_the_reference(kind: str) -> None:
    y = _signal(kind, 2 * SR, seed=10).astype(np.float64) * 2.0
    for new, ref in [
        (MomentaryLeveler(SR, 2, ceiling_lufs=-18.0), _ReferenceMomentaryLeveler(SR, 2, ceiling_lufs=-18.0)),
        (TruePeakLimiter(SR, 2, ceiling_dbtp=-6.0), _ReferenceTruePeakLimiter(SR, 2, ceiling_dbtp=-6.0)),
    ]:
        for sizes in [(1024,), MIXED]:
            a = _run(_live_sized(new), y, sizes)
            np.testing.assert_allclose(a, _run(_live_sized(ref), y, sizes), rtol=0, atol=ATOL)
            if kind == "loud":  # each stage really acts here
                assert np.max(np.abs(a - y)) > 0.05
            new.reset()
            ref.reset()


def test_reset_starts_the_stages_afresh() -> None:
    y = _signal("loud", 2 * SR, seed=11).astype(np.float64)
    for make in [lambda: MomentaryLeveler(SR, 2, ceiling_lufs=-18.0),
                 lambda: TruePeakLimiter(SR, 2, ceiling_dbtp=-6.0)]:
        used = make()
        _run(used, y[:, ::-1], (5000,))
        used.push(y[:, :777])  # unfinished business, then a reset
        used.reset()
        np.testing.assert_array_equal(_run(used, y, (4095,)), _run(make(), y, (4095,)))


def test_state_stays_bounded_on_a_long_stream() -> None:
    chain = MasterChain(SR, 2, gain_db=0.0, momentary_max_lufs=-18.0, true_peak_dbtp=-6.0)
    y = _signal("bed", 65536, seed=12)
    for _ in range(40):  # about 55 s in blocks of 65536
        chain.push(y)
    lev, lim = chain.stages
    assert isinstance(lev, MomentaryLeveler)
    assert lev._buf.shape[1] <= 4 * (lev.history + lev.chunk + lev.lookahead + 65536)
    assert lim._buf.shape[1] <= 4 * (lim.history + lim.chunk + lim.lookahead + 65536)
    assert lev._hop_e.size <= (lev.history + lev.chunk + lev.lookahead + 65536) // lev.hop


def test_a_block_with_the_wrong_channel_count_is_refused() -> None:
    new, ref = _chains()
    with pytest.raises(ValueError):
        ref.push(np.zeros((1, 100)))
    with pytest.raises(ValueError, match=r"\(2, samples\)"):
        new.push(np.zeros((1, 100)))
    with pytest.raises(ValueError, match=r"\(2, samples\)"):
        TruePeakLimiter(SR, 2, ceiling_dbtp=-6.0).push(np.zeros(100))


@settings(max_examples=12, deadline=None)
@given(kind=hst.sampled_from(KINDS), seed=hst.integers(0, 2**16),
       sizes=hst.lists(hst.one_of(hst.sampled_from([1, 7, 4095, 65536]), hst.integers(1, 30000)),
                      min_size=1, max_size=12),
       gain_db=hst.sampled_from([-6.0, 0.0, 5.0]))
def test_any_cut_gives_the_reference_samples(kind: str, seed: int, sizes: list[int], gain_db: float) -> None:
    y = _signal(kind, 2 * SR, seed=seed)
    new, ref = _chains(gain_db=gain_db)
    got = _run(new, y, sizes)
    np.testing.assert_allclose(got, _run(ref, y, (65536,)), rtol=0, atol=ATOL)


def test_segments_too_close_to_call_are_measured_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    import susurrus.render.master as master

    calls = []
    exact = MomentaryLeveler._window_lufs
    monkeypatch.setattr(master, "_SURE_DB", 100.0)  # every segment is too close to call
    monkeypatch.setattr(MomentaryLeveler, "_window_lufs", lambda self, x: calls.append(1) or exact(self, x))
    for kind in ("bed", "edge", "loud"):
        y = _signal(kind, 2 * SR, seed=13)
        new, ref = _chains()
        np.testing.assert_allclose(_run(new, y, MIXED), _run(ref, y, MIXED), rtol=0, atol=ATOL)
    assert len(calls) >= 3 * 4  # at least every chunk of every signal was measured exactly


def test_chunks_off_the_measuring_grids_match_the_reference() -> None:
    y = _signal("loud", 2 * SR, seed=14).astype(np.float64)
    new, ref = TruePeakLimiter(SR, 2, ceiling_dbtp=-6.0), _ReferenceTruePeakLimiter(SR, 2, ceiling_dbtp=-6.0)
    new.chunk = ref.chunk = 1000  # not a whole number of the limiter's peak stretches
    np.testing.assert_allclose(_run(new, y, MIXED), _run(ref, y, MIXED), rtol=0, atol=ATOL)
    bed = _signal("bed", 2 * SR, seed=15).astype(np.float64)
    lev, lev_ref = MomentaryLeveler(SR, 2, ceiling_lufs=-18.0), _ReferenceMomentaryLeveler(SR, 2, ceiling_lufs=-18.0)
    lev.chunk = lev_ref.chunk = 50 * lev.hop + 7  # off the 10 ms hop grid: measured segment by segment
    np.testing.assert_allclose(_run(lev, bed, MIXED), _run(lev_ref, bed, MIXED), rtol=0, atol=ATOL)


@settings(max_examples=25, deadline=None)
@given(seed=hst.integers(0, 2**16), clicks=hst.integers(0, 6), level=hst.floats(0.01, 0.5))
def test_true_peaks_are_the_oversampled_ones_wherever_they_could_reach_the_ceiling(
        seed: int, clicks: int, level: float) -> None:
    rng = np.random.default_rng(seed)
    seg = rng.standard_normal((2, 3000)) * level
    for t in rng.integers(0, 3000, clicks):  # loud transients, some at the segment's ends
        seg[:, t : t + 40] += 1.5 * rng.choice([-1.0, 1.0]) * np.hanning(80)[: seg[:, t : t + 40].shape[1]]
    lim = TruePeakLimiter(SR, 2, ceiling_dbtp=-6.0)
    a = np.max(np.abs(seg), axis=0)
    up = np.abs(sps.resample_poly(seg, 4, 1, axis=1)).reshape(2, -1, 4).max(axis=(0, 2))
    exact = np.maximum(up, a)
    got = np.maximum(lim._true_peaks(seg, a), a)
    # the same gain everywhere: the oversampled value wherever it could reach the ceiling …
    np.testing.assert_allclose(np.minimum(1.0, lim.ceiling / got), np.minimum(1.0, lim.ceiling / exact),
                               rtol=0, atol=1e-12)
    reach = np.convolve(a >= lim.ceiling / 2.2, np.ones(21), mode="same") > 0
    np.testing.assert_allclose(got[reach], exact[reach], rtol=1e-12)
    # … and every value where the ceiling is (nearly) nothing
    lim.ceiling = 1e-9
    np.testing.assert_allclose(lim._true_peaks(seg, a), exact, rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(n=hst.integers(1, 400), back=hst.integers(0, 50), fwd=hst.integers(0, 50), seed=hst.integers(0, 2**16),
       kind=hst.sampled_from(["float", "bool", "steps"]))
def test_window_min_is_scipys_minimum_filter(n: int, back: int, fwd: int, seed: int, kind: str) -> None:
    from susurrus.render.master import window_min

    rng = np.random.default_rng(seed)
    x = {"float": rng.standard_normal(n), "bool": rng.random(n) < 0.7,
         "steps": np.repeat(rng.standard_normal(n // 7 + 1), 7)[:n]}[kind]
    got = window_min(x, back, fwd)
    assert got.dtype == x.dtype and got.shape == x.shape
    np.testing.assert_array_equal(got, _reference_window_min(x, back, fwd))
