"""A live, mutable session: endless mastered audio whose mix can change while it plays.

The web app streams a :class:`LiveSession` to a browser with a short lead, so a
change to the scene must be heard within about two seconds, without a gap or a
click. One thread calls :meth:`LiveSession.read`; others call
:meth:`LiveSession.update` and the sleep-timer methods. A lock guards only the
hand-over of state (a list of pending commands, the timer plan); rendering
happens outside it, and new layers are built by the updating thread, so the
reader never waits for a scene change.

Signal path (per internal block of ``block_size`` samples)::

    voices: LayerStream × level ramp × sin(π/2 · fade phase)  ─┐
                                                  sum, × master ramp → MasterChain
    output: × start fade-in (sin, ≤ 3 s) × sleep-timer gain (raised cosine)

Loudness
    The master gain comes from a short seeded calibration
    (:func:`~susurrus.render.engine.calibrate` over the first ``calibrate_s`` of
    the steady part, activity statistics over 30 minutes; it runs on a second
    thread while the first half second of the mix renders) and then stays fixed;
    the momentary leveler and the true-peak limiter of
    :class:`~susurrus.render.master.MasterChain` hold the ceilings whatever the
    later mix. The leveler here works on 100 ms chunks (instead of 500 ms), so a
    change is heard in the output 0.45–0.5 s after :meth:`LiveSession.update`
    (a 0.3 s gain ramp is complete after 0.8 s); the client's own lead comes on top.
Changing the mix (:meth:`LiveSession.update`)
    A new layer that differs from a playing one only in ``gain_db`` (and
    ``name``) ramps that layer's gain (raised cosine over 0.3 s); one with the
    same name, trigger and variant but another configuration is crossfaded
    (``crossfade_s``; equal power, or equal amplitude for a recording or script
    crossfaded with itself) to a freshly built stream; other new layers
    fade in and other old ones fade out (``max(crossfade_s, 1 s)``, equal power)
    and are dropped. A crossfaded layer keeps its activity envelope (when its
    activity is unchanged) and, for recordings and scripts, its read position.
    A change of ``seed`` or of ``master.output`` (headphones ↔ speakers)
    crossfades every layer. A change of ``master.target_lufs`` ramps the master
    gain by the difference; the ceilings (``momentary_max_lufs``,
    ``true_peak_dbtp``), ``normalize``, fades and ``duration_s`` are not
    applied live. ``sr`` and the output channel count cannot change.
Sleep timer
    :meth:`LiveSession.set_timer` stops the output exactly ``after_s`` from the
    current position, the last ``fade_s`` fading with a raised cosine
    ``½(1 + cos πx)`` (Hann half-window) to zero. The gain is a chain of raised
    cosine segments re-planned from its current value whenever the timer
    changes, so it never jumps. ``master.sleep_after_s`` of the first scene
    starts a timer as a rendered session would (fade of ``max(60 s,
    fade_out_s)`` after it); a later change of it re-plans or cancels the timer.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..scene.model import MAX_DURATION_S, Layer, Scene, scene_from_dict
from ..units import db_to_amp
from .engine import (
    DEFAULT_BLOCK,
    LayerStream,
    _downmix,
    calibrate,
    output_channels,
)
from .master import MasterChain, MomentaryLeveler, TruePeakLimiter, fade_gains

#: seconds of a gain-only change (raised-cosine ramp of the layer's amplitude)
GAIN_RAMP_S = 0.3
#: longest fade-in at the start of a live session (the page also ramps its volume)
MAX_START_FADE_S = 3.0
#: the sleep timer's remaining time is never shortened below this (a fade must fit)
MIN_REMAINING_S = 10.0
#: longest ramp back to full level when a timer fade is cancelled or extended
UNFADE_S = 2.0
#: seconds over which the activity statistics of the calibration are taken
_CAL_STATS_S = 1800.0
#: momentary-leveler chunk (hops of 10 ms) and limiter chunk (samples) for low latency
_LEVELER_CHUNK_HOPS = 10
_LIMITER_CHUNK = 1024
#: the leveler looks 100 ms ahead instead of 400 ms: a mix change is heard 300 ms sooner
_LEVELER_AHEAD_HOPS = 10


@dataclass
class _Line:
    """A value moving from ``v0`` at sample ``t0`` to ``v1`` at ``t1`` (held outside).

    ``shape``: ``"cos"`` raised-cosine interpolation ``v0 + (v1 − v0)·½(1 − cos πx)``
    (no corner at either end), ``"lin"`` linear.
    """

    t0: int
    t1: int
    v0: float
    v1: float
    shape: str = "cos"

    @classmethod
    def const(cls, v: float) -> _Line:
        return cls(0, 0, v, v)

    def _shape(self, x: np.ndarray) -> np.ndarray:
        w = 0.5 - 0.5 * np.cos(np.pi * x) if self.shape == "cos" else x
        return self.v0 + (self.v1 - self.v0) * w

    def at(self, t: int) -> float:
        if t <= self.t0:
            return self.v0
        if t >= self.t1:
            return self.v1
        return float(self._shape(np.array([(t - self.t0) / (self.t1 - self.t0)]))[0])

    def values(self, t: int, n: int) -> np.ndarray | float:
        """Values at samples ``t … t+n-1``: an array, or a float when constant over them."""
        if t + n <= self.t0:
            return self.v0
        if t >= self.t1:
            return self.v1
        x = np.clip((np.arange(t, t + n) - self.t0) / (self.t1 - self.t0), 0.0, 1.0)
        return self._shape(x)

    @classmethod
    def ramp_from(cls, cur: _Line, t: int, v1: float, n: int, shape: str = "cos") -> _Line:
        """A new line from ``cur``'s value at ``t`` to ``v1`` over ``n`` samples."""
        return cls(t, t + max(1, n), cur.at(t), v1, shape)


