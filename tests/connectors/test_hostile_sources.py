"""Hostile and broken source bodies: paging is bounded, one source's failure stays its own,
values that cannot be true and unprintable symbols are refused row by row, duplicates are
one or malformed.

Each body is a recorded response edited in code to say what it changes; the venue is an
in-process server on loopback, and syncs write a real log.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from test_sync import at, spot, spot_snapshots
from venues import FAST, Answer, ScriptedVenue, Sleeps, ThreadedVenue, fixture, run

from connectors.cli.main import main
from connectors.cli.sync import summary
from connectors.daemon.config import Config, SourceConfig, load
from connectors.daemon.runner import Daemon
from connectors.errors import ConfigError, IncompleteSnapshotError, MalformedResponseError
from connectors.sync import drift
from connectors.sync.syncer import SourceRun, Syncer, SyncOptions
from connectors.venues import binance, bybit, okx, tradingview
from connectors.venues.http import HttpSettings, SourceHttp, open_session
from connectors.venues.registry import SOURCES
from eventstore import EventLog
from projections import Catalog

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from connectors.sync.syncer import SourceReport
    from connectors.venues.snapshot import Snapshot

SCAN = "/crypto/scan"
META = "/crypto/metainfo"


def _day(day: int) -> datetime:
    """Return a day of January 2025, after the OKX recording's listing times."""
    return datetime(2025, 1, day, tzinfo=UTC)


def _answer(body: Any) -> Answer:
    return Answer(200, body if isinstance(body, bytes) else json.dumps(body).encode())


def _sync(
    root: Path,
    answers: dict[str, list[Answer]],
    sources: tuple[str, ...],
    options: SyncOptions | None = None,
    settings: HttpSettings = FAST,
) -> list[SourceReport]:
    """Sync `sources` from one scripted venue answering `answers` per path."""

    async def go() -> list[SourceReport]:
        async with ScriptedVenue() as venue:
            for path, queued in answers.items():
                venue.queue(path, *queued)
            # One body answers every OKX instType here: no option family is asked for.
            runs = [
                SourceRun(SOURCES[name], venue.base_url, okx.INST_TYPES if name == "okx" else None)
                for name in sources
            ]
            return await Syncer(str(root), options or SyncOptions()).run(runs, settings)

    reports: list[SourceReport] = run(go)
    return reports


def _spot_sync(root: Path, body: dict[str, Any], **options: Any) -> SourceReport:
    (report,) = _sync(
        root, {binance.SPOT_PATH: [_answer(body)]}, ("binance-spot",), SyncOptions(**options)
    )
    return report


def _fetch(
    path: str,
    answers: list[Answer],
    fetch: Callable[[SourceHttp, str], Any],
    settings: HttpSettings = FAST,
    clock: Callable[[], float] | None = None,
) -> tuple[list[Snapshot], int]:
    """Fetch through one source client; return its snapshots and how many requests it made."""

    async def go() -> tuple[list[Snapshot], int]:
        async with ScriptedVenue() as venue, open_session(settings) as session:
            venue.queue(path, *answers)
            if path == SCAN:
                venue.queue(
                    META, _answer(fixture("tradingview/scanner_crypto_metainfo_20250622.json"))
                )
            ticks = time.monotonic if clock is None else clock
            http = SourceHttp("test", session, settings, sleep=Sleeps(), clock=ticks)
            snapshots = await fetch(http, venue.base_url)
            return snapshots, len([s for s in venue.seen if s.path == path])

    found: tuple[list[Snapshot], int] = run(go)
    return found


def _tv(http: SourceHttp, url: str) -> Any:
    return tradingview.fetch(http, url)


def _bybit(http: SourceHttp, url: str) -> Any:
    return bybit.fetch(http, url, ("linear",))


def _scan_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = fixture("tradingview/crypto_scan.synthetic.json")["data"]
    return rows


def _scan_page(total: int, rows: list[dict[str, Any]]) -> Answer:
    return _answer({"totalCount": total, "data": rows})


