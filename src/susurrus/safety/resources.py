"""Crisis resources by locale, from the one data file ``crisis_resources.json``.

The file records the date the numbers were last checked (``last_checked``).
A locale is resolved from an explicit ``--locale`` (``en_GB``, ``en-US``,
``GB``, ``UK``), else from ``LC_ALL`` / ``LC_MESSAGES`` / ``LANG``; anything
unknown falls back to the international directory.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

DATA_FILE = "crisis_resources.json"
_ALIASES = {"UK": "GB", "EN": None, "C": None, "POSIX": None}


@dataclass(frozen=True)
class Resource:
    """One helpline: how to reach it (call, text, web) and when."""

    name: str
    call: str | None = None
    text: str | None = None
    url: str | None = None
    hours: str | None = None

    def line(self) -> str:
        """One line for a terminal: ``Samaritans — call 116 123 · https://… (24/7)``."""
        ways = []
        if self.call:
            ways.append(f"call {self.call}")
        if self.text:
            ways.append(f"text {self.text}")
        if self.url:
            ways.append(self.url)
        hours = f" ({self.hours})" if self.hours else ""
        return f"{self.name} — {' · '.join(ways)}{hours}"


@dataclass(frozen=True)
class CrisisResources:
    """The helplines of one locale."""

    locale: str
    country: str
    emergency: str
    resources: tuple[Resource, ...]
    last_checked: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``--json`` output puts under ``"crisis"``)."""
        return {
            "locale": self.locale,
            "country": self.country,
            "emergency": self.emergency,
            "resources": [
                {k: v for k, v in r.__dict__.items() if v is not None} for r in self.resources
            ],
            "last_checked": self.last_checked,
        }


@cache
def _data() -> dict[str, Any]:
    text = resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def last_checked() -> str:
    """The date (ISO) the crisis numbers were last checked."""
    return str(_data()["last_checked"])


def locales() -> tuple[str, ...]:
    """Every locale with resources (region codes, plus ``INTL`` the default)."""
    return tuple(_data()["locales"])


def default_locale() -> str:
    """The fallback locale: the international directory."""
    return str(_data()["default"])


def resolve_locale(locale: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """Map ``en_GB.UTF-8`` / ``en-US`` / ``CA`` / ``UK`` / ``None`` to a locale key of the data file."""
    env = os.environ if environ is None else environ
    if not locale:
        locale = env.get("LC_ALL") or env.get("LC_MESSAGES") or env.get("LANG") or ""
    code = locale.split(".")[0].split("@")[0]
    parts = [p for p in re.split(r"[_-]", code) if p]
    region = parts[-1].upper() if parts else ""
    if len(parts) == 1 and region not in _data()["locales"] and region not in _ALIASES:
        region = ""  # a bare language ("en", "fr") says nothing about the country
    region = _ALIASES.get(region, region) or ""
    return region if region in _data()["locales"] else default_locale()


def crisis_resources(locale: str | None = None) -> CrisisResources:
    """The crisis resources for ``locale`` (resolved by :func:`resolve_locale`)."""
    key = resolve_locale(locale)
    entry = _data()["locales"][key]
    return CrisisResources(
        locale=key,
        country=entry["country"],
        emergency=entry["emergency"],
        resources=tuple(Resource(**r) for r in entry["resources"]),
        last_checked=last_checked(),
    )


def format_crisis(res: CrisisResources) -> str:
    """The crisis message for a terminal or a page: who to contact now, and the emergency number."""
    lines = [
        "If you are having thoughts that you would be better off dead, or of hurting yourself,",
        "please reach out now. You do not have to go through this alone:",
    ]
    lines += [f"  • {r.line()}" for r in res.resources]
    lines.append(f"  • If you are in immediate danger, call {res.emergency}.")
    lines.append(
        f"({res.country}; numbers last checked {res.last_checked}. Other countries: "
        "https://findahelpline.com)"
    )
    return "\n".join(lines)
