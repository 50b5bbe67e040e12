"""The listener model: what each trigger family does for one listener, and what to avoid.

Model
-----
Every rating of a clip gives two 0–10 numbers, tingles and relaxation; the model
works on their mean, the *score* ``x = (tingles + relax) / 2``. For family ``f``
the listener's expected score is ``u_f = δ + θ_f``: a listener-wide offset ``δ``
(some people respond to everything more, some less) plus a family effect ``θ_f``.
It is a linear-Gaussian (Normal–Normal) model, so the posterior is exact and
closed-form (e.g. Gelman et al., *Bayesian Data Analysis*, 3rd ed., §2.5 and
§14.2)::

    δ   ~ N(0, offset_sd²)
    θ_f ~ N(μ0_f, prior_sd²)          μ0_f = 2 + 6 · prevalence_f
    x   ~ N(δ + θ_f, obs_sd² / w)     (w: the weight of a rating, 1 for a clip)

The population prior ``μ0_f`` comes from each family's reported prevalence as an
effective trigger (:attr:`susurrus.families.Family.prevalence`; Barratt & Davis
2015): whispering (75 %) starts at 6.5, a ticking clock (30 %) at 3.8. With
``offset_sd = 0`` the offset is left out and each family is the textbook
Normal–Normal update: precision ``1/prior_sd² + Σw/obs_sd²``, mean
``(μ0/prior_sd² + Σwx/obs_sd²) / precision``.

The next family to hear is chosen by Thompson sampling (Thompson 1933; Russo et
al. 2018, *A Tutorial on Thompson Sampling*): one draw from the joint posterior.
Families not yet heard come first, in the order of the draw (likely favourites
first, with chance mixed in), so every family is covered early. After that the
clips go where they decide the listener's top three: the weakest member of the
current top three (lowest ``mean − sd``) and its strongest challenger (highest
``mean + sd``) are compared and the less certain of the two is played — LUCB,
a top-k identification rule (Kalyanakrishnan et al. 2012, ICML). In simulation
(``benchmarks/personalise.py``) this beat pure Thompson sampling for finding
the top three (0.76 against 0.70 mean overlap after 24 ratings).

Aversions are hard limits: an avoid-list the listener chooses plus every family
ever rated unpleasant. Avoided families are never proposed, never recommended.

Sensitivity combines Susurrus's own short questions (:data:`QUESTIONS`, written for
Susurrus, not a published instrument) with the ratings. Effects of ASMR were
found only in people who experience it (Poerio et al. 2018), so a listener who
rates everything near zero is classed as a *non-responder* and told so plainly:
at least :data:`MIN_RATINGS` clips, a mean score ≤ 2 and no family above 4.5 on
average (in simulation, listeners whose true scores are all below 1 give a mean of
about 1 once the 0–10 scale clips their rating noise; responders about 3 or more).

The profile is plain data: :meth:`ListenerProfile.to_dict` /
:meth:`ListenerProfile.from_dict` round-trip exactly through JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ParameterError, check_range
from ..families import FAMILY_IDS, get_family

__all__ = [
    "MIN_RATINGS",
    "NON_RESPONDER_MAX_FAMILY",
    "NON_RESPONDER_MAX_SCORE",
    "PROFILE_FORMAT",
    "PROFILE_VERSION",
    "QUESTIONS",
    "FamilyBelief",
    "ListenerProfile",
    "ModelSettings",
    "Question",
    "Rating",
    "Sensitivity",
    "prior_mean",
]

PROFILE_FORMAT = "susurrus-profile"
PROFILE_VERSION = 1
#: the profile is usable (recommendations, sessions) after this many ratings
MIN_RATINGS = 5
#: a non-responder's mean score over all clips is at most this (0–10 scale) …
NON_RESPONDER_MAX_SCORE = 2.0
#: … and no family's mean score is above this
NON_RESPONDER_MAX_FAMILY = 4.5
#: how many favourites discovery tries to pin down
TOP_K = 3
_SCORE_MAX = 10.0
_MAX_PENDING = 32


def prior_mean(family: str) -> float:
    """Population prior of the 0–10 score: ``2 + 6 · prevalence`` (Barratt & Davis 2015)."""
    return 2.0 + 6.0 * get_family(family).prevalence


# -- the questions --------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """One of Susurrus's own sensitivity questions, answered 0–4 on the given scale."""

    id: str
    text: str
    scale: tuple[str, str, str, str, str]
    #: counts toward responsiveness (True) or is a sound-aversion (misophonia-like) cue
    responsiveness: bool = True


