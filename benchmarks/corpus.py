"""Benchmark: corpus analysis on a LocalCluster of 1 and of 2 single-threaded workers.

Usage::

    .venv/bin/python benchmarks/corpus.py [--hours 2] [--files 40] [--workers 1,2] [--no-tags]

The corpus (``--files`` FLACs, 48 kHz stereo, ``--hours`` in total, made of trigger
renders from :mod:`susurrus.triggers` at random gains) is generated once and cached
outside the repository in ``$TMPDIR/susurrus-bench/corpus/``. For each worker count the
benchmark starts a LocalCluster, loads the tagger on every worker (so model loading is
not timed), then times :func:`susurrus.batch.analyze_corpus` into a fresh dataset and
prints hours of audio analysed per minute. Scaling efficiency is the 2-worker
throughput ÷ (2 × the 1-worker throughput); the goal (issue 9) is ≥ 0.8 on a 2-core
machine. A machine busy with other work lowers it: the load average is printed, and
so is the workers' CPU time, whose ratio shows the parallel overhead alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from susurrus import audio, triggers
from susurrus.batch import analyze_corpus, open_client

SR = 48000
BASES = ("rain", "tapping", "whisper", "crinkling", "brushing")
SEGMENT_S = 15.0


def make_corpus(folder: Path, *, hours: float, files: int, seed: int = 0) -> list[Path]:
    """``files`` FLACs totalling ``hours``; reused when already there with the right length."""
    folder.mkdir(parents=True, exist_ok=True)
    per_file_s = hours * 3600.0 / files
    paths = [folder / f"rec{i:03d}.flac" for i in range(files)]
    tag = folder / "corpus.json"
    spec = {"hours": hours, "files": files, "sr": SR, "seed": seed, "version": 1}
    if tag.is_file() and json.loads(tag.read_text()) == spec and all(p.is_file() for p in paths):
        return paths
    rng = np.random.default_rng(seed)
    n_seg = int(SEGMENT_S * SR)
    bases = []
    for i, fam in enumerate(BASES):
        y = triggers.create(fam, sr=SR, rng=np.random.default_rng(seed + i)).read(n_seg)
        y = y[:1] if y.shape[0] > 1 else y
        bases.append(y[0] / max(1e-6, float(np.max(np.abs(y)))))
    t0 = time.perf_counter()
    for p in paths:
        total = int(per_file_s * SR)
        with audio.AudioWriter(p, sr=SR, channels=2, expected_frames=total) as w:
            done = 0
            while done < total:
                n = min(n_seg, total - done)
                b = bases[int(rng.integers(len(bases)))][:n]
                g = float(10 ** (rng.uniform(-30, -8) / 20))
                pan = float(rng.uniform(0.3, 1.0))
                w.write(np.stack([g * pan * b, g * (1.3 - pan) * b]).astype(np.float32))
                done += n
        print(f"  wrote {p} ({per_file_s / 60:.1f} min)", flush=True)
    tag.write_text(json.dumps(spec))
    print(f"corpus generated in {time.perf_counter() - t0:.0f} s", flush=True)
    return paths


def _warm(tag: bool) -> int:
    if tag:
        from susurrus.tagger import get_tagger

        get_tagger()
    return os.getpid()


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_once(corpus: Path, workers: int, *, tag: bool, work: Path) -> dict[str, float]:
    ds = work / f"dataset-{workers}w"
    shutil.rmtree(ds, ignore_errors=True)
    with open_client(workers=workers) as client:
        client.wait_for_workers(workers, timeout=60)
        client.run(_warm, tag)  # load the YAMNet model on every worker, untimed
        load0 = os.getloadavg()[0]
        cpu0 = sum(client.run(_cpu_s).values())
        run = analyze_corpus(corpus, ds, client=client, tagger=tag)
        cpu1 = sum(client.run(_cpu_s).values())
        load1 = os.getloadavg()[0]
        rss = max(client.run(_peak_rss_mb).values())
    shutil.rmtree(ds, ignore_errors=True)
    if run.errors:
        raise SystemExit(f"{run.errors} file(s) failed in the benchmark corpus")
    return {
        "workers": workers,
        "files": run.analysed,
        "audio_h": run.audio_s / 3600,
        "seconds": run.seconds,
        "hours_per_minute": run.hours_per_minute,
        "x_realtime": run.audio_s / run.seconds,
        "load_before": load0,
        "load_after": load1,
        "worker_peak_rss_mb": rss,
        "worker_cpu_s": cpu1 - cpu0,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    ap.add_argument("--no-tags", action="store_true", help="skip the YAMNet tagger")
    ap.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "susurrus-bench"
    )
    args = ap.parse_args(argv)
    corpus = args.cache_dir / "corpus"
    if args.hours != 2.0 or args.files != 40:
        corpus = args.cache_dir / f"corpus-{args.hours:g}h-{args.files}"
    make_corpus(corpus, hours=args.hours, files=args.files)
    counts = [int(x) for x in args.workers.split(",")]
    print(
        f"{args.files} files, {args.hours:g} h, tagger {'off' if args.no_tags else 'on'}; "
        f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}"
    )
    results = {}
    for n in counts:
        r = run_once(corpus, n, tag=not args.no_tags, work=args.cache_dir)
        results[n] = r
        print(
            f"{n} worker(s): {r['audio_h']:.2f} h in {r['seconds']:.1f} s = "
            f"{r['hours_per_minute']:.2f} h of audio per minute ({r['x_realtime']:.0f}x real time); "
            f"load average {r['load_before']:.2f} → {r['load_after']:.2f}; "
            f"worker peak RSS {r['worker_peak_rss_mb']:.0f} MB; "
            f"worker CPU {r['worker_cpu_s']:.1f} s ({3600 * r['audio_h'] / r['worker_cpu_s']:.0f}x real time per CPU second)",
            flush=True,
        )
    if 1 in results and 2 in results:
        eff = results[2]["hours_per_minute"] / (2 * results[1]["hours_per_minute"])
        print(f"scaling efficiency (2 workers ÷ 2 × 1 worker): {eff:.2f} (goal ≥ 0.8)")
        cpu_eff = results[1]["worker_cpu_s"] / results[2]["worker_cpu_s"]
        print(
            f"CPU efficiency (1-worker CPU s ÷ 2-worker CPU s for the same audio): {cpu_eff:.2f} "
            "(≈ the scaling efficiency on an otherwise idle machine; wall-clock numbers above "
            "include time lost to other processes)"
        )


if __name__ == "__main__":
    main()
