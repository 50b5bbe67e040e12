"""The faster whisper re-synthesis: the same samples as before, to float32 rounding.

:func:`~susurrus.triggers._voice.whisper_from_envelopes` works in place in float32,
sums the de-esser's bands with ``einsum`` over contiguous bin slices, applies the
per-frame gain slice by slice (below, on and above the de-esser's ramp) with the
noise's unit-variance factor folded in, and scales the uniform real and imaginary
parts with one real multiply. The reference below is the former implementation; the
random numbers are drawn in the same order, so the outputs agree to float32 rounding.
The voice trigger also renders espeak-ng phrases a batch at a time in the background
(one process per phrase cost more CPU than the whole whisper synthesis).
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import scipy.fft as sfft

from susurrus import triggers
from susurrus.triggers import _voice


def _reference_noise_frames(mag: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    n_s, nb = mag.shape
    hop = n // 2
    u = rng.random((n_s, 2 * nb), dtype=np.float32)
    u -= 0.5
    spec = u.view(np.complex64) * (mag * np.float32(np.sqrt(12.0 * n / 2.0)))
    frames = sfft.irfft(spec, n, axis=1)
    frames *= np.sin(np.pi * (np.arange(n) + 0.5) / n).astype(np.float32)
    out = np.zeros((n_s + 1) * hop, dtype=np.float32)
    out[: n_s * hop] += frames[:, :hop].reshape(-1)
    out[hop:] += frames[:, hop:].reshape(-1)
    return out


def _reference_whisper(
    log_env: np.ndarray,
    power: np.ndarray,
    hop_s: float,
    env_sr: int,
    *,
    sr: int,
    rng: np.random.Generator,
    stretch: float = 1.0,
    warp: float = 1.0,
    gain_fn: np.ndarray | None = None,
    deess_db: float = -6.0,
) -> np.ndarray:
    n = 1 << int(round(np.log2(0.0213 * sr)))
    f = np.fft.rfftfreq(n, 1.0 / sr)
    hop = n // 2
    n_a, n_env = log_env.shape
    n_s = max(1, int(np.ceil(n_a * hop_s * stretch * sr / hop)))
    pos = np.minimum(np.arange(n_s) * (hop / sr / stretch / hop_s), n_a - 1.0)
    i0 = pos.astype(int)
    i1 = np.minimum(i0 + 1, n_a - 1)
    fr = (pos - i0).astype(np.float32)[:, None]
    top = 0.92 * env_sr / 2
    fa = np.minimum(f / warp, top)
    fpos = fa / (env_sr / 2) * (n_env - 1)
    k0 = fpos.astype(int)
    k1 = np.minimum(k0 + 1, n_env - 1)
    kf = (fpos - k0).astype(np.float32)
    g_log = 3.0 * np.log(np.minimum(1.0, top * warp / np.maximum(f, 1.0)))
    if gain_fn is not None:
        g_log = g_log + np.log(np.maximum(gain_fn, 1e-9))
    le = log_env[i0]
    le += fr * (log_env[i1] - le)
    lenv = le[:, k0]
    lenv += kf * (le[:, k1] - lenv)
    lenv += g_log.astype(np.float32)
    mag = np.exp(lenv)
    lp = (1 - fr[:, 0]) * power[i0] + fr[:, 0] * power[i1]
    m2 = mag * mag
    hb = (f >= 4500) & (f <= 10000)
    mb = (f >= 300) & (f <= 3000)
    tot = m2.sum(axis=1) + 1e-30
    p_hb = lp * m2[:, hb].sum(axis=1) / tot
    p_mb = lp * m2[:, mb].sum(axis=1) / tot
    ref = np.maximum(p_mb, 0.1 * np.percentile(p_mb, 90)) + 1e-20
    thr = ref * 10 ** (deess_db / 10)
    over_db = 10 * np.log10(np.maximum(p_hb / thr, 1.0))
    cut = 10 ** (-(over_db * 0.75) / 20)
    band = np.clip((f - 3500) / 1000, 0, 1).astype(np.float32)
    scale = np.sqrt(lp / tot * len(f))
    mag *= (scale[:, None] * (1 - band[None, :] * (1 - cut[:, None]))).astype(np.float32)
    return _reference_noise_frames(mag, rng, n)


def _track(seed: int, n_a: int = 180, n_env: int = 257) -> tuple[np.ndarray, np.ndarray]:
    """A smooth random log-envelope track and frame powers spanning 60 dB."""
    rng = np.random.default_rng(seed)
    le = np.cumsum(rng.standard_normal((n_a, n_env)) * 0.05, axis=1)
    le = np.cumsum(le * 0.3, axis=0) / np.sqrt(np.arange(1, n_a + 1))[:, None]
    power = 10 ** rng.uniform(-6, 0, n_a)
    return le.astype(np.float32), power


@pytest.mark.parametrize("sr", [48000, 44100, 22050, 96000])
@pytest.mark.parametrize(("stretch", "warp"), [(1.0, 1.0), (1.37, 1.06), (0.8, 0.95)])
def test_whisper_matches_the_reference(sr: int, stretch: float, warp: float) -> None:
    le, power = _track(sr + int(stretch * 100))
    eq = _voice.voice_eq(_voice.synthesis_freqs(sr), closeness=0.7, brightness=0.3)
    for gain in (eq, None):
        kw = {"sr": sr, "stretch": stretch, "warp": warp, "gain_fn": gain}
        a = _voice.whisper_from_envelopes(le, power, 0.0115, 22050, rng=np.random.default_rng(3), **kw)
        b = _reference_whisper(le, power, 0.0115, 22050, rng=np.random.default_rng(3), **kw)
        assert a.dtype == np.float32 and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=0, atol=2e-6 * float(np.max(np.abs(b))))


def test_noise_frames_match_the_reference() -> None:
    rng = np.random.default_rng(5)
    mag = rng.uniform(0.0, 2.0, (40, 513)).astype(np.float32)
    amp = mag * np.float32(np.sqrt(12.0 * 1024 / 2.0))  # the unit-variance factor
    before = amp.copy()
    a = _voice._noise_frames(amp, np.random.default_rng(9), 1024)
    b = _reference_noise_frames(mag, np.random.default_rng(9), 1024)
    np.testing.assert_array_equal(amp, before)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-6 * float(np.max(np.abs(b))))


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_phrases_are_rendered_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    real = _voice.espeak_render

    def counting(texts, **kw):  # type: ignore[no-untyped-def]
        sizes.append(len(texts))
        return real(texts, **kw)

    monkeypatch.setattr(_voice, "espeak_render", counting)
    w = triggers.create("whisper", "female", sr=16000, rng=np.random.default_rng(0))
    w.read(16000 * 150)
    assert len(sizes) >= 3
    assert min(sizes) >= 2, sizes
