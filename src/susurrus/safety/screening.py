"""Screening rules: when a questionnaire result must show crisis resources at once.

PHQ-9 item 9 asks about "thoughts that you would be better off dead, or of
hurting yourself in some way". Any answer above "Not at all" (0) shows the
crisis resources immediately, in the same screen or command output, whatever
the total score — a total of 1 included, and no reassuring words with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .resources import CrisisResources, crisis_resources, format_crisis

#: (instrument, 0-based item index) pairs that trigger crisis resources when > 0.
CRISIS_ITEMS: dict[str, int] = {"phq9": 8}


@dataclass(frozen=True)
class Screening:
    """What a result requires: crisis resources (or ``None``) and the text to show first."""

    crisis: CrisisResources | None

    @property
    def urgent(self) -> bool:
        return self.crisis is not None

    def message(self) -> str:
        """The crisis message ("" when none is needed)."""
        return format_crisis(self.crisis) if self.crisis is not None else ""


def needs_crisis_resources(instrument: str, answers: Sequence[int]) -> bool:
    """``True`` when a crisis item (PHQ-9 item 9) is answered above 0."""
    idx = CRISIS_ITEMS.get(instrument.lower())
    return idx is not None and len(answers) > idx and int(answers[idx]) > 0


def screen(instrument: str, answers: Sequence[int], *, locale: str | None = None) -> Screening:
    """Apply the screening rules to a questionnaire's answers."""
    if needs_crisis_resources(instrument, answers):
        return Screening(crisis_resources(locale))
    return Screening(None)
