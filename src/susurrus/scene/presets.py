"""Built-in presets: scenes shipped as TOML files inside the package."""

from __future__ import annotations

import tomllib
from importlib import resources

from ..errors import ParameterError
from .model import Scene, scene_from_dict


def _files() -> dict[str, str]:
    root = resources.files("susurrus") / "presets"
    return {
        p.name.removesuffix(".toml"): p.read_text(encoding="utf-8")
        for p in root.iterdir()
        if p.name.endswith(".toml")
    }


def list_presets() -> list[Scene]:
    """Every preset, sorted by name."""
    return [load_preset(name) for name in sorted(_files())]


def load_preset(name: str) -> Scene:
    """The preset called ``name``; :class:`ParameterError` lists the known ones."""
    files = _files()
    if name not in files:
        raise ParameterError("preset", name, "one of " + ", ".join(sorted(files)))
    return scene_from_dict(tomllib.loads(files[name]), source=f"preset {name}")


def single_trigger_scene(
    family: str,
    variant: str | None = None,
    *,
    params: dict[str, float] | None = None,
    duration_s: float = 30.0,
    seed: int = 0,
    sr: int = 48000,
    azimuth_deg: float | None = None,
    elevation_deg: float | None = None,
    distance_m: float | None = None,
    motion: str | None = None,
    period_s: float | None = None,
) -> Scene:
    """One trigger alone, for auditioning and scripts: no fades, normalised to −23 LUFS.

    Placed binaurally (stereo) only when a position or motion is given; otherwise the
    file is mono: the trigger itself, at −23 LUFS — or quieter for very sparse, peaky
    triggers (a clock, single taps), whose gain stops where the limiter would have to
    take more than 3 dB off their peaks: auditioning a sound must not squash it.
    """
    placed = any(v is not None for v in (azimuth_deg, elevation_deg, distance_m)) or (
        motion not in (None, "static"))
    layer = {
        "trigger": family, "variant": variant, "params": dict(params or {}),
        "azimuth_deg": azimuth_deg or 0.0, "elevation_deg": elevation_deg or 0.0,
        "distance_m": distance_m if distance_m is not None else 1.0,
        "motion": motion or "static", "period_s": period_s or 20.0, "binaural": placed,
    }
    spec = f"{family}:{variant}" if variant else family
    return scene_from_dict({
        "name": f"trigger {spec}", "duration_s": duration_s, "sr": sr, "seed": seed,
        "layers": [layer],
        "master": {"target_lufs": -23.0, "momentary_max_lufs": 0.0, "true_peak_dbtp": -1.0,
                   "fade_in_s": 0.0, "fade_out_s": 0.0, "max_limiting_db": 3.0,
                   "output": "headphones" if placed else "mono"},
    }, source="trigger")
