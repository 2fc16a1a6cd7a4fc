"""JSON text of Arrow columns, as msgspec's canonical encoder writes each value.

Strings are quoted with Arrow kernels (msgspec's escapes are done one by one, for the rare
strings that need them), instants are formatted through a zone-less timestamp cast, and
columns with few distinct values are encoded once per distinct value in Python.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.codec import CANONICAL, rfc3339
from eventstore.model.events import DECIMAL_FIELDS, TIME_FIELDS, normalized_decimal
from eventstore.model.rules import (
    BOOLEAN_FIELDS,
    CONTRACT_TEXT_FIELDS,
    OPTION_TEXT_FIELDS,
    ROOT_FIELDS,
)

if TYPE_CHECKING:
    from collections.abc import Callable

TEXT: Final = pa.string()
_NAIVE: Final = pa.timestamp("us")
_LONG: Final = pa.large_string()
#: The bytes msgspec escapes inside a JSON string.
_NEEDS_ESCAPE: Final = np.zeros(256, bool)
_NEEDS_ESCAPE[[*range(0x20), ord('"'), ord("\\")]] = True
#: Characters msgspec escapes inside a JSON string.
_ESCAPED: Final = r'[\x00-\x1f"\\]'
#: Text columns that usually hold few distinct values: each value is encoded once per chunk.
FEW_VALUES: Final = frozenset(
    {"exchange", "quote", "type", "subtype", "sector", "industry", "country", "timezone"}
    | {"session", "status", "source", "reason", "kind", "is_crypto", *DECIMAL_FIELDS}
    | {*CONTRACT_TEXT_FIELDS, *BOOLEAN_FIELDS, *OPTION_TEXT_FIELDS, *ROOT_FIELDS}
)


def whole(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Return `column` as one array: its only chunk as it is (`combine_chunks` copies even
    one chunk), several chunks concatenated."""
    if isinstance(column, pa.Array):
        return column
    if column.num_chunks == 1:
        return column.chunk(0)
    return column.combine_chunks()


def scalar(text: str) -> pa.Scalar:
    """Return a string scalar."""
    return pa.scalar(text, TEXT)


def join(*parts: pa.Array | pa.Scalar) -> pa.Array:
    """Concatenate strings element-wise; a null part makes the result null."""
    return pc.binary_join_element_wise(*parts, scalar(""))


