"""One Delta version per query: every read a query makes sees the same commits.

A query may read the log several times (its new commits, the events of a late correction,
a window and its retractions). Between two reads another writer may commit; a query
wrapped in `one_version` reads through `EventLog.pinned`, so it never mixes two versions of
the log. `Catalog.pinned()` widens that to a batch of queries.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Concatenate, ParamSpec, Protocol, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

    from eventstore import EventLog


class _Reads(Protocol):
    log: EventLog


P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound=_Reads)


def one_version(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Run `method` with its object's log pinned to one Delta version."""

    @functools.wraps(method)
    def pinned(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        self.log.pin()  # not `with self.log.pinned()`: a `get` is a few microseconds
        try:
            return method(self, *args, **kwargs)
        finally:
            self.log.unpin()

    return pinned


__all__ = ["one_version"]
