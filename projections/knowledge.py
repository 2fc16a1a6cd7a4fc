"""`Knowledge`: which events a query may see, by the two knowledge instants.

`known_at=K` keeps the events observed by K (`observed_at <= K`: what could have been known
then, also on a catalog backfilled later); `recorded_by=R` keeps those recorded by R
(`recorded_at <= R`: exactly what the catalog answered at R). Both default to no bound; an
event counts when it passes both. The pure fold reads the instants, the index the
microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from eventstore.model.instants import from_micros, to_micros, to_utc

if TYPE_CHECKING:
    from datetime import datetime


@dataclass(frozen=True)
class Knowledge:
    """The bounds of knowledge, in microseconds since the epoch (None: no bound)."""

    observed_us: int | None = None
    recorded_us: int | None = None

    @classmethod
    def of(cls, known_at: object = None, recorded_by: object = None) -> Knowledge:
        """Read `known_at` and `recorded_by` (instants or None) strictly: UTC or an error."""
        if known_at is None and recorded_by is None:
            return EVERYTHING
        return cls(_micros(known_at, "known_at"), _micros(recorded_by, "recorded_by"))

    @property
    def everything(self) -> bool:
        """Return whether no bound applies."""
        return self.observed_us is None and self.recorded_us is None

    @property
    def known_at(self) -> datetime | None:
        """Return the bound on `observed_at` as an instant."""
        return None if self.observed_us is None else from_micros(self.observed_us)

    @property
    def recorded_by(self) -> datetime | None:
        """Return the bound on `recorded_at` as an instant."""
        return None if self.recorded_us is None else from_micros(self.recorded_us)

    def covers(self, max_observed_us: int, max_recorded_us: int) -> bool:
        """Return whether every event observed and recorded by these maxima passes."""
        return (self.observed_us is None or self.observed_us >= max_observed_us) and (
            self.recorded_us is None or self.recorded_us >= max_recorded_us
        )

    def admitted(self, rows: pa.Table) -> pa.Table:
        """Return the rows (with `observed_at` and `recorded_at`) that pass both bounds."""
        if self.everything:
            return rows
        return rows.filter(self._mask(rows, later=False))

    def later(self, rows: pa.Table) -> pa.Table:
        """Return the rows that fail a bound: observed after `known_at` or recorded after
        `recorded_by`."""
        if self.everything:
            return rows.slice(0, 0)
        return rows.filter(self._mask(rows, later=True))

    def _mask(self, rows: pa.Table, *, later: bool) -> pa.ChunkedArray:
        keep = None
        for column, bound in (("observed_at", self.observed_us), ("recorded_at", self.recorded_us)):
            if bound is not None:
                passes = pc.less_equal(rows[column].cast(pa.int64()), bound)
                keep = passes if keep is None else pc.and_(keep, passes)
        assert keep is not None, "a bound applies"
        return pc.invert(keep) if later else keep


def _micros(value: object, what: str) -> int | None:
    return None if value is None else to_micros(to_utc(value, what))


#: Everything the log holds.
EVERYTHING = Knowledge()

__all__ = ["EVERYTHING", "Knowledge"]
