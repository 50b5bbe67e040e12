"""PHQ-9, PHQ-8 and GAD-7: verbatim items, scoring and severity bands in their own words.

These instruments may be reproduced without permission. Sources:

* PHQ-9 — Kroenke K, Spitzer RL, Williams JBW (2001). The PHQ-9: validity of a
  brief depression severity measure. *J Gen Intern Med* 16:606–613. Bands from
  the PHQ instruction manual (Pfizer): 0–4 none–minimal, 5–9 mild, 10–14
  moderate, 15–19 moderately severe, 20–27 severe.
* PHQ-8 — Kroenke K et al. (2009). The PHQ-8 as a measure of current depression
  in the general population. *J Affect Disord* 114:163–173 (PHQ-9 without
  item 9; same cut-points, 0–24).
* GAD-7 — Spitzer RL, Kroenke K, Williams JBW, Löwe B (2006). A brief measure
  for assessing generalized anxiety disorder. *Arch Intern Med* 166:1092–1097:
  "Scores of 5, 10, and 15 are taken as the cut-off points for mild, moderate
  and severe anxiety, respectively."

Both PHQ and GAD-7 were "developed by Drs. Robert L. Spitzer, Janet B.W.
Williams, Kurt Kroenke and colleagues, with an educational grant from Pfizer
Inc. No permission required to reproduce, translate, display or distribute."

A score is a screening aid, not a diagnosis (:data:`susurrus.safety.SCREENING_NOTE`);
PHQ-9 item 9 above 0 brings up crisis resources at once (:func:`susurrus.safety.screen`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ParameterError
from ..safety import SCREENING_NOTE, CrisisResources, screen
from ..store import QuestionnaireResponse, Store
from .profiles import profile_id

OPTIONS = ("Not at all", "Several days", "More than half the days", "Nearly every day")
DIFFICULTY_QUESTION = (
    "If you checked off any problems, how difficult have these problems made it for you "
    "to do your work, take care of things at home, or get along with other people?"
)
DIFFICULTY_OPTIONS = (
    "Not difficult at all",
    "Somewhat difficult",
    "Very difficult",
    "Extremely difficult",
)
COPYRIGHT = (
    "Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, "
    "with an educational grant from Pfizer Inc. No permission required to reproduce, "
    "translate, display or distribute."
)

PHQ_STEM = (
    "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
)
PHQ_ITEMS = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite — being "
    "so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
)
GAD_STEM = "Over the last 2 weeks, how often have you been bothered by the following problems?"
GAD_ITEMS = (
    "Feeling nervous, anxious or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid as if something awful might happen",
)

_PHQ_BANDS = (
    (0, "None-minimal"),
    (5, "Mild"),
    (10, "Moderate"),
    (15, "Moderately severe"),
    (20, "Severe"),
)
_GAD_BANDS = (
    (0, "Minimal anxiety"),
    (5, "Mild anxiety"),
    (10, "Moderate anxiety"),
    (15, "Severe anxiety"),
)


@dataclass(frozen=True)
class Instrument:
    """A questionnaire: its items verbatim, the answer options (scored 0–3) and its bands."""

    id: str
    title: str
    stem: str
    items: tuple[str, ...]
    bands: tuple[tuple[int, str], ...]
    citation: str
    options: tuple[str, ...] = OPTIONS

    @property
    def max_score(self) -> int:
        return 3 * len(self.items)

    def severity(self, score: int) -> str:
        """The severity band of a total score, in the instrument's own words."""
        if not 0 <= score <= self.max_score:
            raise ParameterError(f"{self.id}.score", score, f"0 <= score <= {self.max_score}")
        label = self.bands[0][1]
        for low, name in self.bands:
            if score >= low:
                label = name
        return label

    def band_table(self) -> list[tuple[int, int, str]]:
        """``[(low, high, label), …]`` for display."""
        lows = [b[0] for b in self.bands] + [self.max_score + 1]
        return [(lo, lows[i + 1] - 1, name) for i, (lo, name) in enumerate(self.bands)]


INSTRUMENTS: dict[str, Instrument] = {
    "phq9": Instrument(
        "phq9",
        "Patient Health Questionnaire (PHQ-9)",
        PHQ_STEM,
        PHQ_ITEMS,
        _PHQ_BANDS,
        "Kroenke, Spitzer & Williams (2001), J Gen Intern Med 16:606-613",
    ),
    "phq8": Instrument(
        "phq8",
        "Patient Health Questionnaire (PHQ-8)",
        PHQ_STEM,
        PHQ_ITEMS[:8],
        _PHQ_BANDS,
        "Kroenke et al. (2009), J Affect Disord 114:163-173",
    ),
    "gad7": Instrument(
        "gad7",
        "Generalized Anxiety Disorder scale (GAD-7)",
        GAD_STEM,
        GAD_ITEMS,
        _GAD_BANDS,
        "Spitzer, Kroenke, Williams & Löwe (2006), Arch Intern Med 166:1092-1097",
    ),
}


