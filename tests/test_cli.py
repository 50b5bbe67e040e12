"""The command line: help with examples, renders, listings, share strings, clean errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from susurrus.cli import build_parser
from susurrus.families import FAMILY_IDS

COMMANDS = [["render"], ["play"], ["presets"], ["triggers"], ["scene"], ["scene", "share"],
            ["scene", "load"], ["analyze"], ["soften"], ["journal", "checkin"], ["journal", "sleep"],
            ["journal", "list"], ["questionnaire", "phq9"], ["questionnaire", "gad7"],
            ["hr", "import"], ["report"], ["profile", "export"], ["profile", "import"],
            ["profile", "delete"], ["corpus", "analyze"], ["corpus", "summary"], ["crisis"]]


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_command_has_help_with_an_example(cli, cmd) -> None:
    r = cli([*cmd, "--help"])
    assert r.code == 0
    assert "example" in r.out.lower() and "susurrus " in r.out


def test_render_trigger_alone_is_normalised_without_fades(cli, tmp_path) -> None:
    out = tmp_path / "taps.wav"
    r = cli(["render", "--trigger", "noise:pink", "--duration", "12s", "--seed", "3",
             "-o", str(out), "--json"])
    assert r.code == 0, r.err
    info = json.loads(r.out)
    assert info["target_lufs"] == -23.0 and info["fade_in_s"] == 0 and info["fade_out_s"] == 0
    y, sr = sf.read(out)
    assert y.ndim == 1  # unplaced: a mono file, the trigger itself
    import pyloudnorm as pyln

    assert abs(pyln.Meter(sr).integrated_loudness(y) + 23) < 0.5
    placed = tmp_path / "placed.wav"
    assert cli(["render", "--trigger", "noise:pink", "--duration", "3s", "--azimuth-deg", "90",
                "-o", str(placed)]).code == 0
    assert sf.info(placed).channels == 2
    assert np.abs(y[:480]).max() > 0.01  # no fade-in


def test_render_preset_with_overrides(cli, tmp_path) -> None:
    out = tmp_path / "r.flac"
    r = cli(["render", "--preset", "focus", "--duration", "8s", "--seed", "5", "-o", str(out),
             "--scene-out", str(tmp_path / "scene.toml")])
    assert r.code == 0, r.err
    assert sf.info(out).duration == pytest.approx(8.0)
    assert "seed = 5" in (tmp_path / "scene.toml").read_text()


def test_presets_and_triggers_json(cli) -> None:
    r = cli(["presets", "--json"])
    names = {p["name"] for p in json.loads(r.out)["presets"]}
    assert {"relax", "sleep", "focus"} <= names
    r = cli(["triggers", "--json"])
    rows = json.loads(r.out)["triggers"]
    assert [t["family"] for t in rows] == [f for f in FAMILY_IDS if f in {t["family"] for t in rows}]
    for t in rows:
        assert t["variants"] and "description" in t
        for p in t["params"]:
            assert {"name", "default", "min", "max", "unit"} <= set(p)
            assert p["min"] <= p["default"] <= p["max"]


def test_scene_share_and_load_round_trip(cli, tmp_path) -> None:
    from susurrus.scene import load_preset, load_scene

    src = load_preset("haircut").save(tmp_path / "h.toml")
    r = cli(["scene", "share", str(src)])
    share = r.out.strip()
    assert r.code == 0 and share.startswith("s1.")
    r = cli(["scene", "load", share, "-o", str(tmp_path / "back.json")])
    assert r.code == 0
    assert load_scene(tmp_path / "back.json") == load_scene(src)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["render", "--trigger", "banjo", "-o", "{d}/x.wav"], ["banjo", "whisper"]),
        (["render", "--trigger", "tapping:steel", "-o", "{d}/x.wav"], ["steel", "wood"]),
        (["render", "--trigger", "noise", "--param", "tilt=9", "-o", "{d}/x.wav"], ["tilt"]),
        (["render", "--preset", "relax", "--duration", "-5m", "-o", "{d}/x.wav"], ["duration"]),
        (["render", "--preset", "relax", "--duration", "30d", "-o", "{d}/x.wav"], ["duration_s"]),
        (["render", "--preset", "nope", "-o", "{d}/x.wav"], ["nope", "relax"]),
        (["render", "{d}/bad.toml", "-o", "{d}/x.wav"], ["malformed TOML"]),
        (["render", "--preset", "relax", "-o", "{d}/missing/x.wav"], ["does not exist"]),
        (["render", "--preset", "relax", "-o", "{d}/x.mp4"], ["output", ".flac"]),
        (["scene", "load", "s1.garbage", "-o", "{d}/x.toml"], ["corrupt"]),
    ],
)
def test_bad_input_one_line_error_nonzero_exit_no_file(cli, tmp_path, args, words) -> None:
    (tmp_path / "bad.toml").write_text("[[layers]\ntrigger = ")
    r = cli([a.format(d=tmp_path) for a in args])
    assert r.code != 0
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.err, r.err
    for w in words:
        assert w in r.err
    assert not (tmp_path / "x.wav").exists() and not (tmp_path / "x.toml").exists()
    assert not [p for p in tmp_path.rglob("*.partial")]


def test_play_without_audio_device_says_so(tmp_path) -> None:
    code = ("import sys, sounddevice\n"
            "sounddevice.query_devices = lambda *a, **k: (_ for _ in ()).throw(sounddevice.PortAudioError('no device'))\n"
            "from susurrus.cli import main\n"
            "sys.exit(main(['play', '--preset', 'focus', '--duration', '5s']))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "no audio output device" in r.stderr and "render" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_sigterm_keeps_a_valid_file(tmp_path) -> None:
    out = tmp_path / "long.flac"
    p = subprocess.Popen([sys.executable, "-m", "susurrus.cli", "render", "--preset", "focus",
                          "--duration", "2h", "-o", str(out)], stderr=subprocess.PIPE, text=True)
    import time

    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".long.flac.*.partial")):
        time.sleep(0.2)
    time.sleep(3)
    p.terminate()
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    y, sr = sf.read(out)  # valid, playable
    assert 0 < len(y) < 2 * 3600 * sr
    assert not list(tmp_path.glob("*.partial"))


def test_parser_builds() -> None:
    assert build_parser().prog == "susurrus"


def test_crisis_command_shows_the_locale_resources(cli) -> None:
    from susurrus.safety import crisis_resources, locales

    for loc in locales():
        r = cli(["crisis", "--locale", loc, "--json"])
        assert r.code == 0
        d = json.loads(r.out)
        assert d["resources"] and d["locale"] == crisis_resources(loc).locale
    us = cli(["crisis", "--locale", "US"])
    assert "988" in us.out
    assert "complements professional care" in us.out
