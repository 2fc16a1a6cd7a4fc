"""Telling whether a lease's holder still lives, and the lock around recovering a lease."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from pathlib import Path
from typing import Final

#: A recovery lock older than this is itself abandoned (recovery takes milliseconds).
RECOVERY_TTL: Final = 30.0


def process_start(pid: int) -> str:
    """Return when process `pid` started, in clock ticks since boot ("" if unknown)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]  # field 22, counted after the command name


def pid_alive(pid: int) -> bool:
    """Return whether a process with this pid exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    return True


class RecoveryLock:
    """A short exclusive lock around recovering a lease, itself recovered after a while."""

    def __init__(self, path: Path, refused: Exception) -> None:
        """Lock recovery through `path`; raise `refused` when another process recovers."""
        self.path = path
        self.refused = refused
        self.token = uuid.uuid4().hex

    def __enter__(self) -> RecoveryLock:
        """Take the lock, replacing one left for longer than `RECOVERY_TTL`."""
        for _ in range(2):
            try:
                descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if not self._abandoned():
                    raise self.refused from None
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(descriptor, "w") as lock:
                lock.write(self.token)
            return self
        raise self.refused

    def _abandoned(self) -> bool:
        try:
            age = time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return True
        return age > RECOVERY_TTL

    def __exit__(self, *exc: object) -> None:
        """Drop the lock if it is still ours."""
        with contextlib.suppress(OSError):
            if self.path.read_text() == self.token:
                self.path.unlink()


__all__ = ["RECOVERY_TTL", "RecoveryLock", "pid_alive", "process_start"]
