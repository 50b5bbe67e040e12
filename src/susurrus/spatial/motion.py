"""Motion paths: where a source is at each moment.

A path is a pure function of time, ``path(t_s) -> (azimuth_deg, elevation_deg,
distance_m)`` on arrays, so a renderer can ask for any instants in any order and
always get the same answer (block-size independence for free). Angles follow the
SOFA convention: azimuth 0° straight ahead, positive to the listener's **left**
(counter-clockwise seen from above), ±180° behind; elevation positive **up**;
distance in metres from the centre of the head.

The single speed parameter ``period_s`` is the time of one full cycle:

``static``
    stays at (azimuth_deg, elevation_deg, distance_m).
``sweep``
    ear to ear through the front, +90° → −90° → +90° (left → right → left) in
    ``period_s``, slowing at the ears like a hand would (cosine motion). It starts
    at ``azimuth_deg`` clamped to ±90° and first heads right (towards −90°).
``orbit``
    a full circle round the head in ``period_s``, counter-clockwise seen from
    above (ahead → left → behind → right), starting at ``azimuth_deg``.
``drift``
    a slow random wander inside ±30° azimuth and ±15° elevation around the given
    direction; the wander's time scale is ``period_s``. Drawn once from ``rng``.
``approach``
    from ``distance_m`` in to a close distance (0.2 m, or half of ``distance_m``
    when that is closer) and back out in ``period_s``, moving geometrically in
    distance (equal ratios in equal times).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import ParameterError, check_range

MOTIONS: tuple[str, ...] = ("static", "sweep", "orbit", "drift", "approach")

#: a motion path: seconds → (azimuth_deg, elevation_deg, distance_m), arrays of the same shape
MotionPath = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]

#: parameter limits (value ranges shown in errors and help)
AZIMUTH_RANGE = (-360.0, 360.0)
ELEVATION_RANGE = (-90.0, 90.0)
DISTANCE_MAX_M = 100.0
PERIOD_RANGE = (0.5, 86400.0)
#: the region ``drift`` wanders in, ± degrees around its centre
DRIFT_AZIMUTH_DEG = 30.0
DRIFT_ELEVATION_DEG = 15.0
#: the closest point of ``approach`` (metres)
APPROACH_NEAR_M = 0.2


def check_position(
    azimuth_deg: float, elevation_deg: float, distance_m: float
) -> tuple[float, float, float]:
    """Validate a source position; :class:`ParameterError` names what is wrong."""
    az = check_range("azimuth_deg", azimuth_deg, *AZIMUTH_RANGE, unit="deg")
    el = check_range("elevation_deg", elevation_deg, *ELEVATION_RANGE, unit="deg")
    dist = check_range("distance_m", distance_m, 0.0, DISTANCE_MAX_M, low_inclusive=False, unit="m")
    return az, el, dist


def motion_path(
    name: str,
    *,
    azimuth_deg: float = 0.0,
    elevation_deg: float = 0.0,
    distance_m: float = 1.0,
    period_s: float = 20.0,
    rng: np.random.Generator | None = None,
) -> MotionPath:
    """Build a motion path.

    Parameters
    ----------
    name : str
        One of :data:`MOTIONS`: ``static``, ``sweep``, ``orbit``, ``drift``, ``approach``.
    azimuth_deg : float
        Start or centre azimuth in degrees, -360 … 360; 0 = ahead, +90 = left,
        -90 = right, ±180 = behind (SOFA convention).
    elevation_deg : float
        Elevation in degrees, -90 … 90; positive up.
    distance_m : float
        Distance from the centre of the head in metres, 0 < distance_m <= 100.
    period_s : float
        Seconds for one full cycle (0.5 … 86400); ignored by ``static``.
    rng : numpy.random.Generator, optional
        Needed by ``drift`` only (drawn from once, here); other motions never draw.

    Returns
    -------
    callable
        ``path(t_s) -> (azimuth_deg, elevation_deg, distance_m)``, float64 arrays
        shaped like ``t_s``.
    """
    if name not in MOTIONS:
        raise ParameterError("motion", name, "one of " + ", ".join(MOTIONS))
    az0, el0, d0 = check_position(azimuth_deg, elevation_deg, distance_m)
    period = check_range("period_s", period_s, *PERIOD_RANGE, unit="s")
    w = 2.0 * np.pi / period

    def const(t: np.ndarray, v: float) -> np.ndarray:
        return np.full(np.shape(t), v, dtype=np.float64)

    if name == "static":

        def static(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            return const(t, az0), const(t, el0), const(t, d0)

        return static

    if name == "sweep":
        phase0 = float(np.arccos(np.clip(az0 / 90.0, -1.0, 1.0)))

        def sweep(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            tt = np.asarray(t, dtype=np.float64)
            return 90.0 * np.cos(w * tt + phase0), const(tt, el0), const(tt, d0)

        return sweep

    if name == "orbit":

        def orbit(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            tt = np.asarray(t, dtype=np.float64)
            az = (az0 + 360.0 * ((tt / period) % 1.0) + 180.0) % 360.0 - 180.0
            return az, const(tt, el0), const(tt, d0)

        return orbit

    if name == "approach":
        near = min(APPROACH_NEAR_M, 0.5 * d0)
        ratio = near / d0

        def approach(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            tt = np.asarray(t, dtype=np.float64)
            x = 0.5 - 0.5 * np.cos(w * tt)
            return const(tt, az0), const(tt, el0), d0 * ratio**x

        return approach

    # drift: a sum of slow sinusoids with random, incommensurate rates and phases;
    # the amplitudes sum to one, so the wander never leaves the region.
    if not isinstance(rng, np.random.Generator):
        raise ParameterError("rng", rng, "a numpy.random.Generator (motion='drift' is random)")
    k = 4
    f_az = rng.uniform(0.5, 1.5, k) / period
    f_el = rng.uniform(0.5, 1.5, k) / period
    p_az = rng.uniform(0.0, 2.0 * np.pi, k)
    p_el = rng.uniform(0.0, 2.0 * np.pi, k)
    a_az = rng.uniform(0.5, 1.0, k)
    a_el = rng.uniform(0.5, 1.0, k)
    a_az /= a_az.sum()
    a_el /= a_el.sum()

    def drift(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        tt = np.asarray(t, dtype=np.float64)
        s_az = np.zeros(np.shape(tt))
        s_el = np.zeros(np.shape(tt))
        for i in range(k):
            s_az = s_az + a_az[i] * np.sin(2.0 * np.pi * f_az[i] * tt + p_az[i])
            s_el = s_el + a_el[i] * np.sin(2.0 * np.pi * f_el[i] * tt + p_el[i])
        az = az0 + DRIFT_AZIMUTH_DEG * s_az
        el = np.clip(el0 + DRIFT_ELEVATION_DEG * s_el, -90.0, 90.0)
        return az, el, const(tt, d0)

    return drift
