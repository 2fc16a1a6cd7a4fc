"""Anchor the chain head outside the log: Ed25519 keys, signed heads and witnesses.

A writer given a signing key signs the head of each commit it makes (`HeadSigner`, the
log's commit hook) and stores it beside the log, one file per Delta version:
`<root>/heads/<version, 20 digits>.json`, a `SignedHead` as one JSON line. A witness is a
JSON-lines file (a local path or an object-store URI) outside the root, to which
`catalog checkpoint` appends the current signed head, with `witnessed_at`. Whoever can
rewrite the root cannot forge a signature, nor reach the witness: the audit compares both
with the log (`eventstore.audit.anchor_checks`).
"""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

import msgspec
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from eventstore.clock import utc_now
from eventstore.errors import AnchorError, StorageError
from eventstore.log.head import Head, SignedHead, WitnessedHead
from eventstore.log.places import Place, is_local_root, local_folder

if TYPE_CHECKING:
    from collections.abc import Mapping

    from eventstore.log.event_log import EventLog

#: The folder of signed heads under the root.
HEADS: Final = "heads"
_RAW: Final = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)
_HEAD_DECODER: Final = msgspec.json.Decoder(SignedHead)
_WITNESS_DECODER: Final = msgspec.json.Decoder(WitnessedHead)


def key_id(public: Ed25519PublicKey) -> str:
    """Return a key's id: the first 16 hex digits of the SHA-256 of its raw 32 bytes."""
    return hashlib.sha256(public.public_bytes(*_RAW)).hexdigest()[:16]


def _key_file(path: str, what: str) -> bytes:
    try:
        with open(os.path.expanduser(path), "rb") as file:
            return file.read()
    except OSError as exc:
        raise AnchorError(f"{what} {path}", f"cannot read it: {exc.strerror or exc}") from exc


class VerifyKey:
    """An Ed25519 public key that checks signed heads."""

    def __init__(self, public: Ed25519PublicKey) -> None:
        """Check with `public`."""
        self.public = public
        self.id = key_id(public)

    @classmethod
    def load(cls, path: str) -> VerifyKey:
        """Read a PEM public key (`FILE.pub` from `catalog keygen`)."""
        what, pem = f"public key {path}", _key_file(path, "public key")
        try:
            public = serialization.load_pem_public_key(pem)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise AnchorError(what, "is not a public key in PEM") from exc
        if not isinstance(public, Ed25519PublicKey):
            raise AnchorError(what, f"is a {_kind(public)} key, not Ed25519")
        return cls(public)

    def problem(self, signed: SignedHead) -> str | None:
        """Return why `signed` is not validly signed by this key, or None if it is."""
        if signed.key != self.id:
            return f"signed by key {signed.key}, not by key {self.id}"
        try:
            signature = base64.b64decode(signed.signature, validate=True)
            self.public.verify(signature, signed.payload())
        except (ValueError, InvalidSignature):
            return "the signature does not verify"
        return None


class SigningKey:
    """An Ed25519 private key that signs heads."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        """Sign with `private`."""
        self.private = private
        self.verify_key = VerifyKey(private.public_key())

    @classmethod
    def load(cls, path: str) -> SigningKey:
        """Read an unencrypted PEM private key (`FILE` from `catalog keygen`)."""
        what, pem = f"signing key {path}", _key_file(path, "signing key")
        try:
            private = serialization.load_pem_private_key(pem, None)
        except TypeError as exc:  # a password is needed
            raise AnchorError(what, "is encrypted; give an unencrypted key") from exc
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise AnchorError(
                what, "is not a private key in PEM (make one: catalog keygen)"
            ) from exc
        if not isinstance(private, Ed25519PrivateKey):
            raise AnchorError(what, f"is a {_kind(private)} key, not Ed25519")
        return cls(private)

    def sign(self, head: Head) -> SignedHead:
        """Return `head` signed: one Ed25519 signature of its canonical payload."""
        signature = base64.b64encode(self.private.sign(head.payload())).decode()
        fields = msgspec.structs.asdict(head)
        return SignedHead(**fields, key=self.verify_key.id, signature=signature)


def _kind(key: object) -> str:
    return type(key).__name__.removeprefix("_").removesuffix("PrivateKey").removesuffix("PublicKey")


def generate_key(path: str) -> str:
    """Write a new Ed25519 private key to `path` (PEM, mode 0600) and its public key to
    `path.pub`; return the key's id. An existing file is never overwritten."""
    public_path = f"{path}.pub"
    for target in (path, public_path):
        if os.path.lexists(target):
            raise AnchorError(f"key file {target}", "already exists; nothing was written")
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _create(path, pem, 0o600)
    try:
        _create(public_path, public_pem, 0o644)
    except AnchorError:
        os.unlink(path)
        raise
    return key_id(private.public_key())


def _create(path: str, content: bytes, mode: int) -> None:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise AnchorError(f"key file {path}", f"cannot create it: {exc.strerror}") from exc
    try:
        os.fchmod(descriptor, mode)  # whatever the umask
        os.write(descriptor, content)
    finally:
        os.close(descriptor)


