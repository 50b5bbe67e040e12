"""Known answers for the impact-type triggers: tapping, clock, heartbeat, typing, scissors, fire."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from susurrus.errors import ParameterError
from susurrus.triggers._impacts import OnsetGrid, contact_gain, damped_modes
from susurrus.triggers.base import Trigger
from susurrus.triggers.clock import Clock
from susurrus.triggers.fire import Fire
from susurrus.triggers.heartbeat import Heartbeat
from susurrus.triggers.scissors import Scissors
from susurrus.triggers.tapping import Tapping
from susurrus.triggers.typing import Typing

SR = 16000  # tests render at a low rate to stay fast; the physics is rate-independent

ALL: list[tuple[type[Trigger], str]] = [
    (Tapping, "wood"),
    (Tapping, "glass"),
    (Tapping, "plastic"),
    (Tapping, "fingernails"),
    (Clock, "ticking"),
    (Heartbeat, "slow"),
    (Heartbeat, "resting"),
    (Typing, "keyboard"),
    (Typing, "typewriter"),
    (Scissors, "haircut"),
    (Fire, "fireplace"),
]


def make(
    cls: type[Trigger], variant: str | None = None, seed: int = 0, sr: int = SR, **kw: float
) -> Trigger:
    return cls(sr=sr, rng=np.random.default_rng(seed), variant=variant, **kw)


def onsets(
    y: np.ndarray,
    sr: int,
    *,
    refractory_s: float,
    rel_threshold: float = 0.2,
    smooth_s: float = 0.002,
) -> np.ndarray:
    """Onset times (s): upward crossings of a fraction of the peak of a fast energy envelope."""
    e = np.abs(y.reshape(-1)).astype(np.float64)
    w = max(1, int(smooth_s * sr))
    env = np.convolve(e, np.ones(w) / w, mode="same")
    above = env > rel_threshold * env.max()
    idx = np.flatnonzero(above[1:] & ~above[:-1]) + 1
    out: list[int] = []
    for i in idx:
        if not out or i - out[-1] > refractory_s * sr:
            out.append(int(i))
    return np.asarray(out) / sr


def centroid_hz(y: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(y.reshape(-1))) ** 2
    f = np.fft.rfftfreq(y.size, 1 / sr)
    return float((f * spec).sum() / spec.sum())


# -- helpers -------------------------------------------------------------------------


def test_damped_modes_matches_direct_formula() -> None:
    sr = 48000
    f = np.array([440.0, 1234.0, 5000.0])
    d = np.array([0.2, 0.05, 0.01])
    a = np.array([1.0, 0.5, 0.25])
    ph = np.array([0.0, 1.0, 2.0])
    t = np.arange(3000) / sr
    ref = (
        a[:, None] * np.exp(-t / d[:, None]) * np.sin(2 * np.pi * f[:, None] * t + ph[:, None])
    ).sum(0)
    np.testing.assert_allclose(damped_modes(sr, 3000, f, d, a, ph), ref, atol=1e-9)


def test_contact_gain_is_a_low_pass_in_contact_time() -> None:
    f = np.array([100.0, 1000.0, 5000.0])
    assert contact_gain(f, 1e-3)[0] == pytest.approx(1.0, abs=0.02)
    assert contact_gain(f, 1e-3)[2] < 0.1
    assert np.all(contact_gain(f, 0.1e-3) >= contact_gain(f, 1e-3) - 1e-12)  # shorter: brighter


@given(st.lists(st.floats(0.01, 3.0), min_size=1, max_size=50))
@settings(max_examples=50, deadline=None)
def test_onset_grid_never_drifts(periods: list[float]) -> None:
    sr = 44100
    g = OnsetGrid(sr)
    pos = 0
    for p in periods:
        pos += int(round(g.advance(p) * sr))
    assert abs(pos - sum(periods) * sr) <= 0.5 + 1e-6


# -- contract pieces specific to these families -----------------------------------------


@pytest.mark.parametrize(("cls", "variant"), ALL)
def test_deterministic_and_block_size_independent(cls: type[Trigger], variant: str) -> None:
    n = 3 * SR
    one = make(cls, variant, seed=3).read(n)
    t = make(cls, variant, seed=3)
    parts = []
    left = n
    for b in [1, 7, 1000, 4095, 333]:
        parts.append(t.read(min(b, left)))
        left -= b
    parts.append(t.read(left))
    many = np.concatenate(parts, axis=1)
    assert np.array_equal(one, many)
    assert not np.array_equal(one, make(cls, variant, seed=4).read(n))
    assert one.dtype == np.float32 and one.shape == (1, n)
    assert np.abs(one).max() <= 0.75  # peaks ≤ about −3 dBFS, no clipping
    assert np.abs(one).max() > 0.01


@pytest.mark.parametrize(
    ("cls", "name", "value"),
    [
        (Tapping, "tempo_bpm", 5000.0),
        (Clock, "tick_rate_hz", 0.0),
        (Heartbeat, "rate_bpm", 300.0),
        (Typing, "speed_wpm", -1.0),
        (Scissors, "snip_rate_hz", 100.0),
        (Fire, "crackle_density_per_s", 1e6),
    ],
)
def test_bad_parameter_names_itself_the_value_and_the_range(
    cls: type[Trigger], name: str, value: float
) -> None:
    with pytest.raises(ParameterError) as e:
        make(cls, **{name: value})
    msg = str(e.value)
    assert name in msg and repr(value) in msg and " to " in msg


# -- tapping ---------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["wood", "glass", "plastic", "fingernails"])
@pytest.mark.parametrize("tempo", [90.0, 240.0])
def test_tapping_tempo_from_onsets(variant: str, tempo: float) -> None:
    """Steady mode (burstiness 0): the median inter-onset interval is 60/tempo ±10 %."""
    period = 60.0 / tempo
    y = make(Tapping, variant, seed=1, tempo_bpm=tempo, burstiness=0.0).render(20.0)
    on = onsets(y, SR, refractory_s=0.5 * period, rel_threshold=0.15)
    measured = 60.0 / float(np.median(np.diff(on)))
    assert measured == pytest.approx(tempo, rel=0.10)


def test_tapping_bursts_add_quick_rolls() -> None:
    """The scheduled inter-onset gaps: none below 0.1 s when steady, many in rolls."""
    short = []
    for burst in (0.0, 1.0):
        t = make(Tapping, "wood", seed=2, tempo_bpm=120.0, burstiness=burst)
        gaps = np.array([t._event()[1] for _ in range(200)])
        short.append(np.mean(gaps < 0.1))
    assert short[0] == 0.0
    assert short[1] > 0.2


@pytest.mark.parametrize("name", ["brightness", "hardness"])
def test_tapping_brightness_and_hardness_raise_the_centroid(name: str) -> None:
    for variant in ("wood", "plastic"):
        lo = centroid_hz(make(Tapping, variant, seed=5, **{name: 0.0}).render(8.0), SR)
        hi = centroid_hz(make(Tapping, variant, seed=5, **{name: 1.0}).render(8.0), SR)
        assert hi > 1.1 * lo


# -- clock -----------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [1.0, 2.0, 4.0])
def test_clock_ticks_are_evenly_spaced(rate: float) -> None:
    y = make(Clock, seed=0, tick_rate_hz=rate).render(12.0)
    on = onsets(y, SR, refractory_s=0.5 / rate, rel_threshold=0.3)
    d = np.diff(on)
    assert len(d) >= 10 * rate
    np.testing.assert_allclose(d, 1.0 / rate, rtol=0.02)


def test_clock_ticks_are_never_sample_identical() -> None:
    sr = SR
    y = make(Clock, seed=0, tick_rate_hz=2.0).render(10.0).reshape(-1)
    on = onsets(y, sr, refractory_s=0.25, rel_threshold=0.3)
    ticks = [y[int(t * sr) - 10 : int(t * sr) + 1000] for t in on if int(t * sr) > 10]
    for i in range(len(ticks)):
        for j in range(i + 1, len(ticks)):
            assert not np.array_equal(ticks[i], ticks[j])
    # tick and tock differ in timbre: alternate ticks are more alike than neighbours
    c = [centroid_hz(t, sr) for t in ticks]
    odd, even = np.mean(c[1::2]), np.mean(c[0::2])
    assert abs(odd - even) > 0.02 * max(odd, even)


def test_clock_ticks_are_dry() -> None:
    """A close clock tick is a short click and a ring damped in ms: ≥ 95 % of a beat's
    energy lies within 25 ms of its onset (a resonant case would ring on)."""
    y = make(Clock, seed=2, tick_rate_hz=2.0).render(6.0).reshape(-1).astype(np.float64)
    on = onsets(y, SR, refractory_s=0.25, rel_threshold=0.3)
    for t in on[:-1]:
        i = max(0, int(t * SR) - 16)
        beat = y[i : i + int(0.45 * SR)] ** 2
        assert beat[: int(0.025 * SR) + 16].sum() >= 0.95 * beat.sum()


def test_clock_brightness_raises_the_centroid() -> None:
    lo = centroid_hz(make(Clock, seed=1, brightness=0.0).render(5.0), SR)
    hi = centroid_hz(make(Clock, seed=1, brightness=1.0).render(5.0), SR)
    assert hi > 1.1 * lo


# -- heartbeat -------------------------------------------------------------------------


def heart_rate_bpm(y: np.ndarray, sr: int) -> float:
    """Rate from the autocorrelation of the beat envelope (lags 0.45–1.8 s)."""
    e = np.abs(y.reshape(-1)).astype(np.float64)
    hop = sr // 200
    env = e[: len(e) // hop * hop].reshape(-1, hop).mean(1)
    env = env - env.mean()
    ac = np.correlate(env, env, mode="full")[len(env) - 1 :]
    lo, hi = int(0.45 * 200), int(1.8 * 200)
    lag = lo + int(np.argmax(ac[lo:hi]))
    return 60.0 / (lag / 200.0)


@pytest.mark.parametrize(
    ("variant", "rate"), [("slow", 45.0), ("slow", 60.0), ("resting", 72.0), ("resting", 100.0)]
)
def test_heartbeat_rate_from_beats(variant: str, rate: float) -> None:
    y = make(Heartbeat, variant, seed=2, rate_bpm=rate).render(40.0)
    assert heart_rate_bpm(y, SR) == pytest.approx(rate, rel=0.05)


def test_heartbeat_sits_in_the_low_band_and_brightness_opens_it() -> None:
    y = make(Heartbeat, "slow", seed=0).render(10.0)
    spec = np.abs(np.fft.rfft(y.reshape(-1))) ** 2
    f = np.fft.rfftfreq(y.size, 1 / SR)
    share = spec[(f >= 40) & (f <= 250)].sum() / spec.sum()
    assert share > 0.8
    lo = centroid_hz(make(Heartbeat, "slow", seed=0, brightness=0.0).render(10.0), SR)
    hi = centroid_hz(make(Heartbeat, "slow", seed=0, brightness=1.0).render(10.0), SR)
    assert hi > lo


def test_heartbeats_are_never_sample_identical() -> None:
    t = make(Heartbeat, "resting", seed=0)
    waves = [t._event()[0] for _ in range(20)]
    for i in range(len(waves)):
        for j in range(i + 1, len(waves)):
            assert waves[i].shape != waves[j].shape or not np.array_equal(waves[i], waves[j])


# -- typing ----------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["keyboard", "typewriter"])
def test_typing_speed_changes_keystroke_count(variant: str) -> None:
    counts = []
    for wpm in (20.0, 80.0):
        y = make(Typing, variant, seed=0, speed_wpm=wpm, pauses=0.0).render(20.0)
        counts.append(len(onsets(y, SR, refractory_s=0.03, rel_threshold=0.15)))
    assert counts[1] > 2.0 * counts[0]


@pytest.mark.parametrize("variant", ["keyboard", "typewriter"])
@pytest.mark.parametrize("name", ["brightness", "hardness"])
def test_typing_brightness_and_hardness_raise_the_centroid(variant: str, name: str) -> None:
    """Brightness scales the board's modes; hardness raises the contact noise and tilts
    the excitation up. Measured on the keystrokes themselves (a margin bell or a
    carriage return in a short render would dominate the typewriter's spectrum)."""
    cents = []
    for value in (0.0, 1.0):
        t = make(Typing, variant, seed=1, **{name: value})
        tw = variant == "typewriter"
        waves = [t._typebar() if tw else t._keystroke(False) for _ in range(40)]  # type: ignore[attr-defined]
        cents.append(np.mean([centroid_hz(w, SR) for w in waves]))
    # a typewriter's slug strikes steel type on a platen: its fixed modes move less
    assert cents[1] > (1.03 if variant == "typewriter" else 1.05) * cents[0]


# -- scissors --------------------------------------------------------------------------


def test_scissors_snip_rate_and_sharpness() -> None:
    slow = make(Scissors, seed=0, snip_rate_hz=1.5, pause_s=0.2).render(20.0)
    fast = make(Scissors, seed=0, snip_rate_hz=6.0, pause_s=0.2).render(20.0)
    n_slow = len(onsets(slow, SR, refractory_s=0.1, rel_threshold=0.3))
    n_fast = len(onsets(fast, SR, refractory_s=0.1, rel_threshold=0.3))
    assert n_fast > 1.8 * n_slow
    dull = centroid_hz(make(Scissors, seed=0, sharpness=0.0).render(8.0), SR)
    sharp = centroid_hz(make(Scissors, seed=0, sharpness=1.0).render(8.0), SR)
    assert sharp > 1.05 * dull


def test_scissors_shear_is_a_rising_narrow_band_at_the_blade_mode() -> None:
    """One snip: the shear's spectrum peaks at the blade resonance (±15 %), half an
    octave wide, and its level rises steeply through the stroke."""
    for sharpness in (0.0, 1.0):
        t = make(Scissors, seed=3, sharpness=sharpness)
        fc = Scissors._K["blade_hz"] * (0.85 + 0.3 * sharpness)
        specs = []
        for _ in range(20):
            y = t._snip()  # type: ignore[attr-defined]
            shear = y[: len(y) - int(0.003 * SR)]
            third = len(shear) // 3
            assert np.sum(shear[-third:] ** 2) > 20.0 * np.sum(shear[:third] ** 2)
            specs.append(np.abs(np.fft.rfft(shear, 4096)) ** 2)
        spec = np.mean(specs, axis=0)
        f = np.fft.rfftfreq(4096, 1 / SR)
        peak = f[np.argmax(np.convolve(spec, np.ones(9) / 9, mode="same"))]
        assert peak == pytest.approx(fc, rel=0.15)
        band = (f > fc / 2**0.5) & (f < fc * 2**0.5)  # one octave around the mode
        assert spec[band].sum() > 0.8 * spec.sum()


# -- fire ------------------------------------------------------------------------------


def test_fire_crackle_density_scales_with_its_parameter() -> None:
    counts = []
    for d in (2.0, 16.0):
        y = make(Fire, seed=0, crackle_density_per_s=d, roar=0.0).render(30.0).reshape(-1)
        e = np.abs(y)
        peaks = (e > 0.02) & (e >= np.roll(e, 1)) & (e >= np.roll(e, -1))
        counts.append(
            len(onsets(np.where(peaks, e, 0.0), SR, refractory_s=0.002, rel_threshold=0.0))
        )
    ratio = counts[1] / max(counts[0], 1)
    assert 4.0 < ratio < 16.0


def test_fire_brightness_raises_the_centroid() -> None:
    lo = centroid_hz(make(Fire, seed=2, brightness=0.0).render(8.0), SR)
    hi = centroid_hz(make(Fire, seed=2, brightness=1.0).render(8.0), SR)
    assert hi > 1.2 * lo


def test_fire_pop_sizes_are_pareto_and_the_density_matches() -> None:
    """Ten minutes of the cluster process: mean rate = density, sizes Pareto with α = 1.8."""
    density = 30.0
    t = make(Fire, seed=1, crackle_density_per_s=density)
    minutes = 10
    t._schedule(minutes * 60 * SR)  # type: ignore[attr-defined]
    pops = t._pending  # type: ignore[attr-defined]
    assert len(pops) / (minutes * 60) == pytest.approx(density, rel=0.05)
    a = np.abs(pops[:, 1]) / Fire._K["pop_scale"]  # Pareto on [1, ∞), clipped at 16
    assert a.min() >= 1.0 - 1e-12
    alpha = len(a) / np.log(a).sum()  # maximum-likelihood (Hill) estimate of the exponent
    assert alpha == pytest.approx(1.8, rel=0.08)
    # a power law: the largest pops are many times the median (Pareto 1.8: ≈ 8.8×)
    assert np.quantile(a, 0.99) > 6.0 * np.median(a)


@pytest.mark.slow
@pytest.mark.parametrize(("cls", "variant"), ALL)
def test_ten_minutes_never_loop(cls: type[Trigger], variant: str) -> None:
    """Two 5 s windows a minute apart are not copies: normalised cross-correlation peak
    (over all lags) < 0.5, or < 0.9 for the periodic clock and heartbeat."""
    t = make(cls, variant, seed=0, sr=8000)
    a = t.read(5 * 8000).reshape(-1).astype(np.float64)
    t.read(60 * 8000)
    b = t.read(5 * 8000).reshape(-1).astype(np.float64)
    n = 2 * len(a)
    xc = np.fft.irfft(np.fft.rfft(a, n) * np.conj(np.fft.rfft(b, n)), n)
    limit = 0.9 if cls in (Clock, Heartbeat) else 0.5
    assert np.max(np.abs(xc)) / np.sqrt((a * a).sum() * (b * b).sum()) < limit
