"""The streaming engine: loudness on target, ceilings, fades, sleep timer, determinism, interrupts."""

from __future__ import annotations

import numpy as np
import pyloudnorm as pyln
import pytest
import soundfile as sf

from susurrus.errors import AudioFileError
from susurrus.loudness import LoudnessMeter
from susurrus.render import SessionStream, calibrate, render_to_file
from susurrus.scene import Activity, Layer, Master, Scene


def _scene(**kw) -> Scene:
    layers = kw.pop("layers", None) or [
        Layer(trigger="noise", variant="pink", spread="diffuse", gain_db=-6),
        Layer(trigger="tapping", variant="wood", azimuth_deg=60, gain_db=0,
              activity=Activity(pattern="intermittent", on_fraction=0.5, mean_gap_s=4, ramp_s=0.5)),
    ]
    return Scene(duration_s=kw.pop("duration_s", 60), seed=kw.pop("seed", 7), layers=layers, **kw)


def _steady(path, scene: Scene) -> np.ndarray:
    y, sr = sf.read(path, always_2d=True)
    t = scene.timing()
    return y[int(t.steady_start_s * sr) : int(t.steady_end_s * sr)]


@pytest.mark.parametrize("target", [-27.0, -32.0])
def test_steady_part_is_on_target_within_half_an_lu(tmp_path, target: float) -> None:
    scene = _scene(master=Master(target_lufs=target, fade_in_s=5, fade_out_s=5))
    out = tmp_path / "s.wav"
    render_to_file(scene, out)
    steady = _steady(out, scene)
    lufs = pyln.Meter(scene.sr).integrated_loudness(steady)
    assert abs(lufs - target) <= 0.5, lufs
    m = LoudnessMeter(scene.sr, 2)
    m.process(np.ascontiguousarray(sf.read(out, always_2d=True)[0].T, dtype=np.float32))
    r = m.result()
    assert r.true_peak_dbtp <= scene.master.true_peak_dbtp + 0.05
    assert r.max_momentary_lufs <= scene.master.momentary_max_lufs + 0.1


def test_momentary_ceiling_holds_on_jarring_content(tmp_path) -> None:
    # a sparse, hard trigger pushed up hard: the calibration wants a lot of gain
    scene = _scene(layers=[Layer(trigger="tapping", variant="glass", gain_db=0,
                                 activity=Activity(pattern="intermittent", on_fraction=0.2,
                                                   mean_gap_s=6, ramp_s=0.2))],
                   master=Master(target_lufs=-20, momentary_max_lufs=-18, fade_in_s=1, fade_out_s=1),
                   duration_s=40)
    out = tmp_path / "j.flac"
    render_to_file(scene, out)
    y, sr = sf.read(out, always_2d=True)
    m = LoudnessMeter(sr, 2)
    m.process(np.ascontiguousarray(y.T, dtype=np.float32))
    assert m.result().max_momentary_lufs <= -18 + 0.1
    assert m.result().true_peak_dbtp <= -6 + 0.05


def test_same_seed_same_samples_whatever_the_block_size() -> None:
    scene = _scene(duration_s=8, master=Master(fade_in_s=1, fade_out_s=2))
    gain = calibrate(scene).gain_db
    a = np.concatenate(list(SessionStream(scene, gain_db=gain, block_size=4096)), axis=1)
    b_stream = SessionStream(scene, gain_db=gain, block_size=1531)
    b = np.concatenate([b_stream.read(n) for n in [7, 100000, 3, 22222, 10**9]], axis=1)
    assert a.shape == (2, 8 * scene.sr) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    other = np.concatenate(list(SessionStream(scene.with_overrides(seed=8), gain_db=gain)), axis=1)
    assert not np.array_equal(a, other)


def test_sleep_timer_fades_for_a_minute_and_ends(tmp_path) -> None:
    scene = _scene(layers=[Layer(trigger="noise", variant="white", spread="diffuse")],
                   duration_s=600, master=Master(sleep_after_s=30, fade_in_s=2, fade_out_s=10))
    out = tmp_path / "sleep.flac"
    render_to_file(scene, out)
    y, sr = sf.read(out, always_2d=True)
    assert len(y) == 90 * sr  # 30 s, then a 60 s fade, then the end
    rms = np.sqrt((y[: 90 * sr] ** 2).reshape(90, sr, 2).mean(axis=(1, 2)))
    ref = rms[5:29].mean()
    assert np.all(np.abs(rms[5:29] / ref - 1) < 0.05)  # steady until the timer
    expected = np.cos(0.5 * np.pi * (np.arange(30, 90) + 0.5 - 30) / 60)  # equal-power fade
    np.testing.assert_allclose(rms[30:90] / ref, expected, atol=0.05)
    assert rms[89] < 0.05 * ref  # down to near silence at the end


