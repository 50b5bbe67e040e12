"""Binaural space: HRIR loading (SOFA), interpolated binaural rendering, motion paths.

Every layer of a scene can have a place (``azimuth_deg``, ``elevation_deg``,
``distance_m``) and a path (``motion``, ``period_s``), rendered for headphones
from a measured head-related transfer function (MIT KEMAR by default) or, for
speakers, by constant-power panning. See :func:`describe_conventions`.

>>> import numpy as np
>>> from susurrus.spatial import make_spatializer
>>> sp = make_spatializer(sr=48000, azimuth_deg=90.0, motion="sweep", period_s=8.0)
>>> y = sp(np.zeros((1, 4800), dtype=np.float32))   # (2, 4800): left, right
"""

from __future__ import annotations

from .hrtf import HRTFTable, build_table
from .motion import MOTIONS, MotionPath, check_position, motion_path
from .render import MODES, Spatializer, distance_gain, make_spatializer, pan_gains
from .sofa import DEFAULT_SOFA_PATHS, SOFA_ENV, HRIRSet, find_sofa, load_hrir

__all__ = [
    "DEFAULT_SOFA_PATHS",
    "MODES",
    "MOTIONS",
    "SOFA_ENV",
    "HRIRSet",
    "HRTFTable",
    "MotionPath",
    "Spatializer",
    "build_table",
    "check_position",
    "describe_conventions",
    "distance_gain",
    "find_sofa",
    "load_hrir",
    "make_spatializer",
    "motion_path",
    "pan_gains",
]


def describe_conventions() -> str:
    """The spatial conventions, as shown in help output."""
    return (
        "Spatial conventions (SOFA / AES69):\n"
        "  azimuth_deg    0 = straight ahead, +90 = your left ear, -90 = your right ear,\n"
        "                 +/-180 = behind; counter-clockwise seen from above (-360 .. 360).\n"
        "  elevation_deg  0 = ear level, positive up, negative down (-90 .. 90).\n"
        "  distance_m     metres from the centre of your head (0 < d <= 100); 1 m is the\n"
        "                 reference level, closer is louder (1/r, capped at +20 dB); under\n"
        "                 0.5 m near-field cues (stronger low-frequency level difference\n"
        "                 between the ears, bass proximity boost) make a whisper close.\n"
        "  motion         static | sweep (ear to ear through the front, +90 -> -90 -> +90) |\n"
        "                 orbit (round the head, ahead -> left -> behind -> right) |\n"
        "                 drift (slow random wander within +/-30 deg azimuth, +/-15 deg\n"
        "                 elevation) | approach (in to 0.2 m and back out).\n"
        "  period_s       seconds for one full cycle of the motion (0.5 .. 86400).\n"
        "  mode           binaural (headphones: measured HRTF, MIT KEMAR by default) or\n"
        "                 pan (speakers, or a layer that opts out: constant-power pan).\n"
        "A source ahead at 1 m sounds as loud as the mono layer played on both ears.\n"
        f"HRIR data: a SimpleFreeFieldHRIR .sofa file; set ${SOFA_ENV} or pass a path to\n"
        "use your own head's measurements (default: Debian's libmysofa1 MIT KEMAR set)."
    )
