"""Names across time: a rename changes every name from its effective time, a reused ticker
resolves to whoever held it then, known_at and recorded_by bound names as they bound `get`;
ambiguity, unknown names (with suggestions) and bad input fail in one clear line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest
from builders import changed, day, delisted, listed, observed, renamed

from eventstore import NaiveTimestampError
from projections import (
    AmbiguousNameError,
    Catalog,
    InvalidTableError,
    Name,
    PartitionJoin,
    UnknownNameError,
    UnknownSchemeError,
    UnknownSymbolError,
)

if TYPE_CHECKING:
    from clock import Clock

    from eventstore import EventLog

OLD = "binance:spot:LUNAUSDT"  # Terra: LUNAUSDT until day 10, then LUNCUSDT
NEW = "luna-2"  # the new LUNA from day 12, under the reused ticker (an id of another shape)
SPOT: dict[str, Any] = {"exchange": "BINANCE", "type": "spot", "quote": "USDT"}
OKX: dict[str, Any] = {"exchange": "OKX", "type": "spot", "base": "LUNA", "quote": "USDT"}


@pytest.fixture
def history(log: EventLog, clock: Clock) -> Catalog:
    """Append the rename and the reuse (the rename observed only on day 20), then a pair
    named alike on OKX, and return the catalog."""
    clock.set(day(30))
    log.append(
        [
            observed(listed(OLD, "BINANCE:LUNAUSDT", day(0), base="LUNA", **SPOT), day(0)),
            observed(renamed(OLD, "BINANCE:LUNAUSDT", "BINANCE:LUNCUSDT", day(10)), day(20)),
            observed(changed(OLD, "BINANCE:LUNCUSDT", day(10), base="LUNC"), day(20)),
            observed(listed(NEW, "BINANCE:LUNAUSDT", day(12), base="LUNA", **SPOT), day(12)),
            observed(listed("okx:spot:LUNA-USDT", "OKX:LUNAUSDT", day(0), **OKX), day(0)),
        ]
    )
    return Catalog.open(log.root)


def test_a_renamed_instrument_changes_names_in_every_scheme_at_the_rename(
    history: Catalog,
) -> None:
    before, after = history.names(OLD, day(5)), history.names(OLD, day(11))
    assert before is not None
    assert after is not None
    assert before == {
        "tradingview": Name("BINANCE", "BINANCE:LUNAUSDT"),
        "venue": Name("binance-spot", "LUNAUSDT"),
        "ccxt": Name("binance", "LUNA/USDT"),
        "nautilus": Name("BINANCE", "LUNAUSDT.BINANCE"),
        "tardis": Name("binance", "LUNAUSDT"),
    }
    assert after == {
        "tradingview": Name("BINANCE", "BINANCE:LUNCUSDT"),
        "venue": Name("binance-spot", "LUNCUSDT"),
        "ccxt": Name("binance", "LUNC/USDT"),
        "nautilus": Name("BINANCE", "LUNCUSDT.BINANCE"),
        "tardis": Name("binance", "LUNCUSDT"),
    }
    assert history.names(OLD, day(10)) == after  # from the rename's effective time on
    assert history.names(OLD, day(-1)) is None  # not listed yet
    assert history.names(OLD) == after  # default: the latest version


#: (scheme, exchange, OLD's name before the rename, after it) in every scheme.
NAMED = [
    ("tradingview", None, "BINANCE:LUNAUSDT", "BINANCE:LUNCUSDT"),
    ("tradingview", "binance", "BINANCE:LUNAUSDT", "BINANCE:LUNCUSDT"),
    ("venue", "binance-spot", "LUNAUSDT", "LUNCUSDT"),
    ("ccxt", "binance", "LUNA/USDT", "LUNC/USDT"),
    ("ccxt", "BinanceUSDM", "LUNA/USDT", "LUNC/USDT"),  # an alias, in any case
    ("nautilus", None, "LUNAUSDT.BINANCE", "LUNCUSDT.BINANCE"),
    ("tardis", "binance", "LUNAUSDT", "LUNCUSDT"),
]


@pytest.mark.parametrize(("scheme", "exchange", "old", "new"), NAMED)
def test_a_reused_ticker_resolves_to_whoever_held_it_then(
    history: Catalog, scheme: str, exchange: str | None, old: str, new: str
) -> None:
    def resolve(name: str, at: object) -> str | None:
        return history.resolve(name, at, scheme, exchange)

    assert [resolve(old, day(n)) for n in (-1, 5, 11, 13)] == [None, OLD, None, NEW]
    assert [resolve(new, day(n)) for n in (5, 10, 13)] == [None, OLD, OLD]


def test_symbols_over_time_and_every_holder_of_a_symbol(history: Catalog) -> None:
    assert history.symbols(OLD).to_pylist() == [
        {"symbol": "BINANCE:LUNAUSDT", "valid_from": day(0), "valid_until": day(10)},
        {"symbol": "BINANCE:LUNCUSDT", "valid_from": day(10), "valid_until": None},
    ]
    assert history.holders("BINANCE:LUNAUSDT").to_pylist() == [
        {"instrument_id": OLD, "held_from": day(0), "held_until": day(10), "active": True},
        {"instrument_id": NEW, "held_from": day(12), "held_until": None, "active": True},
    ]


def test_names_as_known_and_as_recorded_before_the_rename_was_observed(
    history: Catalog, log: EventLog, clock: Clock
) -> None:
    """Observed on day 20, the rename is unknown at K = day 15: LUNAUSDT still meant OLD."""
    assert history.resolve("BINANCE:LUNAUSDT", day(11), known_at=day(15)) == OLD
    assert history.resolve("LUNA/USDT", day(11), "ccxt", "binance", known_at=day(15)) == OLD
    assert history.resolve("BINANCE:LUNCUSDT", day(11), known_at=day(15)) is None
    names = history.names(OLD, day(11), known_at=day(15))
    assert names is not None
    assert names["nautilus"] == Name("BINANCE", "LUNAUSDT.BINANCE")
    assert history.symbols(OLD, known_at=day(15)).column("symbol").to_pylist() == [
        "BINANCE:LUNAUSDT"
    ]
    clock.set(day(40))
    log.append([delisted(NEW, "BINANCE:LUNAUSDT", day(35))])
    assert history.resolve("BINANCE:LUNAUSDT", day(36), recorded_by=day(30)) == NEW
    assert history.holders("BINANCE:LUNAUSDT", recorded_by=day(30)).column("active")[1].as_py()
    assert not history.holders("BINANCE:LUNAUSDT").column("active")[1].as_py()


def test_two_active_holders_of_one_name_are_ambiguous_and_both_are_named(
    history: Catalog,
) -> None:
    """ccxt's LUNA/USDT is a Binance and an OKX pair: without an exchange it is ambiguous."""
    with pytest.raises(AmbiguousNameError) as caught:
        history.resolve("LUNA/USDT", day(5), "ccxt")
    message = str(caught.value)
    assert OLD in message
    assert "okx:spot:LUNA-USDT" in message
    assert "exchange" in message
    assert caught.value.holders == [OLD, "okx:spot:LUNA-USDT"]
    assert history.resolve("LUNA/USDT", day(5), "ccxt", "okx") == "okx:spot:LUNA-USDT"


