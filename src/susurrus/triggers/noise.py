"""Coloured noise beds: white, pink, brown and grey noise.

A streaming shaped-noise engine: white noise through a long linear-phase FIR
designed by frequency sampling, convolved by FFT overlap-add.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np

from .. import _signal as sps
from ..dsp import ChunkedStream, StreamingFIR, design_shaped_fir, next_pow2
from . import register
from ._liquids import white
from .base import Param, Trigger

__all__ = ["ISO226_FREQS_HZ", "JUDGE_SETTINGS", "Noise", "iso226_spl", "noise_psd_shape"]

#: ISO 226:2003, Table 1: the 29 preferred frequencies (Hz) …
ISO226_FREQS_HZ = np.array(
    [
        20,
        25,
        31.5,
        40,
        50,
        63,
        80,
        100,
        125,
        160,
        200,
        250,
        315,
        400,
        500,
        630,
        800,
        1000,
        1250,
        1600,
        2000,
        2500,
        3150,
        4000,
        5000,
        6300,
        8000,
        10000,
        12500,
    ]
)
#: … the exponent of loudness perception α_f …
_ISO226_AF = np.array(
    [
        0.532,
        0.506,
        0.480,
        0.455,
        0.432,
        0.409,
        0.387,
        0.367,
        0.349,
        0.330,
        0.315,
        0.301,
        0.288,
        0.276,
        0.267,
        0.259,
        0.253,
        0.250,
        0.246,
        0.244,
        0.243,
        0.243,
        0.243,
        0.242,
        0.242,
        0.245,
        0.254,
        0.271,
        0.301,
    ]
)
#: … the magnitude of the linear transfer function normalised at 1 kHz, L_U (dB) …
_ISO226_LU = np.array(
    [
        -31.6,
        -27.2,
        -23.0,
        -19.1,
        -15.9,
        -13.0,
        -10.3,
        -8.1,
        -6.2,
        -4.5,
        -3.1,
        -2.0,
        -1.1,
        -0.4,
        0.0,
        0.3,
        0.5,
        0.0,
        -2.7,
        -4.1,
        -1.0,
        1.7,
        2.5,
        1.2,
        -2.1,
        -7.1,
        -11.2,
        -10.7,
        -3.1,
    ]
)
#: … and the threshold of hearing T_f (dB SPL).
_ISO226_TF = np.array(
    [
        78.5,
        68.7,
        59.5,
        51.1,
        44.0,
        37.5,
        31.5,
        26.5,
        22.1,
        17.9,
        14.4,
        11.4,
        8.6,
        6.2,
        4.4,
        3.0,
        2.2,
        2.4,
        3.5,
        1.7,
        -1.3,
        -4.2,
        -6.0,
        -5.4,
        -1.5,
        6.0,
        12.6,
        13.9,
        12.3,
    ]
)

#: Nominal PSD slope of each variant, dB per octave (grey follows ISO 226 instead).
NOMINAL_SLOPE_DB_PER_OCT = {"white": 0.0, "pink": -3.0, "brown": -6.0}

#: The second parameter setting the recognition test renders for each variant.
JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "white": {"tilt_db_per_oct": -1.0},
    "pink": {"tilt_db_per_oct": 1.0},
    "brown": {"tilt_db_per_oct": 1.0, "low_cut_hz": 40.0},
    "grey": {"tilt_db_per_oct": 1.0},
}

_PIVOT_HZ = 1000.0
_TARGET_RMS = 0.1  # −20 dBFS


def iso226_spl(f_hz: np.ndarray, phon: float = 40.0) -> np.ndarray:
    """Equal-loudness contour of ISO 226:2003 (sound pressure level, dB) at ``f_hz``.

    Implements ISO 226:2003 §4.1, eq. (1):

    ``A_f = 4.47e-3 (10^(0.025 L_N) − 1.15) + (0.4 · 10^((T_f + L_U)/10 − 9))^α_f``,
    ``L_p = (10/α_f) log10(A_f) − L_U + 94``

    at the 29 tabulated frequencies (20 Hz … 12.5 kHz), interpolated linearly in
    log-frequency between them and held constant outside the table.
    """
    a_f = (
        4.47e-3 * (10.0 ** (0.025 * phon) - 1.15)
        + (0.4 * 10.0 ** ((_ISO226_TF + _ISO226_LU) / 10.0 - 9.0)) ** _ISO226_AF
    )
    lp = (10.0 / _ISO226_AF) * np.log10(a_f) - _ISO226_LU + 94.0
    lf = np.log2(np.clip(np.asarray(f_hz, dtype=np.float64), 1e-3, None))
    return np.interp(lf, np.log2(ISO226_FREQS_HZ), lp)


def noise_psd_shape(
    variant: str, *, tilt_db_per_oct: float = 0.0, low_cut_hz: float = 20.0
) -> Callable[[np.ndarray], np.ndarray]:
    """The target power spectral density of a noise variant, relative to 1 kHz (dB).

    Returns a function ``f_hz → dB``. The nominal shape (0, −3, −6 dB/octave, or the
    40-phon ISO 226:2003 contour for grey) plus ``tilt_db_per_oct`` (pivot 1 kHz)
    holds exactly from ``low_cut_hz`` up to Nyquist; below ``low_cut_hz`` the shape is
    clamped at its value there (the high-pass roll-off is applied separately).
    """
    if variant == "grey":
        ref = float(iso226_spl(np.array([_PIVOT_HZ]))[0])

        def base(f: np.ndarray) -> np.ndarray:
            return iso226_spl(f) - ref
    else:
        slope = NOMINAL_SLOPE_DB_PER_OCT[variant]

        def base(f: np.ndarray) -> np.ndarray:
            return slope * np.log2(f / _PIVOT_HZ)

    def shape(f_hz: np.ndarray) -> np.ndarray:
        f = np.maximum(np.asarray(f_hz, dtype=np.float64), low_cut_hz)
        return base(f) + tilt_db_per_oct * np.log2(f / _PIVOT_HZ)

    return shape


@register
class Noise(Trigger):
    """Coloured noise: white, pink (−3 dB/oct), brown (−6 dB/oct) and grey (ISO 226).

    Physics and signal model. Stationary Gaussian noise is fully described by its
    power spectral density S(f). White noise has S(f) constant; pink noise
    S(f) ∝ 1/f (equal power per octave, −3 dB/octave), brown (Brownian, red) noise
    S(f) ∝ 1/f² (the spectrum of integrated white noise, −6 dB/octave). Grey noise
    is white noise weighted by an inverse equal-loudness curve so that every band
    sounds equally loud: S(f) in dB follows the ISO 226:2003 40-phon contour
    L_p(f) (ISO 226:2003 eq. (1) with its tabulated α_f, L_U, T_f), relative to
    1 kHz.

    Synthesis: white noise ``w[n]`` (independent, unit variance: uniform draws, five
    times cheaper than Gaussian ones; the long filter sums thousands of them, so
    coloured output is Gaussian all the same, and white noise sounds no different)
    is convolved with a linear-phase FIR ``h`` designed by frequency sampling,
    ``|H(f)| = 10^(S_dB(f)/20)`` (:func:`susurrus.dsp.design_shaped_fir`, 8192 taps:
    the shape holds to well below 63 Hz), streamed by FFT overlap-add. The shape is
    held constant below ``low_cut_hz`` and rolled off below ``low_cut_hz / 2`` by a
    4th-order (Butterworth-magnitude) high-pass, so no power is wasted under the
    audible range.
    The output is scaled by ``1/‖h‖₂`` so its RMS is exactly −20 dBFS whatever the
    shape. Because ``w`` is fresh noise, the output never repeats.

    Parameters
    ----------
    tilt_db_per_oct
        An extra spectral tilt (dB/octave, pivot 1 kHz) on top of the variant's
        nominal shape: negative is darker, positive brighter. 0 keeps the nominal
        spectrum exact.
    low_cut_hz
        Below this frequency the shape is clamped (and rolled off an octave lower).
        20 Hz by default; 40 Hz for grey, whose 40-phon contour climbs steeply below
        40 Hz (to ≈ 99 dB SPL at 20 Hz), beyond what most headphones reproduce.
    """

    family = "noise"
    description = "Coloured noise beds: white, pink, brown, grey (ISO 226 40-phon)"
    params = (
        Param(
            "tilt_db_per_oct",
            0.0,
            -3.0,
            3.0,
            "dB/oct",
            "extra spectral tilt around 1 kHz (negative darker, positive brighter)",
        ),
        Param(
            "low_cut_hz",
            20.0,
            10.0,
            200.0,
            "Hz",
            "the nominal shape holds above this frequency; rolled off an octave below",
        ),
    )
    #: grey starts its contour at 40 Hz: below, the 40-phon curve asks for +30 dB
    #: and more (≈ 99 dB SPL at 20 Hz against 40 dB at 1 kHz) — beyond most headphones
    #: and small speakers, and heard, if at all, as rumble (wind) rather than as noise
    variant_defaults: ClassVar[dict[str, dict[str, float]]] = {"grey": {"low_cut_hz": 40.0}}

    #: samples per generated chunk
    chunk_size: ClassVar[int] = 24576
    #: FIR length (frequency resolution sr / n_taps)
    n_taps: ClassVar[int] = 8192

    def _setup(self) -> None:
        low_cut = self.values["low_cut_hz"]
        shape = noise_psd_shape(
            self.variant, tilt_db_per_oct=self.values["tilt_db_per_oct"], low_cut_hz=low_cut
        )
        f_hp = 0.5 * low_cut

        def gain(f: np.ndarray) -> np.ndarray:
            hp = 1.0 / np.sqrt(1.0 + (f_hp / np.maximum(f, 1e-6)) ** 8)
            return 10.0 ** (shape(f) / 20.0) * hp

        taps = design_shaped_fir(self.sr, gain, n_taps=self.n_taps)
        taps /= np.sqrt(np.sum(taps**2))
        self._fir = StreamingFIR(taps * _TARGET_RMS, dtype=np.float32)
        # prime the filter so the stream starts at full level (no fade-in of the FIR)
        self._fir(white(self.rng, self.n_taps))

    def _generate(self) -> np.ndarray:
        return self._fir(white(self.rng, self.chunk_size))

    def diffuse(self, taps: np.ndarray) -> DiffuseNoise:
        """This noise through the decorrelation filters ``taps`` ``(channels, n)`` in one
        pass (see :class:`DiffuseNoise`); it then draws from this trigger's generator."""
        return DiffuseNoise(self, taps)


