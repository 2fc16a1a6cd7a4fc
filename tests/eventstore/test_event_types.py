"""Event construction: strict instants, exact decimals, checked changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from builders import T0, changed, exchange_changed, exchange_listed, listed
from hypothesis import example, given
from hypothesis import strategies as st

from eventstore import (
    INSTRUMENT_FIELDS,
    EventStoreError,
    ExchangeListed,
    InstrumentChanged,
    InstrumentDelisted,
    InstrumentListed,
    InstrumentRenamed,
    InvalidEventError,
    InvalidInstantError,
    NaiveTimestampError,
    compute_event_id,
)


def listing_at(effective_at: Any) -> InstrumentListed:
    """Return a minimal listing effective at `effective_at`, as given."""
    return InstrumentListed(
        instrument_id="inst-1", symbol="BINANCE:BTCUSDT", effective_at=effective_at, source="t"
    )


# -- instants --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        pytest.param(datetime(2024, 1, 1), "has no time zone", id="naive-datetime"),
        pytest.param("2024-01-01T00:00:00", "has no time zone", id="naive-iso-string"),
        pytest.param("2024-01-01", "has no time zone", id="date-string"),
        pytest.param(1_704_067_200, "bare number without a unit", id="epoch-seconds"),
        pytest.param(1_704_067_200_000_000_000, "bare number without a unit", id="epoch-ns"),
        pytest.param(1_704_067_200.5, "bare number without a unit", id="epoch-float"),
        pytest.param(np.datetime64("2024-01-01T00:00:00"), "numpy.datetime64", id="datetime64"),
        pytest.param(np.datetime64("2024-01-01T00:00:00", "ns"), "numpy", id="datetime64-ns"),
        pytest.param(np.int64(1_704_067_200), "int64, not an instant", id="numpy-int"),
        pytest.param(date(2024, 1, 1), "date, not an instant", id="date"),
    ],
)
def test_effective_at_without_zone_or_unit_is_refused(value: object, detail: str) -> None:
    """A naive or unit-less effective_at raises NaiveTimestampError saying what to pass."""
    with pytest.raises(NaiveTimestampError) as caught:
        listing_at(value)

    error = caught.value
    assert isinstance(error, TypeError)
    assert isinstance(error, ValueError)
    assert isinstance(error, EventStoreError)
    message = str(error)
    assert message.startswith("effective_at: ")
    assert detail in message
    assert "timezone-aware datetime" in message
    assert "'2024-01-01T00:00:00Z'" in message
    assert error.what == "effective_at"


def test_unreadable_instant_is_an_invalid_instant_not_a_naive_one() -> None:
    """Text that is no ISO-8601 instant raises InvalidInstantError with an example."""
    with pytest.raises(InvalidInstantError, match="not an ISO-8601 instant") as caught:
        listing_at("yesterday at noon")

    assert not isinstance(caught.value, NaiveTimestampError)


def test_naive_time_field_in_payload_and_changes_is_refused() -> None:
    """Payload instants (listed_at, expiry) are as strict as effective_at, in changes too."""
    with pytest.raises(NaiveTimestampError, match=r"^listed_at: "):
        listed(1, listed_at=datetime(2024, 1, 1))
    with pytest.raises(NaiveTimestampError, match=r"^expiry: .*bare number"):
        changed(1, expiry=1_735_689_600)


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00+00:00",
        "2024-01-01T05:30:00+05:30",
        "2023-12-31T19:00:00-05:00",
        "  2024-01-01T00:00:00.000000Z ",
    ],
)
def test_iso_string_with_zone_is_accepted_as_utc(text: str) -> None:
    """An ISO-8601 string with Z or an offset becomes the same instant in UTC."""
    event = listing_at(text)

    assert event.effective_at == T0
    assert event.effective_at.tzinfo is UTC
    assert type(event.effective_at) is datetime


def test_aware_datetime_in_another_zone_is_converted_to_utc() -> None:
    """An aware datetime keeps its instant and is stored with the UTC zone."""
    new_york_winter = timezone(timedelta(hours=-5))

    event = listing_at(datetime(2023, 12, 31, 19, tzinfo=new_york_winter))

    assert event.effective_at == T0
    assert event.effective_at.tzinfo is UTC
    assert event.effective_at.hour == 0


_OFFSETS = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
_INSTANTS = st.datetimes(
    min_value=datetime(1900, 1, 2), max_value=datetime(2200, 1, 1), timezones=_OFFSETS
)


@given(instant=_INSTANTS, as_text=st.booleans())
def test_any_aware_instant_is_kept_exactly_in_utc(instant: datetime, as_text: bool) -> None:
    """Any aware instant, as a datetime or ISO text with any offset, is the same UTC instant."""
    event = listing_at(instant.isoformat() if as_text else instant)

    assert event.effective_at == instant
    assert event.effective_at.utcoffset() == timedelta(0)
    assert event.effective_at.tzinfo is UTC


# -- decimals --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0.01, 1.0, float("nan"), True])
def test_float_or_bool_for_a_decimal_field_is_refused(value: object) -> None:
    """A float (or bool) for a structural number raises InvalidEventError naming the field."""
    with pytest.raises(InvalidEventError, match="pass a Decimal or a string") as caught:
        listed(1, tick_size=value)

    assert caught.value.field == "tick_size"
    assert isinstance(caught.value, ValueError)


def test_float_in_changes_is_refused() -> None:
    """A float among an InstrumentChanged's changes is refused like one in a listing."""
    with pytest.raises(InvalidEventError, match="min_notional"):
        changed(1, min_notional=10.5)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.0100", "0.01"),
        (Decimal("0.0100"), "0.01"),
        ("0.01", "0.01"),
        (100, "100"),
        ("1E+2", "100"),
        (Decimal("100.000"), "100"),
        ("-0.0", "0"),
        (0, "0"),
        ("0.000000000000000001", "0.000000000000000001"),
        ("0.1000000000000000000000", "0.1"),
        ("12345678.12345678", "12345678.12345678"),
    ],
)
def test_decimal_field_accepts_text_int_and_decimal_normalized(
    value: object, expected: str
) -> None:
    """Strings, ints and Decimals are stored as one normalized Decimal: same digits and exponent."""
    tick_size = listed(1, tick_size=value).tick_size

    assert isinstance(tick_size, Decimal)
    assert tick_size.as_tuple() == Decimal(expected).as_tuple()


