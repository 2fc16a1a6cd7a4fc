"""Projections of the event log: the pure fold, the PIT index and the `Catalog` read API."""

from projections.catalog import Catalog
from projections.engine_tables import engine_tables, polars_frames, register_duckdb
from projections.errors import (
    AmbiguousNameError,
    CatalogError,
    InvalidTableError,
    NaiveColumnError,
    NoCatalogError,
    RoundingError,
    UnknownNameError,
    UnknownSchemeError,
    UnknownSymbolError,
)
from projections.join.partition import PartitionJoin
from projections.model import VERSION_SCHEMA, Exchange, Instrument
from projections.names.schemes import SCHEMES, Name

__all__ = [
    "SCHEMES",
    "VERSION_SCHEMA",
    "AmbiguousNameError",
    "Catalog",
    "CatalogError",
    "Exchange",
    "Instrument",
    "InvalidTableError",
    "NaiveColumnError",
    "Name",
    "NoCatalogError",
    "PartitionJoin",
    "RoundingError",
    "UnknownNameError",
    "UnknownSchemeError",
    "UnknownSymbolError",
    "engine_tables",
    "polars_frames",
    "register_duckdb",
]
