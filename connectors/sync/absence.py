"""Sync bookkeeping kept beside the log: instruments absent from recent snapshots.

Absence is not a fact about an instrument (it may come back), so it is not an event: it is
counted here, per source and market, in `<root>/sync/absence.json`, written atomically after
the source's commit. Losing the file only delays delistings by absence; it never loses one.
On an object-store root it is the object `<root>/sync/absence.json`, rewritten by a
conditional put that merges this source's counts into what is stored: two processes never
lose each other's counts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

import msgspec

from connectors.sync.outcome import Absence
from eventstore.log.objects import ObjectFolder
from eventstore.log.places import local_folder, write_atomically

if TYPE_CHECKING:
    from collections.abc import Mapping

#: source -> market -> instrument id -> absence.
Counts = dict[str, dict[str, dict[str, Absence]]]
_DECODER: Final = msgspec.json.Decoder(Counts)
#: Where the counts are, relative to the root.
NAME: Final = "sync/absence.json"


def _decoded(content: bytes | None) -> Counts:
    if content is None:
        return {}
    try:
        return _DECODER.decode(content)
    except msgspec.DecodeError:
        return {}  # damaged bookkeeping: start counting again, delist later


def state_file(root: str) -> Path | None:
    """Return the absence file of the catalog under `root` (None for object stores)."""
    folder = local_folder(root)
    return None if folder is None else Path(folder) / "sync" / "absence.json"


class AbsenceStore:
    """Absence counts of every source, loaded once and saved per source."""

    def __init__(self, root: str, storage_options: Mapping[str, str] | None = None) -> None:
        """Load the counts kept under `root`, if any (an object store: with
        `storage_options`, else the environment's)."""
        self.path = state_file(root)
        self.remote = None if self.path is not None else ObjectFolder(root, storage_options)
        self.counts: Counts = {}
        if self.remote is not None:
            found = self.remote.get(NAME)
            self.counts = _decoded(None if found is None else found.content)
        elif self.path is not None and self.path.exists():
            self.counts = _decoded(self.path.read_bytes())

    def of(self, source: str, market: str) -> dict[str, Absence]:
        """Return the counts of one market of one source."""
        return self.counts.get(source, {}).get(market, {})

    def save(self, source: str, markets: dict[str, dict[str, Absence]]) -> None:
        """Replace `source`'s counts by `markets` and write the file atomically."""
        if self.remote is not None:

            def merged(content: bytes | None) -> bytes:
                stored = _decoded(content)
                stored[source] = {**stored.get(source, {}), **markets}
                self.counts = stored
                return msgspec.json.encode(stored)

            self.remote.update(NAME, merged)
            return
        self.counts[source] = {**self.counts.get(source, {}), **markets}
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, msgspec.json.encode(self.counts))
