"""Shared test helpers: synthesised signals and an in-process CLI runner."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# derived-array cache (HRTF tables) in a directory of this test run, not the user's
os.environ.setdefault("SUSURRUS_CACHE_DIR", tempfile.mkdtemp(prefix="susurrus-test-cache-"))
OUTPUT_DIR = Path(__file__).resolve().parent.parent / "test-output"


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def run_cli(argv: Sequence[str]) -> CliResult:
    from susurrus.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse exits on --help and usage errors
            code = int(exc.code or 0)
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT_DIR.mkdir(exist_ok=True)
    return OUTPUT_DIR


def sine(freq_hz: float, duration_s: float, sr: int, amp: float = 1.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(round(duration_s * sr))) / sr
    y = (amp * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)
    return np.repeat(y[None, :], channels, axis=0)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Print the recognition confusion matrix (rows: rendered family, columns: winner)."""
    import json

    from susurrus.families import FAMILY_IDS

    if hasattr(session.config, "workerinput"):  # only the controller prints
        return
    rdir = OUTPUT_DIR / "recognition"
    rows = {p.stem: json.loads(p.read_text()) for p in sorted(rdir.glob("*.json"))} if rdir.is_dir() else {}
    if not rows:
        return
    lines = ["YAMNet confusion matrix (rows: rendered family; columns: family scored highest)",
             f"{'':<14}" + "".join(f"{f[:6]:>7}" for f in FAMILY_IDS)]
    for fam in FAMILY_IDS:
        if fam in rows:
            lines.append(f"{fam:<14}" + "".join(f"{rows[fam].get(f, 0):>7}" for f in FAMILY_IDS))
    text = "\n".join(lines)
    (OUTPUT_DIR / "recognition.txt").write_text(text + "\n")
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.write_line("")
        for line in lines:
            tr.write_line(line)
