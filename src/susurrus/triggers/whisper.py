"""Whispered voice: personal-attention phrases, slow counting, paced breathing cues.

Whispering is the trigger most often reported as effective (75 %), personal attention
the second (69 %) (Barratt & Davis 2015).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from . import register
from ._voice import PhraseFileError, VoiceTrigger, load_phrases
from .base import Param

__all__ = ["JUDGE_SETTINGS", "Whisper"]

#: The second parameter setting the recognition test renders for each variant.
JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "female": {"rate_wpm": 130.0, "breaths": 0.0, "closeness": 0.9},
    "male": {"rate_wpm": 90.0, "pause_s": 3.5, "brightness": 0.6},
    "counting": {"count_from": 20.0, "pause_s": 1.4},
    "breathing-cues": {"breath_rate_per_min": 8.0, "closeness": 0.7},
}


@register
class Whisper(VoiceTrigger):
    """A close, soft whisper (female or male), counting down, or pacing slow breathing.

    Physics: in a whisper the vocal folds are held apart and do not vibrate; the
    sound source is turbulent airflow at the glottis — broadband noise — filtered by
    the vocal tract, whose resonances (formants) carry the words (source–filter
    theory, Fant 1960). Whispered formants are broader and F1 is higher than in
    voiced speech. This trigger therefore takes espeak-ng's rendition of each phrase
    only for its vocal-tract envelope — linear prediction per 23 ms frame (Makhoul
    1975), poles widened by ~120 Hz — and re-excites that envelope with fresh
    Gaussian noise at the render rate: there is no periodic excitation at all, so
    the whisper is unvoiced by construction and no two utterances are alike. A close
    directional microphone adds its proximity effect (a low shelf, ``closeness``);
    sibilants are compressed in the 4.5–10 kHz band (de-essing) and ``brightness``
    sets a high shelf. Pauses carry, when ``breaths`` > 0, a soft inhale just before
    the next phrase (turbulent noise through an open, neutral tract under a swell).

    Variants: ``female`` and ``male`` speak personal-attention phrases
    (``attention.txt``); ``counting`` counts slowly down from ``count_from`` to one
    (``counting.txt``) and starts again after a longer rest; ``breathing-cues`` says
    "breathe in …" at the start of each in-breath and "and out …" at the start of
    each out-breath, paced at ``breath_rate_per_min`` with the in-breath taking 40 %
    of the cycle (``breathing_cues.txt``, lines ``in: …`` / ``out: …``). Phrase files
    can be overridden in ``$SUSURRUS_PHRASES_DIR``.
    """

    family = "whisper"
    whisper: ClassVar[bool] = True
    description = "A close whisper: personal attention, slow counting or breathing cues"
    params: ClassVar[tuple[Param, ...]] = (
        Param("rate_wpm", 105.0, 50.0, 200.0, "wpm", "speaking rate, words per minute"),
        Param("pause_s", 2.2, 0.3, 10.0, "s", "mean pause between phrases"),
        Param(
            "breaths",
            0.5,
            0.0,
            1.0,
            "",
            "how often (and how audibly) a soft breath precedes a phrase; 0: never",
        ),
        Param("closeness", 0.4, 0.0, 1.0, "", "microphone distance: 1 = very close, warm"),
        Param("brightness", 0.35, 0.0, 1.0, "", "air and crispness (0 dark, 1 open)"),
        Param("pitch", 50.0, 0.0, 99.0, "", "voice height (formant scale nudge), espeak units"),
        Param("count_from", 10.0, 3.0, 20.0, "", "counting: the number counted down from"),
        Param("breath_rate_per_min", 6.0, 3.0, 12.0, "1/min", "breathing cues: breaths per minute"),
    )
    variant_defaults: ClassVar[dict[str, dict[str, float]]] = {
        "female": {"pitch": 55.0},
        "male": {"pitch": 40.0, "rate_wpm": 100.0},
        "counting": {"pause_s": 1.8, "rate_wpm": 95.0},
        "breathing-cues": {"rate_wpm": 100.0, "breaths": 0.4},
    }

    def _voice_gender(self) -> str:
        return "male" if self.variant == "male" else "female"

    def _load(self) -> None:
        if self.variant == "counting":
            words = load_phrases("counting.txt")
            n = int(round(self.values["count_from"]))
            if len(words) < n:
                raise PhraseFileError(
                    f"counting.txt lists {len(words)} numbers but count_from={n} needs {n}"
                )
            self.phrases = words[:n]
            self._count = n
        elif self.variant == "breathing-cues":
            lines = load_phrases("breathing_cues.txt")
            self._cues: dict[str, list[str]] = {"in": [], "out": []}
            for line in lines:
                kind, sep, text = line.partition(":")
                kind = kind.strip().lower()
                if not sep or kind not in self._cues or not text.strip():
                    raise PhraseFileError(
                        f"breathing_cues.txt: line {line!r} must start with 'in:' or 'out:' "
                        "followed by the cue"
                    )
                self._cues[kind].append(text.strip())
            if not self._cues["in"] or not self._cues["out"]:
                raise PhraseFileError(
                    "breathing_cues.txt needs at least one 'in:' and one 'out:' cue"
                )
            self.phrases = self._cues["in"] + self._cues["out"]
            self._cycle = 0
        else:
            self.phrases = load_phrases("attention.txt")

    def _next_segment(self) -> np.ndarray:
        if self.variant == "counting":
            return self._counting_segment()
        if self.variant == "breathing-cues":
            return self._breathing_segment()
        return super()._next_segment()

    # -- counting ------------------------------------------------------------------

    def _counting_segment(self) -> np.ndarray:
        if self._count == len(self.phrases):
            self.engine.prefetch(self.phrases[::-1])
        word = self.phrases[self._count - 1]
        y = self._level(self.engine.utterance(word, self.rng), gain_db=-1.0)
        self._count -= 1
        pause = self.values["pause_s"] * self.rng.uniform(0.85, 1.2)
        if self._count == 0:  # a longer rest, then count down again
            self._count = len(self.phrases)
            pause *= self.rng.uniform(2.5, 3.5)
        return np.concatenate([y, self._pause_with_breath(pause)])

    # -- breathing cues ------------------------------------------------------------

    def _cue(self, kind: str) -> str:
        options = self._cues[kind]
        return options[int(self.rng.integers(len(options)))]

    def _breathing_segment(self) -> np.ndarray:
        """One full breath cycle: an in-cue at 0, an out-cue at 40 % of the cycle."""
        if self._cycle == 0:
            self.engine.prefetch(self.phrases)
        self._cycle += 1
        cycle_s = 60.0 / self.values["breath_rate_per_min"]
        n = int(round(cycle_s * self.sr))
        n_in = int(round(0.4 * n))
        out = np.zeros(n)
        b_amt = self.values["breaths"]
        for kind, start, length in (("in", 0, n_in), ("out", n_in, n - n_in)):
            text = self._cue(kind)
            y = self.engine.utterance(text, self.rng)
            room = int(0.7 * length) if b_amt > 0 else length - int(0.3 * self.sr)
            if len(y) > room:  # say it faster so that it fits its half of the breath
                y = self.engine.utterance(text, self.rng, stretch=0.9 * room / len(y))
                y = y[:room] * np.minimum(
                    1.0, (room - np.arange(min(room, len(y)))) / (0.02 * self.sr)
                )
            y = self._level(y)
            out[start : start + len(y)] += y
            if b_amt > 0 and self.rng.random() < max(b_amt, 0.5):
                # a model breath follows the cue within the same half-cycle
                gap = int(self.rng.uniform(0.1, 0.25) * self.sr)
                avail = length - len(y) - gap - int(0.15 * self.sr)
                if avail > int(0.4 * self.sr):
                    dur = min(avail / self.sr, self.rng.uniform(1.2, 2.2))
                    b = self._breath(inhale=(kind == "in"), duration_s=dur)
                    s0 = start + len(y) + gap
                    seg = b[: min(len(b), start + length - s0)]
                    out[s0 : s0 + len(seg)] += seg
        return out
