"""Objects beside a log on an object store, written whole and, where it matters, conditionally.

The writer lease, the sync bookkeeping, the daemon's status and the pointer to the published
index snapshot are small objects that several processes may rewrite at once. Each rewrite
is a conditional put: `create` succeeds only if the object does not exist (`If-None-Match:
*`), `replace` only if it is still the version that was read (`If-Match: <etag>`). Of two
processes racing for one object exactly one wins; the other learns it (None) and reads
again. Larger immutable files (a snapshot's arrays) are uploaded and downloaded whole.

The store is reached through `obstore` (the object_store crate that Delta's own commits
use), configured from the log's storage options (`AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`,
`AWS_CONDITIONAL_PUT`, credentials, ...) or else from the environment. Every failure is a
`StorageError`.
"""

from __future__ import annotations

from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import obstore
from obstore.exceptions import AlreadyExistsError, BaseError, PreconditionError
from obstore.store import S3Store

from eventstore.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

#: Storage option names (lower case, `aws_` removed) that obstore's S3 store takes.
_S3_KEYS: Final = frozenset(
    {
        "access_key_id",
        "secret_access_key",
        "session_token",
        "token",
        "region",
        "default_region",
        "endpoint",
        "endpoint_url",
        "conditional_put",
        "virtual_hosted_style_request",
        "skip_signature",
        "unsigned_payload",
        "imdsv1_fallback",
        "metadata_endpoint",
        "container_credentials_relative_uri",
        "s3_express",
    }
)
_FAILURES: Final = (BaseError, OSError)
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
#: `update` reads and tries again this many times when other writers keep winning.
UPDATE_ATTEMPTS: Final = 20


@dataclass(frozen=True)
class Tagged:
    """An object's content and the tag (ETag) of that version."""

    content: bytes
    tag: str


def _store(uri: str, options: Mapping[str, str] | None) -> Any:
    parts = urlsplit(uri)
    if parts.scheme not in ("s3", "s3a"):
        raise StorageError(uri, "opening the object store", f"{parts.scheme}:// is not supported")
    config: dict[str, str] = {}
    client: dict[str, Any] = {}
    for name, value in (options or {}).items():
        key = name.lower().removeprefix("aws_")
        if key == "allow_http":
            client["allow_http"] = value.strip().lower() in _TRUE
        elif key in _S3_KEYS:
            config[name.lower()] = value
    return S3Store(
        parts.netloc,
        prefix=parts.path.strip("/") or None,
        config=config or None,  # type: ignore[arg-type]
        client_options=client or None,  # type: ignore[arg-type]
    )


class ObjectFolder:
    """The objects under an object-store prefix (an `s3://bucket/path` URI), by name."""

    def __init__(self, uri: str, storage_options: Mapping[str, str] | None = None) -> None:
        """Use the objects under `uri`; nothing is requested until asked."""
        self.uri = uri.rstrip("/")
        self.options = dict(storage_options) if storage_options else None
        self._opened: Any = None

    def _s3(self) -> Any:
        if self._opened is None:
            with _failing(self.uri, "opening the object store"):
                self._opened = _store(self.uri, self.options)
        return self._opened

    def child(self, folder: str) -> ObjectFolder:
        """Return the objects under `folder` inside this one."""
        return ObjectFolder(f"{self.uri}/{folder.strip('/')}", self.options)

    def get(self, name: str) -> Tagged | None:
        """Return object `name` with its tag, or None if there is none."""
        with _failing(f"{self.uri}/{name}", "reading"):
            try:
                found = obstore.get(self._s3(), name)
            except FileNotFoundError:
                return None
            return Tagged(bytes(found.bytes()), str(found.meta["e_tag"] or ""))

    def create(self, name: str, content: bytes) -> str | None:
        """Create object `name` if it does not exist; return its tag, or None if it did."""
        return self._put(name, content, "create")

    def replace(self, name: str, content: bytes, tag: str) -> str | None:
        """Replace object `name` if it is still the version `tag`; return the new tag, or
        None if another writer changed (or removed) it since."""
        return self._put(name, content, {"e_tag": tag})

    def put(self, name: str, content: bytes) -> None:
        """Write object `name` whole, whatever was there (for immutable, unique names)."""
        self._put(name, content, "overwrite")

    def _put(self, name: str, content: bytes, mode: Any) -> str | None:
        with _failing(f"{self.uri}/{name}", "writing"):
            try:
                done = obstore.put(self._s3(), name, content, mode=mode)
            except (AlreadyExistsError, PreconditionError, FileNotFoundError):
                return None  # the condition failed: another writer won
            return str(done["e_tag"] or "")

    def update(self, name: str, change: Callable[[bytes | None], bytes]) -> bytes:
        """Rewrite object `name` as `change(old content or None)`, conditionally: when
        another writer changed it in between, read it again and apply `change` to that.
        Return what was written."""
        for _ in range(UPDATE_ATTEMPTS):
            found = self.get(name)
            content = change(None if found is None else found.content)
            if found is None:
                done = self.create(name, content)
            else:
                done = self.replace(name, content, found.tag)
            if done is not None:
                return content
        raise StorageError(f"{self.uri}/{name}", "writing", "it kept changing under this writer")

    def names(self, folder: str = "") -> list[str]:
        """Return the names (relative to this prefix) of the objects under `folder`, sorted."""
        prefix = folder.strip("/")
        with _failing(f"{self.uri}/{prefix}", "listing"):
            found = obstore.list(self._s3(), prefix=prefix or None).collect()
        return sorted(str(item["path"]) for item in found)

    def delete(self, name: str) -> None:
        """Remove object `name` (nothing if it is gone already)."""
        with _failing(f"{self.uri}/{name}", "removing"), suppress(FileNotFoundError):
            obstore.delete(self._s3(), name)


@contextmanager
def _failing(where: str, action: str) -> Iterator[None]:
    """The boundary: a failure of the object-store library inside is a `StorageError`."""
    try:
        yield
    except StorageError:
        raise  # said already (it is an OSError too)
    except _FAILURES as exc:
        raise StorageError(where, action, _said(exc)) from exc


def _said(exc: BaseException) -> str:
    """Return the first line of a storage library's message (obstore's run to pages)."""
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


__all__ = ["ObjectFolder", "Tagged"]
