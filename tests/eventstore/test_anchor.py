"""Signed heads and witnesses: keys, the exact signed bytes, the commit hook, the checks.

The hook and the checks run against every storage location the log supports (a local
folder, S3 on moto); the witness is tried on a local file and on an S3 object.
"""

from __future__ import annotations

import json
import os
import stat
from typing import TYPE_CHECKING

import pytest
from builders import exchange_listed, listed
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from deltalake import DeltaTable
from msgspec.structs import replace

from eventstore import EventLog
from eventstore.audit.anchor_checks import audit_anchor, log_head
from eventstore.audit.removals import check_removes
from eventstore.errors import AnchorError
from eventstore.log.anchor import (
    HeadSigner,
    HeadStore,
    SigningKey,
    VerifyKey,
    Witness,
    generate_key,
)
from eventstore.log.head import Head, commits_seen_by
from eventstore.log.places import Place

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from conftest import Location, S3Bucket

    from eventstore.audit.findings import CheckResult

HEAD = Head(
    position=999, hash="ab" * 32, delta_version=3, recorded_at="2024-01-01T00:00:00.000000Z"
)


@pytest.fixture(scope="module")
def key_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the path of a fresh private key (its public key beside it, `.pub`)."""
    path = str(tmp_path_factory.mktemp("keys") / "signing")
    generate_key(path)
    return path


@pytest.fixture(scope="module")
def key(key_path: str) -> SigningKey:
    """Return the fresh private key."""
    return SigningKey.load(key_path)


def _failed(checks: list[CheckResult]) -> set[str]:
    return {c.name for c in checks if not c.ok}


# -- keys and signatures -----------------------------------------------------------------


def test_the_signed_payload_is_canonical_json_of_the_four_fields() -> None:
    """The bytes a signature covers: sorted keys, no spaces, recorded_at with microseconds."""
    assert HEAD.payload() == (
        b'{"delta_version":3,"hash":"' + b"ab" * 32 + b'","position":999,'
        b'"recorded_at":"2024-01-01T00:00:00.000000Z"}'
    )


def test_a_signature_verifies_and_any_changed_field_breaks_it(key: SigningKey) -> None:
    """A signed head verifies with the key's public half; each field is covered."""
    signed = key.sign(HEAD)
    assert key.verify_key.problem(signed) is None
    for change in ({"position": 1000}, {"hash": "cd" * 32}, {"delta_version": 4},
                   {"recorded_at": "2024-01-01T00:00:00.000001Z"}):  # fmt: skip
        assert key.verify_key.problem(replace(signed, **change)) == "the signature does not verify"


def test_another_key_is_told_apart_by_its_id(key: SigningKey, tmp_path: Path) -> None:
    """A head signed by another key names that key: it does not pass for ours."""
    other = SigningKey.load(_new_key(tmp_path / "other"))
    problem = key.verify_key.problem(other.sign(HEAD))
    assert problem == f"signed by key {other.verify_key.id}, not by key {key.verify_key.id}"


def _new_key(path: Path) -> str:
    generate_key(str(path))
    return str(path)


