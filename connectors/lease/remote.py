"""The writer lease of an object-store root: one object, moved only by conditional puts.

`<root>/writer.lease` holds a `LeaseRecord`. Taking the lease creates it (`If-None-Match`)
or replaces a released or abandoned one (`If-Match` the version read), so of two writers
racing for it exactly one wins; renewing the heartbeat and releasing are conditional on the
version this holder wrote last, so a holder that was taken over learns it and stops. The
object is never deleted (no conditional delete is needed): a released lease is a record
with no token. A holder that dies stops renewing; its lease is abandoned once its heartbeat
is older than its ttl (or, on the same host, once its pid is gone).
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Final

from connectors.errors import LeaseError, LeaseHeldError
from connectors.lease.writer import LEASE_FILE, LeaseRecord, abandoned
from eventstore.errors import StorageError
from eventstore.log.objects import ObjectFolder

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

#: Conditional puts tried before giving up on a lease that keeps changing under us.
ATTEMPTS: Final = 5


class ObjectLease:
    """The lease object of one object-store root; `WriterLease` delegates to it."""

    def __init__(
        self,
        root: str,
        host: str,
        clock: Callable[[], datetime],
        storage_options: Mapping[str, str] | None = None,
    ) -> None:
        """Use `<root>/writer.lease`, judging heartbeats with `clock` from `host`."""
        self.folder = ObjectFolder(root, storage_options)
        self.path = PurePosixPath(f"{root.rstrip('/')}/{LEASE_FILE}")
        self.host, self.clock = host, clock
        self.tag: str | None = None

    def _held(self, holder: LeaseRecord | None, detail: str = "") -> LeaseHeldError:
        return LeaseHeldError(self.path, holder, detail)  # type: ignore[arg-type]

    def take(self, record: LeaseRecord) -> LeaseRecord | None:
        """Make `record` the lease; return the abandoned record it replaced, if any.

        Raise `LeaseHeldError` if a live writer holds it, `LeaseError` if the store fails.
        """
        try:
            for _ in range(ATTEMPTS):
                found = self.folder.get(LEASE_FILE)
                if found is None:
                    self.tag = self.folder.create(LEASE_FILE, record.encode())
                    if self.tag is not None:
                        return None
                    continue
                try:
                    holder = LeaseRecord.decode(found.content)
                except ValueError:
                    holder = None  # garbage in the lease object: taken over as abandoned
                live = holder is not None and holder.token and not self._gone(holder)
                if live:
                    raise self._held(holder)
                self.tag = self.folder.replace(LEASE_FILE, record.encode(), found.tag)
                if self.tag is not None:
                    return holder if holder is not None and holder.token else None
        except StorageError as exc:
            raise LeaseError(f"cannot take the writer lease {self.path}: {exc}") from exc
        raise self._held(None, " (the lease keeps changing)")

    def _gone(self, holder: LeaseRecord) -> bool:
        return abandoned(holder, self.host, self.clock())

    def renew(self, record: LeaseRecord) -> None:
        """Write `record` (a new heartbeat) over ours; raise `LeaseError` if taken over."""
        if self.tag is None:
            raise LeaseError(f"the writer lease {self.path} is not held")
        try:
            tag = self.folder.replace(LEASE_FILE, record.encode(), self.tag)
        except StorageError as exc:
            raise LeaseError(f"cannot renew the writer lease {self.path}: {exc}") from exc
        if tag is None:
            raise LeaseError(f"the writer lease {self.path} was taken over; stop writing")
        self.tag = tag

    def release(self, record: LeaseRecord) -> None:
        """Mark the lease free if it is still ours (a taken-over lease is left alone)."""
        if self.tag is None:
            return
        free = LeaseRecord(**{**asdict(record), "token": "", "heartbeat": self.clock().isoformat()})
        tag, self.tag = self.tag, None
        with contextlib.suppress(StorageError):  # else the lease expires by its ttl
            self.folder.replace(LEASE_FILE, free.encode(), tag)


__all__ = ["ObjectLease"]
