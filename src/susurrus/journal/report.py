"""The progress report a person could show their clinician: HTML (figures inline) or PDF.

It lists sessions and the before/after changes with confidence intervals and
the number of sessions behind each figure, sleep by week, heart rate, and
questionnaire scores — each score labelled a screening aid, not a diagnosis.
If a PHQ-9 in the period had item 9 above 0, the crisis resources come first.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from pathlib import Path

from ..errors import ParameterError
from ..safety import COMPLEMENT_NOTE, SCREENING_NOTE, crisis_resources, format_crisis
from ..store import Store
from .insights import MEASURES, Insights, PairedChange, compute_insights, describe, make_figures


def _fmt(v: float | None, spec: str = ".1f") -> str:
    return "–" if v is None else format(v, spec)


def _row(label: str, c: PairedChange) -> str:
    ci = "–" if c.ci_low is None else f"{c.ci_low:+.1f} to {c.ci_high:+.1f}"
    return (
        f"<tr><td>{html.escape(label)}</td><td>{c.n}</td><td>{_fmt(c.mean_before)}</td>"
        f"<td>{_fmt(c.mean_after)}</td><td>{_fmt(c.mean_diff, '+.1f')}</td><td>{ci}</td>"
        f"<td>{_fmt(c.d_z, '.2f')}</td></tr>"
    )


def _table(title: str, groups: dict[str, dict[str, PairedChange]]) -> str:
    out = [f"<h3>{html.escape(title)}</h3>"]
    for m in MEASURES:
        out.append(
            f"<h4>{m}</h4><table><tr><th>group</th><th>n sessions</th><th>mean before</th>"
            "<th>mean after</th><th>change</th><th>95 % CI</th><th>d_z</th></tr>"
        )
        out += [_row(g, ch[m]) for g, ch in groups.items()]
        out.append("</table>")
    return "\n".join(out)


def render_html(
    ins: Insights, *, locale: str | None = None, generated: dt.datetime | None = None
) -> str:
    """The report as one self-contained HTML page (figures inline as SVG)."""
    gen = (generated or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Susurrus report — {html.escape(ins.profile)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;line-height:1.45}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;"
        "text-align:right}td:first-child{text-align:left}.crisis{border:3px solid #b00;padding:1em;"
        "background:#fff4f4}.note{color:#444;font-size:.92em}svg{max-width:100%;height:auto}</style>",
        "</head><body>",
    ]
    if any(q["instrument"] == "phq9" and (q["item9"] or 0) > 0 for q in ins.questionnaires):
        parts.append(
            f"<div class='crisis'><pre>{html.escape(format_crisis(crisis_resources(locale)))}</pre></div>"
        )
    since = ins.since.date().isoformat() if ins.since else "the beginning"
    parts += [
        f"<h1>Susurrus journal report — {html.escape(ins.profile)}</h1>",
        f"<p>Period: from {since} to {gen}. Sessions: {ins.sessions}; with before and after "
        f"ratings: {len(ins.pairs)}.</p>",
        f"<p class='note'>{html.escape(COMPLEMENT_NOTE)}</p>",
        "<h2>Summary</h2><ul>",
    ]
    parts += [f"<li>{html.escape(line)}</li>" for line in ins.summary_lines()]
    parts.append("</ul>")
    parts.append(_table("All sessions", {"all sessions": ins.overall}))
    parts.append(_table("By trigger family", ins.by_family))
    parts.append(_table("By goal", ins.by_goal))
    if ins.tingles_by_family:
        parts.append(
            "<h3>Tingles after sessions (0–10)</h3><table><tr><th>family</th><th>n</th><th>mean</th></tr>"
        )
        parts += [
            f"<tr><td>{html.escape(k)}</td><td>{n}</td><td>{v:.1f}</td></tr>"
            for k, (n, v) in ins.tingles_by_family.items()
        ]
        parts.append("</table>")
    parts.append("<h2>Sleep diary (Consensus Sleep Diary core items), weekly means</h2>")
    if ins.sleep_weeks:
        parts.append(
            "<table><tr><th>week</th><th>nights</th><th>SE %</th><th>TST min</th><th>SOL min</th>"
            "<th>WASO min</th></tr>"
        )
        parts += [
            f"<tr><td>{w['week']}</td><td>{w['nights']}</td><td>{w['se_pct']:.1f}</td>"
            f"<td>{w['tst_min']:.0f}</td><td>{w['sol_min']:.0f}</td><td>{w['waso_min']:.0f}</td></tr>"
            for w in ins.sleep_weeks
        ]
        parts.append("</table>")
    else:
        parts.append("<p>No sleep diary entries in this period.</p>")
    parts.append("<h2>Questionnaires</h2>")
    if ins.questionnaires:
        parts.append(
            "<table><tr><th>date</th><th>instrument</th><th>score</th><th>severity band</th></tr>"
        )
        parts += [
            f"<tr><td>{q['taken_at'][:10]}</td><td>{q['instrument'].upper()}</td><td>{q['score']}</td>"
            f"<td>{html.escape(q['severity'])}</td></tr>"
            for q in ins.questionnaires
        ]
        parts.append(f"</table><p class='note'>{html.escape(SCREENING_NOTE)}</p>")
    else:
        parts.append("<p>No questionnaires in this period.</p>")
    for fig in make_figures(ins).values():
        buf = io.StringIO()
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
        svg = buf.getvalue()
        parts.append(f"<figure>{svg[svg.find('<svg') :]}</figure>")
    parts.append(
        f"<p class='note'>Generated by Susurrus on {gen}. Ratings are self-reports; "
        "figures describe this person's own sessions only.</p></body></html>"
    )
    return "\n".join(parts)


def write_report(
    store: Store,
    profile: str,
    out: str | Path,
    *,
    since: dt.datetime | None = None,
    locale: str | None = None,
) -> Path:
    """Write ``out`` as ``.html`` or ``.pdf`` (figures and text pages via matplotlib)."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".html", ".htm", ".pdf"):
        raise ParameterError("output", str(out), "a file ending in .html or .pdf")
    ins = compute_insights(store, profile, since=since)
    if suffix == ".pdf":
        _write_pdf(ins, path, locale=locale)
    else:
        path.write_text(render_html(ins, locale=locale), encoding="utf-8")
    return path


