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

from eventstore.encoding.codec import CANONICAL
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


def json_strings(column: pa.Array, prefix: str = "") -> pa.Array:
    """Return `prefix` and each string as msgspec writes it in JSON (quoted, escaped).

    A null stays null.
    """
    column = column.cast(TEXT)
    quoted = join(scalar(f'{prefix}"'), column, scalar('"'))
    if not _may_need_escapes(column):
        return quoted
    escaped = pc.match_substring_regex(column, _ESCAPED)
    return _patch(quoted, escaped, column, lambda value: prefix + _json(value))


def _may_need_escapes(column: pa.Array) -> bool:
    """Return whether any string holds a quote, a backslash or a control character.

    One pass of NumPy over the bytes, instead of a regular expression per string.
    """
    data = column.buffers()[2]
    if data is None:
        return False
    chars = np.frombuffer(data, dtype=np.uint8)
    return bool(((chars < 0x20) | (chars == ord('"')) | (chars == ord("\\"))).any())


def _wall_text(column: pa.Array) -> pa.Array:
    """Return UTC timestamps as `2024-01-01T00:00:00.000000`.

    Dropping the zone first matters: Arrow formats a zoned timestamp through the time-zone
    database, thirty times slower.
    """
    return pc.replace_substring(column.cast(_NAIVE).cast(TEXT), " ", "T")


def json_instants(column: pa.Array, prefix: str = "") -> pa.Array:
    """Return `prefix` and each UTC timestamp as msgspec writes it: RFC 3339 ending in `Z`.

    msgspec writes six fraction digits, or none when the microseconds are zero.
    """
    text = _wall_text(column)
    micros = np.asarray(column.cast(pa.int64()).fill_null(1).to_numpy(), dtype=np.int64)
    whole = micros % 1_000_000 == 0
    if whole.any():
        text = pc.if_else(pa.array(whole), pc.utf8_slice_codeunits(text, 0, 19), text)
    return join(scalar(f'{prefix}"'), text, scalar('Z"'))


def rfc3339_column(column: pa.Array) -> pa.Array:
    """Return timestamps as `codec.rfc3339` writes them (always six fraction digits)."""
    return join(_wall_text(column), scalar("Z"))


def json_values(name: str, column: pa.Array, prefix: str = "") -> pa.Array:
    """Return `prefix` and the JSON text of each value of column `name` (null stays null)."""
    if name in TIME_FIELDS or name == "effective_at":
        return json_instants(column, prefix)
    if name in FEW_VALUES:
        return coded(prefix, column, None)
    return json_strings(column, prefix)


def coded(prefix: str, column: pa.Array, present: np.ndarray | None) -> pa.Array:
    """Return `prefix` + JSON of each value, encoding each distinct value once in Python.

    For columns with few distinct values (decimals, venues, statuses): exact by
    construction. Rows where `present` is False are null; a null value reads `null`.
    """
    encoded = pc.dictionary_encode(column, null_encoding="encode")
    texts = pa.array([prefix + _json(value) for value in encoded.dictionary.to_pylist()], TEXT)
    indices = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int32)
    return texts.take(pa.array(indices, mask=None if present is None else ~present))


__all__ = [
    "FEW_VALUES",
    "TEXT",
    "coded",
    "join",
    "json_instants",
    "json_strings",
    "json_values",
    "rfc3339_column",
    "scalar",
    "whole",
]
