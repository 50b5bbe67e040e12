"""Analysis of any recording: loudness, jarring moments, hum and hiss, trigger tags,
a calm score and a level budget — and softening of the jarring moments.

The public entry point is :func:`analyze_file` (one file → one JSON-able record);
a batch engine runs it over many files. The names load on first use, so the
``analyze`` and ``soften`` commands register without importing SciPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
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

if not TYPE_CHECKING:  # type checkers see the imports above
    __getattr__, __dir__ = lazy_exports(__name__, {".core": __all__})
