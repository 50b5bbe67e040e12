"""Recording analysis: loudness, planted jarring events, hum, calm score, bad input, CLI."""

from __future__ import annotations

import argparse
import io
import json
import math
import shutil
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from susurrus import audio
from susurrus.analysis import RECORD_KEYS, analyze_file, analyze_signal, analyze_signal_full
from susurrus.analysis import planted as P
from susurrus.analysis.calm import level_budget
from susurrus.analysis.cli import add_analyze_parser, add_soften_parser

SR = 32000
SAUNA = Path("/usr/share/sonic-pi/samples/ambi_sauna.flac")


def _recall(events: list[dict], truth: list[P.Planted]) -> tuple[list[P.Planted], list[dict]]:
    """Missed planted events (no event starting within 100 ms), and false events."""
    missed = [t for t in truth if not any(abs(e["start_s"] - t.start_s) <= 0.1 for e in events)]
    false = [
        e
        for e in events
        if not any(e["start_s"] <= t.end_s + 0.5 and e["end_s"] >= t.start_s - 0.5 for t in truth)
    ]
    return missed, false


# -- loudness ----------------------------------------------------------------------------


def test_loudness_matches_pyloudnorm_on_synthesised_stereo() -> None:
    import pyloudnorm

    rng = np.random.default_rng(0)
    y = P.bed("noise:pink", 12.0, 48000, rng=rng, bed_dbfs=-25.0)
    t = np.arange(y.shape[1]) / 48000
    st = np.stack([y[0], 0.5 * y[0] + 0.05 * np.sin(2 * np.pi * 997 * t)]).astype(np.float32)
    rec = analyze_signal(st, 48000, tagger=False)
    ref = pyloudnorm.Meter(48000).integrated_loudness(st.T.astype(np.float64))
    assert abs(rec["integrated_lufs"] - ref) < 0.1


def test_loudness_matches_pyloudnorm_on_a_real_recording() -> None:
    import pyloudnorm

    if not SAUNA.exists():
        pytest.skip("sonic-pi-samples not installed")
    y, sr = audio.read(SAUNA)
    rec = analyze_file(SAUNA, tagger=False)
    assert rec["error"] is None
    ref = pyloudnorm.Meter(sr).integrated_loudness(y.T.astype(np.float64))
    assert abs(rec["integrated_lufs"] - ref) < 0.1
    assert rec["channels"] == y.shape[0] and rec["sample_rate"] == sr


