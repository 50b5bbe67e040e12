"""Softening: fewer events, a higher calm score, and nothing else changed (null test)."""

from __future__ import annotations

import argparse
import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from susurrus import audio
from susurrus.analysis import analyze_file
from susurrus.analysis import planted as P
from susurrus.analysis.cli import add_soften_parser
from susurrus.analysis.soften import soften_file, whole_file_filters
from susurrus.errors import ParameterError

SR = 32000


def _null_residual_db(inp: Path, out: Path, res) -> float:
    yi, _ = audio.read(inp)
    yo, _ = audio.read(out)
    ref = whole_file_filters(yi, SR, res.plan)
    keep = np.ones(yi.shape[1], bool)
    for a, b in res.plan.touched():
        keep[int(a * SR) : int(b * SR) + 1] = False
    assert keep.mean() > 0.5
    d = yo[:, keep].astype(np.float64) - ref[:, keep]
    return float(10 * np.log10(np.mean(d**2) / np.mean(ref[:, keep].astype(np.float64) ** 2)))


@pytest.mark.parametrize(
    ("bed", "hum"), [("rain", False), ("noise:pink", True), ("brushing", False)]
)
def test_soften_lowers_events_raises_calm_and_leaves_the_rest(
    tmp_path: Path, bed: str, hum: bool
) -> None:
    rng = np.random.default_rng(21)
    y = P.bed(bed, 40.0, SR, rng=rng)
    if hum:
        y = P.add_hum(y, SR, level_db=-15.0)
    y, _ = P.plant(y, SR, P.schedule(40.0, 6, rng=rng), rng=rng)
    inp, out = tmp_path / "in.wav", tmp_path / "out.flac"
    audio.write(inp, np.clip(y, -1, 1), SR)
    res = soften_file(inp, out, target_lufs=-27.0)
    before = analyze_file(inp, tagger=False)
    after = analyze_file(out, tagger=False)
    assert len(after["events"]) < len(before["events"])
    assert after["calm_score"] > before["calm_score"]
    assert abs(after["integrated_lufs"] - (-27.0)) < 1.0
    assert bool(res.plan.notch_hz) == hum
    assert _null_residual_db(inp, out, res) < -40.0


def test_soften_without_events_is_only_a_gain(tmp_path: Path) -> None:
    rng = np.random.default_rng(22)
    inp, out = tmp_path / "in.wav", tmp_path / "out.wav"
    audio.write(inp, P.bed("noise:pink", 10.0, SR, rng=rng), SR)
    res = soften_file(inp, out, target_lufs=-30.0)
    assert res.plan.regions == [] and res.plan.notch_hz == []
    yi, _ = audio.read(inp)
    yo, _ = audio.read(out)
    assert np.max(np.abs(yo - yi * 10 ** (res.plan.gain_db / 20))) < 1e-5


def test_soften_rejects_bad_arguments(tmp_path: Path) -> None:
    rng = np.random.default_rng(23)
    inp = tmp_path / "in.wav"
    audio.write(inp, P.bed("noise:pink", 3.0, SR, rng=rng), SR)
    with pytest.raises(ParameterError):
        soften_file(inp, tmp_path / "o.wav", target_lufs=5.0)
    with pytest.raises(ParameterError):
        soften_file(inp, inp)
    with pytest.raises(ParameterError):
        soften_file(inp, tmp_path / "o.mp4")


def test_soften_cli_json(tmp_path: Path) -> None:
    rng = np.random.default_rng(24)
    y, _ = P.plant(P.bed("rain", 12.0, SR, rng=rng), SR, [("tap", 5.0)], rng=rng)
    inp, out = tmp_path / "in.wav", tmp_path / "out.wav"
    audio.write(inp, y, SR)
    parser = argparse.ArgumentParser()
    add_soften_parser(parser.add_subparsers())
    args = parser.parse_args(["soften", str(inp), "-o", str(out), "--json"])
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert args.func(args) == 0
    d = json.loads(buf.getvalue())
    assert d["output"] == str(out) and d["regions"] and out.exists()
