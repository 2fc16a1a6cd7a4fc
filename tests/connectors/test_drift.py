"""Drift: the catalog against a fresh snapshot of a source, field by field, writing nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING

from test_sync import at, spot, spot_snapshots, sync
from venues import FAST, run

from connectors import drift
from eventstore import EventLog
from projections import Catalog

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def _drift(tmp_path: Path, folder: Path) -> list[drift.Drift]:
    found, observed = run(lambda: drift.replayed(folder, "binance-spot", FAST))
    return drift.against(Catalog.open(tmp_path / "lake"), found, observed)


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
    assert ("BINANCE:ETHUSDT", "missing from the source", None) in by
    assert len(found) == 5
    assert len(EventLog.open(tmp_path / "lake")) == before
    assert Catalog.open(tmp_path / "lake").get("BINANCE:BTCUSDT", at(23)).tick_size == Decimal(
        "0.01"
    )  # type: ignore[union-attr]


def test_audit_against_a_replayed_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`catalog audit --against-source` adds a drift check: clean after a sync, a violation
    per difference once the source moved on; the log is not written."""
    from connectors.cli import main

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
    from connectors.cli import main

    assert main(["--root", str(tmp_path), "audit", "--replay", str(tmp_path)]) == 2
    assert "--replay needs --against-source" in capsys.readouterr().err