@pytest.mark.skipif(
    shutil.which("ffmpeg") is None or not SAUNA.exists(), reason="needs ffmpeg and sonic-pi"
)
def test_loudness_matches_ffmpeg_ebur128() -> None:
    out = subprocess.run(
        [
            "ffmpeg",
            "-nostats",
            "-hide_banner",
            "-i",
            str(SAUNA),
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
    summary = out[out.rindex("Summary:") :]
    i_ff = float(summary.split("I:")[1].split("LUFS")[0])
    lra_ff = float(summary.split("LRA:")[1].split("LU")[0])
    rec = analyze_file(SAUNA, tagger=False)
    assert abs(rec["integrated_lufs"] - i_ff) < 0.2
    assert abs(rec["loudness_range_lu"] - lra_ff) < 1.0


# -- planted events ------------------------------------------------------------------------


@pytest.mark.slow
def test_planted_events_recall_and_timing() -> None:
    rng = np.random.default_rng(5)
    missed_all, n_truth, false_all = [], 0, []
    for name in P.BEDS:
        bed = P.bed(name, 75.0, SR, rng=rng)
        y, truth = P.plant(bed, SR, P.schedule(75.0, 12, rng=rng), rng=rng)
        an = analyze_signal_full(y, SR, tagger=False)
        missed, false = _recall(an.events, truth)
        missed_all += [(name, m) for m in missed]
        false_all += [(name, f["kind"], f["start_s"]) for f in false]
        n_truth += len(truth)
    recall = 1 - len(missed_all) / n_truth
    assert recall >= 0.95, missed_all
    assert len(false_all) <= 1, false_all


@pytest.mark.slow
def test_no_false_events_on_ten_minutes_of_calm_beds() -> None:
    rng = np.random.default_rng(11)
    false = []
    for name in P.BEDS:  # 4 × 150 s = 10 minutes, tagger included
        rec = analyze_signal(P.bed(name, 150.0, SR, rng=rng), SR)
        false += [(name, e["kind"], e["start_s"], e.get("label")) for e in rec["events"]]
    assert len(false) <= 1, false


def test_impact_labels_count_only_where_the_patch_stands_out() -> None:
    """YAMNet calls some near raindrops "Explosion": an impact label needs a patch
    louder than its neighbours; the other aversive labels (a siren) do not."""
    from susurrus.analysis.tags import AVERSIVE_LABELS, IMPACT_CONTRAST_DB, StreamingTagger
    from susurrus.tagger import get_tagger

    st = StreamingTagger(get_tagger(), SR)
    labels = [lab for lab in AVERSIVE_LABELS if lab in st.tagger._index]
    explosion, siren = labels.index("Explosion"), labels.index("Siren")
    n = 30
    probs = np.full((n, len(labels)), 0.01, dtype=np.float32)
    db = np.full(n, -35.0)
    probs[5, explosion] = 0.9  # at the bed's level: a texture
    probs[12, explosion] = 0.9
    db[12] += IMPACT_CONTRAST_DB + 1.0  # stands out: an impact
    probs[20, siren] = 0.6  # a siren counts at any level
    st._av_probs, st._patch_db = list(probs), list(db)
    p, label = st.aversive()
    flagged = {i: st.tagger.labels[int(label[i])] for i in np.flatnonzero(p >= 0.35)}
    assert flagged == {12: "Explosion", 20: "Siren"}
    assert [e["label"] for e in st.aversive_events(n * 0.96)] == ["Explosion", "Siren"]
    assert 0.0 < st.aversive_fraction() < 0.1


def test_each_event_kind_is_found_with_its_kind() -> None:
    rng = np.random.default_rng(2)
    bed = P.bed("noise:pink", 30.0, SR, rng=rng)
    y, _truth = P.plant(bed, SR, [("tap", 5.0), ("clip", 12.0), ("beep", 20.0)], rng=rng)
    events = analyze_signal(y, SR, tagger=False)["events"]
    kinds = {e["kind"] for e in events}
    assert {"transient", "clipping", "tonal_beep"} <= kinds
    beep = next(e for e in events if e["kind"] == "tonal_beep")
    assert abs(beep["frequency_hz"] - 1000.0) < 20 and abs(beep["start_s"] - 20.0) < 0.1
    clip = next(e for e in events if e["kind"] == "clipping")
    assert abs(clip["start_s"] - 12.0) < 0.1
    for e in events:
        assert 0.0 <= e["severity"] <= 1.0 and e["end_s"] >= e["start_s"]


def test_harsh_burst_is_found() -> None:
    rng = np.random.default_rng(3)
    y = P.bed("noise:pink", 20.0, SR, rng=rng, bed_dbfs=-40.0).astype(np.float64)
    import scipy.signal as sps

    sos = sps.butter(4, [3000, 8000], btype="bandpass", fs=SR, output="sos")
    burst = sps.sosfilt(sos, rng.standard_normal(int(0.4 * SR))) * 0.05
    a = int(10.0 * SR)
    y[0, a : a + burst.size] += burst
    events = analyze_signal(y.astype(np.float32), SR, tagger=False)["events"]
    harsh = [e for e in events if e["kind"] == "harsh_burst"]
    assert harsh and abs(harsh[0]["start_s"] - 10.0) < 0.1


@pytest.mark.parametrize(
    ("bed", "freq", "level"),
    [("rain", 50.0, -20.0), ("whisper", 60.0, -20.0), ("noise:pink", 50.0, -15.0)],
)
def test_hum_is_detected_with_its_frequency(bed: str, freq: float, level: float) -> None:
    rng = np.random.default_rng(4)
    b = P.bed(bed, 30.0, SR, rng=rng)
    clean = analyze_signal(b, SR, tagger=False)
    hummed = analyze_signal(P.add_hum(b, SR, frequency_hz=freq, level_db=level), SR, tagger=False)
    assert not clean["hum"]["detected"]
    assert hummed["hum"]["detected"] and hummed["hum"]["frequency_hz"] == freq
    rms_db = 10 * math.log10(np.mean(b.astype(np.float64) ** 2))
    assert abs(hummed["hum"]["level_db"] - (rms_db + level)) < 2.0
    assert hummed["calm_score"] < clean["calm_score"]


def test_silences_and_hiss() -> None:
    rng = np.random.default_rng(6)
    y = P.bed("noise:pink", 12.0, SR, rng=rng)
    y[:, 4 * SR : 7 * SR] = 0.0
    rec = analyze_signal(y, SR, tagger=False)
    assert len(rec["silences"]) == 1
    s = rec["silences"][0]
    assert abs(s["start_s"] - 4.0) <= 0.1 and abs(s["end_s"] - 7.0) <= 0.1
    white = (0.01 * rng.standard_normal((1, 10 * SR))).astype(np.float32)
    hiss = analyze_signal(white, SR, tagger=False)["hiss_db"]
    # white noise at -40 dBFS: the hiss band (4 kHz … 0.45 sr = 14.4 kHz) holds
    # 10.4/16 of the power; the 10th percentile sits a little below the mean
    expected = -40.0 + 10 * math.log10(10.4 / 16)
    assert expected - 1.0 < hiss < expected + 0.2


# -- calm score -------------------------------------------------------------------------------


@pytest.mark.slow
def test_calm_score_orders_planted_recordings_and_ignores_gain() -> None:
    rng = np.random.default_rng(7)
    bed = P.bed("rain", 60.0, SR, rng=rng)
    few, _ = P.plant(bed, SR, P.schedule(60.0, 3, rng=rng), rng=np.random.default_rng(1))
    many, _ = P.plant(bed, SR, P.schedule(60.0, 10, rng=rng), rng=np.random.default_rng(1))
    sched = [("tap", 10.0), ("drop", 30.0), ("tap", 50.0)]
    soft, _ = P.plant(bed, SR, sched, rng=np.random.default_rng(1), level_db=30.0)
    loud, _ = P.plant(bed, SR, sched, rng=np.random.default_rng(1), level_db=40.0)
    s = {k: analyze_signal(v, SR)["calm_score"] for k, v in {"bed": bed, "few": few, "many": many, "soft": soft}.items()}
    with pytest.warns(audio.AudioWarning, match="exceeds full scale"):  # its loudest tap peaks at +4 dBFS
        s["loud"] = analyze_signal(loud, SR)["calm_score"]
    assert s["bed"] > s["few"] > s["many"]
    assert s["soft"] > s["loud"]
    for y in (bed, few):
        base = analyze_signal(y, SR)["calm_score"]
        for gain_db in (-10.0, 10.0):
            g = (y * 10 ** (gain_db / 20)).astype(np.float32)
            if gain_db > 0:
                g = g / max(1.0, float(np.abs(g).max()))  # keep inside full scale (−0 dB)
            assert abs(analyze_signal(g, SR)["calm_score"] - base) <= 2.0


def test_level_budget_known_answers() -> None:
    ok = level_budget(-27.0, -12.0, -22.0)
    assert ok["compliant"] and ok["gain_db"] == 0.0
    loud = level_budget(-14.0, -1.0, -10.0)
    assert not loud["compliant"] and loud["gain_db"] == -13.0
    peaky = level_budget(-34.0, -2.0, -25.0)  # raising to -27 would push the peak over -6
    assert peaky["needs_limiting"] and peaky["gain_db"] == -4.0
    assert level_budget(-math.inf, -math.inf, -math.inf)["gain_db"] is None


# -- record shape, streaming ---------------------------------------------------------------------


def test_record_has_exactly_the_documented_keys_and_is_json(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    y, _ = P.plant(P.bed("whisper", 8.0, SR, rng=rng), SR, [("tap", 3.0)], rng=rng)
    f = tmp_path / "w.flac"
    audio.write(f, np.repeat(y, 2, axis=0), SR)
    rec = analyze_file(f)
    assert tuple(rec) == RECORD_KEYS
    assert rec["error"] is None and rec["channels"] == 2
    json.loads(json.dumps(rec, allow_nan=False))
    assert any(t["family"] == "whisper" for t in rec["tags"])
    assert rec["top_labels"] and 0 <= rec["calm_score"] <= 100
    assert set(rec["calm_breakdown"]) == {
        "events",
        "aversive",
        "harshness",
        "hum",
        "hiss",
        "steadiness",
    }


def test_block_size_does_not_change_the_result() -> None:
    rng = np.random.default_rng(9)
    y, _ = P.plant(P.bed("brushing", 20.0, SR, rng=rng), SR, P.schedule(20.0, 4, rng=rng), rng=rng)
    a = analyze_signal(y, SR, tagger=False, block_size=1 << 17)
    b = analyze_signal(y, SR, tagger=False, block_size=5003)
    assert [(e["kind"], e["start_s"]) for e in a["events"]] == [
        (e["kind"], e["start_s"]) for e in b["events"]
    ]
    assert a["integrated_lufs"] == b["integrated_lufs"] and a["hum"] == b["hum"]


# -- bad input, CLI -----------------------------------------------------------------------------------


def _bad_files(tmp: Path) -> dict[str, Path]:
    rng = np.random.default_rng(10)
    good = tmp / "good.wav"
    audio.write(good, P.bed("noise:pink", 3.0, SR, rng=rng), SR)
    files = {"good": good}
    (tmp / "empty.wav").write_bytes(b"")
    files["empty"] = tmp / "empty.wav"
    data = good.read_bytes()
    (tmp / "truncated.wav").write_bytes(data[: len(data) // 2])
    files["truncated"] = tmp / "truncated.wav"
    (tmp / "text.wav").write_text("this is not audio\n" * 50)
    files["text"] = tmp / "text.wav"
    nan = np.full((1, SR * 2), np.nan, np.float32)
    sf.write(tmp / "nan.wav", nan.T, SR, subtype="FLOAT")
    files["nan"] = tmp / "nan.wav"
    audio.write(tmp / "short.wav", np.zeros((1, SR // 10), np.float32) + 0.01, SR)
    files["short"] = tmp / "short.wav"
    sf.write(tmp / "twelve.wav", 0.01 * rng.standard_normal((SR * 2, 12)), SR, subtype="PCM_16")
    files["twelve"] = tmp / "twelve.wav"
    good2 = tmp / "good2.flac"
    audio.write(good2, P.bed("rain", 2.0, SR, rng=rng), SR)
    files["good2"] = good2
    return files


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="susurrus")
    sub = parser.add_subparsers(dest="command")
    add_analyze_parser(sub)
    add_soften_parser(sub)
    return parser


def _run(argv: list[str]) -> tuple[int, str, str]:
    args = _parser().parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = args.func(args)
    return code, out.getvalue(), err.getvalue()


def test_bad_input_gets_error_lines_and_good_files_are_analysed(tmp_path: Path) -> None:
    files = _bad_files(tmp_path)
    code, out, _ = _run(["analyze", "--json", *map(str, files.values())])
    lines = [json.loads(line) for line in out.splitlines()]
    assert [r["path"] for r in lines] == [str(p) for p in files.values()]
    by = dict(zip(files, lines, strict=True))
    assert code == 1
    for name in ("good", "good2"):
        assert by[name]["error"] is None and by[name]["integrated_lufs"] is not None
    for name in ("empty", "truncated", "text", "nan", "short", "twelve"):
        err = by[name]["error"]
        assert err and "\n" not in err and by[name]["integrated_lufs"] is None, (name, err)
    assert "empty" in by["empty"]["error"]
    assert "non-finite" in by["nan"]["error"]
    assert "too short" in by["short"]["error"]
    assert "12 channels" in by["twelve"]["error"]
    code, _, _ = _run(["analyze", "--json", str(files["good"])])
    assert code == 0


def test_analyze_html_report_and_text_summary(tmp_path: Path) -> None:
    rng = np.random.default_rng(12)
    y, _ = P.plant(P.bed("rain", 10.0, SR, rng=rng), SR, [("tap", 4.0)], rng=rng)
    f = tmp_path / "r.wav"
    audio.write(f, y, SR)
    report = tmp_path / "report.html"
    code, out, _ = _run(["analyze", str(f), str(tmp_path / "missing.wav"), "--html", str(report)])
    assert code == 1 and "calm score" in out and "no such file" in out
    text = report.read_text()
    assert (
        text.startswith("<!doctype html>") and "<svg" in text and "data:image/png;base64," in text
    )
    assert "transient" in text and "missing.wav" in text and "http" not in text.split("<body>")[1]


def test_commands_have_help_with_an_example() -> None:
    for cmd in ("analyze", "soften"):
        out = io.StringIO()
        with redirect_stdout(out), pytest.raises(SystemExit):
            _parser().parse_args([cmd, "--help"])
        assert "example" in out.getvalue() and "--json" in out.getvalue()


def test_isolated_impulse_rule_known_answers() -> None:
    from susurrus.analysis.events import _isolated

    quiet = np.full(200, -60.0)
    tap = quiet.copy()
    tap[100], tap[101:104] = -6.0, -20.0  # sharp, gone within 40 ms
    assert np.flatnonzero(_isolated(tap)).tolist() == [100]
    word = quiet.copy()
    word[100:160] = -8.0  # a whispered word: it goes on
    assert not _isolated(word).any()
    swell = quiet.copy()
    swell[80:101] = np.linspace(-40.0, -6.0, 21)  # a breath rising: not sharp
    swell[101:104] = -30.0
    assert not _isolated(swell).any()
    assert not _isolated(np.full(20, -6.0)).any()  # too short to judge