def test_two_holders_of_one_symbol_at_once_are_ambiguous(log: EventLog) -> None:
    """The one-holder rule forbids it within a venue; a log that breaks it says so."""
    log.append(
        [
            listed("binance:spot:AUSDT", "BINANCE:AUSDT", day(0), base="A", **SPOT),
            listed("binance:spot:AUSDT2", "BINANCE:AUSDT", day(1), base="A", **SPOT),
        ]
    )
    catalog = Catalog.open(log.root)
    assert catalog.resolve("BINANCE:AUSDT", day(0, 12)) == "binance:spot:AUSDT"
    with pytest.raises(AmbiguousNameError, match="binance:spot:AUSDT, binance:spot:AUSDT2"):
        catalog.resolve("BINANCE:AUSDT", day(2))


def test_an_unknown_name_suggests_the_closest_known_ones(history: Catalog) -> None:
    with pytest.raises(UnknownNameError) as caught:
        history.resolve("binance:lunausdt", day(5))  # case-insensitive suggestions
    assert caught.value.suggestions[0] == "BINANCE:LUNAUSDT"
    assert "closest: 'BINANCE:LUNAUSDT'" in str(caught.value)
    assert "no instrument has ever held the tradingview name 'binance:lunausdt'" in str(
        caught.value
    )
    with pytest.raises(UnknownNameError) as on_okx:
        history.resolve("luna/usdt", day(5), "ccxt", "okx")  # the same exchange first
    assert on_okx.value.suggested[:2] == [("okx", "LUNA/USDT"), ("binance", "LUNA/USDT")]
    assert "closest: 'LUNA/USDT' (okx), 'LUNA/USDT' (binance)" in str(on_okx.value)
    with pytest.raises(UnknownNameError) as on_binance:
        history.resolve("luna/usdt", day(5), "ccxt", "binance")
    assert on_binance.value.suggested[0] == ("binance", "LUNA/USDT")
    with pytest.raises(UnknownNameError, match="closest"):
        history.holders("BINANCE:LUNAUSD")
    assert isinstance(caught.value, UnknownSymbolError)  # a LookupError, like the rest


