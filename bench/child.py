"""Measurements that need a fresh interpreter; prints one JSON line, then exits.

    child.py open-project ROOT SYMBOL AS_OF    open a catalog, answer the first get
    child.py open-scd2 PARQUET SYMBOL AS_OF    baseline (a): read the file, scan once
    child.py rebuild-project ROOT              rebuild the index from the log
    child.py rebuild-duckdb ROOT               baseline (b): fold the log into SCD2 in DuckDB
    child.py save-project ROOT N               save the current index snapshot N times
    child.py audit-project ROOT                `catalog audit`: every check, log and history
    child.py audit-duckdb ROOT                 baseline (b): the structural checks in DuckDB
    child.py audit-rows ROOT N                 baseline (c): `verify_chain` row by row, N rows
    child.py writer-start ROOT saved|full      a writer's first look at the log (its tail):
                                               from the saved tail, or reading the whole log
    child.py first-pitjoin ROOT BARS           the first pit_join after open (child_reads.py)
    child.py first-resolve ROOT NAME SCHEME EXCHANGE AS_OF saved|named
                                               the first resolve after open (child_names.py)

Peak memory (`peak_kb`, KiB) is the high-water mark of this process's resident set, the
imports included: `VmHWM` from /proc/self/status. `ru_maxrss` (`maxrss_kb`) is reported too
but cannot be used on Linux: it keeps the spawning parent's peak across fork and exec, so
it says how big the benchmark's own process was. `base_kb` is the peak right after imports.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable


def _maxrss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _rss_kb() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return _maxrss_kb()


def _emit(answer: dict[str, Any]) -> None:
    print(json.dumps(answer), flush=True)


def open_project(root: str, symbol: str, as_of: str) -> None:
    from projections import Catalog

    imported = time.perf_counter()
    catalog = Catalog.open(root)
    opened = time.perf_counter()
    found = catalog.get(symbol, as_of)
    answered = time.perf_counter()
    _emit(
        {
            "import_s": imported - STARTED,
            "open_s": opened - imported,
            "get_s": answered - opened,
            "found": None if found is None else found.instrument_id,
            "peak_kb": _rss_kb(),
            "maxrss_kb": _maxrss_kb(),
        }
    )


def open_scd2(path: str, symbol: str, as_of: str) -> None:
    import pandas as pd
    from baseline_scd2 import SCD2File

    imported = time.perf_counter()
    store = SCD2File(path)
    store.load()
    opened = time.perf_counter()
    row = store.lookup(symbol, pd.Timestamp(as_of))
    answered = time.perf_counter()
    _emit(
        {
            "import_s": imported - STARTED,
            "open_s": opened - imported,
            "get_s": answered - opened,
            "found": None if row is None else row["instrument_id"],
            "peak_kb": _rss_kb(),
            "maxrss_kb": _maxrss_kb(),
        }
    )


def rebuild_project(root: str) -> None:
    import inspect

    from projections import Catalog

    base = _rss_kb()
    t0 = time.perf_counter()
    how = inspect.getattr_static(Catalog, "rebuild", None)
    if how is None:
        method = "Catalog.open(root).refresh() (there is no Catalog.rebuild)"
        Catalog.open(root).refresh()
    elif isinstance(how, classmethod | staticmethod):
        method = "Catalog.rebuild(root)"
        Catalog.rebuild(root)  # type: ignore[arg-type]
    else:
        method = "Catalog.open(root).rebuild()"
        Catalog.open(root).rebuild()
    seconds = time.perf_counter() - t0
    _emit(
        {
            "seconds": seconds,
            "method": method,
            "peak_kb": _rss_kb(),
            "maxrss_kb": _maxrss_kb(),
            "base_kb": base,
        }
    )


def save_project(root: str, repeat: str) -> None:
    from projections import Catalog

    catalog = Catalog.open(root)
    catalog.refresh()  # loads the saved snapshot (or rebuilds): the save below is the figure
    index = catalog._index  # the bench times the index's own save
    seconds = []
    for _ in range(int(repeat)):
        t0 = time.perf_counter()
        index.save()
        seconds.append(time.perf_counter() - t0)
    folder = index.directory
    size = 0 if folder is None else sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    _emit({"seconds": sorted(seconds), "bytes": size, "position": index.position})


def rebuild_duckdb(root: str) -> None:
    import baseline_duckdb

    base = _rss_kb()
    t0 = time.perf_counter()
    con = baseline_duckdb.connect(baseline_duckdb.log_files(root))
    rows = baseline_duckdb.rebuild(con)
    seconds = time.perf_counter() - t0
    _emit(
        {
            "seconds": seconds,
            "rows": rows,
            "peak_kb": _rss_kb(),
            "maxrss_kb": _maxrss_kb(),
            "base_kb": base,
        }
    )


def audit_project(root: str) -> None:
    from connectors.catalog_audit import audit_catalog

    base = _rss_kb()
    indexed = os.path.exists(os.path.join(root, "projections", "CURRENT"))
    run = audit_catalog(root)
    failed = {check.name: check.count for check in run.report.checks if not check.ok}
    _emit(
        {
            "seconds": run.seconds,
            "events": run.report.events,
            "failed": failed,
            "index_saved_before": indexed,
            "peak_kb": _rss_kb(),
            "maxrss_kb": _maxrss_kb(),
            "base_kb": base,
        }
    )


def audit_duckdb(root: str) -> None:
    import baseline_duckdb

    base = _rss_kb()
    t0 = time.perf_counter()
    con = baseline_duckdb.connect(baseline_duckdb.log_files(root))
    found = baseline_duckdb.audit(con)
    seconds = time.perf_counter() - t0
    _emit({"seconds": seconds, "found": found, "peak_kb": _rss_kb(), "base_kb": base})


def audit_rows(root: str, rows: str) -> None:
    from eventstore import EventLog, verify_chain

    log = EventLog.open(root)
    sample = log.read(until=int(rows))
    t0 = time.perf_counter()
    found = verify_chain(sample)
    seconds = time.perf_counter() - t0
    _emit({"seconds": seconds, "rows": sample.num_rows, "violations": len(found)})


def writer_start(root: str, how: str) -> None:
    from eventstore import EventLog
    from eventstore.log import saved_tail

    path = saved_tail.tail_path(os.path.abspath(root))
    had = path is not None and saved_tail.load_tail(path) is not None
    if how == "full":
        setattr(saved_tail, "tail_path", lambda _root: None)  # noqa: B010 (as before it was saved)
    imported = time.perf_counter()
    log = EventLog.open(root)
    events = len(log)
    seconds = time.perf_counter() - imported
    used = how == "saved" and had and log._saved.saved_at > 0
    _emit(
        {"seconds": seconds, "events": events, "from_saved": used, "imports_s": imported - STARTED}
    )


TASKS: dict[str, Callable[..., None]] = {
    "open-project": open_project,
    "open-scd2": open_scd2,
    "rebuild-project": rebuild_project,
    "rebuild-duckdb": rebuild_duckdb,
    "save-project": save_project,
    "audit-project": audit_project,
    "audit-duckdb": audit_duckdb,
    "audit-rows": audit_rows,
    "writer-start": writer_start,
    "first-pitjoin": lambda *args: __import__("child_reads").first_pitjoin(*args),
    "first-resolve": lambda *args: __import__("child_names").first_resolve(*args),
}

if __name__ == "__main__":  # bench/ is on sys.path: it is the script's folder
    TASKS[sys.argv[1]](*sys.argv[2:])
