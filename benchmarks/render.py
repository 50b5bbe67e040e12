"""Render benchmark: 1 hour of the `relax` preset to FLAC next to sox making one pink noise.

    .venv/bin/python benchmarks/render.py [--minutes 60] [--repeats 3] [--format flac] [--cache warm|cold]

Prints both as multiples of real time, the ratio of our time to sox's (runs in
pairs, alternating which of the two goes first; the median of the pairs' ratios,
and the ratio of the medians), and the
peak RSS of each (each runs in its own child process; the largest single process,
and the peak sum over the process tree, which includes the render's worker
processes, as RSS and as PSS). Goal: ratio <= 1.0 and our peak RSS <= 300 MB.

The timed runs are not watched: the tree's memory is measured in one more run of
each, by a thread that reads every process's ``smaps_rollup`` every 50 ms. That
thread takes about 15 % of a core, which costs a render that keeps both cores
busy (its worker processes) ~7 % of its speed, and sox, which uses one core,
nothing; so it watches only runs whose time is not counted (printed apart).
OGG output is exempt from the speed goal. The render's HRTF table cache is a private
one, filled first by an untimed 10 s render (``--cache warm``, as every render after a
machine's first finds it) or empty for every run (``--cache cold``, a first render:
about half a second more).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import python, run_child, summarize


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--format", choices=("flac", "wav", "ogg"), default="flac")
    ap.add_argument("--preset", default="relax")
    ap.add_argument("--cache", choices=("warm", "cold"), default="warm",
                    help="the HRTF table cache (susurrus._cache): 'warm' fills a private one with an "
                         "untimed 10 s render first, as any render after a machine's first finds it; "
                         "'cold' gives every run an empty one (a machine's first render)")
    args = ap.parse_args()
    if not shutil.which("sox"):
        raise SystemExit("sox is not installed (apt-get install sox)")
    secs = args.minutes * 60
    with tempfile.TemporaryDirectory() as d:
        ours_cmd = [python(), "-m", "susurrus.cli", "render", "--preset", args.preset,
                    "--duration", f"{secs:g}s", "-o", f"{d}/ours.{args.format}"]
        sox_cmd = ["sox", "-n", "-r", "48000", "-c", "2", f"{d}/sox.{args.format}",
                   "synth", f"{secs:g}", "pinknoise"]
        def env(i: int) -> dict[str, str]:
            return {**os.environ, "SUSURRUS_CACHE_DIR": f"{d}/cache" + ("" if args.cache == "warm" else str(i))}

        if args.cache == "warm":
            run_child([*ours_cmd[:-4], "--duration", "10s", "-o", f"{d}/warm.{args.format}"], env=env(0))
        # ours and sox in pairs, the order alternating (ours first, then sox first, …): a
        # shared host's slow and fast spells fall on both alike, and each pair gives a ratio
        runs, sox_runs = [], []
        for i in range(args.repeats):
            if i % 2:
                sox_runs.append(run_child(sox_cmd))
            runs.append(run_child(ours_cmd, env=env(i)))
            if not i % 2:
                sox_runs.append(run_child(sox_cmd))
        # the process trees' memory, in one watched run of each (times not counted)
        watched = run_child(ours_cmd, env=env(args.repeats), tree=True), run_child(sox_cmd, tree=True)
        ours, sox = (dataclasses.replace(summarize([*timed, w]), seconds=summarize(timed).seconds)
                     for timed, w in ((runs, watched[0]), (sox_runs, watched[1])))
        pair_ratios = [a.seconds / b.seconds for a, b in zip(runs, sox_runs, strict=True)]
    print(f"audio: {args.minutes:g} min, 48 kHz stereo, {args.format}; median of {args.repeats} "
          f"(runs paired with sox's, alternating which goes first); HRTF cache {args.cache}")
    print(f"{'':<28}{'x real time':>12}{'seconds':>10}{'peak RSS MB':>13}{'tree RSS':>10}{'tree PSS':>10}")
    for name, r in ((f"susurrus {args.preset}", ours), ("sox synth pinknoise", sox)):
        print(f"{name:<28}{secs / r.seconds:>12.1f}{r.seconds:>10.2f}{r.peak_rss_mb:>13.1f}"
              f"{r.tree_rss_mb:>10.1f}{r.tree_pss_mb:>10.1f}")
    print(f"ratio ours/sox (time): {statistics.median(pair_ratios):.2f}  (goal <= 1.0; median of the "
          f"paired runs' ratios {', '.join(f'{r:.2f}' for r in pair_ratios)}; ratio of the medians "
          f"{ours.seconds / sox.seconds:.2f})")
    print(f"the runs watched for memory (not counted): ours {watched[0].seconds:.2f} s, "
          f"sox {watched[1].seconds:.2f} s")
    print(f"peak RSS ours: largest process {ours.peak_rss_mb:.0f} MB; the whole process tree "
          f"(render workers included) {ours.tree_rss_mb:.0f} MB RSS, {ours.tree_pss_mb:.0f} MB PSS "
          f"(shared library pages counted once) (goal <= 300 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
