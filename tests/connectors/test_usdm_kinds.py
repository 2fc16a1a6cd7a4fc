"""Binance USD-M: a perpetual is a perpetual, whatever its `deliveryDate` says.

Real data: the full 2021-09-06 USD-M recording (`binance_usdm_2021-09-06.json`, whose
BTCSTUSDT is `PENDING_TRADING` with `contractType ""`), and the variant derived from it
(`binance_usdm_2021-09-06.derived-settling.json`, see tests/fixtures/SOURCES.md): a settling
perpetual with its real delist time, a pre-settle and a pending perpetual with a real
`deliveryDate` after the observation, a delivering quarterly and an unknown `contractType`.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from venues import FAST, fixture, run, write_snapshot

from connectors.replay.driver import replay
from connectors.sync.syncer import SyncOptions
from connectors.venues import binance
from connectors.venues.usdm_kind import contract_kind
from eventstore import EventLog, InstrumentRenamed, InvalidEventError
from projections import Catalog

if TYPE_CHECKING:
    from pathlib import Path

    from connectors.venues.snapshot import Snapshot, SourceRecord

REAL = "binance/binance_usdm_2021-09-06.json"
DERIVED = "binance/binance_usdm_2021-09-06.derived-settling.json"
OBSERVED = datetime(2021, 9, 6, 13, 13, 38, 759000, tzinfo=UTC)  # the body's serverTime


def _parse(body: Any) -> Snapshot:
    return binance.parse_usdm(binance.decode(msgspec.json.encode(body)))


def _by_id(snapshot: Snapshot) -> dict[str, SourceRecord]:
    return {r.instrument_id.removeprefix("binance:usdm:"): r for r in snapshot.records}


def test_the_real_recording_has_perpetuals_quarterlies_and_a_pending_contract() -> None:
    """Every row of the real recording is read; the pending `""` one is a perpetual."""
    body = fixture(REAL)
    snapshot = _parse(body)
    assert snapshot.rejected == ()
    records = _by_id(snapshot)
    assert len(records) == len(body["symbols"]) == 133
    pending = records["BTCSTUSDT"]
    assert (pending.symbol, pending.status, pending.fields["type"]) == (
        "BINANCE:BTCSTUSDT.P",
        "pre_trading",
        "swap",
    )
    assert pending.fields["expiry"] is None
    assert pending.delisted_at is None  # the 2100 sentinel is no delist time
    quarterly = records["BTCUSDT_210924"]
    assert quarterly.symbol == "BINANCE:BTCUSDT210924"
    assert quarterly.fields["expiry"] == datetime(2021, 9, 24, 8, tzinfo=UTC)
    assert len({r.symbol for r in records.values()}) == len(records)


def test_a_settling_perpetual_is_delisted_not_renamed() -> None:
    """SETTLING with a real deliveryDate before the observation: `.P`, delisted, no expiry."""
    bzrx = _by_id(_parse(fixture(DERIVED)))["BZRXUSDT"]
    assert bzrx.symbol == "BINANCE:BZRXUSDT.P"
    assert (bzrx.fields["type"], bzrx.fields["expiry"]) == ("swap", None)
    assert (bzrx.status, bzrx.venue_status) == ("delisted", "SETTLING")
    assert bzrx.delisted_at == datetime(2021, 9, 6, 8, tzinfo=UTC)


def test_pending_and_pre_settle_perpetuals_with_a_real_delivery_date_stay_perpetuals() -> None:
    """A real deliveryDate after the observation: still `.P`, not yet delisted."""
    records = _by_id(_parse(fixture(DERIVED)))
    keep, btcst = records["KEEPUSDT"], records["BTCSTUSDT"]
    assert (keep.symbol, keep.status, keep.fields["expiry"]) == (
        "BINANCE:KEEPUSDT.P",
        "cancel_only",
        None,
    )
    assert keep.delisted_at == datetime(2021, 9, 10, 8, tzinfo=UTC)
    assert (btcst.symbol, btcst.status) == ("BINANCE:BTCSTUSDT.P", "pre_trading")
    assert btcst.delisted_at == datetime(2021, 9, 8, 8, tzinfo=UTC)


def test_a_perpetual_past_its_delist_time_is_delisted_whatever_its_status() -> None:
    """A pre-settle perpetual observed after its deliveryDate is delisted, still `.P`."""
    body = copy.deepcopy(fixture(DERIVED))
    body["serverTime"] = int(datetime(2021, 9, 11, tzinfo=UTC).timestamp() * 1000)
    keep = _by_id(_parse(body))["KEEPUSDT"]
    assert (keep.symbol, keep.status, keep.venue_status) == (
        "BINANCE:KEEPUSDT.P",
        "delisted",
        "PRE_SETTLE",
    )


def test_a_delivering_quarterly_is_dated_and_expired() -> None:
    """`CURRENT_QUARTER DELIVERING` is dated; its status says expired."""
    eth = _by_id(_parse(fixture(DERIVED)))["ETHUSDT_210924"]
    assert (eth.symbol, eth.status, eth.fields["type"]) == (
        "BINANCE:ETHUSDT210924",
        "expired",
        "futures",
    )
    body = copy.deepcopy(fixture(DERIVED))
    body["symbols"][-1]["contractType"] = "CURRENT_QUARTER_DELIVERING"  # the enum's spelling
    eth = _by_id(_parse(body))["ETHUSDT_210924"]
    assert (eth.symbol, eth.status) == ("BINANCE:ETHUSDT210924", "expired")


def test_an_unknown_contract_type_is_a_rejected_row_naming_it() -> None:
    """`BIWEEKLY` is no type Binance documents: the row is rejected, the rest goes on."""
    snapshot = _parse(fixture(DERIVED))
    (rejected,) = snapshot.rejected
    assert rejected.instrument_id == "binance:usdm:1000SHIBUSDT"
    assert (
        str(rejected)
        == "'binance:usdm:1000SHIBUSDT': contractType: unknown contractType 'BIWEEKLY'"
    )
    assert len(snapshot.records) == 6


@pytest.mark.parametrize(
    ("symbol", "contract_type", "kind"),
    [
        ("BTCUSDT", "PERPETUAL", "perpetual"),
        ("XAUUSDT", "TRADIFI_PERPETUAL", "perpetual"),
        ("BZRXUSDT", "PERPETUAL_DELIVERING", "perpetual"),
        ("BTCUSDT_210924", "CURRENT_QUARTER", "dated"),
        ("BTCUSDT_211231", "NEXT_QUARTER", "dated"),
        ("BTCUSDT_210924", "CURRENT_QUARTER DELIVERING", "dated"),
        ("BTCUSDT_211231", "NEXT_QUARTER DELIVERING", "dated"),
        ("BTCUSDT_211231", "NEXT_QUARTER_DELIVERING", "dated"),
        ("BTCUSDT_210730", "CURRENT_MONTH", "dated"),
        ("BTCSTUSDT", "", "perpetual"),
        ("BTCUSDT_220325", "", "dated"),
        ("BTCSTUSDT", None, "perpetual"),
    ],
)
def test_the_kind_comes_from_the_contract_type(
    symbol: str, contract_type: str | None, kind: str
) -> None:
    """The table of `connectors.venues.usdm_kind`."""
    assert contract_kind(symbol, contract_type) == kind


def test_a_dated_contract_without_a_delivery_date_is_refused() -> None:
    """A quarterly whose deliveryDate is the perpetual sentinel cannot be named."""
    body = copy.deepcopy(fixture(DERIVED))
    for row in body["symbols"]:
        if row["symbol"] == "BTCUSDT_210924":
            row["deliveryDate"] = 4133404800000
    reasons = {r.instrument_id: r.reason for r in _parse(body).rejected}
    assert reasons["binance:usdm:BTCUSDT_210924"].startswith("expiry: a dated CURRENT_QUARTER")
    with pytest.raises(InvalidEventError, match="unknown contractType 'WEEKLY'"):
        contract_kind("BTCUSDT", "WEEKLY")


def test_the_sync_delists_a_settling_perpetual_at_its_delist_time(tmp_path: Path) -> None:
    """Replayed: the real rows listed on 09-05, the derived settling ones on 09-06.

    BZRXUSDT is delisted effective at its deliveryDate (08:00, before the 13:13
    observation), keeps `BINANCE:BZRXUSDT.P` (no rename, no dated symbol) and no expiry.
    """
    real = fixture(REAL)
    kept = {row["symbol"] for row in fixture(DERIVED)["symbols"]}
    real["symbols"] = [row for row in real["symbols"] if row["symbol"] in kept]
    replays = tmp_path / "replays"
    write_snapshot(
        replays, "2021-09-05", {"binance-usdm/exchangeInfo.json": real}, "2021-09-05T00:00:00Z"
    )
    write_snapshot(replays, "2021-09-06", {"binance-usdm/exchangeInfo.json": fixture(DERIVED)})
    root = tmp_path / "catalog"
    options = SyncOptions(max_delist_share=0.5)  # one delisting of six is above the default
    done = run(lambda: replay(str(root), replays, options, settings=FAST))
    errors = [report.error for _, reports in done for report in reports if not report.ok]
    assert errors == []
    cat = Catalog.open(str(root))
    before = cat.get("BINANCE:BZRXUSDT.P", as_of="2021-09-06T07:59:59Z")
    after = cat.get("BINANCE:BZRXUSDT.P", as_of="2021-09-06T08:00:00Z")
    assert before is not None
    assert before.active
    assert after is not None
    assert not after.active
    assert (after.status, after.expiry, after.type) == ("delisted", None, "swap")
    assert cat.get("BINANCE:BZRXUSDT210906", as_of=OBSERVED) is None
    keep = cat.get("BINANCE:KEEPUSDT.P", as_of=OBSERVED)
    assert keep is not None
    assert (keep.active, keep.status) == (True, "cancel_only")
    events = list(EventLog.open(str(root)).read())
    assert not [e for e in events if isinstance(e, InstrumentRenamed)]
