"""HTTP behaviour of every client: retries, backoff, Retry-After, 418, bad bodies, timeouts."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from venues import FAST, Answer, ScriptedVenue, Sleeps, fixture, run

from connectors.errors import (
    IncompleteSnapshotError,
    MalformedResponseError,
    SourceBannedError,
    SourceRejectedError,
    SourceUnavailableError,
)
from connectors.venues import binance, bybit, okx, tradingview
from connectors.venues.http import HttpSettings, SourceHttp, open_session

SPOT_BODY = json.dumps(fixture("binance/binance_spot_exchangeInfo.json")).encode()
SPOT_PATH = binance.SPOT_PATH


async def _spot(
    venue: ScriptedVenue, settings: HttpSettings = FAST, sleeps: Sleeps | None = None
) -> Any:
    async with open_session(settings) as session:
        http = SourceHttp("binance-spot", session, settings, sleep=sleeps or Sleeps())
        return await binance.fetch_spot(http, venue.base_url), http


def _fetch_spot(
    *answers: Answer, settings: HttpSettings = FAST, sleeps: Sleeps | None = None
) -> Any:
    async def go() -> Any:
        async with ScriptedVenue() as venue:
            venue.queue(SPOT_PATH, *answers)
            snapshots, http = await _spot(venue, settings, sleeps)
            return snapshots, http, venue

    return run(go)


def test_a_retry_after_429_is_honoured_then_the_fetch_succeeds() -> None:
    """429 with `Retry-After: 2` waits 2 s (recorded, not slept) and retries."""
    sleeps = Sleeps()
    snapshots, http, _ = _fetch_spot(
        Answer(429, b"slow down", {"Retry-After": "2"}), Answer(200, SPOT_BODY), sleeps=sleeps
    )
    assert sleeps.delays == [2.0]
    assert http.requests == 2
    assert [r.symbol for r in snapshots[0].records] == ["BINANCE:BTCUSDT", "BINANCE:ETHUSDT"]


def test_a_5xx_is_retried_with_backoff_then_succeeds() -> None:
    """Two 503s, then 200: three requests, two backoff waits within the exponential bound."""
    sleeps = Sleeps()
    settings = replace(FAST, attempts=4, backoff=0.5)
    snapshots, http, _ = _fetch_spot(
        Answer(503), Answer(502), Answer(200, SPOT_BODY), settings=settings, sleeps=sleeps
    )
    assert http.requests == 3
    assert len(sleeps.delays) == 2
    assert 0 <= sleeps.delays[0] <= 0.5
    assert 0 <= sleeps.delays[1] <= 1.0
    assert len(snapshots[0].records) == 2


def test_persistent_5xx_gives_up_with_source_url_and_reason() -> None:
    """Every attempt failing ends in `SourceUnavailableError` naming source, URL and status."""
    with pytest.raises(SourceUnavailableError) as caught:
        _fetch_spot(Answer(500))
    message = str(caught.value)
    assert "binance-spot" in message
    assert SPOT_PATH in message
    assert "HTTP 500" in message
    assert "3 attempts" in message


def test_a_4xx_other_than_429_is_not_retried() -> None:
    """A 404 is final: one request, `SourceRejectedError` with the status."""

    async def go() -> tuple[Exception, int]:
        async with ScriptedVenue() as venue:
            venue.queue(SPOT_PATH, Answer(404, b"gone"))
            try:
                await _spot(venue)
            except SourceRejectedError as exc:
                return exc, len(venue.seen)
            raise AssertionError("no error")

    error, requests = run(go)
    assert requests == 1
    assert error.status == 404


def test_binance_418_stops_at_once_and_refuses_later_requests() -> None:
    """418 (IP banned) is not retried, and the same client sends nothing more afterwards."""

    async def go() -> int:
        async with ScriptedVenue() as venue, open_session(FAST) as session:
            venue.queue(SPOT_PATH, Answer(418, b"banned"))
            http = SourceHttp("binance-spot", session, FAST, sleep=Sleeps())
            for _ in range(2):
                with pytest.raises(SourceBannedError, match="IP banned"):
                    await binance.fetch_spot(http, venue.base_url)
            return len(venue.seen)

    assert run(go) == 1


def test_a_timeout_is_retried_and_reported() -> None:
    """A server that never answers times out each attempt; the error says so."""
    settings = replace(FAST, timeout=0.2, attempts=2)
    with pytest.raises(SourceUnavailableError, match="timed out"):
        _fetch_spot(Answer(hang=True), settings=settings)


def test_a_closed_port_is_a_connection_error() -> None:
    """Nothing listening: `SourceUnavailableError` mentioning the connection."""

    async def go() -> None:
        async with ScriptedVenue() as venue:
            url = venue.base_url
        async with open_session(FAST) as session:
            http = SourceHttp("binance-spot", session, FAST, sleep=Sleeps())
            await binance.fetch_spot(http, url)

    with pytest.raises(SourceUnavailableError, match="connection failed"):
        run(go)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<html>maintenance</html>", "not JSON"),
        (b'{"serverTime": 1, "symbols": [{"symbol": "X"}]}', "unexpected shape"),
        (b'{"symbols": []}', "unexpected shape"),
    ],
)
def test_a_malformed_body_is_a_clear_error(body: bytes, expected: str) -> None:
    """Not JSON, or JSON of the wrong shape: `MalformedResponseError` saying which."""
    with pytest.raises(MalformedResponseError, match=expected):
        _fetch_spot(Answer(200, body))


def test_an_unreadable_number_rejects_its_row_not_the_snapshot() -> None:
    """A tick size that is not a number rejects that row, named with the reason; the
    other rows of the snapshot are kept."""
    broken = fixture("binance/binance_spot_exchangeInfo.json")
    broken["symbols"][0]["filters"][0]["tickSize"] = "one cent"
    (snapshot,), _, _ = _fetch_spot(Answer(200, json.dumps(broken).encode()))
    assert [r.symbol for r in snapshot.records] == ["BINANCE:ETHUSDT"]
    (rejection,) = snapshot.rejected
    assert str(rejection) == (
        "'binance:spot:BTCUSDT': tick_size: 'one cent' is not a decimal of ASCII digits"
    )


def test_requests_carry_a_browser_user_agent_and_tradingview_its_origin() -> None:
    """Every request has a browser-like User-Agent; TradingView's carry its Origin."""
    scan = json.dumps(fixture("tradingview/crypto_scan.synthetic.json")).encode()
    meta = json.dumps(fixture("tradingview/scanner_crypto_metainfo_20250622.json")).encode()

    async def go() -> list[Any]:
        async with ScriptedVenue() as venue, open_session(FAST) as session:
            venue.queue("/crypto/scan", Answer(200, scan))
            venue.queue("/crypto/metainfo", Answer(200, meta))
            headers = {"Origin": tradingview.ORIGIN}
            http = SourceHttp("tradingview", session, FAST, headers=headers, sleep=Sleeps())
            await tradingview.fetch(http, venue.base_url)
            return venue.seen

    seen = run(go)
    assert all(s.headers["User-Agent"].startswith("Mozilla/5.0") for s in seen)
    assert all(s.headers["Origin"] == "https://www.tradingview.com" for s in seen)
    asked = json.loads(seen[1].body)  # after the metainfo, which names the columns served
    assert asked["range"] == [0, tradingview.PAGE_SIZE]
    assert "pricescale" in asked["columns"]


