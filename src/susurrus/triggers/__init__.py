"""The trigger registry: one module per family, each registering a :class:`Trigger`.

Modules in this package are discovered automatically; a module registers its
class with :func:`register`. ``create("tapping", "glass", sr=48000, rng=rng)``
builds a source.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, TypeVar

import numpy as np

from ..errors import UnknownTriggerError
from ..families import FAMILY_IDS, get_family
from .base import EventTrigger, Param, Trigger

__all__ = ["EventTrigger", "Param", "Trigger", "available", "create", "get", "register"]

_REGISTRY: dict[str, type[Trigger]] = {}
_loaded = False
T = TypeVar("T", bound=type[Trigger])


def register(cls: T) -> T:
    """Class decorator: register a trigger under its ``family`` id."""
    get_family(cls.family)  # must be canonical
    _REGISTRY[cls.family] = cls
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_") and mod.name != "base":
            try:
                importlib.import_module(f"{__name__}.{mod.name}")
            except Exception as exc:  # a broken module must say which one it is
                raise ImportError(f"trigger module susurrus.triggers.{mod.name} failed to "
                                  f"import: {exc}") from exc
    _loaded = True


def available() -> list[str]:
    """Registered family ids, in canonical order."""
    _load()
    return [f for f in FAMILY_IDS if f in _REGISTRY]


def get(family: str) -> type[Trigger]:
    """The trigger class for a family id."""
    _load()
    if family not in _REGISTRY:
        get_family(family)  # raises for a non-canonical id
        raise UnknownTriggerError("family", family,
                                  "a registered trigger: " + ", ".join(available()))
    return _REGISTRY[family]


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"tapping:glass"`` → ``("tapping", "glass")``; ``"rain"`` → ``("rain", None)``."""
    family, _, variant = spec.partition(":")
    return family.strip(), (variant.strip() or None)


def create(
    family: str,
    variant: str | None = None,
    *,
    sr: int,
    rng: np.random.Generator,
    **params: Any,
) -> Trigger:
    """Instantiate a registered trigger."""
    return get(family)(sr=sr, rng=rng, variant=variant, **params)
