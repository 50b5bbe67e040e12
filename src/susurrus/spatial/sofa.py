"""Reading head-related impulse responses from SOFA (AES69) files.

A SOFA file is netCDF-4, i.e. HDF5, so :mod:`h5py` reads it directly; no
libmysofa binding is needed. Only the ``SimpleFreeFieldHRIR`` convention
(AES69-2020, section "SimpleFreeFieldHRIR") is accepted: ``Data.IR`` of shape
``(M, R, N)`` — M measurements, R = 2 receivers (ears), N taps — sampled at
``Data.SamplingRate`` Hz, with one ``SourcePosition`` per measurement.

Conventions (SOFA, and everywhere in Susurrus): azimuth 0° is straight ahead and
grows counter-clockwise seen from above, so +90° is the listener's **left** and
±180° is behind; elevation is positive **up**; distances are in metres. The
receiver with the larger y coordinate (``ReceiverPosition``) is the left ear.

The default set is the MIT KEMAR dummy-head measurement (Gardner & Martin 1994),
which Debian's ``libmysofa1`` ships as
``/usr/share/libmysofa/MIT_KEMAR_normal_pinna.sofa``.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from math import gcd
from pathlib import Path
from typing import Any

import numpy as np

from .. import _cache
from .. import _signal as sps
from ..errors import HRIRError, ParameterError

#: environment variable naming a SOFA file to use by default
SOFA_ENV = "SUSURRUS_SOFA"

#: where a default SOFA file is looked for, in order (after ``$SUSURRUS_SOFA``)
DEFAULT_SOFA_PATHS: tuple[str, ...] = (
    "/usr/share/libmysofa/MIT_KEMAR_normal_pinna.sofa",
    "/usr/share/libmysofa/default.sofa",
    "/usr/local/share/libmysofa/MIT_KEMAR_normal_pinna.sofa",
    "/usr/local/share/libmysofa/default.sofa",
)

MIT_KEMAR_CITATION = (
    "Gardner, W. G. & Martin, K. D. (1994). HRTF Measurements of a KEMAR Dummy-Head "
    "Microphone. MIT Media Lab Perceptual Computing Technical Report #280; "
    "J. Acoust. Soc. Am. 97(6), 3907-3908 (1995)."
)

_HOW_TO_GET = (
    "no SOFA (AES69) HRIR file found. Install Debian's libmysofa1 "
    "(`apt-get install libmysofa1`, which ships "
    "/usr/share/libmysofa/MIT_KEMAR_normal_pinna.sofa), or pass the path of a "
    f"SimpleFreeFieldHRIR .sofa file, or set the {SOFA_ENV} environment variable to one"
)


@dataclass(frozen=True, eq=False)
class HRIRSet:
    """A measured set of head-related impulse responses, resampled to ``sr``.

    Attributes
    ----------
    hrir : ndarray, float32, shape (M, 2, n_taps)
        Impulse responses at ``sr``; index 0 of axis 1 is the **left** ear.
    azimuth_deg : ndarray, shape (M,)
        Source azimuth of each measurement, SOFA convention: 0° ahead,
        positive to the listener's left (counter-clockwise seen from above),
        wrapped to (-180, 180].
    elevation_deg : ndarray, shape (M,)
        Source elevation, positive up, -90 … 90.
    distance_m : ndarray, shape (M,)
        Measurement distance in metres (MIT KEMAR: 1.4 m).
    sr : int
        Sample rate of ``hrir`` in Hz.
    source : str
        Path of the SOFA file.
    citation : str
        How to cite the measurements (a condition of use of most HRIR sets).
    file_sr : int
        The sample rate stored in the file, before resampling.
    """

    hrir: np.ndarray
    azimuth_deg: np.ndarray
    elevation_deg: np.ndarray
    distance_m: np.ndarray
    sr: int
    source: str
    citation: str
    file_sr: int
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_directions(self) -> int:
        """Number of measured directions M."""
        return int(self.hrir.shape[0])

    @property
    def n_taps(self) -> int:
        """Length of each impulse response at ``sr``."""
        return int(self.hrir.shape[2])

    def nearest(self, azimuth_deg: float, elevation_deg: float) -> int:
        """Index of the measured direction closest (great-circle) to the given one."""
        v = unit_vectors(np.asarray([azimuth_deg]), np.asarray([elevation_deg]))[0]
        u = unit_vectors(self.azimuth_deg, self.elevation_deg)
        return int(np.argmax(u @ v))

    def __repr__(self) -> str:
        return (
            f"HRIRSet(source={self.source!r}, directions={self.n_directions}, "
            f"n_taps={self.n_taps}, sr={self.sr} Hz, file_sr={self.file_sr} Hz)"
        )


def unit_vectors(azimuth_deg: np.ndarray, elevation_deg: np.ndarray) -> np.ndarray:
    """Cartesian unit vectors (x ahead, y left, z up) for SOFA spherical angles, shape (K, 3)."""
    az = np.deg2rad(np.asarray(azimuth_deg, dtype=np.float64))
    el = np.deg2rad(np.asarray(elevation_deg, dtype=np.float64))
    ce = np.cos(el)
    return np.stack([ce * np.cos(az), ce * np.sin(az), np.sin(el)], axis=-1)


def find_sofa(path: str | os.PathLike[str] | None = None) -> Path:
    """Resolve which SOFA file to use.

    Order: ``path`` if given (it must exist), then ``$SUSURRUS_SOFA``, then
    :data:`DEFAULT_SOFA_PATHS`. Raises :class:`HRIRError` saying how to get one.
    """
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise HRIRError(
                f"{p}: no such SOFA file ({'a directory' if p.is_dir() else 'not found'})"
            )
        return p.resolve()
    env = os.environ.get(SOFA_ENV, "").strip()
    if env:
        p = Path(env).expanduser()
        if not p.is_file():
            raise HRIRError(f"{SOFA_ENV}={env!r}: no such SOFA file")
        return p.resolve()
    for cand in DEFAULT_SOFA_PATHS:
        p = Path(cand)
        if p.is_file():
            return p.resolve()
    raise HRIRError(_HOW_TO_GET)


def load_hrir(path: str | os.PathLike[str] | None = None, *, sr: int) -> HRIRSet:
    """Load a SimpleFreeFieldHRIR SOFA file and resample its HRIRs to ``sr``.

    Parameters
    ----------
    path : str or path-like, optional
        A SOFA (AES69) file, e.g. your own measured head. Default: the file named
        by ``$SUSURRUS_SOFA``, else Debian's MIT KEMAR set
        (``/usr/share/libmysofa/MIT_KEMAR_normal_pinna.sofa``).
    sr : int
        Render sample rate in Hz (8000 … 192000).

    Returns
    -------
    HRIRSet
        Cached per (resolved path, sr): loading twice returns the same object.

    Raises
    ------
    HRIRError
        File missing, not HDF5/SOFA, not the SimpleFreeFieldHRIR convention,
        or with unusable data (wrong shape, non-finite taps, not two ears).
    ParameterError
        ``sr`` out of range.
    """
    if (
        not isinstance(sr, int | np.integer)
        or isinstance(sr, bool)
        or not 8000 <= int(sr) <= 192000
    ):
        raise ParameterError("sr", sr, "an integer sample rate from 8000 to 192000 Hz")
    p = find_sofa(path)
    st = p.stat()
    return _load_cached(str(p), int(sr), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, sr: int, _mtime: int, _size: int) -> HRIRSet:
    # the resampled set is kept on disk (susurrus._cache): no h5py, no resampling
    key = _cache.digest("hrir", path, _mtime, _size, sr,
                        _cache.code_digest(__file__, sps.__file__ or "_signal"))
    kept = _cache.load("hrir", key)
    if kept is not None and {"hrir", "azimuth_deg", "elevation_deg", "distance_m"} <= kept.keys():
        return HRIRSet(
            hrir=np.ascontiguousarray(kept["hrir"], dtype=np.float32),
            azimuth_deg=kept["azimuth_deg"],
            elevation_deg=kept["elevation_deg"],
            distance_m=kept["distance_m"],
            sr=sr,
            source=path,
            citation=str(kept["citation"]),
            file_sr=int(kept["file_sr"]),
        )
    raw = read_sofa(path)
    ir = raw["ir"]
    file_sr = raw["sr"]
    if file_sr != sr:
        ir = _resample(ir, file_sr, sr)
    hrirs = HRIRSet(
        hrir=np.ascontiguousarray(ir, dtype=np.float32),
        azimuth_deg=raw["azimuth_deg"],
        elevation_deg=raw["elevation_deg"],
        distance_m=raw["distance_m"],
        sr=sr,
        source=path,
        citation=raw["citation"],
        file_sr=file_sr,
    )
    _cache.save("hrir", key, {
        "hrir": hrirs.hrir, "azimuth_deg": np.asarray(hrirs.azimuth_deg),
        "elevation_deg": np.asarray(hrirs.elevation_deg), "distance_m": np.asarray(hrirs.distance_m),
        "citation": np.array(hrirs.citation), "file_sr": np.array(file_sr),
    })
    return hrirs


def _resample(ir: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Polyphase resampling (Kaiser-windowed FIR, scipy ``resample_poly``) along the taps."""
    g = gcd(sr_in, sr_out)
    up, down = sr_out // g, sr_in // g
    if up > 1000 or down > 1000:  # awkward ratio: go through the FFT resampler
        n_out = int(round(ir.shape[-1] * sr_out / sr_in))
        return np.asarray(sps.resample(ir, n_out, axis=-1))
    return np.asarray(sps.resample_poly(ir, up, down, axis=-1))


