"""Sessions for a goal: a :class:`~susurrus.scene.Scene` built from a listener profile.

Goals (why people use ASMR: relax 98 %, sleep 82 %, stress 70 %; Barratt & Davis 2015)
-------------------------------------------------------------------------------------
``sleep``
    Darker spectra (brown noise, low ``brightness``), lower density and slower
    tempo (rate parameters × 0.6–0.8), at most one soft point trigger that comes
    and goes, a quieter target (−30 LUFS), a long fade-out and a sleep timer (the
    fade starts at ``duration − fade``; never an abrupt stop).
``focus``
    Steady beds (coloured noise and one liked texture bed), no voice and no
    breathing, continuous activity; at most one low, steady texture the listener
    likes (writing, typing, page turning, a clock).
``relax``
    The listener's favourite triggers around the head, with personal attention: a
    close whisper or soft voice (female/male) unless avoided or disliked; when the
    listener likes whispering, half the sessions up to 15 min (by seed) speak the
    personal-attention affirmations script instead.
``unwind``
    Breathing-paced guidance: the whispered ``paced-breathing`` script (4 s in, 6 s
    out: 6 breaths per minute, a cue on each in- and out-breath; slow-paced
    breathing, e.g. Zaccaro et al. 2018 review) over a dark bed and one favourite.
    With whisper avoided (or rated low), a slow breathing sound paces instead.

Guided whisper scripts (:mod:`susurrus.scene.scripts`, editable text files) are
``script`` layers. ``unwind`` and ``relax`` loop theirs over the session (the
script's closing pause is the silence between repetitions); ``sleep`` speaks its
script once at the start (a bedtime countdown or a body scan, when whisper is
neither avoided nor disliked) and the beds carry on: a countdown that starts again
would wake the listener up.

Every choice stays within the profile: families are drawn from the listener's best
(posterior means from :class:`~susurrus.profile.model.ListenerProfile`) with a
little chance, parameters are jittered, positions and motion vary — seeded by the
session seed, so each session differs and the same seed gives the same scene.

Aversions are hard limits: no layer is ever of an avoided family (a script layer is
a whisper: :data:`SCRIPT_FAMILY`), and when ``breathing`` is avoided every voice and
script layer has ``breaths = 0`` (no breaths between whispered phrases, no
``[breath]`` cues in a script). :func:`check_session` verifies this on the finished
scene.

A listener classed as a non-responder gets calm, sleep-friendly beds (and, to
unwind, the breathing pacer) instead of tingle-chasing, and an honest note.

Each session comes with an :class:`Explanation`: the layers and why, what was left
out and why, as text and as a JSON-able dict.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import triggers
from ..errors import ParameterError, check_range
from ..families import FAMILY_IDS, get_family
from ..scene import Scene, scene_from_dict
from ..scene.model import Layer
from ..scene.scripts import load_script
from .model import ListenerProfile, Sensitivity

__all__ = [
    "BED_FAMILIES",
    "DISCLAIMER",
    "GOALS",
    "SCRIPT_FAMILY",
    "VOICE_FAMILIES",
    "Explanation",
    "Session",
    "build_session",
    "check_session",
    "layer_family",
    "ordered_families",
    "session_families",
]

GOALS: tuple[str, ...] = ("relax", "sleep", "focus", "unwind")
#: families that make a diffuse, continuous bed
BED_FAMILIES: tuple[str, ...] = ("noise", "rain", "water", "fire", "leaves")
#: families with a ``breaths`` parameter (breaths between phrases)
VOICE_FAMILIES: tuple[str, ...] = ("whisper", "soft-speaking")
#: the family of a guided-script layer: a whispered voice (avoid ``whisper``, no scripts)
SCRIPT_FAMILY = "whisper"
#: the script that paces breathing for ``unwind``; ``sleep`` scripts with their weights
_UNWIND_SCRIPT = "paced-breathing"
_SLEEP_SCRIPTS: dict[str, float] = {"bedtime-countdown": 0.6, "body-scan": 0.4}
_RELAX_SCRIPT = "affirmations"
#: whisper posterior means: below ``_DISLIKED`` no script; ``_LIKED`` for affirmations
_DISLIKED = 4.0
_LIKED = 6.0
#: affirmations repeat (voiced anew each time, but the same phrases); past this session
#: length the procedural whisper, with its larger phrase pool, gives the personal
#: attention instead
_AFFIRMATIONS_MAX_S = 900.0
#: crossfade between repetitions of a script layer: short, the script's closing pause is the gap
_SCRIPT_XFADE_S = 0.25
#: families never used for a goal (busy or sharp for sleep; voices for focus)
_NOT_FOR_GOAL: dict[str, frozenset[str]] = {
    "sleep": frozenset({"typing", "scissors", "crinkling"}),
    "focus": frozenset({"whisper", "soft-speaking", "breathing"}),
    "relax": frozenset(),
    "unwind": frozenset({"typing", "scissors"}),
}
_FOCUS_TEXTURES = frozenset({"writing", "typing", "page-turning", "clock"})
#: per goal: (rate factor low, high), brightness range or None, master settings
_RATE = {"sleep": (0.6, 0.8), "focus": (0.9, 1.05), "relax": (0.8, 1.0), "unwind": (0.7, 0.9)}
_BRIGHT = {"sleep": (0.1, 0.3), "focus": (0.3, 0.5), "relax": (0.3, 0.55), "unwind": (0.2, 0.4)}
_RATE_PARAMS = frozenset(
    {
        "tempo_bpm",
        "rate_wpm",
        "stroke_rate_hz",
        "pages_per_min",
        "speed_wpm",
        "strokes_per_s",
        "snip_rate_hz",
        "density_per_s",
        "rate_per_s",
        "crackle_density_per_s",
        "crackle_rate_per_s",
        "tick_rate_hz",
        "rustle_density_per_s",
        "rate_bpm",
    }
)
_SLOW_PARAMS = frozenset({"pause_s"})  # longer is slower
_MAX_DURATION_S = 86400.0
DISCLAIMER = (
    "Susurrus is for relaxation and rest; it is not a treatment and does not "
    "replace professional care."
)


# -- the explanation --------------------------------------------------------------------


@dataclass
class Explanation:
    """Why this session: the layers and their reasons, what was left out, notes."""

    goal: str
    duration_s: float
    seed: int
    sensitivity: dict[str, Any]
    layers: list[dict[str, Any]] = field(default_factory=list)
    left_out: list[dict[str, str]] = field(default_factory=list)
    not_for_goal: list[dict[str, str]] = field(default_factory=list)
    adjustments: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "goal": self.goal,
            "duration_s": self.duration_s,
            "seed": self.seed,
            "sensitivity": dict(self.sensitivity),
            "layers": [dict(x) for x in self.layers],
            "left_out": [dict(x) for x in self.left_out],
            "not_for_goal": [dict(x) for x in self.not_for_goal],
            "adjustments": list(self.adjustments),
            "notes": list(self.notes),
            "text": self.text(),
        }

    def lines(self) -> list[str]:
        """:meth:`text` as its non-empty lines, stripped (what the web page lists)."""
        return [line.strip() for line in self.text().splitlines() if line.strip()]

    def text(self) -> str:
        minutes = self.duration_s / 60.0
        dur = f"{minutes:.0f} min" if minutes >= 1 else f"{self.duration_s:.0f} s"
        article = "An" if self.goal[0] in "aeiou" else "A"
        lines = [f"{article} {self.goal} session ({dur}, seed {self.seed})."]
        lines.append("Sounds:")
        for x in self.layers:
            if x.get("kind") == "script":
                lines.append(
                    f"  - {x['family']}: guided script '{x['title']}' ({x['role']}): {x['why']}"
                )
            else:
                lines.append(f"  - {x['family']} ({x['variant']}, {x['role']}): {x['why']}")
        if self.left_out:
            lines.append(
                "Left out: "
                + "; ".join(f"{x['family']} ({x['reason']})" for x in self.left_out)
                + "."
            )
        if self.not_for_goal:
            lines.append(
                f"Not used for {self.goal}: "
                + "; ".join(f"{x['family']} ({x['reason']})" for x in self.not_for_goal)
                + "."
            )
        lines.extend(f"Adjusted: {a}" for a in self.adjustments)
        lines.extend(self.notes)
        return "\n".join(lines)


@dataclass
class Session:
    """A built session: the scene to render and the explanation to show."""

    scene: Scene
    explanation: Explanation

    @property
    def families(self) -> list[str]:
        """The families in the scene (a script counts as whisper), in layer order, once."""
        return ordered_families(self.scene)

    def to_dict(self) -> dict[str, Any]:
        return {"scene": self.scene.to_dict(), "explanation": self.explanation.to_dict()}


# -- checks -------------------------------------------------------------------------------


def layer_family(layer: Layer) -> str | None:
    """The family a layer sounds as: its trigger, :data:`SCRIPT_FAMILY` for a guided
    script (a whispered voice), None for the listener's own recording."""
    if layer.kind == "script":
        return SCRIPT_FAMILY
    return layer.trigger


