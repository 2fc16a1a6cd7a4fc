"""The code maps saved with the snapshot: exact lookups, and damage means a rebuild.

A fresh process finds a symbol's code through the saved map (no dict of every value);
the answers are those of the fold whether the map, the dict, or both are used; a map that
does not fit its dictionary (even with checksums that match) is refused and rebuilt.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pytest
import xxhash
from builders import changed, day, listed, renamed
from clock import Clock
from pit_oracle import assert_catalog_matches_fold

from eventstore import EventLog
from projections import Catalog
from projections.index import snapshots
from projections.index.dictionary import WARM, Dictionary
from projections.index.lookup import CodeMap, Texts

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

INSTANTS = [day(n) for n in range(-1, 6)]


def _history(root: Path) -> EventLog:
    clock = Clock(day(0, 1))
    log = EventLog.open(root, clock=clock)
    log.append(
        [listed(f"I{k}", f"X:S{k}", day(0), tick_size="0.01") for k in range(40)]
        + [listed("J", "Y:Ünï", day(1), tick_size="5")]
    )
    clock.set(day(2))
    log.append(
        [renamed("I1", "X:S1", "X:NEW", day(2)), changed("I2", "X:S2", day(2), lot_size="1")]
    )
    Catalog.open(root).refresh()  # saves the snapshot with its maps
    return log


def _snapshot(root: Path) -> Path:
    return root / "projections" / (root / "projections" / "CURRENT").read_text().strip()


def test_a_fresh_process_answers_through_the_map_and_then_the_dict(tmp_path: Path) -> None:
    """Opened from the snapshot, lookups go through the map; after WARM, through a dict."""
    log = _history(tmp_path)
    catalog = Catalog.open(tmp_path)
    catalog.refresh()
    symbols = catalog._index.store.dictionaries["symbol"]
    assert symbols.map is not None
    assert symbols.map.covered == len(symbols)
    assert_catalog_matches_fold(catalog, log.events(), INSTANTS)
    assert catalog.get("X:NOWHERE", day(3)) is None
    for _ in range(WARM):
        catalog.get("X:S3", day(3))
    assert_catalog_matches_fold(catalog, log.events(), INSTANTS)  # now through the dict


def test_values_added_after_the_map_are_found_and_saved(tmp_path: Path) -> None:
    """New symbols after a load are looked up through the dict of the values the map lacks."""
    log = _history(tmp_path)
    catalog = Catalog.open(tmp_path)
    catalog.refresh()
    log.append([listed("K", "Z:LATE", day(3))])
    found = catalog.get("Z:LATE", day(4))
    assert found is not None
    assert found.instrument_id == "K"
    catalog._index.save()
    again = Catalog.open(tmp_path)
    found = again.get("Z:LATE", day(4))
    assert found is not None
    assert found.instrument_id == "K"
    assert again._index.store.dictionaries["symbol"].map is not None
    assert_catalog_matches_fold(again, log.events(), INSTANTS)


def test_a_map_finds_each_value_and_nothing_else() -> None:
    """Every covered value is found, unicode too; a value never seen is not."""
    values = pa.array([None, "a", "b", "Ünï", "", "a longer value"], pa.string())
    built = CodeMap.empty().extended(values)
    built.check(values)
    texts = Texts(values)
    assert [built.find(v, texts) for v in ["a", "b", "Ünï", "", "a longer value"]] == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert built.find("c", texts) is None
    dictionary = Dictionary(pa.string(), values, built)
    assert dictionary.code_of(None) == 0
    assert dictionary.code_of("Ünï") == 3
    assert list(dictionary.encode(pa.array(["b", "new", None]))) == [2, 6, 0]
    assert dictionary.code_of("new") == 6  # beyond the map, through the dict


def test_colliding_hashes_compare_the_texts() -> None:
    """Two values given the same hash (forged): each still finds its own code."""
    values = pa.array([None, "x", "y"], pa.string())
    same = np.uint64(xxhash.xxh3_64_intdigest(b"y"))
    forged = CodeMap(np.array([same, same], np.uint64), np.array([1, 2], np.int32), 3)
    assert forged.find("y", Texts(values)) == 2


def _rewrite(snapshot: Path, name: str, array: np.ndarray) -> None:
    """Replace one array and make every checksum match again (a bug, not a bit flip)."""
    np.save(snapshot / name, array)
    header = snapshot / "header.json"
    meta = json.loads(header.read_text())
    meta["checksums"][name] = snapshots._checksum(snapshot / name)
    meta["self"] = snapshots._header_sum(meta)
    header.write_text(json.dumps(meta))


def _shuffled_codes(snapshot: Path) -> None:
    codes = np.load(snapshot / "map_symbol_codes.npy")
    _rewrite(snapshot, "map_symbol_codes.npy", np.roll(codes, 1))


def _unsorted_hashes(snapshot: Path) -> None:
    hashes = np.load(snapshot / "map_symbol_hashes.npy")
    _rewrite(snapshot, "map_symbol_hashes.npy", hashes[::-1].copy())


def _code_twice(snapshot: Path) -> None:
    codes = np.load(snapshot / "map_instruments_codes.npy")
    codes[1] = codes[0]
    _rewrite(snapshot, "map_instruments_codes.npy", codes)


def _flipped_bit(snapshot: Path) -> None:
    path = snapshot / "map_symbol_hashes.npy"
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x10
    path.write_bytes(bytes(data))


def _map_missing(snapshot: Path) -> None:
    (snapshot / "map_symbol_codes.npy").unlink()


DAMAGE: dict[str, Callable[[Path], None]] = {
    "codes shifted, checksums matching": _shuffled_codes,
    "hashes out of order, checksums matching": _unsorted_hashes,
    "a code twice, checksums matching": _code_twice,
    "a bit flipped": _flipped_bit,
    "a map file missing": _map_missing,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_map_is_never_served(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Each damage: one warning, a rebuild, and the answers of the fold."""
    log = _history(tmp_path)
    DAMAGE[damage](_snapshot(tmp_path))
    with caplog.at_level(logging.WARNING, logger="projections"):
        assert_catalog_matches_fold(Catalog.open(tmp_path), log.events(), INSTANTS)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "discarded, rebuilding" in warnings[0]
    assert (_snapshot(tmp_path) / "map_symbol_codes.npy").exists()  # rebuilt, with its map
