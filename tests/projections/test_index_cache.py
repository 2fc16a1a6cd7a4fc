"""The saved index is a cache: damaged, foreign or stale snapshots never change an answer."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from builders import changed, day, delisted, listed
from clock import Clock
from pit_oracle import assert_catalog_matches_fold

from eventstore import EventLog
from projections import Catalog

if TYPE_CHECKING:
    from pathlib import Path

INSTANTS = [day(n) for n in range(-1, 8)]


def _history(root: Path) -> EventLog:
    clock = Clock(day(0, 1))
    log = EventLog.open(root, clock=clock)
    log.append([listed("I1", "X:A", day(0), tick_size="0.01"), listed("I2", "X:B", day(1))])
    clock.set(day(2))
    log.append([changed("I1", "X:A", day(1), tick_size="0.1"), delisted("I2", "X:B", day(3))])
    return log


def _snapshot(root: Path) -> Path:
    pointer = root / "projections" / "CURRENT"
    return root / "projections" / pointer.read_text().strip()


def test_a_snapshot_is_saved_and_reused(tmp_path: Path) -> None:
    """Opening a catalog saves a snapshot; a second catalog loads it and answers the same.

    A rebuild would save a snapshot under a new name: the pointer staying put is the reuse.
    """
    log = _history(tmp_path)
    Catalog.open(tmp_path).refresh()
    saved = _snapshot(tmp_path)
    assert (saved / "matrix.npy").exists()
    assert_catalog_matches_fold(Catalog.open(tmp_path), log.events(), INSTANTS)
    assert _snapshot(tmp_path) == saved, "the second catalog rebuilt instead of loading"
    assert sorted(p.name for p in saved.parent.glob("snapshot-*")) == [saved.name]


def test_a_truncated_array_means_a_rebuild(tmp_path: Path) -> None:
    """A snapshot whose arrays are cut short is ignored and rebuilt from the log."""
    log = _history(tmp_path)
    Catalog.open(tmp_path).refresh()
    matrix = _snapshot(tmp_path) / "matrix.npy"
    matrix.write_bytes(matrix.read_bytes()[:100])
    assert_catalog_matches_fold(Catalog.open(tmp_path), log.events(), INSTANTS)


def test_a_pointer_to_nothing_means_a_rebuild(tmp_path: Path) -> None:
    """A CURRENT pointer naming a missing snapshot is ignored and the index rebuilt."""
    log = _history(tmp_path)
    Catalog.open(tmp_path).refresh()
    shutil.rmtree(_snapshot(tmp_path))
    assert_catalog_matches_fold(Catalog.open(tmp_path), log.events(), INSTANTS)


def test_a_snapshot_of_another_log_is_not_used(tmp_path: Path) -> None:
    """A snapshot copied from a different log (its hash does not match) is rebuilt, not used."""
    other = tmp_path / "other"
    foreign = EventLog.open(other, clock=Clock(day(0, 1)))
    foreign.append([listed("I9", "X:A", day(0), tick_size="5")])
    foreign.append([changed("I9", "X:A", day(1), tick_size="6")])
    Catalog.open(other).refresh()
    mine = tmp_path / "mine"
    log = _history(mine)
    shutil.copytree(other / "projections", mine / "projections")
    assert_catalog_matches_fold(Catalog.open(mine), log.events(), INSTANTS)


def test_a_stale_snapshot_is_caught_up_from_the_log(tmp_path: Path) -> None:
    """A snapshot behind the log is loaded, then folds in the later commits, corrections too."""
    clock = Clock(day(0, 1))
    log = EventLog.open(tmp_path, clock=clock)
    log.append([listed("I1", "X:A", day(0), tick_size="0.01", lot_size="1")])
    Catalog.open(tmp_path).refresh()  # saves a snapshot at this point
    clock.set(day(5))
    log.append(
        [
            changed("I1", "X:A", day(2), lot_size="2"),  # a late correction
            listed("I2", "X:B", day(4)),
            changed("I1", "X:A", day(6), lot_size="3"),
        ]
    )
    assert_catalog_matches_fold(Catalog.open(tmp_path), log.events(), INSTANTS)


def test_deleting_the_projections_folder_while_open_changes_nothing(tmp_path: Path) -> None:
    """An open catalog keeps answering after its folder is deleted; a new one rebuilds it."""
    log = _history(tmp_path)
    catalog = Catalog.open(tmp_path)
    catalog.refresh()
    shutil.rmtree(tmp_path / "projections")
    assert_catalog_matches_fold(catalog, log.events(), INSTANTS)
    assert_catalog_matches_fold(Catalog.open(tmp_path), log.events(), INSTANTS)