def test_fade_in_and_out_shape(tmp_path) -> None:
    scene = _scene(layers=[Layer(trigger="noise", variant="white", spread="diffuse")], duration_s=30,
                   master=Master(fade_in_s=6, fade_out_s=6))
    out = tmp_path / "f.wav"
    render_to_file(scene, out)
    y, sr = sf.read(out, always_2d=True)
    assert len(y) == 30 * sr
    assert np.abs(y[:100]).max() < 0.01 and np.abs(y[-100:]).max() < 0.01
    mid = np.sqrt(np.mean(y[12 * sr : 18 * sr] ** 2))
    assert np.sqrt(np.mean(y[:sr] ** 2)) < 0.3 * mid


class _Stop(Exception):
    pass


@pytest.mark.parametrize("exc", [KeyboardInterrupt, _Stop])
def test_interrupted_render_leaves_valid_file_or_nothing(tmp_path, exc) -> None:
    scene = _scene(duration_s=120)
    out = tmp_path / "x.flac"
    calls = []

    def progress(done: float, total: float) -> None:
        calls.append(done)
        if len(calls) == 20:
            raise exc()

    with pytest.raises(exc):
        render_to_file(scene, out, progress=progress)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "x.flac"]
    assert leftovers == []  # no partial files
    if exc is KeyboardInterrupt:
        y, sr = sf.read(out, always_2d=True)  # a valid, playable file of what was rendered
        assert 0 < len(y) < 120 * sr
    else:
        assert not out.exists()


def test_unwritable_output_is_a_clear_error(tmp_path) -> None:
    scene = _scene(duration_s=2)
    with pytest.raises(AudioFileError, match="does not exist"):
        render_to_file(scene, tmp_path / "no" / "dir" / "x.wav")


def _lag(y: np.ndarray, sr: int) -> float:
    """Interaural lag (ms) of the cross-correlation peak, below 1.5 kHz."""
    import scipy.signal as sps

    sos = sps.butter(4, 1500, "low", fs=sr, output="sos")
    lo = sps.sosfilt(sos, y, axis=1)
    xc = sps.correlate(lo[0], lo[1], mode="full", method="fft")
    return (int(np.argmax(xc)) - (y.shape[1] - 1)) / sr * 1000


@pytest.mark.parametrize(("output", "binaural", "expect_itd"), [
    ("headphones", True, True), ("headphones", False, False), ("speakers", True, False)])
def test_headphones_speakers_and_layer_opt_out(output: str, binaural: bool, expect_itd: bool) -> None:
    scene = Scene(duration_s=4, seed=1, layers=[
        Layer(trigger="noise", variant="pink", azimuth_deg=45, binaural=binaural)],
        master=Master(output=output, fade_in_s=0, fade_out_s=0))
    y = np.concatenate(list(SessionStream(scene)), axis=1).astype(np.float64)
    left, right = np.sqrt(np.mean(y**2, axis=1))
    assert left > 1.2 * right  # +45° is to the listener's left
    lag = _lag(y, scene.sr)
    if expect_itd:
        assert -0.55 <= lag <= -0.2  # the left ear leads
    else:
        assert abs(lag) < 0.05


def test_recording_layers_play_once_or_loop(tmp_path) -> None:
    from susurrus import audio

    sr = 48000
    t = np.arange(sr) / sr
    tone = (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)[None]
    audio.write(tmp_path / "tone.wav", tone, 44100)  # resampled to the scene rate
    for loop in (False, True):
        scene = Scene(duration_s=5, layers=[Layer(kind="recording", path=str(tmp_path / "tone.wav"),
                                                  loop=loop, crossfade_s=0.2, binaural=False)],
                      master=Master(normalize=False, fade_in_s=0, fade_out_s=0))
        y = np.concatenate(list(SessionStream(scene)), axis=1)
        rms = np.sqrt((y[0, : 5 * sr] ** 2).reshape(50, -1).mean(axis=1))
        assert rms[:8].min() > 0.05
        if loop:
            assert rms.min() > 0.05  # never a gap at the loop point
        else:
            assert rms[20:].max() < 1e-4  # played once, then silence


