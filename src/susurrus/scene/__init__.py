"""Scenes: the versioned recipe of a session, and the built-in presets."""

from .model import (
    MOTION_NAMES,
    SCHEMA_VERSION,
    Activity,
    Layer,
    Master,
    Scene,
    SceneTiming,
    load_scene,
    scene_from_dict,
    scene_from_share_string,
)
from .presets import list_presets, load_preset, single_trigger_scene

__all__ = [
    "MOTION_NAMES",
    "SCHEMA_VERSION",
    "Activity",
    "Layer",
    "Master",
    "Scene",
    "SceneTiming",
    "list_presets",
    "load_preset",
    "load_scene",
    "scene_from_dict",
    "scene_from_share_string",
    "single_trigger_scene",
]