def get_instrument(instrument: str) -> Instrument:
    """Look an instrument up by id (``phq9``, ``phq8``, ``gad7``; ``PHQ-9`` also accepted)."""
    key = instrument.lower().replace("-", "")
    if key not in INSTRUMENTS:
        raise ParameterError("instrument", instrument, ", ".join(INSTRUMENTS))
    return INSTRUMENTS[key]


@dataclass(frozen=True)
class QuestionnaireResult:
    """A scored questionnaire. ``crisis`` is set when the answers require crisis resources."""

    instrument: str
    answers: tuple[int, ...]
    score: int
    severity: str
    item9: int | None
    crisis: CrisisResources | None
    difficulty: int | None = None
    taken_at: dt.datetime | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        """``{"instrument", "score", "severity", "item9", "crisis"}`` (+ answers, note)."""
        return {
            "instrument": self.instrument,
            "score": self.score,
            "severity": self.severity,
            "item9": self.item9,
            "crisis": None if self.crisis is None else self.crisis.to_dict(),
            "answers": list(self.answers),
            "note": SCREENING_NOTE,
        }


def parse_answers(text: str) -> list[int]:
    """Parse ``"0,1,2,3"`` (commas or spaces) into integers."""
    parts = [p for p in text.replace(",", " ").split() if p]
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise ParameterError(
            "answers", text, "integers 0-3 separated by commas, e.g. 0,1,0,2,…"
        ) from None


def score_answers(
    instrument: str,
    answers: Sequence[int],
    *,
    difficulty: int | None = None,
    locale: str | None = None,
) -> QuestionnaireResult:
    """Score a questionnaire and apply the safety screening rules.

    Parameters
    ----------
    instrument : str
        ``phq9``, ``phq8`` or ``gad7``.
    answers : sequence of int
        One answer per item, 0 = "Not at all" … 3 = "Nearly every day".
    difficulty : int, optional
        The PHQ functional-difficulty question, 0–3 (not scored).
    locale : str, optional
        Locale for crisis resources (see :func:`susurrus.safety.resolve_locale`).
    """
    inst = get_instrument(instrument)
    if len(answers) != len(inst.items):
        raise ParameterError(
            "answers", list(answers), f"{len(inst.items)} answers for {inst.id}, each 0-3"
        )
    vals: list[int] = []
    for i, a in enumerate(answers, start=1):
        if isinstance(a, bool) or not isinstance(a, int) or not 0 <= a <= 3:
            raise ParameterError(f"answers[item {i}]", a, "0 (Not at all) … 3 (Nearly every day)")
        vals.append(int(a))
    if difficulty is not None and (not isinstance(difficulty, int) or not 0 <= difficulty <= 3):
        raise ParameterError(
            "difficulty", difficulty, "0 (Not difficult at all) … 3 (Extremely difficult)"
        )
    total = sum(vals)
    scr = screen(inst.id, vals, locale=locale)
    return QuestionnaireResult(
        instrument=inst.id,
        answers=tuple(vals),
        score=total,
        severity=inst.severity(total),
        item9=vals[8] if inst.id == "phq9" else None,
        crisis=scr.crisis,
        difficulty=difficulty,
    )


def record_result(
    store: Store, profile: str, result: QuestionnaireResult, *, taken_at: dt.datetime | None = None
) -> int:
    """Save a scored questionnaire to the journal; return its id."""
    with store.session() as s:
        row = QuestionnaireResponse(
            profile_id=profile_id(s, profile, create=True),
            instrument=result.instrument,
            answers=list(result.answers),
            difficulty=result.difficulty,
            score=result.score,
            severity=result.severity,
            item9=result.item9,
        )
        if taken_at is not None:
            row.taken_at = taken_at
        s.add(row)
        s.flush()
        return int(row.id)


def format_result(result: QuestionnaireResult) -> str:
    """Text for a terminal. Crisis resources come FIRST when required, then the score."""
    inst = get_instrument(result.instrument)
    lines: list[str] = []
    if result.crisis is not None:
        from ..safety import format_crisis

        lines += [format_crisis(result.crisis), ""]
    lines.append(f"{inst.title}: score {result.score} of {inst.max_score} — {result.severity}.")
    lines.append(SCREENING_NOTE)
    return "\n".join(lines)
