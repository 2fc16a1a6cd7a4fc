"""The log and the version table as tables of SQL and dataframe engines, with no extension.

DuckDB's `delta_scan` needs its `delta` extension, which a machine without network access
(or a DuckDB release with no extension build) cannot load. Arrow needs none: the log is
handed over as an Arrow dataset of exactly the data files the Delta log lists (column and
filter pushdown, nothing read until queried), and the version table in the SCD2 layout
(`Catalog.scd2`) as in-memory Arrow tables, zero-copy. Never read `<root>/events` as a
folder of Parquet files: after a compaction it holds every event twice until vacuum.

Neither DuckDB nor Polars is imported here unless asked for (`polars_frames`); neither is a
dependency of the package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from projections.catalog import Catalog

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

    import pyarrow as pa
    import pyarrow.dataset

#: The names the tables are registered under: the log, and the SCD2 versions.
TABLES: Final = ("events", "symbols", "exchanges")


def _catalog(source: Catalog | str | os.PathLike[str]) -> Catalog:
    return source if isinstance(source, Catalog) else Catalog.open(source)


def engine_tables(
    source: Catalog | str | os.PathLike[str], *, known_at: object = None
) -> dict[str, pa.Table | pyarrow.dataset.Dataset]:
    """Return `events` (the log, a lazy Arrow dataset), `symbols` and `exchanges` (every
    version in the SCD2 layout, as known at `known_at`; Arrow tables) of a catalog or root."""
    catalog = _catalog(source)
    symbols, exchanges = catalog.scd2(known_at)
    return {"events": catalog.log.dataset(), "symbols": symbols, "exchanges": exchanges}


def register_duckdb(
    connection: Any,
    source: Catalog | str | os.PathLike[str],
    *,
    known_at: object = None,
    names: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Register `events`, `symbols` and `exchanges` (see `engine_tables`) as views of a
    DuckDB connection (`names` renames them: `{"events": "log"}`); return the names used.

    The views read the Arrow data in place: no copy, no extension, any DuckDB version.
    Queries see the log as it was when this was called; call it again to see later commits.
    """
    used = {table: (names or {}).get(table, table) for table in TABLES}
    for table, data in engine_tables(source, known_at=known_at).items():
        connection.register(used[table], data)
    return used


def polars_frames(
    source: Catalog | str | os.PathLike[str], *, known_at: object = None
) -> dict[str, Any]:
    """Return `events`, `symbols` and `exchanges` (see `engine_tables`) as Polars LazyFrames.

    `events` scans the Arrow dataset lazily (filters and columns pushed down); the version
    tables wrap the Arrow tables without copying. Needs Polars (not a dependency).
    """
    import polars as pl  # only when called: Polars is not a dependency

    tables = engine_tables(source, known_at=known_at)
    frames = {"events": pl.scan_pyarrow_dataset(tables.pop("events"))}
    frames.update({name: pl.DataFrame(table).lazy() for name, table in tables.items()})
    return frames
