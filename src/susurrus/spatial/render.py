"""The streaming spatial stage: one mono layer in, two ears out.

Binaural mode convolves the layer with the interpolated HRIR of its current
direction (see :mod:`susurrus.spatial.hrtf`) by FFT convolution in hops of
H ≈ 10 ms (FFT size 2H; the HRIRs are shorter than H). A static source uses
overlap-save with its one filter, hop by hop (its 2H-point circular response:
the filters ring round the 2H circle, so this is not a plain linear FIR). Longer
transforms over chunks of many hops are not used: with one hop of latency a hop's
output is due as soon as its input is complete, so a chunked method would compute
a hop differently depending on the caller's blocks. For a moving source the
filter of every hop boundary is computed from the motion path (in fixed groups of
boundaries; where the source moves slowly, every other boundary's is the mean of
its neighbours'), and each input sample is filtered by a linear cross-fade of the
filters at the start and at the end of its hop: hop k's input is split into
``x·(1-w)`` and ``x·w`` (w rising from 0 to 1 across the hop), each zero-padded to 2H, and by
linearity ``X_a·F_k + X_b·F_k+1`` needs one inverse FFT per ear; the hops'
outputs are overlap-added. The filter therefore changes continuously, sample
by sample (following the source's emission time), so a moving source has no
clicks and no zipper noise.

Pan mode (speakers, or a layer that opts out of binaural rendering) is a
constant-power pan from the lateral component of the direction, ``sin(az)·cos(el)``,
with gains interpolated linearly within each hop.

Level convention (both modes): a source straight ahead at 1 m comes out with
about the loudness of the mono input played on both ears (each ear gets the
input at unit power for pink noise), so a layer's gain means the same in
either mode. Distance: the level follows 1/r relative to 1 m (r clamped at
0.1 m, i.e. at most +20 dB). Closer than 0.5 m the binaural mode adds
near-field cues: the interaural level difference grows at low frequencies as the
source gets nearer one ear (the ear-to-source distances differ; Brungart &
Rabinowitz 1999, JASA 106(3)), and a bass boost like a directional
microphone's proximity effect, ``|1 + 1/(2jkr)|`` relative to 0.5 m (capped at
+9 dB). Beyond 1 m, air absorption is approximated as ``1.5e-9 f² dB/m`` (close
to ISO 9613-1 at 20 °C, 50 % RH).

State kept between blocks: the unprocessed tail of the input (less than one
hop), the previous hop of input (static overlap-save) or the overlap-add tail
(moving), the output queue, the hop counter (the motion clock), and the current
groups of boundary filters. The output
is delayed by exactly one hop (:attr:`Spatializer.latency_samples`) in both
modes; because processing always runs on whole hops, the output is the same,
bit for bit, however the input is cut into blocks.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..dsp import RealFFT
from ..errors import AudioError, ParameterError, check_range
from .hrtf import HRTFTable, build_table, hop_for
from .motion import MOTIONS, PERIOD_RANGE, MotionPath, check_position, motion_path
from .sofa import HRIRSet, load_hrir, unit_vectors

MODES: tuple[str, ...] = ("binaural", "pan")
#: half the distance between the ears (KEMAR's receivers sit at ±0.09 m)
EAR_OFFSET_M = 0.09
#: distances below this get the near-field cues (binaural mode)
NEAR_FIELD_M = 0.5
#: the distance gain is clamped here (at most +20 dB re 1 m)
MIN_GAIN_DISTANCE_M = 0.1
SPEED_OF_SOUND_M_S = 343.0
#: hops rendered per vectorised batch (bounds the working memory)
_BATCH_HOPS = 16
#: hop boundaries whose filters are computed together (even)
_GROUP = 256
#: a source that turns by at most this much between hop boundaries k-1 and k+1 (and
#: changes its distance by at most ``_SLOW_LN_R`` in log) gets, at boundary k, the mean
#: of the filters there instead of its own: half the filter work for slow motion
#: (a 24 s sweep turns 0.5° at its fastest). At 1° the interaural delays of the two
#: filters differ by at most ~0.35 samples, so their mean loses at most ~0.5 dB at
#: 16 kHz, at the one boundary, and nothing below a few kHz.
_SLOW_DEG = 1.0
_SLOW_COS = float(np.cos(np.deg2rad(_SLOW_DEG)))
_SLOW_LN_R = 0.01


def distance_gain(distance_m: np.ndarray) -> np.ndarray:
    """Amplitude factor 1/r relative to 1 m, with r clamped at 0.1 m."""
    return 1.0 / np.maximum(np.asarray(distance_m, dtype=np.float64), MIN_GAIN_DISTANCE_M)


def pan_gains(azimuth_deg: np.ndarray, elevation_deg: np.ndarray) -> np.ndarray:
    """Constant-power pan gains (K, 2) [left, right], √2 each straight ahead.

    The pan position is the lateral component ``sin(az)·cos(el)`` (SOFA
    convention: +1 is the left ear). Power ``gL² + gR² = 2`` everywhere, matching
    the binaural level convention (mono input at unit power on each ear ahead).
    """
    lat = np.sin(np.deg2rad(azimuth_deg)) * np.cos(np.deg2rad(elevation_deg))
    theta = 0.25 * np.pi * (1.0 - lat)  # 0 = hard left, π/2 = hard right
    return np.sqrt(2.0) * np.stack([np.cos(theta), np.sin(theta)], axis=-1)


def near_far_gains(
    freqs_hz: np.ndarray,
    azimuth_deg: np.ndarray,
    elevation_deg: np.ndarray,
    distance_m: np.ndarray,
) -> np.ndarray:
    """Per-ear spectral gains (K, 2, F) for near-field cues and air absorption.

    Unity for 0.5 m <= r <= 1 m. The 1/r level law is not included (see
    :func:`distance_gain`).
    """
    f = np.asarray(freqs_hz, dtype=np.float64)[None, :]
    r = np.maximum(np.asarray(distance_m, dtype=np.float64), MIN_GAIN_DISTANCE_M)
    k = len(r)
    out = np.ones((k, 2, f.shape[1]))
    # near field: parallax ILD at low frequencies and proximity bass boost, re 0.5 m
    near = r < NEAR_FIELD_M
    if np.any(near):
        az = np.deg2rad(np.asarray(azimuth_deg, dtype=np.float64))
        el = np.deg2rad(np.asarray(elevation_deg, dtype=np.float64))
        lat = np.sin(az) * np.cos(el)  # + towards the left ear

        def ear_ratio(rr: np.ndarray, side: float) -> np.ndarray:
            # r / |source - ear|: the level of that ear relative to the head centre
            d_e = np.sqrt(rr**2 + EAR_OFFSET_M**2 - 2.0 * side * rr * EAR_OFFSET_M * lat)
            return rr / np.maximum(d_e, 0.01)

        lf = 1.0 / (1.0 + (f / 1000.0) ** 2)  # low-frequency weight
        rn = np.where(near, r, NEAR_FIELD_M)
        for e, side in enumerate((1.0, -1.0)):
            extra = ear_ratio(rn, side) / ear_ratio(np.full(k, NEAR_FIELD_M), side)
            extra = np.clip(extra, 0.5, 2.0)[:, None]
            out[:, e, :] *= 1.0 + (extra - 1.0) * lf
        kk = 2.0 * np.pi * np.maximum(f, 1.0) / SPEED_OF_SOUND_M_S
        boost = np.sqrt(1.0 + 1.0 / (2.0 * kk * rn[:, None]) ** 2)
        boost /= np.sqrt(1.0 + 1.0 / (2.0 * kk * NEAR_FIELD_M) ** 2)
        out *= np.minimum(boost, 10 ** (9 / 20))[:, None, :]
    far = r > 1.0
    if np.any(far):
        loss_db = 1.5e-9 * f**2 * np.maximum(r - 1.0, 0.0)[:, None]
        out *= (10.0 ** (-loss_db / 20.0))[:, None, :]
    return out


class Spatializer:
    """A streaming spatial stage: ``(1, n)`` mono in, ``(2, n)`` [left, right] out.

    Build it with :func:`make_spatializer`. Call it on consecutive blocks of any
    size; :meth:`reset` starts the motion clock and all buffers again.

    State kept between blocks: the input not yet filling a hop, the previous
    hop of input (static) or the overlap-add tail (moving), the output queue
    (the one-hop latency), the hop counter and the current boundary filters.
    """

    def __init__(
        self,
        *,
        sr: int,
        path: MotionPath,
        mode: str,
        table: HRTFTable | None,
        static: bool,
        params: dict[str, Any],
        hrir_source: str | None,
    ) -> None:
        self.sr = int(sr)
        self.mode = mode
        self.path = path
        self.static = static
        self.params = params
        self.hrir_source = hrir_source
        self._table = table
        self.hop = table.hop if table is not None else hop_for(self.sr)
        self._freqs = np.fft.rfftfreq(2 * self.hop, 1.0 / self.sr)
        self._w = (np.arange(self.hop) / self.hop).astype(np.float32)
        #: input weights of the filters at a hop's start and at its end, (2, H)
        self._fade = np.stack([1.0 - self._w, self._w])
        self._fade_scaled = (self._fade / (2 * self.hop)).astype(np.float32)
        self._ffts: dict[tuple[int, int], RealFFT] = {}  # planned transforms by (rows in, rows out)
        self._static_filter: np.ndarray | None = None
        self.reset()

    @property
    def latency_samples(self) -> int:
        """Output delay in samples (one hop), the same in both modes."""
        return self.hop

    def reset(self) -> None:
        """Forget all state: the next sample is t = 0 of the motion path."""
        h = self.hop
        self._inbuf = np.zeros(0, dtype=np.float32)
        self._prev = np.zeros(h, dtype=np.float32)  # static: the previous input hop
        self._tail = np.zeros((2, h), dtype=np.float32)  # moving: the overlap-add tail
        self._out = np.zeros((2, h), dtype=np.float32)
        self._k = 0  # index of the next hop to render
        self._groups: dict[int, np.ndarray] = {}

    # -- per-boundary state -----------------------------------------------------------

    def _positions(self, ks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Source positions at hop boundaries ``ks`` (integer array)."""
        t = np.asarray(ks, dtype=np.float64) * (self.hop / self.sr)
        az, el, r = self.path(t)
        return (
            np.asarray(az, dtype=np.float64),
            np.asarray(el, dtype=np.float64),
            np.asarray(r, dtype=np.float64),
        )

    def _filters(self, ks: np.ndarray) -> np.ndarray:
        """Binaural filters (2, K, H+1), ear first, at hop boundaries ``ks``."""
        return self._filters_at(*self._positions(ks))

    def _filters_at(self, az: np.ndarray, el: np.ndarray, r: np.ndarray) -> np.ndarray:
        """Binaural filters (2, K, H+1), ear first, for K source positions."""
        assert self._table is not None
        spec = self._table.filters(az, el, distance_gain(r), ear_first=True)
        if np.any((r < NEAR_FIELD_M) | (r > 1.0)):
            gains = near_far_gains(self._freqs, az, el, r).astype(np.float32)
            spec *= gains.transpose(1, 0, 2)
        return spec

    def _group(self, g: int) -> np.ndarray:
        """Filters of boundaries g·G … g·G+G-1, computed in fixed groups (G = _GROUP).

        Fixed groups keep the vectorised work identical however the caller cuts
        its blocks, and spread the per-call overhead over many hops. The even
        boundaries' filters are computed; an odd boundary's is the mean of its two
        neighbours' where the source moves slowly there (see :data:`_SLOW_DEG`), so
        that the filter goes linearly from one even boundary to the next over two
        hops, and computed too where it moves faster.
        """
        hit = self._groups.get(g)
        if hit is None:
            ks = g * _GROUP + np.arange(_GROUP + 1)  # and the next group's first boundary
            az, el, r = self._positions(ks)
            even = self._filters_at(az[::2], el[::2], r[::2])  # (2, G/2 + 1, H+1)
            hit = np.empty((2, _GROUP, even.shape[2]), dtype=even.dtype)
            hit[:, 0::2] = even[:, :-1]
            mid = hit[:, 1::2]
            np.add(even[:, :-1], even[:, 1:], out=mid)
            mid *= np.float32(0.5)
            u = unit_vectors(az[::2], el[::2])
            turn = np.einsum("ij,ij->i", u[:-1], u[1:])  # cosine of the angle k-1 → k+1
            ln_r = np.log(r[::2])
            fast = np.flatnonzero((turn < _SLOW_COS) | (np.abs(np.diff(ln_r)) > _SLOW_LN_R))
            if len(fast):
                odd = 2 * fast + 1
                mid[:, fast] = self._filters_at(az[odd], el[odd], r[odd])
            if len(self._groups) >= 2:
                self._groups.pop(min(self._groups))
            self._groups[g] = hit
        return hit

    def _boundary_filters(self, k0: int, count: int) -> np.ndarray:
        parts = []
        k, end = k0, k0 + count
        while k < end:
            g, off = divmod(k, _GROUP)
            take = min(_GROUP - off, end - k)
            parts.append(self._group(g)[:, off : off + take])
            k += take
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    # -- rendering ------------------------------------------------------------------

    def _fft(self, rows_in: int, rows_out: int) -> RealFFT:
        """The planned 2H-point transforms of a batch (made once per batch shape)."""
        fft = self._ffts.get((rows_in, rows_out))
        if fft is None:
            fft = self._ffts[rows_in, rows_out] = RealFFT(2 * self.hop, rows_in=rows_in, rows_out=rows_out)
        return fft

    def _render_static(self, x: np.ndarray, n_hops: int, dest: np.ndarray) -> None:
        """Overlap-save with the one fixed filter into ``dest`` (2, K, H).

        Hop k is the second half of the 2H-point circular convolution of
        ``[hop k-1, hop k]`` with the filter. The rows are independent transforms, so
        the result does not depend on how many hops a batch holds. The FFTs are most
        of its time (planned FFTW transforms, see :class:`~susurrus.dsp.RealFFT`);
        measured alternatives were no faster (a strided view instead of the segment
        copies, one complex inverse FFT for both ears).
        """
        h = self.hop
        segs = np.empty((n_hops, 2 * h), dtype=np.float32)
        xh = x.reshape(n_hops, h)
        segs[0, :h] = self._prev
        segs[1:, :h] = xh[:-1]
        segs[:, h:] = xh
        fft = self._fft(n_hops, 2 * n_hops)
        spec_x = fft.forward(segs)  # (K, H+1) complex64
        self._prev = x[-h:].copy()
        if self._static_filter is None:
            # the inverse transform is unscaled: 1/2H (a power of two, so exact) goes here
            self._static_filter = self._filters(np.zeros(1, dtype=np.int64))[:, 0] / np.float32(2 * h)
        y = fft.inverse_product(self._static_filter[:, None, :], spec_x[None]).reshape(2, n_hops, 2 * h)
        dest[...] = y[..., h:]  # (2, K, H)

    def _render_moving(self, x: np.ndarray, k0: int, n_hops: int, dest: np.ndarray) -> None:
        """Overlap-add of input hops cross-faded between boundary filters, into ``dest``.

        Hop k's input is split into ``x·(1-w)`` and ``x·w`` (w rising 0 → 1 across
        the hop), zero-padded to 2H and filtered by the boundary filters k and k+1;
        by linearity the two products are summed before one inverse FFT per ear.
        """
        h = self.hop
        fft = self._fft(2 * n_hops, 2 * n_hops)
        # [x·(1-w), x·w] / 2H (the inverse transform is unscaled; a power of two, so exact)
        spec = fft.forward_product(x.reshape(1, n_hops, h), self._fade_scaled[:, None, :])
        spec = spec.reshape(2, n_hops, h + 1)  # zero-padded to 2H: (2, K, H+1)
        filt = self._boundary_filters(k0, n_hops + 1)  # (2, K+1, H+1)
        ys = np.multiply(spec[0], filt[:, :-1])  # (2, K, H+1)
        ys += np.multiply(spec[1], filt[:, 1:])
        y = fft.inverse(ys.reshape(2 * n_hops, h + 1)).reshape(2, n_hops, 2 * h)
        np.add(y[:, 0, :h], self._tail, out=dest[:, 0])
        np.add(y[:, 1:, :h], y[:, :-1, h:], out=dest[:, 1:])
        self._tail = y[:, -1, h:].copy()

    def _silent_batch(self, n_hops: int, dest: np.ndarray) -> bool:
        """A batch of silent input without the transforms, when the result is known.

        Zeros in give exactly zeros out of the transforms, so what remains is the
        state: a moving source's overlap-add tail lands on the first hop and the
        new tail is zero; a static source's previous hop must itself be silent (its
        overlap-save segment spans it). The same samples as rendering the batch, for
        a fraction of the work (an intermittent layer is silent much of the time).
        False, with nothing done, when the batch must be rendered.
        """
        h = self.hop
        if self.static:
            if self._prev.any():
                return False
            dest[...] = 0.0
            return True
        dest[:, 0] = self._tail
        dest[:, 1:] = 0.0
        self._tail = np.zeros((2, h), dtype=np.float32)
        return True

    def _render_pan(self, x: np.ndarray, k0: int, n_hops: int, dest: np.ndarray) -> None:
        h = self.hop
        az, el, r = self._positions(k0 + np.arange(n_hops + 1))
        g = (pan_gains(az, el) * distance_gain(r)[:, None]).astype(np.float32)  # (K+1, 2)
        g0, g1 = g[:-1].T[:, :, None], g[1:].T[:, :, None]  # (2, K, 1)
        np.multiply(g1 - g0, self._w, out=dest)  # (2, K, H) gain ramps
        dest += g0
        dest *= x.reshape(1, n_hops, h)

    def __call__(self, y: np.ndarray) -> np.ndarray:
        """Spatialise the next block: ``y`` float32 (1, n) → float32 (2, n)."""
        if not isinstance(y, np.ndarray) or y.ndim != 2 or y.shape[0] != 1:
            shape = getattr(y, "shape", type(y).__name__)
            raise AudioError(f"y must be mono audio of shape (1, samples), got {shape}")
        if y.dtype.kind != "f":
            raise AudioError(f"y must be float32, got {y.dtype}")
        x = np.asarray(y[0], dtype=np.float32)
        # a finite sum of squares proves every sample finite (the exact test otherwise)
        if not np.isfinite(np.dot(x, x)) and not np.all(np.isfinite(x)):
            raise AudioError("y has non-finite samples (NaN or inf)")
        n = len(x)
        h = self.hop
        buf = np.concatenate([self._inbuf, x]) if len(self._inbuf) else x
        n_hops = len(buf) // h
        q = self._out.shape[1]
        out = np.empty((2, q + n_hops * h), dtype=np.float32)
        out[:, :q] = self._out
        done = 0
        while done < n_hops:
            kb = min(_BATCH_HOPS, n_hops - done)
            chunk = buf[done * h : (done + kb) * h]
            dest = out[:, q + done * h : q + (done + kb) * h].reshape(2, kb, h)
            if self.mode != "binaural":
                self._render_pan(chunk, self._k, kb, dest)
            elif not chunk.any() and self._silent_batch(kb, dest):
                pass
            elif self.static:
                self._render_static(chunk, kb, dest)
            else:
                self._render_moving(chunk, self._k, kb, dest)
            self._k += kb
            done += kb
        self._inbuf = buf[n_hops * h :].copy()
        self._out = out[:, n:].copy()
        return np.ascontiguousarray(out[:, :n])

    def process(self, y: np.ndarray) -> np.ndarray:
        """Alias of ``__call__``."""
        return self(y)

    def __repr__(self) -> str:
        p = self.params
        parts = [
            f"mode={self.mode!r}",
            f"motion={p['motion']!r}",
            f"azimuth_deg={p['azimuth_deg']:g} deg",
            f"elevation_deg={p['elevation_deg']:g} deg",
            f"distance_m={p['distance_m']:g} m",
            f"period_s={p['period_s']:g} s",
            f"sr={self.sr} Hz",
        ]
        if self.hrir_source:
            parts.append(f"hrir={os.path.basename(self.hrir_source)!r}")
        return "Spatializer(" + ", ".join(parts) + ")"