QUESTIONS: tuple[Question, ...] = (
    Question(
        "tingles_often",
        "When a quiet sound you like is played close to your ears, how often do you feel "
        "a tingling or fizzing feeling on your head, neck or back?",
        ("never", "rarely", "sometimes", "often", "almost every time"),
    ),
    Question(
        "tingles_strength",
        "When that feeling comes, how strong is it?",
        ("I don't get it", "barely there", "mild", "clear", "very strong"),
    ),
    Question(
        "calm_after",
        "After a few minutes of soft, close sounds, how calm or sleepy do you usually feel?",
        ("not at all", "a little", "somewhat", "quite", "very"),
    ),
    Question(
        "sound_bother",
        "How often do small everyday sounds, such as chewing, tapping or breathing, "
        "bother you a lot?",
        ("never", "rarely", "sometimes", "often", "almost always"),
        responsiveness=False,
    ),
)
_QUESTION_IDS = tuple(q.id for q in QUESTIONS)


# -- data ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSettings:
    """Standard deviations of the Normal–Normal model, on the 0–10 score scale."""

    obs_sd: float = 1.5
    prior_sd: float = 2.5
    offset_sd: float = 1.0

    def __post_init__(self) -> None:
        check_range("obs_sd", self.obs_sd, 0.0, 10.0, low_inclusive=False)
        check_range("prior_sd", self.prior_sd, 0.0, 10.0, low_inclusive=False)
        check_range("offset_sd", self.offset_sd, 0.0, 10.0)

    def to_dict(self) -> dict[str, float]:
        return {"obs_sd": self.obs_sd, "prior_sd": self.prior_sd, "offset_sd": self.offset_sd}


@dataclass(frozen=True)
class Rating:
    """One rating: of a discovery clip (weight 1) or a whole session (weight shared).

    ``tingles`` and ``relax`` are 0–10; the model uses their mean.
    """

    family: str
    tingles: float
    relax: float
    unpleasant: bool = False
    weight: float = 1.0
    source: str = "clip"
    clip_id: str | None = None
    variant: str | None = None
    params: Mapping[str, float] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return 0.5 * (self.tingles + self.relax)

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "tingles": self.tingles,
            "relax": self.relax,
            "unpleasant": self.unpleasant,
            "weight": self.weight,
            "source": self.source,
            "clip_id": self.clip_id,
            "variant": self.variant,
            "params": dict(self.params),
        }


@dataclass(frozen=True)
class FamilyBelief:
    """The posterior for one family: mean and sd of the 0–10 score, weight of evidence."""

    family: str
    mean: float
    sd: float
    n: int
    avoided: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "mean": round(self.mean, 3),
            "sd": round(self.sd, 3),
            "n": self.n,
            "avoided": self.avoided,
        }


@dataclass(frozen=True)
class Sensitivity:
    """How strongly the listener responds, from the questions and the ratings.

    ``level`` is one of ``unknown``, ``non-responder``, ``low``, ``moderate``, ``high``.
    ``score`` is 0–1 (None while unknown). ``sound_aversion`` is the 0–1 answer to
    the everyday-sounds question (None if unanswered).
    """

    level: str
    score: float | None
    from_questions: float | None
    from_ratings: float | None
    n_ratings: int
    sound_aversion: float | None
    message: str

    @property
    def non_responder(self) -> bool:
        return self.level == "non-responder"

    def to_dict(self) -> dict[str, Any]:
        r = lambda v: None if v is None else round(v, 3)  # noqa: E731
        return {
            "level": self.level,
            "score": r(self.score),
            "from_questions": r(self.from_questions),
            "from_ratings": r(self.from_ratings),
            "n_ratings": self.n_ratings,
            "sound_aversion": r(self.sound_aversion),
            "message": self.message,
        }


