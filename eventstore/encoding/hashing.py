"""Canonical payloads, event ids and chain links of a whole batch, in tight loops.

Each function gives, for every event, exactly what its single-event counterpart in
`eventstore.encoding.codec` gives (`payload_bytes`, `event_id_for`, `link_hash`); the per-event
Python work is cut to encoding and hashing, and the rest is vectorized.
"""

from __future__ import annotations

import binascii
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from msgspec.structs import force_setattr

from eventstore.encoding.codec import CANONICAL, EVENT_NAMESPACE, payload_bytes
from eventstore.encoding.json_text import text_bytes

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from eventstore.model.events import Event

#: Texts to hash: Python bytes, or an Arrow array of binary or text.
Texts = Union["Sequence[bytes]", pa.Array]

_ID_LENGTH: Final = 36
_HASH_LENGTH: Final = 64
_BYTES: Final = pa.large_binary()
#: The two hex digits of every byte value, as ASCII codes in one 16-bit word.
_HEX_PAIRS: Final = np.frombuffer(b"".join(f"{b:02x}".encode() for b in range(256)), "<u2")
#: The runs of hex digits in a UUID's text, as (first digit, first character, length).
_RUNS: Final = ((0, 0, 8), (8, 9, 4), (12, 14, 4), (16, 19, 4), (20, 24, 12))


def batch_payloads(events: Sequence[Event]) -> list[bytes]:
    """Return `payload_bytes` of every event (encoded directly when not yet recorded)."""
    encode = CANONICAL.encode
    return [
        (encode(e) if e.observed_at is None else _unobserved(e))
        if e.event_id is None
        and e.recorded_at is None
        and e.position is None
        and e.stream_version is None
        and e.prev_hash is None
        and e.hash is None
        else payload_bytes(e)
        for e in events
    ]


def _unobserved(event: Event) -> bytes:
    """Return the payload of an event not yet recorded that says when it was observed."""
    bare = event.__copy__()  # type: ignore[attr-defined]
    force_setattr(bare, "observed_at", None)
    payload: bytes = CANONICAL.encode(bare)
    return payload


@dataclass(frozen=True)
class EventIds:
    """The ids of a batch: as text, as the tail's 64-bit keys, and as an Arrow column."""

    text: list[str]
    keys: np.ndarray
    column: pa.Array


def uuid5_bytes(payloads: Texts) -> np.ndarray:
    """Return the 16 bytes of the UUIDv5 of every payload, one row each."""
    base = hashlib.sha1(EVENT_NAMESPACE, usedforsecurity=False)
    copy = base.copy
    found: list[bytes] = []
    add = found.append
    for payload in pieces(payloads):  # a copy of the namespace's state: no concatenation
        hasher = copy()
        hasher.update(payload)
        add(hasher.digest())
    digests = b"".join(found)
    raw = np.frombuffer(digests, np.uint8).reshape(len(found), 20)[:, :16].copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x50  # version 5
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw


