"""Lazy package exports (PEP 562): a public name loads its submodule on first use.

Importing one light submodule (``susurrus.journal.cli``, ``susurrus.analysis.cli``) runs
its package's ``__init__``; when that re-exports from heavy submodules, building the
command-line parser would import SQLAlchemy, SciPy and the analysis stack for every
``susurrus render``. A package using this keeps its public names and its ``__all__``::

    if TYPE_CHECKING:  # the same names, for type checkers and readers
        from .core import Analysis, analyze_file

    __all__ = ["Analysis", "analyze_file"]

    if not TYPE_CHECKING:  # so that mypy still rejects names the package does not export
        __getattr__, __dir__ = lazy_exports(__name__, {".core": ("Analysis", "analyze_file")})

``from package import submodule`` keeps working: unknown names raise ``AttributeError``,
and the import system then loads the submodule.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return a package's ``__getattr__`` and ``__dir__`` for names living in submodules.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping of str to sequence of str
        Submodule (relative, e.g. ``".core"`` or ``"..scene.scripts"``) → the names it
        provides. A name is looked up once, then kept in the package's namespace.
    """
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | where.keys())

    return __getattr__, __dir__
