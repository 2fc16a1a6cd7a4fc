"""Check one chunk of stored rows on its own: decoding, event ids and hashes.

The rows are grouped by kind, each group's canonical payloads and link texts are built
column by column (`eventstore.encoding.canonical_text`), and only the hashing runs per row.
Any row that looks wrong is decoded and checked again one by one, exactly as `verify_chain` would,
before it is reported. What the chunk contributes to the checks across the whole log
(positions, links, ids, streams) is returned as compact arrays.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.canonical_text import kind_codes, link_texts, payloads
from eventstore.encoding.codec import compute_hash, decode_row, event_id_for, payload_bytes
from eventstore.encoding.hashing import sha256_bytes, uuid5_bytes, uuid_texts
from eventstore.encoding.row_shape import named_columns, shape_problems, suspects
from eventstore.errors import CorruptEventError
from eventstore.log.tail import HEX_VALUES
from eventstore.model.events import EventRetracted
from eventstore.model.kinds import code_of

if TYPE_CHECKING:
    from eventstore.audit.findings import Findings

#: Where the 32 hex digits of a UUID's text are.
UUID_DIGITS: Final = np.r_[0:8, 9:13, 14:18, 19:23, 24:36]
HASH_DIGITS: Final = np.arange(64)
RETRACTED: Final = code_of(EventRetracted)
_BLOCK: Final = 65_536
#: Rows hashed per batch of Python bytes objects.
_HASHED_AT_ONCE: Final = 32_768


def hex_bytes(column: pa.Array, width: int, digits: np.ndarray) -> np.ndarray:
    """Return the bytes spelled by the hex `digits` of each string of `width` characters.

    A row of another length or with a character that is not a hex digit gets a
    fingerprint of its text instead: equal texts still compare equal, and it never
    equals a real digest by chance.
    """
    column = column.cast(pa.string())
    size = len(column)
    offsets = np.frombuffer(
        column.buffers()[1], dtype=np.int32, count=size + 1, offset=column.offset * 4
    ).astype(np.int64)
    data = column.buffers()[2]
    chars = np.frombuffer(data, dtype=np.uint8) if data is not None else np.empty(0, np.uint8)
    well = (np.diff(offsets) == width) & np.asarray(column.is_valid(), dtype=bool)
    found = np.zeros((size, len(digits) // 2), dtype=np.uint8)
    if well.all() and size:  # the usual case: one block of fixed-width text
        block = chars[offsets[0] : offsets[0] + size * width].reshape(size, width)
        if _from_hex(block if width == len(digits) else block[:, digits], found):
            return found
    for start in range(0, size, _BLOCK):
        rows = start + np.flatnonzero(well[start : start + _BLOCK])
        text = chars[offsets[rows, None] + np.arange(width)[None, :]]
        decoded = np.zeros((len(rows), len(digits) // 2), dtype=np.uint8)
        well[rows] &= _decode_hex(text[:, digits], decoded)
        found[rows] = decoded
    for row in np.flatnonzero(~well).tolist():
        text = column[row].as_py()
        digest = hashlib.blake2b(b"malformed:" + (text or "").encode(), digest_size=found.shape[1])
        found[row] = np.frombuffer(digest.digest(), dtype=np.uint8)
    return found


def _from_hex(text: np.ndarray, into: np.ndarray) -> bool:
    """Decode a block of hex digits at C speed; return False if any is not a hex digit."""
    try:
        decoded = bytes.fromhex(np.ascontiguousarray(text).tobytes().decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return False
    into[:] = np.frombuffer(decoded, dtype=np.uint8).reshape(into.shape)
    return True


def _decode_hex(text: np.ndarray, into: np.ndarray) -> np.ndarray:
    """Decode rows of hex digits into bytes; return which rows were all hex digits."""
    nibbles = HEX_VALUES[text]
    into[:] = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
    return np.asarray(~(nibbles == 255).any(axis=1), dtype=bool)


def prefix_keys(raw: np.ndarray) -> np.ndarray:
    """Return the first 16 bytes of each row as two big-endian 64-bit keys, (rows, 2)."""
    return np.ascontiguousarray(raw[:, :16]).view(">u8").astype(np.uint64)


@dataclass
class ChunkFacts:
    """What one chunk contributes to the checks across the whole log, one entry per row."""

    position: np.ndarray  # int64
    recorded: np.ndarray  # int64 microseconds
    version: np.ndarray  # int64 stream version
    kind: np.ndarray  # int8 kind code, -1 unknown
    hash: np.ndarray  # (rows, 2) uint64: the first 128 bits of the stored hash
    prev: np.ndarray  # (rows, 2) uint64: the first 128 bits of prev_hash
    ident: np.ndarray  # (rows, 2) uint64: the 128 bits of the event id
    odd_ids: dict[int, str]  # by row: stored ids that are not the lowercase text of `ident`
    instruments: pa.Array
    targets: dict[int, str | None]  # by row: the target of each retraction


def _ints(column: pa.ChunkedArray, fill: int = -1) -> np.ndarray:
    values = column.cast(pa.int64()).fill_null(fill)
    return np.asarray(values.to_numpy(), dtype=np.int64)


@dataclass
class Prepared:
    """A chunk with everything computed that needs no Python loop over rows."""

    rows: pa.Table
    kinds: np.ndarray
    named: np.ndarray
    payload: pa.Array  # binary canonical payloads ("" for a row of an unknown kind)
    texts: pa.Array  # binary link texts
    stored_hash: np.ndarray  # (rows, 32) uint8
    ident: np.ndarray  # (rows, 16) uint8


def prepare_chunk(rows: pa.Table) -> Prepared:
    """Do a chunk's column work: Arrow kernels and NumPy, which let another thread run."""
    rows = rows.combine_chunks()
    kinds = kind_codes(rows["kind"].combine_chunks())
    named = named_columns(rows)
    payload = payloads(rows, kinds, named).fill_null("").cast(pa.binary())
    return Prepared(
        rows,
        kinds,
        named,
        payload,
        link_texts(rows, payload).fill_null(b""),
        hex_bytes(rows["hash"].combine_chunks(), 64, HASH_DIGITS),
        hex_bytes(rows["event_id"].combine_chunks(), 36, UUID_DIGITS),
    )


