"""Errors of the journal (all derive from :class:`susurrus.errors.SusurrusError`)."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import SusurrusError


class JournalError(SusurrusError):
    """A journal entry cannot be recorded as given."""


class SleepDiaryError(JournalError, ValueError):
    """Sleep-diary answers that cannot all be true (waking before falling asleep, > 24 h …)."""


class HRImportError(JournalError, ValueError):
    """A heart-rate file has malformed rows; nothing was imported.

    ``problems`` lists ``(line_number, message)`` pairs, line numbers counted
    from 1 as an editor shows them (the header is line 1).
    """

    def __init__(self, source: str, problems: Sequence[tuple[int, str]]) -> None:
        self.source = source
        self.problems = list(problems)
        shown = "; ".join(f"line {n}: {m}" for n, m in self.problems[:10])
        more = f" (and {len(self.problems) - 10} more)" if len(self.problems) > 10 else ""
        super().__init__(
            f"{source}: {len(self.problems)} malformed row(s), nothing imported — {shown}{more}"
        )
