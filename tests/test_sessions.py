"""Sessions for a goal: the aversion guarantee, goals, explanations, scripts."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from susurrus.errors import ParameterError
from susurrus.families import FAMILY_IDS
from susurrus.profile import (
    GOALS,
    ListenerProfile,
    build_session,
    check_session,
    list_scripts,
    load_script,
    parse_script,
    session_families,
)
from susurrus.scene import scene_from_dict

VOICES = ("whisper", "soft-speaking")


def _profile(ratings, avoid, unpleasant=()):
    p = ListenerProfile("h", seed=1)
    for fam, t, r in ratings:
        p.rate(fam, tingles=t, relax=r)
    for fam in unpleasant:
        p.rate(fam, tingles=0, relax=0, unpleasant=True)
    p.add_avoid(*avoid)
    return p


def _fams():
    return st.sampled_from(FAMILY_IDS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ratings=st.lists(st.tuples(_fams(), st.integers(0, 10), st.integers(0, 10)), max_size=30),
    avoid=st.lists(_fams(), max_size=17, unique=True),
    unpleasant=st.lists(_fams(), max_size=3, unique=True),
    goal=st.sampled_from(GOALS),
    seed=st.integers(0, 2**63 - 1),
    breathing=st.booleans(),
)
def test_no_avoided_family_ever(ratings, avoid, unpleasant, goal, seed, breathing):
    if breathing and "breathing" not in avoid:
        avoid = [*avoid, "breathing"]
    p = _profile(ratings, avoid, unpleasant)
    try:
        s = build_session(p, goal, duration_s=1800.0, seed=seed)
    except ParameterError as exc:  # only when nothing usable for the goal is left
        assert exc.name == "avoid"
        return
    avoided = set(p.avoid)
    assert not session_families(s.scene) & avoided
    assert not set(s.families) & avoided
    for layer in s.scene.layers:
        if "breathing" in avoided and (layer.trigger in VOICES or layer.kind == "script"):
            assert layer.params["breaths"] == 0.0
        if layer.kind == "script":  # a guided script is a whisper
            assert "whisper" not in avoided
    left = {x["family"] for x in s.explanation.left_out}
    assert left == avoided
    json.dumps(s.explanation.to_dict())
    # the scene survives its own serialisation and still passes the check
    check_session(scene_from_dict(json.loads(s.scene.to_json())), avoided)


def test_check_session_catches_breaths():
    p = _profile([("whisper", 9, 9)] * 3, [])
    s = build_session(p, "relax", seed=3)
    assert "whisper" in session_families(s.scene)
    with pytest.raises(ParameterError, match="breaths"):
        check_session(s.scene, {"breathing"})
    with pytest.raises(ParameterError):
        check_session(s.scene, {"whisper"})


def _liker():
    return _profile(
        [
            ("whisper", 9, 9),
            ("brushing", 8, 9),
            ("rain", 7, 8),
            ("tapping", 8, 7),
            ("typing", 6, 6),
            ("clock", 2, 2),
        ],
        [],
    )


def test_sleep_is_dark_slow_with_timer():
    s = build_session(_liker(), "sleep", duration_s=2700.0, seed=1)
    sc = s.scene
    assert sc.layers[0].trigger == "noise" and sc.layers[0].variant == "brown"
    assert sc.master.sleep_after_s is not None
    t = sc.timing()
    assert t.fade_out_s >= 60.0 and t.total_s == pytest.approx(2700.0)
    triggered = [layer for layer in sc.layers if layer.kind == "trigger"]
    for layer in triggered:
        if "brightness" in layer.params:
            assert layer.params["brightness"] <= 0.3
        if layer.spread == "point":
            assert layer.activity.pattern == "intermittent"
    assert sum(layer.spread == "point" for layer in triggered) <= 1
    assert not {"typing", "scissors", "crinkling"} & session_families(sc)
    assert "Sleep timer" in s.explanation.text()


def test_focus_has_no_voice():
    for seed in range(5):
        s = build_session(_liker(), "focus", seed=seed)
        assert not session_families(s.scene) & {"whisper", "soft-speaking", "breathing"}
        assert all(layer.activity.pattern != "intermittent" for layer in s.scene.layers)
        assert any(x["family"] == "whisper" for x in s.explanation.not_for_goal)


def test_relax_has_personal_attention_and_favourites():
    s = build_session(_liker(), "relax", seed=2)
    roles = {x["role"]: x for x in s.explanation.layers}
    assert roles["personal attention"]["family"] == "whisper"
    att = next(la for la in s.scene.layers if la.trigger == "whisper")
    assert att.variant in ("female", "male") and att.distance_m <= 0.45
    assert "your ratings" in roles["personal attention"]["why"]
    assert "clock" not in session_families(s.scene)


def _scripts(scene):
    return [layer for layer in scene.layers if layer.kind == "script"]


def test_unwind_is_paced_breathing_guidance():
    for seed in range(4):
        s = build_session(_liker(), "unwind", duration_s=2700.0, seed=seed)
        (g,) = _scripts(s.scene)  # exactly one script layer
        assert g.script == "paced-breathing" and g.params == {"breaths": 1.0}
        assert load_script(g.script).breaths_per_min == pytest.approx(6.0)
        assert g.loop and g.crossfade_s < 1.0  # 45 min of guidance from a 3-min script
        assert "whisper" in session_families(s.scene) and "whisper" in s.families
        # the script is the voice: no whisper trigger beside it, composed with beds/triggers
        assert not any(la.trigger == "whisper" for la in s.scene.layers)
        assert any(la.spread == "diffuse" for la in s.scene.layers)
        assert len(s.scene.layers) >= 2
        check_session(s.scene, set())
        why = s.explanation.layers[0]
        assert why["kind"] == "script" and why["script"] == "paced-breathing"
        assert "6 breaths per minute" in why["why"] and "unwind" in why["why"]
        assert "guided script 'Paced breathing'" in s.explanation.text()
        assert s.explanation.to_dict()["layers"][0]["title"] == "Paced breathing"
    # a session shorter than the script speaks it once (no loop)
    short = build_session(_liker(), "unwind", duration_s=60.0, seed=1)
    (g,) = _scripts(short.scene)
    assert not g.loop


def test_unwind_avoiding_whisper_has_no_script():
    p = _liker()
    p.add_avoid("whisper")
    for seed in range(4):
        s = build_session(p, "unwind", seed=seed)
        assert not _scripts(s.scene)
        assert "whisper" not in session_families(s.scene)
        check_session(s.scene, {"whisper"})
        assert s.scene.layers[0].trigger == "breathing"  # a breath paces instead
        assert "avoid list" in s.explanation.layers[0]["why"]
        assert {"family": "whisper", "reason": "on your avoid list"} in s.explanation.left_out
    # and a scene with a script layer fails the check for a whisper-avoider
    s = build_session(_liker(), "unwind", seed=0)
    with pytest.raises(ParameterError) as exc:
        check_session(s.scene, {"whisper"})
    assert exc.value.value == "whisper" and "paced-breathing" in exc.value.name


def test_unwind_with_whisper_rated_low_uses_the_breath():
    p = _profile([("whisper", 0, 1)] * 3 + [("brushing", 8, 8)], [])
    s = build_session(p, "unwind", seed=2)
    assert not _scripts(s.scene) and s.scene.layers[0].trigger == "breathing"
    assert "rated low" in s.explanation.layers[0]["why"]


def test_unwind_avoiding_breathing_drops_the_scripts_breaths():
    p = _liker()
    p.add_avoid("breathing")
    s = build_session(p, "unwind", seed=4)
    (g,) = _scripts(s.scene)
    assert g.params["breaths"] == 0.0
    assert any("guidance script" in a for a in s.explanation.adjustments)
    check_session(s.scene, {"breathing"})
    # the loader (as the engine calls it) honours the param: no breath cue is left
    with_breaths = load_script(g.script)
    without = load_script(g.script, breaths=g.params["breaths"] > 0)
    assert any(c.kind == "breath" for c in with_breaths.cues)
    assert not any(c.kind == "breath" for c in without.cues)
    assert [c.text for c in without.cues if c.kind != "breath"] == [
        c.text for c in with_breaths.cues if c.kind != "breath"
    ]
    # the check catches a script layer that keeps its breaths
    bad = s.scene.to_dict()
    for la in bad["layers"]:
        if la.get("kind") == "script":
            la["params"] = {"breaths": 1.0}
    with pytest.raises(ParameterError, match="breaths"):
        check_session(scene_from_dict(bad), {"breathing"})


def test_engine_leaves_out_script_breaths(tmp_path, monkeypatch):
    """Known answer: a script of nothing but a breath is silent with breaths = 0."""
    from susurrus.render.engine import LayerStream

    (tmp_path / "just-a-breath.txt").write_text("goal: unwind\n---\n[pause 0.5]\n[breath]\n")
    monkeypatch.setenv("SUSURRUS_SCRIPTS_DIR", str(tmp_path))
    peaks = {}
    for breaths in (0.0, 1.0):
        scene = scene_from_dict(
            {
                "duration_s": 3.0,
                "sr": 48000,
                "seed": 1,
                "layers": [
                    {
                        "kind": "script",
                        "script": "just-a-breath",
                        "params": {"breaths": breaths},
                        "spread": "diffuse",
                    }
                ],
            }
        )
        y = LayerStream(scene.layers[0], 0, scene).read(3 * 48000)
        peaks[breaths] = float(np.max(np.abs(y)))
    assert peaks[0.0] == 0.0 and peaks[1.0] > 0.1


def test_sleep_adds_a_bedtime_script_once():
    seen = set()
    for seed in range(12):
        s = build_session(_liker(), "sleep", duration_s=2700.0, seed=seed)
        (g,) = _scripts(s.scene)
        assert g.script in ("bedtime-countdown", "body-scan") and not g.loop
        assert not any(la.trigger == "whisper" for la in s.scene.layers)  # no second voice
        assert "spoken once" in s.explanation.layers[2]["why"]
        seen.add(g.script)
    assert seen == {"bedtime-countdown", "body-scan"}  # sessions vary
    p = _liker()
    p.add_avoid("whisper")
    assert not _scripts(build_session(p, "sleep", seed=0).scene)
    low = _profile([("whisper", 1, 1)] * 3, [])
    assert not _scripts(build_session(low, "sleep", seed=0).scene)


def test_relax_may_speak_affirmations_when_whisper_is_liked():
    scripted = plain = 0
    for seed in range(16):
        s = build_session(_liker(), "relax", duration_s=600.0, seed=seed)
        sc = _scripts(s.scene)
        if sc:
            (g,) = sc
            assert g.script == "affirmations" and g.loop and g.distance_m <= 0.45
            assert not any(la.trigger == "whisper" for la in s.scene.layers)
            roles = {x["role"]: x for x in s.explanation.layers}
            assert roles["personal attention"]["script"] == "affirmations"
            scripted += 1
        else:
            plain += 1
    assert scripted and plain
    # long sessions keep the procedural whisper (a short script would repeat too often)
    for seed in range(8):
        assert not _scripts(build_session(_liker(), "relax", duration_s=2700.0, seed=seed).scene)
    # no ratings of whisper yet: not "liked", no affirmations
    fresh = _profile([("brushing", 8, 8)], [])
    for seed in range(8):
        assert not _scripts(build_session(fresh, "relax", duration_s=600.0, seed=seed).scene)


def test_focus_never_has_a_script():
    for seed in range(6):
        assert not _scripts(build_session(_liker(), "focus", duration_s=600.0, seed=seed).scene)


def test_unwind_sessions_vary_by_seed():
    p = _liker()
    scenes = [build_session(p, "unwind", seed=k).scene.to_dict() for k in range(4)]
    assert scenes[0] == build_session(p, "unwind", seed=0).scene.to_dict()
    assert len({json.dumps(d, sort_keys=True) for d in scenes}) == 4


def test_session_feedback_reaches_the_script_voice(tmp_path, monkeypatch):
    from susurrus.journal import start_session
    from susurrus.profile.cli import _session_families
    from susurrus.profile.persist import create_listener
    from susurrus.store import open_store

    monkeypatch.setenv("SUSURRUS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SUSURRUS_DATABASE_URL", raising=False)
    store = open_store()
    create_listener(store, "ada")
    s = build_session(_liker(), "unwind", seed=3)
    sid = start_session(store, "ada", scene=s.scene.to_dict(), goal="unwind", duration_s=60.0)
    fams = _session_families(store, "ada", sid)
    assert fams == s.families and fams[0] == "whisper"


def test_sessions_vary_but_same_seed_same_scene():
    p = _liker()
    a = build_session(p, "relax", seed=10).scene.to_dict()
    b = build_session(p, "relax", seed=10).scene.to_dict()
    c = build_session(p, "relax", seed=11).scene.to_dict()
    assert a == b and a != c
    assert build_session(p, "relax").scene.seed != build_session(p, "relax").scene.seed


def test_non_responder_gets_beds_and_honest_words():
    p = ListenerProfile("zero")
    for f in FAMILY_IDS[:8]:
        p.rate(f, tingles=0, relax=0)
    assert p.sensitivity().non_responder
    for goal in ("relax", "sleep", "focus"):
        s = build_session(p, goal, seed=1)
        assert all(la.spread == "diffuse" for la in s.scene.layers), goal
        assert any("not everyone experiences ASMR" in n for n in s.explanation.notes)
    s = build_session(p, "unwind", seed=1)
    assert s.scene.layers[0].kind == "script" and s.scene.layers[0].script == "paced-breathing"


def test_explanation_names_triggers_reasons_and_aversions():
    p = _liker()
    p.add_avoid("crinkling")
    p.rate("tapping", tingles=0, relax=0, unpleasant=True)
    d = build_session(p, "relax", seed=5).explanation.to_dict()
    assert {x["family"]: x["reason"] for x in d["left_out"]} == {
        "crinkling": "on your avoid list",
        "tapping": "you marked it unpleasant",
    }
    assert all(x["why"] for x in d["layers"])
    assert "Left out: crinkling" in d["text"]
    assert "not a treatment" in d["text"]
    json.dumps(d)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"goal": "party"}, "goal"),
        ({"goal": "sleep", "duration_s": 0.0}, "duration_s"),
        ({"goal": "sleep", "duration_s": 1e9}, "duration_s"),
        ({"goal": "sleep", "seed": -1}, "seed"),
        ({"goal": "sleep", "sr": 22050}, "sr"),
    ],
)
def test_bad_session_input(kwargs, name):
    with pytest.raises(ParameterError) as exc:
        build_session(_liker(), **kwargs)
    assert exc.value.name == name
    assert "allowed" in str(exc.value)


def test_everything_avoided_is_a_clear_error():
    p = _profile([], list(FAMILY_IDS))
    with pytest.raises(ParameterError) as exc:
        build_session(p, "sleep", seed=0)
    assert exc.value.name == "avoid"


# -- scripts ------------------------------------------------------------------------


def test_shipped_scripts_parse():
    names = list_scripts()
    assert {"paced-breathing", "body-scan", "bedtime-countdown", "affirmations"} <= set(names)
    for n in names:
        s = load_script(n)
        assert s.cues and s.duration_s > 30.0
        text = " ".join(c.text.lower() for c in s.cues)
        assert "treat" not in text and "cure" not in text
    assert load_script("paced-breathing").breaths_per_min == pytest.approx(6.0)


def test_script_timing_known_answer():
    s = parse_script(
        "goal: unwind\nrate_wpm: 60\n---\none two three\n[pause 2]\n"
        "[repeat 2]\n[in 4] in\n[out 6] out\n[end]\n[breath]\nbye\n"
    )
    kinds = [(c.kind, c.start_s, c.duration_s) for c in s.cues]
    assert kinds[0] == ("say", 0.0, pytest.approx(3.4))  # 3 words at 60 wpm + 0.4 s
    assert kinds[1] == ("pause", pytest.approx(3.4), 2.0)
    assert [k for k, _, _ in kinds] == ["say", "pause", "in", "out", "in", "out", "breath", "say"]
    assert s.cues[4].start_s == pytest.approx(15.4)
    assert s.breaths_per_min == pytest.approx(6.0)
    no_breath = parse_script("---\nhi\n[breath]\nbye\n", breaths=False)
    assert [c.kind for c in no_breath.cues] == ["say", "say"]


@pytest.mark.parametrize(
    "body", ["[pause]", "[pause x]", "[jump 3]", "[repeat 2]\nhi", "[end]", "[in 9999] in"]
)
def test_bad_script_lines(body):
    with pytest.raises(ParameterError):
        parse_script("---\n" + body + "\n")


def test_bad_script_header():
    with pytest.raises(ParameterError, match="goal"):
        parse_script("goal: party\n---\nhi\n")
    with pytest.raises(ParameterError):
        parse_script("no separator\n")
    with pytest.raises(ParameterError):
        load_script("no-such-script")


# -- rendering (slow) --------------------------------------------------------------


@pytest.mark.slow
def test_unwind_session_renders(tmp_path):
    from susurrus.render import render_to_file

    p = _liker()
    p.add_avoid("breathing")
    s = build_session(p, "unwind", duration_s=20.0, seed=7)
    assert _scripts(s.scene)
    scene = scene_from_dict(s.scene.to_dict())
    out = tmp_path / "s.wav"
    render_to_file(scene, out)
    y, sr = sf.read(out, always_2d=True)
    assert sr == 48000 and y.shape == (20 * 48000, 2)
    assert np.all(np.isfinite(y))
    # not silent: after the 20 s session's fade-in, every second carries sound
    rms = np.sqrt(np.mean(y[: 20 * sr].reshape(20, sr, 2) ** 2, axis=(1, 2)))
    assert np.max(np.abs(y)) > 1e-2 and np.all(rms[2:15] > 1e-4)


@pytest.mark.slow
def test_clip_renders(tmp_path):
    from susurrus.profile import next_clip, render_clip

    p = ListenerProfile("a", seed=2)
    spec = next_clip(p, np.random.default_rng(0))
    spec["duration_s"] = 2.0  # keep the test short
    path = render_clip(spec, tmp_path / "c.flac")
    y, sr = sf.read(path, always_2d=True)
    assert sr == 48000
    assert y.shape == (2 * 48000, 1) and np.max(np.abs(y)) > 1e-4  # unplaced clip: mono
