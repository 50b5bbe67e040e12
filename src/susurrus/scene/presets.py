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
