"""A corpus dataset as numbers, plots and a flat table.

:func:`summarize` reduces records to per-family prevalence and co-occurrence,
loudness and calm-score distributions, event counts and the most jarring recordings
and moments; :func:`write_summary` also writes ``summary.json``, ``records.csv`` (one
row per file, flat columns: ``pandas.read_csv`` / R ``read.csv`` ready) and PNG plots
(matplotlib, Agg backend).

Distribution statistics are numpy's (``np.percentile``, linear interpolation) over the
files that were analysed and have a finite value; prevalence counts a family in a file
when YAMNet tagged it anywhere in the file (``tags``).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.core import EVENT_KINDS
from ..families import FAMILY_IDS
from .dataset import clean, load_records

#: numeric record fields with distributions in the summary
DISTRIBUTIONS: tuple[str, ...] = (
    "integrated_lufs",
    "calm_score",
    "loudness_range_lu",
    "true_peak_dbtp",
    "duration_s",
)
_HIST_RANGE = {
    "integrated_lufs": (-70.0, 0.0, 5.0),
    "calm_score": (0.0, 100.0, 5.0),
    "loudness_range_lu": (0.0, 40.0, 2.0),
    "true_peak_dbtp": (-60.0, 6.0, 3.0),
}
TOP_RECORDINGS = 10
TOP_MOMENTS = 20


def _stats(values: list[float]) -> dict[str, Any]:
    a = np.asarray(values, dtype=np.float64)
    if a.size == 0:
        return {"count": 0}
    q = np.percentile(a, [10, 25, 50, 75, 90])
    return {
        "count": int(a.size),
        "mean": round(float(a.mean()), 3),
        "min": round(float(a.min()), 3),
        "p10": round(float(q[0]), 3),
        "p25": round(float(q[1]), 3),
        "median": round(float(q[2]), 3),
        "p75": round(float(q[3]), 3),
        "p90": round(float(q[4]), 3),
        "max": round(float(a.max()), 3),
    }


def _values(ok: list[dict[str, Any]], key: str) -> list[float]:
    out = []
    for r in ok:
        v = r.get(key)
        if isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v):
            out.append(float(v))
    return out


def _families(rec: dict[str, Any]) -> dict[str, float]:
    """Seconds tagged per family in one record."""
    out: dict[str, float] = {}
    for t in rec.get("tags") or []:
        out[t["family"]] = out.get(t["family"], 0.0) + float(t["end_s"]) - float(t["start_s"])
    return out


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary object of a list of records (see the module docstring)."""
    ok = [r for r in records if r.get("error") is None]
    bad = [r for r in records if r.get("error") is not None]
    n_ok = len(ok)
    total_s = sum(_values(ok, "duration_s"))
    fam_s = [_families(r) for r in ok]
    families = {}
    for f in FAMILY_IDS:
        n = sum(1 for d in fam_s if f in d)
        sec = sum(d.get(f, 0.0) for d in fam_s)
        families[f] = {
            "files": n,
            "share_of_files": round(n / n_ok, 4) if n_ok else None,
            "tagged_s": round(sec, 3),
            "share_of_audio": round(sec / total_s, 4) if total_s else None,
        }
    co = np.zeros((len(FAMILY_IDS), len(FAMILY_IDS)), dtype=int)
    idx = {f: i for i, f in enumerate(FAMILY_IDS)}
    for d in fam_s:
        ii = [idx[f] for f in d if f in idx]
        for a in ii:
            for b in ii:
                co[a, b] += 1
    event_counts = dict.fromkeys(EVENT_KINDS, 0)
    moments = []
    for r in ok:
        for e in r.get("events") or []:
            event_counts[e["kind"]] = event_counts.get(e["kind"], 0) + 1
            moments.append({"path": r["path"], **e})
    moments.sort(key=lambda m: (-m["severity"], m["path"], m["start_s"]))
    jarring = sorted(
        (r for r in ok if r.get("calm_score") is not None),
        key=lambda r: (r["calm_score"], -len(r.get("events") or []), r["path"]),
    )
    histograms = {}
    for key, (lo, hi, step) in _HIST_RANGE.items():
        edges = np.arange(lo, hi + step / 2, step)
        vals = np.clip(np.asarray(_values(ok, key)), lo, hi)
        counts, _ = np.histogram(vals, bins=edges)
        histograms[key] = {"edges": [float(x) for x in edges], "counts": [int(c) for c in counts]}
    compliant = [bool((r.get("level") or {}).get("compliant")) for r in ok]
    return clean(
        {
            "files": len(records),
            "analysed": n_ok,
            "errors": len(bad),
            "audio_hours": round(total_s / 3600.0, 4),
            "failed": [{"path": r["path"], "error": r["error"]} for r in bad],
            "families": families,
            "cooccurrence": {"families": list(FAMILY_IDS), "files": co.tolist()},
            "distributions": {k: _stats(_values(ok, k)) for k in DISTRIBUTIONS},
            "histograms": histograms,
            "level_budget_compliant_share": round(sum(compliant) / n_ok, 4) if n_ok else None,
            "event_counts": event_counts,
            "most_jarring_recordings": [
                {
                    "path": r["path"],
                    "calm_score": r["calm_score"],
                    "events": len(r.get("events") or []),
                    "max_severity": max(
                        (e["severity"] for e in r.get("events") or []), default=None
                    ),
                    "integrated_lufs": r.get("integrated_lufs"),
                }
                for r in jarring[:TOP_RECORDINGS]
            ],
            "most_jarring_moments": moments[:TOP_MOMENTS],
        }
    )


