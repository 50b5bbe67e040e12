"""The scene model: a versioned recipe of trigger layers and a master section.

A scene is data. It is saved as TOML or JSON and shared as a short URL-safe
string; built-in presets are scenes. Validation errors name the field, the
value and the allowed range (:class:`~susurrus.errors.SceneError`).

Spatial conventions (SOFA, AES69): azimuth 0° straight ahead, positive to the
listener's **left** (counter-clockwise seen from above), ±180° behind;
elevation positive up; distance in metres.
"""

from __future__ import annotations

import base64
import json
import tomllib
import zlib
from pathlib import Path
from typing import Annotated, Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import SceneError
from ..families import FAMILY_IDS, get_family

SCHEMA_VERSION: Literal[1] = 1
SHARE_PREFIX = "s1."
#: longest scene: one week
MAX_DURATION_S = 7 * 86400.0
MOTION_NAMES = ("static", "sweep", "orbit", "drift", "approach")

_Strict = ConfigDict(extra="forbid", validate_assignment=True)


class Activity(BaseModel):
    """How a layer comes and goes over time.

    ``continuous``: always on. ``intermittent``: on for random stretches and off
    for random gaps (``on_fraction`` of the time on average, off gaps of
    ``mean_gap_s`` on average), with ``ramp_s`` fades at each change.
    ``drift``: always on, its level wandering slowly by up to ``depth_db`` over
    about ``period_s``.
    """

    model_config = _Strict
    pattern: Literal["continuous", "intermittent", "drift"] = "continuous"
    on_fraction: Annotated[float, Field(ge=0.05, le=1.0)] = 0.5
    mean_gap_s: Annotated[float, Field(ge=1.0, le=3600.0)] = 20.0
    ramp_s: Annotated[float, Field(ge=0.05, le=60.0)] = 2.0
    depth_db: Annotated[float, Field(ge=0.0, le=24.0)] = 6.0
    period_s: Annotated[float, Field(ge=5.0, le=3600.0)] = 60.0


