"""Sync of the contract and limit fields: each change of one is one `InstrumentChanged`.

Every body is a real recording replayed through the real clients; the changed values are
derived in code from it, as each test's docstring says.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from venues import FAST, FIXTURES, fixture, run, write_snapshot

from connectors.replay.driver import replay
from eventstore import EventLog, verify_chain
from projections import Catalog

if TYPE_CHECKING:
    from pathlib import Path

    from connectors.sync.syncer import SourceReport

USDM = "binance/binance_usdm_futures_exchangeInfo.json"
FUNDING = "binance/binance_usdm_fundingInfo.derived-docs.json"
DAY = 86_400_000


def _sync(root: Path, folder: Path) -> list[SourceReport]:
    done = run(lambda: replay(str(root), folder, settings=FAST))
    return [report for _, reports in done for report in reports]


def _usdm(days: int) -> dict[str, Any]:
    body = copy.deepcopy(fixture(USDM))
    body["serverTime"] += days * DAY
    return body  # type: ignore[no-any-return]


def _instant(body: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(body["serverTime"] / 1000, UTC)


def _changes(root: Path) -> list[tuple[str, dict[str, Any]]]:
    events = EventLog.open(root).events()
    return [(e.symbol, e.changes) for e in events if e.kind == "InstrumentChanged"]  # type: ignore[attr-defined]


def test_a_funding_interval_moving_from_8h_to_4h(tmp_path: Path) -> None:
    """BTCUSDT is not in the first `fundingInfo` (the documented 8 h); the next day's lists
    it at 4 h (derived: the documented row with BTCUSDT's symbol): one change, dated then."""
    first, second = _usdm(0), _usdm(1)
    listed = json.loads((FIXTURES / FUNDING).read_text())
    moved = [*listed, {**listed[0], "symbol": "BTCUSDT", "fundingIntervalHours": 4}]
    folder = tmp_path / "replay"
    write_snapshot(
        folder,
        "00",
        {"binance-usdm/exchangeInfo.json": first, "binance-usdm/fundingInfo.json": listed},
    )
    write_snapshot(
        folder,
        "01",
        {"binance-usdm/exchangeInfo.json": second, "binance-usdm/fundingInfo.json": moved},
    )
    reports = _sync(tmp_path / "lake", folder)
    assert all(r.ok for r in reports), [r.error for r in reports]
    assert _changes(tmp_path / "lake") == [("BINANCE:BTCUSDT.P", {"funding_interval": Decimal(4)})]
    catalog = Catalog.open(tmp_path / "lake")
    before = catalog.get("BINANCE:BTCUSDT.P", _instant(first))
    after = catalog.get("BINANCE:BTCUSDT.P", _instant(second))
    assert before is not None
    assert after is not None
    assert (before.funding_interval, after.funding_interval) == (Decimal(8), Decimal(4))
    assert after.valid_from == _instant(second)
    history = catalog.history("BINANCE:BTCUSDT.P")
    assert history["funding_interval"].to_pylist() == [Decimal(8), Decimal(4)]
    assert sum(r.appended for r in _sync(tmp_path / "lake", folder)) == 0


def test_a_snapshot_without_funding_info_keeps_the_intervals(tmp_path: Path) -> None:
    """A later folder with no `fundingInfo.json` says nothing of funding: nothing changes."""
    folder = tmp_path / "replay"
    write_snapshot(
        folder,
        "00",
        {
            "binance-usdm/exchangeInfo.json": _usdm(0),
            "binance-usdm/fundingInfo.json": json.loads((FIXTURES / FUNDING).read_text()),
        },
    )
    write_snapshot(folder, "01", {"binance-usdm/exchangeInfo.json": _usdm(1)})
    reports = _sync(tmp_path / "lake", folder)
    assert [r.appended for r in reports] == [4, 0]  # 3 listings, the quarterly's expiry
    eth = Catalog.open(tmp_path / "lake").get("BINANCE:ETHUSDT.P", _instant(_usdm(1)))
    assert eth is not None
    assert eth.funding_interval == Decimal(4)


def _okx_swap(lever: str, max_lmt: str) -> dict[str, Any]:
    body = copy.deepcopy(fixture("okx/okx_instruments_swap.json"))
    for row in body["data"]:
        if row["instId"] == "BTC-USDT-SWAP":
            row.update(lever=lever, maxLmtSz=max_lmt)
    return body  # type: ignore[no-any-return]


def test_a_max_leverage_cut_and_a_new_max_order_size(tmp_path: Path) -> None:
    """OKX cuts BTC-USDT-SWAP's `lever` 100 -> 50 and its `maxLmtSz` (derived in code from
    the recording): one change of both fields, effective when observed; others untouched."""
    folder = tmp_path / "replay"
    original = _okx_swap("100", "100000000")
    write_snapshot(folder, "00", {"okx/SWAP.json": original}, "2025-10-01T00:00:00Z")
    cut = _okx_swap("50", "5000")
    write_snapshot(folder, "01", {"okx/SWAP.json": cut}, "2025-10-02T00:00:00Z")
    reports = _sync(tmp_path / "lake", folder)
    assert all(r.ok for r in reports)
    assert _changes(tmp_path / "lake") == [
        ("OKX:BTCUSDT.P", {"max_leverage": Decimal(50), "max_qty": Decimal(5000)})
    ]
    catalog = Catalog.open(tmp_path / "lake")
    late = datetime(2025, 10, 1, 12, tzinfo=UTC)
    assert catalog.get("OKX:BTCUSDT.P", late).max_leverage == Decimal(100)  # type: ignore[union-attr]
    cut_at = datetime(2025, 10, 2, tzinfo=UTC)
    assert catalog.get("OKX:BTCUSDT.P", cut_at).max_leverage == Decimal(50)  # type: ignore[union-attr]
    assert verify_chain(EventLog.open(tmp_path / "lake").read()) == []


def _bybit_linear(edit: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(fixture("bybit/bybit_instruments_linear.json"))
    row = body["result"]["list"][0]
    for key, value in edit.items():
        if key in ("minPrice", "maxPrice"):
            row["priceFilter"][key] = value
        elif key == "maxLeverage":
            row["leverageFilter"][key] = value
        else:
            row[key] = value
    body["time"] += DAY * int(bool(edit))
    return body  # type: ignore[no-any-return]


def test_bybit_changes_of_funding_interval_leverage_price_band_and_settlement(
    tmp_path: Path,
) -> None:
    """Derived from the 2023 linear recording: BTCUSDT's fundingInterval 480 -> 240,
    maxLeverage 100 -> 50, a new price band and settleCoin; one change with all of them."""
    empty = {"retCode": 0, "retMsg": "OK", "result": {"list": []}, "time": 1694668718723}
    folder = tmp_path / "replay"
    edit = {
        "fundingInterval": 240,
        "maxLeverage": "50.00",
        "minPrice": "0.50",
        "maxPrice": "99999.50",
        "settleCoin": "USDC",
    }
    for name, body in (("00", _bybit_linear({})), ("01", _bybit_linear(edit))):
        files = {"bybit/linear.json": body, "bybit/linear.Closed.json": empty}
        write_snapshot(folder, name, files)
    reports = _sync(tmp_path / "lake", folder)
    assert all(r.ok for r in reports), [r.error for r in reports]
    assert _changes(tmp_path / "lake") == [
        (
            "BYBIT:BTCUSDT.P",
            {
                "funding_interval": Decimal(4),
                "max_leverage": Decimal(50),
                "max_price": Decimal("99999.5"),
                "min_price": Decimal("0.5"),
                "settle": "USDC",
            },
        )
    ]


def test_inverse_flipping_is_a_change_too(tmp_path: Path) -> None:
    """An OKX swap whose `ctType` turns from linear to inverse (derived): `inverse` True."""
    folder = tmp_path / "replay"
    first = fixture("okx/okx_instruments_swap.json")
    second = copy.deepcopy(first)
    for row in second["data"]:
        if row["instId"] == "ETH-USDT-SWAP":
            row["ctType"] = "inverse"
    write_snapshot(folder, "00", {"okx/SWAP.json": first}, "2025-10-01T00:00:00Z")
    write_snapshot(folder, "01", {"okx/SWAP.json": second}, "2025-10-02T00:00:00Z")
    _sync(tmp_path / "lake", folder)
    assert _changes(tmp_path / "lake") == [("OKX:ETHUSDT.P", {"inverse": True})]