def _flat_scalar(v: Any) -> Any:
    if isinstance(v, bool):
        return int(v)
    return v


def flat_row(rec: dict[str, Any]) -> dict[str, Any]:
    """One CSV row of a record: scalars only, nested fields spread into named columns.

    Columns: the record's scalar fields; ``hum_*``; ``level_*`` (compliance flags and
    suggested gain); ``calm_<factor>_<key>`` from ``calm_breakdown``; ``events`` and
    ``events_<kind>`` counts and ``max_event_severity``; ``silence_s``;
    ``top_label`` / ``top_label_score``; ``tag_<family>_s`` seconds tagged per family.
    Booleans are 0/1, missing values empty.
    """
    row: dict[str, Any] = {}
    for k in (
        "path",
        "error",
        "duration_s",
        "sample_rate",
        "channels",
        "integrated_lufs",
        "loudness_range_lu",
        "true_peak_dbtp",
        "max_momentary_lufs",
        "max_short_term_lufs",
        "hiss_db",
        "calm_score",
    ):
        row[k] = rec.get(k)
    hum = rec.get("hum") or {}
    for k in ("detected", "frequency_hz", "level_db"):
        row[f"hum_{k}"] = _flat_scalar(hum.get(k))
    level = rec.get("level") or {}
    for k in (
        "compliant",
        "integrated_ok",
        "true_peak_ok",
        "momentary_ok",
        "gain_db",
        "needs_limiting",
    ):
        row[f"level_{k}"] = _flat_scalar(level.get(k))
    for factor, part in sorted((rec.get("calm_breakdown") or {}).items()):
        if isinstance(part, dict):
            for k, v in sorted(part.items()):
                if isinstance(v, int | float | bool) or v is None:
                    row[f"calm_{factor}_{k}"] = _flat_scalar(v)
        elif isinstance(part, int | float | bool):
            row[f"calm_{factor}"] = _flat_scalar(part)
    evs = rec.get("events")
    ok = rec.get("error") is None
    row["events"] = len(evs) if ok and evs is not None else None
    for kind in EVENT_KINDS:
        row[f"events_{kind}"] = (
            sum(1 for e in evs if e["kind"] == kind) if ok and evs is not None else None
        )
    row["max_event_severity"] = (
        max((e["severity"] for e in evs or []), default=None) if ok else None
    )
    sil = rec.get("silences")
    row["silence_s"] = (
        round(sum(s["end_s"] - s["start_s"] for s in sil), 3) if ok and sil is not None else None
    )
    top = rec.get("top_labels") or []
    row["top_label"] = top[0]["label"] if top else None
    row["top_label_score"] = top[0]["score"] if top else None
    fam = _families(rec) if ok else {}
    for f in FAMILY_IDS:
        row[f"tag_{f}_s"] = round(fam.get(f, 0.0), 3) if ok else None
    return row


