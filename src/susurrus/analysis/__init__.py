"""Analysis of any recording: loudness, jarring moments, hum and hiss, trigger tags,
a calm score and a level budget — and softening of the jarring moments.

The public entry point is :func:`analyze_file` (one file → one JSON-able record);
a batch engine runs it over many files.
"""

from __future__ import annotations

from .core import (
    EVENT_KINDS,
    RECORD_KEYS,
    Analysis,
    Analyzer,
    analyze_file,
    analyze_file_full,
    analyze_signal,
    analyze_signal_full,
    error_record,
)

__all__ = [
    "EVENT_KINDS",
    "RECORD_KEYS",
    "Analysis",
    "Analyzer",
    "analyze_file",
    "analyze_file_full",
    "analyze_signal",
    "analyze_signal_full",
    "error_record",
]
