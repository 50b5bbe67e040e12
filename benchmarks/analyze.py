"""Benchmark: full recording analysis against loudness-only, ffmpeg ebur128 and pyloudnorm.

Usage::

    .venv/bin/python benchmarks/analyze.py [--minutes 60] [--runs 1]

Uses the same cached 48 kHz stereo FLAC as ``benchmarks/loudness.py`` (written once to
``$TMPDIR/susurrus-bench/``, outside the repository). Each contender runs in its own
subprocess on that file, decoding included, and reports its wall time and peak RSS:

* ``loudness``: ``susurrus.loudness.measure_file`` (loudness-only pass);
* ``analysis``: ``susurrus.analysis.analyze_file`` with the YAMNet tagger (every
  moment tagged once: non-overlapping 0.96 s patches);
* ``ffmpeg``: ``ffmpeg -af ebur128=peak=true -f null -``;
* ``pyloudnorm``: on a 10-minute excerpt, scaled to the full length (see
  ``benchmarks/loudness.py``).

Goals (issue 5): loudness / ffmpeg < 1 and loudness RSS <= 300 MB; analysis >= 150x
real time.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "bench_loudness", Path(__file__).with_name("loudness.py")
)
assert _spec and _spec.loader
bl = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bl)

ANALYSIS = """
import json, sys, time
from susurrus.analysis import analyze_file
t = time.perf_counter()
r = analyze_file(sys.argv[1])
assert r["error"] is None, r["error"]
print(json.dumps({"integrated": r["integrated_lufs"], "lra": r["loudness_range_lu"],
                  "tp": r["true_peak_dbtp"], "events": len(r["events"]), "calm": r["calm_score"],
                  "inner_s": time.perf_counter() - t}))
"""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--runs", type=int, default=1, help="runs per contender (median)")
    ap.add_argument("--pyloudnorm-minutes", type=float, default=10.0, help="0 skips pyloudnorm")
    ap.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "susurrus-bench"
    )
    args = ap.parse_args(argv)
    path = args.cache_dir / f"pinkish_tones_{args.minutes:g}m_48k_stereo.flac"
    if not path.exists():
        print(f"writing {path} ...", flush=True)
        subprocess.run(
            [
                sys.executable,
                str(Path(__file__).with_name("loudness.py")),
                "--write-only",
                "--minutes",
                str(args.minutes),
                "--cache-dir",
                str(args.cache_dir),
            ],
            check=True,
        )
    os.environ["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")
    py = sys.executable
    duration_s = args.minutes * 60.0
    contenders: dict[str, tuple[list[str], float]] = {
        "loudness": ([py, "-c", bl.OURS, str(path)], 1.0),
        "analysis": ([py, "-c", ANALYSIS, str(path)], 1.0),
        "ffmpeg": (
            bl.ffmpeg_ebur128(path),
            1.0,
        ),
    }
    if args.pyloudnorm_minutes > 0:
        excerpt = min(args.pyloudnorm_minutes, args.minutes)
        contenders["pyloudnorm"] = (
            [py, "-c", bl.PYLN, str(path), str(excerpt)],
            args.minutes / excerpt,
        )
    times: dict[str, list[float]] = {k: [] for k in contenders}
    rss: dict[str, float] = {}
    values: dict[str, dict[str, float]] = {}
    for round_ in range(max(1, args.runs)):
        for name, (cmd, scale) in contenders.items():
            if name == "pyloudnorm" and round_ > 0:
                continue
            wall, _cpu, mb, out = bl.run_child(cmd)
            times[name].append(wall * scale)
            rss[name] = max(rss.get(name, 0.0), mb)
            last = out.strip().splitlines()[-1] if out.strip() else "{}"
            values[name] = bl.parse_ffmpeg(out) if name == "ffmpeg" else json.loads(last)
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    for name in contenders:
        shown = {
            k: (round(v, 2) if isinstance(v, float) else v)
            for k, v in values[name].items()
            if k != "inner_s"
        }
        print(
            f"{name:>10}: {med[name]:7.2f} s = {duration_s / med[name]:6.0f}x real time, "
            f"peak RSS {rss[name]:6.0f} MB  {shown}"
        )
    print(f"loudness / ffmpeg time ratio: {med['loudness'] / med['ffmpeg']:.2f}  (goal < 1)")
    print(f"analysis / ffmpeg time ratio: {med['analysis'] / med['ffmpeg']:.2f}")
    if "pyloudnorm" in med:
        print(f"loudness / pyloudnorm time ratio: {med['loudness'] / med['pyloudnorm']:.3f}")
    print(
        f"full analysis: {duration_s / med['analysis']:.0f}x real time (goal >= 150x); "
        f"loudness-only RSS {rss['loudness']:.0f} MB (goal <= 300 MB)"
    )
    _ = time


if __name__ == "__main__":
    main()