def test_missing_recording_is_a_clear_error(tmp_path) -> None:
    from susurrus.errors import AudioFileError

    scene = Scene(duration_s=5, layers=[Layer(kind="recording", path=str(tmp_path / "none.wav"))])
    with pytest.raises(AudioFileError, match="no such file"):
        SessionStream(scene)


def test_diffuse_bed_is_decorrelated_with_an_unchanged_spectrum() -> None:
    import scipy.signal as sps

    def iacc(a: np.ndarray, b: np.ndarray) -> float:  # max |xcorr| within ±1 ms, normalised
        xc = sps.correlate(a, b, mode="full", method="fft")
        mid = len(a) - 1
        return float(np.abs(xc[mid - 48 : mid + 49]).max() / np.sqrt((a * a).sum() * (b * b).sum()))

    scene = Scene(duration_s=10, seed=3, layers=[Layer(trigger="noise", variant="white", spread="diffuse")],
                  master=Master(normalize=False, fade_in_s=0, fade_out_s=0))
    y = np.concatenate(list(SessionStream(scene)), axis=1).astype(np.float64)[:, 4800:]
    for lo, hi in [(500, 1000), (1000, 2000), (2000, 4000), (4000, 8000)]:
        sos = sps.butter(4, [lo, hi], "band", fs=48000, output="sos")
        assert iacc(sps.sosfilt(sos, y[0]), sps.sosfilt(sos, y[1])) < 0.5
    f, p = sps.welch(y, fs=48000, nperseg=8192)
    for fc in [250, 1000, 4000, 12000]:  # third-octave levels stay flat (white in, white out)
        band = (f > fc / 2 ** (1 / 6)) & (f < fc * 2 ** (1 / 6))
        lev = 10 * np.log10(p[:, band].mean(axis=1) / p[:, (f > 500) & (f < 16000)].mean(axis=1))
        assert np.all(np.abs(lev) < 1.0), (fc, lev)


