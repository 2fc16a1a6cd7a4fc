"""The clock every test folder injects into `EventLog.open(clock=...)`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

MILLISECOND = timedelta(milliseconds=1)


class Clock:
    """A clock the test controls: the log records what it says.

    Each reading moves it `step` forward first (none by default: it stands still until
    `set`); `readings` keeps what it said. Assign `now` or call `set` to move it anywhere,
    backwards included.
    """

    def __init__(
        self, now: datetime = datetime(2024, 1, 1, tzinfo=UTC), step: timedelta = timedelta(0)
    ) -> None:
        """Start at `now`, stepping `step` on each reading."""
        self.now = now
        self.step = step
        self.readings: list[datetime] = []

    def __call__(self) -> datetime:
        """Return the current instant (after one step)."""
        self.now += self.step
        self.readings.append(self.now)
        return self.now

    def set(self, now: datetime) -> datetime:
        """Move the clock to `now` and return it (the recorded_at of the next append)."""
        self.now = now
        return now
