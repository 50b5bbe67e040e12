"""Typing: a computer keyboard or a mechanical typewriter, in bursts of words."""

from __future__ import annotations

from collections import deque
from typing import ClassVar

import numpy as np

from . import register
from ._impacts import ad_envelope, bandpass, contact_gain, damped_modes
from .base import EventTrigger, Param

#: a second parameter setting per variant for the recognition test
JUDGE_SETTINGS: dict[str, dict[str, float]] = {
    "keyboard": {"speed_wpm": 110.0, "brightness": 0.6},
    "typewriter": {"hardness": 0.7, "speed_wpm": 100.0},
}


@register
class Typing(EventTrigger):
    """Typing on a computer keyboard or a mechanical typewriter.

    Physics (keystroke acoustics; Asonov & Agrawal 2004, Zhuang et al. 2005): a
    keystroke is a few plastic-on-plastic impacts, each exciting the board (modal
    synthesis, van den Doel et al. 2001). The board has two groups of modes: the
    hollow case/plate's lowest modes (≈ 0.85 kHz: the "tok" of the box) and the high,
    stiff modes of the small parts — keycaps, switch stems, stabiliser wires
    (≈ 2.7–7.5 kHz); all are damped within a few ms (τ ≈ 3.5 ms), so a keystroke is
    a *clack*, not a pitch. Each impact rings a random half of the modes (where the
    cap is hit, how it tilts) plus a burst of contact noise above ≈ 3 kHz.

    1. *bottoming out* — the cap hits the housing: the loudest clack, with the
       fingertip's mass on the key spring and board giving a heavily damped low
       *thock* (≈ 250 Hz, τ ≈ 8 ms); ``hardness`` (force, a shorter contact) raises
       the contact noise and tilts the excitation towards the high modes;
    2. *release* — 50–150 ms later the spring returns the cap to its top stop: a
       lighter, brighter clack (sometimes a double tick as the cap wobbles). The
       space bar is lower and longer, with a stabiliser rattle.

    A typewriter uses the same clack with its own constants (a cast frame, ≈ 0.77 kHz,
    and type slug/bar modes ≈ 2.3–7.4 kHz): the key lever clacks; ≈ 15–30 ms later
    the type slug strikes ribbon, paper and the rubber platen (the loudest impact,
    a damped platen thud ≈ 270 Hz and a faint ring of the type-bar basket); then the
    escapement advances the carriage (a small bright click). Near the end of a line
    (≈ 60–70 characters) the margin bell rings (a small bell, inharmonic partials
    ≈ 1 : 2.76 : 5.4, ringing ≈ 1 s), then the carriage is returned: a ratchet of
    line-space clicks and a thump at the stop.

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
        Param("hardness", 0.5, 0.0, 1.0, "", "keystroke force: more contact noise, brighter"),
        Param("brightness", 0.5, 0.0, 1.0, "", "board/case resonance: dull (0) … clacky (1)"),
        Param(
            "pauses", 0.5, 0.0, 1.0, "", "how often the typist pauses between words and sentences"
        ),
    )
    variant_defaults: ClassVar[dict[str, dict[str, float]]] = {
        "keyboard": {"speed_wpm": 125.0, "pauses": 0.0},
        "typewriter": {"speed_wpm": 93.0, "hardness": 0.45, "pauses": 0.2},
    }
    chunk_size: ClassVar[int] = 8192

    #: per-variant constants of the mechanism (levels relative to the bottoming-out)
    _KNOBS: ClassVar[dict[str, dict[str, float]]] = {
        "keyboard": {
            "body_hz": 850.0,  # lowest plate/case mode of the keyboard
            "cap_lo_hz": 2700.0,  # keycap and switch-stem modes
            "cap_hi_hz": 7500.0,
            "case_tau_s": 0.0035,
            "noise_level": 1.26,  # contact noise of the bottoming-out clack
            "noise_lo_hz": 3000.0,
            "noise_decay_s": 0.6e-3,
            "thock_hz": 250.0,  # fingertip on the key spring and plate
            "thock_tau_s": 0.0077,
            "thock_level": 0.8,
            "release_level": 0.2,
        },
        "typewriter": {
            "body_hz": 620.0,  # the frame's lowest modes
            "cap_lo_hz": 3150.0,  # type slug, type bar and segment modes
            "cap_hi_hz": 5300.0,
            "case_tau_s": 0.0047,
            "noise_level": 0.86,
            "noise_lo_hz": 2800.0,
            "noise_decay_s": 0.78e-3,
            "thock_hz": 200.0,  # the slug on the rubber platen
            "thock_tau_s": 0.0137,
            "thock_level": 0.215,
            "release_level": 0.14,  # escapement click
            "lever_level": 0.2,  # key lever clack
            "ring_level": 0.015,  # type-bar basket ring
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
        # the board's (frame's) lowest plate/case modes — a hollow "tok" — and the
        # high modes of the small parts: keycaps, switch stems, stabiliser wires (type
        # slugs and bars on a typewriter)
        body = k["body_hz"] * np.exp(0.05 * rng.standard_normal(3))
        caps = np.exp(rng.uniform(np.log(k["cap_lo_hz"]), np.log(k["cap_hi_hz"]), 9))
        self._case_f = scale * np.sort(np.concatenate([body, caps]))
        self._case_tau = k["case_tau_s"] * (self._case_f[0] / self._case_f) ** 0.3
        # contact noise: a table of band-passed noise (2 s) read at random offsets under
        # a fresh envelope scale — every click still differs (modes, amplitudes, offset)
        sr = self.sr
        self._ntab = bandpass(
            rng.standard_normal(2 * sr), sr, k["noise_lo_hz"] * scale, min(16000.0, 0.45 * sr)
        )
        self._ntab /= max(float(np.max(np.abs(self._ntab))), 1e-9)
        self._nlen = int(0.004 * sr)
        self._nenv = ad_envelope(sr, self._nlen, 3e-5, k["noise_decay_s"])
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

    def _clack(
        self,
        n: int,
        f_scale: float,
        tau_scale: float,
        noise_level: float,
        extra: tuple[float, float, float] | None = None,
    ) -> np.ndarray:
        """One plastic-on-plastic impact: a random half of the board's modes plus contact noise.

        Peak ≈ 1. ``extra`` = (Hz, s, amplitude) adds one more damped mode (the thock)
        to the same synthesis call.
        """
        rng = self.rng
        sel = rng.random(len(self._case_f)) < 0.5
        sel[rng.integers(len(sel))] = True
        n_sel = int(sel.sum())
        f = self._case_f[sel] * f_scale * (1.0 + 0.01 * rng.standard_normal(n_sel))
        tau = self._case_tau[sel] * tau_scale
        amps = rng.uniform(0.3, 1.0, n_sel)
        # a harder keystroke is a shorter contact, which excites the high modes more
        # (the half-sine contact spectrum, see _impacts.contact_gain): a spectral tilt
        amps *= (f / self._case_f[0]) ** (0.6 * (self.values["hardness"] - 0.5))
        # the peak of a sum of damped modes is ≈ 0.73 × the sum of their amplitudes
        norm = 1.0 + 0.53 * noise_level
        amps /= 0.73 * amps.sum() * norm
        if extra is not None:
            f = np.append(f, extra[0])
            tau = np.append(tau, extra[1])
            amps = np.append(amps, extra[2] / norm)
        y = damped_modes(self.sr, n, f, tau, amps)
        y[: self._nlen] += (noise_level / norm) * self._contact_noise()[: min(n, self._nlen)]
        return y

    def _contact_noise(self) -> np.ndarray:
        """Contact noise: a random stretch of a band-passed noise table under a fast decay."""
        rng = self.rng
        o = int(rng.integers(0, len(self._ntab) - self._nlen))
        sign = 1.0 if rng.random() < 0.5 else -1.0
        return sign * self._ntab[o : o + self._nlen] * self._nenv

    def _keystroke(self, space: bool) -> np.ndarray:
        v = self.values
        rng = self.rng
        sr = self.sr
        k = self._k
        hard = v["hardness"]
        noise = k["noise_level"] * (0.4 + 1.2 * hard)
        t_release = rng.uniform(0.05, 0.15) * (1.4 if space else 1.0)
        m = int(0.03 * sr)
        n = int(t_release * sr) + m
        y = np.zeros(n)
        # 1. the keycap bottoms out on the switch housing / plate: the clack, with the
        #    fingertip's mass on the key spring and board giving a damped low thock
        f_scale = 0.85 if space else 1.0
        thock = (
            k["thock_hz"] * rng.uniform(0.9, 1.1) * f_scale,
            k["thock_tau_s"],
            k["thock_level"] * (1.3 if space else 1.0),
        )
        y[:m] += self._clack(m, f_scale, 1.6 if space else 1.0, noise, thock)
        if space:  # stabiliser wire rattle
            j = int(rng.uniform(0.004, 0.01) * sr)
            y[j:m] += 0.3 * self._clack(m - j, 1.2, 0.5, noise)
        # 2. release: the cap returns to its top stop — lighter, brighter; sometimes the
        #    cap wobbles and ticks twice
        i = int(t_release * sr)
        rel = self._clack(m, 1.2, 0.6, noise)
        if rng.random() < 0.5:
            j = int(rng.uniform(0.0005, 0.005) * sr)
            rel[j:] += rng.uniform(0.2, 0.6) * rel[: m - j]
        y[i : i + m] += k["release_level"] * rng.uniform(0.6, 1.2) * rel
        return y

    def _typebar(self) -> np.ndarray:
        v = self.values
        rng = self.rng
        sr = self.sr
        k = self._k
        hard = v["hardness"]
        noise = k["noise_level"] * (0.4 + 1.2 * hard)
        t_strike = rng.uniform(0.015, 0.03)
        m = int(0.04 * sr)
        n = int((t_strike + 0.045) * sr) + m
        y = np.zeros(n)
        # 1. the key lever is pressed down against its stop
        y[:m] += k["lever_level"] * self._clack(m, 0.7, 1.0, 0.5 * noise)
        # 2. the type slug strikes ribbon, paper and the rubber platen (a damped thud);
        #    the type bar rings faintly (its first bending mode, ≈ 2.2 kHz)
        i = int(t_strike * sr)
        thud = (
            k["thock_hz"] * rng.uniform(0.9, 1.1),
            k["thock_tau_s"],
            k["thock_level"],
        )
        slug = self._clack(m, 1.0, 1.0, noise, thud)
        f_bar = 2200.0 * (0.85 + 0.3 * v["brightness"]) * rng.uniform(0.98, 1.02)
        slug += (
            k["ring_level"]
            * np.sin(2.0 * np.pi * f_bar / sr * np.arange(m))
            * np.exp(-np.arange(m) / (0.012 * sr))
        )
        y[i : i + m] += slug
        # 3. the escapement lets the carriage advance one letter: a small click
        j = i + int(rng.uniform(0.025, 0.045) * sr)
        y[j : j + m] += k["release_level"] * rng.uniform(0.7, 1.2) * self._clack(m, 1.6, 0.5, noise)
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
        sd = 0.15 if self._typewriter else 0.25  # keystroke force varies more than type bars
        force = float(np.clip(self.rng.lognormal(0.0, sd), 0.5, 1.5))
        return 0.4 * force * y / max(float(np.max(np.abs(y))), 1e-9), gap
