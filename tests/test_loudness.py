"""Tests of the streaming BS.1770-4 / EBU R128 meter (susurrus.loudness).

Known answers are synthesised on the fly; pyloudnorm and ffmpeg's ebur128 filter are
the independent oracles.
"""

from __future__ import annotations

import itertools
import math
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
import scipy.signal as sps
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from susurrus import audio
from susurrus.errors import AudioError, ParameterError
from susurrus.loudness import (
    KWeighting,
    LoudnessMeter,
    LoudnessResult,
    TruePeak,
    integrated_loudness,
    k_weighting_sos,
    measure,
    measure_file,
    oversampling_factor,
    true_peak_dbtp,
)

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
HAVE_FFMPEG = Path(FFMPEG).exists()
SONIC_PI = Path("/usr/share/sonic-pi/samples")
needs_ffmpeg = pytest.mark.skipif(not HAVE_FFMPEG, reason="ffmpeg not installed")


# --------------------------------------------------------------------------- signals


def sine(
    sr: int,
    duration_s: float,
    freq_hz: float = 997.0,
    amp: float = 1.0,
    phase: float = 0.0,
    channels: int = 1,
) -> np.ndarray:
    t = np.arange(int(round(duration_s * sr))) / sr
    y = amp * np.sin(2 * np.pi * freq_hz * t + phase)
    return np.repeat(y[None, :], channels, axis=0).astype(np.float32)


def pinkish(rng: np.random.Generator, sr: int, duration_s: float, channels: int = 1) -> np.ndarray:
    """White noise through a 3-pole ~1/f filter (Paul Kellet), RMS 0.1."""
    b, a = sps.zpk2tf([0.98, 0.6, -0.05], [0.997, 0.95, 0.5], 1.0)
    x = sps.lfilter(b, a, rng.standard_normal((channels, int(round(duration_s * sr)))), axis=-1)
    return (0.1 * x / np.std(x)).astype(np.float32)


def speechlike(
    rng: np.random.Generator, sr: int, duration_s: float, channels: int = 1
) -> np.ndarray:
    """Bursts of band-passed noise (syllables of 80–300 ms) separated by pauses."""
    n = int(round(duration_s * sr))
    env = np.zeros(n)
    pos = 0
    while pos < n:
        length = int(rng.uniform(0.08, 0.3) * sr)
        gain = 10 ** (rng.uniform(-25, 0) / 20)
        env[pos : pos + length] = gain * np.hanning(length)[: n - pos]
        pos += length + int(rng.uniform(0.02, 0.6) * sr)
    sos = sps.butter(4, [300, 3400], btype="bandpass", fs=sr, output="sos")
    x = sps.sosfilt(sos, rng.standard_normal((channels, n)), axis=-1)
    return (0.3 * env * x / np.std(x)).astype(np.float32)


def tones(sr: int, duration_s: float, channels: int = 1) -> np.ndarray:
    t = np.arange(int(round(duration_s * sr))) / sr
    y = sum(0.2 / (k + 1) * np.sin(2 * np.pi * f * t + k) for k, f in enumerate((60, 440, 5000)))
    out = np.array([y * (1.0 - 0.3 * c) for c in range(channels)])
    return out.astype(np.float32)


def fade(y: np.ndarray, n: int = 256) -> np.ndarray:
    w = np.minimum(1.0, np.minimum(np.arange(y.shape[1]), np.arange(y.shape[1])[::-1]) / n)
    return (y * w).astype(np.float32)


