"""The work folder of a run: the synthetic history, its log, its SCD2 file, shared measurements.

Everything is made once per (scale, seed) under `<root>/scale-<scale>-seed-<seed>/` and reused
by later runs (`manifest.json` says what is complete); `--fresh` makes the log again.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import columnar
import numpy as np
import pandas as pd
import synth
import synth_log
from baseline_scd2 import OPEN_UNTIL, SCD2File
from measure import bounded, clock

if TYPE_CHECKING:
    import argparse

    from projections import Catalog


def say(message: str) -> None:
    print(message, flush=True)


@dataclass
class Bench:
    """What every figure works on."""

    args: argparse.Namespace
    folder: str  # the root of the project's log (`<folder>/events`) and index
    history: synth.History
    manifest: dict[str, Any]
    scd2_path: str  # baseline (a) on the same history
    ref_path: str | None = None  # baseline (a) at --ref-instruments instruments
    did_rebuild: bool = False
    _catalog: Catalog | None = None
    _scd2: SCD2File | None = None
    _updates: list[float] = field(default_factory=list)
    _out_of_budget: bool = False

    def catalog(self) -> Catalog:
        """Return the project's catalog, opened and caught up once (the time is printed)."""
        if self._catalog is None:
            from projections import Catalog

            t0 = clock()
            catalog = Catalog.open(self.folder)
            catalog.refresh()
            say(f"  (catalog opened and caught up with the log in {clock() - t0:,.2f} s)")
            self._catalog = catalog
        return self._catalog

    def scd2(self) -> SCD2File:
        """Return baseline (a) over the same history, its frame loaded in memory."""
        if self._scd2 is None:
            self._scd2 = SCD2File(self.scd2_path)
            self._scd2.load()
        return self._scd2

    def open_rows(self, count: int, seed: int) -> pd.DataFrame:
        """Return `count` random current rows of active instruments (targets for updates)."""
        df = self.scd2().frame
        assert df is not None
        current = df[(df["valid_until"] == OPEN_UNTIL) & df["active"]]
        rng = np.random.default_rng(seed)
        return current.iloc[rng.choice(len(current), min(count, len(current)), replace=False)]

    def scd2_updates(self, limit: int) -> list[float]:
        """Time up to `limit` baseline (a) updates on a copy of its file (kept between calls).

        A measurement that ran out of `--budget` is reused whatever the limit asked now.
        """
        if len(self._updates) >= limit or self._out_of_budget:
            return self._updates
        work = os.path.join(self.folder, "scd2-work.parquet")
        shutil.copyfile(self.scd2_path, work)
        store = SCD2File(work)
        targets = self.open_rows(limit, seed=self.args.seed + 1)
        now = pd.Timestamp.now(tz="UTC")
        items = [
            (iid, now + pd.Timedelta(microseconds=k))
            for k, iid in enumerate(targets["instrument_id"])
        ]
        self._updates, _ = bounded(
            lambda item: store.update(item[0], item[1], {"min_notional": 7.0}),
            items,
            self.args.budget,
            limit,
        )
        self._out_of_budget = len(self._updates) < limit
        return self._updates


def _save(path: str, manifest: dict[str, Any]) -> None:
    with open(path, "w") as out:
        json.dump(manifest, out, indent=1)


def prepare(args: argparse.Namespace, figures: set[str]) -> Bench:
    """Make (or reuse) the history, the log and the baselines' files the figures need."""
    n, e = synth.sizes(args.scale)
    folder = os.path.abspath(os.path.join(args.root, f"scale-{args.scale:g}-seed-{args.seed}"))
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "manifest.json")
    manifest: dict[str, Any] = {}
    if os.path.exists(path):
        with open(path) as src:
            manifest = json.load(src)
    say(f"work folder {folder}\ndrawing the synthetic history ...")
    t0 = clock()
    h = synth.generate(n, e, args.seed)
    say(f"history: {h.describe()} (drawn in {clock() - t0:,.1f} s)")
    if manifest.get("events") != h.n_events or args.fresh:
        manifest = {"scale": args.scale, "seed": args.seed, "instruments": n, "events": h.n_events}
    scd2_path = os.path.join(folder, "scd2.parquet")
    if "scd2" not in manifest or not os.path.exists(scd2_path):
        say("fast path: folding the history into the SCD2 file of baseline (a) ...")
        t0 = clock()
        rows = len(columnar.write_scd2(h, scd2_path))
        manifest["scd2"] = {"rows": rows}
        say(f"fast path: SCD2 file of {rows:,} rows written in {clock() - t0:,.1f} s")
        _save(path, manifest)
    if "python" in figures and "columnar" not in manifest:
        shutil.rmtree(os.path.join(folder, "columnar"), ignore_errors=True)
        say("fast path: writing the same history as a Delta table of the log's schema")
        manifest["columnar"] = columnar.write_log(h, os.path.join(folder, "columnar"), say=say)
        _save(path, manifest)
    if "log" not in manifest or not os.path.isdir(os.path.join(folder, "events")):
        for sub in ("events", "projections"):
            shutil.rmtree(os.path.join(folder, sub), ignore_errors=True)
        say(f"project log: appending {h.n_events:,} events in batches of {synth.BATCH:,}")
        stats = synth_log.append_log(h, folder, say=say)
        manifest["log"] = {**asdict(stats), "written_at": datetime.now(UTC).isoformat()}
        _save(path, manifest)
    else:
        say(f"project log: reusing the one written at {manifest['log']['written_at']}")
    bench = Bench(args, folder, h, manifest, scd2_path)
    if "get" in figures and args.ref_instruments:
        bench.ref_path = _reference(args)
    _save(path, manifest)
    return bench


def _reference(args: argparse.Namespace) -> str:
    """Return the SCD2 file of baseline (a) at `--ref-instruments` instruments (fast path)."""
    n = args.ref_instruments
    folder = os.path.join(args.root, f"ref-{n}-seed-{args.seed}")
    path = os.path.join(folder, "scd2.parquet")
    if os.path.exists(path):
        return path
    os.makedirs(folder, exist_ok=True)
    say(f"fast path: drawing {n:,} instruments for the reference SCD2 file of baseline (a) ...")
    t0 = clock()
    h = synth.generate(n, n * synth.FULL_EVENTS // synth.FULL_INSTRUMENTS, args.seed)
    rows = len(columnar.write_scd2(h, path + ".tmp"))
    os.replace(path + ".tmp", path)
    say(f"fast path: reference SCD2 file, {h.describe()}: {rows:,} rows in {clock() - t0:,.1f} s")
    return path
