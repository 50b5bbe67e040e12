"""Speed of the binaural spatial stage: one moving source, 10 minutes at 48 kHz.

Prints the render speed as a multiple of real time next to the floor:
``scipy.signal.oaconvolve`` of the same signal with one fixed 512-tap HRIR pair
(no motion, no interpolation), measured in the same run, and the ratio.

Both are timed by wall clock and by this process's CPU time; on a shared machine
the CPU-time figures are the steadier ones (each best of ``--repeat`` runs).

Run: ``.venv/bin/python benchmarks/spatial.py [--minutes 10] [--motion orbit] [--block 4096]``
Goal: >= 300x real time per moving source.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import scipy.signal as sps

from susurrus.spatial import load_hrir, make_spatializer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="signal length (default 10)")
    ap.add_argument("--sr", type=int, default=48000, help="sample rate in Hz (default 48000)")
    ap.add_argument("--motion", default="orbit", help="motion of the source (default orbit)")
    ap.add_argument("--period-s", type=float, default=20.0, help="motion period (default 20 s)")
    ap.add_argument("--block", type=int, default=4096, help="caller's block size (default 4096)")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each, best kept (default 2)")
    args = ap.parse_args()
    sr = args.sr
    n = int(args.minutes * 60 * sr)
    rng = np.random.default_rng(0)
    x = (0.05 * rng.standard_normal(n)).astype(np.float32)
    hrirs = load_hrir(sr=sr)

    # the floor: one fixed 512-tap HRIR pair by overlap-add FFT convolution
    pair = hrirs.hrir[hrirs.nearest(30.0, 0.0), :, :512]

    def floor() -> None:
        sps.oaconvolve(x[None, :], pair, axes=-1)

    sp = make_spatializer(
        sr=sr,
        azimuth_deg=30.0,
        motion=args.motion,
        period_s=args.period_s,
        rng=np.random.default_rng(1),
        hrir=hrirs,
    )
    sp(x[None, :16])  # build the HRTF table outside the timing
    b = args.block

    def spatial() -> None:
        sp.reset()
        for i in range(0, n, b):
            sp(x[None, i : i + b])

    dur = n / sr
    wall_f, cpu_f = _best(floor, args.repeat)
    wall_s, cpu_s = _best(spatial, args.repeat)
    print(f"signal: {args.minutes:g} min at {sr} Hz, caller blocks of {b} samples")
    print("                                          wall clock    CPU time")
    print(
        f"oaconvolve, fixed 512-tap pair (floor): {dur / wall_f:8.1f}x    {dur / cpu_f:8.1f}x real time"
    )
    print(
        f"binaural, one {args.motion:<8} source:       {dur / wall_s:8.1f}x    {dur / cpu_s:8.1f}x real time"
        "  (goal >= 300x)"
    )
    print(
        f"ratio spatializer / floor:              {wall_f / wall_s:8.3f}     {cpu_f / cpu_s:8.3f}"
    )


def _best(fn: Callable[[], None], repeat: int) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds of ``repeat`` runs of ``fn``."""
    walls, cpus = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus)


if __name__ == "__main__":
    main()
