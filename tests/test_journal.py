"""Journal: check-ins, sleep diary, heart-rate import, and the CLI commands."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from _pg import *  # noqa: F403  (fixtures: store, pg_store, pg_url)
from _pg import unique
from susurrus.errors import ParameterError, SusurrusError
from susurrus.journal import (
    HRImportError,
    JournalError,
    Ratings,
    SleepAnswers,
    SleepDiaryError,
    add_checkin,
    add_sleep_entry,
    finish_session,
    latest_open_session,
    list_entries,
    resolve_clock,
    start_session,
    validate,
)
from susurrus.journal.cli import add_journal_parsers
from susurrus.journal.heart_rate import import_hr, parse_hr_csv, rmssd, session_hr
from susurrus.store import Store

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 1, 22, 0, tzinfo=UTC)


# -- check-ins -----------------------------------------------------------------------------------


def test_before_after_session_flow(store: Store) -> None:
    name = unique()
    sid = start_session(
        store,
        name,
        scene={"layers": [{"trigger": "whisper:soft"}]},
        goal="sleep",
        duration_s=1800,
        started_at=T0,
    )
    add_checkin(store, name, Ratings(stress=7, calm=2), phase="before", session_id=sid, at=T0)
    assert latest_open_session(store, name) == sid
    add_checkin(
        store,
        name,
        Ratings(stress=3, calm=8, tingles=6),
        phase="after",
        session_id=sid,
        at=T0 + dt.timedelta(minutes=31),
    )
    finish_session(store, sid, completed=False)
    assert latest_open_session(store, name) is None
    add_checkin(store, name, Ratings(mood=5), note="later")
    entries = list_entries(store, name)
    sess = next(e for e in entries if e["kind"] == "session")
    assert sess["family"] == "whisper" and sess["outcome"] == "stopped"
    assert sess["before"]["stress"] == 7 and sess["after"]["tingles"] == 6
    assert any(e["kind"] == "checkin" and e["note"] == "later" for e in entries)
    with pytest.raises(JournalError, match="already has"):
        add_checkin(store, name, Ratings(stress=1), phase="after", session_id=sid)
    with pytest.raises(JournalError, match="no session"):
        add_checkin(store, unique(), Ratings(stress=1), phase="after", session_id=sid)


@pytest.mark.parametrize("bad", [{"stress": 11}, {"calm": -1}, {"mood": 2.5}, {"tingles": True}])
def test_ratings_out_of_range_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ParameterError):
        Ratings(**bad)  # type: ignore[arg-type]


def test_note_with_nul_rejected_clearly(tmp_path: Path) -> None:
    from susurrus.store import open_store

    with (
        open_store(f"sqlite:///{tmp_path / 'j.db'}") as s,
        pytest.raises(ParameterError, match="NUL"),
    ):
        add_checkin(s, "x", Ratings(), note="a\x00b")


# -- sleep diary ---------------------------------------------------------------------------------

N = dt.date(2026, 3, 1)


def _night(**kw: object) -> SleepAnswers:
    base: dict[str, object] = dict(
        night=N,
        bed_time=resolve_clock(N, "22:45"),
        try_sleep_time=resolve_clock(N, "23:00"),
        sol_min=30.0,
        awakenings=2,
        waso_min=40.0,
        final_wake_time=resolve_clock(N, "06:00"),
        out_of_bed_time=resolve_clock(N, "06:45"),
        quality=3,
    )
    base.update(kw)
    return SleepAnswers(**base)  # type: ignore[arg-type]


def test_sleep_metrics_known_answer() -> None:
    m = validate(_night())
    # tried 23:00, final wake 06:00 = 420 min; TST = 420 - 30 - 40 = 350; TIB 22:45-06:45 = 480
    assert (m.sol_min, m.waso_min, m.tst_min, m.tib_min) == (30.0, 40.0, 350.0, 480.0)
    assert m.se_pct == pytest.approx(100 * 350 / 480)


def test_clock_times_roll_over_midnight() -> None:
    assert resolve_clock(N, "23:10") == dt.datetime(2026, 3, 1, 23, 10)
    assert resolve_clock(N, "00:30") == dt.datetime(2026, 3, 2, 0, 30)
    assert resolve_clock(N, "2026-03-02 13:00") == dt.datetime(2026, 3, 2, 13, 0)
    with pytest.raises(ParameterError):
        resolve_clock(N, "25:00")


@pytest.mark.parametrize(
    ("kw", "msg"),
    [
        (
            {"final_wake_time": resolve_clock(N, "22:30")},
            "final awakening .* is before tried to sleep",
        ),
        ({"try_sleep_time": resolve_clock(N, "22:00")}, "tried to sleep .* is before got into bed"),
        (
            {"out_of_bed_time": resolve_clock(N, "05:00")},
            "got out of bed .* is before final awakening",
        ),
        (
            {
                "out_of_bed_time": dt.datetime(2026, 3, 3, 7, 0),
                "final_wake_time": dt.datetime(2026, 3, 3, 6, 0),
            },
            "more than 24 h",
        ),
        ({"sol_min": 300.0, "waso_min": 200.0}, "more than the 420 min"),
        ({"awakenings": 0}, "0 awakenings"),
        ({"sol_min": -5.0}, "sol_min"),
        ({"waso_min": math.nan}, "waso_min"),
        ({"quality": 6}, "quality"),
    ],
)
def test_impossible_sleep_answers_rejected(kw: dict[str, object], msg: str) -> None:
    with pytest.raises(SleepDiaryError, match=msg):
        validate(_night(**kw))


def test_sleep_entry_stored(store: Store) -> None:
    name = unique()
    eid, _m = add_sleep_entry(store, name, _night(note="rain helped"))
    e = next(x for x in list_entries(store, name) if x["kind"] == "sleep")
    assert e["id"] == eid and e["tst_min"] == 350.0 and e["note"] == "rain helped"


# -- heart rate ---------------------------------------------------------------------------------------


def _hr_csv(start: dt.datetime, minutes: int, bpm0: float, bpm1: float, *, rr: bool = True) -> str:
    lines = ["timestamp,bpm,rr_ms" if rr else "timestamp,bpm"]
    n = minutes * 60
    for i in range(0, n, 5):
        b = bpm0 + (bpm1 - bpm0) * i / n
        t = (start + dt.timedelta(seconds=i)).isoformat()
        rr_v = f"{60000 / b:.1f} {60000 / b + (10 if i % 10 else -10):.1f}"
        lines.append(f"{t},{b:.2f},{rr_v}" if rr else f"{t},{b:.2f}")
    return "\n".join(lines) + "\n"


def test_rmssd_known_answer() -> None:
    assert rmssd([800, 810, 790, 800]) == pytest.approx(math.sqrt((100 + 400 + 100) / 3))
    assert rmssd([800]) is None


def test_hr_import_links_to_session_and_measures(store: Store, tmp_path: Path) -> None:
    name = unique()
    sid = start_session(store, name, goal="relax", duration_s=30 * 60, started_at=T0)
    f = tmp_path / "watch.csv"
    f.write_text(_hr_csv(T0 - dt.timedelta(minutes=2), 34, 72.0, 62.0), encoding="utf-8")
    _rid, linked, n = import_hr(store, name, f)
    assert linked == sid and n == 34 * 12
    h = session_hr(store, sid)
    assert h is not None
    data = parse_hr_csv(f.read_text())
    ts = np.array([(t - T0).total_seconds() for t in data.t])
    bpm = np.array(data.bpm, dtype=float)
    first = bpm[(ts >= 0) & (ts < 300)].mean()
    last = bpm[(ts >= 1500) & (ts <= 1800)].mean()
    assert h.first5_bpm == pytest.approx(first) and h.last5_bpm == pytest.approx(last)
    assert h.change_bpm == pytest.approx(last - first) and h.change_bpm < -7
    assert h.rmssd_ms is not None and h.rmssd_ms > 10


def test_malformed_rows_reported_with_line_numbers_and_nothing_imported(
    store: Store, tmp_path: Path
) -> None:
    name = unique()
    start_session(store, name, duration_s=600, started_at=T0)
    good = _hr_csv(T0, 10, 70, 65).splitlines()
    good[3] = good[3].split(",")[0] + ",abc,800"  # line 4: bpm not a number
    good[7] = "yesterday,70,800"  # line 8: bad time
    good[9] = good[9].split(",")[0] + ",400,800"  # line 10: impossible bpm
    f = tmp_path / "bad.csv"
    f.write_text("\n".join(good) + "\n", encoding="utf-8")
    with pytest.raises(HRImportError) as ei:
        import_hr(store, name, f)
    assert [ln for ln, _ in ei.value.problems] == [4, 8, 10]
    assert "line 4" in str(ei.value) and "nothing imported" in str(ei.value)
    from susurrus.store import export_profile

    assert export_profile(store, name)["tables"]["hr_samples"] == []
    assert export_profile(store, name)["tables"]["hr_recordings"] == []


def test_hr_csv_variants() -> None:
    d = parse_hr_csv("Time,Heart Rate,RR\n1700000000,60,1.0;0.98\n1700000001,61,\n")
    assert d.rr_ms[0] == (1000.0, 980.0) and d.rr_ms[1] is None
    assert d.t[0] == dt.datetime.fromtimestamp(1700000000, UTC)
    with pytest.raises(HRImportError, match="line 1"):
        parse_hr_csv("foo,bar\n1,2\n")


# -- CLI ----------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="susurrus")
    sub = p.add_subparsers(dest="command")
    prof = add_journal_parsers(sub)
    prof.add_parser("show")  # the listener-profile issue can add to the same group
    return p


def run(argv: Sequence[str], stdin: str = "") -> tuple[int, str, str]:
    """Like the lead's main(): SusurrusError → one line on stderr, exit 1."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            args = _parser().parse_args(list(argv))
            code = int(args.func(args))
        except SusurrusError as exc:
            print(f"susurrus: error: {exc}", file=err)
            code = 1
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SUSURRUS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SUSURRUS_DATABASE_URL", raising=False)
    return tmp_path


