"""Ctrl-C and SIGTERM while a command runs: stop cleanly and say what was committed.

SIGTERM is turned into an exception like Ctrl-C's, so that every `with` block unwinds: the
writer lease is released and no temporary file is left. The log's commits are atomic, so an
interrupted command has committed whole batches or nothing; `committed_since` tells which.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import TYPE_CHECKING

from eventstore import EventLog, EventStoreError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType

_NAMES = {signal.SIGINT: "interrupted (Ctrl-C)", signal.SIGTERM: "terminated (SIGTERM)"}


class Interrupted(KeyboardInterrupt):
    """The command was stopped by a signal; `status` is the shell's 128 + its number."""

    def __init__(self, number: int) -> None:
        """Remember which signal stopped the command."""
        super().__init__(number)
        self.number = number
        self.status = 128 + number

    def describe(self) -> str:
        """Return what stopped the command, as the one line says it."""
        return _NAMES.get(signal.Signals(self.number), f"stopped by signal {self.number}")


def _raise(number: int, frame: FrameType | None) -> None:
    raise Interrupted(number)


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM raises `Interrupted` in the main thread (as Ctrl-C does)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def log_version(root: str) -> int:
    """Return the Delta version of the log under `root` (-1 if none or unreadable)."""
    try:
        return EventLog.open(root).refresh()
    except (EventStoreError, OSError):
        return -1


def committed_since(root: str, before: int) -> str:
    """Say how many events the log gained since Delta version `before`, and that was all."""
    try:
        log = EventLog.open(root)
        after = log.refresh()
        if after <= before:
            return "; nothing was appended"
        gained = log.read(["position"], version=after).num_rows
        if before >= 0:
            gained -= log.read(["position"], version=before).num_rows
    except (EventStoreError, OSError) as exc:
        return f"; the log cannot be read to say what was committed: {exc}"
    return (
        f"; {gained:,} events were committed before it (log version {before} -> {after}), "
        "nothing else was appended"
    )
