"""The private journal: sessions, check-ins, sleep diary, questionnaires, heart rate, insights.

>>> from susurrus.store import open_store
>>> from susurrus.journal import Ratings, start_session, add_checkin
>>> store = open_store()                                                    # doctest: +SKIP
>>> sid = start_session(store, "ada", goal="sleep", family="rain")          # doctest: +SKIP
>>> add_checkin(store, "ada", Ratings(stress=6, calm=3), phase="before", session_id=sid)  # doctest: +SKIP

Questionnaire results go through :mod:`susurrus.safety` (crisis resources at once
when PHQ-9 item 9 is above 0); scores are screening aids, not diagnoses.
"""

from __future__ import annotations

from .checkins import (
    RATINGS,
    Ratings,
    add_checkin,
    finish_session,
    latest_open_session,
    list_entries,
    scene_family,
    start_session,
)
from .errors import HRImportError, JournalError, SleepDiaryError
from .heart_rate import HRData, SessionHR, import_hr, parse_hr_csv, rmssd, session_hr, summarize
from .profiles import ensure_profile, list_profiles
from .questionnaires import (
    INSTRUMENTS,
    Instrument,
    QuestionnaireResult,
    format_result,
    get_instrument,
    parse_answers,
    record_result,
    score_answers,
)
from .sleep import SleepAnswers, SleepMetrics, add_sleep_entry, resolve_clock, validate

_LAZY = {  # scipy and matplotlib load only when insights or reports are used
    "Insights": "insights",
    "PairedChange": "insights",
    "compute_insights": "insights",
    "describe": "insights",
    "make_figures": "insights",
    "paired_change": "insights",
    "plot_insights": "insights",
    "render_html": "report",
    "write_report": "report",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [  # noqa: RUF022 - grouped: eager names, then lazy ones
    "HRData",
    "Insights",
    "PairedChange",
    "SessionHR",
    "compute_insights",
    "describe",
    "import_hr",
    "make_figures",
    "paired_change",
    "parse_hr_csv",
    "plot_insights",
    "render_html",
    "rmssd",
    "session_hr",
    "summarize",
    "write_report",
    "INSTRUMENTS",
    "RATINGS",
    "HRImportError",
    "Instrument",
    "JournalError",
    "QuestionnaireResult",
    "Ratings",
    "SleepAnswers",
    "SleepDiaryError",
    "SleepMetrics",
    "add_checkin",
    "add_sleep_entry",
    "ensure_profile",
    "finish_session",
    "format_result",
    "get_instrument",
    "latest_open_session",
    "list_entries",
    "list_profiles",
    "parse_answers",
    "record_result",
    "resolve_clock",
    "scene_family",
    "score_answers",
    "start_session",
    "validate",
]
