"""The streaming session engine: scene → layers → mix → master → blocks or a file.

Memory is constant in the session length: every layer streams, the master chain
holds only its look-ahead, and files are written in chunks by a second thread.
The layers are summed in fixed groups (:func:`layer_groups`); on a machine with
enough cores a long render runs all groups but the last in a worker process
(:mod:`susurrus.render.workers`) while this one renders the last, masters and
encodes — and the samples are the same as rendering the groups in turn here.

Loudness: a seeded calibration pre-pass renders the first minute of the steady
part of every layer (the same seeds as the real render, so for short sessions
it *is* the render), estimates the gated BS.1770 loudness of the whole steady
part from those per-layer powers and each layer's activity envelope over the
whole session, then runs the master chain over the window to account for what
the leveler and limiter take off.
"""

from __future__ import annotations

import ctypes
import functools
import math
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import _signal as sps
from .. import audio, triggers
from ..dsp import ChunkedStream, StreamingFIR, decorrelation_filters
from ..errors import AudioFileError, ParameterError
from ..loudness import KWeighting, gated_integrated_lufs
from ..scene.model import Layer, Scene
from ..scene.scripts import Script, render_script
from ..triggers.noise import DiffuseNoise, Noise
from ..units import db_to_amp
from .activity import ActivityEnvelope
from .master import MasterChain, fade_gains

if TYPE_CHECKING:
    from .workers import GroupWorker

#: samples per block pulled from every layer while rendering a file (about 1.4 s at
#: 48 kHz): the output is the same for any block size, and large blocks spread the
#: per-call work of every stage over more samples (a 5-minute relax render took about
#: 20 % less CPU than with 8192-sample blocks)
DEFAULT_BLOCK = 65536
#: samples per unit over which an intermittent trigger layer's source may pause
PAUSE_UNIT = 8192
#: FFT size of the diffuse-bed decorrelation filters (2048 taps)
_DIFFUSE_FFT = 16384
#: file renders at least this long render their layer groups in worker processes ...
PARALLEL_MIN_S = 120.0
#: ... on machines with at least this many cores, when the worker can be forked (a
#: single-threaded caller such as the CLI: it then shares this process's modules and
#: HRTF table): relax, 1 hour, on 2 cores: 40 s against 52 s, the process tree's
#: memory 288 MB PSS ...
PARALLEL_MIN_CPUS = 2
#: ... or this many when it must be a fresh interpreter (a threaded caller such as the
#: web server), which costs about 100 MB more
PARALLEL_MIN_CPUS_SPAWN = 4
#: recordings longer than this are refused as layers (they are loaded whole)
MAX_RECORDING_S = 3600.0


