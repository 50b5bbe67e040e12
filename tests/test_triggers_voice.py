"""Known-answer tests for the voice triggers: ``whisper`` and ``soft-speaking``.

The voicing detector used here: 30 ms frames (hop 15 ms) whose RMS is within 35 dB of
the loud frames (99th percentile) are *active*; an active frame is *voiced* when its
energy-normalised autocorrelation ``r(τ) / sqrt(E[0:n-τ] E[τ:n])`` peaks above 0.5 for a
lag τ in 2.5–16.7 ms (a fundamental of 60–400 Hz).
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.signal as sps

from susurrus.errors import ParameterError, SusurrusError
from susurrus.triggers import _voice
from susurrus.triggers._voice import PhraseFileError, VoiceEngineError, synthesise_phrase
from susurrus.triggers.soft_speaking import SoftSpeaking
from susurrus.triggers.whisper import Whisper

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed"
)

SR = 48000
ALSA = Path("/usr/share/sounds/alsa")
#: 5–9 kHz vs 0.3–3 kHz energy (dB) pooled over the eight ALSA channel-name recordings
#: (Front_Center … Side_Right, alsa-utils), measured with the same Welch estimate
REAL_SPEECH_SIBILANCE_DB = -12.1


def voiced_fraction(
    y: np.ndarray, sr: int, *, frame_s: float = 0.03, gate_db: float = -35.0, threshold: float = 0.5
) -> float:
    """Share of active frames with a periodicity peak > ``threshold`` at 60–400 Hz."""
    n = int(frame_s * sr)
    hop = n // 2
    nf = (len(y) - n) // hop + 1
    idx = np.arange(n)[None, :] + hop * np.arange(nf)[:, None]
    fr = y[idx] - y[idx].mean(axis=1, keepdims=True)
    rms = np.sqrt(np.mean(fr**2, axis=1))
    gate = max(1e-4, float(np.percentile(rms, 99)) * 10 ** (gate_db / 20))
    act = fr[rms > gate]
    assert len(act) > 20, "too few active frames to judge"
    lmin, lmax = int(sr / 400), int(sr / 60)
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    spec = np.fft.rfft(act, nfft)
    r = np.fft.irfft(np.abs(spec) ** 2, nfft)[:, : lmax + 1]
    c = np.cumsum(np.concatenate([np.zeros((len(act), 1)), act**2], axis=1), axis=1)
    lags = np.arange(lmin, lmax + 1)
    e1 = c[:, n - lags]
    e2 = c[:, n : n + 1] - c[:, lags]
    nr = r[:, lags] / np.sqrt(e1 * e2 + 1e-20)
    return float(np.mean(nr.max(axis=1) > threshold))


def sibilance_db(y: np.ndarray, sr: int) -> float:
    """Energy in 5–9 kHz relative to 0.3–3 kHz (dB), Welch PSD."""
    f, p = sps.welch(y, sr, nperseg=2048)
    return float(
        10 * np.log10(p[(f >= 5000) & (f <= 9000)].sum() / p[(f >= 300) & (f <= 3000)].sum())
    )


def regions(y: np.ndarray, sr: int, *, merge_s: float = 0.15) -> list[tuple[int, int]]:
    """Runs of non-zero samples, merging gaps of exact silence shorter than ``merge_s``."""
    nz = np.flatnonzero(np.abs(y) > 0)
    if nz.size == 0:
        return []
    gaps = np.flatnonzero(np.diff(nz) > merge_s * sr)
    starts = np.concatenate([[nz[0]], nz[gaps + 1]])
    ends = np.concatenate([nz[gaps], [nz[-1]]]) + 1
    return list(zip(starts.tolist(), ends.tolist()))


def render(cls: type, variant: str, seconds: float, seed: int = 0, **params: float) -> np.ndarray:
    return (
        cls(sr=SR, rng=np.random.default_rng(seed), variant=variant, **params)
        .render(seconds)[0]
        .astype(np.float64)
    )


# -- voicing -------------------------------------------------------------------------


def test_voicing_detector_separates_tone_from_noise() -> None:
    t = np.arange(SR) / SR
    tone = 0.1 * np.sin(2 * np.pi * 150 * t) + 0.05 * np.sin(2 * np.pi * 300 * t)
    noise = np.random.default_rng(0).standard_normal(SR) * 0.1
    assert voiced_fraction(tone, SR) > 0.95
    assert voiced_fraction(noise, SR) < 0.05


@pytest.mark.parametrize("variant", ["female", "male", "counting", "breathing-cues"])
def test_whisper_is_unvoiced(variant: str) -> None:
    y = render(Whisper, variant, 14.0)
    assert voiced_fraction(y, SR) < 0.10


@pytest.mark.parametrize("variant", ["female", "male"])
def test_soft_speaking_is_voiced(variant: str) -> None:
    y = render(SoftSpeaking, variant, 12.0)
    assert voiced_fraction(y, SR) > 0.30


# -- level -------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "variant"), [(Whisper, "female"), (SoftSpeaking, "male")])
def test_level_and_peak(cls: type, variant: str) -> None:
    y = render(cls, variant, 12.0)
    assert np.max(np.abs(y)) <= 10 ** (-3 / 20)
    frames = y[: len(y) // 960 * 960].reshape(-1, 960)
    e = np.sqrt(np.mean(frames**2, axis=1))
    active_db = 20 * np.log10(np.sqrt(np.mean(e[e > 0.1 * e.max()] ** 2)))
    assert -24.0 < active_db < -14.0


# -- never identical -----------------------------------------------------------------


def test_repeated_words_are_never_sample_identical() -> None:
    # counting down from 3 says "three", "two", "one" again and again
    y = render(Whisper, "counting", 24.0, count_from=3, pause_s=0.6, breaths=0.0)
    segs = [y[a:b] for a, b in regions(y, SR, merge_s=0.3)]
    assert len(segs) >= 10
    for i in range(len(segs)):
        for j in range(i + 1, len(segs)):
            a, b = segs[i], segs[j]
            assert not (len(a) == len(b) and np.array_equal(a, b))
    # the same word three steps apart: fresh noise, so no waveform correlation
    for i in range(len(segs) - 3):
        a, b = segs[i], segs[i + 3]
        n = min(len(a), len(b))
        xc = sps.correlate(a[:n], b[:n], mode="full", method="fft")
        assert np.max(np.abs(xc)) / np.sqrt(np.sum(a[:n] ** 2) * np.sum(b[:n] ** 2)) < 0.5


# -- breaths --------------------------------------------------------------------------


def _quiet_regions(y: np.ndarray) -> int:
    """Regions more than 8 dB below the median region RMS (breaths, not words)."""
    rs = regions(y, SR, merge_s=0.1)
    rms = np.array([np.sqrt(np.mean(y[a:b] ** 2)) for a, b in rs])
    return int(np.sum(rms < np.median(rms) * 10 ** (-8 / 20)))


def test_no_breaths_at_zero_and_breaths_when_asked() -> None:
    quiet = render(Whisper, "counting", 24.0, count_from=5, pause_s=1.5, breaths=0.0)
    breathy = render(Whisper, "counting", 24.0, count_from=5, pause_s=1.5, breaths=1.0)
    n_words = len(regions(quiet, SR))
    assert n_words >= 8
    assert _quiet_regions(quiet) == 0
    # between the words, nothing at all: the pauses are exact silence
    rs = regions(quiet, SR)
    for (_, e0), (s1, _) in itertools.pairwise(rs):
        assert np.sum(quiet[e0:s1] ** 2) == 0.0
    assert _quiet_regions(breathy) >= 5


def test_soft_speaking_breaths_zero_leaves_pauses_silent() -> None:
    y = render(SoftSpeaking, "female", 16.0, breaths=0.0, pause_s=1.5)
    assert _quiet_regions(y) == 0


# -- pacing ----------------------------------------------------------------------------


def test_breathing_cues_follow_the_breath_rate() -> None:
    rate = 10.0
    cycle = 60.0 / rate
    y = render(Whisper, "breathing-cues", 4 * cycle, breath_rate_per_min=rate, breaths=0.0)
    onsets = np.array([a for a, _ in regions(y, SR, merge_s=0.5)]) / SR
    expected = np.sort(np.concatenate([np.arange(4) * cycle, np.arange(4) * cycle + 0.4 * cycle]))
    assert len(onsets) == len(expected)
    assert np.all(np.abs(onsets - expected) < 0.1 * cycle)


def test_slower_rate_makes_longer_utterances() -> None:
    def speech_s(rate: float) -> float:
        y = render(Whisper, "female", 20.0, rate_wpm=rate, breaths=0.0)
        return sum(b - a for a, b in regions(y, SR)) / SR

    assert speech_s(70.0) > 1.2 * speech_s(150.0)


# -- de-essing ------------------------------------------------------------------------


def _real_speech_sibilance() -> float:
    names = [
        "Front_Center",
        "Front_Left",
        "Front_Right",
        "Rear_Center",
        "Rear_Left",
        "Rear_Right",
        "Side_Left",
        "Side_Right",
    ]
    if not all((ALSA / f"{n}.wav").is_file() for n in names):
        return REAL_SPEECH_SIBILANCE_DB
    import soundfile as sf

    y = np.concatenate([sf.read(str(ALSA / f"{n}.wav"), always_2d=True)[0][:, 0] for n in names])
    return sibilance_db(y, 48000)


def test_de_essing_tames_sibilants() -> None:
    ys, esr = _voice.espeak_render(
        ["sister sees six silly snakes, sss"], voice="en-us+f3", speed_wpm=105
    )
    le, p, h = _voice.lpc_envelopes(ys[0], esr)
    eq = _voice.voice_eq(_voice.synthesis_freqs(SR), closeness=0.4, brightness=0.35)
    raw = _voice.whisper_from_envelopes(
        le, p, h, esr, sr=SR, rng=np.random.default_rng(0), gain_fn=eq, deess_db=60.0
    )
    tamed = _voice.whisper_from_envelopes(
        le, p, h, esr, sr=SR, rng=np.random.default_rng(0), gain_fn=eq
    )
    assert sibilance_db(tamed, SR) < sibilance_db(raw, SR) - 3.0


@pytest.mark.parametrize(
    ("cls", "variant", "margin_db"),
    [(Whisper, "female", 0.0), (Whisper, "male", 0.0), (SoftSpeaking, "female", 10.0)],
)
def test_less_sibilant_than_real_speech(cls: type, variant: str, margin_db: float) -> None:
    bound = min(_real_speech_sibilance(), REAL_SPEECH_SIBILANCE_DB + 1.0)
    y = render(cls, variant, 16.0, breaths=0.0)
    assert sibilance_db(y, SR) < bound - margin_db


# -- phrases ------------------------------------------------------------------------


def test_package_phrases_load() -> None:
    assert len(_voice.load_phrases("attention.txt")) >= 40
    assert len(_voice.load_phrases("counting.txt")) >= 20
    assert len(_voice.load_phrases("soft_speaking.txt")) >= 20
    assert all(not p.startswith("#") for p in _voice.load_phrases("attention.txt"))


def test_phrases_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "attention.txt").write_text("# mine\nhello there\n\n  you are  here  \n")
    monkeypatch.setenv(_voice.PHRASES_ENV, str(tmp_path))
    w = Whisper(sr=SR, rng=np.random.default_rng(0), variant="female")
    assert w.phrases == ["hello there", "you are here"]
    assert np.max(np.abs(w.render(3.0))) > 0.01


def test_phrase_file_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_voice.PHRASES_ENV, str(tmp_path))
    with pytest.raises(PhraseFileError, match=r"attention\.txt"):
        Whisper(sr=SR, rng=np.random.default_rng(0), variant="female")
    (tmp_path / "attention.txt").write_text("# only a comment\n\n")
    with pytest.raises(PhraseFileError, match="no phrases"):
        Whisper(sr=SR, rng=np.random.default_rng(0), variant="female")
    (tmp_path / "counting.txt").write_text("one\ntwo\nthree\n")
    with pytest.raises(PhraseFileError, match="count_from"):
        Whisper(sr=SR, rng=np.random.default_rng(0), variant="counting", count_from=5)
    (tmp_path / "breathing_cues.txt").write_text("in: breathe in\n")
    with pytest.raises(PhraseFileError, match="out:"):
        Whisper(sr=SR, rng=np.random.default_rng(0), variant="breathing-cues")
    (tmp_path / "breathing_cues.txt").write_text("in: breathe in\nsideways: hmm\n")
    with pytest.raises(PhraseFileError):
        Whisper(sr=SR, rng=np.random.default_rng(0), variant="breathing-cues")
    assert issubclass(PhraseFileError, SusurrusError)


def test_missing_espeak_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_voice.shutil, "which", lambda name: None)
    with pytest.raises(VoiceEngineError, match="apt-get install espeak-ng"):
        Whisper(sr=SR, rng=np.random.default_rng(0), variant="female")


# -- contract: determinism, blocks, parameters -----------------------------------------


@pytest.mark.parametrize(("cls", "variant"), [(Whisper, "male"), (SoftSpeaking, "female")])
def test_determinism(cls: type, variant: str) -> None:
    a = render(cls, variant, 8.0, seed=3)
    b = render(cls, variant, 8.0, seed=3)
    c = render(cls, variant, 8.0, seed=4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(("cls", "variant"), [(Whisper, "breathing-cues"), (SoftSpeaking, "male")])
def test_block_size_independence(cls: type, variant: str) -> None:
    n = 8 * SR
    whole = cls(sr=SR, rng=np.random.default_rng(5), variant=variant).read(n)
    t = cls(sr=SR, rng=np.random.default_rng(5), variant=variant)
    parts, got, sizes = [], 0, [1, 4099, 17, 65536, 333]
    i = 0
    while got < n:
        k = min(sizes[i % len(sizes)], n - got)
        parts.append(t.read(k))
        got += k
        i += 1
    assert np.array_equal(whole, np.concatenate(parts, axis=1))


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("breaths", 1.5, "0 to 1"),
        ("rate_wpm", 10.0, "50 wpm to 200 wpm"),
        ("breath_rate_per_min", 30.0, "3 1/min to 12 1/min"),
        ("count_from", 2.0, "3 to 20"),
        ("pause_s", float("nan"), "0.3 s to 10 s"),
    ],
)
def test_bad_whisper_params(name: str, value: float, allowed: str) -> None:
    with pytest.raises(ParameterError) as err:
        Whisper(sr=SR, rng=np.random.default_rng(0), variant="female", **{name: value})
    msg = str(err.value)
    assert f"whisper.{name}" in msg and allowed in msg and repr(value) in msg


def test_bad_soft_speaking_param() -> None:
    with pytest.raises(ParameterError, match=r"soft-speaking\.rate_wpm=40\.0.*80 wpm to 200 wpm"):
        SoftSpeaking(sr=SR, rng=np.random.default_rng(0), rate_wpm=40.0)


# -- the reusable one-shot function ------------------------------------------------------


def test_synthesise_phrase() -> None:
    rng = np.random.default_rng(0)
    w = synthesise_phrase("you are doing so well", sr=22050, rng=rng, voice="male")
    assert w.ndim == 1 and np.all(np.isfinite(w)) and 0.4 < np.max(np.abs(w)) <= 0.5 + 1e-9
    assert 0.7 < len(w) / 22050 < 4.0
    assert voiced_fraction(w, 22050) < 0.10
    v = synthesise_phrase("you are doing so well", sr=22050, rng=rng, whisper=False)
    assert voiced_fraction(v, 22050) > 0.30
    with pytest.raises(ParameterError, match="voice"):
        synthesise_phrase("hi", sr=SR, rng=rng, voice="robot")
    with pytest.raises(ParameterError, match="text"):
        synthesise_phrase("  ", sr=SR, rng=rng)
