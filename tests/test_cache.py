"""The on-disk cache of the resampled HRIR set and its HRTF table (susurrus._cache)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from susurrus import _cache, _dirs
from susurrus.spatial import hrtf, sofa


def _fresh(sr: int = 48000) -> tuple[sofa.HRIRSet, hrtf.HRTFTable]:
    sofa._load_cached.cache_clear()  # the in-memory cache: only the disk may serve
    hrirs = sofa.load_hrir(sr=sr)
    return hrirs, hrtf.build_table(hrirs)


def test_a_cached_table_is_the_built_table(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SUSURRUS_CACHE_DIR", str(tmp_path))
    built_set, built = _fresh()
    files = sorted(p.name.split("-")[0] for p in tmp_path.iterdir())
    assert files == ["hrir", "hrtf"]
    kept_set, kept = _fresh()
    assert kept is not built
    np.testing.assert_array_equal(kept_set.hrir, built_set.hrir)
    np.testing.assert_array_equal(kept_set.azimuth_deg, built_set.azimuth_deg)
    assert (kept_set.citation, kept_set.file_sr, kept_set.source) == (
        built_set.citation, built_set.file_sr, built_set.source)
    for name in ("spectra", "delays", "ramps"):
        np.testing.assert_array_equal(getattr(kept, name), getattr(built, name))
    assert (kept.hop, kept.n_taps, kept.sr) == (built.hop, built.n_taps, built.sr)
    # the interpolator answers alike everywhere, below the lowest ring and at the poles too
    rng = np.random.default_rng(1)
    az, el = rng.uniform(-180, 180, 400), rng.uniform(-90, 90, 400)
    np.testing.assert_array_equal(kept.filters(az, el, np.ones(400)), built.filters(az, el, np.ones(400)))
    # another rate is another entry
    _fresh(44100)
    assert len(list(tmp_path.glob("hrtf-*.npz"))) == 2


def test_a_damaged_cache_file_is_rebuilt(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SUSURRUS_CACHE_DIR", str(tmp_path))
    _, built = _fresh()
    for p in tmp_path.glob("*.npz"):
        p.write_bytes(b"not an npz file")
    _, again = _fresh()
    np.testing.assert_array_equal(again.spectra, built.spectra)
    for p in tmp_path.glob("*.npz"):  # written again, readable
        assert _cache.load(p.name.split("-")[0], p.stem.split("-", 1)[1]) is not None


@pytest.mark.parametrize("value", ["off", ""])
def test_the_cache_can_be_turned_off(tmp_path, monkeypatch, value: str) -> None:
    monkeypatch.setenv("SUSURRUS_CACHE_DIR", value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _cache.cache_dir() is None
    _fresh()
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_cache_directory_fails_nothing(tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the directory would go")
    monkeypatch.setenv("SUSURRUS_CACHE_DIR", str(blocker / "cache"))
    _, table = _fresh()
    assert table.spectra.size and not (blocker / "cache").exists()


def test_xdg_cache_home_is_the_default_place(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SUSURRUS_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _cache.cache_dir() == tmp_path / "susurrus"


@pytest.mark.skipif(sys.platform != "linux", reason="the Linux (XDG) defaults")
def test_cache_and_data_directories_share_one_resolver() -> None:
    from susurrus.store import paths

    assert paths.data_dir is _dirs.data_dir
    assert _dirs.cache_dir({"HOME": "/h"}) == Path("/h/.cache/susurrus")
    assert _dirs.data_dir({"HOME": "/h"}) == Path("/h/.local/share/susurrus")
    assert _dirs.cache_dir({"HOME": "/h", "XDG_CACHE_HOME": "/x"}) == Path("/x/susurrus")
    assert _dirs.cache_dir({"HOME": "/h", "SUSURRUS_CACHE_DIR": "/c"}) == Path("/c")
    assert _dirs.cache_dir({"HOME": "/h", "SUSURRUS_CACHE_DIR": "off"}) is None


def test_a_render_from_the_cache_does_not_load_h5py(tmp_path) -> None:
    """With the table cached, a binaural render neither reads the SOFA file nor imports
    h5py (about 11 MB in every render process)."""
    code = (
        "import sys\n"
        "from susurrus.cli import main\n"
        f"rc = main(['render', '--preset', 'relax', '--duration', '20s', '-o', r'{tmp_path}/r.flac'])\n"
        "print(rc, 'h5py' in sys.modules)\n"
    )
    env = {**__import__("os").environ, "SUSURRUS_CACHE_DIR": str(tmp_path / "cache")}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.split()[-2:] == ["0", "True"]  # built: the SOFA file read
    assert second.stdout.split()[-2:] == ["0", "False"]  # from the cache
