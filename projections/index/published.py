"""The index snapshot of an object-store root, published beside its log, read through a cache.

    <root>/projections/CURRENT                JSON: the live snapshot's name, the log position
                                              and Delta version it reflects
    <root>/projections/snapshot-<id>/<file>   the files of a local snapshot (see `snapshots`),
                                              immutable, header.json uploaded last

A process that saves an index on such a root saves it in its local cache folder (a local
snapshots directory) and publishes it: it uploads the snapshot folder under a new name, then
moves the pointer with a conditional put (`If-Match` the pointer it read, `If-None-Match`
when there was none), so of two publishers exactly one wins; a pointer already at the same
or a later position is left alone. A reader downloads the published snapshot into its cache
once (into a staging folder, renamed into place) and opens it as a local one: every file is
checked against the header's checksums before any answer comes from it, and whatever is
wrong with it (a damaged cache, a damaged upload, a garbage pointer) means one warning and
a rebuild from the log, never a wrong answer. `index_places` says where any log's index is
saved: `<root>/projections` for a local root, the cache (with a `PublishedIndex`) otherwise.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Final

from eventstore.errors import StorageError
from eventstore.log.objects import ObjectFolder
from eventstore.log.places import local_folder, write_atomically
from projections.index import snapshots as persist

if TYPE_CHECKING:
    from collections.abc import Mapping

    from eventstore import EventLog

_log = logging.getLogger(__name__)
#: The pointer object, beside the published snapshots.
POINTER: Final = "CURRENT"
#: Files moved at a time (each is one request).
TRANSFERS: Final = 8
#: Publishing gives up after losing the pointer this many times in a row.
ATTEMPTS: Final = 10
#: The environment variable naming the folder under which object-store roots are cached.
CACHE_ENV: Final = "CATALOG_CACHE"


def default_cache(root: str) -> Path:
    """Return the local cache folder of the object-store root `root`.

    It lies under `$CATALOG_CACHE`, else `$XDG_CACHE_HOME/pit-catalog`, else
    `~/.cache/pit-catalog`, in a folder named after the root (and a hash of its URI).
    """
    base = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pit-catalog"
    )
    readable = "".join(c if c.isalnum() else "-" for c in root.split("://", 1)[-1])[-60:]
    digest = hashlib.sha256(root.rstrip("/").encode()).hexdigest()[:16]
    return Path(base) / f"{readable.strip('-')}-{digest}"


def _is_snapshot(name: str) -> bool:
    """Return whether `name` is a published snapshot's folder name (`snapshot-<id>`)."""
    return name.startswith("snapshot-") and name.removeprefix("snapshot-").isalnum()


def _pointer(content: bytes) -> tuple[str, int]:
    """Return the snapshot name and position a pointer holds; raise ValueError if garbage."""
    try:
        found = json.loads(content)
        name, position = found["snapshot"], found["position"]
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"not a snapshot pointer ({exc})") from None
    if not isinstance(name, str) or not _is_snapshot(name):
        raise ValueError("the pointer does not name a snapshot")
    if not isinstance(position, int) or isinstance(position, bool):
        raise ValueError("the pointer's position is not a number")
    return name, position


