"""`universe(coded=True)`: the fold's rows, dictionary-encoded; kept answers never go stale."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import pyarrow as pa
from builders import changed, day, delisted, listed, renamed
from clock import Clock
from pit_oracle import expected_universe, table_rows

from eventstore import EventLog
from projections import VERSION_SCHEMA, Catalog
from projections.index.fold_arrays import STORE_FIELDS
from projections.index.universe import UNIVERSE_SCHEMA

if TYPE_CHECKING:
    from pathlib import Path

INSTANTS = [day(n) for n in range(-1, 7)]


def _catalog(root: Path) -> tuple[EventLog, Catalog]:
    clock = Clock(day(0, 1))
    log = EventLog.open(root, clock=clock)
    log.append(
        [
            listed("I1", "X:A", day(0), tick_size="0.01", status="trading", settle="USDT"),
            listed("I2", "X:B", day(1), tick_size="5", status="halted"),
            listed("I3", "Y:C", day(1), status="trading", settle="BTC", inverse=True),
        ]
    )
    clock.set(day(2))
    log.append(
        [
            changed("I1", "X:A", day(2), tick_size="0.1", status="halted"),
            renamed("I3", "Y:C", "Y:D", day(3)),
            delisted("I2", "X:B", day(4)),
        ]
    )
    return log, Catalog.open(root)


def test_coded_rows_are_the_folds_and_plain_ones_too(tmp_path: Path) -> None:
    """At every instant, with and without inactive rows: the same rows either way."""
    log, catalog = _catalog(tmp_path)
    for at in INSTANTS:
        for inactive in (False, True):
            want = expected_universe(log.events(), at, None, inactive=inactive)
            coded = catalog.universe(at, include_inactive=inactive, coded=True)
            plain = catalog.universe(at, include_inactive=inactive)
            assert coded.schema == UNIVERSE_SCHEMA
            assert plain.schema == VERSION_SCHEMA
            assert Counter(table_rows(coded)) == want, (at, inactive)
            assert Counter(table_rows(plain)) == want, (at, inactive)
            decoded = coded.cast(VERSION_SCHEMA)
            assert decoded.sort_by("instrument_id").equals(plain.sort_by("instrument_id"))


def test_filters_work_on_coded_columns(tmp_path: Path) -> None:
    """tradable, settle and inverse select the same instruments, coded or not."""
    _, catalog = _catalog(tmp_path)
    for at in INSTANTS:
        for options in ({"tradable": True}, {"settle": "BTC"}, {"inverse": True}):
            coded = catalog.universe(at, coded=True, **options)
            plain = catalog.universe(at, **options)
            assert sorted(coded["instrument_id"].to_pylist()) == sorted(
                plain["instrument_id"].to_pylist()
            ), (at, options)
    tradable = catalog.universe(day(1), tradable=True, coded=True)["instrument_id"]
    assert sorted(tradable.to_pylist()) == ["I1", "I3"]


def test_a_kept_answer_goes_when_the_log_changes(tmp_path: Path) -> None:
    """The present's answer is kept between commits, and a commit is seen at once."""
    log, catalog = _catalog(tmp_path)
    first = catalog.universe(day(9))
    assert catalog.universe(day(10)) is first  # both in the present: one kept answer
    assert catalog.universe(day(3)) is not first  # a past instant is its own answer
    log.append([listed("I4", "Z:E", day(9, 12))])
    later = catalog.universe(day(10))
    assert "I4" in later["instrument_id"].to_pylist()
    assert "I4" not in catalog.universe(day(9))["instrument_id"].to_pylist()
    want = expected_universe(log.events(), day(10), None)
    assert Counter(table_rows(catalog.universe(day(10), coded=True))) == want


def test_null_only_fields_are_null_columns(tmp_path: Path) -> None:
    """A field no event ever set is an all-null column of its type, coded or not."""
    _, catalog = _catalog(tmp_path)
    for coded in (False, True):
        table = catalog.universe(day(5), include_inactive=True, coded=coded)
        assert table["sector"].null_count == table.num_rows
        assert table.num_rows == 3
    assert set(STORE_FIELDS) <= set(UNIVERSE_SCHEMA.names)
    assert pa.types.is_dictionary(UNIVERSE_SCHEMA.field("symbol").type)