def test_every_command_has_help_with_an_example() -> None:
    cmds = [
        ["journal"],
        ["journal", "checkin"],
        ["journal", "sleep"],
        ["journal", "list"],
        ["questionnaire"],
        ["questionnaire", "phq9"],
        ["questionnaire", "phq8"],
        ["questionnaire", "gad7"],
        ["hr", "import"],
        ["report"],
        ["profile", "export"],
        ["profile", "import"],
        ["profile", "delete"],
    ]
    for c in cmds:
        code, out, _ = run([*c, "--help"])
        assert code == 0 and "example" in out, c


def test_questionnaire_json_item9_shows_crisis_at_once(env: Path) -> None:
    code, out, err = run(
        [
            "questionnaire",
            "phq9",
            "--answers",
            "0,0,0,0,0,0,0,0,1",
            "--json",
            "--locale",
            "en_US",
            "--profile",
            "ada",
        ]
    )
    assert code == 0
    obj = json.loads(out)
    assert {k: obj[k] for k in ("instrument", "score", "severity", "item9")} == {
        "instrument": "phq9",
        "score": 1,
        "severity": "None-minimal",
        "item9": 1,
    }
    assert obj["crisis"]["locale"] == "US" and "988" in json.dumps(obj["crisis"])
    assert "988" in err  # crisis text printed at once too
    code, out, _ = run(["questionnaire", "gad7", "--answers", "1,1,1,1,1,1,1", "--json"])
    assert json.loads(out)["crisis"] is None and json.loads(out)["severity"] == "Mild anxiety"