def test_normalized_decimal_is_0_01_not_0_0100() -> None:
    """Decimal('0.0100') is stored as Decimal('0.01'), exactly that representation."""
    tick_size = listed(1, tick_size=Decimal("0.0100")).tick_size

    assert str(tick_size) == "0.01"
    assert changed(1, tick_size="0.0100").changes == {"tick_size": Decimal("0.01")}
    assert str(changed(1, tick_size="0.0100").changes["tick_size"]) == "0.01"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("abc", "not a decimal number"),
        ([1], "not a decimal number"),
        ("NaN", "out of range"),
        ("Infinity", "out of range"),
        (10**20, "out of range"),
        ("-1E+20", "out of range"),
        ("0.0000000000000000001", "more than 18 digits after the point"),
        ("1.0000000000000000000000000001", "more than 18 digits after the point"),
    ],
)
def test_decimal_that_the_log_cannot_store_exactly_is_refused(value: object, reason: str) -> None:
    """Text that is no number, non-finite, too large or too fine raises InvalidEventError."""
    with pytest.raises(InvalidEventError, match=reason) as caught:
        listed(1, lot_size=value)

    assert caught.value.field == "lot_size"


_STORABLE = st.decimals(
    min_value=Decimal("-999999999"),
    max_value=Decimal("999999999"),
    places=18,
    allow_nan=False,
    allow_infinity=False,
)


