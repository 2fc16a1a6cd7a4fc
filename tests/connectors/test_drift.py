"""Drift: the catalog against a fresh snapshot of a source, field by field, writing nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING

from test_sync import at, spot, spot_snapshots, sync
from venues import FAST, run

from connectors.sync import drift
from connectors.sync.syncer import SyncOptions
from eventstore import EventLog
from projections import Catalog

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    import pytest

    from connectors.venues.snapshot import Snapshot


def _replayed(folder: Path) -> tuple[list[Snapshot], datetime | None]:
    if (folder / "replay").is_dir():
        folder = folder / "replay"
    return run(lambda: drift.replayed(folder, "binance-spot", FAST))  # type: ignore[no-any-return]


def _drift(tmp_path: Path, folder: Path) -> list[drift.Drift]:
    return drift.against(Catalog.open(tmp_path / "lake"), *_replayed(folder))


def test_a_catalog_in_step_with_its_source_has_no_drift(tmp_path: Path) -> None:
    """Right after a sync, the same snapshot shows no difference."""
    folder = spot_snapshots(tmp_path, spot(22))
    sync(tmp_path / "lake", folder)
    assert _drift(tmp_path, folder) == []


def test_drift_lists_each_field_and_each_missing_instrument(tmp_path: Path) -> None:
    """A new tick size, a new status, a pair only the source has, one only the catalog has."""
    sync(tmp_path / "lake", spot_snapshots(tmp_path / "a", spot(22)))
    later = spot(23, {"BTCUSDT": {"tickSize": "0.1", "status": "HALT"}}, drop=("ETHUSDT",))
    extra = dict(later["symbols"][0], symbol="SOLUSDT", baseAsset="SOL")
    later["symbols"].append(extra)
    before = len(EventLog.open(tmp_path / "lake"))
    found = _drift(tmp_path, spot_snapshots(tmp_path / "b", later))
    by = {(d.symbol, d.kind, d.field): d for d in found}
    tick = by["BINANCE:BTCUSDT", "field", "tick_size"]
    assert (tick.catalog, tick.reported) == (Decimal("0.01"), Decimal("0.1"))
    assert by["BINANCE:BTCUSDT", "field", "venue_status"].reported == "HALT"
    assert by["BINANCE:BTCUSDT", "field", "status"].reported == "halted"
    assert ("BINANCE:SOLUSDT", "missing from the catalog", None) in by
    assert by["BINANCE:ETHUSDT", drift.PENDING, None].absent == 1  # the sync keeps it, for now
    assert len(found) == 5
    strict = drift.against(Catalog.open(tmp_path / "lake"), *_replayed(tmp_path / "b"), 1)
    assert ("BINANCE:ETHUSDT", "missing from the source") in {(d.symbol, d.kind) for d in strict}
    assert len(EventLog.open(tmp_path / "lake")) == before
    assert Catalog.open(tmp_path / "lake").get("BINANCE:BTCUSDT", at(23)).tick_size == Decimal(  # type: ignore[union-attr]
        "0.01"
    )


def test_audit_against_a_replayed_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`catalog audit --against-source` adds a drift check: clean after a sync, a violation
    per difference once the source moved on; the log is not written."""
    from connectors.cli.main import main

    root = str(tmp_path / "lake")
    sync(tmp_path / "lake", spot_snapshots(tmp_path / "a", spot(22)))
    same = [
        "--root",
        root,
        "audit",
        "--against-source",
        "binance-spot",
        "--replay",
        str(tmp_path / "a" / "replay"),
    ]
    assert main(same) == 0
    assert "drift:binance-spot" in capsys.readouterr().out
    moved = spot_snapshots(tmp_path / "b", spot(23, {"BTCUSDT": {"tickSize": "0.1"}}))
    before = len(EventLog.open(root))
    code = main(
        [
            "--root",
            root,
            "--json",
            "audit",
            "--against-source",
            "binance-spot",
            "--replay",
            str(moved),
        ]
    )
    assert code == 1
    report = json.loads(capsys.readouterr().out)
    (check,) = [c for c in report["checks"] if c["name"] == "drift:binance-spot"]
    assert check["count"] == 1
    assert (
        check["violations"][0]["detail"]
        == "BINANCE:BTCUSDT (spot) tick_size: catalog 0.01, source 0.1"
    )
    assert len(EventLog.open(root)) == before


def test_audit_replay_needs_a_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--replay` alone is bad usage: exit 2."""
    from connectors.cli.main import main

    assert main(["--root", str(tmp_path), "audit", "--replay", str(tmp_path)]) == 2
    assert "--replay needs --against-source" in capsys.readouterr().err


def test_audit_right_after_a_clean_replay_reports_absences_as_pending(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pair dropped from the latest snapshot is still listed by the absence rule: the drift
    check passes and names it as pending; once the rule has run its course, no drift remains."""
    from connectors.cli.main import main

    root = tmp_path / "lake"
    folder = spot_snapshots(tmp_path, spot(22), spot(23, drop=("ETHUSDT",)))
    options = SyncOptions(max_delist_share=1.0)  # two pairs: one leaving is half of them
    assert all(report.ok for report in sync(root, folder, options))
    argv = ["--root", str(root), "audit", "--against-source", "binance-spot"]
    argv += ["--replay", str(folder)]

    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "  ok    drift:binance-spot" in out
    assert (
        "          pending: BINANCE:ETHUSDT (spot) absent from 1 of the 2 complete snapshots "
        "in a row that delist it"
    ) in out.splitlines()
    assert main([*argv, "--json"]) == 0
    (check,) = [
        c
        for c in json.loads(capsys.readouterr().out)["checks"]
        if c["name"] == "drift:binance-spot"
    ]
    assert (check["status"], check["count"], len(check["notes"])) == ("ok", 0, 1)

    later = spot_snapshots(tmp_path / "later", spot(24, drop=("ETHUSDT",)))
    assert all(report.ok for report in sync(root, later, options))  # delisted: absent twice
    assert main([*argv[:-1], str(later)]) == 0
    assert "pending" not in capsys.readouterr().out
