"""Projections of the event log: the pure fold, the PIT index and the `Catalog` read API."""

from projections.catalog import Catalog
from projections.errors import (
    CatalogError,
    InvalidTableError,
    NaiveColumnError,
    RoundingError,
    UnknownSymbolError,
)
from projections.model import VERSION_SCHEMA, Exchange, Instrument

__all__ = [
    "VERSION_SCHEMA",
    "Catalog",
    "CatalogError",
    "Exchange",
    "Instrument",
    "InvalidTableError",
    "NaiveColumnError",
    "RoundingError",
    "UnknownSymbolError",
]
