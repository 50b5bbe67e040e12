"""Every trigger variant is recognised as itself by YAMNet (AudioSet), the judge.

Each variant is rendered for 30 s exactly as ``susurrus render --trigger`` does
(no fades, −23 LUFS), on 3 seeds × 2 parameter settings (the defaults, and the
module's ``JUDGE_SETTINGS``). A render passes when its family — or, for the
sibling groups YAMNet cannot separate, its group — scores higher than every
family outside it, and one of the family's own labels is in its top 5. At most
one render per family may miss. The confusion matrix is printed and written to
``test-output/recognition.txt``.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pytest

from susurrus import triggers
from susurrus.families import FAMILY_IDS, get_family, siblings
from susurrus.render import SessionStream
from susurrus.scene import single_trigger_scene
from susurrus.tagger import get_tagger

pytestmark = pytest.mark.slow
SEEDS = (0, 1, 2)
SECONDS = 30.0
RESULT_DIR = Path(__file__).resolve().parent.parent / "test-output" / "recognition"


def judge_settings(family: str, variant: str) -> dict[str, float]:
    mod = importlib.import_module(triggers.get(family).__module__)
    return dict(getattr(mod, "JUDGE_SETTINGS", {}).get(variant, {}))


def render(family: str, variant: str, seed: int, params: dict[str, float]) -> np.ndarray:
    scene = single_trigger_scene(family, variant, params=params, duration_s=SECONDS, seed=seed)
    return np.concatenate(list(SessionStream(scene)), axis=1)


def verdict(family: str, y: np.ndarray, sr: int) -> dict:
    tagger = get_tagger()
    mean = tagger.mean_scores(y, sr)
    fam = tagger.families_from_mean(mean)
    top10 = tagger.top_from_mean(mean, 10)
    group = siblings(family)
    inside = max(fam[f] for f in group)
    outside_f = max((f for f in fam if f not in group), key=lambda f: fam[f])
    own_labels = set(get_family(family).labels)
    return {
        "winner": max(fam, key=lambda f: fam[f]),
        "passes_family": inside > fam[outside_f],
        "own_top5": any(label in own_labels for label, _ in top10[:5]),
        "top10": top10,
        "scores": fam,
        "best_outside": (outside_f, fam[outside_f]),
    }


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_family_is_recognised(family: str) -> None:
    if family not in triggers.available():
        pytest.fail(f"{family} is not registered")
    rows = []
    for variant in get_family(family).variants:
        settings = [{}, judge_settings(family, variant)]
        for k, params in enumerate(settings):
            for seed in SEEDS:
                v = verdict(family, render(family, variant, seed, params), 48000)
                v.update(variant=variant, setting=k, seed=seed)
                if family == "whisper":  # a whisper is heard as whispering or breathing
                    v["whisper_top10"] = any(lb in ("Whispering", "Breathing") for lb, _ in v["top10"])
                rows.append(v)
    write_row(family, rows)
    misses = [r for r in rows if not (r["passes_family"] and r["own_top5"]
                                      and r.get("whisper_top10", True))]
    lines = [f"{family}:{r['variant']} setting {r['setting']} seed {r['seed']}: "
             f"winner {r['winner']}, best outside {r['best_outside'][0]} "
             f"{r['best_outside'][1]:.3f}, top5 {[lb for lb, _ in r['top10'][:5]]}" for r in misses]
    assert len(misses) <= 1, f"{len(misses)} of {len(rows)} renders missed:\n" + "\n".join(lines)


def write_row(family: str, rows: list[dict]) -> None:
    """One row of the confusion matrix: how often each family won for this one's renders."""
    counts = dict.fromkeys(FAMILY_IDS, 0)
    for r in rows:
        counts[r["winner"]] += 1
    RESULT_DIR.mkdir(parents=True, exist_ok=True)
    (RESULT_DIR / f"{family}.json").write_text(json.dumps(counts))
