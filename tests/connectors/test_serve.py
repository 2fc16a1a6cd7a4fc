"""`catalog serve`: the read-only HTTP service, on loopback, against a log built in the test.

Each answer is checked against the Python API's own; each refusal is problem+json with its
status, and leaves the log as it was (the service writes nothing).
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest
from builders import coin_symbol, listed
from served import ARROW, BTC, ETH, FIRST_RECORDED, PERP, PERP_RENAMED, arrow_body, call, fill

from connectors.cli.main import main
from connectors.cli.render import jsonable, to_json
from connectors.serve import InThread, ServiceSettings
from eventstore import EventLog
from projections import Catalog

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fill(tmp_path_factory.mktemp("served") / "lake")


@pytest.fixture(scope="module")
def base(root: Path) -> Iterator[str]:
    """Return the base URL of the service over `root`, with a small body cap."""
    settings = ServiceSettings(max_body=64 * 1024)
    with InThread(Catalog.open(root), settings) as served:
        yield served.base_url


def q(**params: str) -> str:
    return "?" + urllib.parse.urlencode(params)


def test_instrument_at_t_is_the_api_answer_in_json_and_in_arrow(root: Path, base: str) -> None:
    """`/instruments/{symbol}` answers `Catalog.get`: decimals as strings in JSON, exact in
    Arrow; `known_at` hides the tick change observed later."""
    cat = Catalog.open(root)
    at = "2024-06-15T00:00:00Z"
    found = call(f"{base}/instruments/{BTC}{q(as_of=at)}")
    assert (found.status, found.media) == (200, "application/json")
    assert found.json() == json.loads(to_json(cat.get(BTC, at)))
    assert found.json()["tick_size"] == "0.1"
    then = call(f"{base}/instruments/{BTC}{q(as_of=at, known_at='2024-02-01T00:00:00Z')}")
    assert then.json()["tick_size"] == "0.01"
    arrow = call(f"{base}/instruments/{BTC}{q(as_of=at)}", accept=ARROW)
    assert arrow.media == ARROW
    assert arrow.table().to_pylist()[0]["tick_size"] == Decimal("0.1")
    assert arrow.table().schema.field("valid_from").type == pa.timestamp("us", "UTC")


def test_an_offset_sent_unencoded_reads_as_the_plus_it_was(base: str) -> None:
    """A `+00:00` that arrives as a space (a query string's `+`) is read as `+00:00`."""
    found = call(f"{base}/instruments/{BTC}?as_of=2024-06-15T00:00:00+00:00")
    assert found.json()["tick_size"] == "0.1"


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("2024-06-15T00:00:00", "has no time zone"),
        ("2024-06-15", "has no time zone"),
        ("1718409600", "not an ISO-8601 instant"),
        ("yesterday", "not an ISO-8601 instant"),
    ],
)
def test_a_naive_or_malformed_instant_is_a_400_naming_the_parameter(
    base: str, given: str, said: str
) -> None:
    """A naive, bare-number or unreadable `as_of` is refused as problem+json, in one line."""
    found = call(f"{base}/instruments/{BTC}{q(as_of=given)}")
    assert (found.status, found.media) == (400, PROBLEM)
    problem = found.json()
    assert problem["parameter"] == "as_of"
    assert said in problem["detail"]
    assert problem["status"] == 400
    assert "\n" not in problem["detail"]


def test_resolve_and_holders_are_the_api_answers(root: Path, base: str) -> None:
    """`/resolve` answers `Catalog.resolve` and the id's other names; `/holders/{symbol}`
    answers `Catalog.holders`: a renamed perpetual held its old symbol until the rename."""
    cat = Catalog.open(root)
    at = "2024-06-15T00:00:00Z"
    found = call(f"{base}/resolve{q(name=BTC, as_of=at)}").json()
    assert found["instrument_id"] == cat.resolve(BTC, at)
    assert found["names"]["tradingview"] == {"exchange": "BINANCE", "name": BTC}
    held = call(f"{base}/holders/{PERP}").json()
    expected = cat.holders(PERP).to_pylist()
    assert held["count"] == len(expected) == 1
    assert held["rows"][0]["instrument_id"] == expected[0]["instrument_id"]
    assert held["rows"][0]["held_until"] == "2024-05-01T00:00:00Z"