def _attr(obj: Any, name: str) -> str:
    """A string attribute of an HDF5 object ('' when missing or empty)."""
    v = obj.attrs.get(name)
    if isinstance(v, np.ndarray) and v.size == 1:
        v = v.reshape(-1)[0]
    if isinstance(v, bytes | np.bytes_):
        return bytes(v).decode("utf-8", "replace").strip()
    if isinstance(v, str):
        return v.strip()
    return ""  # missing, h5py.Empty, or not a string


def read_sofa(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the raw contents of a SimpleFreeFieldHRIR SOFA file.

    Returns a dict with ``ir`` (M, 2, N) float64 (left ear first, ``Data.Delay``
    applied), ``sr`` (int Hz), ``azimuth_deg``/``elevation_deg``/``distance_m``
    (M,) in SOFA convention, and ``citation``.
    """
    import h5py

    p = Path(path)
    try:
        f = h5py.File(str(p), "r")
    except FileNotFoundError:
        raise HRIRError(f"{p}: no such SOFA file") from None
    except OSError as exc:
        raise HRIRError(f"{p}: not a readable SOFA file (SOFA is HDF5/netCDF-4: {exc})") from None
    with f:
        conv = _attr(f, "Conventions")
        if conv != "SOFA":
            raise HRIRError(
                f"{p}: not a SOFA file (global attribute Conventions={conv!r}, expected 'SOFA')"
            )
        sc = _attr(f, "SOFAConventions")
        if sc != "SimpleFreeFieldHRIR":
            raise HRIRError(
                f"{p}: SOFA convention {sc!r} is not supported; Susurrus needs "
                "'SimpleFreeFieldHRIR' (free-field head-related impulse responses, AES69)"
            )
        dt = _attr(f, "DataType")
        if dt and dt != "FIR":
            raise HRIRError(
                f"{p}: DataType={dt!r}; a SimpleFreeFieldHRIR file must hold 'FIR' data"
            )
        for name in ("Data.IR", "Data.SamplingRate", "SourcePosition"):
            if name not in f:
                raise HRIRError(f"{p}: SOFA variable {name} is missing")
        ir = np.asarray(f["Data.IR"][()], dtype=np.float64)
        if ir.ndim != 3 or ir.shape[1] != 2 or ir.shape[0] < 1 or ir.shape[2] < 8:
            raise HRIRError(
                f"{p}: Data.IR has shape {ir.shape}; expected (M, 2, N) with two ears and N >= 8 taps"
            )
        if not np.all(np.isfinite(ir)):
            raise HRIRError(f"{p}: Data.IR holds non-finite values")
        m, _, n = ir.shape
        srs = np.asarray(f["Data.SamplingRate"][()], dtype=np.float64).reshape(-1)
        units = _attr(f["Data.SamplingRate"], "Units").lower()
        if units and units not in ("hertz", "hz"):
            raise HRIRError(f"{p}: Data.SamplingRate has units {units!r}; expected hertz")
        if srs.size == 0 or not np.all(srs == srs[0]) or not 1000 <= srs[0] <= 384000:
            raise HRIRError(f"{p}: Data.SamplingRate={srs.tolist()} is not one usable rate")
        if srs[0] != round(srs[0]):
            raise HRIRError(f"{p}: Data.SamplingRate={srs[0]} is not a whole number of hertz")
        file_sr = int(round(srs[0]))

        pos = np.asarray(f["SourcePosition"][()], dtype=np.float64)
        if pos.ndim != 2 or pos.shape[1] != 3 or pos.shape[0] not in (1, m):
            raise HRIRError(f"{p}: SourcePosition has shape {pos.shape}; expected ({m}, 3)")
        pos = np.broadcast_to(pos, (m, 3)).copy()
        ptype = _attr(f["SourcePosition"], "Type").lower() or "spherical"
        punits = _attr(f["SourcePosition"], "Units").lower()
        if ptype == "cartesian":
            r = np.linalg.norm(pos, axis=1)
            if np.any(r <= 0):
                raise HRIRError(f"{p}: SourcePosition has a source at the origin")
            az = np.rad2deg(np.arctan2(pos[:, 1], pos[:, 0]))
            el = np.rad2deg(np.arcsin(np.clip(pos[:, 2] / r, -1.0, 1.0)))
        elif ptype == "spherical":
            az, el, r = pos[:, 0].copy(), pos[:, 1].copy(), pos[:, 2].copy()
            if "radian" in punits:
                az, el = np.rad2deg(az), np.rad2deg(el)
        else:
            raise HRIRError(f"{p}: SourcePosition Type={ptype!r}; expected spherical or cartesian")
        if not (np.all(np.isfinite(az)) and np.all(np.isfinite(el)) and np.all(np.isfinite(r))):
            raise HRIRError(f"{p}: SourcePosition holds non-finite values")
        if np.any(np.abs(el) > 90.0 + 1e-6):
            raise HRIRError(f"{p}: SourcePosition elevations outside -90..90 degrees")
        az = (az + 180.0) % 360.0 - 180.0
        az[az == -180.0] = 180.0

        # Data.Delay: (1, R) or (M, R), in samples, to be added before each IR.
        if "Data.Delay" in f:
            delay = np.asarray(f["Data.Delay"][()], dtype=np.float64)
            if delay.size and np.any(delay != 0):
                if delay.ndim != 2 or delay.shape[1] != 2 or delay.shape[0] not in (1, m):
                    raise HRIRError(
                        f"{p}: Data.Delay has shape {delay.shape}; expected (1, 2) or (M, 2)"
                    )
                delay = np.broadcast_to(delay, (m, 2))
                pad = int(np.ceil(delay.max()))
                out = np.zeros((m, 2, n + pad))
                for i in range(m):
                    for e in range(2):
                        d = int(round(delay[i, e]))
                        out[i, e, d : d + n] = ir[i, e]
                ir = out

        # Which receiver is the left ear: the one with the larger y (SOFA: y points left).
        if "ReceiverPosition" in f:
            rp = np.asarray(f["ReceiverPosition"][()], dtype=np.float64)
            if rp.ndim >= 2 and rp.shape[0] == 2 and rp.shape[1] == 3:
                y = rp[:, 1].reshape(2, -1)[:, 0]
                if y[1] > y[0]:
                    ir = ir[:, ::-1, :].copy()

        refs = _attr(f, "References")
        db = _attr(f, "DatabaseName")
        listener = _attr(f, "ListenerShortName")
        title = _attr(f, "Title")
        if db.upper() == "MIT" or ("kemar" in p.name.lower() and "mit" in p.name.lower()):
            citation = MIT_KEMAR_CITATION
        elif refs:
            citation = refs
        else:
            who = ", ".join(x for x in (db, listener, title) if x) or "unnamed HRIR set"
            citation = f"{who} (SOFA file {p.name}; no reference given in the file)"
    return {
        "ir": ir,
        "sr": file_sr,
        "azimuth_deg": az,
        "elevation_deg": el,
        "distance_m": r,
        "citation": citation,
    }
