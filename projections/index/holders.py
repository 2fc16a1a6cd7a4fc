"""Which instruments held each symbol: the distinct (symbol, instrument) pairs, grouped.

Symbol and instrument codes are packed into one int64 (symbol in the high 32 bits), made
unique with one sort, and cut into a CSR: for symbol code `s`, the instrument codes
`members[offsets[s]:offsets[s + 1]]`, ascending. Every holder table of the index, the join
and the audit is built here.
"""

from __future__ import annotations

import numpy as np


def holder_groups(
    symbols: np.ndarray, insts: np.ndarray, n_symbols: int, dtype: type = np.int32
) -> tuple[np.ndarray, np.ndarray]:
    """Return (offsets, members) of the distinct pairs; offsets cover at least `n_symbols`."""
    pairs = np.unique(symbols.astype(np.int64) << 32 | insts.astype(np.int64))
    held = pairs >> 32
    size = max(n_symbols, int(held[-1]) + 1 if len(pairs) else 0)
    offsets = np.searchsorted(held, np.arange(size + 1)).astype(np.int64)
    return offsets, (pairs & 0xFFFFFFFF).astype(dtype)


def shared_symbols(symbols: np.ndarray, insts: np.ndarray) -> np.ndarray:
    """Return the symbol codes held by more than one instrument."""
    offsets, _ = holder_groups(symbols, insts, 0)
    return np.flatnonzero(np.diff(offsets) > 1)
