"""The single-writer lease: one file in the catalog root says which process may append.

    with WriterLease(root, purpose="catalog append"):
        log.append(...)

Acquiring creates `<root>/writer.lease` atomically: the record (host, pid, process start,
since, heartbeat, ttl, a random token) is written to a private file first and hard-linked
into place, so the lease appears whole or not at all and two writers cannot both create it.
A second writer is refused with `LeaseHeldError`, which says who holds the lease.

A lease left behind by a process that died is recovered: on the same host when its pid is
gone (or was reused by another process, told apart by its start time), on another host when
its heartbeat is older than its ttl. Recovery happens under a short-lived recovery lock and
re-reads the lease before removing it, so two recoverers never remove a fresh lease. A held
lease renews its heartbeat from a background thread; leaving the `with` block releases it,
and only if it is still ours.

On an object-store root the lease is the object `<root>/writer.lease`, taken, renewed and
released by conditional puts (`connectors.lease.remote`); a dead holder's lease expires by
its heartbeat.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import socket
import threading
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from connectors.errors import LeaseError, LeaseHeldError
from connectors.lease.recovery import RecoveryLock, pid_alive, process_start
from eventstore.clock import utc_now
from eventstore.log.places import is_local_root, write_atomically

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import TracebackType

    from connectors.lease.remote import ObjectLease

LEASE_FILE: Final = "writer.lease"
#: A heartbeat older than this many seconds marks a lease of another host as abandoned.
DEFAULT_TTL: Final = 60.0


@dataclass(frozen=True)
class LeaseRecord:
    """What the lease file says: who holds it, since when, and how to tell it is alive."""

    host: str
    pid: int
    started: str  # the process's start time as the OS counts it ("" when unknown)
    since: str  # ISO-8601 UTC
    heartbeat: str  # ISO-8601 UTC
    ttl: float
    token: str
    purpose: str

    def describe(self) -> str:
        """Return who holds the lease, for people."""
        return f"{self.purpose} (host {self.host}, pid {self.pid}, since {self.since})"

    def encode(self) -> bytes:
        """Return the record as the lease file's content."""
        return json.dumps(asdict(self), indent=1).encode()

    @classmethod
    def decode(cls, content: bytes) -> LeaseRecord:
        """Return the record in a lease file's content; raise ValueError if it is not one."""
        try:
            fields = json.loads(content)
            return cls(**fields)
        except (TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a lease record: {exc}") from None


def abandoned(record: LeaseRecord, host: str, now: datetime) -> bool:
    """Return whether the holder of `record` is gone, as seen from `host` at `now`."""
    if record.host == host:
        if not pid_alive(record.pid):
            return True
        started = process_start(record.pid)
        return bool(record.started and started and started != record.started)  # pid reused
    beat = datetime.fromisoformat(record.heartbeat)
    return (now - beat).total_seconds() > record.ttl


def _refused(path: Path, exc: OSError) -> str:
    root = path.parent
    if root.exists() and not root.is_dir():
        return f"the root {root} is a file, not a folder; nothing was written"
    reason = exc.strerror or str(exc)
    return f"cannot take the writer lease {path}: {reason}; nothing was written"


class WriterLease:
    """The right to append to the catalog under `root`, held by one process at a time."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        purpose: str,
        ttl: float = DEFAULT_TTL,
        keep_alive: bool = True,
        create_root: bool = True,
        clock: Callable[[], datetime] = utc_now,
        storage_options: Mapping[str, str] | None = None,
    ) -> None:
        """Prepare the lease of `root` for `purpose` (shown to a refused writer).

        An object-store root is reached with `storage_options` (default: the environment).

        With `create_root` False, a root that does not exist is left alone and the lease
        is not taken (a command that writes nothing there needs none).
        """
        text = os.fspath(root)
        self.local = is_local_root(text)
        self.path = Path(text.removeprefix("file://")) / LEASE_FILE
        self.purpose = purpose
        self.ttl = ttl
        self.keep_alive = keep_alive
        self.create_root = create_root
        self.clock = clock
        self.host = socket.gethostname()
        self.record: LeaseRecord | None = None
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        self.remote: ObjectLease | None = None
        if not self.local:
            from connectors.lease.remote import ObjectLease  # it builds on this module

            self.remote = ObjectLease(text, self.host, clock, storage_options)

    # -- acquiring ---------------------------------------------------------------------

    def acquire(self) -> LeaseRecord | None:
        """Take the lease, recovering an abandoned one; raise `LeaseHeldError` if it is held.

        Return the record of the abandoned lease that was recovered, if any.
        """
        if self.record is not None:
            return None
        if self.remote is not None:
            record = self._new_record()
            recovered = self.remote.take(record)
            self._held(record)
            return recovered
        if not self.create_root and not self.path.parent.is_dir():
            return None
        created = not self.path.parent.exists()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self._create():
                return None
            recovered = self._recover()
            if not self._create():
                raise LeaseHeldError(self.path, self._read())
        except OSError as exc:  # a root that is a file, read-only, not ours, or a full disk
            if created:
                with contextlib.suppress(OSError):
                    self.path.parent.rmdir()  # leave the disk as it was
            raise LeaseError(_refused(self.path, exc)) from exc
        return recovered

    def _new_record(self) -> LeaseRecord:
        now = self.clock().isoformat()
        pid = os.getpid()
        return LeaseRecord(
            self.host, pid, process_start(pid), now, now, self.ttl, uuid.uuid4().hex, self.purpose
        )

    def _create(self) -> bool:
        """Create the lease file with a new record; return False if one exists already."""
        record = self._new_record()
        staged = self.path.with_name(f".{LEASE_FILE}.{record.token}")
        try:
            staged.write_bytes(record.encode())
            os.link(staged, self.path)  # atomic, and fails if the lease exists
        except FileExistsError:
            return False
        finally:
            staged.unlink(missing_ok=True)  # also when the disk was full mid-write
        self._held(record)
        return True

    def _held(self, record: LeaseRecord) -> None:
        """Hold `record`: release it at exit, renew it from a heartbeat thread."""
        self.record = record
        atexit.register(self.release)
        if self.keep_alive:
            self._beat = threading.Thread(target=self._beating, name="lease-heartbeat", daemon=True)
            self._beat.start()

    def _read(self) -> LeaseRecord | None:
        try:
            return LeaseRecord.decode(self.path.read_bytes())
        except (OSError, ValueError):
            return None

    def _recover(self) -> LeaseRecord | None:
        """Remove the lease if its holder is gone; return its record. Refuse if it lives."""
        busy = LeaseHeldError(self.path, None, " (recovering an old lease)")
        with RecoveryLock(self.path.with_name(f".{LEASE_FILE}.recovering"), busy):
            holder = self._read()
            if holder is None:
                if not self.path.exists():
                    return None  # released meanwhile
                raise LeaseHeldError(self.path, None, " (its lease file cannot be read)")
            if not abandoned(holder, self.host, self.clock()):
                raise LeaseHeldError(self.path, holder)
            self.path.unlink(missing_ok=True)
            return holder

    # -- holding -----------------------------------------------------------------------

    def renew(self) -> None:
        """Move the heartbeat to now; raise `LeaseError` if the lease is no longer ours."""
        if self.record is None:
            return
        renewed = LeaseRecord(**{**asdict(self.record), "heartbeat": self.clock().isoformat()})
        if self.remote is not None:
            self.remote.renew(renewed)
            self.record = renewed
            return
        current = self._read()
        if current is None or current.token != self.record.token:
            raise LeaseError(f"the writer lease {self.path} was taken over; stop writing")
        write_atomically(self.path, renewed.encode())  # a full disk: the old heartbeat stays
        self.record = renewed

    def _beating(self) -> None:
        while not self._stop.wait(self.ttl / 4):
            with contextlib.suppress(LeaseError, OSError):
                self.renew()

    def release(self) -> None:
        """Give the lease up, if it is still ours (a taken-over lease is left alone)."""
        record, self.record = self.record, None
        if record is None:
            return
        self._stop.set()
        if self._beat is not None and self._beat is not threading.current_thread():
            self._beat.join()
        atexit.unregister(self.release)
        if self.remote is not None:
            self.remote.release(record)
            return
        current = self._read()
        if current is not None and current.token == record.token:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> WriterLease:
        """Acquire the lease."""
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """Release the lease."""
        self.release()


__all__ = [
    "DEFAULT_TTL",
    "LEASE_FILE",
    "LeaseError",
    "LeaseHeldError",
    "LeaseRecord",
    "WriterLease",
    "abandoned",
]
