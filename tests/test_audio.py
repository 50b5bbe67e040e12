"""Audio validation and file I/O: formats, chunked atomic writes, bad files."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import soundfile as sf

from susurrus import _flac, audio
from susurrus.errors import AudioError, AudioFileError, AudioWarning, ParameterError
from susurrus.units import amp_to_db, db_to_amp, format_duration, parse_duration


@pytest.mark.parametrize("ext", [".wav", ".flac", ".ogg"])
def test_write_read_round_trip(tmp_path, ext: str) -> None:
    t = np.arange(48000 * 3 + 17) / 48000
    y = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)])
    y = y.astype(np.float32)
    p = audio.write(tmp_path / f"x{ext}", y, 48000)
    back, sr = audio.read(p)
    assert sr == 48000 and back.shape == y.shape and back.dtype == np.float32
    if ext != ".ogg":  # lossless: 24-bit quantisation only
        assert np.max(np.abs(back - y)) < 2e-6
    else:
        assert np.corrcoef(back[0], y[0])[0, 1] > 0.99
    assert not [q for q in tmp_path.iterdir() if q.name.endswith(".partial")]


def test_long_ogg_is_written_in_chunks(tmp_path) -> None:
    # libsndfile 1.2.2 crashes on one-shot OGG writes of a minute or more
    y = (0.1 * np.random.default_rng(1).standard_normal((2, 48000 * 70))).astype(np.float32)
    p = audio.write(tmp_path / "long.ogg", y, 48000)
    assert audio.info(p).frames == y.shape[1]


def test_mp3_can_be_read(tmp_path) -> None:
    y = (0.2 * np.sin(np.linspace(0, 2000, 44100))).astype(np.float32)[None]
    p = tmp_path / "x.mp3"
    try:
        sf.write(p, y.T, 44100, format="MP3")
    except Exception:
        pytest.fail("libsndfile cannot write MP3 here; MP3 reading cannot be checked")
    back, sr = audio.read(p)
    assert sr == 44100 and back.shape[0] == 1 and back.shape[1] >= 44100 - 2000


def test_rf64_chosen_past_4gb(tmp_path) -> None:
    w = audio.AudioWriter(tmp_path / "big.wav", sr=48000, channels=2, expected_frames=10 * 3600 * 48000)
    w.write(np.zeros((2, 1000), np.float32))
    w.close()
    assert audio.info(tmp_path / "big.wav").format == "RF64"


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"RIFF\x00\x00\x00\x00WAVEjunkjunk", "not a readable audio file"),
     (b"this is a text file, not audio" * 10, "not a readable audio file")],
)
def test_bad_files_give_clear_errors(tmp_path, content: bytes, message: str) -> None:
    p = tmp_path / "bad.wav"
    p.write_bytes(content)
    with pytest.raises(AudioFileError, match=message):
        audio.read(p)
    with pytest.raises(AudioFileError, match="no such file"):
        audio.info(tmp_path / "missing.flac")


def test_truncated_flac_is_an_error_not_a_crash(tmp_path) -> None:
    y = (0.1 * np.random.default_rng(2).standard_normal((1, 48000 * 2))).astype(np.float32)
    p = audio.write(tmp_path / "t.flac", y, 48000)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    try:
        back, _ = audio.read(p)  # libsndfile may return the readable part …
        assert back.shape[1] < y.shape[1]
    except AudioFileError:  # … or refuse it; both are clear outcomes
        pass


def test_nan_audio_is_rejected(tmp_path) -> None:
    y = np.zeros((1, 100), np.float32)
    y[0, 5] = np.nan
    with pytest.raises(AudioError, match="non-finite"):
        audio.validate(y)
    with pytest.raises(AudioError, match="float32"):
        audio.validate(np.zeros((1, 10)))
    with pytest.raises(AudioError, match="channels, samples"):
        audio.validate(np.zeros(10, np.float32))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        audio.validate(np.full((1, 10), 1.5, np.float32))
    assert any(issubclass(x.category, AudioWarning) for x in w)


def test_failed_write_leaves_nothing(tmp_path) -> None:
    with pytest.raises(RuntimeError):
        with audio.AudioWriter(tmp_path / "x.flac", sr=48000, channels=2) as w:
            w.write(np.zeros((2, 4800), np.float32))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ext", [".wav", ".flac"])
def test_full_disk_gives_one_line_error_and_no_file(tmp_path, ext: str) -> None:
    """A file-size limit makes writes fail exactly like a full disk (EFBIG/ENOSPC)."""
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))\n"
        "from susurrus.cli import main\n"
        f"sys.exit(main(['render', '--trigger', 'noise:white', '--duration', '20s', '-o', r'{tmp_path}/x{ext}']))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("susurrus: error:"), r.stderr
    assert "Traceback" not in r.stderr
    assert os.listdir(tmp_path) == []


def test_writer_rejects_bad_arguments(tmp_path) -> None:
    with pytest.raises(ParameterError, match="output"):
        audio.AudioWriter(tmp_path / "x.mp4", sr=48000, channels=2)
    with pytest.raises(ParameterError, match="sr"):
        audio.AudioWriter(tmp_path / "x.wav", sr=0, channels=2)
    with pytest.raises(AudioFileError, match="does not exist"):
        audio.AudioWriter(tmp_path / "nope" / "x.wav", sr=48000, channels=2)


def test_units() -> None:
    assert parse_duration("45m") == 2700 and parse_duration("8h") == 28800
    assert parse_duration("30s") == 30 and parse_duration("1.5h") == 5400 and parse_duration("90") == 90
    for bad in ["-3m", "abc", "5 parsecs", "", "1e9x"]:
        with pytest.raises(ParameterError, match="duration"):
            parse_duration(bad)
    assert format_duration(2700) == "45m" and format_duration(5400) == "1h30m"
    assert db_to_amp(-20) == pytest.approx(0.1) and amp_to_db(0.1) == pytest.approx(-20)
    assert amp_to_db(0.0) == -200.0


# -- FLAC straight on libFLAC -----------------------------------------------------------

needs_libflac = pytest.mark.skipif(not _flac.available(), reason="libFLAC cannot be loaded here")


@needs_libflac
def test_libflac_writer_decodes_to_libsndfile_quantisation(tmp_path, monkeypatch) -> None:
    """The direct encoder quantises float exactly as libsndfile does (rint(x · 2²³), clipped
    to 24 bits), so a FLAC file decodes to the same samples whichever path wrote it."""
    rng = np.random.default_rng(3)
    y = (0.2 * rng.standard_normal((2, 100_003))).astype(np.float32)
    lsb = 1 / 8388608
    y[0, :9] = [0.5 * lsb, 1.5 * lsb, 2.5 * lsb, -0.5 * lsb, -1.5 * lsb, 1.0, -1.0, 1.25, -1.5]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AudioWarning)
        audio.write(tmp_path / "direct.flac", y, 48000)
        monkeypatch.setenv("SUSURRUS_FLAC", "soundfile")
        assert not _flac.available()
        audio.write(tmp_path / "libsndfile.flac", y, 48000)
    a = sf.read(tmp_path / "direct.flac", dtype="int32", always_2d=True)[0] >> 8
    b = sf.read(tmp_path / "libsndfile.flac", dtype="int32", always_2d=True)[0] >> 8
    assert a.shape == (100_003, 2)
    np.testing.assert_array_equal(a, b)
    assert list(a[:9, 0]) == [0, 2, 2, 0, -2, 8388607, -8388608, 8388607, -8388608]
    # a 24-bit stream with its length in the header and the MD5 signature left unset
    head = (tmp_path / "direct.flac").read_bytes()[:42]
    assert head[:4] == b"fLaC" and head[26:42] == bytes(16)
    i = audio.info(tmp_path / "direct.flac")
    assert (i.sr, i.channels, i.frames, i.subtype) == (48000, 2, 100_003, "PCM_24")


@needs_libflac
def test_libflac_writer_streams_in_blocks_and_mono(tmp_path) -> None:
    rng = np.random.default_rng(4)
    y = (0.1 * rng.standard_normal((1, 70_000))).astype(np.float32)
    with audio.AudioWriter(tmp_path / "m.flac", sr=44100, channels=1) as w:
        for start in range(0, 70_000, 9_999):  # uneven blocks, across the writer's chunks
            w.write(y[:, start : start + 9_999])
        w.write(np.zeros((1, 0), np.float32))
    back, sr = audio.read(tmp_path / "m.flac")
    assert sr == 44100 and back.shape == y.shape
    assert np.max(np.abs(back - y)) <= 0.5 / 8388608 + 1e-12


@needs_libflac
def test_libflac_writer_reports_errors(tmp_path) -> None:
    with pytest.raises(_flac.FlacError, match="cannot start"):
        _flac.FlacEncoder(tmp_path / "nope" / "x.flac", sr=48000, channels=2)
    with pytest.raises(_flac.FlacError, match="1 to 8 channels"):
        _flac.FlacEncoder(tmp_path / "x.flac", sr=48000, channels=9)
    enc = _flac.FlacEncoder(tmp_path / "x.flac", sr=48000, channels=2)
    enc.close()
    with pytest.raises(_flac.FlacError, match="closed"):
        enc.write(np.zeros((2, 10), np.float32))
    enc.close()  # twice is fine
