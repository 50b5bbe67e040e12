"""Render benchmark: 1 hour of the `relax` preset to FLAC next to sox making one pink noise.

    .venv/bin/python benchmarks/render.py [--minutes 60] [--repeats 1] [--format flac]

Prints both as multiples of real time, the ratio of our time to sox's, and the
peak RSS of each (each runs in its own child process). Goal: ratio <= 1.0 and our
peak RSS <= 300 MB. OGG output is exempt from the speed goal.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median_run, python


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--format", choices=("flac", "wav", "ogg"), default="flac")
    ap.add_argument("--preset", default="relax")
    args = ap.parse_args()
    if not shutil.which("sox"):
        raise SystemExit("sox is not installed (apt-get install sox)")
    secs = args.minutes * 60
    with tempfile.TemporaryDirectory() as d:
        ours_cmd = [python(), "-m", "susurrus.cli", "render", "--preset", args.preset,
                    "--duration", f"{secs:g}s", "-o", f"{d}/ours.{args.format}"]
        sox_cmd = ["sox", "-n", "-r", "48000", "-c", "2", f"{d}/sox.{args.format}",
                   "synth", f"{secs:g}", "pinknoise"]
        ours = median_run(ours_cmd, args.repeats)
        sox = median_run(sox_cmd, args.repeats)
    print(f"audio: {args.minutes:g} min, 48 kHz stereo, {args.format}; median of {args.repeats}")
    print(f"{'':<28}{'x real time':>12}{'seconds':>10}{'peak RSS MB':>13}")
    print(f"{'susurrus ' + args.preset:<28}{secs / ours.seconds:>12.1f}{ours.seconds:>10.2f}{ours.peak_rss_mb:>13.1f}")
    print(f"{'sox synth pinknoise':<28}{secs / sox.seconds:>12.1f}{sox.seconds:>10.2f}{sox.peak_rss_mb:>13.1f}")
    print(f"ratio ours/sox (time): {ours.seconds / sox.seconds:.2f}  (goal <= 1.0)")
    print(f"peak RSS ours: {ours.peak_rss_mb:.0f} MB (goal <= 300 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
