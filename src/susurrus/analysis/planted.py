"""Planted-event test recordings: calm beds from the trigger library with jarring
events at known times (for tests, benchmarks and calibration).

Beds: ``rain``, ``noise:pink``, ``whisper``, ``brushing``, normalised to a
programme RMS of ``bed_dbfs``. Events: ``tap`` (a loud wooden tap from the tapping
trigger), ``clip`` (a 0.25 s plosive-like burst driven into hard clipping at full scale),
``beep`` (a 0.3 s 1 kHz tone), ``drop`` (a dropped object: a low modal impact with
one bounce), each ``level_db`` above the bed RMS (peak for impacts, RMS for beeps).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dsp import modal_impact
from ..triggers import create

BEDS = ("rain", "noise:pink", "whisper", "brushing")
EVENTS = ("tap", "clip", "beep", "drop")


@dataclass(frozen=True)
class Planted:
    kind: str
    start_s: float
    end_s: float


def bed(
    spec: str, duration_s: float, sr: int, *, rng: np.random.Generator, bed_dbfs: float = -36.0
) -> np.ndarray:
    """A mono calm bed ``(1, n)`` at ``bed_dbfs`` RMS."""
    family, _, variant = spec.partition(":")
    src = create(family, variant or None, sr=sr, rng=rng)
    y = src.read(int(round(duration_s * sr))).astype(np.float64)
    rms = float(np.sqrt(np.mean(y**2))) or 1.0
    return (y * (10 ** (bed_dbfs / 20) / rms)).astype(np.float32)


def _tap(sr: int, rng: np.random.Generator) -> np.ndarray:
    src = create("tapping", "wood", sr=sr, rng=rng, tempo_bpm=30.0, hardness=0.9)
    y = src.read(sr)[0].astype(np.float64)
    onset = int(np.flatnonzero(np.abs(y) > 0.05 * np.abs(y).max())[0])
    y = y[onset : onset + int(0.3 * sr)]
    return y / np.abs(y).max()


def _drop(sr: int, rng: np.random.Generator) -> np.ndarray:
    def hit(scale: float) -> np.ndarray:
        return modal_impact(
            sr,
            freqs_hz=np.array([140.0, 385.0, 720.0, 1310.0, 2900.0]) * rng.uniform(0.9, 1.1),
            decays_s=np.array([0.12, 0.07, 0.05, 0.03, 0.01]),
            amps=np.array([1.0, 0.7, 0.5, 0.3, 0.2]) * scale,
            duration_s=0.4,
            attack_ms=0.3,
            rng=rng,
        )

    first, bounce = hit(1.0), hit(0.4)
    y = np.zeros(int(0.55 * sr))
    y[: first.size] += first
    k = int(0.14 * sr)
    y[k : k + bounce.size] += bounce[: y.size - k]
    return y / np.abs(y).max()


def plant(
    y: np.ndarray,
    sr: int,
    kinds: list[tuple[str, float]],
    *,
    rng: np.random.Generator,
    level_db: float = 30.0,
) -> tuple[np.ndarray, list[Planted]]:
    """Add events ``[(kind, start_s), …]`` to a copy of ``y``; returns it and the truth."""
    out = y.astype(np.float64).copy()
    rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
    truth = []
    for kind, t0 in kinds:
        a = int(round(t0 * sr))
        if kind == "tap" or kind == "drop":
            w = (_tap if kind == "tap" else _drop)(sr, rng) * rms * 10 ** (level_db / 20)
            n = min(w.size, out.shape[1] - a)
            out[:, a : a + n] += w[:n]
            truth.append(Planted(kind, t0, t0 + n / sr))
        elif kind == "beep":
            n = int(0.3 * sr)
            t = np.arange(n) / sr
            ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.005)
            w = (
                np.sqrt(2)
                * rms
                * 10 ** ((level_db - 15.0) / 20)
                * np.sin(2 * np.pi * 1000.0 * t)
                * ramp
            )
            out[:, a : a + n] += w
            truth.append(Planted(kind, t0, t0 + n / sr))
        elif kind == "clip":
            n = int(0.25 * sr)
            t = np.arange(n) / sr
            env = np.minimum(1.0, t / 0.004) * np.exp(-t / 0.12)
            burst = 3.0 * env * (np.sin(2 * np.pi * 160.0 * t) + 0.3 * rng.standard_normal(n))
            out[:, a : a + n] = np.clip(out[:, a : a + n] + burst, -1.0, 1.0)
            truth.append(Planted(kind, t0, t0 + n / sr))
        else:
            raise ValueError(kind)
    return out.astype(np.float32), truth


def add_hum(
    y: np.ndarray, sr: int, *, frequency_hz: float = 50.0, level_db: float = -20.0
) -> np.ndarray:
    """Mains hum (fundamental and three harmonics) ``level_db`` below the bed RMS."""
    rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
    t = np.arange(y.shape[1]) / sr
    h = sum(
        a * np.sin(2 * np.pi * k * frequency_hz * t)
        for k, a in ((1, 1.0), (2, 0.5), (3, 0.35), (4, 0.2))
    )
    h = h / np.sqrt(np.mean(h**2)) * rms * 10 ** (level_db / 20)
    return (y + h).astype(np.float32)


def schedule(
    duration_s: float,
    n: int,
    *,
    rng: np.random.Generator,
    kinds: tuple[str, ...] = EVENTS,
    margin_s: float = 3.0,
) -> list[tuple[str, float]]:
    """``n`` events of cycling kinds at jittered, well separated times."""
    slots = np.linspace(margin_s, duration_s - margin_s, n + 1)[:-1]
    step = (duration_s - 2 * margin_s) / n
    return [
        (kinds[i % len(kinds)], float(s + rng.uniform(0, max(0.0, step - 2.0))))
        for i, s in enumerate(slots)
    ]
