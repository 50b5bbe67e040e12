"""Known-answer tests for the bed families: noise, rain, water, breathing."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal as sps

from susurrus.errors import ParameterError
from susurrus.triggers import create
from susurrus.triggers.noise import NOMINAL_SLOPE_DB_PER_OCT, iso226_spl

BEDS = [
    ("noise", "white"),
    ("noise", "pink"),
    ("noise", "brown"),
    ("noise", "grey"),
    ("rain", "light"),
    ("rain", "window"),
    ("rain", "tent"),
    ("water", "pouring"),
    ("water", "droplets"),
    ("water", "stream"),
    ("breathing", "slow"),
    ("breathing", "calm"),
]


def _render(
    family: str, variant: str, seconds: float, *, sr: int = 48000, seed: int = 0, **params: float
) -> np.ndarray:
    t = create(family, variant, sr=sr, rng=np.random.default_rng(seed), **params)
    return t.render(seconds)[0].astype(np.float64)


def _db(x: float) -> float:
    return float(10 * np.log10(x))


def _rms_db(y: np.ndarray) -> float:
    return _db(float(np.mean(y**2)))


def _octave_psd_db(y: np.ndarray, sr: int, centres: np.ndarray) -> np.ndarray:
    """Mean Welch PSD (dB) in each octave band [fc/√2, fc·√2)."""
    f, p = sps.welch(y, sr, nperseg=8192)
    out = []
    for c in centres:
        band = (f >= c / np.sqrt(2)) & (f < c * np.sqrt(2))
        out.append(_db(float(p[band].mean())))
    return np.array(out)


def _centroid_hz(y: np.ndarray, sr: int) -> float:
    f, p = sps.welch(y, sr, nperseg=4096)
    return float(np.sum(f * p) / np.sum(p))


# -- noise -------------------------------------------------------------------------------


def test_iso226_contour_matches_published_40_phon_values() -> None:
    # ISO 226:2003 Table/Annex values of the 40-phon contour
    f = np.array([20.0, 100.0, 1000.0, 4000.0, 12500.0])
    expected = np.array([99.85, 64.37, 40.01, 36.65, 51.49])
    assert np.allclose(iso226_spl(f, 40.0), expected, atol=0.02)


@pytest.mark.parametrize("sr", [48000, 44100])
@pytest.mark.parametrize("variant", ["white", "pink", "brown"])
def test_noise_octave_slope_within_half_db(variant: str, sr: int) -> None:
    y = _render("noise", variant, 60.0, sr=sr, seed=3)
    centres = 1000.0 * 2.0 ** np.arange(-4, 5)  # 62.5 Hz … 16 kHz
    band_db = _octave_psd_db(y, sr, centres)
    nominal = NOMINAL_SLOPE_DB_PER_OCT[variant] * np.log2(centres / 1000.0)
    dev = band_db - nominal
    dev -= dev.mean()  # best-fit line of the nominal slope
    assert np.max(np.abs(dev)) <= 0.5, dev


@pytest.mark.parametrize("sr", [48000, 44100])
def test_grey_noise_follows_inverse_iso226_40_phon(sr: int) -> None:
    y = _render("noise", "grey", 60.0, sr=sr, seed=4)
    centres = 1000.0 * 2.0 ** np.arange(-4, 4)  # 62.5 Hz … 8 kHz
    dev = _octave_psd_db(y, sr, centres) - iso226_spl(centres, 40.0)
    dev -= dev.mean()
    assert np.max(np.abs(dev)) <= 2.0, dev


@pytest.mark.parametrize("variant", ["white", "pink", "brown", "grey"])
def test_noise_level_is_minus_20_dbfs_rms(variant: str) -> None:
    y = _render("noise", variant, 10.0)
    assert _rms_db(y) == pytest.approx(-20.0, abs=0.5)
    assert np.max(np.abs(y)) < 0.7


def test_noise_tilt_moves_centroid() -> None:
    dark = _centroid_hz(_render("noise", "pink", 5.0, tilt_db_per_oct=-2.0), 48000)
    plain = _centroid_hz(_render("noise", "pink", 5.0), 48000)
    bright = _centroid_hz(_render("noise", "pink", 5.0, tilt_db_per_oct=2.0), 48000)
    assert dark < plain < bright


def test_noise_low_cut_removes_rumble() -> None:
    def below(y: np.ndarray) -> float:
        f, p = sps.welch(y, 48000, nperseg=8192)
        return float(p[(f > 5) & (f < 40)].sum() / p.sum())

    assert below(_render("noise", "brown", 10.0, low_cut_hz=150.0)) < 0.1 * below(
        _render("noise", "brown", 10.0)
    )


def test_grey_noise_starts_its_contour_at_40_hz() -> None:
    """Grey's default low cut is 40 Hz: far less sub-bass than with the contour to 20 Hz."""

    def sub(y: np.ndarray) -> float:
        f, p = sps.welch(y, 48000, nperseg=16384)
        return float(p[(f > 8) & (f < 25)].sum() / p.sum())

    default = _render("noise", "grey", 10.0, seed=1)
    full = _render("noise", "grey", 10.0, seed=1, low_cut_hz=20.0)
    assert sub(default) < 0.2 * sub(full)