def test_questionnaire_text_and_interactive(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(
        ["questionnaire", "phq9", "--answers", "0,0,0,0,0,0,0,0,2", "--locale", "en_AU"]
    )
    assert code == 0 and out.index("13 11 14") < out.index("score 2")
    answers = iter(["0"] * 8 + ["1", "0"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    code, out, _ = run(["questionnaire", "phq9", "--interactive", "--locale", "en_GB"])
    assert code == 0
    # shown right after item 9 was answered, before the difficulty question and the score
    assert out.index("116 123") < out.index("how difficult") < out.index("score 1")
    code, _, err = run(["questionnaire", "phq9", "--answers", "0,1"])
    assert code == 1 and err.count("\n") == 1 and "9 answers" in err


def test_cli_checkins_sleep_list_hr_report_export(env: Path) -> None:
    base = ["--profile", "ada"]
    code, out, _ = run(
        [
            "journal",
            "checkin",
            *base,
            "--phase",
            "before",
            "--goal",
            "sleep",
            "--family",
            "rain",
            "--stress",
            "7",
            "--calm",
            "2",
            "--duration",
            "30m",
            "--json",
        ]
    )
    assert code == 0
    first = json.loads(out)
    sid = first["session_id"]
    code, out, _ = run(
        [
            "journal",
            "checkin",
            *base,
            "--phase",
            "after",
            "--stress",
            "3",
            "--calm",
            "8",
            "--tingles",
            "5",
        ]
    )
    assert code == 0 and f"session {sid}" in out
    code, out, err = run(
        [
            "journal",
            "sleep",
            *base,
            "--night",
            "2026-03-01",
            "--bed",
            "22:45",
            "--try-sleep",
            "23:00",
            "--sol",
            "30",
            "--awakenings",
            "2",
            "--waso",
            "40",
            "--final-wake",
            "06:00",
            "--out-of-bed",
            "06:45",
            "--quality",
            "4",
        ]
    )
    assert code == 0 and "efficiency 73 %" in out, err
    code, _, err = run(
        [
            "journal",
            "sleep",
            *base,
            "--night",
            "2026-03-01",
            "--bed",
            "22:45",
            "--try-sleep",
            "23:00",
            "--sol",
            "30",
            "--awakenings",
            "2",
            "--waso",
            "40",
            "--final-wake",
            "22:50",
            "--out-of-bed",
            "06:45",
        ]
    )
    assert code == 1 and "impossible answers" in err and err.count("\n") == 1
    code, out, _ = run(["journal", "list", *base, "--json"])
    kinds = [e["kind"] for e in json.loads(out)["entries"]]
    assert kinds.count("session") == 1 and kinds.count("sleep") == 1
    code, out, _ = run(["journal", "list", *base])
    assert "session" in out and "sleep" in out
    # heart rate: a malformed file is refused with line numbers
    bad = env / "bad.csv"
    bad.write_text("timestamp,bpm\n2026-03-01T22:00:00+00:00,70\n2026-03-01T22:00:05+00:00,x\n")
    code, _, err = run(["hr", "import", str(bad), *base])
    assert code == 1 and "line 3" in err
    # report
    code, out, _ = run(["report", *base, "--since", "3650d", "-o", str(env / "r.html")])
    assert code == 0
    html = (env / "r.html").read_text(encoding="utf-8")
    assert "<svg" in html and "complements professional care" in html
    # export / delete / import
    code, _, _ = run(
        ["profile", "export", "ada", "-o", str(env / "ada.json"), "--csv", str(env / "csv")]
    )
    assert code == 0 and (env / "csv" / "checkins.csv").exists()
    code, _, err = run(["profile", "delete", "ada"])
    assert code == 1 and "--yes" in err
    code, _, _ = run(["profile", "delete", "ada", "--yes"])
    assert code == 0
    code, _, err = run(["journal", "list", *base])
    assert code == 1 and "no profile named 'ada'" in err
    code, _, _ = run(["profile", "import", str(env / "ada.json")])
    assert code == 0
    code, _, _ = run(["profile", "export", "ada", "-o", str(env / "ada2.json")])
    a, b = (json.loads((env / f).read_text(encoding="utf-8")) for f in ("ada.json", "ada2.json"))
    a.pop("exported_at")
    b.pop("exported_at")
    assert a == b


def test_first_run_note_shown_once(env: Path) -> None:
    _, out1, _ = run(["journal", "checkin", "--stress", "2"])
    _, out2, _ = run(["journal", "checkin", "--stress", "2"])
    assert "complements professional care" in out1
    assert "complements professional care" not in out2


def test_list_entries_limit_keeps_the_newest(store: Store) -> None:
    t0 = dt.datetime(2026, 1, 1, 20, tzinfo=dt.UTC)
    for i in range(6):
        add_checkin(store, "lim", Ratings(stress=i), at=t0 + dt.timedelta(hours=i))
    sid = start_session(store, "lim", goal="sleep", started_at=t0 + dt.timedelta(hours=3, minutes=30))
    add_checkin(store, "lim", Ratings(stress=9), phase="before", session_id=sid,
                at=t0 + dt.timedelta(hours=3, minutes=31))
    full = list_entries(store, "lim")
    assert len(full) == 7
    for n in (1, 3, 4, 7, 50):
        assert list_entries(store, "lim", limit=n) == full[-n:]
    with pytest.raises(ParameterError, match="limit"):
        list_entries(store, "lim", limit=0)
