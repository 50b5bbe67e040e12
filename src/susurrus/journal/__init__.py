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

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
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
    from .heart_rate import (
        HRData,
        SessionHR,
        import_hr,
        parse_hr_csv,
        rmssd,
        session_hr,
        summarize,
    )
    from .insights import (
        Insights,
        PairedChange,
        compute_insights,
        describe,
        make_figures,
        paired_change,
        plot_insights,
    )
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
    from .report import render_html, write_report
    from .sleep import SleepAnswers, SleepMetrics, add_sleep_entry, resolve_clock, validate

__all__ = [  # noqa: RUF022 - grouped: heart rate, insights and reports, then the journal
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

# everything loads on first use: the store (SQLAlchemy) with the journal, scipy and
# matplotlib only with insights and reports
if not TYPE_CHECKING:  # type checkers see the imports above
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            ".checkins": (
                "RATINGS",
                "Ratings",
                "add_checkin",
                "finish_session",
                "latest_open_session",
                "list_entries",
                "scene_family",
                "start_session",
            ),
            ".errors": ("HRImportError", "JournalError", "SleepDiaryError"),
            ".heart_rate": (
                "HRData",
                "SessionHR",
                "import_hr",
                "parse_hr_csv",
                "rmssd",
                "session_hr",
                "summarize",
            ),
            ".insights": (
                "Insights",
                "PairedChange",
                "compute_insights",
                "describe",
                "make_figures",
                "paired_change",
                "plot_insights",
            ),
            ".profiles": ("ensure_profile", "list_profiles"),
            ".questionnaires": (
                "INSTRUMENTS",
                "Instrument",
                "QuestionnaireResult",
                "format_result",
                "get_instrument",
                "parse_answers",
                "record_result",
                "score_answers",
            ),
            ".report": ("render_html", "write_report"),
            ".sleep": (
                "SleepAnswers",
                "SleepMetrics",
                "add_sleep_entry",
                "resolve_clock",
                "validate",
            ),
        },
    )
