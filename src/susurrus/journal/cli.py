"""Command-line edges of the journal: parse, call the library, format. Nothing else lives here.

The lead's ``susurrus.cli.build_parser`` registers these commands with::

    from .journal.cli import add_journal_parsers
    profile_sub = add_journal_parsers(sub, parser_class=_Parser)

``add_journal_parsers`` returns the subparsers object of the ``profile`` group
so the listener-profile commands (``profile create|show|rate|avoid …``) can be
added to the same group; pass ``profile_sub=`` to add export/import/delete to
a ``profile`` group created elsewhere instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from ..argtypes import duration, rating
from ..errors import ParameterError, SusurrusError
from ..safety import COMPLEMENT_NOTE, SCREENING_NOTE, first_run_note, format_crisis
from ..units import parse_duration

RAW = argparse.RawDescriptionHelpFormatter
DEFAULT_PROFILE = "default"
NOTE_EPILOG = f"\n\n{COMPLEMENT_NOTE}"


# -- helpers --------------------------------------------------------------------------------


def _store() -> Any:
    from ..store import open_store

    return open_store()


def _first_run(args: argparse.Namespace) -> None:
    from ..store import data_dir

    try:
        note = first_run_note(data_dir())
    except OSError:
        return
    if note:
        print(note, file=sys.stderr if getattr(args, "json", False) else sys.stdout)
        if not getattr(args, "json", False):
            print()


def _emit(args: argparse.Namespace, obj: dict[str, Any], text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(obj, ensure_ascii=False, default=str))
    else:
        print(text)


def _since(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    return dt.datetime.now(dt.UTC) - dt.timedelta(seconds=parse_duration(text, name="since"))


def _ask_int(prompt: str, low: int, high: int, *, optional: bool = False) -> int | None:
    while True:
        text = input(prompt).strip()
        if not text and optional:
            return None
        try:
            v = int(text)
        except ValueError:
            v = low - 1
        if low <= v <= high:
            return v
        print(f"  please answer a whole number {low}-{high}", file=sys.stderr)


def _load_scene(path: str) -> dict[str, Any]:
    p = Path(path)
    try:
        if p.suffix.lower() == ".toml":
            import tomllib

            return tomllib.loads(p.read_text(encoding="utf-8"))
        data = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise ParameterError(
            "scene", path, f"a readable .toml or .json scene file ({exc})"
        ) from None
    if not isinstance(data, dict):
        raise ParameterError("scene", path, "a scene object")
    return data


# -- journal ----------------------------------------------------------------------------------


def cmd_checkin(args: argparse.Namespace) -> int:
    from . import RATINGS, Ratings, add_checkin, finish_session, latest_open_session, start_session

    _first_run(args)
    values = {k: getattr(args, k) for k in RATINGS}
    if all(v is None for v in values.values()) and sys.stdin.isatty() and not args.json:
        print("Rate each from 0 to 10 (Enter to skip). Tingles: 0 = none, 10 = intense.")
        for k in RATINGS:
            values[k] = _ask_int(f"  {k}: ", 0, 10, optional=True)
    ratings = Ratings(**values)
    store = _store()
    try:
        session_id = args.session
        started = False
        if args.phase == "before" and session_id is None:
            scene = _load_scene(args.scene) if args.scene else None
            session_id = start_session(
                store,
                args.profile,
                scene=scene,
                goal=args.goal,
                family=args.family,
                duration_s=args.duration,
            )
            started = True
        elif args.phase == "after" and session_id is None:
            session_id = latest_open_session(store, args.profile)
            if session_id is None:
                raise ParameterError(
                    "session",
                    None,
                    "an open session: record a --phase before check-in first, or give --session ID",
                )
        cid = add_checkin(
            store, args.profile, ratings, phase=args.phase, session_id=session_id, note=args.note
        )
        if args.phase == "after":
            assert session_id is not None
            finish_session(store, session_id, completed=not args.stopped, duration_s=args.duration)
    finally:
        store.close()
    what = {"before": "before-session", "after": "after-session", "standalone": ""}[args.phase]
    text = f"saved {what + ' ' if what else ''}check-in {cid} for {args.profile}"
    if started:
        text += f" (session {session_id} started; after listening: susurrus journal checkin --phase after)"
    elif session_id is not None:
        text += f" (session {session_id}{', stopped' if args.stopped else ''})"
    _emit(
        args,
        {
            "checkin_id": cid,
            "session_id": session_id,
            "phase": args.phase,
            "profile": args.profile,
            **ratings.as_dict(),
        },
        text,
    )
    return 0


def cmd_sleep(args: argparse.Namespace) -> int:
    from .sleep import QUALITY, QUESTIONS, SleepAnswers, add_sleep_entry, resolve_clock

    _first_run(args)
    night = (
        dt.date.fromisoformat(args.night) if args.night else dt.date.today() - dt.timedelta(days=1)
    )
    fields = ["bed", "try_sleep", "sol", "awakenings", "waso", "final_wake", "out_of_bed"]
    missing = [f for f in fields if getattr(args, f) is None]
    if missing and sys.stdin.isatty() and not args.json:
        print(f"Sleep diary for the night of {night.isoformat()} (times as HH:MM).")
        for f in missing:
            q = QUESTIONS[fields.index(f)]
            setattr(args, f, input(f"  {q} ").strip())
        if args.quality is None:
            args.quality = _ask_int(f"  {QUESTIONS[7]} ", 1, 5, optional=True)
    elif missing:
        raise ParameterError(
            missing[0].replace("_", "-"),
            None,
            "all of --bed --try-sleep --sol --awakenings --waso --final-wake --out-of-bed",
        )

    def num(name: str, text: str, integer: bool = False) -> Any:
        try:
            return int(text) if integer else float(text)
        except (TypeError, ValueError):
            raise ParameterError(
                name, text, "a whole number" if integer else "minutes (a number)"
            ) from None

    answers = SleepAnswers(
        night=night,
        bed_time=resolve_clock(night, str(args.bed), name="bed"),
        try_sleep_time=resolve_clock(night, str(args.try_sleep), name="try-sleep"),
        sol_min=num("sol", args.sol),
        awakenings=num("awakenings", args.awakenings, True),
        waso_min=num("waso", args.waso),
        final_wake_time=resolve_clock(night, str(args.final_wake), name="final-wake"),
        out_of_bed_time=resolve_clock(night, str(args.out_of_bed), name="out-of-bed"),
        quality=args.quality,
        note=args.note,
    )
    store = _store()
    try:
        eid, m = add_sleep_entry(store, args.profile, answers)
    finally:
        store.close()
    q = f", quality {QUALITY[args.quality - 1]}" if args.quality else ""
    _emit(
        args,
        {"sleep_id": eid, "night": night.isoformat(), "profile": args.profile, **m.as_dict()},
        f"saved night of {night.isoformat()}: asleep {m.tst_min / 60:.1f} h of {m.tib_min / 60:.1f} h in bed "
        f"(efficiency {m.se_pct:.0f} %), {m.sol_min:g} min to fall asleep, {m.waso_min:g} min awake{q}",
    )
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from . import list_entries

    store = _store()
    try:
        entries = list_entries(store, args.profile, since=_since(args.since))
    finally:
        store.close()
    if args.json:
        print(
            json.dumps(
                {"profile": args.profile, "entries": entries}, ensure_ascii=False, default=str
            )
        )
        return 0
    if not entries:
        print(
            f"no entries for {args.profile}" + (f" in the last {args.since}" if args.since else "")
        )
    for e in entries:
        if e["kind"] == "session":
            b, a = e["before"] or {}, e["after"] or {}
            pair = " ".join(
                f"{k} {b.get(k, '–')}→{a.get(k, '–')}"
                for k in ("stress", "calm")
                if b.get(k) is not None or a.get(k) is not None
            )
            print(
                f"{e['at'][:16]}  session {e['id']:<4} {e['family'] or '':<10} {e['goal'] or '':<7} "
                f"{e['outcome']:<9} {pair}"
            )
        elif e["kind"] == "checkin":
            vals = " ".join(
                f"{k} {e[k]}"
                for k in ("stress", "anxiety", "mood", "calm", "tingles")
                if e[k] is not None
            )
            print(
                f"{e['at'][:16]}  check-in {e['id']:<3} {vals}"
                + (f"  “{e['note']}”" if e["note"] else "")
            )
        else:
            print(
                f"{e['night']}        sleep {e['tst_min'] / 60:.1f} h, efficiency {e['se_pct']:.0f} %, "
                f"SOL {e['sol_min']:g} min, WASO {e['waso_min']:g} min"
            )
    return 0


# -- questionnaires -----------------------------------------------------------------------------


def cmd_questionnaire(args: argparse.Namespace) -> int:
    from ..safety import crisis_resources, needs_crisis_resources
    from .questionnaires import (
        COPYRIGHT,
        DIFFICULTY_OPTIONS,
        DIFFICULTY_QUESTION,
        format_result,
        get_instrument,
        parse_answers,
        record_result,
        score_answers,
    )

    inst = get_instrument(args.instrument)
    difficulty = args.difficulty
    crisis_shown = False
    if args.answers is not None:
        answers = parse_answers(args.answers)
    else:
        if not sys.stdin.isatty() and not args.interactive:
            raise ParameterError(
                "answers",
                None,
                f"--answers with {len(inst.items)} values 0-3, "
                "or run in a terminal to answer interactively",
            )
        print(f"{inst.title}\n{inst.stem}")
        print("  " + "   ".join(f"{i} = {o}" for i, o in enumerate(inst.options)))
        answers = []
        for i, item in enumerate(inst.items, start=1):
            v = _ask_int(f"{i}. {item}: ", 0, 3)
            assert v is not None
            answers.append(v)
            if needs_crisis_resources(inst.id, answers) and not crisis_shown:
                print(
                    "\n" + format_crisis(crisis_resources(args.locale)) + "\n", flush=True
                )  # at once
                crisis_shown = True
        if inst.id.startswith("phq") and any(answers) and difficulty is None:
            print(DIFFICULTY_QUESTION)
            print("  " + "   ".join(f"{i} = {o}" for i, o in enumerate(DIFFICULTY_OPTIONS)))
            difficulty = _ask_int("  answer: ", 0, 3)
        print(f"({COPYRIGHT})\n")
    result = score_answers(inst.id, answers, difficulty=difficulty, locale=args.locale)
    if args.json:
        if result.crisis is not None:  # the crisis text, at once, alongside the JSON object
            print(format_crisis(result.crisis), file=sys.stderr, flush=True)
        obj = result.to_json()
        if result.crisis is not None:
            obj["message"] = format_crisis(result.crisis)
        print(json.dumps(obj, ensure_ascii=False), flush=True)
    else:
        text = format_result(result)
        if crisis_shown and result.crisis is not None:
            text = (
                text.split("\n\n", 1)[1] + "\n\n" + format_crisis(result.crisis)
            )  # and once more at the end
        print(text, flush=True)
    if args.profile:
        store = _store()
        try:
            record_result(store, args.profile, result)
        finally:
            store.close()
    return 0


# -- heart rate, report ---------------------------------------------------------------------------


def cmd_hr_import(args: argparse.Namespace) -> int:
    from .heart_rate import import_hr, session_hr

    store = _store()
    try:
        rid, sid, n = import_hr(store, args.profile, args.file, session_id=args.session)
        summary = session_hr(store, sid) if sid is not None else None
    finally:
        store.close()
    text = f"imported {n} heart-rate rows from {args.file} (recording {rid})"
    if sid is not None:
        text += f", linked to session {sid}"
        if summary is not None and summary.change_bpm is not None:
            text += (
                f": first 5 min {summary.first5_bpm:.1f} bpm, last 5 min {summary.last5_bpm:.1f} bpm "
                f"({summary.change_bpm:+.1f})"
            )
        if summary is not None and summary.rmssd_ms is not None:
            text += f", RMSSD {summary.rmssd_ms:.1f} ms"
    else:
        text += " (no session overlaps it; link one with --session ID)"
    _emit(
        args,
        {
            "recording_id": rid,
            "session_id": sid,
            "rows": n,
            "summary": summary.as_dict() if summary else None,
        },
        text,
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    store = _store()
    try:
        path = write_report(
            store, args.profile, args.output, since=_since(args.since), locale=args.locale
        )
    finally:
        store.close()
    _emit(args, {"path": str(path)}, f"wrote {path}")
    return 0


# -- profile export / import / delete ---------------------------------------------------------------


def cmd_profile_export(args: argparse.Namespace) -> int:
    from ..store import export_profile, export_profile_csv, write_export
    from .sleep import csv_metrics

    store = _store()
    try:
        written = []
        if args.output:
            written.append(str(write_export(export_profile(store, args.name), args.output)))
        if args.csv:
            written += [
                str(p)
                for p in export_profile_csv(
                    store, args.name, args.csv, extra_columns={"sleep_entries": csv_metrics}
                )
            ]
    finally:
        store.close()
    if not written:
        raise ParameterError("output", None, "-o FILE.json and/or --csv DIR")
    _emit(args, {"profile": args.name, "written": written}, "wrote " + ", ".join(written))
    return 0


def cmd_profile_import(args: argparse.Namespace) -> int:
    from ..store import import_profile, read_export

    doc = read_export(args.file)
    store = _store()
    try:
        name = import_profile(store, doc, name=args.as_name)
    finally:
        store.close()
    _emit(args, {"profile": name, "file": args.file}, f"imported profile {name!r} from {args.file}")
    return 0


class ConfirmationRequired(SusurrusError):
    """A destructive command was run without ``--yes``."""


def cmd_profile_delete(args: argparse.Namespace) -> int:
    from ..store import delete_profile

    if not args.yes:
        raise ConfirmationRequired(
            f"this deletes profile {args.name!r} and ALL its data for good; "
            f"export it first if unsure, then add --yes"
        )
    store = _store()
    try:
        counts = delete_profile(store, args.name)
    finally:
        store.close()
    total = sum(v for k, v in counts.items() if k != "profiles")
    _emit(
        args,
        {"profile": args.name, "deleted": counts},
        f"deleted profile {args.name!r} and {total} entries",
    )
    return 0


# -- registration -----------------------------------------------------------------------------------


def _common(
    p: argparse.ArgumentParser, *, profile_required: bool = False, json_flag: bool = True
) -> None:
    if profile_required:
        p.add_argument("--profile", required=True, metavar="NAME", help="whose journal")
    else:
        p.add_argument(
            "--profile",
            default=DEFAULT_PROFILE,
            metavar="NAME",
            help=f"whose journal (default: {DEFAULT_PROFILE})",
        )
    if json_flag:
        p.add_argument("--json", action="store_true", help="print one JSON object")


def add_journal_parsers(
    sub: Any,
    *,
    profile_sub: Any | None = None,
    parser_class: type[argparse.ArgumentParser] | None = None,
) -> Any:
    """Register ``journal``, ``questionnaire``, ``hr``, ``report`` and ``profile export|import|delete``.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The top-level subparsers of ``susurrus``.
    profile_sub : argparse._SubParsersAction, optional
        The subparsers of an existing ``profile`` group; when ``None`` the group is created.
    parser_class : type, optional
        Parser class for nested groups (the lead's ``_Parser``).

    Returns
    -------
    argparse._SubParsersAction
        The ``profile`` group's subparsers, for the listener-profile commands to share.
    """
    kw: dict[str, Any] = {"parser_class": parser_class} if parser_class else {}

    # journal
    p = sub.add_parser(
        "journal",
        help="your private journal: check-ins, sleep diary, list",
        description="A private journal of sessions, check-ins and sleep, kept on this machine.",
        epilog="examples:\n  susurrus journal checkin --phase before --goal sleep --family rain "
        "--stress 7 --calm 3\n  susurrus journal list --since 30d" + NOTE_EPILOG,
        formatter_class=RAW,
    )
    jsub = p.add_subparsers(dest="journal_command", metavar="ACTION", **kw)
    q = jsub.add_parser(
        "checkin",
        help="rate stress, anxiety, mood, calm and tingles (0-10)",
        description="Record a check-in: before a session (starts it), after it (closes it) "
        "or on its own.",
        epilog="examples:\n  susurrus journal checkin --phase before --goal relax --family whisper "
        "--stress 7 --anxiety 6 --mood 4 --calm 3\n"
        "  susurrus journal checkin --phase after --stress 3 --calm 8 --tingles 6 "
        "--note 'fell asleep halfway'",
        formatter_class=RAW,
    )
    _common(q)
    q.add_argument(
        "--phase",
        choices=("before", "after", "standalone"),
        default="standalone",
        help="before a session (starts one), after it, or standalone (default)",
    )
    q.add_argument(
        "--session",
        type=int,
        metavar="ID",
        help="the session (default: new for before, latest open for after)",
    )
    for k, h in (
        ("stress", "0 none … 10 extreme"),
        ("anxiety", "0 none … 10 extreme"),
        ("mood", "0 very low … 10 very good"),
        ("calm", "0 not at all … 10 completely"),
        ("tingles", "tingles intensity, 0 none … 10 intense"),
    ):
        q.add_argument(f"--{k}", type=rating(k), metavar="0-10", help=h)
    q.add_argument("--note", help="a free note")
    q.add_argument("--goal", help="session goal: relax, sleep, focus, unwind, stress …")
    q.add_argument(
        "--family", metavar="FAMILY", help="main trigger family (whisper, tapping, rain …)"
    )
    q.add_argument("--scene", metavar="FILE", help="the scene file that was played (.toml/.json)")
    q.add_argument("--duration", type=duration("duration"), metavar="DUR", help="session length, e.g. 45m")
    q.add_argument("--stopped", action="store_true", help="(after) the session was stopped early")
    q.set_defaults(func=cmd_checkin)

    q = jsub.add_parser(
        "sleep",
        help="sleep diary (Consensus Sleep Diary core questions)",
        description="Record last night: times are HH:MM (12:00-23:59 = the evening of NIGHT, "
        "00:00-11:59 = the next morning) or full 'YYYY-MM-DD HH:MM'.",
        epilog="example:\n  susurrus journal sleep --night 2026-03-01 --bed 22:50 --try-sleep 23:10 "
        "--sol 25 --awakenings 2 --waso 20 --final-wake 06:30 --out-of-bed 06:55 "
        "--quality 3",
        formatter_class=RAW,
    )
    _common(q)
    q.add_argument(
        "--night", metavar="YYYY-MM-DD", help="the date the night began (default: yesterday)"
    )
    q.add_argument("--bed", metavar="HH:MM", help="what time did you get into bed?")
    q.add_argument("--try-sleep", metavar="HH:MM", help="what time did you try to go to sleep?")
    q.add_argument(
        "--sol", metavar="MIN", help="how long did it take you to fall asleep (minutes)?"
    )
    q.add_argument(
        "--awakenings", metavar="N", help="how many times did you wake up (not the final one)?"
    )
    q.add_argument(
        "--waso", metavar="MIN", help="in total, how long did these awakenings last (minutes)?"
    )
    q.add_argument("--final-wake", metavar="HH:MM", help="what time was your final awakening?")
    q.add_argument(
        "--out-of-bed", metavar="HH:MM", help="what time did you get out of bed for the day?"
    )
    q.add_argument(
        "--quality",
        type=int,
        choices=range(1, 6),
        metavar="1-5",
        help="sleep quality: 1 very poor, 2 poor, 3 fair, 4 good, 5 very good",
    )
    q.add_argument("--note", help="a free note")
    q.set_defaults(func=cmd_sleep)

    q = jsub.add_parser(
        "list",
        help="list sessions, check-ins and sleep entries",
        epilog="example:\n  susurrus journal list --profile ada --since 30d --json",
        formatter_class=RAW,
    )
    _common(q)
    q.add_argument("--since", metavar="DUR", help="only the last DUR, e.g. 7d, 30d")
    q.set_defaults(func=cmd_list)

    # questionnaire
    p = sub.add_parser(
        "questionnaire",
        help="PHQ-9, PHQ-8 or GAD-7 (screening aids, not a diagnosis)",
        description="Validated questionnaires, reproduced unchanged. " + SCREENING_NOTE,
        epilog="examples:\n  susurrus questionnaire phq9\n"
        "  susurrus questionnaire gad7 --answers 1,0,2,1,0,1,0 --json" + NOTE_EPILOG,
        formatter_class=RAW,
    )
    qsub = p.add_subparsers(dest="questionnaire_command", metavar="INSTRUMENT", **kw)
    for iid, title in (
        ("phq9", "PHQ-9 (depression, 9 items)"),
        ("phq8", "PHQ-8 (depression, 8 items)"),
        ("gad7", "GAD-7 (anxiety, 7 items)"),
    ):
        n = {"phq9": 9, "phq8": 8, "gad7": 7}[iid]
        q = qsub.add_parser(
            iid,
            help=title,
            description=f"{title}. {SCREENING_NOTE}",
            epilog=f"examples:\n  susurrus questionnaire {iid}\n  susurrus questionnaire {iid} "
            f"--answers {','.join(['0'] * n)} --json --profile ada" + NOTE_EPILOG,
            formatter_class=RAW,
        )
        q.add_argument(
            "--answers",
            metavar="A,B,…",
            help=f"{n} answers 0-3 (0 Not at all … 3 Nearly every day)",
        )
        q.add_argument(
            "--difficulty",
            type=int,
            choices=range(4),
            metavar="0-3",
            help="PHQ difficulty question (0 not difficult at all … 3 extremely difficult)",
        )
        q.add_argument(
            "--profile", metavar="NAME", help="save the result in this profile's journal"
        )
        q.add_argument(
            "--locale",
            metavar="LOCALE",
            help="crisis resources for this locale (en_US, en_GB, IE, "
            "CA, AU; default from LANG, else international)",
        )
        q.add_argument(
            "--interactive", action="store_true", help="ask even when stdin is not a terminal"
        )
        q.add_argument(
            "--json",
            action="store_true",
            help='print {"instrument","score","severity","item9","crisis"}',
        )
        q.set_defaults(func=cmd_questionnaire, instrument=iid)

    # hr
    p = sub.add_parser(
        "hr",
        help="heart rate from wearables",
        epilog="example:\n  susurrus hr import watch.csv --profile ada",
        formatter_class=RAW,
    )
    hsub = p.add_subparsers(dest="hr_command", metavar="ACTION", **kw)
    q = hsub.add_parser(
        "import",
        help="import a heart-rate CSV (timestamp, bpm, optional RR)",
        description="Import a CSV with a time column and bpm and/or RR intervals (ms). Malformed "
        "rows are listed with their line numbers and nothing is imported.",
        epilog="example:\n  susurrus hr import watch.csv --profile ada --session 12",
        formatter_class=RAW,
    )
    q.add_argument("file", metavar="FILE")
    _common(q)
    q.add_argument(
        "--session",
        type=int,
        metavar="ID",
        help="link to this session (default: the one it overlaps)",
    )
    q.set_defaults(func=cmd_hr_import)

    # report
    q = sub.add_parser(
        "report",
        help="a progress report to show your clinician (HTML or PDF)",
        description="Before/after changes with 95 % confidence intervals and the number of "
        "sessions behind each, sleep by week, heart rate and questionnaire scores.",
        epilog="examples:\n  susurrus report --profile ada --since 30d -o report.html\n"
        "  susurrus report --profile ada -o report.pdf" + NOTE_EPILOG,
        formatter_class=RAW,
    )
    _common(q, profile_required=True)
    q.add_argument(
        "--since", metavar="DUR", help="only the last DUR, e.g. 30d (default: everything)"
    )
    q.add_argument("-o", "--output", required=True, metavar="OUT", help="report.html or report.pdf")
    q.add_argument("--locale", metavar="LOCALE", help="locale for crisis resources")
    q.set_defaults(func=cmd_report)

    # profile export / import / delete
    if profile_sub is None:
        p = sub.add_parser(
            "profile",
            help="profiles: export, import, delete",
            epilog="examples:\n  susurrus profile export ada -o ada.json\n"
            "  susurrus profile import ada.json\n  susurrus profile delete ada --yes",
            formatter_class=RAW,
        )
        profile_sub = p.add_subparsers(dest="profile_command", metavar="ACTION", **kw)
    q = profile_sub.add_parser(
        "export",
        help="write everything of a profile to JSON (and/or CSV files)",
        epilog="examples:\n  susurrus profile export ada -o ada.json\n"
        "  susurrus profile export ada --csv ada-csv/",
        formatter_class=RAW,
    )
    q.add_argument("name", metavar="NAME")
    q.add_argument("-o", "--output", metavar="FILE.json", help="the JSON export")
    q.add_argument("--csv", metavar="DIR", help="also write one CSV file per table into DIR")
    q.add_argument("--json", action="store_true", help="print a JSON summary")
    q.set_defaults(func=cmd_profile_export)
    q = profile_sub.add_parser(
        "import",
        help="restore a profile from its JSON export",
        epilog="example:\n  susurrus profile import ada.json --as ada-restored",
        formatter_class=RAW,
    )
    q.add_argument("file", metavar="FILE.json")
    q.add_argument("--as", dest="as_name", metavar="NAME", help="import under another name")
    q.add_argument("--json", action="store_true", help="print a JSON summary")
    q.set_defaults(func=cmd_profile_import)
    q = profile_sub.add_parser(
        "delete",
        help="delete a profile and ALL its data (needs --yes)",
        epilog="example:\n  susurrus profile delete ada --yes",
        formatter_class=RAW,
    )
    q.add_argument("name", metavar="NAME")
    q.add_argument("--yes", action="store_true", help="yes, delete it for good")
    q.add_argument("--json", action="store_true", help="print a JSON summary")
    q.set_defaults(func=cmd_profile_delete)
    return profile_sub