# -- validation helpers ------------------------------------------------------------------


def check_family(family: Any, *, name: str = "family") -> str:
    """``family`` if it is a canonical id; :class:`ParameterError` otherwise."""
    if not isinstance(family, str) or family not in FAMILY_IDS:
        raise ParameterError(name, family, "one of " + ", ".join(FAMILY_IDS))
    return family


def _check_score(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ParameterError(name, value, "a number from 0 to 10")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(name, value, "a number from 0 to 10") from None
    if not math.isfinite(v) or not 0.0 <= v <= _SCORE_MAX:
        raise ParameterError(name, value, "a number from 0 to 10")
    return v


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise ParameterError("name", name, "a non-empty profile name of at most 100 characters")
    return name


# -- the profile --------------------------------------------------------------------------


class ListenerProfile:
    """A listener: ratings, avoid-list, answers to the questions, issued clips.

    Parameters
    ----------
    name : the profile name
    seed : seeds the discovery order when no generator is passed (an int ≥ 0)
    settings : the model's standard deviations

    The ratings are the source of truth; beliefs are recomputed from them.
    """

    def __init__(self, name: str, *, seed: int = 0, settings: ModelSettings | None = None) -> None:
        self.name = _check_name(name)
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ParameterError("seed", seed, "an integer >= 0")
        self.seed = int(seed)
        self.settings = settings or ModelSettings()
        self.ratings: list[Rating] = []
        #: family id → why it is avoided: "chosen" (the avoid-list) or "unpleasant"
        self.avoid: dict[str, str] = {}
        self.answers: dict[str, int] = {}
        #: discovery clips handed out and not yet rated: id → spec (a plain dict)
        self.clips: dict[str, dict[str, Any]] = {}
        self.clip_counter = 0
        self._cache: _Posterior | None = None

    # -- equality (for round trips) ------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ListenerProfile):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"ListenerProfile(name={self.name!r}, ratings={len(self.ratings)}, "
            f"avoid={sorted(self.avoid)})"
        )

    # -- editing -----------------------------------------------------------------------------

    def rate(
        self,
        family: str | None = None,
        *,
        tingles: float,
        relax: float,
        unpleasant: bool = False,
        clip_id: str | None = None,
        variant: str | None = None,
        params: Mapping[str, float] | None = None,
    ) -> Rating:
        """Record a rating of one clip (by ``clip_id`` of an issued clip, or by ``family``).

        A clip marked ``unpleasant`` puts its family on the avoid-list at once.
        """
        t = _check_score("tingles", tingles)
        r = _check_score("relax", relax)
        if clip_id is not None:
            spec = self.clips.get(clip_id)
            if spec is None:
                raise ParameterError(
                    "clip",
                    clip_id,
                    "the id of a clip issued to this profile "
                    "and not yet rated: " + (", ".join(self.clips) or "(none)"),
                )
            if family is not None and family != spec["family"]:
                raise ParameterError(
                    "family", family, f"{spec['family']} (the family of clip {clip_id})"
                )
            family = spec["family"]
            variant = spec.get("variant")
            params = spec.get("params", {})
        if family is None:
            raise ParameterError("family", None, "a family id or a clip id")
        family = check_family(family)
        rating = Rating(
            family=family,
            tingles=t,
            relax=r,
            unpleasant=bool(unpleasant),
            weight=1.0,
            source="clip",
            clip_id=clip_id,
            variant=variant,
            params={k: float(v) for k, v in (params or {}).items()},
        )
        self.ratings.append(rating)
        if clip_id is not None:
            del self.clips[clip_id]
        if unpleasant and family not in self.avoid:
            self.avoid[family] = "unpleasant"
        self._cache = None
        return rating

    def rate_session(
        self, families: Sequence[str], *, tingles: float, relax: float
    ) -> list[Rating]:
        """Feedback on a whole session: a rating shared out over its trigger families.

        Each family receives the session's ratings with weight ``1 / len(families)``,
        i.e. the session counts as much as one clip in total. (An unpleasant session
        cannot say which sound spoilt it; use :meth:`add_avoid` for that.)
        """
        t = _check_score("tingles", tingles)
        r = _check_score("relax", relax)
        fams = list(dict.fromkeys(check_family(f, name="families") for f in families))
        if not fams:
            raise ParameterError("families", list(families), "at least one family id")
        w = 1.0 / len(fams)
        out = [Rating(family=f, tingles=t, relax=r, weight=w, source="session") for f in fams]
        self.ratings.extend(out)
        self._cache = None
        return out

    def add_avoid(self, *families: str) -> None:
        """Put families on the avoid-list (a hard limit)."""
        for f in families:
            check_family(f)
        for f in families:
            self.avoid[f] = "chosen"

    def remove_avoid(self, *families: str) -> None:
        """Take families off the avoid-list (also those marked unpleasant)."""
        for f in families:
            check_family(f)
        for f in families:
            self.avoid.pop(f, None)

    def answer(self, question_id: str, value: int) -> None:
        """Answer one of :data:`QUESTIONS` with 0–4."""
        if question_id not in _QUESTION_IDS:
            raise ParameterError("question", question_id, "one of " + ", ".join(_QUESTION_IDS))
        if (
            isinstance(value, bool)
            or not isinstance(value, int | np.integer)
            or not 0 <= value <= 4
        ):
            raise ParameterError(question_id, value, "an integer from 0 to 4")
        self.answers[question_id] = int(value)

    # -- derived ----------------------------------------------------------------------------

    @property
    def avoided(self) -> frozenset[str]:
        return frozenset(self.avoid)

    @property
    def n_ratings(self) -> int:
        """Number of clip ratings (session feedback not counted)."""
        return sum(1 for r in self.ratings if r.source == "clip")

    @property
    def usable(self) -> bool:
        """True once there are at least :data:`MIN_RATINGS` clip ratings."""
        return self.n_ratings >= MIN_RATINGS

    def counts(self) -> dict[str, int]:
        """Clip ratings per family."""
        c = dict.fromkeys(FAMILY_IDS, 0)
        for r in self.ratings:
            if r.source == "clip":
                c[r.family] += 1
        return c

    def posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean vector and covariance matrix of the family scores ``u`` (canonical order)."""
        post = self._post()
        return post.mean, post.cov

    def _post(self) -> _Posterior:
        if self._cache is None:
            self._cache = _posterior(self.ratings, self.settings)
        return self._cache

    def beliefs(self) -> list[FamilyBelief]:
        """Every family's belief, best first (avoided families last)."""
        mean, cov = self.posterior()
        counts = self.counts()
        out = [
            FamilyBelief(
                f, float(mean[i]), float(math.sqrt(max(cov[i, i], 0.0))), counts[f], f in self.avoid
            )
            for i, f in enumerate(FAMILY_IDS)
        ]
        return sorted(out, key=lambda b: (b.avoided, -b.mean, b.family))

    def belief(self, family: str) -> FamilyBelief:
        check_family(family)
        return next(b for b in self.beliefs() if b.family == family)

    def top(self, k: int = TOP_K, *, among: Iterable[str] | None = None) -> list[str]:
        """The ``k`` best families by posterior mean, never an avoided one."""
        allowed = set(FAMILY_IDS if among is None else among) - set(self.avoid)
        return [b.family for b in self.beliefs() if b.family in allowed][:k]

    def choose_family(self, rng: np.random.Generator, *, k: int = TOP_K) -> str:
        """The family of the next discovery clip (Thompson sampling, see the module text)."""
        eligible = [i for i, f in enumerate(FAMILY_IDS) if f not in self.avoid]
        if not eligible:
            raise ParameterError(
                "avoid", sorted(self.avoid), "at least one family that is not avoided"
            )
        post = self._post()
        mean, cov = post.mean, post.cov
        draw = post.draw(rng)
        counts = self.counts()
        unheard = [i for i in eligible if counts[FAMILY_IDS[i]] == 0]
        if unheard:
            return FAMILY_IDS[max(unheard, key=lambda i: draw[i])]
        kk = min(k, len(eligible))
        if kk == len(eligible):  # nothing to separate: refine the least certain
            return FAMILY_IDS[max(eligible, key=lambda i: (cov[i, i], draw[i]))]
        sd = np.sqrt(np.maximum(np.diag(cov), 0.0))
        by_mean = sorted(eligible, key=lambda i: -mean[i])
        top, rest = by_mean[:kk], by_mean[kk:]
        # LUCB: the weakest of the top k (lowest lower bound) against the strongest
        # challenger (highest upper bound); rate the less certain of the two.
        weakest = min(top, key=lambda i: (mean[i] - sd[i], -draw[i]))
        challenger = max(rest, key=lambda i: (mean[i] + sd[i], draw[i]))
        return FAMILY_IDS[weakest if sd[weakest] >= sd[challenger] else challenger]

    def sensitivity(self) -> Sensitivity:
        """Responsiveness from the questions and the ratings (see :class:`Sensitivity`)."""
        resp = [q.id for q in QUESTIONS if q.responsiveness and q.id in self.answers]
        q_score = (sum(self.answers[q] for q in resp) / (4.0 * len(resp))) if resp else None
        aversion = self.answers.get("sound_bother")
        av = None if aversion is None else aversion / 4.0
        clip_ratings = [r for r in self.ratings if r.source == "clip"]
        scores = sorted((r.score for r in clip_ratings), reverse=True)
        n = len(scores)
        r_score = None
        overall = best_family = 0.0
        if n:
            # responsiveness: the mean of the better half (does anything work for them?)
            r_score = float(np.mean(scores[: max(1, (n + 1) // 2)])) / _SCORE_MAX
            overall = float(np.mean(scores))
            per_family: dict[str, list[float]] = {}
            for r in clip_ratings:
                per_family.setdefault(r.family, []).append(r.score)
            best_family = max(float(np.mean(v)) for v in per_family.values())
        if (
            n >= MIN_RATINGS
            and overall <= NON_RESPONDER_MAX_SCORE
            and best_family <= NON_RESPONDER_MAX_FAMILY
        ):
            return Sensitivity(
                "non-responder",
                r_score,
                q_score,
                r_score,
                n,
                av,
                "Your ratings so far show little or no response to these sounds. That is "
                "common: not everyone experiences ASMR, and the calming effects measured in "
                "studies were found in people who do. Susurrus will offer quiet, steady "
                "sound beds for rest and sleep rather than chasing tingles.",
            )
        if q_score is None and r_score is None:
            return Sensitivity(
                "unknown",
                None,
                None,
                None,
                0,
                av,
                "Not known yet: rate a few clips or answer the short questions.",
            )
        w_r = n / (n + MIN_RATINGS) if r_score is not None else 0.0
        score = w_r * (r_score or 0.0) + (1.0 - w_r) * (
            q_score if q_score is not None else (r_score or 0.0)
        )
        level = "high" if score >= 0.6 else "moderate" if score >= 0.3 else "low"
        msg = {
            "high": "You respond strongly to some of these sounds; sessions lean on your "
            "favourites.",
            "moderate": "You respond to some of these sounds; sessions mix your favourites "
            "with calm beds.",
            "low": "You respond only a little so far; sessions stay gentle and bed-led. "
            "Responses differ a lot between people.",
        }[level]
        if n < MIN_RATINGS:
            msg += (
                f" (Based on {n} rating{'s' if n != 1 else ''}; {MIN_RATINGS} or more "
                "make this more reliable.)"
            )
        return Sensitivity(level, score, q_score, r_score, n, av, msg)

    # -- serialisation -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-able dict; :meth:`from_dict` reads it back exactly."""
        return {
            "format": PROFILE_FORMAT,
            "version": PROFILE_VERSION,
            "name": self.name,
            "seed": self.seed,
            "settings": self.settings.to_dict(),
            "ratings": [r.to_dict() for r in self.ratings],
            "avoid": dict(sorted(self.avoid.items())),
            "answers": dict(sorted(self.answers.items())),
            "clips": {k: _plain(v) for k, v in self.clips.items()},
            "clip_counter": self.clip_counter,
        }

    def summary(self) -> dict[str, Any]:
        """What ``susurrus profile show --json`` prints: families best first, avoid, sensitivity."""
        return {
            "name": self.name,
            "n_ratings": self.n_ratings,
            "usable": self.usable,
            "families": [b.to_dict() for b in self.beliefs()],
            "avoid": sorted(self.avoid),
            "avoid_reasons": dict(sorted(self.avoid.items())),
            "sensitivity": self.sensitivity().to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Any) -> ListenerProfile:
        """Read a profile written by :meth:`to_dict`; :class:`ParameterError` names a bad field."""
        if not isinstance(data, Mapping):
            raise ParameterError("profile", type(data).__name__, "a JSON object")
        if data.get("format") != PROFILE_FORMAT:
            raise ParameterError("format", data.get("format"), repr(PROFILE_FORMAT))
        if data.get("version") != PROFILE_VERSION:
            raise ParameterError("version", data.get("version"), str(PROFILE_VERSION))
        s = data.get("settings", {})
        if not isinstance(s, Mapping):
            raise ParameterError("settings", s, "an object with obs_sd, prior_sd, offset_sd")
        settings = ModelSettings(
            **{k: float(s[k]) for k in ("obs_sd", "prior_sd", "offset_sd") if k in s}
        )
        p = cls(data.get("name"), seed=data.get("seed", 0), settings=settings)  # type: ignore[arg-type]
        for i, raw in enumerate(data.get("ratings", [])):
            if not isinstance(raw, Mapping):
                raise ParameterError(f"ratings[{i}]", raw, "an object")
            fam = check_family(raw.get("family"), name=f"ratings[{i}].family")
            source = raw.get("source", "clip")
            if source not in ("clip", "session"):
                raise ParameterError(f"ratings[{i}].source", source, "clip or session")
            weight = check_range(
                f"ratings[{i}].weight", raw.get("weight", 1.0), 0.0, 1.0, low_inclusive=False
            )
            params = raw.get("params", {}) or {}
            if not isinstance(params, Mapping):
                raise ParameterError(f"ratings[{i}].params", params, "an object of numbers")
            p.ratings.append(
                Rating(
                    family=fam,
                    tingles=_check_score(f"ratings[{i}].tingles", raw.get("tingles")),
                    relax=_check_score(f"ratings[{i}].relax", raw.get("relax")),
                    unpleasant=bool(raw.get("unpleasant", False)),
                    weight=weight,
                    source=source,
                    clip_id=raw.get("clip_id"),
                    variant=raw.get("variant"),
                    params={k: float(v) for k, v in params.items()},
                )
            )
        avoid = data.get("avoid", {})
        if isinstance(avoid, list):  # a bare list of family ids is accepted too
            avoid = dict.fromkeys(avoid, "chosen")
        if not isinstance(avoid, Mapping):
            raise ParameterError("avoid", avoid, "an object family → reason, or a list of ids")
        for f, why in avoid.items():
            check_family(f, name="avoid")
            if why not in ("chosen", "unpleasant"):
                raise ParameterError(f"avoid.{f}", why, "chosen or unpleasant")
            p.avoid[f] = why
        answers = data.get("answers", {})
        if not isinstance(answers, Mapping):
            raise ParameterError("answers", answers, "an object question id → 0–4")
        for q, v in answers.items():
            p.answer(q, v)
        clips = data.get("clips", {})
        if not isinstance(clips, Mapping):
            raise ParameterError("clips", clips, "an object clip id → clip spec")
        for cid, spec in clips.items():
            if not isinstance(spec, Mapping) or "family" not in spec:
                raise ParameterError(f"clips.{cid}", spec, "a clip spec with a family")
            check_family(spec["family"], name=f"clips.{cid}.family")
            p.clips[str(cid)] = _plain(spec)
        counter = data.get("clip_counter", 0)
        if isinstance(counter, bool) or not isinstance(counter, int) or counter < 0:
            raise ParameterError("clip_counter", counter, "an integer >= 0")
        p.clip_counter = counter
        return p

    # -- used by discovery --------------------------------------------------------------------

    def _issue(self, spec: dict[str, Any]) -> None:
        self.clips[spec["id"]] = _plain(spec)
        self.clip_counter += 1
        while len(self.clips) > _MAX_PENDING:  # forget the oldest unrated clip
            del self.clips[next(iter(self.clips))]


def _plain(v: Any) -> Any:
    """A deep copy made of dict/list/str/float/int/bool/None only."""
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


@dataclass(frozen=True)
class _Posterior:
    """The exact posterior of ``u_f = δ + θ_f`` in factored form.

    Given the data, ``δ ~ N(delta_mean, delta_var)`` and, given δ, the family
    effects are independent: ``u_f = (1 − k_f) δ + c_f + ε_f`` with
    ``ε_f ~ N(0, 1 / prec_f)``. Hence ``mean_f = (1 − k_f) δ̂ + c_f`` and
    ``cov_fg = (1 − k_f)(1 − k_g) · delta_var + [f = g] / prec_f``.
    """

    mean: np.ndarray
    cov: np.ndarray
    k: np.ndarray
    c: np.ndarray
    prec: np.ndarray
    delta_mean: float
    delta_var: float

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One draw of ``u`` from the posterior (``len(mean) + 1`` standard normals)."""
        z = rng.standard_normal(len(self.mean) + 1)
        delta = self.delta_mean + math.sqrt(self.delta_var) * float(z[0])
        out: np.ndarray = (1.0 - self.k) * delta + self.c + z[1:] / np.sqrt(self.prec)
        return out


def _posterior(ratings: Sequence[Rating], s: ModelSettings) -> _Posterior:
    """Exact posterior of ``u_f = δ + θ_f`` for the canonical families, in closed form.

    Each family's weighted mean score ``x̄_f`` (total weight ``W_f``) is
    ``x̄_f ~ N(δ + μ0_f, τ² + σ²/W_f)`` independently
    given δ (τ = ``prior_sd``, σ = ``obs_sd``). So δ has the Normal posterior with
    precision ``1/offset_sd² + Σ_f 1/D_f`` and mean ``Σ_f (x̄_f − μ0_f)/D_f`` divided
    by that precision, ``D_f = τ² + σ²/W_f`` over the rated families; and given δ each
    ``θ_f`` is the textbook Normal–Normal update of ``x̄_f − δ`` (Gelman et al.,
    *BDA*, §2.5 and §5.4). This is the same posterior as inverting the joint
    precision matrix, but computed element by element with exactly rounded sums
    (:func:`math.fsum`), so that it is bit-for-bit the same in every process (a
    LAPACK inverse is not: its last bits can depend on memory alignment, which
    broke exact ties differently from run to run).
    """
    nf = len(FAMILY_IDS)
    index = {f: i for i, f in enumerate(FAMILY_IDS)}
    mu0 = np.array([prior_mean(f) for f in FAMILY_IDS])
    w_sum = [0.0] * nf
    wx_parts: list[list[float]] = [[] for _ in range(nf)]
    for r in ratings:
        i = index[r.family]
        w_sum[i] += r.weight
        wx_parts[i].append(r.weight * r.score)
    w = np.array(w_sum)
    wx = np.array([math.fsum(v) for v in wx_parts])
    inv_obs = 1.0 / s.obs_sd**2
    inv_prior = 1.0 / s.prior_sd**2
    prec = inv_prior + w * inv_obs
    k = w * inv_obs / prec
    c = (mu0 * inv_prior + wx * inv_obs) / prec
    if s.offset_sd == 0.0:
        delta_mean = delta_var = 0.0
    else:
        inv_d: list[float] = []
        resid: list[float] = []
        for i in range(nf):
            if w_sum[i] > 0.0:
                d_i = s.prior_sd**2 + s.obs_sd**2 / w_sum[i]
                inv_d.append(1.0 / d_i)
                resid.append((float(wx[i]) / w_sum[i] - float(mu0[i])) / d_i)
        delta_var = 1.0 / (1.0 / s.offset_sd**2 + math.fsum(inv_d))
        delta_mean = delta_var * math.fsum(resid)
    mean = (1.0 - k) * delta_mean + c
    cov = np.outer(1.0 - k, 1.0 - k) * delta_var + np.diag(1.0 / prec)
    return _Posterior(mean, cov, k, c, prec, delta_mean, delta_var)