# -- rain --------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["light", "window", "tent"])
def test_rain_drop_count_follows_density(variant: str) -> None:
    counts = []
    for density in (50.0, 200.0, 800.0):
        t = create("rain", variant, sr=48000, rng=np.random.default_rng(1), density_per_s=density)
        t.render(10.0)
        counts.append(t.drops_emitted)
        # Poisson: within 5 standard deviations of density × time (chunk granularity aside)
        emitted_s = t.drops_emitted / density
        assert 9.0 < emitted_s < 11.5
    assert counts[0] < counts[1] < counts[2]


@pytest.mark.parametrize(
    ("variant", "rel_threshold", "min_gap"), [("light", 0.03, 3), ("tent", 0.1, 5)]
)
def test_rain_onset_density_in_audio_scales_with_density(
    variant: str, rel_threshold: float, min_gap: int
) -> None:
    """Onsets counted from the audio (sparse rain, no wash) track the density parameter."""
    for density in (5.0, 15.0):
        t = create(
            "rain", variant, sr=48000, rng=np.random.default_rng(2), density_per_s=density, wash=0.0
        )
        y = t.render(20.0)[0].astype(np.float64)
        hop = 96  # 2 ms frames
        e = np.sqrt(np.mean(y[: len(y) // hop * hop].reshape(-1, hop) ** 2, axis=1))
        peaks, _ = sps.find_peaks(e, height=rel_threshold * np.quantile(e, 0.999), distance=min_gap)
        expected = density * 20.0
        assert 0.75 * expected < t.drops_emitted < 1.25 * expected
        assert 0.8 * t.drops_emitted < len(peaks) < 1.15 * t.drops_emitted


@pytest.mark.parametrize("variant", ["light", "window", "tent"])
def test_rain_brightness_moves_centroid(variant: str) -> None:
    dull = _centroid_hz(_render("rain", variant, 5.0, brightness=0.0), 48000)
    bright = _centroid_hz(_render("rain", variant, 5.0, brightness=1.0), 48000)
    assert bright > 1.15 * dull


@pytest.mark.parametrize("variant", ["light", "window", "tent"])
def test_rain_level_and_peaks(variant: str) -> None:
    y = _render("rain", variant, 10.0)
    assert -27.0 < _rms_db(y) < -18.0
    assert np.max(np.abs(y)) <= 0.71


def test_rain_wash_adds_steady_power() -> None:
    """More wash: a steadier signal (lower crest factor of the 10 ms envelope)."""

    def crest(y: np.ndarray) -> float:
        e = np.sqrt(np.mean(y[: len(y) // 480 * 480].reshape(-1, 480) ** 2, axis=1))
        return float(np.quantile(e, 0.99) / np.median(e))

    assert crest(_render("rain", "light", 5.0, wash=0.8)) < crest(
        _render("rain", "light", 5.0, wash=0.0)
    )


# -- every bed: determinism, block-size independence, parameter errors --------------------


@pytest.mark.parametrize(("family", "variant"), BEDS)
def test_same_seed_same_bytes_and_block_independence(family: str, variant: str) -> None:
    n = 48000 * 3
    one = create(family, variant, sr=48000, rng=np.random.default_rng(7)).read(n)
    t = create(family, variant, sr=48000, rng=np.random.default_rng(7))
    sizes = [1, 511, 4097, 33, 20000, 7]
    parts, got = [], 0
    i = 0
    while got < n:
        k = min(sizes[i % len(sizes)], n - got)
        parts.append(t.read(k))
        got += k
        i += 1
    many = np.concatenate(parts, axis=1)
    assert one.dtype == np.float32 and one.shape == (1, n)
    assert np.array_equal(one, many)
    other = create(family, variant, sr=48000, rng=np.random.default_rng(8)).read(n)
    assert not np.array_equal(one, other)


@pytest.mark.parametrize(
    ("family", "name", "bad"),
    [
        ("noise", "tilt_db_per_oct", 9.0),
        ("noise", "low_cut_hz", 1.0),
        ("rain", "density_per_s", 0.0),
        ("rain", "brightness", 1.5),
        ("water", "rate_per_s", -1.0),
        ("breathing", "rate_per_min", 40.0),
    ],
)
def test_bad_parameter_names_value_and_range(family: str, name: str, bad: float) -> None:
    with pytest.raises(ParameterError) as err:
        create(family, sr=48000, rng=np.random.default_rng(0), **{name: bad})
    msg = str(err.value)
    assert name in msg and f"{bad!r}" in msg and " to " in msg


# -- water -------------------------------------------------------------------------------


def test_droplet_rate_follows_parameter() -> None:
    for rate in (0.5, 2.0):
        t = create("water", "droplets", sr=48000, rng=np.random.default_rng(3), rate_per_s=rate)
        y = t.render(60.0)[0].astype(np.float64)
        assert 0.85 * rate * 60 < t.events_emitted < 1.15 * rate * 60
        # count drips in the audio: onsets of the 5 ms envelope
        hop = 240
        e = np.sqrt(np.mean(y[: len(y) // hop * hop].reshape(-1, hop) ** 2, axis=1))
        peaks, _ = sps.find_peaks(e, height=0.2 * e.max(), distance=int(0.15 * 48000 / hop))
        assert abs(len(peaks) - t.events_emitted) <= max(2, 0.1 * t.events_emitted)


def test_droplet_trickle_level_follows_parameter() -> None:
    """Between drips only the distant trickle remains, at ``trickle_db`` dBFS RMS."""

    def gaps_db(level_db: float) -> float:
        y = _render("water", "droplets", 20.0, seed=2, trickle_db=level_db)
        hop = 480
        e = np.mean(y[: len(y) // hop * hop].reshape(-1, hop) ** 2, axis=1)
        quiet = e[e <= np.quantile(e, 0.3)]  # the quietest 30 % of 10 ms frames
        return _db(max(float(np.mean(quiet)), 1e-20))

    off, soft, loud = gaps_db(-90.0), gaps_db(-60.0), gaps_db(-45.0)
    assert off < -80.0  # only the drips' decayed tails
    assert loud - soft == pytest.approx(15.0, abs=2.0)
    assert -50.0 < loud < -44.0  # ≈ the set RMS (the quiet frames sit a little lower)
    # and its spectrum is dull: heard from afar, little above the 2 kHz low-pass
    y = _render("water", "droplets", 10.0, seed=2, trickle_db=-45.0, rate_per_s=0.2)
    f, p = sps.welch(y[int(5.5 * 48000) :], 48000, nperseg=4096)
    assert p[(f > 6000) & (f < 12000)].mean() < 0.01 * p[(f > 300) & (f < 1500)].mean()


def test_pouring_resonance_rises_over_a_pour() -> None:
    t = create("water", "pouring", sr=48000, rng=np.random.default_rng(5), fill_s=10.0)
    synth = t._synth
    start_f = synth.resonance_hz(0.0)
    end_f = synth.resonance_hz(1.0)
    assert end_f > 2.5 * start_f
    # measured in the audio: the spectral peak (200 Hz – 3 kHz) early vs late in the pour
    synth.pour_t = 0.0
    y = t.render(synth.pour_len)[0].astype(np.float64)
    n = len(y)

    def peak_hz(seg: np.ndarray) -> float:
        f, p = sps.welch(seg, 48000, nperseg=4096)
        band = (f > 200) & (f < 3000)
        return float(f[band][np.argmax(p[band])])

    early = peak_hz(y[int(0.05 * n) : int(0.3 * n)])
    late = peak_hz(y[int(0.7 * n) : int(0.95 * n)])
    assert late > 1.5 * early, (early, late)


@pytest.mark.parametrize("variant", ["pouring", "stream"])
def test_water_brightness_moves_centroid(variant: str) -> None:
    dull = _centroid_hz(_render("water", variant, 6.0, brightness=0.0), 48000)
    bright = _centroid_hz(_render("water", variant, 6.0, brightness=1.0), 48000)
    assert bright > 1.15 * dull


@pytest.mark.parametrize("variant", ["pouring", "droplets", "stream"])
def test_water_levels(variant: str) -> None:
    y = _render("water", variant, 10.0)
    assert np.max(np.abs(y)) <= 0.71
    if variant != "droplets":
        assert -24.0 < _rms_db(y) < -17.0


# -- breathing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "rate"), [("slow", 6.0), ("calm", 10.0), ("calm", 4.0), ("slow", 12.0)]
)
def test_breaths_per_minute_match_rate(variant: str, rate: float) -> None:
    """Breath rate measured from the envelope's autocorrelation matches ±10 %."""
    y = _render("breathing", variant, 120.0, seed=6, rate_per_min=rate)
    hop = 480  # 10 ms
    e = np.sqrt(np.mean(y[: len(y) // hop * hop].reshape(-1, hop) ** 2, axis=1))
    e = e - e.mean()
    ac = np.correlate(e, e, "full")[len(e) - 1 :]
    period = 60.0 / rate / 0.01  # frames
    lo, hi = int(0.6 * period), int(1.5 * period)
    lag = lo + int(np.argmax(ac[lo:hi]))
    measured = 60.0 / (lag * 0.01)
    assert measured == pytest.approx(rate, rel=0.1)


def test_breathing_is_not_a_loop() -> None:
    """Every breath differs: lengths vary, and no two breaths correlate strongly."""
    t = create("breathing", "calm", sr=48000, rng=np.random.default_rng(2))
    y = t.render(60.0)[0].astype(np.float64)
    onsets = np.array(t.onsets_s)
    gaps = np.diff(onsets)
    assert np.std(gaps) > 0.01 * np.mean(gaps)
    a = y[int(onsets[1] * 48000) : int(onsets[1] * 48000) + 48000 * 2]
    b = y[int(onsets[2] * 48000) : int(onsets[2] * 48000) + 48000 * 2]
    ncc = np.max(np.abs(sps.correlate(a, b, "full"))) / np.sqrt(np.sum(a**2) * np.sum(b**2))
    assert ncc < 0.5


def test_breathing_exhale_softer_and_lower_than_inhale() -> None:
    t = create("breathing", "slow", sr=48000, rng=np.random.default_rng(4), pause_frac=0.2)
    y = t.render(40.0)[0].astype(np.float64)
    on = t.onsets_s[1]
    period = 10.0
    active = period * 0.8
    t_in = active * 0.67 / 1.67
    inh = y[int((on + 0.3 * t_in) * 48000) : int((on + 0.9 * t_in) * 48000)]
    exh = y[int((on + t_in + 0.6) * 48000) : int((on + active - 1.5) * 48000)]
    assert _rms_db(exh) < _rms_db(inh)
    assert _centroid_hz(exh, 48000) < _centroid_hz(inh, 48000)


def test_diffuse_noise_is_the_noise_then_the_decorrelation_filters() -> None:
    """One pass through ``shape ∗ decorrelation`` equals the two filters in a row."""
    from susurrus.dsp import decorrelation_filters

    t = create("noise", "pink", sr=48000, rng=np.random.default_rng(4))
    dec = decorrelation_filters(np.random.default_rng(5), sr=48000)
    replay = np.random.Generator(np.random.PCG64())
    replay.bit_generator.state = t.rng.bit_generator.state  # the white noise it will draw
    bed = t.diffuse(dec)
    n = 3 * bed.chunk + 1234
    y = np.concatenate([bed.read(5000), bed.read(n - 5000)], axis=1)
    bank_len = bed.n_taps
    from susurrus.triggers._liquids import white as white_noise

    white = np.concatenate([white_noise(replay, bank_len),
                            *[white_noise(replay, bed.chunk) for _ in range(4)]]).astype(np.float64)
    shaped = sps.fftconvolve(white, t._fir.taps[0])
    for c in range(2):
        ref = sps.fftconvolve(shaped, dec[c])[bank_len : bank_len + n]
        assert np.max(np.abs(y[c] - ref)) < 1e-4 * np.max(np.abs(ref))


@pytest.mark.parametrize("variant", ["pink", "brown"])
def test_diffuse_noise_keeps_the_octave_slope_on_each_channel(variant: str) -> None:
    from susurrus.dsp import decorrelation_filters

    t = create("noise", variant, sr=48000, rng=np.random.default_rng(6))
    y = t.diffuse(decorrelation_filters(np.random.default_rng(7), sr=48000)).read(48000 * 60)
    centres = 1000.0 * 2.0 ** np.arange(-4, 5)
    nominal = NOMINAL_SLOPE_DB_PER_OCT[variant] * np.log2(centres / 1000.0)
    for ch in y.astype(np.float64):
        dev = _octave_psd_db(ch, 48000, centres) - nominal
        assert np.max(np.abs(dev - dev.mean())) <= 0.5, dev
        assert abs(_rms_db(ch) - -20.0) < 0.5  # the noise's own level