def test_resolve_and_holders_refuse_with_problems(base: str) -> None:
    """An unknown name: 404 with suggestions; an unknown scheme or no name: 400; an
    unknown symbol's holders: 404."""
    unknown = call(f"{base}/resolve{q(name='BINANCE:BTCUSDX')}")
    assert (unknown.status, unknown.media) == (404, PROBLEM)
    assert BTC in unknown.json()["suggestions"]
    scheme = call(f"{base}/resolve{q(name=BTC, scheme='bloomberg')}")
    assert (scheme.status, scheme.media) == (400, PROBLEM)
    assert "unknown naming scheme 'bloomberg'" in scheme.json()["detail"]
    assert call(f"{base}/resolve").status == 400
    nobody = call(f"{base}/holders/BINANCE:NOPEUSDT")
    assert (nobody.status, nobody.media) == (404, PROBLEM)


def test_revisions_are_the_api_answer_and_a_backward_window_is_a_400(root: Path, base: str) -> None:
    """`/revisions` answers `Catalog.revisions` (here: what was recorded after the first
    commit, the later tick change); K2 before K1 is a 400 problem."""
    since = FIRST_RECORDED.isoformat()
    expected = Catalog.open(root).revisions(since, basis="recorded")
    found = call(f"{base}/revisions{q(known_since=since, basis='recorded')}").json()
    assert found["count"] == expected.num_rows > 0
    assert [r["field"] for r in found["rows"]] == expected["field"].to_pylist()
    backward = call(f"{base}/revisions{q(known_since=since, known_until='2020-01-01T00:00:00Z')}")
    assert (backward.status, backward.media) == (400, PROBLEM)


def test_an_unknown_symbol_is_a_404_with_suggestions(base: str) -> None:
    """A symbol nobody held: 404 with the closest known names; one not listed at T: 404
    of another type, without suggestions."""
    found = call(f"{base}/instruments/BINANCE:BTCUSDX")
    assert (found.status, found.media) == (404, PROBLEM)
    assert found.json()["suggestions"][0] == BTC
    assert "did you mean BINANCE:BTCUSDT" in found.json()["detail"]
    history = call(f"{base}/instruments/BINANCE:ETHUSDX/history")
    assert (history.status, history.json()["suggestions"][0]) == (404, ETH)
    before = call(f"{base}/instruments/{PERP}{q(as_of='2024-01-15T00:00:00Z')}")
    assert before.status == 404
    assert before.json()["type"] == "/problems/not-listed"
    assert "suggestions" not in before.json()


def test_universe_takes_the_command_line_filters(root: Path, base: str) -> None:
    """`/universe` answers `Catalog.universe` with its options and the column filters."""
    cat = Catalog.open(root)
    at = "2024-04-01T00:00:00Z"
    every = call(f"{base}/universe{q(as_of=at)}").json()
    assert every["count"] == 2
    assert every["as_of"] == at
    assert every["rows"] == json.loads(to_json(cat.universe(at).to_pylist()))
    with_gone = call(f"{base}/universe{q(as_of=at, include_inactive='true')}").json()
    assert {row["symbol"] for row in with_gone["rows"]} == {BTC, ETH, PERP}
    okx = call(f"{base}/universe{q(as_of=at, exchange='OKX')}").json()
    assert [row["symbol"] for row in okx["rows"]] == [PERP]
    linear = call(f"{base}/universe{q(as_of=at, inverse='no', settle='USDT')}").json()
    assert [row["symbol"] for row in linear["rows"]] == [PERP]
    spot = call(f"{base}/universe{q(as_of=at, type='spot', base='BTC', quote='USDT')}")
    assert [row["symbol"] for row in spot.json()["rows"]] == [BTC]
    arrow = call(f"{base}/universe{q(as_of=at)}", accept=ARROW).table()
    assert arrow.replace_schema_metadata(None).equals(cat.universe(at))
    assert arrow.schema.metadata[b"as_of"] == at.encode()
    bad = call(f"{base}/universe{q(as_of=at, tradable='maybe')}")
    assert (bad.status, bad.json()["parameter"]) == (400, "tradable")