@given(value=_STORABLE, as_text=st.booleans())
def test_any_storable_decimal_is_kept_exactly_and_normalized(value: Decimal, as_text: bool) -> None:
    """A decimal with at most 18 places is kept exactly, without trailing zeros or exponent."""
    stored = listed(1, contract_size=str(value) if as_text else value).contract_size

    assert stored == value
    assert stored is not None
    _, digits, exponent = stored.as_tuple()
    assert isinstance(exponent, int)
    assert exponent <= 0
    assert stored == 0 or exponent == 0 or digits[-1] != 0


@example(value=Decimal("12345678901.123456789012345678"))
@example(value=Decimal("99999999999999999999.999999999999999999"))
@given(
    value=st.decimals(
        min_value=Decimal("-99999999999999999999.999999999999999999"),
        max_value=Decimal("99999999999999999999.999999999999999999"),
        places=18,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_decimal_within_decimal128_38_18_is_kept_exactly(value: Decimal) -> None:
    """Every value the log's decimal128(38, 18) column holds is accepted and kept exactly.

    The log stores 20 integer digits and 18 after the point: a value with more than the
    28 significant digits of Python's default decimal context must not be rounded.
    """
    stored = listed(1, min_qty=str(value)).min_qty

    assert stored == value
    assert stored is not None
    assert stored.as_tuple().exponent >= -18  # type: ignore[operator]


def test_trailing_zeros_past_the_scale_on_a_long_number_are_not_an_arithmetic_error() -> None:
    """A long value with zeros past the 18th place is exact: it is accepted, not a crash."""
    value = "12345678901.1234567890000000000"

    assert listed(1, tick_size=value).tick_size == Decimal(value)


# -- changes ---------------------------------------------------------------------------------


def test_unknown_field_in_changes_is_refused() -> None:
    """A change to a field instruments do not have raises InvalidEventError naming it."""
    with pytest.raises(InvalidEventError, match="unknown instrument field 'tick'") as caught:
        changed(1, tick="0.1")

    assert caught.value.field == "changes"
    assert "tick_size" in str(caught.value)


@pytest.mark.parametrize("field", ["symbol", "instrument_id", "active"])
def test_identity_fields_cannot_be_changed(field: str) -> None:
    """symbol, instrument_id and active are not InstrumentChanged fields."""
    with pytest.raises(InvalidEventError, match="cannot be changed"):
        changed(1, **{field: "x"})  # type: ignore[arg-type]


def test_empty_changes_are_refused() -> None:
    """An InstrumentChanged that changes nothing is refused."""
    with pytest.raises(InvalidEventError, match="non-empty mapping"):
        InstrumentChanged(
            instrument_id="inst-1", symbol="X:Y", effective_at=T0, source="t", changes={}
        )


def test_explicit_none_in_changes_is_kept() -> None:
    """Setting a field to None is an explicit change: it is kept, not dropped."""
    event = changed(1, tick_size=None, sector=None, lot_size="1")

    assert event.changes == {"lot_size": Decimal(1), "sector": None, "tick_size": None}
    assert set(event.set_fields()) == {"lot_size", "sector", "tick_size"}


def test_every_instrument_field_can_be_changed() -> None:
    """Each documented instrument field is accepted in changes."""
    values = {f: None for f in INSTRUMENT_FIELDS}

    assert set(changed(1, **values).changes) == set(INSTRUMENT_FIELDS)  # type: ignore[arg-type]


def test_time_field_in_changes_is_normalized_to_utc() -> None:
    """An instant in changes is converted to UTC like effective_at."""
    event = changed(1, expiry="2025-03-28T10:00:00+02:00")

    assert event.changes["expiry"] == datetime(2025, 3, 28, 8, tzinfo=UTC)
    assert event.changes["expiry"].tzinfo is UTC


def test_non_text_for_a_text_field_is_refused() -> None:
    """A string field given a number raises InvalidEventError naming the field."""
    with pytest.raises(InvalidEventError, match="sector"):
        changed(1, sector=42)
    with pytest.raises(InvalidEventError, match="exchange"):
        listed(1, exchange=7)


# -- envelope and other kinds ----------------------------------------------------------------


@pytest.mark.parametrize("field", ["instrument_id", "symbol", "source"])
@pytest.mark.parametrize("value", ["", "   ", None])
def test_envelope_text_is_required(field: str, value: object) -> None:
    """instrument_id, symbol and source must be non-empty strings."""
    fields: dict[str, Any] = {
        "instrument_id": "inst-1",
        "symbol": "X:Y",
        "effective_at": T0,
        "source": "t",
    }

    with pytest.raises(InvalidEventError, match=field):
        InstrumentListed(**{**fields, field: value})


def test_events_are_frozen() -> None:
    """An event cannot be modified after construction."""
    event = listed(1)

    with pytest.raises(AttributeError):
        event.tick_size = Decimal(1)  # type: ignore[misc]


def test_rename_to_the_same_symbol_is_refused() -> None:
    """An InstrumentRenamed whose new symbol is the current one is refused."""
    with pytest.raises(InvalidEventError, match="new_symbol"):
        InstrumentRenamed(
            instrument_id="inst-1", symbol="X:A", effective_at=T0, source="t", new_symbol="X:A"
        )


def test_delisting_needs_a_reason() -> None:
    """An InstrumentDelisted without a reason is refused; its status defaults to delisted."""
    with pytest.raises(InvalidEventError, match="reason"):
        InstrumentDelisted(instrument_id="i", symbol="X:A", effective_at=T0, source="t", reason="")

    delisted = InstrumentDelisted(
        instrument_id="i", symbol="X:A", effective_at=T0, source="t", reason="expired"
    )
    assert delisted.status == "delisted"


def test_exchange_events_live_in_the_exchange_stream() -> None:
    """Exchange events get the stream 'exchange:<EXCHANGE>' and the exchange as symbol."""
    event = exchange_listed("OKX")

    assert (event.instrument_id, event.symbol) == ("exchange:OKX", "OKX")
    assert exchange_changed("OKX").instrument_id == "exchange:OKX"
    assert event.kind == "ExchangeListed"


def test_exchange_event_in_another_stream_is_refused() -> None:
    """An exchange event whose instrument_id is not its exchange's stream is refused."""
    with pytest.raises(InvalidEventError, match="exchange:OKX"):
        ExchangeListed(exchange="OKX", instrument_id="inst-1", effective_at=T0, source="t")


def test_exchange_is_crypto_must_be_a_bool() -> None:
    """is_crypto takes true or false, not a truthy string."""
    with pytest.raises(InvalidEventError, match="is_crypto"):
        ExchangeListed(exchange="OKX", effective_at=T0, source="t", is_crypto="yes")  # type: ignore[arg-type]


# -- identity --------------------------------------------------------------------------------


def test_event_id_is_deterministic_and_ignores_the_envelope_set_by_the_log() -> None:
    """The id depends on what the caller said, not on recorded_at, position or hashes."""
    event = listed(1)
    recorded = InstrumentListed(
        **{f: getattr(event, f) for f in event.__struct_fields__ if getattr(event, f) is not None},
        recorded_at=datetime(2030, 1, 1, tzinfo=UTC),
        position=7,
        stream_version=3,
        prev_hash="0" * 64,
        hash="f" * 64,
    )

    assert compute_event_id(listed(1)) == compute_event_id(event) == compute_event_id(recorded)


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(lambda: listed(1, tick_size="0.02"), id="payload"),
        pytest.param(lambda: listed(1, day=1), id="effective_at"),
        pytest.param(lambda: listed(2), id="instrument"),
        pytest.param(lambda: changed(1, tick_size="0.01"), id="kind"),
    ],
)
def test_event_id_changes_with_any_fact(other: Any) -> None:
    """Events that differ in payload, effective_at, instrument or kind have distinct ids."""
    assert compute_event_id(other()) != compute_event_id(listed(1))
