"""The log and the version tables in DuckDB and Polars through Arrow: no extension, and
exactly the Delta log's files (a compacted folder read as Parquet counts events twice)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as pa_ds
import pytest
from builders import day
from engine_history import write_history

from projections import Catalog, engine_tables, polars_frames, register_duckdb

if TYPE_CHECKING:
    from pathlib import Path

    from clock import Clock

    from eventstore import EventLog


@pytest.fixture
def compacted(log: EventLog, clock: Clock) -> EventLog:
    """The engine history, compacted (not vacuumed): its old files are still in the folder."""
    write_history(log, clock)
    log.compact()
    return log


def test_duckdb_sees_each_event_once_where_a_folder_read_sees_them_twice(
    compacted: EventLog, root: Path
) -> None:
    """`events` is the log as the Delta log lists it; the folder of Parquet files is not."""
    connection = duckdb.connect()
    register_duckdb(connection, root)
    folder = pa_ds.dataset(root / "events", format="parquet", exclude_invalid_files=True)

    counted = connection.execute("select count(*), count(distinct event_id) from events").fetchone()

    assert counted == (len(compacted), len(compacted))
    assert folder.count_rows() == 2 * len(compacted)


def test_duckdb_asks_the_version_table_what_pit_join_answers(
    compacted: EventLog, root: Path
) -> None:
    """A SQL lookup over `symbols` (valid_from <= T < valid_until) finds the version the
    catalog's join finds, with `known_at` honoured, under the names asked for."""
    connection = duckdb.connect()
    catalog = Catalog.open(root)
    used = register_duckdb(connection, catalog, known_at=day(7), names={"symbols": "versions"})
    ask = "select instrument_id, tick_size from versions where symbol = 'X:A'"
    when = " and valid_from <= $t and $t < valid_until"

    found = connection.execute(ask + when, {"t": day(4)}).fetchall()
    later = Catalog.open(root).pit_join(
        pa.table({"symbol": ["X:A"], "ts": pa.array([day(4)], pa.timestamp("us", "UTC"))}),
        fields=["tick_size"],
        known_at=day(7),
    )

    assert used == {"events": "events", "symbols": "versions", "exchanges": "exchanges"}
    assert found == [(later["instrument_id"][0].as_py(), later["tick_size"][0].as_py())]


def test_polars_frames_are_lazy_and_hold_the_same_tables(compacted: EventLog, root: Path) -> None:
    """`events` scans the dataset lazily; `symbols` and `exchanges` are the SCD2 tables."""
    frames = polars_frames(root)
    tables = engine_tables(root)

    assert all(isinstance(frame, pl.LazyFrame) for frame in frames.values())
    assert frames["events"].select(pl.len()).collect().item() == len(compacted)
    assert frames["events"].filter(pl.col("kind") == "EventRetracted").collect().height == 1
    symbols = tables["symbols"]
    assert frames["symbols"].collect().to_arrow().cast(symbols.schema) == symbols
    assert isinstance(tables["events"], pa_ds.Dataset)
