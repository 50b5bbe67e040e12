"""The listener model: update rules with known answers, aversions, sensitivity, JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from susurrus import triggers
from susurrus.errors import ParameterError
from susurrus.families import FAMILY_IDS
from susurrus.profile import (
    QUESTIONS,
    ListenerProfile,
    ModelSettings,
    clip_scene,
    next_clip,
    prior_mean,
    sample_params,
)

FIXED = ModelSettings(obs_sd=2.0, prior_sd=2.0, offset_sd=0.0)


def test_prior_mean_from_prevalence():
    assert prior_mean("whisper") == pytest.approx(2.0 + 6.0 * 0.75)
    assert prior_mean("clock") == pytest.approx(3.8)


def test_normal_normal_update_known_answer():
    """No offset: precision 1/4 + 1/4 = 1/2; mean (6.5/4 + 10/4) / (1/2) = 8.25."""
    p = ListenerProfile("a", settings=FIXED)
    p.rate("whisper", tingles=10, relax=10)
    b = p.belief("whisper")
    assert b.mean == pytest.approx(8.25)
    assert b.sd == pytest.approx(math.sqrt(2.0))
    assert b.n == 1
    # an unrated family keeps its prior
    assert p.belief("clock").mean == pytest.approx(3.8)
    assert p.belief("clock").sd == pytest.approx(2.0)


def test_two_ratings_and_weights_known_answer():
    p = ListenerProfile("a", settings=FIXED)
    p.rate("rain", tingles=2, relax=4)  # score 3
    p.rate("rain", tingles=6, relax=8)  # score 7
    prec = 1 / 4 + 2 / 4
    assert p.belief("rain").mean == pytest.approx((5.6 / 4 + 10 / 4) / prec)
    assert p.belief("rain").sd == pytest.approx(math.sqrt(1 / prec))
    # session feedback over two families: weight 1/2 each
    p.rate_session(["noise", "fire"], tingles=10, relax=10)
    prec_half = 1 / 4 + 0.5 / 4
    assert p.belief("noise").mean == pytest.approx((5.0 / 4 + 0.5 * 10 / 4) / prec_half)
    assert p.belief("noise").n == 0  # n counts clip ratings only


def test_listener_offset_known_answer():
    """With the offset: E[δ | x] = s_δ² / (s_δ² + τ² + σ²) · (x − μ0_f) moves unrated families."""
    s = ModelSettings(obs_sd=2.0, prior_sd=2.0, offset_sd=2.0)
    p = ListenerProfile("a", settings=s)
    p.rate("whisper", tingles=10, relax=10)
    shift = 4.0 / 12.0 * (10.0 - 6.5)
    assert p.belief("clock").mean == pytest.approx(3.8 + shift)
    # the rated family: posterior of u = δ + θ with prior var 8, obs var 4
    assert p.belief("whisper").mean == pytest.approx(6.5 + 8 / 12 * 3.5)
    assert p.belief("whisper").sd == pytest.approx(math.sqrt(1 / (1 / 8 + 1 / 4)))


def test_beliefs_best_first_and_avoided_last():
    p = ListenerProfile("a", settings=FIXED)
    p.rate("clock", tingles=10, relax=10)
    p.add_avoid("whisper")
    fams = [b.family for b in p.beliefs()]
    assert fams[0] == "clock"
    assert fams[-1] == "whisper"
    assert len(fams) == len(FAMILY_IDS)
    assert "whisper" not in p.top(18)


def test_unpleasant_is_a_hard_limit():
    p = ListenerProfile("a", seed=2)
    p.rate("tapping", tingles=5, relax=5, unpleasant=True)
    assert p.avoid["tapping"] == "unpleasant"
    rng = np.random.default_rng(0)
    for _ in range(40):
        spec = next_clip(p, rng)
        assert spec["family"] != "tapping"
        p.rate(clip_id=spec["id"], tingles=9, relax=9)
    assert "tapping" not in p.top(5)
    p.remove_avoid("tapping")
    assert "tapping" not in p.avoid


def test_discovery_covers_every_family_first_then_focuses():
    losers = {"typing", "clock", "scissors", "heartbeat", "noise", "leaves"}

    def score(fam: str) -> int:
        return 9 if fam in ("rain", "fire", "whisper") else 0 if fam in losers else 5

    p = ListenerProfile("a", seed=5)
    p.add_avoid("breathing")
    rng = np.random.default_rng(1)
    for i in range(len(FAMILY_IDS) - 1):
        spec = next_clip(p, rng)
        assert p.counts()[spec["family"]] == 0, f"clip {i} repeated a family before coverage"
        p.rate(clip_id=spec["id"], tingles=score(spec["family"]), relax=score(spec["family"]))
    assert all(n == 1 for f, n in p.counts().items() if f != "breathing")
    # after coverage the clips go to the top-3 boundary, never to clear losers
    for _ in range(8):
        spec = next_clip(p, rng)
        assert spec["family"] not in losers
        p.rate(clip_id=spec["id"], tingles=score(spec["family"]), relax=score(spec["family"]))
    assert set(p.top(3)) == {"rain", "fire", "whisper"}


def test_clip_spec_in_declared_ranges_and_breaths_off():
    p = ListenerProfile("a", seed=9)
    p.add_avoid("breathing")
    rng = np.random.default_rng(3)
    variants = set()
    for _ in range(30):
        spec = next_clip(p, rng)
        assert 10.0 <= spec["duration_s"] <= 20.0
        cls = triggers.get(spec["family"])
        for prm in cls.params:
            assert prm.low <= spec["params"][prm.name] <= prm.high
        if spec["family"] in ("whisper", "soft-speaking"):
            assert spec["params"]["breaths"] == 0.0
        if spec["family"] == "whisper":
            variants.add(spec["variant"])
        p.rate(clip_id=spec["id"], tingles=5, relax=5)
    scene = clip_scene(spec)
    assert scene.master.fade_in_s == 0.5 and scene.master.target_lufs == -23.0
    assert sample_params("whisper", "female", rng, breaths_allowed=False)["breaths"] == 0.0


def test_next_clip_is_reproducible_from_profile_state():
    a, b = ListenerProfile("a", seed=4), ListenerProfile("a", seed=4)
    assert next_clip(a) == next_clip(b)
    assert next_clip(a)["id"] != next_clip(ListenerProfile("a", seed=4))["id"]


def test_non_responder():
    p = ListenerProfile("zero", seed=1)
    for _ in range(5):
        spec = next_clip(p)
        p.rate(clip_id=spec["id"], tingles=0, relax=0)
    s = p.sensitivity()
    assert s.non_responder and s.level == "non-responder"
    assert "not everyone experiences ASMR" in s.message
    # four ratings are not enough to judge
    q = ListenerProfile("few")
    for f in FAMILY_IDS[:4]:
        q.rate(f, tingles=0, relax=0)
    assert not q.sensitivity().non_responder


def test_one_loved_family_is_not_a_non_responder():
    p = ListenerProfile("a")
    for f in FAMILY_IDS:
        p.rate(f, tingles=0, relax=0)
    p.rate("rain", tingles=10, relax=10)
    p.rate("rain", tingles=9, relax=10)
    assert not p.sensitivity().non_responder


def test_questions_and_sensitivity_levels():
    assert 3 <= len(QUESTIONS) <= 5
    assert all("ASMR-15" not in q.text for q in QUESTIONS)
    p = ListenerProfile("a")
    assert p.sensitivity().level == "unknown"
    for q in QUESTIONS:
        p.answer(q.id, 4)
    s = p.sensitivity()
    assert s.level == "high" and s.from_questions == 1.0 and s.sound_aversion == 1.0
    for f in FAMILY_IDS[:10]:
        p.rate(f, tingles=3, relax=3)
    assert p.sensitivity().level in ("low", "moderate")


def test_usable_after_five_ratings():
    p = ListenerProfile("a")
    for i, f in enumerate(FAMILY_IDS[:5]):
        assert not p.usable
        p.rate(f, tingles=i, relax=i)
    assert p.usable


def test_json_round_trip_exact():
    p = ListenerProfile("Ann Ö", seed=7)
    p.add_avoid("typing")
    p.answer("calm_after", 3)
    rng = np.random.default_rng(2)
    for _ in range(7):
        spec = next_clip(p, rng)
        p.rate(clip_id=spec["id"], tingles=3, relax=7.5, unpleasant=spec["family"] == "clock")
    p.rate_session(["rain", "noise"], tingles=4, relax=9)
    next_clip(p, rng)  # one pending clip
    d = p.to_dict()
    text = json.dumps(d)
    q = ListenerProfile.from_dict(json.loads(text))
    assert q == p
    assert q.to_dict() == d
    assert json.dumps(q.to_dict()) == text
    assert q.summary() == p.summary()
    assert [b.family for b in q.beliefs()] == [b.family for b in p.beliefs()]


def test_summary_shape():
    s = ListenerProfile("a").summary()
    assert set(s) >= {"name", "families", "avoid", "sensitivity"}
    assert len(s["families"]) == 18
    assert set(s["families"][0]) >= {"family", "mean", "sd", "n"}
    json.dumps(s)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"family": "rain", "tingles": 11, "relax": 5}, "tingles"),
        ({"family": "rain", "tingles": 5, "relax": -1}, "relax"),
        ({"family": "rain", "tingles": float("nan"), "relax": 5}, "tingles"),
        ({"family": "rain", "tingles": "lots", "relax": 5}, "tingles"),
        ({"family": "kazoo", "tingles": 5, "relax": 5}, "family"),
        ({"clip_id": "c9999-rain", "tingles": 5, "relax": 5}, "clip"),
    ],
)
def test_bad_ratings_name_the_parameter(kwargs, name):
    p = ListenerProfile("a")
    with pytest.raises(ParameterError) as exc:
        p.rate(**kwargs)
    assert exc.value.name == name
    assert str(kwargs.get("family", kwargs.get("clip_id"))) in str(exc.value) or name in (
        "tingles",
        "relax",
    )
    assert "allowed" in str(exc.value)
    assert p.ratings == []


def test_bad_input_elsewhere():
    p = ListenerProfile("a")
    with pytest.raises(ParameterError, match="family='kazoo'"):
        p.add_avoid("rain", "kazoo")
    assert "rain" not in p.avoid  # all or nothing
    with pytest.raises(ParameterError) as exc:
        p.answer("tingles_often", 5)
    assert exc.value.name == "tingles_often" and "0 to 4" in exc.value.allowed
    with pytest.raises(ParameterError):
        p.answer("asmr15_item3", 2)
    with pytest.raises(ParameterError):
        ListenerProfile("")
    with pytest.raises(ParameterError):
        ListenerProfile.from_dict({"format": "other"})
    d = ListenerProfile("a").to_dict()
    d["ratings"] = [{"family": "rain", "tingles": 12, "relax": 1}]
    with pytest.raises(ParameterError) as exc:
        ListenerProfile.from_dict(d)
    assert exc.value.name == "ratings[0].tingles"
    p.add_avoid(*FAMILY_IDS)
    with pytest.raises(ParameterError) as exc:
        next_clip(p)
    assert exc.value.name == "avoid"


def test_closed_form_posterior_equals_dense_inverse():
    """The factored posterior equals inverting the joint precision of (δ, θ_1 … θ_F)."""
    s = ModelSettings(obs_sd=1.3, prior_sd=2.2, offset_sd=1.1)
    p = ListenerProfile("a", settings=s)
    rng = np.random.default_rng(3)
    for _ in range(25):
        fam = FAMILY_IDS[int(rng.integers(len(FAMILY_IDS) - 4))]  # some families unrated
        p.rate(fam, tingles=int(rng.integers(11)), relax=int(rng.integers(11)))
    p.rate_session(["rain", "fire"], tingles=8, relax=9)
    nf = len(FAMILY_IDS)
    mu0 = np.array([prior_mean(f) for f in FAMILY_IDS])
    lam = np.diag([1 / s.offset_sd**2] + [1 / s.prior_sd**2] * nf)
    b = np.concatenate([[0.0], mu0 / s.prior_sd**2])
    for r in p.ratings:
        a = np.zeros(nf + 1)
        a[0] = a[1 + FAMILY_IDS.index(r.family)] = 1.0
        lam += r.weight * np.outer(a, a) / s.obs_sd**2
        b += r.weight * r.score * a / s.obs_sd**2
    cov_b = np.linalg.inv(lam)
    proj = np.hstack([np.ones((nf, 1)), np.eye(nf)])
    mean, cov = p.posterior()
    np.testing.assert_allclose(mean, proj @ cov_b @ b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cov, proj @ cov_b @ proj.T, rtol=1e-10, atol=1e-12)


def test_posterior_draws_have_the_posterior_moments():
    p = ListenerProfile("a", settings=ModelSettings(obs_sd=1.5, prior_sd=2.0, offset_sd=1.0))
    for fam, x in (("whisper", 9), ("clock", 2), ("rain", 7), ("whisper", 8)):
        p.rate(fam, tingles=x, relax=x)
    mean, cov = p.posterior()
    rng = np.random.default_rng(0)
    draws = np.array([p._post().draw(rng) for _ in range(20000)])
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=0.05)
    # sampling sd of a variance of about 5 from 20000 draws is about 0.05: 5 sd
    np.testing.assert_allclose(np.cov(draws.T), cov, atol=0.25)


def test_posterior_does_not_depend_on_rating_order():
    """Exact sums: the same ratings in another order give bit-identical beliefs (and clips)."""
    ratings = [("whisper", 7, 8), ("rain", 7, 8), ("fire", 3, 9), ("rain", 6, 6), ("noise", 5, 4)]
    a, b = ListenerProfile("a"), ListenerProfile("a")
    for fam, t, r in ratings:
        a.rate(fam, tingles=t, relax=r)
    for fam, t, r in reversed(ratings):
        b.rate(fam, tingles=t, relax=r)
    assert np.array_equal(a.posterior()[0], b.posterior()[0])
    assert np.array_equal(a.posterior()[1], b.posterior()[1])
    assert a.top(18) == b.top(18)


def _simulated_overlaps(n_listeners: int, n_ratings: int, *, chooser: str) -> float:
    """Mean top-3 overlap for simulated listeners (the benchmark's model, smaller)."""
    mu0 = np.array([prior_mean(f) for f in FAMILY_IDS])
    rng = np.random.default_rng(2024)
    overlaps = []
    for j in range(n_listeners):
        true = np.clip(mu0 + rng.normal(0, 1) + rng.normal(0, rng.uniform(0.5, 3.0), len(mu0)), 0, 10)
        noise = np.random.default_rng(rng.integers(2**31))
        order = np.random.default_rng(j + 99)
        p = ListenerProfile("sim", seed=j)
        for _ in range(n_ratings):
            if chooser == "model":
                spec = next_clip(p)
                fam, cid = spec["family"], spec["id"]
            else:
                fam, cid = FAMILY_IDS[int(order.integers(len(FAMILY_IDS)))], None
            i = FAMILY_IDS.index(fam)
            t, r = (int(np.clip(np.rint(true[i] + noise.normal(0, 1.5)), 0, 10)) for _ in range(2))
            if cid is None:
                p.rate(fam, tingles=t, relax=r)
            else:
                p.rate(clip_id=cid, tingles=t, relax=r)
        top = {FAMILY_IDS[i] for i in np.argsort(-true)[:3]}
        overlaps.append(len(top & set(p.top(3))) / 3)
    return float(np.mean(overlaps))


def test_discovery_finds_favourites_faster_than_random_order():
    # 60 simulated listeners, 24 noisy ratings each (benchmarks/personalise.py runs 200
    # with aversions): the chooser must beat rating random families by a clear margin
    model = _simulated_overlaps(60, 24, chooser="model")
    random_order = _simulated_overlaps(60, 24, chooser="random")
    assert model >= 0.68, model
    assert model - random_order >= 0.06, (model, random_order)
