"""Insights: what seems to help this person, measured honestly.

For each rating (stress, anxiety, mood, calm) the change from the before to
the after check-in of the same session is summarised as a paired comparison
(Student's paired t; Cohen's d_z = mean difference / SD of the differences,
Lakens 2013, *Front Psychol* 4:863), overall, per trigger family and per goal,
always with the number of sessions behind it. The numbers equal
``scipy.stats.ttest_rel(after, before)`` and its ``confidence_interval(0.95)``.

Wording never claims more than the data allow: with fewer than
:data:`MIN_SESSIONS` sessions it says it is too early to tell; an interval
that includes zero is reported as "no clear change"; and every summary says it
shows what happened around sessions, not what caused it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats
from sqlalchemy import select

from ..store import CheckIn, QuestionnaireResponse, Session, SleepEntry, Store
from .heart_rate import SessionHR, session_hr
from .profiles import profile_id
from .sleep import entry_metrics

MEASURES = ("stress", "anxiety", "mood", "calm")
LOWER_IS_BETTER = {"stress": True, "anxiety": True, "mood": False, "calm": False}
MIN_SESSIONS = 5
FEW_SESSIONS = 10
CAUSAL_CAVEAT = "This shows what happened around your sessions, not what caused it."


@dataclass(frozen=True)
class PairedChange:
    """A paired before/after comparison (difference = after − before)."""

    n: int
    mean_before: float | None
    mean_after: float | None
    mean_diff: float | None
    sd_diff: float | None
    ci_low: float | None
    ci_high: float | None
    t: float | None
    df: int | None
    p: float | None
    d_z: float | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def paired_change(
    before: Sequence[float], after: Sequence[float], *, confidence: float = 0.95
) -> PairedChange:
    """Paired t statistics, ``confidence`` interval of the mean change, and Cohen's d_z.

    Quantities undefined for the data (n < 2, zero spread) are ``None``.
    """
    b = np.asarray(before, dtype=np.float64)
    a = np.asarray(after, dtype=np.float64)
    if b.shape != a.shape or b.ndim != 1:
        raise ValueError("before and after must be 1-D and of equal length")
    n = int(b.size)
    if n == 0:
        return PairedChange(0, None, None, None, None, None, None, None, None, None, None)
    d = a - b
    mean = float(np.mean(d))
    mb, ma = float(np.mean(b)), float(np.mean(a))
    if n < 2:
        return PairedChange(n, mb, ma, mean, None, None, None, None, None, None, None)
    sd = float(np.std(d, ddof=1))
    df = n - 1
    if sd == 0.0:
        return PairedChange(n, mb, ma, mean, 0.0, mean, mean, None, df, None, None)
    se = sd / math.sqrt(n)
    t = mean / se
    p = float(2.0 * stats.t.sf(abs(t), df))
    q = float(stats.t.ppf(0.5 + confidence / 2.0, df))
    return PairedChange(n, mb, ma, mean, sd, mean - q * se, mean + q * se, t, df, p, mean / sd)


def describe(measure: str, ch: PairedChange, *, scope: str = "") -> str:
    """Plain-language summary that does not overclaim."""
    where = f" {scope}" if scope else ""
    if ch.n == 0:
        return f"No sessions{where} with both a before and an after {measure} rating yet."
    if ch.n < MIN_SESSIONS:
        s = "session" if ch.n == 1 else "sessions"
        return (
            f"Only {ch.n} {s}{where} with before and after {measure} ratings so far — too few "
            f"to tell whether anything changes. Keep logging; at least {MIN_SESSIONS} are needed."
        )
    assert ch.mean_diff is not None and ch.ci_low is not None and ch.ci_high is not None
    diff = ch.mean_diff
    direction = "lower" if diff < 0 else "higher"
    better = (diff < 0) == LOWER_IS_BETTER[measure]
    ci = f"95 % CI {ch.ci_low:+.1f} to {ch.ci_high:+.1f}"
    dz = f", d_z = {ch.d_z:.2f}" if ch.d_z is not None else ""
    if ch.ci_low <= 0.0 <= ch.ci_high:
        text = (
            f"Across {ch.n} sessions{where}, {measure} after listening was on average "
            f"{abs(diff):.1f} points {direction} than before ({ci}): no clear change — the data "
            f"are consistent with no difference."
        )
    else:
        text = (
            f"Across {ch.n} sessions{where}, {measure} was on average {abs(diff):.1f} points "
            f"{direction} after listening than before ({ci}{dz}); "
            f"{'a change in the hoped-for direction' if better else 'a change in the unwanted direction'}."
        )
    if ch.n < FEW_SESSIONS:
        text += f" With only {ch.n} sessions this is a rough estimate."
    return f"{text} {CAUSAL_CAVEAT}"


@dataclass
class Insights:
    """Everything the report shows for one profile and period."""

    profile: str
    since: dt.datetime | None
    pairs: list[dict[str, Any]] = field(default_factory=list)
    overall: dict[str, PairedChange] = field(default_factory=dict)
    by_family: dict[str, dict[str, PairedChange]] = field(default_factory=dict)
    by_goal: dict[str, dict[str, PairedChange]] = field(default_factory=dict)
    tingles_by_family: dict[str, tuple[int, float]] = field(default_factory=dict)
    sleep_weeks: list[dict[str, Any]] = field(default_factory=list)
    hr: list[SessionHR] = field(default_factory=list)
    hr_change: PairedChange | None = None
    questionnaires: list[dict[str, Any]] = field(default_factory=list)
    sessions: int = 0

    def summary_lines(self) -> list[str]:
        lines = [describe(m, self.overall[m]) for m in MEASURES if m in self.overall]
        if self.hr_change is not None and self.hr_change.n:
            lines.append(describe_hr(self.hr_change))
        return lines

    def to_json(self) -> dict[str, Any]:
        def table(d: dict[str, dict[str, PairedChange]]) -> dict[str, Any]:
            return {k: {m: c.as_dict() for m, c in v.items()} for k, v in d.items()}

        return {
            "profile": self.profile,
            "since": self.since.isoformat() if self.since else None,
            "sessions": self.sessions,
            "overall": {m: c.as_dict() for m, c in self.overall.items()},
            "by_family": table(self.by_family),
            "by_goal": table(self.by_goal),
            "tingles_by_family": {
                k: {"n": n, "mean": v} for k, (n, v) in self.tingles_by_family.items()
            },
            "sleep_weeks": self.sleep_weeks,
            "hr": [h.as_dict() for h in self.hr],
            "hr_change": self.hr_change.as_dict() if self.hr_change else None,
            "questionnaires": self.questionnaires,
            "summary": self.summary_lines(),
        }


def describe_hr(ch: PairedChange) -> str:
    """Plain wording for the heart-rate change (last 5 min − first 5 min)."""
    if ch.n < MIN_SESSIONS:
        return (
            f"Heart rate was recorded in {ch.n} session(s) — too few to tell whether it changes "
            "during sessions."
        )
    assert ch.mean_diff is not None and ch.ci_low is not None and ch.ci_high is not None
    ci = f"95 % CI {ch.ci_low:+.1f} to {ch.ci_high:+.1f} bpm"
    if ch.ci_low <= 0 <= ch.ci_high:
        return f"Across {ch.n} sessions, heart rate showed no clear change from the first to the last 5 minutes ({ci})."
    word = "lower" if ch.mean_diff < 0 else "higher"
    return (
        f"Across {ch.n} sessions, heart rate in the last 5 minutes was on average "
        f"{abs(ch.mean_diff):.1f} bpm {word} than in the first 5 ({ci}). {CAUSAL_CAVEAT}"
    )


def _group(pairs: list[dict[str, Any]], key: str) -> dict[str, dict[str, PairedChange]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in pairs:
        groups[p[key] or "(unspecified)"].append(p)
    return {g: _changes(rows) for g, rows in sorted(groups.items())}


def _changes(rows: list[dict[str, Any]]) -> dict[str, PairedChange]:
    out = {}
    for m in MEASURES:
        both = [
            (r["before"][m], r["after"][m])
            for r in rows
            if r["before"][m] is not None and r["after"][m] is not None
        ]
        out[m] = paired_change([b for b, _ in both], [a for _, a in both])
    return out


def compute_insights(store: Store, profile: str, *, since: dt.datetime | None = None) -> Insights:
    """Gather and analyse a profile's journal since ``since`` (UTC; ``None`` = all)."""
    ins = Insights(profile, since)
    with store.session() as s:
        pid = profile_id(s, profile)
        q = (
            select(Session)
            .where(Session.profile_id == pid)
            .order_by(Session.started_at, Session.id)
        )
        if since is not None:
            q = q.where(Session.started_at >= since)
        sessions = s.execute(q).scalars().all()
        ins.sessions = len(sessions)
        ids = [x.id for x in sessions]
        checks: dict[tuple[int, str], CheckIn] = {}
        if ids:
            for c in s.execute(select(CheckIn).where(CheckIn.session_id.in_(ids))).scalars():
                assert c.session_id is not None
                checks[(c.session_id, c.phase)] = c
        tingles: dict[str, list[int]] = defaultdict(list)
        for x in sessions:
            b, a = checks.get((x.id, "before")), checks.get((x.id, "after"))
            if a is not None and a.tingles is not None:
                tingles[x.family or "(unspecified)"].append(a.tingles)
            if b is None or a is None:
                continue
            ins.pairs.append(
                {
                    "session_id": x.id,
                    "started_at": x.started_at,
                    "family": x.family,
                    "goal": x.goal,
                    "before": {m: getattr(b, m) for m in MEASURES},
                    "after": {m: getattr(a, m) for m in MEASURES},
                }
            )
        ins.tingles_by_family = {k: (len(v), float(np.mean(v))) for k, v in sorted(tingles.items())}
        sq = select(SleepEntry).where(SleepEntry.profile_id == pid).order_by(SleepEntry.night)
        if since is not None:
            sq = sq.where(SleepEntry.night >= since.date())
        weeks: dict[tuple[int, int], list[Any]] = defaultdict(list)
        for e in s.execute(sq).scalars():
            iso = e.night.isocalendar()
            weeks[(iso.year, iso.week)].append(entry_metrics(e))
        for (y, w), ms in sorted(weeks.items()):
            ins.sleep_weeks.append(
                {
                    "week": f"{y}-W{w:02d}",
                    "week_start": dt.date.fromisocalendar(y, w, 1).isoformat(),
                    "nights": len(ms),
                    "se_pct": float(np.mean([m.se_pct for m in ms])),
                    "tst_min": float(np.mean([m.tst_min for m in ms])),
                    "sol_min": float(np.mean([m.sol_min for m in ms])),
                    "waso_min": float(np.mean([m.waso_min for m in ms])),
                }
            )
        qq = select(QuestionnaireResponse).where(QuestionnaireResponse.profile_id == pid)
        if since is not None:
            qq = qq.where(QuestionnaireResponse.taken_at >= since)
        for r in s.execute(qq.order_by(QuestionnaireResponse.taken_at)).scalars():
            ins.questionnaires.append(
                {
                    "instrument": r.instrument,
                    "score": r.score,
                    "severity": r.severity,
                    "item9": r.item9,
                    "taken_at": r.taken_at.isoformat(),
                }
            )
    ins.overall = _changes(ins.pairs)
    ins.by_family = _group(ins.pairs, "family")
    ins.by_goal = _group(ins.pairs, "goal")
    for sid in ids:
        h = session_hr(store, sid)
        if h is not None:
            ins.hr.append(h)
    both = [
        (h.first5_bpm, h.last5_bpm)
        for h in ins.hr
        if h.first5_bpm is not None and h.last5_bpm is not None
    ]
    ins.hr_change = paired_change([f for f, _ in both], [la for _, la in both]) if ins.hr else None
    return ins


