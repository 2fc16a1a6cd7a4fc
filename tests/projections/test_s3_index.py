"""The index of an object-store root: published beside the log, read through a local cache.

Each reader in its own cache folder stands for another process (or machine).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import pytest
from builders import changed, day, listed

from eventstore import EventLog
from eventstore.errors import ConcurrencyError
from projections import Catalog
from projections.index import live
from projections.index.published import PublishedIndex

if TYPE_CHECKING:
    from pathlib import Path

    from s3_server import S3


def _catalog(s3: S3, root: str, cache: Path) -> Catalog:
    return Catalog.open(root, storage_options=s3.options, cache=cache)


def _written(s3: S3) -> tuple[str, EventLog]:
    root = s3.new_root()
    log = EventLog.open(root, storage_options=s3.options)
    log.append([listed(1), listed(2), changed(1, day=1)])
    return root, log


def _rebuilds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    counted: list[int] = []
    original = live.PitIndex.rebuild

    def counting(self: live.PitIndex) -> None:
        counted.append(1)
        original(self)

    monkeypatch.setattr(live.PitIndex, "rebuild", counting)
    return counted


def test_a_second_reader_opens_the_published_snapshot_and_catches_up(
    s3: S3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, log = _written(s3)
    first = _catalog(s3, root, tmp_path / "a")
    assert first.get("BINANCE:COIN1USDT", day(2)).tick_size is not None  # type: ignore[union-attr]
    pointer = json.loads(s3.read(root, "projections/CURRENT"))
    assert pointer["position"] == 3
    assert any(n.endswith("/header.json") for n in s3.names(root, "projections/snapshot-"))
    log.append([listed(3)])
    rebuilds = _rebuilds(monkeypatch)
    second = _catalog(s3, root, tmp_path / "b")
    assert second.get("BINANCE:COIN3USDT", day(2)) is not None  # caught up from the log
    assert rebuilds == []
    assert (tmp_path / "b" / "CURRENT").read_text() == pointer["snapshot"]
    again = _catalog(s3, root, tmp_path / "b")  # the cache is used: nothing downloaded
    monkeypatch.setattr(PublishedIndex, "_download", None)
    assert again.universe(day(2)).num_rows == 3


def test_two_publishers_one_pointer_the_later_position_wins(s3: S3, tmp_path: Path) -> None:
    root, log = _written(s3)
    _catalog(s3, root, tmp_path / "a").refresh()
    stale = _catalog(s3, root, tmp_path / "b")
    stale.refresh()
    log.append([listed(3)])
    newer = _catalog(s3, root, tmp_path / "c")
    newer.rebuild()  # publishes position 4
    stale._index.save()  # position 3: refused, its upload taken down again
    pointer = json.loads(s3.read(root, "projections/CURRENT"))
    assert pointer["position"] == 4
    folders = {n.split("/")[1] for n in s3.names(root, "projections/snapshot-")}
    assert pointer["snapshot"] in folders
    assert len(folders) <= 2  # the live one and the one it replaced


def test_a_lost_conditional_put_is_not_a_win(s3: S3, tmp_path: Path) -> None:
    root, _ = _written(s3)
    catalog = _catalog(s3, root, tmp_path / "a")
    catalog.refresh()
    published = catalog._index.published
    assert published is not None
    seen = published.remote.get("CURRENT")
    assert seen is not None
    assert published.remote.replace("CURRENT", b"{}", seen.tag) is not None
    assert published.remote.replace("CURRENT", b"{}", seen.tag) is None  # stale tag: refused
    assert published.remote.create("CURRENT", b"{}") is None  # it exists: refused


@pytest.mark.parametrize("damage", ["cache", "remote", "pointer"])
def test_damage_means_one_warning_and_a_rebuild(
    s3: S3,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    damage: str,
) -> None:
    root, _ = _written(s3)
    _catalog(s3, root, tmp_path / "a").refresh()
    name = json.loads(s3.read(root, "projections/CURRENT"))["snapshot"]
    if damage == "cache":
        _catalog(s3, root, tmp_path / "b").refresh()
        path = tmp_path / "b" / name / "col_valid_from.npy"
        path.write_bytes(path.read_bytes()[:-8] + b"\xff" * 8)
    elif damage == "remote":
        key = f"projections/{name}/col_valid_from.npy"
        content = s3.read(root, key)
        s3.write(root, key, content[:-8] + b"\xff" * 8)
    else:
        s3.write(root, "projections/CURRENT", b"\x00garbage")
    rebuilds = _rebuilds(monkeypatch)
    caplog.set_level(logging.WARNING)
    reader = _catalog(s3, root, tmp_path / "b")
    assert reader.get("BINANCE:COIN1USDT", day(2)).tick_size == changed(1).changes["tick_size"]  # type: ignore[union-attr]
    assert rebuilds == [1]
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
    caplog.clear()
    fresh = _catalog(s3, root, tmp_path / "c")  # the rebuild published a sound snapshot
    assert fresh.universe(day(2)).num_rows == 2
    assert rebuilds == [1]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_query_batch_reads_one_version_of_the_log(s3: S3, tmp_path: Path) -> None:
    root, log = _written(s3)
    catalog = _catalog(s3, root, tmp_path / "a")
    with catalog.pinned() as version:
        log.append([listed(3)])  # another writer commits during the batch
        assert catalog.get("BINANCE:COIN3USDT", day(2)) is None
        assert catalog.universe(day(2)).num_rows == 2
        assert catalog.changes(day(-1), day(5)).num_rows == 3
        assert catalog.log.version() == version
        with pytest.raises(ConcurrencyError, match="pinned"):
            catalog.log.append([listed(4)])
    assert catalog.get("BINANCE:COIN3USDT", day(2)) is not None


def test_one_query_never_mixes_two_versions(
    s3: S3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`changes` reads the window, then the retractions: a commit between them is not seen."""
    from builders import retracted

    root, log = _written(s3)
    catalog = _catalog(s3, root, tmp_path / "a")
    target = log.events()[0]
    writer = EventLog.open(root, storage_options=s3.options)
    original = EventLog._scan
    calls: list[int] = []

    def scan_then_commit(self: EventLog, *args: object, **kwargs: object) -> object:
        found = original(self, *args, **kwargs)  # type: ignore[arg-type]
        if self is catalog.log and not calls:
            calls.append(1)
            writer.append([retracted(target)])
        return found

    monkeypatch.setattr(EventLog, "_scan", scan_then_commit)
    window = catalog.changes(day(-1), day(5))
    assert calls == [1]
    assert not any(window["retracted"].to_pylist())


def test_a_partition_join_worker_loads_the_published_snapshot_and_publishes_nothing(
    s3: S3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow as pa

    from eventstore.encoding.schema import TIMESTAMP
    from projections import PartitionJoin
    from projections.index.published import CACHE_ENV

    root, _ = _written(s3)
    _catalog(s3, root, tmp_path / "writer").refresh()  # the writer's side publishes
    published = s3.read(root, "projections/CURRENT")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "workers"))
    rebuilds = _rebuilds(monkeypatch)
    join = PartitionJoin(root, fields=["tick_size"], storage_options=s3.options)
    bars = pa.table({"symbol": ["BINANCE:COIN1USDT"], "ts": pa.array([day(2)], TIMESTAMP)})
    assert join(bars)["active"].to_pylist() == [True]
    assert rebuilds == []
    assert list((tmp_path / "workers").iterdir())  # downloaded into the workers' cache
    assert s3.read(root, "projections/CURRENT") == published
