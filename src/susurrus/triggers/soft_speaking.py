"""A softly spoken voice: close, slow, warm, quiet."""

from __future__ import annotations

from typing import ClassVar

from . import register
from ._voice import VoiceTrigger
from .base import Param

__all__ = ["JUDGE_SETTINGS", "SoftSpeaking"]

#: The second parameter setting the recognition test renders for each variant.
JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "female": {"rate_wpm": 140.0, "closeness": 0.9, "breaths": 0.0},
    "male": {"rate_wpm": 100.0, "pause_s": 3.0, "brightness": 0.6},
}


@register
class SoftSpeaking(VoiceTrigger):
    """A softly spoken voice with the same phrase machinery as the whisper.

    Physics: soft (low-effort) phonation — the vocal folds vibrate with a gentle,
    incompletely closing glottis, so the voice is quieter, its spectrum falls off
    faster above ~2 kHz and a breathy noise component rides on the harmonics
    (Hillenbrand et al. 1994 on breathy voice). espeak-ng supplies the voiced
    phrase (a formant synthesiser driven by a glottal pulse train); each utterance is
    resampled by a random ratio within ±2.5 % (pitch and tempo vary like a real
    speaker's), mixed with a faint noise-excited copy of its own LPC envelope
    (breathiness, fresh noise every time), low-passed (no harsh sibilants;
    ``brightness`` moves the cut-off 3.2–5.7 kHz) and warmed by the proximity effect of
    a close directional microphone (a low shelf, ``closeness``). Phrases come from
    ``soft_speaking.txt`` (overridable in ``$SUSURRUS_PHRASES_DIR``) in shuffled order,
    separated by pauses with, when ``breaths`` > 0, a soft inhale before the next phrase.
    """

    family = "soft-speaking"
    whisper: ClassVar[bool] = False
    phrase_file: ClassVar[str] = "soft_speaking.txt"
    description = "A softly spoken, close, slow voice"
    params: ClassVar[tuple[Param, ...]] = (
        Param("rate_wpm", 120.0, 80.0, 200.0, "wpm", "speaking rate, words per minute"),
        Param("pause_s", 1.8, 0.3, 10.0, "s", "mean pause between phrases"),
        Param(
            "breaths",
            0.4,
            0.0,
            1.0,
            "",
            "how often (and how audibly) a soft breath precedes a phrase; 0: never",
        ),
        Param("closeness", 0.6, 0.0, 1.0, "", "microphone distance: 1 = very close, warm"),
        Param("brightness", 0.3, 0.0, 1.0, "", "air and crispness (0 dark, 1 open)"),
        Param("pitch", 40.0, 0.0, 99.0, "", "voice pitch, espeak-ng units (50 = its default)"),
    )
    variant_defaults: ClassVar[dict[str, dict[str, float]]] = {
        "female": {"pitch": 40.0},
        "male": {"pitch": 35.0, "rate_wpm": 115.0},
    }

    def _setup(self) -> None:
        super()._setup()
        # Warm the voice engine now: deal the first deck and render its first batch of
        # phrases (one espeak-ng process, ~0.2 s) while the trigger is being set up, not
        # inside the first block a caller reads. The deck is the one the first phrase
        # would deal (same draw from the generator, nothing else drawn before it), so
        # the output is unchanged.
        self._shuffle_deck()
