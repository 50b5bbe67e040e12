"""argparse argument types shared by every command line (the edges only).

Each turns a bad value into an ``argparse.ArgumentTypeError`` naming the option,
the value and what is allowed, so argparse prints it as one usage line.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .errors import ParameterError
from .units import parse_duration


def duration(name: str) -> Callable[[str], float]:
    """``30s``, ``45m``, ``8h`` … in seconds (see :func:`susurrus.units.parse_duration`)."""

    def parse(text: str) -> float:
        try:
            return parse_duration(text, name=name)
        except ParameterError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def rating(name: str, *, integer: bool = True) -> Callable[[str], float]:
    """A 0–10 rating for ``--name``: a whole number, or any number with ``integer=False``."""

    def parse(text: str) -> float:
        try:
            v: float = int(text) if integer else float(text)
        except ValueError:
            kind = "a whole number" if integer else "a number"
            raise argparse.ArgumentTypeError(f"--{name} {text!r}: {kind} from 0 to 10") from None
        if not 0 <= v <= 10:
            raise argparse.ArgumentTypeError(f"--{name}={text} is out of range; allowed 0 to 10")
        return v

    return parse