def test_guided_script_layer_follows_its_timing() -> None:
    """A paced-breathing script over a bed: cues land where the script puts them."""
    from susurrus.scene.scripts import load_script

    script = load_script("paced-breathing")
    scene = Scene(duration_s=60, seed=2, layers=[
        Layer(kind="script", script="paced-breathing", binaural=False)],
        master=Master(normalize=False, fade_in_s=0, fade_out_s=0))
    y = np.concatenate(list(SessionStream(scene)), axis=1)[0].astype(np.float64)
    sr = scene.sr
    env = np.sqrt(np.convolve(y**2, np.ones(sr // 20) / (sr // 20), mode="same"))
    for cue in [c for c in script.cues if c.text and 1.0 < c.start_s < 55][:8]:
        s0 = int(cue.start_s * sr)
        assert env[s0 : s0 + sr].max() > 5 * env[max(0, s0 - sr // 4) : s0].mean() + 1e-6, cue


def test_script_layer_validation() -> None:
    from susurrus.errors import SceneError
    from susurrus.scene import scene_from_dict

    with pytest.raises(SceneError, match="guided script"):
        scene_from_dict({"layers": [{"kind": "script", "script": "nope"}]})
    with pytest.raises(SceneError, match="breaths"):
        scene_from_dict({"layers": [{"kind": "script", "script": "body-scan", "params": {"x": 1}}]})


def _children() -> set[int]:
    """Live child processes of this test process (from /proc). Compare with a set taken
    before: other tests may leave long-lived children (render pools, servers)."""
    import os
    from pathlib import Path

    me, kids = os.getpid(), []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] != "Z":
            kids.append(int(stat.parent.name))
    return set(kids)


def _three_layer_scene(duration_s: float) -> Scene:
    layers = [
        Layer(trigger="noise", variant="brown", spread="diffuse", gain_db=-10,
              activity=Activity(pattern="drift", depth_db=4, period_s=20)),
        Layer(trigger="tapping", variant="wood", motion="sweep", period_s=8, gain_db=-2,
              activity=Activity(pattern="intermittent", on_fraction=0.5, mean_gap_s=4, ramp_s=0.5)),
        Layer(trigger="noise", variant="pink", azimuth_deg=-40, gain_db=-12),
    ]
    return _scene(layers=layers, duration_s=duration_s, master=Master(fade_in_s=2, fade_out_s=2))


def test_worker_processes_render_the_same_samples() -> None:
    # 75 s: longer than the calibration window, so the layers stream (no premix)
    scene = _three_layer_scene(75)
    before = _children()
    a = np.concatenate(list(SessionStream(scene, processes=True)), axis=1)
    b = np.concatenate(list(SessionStream(scene, processes=False, block_size=3000)), axis=1)
    assert a.shape == (2, 75 * scene.sr)
    assert np.array_equal(a, b)
    assert _children() <= before  # the workers ended with the stream


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "fresh-interpreter"])
def test_forked_and_fresh_workers_render_the_same_samples(monkeypatch, fork) -> None:
    from susurrus.render import workers

    monkeypatch.setattr(workers, "fork_is_safe", lambda: fork)
    started: list[object] = []
    real = workers.GroupWorker.__init__

    def spy(self, *args, **kwargs):
        real(self, *args, **kwargs)
        started.append(type(self._proc).__name__)

    monkeypatch.setattr(workers.GroupWorker, "__init__", spy)
    scene = _three_layer_scene(75)
    before = _children()
    a = np.concatenate(list(SessionStream(scene, processes=True)), axis=1)
    b = np.concatenate(list(SessionStream(scene, processes=False, block_size=3000)), axis=1)
    assert started == ["_Forked" if fork else "Popen"]
    assert np.array_equal(a, b)
    assert _children() <= before


def test_a_process_running_threads_never_forks_a_worker() -> None:
    import threading

    from susurrus.render.workers import fork_is_safe

    stop = threading.Event()
    th = threading.Thread(target=stop.wait)
    th.start()
    try:
        assert not fork_is_safe()
    finally:
        stop.set()
        th.join()


def test_closing_a_stream_early_stops_its_workers() -> None:
    before = _children()
    stream = SessionStream(_three_layer_scene(600), processes=True)
    assert len(_children() - before) == 1  # one worker: this process renders the last group
    stream.read(48000)
    stream.close()
    assert _children() <= before


def test_a_failing_worker_is_the_callers_error_and_leaves_nothing(tmp_path) -> None:
    rec = tmp_path / "rec.wav"
    sf.write(rec, np.zeros((48000, 1), dtype=np.float32), 48000)
    scene = _scene(layers=[Layer(trigger="noise", variant="pink", gain_db=-10),
                           Layer(kind="recording", path=str(rec), gain_db=-10)], duration_s=300)
    rec.write_bytes(b"RIFF....WAVEnot really audio")  # broken after the scene was made
    out = tmp_path / "x.flac"
    before = _children()
    with pytest.raises(AudioFileError):
        render_to_file(scene, out, processes=True)
    assert list(tmp_path.iterdir()) == [rec]
    assert _children() <= before


def test_interrupting_a_render_with_workers_keeps_the_file_and_stops_them(tmp_path) -> None:
    out = tmp_path / "x.flac"
    calls = []

    def progress(done: float, total: float) -> None:
        calls.append(done)
        if len(calls) == 30:
            raise KeyboardInterrupt

    before = _children()
    with pytest.raises(KeyboardInterrupt):
        render_to_file(_three_layer_scene(600), out, progress=progress, processes=True)
    y, sr = sf.read(out, always_2d=True)
    assert 0 < len(y) < 600 * sr
    assert _children() <= before


def _script_source(loop: bool = True, crossfade_s: float = 1.0):
    from susurrus.render.engine import ScriptSource
    from susurrus.scene.scripts import load_script

    return ScriptSource(load_script("affirmations"), sr=16000, seed=np.random.SeedSequence(5),
                        loop=loop, crossfade_s=crossfade_s, stereo=False)


def test_a_looping_script_is_voiced_anew_on_every_repetition() -> None:
    src = _script_source()
    n, x = src.n, src.x
    period = n - x
    y = src.read(3 * period)[0]
    first, second = y[x:period], y[period + x : 2 * period]
    assert np.max(np.abs(first)) > 0.1 and np.max(np.abs(second)) > 0.1
    # not the same samples: far from identical at any small lag
    c = np.correlate(first[: 16000 * 20], second[: 16000 * 20 + 400], mode="valid")
    norm = np.sqrt(np.sum(first[: 16000 * 20] ** 2) * np.sum(second[: 16000 * 20] ** 2))
    assert np.max(np.abs(c)) / norm < 0.5
    # ... but the timing follows the script: speech where the script has its cues
    def env(v: np.ndarray) -> np.ndarray:
        k = len(v) // 1600
        return np.sqrt((v[: k * 1600] ** 2).reshape(k, 1600).mean(axis=1))

    assert np.corrcoef(env(first), env(second))[0, 1] > 0.5


def test_script_source_reads_are_block_size_independent_and_stop_without_loop() -> None:
    a = _script_source().read(200000)
    b_src = _script_source()
    b = np.concatenate([b_src.read(k) for k in (1, 99999, 37, 100000 - 37)], axis=1)
    np.testing.assert_array_equal(a, b)
    once = _script_source(loop=False)
    y = once.read(once.n + 16000)
    assert np.max(np.abs(y[:, : once.n])) > 0.1 and not np.any(y[:, once.n :])


def test_the_next_repetition_is_voiced_ahead_and_old_ones_are_dropped() -> None:
    src = _script_source()
    period = src.n - src.x
    src.read(16000)
    assert 1 in src._pending or 1 in src._cache  # voicing 1 started long before it is due
    src.read(period + src.x)  # now past the crossfade into repetition 1
    src.read(16000)
    assert sorted(src._cache) == [1] and 2 in src._pending


# -- intermittent trigger layers pause their source through the silences ---------------

class _CountingSource:
    """A mono source whose samples count how many it has given: 1, 2, 3, …"""

    def __init__(self) -> None:
        self.given = 0

    def read(self, n: int) -> np.ndarray:
        y = (self.given + 1 + np.arange(n, dtype=np.float64)).astype(np.float32)[None, :] * 1e-6
        self.given += n
        return y


def _counting_layer(seed: int = 3, ramp_s: float = 0.5):
    from susurrus.render.engine import LayerStream

    layer = Layer(trigger="tapping", variant="wood", spread="diffuse", gain_db=0,
                  activity=Activity(pattern="intermittent", on_fraction=0.3, mean_gap_s=3, ramp_s=ramp_s))
    scene = _scene(layers=[layer], duration_s=120, seed=seed)
    ls = LayerStream(layer, 0, scene)
    src = _CountingSource()
    ls._diffuse = None  # the counting source straight through (no decorrelation)
    ls._sources = [src]
    ls._source_rows = 1
    return ls, src


def test_silent_is_exactly_where_the_envelope_is_zero() -> None:
    from susurrus.render.activity import ActivityEnvelope

    act = Activity(pattern="intermittent", on_fraction=0.4, mean_gap_s=2, ramp_s=0.3)
    env = ActivityEnvelope(act, np.random.default_rng(8))
    t = np.arange(0, 60, 0.01)
    e = env(t)
    found = 0
    for a in range(0, len(t) - 20, 7):
        silent = env.silent(t[a], t[a + 20])
        if silent:
            found += 1
            assert np.all(e[a : a + 21] == 0.0), t[a]
        elif np.all(e[max(0, a - 40) : a + 21] == 0.0):  # zero for a ramp before: must be silent
            raise AssertionError(f"{t[a]:.2f} s: zero throughout but not reported silent")
    assert found > 100
    cont = ActivityEnvelope(Activity(), np.random.default_rng(0))
    assert not cont.silent(0.0, 10.0)


@pytest.mark.parametrize("cuts", [[65536], [1000, 7, 30000], [8192]])
def test_an_intermittent_trigger_source_waits_out_the_silences(cuts: list[int]) -> None:
    ls, src = _counting_layer()
    n_total = 30 * 48000
    parts, pos, i = [], 0, 0
    while pos < n_total:
        n = min(cuts[i % len(cuts)], n_total - pos)
        parts.append(ls.read(n))
        pos += n
        i += 1
    y = np.concatenate(parts, axis=1)[0].astype(np.float64)
    # the layer's own per-sample gains (the envelope, in float32)
    env = np.broadcast_to(ls.envelope.gains(0, n_total, 48000), (n_total,)).astype(np.float64)
    assert np.max(np.abs(env - ls.envelope(np.arange(n_total) / 48000))) < 1e-6
    # zero wherever the envelope is zero; the source gave fewer samples than were heard
    zero = np.count_nonzero(env == 0.0)
    assert np.all(y[env == 0.0] == 0.0) and zero > 0.3 * n_total
    # whole 8192-sample units are skipped: all of the silence but its ragged edges
    assert src.given < n_total - 0.7 * zero
    # where the envelope is on, the samples are the source's, in order, with no sample
    # lost or repeated across the pauses: dividing out the envelope recovers 1, 2, 3, …
    at = np.flatnonzero(env > 0.0)
    idx = np.round(y[at] / env[at] * 1e6)
    step, gap = np.diff(idx), np.diff(at)
    assert idx[0] >= 1 and idx[-1] <= src.given
    assert np.all(step[gap == 1] == 1)  # consecutive while heard
    # across a silence the source moved on by at most the time that passed, and at
    # least once it waited (fewer samples drawn than elapsed)
    assert np.all((step >= 1) & (step <= gap)) and np.any(step < gap)


def test_pausing_does_not_depend_on_how_reads_are_cut() -> None:
    scene = _scene(duration_s=40)
    from susurrus.render.engine import LayerStream

    def render(cuts: list[int]) -> np.ndarray:
        ls = LayerStream(scene.layers[1], 1, scene)
        out, pos, i = [], 0, 0
        while pos < 40 * 48000:
            n = min(cuts[i % len(cuts)], 40 * 48000 - pos)
            out.append(ls.read(n))
            pos += n
            i += 1
        return np.concatenate(out, axis=1)

    a = render([65536])
    assert np.array_equal(a, render([1, 5000, 8191, 8193, 777]))
    assert np.abs(a).max() > 0.01


@pytest.mark.parametrize("sr", [48000, 44100])
@pytest.mark.parametrize("pattern", ["continuous", "intermittent", "drift"])
def test_envelope_gains_per_sample_match_the_envelope(pattern: str, sr: int) -> None:
    from susurrus.render.activity import ActivityEnvelope

    act = Activity(pattern=pattern, on_fraction=0.5, mean_gap_s=2, ramp_s=0.4, depth_db=6, period_s=5)
    env = ActivityEnvelope(act, np.random.default_rng(5))
    n = 20 * sr
    want = env(np.arange(n) / sr)
    got, pos = [], 0
    for cut in [1, 479, 480, 481, 65536, 3, 10**7]:
        m = min(cut, n - pos)
        g = env.gains(pos, m, sr)
        got.append(np.full(m, g) if isinstance(g, float) else g)
        assert isinstance(g, float) or (g.dtype == np.float32 and g.shape == (m,))
        pos += m
    got_all = np.concatenate(got)
    assert np.max(np.abs(got_all - want)) < 1e-6
    if pattern == "drift":
        assert np.ptp(want) > 0.3  # it does move (6 dB deep)
    # the same values however the samples are cut
    again = np.concatenate([np.broadcast_to(env.gains(p, 4096, sr), (4096,)) for p in range(0, 8192 * 4, 4096)])
    assert np.array_equal(again, got_all[: 8192 * 4])


@pytest.mark.parametrize("sr", [48000, 44100])
@pytest.mark.parametrize("ramp_s", [0.05, 0.4, 3.0])
def test_intermittent_gains_follow_the_envelope_however_cut(sr: int, ramp_s: float) -> None:
    """The run-by-run intermittent envelope (single precision, from each sample's
    offset to its switch) follows the envelope to float32 rounding, also hours in
    where the times are large, and gives the same values however blocks are cut."""
    from susurrus.render.activity import ActivityEnvelope

    act = Activity(pattern="intermittent", on_fraction=0.4, mean_gap_s=1.5, ramp_s=ramp_s)
    env = ActivityEnvelope(act, np.random.default_rng(11))
    rng = np.random.default_rng(3)
    ramps = 0
    for start in (0, 3 * 3600 * sr + 17):
        pos, got = start, []
        for _ in range(40):
            m = int(rng.integers(1, 3 * sr))
            g = env.gains(pos, m, sr)
            got.append(np.full(m, g, dtype=np.float32) if isinstance(g, float) else g)
            want = env((pos + np.arange(m)) / sr)
            assert np.max(np.abs(got[-1] - want)) < 1e-6
            ramps += not isinstance(g, float)
            pos += m
        whole = np.concatenate(got)
        cut, p, sizes = [], start, [7, 48000, 1, 100_000, 3 * sr]
        while p < start + len(whole):  # the same samples cut otherwise
            k = min(sizes[len(cut) % len(sizes)], start + len(whole) - p)
            g = env.gains(p, k, sr)
            cut.append(np.full(k, g, dtype=np.float32) if isinstance(g, float) else g)
            p += k
        assert np.array_equal(np.concatenate(cut), whole)
    assert ramps > 20  # the blocks did cross switches and ramps
