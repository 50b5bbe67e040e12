"""The corpus batch engine (issue 9): sources, dataset journal, summary, and runs on a
real 2-worker LocalCluster (marked slow)."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest

from susurrus import audio, triggers
from susurrus.analysis import analyze_file
from susurrus.analysis.core import RECORD_KEYS, error_record
from susurrus.batch import (
    CorpusError,
    Dataset,
    analyze_corpus,
    collect,
    load_records,
    open_client,
    summarize,
    write_summary,
)
from susurrus.batch.cli import add_corpus_parser
from susurrus.batch.dataset import JOURNAL, RECORDS, Entry, read_journal
from susurrus.errors import SusurrusError

RENDERS = [  # family, sr, seconds, channels, relative path
    ("rain", 16000, 3.0, 1, "a/rain.wav"),
    ("tapping", 48000, 4.0, 2, "a/b/tapping.flac"),
    ("whisper", 16000, 5.0, 1, "whisper.wav"),
    ("brushing", 48000, 3.0, 1, "c/brushing.flac"),
    ("crinkling", 16000, 4.0, 2, "c/crinkle.wav"),
]
BROKEN = ["broken/empty.wav", "broken/text.wav", "broken/truncated.flac"]


def _render(family: str, sr: int, seconds: float, channels: int, seed: int) -> np.ndarray:
    y = triggers.create(family, sr=sr, rng=np.random.default_rng(seed)).read(int(sr * seconds))
    return np.repeat(y[:1], channels, axis=0) if channels != y.shape[0] else y


def make_corpus(root: Path) -> list[str]:
    """Renders from the trigger library plus broken files; returns all audio paths."""
    for i, (fam, sr, sec, ch, rel) in enumerate(RENDERS):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        audio.write(p, _render(fam, sr, sec, ch, i), sr)
    (root / "broken").mkdir()
    (root / "broken/empty.wav").write_bytes(b"")
    (root / "broken/text.wav").write_text("this is not audio\n" * 20)
    full = root / "broken/full.flac"
    audio.write(full, _render("rain", 16000, 3.0, 1, 99), 16000)
    data = full.read_bytes()
    (root / "broken/truncated.flac").write_bytes(data[: len(data) // 2])
    full.unlink()
    (root / "notes.txt").write_text("not part of the corpus")
    return sorted(str((root / r).resolve()) for r in [x[4] for x in RENDERS] + BROKEN)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("corpus")
    return root, make_corpus(root)


# -- sources ---------------------------------------------------------------------------------


def test_collect_folder_list_and_glob(corpus: tuple[Path, list[str]], tmp_path: Path) -> None:
    root, paths = corpus
    assert collect(root) == paths  # recursive, audio extensions only, sorted, absolute
    listing = tmp_path / "paths.txt"
    listing.write_text(f"# two files\n{paths[0]}\n\n{os.path.relpath(paths[1], tmp_path)}\n")
    assert collect(listing) == paths[:2]  # relative paths are taken from the list's folder
    assert collect(str(root / "**" / "*.flac")) == [p for p in paths if p.endswith(".flac")]


@pytest.mark.parametrize("kind", ["missing", "empty folder", "empty list", "no match"])
def test_bad_source_is_a_clear_error(tmp_path: Path, kind: str) -> None:
    if kind == "missing":
        src, msg = str(tmp_path / "nowhere"), "does not exist"
    elif kind == "empty folder":
        (tmp_path / "empty").mkdir()
        (tmp_path / "empty/readme.txt").write_text("x")
        src, msg = str(tmp_path / "empty"), "no audio files"
    elif kind == "empty list":
        (tmp_path / "list.txt").write_text("# nothing\n\n")
        src, msg = str(tmp_path / "list.txt"), "names no files"
    else:
        src, msg = str(tmp_path / "*.flac"), "matches no files"
    with pytest.raises(CorpusError, match=msg):
        collect(src)
    # the engine fails before creating anything
    with pytest.raises(CorpusError, match=msg):
        analyze_corpus(src, tmp_path / "ds")
    assert not (tmp_path / "ds").exists()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="susurrus")
    add_corpus_parser(p.add_subparsers(dest="command"))
    return p


def test_cli_help_has_examples_and_bad_source_raises(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = _parser()
    for argv in (
        ["corpus", "--help"],
        ["corpus", "analyze", "--help"],
        ["corpus", "summary", "--help"],
    ):
        with pytest.raises(SystemExit) as exc:
            p.parse_args(argv)
        assert exc.value.code == 0
        assert "susurrus corpus" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        p.parse_args(["corpus", "analyze", "x", "--out", "d", "--workers", "0"])
    with pytest.raises(SystemExit):  # --scheduler and --workers are exclusive
        p.parse_args(
            [
                "corpus",
                "analyze",
                "x",
                "--out",
                "d",
                "--workers",
                "2",
                "--scheduler",
                "tcp://h:8786",
            ]
        )
    args = p.parse_args(
        ["corpus", "analyze", str(tmp_path / "missing"), "--out", str(tmp_path / "d")]
    )
    with pytest.raises(SusurrusError, match="does not exist"):
        args.func(args)
    args = p.parse_args(["corpus", "summary", str(tmp_path)])
    with pytest.raises(SusurrusError, match="not a corpus dataset"):
        args.func(args)


# -- the dataset journal -----------------------------------------------------------------------


def _fake(path: str, calm: float, **kw: object) -> dict[str, object]:
    rec = dict.fromkeys(RECORD_KEYS)
    rec.update(
        {
            "path": path,
            "error": None,
            "duration_s": 60.0,
            "calm_score": calm,
            "events": [],
            "tags": [],
        }
    )
    rec.update(kw)
    return rec


def test_journal_keeps_latest_drops_torn_line_and_dedupes(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    with Dataset(ds) as d:
        d.append(Entry("/x/a.wav", 10, 1, False, _fake("/x/a.wav", 50.0)))
        d.append(Entry("/x/b.wav", 10, 1, False, _fake("/x/b.wav", 60.0)))
        d.append(Entry("/x/a.wav", 11, 2, False, _fake("/x/a.wav", 70.0)))  # redone
        with pytest.raises(CorpusError, match="in use"):
            Dataset(ds).__enter__()  # a second run is locked out
    # a run killed mid-write leaves a torn line
    with (ds / JOURNAL).open("a") as fh:
        fh.write('{"path": "/x/c.wav", "size": 3, "mtime')
    recs = load_records(ds)
    assert [(r["path"], r["calm_score"]) for r in recs] == [("/x/a.wav", 70.0), ("/x/b.wav", 60.0)]
    with Dataset(ds) as d:  # reopening cuts the torn line; closing compacts the journal
        assert d.is_done("/x/a.wav", (11, 2)) and not d.is_done("/x/a.wav", (10, 1))
    lines = (ds / JOURNAL).read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(x) for x in lines)
    out = [json.loads(x) for x in (ds / RECORDS).read_text().splitlines()]
    assert out == recs
    latest, _ = read_journal(ds)
    assert set(latest) == {"/x/a.wav", "/x/b.wav"}


def test_retry_entries_are_redone(tmp_path: Path) -> None:
    with Dataset(tmp_path / "ds") as d:
        d.append(Entry("/x/a.wav", 1, 1, True, error_record("/x/a.wav", "lost")))
        assert not d.is_done("/x/a.wav", (1, 1))


def test_summary_numbers_from_known_records(tmp_path: Path) -> None:
    ev = {"start_s": 1.0, "end_s": 1.2, "kind": "transient", "severity": 0.9}
    recs = [
        _fake(
            "/a.wav",
            80.0,
            integrated_lufs=-30.0,
            tags=[{"family": "rain", "start_s": 0.0, "end_s": 30.0, "confidence": 0.5}],
            level={"compliant": True},
        ),
        _fake(
            "/b.wav",
            40.0,
            integrated_lufs=-20.0,
            events=[ev, {**ev, "severity": 0.5, "kind": "clipping"}],
            tags=[
                {"family": "rain", "start_s": 0.0, "end_s": 60.0, "confidence": 0.5},
                {"family": "tapping", "start_s": 5.0, "end_s": 10.0, "confidence": 0.4},
            ],
            level={"compliant": False},
        ),
        _fake("/c.wav", 60.0, integrated_lufs=-25.0, level={"compliant": True}),
        error_record("/d.wav", "broken"),
    ]
    s = summarize(recs)
    assert (s["files"], s["analysed"], s["errors"]) == (4, 3, 1)
    assert s["audio_hours"] == pytest.approx(180 / 3600, abs=1e-4)
    assert s["families"]["rain"]["files"] == 2
    assert s["families"]["rain"]["share_of_files"] == pytest.approx(2 / 3, abs=1e-4)
    assert s["families"]["rain"]["tagged_s"] == pytest.approx(90.0)
    assert s["families"]["tapping"]["files"] == 1
    co = s["cooccurrence"]
    i, j = co["families"].index("rain"), co["families"].index("tapping")
    assert co["files"][i][j] == co["files"][j][i] == 1 and co["files"][i][i] == 2
    assert s["distributions"]["calm_score"]["median"] == 60.0
    assert s["distributions"]["integrated_lufs"]["mean"] == -25.0
    assert s["level_budget_compliant_share"] == pytest.approx(2 / 3, abs=1e-4)
    assert s["most_jarring_recordings"][0]["path"] == "/b.wav"
    assert [m["severity"] for m in s["most_jarring_moments"]] == [0.9, 0.5]
    assert s["event_counts"]["transient"] == 1 and s["event_counts"]["clipping"] == 1
    assert sum(s["histograms"]["calm_score"]["counts"]) == 3
    assert s["failed"] == [{"path": "/d.wav", "error": "broken"}]


# -- on a real LocalCluster with 2 single-threaded worker processes ----------------------------


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    with open_client(workers=2) as c:
        yield c


def _assert_complete(ds: Path, paths: list[str]) -> list[dict[str, object]]:
    recs = load_records(ds)
    assert [r["path"] for r in recs] == paths
    lines = [json.loads(x) for x in (ds / RECORDS).read_text().splitlines()]
    assert [r["path"] for r in lines] == paths  # exactly one record per file
    assert lines == recs
    return recs


@pytest.mark.slow
def test_records_equal_single_file_analysis_and_rerun_skips(
    client: object, corpus: tuple[Path, list[str]], tmp_path: Path
) -> None:
    root, paths = corpus
    seen = []
    run = analyze_corpus(root, tmp_path / "ds", client=client, progress=seen.append)
    assert (run.files, run.analysed, run.skipped, run.errors) == (len(paths), len(paths), 0, 3)
    assert run.audio_s == pytest.approx(sum(r[2] for r in RENDERS), abs=0.01)
    assert seen[-1].done == seen[-1].total == len(paths) and seen[-1].errors == 3
    recs = _assert_complete(tmp_path / "ds", paths)
    for rec in recs:  # the single-file analysis, run here, with the tagger: identical
        assert tuple(rec) == RECORD_KEYS
        assert rec == json.loads(json.dumps(analyze_file(str(rec["path"]))))
    errs = {Path(str(r["path"])).name: r["error"] for r in recs if r["error"]}
    assert set(errs) == {"empty.wav", "text.wav", "truncated.flac"}
    assert any(r["tags"] for r in recs if not r["error"])
    again = analyze_corpus(root, tmp_path / "ds", client=client)
    assert (again.analysed, again.skipped) == (0, len(paths))


@pytest.mark.slow
def test_changed_file_is_redone(client: object, tmp_path: Path) -> None:
    root = tmp_path / "c"
    paths = make_corpus(root)
    ds = tmp_path / "ds"
    analyze_corpus(root, ds, client=client, tagger=False)
    target = root / "whisper.wav"
    audio.write(target, _render("rain", 16000, 2.0, 1, 7), 16000)
    run = analyze_corpus(root, ds, client=client, tagger=False)
    assert (run.analysed, run.skipped) == (1, len(paths) - 1)
    recs = {r["path"]: r for r in _assert_complete(ds, paths)}
    assert recs[str(target.resolve())]["duration_s"] == 2.0
    assert len((ds / JOURNAL).read_text().splitlines()) == len(paths)  # compacted


@pytest.mark.slow
def test_interrupted_run_resumes_without_duplicates(client: object, tmp_path: Path) -> None:
    root = tmp_path / "c"
    paths = make_corpus(root)
    ds = tmp_path / "ds"

    def stop(p: object) -> None:
        if getattr(p, "done", 0) >= 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        analyze_corpus(root, ds, client=client, tagger=False, progress=stop)
    done = load_records(ds)
    assert 3 <= len(done) < len(paths)
    run = analyze_corpus(root, ds, client=client, tagger=False)
    assert run.skipped == len(done) and run.analysed == len(paths) - len(done)
    _assert_complete(ds, paths)


@pytest.mark.slow
def test_worker_killed_mid_run(client: object, tmp_path: Path) -> None:
    root = tmp_path / "c"
    paths = make_corpus(root)
    ds = tmp_path / "ds"
    pids = client.run(os.getpid)  # type: ignore[attr-defined]
    assert len(pids) == 2 and os.getpid() not in pids.values()
    killed: list[int] = []

    def kill_one(p: object) -> None:
        if getattr(p, "done", 0) >= 1 and not killed:
            pid = next(iter(pids.values()))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    run = analyze_corpus(root, ds, client=client, tagger=False, progress=kill_one)
    assert killed
    # the lost task was rescheduled on the surviving (or restarted) worker
    recs = _assert_complete(ds, paths)
    assert sum(1 for r in recs if r["error"]) == 3 and run.retry == 0
    again = analyze_corpus(root, ds, client=client, tagger=False)
    assert (again.analysed, again.skipped) == (0, len(paths))
    _assert_complete(ds, paths)
    client.wait_for_workers(2, timeout=30)  # type: ignore[attr-defined]  # the nanny restarts it


@pytest.mark.slow
def test_summary_writes_csv_and_plots_matching_records(
    client: object, corpus: tuple[Path, list[str]], tmp_path: Path
) -> None:
    root, paths = corpus
    ds = tmp_path / "ds"
    analyze_corpus(root, ds, client=client)
    recs = load_records(ds)
    s = write_summary(ds, tmp_path / "out")
    for name in (
        "records.csv",
        "summary.json",
        "distributions.png",
        "prevalence.png",
        "cooccurrence.png",
    ):
        f = tmp_path / "out" / name
        assert f.is_file() and f.stat().st_size > 0
        if name.endswith(".png"):
            assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with (tmp_path / "out/records.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["path"] for r in rows] == paths
    ok = [r for r in recs if r["error"] is None]
    for row, rec in zip(rows, recs):
        if rec["error"] is None:
            assert float(row["calm_score"]) == rec["calm_score"]
            assert float(row["integrated_lufs"]) == rec["integrated_lufs"]
            assert int(row["events"]) == len(rec["events"])
        else:
            assert row["error"] == rec["error"] and row["calm_score"] == ""
    assert (s["files"], s["analysed"], s["errors"]) == (len(paths), len(ok), 3)
    calm = [float(r["calm_score"]) for r in ok]
    assert s["distributions"]["calm_score"]["median"] == pytest.approx(
        float(np.median(calm)), abs=1e-3
    )
    lufs = [float(r["integrated_lufs"]) for r in ok if r["integrated_lufs"] is not None]
    assert s["distributions"]["integrated_lufs"]["mean"] == pytest.approx(
        float(np.mean(lufs)), abs=1e-3
    )
    for fam, v in s["families"].items():
        assert v["files"] == sum(1 for r in ok if any(t["family"] == fam for t in r["tags"]))
    assert json.loads((tmp_path / "out/summary.json").read_text())["files"] == len(paths)


KILL_SCRIPT = """
import sys, time
from susurrus.batch import analyze_corpus

