"""Benchmark: how fast the listener model finds a listener's favourite triggers.

Usage::

    .venv/bin/python benchmarks/personalise.py [--listeners 200] [--ratings 24] [--seed 0 | --seeds 0-9]

Simulated listeners (all from one seeded generator):

* every one of the 18 families gets a hidden true score (0–10, the mean of tingles
  and relaxation): the population prior ``2 + 6 · prevalence`` plus a listener-wide
  offset ``N(0, 1)`` plus a family deviation ``N(0, s)``, where ``s`` is drawn per
  listener from U(0.5, 3): some listeners sit close to the population, some far
  from it; tingles and relaxation differ around it by ``± N(0, 1)``;
* 0–3 aversions, drawn from the families people most often find aversive; an
  aversive family's true score is low, and the listener either puts it on the
  avoid-list up front or marks the first clip of it unpleasant;
* each rating is the true tingles and relaxation plus ``N(0, 1.5)`` noise each,
  rounded to an integer and clipped to 0–10.

After ``--ratings`` clip ratings, the overlap between the listener's true top 3
(among families not avoided) and the model's top 3 is averaged over the listeners
for three strategies, all run on the same listeners and rating noise:

* ``model (TS + LUCB)``: :func:`susurrus.profile.discovery.next_clip`, the real chooser
  (Thompson-ordered coverage of every family, then LUCB at the top-3 boundary);
* ``random order``: a family drawn uniformly among those not avoided each time,
  the same Bayesian model ranking;
* ``popularity only``: no ratings at all — the top 3 by population prevalence.

Then every listener gets a session for each goal (relax, sleep, focus, unwind)
and the share of sessions with an avoided family in any layer (or a breath
inside a whisper for a listener avoiding ``breathing``) is reported (goal: 0 %).
Finally a listener who rates everything 0 must be classed as a non-responder,
and the share of near-zero listeners (true scores U(0, 1)) and of the simulated
responders classed as non-responders is shown.

Goal: the model's mean overlap ≥ 0.75 after 24 ratings. ``--seeds 0-9`` runs
several seeds, prints each one, and judges the goal on their mean (the mean over
more listeners). Measured (seeds 0–9, 200 listeners):
0.772 0.727 0.773 0.757 0.760 0.760 0.747 0.758 0.745 0.757, mean 0.755 (random
order 0.627, popularity only 0.375). The mean over 200 listeners has a 95 %
half-width of about 0.03, and the goal sits at what 24 noisy ratings can resolve
here: with every family covered once (about 17 clips), 6–8 clips are left to
focus, and about a third of the simulated listeners have their 3rd and 4th
families within 0.2 points. Other choosers and models tried at the same budget
(boundary sampling, top-3 membership uncertainty, top-two Thompson sampling,
one-step knowledge gradient, a per-listener spread τ with its own posterior, the
score noise fitted to 1.5/√2, ranking by P(top 3)) all land within ±0.01 of
LUCB over 6–20 seeds; 30 ratings give about 0.775, 36 about 0.80.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import numpy as np

from susurrus.families import FAMILIES, FAMILY_IDS
from susurrus.profile.discovery import next_clip
from susurrus.profile.model import ListenerProfile, prior_mean
from susurrus.profile.sessions import GOALS, build_session, session_families

AVERSIVE = (
    "breathing",
    "tapping",
    "typing",
    "crinkling",
    "clock",
    "scratching",
    "writing",
    "scissors",
    "heartbeat",
    "whisper",
)


@dataclass
class Listener:
    true: np.ndarray  # combined 0–10 score per family
    tilt: np.ndarray  # tingles − relax split per family
    avoid_upfront: list[str]
    aversive: set[str]


def make_listener(rng: np.random.Generator, *, near_zero: bool = False) -> Listener:
    nf = len(FAMILY_IDS)
    if near_zero:
        true = rng.uniform(0.0, 1.0, nf)
    else:
        mu0 = np.array([prior_mean(f) for f in FAMILY_IDS])
        s = rng.uniform(0.5, 3.0)
        true = np.clip(mu0 + rng.normal(0.0, 1.0) + rng.normal(0.0, s, nf), 0.0, 10.0)
    tilt = rng.normal(0.0, 1.0, nf)
    k = int(rng.choice([0, 1, 2, 3], p=[0.3, 0.35, 0.25, 0.1]))
    # a list, not a set: iterating a set of strings follows PYTHONHASHSEED, which
    # made the simulated listeners (and the result) differ from run to run
    drawn = rng.choice(AVERSIVE, size=k, replace=False).tolist() if k else []
    for f in drawn:
        true[FAMILY_IDS.index(f)] = rng.uniform(0.0, 1.5)
    upfront = sorted(f for f in drawn if rng.random() < 0.5)
    return Listener(true, tilt, upfront, set(drawn))


def rate(
    p: ListenerProfile,
    who: Listener,
    family: str,
    rng: np.random.Generator,
    clip_id: str | None = None,
) -> None:
    i = FAMILY_IDS.index(family)
    t = int(np.clip(np.rint(who.true[i] + who.tilt[i] + rng.normal(0, 1.5)), 0, 10))
    r = int(np.clip(np.rint(who.true[i] - who.tilt[i] + rng.normal(0, 1.5)), 0, 10))
    if clip_id is not None:
        p.rate(clip_id=clip_id, tingles=t, relax=r, unpleasant=family in who.aversive)
    else:
        p.rate(family, tingles=t, relax=r, unpleasant=family in who.aversive)


def true_top(who: Listener, k: int = 3) -> set[str]:
    order = np.argsort(-who.true)
    return set([FAMILY_IDS[i] for i in order if FAMILY_IDS[i] not in who.aversive][:k])


def run_thompson(who: Listener, n: int, seed: int, noise_seed: int) -> ListenerProfile:
    p = ListenerProfile("sim", seed=seed)
    p.add_avoid(*who.avoid_upfront)
    noise = np.random.default_rng(noise_seed)
    for _ in range(n):
        spec = next_clip(p)
        rate(p, who, spec["family"], noise, clip_id=spec["id"])
    return p


def run_random(who: Listener, n: int, seed: int, noise_seed: int) -> ListenerProfile:
    p = ListenerProfile("sim", seed=seed)
    p.add_avoid(*who.avoid_upfront)
    noise = np.random.default_rng(noise_seed)
    order = np.random.default_rng(seed + 7_777_777)
    for _ in range(n):
        eligible = [f for f in FAMILY_IDS if f not in p.avoid]
        rate(p, who, eligible[int(order.integers(len(eligible)))], noise)
    return p


def popularity_top(who: Listener, k: int = 3) -> set[str]:
    ranked = sorted(FAMILIES, key=lambda f: -f.prevalence)
    return set([f.id for f in ranked if f.id not in who.avoid_upfront][:k])


MODEL = "model (TS + LUCB)"
GOAL = 0.75


def run_seed(seed: int, n_listeners: int, n_ratings: int) -> dict[str, object]:
    """One benchmark run: overlaps per strategy, sessions built, sessions with an avoided family."""
    rng = np.random.default_rng(seed)
    overlap: dict[str, list[float]] = {MODEL: [], "random order": [], "popularity only": []}
    sessions = bad = 0
    for j in range(n_listeners):
        who = make_listener(rng)
        top = true_top(who)
        noise_seed = int(rng.integers(2**31))
        p = run_thompson(who, n_ratings, j, noise_seed)
        overlap[MODEL].append(len(top & set(p.top(3))) / 3)
        q = run_random(who, n_ratings, j, noise_seed)
        overlap["random order"].append(len(top & set(q.top(3))) / 3)
        overlap["popularity only"].append(len(top & popularity_top(who)) / 3)
        for goal in GOALS:
            try:
                s = build_session(p, goal, duration_s=2700.0, seed=int(rng.integers(2**31)))
            except Exception as exc:  # a benchmark reports, it does not stop
                print(f"listener {j} goal {goal}: no session ({exc})", file=sys.stderr)
                continue
            sessions += 1
            fams = session_families(s.scene)
            breath_in_voice = (
                "breathing" in who.aversive
                and "breathing" in p.avoid
                and any(
                    layer.trigger in ("whisper", "soft-speaking")
                    and layer.params.get("breaths", 1.0) != 0.0
                    for layer in s.scene.layers
                )
            )
            if fams & set(p.avoid) or breath_in_voice:
                bad += 1
    return {"overlap": overlap, "sessions": sessions, "bad": bad}


def _seeds(text: str) -> list[int]:
    """``"0,1,2"`` or ``"0-4"`` (inclusive) or a mix: ``"0-4,9"``."""
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        out.extend(range(int(lo), int(hi) + 1) if hi else [int(lo)])
    if not out or min(out) < 0:
        raise argparse.ArgumentTypeError(f"seeds {text!r}: integers >= 0 like 0-4 or 0,3,7")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listeners", type=int, default=200)
    ap.add_argument("--ratings", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0, help="one seed (ignored with --seeds)")
    ap.add_argument(
        "--seeds", type=_seeds, default=None, help="several seeds: 0-4 or 0,1,2 (each reported)"
    )
    args = ap.parse_args(argv)
    seeds = args.seeds if args.seeds is not None else [args.seed]
    t0 = time.perf_counter()
    runs = {seed: run_seed(seed, args.listeners, args.ratings) for seed in seeds}
    t_sim = time.perf_counter() - t0
    sessions = sum(int(r["sessions"]) for r in runs.values())  # type: ignore[call-overload]
    bad = sum(int(r["bad"]) for r in runs.values())  # type: ignore[call-overload]

    zero = ListenerProfile("zero", seed=1)
    for _ in range(args.ratings):
        spec = next_clip(zero)
        zero.rate(clip_id=spec["id"], tingles=0, relax=0)
    nz_rng = np.random.default_rng(seeds[0] + 1)
    nz = [
        run_thompson(
            make_listener(nz_rng, near_zero=True),
            args.ratings,
            10_000 + j,
            int(nz_rng.integers(2**31)),
        )
        for j in range(50)
    ]
    resp = [
        run_thompson(make_listener(nz_rng), args.ratings, 20_000 + j, int(nz_rng.integers(2**31)))
        for j in range(50)
    ]

    print(
        f"personalise: {args.listeners} simulated listeners, {args.ratings} ratings each, "
        f"rating noise sd 1.5, seed{'s' if len(seeds) > 1 else ''} "
        + ",".join(str(s) for s in seeds)
    )
    means: dict[str, list[float]] = {}
    for seed, run in runs.items():
        if len(seeds) > 1:
            print(f"-- seed {seed}")
        print(f"{'strategy':<18} {'mean top-3 overlap':>19} {'95% CI':>17}")
        for name, vals in run["overlap"].items():  # type: ignore[attr-defined]
            a = np.asarray(vals)
            half = 1.96 * a.std(ddof=1) / np.sqrt(len(a))
            means.setdefault(name, []).append(float(a.mean()))
            print(f"{name:<18} {a.mean():>19.3f}   [{a.mean() - half:.3f}, {a.mean() + half:.3f}]")
    if len(seeds) > 1:
        print(f"-- over {len(seeds)} seeds")
        print(f"{'strategy':<18} {'mean':>6} {'min':>6} {'max':>6}   per seed")
        for name, m in means.items():
            per = " ".join(f"{v:.3f}" for v in m)
            print(f"{name:<18} {np.mean(m):>6.3f} {min(m):>6.3f} {max(m):>6.3f}   {per}")
    # the goal is on the mean overlap; several seeds estimate that mean over more
    # listeners (each seed's own mean over 200 has a 95 % half-width of about 0.03)
    met = [v >= GOAL for v in means[MODEL]]
    overall = float(np.mean(means[MODEL]))
    print(
        f"goal mean overlap >= {GOAL} after {args.ratings} ratings: "
        + ("met" if overall >= GOAL else "NOT met")
        + (
            f" (mean over {len(seeds)} seeds × {args.listeners} listeners {overall:.3f}; "
            f"{sum(met)} of {len(met)} seeds at or above it on their own)"
            if len(seeds) > 1
            else ""
        )
    )
    print(
        f"sessions built: {sessions}; with an avoided family: {bad} "
        f"({100.0 * bad / max(sessions, 1):.1f} %)"
    )
    print(f"all-zero listener classed as: {zero.sensitivity().level}")
    print(
        f"near-zero listeners classed non-responder: "
        f"{sum(p.sensitivity().non_responder for p in nz)}/{len(nz)}; responders classed "
        f"non-responder: {sum(p.sensitivity().non_responder for p in resp)}/{len(resp)}"
    )
    print(f"time: {time.perf_counter() - t0:.1f} s (simulation and sessions {t_sim:.1f} s)")
    return 0 if overall >= GOAL and bad == 0 and zero.sensitivity().non_responder else 1


if __name__ == "__main__":
    sys.exit(main())
