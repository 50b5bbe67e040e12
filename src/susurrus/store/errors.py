"""Errors of the storage layer (all derive from :class:`susurrus.errors.SusurrusError`)."""

from __future__ import annotations

from ..errors import SusurrusError


class StoreError(SusurrusError):
    """The database cannot be opened, migrated or written."""


class ProfileNotFoundError(StoreError, LookupError):
    """No profile of that name exists."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"no profile named {name!r}; create one with `susurrus journal checkin --profile {name}`"
        )


class ProfileExistsError(StoreError):
    """A profile of that name exists already (import would overwrite it)."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"a profile named {name!r} exists already; delete it first "
            f"(`susurrus profile delete {name} --yes`) or import under another name (--as NAME)"
        )


class ExportFormatError(StoreError, ValueError):
    """An export file is not a Susurrus profile export, or is damaged."""