@dataclass(eq=False)
class _Voice:
    """One playing layer. ``layer``/``built_gain_db`` are the updater's view; the
    rest belongs to the rendering thread."""

    stream: LayerStream
    layer: Layer
    built_gain_db: float
    level: _Line = field(default_factory=lambda: _Line.const(1.0))
    phase: _Line = field(default_factory=lambda: _Line.const(1.0))
    dying: bool = False
    #: fade law: equal power ``sin(π/2·x)`` for uncorrelated partners (fresh random
    #: sources), equal amplitude ``sin²(π/2·x)`` for a recording crossfaded with itself
    coherent: bool = False

    def gain(self, t: int, n: int) -> np.ndarray | float:
        lv = self.level.values(t, n)
        ph = self.phase.values(t, n)
        fade = (
            np.sin(0.5 * np.pi * ph) if isinstance(ph, np.ndarray) else math.sin(0.5 * math.pi * ph)
        )
        return lv * (fade * fade if self.coherent else fade)


_Command = Callable[[int], None]


def _sound_key(layer: Layer) -> dict[str, Any]:
    """Everything about a layer that shapes its sound except its gain (and name)."""
    return layer.model_dump(exclude={"gain_db", "name"})


def _calibration_scene(scene: Scene) -> Scene:
    """The scene as calibrate() should see a live session: steady from t = 0, long."""
    data = scene.model_dump()
    data["duration_s"] = _CAL_STATS_S
    data["master"].update(fade_in_s=0.0, fade_out_s=0.0, sleep_after_s=None)
    return scene_from_dict(data, source="live calibration")


def _first_output_samples(sr: int) -> int:
    """Input the low-latency master chain takes before its first output sample."""
    hop = sr // 100
    leveler = (_LEVELER_CHUNK_HOPS + _LEVELER_AHEAD_HOPS) * hop  # a chunk and its look-ahead
    limiter = _LIMITER_CHUNK + int(round(5.0 * sr / 1000)) + 32  # chunk, attack, context
    return leveler + limiter


def _sleep_fade_s(scene: Scene) -> float:
    return max(60.0, scene.master.fade_out_s)