def ffmpeg_summary(path: Path) -> dict[str, float]:
    out = subprocess.run(
        [
            FFMPEG,
            "-nostats",
            "-hide_banner",
            "-i",
            str(path),
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    summary = out[out.rfind("Summary:") :]
    found = {}
    for key, pat in (
        ("I", r"I:\s+(-?[\d.]+) LUFS"),
        ("LRA", r"LRA:\s+([\d.]+) LU"),
        ("TP", r"Peak:\s+(-?[\d.]+) dBFS"),
    ):
        m = re.search(pat, summary)
        assert m, f"no {key} in ffmpeg summary:\n{summary}"
        found[key] = float(m.group(1))
    return found


# --------------------------------------------------------------------------- K-weighting


def test_k_weighting_reproduces_the_bs1770_48k_table() -> None:
    sos = k_weighting_sos(48000)
    np.testing.assert_allclose(
        sos[0],
        [
            1.53512485958697,
            -2.69169618940638,
            1.19839281085285,
            1.0,
            -1.69065929318241,
            0.73248077421585,
        ],
        atol=1e-9,
    )
    np.testing.assert_allclose(
        sos[1], [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621], atol=1e-9
    )


@pytest.mark.parametrize("sr", [32000, 44100, 48000, 96000])
def test_k_weighting_response_at_any_rate(sr: int) -> None:
    # the analog prototype: +0.69 dB at 997 Hz (what the −0.691 offset undoes),
    # about +4 dB on the shelf, a steep high-pass below 38 Hz
    f = np.array([20.0, 997.0, 10000.0])
    _, h = sps.sosfreqz(k_weighting_sos(sr), worN=f, fs=sr)
    gain_db = 20 * np.log10(np.abs(h))
    assert gain_db[1] == pytest.approx(0.691, abs=0.02)
    assert 3.8 < gain_db[2] < 4.2
    assert gain_db[0] < -5.0


def test_k_weighting_stage_is_block_independent_and_resets() -> None:
    rng = np.random.default_rng(1)
    y = pinkish(rng, 48000, 0.5, channels=2)
    kw = KWeighting(48000, 2)
    whole = kw(y)
    kw.reset()
    parts = np.concatenate([kw(y[:, :997]), kw(y[:, 997:1000]), kw(y[:, 1000:])], axis=1)
    np.testing.assert_allclose(parts, whole, rtol=1e-12, atol=1e-15)
    assert whole.shape == y.shape and whole.dtype == np.float64
    assert "sr=48000" in repr(kw) and "channels=2" in repr(kw) and "Hz" in repr(kw)


# --------------------------------------------------------------------------- known answers


@pytest.mark.parametrize("sr", [44100, 48000])
def test_full_scale_997_hz_sine_reads_minus_3_01_lufs(sr: int) -> None:
    y = sine(sr, 5.0)
    r = measure(y, sr)
    assert r.integrated_lufs == pytest.approx(-3.01, abs=0.1)
    assert r.max_momentary_lufs == pytest.approx(-3.01, abs=0.1)
    assert r.max_short_term_lufs == pytest.approx(-3.01, abs=0.1)
    assert r.loudness_range_lu == pytest.approx(0.0, abs=0.01)
    assert r.sample_peak_dbfs == pytest.approx(0.0, abs=1e-3)
    assert r.true_peak_dbtp == pytest.approx(0.0, abs=0.2)
    assert r.duration_s == pytest.approx(5.0)
    # ×0.1 is exactly −20 LU
    quiet = measure((y * np.float32(0.1)).astype(np.float32), sr)
    assert quiet.integrated_lufs - r.integrated_lufs == pytest.approx(-20.0, abs=1e-4)
    assert integrated_loudness(y, sr) == pytest.approx(r.integrated_lufs, abs=1e-12)


def test_silence_is_minus_infinity() -> None:
    r = measure(np.zeros((2, 48000 * 4), np.float32), 48000)
    assert r.integrated_lufs == -math.inf
    assert r.max_momentary_lufs == -math.inf and r.max_short_term_lufs == -math.inf
    assert r.true_peak_dbtp == -math.inf and r.sample_peak_dbfs == -math.inf
    assert r.loudness_range_lu == 0.0
    empty = LoudnessMeter(48000, 2).result()
    assert empty.integrated_lufs == -math.inf and empty.duration_s == 0.0


def test_shorter_than_a_block_is_minus_infinity() -> None:
    r = measure(sine(48000, 0.35), 48000)  # no complete 400 ms block
    assert r.integrated_lufs == -math.inf and r.max_momentary_lufs == -math.inf
    assert r.sample_peak_dbfs == pytest.approx(0.0, abs=1e-3)


def test_tone_then_long_silence_integrates_like_the_tone_alone() -> None:
    sr = 48000
    tone = sine(sr, 10.0, amp=0.5)
    padded = np.concatenate([tone, np.zeros((1, 60 * sr), np.float32)], axis=1)
    # silent blocks fall below the absolute gate; only the three blocks straddling the
    # end (75 %, 50 %, 25 % tone) are new, which costs < 0.1 LU
    assert integrated_loudness(padded, sr) == pytest.approx(integrated_loudness(tone, sr), abs=0.1)


def test_quiet_passage_30_lu_down_is_gated_out() -> None:
    sr = 48000
    loud = sine(sr, 10.0, amp=0.1)  # about −23 LUFS
    quiet = sine(sr, 10.0, amp=0.1 * 10 ** (-30 / 20))  # 30 LU down, above −70
    both = np.concatenate([loud, quiet], axis=1)
    gated = integrated_loudness(both, sr)
    assert gated == pytest.approx(integrated_loudness(loud, sr), abs=0.1)
    # without the relative gate the mean energy would be ~3 LU lower
    ungated = -0.691 + 10 * np.log10(np.mean(sps.sosfilt(k_weighting_sos(sr), both[0]) ** 2))
    assert gated - ungated > 2.5


def test_loudness_range_known_answer() -> None:
    sr = 48000
    rng = np.random.default_rng(7)
    a = pinkish(rng, sr, 20.0)
    b = pinkish(rng, sr, 20.0)
    a *= np.float32(10 ** ((-20 - integrated_loudness(a, sr)) / 20))
    b *= np.float32(10 ** ((-30 - integrated_loudness(b, sr)) / 20))
    r = measure(np.concatenate([a, b], axis=1), sr)
    assert r.loudness_range_lu == pytest.approx(10.0, abs=1.0)
    assert r.max_short_term_lufs == pytest.approx(-20.0, abs=0.5)


@needs_ffmpeg
def test_loudness_range_agrees_with_ffmpeg(tmp_path: Path) -> None:
    sr = 48000
    rng = np.random.default_rng(8)
    a = pinkish(rng, sr, 20.0, channels=2)
    b = pinkish(rng, sr, 20.0, channels=2)
    a *= np.float32(10 ** ((-20 - integrated_loudness(a, sr)) / 20))
    b *= np.float32(10 ** ((-30 - integrated_loudness(b, sr)) / 20))
    y = np.concatenate([a, b], axis=1)
    path = tmp_path / "lra.wav"
    sf.write(path, y.T, sr, subtype="FLOAT")
    ref = ffmpeg_summary(path)
    r = measure(y, sr)
    assert r.loudness_range_lu == pytest.approx(ref["LRA"], abs=0.5)
    assert r.integrated_lufs == pytest.approx(ref["I"], abs=0.2)


@pytest.mark.parametrize("sr", [44100, 48000, 96000])
def test_true_peak_of_a_quarter_rate_sine_at_45_degrees(sr: int) -> None:
    # samples at ±sin(45°): sample peak −3.01 dB, the waveform between them reaches 1
    y = fade(sine(sr, 1.0, freq_hz=sr / 4, phase=np.pi / 4))
    r = measure(y, sr)
    assert r.sample_peak_dbfs == pytest.approx(-3.01, abs=0.05)
    assert r.true_peak_dbtp == pytest.approx(0.0, abs=0.2)
    assert true_peak_dbtp(y, sr) == r.true_peak_dbtp


def test_true_peak_oversampling_follows_annex_2() -> None:
    assert [oversampling_factor(sr) for sr in (44100, 48000, 88200, 96000, 192000)] == [
        4,
        4,
        4,
        2,
        1,
    ]
    # at 192 kHz there is no oversampling: the true peak is the sample peak
    y = fade(sine(192000, 0.2, freq_hz=48000, phase=np.pi / 4))
    assert true_peak_dbtp(y, 192000) == pytest.approx(-3.01, abs=0.05)


def test_true_peak_skipping_matches_exhaustive_oversampling() -> None:
    rng = np.random.default_rng(3)
    sr = 48000
    y = pinkish(rng, sr, 2.0, channels=2) + (0.05 * rng.standard_normal((2, 2 * sr))).astype(
        np.float32
    )
    y[:, 30000:30050] *= 6
    tp = TruePeak(sr, 2)
    taps = tp.H.shape[1]
    ext = np.concatenate([np.zeros((2, taps - 1)), y, np.zeros((2, taps // 2))], axis=1)
    windows = np.lib.stride_tricks.sliding_window_view(ext, taps, axis=-1)
    exhaustive = max(float(np.abs(windows @ tp.H.T).max()), float(np.abs(y).max()))
    tp(y)
    assert tp.peak_dbtp() == pytest.approx(20 * np.log10(exhaustive), abs=1e-9)
    assert "oversampling=4" in repr(tp)


# --------------------------------------------------------------------------- oracles


def _pyloudnorm(y: np.ndarray, sr: int) -> float:
    import pyloudnorm

    return float(pyloudnorm.Meter(sr).integrated_loudness(y.T.astype(np.float64)))


SIGNALS = {
    "noise": pinkish,
    "tones": lambda rng, sr, d, channels: tones(sr, d, channels),
    "speech": speechlike,
}


@pytest.mark.parametrize("sr", [44100, 48000, 32000])
@pytest.mark.parametrize("kind", sorted(SIGNALS))
@pytest.mark.parametrize("layout", ["mono", "stereo", "5.1"])
def test_agrees_with_pyloudnorm(sr: int, kind: str, layout: str) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{sr}-{kind}-{layout}".encode()))
    channels = {"mono": 1, "stereo": 2, "5.1": 5}[layout]
    y = SIGNALS[kind](rng, sr, 6.0, channels=channels)
    if layout == "5.1":
        # pyloudnorm weighs 5 channels L R C Ls Rs (1, 1, 1, 1.41, 1.41); ours is
        # L R C LFE Ls Rs in WAV order with the LFE excluded: give it a loud LFE
        lfe = sine(sr, 6.0, freq_hz=50.0, amp=0.9)
        ours = np.concatenate([y[:3], lfe, y[3:]], axis=0)
    else:
        ours = y
    assert integrated_loudness(ours, sr) == pytest.approx(_pyloudnorm(y, sr), abs=0.1)


@needs_ffmpeg
@pytest.mark.parametrize("name", ["ambi_sauna.flac", "ambi_glass_rub.flac"])
def test_agrees_with_ffmpeg_on_a_recording(name: str) -> None:
    path = SONIC_PI / name
    if not path.exists():
        pytest.skip(f"{path} not installed")
    ref = ffmpeg_summary(path)
    r = measure_file(path)
    assert r.integrated_lufs == pytest.approx(ref["I"], abs=0.2)
    y, sr = audio.read(path)
    # the file path streams; same numbers as in memory
    np.testing.assert_allclose(_fields(measure(y, sr)), _fields(r), rtol=1e-9)


@needs_ffmpeg
def test_agrees_with_ffmpeg_on_synthetic_signals(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    sr = 44100
    for i, y in enumerate(
        [
            speechlike(rng, sr, 8.0, channels=2),
            fade(sine(sr, 5.0, freq_hz=997.0, amp=0.5, channels=2)),
        ]
    ):
        path = tmp_path / f"s{i}.wav"
        sf.write(path, y.T, sr, subtype="FLOAT")
        ref = ffmpeg_summary(path)
        r = measure(y, sr)
        assert r.integrated_lufs == pytest.approx(ref["I"], abs=0.2)
        assert r.true_peak_dbtp == pytest.approx(ref["TP"], abs=0.2)


# --------------------------------------------------------------------------- layouts


def test_51_weights_exclude_lfe_and_boost_surrounds() -> None:
    sr = 48000
    s = sine(sr, 3.0, amp=0.25)
    silent = np.zeros_like(s)

    def on(ch: int) -> float:
        y = np.concatenate([s if c == ch else silent for c in range(6)], axis=0)
        return integrated_loudness(y, sr)

    assert on(3) == -math.inf  # LFE
    assert on(0) == pytest.approx(on(2), abs=1e-9)  # L and C weigh the same
    assert on(4) - on(0) == pytest.approx(10 * np.log10(1.41), abs=1e-6)  # Ls
    assert on(5) == pytest.approx(on(4), abs=1e-9)


def test_stereo_is_the_sum_of_channel_powers() -> None:
    sr = 48000
    mono = integrated_loudness(sine(sr, 3.0, amp=0.3), sr)
    stereo = integrated_loudness(sine(sr, 3.0, amp=0.3, channels=2), sr)
    assert stereo - mono == pytest.approx(10 * np.log10(2), abs=1e-6)


def test_explicit_channel_weights_for_other_layouts() -> None:
    m = LoudnessMeter(48000, 4, channel_weights=[1, 1, 1.41, 1.41])
    m.process(sine(48000, 1.0, amp=0.1, channels=4))
    assert math.isfinite(m.result().integrated_lufs)
    with pytest.raises(ParameterError) as e:
        LoudnessMeter(48000, 2, channel_weights=[1.0])
    assert e.value.name == "channel_weights"


# --------------------------------------------------------------------------- curves


def test_momentary_and_short_term_curves() -> None:
    sr = 44100
    m = LoudnessMeter(sr, 1)
    m.process(sine(sr, 5.0, amp=0.5))
    t_m, l_m = m.momentary_lufs()
    t_s, l_s = m.short_term_lufs()
    np.testing.assert_allclose(t_m, np.arange(4, 51) / 10)  # window ends, 100 ms hop
    np.testing.assert_allclose(t_s, np.arange(30, 51) / 10)
    expected = -3.01 + 20 * np.log10(0.5)
    np.testing.assert_allclose(l_m, expected, atol=0.1)
    np.testing.assert_allclose(l_s, expected, atol=0.1)
    r = m.result()
    assert r.max_momentary_lufs == pytest.approx(l_m.max())
    assert r.max_short_term_lufs == pytest.approx(l_s.max())
    assert isinstance(r, LoudnessResult)
    with pytest.raises(AttributeError):
        r.integrated_lufs = 0.0  # type: ignore[misc]


def test_momentary_follows_a_step() -> None:
    sr = 48000
    y = np.concatenate([sine(sr, 2.0, amp=0.01), sine(sr, 2.0, amp=0.5)], axis=1)
    m = LoudnessMeter(sr, 1, true_peak=False)
    m.process(y)
    t, lm = m.momentary_lufs()
    assert lm[t <= 2.0].max() < -40 and lm[t >= 2.4].min() > -10
    assert math.isnan(m.result().true_peak_dbtp)  # not measured


# --------------------------------------------------------------------------- streaming


def _fields(r: LoudnessResult) -> np.ndarray:
    return np.array(
        [
            r.integrated_lufs,
            r.loudness_range_lu,
            r.true_peak_dbtp,
            r.sample_peak_dbfs,
            r.max_momentary_lufs,
            r.max_short_term_lufs,
            r.duration_s,
        ]
    )


def _assert_same(a: LoudnessMeter, b: LoudnessMeter) -> None:
    np.testing.assert_allclose(_fields(a.result()), _fields(b.result()), rtol=1e-9)
    for curve in ("momentary_lufs", "short_term_lufs"):
        (ta, va), (tb, vb) = getattr(a, curve)(), getattr(b, curve)()
        np.testing.assert_array_equal(ta, tb)
        np.testing.assert_allclose(va, vb, rtol=1e-9)


_STREAM_SR = 44100
_STREAM_Y = np.concatenate(
    [
        speechlike(np.random.default_rng(5), _STREAM_SR, 3.6, channels=2),
        fade(sine(_STREAM_SR, 0.5, freq_hz=_STREAM_SR / 4, phase=np.pi / 4, amp=0.9, channels=2)),
    ],
    axis=1,
)


def _meter_in_blocks(y: np.ndarray, sr: int, cuts: list[int]) -> LoudnessMeter:
    m = LoudnessMeter(sr, y.shape[0])
    edges = [0, *sorted(c % (y.shape[1] + 1) for c in cuts), y.shape[1]]
    for a, b in itertools.pairwise(edges):
        m.process(y[:, a:b])  # empty blocks included
    return m


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, _STREAM_Y.shape[1]), max_size=40))
def test_block_size_independence_property(cuts: list[int]) -> None:
    whole = _meter_in_blocks(_STREAM_Y, _STREAM_SR, [])
    _assert_same(_meter_in_blocks(_STREAM_Y, _STREAM_SR, cuts), whole)


def test_blocks_of_1_997_65536_give_the_same_results() -> None:
    sr = 8000
    y = np.concatenate(
        [
            speechlike(np.random.default_rng(9), sr, 3.3),
            fade(sine(sr, 0.3, freq_hz=sr / 4, phase=np.pi / 4)),
        ],
        axis=1,
    )
    meters = []
    for block in (1, 997, 65536):
        m = LoudnessMeter(sr, 1)
        for start in range(0, y.shape[1], block):
            m.process(y[:, start : start + block])
        meters.append(m)
    _assert_same(meters[0], meters[2])
    _assert_same(meters[1], meters[2])


@pytest.mark.parametrize("block", [4410, 4411, 8820, 13229])
def test_blocks_ending_on_and_next_to_100_ms_edges(block: int) -> None:
    y = _STREAM_Y  # 44.1 kHz: a 100 ms step is 4410 samples
    m = LoudnessMeter(_STREAM_SR, 2)
    for start in range(0, y.shape[1], block):
        m.process(y[:, start : start + block])
    _assert_same(m, _meter_in_blocks(y, _STREAM_SR, []))


def test_reading_does_not_disturb_the_stream() -> None:
    y = _STREAM_Y
    a = LoudnessMeter(_STREAM_SR, 2)
    for start in range(0, y.shape[1], 20000):
        a.process(y[:, start : start + 20000])
        a.result()
        a.momentary_lufs()
    b = LoudnessMeter(_STREAM_SR, 2)
    b.process(y)
    _assert_same(a, b)
    a.reset()
    assert a.result().duration_s == 0.0 and a.result().true_peak_dbtp == -math.inf
    assert "LoudnessMeter(sr=44100, channels=2" in repr(a)


def test_measure_file_streams_in_any_block_size(tmp_path: Path) -> None:
    y = _STREAM_Y
    path = tmp_path / "x.wav"
    sf.write(path, y.T, _STREAM_SR, subtype="FLOAT")
    a = measure_file(path, block_size=997)
    b = measure_file(path)
    np.testing.assert_allclose(_fields(a), _fields(b), rtol=1e-9)
    np.testing.assert_allclose(_fields(b), _fields(measure(y, _STREAM_SR)), rtol=1e-9)


# --------------------------------------------------------------------------- bad input


def test_bad_input_raises_the_right_error() -> None:
    m = LoudnessMeter(48000, 2)
    bad = np.zeros((2, 100), np.float32)
    bad[1, 50] = np.nan
    with pytest.raises(AudioError, match="non-finite"):
        m.process(bad)
    with pytest.raises(AudioError, match="float32"):
        m.process(np.zeros((2, 100), np.float64))
    with pytest.raises(AudioError, match="shape"):
        m.process(np.zeros(100, np.float32))
    with pytest.raises(AudioError, match="shape"):
        m.process(np.zeros((3, 100), np.float32))
    with pytest.raises(AudioError):
        m.process([[0.0], [0.0]])  # type: ignore[arg-type]
    assert m.result().duration_s == 0.0  # rejected blocks leave no trace
    for channels in (7, 3, 0):
        with pytest.raises(ParameterError) as e:
            LoudnessMeter(48000, channels)
        assert e.value.name == "channels"
    with pytest.raises(ParameterError) as e:
        measure(np.zeros((7, 4800), np.float32), 48000)
    assert e.value.name == "channels" and "channels" in str(e.value)
    for sr in (0, -44100, 44100.5, 10**7):
        with pytest.raises(ParameterError) as e:
            LoudnessMeter(sr, 2)  # type: ignore[arg-type]
        assert e.value.name == "sr"
    with pytest.raises(ParameterError):
        integrated_loudness(np.zeros((1, 100), np.float32), 0)
