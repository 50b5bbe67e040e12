"""The wording rules: screening aids, not diagnoses; "may help", never "treats".

Every surface that shows a questionnaire result or describes what a session
does uses these sentences, and :func:`check_wording` guards new text.
"""

from __future__ import annotations

import re

SCREENING_NOTE = (
    "This score is a screening aid, not a diagnosis. Only a qualified professional can "
    "make a diagnosis; if the result worries you, talk to your doctor or a mental-health professional."
)
RELAX_CLAIM = "Listening may help you relax, wind down or fall asleep."
_COMPLEMENT = (
    "Susurrus is a relaxation aid. ASMR may help you relax or sleep, and it complements "
    "professional care — it does not replace it. If you are struggling, please talk to a "
    "doctor or a mental-health professional; if you are in crisis, contact a helpline now "
    "({where} lists them for your country)."
)
COMPLEMENT_NOTE = _COMPLEMENT.format(where="`susurrus crisis`")
#: the same note in the web app, where the Help page lists the helplines
COMPLEMENT_NOTE_WEB = _COMPLEMENT.format(where="Help")

#: Claims Susurrus must never make about itself.
_FORBIDDEN = re.compile(
    r"\b(treats?|treating|treated|cures?|cured|curing|heals?|healing|therap(y|ies) for|"
    r"clinically proven|guaranteed?)\b",
    re.IGNORECASE,
)


class WordingError(ValueError):
    """User-facing text makes a claim Susurrus must not make."""


def check_wording(text: str) -> str:
    """Return ``text`` unchanged, or raise :class:`WordingError` if it overclaims.

    Forbidden: "treats", "cures", "heals", "clinically proven", "guaranteed" and
    their forms. Use "may help you relax" instead.
    """
    m = _FORBIDDEN.search(text)
    if m:
        raise WordingError(
            f"forbidden claim {m.group(0)!r} in: {text[:120]!r}; say 'may help you relax'"
        )
    return text
