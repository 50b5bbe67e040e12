"""Guided whisper scripts: editable text files parsed into timed cues.

A script is a text file (package defaults in ``susurrus/data/scripts/``, overridden by
files of the same name in the directory named by ``$SUSURRUS_SCRIPTS_DIR``)::

    # comments start with '#'
    title: Paced breathing
    goal: unwind            (relax | sleep | focus | unwind)
    voice: female           (female | male)
    rate_wpm: 100           (speaking rate for timing, 50–200)
    ---
    A plain line is whispered.
    [pause 3]               silence, seconds
    [in 4] breathe in       a 4 s in-breath; its cue (optional) is said at its start
    [out 6] and out         a 6 s out-breath (4 + 6 s: 6 breaths per minute)
    [breath]                a soft audible breath (2 s); left out when breathing is avoided
    [repeat 6]              repeat the lines up to [end] six times (no nesting)
    [end]

Timing follows the script: a spoken line lasts ``words · 60 / rate_wpm`` seconds plus
0.4 s; a breath phase lasts exactly its seconds whatever its cue. :func:`parse_script`
returns a :class:`Script` of :class:`Cue` objects placed at ``start_s``;
:func:`render_script` voices it with the whisper engine
(:func:`susurrus.triggers._voice.synthesise_phrase`, soft breaths by
:func:`~susurrus.triggers._voice.breath_sound`) into a mono array that a later engine
layer can mix into a scene (e.g. written to a file and used as a ``recording`` layer).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ParameterError

__all__ = [
    "SCRIPTS_ENV",
    "Cue",
    "Script",
    "list_scripts",
    "load_script",
    "parse_script",
    "render_script",
]

SCRIPTS_ENV = "SUSURRUS_SCRIPTS_DIR"
_GOALS = ("relax", "sleep", "focus", "unwind")
_BREATH_S = 2.0
_GAP_S = 0.4
_MAX_REPEAT = 100
_MARK = re.compile(r"^\[(\w+)(?:\s+([0-9.]+))?\]\s*(.*)$")


@dataclass(frozen=True)
class Cue:
    """One timed cue: ``say`` (a phrase), ``pause``, ``in``/``out`` (a breath phase), ``breath``."""

    kind: str
    start_s: float
    duration_s: float
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "start_s": round(self.start_s, 3),
            "duration_s": round(self.duration_s, 3),
            "text": self.text,
        }


@dataclass(frozen=True)
class Script:
    """A parsed script: header fields and the timed cues."""

    name: str
    title: str
    goal: str
    voice: str
    rate_wpm: float
    cues: tuple[Cue, ...]

    @property
    def duration_s(self) -> float:
        return max((c.start_s + c.duration_s for c in self.cues), default=0.0)

    @property
    def breaths_per_min(self) -> float | None:
        """The paced-breathing rate implied by the in/out phases (None without any)."""
        phases = [c.duration_s for c in self.cues if c.kind in ("in", "out")]
        n_in = sum(1 for c in self.cues if c.kind == "in")
        return 60.0 * n_in / sum(phases) if n_in and phases else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "goal": self.goal,
            "voice": self.voice,
            "rate_wpm": self.rate_wpm,
            "duration_s": round(self.duration_s, 3),
            "cues": [c.to_dict() for c in self.cues],
        }


def _speech_s(text: str, rate_wpm: float) -> float:
    return len(text.split()) * 60.0 / rate_wpm + _GAP_S


def parse_script(text: str, *, name: str = "script", breaths: bool = True) -> Script:
    """Parse script text into timed cues; ``breaths=False`` drops ``[breath]`` markers.

    Raises :class:`ParameterError` naming ``name:line`` for a malformed line.
    """
    header: dict[str, str] = {}
    lines = text.splitlines()
    body_at = next((i for i, ln in enumerate(lines) if ln.strip() == "---"), None)
    if body_at is None:
        raise ParameterError(f"{name}", "(no '---' line)", "header lines, a '---' line, cues")
    for i, raw in enumerate(lines[:body_at], start=1):
        ln = raw.strip()
        if not ln or ln.startswith("#"):
            continue
        key, sep, value = ln.partition(":")
        if not sep:
            raise ParameterError(f"{name}:{i}", ln, "a header line 'key: value'")
        header[key.strip().lower()] = value.strip()
    goal = header.get("goal", "relax")
    if goal not in _GOALS:
        raise ParameterError(f"{name}.goal", goal, "one of " + ", ".join(_GOALS))
    voice = header.get("voice", "female")
    if voice not in ("female", "male"):
        raise ParameterError(f"{name}.voice", voice, "female or male")
    try:
        rate = float(header.get("rate_wpm", "100"))
    except ValueError:
        raise ParameterError(f"{name}.rate_wpm", header.get("rate_wpm"), "50 to 200") from None
    if not 50.0 <= rate <= 200.0:
        raise ParameterError(f"{name}.rate_wpm", rate, "50 to 200")

    # expand [repeat N] … [end] into a flat list of (line number, line)
    flat: list[tuple[int, str]] = []
    block: list[tuple[int, str]] | None = None
    times = 0
    for i, raw in enumerate(lines[body_at + 1 :], start=body_at + 2):
        ln = raw.strip()
        if not ln or ln.startswith("#"):
            continue
        m = _MARK.match(ln)
        if m and m.group(1).lower() == "repeat":
            if block is not None:
                raise ParameterError(f"{name}:{i}", ln, "no [repeat] inside a [repeat]")
            times = int(float(m.group(2) or "0"))
            if not 1 <= times <= _MAX_REPEAT:
                raise ParameterError(f"{name}:{i}", ln, f"[repeat N] with 1 <= N <= {_MAX_REPEAT}")
            block = []
        elif m and m.group(1).lower() == "end":
            if block is None:
                raise ParameterError(f"{name}:{i}", ln, "[end] only after [repeat N]")
            flat.extend(block * times)
            block = None
        elif block is not None:
            block.append((i, ln))
        else:
            flat.append((i, ln))
    if block is not None:
        raise ParameterError(name, "[repeat] without [end]", "every [repeat N] closed by [end]")

    cues: list[Cue] = []
    t = 0.0
    for i, ln in flat:
        m = _MARK.match(ln)
        if m is None and ln.startswith("["):
            raise ParameterError(
                f"{name}:{i}",
                ln,
                "a phrase, [pause S], [in S] text, [out S] text, [breath], [repeat N] or [end]",
            )
        if m is None:
            d = _speech_s(ln, rate)
            cues.append(Cue("say", t, d, ln))
            t += d
            continue
        kind, arg, rest = m.group(1).lower(), m.group(2), m.group(3).strip()
        if kind == "breath":
            if breaths:
                cues.append(Cue("breath", t, _BREATH_S))
                t += _BREATH_S
            continue
        if kind not in ("pause", "in", "out"):
            raise ParameterError(
                f"{name}:{i}",
                ln,
                "a phrase, [pause S], [in S] text, [out S] text, [breath], [repeat N] or [end]",
            )
        try:
            d = float(arg or "nan")
        except ValueError:
            d = float("nan")
        if not 0.5 <= d <= 600.0:
            raise ParameterError(f"{name}:{i}", ln, f"[{kind} S] with 0.5 <= S <= 600 seconds")
        if kind == "pause" and rest:
            raise ParameterError(f"{name}:{i}", ln, "[pause S] alone on its line")
        cues.append(Cue(kind, t, d, rest))
        t += d
    if not cues:
        raise ParameterError(name, "(no cues)", "at least one cue after '---'")
    return Script(
        name=name,
        title=header.get("title", name),
        goal=goal,
        voice=voice,
        rate_wpm=rate,
        cues=tuple(cues),
    )


def _script_files() -> dict[str, str]:
    root = resources.files("susurrus") / "data" / "scripts"
    files = {
        p.name.removesuffix(".txt"): p.read_text(encoding="utf-8")
        for p in root.iterdir()
        if p.name.endswith(".txt")
    }
    override = os.environ.get(SCRIPTS_ENV)
    if override and Path(override).is_dir():
        for p in Path(override).glob("*.txt"):
            files[p.stem] = p.read_text(encoding="utf-8")
    return files


def list_scripts() -> list[str]:
    """Names of the available scripts (package defaults and ``$SUSURRUS_SCRIPTS_DIR``)."""
    return sorted(_script_files())


def load_script(name: str, *, breaths: bool = True) -> Script:
    """The script called ``name``; :class:`ParameterError` lists the known ones."""
    files = _script_files()
    if name not in files:
        raise ParameterError("script", name, "one of " + ", ".join(sorted(files)))
    return parse_script(files[name], name=name, breaths=breaths)


def render_script(
    script: Script,
    *,
    sr: int,
    rng: np.random.Generator,
    voice: str | None = None,
    level: float = 0.5,
) -> np.ndarray:
    """Voice a script as a whisper: float32 ``(1, n)``, each cue at its ``start_s``.

    A cue's phrase is sped up to fit a breath phase when it is longer than 90 % of
    it (the same rule as the whisper trigger's breathing cues); phrases otherwise
    keep their natural length (the timing already allowed for it). ``[breath]``
    markers become one soft exhale. Needs espeak-ng (see :mod:`susurrus.triggers._voice`).
    """
    from ..triggers._voice import breath_sound, synthesise_phrase

    voice = voice or script.voice
    n = int(np.ceil(script.duration_s * sr)) + sr
    out = np.zeros(n)
    for cue in script.cues:
        s0 = int(round(cue.start_s * sr))
        if cue.kind == "breath":
            y = 0.3 * breath_sound(sr, rng, duration_s=0.9 * cue.duration_s, inhale=False)
        elif cue.text:
            y = synthesise_phrase(
                cue.text, sr=sr, rng=rng, voice=voice, whisper=True, rate_wpm=script.rate_wpm
            )
            room = int(0.9 * cue.duration_s * sr)
            if cue.kind in ("in", "out") and len(y) > room:
                idx = np.linspace(0, len(y) - 1, room)
                y = np.interp(idx, np.arange(len(y)), y)
        else:
            continue
        y = y[: n - s0]
        out[s0 : s0 + len(y)] += y
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > 0:
        out *= level / peak
    return out.astype(np.float32).reshape(1, -1)