class PublishedIndex:
    """The snapshots published under `<root>/projections/`, mirrored in a local cache."""

    def __init__(self, root: str, storage_options: Mapping[str, str] | None, cache: Path) -> None:
        """Publish under `root` (an object-store URI), caching in the local folder `cache`."""
        self.remote = ObjectFolder(root, storage_options).child("projections")
        self.cache = cache
        #: The snapshot last fetched, until the index checked it and found it sound: a
        #: pointer to it is replaced whatever position it claims.
        self.suspect: str | None = None

    # -- reading -------------------------------------------------------------------------

    def fetch(self) -> bool:
        """Make the published snapshot the cache's current one, downloading it if needed.

        Return False when nothing usable is published (nothing, a garbage pointer or a
        failed download: warned about); the cache is then left as it was.
        """
        try:
            return self._fetch()
        except OSError as exc:  # a StorageError too; the cache may still hold a sound one
            _log.warning("could not fetch the published index under %s: %s", self.remote.uri, exc)
            return False

    def _fetch(self) -> bool:
        found = self.remote.get(POINTER)
        if found is None:
            return False
        try:
            name, _ = _pointer(found.content)
        except ValueError as exc:
            _log.warning("%s/%s: %s; ignored", self.remote.uri, POINTER, exc)
            return False
        target, self.suspect = self.cache / name, name
        if not target.is_dir():
            self._download(name, target)
        write_atomically(self.cache / persist.POINTER, name.encode())
        return True

    def _download(self, name: str, target: Path) -> None:
        files = [n.removeprefix(f"{name}/") for n in self.remote.names(name)]
        staging = self.cache / f".{name}.{uuid.uuid4().hex[:8]}"
        staging.mkdir(parents=True)
        try:

            def fetch(file: str) -> None:
                got = self.remote.get(f"{name}/{file}")
                if got is None:
                    raise StorageError(f"{self.remote.uri}/{name}/{file}", "reading", "gone")
                (staging / file).write_bytes(got.content)

            with ThreadPoolExecutor(max_workers=TRANSFERS) as transfers:
                list(transfers.map(fetch, [f for f in files if "/" not in f]))
            try:
                staging.rename(target)
            except OSError:
                if not target.is_dir():  # another process put the same snapshot there first
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    # -- publishing ----------------------------------------------------------------------

    def publish(self, position: int, log_version: int) -> bool:
        """Publish the cache's current snapshot (reflecting `position`); return whether
        this process moved the pointer to it."""
        name = persist.current_name(self.cache)
        current = self.remote.get(POINTER)
        if current is not None and self._at_least(current.content, position):
            return False
        self._upload(name)
        for _ in range(ATTEMPTS):
            replaced = None if current is None else _field(current.content, "snapshot")
            fields = {"snapshot": name, "position": position, "log_version": log_version}
            pointer = json.dumps({**fields, "previous": replaced}).encode()
            if current is None:
                won = self.remote.create(POINTER, pointer)
            else:
                won = self.remote.replace(POINTER, pointer, current.tag)
            if won is not None:  # the snapshot two back can go: no reader starts on it now
                older = None if current is None else _field(current.content, "previous")
                if older not in (None, name, replaced):
                    self._remove(str(older))
                return True
            current = self.remote.get(POINTER)  # another publisher won: newer than ours?
            if current is not None and self._at_least(current.content, position):
                break
        self._remove(name)  # ours lost: take it down again
        return False

    def _upload(self, name: str) -> None:
        folder = self.cache / name
        files = sorted(p.name for p in folder.iterdir() if p.name != persist.HEADER)

        def put(file: str) -> None:
            self.remote.put(f"{name}/{file}", (folder / file).read_bytes())

        with ThreadPoolExecutor(max_workers=TRANSFERS) as transfers:
            list(transfers.map(put, files))
        put(persist.HEADER)  # last: a snapshot without its header is never complete

    def _at_least(self, content: bytes, position: int) -> bool:
        """Return whether a pointer names a sound snapshot at `position` or later."""
        try:
            name, at = _pointer(content)
        except ValueError:
            return False  # a garbage pointer is replaced
        return at >= position and name != self.suspect

    def _remove(self, name: str) -> None:
        """Remove one published snapshot; a failure only leaves files behind."""
        if not _is_snapshot(name):
            return  # never a listing of anything else
        try:
            for key in self.remote.names(name):
                self.remote.delete(key)
        except StorageError as exc:
            _log.debug("could not remove %s under %s: %s", name, self.remote.uri, exc)


def _field(content: bytes, key: str) -> object:
    """Return one field of a pointer (None when it is garbage or has no such field)."""
    try:
        found = json.loads(content)
    except ValueError:
        return None
    return found.get(key) if isinstance(found, dict) else None


def index_directory(root: str) -> Path | None:
    """Return where the index of a log under `root` is saved (None for object stores)."""
    folder = local_folder(root)
    return None if folder is None else Path(folder) / "projections"


def index_places(
    log: EventLog, cache: str | os.PathLike[str] | None = None
) -> tuple[Path | None, PublishedIndex | None]:
    """Return where the index of `log` is saved, and where it is published (object stores:
    saved in the local `cache`, default `default_cache(root)`, and published beside the log)."""
    directory = index_directory(log.root)
    if directory is not None:
        return directory, None
    folder = Path(cache) if cache is not None else default_cache(log.root)
    return folder, PublishedIndex(log.root, log.storage_options, folder)


__all__ = [
    "CACHE_ENV",
    "POINTER",
    "PublishedIndex",
    "default_cache",
    "index_directory",
    "index_places",
]
