"""Judge trigger renders (or recordings) with the YAMNet tagger.

Each trigger is rendered alone, normalised to -23 LUFS (ITU-R BS.1770 integrated
loudness, measured with pyloudnorm), tagged, and reported: the top-10 AudioSet labels,
the six best family scores, whether the trigger's own family (or its sibling group,
``susurrus.families.SIBLING_GROUPS``) beats every other family, and whether one of the
family's own labels is in the top 5.

Examples::

    .venv/bin/python scripts/judge.py tapping:glass --seconds 20 --seeds 0,1
    .venv/bin/python scripts/judge.py rain --param density=2.5      # every rain variant
    .venv/bin/python scripts/judge.py --all --seconds 10 --seeds 0 --quiet
    .venv/bin/python scripts/judge.py --file /usr/share/sounds/alsa/Noise.wav --expect noise
    .venv/bin/python scripts/judge.py tapping:wood --json            # one JSON line per render

Exit status: 0 when every judged render passed the family test, 1 otherwise
(2 on a usage error), so the script can drive tuning loops.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from susurrus import audio, triggers
from susurrus.errors import SusurrusError
from susurrus.families import FAMILY_IDS, get_family, siblings
from susurrus.tagger import Tagger, get_tagger

TARGET_LUFS = -23.0


@dataclass
class Verdict:
    """The outcome of judging one render or recording."""

    name: str
    family: str | None
    top: list[tuple[str, float]]
    families: dict[str, float]
    lufs: float
    peak: float
    seconds: float
    winner: str = ""
    group_wins: bool | None = None
    own_label_top5: bool | None = None
    own_score: float = float("nan")
    best_other: tuple[str, float] = ("", float("nan"))
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "family": self.family,
            "lufs_in": self.lufs,
            "peak_after": self.peak,
            "seconds": self.seconds,
            "top": [[lab, round(p, 4)] for lab, p in self.top],
            "families": {k: round(v, 4) for k, v in self.families.items()},
            "winner": self.winner,
            "group_wins": self.group_wins,
            "own_label_top5": self.own_label_top5,
            "own_score": round(self.own_score, 4),
            "best_other": [self.best_other[0], round(self.best_other[1], 4)],
            **self.extra,
        }


def normalise(y: np.ndarray, sr: int, target_lufs: float = TARGET_LUFS) -> tuple[np.ndarray, float]:
    """Scale ``y`` to ``target_lufs`` integrated loudness; returns (y, input loudness).

    Clips shorter than one 400 ms gating block (or silent ones) are scaled by RMS
    instead (mean square = target, as for a full-band signal).
    """
    import pyloudnorm

    loud = float("-inf")
    if y.shape[1] >= int(0.4 * sr) + 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loud = float(pyloudnorm.Meter(sr).integrated_loudness(y.T.astype(np.float64)))
    if np.isfinite(loud):
        gain = 10.0 ** ((target_lufs - loud) / 20.0)
    else:
        rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if y.size else 0.0
        if rms <= 1e-9:
            return y, loud
        loud = 20.0 * np.log10(rms) - 0.691
        gain = 10.0 ** ((target_lufs + 0.691) / 20.0) / rms
    return (y * gain).astype(np.float32), loud


def judge(tagger: Tagger, name: str, y: np.ndarray, sr: int, family: str | None) -> Verdict:
    """Normalise, tag and judge one signal against ``family`` (None: no expectation)."""
    y_norm, loud = normalise(y, sr)
    mean = tagger.mean_scores(y_norm, sr)
    fams = tagger.families_from_mean(mean)
    v = Verdict(
        name,
        family,
        tagger.top_from_mean(mean, 10),
        fams,
        loud,
        float(np.max(np.abs(y_norm))) if y_norm.size else 0.0,
        y.shape[1] / sr,
    )
    v.winner = max(fams, key=lambda f: fams[f])
    if family is not None:
        group = siblings(family)
        others = {f: s for f, s in fams.items() if f not in group}
        v.own_score = max(fams[f] for f in group)
        v.best_other = max(others.items(), key=lambda kv: kv[1]) if others else ("", 0.0)
        v.group_wins = v.own_score > v.best_other[1]
        own = set(get_family(family).labels)
        v.own_label_top5 = any(lab in own for lab, _ in v.top[:5])
    return v


def _yes(flag: bool | None) -> str:
    return "-" if flag is None else ("YES" if flag else "no")


def print_verdict(v: Verdict) -> None:
    print(
        f"== {v.name}  ({v.seconds:.1f} s, input {v.lufs:.1f} LUFS -> {TARGET_LUFS:g}, "
        f"peak {v.peak:.2f})"
    )
    print("  top-10: " + "; ".join(f"{lab} {p:.3f}" for lab, p in v.top))
    ranked = sorted(v.families.items(), key=lambda kv: -kv[1])[:6]
    print("  families: " + "; ".join(f"{f} {s:.3f}" for f, s in ranked))
    if v.family is not None:
        group = sorted(siblings(v.family))
        gname = v.family if len(group) == 1 else "{" + ",".join(group) + "}"
        print(
            f"  own {gname} {v.own_score:.3f} vs best other {v.best_other[0]} "
            f"{v.best_other[1]:.3f}: wins {_yes(v.group_wins)}; "
            f"own label in top 5: {_yes(v.own_label_top5)}"
        )


def parse_params(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"judge: --param wants KEY=VALUE, got {item!r}")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise SystemExit(f"judge: --param {key}: {value!r} is not a number") from None
    return out


def expand_specs(specs: list[str], all_: bool) -> list[tuple[str, str]]:
    """``FAMILY[:VARIANT]`` → (family, variant) pairs; a bare family means every variant."""
    if all_:
        specs = list(specs) + triggers.available()
    pairs: list[tuple[str, str]] = []
    for spec in specs:
        family, variant = triggers.parse_spec(spec)
        fam = get_family(family)
        for var in [variant] if variant else list(fam.variants):
            if (family, var) not in pairs:
                pairs.append((family, var))
    return pairs


def summary(verdicts: list[Verdict]) -> None:
    """Per trigger spec: pass rates over seeds; then the confusion counts."""
    by_spec: dict[str, list[Verdict]] = defaultdict(list)
    for v in verdicts:
        if v.family is not None:
            by_spec[v.name.split(" ")[0]].append(v)
    if not by_spec:
        return
    print("\n== summary (group wins / own label in top 5, over seeds)")
    w = max(len(k) for k in by_spec) + 2
    print(f"  {'trigger':<{w}} {'wins':>5} {'top5':>5}  {'own':>6}  {'best other':<22} winners")
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    n_pass = 0
    for spec, vs in by_spec.items():
        wins = sum(bool(v.group_wins) for v in vs)
        top5 = sum(bool(v.own_label_top5) for v in vs)
        n_pass += wins == len(vs)
        own = float(np.mean([v.own_score for v in vs]))
        other = Counter(v.best_other[0] for v in vs).most_common(1)[0][0]
        other_s = float(np.mean([v.best_other[1] for v in vs]))
        winners = Counter(v.winner for v in vs)
        confusion[vs[0].family or ""].update(winners)
        print(
            f"  {spec:<{w}} {wins:>2}/{len(vs):<2} {top5:>2}/{len(vs):<2}  {own:6.3f}  "
            f"{other + f' {other_s:.3f}':<22} "
            + ", ".join(f"{f}x{c}" for f, c in winners.most_common())
        )
    print(f"\n  {n_pass}/{len(by_spec)} trigger variants win on every seed")
    print("\n== confusion (own family -> family with the highest score, counts over renders)")
    for fam in FAMILY_IDS:
        if fam in confusion:
            row = confusion[fam]
            print(f"  {fam:<14} -> " + ", ".join(f"{f} {c}" for f, c in row.most_common()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Example: judge.py tapping:glass rain --seconds 20 --seeds 0,1",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "specs",
        nargs="*",
        metavar="FAMILY[:VARIANT]",
        help="trigger to render; a bare family means every variant",
    )
    ap.add_argument("--all", action="store_true", help="every registered family and variant")
    ap.add_argument(
        "--file", action="append", default=[], metavar="PATH", help="judge a recording (repeatable)"
    )
    ap.add_argument("--expect", metavar="FAMILY", help="family expected for --file")
    ap.add_argument("--seconds", type=float, default=30.0, help="render length (default 30)")
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    ap.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="trigger parameter override (repeatable)",
    )
    ap.add_argument("--sr", type=int, default=48000, help="render sample rate (default 48000)")
    ap.add_argument("--quiet", action="store_true", help="print only the summary")
    ap.add_argument("--json", action="store_true", help="print one JSON object per render")
    args = ap.parse_args(argv)

    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        ap.error(f"--seeds wants integers such as 0,1,2, got {args.seeds!r}")
    params = parse_params(args.param)
    if args.expect is not None:
        get_family(args.expect)
    try:
        pairs = expand_specs(args.specs, args.all)
    except SusurrusError as exc:
        ap.error(str(exc))
    if not pairs and not args.file:
        if args.all:
            print(
                "judge: no trigger families are registered yet "
                "(susurrus.triggers.available() is empty)"
            )
            return 0
        ap.error("give FAMILY[:VARIANT] specs, --all or --file PATH")

    tagger = get_tagger()
    verdicts: list[Verdict] = []

    def report(v: Verdict) -> None:
        verdicts.append(v)
        if args.json:
            print(json.dumps(v.as_dict()), flush=True)
        elif not args.quiet:
            print_verdict(v)

    for path in args.file:
        try:
            y, sr = audio.read(path)
        except SusurrusError as exc:
            print(f"judge: {exc}", file=sys.stderr)
            return 2
        report(judge(tagger, Path(path).name, y, sr, args.expect))

    for family, variant in pairs:
        for seed in seeds:
            t0 = time.perf_counter()
            try:
                trig = triggers.create(
                    family, variant, sr=args.sr, rng=np.random.default_rng(seed), **params
                )
                y = trig.render(args.seconds)
            except SusurrusError as exc:
                print(f"judge: {family}:{variant}: {exc}", file=sys.stderr)
                return 2
            render_s = time.perf_counter() - t0
            v = judge(tagger, f"{family}:{variant} seed={seed}", y, args.sr, family)
            v.extra["render_s"] = round(render_s, 3)
            report(v)

    if not args.json and (len(verdicts) > 1 or args.all):
        summary(verdicts)
    judged = [v for v in verdicts if v.group_wins is not None]
    return 0 if all(v.group_wins for v in judged) else 1


if __name__ == "__main__":
    sys.exit(main())
