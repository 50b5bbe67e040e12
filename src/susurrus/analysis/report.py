"""A self-contained HTML report: one section per file, inline SVG and one PNG.

Per file: the summary (calm score and what cost points, loudness, level budget),
the waveform envelope and the loudness curves (momentary, short-term) with the
events marked, a spectrogram (48 log-spaced bands, one column per ~0.5 s, as a
base64 PNG) and the trigger-tag timeline. Curves are pooled to at most
:data:`MAX_POINTS` points, so a 3-hour file gives a report of a few hundred kB.
"""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AudioFileError

MAX_POINTS = 1500
W, H = 1000, 140
KIND_COLOURS = {
    "loudness_jump": "#e4572e",
    "transient": "#f3a712",
    "clipping": "#a4036f",
    "tonal_beep": "#2e86ab",
    "harsh_burst": "#8c5e58",
    "aversive_sound": "#d7263d",
}


def _pool_max(x: np.ndarray, n: int) -> np.ndarray:
    if x.size <= n:
        return x
    k = int(np.ceil(x.size / n))
    pad = (-x.size) % k
    return np.pad(x, (0, pad), mode="edge").reshape(-1, k).max(axis=1)


def _polyline(xs: np.ndarray, ys: np.ndarray, colour: str) -> str:
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    return f'<polyline fill="none" stroke="{colour}" stroke-width="1.2" points="{pts}"/>'


def _events_svg(events: list[dict[str, Any]], dur: float) -> str:
    out = []
    for e in events:
        x0 = W * e["start_s"] / dur
        w = max(2.0, W * (e["end_s"] - e["start_s"]) / dur)
        c = KIND_COLOURS.get(e["kind"], "#999")
        title = html.escape(
            f"{e['kind']} {e['start_s']:.2f}-{e['end_s']:.2f} s, severity {e['severity']:.2f}"
        )
        out.append(
            f'<rect x="{x0:.1f}" y="0" width="{w:.1f}" height="{H}" fill="{c}" opacity="0.35"><title>{title}</title></rect>'
        )
    return "".join(out)


def _wave_svg(peak100: np.ndarray, events: list[dict[str, Any]], dur: float) -> str:
    p = _pool_max(np.asarray(peak100, np.float64), MAX_POINTS)
    if not p.size:
        return ""
    xs = np.linspace(0, W, p.size)
    a = p / max(float(p.max()), 1e-9)
    top = H / 2 - a * (H / 2 - 4)
    bottom = H / 2 + a * (H / 2 - 4)
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, top, strict=True))
    pts += " " + " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs[::-1], bottom[::-1], strict=True))
    return (
        f'<svg viewBox="0 0 {W} {H}" class="plot">{_events_svg(events, dur)}'
        f'<polygon points="{pts}" fill="#3c6e71"/></svg>'
    )


def _loudness_svg(curves: dict[str, Any], events: list[dict[str, Any]], dur: float) -> str:
    lo, hi = -70.0, 0.0
    parts = [f'<svg viewBox="0 0 {W} {H}" class="plot">', _events_svg(events, dur)]
    for db in (-60, -40, -27, -18):
        y = H * (hi - db) / (hi - lo)
        parts.append(
            f'<line x1="0" x2="{W}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ccc" stroke-dasharray="3,3"/>'
            f'<text x="2" y="{y - 2:.1f}" class="ax">{db} LUFS</text>'
        )
    for key, colour in (("momentary", "#284b63"), ("short_term", "#d9a21b")):
        t, v = curves[key]
        if not len(t):
            continue
        v = np.where(np.isfinite(v), v, lo)
        k = max(1, int(np.ceil(len(v) / MAX_POINTS)))
        t, v = (
            np.asarray(t)[::k],
            _pool_max(np.asarray(v, np.float64), int(np.ceil(len(v) / k)))[: len(t[::k])],
        )
        ys = H * (hi - np.clip(v, lo, hi)) / (hi - lo)
        parts.append(_polyline(W * np.asarray(t) / dur, ys, colour))
    parts.append("</svg>")
    return "".join(parts)