def ordered_families(scene: Scene) -> list[str]:
    """The families of a scene's layers in layer order, each once (a script counts as whisper)."""
    return list(dict.fromkeys(f for f in map(layer_family, scene.layers) if f is not None))


def session_families(scene: Scene) -> set[str]:
    """Every family used by a scene's layers (a guided script counts as ``whisper``)."""
    return {f for f in map(layer_family, scene.layers) if f is not None}


def check_session(scene: Scene, avoid: Iterable[str]) -> None:
    """Raise :class:`ParameterError` if a scene breaks the aversion guarantee.

    The guarantee: no layer of an avoided family (a script layer is a ``whisper``),
    and with ``breathing`` avoided, no voice or script layer with ``breaths`` other
    than 0 (a voice's default is not 0; a script without ``breaths`` keeps its
    ``[breath]`` cues).
    """
    avoided = set(avoid)
    for layer in scene.layers:
        fam = layer_family(layer)
        if fam in avoided:
            raise ParameterError(
                f"layer {layer.label}",
                fam,
                "a family not on the avoid-list " + str(sorted(avoided)),
            )
        if (
            "breathing" in avoided
            and (layer.kind == "script" or layer.trigger in VOICE_FAMILIES)
            and layer.params.get("breaths") != 0.0
        ):
            raise ParameterError(
                f"layer {layer.label}.breaths",
                layer.params.get("breaths"),
                "0 while breathing is avoided",
            )


