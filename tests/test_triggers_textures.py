"""Known answers for the friction and crackle families: scratching, writing, crinkling,
brushing, page turning, leaves."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from susurrus.errors import ParameterError
from susurrus.triggers import Trigger
from susurrus.triggers import _friction as fr

SR = 48000

#: (family, variant) for every variant of these families
VARIANTS = [
    ("scratching", "default"),
    ("writing", "pencil"),
    ("crinkling", "paper"),
    ("crinkling", "plastic"),
    ("crinkling", "foil"),
    ("brushing", "mic"),
    ("brushing", "hair"),
    ("page-turning", "default"),
    ("leaves", "wind"),
]


def make(family: str, variant: str, seed: int = 0, **params: float) -> Trigger:
    mod = importlib.import_module("susurrus.triggers." + family.replace("-", "_"))
    cls = next(
        c
        for c in vars(mod).values()
        if isinstance(c, type) and issubclass(c, Trigger) and getattr(c, "family", "") == family
    )
    return cls(sr=SR, rng=np.random.default_rng(seed), variant=variant, **params)


def render(family: str, variant: str, seconds: float, seed: int = 0, **params: float) -> np.ndarray:
    return make(family, variant, seed, **params).render(seconds)[0].astype(np.float64)


def centroid_hz(y: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(len(y), 1.0 / SR)
    return float((f * spec).sum() / spec.sum())


def envelope_db(y: np.ndarray, win_ms: float) -> np.ndarray:
    w = max(1, int(win_ms * 1e-3 * SR))
    power = np.convolve(y**2, np.ones(w) / w, mode="same")
    return 10 * np.log10(power + 1e-20)


def count_onsets(y: np.ndarray, *, win_ms: float, drop_db: float, min_gap_s: float) -> int:
    """Onsets of an envelope: rises above (loud level − drop_db) after falling below
    (loud level − drop_db − 6 dB), at least ``min_gap_s`` apart."""
    env = envelope_db(y, win_ms)
    loud = np.percentile(env, 95)
    hi, lo = loud - drop_db, loud - drop_db - 6.0
    count, armed, last = 0, True, -np.inf
    for i in range(0, len(env), max(1, SR // 2000)):
        if armed and env[i] > hi and (i - last) / SR >= min_gap_s:
            count += 1
            armed, last = False, i
        elif env[i] < lo:
            armed = True
    return count


def count_clicks(y: np.ndarray, threshold: float, min_gap_ms: float = 1.0) -> int:
    """Peaks of |y| above an absolute threshold, at least ``min_gap_ms`` apart."""
    above = np.nonzero(np.abs(y) > threshold)[0]
    if len(above) == 0:
        return 0
    gaps = np.diff(above) > min_gap_ms * 1e-3 * SR
    return int(1 + gaps.sum())


# -- contract details per family ----------------------------------------------------------


@pytest.mark.parametrize(("family", "variant"), VARIANTS)
def test_deterministic_and_seed_dependent(family: str, variant: str) -> None:
    a = render(family, variant, 2.0, seed=3)
    b = render(family, variant, 2.0, seed=3)
    c = render(family, variant, 2.0, seed=4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(("family", "variant"), VARIANTS)
def test_block_size_independent(family: str, variant: str) -> None:
    n = int(2.5 * SR)
    whole = make(family, variant, 7).read(n)
    t = make(family, variant, 7)
    sizes = [1, 17, 511, 4096, 3001, 9999, 65537]
    parts, got, k = [], 0, 0
    while got < n:
        m = min(sizes[k % len(sizes)], n - got)
        parts.append(t.read(m))
        got += m
        k += 1
    assert np.array_equal(whole, np.concatenate(parts, axis=1))


@pytest.mark.parametrize(("family", "variant"), VARIANTS)
def test_level_and_output(family: str, variant: str) -> None:
    y = render(family, variant, 6.0, seed=1)
    assert np.all(np.isfinite(y))
    assert np.abs(y).max() <= 10 ** (-3 / 20) + 1e-6  # peaks ≤ −3 dBFS
    rms_db = 20 * np.log10(np.sqrt(np.mean(y**2)))
    assert -40.0 < rms_db < -14.0


@pytest.mark.parametrize(
    ("family", "variant", "name", "bad"),
    [
        ("scratching", "default", "stroke_rate_hz", 0.0),
        ("scratching", "default", "brightness", 1.5),
        ("writing", "pencil", "strokes_per_s", 50.0),
        ("crinkling", "foil", "crackle_rate_per_s", -1.0),
        ("crinkling", "paper", "gesture_s", float("nan")),
        ("brushing", "mic", "closeness", 2.0),
        ("page-turning", "default", "pages_per_min", 0.5),
        ("leaves", "wind", "wind_speed_m_s", 100.0),
    ],
)
def test_bad_parameter_raises(family: str, variant: str, name: str, bad: float) -> None:
    with pytest.raises(ParameterError) as info:
        make(family, variant, **{name: bad})
    msg = str(info.value)
    assert name in msg and repr(bad) in msg and " to " in msg


def test_unknown_parameter_and_variant() -> None:
    with pytest.raises(ParameterError, match="tempo_bpm"):
        make("scratching", "default", tempo_bpm=90.0)
    with pytest.raises(ParameterError, match="leather"):
        make("crinkling", "leather")


# -- brightness moves the spectral centroid ---------------------------------------------


@pytest.mark.parametrize(("family", "variant"), VARIANTS)
def test_brightness_raises_centroid(family: str, variant: str) -> None:
    dark = centroid_hz(render(family, variant, 6.0, seed=2, brightness=0.1))
    bright = centroid_hz(render(family, variant, 6.0, seed=2, brightness=0.9))
    assert bright > 1.3 * dark


# -- tempo and density parameters -------------------------------------------------------


def test_scratching_stroke_rate_sets_stroke_count() -> None:
    slow = count_onsets(
        render("scratching", "default", 12.0, stroke_rate_hz=1.5),
        win_ms=15,
        drop_db=15,
        min_gap_s=0.08,
    )
    fast = count_onsets(
        render("scratching", "default", 12.0, stroke_rate_hz=4.5),
        win_ms=15,
        drop_db=15,
        min_gap_s=0.08,
    )
    # strokes per second ≈ the rate, less the occasional repositioning pauses
    assert 0.7 * 1.5 * 12 < slow <= 1.1 * 1.5 * 12
    assert 2.3 < fast / slow < 3.4


def test_writing_tempo_scales_stroke_count() -> None:
    kw = {"win_ms": 8, "drop_db": 12, "min_gap_s": 0.02}
    slow = count_onsets(render("writing", "pencil", 12.0, strokes_per_s=2.5), **kw)
    fast = count_onsets(render("writing", "pencil", 12.0, strokes_per_s=6.0), **kw)
    assert 0.6 * 2.5 * 12 < slow < 1.4 * 2.5 * 12
    assert 1.7 < fast / slow < 3.2


def _active_s(y: np.ndarray) -> float:
    """Seconds of 10 ms windows within 30 dB of the loudest (the gestures, not the pauses)."""
    w = int(0.01 * SR)
    k = len(y) // w
    rms = np.sqrt((y[: k * w] ** 2).reshape(k, w).mean(axis=1))
    return float((rms > rms.max() * 10 ** (-30 / 20)).sum() * 0.01)


def test_crinkling_crackle_rate_sets_click_count() -> None:
    # clicks per second of gesture: how long the hand squeezes varies a lot from seed
    # to seed and would swamp a plain count. At 80/s clicks start to merge within the
    # 1 ms dead time, so 4x the rate shows as about 2x the clicks (1.5-4x per seed)
    rates = {20.0: [], 80.0: []}
    for seed in range(4):
        for rate, out in rates.items():
            y = render("crinkling", "paper", 10.0, seed=seed, crackle_rate_per_s=rate)
            out.append(count_clicks(y, 0.15 * np.abs(y).max(), 1.0) / _active_s(y))
    lo, hi = np.array(rates[20.0]), np.array(rates[80.0])
    assert np.all(hi > 1.3 * lo), (lo, hi)
    assert 1.6 < hi.sum() / lo.sum() < 5.0


def test_crinkling_gesture_length_sets_gesture_count() -> None:
    kw = {"win_ms": 100, "drop_db": 35, "min_gap_s": 0.2}
    short = count_onsets(render("crinkling", "paper", 20.0, gesture_s=0.5), **kw)
    long = count_onsets(render("crinkling", "paper", 20.0, gesture_s=2.0), **kw)
    # mean gesture + pause: 0.5 s → ~0.8 s, 2 s → ~2.2 s
    assert 16 <= short <= 30
    assert 2.0 < short / long < 5.0


def test_brushing_stroke_rate_sets_stroke_count() -> None:
    kw = {"win_ms": 40, "drop_db": 12, "min_gap_s": 0.15}
    for variant in ("mic", "hair"):
        slow = count_onsets(render("brushing", variant, 20.0, stroke_rate_hz=0.5), **kw)
        fast = count_onsets(render("brushing", variant, 20.0, stroke_rate_hz=2.0), **kw)
        assert 6 <= slow <= 11
        assert 2.8 < fast / slow < 4.6


def test_page_turning_tempo_sets_turn_count() -> None:
    kw = {"win_ms": 150, "drop_db": 12, "min_gap_s": 0.7}
    slow = count_onsets(render("page-turning", "default", 60.0, pages_per_min=8.0), **kw)
    fast = count_onsets(render("page-turning", "default", 60.0, pages_per_min=24.0), **kw)
    assert 6 <= slow <= 10
    assert 19 <= fast <= 29


def test_leaves_wind_drives_density_and_level() -> None:
    calm = render("leaves", "wind", 10.0, wind_speed_m_s=2.0, gustiness=0.2)
    windy = render("leaves", "wind", 10.0, wind_speed_m_s=8.0, gustiness=0.2)
    assert np.sqrt(np.mean(windy**2)) > 2.0 * np.sqrt(np.mean(calm**2))

    def rustle_rms(y: np.ndarray) -> float:  # the leaf clicks live above 1 kHz
        return fr.rms(fr.shape(y, SR, lambda f: fr.highpass_gain(f, 1500.0, 4), pad=0))

    # clicks: rate ∝ u² and amplitude ∝ u, so the rustle's power grows ~u⁴
    assert rustle_rms(windy) > 6.0 * rustle_rms(calm)
    # and at a low rate they are separate clicks: their count grows with the wind
    thr = 0.3 * np.abs(calm).max()
    assert count_clicks(
        render("leaves", "wind", 10.0, wind_speed_m_s=3.0, gustiness=0.2), thr
    ) > 1.5 * count_clicks(calm, thr)


def test_leaves_gusts_vary_the_level() -> None:
    y = render("leaves", "wind", 30.0, gustiness=1.0)
    env = envelope_db(y[::10], 50)  # coarse: 0.5 s resolution is enough
    steady = render("leaves", "wind", 30.0, gustiness=0.0)
    env0 = envelope_db(steady[::10], 50)
    assert np.std(env) > 1.5 * np.std(env0)


# -- the helpers --------------------------------------------------------------------------


def test_pareto_amplitudes_follow_the_power_law() -> None:
    rng = np.random.default_rng(0)
    alpha = 1.5
    energy = fr.pareto_amplitudes(rng, 200_000, alpha=alpha, cap=1e9) ** 2
    # survival P(E > e) = e^{-(α-1)}: check at e = 10 and 100
    for e in (10.0, 100.0):
        assert np.mean(energy > e) == pytest.approx(e ** -(alpha - 1), rel=0.05)


def test_poisson_times_follow_the_rate() -> None:
    rng = np.random.default_rng(1)
    rate = np.concatenate([np.full(SR, 100.0), np.full(SR, 400.0)])
    idx = fr.poisson_times(rng, rate, SR)
    first, second = np.sum(idx < SR), np.sum(idx >= SR)
    assert 70 < first < 130
    assert 340 < second < 460


def test_stroke_profile_is_a_bell() -> None:
    v = fr.stroke_profile(1000, np.random.default_rng(0), glide=0.5, tremor=0.0)
    assert v[0] == pytest.approx(0.0, abs=1e-9) and v[-1] == pytest.approx(0.0, abs=1e-9)
    assert v.max() == pytest.approx(1.0, rel=0.01)
    assert np.argmax(v) in range(250, 750)


def test_ridge_impulses_count_the_ridges() -> None:
    rate = np.full(SR, 800.0)  # 0.2 m/s over 0.25 mm ridges
    imp = fr.ridge_impulses(np.random.default_rng(0), rate, SR, jitter=0.0)
    assert np.count_nonzero(imp) in range(798, 802)


def test_brushing_mic_stroke_sweeps_down() -> None:
    """The mic brush's band sweeps down along each stroke (the swoosh)."""
    from susurrus.triggers.brushing import Brushing

    t = Brushing(sr=SR, rng=np.random.default_rng(5), variant="mic", stroke_s=0.6)
    first, second = [], []
    for _ in range(8):
        wave, _gap = t._event()
        n = int(0.6 * 0.8 * SR)  # the shortest stroke: compare its two halves
        low = fr.shape(wave[:n], SR, lambda f: fr.lowpass_gain(f, 4000.0, 4), pad=0)
        first.append(centroid_hz(low[n // 8 : 3 * n // 8]))
        second.append(centroid_hz(low[5 * n // 8 : 7 * n // 8]))
    assert np.median(first) > 1.08 * np.median(second)


def test_brushing_has_quiet_gaps_between_strokes() -> None:
    y = render("brushing", "mic", 10.0, stroke_rate_hz=0.8)
    env = envelope_db(y, 20)
    assert np.percentile(env, 95) - np.percentile(env, 10) > 20.0


@pytest.mark.parametrize("variant", ["paper", "plastic", "foil"])
def test_crinkling_is_not_limited(variant: str) -> None:
    """Loud gestures are turned down linearly, never clipped or saturated."""
    from susurrus.triggers.crinkling import _PEAK

    y = render("crinkling", variant, 8.0, seed=3)
    assert np.abs(y).max() <= _PEAK + 1e-6


# -- page turning, scratching, writing: room tone, linear level, moving band ------------


@pytest.mark.parametrize(
    ("family", "variant"),
    [("page-turning", "default"), ("scratching", "default"), ("writing", "pencil")],
)
def test_stroke_families_have_room_tone_not_silence(family: str, variant: str) -> None:
    """Between the events a faint room tone, 20–45 dB under the events, never digital
    silence; and loud events are turned down linearly (peaks ≤ the guard, no saturation)."""
    from susurrus.triggers._strokes import PEAK

    y = render(family, variant, 10.0, seed=4)
    env = envelope_db(y, 20)
    floor, loud = np.percentile(env, 2), np.percentile(env, 99)
    assert floor > -90.0
    assert 20.0 < loud - floor < 45.0 + 10.0
    assert np.abs(y).max() <= PEAK + 0.01  # events ≤ PEAK; the bed adds a hair


def test_room_tone_level_and_continuity() -> None:
    from susurrus.triggers._strokes import RoomTone

    bed = RoomTone(SR, 0.01)
    rng = np.random.default_rng(0)
    y = np.concatenate([bed(rng, 4096) for _ in range(40)])
    assert fr.rms(y[SR // 10 :]) == pytest.approx(0.01, rel=0.1)
    spec = np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(len(y), 1.0 / SR)
    assert spec[(f > 300) & (f < 1000)].mean() > 10 * spec[f > 10000].mean()  # dark


def test_peak_guard_is_linear() -> None:
    from susurrus.triggers._strokes import peak_guard

    x = np.sin(np.linspace(0.1, 20, 1000)) * 2.0
    y = peak_guard(x.copy(), 0.6)
    assert np.abs(y).max() == pytest.approx(0.6)
    assert np.allclose(y, x * 0.6 / np.abs(x).max())  # one gain, no distortion
    small = 0.1 * np.ones(10)
    assert np.array_equal(peak_guard(small.copy(), 0.6), small)


def test_swept_band_follows_the_centre() -> None:
    """A band whose centre glides from 1 to 4 kHz: the output's centroid glides with it."""
    from susurrus.triggers._strokes import swept_band

    rng = np.random.default_rng(0)
    n = SR
    log_c = np.linspace(np.log(1000.0), np.log(4000.0), n)
    y = swept_band(rng.standard_normal(n), SR, log_c, n_bands=6, width=0.4, q=2.0, pad=0)
    first, last = centroid_hz(y[: n // 5]), centroid_hz(y[-n // 5 :])
    # the centre moves 2 octaves; the band-pass skirts lift both centroids alike
    assert 1.7 < last / first < 3.0


def test_scratching_band_rises_with_stroke_speed() -> None:
    """Within a stroke the band follows the speed: the fast middle is brighter than the
    slow start and end."""
    from susurrus.triggers.scratching import Scratching

    t = Scratching(sr=SR, rng=np.random.default_rng(2), variant="default", roughness=1.0)
    mid, ends = [], []
    for _ in range(10):
        wave, _gap = t._event()
        n = len(wave) - 512
        q = n // 8
        mid.append(centroid_hz(wave[3 * q : 5 * q]))
        ends.append(
            centroid_hz(
                np.concatenate([wave[q // 2 : 3 * q // 2], wave[-3 * q // 2 - 512 : -q // 2 - 512]])
            )
        )
    assert np.median(mid) > 1.2 * np.median(ends)


def test_writing_events_are_words_of_short_strokes() -> None:
    """Each event is a word: 3–9 strokes of 40–180 ms (at the unscaled tempo) separated
    by pen lifts, then a longer pause before the next word."""
    import copy

    from susurrus.triggers.writing import _NATURAL_RATE, _WORD_STROKES, Writing

    t = Writing(sr=SR, rng=np.random.default_rng(1), variant="pencil", strokes_per_s=_NATURAL_RATE)
    for _ in range(8):
        n_strokes = int(copy.deepcopy(t.rng).integers(*_WORD_STROKES))  # the word's first draw
        word, gap = t._event()
        seen = count_onsets(word, win_ms=8, drop_db=12, min_gap_s=0.02)
        assert abs(seen - n_strokes) <= 2
        assert (len(word) - 512) / SR < n_strokes * (0.18 + 0.135) + 0.01
        assert gap > (len(word) - 512) / SR + 0.2  # the pause between words