class Layer(BaseModel):
    """One layer: a trigger (family, variant, parameters), the user's own recording, or a
    guided whisper script (``kind = "script"``, ``script`` = a name from
    :func:`susurrus.scene.scripts.list_scripts`; ``params.breaths = 0`` leaves out its
    audible breaths). Recordings and scripts play once, or loop with a crossfade."""

    model_config = _Strict
    name: str = ""
    kind: Literal["trigger", "recording", "script"] = "trigger"
    trigger: str | None = None
    variant: str | None = None
    params: dict[str, float] = Field(default_factory=dict)
    path: str | None = None
    script: str | None = None
    loop: bool = False
    crossfade_s: Annotated[float, Field(ge=0.0, le=30.0)] = 2.0
    gain_db: Annotated[float, Field(ge=-60.0, le=12.0)] = 0.0
    azimuth_deg: Annotated[float, Field(ge=-180.0, le=180.0)] = 0.0
    elevation_deg: Annotated[float, Field(ge=-40.0, le=90.0)] = 0.0
    distance_m: Annotated[float, Field(gt=0.0, le=20.0)] = 1.0
    motion: Literal["static", "sweep", "orbit", "drift", "approach"] = "static"
    period_s: Annotated[float, Field(ge=2.0, le=3600.0)] = 20.0
    binaural: bool = True
    spread: Literal["point", "diffuse"] = "point"
    activity: Activity = Field(default_factory=Activity)

    @field_validator("trigger")
    @classmethod
    def _known_family(cls, v: str | None) -> str | None:
        if v is not None and v not in FAMILY_IDS:
            raise ValueError(f"unknown trigger family {v!r}; allowed: {', '.join(FAMILY_IDS)}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Layer:
        if self.kind == "trigger":
            if self.trigger is None:
                raise ValueError("a trigger layer needs 'trigger' (a family id)")
            fam = get_family(self.trigger)
            if self.variant is not None and self.variant not in fam.variants:
                raise ValueError(f"unknown variant {self.variant!r} of {self.trigger}; "
                                 f"allowed: {', '.join(fam.variants)}")
            if self.path is not None:
                raise ValueError("a trigger layer takes no 'path'")
        elif self.kind == "recording":
            if not self.path:
                raise ValueError("a recording layer needs 'path'")
            if self.trigger is not None or self.script is not None:
                raise ValueError("a recording layer takes no 'trigger' or 'script'")
        else:
            from .scripts import list_scripts

            if self.script not in list_scripts():
                raise ValueError(f"script {self.script!r} is not a guided script; allowed: "
                                 + ", ".join(list_scripts()))
            if self.trigger is not None or self.path is not None:
                raise ValueError("a script layer takes no 'trigger' or 'path'")
            if set(self.params) - {"breaths"}:
                raise ValueError("a script layer takes only params.breaths (0 or 1)")
        for k, v in self.params.items():
            if v != v or v in (float("inf"), float("-inf")):
                raise ValueError(f"params.{k}={v} must be finite")
        return self

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.kind == "recording":
            return Path(self.path or "").name
        if self.kind == "script":
            return f"script:{self.script}"
        return f"{self.trigger}:{self.variant}" if self.variant else str(self.trigger)


class Master(BaseModel):
    """Loudness, ceilings, fades and the sleep timer.

    Defaults follow a calm-listening budget (EBU R128 units): integrated −27 LUFS,
    true peak ≤ −6 dBTP, momentary ≤ −18 LUFS; fade-in 10 s, equal-power fade-out
    60 s (each at most a third of the session). With ``sleep_after_s`` set, a fade
    of ``max(60 s, fade_out_s)`` starts then and the session ends when it does.
    ``output``: ``headphones`` (binaural), ``speakers`` (constant-power panning) or
    ``mono`` (one channel; a trigger auditioned alone, unplaced).
    """

    model_config = _Strict
    target_lufs: Annotated[float, Field(ge=-50.0, le=-10.0)] = -27.0
    true_peak_dbtp: Annotated[float, Field(ge=-30.0, le=0.0)] = -6.0
    momentary_max_lufs: Annotated[float, Field(ge=-40.0, le=0.0)] = -18.0
    fade_in_s: Annotated[float, Field(ge=0.0, le=3600.0)] = 10.0
    fade_out_s: Annotated[float, Field(ge=0.0, le=3600.0)] = 60.0
    sleep_after_s: Annotated[float | None, Field(gt=0.0, le=MAX_DURATION_S)] = None
    output: Literal["headphones", "speakers", "mono"] = "headphones"
    normalize: bool = True
    #: the most the true-peak limiter may take off a peak; where reaching the target would
    #: need more, the gain stops short of it instead (None: no such bound)
    max_limiting_db: Annotated[float | None, Field(ge=0.0, le=40.0)] = None

    @model_validator(mode="after")
    def _ceilings(self) -> Master:
        if self.momentary_max_lufs < self.target_lufs:
            raise ValueError(f"momentary_max_lufs={self.momentary_max_lufs} must be >= "
                             f"target_lufs={self.target_lufs}")
        return self


class Scene(BaseModel):
    """A session recipe: duration, sample rate, seed, layers and master."""

    model_config = _Strict
    schema_version: Literal[1] = SCHEMA_VERSION
    name: str = "untitled"
    description: str = ""
    duration_s: Annotated[float, Field(gt=0.0, le=MAX_DURATION_S)] = 1800.0
    sr: Literal[44100, 48000] = 48000
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    layers: Annotated[list[Layer], Field(min_length=1, max_length=32)]
    master: Master = Field(default_factory=Master)

    # -- timing -------------------------------------------------------------------

    def timing(self) -> SceneTiming:
        """Effective fades and end, after the one-third rule and the sleep timer."""
        total = self.duration_s
        fade_out = min(self.master.fade_out_s, total / 3.0)
        if self.master.sleep_after_s is not None and self.master.sleep_after_s < total:
            fade_out = max(60.0, self.master.fade_out_s)
            total = min(total, self.master.sleep_after_s + fade_out)
            fade_out = min(fade_out, total - self.master.sleep_after_s)
        fade_in = min(self.master.fade_in_s, total / 3.0)
        return SceneTiming(total_s=total, fade_in_s=fade_in, fade_out_s=fade_out)

    # -- serialisation -------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())

    def to_share_string(self) -> str:
        """Compact URL-safe string: ``s1.`` + base64url(zlib(minimal JSON))."""
        data: dict[str, Any] = self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        data["schema_version"] = SCHEMA_VERSION
        raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
        return SHARE_PREFIX + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")

    def save(self, path: str | Path) -> Path:
        p = Path(path)
        ext = p.suffix.lower()
        if ext == ".toml":
            text = self.to_toml()
        elif ext == ".json":
            text = self.to_json() + "\n"
        else:
            raise SceneError(f"scene file {p}: extension must be .toml or .json")
        tmp = p.with_name(f".{p.name}.partial")
        try:
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(p)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise SceneError(f"cannot write scene file {p}: {exc.strerror or exc}") from None
        return p

    def with_overrides(self, **changes: Any) -> Scene:
        """A validated copy with top-level fields (or ``master`` fields) changed."""
        data = self.model_dump()
        master_fields = set(Master.model_fields)
        for k, v in changes.items():
            if v is None:
                continue
            if k in master_fields:
                data["master"][k] = v
            else:
                data[k] = v
        return scene_from_dict(data)


class SceneTiming(BaseModel):
    total_s: float
    fade_in_s: float
    fade_out_s: float

    @property
    def steady_start_s(self) -> float:
        return self.fade_in_s

    @property
    def steady_end_s(self) -> float:
        return self.total_s - self.fade_out_s


def _explain(exc: ValidationError, source: str) -> SceneError:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(x) for x in err["loc"]) or "(scene)"
        msg = err["msg"].removeprefix("Value error, ")
        value = err.get("input")
        shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
        parts.append(f"{loc}: {msg}{shown}")
    more = f" (+{exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
    return SceneError(f"{source}: " + "; ".join(parts) + more)


