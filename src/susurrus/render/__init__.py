"""Rendering: layers, the master chain, streaming sessions and file renders."""

from .engine import (
    Calibration,
    RenderReport,
    SessionStream,
    build_layers,
    calibrate,
    render_to_file,
)
from .master import MasterChain, MomentaryLeveler, TruePeakLimiter, fade_gains

__all__ = [
    "Calibration",
    "MasterChain",
    "MomentaryLeveler",
    "RenderReport",
    "SessionStream",
    "TruePeakLimiter",
    "build_layers",
    "calibrate",
    "fade_gains",
    "render_to_file",
]
