"""Benchmark: the streaming loudness meter against ffmpeg's ebur128 filter and pyloudnorm.

Usage::

    .venv/bin/python benchmarks/loudness.py [--minutes 60] [--runs 3]

The first run writes a 48 kHz stereo FLAC (24-bit) of pink-ish noise plus tones of the
given length (~770 MB for 60 minutes) to ``$TMPDIR/susurrus-bench/``, outside the
repository, and reuses it in later runs (``--cache-dir`` to put it elsewhere). Then each
contender runs in its own subprocess, so that its wall time includes decoding and
interpreter start-up, and its peak resident memory (``ru_maxrss`` from ``os.wait4``)
is its own:

* ``susurrus``: ``susurrus.loudness.measure_file`` — integrated loudness, loudness
  range, max momentary/short-term, sample peak and true peak, in one streaming pass;
* ``ffmpeg``: ``ffmpeg -i f.flac -af ebur128=peak=true -f null -``;
* ``pyloudnorm``: reads the file whole and calls ``Meter.integrated_loudness``. Its
  block loop is pure Python, so by default it runs on a 10-minute excerpt
  (``--pyloudnorm-minutes``) and its time is scaled linearly to the full length; its
  RSS is the excerpt's (reading the whole hour would take ~1.4 GB as float64).

Reported: the median wall time of ``--runs`` runs, as a multiple of real time, the
ratio of our time to ffmpeg's (goal: < 1) and each peak RSS (goal for ours: <= 300 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The parent stays small (no numpy here): a child forked from a big parent would
# report the parent's memory as its own peak RSS. The file is written by a child too.
ROOT = Path(__file__).resolve().parent.parent

SR = 48000
CHUNK_S = 10


def make_signal_file(path: Path, minutes: float, *, seed: int = 1770) -> None:
    """Write ``minutes`` of 48 kHz stereo pink-ish noise plus tones, chunk by chunk."""
    import numpy as np
    import scipy.signal as sps

    sys.path.insert(0, str(ROOT / "src"))
    from susurrus.audio import AudioWriter

    rng = np.random.default_rng(seed)
    # Paul Kellet's "economy" pink filter: 3 poles, about -3 dB/octave from 20 Hz up
    b, a = sps.zpk2tf([0.98, 0.6, -0.05], [0.997, 0.95, 0.5], 1.0)
    zi = np.zeros((2, max(len(a), len(b)) - 1))
    n_total = int(round(minutes * 60 * SR))
    n_chunk = CHUNK_S * SR
    tones_hz = np.array([220.0, 997.0, 3150.0])
    path.parent.mkdir(parents=True, exist_ok=True)
    ignore = path.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")  # the cache never goes into git
    with AudioWriter(path, sr=SR, channels=2, expected_frames=n_total) as w:
        for start in range(0, n_total, n_chunk):
            n = min(n_chunk, n_total - start)
            white = rng.standard_normal((2, n))
            pink, zi = sps.lfilter(b, a, white, axis=-1, zi=zi)
            t = (start + np.arange(n)) / SR
            # slow level movement (a few dB) so that the loudness range is not zero
            level = 0.03 * (1.0 + 0.5 * np.sin(2 * np.pi * t / 47.0))
            tones = sum(
                0.05 / (k + 1) * np.sin(2 * np.pi * f * t + k) for k, f in enumerate(tones_hz)
            )
            y = level * pink / np.std(pink) + tones * (0.6 + 0.4 * np.sin(2 * np.pi * t / 13.0))
            w.write(np.clip(y, -0.99, 0.99).astype(np.float32))


def run_child(cmd: list[str]) -> tuple[float, float, float, str]:
    """Run ``cmd``; return (wall s, CPU s (user + system), peak RSS in MB, output)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.stdout is not None
    out = p.stdout.read()
    _, status, rusage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({p.returncode}):\n{out[-2000:]}")
    return wall, rusage.ru_utime + rusage.ru_stime, rusage.ru_maxrss / 1024.0, out


OURS = """
import json, sys, time
from susurrus.loudness import measure_file
t = time.perf_counter()
r = measure_file(sys.argv[1])
print(json.dumps({"integrated": r.integrated_lufs, "lra": r.loudness_range_lu,
                  "tp": r.true_peak_dbtp, "inner_s": time.perf_counter() - t}))
"""

PYLN = """
import json, sys, time
import soundfile as sf, pyloudnorm
t = time.perf_counter()
data, sr = sf.read(sys.argv[1], frames=int(float(sys.argv[2]) * 60 * 48000))
lufs = pyloudnorm.Meter(sr).integrated_loudness(data)
print(json.dumps({"integrated": lufs, "inner_s": time.perf_counter() - t}))
"""


