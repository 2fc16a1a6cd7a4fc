"""The clock: the current instant, in UTC.

Everything that stamps time (the log's `recorded_at`, a sync's observations, the writer
lease's heartbeat, a witness's `witnessed_at`) takes a clock, and this is its default.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

#: A function returning the current instant, an aware datetime.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Return the current instant, in UTC."""
    return datetime.now(UTC)


__all__ = ["Clock", "utc_now"]