# -- building --------------------------------------------------------------------------


def check_goal(goal: Any) -> str:
    if goal not in GOALS:
        raise ParameterError("goal", goal, "one of " + ", ".join(GOALS))
    return str(goal)


class _Builder:
    def __init__(
        self, profile: ListenerProfile, goal: str, duration_s: float, seed: int, sr: int
    ) -> None:
        self.p = profile
        self.goal = goal
        self.duration = duration_s
        self.seed = seed
        self.sr = sr
        self.rng = np.random.default_rng([seed, 0x5E55])
        self.avoid = set(profile.avoid)
        self.sens: Sensitivity = profile.sensitivity()
        beliefs = profile.beliefs()
        self.mean = {b.family: b.mean for b in beliefs}
        self.n = {b.family: b.n for b in beliefs}
        self.layers: list[dict[str, Any]] = []
        self.used: set[str] = set()
        self.expl = Explanation(
            goal=goal, duration_s=duration_s, seed=seed, sensitivity=self.sens.to_dict()
        )
        self.side = 1.0 if self.rng.random() < 0.5 else -1.0

    # -- choosing ------------------------------------------------------------------------

    def allowed(self, families: Iterable[str]) -> list[str]:
        blocked = self.avoid | _NOT_FOR_GOAL[self.goal] | self.used
        return [f for f in families if f not in blocked]

    def pick(
        self, candidates: Sequence[str], k: int, *, spread: int = 2, temperature: float = 0.75
    ) -> list[str]:
        """Up to ``k`` families from the best ``k + spread``, drawn by softmax of the means."""
        pool = sorted(self.allowed(candidates), key=lambda f: -self.mean[f])[: k + spread]
        out: list[str] = []
        while pool and len(out) < k:
            s = np.array([self.mean[f] for f in pool]) / temperature
            w = np.exp(s - s.max())
            j = int(self.rng.choice(len(pool), p=w / w.sum()))
            out.append(pool.pop(j))
        return out

    def rating(self, family: str) -> str:
        n = self.n[family]
        m = self.mean[family]
        if n:
            return f"your ratings put it at {m:.1f}/10 ({n} clip{'s' if n != 1 else ''})"
        return f"not rated yet; about {m:.1f}/10 expected from what most listeners report"

    def why(self, family: str, role: str) -> str:
        return f"{self.rating(family)}; {role}"

    def variant_for(self, family: str, preferred: Sequence[str] | None = None) -> str:
        fam = get_family(family)
        options = [v for v in (preferred or fam.variants) if v in fam.variants] or list(
            fam.variants
        )
        scores = []
        for v in options:
            rs = [r.score for r in self.p.ratings if r.family == family and r.variant == v]
            scores.append(float(np.mean(rs)) if rs else self.mean[family])
        s = np.array(scores)
        w = np.exp((s - s.max()) / 1.5)
        return options[int(self.rng.choice(len(options), p=w / w.sum()))]

    def params_for(self, family: str, variant: str, **fixed: float) -> dict[str, float]:
        """Variant defaults moved toward the goal: slower, darker for sleep; in range."""
        cls = triggers.get(family)
        defaults = dict(cls.variant_defaults.get(variant, {}))
        lo_f, hi_f = _RATE[self.goal]
        factor = float(self.rng.uniform(lo_f, hi_f))
        b_lo, b_hi = _BRIGHT[self.goal]
        out: dict[str, float] = {}
        for prm in cls.params:
            v = float(defaults.get(prm.name, prm.default))
            if prm.name in _RATE_PARAMS:
                v *= factor
            elif prm.name in _SLOW_PARAMS:
                v /= factor
            elif prm.name == "brightness":
                v = float(self.rng.uniform(b_lo, b_hi))
            elif prm.name == "tilt_db_per_oct":
                v = (
                    float(self.rng.uniform(-1.0, -0.3))
                    if self.goal == "sleep"
                    else float(self.rng.uniform(-0.5, 0.3))
                )
            elif prm.name in ("rate_per_min", "breath_rate_per_min") and self.goal in (
                "sleep",
                "unwind",
            ):
                v = float(self.rng.uniform(5.5, 6.5))
            if prm.name in fixed:
                v = float(fixed[prm.name])
            out[prm.name] = float(np.clip(float(f"{v:.4g}"), prm.low, prm.high))
        if "breaths" in out and "breathing" in self.avoid:
            out["breaths"] = 0.0
        return out

    # -- layers ---------------------------------------------------------------------------

    def add(
        self,
        family: str,
        variant: str,
        role: str,
        why: str,
        layer: dict[str, Any],
        params: dict[str, float],
    ) -> None:
        self.used.add(family)
        data = {
            "name": f"{family} {variant} ({role})",
            "trigger": family,
            "variant": variant,
            "params": params,
            **layer,
        }
        self.layers.append(data)
        self.expl.layers.append({"family": family, "variant": variant, "role": role, "why": why})

    def bed(self, family: str, *, main: bool, reason: str) -> None:
        variants = {
            "noise": {
                "sleep": ["brown"],
                "focus": ["pink", "grey", "brown"],
                "relax": ["pink", "brown"],
                "unwind": ["brown", "pink"],
            }[self.goal],
            "rain": ["light", "tent"] if self.goal == "sleep" else None,
            "water": ["stream"],
        }.get(family)
        variant = self.variant_for(family, variants)
        gain = self.rng.uniform(-7.0, -4.0) if main else self.rng.uniform(-14.0, -9.0)
        activity = (
            {"pattern": "continuous"}
            if self.goal == "focus"
            else {
                "pattern": "drift",
                "depth_db": float(self.rng.uniform(2.0, 5.0)),
                "period_s": float(self.rng.uniform(120.0, 300.0)),
            }
        )
        self.add(
            family,
            variant,
            "bed",
            self.why(family, reason),
            {"spread": "diffuse", "gain_db": round(float(gain), 1), "activity": activity},
            self.params_for(family, variant),
        )

    def point(
        self,
        family: str,
        *,
        role: str,
        reason: str,
        variant: str | None = None,
        close: bool = False,
        on_fraction: float | None = None,
    ) -> None:
        variant = variant or self.variant_for(family)
        sleepy = self.goal == "sleep"
        far = (self.sens.sound_aversion or 0.0) >= 0.75
        if close and not far:
            dist = self.rng.uniform(0.25, 0.45)
        elif sleepy or far:
            dist = self.rng.uniform(0.8, 1.5)
        else:
            dist = self.rng.uniform(0.35, 0.8)
        self.side = -self.side
        az = self.side * self.rng.uniform(30.0, 120.0)
        if sleepy:
            motion = str(self.rng.choice(["static", "drift"]))
            period = self.rng.uniform(60.0, 180.0)
        else:
            motion = str(self.rng.choice(["sweep", "orbit", "drift"]))
            period = self.rng.uniform(20.0, 60.0)
        if on_fraction is None:
            on_fraction = 0.3 if sleepy else 0.5
        activity = {
            "pattern": "intermittent",
            "on_fraction": on_fraction,
            "mean_gap_s": round(
                float(self.rng.uniform(*((60.0, 120.0) if sleepy else (15.0, 40.0)))), 1
            ),
            "ramp_s": round(float(self.rng.uniform(*((6.0, 10.0) if sleepy else (2.0, 4.0)))), 1),
        }
        self.add(
            family,
            variant,
            role,
            self.why(family, reason),
            {
                "gain_db": round(float(self.rng.uniform(-12.0, -6.0)), 1),
                "azimuth_deg": round(float(az), 1),
                "distance_m": round(float(dist), 2),
                "motion": motion,
                "period_s": round(float(period), 1),
                "activity": activity,
            },
            self.params_for(family, variant),
        )

    def script(
        self,
        name: str,
        *,
        role: str,
        what: str,
        reason: str,
        loop: bool,
        placement: dict[str, Any],
    ) -> None:
        """A guided whisper script layer (family :data:`SCRIPT_FAMILY`).

        Its ``[breath]`` cues are left out (``breaths = 0``) when breathing is avoided.
        With ``loop``, the script repeats for the whole session when it is shorter
        (its closing pause, then a short crossfade, separates the repetitions);
        otherwise it is spoken once and the other layers carry on.
        """
        breaths = "breathing" not in self.avoid
        scr = load_script(name, breaths=breaths)
        repeat = loop and scr.duration_s < self.duration
        if repeat:
            timing = f"repeats every {scr.duration_s / 60.0:.1f} min for the whole session"
        elif scr.duration_s < self.duration:
            timing = f"spoken once, over the first {scr.duration_s / 60.0:.1f} min"
        else:
            timing = "spoken over the whole session"
        liking = self.rating(SCRIPT_FAMILY).replace(" it ", " whispering ", 1)
        self.used.add(SCRIPT_FAMILY)
        self.layers.append(
            {
                "name": f"script {name} ({role})",
                "kind": "script",
                "script": name,
                "params": {"breaths": 1.0 if breaths else 0.0},
                "loop": repeat,
                "crossfade_s": _SCRIPT_XFADE_S,
                **placement,
            }
        )
        self.expl.layers.append(
            {
                "family": SCRIPT_FAMILY,
                "variant": name,
                "kind": "script",
                "script": name,
                "title": scr.title,
                "role": role,
                "why": f"{what}; {reason}; {timing}; whispered: {liking}",
            }
        )

    def guidance(self) -> None:
        """Unwind: the paced-breathing script if whisper is allowed, else a breathing pacer."""
        # a non-responder rates everything low: that is no dislike of the voice
        disliked = (
            not self.sens.non_responder
            and self.n[SCRIPT_FAMILY] > 0
            and self.mean[SCRIPT_FAMILY] < _DISLIKED
        )
        if SCRIPT_FAMILY not in self.avoid and not (disliked and "breathing" not in self.avoid):
            bpm = load_script(_UNWIND_SCRIPT).breaths_per_min or 6.0
            self.script(
                _UNWIND_SCRIPT,
                role="guidance",
                what=f"paces slow breathing at {bpm:.0f} breaths per minute, a cue on each "
                "in- and out-breath; slow breathing calms (Zaccaro et al. 2018)",
                reason="chosen for your goal (unwind)",
                loop=True,
                placement={
                    "azimuth_deg": round(float(self.rng.uniform(-20.0, 20.0)), 1),
                    "distance_m": 0.5,
                    "gain_db": -4.0,
                },
            )
            return
        if "breathing" not in self.avoid:
            params = self.params_for("breathing", "slow")
            whisper = "on your avoid list" if SCRIPT_FAMILY in self.avoid else "rated low by you"
            self.add(
                "breathing",
                "slow",
                "guidance",
                f"a calm breath to follow at {params['rate_per_min']:.1f} breaths per "
                f"minute (whisper is {whisper}, so no spoken guidance)",
                {"distance_m": 0.6, "gain_db": -8.0, "binaural": False},
                params,
            )
            return
        self.expl.notes.append(
            "No breathing guidance: both whisper and breathing are on your avoid list."
        )

    def bedtime_script(self) -> None:
        """Sleep: a bedtime countdown or a body scan, spoken once, far and still."""
        if not self.allowed([SCRIPT_FAMILY]) or self.mean[SCRIPT_FAMILY] < _DISLIKED:
            return
        names = list(_SLEEP_SCRIPTS)
        w = np.array([_SLEEP_SCRIPTS[k] for k in names])
        name = names[int(self.rng.choice(len(names), p=w / w.sum()))]
        what = (
            "counts down slowly from ten, one number on each long out-breath"
            if name == "bedtime-countdown"
            else "a slow body scan, from the feet to the head"
        )
        self.script(
            name,
            role="bedtime guidance",
            what=what,
            reason="chosen for your goal (sleep)",
            loop=False,
            placement={
                "azimuth_deg": round(float(self.side * self.rng.uniform(10.0, 40.0)), 1),
                "distance_m": round(float(self.rng.uniform(0.8, 1.2)), 2),
                "gain_db": -8.0,
            },
        )

    def affirmations(self) -> bool:
        """Relax: personal-attention affirmations, when the listener's ratings show they
        like whispering (``_LIKED`` or more), in half the sessions (by seed) of at most
        ``_AFFIRMATIONS_MAX_S``: a longer one would repeat the short script too often."""
        liked = self.n[SCRIPT_FAMILY] > 0 and self.mean[SCRIPT_FAMILY] >= _LIKED
        if not self.allowed([SCRIPT_FAMILY]) or not liked or self.duration > _AFFIRMATIONS_MAX_S:
            return False
        if self.rng.random() >= 0.5:
            return False
        self.side = -self.side
        self.script(
            _RELAX_SCRIPT,
            role="personal attention",
            what="short, kind affirmations with room between them, close to one ear",
            reason="close personal attention, a core relaxing trigger",
            loop=True,
            placement={
                "azimuth_deg": round(float(self.side * self.rng.uniform(30.0, 70.0)), 1),
                "distance_m": round(float(self.rng.uniform(0.3, 0.45)), 2),
                "gain_db": -6.0,
            },
        )
        return True

    # -- goals ----------------------------------------------------------------------------

    def build(self) -> Scene:
        nr = self.sens.non_responder
        bed_pref = ["noise"] + [f for f in BED_FAMILIES if f != "noise"]
        points = [f for f in FAMILY_IDS if f not in BED_FAMILIES]
        few = self.sens.level in ("low",) or (self.sens.sound_aversion or 0.0) >= 0.75
        if self.goal == "unwind":
            self.guidance()
        if nr or self.goal in ("sleep", "focus"):
            # a dark / steady noise bed first (if allowed), then the best-liked other bed
            for f in self.allowed(["noise"])[:1]:
                self.bed(
                    f,
                    main=True,
                    reason="a steady, dark bed"
                    if self.goal != "focus"
                    else "a steady bed that masks distractions",
                )
            for f in self.pick([b for b in bed_pref if b != "noise"], 1):
                self.bed(f, main=not self.layers, reason=f"a calm bed for {self.goal}")
        else:
            for f in self.pick(BED_FAMILIES, 1):
                self.bed(f, main=False, reason=f"a soft bed under the triggers, for {self.goal}")
        if not nr:
            if self.goal == "relax":
                voices = self.allowed(VOICE_FAMILIES)
                best = max(voices, key=lambda f: self.mean[f], default=None)
                scripted = best == SCRIPT_FAMILY and self.affirmations()
                if not scripted and best is not None and self.mean[best] >= 3.5:
                    variant = self.variant_for(best, ["female", "male"])
                    self.point(
                        best,
                        role="personal attention",
                        variant=variant,
                        close=True,
                        reason="close personal attention, a core relaxing trigger",
                        on_fraction=0.6,
                    )
                for f in self.pick(points, 1 if few else 2):
                    self.point(f, role="favourite", reason="one of your favourites")
            elif self.goal == "sleep":
                self.bedtime_script()
                for f in self.pick(points, 1, spread=1):
                    self.point(
                        f,
                        role="soft trigger",
                        variant="counting" if f == "whisper" else None,
                        reason="a favourite, slowed and softened for sleep",
                    )
            elif self.goal == "focus":
                liked = [f for f in self.pick(list(_FOCUS_TEXTURES), 1) if self.mean[f] >= 5.0]
                for f in liked:
                    self.point(
                        f,
                        role="steady texture",
                        reason="a texture you like, kept low",
                        on_fraction=1.0,
                    )
                    self.layers[-1]["activity"] = {
                        "pattern": "drift",
                        "depth_db": 3.0,
                        "period_s": 180.0,
                    }
                    self.layers[-1]["gain_db"] = -14.0
            elif self.goal == "unwind":
                for f in self.pick(points, 1):
                    self.point(f, role="favourite", reason="a favourite, now and then")
        if not self.layers:  # everything suitable is avoided: any allowed family, gently
            spare = self.allowed(FAMILY_IDS)
            if not spare:
                raise ParameterError(
                    "avoid",
                    sorted(self.avoid),
                    f"at least one family usable for {self.goal} that is not avoided",
                )
            self.bed(
                max(spare, key=lambda f: self.mean[f]),
                main=True,
                reason=f"the only suitable sound left for {self.goal}",
            )
        self._explain_left_out()
        return self._scene()

    def _explain_left_out(self) -> None:
        for f, why in sorted(self.p.avoid.items()):
            self.expl.left_out.append(
                {
                    "family": f,
                    "reason": "on your avoid list"
                    if why == "chosen"
                    else "you marked it unpleasant",
                }
            )
        if "breathing" in self.avoid and self.used & set(VOICE_FAMILIES):
            scripted = any(x.get("kind") == "script" for x in self.expl.layers)
            self.expl.adjustments.append(
                "no breaths between whispered or spoken phrases"
                + (" (nor in the guidance script)" if scripted else "")
                + ", because breathing is on your avoid list"
            )
        for f in self.p.top(3):
            if f in _NOT_FOR_GOAL[self.goal]:
                reason = (
                    "no voices or breathing for focus"
                    if self.goal == "focus"
                    else f"too busy or sharp for {self.goal}"
                )
                self.expl.not_for_goal.append({"family": f, "reason": reason})
        if self.sens.non_responder:
            self.expl.notes.append(self.sens.message)
        elif not self.p.usable:
            self.expl.notes.append(
                f"Based on only {self.p.n_ratings} rating(s): rate a few more clips "
                "in discovery (Discover in the web app, `susurrus discover` on the command line) and sessions "
                "will fit you better."
            )

    def _scene(self) -> Scene:
        d = self.duration
        master: dict[str, Any] = {
            "sleep": {"target_lufs": -30.0, "fade_in_s": 30.0},
            "focus": {"target_lufs": -27.0, "fade_in_s": 5.0, "fade_out_s": 30.0},
            "relax": {"target_lufs": -27.0, "fade_in_s": 10.0, "fade_out_s": 90.0},
            "unwind": {"target_lufs": -28.0, "fade_in_s": 20.0, "fade_out_s": 120.0},
        }[self.goal]
        if self.goal == "sleep":
            fade = float(np.clip(0.15 * d, 60.0, 600.0))
            if d >= 3.0 * fade:
                master["fade_out_s"] = fade
                master["sleep_after_s"] = d - fade
                self.expl.notes.append(
                    f"Sleep timer: a {fade / 60:.0f}-minute fade-out starts "
                    f"at {(d - fade) / 60:.0f} min; no abrupt stop."
                )
            else:
                master["fade_out_s"] = d / 3.0
        fams = [x["family"] for x in self.expl.layers]
        data = {
            "name": f"{self.p.name}: {self.goal}",
            "description": f"A {self.goal} session for {self.p.name}: " + ", ".join(fams) + ".",
            "duration_s": d,
            "sr": self.sr,
            "seed": int(self.rng.integers(0, 2**62)),
            "layers": self.layers,
            "master": master,
        }
        scene = scene_from_dict(data, source=f"{self.goal} session")
        check_session(scene, self.avoid)
        return scene


