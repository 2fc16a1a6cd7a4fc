"""Sync bookkeeping kept beside the log: instruments absent from recent snapshots.

Absence is not a fact about an instrument (it may come back), so it is not an event: it is
counted here, per source and market, in `<root>/sync/absence.json`, written atomically after
the source's commit. Losing the file only delays delistings by absence; it never loses one.
An object-store root keeps the counts in memory for the life of the process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import msgspec

from connectors.sync.outcome import Absence
from eventstore.log.places import local_folder, write_atomically

#: source -> market -> instrument id -> absence.
Counts = dict[str, dict[str, dict[str, Absence]]]
_DECODER: Final = msgspec.json.Decoder(Counts)


def state_file(root: str) -> Path | None:
    """Return the absence file of the catalog under `root` (None for object stores)."""
    folder = local_folder(root)
    return None if folder is None else Path(folder) / "sync" / "absence.json"


class AbsenceStore:
    """Absence counts of every source, loaded once and saved per source."""

    def __init__(self, root: str) -> None:
        """Load the counts kept under `root`, if any."""
        self.path = state_file(root)
        self.counts: Counts = {}
        if self.path is not None and self.path.exists():
            try:
                self.counts = _DECODER.decode(self.path.read_bytes())
            except msgspec.DecodeError:
                self.counts = {}  # damaged bookkeeping: start counting again, delist later

    def of(self, source: str, market: str) -> dict[str, Absence]:
        """Return the counts of one market of one source."""
        return self.counts.get(source, {}).get(market, {})

    def save(self, source: str, markets: dict[str, dict[str, Absence]]) -> None:
        """Replace `source`'s counts by `markets` and write the file atomically."""
        self.counts[source] = {**self.counts.get(source, {}), **markets}
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, msgspec.json.encode(self.counts))
