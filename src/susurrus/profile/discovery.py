"""Trigger discovery: the next short clip to play a listener, and rendering it.

:func:`next_clip` asks the listener model (:meth:`ListenerProfile.choose_family`,
Thompson sampling) for a family, then picks a variant (the one this listener has
heard least, ties broken at random) and parameters drawn near that variant's
defaults, within the ranges each trigger declares
(:meth:`susurrus.triggers.Trigger.describe`): each parameter moves by up to a
quarter of its range either way, so clips differ audibly but stay typical of the
family. Clips last 10–20 s. The clip is registered in the profile as issued, so
that :meth:`ListenerProfile.rate` can take its id.

Aversion guarantee: an avoided family is never proposed; when ``breathing`` is
avoided, the voice triggers' ``breaths`` parameter is 0 (no breaths between
whispered phrases).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import triggers
from ..errors import ParameterError
from ..families import get_family
from ..scene import Scene, scene_from_dict, single_trigger_scene
from .model import ListenerProfile

__all__ = [
    "CLIP_MAX_S",
    "CLIP_MIN_S",
    "VOICE_FAMILIES",
    "clip_scene",
    "next_clip",
    "render_clip",
    "sample_params",
]

CLIP_MIN_S = 10.0
CLIP_MAX_S = 20.0
#: families whose trigger has a ``breaths`` parameter (breaths between phrases)
VOICE_FAMILIES = ("whisper", "soft-speaking")
#: how far a discovery clip's parameters wander from the variant default (share of range)
_SPREAD = 0.25


def _profile_rng(profile: ListenerProfile) -> np.random.Generator:
    """The profile's own stream for its n-th clip: same profile state, same clip."""
    return np.random.default_rng([profile.seed, profile.clip_counter, 0x5C11])


def sample_params(
    family: str,
    variant: str,
    rng: np.random.Generator,
    *,
    spread: float = _SPREAD,
    breaths_allowed: bool = True,
) -> dict[str, float]:
    """Parameters near the variant's defaults, each within its declared range.

    Every parameter is drawn uniformly within ``± spread · (high − low)`` of the
    variant default and clipped to ``[low, high]``; values are rounded to 3
    significant digits so that they read well in JSON. With ``breaths_allowed``
    False, a ``breaths`` parameter is 0.
    """
    cls = triggers.get(family)
    defaults = dict(cls.variant_defaults.get(variant, {}))
    out: dict[str, float] = {}
    for p in cls.params:
        centre = float(defaults.get(p.name, p.default))
        half = spread * (p.high - p.low)
        v = float(rng.uniform(max(p.low, centre - half), min(p.high, centre + half)))
        out[p.name] = float(np.clip(float(f"{v:.3g}"), p.low, p.high))
    if "breaths" in out and not breaths_allowed:
        out["breaths"] = 0.0
    return out


def next_clip(
    profile: ListenerProfile,
    rng: np.random.Generator | None = None,
    *,
    register: bool = True,
) -> dict[str, Any]:
    """The next discovery clip: ``{"id", "family", "variant", "params", "duration_s", "seed"}``.

    Parameters
    ----------
    profile : the listener; the clip is registered in ``profile.clips`` when
        ``register`` is true (so :meth:`ListenerProfile.rate` accepts its id)
    rng : source of every random choice; by default a stream derived from the
        profile's seed and clip counter (same state, same clip)
    """
    if rng is None:
        rng = _profile_rng(profile)
    if not isinstance(rng, np.random.Generator):
        raise ParameterError("rng", type(rng).__name__, "a numpy.random.Generator")
    family = profile.choose_family(rng)
    fam = get_family(family)
    heard = dict.fromkeys(fam.variants, 0)
    for r in profile.ratings:
        if r.family == family and r.variant in heard:
            heard[r.variant] += 1
    for issued in profile.clips.values():
        if issued.get("family") == family and issued.get("variant") in heard:
            heard[issued["variant"]] += 1
    least = min(heard.values())
    options = [v for v in fam.variants if heard[v] == least]
    variant = options[int(rng.integers(len(options)))]
    params = sample_params(family, variant, rng, breaths_allowed="breathing" not in profile.avoid)
    duration = float(np.round(rng.uniform(CLIP_MIN_S, CLIP_MAX_S) * 2.0) / 2.0)
    spec: dict[str, Any] = {
        "id": f"c{profile.clip_counter + 1:04d}-{family}",
        "family": family,
        "variant": variant,
        "params": params,
        "duration_s": duration,
        "seed": int(rng.integers(0, 2**31 - 1)),
    }
    if register:
        profile._issue(spec)
    return spec


def clip_scene(spec: dict[str, Any], *, sr: int = 48000, fade_s: float = 0.5) -> Scene:
    """The scene of a clip: the trigger alone at −23 LUFS, with short fades in and out.

    ``fade_s`` fades (default 0.5 s) keep the clip from starting or stopping with a click.
    """
    for key in ("family", "variant", "params", "duration_s", "seed"):
        if key not in spec:
            raise ParameterError(f"clip.{key}", None, "present in the clip spec")
    duration = float(spec["duration_s"])
    if not CLIP_MIN_S / 10.0 <= duration <= 60.0:
        raise ParameterError("clip.duration_s", duration, "1 to 60 s")
    base = single_trigger_scene(
        spec["family"],
        spec["variant"],
        params=spec["params"],
        duration_s=duration,
        seed=int(spec["seed"]),
        sr=sr,
    )
    data = base.to_dict()
    data["name"] = f"discovery clip {spec.get('id', '')}".strip()
    data["master"]["fade_in_s"] = fade_s
    data["master"]["fade_out_s"] = fade_s
    return scene_from_dict(data, source="discovery clip")


def render_clip(spec: dict[str, Any], path: str | Path, *, sr: int = 48000) -> Path:
    """Render a clip spec to an audio file (WAV/FLAC/OGG by extension); returns the path.

    Uses the render layer (:func:`susurrus.render.render_to_file`), imported here so
    that the model stays importable without it.
    """
    from ..render import render_to_file

    render_to_file(clip_scene(spec, sr=sr), path)
    return Path(path)