def make_spatializer(
    *,
    sr: int,
    azimuth_deg: float = 0.0,
    elevation_deg: float = 0.0,
    distance_m: float = 1.0,
    motion: str = "static",
    period_s: float = 20.0,
    mode: str = "binaural",
    rng: np.random.Generator | None = None,
    hrir: HRIRSet | str | os.PathLike[str] | None = None,
) -> Spatializer:
    """Build the spatial stage of one layer.

    Parameters
    ----------
    sr : int
        Sample rate in Hz (8000 … 192000).
    azimuth_deg : float
        Direction in degrees, SOFA convention: 0 = straight ahead, +90 = the
        listener's left, -90 = right, ±180 = behind (counter-clockwise seen from
        above); -360 … 360. For moving sources: the start or centre.
    elevation_deg : float
        Degrees above the horizontal plane (negative: below), -90 … 90.
    distance_m : float
        Metres from the centre of the head, 0 < distance_m <= 100; 1 m is the
        reference level, closer is louder (1/r), below 0.5 m near-field cues apply.
    motion : str
        One of ``static``, ``sweep``, ``orbit``, ``drift``, ``approach``
        (see :mod:`susurrus.spatial.motion`).
    period_s : float
        Seconds for one full cycle of the motion (0.5 … 86400).
    mode : str
        ``binaural`` (headphones, HRIR rendering) or ``pan`` (speakers, or a layer
        that opts out: a constant-power pan that still honours motion and distance).
    rng : numpy.random.Generator, optional
        Required for ``motion="drift"``.
    hrir : HRIRSet or path, optional
        The HRIR set (binaural mode); default :func:`load_hrir` ``(sr=sr)``. Its
        rate must equal ``sr``.

    Raises
    ------
    ParameterError
        A parameter out of range (NaN positions, distance <= 0, unknown motion …).
    HRIRError
        No usable SOFA file (binaural mode).
    """
    if (
        not isinstance(sr, int | np.integer)
        or isinstance(sr, bool)
        or not 8000 <= int(sr) <= 192000
    ):
        raise ParameterError("sr", sr, "an integer sample rate from 8000 to 192000 Hz")
    if mode not in MODES:
        raise ParameterError("mode", mode, "one of " + ", ".join(MODES))
    if motion not in MOTIONS:
        raise ParameterError("motion", motion, "one of " + ", ".join(MOTIONS))
    az, el, dist = check_position(azimuth_deg, elevation_deg, distance_m)
    period = check_range("period_s", period_s, *PERIOD_RANGE, unit="s")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise ParameterError("rng", type(rng).__name__, "a numpy.random.Generator or None")
    path = motion_path(
        motion, azimuth_deg=az, elevation_deg=el, distance_m=dist, period_s=period, rng=rng
    )
    table = None
    source = None
    if mode == "binaural":
        if hrir is None or isinstance(hrir, str | os.PathLike):
            hrir = load_hrir(hrir, sr=int(sr))
        if not isinstance(hrir, HRIRSet):
            raise ParameterError(
                "hrir", type(hrir).__name__, "an HRIRSet, a SOFA file path or None"
            )
        if hrir.sr != int(sr):
            raise ParameterError(
                "hrir",
                f"HRIRSet at {hrir.sr} Hz",
                f"an HRIR set resampled to sr={int(sr)} Hz (load_hrir(sr=...))",
            )
        table = build_table(hrir)
        source = hrir.source
    params = {
        "motion": motion,
        "azimuth_deg": az,
        "elevation_deg": el,
        "distance_m": dist,
        "period_s": period,
    }
    return Spatializer(
        sr=int(sr),
        path=path,
        mode=mode,
        table=table,
        static=(motion == "static"),
        params=params,
        hrir_source=source,
    )