def write_csv(path: str | os.PathLike[str], records: list[dict[str, Any]]) -> Path:
    """``records.csv``: one row per record (:func:`flat_row`), the union of columns."""
    rows = [flat_row(r) for r in records]
    cols: list[str] = []
    for r in rows:
        cols.extend(c for c in r if c not in cols)
    p = Path(path)
    with p.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, restval="")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return p


def _plots(out: Path, summary: dict[str, Any]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    written = []
    labels = {
        "integrated_lufs": "integrated loudness (LUFS)",
        "calm_score": "calm score (0-100)",
        "loudness_range_lu": "loudness range (LU)",
        "true_peak_dbtp": "true peak (dBTP)",
    }
    fig = Figure(figsize=(10, 7), layout="constrained")
    for i, (key, h) in enumerate(summary["histograms"].items()):
        ax = fig.add_subplot(2, 2, i + 1)
        edges = np.asarray(h["edges"])
        ax.bar(edges[:-1], h["counts"], width=np.diff(edges), align="edge", edgecolor="white")
        ax.set_xlabel(labels.get(key, key))
        ax.set_ylabel("files")
    fig.suptitle(f"{summary['analysed']} recordings, {summary['audio_hours']:g} h")
    fig.savefig(out / "distributions.png", dpi=100)
    written.append("distributions.png")

    fams = summary["cooccurrence"]["families"]
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    share = [summary["families"][f]["share_of_files"] or 0.0 for f in fams]
    ax.bar(range(len(fams)), [100 * s for s in share])
    ax.set_xticks(range(len(fams)), fams, rotation=60, ha="right")
    ax.set_ylabel("% of recordings tagged")
    ax.set_title("trigger-family prevalence")
    fig.savefig(out / "prevalence.png", dpi=100)
    written.append("prevalence.png")

    co = np.asarray(summary["cooccurrence"]["files"], dtype=float)
    fig = Figure(figsize=(8, 7), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(co, cmap="viridis")
    ax.set_xticks(range(len(fams)), fams, rotation=60, ha="right")
    ax.set_yticks(range(len(fams)), fams)
    for (i, j), v in np.ndenumerate(co):
        if v:
            light = v > 0.6 * co.max()  # dark text on the bright end of viridis
            ax.text(
                j, i, f"{int(v)}", ha="center", va="center", color="k" if light else "w", fontsize=7
            )
    fig.colorbar(im, ax=ax, label="recordings tagged with both")
    ax.set_title("trigger-family co-occurrence")
    fig.savefig(out / "cooccurrence.png", dpi=100)
    written.append("cooccurrence.png")
    return written


def write_summary(
    dataset: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """Summarise DATASET and write ``summary.json``, ``records.csv`` and the plots.

    Parameters
    ----------
    dataset:
        a folder written by :func:`~susurrus.batch.analyze_corpus`.
    out_dir:
        where to write (created; default ``DATASET/summary``).

    Returns
    -------
    dict
        :func:`summarize`'s object with ``"outputs"``: the files written.
    """
    records = load_records(dataset)
    summary = summarize(records)
    out = Path(out_dir) if out_dir is not None else Path(dataset) / "summary"
    out.mkdir(parents=True, exist_ok=True)
    files = ["records.csv"]
    write_csv(out / "records.csv", records)
    files += _plots(out, summary)
    files.append("summary.json")
    summary = {"dataset": str(dataset), **summary, "outputs": [str(out / f) for f in files]}
    (out / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return summary
