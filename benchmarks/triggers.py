"""Trigger speed: every family and variant rendered alone, mono, 48 kHz.

    .venv/bin/python benchmarks/triggers.py [--seconds 60] [--repeats 3] [--family tapping]

Prints a table of multiples of real time (median of the repeats, each a fresh
instance) and marks those below the 200x goal. The peer in the same run is a
plain numpy white-noise generator of the same length (the floor of any source).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from susurrus import triggers
from susurrus.families import get_family

SR = 48000
GOAL = 200.0


def speed(family: str, variant: str, seconds: float, repeats: int, block: int) -> float:
    times = []
    for r in range(repeats):
        src = triggers.create(family, variant, sr=SR, rng=np.random.default_rng(r))
        n = int(seconds * SR)
        t0 = time.perf_counter()
        for pos in range(0, n, block):
            src.read(min(block, n - pos))
        times.append(time.perf_counter() - t0)
    return seconds / statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--block", type=int, default=8192)
    ap.add_argument("--family", action="append", help="only these families (repeatable)")
    args = ap.parse_args()
    fams = args.family or triggers.available()
    n = int(args.seconds * SR)
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    for pos in range(0, n, args.block):
        rng.standard_normal(min(args.block, n - pos)).astype(np.float32)
    floor = args.seconds / (time.perf_counter() - t0)
    print(f"{args.seconds:g} s mono at {SR} Hz, median of {args.repeats}; goal >= {GOAL:g}x")
    print(f"{'trigger':<28}{'x real time':>12}{'  vs numpy white noise':>24}")
    slow = 0
    for fam in fams:
        for var in get_family(fam).variants:
            x = speed(fam, var, args.seconds, args.repeats, args.block)
            mark = "" if x >= GOAL else "  < goal"
            slow += x < GOAL
            print(f"{fam + ':' + var:<28}{x:>12.0f}{x / floor:>24.3f}{mark}")
    print(f"{'numpy white noise (floor)':<28}{floor:>12.0f}")
    print(f"{slow} variant(s) below {GOAL:g}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