def _row(symbol: str) -> dict[str, Any]:
    row = copy.deepcopy(_scan_rows()[2])  # COINBASE:BTCUSD, a venue TradingView owns
    row["s"] = symbol
    return row


# -- paging is bounded --------------------------------------------------------------------


def test_a_tradingview_page_repeating_rows_ends_the_scan_after_two_requests() -> None:
    """A second page holding only rows already seen (a symbol duplicated across pages) ends
    the scan with `IncompleteSnapshotError` at once, instead of asking for it forever."""
    rows = _scan_rows()
    pages = [_scan_page(10, rows), _scan_page(10, rows[:2]), Answer(404, b"asked too often")]
    with pytest.raises(IncompleteSnapshotError, match="page 2 added no row not already seen"):
        _fetch(SCAN, pages, _tv)


def test_tradingview_pages_are_bounded_by_the_total_and_the_first_page() -> None:
    """Total 100 and a first page of 50 rows allow 100/50 + 2 = 4 pages: a scanner that then
    trickles one new row per page is stopped after 4 requests."""
    first = [_row(f"COINBASE:A{n}USD") for n in range(50)]
    trickle = [_scan_page(100, [_row(f"COINBASE:B{n}USD")]) for n in range(10)]
    with pytest.raises(IncompleteSnapshotError, match="after 4 pages, the most allowed"):
        _fetch(SCAN, [_scan_page(100, first), *trickle, Answer(404, b"asked too often")], _tv)


def test_identical_rows_across_tradingview_pages_are_one_and_complete_the_scan() -> None:
    """A row repeated identically on the next page counts towards `totalCount` and is one
    record: the snapshot is complete and holds each symbol once."""
    rows = _scan_rows()
    (snapshot,), requests = _fetch(
        SCAN,
        [_scan_page(5, rows[:3]), _scan_page(5, [rows[3], rows[0]]), Answer(404, b"once more")],
        _tv,
    )
    assert requests == 2
    assert sorted(r.symbol for r in snapshot.records) == sorted(row["s"] for row in rows)


def _linear_page(symbols: list[str], cursor: str) -> Answer:
    body = fixture("bybit/bybit_instruments_linear.json")
    template = body["result"]["list"][0]
    body["result"]["list"] = [{**template, "symbol": name} for name in symbols]
    body["result"]["nextPageCursor"] = cursor
    return _answer(body)


def test_a_bybit_page_that_adds_no_symbol_ends_the_fetch() -> None:
    """A new cursor on a page of symbols already seen is incomplete, not followed."""
    pages = [_linear_page(["BTCUSDT"], "c1"), _linear_page(["BTCUSDT"], "c2")]
    with pytest.raises(IncompleteSnapshotError, match="page 2 added no row"):
        _fetch(bybit.PATH, [*pages, _linear_page(["BTCUSDT"], "c1")], _bybit)


def test_bybit_paging_is_bounded_by_time() -> None:
    """Ever new cursors and rows, on a clock that moves 100 s a request: past the paging
    limit (250 s here) the fetch is incomplete, after 3 pages."""
    pages = [_linear_page([f"C{n}USDT"], f"c{n}") for n in range(20)]
    ticks = iter(range(0, 10_000, 100))
    settings = replace(FAST, paging_seconds=250)
    with pytest.raises(IncompleteSnapshotError, match="3 pages and 300 s"):
        _fetch(bybit.PATH, pages, _bybit, settings, clock=lambda: float(next(ticks)))


# -- one source's failure stays its own ------------------------------------------------------


def _nested(depth: int) -> bytes:
    return b'{"code": "0", "data": [], "x": ' + b"[" * depth + b"]" * depth + b"}"


