"""Typing: a computer keyboard or a mechanical typewriter, in bursts of words."""

from __future__ import annotations

from collections import deque
from typing import ClassVar

import numpy as np

from . import register
from ._impacts import contact_gain, damped_modes, noise_burst
from .base import EventTrigger, Param

#: a second parameter setting per variant for the recognition test
JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "keyboard": {"speed_wpm": 40.0, "hardness": 0.7},
    "typewriter": {"speed_wpm": 60.0, "brightness": 0.7},
}


@register
class Typing(EventTrigger):
    """Typing on a computer keyboard or a mechanical typewriter.

    Physics (keystroke acoustics; Asonov & Agrawal 2004, Zhuang et al. 2005): one
    keystroke makes three impacts, each exciting the keycap, the plate and the case
    (modal synthesis, van den Doel et al. 2001):

    1. *touch / travel click* — the fingertip hits the cap and the switch mechanism
       snaps (a short bright click, 2–6 kHz contact noise);
    2. *bottoming out* — 5–20 ms later the cap hits the plate: the loudest impact,
       a thump ringing the plate/case modes (≈ 0.3–3 kHz, τ ≈ 5–20 ms);
    3. *release* — 60–180 ms later the spring returns the cap to its stop: a lighter,
       higher click. The space bar is longer and lower, with a stabiliser rattle.

    A typewriter adds the type bar: the key lever clacks, ≈ 15–30 ms later the type
    slug strikes the ribbon and the rubber platen (a sharp, loud impact with the
    metallic ring of the type-bar basket, ≈ 1–4 kHz), then the escapement advances
    the carriage (a small click). Near the end of a line (≈ 60–70 characters) the
    margin bell rings (a small bell, inharmonic partials ≈ 1 : 2.76 : 5.4, ringing
    ≈ 1 s), then the carriage is returned: a ratchet of line-space clicks and a
    thump at the stop.

    Timing follows a typist: words of ≈ 2–9 keys; inter-key intervals are
    log-normally distributed around the mean set by ``speed_wpm`` (a "word" is five
    keystrokes, the typing-test convention), with longer gaps at spaces, pauses
    between sentences and occasional thinking pauses. Each keystroke is synthesised
    afresh (key position on the board, force, contact noise), so nothing repeats.
    """

    family = "typing"
    description = "Typing on a keyboard or a typewriter"
    params = (
        Param("speed_wpm", 60.0, 10.0, 140.0, "wpm", "typing speed, words (5 keys) per minute"),
        Param("hardness", 0.5, 0.0, 1.0, "", "keystroke force: louder bottoming-out, brighter"),
        Param("brightness", 0.5, 0.0, 1.0, "", "board/case resonance: dull (0) … clacky (1)"),
        Param(
            "pauses", 0.5, 0.0, 1.0, "", "how often the typist pauses between words and sentences"
        ),
    )
    variant_defaults: ClassVar[dict[str, dict[str, float]]] = {
        "keyboard": {"speed_wpm": 70.0},
        "typewriter": {"speed_wpm": 45.0, "hardness": 0.6},
    }
    chunk_size: ClassVar[int] = 8192

    #: per-variant constants of the mechanism (levels relative to the bottoming-out)
    _KNOBS: ClassVar[dict[str, dict[str, float]]] = {
        "keyboard": {
            "case_lo_hz": 500.0,
            "case_hi_hz": 5000.0,
            "case_tau_s": 0.006,
            "touch_level": 0.35,
            "bottom_noise": 0.5,
            "release_level": 0.28,
            "release_noise": 0.6,
            "release_tau": 0.6,
        },
        "typewriter": {
            "case_lo_hz": 700.0,
            "case_hi_hz": 6000.0,
            "case_tau_s": 0.012,
            "touch_level": 0.3,
            "bottom_noise": 0.8,
            "release_level": 0.25,
            "release_noise": 0.6,
            "release_tau": 0.5,
        },
    }

    def _setup(self) -> None:
        rng = self.rng
        b = self.values["brightness"]
        self._typewriter = self.variant == "typewriter"
        scale = 0.8 + 0.4 * b
        # a hollow plastic (keyboard) or cast-metal (typewriter) frame: many densely
        # spaced, strongly damped plate modes — a "clack", not a pitch
        k = self._KNOBS[self.variant]
        self._k = k
        n_modes = 16
        lo, hi, tau0 = k["case_lo_hz"], k["case_hi_hz"], k["case_tau_s"]
        self._case_f = scale * np.exp(rng.uniform(np.log(lo), np.log(hi), n_modes))
        self._case_tau = tau0 * (lo / self._case_f) ** 0.5
        self._queue: deque[tuple[float, str]] = deque()  # (onset s, kind)
        self._t_plan = 0.0
        self._t_now = 0.0
        self._word_left = 0
        self._line_pos = int(rng.integers(0, 40))
        self._line_len = int(rng.integers(58, 72))

    # -- timing -------------------------------------------------------------------

    def _plan(self) -> None:
        """Append the next keystroke (or carriage return) with its onset time."""
        v = self.values
        rng = self.rng
        iki = 60.0 / (5.0 * v["speed_wpm"])  # mean seconds per keystroke
        if self._word_left <= 0:
            kind = "space"
            self._word_left = int(np.clip(rng.geometric(0.22) + 1, 1, 10))
            gap = iki * rng.lognormal(0.15, 0.3)
            if rng.random() < 0.08 + 0.15 * v["pauses"]:  # end of a sentence, a thought
                gap += rng.uniform(0.4, 1.2 + 2.5 * v["pauses"])
        else:
            kind = "key"
            self._word_left -= 1
            gap = iki * rng.lognormal(-0.1, 0.35)
        self._t_plan += max(gap, 0.045)
        if self._typewriter:
            self._line_pos += 1
            if self._line_pos == self._line_len - 6:
                self._queue.append((self._t_plan + 0.02, "bell"))
            if self._line_pos >= self._line_len:
                self._queue.append((self._t_plan, "return"))
                self._t_plan += rng.uniform(1.0, 1.6)
                self._line_pos = 0
                self._line_len = int(rng.integers(58, 72))
                return
        self._queue.append((self._t_plan, kind))

    def _first_onset_s(self) -> float:
        while len(self._queue) < 2:
            self._plan()
        self._t_now = self._queue[0][0]
        return float(self.rng.uniform(0.05, 0.3))

    # -- sounds -------------------------------------------------------------------

    def _impact(
        self,
        n: int,
        force: float,
        contact_s: float,
        pos: float,
        tau_scale: float = 1.0,
        f_scale: float = 1.0,
    ) -> np.ndarray:
        rng = self.rng
        f = self._case_f * f_scale * (1.0 + 0.005 * rng.standard_normal(len(self._case_f)))
        k = np.arange(1, len(f) + 1)
        amps = (0.2 + np.abs(np.sin(np.pi * k * pos))) * contact_gain(f, contact_s)
        amps *= rng.uniform(0.7, 1.3, len(f))
        y = damped_modes(self.sr, n, f, self._case_tau * tau_scale, amps)
        return force * y / max(float(np.max(np.abs(y))), 1e-9)

    def _click(self, n: int, lo: float, hi: float, decay_s: float) -> np.ndarray:
        return noise_burst(
            self.rng,
            self.sr,
            n,
            lo_hz=lo,
            hi_hz=min(hi, 0.45 * self.sr),
            attack_s=5e-5,
            decay_s=decay_s,
        )

    def _keystroke(self, space: bool) -> np.ndarray:
        v = self.values
        rng = self.rng
        sr = self.sr
        hard = v["hardness"]
        force = float(np.clip(rng.lognormal(0.0, 0.2), 0.4, 1.6))
        pos = float(rng.uniform(0.05, 0.95))
        t_bottom = rng.uniform(0.006, 0.018)
        t_release = t_bottom + rng.uniform(0.06, 0.16) * (1.6 if space else 1.0)
        n = int((t_release + 0.05) * sr)
        y = np.zeros(n)
        b = v["brightness"]
        # 1. touch / switch click
        k = int(0.006 * sr)
        kn = self._k
        y[:k] += kn["touch_level"] * force * self._click(k, 1800.0 + 1500 * b, 9000.0, 4e-4)
        # 2. bottoming out on the plate
        i = int(t_bottom * sr)
        m = min(n - i, int(0.06 * sr))
        contact = (1.2e-3 - 0.8e-3 * hard) * force**-0.2
        thump = self._impact(
            m, 1.0, contact, pos, f_scale=0.75 if space else 1.0, tau_scale=1.8 if space else 1.0
        )
        thump[:k] += kn["bottom_noise"] * self._click(k, 800.0, 6000.0, 6e-4)
        y[i : i + m] += (0.6 + 0.5 * hard) * force * thump
        if space:  # stabiliser wire rattle
            j = i + int(rng.uniform(0.004, 0.01) * sr)
            r = min(n - j, k)
            y[j : j + r] += 0.3 * force * self._click(r, 1200.0, 5000.0, 1e-3)[:r]
        # 3. release: the cap returns to its stop
        i = int(t_release * sr)
        m = n - i
        rel = self._impact(m, 1.0, 0.3e-3, pos, tau_scale=kn["release_tau"], f_scale=1.3)
        rel[:k] += kn["release_noise"] * self._click(k, 2500.0, 10000.0, 3e-4)
        y[i:] += kn["release_level"] * rng.uniform(0.8, 1.2) * force * rel
        return y

    def _typebar(self) -> np.ndarray:
        v = self.values
        rng = self.rng
        sr = self.sr
        force = float(np.clip(rng.lognormal(0.0, 0.15), 0.5, 1.5))
        pos = float(rng.uniform(0.05, 0.95))
        t_strike = rng.uniform(0.015, 0.03)
        n = int((t_strike + 0.16) * sr)
        y = np.zeros(n)
        k = int(0.006 * sr)
        # key lever clack
        y[: int(0.05 * sr)] += self._k["touch_level"] * self._impact(
            int(0.05 * sr), force, 0.8e-3, pos, f_scale=0.7
        )
        # slug strikes ribbon and platen; the type-bar basket rings
        i = int(t_strike * sr)
        m = min(n - i, int(0.12 * sr))
        slug = self._impact(m, 1.0, 0.25e-3 * (1.4 - 0.8 * v["hardness"]), pos, tau_scale=1.5)
        bar = damped_modes(
            sr,
            m,
            2200.0
            * (0.85 + 0.3 * v["brightness"])
            * np.array([1.0, 2.4, 3.9])
            * rng.uniform(0.98, 1.02),
            np.array([0.012, 0.008, 0.005]),
            rng.uniform(0.5, 1.0, 3),
        )
        slug += 0.1 * bar / max(float(np.max(np.abs(bar))), 1e-9)
        slug[:k] += self._k["bottom_noise"] * self._click(k, 1500.0, 9000.0, 5e-4)
        y[i : i + m] += force * slug
        # escapement: carriage advances one letter
        j = i + int(rng.uniform(0.025, 0.045) * sr)
        r = min(n - j, int(0.03 * sr))
        y[j : j + r] += self._k["release_level"] * self._impact(
            r, 1.0, 0.2e-3, 0.5, tau_scale=self._k["release_tau"], f_scale=1.6
        )
        return y

    def _bell(self) -> np.ndarray:
        rng = self.rng
        n = int(1.2 * self.sr)
        f = float(rng.uniform(2400.0, 2700.0)) * np.array([1.0, 2.76, 5.40, 8.93])
        y = damped_modes(
            self.sr, n, f, np.array([0.6, 0.3, 0.15, 0.08]), np.array([1.0, 0.5, 0.25, 0.1])
        )
        return 0.2 * y / max(float(np.max(np.abs(y))), 1e-9)

    def _carriage_return(self) -> np.ndarray:
        rng = self.rng
        sr = self.sr
        dur = float(rng.uniform(0.5, 0.8))
        n = int((dur + 0.12) * sr)
        y = np.zeros(n)
        # line-space lever and ratchet
        clicks = np.sort(rng.uniform(0.0, dur, int(rng.integers(14, 24))))
        m = int(0.02 * sr)
        for c in clicks:
            i = int(c * sr)
            y[i : i + m] += (
                rng.uniform(0.1, 0.25)
                * self._impact(
                    m, 1.0, 0.3e-3, float(rng.uniform(0.1, 0.9)), tau_scale=0.5, f_scale=1.4
                )[: n - i]
            )
        # the carriage hits its stop
        i = int(dur * sr)
        m = n - i
        y[i:] += 0.9 * self._impact(m, 1.0, 1.0e-3, 0.3, tau_scale=2.0, f_scale=0.6)
        return y

    def _event(self) -> tuple[np.ndarray, float]:
        while len(self._queue) < 2:
            self._plan()
        _, kind = self._queue.popleft()
        if kind == "bell":
            y = self._bell()
        elif kind == "return":
            y = self._carriage_return()
        elif self._typewriter:
            y = self._typebar()
        else:
            y = self._keystroke(kind == "space")
        gap = max(self._queue[0][0] - self._t_now, 0.005)
        self._t_now += gap
        force = float(np.clip(self.rng.lognormal(0.0, 0.15), 0.6, 1.35))
        return 0.5 * force * y / max(float(np.max(np.abs(y))), 1e-9), gap