def scene_from_dict(data: Any, *, source: str = "scene") -> Scene:
    """Validate a mapping into a :class:`Scene`; :class:`SceneError` names what is wrong."""
    if not isinstance(data, dict):
        raise SceneError(f"{source}: a scene must be a table/object, got {type(data).__name__}")
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise SceneError(f"{source}: schema_version={version!r} is not supported; "
                         f"allowed: {SCHEMA_VERSION}")
    try:
        return Scene.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, source) from None


def load_scene(path: str | Path) -> Scene:
    """Load a scene from a ``.toml`` or ``.json`` file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SceneError(f"scene file {p}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SceneError(f"scene file {p}: cannot read ({exc})") from None
    ext = p.suffix.lower()
    try:
        if ext == ".toml":
            data: Any = tomllib.loads(text)
        elif ext == ".json":
            data = json.loads(text)
        else:
            raise SceneError(f"scene file {p}: extension must be .toml or .json")
    except tomllib.TOMLDecodeError as exc:
        raise SceneError(f"scene file {p}: malformed TOML ({exc})") from None
    except json.JSONDecodeError as exc:
        raise SceneError(f"scene file {p}: malformed JSON ({exc.msg} at line {exc.lineno})") from None
    return scene_from_dict(data, source=f"scene file {p}")


def scene_from_share_string(text: str) -> Scene:
    """Inverse of :meth:`Scene.to_share_string`."""
    s = text.strip()
    if not s.startswith(SHARE_PREFIX):
        raise SceneError(f"share string must start with {SHARE_PREFIX!r}")
    body = s[len(SHARE_PREFIX):]
    if len(body) > 200_000:
        raise SceneError("share string is too long (over 200000 characters)")
    try:
        raw = zlib.decompressobj().decompress(
            base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)), 2_000_000)
        data = json.loads(raw)
    except (ValueError, zlib.error) as exc:
        raise SceneError(f"share string is corrupt ({type(exc).__name__})") from None
    return scene_from_dict(data, source="share string")
