"""scipy's compiled kernels, loaded straight from their extension modules.

Importing a scipy subpackage (``scipy.signal``, ``scipy.fft``, ``scipy.sparse`` …)
imports its Python layer too, and with it scipy's array-API layer
(``scipy._lib._array_api``, which imports ``numpy.testing`` and ``numpy.f2py``) and
often ``scipy.special``: tenths of a second and tens of MB in every process, before
a render's first sample. The few kernels the renderer calls are compiled modules
that depend on numpy alone; :func:`scipy_extension` loads one of them by file, under
its own module name, without running any package ``__init__``.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import scipy


def scipy_extension(subpackage: str, name: str) -> Any:
    """scipy's compiled module ``scipy.<subpackage>.<name>`` (``subpackage`` dotted,
    e.g. ``"fft._pocketfft"``), loaded without the package; ImportError when absent."""
    folder = os.path.join(os.path.dirname(scipy.__file__), *subpackage.split("."))
    full = f"scipy.{subpackage}.{name}"
    try:
        files = os.listdir(folder)
    except OSError as exc:
        raise ImportError(f"{full}: no folder {folder}") from exc
    for file in files:
        if file.startswith(name + ".") and file.endswith((".so", ".pyd")):
            spec = importlib.util.spec_from_file_location(full, os.path.join(folder, file))
            if spec is None or spec.loader is None:
                break
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise ImportError(f"{full} not found in {folder}")