class LiveSession:
    """An endless, mastered, mutable session for live streaming.

    Parameters
    ----------
    scene
        The scene to start with; ``duration_s`` is ignored (the session is
        endless unless a sleep timer ends it).
    block_size
        Samples rendered per internal block; a change applies from the next block.
    calibrate_s
        Seconds of audio the start-up loudness calibration renders.
    crossfade_s
        Equal-power crossfade when a layer is rebuilt; added and removed layers
        fade over ``max(crossfade_s, 1 s)``.
    threads
        Worker threads rendering layers in parallel (1: none). At 50 ms blocks two
        workers cost more than they save (relax: 4.4 s CPU per minute of audio
        against 3.1 s on one thread), so the default is one.

    State: the voices (layers with their gain ramps), the master chain's
    look-ahead, the input and output positions, pending commands from
    :meth:`update`, and the sleep-timer plan.
    """

    def __init__(
        self,
        scene: Scene,
        *,
        block_size: int = 2400,
        calibrate_s: float = 4.0,
        crossfade_s: float = 0.5,
        threads: int = 1,
    ) -> None:
        if not (isinstance(block_size, int | np.integer) and 64 <= block_size <= 1 << 20):
            raise ParameterError("block_size", block_size, "an integer in 64 … 1048576")
        if not (math.isfinite(calibrate_s) and 0.5 <= calibrate_s <= 600.0):
            raise ParameterError("calibrate_s", calibrate_s, "0.5 … 600 s")
        if not (math.isfinite(crossfade_s) and 0.01 <= crossfade_s <= 30.0):
            raise ParameterError("crossfade_s", crossfade_s, "0.01 … 30 s")
        self.sr = scene.sr
        self.channels = output_channels(scene)
        self.block_size = int(block_size)
        self.crossfade_s = crossfade_s
        self._scene = scene
        m = scene.master
        self._master_level = _Line.const(1.0)  # target_lufs changes, relative to the first
        self._target0_lufs = m.target_lufs
        self._fade_in_s = min(m.fade_in_s, MAX_START_FADE_S)
        self._lock = threading.Lock()  # guards _pending, the timer plan, _out, _closed
        self._update_lock = threading.Lock()  # serialises update() calls
        self._pending: list[_Command] = []
        self._in = 0  # samples pulled from the layers
        self._out = 0  # samples returned
        self._ready = np.zeros((self.channels, 0))
        self._closed = False
        self._end: int | None = None  # timer: output sample at which the session stops
        self._timer_fade_s = 0.0
        self._tgain: list[_Line] = []  # timer gain: consecutive raised-cosine segments
        self._pool = ThreadPoolExecutor(max_workers=threads) if threads > 1 else None
        self._next_index = max(64, 2 * len(scene.layers))
        # the first layers are exactly build_layers(scene): the same seeds as a render
        self._voices = [
            _Voice(LayerStream(layer, i, scene), layer, layer.gain_db)
            for i, layer in enumerate(scene.layers)
        ]
        self._active = list(self._voices)  # the updater's view: voices not fading out
        # the calibration runs on a second thread while this one renders the mix the
        # master chain needs before its first output (the mix does not depend on the gain)
        first: list[np.ndarray] = []
        if m.normalize:
            with ThreadPoolExecutor(max_workers=1) as ex:
                cal = ex.submit(
                    calibrate,
                    _calibration_scene(scene),
                    window_s=calibrate_s,
                    block_size=DEFAULT_BLOCK,
                )
                try:
                    first = [
                        self._mix_block()
                        for _ in range(-(-_first_output_samples(self.sr) // self.block_size))
                    ]
                finally:
                    self.gain_db = cal.result().gain_db
        else:
            self.gain_db = 0.0
        self.master = MasterChain(
            self.sr,
            self.channels,
            gain_db=self.gain_db,
            momentary_max_lufs=m.momentary_max_lufs,
            true_peak_dbtp=m.true_peak_dbtp,
        )
        for st in self.master.stages:  # shorter chunks: less latency, same curves
            if isinstance(st, MomentaryLeveler):
                st.chunk = _LEVELER_CHUNK_HOPS * st.hop
                st.ahead = _LEVELER_AHEAD_HOPS
                st.lookahead = _LEVELER_AHEAD_HOPS * st.hop
            elif isinstance(st, TruePeakLimiter):
                st.chunk = _LIMITER_CHUNK
        for mix in first:
            self._push(mix)
        if m.sleep_after_s is not None:
            f = _sleep_fade_s(scene)
            self.set_timer(m.sleep_after_s + f, fade_s=f)

    # -- properties ------------------------------------------------------------------

    @property
    def position_s(self) -> float:
        """Seconds of audio returned by :meth:`read` so far."""
        return self._out / self.sr

    @property
    def finished(self) -> bool:
        """True once the sleep timer has run out (or the session was closed)."""
        with self._lock:
            return self._closed or (self._end is not None and self._out >= self._end)

    @property
    def scene(self) -> Scene:
        """The scene most recently applied (the first one, or the last :meth:`update`)."""
        return self._scene

    def __repr__(self) -> str:
        return (
            f"LiveSession(sr={self.sr} Hz, channels={self.channels}, "
            f"gain_db={self.gain_db:.2f} dB, position_s={self.position_s:.2f} s, "
            f"layers={len(self._active)})"
        )

    # -- rendering -------------------------------------------------------------------

    def _render_voice(self, v: _Voice, t: int, n: int) -> np.ndarray:
        y = _downmix(v.stream.read(n), self.channels)
        g = v.gain(t, n)
        return y * g if (isinstance(g, np.ndarray) or g != 1.0) else y

    def _mix_block(self) -> np.ndarray:
        """The next pre-master block: pending commands applied, every voice summed."""
        with self._lock:
            cmds, self._pending = self._pending, []
        t, n = self._in, self.block_size
        for cmd in cmds:
            cmd(t)
        mix = np.zeros((self.channels, n))
        voices = self._voices
        if self._pool is not None and len(voices) > 1:
            for y in self._pool.map(lambda v: self._render_voice(v, t, n), voices):
                mix += y
        else:
            for v in voices:
                mix += self._render_voice(v, t, n)
        self._voices = [v for v in voices if not (v.dying and t + n >= v.phase.t1)]
        g = self._master_level.values(t, n)
        if isinstance(g, np.ndarray) or g != 1.0:
            mix *= g
        self._in += n
        return mix

    def _push(self, mix: np.ndarray) -> None:
        out = self.master.push(mix)
        if out.shape[1]:
            self._ready = (
                np.concatenate([self._ready, out], axis=1) if self._ready.shape[1] else out
            )

    def _pull(self) -> None:
        self._push(self._mix_block())

    def read(self, n: int) -> np.ndarray:
        """The next ``n`` samples of mastered audio, float32 ``(channels, n)``.

        Fewer (down to none) only when the sleep timer runs out; endless otherwise.
        """
        if not (isinstance(n, int | np.integer) and n >= 0):
            raise ParameterError("n", n, "a non-negative integer")
        with self._lock:
            if self._closed:
                return np.zeros((self.channels, 0), dtype=np.float32)
            if self._end is not None:
                n = max(0, min(n, self._end - self._out))
        while self._ready.shape[1] < n:
            self._pull()
        with self._lock:  # the timer may have moved while rendering
            if self._end is not None:
                n = max(0, min(n, self._end - self._out))
            start = self._out
            g_timer = self._timer_values(start, n)
            self._out += n
        y, self._ready = self._ready[:, :n], self._ready[:, n:]
        g = fade_gains(
            start, n, sr=self.sr, total=1 << 62, fade_in_s=self._fade_in_s, fade_out_s=0.0
        )
        if g is not None:
            y = y * g
        if isinstance(g_timer, np.ndarray) or g_timer != 1.0:
            y = y * g_timer
        return np.asarray(y, dtype=np.float32)

    def close(self) -> None:
        """Stop: later reads return nothing; the worker threads are released."""
        with self._lock:
            self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._voices = []

    # -- changing the mix ------------------------------------------------------------

    def _new_voice(self, layer: Layer, scene: Scene) -> _Voice:
        stream = LayerStream(layer, self._next_index, scene)
        self._next_index += 1
        return _Voice(stream, layer, layer.gain_db, phase=_Line.const(0.0))

    def update(self, scene: Scene) -> None:
        """Change the mix to ``scene``; heard from the next rendered block.

        Thread-safe. New layers are built here (in the caller's thread), never by
        the reader. See the module docstring for what changes how.

        Raises
        ------
        ParameterError
            ``sr`` or the output channel count (``master.output`` mono ↔ stereo)
            differs from the session's.
        """
        if scene.sr != self.sr:
            raise ParameterError("sr", scene.sr, f"the session's rate, {self.sr} Hz")
        if output_channels(scene) != self.channels:
            raise ParameterError(
                "master.output",
                scene.master.output,
                "an output with the session's channel count "
                f"({self.channels}): 'mono' cannot change live",
            )
        if self._closed:
            return
        sr = self.sr
        ramp_n = int(round(GAIN_RAMP_S * sr))
        xfade_n = int(round(self.crossfade_s * sr))
        addfade_n = int(round(max(self.crossfade_s, 1.0) * sr))
        with self._update_lock:
            old = self._scene
            rebuild_all = scene.seed != old.seed or scene.master.output != old.master.output
            pool = list(self._active)
            kept: list[_Voice | None] = [None] * len(scene.layers)
            cmds: list[_Command] = []
            if not rebuild_all:  # 1: same sound, maybe another gain → a gain ramp
                for i, layer in enumerate(scene.layers):
                    key = _sound_key(layer)
                    for v in pool:
                        if _sound_key(v.layer) == key:
                            pool.remove(v)
                            kept[i] = v
                            if layer.gain_db != v.layer.gain_db:
                                cmds.append(
                                    self._cmd_level(
                                        v, db_to_amp(layer.gain_db - v.built_gain_db), ramp_n
                                    )
                                )
                            break
            # 2: same name, trigger and variant → crossfade to a new build; 3: fade in
            new_index = self._next_index
            built: list[tuple[int, _Voice, _Voice | None]] = []
            try:
                for i, layer in enumerate(scene.layers):
                    if kept[i] is not None:
                        continue
                    ident = (layer.name, layer.trigger, layer.variant)
                    partner = next(
                        (
                            v
                            for v in pool
                            if (v.layer.name, v.layer.trigger, v.layer.variant) == ident
                        ),
                        None,
                    )
                    if partner is not None:
                        pool.remove(partner)
                    built.append((i, self._new_voice(layer, scene), partner))
            except BaseException:
                self._next_index = new_index
                raise
            for i, nv, partner in built:
                kept[i] = nv
                if partner is None:
                    cmds.append(self._cmd_add(nv, addfade_n))
                else:
                    cmds.append(self._cmd_crossfade(partner, nv, xfade_n))
            for v in pool:  # 4: gone → fade out, then dropped
                cmds.append(self._cmd_remove(v, addfade_n))
            if scene.master.target_lufs != old.master.target_lufs:
                cmds.append(
                    self._cmd_master(
                        db_to_amp(scene.master.target_lufs - self._target0_lufs), ramp_n
                    )
                )
            active = [v for v in kept if v is not None]
            for i, v in enumerate(active):
                v.layer = scene.layers[i]
            with self._lock:
                self._pending.extend(cmds)
                self._scene = scene
            self._active = active
            if scene.master.sleep_after_s != old.master.sleep_after_s:
                if scene.master.sleep_after_s is None:
                    self.cancel_timer()
                else:
                    f = _sleep_fade_s(scene)
                    left = max(scene.master.sleep_after_s + f - self.position_s, MIN_REMAINING_S)
                    self.set_timer(left, fade_s=f)

    def _cmd_level(self, v: _Voice, amp: float, n: int) -> _Command:
        def run(t: int) -> None:
            v.level = _Line.ramp_from(v.level, t, amp, n)

        return run

    def _cmd_add(self, v: _Voice, n: int) -> _Command:
        def run(t: int) -> None:
            v.phase = _Line(t, t + n, 0.0, 1.0, "lin")
            self._voices.append(v)

        return run

    def _cmd_remove(self, v: _Voice, n: int) -> _Command:
        def run(t: int) -> None:
            # the remaining phase at the same speed: a half-faded-in layer leaves sooner
            cur = v.phase.at(t)
            v.phase = _Line(t, t + max(1, int(round(n * cur))), cur, 0.0, "lin")
            v.dying = True

        return run

    def _cmd_crossfade(self, old: _Voice, new: _Voice, n: int) -> _Command:
        def run(t: int) -> None:
            continued = new.stream.continue_from(old.stream)
            cur = old.phase.at(t)
            if continued and cur == 1.0:  # the same audio on both sides: gains sum to 1
                old.coherent = new.coherent = True
            old.phase = _Line(t, t + n, cur, 0.0, "lin")
            old.dying = True
            new.phase = _Line(t, t + n, 0.0, 1.0, "lin")
            self._voices.append(new)

        return run

    def _cmd_master(self, amp: float, n: int) -> _Command:
        def run(t: int) -> None:
            self._master_level = _Line.ramp_from(self._master_level, t, amp, n)

        return run

    # -- sleep timer -----------------------------------------------------------------

    def _timer_values(self, t: int, n: int) -> np.ndarray | float:
        """Timer gain for output samples ``t … t+n-1`` (caller holds the lock)."""
        return _segments_values(self._tgain, t, n)

    def _timer_at(self, t: int) -> float:
        g = _segments_values(self._tgain, t, 1)
        return float(g[0]) if isinstance(g, np.ndarray) else float(g)

    def _plan(self, remaining: int, fade_n: int) -> None:
        """Re-plan the timer gain from its current value (caller holds the lock)."""
        pos = self._out
        gc = self._timer_at(pos)
        end = pos + remaining
        fade_n = min(fade_n, remaining)
        fs = end - fade_n
        up_n = max(1, int(round(UNFADE_S * self.sr * (1.0 - gc))))
        if gc < 1.0 and fs - pos >= up_n:  # room to come back up before the fade
            self._tgain = [_Line(pos, pos + up_n, gc, 1.0), _Line(fs, end, 1.0, 0.0)]
        else:
            self._tgain = [_Line(max(pos, fs), end, gc, 0.0)]
        self._end = end

    def set_timer(self, after_s: float, *, fade_s: float = 120.0) -> None:
        """Stop ``after_s`` from the current position, fading out over the last ``fade_s``.

        ``fade_s`` is clipped to ``after_s``. Replaces any running timer; the gain
        continues from its current value (no jump).
        """
        if not (
            isinstance(after_s, int | float)
            and math.isfinite(after_s)
            and 0.0 < after_s <= MAX_DURATION_S
        ):
            raise ParameterError("after_s", after_s, f"0 < after_s <= {MAX_DURATION_S:g} s")
        if not (isinstance(fade_s, int | float) and math.isfinite(fade_s) and fade_s >= 0.0):
            raise ParameterError("fade_s", fade_s, "fade_s >= 0 s")
        with self._lock:
            if self._end is not None and self._out >= self._end:
                return  # finished: a session that stopped stays stopped
            self._timer_fade_s = min(float(fade_s), float(after_s))
            self._plan(max(1, int(round(after_s * self.sr))), int(round(fade_s * self.sr)))

    def extend_timer(self, delta_s: float) -> None:
        """Move the timer's end by ``delta_s`` (negative: sooner).

        Shortening never leaves less than :data:`MIN_REMAINING_S` (or what was left,
        if less). During the fade the gain continues from its current value: with
        room for it, it comes back to full level (≤ 2 s) and fades again at the end.

        Raises
        ------
        ParameterError
            No timer is running, or ``delta_s`` is not finite.
        """
        if not (isinstance(delta_s, int | float) and math.isfinite(delta_s)):
            raise ParameterError("delta_s", delta_s, "a finite number of seconds")
        with self._lock:
            if self._end is None:
                raise ParameterError("delta_s", delta_s, "a running sleep timer (set_timer first)")
            if self._out >= self._end:
                return
            left = self._end - self._out
            new = left + int(round(delta_s * self.sr))
            if delta_s < 0:
                new = max(new, min(left, int(round(MIN_REMAINING_S * self.sr))))
            self._plan(
                min(new, int(MAX_DURATION_S * self.sr)), int(round(self._timer_fade_s * self.sr))
            )

    def cancel_timer(self) -> None:
        """Remove the timer; a fade in progress ramps back to full level (≤ 2 s)."""
        with self._lock:
            if self._end is None or self._out >= self._end:
                return
            pos = self._out
            gc = self._timer_at(pos)
            self._tgain = (
                [_Line(pos, pos + max(1, int(round(UNFADE_S * self.sr * (1 - gc)))), gc, 1.0)]
                if gc < 1.0
                else []
            )
            self._end = None

    def timer_status(self) -> dict[str, Any] | None:
        """``{"remaining_s", "fade_s", "fading"}`` of the running timer, or None."""
        with self._lock:
            if self._end is None:
                return None
            pos = self._out
            last = self._tgain[-1] if self._tgain else None
            fading = last is not None and last.v1 == 0.0 and pos > last.t0
            return {
                "remaining_s": max(0, self._end - pos) / self.sr,
                "fade_s": self._timer_fade_s,
                "fading": bool(fading),
            }


def _segments_values(segs: list[_Line], t: int, n: int) -> np.ndarray | float:
    """Consecutive segments as one curve: each takes over from its start ``t0``."""
    if not segs:
        return 1.0
    out: np.ndarray | float = segs[0].values(t, n)
    for s in segs[1:]:
        if t + n <= s.t0:
            break
        out = np.where(np.arange(t, t + n) >= s.t0, s.values(t, n), out)
    return out