def test_keygen_writes_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    """The private key is PEM with mode 0600, the public key beside it; both load back."""
    path = tmp_path / "k"
    key_id = generate_key(str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert VerifyKey.load(f"{path}.pub").id == key_id == SigningKey.load(str(path)).verify_key.id


def test_keygen_never_overwrites_a_key(tmp_path: Path) -> None:
    """An existing FILE or FILE.pub is refused and left as it was; nothing is written."""
    (tmp_path / "k.pub").write_text("keep me")
    with pytest.raises(AnchorError, match=r"k.pub: already exists; nothing was written"):
        generate_key(str(tmp_path / "k"))
    assert not (tmp_path / "k").exists()
    assert (tmp_path / "k.pub").read_text() == "keep me"


def test_keys_that_cannot_be_used_are_refused_with_the_reason(
    key_path: str, tmp_path: Path
) -> None:
    """A missing file, a public key, an RSA key, an encrypted key: one clear error each."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_path = tmp_path / "rsa.pem"
    rsa_path.write_bytes(
        rsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    locked = tmp_path / "locked.pem"
    locked.write_bytes(
        SigningKey.load(key_path).private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    cases = {
        str(tmp_path / "missing"): "cannot read it: No such file or directory",
        f"{key_path}.pub": "is not a private key in PEM",
        str(rsa_path): "is a RSA key, not Ed25519",
        str(locked): "is encrypted",
    }
    for path, reason in cases.items():
        with pytest.raises(AnchorError, match=reason):
            SigningKey.load(path)
    with pytest.raises(AnchorError, match="is not a public key in PEM"):
        VerifyKey.load(key_path)


# -- the commit hook ---------------------------------------------------------------------


def test_each_commit_stores_its_signed_head_beside_the_log(
    open_log: Callable[..., EventLog], root: str, location: Location, key: SigningKey
) -> None:
    """One signed head per commit, naming the commit's last event and its Delta version."""
    log = open_log()
    log.on_commit = HeadSigner(key)
    log.append([exchange_listed(), listed(1)])
    log.append([listed(2), listed(3), listed(4)])

    stored = HeadStore(root, location.storage_options).all()
    assert sorted(stored) == [0, 1]
    events = log.events()
    for version, last in ((0, events[1]), (1, events[4])):
        head = stored[version]
        assert not isinstance(head, str)
        assert key.verify_key.problem(head) is None
        assert (head.position, head.hash) == (last.position, last.hash)
        assert last.recorded_at is not None
        assert head.recorded_at == last.recorded_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert log_head(log) == Head(**{f: getattr(stored[1], f) for f in Head.__struct_fields__})


def test_a_compaction_signs_the_head_of_its_own_commit(
    open_log: Callable[..., EventLog], root: str, location: Location, key: SigningKey
) -> None:
    """Compaction moves the Delta version: the new version gets the same head, signed."""
    log = open_log()
    log.on_commit = HeadSigner(key)
    log.append([exchange_listed()])
    log.append([listed(1)])
    report = EventLog.open(
        root, storage_options=location.storage_options, on_commit=HeadSigner(key)
    ).compact()

    stored = HeadStore(root, location.storage_options).all()
    assert report.version == 2
    assert sorted(stored) == [0, 1, 2]
    first, second = stored[1], stored[2]
    assert not isinstance(first, str)
    assert not isinstance(second, str)
    assert (second.position, second.hash, second.delta_version) == (1, first.hash, 2)
    assert _failed(audit_anchor(log, key.verify_key, None).checks) == set()
    assert check_removes(log.uri, log.storage_options).ok


def test_heads_checked_on_every_location(
    open_log: Callable[..., EventLog], root: str, location: Location, key: SigningKey
) -> None:
    """A clean signed log passes; a signed head deleted or edited is named, by check."""
    log = open_log()
    log.on_commit = HeadSigner(key)
    for n in range(3):
        log.append([listed(n)])
    assert _failed(audit_anchor(log, key.verify_key, None).checks) == set()

    place = Place(root, location.storage_options)
    name = HeadStore.name(1)
    original = place.read(name)
    assert original is not None
    forged = json.loads(original)
    forged["hash"] = "00" * 32
    place.write(name, json.dumps(forged).encode())
    report = audit_anchor(log, key.verify_key, None)
    (signed,) = [c for c in report.checks if c.name == "head-signed"]
    assert [v.detail for v in signed.violations] == [
        "the head of version 1: the signature does not verify",
    ]


def test_a_log_opened_inside_commits_seen_by_signs(tmp_path: Path, key: SigningKey) -> None:
    """The ambient hook is bound when a log is opened; an explicit hook wins; outside, none."""
    signer = HeadSigner(key)
    with commits_seen_by(signer):
        inside = EventLog.open(tmp_path / "a")
        explicit = EventLog.open(tmp_path / "b", on_commit=lambda log, head: None)
    outside = EventLog.open(tmp_path / "c")
    inside.append([listed(1)])
    explicit.append([listed(1)])
    outside.append([listed(1)])
    assert signer.last is not None
    assert signer.last.position == 0
    assert [os.path.isdir(tmp_path / r / "heads") for r in "abc"] == [True, False, False]


def test_a_head_that_cannot_be_stored_is_an_error_naming_the_commit(
    tmp_path: Path, key: SigningKey
) -> None:
    """The commit stands (it is in the log); the error says its head is unsigned."""
    (tmp_path / "heads").write_text("a file where the folder should be")
    log = EventLog.open(tmp_path, on_commit=HeadSigner(key))
    with pytest.raises(AnchorError, match="the commit is in the log, but its signed head"):
        log.append([listed(1)])
    assert len(EventLog.open(tmp_path)) == 1


# -- witnesses ---------------------------------------------------------------------------


def test_a_witness_appends_signed_heads_and_reads_them_back(
    tmp_path: Path, key: SigningKey
) -> None:
    """Each append is one JSON line with `witnessed_at`; a garbled line is reported as such."""
    witness = Witness(str(tmp_path / "witness.jsonl"))
    witness.append(key.sign(HEAD))
    witness.append(key.sign(replace(HEAD, position=1000, delta_version=4)))
    with open(tmp_path / "witness.jsonl", "a") as file:
        file.write("not json\n")
    first, second, garbled = witness.read()
    assert not isinstance(first, str)
    assert not isinstance(second, str)
    assert (first.position, second.position) == (999, 1000)
    assert first.witnessed_at is not None
    assert first.witnessed_at.endswith("Z")
    assert isinstance(garbled, str)
    assert garbled.startswith("line 3 is not a signed head")


def test_a_witness_in_an_s3_bucket(
    s3_bucket: S3Bucket, key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An object-store witness is read and written back whole; credentials from the env."""
    for name, value in s3_bucket.storage_options.items():
        monkeypatch.setenv(name, value)
    witness = Witness(f"s3://catalog/{os.urandom(4).hex()}/witness.jsonl")
    witness.append(key.sign(HEAD))
    witness.append(key.sign(replace(HEAD, position=1000)))
    assert [h.position for h in witness.read() if not isinstance(h, str)] == [999, 1000]


def test_witnesses_that_cannot_be_used_are_refused(tmp_path: Path) -> None:
    """Missing, inside the root, or in a folder that does not exist: an error, no file."""
    with pytest.raises(AnchorError, match="cannot read it: no such file"):
        Witness(str(tmp_path / "none.jsonl")).read()
    with pytest.raises(AnchorError, match="is inside the root"):
        Witness(str(tmp_path / "lake" / "w.jsonl")).check(str(tmp_path / "lake"))
    with pytest.raises(AnchorError, match="does not exist"):
        Witness(str(tmp_path / "no" / "w.jsonl")).check(str(tmp_path / "lake"))
    Witness(str(tmp_path / "w.jsonl")).check(str(tmp_path / "lake"))
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_witness_checks_name_a_head_the_log_lost(tmp_path: Path, key: SigningKey) -> None:
    """A witnessed head the log no longer holds, or beyond its end, fails by name."""
    log = EventLog.open(tmp_path / "lake", on_commit=HeadSigner(key))
    log.append([listed(1), listed(2)])
    head = log.head()
    assert head is not None
    witness = Witness(str(tmp_path / "w.jsonl"))
    witness.append(key.sign(replace(head, hash="00" * 32)))
    witness.append(key.sign(replace(head, position=5)))

    report = audit_anchor(log, key.verify_key, witness.read())
    checks = {c.name: c for c in report.checks}
    assert [v.position for v in checks["witness-in-log"].violations] == [1]
    assert checks["witness-length"].count == 1
    assert "the log has 2 events" in checks["witness-length"].violations[0].detail


# -- remove actions ----------------------------------------------------------------------


def test_a_compaction_re_adds_what_it_removes_and_a_delete_does_not(tmp_path: Path) -> None:
    """`removes-readded` passes Delta's own compaction and names a DELETE of a data file."""
    log = EventLog.open(tmp_path)
    for n in range(4):
        log.append([listed(3 * n + i) for i in range(3)])
    log.compact()
    assert check_removes(log.uri).ok

    log.append([listed(100)])
    DeltaTable(log.uri).delete("position >= 12")  # the last commit's file, whole
    found = check_removes(log.uri)
    assert [v.detail for v in found.violations] == [
        "commit 6 removes 1 events (positions 12-12) and re-adds no event"
    ]