class HeadStore:
    """The signed heads beside a log: `<root>/heads/<version>.json`."""

    def __init__(self, root: str, storage_options: Mapping[str, str] | None = None) -> None:
        """Use the heads under `root` (a folder or an object-store URI)."""
        self.place = Place(root, storage_options)

    @staticmethod
    def name(version: int) -> str:
        """Return the file name of the signed head of Delta version `version`."""
        return f"{HEADS}/{version:020d}.json"

    def put(self, signed: SignedHead) -> None:
        """Store `signed` as the head of its Delta version."""
        self.place.write(self.name(signed.delta_version), msgspec.json.encode(signed) + b"\n")

    def get(self, version: int) -> SignedHead | str | None:
        """Return the signed head of `version`, why it cannot be read, or None if absent."""
        return _decoded(self.place.read(self.name(version)), version)

    def all(self) -> dict[int, SignedHead | str]:
        """Return every stored head by Delta version (a reason where one cannot be read)."""
        versions = [int(n[:20]) for n in self.place.names(HEADS) if _head_file(n)]
        contents = self.place.read_many([self.name(v) for v in versions])
        found = {v: _decoded(c, v) for v, c in zip(versions, contents, strict=True)}
        return {v: head for v, head in found.items() if head is not None}


def _head_file(name: str) -> bool:
    return len(name) == 25 and name[:20].isdigit() and name.endswith(".json")


def _decoded(content: bytes | None, version: int) -> SignedHead | str | None:
    if content is None:
        return None
    try:
        head = _HEAD_DECODER.decode(content)
    except msgspec.DecodeError as exc:
        return f"the stored head of version {version} is not a signed head: {exc}"
    if head.delta_version != version:
        return f"the head stored as version {version} says version {head.delta_version}"
    return head


class HeadSigner:
    """The commit hook of a signing writer: sign each new head and store it beside the log."""

    def __init__(self, key: SigningKey) -> None:
        """Sign with `key`."""
        self.key = key
        self.last: SignedHead | None = None

    def __call__(self, log: EventLog, head: Head) -> None:
        """Sign `head`, the head of a commit `log` just made, and store it."""
        signed = self.key.sign(head)
        try:
            HeadStore(log.root, log.storage_options).put(signed)
        except StorageError as exc:
            raise AnchorError(
                f"signed head of version {head.delta_version}",
                f"the commit is in the log, but its signed head could not be stored ({exc}); "
                "the audit will report that commit unsigned",
            ) from exc
        self.last = signed


class Witness:
    """A JSON-lines file of signed heads, kept outside the root: a local path or a URI."""

    def __init__(self, uri: str) -> None:
        """Use the witness at `uri` (it may not exist yet)."""
        local = local_folder(uri)
        self.uri = uri if local is None else os.path.abspath(os.path.expanduser(local))
        folder, _, self.name = self.uri.rpartition("/")
        self.place = Place(folder or "/")

    def check(self, root: str) -> None:
        """Refuse a witness inside `root` (whoever rewrites the root would rewrite it too),
        or in a local folder that does not exist."""
        if is_local_root(root) == is_local_root(self.uri):
            where = os.path.realpath(root) if is_local_root(root) else root
            path = os.path.realpath(self.uri) if is_local_root(root) else self.uri
            if path == where or path.startswith(where.rstrip("/") + "/"):
                raise AnchorError(
                    f"witness {self.uri}", f"is inside the root {root}; keep it apart"
                )
        folder = self.place.local
        if folder is not None and not os.path.isdir(folder):
            raise AnchorError(f"witness {self.uri}", f"its folder {folder} does not exist")

    def append(self, signed: SignedHead, at: datetime | None = None) -> WitnessedHead:
        """Add `signed` as the witness's last line, with the time it was witnessed."""
        when = (at or utc_now()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        line = WitnessedHead(**msgspec.structs.asdict(signed), witnessed_at=when)
        try:
            self.place.append(self.name, msgspec.json.encode(line) + b"\n")
        except StorageError as exc:
            raise AnchorError(f"witness {self.uri}", f"cannot append to it: {exc}") from exc
        return line

    def read(self) -> list[WitnessedHead | str]:
        """Return each line as a head, or as why it is not one; refuse a missing file."""
        try:
            content = self.place.read(self.name)
        except StorageError as exc:
            raise AnchorError(f"witness {self.uri}", f"cannot read it: {exc}") from exc
        if content is None:
            raise AnchorError(f"witness {self.uri}", "cannot read it: no such file")
        return [_witnessed(line, n) for n, line in enumerate(content.splitlines(), 1) if line]


def _witnessed(line: bytes, number: int) -> WitnessedHead | str:
    try:
        return _WITNESS_DECODER.decode(line)
    except msgspec.DecodeError as exc:
        return f"line {number} is not a signed head: {exc}"


__all__ = [
    "HEADS",
    "HeadSigner",
    "HeadStore",
    "SigningKey",
    "VerifyKey",
    "Witness",
    "generate_key",
    "key_id",
]
