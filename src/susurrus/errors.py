"""The one exception tree.

Everything Susurrus raises on purpose derives from :class:`SusurrusError`. The CLI
and the API translate these into a one-line message (or an HTTP 4xx); nothing
else in the library prints or exits.
"""

from __future__ import annotations

from typing import Any


class SusurrusError(Exception):
    """Root of every error Susurrus raises on purpose."""


class ParameterError(SusurrusError, ValueError):
    """A parameter is out of its allowed range or of the wrong kind.

    The message names the parameter, the value and what is allowed, e.g.
    ``duration_s=-3.0 is out of range; allowed 0 < duration_s <= 86400``.
    """

    def __init__(self, name: str, value: Any, allowed: str) -> None:
        self.name = name
        self.value = value
        self.allowed = allowed
        super().__init__(f"{name}={value!r} is not allowed; allowed: {allowed}")


class AudioError(SusurrusError):
    """Audio data is unusable (NaN, wrong dtype or layout, empty)."""


class AudioFileError(AudioError):
    """An audio file cannot be read or written."""


class SceneError(SusurrusError, ValueError):
    """A scene file or share string is malformed or invalid."""


class UnknownTriggerError(ParameterError):
    """A trigger family or variant id is not registered."""


class HRIRError(SusurrusError):
    """A head-related impulse response set (SOFA file) is missing or unusable."""


class TaggerError(SusurrusError):
    """The sound-event tagger (YAMNet) cannot be loaded or run."""


class AudioWarning(UserWarning):
    """A non-fatal audio problem (clipping, near-silence)."""


def check_range(
    name: str,
    value: float,
    low: float,
    high: float,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    unit: str = "",
) -> float:
    """Return ``float(value)`` or raise :class:`ParameterError` naming the range.

    NaN and infinities are always rejected.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(name, value, f"a number in {_range(low, high, low_inclusive, high_inclusive, unit)}") from None
    ok_low = v >= low if low_inclusive else v > low
    ok_high = v <= high if high_inclusive else v < high
    if not (ok_low and ok_high) or v != v:  # v != v catches NaN
        raise ParameterError(name, value, _range(low, high, low_inclusive, high_inclusive, unit))
    return v


def _range(low: float, high: float, li: bool, hi: bool, unit: str) -> str:
    u = f" {unit}" if unit else ""
    return f"{low:g}{u} {'<=' if li else '<'} value {'<=' if hi else '<'} {high:g}{u}"