def test_bad_input_raises_one_clear_error_and_changes_nothing(history: Catalog) -> None:
    with pytest.raises(UnknownSchemeError, match="unknown naming scheme 'bloomberg'; known: "):
        history.resolve("X", day(1), "bloomberg")
    with pytest.raises(UnknownSymbolError, match="'nope:spot:X'"):
        history.names("nope:spot:X", day(1))
    with pytest.raises(UnknownSymbolError):
        history.symbols("nope:spot:X")
    with pytest.raises(NaiveTimestampError):
        history.resolve("BINANCE:LUNAUSDT", "2024-01-05T00:00:00")
    assert history.resolve("BINANCE:LUNAUSDT", day(5)) == OLD  # still answers


def test_pit_join_on_names_across_the_rename_and_the_reuse(history: Catalog) -> None:
    ts = pa.array([day(n) for n in (5, 11, 13, 13)], pa.timestamp("us", "UTC"))
    bars = pa.table(
        {
            "symbol": ["BINANCE:LUNAUSDT", "BINANCE:LUNCUSDT", "BINANCE:LUNAUSDT", "X:Y"],
            "name": ["LUNA/USDT", "LUNC/USDT", "LUNA/USDT", "NOPE/USDT"],
            "ts": ts,
        }
    )
    by_name = history.pit_join(bars, symbol="name", scheme="ccxt", exchange="binance")
    assert by_name.column("instrument_id").to_pylist() == [OLD, OLD, NEW, None]
    assert by_name.drop_columns(["name"]).equals(history.pit_join(bars.drop_columns(["name"])))
    known = history.pit_join(bars, symbol="name", scheme="ccxt", exchange="binance",
                             known_at=day(15))  # fmt: skip
    assert known.column("instrument_id").to_pylist() == [OLD, None, NEW, None]
    partitioned = PartitionJoin(history.log.root, symbol="name", scheme="ccxt", exchange="binance")
    assert partitioned(bars).equals(by_name)  # the engines' joiner takes the scheme too
    with pytest.raises(InvalidTableError, match="exchange"):
        history.pit_join(bars, symbol="name", scheme="ccxt")
    per_row = history.pit_join(bars, symbol="name", scheme="ccxt", exchange="binance",
                               known_at="row")  # fmt: skip
    assert per_row.column("instrument_id").to_pylist() == [OLD, None, NEW, None]
    with pytest.raises(UnknownSchemeError):
        history.pit_join(bars, symbol="name", scheme="isin", exchange="binance")