def _spectrogram_png(spec: np.ndarray) -> str:
    if spec.size == 0:
        return ""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import image

    s = np.asarray(spec, np.float64)
    if s.shape[0] > MAX_POINTS:  # pool columns by mean power
        k = int(np.ceil(s.shape[0] / MAX_POINTS))
        s = (
            np.pad(s, ((0, (-s.shape[0]) % k), (0, 0)), mode="edge")
            .reshape(-1, k, s.shape[1])
            .mean(axis=1)
        )
    db = 10 * np.log10(np.maximum(s, 1e-12)).T[::-1]
    top = float(np.percentile(db, 99.5))
    buf = io.BytesIO()
    image.imsave(
        buf, np.clip(db, top - 80, top), cmap="magma", format="png", vmin=top - 80, vmax=top
    )
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _tags_svg(tags: list[dict[str, Any]], dur: float) -> str:
    fams = sorted({t["family"] for t in tags})
    if not fams:
        return "<p>No trigger family recognised.</p>"
    row = 18
    parts = [f'<svg viewBox="0 0 {W + 110} {row * len(fams) + 4}" class="plot">']
    for i, f in enumerate(fams):
        parts.append(f'<text x="0" y="{i * row + 13}" class="ax">{html.escape(f)}</text>')
    for t in tags:
        i = fams.index(t["family"])
        x0 = 110 + W * t["start_s"] / dur
        w = max(2.0, W * (t["end_s"] - t["start_s"]) / dur)
        parts.append(
            f'<rect x="{x0:.1f}" y="{i * row + 2}" width="{w:.1f}" height="{row - 4}" fill="#3c6e71" '
            f'opacity="{0.3 + 0.7 * t["confidence"]:.2f}"><title>{t["confidence"]:.2f}</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _section(rec: dict[str, Any], curves: dict[str, Any] | None) -> str:
    name = html.escape(os.path.basename(str(rec["path"])))
    if rec["error"]:
        return f'<section><h2>{name}</h2><p class="err">Could not analyse: {html.escape(rec["error"])}</p></section>'
    dur = max(float(rec["duration_s"]), 1e-9)
    lost = sorted(((v["points_lost"], k) for k, v in rec["calm_breakdown"].items()), reverse=True)
    lost_txt = ", ".join(f"{k} −{p:g}" for p, k in lost if p > 0) or "nothing"
    lv = rec["level"]
    kinds: dict[str, int] = {}
    for e in rec["events"]:
        kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
    legend = (
        " ".join(
            f'<span class="key" style="background:{KIND_COLOURS[k]}"></span>{k} ({n})'
            for k, n in kinds.items()
        )
        or "no jarring events"
    )
    hum = rec["hum"]
    body = [
        f"<section><h2>{name}</h2>",
        f'<div class="score"><b>{rec["calm_score"]:g}</b><span>calm score</span></div>',
        "<table>",
        f"<tr><th>length</th><td>{rec['duration_s']:g} s · {rec['sample_rate']} Hz · {rec['channels']} ch</td></tr>",
        f"<tr><th>points lost</th><td>{html.escape(lost_txt)}</td></tr>",
        f"<tr><th>loudness</th><td>{rec['integrated_lufs']} LUFS, range {rec['loudness_range_lu']} LU, "
        f"true peak {rec['true_peak_dbtp']} dBTP, max momentary {rec['max_momentary_lufs']} LUFS</td></tr>",
        f"<tr><th>level budget</th><td>{'within' if lv['compliant'] else 'outside'} the calm budget; "
        f"suggested gain {lv['gain_db']} dB{' (needs limiting)' if lv['needs_limiting'] else ''}</td></tr>",
        f"<tr><th>hum / hiss</th><td>{'{:g} Hz, {} dBFS'.format(hum['frequency_hz'], hum['level_db']) if hum['detected'] else 'no hum'}"
        f"; hiss floor {rec['hiss_db']} dBFS</td></tr>",
        "<tr><th>top labels</th><td>"
        + html.escape(", ".join(f"{t['label']} {t['score']:.2f}" for t in rec["top_labels"]) or "—")
        + "</td></tr></table>",
        f"<p>{legend}</p>",
    ]
    if curves is not None:
        body += [
            "<h3>Waveform</h3>",
            _wave_svg(curves["peak100"], rec["events"], dur),
            "<h3>Loudness (momentary blue, short-term gold)</h3>",
            _loudness_svg(curves, rec["events"], dur),
        ]
        png = _spectrogram_png(curves["spectrogram"])
        if png:
            lo, hi = curves["spectrogram_bands_hz"]
            body += [
                f"<h3>Spectrogram ({lo:g} Hz – {hi / 1000:.1f} kHz, log frequency)</h3>",
                f'<img class="plot" src="data:image/png;base64,{png}" alt="spectrogram">',
            ]
    body += ["<h3>Triggers over time</h3>", _tags_svg(rec["tags"], dur), "</section>"]
    return "".join(body)


CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222;background:#fbfaf7}
section{background:#fff;border-radius:10px;padding:1em 1.5em;margin-bottom:2em;box-shadow:0 1px 4px #0002}
.plot{width:100%;height:auto;display:block;background:#f4f4f0;border-radius:4px;image-rendering:pixelated}
.ax{font-size:11px;fill:#555}.err{color:#a00}th{text-align:left;padding-right:1em;color:#555;font-weight:normal}
.score{float:right;text-align:center}.score b{font-size:3em;display:block;color:#3c6e71}
.key{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 .8em;border-radius:2px}
@media (prefers-color-scheme:dark){body{color:#c9bfb0;background:#15120f}section{background:#1f1b17;box-shadow:none}
.plot{background:#2a2520}.ax{fill:#9a8f80}th{color:#9a8f80}.score b{color:#8fb8b0}.err{color:#e0907a}}"""


def render_html(results: list[tuple[dict[str, Any], dict[str, Any] | None]]) -> str:
    """The report for ``[(record, curves or None), …]`` as one HTML string."""
    sections = "".join(_section(r, c) for r, c in results)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Susurrus analysis</title>'
        f"<style>{CSS}</style></head><body><h1>Susurrus analysis</h1>"
        f"<p>Calm score 0–100: how calm the content is (independent of playback gain). "
        f"Coloured bands mark the jarring moments.</p>{sections}</body></html>"
    )


def write_html(
    path: str | os.PathLike[str], results: list[tuple[dict[str, Any], dict[str, Any] | None]]
) -> Path:
    """Write the report (atomically) to ``path``."""
    p = Path(path)
    text = render_html(results)
    tmp = p.with_name(f".{p.name}.partial")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(p)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise AudioFileError(f"{p}: cannot write the report ({exc.strerror or exc})") from None
    return p