def _write_pdf(ins: Insights, path: Path, *, locale: str | None) -> None:
    import textwrap

    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    lines: list[str] = []
    if any(q["instrument"] == "phq9" and (q["item9"] or 0) > 0 for q in ins.questionnaires):
        lines += [*format_crisis(crisis_resources(locale)).splitlines(), ""]
    lines += [f"Susurrus journal report — {ins.profile}", f"Sessions: {ins.sessions}", ""]
    for m in MEASURES:
        lines += [*textwrap.wrap(describe(m, ins.overall[m]), 95), ""]
    for fam, ch in ins.by_family.items():
        lines += textwrap.wrap(describe("stress", ch["stress"], scope=f"with {fam}"), 95)
    lines += [""] + [
        f"{q['taken_at'][:10]}  {q['instrument'].upper()}  score {q['score']}  {q['severity']}"
        for q in ins.questionnaires
    ]
    lines += ["", *textwrap.wrap(SCREENING_NOTE, 95), "", *textwrap.wrap(COMPLEMENT_NOTE, 95)]
    with PdfPages(path) as pdf:
        for start in range(0, len(lines), 55):
            page = Figure(figsize=(8.27, 11.69))
            page.text(0.06, 0.96, "\n".join(lines[start : start + 55]), va="top", fontsize=8.5)
            pdf.savefig(page)
        for fig in make_figures(ins).values():
            pdf.savefig(fig, bbox_inches="tight")