def test_a_deeply_nested_body_fails_its_source_and_the_other_source_commits(
    tmp_path: Path,
) -> None:
    """OKX answers a body nested 100,000 levels deep in the same `sync` as a Binance tick
    change: OKX fails with `MalformedResponseError`, Binance's change is committed."""
    root = tmp_path / "lake"
    _spot_sync(root, spot(22))
    changed = spot(23, {"BTCUSDT": {"tickSize": "0.10000000"}})
    answers = {binance.SPOT_PATH: [_answer(changed)], okx.PATH: [Answer(200, _nested(100_000))]}
    spot_report, okx_report = _sync(root, answers, ("binance-spot", "okx"))
    assert okx_report.error_kind == "MalformedResponseError"
    assert "nested too deeply" in (okx_report.error or "")
    assert (spot_report.ok, spot_report.appended) == (True, 1)
    btc = Catalog.open(root).get("BINANCE:BTCUSDT", at(23))
    assert btc is not None
    assert btc.tick_size == Decimal("0.1")


def test_a_body_over_the_cap_is_malformed_and_not_read_to_its_end() -> None:
    """A body longer than `max_body` is refused once the cap is passed (announced by its
    length, or streamed in chunks); the source fails alone, without a retry."""
    big = json.dumps(spot(22)).encode()
    settings = replace(FAST, max_body=1000)
    with pytest.raises(MalformedResponseError, match="over the cap of 1000 bytes"):
        _fetch(binance.SPOT_PATH, [Answer(200, big)], binance.fetch_spot, settings)

    async def streamed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(100):
            await response.write(b" " * 1000)
        await response.write(big)
        return response

    async def go() -> None:
        app = web.Application()
        app.router.add_get(binance.SPOT_PATH, streamed)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            async with open_session(settings) as session:
                http = SourceHttp("binance-spot", session, replace(settings, max_body=4096))
                await binance.fetch_spot(http, url)
        finally:
            await runner.cleanup()

    with pytest.raises(MalformedResponseError, match=r"passed \d+ bytes, over the cap of 4096"):
        run(go)


# -- values that cannot be true, symbols that are not names ----------------------------------


def _spot_filters(day: int, symbol: str, **values: str) -> dict[str, Any]:
    """Return `spot(day)` with filter values of `symbol` replaced (`tickSize`, `stepSize`...)."""
    body = spot(day)
    for row in body["symbols"]:
        if row["symbol"] != symbol:
            continue
        for entry in row["filters"]:
            if entry["filterType"] in ("PRICE_FILTER", "LOT_SIZE", "MIN_NOTIONAL"):
                entry.update({k: v for k, v in values.items() if k in entry})
    return body


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"tickSize": "-0.01000000"}, "tick_size: '-0.01000000' is not positive"),
        ({"stepSize": "-1"}, "lot_size: '-1' is not positive"),
        ({"minNotional": "-10"}, "min_notional: '-10' is not positive"),
        ({"tickSize": "1_000"}, "tick_size: '1_000' is not a decimal of ASCII digits"),
        ({"tickSize": "\u0661\u0662"}, "is not a decimal of ASCII digits"),  # Arabic-Indic 12
        ({"tickSize": "\uff10.01"}, "is not a decimal of ASCII digits"),  # fullwidth zero
        ({"tickSize": "1e-8"}, "is not a decimal of ASCII digits"),
        ({"tickSize": "0.0000000000000000001"}, "more than 18 digits after the point"),
    ],
)
def test_a_size_that_cannot_be_true_rejects_its_row_only(
    tmp_path: Path, values: dict[str, str], says: str
) -> None:
    """The row is not stored and is named with the reason; the other row is listed."""
    report = _spot_sync(tmp_path / "lake", _spot_filters(22, "BTCUSDT", **values))
    assert report.ok
    (market,) = report.markets
    assert (market.listed, market.rejected) == (1, 1)
    (shown,) = market.rejections
    assert shown.startswith("'binance:spot:BTCUSDT': ")
    assert says in shown
    catalog = Catalog.open(tmp_path / "lake")
    assert catalog.get("BINANCE:BTCUSDT", at(22)) is None
    assert catalog.get("BINANCE:ETHUSDT", at(22)) is not None


