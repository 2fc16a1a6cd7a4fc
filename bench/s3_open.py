"""Opening a catalog on an `s3://` root: the published snapshot against a rebuild, same run.

    .venv/bin/python bench/s3_open.py                 # 1,000,000 events (--scale 0.1)
    .venv/bin/python bench/s3_open.py --scale 0.01    # 100,000 events

S3 is moto's server on loopback (`AWS_CONDITIONAL_PUT=etag`), started here. The log is the
seeded synthetic history of `run.py` at `--scale`, written once to a local folder under
`--root` and uploaded into the bucket file by file (the Delta log's paths are relative).
Each leg runs in a fresh process and is timed from `Catalog.open` to the answer of a first
`get`:

- rebuild: what every reader of an object-store root paid before the snapshot was
  published (no snapshot: the index is folded from the whole log; nothing saved);
- publish: the same, then the snapshot saved and published (untimed for the ratio);
- open, cold cache: the published snapshot downloaded into an empty cache folder, checked
  against its checksums, caught up from the log;
- open, warm cache: the same cache folder again (nothing downloaded).

Printed: each time, and each open as a share of the rebuild (target: at most a tenth).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
BUCKET = "catalog"
LEGS = ("rebuild", "publish", "cold", "warm")


def leg(name: str, root: str, cache: str, symbol: str) -> dict[str, Any]:
    """Open the catalog at `root` in this process the way leg `name` says; time it."""
    from projections import Catalog

    t0 = time.perf_counter()
    catalog = Catalog.open(root, persist=name != "rebuild", cache=cache)
    found = catalog.get(symbol, "2030-01-01T00:00:00Z")
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "events": catalog._index.position, "found": found is not None}


def _local_log(args: argparse.Namespace) -> tuple[str, str]:
    """Return (local root, a symbol in it), writing the log once."""
    sys.path.insert(0, HERE)
    import synth_log

    root, h = synth_log.cached_log(args.root, args.scale, args.seed, "s3-open")
    return root, str(h.symbols[0])


def _upload(client: Any, local: str, prefix: str) -> int:
    paths = []
    for folder, _, files in os.walk(os.path.join(local, "events")):
        paths += [os.path.join(folder, name) for name in files]

    def put(path: str) -> None:
        key = f"{prefix}/{os.path.relpath(path, local)}"
        client.upload_file(path, BUCKET, key)

    with ThreadPoolExecutor(max_workers=8) as uploads:
        list(uploads.map(put, paths))
    return sum(os.path.getsize(p) for p in paths)


def _child(name: str, root: str, cache: str, symbol: str, env: dict[str, str]) -> dict[str, Any]:
    command = [sys.executable, __file__, "--leg", name, "--at", root, "--cache", cache]
    done = subprocess.run(
        [*command, "--symbol", symbol], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode:
        raise SystemExit(f"leg {name} failed:\n{done.stderr}")
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def main(argv: list[str] | None = None) -> None:
    """Parse the options; run one leg (`--leg`) or the whole benchmark."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scale", type=float, default=0.1, help="log size, as run.py (0.1: 1M)")
    p.add_argument("--seed", type=int, default=7, help="seed of the history (7)")
    p.add_argument("--root", default=os.path.join(HERE, "out"), help="work folder (bench/out)")
    p.add_argument("--repeat", type=int, default=2, help="runs of each leg; the best (2)")
    for hidden in ("--leg", "--at", "--cache", "--symbol"):
        p.add_argument(hidden, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.leg:
        print(json.dumps(leg(args.leg, args.at, args.cache, args.symbol)))
        return

    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise

    local, symbol = _local_log(args)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    work = tempfile.mkdtemp(prefix="s3-open-")
    try:
        host, port = server.get_host_and_port()
        options = {
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
            "AWS_CONDITIONAL_PUT": "etag",
        }
        client = boto3.client(
            "s3",
            endpoint_url=options["AWS_ENDPOINT_URL"],
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=BUCKET)
        t0 = time.perf_counter()
        size = _upload(client, local, "bench")
        print(f"log uploaded: {size / 1e6:,.1f} MB in {time.perf_counter() - t0:.1f} s")
        root = f"s3://{BUCKET}/bench"
        env = {**os.environ, **options}
        times: dict[str, float] = {}
        for name in LEGS:
            best = None
            for run in range(args.repeat if name != "publish" else 1):
                cache = os.path.join(work, "warm" if name in ("publish", "warm") else f"c{run}")
                if name == "cold":
                    shutil.rmtree(cache, ignore_errors=True)
                got = _child(name, root, cache, symbol, env)
                best = got if best is None or got["seconds"] < best["seconds"] else best
            assert best is not None
            times[name] = best["seconds"]
            print(f"{name:>8}: {best['seconds']:7.2f} s  ({best['events']:,} events)", flush=True)
        snapshot = sum(
            item["Size"]
            for item in client.list_objects_v2(Bucket=BUCKET, Prefix="bench/projections/").get(
                "Contents", []
            )
        )
        print(f"published snapshot: {snapshot / 1e6:,.1f} MB")
        for name in ("cold", "warm"):
            share = times[name] / times["rebuild"]
            print(f"open ({name} cache) / rebuild: {share:.3f} (target <= 0.1)")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
