"""The value rules of `eventstore.model.rules`: one rule per field, used by every source and by
`catalog append`; the event constructors stay lenient so that any stored log decodes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from eventstore import InstrumentListed, InvalidEventError
from eventstore.model.rules import exact_decimal
from eventstore.model.value_rules import (
    STATUSES,
    check_instrument_id,
    check_span,
    check_status,
    check_symbol,
    size,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("0.01000000", Decimal("0.01")),
        ("5", Decimal(5)),
        (7, Decimal(7)),
        (Decimal("0.5"), Decimal("0.5")),
        ("", None),
        (None, None),
    ],
)
def test_a_size_is_a_positive_exact_decimal(given: object, expected: Decimal | None) -> None:
    """ASCII digits with an optional point, ints and Decimals; empty and None are null."""
    assert size(given, "tick_size") == expected


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("-0.01", "is not positive"),
        ("0", "is not positive (use null for none)"),
        (Decimal("-1"), "is not positive"),
        ("1_000", "is not a decimal of ASCII digits"),
        ("\u0661\u0662", "is not a decimal of ASCII digits"),
        ("1e-8", "is not a decimal of ASCII digits"),
        (" 1", "is not a decimal of ASCII digits"),
        ("1.", "is not a decimal of ASCII digits"),
        (0.5, "is a float"),
        (True, "is a bool"),
        (Decimal("NaN"), "out of range"),
    ],
)
def test_anything_else_is_refused_naming_the_field(given: object, says: str) -> None:
    """Each refusal is an `InvalidEventError` on the field, saying why."""
    with pytest.raises(InvalidEventError, match="lot_size") as raised:
        size(given, "lot_size")
    assert says in raised.value.reason


def test_zero_is_null_only_where_the_venue_says_so() -> None:
    """`zero_is_null` turns any spelling of zero into None; a negative is still refused."""
    assert size("0.00000000", "min_qty", zero_is_null=True) is None
    with pytest.raises(InvalidEventError):
        size("-0.1", "min_qty", zero_is_null=True)


@pytest.mark.parametrize(
    "symbol",
    ["BINANCE:BTCUSDT", "BINANCE:币安人生USDT.P", "CME_MINI:ES1!", "NSE:M&M", "COINBASE:00USD"],
)
def test_printable_names_of_any_script_are_symbols(symbol: str) -> None:
    """Letters and digits of any script, and the punctuation real tickers use, pass."""
    assert check_symbol(symbol) == symbol


@pytest.mark.parametrize(
    ("symbol", "says"),
    [
        ("BTCUSDT", "is not EXCHANGE:TICKER"),
        ("BINANCE:", "symbol ticker: expected a non-empty name"),
        (":BTC", "symbol exchange: expected a non-empty name"),
        ("BINANCE:BTC:USDT", "holds ':'"),
        ("BINANCE:BTC\u200bUSDT", "holds zero width space"),
        ("BINANCE:BTC\u2028USDT", "holds line separator"),
        ("BINANCE:" + "A" * 93, "101 characters long, more than 100"),
    ],
)
def test_other_symbols_are_refused(symbol: str, says: str) -> None:
    """No format or separator characters, both parts named, at most 100 characters."""
    with pytest.raises(InvalidEventError, match="symbol") as raised:
        check_symbol(symbol)
    assert says in str(raised.value)


def test_statuses_ids_and_spans() -> None:
    """Only the documented statuses (terminal ones for a delisting); printable ids; an
    expiry on or after the listing."""
    for status in STATUSES:
        check_status(status)
    with pytest.raises(InvalidEventError, match="'open' is not one of"):
        check_status("open")
    with pytest.raises(InvalidEventError, match="one of delisted, expired"):
        check_status("halted", terminal=True)
    with pytest.raises(InvalidEventError, match=r"holds U\+0009"):
        check_instrument_id("binance:spot:\tX")
    jan, feb = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)
    check_span(jan, jan)
    with pytest.raises(InvalidEventError, match="expiry: 2024-01-01T00:00:00\\+00:00 is before"):
        check_span(feb, jan)


def test_the_event_constructors_stay_lenient() -> None:
    """A negative size still makes an event (a log written before these rules decodes);
    the rules are applied where values enter: the sources and `catalog append`."""
    listed = InstrumentListed(
        instrument_id="x",
        symbol="X:Y",
        effective_at=datetime(2024, 1, 1, tzinfo=UTC),
        source="test",
        tick_size=Decimal("-1"),
    )
    assert listed.tick_size == Decimal(-1)


def test_a_decimal_seen_before_is_normalized_alike_and_refused_by_its_own_field() -> None:
    assert str(exact_decimal(Decimal("1.500"), "tick_size")) == "1.5"
    assert str(exact_decimal(Decimal("1.50"), "lot_size")) == "1.5"  # equal: the same answer
    assert str(exact_decimal(Decimal("-0.00"), "lot_size")) == "0"
    too_fine = Decimal("1E-19")
    for field in ("tick_size", "min_qty"):  # a refusal is never remembered: it names its field
        with pytest.raises(InvalidEventError, match=field):
            exact_decimal(too_fine, field)
