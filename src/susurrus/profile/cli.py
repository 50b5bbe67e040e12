"""Command line for the listener profile: create, show, next-clip, rate, avoid; discover; session.

Parses, calls the library (:mod:`susurrus.profile`), formats. Errors are raised as
:class:`susurrus.errors.SusurrusError` and printed by the main CLI as one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..argtypes import duration, rating
from ..errors import ParameterError
from ..families import FAMILY_IDS

RAW = argparse.RawDescriptionHelpFormatter


def _store() -> Any:
    from ..store import open_store

    return open_store()


def _emit(args: argparse.Namespace, obj: dict[str, Any], text: str) -> None:
    print(json.dumps(obj, ensure_ascii=False) if getattr(args, "json", False) else text)


def _clip_dir(name: str) -> Path:
    from ..store import data_dir

    d = data_dir() / "clips" / "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    d.mkdir(parents=True, exist_ok=True)
    return d


def cmd_create(args: argparse.Namespace) -> int:
    from .persist import create_listener

    m = create_listener(_store(), args.name)
    _emit(args, {"name": m.name, "created": True},
          f"created profile {m.name!r}; find your triggers with `susurrus discover --profile {m.name}`")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from .persist import load_listener

    m = load_listener(_store(), args.name)
    summary = m.summary()
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
        return 0
    print(f"profile {m.name}: {len(m.ratings)} rating(s)" + ("" if m.usable else " (rate a few more clips: 5 make it usable)"))
    for b in m.beliefs():
        mark = "  (avoided)" if b.avoided else ""
        print(f"  {b.family:<14} {b.mean:4.1f} ± {b.sd:3.1f}  n={b.n}{mark}")
    sens = m.sensitivity()
    print(f"sensitivity: {sens.level} — {sens.message}")
    return 0


def cmd_next_clip(args: argparse.Namespace) -> int:
    from .discovery import next_clip, render_clip
    from .persist import load_listener, save_listener

    store = _store()
    m = load_listener(store, args.name)
    spec = next_clip(m)
    path = render_clip(spec, _clip_dir(m.name) / f"{spec['id']}.flac")
    save_listener(store, m)
    out = {"id": spec["id"], "family": spec["family"], "variant": spec["variant"],
           "params": spec["params"], "path": str(path)}
    _emit(args, out, f"clip {spec['id']}: {spec['family']}:{spec['variant']} → {path}")
    return 0


def cmd_rate(args: argparse.Namespace) -> int:
    from .persist import load_listener, save_listener

    store = _store()
    m = load_listener(store, args.name)
    if args.session is not None:
        families = _session_families(store, m.name, args.session)
        m.rate_session(families, tingles=args.tingles, relax=args.relax)
        what = f"session {args.session} ({', '.join(families)})"
    elif args.clip is not None:
        m.rate(clip_id=args.clip, tingles=args.tingles, relax=args.relax, unpleasant=args.unpleasant)
        what = f"clip {args.clip}"
    else:
        raise ParameterError("clip", None, "--clip ID (from next-clip) or --session ID")
    save_listener(store, m)
    _emit(args, {"name": m.name, "rated": what, "ratings": len(m.ratings), "avoid": sorted(m.avoid)},
          f"thank you: {what} rated" + (f"; now avoiding {', '.join(sorted(m.avoid))}" if m.avoid else ""))
    return 0


def _session_families(store: Any, name: str, session_id: int) -> list[str]:
    from sqlalchemy import select

    from ..store import Profile
    from ..store import Session as JournalSession

    with store.session() as s:
        row = s.execute(select(JournalSession.scene).join(Profile, Profile.id == JournalSession.profile_id)
                        .where(JournalSession.id == session_id, Profile.name == name)).first()
    if row is None or not row[0]:
        raise ParameterError("session", session_id, f"a session id of profile {name!r} (see `susurrus journal list`)")
    from .sessions import SCRIPT_FAMILY

    # a guided script layer is a whispered voice: the session's rating reaches whisper too
    layers = row[0].get("layers", [])
    fams = [SCRIPT_FAMILY if la.get("kind") == "script" else la.get("trigger") for la in layers]
    return list(dict.fromkeys(f for f in fams if f))


def cmd_avoid(args: argparse.Namespace) -> int:
    from .persist import load_listener, save_listener

    store = _store()
    m = load_listener(store, args.name)
    if args.remove:
        m.remove_avoid(*args.families)
    else:
        m.add_avoid(*args.families)
    save_listener(store, m)
    _emit(args, {"name": m.name, "avoid": sorted(m.avoid)},
          "avoiding: " + (", ".join(sorted(m.avoid)) or "nothing"))
    return 0


def cmd_session(args: argparse.Namespace) -> int:
    from ..journal import start_session
    from ..render import render_to_file
    from .persist import load_listener
    from .sessions import build_session

    store = _store()
    m = load_listener(store, args.profile)
    sess = build_session(m, args.goal, duration_s=args.duration, seed=args.seed)
    scene = sess.scene
    if args.sleep_after is not None:
        scene = scene.with_overrides(sleep_after_s=args.sleep_after)
    if args.scene_out:
        scene.save(args.scene_out)
    sid = start_session(store, m.name, scene=scene.to_dict(), goal=args.goal, duration_s=scene.timing().total_s)
    rep = render_to_file(scene, args.output)
    expl = sess.explanation.to_dict()
    out = {"path": str(args.output), "session_id": sid, "duration_s": rep.duration_s,
           "explanation": expl, "scene": scene.to_dict()}
    text = (sess.explanation.text() + f"\nwrote {args.output} ({rep.duration_s:g} s). "
            f"Afterwards: `susurrus profile rate {m.name} --session {sid} --tingles N --relax N`")
    _emit(args, out, text)
    return 0


def _ask(prompt: str, low: int, high: int) -> int | None:
    while True:
        text = input(f"{prompt} [{low}-{high}, q to stop]: ").strip().lower()
        if text in ("q", "quit", ""):
            return None
        if text.isdigit() and low <= int(text) <= high:
            return int(text)
        print(f"  please answer with a whole number from {low} to {high}")


def cmd_discover(args: argparse.Namespace) -> int:
    from ..safety import COMPLEMENT_NOTE
    from .discovery import next_clip, render_clip
    from .model import QUESTIONS
    from .persist import load_listener, save_listener

    store = _store()
    m = load_listener(store, args.profile)
    print(COMPLEMENT_NOTE)
    for q in QUESTIONS:
        if q.id in m.answers:
            continue
        print(q.text)
        for i, choice in enumerate(q.scale):
            print(f"  {i}: {choice}")
        v = _ask("your answer", 0, len(q.scale) - 1)
        if v is None:
            save_listener(store, m)
            return 0
        m.answer(q.id, v)
    save_listener(store, m)
    for _ in range(args.max):
        spec = next_clip(m)
        path = render_clip(spec, _clip_dir(m.name) / f"{spec['id']}.flac")
        print(f"\nclip: {spec['family']} ({spec['variant']}) — {path}")
        _try_play(path)
        t = _ask("tingles", 0, 10)
        r = None if t is None else _ask("relaxation", 0, 10)
        if t is None or r is None:
            break
        bad = input("unpleasant? [y/N]: ").strip().lower() in ("y", "yes")
        m.rate(clip_id=spec["id"], tingles=t, relax=r, unpleasant=bad)
        save_listener(store, m)
        if m.usable:
            top = ", ".join(m.top(3))
            print(f"  so far your favourites look like: {top}")
    save_listener(store, m)
    print(f"saved {len(m.ratings)} rating(s). Build a session: "
          f"`susurrus session --profile {m.name} --goal relax -o relax.flac`")
    return 0


def _try_play(path: Path) -> None:
    try:
        from ..audio import read
        from ..play import _open_sounddevice

        sd = _open_sounddevice()
        y, sr = read(path)
        sd.play(y.T, sr)
        sd.wait()
    except Exception as exc:
        print(f"  (cannot play here: {str(exc).splitlines()[0]}; play the file, then rate it)",
              file=sys.stderr)


def add_profile_parsers(sub: Any, profile_sub: Any, *, parser_class: Any = None) -> None:
    """Register ``profile create|show|next-clip|rate|avoid``, ``discover`` and ``session``."""
    q = profile_sub.add_parser("create", help="create a listener profile",
                               epilog="example:\n  susurrus profile create ada", formatter_class=RAW)
    q.add_argument("name", metavar="NAME")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_create)

    q = profile_sub.add_parser("show", help="what the profile has learnt, best families first",
                               epilog="example:\n  susurrus profile show ada --json", formatter_class=RAW)
    q.add_argument("name", metavar="NAME")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_show)

    q = profile_sub.add_parser("next-clip", help="render the next discovery clip (10-20 s)",
                               epilog="example:\n  susurrus profile next-clip ada --json", formatter_class=RAW)
    q.add_argument("name", metavar="NAME")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_next_clip)

    q = profile_sub.add_parser("rate", help="rate a clip (or a finished session): tingles and relaxation 0-10",
                               epilog="examples:\n  susurrus profile rate ada --clip c0003 --tingles 6 --relax 8\n"
                                      "  susurrus profile rate ada --clip c0004 --tingles 0 --relax 1 --unpleasant\n"
                                      "  susurrus profile rate ada --session 12 --tingles 5 --relax 9",
                               formatter_class=RAW)
    q.add_argument("name", metavar="NAME")
    q.add_argument("--clip", metavar="ID")
    q.add_argument("--session", type=int, metavar="ID", help="a session made by `susurrus session`")
    q.add_argument("--tingles", type=rating("tingles", integer=False), required=True, metavar="N")
    q.add_argument("--relax", type=rating("relax", integer=False), required=True, metavar="N")
    q.add_argument("--unpleasant", action="store_true", help="never play this family again")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_rate)

    q = profile_sub.add_parser("avoid", help="never use these trigger families (e.g. breathing, tapping)",
                               epilog="examples:\n  susurrus profile avoid ada breathing typing\n"
                                      "  susurrus profile avoid ada typing --remove",
                               formatter_class=RAW)
    q.add_argument("name", metavar="NAME")
    q.add_argument("families", nargs="+", metavar="FAMILY", choices=FAMILY_IDS)
    q.add_argument("--remove", action="store_true", help="take them off the avoid-list")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_avoid)

    p = sub.add_parser("discover", help="find your triggers: rate short clips, interactively",
                       epilog="example:\n  susurrus discover --profile ada", formatter_class=RAW)
    p.add_argument("--profile", required=True, metavar="NAME")
    p.add_argument("--max", type=int, default=30, help="at most this many clips (stop any time with q)")
    p.set_defaults(func=cmd_discover)

    p = sub.add_parser("session", help="build and render a personal session for a goal",
                       epilog="examples:\n  susurrus session --profile ada --goal sleep --duration 45m -o night.flac\n"
                              "  susurrus session --profile ada --goal relax -o relax.flac --json",
                       formatter_class=RAW)
    p.add_argument("--profile", required=True, metavar="NAME")
    p.add_argument("--goal", required=True, choices=("relax", "sleep", "focus", "unwind"))
    p.add_argument("--duration", type=duration("duration"), default=2700.0, metavar="DUR")
    p.add_argument("--sleep-after", type=duration("sleep_after"), metavar="DUR")
    p.add_argument("--seed", type=int, metavar="N", help="session seed (default: a fresh one)")
    p.add_argument("-o", "--output", required=True, metavar="OUT")
    p.add_argument("--scene-out", metavar="FILE", help="also save the scene (.toml/.json)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_session)
