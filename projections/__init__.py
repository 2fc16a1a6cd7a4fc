"""Projections of the event log: the pure fold, the PIT index and the `Catalog` read API."""

from projections.catalog import Catalog
from projections.engine_tables import engine_tables, polars_frames, register_duckdb
from projections.errors import (
    CatalogError,
    InvalidTableError,
    NaiveColumnError,
    NoCatalogError,
    RoundingError,
    UnknownSymbolError,
)
from projections.join.partition import PartitionJoin
from projections.model import VERSION_SCHEMA, Exchange, Instrument

__all__ = [
    "VERSION_SCHEMA",
    "Catalog",
    "CatalogError",
    "Exchange",
    "Instrument",
    "InvalidTableError",
    "NaiveColumnError",
    "NoCatalogError",
    "PartitionJoin",
    "RoundingError",
    "UnknownSymbolError",
    "engine_tables",
    "polars_frames",
    "register_duckdb",
]
