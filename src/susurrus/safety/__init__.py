"""Safety: the one place that owns crisis resources, screening rules and wording.

Every surface that shows a questionnaire result calls :func:`screen`; when
PHQ-9 item 9 is above 0 it returns the locale's crisis resources, to be shown
at once. Scores are screening aids, not diagnoses (:data:`SCREENING_NOTE`);
sessions "may help you relax" (:data:`RELAX_CLAIM`) and complement, never
replace, professional care (:data:`COMPLEMENT_NOTE`, shown once at first run
by :func:`first_run_note`).
"""

from __future__ import annotations

from .first_run import first_run_note, first_run_pending, mark_first_run_shown
from .resources import (
    CrisisResources,
    Resource,
    crisis_resources,
    default_locale,
    format_crisis,
    last_checked,
    locales,
    resolve_locale,
)
from .screening import CRISIS_ITEMS, Screening, needs_crisis_resources, screen
from .wording import (
    COMPLEMENT_NOTE,
    COMPLEMENT_NOTE_WEB,
    RELAX_CLAIM,
    SCREENING_NOTE,
    WordingError,
    check_wording,
)

__all__ = [
    "COMPLEMENT_NOTE",
    "COMPLEMENT_NOTE_WEB",
    "CRISIS_ITEMS",
    "RELAX_CLAIM",
    "SCREENING_NOTE",
    "CrisisResources",
    "Resource",
    "Screening",
    "WordingError",
    "check_wording",
    "crisis_resources",
    "default_locale",
    "first_run_note",
    "first_run_pending",
    "format_crisis",
    "last_checked",
    "locales",
    "mark_first_run_shown",
    "needs_crisis_resources",
    "resolve_locale",
    "screen",
]
