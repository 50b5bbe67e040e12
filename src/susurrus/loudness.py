"""The one streaming loudness meter: ITU-R BS.1770-4 / EBU R128 / EBU Tech 3342.

Everything here streams: a :class:`LoudnessMeter` takes ``(channels, n)`` blocks of any
size and keeps constant state (filter memories, a partial 100 ms sum, a short
true-peak history) plus one float per 100 ms of audio (2.3 MB for 8 hours; the
buffer grows by doubling), from which every figure is derived on demand. Feeding the same signal in blocks of
1, 997 or 65536 samples gives the same results (to rounding).

The measurement chain, with the symbols of BS.1770-4:

1. **K-weighting** (BS.1770-4 §2.1, figures 1–3): stage 1, a second-order high
   shelf of about +4 dB above ~1.7 kHz (the acoustic effect of the head); stage 2,
   the RLB second-order high-pass at ~38 Hz. BS.1770 tabulates the coefficients at
   48 kHz only; :func:`k_weighting_sos` derives them for any rate from the analog
   prototypes behind that table (``f0``, ``G``, ``Q`` as in libebur128 and
   pyloudnorm's "DeMan" filter) by the bilinear transform with pre-warping, which
   reproduces the 48 kHz table to ~1e-9. See :class:`KWeighting`.
2. **Mean square** per channel over gating blocks of ``T_g = 400 ms`` with 75 %
   overlap (eq. 1, 3); the meter keeps the channel-weighted sums
   ``Σ_i G_i · Σ_n y_i[n]²`` over consecutive 100 ms steps, and a 400 ms block is
   four steps (a 3 s short-term window thirty).
3. **Loudness** of a block ``l_j = −0.691 + 10 log10(Σ_i G_i z_ij)`` (eq. 4) with the
   channel weights ``G_i`` of table 4 (:data:`CHANNEL_WEIGHTS`).
4. **Gating** (eq. 5–7): absolute gate ``Γ_a = −70 LKFS``; relative gate
   ``Γ_r`` 10 LU below the loudness of the absolutely gated blocks; the integrated
   loudness is the loudness of the mean ``z`` over the blocks above both gates.
5. **Loudness range** (EBU Tech 3342): the short-term (3 s) values on a 100 ms hop,
   absolute gate −70 LUFS, relative gate 20 LU below their power mean, LRA = the
   95th minus the 10th percentile (nearest rank, as in the Tech 3342 reference code).
6. **True peak** (BS.1770-4 Annex 2): the signal is interpolated ×4 below 96 kHz,
   ×2 below 192 kHz and not at all from 192 kHz up, with a polyphase FIR, and the
   largest absolute value of any channel is reported in dBTP. See
   :func:`true_peak_interpolator` for the filter and for the bound that lets the
   meter skip oversampling where the result cannot change.

Conventions: momentary and short-term values exist only for complete windows
(the first momentary value is at 0.4 s, the first short-term value at 3 s, each
stamped at the window's end). Silence, or audio shorter than one window, gives
``-inf`` loudness (integrated, max momentary, max short-term) and ``-inf`` peaks;
a loudness range with no short-term value above the gates is ``0.0`` LU.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from . import _signal as sps
from .errors import AudioError, ParameterError

F64 = NDArray[np.float64]

#: BS.1770-4 table 4 channel weights ``G_i`` by channel count. 5.1 is in WAV order
#: L R C LFE Ls Rs; the LFE channel is excluded (weight 0), surrounds weigh 1.41.
CHANNEL_WEIGHTS: dict[int, tuple[float, ...]] = {
    1: (1.0,),
    2: (1.0, 1.0),
    6: (1.0, 1.0, 1.0, 0.0, 1.41, 1.41),
}
#: BS.1770-4 eq. 4 offset (dB) that makes a 997 Hz full-scale sine read −3.01 LKFS
#: on one channel.
LOUDNESS_OFFSET_DB = -0.691
#: absolute gate Γ_a (LKFS), BS.1770-4 §2.8 and EBU Tech 3342
ABSOLUTE_GATE_LUFS = -70.0
#: relative gate of the integrated loudness (LU below the abs-gated loudness)
RELATIVE_GATE_LU = -10.0
#: relative gate of the loudness range (EBU Tech 3342)
LRA_RELATIVE_GATE_LU = -20.0
#: LRA percentiles (EBU Tech 3342)
LRA_LOW_PERCENTILE = 10.0
LRA_HIGH_PERCENTILE = 95.0

#: hop of the gating blocks: 100 ms, i.e. 75 % overlap of 400 ms (BS.1770-4 eq. 3)
STEPS_PER_SECOND = 10
#: 400 ms momentary window, in 100 ms steps
MOMENTARY_STEPS = 4
#: 3 s short-term window, in 100 ms steps (EBU Tech 3341)
SHORT_TERM_STEPS = 30

#: blocks shorter than this are gathered before they are measured
MIN_BLOCK = 4096

MIN_SR = 8000
MAX_SR = 768000

# --- analog prototypes of the K-weighting filters (the 48 kHz table of BS.1770-4,
# --- expressed as centre frequency, gain and quality factor; as in libebur128) ---
#: stage 1 high shelf: centre frequency (Hz), gain (dB), Q, and the exponent that
#: places the band-edge gain V_b = V_h ** SHELF_VB_EXPONENT
SHELF_F0_HZ = 1681.974450955533
SHELF_GAIN_DB = 3.999843853973347
SHELF_Q = 0.7071752369554196
SHELF_VB_EXPONENT = 0.4996667741545416
#: stage 2 RLB high-pass: centre frequency (Hz) and Q
RLB_F0_HZ = 38.13547087602444
RLB_Q = 0.5003270373238773

#: true-peak interpolator: taps per phase (BS.1770-4 Annex 2 uses 12) and the
#: Kaiser window's beta
TP_TAPS_PER_PHASE = 16
TP_KAISER_BETA = 6.0
#: true-peak candidates are searched in chunks of this many samples
TP_CHUNK = 512
#: intervals interpolated per matrix product (bounds temporary memory)
TP_BATCH = 16384


def _check_sr(sr: Any) -> int:
    if (
        isinstance(sr, bool)
        or not isinstance(sr, int | np.integer)
        or not (MIN_SR <= int(sr) <= MAX_SR)
    ):
        raise ParameterError("sr", sr, f"an integer sample rate in Hz, {MIN_SR} <= sr <= {MAX_SR}")
    return int(sr)


def _check_channels(channels: Any) -> int:
    if isinstance(channels, bool) or not isinstance(channels, int | np.integer) or channels < 1:
        raise ParameterError("channels", channels, "a positive channel count")
    return int(channels)


def channel_weights_for(channels: int) -> tuple[float, ...]:
    """BS.1770-4 channel weights ``G_i`` for 1 (mono), 2 (stereo) or 6 (5.1) channels.

    5.1 is in WAV order L R C LFE Ls Rs. Any other count raises
    :class:`~susurrus.errors.ParameterError` naming ``channels``: the layout cannot be
    guessed from the count (pass explicit weights to :class:`LoudnessMeter` instead).
    """
    ch = _check_channels(channels)
    if ch not in CHANNEL_WEIGHTS:
        raise ParameterError(
            "channels",
            channels,
            "1 (mono), 2 (stereo) or 6 (5.1 in WAV order L R C LFE Ls Rs); "
            "for other layouts pass channel_weights",
        )
    return CHANNEL_WEIGHTS[ch]


# ---------------------------------------------------------------------------
# K-weighting
# ---------------------------------------------------------------------------


def k_weighting_sos(sr: int) -> F64:
    """Second-order sections ``(2, 6)`` of the BS.1770-4 K-weighting at rate ``sr``.

    Row 0 is the stage 1 pre-filter (high shelf), row 1 the stage 2 RLB high-pass.
    Both come from their analog prototypes by the bilinear transform with the
    centre frequency pre-warped, ``K = tan(π f0 / sr)``:

    * shelf: ``V_h = 10^(G/20)``, ``V_b = V_h^0.4997``,
      ``b = [V_h + V_b K/Q + K², 2(K² − V_h), V_h − V_b K/Q + K²] / a0``,
      ``a = [1, 2(K² − 1)/a0, (1 − K/Q + K²)/a0]``, ``a0 = 1 + K/Q + K²``;
    * RLB high-pass: ``b = [1, −2, 1]``, ``a`` as above with its own ``f0``, ``Q``.

    At 48 kHz this gives BS.1770-4 tables 1 and 2 (b = 1.53512485958697,
    −2.69169618940638, 1.19839281085285; a = 1, −1.69065929318241, 0.73248077421585;
    and a = 1, −1.99004745483398, 0.99007225036621).
    """
    sr = _check_sr(sr)
    # stage 1: high shelf
    K = math.tan(math.pi * SHELF_F0_HZ / sr)
    V_h = 10.0 ** (SHELF_GAIN_DB / 20.0)
    V_b = V_h**SHELF_VB_EXPONENT
    Q = SHELF_Q
    a0 = 1.0 + K / Q + K * K
    b_shelf = [
        (V_h + V_b * K / Q + K * K) / a0,
        2.0 * (K * K - V_h) / a0,
        (V_h - V_b * K / Q + K * K) / a0,
    ]
    a_shelf = [1.0, 2.0 * (K * K - 1.0) / a0, (1.0 - K / Q + K * K) / a0]
    # stage 2: RLB high-pass
    K = math.tan(math.pi * RLB_F0_HZ / sr)
    Q = RLB_Q
    a0 = 1.0 + K / Q + K * K
    b_rlb = [1.0, -2.0, 1.0]
    a_rlb = [1.0, 2.0 * (K * K - 1.0) / a0, (1.0 - K / Q + K * K) / a0]
    return np.array([b_shelf + a_shelf, b_rlb + a_rlb], dtype=np.float64)


class KWeighting:
    """BS.1770-4 K-weighting as a streaming stage (pre-filter shelf + RLB high-pass).

    Parameters
    ----------
    sr:
        sample rate in Hz; the filters are designed for it (:func:`k_weighting_sos`).
    channels:
        number of channels of the blocks it will be called on.

    Call it on ``(channels, n)`` float32 or float64 blocks; it returns the K-weighted
    block as float64 ``(channels, n)``. State kept between blocks: the two biquads'
    memories per channel (``scipy.signal.sosfilt`` ``zi``), so the output of a stream
    does not depend on how it is cut into blocks. :meth:`reset` clears it.
    """

    def __init__(self, sr: int, channels: int) -> None:
        self.sr = _check_sr(sr)
        self.channels = _check_channels(channels)
        self.sos = k_weighting_sos(self.sr)
        self._zi = np.zeros((2, self.channels, 2))

    def reset(self) -> None:
        """Forget the filter memories (as if preceded by silence)."""
        self._zi[:] = 0.0

    def __call__(self, y: np.ndarray) -> F64:
        if not isinstance(y, np.ndarray) or y.ndim != 2 or y.shape[0] != self.channels:
            shape = getattr(y, "shape", type(y).__name__)
            raise AudioError(f"y must have shape ({self.channels}, n), got {shape}")
        if y.shape[1] == 0:
            return np.zeros((self.channels, 0))
        out, self._zi = sps.sosfilt(self.sos, y, axis=-1, zi=self._zi)
        return np.asarray(out, dtype=np.float64)

    def __repr__(self) -> str:
        return (
            f"KWeighting(sr={self.sr}, channels={self.channels}, "
            f"shelf=+{SHELF_GAIN_DB:.2f} dB above {SHELF_F0_HZ:.0f} Hz, "
            f"highpass_hz={RLB_F0_HZ:.1f})"
        )


# ---------------------------------------------------------------------------
# true peak
# ---------------------------------------------------------------------------


def oversampling_factor(sr: int) -> int:
    """BS.1770-4 Annex 2 true-peak oversampling: ×4 below 96 kHz, ×2 below 192 kHz, else ×1."""
    sr = _check_sr(sr)
    return 4 if sr < 96000 else 2 if sr < 192000 else 1


def true_peak_interpolator(up: int, taps_per_phase: int = TP_TAPS_PER_PHASE) -> F64:
    """Polyphase interpolation filter for true-peak metering, shape ``(up - 1, taps)``.

    Row ``p - 1`` interpolates the point ``p / up`` of the way from ``x[i]`` to
    ``x[i + 1]`` from ``x[i - taps/2 + 1 … i + taps/2]``: a Kaiser-windowed sinc
    (BS.1770-4 Annex 2 gives a 12-tap-per-phase example at ×4; here 16 taps, flat
    to ±0.01 dB up to 0.35·sr and −0.2 dB at 0.4·sr), each phase normalised to unity
    gain at DC. Phase 0, the samples themselves, is the identity and is not stored,
    so the true peak is never below the sample peak.
    """
    half = taps_per_phase // 2
    rows = []
    for p in range(1, up):
        # distance from each tap's sample to the interpolated point, in samples
        t = p / up - (np.arange(2 * half) - (half - 1))
        window = np.i0(TP_KAISER_BETA * np.sqrt(np.clip(1.0 - (t / half) ** 2, 0.0, None)))
        h = np.sinc(t) * window / np.i0(TP_KAISER_BETA)
        rows.append(h / h.sum())
    return np.array(rows, dtype=np.float64).reshape(max(0, up - 1), 2 * half)


def _interpolation_bound(H: F64, up: int) -> tuple[float, float]:
    """Constants ``(R, Q)`` of the bound ``|y_p[i]| <= (1 + R)·max|x| + Q·max|Δ²x|``.

    Each phase ``h_p`` is split into linear interpolation ``ℓ_p`` (weights ``1 − p/up``
    and ``p/up`` on ``x[i]``, ``x[i + 1]``) plus a remainder ``g_p = h_p − ℓ_p``, and
    ``g_p`` is divided by the second difference ``[1, −2, 1]``:
    ``g_p = q_p * [1, −2, 1] + r_p`` (``r_p`` non-zero on its last two taps only).
    Then ``y_p[i] = ℓ_p(x) + Σ_m q_p[m] Δ²x[i−taps/2+1+m] + Σ_k r_p[k] x[…]`` and the
    triangle inequality gives the bound with ``Q = max_p ||q_p||_1``,
    ``R = max_p ||r_p||_1``. Band-limited (smooth) audio has a small ``Δ²x``, so the
    bound stays close to the sample peak.
    """
    taps = H.shape[1]
    half = taps // 2
    R = Q = 0.0
    for p in range(1, up):
        g = H[p - 1].copy()
        g[half - 1] -= 1.0 - p / up
        g[half] -= p / up
        q = np.zeros(taps - 2)
        for k in range(taps - 2):
            q[k] = g[k] + (2.0 * q[k - 1] if k >= 1 else 0.0) - (q[k - 2] if k >= 2 else 0.0)
        r = g - np.convolve(q, [1.0, -2.0, 1.0])
        R = max(R, float(np.abs(r).sum()))
        Q = max(Q, float(np.abs(q).sum()))
    return R, Q


def _chunk_max(a: np.ndarray, n_chunks: int) -> np.ndarray:
    """Max of ``a`` over chunk ``c`` and the next one: covers ``a[c·L : (c + 2)·L]``."""
    padded = np.zeros((n_chunks + 1) * TP_CHUNK, dtype=a.dtype)
    m = min(a.size, padded.size)
    padded[:m] = a[:m]
    cm = padded.reshape(n_chunks + 1, TP_CHUNK).max(axis=1)
    return np.maximum(cm[:-1], cm[1:])


class TruePeak:
    """Streaming true-peak meter, ITU-R BS.1770-4 Annex 2.

    Parameters
    ----------
    sr:
        sample rate in Hz: ×4 oversampling below 96 kHz, ×2 below 192 kHz, none above
        (:func:`oversampling_factor`).
    channels:
        number of channels; the peak is the largest over all of them.

    Call it on float32 ``(channels, n)`` blocks. :attr:`peak` is the linear peak of
    every interpolated point computed so far; :meth:`peak_dbtp` also takes the last
    ``taps/2`` samples' points (as if the signal were followed by silence) and returns
    dBTP.
    State kept between blocks: the last ``taps − 1`` samples (the interpolator's
    history) and the running peak. The interpolated points between two samples are
    computed once both samples and the ``taps/2`` samples on each side have arrived,
    so any cut of a stream into blocks gives the same peak.

    Speed: oversampling everything would cost about 90 multiply-adds per sample and
    channel. A chunk of :data:`TP_CHUNK` intervals is interpolated only when the
    bound of :func:`_interpolation_bound`, ``(1 + R)·max|x| + Q·max|Δ²x|`` over the
    samples it reads, exceeds the running peak (which already includes every sample
    seen, since phase 0 is the samples); no other chunk can raise the peak. The
    bound is evaluated in float32 with a margin of ``1e-6·max|x|`` for its rounding.
    Interpolation itself is a float64 matrix product (blocks of 16 intervals
    against a banded Toeplitz matrix of the polyphase taps).
    """

    #: intervals per row of the Toeplitz product
    _ROW = 16

    def __init__(self, sr: int, channels: int) -> None:
        self.sr = _check_sr(sr)
        self.channels = _check_channels(channels)
        self.up = oversampling_factor(self.sr)
        self.H = true_peak_interpolator(self.up)
        taps = self.H.shape[1]
        self._R, self._Q = _interpolation_bound(self.H, self.up) if self.up > 1 else (0.0, 0.0)
        # banded Toeplitz: row window of _ROW + taps − 1 samples -> _ROW × (up − 1) values
        self._T = np.zeros((self._ROW + taps - 1, self._ROW * (self.up - 1)))
        for j in range(self._ROW):
            self._T[j : j + taps, j * (self.up - 1) : (j + 1) * (self.up - 1)] = self.H.T
        self.reset()

    def reset(self) -> None:
        """Forget the history and the peak."""
        self.peak = 0.0
        self._history = np.zeros((self.channels, self.H.shape[1] - 1), dtype=np.float32)

    def __repr__(self) -> str:
        return (
            f"TruePeak(sr={self.sr}, channels={self.channels}, oversampling={self.up}, "
            f"taps_per_phase={self.H.shape[1]}, peak_dbtp={self.peak_dbtp():.2f})"
        )

    def __call__(self, y: np.ndarray) -> None:
        """Take the next float32 ``(channels, n)`` block."""
        if not isinstance(y, np.ndarray) or y.ndim != 2 or y.shape[0] != self.channels:
            shape = getattr(y, "shape", type(y).__name__)
            raise AudioError(f"y must have shape ({self.channels}, n), got {shape}")
        n = y.shape[1]
        if n == 0:
            return
        block_peak = float(max(y.max(), -y.min()))
        if not math.isfinite(block_peak):
            raise AudioError("y has non-finite samples (NaN or inf)")
        self.peak = max(self.peak, block_peak)
        if self.up == 1:
            return
        ext = np.concatenate([self._history, y.astype(np.float32, copy=False)], axis=1)
        self.peak = self._scan(ext, self.peak)
        self._history = ext[:, n:].copy()

    def peak_dbtp(self) -> float:
        """The true peak so far in dBTP, with the last samples' intervals flushed."""
        peak = self.peak
        if self.up > 1 and peak > 0:
            half = self.H.shape[1] // 2
            ext = np.concatenate([self._history, np.zeros((self.channels, half), np.float32)], 1)
            peak = self._scan(ext, peak)
        return _amp_db(peak)

    def _scan(self, ext: np.ndarray, running: float) -> float:
        """Max of ``running`` and the interpolated values of the intervals of ``ext``.

        ``ext`` is float32 ``(channels, taps − 1 + n)``: the history and ``n`` new
        samples; interval ``k`` (``0 <= k < n``) is interpolated from
        ``ext[:, k : k + taps]``.
        """
        taps = self.H.shape[1]
        n = ext.shape[1] - taps + 1
        if n <= 0:
            return running
        n_chunks = -(-n // TP_CHUNK)
        x_max = _chunk_max(np.abs(ext).max(axis=0), n_chunks)
        d2 = ext[:, :-2] - 2.0 * ext[:, 1:-1] + ext[:, 2:]
        d2_max = _chunk_max(np.abs(d2).max(axis=0), n_chunks)
        bound = (1.0 + self._R) * x_max + self._Q * (d2_max + 1e-6 * x_max)
        candidates = np.flatnonzero(bound * (1.0 + 1e-9) > running)
        if candidates.size == 0:
            return running
        # rows of _ROW intervals, each reading _ROW + taps − 1 samples (a strided view)
        padded = np.zeros((self.channels, n_chunks * TP_CHUNK + taps - 1), np.float32)
        padded[:, : ext.shape[1]] = ext
        s_ch, s_t = padded.strides
        rows = np.lib.stride_tricks.as_strided(
            padded,
            shape=(self.channels, n_chunks, TP_CHUNK // self._ROW, self._ROW + taps - 1),
            strides=(s_ch, TP_CHUNK * s_t, self._ROW * s_t, s_t),
            writeable=False,
        )
        per_batch = max(1, TP_BATCH // TP_CHUNK)
        for start in range(0, candidates.size, per_batch):
            cand = candidates[start : start + per_batch]
            values = np.abs(rows[:, cand].astype(np.float64) @ self._T)
            if cand[-1] == n_chunks - 1 and n % TP_CHUNK:  # drop intervals past the end
                k = np.arange(TP_CHUNK * (self.up - 1)) // (self.up - 1)
                values[:, -1] *= (k < n % TP_CHUNK).reshape(values.shape[-2:])
            running = max(running, float(values.max()))
        return running


# ---------------------------------------------------------------------------
# the meter
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LoudnessResult:
    """What a loudness measurement found (BS.1770-4 / EBU R128 / Tech 3342).

    Attributes
    ----------
    integrated_lufs:
        gated integrated loudness (LUFS); ``-inf`` for silence or audio shorter
        than one 400 ms block.
    loudness_range_lu:
        EBU Tech 3342 loudness range (LU); ``0.0`` when no short-term value passes
        the gates (silence, or shorter than 3 s).
    true_peak_dbtp:
        BS.1770-4 Annex 2 true peak over all channels (dBTP); ``-inf`` for silence,
        NaN when the meter was made with ``true_peak=False``.
    sample_peak_dbfs:
        largest absolute sample (dBFS); ``-inf`` for silence.
    max_momentary_lufs, max_short_term_lufs:
        the largest 400 ms / 3 s loudness (LUFS); ``-inf`` for silence or audio
        shorter than the window.
    duration_s:
        length of the audio measured.
    """

    integrated_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    max_momentary_lufs: float
    max_short_term_lufs: float
    duration_s: float


def _loudness(z: F64) -> F64:
    """BS.1770-4 eq. 4: ``l = −0.691 + 10 log10(Σ_i G_i z_i)``, ``-inf`` for zero."""
    with np.errstate(divide="ignore"):
        return np.asarray(LOUDNESS_OFFSET_DB + 10.0 * np.log10(z), dtype=np.float64)


def _amp_db(amp: float) -> float:
    return 20.0 * math.log10(amp) if amp > 0 else -math.inf


class LoudnessMeter:
    """Streaming BS.1770-4 / EBU R128 loudness and true-peak meter.

    Parameters
    ----------
    sr:
        sample rate in Hz (``8000 <= sr <= 768000``).
    channels:
        1 (mono), 2 (stereo) or 6 (5.1 in WAV order L R C LFE Ls Rs); other counts
        need ``channel_weights``.
    true_peak:
        measure the true peak (BS.1770-4 Annex 2); without it only the sample peak.
    channel_weights:
        explicit weights ``G_i`` (one per channel, >= 0) for other layouts.

    Feed it with :meth:`process` and read :meth:`result`, :meth:`momentary_lufs` and
    :meth:`short_term_lufs` at any time (reading does not disturb the stream).

    State kept between blocks: the K-weighting filter memories, the weighted energy
    of the current partial 100 ms step, the true-peak stage (:class:`TruePeak`), the
    running sample peak, blocks shorter than :data:`MIN_BLOCK` samples (gathered
    until there are that many, to save per-call overhead; results do not change),
    and one float (the weighted energy) per completed 100 ms step.
    """

    def __init__(
        self,
        sr: int,
        channels: int,
        *,
        true_peak: bool = True,
        channel_weights: Sequence[float] | None = None,
    ) -> None:
        self.sr = _check_sr(sr)
        self.channels = _check_channels(channels)
        if channel_weights is None:
            G = channel_weights_for(self.channels)
        else:
            G = tuple(float(g) for g in channel_weights)
            if len(G) != self.channels or not all(math.isfinite(g) and g >= 0 for g in G):
                raise ParameterError(
                    "channel_weights",
                    channel_weights,
                    f"{self.channels} finite non-negative weights, one per channel",
                )
        self.G = np.array(G, dtype=np.float64)
        self.true_peak = bool(true_peak)
        self.k_weighting = KWeighting(self.sr, self.channels)
        self.true_peak_meter = TruePeak(self.sr, self.channels) if self.true_peak else None
        self.reset()

    def reset(self) -> None:
        """Start a new measurement."""
        self.k_weighting.reset()
        self._n_samples = 0
        self._step = 0  # index of the 100 ms step in progress
        self._step_energy = 0.0  # Σ_i G_i Σ_n y_i² of the step in progress
        self._energies = np.zeros(1024)  # completed steps, grown by doubling
        self._n_steps = 0
        self._sample_peak = 0.0
        self._pending: list[np.ndarray] = []
        self._pending_n = 0
        if self.true_peak_meter is not None:
            self.true_peak_meter.reset()

    def __repr__(self) -> str:
        return (
            f"LoudnessMeter(sr={self.sr}, channels={self.channels}, "
            f"true_peak={self.true_peak}, "
            f"duration_s={(self._n_samples + self._pending_n) / self.sr:.3f})"
        )

    # -- streaming ---------------------------------------------------------

    def _step_edge(self, k: int) -> int:
        """First sample of 100 ms step ``k`` (``floor(k · sr / 10)``)."""
        return k * self.sr // STEPS_PER_SECOND

    def process(self, y: np.ndarray) -> None:
        """Measure the next block ``y``, float32 ``(channels, n)`` (any ``n``, 0 included).

        Raises :class:`~susurrus.errors.AudioError` for a wrong type, dtype or shape,
        or non-finite samples (the meter's state is then unchanged).
        """
        if not isinstance(y, np.ndarray):
            raise AudioError(f"y must be a numpy array, got {type(y).__name__}")
        if y.dtype != np.float32:
            raise AudioError(f"y must be float32, got {y.dtype}")
        if y.ndim != 2 or y.shape[0] != self.channels:
            raise AudioError(f"y must have shape ({self.channels}, n), got {y.shape}")
        n = y.shape[1]
        if n == 0:
            return
        block_peak = float(max(y.max(), -y.min()))
        if not math.isfinite(block_peak):  # NaN propagates through max/min
            raise AudioError("y has non-finite samples (NaN or inf)")
        self._sample_peak = max(self._sample_peak, block_peak)
        if self._pending or n < MIN_BLOCK:
            # small blocks are gathered first: per-call overhead, not results, changes
            self._pending.append(y.copy())
            self._pending_n += n
            if self._pending_n >= MIN_BLOCK:
                self._flush()
            return
        self._ingest(y)

    def _flush(self) -> None:
        if self._pending:
            y = np.concatenate(self._pending, axis=1)
            self._pending.clear()
            self._pending_n = 0
            self._ingest(y)

    def _ingest(self, y: np.ndarray) -> None:
        n = y.shape[1]
        if self.true_peak_meter is not None:
            self.true_peak_meter(y)

        # K-weighting, then Σ_i G_i Σ_n y_i² per 100 ms step (BS.1770-4 eq. 1, 4)
        y_k = self.k_weighting(y)
        np.square(y_k, out=y_k)
        n0 = self._n_samples
        edges = [0]
        k = self._step + 1
        while (e := self._step_edge(k)) < n0 + n:
            edges.append(e - n0)
            k += 1
        z = self.G @ np.add.reduceat(y_k, edges, axis=1)  # per segment
        z[0] += self._step_energy
        if self._step_edge(k) == n0 + n:  # the block ends exactly on a step edge
            completed, self._step_energy = z, 0.0
            k += 1
        else:
            completed, self._step_energy = z[:-1], float(z[-1])
        self._append_steps(completed)
        self._step = k - 1
        self._n_samples = n0 + n

    def _append_steps(self, z: F64) -> None:
        need = self._n_steps + z.size
        if need > self._energies.size:
            grown = np.zeros(max(need, 2 * self._energies.size))
            grown[: self._n_steps] = self._energies[: self._n_steps]
            self._energies = grown
        self._energies[self._n_steps : need] = z
        self._n_steps = need

    # -- reading -----------------------------------------------------------

    def _window_mean_square(self, steps: int) -> tuple[F64, F64]:
        """Window end times (s) and mean weighted square ``Σ_i G_i z_i`` of every
        complete window of ``steps`` 100 ms steps on the 100 ms hop."""
        self._flush()
        n_windows = self._n_steps - steps + 1
        if n_windows <= 0:
            return np.zeros(0), np.zeros(0)
        energies = self._energies[: self._n_steps]
        sums = sliding_window_view(energies, steps).sum(axis=1)  # exact per window
        k = np.arange(self._n_steps + 1, dtype=np.int64)
        edges = k * self.sr // STEPS_PER_SECOND
        counts = edges[steps:] - edges[:n_windows]
        return edges[steps:] / self.sr, sums / counts

    def momentary_lufs(self) -> tuple[F64, F64]:
        """Momentary loudness (400 ms window, EBU Tech 3341) every 100 ms.

        Returns ``(times_s, values)``: each window's end time and its loudness in LUFS
        (``-inf`` for digital silence).
        """
        times_s, z = self._window_mean_square(MOMENTARY_STEPS)
        return times_s, _loudness(z)

    def short_term_lufs(self) -> tuple[F64, F64]:
        """Short-term loudness (3 s window, EBU Tech 3341) every 100 ms, as ``(times_s, values)``."""
        times_s, z = self._window_mean_square(SHORT_TERM_STEPS)
        return times_s, _loudness(z)

    def integrated_lufs(self) -> float:
        """Gated integrated loudness, BS.1770-4 eq. 5–7 (``-inf`` if nothing passes)."""
        _, z_j = self._window_mean_square(MOMENTARY_STEPS)
        return gated_integrated_lufs(z_j)

    def result(self) -> LoudnessResult:
        """Everything measured so far (the stream can go on afterwards)."""
        self._flush()
        _, z_m = self._window_mean_square(MOMENTARY_STEPS)
        _, z_s = self._window_mean_square(SHORT_TERM_STEPS)
        l_m, l_s = _loudness(z_m), _loudness(z_s)
        tp = math.nan if self.true_peak_meter is None else self.true_peak_meter.peak_dbtp()
        return LoudnessResult(
            integrated_lufs=gated_integrated_lufs(z_m),
            loudness_range_lu=_loudness_range(z_s),
            true_peak_dbtp=tp,
            sample_peak_dbfs=_amp_db(self._sample_peak),
            max_momentary_lufs=float(l_m.max()) if l_m.size else -math.inf,
            max_short_term_lufs=float(l_s.max()) if l_s.size else -math.inf,
            duration_s=self._n_samples / self.sr,
        )


def gated_integrated_lufs(z_j: F64) -> float:
    """BS.1770-4 eq. 5–7 on the 400 ms block mean squares ``z_j`` (channel-weighted)."""
    l_j = _loudness(z_j)
    J_a = l_j > ABSOLUTE_GATE_LUFS  # absolute gate Γ_a
    if not J_a.any():
        return -math.inf
    Gamma_r = float(_loudness(np.array([z_j[J_a].mean()]))[0]) + RELATIVE_GATE_LU  # eq. 6
    J_g = J_a & (l_j > Gamma_r)
    return float(_loudness(np.array([z_j[J_g].mean()]))[0])  # eq. 7


def _loudness_range(z_s: F64) -> float:
    """EBU Tech 3342 loudness range from the short-term mean squares ``z_s``."""
    l_s = _loudness(z_s)
    absgated = l_s > ABSOLUTE_GATE_LUFS
    if not absgated.any():
        return 0.0
    Gamma_r = float(_loudness(np.array([z_s[absgated].mean()]))[0]) + LRA_RELATIVE_GATE_LU
    relgated = np.sort(l_s[absgated & (l_s > Gamma_r)])
    n = relgated.size
    # nearest rank, rounding half up as MATLAB's round() in the Tech 3342 reference code
    low = relgated[int(math.floor((n - 1) * LRA_LOW_PERCENTILE / 100 + 0.5))]
    high = relgated[int(math.floor((n - 1) * LRA_HIGH_PERCENTILE / 100 + 0.5))]
    return float(high - low)


# ---------------------------------------------------------------------------
# convenience
# ---------------------------------------------------------------------------


def _check_audio(y: Any) -> np.ndarray:
    if not isinstance(y, np.ndarray):
        raise AudioError(f"y must be a numpy array, got {type(y).__name__}")
    if y.ndim != 2:
        raise AudioError(f"y must have shape (channels, samples), got shape {y.shape}")
    return y


def measure(y: np.ndarray, sr: int, *, true_peak: bool = True) -> LoudnessResult:
    """Measure a whole float32 ``(channels, samples)`` signal (see :class:`LoudnessMeter`)."""
    y = _check_audio(y)
    meter = LoudnessMeter(sr, y.shape[0], true_peak=true_peak)
    for start in range(0, y.shape[1], 1 << 18):
        meter.process(y[:, start : start + (1 << 18)])
    return meter.result()


def integrated_loudness(y: np.ndarray, sr: int) -> float:
    """Gated integrated loudness (LUFS) of a float32 ``(channels, samples)`` signal."""
    y = _check_audio(y)
    meter = LoudnessMeter(sr, y.shape[0], true_peak=False)
    for start in range(0, y.shape[1], 1 << 18):
        meter.process(y[:, start : start + (1 << 18)])
    return meter.integrated_lufs()


def true_peak_dbtp(y: np.ndarray, sr: int) -> float:
    """BS.1770-4 Annex 2 true peak (dBTP) of a float32 ``(channels, samples)`` signal.

    Works for any channel count (the channel weights play no part in the peak).
    """
    y = _check_audio(y)
    meter = LoudnessMeter(sr, y.shape[0], channel_weights=[1.0] * max(1, y.shape[0]))
    for start in range(0, y.shape[1], 1 << 18):
        meter.process(y[:, start : start + (1 << 18)])
    return meter.result().true_peak_dbtp


def measure_file(
    path: str | os.PathLike[str], *, block_size: int = 1 << 17, true_peak: bool = True
) -> LoudnessResult:
    """Measure an audio file in one streaming pass (constant memory).

    Decoding (``susurrus.audio.stream``) runs in a background thread, one block
    ahead of the meter, so that decoding and measuring overlap on two cores.
    """
    from . import audio

    file_info = audio.info(path)
    meter = LoudnessMeter(file_info.sr, file_info.channels, true_peak=true_peak)
    for block in _prefetch(audio.stream(path, block_size=block_size)):
        meter.process(block)
    return meter.result()


def _prefetch(blocks: Iterator[np.ndarray], depth: int = 2) -> Iterator[np.ndarray]:
    """Iterate ``blocks`` in a background thread, ``depth`` items ahead."""
    import queue
    import threading

    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for b in blocks:
                if stop.is_set():
                    return
                q.put(("block", b))
            q.put(("end", None))
        except BaseException as exc:  # handed to the consumer
            q.put(("error", exc))

    thread = threading.Thread(target=work, name="loudness-decode", daemon=True)
    thread.start()
    try:
        while True:
            kind, item = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.01)
