"""`Window`: the two knowledge instants a revisions query compares, on one basis.

`known_since=K1` and `known_until=K2` (None: everything) bound `observed_at` (basis
`observed`, the `known_at` of every query) or `recorded_at` (basis `recorded`, the
`recorded_by` of every query). The answers as known at K1 are compared with those as known
at K2; an event is *news* when K2 admits it and K1 does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from eventstore.model.instants import from_micros, to_micros, to_utc
from projections.errors import CatalogError
from projections.knowledge import EVERYTHING, Knowledge

if TYPE_CHECKING:
    from datetime import datetime

#: The bases a window may be read on, and the log column each one reads.
BASES: Final = {"observed": "observed_at", "recorded": "recorded_at"}


class RevisionsError(CatalogError, ValueError):
    """A revisions query that cannot be answered as asked (a window backwards, an unknown
    field or basis): nothing is read."""


@dataclass(frozen=True)
class Window:
    """Knowledge K1 (`since_us`) and K2 (`until_us`, None: everything), in microseconds."""

    since_us: int
    until_us: int | None
    basis: str

    @classmethod
    def of(cls, known_since: object, known_until: object = None, basis: str = "observed") -> Window:
        """Read the two instants strictly (UTC or `NaiveTimestampError`) and the basis."""
        if basis not in BASES:
            raise RevisionsError(
                f"basis must be one of {', '.join(map(repr, BASES))}, not {basis!r}"
            )
        if known_since is None:
            raise RevisionsError("known_since is required: the knowledge to compare against")
        since = to_micros(to_utc(known_since, "known_since"))
        until = None if known_until is None else to_micros(to_utc(known_until, "known_until"))
        if until is not None and until < since:
            raise RevisionsError(
                f"known_until ({from_micros(until).isoformat()}) is before known_since "
                f"({from_micros(since).isoformat()})"
            )
        return cls(since, until, basis)

    @property
    def column(self) -> str:
        """Return the log column the window bounds."""
        return BASES[self.basis]

    @property
    def since(self) -> datetime:
        """Return K1 as an instant."""
        return from_micros(self.since_us)

    def before(self) -> Knowledge:
        """Return the knowledge at K1."""
        return self._knowledge(self.since_us)

    def after(self) -> Knowledge:
        """Return the knowledge at K2 (everything when K2 is None)."""
        return EVERYTHING if self.until_us is None else self._knowledge(self.until_us)

    def _knowledge(self, bound: int) -> Knowledge:
        if self.basis == "observed":
            return Knowledge(observed_us=bound)
        return Knowledge(recorded_us=bound)


__all__ = ["BASES", "RevisionsError", "Window"]