def test_okx_venue_error_code_is_malformed() -> None:
    """OKX answering 200 with `code` != "0" is an error carrying OKX's message."""

    async def go() -> None:
        async with ScriptedVenue() as venue, open_session(FAST) as session:
            venue.queue(
                okx.PATH,
                Answer(200, b'{"code":"51001","data":[],"msg":"Instrument ID does not exist"}'),
            )
            http = SourceHttp("okx", session, FAST, sleep=Sleeps())
            await okx.fetch(http, venue.base_url, ("SPOT",))

    with pytest.raises(MalformedResponseError, match="51001: Instrument ID does not exist"):
        run(go)


def _bybit_pages(first: dict[str, Any], second: Answer) -> Any:
    async def go() -> Any:
        async with ScriptedVenue() as venue, open_session(FAST) as session:
            venue.queue(bybit.PATH, Answer(200, json.dumps(first).encode()), second)
            http = SourceHttp("bybit", session, FAST, sleep=Sleeps())
            return await bybit.fetch(http, venue.base_url, ("linear",)), venue.seen

    return run(go)


def _linear_page(rows: slice, cursor: str) -> dict[str, Any]:
    body = fixture("bybit/bybit_instruments_linear.json")
    body["result"]["list"] = body["result"]["list"][rows]
    body["result"]["nextPageCursor"] = cursor
    return body  # type: ignore[no-any-return]


def test_bybit_follows_the_cursor_across_pages() -> None:
    """Linear pages (the recording split in two, synthetic cursors) are all fetched."""
    second = Answer(200, json.dumps(_linear_page(slice(1, 2), "")).encode())
    snapshots, seen = _bybit_pages(_linear_page(slice(0, 1), "page-2"), second)
    assert sorted(r.symbol for r in snapshots[0].records) == ["BYBIT:BTCUSDT.P", "BYBIT:ETHUSDT.P"]
    assert seen[1].query["cursor"] == "page-2"
    assert [s.query.get("status") for s in seen] == [None, None, "Closed"]


def test_bybit_interrupted_pagination_fails_the_whole_fetch() -> None:
    """A page failing after the first one fails the fetch: no partial snapshot exists."""
    with pytest.raises(SourceRejectedError):
        _bybit_pages(_linear_page(slice(0, 1), "page-2"), Answer(400, b"bad cursor"))


def test_bybit_a_looping_cursor_is_incomplete() -> None:
    """A cursor the venue already gave is refused instead of looping forever."""
    again = Answer(200, json.dumps(_linear_page(slice(1, 2), "page-2")).encode())
    with pytest.raises(IncompleteSnapshotError, match="loops"):
        _bybit_pages(_linear_page(slice(0, 1), "page-2"), again)


def test_tradingview_a_universe_that_changes_while_paging_is_incomplete() -> None:
    """A later page with another `totalCount` (or no rows) makes the scan incomplete."""
    first = fixture("tradingview/crypto_scan.synthetic.json")
    first["totalCount"] = 10  # more than the page holds: a second page is asked for

    async def go() -> None:
        async with ScriptedVenue() as venue, open_session(FAST) as session:
            venue.queue(
                "/crypto/scan",
                Answer(200, json.dumps(first).encode()),
                Answer(200, b'{"totalCount": 9, "data": []}'),
            )
            venue.queue("/crypto/metainfo", Answer(200, b'{"fields": []}'))
            http = SourceHttp("tradingview", session, FAST, sleep=Sleeps())
            await tradingview.fetch(http, venue.base_url)

    with pytest.raises(IncompleteSnapshotError, match="4 of 10 rows"):
        run(go)
