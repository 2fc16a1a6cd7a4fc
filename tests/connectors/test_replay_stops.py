"""A replay stops at the first refused snapshot and appends nothing for it or after it;
the bundled samples, years apart, replay with the flags the README names, twice, audited."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from test_sync import spot
from venues import FAST, SAMPLES, fixture, run, write_snapshot

from connectors.catalog_audit import audit_catalog
from connectors.cli.main import main
from connectors.replay.driver import NOT_APPENDED, Replayed, replay
from connectors.sync.syncer import SyncOptions
from eventstore import EventLog

if TYPE_CHECKING:
    import pytest

    from connectors.sync.syncer import SourceReport

README = Path(__file__).resolve().parents[2] / "README.md"
#: What the README says a backfill of the bundled samples needs.
BACKFILL_FLAGS = ("--max-delist-share", "0.5")


def replayed(root: Path, folder: Path, options: SyncOptions | None = None) -> Replayed:
    """Replay `folder` into the catalog under `root`."""
    return run(lambda: replay(str(root), folder, options, settings=FAST))  # type: ignore[no-any-return]


def reports(done: Replayed) -> list[SourceReport]:
    """Return every report of a replay, in order."""
    return [report for _, items in done.done for report in items]


def test_the_bundled_samples_stop_at_the_first_refused_snapshot(tmp_path: Path) -> None:
    """With the live default (5%), 2020-11-01 would delist 2 of 15 spot pairs: the replay
    stops there, appends nothing for it nor for the 7 after it, and says how to go on."""
    root = tmp_path / "lake"
    done = replayed(root, SAMPLES)
    assert [snapshot.path.name for snapshot, _ in done.done] == [
        "2020-10-07-subset",
        "2020-11-01-subset",
    ]
    assert len(EventLog.open(root)) == done.appended == 15
    stop = done.stopped
    assert stop is not None
    assert stop.snapshot.path.name == "2020-11-01-subset"
    assert stop.remaining == 7
    assert [r.error_kind for r in stop.failed] == ["DelistingGuardError"]
    text = str(stop)
    assert text.startswith(
        "replay stopped at snapshot 2020-11-01-subset: binance-spot (spot) would delist 2 of "
        "15 active instruments (13.3%, limit 5%). Nothing was appended for it or the 7 after "
        "it. To go on, run the same replay again with --max-delist-share 0.14 (or --force)"
    )
    # Going on as it says: the first snapshot appends nothing again, the second goes in.
    on = replayed(root, SAMPLES, SyncOptions(max_delist_share=0.14))
    assert [r.appended for r in reports(on)][:2] == [0, 5]
    assert on.stopped is not None
    assert on.stopped.snapshot.path.name != "2020-11-01-subset"


def _okx(keep: int) -> dict[str, Any]:
    body = copy.deepcopy(fixture("okx/okx_instruments_swap.json"))
    body["data"] = body["data"][:keep]
    return body  # type: ignore[no-any-return]


def test_a_snapshot_with_one_refused_source_appends_nothing_at_all(tmp_path: Path) -> None:
    """Derived: the second snapshot changes a Binance tick size and lacks most OKX swaps
    (the guard refuses OKX): Binance's change is not appended either, and the third
    snapshot is not replayed."""
    folder = tmp_path / "replay"
    full = len(fixture("okx/okx_instruments_swap.json")["data"])
    files = {"binance-spot/exchangeInfo.json": spot(22), "okx/SWAP.json": _okx(full)}
    write_snapshot(folder, "00", files, "2021-10-22T00:00:00Z")
    changed = spot(23, {"BTCUSDT": {"tickSize": "0.10000000"}})
    files = {"binance-spot/exchangeInfo.json": changed, "okx/SWAP.json": _okx(1)}
    write_snapshot(folder, "01", files, "2021-10-23T00:00:00Z")
    write_snapshot(folder, "02", {"binance-spot/exchangeInfo.json": changed})
    root = tmp_path / "lake"
    done = replayed(root, folder)
    first = sum(r.appended for r in done.done[0][1])
    assert first > 0
    assert len(EventLog.open(root)) == first == done.appended
    assert done.stopped is not None
    assert done.stopped.snapshot.path.name == "01"
    assert done.stopped.remaining == 1
    kinds = {r.source: r.error_kind for r in done.done[1][1]}
    assert kinds == {"binance-spot": NOT_APPENDED, "okx": "DelistingGuardError"}


def test_catalog_sync_replay_says_where_it_stopped_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command prints the summary up to the refused snapshot and one line on stderr."""
    argv = ["--root", str(tmp_path / "lake"), "sync", "--replay", str(SAMPLES), "--quiet"]
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert "2020-11-01-subset" in out
    assert "2021-09-06-subset" not in out
    assert err.startswith("catalog: replay stopped at snapshot 2020-11-01-subset: ")
    assert "--max-delist-share 0.14" in err


def test_every_bundled_sample_twice_with_the_readme_flags_appends_nothing_and_audits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's backfill command replays all ten market snapshots; the same again
    appends nothing; the catalog's audit (log and PIT invariants) passes."""
    command = f"catalog sync --replay data/samples {' '.join(BACKFILL_FLAGS)}"
    assert command in README.read_text()
    root = str(tmp_path / "lake")
    argv = ["--root", root, "--json", "sync", "--replay", str(SAMPLES), *BACKFILL_FLAGS]
    assert main([*argv, "--quiet"]) == 0
    first = _appended(capsys.readouterr().out)
    assert main([*argv, "--quiet"]) == 0
    second = _appended(capsys.readouterr().out)
    assert len(first) == len(second) == 9  # one report per snapshot and source
    assert sum(first) == len(EventLog.open(root)) > 0
    assert second == [0] * 9
    audit = audit_catalog(root)
    assert audit.report.ok, [c for c in audit.report.checks if not c.ok]


def _appended(out: str) -> list[int]:
    return [int(item["appended"]) for item in json.loads(out)]
