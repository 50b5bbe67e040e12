"""Insights equal scipy's paired t-test; wording does not overclaim; plots and reports are written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from susurrus.journal import Ratings, SleepAnswers, add_checkin, add_sleep_entry, start_session
from susurrus.journal.insights import (
    CAUSAL_CAVEAT,
    MEASURES,
    compute_insights,
    describe,
    paired_change,
    plot_insights,
)
from susurrus.store import Store, open_store

UTC = dt.UTC


def _check_against_scipy(before: np.ndarray, after: np.ndarray) -> None:
    ch = paired_change(before, after)
    res = stats.ttest_rel(after, before)
    ci = res.confidence_interval(0.95)
    d = after - before
    assert ch.n == len(before) and ch.df == res.df
    assert ch.mean_diff == pytest.approx(float(np.mean(d)), abs=1e-12)
    assert ch.t == pytest.approx(float(res.statistic), rel=1e-9)
    assert ch.p == pytest.approx(float(res.pvalue), rel=1e-7, abs=1e-300)
    assert ch.ci_low == pytest.approx(float(ci.low), rel=1e-9, abs=1e-12)
    assert ch.ci_high == pytest.approx(float(ci.high), rel=1e-9, abs=1e-12)
    assert ch.d_z == pytest.approx(float(np.mean(d) / np.std(d, ddof=1)), rel=1e-9)


def test_paired_change_equals_scipy_known_data() -> None:
    before = np.array([7, 6, 8, 5, 7, 9, 6, 7, 8, 6], dtype=float)
    after = np.array([4, 5, 5, 4, 3, 6, 6, 4, 5, 3], dtype=float)
    _check_against_scipy(before, after)
    ch = paired_change(before, after)
    assert ch.mean_diff == pytest.approx(-2.4)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10), st.integers(0, 10)), min_size=2, max_size=60))
def test_paired_change_equals_scipy_property(pairs: list[tuple[int, int]]) -> None:
    b = np.array([p[0] for p in pairs], dtype=float)
    a = np.array([p[1] for p in pairs], dtype=float)
    if np.std(a - b) == 0:  # scipy gives nan/inf; we report no t, no d_z
        ch = paired_change(b, a)
        assert (
            ch.t is None and ch.d_z is None and ch.mean_diff == pytest.approx(float(np.mean(a - b)))
        )
        return
    _check_against_scipy(b, a)


def test_degenerate_inputs() -> None:
    assert paired_change([], []).n == 0
    one = paired_change([5], [3])
    assert one.n == 1 and one.mean_diff == -2 and one.ci_low is None
    with pytest.raises(ValueError):
        paired_change([1, 2], [1])


def test_wording_does_not_overclaim_with_few_data() -> None:
    assert "No sessions" in describe("stress", paired_change([], []))
    few = describe("stress", paired_change([8, 7, 9], [2, 1, 3]))
    assert "too few to tell" in few and "Only 3 sessions" in few
    null = describe("stress", paired_change([5, 6, 5, 6, 5, 6], [6, 5, 5, 6, 6, 5]))
    assert "no clear change" in null
    clear = describe("stress", paired_change([8, 7, 9, 8, 7, 8], [3, 2, 4, 3, 3, 2]))
    assert "lower after listening" in clear and "hoped-for" in clear and "rough estimate" in clear
    assert CAUSAL_CAVEAT in clear and "95 % CI" in clear
    many = describe("calm", paired_change([3] * 12 + [4] * 8, [6] * 10 + [7] * 10))
    assert "rough estimate" not in many and "higher after listening" in many


@pytest.fixture
def journal(tmp_path: Path) -> tuple[Store, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Sessions in two families and goals with known before/after stress; sleep; HR."""
    store = open_store(f"sqlite:///{tmp_path / 'i.db'}")
    rng = np.random.default_rng(7)
    truth: dict[str, tuple[list[int], list[int]]] = {"rain": ([], []), "whisper": ([], [])}
    t0 = dt.datetime(2026, 2, 1, 21, 0, tzinfo=UTC)
    for i in range(16):
        fam = "rain" if i % 2 else "whisper"
        goal = "sleep" if i % 4 < 2 else "relax"
        at = t0 + dt.timedelta(days=i)
        sid = start_session(store, "ada", family=fam, goal=goal, duration_s=1800, started_at=at)
        b = int(rng.integers(5, 10))
        a = int(max(0, b - rng.integers(0, 5 if fam == "rain" else 2)))
        truth[fam][0].append(b)
        truth[fam][1].append(a)
        add_checkin(
            store,
            "ada",
            Ratings(stress=b, anxiety=b - 1, mood=4, calm=10 - b),
            phase="before",
            session_id=sid,
            at=at,
        )
        add_checkin(
            store,
            "ada",
            Ratings(stress=a, anxiety=a, mood=6, calm=10 - a, tingles=i % 11),
            phase="after",
            session_id=sid,
            at=at + dt.timedelta(minutes=31),
        )
    for k in range(14):
        n = dt.date(2026, 2, 1) + dt.timedelta(days=k)
        add_sleep_entry(
            store,
            "ada",
            SleepAnswers(
                n,
                dt.datetime.combine(n, dt.time(22, 30)),
                dt.datetime.combine(n, dt.time(23, 0)),
                20.0 - k,
                1,
                10.0,
                dt.datetime.combine(n + dt.timedelta(days=1), dt.time(6, 30)),
                dt.datetime.combine(n + dt.timedelta(days=1), dt.time(7, 0)),
                3,
            ),
        )
    return store, {k: (np.array(v[0], float), np.array(v[1], float)) for k, v in truth.items()}


