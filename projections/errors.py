"""Errors raised by the projections.

CatalogError
├── UnknownSymbolError (LookupError)     no instrument ever held that symbol or id
│   └── UnknownNameError                 ... nor that name in a scheme (with suggestions)
├── AmbiguousNameError (LookupError)     two instruments under one name at one instant
├── UnknownSchemeError (ValueError)      a naming scheme the catalog does not know
├── NoCatalogError (LookupError)         a root whose log holds no commit
├── IndexStateError                      a persisted index that cannot be used (rebuilt)
├── InvalidTableError (ValueError)       a table that cannot be read (a column missing or mistyped)
│   └── NaiveColumnError (TypeError)     a timestamp column without a time zone
└── RoundingError (ValueError)           a price or quantity that cannot be put on its grid
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


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


class UnknownNameError(UnknownSymbolError):
    """No instrument ever held a name in a scheme; the message suggests the closest ones.

    `suggested` holds them as (exchange, name) pairs, closest first; `suggestions` the
    names alone, once each; the message shows the exchange where the name needs it.
    """

    def __init__(
        self,
        name: str,
        scheme: str,
        exchange: str | None,
        suggested: Sequence[tuple[str, str]],
        qualified: bool = True,
    ) -> None:
        self.key = name
        self.name = name
        self.scheme = scheme
        self.exchange = exchange
        self.suggested = list(suggested)
        self.suggestions = list(dict.fromkeys(shown for _, shown in suggested))
        where = f" on {exchange}" if exchange else ""
        said = [repr(n) if qualified else f"{n!r} ({e})" for e, n in suggested]
        closest = f"; closest: {', '.join(said)}" if said else ""
        CatalogError.__init__(
            self, f"no instrument has ever held the {scheme} name {name!r}{where}{closest}"
        )


class AmbiguousNameError(CatalogError, LookupError):
    """Two instruments held one name at one instant: the name alone does not say which."""

    def __init__(self, name: str, scheme: str, at: str, holders: list[str]) -> None:
        self.name = name
        self.scheme = scheme
        self.holders = holders
        hint = "" if scheme in ("tradingview", "nautilus") else "; give its exchange to choose one"
        super().__init__(
            f"the {scheme} name {name!r} was held by {len(holders)} instruments at {at}: "
            f"{', '.join(holders)}{hint}"
        )


class UnknownSchemeError(CatalogError, ValueError):
    """A naming scheme the catalog does not know."""

    def __init__(self, scheme: object, known: list[str]) -> None:
        self.scheme = scheme
        super().__init__(f"unknown naming scheme {scheme!r}; known: {', '.join(known)}")
