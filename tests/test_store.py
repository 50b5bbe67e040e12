"""Storage: paths, SQLite hardening, migrations, round trips, durability, concurrency.

Storage tests run on SQLite AND a real PostgreSQL server (tests/_pg.py starts it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from _pg import *  # noqa: F403  (fixtures: store, pg_store, pg_url)
from _pg import fresh_pg_database, unique
from susurrus.journal import Ratings, add_checkin, start_session
from susurrus.store import (
    HEAD_REVISION,
    Base,
    CheckIn,
    HRRecording,
    HRSample,
    Profile,
    Session,
    Store,
    alembic_config,
    data_dir,
    default_database_url,
    delete_profile,
    export_profile,
    import_profile,
    open_store,
    profile_tables,
)
from susurrus.store.errors import ExportFormatError, ProfileExistsError, ProfileNotFoundError

SRC = str(Path(__file__).resolve().parent.parent / "src")
UTC = dt.UTC


# -- where the database lives -------------------------------------------------------------


def test_data_dir_precedence(tmp_path: Path) -> None:
    env = {"HOME": "/home/x"}
    assert data_dir(env) == Path("/home/x/.local/share/susurrus")
    env["XDG_DATA_HOME"] = "/xdg"
    assert data_dir(env) == Path("/xdg/susurrus")
    env["SUSURRUS_DATA_DIR"] = str(tmp_path)
    assert data_dir(env) == tmp_path
    assert default_database_url(env) == f"sqlite:///{tmp_path}/susurrus.db"
    env["SUSURRUS_DATABASE_URL"] = "postgresql+psycopg://u@h/db"
    assert default_database_url(env) == "postgresql+psycopg://u@h/db"


def test_default_sqlite_file_is_private_wal_with_foreign_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUSURRUS_DATABASE_URL", raising=False)
    monkeypatch.setenv("SUSURRUS_DATA_DIR", str(tmp_path / "data"))
    with open_store() as s:
        assert s.path == tmp_path / "data" / "susurrus.db"
        add_checkin(s, "ada", Ratings(stress=3))
        with s.engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        for f in (tmp_path / "data").glob("susurrus.db*"):
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
        assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
        assert s.integrity_check() == "ok"


def test_bad_url_is_a_clear_error() -> None:
    from susurrus.store import StoreError

    with pytest.raises(StoreError, match="malformed"):
        open_store("not a url")
    with pytest.raises(StoreError, match="cannot open database"):
        open_store("postgresql+psycopg://nobody@127.0.0.1:1/none")


# -- migrations ----------------------------------------------------------------------------


def test_head_revision_matches_the_shipped_migrations() -> None:
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


def _model_diff(s: Store) -> list[object]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with s.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))


def test_migrations_build_exactly_the_models_sqlite(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'm.db'}") as s:
        assert s.revision() == HEAD_REVISION
        assert _model_diff(s) == []


def test_migrations_build_exactly_the_models_postgresql(pg_url: str) -> None:
    with open_store(fresh_pg_database(pg_url)) as s:
        assert s.dialect == "postgresql"
        assert s.revision() == HEAD_REVISION
        assert _model_diff(s) == []


def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    open_store(url).close()
    with open_store(url) as s:
        add_checkin(s, "x", Ratings(calm=1))
    with open_store(url) as s, s.session() as x:
        assert x.scalar(select(func.count()).select_from(CheckIn)) == 1


def test_foreign_keys_are_enforced(store: Store) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), store.session() as s:
        s.add(CheckIn(profile_id=10**9, phase="standalone"))


def test_profile_tables_walk_the_schema() -> None:
    names = [t.name for t in profile_tables()]
    assert set(names) == {
        "sessions",
        "checkins",
        "sleep_entries",
        "questionnaire_responses",
        "hr_recordings",
        "hr_samples",
        "listener_models",
    }
    assert names.index("hr_recordings") < names.index("hr_samples")
    assert names.index("sessions") < names.index("checkins")


# -- round trips (Hypothesis) ---------------------------------------------------------------

no_nul_text = st.text(
    st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=300
)
ratings = st.none() | st.integers(0, 10)
finite = st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | finite | no_nul_text,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(no_nul_text, kids, max_size=4),
    max_leaves=12,
)
moments = st.datetimes(
    min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=st.just(UTC)
)
SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(
    note=no_nul_text,
    r=st.tuples(ratings, ratings, ratings, ratings, ratings),
    scene=st.dictionaries(no_nul_text, json_values, max_size=5),
    duration=st.none() | st.floats(0, 1e300),
    at=moments,
    goal=st.none()
    | st.text(
        st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
        min_size=1,
        max_size=64,
    ),
)
def test_store_round_trip(
    store: Store,
    note: str,
    r: tuple[int | None, ...],
    scene: dict[str, object],
    duration: float | None,
    at: dt.datetime,
    goal: str | None,
) -> None:
    name = unique()
    sid = start_session(store, name, scene=scene, goal=goal, duration_s=duration, started_at=at)
    cid = add_checkin(store, name, Ratings(*r), phase="before", session_id=sid, note=note, at=at)
    with store.session() as s:
        sess = s.get(Session, sid)
        c = s.get(CheckIn, cid)
        assert sess is not None and c is not None
        assert sess.scene == scene
        assert sess.duration_s == duration
        assert sess.goal == goal
        assert sess.started_at == at
        assert c.note == note
        assert (c.stress, c.anxiety, c.mood, c.calm, c.tingles) == r
        assert c.at == at


def _populate(
    store: Store, name: str, note: str, scene: dict[str, object], bpm: float, at: dt.datetime
) -> None:
    from susurrus.journal import SleepAnswers, add_sleep_entry, record_result, score_answers

    sid = start_session(store, name, scene=scene, goal="sleep", duration_s=1800.0, started_at=at)
    add_checkin(
        store, name, Ratings(7, 6, 4, 3, None), phase="before", session_id=sid, note=note, at=at
    )
    add_checkin(
        store, name, Ratings(3, 2, 6, 8, 10), phase="after", session_id=sid, note=note[::-1]
    )
    add_checkin(store, name, Ratings(mood=0), note=note)
    night = dt.date(2026, 1, 1)
    add_sleep_entry(
        store,
        name,
        SleepAnswers(
            night,
            dt.datetime(2026, 1, 1, 23),
            dt.datetime(2026, 1, 1, 23, 15),
            20.0,
            2,
            30.5,
            dt.datetime(2026, 1, 2, 6, 30),
            dt.datetime(2026, 1, 2, 7),
            4,
            note,
        ),
    )
    record_result(store, name, score_answers("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1]), taken_at=at)
    with store.session() as s:
        pid = s.scalar(select(Profile.id).where(Profile.name == name))
        rec = HRRecording(profile_id=pid, session_id=sid, source=note)
        s.add(rec)
        s.flush()
        s.add_all(
            [
                HRSample(
                    recording_id=rec.id,
                    t=at + dt.timedelta(seconds=i),
                    bpm=bpm,
                    rr_ms=[bpm, 1e-300] if i % 2 else None,
                )
                for i in range(3)
            ]
        )


@SETTINGS
@given(
    note=no_nul_text,
    scene=st.dictionaries(no_nul_text, json_values, max_size=4),
    bpm=st.floats(min_value=-1e308, max_value=1e308),
    at=moments,
)
def test_export_delete_import_export_is_identical(
    store: Store, note: str, scene: dict[str, object], bpm: float, at: dt.datetime
) -> None:
    name = unique() + note[:20]
    _populate(store, name, note, scene, bpm, at)
    first = export_profile(store, name)
    assert first["tables"]["hr_samples"][0]["bpm"] == bpm
    # through a JSON file and back, like the CLI
    doc = json.loads(json.dumps(first, ensure_ascii=False, allow_nan=False))
    counts = delete_profile(store, name)
    assert counts["checkins"] == 3 and counts["hr_samples"] == 3
    with pytest.raises(ProfileNotFoundError):
        export_profile(store, name)
    assert import_profile(store, doc) == name
    second = export_profile(store, name)
    first.pop("exported_at")
    second.pop("exported_at")
    assert second == first


def test_delete_removes_everything(store: Store) -> None:
    from susurrus.store.transfer import _ids_query

    name, other = unique(), unique()
    at = dt.datetime(2026, 3, 1, tzinfo=UTC)
    _populate(store, name, "a", {"layers": []}, 60.0, at)
    _populate(store, other, "b", {"layers": []}, 61.0, at)
    with store.session() as s:
        pid = s.scalar(select(Profile.id).where(Profile.name == name))
    assert pid is not None
    kept = export_profile(store, other)
    counts = delete_profile(store, name)
    assert counts == {
        "hr_samples": 3,
        "hr_recordings": 1,
        "checkins": 3,
        "sleep_entries": 1,
        "sessions": 1,
        "questionnaire_responses": 1,
        "listener_models": 0,
        "profiles": 1,
    }
    by_name = {t.name: t for t in profile_tables()}
    with store.session() as s:
        assert s.scalar(select(Profile.id).where(Profile.name == name)) is None
        for t in by_name:
            q = _ids_query(by_name, t, pid).subquery()
            assert s.scalar(select(func.count()).select_from(q)) == 0, t
    after = export_profile(store, other)
    kept.pop("exported_at")
    after.pop("exported_at")
    assert after == kept  # the other profile is untouched


def test_import_is_all_or_nothing(store: Store) -> None:
    name = unique()
    _populate(store, name, "n", {}, 70.0, dt.datetime(2026, 3, 1, tzinfo=UTC))
    doc = export_profile(store, name)
    with pytest.raises(ProfileExistsError):
        import_profile(store, doc)
    doc["tables"]["hr_samples"][-1]["recording_id"] = 99  # refers to nothing
    with pytest.raises(ExportFormatError, match="refers to no hr_recordings"):
        import_profile(store, doc, name=name + "-copy")
    with pytest.raises(ProfileNotFoundError):
        export_profile(store, name + "-copy")
    bad = dict(doc, format="something-else")
    with pytest.raises(ExportFormatError):
        import_profile(store, bad, name=name + "-x")


def test_csv_export_has_a_file_per_table(store: Store, tmp_path: Path) -> None:
    import csv

    from susurrus.journal.sleep import csv_metrics
    from susurrus.store import export_profile_csv

    name = unique()
    _populate(
        store,
        name,
        'note, with "quotes"\nand a newline',
        {"layers": [{"trigger": "rain"}]},
        55.5,
        dt.datetime(2026, 3, 1, tzinfo=UTC),
    )
    files = export_profile_csv(
        store, name, tmp_path / "csv", extra_columns={"sleep_entries": csv_metrics}
    )
    names = {p.name for p in files}
    assert names == {
        "profiles.csv",
        "sessions.csv",
        "checkins.csv",
        "sleep_entries.csv",
        "questionnaire_responses.csv",
        "hr_recordings.csv",
        "hr_samples.csv",
        "listener_models.csv",
    }
    rows = list(csv.DictReader((tmp_path / "csv" / "checkins.csv").open(encoding="utf-8")))
    assert rows[0]["note"] == 'note, with "quotes"\nand a newline'
    sleep = list(csv.DictReader((tmp_path / "csv" / "sleep_entries.csv").open(encoding="utf-8")))
    # tried to sleep 23:15, final awakening 06:30: 435 min - SOL 20 - WASO 30.5; in bed 23:00-07:00
    assert float(sleep[0]["tst_min"]) == pytest.approx(384.5)
    assert float(sleep[0]["tib_min"]) == pytest.approx(480.0)
    assert float(sleep[0]["se_pct"]) == pytest.approx(round(100 * 384.5 / 480, 3))


# -- durability and concurrency ------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys, datetime as dt
    sys.path.insert(0, {src!r})
    from susurrus.store import open_store
    from susurrus.journal import Ratings, add_checkin
    store = open_store(sys.argv[1])
    tag, n = sys.argv[2], int(sys.argv[3])
    for i in range(n):
        cid = add_checkin(store, "shared", Ratings(stress=i % 11, calm=(3 * i) % 11),
                          note=f"{{tag}}-{{i}}-ünïcødé")
        print(tag, i, cid, flush=True)   # printed only after the commit returned
""")


