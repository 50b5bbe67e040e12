"""Page turning: the pages of a book turned one by one at a reading pace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from . import register
from ._friction import (
    bandpass_gain,
    decaying_bursts,
    fade,
    highpass_gain,
    impulse_train,
    lowpass_gain,
    shape,
    smooth_random,
    soft_limit,
    stroke_profile,
)
from .base import EventTrigger, Param

JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "default": {"pages_per_min": 30.0, "brightness": 0.65},
}

_LEVEL = 0.15  # calibrated for the loud part of a turn


@register
class PageTurning(EventTrigger):
    """Turning the pages of a book.

    Physics
    -------
    One turn has four parts. (1) The grab: a fingertip slides under the page's
    corner — a short friction stroke with a few crackles. (2) The bend: the lifted
    sheet flexes; its fibres rub and creases crackle (a crackle whose rate follows the
    bending, power-law energies as in crumpling, Kramer & Lobkovsky 1996) over a
    papery friction rustle in the 1–5 kHz band. (3) The flip: the sheet sweeps
    through the air, pushing it aside — a soft low whoosh (aerodynamic noise below
    ~1.5 kHz) that swells and fades with the sheet's angular speed. (4) The landing:
    the page settles on the others with a soft slap. A turn lasts 0.5–1.5 s
    (``turn_s``); between turns the reader reads (``pages_per_min``, a few seconds).
    Thin paper (``brightness`` high) is crisper and brighter; heavy stock darker.
    """

    family = "page-turning"
    description = "Pages of a book turned one by one"
    params = (
        Param("pages_per_min", 12.0, 2.0, 50.0, "1/min", "turns per minute (reading tempo)"),
        Param("turn_s", 0.9, 0.5, 1.5, "s", "duration of one turn"),
        Param("brightness", 0.5, 0.0, 1.0, "", "paper: heavy and dark (0) to thin and crisp (1)"),
    )
    variant_defaults: ClassVar[Mapping[str, Mapping[str, float]]] = {"default": {}}
    chunk_size = 4096

    def _setup(self) -> None:
        self._paper_hz = 1200.0 * 2.0 ** (2.2 * self.values["brightness"])  # 1.2 … 5.5 kHz

    def _first_onset_s(self) -> float:
        return float(self.rng.uniform(0.1, 0.6))

    def _event(self) -> tuple[np.ndarray, float]:
        rng, sr = self.rng, self.sr
        turn = self.values["turn_s"] * rng.uniform(0.8, 1.2)
        n = int(turn * sr)
        y = np.zeros(n + 2048)
        paper = self._paper_hz * rng.uniform(0.85, 1.15)

        def paper_gain(f: np.ndarray) -> np.ndarray:
            return bandpass_gain(f, paper, 0.5) * highpass_gain(f, 250.0, 2)

        # (1) grab: 60–150 ms
        g = int(rng.uniform(0.06, 0.15) * sr)
        vg = stroke_profile(g, rng, glide=0.2)
        grab = rng.standard_normal(g) * vg * 0.5
        grab += decaying_bursts(rng, impulse_train(rng, 120.0 * vg, sr, cap=10.0), sr, 0.8)
        y[: g + 1024] += shape(grab, sr, paper_gain, pad=1024) * 0.6
        # (2) bend: from the grab's end over ~60 % of the turn
        b0 = int(0.7 * g)
        nb = max(256, int(0.6 * n))
        bend_env = np.sin(np.linspace(0.0, np.pi, nb)) ** 1.5
        bend_env *= np.exp(0.4 * smooth_random(nb, rng, 6))
        rustle = rng.standard_normal(nb) * bend_env
        crack = decaying_bursts(
            rng, impulse_train(rng, 250.0 * bend_env, sr, alpha=1.5, cap=20.0), sr, 1.0
        )
        bend = shape(0.8 * rustle + 0.8 * crack, sr, paper_gain, pad=1024)
        end = min(len(y), b0 + len(bend))
        y[b0:end] += bend[: end - b0]
        # (3) flip: a low whoosh centred ~65 % into the turn
        nf = max(256, int(rng.uniform(0.25, 0.4) * sr))
        f0 = int(min(n - nf // 2, 0.65 * n)) - nf // 2
        f0 = max(0, f0)
        wenv = np.sin(np.linspace(0.0, np.pi, nf)) ** 2
        w_hz = rng.uniform(500.0, 900.0)
        whoosh = shape(
            rng.standard_normal(nf) * wenv,
            sr,
            lambda f: bandpass_gain(f, w_hz, 0.7) * highpass_gain(f, 120.0, 2),
            pad=1024,
        )
        end = min(len(y), f0 + len(whoosh))
        y[f0:end] += 1.3 * whoosh[: end - f0]
        # (4) landing: a soft slap
        nl = int(0.03 * sr)
        l0 = min(len(y) - nl - 1024, f0 + nf)
        slap = rng.standard_normal(nl) * np.exp(-np.arange(nl) / (0.006 * sr))
        slap_y = shape(
            slap, sr, lambda f: lowpass_gain(f, 2500.0, 2) * highpass_gain(f, 150.0, 2), pad=1024
        )
        y[l0 : l0 + len(slap_y)] += 0.8 * slap_y[: len(y) - l0]
        fade(y, sr, 5.0)
        y *= _LEVEL * rng.uniform(0.75, 1.2)
        mean_gap = 60.0 / self.values["pages_per_min"]
        gap = max(turn + 0.2, mean_gap * rng.uniform(0.7, 1.3))
        return soft_limit(y), gap
