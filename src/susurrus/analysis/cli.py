"""The ``analyze`` and ``soften`` subcommands, registered on the main parser.

``susurrus.cli.build_parser`` calls :func:`add_analyze_parser` and
:func:`add_soften_parser` with its subparsers; the command functions return the exit
code and raise :class:`~susurrus.errors.SusurrusError` for user errors.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

EPILOG_ANALYZE = """examples:
  susurrus analyze night-rain.flac
  susurrus analyze *.wav --json > report.jsonl
  susurrus analyze talk.mp3 --html talk-report.html

--json prints JSON lines: one object per file, in the order given, each with
"path" and "error" (null when the file was analysed). Exit code 0 when every
file was analysed, 1 when any failed (the others are still reported)."""

EPILOG_SOFTEN = """example:
  susurrus soften tappy.wav -o calmer.flac --target-lufs -27"""


def _clean(obj: Any) -> Any:
    """JSON-safe: non-finite floats become null."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def _fmt(x: Any, unit: str) -> str:
    return "n/a" if x is None else f"{x:g} {unit}"


def _summary(rec: dict[str, Any]) -> str:
    if rec["error"]:
        return f"{rec['path']}: error: {rec['error']}"
    kinds: dict[str, int] = {}
    for e in rec["events"]:
        kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
    ev = ", ".join(f"{n} {k}" for k, n in kinds.items()) or "none"
    hum = rec["hum"]
    tags = sorted({t["family"] for t in rec["tags"]})
    lv = rec["level"]
    lines = [
        f"{rec['path']}: {rec['duration_s']:g} s, {rec['sample_rate']} Hz, {rec['channels']} ch",
        f"  calm score     {rec['calm_score']:g} / 100",
        f"  loudness       {_fmt(rec['integrated_lufs'], 'LUFS')}, range {_fmt(rec['loudness_range_lu'], 'LU')}, "
        f"true peak {_fmt(rec['true_peak_dbtp'], 'dBTP')}",
        f"  jarring events {ev}",
        f"  hum            {('{:g} Hz at {}'.format(hum['frequency_hz'], _fmt(hum['level_db'], 'dBFS'))) if hum['detected'] else 'none'}"
        f"; hiss floor {_fmt(rec['hiss_db'], 'dBFS')}",
        f"  triggers       {', '.join(tags) or 'none recognised'}",
        f"  level budget   {'within' if lv['compliant'] else 'outside'}; suggested gain {_fmt(lv['gain_db'], 'dB')}"
        + (" (needs limiting)" if lv["needs_limiting"] else ""),
    ]
    return "\n".join(lines)


def cmd_analyze(args: argparse.Namespace) -> int:
    """Analyse every file; one JSON line (or a summary) per file; 1 if any failed."""
    from ..errors import SusurrusError
    from .core import analyze_file_full, error_record
    from .report import write_html

    results = []
    failed = False
    for path in args.files:
        try:
            an = analyze_file_full(path)
            rec, curves = an.record, an.curves
        except SusurrusError as exc:
            rec, curves = error_record(path, str(exc)), None
        except Exception as exc:  # a decoder failing on odd input: report it, go on
            rec, curves = (
                error_record(path, f"{path}: cannot analyse ({type(exc).__name__}: {exc})"),
                None,
            )
        failed |= rec["error"] is not None
        if args.json:
            print(json.dumps(_clean(rec), ensure_ascii=False), flush=True)
        else:
            print(_summary(rec), flush=True)
        results.append((rec, curves))
    if args.html:
        write_html(args.html, results)
        if not args.json:
            print(f"wrote {args.html}", file=sys.stderr)
    return 1 if failed else 0


def cmd_soften(args: argparse.Namespace) -> int:
    """Soften one file into another."""
    from .soften import soften_file

    res = soften_file(args.input, args.output, target_lufs=args.target_lufs)
    d = res.as_dict()
    if args.json:
        print(json.dumps(_clean(d), ensure_ascii=False))
    else:
        print(
            f"wrote {res.output}: softened {len(res.plan.regions)} moment(s) of {res.events_before} "
            f"event(s), gain {res.plan.gain_db:+.1f} dB"
            + (
                f", hum notch at {', '.join(f'{f:g}' for f in res.plan.notch_hz)} Hz"
                if res.plan.notch_hz
                else ""
            )
        )
    return 0


def add_analyze_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``susurrus analyze`` on the main parser's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "analyze",
        help="analyse recordings: loudness, jarring moments, hum, hiss, triggers, calm score",
        description=(
            "Analyse WAV, FLAC, OGG or MP3 recordings (mono, stereo or 5.1) in one streaming pass: "
            "EBU R128 loudness, jarring events, hum and hiss, trigger tags over time, "
            "a calm score (0-100) and the calm-listening level budget."
        ),
        epilog=EPILOG_ANALYZE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="audio files to analyse")
    p.add_argument("--json", action="store_true", help="print JSON lines, one object per file")
    p.add_argument("--html", metavar="REPORT.html", help="also write a self-contained HTML report")
    p.set_defaults(func=cmd_analyze)
    return p


def add_soften_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``susurrus soften`` on the main parser's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "soften",
        help="lower the jarring moments of a recording and normalise its loudness",
        description=(
            "Soften a recording: look-ahead gain riding over transients and loudness jumps, "
            "de-clipping, a notch for detected mains hum, gentle de-essing of harsh bursts, "
            "a band cut for beeps, and loudness normalisation. Everything else is left alone."
        ),
        epilog=EPILOG_SOFTEN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", metavar="IN", help="recording to soften")
    p.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="output .wav, .flac or .ogg"
    )
    p.add_argument(
        "--target-lufs",
        type=float,
        default=-27.0,
        help="integrated loudness of the output (default -27)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(func=cmd_soften)
    return p
