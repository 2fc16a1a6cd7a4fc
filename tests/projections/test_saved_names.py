"""The names of every version are saved with the index snapshot: a fresh catalog resolves
and joins by scheme without naming anything again, and a damaged, stale or old saved file
means a rebuild (one warning), never a wrong answer."""

from __future__ import annotations

import json
import logging
import os
import shutil
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pytest
import xxhash
from builders import changed, day, listed, observed, renamed
from clock import Clock

from eventstore import EventLog
from projections import Catalog
from projections.index import snapshots
from projections.names import directory

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

OLD, NEW = "binance:spot:LUNAUSDT", "luna-2"
SPOT: dict[str, Any] = {"exchange": "BINANCE", "type": "spot", "quote": "USDT"}
#: (name, scheme, exchange) asked on days 5, 11 and 13.
ASKED = [
    ("LUNA/USDT", "ccxt", "binance"),
    ("LUNC/USDT", "ccxt", "binance"),
    ("LUNCUSDT", "venue", "binance-spot"),
    ("LUNAUSDT.BINANCE", "nautilus", None),
    ("LUNAUSDT", "tardis", "binance"),
]


def _history(root: Path) -> EventLog:
    """Append a rename (learned late) and a reuse, and save the snapshot (names included)."""
    clock = Clock(day(30))
    log = EventLog.open(root, clock=clock)
    log.append(
        [
            observed(listed(OLD, "BINANCE:LUNAUSDT", day(0), base="LUNA", **SPOT), day(0)),
            observed(renamed(OLD, "BINANCE:LUNAUSDT", "BINANCE:LUNCUSDT", day(10)), day(20)),
            observed(changed(OLD, "BINANCE:LUNCUSDT", day(10), base="LUNC"), day(20)),
            observed(listed(NEW, "BINANCE:LUNAUSDT", day(12), base="LUNA", **SPOT), day(12)),
        ]
    )
    Catalog.open(root).refresh()
    return log


def _answers(catalog: Catalog) -> list[Any]:
    """Return what the catalog resolves and joins for every asked name (every way)."""
    found: list[Any] = []
    ts = pa.array([day(n) for n in (5, 11, 13)], pa.timestamp("us", "UTC"))
    for name, scheme, exchange in ASKED:
        found.append([catalog.resolve(name, at, scheme, exchange) for at in ts.to_pylist()])
        bars = pa.table({"symbol": [name] * 3, "ts": ts})
        for known_at in (None, "row"):
            joined = catalog.pit_join(bars, scheme=scheme, exchange=exchange, known_at=known_at)
            found.append(joined.column("instrument_id").to_pylist())
    found.append(catalog.names(OLD, day(11)))
    return found


def _expected(root: Path) -> list[Any]:
    return _answers(Catalog.open(root, persist=False))


def _snapshot(root: Path) -> Path:
    return root / "projections" / (root / "projections" / "CURRENT").read_text().strip()


def test_a_fresh_catalog_resolves_and_joins_by_scheme_without_naming_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The saved names answer the first resolve and the first by-scheme joins."""
    _history(tmp_path)
    expected = _expected(tmp_path)
    assert any(name.startswith("names_ccxt_") for name in os.listdir(_snapshot(tmp_path)))

    def refuse(*_: object) -> None:
        raise AssertionError("named every version again")

    monkeypatch.setattr(directory, "names_table", refuse)
    fresh = Catalog.open(tmp_path)
    assert fresh.resolve("LUNA/USDT", day(5), "ccxt", "binance") == OLD
    bars = pa.table({"symbol": ["LUNC/USDT"], "ts": pa.array([day(11)], pa.timestamp("us", "UTC"))})
    joined = fresh.pit_join(bars, scheme="ccxt", exchange="binance")
    assert joined.column("instrument_id").to_pylist() == [OLD]
    assert fresh.names(OLD, day(11)) == expected[-1]
    monkeypatch.undo()  # known_at="row" names its own folds of what was known then
    assert _answers(fresh) == expected


def _resigned(snapshot: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Change the header and sign it again, as a save would have: only the checks of what
    the files hold can then catch it."""
    path = snapshot / snapshots.HEADER
    meta = json.loads(path.read_text())
    change(meta)
    meta["checksums"] = {
        p.name: xxhash.xxh3_64_hexdigest(p.read_bytes())
        for p in sorted(snapshot.iterdir())
        if p.name != snapshots.HEADER
    }
    rest = {k: v for k, v in meta.items() if k != "self"}
    meta["self"] = xxhash.xxh3_64_hexdigest(json.dumps(rest, sort_keys=True).encode())
    path.write_text(json.dumps(meta))


def _scribbled(snapshot: Path) -> None:
    path = snapshot / "names_ccxt_codes.npy"
    data = bytearray(path.read_bytes())
    data[-4:] = b"\x07\x00\x00\x00" if data[-4:] != b"\x07\x00\x00\x00" else b"\x00" * 4
    path.write_bytes(bytes(data))


def _keys_missing(snapshot: Path) -> None:
    (snapshot / "names_venue_keys.arrow").unlink()


def _stale(snapshot: Path) -> None:
    """The names of a store with one version fewer, passed off as this snapshot's."""
    np_path = snapshot / "names_tardis_codes.npy"
    np.save(np_path, np.load(np_path)[:-1])
    _resigned(snapshot, lambda meta: meta.update(names=meta["names"] - 1))


def _keys_swapped(snapshot: Path) -> None:
    """Another scheme's keys (fewer of them) under this scheme's codes, signed again."""
    shutil.copyfile(snapshot / "names_ccxt_keys.arrow", snapshot / "names_tradingview_keys.arrow")
    shutil.copyfile(snapshot / "names_ccxt_offsets.npy", snapshot / "names_tradingview_offsets.npy")
    shutil.copyfile(snapshot / "names_ccxt_members.npy", snapshot / "names_tradingview_members.npy")
    _resigned(snapshot, lambda meta: None)


def _old_format(snapshot: Path) -> None:
    """A snapshot of the format before names were saved (its names files removed)."""
    for path in snapshot.glob("names_*"):
        path.unlink()
    _resigned(snapshot, lambda meta: meta.update(format=11))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "names codes scribbled": _scribbled,
    "names keys missing": _keys_missing,
    "names of a store with fewer versions": _stale,
    "another scheme's keys, signed again": _keys_swapped,
    "a snapshot of the format before names": _old_format,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_or_stale_saved_names_mean_a_rebuild_never_a_wrong_answer(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Each case: one warning, the answers equal a catalog's that saves nothing, and the
    rebuilt snapshot opens clean."""
    _history(tmp_path)
    expected = _expected(tmp_path)
    DAMAGE[damage](_snapshot(tmp_path))
    with caplog.at_level(logging.WARNING, logger="projections"):
        assert _answers(Catalog.open(tmp_path)) == expected
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "discarded, rebuilding" in warnings[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="projections"):
        assert _answers(Catalog.open(tmp_path)) == expected
    assert not caplog.records
