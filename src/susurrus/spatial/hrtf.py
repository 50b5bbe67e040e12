"""HRIR preparation for smooth, interpolated binaural rendering.

Each measured HRIR is split into a pure delay per ear (its onset) and a
time-aligned filter (the HRIR advanced by that onset), the standard way to
interpolate HRIRs without comb filtering (e.g. Wenzel & Foster 1993;
Hartung, Braasch & Sterbing 1999). Directions between the measured ones are
interpolated with barycentric weights on the spherical triangulation of the
measurement grid (the convex hull of the unit direction vectors, as in VBAP,
Pulkki 1997): the aligned filters and the onsets are both mixed with these
weights, and the mixed onset is put back as an exact fractional delay (a
linear phase) in the frequency domain.

The set is diffuse-field equalised: the power response averaged over all
directions (weighted by the solid angle each measurement covers) and both ears
is smoothed to 1/3 octave and divided out with a minimum-phase filter
(Larcher, Jot & Vandernoot 1998). The result is scaled so that a source straight
ahead (0°, 0°) passes pink noise at unit power to each ear: the mono input comes
out at about the same loudness as if played on both ears.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from .. import _cache
from .. import _signal as sps
from .._compiled import scipy_extension
from ..dsp import next_pow2
from .sofa import HRIRSet, unit_vectors

#: fractional-delay resolution of the interpolated onsets (steps per sample)
DELAY_STEPS = 32
#: directions processed at once while building the table (bounds its temporaries)
_CHUNK = 64
#: samples kept before each onset in the aligned filters
PRE_ONSET = 4
#: resolution of the triangle lookup grid (degrees)
_GRID_DEG = 2.0


def hop_for(sr: int) -> int:
    """Internal hop (samples) of the binaural renderer at ``sr``: about 10 ms, a power of two."""
    return next_pow2(int(np.ceil(sr / 100.0)))


class DirectionInterpolator:
    """Barycentric interpolation weights over a spherical triangulation of directions.

    For a query direction v, the triangle (A, B, C) of the triangulation whose cone
    contains v gives weights g = [A B C]^-1 v, all >= 0, normalised to sum 1.
    The weights are continuous across triangle edges, so a moving source changes
    its filter continuously. Below the lowest measured elevation the nearest
    triangles of the hull's bottom cap are used (a blend of the lowest ring).
    Sets measured in one plane only fall back to linear interpolation in azimuth.
    """

    def __init__(self, azimuth_deg: np.ndarray, elevation_deg: np.ndarray) -> None:
        self.u = unit_vectors(azimuth_deg, elevation_deg)
        m = len(self.u)
        self.planar = False
        self.areas = np.full(m, 1.0 / max(m, 1))
        if m < 4:
            self.planar = True
        else:
            # only when a table is built (one from the cache comes with its triangles)
            from scipy.spatial import ConvexHull, QhullError

            try:
                hull = ConvexHull(self.u)
                tri = np.asarray(hull.simplices, dtype=np.int64)
            except (QhullError, ValueError):
                self.planar = True
        if self.planar:
            self._az = np.asarray(azimuth_deg, dtype=np.float64) % 360.0
            self._order = np.argsort(self._az, kind="stable")
            return
        self.tri = tri
        t = self.u[tri]  # (F, 3 vertices, 3 coords)
        mats = np.transpose(t, (0, 2, 1))  # columns are the vertices
        det = np.linalg.det(mats)
        ok = np.abs(det) > 1e-12
        self.tri = tri[ok]
        self.tinv = np.linalg.inv(mats[ok])  # (F, 3, 3)
        # solid-angle share of each vertex: a third of the area of its triangles
        a, b, c = (self.u[self.tri[:, i]] for i in range(3))
        area = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
        self.areas = np.zeros(m)
        for i in range(3):
            np.add.at(self.areas, self.tri[:, i], area / 3.0)
        self.areas /= self.areas.sum()
        # vertex -> adjacent triangles (padded with -1)
        adj: list[list[int]] = [[] for _ in range(m)]
        for fi, verts in enumerate(self.tri):
            for v in verts:
                adj[int(v)].append(fi)
        width = max(len(x) for x in adj)
        self.adj = np.full((m, width), -1, dtype=np.int64)
        for v, lst in enumerate(adj):
            self.adj[v, : len(lst)] = lst
        # a 1-degree lookup grid of containing triangles: a query checks the triangles
        # of its four surrounding grid points (and falls back to the search below)
        ga = np.arange(-180.0, 181.0, _GRID_DEG)
        ge = np.arange(-90.0, 91.0, _GRID_DEG)
        aa, ee = np.meshgrid(ga, ge)
        self._grid = self._search(aa.ravel(), ee.ravel(), k=1)[2].reshape(aa.shape)

    _STATE = ("u", "areas", "tri", "tinv", "adj", "_grid", "_az", "_order")

    def state(self) -> dict[str, np.ndarray]:
        """The arrays that make this interpolator (see :meth:`from_state`)."""
        out = {name: np.asarray(getattr(self, name)) for name in self._STATE if hasattr(self, name)}
        out["planar"] = np.array(self.planar)
        return out

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> DirectionInterpolator:
        """The interpolator :meth:`state` describes (its k-d tree rebuilt from the
        directions when first needed)."""
        self = cls.__new__(cls)
        self.planar = bool(state["planar"])
        for name in cls._STATE:
            if name in state:
                setattr(self, name, state[name])
        return self

    @cached_property
    def tree(self) -> Any:
        """A k-d tree of the measured directions, for :meth:`_search` (made on first use:
        a render whose queries all land in the lookup grid never imports
        ``scipy.spatial``, about 0.1 s and 10 MB per process)."""
        from scipy.spatial import cKDTree

        return cKDTree(self.u)

    def _search(
        self, az: np.ndarray, el: np.ndarray, k: int = 3
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Indices, weights and triangle numbers by checking the triangles round the
        three nearest measured directions (exact, but slower than the grid)."""
        idx_all, w_all, tri_all = [], [], []
        for start in range(0, len(az), 4096):
            v = unit_vectors(az[start : start + 4096], el[start : start + 4096])
            _, near = self.tree.query(v, k=min(k, len(self.u)))
            near = np.asarray(near).reshape(len(v), -1)
            cand = self.adj[near].reshape(len(v), -1)
            i, w, t = self._pick(v, cand, near[:, 0])
            idx_all.append(i)
            w_all.append(w)
            tri_all.append(t)
        return np.concatenate(idx_all), np.concatenate(w_all), np.concatenate(tri_all)

    def _pick(
        self, v: np.ndarray, cand: np.ndarray, nearest: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        valid = cand >= 0
        cc = np.where(valid, cand, 0)
        ti = self.tinv[cc]  # (K, C, 3, 3)
        g = ti[..., 0] * v[:, None, None, 0] + ti[..., 1] * v[:, None, None, 1]
        g = g + ti[..., 2] * v[:, None, None, 2]  # (K, C, 3)
        score = np.where(valid, g.min(axis=-1), -np.inf)
        best = np.argmax(score, axis=1)
        rows = np.arange(len(v))
        tri = cc[rows, best]
        gb = np.maximum(g[rows, best], 0.0)
        idx = self.tri[tri]
        s = gb.sum(axis=1, keepdims=True)
        bad = s[:, 0] <= 1e-12
        w = gb / np.where(s > 1e-12, s, 1.0)
        if np.any(bad):  # outside every triangle (sets with holes): nearest direction
            idx[bad] = nearest[bad, None]
            w[bad] = np.array([1.0, 0.0, 0.0])
            tri[bad] = -1
        self._last_score = score[rows, best]
        return idx, w, tri

    def __call__(
        self, azimuth_deg: np.ndarray, elevation_deg: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Indices (K, 3) and weights (K, 3) (>= 0, summing to 1) for K directions."""
        az = np.atleast_1d(np.asarray(azimuth_deg, dtype=np.float64))
        el = np.atleast_1d(np.asarray(elevation_deg, dtype=np.float64))
        if self.planar:
            return self._ring(az)
        azw = (az + 180.0) % 360.0 - 180.0
        a0 = np.clip(
            np.floor((azw + 180.0) / _GRID_DEG).astype(np.int64), 0, self._grid.shape[1] - 2
        )
        e0 = np.clip(np.floor((el + 90.0) / _GRID_DEG).astype(np.int64), 0, self._grid.shape[0] - 2)
        cand = np.stack(
            [
                self._grid[e0, a0],
                self._grid[e0, a0 + 1],
                self._grid[e0 + 1, a0],
                self._grid[e0 + 1, a0 + 1],
            ],
            axis=1,
        )
        v = unit_vectors(az, el)
        idx, w, _ = self._pick(v, cand, np.zeros(len(v), dtype=np.int64))
        miss = self._last_score < -1e-9
        if np.any(miss):
            idx[miss], w[miss], _ = self._search(az[miss], el[miss])
        return idx, w

    def _ring(self, az: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a = self._az[self._order]
        q = az % 360.0
        hi = np.searchsorted(a, q, side="right") % len(a)
        lo = (hi - 1) % len(a)
        span = (a[hi] - a[lo]) % 360.0
        span = np.where(span == 0, 360.0, span)
        frac = ((q - a[lo]) % 360.0) / span
        idx = np.stack([self._order[lo], self._order[hi], self._order[hi]], axis=1)
        w = np.stack([1.0 - frac, frac, np.zeros_like(frac)], axis=1)
        return idx, w


try:  # scipy.sparse's compiled CSR kernel, without scipy.sparse (see susurrus._compiled)
    _sparsetools: Any = scipy_extension("sparse", "_sparsetools")
except (ImportError, OSError):  # pragma: no cover - another scipy layout
    _sparsetools = None


def _csr_times(indptr: np.ndarray, cols: np.ndarray, data: np.ndarray, dense: np.ndarray) -> np.ndarray:
    """The CSR matrix ``(data, cols, indptr)`` (``len(indptr) - 1`` rows, ``dense.shape[0]``
    columns) times ``dense``: ``csr_matrix(...) @ dense``, by the same kernel."""
    rows, n_vecs = len(indptr) - 1, dense.shape[1]
    if _sparsetools is None:  # pragma: no cover
        from scipy import sparse

        return np.asarray(sparse.csr_matrix((data, cols, indptr), shape=(rows, dense.shape[0])) @ dense)
    out = np.zeros((rows, n_vecs), dtype=np.result_type(data, dense))
    _sparsetools.csr_matvecs(rows, dense.shape[0], n_vecs, indptr, cols, data.astype(out.dtype, copy=False),
                             np.ascontiguousarray(dense, dtype=out.dtype).ravel(), out.ravel())
    return out


@dataclass(frozen=True)
class HRTFTable:
    """Aligned HRTF spectra and onsets, ready for the streaming renderer.

    Attributes
    ----------
    hop : int
        Renderer hop H (samples); spectra have H + 1 bins (FFT size 2H).
    spectra : complex64 (M, 2, H + 1)
        Diffuse-field-equalised, onset-aligned, normalised filters.
    delays : float64 (M, 2)
        Onset of each ear in samples at ``sr``, relative to the earliest onset.
    ramps : complex64 (D, H + 1)
        ``exp(-2πi k d / 2H)`` for ``d = row / DELAY_STEPS`` samples.
    interp : DirectionInterpolator
    """

    sr: int
    hop: int
    spectra: np.ndarray
    delays: np.ndarray
    ramps: np.ndarray
    interp: DirectionInterpolator
    n_taps: int

    @cached_property
    def _by_ear(self) -> np.ndarray:
        """The spectra stacked ear by ear, as float32 (re, im) rows: (2M, 2(H+1))."""
        m = len(self.spectra)
        return np.ascontiguousarray(self.spectra.transpose(1, 0, 2)).view(np.float32).reshape(2 * m, -1)

    def filters(
        self,
        azimuth_deg: np.ndarray,
        elevation_deg: np.ndarray,
        gain: np.ndarray,
        *,
        ear_first: bool = False,
    ) -> np.ndarray:
        """Interpolated HRTF spectra (K, 2, H + 1) complex64 for K directions times ``gain``.

        With ``ear_first`` the result is laid out (2, K, H + 1) instead (each ear's
        K spectra contiguous, as the streaming renderer uses them).
        """
        idx, w = self.interp(azimuth_deg, elevation_deg)
        k, m = len(idx), len(self.spectra)
        wg = (w * np.asarray(gain, dtype=np.float64).reshape(-1, 1)).astype(np.float32)
        d = np.einsum("kj,kje->ke", w, self.delays[idx])  # (K, 2) samples
        q = np.clip(np.rint(d * DELAY_STEPS).astype(np.int64), 0, len(self.ramps) - 1)
        # weighted sum of the three aligned spectra as a sparse, block-diagonal (2K, 2M)
        # weight matrix times the ear-stacked table (float32 re, im pairs): no (K, 3, …) gather
        cols = np.concatenate([idx, idx + m]).ravel().astype(np.int32)
        indptr = np.arange(0, 6 * k + 1, 3, dtype=np.int32)  # three weights a row
        out = _csr_times(indptr, cols, np.tile(wg.ravel(), 2), self._by_ear).view(np.complex64).reshape(2, k, -1)
        out *= self.ramps[q.T]
        return out if ear_first else np.ascontiguousarray(out.transpose(1, 0, 2))

    def impulse_response(self, azimuth_deg: float, elevation_deg: float) -> np.ndarray:
        """The interpolated HRIR pair (2, 2H) at one direction (float64; for inspection)."""
        spec = self.filters(np.array([azimuth_deg]), np.array([elevation_deg]), np.ones(1))[0]
        return np.fft.irfft(spec.astype(np.complex128), 2 * self.hop, axis=-1)


def _third_octave_smooth(f: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Mean of ``p`` over a 1/3-octave band around each frequency (linear bins)."""
    c = np.concatenate([[0.0], np.cumsum(p)])
    k = np.arange(len(f))
    lo = np.clip(np.floor(k * 2 ** (-1 / 6)).astype(int), 0, len(f) - 1)
    hi = np.clip(np.ceil(k * 2 ** (1 / 6)).astype(int), 0, len(f) - 1)
    return (c[hi + 1] - c[lo]) / (hi + 1 - lo)


def _minimum_phase(mag: np.ndarray, n_fft: int) -> np.ndarray:
    """Minimum-phase spectrum with magnitude ``mag`` (rfft bins) by the real cepstrum."""
    cep = np.fft.irfft(np.log(np.maximum(mag, 1e-12)), n_fft)
    fold = np.zeros(n_fft)
    fold[0] = cep[0]
    fold[1 : n_fft // 2] = 2.0 * cep[1 : n_fft // 2]
    fold[n_fft // 2] = cep[n_fft // 2]
    return np.asarray(np.exp(np.fft.rfft(fold)))


def build_table(hrirs: HRIRSet, *, diffuse_field_eq: bool = True) -> HRTFTable:
    """Prepare (and cache on ``hrirs``, and on disk: :mod:`susurrus._cache`) the
    renderer's table at ``hrirs.sr``."""
    key = ("table", diffuse_field_eq)
    hit = hrirs._cache.get(key)
    if hit is not None:
        return hit
    disk_key = _cache.digest("hrtf", hrirs.sr, diffuse_field_eq, hrirs.hrir, hrirs.azimuth_deg,
                             hrirs.elevation_deg, _cache.code_digest(__file__, sps.__file__ or "_signal"))
    kept = _cache.load("hrtf", disk_key)
    if kept is not None:
        try:
            table = HRTFTable(hrirs.sr, int(kept["hop"]), kept["spectra"], kept["delays"], kept["ramps"],
                              DirectionInterpolator.from_state(
                                  {k[7:]: v for k, v in kept.items() if k.startswith("interp.")}),
                              int(kept["n_taps"]))
        except (KeyError, ValueError, TypeError):
            table = None
        if table is not None:
            hrirs._cache[key] = table
            return table
    table = _build_table(hrirs, diffuse_field_eq)
    _cache.save("hrtf", disk_key, {
        "hop": np.array(table.hop), "spectra": table.spectra, "delays": table.delays,
        "ramps": table.ramps, "n_taps": np.array(table.n_taps),
        **{f"interp.{k}": v for k, v in table.interp.state().items()},
    })
    hrirs._cache[key] = table
    return table


def _build_table(hrirs: HRIRSet, diffuse_field_eq: bool) -> HRTFTable:
    sr = hrirs.sr
    hop = hop_for(sr)
    ir = hrirs.hrir.astype(np.float64)
    n = ir.shape[2]
    interp = DirectionInterpolator(hrirs.azimuth_deg, hrirs.elevation_deg)

    n_fft = next_pow2(4 * n)
    f = np.fft.rfftfreq(n_fft, 1.0 / sr)
    m = ir.shape[0]
    eq_spec = np.ones(len(f), dtype=np.complex128)
    if diffuse_field_eq:
        power = np.zeros(len(f))
        for c0 in range(0, m, _CHUNK):
            sc = np.fft.rfft(ir[c0 : c0 + _CHUNK], n_fft, axis=-1)
            power += np.einsum("m,mb->b", interp.areas[c0 : c0 + _CHUNK], 0.5 * (np.abs(sc) ** 2).sum(axis=1))
        power = _third_octave_smooth(f, power)
        f_lo, f_hi = 150.0, min(16000.0, 0.45 * hrirs.file_sr, 0.45 * sr)
        i_lo, i_hi = np.searchsorted(f, [f_lo, f_hi])
        power[:i_lo] = power[i_lo]
        power[i_hi:] = power[i_hi - 1]
        eq = 1.0 / np.sqrt(np.maximum(power, 1e-20))
        med = float(np.median(eq[i_lo:i_hi]))
        eq = np.clip(eq, med * 10 ** (-20 / 20), med * 10 ** (20 / 20))
        eq_spec = _minimum_phase(eq, n_fft)

    def spec_of(c0: int) -> np.ndarray:
        return np.fft.rfft(ir[c0 : c0 + _CHUNK], n_fft, axis=-1) * eq_spec[None, None, :]

    # onsets: first sample within 20 dB of the peak, found on an 8x upsampled copy
    # (in chunks of directions, so the temporaries stay small)
    up = 8
    onset = np.empty(ir.shape[:2])
    for c0 in range(0, m, _CHUNK):
        head = np.fft.irfft(spec_of(c0), n_fft, axis=-1)[..., : n + 16]
        mag = np.abs(sps.resample_poly(head, up, 1, axis=-1))
        thr = 0.1 * mag.max(axis=-1, keepdims=True)
        onset[c0 : c0 + _CHUNK] = np.argmax(mag >= thr, axis=-1) / up  # (chunk, 2) samples
    shift = onset - PRE_ONSET
    delays = shift - shift.min()
    max_d = float(delays.max())
    n_keep = min(n_fft, hop + 1 - int(np.ceil(max_d)) - 2)
    if n_keep < 16:
        raise ValueError(f"hop {hop} too short for the set's onset spread ({max_d:.1f} samples)")
    aligned = np.empty((*ir.shape[:2], n_keep))
    for c0 in range(0, m, _CHUNK):
        rot = np.exp(2j * np.pi * f[None, None, :] * shift[c0 : c0 + _CHUNK, :, None] / sr)
        aligned[c0 : c0 + _CHUNK] = np.fft.irfft(spec_of(c0) * rot, n_fft, axis=-1)[..., :n_keep]
    fade = min(32, n_keep // 4)
    aligned[..., n_keep - fade :] *= np.hanning(2 * fade)[fade:]

    n_bins = hop + 1
    spectra = np.fft.rfft(aligned, 2 * hop, axis=-1)
    k = np.arange(n_bins)
    rows = int(np.ceil(max_d * DELAY_STEPS)) + 2
    d = np.arange(rows) / DELAY_STEPS
    ramps = np.exp(-2j * np.pi * d[:, None] * k[None, :] / (2 * hop)).astype(np.complex64)

    table = HRTFTable(sr, hop, spectra.astype(np.complex64), delays, ramps, interp, n_keep)
    # normalise: pink-noise power gain at 0°, 0° equals one per ear
    front = table.filters(np.zeros(1), np.zeros(1), np.ones(1))[0].astype(np.complex128)
    fb = np.fft.rfftfreq(2 * hop, 1.0 / sr)
    band = (fb >= 50.0) & (fb <= min(16000.0, 0.45 * sr))
    pink = np.where(band, 1.0 / np.maximum(fb, 1.0), 0.0)
    gain2 = float((np.abs(front) ** 2 * pink).sum() / (2.0 * pink.sum()))
    spectra = (spectra / np.sqrt(gain2)).astype(np.complex64)
    return HRTFTable(sr, hop, spectra, delays, ramps, interp, n_keep)
