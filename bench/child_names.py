"""Fresh-process measurements of names across schemes, run by `bench/child.py`.

child.py first-resolve ROOT NAME SCHEME EXCHANGE AS_OF saved|named
    open a catalog, answer the first `resolve` of a name and the first join on one name;
    `named` discards the names loaded with the snapshot first (what every fresh process
    paid before they were saved: naming every version again)
"""

from __future__ import annotations

import json
import time


def first_resolve(root: str, name: str, scheme: str, exchange: str, as_of: str, how: str) -> None:
    """Print the open time, the first resolve and the first join on one name, as JSON."""
    import pyarrow as pa

    from projections import Catalog

    t0 = time.perf_counter()
    catalog = Catalog.open(root)
    catalog.refresh()
    if how == "named":
        catalog.version_store().names = None
    opened = time.perf_counter()
    found = catalog.resolve(name, as_of, scheme, exchange)
    resolved = time.perf_counter()
    ts = pa.array([as_of], pa.string()).cast(pa.timestamp("us", tz="UTC"))
    joined = catalog.pit_join(
        pa.table({"symbol": [name], "ts": ts}), fields=["tick_size"], scheme=scheme,
        exchange=exchange,
    )  # fmt: skip
    answer = {
        "open_s": opened - t0,
        "resolve_s": resolved - opened,
        "join_s": time.perf_counter() - resolved,
        "found": found,
        "joined": joined["instrument_id"][0].as_py(),
    }
    print(json.dumps(answer), flush=True)