def test_insights_per_family_and_goal_equal_scipy(
    journal: tuple[Store, dict[str, tuple[np.ndarray, np.ndarray]]],
) -> None:
    store, truth = journal
    ins = compute_insights(store, "ada")
    assert ins.sessions == 16 and len(ins.pairs) == 16
    for fam, (b, a) in truth.items():
        ch = ins.by_family[fam]["stress"]
        assert ch.n == 8
        res = stats.ttest_rel(a, b)
        ci = res.confidence_interval()
        assert (ch.t, ch.ci_low, ch.ci_high) == pytest.approx(
            (res.statistic, ci.low, ci.high), rel=1e-9
        )
    allb = np.concatenate([truth["whisper"][0], truth["rain"][0]])
    alla = np.concatenate([truth["whisper"][1], truth["rain"][1]])
    assert ins.overall["stress"].mean_diff == pytest.approx(float(np.mean(alla - allb)))
    assert {g: ins.by_goal[g]["stress"].n for g in ins.by_goal} == {"relax": 8, "sleep": 8}
    assert set(ins.overall) == set(MEASURES)
    assert ins.tingles_by_family["rain"][0] == 8
    weeks = ins.sleep_weeks
    assert sum(w["nights"] for w in weeks) == 14
    assert all(50 < w["se_pct"] < 100 for w in weeks)
    # --since keeps only the recent sessions
    recent = compute_insights(store, "ada", since=dt.datetime(2026, 2, 13, tzinfo=UTC))
    assert recent.sessions == 4 and "too few" in recent.summary_lines()[0]
    store.close()


def test_plots_png_and_svg(
    journal: tuple[Store, dict[str, tuple[np.ndarray, np.ndarray]]], tmp_path: Path
) -> None:
    store, _ = journal
    ins = compute_insights(store, "ada")
    paths = plot_insights(ins, tmp_path / "fig")
    stems = {p.stem for p in paths}
    assert stems == {"change_by_family", "sleep_weeks", "hr_change"}
    for p in paths:
        data = p.read_bytes()
        assert len(data) > 1000
        assert data[:8] == b"\x89PNG\r\n\x1a\n" if p.suffix == ".png" else b"<svg" in data
    store.close()


def test_pdf_report(
    journal: tuple[Store, dict[str, tuple[np.ndarray, np.ndarray]]], tmp_path: Path
) -> None:
    from susurrus.journal.questionnaires import record_result, score_answers
    from susurrus.journal.report import write_report

    store, _ = journal
    record_result(store, "ada", score_answers("phq9", [0] * 8 + [1]))
    p = write_report(store, "ada", tmp_path / "r.pdf", locale="en_CA")
    assert p.read_bytes()[:5] == b"%PDF-"
    h = write_report(store, "ada", tmp_path / "r.html", locale="en_CA")
    text = h.read_text(encoding="utf-8")
    assert text.index("1-833-456-4566") < text.index("Summary")  # crisis resources first
    assert "screening aid, not a diagnosis" in text
    store.close()


def test_hr_change_in_insights(tmp_path: Path) -> None:
    from susurrus.journal.heart_rate import import_hr

    store = open_store(f"sqlite:///{tmp_path / 'h.db'}")
    t0 = dt.datetime(2026, 2, 1, 21, 0, tzinfo=UTC)
    drops = []
    for i in range(6):
        at = t0 + dt.timedelta(days=i)
        start_session(store, "ada", duration_s=900, started_at=at)
        lines = ["timestamp,bpm"]
        for s in range(0, 901, 10):
            lines.append(
                f"{(at + dt.timedelta(seconds=s)).isoformat()},{75 - (i + 2) * s / 900:.3f}"
            )
        f = tmp_path / f"hr{i}.csv"
        f.write_text("\n".join(lines) + "\n")
        import_hr(store, "ada", f)
        drops.append(i + 2)
    ins = compute_insights(store, "ada")
    assert ins.hr_change is not None and ins.hr_change.n == 6
    assert ins.hr_change.mean_diff is not None and ins.hr_change.mean_diff < -2
    assert "lower than in the first 5" in ins.summary_lines()[-1]
    store.close()
