"""Options: OKX `instType=OPTION` per `instFamily` and Bybit `category=option`, read from the
real recordings on loopback (`tests/fixtures/okx/okx_instruments_option.json`,
`tests/fixtures/bybit/bybit_instruments_option.json`), named by the option symbol rule,
and expiring in the log like every dated contract. Variants derived in code say so.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from venues import FAST, by_symbol, fetch_served, fixture, run, write_snapshot

from connectors.daemon.config import load
from connectors.errors import ConfigError, MalformedResponseError
from connectors.replay.driver import replay
from connectors.sync.syncer import SyncOptions
from connectors.venues import bybit, okx
from connectors.venues.registry import SOURCES
from eventstore import EventLog
from projections import Catalog

if TYPE_CHECKING:
    from pathlib import Path

OKX_OPTIONS = "okx/okx_instruments_option.json"
BYBIT_OPTIONS = "bybit/bybit_instruments_option.json"
#: The recorded OKX options' expTime: 2024-12-17 08:00 UTC.
OKX_EXPIRY = datetime(2024, 12, 17, 8, tzinfo=UTC)


def test_okx_options_of_one_family(tmp_path: Path) -> None:
    """Strike, type, underlying, the symbol rule, contract size, limits, coin-margined."""
    files = {"okx/OPTION.BTC-USD.json": OKX_OPTIONS}
    (snapshot,) = fetch_served(tmp_path, "okx", files, ("OPTION:BTC-USD",))
    assert (snapshot.market, snapshot.scope) == ("option:BTC-USD", "okx:option:BTC-USD-")
    records = by_symbol(snapshot)
    assert sorted(records) == [
        "OKX:BTCUSD241217C92000",
        "OKX:BTCUSD241217C94000",
        "OKX:BTCUSD241217P92000",
        "OKX:BTCUSD241217P94000",
    ]
    call = records["OKX:BTCUSD241217C92000"]
    assert call.instrument_id == "okx:option:BTC-USD-241217-92000-C"
    fields = call.fields
    assert (fields["type"], fields["base"], fields["quote"]) == ("option", "BTC", "USD")
    assert (fields["strike"], fields["option_type"], fields["underlying"]) == (
        Decimal(92000),
        "call",
        "BTC-USD",
    )
    assert records["OKX:BTCUSD241217P94000"].fields["option_type"] == "put"
    assert fields["contract_size"] == Decimal("0.01")  # ctVal 1 x ctMult 0.01, in BTC
    assert (fields["settle"], fields["inverse"]) == ("BTC", True)  # settled in its base
    assert (fields["max_qty"], fields["max_notional"]) == (Decimal(1000000), Decimal(20000000))
    assert fields["max_leverage"] is None  # lever "": options have none
    assert fields["expiry"] == OKX_EXPIRY
    assert (fields["tick_size"], fields["lot_size"]) == (Decimal("0.0001"), Decimal(1))
    assert {"strike", "option_type", "underlying"} <= set(snapshot.reported)


def test_okx_option_request_names_its_family_and_rejects_what_disagrees(tmp_path: Path) -> None:
    """Each family is one request; a row whose `stk` or `optType` contradicts its id is
    rejected with the reason (derived in code), and a row of another family makes the
    snapshot malformed."""
    body = copy.deepcopy(fixture(OKX_OPTIONS))
    body["data"][0]["stk"] = "93000"
    body["data"][1]["optType"] = "X"
    wire = okx._DECODER.decode(json.dumps(body).encode())
    snapshot = okx.parse("OPTION:BTC-USD", wire, "recorded")
    reasons = sorted(rejection.reason for rejection in snapshot.rejected)
    assert reasons == [
        "optType: 'X' is not the type of 'BTC-USD-241217-92000-P' (C or P)",
        "stk: '93000' is not the strike of 'BTC-USD-241217-92000-C'",
    ]
    assert len(snapshot.records) == 2
    with pytest.raises(MalformedResponseError, match="is not of the OPTION:ETH-USD asked for"):
        okx.parse("OPTION:ETH-USD", wire, "recorded")


def test_bybit_options_paged_by_cursor(tmp_path: Path) -> None:
    """Two pages (the recording split in code, the first with a `nextPageCursor`): both
    options, named by the rule, with strike, type, underlying and the price band."""
    recorded = fixture(BYBIT_OPTIONS)
    first, second = copy.deepcopy(recorded), copy.deepcopy(recorded)
    first["result"]["list"] = recorded["result"]["list"][:1]
    first["result"]["nextPageCursor"] = "page2"
    second["result"]["list"] = recorded["result"]["list"][1:]
    files = {"bybit/option.json": first, "bybit/option.page2.json": second}
    (snapshot,) = fetch_served(tmp_path, "bybit", files, ("option",))
    records = by_symbol(snapshot)
    assert sorted(records) == ["BYBIT:BTCUSD240329C100000", "BYBIT:BTCUSD240329P100000"]
    call = records["BYBIT:BTCUSD240329C100000"]
    assert call.instrument_id == "bybit:option:BTC-29MAR24-100000-C"
    fields = call.fields
    assert (fields["strike"], fields["option_type"], fields["underlying"]) == (
        Decimal(100000),
        "call",
        "BTC-USD",
    )
    assert records["BYBIT:BTCUSD240329P100000"].fields["option_type"] == "put"
    assert (fields["settle"], fields["inverse"]) == ("USDC", False)
    assert (fields["min_price"], fields["max_price"]) == (Decimal(5), Decimal(10000000))
    assert (fields["tick_size"], fields["lot_size"], fields["min_qty"]) == (
        Decimal(5),
        Decimal("0.01"),
        Decimal("0.01"),
    )
    assert fields["max_qty"] == Decimal(10000)
    assert fields["expiry"] == datetime(2024, 3, 29, 8, tzinfo=UTC)
    assert fields.get("contract_size") is None  # Bybit states none for options
    assert snapshot.server_time == datetime.fromtimestamp(1694669449.037, UTC)


def test_bybit_option_asks_for_every_base_coin_and_no_closed_list(tmp_path: Path) -> None:
    """The listing asks `baseCoin=All` (Bybit lists BTC's alone by default), and a row
    whose `optionsType` contradicts its id is rejected (derived in code)."""
    body = copy.deepcopy(fixture(BYBIT_OPTIONS))
    body["result"]["list"][0]["optionsType"] = "Put"
    assert bybit.LISTING["option"]["baseCoin"] == "All"
    wire = bybit._DECODER.decode(json.dumps(body).encode())
    assert wire.result is not None
    snapshot = bybit._snapshot("option", [wire.result.rows], wire.time)
    (rejected,) = snapshot.rejected
    assert (
        rejected.reason
        == "optionsType: 'Put' is not the type of 'BTC-29MAR24-100000-C' (Call or Put)"
    )


def _later_family() -> dict[str, Any]:
    """Return the family as listed after the expiry: derived in code, the first recorded
    row as the option BTC-USD-241227-60000-C (the recorded four are gone)."""
    recorded = copy.deepcopy(fixture(OKX_OPTIONS))
    row = dict(recorded["data"][0], instId="BTC-USD-241227-60000-C", stk="60000")
    row["expTime"] = "1735286400000"  # 2024-12-27 08:00 UTC
    return {**recorded, "data": [row]}


def test_an_option_expires_at_its_announced_expiry(tmp_path: Path) -> None:
    """Listed on 2024-12-16, an option's delisting at its expiry is announced at once: it
    is active before 2024-12-17 08:00 and inactive (expired) after, and a later snapshot
    without it delists nothing more."""
    root, folder = tmp_path / "cat", tmp_path / "replay"
    write_snapshot(
        folder, "1", {"okx/OPTION.BTC-USD.json": fixture(OKX_OPTIONS)}, "2024-12-16T00:00:00Z"
    )
    write_snapshot(
        folder, "2", {"okx/OPTION.BTC-USD.json": _later_family()}, "2024-12-18T00:00:00Z"
    )
    done = run(lambda: replay(str(root), folder, SyncOptions(), settings=FAST))
    assert done.stopped is None
    catalog = Catalog.open(root)
    before = catalog.get("OKX:BTCUSD241217C92000", as_of="2024-12-17T07:59:59Z")
    after = catalog.get("OKX:BTCUSD241217C92000", as_of="2024-12-17T08:00:00Z")
    assert before is not None
    assert before.active
    assert before.strike == Decimal(92000)
    assert after is not None
    assert not after.active
    assert after.status == "expired"
    universe = catalog.universe("2024-12-18T00:00:00Z")
    assert universe["symbol"].to_pylist() == ["OKX:BTCUSD241227C60000"]
    kinds = [
        (e.kind, e.effective_at)
        for e in EventLog.open(root).events()
        if e.instrument_id == "okx:option:BTC-USD-241217-92000-C"
    ]
    assert kinds == [
        ("InstrumentListed", datetime(2024, 12, 14, 8, 30, tzinfo=UTC)),
        ("InstrumentDelisted", OKX_EXPIRY),
    ]


def test_okx_markets_name_option_families(tmp_path: Path) -> None:
    """`OPTION:<family>` is a market of OKX (the defaults BTC-USD and ETH-USD); the daemon
    configuration accepts any family and refuses a malformed one, naming it."""
    source = SOURCES["okx"]
    assert {"OPTION:BTC-USD", "OPTION:ETH-USD"} <= set(source.markets)
    assert source.knows("OPTION:SOL-USD")
    assert not source.knows("OPTION:sol")
    good = tmp_path / "good.toml"
    good.write_text('[sources.okx]\ninterval = "1h"\nmarkets = ["SPOT", "OPTION:SOL-USD"]\n')
    assert load(good).sources["okx"].markets == ["SPOT", "OPTION:SOL-USD"]
    bad = tmp_path / "bad.toml"
    bad.write_text('[sources.okx]\ninterval = "1h"\nmarkets = ["OPTION:sol"]\n')
    with pytest.raises(ConfigError, match=r"markets: unknown \['OPTION:sol'\]"):
        load(bad)
