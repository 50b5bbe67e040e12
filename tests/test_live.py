"""The live session: gain ramps, crossfades, adds and removes without clicks; the sleep
timer's exact end and smooth gain; determinism; bad input."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import scipy.signal as sps
from hypothesis import given, settings
from hypothesis import strategies as st

from susurrus.errors import ParameterError
from susurrus.render.live import GAIN_RAMP_S, LiveSession
from susurrus.scene import Layer, Master, Scene

SR = 48000
#: brown noise tilted a further −3 dB/oct: ≈ 1/f³, 58 dB down at 8 kHz from 100 Hz
DARK = {"tilt_db_per_oct": -3.0}
BED = Layer(name="bed", trigger="noise", variant="brown", params=DARK, spread="diffuse", gain_db=-6)


def _scene(*layers: Layer, **master: float | str | None) -> Scene:
    """Quiet, with ceilings far away: the master chain passes the mix through untouched."""
    m = {"target_lufs": -30.0, "momentary_max_lufs": 0.0, "true_peak_dbtp": 0.0, "fade_in_s": 0.0}
    m.update(master)
    return Scene(sr=SR, seed=11, duration_s=60, layers=list(layers) or [BED], master=Master(**m))


def _with(scene: Scene, *layers: Layer) -> Scene:
    return scene.model_copy(update={"layers": list(layers)})


def _read(s: LiveSession, seconds: float, block: int = 4800) -> np.ndarray:
    n = int(round(seconds * SR))
    parts = []
    while n > 0:
        y = s.read(min(block, n))
        if y.shape[1] == 0:
            break
        parts.append(y)
        n -= y.shape[1]
    return np.concatenate(parts, axis=1) if parts else np.zeros((s.channels, 0), np.float32)


def _hf_frames(y: np.ndarray, cutoff_hz: float = 8000.0) -> np.ndarray:
    """RMS per 10 ms frame of everything above ``cutoff_hz`` (8th-order Butterworth)."""
    sos = sps.butter(8, cutoff_hz, "highpass", fs=SR, output="sos")
    h = sps.sosfilt(sos, y.astype(np.float64), axis=1)
    hop = SR // 100
    n = h.shape[1] // hop
    return np.sqrt((h[:, : n * hop] ** 2).reshape(h.shape[0], n, hop).mean(axis=(0, 2)))


def _transient_ratio(
    y: np.ndarray, t_change_s: float, settle_s: float = 2.5
) -> tuple[float, float]:
    """How far the transition exceeds both steady states, in high-frequency energy per
    10 ms and in the largest sample-to-sample step (1.0: no more than the steadier side).

    The source is dark noise (almost nothing above 8 kHz): any click, step or zipper
    noise is broadband and shows above 8 kHz and in the first difference.
    """
    a, b = int(t_change_s * SR) - SR // 100, int((t_change_s + settle_s) * SR)
    hop = SR // 100
    fr = _hf_frames(y)  # filtered whole: no filter start-up inside the windows
    hf = [
        float(fr[i:j].max())
        for i, j in ((SR // 4 // hop, a // hop), (a // hop, b // hop), (b // hop, len(fr)))
    ]
    pre, mid, post = y[:, SR // 4 : a], y[:, a:b], y[:, b:]
    step = [float(np.abs(np.diff(x, axis=1)).max()) for x in (pre, mid, post)]
    return hf[1] / max(hf[0], hf[2]), step[1] / max(step[0], step[2])


def _band_db(y: np.ndarray, lo_hz: float) -> float:
    f, p = sps.welch(y.astype(np.float64), fs=SR, nperseg=4096, axis=1)
    return float(10 * np.log10(p[:, f >= lo_hz].sum()))


# -- known answers -------------------------------------------------------------------


def test_gain_update_is_exactly_the_new_gain_within_a_second() -> None:
    scene = _scene(
        Layer(name="pink", trigger="noise", variant="pink", spread="diffuse", gain_db=-6)
    )
    ref, live = LiveSession(scene), LiveSession(scene)
    y_ref = _read(ref, 4.0)
    before = _read(live, 1.0)
    live.update(_with(scene, scene.layers[0].model_copy(update={"gain_db": -18.0})))
    after = _read(live, 3.0)
    y = np.concatenate([before, after], axis=1)
    np.testing.assert_array_equal(y[:, :SR], y_ref[:, :SR])  # nothing changes before the update
    ratio = y[0] / y_ref[0]
    target = 10 ** (-12 / 20)
    done = np.flatnonzero(np.abs(ratio - target) > 1e-4).max() + 1
    assert done <= 2 * SR, f"fully applied {done / SR - 1:.2f} s after the update"
    assert done - np.flatnonzero(np.abs(ratio - 1) < 1e-4).max() >= 0.9 * GAIN_RAMP_S * SR  # a ramp
    # the same layer, only quieter: 2 s later the RMS is 12 dB down
    rms = lambda x: 20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)))  # noqa: E731
    assert rms(y[:, 3 * SR :]) - rms(y[:, SR // 4 : SR]) == pytest.approx(-12.0, abs=1.5)
    assert rms(y[:, 3 * SR :]) - rms(y_ref[:, 3 * SR :]) == pytest.approx(-12.0, abs=0.01)


def test_start_fade_in_is_an_equal_power_ramp_of_at_most_3_s() -> None:
    y0 = _read(LiveSession(_scene()), 4.0)
    y10 = _read(LiveSession(_scene(fade_in_s=10.0)), 4.0)
    n = 3 * SR
    g = np.sin(0.5 * np.pi * np.clip((np.arange(4 * SR) + 0.5) / n, 0, 1))
    np.testing.assert_allclose(y10, y0 * g, atol=1e-6)


# -- no clicks -----------------------------------------------------------------------


def _around_update(change, *, first: Scene | None = None) -> np.ndarray:
    scene = first or _scene()
    s = LiveSession(scene, crossfade_s=0.5)
    y0 = _read(s, 1.5)
    s.update(change(scene))
    return np.concatenate([y0, _read(s, 4.0)], axis=1)


PLACED = Layer(
    name="warm", trigger="noise", variant="brown", params=DARK, azimuth_deg=60, gain_db=-6
)


@pytest.mark.parametrize(
    ("what", "change", "first"),
    [
        ("gain", lambda sc: _with(sc, BED.model_copy(update={"gain_db": -20.0})), None),
        ("add", lambda sc: _with(sc, BED, PLACED), None),
        ("remove", lambda sc: _with(sc, BED), _scene(BED, PLACED)),
        (
            "placement",
            lambda sc: _with(sc, BED, PLACED.model_copy(update={"azimuth_deg": -80.0})),
            _scene(BED, PLACED),
        ),
    ],
)
def test_no_click_around_an_update(what: str, change, first: Scene | None) -> None:
    y = _around_update(change, first=first)
    hf, step = _transient_ratio(y, 1.5)
    assert hf < 1.5, f"{what}: high-frequency transient x{hf:.2f}"
    assert step < 1.3, f"{what}: sample step x{step:.2f}"


def test_the_click_criterion_catches_an_abrupt_switch() -> None:
    # the same output with the gain switched from 1 to 0.25 in one sample: a click
    y = _read(LiveSession(_scene()), 5.5).astype(np.float64)
    y[:, int(1.5 * SR) :] *= 0.25
    hf, step = _transient_ratio(y, 1.5)
    assert hf > 2.0 and step > 3.0, (hf, step)  # both criteria see it


# -- adding and removing -------------------------------------------------------------


def test_an_added_layer_is_heard_and_a_removed_one_is_gone() -> None:
    scene = _scene()
    white = Layer(name="hiss", trigger="noise", variant="white", spread="diffuse", gain_db=-20)
    s = LiveSession(scene)
    base = _band_db(_read(s, 1.0)[:, SR // 4 :], 6000)
    s.update(_with(scene, BED, white))
    _read(s, 2.0)  # pipeline + 1 s fade-in
    added = _band_db(_read(s, 1.0), 6000)
    s.update(scene)
    _read(s, 2.0)
    removed = _band_db(_read(s, 1.0), 6000)
    assert added - base > 20.0
    assert abs(removed - base) < 1.0
    assert len(s._voices) == 1  # the faded-out layer was dropped


def test_updates_from_another_thread_while_reading() -> None:
    scene = _scene()
    s = LiveSession(scene)
    scenes = [_with(scene, BED.model_copy(update={"gain_db": g})) for g in (-10.0, -14.0, -8.0)]
    errors: list[BaseException] = []

    def updater() -> None:
        try:
            for sc in scenes:
                s.update(sc)
        except BaseException as exc:
            errors.append(exc)

    th = threading.Thread(target=updater)
    th.start()
    y = _read(s, 3.0, block=1200)
    th.join()
    assert not errors
    assert y.shape == (2, 3 * SR) and np.isfinite(y).all()
    assert s.scene is scenes[-1]


# -- the sleep timer -----------------------------------------------------------------


def _timer_gain(y: np.ndarray, y_ref: np.ndarray) -> np.ndarray:
    """The gain the timer applied per sample (where the reference is not tiny)."""
    a, r = y[0].astype(np.float64), y_ref[0, : y.shape[1]].astype(np.float64)
    ok = np.abs(r) > 1e-3
    g = np.full(a.shape, np.nan)
    g[ok] = a[ok] / r[ok]
    return g


def _monotone_down(g: np.ndarray) -> bool:
    v = g[np.isfinite(g)]
    return bool(np.all(np.diff(v) <= 1e-4))


def test_timer_stops_exactly_with_a_raised_cosine_fade() -> None:
    ref, s = LiveSession(_scene()), LiveSession(_scene())
    y_ref = _read(ref, 5.0)
    head = _read(s, 0.5)
    s.set_timer(3.0, fade_s=2.0)
    tail = _read(s, 10.0, block=1000)
    assert tail.shape[1] == 3 * SR  # exactly, not just within a block
    assert s.finished and s.read(4800).shape == (2, 0)
    y = np.concatenate([head, tail], axis=1)
    i = np.arange(y.shape[1])
    fade_start = int(1.5 * SR)
    x = np.clip((i - fade_start) / (2 * SR), 0.0, 1.0)
    np.testing.assert_allclose(
        y, y_ref[:, : y.shape[1]] * (0.5 + 0.5 * np.cos(np.pi * x)), atol=1e-6
    )
    assert _monotone_down(_timer_gain(y, y_ref))


def test_timer_status_and_extend_during_the_fade_does_not_jump() -> None:
    ref, s = LiveSession(_scene()), LiveSession(_scene())
    y_ref = _read(ref, 6.0)
    assert s.timer_status() is None
    s.set_timer(3.0, fade_s=2.0)
    a = _read(s, 2.0)  # halfway through the fade
    st = s.timer_status()
    assert st == {"remaining_s": pytest.approx(1.0), "fade_s": 2.0, "fading": True}
    s.extend_timer(1.0)  # 2 s left, a 2 s fade: continue down from 0.5
    b = _read(s, 10.0)
    assert b.shape[1] == 2 * SR and s.finished
    g = _timer_gain(np.concatenate([a, b], axis=1), y_ref)
    assert _monotone_down(g)
    k = 2 * SR
    assert np.nanmax(np.abs(np.diff(g[k - 200 : k + 200]))) < 1e-3  # no jump at the extension
    assert np.nanmean(g[k - 50 : k + 50]) == pytest.approx(0.5, abs=0.01)


def test_extend_with_room_comes_back_up_then_fades_at_the_new_end() -> None:
    ref, s = LiveSession(_scene()), LiveSession(_scene())
    y_ref = _read(ref, 8.0)
    s.set_timer(3.0, fade_s=2.0)
    a = _read(s, 2.0)
    s.extend_timer(4.0)  # 5 s left: back to full level (≤ 1 s from 0.5), fade over the last 2 s
    b = _read(s, 10.0)
    assert b.shape[1] == 5 * SR
    g = _timer_gain(np.concatenate([a, b], axis=1), y_ref)
    k = 2 * SR
    assert np.nanmax(np.abs(np.diff(g[k - 200 :]))) < 1e-3
    assert np.nanmin(g[k + SR : 5 * SR]) == pytest.approx(1.0, abs=1e-4)
    assert _monotone_down(g[5 * SR :])


def test_cancel_during_the_fade_ramps_back_and_keeps_playing() -> None:
    ref, s = LiveSession(_scene()), LiveSession(_scene())
    y_ref = _read(ref, 7.0)
    s.set_timer(3.0, fade_s=2.0)
    a = _read(s, 2.0)
    s.cancel_timer()
    assert s.timer_status() is None
    b = _read(s, 5.0)
    assert b.shape[1] == 5 * SR and not s.finished
    g = _timer_gain(np.concatenate([a, b], axis=1), y_ref)
    k = 2 * SR
    assert np.nanmax(np.abs(np.diff(g[k - 200 :]))) < 1e-3  # smooth, never a jump
    assert np.all(np.diff(g[k : k + SR][np.isfinite(g[k : k + SR])]) >= -1e-4)  # only up
    assert np.nanmin(g[k + 2 * SR :]) == pytest.approx(1.0, abs=1e-4)  # within 2 s


def test_shortening_keeps_a_fade_safe_minimum_and_sleep_after_starts_a_timer() -> None:
    s = LiveSession(_scene())
    s.set_timer(30.0, fade_s=5.0)
    s.extend_timer(-100.0)
    assert s.timer_status()["remaining_s"] == pytest.approx(10.0)
    t = LiveSession(_scene(sleep_after_s=600.0, fade_out_s=90.0))
    assert t.timer_status() == {"remaining_s": 690.0, "fade_s": 90.0, "fading": False}
    t.update(
        t.scene.with_overrides(name="no timer").model_copy(
            update={"master": t.scene.master.model_copy(update={"sleep_after_s": None})}
        )
    )
    assert t.timer_status() is None


# -- determinism ---------------------------------------------------------------------


def test_same_scene_same_samples_whatever_the_read_size() -> None:
    scene = _scene(BED, PLACED)
    a = _read(LiveSession(scene), 2.0, block=1000)
    b = _read(LiveSession(scene), 2.0, block=4800)
    c = _read(LiveSession(scene), 2.0, block=777)
    assert a.dtype == np.float32 and a.shape == (2, 2 * SR)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_mono_output_has_one_channel() -> None:
    s = LiveSession(_scene(output="mono"))
    assert s.channels == 1 and s.read(1000).shape == (1, 1000)


# -- bad input -----------------------------------------------------------------------


def test_bad_input_names_the_parameter() -> None:
    scene = _scene()
    s = LiveSession(scene)
    with pytest.raises(ParameterError) as e:
        s.update(scene.model_copy(update={"sr": 44100}))
    assert e.value.name == "sr"
    with pytest.raises(ParameterError) as e:
        s.update(
            scene.model_copy(update={"master": scene.master.model_copy(update={"output": "mono"})})
        )
    assert e.value.name == "master.output"
    with pytest.raises(ParameterError) as e:
        s.set_timer(-1.0)
    assert e.value.name == "after_s"
    with pytest.raises(ParameterError) as e:
        s.extend_timer(60.0)
    assert e.value.name == "delta_s"
    with pytest.raises(ParameterError):
        s.read(-1)
    s.close()
    assert s.read(100).shape == (2, 0) and s.finished


def test_a_moved_recording_carries_on_where_it_was(tmp_path) -> None:
    import soundfile as sf

    # a 440 Hz tone getting louder: 0.02 → 0.5 over 8 s; a restart would drop to 0.02
    t = np.arange(8 * SR) / SR
    sf.write(tmp_path / "rise.wav", (0.02 + 0.06 * t) * np.sin(2 * np.pi * 440 * t), SR)
    rec = Layer(name="rise", kind="recording", path=str(tmp_path / "rise.wav"), azimuth_deg=0)
    scene = _scene(rec, normalize=False)
    s = LiveSession(scene)
    _read(s, 3.0)
    s.update(_with(scene, rec.model_copy(update={"azimuth_deg": 40.0})))
    y = _read(s, 2.0)
    amp = np.sqrt(2 * np.mean(y[:, SR:].astype(np.float64) ** 2))  # 4 … 5 s: ≈ 0.02 + 0.06·4.5
    assert amp > 0.5 * (0.02 + 0.06 * 4.0)


def test_a_new_target_ramps_the_master_gain_by_the_difference() -> None:
    scene = _scene()
    ref, live = LiveSession(scene), LiveSession(scene)
    y_ref = _read(ref, 3.0)
    a = _read(live, 1.0)
    live.update(
        scene.model_copy(update={"master": scene.master.model_copy(update={"target_lufs": -36.0})})
    )
    y = np.concatenate([a, _read(live, 2.0)], axis=1)
    np.testing.assert_allclose(
        y[:, 2 * SR :], y_ref[:, 2 * SR :] * 10 ** (-6 / 20), rtol=1e-4, atol=1e-7
    )
    assert _transient_ratio(y, 1.0, settle_s=1.0)[1] < 1.3


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["set", "extend", "cancel", "read"]),
            st.floats(0.5, 5.0),
            st.floats(-8.0, 8.0),
            st.integers(1, 30000),
        ),
        max_size=8,
    )
)
def test_timer_gain_never_jumps_whatever_the_calls(ops) -> None:
    s = LiveSession(_scene(normalize=False))
    applied: list[np.ndarray] = []
    timer_values = s._timer_values

    def record(t: int, n: int):
        g = timer_values(t, n)
        applied.append(np.broadcast_to(np.asarray(g, dtype=np.float64), (n,)))
        return g

    s._timer_values = record  # the gain read() applies, sample by sample
    total = 0
    for op, seconds, delta_s, n in ops:
        if op == "set":
            s.set_timer(seconds, fade_s=seconds * 0.8)
        elif op == "extend" and s.timer_status() is not None:
            s.extend_timer(delta_s)
        elif op == "cancel":
            s.cancel_timer()
        st_ = s.timer_status()
        y = s.read(n)
        total += y.shape[1]
        if st_ is not None:
            assert y.shape[1] == min(n, round(st_["remaining_s"] * SR))
        else:
            assert y.shape[1] == n
    g = np.concatenate(applied) if applied else np.ones(0)
    assert len(g) == total
    assert np.all((g >= 0.0) & (g <= 1.0))
    assert np.all(np.abs(np.diff(g)) < 1e-3)  # smooth: no step of more than 0.1 %


def test_a_recording_crossfaded_with_itself_is_seamless(tmp_path) -> None:
    import soundfile as sf

    # period_s means nothing to a static source: the rebuilt stream carries the same
    # audio, sample-aligned, and the equal-amplitude crossfade sums to exactly it
    rng = np.random.default_rng(5)
    sf.write(tmp_path / "n.wav", 0.1 * rng.standard_normal(6 * SR), SR)
    rec = Layer(name="n", kind="recording", path=str(tmp_path / "n.wav"), azimuth_deg=30)
    scene = _scene(rec, normalize=False)
    y_ref = _read(LiveSession(scene), 4.0)
    s = LiveSession(scene)
    a = _read(s, 1.0)
    s.update(_with(scene, rec.model_copy(update={"period_s": 40.0})))
    y = np.concatenate([a, _read(s, 3.0)], axis=1)
    # the rebuilt spatializer differs by < 1e-3 (−55 dB); 512 samples off (the spatial
    # pre-roll) would differ by 0.8, an equal-power bump (×√2 midway) by 0.1
    np.testing.assert_allclose(y, y_ref, atol=2e-3)