class DiffuseNoise:
    """A coloured noise decorrelated onto several channels in one filtering pass.

    Filtering the noise and then decorrelating it are two convolutions in a row; by
    associativity they are one, with the taps ``shape ∗ decorrelation`` per channel:
    one forward FFT of the white noise and an inverse per channel, where the two
    stages took two and three transforms (a quarter less transform work for a diffuse
    noise bed). Each channel has the noise's spectrum exactly (the decorrelation
    filters have unit magnitude). The filter is primed like the noise's own, so the
    bed starts at full level.

    State: the bank's convolution tail and samples filtered but not yet read
    (``chunk`` white samples are filtered at a time; the bank has ``n_taps`` taps).
    """

    def __init__(self, noise: Noise, taps: np.ndarray) -> None:
        shape = noise._fir.taps[0]
        bank = np.stack([sps.fftconvolve(shape, t) for t in np.atleast_2d(taps)])
        fir = StreamingFIR(bank, dtype=np.float32)
        rng = noise.rng
        self.channels, self.n_taps = bank.shape
        self.chunk = next_pow2(4 * self.n_taps) - self.n_taps + 1  # fills one transform
        fir(white(rng, self.n_taps))  # prime: full level at once
        self._stream = ChunkedStream(
            self.channels, lambda: fir(white(rng, self.chunk)))

    def read(self, n: int) -> np.ndarray:
        """The next ``n`` samples, float32 ``(channels, n)``."""
        return self._stream.read(n)
