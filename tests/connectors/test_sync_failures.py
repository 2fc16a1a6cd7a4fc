"""Every way a fetch can fail leaves the log and the sync bookkeeping exactly as they were.

A catalog first syncs a recorded Binance spot snapshot; then the venue misbehaves in one way
per test, and the second sync must report that source as failed with a clear error while
appending nothing and counting no absence.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from test_sync import spot
from venues import FAST, Answer, ScriptedVenue, run

from connectors.sync.syncer import SourceRun, Syncer, SyncOptions
from connectors.venues import binance, bybit
from connectors.venues.registry import SOURCES
from eventstore import EventLog

if TYPE_CHECKING:
    from pathlib import Path

    from connectors.sync.syncer import SourceReport

GOOD = Answer(200, json.dumps(spot(22)).encode())
PARTIAL = Answer(200, json.dumps(spot(23, drop=("ETHUSDT",))).encode())


def _sync(root: Path, path: str, source: str, *answers: Answer) -> SourceReport:
    async def go() -> SourceReport:
        async with ScriptedVenue() as venue:
            venue.queue(path, *answers)
            syncer = Syncer(str(root), SyncOptions())
            settings = replace(FAST, timeout=0.3)
            (report,) = await syncer.run([SourceRun(SOURCES[source], venue.base_url)], settings)
            return report

    report: SourceReport = run(go)
    return report


@pytest.mark.parametrize(
    ("answers", "kind", "says"),
    [
        ((Answer(429, b"", {"Retry-After": "0"}),), "SourceUnavailableError", "HTTP 429"),
        ((Answer(503),), "SourceUnavailableError", "HTTP 503"),
        ((Answer(hang=True),), "SourceUnavailableError", "timed out"),
        ((Answer(418, b"way too much request weight"),), "SourceBannedError", "IP banned"),
        ((Answer(403, b"forbidden"),), "SourceRejectedError", "HTTP 403"),
        ((Answer(200, b"{not json"),), "MalformedResponseError", "not JSON"),
        ((Answer(200, b'{"serverTime": 1, "symbols": {}}'),), "MalformedResponseError", "shape"),
        ((PARTIAL,), "DelistingGuardError", "would delist 1 of 2"),
    ],
)
def test_a_failed_fetch_changes_nothing(
    tmp_path: Path, answers: tuple[Answer, ...], kind: str, says: str
) -> None:
    """The source fails with a clear error naming it; log and absence file are unchanged."""
    root = tmp_path / "lake"
    assert _sync(root, binance.SPOT_PATH, "binance-spot", GOOD).appended == 2
    state = (root / "sync" / "absence.json").read_bytes()
    failed = _sync(root, binance.SPOT_PATH, "binance-spot", *answers)
    assert failed.error_kind == kind
    assert says in (failed.error or "")
    assert "binance-spot" in (failed.error or "")
    assert len(EventLog.open(root)) == 2
    assert (root / "sync" / "absence.json").read_bytes() == state


def test_an_interrupted_bybit_pagination_appends_nothing(tmp_path: Path) -> None:
    """A second page that fails fails the source: the first page's rows are not listed."""
    first = json.loads(json.dumps(_linear()))
    first["result"]["nextPageCursor"] = "page-2"
    report = _sync(
        tmp_path / "lake",
        bybit.PATH,
        "bybit",
        Answer(200, json.dumps(first).encode()),
        Answer(502),
    )
    assert report.error_kind == "SourceUnavailableError"
    assert len(EventLog.open(tmp_path / "lake")) == 0


def _linear() -> dict[str, object]:
    from venues import fixture

    body: dict[str, object] = fixture("bybit/bybit_instruments_linear.json")
    return body
