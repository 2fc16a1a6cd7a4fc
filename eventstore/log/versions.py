"""Stream versions of a batch in which every event is new: the planner's fast path.

The planner's full pass decides event by event (repeats, retraction targets, unknown
streams). In the common batch none of that can happen: no id may be stored already, no id
repeats and nothing is retracted; what is left is one tight loop over the streams.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from eventstore.model.events import EventRetracted
from eventstore.model.kinds import OPENS_STREAM

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from eventstore.model.events import Event


@dataclass(frozen=True)
class Versions:
    """Per event its stream version; per stream touched its version after the batch."""

    versions: list[int]
    streams: dict[str, int]


def all_new_versions(
    batch: Sequence[Event],
    keys: np.ndarray,
    maybe_stored: np.ndarray,
    known: Mapping[str, int],
) -> Versions | None:
    """Return the versions of `batch` if every event is new and valid, else None.

    None means only that the fast path does not apply (a possible repeat, a retraction, a
    stream no listing opens): the caller then decides event by event.
    """
    ordered = np.sort(keys)
    if maybe_stored.any() or (ordered[1:] == ordered[:-1]).any():
        return None
    if any(issubclass(kind, EventRetracted) for kind in set(map(type, batch))):
        return None
    streams: dict[str, int] = {}
    versions: list[int] = []
    add, after, before = versions.append, streams.get, known.get
    for event in batch:
        stream = event.instrument_id
        version = after(stream)
        if version is None:
            version = before(stream, 0)
            if not version and not isinstance(event, OPENS_STREAM):
                return None
        version += 1
        streams[stream] = version
        add(version)
    return Versions(versions, streams)