def test_zero_is_null_at_binance_and_malformed_at_okx_and_bybit() -> None:
    """Binance documents 0 as "no constraint": null. OKX and Bybit do not: their row with a
    size of "0" is rejected, never stored as 0."""
    zero = _spot_filters(22, "BTCUSDT", stepSize="0.00000000", minNotional="0")
    (spot_snapshot,), _ = _fetch(binance.SPOT_PATH, [_answer(zero)], binance.fetch_spot)
    btc = next(r for r in spot_snapshot.records if r.symbol == "BINANCE:BTCUSDT")
    assert (btc.fields["lot_size"], btc.fields["min_notional"]) == (None, None)

    okx_body = fixture("okx/okx_instruments_spot.json")
    okx_body["data"][0]["lotSz"] = "0"

    def okx_spot(http: SourceHttp, url: str) -> Any:
        return okx.fetch(http, url, ("SPOT",))

    (okx_snapshot,), _ = _fetch(okx.PATH, [_answer(okx_body)], okx_spot)
    (rejection,) = okx_snapshot.rejected
    assert str(rejection) == "'okx:spot:BTC-USD': lot_size: '0' is not positive (use null for none)"
    assert len(okx_snapshot.records) == len(okx_body["data"]) - 1

    bybit_body = fixture("bybit/bybit_instruments_spot.json")
    bybit_body["result"]["list"][0]["lotSizeFilter"]["minOrderAmt"] = "0"

    def bybit_spot(http: SourceHttp, url: str) -> Any:
        return bybit.fetch(http, url, ("spot",))

    (bybit_snapshot,), _ = _fetch(bybit.PATH, [_answer(bybit_body)], bybit_spot)
    assert [str(r) for r in bybit_snapshot.rejected] == [
        "'bybit:spot:BTCUSDT': min_notional: '0' is not positive (use null for none)"
    ]


def test_a_tradingview_row_with_a_negative_pricescale_is_rejected() -> None:
    """JSON numbers meet the same rule: a negative `pricescale` rejects that row only."""
    rows = _scan_rows()
    rows[2]["d"][7] = -100
    (snapshot,), _ = _fetch(SCAN, [_scan_page(4, rows)], _tv)
    assert [str(r) for r in snapshot.rejected] == [
        "'tradingview:crypto:COINBASE:BTCUSD': pricescale: Decimal('-100') is not positive "
        "(use null for none)"
    ]
    assert len(snapshot.records) == 3


@pytest.mark.parametrize(
    ("symbol", "says"),
    [
        ("BTC\x00USDT", "holds U+0000"),
        ("BTC\nUSDT", "holds U+000A"),
        ("BTC\x1b[31mUSDT", "holds U+001B"),
        ("BTC\u202eUSDT", "holds right-to-left override"),
        ("BTC USDT", "holds space"),
        ("../../etc", "holds '/'"),
        ("", "symbol ticker: expected a non-empty name"),
        ("-.-", "has no letter or digit"),
        ("A" * 10_000, "10008 characters long, more than 100"),
    ],
)
def test_a_symbol_that_is_not_a_printable_name_is_rejected(
    tmp_path: Path, symbol: str, says: str
) -> None:
    """A spot pair whose symbol breaks the name rule is not stored; it is named with its
    unprintable characters escaped, and the other pair is listed."""
    report = _spot_sync(tmp_path / "lake", spot(22, {"ETHUSDT": {"symbol": symbol}}))
    assert report.ok
    (market,) = report.markets
    assert (market.listed, market.rejected) == (1, 1)
    (shown,) = market.rejections
    assert says in shown
    assert shown.isprintable()
    assert Catalog.open(tmp_path / "lake").universe(at(22))["symbol"].to_pylist() == [
        "BINANCE:BTCUSDT"
    ]


