"""Know the listener: the listener model, trigger discovery, sessions for a goal.

``model``: :class:`ListenerProfile` (ratings, avoid-list, sensitivity, Bayesian beliefs);
``discovery``: the next short clip to rate and its rendering; ``sessions``: a scene for
a goal (relax, sleep, focus, unwind) with an explanation; ``scripts``: guided whisper
scripts parsed into timed cues. The names load on first use, so the ``profile``
commands register without importing scenes and triggers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ..scene.scripts import (
        Cue,
        Script,
        list_scripts,
        load_script,
        parse_script,
        render_script,
    )
    from .discovery import clip_scene, next_clip, render_clip, sample_params
    from .model import (
        MIN_RATINGS,
        QUESTIONS,
        FamilyBelief,
        ListenerProfile,
        ModelSettings,
        Question,
        Rating,
        Sensitivity,
        prior_mean,
    )
    from .sessions import (
        GOALS,
        Explanation,
        Session,
        build_session,
        check_session,
        session_families,
    )

__all__ = [
    "GOALS",
    "MIN_RATINGS",
    "QUESTIONS",
    "Cue",
    "Explanation",
    "FamilyBelief",
    "ListenerProfile",
    "ModelSettings",
    "Question",
    "Rating",
    "Script",
    "Sensitivity",
    "Session",
    "build_session",
    "check_session",
    "clip_scene",
    "list_scripts",
    "load_script",
    "next_clip",
    "parse_script",
    "prior_mean",
    "render_clip",
    "render_script",
    "sample_params",
    "session_families",
]

if not TYPE_CHECKING:  # type checkers see the imports above
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "..scene.scripts": (
                "Cue",
                "Script",
                "list_scripts",
                "load_script",
                "parse_script",
                "render_script",
            ),
            ".discovery": ("clip_scene", "next_clip", "render_clip", "sample_params"),
            ".model": (
                "MIN_RATINGS",
                "QUESTIONS",
                "FamilyBelief",
                "ListenerProfile",
                "ModelSettings",
                "Question",
                "Rating",
                "Sensitivity",
                "prior_mean",
            ),
            ".sessions": (
                "GOALS",
                "Explanation",
                "Session",
                "build_session",
                "check_session",
                "session_families",
            ),
        },
    )
