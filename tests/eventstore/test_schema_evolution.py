"""A log written before a column was added keeps working: reads upcast, appends evolve it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from deltalake import DeltaTable, write_deltalake

from eventstore import EventLog, InstrumentChanged, InstrumentListed, verify_chain
from eventstore.encoding.schema import ADDED, SCHEMA
from eventstore.encoding.table import to_table
from projections import Catalog

if TYPE_CHECKING:
    from pathlib import Path

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _old_log(root: Path, dropped: tuple[str, ...] = ADDED) -> None:
    """Write a one-event log whose table predates the `dropped` columns (all `ADDED`)."""
    scratch = EventLog.open(root / "scratch")
    scratch.append(
        [
            InstrumentListed(
                instrument_id="i1", symbol="X:A", effective_at=T0, source="t", status="trading"
            )
        ]
    )
    old = to_table(scratch.events()).drop_columns(list(dropped))
    write_deltalake(str(root / "old" / "events"), old)


def test_old_table_reads_added_columns_as_null(tmp_path: Path) -> None:
    """Reading a column the table never had gives nulls, not an error."""
    _old_log(tmp_path)
    log = EventLog.open(tmp_path / "old")
    rows = log.read(["position", "venue_status"])
    assert rows.num_rows == 1
    assert rows["venue_status"].null_count == 1
    assert verify_chain(log.read()) == []


def test_append_to_old_table_adds_the_column_and_keeps_the_chain(tmp_path: Path) -> None:
    """The first append after an upgrade evolves the table; old events stay intact."""
    _old_log(tmp_path)
    log = EventLog.open(tmp_path / "old")
    change = InstrumentChanged(
        instrument_id="i1",
        symbol="X:A",
        effective_at=T0,
        source="t",
        changes={"venue_status": "BREAK"},
    )
    assert log.append([change]).appended == 1
    names = DeltaTable(str(tmp_path / "old" / "events")).schema().to_arrow().names
    assert "venue_status" in names
    assert log.read(["position", "venue_status"])["venue_status"].to_pylist() == [None, "BREAK"]
    assert verify_chain(log.read()) == []


def test_old_files_read_one_by_one_after_the_table_evolved(tmp_path: Path) -> None:
    """File-by-file reads (the audit's) see nulls in files older than a column."""
    _old_log(tmp_path)
    log = EventLog.open(tmp_path / "old")
    change = InstrumentChanged(
        instrument_id="i1", symbol="X:A", effective_at=T0, source="t", changes={"status": "halted"}
    )
    log.append([change])
    parts = list(log.read_files(["position", "venue_status"]))
    assert sorted(v for part in parts for v in part["position"].to_pylist()) == [0, 1]
    assert all(part["venue_status"].null_count == part.num_rows for part in parts)
    fresh = EventLog.open(tmp_path / "old2")
    assert list(fresh.read_files(["venue_status"])) == []
    _old_log(tmp_path / "again")
    untouched = EventLog.open(tmp_path / "again" / "old")
    (only,) = list(untouched.read_files(["position", "venue_status"]))
    assert only["venue_status"].to_pylist() == [None]


def test_the_dataset_of_an_old_table_has_every_column(tmp_path: Path) -> None:
    """`EventLog.dataset` reads a column the table never had as null; no log: no rows."""
    _old_log(tmp_path)
    dataset = EventLog.open(tmp_path / "old").dataset()

    assert dataset.schema.names == SCHEMA.names
    assert dataset.to_table(columns=["venue_status"])["venue_status"].to_pylist() == [None]
    assert EventLog.open(tmp_path / "none").dataset().count_rows() == 0


def test_contract_and_limit_fields_evolve_like_venue_status(tmp_path: Path) -> None:
    """A log from before `settle ... funding_interval` reads them as null, then gains them."""
    _old_log(tmp_path)
    log = EventLog.open(tmp_path / "old")
    added = ["settle", "inverse", "max_qty", "max_leverage", "funding_interval"]
    before = log.read(["position", *added])
    assert all(before[name].null_count == 1 for name in added)
    change = InstrumentChanged(
        instrument_id="i1",
        symbol="X:A",
        effective_at=T0,
        source="t",
        changes={
            "settle": "USDT",
            "inverse": False,
            "max_qty": Decimal("1000"),
            "max_leverage": Decimal("50"),
            "funding_interval": Decimal("4"),
        },
    )
    assert log.append([change]).appended == 1
    names = DeltaTable(str(tmp_path / "old" / "events")).schema().to_arrow().names
    assert set(added) <= set(names)
    after = log.read(["position", *added]).sort_by("position")
    assert after["inverse"].to_pylist() == [None, False]
    assert after["funding_interval"].to_pylist() == [None, Decimal("4")]
    assert verify_chain(log.read()) == []
    found = Catalog.open(tmp_path / "old").get("X:A", as_of=T0)
    assert found is not None
    assert (found.settle, found.inverse, found.max_leverage) == ("USDT", False, Decimal("50"))


def test_option_fields_evolve_like_the_contract_fields(tmp_path: Path) -> None:
    """A log from before `strike option_type underlying` reads them as null, then gains
    them on its next append; the strike stays an exact decimal. The table is one the
    release before them wrote: every other added column present."""
    _old_log(tmp_path, ("strike", "option_type", "underlying", "root"))
    log = EventLog.open(tmp_path / "old")
    added = ["strike", "option_type", "underlying"]
    assert set(added) <= set(ADDED)
    before = log.read(["position", *added])
    assert all(before[name].null_count == 1 for name in added)
    change = InstrumentChanged(
        instrument_id="i1",
        symbol="X:A",
        effective_at=T0,
        source="t",
        changes={"strike": Decimal("92000.5"), "option_type": "call", "underlying": "BTC-USD"},
    )
    assert log.append([change]).appended == 1
    names = DeltaTable(str(tmp_path / "old" / "events")).schema().to_arrow().names
    assert names[-4:] == [*added, "root"]  # added columns come last, in the order they were added
    after = log.read(["position", *added]).sort_by("position")
    assert after["strike"].to_pylist() == [None, Decimal("92000.5")]
    assert after["option_type"].to_pylist() == [None, "call"]
    assert verify_chain(log.read()) == []
    found = Catalog.open(tmp_path / "old").get("X:A", as_of=T0)
    assert found is not None
    assert (found.strike, found.option_type, found.underlying) == (
        Decimal("92000.5"),
        "call",
        "BTC-USD",
    )


def test_root_evolves_on_a_log_that_has_the_contract_fields(tmp_path: Path) -> None:
    """A log written with `settle ... funding_interval` but before `root` (this release's
    logs) reads `root` as null and gains its column on its next append."""
    scratch = EventLog.open(tmp_path / "scratch")
    listing = InstrumentListed(
        instrument_id="i1", symbol="CME_MINI:ESZ2024", effective_at=T0, source="t", settle="USD"
    )
    scratch.append([listing])
    write_deltalake(
        str(tmp_path / "old" / "events"), to_table(scratch.events()).drop_columns(["root"])
    )
    log = EventLog.open(tmp_path / "old")
    assert log.read(["position", "root"])["root"].to_pylist() == [None]
    change = InstrumentChanged(
        instrument_id="i1",
        symbol="CME_MINI:ESZ2024",
        effective_at=T0,
        source="t",
        changes={"root": "ES"},
    )
    assert log.append([change]).appended == 1
    assert log.read(["position", "root"]).sort_by("position")["root"].to_pylist() == [None, "ES"]
    assert verify_chain(log.read()) == []
    found = Catalog.open(tmp_path / "old").get("CME_MINI:ESZ2024", as_of=T0)
    assert found is not None
    assert (found.settle, found.root) == ("USD", "ES")