def test_a_listed_instrument_whose_row_turns_unreadable_is_not_absent(tmp_path: Path) -> None:
    """A BTC-USD row whose `tickSz` holds a NUL keeps its id, so it is rejected three times
    in a row without ever counting absent or being delisted (absence after one run). (OKX
    symbols come from `instId` alone, so a currency field can no longer make one
    unprintable.)"""
    root = tmp_path / "lake"
    good = fixture("okx/okx_instruments_spot.json")
    bad = copy.deepcopy(good)
    bad["data"][0]["tickSz"] = "0.1\x00"
    answers = {okx.PATH: [_answer(good)]}
    run_options = SyncOptions(absence_runs=1, observed_at=_day(1))
    (first,) = _sync(root, answers, ("okx",), run_options)
    assert first.appended == len(good["data"])
    for day in (2, 3, 4):
        options = replace(run_options, observed_at=_day(day))
        (report,) = _sync(root, {okx.PATH: [_answer(bad)]}, ("okx",), options)
        (market,) = [m for m in report.markets if m.market == "spot"]
        assert (market.rejected, market.absent, market.delisted) == (1, 0, 0)
        assert market.rejections == [
            "'okx:spot:BTC-USD': tick_size: '0.1\\x00' is not a decimal of ASCII digits"
        ]
    btc = Catalog.open(root).get("OKX:BTCUSD", _day(4))
    assert btc is not None
    assert btc.active


def test_an_existing_instrument_whose_row_breaks_a_rule_keeps_its_values(tmp_path: Path) -> None:
    """Listed with tick 0.01, then reported with tick -0.01 three times (absence after 1 run):
    the row is rejected each time, the instrument stays active with tick 0.01."""
    root = tmp_path / "lake"
    _spot_sync(root, spot(22))
    for day in (23, 24, 25):
        report = _spot_sync(root, spot(day, {"BTCUSDT": {"tickSize": "-0.01"}}), absence_runs=1)
        assert (report.appended, report.rejected) == (0, 1)
    btc = Catalog.open(root).get("BINANCE:BTCUSDT", at(25))
    assert btc is not None
    assert (btc.active, btc.tick_size) == (True, Decimal("0.01"))
    assert len(EventLog.open(root)) == 2


def test_a_non_ascii_perpetual_name_is_a_symbol() -> None:
    """Binance USD-M lists a TRADING perpetual named in Chinese characters: it is stored."""
    body = fixture("binance/binance_usdm_futures_exchangeInfo.json")
    body["symbols"][0]["symbol"] = "币安人生USDT"

    def usdm(http: SourceHttp, url: str) -> Any:
        return binance.fetch_usdm(http, url)

    (snapshot,), _ = _fetch(binance.USDM_PATH, [_answer(body)], usdm)
    assert snapshot.rejected == ()
    assert "BINANCE:币安人生USDT.P" in {r.symbol for r in snapshot.records}


def test_all_rows_rejected_is_an_incomplete_snapshot(tmp_path: Path) -> None:
    """A snapshot whose every row breaks a rule lists nothing: the source fails, naming one."""
    body = spot(22, {"BTCUSDT": {"symbol": "X/Y"}, "ETHUSDT": {"symbol": "E/F"}})
    report = _spot_sync(tmp_path / "lake", body)
    assert report.error_kind == "IncompleteSnapshotError"
    assert "2 rejected: 'binance:spot:X/Y': symbol ticker: 'X/Y' holds '/'" in (report.error or "")


# -- duplicates inside one snapshot ----------------------------------------------------------


def test_two_identical_rows_are_one_and_two_different_ones_fail_the_market(
    tmp_path: Path,
) -> None:
    """BTCUSDT twice, identical: listed once. Twice with different tick sizes: the market is
    malformed, naming the instrument, and nothing is appended."""
    body = spot(22)
    body["symbols"].append(copy.deepcopy(body["symbols"][0]))
    report = _spot_sync(tmp_path / "one", body)
    assert (report.appended, report.markets[0].instruments) == (2, 2)

    body["symbols"][-1]["filters"][0]["tickSize"] = "0.1"
    report = _spot_sync(tmp_path / "two", body)
    assert report.error_kind == "MalformedResponseError"
    assert "'binance:spot:BTCUSDT' is listed twice with different values" in (report.error or "")
    assert len(EventLog.open(tmp_path / "two")) == 0


# -- rejected rows in the summary and in the daemon's status --------------------------------