class RecordingSource:
    """A recording (the user's own file) as a stream.

    Mono, or stereo for diffuse layers. Played once (then silence) or looped with
    an equal-power crossfade of ``crossfade_s`` between the end and the start.
    State: the read position.
    """

    @classmethod
    def from_file(cls, path: str, *, sr: int, loop: bool, crossfade_s: float,
                  stereo: bool) -> RecordingSource:
        inf = audio.info(path)
        if inf.duration_s > MAX_RECORDING_S:
            raise ParameterError("layer.path", path, f"a recording of at most {MAX_RECORDING_S:g} s")
        y, file_sr = audio.read(path)
        return cls(y, file_sr, sr=sr, loop=loop, crossfade_s=crossfade_s, stereo=stereo)

    def __init__(self, y: np.ndarray, file_sr: int, *, sr: int, loop: bool, crossfade_s: float,
                 stereo: bool) -> None:
        y = y.astype(np.float64)
        if file_sr != sr:
            g = math.gcd(sr, file_sr)
            y = sps.resample_poly(y, sr // g, file_sr // g, axis=1)
        if stereo:
            y = y[:2] if y.shape[0] >= 2 else np.repeat(y[:1], 2, axis=0)
        else:
            y = y.mean(axis=0, keepdims=True)
        self.loop = loop
        n = y.shape[1]
        x = min(int(crossfade_s * sr), n // 3)
        self._first = y[:, : n - x] if loop else y
        if loop and x > 0:
            t = (np.arange(x) + 0.5) / x
            body = y[:, : n - x].copy()
            body[:, :x] = y[:, :x] * np.sin(0.5 * np.pi * t) + y[:, n - x :] * np.cos(0.5 * np.pi * t)
            self._body = body
        else:
            self._body = y
        self._pos = 0
        self.channels = y.shape[0]

    def read(self, n: int) -> np.ndarray:
        out = np.zeros((self.channels, n))
        done = 0
        while done < n:
            first_len = self._first.shape[1]
            if self._pos < first_len:
                seg, off = self._first, self._pos
            elif self.loop:
                seg, off = self._body, (self._pos - first_len) % self._body.shape[1]
            else:
                break
            take = min(n - done, seg.shape[1] - off)
            out[:, done : done + take] = seg[:, off : off + take]
            done += take
            self._pos += take
        return out


class ScriptSource:
    """A guided script as a stream, voiced anew on every repetition (never a loop).

    Repetition ``k`` is the script voiced by its own generator (spawned from the
    layer's source seed and ``k``), so every phrase and breath is synthesised again
    with its own rate, pitch and breath placement and no two repetitions are the
    same samples. Every voicing has the script's fixed timeline of ``N`` samples;
    repetition ``k`` starts at ``k · (N − X)`` and crosses the previous one over ``X``
    samples (``crossfade_s``) with equal power: the script's closing pause is the
    gap. Without ``loop`` the first voicing plays once, then silence.

    State: the read position (``_pos``, output samples), the voicings in use (one,
    two across a crossfade) and the next one, voiced in the background while the
    current one plays (a voicing takes a second or two; a live stream renders only
    about a second ahead). Any position can be read directly, so a rebuilt live
    layer continues where the old one was.
    """

    def __init__(self, script: Script, *, sr: int, seed: np.random.SeedSequence, loop: bool,
                 crossfade_s: float, stereo: bool) -> None:
        self.script, self.sr, self.loop = script, sr, loop
        self._seed = seed
        self.channels = 2 if stereo else 1
        self._cache: dict[int, np.ndarray] = {}
        self._pending: dict[int, Future[np.ndarray]] = {}
        first = self._voicing(0)
        self.n = first.shape[1]
        self.x = min(int(crossfade_s * sr), self.n // 3) if loop else 0
        t = (np.arange(self.x) + 0.5) / max(self.x, 1)
        self._fade_in, self._fade_out = np.sin(0.5 * np.pi * t), np.cos(0.5 * np.pi * t)
        self._pos = 0

    def _voice(self, k: int) -> np.ndarray:
        seq = np.random.SeedSequence(self._seed.entropy, spawn_key=(*self._seed.spawn_key, k))
        return render_script(self.script, sr=self.sr, rng=np.random.default_rng(seq))

    def _voicing(self, k: int) -> np.ndarray:
        hit = self._cache.get(k)
        if hit is None:
            pending = self._pending.pop(k, None)
            hit = pending.result() if pending is not None else self._voice(k)
            self._cache[k] = hit
        return hit

    def _prefetch(self, k: int) -> None:
        """Start voicing repetition ``k`` in the background (a voicing takes up to a
        second or two; a live stream renders only about a second ahead)."""
        if k in self._cache or k in self._pending:
            return
        for old in [j for j in self._pending if j < k]:
            self._pending.pop(old).cancel()
        self._pending[k] = _voicing_pool().submit(self._voice, k)

    def read(self, n: int) -> np.ndarray:
        out = np.zeros((self.channels, n))
        p0, p1 = self._pos, self._pos + n
        self._pos = p1
        period = self.n - self.x
        k_lo = max(0, (p0 - self.n) // period + 1)
        k_hi = (p1 - 1) // period if self.loop else 0
        for old in [j for j in self._cache if j < k_lo]:  # behind the read position
            del self._cache[old]
        for k in range(k_lo, k_hi + 1):
            s = k * period
            a, b = max(p0, s), min(p1, s + self.n)
            if a >= b:
                continue
            y = self._voicing(k)[0, a - s : b - s].astype(np.float64)
            if self.x:
                i = np.arange(a - s, b - s)
                if k > 0:
                    head = i < self.x
                    y[head] *= self._fade_in[i[head]]
                tail = i >= self.n - self.x
                y[tail] *= self._fade_out[i[tail] - (self.n - self.x)]
            out[:, a - p0 : b - p0] += y
        if self.loop:
            self._prefetch(p1 // period + 1)
        return out


@functools.cache
def _voicing_pool() -> ThreadPoolExecutor:
    """Background voicing of script repetitions (espeak-ng runs as a subprocess, so a
    thread suffices); shared, two at a time."""
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="susurrus-voicing")


class LayerStream:
    """One scene layer rendered to stereo: source × activity × gain → placement.

    Each layer draws from its own generators, spawned from the scene seed and
    the layer's index: source, activity, motion and (diffuse) second source.
    """

    def __init__(self, layer: Layer, index: int, scene: Scene) -> None:
        self.layer = layer
        sr = scene.sr
        seqs = layer_seeds(scene, index)
        diffuse = layer.spread == "diffuse"
        self._sources: list[triggers.Trigger | RecordingSource | ScriptSource]
        if layer.kind == "trigger":
            assert layer.trigger is not None
            self._sources = [triggers.create(layer.trigger, layer.variant, sr=sr,
                                             rng=np.random.default_rng(seqs[0]), **layer.params)]
        elif layer.kind == "recording":
            assert layer.path is not None
            self._sources = [RecordingSource.from_file(layer.path, sr=sr, loop=layer.loop,
                                                       crossfade_s=layer.crossfade_s, stereo=diffuse)]
        else:
            from ..scene.scripts import load_script

            assert layer.script is not None
            script = load_script(layer.script, breaths=layer.params.get("breaths", 1.0) > 0)
            self._sources = [ScriptSource(script, sr=sr, seed=seqs[0], loop=layer.loop,
                                          crossfade_s=layer.crossfade_s, stereo=diffuse)]
        self.activity_seed = seqs[1]
        self.envelope = ActivityEnvelope(layer.activity, np.random.default_rng(seqs[1]))
        self.gain = db_to_amp(layer.gain_db)
        self.sr = sr
        self.spatial = None
        #: a diffuse trigger bed: its mono source decorrelated onto both ears
        self._diffuse: DiffuseNoise | ChunkedStream | None = None
        if diffuse and layer.kind == "trigger":
            # one instance through two unit-magnitude random-phase filters: a diffuse bed
            taps = decorrelation_filters(np.random.default_rng(seqs[3]), sr=sr)
            source = self._sources[0]
            if isinstance(source, Noise):  # filtered and decorrelated in one pass
                self._diffuse = source.diffuse(taps)
            else:
                decorrelate = StreamingFIR(taps, dtype=np.float32)
                # whole FFT frames: each chunk fills one _DIFFUSE_FFT-point transform
                chunk = _DIFFUSE_FFT - taps.shape[1] + 1
                self._diffuse = ChunkedStream(2, lambda: decorrelate(source.read(chunk)[0]))
        if not diffuse:
            from ..spatial import make_spatializer

            mode = "binaural" if (layer.binaural and scene.master.output == "headphones") else "pan"
            self.spatial = make_spatializer(
                sr=sr, azimuth_deg=layer.azimuth_deg, elevation_deg=layer.elevation_deg,
                distance_m=layer.distance_m, motion=layer.motion, period_s=layer.period_s,
                mode=mode, rng=np.random.default_rng(seqs[2]),
            )
        self._preroll = int(getattr(self.spatial, "latency_samples", 0)) if self.spatial else 0
        self._pos = 0
        #: a procedural source with gaps pauses through them (see _read_pausing)
        self._pausable = layer.kind == "trigger" and layer.activity.pattern == "intermittent"
        self._source_rows = 2 if self._diffuse is not None else 1

    def read(self, n: int, *, with_activity: bool = True) -> np.ndarray:
        """The next ``n`` stereo samples (float32 ``(2, n)``).

        The spatial stage's latency is pre-rolled on the first read (its first
        ``latency_samples`` are dropped), so a layer starts at full level at t = 0.
        """
        if self._preroll:
            skip, self._preroll = self._preroll, 0
            return self._read(skip + n, with_activity)[:, skip:]
        return self._read(n, with_activity)

    def _read(self, n: int, with_activity: bool) -> np.ndarray:
        if with_activity and self._pausable:
            return self._read_pausing(n)
        y = self._gained(self._source(n), self._pos, with_activity)
        self._pos += n
        if self.spatial is not None:
            y = np.asarray(self.spatial(y), dtype=np.float32)
        return y

    def _gained(self, y: np.ndarray, pos: int, with_activity: bool) -> np.ndarray:
        """``y`` (samples ``pos …``) times the layer's gain and (``with_activity``) envelope."""
        # single precision throughout: a layer's samples are float32 from its source on,
        # and a 24-bit file needs no more
        if not with_activity:
            return y * np.float32(self.gain)
        env = self.envelope.gains(pos, y.shape[1], self.sr)
        if isinstance(env, float):
            return y * np.float32(self.gain * env)
        return y * (np.float32(self.gain) * env)

    def _source(self, n: int) -> np.ndarray:
        if self._diffuse is not None:
            return self._diffuse.read(n)
        return np.asarray(self._sources[0].read(n), dtype=np.float32)

    def _read_pausing(self, n: int) -> np.ndarray:
        """An intermittent trigger layer: its source waits out the silences.

        Over each whole unit of ``PAUSE_UNIT`` samples (counted from t = 0, so the
        same units however reads are cut) where the envelope is 0 throughout, the
        layer gives zeros without drawing from its source, which goes on where it
        stopped when the layer comes back. What is heard is unchanged in kind (a
        procedural source has no timeline to keep), the work of the silences is saved.
        The spatial stage still sees the zeros, so its motion clock and state are
        exactly those of rendering them (and silent input costs it no transforms).
        """
        def silent(unit: int) -> bool:
            return self.envelope.silent(unit * PAUSE_UNIT / self.sr, ((unit + 1) * PAUSE_UNIT - 1) / self.sr)

        pos, end = self._pos, self._pos + n
        parts = []
        while pos < end:
            quiet = silent(pos // PAUSE_UNIT)
            stop = min(end, (pos // PAUSE_UNIT + 1) * PAUSE_UNIT)
            while stop < end and silent(stop // PAUSE_UNIT) == quiet:  # runs of units alike
                stop = min(end, (stop // PAUSE_UNIT + 1) * PAUSE_UNIT)
            m = stop - pos
            if quiet:
                parts.append(np.zeros((self._source_rows, m), dtype=np.float32))
            else:
                parts.append(self._gained(self._source(m), pos, True))
            pos = stop
        y = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
        self._pos = end
        if self.spatial is not None:
            y = np.asarray(self.spatial(y), dtype=np.float32)
        return y

    def continue_from(self, old: LayerStream) -> bool:
        """Carry on where ``old`` (the same layer before a live change) is.

        Takes over its activity envelope when the activity is unchanged and, for a
        recording or a script, its read position, both sample-aligned with the old
        stream's output (its ``_pos`` counts input, which runs ahead of its output by
        the spatial pre-roll it has consumed). Call before the first read. True when
        the source itself continues (the two streams then carry correlated audio).
        """
        latency = int(getattr(old.spatial, "latency_samples", 0)) if old.spatial is not None else 0
        at = old._pos - (latency - old._preroll)  # the old stream's output position
        if self.layer.activity == old.layer.activity and self.layer.activity.pattern != "continuous":
            self.envelope = ActivityEnvelope(self.layer.activity, np.random.default_rng(old.activity_seed))
            self.activity_seed = old.activity_seed
            self._pos = at
        src_new, src_old = self._sources[0], old._sources[0]
        same_media = (
            self.layer.kind == old.layer.kind
            and self.layer.path == old.layer.path
            and self.layer.script == old.layer.script
            and self.layer.loop == old.layer.loop
        )
        continuable = (RecordingSource, ScriptSource)
        if isinstance(src_new, continuable) and isinstance(src_old, continuable) and same_media:
            src_new._pos = at
            return True
        return False


def output_channels(scene: Scene) -> int:
    """1 for ``master.output = "mono"`` (a trigger auditioned alone), else 2."""
    return 1 if scene.master.output == "mono" else 2


def _downmix(y: np.ndarray, channels: int) -> np.ndarray:
    """Layers render in stereo; a mono session takes the mean of the two ears (for a
    centred, unplaced source both ears carry the source itself)."""
    return y.mean(axis=0, keepdims=True) if channels == 1 else y


def build_layers(scene: Scene) -> list[LayerStream]:
    return [LayerStream(layer, i, scene) for i, layer in enumerate(scene.layers)]


def layer_seeds(scene: Scene, index: int) -> list[np.random.SeedSequence]:
    """A layer's four seed sequences: source, activity, motion, decorrelation."""
    return np.random.SeedSequence([scene.seed, index]).spawn(4)


#: layers are summed in this many fixed groups (layer index modulo the count), each
#: rendered by its own worker process for long renders: the grouping never depends on
#: the machine, so a render is the same sample for sample with or without workers
N_GROUPS = 2


def layer_groups(n_layers: int) -> list[list[int]]:
    """Layer indices per render group: ``[[0, 2, 4, …], [1, 3, …]]``."""
    return [list(range(g, n_layers, N_GROUPS)) for g in range(min(N_GROUPS, n_layers))]


def trim_heap() -> None:
    """Give freed heap memory back to the system (glibc ``malloc_trim``; elsewhere a no-op).

    Building layers (HRTF tables, voice renders) and the calibration pass leave tens
    of MB of freed but still mapped heap behind; a long render need not carry them.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _shared_tables(scene: Scene) -> None:
    """Build (and cache) the read-only tables the scene's layers will use: the HRTF
    table of its binaural layers. Built once before forking workers, their pages are
    shared by every process instead of built (about 60 MB at peak) in each. The
    trigger registry too: its modules are imported here once, not in every process."""
    from ..triggers import available

    available()
    if scene.master.output != "headphones":
        return
    if any(layer.spread != "diffuse" and layer.binaural for layer in scene.layers):
        from ..spatial import build_table, load_hrir

        build_table(load_hrir(sr=scene.sr))
        trim_heap()


def group_block(layers: Sequence[LayerStream], n: int, channels: int,
                out: np.ndarray | None = None) -> np.ndarray:
    """The next ``n`` samples of a group of layers, summed in layer order (float32),
    into ``out`` (``(channels, n)``) when given.

    The sum starts from (a copy of) the first layer's block, not from zeros: the
    same samples (``0 + a`` is ``a``) without a zero-filled buffer per block.
    """
    if not layers:
        if out is None:
            return np.zeros((channels, n), dtype=np.float32)
        out[...] = 0.0
        return out
    first = _downmix(layers[0].read(n), channels)
    if out is None:
        out = np.array(first, dtype=np.float32)
    else:
        out[...] = first
    for ls in layers[1:]:
        out += _downmix(ls.read(n), channels)
    return out


# -- calibration ---------------------------------------------------------------------

def _blocks_from_hops(hop_energy: np.ndarray) -> np.ndarray:
    """400 ms block powers (75 % overlap) from 100 ms hop mean-square energies."""
    if len(hop_energy) < 4:
        return np.array([hop_energy.mean()]) if len(hop_energy) else np.zeros(0)
    c = np.concatenate([[0.0], np.cumsum(hop_energy)])
    return (c[4:] - c[:-4]) / 4.0


class _HopEnergies:
    """Accumulates K-weighted mean-square energy per ``hop`` samples from a stream."""

    def __init__(self, hop: int) -> None:
        self.hop = hop
        self._rest: np.ndarray | None = None
        self._acc: list[np.ndarray] = []

    def add(self, k: np.ndarray) -> None:
        if self._rest is not None:
            k = np.concatenate([self._rest, k], axis=1)
        n = k.shape[1] // self.hop * self.hop
        if n:
            self._acc.append(_hop_energy(k[:, :n], self.hop))
        self._rest = k[:, n:]

    def values(self) -> np.ndarray:
        return np.concatenate(self._acc) if self._acc else np.zeros(0)


def _hop_energy(kw: np.ndarray, hop: int) -> np.ndarray:
    n = kw.shape[1] // hop
    return (kw[:, : n * hop] ** 2).reshape(kw.shape[0], n, hop).mean(axis=2).sum(axis=0)


@dataclass(frozen=True, eq=False)
class Calibration:
    """What the calibration pre-pass found.

    ``premix`` holds the pre-master mix when the window covered the whole session
    (short scenes): the render then uses it instead of rendering the layers twice.
    """

    gain_db: float
    premaster_lufs: float
    master_reduction_db: float
    window_s: float
    premix: np.ndarray | None = None


@dataclass(frozen=True)
class CalibrationWindow:
    """The stretch of a session the calibration pre-pass renders (sample indices).

    ``n_a … n_w`` is measured; ``n_end`` is where rendering stops (past ``n_w`` only
    when ``whole``: the window is the whole session and its mix becomes the render).
    ``a_s … b_s`` is the steady part whose loudness is estimated.
    """

    n_a: int
    n_w: int
    n_end: int
    whole: bool
    a_s: float
    b_s: float
    hop: int


def calibration_window(scene: Scene, window_s: float = 60.0) -> CalibrationWindow:
    sr = scene.sr
    timing = scene.timing()
    total = timing.total_s
    a, b = timing.steady_start_s, timing.steady_end_s
    if b - a < 1.0:
        a, b = 0.0, total
    w_end = min(b, a + window_s)
    hop = sr // 10
    n_a, n_w = int(a * sr) // hop * hop, int(w_end * sr) // hop * hop
    if n_w - n_a < 4 * hop:
        n_a = max(0, n_w - 4 * hop)
    n_total = int(round(total * sr))
    # a window that covers the whole session is the session: keep its mix for the render
    whole = n_a == 0 and w_end >= total and n_total <= int(window_s * sr) + hop
    return CalibrationWindow(n_a, n_w, n_total if whole else n_w, whole, a, b, hop)


def calibrate_group(scene: Scene, indices: Sequence[int], win: CalibrationWindow,
                    block_size: int = DEFAULT_BLOCK) -> tuple[list[np.ndarray], np.ndarray]:
    """The calibration pre-pass over some of a scene's layers (a render group).

    Returns each layer's K-weighted 100 ms hop energies over ``n_a … n_w`` (without
    its activity envelope) and the group's mix (with envelopes) over ``n_a … n_end``.
    """
    sr = scene.sr
    ch = output_channels(scene)
    mix = np.zeros((ch, win.n_end - win.n_a), dtype=np.float32)
    energies: list[np.ndarray] = []
    n_a, n_w, n_end = win.n_a, win.n_w, win.n_end
    for i in indices:
        ls = LayerStream(scene.layers[i], i, scene)
        kw = KWeighting(sr, ch)
        acc = _HopEnergies(win.hop)
        pos = 0
        while pos < n_end:
            n = min(block_size, n_end - pos)
            y = _downmix(ls.read(n, with_activity=False), ch)
            k = np.asarray(kw(y))
            lo = max(0, n_a - pos)
            if lo < n:
                if pos < n_w:
                    acc.add(k[:, lo : min(n, n_w - pos)])
                t = (pos + lo + np.arange(n - lo)) / sr
                gain = ls.envelope(t) if ls.layer.activity.pattern != "continuous" else 1.0
                mix[:, pos + lo - n_a : pos + n - n_a] += y[:, lo:] * gain
            pos += n
        energies.append(acc.values())
    return energies, mix


def calibrate(scene: Scene, *, window_s: float = 60.0, block_size: int = DEFAULT_BLOCK,
              workers: Mapping[int, GroupWorker] | None = None,
              mixed: Callable[[], None] | None = None) -> Calibration:
    """Find the master gain that puts the steady part at ``scene.master.target_lufs``.

    The layers are rendered in their fixed :func:`layer_groups`: group ``g`` by
    ``workers[g]`` when given (in parallel with the rest), the others here; the
    result is the same. ``mixed`` is called once every group's window is in the mix,
    before the measuring (a render starts its workers' streams there: they need no
    gain, and render ahead while this process measures).
    """
    sr = scene.sr
    win = calibration_window(scene, window_s)
    n_a, n_w = win.n_a, win.n_w
    a, b, hop = win.a_s, win.b_s, win.hop
    groups = layer_groups(len(scene.layers))
    workers = workers or {}
    for w in workers.values():
        w.request_calibration(win, block_size)
    energy_of: dict[int, np.ndarray] = {}
    # the groups rendered here first, while the workers render theirs. The sum starts
    # from the last group's mix (rendered here, its buffer becomes the sum's) and adds
    # the others in order, the workers' as they arrive, piece by piece: the same mix
    # with or without workers, and no second 60-second mix in memory
    local = {gi: calibrate_group(scene, g, win, block_size)
             for gi, g in enumerate(groups) if gi not in workers}
    mix: np.ndarray | None = None
    for gi in [len(groups) - 1, *range(len(groups) - 1)] if groups else []:
        if gi in workers:
            if mix is None:
                mix = np.zeros((output_channels(scene), win.n_end - n_a), dtype=np.float32)
            energies = workers[gi].add_calibration(mix)
        else:
            energies, group_mix = local.pop(gi)
            if mix is None:
                mix = group_mix
            else:
                mix += group_mix
            del group_mix
        energy_of.update(zip(groups[gi], energies, strict=True))
    if mix is None:  # a scene without layers
        mix = np.zeros((output_channels(scene), win.n_end - n_a), dtype=np.float32)
    if mixed is not None:
        mixed()
    trim_heap()
    hop_e = [energy_of[i] for i in range(len(scene.layers))]
    # estimated hop energies over the whole steady part
    h0, h1 = int(a * 10), max(int(a * 10) + 4, int(b * 10))
    est = np.zeros(h1 - h0)
    for i, e in enumerate(hop_e):
        if not len(e):
            continue
        env = ActivityEnvelope(scene.layers[i].activity, np.random.default_rng(layer_seeds(scene, i)[1]))
        for c0 in range(h0, h1, 36000):  # an hour of hops at a time: bounded memory
            c1 = min(h1, c0 + 36000)
            t = (np.arange(c0, c1)[:, None] + (np.arange(10)[None, :] + 0.5) / 10) / 10.0
            env2 = (env(t.ravel()) ** 2).reshape(t.shape).mean(axis=1)
            est[c0 - h0 : c1 - h0] += e[np.arange(c0 - h0, c1 - h0) % len(e)] * env2
    pre = gated_integrated_lufs(_blocks_from_hops(est))
    premix = mix if win.whole else None
    if not math.isfinite(pre) or not scene.master.normalize:
        return Calibration(0.0, pre, 0.0, (n_w - n_a) / sr, premix)
    gain = scene.master.target_lufs - pre
    reduction = 0.0
    for _ in range(2):
        l_in, l_out = _master_effect(scene, mix[:, : n_w - n_a], gain + reduction, hop, block_size)
        if not (math.isfinite(l_in) and math.isfinite(l_out)):
            break
        reduction += l_in - l_out
        if abs(l_in - l_out) < 0.05:
            break
    gain += reduction
    if scene.master.max_limiting_db is not None and mix.size:
        peak_db = 20 * math.log10(max(float(np.max(np.abs(mix))), 1e-12))
        over = peak_db + gain - scene.master.true_peak_dbtp - scene.master.max_limiting_db
        if over > 0:
            gain -= over
    return Calibration(gain, pre, reduction, (n_w - n_a) / sr, premix)


def _master_effect(scene: Scene, mix: np.ndarray, gain_db: float, hop: int,
                   block_size: int) -> tuple[float, float]:
    """Gated loudness of ``mix`` at ``gain_db`` before and after the master chain (streamed)."""
    sr = scene.sr
    ch = mix.shape[0]
    chain = MasterChain(sr, ch, gain_db=gain_db, momentary_max_lufs=scene.master.momentary_max_lufs,
                        true_peak_dbtp=scene.master.true_peak_dbtp)
    kw_in, kw_out = KWeighting(sr, ch), KWeighting(sr, ch)
    e_in, e_out = _HopEnergies(hop), _HopEnergies(hop)
    g = db_to_amp(gain_db)
    for pos in range(0, mix.shape[1], block_size):
        block = np.asarray(mix[:, pos : pos + block_size], dtype=np.float64)
        e_in.add(np.asarray(kw_in(block * g)))
        e_out.add(np.asarray(kw_out(chain.push(block))))
    e_out.add(np.asarray(kw_out(chain.flush())))
    l_in = gated_integrated_lufs(_blocks_from_hops(e_in.values()))
    l_out = gated_integrated_lufs(_blocks_from_hops(e_out.values()))
    return l_in, l_out


# -- streaming -----------------------------------------------------------------------

class SessionStream:
    """A scene as an iterator of mastered stereo float32 blocks.

    ``read(n)`` returns up to ``n`` samples (fewer only at the end). State: the
    layers (or the worker processes rendering them, with ``processes=True``; call
    :meth:`close`, or iterate to the end, to stop them), the master chain's
    look-ahead and the output position (for fades).
    """

    def __init__(self, scene: Scene, *, gain_db: float | None = None,
                 block_size: int = DEFAULT_BLOCK, processes: bool = False) -> None:
        self.scene = scene
        self.sr = scene.sr
        self.timing = scene.timing()
        self.total = int(round(self.timing.total_s * self.sr))
        self.channels = output_channels(scene)
        self.block_size = block_size
        self._premix: np.ndarray | None = None
        groups = layer_groups(len(scene.layers))
        self._n_groups = len(groups)
        # workers render every group but the last, which this process renders beside
        # mastering and encoding
        self._workers: dict[int, GroupWorker] = {}
        self._local: dict[int, list[LayerStream]] = {}
        if processes and len(groups) > 1 and not calibration_window(scene).whole:
            from .workers import start_workers

            _shared_tables(scene)  # before a fork, so parent and workers share them
            self._workers = start_workers(scene, groups[:-1], self.channels)
        streaming = False

        def stream() -> None:  # the workers render ahead from here on
            nonlocal streaming
            if not streaming:
                streaming = True
                for w in self._workers.values():
                    w.start_stream(self.total, block_size)

        try:
            if gain_db is None:
                cal = calibrate(scene, block_size=block_size, workers=self._workers, mixed=stream)
                gain_db = cal.gain_db if scene.master.normalize else 0.0
                self._premix = cal.premix
            if self._premix is None:
                stream()
                self._local = {gi: [LayerStream(scene.layers[i], i, scene) for i in g]
                               for gi, g in enumerate(groups) if gi not in self._workers}
                trim_heap()
            else:
                self.close()
        except BaseException:
            self.close()
            raise
        self.gain_db = gain_db
        m = scene.master
        self.master = MasterChain(self.sr, self.channels, gain_db=gain_db,
                                  momentary_max_lufs=m.momentary_max_lufs,
                                  true_peak_dbtp=m.true_peak_dbtp)
        self._in = 0  # samples pulled from the layers
        self._out = 0  # samples returned
        self._ready = np.zeros((self.channels, 0), dtype=np.float32)
        self._flushed = False

    def close(self) -> None:
        """Stop the worker processes (if any); idempotent."""
        workers, self._workers = self._workers, {}
        for w in workers.values():
            w.close()

    @property
    def position_s(self) -> float:
        return self._out / self.sr

    def _pull(self) -> None:
        n = min(self.block_size, self.total - self._in)
        if n <= 0:
            if not self._flushed:
                self._ready = np.concatenate([self._ready, self.master.flush()], axis=1)
                self._flushed = True
            return
        mix = self._premix[:, self._in : self._in + n] if self._premix is not None else self._mix(n)
        self._in += n
        out = self.master.push(mix)
        self._ready = np.concatenate([self._ready, out], axis=1) if self._ready.shape[1] else out

    def _mix(self, n: int) -> np.ndarray:
        """The groups' next ``n`` samples: the groups rendered here first (the workers'
        blocks are meanwhile on their way), then summed in group order, in float32 like
        the layers: the same samples with or without workers. The first group's block
        starts the sum (as in :func:`group_block`)."""
        local = {gi: group_block(layers, n, self.channels) for gi, layers in self._local.items()}
        mix: np.ndarray | None = None
        for gi in range(self._n_groups):
            w = self._workers.get(gi)
            if w is not None:
                mix = w.add_next_block(mix, n)
            elif mix is None:
                mix = local.pop(gi)
            else:
                mix += local.pop(gi)
        return mix if mix is not None else np.zeros((self.channels, n), dtype=np.float32)

    def read(self, n: int) -> np.ndarray:
        n = min(n, self.total - self._out)
        while self._ready.shape[1] < n:
            self._pull()
        return self._emit(n)

    def _emit(self, n: int) -> np.ndarray:
        """The next ``n`` ready samples, faded, as float32 (a view where no fade is near)."""
        y, self._ready = self._ready[:, :n], self._ready[:, n:]
        t = self.timing
        g = fade_gains(self._out, n, sr=self.sr, total=self.total,
                       fade_in_s=t.fade_in_s, fade_out_s=t.fade_out_s)
        if g is not None:
            y = y * g
        self._out += n
        return np.asarray(y, dtype=np.float32)

    def __iter__(self) -> Iterator[np.ndarray]:
        try:
            while self._out < self.total:
                yield self.read(self.block_size)
        finally:
            self.close()

    def blocks(self) -> Iterator[np.ndarray]:
        """The session in blocks of whatever size the master lets out (at most about
        two blocks): the same samples as iterating, without joining the master's
        pieces into fixed-size blocks (for a consumer that takes any size: a file)."""
        try:
            while self._out < self.total:
                while not self._ready.shape[1]:
                    self._pull()
                yield self._emit(min(self._ready.shape[1], self.total - self._out))
        finally:
            self.close()


@dataclass(frozen=True)
class RenderReport:
    path: str
    duration_s: float
    sr: int
    gain_db: float
    seconds: float
    interrupted: bool

    @property
    def speed(self) -> float:
        return self.duration_s / self.seconds if self.seconds > 0 else math.inf


ProgressFn = Callable[[float, float], None]


def render_to_file(
    scene: Scene,
    path: str | Path,
    *,
    block_size: int = DEFAULT_BLOCK,
    progress: ProgressFn | None = None,
    gain_db: float | None = None,
    processes: bool | None = None,
) -> RenderReport:
    """Render a scene to WAV/FLAC/OGG, encoding in a second thread.

    ``processes`` renders all layer groups but one in worker processes; by default it
    does for sessions of :data:`PARALLEL_MIN_S` or more with two or more layers on a
    machine with at least :data:`PARALLEL_MIN_CPUS` cores (:data:`PARALLEL_MIN_CPUS_SPAWN`
    where the caller runs threads and a worker cannot be forked). The file is the same
    either way.

    Ctrl-C or :class:`~susurrus.audio.Interrupted` (SIGTERM via the CLI) keeps
    what was rendered as a valid file; any other failure leaves no file.
    """
    t0 = time.perf_counter()
    audio.output_format(path)  # fail early on a bad extension
    if processes is None:
        from .workers import fork_is_safe

        cpus = os.cpu_count() or 1
        processes = (scene.timing().total_s >= PARALLEL_MIN_S and len(scene.layers) > 1
                     and cpus >= (PARALLEL_MIN_CPUS if fork_is_safe() else PARALLEL_MIN_CPUS_SPAWN))
    stream = SessionStream(scene, gain_db=gain_db, block_size=block_size, processes=processes)
    q: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=4)
    errors: list[BaseException] = []
    interrupted = False
    with audio.AudioWriter(path, sr=scene.sr, channels=stream.channels,
                           expected_frames=stream.total) as w:

        def consume() -> None:
            while True:
                item = q.get()
                if item is None:
                    return
                if errors:
                    continue
                try:
                    w.write(item)
                except BaseException as exc:
                    errors.append(exc)

        th = threading.Thread(target=consume, name="susurrus-encoder", daemon=True)
        th.start()
        try:
            for block in stream.blocks():
                if errors:
                    break
                q.put(block)
                if progress is not None:
                    progress(stream.position_s, stream.total / scene.sr)
        except BaseException:
            interrupted = True
            raise
        finally:
            stream.close()
            q.put(None)
            th.join()
            if errors:
                err = errors[0]
                raise err if isinstance(err, AudioFileError) else AudioFileError(f"{path}: {err}")
    return RenderReport(str(path), stream.total / scene.sr, scene.sr, stream.gain_db,
                        time.perf_counter() - t0, interrupted)
