"""The canonical trigger-family ids and the AudioSet (YAMNet) labels that identify them.

Profiles, scenes, analysis tags and the web app all use these ids. The labels are
YAMNet's own class names (``yamnet_class_map.csv``), spelled exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import UnknownTriggerError


@dataclass(frozen=True)
class Family:
    """One trigger family: id, what it is, its variants and its AudioSet labels."""

    id: str
    description: str
    variants: tuple[str, ...]
    labels: tuple[str, ...]
    #: the population share reporting it as an effective trigger (Barratt & Davis 2015
    #: where reported; otherwise a conservative estimate used as a prior)
    prevalence: float


FAMILIES: tuple[Family, ...] = (
    Family("whisper", "Whispered voice: personal-attention phrases, counting, breathing cues",
           ("female", "male", "counting", "breathing-cues"), ("Whispering", "Speech"), 0.75),
    Family("soft-speaking", "Softly spoken voice, close and slow", ("female", "male"),
           ("Speech",), 0.60),
    Family("tapping", "Fingertip and nail taps on wood, glass, plastic",
           ("wood", "glass", "plastic", "fingernails"),
           ("Tap", "Knock", "Wood block", "Chink, clink"), 0.64),
    Family("scratching", "Slow scratching and rubbing of textured surfaces", ("default",),
           ("Scratch", "Sanding", "Rub"), 0.50),
    Family("crinkling", "Crinkling paper, plastic and foil", ("paper", "plastic", "foil"),
           ("Crumpling, crinkling", "Tearing"), 0.55),
    Family("brushing", "Soft brush strokes on the microphone, hair brushing",
           ("mic", "hair"), ("Rustle", "Rub", "Toothbrush", "Whoosh, swoosh, swish"), 0.53),
    Family("page-turning", "Turning the pages of a book", ("default",),
           ("Rustle", "Whoosh, swoosh, swish", "Shuffling cards"), 0.45),
    Family("typing", "Typing on a keyboard or a typewriter", ("keyboard", "typewriter"),
           ("Typing", "Computer keyboard", "Typewriter"), 0.40),
    Family("writing", "A pencil writing on paper", ("pencil",), ("Writing",), 0.45),
    Family("scissors", "Haircut scissor snips", ("haircut",), ("Scissors",), 0.40),
    Family("rain", "Rain: light, on a window, on a tent", ("light", "window", "tent"),
           ("Rain", "Rain on surface", "Raindrop"), 0.60),
    Family("water", "Water: pouring, droplets, a stream", ("pouring", "droplets", "stream"),
           ("Pour", "Drip", "Stream", "Trickle, dribble", "Liquid", "Gurgling"), 0.50),
    Family("fire", "A crackling fireplace", ("fireplace",), ("Fire", "Crackle"), 0.45),
    Family("leaves", "Leaves rustling in the wind", ("wind",), ("Rustling leaves", "Wind"), 0.40),
    Family("clock", "A ticking clock", ("ticking",), ("Tick", "Tick-tock", "Clock"), 0.30),
    Family("heartbeat", "A slow, resting heartbeat", ("slow", "resting"),
           ("Heart sounds, heartbeat",), 0.30),
    Family("breathing", "Slow, calm breathing", ("slow", "calm"), ("Breathing",), 0.35),
    Family("noise", "Coloured noise beds: white, pink, brown, grey",
           ("white", "pink", "brown", "grey"), ("White noise", "Pink noise", "Noise"), 0.50),
)

FAMILY_IDS: tuple[str, ...] = tuple(f.id for f in FAMILIES)
_BY_ID = {f.id: f for f in FAMILIES}

#: Families YAMNet cannot tell apart; within a group, the group must beat every other family.
SIBLING_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"whisper", "soft-speaking"}),
    frozenset({"brushing", "page-turning", "leaves"}),
    frozenset({"scratching", "writing"}),
)


def get_family(family_id: str) -> Family:
    """The :class:`Family` for ``family_id``; :class:`UnknownTriggerError` otherwise."""
    try:
        return _BY_ID[family_id]
    except KeyError:
        raise UnknownTriggerError("family", family_id, "one of " + ", ".join(FAMILY_IDS)) from None


def siblings(family_id: str) -> frozenset[str]:
    """The family's sibling group (itself alone when it has none)."""
    for group in SIBLING_GROUPS:
        if family_id in group:
            return group
    return frozenset({family_id})
