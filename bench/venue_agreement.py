"""Venue agreement: does a catalog replayed from a real recording say what the venue's file says?

For each dated recording the decoders read (Binance spot and USD-M `exchangeInfo`, OKX SPOT
and SWAP instruments; `okx_swap_2023-11-23.json`, the `data` array alone, is put back into
OKX's envelope), the recording is replayed into a fresh temporary catalog the way `catalog
sync --replay` does (loopback server, the real clients, the sync), and every row of the file,
read here straight from its JSON (not through the decoders), is compared with the catalog as
of the observation time on tick size, lot size, min quantity, min notional and tradable
status. Prints one line per recording and the disagreements with a reason. Asserts nothing.
`--cumulative` replays each source's recordings in date order into one catalog instead, so
each is compared with the history the earlier ones built (relistings, absences, changes).

    .venv/bin/python bench/venue_agreement.py [--dated ../shared/fixtures/dated] [--list 20]
    .venv/bin/python bench/venue_agreement.py --cumulative
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.replay.driver import replay
from connectors.sync.syncer import SyncOptions
from connectors.venues import binance, okx
from connectors.venues.snapshot import from_millis
from eventstore import to_utc
from projections import Catalog
from projections.invariants import check_history

REPO = Path(__file__).resolve().parent.parent
DATED = REPO.parent / "shared" / "fixtures" / "dated"
FIELDS = ("tick_size", "lot_size", "min_qty", "min_notional", "tradable")
#: Observation times of the OKX recordings (their bodies carry none): the commit times that
#: dated/SOURCES.md gives, as `data/samples/NOTE.md` uses them.
OKX_OBSERVED = {"2022-07-23": "2022-07-23T08:18:00Z", "2023-11-23": "2023-11-23T00:00:00Z"}
_NAME = re.compile(r"(?P<venue>binance|okx)_(?P<market>spot|usdm|swap)_(?P<date>[0-9-]{10})\.json")

Row = dict[str, Any]
Values = dict[str, Decimal | bool | None]


@dataclass(frozen=True)
class Recording:
    """One dated recording and where a replay folder puts it."""

    path: Path
    source: str  # binance-spot, binance-usdm, okx
    file: str  # the file name inside the source folder
    observed_at: str | None  # None: the body's serverTime

    @property
    def label(self) -> str:
        return self.path.name


def recordings(dated: Path) -> list[Recording]:
    """Return the recordings under `dated` that the decoders read, in name order."""
    found = []
    for path in sorted(dated.glob("*/*.json")):
        name = _NAME.fullmatch(path.name)
        if name is None:
            continue
        venue, market, date = name["venue"], name["market"], name["date"]
        if venue == "binance":
            found.append(Recording(path, f"binance-{market}", "exchangeInfo.json", None))
        else:
            found.append(Recording(path, "okx", f"{market.upper()}.json", OKX_OBSERVED[date]))
    return found


def body_of(recording: Recording) -> Any:
    """Return the recorded body, an OKX `data` array put back into OKX's envelope."""
    body = json.loads(recording.path.read_bytes())
    if isinstance(body, list):
        body = {"code": "0", "data": body, "msg": ""}
    return body


def _size(text: object, *, zero_is_null: bool) -> Decimal | None:
    if text in (None, ""):
        return None
    value = Decimal(str(text))
    return None if zero_is_null and value == 0 else value


def venue_rows(recording: Recording, body: Any) -> dict[str, Values]:
    """Return the venue's own word per instrument id, read straight from the JSON."""
    if recording.source == "okx":
        return {
            f"okx:{row['instType'].lower()}:{row['instId']}": {
                "tick_size": _size(row["tickSz"], zero_is_null=False),
                "lot_size": _size(row["lotSz"], zero_is_null=False),
                "min_qty": _size(row["minSz"], zero_is_null=False),
                "min_notional": None,  # OKX gives none
                "tradable": row["state"] == "live",
            }
            for row in body["data"]
        }
    market = recording.source.removeprefix("binance-")
    found = {}
    for row in body["symbols"]:
        filters = {item["filterType"]: item for item in row["filters"]}
        price, lot = filters.get("PRICE_FILTER", {}), filters.get("LOT_SIZE", {})
        notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
        key = "notional" if market == "usdm" else "minNotional"
        delivering = str(row.get("contractType", "")).endswith(" DELIVERING")
        found[f"binance:{market}:{row['symbol']}"] = {
            "tick_size": _size(price.get("tickSize"), zero_is_null=True),
            "lot_size": _size(lot.get("stepSize"), zero_is_null=True),
            "min_qty": _size(lot.get("minQty"), zero_is_null=True),
            "min_notional": _size(notional.get(key), zero_is_null=True),
            "tradable": row["status"] == "TRADING" and not delivering,
        }
    return found


def catalog_rows(root: Path, observed_at: str) -> tuple[dict[str, Row], str]:
    """Return the catalog's instruments at `observed_at` (inactive ones too), by id, and
    what its one-holder check says (one active holder per symbol at any instant)."""
    catalog = Catalog.open(str(root))
    table = catalog.universe(as_of=observed_at, include_inactive=True)
    (holders,) = [c for c in check_history(catalog) if c.name == "one-holder"]
    verdict = "ok" if not holders.violations else f"{holders.count} violations"
    return {row["instrument_id"]: row for row in table.to_pylist()}, verdict


