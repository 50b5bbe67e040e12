"""Unit helpers: decibels, durations written ``30s`` / ``45m`` / ``8h``."""

from __future__ import annotations

import re

import numpy as np

from .errors import ParameterError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|min|h|d)?\s*$")
_FACTORS = {"ms": 0.001, "s": 1.0, None: 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def db_to_amp(gain_db: float) -> float:
    """Amplitude factor for a gain in dB (20 log10)."""
    return float(10.0 ** (gain_db / 20.0))


def amp_to_db(amp: float, floor_db: float = -200.0) -> float:
    """Gain in dB for an amplitude factor; ``floor_db`` for zero."""
    a = abs(float(amp))
    return float(max(floor_db, 20.0 * np.log10(a))) if a > 0 else floor_db


def power_to_db(power: float, floor_db: float = -200.0) -> float:
    """Level in dB for a mean-square power (10 log10)."""
    return float(max(floor_db, 10.0 * np.log10(power))) if power > 0 else floor_db


def parse_duration(text: str | float | int, *, name: str = "duration") -> float:
    """Parse ``"30s"``, ``"45m"``, ``"8h"``, ``"1.5h"``, ``"90"`` (seconds) into seconds.

    Raises :class:`ParameterError` for anything else, negative values included.
    """
    if isinstance(text, int | float):
        v = float(text)
        if not np.isfinite(v) or v < 0:
            raise ParameterError(name, text, "a non-negative duration such as 30s, 45m or 8h")
        return v
    m = _DURATION.match(str(text))
    if not m:
        raise ParameterError(name, text, "a duration such as 30s, 45m, 8h (units: ms, s, m, h, d)")
    return float(m.group(1)) * _FACTORS[m.group(2)]


def format_duration(seconds: float) -> str:
    """Compact human form: ``45m``, ``1h30m``, ``12.5s``."""
    s = float(seconds)
    if s < 60:
        return f"{s:g}s"
    h, rem = divmod(int(round(s)), 3600)
    m, sec = divmod(rem, 60)
    out = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{sec}s" if sec else "")
    return out or "0s"
