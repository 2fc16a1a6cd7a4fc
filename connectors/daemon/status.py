"""What the daemon did and will do, per source: kept in `<root>/sync/status.json`.

The daemon rewrites the file atomically after every run; `catalog status` reads it, so it
works from any shell while the daemon runs (or after it stopped). On an object-store root
it is the object `<root>/sync/status.json`, rewritten by a conditional put.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import TYPE_CHECKING, Final

import msgspec

from connectors.sync.absence import state_file
from eventstore.log.objects import ObjectFolder
from eventstore.log.places import write_atomically

if TYPE_CHECKING:
    from pathlib import Path


class SourceStatus(msgspec.Struct, kw_only=True):
    """One source's runs: when, what they appended, how the last one ended."""

    enabled: bool = True
    schedule: str = ""
    runs: int = 0
    failures: int = 0
    running: bool = False
    last_run: datetime | None = None
    last_success: datetime | None = None
    last_appended: int = 0
    appended_total: int = 0
    last_error: str | None = None
    next_run: datetime | None = None
    #: Rows a value rule refused in the last successful run, and the first few of them.
    last_rejected: int = 0
    rejections: list[str] = msgspec.field(default_factory=list)


class DaemonStatus(msgspec.Struct, kw_only=True):
    """The daemon process and its sources."""

    host: str = ""
    pid: int = 0
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    sources: dict[str, SourceStatus] = msgspec.field(default_factory=dict)

    @classmethod
    def starting(cls, started_at: datetime) -> DaemonStatus:
        """Return the status of this process, starting now."""
        return cls(host=socket.gethostname(), pid=os.getpid(), started_at=started_at)


_DECODER: Final = msgspec.json.Decoder(DaemonStatus)
#: Where the status is, relative to the root.
NAME: Final = "sync/status.json"


def status_file(root: str) -> Path | None:
    """Return where the daemon of the catalog under `root` keeps its status."""
    absence = state_file(root)
    return None if absence is None else absence.with_name("status.json")


def read(root: str) -> DaemonStatus | None:
    """Return the last status written for `root`, or None if no daemon ever ran there."""
    path = status_file(root)
    if path is None:
        found = ObjectFolder(root).get(NAME)
        content = None if found is None else found.content
    else:
        content = path.read_bytes() if path.exists() else None
    if content is None:
        return None
    try:
        return _DECODER.decode(content)
    except msgspec.DecodeError:
        return None


def write(root: str, status: DaemonStatus) -> None:
    """Replace the status file atomically (an object: by a conditional put)."""
    path = status_file(root)
    if path is None:
        ObjectFolder(root).update(NAME, lambda _: msgspec.json.encode(status))
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, msgspec.json.encode(status))