def test_names_follow_appends_made_after_they_were_first_used(
    history: Catalog, log: EventLog, clock: Clock
) -> None:
    """The names of a store are kept between queries and extended with what is appended."""
    assert history.resolve("LUNC/USDT", day(31), "ccxt", "binance") == OLD
    clock.set(day(50))
    log.append(
        [
            renamed(OLD, "BINANCE:LUNCUSDT", "BINANCE:LUNAOLDUSDT", day(45)),
            listed("binance:spot:ZUSDT", "BINANCE:ZUSDT", day(46), base="Z", **SPOT),
        ]
    )
    assert history.resolve("ZUSDT", day(47), "tardis", "binance") == "binance:spot:ZUSDT"
    assert history.resolve("LUNAOLDUSDT.BINANCE", day(47), "nautilus") == OLD
    assert history.resolve("LUNC/USDT", day(47), "ccxt", "binance") == OLD  # base unchanged
    assert history.resolve("LUNCUSDT.BINANCE", day(47), "nautilus") is None


def test_history_of_a_symbol_renamed_away_is_its_last_holders(log: EventLog, clock: Clock) -> None:
    """Nobody holds `BINANCE:LUNCUSDT` at the end of time once it is renamed again: its
    history (no `as_of`) is that of the instrument that held it last; with `as_of` the
    symbol resolves then, and a symbol nobody held still raises."""
    clock.set(day(30))
    log.append(
        [
            listed(OLD, "BINANCE:LUNAUSDT", day(0), base="LUNA", **SPOT),
            renamed(OLD, "BINANCE:LUNAUSDT", "BINANCE:LUNCUSDT", day(10)),
            renamed(OLD, "BINANCE:LUNCUSDT", "BINANCE:LUNA2USDT", day(20)),
        ]
    )
    catalog = Catalog.open(log.root)
    found = catalog.history("BINANCE:LUNCUSDT")
    assert set(found["instrument_id"].to_pylist()) == {OLD}
    assert found.num_rows == 3
    assert catalog.history("BINANCE:LUNCUSDT", as_of=day(15)).num_rows == 3
    with pytest.raises(UnknownSymbolError):
        catalog.history("BINANCE:NOPEUSDT")


def test_pit_join_on_names_as_each_row_knew_them(history: Catalog) -> None:
    """known_at="row": on day 11 the rename (observed on day 20) is not known yet, so
    LUNA/USDT is still OLD's name and LUNC/USDT nobody's, in every scheme, exactly as the
    join on TradingView symbols answers; as known at the end, day 11 is after the rename."""
    days = (5, 11, 11, 13, 13, 25)
    a, c = "BINANCE:LUNAUSDT", "BINANCE:LUNCUSDT"
    symbols = [a, a, c, a, c, c]
    bars = pa.table(
        {"symbol": symbols, "ts": pa.array([day(n) for n in days], pa.timestamp("us", "UTC"))}
    )
    by_symbol = history.pit_join(bars, known_at="row")
    assert by_symbol.column("instrument_id").to_pylist() == [OLD, OLD, None, NEW, None, OLD]
    for scheme, exchange, old, new in NAMED:
        rename = {"BINANCE:LUNAUSDT": old, "BINANCE:LUNCUSDT": new}
        named = bars.append_column("name", pa.array([rename[s] for s in symbols]))
        joined = history.pit_join(
            named, symbol="name", scheme=scheme, exchange=exchange, known_at="row"
        )
        assert joined.drop_columns(["name"]).equals(by_symbol), scheme
        everything = history.pit_join(named, symbol="name", scheme=scheme, exchange=exchange)
        assert everything.column("instrument_id").to_pylist()[1:3] == [None, OLD], scheme
        coded = named.set_column(2, "name", named["name"].dictionary_encode())
        again = history.pit_join(
            coded, symbol="name", scheme=scheme, exchange=exchange, known_at="row"
        )
        assert again.drop_columns(["name"]).equals(by_symbol), scheme  # dictionary-encoded
