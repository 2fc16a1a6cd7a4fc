"""Errors raised by the projections.

CatalogError
├── UnknownSymbolError (LookupError)     no instrument ever held that symbol or id
├── NoCatalogError (LookupError)         a root whose log holds no commit
├── IndexStateError                      a persisted index that cannot be used (rebuilt)
├── InvalidTableError (ValueError)       a table that cannot be read (a column missing or mistyped)
│   └── NaiveColumnError (TypeError)     a timestamp column without a time zone
└── RoundingError (ValueError)           a price or quantity that cannot be put on its grid
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

    def __init__(self, path: str, reason: str, *, missing: bool = False) -> None:
        self.path = path
        self.reason = reason
        self.missing = missing  # nothing was saved yet: not damage
        super().__init__(f"index at {path} cannot be used: {reason}")


class InvalidTableError(CatalogError, ValueError):
    """A table given to the catalog lacks a column, or a column has the wrong type."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"{what} {reason}")


class NaiveColumnError(InvalidTableError, TypeError):
    """A timestamp column has no time zone, and the caller did not say to read it as UTC."""

    def __init__(self, column: str, type_: object, hint: str = "pass assume_utc=True") -> None:
        self.column = column
        super().__init__(
            f"column {column!r}",
            f"is {type_} without a time zone; {hint} to read it as UTC, "
            "or give the column a time zone",
        )


class RoundingError(CatalogError, ValueError):
    """A price or quantity cannot be put on the grid of the instrument at that time."""

    def __init__(self, symbol: str, value: object, reason: str) -> None:
        self.symbol = symbol
        self.value = value
        self.reason = reason
        super().__init__(f"{symbol}: cannot round {value}: {reason}")


class NoCatalogError(CatalogError, LookupError):
    """A root holds no catalog: its log has no commit (a wrong path, or nothing appended yet)."""

    def __init__(self, root: str) -> None:
        self.root = root
        super().__init__(f"no catalog at {root}: its log ({root}/events) holds no commit yet")
