"""Fixtures for the event log tests: storage locations, a log opener, a controllable clock.

The conformance suite runs against every storage location the log supports: a local folder
and an S3 bucket served by moto on loopback. Each location also gives raw access to the
log's files, which is what the tamper tests need.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest
from clock import MILLISECOND, Clock
from s3_server import BUCKET, serve

from eventstore import EventLog

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


class Location(Protocol):
    """A place a log can live, with the raw file access the tamper tests need."""

    name: str
    storage_options: dict[str, str] | None

    def new_root(self) -> str:
        """Return a root no other test uses."""

    def copy_log(self, src: str, dst: str) -> None:
        """Copy the log under root `src` to root `dst`, file by file."""

    def files(self, root: str) -> list[str]:
        """Return the paths of the log's files under `<root>/events`, relative to it, sorted."""

    def read(self, root: str, name: str) -> bytes:
        """Return the content of file `name` (relative to `<root>/events`)."""

    def write(self, root: str, name: str, content: bytes) -> None:
        """Overwrite file `name` (relative to `<root>/events`) with `content`."""


@dataclass
class LocalFolder:
    """A log in a folder on the local disk."""

    base: Path
    name: str = "local"
    storage_options: dict[str, str] | None = None

    def new_root(self) -> str:
        return str(self.base / uuid.uuid4().hex)

    def copy_log(self, src: str, dst: str) -> None:
        shutil.copytree(src, dst)

    def files(self, root: str) -> list[str]:
        events = Path(root) / "events"
        return sorted(p.relative_to(events).as_posix() for p in events.rglob("*") if p.is_file())

    def read(self, root: str, name: str) -> bytes:
        return (Path(root) / "events" / name).read_bytes()

    def write(self, root: str, name: str, content: bytes) -> None:
        (Path(root) / "events" / name).write_bytes(content)


@dataclass
class S3Bucket:
    """A log in an S3 bucket served by moto on 127.0.0.1."""

    client: Any
    storage_options: dict[str, str]
    name: str = "s3"

    def new_root(self) -> str:
        return f"s3://{BUCKET}/{uuid.uuid4().hex}"

    @staticmethod
    def _prefix(root: str) -> str:
        return root.removeprefix(f"s3://{BUCKET}/").rstrip("/") + "/events/"

    def _keys(self, root: str) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=self._prefix(root)
        )
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def copy_log(self, src: str, dst: str) -> None:
        for key in self._keys(src):
            target = self._prefix(dst) + key.removeprefix(self._prefix(src))
            self.client.copy_object(
                Bucket=BUCKET, Key=target, CopySource={"Bucket": BUCKET, "Key": key}
            )

    def files(self, root: str) -> list[str]:
        return sorted(key.removeprefix(self._prefix(root)) for key in self._keys(root))

    def read(self, root: str, name: str) -> bytes:
        reply = self.client.get_object(Bucket=BUCKET, Key=self._prefix(root) + name)
        content: bytes = reply["Body"].read()
        return content

    def write(self, root: str, name: str, content: bytes) -> None:
        self.client.put_object(Bucket=BUCKET, Key=self._prefix(root) + name, Body=content)


@pytest.fixture(scope="session")
def s3_bucket() -> Iterator[S3Bucket]:
    """Serve S3 with moto on loopback for the whole session; yield a location in one bucket."""
    with serve() as s3:
        yield S3Bucket(s3.client, s3.options)


@pytest.fixture(params=["local", "s3"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Location:
    """Return each storage location the log supports, in turn: a local folder, S3 on moto."""
    if request.param == "local":
        return LocalFolder(tmp_path)
    bucket: S3Bucket = request.getfixturevalue("s3_bucket")
    return bucket  # type: ignore[return-value]


@pytest.fixture
def root(location: Location) -> str:
    """Return a fresh, empty log root at the current location."""
    return location.new_root()


@pytest.fixture
def clock() -> Clock:
    """Return a fresh clock that steps one millisecond on each reading, from 2025-06-01."""
    return Clock(datetime(2025, 6, 1, tzinfo=UTC), MILLISECOND)


@pytest.fixture
def open_log(location: Location, root: str) -> Callable[..., EventLog]:
    """Return `open_log(at=None, clock=None)`: open the log at `at` (default: `root`) here."""

    def opener(at: str | None = None, clock: Callable[[], datetime] | None = None) -> EventLog:
        options = location.storage_options
        if clock is None:
            return EventLog.open(at or root, storage_options=options)
        return EventLog.open(at or root, storage_options=options, clock=clock)

    return opener
