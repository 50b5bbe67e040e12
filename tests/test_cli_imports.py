"""Building the parser imports nothing heavy: the store, the web app and the analysis stack
load only when their own command runs.

Import time is on the critical path of every ``susurrus render``, and whatever is imported
stays resident in the render and in the workers it forks. Each check runs in a fresh
interpreter, so what other tests imported does not count.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

# not needed to build the parser or to parse a command line (a render loads scipy, scenes
# and the engine when it runs, after parsing)
HEAVY = (
    "sqlalchemy",
    "alembic",
    "fastapi",
    "starlette",
    "uvicorn",
    "onnxruntime",
    "dask",
    "distributed",
    "pandas",
    "matplotlib",
    "scipy",
    "pydantic",
    "susurrus.store",
    "susurrus.web",
    "susurrus.api.app",
    "susurrus.journal.checkins",
    "susurrus.journal.insights",
    "susurrus.analysis.core",
    "susurrus.batch.engine",
    "susurrus.profile.discovery",
    "susurrus.tagger",
    "susurrus.scene",
    "susurrus.render",
)

PARSE_ONLY = """
import json, sys
from susurrus.cli import build_parser
parser = build_parser()
after_build = sorted(sys.modules)
args = parser.parse_args(json.loads(sys.argv[1]))
print(json.dumps({"build": after_build, "parse": sorted(sys.modules), "func": args.func.__name__}))
"""


def _loaded(argv: list[str]) -> dict[str, list[str]]:
    r = subprocess.run(
        [sys.executable, "-c", PARSE_ONLY, json.dumps(argv)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    out: dict[str, list[str]] = json.loads(r.stdout)
    return out


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


@pytest.mark.parametrize(
    "argv",
    [
        ["render", "--preset", "relax", "--duration", "5s", "-o", "x.flac"],
        ["render", "--trigger", "tapping:glass", "--param", "tempo_bpm=90", "-o", "taps.wav"],
        ["play", "--preset", "sleep", "--sleep-after", "30m"],
        ["presets", "--json"],
        ["triggers"],
        ["scene", "share", "my.toml"],
    ],
)
def test_building_the_parser_and_parsing_imports_nothing_heavy(argv: list[str]) -> None:
    loaded = _loaded(argv)
    assert _heavy(loaded["build"]) == [], "build_parser() imported them"
    assert _heavy(loaded["parse"]) == [], f"parsing {argv} imported them"
    assert loaded["func"].startswith("cmd_")
    # `serve` and `accounts` register from the API package's light half: no app, no store
    api = {m for m in loaded["parse"] if m == "susurrus.api" or m.startswith("susurrus.api.")}
    assert api <= {"susurrus.api", "susurrus.api.server", "susurrus.api.settings"}


# what running these commands never needs (dask included: FFTW is loaded without the
# pyfftw package, whose __init__ imports dask.array)
NEVER = (
    "sqlalchemy",
    "dask",
    "distributed",
    "alembic",
    "fastapi",
    "starlette",
    "uvicorn",
    "onnxruntime",
    "pandas",
    "matplotlib",
    "susurrus.store",
    "susurrus.web",
    "susurrus.api.app",
    "susurrus.journal.checkins",
    "susurrus.analysis.core",
    "susurrus.batch.engine",
    "susurrus.tagger",
)

RUN = """
import contextlib, io, json, sys
from susurrus.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(json.loads(sys.argv[1]))
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["render", "--trigger", "noise:pink", "--duration", "1s", "-o", "{tmp}/n.flac", "--json"],
        ["presets", "--json"],
        ["triggers", "--json"],
    ],
)
def test_running_render_presets_triggers_imports_no_store_web_or_analysis(argv, tmp_path) -> None:
    argv = [a.format(tmp=tmp_path) for a in argv]
    r = subprocess.run(
        [sys.executable, "-c", RUN, json.dumps(argv)], capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.splitlines()[-1])
    assert out["code"] == 0
    assert [m for m in out["modules"] if any(m == n or m.startswith(n + ".") for n in NEVER)] == []


# packages whose public names load from their submodules on first use (PEP 562)
LAZY_PACKAGES = ("susurrus.analysis", "susurrus.batch", "susurrus.journal", "susurrus.profile")


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_lazy_packages_still_export_every_public_name(package: str) -> None:
    mod = importlib.import_module(package)
    for name in mod.__all__:
        assert getattr(mod, name) is not None, name
        assert name in dir(mod)
    with pytest.raises(AttributeError):
        _ = mod.no_such_name  # unknown names stay errors, and `from pkg import submodule` works
