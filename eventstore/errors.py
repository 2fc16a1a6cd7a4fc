"""Errors raised by the event log.

EventStoreError
├── InvalidEventError (ValueError)          an event that can never be appended
├── InvalidInstantError (ValueError)        a timestamp that cannot be read
│   └── NaiveTimestampError (TypeError)     a timestamp without a time zone or unit
├── ConcurrencyError                        the log moved under a writer
│   ├── StreamVersionConflictError          expected stream versions did not hold
│   └── CommitContentionError               too many writers won the race in a row
├── UnknownStreamError (LookupError)        a change, delisting or retraction of nothing
├── CorruptEventError                       a stored row that cannot be decoded
│   ├── UnknownEventKindError               written by a newer version of this package
│   └── UnsupportedSchemaError              a schema version newer than this package reads
├── StorageError (OSError)                  the storage layer failed; the cause is chained
└── AnchorError (ValueError)                a signing key, signed head or witness that cannot
                                            be used (eventstore.log.anchor)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping


class EventStoreError(Exception):
    """Base of every error raised by `eventstore`."""


class InvalidEventError(EventStoreError, ValueError):
    """An event is malformed: a bad field, value or combination."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        self.reason = reason
        self.field = field
        where = f"{field}: " if field else ""
        super().__init__(f"invalid event: {where}{reason}")


class InvalidInstantError(EventStoreError, ValueError):
    """A timestamp cannot be read as an instant."""

    def __init__(self, what: str, value: object, reason: str) -> None:
        self.what = what
        self.value = value
        super().__init__(f"{what}: {value!r} {reason}")


_HOW_TO_PASS = (
    "pass a timezone-aware datetime (datetime(..., tzinfo=UTC)), an ISO-8601 string "
    "with an offset or 'Z' ('2024-01-01T00:00:00Z'), or an aware pandas timestamp"
)


class NaiveTimestampError(InvalidInstantError, TypeError):
    """A timestamp lacks a time zone, or a bare number lacks a unit."""

    def __init__(self, what: str, value: object, detail: str = "has no time zone") -> None:
        super().__init__(what, value, f"{detail}; {_HOW_TO_PASS}")


class ConcurrencyError(EventStoreError):
    """The log changed in a way that forbids this append; nothing was appended."""


class StreamVersionConflictError(ConcurrencyError):
    """Expected stream versions did not match the log; nothing was appended."""

    def __init__(self, conflicts: Mapping[str, tuple[int, int]]) -> None:
        self.conflicts = dict(conflicts)
        shown = ", ".join(
            f"{stream} expected {want}, log has {have}"
            for stream, (want, have) in sorted(self.conflicts.items())[:5]
        )
        more = "" if len(self.conflicts) <= 5 else f" (and {len(self.conflicts) - 5} more)"
        super().__init__(f"stream version conflict: {shown}{more}; nothing was appended")


class CommitContentionError(ConcurrencyError):
    """Other writers committed first too many times in a row; nothing was appended."""

    def __init__(self, attempts: int) -> None:
        self.attempts = attempts
        super().__init__(
            f"gave up after {attempts} attempts: other writers kept committing first; "
            "nothing was appended, retry later"
        )


class UnknownStreamError(EventStoreError, LookupError):
    """An event refers to an instrument or event the log has never seen."""

    def __init__(self, what: str, key: str) -> None:
        self.what = what
        self.key = key
        super().__init__(f"unknown {what} {key!r}; nothing was appended")


class CorruptEventError(EventStoreError):
    """A stored event cannot be decoded."""

    def __init__(self, position: int | None, reason: str) -> None:
        self.position = position
        self.reason = reason
        where = f"event at position {position}" if position is not None else "stored event"
        super().__init__(f"cannot decode {where}: {reason}")


class UnknownEventKindError(CorruptEventError):
    """A stored event has a kind this version of the package does not know."""

    def __init__(self, position: int | None, kind: str) -> None:
        self.kind = kind
        super().__init__(
            position,
            f"unknown event kind {kind!r}; it was written by a newer version of "
            "pit-catalog: upgrade to read this log",
        )


class UnsupportedSchemaError(CorruptEventError):
    """A stored event has a schema version newer than this package reads."""

    def __init__(self, position: int | None, version: int, supported: int) -> None:
        self.version = version
        self.supported = supported
        super().__init__(
            position,
            f"event schema version {version} is newer than the supported {supported}; "
            "upgrade pit-catalog to read this log",
        )


class StorageError(EventStoreError, OSError):
    """The storage layer failed; the original error is chained as `__cause__`."""

    def __init__(self, uri: str, action: str, detail: str) -> None:
        self.uri = uri
        self.action = action
        super().__init__(f"{action} failed for {uri}: {detail}")


class AnchorError(EventStoreError, ValueError):
    """A signing key, a public key, a signed head or a witness cannot be used."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"{what}: {reason}")
