"""Errors raised by the projections.

CatalogError
├── UnknownSymbolError (LookupError)     no instrument ever held that symbol or id
└── IndexStateError                      a persisted index that cannot be used (rebuilt)
"""

from __future__ import annotations


class CatalogError(Exception):
    """Base of every error raised by `projections`."""


class UnknownSymbolError(CatalogError, LookupError):
    """No instrument ever held the symbol (or has the id) that was asked for."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"no instrument has ever held the symbol or id {key!r}")


class IndexStateError(CatalogError):
    """A persisted index is missing, stale or damaged; it is rebuilt from the log."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"index at {path} cannot be used: {reason}")
