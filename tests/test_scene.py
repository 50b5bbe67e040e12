"""Scene model: validation, TOML/JSON/share-string round trips, timing rules."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from susurrus.errors import SceneError
from susurrus.families import FAMILIES
from susurrus.scene import (
    Activity,
    Layer,
    Master,
    Scene,
    list_presets,
    load_preset,
    load_scene,
    scene_from_dict,
    scene_from_share_string,
)

finite = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def layers(draw: st.DrawFn) -> Layer:
    fam = draw(st.sampled_from(FAMILIES))
    return Layer(
        name=draw(st.text(max_size=20)),
        trigger=fam.id,
        variant=draw(st.one_of(st.none(), st.sampled_from(fam.variants))),
        params=draw(st.dictionaries(st.sampled_from(["density", "brightness", "tempo_bpm"]),
                                    st.floats(-1e6, 1e6, allow_nan=False), max_size=2)),
        gain_db=draw(st.floats(-60, 12)),
        azimuth_deg=draw(st.floats(-180, 180)),
        elevation_deg=draw(st.floats(-40, 90)),
        distance_m=draw(st.floats(0.01, 20)),
        motion=draw(st.sampled_from(["static", "sweep", "orbit", "drift", "approach"])),
        period_s=draw(st.floats(2, 3600)),
        binaural=draw(st.booleans()),
        spread=draw(st.sampled_from(["point", "diffuse"])),
        activity=Activity(
            pattern=draw(st.sampled_from(["continuous", "intermittent", "drift"])),
            on_fraction=draw(st.floats(0.05, 1.0)),
            mean_gap_s=draw(st.floats(1, 3600)),
        ),
    )


@st.composite
def scenes(draw: st.DrawFn) -> Scene:
    target = draw(st.floats(-50, -10))
    return Scene(
        name=draw(st.text(max_size=30)),
        description=draw(st.text(max_size=50)),
        duration_s=draw(st.floats(0.001, 7 * 86400)),
        sr=draw(st.sampled_from([44100, 48000])),
        seed=draw(st.integers(0, 2**63 - 1)),
        layers=draw(st.lists(layers(), min_size=1, max_size=4)),
        master=Master(
            target_lufs=target,
            momentary_max_lufs=draw(st.floats(max(target, -40.0), 0)),
            true_peak_dbtp=draw(st.floats(-30, 0)),
            fade_in_s=draw(st.floats(0, 3600)),
            fade_out_s=draw(st.floats(0, 3600)),
            sleep_after_s=draw(st.one_of(st.none(), st.floats(1, 86400))),
            output=draw(st.sampled_from(["headphones", "speakers"])),
        ),
    )


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(scene=scenes())
def test_round_trips_toml_json_share(scene: Scene, tmp_path_factory: pytest.TempPathFactory) -> None:
    d = tmp_path_factory.mktemp("rt")
    assert load_scene(scene.save(d / "s.toml")) == scene
    assert load_scene(scene.save(d / "s.json")) == scene
    share = scene.to_share_string()
    assert share.startswith("s1.")
    assert all(c.isalnum() or c in "-_." for c in share)  # URL-safe
    assert scene_from_share_string(share) == scene


def test_share_string_is_compact() -> None:
    s = load_preset("relax")
    assert len(s.to_share_string()) < 800


def test_timing_fades_at_most_a_third() -> None:
    s = Scene(duration_s=30, layers=[Layer(trigger="noise")])
    t = s.timing()
    assert t.fade_in_s == 10 and t.fade_out_s == 10 and t.total_s == 30


def test_timing_sleep_timer_fade_at_least_60s_and_ends_session() -> None:
    s = Scene(duration_s=3 * 3600, layers=[Layer(trigger="noise")],
              master=Master(sleep_after_s=45 * 60, fade_out_s=20))
    t = s.timing()
    assert t.fade_out_s == 60
    assert t.total_s == 45 * 60 + 60
    assert t.steady_end_s == 45 * 60


def test_sleep_timer_after_the_end_has_no_effect() -> None:
    s = Scene(duration_s=600, layers=[Layer(trigger="noise")], master=Master(sleep_after_s=3600))
    assert s.timing().total_s == 600


@pytest.mark.parametrize(
    ("patch", "words"),
    [
        ({"duration_s": -3}, ["duration_s", "-3", "greater than 0"]),
        ({"duration_s": 10 * 86400}, ["duration_s", "864000"]),
        ({"sr": 22050}, ["sr", "22050"]),
        ({"layers": []}, ["layers"]),
        ({"layers": [{"trigger": "banjo"}]}, ["layers.0.trigger", "banjo", "whisper"]),
        ({"layers": [{"trigger": "tapping", "variant": "steel"}]}, ["steel", "wood"]),
        ({"layers": [{"trigger": "noise", "gain_db": 40}]}, ["layers.0.gain_db", "40", "12"]),
        ({"layers": [{"trigger": "noise", "distance_m": 0}]}, ["distance_m", "0"]),
        ({"layers": [{"trigger": "noise", "motion": "spin"}]}, ["motion", "spin", "orbit"]),
        ({"layers": [{"trigger": "noise", "volume": 3}]}, ["volume", "Extra inputs"]),
        ({"layers": [{"kind": "recording"}]}, ["path"]),
        ({"master": {"target_lufs": -27, "momentary_max_lufs": -30}}, ["momentary_max_lufs"]),
        ({"schema_version": 2}, ["schema_version", "2"]),
    ],
)
def test_validation_errors_name_field_value_and_range(patch: dict, words: list[str]) -> None:
    data = {"layers": [{"trigger": "noise"}]} | patch
    with pytest.raises(SceneError) as err:
        scene_from_dict(data)
    for w in words:
        assert w in str(err.value)


def test_malformed_files(tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'x'\n[[layers]\ntrigger='noise'")
    with pytest.raises(SceneError, match="malformed TOML"):
        load_scene(bad)
    badj = tmp_path / "bad.json"
    badj.write_text("{\"layers\": [")
    with pytest.raises(SceneError, match="malformed JSON"):
        load_scene(badj)
    with pytest.raises(SceneError, match="no such file"):
        load_scene(tmp_path / "missing.toml")
    other = tmp_path / "scene.yaml"
    other.write_text("x: 1")
    with pytest.raises(SceneError, match=r"\.toml or \.json"):
        load_scene(other)
    arr = tmp_path / "list.json"
    arr.write_text(json.dumps([1, 2]))
    with pytest.raises(SceneError, match="table/object"):
        load_scene(arr)


@pytest.mark.parametrize("text", ["", "s1.", "s1.!!!", "x1.abc", "s1." + "A" * 50, "s1.eJzLSM3JyQcABiwCFQ"])
def test_corrupt_share_strings(text: str) -> None:
    with pytest.raises(SceneError):
        scene_from_share_string(text)


def test_presets_load_and_relax_is_not_hollow() -> None:
    names = {s.name for s in list_presets()}
    assert {"sleep", "relax", "focus", "haircut", "spa", "study-with-me", "rainy-night",
            "fireside", "bedtime-whispers"} <= names
    relax = load_preset("relax")
    beds = [la for la in relax.layers if la.spread == "diffuse"]
    moving = [la for la in relax.layers if la.motion != "static" and la.binaural]
    whisper = [la for la in relax.layers if la.trigger == "whisper"]
    assert len(beds) >= 2 and moving and whisper
    focus = load_preset("focus")
    assert not any(la.trigger in ("whisper", "soft-speaking") for la in focus.layers)
