"""A damaged snapshot is detected by its checksums, discarded with one warning, and rebuilt."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from typing import TYPE_CHECKING

import numpy as np
import pytest
from builders import changed, day, delisted, listed
from clock import Clock
from pit_oracle import assert_catalog_matches_fold

from eventstore import EventLog
from projections import Catalog
from projections.index.snapshots import STALE_STAGING_S

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

INSTANTS = [day(n) for n in range(-1, 8)]


def _history(root: Path) -> EventLog:
    clock = Clock(day(0, 1))
    log = EventLog.open(root, clock=clock)
    log.append(
        [
            listed("I1", "X:A", day(0), tick_size="0.01", lot_size="1"),
            listed("I2", "X:B", day(1), tick_size="5"),
            listed("I3", "Y:C", day(1), tick_size="0.5"),
        ]
    )
    clock.set(day(2))
    log.append([changed("I1", "X:A", day(1), tick_size="0.1"), delisted("I2", "X:B", day(3))])
    Catalog.open(root).refresh()  # saves the snapshot that each case damages
    return log


def _snapshot(root: Path) -> Path:
    return root / "projections" / (root / "projections" / "CURRENT").read_text().strip()


def _data_offset(path: Path) -> int:
    with path.open("rb") as source:
        np.lib.format.read_magic(source)
        np.lib.format.read_array_header_1_0(source)
        return source.tell()


def _zero_filled(snapshot: Path) -> None:
    path = snapshot / "col_valid_from.npy"
    data = bytearray(path.read_bytes())
    start = _data_offset(path)
    data[start:] = bytes(len(data) - start)
    path.write_bytes(bytes(data))


def _random_bytes(snapshot: Path) -> None:
    path = snapshot / "matrix.npy"
    data = bytearray(path.read_bytes())
    start = _data_offset(path)
    for i, value in enumerate(os.urandom(4)):
        data[start + 3 * i] = value ^ 0xA5 if value == data[start + 3 * i] else value
    path.write_bytes(bytes(data))


def _dictionary_swapped(snapshot: Path) -> None:
    shutil.copyfile(snapshot / "dict_exchange.arrow", snapshot / "dict_symbol.arrow")


def _row_count_lowered(snapshot: Path) -> None:
    header = snapshot / "header.json"
    meta = json.loads(header.read_text())
    meta["n"] -= 1
    header.write_text(json.dumps(meta))


def _arrays_swapped(snapshot: Path) -> None:
    a, b = snapshot / "col_valid_from.npy", snapshot / "col_known_since.npy"
    staging = snapshot / "swap"
    a.rename(staging)
    b.rename(a)
    staging.rename(b)


def _zero_length(snapshot: Path) -> None:
    (snapshot / "first.npy").write_bytes(b"")


def _garbage_pointer(snapshot: Path) -> None:
    (snapshot.parent / "CURRENT").write_bytes(b"\x00\xff garbage \n\n")


def _scribbled(snapshot: Path) -> None:
    for path in snapshot.glob("*.npy"):
        path.write_bytes(os.urandom(path.stat().st_size))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "zero-filled array": _zero_filled,
    "random bytes in one array": _random_bytes,
    "dictionary swapped for another valid one": _dictionary_swapped,
    "row count lowered in the header": _row_count_lowered,
    "two arrays swapped": _arrays_swapped,
    "zero-length array": _zero_length,
    "garbage CURRENT": _garbage_pointer,
    "every array scribbled": _scribbled,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damage_is_detected_never_served_and_healed(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Each damage: the answers equal the fold, one warning is logged, the next open is clean."""
    log = _history(tmp_path)
    DAMAGE[damage](_snapshot(tmp_path))
    with caplog.at_level(logging.WARNING, logger="projections"):
        assert_catalog_matches_fold(Catalog.open(tmp_path), log.events(), INSTANTS)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "discarded, rebuilding" in warnings[0].getMessage()
    assert "\n" not in warnings[0].getMessage()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="projections"):
        assert_catalog_matches_fold(Catalog.open(tmp_path), log.events(), INSTANTS)
    assert not caplog.records  # healed: the rebuilt snapshot is clean
    assert len(list((tmp_path / "projections").glob("snapshot-*"))) == 1


def test_a_staging_folder_left_by_a_killed_save_is_removed(tmp_path: Path) -> None:
    """Old staging (a save that died) is removed on open; a young one (a live save) is kept."""
    log = _history(tmp_path)
    folder = tmp_path / "projections"
    dead = folder / ".snapshot-0123abcd"
    dead.mkdir()
    (dead / "matrix.npy").write_bytes(b"partial")
    (folder / ".snapshot-0123abcd.pointer").write_text("snapshot-0123abcd")
    live = folder / ".snapshot-4567ef"
    live.mkdir()
    old = time.time() - STALE_STAGING_S - 5
    for path in (dead, folder / ".snapshot-0123abcd.pointer"):
        os.utime(path, (old, old))
    assert_catalog_matches_fold(Catalog.open(tmp_path), log.events(), INSTANTS)
    assert not dead.exists()
    assert not (folder / ".snapshot-0123abcd.pointer").exists()
    assert live.exists()