def sha256_bytes(texts: Texts) -> np.ndarray:
    """Return the SHA-256 digest of every text, one row of 32 bytes each."""
    sha256 = hashlib.sha256
    digests = b"".join([sha256(text).digest() for text in pieces(texts)])
    return np.frombuffer(digests, np.uint8).reshape(len(digests) // 32, 32)


def pieces(texts: Texts) -> Iterable[bytes | memoryview]:
    """Return the texts one by one: an Arrow array's as views of its one data buffer (no
    Python bytes object per row: the hash functions read the views). A null reads as b""."""
    if not isinstance(texts, pa.Array):
        return texts
    starts, ends, data = text_bytes(texts)
    if texts.null_count:  # a null's offsets may span bytes: read it as empty
        ends = np.where(texts.is_null().to_numpy(zero_copy_only=False), starts, ends)
    return map(data.data.__getitem__, map(slice, starts.tolist(), ends.tolist()))


def uuid_texts(raw: np.ndarray) -> np.ndarray:
    """Return the 36 characters of each 16-byte UUID, as a (rows, 36) array of ASCII codes."""
    digits = _HEX_PAIRS[raw].view(np.uint8)
    text = np.full((len(raw), _ID_LENGTH), ord("-"), np.uint8)
    for digit, char, length in _RUNS:
        text[:, char : char + length] = digits[:, digit : digit + length]
    return text


def batch_event_ids(payloads: Texts) -> EventIds:
    """Return the UUIDv5 (as `event_id_for` makes it) of every payload."""
    keys, column = id_columns(payloads)
    return EventIds(column.to_pylist(), keys, column)


def id_columns(payloads: Texts) -> tuple[np.ndarray, pa.Array]:
    """Return the tail's 64-bit keys and the Arrow column of the UUIDv5 of every payload."""
    size = len(payloads)
    raw = uuid5_bytes(payloads)
    keys = raw[:, :8].copy().view(">u8").ravel().astype(np.uint64)
    text = uuid_texts(raw)
    offsets = np.arange(0, _ID_LENGTH * (size + 1), _ID_LENGTH, dtype=np.int32)
    column = pa.Array.from_buffers(
        pa.string(), size, [None, pa.py_buffer(offsets), pa.py_buffer(text.tobytes())]
    )
    return keys, column


def link_texts(
    event_ids: pa.Array,
    first_position: int,
    recorded_at: str,
    stream_versions: pa.Array,
    payloads: Sequence[bytes] | pa.Array,
    observed: Sequence[bytes] | pa.Array | None = None,
) -> pa.Array:
    """Return, per event, the text its link hashes after the previous link's hex digest.

    That is `link_hash`'s text without its first line: `event_id`, `position`,
    `recorded_at` and `stream_version` each after a newline, then a newline, the event's
    `observed_line` (`observed`; none when not given) and the payload.
    """
    positions = pa.array(np.arange(first_position, first_position + len(event_ids)))
    body = _binary(payloads)
    if isinstance(observed, pa.Array) or (observed is not None and any(observed)):
        lines = _binary(observed)  # the observed_at line, before the payload
        body = pc.binary_join_element_wise(lines, body, pa.scalar(b"", _BYTES))
    texts = pc.binary_join_element_wise(  # large_binary: a batch may hold more than 2 GiB
        pa.scalar(b"", _BYTES),
        event_ids.cast(_BYTES),
        positions.cast(pa.string()).cast(_BYTES),
        pa.scalar(recorded_at.encode(), _BYTES),
        stream_versions.cast(pa.string()).cast(_BYTES),
        body,
        pa.scalar(b"\n", _BYTES),
    )
    return texts


def _binary(values: Sequence[bytes] | pa.Array) -> pa.Array:
    """Return `values` as one large-binary array."""
    if isinstance(values, pa.Array):
        return values.cast(_BYTES)
    size = len(values)  # one join and the lengths: far faster than pa.array of bytes objects
    offsets = np.zeros(size + 1, np.int64)
    np.cumsum(np.fromiter(map(len, values), np.int64, size), out=offsets[1:])
    data = pa.py_buffer(b"".join(values))
    return pa.Array.from_buffers(_BYTES, size, [None, pa.py_buffer(offsets), data])


def _hex_links(prev_hash: str, texts: Texts) -> list[bytes]:
    """Return the chain links after `prev_hash` as hex bytes: one Python loop of the hash
    functions over views of one buffer, no text object per row."""
    sha256, hexlify = hashlib.sha256, binascii.hexlify
    links: list[bytes] = []
    add = links.append
    prev = prev_hash.encode()
    for text in pieces(texts):
        link = sha256(prev)
        link.update(text)
        prev = hexlify(link.digest())
        add(prev)
    return links


def chain_links(prev_hash: str, texts: Texts) -> list[str]:
    """Return the links, after `prev_hash`, of consecutive events whose `link_texts` are `texts`."""
    return [link.decode() for link in _hex_links(prev_hash, texts)]


def chain_column(prev_hash: str, texts: Texts) -> pa.Array:
    """Return `chain_links` as an Arrow column of text."""
    links = _hex_links(prev_hash, texts)
    size = len(links)
    offsets = np.arange(0, _HASH_LENGTH * (size + 1), _HASH_LENGTH, dtype=np.int32)
    data = pa.py_buffer(b"".join(links))
    return pa.Array.from_buffers(pa.string(), size, [None, pa.py_buffer(offsets), data])