def shown(value: Decimal | bool | None) -> str:
    """Return a value as the venue would write it (`0.01`, not `0.010000000000000000`)."""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def decoded_reasons(recording: Recording, raw: bytes) -> dict[str, str]:
    """Return why the decoders did not list an id: a rejection, or gone when first seen."""
    if recording.source == "okx":
        inst_type = recording.file.removesuffix(".json")
        wire = msgspec.json.decode(raw, type=okx.Response)
        snapshot = okx.parse(inst_type, wire, recording.label)
    else:
        parse = binance.parse_spot if recording.source == "binance-spot" else binance.parse_usdm
        snapshot = parse(binance.decode(raw))
    reasons = {r.instrument_id: f"rejected: {r.reason}" for r in snapshot.rejected}
    for record in snapshot.records:
        if record.terminal:
            reasons[record.instrument_id] = f"first seen {record.status}: not listed"
    return reasons


@dataclass
class Agreement:
    """One recording's comparison."""

    rows: int = 0
    agree: int = 0
    unlisted: int = 0  # not in the catalog, and not tradable at the venue: agrees
    frozen: int = 0  # differs only where both sides say delisted: sizes kept from before
    disagreements: list[str] | None = None


def compare(venue: dict[str, Values], catalog: dict[str, Row], why: dict[str, str]) -> Agreement:
    """Compare every venue row with the catalog; say what differs and why."""
    result = Agreement(rows=len(venue), disagreements=[])
    assert result.disagreements is not None
    for instrument_id, said in sorted(venue.items()):
        held = catalog.get(instrument_id)
        if held is None:
            if not said["tradable"]:
                result.agree += 1
                result.unlisted += 1
                continue
            reason = why.get(instrument_id, "missing from the catalog")
            result.disagreements.append(f"{instrument_id}: tradable at the venue; {reason}")
            continue
        ours: Values = {name: held[name] for name in FIELDS[:-1]}
        ours["tradable"] = bool(held["active"]) and held["status"] == "trading"
        differ = [
            f"{name}: catalog {shown(ours[name])}, venue {shown(said[name])}"
            for name in FIELDS
            if ours[name] != said[name]
        ]
        if differ:
            why_ = ""
            if not held["active"] and not said["tradable"]:
                result.frozen += 1
                why_ = " (delisted on both sides: the sync records no size change on a delisting)"
            line = f"{held['symbol']} ({instrument_id}): " + "; ".join(differ) + why_
            result.disagreements.append(line)
        else:
            result.agree += 1
    return result


async def replay_one(recording: Recording, raw: bytes, work: Path, root: Path) -> str:
    """Replay `recording` (body `raw`) into the catalog under `root`; return its instant."""
    replays = work / f"replay-{recording.path.stem}"
    folder = replays / recording.path.stem / recording.source
    folder.mkdir(parents=True)
    (folder / recording.file).write_bytes(raw)
    if recording.observed_at is not None:
        meta = {"observed_at": recording.observed_at}
        (folder.parent / "snapshot.json").write_text(json.dumps(meta))
    done = await replay(str(root), replays, SyncOptions(max_delist_share=1.0))
    for _, reports in done:
        for report in reports:
            if not report.ok:
                raise SystemExit(f"{recording.label}: the replay failed: {report.error}")
    return recording.observed_at or _server_time(raw)


def _server_time(raw: bytes) -> str:
    millis = json.loads(raw)["serverTime"]
    instant = from_millis(millis, "serverTime")
    return to_utc(instant, "serverTime").isoformat().replace("+00:00", "Z")


def main() -> None:
    """Replay and compare every readable dated recording; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dated", type=Path, default=DATED, help="the dated recordings folder")
    parser.add_argument("--list", type=int, default=20, help="disagreements listed per file")
    parser.add_argument(
        "--cumulative",
        action="store_true",
        help="replay each source's recordings in date order into one catalog (its history)",
    )
    args = parser.parse_args()
    found = recordings(args.dated)
    if not found:
        raise SystemExit(f"no readable recording under {args.dated}")
    with tempfile.TemporaryDirectory(prefix="venue-agreement-") as work:
        for recording in found:
            _one(recording, Path(work), cumulative=args.cumulative, listed=args.list)


def _one(recording: Recording, work: Path, *, cumulative: bool, listed: int) -> None:
    """Replay one recording (into its source's running catalog if `cumulative`); print."""
    body = body_of(recording)
    raw = recording.path.read_bytes()
    if isinstance(json.loads(raw), list):
        raw = json.dumps(body).encode()  # served in OKX's envelope
    name = recording.source if cumulative else recording.path.stem
    root = work / f"catalog-{name}"
    observed = asyncio.run(replay_one(recording, raw, work, root))
    catalog, holders = catalog_rows(root, observed)
    result = compare(venue_rows(recording, body), catalog, decoded_reasons(recording, raw))
    disagreements = result.disagreements or []
    print(
        f"{recording.label} ({recording.source}, observed {observed}): {result.rows} rows, "
        f"{result.agree} agree ({result.unlisted} not listed and not tradable at the "
        f"venue), {len(disagreements)} disagree ({result.frozen} delisted on both sides); "
        f"one-holder {holders}"
    )
    for line in disagreements[:listed]:
        print(f"  {line}")
    if len(disagreements) > listed:
        print(f"  ... and {len(disagreements) - listed} more")


if __name__ == "__main__":
    main()
