"""Fresh-process measurements of the read path, run by `bench/child.py` (see its tasks).

child.py first-pitjoin ROOT BARS    open a catalog, time its first pit_join, then a second
"""

from __future__ import annotations

import json
import time


def first_pitjoin(root: str, bars: str) -> None:
    """Print the open time, the first and the second pit_join of `bars` rows, as JSON."""
    import numpy as np
    import pyarrow as pa

    from projections import Catalog

    t0 = time.perf_counter()
    catalog = Catalog.open(root)
    catalog.refresh()
    opened = time.perf_counter()
    symbols = catalog.version_store().dictionaries["symbol"].values.slice(1)
    size = int(bars)
    rng = np.random.default_rng(11)
    at = np.sort(rng.integers(1_577_836_800_000_000, 1_735_689_600_000_000, size))
    table = pa.table(
        {
            "symbol": symbols.take(pa.array(rng.integers(0, len(symbols), size))),
            "ts": pa.array(at, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        }
    )
    t1 = time.perf_counter()
    first = catalog.pit_join(table, fields=["tick_size"])
    t2 = time.perf_counter()
    catalog.pit_join(table, fields=["tick_size"])
    t3 = time.perf_counter()
    answer = {
        "open_s": opened - t0,
        "first_s": t2 - t1,
        "second_s": t3 - t2,
        "rows": first.num_rows,
    }
    print(json.dumps(answer), flush=True)