def test_history_changes_and_exchanges_are_the_api_answers(root: Path, base: str) -> None:
    """`history`, `changes` (with `symbol` and `last`) and `exchanges` answer as the API."""
    cat = Catalog.open(root)
    history = call(f"{base}/instruments/{BTC}/history").json()
    assert history["rows"] == json.loads(to_json(cat.history(BTC).to_pylist()))
    known = call(f"{base}/instruments/{BTC}/history{q(known_at='2024-02-01T00:00:00Z')}")
    assert known.json()["count"] == 1
    window = q(since="2024-01-01T00:00:00Z", until="2025-01-01T00:00:00Z")
    changes = call(f"{base}/changes{window}&symbol={BTC}").json()
    assert [(row["what"], row["field"]) for row in changes["rows"]] == [
        ("listed", None),
        ("changed", "tick_size"),
    ]
    assert changes["rows"][-1]["old"] == "0.01"
    assert changes["rows"][-1]["new"] == "0.1"
    last = call(f"{base}/changes{window}&last=1").json()
    assert last["count"] == 1
    assert last["rows"][0]["field"] == "tick_size"
    arrow = call(f"{base}/changes{window}&symbol={BTC}", accept=ARROW).table()
    assert arrow.column("new").to_pylist()[-1] == '"0.1"'
    missing = call(f"{base}/changes")
    assert (missing.status, missing.json()["parameter"]) == (400, "since")
    exchanges = call(f"{base}/exchanges{q(as_of='2024-04-01T00:00:00Z')}").json()
    assert [row["exchange"] for row in exchanges["rows"]] == ["BINANCE"]