def _writer(url: str, tag: str, n: int) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=SRC)
    return subprocess.Popen(
        [sys.executable, "-c", WRITER.format(src=SRC), url, tag, str(n)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_sigkill_during_writes_loses_no_committed_entry(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    open_store(url).close()
    p = _writer(url, "k", 100_000)
    committed: list[tuple[int, int]] = []
    assert p.stdout is not None
    for line in p.stdout:
        _, i, cid = line.split()
        committed.append((int(i), int(cid)))
        if len(committed) >= 150:
            break
    os.kill(p.pid, signal.SIGKILL)  # in the middle of the next writes
    p.wait()
    for line in p.stdout:  # anything printed before the kill was committed too
        _, i, cid = line.split()
        committed.append((int(i), int(cid)))
    assert p.returncode == -signal.SIGKILL
    with open_store(url) as s:
        assert s.integrity_check() == "ok"
        with s.session() as x:
            rows = {c.id: c for c in x.scalars(select(CheckIn))}
    assert len(rows) >= len(committed)
    for i, cid in committed:
        c = rows[cid]
        assert (c.note, c.stress, c.calm) == (f"k-{i}-ünïcødé", i % 11, (3 * i) % 11)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_processes_writing_at_once_lose_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'conc.db'}"
        if backend == "sqlite"
        else fresh_pg_database(request.getfixturevalue("pg_url"))
    )
    # both start on a database that does not exist yet: they also race to create and migrate it
    n = 80
    procs = [_writer(url, tag, n) for tag in ("a", "b")]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    with open_store(url) as s, s.session() as x:
        notes = set(x.scalars(select(CheckIn.note)))
        assert x.scalar(select(func.count()).select_from(Profile)) == 1
    with open_store(url) as s:
        assert s.integrity_check() == "ok"
    assert notes == {f"{t}-{i}-ünïcødé" for t in "ab" for i in range(n)}


def test_pg_test_server_stops_by_itself_when_its_owner_dies() -> None:
    import time

    from _pg import SCRIPT

    owner = subprocess.Popen(["sleep", "120"])
    try:
        r = subprocess.run(
            ["bash", str(SCRIPT), "start", str(owner.pid)],
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        assert r.returncode == 0, r.stderr
        url, cluster = r.stdout.split()[:2]
        with open_store(url) as s:
            assert s.revision() == HEAD_REVISION
    finally:
        owner.kill()
        owner.wait()
    deadline = time.monotonic() + 30
    while Path(cluster).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(cluster).exists(), "the watchdog did not stop the server"