def build_session(
    profile: ListenerProfile,
    goal: str,
    *,
    duration_s: float = 2700.0,
    seed: int | None = None,
    sr: int = 48000,
) -> Session:
    """Build a session for ``goal`` from ``profile``: a scene and its explanation.

    Parameters
    ----------
    profile : the listener
    goal : ``relax``, ``sleep``, ``focus`` or ``unwind``
    duration_s : session length, 1 s to 24 h
    seed : the session seed (any int ≥ 0); None draws a fresh one from the operating
        system, so that no two sessions are alike. The seed is in the explanation.
    sr : sample rate, 44100 or 48000

    Raises
    ------
    ParameterError
        for an unknown goal, a duration out of range, or when every family usable
        for the goal is avoided.
    """
    goal = check_goal(goal)
    d = check_range("duration_s", duration_s, 1.0, _MAX_DURATION_S, unit="s")
    if sr not in (44100, 48000):
        raise ParameterError("sr", sr, "44100 or 48000")
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))  # type: ignore[operator]
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**63:
        raise ParameterError("seed", seed, "an integer from 0 to 2**63 - 1")
    b = _Builder(profile, goal, d, int(seed), sr)
    scene = b.build()
    b.expl.notes.append(DISCLAIMER)
    return Session(scene=scene, explanation=b.expl)