def parse_ffmpeg(out: str) -> dict[str, float]:
    """Integrated loudness, LRA and true peak from ffmpeg's ebur128 summary."""
    summary = out[out.rfind("Summary:") :]
    found = {}
    for key, pat in (
        ("integrated", r"I:\s+(-?[\d.]+|-inf) LUFS"),
        ("lra", r"LRA:\s+([\d.]+) LU"),
        ("tp", r"Peak:\s+(-?[\d.]+|-inf) dBFS"),
    ):
        m = re.search(pat, summary)
        found[key] = float(m.group(1)) if m else float("nan")
    return found


def ffmpeg_ebur128(path: Path) -> list[str]:
    """The peer: ffmpeg's EBU R128 meter with true peak over the whole file, no output."""
    return ["ffmpeg", "-nostats", "-hide_banner", "-i", str(path), "-af", "ebur128=peak=true",
            "-f", "null", "-"]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="length of the test file")
    ap.add_argument("--runs", type=int, default=3, help="runs per contender (median)")
    ap.add_argument(
        "--pyloudnorm-minutes",
        type=float,
        default=10.0,
        help="excerpt length for pyloudnorm (its time is scaled); 0 skips it",
    )
    ap.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "susurrus-bench",
        help="where the test file is written once and reused (keep it out of git)",
    )
    ap.add_argument("--write-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    path = args.cache_dir / f"pinkish_tones_{args.minutes:g}m_48k_stereo.flac"
    if args.write_only:
        make_signal_file(path, args.minutes)
        return
    if not path.exists():
        print(f"writing {path} ...", flush=True)
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--write-only",
                "--minutes",
                str(args.minutes),
                "--cache-dir",
                str(args.cache_dir),
            ],
            check=True,
        )
        print(f"  done in {time.perf_counter() - t0:.1f} s", flush=True)
    duration_s = args.minutes * 60.0
    py = sys.executable
    env_path = str(ROOT / "src")
    os.environ["PYTHONPATH"] = env_path + os.pathsep + os.environ.get("PYTHONPATH", "")

    contenders: dict[str, tuple[list[str], float]] = {
        "susurrus": ([py, "-c", OURS, str(path)], 1.0),
        "ffmpeg": (
            ffmpeg_ebur128(path),
            1.0,
        ),
    }
    if args.pyloudnorm_minutes > 0:
        excerpt = min(args.pyloudnorm_minutes, args.minutes)
        contenders["pyloudnorm"] = (
            [py, "-c", PYLN, str(path), str(excerpt)],
            args.minutes / excerpt,
        )

    # rounds interleave the contenders, so that a burst of load on a shared machine
    # does not land on one of them only; pyloudnorm (slow) runs once
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in contenders}
    values: dict[str, dict[str, float]] = {}
    for round_ in range(max(1, args.runs)):
        for name, (cmd, scale) in contenders.items():
            if name == "pyloudnorm" and round_ > 0:
                continue
            wall, cpu, mb, out = run_child(cmd)
            runs[name].append((wall * scale, cpu * scale, mb))
            last = out.strip().splitlines()[-1] if out.strip() else "{}"
            values[name] = parse_ffmpeg(out) if name == "ffmpeg" else json.loads(last)

    results: dict[str, dict[str, float]] = {}
    for name, (_, scale) in contenders.items():
        walls = [r[0] for r in runs[name]]
        med = statistics.median(walls)
        cpu = statistics.median(r[1] for r in runs[name])
        rss = max(r[2] for r in runs[name])
        results[name] = {"time_s": med, "rss_mb": rss}
        note = f" (scaled from a {args.pyloudnorm_minutes:g}-min excerpt)" if scale != 1.0 else ""
        shown = {k: round(v, 2) for k, v in values[name].items() if k != "inner_s"}
        print(
            f"{name:>10}: {med:7.2f} s = {duration_s / med:6.0f}x real time "
            f"(CPU {cpu:6.2f} s), peak RSS {rss:5.0f} MB, "
            f"runs {[round(w, 2) for w in walls]}{note}  {shown}",
            flush=True,
        )
    ratio = results["susurrus"]["time_s"] / results["ffmpeg"]["time_s"]
    print(
        f"ours/ffmpeg time ratio: {ratio:.2f} (goal < 1); "
        f"our peak RSS {results['susurrus']['rss_mb']:.0f} MB (goal <= 300)"
    )


if __name__ == "__main__":
    main()
