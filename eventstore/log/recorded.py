"""What an append takes and gives back: a batch of events, and the events as recorded."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventstore.errors import InvalidEventError
from eventstore.model.events import Event

if TYPE_CHECKING:
    from collections.abc import Iterable


def event_batch(events: Iterable[Event]) -> list[Event]:
    """Return `events` as a list; raise `InvalidEventError` at the first item that is not
    an event of a kind (the `Event` base itself is none)."""
    batch = list(events)
    if any(not issubclass(kind, Event) or kind is Event for kind in set(map(type, batch))):
        for index, event in enumerate(batch):
            if not isinstance(event, Event) or type(event) is Event:
                name = type(event).__name__
                raise InvalidEventError(f"item {index} is a {name}, not an event")
    return batch


class Recorded(list[Event]):
    """The events of one append as recorded, in input order.

    `new` lists those this append added, in position order (`appended` counts them);
    the others were already in the log.
    """

    def __init__(self, events: list[Event], new: list[Event]) -> None:
        """Hold `events`, of which `new` were appended now."""
        super().__init__(events)
        self.new = new
        self.appended = len(new)


__all__ = ["Recorded", "event_batch"]