def make_figures(ins: Insights) -> dict[str, Any]:
    """The report's figures (matplotlib ``Figure`` objects, no pyplot state), by name.

    * ``change_by_family`` — mean change (after − before) with 95 % CI per family, one panel per rating;
    * ``sleep_weeks`` — weekly sleep efficiency and total sleep time;
    * ``hr_change`` — heart rate first vs last 5 minutes per session.
    """
    from matplotlib.figure import Figure

    figs: dict[str, Any] = {}

    def save(fig: Figure, stem: str) -> None:
        figs[stem] = fig

    fig = Figure(figsize=(9, 6), layout="constrained")
    axes = fig.subplots(2, 2)
    groups = {"all sessions": ins.overall, **ins.by_family}
    for ax, m in zip(axes.flat, MEASURES):
        labels, means, lo, hi = [], [], [], []
        for g, ch in groups.items():
            c = ch.get(m)
            if c is None or c.n == 0 or c.mean_diff is None:
                continue
            labels.append(f"{g}\n(n={c.n})")
            means.append(c.mean_diff)
            lo.append(c.mean_diff - (c.ci_low if c.ci_low is not None else c.mean_diff))
            hi.append((c.ci_high if c.ci_high is not None else c.mean_diff) - c.mean_diff)
        y = np.arange(len(labels))
        if labels:
            ax.errorbar(means, y, xerr=[lo, hi], fmt="o", capsize=3, color="#2a6f97")
        ax.axvline(0.0, color="#888", lw=0.8)
        ax.set_yticks(y, labels, fontsize=7)
        ax.invert_yaxis()
        better = "lower is calmer" if LOWER_IS_BETTER[m] else "higher is better"
        ax.set_title(f"{m}: after − before ({better})", fontsize=9)
        ax.set_xlabel("points (0–10), mean and 95 % CI", fontsize=8)
    fig.suptitle(f"Change around sessions — {ins.profile}", fontsize=11)
    save(fig, "change_by_family")

    fig = Figure(figsize=(8, 3.5), layout="constrained")
    ax1 = fig.subplots()
    if ins.sleep_weeks:
        x = np.array(
            [dt.date.fromisoformat(w["week_start"]) for w in ins.sleep_weeks], dtype="datetime64[D]"
        )
        ax1.plot(
            x,
            [w["se_pct"] for w in ins.sleep_weeks],
            "o-",
            color="#2a6f97",
            label="sleep efficiency (%)",
        )
        ax2 = ax1.twinx()
        ax2.plot(
            x,
            [w["tst_min"] / 60 for w in ins.sleep_weeks],
            "s--",
            color="#b5651d",
            label="total sleep (h)",
        )
        ax2.set_ylabel("total sleep time (h)")
        fig.autofmt_xdate()
    else:
        ax1.text(
            0.5,
            0.5,
            "no sleep diary entries yet",
            ha="center",
            va="center",
            transform=ax1.transAxes,
        )
    ax1.set_ylabel("sleep efficiency (%)")
    ax1.set_title("Sleep by week (weekly means)", fontsize=10)
    save(fig, "sleep_weeks")

    fig = Figure(figsize=(6, 3.5), layout="constrained")
    ax = fig.subplots()
    pts = [
        (h.first5_bpm, h.last5_bpm)
        for h in ins.hr
        if h.first5_bpm is not None and h.last5_bpm is not None
    ]
    if pts:
        for f, la in pts:
            ax.plot([0, 1], [f, la], "-o", color="#2a6f97", alpha=0.6)
        ax.set_xticks([0, 1], ["first 5 min", "last 5 min"])
        ax.set_ylabel("mean heart rate (bpm)")
    else:
        ax.text(
            0.5,
            0.5,
            "no heart-rate data linked to sessions",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    ax.set_title(f"Heart rate during sessions (n={len(pts)})", fontsize=10)
    save(fig, "hr_change")
    return figs


def plot_insights(
    ins: Insights, out_dir: str | Path, *, formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """Write the figures of :func:`make_figures` into ``out_dir`` (PNG and SVG); return the paths."""
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for stem, fig in make_figures(ins).items():
        for ext in formats:
            p = d / f"{stem}.{ext}"
            fig.savefig(
                p, dpi=120, bbox_inches="tight", metadata={"Date": None} if ext == "svg" else None
            )
            written.append(p)
    return written
