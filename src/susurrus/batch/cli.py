"""The ``corpus analyze`` and ``corpus summary`` subcommands, registered on the main parser.

``susurrus.cli.build_parser`` calls :func:`add_corpus_parser` with its subparsers; the
command functions return the exit code and raise
:class:`~susurrus.errors.SusurrusError` for user errors.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

EPILOG_CORPUS = """examples:
  susurrus corpus analyze ~/asmr-archive --out archive.corpus
  susurrus corpus analyze 'recordings/**/*.flac' --out lab.corpus --workers 2
  susurrus corpus analyze paths.txt --out big.corpus --scheduler tcp://head-node:8786
  susurrus corpus summary archive.corpus -o archive-summary

Re-running `corpus analyze` with the same --out resumes: finished, unchanged files are
skipped, changed files are redone. See docs/cluster.md for a real cluster."""

EPILOG_ANALYZE = """examples:
  susurrus corpus analyze ~/asmr-archive --out archive.corpus
  susurrus corpus analyze 'recordings/**/*.flac' --out lab.corpus --workers 2
  susurrus corpus analyze paths.txt --out big.corpus --scheduler tcp://head-node:8786

SOURCE is a folder (searched recursively for .wav .flac .ogg .oga .mp3 .aif .aiff),
a text file of paths (one a line; relative paths from the list's folder) or a quoted
glob. DATASET is a folder: journal.jsonl (written as files finish), records.jsonl
(one `susurrus analyze --json` record per file) and index.json. Re-running skips
finished, unchanged files and redoes changed ones; a killed run loses only the files
in flight. Progress goes to stderr. Exit code 0 when every file was analysed, 1 when
any has an error (it is recorded in the dataset)."""

EPILOG_SUMMARY = """example:
  susurrus corpus summary archive.corpus -o archive-summary

Writes records.csv (one row per file, flat columns for pandas or R), summary.json,
distributions.png, prevalence.png and cooccurrence.png to DIR (default
DATASET/summary)."""


class _Reporter:
    """Progress on stderr: a rewritten line on a terminal, a line every few seconds otherwise."""

    def __init__(self, *, tty: bool, every_s: float = 5.0) -> None:
        self.tty = tty
        self.every_s = every_s
        self.last = -1e9
        self.shown_dashboard = False

    def __call__(self, p: Any) -> None:
        if p.dashboard and not self.shown_dashboard:
            sys.stderr.write(f"Dask dashboard: {p.dashboard}\n")
            self.shown_dashboard = True
        now = time.monotonic()
        final = p.done >= p.total
        if not final and now - self.last < (0.25 if self.tty else self.every_s) and p.done:
            return
        self.last = now
        skipped = f", {p.skipped} skipped (done before)" if p.skipped else ""
        line = (
            f"{p.done}/{p.total} files{skipped}, {p.audio_s / 3600:.2f} h of audio, "
            f"{p.hours_per_minute:.2f} h/min, {p.errors} error(s)"
        )
        if self.tty:
            sys.stderr.write(f"\r{line}   " + ("\n" if final else ""))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def cmd_corpus_analyze(args: argparse.Namespace) -> int:
    """Analyse a corpus into a dataset; 1 if any file has an error."""
    from .engine import analyze_corpus

    reporter = _Reporter(tty=sys.stderr.isatty())
    run = analyze_corpus(
        args.source,
        args.out,
        scheduler=args.scheduler,
        workers=args.workers,
        tagger=not args.no_tags,
        progress=reporter,
    )
    d = run.as_dict()
    if args.json:
        print(json.dumps(d, ensure_ascii=False))
    else:
        print(
            f"{run.dataset}: {run.files} file(s); analysed {run.analysed}, skipped {run.skipped}, "
            f"{run.errors} error(s); {run.audio_s / 3600:.2f} h of audio in {run.seconds:.1f} s "
            f"({run.hours_per_minute:.2f} h/min on {run.workers} worker(s))"
        )
    from .dataset import load_records

    any_error = any(r.get("error") is not None for r in load_records(args.out))
    return 1 if any_error else 0


def cmd_corpus_summary(args: argparse.Namespace) -> int:
    """Summarise a dataset: tables, plots and a CSV."""
    from .summary import write_summary

    s = write_summary(args.dataset, args.output)
    if args.json:
        print(json.dumps(s, ensure_ascii=False))
        return 0
    print(
        f"{s['dataset']}: {s['files']} file(s), {s['analysed']} analysed, {s['errors']} error(s), "
        f"{s['audio_hours']:g} h of audio"
    )
    d = s["distributions"]
    for key, name in (("integrated_lufs", "loudness (LUFS)"), ("calm_score", "calm score")):
        st = d[key]
        if st["count"]:
            print(f"  {name:<16} median {st['median']:g}, 10-90 % {st['p10']:g} … {st['p90']:g}")
    fams = sorted(s["families"].items(), key=lambda kv: -kv[1]["files"])
    shown = [f"{f} {100 * (v['share_of_files'] or 0):.0f} %" for f, v in fams if v["files"]]
    print(f"  families         {', '.join(shown) or 'none tagged'}")
    if s["most_jarring_recordings"]:
        print("  most jarring recordings:")
        for r in s["most_jarring_recordings"][:5]:
            print(f"    {r['calm_score']:>5g}  {r['path']} ({r['events']} event(s))")
    if s["most_jarring_moments"]:
        print("  most jarring moments:")
        for m in s["most_jarring_moments"][:5]:
            print(
                f"    {m['severity']:.2f}  {m['kind']:<15} {m['start_s']:g}-{m['end_s']:g} s  {m['path']}"
            )
    for f in s["outputs"]:
        print(f"wrote {f}", file=sys.stderr)
    return 0


def _workers(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--workers {text!r}: expected an integer >= 1") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"--workers {n}: expected an integer >= 1")
    return n


def add_corpus_parser(
    subparsers: Any, *, parser_class: type[argparse.ArgumentParser] | None = None
) -> argparse.ArgumentParser:
    """Register ``susurrus corpus analyze|summary`` on the main parser's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "corpus",
        help="analyse a corpus of recordings on a Dask cluster and summarise it",
        description=(
            "Batch analysis of many recordings (a folder, a list of paths or a glob) on a "
            "Dask LocalCluster or any Dask scheduler, into a resumable dataset; summaries "
            "with prevalence, distributions, plots and a CSV."
        ),
        epilog=EPILOG_CORPUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kw: dict[str, Any] = {"parser_class": parser_class} if parser_class is not None else {}
    sub = p.add_subparsers(dest="corpus_command", metavar="ACTION", **kw)

    q = sub.add_parser(
        "analyze",
        help="analyse every file of SOURCE into a dataset (resumable)",
        description=(
            "Run the single-file analysis (`susurrus analyze`) on every file of SOURCE, one "
            "Dask task per file, writing each record as it finishes."
        ),
        epilog=EPILOG_ANALYZE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    q.add_argument("source", metavar="SOURCE", help="a folder, a text file of paths, or a glob")
    q.add_argument("--out", required=True, metavar="DATASET", help="the dataset folder")
    where = q.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler", metavar="ADDRESS", help="a Dask scheduler, e.g. tcp://head-node:8786"
    )
    where.add_argument(
        "--workers",
        type=_workers,
        metavar="N",
        help="local single-threaded worker processes (default: one per core)",
    )
    q.add_argument("--no-tags", action="store_true", help="skip YAMNet trigger tagging (faster)")
    q.add_argument("--json", action="store_true", help="print the run's totals as one JSON object")
    q.set_defaults(func=cmd_corpus_analyze)

    q = sub.add_parser(
        "summary",
        help="summarise a dataset: prevalence, distributions, jarring moments, plots, CSV",
        description=(
            "Per-family prevalence and co-occurrence, loudness and calm-score distributions, "
            "the most jarring recordings and moments; writes plots and a flat CSV table."
        ),
        epilog=EPILOG_SUMMARY,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    q.add_argument("dataset", metavar="DATASET", help="a dataset folder from `corpus analyze`")
    q.add_argument("-o", "--output", metavar="DIR", help="where to write (default DATASET/summary)")
    q.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    q.set_defaults(func=cmd_corpus_summary)
    return p