def test_the_sync_summary_counts_and_names_rejected_rows(tmp_path: Path) -> None:
    """The summary has a `rejected` column and lists the first rejected rows, escaped."""
    report = _spot_sync(tmp_path / "lake", spot(22, {"ETHUSDT": {"symbol": "ETH\x1bUSDT"}}))
    text = summary([("live", report)])
    header = text.splitlines()[0].split()
    assert "rejected" in header
    assert "rejected rows (not stored):" in text
    assert "binance-spot spot: 'binance:spot:ETH\\x1bUSDT': symbol: 'BINANCE:ETH\\x1bUSDT' " in text
    assert "\x1b" not in text


def test_the_daemon_status_shows_the_rejected_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a daemon run whose snapshot had a rejected row, `catalog status` shows how many
    and names it (JSON too)."""
    root = tmp_path / "lake"

    async def go() -> None:
        async with ScriptedVenue() as venue:
            venue.queue(binance.SPOT_PATH, _answer(spot(22, {"ETHUSDT": {"tickSize": "-1"}})))
            source = SourceConfig(interval="1h", base_url=venue.base_url)
            config = Config(root=str(root), sources={"binance-spot": source})
            daemon = Daemon(config, logging.getLogger("test-hostile"))
            stop = asyncio.Event()
            serving = asyncio.create_task(daemon.serve(stop))
            state = daemon.status.sources
            while not (state.get("binance-spot") and state["binance-spot"].last_success):
                await asyncio.sleep(0.05)
            stop.set()
            await serving

    run(go)
    assert main(["--root", str(root), "status"]) == 0
    out = capsys.readouterr().out
    assert "rejected" in out.splitlines()[1]
    assert "binance-spot rejected: 'binance:spot:ETHUSDT': tick_size: '-1' is not positive" in out
    assert main(["--root", str(root), "status", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)["sources"]["binance-spot"]
    assert found["last_rejected"] == 1
    assert found["rejections"] == [
        "'binance:spot:ETHUSDT': tick_size: '-1' is not positive (use null for none)"
    ]


# -- elsewhere: drift, the daemon's configuration, `catalog sync` ---------------------------


def test_a_rejected_row_is_not_drift_missing_from_the_source(tmp_path: Path) -> None:
    """After a sync, the source reports BTCUSDT with a negative tick size: the drift check
    does not call it missing from the source (the row is there, only refused)."""
    root = tmp_path / "lake"
    _spot_sync(root, spot(22))
    folder = spot_snapshots(tmp_path, spot(23, {"BTCUSDT": {"tickSize": "-0.01"}}))
    found, observed = run(lambda: drift.replayed(folder, "binance-spot", FAST))
    assert drift.against(Catalog.open(root), found, observed) == []


def test_the_body_cap_is_configured_per_source(tmp_path: Path) -> None:
    """`max_body_mb` defaults to 64 per source; a cap of 0 is refused naming the key."""
    path = tmp_path / "catalog.toml"
    path.write_text(
        '[sources.okx]\ninterval = "1m"\n[sources.bybit]\ninterval = "1m"\nmax_body_mb = 2\n'
    )
    config = load(path)
    assert (config.sources["okx"].max_body_mb, config.sources["bybit"].max_body_mb) == (64, 2)
    path.write_text('[sources.okx]\ninterval = "1m"\nmax_body_mb = 0\n')
    with pytest.raises(ConfigError, match=r"sources.okx.max_body_mb: must be positive"):
        load(path)


def test_catalog_sync_takes_a_body_cap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`catalog sync --max-body-mb 0.001` refuses the 2 KB spot body: the source fails with
    the cap named, and nothing is appended."""
    venue = ScriptedVenue()
    venue.queue(binance.SPOT_PATH, _answer(spot(22)))
    root = tmp_path / "lake"
    with ThreadedVenue(venue) as served:
        argv = ["--root", str(root), "sync", "binance-spot", "--quiet", "--max-body-mb", "0.001"]
        status = main([*argv, "--base-url", f"binance-spot={served.base_url}"])
    out = capsys.readouterr().out
    assert status == 1
    assert "over the cap of 1048 bytes" in out
    assert len(EventLog.open(root)) == 0
