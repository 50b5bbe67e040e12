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
    for layer in s.scene.layers:
        if "breathing" in avoided and layer.trigger in VOICES:
            assert layer.params["breaths"] == 0.0
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
    for layer in sc.layers:
        if "brightness" in layer.params:
            assert layer.params["brightness"] <= 0.3
        if layer.spread == "point":
            assert layer.activity.pattern == "intermittent"
    assert sum(layer.spread == "point" for layer in sc.layers) <= 1
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


def test_unwind_paces_breathing_at_six():
    p = _liker()
    p.add_avoid("breathing")
    s = build_session(p, "unwind", seed=4)
    g = next(la for la in s.scene.layers if la.variant == "breathing-cues")
    assert 5.5 <= g.params["breath_rate_per_min"] <= 6.5
    assert g.params["breaths"] == 0.0
    assert any("breaths" in a for a in s.explanation.adjustments)
    # whisper avoided: the breathing trigger paces instead
    p2 = _liker()
    p2.add_avoid("whisper")
    s2 = build_session(p2, "unwind", seed=4)
    assert s2.scene.layers[0].trigger == "breathing"


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
    assert s.scene.layers[0].variant == "breathing-cues"


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
def test_session_validates_and_renders(tmp_path):
    from susurrus.render import render_to_file

    p = _liker()
    p.add_avoid("breathing")
    s = build_session(p, "unwind", duration_s=3.0, seed=7)
    scene = scene_from_dict(s.scene.to_dict())
    out = tmp_path / "s.wav"
    render_to_file(scene, out)
    y, sr = sf.read(out, always_2d=True)
    assert sr == 48000 and y.shape == (3 * 48000, 2)
    assert np.all(np.isfinite(y)) and np.max(np.abs(y)) > 1e-4


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
