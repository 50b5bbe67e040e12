"""Listener-profile commands over the real SQLite store: create, next-clip, rate, avoid, show,
session (with its explanation and feedback), export/delete/import of the model."""

from __future__ import annotations

import json

import pytest
import soundfile as sf


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SUSURRUS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SUSURRUS_DATABASE_URL", raising=False)
    return tmp_path


def _json(r) -> dict:
    assert r.code == 0, r.err
    return json.loads(r.out)


@pytest.mark.slow
def test_discovery_flow_and_personal_session(cli, data_dir) -> None:
    assert cli(["profile", "create", "ada"]).code == 0
    assert cli(["profile", "create", "ada"]).code != 0  # exists already
    _json(cli(["profile", "avoid", "ada", "breathing", "tapping", "--json"]))
    seen = []
    for _ in range(6):
        clip = _json(cli(["profile", "next-clip", "ada", "--json"]))
        assert set(clip) == {"id", "family", "variant", "params", "path"}
        assert clip["family"] not in ("breathing", "tapping")
        info = sf.info(clip["path"])
        assert 10 <= info.duration <= 20
        seen.append(clip["family"])
        likes = 9 if clip["family"] == seen[0] else 2
        _json(cli(["profile", "rate", "ada", "--clip", clip["id"], "--tingles", str(likes),
                   "--relax", str(likes), "--json"]))
    assert len(set(seen)) == 6  # every family is covered early
    show = _json(cli(["profile", "show", "ada", "--json"]))
    assert show["name"] == "ada" and sorted(show["avoid"]) == ["breathing", "tapping"]
    fams = show["families"]
    assert len(fams) == 18 and fams[0]["family"] == seen[0]  # best first
    assert {"family", "mean", "sd", "n"} <= set(fams[0]) and "sensitivity" in show
    out = data_dir / "relax.flac"
    sess = _json(cli(["session", "--profile", "ada", "--goal", "relax", "--duration", "20s",
                      "-o", str(out), "--scene-out", str(data_dir / "s.toml"), "--json"]))
    layers = [la.get("trigger") for la in sess["scene"]["layers"]]
    assert not {"breathing", "tapping"} & set(layers)
    for la in sess["scene"]["layers"]:
        if la.get("trigger") == "whisper":
            assert la["params"].get("breaths") == 0  # breathing avoided: no breaths in phrases
    assert "left out" in json.dumps(sess["explanation"]).lower() or sess["explanation"]
    assert sf.info(out).duration == pytest.approx(20.0)
    before = {f["family"]: f["mean"] for f in show["families"]}
    _json(cli(["profile", "rate", "ada", "--session", str(sess["session_id"]), "--tingles", "7",
               "--relax", "9", "--json"]))
    after = {f["family"]: f["mean"] for f in _json(cli(["profile", "show", "ada", "--json"]))["families"]}
    session_fams = {la["trigger"] for la in sess["scene"]["layers"] if la.get("trigger")}
    assert any(after[f] != before[f] for f in session_fams)  # feedback closes the loop
    # the model survives export → delete → import
    exp = data_dir / "ada.json"
    model_before = _json(cli(["profile", "show", "ada", "--json"]))
    assert cli(["profile", "export", "ada", "-o", str(exp)]).code == 0
    assert cli(["profile", "delete", "ada", "--yes"]).code == 0
    assert cli(["profile", "show", "ada"]).code != 0
    assert cli(["profile", "import", str(exp)]).code == 0
    assert _json(cli(["profile", "show", "ada", "--json"])) == model_before


@pytest.mark.parametrize(("args", "words"), [
    (["profile", "show", "nobody"], ["profile", "nobody"]),
    (["profile", "rate", "ada", "--clip", "c9999", "--tingles", "3", "--relax", "3"], ["c9999"]),
    (["profile", "rate", "ada", "--clip", "x", "--tingles", "11", "--relax", "3"], ["tingles", "11"]),
    (["profile", "avoid", "ada", "banjo"], ["banjo"]),
    (["session", "--profile", "ada", "--goal", "party", "-o", "x.flac"], ["goal", "party"]),
    (["session", "--profile", "nobody", "--goal", "sleep", "-o", "x.flac"], ["nobody"]),
])
def test_bad_input_is_one_clear_line(cli, data_dir, args, words) -> None:
    assert cli(["profile", "create", "ada"]).code == 0
    r = cli(args)
    assert r.code != 0
    assert len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err, r.err
    for w in words:
        assert w in r.err


@pytest.mark.parametrize("cmd", [["profile", "create"], ["profile", "show"], ["profile", "next-clip"],
                                 ["profile", "rate"], ["profile", "avoid"], ["discover"], ["session"]])
def test_help_has_an_example(cli, cmd) -> None:
    r = cli([*cmd, "--help"])
    assert r.code == 0 and "example" in r.out.lower()


@pytest.mark.slow
def test_interactive_discover_can_stop_any_time(data_dir) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "SUSURRUS_DATA_DIR": str(data_dir / "data")}
    run = [sys.executable, "-m", "susurrus.cli"]
    assert subprocess.run([*run, "profile", "create", "bo"], env=env, capture_output=True).returncode == 0
    # four own questions, one clip rated (tingles 5, relax 6, not unpleasant), then stop
    answers = "2\n3\n2\n1\n5\n6\nn\nq\n"
    r = subprocess.run([*run, "discover", "--profile", "bo", "--max", "3"], input=answers, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "not a treatment" in r.stdout.lower() or "professional care" in r.stdout.lower()
    assert "saved 1 rating" in r.stdout
    show = subprocess.run([*run, "profile", "show", "bo", "--json"], env=env, capture_output=True, text=True)
    d = json.loads(show.stdout)
    assert sum(f["n"] for f in d["families"]) == 1
    assert d["sensitivity"]["from_questions"] is not None
