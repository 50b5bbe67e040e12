"""The command line: parses, calls the library, formats. Nothing else lives here.

Errors from the library become one line on stderr and a non-zero exit code;
tracebacks are only for bugs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from . import __version__
from .argtypes import duration
from .errors import ParameterError, SusurrusError
from .units import format_duration

EXIT_USAGE = 2
EXIT_ERROR = 1


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"susurrus: error: {message} (see --help)\n")


# -- helpers -----------------------------------------------------------------------------

def _param(text: str) -> tuple[str, float]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--param {text!r}: expected KEY=VALUE, e.g. tempo_bpm=90")
    try:
        return key.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--param {text!r}: VALUE must be a number") from None


class _Progress:
    """A one-line progress bar with ETA on stderr (only when stderr is a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.t0 = time.monotonic()
        self.last = 0.0

    def __call__(self, done_s: float, total_s: float) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.2 and done_s < total_s):
            return
        self.last = now
        frac = done_s / total_s if total_s else 1.0
        elapsed = now - self.t0
        eta = elapsed * (1 - frac) / frac if frac > 0 else math.inf
        bar = "#" * int(30 * frac)
        speed = done_s / elapsed if elapsed > 0 else 0.0
        eta_s = format_duration(eta) if math.isfinite(eta) else "?"
        sys.stderr.write(f"\r[{bar:<30}] {100 * frac:5.1f}%  {format_duration(done_s)}"
                         f"/{format_duration(total_s)}  {speed:6.0f}x  ETA {eta_s}   ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _emit(args: argparse.Namespace, obj: dict[str, Any], text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(obj, ensure_ascii=False))
    else:
        print(text)


def _sigterm(signum: int, frame: FrameType | None) -> None:
    from .audio import Interrupted

    raise Interrupted(f"signal {signum}")


# -- scene assembly ------------------------------------------------------------------------

def _scene_from_args(args: argparse.Namespace) -> Any:
    from .scene import load_preset, load_scene, single_trigger_scene

    if args.trigger:
        from .triggers import get, parse_spec

        family, variant = parse_spec(args.trigger)
        get(family)  # unknown family → clear error
        return single_trigger_scene(
            family, variant, params=dict(args.param or []), duration_s=args.duration or 30.0,
            seed=args.seed or 0, sr=args.sr or 48000, azimuth_deg=args.azimuth_deg,
            elevation_deg=args.elevation_deg, distance_m=args.distance_m, motion=args.motion,
            period_s=args.period_s)
    if args.preset and args.scene:
        raise ParameterError("scene", args.scene, "either SCENE_FILE or --preset, not both")
    if args.preset:
        scene = load_preset(args.preset)
    elif args.scene:
        scene = load_scene(args.scene)
    else:
        raise ParameterError("scene", None, "a SCENE_FILE, --preset NAME or --trigger FAMILY")
    return scene.with_overrides(duration_s=args.duration, seed=args.seed,
                                sleep_after_s=args.sleep_after, sr=args.sr)


# -- commands ----------------------------------------------------------------------------------

def cmd_render(args: argparse.Namespace) -> int:
    from .audio import Interrupted, output_format
    from .render import render_to_file

    out = Path(args.output)
    output_format(out)
    scene = _scene_from_args(args)
    if args.scene_out:
        scene.save(args.scene_out)
    progress = _Progress(sys.stderr.isatty() and not args.json)
    try:
        rep = render_to_file(scene, out, progress=progress)
    except (KeyboardInterrupt, Interrupted):
        progress.close()
        kept = f"kept what was rendered in {out}" if out.exists() else "no file written"
        print(f"susurrus: interrupted; {kept}", file=sys.stderr)
        return 130
    progress.close()
    t = scene.timing()
    _emit(args, {"path": str(out), "duration_s": rep.duration_s, "sr": rep.sr,
                 "gain_db": round(rep.gain_db, 3), "render_seconds": round(rep.seconds, 3),
                 "speed_x_realtime": round(rep.speed, 1), "scene": scene.name,
                 "fade_in_s": t.fade_in_s, "fade_out_s": t.fade_out_s,
                 "target_lufs": scene.master.target_lufs},
          f"wrote {out} ({format_duration(rep.duration_s)}, {rep.sr} Hz stereo) "
          f"in {rep.seconds:.1f} s ({rep.speed:.0f}x real time)")
    return 0


def cmd_play(args: argparse.Namespace) -> int:
    from .play import play

    args.trigger = None
    args.param = None
    args.azimuth_deg = args.elevation_deg = args.distance_m = args.motion = args.period_s = None
    scene = _scene_from_args(args)
    play(scene)
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    from .scene import list_presets

    scenes = list_presets()
    rows: list[dict[str, Any]] = [
        {"name": s.name, "description": s.description, "duration_s": s.duration_s,
         "layers": [layer.label for layer in s.layers]} for s in scenes]
    if args.json:
        print(json.dumps({"presets": rows}, ensure_ascii=False))
    else:
        for r in rows:
            print(f"{r['name']:<18} {format_duration(r['duration_s']):>6}  {r['description']}")
    return 0


def cmd_triggers(args: argparse.Namespace) -> int:
    from .triggers import available, get

    rows = [get(f).describe() for f in available()]
    if args.json:
        print(json.dumps({"triggers": rows}, ensure_ascii=False))
        return 0
    for r in rows:
        print(f"{r['family']:<14} {', '.join(r['variants']):<40} {r['description']}")
        for p in r["params"]:
            unit = f" {p['unit']}" if p["unit"] else ""
            print(f"    {p['name']:<22} default {p['default']:g}{unit}  "
                  f"({p['min']:g} … {p['max']:g}{unit})  {p['description']}")
    return 0


def cmd_crisis(args: argparse.Namespace) -> int:
    from .safety import COMPLEMENT_NOTE, crisis_resources, format_crisis, locales

    if args.list:
        print("\n".join(locales()))
        return 0
    res = crisis_resources(args.locale)
    if args.json:
        print(json.dumps({"locale": res.locale, "country": res.country, "emergency": res.emergency,
                          "resources": [dataclasses.asdict(r) for r in res.resources],
                          "last_checked": res.last_checked, "note": COMPLEMENT_NOTE}, ensure_ascii=False))
    else:
        print(format_crisis(res))
        print()
        print(COMPLEMENT_NOTE)
    return 0


def cmd_scene_share(args: argparse.Namespace) -> int:
    from .scene import load_scene

    s = load_scene(args.file)
    text = s.to_share_string()
    _emit(args, {"share": text}, text)
    return 0


def cmd_scene_load(args: argparse.Namespace) -> int:
    from .scene import scene_from_share_string

    s = scene_from_share_string(args.string)
    path = s.save(args.output)
    _emit(args, {"path": str(path), "name": s.name}, f"wrote {path}")
    return 0


# -- parser -----------------------------------------------------------------------------------

EPILOG_RENDER = """examples:
  susurrus render --preset relax --duration 45m -o relax.flac
  susurrus render my-scene.toml --sleep-after 30m -o night.ogg
  susurrus render --trigger tapping:glass --param tempo_bpm=90 --duration 30s -o taps.wav
  susurrus render --trigger whisper --azimuth-deg 90 --distance-m 0.3 -o left-ear.flac

Spatial convention (SOFA): azimuth 0 = ahead, positive = to the listener's LEFT,
±180 = behind; elevation positive = up; distance in metres."""


def _add_scene_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scene", nargs="?", metavar="SCENE_FILE", help="a scene file (.toml or .json)")
    p.add_argument("--preset", metavar="NAME", help="a built-in preset (see `susurrus presets`)")
    p.add_argument("--duration", type=duration("duration"), metavar="DUR",
                   help="session length, e.g. 30s, 45m, 8h")
    p.add_argument("--seed", type=int, metavar="N", help="random seed (same seed, same sound)")
    p.add_argument("--sleep-after", type=duration("sleep_after"), metavar="DUR",
                   help="sleep timer: start a fade of at least 60 s after DUR, then stop")
    p.add_argument("--sr", type=int, choices=(44100, 48000), help="sample rate in Hz")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="susurrus", description=(
        "Susurrus: procedural ASMR sessions that may help you relax, wind down or sleep.\n"
        "It complements professional care; it does not replace it."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  susurrus render --preset relax --duration 45m -o relax.flac")
    parser.add_argument("--version", action="version", version=f"susurrus {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("render", help="render a scene, preset or single trigger to a file",
                       description="Render a scene, a preset or one trigger to WAV, FLAC or OGG.",
                       epilog=EPILOG_RENDER, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_scene_args(p)
    p.add_argument("--trigger", metavar="FAMILY[:VARIANT]",
                   help="render one trigger alone (no fades, normalised to -23 LUFS)")
    p.add_argument("--param", type=_param, action="append", metavar="KEY=VALUE",
                   help="trigger parameter (repeatable); see `susurrus triggers`")
    p.add_argument("--azimuth-deg", type=float, help="direction: 0 ahead, +90 left, -90 right, 180 behind")
    p.add_argument("--elevation-deg", type=float, help="elevation: positive up (-40 … 90)")
    p.add_argument("--distance-m", type=float, help="distance in metres (close whisper: 0.2–0.5)")
    p.add_argument("--motion", choices=("static", "sweep", "orbit", "drift", "approach"),
                   help="motion path around the head")
    p.add_argument("--period-s", type=float, help="seconds for one cycle of the motion")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output .wav, .flac or .ogg")
    p.add_argument("--scene-out", metavar="FILE", help="also save the scene (.toml/.json)")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("play", help="play a scene or preset on the default audio device",
                       description="Play live through the default audio device (PortAudio).",
                       epilog="example:\n  susurrus play --preset sleep --sleep-after 30m",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_scene_args(p)
    p.set_defaults(func=cmd_play)

    p = sub.add_parser("presets", help="list the built-in presets",
                       epilog="example:\n  susurrus presets --json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_presets)

    p = sub.add_parser("triggers", help="list trigger families, variants and parameters",
                       epilog="example:\n  susurrus triggers --json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_triggers)

    p = sub.add_parser("crisis", help="where to get help now (crisis lines for your country)",
                       description="Crisis resources for your locale, and a note on what Susurrus is.",
                       epilog="examples:\n  susurrus crisis\n  susurrus crisis --locale GB\n"
                              "  susurrus crisis --list",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--locale", metavar="LOCALE", help="e.g. US, GB, IE, CA, AU (default: from $LANG)")
    p.add_argument("--list", action="store_true", help="list the locales with resources")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_crisis)

    p = sub.add_parser("scene", help="share and load scenes as short strings",
                       epilog="examples:\n  susurrus scene share my.toml\n"
                              "  susurrus scene load s1.eJx... -o my.toml",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    ssub = p.add_subparsers(dest="scene_command", metavar="ACTION", parser_class=_Parser)
    q = ssub.add_parser("share", help="print a scene file as a share string",
                        epilog="example:\n  susurrus scene share my.toml",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("file", metavar="FILE")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_scene_share)
    q = ssub.add_parser("load", help="write a share string back to a scene file",
                        epilog="example:\n  susurrus scene load s1.eJx... -o my.toml",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("string", metavar="STRING")
    q.add_argument("-o", "--output", required=True, metavar="FILE")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_scene_load)

    from .analysis.cli import add_analyze_parser, add_soften_parser
    from .journal.cli import add_journal_parsers

    add_analyze_parser(sub)
    add_soften_parser(sub)
    profile_sub = add_journal_parsers(sub, parser_class=_Parser)
    from .profile.cli import add_profile_parsers

    add_profile_parsers(sub, profile_sub, parser_class=_Parser)
    from .batch.cli import add_corpus_parser

    add_corpus_parser(sub, parser_class=_Parser)
    from .api.server import add_serve_parsers

    add_serve_parsers(sub, parser_class=_Parser)
    return parser


def _tune_malloc() -> None:
    """Keep mid-sized numpy temporaries on the heap (glibc): the renderer allocates many
    per block, and mmap/munmap for each costs page faults (~10–20 % of render time); at most
    two arenas and an 8 MB threshold keep the peak RSS within the 300 MB budget."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 8 * 1024 * 1024)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 16 * 1024 * 1024)  # M_TRIM_THRESHOLD
        libc.mallopt(-8, 2)  # M_ARENA_MAX: the render threads share two arenas
    except (OSError, AttributeError):  # not glibc: nothing to tune
        pass


def main(argv: Sequence[str] | None = None) -> int:
    _tune_malloc()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        if args.command in ("scene", "journal", "questionnaire", "hr", "profile", "corpus"):
            print(f"susurrus: error: {args.command} needs an action "
                  f"(see susurrus {args.command} --help)", file=sys.stderr)
        else:
            parser.print_help(sys.stderr)
        return EXIT_USAGE
    old = signal.signal(signal.SIGTERM, _sigterm)
    try:
        return int(args.func(args))
    except SusurrusError as exc:
        print(f"susurrus: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # e.g. `susurrus triggers | head`: the reader went away
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except BaseException as exc:
        from .audio import Interrupted

        if isinstance(exc, Interrupted | KeyboardInterrupt):
            print("susurrus: interrupted", file=sys.stderr)
            return 130
        if isinstance(exc, OSError):
            print(f"susurrus: error: {exc.strerror or exc}"
                  + (f": {exc.filename}" if exc.filename else ""), file=sys.stderr)
            return EXIT_ERROR
        raise
    finally:
        signal.signal(signal.SIGTERM, old)


if __name__ == "__main__":
    sys.exit(main())
