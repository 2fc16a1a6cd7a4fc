"""The head of the log after a commit, the exact bytes a signature covers, and the hook that
sees each new head.

A head is what a commit left at the tip of the chain: the position and hash of the last
event, the Delta version of the commit and the last event's `recorded_at`. A signature
covers its canonical JSON (keys sorted, no spaces, UTF-8), e.g.
`{"delta_version":3,"hash":"9acf...","position":999,"recorded_at":"2024-01-01T00:00:00.000000Z"}`.
A compaction moves the Delta version and nothing else, so it has a head of its own.

This module does no I/O and needs no cryptography: the log imports it on every append.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Final

import msgspec

from eventstore.model.instants import from_micros

if TYPE_CHECKING:
    from eventstore.log.event_log import EventLog

#: `recorded_at` in a head: UTC, always six digits of microseconds, `Z`.
RECORDED_AT_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"


class Head(msgspec.Struct, frozen=True, kw_only=True):
    """The tip of the chain after one commit."""

    position: int
    hash: str
    delta_version: int
    recorded_at: str

    def payload(self) -> bytes:
        """Return the bytes a signature covers: the four fields as canonical JSON."""
        fields = {
            "delta_version": self.delta_version,
            "hash": self.hash,
            "position": self.position,
            "recorded_at": self.recorded_at,
        }
        return msgspec.json.encode(fields, order="sorted")

    def same_tip(self, other: Head) -> bool:
        """Return whether `other` names the same event (position, hash, recorded_at)."""
        return (self.position, self.hash, self.recorded_at) == (
            other.position,
            other.hash,
            other.recorded_at,
        )


class SignedHead(Head, frozen=True, kw_only=True):
    """A head with an Ed25519 signature of its payload (base64) and the signing key's id."""

    key: str
    signature: str


class WitnessedHead(SignedHead, frozen=True, kw_only=True):
    """A signed head as a witness keeps it: with when it was witnessed (not signed)."""

    witnessed_at: str | None = None


def recorded_text(micros: int) -> str:
    """Return `recorded_at` (microseconds since the epoch) as a head spells it."""
    return from_micros(micros).strftime(RECORDED_AT_FORMAT)


#: Called after each commit with the log and its new head; see `EventLog(on_commit=...)`.
CommitHook = Callable[["EventLog", Head], None]
_AMBIENT: ContextVar[CommitHook | None] = ContextVar("commit_hook", default=None)


@contextmanager
def commits_seen_by(hook: CommitHook | None) -> Iterator[None]:
    """Give every `EventLog` opened inside this block `hook` as its default commit hook.

    This is how a command-line writer signs without each command passing its key down:
    the hook is bound when a log is opened, not when it commits.
    """
    token = _AMBIENT.set(hook)
    try:
        yield
    finally:
        _AMBIENT.reset(token)


def ambient_hook() -> CommitHook | None:
    """Return the commit hook set by the innermost `commits_seen_by`, if any."""
    return _AMBIENT.get()


__all__ = [
    "CommitHook",
    "Head",
    "SignedHead",
    "WitnessedHead",
    "ambient_hook",
    "commits_seen_by",
    "recorded_text",
]
