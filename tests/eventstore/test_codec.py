"""The columnar codec: rows round-trip to events; rows it cannot read fail loudly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from builders import T0, changed, exchange_changed, exchange_listed, listed, retracted
from hypothesis import given
from hypothesis import strategies as st

from eventstore import (
    INSTRUMENT_FIELDS,
    CorruptEventError,
    Event,
    InstrumentChanged,
    InstrumentDelisted,
    InstrumentRenamed,
    UnknownEventKindError,
    UnsupportedSchemaError,
    compute_event_id,
    compute_hash,
)
from eventstore.encoding.codec import decode_row, from_table
from eventstore.encoding.schema import SCHEMA, SCHEMA_VERSION
from eventstore.encoding.table import to_table
from eventstore.model.events import DECIMAL_FIELDS, GENESIS_HASH, TIME_FIELDS


def as_recorded(event: Event, position: int = 0) -> Event:
    """Return `event` with the envelope a log would give it at `position`."""
    recorded_at = datetime(2025, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)
    envelope = msgspec.structs.replace(
        event,
        event_id=compute_event_id(event),
        observed_at=event.observed_at or recorded_at,
        recorded_at=recorded_at,
        position=position,
        stream_version=position + 1,
        prev_hash=GENESIS_HASH,
    )
    return msgspec.structs.replace(envelope, hash=compute_hash(envelope))


def stored_row(event: Event) -> dict[str, Any]:
    """Return the row the log would store for recorded `event`."""
    (row,) = to_table([event]).to_pylist()
    return row  # type: ignore[no-any-return]


EVERY_KIND = [
    listed(1, min_notional="5", listed_at="2023-06-01T00:00:00Z", status="trading"),
    changed(1, tick_size=None, description="Coin one", expiry="2025-03-28T08:00:00Z"),
    InstrumentDelisted(
        instrument_id="inst-1", symbol="X:A", effective_at=T0, source="t", reason="expired"
    ),
    InstrumentRenamed(
        instrument_id="inst-1", symbol="X:A", effective_at=T0, source="t", new_symbol="X:B"
    ),
    retracted("3f2a0c59-8a3e-5f51-9c4c-1a0b2c3d4e5f", stream=1),
    exchange_listed(),
    exchange_changed(description=None, timezone="Europe/Malta"),
]


@pytest.mark.parametrize("event", EVERY_KIND, ids=lambda e: e.kind)
def test_every_kind_round_trips_through_a_row(event: Event) -> None:
    """Encoding a recorded event to the log's row and decoding it gives the same event."""
    recorded = as_recorded(event)

    decoded = decode_row(stored_row(recorded))

    assert decoded == recorded
    assert type(decoded) is type(recorded)
    assert compute_hash(decoded) == recorded.hash


def test_table_of_events_has_the_log_schema_and_decodes_in_order() -> None:
    """to_table gives the documented schema; from_table decodes rows in order."""
    recorded = [as_recorded(e, n) for n, e in enumerate(EVERY_KIND)]

    table = to_table(recorded)

    assert table.schema.equals(SCHEMA)
    assert table["schema_version"].to_pylist() == [SCHEMA_VERSION] * len(recorded)
    assert from_table(table) == recorded


def test_explicit_null_and_untouched_field_stay_distinct_in_a_row() -> None:
    """A change to null is listed in `fields`; a field it does not mention is not."""
    row = stored_row(as_recorded(changed(1, tick_size=None, sector="Tech")))

    assert sorted(row["fields"]) == ["sector", "tick_size"]
    assert row["tick_size"] is None
    assert row["lot_size"] is None
    assert decode_row(row).changes == {"sector": "Tech", "tick_size": None}  # type: ignore[attr-defined]


_VALUES: dict[str, st.SearchStrategy[Any]] = {
    **{f: st.none() | st.text(min_size=1, max_size=8) for f in INSTRUMENT_FIELDS},
    **{
        f: st.none()
        | st.decimals(
            min_value=Decimal(-(10**9)),
            max_value=Decimal(10**9),
            places=8,
            allow_nan=False,
            allow_infinity=False,
        )
        for f in DECIMAL_FIELDS
    },
    **{
        f: st.none()
        | st.datetimes(
            min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
        )
        for f in TIME_FIELDS
    },
    "inverse": st.none() | st.booleans(),
}


@given(
    changes=st.dictionaries(st.sampled_from(INSTRUMENT_FIELDS), st.none(), min_size=1).flatmap(
        lambda keys: st.fixed_dictionaries({k: _VALUES[k] for k in keys})
    ),
    day=st.integers(min_value=0, max_value=20_000),
)
def test_any_change_round_trips_through_a_row(changes: dict[str, Any], day: int) -> None:
    """Any InstrumentChanged, nulls included, decodes from its row to an equal event."""
    event = InstrumentChanged(
        instrument_id="inst-1",
        symbol="X:A",
        effective_at=T0 + timedelta(days=day),
        source="t",
        changes=changes,
    )
    recorded = as_recorded(event)

    decoded = decode_row(stored_row(recorded))

    assert decoded == recorded
    assert compute_event_id(decoded) == recorded.event_id
    assert compute_hash(decoded) == recorded.hash


def test_row_of_an_unknown_kind_raises_unknown_event_kind() -> None:
    """A row whose kind this version does not know raises UnknownEventKindError, not a skip."""
    row = stored_row(as_recorded(listed(1), position=41)) | {"kind": "InstrumentSplit"}

    with pytest.raises(UnknownEventKindError, match="upgrade") as caught:
        decode_row(row)

    assert isinstance(caught.value, CorruptEventError)
    assert caught.value.kind == "InstrumentSplit"
    assert caught.value.position == 41
    assert "'InstrumentSplit'" in str(caught.value)
    assert "position 41" in str(caught.value)


def test_row_of_a_newer_schema_version_raises_unsupported_schema() -> None:
    """A row with schema_version 3 raises UnsupportedSchemaError naming both versions."""
    row = stored_row(as_recorded(listed(1), position=7)) | {"schema_version": 3}

    with pytest.raises(UnsupportedSchemaError, match="upgrade") as caught:
        decode_row(row)

    assert isinstance(caught.value, CorruptEventError)
    assert (caught.value.version, caught.value.supported) == (3, 2)
    assert caught.value.position == 7


def test_row_with_an_invalid_value_raises_corrupt_event() -> None:
    """A stored row whose values no event accepts raises CorruptEventError with its position."""
    row = stored_row(as_recorded(listed(1), position=3)) | {"symbol": ""}

    with pytest.raises(CorruptEventError, match="position 3") as caught:
        decode_row(row)

    assert isinstance(caught.value.__cause__, ValueError)


def test_row_missing_a_column_raises_corrupt_event() -> None:
    """A row lacking a column (a partial read, a damaged file) raises CorruptEventError."""
    row = stored_row(as_recorded(listed(1), position=5))
    del row["source"]

    with pytest.raises(CorruptEventError, match="position 5"):
        decode_row(row)