def slow(p):
    time.sleep(0.4)  # keep the run going long enough to be killed mid-way

if __name__ == "__main__":
    analyze_corpus(sys.argv[1], sys.argv[2], workers=2, tagger=False, progress=slow)
"""


def _group_semaphores(pgid: int) -> set[str]:
    """Named POSIX semaphores (``/dev/shm/sem.*``) mapped by the processes of group
    ``pgid`` (Linux ``/proc``; empty elsewhere). A SIGKILL of a whole group kills
    multiprocessing's resource tracker too, so nobody unlinks them afterwards."""
    names: set[str] = set()
    proc = Path("/proc")
    for d in proc.iterdir() if proc.is_dir() else ():
        if not d.name.isdigit():
            continue
        try:
            if int((d / "stat").read_text().rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            for line in (d / "maps").read_text().splitlines():
                if "/dev/shm/sem." in line:
                    names.add(line.split("/dev/shm/", 1)[1].split(" (deleted)")[0])
        except (OSError, ValueError, IndexError):  # a process that ended meanwhile
            continue
    return names


@pytest.mark.slow
def test_hard_killed_run_loses_only_files_in_flight(client: object, tmp_path: Path) -> None:
    """SIGKILL the whole run (client, scheduler and workers) mid-way, then run again."""
    import subprocess
    import sys
    import time

    root = tmp_path / "c"
    paths = make_corpus(root)
    ds = tmp_path / "ds"
    script = tmp_path / "run.py"
    script.write_text(KILL_SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(root), str(ds)],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            j = ds / JOURNAL
            if j.is_file() and len(j.read_bytes().splitlines()) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed"
    finally:
        leaked = _group_semaphores(proc.pid)
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the run's own process group only
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)
        for name in leaked:  # what the killed run's resource tracker would have unlinked
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"/dev/shm/{name}")
    done = load_records(ds)
    assert 2 <= len(done) < len(paths)
    run = analyze_corpus(root, ds, client=client, tagger=False)
    assert run.skipped == len(done) and run.analysed == len(paths) - len(done)
    _assert_complete(ds, paths)