def test_pit_join_answers_the_in_process_join_in_arrow(root: Path, base: str) -> None:
    """`POST /pit-join` with an Arrow stream of bars answers `Catalog.pit_join`'s table."""
    bars = pa.table(
        {
            "symbol": [BTC, BTC, ETH, "BINANCE:NOPE", None],
            "ts": pa.array(
                [datetime(2024, m, 2, tzinfo=UTC) for m in (2, 7, 4, 4, 4)],
                pa.timestamp("ms", "UTC"),
            ),
            "close": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    options = {"fields": "tick_size,lot_size", "known_at": "row"}
    found = call(f"{base}/pit-join{q(**options)}", data=arrow_body(bars), media=ARROW)
    assert (found.status, found.media) == (200, ARROW)
    expected = Catalog.open(root).pit_join(bars, fields=["tick_size", "lot_size"], known_at="row")
    assert found.table().equals(expected)
    assert found.table()["tick_size"].to_pylist()[:2] == [Decimal("0.01"), Decimal("0.1")]
    assert found.table()["active"].to_pylist() == [True, True, False, False, False]


def test_pit_join_refusals(base: str) -> None:
    """415 for a body that is not Arrow, 400 for an unreadable one or a bad field or a
    naive ts column, 413 for a body over the cap."""
    bars = pa.table({"symbol": [BTC], "ts": pa.array([datetime(2024, 2, 1)], pa.timestamp("us"))})
    url = f"{base}/pit-join"
    json_body = call(url, data=b"[]", media="application/json")
    assert (json_body.status, json_body.media) == (415, PROBLEM)
    garbage = call(url, data=b"not arrow", media=ARROW)
    assert (garbage.status, garbage.json()["title"]) == (400, "bad body")
    naive = call(url, data=arrow_body(bars), media=ARROW)
    assert naive.status == 400
    assert "time zone" in naive.json()["detail"]
    bad_field = call(f"{url}?fields=tick_sise", data=arrow_body(bars), media=ARROW)
    assert (bad_field.status, bad_field.json()["parameter"]) == (400, "fields")
    big = pa.table({"symbol": [BTC] * 20_000, "ts": pa.array([0] * 20_000, bars["ts"].type)})
    too_big = call(url, data=arrow_body(big), media=ARROW)
    assert (too_big.status, too_big.media) == (413, PROBLEM)


def test_health_audit_and_unknown_routes(root: Path, base: str) -> None:
    """`/health` names the log version; `/audit` is the audit's report; an unknown route
    and a wrong method are problem+json too."""
    health = call(f"{base}/health").json()
    assert health["status"] == "ok"
    assert health["instruments"] == 3
    audit = call(f"{base}/audit").json()
    assert audit["ok"] is True
    assert audit["events"] == 7
    assert audit["log_version"] == health["log_version"]
    nothing = call(f"{base}/nothing")
    assert (nothing.status, nothing.media) == (404, PROBLEM)
    posted = call(f"{base}/health", data=b"", media="text/plain")
    assert (posted.status, posted.media) == (405, PROBLEM)


def test_a_request_over_the_time_limit_is_a_503(root: Path) -> None:
    """A question that takes longer than `request_seconds` is answered 503, problem+json."""
    catalog = Catalog.open(root)
    slow = catalog.universe

    def universe(*args: Any, **kwargs: Any) -> pa.Table:
        time.sleep(0.5)
        return slow(*args, **kwargs)

    catalog.universe = universe  # type: ignore[method-assign]
    with InThread(catalog, ServiceSettings(request_seconds=0.1)) as served:
        found = call(f"{served.base_url}/universe")
    assert (found.status, found.media) == (503, PROBLEM)


def test_the_service_writes_nothing(root: Path, base: str) -> None:
    """After every question and refusal above, the log is at the version it was written at."""
    assert EventLog.open(root).refresh() == 1
    assert call(f"{base}/health").json()["log_version"] == 1
    assert jsonable(Decimal("0.10")) == "0.1"


def test_concurrent_questions_follow_a_writer_appending_to_the_root(tmp_path: Path) -> None:
    """Eight clients ask for the universe and one instrument of it while a writer appends
    one listing per commit:
    every answer is a whole prefix of the commits (never a torn one), each client sees the
    count grow, and once the writer is done every answer has every listing."""
    log = EventLog.open(tmp_path / "lake")
    log.append([listed(1)])
    commits = 15
    at = "?as_of=2025-01-01T00:00:00Z"
    url_of = f"/universe{at}"
    with InThread(Catalog.open(tmp_path / "lake")) as served:
        done = threading.Event()

        def write() -> None:
            for n in range(2, commits + 2):
                log.append([listed(n)])
            done.set()

        def ask() -> list[int]:
            seen: list[int] = []
            while not done.is_set() or len(seen) < 3:
                rows = call(served.base_url + url_of).json()["rows"]
                symbols = {row["symbol"] for row in rows}
                assert symbols == {coin_symbol(n) for n in range(1, len(rows) + 1)}
                seen.append(len(rows))
                # a quick question, answered on the loop while the catalog thread is free
                one = call(f"{served.base_url}/instruments/{coin_symbol(len(rows))}{at}")
                assert one.json()["symbol"] == coin_symbol(len(rows))
            return seen

        with ThreadPoolExecutor(9) as pool:
            writer = pool.submit(write)
            readers = [pool.submit(ask) for _ in range(8)]
            writer.result()
            counts = [reader.result() for reader in readers]
        final = call(served.base_url + url_of).json()
    assert all(seen == sorted(seen) for seen in counts)
    assert final["count"] == commits + 1
    assert max(max(seen) for seen in counts) == commits + 1


def test_serve_on_a_root_without_a_catalog_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`catalog serve` on a root that holds no catalog says so in one line; nothing listens."""
    status = main(["--root", str(tmp_path / "empty"), "serve", "--port", "0"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("catalog: error: no catalog at ")
    assert err.count("\n") == 1


def test_the_history_of_a_former_symbol_is_its_last_holders(base: str) -> None:
    """A symbol renamed away has no holder at the end of time; its history is that of the
    instrument that held it last (the perpetual, under both its symbols)."""
    found = call(f"{base}/instruments/{PERP}/history").json()
    assert [row["symbol"] for row in found["rows"]] == [PERP, PERP_RENAMED]
    renamed = call(f"{base}/instruments/{PERP_RENAMED}/history").json()
    assert renamed["rows"] == found["rows"]


def test_catalog_serve_answers_on_loopback_and_stops_cleanly_on_sigterm(root: Path) -> None:
    """`catalog serve --port P` listens on 127.0.0.1:P; SIGTERM stops it with status 0."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "connectors.cli.main", "--root", str(root), "serve"]
    child = subprocess.Popen([*command, "--port", str(port)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = call(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "the service did not start"
                time.sleep(0.1)
        assert health.json()["status"] == "ok"
    finally:
        child.send_signal(signal.SIGTERM)
        _, said = child.communicate(timeout=30)
    assert child.returncode == 0
    assert f"the page is http://127.0.0.1:{port}/" in said.decode()