def finish_chunk(chunk: Prepared, findings: Findings) -> ChunkFacts:
    """Decode the suspects, hash every row, report; return the chunk's facts."""
    rows = chunk.rows
    broken = _decode(rows, chunk.kinds, chunk.named, findings)
    _content(chunk, broken, findings)
    _observed(rows, findings)
    return ChunkFacts(
        position=_ints(rows["position"]),
        recorded=_ints(rows["recorded_at"]),
        version=_ints(rows["stream_version"], 0),
        kind=chunk.kinds,
        hash=prefix_keys(chunk.stored_hash),
        prev=prefix_keys(hex_bytes(rows["prev_hash"].combine_chunks(), 64, HASH_DIGITS)),
        ident=prefix_keys(chunk.ident),  # the whole id: 16 bytes
        odd_ids=_odd_ids(rows["event_id"].combine_chunks(), chunk.ident),
        instruments=rows["instrument_id"].combine_chunks(),
        targets=_targets(rows, chunk.kinds),
    )


def _odd_ids(stored: pa.Array, ident: np.ndarray) -> dict[int, str]:
    """Return the stored ids that `id_text` would not give back, by row (few or none)."""
    expected = pa.Array.from_buffers(
        pa.string(),
        len(ident),
        [
            None,
            pa.py_buffer(np.arange(0, 36 * (len(ident) + 1), 36, dtype=np.int32)),
            pa.py_buffer(uuid_texts(ident).tobytes()),
        ],
    )
    same = pc.equal(stored.cast(pa.string()), expected).fill_null(False)
    odd = np.flatnonzero(~np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool))
    return {int(row): stored[int(row)].as_py() for row in odd}


