"""The trigger contract: a seeded, endless, streaming mono source.

A trigger renders its sound in *chunks of its own choosing* (``_generate``) into
an internal buffer; callers ``read(n)`` any number of samples. Because the
sequence of ``_generate`` calls never depends on how callers cut the stream,
the output is identical whatever the block size — the contract the renderer
relies on. Same ``rng`` state → same samples.

Output: float32 ``(1, n)``, finite, peak ≤ 1 (a last-resort clip guards it; a
trigger should sit well below, at about −20 dBFS RMS).

Event-based sounds (taps, ticks, snips, crackles, drops) derive from
:class:`EventTrigger`, which overlap-adds one synthesised event after another
onto an optional continuous bed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import ParameterError, UnknownTriggerError
from ..families import get_family


@dataclass(frozen=True)
class Param:
    """One trigger parameter: name (unit in the name), default, range, unit, help."""

    name: str
    default: float
    low: float
    high: float
    unit: str = ""
    description: str = ""

    def check(self, value: Any, *, owner: str = "") -> float:
        full = f"{owner}.{self.name}" if owner else self.name
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ParameterError(full, value, self.allowed()) from None
        if not np.isfinite(v) or not self.low <= v <= self.high:
            raise ParameterError(full, value, self.allowed())
        return v

    def allowed(self) -> str:
        u = f" {self.unit}" if self.unit else ""
        return f"{self.low:g}{u} to {self.high:g}{u}"

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "default": self.default, "min": self.low, "max": self.high,
                "unit": self.unit, "description": self.description}


class Trigger(ABC):
    """Base class of every trigger family.

    Subclasses set ``family`` (a canonical id from :mod:`susurrus.families`),
    ``params`` (the :class:`Param` list), optionally ``variant_defaults``
    (per-variant parameter defaults) and implement :meth:`_setup` and
    :meth:`_generate`.

    State kept between blocks: the internal sample buffer, the generator and
    whatever the subclass keeps (filter memories, event schedule).
    """

    family: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()
    variant_defaults: ClassVar[Mapping[str, Mapping[str, float]]] = {}
    #: what the trigger sounds like, for ``susurrus triggers``
    description: ClassVar[str] = ""

    def __init__(
        self,
        *,
        sr: int,
        rng: np.random.Generator,
        variant: str | None = None,
        **params: Any,
    ) -> None:
        if not isinstance(sr, int | np.integer) or not 8000 <= int(sr) <= 192000:
            raise ParameterError("sr", sr, "an integer sample rate from 8000 to 192000 Hz")
        if not isinstance(rng, np.random.Generator):
            raise ParameterError("rng", type(rng).__name__, "a numpy.random.Generator")
        fam = get_family(self.family)
        if variant is None or variant == "":
            variant = fam.variants[0]
        if variant not in fam.variants:
            raise UnknownTriggerError(f"{self.family}.variant", variant,
                                      "one of " + ", ".join(fam.variants))
        self.sr = int(sr)
        self.rng = rng
        self.variant = variant
        known = {p.name: p for p in self.params}
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ParameterError(f"{self.family}.{unknown[0]}", params[unknown[0]],
                                 "a parameter of " + self.family + ": "
                                 + (", ".join(known) or "(none)"))
        defaults = dict(self.variant_defaults.get(variant, {}))
        self.values: dict[str, float] = {}
        for p in self.params:
            raw = params.get(p.name, defaults.get(p.name, p.default))
            self.values[p.name] = p.check(raw, owner=self.family)
        self._buf = np.zeros(0, dtype=np.float32)
        self._setup()

    # -- subclass hooks -------------------------------------------------------------

    def _setup(self) -> None:  # noqa: B027 - optional hook
        """Prepare state (filters, schedules) from ``self.values`` and ``self.variant``."""

    @abstractmethod
    def _generate(self) -> np.ndarray:
        """Return the next chunk (1-D, any positive length, float) of the endless stream."""

    # -- the streaming interface -----------------------------------------------------

    def read(self, n: int) -> np.ndarray:
        """The next ``n`` samples as float32 ``(1, n)``."""
        if n < 0:
            raise ParameterError("n", n, "a non-negative number of samples")
        parts = [self._buf]
        have = len(self._buf)
        while have < n:
            chunk = np.asarray(self._generate(), dtype=np.float32).reshape(-1)
            if chunk.size == 0:
                raise RuntimeError(f"{type(self).__name__}._generate returned no samples")
            parts.append(chunk)
            have += chunk.size
        buf = np.concatenate(parts) if len(parts) > 1 else parts[0]
        out, self._buf = buf[:n], buf[n:]
        if not np.isfinite(np.dot(out, out)):  # one cheap reduction; repair only if needed
            out = np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
        out = np.clip(out, -1.0, 1.0)
        return out.reshape(1, n)

    def blocks(self, block_size: int) -> Iterator[np.ndarray]:
        """Yield ``(1, block_size)`` blocks for as long as asked."""
        if block_size <= 0:
            raise ParameterError("block_size", block_size, "a positive number of samples")
        while True:
            yield self.read(block_size)

    def render(self, duration_s: float) -> np.ndarray:
        """Convenience: the next ``duration_s`` seconds as ``(1, n)``."""
        return self.read(int(round(duration_s * self.sr)))

    def __repr__(self) -> str:
        ps = ", ".join(
            f"{p.name}={self.values[p.name]:g}{(' ' + p.unit) if p.unit else ''}"
            for p in self.params
        )
        return f"{type(self).__name__}(variant={self.variant!r}, sr={self.sr}, {ps})"

    @classmethod
    def describe(cls) -> dict[str, Any]:
        fam = get_family(cls.family)
        return {
            "family": cls.family,
            "description": cls.description or fam.description,
            "variants": list(fam.variants),
            "labels": list(fam.labels),
            "params": [p.as_dict() for p in cls.params],
            "variant_defaults": {k: dict(v) for k, v in cls.variant_defaults.items()},
        }


class EventTrigger(Trigger):
    """A trigger made of discrete events overlap-added onto an optional bed.

    Subclasses implement :meth:`_event` (one synthesised event and the time to the
    next onset) and may override :meth:`_bed` (a continuous background) and
    :meth:`_first_onset_s`.

    State kept between blocks: the pending overlap-add accumulator, the position
    of the next onset, and the subclass's own.
    """

    #: samples per internal chunk
    chunk_size: ClassVar[int] = 4096

    def __init__(self, **kwargs: Any) -> None:
        self._acc = np.zeros(0)
        self._next_onset = 0  # samples from the start of the current chunk
        super().__init__(**kwargs)
        self._next_onset = int(round(self._first_onset_s() * self.sr))

    def _first_onset_s(self) -> float:
        return float(self.rng.uniform(0.05, 0.5))

    @abstractmethod
    def _event(self) -> tuple[np.ndarray, float]:
        """Return (waveform of one event, seconds from its onset to the next onset)."""

    def _bed(self, n: int) -> np.ndarray | None:
        """A continuous background of ``n`` samples under the events (None: silence)."""
        return None

    def _generate(self) -> np.ndarray:
        n = self.chunk_size
        while self._next_onset < n:
            wave, gap_s = self._event()
            wave = np.asarray(wave, dtype=np.float64).reshape(-1)
            end = self._next_onset + len(wave)
            if end > len(self._acc):
                self._acc = np.concatenate([self._acc, np.zeros(end - len(self._acc))])
            self._acc[self._next_onset:end] += wave
            self._next_onset += max(1, int(round(gap_s * self.sr)))
        if len(self._acc) < n:
            self._acc = np.concatenate([self._acc, np.zeros(n - len(self._acc))])
        out = self._acc[:n].copy()
        self._acc = self._acc[n:]
        self._next_onset -= n
        bed = self._bed(n)
        if bed is not None:
            out += bed
        return out