def _patch(
    texts: pa.Array, mask: pa.Array, column: pa.Array, encode: Callable[[object], str]
) -> pa.Array:
    """Replace `texts` where `mask` holds by `encode` of the column's Python value."""
    flags = np.asarray(mask.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    rows = np.flatnonzero(flags)
    if not len(rows):
        return texts
    values = column.take(pa.array(rows)).to_pylist()
    patched = pa.array([encode(value) for value in values], TEXT)
    return pc.replace_with_mask(texts, pa.array(flags), patched)


def _json(value: object) -> str:
    if isinstance(value, Decimal):
        value = normalized_decimal(value)
    return CANONICAL.encode(value).decode()


def json_strings(column: pa.Array, prefix: str = "", suffix: str = "") -> pa.Array:
    """Return `prefix`, each string as msgspec writes it in JSON (quoted, escaped), `suffix`.

    A null stays null.
    """
    column = column.cast(TEXT)
    quoted = join(scalar(f'{prefix}"'), column, scalar(f'"{suffix}'))
    if not _may_need_escapes(column):
        return quoted
    escaped = pc.match_substring_regex(column, _ESCAPED)
    return _patch(quoted, escaped, column, lambda value: prefix + _json(value) + suffix)


def _may_need_escapes(column: pa.Array) -> bool:
    """Return whether any string holds a quote, a backslash or a control character.

    One look-up of NumPy over the bytes of these strings (a slice's only), instead of a
    regular expression per string.
    """
    _, _, chars = text_bytes(column)
    return bool(_NEEDS_ESCAPE[chars].any())


def text_bytes(column: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return where each string of a text or binary array starts and ends in the bytes
    they span, and those bytes (a slice's only), as NumPy views where they can be."""
    kind = column.type
    wide = pa.types.is_large_string(kind) or pa.types.is_large_binary(kind)
    if not wide and not (pa.types.is_string(kind) or pa.types.is_binary(kind)):
        raise TypeError(f"expected an array of text, got {kind}")
    size = len(column)
    _, offsets_buffer, data_buffer = column.buffers()
    if not size:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint8)
    width = np.dtype(np.int64 if wide else np.int32)
    offsets = np.frombuffer(offsets_buffer, width, size + 1, column.offset * width.itemsize)
    low, high = int(offsets[0]), int(offsets[-1])
    data = np.zeros(0, np.uint8) if data_buffer is None else np.frombuffer(data_buffer, np.uint8)
    return offsets[:-1] - low, offsets[1:] - low, data[low:high]


#: Years the digit layout below spells as RFC 3339 does (as Python's datetimes hold them).
_YEARS: Final = (1, 9999)
#: The two ASCII digits of 0..99, as one little-endian 16-bit word each.
_PAIRS: Final = np.frombuffer(b"".join(b"%02d" % n for n in range(100)), "<u2")
#: `YYYY-MM-DDTHH:MM:SS.ffffff` as pairs of digits ("p") and separators, by position.
_BODY: Final = tuple(enumerate("pp-p-pTp:p:p.ppp"))


def _civil(micros: np.ndarray) -> list[np.ndarray]:
    """Return year, month, day, hour, minute, second and microsecond of UTC `micros`.

    Days to a civil date by Howard Hinnant's `civil_from_days`, all in NumPy integers.
    """
    days, of_day = np.divmod(micros, 86_400_000_000)
    z = days + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    seconds, fraction = np.divmod(of_day, 1_000_000)
    minutes, second = np.divmod(seconds, 60)
    hour, minute = np.divmod(minutes, 60)
    return [year, month, day, hour, minute, second, fraction]


def instants_text(
    column: pa.Array, prefix: str = "", suffix: str = "", *, whole_seconds: bool = False
) -> pa.Array:
    """Return `prefix`, each UTC timestamp as `YYYY-MM-DDTHH:MM:SS.ffffff`, then `suffix`.

    With `whole_seconds`, an instant without microseconds drops its fraction (as msgspec
    writes it). Built as one matrix of digits with NumPy; a null stays null. A year before
    1000 is spelled as `codec.rfc3339` spells it unless `whole_seconds` (msgspec pads it).
    """
    size = len(column)
    raw = column.cast(pa.int64())
    micros = np.asarray(raw.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
    parts = _civil(micros)
    if size and not (_YEARS[0] <= parts[0].min() and parts[0].max() <= _YEARS[1]):
        return _arrow_instants(column, prefix, suffix, whole_seconds=whole_seconds)
    found = _digits(size, parts, prefix, suffix, whole_seconds=whole_seconds)
    if raw.null_count:
        found = pc.if_else(raw.is_valid(), found, pa.scalar(None, found.type))
    early = parts[0] < 1000
    if whole_seconds or not early.any():
        return found
    spell = lambda value: f"{prefix}{rfc3339(value)[:-1]}{suffix}"  # noqa: E731
    return _patch(found, pa.array(early), column, spell)


def _digits(
    size: int, parts: list[np.ndarray], prefix: str, suffix: str, *, whole_seconds: bool
) -> pa.Array:
    """Return the text of `instants_text` from the parts of each instant (`_civil`).

    Each row is one record of a packed NumPy layout: the prefix, pairs of digits (looked up
    as 16-bit words) and their separators, the suffix.
    """
    head, tail = prefix.encode(), suffix.encode()
    year, month, day, hour, minute, second, fraction = parts
    pairs = (
        year // 100, year % 100, month, day, hour, minute, second,
        fraction // 10_000, fraction // 100 % 100, fraction % 100,
    )  # fmt: skip
    layout = np.dtype(
        [("head", f"S{len(head)}")]
        + [(f"p{at}", "<u2") if kind == "p" else (f"s{at}", "S1") for at, kind in _BODY]
        + [("tail", f"S{len(tail)}")]
    )
    rows = np.empty(size, layout)
    rows["head"] = head
    rows["tail"] = tail
    values = iter(pairs)
    for at, kind in _BODY:
        if kind == "p":
            rows[f"p{at}"] = _PAIRS[next(values)]
        else:
            rows[f"s{at}"] = kind.encode()
    width = layout.itemsize
    text = rows.view(np.uint8).reshape(size, width)
    lengths = np.full(size, width, np.int64)
    data = text.ravel()
    if whole_seconds and (cut := fraction == 0).any():
        keep = np.ones((size, width), bool)
        keep[cut, len(head) + 19 : len(head) + 26] = False
        data, lengths[cut] = text[keep], width - 7
    offsets = np.zeros(size + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    kind, bounds = (TEXT, offsets.astype(np.int32)) if len(data) < 2**31 else (_LONG, offsets)
    return pa.Array.from_buffers(kind, size, [None, pa.py_buffer(bounds), pa.py_buffer(data)])


def _arrow_instants(column: pa.Array, prefix: str, suffix: str, *, whole_seconds: bool) -> pa.Array:
    """The slow way of `instants_text`, for years NumPy's layout does not spell (Arrow's)."""
    # Dropping the zone first matters: Arrow formats a zoned timestamp through the
    # time-zone database, thirty times slower.
    text = pc.replace_substring(column.cast(_NAIVE).cast(TEXT), " ", "T")
    if whole_seconds:
        micros = np.asarray(column.cast(pa.int64()).fill_null(1).to_numpy(), dtype=np.int64)
        whole = micros % 1_000_000 == 0
        if whole.any():
            text = pc.if_else(pa.array(whole), pc.utf8_slice_codeunits(text, 0, 19), text)
    return join(scalar(prefix), text, scalar(suffix))


def json_instants(column: pa.Array, prefix: str = "", suffix: str = "") -> pa.Array:
    """Return `prefix` and each UTC timestamp as msgspec writes it: RFC 3339 ending in `Z`.

    msgspec writes six fraction digits, or none when the microseconds are zero.
    """
    return instants_text(column, f'{prefix}"', f'Z"{suffix}', whole_seconds=True)


def rfc3339_column(column: pa.Array) -> pa.Array:
    """Return timestamps as `codec.rfc3339` writes them (always six fraction digits)."""
    return instants_text(column, "", "Z")


def json_values(name: str, column: pa.Array, prefix: str = "", suffix: str = "") -> pa.Array:
    """Return `prefix`, the JSON text of each value of column `name`, `suffix` (a null
    stays null)."""
    if name in TIME_FIELDS or name == "effective_at":
        return json_instants(column, prefix, suffix)
    if name in FEW_VALUES:
        return coded(prefix, column, None, suffix)
    return json_strings(column, prefix, suffix)


def coded(prefix: str, column: pa.Array, present: np.ndarray | None, suffix: str = "") -> pa.Array:
    """Return `prefix` + JSON of each value + `suffix`, encoding each distinct value once
    in Python.

    For columns with few distinct values (decimals, venues, statuses): exact by
    construction. Rows where `present` is False are null; a null value reads `null`.
    """
    encoded = pc.dictionary_encode(column, null_encoding="encode")
    values = encoded.dictionary.to_pylist()
    texts = pa.array([f"{prefix}{_json(value)}{suffix}" for value in values] + [None], TEXT)
    indices = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int32)
    if present is not None and not present.all():
        indices = np.where(present, indices, np.int32(len(values)))  # the null at the end
    return texts.take(pa.array(indices))


__all__ = [
    "FEW_VALUES",
    "TEXT",
    "coded",
    "instants_text",
    "join",
    "json_instants",
    "json_strings",
    "json_values",
    "rfc3339_column",
    "scalar",
    "text_bytes",
    "whole",
]
