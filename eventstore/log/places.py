"""Small files kept beside the log or away from it: a local folder or an object-store prefix.

Signed heads live under `<root>/heads/` and a witness is a JSON-lines file anywhere; both
are read and written here. A local folder uses the operating system directly (a write is
atomic: written aside, then renamed); an object store goes through Arrow's file systems,
with the log's storage options where they name S3 credentials or an endpoint, else the
environment (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, ...). Every failure is a
`StorageError`.

Every package asks here whether a root is a local folder (`is_local_root`, `local_folder`)
and writes its small local files atomically (`write_atomically`).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.fs as pa_fs

from eventstore.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

_FAILURES = (OSError, pa.ArrowException)
#: Object-store reads run this many at a time (each is one request).
READERS: Final = 16
#: Storage option names (any case) that set each argument of Arrow's S3 file system.
_S3_OPTIONS: Final = {
    "access_key": ("aws_access_key_id", "access_key_id"),
    "secret_key": ("aws_secret_access_key", "secret_access_key"),
    "session_token": ("aws_session_token", "session_token"),
    "region": ("aws_region", "region"),
    "endpoint": ("aws_endpoint_url", "aws_endpoint", "endpoint_url", "endpoint"),
}


def is_local_root(uri: str) -> bool:
    """Return whether `uri` names a local folder (a path or `file://`), not an object store."""
    return "://" not in uri or uri.startswith("file://")


def local_folder(uri: str) -> str | None:
    """Return the local folder `uri` names (without `file://`), or None on an object store."""
    return uri.removeprefix("file://") if is_local_root(uri) else None


def write_atomically(path: str | os.PathLike[str], content: bytes) -> None:
    """Write the local file `path` whole: a reader sees the old content or the new, never a part.

    The content is written aside in the same folder, then renamed over `path`; if either
    step fails the file aside is removed and `path` keeps its old content.
    """
    folder, name = os.path.split(os.fspath(path))
    aside = os.path.join(folder, f".{name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(aside, "wb") as file:
            file.write(content)
        os.replace(aside, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(aside)
        raise


def _s3(uri: str, options: Mapping[str, str]) -> tuple[pa_fs.FileSystem, str]:
    given = {name.lower(): value for name, value in options.items()}
    found = {
        argument: next((given[n] for n in names if n in given), None)
        for argument, names in _S3_OPTIONS.items()
    }
    endpoint = found.pop("endpoint")
    arguments = {name: value for name, value in found.items() if value}
    if endpoint:
        parts = urlsplit(endpoint)
        arguments["endpoint_override"] = parts.netloc + parts.path
        arguments["scheme"] = parts.scheme or "https"
    return pa_fs.S3FileSystem(**arguments), uri.removeprefix("s3://")


class Place:
    """A folder or an object-store prefix holding small files, named relative to it."""

    def __init__(self, uri: str, storage_options: Mapping[str, str] | None = None) -> None:
        """Use the place at `uri`; nothing is read or created until asked."""
        self.uri = uri.rstrip("/")
        self.options = dict(storage_options) if storage_options else None
        self._remote: tuple[pa_fs.FileSystem, str] | None = None

    @property
    def local(self) -> str | None:
        """Return the local folder, or None on an object store."""
        return local_folder(self.uri)

    def _store(self) -> tuple[pa_fs.FileSystem, str]:
        if self._remote is None:
            try:
                if self.options and self.uri.startswith("s3://"):
                    self._remote = _s3(self.uri, self.options)
                else:
                    self._remote = pa_fs.FileSystem.from_uri(self.uri)
            except _FAILURES as exc:
                raise StorageError(self.uri, "opening the object store", str(exc)) from exc
        return self._remote

    def _failed(self, action: str, name: str, exc: Exception) -> StorageError:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return StorageError(f"{self.uri}/{name}", action, detail)

    def read(self, name: str) -> bytes | None:
        """Return the content of file `name`, or None if there is no such file."""
        try:
            if (folder := self.local) is not None:
                with open(os.path.join(folder, name), "rb") as file:
                    return file.read()
            store, base = self._store()
            with store.open_input_stream(f"{base}/{name}") as stream:
                content: bytes = stream.read()
                return content
        except FileNotFoundError:
            return None
        except _FAILURES as exc:
            raise self._failed("reading", name, exc) from exc

    def read_many(self, names: Sequence[str]) -> list[bytes | None]:
        """Return the content of each file (None if missing), several requests at a time."""
        if self.local is not None or len(names) < 2:
            return [self.read(name) for name in names]
        with ThreadPoolExecutor(max_workers=READERS) as readers:
            return list(readers.map(self.read, names))

    def names(self, folder: str) -> list[str]:
        """Return the names of the files in `folder`, sorted (none if it does not exist)."""
        try:
            if (local := self.local) is not None:
                entries = os.scandir(os.path.join(local, folder))
                return sorted(entry.name for entry in entries if entry.is_file())
            store, base = self._store()
            selector = pa_fs.FileSelector(f"{base}/{folder}", allow_not_found=True)
            found = store.get_file_info(selector)
            return sorted(info.base_name for info in found if info.type == pa_fs.FileType.File)
        except FileNotFoundError:
            return []
        except _FAILURES as exc:
            raise self._failed("listing", folder, exc) from exc

    def write(self, name: str, content: bytes) -> None:
        """Write file `name` whole: a reader sees the old content or the new, never a part."""
        try:
            if (folder := self.local) is not None:
                path = os.path.join(folder, name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                write_atomically(path, content)
                return
            store, base = self._store()
            with store.open_output_stream(f"{base}/{name}") as stream:
                stream.write(content)
        except _FAILURES as exc:
            raise self._failed("writing", name, exc) from exc

    def append(self, name: str, content: bytes) -> None:
        """Add `content` at the end of file `name`, creating it (not its folder) if needed.

        Locally this is one `O_APPEND` write, flushed to disk. An object store cannot
        append: the file is read and written back whole, so two writers must not append
        to the same object at once.
        """
        try:
            if (folder := self.local) is not None:
                flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
                descriptor = os.open(os.path.join(folder, name), flags, 0o644)
                try:
                    os.write(descriptor, content)
                    os.fsync(descriptor)
                finally:
                    os.close(descriptor)
                return
        except _FAILURES as exc:
            raise self._failed("appending to", name, exc) from exc
        self.write(name, (self.read(name) or b"") + content)


__all__ = ["Place", "is_local_root", "local_folder", "write_atomically"]
