"""The one batch engine: folders and corpora of recordings analysed on Dask.

``analyze_corpus(SOURCE, DATASET)`` runs :func:`susurrus.analysis.analyze_file` on
every file of SOURCE (a folder, a text file of paths, or a glob) — on a LocalCluster
by default, on any Dask scheduler when given its address — and journals each record
as it finishes, so runs resume and never duplicate. ``summarize`` /
``write_summary`` turn a dataset into prevalence tables, distributions, plots and a
flat CSV for pandas or R. The names load on first use, so the ``corpus`` command
registers without importing the analysis stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .dataset import Dataset, load_records
    from .engine import CorpusRun, Progress, analyze_corpus, open_client
    from .sources import AUDIO_EXTENSIONS, CorpusError, collect
    from .summary import flat_row, summarize, write_summary

__all__ = [
    "AUDIO_EXTENSIONS",
    "CorpusError",
    "CorpusRun",
    "Dataset",
    "Progress",
    "analyze_corpus",
    "collect",
    "flat_row",
    "load_records",
    "open_client",
    "summarize",
    "write_summary",
]

if not TYPE_CHECKING:  # type checkers see the imports above
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            ".dataset": ("Dataset", "load_records"),
            ".engine": ("CorpusRun", "Progress", "analyze_corpus", "open_client"),
            ".sources": ("AUDIO_EXTENSIONS", "CorpusError", "collect"),
            ".summary": ("flat_row", "summarize", "write_summary"),
        },
    )
