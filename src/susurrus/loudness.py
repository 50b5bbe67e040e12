"""The one streaming loudness meter: ITU-R BS.1770-4 / EBU R128 / EBU Tech 3342.

Everything here streams: a :class:`LoudnessMeter` takes ``(channels, n)`` blocks of any
size and keeps constant state (filter memories, a partial 100 ms sum, a short
true-peak history) plus one float per 100 ms of audio (about 2.3 MB for 8 hours),
from which every figure is derived on demand. Feeding the same signal in blocks of
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
import scipy.signal as sps
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

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
    if isinstance(sr, bool) or not isinstance(sr, int | np.integer) or not (
        MIN_SR <= int(sr) <= MAX_SR
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
    b_shelf = [(V_h + V_b * K / Q + K * K) / a0, 2.0 * (K * K - V_h) / a0,
               (V_h - V_b * K / Q + K * K) / a0]
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
    (the interpolation filter of BS.1770-4 Annex 2, which also has 12 taps per phase
    at ×4; here with 16), each phase normalised to unity gain at DC. Phase 0, the
    samples themselves, is the identity and is not stored, so the true peak is never
    below the sample peak.

    The meter relies on this bound (triangle inequality): every interpolated value
    satisfies ``|y_p[i]| <= ||h_p||_1 · max |x[i - taps/2 + 1 … i + taps/2]|``, so a
    stretch of signal whose sample peak times ``max_p ||h_p||_1`` (about 1.5) does
    not exceed the running true peak cannot raise it, and is not oversampled.
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


def _scan_true_peak(ext: F64, running: float, H: F64, l1_bound: float) -> float:
    """Max of ``running`` and the interpolated values of the intervals of ``ext``.

    ``ext`` is ``(channels, taps - 1 + n)``: a history of ``taps - 1`` samples and ``n``
    new ones; interval ``k`` (0 <= k < n) is interpolated from ``ext[:, k : k + taps]``.
    Only chunks whose bound (see :func:`true_peak_interpolator`) exceeds ``running``
    are computed.
    """
    taps = H.shape[1]
    n = ext.shape[1] - taps + 1
    if n <= 0 or H.shape[0] == 0:
        return running
    a = np.abs(ext).max(axis=0)
    n_chunks = -(-n // TP_CHUNK)
    padded = np.zeros((n_chunks + 1) * TP_CHUNK)
    padded[: a.size] = a
    chunk_max = padded.reshape(n_chunks + 1, TP_CHUNK).max(axis=1)
    # interval chunk c reads ext[c*CHUNK : (c+1)*CHUNK + taps - 1] (taps - 1 <= CHUNK)
    bound = np.maximum(chunk_max[:-1], chunk_max[1:]) * l1_bound
    candidates = np.flatnonzero(bound > running)
    if candidates.size == 0:
        return running
    idx = (candidates[:, None] * TP_CHUNK + np.arange(TP_CHUNK)).ravel()
    idx = idx[idx < n]
    windows = sliding_window_view(ext, taps, axis=-1)  # (channels, n, taps), a view
    for start in range(0, idx.size, TP_BATCH):
        values = windows[:, idx[start : start + TP_BATCH]] @ H.T
        running = max(running, float(np.abs(values).max()))
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
    of the current partial 100 ms step, the last ``taps - 1`` samples for the true
    peak interpolator, the running peaks, and one float (the weighted energy) per
    completed 100 ms step.
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
                    "channel_weights", channel_weights,
                    f"{self.channels} finite non-negative weights, one per channel",
                )
        self.G = np.array(G, dtype=np.float64)
        self.true_peak = bool(true_peak)
        self.k_weighting = KWeighting(self.sr, self.channels)
        self.up = oversampling_factor(self.sr) if self.true_peak else 1
        self._H = true_peak_interpolator(self.up)
        self._l1_bound = float(np.abs(self._H).sum(axis=1).max()) * (1.0 + 1e-9) if self.up > 1 else 1.0
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
        self._true_peak = 0.0
        self._tp_history = np.zeros((self.channels, self._H.shape[1] - 1 if self.up > 1 else 0))

    def __repr__(self) -> str:
        return (
            f"LoudnessMeter(sr={self.sr}, channels={self.channels}, "
            f"true_peak={self.true_peak}, oversampling={self.up}, "
            f"duration_s={self._n_samples / self.sr:.3f})"
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

        # sample peak, and true peak (never below the sample peak: phase 0 is the samples)
        self._sample_peak = max(self._sample_peak, block_peak)
        if self.up > 1:
            ext = np.concatenate([self._tp_history, y], axis=1, dtype=np.float64)
            self._true_peak = _scan_true_peak(
                ext, max(self._true_peak, block_peak), self._H, self._l1_bound
            )
            self._tp_history = ext[:, n:].copy()
        else:
            self._true_peak = self._sample_peak

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
        n_windows = self._n_steps - steps + 1
        if n_windows <= 0:
            return np.zeros(0), np.zeros(0)
        energies = self._energies[: self._n_steps]
        sums = sliding_window_view(energies, steps).sum(axis=1)  # exact per window
        k = np.arange(self._n_steps + 1, dtype=np.int64)
        edges = k * self.sr // STEPS_PER_SECOND
        counts = edges[steps:] - edges[: n_windows]
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
        return _integrated(z_j)

    def result(self) -> LoudnessResult:
        """Everything measured so far (the stream can go on afterwards)."""
        _, z_m = self._window_mean_square(MOMENTARY_STEPS)
        _, z_s = self._window_mean_square(SHORT_TERM_STEPS)
        l_m, l_s = _loudness(z_m), _loudness(z_s)
        if not self.true_peak:
            tp = math.nan
        elif self.up > 1 and self._n_samples:
            # the last intervals need samples after the end: flush with zeros, on a copy
            half = self._H.shape[1] // 2
            ext = np.concatenate([self._tp_history, np.zeros((self.channels, half))], axis=1)
            tp = _amp_db(_scan_true_peak(ext, self._true_peak, self._H, self._l1_bound))
        else:
            tp = _amp_db(self._true_peak)
        return LoudnessResult(
            integrated_lufs=_integrated(z_m),
            loudness_range_lu=_loudness_range(z_s),
            true_peak_dbtp=tp,
            sample_peak_dbfs=_amp_db(self._sample_peak),
            max_momentary_lufs=float(l_m.max()) if l_m.size else -math.inf,
            max_short_term_lufs=float(l_s.max()) if l_s.size else -math.inf,
            duration_s=self._n_samples / self.sr,
        )


def _integrated(z_j: F64) -> float:
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