def _targets(rows: pa.Table, kinds: np.ndarray) -> dict[int, str | None]:
    """Return the target of each retraction, by row."""
    retractions = np.flatnonzero(kinds == RETRACTED)
    targets = rows["target"].combine_chunks().take(pa.array(retractions)).to_pylist()
    return dict(zip(retractions.tolist(), targets, strict=True))


def id_text(ident: np.ndarray) -> str:
    """Return the text of one 16-byte event id."""
    return bytes(uuid_texts(ident.reshape(1, 16))[0]).decode()


def inspect_chunk(rows: pa.Table, findings: Findings) -> ChunkFacts:
    """Check the rows of one chunk (any order, every column) and return their facts."""
    return finish_chunk(prepare_chunk(rows), findings)


def _row(rows: pa.Table, index: int) -> dict[str, Any]:
    found: dict[str, Any] = rows.slice(index, 1).to_pylist()[0]
    return found


def _where(row: dict[str, Any]) -> tuple[int | None, str | None]:
    position, event_id = row.get("position"), row.get("event_id")
    return (
        position if isinstance(position, int) else None,
        event_id if isinstance(event_id, str) else None,
    )


def _decode(rows: pa.Table, kinds: np.ndarray, named: np.ndarray, findings: Findings) -> np.ndarray:
    """Report the rows that do not decode, or hold what their event does not say.

    Return a mask of the rows that do not decode: their id and hash are not checked.
    """
    broken = kinds < 0
    for index in suspects(rows, kinds).tolist():
        row = _row(rows, index)
        try:
            decode_row(row)
        except CorruptEventError as exc:
            findings.add("decode", *_where(row), exc.reason)
            broken[index] = True
    for index, problem in shape_problems(rows, kinds, named).items():
        if not broken[index]:
            findings.add("decode", *_where(_row(rows, index)), problem)
    return broken


def _observed(rows: pa.Table, findings: Findings) -> None:
    """Report each row observed after it was recorded (a row without observed_at never is)."""
    if "observed_at" not in rows.column_names:
        return
    late = pc.greater(rows["observed_at"], rows["recorded_at"]).fill_null(False)
    for index in np.flatnonzero(np.asarray(late.to_numpy(zero_copy_only=False))).tolist():
        row = _row(rows, index)
        detail = f"observed at {row['observed_at']}, after it was recorded ({row['recorded_at']})"
        findings.add("observed-at", *_where(row), detail)


def _content(chunk: Prepared, broken: np.ndarray, findings: Findings) -> None:
    """Hash every row's link text and payload; check the rows that differ one by one."""
    size = chunk.rows.num_rows
    differ = np.zeros(size, dtype=bool)
    for start in range(0, size, _HASHED_AT_ONCE):  # few views alive at once
        end = min(start + _HASHED_AT_ONCE, size)
        texts = chunk.texts.slice(start, end - start)
        differ[start:end] = (sha256_bytes(texts) != chunk.stored_hash[start:end]).any(axis=1)
        payload = chunk.payload.slice(start, end - start)
        differ[start:end] |= (uuid5_bytes(payload) != chunk.ident[start:end]).any(axis=1)
    for index in np.flatnonzero(differ & ~broken).tolist():
        _recheck(_row(chunk.rows, index), findings)


def _recheck(row: dict[str, Any], findings: Findings) -> None:
    """Check one row exactly as `verify_chain` does, from its decoded event."""
    where = _where(row)
    try:
        event = decode_row(row)
        payload = payload_bytes(event)
        if event_id_for(payload) != event.event_id:
            findings.add("event-id", *where, "the id does not match the event's content")
        if compute_hash(event, payload) != event.hash:
            findings.add("hash", *where, "the hash does not match the event's content")
    except CorruptEventError as exc:
        findings.add("decode", *where, exc.reason)


__all__ = [
    "ChunkFacts",
    "Prepared",
    "finish_chunk",
    "hex_bytes",
    "inspect_chunk",
    "prefix_keys",
    "prepare_chunk",
]
