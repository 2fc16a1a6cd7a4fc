"""Derive the bundled samples from the full recorded snapshots in ../shared/fixtures/dated.

Each sample keeps, byte for byte in value, the chosen symbols' rows of one real response
(the envelope and every other key untouched); nothing is edited. Run from the repository
root: python data/samples/derive.py /path/to/shared/fixtures/dated
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SPOT = [
    "BTCUSDT", "ETHUSDT", "BNBUSDT", "ETHBTC", "AAVEUSDT", "LENDUSDT", "MCOUSDT", "MITHUSDT",
    "REPUSDT", "BTCUSDC", "USDCUSDT", "TUSDUSDT", "ALCXUSDT", "ATMUSDT", "MATICUSDT",
    "NBTUSDT", "SSVUSDT", "ADAUSDT", "XRPUSDT", "SOLUSDT",
]  # fmt: skip
USDM = [
    "BTCUSDT", "ETHUSDT", "SOLUSDT", "AVAXUSDT", "BTCSTUSDT", "BTCUSDT_210924",
    "ETHUSDT_210924", "BTCUSDT_220624", "ETHUSDT_220624", "YFIIUSDT", "DYDXUSDT", "GALAUSDT",
]  # fmt: skip
OKX_SPOT = ["BTC-USDT", "ETH-USDT", "SOL-USDT", "OKB-USDT", "XRP-USDT"]
OKX_SWAP = [
    "BTC-USDT-SWAP", "ETH-USDT-SWAP", "BTC-USD-SWAP", "SOL-USD-SWAP", "AVAX-USD-SWAP",
    "SHIB-USDT-SWAP", "IOST-USD-SWAP", "KNC-USD-SWAP", "ASTR-USDT-SWAP",
]  # fmt: skip

#: (sample folder, source folder, file in it, recording, symbols, observed_at if not in the body)
SAMPLES = [
    ("2020-10-07-subset", "binance-spot", "exchangeInfo.json", "binance/binance_spot_2020-10-07.json", SPOT, None),
    ("2020-11-01-subset", "binance-spot", "exchangeInfo.json", "binance/binance_spot_2020-11-01.json", SPOT, None),
    ("2021-09-06-subset", "binance-usdm", "exchangeInfo.json", "binance/binance_usdm_2021-09-06.json", USDM, None),
    ("2022-05-04-subset", "binance-usdm", "exchangeInfo.json", "binance/binance_usdm_2022-05-04.json", USDM, None),
    ("2022-07-23-subset", "okx", "SPOT.json", "okx/okx_spot_2022-07-23.json", OKX_SPOT, "2022-07-23T08:18:00Z"),
    ("2022-07-23-subset", "okx", "SWAP.json", "okx/okx_swap_2022-07-23.json", OKX_SWAP, "2022-07-23T08:18:00Z"),
    ("2022-12-17-subset", "binance-spot", "exchangeInfo.json", "binance/binance_spot_2022-12-17.json", SPOT, None),
    ("2022-12-22-subset", "binance-spot", "exchangeInfo.json", "binance/binance_spot_2022-12-22.json", SPOT, None),
    ("2023-04-14-subset", "binance-spot", "exchangeInfo.json", "binance/binance_spot_2023-04-14.json", SPOT, None),
    ("2023-11-23-subset-enveloped", "okx", "SWAP.json", "okx/okx_swap_2023-11-23.json", OKX_SWAP, "2023-11-23T00:00:00Z"),
]  # fmt: skip


def derive(recorded: Path, out: Path) -> None:
    """Write every sample under `out` from the recordings under `recorded`."""
    for folder, source, name, path, keep, observed in SAMPLES:
        body = json.loads((recorded / path).read_text())
        if isinstance(body, list):  # the data array alone: give it OKX's envelope back
            body = {"code": "0", "data": body, "msg": ""}
        key, rows = ("symbols", "symbol") if source.startswith("binance") else ("data", "instId")
        body[key] = [row for row in body[key] if row[rows] in keep]
        target = out / folder / source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(body, separators=(",", ":")) + "\n")
        if observed:
            meta = {"observed_at": observed}
            (out / folder / "snapshot.json").write_text(json.dumps(meta) + "\n")


if __name__ == "__main__":
    derive(Path(sys.argv[1]), Path(__file__).parent)
